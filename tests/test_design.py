"""Design questions: compare, budget, break-even, large-N limits and the multipliers.

Every closed form is checked against the article's formulas written out as plain
arithmetic on exact numbers (tests/test_modules.py's ``article_macs``, independent of the
library's layers and rules), at sizes hypothesis draws.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import math
import os
import re
import subprocess
import sys
from fractions import Fraction as Fr

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import parse_expr

import convalgebra as ca
from convalgebra.cli import main
from convalgebra.design import N_PRIME, condition_text
from convalgebra.solving import cheaper_when as _cheaper
from convalgebra.explanation import scale
from convalgebra.symbols import G, K, M, N, alpha, k, p, t

from test_modules import article_macs, sizes

NAMES = ca.module_names()
LOCALS = {name: ca.SYMBOLS[name] for name in "K M N I G t p k".split()} | {"N'": N_PRIME}


def defaults(name: str) -> dict[str, object]:
    return {str(s): d for s, d in ca.module(name).parameters.items()}


def article_ratio(name: str, values: dict) -> Fr:
    """The module's MACs over the plain convolution's, from the article's formula."""
    return article_macs(name, **values) / (values["K"] ** 2 * values["M"] * values["N"] * values["I"] ** 2)


@functools.lru_cache(maxsize=None)
def comparison(a: str, b: str) -> ca.Comparison:
    return ca.compare(a, b)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def read(text: "str | int") -> sympy.Expr:
    if isinstance(text, int):  # JSON writes an exact whole number as an integer
        return sympy.Integer(text)
    return parse_expr(text.replace("N'", "Nprime"), local_dict={**LOCALS, "Nprime": N_PRIME})


# -- budget --------------------------------------------------------------------------

def test_budget_closed_forms_from_the_issue():
    assert ca.budget("group").N == G * N
    assert sympy.expand(ca.budget("depthwise-separable").N - K**2 * (N - 1)) == 0


@pytest.mark.parametrize("name", NAMES)
def test_budget_root_makes_the_two_costs_equal_symbolically(name):
    b = ca.budget(name)
    assert sympy.simplify(b.rewritten.subs(N_PRIME, b.N) - b.baseline) == 0


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_budget_is_the_largest_whole_count_within_the_plain_cost(name, data):
    """N' makes the costs equal exactly; floor(N') kernels fit and one more does not
    (by the article's formula, independent of the closed form)."""
    values = data.draw(sizes(name))
    b = ca.budget(name, values)
    subs = {ca.SYMBOLS[s]: sympy.Rational(str(v)) for s, v in values.items()}
    assert sympy.simplify(b.rewritten.subs(subs).subs(N_PRIME, b.value) - b.baseline.subs(subs)) == 0
    plain = Fr(values["K"] ** 2 * values["M"] * values["N"] * values["I"] ** 2)
    if not b.fits:
        assert article_macs(name, **{**values, "N": Fr(1, 10**9)}) >= plain
        return
    assert article_macs(name, **{**values, "N": b.floor}) <= plain < article_macs(name, **{**values, "N": b.floor + 1})
    assert b.whole == (article_macs(name, **{**values, "N": b.floor}) == plain)
    if b.usable is not None:
        assert b.usable <= b.floor
        ca.evaluate(ca.module(name), {**values, "N": b.usable})  # whole channels in every layer


def test_budget_at_values_says_how_many_fit_and_which_are_usable():
    b = ca.budget("bottleneck", K=3, M=256, N=256)
    assert b.value.is_real and not b.whole
    assert b.floor == math.floor(float(b.value)) and b.usable % 4 == 0 and b.usable > b.floor - 4
    text = b.to_text()
    assert "not whole" in text and f"{b.floor} kernels fit" in text and "t = 4 by default" in text


def test_budget_says_when_nothing_fits():
    b = ca.budget("inverted-bottleneck", K=3, M=16, N=16)
    assert not b.fits and b.floor is None
    assert "no kernels fit" in b.to_text()


# -- break-even ------------------------------------------------------------------------

def test_break_even_from_the_issue():
    assert ca.break_even("inverted-bottleneck").points == {t: K**2 * N / (K**2 + M + N)}
    assert ca.break_even("group").points == {G: 1}
    for name in ("factorized", "depthwise-separable", "xception"):
        assert ca.break_even(name).points == {}


@pytest.mark.parametrize("name", NAMES)
def test_break_even_makes_the_ratio_one_symbolically(name):
    e = ca.explain(name)
    assert set(e.break_even) == {s for s in ca.module(name).parameters if e.ratio.macs.has(s)}
    for s, point in e.break_even.items():
        assert sympy.simplify(e.ratio.macs.subs(s, point) - 1) == 0


@pytest.mark.parametrize("name", [n for n in NAMES if ca.module(n).parameters])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_break_even_makes_the_articles_ratio_one(name, data):
    values = data.draw(sizes(name))
    be = ca.break_even(name, values)
    for s, value in be.values.items():
        at = {**values, str(s): value if not value.is_Rational else Fr(int(value.p), int(value.q))}
        got = article_ratio(name, at)
        if isinstance(got, Fr):
            assert got == 1
        else:  # an irrational break-even (a quadratic's root): exact algebra
            assert sympy.simplify(got - 1) == 0


def stack_macs(K_: int, k_: int, M_: int, N_: int) -> int:
    """The stack by hand: one k x k layer M -> N, then (K - k)/(k - 1) layers N -> N (I = 1)."""
    return k_ * k_ * M_ * N_ + (K_ - k_) // (k_ - 1) * k_ * k_ * N_ * N_


def test_break_even_in_the_stack_is_never_below_two_nor_complex():
    """The quadratic's roots are below 2 at M = N and complex when 4KN > (K + 1)**2*M: the closed
    form reported is the one root valid for every size, k = K (a stack of one K x K kernel)."""
    be = ca.break_even("vgg-stack")
    assert be.points == {k: K} and "a stack of one K x K kernel" in be.to_text()
    assert ca.explain("vgg-stack").break_even == {k: K}


@settings(max_examples=40, deadline=None)
@given(K_=st.sampled_from([3, 5, 7, 9, 11]), M_=st.integers(1, 300), N_=st.integers(1, 300))
def test_break_even_of_the_stack_at_values_is_the_smallest_in_range(K_, M_, N_):
    """At values, the k reported lies in 2 <= k <= K and makes the costs equal; no whole k below it does."""
    be = ca.break_even("vgg-stack", K=K_, M=M_, N=N_)
    value = be.values[k]
    assert 2 <= value <= K_
    plain = K_ * K_ * M_ * N_
    assert sympy.simplify(value**2 * M_ * N_ + (K_ - value) / (value - 1) * value**2 * N_**2 - plain) == 0
    for whole in range(2, K_):
        if whole < value and (K_ - whole) % (whole - 1) == 0:
            assert stack_macs(K_, whole, M_, N_) != plain
    if value == K_:
        saves = stack_macs(K_, 2, M_, N_) < plain
        assert ("every stack of smaller kernels saves" in be.to_text()) == saves


def test_break_even_of_the_stack_inside_the_range_is_found():
    """K = 7, M = 36, N = 80: three 3 x 3 layers cost 9*36*80 + 2*9*80*80 = 49*36*80, the plain cost."""
    assert stack_macs(7, 3, 36, 80) == 7 * 7 * 36 * 80
    be = ca.break_even("vgg-stack", K=7, M=36, N=80)
    assert be.values[k] == 3 and "k = 7, a stack of one kernel" in be.to_text()


def test_break_even_below_one_group_is_flagged():
    be = ca.break_even("shufflenet", K=3, M=24, N=24)
    assert be.values[G] == sympy.Rational(48, 9 * (24 * 4 - 1))
    assert "(outside G >= 1: no G breaks even)" in be.to_text()
    assert be.to_dict()["values"]["in_range"] == {"G": False, "t": True}


def test_break_even_outside_the_parameters_range_is_said():
    be = ca.break_even("fire", K=3, M=96, N=128)
    assert be.values[p] > 1
    assert "outside 0 <= p <= 1" in be.to_text()


# -- limits ----------------------------------------------------------------------------

def test_limits_from_the_issue():
    assert ca.limit_large_N("depthwise-separable").macs == 1 / K**2
    assert ca.limit_large_N("inverted-bottleneck").macs == 2 * t / K**2


@pytest.mark.parametrize("name", NAMES)
def test_limit_is_where_the_articles_ratio_goes_for_wide_layers(name):
    """At M = N = 10**9 the article's ratio is within 1e-6 of the limit (and at 10**12 closer)."""
    lim = ca.limit_large_N(name, K=5 if name == "vgg-stack" else 3)
    assert lim.macs == lim.params
    values = {"K": 5 if name == "vgg-stack" else 3, "I": 1, **defaults(name)}
    gaps = []
    for width in (10**9, 10**12):
        ratio = article_ratio(name, {**values, "M": width, "N": width})
        gaps.append(abs(ratio - Fr(int(lim.value.macs.p), int(lim.value.macs.q))))
    assert gaps[0] < Fr(1, 10**6) and gaps[1] <= gaps[0]


# -- compare ---------------------------------------------------------------------------

PAIRS = st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES))


@settings(max_examples=30, deadline=None)
@given(pair=PAIRS)
def test_compare_ab_times_ba_is_one(pair):
    a, b = pair
    ab, ba = comparison(a, b), comparison(b, a)
    for unit in ("macs", "params"):
        assert ca.canonical(getattr(ab.ratio, unit) * getattr(ba.ratio, unit)) == 1
ODD_K = st.sampled_from([3, 5, 7, 9, 11])  # vgg-stack with k = 3 needs an odd K >= 3


@settings(max_examples=60, deadline=None)
@given(pair=PAIRS, K_=ODD_K, M_=st.integers(1, 2048), N_=st.integers(1, 2048))
def test_a_cheaper_when_agrees_with_the_articles_costs(pair, K_, M_, N_):
    a, b = pair
    c = comparison(a, b)
    point = {"K": K_, "M": M_, "N": N_, "I": 1}
    cost_a = article_macs(a, **point, **defaults(a))
    cost_b = article_macs(b, **point, **defaults(b))
    condition = c.condition.subs({K: K_, M: M_, N: N_})
    assert bool(condition) == (cost_a < cost_b), (c.a_cheaper_when, point)
    equal = c.condition_equal_channels.subs({K: K_, N: N_})
    assert bool(equal) == (article_macs(a, **{**point, "M": N_}, **defaults(a))
                           < article_macs(b, **{**point, "M": N_}, **defaults(b)))


@settings(max_examples=25, deadline=None)
@given(pair=PAIRS, K_=ODD_K, m=st.integers(1, 6), n=st.integers(1, 4), I_=st.integers(1, 30))
def test_compare_at_values_is_exact_and_reciprocal(pair, K_, m, n, I_):
    a, b = pair
    values = {"K": K_, "M": 6 * m, "N": 192 * n, "I": I_}  # whole channels in every module at its defaults
    ab, ba = ca.compare(a, b, values), ca.compare(b, a, values)
    assert ab.at_ratio.macs == article_ratio(a, {**values, **defaults(a)}) / article_ratio(b, {**values, **defaults(b)})
    assert ab.at_ratio.macs * ba.at_ratio.macs == 1 and ab.at_ratio.params * ba.at_ratio.params == 1
    assert (ab.at_condition is sympy.true) == (ab.numbers[0].rewritten.macs < ab.numbers[1].rewritten.macs)


def test_compare_substitutes_each_modules_own_defaults_unless_set():
    c = ca.compare("bottleneck", "inverted-bottleneck")
    assert c.notes_a == {t: (4, "default")} and c.notes_b == {t: (6, "default")}
    assert not c.ratio.macs.has(t)
    assert "t = 4 by default" in c.to_text() and "t = 6 by default" in c.to_text()
    both = ca.compare("bottleneck", "inverted-bottleneck", t=2)
    assert both.notes_a == both.notes_b == {t: (2, "set")}
    assert ca.canonical(both.cost_a.macs - ca.explain("bottleneck").rewritten.macs.subs(t, 2)) == 0


def test_compare_with_some_sizes_takes_the_rest_from_as_example():
    c = ca.compare("group", "depthwise-separable", K=3)
    ex = {str(s): v for s, v in ca.module("group").example.items()}
    values = {**ex, "K": 3}
    assert c.from_example == (M, N, ca.I) and {str(s): v for s, v in c.given.items()} == values
    assert c.at_ratio.macs == (article_ratio("group", {**values, **defaults("group")})
                               / article_ratio("depthwise-separable", values))
    assert "(M, N, I from group's example; set your own)" in c.to_text()


def test_compare_of_modules_without_an_example_solves_for_the_sizes_not_set():
    bare_group, bare_separable = ca.Module("bare-group", ca.group(G), {G: 2}), ca.Module("bare-separable", ca.separate())
    c = ca.compare(bare_group, bare_separable, K=3)
    assert c.at_condition == sympy.Lt(N, sympy.Rational(18, 7))
    assert c.numbers is None and c.from_example == () and "when N < 18/7" in c.to_text()


def test_conditions_read_as_a_reader_writes_them():
    assert condition_text(_cheaper(K**2 * M + M * N, K**2 * N + M * N)) == "N > M"
    assert condition_text(sympy.true) == "always" and condition_text(sympy.false) == "never"
    assert condition_text(ca.compare("group", "group").condition) == "never"


# -- renderings and the JSON contract ------------------------------------------------------

ANSWERS = [lambda: ca.compare("bottleneck", "inverted-bottleneck", K=3, M=64, N=64, I=14),
           lambda: ca.budget("fire", K=3, M=96, N=128), lambda: ca.break_even("resnext", K=3, M=256, N=256),
           lambda: ca.limit_large_N("shufflenet", K=3)]


@pytest.mark.parametrize("make", ANSWERS)
def test_every_answer_renders_in_every_format(make):
    answer = make()
    assert str(answer) == answer.to_text() and answer.to_text().strip()
    assert answer.to_markdown().startswith("### ") and "\\begin{aligned}" in answer.to_markdown()
    assert answer._repr_html_().startswith('<div class="convalgebra">')
    assert answer._repr_latex_() == answer.to_latex() and answer.to_latex().startswith("\\subsection*{")
    assert answer.to_latex().count("\\begin{align*}") >= 1
    json.dumps(answer.to_dict())


@pytest.mark.parametrize("name", NAMES)
def test_explain_json_carries_break_even_and_limit(name):
    code, out, _ = run("explain", name, "--format", "json")
    data = json.loads(out)
    e = ca.explain(name)
    assert {s: read(v) for s, v in data["break_even"].items()} == {str(s): v for s, v in e.break_even.items()}
    assert read(data["limit_large_N"]) == ca.limit_large_N(name).macs
    text = run("explain", name)[1]
    assert "N -> oo = " + ca.text(e.limit_large_N) in text
    for s, v in e.break_even.items():
        assert f"{s} = {ca.text(v)}" in text
        assert ca.latex(v) in run("explain", name, "--format", "latex")[1]
        assert ca.latex(v) in run("explain", name, "--format", "markdown")[1]


def test_compare_json_contract():
    code, out, _ = run("compare", "depthwise-separable", "xception", "--set", "K=3", "M=512", "N=256", "I=14",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    c = ca.compare("depthwise-separable", "xception")
    assert (data["a"], data["b"]) == ("depthwise-separable", "xception")
    assert read(data["ratio"]["macs"]) - c.ratio.macs == 0 and read(data["ratio"]["params"]) - c.ratio.params == 0
    assert data["a_cheaper_when"] == "N > M"
    values = data["values"]
    assert values["given"] == {"K": 3, "M": 512, "N": 256, "I": 14}
    assert values["a"]["macs"] == (9 * 512 + 512 * 256) * 14 * 14
    assert Fr(values["ratio"]["macs"]) == Fr(9 * 512 + 512 * 256, 9 * 256 + 512 * 256)


def test_budget_says_when_no_count_gives_whole_channels():
    """ResNeXt at G = 32, t = 2 needs N' a multiple of 64: none of the 3 kernels that fit works."""
    b = ca.budget("resnext", K=3, M=1, N=1, I=1)
    assert b.floor == 3 and b.usable is None
    for n in range(1, 4):
        with pytest.raises(ca.InvalidValueError):
            ca.evaluate(ca.module("resnext"), {"K": 3, "M": 1, "N": n, "I": 1})
    note = "no N' <= 3 gives every layer whole channels"
    argv = ("budget", "resnext", "--set", "K=3", "M=1", "N=1", "I=1")
    assert note in run(*argv)[1] and note in run(*argv, "--format", "markdown")[1]
    assert json.loads(run(*argv, "--format", "json")[1])["values"]["usable_note"] == note


def test_budget_groups_digits_and_says_each_value_once():
    code, out, _ = run("budget", "shufflenet", "--set", "K=3", "M=512", "N=512", "G=4")
    assert "5,876 kernels fit" in out and "whole channels: 5,872" in out
    assert "At K = 3, M = 512, N = 512, G = 4; t = 4 by default:" in out
    markdown = run("budget", "shufflenet", "--set", "K=3", "M=512", "N=512", "G=4", "--format", "markdown")[1]
    assert markdown.count("G = 4") == 1 and "t = 4 by default" in markdown


def test_compare_verdict_at_values_in_every_format():
    argv = ("compare", "resnext", "bottleneck", "--set", "K=3", "M=64", "N=64", "I=8")
    c = ca.compare(*argv[1:3], K=3, M=64, N=64, I=8)
    a, b = (n.rewritten.macs for n in c.numbers)
    assert a > b  # 280,576 against 278,528 MACs
    assert "A costs fewer MACs than B: no (B costs fewer)" in run(*argv)[1]
    markdown = run(*argv, "--format", "markdown")[1]
    assert "A costs fewer MACs than B: no (B costs fewer)." in markdown and f"{float(Fr(a, b)):.4f}" in markdown
    values = json.loads(run(*argv, "--format", "json")[1])["values"]
    assert values["a_cheaper"] is False and "a_cheaper_when" not in values
    flipped = json.loads(run("compare", "bottleneck", "resnext", *argv[3:], "--format", "json")[1])["values"]
    assert flipped["a_cheaper"] is True
    some = json.loads(run("compare", "group", "depthwise-separable", "--set", "K=3", "--format", "json")[1])
    assert some["values"]["from_example"] == ["M", "N", "I"] and some["values"]["a_cheaper"] is False


def test_compare_says_parameters_once_and_cleanly():
    out = run("compare", "resnext", "bottleneck", "--set", "t=2", "--format", "markdown")[1]
    assert "; t = 2 as set; G = 32 by default" in out and "the default" not in out
    assert "A costs fewer MACs than B: always" in out


def test_budget_json_contract():
    code, out, _ = run("budget", "xception", "--set", "K=3", "M=728", "N=728", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["module"] == "xception" and read(data["N"]) == K**2 * M * N / (K**2 + M)
    values = data["values"]
    assert Fr(values["N"]) == Fr(9 * 728 * 728, 9 + 728)
    assert values["whole"] is False and values["floor"] == 9 * 728 * 728 // (9 + 728)


@pytest.mark.parametrize("argv,message", [
    (["compare", "botleneck", "group"], "did you mean bottleneck"),
    (["compare", "group", "mobilenet-v4"], "unknown module 'mobilenet-v4'"),  # v3 is mbconv's alias now
    (["compare", "group"], "required: B"),
    (["compare", "group", "fire", "--set", "G=0"], "G = 0"),
    (["compare", "group", "fire", "--set", "M=x"], "is not a number"),
    (["budget", "inverted"], ""),
    (["budget", "bottlenek"], "did you mean bottleneck"),
    (["budget", "group", "--set", "K=3", "t=2"], "group does not use t"),
    (["explain", "bottleneck", "--set", "k=3"], "bottleneck does not use k"),
    (["compare", "group", "depthwise-separable", "--set", "k=3"], "neither group nor depthwise-separable uses k"),
    (["compare", "group", "bottleneck", "--set-a", "t=2"], "values_a sets t"),
    (["explain", "group", "--set", "M=3"], "M/G = 3/2 channels"),
    (["budget", "group", "--set", "Q=1"], "unknown symbol 'Q'"),
    (["budget"], "required: name"),
    (["budget", "vgg-stack", "--set", "K=4", "M=8", "N=8"], "(K - k)/(k - 1) = 1/2 layers"),
    (["compare", "group", "bottleneck", "--set", "G=3", "M=4"], "M/G = 4/3 channels"),
    (["compare", "group", "bottleneck", "--set", "K=3", "M=8", "N=10", "I=4"], "N/t = 5/2 channels"),
    (["explain", "depthwise-separable", "--set", "K=3", "M=512", "N=512", "I=14", "rho=0.714"], "rho = 5/7 (I = 10)"),
])
def test_bad_input_gets_one_line_and_exit_code_2(argv, message):
    code, out, err = run(*argv)
    if not message:  # an alias works: no error
        assert code == 0 and err == ""
        return
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("convalgebra: error: ") and message in err


WORDS = st.sampled_from(["compare", "budget", "--set", "--format", "json", "latex", "markdown", "group", "fire",
                         "bottleneck", "vgg-stack", "xception", "K=3", "K=4", "M=4", "N=8", "I=2", "G=2", "t=2",
                         "p=1/2", "k=3", "G=0", "alpha=0.5", "rho=1/2", "alpha=0.3", "M=", "=3", "-h", "--"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=8))
def test_fuzzed_compare_and_budget_exit_0_or_2_without_a_traceback(argv):
    code, out, err = run(*argv)
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("convalgebra: error: ")


def test_the_same_input_prints_the_same_text_on_every_run():
    script = ("from convalgebra.cli import main\n"
              "main(['compare', 'resnext', 'bottleneck', '--format', 'json'])\n"
              "main(['compare', 'fire', 'factorized'])\n"
              "main(['budget', 'vgg-stack', '--set', 'K=5', 'M=64', 'N=64'])\n")
    outs = {subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONHASHSEED=seed),
                           capture_output=True, text=True, check=True).stdout for seed in ("0", "4242")}
    assert len(outs) == 1


# -- width and resolution multipliers (MobileNet V1, Table 3) ---------------------------------

TABLE3 = dict(K=3, M=512, N=512, I=14)


def mega(x: int, digits: int) -> float:
    return round(x / 1e6, digits)


def test_mobilenet_table3_rows_by_computation():
    """Table 3 of the MobileNet paper (14 x 14 x 512 layer, 3 x 3 kernels), in millions:
    conv 462 M MACs 2.36 M params; depthwise separable 52.3 / 0.27; alpha = 0.75: 29.6 / 0.15;
    rho = 0.714 (I = 10): 15.1 / 0.15."""
    plain = ca.explain("depthwise-separable", **TABLE3).numbers
    assert (mega(plain.baseline.macs, 0), mega(plain.baseline.params, 2)) == (462, 2.36)
    assert (mega(plain.rewritten.macs, 1), mega(plain.rewritten.params, 2)) == (52.3, 0.27)
    thin = ca.explain("depthwise-separable", **TABLE3, alpha=0.75).numbers
    assert (mega(thin.rewritten.macs, 1), mega(thin.rewritten.params, 2)) == (29.6, 0.15)
    small = ca.evaluate(ca.module("depthwise-separable"), {**TABLE3, "alpha": "0.75", "rho": "5/7"})
    assert (mega(small.rewritten.macs, 1), mega(small.rewritten.params, 2)) == (15.1, 0.15)
    # the same numbers from the formula by hand: K*K*M*I*I + M*N*I*I at M = N = 384
    assert thin.rewritten.macs == (9 * 384 + 384 * 384) * 14 * 14 and thin.rewritten.params == 9 * 384 + 384 * 384
    assert small.rewritten.macs == (9 * 384 + 384 * 384) * 10 * 10


def test_multipliers_on_the_command_line_say_the_scaled_sizes():
    code, out, _ = run("explain", "depthwise-separable", "--set", "K=3", "M=512", "N=512", "I=14", "alpha=0.75",
                       "rho=5/7")
    assert code == 0 and "(so M = 384, N = 384, I = 10)" in out and "15,091,200" in out
    data = json.loads(run("explain", "depthwise-separable", "--set", "K=3", "M=512", "N=512", "I=14",
                          "alpha=0.75", "--format", "json")[1])
    assert data["values"]["rewritten"] == {"macs": 29_578_752, "params": 150_912}


@settings(max_examples=100, deadline=None)
@given(size=st.integers(1, 1024), other=st.integers(1, 1024), num=st.integers(1, 999), den=st.integers(1, 999))
def test_a_multiplier_that_gives_no_whole_size_names_one_that_does(size, other, num, den):
    values = {M: size, N: other, alpha: Fr(num, den)}
    try:
        scaled = scale(values)
    except ca.InvalidValueError as error:
        nearest = Fr(re.search(r"the nearest is alpha = (\S+)", str(error)).group(1))
        unit = math.gcd(size, other)
        assert nearest == Fr(1, unit) or abs(nearest - values[alpha]) <= Fr(1, 2 * unit)
        values[alpha] = nearest
        scaled = scale(values)
    assert (scaled[M], scaled[N]) == (values[alpha] * size, values[alpha] * other)
    assert all(isinstance(scaled[s], int) for s in (M, N))


def test_multipliers_reach_compare_and_budget():
    c = ca.compare("depthwise-separable", "xception", **TABLE3, alpha=0.75)
    assert c.numbers[0].rewritten.macs == 29_578_752
    b = ca.budget("depthwise-separable", K=3, M=512, N=512, alpha=0.75)
    assert b.value == 9 * (384 - 1)
    assert "(so M = 384, N = 384)" in b.to_text()
    half = ca.compare("group", "depthwise-separable", K=3, alpha=Fr(1, 2))
    assert "(so M = 48, N = 128)" in half.to_text()  # group's example, M = 96 and N = 256, halved


def test_a_break_even_solved_for_a_symbol_that_was_set_says_it_set_it_aside():
    be = ca.break_even("fire", K=3, M=96, N=128, t=2)
    assert be.notes[ca.t] == "the t = 2 given is set aside: t is what is solved for"
    assert ca.p not in be.notes or "set aside" not in be.notes[ca.p]
    # p's break-even does use the t given: the ratio is 1 there
    ratio = ca.explain("fire").ratio.macs.subs({ca.K: 3, ca.M: 96, ca.N: 128, ca.t: 2, ca.p: be.values[ca.p]})
    assert sympy.simplify(ratio - 1) == 0


# -- one behaviour for values not set --------------------------------------------------------

SIZES = ("K", "M", "N", "I")


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=6, deadline=None)
@given(given_sizes=st.sets(st.sampled_from(SIZES), max_size=3))
def test_every_command_takes_the_sizes_not_set_from_the_example_and_says_which(name, given_sizes):
    """explain, compare, budget, break-even and limit all answer at the values set and, for the
    sizes left unset that the answer needs, the module's example; each says which it took."""
    mod = ca.module(name)
    example = {str(s): v for s, v in mod.example.items()}
    if not given_sizes:  # nothing set: closed forms only
        assert ca.budget(name).value is None and ca.compare(name, "xception").numbers is None
        return
    values = {s: example[s] for s in given_sizes}  # the example's own sizes: every layer whole
    full = dict(example)
    e = ca.explain(name, values)
    assert [str(s) for s in e.from_example] == [s for s in SIZES if s not in given_sizes]
    assert e.numbers.rewritten == ca.explain(name, full).numbers.rewritten
    c = ca.compare(name, "depthwise-separable", values)
    assert [str(s) for s in c.from_example] == [s for s in SIZES if s not in given_sizes]
    assert c.at_ratio == ca.compare(name, "depthwise-separable", full).at_ratio
    b = ca.budget(name, values)
    needed = {str(s) for s in b.N.free_symbols} & set(SIZES)
    assert {str(s) for s in b.from_example} == needed - given_sizes
    assert b.value == ca.budget(name, {s: full[s] for s in needed | given_sizes}).value
    lim = ca.limit_large_N(name, values)
    assert {str(s) for s in lim.from_example} == ({str(s) for s in lim.macs.free_symbols} & set(SIZES)) - given_sizes
    be = ca.break_even(name, values)
    assert be.values == ca.break_even(name, {s: full[s] for s in {str(x) for x in be.given}}).values


def test_the_text_of_every_answer_says_which_sizes_came_from_the_example():
    for argv in (["budget", "bottleneck", "--set", "K=3"], ["compare", "group", "bottleneck", "--set", "K=3"],
                 ["budget", "fire", "--set", "t=2"]):
        code, out, err = run(*argv)
        assert code == 0 and err == "" and "from " in out and "'s example; set your own)" in out, argv
    assert "(M, N from bottleneck's example; set your own)" in ca.budget("bottleneck", K=3).to_text()
    assert "(M, N from resnext's example; set your own)" in ca.break_even("resnext", K=3).to_text()
    assert "(from" not in ca.limit_large_N("bottleneck", K=3).to_text()  # the limit needs no other size


@settings(max_examples=12, deadline=None)
@given(groups=st.integers(1, 16))
def test_values_the_example_cannot_take_keep_the_closed_form_and_say_why(groups):
    """explain group --set G=g: numbers where g divides the example's 96 and 256 channels;
    otherwise the closed form, and the reason as data."""
    e = ca.explain("group", G=groups)
    assert e.ratio == ca.explain("group").ratio  # the symbolic part is always there
    fits = 96 % groups == 0 and 256 % groups == 0
    assert (e.numbers is not None) == fits
    if fits:
        assert e.numbers.rewritten.macs == 5 * 5 * 96 * 256 * 27 * 27 // groups and e.no_numbers == ""
    else:
        assert e.no_numbers.startswith(f"no numbers at G = {groups}: {groups} groups do not divide the")
        assert "from the module's example; set sizes that fit" in e.no_numbers and e.caveats == (e.no_numbers,)
        code, out, err = run("explain", "group", "--set", f"G={groups}")
        assert code == 0 and out.startswith("group: group convolution") and err == ""
        assert f"Note: {e.no_numbers}" in " ".join(out.split()) and "At K =" not in out
        data = json.loads(run("explain", "group", "--set", f"G={groups}", "--format", "json")[1])
        assert data["values"]["no_numbers"] == e.no_numbers and data["caveats"] == [e.no_numbers]


def test_values_set_that_make_no_layer_are_still_an_error():
    with pytest.raises(ca.InvalidValueError, match="M/G = 64/3 channels"):
        ca.explain("group", G=3, M=64)
    with pytest.raises(ca.InvalidValueError, match="3 groups do not divide the 64"):
        ca.explain("group", G=3, K=3, M=64, N=64, I=8)


@pytest.mark.parametrize("name", ["bottleneck", "inverted-bottleneck", "fire", "resnext", "shufflenet"])
@settings(max_examples=15, deadline=None)
@given(ta=st.integers(1, 8), tb=st.integers(1, 8), K_=st.sampled_from([1, 3, 5]), I_=st.integers(1, 20))
def test_a_module_compared_with_itself_at_two_values_of_a_parameter(name, ta, tb, K_, I_):
    values = {"K": K_, "M": 96, "N": 80640, "I": I_}  # whole channels at every t <= 8, at the defaults' G and p
    c = ca.compare(name, name, values, values_a={"t": ta}, values_b={"t": tb})
    a = article_macs(name, **values, **{**defaults(name), "t": ta})
    b = article_macs(name, **values, **{**defaults(name), "t": tb})
    assert c.at_ratio.macs == Fr(a) / Fr(b) and c.notes_a[t] == (ta, "set") and c.notes_b[t] == (tb, "set")
    argv = ["compare", name, name, "--set", *(f"{s}={v}" for s, v in values.items()), "--set-a", f"t={ta}",
            "--set-b", f"t={tb}", "--format", "json"]
    data = json.loads(run(*argv)[1])
    assert data["values"]["a"]["macs"] == a and data["values"]["b"]["macs"] == b


def test_only_a_modules_own_parameters_differ_between_a_and_b():
    with pytest.raises(ca.InvalidValueError, match="values_b sets M: only a module's own parameters differ"):
        ca.compare("bottleneck", "bottleneck", values_b={"M": 64})
    code, out, err = run("compare", "group", "bottleneck", "--set-a", "t=2")
    assert code == 2 and "values_a sets t" in err and "(group's: G)" in err


def test_a_partial_condition_is_asked_for_with_a_cheaper_at():
    c = ca.compare("group", "depthwise-separable")
    assert c.a_cheaper_at(K=3) == sympy.Lt(N, sympy.Rational(18, 7))
    assert c.a_cheaper_at(K=3, M=96, N=256, I=27) is sympy.false
    with pytest.raises(ca.InvalidValueError, match="uses t"):
        c.a_cheaper_at(t=2)


def test_a_module_compared_with_itself_by_another_name_says_so():
    c = ca.compare("bottleneck", "ResNet")
    assert c.same_module and c.condition is sympy.false
    assert c.caveats == ("'ResNet' names a network, not a module; read as bottleneck, the article's module from ResNet",)
    code, out, err = run("compare", "bottleneck", "resnet")
    assert code == 0 and "the comparison is of a module with itself" in out
    assert err == "" and ("Note: 'resnet' names a network, not a module; read as bottleneck, the article's module "
                          "from ResNet") in " ".join(out.split())
    data = json.loads(run("compare", "bottleneck", "ResNet", "--format", "json")[1])
    assert data["caveats"] == list(c.caveats)


@pytest.mark.parametrize("share", [0, 1])
def test_every_command_takes_a_share_of_none(share):
    """Fire at p = 0 (no K x K kernels) or p = 1 (no 1 x 1): no command trips on the branch of none."""
    values = {"K": 3, "M": 96, "N": 128, "I": 55, "t": 8, "p": share}
    assert ca.explain("fire", values).numbers.rewritten.macs == article_macs("fire", **values)
    b = ca.budget("fire", values)  # the article's formula with N' kernels costs the standard convolution's MACs
    n = b.value
    assert sympy.simplify(96 * n / 8 + n / 8 * (1 - share) * n + 9 * n / 8 * share * n - 9 * 96 * 128) == 0
    assert ca.break_even("fire", {**values, "p": share}).given[p] == share
    assert ca.limit_large_N("fire", values).value is not None
    assert ca.compare("fire", "bottleneck", {s: v for s, v in values.items() if s != "t"}).numbers is not None
