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
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.str import StrPrinter

__all__ = ["text", "latex", "grouped", "number_text", "number_latex", "decimal", "fraction_text", "percent", "scaled"]


@lru_cache(maxsize=None)
def _printer() -> "StrPrinter":
    """sympy's str printer, with a lone negative power written as a fraction (sympy loaded
    here, at the first expression: numbers print without it)."""
    import sympy
    from sympy.printing.precedence import PRECEDENCE
    from sympy.printing.str import StrPrinter

    class _Printer(StrPrinter):
        def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
            base, exp = expr.as_base_exp()
            if exp.is_Rational and exp.is_negative and not rational:
                if exp == -1:
                    return "1/" + self.parenthesize(base, PRECEDENCE["Pow"])
                return "1/" + self._print(sympy.Pow(base, -exp, evaluate=False))
            return super()._print_Pow(expr, rational)

    return _Printer({"order": None})


@lru_cache(maxsize=None)
def _latex_printer() -> "LatexPrinter":
    r"""sympy's LaTeX printer, with one rule for the ``\cdot`` between two numbers on every
    supported sympy: a factor that starts with a digit (or a fraction of digits) in LaTeX
    follows a number with ``\cdot``, anything else with a space. (sympy 1.12 read the
    factor's plain text instead, and wrote ``N^{2} \cdot \left(1 - p\right)``.)

    >>> import sympy
    >>> from convalgebra.symbols import N, p
    >>> latex(N**2 * (1 - p)), latex(sympy.Mul(2, sympy.Pow(3, N), evaluate=False))
    ('N^{2} \\left(1 - p\\right)', '2 \\cdot 3^{N}')
    """
    import re

    from sympy.printing.latex import LatexPrinter

    mark, number_next = "\x00", re.compile(r"(\d|\\frac{\d+}{\d+})")

    class _Latex(LatexPrinter):
        def __init__(self) -> None:
            super().__init__({"order": None})
            self._settings["mul_symbol_latex_numbers"] = mark  # sympy marks where it would write \cdot

        def doprint(self, expr: Any) -> str:
            pieces = super().doprint(expr).split(mark)
            return pieces[0] + "".join((r" \cdot " if number_next.match(piece) else " ") + piece
                                       for piece in pieces[1:])

    return _Latex()


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
    return _printer().doprint(_printable(expr))


def latex(expr: Any) -> str:
    """LaTeX of an expression, from sympy's LaTeX printer (the same on every supported sympy).

    >>> from convalgebra.symbols import K, t
    >>> latex(1/(K**2*t))
    '\\\\frac{1}{K^{2} t}'
    """
    if isinstance(expr, int) and not isinstance(expr, bool):  # numbers print without sympy
        return str(expr)
    if isinstance(expr, Fraction):
        if expr.denominator == 1:
            return str(expr.numerator)
        return ("- " if expr < 0 else "") + rf"\frac{{{abs(expr.numerator)}}}{{{expr.denominator}}}"
    return _latex_printer().doprint(_printable(expr))


def _printable(expr: Any) -> Any:
    """What the printers take: a sympy object, a number or text (shown as it is, never read)."""
    if isinstance(expr, (str, int, float, Fraction)) or hasattr(expr, "free_symbols") and hasattr(expr, "func"):
        return expr
    from .errors import InvalidValueError

    raise InvalidValueError(f"cannot print an object of type {type(expr).__name__}: expected an expression or a number")


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
    >>> import sympy
    >>> decimal(Fraction(9000000000002000000000000, 9)), decimal(sympy.sqrt(2))
    ('1,000,000,000,000,222,222,222,222.2222', '1.4142')
    """
    if isinstance(value, (int, Fraction)):
        exact = Fraction(value)
    elif getattr(value, "is_Rational", False):
        exact = Fraction(int(value.p), int(value.q))
    else:  # an irrational number: enough digits that rounding the decimal is exact in practice
        import sympy

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


def percent(share: Any) -> str:
    """A share as a percent with two decimals, rounded half up from the exact value.

    >>> percent(Fraction(1, 8)), percent(Fraction(294, 821)), percent(Fraction(1, 200000))
    ('12.50%', '35.81%', '0.00%')
    """
    exact = Fraction(share) * 100
    hundredths = (exact * 100 + Fraction(1, 2)).__floor__()
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole:,}.{part:02d}%"


def scaled(value: int, unit: str) -> str:
    """A whole number in the largest of k, M, G, T it reaches, to three decimals rounded half up
    (beyond 1000 T: times a power of ten); '' below 1000, which needs no scaling.

    >>> [scaled(n, "MACs") for n in (4089184256, 25557032, 999999500, 8145600000000000002048000, 512)]
    ['4.089 GMACs', '25.557 MMACs', '1.000 GMACs', '8.146 x 10^24 MACs', '']
    >>> scaled(1234567890123456, "params"), scaled(999_999_999_999_999, "FLOPs")
    ('1.235 x 10^15 params', '1.000 x 10^15 FLOPs')
    """
    if value < 1000:
        return ""
    exponent = len(str(value)) - 1
    exponent = exponent if exponent >= 15 else exponent // 3 * 3
    while True:
        thousandths = (Fraction(value * 1000, 10**exponent) + Fraction(1, 2)).__floor__()
        if thousandths < (10_000 if exponent >= 15 else 1_000_000):
            break
        exponent += 1 if exponent >= 15 else 3
    number = f"{thousandths // 1000:,}.{thousandths % 1000:03d}"
    if exponent >= 15:
        return f"{number} x 10^{exponent} {unit}"
    prefix = {3: "k", 6: "M", 9: "G", 12: "T"}[exponent]
    return f"{number} {prefix}{' ' if unit == 'params' else ''}{unit}"
