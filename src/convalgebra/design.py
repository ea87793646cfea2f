"""Design questions in closed form: which module is cheaper, how many kernels a budget
buys, where a module stops saving, and what its savings tend to for wide layers.

The article: the savings of each module "make room for more kernels N". How many?
A depthwise separable convolution with N' kernels costs K**2*M*I**2 + M*N'*I**2 MACs;
setting that equal to the plain convolution's K**2*M*N*I**2 and solving for N':

>>> text(budget("depthwise-separable").N)
'K**2*(N - 1)'

At which expansion t does MobileNet V2's block cost as much as the convolution it
replaces, and what do a depthwise separable convolution's savings tend to as the layer
widens (M = N, N -> oo)?

>>> text(break_even("inverted-bottleneck").points[t])
'K**2*N/(K**2 + M + N)'
>>> text(limit_large_N("depthwise-separable").macs)
'1/K**2'

Which of two modules is cheaper, and when:

>>> c = compare("depthwise-separable", "xception")
>>> text(c.ratio.macs), c.a_cheaper_when
('M*(K**2 + N)/(N*(K**2 + M))', 'N > M')

Every answer keeps its sympy expressions as attributes and renders as text, Markdown,
LaTeX and a dict (the JSON contract), like ``explain``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Mapping, Optional

import sympy

from .display import Result
from .errors import InvalidValueError, missing_values
from .explanation import (Cost, Explanation, Numbers, check_layers, evaluate, example_trouble, explain, from_example,
                          ordered, scale)
from .modules import Module, check_used
from .catalog import module, stands_for
from .printing import decimal, grouped, text
from .simplification import canonical, equal_channels
from .solving import (NO_CLOSED_FORM, break_even_points, cheaper_when, domain, large_N_limit, within,
                      roots_in_range, smallest_positive_root, value_of, whole_part)
from .symbols import N_PRIME, SYMBOLS, I, K, M, N, Number, alpha, expression, k, rho
from .values import Values, check_values, given_values

__all__ = [
    "Comparison", "Budget", "BreakEven", "LargeNLimit",
    "compare", "budget", "break_even", "limit_large_N",
    "break_even_points", "large_N_limit", "condition_text", "notes_text", "in_range", "range_text", "N_PRIME",
]



# -- algebra ---------------------------------------------------------------------


# The closed-form solving (conditions, roots, signs) is in convalgebra.solving, under its budget.


def condition_text(condition: sympy.Basic, render: Callable[[Any], str] = text) -> str:
    """A condition as a reader writes it: ``N < 18/7``, ``2 < K < 5``, ``always``, ``never``.

    >>> condition_text(sympy.And(N > 2, N < 5)), condition_text(sympy.true)
    ('2 < N < 5', 'always')
    >>> condition_text(sympy.Or(N < 2, N > 5), latex)
    'N > 5 \\\\text{ or } N < 2'
    """
    if condition is sympy.true:
        return "always"
    if condition is sympy.false:
        return "never"
    join = " or " if render is text else r" \text{ or } "
    if isinstance(condition, sympy.Or):
        return join.join(condition_text(c, render) for c in condition.args)
    if isinstance(condition, sympy.And):
        lower = [c for c in condition.args if c.rel_op in (">", ">=")]
        upper = [c for c in condition.args if c.rel_op in ("<", "<=")]
        if len(lower) == len(upper) == 1 and lower[0].lhs == upper[0].lhs:
            lo, hi = lower[0], upper[0]
            return (f"{render(lo.rhs)} {_op(lo.rel_op.replace('>', '<'), render)} {render(lo.lhs)}"
                    f" {_op(hi.rel_op, render)} {render(hi.rhs)}")
        return (" and " if render is text else r" \text{ and } ").join(condition_text(c, render) for c in condition.args)
    if isinstance(condition, sympy.core.relational.Relational):
        return f"{render(condition.lhs)} {_op(condition.rel_op, render)} {render(condition.rhs)}"
    return render(condition)


def _op(op: str, render: Callable[[Any], str]) -> str:
    return op if render is text else {"<=": r"\leq", ">=": r"\geq"}.get(op, op)


# -- values ----------------------------------------------------------------------

def _substitution(given: Values, defaults: Optional[Module] = None) -> dict[sympy.Symbol, sympy.Expr]:
    """What to put for each symbol: the module's defaults, the values given, and sizes scaled
    by alpha and rho (symbolically when the size itself is not given)."""
    out: dict[sympy.Symbol, Any] = {}
    if defaults is not None:
        out.update({s: d for s, d in defaults.parameters.items() if d is not None})
    out.update({s: v for s, v in given.items() if s not in (alpha, rho)})
    scaled = scale(given)
    for multiplier, sizes in ((alpha, (M, N)), (rho, (I,))):
        for size in sizes if multiplier in given else ():
            out[size] = scaled[size] if size in given else size * given[multiplier]
    return {s: expression(v) for s, v in out.items()}


def _missing(expr: sympy.Expr, given: Values, solved: Any = None) -> None:
    """Refuse an answer that still has symbols in it, naming them in the order of SYMBOLS (as explain does).

    >>> _missing(N*K + M, {})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: no value for K M N; set each (for example K=3 M=256 N=256)
    """
    order = list(SYMBOLS.values())
    free: set[Any] = getattr(expr, "free_symbols", set()) - {NO_CLOSED_FORM, solved}
    missing = sorted(free, key=lambda s: (order.index(s) if s in order else len(order), str(s)))
    if missing:
        raise missing_values([str(x) for x in missing])


def _sizes_of(*exprs: sympy.Expr) -> tuple[sympy.Symbol, ...]:
    """The sizes K, M, N, I that the expressions depend on: those a value is needed for."""
    free = set().union(*(getattr(x, "free_symbols", set()) for x in exprs)) - {NO_CLOSED_FORM}
    return tuple(s for s in (K, M, N, I) if s in free)


class _Caveats:
    """What every answer says about how its request was read (see ``caveats``)."""

    read_as: tuple[str, ...]
    no_numbers: str

    @property
    def caveats(self) -> tuple[str, ...]:
        """What a reader must know about how the request was read, each a sentence: a name
        taken for a network's, why values give no numbers."""
        return tuple(n for n in (*self.read_as, self.no_numbers) if n)

    @property
    def example_note(self) -> str:
        """Which sizes came from which module's example, for the line that gives the values ('' for none).

        >>> budget("bottleneck", K=3).example_note
        " (M, N from bottleneck's example; set your own)"
        """
        taken: tuple[sympy.Symbol, ...] = getattr(self, "from_example", ())
        source = getattr(self, "example_of", None) or getattr(self, "module")
        return f" ({', '.join(map(str, taken))} from {source.name}'s example; set your own)" if taken else ""

def _parameter_notes(mod: Module, given: Values) -> dict[sympy.Symbol, tuple[Optional[Number], str]]:
    """Each module parameter's value and where it comes from: 'set' or 'default'."""
    return {s: (given[s], "set") if s in given else (d, "default") for s, d in mod.parameters.items()}


def notes_text(notes: Mapping[sympy.Symbol, tuple[Optional[Number], str]], defaults_only: bool = False) -> str:
    """The module's parameters, grouped by where each value comes from; ``defaults_only``
    leaves out the values set (when the text already lists them).

    >>> notes_text({t: (2, "set"), G: (32, "default")}), notes_text({t: (4, "default"), G: (32, "default")})
    ('t = 2 as set; G = 32 by default', 't = 4, G = 32 by default')
    >>> notes_text({G: (4, "set"), t: (4, "default")}, defaults_only=True)
    't = 4 by default'
    """
    if not notes:
        return "no parameters"
    groups: dict[str, list[str]] = {}
    for s, (v, how) in notes.items():
        if v is None:
            groups.setdefault("none", []).append(f"{s} (no default)")
        elif not (defaults_only and how == "set"):
            groups.setdefault(how, []).append(f"{s} = {text(v)}")
    return "; ".join(", ".join(items) + {"set": " as set", "default": " by default", "none": ""}[how]
                     for how, items in groups.items())


def _number(value: sympy.Expr) -> str:
    """An exact number for a reader: grouped digits, or the exact form and its decimal."""
    if value.is_Integer:
        return grouped(int(value))
    return f"{text(value)} = {decimal(value)}" if value.is_real else text(value)


@functools.lru_cache(maxsize=64)
def _explained(mod: Module) -> Explanation:
    """The module's symbolic explanation, derived once per module."""
    return explain(mod)


# -- compare ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison(_Caveats, Result):
    """Module A's cost over module B's: closed forms, the condition for A to be cheaper, numbers.

    ``cost_a`` and ``cost_b`` are each module's cost with its parameters at their defaults
    (or the values set); ``condition`` is a sympy Boolean, ``a_cheaper_when`` its text.
    """

    a: Module
    b: Module
    notes_a: Mapping[sympy.Symbol, tuple[Optional[Number], str]]
    notes_b: Mapping[sympy.Symbol, tuple[Optional[Number], str]]
    cost_a: Cost
    cost_b: Cost
    ratio: Cost
    ratio_equal_channels: Cost
    condition: sympy.Basic
    condition_equal_channels: sympy.Basic
    given: Values = field(default_factory=dict)
    numbers: Optional[tuple[Numbers, Numbers]] = None
    at_ratio: Optional[Cost] = None
    at_condition: Optional[sympy.Basic] = None
    #: The sizes in ``given`` taken from A's example (B's when A has none).
    from_example: tuple[sympy.Symbol, ...] = ()
    no_numbers: str = ""
    read_as: tuple[str, ...] = ()

    __view__ = "comparison"

    @property
    def same_module(self) -> bool:
        """Whether A and B are one module (named twice, or by an alias)."""
        return self.a is self.b or self.a.name == self.b.name

    def verdict(self) -> "str | sympy.Basic":
        """Whether A costs fewer MACs than B at the values: ``'yes'``, ``'no'`` (and why), or the
        condition on the sizes left unset.

        >>> compare("group", "depthwise-separable", K=3, M=64, N=64, I=8).verdict()
        'no (B costs fewer)'
        >>> bare = Module("bare-group", group(G), {G: 2}), Module("bare-separable", separate())  # no example
        >>> compare(*bare, K=3).verdict()
        N < 18/7
        """
        if self.numbers is not None:
            a, b = (n.rewritten.macs for n in self.numbers)
            return "yes" if a < b else "no (they cost the same)" if a == b else "no (B costs fewer)"
        if self.at_condition is sympy.true:
            return "yes"
        if self.at_condition is sympy.false:
            return "no"
        return self.at_condition if self.at_condition is not None else ""

    @property
    def a_cheaper_when(self) -> str:
        """When A costs fewer MACs than B, as text."""
        return condition_text(self.condition)

    @property
    def example_of(self) -> Module:
        """The module whose example gave the sizes in ``from_example``: A's, or B's when A has none."""
        return self.a if self.a.example else self.b

    def a_cheaper_at(self, values: Mapping[Any, Any] | None = None, **named: Any) -> sympy.Basic:
        """The condition for A to cost fewer MACs than B with some sizes put in and the rest
        left as symbols, solved for one of them where it can be (no size is taken from an
        example here).

        >>> compare("group", "depthwise-separable").a_cheaper_at(K=3)
        N < 18/7
        """
        given = ordered(given_values(values, named))
        check_used(given, self.a, self.b)
        at = {s: expression(v) for s, v in scale(given).items() if s not in (alpha, rho)}
        return cheaper_when(self.cost_a.macs.subs(at), self.cost_b.macs.subs(at))

def compare(a: str | Module, b: str | Module, values: Mapping[Any, Any] | None = None, *,
            values_a: Mapping[Any, Any] | None = None, values_b: Mapping[Any, Any] | None = None,
            **named: Any) -> Comparison:
    """Module ``a``'s cost over module ``b``'s, and the condition under which ``a`` is cheaper.

    Each module's parameters take its own defaults unless set: ``values`` (and keywords)
    apply to both modules, ``values_a`` and ``values_b`` to one each, so that one module
    can be compared with itself at another ``t``. With any value set, the sizes K, M, N, I
    not set are taken from A's example, and the answer carries both modules' exact costs
    (:meth:`Comparison.a_cheaper_at` solves for the sizes left as symbols instead).

    >>> c = compare("bottleneck", "inverted-bottleneck")
    >>> text(c.ratio_equal_channels.macs)
    'N*(K**2 + 8)/(96*(K**2 + 2*N))'
    >>> condition_text(c.condition_equal_channels)
    'K**2*N < 96*K**2 + 184*N'
    >>> c = compare("group", "depthwise-separable", K=3)
    >>> c.from_example, c.at_condition
    ((M, N, I), False)
    >>> compare("inverted-bottleneck", "inverted-bottleneck", values_a={"t": 4}, values_b={"t": 6}).ratio.macs
    2/3
    """
    ma, mb = module(a), module(b)
    given = ordered(given_values(values, named))
    own = [_own_values(m, v, which) for m, v, which in ((ma, values_a, "values_a"), (mb, values_b, "values_b"))]
    check_used(given, ma, mb)
    parameters = {s: v for s, v in given.items() if s in ma.parameters or s in mb.parameters}
    pa, pb = {**parameters, **own[0]}, {**parameters, **own[1]}
    ea, eb = _explained(ma), _explained(mb)
    sa, sb = _substitution(pa, ma), _substitution(pb, mb)
    cost_a = Cost(*(canonical(x.subs(sa)) for x in ea.rewritten))
    cost_b = Cost(*(canonical(x.subs(sb)) for x in eb.rewritten))
    ratio = Cost(canonical(cost_a.macs / cost_b.macs), canonical(cost_a.params / cost_b.params))
    equal = Cost(equal_channels(ratio.macs), equal_channels(ratio.params))
    condition = cheaper_when(cost_a.macs, cost_b.macs)
    condition_equal = cheaper_when(cost_a.macs.subs(M, N), cost_b.macs.subs(M, N))
    numbers = at_ratio = at_condition = None
    with_a, with_b = {**given, **own[0]}, {**given, **own[1]}
    filled, taken = from_example(ma if ma.example else mb, given) if given or own[0] or own[1] else (given, ())
    no_numbers = ""
    sizes = {s for s in filled if s not in ma.parameters and s not in mb.parameters}
    try:
        if sizes and all(s in filled for s in (K, M, N, I)):
            na, nb = evaluate(ma, {**filled, **own[0]}), evaluate(mb, {**filled, **own[1]})
            numbers = (na, nb)
            at_ratio = Cost(Fraction(na.rewritten.macs, nb.rewritten.macs),
                            Fraction(na.rewritten.params, nb.rewritten.params))
            at_condition = sympy.true if na.rewritten.macs < nb.rewritten.macs else sympy.false
        elif sizes:  # a module without an example: the condition on the sizes not given
            check_layers(ma, {**filled, **own[0]})
            check_layers(mb, {**filled, **own[1]})
            sa, sb = _substitution({**filled, **own[0]}, ma), _substitution({**filled, **own[1]}, mb)
            ca, cb = [canonical(x.subs(sa)) for x in ea.rewritten], [canonical(x.subs(sb)) for x in eb.rewritten]
            at_ratio = Cost(canonical(ca[0] / cb[0]), canonical(ca[1] / cb[1]))
            at_condition = cheaper_when(ca[0], cb[0])
    except InvalidValueError as error:
        no_numbers = example_trouble(error, ((ma, with_a), (mb, with_b)), filled, taken)
        numbers = at_ratio = at_condition = None
    read_as = tuple(dict.fromkeys(note for note in (stands_for(a), stands_for(b)) if note))
    return Comparison(ma, mb, _parameter_notes(ma, pa), _parameter_notes(mb, pb), cost_a, cost_b, ratio, equal,
                      condition, condition_equal, ordered(filled), numbers, at_ratio, at_condition, taken,
                      no_numbers, read_as)


def _own_values(mod: Module, values: Mapping[Any, Any] | None, which: str) -> Values:
    """The values set for one module of a comparison: its own parameters only (sizes are shared).

    >>> _own_values(module("bottleneck"), {"M": 64}, "values_a")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: values_a sets M: only a module's own parameters differ between A and B (bottleneck's: t); set the sizes for both
    """
    own = ordered(check_values(values if values is not None else {}))
    stray = [str(s) for s in own if s not in mod.parameters]
    if stray:
        params = " ".join(map(str, mod.parameters)) or "none"
        raise InvalidValueError(f"{which} sets {' '.join(stray)}: only a module's own parameters differ between A and B"
                                f" ({mod.name}'s: {params}); set the sizes for both")
    return own


# -- budget ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Budget(_Caveats, Result):
    """How many kernels N' the module affords for the plain convolution's cost with N kernels.

    ``N`` is the closed form of N' (the positive root of ``rewritten = baseline``, in MACs);
    with values, ``value`` is N' there exactly, ``floor`` the whole kernels that fit, and
    ``usable`` the largest of those for which every layer of the module has whole channels.
    """

    module: Module
    N: sympy.Expr
    rewritten: sympy.Expr
    baseline: sympy.Expr
    given: Values = field(default_factory=dict)
    notes: Mapping[sympy.Symbol, tuple[Optional[Number], str]] = field(default_factory=dict)
    value: Optional[sympy.Expr] = None
    usable: Optional[int] = None
    #: The sizes in ``given`` taken from the module's example.
    from_example: tuple[sympy.Symbol, ...] = ()
    no_numbers: str = ""
    read_as: tuple[str, ...] = ()

    __view__ = "budget"

    @property
    def fits(self) -> bool:
        """Whether any kernels fit at the values: N' is real and > 0."""
        return self.value is not None and bool(self.value.is_real) and bool(value_of(self.value) > 0)

    @property
    def whole(self) -> Optional[bool]:
        """Whether N' is a whole number at the values."""
        return None if self.value is None else bool(self.value.is_Integer)

    @property
    def floor(self) -> Optional[int]:
        """The whole number of kernels within the budget at the values."""
        return whole_part(self.value) if self.fits else None

    @property
    def usable_note(self) -> Optional[str]:
        """What the reader needs to know about whole channels at the values, or None."""
        floor = self.floor
        if floor is None or self.usable == floor:
            return None
        if self.usable is not None:
            return f"the largest N' <= {grouped(floor)} that gives every layer whole channels: {grouped(self.usable)}"
        if M not in self.given:  # tried at M = 1: the groups may need more input channels
            return "whether N' gives every layer whole channels depends on M as well; set M to find out"
        low = max(1, floor - _TRIES + 1)
        span = f"N' <= {grouped(floor)}" if low == 1 else f"N' from {grouped(low)} to {grouped(floor)}"
        return f"no {span} gives every layer whole channels"

def budget(name_or_module: str | Module, values: Mapping[Any, Any] | None = None, **named: Any) -> Budget:
    """How many kernels N' the module affords for the MACs of the plain convolution with N kernels.

    The positive root of ``rewritten(N') = K**2*M*N*I**2``, exactly; module parameters
    stay symbols in the closed form and take their defaults in the numbers unless set.

    >>> text(budget("group").N), text(budget("inverted-bottleneck").N)
    ('G*N', 'K**2*N/t - K**2 - M')
    >>> b = budget("bottleneck", K=3, M=256, N=256)
    >>> b.value, b.floor, b.usable
    (-512/13 + 512*sqrt(469)/13, 813, 812)
    """
    mod = module(name_or_module)
    e = _explained(mod)
    rewritten = e.rewritten.macs.subs(N, N_PRIME)
    root = smallest_positive_root(rewritten - e.baseline.macs, N_PRIME)
    if root is None:
        raise InvalidValueError(f"{mod.name}: no number of kernels N' makes it cost as much as the standard convolution")
    given = ordered(given_values(values, named))
    check_used(given, mod)
    read_as = tuple(filter(None, (stands_for(name_or_module),)))
    if not given:
        return Budget(mod, root, rewritten, e.baseline.macs, read_as=read_as)
    filled, taken = from_example(mod, given, _sizes_of(root))
    try:
        check_layers(mod, filled, skip=(N,))  # the module's own N is N'
        value = _kernels_at(mod, root, rewritten - e.baseline.macs, filled)
    except InvalidValueError as error:
        no_numbers = example_trouble(error, ((mod, given),), filled, taken)
        return Budget(mod, root, rewritten, e.baseline.macs, no_numbers=no_numbers, read_as=read_as)
    filled = ordered(filled)
    value = sympy.radsimp(value)
    out = Budget(mod, root, rewritten, e.baseline.macs, filled, _parameter_notes(mod, filled), value,
                 from_example=taken, read_as=read_as)
    if out.floor is None:
        return out
    return replace(out, usable=_usable(mod, filled, out.floor))


def _kernels_at(mod: Module, root: sympy.Expr, equation: sympy.Expr, given: Values) -> sympy.Expr:
    """N' at the values: the closed form there, or (where no formula gives it) the smallest
    positive root of the equation in numbers, isolated exactly and given to 15 digits."""
    substitution = _substitution(given, mod)
    if root is not NO_CLOSED_FORM:
        value = root.subs(substitution)
        _missing(value, given)
        return value
    at = sympy.cancel(equation / I**2).subs(substitution)  # every layer of a module sees I x I
    _missing(at, given, solved=N_PRIME)
    value = smallest_positive_root(at, N_PRIME)
    if value is None or value is NO_CLOSED_FORM:
        raise InvalidValueError(f"{mod.name}: no number of kernels N' > 0 costs as much as the standard convolution"
                                " at these values")
    return value


#: How many N' below the floor :func:`_usable` tries.
_TRIES = 4096


def _usable(mod: Module, given: Values, most: int, tries: int = _TRIES) -> Optional[int]:
    """The largest N' <= ``most`` for which the module's layers all have whole channels."""
    sizes = {s: v for s, v in scale(given).items() if s not in (alpha, rho, N)}
    sizes.setdefault(K, 1)
    sizes.setdefault(M, 1)
    sizes.setdefault(I, 1)
    for n in range(most, max(0, most - tries), -1):
        try:
            evaluate(mod, {**sizes, N: n})
        except InvalidValueError:
            continue
        return n
    return None


# -- break-even and limits -------------------------------------------------------------------

@dataclass(frozen=True)
class BreakEven(_Caveats, Result):
    """Each module parameter's value at which the module costs as many MACs as the plain convolution.

    ``points`` maps each parameter to its closed form (the others kept as symbols); with
    values, ``values`` maps each to its exact number there (the others at their defaults
    unless set).
    """

    module: Module
    ratio: sympy.Expr
    points: Mapping[sympy.Symbol, sympy.Expr]
    given: Values = field(default_factory=dict)
    values: Mapping[sympy.Symbol, sympy.Expr] = field(default_factory=dict)
    notes: Mapping[sympy.Symbol, str] = field(default_factory=dict)
    #: The sizes in ``given`` taken from the module's example.
    from_example: tuple[sympy.Symbol, ...] = ()
    no_numbers: str = ""
    read_as: tuple[str, ...] = ()

    __view__ = "break_even"

def range_text(s: sympy.Symbol) -> str:
    """Where the parameter ``s`` has sense, in words, from the table of valid values (a
    stack's small kernel is also at most K).

    >>> range_text(p), range_text(G), range_text(k), range_text(t)
    ('0 <= p <= 1', 'G >= 1', '2 <= k <= K', 't > 0')
    """
    valid = domain(s)
    if s == k:  # at most K, which is the tighter bound (the table's 1000 is past any kernel in use)
        return f"{valid.start} <= {s} <= K"
    if valid.end != sympy.oo:
        return f"{valid.start} <= {s} <= {valid.end}"
    return f"{s} {'>' if valid.left_open else '>='} {valid.start}"


def in_range(s: sympy.Symbol, value: sympy.Expr, kernel: Optional[Number] = None) -> bool:
    """Whether a break-even ``value`` lies where the parameter ``s`` has sense (the table of
    valid values, wholeness aside: a break-even is a threshold); k also at most ``kernel``.

    >>> in_range(p, sympy.Rational(209, 32)), in_range(t, sympy.Rational(576, 137))
    (False, True)
    >>> in_range(G, sympy.Rational(48, 855)), in_range(k, sympy.Integer(7), 5)
    (False, False)
    """
    return value is not NO_CLOSED_FORM and within(value, s, kernel if s == k else None)


def break_even(name_or_module: str | Module, values: Mapping[Any, Any] | None = None, **named: Any) -> BreakEven:
    """Where each of the module's parameters makes it cost as many MACs as the plain convolution.

    >>> be = break_even("bottleneck")
    >>> text(be.points[t])
    '(M + N + sqrt(4*K**4*M*N + M**2 + 2*M*N + N**2))/(2*K**2*M)'
    >>> break_even("inverted-bottleneck", K=3, M=64, N=64).values[t]
    576/137
    >>> break_even("depthwise-separable").points
    {}
    """
    mod = module(name_or_module)
    e = _explained(mod)
    points = break_even_points(e.ratio.macs, mod.parameters)
    given = ordered(given_values(values, named))
    check_used(given, mod)
    read_as = tuple(filter(None, (stands_for(name_or_module),)))
    filled, taken = from_example(mod, given, _sizes_of(e.ratio.macs, *points.values())) if given else (given, ())
    try:
        at, notes = _break_even_at(mod, e.ratio.macs, points, filled)
    except InvalidValueError as error:
        return BreakEven(mod, e.ratio.macs, points, no_numbers=example_trouble(error, ((mod, given),), filled, taken),
                         read_as=read_as)
    return BreakEven(mod, e.ratio.macs, points, ordered(filled), at, notes, taken, read_as=read_as)


def _break_even_at(mod: Module, ratio_macs: sympy.Expr, points: Mapping[sympy.Symbol, sympy.Expr], given: Values
                   ) -> tuple[dict[sympy.Symbol, sympy.Expr], dict[sympy.Symbol, str]]:
    """Each break-even point at the values, and a note on those that need one."""
    at: dict[sympy.Symbol, sympy.Expr] = {}
    notes: dict[sympy.Symbol, str] = {}
    for s, point in points.items() if given else ():
        substitution = _substitution({v: x for v, x in given.items() if v != s}, mod)
        substitution.pop(s, None)
        ratio = ratio_macs.subs(substitution)
        _missing(ratio, given, solved=s)
        check_layers(mod, given, skip=(s,))
        # in numbers, the roots come from exact root isolation, whether or not a closed form was found
        value = sympy.radsimp(point.subs(substitution)) if point is not NO_CLOSED_FORM else None
        inside = roots_in_range(ratio - 1, s, top=substitution.get(K) if s == k else None)
        if inside:  # the smallest root where s has sense (the stack's k = 3 at K = 7, M = 36, N = 80)
            value = inside[0]
        elif value is None:  # no closed form, no root where s has sense: the smallest positive one, if any
            value = smallest_positive_root(ratio - 1, s)
        if value is not None and value is not NO_CLOSED_FORM and value.is_finite:
            at[s] = value  # not where s no longer changes the cost (fire's p at K = 1)
        if len(inside) > 1:
            notes[s] = "it breaks even also at " + " and ".join(
                f"{s} = {_number(r)}" + (", a stack of one kernel" if s == k and r == substitution.get(K) else "")
                for r in inside[1:])
        elif s == k and value is not None and value == substitution.get(K):
            smaller = "saves" if ratio.subs(k, 2) < 1 else "costs more"
            notes[s] = (f"a stack of one {value} x {value} kernel, the standard convolution itself; "
                        f"no k from 2 to {value - 1} breaks even: every stack of smaller kernels {smaller}")
    for s in points:
        if s in given:  # the others' break-evens use it; its own cannot
            aside = f"the {s} = {text(given[s])} given is set aside: {s} is what is solved for"
            notes[s] = f"{notes[s]}; {aside}" if s in notes else aside
    return at, notes


@dataclass(frozen=True)
class LargeNLimit(_Caveats, Result):
    """The module's savings ratio with M = N, as N grows without bound: ``macs`` and ``params``."""

    module: Module
    ratio_equal_channels: Cost
    macs: sympy.Expr
    params: sympy.Expr
    given: Values = field(default_factory=dict)
    value: Optional[Cost] = None
    #: The sizes in ``given`` taken from the module's example.
    from_example: tuple[sympy.Symbol, ...] = ()
    no_numbers: str = ""
    read_as: tuple[str, ...] = ()

    __view__ = "large_N_limit"

def limit_large_N(name_or_module: str | Module, values: Mapping[Any, Any] | None = None,
                  **named: Any) -> LargeNLimit:
    """The module's equal-channel savings ratio as N grows without bound.

    >>> text(limit_large_N("inverted-bottleneck").macs)
    '2*t/K**2'
    >>> limit_large_N("bottleneck", K=3).value.macs
    17/144
    """
    mod = module(name_or_module)
    e = _explained(mod)
    macs, params = large_N_limit(e.ratio_equal_channels.macs), large_N_limit(e.ratio_equal_channels.params)
    given = ordered(given_values(values, named))
    check_used(given, mod)
    read_as = tuple(filter(None, (stands_for(name_or_module),)))
    if not given:
        return LargeNLimit(mod, e.ratio_equal_channels, macs, params, read_as=read_as)
    filled, taken = from_example(mod, given, _sizes_of(macs, params))
    try:
        substitution = _substitution(filled, mod)
        value = Cost(macs.subs(substitution), params.subs(substitution))
        _missing(value.macs, filled)
        check_layers(mod, filled)
    except InvalidValueError as error:
        no_numbers = example_trouble(error, ((mod, given),), filled, taken)
        return LargeNLimit(mod, e.ratio_equal_channels, macs, params, no_numbers=no_numbers, read_as=read_as)
    return LargeNLimit(mod, e.ratio_equal_channels, macs, params, ordered(filled), value, taken, read_as=read_as)
