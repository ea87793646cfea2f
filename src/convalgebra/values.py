"""Values given by a user for the symbols: checked once, then substituted exactly.

>>> from convalgebra.symbols import M, N, K, p
>>> given = check_values({"M": 512, "N": "512", K: 3, p: 0.5})
>>> given[M], given[N], given[K], given[p]
(512, 512, 3, Fraction(1, 2))
>>> check_values({"G": 0})
Traceback (most recent call last):
...
convalgebra.errors.InvalidValueError: G = 0: expected a whole number >= 1
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping

import sympy

from .errors import InvalidValueError
from .symbols import DESCRIPTIONS, F, G, I, K, M, N, Number, alpha, k, p, parse_number, rho, symbol, t

__all__ = ["check_values", "given_values", "to_number", "Values"]

Values = dict[sympy.Symbol, Number]

_WHOLE = (K, M, N, I, G, k)


def to_number(value: Any, name: str = "value") -> Number:
    """An exact number from an int, Fraction, sympy Rational, float (as typed) or text.

    >>> to_number(0.75), to_number("1/2"), to_number(3)
    (Fraction(3, 4), Fraction(1, 2), 3)
    """
    if isinstance(value, bool):
        raise InvalidValueError(f"{name} = {value!r}: expected a number, not a truth value")
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else value
    if isinstance(value, float):
        return parse_number(repr(value)) if value == value and abs(value) != float("inf") else _bad(name, value)
    if isinstance(value, str):
        return parse_number(value)
    if getattr(value, "is_Rational", False):
        return to_number(Fraction(int(value.p), int(value.q)), name)
    return _bad(name, value)


def _bad(name: str, value: Any) -> Number:
    raise InvalidValueError(f"{name} = {value!r}: expected an integer, a decimal or a fraction")


def check_values(values: Mapping[Any, Any]) -> Values:
    """Symbols (or their names) mapped to exact numbers, each checked for sense.

    Sizes, channels, groups and the small kernel are whole numbers >= 1; t, alpha and
    rho are > 0; p is a share between 0 and 1. F, the output size, follows from the
    others and is not set.

    >>> check_values({"p": 2})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: p = 2: expected a share between 0 and 1
    """
    if not isinstance(values, Mapping):
        raise InvalidValueError(f"values {values!r}: expected a mapping of symbols (or names) to numbers, such as {{'K': 3}}")
    out: Values = {}
    for key, raw in values.items():
        sym = key if isinstance(key, sympy.Symbol) else symbol(str(key))
        if sym not in DESCRIPTIONS:
            symbol(str(sym))  # raises: not one of the library's symbols
        if sym == F:
            raise InvalidValueError("F, the output size, follows from I, stride and padding; set I instead")
        value = to_number(raw, str(sym))
        if sym in _WHOLE and not (isinstance(value, int) and value >= 1):
            raise InvalidValueError(f"{sym} = {value}: expected a whole number >= 1")
        if sym == k and value < 2:
            raise InvalidValueError(f"k = {value}: a stack of 1 x 1 kernels grows no receptive field; expected k >= 2")
        if sym in (t, alpha, rho) and not value > 0:
            raise InvalidValueError(f"{sym} = {value}: expected a number > 0")
        if sym == p and not 0 <= value <= 1:
            raise InvalidValueError(f"p = {value}: expected a share between 0 and 1")
        if sym in out:
            raise InvalidValueError(f"{sym} is given twice")
        out[sym] = value
    return out


def given_values(values: Mapping[Any, Any] | None, named: Mapping[str, Any]) -> Values:
    """The values a call was given, as a mapping and as keywords, checked; a symbol may come once.

    >>> given_values({"K": 3}, {"M": 64})
    {K: 3, M: 64}
    >>> given_values({"K": 3}, {"K": 5})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: K is given twice
    """
    out = check_values(values if values is not None else {})
    for sym, value in check_values(named).items():
        if sym in out:
            raise InvalidValueError(f"{sym} is given twice")
        out[sym] = value
    return out
