"""The closed-form helpers behind break-even and limits: a sign read from an expression's
form must hold at every valid size, and agree with sympy's assumptions where those decide."""

from __future__ import annotations

import random

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convalgebra.solving import _form_sign, sign as _sign
from convalgebra.symbols import G, I, K, M, N, k, p, t

SYMBOLS = [K, M, N, I, G, t, p, k]
NUMBERS = [sympy.Integer(2), sympy.Integer(-3), sympy.Rational(1, 3), sympy.Rational(-5, 2)]


@st.composite
def expressions(draw, depth=3):
    if depth == 0:
        return draw(st.sampled_from(SYMBOLS + NUMBERS))
    op = draw(st.sampled_from(["+", "-", "*", "/", "sqrt", "leaf"]))
    a = draw(expressions(depth=depth - 1))
    if op == "leaf":
        return a
    if op == "sqrt":
        return sympy.sqrt(a)
    b = draw(expressions(depth=depth - 1))
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[op]


def valid_point(rng: random.Random) -> dict:
    """Whole sizes >= 1 (k >= 2), t > 0 and 0 < p <= 1: where every module has sense."""
    point = {s: sympy.Integer(rng.randint(1, 300)) for s in (K, M, N, I, G)}
    point[k] = sympy.Integer(rng.randint(2, 9))
    point[t] = sympy.Rational(rng.randint(1, 400), rng.randint(1, 40))
    point[p] = sympy.Rational(rng.randint(1, 40), 40)
    return point


@settings(max_examples=300, deadline=None)
@given(expressions(), st.integers(0, 2**32))
def test_a_sign_read_from_the_form_holds_at_every_valid_size_tried(expr, seed):
    sign = _form_sign(expr)
    if sign is None:
        return
    rng = random.Random(seed)
    for _ in range(5):
        value = expr.xreplace(valid_point(rng))
        assert value.is_real and (value > 0 if sign == 1 else value < 0), (expr, value)


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_the_form_never_contradicts_sympys_assumptions(expr):
    sign = _form_sign(expr)
    if sign == 1:
        assert expr.is_negative is not True and _sign(expr) == 1
    elif sign == -1:
        assert expr.is_positive is not True and _sign(expr) == -1
