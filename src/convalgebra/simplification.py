"""Canonical closed forms: the same expression prints the same text on every run.

``simplify()`` picks whatever form its heuristics like best. The library chooses its own:
a cost or ratio is written as a sum over monomials in the tensor sizes M, N, I (and F),
each with a coefficient factored in the kernel size and the module's parameters.
That keeps every layer's share of a ratio visible, and reads as the papers write it:

>>> from convalgebra.symbols import K, M, N, I, t, k
>>> from convalgebra.printing import text
>>> text(canonical((K**2*M + M*N) / (K**2*M*N)))
'1/N + 1/K**2'
>>> canonical(1/(K**2*t) + N/(M*t**2) + N/(K**2*M*t))
1/(K**2*t) + N*(K**2 + t)/(K**2*M*t**2)
>>> canonical(k**2/K**2 + k**2*(K - k)/(K**2*(k - 1)))
k**2*(K - 1)/(K**2*(k - 1))
>>> text(canonical(k**2/K**2 + N*k**2*(K - k)/(K**2*M*(k - 1))))
'k**2/K**2 + N*k**2*(K - k)/(K**2*M*(k - 1))'

When the sizes sit in a sum below the line, as in one module's cost over another's,
the form is a single factored fraction:

>>> from convalgebra.symbols import G
>>> canonical((K**2*G + M + N) / (G*K**2 + G*M + G*N))
(G*K**2 + M + N)/(G*(K**2 + M + N))
"""

from __future__ import annotations

import sympy

from .errors import InvalidValueError
from .symbols import M, N, SIZE_SYMBOLS, expression

__all__ = ["canonical", "ratio", "equal_channels"]


def canonical(expr: sympy.Expr | int | str) -> sympy.Expr:
    """The library's canonical form of a cost or ratio (see the module's doc).

    Text is read by :func:`~convalgebra.symbols.parse_expression`, never evaluated; a
    user's own symbols are the library's by name; an expression too large to work with
    (more than 2,000 terms multiplied out) is refused.

    >>> from convalgebra.symbols import G
    >>> canonical(G / G**2), canonical("K**2*M/(K**2*M*N)")
    (1/G, 1/N)
    """
    expr = expression(expr)
    sizes = [s for s in SIZE_SYMBOLS if expr.has(s)]
    if not sizes:
        return _tidy(sympy.factor(expr))
    groups: dict[sympy.Expr, list[sympy.Expr]] = {}
    for term in sympy.Add.make_args(expr):
        coeff, monomial = term.as_independent(*sizes, as_Add=False)
        if not _is_monomial(monomial):
            break
        groups.setdefault(monomial, []).append(coeff)
    else:  # already a sum of terms, each a coefficient times a monomial in the sizes: no fraction to cancel
        return sympy.Add(*(_tidy(sympy.factor(sympy.Add(*coeffs))) * monomial for monomial, coeffs in groups.items()))
    numerator, denominator = sympy.fraction(sympy.cancel(expr))
    den_coeff, den_monomial = sympy.factor(denominator).as_independent(*sizes, as_Add=False)
    if any(base.is_Add for base, _ in (f.as_base_exp() for f in sympy.Mul.make_args(den_monomial))):
        # the sizes sit in a sum below the line: one fraction reads better than a sum of them
        return _tidy(sympy.factor(numerator)) / _tidy(sympy.factor(denominator))
    groups = {}
    for term in sympy.Add.make_args(sympy.expand(numerator)):
        coeff, monomial = term.as_independent(*sizes, as_Add=False)
        groups.setdefault(monomial, []).append(coeff)
    return sympy.Add(*(
        _tidy(sympy.factor(sympy.Add(*coeffs) / den_coeff)) * (monomial / den_monomial)
        for monomial, coeffs in groups.items()
    ))


def _is_monomial(expr: sympy.Expr) -> bool:
    """Whether ``expr`` is a product of whole powers of symbols (``I**2*N/M``, not ``N/(M + N)``).

    >>> _is_monomial(I**2*N/M), _is_monomial(N/(M + N)), _is_monomial(sympy.Integer(1))
    (True, False, True)
    """
    factors = [f.as_base_exp() for f in sympy.Mul.make_args(expr) if f is not sympy.S.One]
    return all(base.is_Symbol and exp.is_Integer for base, exp in factors)


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """Move a minus sign into a factor: ``-k**2*(k - K)`` reads better as ``k**2*(K - k)``.

    >>> from convalgebra.symbols import K, k
    >>> _tidy(-k**2*(k - K))
    k**2*(K - k)
    """
    coeff, rest = expr.as_coeff_Mul()
    if coeff >= 0:
        return expr
    factors = list(sympy.Mul.make_args(rest))
    for i, f in enumerate(factors):
        base, exp = f.as_base_exp()
        if base.is_Add and exp in (1, -1) and base.could_extract_minus_sign():
            factors[i] = (-base) ** exp
            return sympy.Mul(-coeff, *factors)
    return expr


def ratio(rewritten: sympy.Expr | int | str, baseline: sympy.Expr | int | str) -> sympy.Expr:
    """``rewritten / baseline`` in canonical form.

    >>> from convalgebra.symbols import K, M, N, I, G
    >>> ratio(K**2*M*N*I**2/G, K**2*M*N*I**2)
    1/G
    """
    below = expression(baseline, "baseline")
    if below == 0:
        raise InvalidValueError("baseline = 0: a ratio to a cost of zero has no value")
    return canonical(expression(rewritten, "rewritten") / below)


def equal_channels(expr: sympy.Expr | int | str) -> sympy.Expr:
    """The article's shorthand: ``expr`` at M = N, in canonical form.

    >>> from convalgebra.symbols import K
    >>> print(equal_channels(1/K**2 + 1/M))
    1/N + K**(-2)
    >>> equal_channels(1/K**2 + 1/M) == 1/N + 1/K**2
    True
    """
    return canonical(expression(expr).subs(M, N))
