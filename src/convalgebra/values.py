"""Values given by a user for the symbols: checked once, then substituted exactly.

Keys are the library's symbols or their names (a user's own ``sympy.Symbol("K")`` is the
library's K); values follow the one rule of :func:`convalgebra.symbols.exact` and are
checked against the one table of valid values, :data:`convalgebra.symbols.VALID`:

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

from typing import Any, Mapping, cast

import sympy

from .errors import InvalidValueError
from .symbols import F, Number, shown, symbol
from .validation import check

__all__ = ["check_values", "given_values", "Values"]

Values = dict[sympy.Symbol, Number]


def check_values(values: Mapping[Any, Any]) -> Values:
    """Symbols (or their names) mapped to exact numbers, each checked for sense.

    Sizes, channels, groups, the small kernel and the Ghost ratio are whole numbers >= 1 (k >= 2);
    t, r, alpha and rho are > 0; p is a share between 0 and 1 (the table
    :data:`~convalgebra.symbols.VALID`). F, the output size, follows from the others and is not set.

    >>> check_values({"p": 2})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: p = 2: expected a share between 0 and 1
    >>> check_values({__import__("sympy").Symbol("K"): 7})  # a user's own K is the library's
    {K: 7}
    """
    if not isinstance(values, Mapping):
        raise InvalidValueError(f"values {shown(values)}: expected a mapping of symbols (or names) to numbers, such as {{'K': 3}}")
    out: Values = {}
    for key, raw in values.items():
        sym = symbol(key)
        if sym == F:
            raise InvalidValueError("F, the output size, follows from I, stride and padding; set I instead")
        if sym in out:
            raise InvalidValueError(f"{sym} is given twice")
        out[sym] = cast(Number, check(sym.name, raw, symbolic=False))
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
