"""Closed-form answers about a savings ratio: where it equals 1, what it tends to for wide
layers, and the sign of an expression over every valid size.

``explain`` shows both answers for every module; :mod:`convalgebra.design` asks them with
values and explains them. MobileNet V2's block costs as much as the convolution it
replaces when its expansion t reaches

>>> break_even_points(1/N + t/K**2, [t])
{t: K**2 - K**2/N}

and a depthwise separable convolution's savings tend to 1/K**2 as the layer widens:

>>> text(large_N_limit(1/N + 1/K**2))
'1/K**2'

Both run on every ``explain``, so they keep to polynomial arithmetic: a sign is read
from an expression's form before sympy's assumptions are asked, and ``solve`` is called
only when a numerator has no linear or quadratic factor to solve by formula.
"""

from __future__ import annotations

from typing import Any, Optional

import sympy

from .printing import text
from .simplification import canonical
from .symbols import SIZE_SYMBOLS, G, I, K, M, N, k, p, t

__all__ = ["break_even_points", "large_N_limit", "point_note"]

#: The smallest valid value of each whole-number symbol (others are only > 0).
_AT_LEAST = {K: 1, M: 1, N: 1, I: 1, G: 1, k: 2}
#: The least value of each module parameter (t > 0 strictly; p is also at most 1).
_LEAST = {G: 1, k: 2, t: 0, p: 0}


def _form_sign(expr: sympy.Expr) -> Optional[int]:
    """+1 or -1 when ``expr``'s form alone shows its sign: numbers and positive symbols
    joined by sums of like sign, products and powers of positive bases; else None.

    >>> _form_sign(K**2*M + sympy.sqrt(M + N)/t), _form_sign(-2*K**2*N), _form_sign(K - 1)
    (1, -1, None)
    """
    if expr.is_Number:
        return 1 if expr.is_positive else -1 if expr.is_negative else None  # not oo, nan or zoo
    if expr.is_Symbol:
        return 1 if expr.is_positive else None
    if expr.is_Pow:
        return 1 if _form_sign(expr.base) == 1 and expr.exp.is_Rational else None
    signs: list[Optional[int]] = [_form_sign(arg) for arg in expr.args] if expr.is_Add or expr.is_Mul else [None]
    if None in signs:
        return None
    if expr.is_Add:
        return signs[0] if len(set(signs)) == 1 else None
    return -1 if signs.count(-1) % 2 else 1


def _sign(expr: Any) -> Optional[int]:
    """+1 or -1 when ``expr`` has that sign for every valid size, else None.

    Whole sizes are >= 1 (k >= 2) and the parameters > 0; the test writes each size as its
    least value plus a positive unknown and asks sympy's assumptions.

    >>> _sign(K**2 - 1), _sign(k - 1), _sign(M - N)
    (1, 1, None)
    """
    expr = sympy.sympify(expr)
    form = _form_sign(expr)
    if form is not None:
        return form
    if expr.is_positive or expr.is_negative:  # every symbol is positive: often enough
        return 1 if expr.is_positive else -1
    shifted = expr.subs({s: low + sympy.Dummy(positive=True) for s, low in _AT_LEAST.items() if expr.has(s)})
    for form in (shifted, sympy.expand(shifted), sympy.factor(shifted)):
        if form.is_positive:
            return 1
        if form.is_negative:
            return -1
    return None


def _shortest(expr: Any) -> sympy.Expr:
    """The shortest to read of the canonical, factored and common-factor forms (first on a tie).

    >>> _shortest(K**2*N - K**2), _shortest(K**2*N/t - K**2 - M)
    (K**2*(N - 1), K**2*N/t - K**2 - M)
    """
    expr = sympy.sympify(expr)
    forms = [canonical(expr)]  # without the sizes M, N, I, F this is already the factored form
    if expr.has(*SIZE_SYMBOLS):
        forms.append(sympy.factor(expr))
    forms.append(sympy.factor_terms(sympy.together(expr)))
    return min(forms, key=lambda form: len(text(form)))


def _smallest_positive_root(expr: sympy.Expr, x: sympy.Symbol) -> Optional[sympy.Expr]:
    """The smallest positive root in ``x`` of ``expr = 0``, in closed form (None when none is found).

    A numerator of degree three or more is factored, and a factor whose root does not
    involve the tensor sizes (like k = K, the stack of one K x K kernel) is set aside when
    another factor remains. A linear or quadratic factor is solved by formula: written with P(0) < 0, its root
    (-b + sqrt(b**2 - 4*a*c))/(2*a) = -2*c/(b + sqrt(b**2 - 4*a*c)) is the smallest positive one.

    >>> _smallest_positive_root(K**2*M*t**2 - (M + N)*t - N*K**2, t)
    (M + N + sqrt(4*K**4*M*N + M**2 + 2*M*N + N**2))/(2*K**2*M)
    """
    numerator = sympy.fraction(sympy.together(expr))[0]
    poly = sympy.Poly(numerator, x)
    if poly.degree() <= 2:  # nothing to set aside: skip the factoring
        polys = [poly]
    else:
        factors = [f for f, _ in sympy.factor_list(numerator)[1] if f.has(x)]
        sized = [f for f in factors if f.free_symbols & {M, N, I}]
        polys = [sympy.Poly(f, x) for f in sized or factors]
    if len(polys) == 1 and polys[0].degree() <= 2:
        coeffs = polys[0].all_coeffs()[::-1]
        c, b, a = coeffs + [sympy.Integer(0)] * (3 - len(coeffs))
        sign = _sign(c)
        if sign is not None:
            a, b, c = (a, b, c) if sign < 0 else (-a, -b, -c)
            if a == 0:
                return _shortest(-c / b)
            root = sympy.sqrt(sympy.factor(b**2 - 4 * a * c))
            if _sign(a) == 1:
                return sympy.factor_terms(sympy.factor_terms(-b) + root) / sympy.factor_terms(2 * a)
            return sympy.factor_terms(-2 * c) / sympy.factor_terms(sympy.factor_terms(b) + root)
    roots = [r for r in sympy.solve(numerator, x) if _sign(r) != -1 and r.is_real is not False]
    return _shortest(roots[0]) if roots else None


def break_even_points(ratio: sympy.Expr, parameters: Any) -> dict[sympy.Symbol, sympy.Expr]:
    """Each parameter's value at which ``ratio`` (a module's MACs over the plain convolution's) is 1.

    Each one is solved with the other parameters kept as symbols. A root is reported only
    when it is real for every size and sympy cannot show it lies outside the parameter's
    valid range (k >= 2, G >= 1, t > 0, 0 <= p <= 1); otherwise a root free of the tensor
    sizes stands in when there is one (the stack's k = K, a stack of one K x K kernel),
    else none.

    >>> break_even_points(1/N + t/K**2, [t])
    {t: K**2 - K**2/N}
    >>> break_even_points(ca.explain("vgg-stack").ratio.macs, [k])
    {k: K}
    """
    points: dict[sympy.Symbol, sympy.Expr] = {}
    for s in parameters:
        if sympy.sympify(ratio).has(s):
            root = _smallest_positive_root(ratio - 1, s)
            if root is None or not _may_break_even(root, s):
                root = _size_free_root(ratio - 1, s)
            if root is not None:
                points[s] = root
    return points


def point_note(s: sympy.Symbol, value: sympy.Expr) -> str:
    """What a break-even point means when it is no design at all ('' otherwise).

    >>> point_note(k, K), point_note(t, K)
    ('a stack of one K x K kernel: the standard convolution itself', '')
    """
    return "a stack of one K x K kernel: the standard convolution itself" if s == k and value == K else ""


def _may_break_even(root: sympy.Expr, s: sympy.Symbol) -> bool:
    """Whether ``root`` is real for every size and may lie in ``s``'s valid range for some.

    >>> _may_break_even(2*K/(sympy.sqrt(K**2 - 4*N) + K - 1), k), _may_break_even((M + N)/(K**2*M), G)
    (False, True)
    """
    for power in root.atoms(sympy.Pow):  # a square root of what may be negative: complex at some sizes
        if power.exp.is_Rational and not power.exp.is_integer and _sign(power.base) != 1:
            return False
    if _sign(root - _LEAST.get(s, 0)) == -1:
        return False
    return not (s == p and _sign(root - 1) == 1)


def _size_free_root(expr: sympy.Expr, x: sympy.Symbol) -> Optional[sympy.Expr]:
    """The root of a linear factor of ``expr``'s numerator free of the sizes M, N, I (k = K), or None.

    >>> _size_free_root((k - K)*(k*M - N), k)
    K
    """
    numerator = sympy.fraction(sympy.together(expr))[0]
    for f, _ in sympy.factor_list(numerator)[1]:
        if f.has(x) and not f.free_symbols & {M, N, I} and sympy.Poly(f, x).degree() == 1:
            c1, c0 = sympy.Poly(f, x).all_coeffs()
            return _shortest(-c0 / c1)
    return None


def _roots_in_range(expr: sympy.Expr, s: sympy.Symbol, top: Optional[sympy.Expr] = None) -> list[sympy.Expr]:
    """The exact real roots of ``expr = 0`` (a function of ``s`` alone) in ``s``'s valid range, smallest first;
    ``top`` bounds k from above (K: a stack of kernels no larger than the one it replaces).

    >>> _roots_in_range((k - 5)*(4*k - 5), k, top=5)
    [5]
    """
    numerator = sympy.fraction(sympy.together(expr))[0]
    try:
        found = sympy.roots(sympy.Poly(numerator, s))
    except sympy.PolynomialError:
        return []
    low = _LEAST.get(s, 0)
    out = []
    for r in found:
        r = sympy.radsimp(r)
        if r.is_real and (r > low if s == t else r >= low) and (s != p or r <= 1) and (top is None or r <= top):
            out.append(r)
    return sorted(out, key=float)


def large_N_limit(ratio_equal_channels: sympy.Expr) -> sympy.Expr:
    """The equal-channel ratio as N grows without bound.

    >>> text(large_N_limit(1/N + 1/K**2)), text(large_N_limit((K**2 + 2*t)/(K**2*t**2)))
    ('1/K**2', '(K**2 + 2*t)/(K**2*t**2)')
    """
    if not ratio_equal_channels.has(N):  # already free of N: its own limit
        return _shortest(ratio_equal_channels)
    numerator, denominator = sympy.fraction(sympy.together(ratio_equal_channels))
    try:  # a rational function of N: the leading terms decide
        top, bottom = sympy.Poly(numerator, N), sympy.Poly(denominator, N)
    except sympy.PolynomialError:
        return _shortest(sympy.limit(ratio_equal_channels, N, sympy.oo))
    if top.degree() != bottom.degree():
        return sympy.Integer(0) if top.degree() < bottom.degree() else sympy.oo
    return _shortest(top.LC() / bottom.LC())
