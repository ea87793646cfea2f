"""The command line: explain and list, the JSON contract, bad input, and a fuzzer."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import parse_expr

import sympy

import convalgebra as ca
from convalgebra.cli import main
from test_modules import article_macs, sizes

import enumerate_macs as em

LOCALS = {name: ca.SYMBOLS[name] for name in "K M N I G t p k".split()}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def read(expr: str | int):
    """An expression of the JSON contract: a number where it is one, else text in the symbols."""
    return sympy.Integer(expr) if isinstance(expr, int) else parse_expr(expr, local_dict=LOCALS)


def test_list_names_the_ten_modules_in_the_articles_order_then_the_later_ones():
    code, out, _ = run("list")
    article, later = out.split("\n\nlater modules, from the same primitives:\n")
    later, attention = later.split("\n\nfrom convolution to attention:\n")
    assert code == 0
    assert [line.split()[0] for line in article.splitlines()] == ca.module_names()
    assert [line.split()[0] for line in later.splitlines()] == ca.later_module_names()
    assert [line.split()[0] for line in attention.splitlines()] == ca.attention_module_names()
    for line in later.splitlines() + attention.splitlines():  # each explains
        assert run("explain", line.split()[0])[0] == 0


def test_explain_text_reads_like_a_course_page():
    code, out, err = run("explain", "bottleneck")
    assert code == 0 and err == ""
    for needle in ("bottleneck: bottleneck (ResNet)", "Deep Residual Learning", "reduce(t)",
                   "(K*K*M*N) -> (M*N/t + K*K*N/t*N/t + N/t*N)",
                   "MACs (multiply-accumulates, what the article and torchvision call FLOPs; 1 MAC = 2 FLOPs)",
                   "1/(K**2*t) + N*(K**2 + t)/(K**2*M*t**2)", "at M = N", "(K**2 + 2*t)/(K**2*t**2)",
                   "example values", "88.19% fewer MACs"):
        assert needle in out, needle


def enumerated(name: str, v: dict) -> int:
    """The module's layers as the article draws them, written here by hand, run on a random
    input with real arithmetic (tests/enumerate_macs.py); the multiply-accumulates counted."""
    rng = random.Random(0)
    K, M, N, I = (int(v[s]) for s in "KMNI")
    counter = em.Counter()

    def conv(x, out, kernel, groups=1):
        pad = (em.same_padding(kernel[0]), em.same_padding(kernel[1]))
        return em.conv2d(x, out, kernel, groups, 1, pad, 1, counter, rng)

    x = em.random_tensor(M, I, rng)
    if name == "group":
        conv(x, N, (K, K), int(v["G"]))
    elif name == "depthwise-separable":
        conv(conv(x, M, (K, K), M), N, (1, 1))
    elif name == "shufflenet":
        G, width = int(v["G"]), N // int(v["t"])
        x = em.shuffle(conv(x, width, (1, 1), G), G)
        conv(conv(x, width, (K, K), width), N, (1, 1), G)
    elif name == "fire":
        squeezed = conv(x, N // int(v["t"]), (1, 1))
        share = Fraction(v["p"]) * N
        conv(squeezed, N - int(share), (1, 1)) if N - share else None
        conv(squeezed, int(share), (K, K)) if share else None
    else:  # pragma: no cover
        raise AssertionError(name)
    return counter.macs


def at(expr: str, values: dict) -> Fraction:
    """A JSON expression's exact value at ``values`` (names to numbers)."""
    got = read(expr).subs({ca.SYMBOLS[s]: sympy.Rational(str(v)) for s, v in values.items()})
    assert got.is_Rational, (expr, got)
    return Fraction(int(got.p), int(got.q))


def defaults(name: str) -> dict:
    return {str(s): d for s, d in ca.module(name).parameters.items()}


@pytest.mark.parametrize("name", ca.module_names())
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_json_contract_holds_the_articles_formulas(name, data):
    """Every closed form the command prints equals the article's table (tests/test_modules.py's
    article_macs, written from the article, not from the library) at drawn sizes."""
    code, out, _ = run("explain", name, "--format", "json")
    assert code == 0
    data_ = json.loads(out)
    assert data_["module"] == name
    assert data_["parameters"] == {str(s): (d if isinstance(d, int) else str(d))
                                   for s, d in ca.module(name).parameters.items()}
    values = data.draw(sizes(name))
    K, M, N, I = (values[s] for s in "KMNI")
    macs, baseline = article_macs(name, **values), Fraction(K * K * M * N * I * I)
    assert at(data_["rewritten"]["macs"], values) == macs
    assert at(data_["rewritten"]["params"], values) == macs / (I * I)  # every layer sees I x I, no bias
    assert at(data_["baseline"]["macs"], values) == baseline and at(data_["baseline"]["params"], values) == K * K * M * N
    assert at(data_["ratio"]["macs"], values) == macs / baseline
    equal = {**values, "M": N}
    assert at(data_["ratio_equal_channels"]["macs"], equal) == article_macs(name, **equal) / (K * K * N * N * I * I)
    assert sum(at(layer["macs"], values) for layer in data_["layers"]) == macs
    for layer in data_["layers"]:
        assert {"kernel", "in", "out", "groups", "macs", "params"} <= set(layer)
    assert "values" not in data_


@pytest.mark.parametrize("name", ca.module_names())
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_the_numbers_printed_are_the_articles_at_the_values_set(name, data):
    values = data.draw(sizes(name))
    given_ = [f"{s}={v}" for s, v in values.items()]
    code, out, err = run("explain", name, "--set", *given_, "--format", "json")
    assert code == 0, err
    numbers = json.loads(out)["values"]
    K, M, N, I = (values[s] for s in "KMNI")
    macs = article_macs(name, **{**defaults(name), **values})
    assert numbers["rewritten"] == {"macs": macs, "params": macs / (I * I)}
    assert numbers["baseline"] == {"macs": K * K * M * N * I * I, "params": K * K * M * N}
    assert Fraction(numbers["ratio"]["macs"]) == macs / (K * K * M * N * I * I)
    text = run("explain", name, "--set", *given_)[1]
    assert f"{int(macs):,}" in text and f"{2 * int(macs):,}" in text  # MACs and FLOPs = 2 x MACs


@pytest.mark.parametrize("name", ["group", "depthwise-separable", "shufflenet", "fire"])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_the_numbers_printed_are_what_running_the_convolutions_counts(name, data):
    """At small sizes the modules' layers run, one multiply-accumulate at a time
    (tests/enumerate_macs.py), and the command prints that count."""
    values = data.draw(sizes(name, small=True))
    values = {**defaults(name), **values} if name != "fire" else {**values}
    code, out, err = run("explain", name, "--set", *(f"{s}={v}" for s, v in values.items()), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["values"]["rewritten"]["macs"] == enumerated(name, values)


def test_json_values_are_exact():
    code, out, _ = run("explain", "depthwise-separable", "--set", "K=3", "M=512", "N=512", "I=14", "--format", "json")
    assert code == 0
    values = json.loads(out)["values"]
    assert values["baseline"] == {"macs": 462_422_016, "params": 2_359_296}
    assert values["rewritten"] == {"macs": 52_283_392, "params": 266_752}
    assert Fraction(values["ratio"]["macs"]) == Fraction(52_283_392, 462_422_016)


def test_vgg_stack_layers_carry_their_count():
    data = json.loads(run("explain", "vgg-stack", "--format", "json")[1])
    assert [read(layer.get("count", "1")) for layer in data["layers"]] == [1, (ca.K - ca.k) / (ca.k - 1)]


def test_set_gives_module_parameters_and_unset_ones_default():
    code, out, _ = run("explain", "resnext", "--set", "K=3", "M=256", "N=256", "I=56", "G=8", "--format", "json")
    values = json.loads(out)["values"]
    # t = 2 by default, G = 8 as set: 256*128 + 9*(128/8)*128 + 128*256 per pixel
    assert values["rewritten"]["macs"] == (256 * 128 + 9 * 16 * 128 + 128 * 256) * 56 * 56


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_other_formats(fmt):
    code, out, _ = run("explain", "depthwise-separable", "--format", fmt, "--set", "K=3", "M=512", "N=512", "I=14")
    assert code == 0
    assert r"\frac{1}{N} + \frac{1}{K^{2}}" in out
    if fmt == "latex":  # the whole explanation, as the text has it: tables, formulas, numbers
        assert out.count(r"\begin{align*}") == 2 and out.count(r"\begin{tabular}") == 2
        assert "52,283,392" in out
    else:
        assert "| 1 | depthwise |" in out and "52,283,392" in out


@pytest.mark.parametrize("argv,message", [
    (["explain", "botleneck"], "did you mean bottleneck"),
    (["explain", "nonsense-module"], "unknown module 'nonsense-module'"),
    (["explain", "group", "--set", "G=0"], "G = 0"),
    (["explain", "bottleneck", "--set", "t=0"], "t = 0"),
    (["explain", "bottleneck", "--set", "t=-2"], "t = -2"),
    (["explain", "fire", "--set", "p=1.5"], "p = 3/2"),
    (["explain", "group", "--set", "G=3", "M=64", "N=64", "K=3", "I=8"], "3 groups do not divide"),
    (["explain", "group", "--set", "G3"], "not SYMBOL=VALUE"),
    (["explain", "group", "--set", "Q=3"], "unknown symbol 'Q'"),
    (["explain", "group", "--set", "M=__import__('os').system('touch /tmp/pwned')"], "is not a number"),
    (["explain", "group", "--set", "M=1", "M=2"], "M is set twice"),
    (["explain", "bottleneck", "--set", "K=3", "M=8", "N=10", "I=4"], "N/t = 5/2 channels"),
    (["explain", "bottleneck", "--set", "K=3", "K=5"], "K is set twice"),
    (["explain"], "explain takes a module's name or --rule RULE"),
    (["explain", "group", "--format", "pdf"], "invalid choice"),
    ([], "no command given"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_gets_one_line_and_exit_code_2(argv, message):
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("convalgebra: error: ")
    assert message in err
    assert not os.path.exists("/tmp/pwned")


def test_help_exits_0_and_prints_to_the_output_given():
    for argv in (["--help"], ["explain", "--help"], ["--version"]):
        code, out, err = run(*argv)
        assert code == 0 and err == ""
        assert out.startswith("usage: convalgebra") or out.startswith("convalgebra ")


LONGEST = 64  # characters of a number the command line reads
NEAR_THE_LIMIT = ["9" * 64, "9" * 65, "1" + "0" * 63, "1/" + "9" * 62, "9" * 31 + "/" + "7" * 32, "0." + "0" * 61 + "1",
                  "-" + "9" * 63, "4963595372164418730243844250278933730416682962970482173955824000"]
WORDS = st.sampled_from(["explain", "list", "--set", "--format", "json", "text", "latex", "markdown",
                         "bottleneck", "group", "fire", "K=3", "M=4", "N=8", "I=2", "G=2", "t=2", "p=1/2",
                         "k=3", "G=0", "t=0", "M=", "=3", "-h", "--", "alpha=0.5", "rho=1/2", "F=2",
                         "vgg-stack", "shufflenet", "K=4", "xception", "network", "networks", "compare",
                         "budget", "break-even", "limit", "resnet18", "mobilenet_v2", "squeezenet1_1", "I=32", "I=0",
                         "I=7", "I=x", "plot", *(f"{s}={v}" for s in "KMNItG" for v in NEAR_THE_LIMIT[::3])])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8))
def test_fuzzed_command_lines_exit_0_or_2_without_a_traceback(argv):
    code, out, err = run(*argv)
    assert code in (0, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("convalgebra: error: ")


def near_the_limit():
    """Numbers as long as the command line reads, and one character longer: integers,
    fractions and decimals of 63 to 65 characters, of either sign."""
    digits = st.integers(10**61, 10**65 - 1)
    return st.one_of(st.sampled_from(NEAR_THE_LIMIT), digits.map(str), st.tuples(digits, digits).map(
        lambda pair: f"{str(pair[0])[:31]}/{str(pair[1])[:32]}"), digits.map(lambda n: "0." + str(n)[:62]),
        digits.map(lambda n: "-" + str(n)[:63]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(["explain", "compare", "budget", "break-even", "limit"]),
       names=st.tuples(st.sampled_from(ca.module_names()), st.sampled_from(ca.module_names())),
       symbol=st.sampled_from(["K", "M", "N", "I", "G", "t", "p", "k", "alpha", "rho"]), value=near_the_limit())
def test_every_command_answers_at_values_near_the_length_limit(command, names, symbol, value):
    """One symbol near the length limit, the others small: an answer (exit 0) or one line
    (exit 2), never a traceback; every closed form is bounded (benchmarks/hostile_cli.py times them)."""
    given_ = {"K": "3", "M": "64", "N": "64", "I": "16", symbol: value}
    argv = [command, *names[: 2 if command == "compare" else 1], "--set", *(f"{s}={v}" for s, v in given_.items())]
    code, out, err = run(*argv)
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith("convalgebra: error: ")
        assert len(value) <= LONGEST or "too long" in err
    else:
        assert err == "" and out


@settings(max_examples=15, deadline=None)
@given(value=near_the_limit(), name=st.sampled_from(["resnet18", "mobilenet_v2", "inception_v3"]))
def test_a_network_is_counted_at_input_sizes_near_the_length_limit(value, name):
    code, out, err = run("network", name, "--set", f"I={value}")
    assert code in (0, 2) and "Traceback" not in err
    if code == 0:
        assert int(value) >= 1 and len(value) <= LONGEST
        macs, params = ca.network(name).total(int(value))
        assert f"{params:,}" in out or f"{params / 1e6:.2f}" in out


def test_output_that_the_stream_cannot_encode_is_escaped_not_a_traceback(tmp_path):
    """A file name that is not UTF-8, echoed to a strict ASCII stdout and stderr."""
    pytest.importorskip("matplotlib")
    name = os.fsdecode(b"r\xe9sum\xff.png")  # surrogate-escaped bytes, as the shell passes them
    env = {**os.environ, "PYTHONIOENCODING": "ascii:strict", "PYTHONPATH": os.pathsep.join(sys.path)}
    for argv in (["plot", "group", "--out", name], ["explain", "r\xe9sum\xe9"], ["plot", "group", "--out", "x.jpg\xe9"]):
        done = subprocess.run([sys.executable, "-m", "convalgebra", *argv], capture_output=True, cwd=tmp_path, env=env)
        assert done.returncode in (0, 2) and b"Traceback" not in done.stderr, done.stderr
        assert (done.stdout + done.stderr).count(b"\n") == 1


def test_console_entry_point_runs_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "convalgebra", "explain", "nope"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("convalgebra: error: unknown module 'nope'") and "Traceback" not in done.stderr


def test_the_command_switches_the_garbage_collector_off_and_main_leaves_it_on(monkeypatch):
    import gc

    from convalgebra.cli import run

    assert gc.isenabled()
    assert main(["list"], out=io.StringIO()) == 0
    assert gc.isenabled()
    monkeypatch.setattr(sys, "argv", ["convalgebra", "list"])
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    try:
        with pytest.raises(SystemExit) as stop:
            run()
        switched_off = not gc.isenabled()
    finally:
        gc.enable()
    assert stop.value.code == 0 and switched_off


def test_sizes_left_unset_come_from_the_example_and_the_text_says_so():
    code, out, _ = run("explain", "fire", "--set", "t=2")
    assert code == 0
    assert "Parameters: t = 2 as set (default 8; " in out
    assert "At K = 3, M = 96, N = 128, I = 55, t = 2, p = 1/2 (K, M, N, I from the module's example" in out
    data = json.loads(run("explain", "fire", "--set", "t=2", "--format", "json")[1])
    assert data["parameters"] == {"t": 8, "p": "1/2"}  # the defaults, as the contract says
    assert data["values"]["given"]["t"] == 2 and data["values"]["from_example"] == ["K", "M", "N", "I"]
    # the numbers are the article's at those values (its table, not the library's count)
    macs = article_macs("fire", K=3, M=96, N=128, I=55, t=2, p=Fraction(1, 2))
    assert data["values"]["rewritten"] == {"macs": macs, "params": macs / 55**2}


def test_a_value_given_twice_is_refused_in_python_too():
    with pytest.raises(ca.InvalidValueError, match="K is given twice"):
        ca.explain("group", {"K": 3}, K=5, M=64, N=64, I=14)
    with pytest.raises(ca.InvalidValueError, match="expected a mapping"):
        ca.compare("depthwise-separable", "xception", [1, 2])


@pytest.mark.parametrize("name", ca.module_names())
def test_json_without_values_carries_the_example_numbers_the_text_shows(name):
    data = json.loads(run("explain", name, "--format", "json")[1])
    assert "values" not in data
    example = {str(s): v for s, v in ca.module(name).example.items()}
    macs = article_macs(name, **{**defaults(name), **example})
    assert data["example"]["rewritten"] == {"macs": macs, "params": macs / example["I"] ** 2}
    assert f"{int(macs):,}" in run("explain", name)[1]


def test_values_that_fit_no_example_size_show_the_closed_form_and_say_why():
    code, out, err = run("explain", "vgg-stack", "--set", "k=4")
    assert code == 0 and out.startswith("vgg-stack: stacked small kernels") and "At K =" not in out
    assert err == "" and " ".join(out.split()).count("Note: no numbers at k = 4: (K - k)/(k - 1) = 1/3 layers: expected a "
                                                  "whole number (with K = 5, M = 256, N = 256, I = 56 from the module's "
                                                  "example; set sizes that fit)") == 1
    # the values set alone make no layer: that is an error about them
    code, out, err = run("explain", "vgg-stack", "--set", "k=4", "K=6")
    assert (code, out, err) == (2, "", "convalgebra: error: (K - k)/(k - 1) = 2/3 layers: expected a whole number\n")


# -- how a request was read, composed rules, help ------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_how_a_request_was_read_reaches_the_reader_in_every_format(fmt):
    code, out, err = run("explain", "MobileNet_V2", "--format", fmt)
    assert code == 0 and err == ""
    note = ("'MobileNet_V2' names a network, not a module; read as inverted-bottleneck, "
            "the article's module from MobileNet V2")
    if fmt == "json":
        assert json.loads(out)["caveats"] == [note]
    else:  # said once, as a note under the title (LaTeX escapes the underscore)
        said = " ".join(out.split()).replace("\\_", "_")
        assert said.count(f"Note: {note}") == 1 and said.index("Note:") < said.index("Layers")
    code, out, err = run("explain", "mobilenet")
    assert code == 2 and out == "" and "MobileNet V1 is built from depthwise-separable, MobileNet V2 from" in err


RULES = ["chain(reduce(4), group(32))", "chain(expand(6), group(2, on='pointwise'), depthwise())",
         "separate('pointwise-first')", "chain(squeeze(8), mix(0.5))", "stack(3)"]


@pytest.mark.parametrize("rule", RULES)
def test_a_rule_is_explained_from_the_command_line(rule):
    parsed = ca.rules.parse_rule(rule)
    expected = ca.explain(ca.compose(parsed))
    data = json.loads(run("explain", "--rule", rule, "--format", "json")[1])
    assert data["module"] == repr(parsed)
    assert read(data["ratio"]["macs"]) - expected.ratio.macs == 0
    code, out, err = run("explain", "--rule", rule, "--set", "K=5", "M=256", "N=256", "I=14")
    assert code == 0 and err == "" and "At K = 5, M = 256, N = 256, I = 14" in out


@pytest.mark.parametrize("argv,message", [
    (["explain", "--rule", "__import__('os').system('true')"], "cannot read rule"),
    (["explain", "--rule", "chain(reduce(4), lambda: 1)"], "expected calls of chain, group"),
    (["explain", "--rule", "group(0)"], "G = 0"),
    (["explain", "bottleneck", "--rule", "group(2)"], "one of them"),
    (["explain", "--rule", "reduce(t)", "--set", "t=4", "G=2"], "does not use G"),
    (["plot", "all", "resnet50", "--out", "x.png"], "'all' draws the ten modules and takes no other name"),
    (["plot", "bottleneck", "resnet50", "--out", "x.png"], "'resnet50' is a network, not a module"),
])
def test_bad_rules_and_names_get_one_line(argv, message, tmp_path):
    code, out, err = run(*argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("command", ["explain", "compare", "budget"])
def test_help_says_how_values_not_set_are_filled_with_real_sizes(command):
    from convalgebra.cli import VALUES_HELP

    code, out, _ = run(command, "--help")
    flat = " ".join(out.split())
    assert code == 0 and " ".join(VALUES_HELP.split()) in flat
    sizes = [int(v) for v in __import__("re").findall(r"\b[MN]=(\d+)", flat)]
    assert sizes and all(v >= 64 for v in sizes)  # channels a real layer has, not M=3


def test_fire_branches_are_numbered_alike_in_text_and_json():
    data = json.loads(run("explain", "fire", "--format", "json")[1])
    branches = [layer.get("branch") for layer in data["layers"]]
    assert branches == [None, 1, 2]
    text = run("explain", "fire")[1]
    assert "branch 1" in text and "branch 2" in text and "branch 0" not in text


@pytest.mark.parametrize("name", ca.module_names())
def test_json_gives_numbers_as_numbers_and_expressions_as_text(name):
    for layer in json.loads(run("explain", name, "--format", "json")[1])["layers"]:
        for key in ("in", "out", "groups", "macs", "params"):
            value = layer[key]
            assert isinstance(value, int) or (isinstance(value, str) and not read(value).is_Integer), (key, value)
        for side in layer["kernel"] or ():
            assert isinstance(side, int) or not read(side).is_Integer
    net = json.loads(run("network", "mobilenet_v2", "--format", "json")[1])["layers"]
    assert all(isinstance(side, int) for layer in net if layer["kernel"] for side in layer["kernel"])
    assert {type(layer["groups"]) for layer in net} == {int}


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v3_small", "inception_v3"])
@settings(max_examples=5, deadline=None)
@given(h=st.integers(3, 12), more=st.integers(1, 6))
def test_the_closed_form_in_H_and_W_is_the_count_wherever_it_says_it_is_exact(name, h, more):
    """An oblong count points to its closed form in H and W; that form, in the text and in the
    JSON, gives the count at every H and W it says it is exact for (H = W is a square, in I)."""
    net = ca.network(name)
    H_, W_ = h * net.stride, (h + more) * net.stride
    code, out, _ = run("network", name, "--set", f"H={H_}", f"W={W_}", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["total_symbolic"]["exact_when"] == f"H and W are multiples of {net.stride}"
    form = sympy.sympify(data["total_symbolic"]["macs"], locals={"H": ca.H, "W": ca.W})  # our own output, not a user's
    assert form.subs({ca.H: H_, ca.W: W_}) == data["total"]["macs"] == net.total((H_, W_))[0]
    assert "--symbolic HW" in run("network", name, "--set", f"H={H_}", f"W={W_}")[1]
    code, out, _ = run("network", name, "--symbolic", "HW")
    assert code == 0 and f"MACs = {data['total_symbolic']['macs']} (multiply-accumulates)" in out and "MACs(I)" not in out
