"""Canonical forms: equal to what they rewrite, stable, idempotent, and as the papers write them."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.simplification import canonical
from convalgebra.symbols import G, I, K, M, N, k, p, t
from test_rules import PRIMITIVES

ATOMS = [K, M, N, I, G, t, p, k, sympy.Integer(2), sympy.Rational(1, 3), K - 1, k - 1, 1 - p]


@st.composite
def expressions(draw, depth=2):
    if depth == 0:
        return draw(st.sampled_from(ATOMS))
    a, b = draw(expressions(depth=depth - 1)), draw(expressions(depth=depth - 1))
    op = draw(st.sampled_from(["+", "*", "/"]))
    return a + b if op == "+" else a * b if op == "*" else a / b


@settings(max_examples=60, deadline=None)
@given(expressions())
def test_canonical_is_equal_and_idempotent(expr):
    c = canonical(expr)
    assert sympy.simplify(c - expr) == 0
    assert canonical(c) == c


@settings(max_examples=60, deadline=None)
@given(expressions(), expressions())
def test_canonical_depends_on_the_value_not_on_how_it_is_written(a, b):
    # a sum of terms and the same sum over one denominator, expanded or not: one form
    expr = a + b
    forms = {canonical(form) for form in (expr, sympy.together(expr), sympy.expand(expr))}
    assert len(forms) == 1, forms


@pytest.mark.parametrize("name,expected", [
    ("group", "1/G"),
    ("vgg-stack", "k**2/K**2 + N*k**2*(K - k)/(K**2*M*(k - 1))"),
    ("factorized", "1/K + N/(K*M)"),
    ("fire", "1/(K**2*t) + N*(K**2*p - p + 1)/(K**2*M*t)"),
    ("bottleneck", "1/(K**2*t) + N*(K**2 + t)/(K**2*M*t**2)"),
    ("resnext", "1/(K**2*t) + N*(G*t + K**2)/(G*K**2*M*t**2)"),
    ("depthwise-separable", "1/N + 1/K**2"),
    ("xception", "1/M + 1/K**2"),
    ("shufflenet", "1/(M*t) + 1/(G*K**2*t) + N/(G*K**2*M*t)"),
    ("inverted-bottleneck", "t/N + M*t/(K**2*N) + t/K**2"),
])
def test_the_ten_ratios_in_canonical_form(name, expected):
    assert ca.text(ca.explain(name).ratio.macs) == expected


@pytest.mark.parametrize("name,expected", [
    ("vgg-stack", "k**2*(K - 1)/(K**2*(k - 1))"),
    ("factorized", "2/K"),
    ("bottleneck", "(K**2 + 2*t)/(K**2*t**2)"),
    ("depthwise-separable", "1/N + 1/K**2"),
    ("xception", "1/N + 1/K**2"),
    ("inverted-bottleneck", "t/N + 2*t/K**2"),
])
def test_equal_channel_forms(name, expected):
    assert ca.text(ca.explain(name).ratio_equal_channels.macs) == expected


@pytest.mark.parametrize("name", ca.module_names())
def test_explain_divides_canonical_forms_term_by_term_without_leaving_canonical_form(name):
    """explain() divides the canonical cost by the monomial baseline term by term; that is canonical too."""
    e = ca.explain(name)
    assert e.ratio.macs == canonical(e.rewritten.macs / e.baseline.macs)
    assert e.ratio.params == canonical(e.rewritten.params / e.baseline.params)
    assert e.rewritten.params == canonical(e.rewritten.params)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(range(12)), min_size=1, max_size=3))
def test_termwise_division_stays_canonical_for_compositions(chain):
    try:
        e = ca.explain(ca.compose(*(PRIMITIVES[i]() for i in chain)))
    except ca.InvalidValueError:
        return
    assert e.ratio.macs == canonical(e.rewritten.macs / e.baseline.macs)
