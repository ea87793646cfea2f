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
from typing import TYPE_CHECKING, Any, Mapping, Optional, cast

import sympy

from .display import Result
from .errors import InvalidValueError
from .blocks import substitute
from .cost import Cost, CostRow, count, total
from .layers import Shuffle, layer_role
from .modules import Module, module, standard
from .printing import text
from .simplification import canonical, equal_channels
from .solving import break_even_points, large_N_limit
from .symbols import SYMBOLS, I, K, M, N, alpha, rho
from .values import Values, check_values, given_values

if TYPE_CHECKING:  # pragma: no cover
    from .layers import Conv, Layer

__all__ = ["Cost", "Numbers", "Explanation", "explain", "evaluate", "scale"]



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
    given = check_values(values)
    full: Values = {s: d for s, d in mod.parameters.items() if d is not None}
    full.update(given)
    scaled = scale(full)
    missing = [str(s) for s in (K, M, N, I, *mod.parameters) if s not in scaled]
    if missing:
        raise InvalidValueError(f"no value for {' '.join(missing)}; set each (for example {missing[0]}=3)")
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

    @cached_property
    def break_even(self) -> dict[sympy.Symbol, sympy.Expr]:
        """Each module parameter's value at which the module costs as many MACs as the standard
        convolution (the others kept as symbols); see :func:`convalgebra.design.break_even`."""
        return break_even_points(self.ratio.macs, self.module.parameters)

    @cached_property
    def limit_large_N(self) -> sympy.Expr:
        """The MACs ratio with M = N as N grows without bound."""
        return large_N_limit(self.ratio_equal_channels.macs)

    # -- data ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: expressions as text ``parse_expr`` reads, numbers exact."""
        out: dict[str, Any] = {
            "module": self.module.name,
            "parameters": {str(s): _json_number(d) for s, d in self.module.parameters.items()},
            "baseline": _cost_dict(self.baseline),
            "rewritten": _cost_dict(self.rewritten),
            "layers": [_layer_dict(row) for row in self.layers],
            "ratio": _cost_dict(self.ratio),
            "ratio_equal_channels": _cost_dict(self.ratio_equal_channels),
            "break_even": {str(s): text(v) for s, v in self.break_even.items()},
            "limit_large_N": text(self.limit_large_N),
        }
        if self.numbers is not None:
            out["values"] = _numbers_dict(self.numbers)
            if self.from_example:
                out["values"]["from_example"] = [str(s) for s in self.from_example]
        elif self.example is not None:  # the numbers the text shows, at the module's example values
            out["example"] = _numbers_dict(self.example)
        return out

    def shown_numbers(self) -> tuple[Optional[Numbers], str]:
        """The numbers a reader is shown (at the values given, else at the module's example), and
        a note on where the values come from."""
        if self.numbers is not None:
            shown = ", ".join(map(str, self.from_example))
            return self.numbers, f" ({shown} from the module's example; set your own)" if shown else ""
        return self.example, " (example values; set your own)"


def explain(name_or_module: str | Module, values: Mapping[Any, Any] | None = None, **named: Any) -> Explanation:
    """Explain a module: its layers, its cost before and after, and the savings ratio.

    Values may be given by keyword (``K=3``) or as a mapping of symbols or names;
    unset module parameters take their defaults in the numbers.

    >>> e = explain("bottleneck")
    >>> e.ratio_equal_channels.macs
    (K**2 + 2*t)/(K**2*t**2)
    >>> explain("group", G=0)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: G = 0: expected a whole number >= 1
    """
    mod = module(name_or_module)
    given = given_values(values, named)
    # sizes left unset come from the module's example, and the text says which
    from_example = tuple(s for s in (K, M, N, I) if s not in given and s in mod.example) if given else ()
    try:
        numbers = evaluate(mod, {**{s: mod.example[s] for s in from_example}, **given}) if given else None
    except InvalidValueError as error:
        if not from_example:
            raise
        filled = ", ".join(f"{s} = {mod.example[s]}" for s in from_example)
        raise InvalidValueError(f"{error} (with {filled} from the module's example; set your own)") from None
    baseline = Cost(*total(standard(), I))
    rows = tuple(count(mod.block(), I))
    others = sorted({type(r.layer).__name__ for r in rows} - {"Conv", "Shuffle"})
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
    if numbers is None and mod.example and all(d is not None for d in mod.parameters.values()):
        example = evaluate(mod, mod.example)
    return Explanation(mod, baseline, Cost(macs, params), rows, Cost(macs_ratio, params_ratio),
                       Cost(macs_equal, params_equal), numbers, example, from_example)


def _keeps_size(row: CostRow) -> bool:
    layer = _module_layer(row.layer)
    return isinstance(layer, Shuffle) or (row.output_size == row.input_size == I and not layer.bias)


def _termwise(expr: sympy.Expr, monomial: sympy.Expr) -> sympy.Expr:
    """A canonical form divided by a monomial, term by term: again canonical (tests check it)."""
    return sympy.Add(*(term / monomial for term in sympy.Add.make_args(expr)))


# -- helpers -------------------------------------------------------------------

def _numbers_dict(n: Numbers) -> dict[str, Any]:
    """Numbers for JSON: the values, and the costs as exact integers, the ratios as fractions."""
    return {
        "given": {str(s): _json_number(v) for s, v in n.values.items()},
        "baseline": {"macs": n.baseline.macs, "params": n.baseline.params},
        "rewritten": {"macs": n.rewritten.macs, "params": n.rewritten.params},
        "ratio": {"macs": str(n.ratio.macs), "params": str(n.ratio.params)},
    }


def _json_number(value: Any) -> Any:
    if value is None or isinstance(value, int):
        return value
    return str(value)


def _cost_dict(cost: Cost) -> dict[str, str]:
    return {"macs": text(cost.macs), "params": text(cost.params)}


def _layer_dict(row: CostRow) -> dict[str, Any]:
    layer = _module_layer(row.layer)
    out: dict[str, Any] = {
        "kind": layer_role(layer),
        "kernel": None if isinstance(layer, Shuffle) else [text(x) for x in layer.kernel],
        "in": text(layer.in_channels),
        "out": text(layer.out_channels),
        "groups": text(layer.groups),
        "macs": text(row.macs),
        "params": text(row.params),
    }
    if row.times != 1:
        out["count"] = text(row.times)
    if row.branch:
        out["branch"] = row.branch[-1]
    return out


def _module_layer(layer: Layer) -> Conv | Shuffle:
    """A layer of a module's block: the rules rewrite a convolution into convolutions and shuffles."""
    return cast("Conv | Shuffle", layer)


