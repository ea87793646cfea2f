"""The ten modules against two independent counts.

1. The article's formulas, written out here as plain arithmetic on exact numbers
   (not derived from the library's layers or rules).
2. On small sizes, real convolutions run in plain Python, one multiply-accumulate at a
   time (tests/enumerate_macs.py).

hypothesis draws the sizes and the module parameters.
"""

from __future__ import annotations

import random
from fractions import Fraction as Fr

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.blocks import Parallel, Repeat, Series, substitute
from convalgebra.layers import Conv, Shuffle
from convalgebra.symbols import G, K, M, N, k, p, t

import enumerate_macs as em

NAMES = ca.module_names()


def article_macs(name: str, K: int, M: int, N: int, I: int, G=None, t=None, p=None, k=None) -> Fr:
    """The article's table, exact general form (no M = N), times I*I, in Fractions."""
    K, M, N, I = map(Fr, (K, M, N, I))
    if name == "group":
        per = K * K * M / G * N
    elif name == "vgg-stack":
        layers = (K - 1) / (k - 1)
        per = k * k * M * N + (layers - 1) * k * k * N * N
    elif name == "factorized":
        per = K * 1 * M * N + 1 * K * N * N
    elif name == "fire":
        per = M * N / t + N / t * (1 - p) * N + K * K * N / t * p * N
    elif name == "bottleneck":
        per = M * N / t + K * K * N / t * N / t + N / t * N
    elif name == "resnext":
        per = M * N / t + K * K * N / (t * G) * N / t + N / t * N
    elif name == "depthwise-separable":
        per = K * K * M + M * N
    elif name == "xception":
        per = M * N + K * K * N
    elif name == "shufflenet":
        per = M / G * N / t + K * K * N / t + N / (t * G) * N
    elif name == "inverted-bottleneck":
        per = M * t * M + K * K * t * M + t * M * N
    else:  # pragma: no cover
        raise AssertionError(name)
    return per * I * I


@st.composite
def sizes(draw, name: str, small: bool = False):
    """Values that make every channel count of module ``name`` whole."""
    top = 4 if small else 64
    odd_k = st.sampled_from([1, 3, 5] if small else [1, 3, 5, 7, 9, 11])
    v = {"I": draw(st.integers(1, 5 if small else 300))}
    if name == "vgg-stack":
        v["k"] = draw(st.sampled_from([3] if small else [2, 3, 5]))
        layers = draw(st.integers(1, 2 if small else 4))
        v["K"] = v["k"] + (layers - 1) * (v["k"] - 1)
    else:
        v["K"] = draw(odd_k if small else st.integers(1, 11))
    g = draw(st.integers(1, 2 if small else 8))
    tt = draw(st.integers(1, 2 if small else 8))
    if name in ("group",):
        v.update(G=g, M=g * draw(st.integers(1, top)), N=g * draw(st.integers(1, top)))
    elif name == "fire":
        share = draw(st.sampled_from([Fr(0), Fr(1, 4), Fr(1, 2), Fr(3, 4), Fr(1)]))
        v.update(t=tt, p=share, M=draw(st.integers(1, top)), N=4 * tt * draw(st.integers(1, 2 if small else top)))
    elif name == "bottleneck":
        v.update(t=tt, M=draw(st.integers(1, top)), N=tt * draw(st.integers(1, top)))
    elif name == "resnext":
        v.update(t=tt, G=g, M=draw(st.integers(1, top)), N=tt * g * draw(st.integers(1, 2 if small else top)))
    elif name == "shufflenet":
        v.update(t=tt, G=g, M=g * draw(st.integers(1, top)), N=tt * g * draw(st.integers(1, 2 if small else top)))
    elif name == "inverted-bottleneck":
        v.update(t=tt, M=draw(st.integers(1, 3 if small else top)), N=draw(st.integers(1, top)))
    else:
        v.update(M=draw(st.integers(1, top)), N=draw(st.integers(1, top)))
    return v


def symbolic_at(expr, values) -> Fr:
    got = sympy.sympify(expr).subs({ca.SYMBOLS[s]: sympy.Rational(str(x)) for s, x in values.items()})
    assert got.is_Rational, got
    return Fr(int(got.p), int(got.q))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_closed_form_equals_the_articles_formula(name, data):
    values = data.draw(sizes(name))
    e = ca.explain(name)
    expected = article_macs(name, **values)
    assert symbolic_at(e.rewritten.macs, values) == expected
    assert symbolic_at(e.rewritten.params, values) * values["I"] ** 2 == expected
    baseline = Fr(values["K"] ** 2 * values["M"] * values["N"] * values["I"] ** 2)
    assert symbolic_at(e.baseline.macs, values) == baseline
    assert symbolic_at(e.ratio.macs, values) == expected / baseline


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_exact_numbers_equal_the_articles_formula(name, data):
    values = data.draw(sizes(name))
    numbers = ca.explain(name, **values).numbers
    expected = article_macs(name, **values)
    assert numbers.rewritten.macs == expected
    assert numbers.rewritten.params * values["I"] ** 2 == expected
    assert numbers.baseline.macs == values["K"] ** 2 * values["M"] * values["N"] * values["I"] ** 2
    assert numbers.ratio.macs == expected / numbers.baseline.macs


def run_block(block, x, counter, params, rng):
    """Run a numeric block on tensor x with real arithmetic, counting MACs and weights."""
    if isinstance(block, Series):
        for item in block.items:
            x = run_block(item, x, counter, params, rng)
        return x
    if isinstance(block, Parallel):
        outs = [run_block(item, x, counter, params, rng) for item in block.items]
        return [plane for out in outs for plane in out]
    if isinstance(block, Repeat):
        for _ in range(block.count):
            x = run_block(block.body, x, counter, params, rng)
        return x
    if isinstance(block, Shuffle):
        assert len(x) == block.channels
        return em.shuffle(x, block.groups)
    assert isinstance(block, Conv) and block.padding == "same" and block.stride == 1
    kh, kw = block.kernel
    assert len(x) == block.in_channels
    params.append(block.out_channels * (len(x) // block.groups) * kh * kw)
    return em.conv2d(x, block.out_channels, (kh, kw), block.groups, 1,
                     (em.same_padding(kh), em.same_padding(kw)), 1, counter, rng)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_closed_form_equals_enumerated_multiply_accumulates(name, data):
    values = data.draw(sizes(name, small=True))
    mod = ca.module(name)
    full = {**{s: d for s, d in mod.parameters.items()}, **{ca.SYMBOLS[s]: v for s, v in values.items()}}
    block = substitute(mod.block(), full)
    rng = random.Random(0)
    x = em.random_tensor(values["M"], values["I"], rng)
    counter, params = em.Counter(), []
    out = run_block(block, x, counter, params, rng)
    assert len(out) == values["N"] and len(out[0]) == values["I"] == len(out[0][0])
    e = ca.explain(name)
    assert symbolic_at(e.rewritten.macs, {**{str(s): v for s, v in full.items()}}) == counter.macs
    assert symbolic_at(e.rewritten.params, {**{str(s): v for s, v in full.items()}}) == sum(params)


def test_standard_convolution_enumerated():
    rng = random.Random(1)
    counter = em.Counter()
    out = em.conv2d(em.random_tensor(3, 5, rng), 4, (3, 3), 1, 1, (1, 1), 1, counter, rng)
    assert (len(out), len(out[0])) == (4, 5)
    assert counter.macs == ca.standard().macs(5).subs({K: 3, M: 3, N: 4}) == 3 * 3 * 3 * 4 * 5 * 5


def test_depthwise_separable_is_mobilenets_ratio():
    e = ca.explain("depthwise-separable")
    assert e.ratio.macs == 1 / N + 1 / K**2
    assert ca.text(e.ratio.macs) == "1/N + 1/K**2"
    assert ca.text(e.ratio.params) == "1/N + 1/K**2"


def test_mobilenet_v1_table_3_reproduced():
    n = ca.explain("depthwise-separable", K=3, M=512, N=512, I=14).numbers
    assert (n.baseline.macs, n.rewritten.macs) == (462_422_016, 52_283_392)
    assert (n.baseline.params, n.rewritten.params) == (2_359_296, 266_752)


@pytest.mark.parametrize("name", NAMES)
def test_equal_channel_form_is_the_general_form_at_m_equals_n(name):
    e = ca.explain(name)
    for general, equal in zip(e.ratio, e.ratio_equal_channels, strict=True):
        assert sympy.simplify(general.subs(M, N) - equal) == 0
        assert not equal.has(M)


@pytest.mark.parametrize("name", NAMES)
def test_module_parameters_stay_symbols_in_the_closed_form(name):
    mod = ca.module(name)
    e = ca.explain(name)
    for sym in mod.parameters:
        assert e.rewritten.macs.has(sym) or e.ratio.macs.has(sym), (name, sym)


@pytest.mark.parametrize("name,alias", [("inverted-bottleneck", "mobilenet_v2"),
                                        ("depthwise-separable", "depthwise_separable"),
                                        ("depthwise-separable", "MobileNet-V1"),
                                        ("vgg-stack", "vgg_stack")])
def test_aliases(name, alias):
    assert ca.module(alias).name == name


def test_unknown_module_names_the_closest():
    with pytest.raises(ca.UnknownNameError, match="did you mean inverted-bottleneck"):
        ca.module("inverted-botleneck")


def test_article_shorthand_at_m_equals_n():
    """The article writes each module at M = N; the library's equal-channel forms agree."""
    e = {name: ca.explain(name).ratio_equal_channels.macs for name in NAMES}
    assert e["group"] == 1 / G
    assert sympy.simplify(e["factorized"] - 2 / K) == 0
    assert sympy.simplify(e["bottleneck"] - (N**2 / t + K**2 * N**2 / t**2 + N**2 / t) / (K**2 * N**2)) == 0
    assert sympy.simplify(e["inverted-bottleneck"] - (t * N**2 + K**2 * t * N + t * N**2) / (K**2 * N**2)) == 0
    assert sympy.simplify(e["vgg-stack"].subs({K: 5, k: 3}) - sympy.Rational(18, 25)) == 0
    assert sympy.simplify(e["fire"] - (N**2 / t + N**2 * (1 - p) / t + K**2 * N**2 * p / t) / (K**2 * N**2)) == 0


def test_a_module_is_looked_up_by_name_only():
    with pytest.raises(ca.InvalidValueError, match="is a rule, not a module"):
        ca.module(ca.chain(ca.reduce(4), ca.expand(6)))
    with pytest.raises(ca.InvalidValueError, match="not NoneType"):
        ca.module(None)
    assert ca.module(ca.compose(ca.group(4))).rule == ca.compose(ca.group(4)).rule


def test_a_composed_module_cannot_take_an_article_modules_name():
    for name in ("bottleneck", "ResNet", "mobilenet_v2"):
        with pytest.raises(ca.InvalidValueError, match="give a composed module a name of its own"):
            ca.compose(ca.reduce(4), name=name)


# -- names of networks, symbols a module uses, where its activations sit ------------------------

@pytest.mark.parametrize("name,meant", sorted(ca.catalog.NETWORK_ALIASES.items()))
def test_a_networks_name_says_which_module_it_stands_for_or_asks(name, meant):
    for spelling in (name, name.upper(), name.replace("-", "_")):
        if len(meant) == 1:
            assert ca.module(spelling).name == meant[0]
            note = ca.catalog.stands_for(spelling)
            assert note.startswith(f"{spelling!r} names a network, not a module; read as {meant[0]}")
            assert ca.explain(spelling).read_as == note  # and every answer carries it
        else:
            with pytest.raises(ca.UnknownNameError) as error:
                ca.module(spelling)
            assert all(m in str(error.value) for m in meant) and "name the one you mean" in str(error.value)


def _zoo_names_that_are_not_modules() -> list[str]:
    from convalgebra.catalog import _by_name, _key

    return [n for n in ca.network_names() if _key(n) not in ca.catalog.NETWORK_ALIASES and _key(n) not in _by_name()]


@pytest.mark.parametrize("name", _zoo_names_that_are_not_modules())
def test_a_zoo_networks_name_where_a_module_belongs_points_to_both(name):
    with pytest.raises(ca.UnknownNameError) as error:
        ca.module(name)
    message = str(error.value)
    assert f"{name!r} is a network, not a module" in message and f"'convalgebra network {name}'" in message
    built = {s.module for s in ca.network(name).stages if s.module}
    assert all(m in message for m in built) and ("\n" not in message)


def test_a_modules_own_names_are_read_silently():
    for m in ca.MODULES:
        for spelling in (m.name, *m.aliases):
            assert ca.module(spelling) is m and ca.catalog.stands_for(spelling) == ""


@pytest.mark.parametrize("name", NAMES)
def test_a_modules_symbols_are_the_sizes_and_its_parameters(name):
    mod = ca.module(name)
    assert set(mod.symbols) == {K, M, N, ca.I, *mod.parameters}
    e = ca.explain(name)  # each is in the cost: K, M, N, I in the standard convolution's, the rest in the module's
    assert set(mod.symbols) <= e.baseline.macs.free_symbols | e.rewritten.macs.free_symbols


UNUSED = [(m.name, s) for m in ca.MODULES for s in (G, t, p, k) if s not in m.symbols]


@pytest.mark.parametrize("name,symbol", UNUSED)
@settings(max_examples=5, deadline=None)
@given(whole=st.integers(2, 64), share=st.fractions(0, 1, max_denominator=8))
def test_a_symbol_the_module_does_not_use_is_refused_by_every_command(name, symbol, whole, share):
    import io

    from convalgebra.cli import main

    value = share if symbol == p else whole
    for call in (ca.explain, ca.budget, ca.break_even, ca.limit_large_N):
        with pytest.raises(ca.InvalidValueError, match=f"{name} does not use {symbol}; its symbols: "):
            call(name, {symbol: value})
    for command in ("explain", "budget"):
        err = io.StringIO()
        assert main([command, name, "--set", f"{symbol}={value}"], out=io.StringIO(), err=err) == 2
        assert err.getvalue().count("\n") == 1 and f"{name} does not use {symbol}" in err.getvalue()


def test_a_symbol_one_of_two_modules_uses_is_theirs_and_one_neither_uses_is_refused():
    assert ca.compare("bottleneck", "depthwise-separable", t=2).notes_a == {t: (2, "set")}
    with pytest.raises(ca.InvalidValueError, match="neither bottleneck nor depthwise-separable uses G"):
        ca.compare("bottleneck", "depthwise-separable", G=2)


def test_every_module_says_where_its_activations_sit():
    acts = {m.name: m.activations for m in ca.MODULES}
    assert all(text.endswith(".") and ("ReLU" in text or "activation" in text) for text in acts.values())
    assert acts["xception"].startswith("No activation between the pointwise and the depthwise convolution")
    assert "linear" in acts["inverted-bottleneck"] and "ReLU6" in acts["inverted-bottleneck"]
    assert "none after the depthwise" in acts["shufflenet"]
    assert "after the residual addition" in acts["bottleneck"] and "no batch norm" in acts["fire"]
    assert ca.compose(ca.group(2)).activations == ""  # a composed module's are not known


def test_a_composed_module_has_an_example_unless_given_one():
    mine = ca.compose(ca.reduce(4), ca.group(2))
    assert mine.example == ca.modules.COMPOSED_EXAMPLE
    assert ca.explain(mine).example.values == {K: 3, M: 256, N: 256, ca.I: 56}
    assert ca.compose(ca.reduce(4), example={"M": 64, "N": 64}).example == {K: 3, M: 64, N: 64, ca.I: 56}
    with pytest.raises(ca.InvalidValueError, match="an example gives sizes"):
        ca.compose(ca.reduce(t), example={"t": 4})
    # a composed module whose example does not fit explains itself in closed form and says why
    odd = ca.explain(ca.compose(ca.group(3)))
    assert odd.example is None and "3 groups do not divide the 256" in odd.no_numbers
