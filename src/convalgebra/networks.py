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

import contextlib
import math
from functools import lru_cache
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Optional, cast

from .display import RichDisplay, Result
from .errors import InvalidValueError, indefinite
from .symbols import shown
from .validation import check
from .blocks import AnyBlock, Join, Residual, Scale, flow, iter_layers, map_layers, out_channels
from .cost import CostRow, layer_costs
from .layers import (Activation, AdaptivePool, AnyLayer, BatchNorm, Conv, ConvTranspose, Elementwise, Held, Identity,
                     LayerNorm, LayerScale, Linear, Norm, Pad, Parameters, Pool, Traced, Shuffle, Size, Slice,
                     Uncounted, Upsample, Value, as_size, is_concrete, layer_kind, sides, window_text,
                     Attention, ClassToken, LinearAttention, PatchMerge, TokenLinear, Tokens)

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = [
    "Stage", "Network", "LayerCost", "StageCost", "NetworkCost",
    "named", "out_channels", "layer_kind", "size_words",
]



# -- walking blocks ---------------------------------------------------------------

_SHORT = {Conv: "conv", Shuffle: "shuffle", Linear: "fc", Pool: "pool", AdaptivePool: "avgpool", BatchNorm: "bn",
          Identity: "identity", Slice: "slice", LayerNorm: "ln", LayerScale: "layer_scale", Activation: "act",
          Elementwise: "op", ConvTranspose: "deconv", Upsample: "upsample", Uncounted: "uncounted", Held: "held",
          Norm: "norm", Parameters: "params", Pad: "pad", Traced: "traced",
          TokenLinear: "linear", Tokens: "tokens", ClassToken: "cls", PatchMerge: "merge", Attention: "attn", LinearAttention: "attn"}


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


def _stride(block: AnyBlock, stride: int, windows: Optional[list[int]] = None) -> int:
    """``stride`` times the strides along ``block``'s main path (a branch stands for its
    siblings, which agree); raises _Head at the classifier. Each window attention puts in
    ``windows`` the multiple of the input its sides must be to be whole windows."""
    def leaf(layer: AnyLayer, total: int, place: Any) -> int:
        if place.gate:  # a scale's gate pools to 1 x 1 beside the main path
            return total
        if isinstance(layer, (AdaptivePool, Linear)):
            raise _Head(total)
        window = getattr(layer, "window", None)
        if window and windows is not None:
            windows.append(total * window)
        return total * getattr(layer, "stride", 1)

    return flow(block, stride, leaf, _main)


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
    ``default_size`` is the input size it was designed for (a number, or (height, width)).
    ``reused`` names the layers that are a second call of a module already counted (an
    imported model's shared module): their MACs count at every call, their parameters once.
    ``imported`` marks a network read from a model (:func:`convalgebra.from_torch`), not the zoo's;
    ``parts`` are its blocks, by torch's module paths (``layer1.0``), for :func:`convalgebra.recognize_network`;
    ``origins`` say what torch ran for each layer, (layer name, module class or function, the
    places the module tree holds it), and ``joins`` the functions that joined branches (``_operator.add``):
    what :func:`convalgebra.peer_counts` needs to say what other counters report. ``unused`` names the
    layers torch runs whose values no output reads (counted, and shown as unused), ``outputs`` the
    values the model returns (by the layers that make them), and ``domain`` the input sizes the
    import holds for, where a trace followed one path of the model's control flow ("" for all).
    ``batch`` is the images one count is for: 1 (a count is per image), or the symbol B (or a number)
    where an imported file's batch dimension is one; each layer's MACs are then for the whole batch,
    the parameters once.
    """

    __view__ = "network"

    name: str
    title: str
    stages: tuple[Stage, ...]
    paper: str = ""
    source: str = ""
    default_size: Size = 224
    in_channels: int = 3
    reused: frozenset[str] = frozenset()
    imported: bool = False
    parts: tuple[str, ...] = ()
    origins: tuple[tuple[str, str, int], ...] = ()
    joins: tuple[str, ...] = ()
    unused: frozenset[str] = frozenset()
    outputs: tuple[str, ...] = ()
    domain: str = ""
    batch: Value = 1

    def __repr__(self) -> str:
        """A short summary (the stages are many): name, title, stages, default input.

        >>> network("resnet50")
        Network('resnet50', 'ResNet-50', 6 stages, 3 x 224 x 224)
        """
        height, width = sides(self.default_size)
        return (f"Network({self.name!r}, {self.title!r}, {len(self.stages)} stages, "
                f"{self.in_channels} x {height} x {width})")

    __str__ = __repr__

    def __post_init__(self) -> None:
        """Check that the stages are Stages and that each gets the channels the one before makes.

        >>> Network("x", "x", (Conv(3, 8, (3, 3)),))
        Traceback (most recent call last):
        ...
        convalgebra.errors.InvalidValueError: network 'x': its stages are Stage(name, block), not a Conv; wrap the layer or block: Stage('conv', Conv(...))
        """
        for field in ("name", "title", "paper", "source"):
            if not isinstance(getattr(self, field), str):
                raise InvalidValueError(f"a network's {field} is text, not {shown(getattr(self, field))}")
        if not isinstance(self.imported, bool):
            raise InvalidValueError(f"imported = {shown(self.imported)}: expected True or False")
        object.__setattr__(self, "in_channels", check("in_channels", self.in_channels, "input channels"))
        _checked_size(self.default_size)  # a size it can be counted at (kept as given)
        if isinstance(self.batch, bool):
            raise InvalidValueError(f"batch B = {self.batch}: expected a whole number >= 1 or the symbol B")
        if not (isinstance(self.batch, int) and self.batch == 1):
            object.__setattr__(self, "batch", check("B", self.batch, "batch B"))
        if isinstance(self.stages, list):
            object.__setattr__(self, "stages", tuple(self.stages))
        if not isinstance(self.stages, tuple):
            raise InvalidValueError(f"network {self.name!r}: stages is a tuple of Stage(name, block), "
                                    f"not {indefinite(type(self.stages).__name__)}")
        for stage in self.stages:
            if not isinstance(stage, Stage):
                kind = type(stage).__name__
                raise InvalidValueError(f"network {self.name!r}: its stages are Stage(name, block), not {indefinite(kind)};"
                                        f" wrap the layer or block: Stage({kind.lower()!r}, {kind}(...))")
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
        """The total stride: the closed form in I is exact when I is a multiple of it (with window
        attention, a multiple of each window at its stride: 224 for Swin's 7 x 7 windows at stride 32).

        >>> network("resnet50").stride, network("swin_t").stride
        (32, 224)
        """
        total, windows = 1, cast("list[int]", [])
        for stage in self.stages:
            try:
                total = total if stage.side else _stride(stage.block, total, windows)
            except _Head as head:
                return math.lcm(head.stride, *windows)
        return math.lcm(total, *windows)

    def count(self, size: Optional[Size] = None, auxiliary: bool = False) -> "NetworkCost":
        """Every layer's cost on a ``size`` x ``size`` input, or an H x W one for ``size = (H, W)``
        (default: ``default_size``).

        A concrete size gives exact integers; a sympy expression (the symbol I, or H and W)
        gives closed forms. ``auxiliary=True`` also runs the side stages (training mode).

        >>> network("resnet18").count((224, 160)).macs
        1295912960
        >>> from convalgebra.symbols import H, W
        >>> network("resnet18").count((H, W)).macs
        36144*H*W + 512000
        >>> network("resnet18").count(0)
        Traceback (most recent call last):
        ...
        convalgebra.errors.InvalidValueError: I = 0: expected a whole number >= 1
        """
        if not isinstance(auxiliary, bool):
            raise InvalidValueError(f"auxiliary = {shown(auxiliary)}: expected True or False")
        size = self.default_size if size is None else _checked_size(size)
        if self.imported and size != self.default_size and not self.domain:
            traced = [x.name for stage in self.stages for x in iter_layers(stage.block) if isinstance(x, Traced)]
            if traced:
                listed = ", ".join(traced[:2]) + (", ..." if len(traced) > 2 else "")
                raise InvalidValueError(f"{self.name} holds {len(traced)} operation(s) counted as PyTorch counts them at"
                                        f" the traced size only ({listed}):"
                                        f" it counts at {size_words(self.default_size)} only; import it at"
                                        f" {size_words(size)} to count it there")
        if self.domain and size != self.default_size:
            raise InvalidValueError(f"{self.name} was exported by torch.export at {self.domain} (its forward has Python"
                                    f" control flow, which may take another path at another size): it counts at"
                                    f" {self.domain} only; import it at {size_words(size)} to count it there")
        try:
            return self._count(size, auxiliary)
        except InvalidValueError as error:
            default = self.default_size
            if not isinstance(default, int) or not any(isinstance(side, int) and side < default for side in sides(size)) \
                    or any(isinstance(layer, Tokens) for stage in self.stages for layer in iter_layers(stage.block)):
                raise
            least = self.min_size(default)
            raise InvalidValueError(f"{error} (the smallest input {self.name} takes is {least} x {least})") from None

    def _count(self, size: Size, auxiliary: bool) -> "NetworkCost":
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
                    raise InvalidValueError(f"{self.name} at {size_words(given)}, stage {stage.name}: "
                                            f"{_no_output(stage, size) or error}") from None
                out, costs = None, [CostRow(layer, size, None, 0, layer.params()) for layer in iter_layers(stage.block)]
            stage_rows = [_layer_cost(stage, i, row, runs, row.layer.name in self.reused, self.imported,
                                      bool(self.unused) and row.layer.name in self.unused)
                          for i, row in enumerate(costs, 1)]
            rows += stage_rows
            made = out_channels(stage.block, channels)
            stages.append(StageCost(stage.name, stage.module, size, out, _sum(r.macs for r in stage_rows),
                                    _sum(r.params for r in stage_rows), len(stage_rows), runs, output_channels=made))
            if not stage.side:
                size, channels = out, made
        macs, params = _sum(s.macs for s in stages), _sum(s.params for s in stages)
        stages = [replace(s, macs_share=_share(s.macs, macs), params_share=_share(s.params, params)) for s in stages]
        rows = [replace(r, macs_share=_share(r.macs, macs), params_share=_share(r.params, params)) for r in rows]
        batch = self.batch
        if not (is_concrete(batch) and batch == 1):  # a batch's MACs: each image's, B times; the shares the same
            stages = [replace(s, macs=_batched(s.macs, batch)) for s in stages]
            rows = [replace(r, macs=_batched(r.macs, batch)) for r in rows]
            macs = _batched(macs, batch)
        return NetworkCost(self, given, tuple(rows), tuple(stages), macs, params, auxiliary, batch=batch)

    def total(self, size: Optional[Size] = None) -> tuple[Value, Value]:
        """(MACs, params) at ``size`` (one side, or (H, W)), exact.

        >>> network("mobilenet_v2").total(224)
        (300774272, 3504872)
        """
        cost = self.count(size)
        return cost.macs, cost.params

    def total_symbolic(self, size: Optional[Size] = None, exact: bool = False) -> "tuple[sympy.Expr, sympy.Expr]":
        """(MACs, params) as closed forms in the input size I (or at ``size``, such as (H, W)),
        expanded polynomials, exact where every strided layer divides its input evenly (see
        :attr:`NetworkCost.exact_when`). ``exact=True`` keeps each division's floor: a form
        exact at every size the network takes.

        >>> network("vgg16").total_symbolic()[1]
        138357544
        >>> from convalgebra.symbols import H, W, I
        >>> network("resnet18").total_symbolic((H, W))[0]
        36144*H*W + 512000
        >>> form = network("alexnet").total_symbolic(exact=True)[0]
        >>> [form.subs(I, n) == network("alexnet").total(n)[0] for n in (63, 64, 224, 227)]
        [True, True, True, True]
        """
        import sympy

        from .layers import floors
        from .symbols import I

        if not isinstance(exact, bool):
            raise InvalidValueError(f"exact = {shown(exact)}: expected True or False")
        with floors() if exact else contextlib.nullcontext():
            macs, params = self.total(I if size is None else size)
        return sympy.expand(macs), sympy.expand(params)

    def closed_form(self) -> "Optional[NetworkCost]":
        """The count at the symbolic size: I for the zoo's networks, H x W for an imported one;
        None where the network takes no symbolic size (a linear layer on a map whose size is the input's).

        >>> network("resnet18").closed_form().exact_when()
        'I is a multiple of 32'
        """
        from .symbols import H, I, W

        try:
            return self.count((H, W) if self.imported else I)
        except InvalidValueError:
            return None

    def min_size(self, limit: int = 1024) -> int:
        """The smallest input size the network takes (every layer has some output), searched
        up to ``limit`` (at most 4,096: no network here needs more than 299).

        >>> network("inception_v3").min_size(), network("squeezenet1_1").min_size()
        (75, 17)
        """
        limit = min(int(check("size", limit, "limit", symbolic=False)), _LARGEST_SEARCH)
        for size in range(1, limit + 1):
            try:
                self._count(size, False)
            except InvalidValueError:
                continue
            return size
        raise InvalidValueError(f"{self.name} takes no input up to {limit} x {limit}")


#: The largest input size :meth:`Network.min_size` tries.
_LARGEST_SEARCH = 4096


def size_words(size: Size) -> str:
    """An input size in words: ``I = 224`` for a square, ``224 x 160`` (height x width) otherwise.

    >>> from convalgebra.symbols import H, W
    >>> size_words(224), size_words((224, 160)), size_words((H, W))
    ('I = 224', '224 x 160', 'H x W')
    """
    if isinstance(size, tuple):
        return " x ".join(str(side) for side in size)
    return f"I = {size}"


def _checked_size(size: Any) -> Size:
    """The input size: a whole number >= 1, or an expression in the library's symbols that
    can be one (the table of valid values; a user's own symbol I is the library's I); or a
    pair (height, width) of them, a pair with equal sides the square's one number.

    >>> _checked_size(224.0), _checked_size("I"), _checked_size((224, 224)), _checked_size((224, 160))
    (224, I, 224, (224, 160))
    >>> _checked_size(__import__("sympy").sqrt(2))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: I = sqrt(2): expected an exact number (an integer or a fraction)
    """
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise InvalidValueError(f"input size = {size!r}: expected one size or (height, width)")
        return as_size(*(check(name, side) for side, name in zip(size, "HW")))
    return check("I", size)


class _NoOutput(Exception):
    """The first layer (and its input size) that leaves no output."""

    def __init__(self, layer: AnyLayer, size: Value, why: str = "") -> None:
        super().__init__()
        self.layer, self.size, self.why = layer, size, why


def _sizes(block: AnyBlock, size: Value) -> Value:
    """The output size of ``block``, raising _NoOutput at the first layer with none."""
    def leaf(layer: AnyLayer, size: Value, place: Any) -> Value:
        try:
            return layer.output_size(size)
        except InvalidValueError as error:
            raise _NoOutput(layer, size, str(error)) from None

    return flow(block, size, leaf, _main)


def _main(block: Any, value: Any, outs: list[Any]) -> Any:
    """A composite's output on the main path: a branch stands for its siblings (they agree);
    a scale's output is its input's; a graph's join the largest stride (a size: the one
    that is not 1 x 1)."""
    if isinstance(block, Join) and block.kind == "resize":
        return outs[1]
    if isinstance(block, Join):
        wide = [o for o in outs if o != 1]
        return max(wide) if wide and all(isinstance(o, int) for o in wide) else (wide or outs)[0]
    return value if isinstance(block, Scale) else outs[0]


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
        if isinstance(layer, Tokens):  # a ViT takes the one size its position embedding is built for
            return f"layer {stage.name}.{layer.name}: {stop.why}"
        kind = layer_kind(layer) if isinstance(layer, Conv) else f"{window_text(layer)} {layer_kind(layer)}"
        what = f"a {kind} with stride {getattr(layer, 'stride', 1)} and padding {_padding_text(layer)}"
        if layer.name:
            what = f"layer {stage.name}.{layer.name}, {what},"
        return f"{what} leaves no output on a {' x '.join(map(str, sides(stop.size)))} input"
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


def _batched(macs: Value, batch: Value) -> Value:
    """One image's MACs for a batch of ``batch`` images.

    >>> from convalgebra.symbols import B, I
    >>> _batched(100, 8), _batched(2 * I**2 + 3, B), _batched(0, B)
    (800, 2*B*I**2 + 3*B, 0)
    """
    if is_concrete(macs) and macs == 0:
        return 0
    return _expanded(batch * macs)


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

    part, whole = sympy.sympify(part, strict=True), sympy.sympify(whole, strict=True)
    gens = tuple(sorted(part.free_symbols | whole.free_symbols, key=str))
    try:  # polynomials (every closed form without floors): their gcd, much faster than cancel
        den = _poly(whole, gens)
        coeff, rest = part.as_coeff_Mul()
        powers = rest.as_powers_dict() if rest != 1 else {}
        if coeff.is_Rational and (den.domain.is_ZZ or den.domain.is_QQ) and set(powers) <= set(gens) and \
                all(e.is_Integer and e > 0 for e in powers.values()):  # most layers, c * H * W: term by term
            lowest = tuple(min(int(powers.get(g, 0)), min(m[i] for m in den.monoms())) for i, g in enumerate(gens))
            top, bottom = _reduced(whole, gens, lowest)
            return coeff / bottom * sympy.Mul(*(g ** (int(powers.get(g, 0)) - e)
                                                                      for g, e in zip(gens, lowest))) / top
        return _reduced_share(part, whole, gens)
    except sympy.PolynomialError:
        return sympy.cancel(part / whole)


@lru_cache(maxsize=256)
def _reduced_share(part: Any, whole: Any, gens: tuple[Any, ...]) -> Any:
    """``part / whole`` in lowest terms by the polynomials' gcd (a transformer's attention layers, one
    sum of terms each, repeat: each distinct one reduced once)."""
    import sympy

    num, den = sympy.Poly(part, *gens), _poly(whole, gens)
    common = num.gcd(den)
    (top, num), (bottom, den) = num.quo(common).primitive(), den.quo(common).primitive()
    return sympy.Rational(top, bottom) * num.as_expr() / den.as_expr()


@lru_cache(maxsize=64)
def _poly(whole: Any, gens: tuple[Any, ...]) -> Any:
    """``whole`` as a polynomial in ``gens``: one network total, shared by all its layers' shares."""
    import sympy

    return sympy.Poly(whole, *gens)


@lru_cache(maxsize=256)
def _reduced(whole: Any, gens: tuple[Any, ...], lowest: tuple[int, ...]) -> tuple[Any, Any]:
    """``whole`` divided by the monomial ``gens ** lowest`` and by its content: (that primitive
    polynomial as an expression, the content). The gcd of a monomial with ``whole`` is a monomial
    (times a number, over the integers): so a layer's share needs no polynomial gcd."""
    import sympy

    den = _poly(whole, gens)
    content, primitive = den.primitive()
    shifted = sympy.Poly.from_dict({tuple(m - e for m, e in zip(monom, lowest)): c
                                    for monom, c in primitive.terms()}, *gens)
    return shifted.as_expr(), sympy.Rational(content)


def _layer_cost(stage: Stage, index: int, row: CostRow, runs: bool, reused: bool = False,
                qualified: bool = False, unused: bool = False) -> "LayerCost":
    """A row of the table; an imported model's layers already have their full names (torch's)."""
    layer = row.layer
    name = layer.name if qualified and layer.name else f"{stage.name}.{layer.name or index}"
    return LayerCost(name, stage.name, stage.module, layer, row.input_size, row.output_size,
                     _expanded(row.macs) if runs else 0, 0 if reused else row.params, runs, unused=unused)


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
    unused: bool = False  #: torch computes it and no output reads it: counted, and shown as unused


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
class NetworkCost(Result):
    """A network counted at one input size: layers, stages, totals; render with ``to_text``,
    ``to_markdown``, ``to_html``, ``to_latex`` or ``to_dict`` (the JSON contract)."""

    __view__ = "network_cost"

    network: Network
    size: Value
    layers: tuple[LayerCost, ...]
    stages: tuple[StageCost, ...]
    macs: Value
    params: Value
    auxiliary: bool = False
    batch: Value = 1  #: the images the MACs are for (the network's batch): 1, a number, or the symbol B

    @property
    def flops(self) -> Value:
        """Floating-point operations: 2 per multiply-accumulate."""
        return 2 * self.macs

    @property
    def uncounted(self) -> tuple[LayerCost, ...]:
        """The layers whose MACs are not counted: operations an imported model uses that the
        library does not know (see :class:`~convalgebra.layers.Uncounted`).

        >>> network("resnet18").count(224).uncounted
        ()
        """
        return tuple(row for row in self.layers if isinstance(row.layer, Uncounted))

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
        multiples = self.exact_multiples
        return None if multiples is None or len(multiples) != 1 else next(iter(multiples.values()))

    @property
    def exact_multiples(self) -> Optional[dict[Any, int]]:
        """:attr:`exact_multiple` for each symbol of the size: at (H, W), ``{H: 32, W: 32}``; the
        closed forms are exact whenever each symbol is a multiple of its number (None at a
        number, or where no such numbers can be read off).

        >>> from convalgebra.symbols import H, W
        >>> network("resnet18").count((H, W)).exact_multiples
        {H: 32, W: 32}
        """
        free: set[Any] = set().union(*(getattr(side, "free_symbols", set()) for side in sides(self.size)))
        if not free:
            return None
        import sympy

        multiples = {x: 1 for x in sorted(free, key=str)}
        for row in self.layers:
            for size in (row.input_size, row.output_size) if row.runs else ():
                for side in () if size is None else sides(size):
                    if is_concrete(side):
                        continue
                    symbols = cast("sympy.Expr", side).free_symbols
                    if len(symbols) != 1:
                        return None
                    (x,) = symbols
                    poly = sympy.Poly(side, x)
                    if poly.degree() != 1 or not poly.coeff_monomial(1).is_integer:
                        return None
                    multiples[x] = math.lcm(multiples[x], int(sympy.Rational(poly.coeff_monomial(x)).q))
            window = getattr(row.layer, "window", None) if row.runs else None
            for side in sides(row.input_size) if window else ():  # attention pads each side to whole windows
                if is_concrete(side):
                    continue
                (x,) = cast("sympy.Expr", side).free_symbols
                poly = sympy.Poly(side, x)
                if poly.coeff_monomial(1) % window:
                    return None
                multiples[x] = math.lcm(multiples[x], int(sympy.Rational(poly.coeff_monomial(x) / window).q))
        return multiples

    def exact_when(self) -> Optional[str]:
        """:attr:`exact_multiples` as words: ``'I is a multiple of 16'``, ``'H and W are multiples of 32'``
        (None where there is none).

        >>> from convalgebra.symbols import I, H, W
        >>> network("resnet18").count(2 * I + 1).exact_when(), network("resnet18").count((H, W)).exact_when()
        ('I is a multiple of 16', 'H and W are multiples of 32')
        """
        multiples = self.exact_multiples
        if multiples is None:
            return None
        if len(multiples) == 1:
            ((x, m),) = multiples.items()
            return f"{x} is a multiple of {m}"
        if len(set(multiples.values())) == 1:
            return f"{' and '.join(map(str, multiples))} are multiples of {next(iter(multiples.values()))}"
        return " and ".join(f"{x} is a multiple of {m}" for x, m in multiples.items())
