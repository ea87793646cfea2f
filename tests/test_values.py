"""Reading numbers, assignments and expressions from user text: exact, and never evaluated."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.symbols import parse_assignment, parse_expression, parse_number
from convalgebra.values import check_values


@given(st.integers(-10**12, 10**12))
def test_integers_round_trip(n):
    assert parse_number(str(n)) == n


@given(st.fractions(max_denominator=10**6))
def test_fractions_round_trip(q):
    assert parse_number(f"{q.numerator}/{q.denominator}") == q


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-1000, max_value=1000))
def test_decimals_are_exact(d):
    text = f"{d:.4f}"
    assert parse_number(text) == Fraction(text)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "1e3", "2**10", "0x10", "nan",
                                  "inf", "1/0", "", " ", "3.", "1_000", "½", "N(2)"])
def test_anything_else_is_refused(text):
    if text == "3.":
        assert parse_number(text) == 3
        return
    with pytest.raises(ca.InvalidValueError):
        parse_number(text)


def test_assignment():
    assert parse_assignment(" K = 3 ") == (ca.K, 3)
    with pytest.raises(ca.UnknownNameError, match="unknown symbol 'Q'"):
        parse_assignment("Q=1")
    with pytest.raises(ca.InvalidValueError, match="not SYMBOL=VALUE"):
        parse_assignment("K3")


@pytest.mark.parametrize("text", ["__import__('os')", "N(2)", "K.__class__", "lambda: 1", "[K]",
                                  "K if M else N", "exp(K)", "I**K"])
def test_expressions_read_only_arithmetic_in_the_symbols(text):
    with pytest.raises(ca.InvalidValueError):
        parse_expression(text)


def test_expression_reading():
    assert parse_expression("K**2*M*N*I**2/(G*t) - 1") == ca.K**2 * ca.M * ca.N * ca.I**2 / (ca.G * ca.t) - 1
    assert parse_expression("0.5*N") == ca.N / 2


@pytest.mark.parametrize("values,message", [
    ({"G": 0}, "G = 0"), ({"t": 0}, "t = 0"), ({"t": -1}, "t = -1"), ({"p": Fraction(3, 2)}, "p = 3/2"),
    ({"p": -1}, "p = -1"), ({"M": 2.5}, "M = 5/2"), ({"k": 1}, "k = 1"), ({"F": 3}, "F, the output size"),
    ({"I": True}, "truth value"),
])
def test_values_that_make_no_sense(values, message):
    with pytest.raises(ca.InvalidValueError, match=message):
        check_values(values)
