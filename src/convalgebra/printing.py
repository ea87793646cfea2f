"""Expressions as text and as LaTeX, the same on every run.

sympy's own ``str`` writes a lone ``K**(-2)``; the library writes ``1/K**2``, as the
papers do, and as ``parse_expr`` reads back:

>>> from convalgebra.symbols import K, N
>>> text(1/N + 1/K**2)
'1/N + 1/K**2'
>>> latex(1/N + 1/K**2)
'\\\\frac{1}{N} + \\\\frac{1}{K^{2}}'
>>> grouped(462422016)
'462,422,016'
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

__all__ = ["text", "latex", "grouped", "number_text", "number_latex", "decimal", "fraction_text"]


class _Printer(StrPrinter):
    """sympy's str printer, with a lone negative power written as a fraction."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if exp.is_Rational and exp.is_negative and not rational:
            if exp == -1:
                return "1/" + self.parenthesize(base, PRECEDENCE["Pow"])
            return "1/" + self._print(sympy.Pow(base, -exp, evaluate=False))
        return super()._print_Pow(expr, rational)


_PRINTER = _Printer({"order": None})


def text(expr: Any) -> str:
    """Plain text of an expression, number or Fraction: the form ``parse_expr`` reads back.

    >>> from convalgebra.symbols import K, M, N, I, t
    >>> text(I**2*K**2*M*N / t)
    'I**2*K**2*M*N/t'
    >>> text(Fraction(3, 4))
    '3/4'
    """
    if isinstance(expr, (int, Fraction)):
        return str(expr)
    return _PRINTER.doprint(expr)


def latex(expr: Any) -> str:
    """LaTeX of an expression, from sympy's LaTeX printer.

    >>> from convalgebra.symbols import K, t
    >>> latex(1/(K**2*t))
    '\\\\frac{1}{K^{2} t}'
    """
    if isinstance(expr, Fraction):
        expr = sympy.Rational(expr.numerator, expr.denominator)
    return sympy.latex(expr)


def grouped(n: int) -> str:
    """An integer with thousands separators, for people to read.

    >>> grouped(52283392)
    '52,283,392'
    """
    return f"{n:,}"


def number_text(value: Any) -> str:
    """An exact number: grouped digits when whole, else the fraction.

    >>> number_text(266752), number_text(Fraction(1, 2))
    ('266,752', '1/2')
    """
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return grouped(int(value))
    return text(value)


def number_latex(value: Any) -> str:
    """An exact number or expression in LaTeX, whole numbers with grouped digits.

    >>> number_latex(462422016), number_latex(Fraction(1, 9))
    ('462{,}422{,}016', '\\\\frac{1}{9}')
    """
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return grouped(int(value)).replace(",", "{,}")
    return latex(value)


def decimal(value: Any, places: int = 4) -> str:
    """An exact number as a decimal for a reader, rounded half up from the exact value:
    ``places`` decimals, more for a small number so that it keeps 4 significant digits.

    >>> decimal(Fraction(17, 144)), decimal(Fraction(1, 1000000)), decimal(Fraction(-2, 3))
    ('0.1181', '0.000001000', '-0.6667')
    >>> decimal(Fraction(9000000000002000000000000, 9)), decimal(sympy.sqrt(2))
    ('1,000,000,000,000,222,222,222,222.2222', '1.4142')
    """
    if isinstance(value, (int, Fraction)):
        exact = Fraction(value)
    elif getattr(value, "is_Rational", False):
        exact = Fraction(int(value.p), int(value.q))
    else:  # an irrational number: enough digits that rounding the decimal is exact in practice
        exact = Fraction(str(sympy.Float(value.evalf(120), 120)))
    if exact == 0:
        return "0"
    sign, exact = ("-" if exact < 0 else ""), abs(exact)
    leading = 0  # the power of ten of the first significant digit, when below 1
    while exact * 10 ** leading < 1:
        leading += 1
    digits = max(places, leading + 3)
    whole, part = divmod(int(exact * 10**digits + Fraction(1, 2)), 10**digits)
    return f"{sign}{whole:,}.{part:0{digits}d}"


def fraction_text(value: Fraction) -> str:
    """An exact ratio for a reader: a whole number as it is, else its decimal and the fraction.

    >>> fraction_text(Fraction(17, 144)), fraction_text(Fraction(3, 1))
    ('0.1181 (= 17/144)', '3')
    """
    return str(value.numerator) if value.denominator == 1 else f"{decimal(value)} (= {value})"
