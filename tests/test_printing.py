"""Numbers for a reader: a decimal is the exact value rounded half up, never a float's."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from convalgebra.printing import decimal, fraction_text


@given(st.fractions(min_value=Fraction(-10**30), max_value=Fraction(10**30), max_denominator=10**12))
def test_a_decimal_is_the_exact_value_rounded_half_up(value):
    shown = decimal(value)
    if value == 0:
        assert shown == "0"
        return
    places = len(shown.split(".")[1])
    unit = Fraction(1, 10**places)
    back = Fraction(shown.replace(",", ""))
    assert -unit / 2 < value - back <= unit / 2 if value > 0 else -unit / 2 <= value - back < unit / 2
    assert places >= 4
    if abs(value) < 1:  # small numbers keep four significant digits
        assert len(shown.replace(",", "").lstrip("-0.")) >= 4


def test_a_huge_ratio_agrees_with_its_fraction():
    # a float would print ...222247780352.0000 for this ratio
    assert fraction_text(Fraction(9000000000002000000000000, 9)) == (
        "1,000,000,000,000,222,222,222,222.2222 (= 9000000000002000000000000/9)")
