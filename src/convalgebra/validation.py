"""The one check of every value in the library: a number against its symbol's domain in
:data:`~convalgebra.symbols.VALID`, and an expression refused where it can never lie in it
(which takes the solvers, so this sits above them).

>>> check("G", 0)
Traceback (most recent call last):
...
convalgebra.errors.InvalidValueError: G = 0: expected a whole number >= 1
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Optional, Union

from .errors import InvalidValueError
from .symbols import VALID, Domain, Number, exact, shown

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = ["check"]


def check(name: str, value: Any, label: Optional[str] = None, symbolic: bool = True) -> Union[Number, "sympy.Expr"]:
    """``value`` for the symbol or layer field ``name``, exact (see :func:`exact`) and checked
    against :data:`VALID`: the one check of every value in the library.

    A number must lie in the domain. An expression (when ``symbolic``) is refused when it
    cannot: when it is not real, or lies below the domain (or above it) for every valid
    value of its symbols, by sympy's assumptions and by reading its sign.

    >>> check("t", "1/2"), check("in_channels", M / 4, "input channels")
    (Fraction(1, 2), M/4)
    >>> check("k", 1)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: k = 1: a stack of 1 x 1 kernels grows no receptive field, and no network has a kernel larger than 1000; expected a whole number from 2 to 1000
    >>> check("in_channels", -M, "input channels")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: input channels = -M: expected a whole number >= 1, and -M is below 1 for every valid size
    >>> check("M", N, symbolic=False)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: M = N: expected a number
    """
    domain = VALID[name]
    label = name if label is None else label
    value = exact(value, label)
    if isinstance(value, (int, Fraction)):
        if not domain.holds(value):
            why = f"{domain.note}; " if domain.note else ""
            raise InvalidValueError(f"{label} = {shown(value)}: {why}expected {domain}")
        return value
    if not symbolic:
        raise InvalidValueError(f"{label} = {shown(value)}: expected a number")
    reason = _never_in(value, domain)
    if reason:
        raise InvalidValueError(f"{label} = {shown(value)}: expected {domain}, and {reason}")
    return value


@functools.lru_cache(maxsize=4096)
def _never_in(expr: "sympy.Expr", domain: Domain) -> str:
    """Why ``expr`` lies outside ``domain`` for every valid value of its symbols ('' when it may not)."""
    from .solving import sign  # sympy's: a number is checked without loading it

    if expr.is_real is False:
        return f"{shown(expr)} is not real"
    if domain.whole and expr.is_integer is False:
        return f"{shown(expr)} is never whole"
    if sign(expr - domain.low) == -1:
        return f"{shown(expr)} is below {domain.low} for every valid size"
    if domain.high is not None and sign(expr - domain.high) == 1:
        return f"{shown(expr)} is above {domain.high} for every valid size"
    return ""
