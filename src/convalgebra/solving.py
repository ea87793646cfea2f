"""Closed-form answers about a savings ratio: where it equals 1, what it tends to for wide
layers, when one cost is below another, and the sign of an expression over every valid size.

``explain`` shows the first two for every module; :mod:`convalgebra.design` asks them all
with values and explains them. MobileNet V2's block costs as much as the convolution it
replaces when its expansion t reaches

>>> break_even_points(1/N + t/K**2, [t])
{t: K**2 - K**2/N}

a depthwise separable convolution's savings tend to 1/K**2 as the layer widens,

>>> text(large_N_limit(1/N + 1/K**2))
'1/K**2'

and a group convolution with 2 groups is cheaper than a depthwise separable one at K = 3
while N < 18/7:

>>> cheaper_when(9*M*N/2, 9*M + M*N)
N < 18/7

**The budget.** Every answer is found by polynomial arithmetic on expressions whose size
is bounded before any step runs: a sign is read from an expression's form before sympy's
assumptions are asked; a root is written by formula (linear and quadratic factors only);
numbers given for every other symbol are kept exact and their roots isolated by exact
real-root isolation, never by factoring the numbers. sympy's general solvers (``solve``,
``roots``, ``solve_univariate_inequality``) are never called: on a 64-digit value they
factor the integer, on a cubic they build Cardano's formula. Past the budget the answer
is :data:`NO_CLOSED_FORM` (a break-even point that no formula gives), an inequality left
as it is (a condition), or a decimal (a root of a polynomial in numbers, to 15 digits).
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Optional

import sympy

from .printing import text
from .simplification import canonical
from .errors import InvalidValueError
from .symbols import SIZE_SYMBOLS, VALID, G, I, K, M, N, expanded_terms, expression, k, p, shown, symbol, t

__all__ = ["NO_CLOSED_FORM", "sign", "shortest", "break_even_points", "large_N_limit", "point_note",
           "smallest_positive_root", "roots_in_range", "within", "cheaper_when", "positive_where", "domain", "solve_order", "value_of", "whole_part"]

#: The most terms (multiplied out) of an expression that solving factors, expands or solves;
#: past it, the answer is left open. The article's modules and every two-rule composition
#: stay far below (a few dozen terms).
_WORK = 400
#: The highest total degree of a polynomial that is factored.
_FACTOR_DEGREE = 16
#: The highest degree of a polynomial in numbers whose real roots are isolated.
_ROOTS_DEGREE = 64
#: Digits of a root given as a decimal (a polynomial of degree three or more, in numbers).
_DIGITS = 15


class _NoClosedForm(sympy.Symbol):
    """The answer where no closed form was found within the budget: prints as those words."""

    def _sympystr(self, printer: Any) -> str:
        return "no closed form found"

    def _latex(self, printer: Any) -> str:
        return r"\text{no closed form found}"


#: A break-even point (or other root) that no closed form gives within the budget.
NO_CLOSED_FORM = _NoClosedForm("no_closed_form_found")


def _small(expr: sympy.Expr, most: int = _WORK) -> bool:
    """Whether ``expr`` is small enough for a step of solving (see :data:`_WORK`)."""
    return expanded_terms(expr) <= most


def _low(s: sympy.Symbol) -> Any:
    """The least valid value of ``s`` (from the table of valid values); 0 for any other symbol."""
    return VALID[s.name].low if s.name in VALID and s.is_Symbol else 0


def domain(s: sympy.Symbol) -> sympy.Interval:
    """Where ``s`` has sense, as an interval, from the table of valid values (wholeness aside).

    >>> domain(N), domain(t), domain(p), domain(k)
    (Interval(1, oo), Interval.open(0, oo), Interval(0, 1), Interval(2, 1000))
    """
    valid = VALID.get(s.name)
    if valid is None:
        return sympy.Interval.open(0, sympy.oo)
    high = sympy.oo if valid.high is None else sympy.Rational(valid.high)
    return sympy.Interval(sympy.Rational(valid.low), high, left_open=valid.low_open)


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


@functools.lru_cache(maxsize=4096)
def sign(expr: Any) -> Optional[int]:
    """+1 or -1 when ``expr`` has that sign for every valid size, else None (also past the budget).

    Whole sizes are >= 1 (k >= 2) and the parameters > 0 (the table of valid values): each
    size is written as its least value plus a positive unknown, and the sign is read from
    the form of the numerator and the denominator, as they are, multiplied out and factored.
    (sympy's assumptions would say the same, a hundred times slower.)

    >>> sign(K**2 - 1), sign(k - 1), sign(M - N), sign(-M), sign((k - 1)/(K**2 + 1 - K)), sign(k - K)
    (1, 1, None, -1, 1, None)
    """
    expr = sympy.sympify(expr, strict=True)
    form = _form_sign(expr)
    if form is not None:
        return form
    if not _small(expr):
        return None
    shift = {s: _low(s) + sympy.Dummy(positive=True) for s in expr.free_symbols if _low(s) > 0}
    shifted = expr.xreplace(shift) if shift else expr
    top, bottom = (_polynomial_sign(part) for part in sympy.fraction(sympy.together(shifted)))
    return None if top is None or bottom is None else top * bottom


def _polynomial_sign(expr: sympy.Expr) -> Optional[int]:
    """The sign :func:`_form_sign` reads from ``expr``, multiplied out, or factored."""
    form = _form_sign(expr)
    if form is not None:
        return form
    expanded = sympy.expand(expr)
    form = _form_sign(expanded)
    if form is not None or not expanded.is_Add:
        return form
    return _form_sign(sympy.factor(expanded))


def shortest(expr: Any) -> sympy.Expr:
    """The shortest to read of the canonical, factored and common-factor forms (first on a tie).

    >>> shortest(K**2*N - K**2), shortest(K**2*N/t - K**2 - M)
    (K**2*(N - 1), K**2*N/t - K**2 - M)
    """
    expr = sympy.sympify(expr, strict=True)
    if not _small(expr):
        return expr
    forms = [canonical(expr)]  # without the sizes M, N, I, F this is already the factored form
    if expr.has(*SIZE_SYMBOLS):
        forms.append(sympy.factor(expr))
    forms.append(sympy.factor_terms(sympy.together(expr)))
    return min(forms, key=lambda form: len(text(form)))


def _numerator(expr: sympy.Expr) -> Optional[sympy.Expr]:
    """The numerator of ``expr`` over a common denominator, or None past the budget."""
    if not _small(expr):
        return None
    return sympy.fraction(sympy.together(expr))[0]


def _poly(expr: sympy.Expr, x: sympy.Symbol) -> Optional[sympy.Poly]:
    """``expr`` as a polynomial in ``x`` (its coefficients expressions in the other symbols), or None."""
    try:
        return sympy.Poly(expr, x)
    except sympy.PolynomialError:
        return None


def smallest_positive_root(expr: sympy.Expr, x: sympy.Symbol) -> Optional[sympy.Expr]:
    """The smallest positive root in ``x`` of ``expr = 0``, in closed form: None when there is
    none, :data:`NO_CLOSED_FORM` when no formula gives it within the budget.

    A numerator of degree three or more is factored, and a factor whose root does not
    involve the tensor sizes (like k = K, the stack of one K x K kernel) is set aside when
    another factor remains. A linear factor is solved by formula; a quadratic one whose
    constant term has a known sign too: written with P(0) < 0, its root
    (-b + sqrt(b**2 - 4*a*c))/(2*a) = -2*c/(b + sqrt(b**2 - 4*a*c)) is the smallest positive one.
    In numbers alone (every other symbol given), the real roots are isolated exactly.

    >>> smallest_positive_root(K**2*M*t**2 - (M + N)*t - N*K**2, t)
    (M + N + sqrt(4*K**4*M*N + M**2 + 2*M*N + N**2))/(2*K**2*M)
    >>> smallest_positive_root(t**3 - 2, t), smallest_positive_root(t**3 - M*t - N, t)
    (1.25992104989487, no closed form found)
    """
    numerator = _numerator(expr)
    if numerator is None:
        return NO_CLOSED_FORM
    if numerator.free_symbols <= {x}:
        poly = _poly(numerator, x)
        if poly is None:
            return NO_CLOSED_FORM
        positive = [root for root, value, _ in _roots(poly) if value > 0]
        return positive[0] if positive else None
    poly = _poly(numerator, x)
    if poly is None:
        return NO_CLOSED_FORM
    if poly.degree() <= 2:  # nothing to set aside: skip the factoring
        polys = [poly]
    else:
        factors = _factors(numerator)
        if factors is None:
            return NO_CLOSED_FORM
        with_x = [f for f in factors if f.has(x)]
        sized = [f for f in with_x if f.free_symbols & {M, N, I}]
        polys = [sympy.Poly(f, x) for f in sized or with_x]
    if len(polys) != 1 or polys[0].degree() > 2:
        return NO_CLOSED_FORM
    coeffs = polys[0].all_coeffs()[::-1]
    c, b, a = coeffs + [sympy.Integer(0)] * (3 - len(coeffs))
    if a == 0:
        root = shortest(-c / b)
        return None if sign(root) == -1 or root.is_real is False else root
    constant = sign(c)
    if constant is None:
        return NO_CLOSED_FORM
    a, b, c = (a, b, c) if constant < 0 else (-a, -b, -c)
    root = sympy.sqrt(sympy.factor(b**2 - 4 * a * c))
    if sign(a) == 1:
        return sympy.factor_terms(sympy.factor_terms(-b) + root) / sympy.factor_terms(2 * a)
    return sympy.factor_terms(-2 * c) / sympy.factor_terms(sympy.factor_terms(b) + root)


def _factor_list(numerator: sympy.Expr) -> Optional[tuple[sympy.Expr, list[tuple[sympy.Expr, int]]]]:
    """``factor_list`` of a polynomial (its number and its irreducible factors with their
    powers), or None past the budget (degree or size)."""
    if not _small(numerator):
        return None
    gens = sorted(numerator.free_symbols, key=str)
    try:
        degree = sympy.Poly(numerator, *gens).total_degree() if gens else 0
    except sympy.PolynomialError:
        return None
    if degree > _FACTOR_DEGREE:
        return None
    coeff, powers = sympy.factor_list(numerator)
    return coeff, list(powers)


def _factors(numerator: sympy.Expr) -> Optional[list[sympy.Expr]]:
    """The irreducible factors of a polynomial, or None past the budget."""
    found = _factor_list(numerator)
    return None if found is None else [f for f, _ in found[1]]


def _real_roots(poly: sympy.Poly) -> list[sympy.Expr]:
    """The distinct real roots of a polynomial with exact numbers for coefficients, smallest
    first: exact for a linear or quadratic factor, else a decimal of 15 digits.

    >>> x = sympy.Symbol("x")
    >>> _real_roots(sympy.Poly(x**2 - 2, x)), _real_roots(sympy.Poly((x - 3)**2 * (x**3 - 2), x))
    ([-sqrt(2), sqrt(2)], [1.25992104989487, 3])
    """
    return [root for root, _, _ in _roots(poly)]


def _roots(poly: sympy.Poly) -> list[tuple[sympy.Expr, sympy.Float, int]]:
    """(root, its value, multiplicity) for each distinct real root, smallest first: the value
    is the root itself when rational, else its decimal to 60 digits past its magnitude.

    The polynomial is factored over the rationals; a factor of degree three or more has its
    real roots isolated exactly (Vincent-Akritas-Strzebonski). Neither step factors the
    coefficients, so 64-digit values cost milliseconds; roots are compared by their values
    (an irrational root never equals a rational bound, so the digits decide).
    """
    if poly.degree() < 1 or poly.degree() > _ROOTS_DEGREE:
        return []
    found = []
    for factor, power in poly.factor_list()[1]:
        found += [(root, root if root.is_Rational else value_of(root), power) for root in _factor_roots(factor)]
    return sorted(found, key=lambda item: item[1])


def _factor_roots(factor: sympy.Poly) -> list[sympy.Expr]:
    """The real roots of an irreducible polynomial: by formula up to degree 2, else isolated."""
    coeffs = factor.all_coeffs()
    if factor.degree() == 1:
        return [-coeffs[1] / coeffs[0]]
    if factor.degree() == 2:
        a, b, c = coeffs
        disc = b**2 - 4 * a * c
        if disc < 0:
            return []
        return [(-b - sympy.sqrt(disc)) / (2 * a), (-b + sympy.sqrt(disc)) / (2 * a)]
    out = []
    for (low, high), _ in factor.intervals():
        while high - low > abs(low + high) / 10**(_DIGITS + 2):  # narrow to 15 significant digits
            low, high = factor.refine_root(low, high, eps=(high - low) / 1024)
        out.append(sympy.Float((low + high) / 2, _DIGITS))
    return out


def value_of(number: Any) -> sympy.Float:
    """An exact real number (a fraction, a root with radicals) as a decimal with 60 significant
    digits past its magnitude: enough to order distinct roots and compare them with bounds.

    >>> value_of(sympy.sqrt(2)) > sympy.Rational(141421356237, 10**11), value_of(sympy.Rational(1, 3)) < 1
    (True, True)
    """
    rough = sympy.N(number, 15)
    if rough == 0:
        return sympy.Float(0)
    magnitude = abs(int(sympy.floor(sympy.log(abs(rough), 10)))) if rough.is_finite else 0
    return sympy.N(number, 60 + magnitude)


def whole_part(number: Any) -> int:
    """The largest whole number not above an exact real ``number`` (the kernels that fit).

    >>> whole_part(sympy.sqrt(469) * 512 / 13 - sympy.Rational(512, 13)), whole_part(sympy.Integer(-3))
    (813, -3)
    """
    if getattr(number, "is_Rational", False):
        return int(sympy.floor(number))
    return int(sympy.floor(value_of(number)))


def break_even_points(ratio: sympy.Expr, parameters: Iterable[sympy.Symbol]) -> dict[sympy.Symbol, sympy.Expr]:
    """Each parameter's value at which ``ratio`` (a module's MACs over the plain convolution's) is 1.

    Each one is solved with the other parameters kept as symbols. A root is reported only
    when it is real for every size and sympy cannot show it lies outside the parameter's
    valid range (k >= 2, G >= 1, t > 0, 0 <= p <= 1); otherwise a root free of the tensor
    sizes stands in when there is one (the stack's k = K, a stack of one K x K kernel),
    else none. Where no formula gives the root within the budget, the point is
    :data:`NO_CLOSED_FORM`.

    >>> break_even_points(1/N + t/K**2, [t])
    {t: K**2 - K**2/N}
    >>> break_even_points(ca.explain("vgg-stack").ratio.macs, [k])
    {k: K}

    Squeeze-and-excitation only adds: its ratio 1 + 2N/(I**2*K**2*M*r) reaches 1 at no r.

    >>> from convalgebra.symbols import r
    >>> break_even_points(1 + 2*N/(I**2*K**2*M*r), [r])
    {}
    """
    ratio = expression(ratio, "ratio")  # text read without eval; a user's symbols the library's
    try:
        wanted = [symbol(s) for s in parameters]
    except TypeError:
        raise InvalidValueError(f"parameters = {shown(parameters)}: expected the symbols to solve for") from None
    points: dict[sympy.Symbol, sympy.Expr] = {}
    for s in wanted:
        if ratio.has(s) and sympy.fraction(sympy.together(ratio - 1))[0].has(s):  # else ratio - 1 is never 0 in s
            root = smallest_positive_root(ratio - 1, s)
            if root is NO_CLOSED_FORM or root is None or not _may_break_even(root, s):
                found = _size_free_root(ratio - 1, s)
                root = found if found is not None else NO_CLOSED_FORM if root is NO_CLOSED_FORM else None
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
        if power.exp.is_Rational and not power.exp.is_integer and sign(power.base) != 1:
            return False
    valid = domain(s)
    if sign(root - valid.start) == -1:
        return False
    return not (valid.end != sympy.oo and sign(root - valid.end) == 1)


def _size_free_root(expr: sympy.Expr, x: sympy.Symbol) -> Optional[sympy.Expr]:
    """The root of a linear factor of ``expr``'s numerator free of the sizes M, N, I (k = K), or None.

    >>> _size_free_root((k - K)*(k*M - N), k)
    K
    """
    numerator = _numerator(expr)
    factors = None if numerator is None else _factors(numerator)
    for f in factors or ():
        if f.has(x) and not f.free_symbols & {M, N, I} and sympy.Poly(f, x).degree() == 1:
            c1, c0 = sympy.Poly(f, x).all_coeffs()
            return shortest(-c0 / c1)
    return None


def roots_in_range(expr: sympy.Expr, s: sympy.Symbol, top: Optional[sympy.Expr] = None) -> list[sympy.Expr]:
    """The real roots of ``expr = 0`` (a function of ``s`` alone, in numbers) in ``s``'s valid
    range, smallest first; ``top`` bounds k from above (K: a stack of kernels no larger than
    the one it replaces). Exact where a formula gives them, else decimals (see :func:`_real_roots`).

    >>> roots_in_range((k - 5)*(4*k - 5), k, top=5)
    [5]
    """
    numerator = _numerator(expr)
    poly = None if numerator is None or not numerator.free_symbols <= {s} else _poly(numerator, s)
    if poly is None:
        return []
    return [root for root, value, _ in _roots(poly) if within(value, s, top)]


def within(value: Any, s: sympy.Symbol, top: Optional[Any] = None) -> bool:
    """Whether the real number ``value`` lies where ``s`` has sense (the table of valid values,
    wholeness aside) and at most ``top`` when given; radicals are compared by their digits.

    >>> within(sympy.sqrt(2), k), within(sympy.Rational(1, 2), p), within(0, t), within(7, k, top=5)
    (False, True, False, False)
    """
    number = sympy.sympify(value, strict=True)
    if not number.is_Rational:
        if number.is_real is False or not number.is_number:
            return False
        number = value_of(number)
    valid = domain(s)
    if number < valid.start or (valid.left_open and number == valid.start):
        return False
    return bool(number <= valid.end) and (top is None or bool(number <= top))


def large_N_limit(ratio_equal_channels: sympy.Expr) -> sympy.Expr:
    """The equal-channel ratio as N grows without bound (:data:`NO_CLOSED_FORM` past the budget).

    >>> text(large_N_limit(1/N + 1/K**2)), text(large_N_limit((K**2 + 2*t)/(K**2*t**2)))
    ('1/K**2', '(K**2 + 2*t)/(K**2*t**2)')
    """
    ratio = expression(ratio_equal_channels, "ratio")
    if not ratio.has(N):  # already free of N: its own limit
        return shortest(ratio)
    if not _small(ratio):
        return NO_CLOSED_FORM
    numerator, denominator = sympy.fraction(sympy.together(ratio))
    top, bottom = _poly(numerator, N), _poly(denominator, N)
    if top is None or bottom is None:  # not a rational function of N: no closed form here
        return NO_CLOSED_FORM
    if top.degree() != bottom.degree():
        return sympy.Integer(0) if top.degree() < bottom.degree() else sympy.oo
    return shortest(top.LC() / bottom.LC())


# -- inequalities ------------------------------------------------------------------------------

#: The order in which a condition is solved for a symbol: kernels first, as a designer asks.
_SOLVE_FOR = (N, M, K, I, G, k)


def solve_order(s: sympy.Symbol) -> tuple[int, str]:
    """The key that sorts symbols in the order a condition is solved for them (N first)."""
    return (_SOLVE_FOR.index(s) if s in _SOLVE_FOR else len(_SOLVE_FOR), str(s))


def cheaper_when(a_cost: sympy.Expr, b_cost: sympy.Expr) -> sympy.Basic:
    """The condition on the symbols under which ``a_cost < b_cost`` (a sympy Boolean).

    Positive factors are cancelled; what is left is solved for one symbol when it is the
    only one (:func:`positive_where`), or appears linearly with a coefficient of known sign;
    otherwise (and past the budget) the inequality is stated, its negative terms moved to the left.

    >>> cheaper_when(K**2*M + M*N, K**2*N + M*N)
    N > M
    >>> cheaper_when(K**2*M*N/2, K**2*M + M*N)
    K**2*N < 2*K**2 + 2*N
    """
    a_cost, b_cost = sympy.sympify(a_cost, strict=True), sympy.sympify(b_cost, strict=True)
    if not (_small(a_cost) and _small(b_cost)):
        return sympy.Lt(a_cost, b_cost)
    difference = sympy.together(b_cost - a_cost)
    if difference == 0:
        return sympy.false
    numerator, denominator = sympy.fraction(difference)
    direction = sign(denominator)
    factors = None if direction is None else _factor_list(numerator)
    if direction is None or factors is None:
        return sympy.Lt(a_cost, b_cost)
    coeff, powers = factors
    direction *= 1 if coeff > 0 else -1
    rest = []
    for f, power in powers:
        s = sign(f)
        if s is None:
            rest.append(f**power)
        elif s < 0 and power % 2:
            direction = -direction
    if not rest:
        return sympy.true if direction > 0 else sympy.false
    remaining = direction * sympy.Mul(*rest)
    free = sorted(remaining.free_symbols, key=solve_order)
    if len(free) == 1:
        return positive_where(remaining, free[0])
    expanded = sympy.expand(remaining)
    for s in free:
        poly = sympy.Poly(expanded, s)
        if poly.degree() == 1:
            c1, c0 = poly.all_coeffs()
            slope = sign(c1)
            if slope is not None:
                bound = shortest(-c0 / c1)
                if sign(bound) == -1:
                    return sympy.true if slope > 0 else sympy.false
                return sympy.Gt(s, bound) if slope > 0 else sympy.Lt(s, bound)
    plus = [term for term in sympy.Add.make_args(expanded) if term.as_coeff_Mul()[0] > 0]
    minus = [-term for term in sympy.Add.make_args(expanded) if term.as_coeff_Mul()[0] < 0]
    return sympy.Lt(shortest(sympy.Add(*minus)), shortest(sympy.Add(*plus)))


def positive_where(expr: sympy.Expr, s: sympy.Symbol) -> sympy.Basic:
    """Where the polynomial ``expr`` (in ``s`` alone, with numbers for coefficients) is > 0,
    within ``s``'s valid range, as a condition on ``s``: exact when the roots that bound it
    are rational or of a quadratic, else with decimal bounds; the inequality as it is past
    the budget. The sign between roots follows from the leading coefficient and each root's
    multiplicity, so nothing is evaluated at a radical.

    >>> positive_where(18 - 7*N, N), positive_where(N**2 - 253, N), positive_where(N**3 - 2, N)
    (N < 18/7, N > sqrt(253), N > 1.25992104989487)
    >>> positive_where(2*t - t**2, t), positive_where(-N, N), positive_where((N - 3)**2, N)
    (t < 2, False, (N > 3) | (N < 3))
    """
    poly = _poly(expr, s)
    if poly is None or not expr.free_symbols <= {s} or poly.degree() > _ROOTS_DEGREE:
        return sympy.Gt(expr, 0)
    roots = _roots(poly)
    signs = [1 if poly.LC() > 0 else -1]  # in the gaps between roots, from the right: flipped at odd roots
    for _, _, power in reversed(roots):
        signs.append(-signs[-1] if power % 2 else signs[-1])
    signs.reverse()
    valid = domain(s)
    bounds: list[Optional[tuple[sympy.Expr, sympy.Expr]]] = [None, *((r, v) for r, v, _ in roots), None]
    alternatives = []
    for left, right, gap in zip(bounds, bounds[1:], signs):
        if gap < 0 or (right is not None and right[1] <= valid.start) or (left is not None and left[1] >= valid.end):
            continue  # negative here, or the gap lies outside the valid range
        parts = []
        if left is not None and left[1] > valid.start:
            parts.append(sympy.Gt(s, left[0]))
        if right is not None and right[1] < valid.end:
            parts.append(sympy.Lt(s, right[0]))
        alternatives.append(sympy.And(*parts))
    return sympy.Or(*alternatives) if alternatives else sympy.false
