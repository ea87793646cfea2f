"""The article's symbols, the values each may take, and the only ways user text becomes a number or expression.

The article names the sizes of a convolution K, M, N, I and F. sympy already owns
``I`` (the imaginary unit) and ``N`` (numerical evaluation), so these are the library's
own positive Symbols, never sympy's:

>>> from convalgebra.symbols import K, M, N, I
>>> K * K * M * N * I * I
I**2*K**2*M*N
>>> I.is_positive, (I**2).is_real, I == __import__("sympy").I
(True, True, False)

Which values each symbol may take is written once, in :data:`VALID`, and every check in
the library reads it (values given to ``explain``, rule arguments, layer fields, sweeps,
plots, the domains of the solvers):

>>> VALID["G"], VALID["t"], VALID["p"], VALID["k"]
(Domain(a whole number >= 1), Domain(a number > 0), Domain(a share between 0 and 1), Domain(a whole number from 2 to 1000))
>>> VALID["G"].holds(0)
False

Text from a user is never evaluated: numbers are parsed by hand and expressions
with a fixed symbol table, and the size of what a parse builds is bounded.

>>> parse_number("0.75"), parse_number("1/2"), parse_number("512")
(Fraction(3, 4), Fraction(1, 2), 512)
>>> parse_expression("K**2*M*N*I**2") == K**2 * M * N * I**2
True

The names that need sympy (the Symbols, :data:`SYMBOLS`, :data:`DESCRIPTIONS`) are made
on first use, so a layer's fields are checked against :data:`VALID` without importing sympy.
"""

from __future__ import annotations

import ast
import functools
import math
import numbers
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Optional, Union

from .errors import InvalidValueError, UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    import sympy

    K: sympy.Symbol
    M: sympy.Symbol
    N: sympy.Symbol
    I: sympy.Symbol
    F: sympy.Symbol
    G: sympy.Symbol
    t: sympy.Symbol
    p: sympy.Symbol
    k: sympy.Symbol
    alpha: sympy.Symbol
    rho: sympy.Symbol
    H: sympy.Symbol
    W: sympy.Symbol
    r: sympy.Symbol
    s: sympy.Symbol
    B: sympy.Symbol
    SYMBOLS: dict[str, sympy.Symbol]
    DESCRIPTIONS: dict[sympy.Symbol, str]
    SIZE_SYMBOLS: tuple[sympy.Symbol, ...]
    N_PRIME: sympy.Symbol

__all__ = [
    "K", "M", "N", "I", "F", "G", "t", "p", "k", "alpha", "rho", "H", "W", "r", "s", "B",
    "N_PRIME", "NAMES", "SYMBOLS", "DESCRIPTIONS", "SIZE_SYMBOLS", "Number", "Domain", "VALID",
    "symbol", "exact", "expression", "own_symbols", "expanded_terms", "too_large", "shown", "one_of",
    "parse_number", "parse_assignment", "parse_expression",
]

Number = Union[int, Fraction]

#: The library's symbols by the names a user types, in the article's order (then H x W inputs and
#: the later modules' own, then the batch of a training step).
NAMES: tuple[str, ...] = ("K", "M", "N", "I", "F", "G", "t", "p", "k", "alpha", "rho", "H", "W", "r", "s", "B")

_WORDS: dict[str, str] = {
    "K": "kernel size (K x K)",
    "M": "input channels",
    "N": "number of kernels = output channels",
    "I": "input size (I x I)",
    "F": "output size (F x F)",
    "G": "number of groups",
    "t": "channel reduction or expansion factor",
    "p": "share of the expand kernels that are K x K",
    "k": "small kernel size of the stack",
    "alpha": "width multiplier (scales M and N)",
    "rho": "resolution multiplier (scales I)",
    "H": "input height (an H x W input; I x I is the square one)",
    "W": "input width (an H x W input)",
    "r": "squeeze-and-excitation reduction (the gate squeezes N channels to N/r)",
    "s": "Ghost ratio (N/s maps from the convolution, the rest from cheap depthwise ones)",
    "B": "batch size (images in one training step)",
}

_LAZY = frozenset(NAMES) | {"SYMBOLS", "DESCRIPTIONS", "SIZE_SYMBOLS", "N_PRIME"}


def _make() -> None:
    """Make the Symbols and the tables keyed by them (the first time one is asked for)."""
    import sympy

    made = dict(zip(NAMES, sympy.symbols(" ".join(NAMES), positive=True)))
    globals().update(made)
    globals()["SYMBOLS"] = made
    globals()["DESCRIPTIONS"] = {made[name]: words for name, words in _WORDS.items()}
    globals()["SIZE_SYMBOLS"] = tuple(made[name] for name in ("M", "N", "I", "F", "H", "W"))
    #: The number of kernels a module affords: the unknown of ``budget`` (not a symbol a user sets).
    globals()["N_PRIME"] = sympy.Symbol("N'", positive=True)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        _make()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _symbols() -> dict[str, "sympy.Symbol"]:
    if "SYMBOLS" not in globals():
        _make()
    table: dict[str, "sympy.Symbol"] = globals()["SYMBOLS"]
    return table


def symbol(name: Any) -> "sympy.Symbol":
    """The library's Symbol called ``name`` (text, or a Symbol of that name: a user's own
    ``sympy.Symbol("K")`` is the library's K).

    >>> symbol("N") is N, symbol(__import__("sympy").Symbol("N")) is N
    (True, True)
    >>> symbol("X")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown symbol 'X'; expected one of: K M N I F G t p k alpha rho H W r s B
    """
    table = _symbols()
    if isinstance(name, str):
        key = name.strip()
    elif getattr(name, "is_Symbol", False) and type(name).__name__ == "Symbol":
        key = name.name
    else:
        raise UnknownNameError(f"{shown(name)} is not a symbol; expected one of: {' '.join(NAMES)}")
    try:
        return table[key]
    except KeyError:
        raise UnknownNameError(f"unknown symbol {key!r}; expected one of: {' '.join(NAMES)}") from None


# -- the values each symbol may take ----------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """The values that have sense for a symbol or a layer's field: at least ``low``
    (more than ``low`` when ``low_open``), at most ``high`` when there is one, and a whole
    number when ``whole``; ``note`` says why, where the bound alone does not.

    >>> VALID["p"].holds(Fraction(1, 2)), VALID["p"].holds(2), VALID["t"].holds(0)
    (True, False, False)
    """

    low: Number
    high: Optional[Number] = None
    whole: bool = False
    low_open: bool = False
    note: str = ""

    def __str__(self) -> str:
        if self.whole:
            return f"a whole number >= {self.low}" if self.high is None else f"a whole number from {self.low} to {self.high}"
        if self.high is not None:
            return f"a share between {self.low} and {self.high}"
        return f"a number {'>' if self.low_open else '>='} {self.low}"

    def __repr__(self) -> str:
        return f"Domain({self})"

    def holds(self, value: Number) -> bool:
        """Whether the exact number ``value`` lies in the domain."""
        if self.whole and not (isinstance(value, int) or value.denominator == 1):
            return False
        if value < self.low or (self.low_open and value == self.low):
            return False
        return self.high is None or value <= self.high

    def outside(self, values: Any) -> Any:
        """Where the numbers ``values`` (a numpy array, say) leave the range (wholeness aside)."""
        below = values <= self.low if self.low_open else values < self.low
        return below if self.high is None else below | (values > self.high)


_WHOLE = Domain(1, whole=True)
_NONNEGATIVE_WHOLE = Domain(0, whole=True)
_POSITIVE = Domain(0, low_open=True)

#: The one table of valid values: first each symbol by name, then each field of a layer that
#: is not one of the symbols. Sizes, channels, groups and kernels are whole numbers >= 1
#: (the stack's small kernel k from 2 to 1000: past any kernel in use, the count of a stack of a
#: symbolic K x K, (K - k)/(k - 1), would be negative at every real K); t, alpha and rho are > 0; p is a share from 0 to 1;
#: a layer makes at least one channel, and a block may repeat no times.
VALID: dict[str, Domain] = {
    "K": _WHOLE, "M": _WHOLE, "N": _WHOLE, "I": _WHOLE, "F": _WHOLE, "G": _WHOLE,
    "t": _POSITIVE, "p": Domain(0, 1), "k": Domain(2, 1000, whole=True, note="a stack of 1 x 1 kernels grows no receptive field, and no"
                                                  " network has a kernel larger than 1000"),
    "alpha": _POSITIVE, "rho": _POSITIVE, "H": _WHOLE, "W": _WHOLE, "r": _POSITIVE, "s": _WHOLE, "B": _WHOLE,
    # the fields of layers
    "in_channels": _WHOLE, "out_channels": _WHOLE, "channels": _WHOLE, "out_features": _WHOLE,
    "groups": _WHOLE, "kernel": _WHOLE, "stride": _WHOLE, "dilation": _WHOLE, "padding": _NONNEGATIVE_WHOLE,
    "count": _NONNEGATIVE_WHOLE, "size": _WHOLE, "output": _WHOLE,
    "start": _NONNEGATIVE_WHOLE, "stop": _WHOLE, "output_padding": _NONNEGATIVE_WHOLE, "scale": _WHOLE,
    "heads": _WHOLE, "tokens": _NONNEGATIVE_WHOLE, "window": _WHOLE, "patch": _WHOLE,
}

#: The largest number read or checked: 64 digits, far beyond any layer, and small enough
#: that every exact computation on it stays quick.
_LONGEST = 64
_TOO_LARGE = 10**_LONGEST


def shown(value: Any) -> str:
    """A value for a message, never so long that the message stops being one line."""
    if isinstance(value, (int, Fraction)) and not isinstance(value, bool):
        if abs(value) >= _TOO_LARGE or (isinstance(value, Fraction) and value.denominator >= _TOO_LARGE):
            return "a number of more than 64 digits"
        return str(value)
    try:
        shown = repr(value) if isinstance(value, (str, bytes, float)) else str(value)
    except Exception:  # a value whose str fails: name its type
        shown = f"a {type(value).__name__}"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def exact(value: Any, label: str = "value") -> Union[Number, "sympy.Expr"]:
    """A value in the one form the library computes with: an ``int``, a ``Fraction``, or a
    sympy expression in the library's symbols.

    The rule, the same everywhere a number or an expression is taken (values for
    ``explain``, rule arguments, layer fields, input sizes, sweeps, plots):

    - integers of any kind (``int``, numpy integers, sympy's ``Integer``) are whole numbers;
    - ``Fraction`` and sympy's ``Rational`` are exact;
    - a finite float is the decimal it prints as, exactly: 0.1 is 1/10, 3.0 is 3;
    - text is read by :func:`parse_expression`, never evaluated: "3", "1/2", "0.75", "N/4";
    - a sympy expression keeps its symbols, each matched to the library's by name;
    - a truth value, a complex or irrational constant and anything else are refused,
      as is a number of more than 64 digits.

    >>> exact(0.1), exact("1/2"), exact(__import__("numpy").int64(64)), exact(3.0)
    (Fraction(1, 10), Fraction(1, 2), 64, 3)
    >>> exact(True, "G")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: G = True: expected a number, not a truth value
    """
    if type(value) is int:  # the common case, first
        number: Number = value
    elif isinstance(value, bool) or getattr(value, "is_Boolean", False) or _numpy_bool(value):
        raise InvalidValueError(f"{label} = {shown(value)}: expected a number, not a truth value")
    elif isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Rational):
        number = _normal(Fraction(int(value.numerator), int(value.denominator)))
    elif isinstance(value, float) or (isinstance(value, numbers.Real) and not hasattr(value, "free_symbols")):
        as_float = float(value)  # numpy floats print their own shortest decimal: read that
        if not math.isfinite(as_float):
            raise InvalidValueError(f"{label} = {shown(value)}: expected a finite number")
        typed = as_float if isinstance(value, float) else value
        number = _normal(Fraction(repr(float(typed)) if isinstance(value, float) else str(typed)))
    elif isinstance(value, str):
        return exact(parse_expression(value), label)
    elif hasattr(value, "free_symbols") and hasattr(value, "is_Number"):
        return _exact_sympy(value, label)
    else:
        raise InvalidValueError(f"{label} = {shown(value)}: expected a number or an expression in the library's"
                                f" symbols, not {_a(type(value).__name__)}")
    if abs(number) >= _TOO_LARGE or (isinstance(number, Fraction) and number.denominator >= _TOO_LARGE):
        raise InvalidValueError(f"{label}: a number of more than {_LONGEST} digits is too large")
    return number


def one_of(value: Any, choices: tuple[str, ...], label: str) -> str:
    """``value`` when it is one of the words ``choices``, else the library's error naming them.

    >>> one_of("max", ("max", "avg"), "kind")
    'max'
    >>> one_of(["max"], ("max", "avg"), "kind")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: kind = ['max']: expected 'max' or 'avg'
    """
    if isinstance(value, str) and value in choices:
        return value
    words = [repr(c) for c in choices]
    expected = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    raise InvalidValueError(f"{label} = {shown(value)}: expected {expected}")


def _numpy_bool(value: Any) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _normal(value: Fraction) -> Number:
    return int(value) if value.denominator == 1 else value


def _exact_sympy(value: Any, label: str) -> Union[Number, "sympy.Expr"]:
    if value.is_Rational:
        return exact(Fraction(int(value.p), int(value.q)), label)
    if value.is_Float:
        return exact(float(value), label)
    expr = own_symbols(value, label)
    if expr.is_Rational:
        return exact(expr, label)
    if not expr.free_symbols:
        raise InvalidValueError(f"{label} = {shown(expr)}: expected an exact number (an integer or a fraction)")
    return expr


#: Past these, an expression is refused rather than worked on: the terms it has when
#: multiplied out, its degree in any one symbol, and the digits of any number in it.
_MOST_TERMS = 2000
_MOST_DEGREE = 64
_MOST_DIGITS = 256


def own_symbols(expr: Any, label: str = "expression") -> "sympy.Expr":
    """``expr`` with every symbol the library's (a user's ``sympy.Symbol("K")`` becomes the
    library's K), checked to be arithmetic (sums, products, powers with rational exponents)
    on numbers and those symbols, and small enough to work with (see :func:`expanded_terms`).

    >>> import sympy
    >>> own_symbols(sympy.Symbol("K") ** 2).free_symbols == {K}
    True
    >>> own_symbols(sympy.Symbol("X") + 1)
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown symbol 'X'; expected one of: K M N I F G t p k alpha rho H W r s B
    >>> own_symbols(sympy.sin(K))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: expression = sin(K): only numbers, the symbols K M N I F G t p k alpha rho H W r s B, + - * / and powers are allowed
    """
    import sympy

    if not isinstance(expr, sympy.Expr):
        raise InvalidValueError(f"{label} = {shown(expr)}: expected a number or an expression in the library's symbols")
    vetted, unknown, why = _vetted(expr)
    if unknown:
        raise UnknownNameError(unknown)
    if why:
        raise InvalidValueError(f"{label} = {shown(expr)}: {why}")
    return vetted


@functools.lru_cache(maxsize=4096)
def _vetted(expr: "sympy.Expr") -> tuple["sympy.Expr", str, str]:
    """:func:`own_symbols`'s work, once per expression: (the expression in the library's
    symbols, why a symbol is unknown, why the expression is refused), '' where all is well."""
    import sympy

    table = {**_symbols(), "N'": globals()["N_PRIME"]}
    try:
        foreign = {s: symbol(s) for s in expr.free_symbols if table.get(getattr(s, "name", "")) is not s}
    except UnknownNameError as error:
        return expr, str(error), ""
    floats = []
    for node in sympy.preorder_traversal(expr):
        if node is sympy.I:
            return expr, "", "sympy's I is the imaginary unit; the input size is convalgebra's I (convalgebra.I)"
        if node is sympy.nan or node is sympy.zoo:
            return expr, "", "an undefined value (a division by zero?)"
        if node.is_Float:
            floats.append(node)
        elif node.is_Rational and max(abs(int(node.p)), int(node.q)) >= 10**_MOST_DIGITS:
            return expr, "", f"too large to work with (a number of more than {_MOST_DIGITS} digits)"
        elif node.is_Pow and node.exp.is_Rational:
            if abs(node.exp) > _MOST_DEGREE:
                return expr, "", f"too large to work with (a power above {_MOST_DEGREE})"
        elif not (node.is_Symbol or node.is_Number or node.is_Add or node.is_Mul or node.is_NumberSymbol):
            return expr, "", f"only numbers, the symbols {' '.join(NAMES)}, + - * / and powers are allowed"
    if foreign:
        expr = expr.xreplace(foreign)
    if floats:
        expr = expr.xreplace({f: sympy.Rational(str(float(f))) for f in floats})
    if expanded_terms(expr) > _MOST_TERMS:
        return expr, "", f"too large to work with (more than {_MOST_TERMS} terms multiplied out)"
    return expr, "", ""


def expanded_terms(expr: Any) -> int:
    """An upper bound on the number of terms of ``expr`` multiplied out (numerator and
    denominator alike): what every closed-form step is bounded by before it runs.

    >>> expanded_terms(K + M), expanded_terms((K + M) ** 3 * N), expanded_terms((K + M + N) ** 64)
    (2, 4, 2145)
    """
    if expr.is_Add:
        return sum(expanded_terms(a) for a in expr.args)
    if expr.is_Mul:
        return math.prod(expanded_terms(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer:
        n, e = expanded_terms(expr.base), abs(int(expr.exp))
        return 1 if n == 1 else math.comb(n + e - 1, min(e, n - 1))
    return 1


def too_large(expr: "sympy.Expr") -> str:
    """Why ``expr`` is too large to work with ('' when it is not): a number of more than 256
    digits, a power above 64, or more than 2,000 terms multiplied out.

    >>> too_large((K + M + N + I) ** 30), too_large(K**2 * M)
    ('more than 2000 terms multiplied out', '')
    """
    import sympy

    for number in expr.atoms(sympy.Rational):
        if max(abs(int(number.p)), int(number.q)) >= 10**_MOST_DIGITS:
            return f"a number of more than {_MOST_DIGITS} digits"
    for power in expr.atoms(sympy.Pow):
        if power.exp.is_Rational and abs(power.exp) > _MOST_DEGREE:
            return f"a power above {_MOST_DEGREE}"
    if expanded_terms(expr) > _MOST_TERMS:
        return f"more than {_MOST_TERMS} terms multiplied out"
    return ""


def expression(value: Any, label: str = "expression") -> "sympy.Expr":
    """Any value the library takes as an expression (a cost, a ratio, text), as a sympy
    expression in the library's symbols: text is read by :func:`parse_expression`, never
    evaluated; numbers follow the rule of :func:`exact`.

    >>> expression("1/N + 1/K**2") == 1/N + 1/K**2, expression(0.5)
    (True, 1/2)
    >>> expression("__import__('os').system('true')")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot read "__import__('os').system('true')" as an expression: only numbers, the symbols K M N I F G t p k alpha rho H W r s B, + - * / ** and parentheses are allowed
    """
    import sympy

    if isinstance(value, str):
        return parse_expression(value)
    if isinstance(value, sympy.Expr) and not value.is_Number:
        return own_symbols(value, label)
    number = exact(value, label)
    if isinstance(number, (int, Fraction)):
        return sympy.Rational(number.numerator, number.denominator)
    return number


# -- reading text --------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+)")
_FRACTION = re.compile(r"[+-]?\d+/\d+")


def parse_number(text: str) -> Number:
    """An integer, decimal or fraction written as text, exactly; nothing else is accepted.

    >>> parse_number("224"), parse_number("-3"), parse_number(".5"), parse_number("6/4")
    (224, -3, Fraction(1, 2), Fraction(3, 2))
    >>> parse_number("__import__('os')")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: "__import__('os')" is not a number; expected an integer, a decimal or a fraction such as 512, 0.75 or 1/2
    """
    if not isinstance(text, str):
        raise InvalidValueError(f"{shown(text)} is not text; parse_number reads a number written as text")
    text = text.strip()
    if len(text) > _LONGEST:
        raise InvalidValueError(f"a number of {len(text)} characters is too long; at most {_LONGEST} are read")
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text) or _FRACTION.fullmatch(text):
        try:
            value = Fraction(text)
        except ZeroDivisionError:
            raise InvalidValueError(f"{text!r} divides by zero") from None
        return _normal(value)
    raise InvalidValueError(
        f"{shown(text)} is not a number; expected an integer, a decimal or a fraction"
        " such as 512, 0.75 or 1/2"
    )


def parse_assignment(text: str) -> tuple["sympy.Symbol", Number]:
    """``"SYMBOL=VALUE"`` as the pair (Symbol, exact number).

    >>> parse_assignment("M=512")
    (M, 512)
    >>> parse_assignment("M512")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: 'M512' is not SYMBOL=VALUE (for example M=512)
    """
    if not isinstance(text, str):
        raise InvalidValueError(f"{shown(text)} is not text; expected SYMBOL=VALUE (for example M=512)")
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InvalidValueError(f"{shown(text)} is not SYMBOL=VALUE (for example M=512)")
    return symbol(name.strip()), parse_number(value)


#: The longest text read as an expression.
_LONGEST_EXPRESSION = 1000


def parse_expression(text: str) -> "sympy.Expr":
    """Read an arithmetic expression in the library's symbols, without ``eval``.

    Only numbers, the symbols of :data:`SYMBOLS`, ``+ - * / **`` and parentheses
    are read; anything else is refused, and so is anything too large to work with:
    text of more than 1,000 characters, a number of more than 64 digits, a power above 64,
    a result with more than 256 digits or more than 2,000 terms multiplied out.

    >>> parse_expression("1/N + 1/K**2") == 1/N + 1/K**2
    True
    >>> parse_expression("N(2)")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot read 'N(2)' as an expression: only numbers, the symbols K M N I F G t p k alpha rho H W r s B, + - * / ** and parentheses are allowed
    >>> parse_expression("((2**64)**64)**64")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot read '((2**64)**64)**64': it builds a number of more than 256 digits
    """
    if not isinstance(text, str):
        raise InvalidValueError(f"{shown(text)} is not text; parse_expression reads an expression written as text")
    if len(text) > _LONGEST_EXPRESSION:
        raise InvalidValueError(f"an expression of {len(text)} characters is too long;"
                                f" at most {_LONGEST_EXPRESSION} are read")
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _build(tree.body)
    except _TooLarge as error:
        raise InvalidValueError(f"cannot read {shown(text)}: it builds {error}") from None
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        raise InvalidValueError(
            f"cannot read {shown(text)} as an expression: only numbers, the symbols"
            f" {' '.join(NAMES)}, + - * / ** and parentheses are allowed"
        ) from None


class _TooLarge(Exception):
    """What a parse would build is too large to work with (the message says what)."""


def _build(node: ast.AST) -> "sympy.Expr":
    import sympy

    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, int) and abs(node.value) >= _TOO_LARGE:
            raise _TooLarge(f"a number of more than {_LONGEST} digits")
        value = sympy.Rational(repr(node.value)) if isinstance(node.value, float) else sympy.Integer(node.value)
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise ValueError("not a finite number")
        return _small(value)
    if isinstance(node, ast.Name) and node.id in NAMES:
        return _symbols()[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left), _build(node.right)
        if isinstance(node.op, ast.Add):
            return _small(left + right)
        if isinstance(node.op, ast.Sub):
            return _small(left - right)
        if isinstance(node.op, ast.Mult):
            return _small(_product_first(left, right))
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise ValueError("division by zero")
            return _small(_product_first(left, 1 / right))
        if isinstance(node.op, ast.Pow) and right.is_Integer and abs(int(right)) <= _MOST_DEGREE:
            if left.is_Rational and left != 0 and _digits(left) * abs(int(right)) > _MOST_DIGITS:
                raise _TooLarge(f"a number of more than {_MOST_DIGITS} digits")
            if left == 0 and right < 0:
                raise ValueError("division by zero")
            return _small(left**right)
    raise ValueError(f"unsupported syntax: {type(node).__name__}")


def _digits(number: "sympy.Rational") -> int:
    return max(len(str(abs(int(number.p)))), len(str(int(number.q))))


def _product_first(left: "sympy.Expr", right: "sympy.Expr") -> "sympy.Expr":
    """``left * right``, refusing first a product of numbers too long to write down."""
    if left.is_Rational and right.is_Rational and _digits(left) + _digits(right) > _MOST_DIGITS + 1:
        raise _TooLarge(f"a number of more than {_MOST_DIGITS} digits")
    return left * right


def _small(expr: "sympy.Expr") -> "sympy.Expr":
    """``expr`` if it is small enough to work with (see :func:`own_symbols`), else _TooLarge."""
    if expr.is_Rational:
        if _digits(expr) > _MOST_DIGITS:
            raise _TooLarge(f"a number of more than {_MOST_DIGITS} digits")
        return expr
    reason = too_large(expr)
    if reason:
        raise _TooLarge(f"an expression with {reason}" if reason.startswith("more") else reason)
    return expr
