"""Primitive rewrites and user compositions: layers, cost and savings with no new code."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.blocks import iter_layers, substitute
from convalgebra.symbols import G, I, K, M, N, t

import enumerate_macs as em
from test_modules import run_block


def kernels(mod):
    return [(c.kernel, c.in_channels, c.out_channels, c.groups) for c in iter_layers(mod.block())
            if isinstance(c, ca.Conv)]


def test_every_module_is_a_chain_of_primitives():
    primitives = {"group", "stack", "factorize", "separate", "depthwise", "reduce", "expand",
                  "squeeze", "mix", "shuffle"}
    for mod in ca.MODULES:
        rules = getattr(mod.rule, "rules", (mod.rule,))
        assert {r.name.split("(")[0] for r in rules} <= primitives, mod.name


def test_grouped_inverted_bottleneck():
    mod = ca.compose(ca.expand(t), ca.group(G, on="pointwise"), ca.depthwise(), name="grouped-inverted",
                     parameters={t: 6, G: 2})
    assert kernels(mod) == [((1, 1), M, M * t, G), ((K, K), M * t, M * t, M * t), ((1, 1), M * t, N, G)]
    e = ca.explain(mod)
    by_hand = (M * t * M / G + K**2 * t * M + t * M * N / G) / (K**2 * M * N)
    assert sympy.simplify(e.ratio.macs - by_hand) == 0
    n = ca.explain(mod, K=3, M=32, N=64, I=14).numbers
    assert n.rewritten.macs == (32 * 192 // 2 + 9 * 192 + 192 * 64 // 2) * 14 * 14


def test_factorized_depthwise_block():
    mod = ca.compose(ca.separate(), ca.factorize(), name="factorized-depthwise")
    assert kernels(mod) == [((K, 1), M, M, M), ((1, K), M, M, M), ((1, 1), M, N, 1)]
    assert ca.text(ca.explain(mod).ratio.macs) == "2/(K*N) + 1/K**2"  # (2*K*M + M*N) / (K**2*M*N)


def test_compose_infers_free_parameters():
    mod = ca.compose(ca.reduce(t), ca.group(G))
    assert list(mod.parameters) == [G, t]
    with pytest.raises(ca.InvalidValueError, match="no value for G t"):
        ca.explain(mod, K=3, M=8, N=8, I=4)
    assert ca.explain(mod, K=3, M=8, N=8, I=4, G=2, t=2).numbers.rewritten.macs == (8 * 4 + 9 * 2 * 4 + 4 * 8) * 16


def test_rules_that_find_nothing_to_rewrite_say_so():
    with pytest.raises(ca.InvalidValueError, match="finds no spatial convolution"):
        ca.chain(ca.separate("pointwise-first"), ca.factorize(on="pointwise"), ca.reduce(2, on="any"),
                 ca.group(2, on="pointwise"), ca.stack(3))(ca.Conv(M, N, (1, 1)))


def test_bad_rule_arguments():
    with pytest.raises(ca.InvalidValueError):
        ca.group(0)
    with pytest.raises(ca.InvalidValueError):
        ca.mix(2)
    with pytest.raises(ca.InvalidValueError):
        ca.separate("sideways")
    with pytest.raises(ca.InvalidValueError, match="not a stack"):
        ca.stack(3)(ca.Conv(M, N, (4, 4)))
    with pytest.raises(ca.InvalidValueError, match="depthwise needs"):
        ca.depthwise()(ca.Conv(M, N, (K, K)))


PRIMITIVES = [
    lambda: ca.group(2), lambda: ca.group(2, on="pointwise"), lambda: ca.factorize(), lambda: ca.separate(),
    lambda: ca.separate("pointwise-first"), lambda: ca.reduce(2), lambda: ca.expand(2), lambda: ca.squeeze(2),
    lambda: ca.mix(sympy.Rational(1, 2)), lambda: ca.shuffle(2), lambda: ca.depthwise(), lambda: ca.stack(3),
]


@settings(max_examples=80, deadline=None)
@given(chain=st.lists(st.sampled_from(range(len(PRIMITIVES))), min_size=1, max_size=3),
       m=st.integers(1, 2), n=st.integers(1, 2), size=st.integers(1, 4), kernel=st.sampled_from([3, 5]))
def test_random_compositions_equal_enumeration(chain, m, n, size, kernel):
    """Any chain that applies cleanly costs what running it costs, multiply-accumulate for multiply-accumulate."""
    try:
        mod = ca.compose(*(PRIMITIVES[i]() for i in chain))
        values = {K: kernel, M: 4 * m, N: 4 * n}
        block = substitute(mod.block(), values)
        ca.total(block, size)
    except ca.InvalidValueError:
        return  # e.g. depthwise on M -> N with M != N, or groups that do not divide
    rng = random.Random(0)
    counter, params = em.Counter(), []
    out = run_block(block, em.random_tensor(4 * m, size, rng), counter, params, rng)
    assert len(out) == 4 * n
    e = ca.explain(mod)
    assert e.rewritten.macs.subs({**values, I: size}) == counter.macs
    assert e.rewritten.params.subs(values) == sum(params)


@pytest.mark.parametrize("then", [ca.reduce(4), ca.expand(2), ca.squeeze(2), ca.separate(), ca.factorize()])
def test_a_rule_on_a_repeated_layer_repeats_its_whole_rewrite(then):
    """stack(3) makes (K-3)/2 repeated 3x3 layers; rewriting them rewrites every copy."""
    mod = ca.compose(ca.stack(3), then)
    e = ca.explain(mod, K=7, M=16, N=16, I=8)
    once = ca.explain(ca.compose(then), K=3, M=16, N=16, I=8).numbers.rewritten
    # the first 3x3 (M -> N) and two more copies (N -> N), each rewritten the same way; M = N here
    assert e.numbers.rewritten == (3 * once.macs, 3 * once.params)
    e5 = ca.explain(mod, K=3, M=16, N=16, I=8)  # K = k: no repeats at all
    assert e5.numbers.rewritten == once


def test_explain_refuses_a_module_with_layers_it_cannot_compare():
    from convalgebra.blocks import Series
    from convalgebra.layers import BatchNorm

    norm = ca.Rewrite("norm()", lambda c: Series(c, BatchNorm(c.out_channels)), on="any")
    with pytest.raises(ca.InvalidValueError, match="has BatchNorm layers; explain compares convolutions"):
        ca.explain(ca.compose(norm))


def test_float_arguments_are_read_as_typed_and_stay_exact():
    assert ca.text(ca.explain(ca.compose(ca.squeeze(8), ca.mix(0.25))).ratio.macs) == \
        ca.text(ca.explain(ca.compose(ca.squeeze(8), ca.mix(sympy.Rational(1, 4)))).ratio.macs)
    assert ca.explain(ca.compose(ca.reduce(2.0)), K=3, M=6, N=6, I=2).numbers.rewritten == \
        ca.explain(ca.compose(ca.reduce(2)), K=3, M=6, N=6, I=2).numbers.rewritten


@pytest.mark.parametrize("make", [lambda: ca.mix(-0.1), lambda: ca.mix(1.5), lambda: ca.group("a"),
                                  lambda: ca.group(True), lambda: ca.reduce(float("nan")), lambda: ca.compose(3),
                                  lambda: ca.expand(0.0), lambda: ca.stack(-3)])
def test_bad_rule_arguments_are_library_errors(make):
    with pytest.raises(ca.InvalidValueError):
        make()


@pytest.mark.parametrize("parameters,message", [({G: 0}, "G = 0"), ({t: 2}, "t is not a parameter"),
                                                 ({"G": 1.5}, "G = 3/2"), ({"Q": 1}, "unknown symbol 'Q'")])
def test_compose_checks_its_parameters(parameters, message):
    with pytest.raises(ca.ConvAlgebraError, match=message):
        ca.compose(ca.group(G), parameters=parameters)


def test_compose_reads_parameter_names():
    assert ca.compose(ca.group(G), parameters={"G": 4}).parameters == {G: 4}


# -- a rule's repr is the call that builds it ------------------------------------------

_NAMESPACE = {name: getattr(ca, name) for name in ca.__all__}
_SIZES = st.one_of(st.integers(1, 64), st.fractions(min_value=Fraction(1, 12), max_value=8, max_denominator=12),
                   st.sampled_from([ca.G, ca.t, ca.k, ca.N / 4, 2 * ca.t, ca.t + 1]))
_GROUPS = st.one_of(st.integers(1, 64), st.sampled_from([ca.G, ca.k, ca.N / 4, 2 * ca.t, ca.t + 1]))  # whole, or may be
_ON = st.sampled_from(["spatial", "pointwise", "any"])


@st.composite
def primitives(draw):
    """Every primitive, with arguments drawn (numbers, fractions, symbols, expressions) and
    each keyword at its default or off it."""
    which = st.sampled_from(["all", "first", "last"])
    kind = draw(st.sampled_from(["group", "stack", "factorize", "separate", "depthwise", "reduce", "expand",
                                 "squeeze", "mix", "shuffle"]))
    if kind in ("group", "shuffle"):
        return getattr(ca, kind)(draw(_GROUPS), on=draw(_ON), which=draw(which))
    if kind == "stack":
        return ca.stack(draw(st.one_of(st.integers(2, 7), st.just(ca.k))), on=draw(_ON))
    if kind == "mix":
        return ca.mix(draw(st.one_of(st.fractions(0, 1, max_denominator=12), st.just(ca.p))), on=draw(_ON))
    if kind == "separate":
        return ca.separate(draw(st.sampled_from(["depthwise-first", "pointwise-first"])), on=draw(_ON))
    if kind in ("factorize", "depthwise"):
        return getattr(ca, kind)(on=draw(_ON))
    return getattr(ca, kind)(draw(_SIZES), on=draw(_ON))


@settings(max_examples=300, deadline=None)
@given(rules=st.lists(primitives(), min_size=1, max_size=3))
def test_eval_of_a_rules_repr_builds_an_equal_rule(rules):
    for rule in rules:
        assert eval(repr(rule), dict(_NAMESPACE)) == rule, repr(rule)
    chained = ca.chain(*rules)
    assert eval(repr(chained), dict(_NAMESPACE)) == chained


def test_a_rules_repr_names_every_argument_off_its_default():
    assert repr(ca.stack(3, on="pointwise")) == "stack(3, on='pointwise')"
    assert repr(ca.group(2, which="first")) == "group(2, which='first')"
    assert repr(ca.shuffle(ca.G)) == "shuffle(G)"
    assert repr(ca.separate("pointwise-first", on="any")) == "separate(order='pointwise-first', on='any')"


# -- a rule read from text, never evaluated ---------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(rules=st.lists(primitives(), min_size=1, max_size=3))
def test_a_rule_read_from_its_repr_is_the_same_rule(rules):
    from convalgebra.rules import parse_rule

    for rule in rules:
        assert parse_rule(repr(rule)) == rule, repr(rule)
    chained = ca.chain(*rules)
    assert parse_rule(repr(chained)) == chained
    assert parse_rule(f"  {repr(chained)}\n") == chained


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "group(2).__class__", "group(*[2])", "group(**{'G': 2})",
    "[group(2)]", "group(2) + group(3)", "chain(group(2), 3)", "(lambda: group(2))()", "group(open('x'))",
    "eval('group(2)')", "group(G=len('ab'))", "group(2)(3)", "group(x)", "group(2", "",
    "chain(" * 400 + ")" * 400,
])
def test_text_that_is_not_a_rule_is_refused_without_running_it(text):
    from convalgebra.rules import parse_rule

    with pytest.raises(ca.InvalidValueError) as error:
        parse_rule(text)
    assert "\n" not in str(error.value)
