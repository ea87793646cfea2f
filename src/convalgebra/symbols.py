"""The article's symbols, made once, and the only ways user text becomes a number or expression.

The article names the sizes of a convolution K, M, N, I and F. sympy already owns
``I`` (the imaginary unit) and ``N`` (numerical evaluation), so these are the library's
own positive Symbols, never sympy's:

>>> from convalgebra.symbols import K, M, N, I
>>> K * K * M * N * I * I
I**2*K**2*M*N
>>> I.is_positive, (I**2).is_real, I == __import__("sympy").I
(True, True, False)

Text from a user is never evaluated: numbers are parsed by hand and expressions
with a fixed symbol table.

>>> parse_number("0.75"), parse_number("1/2"), parse_number("512")
(Fraction(3, 4), Fraction(1, 2), 512)
>>> parse_expression("K**2*M*N*I**2") == K**2 * M * N * I**2
True
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from typing import Union

import sympy

from .errors import InvalidValueError, UnknownNameError

__all__ = [
    "K", "M", "N", "I", "F", "G", "t", "p", "k", "alpha", "rho",
    "SYMBOLS", "DESCRIPTIONS", "SIZE_SYMBOLS", "Number",
    "symbol", "parse_number", "parse_assignment", "parse_expression",
]

Number = Union[int, Fraction]

K, M, N, I, F = sympy.symbols("K M N I F", positive=True)
G, t, p, k = sympy.symbols("G t p k", positive=True)
alpha, rho = sympy.symbols("alpha rho", positive=True)

#: Every symbol the library uses, by the name a user types.
SYMBOLS: dict[str, sympy.Symbol] = {
    str(s): s for s in (K, M, N, I, F, G, t, p, k, alpha, rho)
}

#: What each symbol means, in the article's words.
DESCRIPTIONS: dict[sympy.Symbol, str] = {
    K: "kernel size (K x K)",
    M: "input channels",
    N: "number of kernels = output channels",
    I: "input size (I x I)",
    F: "output size (F x F)",
    G: "number of groups",
    t: "channel reduction or expansion factor",
    p: "share of the expand kernels that are K x K",
    k: "small kernel size of the stack",
    alpha: "width multiplier (scales M and N)",
    rho: "resolution multiplier (scales I)",
}

#: The sizes of the tensors; the ratios are read as functions of these.
SIZE_SYMBOLS: tuple[sympy.Symbol, ...] = (M, N, I, F)


def symbol(name: str) -> sympy.Symbol:
    """The library's Symbol called ``name``.

    >>> symbol("N") is N
    True
    >>> symbol("X")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown symbol 'X'; expected one of: K M N I F G t p k alpha rho
    """
    try:
        return SYMBOLS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown symbol {name!r}; expected one of: {' '.join(SYMBOLS)}"
        ) from None


_INTEGER = re.compile(r"[+-]?\d+")
_LONGEST = 64  # characters of a number: far beyond any layer, well within Python's int-to-text limit
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
        return int(value) if value.denominator == 1 else value
    raise InvalidValueError(
        f"{text!r} is not a number; expected an integer, a decimal or a fraction"
        " such as 512, 0.75 or 1/2"
    )


def parse_assignment(text: str) -> tuple[sympy.Symbol, Number]:
    """``"SYMBOL=VALUE"`` as the pair (Symbol, exact number).

    >>> parse_assignment("M=512")
    (M, 512)
    >>> parse_assignment("M512")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: 'M512' is not SYMBOL=VALUE (for example M=512)
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InvalidValueError(f"{text!r} is not SYMBOL=VALUE (for example M=512)")
    return symbol(name.strip()), parse_number(value)




def parse_expression(text: str) -> sympy.Expr:
    """Read an arithmetic expression in the library's symbols, without ``eval``.

    Only numbers, the symbols of :data:`SYMBOLS`, ``+ - * / **`` and parentheses
    are read; anything else is refused.

    >>> parse_expression("1/N + 1/K**2") == 1/N + 1/K**2
    True
    >>> parse_expression("N(2)")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot read 'N(2)' as an expression: only numbers, the symbols K M N I F G t p k alpha rho, + - * / ** and parentheses are allowed
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _build(tree.body)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        raise InvalidValueError(
            f"cannot read {text!r} as an expression: only numbers, the symbols"
            f" {' '.join(SYMBOLS)}, + - * / ** and parentheses are allowed"
        ) from None


def _build(node: ast.AST) -> sympy.Expr:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return sympy.Rational(str(node.value)) if isinstance(node.value, float) else sympy.Integer(node.value)
    if isinstance(node, ast.Name) and node.id in SYMBOLS:
        return SYMBOLS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left), _build(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise ValueError("division by zero")
            return left / right
        if isinstance(node.op, ast.Pow) and right.is_Integer and abs(int(right)) <= 64:
            return left**right
    raise ValueError(f"unsupported syntax: {type(node).__name__}")
