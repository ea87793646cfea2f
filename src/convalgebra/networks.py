"""Whole networks: named stages of the same layers and modules as the core, counted layer by layer.

A network is a stem, stages built from the article's modules, and a classifier. Its cost
at a concrete input size is an exact integer, from each layer's real output-size
arithmetic, on plain Python ints (no sympy):

>>> cost = network("resnet50").count(224)
>>> cost.macs, cost.params
(4089184256, 25557032)
>>> [(s.name, s.module) for s in cost.stages]  # doctest: +NORMALIZE_WHITESPACE
[('stem', ''), ('layer1', 'bottleneck'), ('layer2', 'bottleneck'), ('layer3', 'bottleneck'),
 ('layer4', 'bottleneck'), ('head', '')]
>>> cost.stages[3].macs_share, f"{float(cost.stages[3].macs_share):.1%}"   # layer3, at 14 x 14
(Fraction(294, 821), '35.8%')

The same layers give the cost as a closed form in the input size I, exact whenever I is
a multiple of the network's total stride:

>>> macs, params = network("resnet50").total_symbolic()
>>> macs
81456*I**2 + 2048000
>>> network("resnet50").stride, macs.subs(I, 224) == cost.macs
(32, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence

from .display import RichDisplay
from .errors import InvalidValueError, unknown_name
from .blocks import AnyBlock, Residual, flow, iter_layers, map_layers, out_channels
from .cost import CostRow, layer_costs
from .layers import (AdaptivePool, AnyLayer, BatchNorm, Conv, Linear, Pool, Shuffle, Value, is_concrete, layer_kind,
                     window_text)

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = [
    "Stage", "Network", "LayerCost", "StageCost", "NetworkCost",
    "network", "network_names", "named", "out_channels", "layer_kind", "parse_size",
]

_MACS_UNITS = "MACs (multiply-accumulates; 1 MAC = 2 FLOPs)"
_CONVENTION = ("MACs of convolution and linear layers only (biases, batch norm, activations, pooling "
               "and additions are not counted); params: all weights and biases plus batch norm's gamma and beta")


# -- walking blocks ---------------------------------------------------------------

_SHORT = {Conv: "conv", Shuffle: "shuffle", Linear: "fc", Pool: "pool", AdaptivePool: "avgpool", BatchNorm: "bn"}


def named(block: AnyBlock, prefix: str = "") -> AnyBlock:
    """The block with every layer named by its kind and place: ``conv1``, ``bn1``, ``conv2`` ...

    >>> [x.name for x in iter_layers(named(Series(Conv(3, 8), BatchNorm(8), Conv(8, 8)), "0."))]
    ['0.conv1', '0.bn1', '0.conv2']
    >>> [x.name for x in iter_layers(named(Residual(Conv(3, 8), Conv(3, 8, (1, 1))), "0."))]
    ['0.conv1', '0.shortcut.conv1']
    """
    seen: dict[str, int] = {}

    def name(layer: AnyLayer) -> AnyLayer:
        kind = _SHORT[type(layer)]
        seen[kind] = seen.get(kind, 0) + 1
        return replace(layer, name=f"{prefix}{kind}{seen[kind]}")

    if isinstance(block, Residual) and block.shortcut is not None:
        return Residual(map_layers(block.body, name), named(block.shortcut, prefix + "shortcut."))
    return map_layers(block, name)


class _Head(Exception):
    """The walk reached the classifier (a global pool or a linear layer): the stride stops growing."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride


def _stride(block: AnyBlock, stride: int) -> int:
    """``stride`` times the strides along ``block``'s main path (a branch stands for its
    siblings, which agree); raises _Head at the classifier."""
    def leaf(layer: AnyLayer, total: int, place: Any) -> int:
        if isinstance(layer, (AdaptivePool, Linear)):
            raise _Head(total)
        return total * getattr(layer, "stride", 1)

    return flow(block, stride, leaf, lambda b, total, outs: outs[0])


# -- networks ---------------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    """A named part of a network; ``module`` names the article's module it is built from
    (or is empty); a ``side`` stage (an auxiliary classifier) branches off, its parameters
    count and it does not run at inference."""

    name: str
    block: AnyBlock
    module: str = ""
    side: bool = False


@dataclass(frozen=True, repr=False)
class Network(RichDisplay):
    """A network: stages in order on an ``in_channels`` x I x I input.

    ``source`` says where the definition comes from (torchvision, a paper's table);
    ``default_size`` is the input size it was designed for.
    """

    name: str
    title: str
    stages: tuple[Stage, ...]
    paper: str = ""
    source: str = ""
    default_size: int = 224
    in_channels: int = 3

    def __repr__(self) -> str:
        """A short summary (the stages are many): name, title, stages, default input.

        >>> network("resnet50")
        Network('resnet50', 'ResNet-50', 6 stages, 3 x 224 x 224)
        """
        return (f"Network({self.name!r}, {self.title!r}, {len(self.stages)} stages, "
                f"{self.in_channels} x {self.default_size} x {self.default_size})")

    __str__ = __repr__

    def __post_init__(self) -> None:
        channels: Value = self.in_channels
        for stage in self.stages:
            try:
                out = out_channels(stage.block, channels)
            except InvalidValueError as error:
                raise InvalidValueError(f"{self.name}, stage {stage.name}: {error}") from None
            if not stage.side:
                channels = out

    @property
    def stride(self) -> int:
        """The total stride: the closed form in I is exact when I is a multiple of it."""
        total = 1
        for stage in self.stages:
            try:
                total = total if stage.side else _stride(stage.block, total)
            except _Head as head:
                return head.stride
        return total

    def count(self, size: Optional[Value] = None, auxiliary: bool = False) -> "NetworkCost":
        """Every layer's cost on a ``size`` x ``size`` input (default: ``default_size``).

        A concrete size gives exact integers; a sympy expression (the symbol I) gives
        closed forms. ``auxiliary=True`` also runs the side stages (training mode).

        >>> network("resnet18").count(0)
        Traceback (most recent call last):
        ...
        convalgebra.errors.InvalidValueError: I = 0: expected a whole number >= 1
        """
        size = self.default_size if size is None else _checked_size(size)
        try:
            return self._count(size, auxiliary)
        except InvalidValueError as error:
            if not isinstance(size, int) or size >= self.default_size:
                raise
            least = self.min_size(self.default_size)
            raise InvalidValueError(f"{error} (the smallest input {self.name} takes is {least} x {least})") from None

    def _count(self, size: Value, auxiliary: bool) -> "NetworkCost":
        given = size
        channels: Value = self.in_channels
        rows: list[LayerCost] = []
        stages: list[StageCost] = []
        for stage in self.stages:
            runs = auxiliary or not stage.side
            try:
                costs, out = layer_costs(stage.block, size)
            except InvalidValueError as error:
                if runs:
                    raise InvalidValueError(f"{self.name} at I = {given}, stage {stage.name}: "
                                            f"{_no_output(stage, size) or error}") from None
                out, costs = None, [CostRow(layer, size, None, 0, layer.params()) for layer in iter_layers(stage.block)]
            stage_rows = [_layer_cost(stage, i, row, runs) for i, row in enumerate(costs, 1)]
            rows += stage_rows
            made = out_channels(stage.block, channels)
            stages.append(StageCost(stage.name, stage.module, size, out, _sum(r.macs for r in stage_rows),
                                    _sum(r.params for r in stage_rows), len(stage_rows), runs, output_channels=made))
            if not stage.side:
                size, channels = out, made
        macs, params = _sum(s.macs for s in stages), _sum(s.params for s in stages)
        stages = [replace(s, macs_share=_share(s.macs, macs), params_share=_share(s.params, params)) for s in stages]
        rows = [replace(r, macs_share=_share(r.macs, macs), params_share=_share(r.params, params)) for r in rows]
        return NetworkCost(self, given, tuple(rows), tuple(stages), macs, params, auxiliary)

    def total(self, size: Optional[Value] = None) -> tuple[Value, Value]:
        """(MACs, params) at ``size``, exact.

        >>> network("mobilenet_v2").total(224)
        (300774272, 3504872)
        """
        cost = self.count(size)
        return cost.macs, cost.params

    def total_symbolic(self) -> "tuple[sympy.Expr, sympy.Expr]":
        """(MACs, params) as closed forms in the input size I (expanded polynomials).

        >>> network("vgg16").total_symbolic()[1]
        138357544
        """
        import sympy

        from .symbols import I

        macs, params = self.total(I)
        return sympy.expand(macs), sympy.expand(params)

    def min_size(self, limit: int = 1024) -> int:
        """The smallest input size the network takes (every layer has some output).

        >>> network("inception_v3").min_size(), network("squeezenet1_1").min_size()
        (75, 17)
        """
        for size in range(1, limit + 1):
            try:
                self._count(size, False)
            except InvalidValueError:
                continue
            return size
        raise InvalidValueError(f"{self.name} takes no input up to {limit} x {limit}")


def _checked_size(size: Any) -> Value:
    if isinstance(size, bool) or (is_concrete(size) and not isinstance(size, int)):
        raise InvalidValueError(f"I = {size}: expected a whole number >= 1")
    if isinstance(size, int) and size < 1:
        raise InvalidValueError(f"I = {size}: expected a whole number >= 1")
    if not isinstance(size, int) and not hasattr(size, "free_symbols"):
        raise InvalidValueError(f"I = {size!r}: expected a whole number >= 1 or a sympy expression")
    return size


class _NoOutput(Exception):
    """The first layer (and its input size) that leaves no output."""

    def __init__(self, layer: AnyLayer, size: Value) -> None:
        super().__init__()
        self.layer, self.size = layer, size


def _sizes(block: AnyBlock, size: Value) -> Value:
    """The output size of ``block``, raising _NoOutput at the first layer with none."""
    def leaf(layer: AnyLayer, size: Value, place: Any) -> Value:
        try:
            return layer.output_size(size)
        except InvalidValueError:
            raise _NoOutput(layer, size) from None

    return flow(block, size, leaf, lambda b, size, outs: outs[0])


def _no_output(stage: Stage, size: Value) -> str:
    """Which layer of ``stage`` leaves no output at ``size``, named by its kind, or '' if none does.

    >>> print(_no_output(network("alexnet").stages[4], 2))
    layer conv5.pool1, a 3x3 max pool with stride 2 and padding 0, leaves no output on a 2 x 2 input
    >>> print(_no_output(network("vgg16").stages[0], 3))
    <BLANKLINE>
    """
    try:
        _sizes(stage.block, size)
    except _NoOutput as stop:
        layer = stop.layer
        kind = layer_kind(layer) if isinstance(layer, Conv) else f"{window_text(layer)} {layer_kind(layer)}"
        what = f"a {kind} with stride {getattr(layer, 'stride', 1)} and padding {_padding_text(layer)}"
        if layer.name:
            what = f"layer {stage.name}.{layer.name}, {what},"
        return f"{what} leaves no output on a {stop.size} x {stop.size} input"
    return ""


def _padding_text(layer: AnyLayer) -> str:
    padding = getattr(layer, "padding", 0)
    if isinstance(padding, tuple):
        return str(padding[0]) if padding[0] == padding[1] else f"{padding[0]}x{padding[1]}"
    return str(padding)


def _sum(values: Any) -> Value:
    total: Value = 0
    for v in values:
        total = total + v
    return _expanded(total)


def _expanded(value: Value) -> Value:
    """A cost at a symbolic size as an expanded polynomial (``2048*I**2 + 8192*I + 8192``); numbers as they are."""
    if is_concrete(value):
        return value
    import sympy

    expanded = sympy.expand(value)
    return int(expanded) if expanded.is_Integer else expanded


def _share(part: Value, whole: Value) -> Value:
    """``part / whole``: a Fraction for numbers, a fraction in lowest terms for expressions.

    >>> from convalgebra.symbols import I
    >>> _share(2352*I**2, 36144*I**2 + 512000)
    147*I**2/(2259*I**2 + 32000)
    """
    if part == 0:
        return Fraction(0)
    if is_concrete(part) and is_concrete(whole):
        return Fraction(part, whole)
    import sympy

    return sympy.cancel(sympy.sympify(part) / whole)


def _layer_cost(stage: Stage, index: int, row: CostRow, runs: bool) -> "LayerCost":
    layer = row.layer
    return LayerCost(f"{stage.name}.{layer.name or index}", stage.name, stage.module, layer,
                     row.input_size, row.output_size, _expanded(row.macs) if runs else 0, row.params, runs)


@dataclass(frozen=True)
class LayerCost:
    """One layer of a network: where it is, its sizes, its cost and its share of the total.

    ``runs`` is False for a side stage's layer (an auxiliary classifier at inference),
    whose MACs are then 0.
    """

    name: str
    stage: str
    module: str
    layer: AnyLayer
    input_size: Value
    output_size: Value
    macs: Value
    params: Value
    runs: bool = True
    macs_share: Value = 0
    params_share: Value = 0


@dataclass(frozen=True)
class StageCost:
    """One stage's sums over its layers."""

    name: str
    module: str
    input_size: Value
    output_size: Value
    macs: Value
    params: Value
    layers: int
    runs: bool = True
    macs_share: Value = 0
    params_share: Value = 0
    output_channels: Value = 0


@dataclass(frozen=True)
class NetworkCost(RichDisplay):
    """A network counted at one input size: layers, stages, totals; render with ``to_text``,
    ``to_markdown``, ``to_latex`` or ``to_dict`` (the JSON contract)."""

    network: Network
    size: Value
    layers: tuple[LayerCost, ...]
    stages: tuple[StageCost, ...]
    macs: Value
    params: Value
    auxiliary: bool = False

    @property
    def flops(self) -> Value:
        """Floating-point operations: 2 per multiply-accumulate."""
        return 2 * self.macs

    @property
    def exact_multiple(self) -> Optional[int]:
        """At a size that is an expression in one symbol (I, 2*I + 1, ...): the L such that the
        closed forms are exact whenever that symbol is a multiple of L; None at a number, or
        where no such L can be read off.

        Every strided layer takes its output size as the floor of a division, which the
        closed form reads as exact; it is exact when every running layer's input and output
        size comes out whole, and each is ``a*I + b`` with a whole ``b``. At I itself L is the
        network's total stride:

        >>> from convalgebra.symbols import I
        >>> net = network("resnet18")
        >>> net.count(I).exact_multiple, net.stride, net.count(2 * I + 1).exact_multiple
        (32, 32, 16)
        """
        free: set[Any] = getattr(self.size, "free_symbols", set())
        if len(free) != 1:
            return None
        import sympy

        (x,) = free
        multiple = 1
        for row in self.layers:
            for side in (row.input_size, row.output_size) if row.runs else ():
                if side is None or is_concrete(side):
                    continue
                poly = sympy.Poly(side, x)
                if poly.degree() != 1 or not poly.coeff_monomial(1).is_integer:
                    return None
                multiple = math.lcm(multiple, int(sympy.Rational(poly.coeff_monomial(x)).q))
        return multiple

    @property
    def _spaced(self) -> bool:
        """Whether the tables write maps as ``C x H x W``: at a symbolic size, where sizes are expressions."""
        return not is_concrete(self.size)

    def _exact_when(self) -> Optional[str]:
        """:attr:`exact_multiple` as words: ``'I is a multiple of 16'`` (None where there is none)."""
        multiple = self.exact_multiple
        return None if multiple is None else f"{next(iter(getattr(self.size, 'free_symbols')))} is a multiple of {multiple}"

    # -- data ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: totals and layers as integers, the closed form as text in I."""
        from .printing import text

        macs, params = self.network.total_symbolic()
        total: dict[str, Any] = {"macs": _json(self.macs), "params": _json(self.params)}
        if not is_concrete(self.size):  # a closed form at a symbolic size: where it is exact
            total["exact_when"] = self._exact_when()
        return {
            "network": self.network.name,
            "title": self.network.title,
            "input": {"channels": self.network.in_channels, "size": _json(self.size)},
            "units": {"macs": _MACS_UNITS, "convention": _CONVENTION},
            "total": total,
            "total_symbolic": {"macs": text(macs), "params": text(params), "exact_when": f"I is a multiple of {self.network.stride}"},
            "stages": [{"name": s.name, "module": s.module or None, "layers": s.layers,
                        "output_channels": _json(s.output_channels), "output_size": _json(s.output_size),
                        "macs": _json(s.macs), "params": _json(s.params), "runs": s.runs} for s in self.stages],
            "layers": [_layer_dict(r) for r in self.layers],
        }

    # -- text ---------------------------------------------------------------
    def to_text(self) -> str:
        """A model summary: the layers, the stages, and the totals with their units."""
        net = self.network
        lines = [f"{net.name}: {net.title}"]
        lines += [f"  {x}" for x in (net.paper, net.source) if x]
        lines += ["", f"Input: {net.in_channels} x {_side(self.size)} x {_side(self.size)}. Costs in {_MACS_UNITS}:",
                  f"  {_CONVENTION}.", "", "Layers:"]
        lines += _table(["#", "layer", "kind", "in", "out", "groups", "stride", "output", "MACs", "MACs %",
                         "params", "params %"], [_layer_cells(i, r, spaced=self._spaced) for i, r in enumerate(self.layers, 1)],
                        right={0, 3, 4, 5, 6, 7, 8, 9, 10, 11})
        lines += ["", "Stages:"]
        lines += _table(["stage", "module", "layers", "output", "MACs", "MACs %", "params", "params %"],
                        [_stage_cells(s, spaced=self._spaced) for s in self.stages], right={2, 3, 4, 5, 6, 7})
        lines += [""] + self._totals()
        if any(not s.runs for s in self.stages):
            lines.append("  (side stages do not run at inference: their parameters count, their MACs do not)")
        return "\n".join(lines)

    def _totals(self, math: bool = False) -> list[str]:
        """The totals, each with its unit: exact integers and a scaled form at a concrete size,
        the closed forms at a symbolic one (no scaling of an expression; ``$...$`` LaTeX when ``math``)."""
        units = ("MACs", "(multiply-accumulates)"), ("FLOPs", "(2 FLOPs per MAC)"), ("params", "")
        values = self.macs, self.flops, self.params
        if is_concrete(self.size):
            heading = f"Total at I = {self.size}:"
        else:
            free = ", ".join(sorted(str(x) for x in getattr(self.size, "free_symbols", ())))
            when = self._exact_when()
            exact = (f"exact when {when}" if when is not None else
                     "exact only where every strided layer divides its input evenly; count at a number to be sure")
            heading = (f"Total as a function of I ({exact}):" if self.size == _symbol_I() else
                       f"Total at input size {_cell(self.size, math)}, as a function of {free} ({exact}):")
        lines = [heading]
        for (unit, note), value in zip(units, values):
            if isinstance(value, int):
                scaled = _scaled(value, unit)
                line = f"{_cell(value, group=True)} {unit}" + (f" = {scaled}" if scaled else "")
            else:
                line = f"{unit} = {_cell(value, math)}"
            lines.append(f"  {line} {note}".rstrip())
        return lines

    def __str__(self) -> str:
        return self.to_text()

    # -- Markdown and LaTeX ----------------------------------------------------
    def to_markdown(self) -> str:
        """Markdown with the closed form in LaTeX math, as Jupyter and course pages render it."""
        from .printing import latex, number_latex

        net = self.network
        macs, params = net.total_symbolic()
        out = [f"### `{net.name}`: {net.title}", ""]
        out += [f"*{x}*" for x in (net.paper, net.source) if x] + [""]
        shape = _map_cell(net.in_channels, self.size, math=True) if not is_concrete(self.size) else \
            f"{net.in_channels} x {self.size} x {self.size}"
        out += [f"Input {shape}; costs in {_MACS_UNITS}: {_CONVENTION}.", ""]
        out += ["| stage | module | layers | output | MACs | MACs % | params | params % |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(_stage_cells(s, math=True, spaced=self._spaced)) + " |" for s in self.stages]
        out += ["", "| # | layer | kind | in | out | groups | stride | output | MACs | MACs % | params | params % |",
                "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(_layer_cells(i, r, math=True, spaced=self._spaced)) + " |"
                for i, r in enumerate(self.layers, 1)]
        totals = self._totals(math=True)
        out += ["", totals[0], "", *(f"- {line.strip()}" for line in totals[1:]), "",
                f"Closed form in the input size $I$ (exact when $I$ is a multiple of {net.stride}):", "",
                f"$$\\text{{MACs}}(I) = {latex(macs)}, \\qquad \\text{{params}} = {number_latex(params)}$$"]
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        """A LaTeX ``align*`` block: the closed form in I and the numbers at this size."""
        from .printing import latex, number_latex

        net = self.network
        macs, params = net.total_symbolic()
        name = r"\text{" + net.name.replace("_", r"\_") + "}"
        rows = [rf"{name}: \quad \text{{MACs}}(I) &= {latex(macs)} && (I \in {net.stride}\mathbb{{N}})",
                rf"\text{{params}} &= {number_latex(params)}"]
        if self.size != _symbol_I():  # at a number, or at another expression in I
            where = "" if is_concrete(self.size) or self.exact_multiple is None else \
                rf" && ({latex(next(iter(getattr(self.size, 'free_symbols'))))} \in {self.exact_multiple}\mathbb{{N}})"
            rows += [rf"\text{{MACs}}({latex(self.size)}) &= {number_latex(self.macs)}{where}",
                     rf"\text{{params}} &= {number_latex(self.params)}"]
        return f"% {net.name}: {net.title}\n\\begin{{align*}}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"


def _symbol_I() -> Any:
    from .symbols import I

    return I


def _json(value: Any) -> Any:
    if value is None or isinstance(value, int):
        return value
    from .printing import text

    return text(value)


def _layer_dict(row: LayerCost) -> dict[str, Any]:
    layer = row.layer
    kernel = list(layer.kernel) if isinstance(layer, Conv) else [layer.kernel] * 2 if isinstance(layer, Pool) else None
    return {
        "name": row.name, "stage": row.stage, "module": row.module or None, "kind": layer_kind(layer),
        "kernel": None if kernel is None else [_json(k) for k in kernel],
        "in": _json(layer.in_channels), "out": _json(layer.out_channels),
        "groups": _json(getattr(layer, "groups", 1)), "stride": getattr(layer, "stride", 1),
        "output_size": _json(row.output_size), "macs": _json(row.macs), "params": _json(row.params),
        "runs": row.runs,
    }


def _layer_cells(index: int, row: LayerCost, math: bool = False, spaced: bool = False) -> list[str]:
    """A layer's row of the summary; ``math`` writes expressions as ``$...$`` LaTeX (Markdown,
    notebooks); ``spaced`` writes every map as ``C x H x W`` (a table at a symbolic size)."""
    layer = row.layer
    return [str(index), row.name, layer_kind(layer), _cell(layer.in_channels, math), _cell(layer.out_channels, math),
            _cell(getattr(layer, "groups", 1), math), str(getattr(layer, "stride", 1)),
            _map_cell(layer.out_channels, row.output_size, math, spaced),
            _cell(row.macs, math, group=True) if row.runs else "(not run)", _percent(row.macs_share, math),
            _cell(row.params, math, group=True), _percent(row.params_share, math)]


def _stage_cells(stage: StageCost, math: bool = False, spaced: bool = False) -> list[str]:
    """A stage's row of the summary (``math`` and ``spaced`` as in :func:`_layer_cells`)."""
    return [stage.name + ("" if stage.runs else " (side)"), stage.module or "-", str(stage.layers),
            _map_cell(stage.output_channels, stage.output_size, math, spaced),
            _cell(stage.macs, math, group=True), _percent(stage.macs_share, math),
            _cell(stage.params, math, group=True), _percent(stage.params_share, math)]


def _cell(value: Any, math: bool = False, group: bool = False) -> str:
    """A number (digits grouped when ``group``) or an expression, as text or ``$...$`` LaTeX.

    >>> from convalgebra.symbols import I
    >>> _cell(4089184256, group=True), _cell(I**2/4)
    ('4,089,184,256', 'I**2/4')
    >>> print(_cell(I**2/4, math=True))
    $\\frac{I^{2}}{4}$
    """
    if isinstance(value, int):
        return f"{value:,}" if group else str(value)
    return f"${_latex(value)}$" if math else _text(value)


def _map_cell(channels: Value, size: Optional[Value], math: bool = False, spaced: bool = False) -> str:
    """A feature map, channels x height x width; a size that is a sum is bracketed.

    >>> from convalgebra.symbols import I
    >>> _map_cell(64, 56), _map_cell(128, I / 4 + 1)
    ('64x56x56', '128 x (I/4 + 1) x (I/4 + 1)')
    >>> print(_map_cell(128, I / 4 + 1, math=True))
    $128 \\times \\left(\\frac{I}{4} + 1\\right) \\times \\left(\\frac{I}{4} + 1\\right)$
    """
    if size is None:
        return "-"
    if is_concrete(channels) and is_concrete(size) and not spaced:
        return f"{channels}x{size}x{size}"
    if not math:
        return f"{_text(channels)} x {_side(size)} x {_side(size)}"
    side = _latex(size)
    side = rf"\left({side}\right)" if getattr(size, "is_Add", False) else side
    return rf"${_latex(channels)} \times {side} \times {side}$"


def _latex(value: Any) -> str:
    """LaTeX of a value (the printer, and with it sympy, loaded only when asked for)."""
    from .printing import latex

    return latex(value)


def _side(size: Value) -> str:
    """A map's side as text, bracketed when it is a sum: ``56``, ``I/4``, ``(I/4 + 1)``."""
    side = _text(size)
    return f"({side})" if " " in side else side


def _text(value: Any) -> str:
    return str(value) if isinstance(value, int) else _json(value)


def _percent(share: Any, math: bool = False) -> str:
    """A share of the total as a percent: two decimals of a number, a function of the size otherwise.

    >>> from convalgebra.symbols import I
    >>> _percent(Fraction(1, 8)), _percent(147 * I**2 / (2259 * I**2 + 32000))
    ('12.50%', '14700*I**2/(2259*I**2 + 32000) %')
    """
    if isinstance(share, (int, Fraction)):
        return f"{float(share) * 100:.2f}%"
    import sympy

    percent = sympy.cancel(100 * share)
    return f"${_latex(percent)} \\,\\%$" if math else f"{_text(percent)} %"


def _scaled(value: int, unit: str) -> str:
    """A whole number in the largest of k, M, G, T it reaches, to three decimals rounded half up
    (beyond 1000 T: times a power of ten); '' below 1000, which needs no scaling.

    >>> [_scaled(n, "MACs") for n in (4089184256, 25557032, 999999500, 8145600000000000002048000, 512)]
    ['4.089 GMACs', '25.557 MMACs', '1.000 GMACs', '8.146 x 10^24 MACs', '']
    >>> _scaled(1234567890123456, "params"), _scaled(999_999_999_999_999, "FLOPs")
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


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]

    def line(cells: list[str]) -> str:
        return ("  " + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths)))).rstrip()

    return [line(header)] + [line(r) for r in rows]


# -- lookup -----------------------------------------------------------------------

def _key(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch.isalnum() or ch == ".")


def network_names() -> list[str]:
    """The zoo's networks, by torchvision's names where torchvision has them.

    >>> network_names()[:4]
    ['alexnet', 'alexnet_grouped', 'vgg16', 'squeezenet1_0']
    """
    from .zoo import ZOO

    return list(ZOO)


def network(name: "str | Network") -> Network:
    """The zoo's network called ``name`` (any case; ``_``, ``-`` and spaces ignored).

    >>> network("ResNet-50").name
    'resnet50'
    >>> network("vgg")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown network 'vgg'; did you mean vgg16? (see 'convalgebra networks')
    """
    if isinstance(name, Network):
        return name
    from .zoo import ZOO, build

    keys = {_key(n): n for n in ZOO}
    found = keys.get(_key(str(name)))
    if found is not None:
        return build(found)
    raise unknown_name("network", name, keys, "convalgebra networks", _key)


def parse_size(items: Sequence[str]) -> int:
    """The input size from ``--set I=SIZE``; read without sympy when it is a plain whole number.

    >>> parse_size(["I=299"])
    299
    >>> parse_size(["I=0"])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: I = 0: expected a whole number >= 1
    >>> parse_size(["K=3"])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a network takes only I, the input size (for example --set I=224), not K
    """
    others = [name for name in (item.partition("=")[0].strip() for item in items) if name not in ("", "I")]
    if others:
        raise InvalidValueError(f"a network takes only I, the input size (for example --set I=224), not {' '.join(others)}")
    if len(items) != 1:
        raise InvalidValueError("set the input size once, for example --set I=224")
    name, sep, value = items[0].partition("=")
    if not (sep and name.strip() == "I" and value.strip().isascii() and value.strip().isdigit()
            and len(value.strip()) <= 64):  # longer: parse_number refuses it in one line
        from .symbols import parse_assignment

        sym, number = parse_assignment(items[0])
        if str(sym) != "I":
            raise InvalidValueError(f"a network takes only I, the input size (for example --set I=224), not {sym}")
        value = str(number)
        if not (isinstance(number, int) and number >= 1):
            raise InvalidValueError(f"I = {number}: expected a whole number >= 1")
    return int(_checked_size(int(value)))
