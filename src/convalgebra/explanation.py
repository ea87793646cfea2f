"""``explain``: a module's layers, cost, savings and numbers, for a reader.

>>> e = explain("depthwise-separable", K=3, M=512, N=512, I=14)
>>> e.ratio.macs == 1/N + 1/K**2
True
>>> e.numbers.baseline, e.numbers.rewritten
(Cost(macs=462422016, params=2359296), Cost(macs=52283392, params=266752))
>>> print(e.to_text().splitlines()[0])
depthwise-separable: depthwise separable convolution (MobileNet V1)

The same object renders as Markdown, HTML and LaTeX (:mod:`convalgebra.render`) and
converts to a dict (the JSON contract):

>>> sorted(e.to_dict())  # doctest: +NORMALIZE_WHITESPACE
['baseline', 'break_even', 'layers', 'limit_large_N', 'module', 'parameters', 'ratio',
 'ratio_equal_channels', 'rewritten', 'values']

Where a module stops saving, and what its savings tend to for wide layers:

>>> explain("inverted-bottleneck").break_even
{t: K**2*N/(K**2 + M + N)}
>>> text(e.limit_large_N)
'1/K**2'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

import sympy

from .display import Result
from .errors import InvalidValueError, missing_values, wrong_type
from .blocks import drop_empty_branches, iter_layers, size_fields, substitute, whole_value
from .cost import Cost, CostRow, count, total
from .layers import Conv, Shuffle
from .modules import Module, check_used, standard
from .catalog import module, stands_for
from .printing import text
from .simplification import canonical, equal_channels
from .solving import break_even_points, large_N_limit
from .symbols import SYMBOLS, I, K, M, N, alpha, rho
from .symbols import shown as shown_value
from .values import Values, check_values, given_values

if TYPE_CHECKING:  # pragma: no cover
    from .memory import ModuleMemory

__all__ = ["Cost", "Numbers", "Explanation", "explain", "evaluate", "scale", "from_example", "check_layers",
           "example_trouble", "ordered", "values_text"]



@dataclass(frozen=True)
class Numbers:
    """Exact costs at given values: integers, and the ratio as a Fraction."""

    values: Values
    baseline: Cost
    rewritten: Cost
    layers: tuple[CostRow, ...]

    @property
    def ratio(self) -> Cost:
        return Cost(Fraction(self.rewritten.macs, self.baseline.macs),
                    Fraction(self.rewritten.params, self.baseline.params))


def evaluate(mod: Module, values: Mapping[Any, Any]) -> Numbers:
    """The module's exact integer costs at ``values`` (module parameters default).

    ``alpha`` scales the channels M and N, ``rho`` the input size I (MobileNet's
    multipliers); each scaled size must come out whole.

    >>> evaluate(module("bottleneck"), {"K": 3, "M": 256, "N": 256, "I": 56}).rewritten
    Cost(macs=218365952, params=69632)
    """
    if not isinstance(mod, Module):
        raise wrong_type(mod, "a Module (module('bottleneck'), say)")
    given = check_values(values)
    full: Values = {s: d for s, d in mod.parameters.items() if d is not None}
    full.update(given)
    scaled = scale(full)
    missing = [str(s) for s in (K, M, N, I, *mod.parameters) if s not in scaled]
    if missing:
        raise missing_values(missing)
    _check_some_convolution(mod, drop_empty_branches(mod.block(), scaled), given)
    size = scaled[I]
    base = substitute(standard(), scaled)
    block = substitute(mod.block(), scaled)
    rows = tuple(count(block, size))
    ordered = {s: full[s] for s in SYMBOLS.values() if s in full}
    return Numbers(ordered, Cost(*total(base, size)), Cost(*total(block, size)), rows)


def scale(values: Values) -> Values:
    """``values`` with MobileNet's multipliers applied: ``alpha`` scales M and N, ``rho`` scales I.

    A scaled size must be whole; the error names the multipliers that give whole sizes
    (MobileNet's rho = 0.714 is 160/224 = 5/7 rounded):

    >>> scale({M: 512, N: 512, I: 14, alpha: Fraction(3, 4), rho: Fraction(5, 7)})
    {M: 384, N: 384, I: 10, alpha: Fraction(3, 4), rho: Fraction(5, 7)}
    >>> scale({I: 14, rho: Fraction(714, 1000)})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: rho = 357/500 makes I = 14 x 357/500 = 2499/250, not whole; rho = n/14 gives whole sizes: the nearest is rho = 5/7 (I = 10)
    """
    scaled = dict(values)
    for multiplier, sizes in ((alpha, (M, N)), (rho, (I,))):
        present = [s for s in sizes if s in values]
        for size in present if multiplier in values else ():
            scaled[size] = _scaled(size, values, multiplier, present)
    return scaled


def _scaled(size: sympy.Symbol, values: Values, multiplier: sympy.Symbol, sizes: list[sympy.Symbol]) -> int:
    value, factor = values[size], values[multiplier]
    product = Fraction(value) * Fraction(factor)
    if product.denominator != 1:
        unit = math.gcd(*(int(values[s]) for s in sizes))
        nearest = Fraction(max(1, round(factor * unit)), unit)
        whole = ", ".join(f"{s} = {nearest * values[s]}" for s in sizes)
        raise InvalidValueError(f"{multiplier} = {factor} makes {size} = {value} x {factor} = {product}, not whole;"
                                f" {multiplier} = n/{unit} gives whole sizes: the nearest is {multiplier} = {nearest} ({whole})")
    return int(product)


@dataclass(frozen=True)
class Explanation(Result):
    """Everything ``explain`` derives for one module; render with ``to_text``,
    ``to_markdown``, ``to_html``, ``to_latex`` (:mod:`convalgebra.render`) or ``to_dict``."""

    __view__ = "explanation"

    module: Module
    baseline: Cost
    rewritten: Cost
    layers: tuple[CostRow, ...]
    ratio: Cost
    ratio_equal_channels: Cost
    numbers: Optional[Numbers] = None
    example: Optional[Numbers] = field(default=None, repr=False)
    #: The sizes ``numbers`` took from the module's example because none was given.
    from_example: tuple[sympy.Symbol, ...] = field(default=(), repr=False)
    #: The values given (``numbers`` holds them too, when there are numbers).
    given: Values = field(default_factory=dict, repr=False)
    #: Why there are no numbers at the values given (or at the example), or ''.
    no_numbers: str = field(default="", repr=False)
    #: How the module's name was read, when it was a network's (see :func:`stands_for`), or ''.
    read_as: str = field(default="", repr=False)

    @property
    def caveats(self) -> tuple[str, ...]:
        """What a reader must know about how the request was read: the name taken for a
        network's, and why numbers are missing (each a sentence)."""
        return tuple(note for note in (self.read_as, self.no_numbers) if note)
    #: Memory traffic before and after the rewrite (``explain(..., memory=True)``).
    memory: Optional["ModuleMemory"] = field(default=None, repr=False)

    @cached_property
    def break_even(self) -> dict[sympy.Symbol, sympy.Expr]:
        """Each module parameter's value at which the module costs as many MACs as the standard
        convolution (the others kept as symbols); see :func:`convalgebra.design.break_even`."""
        return break_even_points(self.ratio.macs, self.module.parameters)

    @cached_property
    def limit_large_N(self) -> sympy.Expr:
        """The MACs ratio with M = N as N grows without bound."""
        return large_N_limit(self.ratio_equal_channels.macs)

    def shown_numbers(self) -> tuple[Optional[Numbers], str]:
        """The numbers a reader is shown (at the values given, else at the module's example), and
        a note on where the values come from."""
        if self.numbers is not None:
            shown = ", ".join(map(str, self.from_example))
            return self.numbers, f" ({shown} from the module's example; set your own)" if shown else ""
        return self.example, " (example values; set your own)"


def explain(name_or_module: str | Module, values: Mapping[Any, Any] | None = None, *, memory: bool = False,
            dtype: str = "fp32", **named: Any) -> Explanation:
    """Explain a module: its layers, its cost before and after, and the savings ratio.

    Values may be given by keyword (``K=3``) or as a mapping of symbols or names;
    unset module parameters take their defaults in the numbers. ``memory=True`` adds the
    memory traffic before and after (:mod:`convalgebra.memory`), in bytes at ``dtype``:

    >>> m = explain("depthwise-separable", K=3, M=512, N=512, I=14, memory=True).memory
    >>> m.ratio_equal_channels
    (4*I**2 + K**2 + N)/(2*I**2 + K**2*N)
    >>> m.ratio_at, float(m.ratio_at)    # MACs fall 8.8 times, traffic 3.8 times
    (Fraction(261, 1000), 0.261)

    >>> e = explain("bottleneck")
    >>> e.ratio_equal_channels.macs
    (K**2 + 2*t)/(K**2*t**2)
    >>> explain("group", G=0)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: G = 0: expected a whole number >= 1
    """
    if not isinstance(memory, bool):
        raise InvalidValueError(f"memory = {shown_value(memory)}: expected True or False")
    mod = module(name_or_module)
    given = given_values(values, named)
    check_used(given, mod)
    filled, taken = from_example(mod, given) if given else (given, ())
    numbers, no_numbers = None, ""
    if given:
        try:
            numbers = evaluate(mod, filled)
        except InvalidValueError as error:
            no_numbers = example_trouble(error, ((mod, given),), filled, taken)
    baseline = Cost(*total(standard(), I))
    rows = tuple(count(mod.block(), I))
    others = sorted({type(r.layer).__name__ for r in rows} - _COMPARED)
    if others:
        raise InvalidValueError(
            f"module {mod.name!r} has {', '.join(others)} layers; explain compares convolutions"
            " and shuffles with the standard convolution (count a block with convalgebra.count)")
    macs = canonical(sum(r.macs for r in rows))
    macs_ratio = _termwise(macs, baseline.macs)
    macs_equal = equal_channels(macs_ratio)
    if all(_keeps_size(r) for r in rows):
        # every layer sees I x I and has no bias: params are MACs / I**2, term by term
        params, params_ratio, params_equal = _termwise(macs, I**2), macs_ratio, macs_equal
    else:
        params = canonical(sum(r.params for r in rows))
        params_ratio = _termwise(params, baseline.params)
        params_equal = equal_channels(params_ratio)
    example = None
    if not given and mod.example and all(d is not None for d in mod.parameters.values()):
        try:
            example = evaluate(mod, mod.example)
        except InvalidValueError as error:  # a composed module that does not fit the sizes it was given
            no_numbers = f"no numbers at the module's example, {values_text(ordered(check_values(mod.example)))}: {error}"
    traffic = None
    if memory:
        from .memory import module_memory

        shown = numbers if numbers is not None else example
        at = scale(dict(shown.values)) if shown is not None else None
        traffic = module_memory(mod.block(), standard(), dtype, at, None if at is None else
                                (substitute(standard(), at), substitute(mod.block(), at)))
    return Explanation(mod, baseline, Cost(macs, params), rows, Cost(macs_ratio, params_ratio),
                       Cost(macs_equal, params_equal), numbers, example, taken, given, no_numbers,
                       stands_for(name_or_module), traffic)


def from_example(mod: Module, given: Values, needed: tuple[sympy.Symbol, ...] = (K, M, N, I)
                 ) -> tuple[Values, tuple[sympy.Symbol, ...]]:
    """The values given, with each size in ``needed`` that is not given taken from the module's
    example, and the sizes so taken. Every command that is given values fills the rest this
    way; with no value set, a command answers in closed form.

    >>> from_example(module("bottleneck"), {K: 5, t: 2})
    ({K: 5, t: 2, M: 256, N: 256, I: 56}, (M, N, I))
    """
    taken = tuple(s for s in needed if s not in given and s in mod.example)
    return {**given, **{s: mod.example[s] for s in taken}}, taken


def check_layers(mod: Module, given: Values, skip: tuple[sympy.Symbol, ...] = ()) -> None:
    """Refuse values that make no real layer, as ``evaluate`` would: every layer whose sizes
    the values (and the module's defaults) fix entirely is built and checked.

    >>> check_layers(module("vgg-stack"), {K: 4})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: (K - k)/(k - 1) = 1/2 layers: expected a whole number
    >>> check_layers(module("shufflenet-v2"), {M: 64, N: 32})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: shufflenet-v2 at M = 64, N = 32: every convolution of the module has no channels left; it is no longer a convolution to compare
    """
    values: dict[sympy.Symbol, Any] = {s: d for s, d in mod.parameters.items() if d is not None}
    values.update(scale(given))
    values = {s: v for s, v in values.items() if s not in (alpha, rho, *skip)}
    kept = drop_empty_branches(mod.block(), values)
    for name, expr in size_fields(kept):
        if getattr(expr, "free_symbols", set()) <= set(values):
            whole_value(expr, values, name)
    _check_some_convolution(mod, kept, given)


def _check_some_convolution(mod: Module, kept: Any, given: Values) -> None:
    """Refuse values at which every convolution of the module has no channels (its branches all left out)."""
    if not any(isinstance(layer, Conv) for layer in iter_layers(kept)):
        raise InvalidValueError(f"{mod.name} at {values_text(ordered(given))}: every convolution of the module has no"
                                " channels left; it is no longer a convolution to compare")


def example_trouble(error: InvalidValueError, asked: Sequence[tuple[Module, Values]], filled: Values,
                    taken: tuple[sympy.Symbol, ...]) -> str:
    """Why the values, some taken from the example, give no numbers: the sentence an answer
    carries in place of its numbers. ``asked`` pairs each module with the values set for it.
    When no size came from the example, or the values set alone make no real layer, the
    values are at fault and ``error`` is raised.

    >>> example_trouble(InvalidValueError("3 groups do not divide the 256 output channels"),
    ...                 [(module("group"), {G: 3})], {G: 3, K: 5, M: 96, N: 256, I: 27}, (K, M, N, I))
    "no numbers at G = 3: 3 groups do not divide the 256 output channels (with K = 5, M = 96, N = 256, I = 27 from the module's example; set sizes that fit)"
    """
    if not taken:
        raise error
    for mod, values in asked:  # raises when the values set make no layer, whatever the example
        check_layers(mod, values)
    example = ", ".join(f"{s} = {filled[s]}" for s in taken)
    shown = {s: v for _, values in asked for s, v in values.items()}
    agree = all(values.get(s, v) == v for _, values in asked for s, v in shown.items())
    at = f" at {values_text(ordered(shown))}" if shown and agree else ""  # A and B set apart: said by each
    return f"no numbers{at}: {error} (with {example} from the module's example; set sizes that fit)"


def ordered(values: Values) -> Values:
    """The values in the order of :data:`SYMBOLS` (K M N I ...), as every answer lists them.

    >>> ordered({t: 2, K: 3})
    {K: 3, t: 2}
    """
    return {s: values[s] for s in SYMBOLS.values() if s in values}


def values_text(values: Values) -> str:
    """Values as a reader writes them, with the sizes alpha and rho scale said after them.

    >>> from fractions import Fraction
    >>> values_text({M: 512, N: 512, alpha: Fraction(3, 4)})
    'M = 512, N = 512, alpha = 3/4 (so M = 384, N = 384)'
    """
    scaled = {s: v for s, v in scale(values).items() if v != values[s]}
    so = f" (so {', '.join(f'{s} = {v}' for s, v in scaled.items())})" if scaled else ""
    return ", ".join(f"{s} = {text(v)}" for s, v in values.items()) + so


#: The layers explain compares with the standard convolution: convolutions, and the parts of the
#: later modules that route, pool, normalize or scale (they cost parameters at most).
_COMPARED = {"Conv", "Shuffle", "AdaptivePool", "Identity", "Slice", "LayerNorm", "LayerScale", "PatchMerge", "Attention",
             "LinearAttention"}


def _keeps_size(row: CostRow) -> bool:
    layer = row.layer
    return isinstance(layer, Shuffle) or (isinstance(layer, Conv) and row.output_size == row.input_size == I
                                          and not layer.bias)


def _termwise(expr: sympy.Expr, monomial: sympy.Expr) -> sympy.Expr:
    """A canonical form divided by a monomial, term by term: again canonical (tests check it)."""
    return sympy.Add(*(term / monomial for term in sympy.Add.make_args(expr)))


# -- helpers -------------------------------------------------------------------
