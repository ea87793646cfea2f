"""Which of the article's modules a block is, and where they sit in a network: matched against the rules themselves.

Each module's rule applied to the standard convolution (K x K, M -> N) gives a pattern of
convolutions in the symbols K, M, N and the module's own (t, G, r ...); a block is that
module when its convolutions, in order and in the same branches, solve the pattern's equations
(channels in and out, groups, kernel sides) for positive numbers. No class names are read.

The patterns are data (the rules' blocks, and a few variants the papers name: MBConv with t = 1,
the stride-2 ShuffleNet V2 unit, a bottleneck with squeeze-and-excitation, GhostNet's bottleneck);
the search is one walk of a network's blocks that tries them on every sub-block: each block of the
tree, and each run of consecutive blocks of a series, wherever it sits (an ``nn.Sequential``, a
library's own block, a plain function).

>>> from convalgebra.layers import Conv, BatchNorm
>>> from convalgebra.blocks import Series, Residual
>>> block = Residual(Series(Conv(256, 64, (1, 1)), BatchNorm(64), Conv(64, 64, (3, 3)), Conv(64, 256, (1, 1))))
>>> recognize(block).text
'bottleneck (t = 4)'
>>> recognize(Series(Conv(32, 32, (3, 3), groups=32, stride=2), Conv(32, 64, (1, 1)))).text
'depthwise-separable, stride 2'
>>> recognize(Conv(3, 8)) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional, Sequence

from .blocks import AnyBlock, Block, Graph, Parallel, Repeat, Residual, Scale, Series, check_block, children
from .layers import AdaptivePool, AnyLayer, Conv, Linear, Shuffle, Slice

__all__ = ["Recognized", "recognize", "recognize_network", "find_modules"]

#: The modules tried, in this order (the first that solves wins; they exclude one another).
_CANDIDATES = ("bottleneck", "resnext", "inverted-bottleneck", "mbconv", "depthwise-separable", "shufflenet-v2",
               "convnext", "xception", "fire", "factorized", "vgg-stack", "ghost", "dense-layer")


@dataclass(frozen=True)
class Recognized:
    """A block recognized as ``module`` (``variant`` names a form the paper names apart: ``'down-sampling
    unit'``, ``'with squeeze-excitation'``), with its parameters' values and its stride.

    >>> Recognized("shufflenet-v2", (), 2, "down-sampling unit").text
    'shufflenet-v2 down-sampling unit, stride 2'
    """

    module: str
    parameters: tuple[tuple[str, Any], ...]
    stride: int = 1
    variant: str = ""

    @property
    def text(self) -> str:
        shown = ", ".join(f"{name} = {value}" for name, value in self.parameters)
        return (self.module + (f" {self.variant}" if self.variant else "") + (f" ({shown})" if shown else "")
                + (f", stride {self.stride}" if self.stride != 1 else ""))


#: The layers a pattern is matched on: the weighted ones, and those that shape the channels.
_SHAPING = (Conv, Linear, Slice, Shuffle, AdaptivePool)
#: Parameters that count something (an expansion, groups): whole numbers.
_WHOLE = ("t", "G")
#: The modules whose expansion t is any ratio of widths: MobileNet V3's tables expand 80 channels to 200 and 184;
#: DenseNet's bottleneck is 4 times the growth rate (t = 1/4).
_WHOLE_IN = {"inverted-bottleneck": ("G",), "mbconv": ("G",), "dense-layer": ()}
#: A place in a block: a Parallel's branch ("P", i), a Scale's gate ("G", 0), a Residual's side
#: ("R", i), a Graph's node ("N", i); each with the range of layers (start, end) of the block it enters.
_Step = tuple[str, int, int, int]
#: A layer's signature item: its kind and the branches it sits in, within the block matched.
_Item = tuple[str, tuple[tuple[str, int], ...]]


@dataclass(frozen=True)
class _Pattern:
    """A module's pattern: its block's shaping layers and their branches, the module's parameters in
    order, those a variant fixes, and those that are whole numbers."""

    module: str
    variant: str
    layers: tuple[AnyLayer, ...]
    signature: tuple[_Item, ...]
    parameters: tuple[Any, ...]
    fixed: tuple[tuple[str, Any], ...] = ()
    whole: tuple[str, ...] = _WHOLE


@dataclass
class _Layout:
    """A block laid flat: its layers in order with the places each sits in, and every composite's
    range of layers with its parts' ranges (a series' items, a branch, a gate, a graph's node)."""

    layers: list[AnyLayer]
    places: list[tuple[_Step, ...]]
    nodes: list[tuple[Any, int, int, list[tuple[int, int, Optional[int]]]]]  # (block, start, end, parts)


def _layout(block: Block) -> _Layout:
    """Lay ``block`` flat by a loop (a block nested thousands deep is laid out too)."""
    out = _Layout([], [], [])

    def open_(b: Any, place: tuple[_Step, ...]) -> int:
        out.nodes.append((b, len(out.layers), -1, []))
        return len(out.nodes) - 1

    # the stack holds ("enter", block, place, parent node, step kind, step index) and ("close", node id)
    stack: list[tuple[Any, ...]] = [("enter", block, (), None, "", 0)]
    while stack:
        item = stack.pop()
        if item[0] == "close":
            node = item[1]
            b, start, _, parts = out.nodes[node]
            out.nodes[node] = (b, start, len(out.layers), parts)
            continue
        _, b, place, parent, kind, index = item
        start = len(out.layers)
        if parent is not None:
            out.nodes[parent][3].append((start, -1, None))
        if not isinstance(b, (Series, Parallel, Residual, Repeat, Scale, Graph)):
            out.layers.append(b)
            out.places.append(place)
            if parent is not None:
                out.nodes[parent][3][-1] = (start, start + 1, None)
            continue
        node = open_(b, place)
        if parent is not None:
            out.nodes[parent][3][-1] = (start, -1, node)
        stack.append(("close", node))
        parts = children(b)
        kinds = ({Parallel: "P", Residual: "R", Scale: "G", Graph: "N"}.get(type(b), ""))
        for i, part in reversed(list(enumerate(parts))):
            step = place + ((kinds, i, node, 0),) if kinds else place
            stack.append(("enter", part, step, node, kinds, i))
    # the parts' ends, from the next part's start (or the node's end); the steps' ranges from their nodes
    for n, (b, start, end, parts) in enumerate(out.nodes):
        fixed = []
        for i, (s, e, child) in enumerate(parts):
            e = out.nodes[child][2] if child is not None else s + 1
            fixed.append((s, e, child))
        out.nodes[n] = (b, start, end, fixed)
    out.places = [tuple((k, i, out.nodes[n][1], out.nodes[n][2]) for k, i, n, _ in place) for place in out.places]
    return out


def _signature(layout: _Layout, chosen: Sequence[int], start: int, end: int) -> Optional[tuple[list[AnyLayer], tuple[_Item, ...]]]:
    """The shaping layers among ``chosen`` (positions in ``start:end``) and their signature: each one's
    kind and the branches and gates it sits in within ``start:end``; a residual sum's shortcut within is
    not the module's (a projection). None if a layer is a Linear (a classifier, no module)."""
    layers: list[AnyLayer] = []
    items: list[_Item] = []
    for i in chosen:
        layer = layout.layers[i]
        if not isinstance(layer, _SHAPING):
            continue
        if isinstance(layer, Linear):
            return None
        inside = [(k, j) for k, j, s, e in layout.places[i] if start <= s and e <= end]
        if ("R", 1) in inside:
            continue
        layers.append(layer)
        items.append((type(layer).__name__, tuple(x for x in inside if x[0] != "R")))
    return layers, tuple(items)


@lru_cache(maxsize=None)
def _patterns() -> tuple[_Pattern, ...]:
    """Every pattern, in the order tried: the modules' own, then the papers' variants."""
    from .catalog import module
    from .rules import chain, depthwise, excite, ghost, group, reduce, se_gate, separate
    from .symbols import G, K, M, N, r, s, t

    def made(name: str, block: Block, parameters: tuple[Any, ...], variant: str = "",
             fixed: tuple[tuple[str, Any], ...] = (), whole: tuple[str, ...] = _WHOLE) -> _Pattern:
        layout = _layout(block)
        layers, signature = _signature(layout, range(len(layout.layers)), 0, len(layout.layers)) or ([], ())
        return _Pattern(name, variant, tuple(layers), signature, parameters, fixed, whole)

    out = []
    for name in _CANDIDATES:
        m = module(name)
        out.append(made(name, m.block(), tuple(m.parameters), whole=_WHOLE_IN.get(name, _WHOLE)))
    standard = Conv(M, N, (K, K))
    with_se = "with squeeze-excitation"
    # EfficientNet's first MBConv and MobileNet V3's: t = 1, no expansion (its 1 x 1 would map M to M)
    out.append(made("mbconv", chain(separate(), excite(r))(standard), (t, r), fixed=(("t", 1),), whole=()))
    # ShuffleNet V2's unit for spatial down-sampling (Fig. 3d): no split, both halves convolved
    half = N / 2
    out.append(made("shufflenet-v2", Series(Parallel(separate()(Conv(M, half, (K, K))),
                                                     chain(reduce(1), depthwise())(Conv(M, half, (K, K)))),
                                            Shuffle(N, 2)), (), "down-sampling unit"))
    # the bottleneck with squeeze-and-excitation on its K x K (RegNetY, SE-ResNeXt's variants) or its last 1 x 1
    for base, parameters in ((chain(reduce(t)), (t, r)), (chain(reduce(t), group(G)), (t, G, r))):
        name = "bottleneck" if len(parameters) == 2 else "resnext"
        out.append(made(name, chain(base, excite(r))(standard), parameters, with_se))
        out.append(made(name, chain(base, excite(r, on="pointwise", which="last"))(standard), parameters, with_se))
    # GhostNet's bottleneck: a Ghost module up to tM, a depthwise K x K when it strides, squeeze-and-excitation
    # in some, a Ghost module down to N (the expansions are not whole: 200 of 80)
    for strided in (False, True):
        for se in (False, True):
            parts: list[Block] = [ghost(s)(Conv(M, t * M, (1, 1)))]
            if strided:
                parts.append(Conv(t * M, t * M, (K, K), groups=t * M))
            if se:
                parts.append(Scale(se_gate(t * M, r)))
            parts.append(ghost(s)(Conv(t * M, N, (1, 1))))
            out.append(made("ghost-bottleneck", Series(*parts), (t, s, r) if se else (t, s), with_se if se else "",
                            whole=("s",)))
    return tuple(out)


@lru_cache(maxsize=None)
def _by_signature() -> dict[tuple[_Item, ...], tuple[_Pattern, ...]]:
    table: dict[tuple[_Item, ...], list[_Pattern]] = {}
    for p in _patterns():
        table.setdefault(p.signature, []).append(p)
    return {k: tuple(v) for k, v in table.items()}


def _values(layer: AnyLayer) -> tuple[Any, ...]:
    """What a layer is matched on: its channels, and a convolution's groups and kernel sides."""
    if isinstance(layer, Conv):
        return (layer.in_channels, layer.out_channels, layer.groups, *layer.kernel)
    return (layer.in_channels, layer.out_channels)


@lru_cache(maxsize=4096)
def _solve(index: int, got: tuple[tuple[Any, ...], ...]) -> Optional[tuple[tuple[str, Any], ...]]:
    """The pattern ``index``'s parameters that give the layers' values ``got``, or None."""
    import sympy

    pattern = _patterns()[index]
    differences = []  # each want - value, to be solved for 0
    for want_layer, values in zip(pattern.layers, got):
        for want, value in zip(_values(want_layer), values):
            if isinstance(want, int) and isinstance(value, int):
                if want != value:
                    return None  # a 1 x 1 where the block has a 3 x 3: no solve needed
                continue
            difference = sympy.sympify(want - value)
            if difference.is_Number:
                if difference != 0:
                    return None
                continue
            differences.append(difference)
    unknowns = sorted(set().union(*(e.free_symbols for e in differences)), key=str)
    numbers = all(isinstance(v, int) for values in got for v in values)
    solution = _substituted(differences) if numbers else None
    if solution is None:
        equations = [e for e in (sympy.Eq(d, 0) for d in differences) if e is not sympy.true]
        if any(e is sympy.false for e in equations):
            return None
        unknowns = sorted(set().union(*(e.free_symbols for e in equations)), key=str)
        solutions = sympy.solve(equations, unknowns, dict=True) if unknowns else [{}]
        if not solutions:
            return None
        solution = solutions[0]
    if solution is False or len(solution) != len(unknowns) or not all(v.is_positive for v in solution.values()) \
            or not all(v.is_integer for k, v in solution.items() if str(k) in pattern.whole):
        return None
    fixed = dict(pattern.fixed)
    return tuple((str(k), fixed[str(k)] if str(k) in fixed else _number(solution[k]))
                 for k in pattern.parameters if k in solution or str(k) in fixed)


def _substituted(differences: list[Any]) -> Any:
    """The equations solved one unknown at a time (each value put into the rest), fast where each
    step leaves one unknown, as the patterns' do: a dict, False if they contradict, None if a step
    leaves several unknowns (then sympy's solver takes the system)."""
    import sympy

    known: dict[Any, Any] = {}
    todo = list(differences)
    while todo:
        left = []
        for e in todo:
            e = e.xreplace(known)
            free = e.free_symbols
            if not free:
                if e != 0:
                    return False
            elif len(free) == 1:
                (x,) = free
                top = e.as_numer_denom()[0]
                poly = sympy.Poly(top, x)
                roots = [-poly.all_coeffs()[1] / poly.all_coeffs()[0]] if poly.degree() == 1 else sympy.solve(top, x)
                roots = [v for v in roots if v.is_positive]
                if not roots:
                    return False
                known[x] = roots[0]
            else:
                left.append(e)
        if len(left) == len(todo):
            return None
        todo = left
    return known


def _match(layers: Sequence[AnyLayer], signature: tuple[_Item, ...]) -> Optional[Recognized]:
    """The first pattern of ``signature`` the layers solve."""
    if not any(isinstance(x, Conv) for x in layers):
        return None
    patterns = _by_signature().get(signature, ())
    if not patterns:
        return None
    got = tuple(_values(x) for x in layers)
    everything = _patterns()
    for pattern in patterns:
        found = _solve(everything.index(pattern), got)
        if found is not None:
            stride = max(_stride(x) for x in layers)
            return Recognized(pattern.module, found, stride, pattern.variant)
    return None


def _stride(layer: AnyLayer) -> int:
    stride = getattr(layer, "stride", 1)
    return max(stride) if isinstance(stride, tuple) else stride


def _number(value: Any) -> Any:
    return int(value) if value.is_Integer else value


def recognize(block: AnyBlock) -> Optional[Recognized]:
    """The module ``block`` is (solved for its parameters), or None if it is none of them.

    >>> recognize("bottleneck")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: recognize takes layers and blocks, not a str; a network is counted with network('bottleneck').count()
    """
    layout = _layout(check_block(block, "recognize"))
    found = _signature(layout, range(len(layout.layers)), 0, len(layout.layers))
    return None if found is None else _match(*found)


def _lengths() -> set[int]:
    return {len(p.signature) for p in _patterns()}


def find_modules(block: AnyBlock, claimed: Optional[Callable[[int], bool]] = None) -> list[tuple[int, int, Recognized]]:
    """Every module found in ``block``, as (first layer, end, what it is) by the positions of its
    layers in order (:func:`~convalgebra.blocks.iter_layers`): one walk that tries each block whole,
    then each run of consecutive items of a series (the longest first), then the blocks inside.

    >>> from convalgebra.layers import BatchNorm, Activation
    >>> dw = lambda m, n: (Conv(m, m, (3, 3), groups=m), BatchNorm(m), Activation(m), Conv(m, n, (1, 1)))
    >>> [(a, b, r.text) for a, b, r in find_modules(Series(Conv(3, 32), *dw(32, 64), *dw(64, 128)))]
    [(1, 5, 'depthwise-separable'), (5, 9, 'depthwise-separable')]
    """
    return _find(_layout(check_block(block, "find_modules")), claimed or (lambda i: False))


def _find(layout: _Layout, claimed: Callable[[int], bool]) -> list[tuple[int, int, Recognized]]:
    lengths = _lengths()
    shaping = [0]
    for layer in layout.layers:
        shaping.append(shaping[-1] + isinstance(layer, _SHAPING))
    found: list[tuple[int, int, Recognized]] = []

    def free(start: int, end: int) -> bool:
        return not any(claimed(i) for i in range(start, end))

    def tried(start: int, end: int) -> Optional[Recognized]:
        if shaping[end] - shaping[start] < min(lengths) or not free(start, end):
            return None
        got = _signature(layout, range(start, end), start, end)
        return None if got is None or len(got[1]) not in lengths else _match(*got)

    todo = [0] if layout.nodes else []
    while todo:
        n = todo.pop()
        block, start, end, parts = layout.nodes[n]
        whole = tried(start, end)
        if whole is not None:
            found.append((start, end, whole))
            continue
        inner: list[int] = []
        if isinstance(block, Series):
            i = 0
            while i < len(parts):
                s, e, child = parts[i]
                if shaping[e] == shaping[s]:
                    i += 1
                    continue
                if child is not None and (r := tried(s, e)) is not None:
                    found.append((s, e, r))
                    i += 1
                    continue
                for j in range(len(parts), i + 1, -1):
                    last = parts[j - 1][1]
                    count = shaping[last] - shaping[s]
                    if count not in lengths or (i == 0 and j == len(parts)):
                        continue
                    r = tried(s, last)
                    if r is not None:
                        found.append((s, last, r))
                        i = j
                        break
                else:
                    if child is not None:
                        inner.append(child)
                    i += 1
        else:
            inner = [child for _, _, child in parts if child is not None]
        todo.extend(reversed(inner))
    return sorted(found, key=lambda x: x[0])


def recognize_network(net: Any) -> tuple[list[tuple[str, Optional[Recognized]]], str]:
    """Each block of a network and what it is, and a summary line: ``'ResNet-50: 16 bottlenecks'``.

    An imported network's blocks are first torch's block modules (:attr:`Network.parts`) each
    matched whole; then every module found by pattern wherever it sits in the rest (inside an
    ``nn.Sequential``, a block that is none of the modules whole, a zoo network), named by the
    module that holds it (or its first and last layers); a block module neither matches nor holds
    is none of the modules.

    >>> from convalgebra.catalog import network
    >>> recognize_network(network("mobilenet_v1"))[1]
    'MobileNet V1 1.0-224: 13 depthwise-separables'
    >>> recognize_network(None)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: None: expected a Network (one imported with from_torch or from the zoo), not NoneType
    """
    from .errors import wrong_type
    from .networks import Network

    if not isinstance(net, Network):
        raise wrong_type(net, "a Network (one imported with from_torch or from the zoo)")
    stages = [stage.block for stage in net.stages if not stage.side]
    layout = _layout(Series(*stages))
    names = [getattr(x, "name", "") or "" for x in layout.layers]
    taken = [False] * len(names)
    found: list[tuple[int, str, Optional[Recognized]]] = []
    missed: list[tuple[int, str, list[int]]] = []
    for part in net.parts:
        mine = [i for i, name in enumerate(names) if name.startswith(part + ".")]
        if not any(isinstance(layout.layers[i], Conv) for i in mine):
            continue
        start, end = mine[0], mine[-1] + 1
        while start > 0 and not names[start - 1]:  # a layer torch has no module for (the identity a concatenation keeps)
            start -= 1
        got = _signature(layout, mine, start, end)
        r = None if got is None else _match(*got)
        if r is None:
            missed.append((mine[0], part, mine))
            continue
        found.append((mine[0], part, r))
        for i in mine:
            taken[i] = True
    for start, end, r in _find(layout, lambda i: taken[i]):
        found.append((start, _name(names, start, end), r))
        for i in range(start, end):
            taken[i] = True
    found += [(first, part, None) for first, part, mine in missed if not any(taken[i] for i in mine)]
    found.sort(key=lambda x: x[0])
    listed = [(name, r) for _, name, r in found]
    return listed, summary(net.title, [r for _, r in listed])


def _name(names: list[str], start: int, end: int) -> str:
    """A block found by pattern, by the module that holds its layers and no other, else by its first and last layers."""
    inside = [n for n in names[start:end] if n]
    if not inside:
        return f"layers {start} to {end - 1}"
    prefix = inside[0].split(".")
    for n in inside[1:]:
        parts = n.split(".")
        k = 0
        while k < min(len(prefix), len(parts)) and prefix[k] == parts[k]:
            k += 1
        prefix = prefix[:k]
    common = ".".join(prefix)
    if common and common not in inside and not any(n == common or n.startswith(common + ".")
                                                    for i, n in enumerate(names) if not start <= i < end):
        return common
    return inside[0] if len(inside) == 1 else f"{inside[0]} to {inside[-1]}"


def summary(title: str, found: Sequence[Optional[Recognized]]) -> str:
    """``'ResNet-50: 16 bottlenecks'``, with each parameter's values and each variant's count when they vary.

    >>> summary("MobileNet V2", [Recognized("inverted-bottleneck", (("t", 6),))] * 16 + [None])
    'MobileNet V2: 16 inverted-bottlenecks (t = 6); 1 block none of the modules'
    >>> summary("ShuffleNet V2", [Recognized("shufflenet-v2", ())] * 13 + [Recognized("shufflenet-v2", (), 2, "down-sampling unit")] * 3)
    'ShuffleNet V2: 16 shufflenet-v2s (3 down-sampling units)'
    """
    counts: dict[str, list[Recognized]] = {}
    others = 0
    for r in found:
        if r is None:
            others += 1
        else:
            counts.setdefault(r.module, []).append(r)
    parts = []
    for name, rs in counts.items():
        values: dict[str, list[Any]] = {}
        for r in rs:
            for k, v in r.parameters:
                values.setdefault(k, []).append(v)
        variants: dict[str, int] = {}
        for r in rs:
            if r.variant:
                variants[r.variant] = variants.get(r.variant, 0) + 1
        shown = [f"{n} {v}" if v.startswith("with") or n == 1 else f"{n} {v}s" for v, n in variants.items()]
        for k, vs in values.items():
            distinct = sorted(set(vs), key=lambda v: (vs.count(v), str(v)))
            shown.append(f"{k} = {distinct[0]}" if len(distinct) == 1 else
                         f"{k} = " + ", ".join(f"{v} ({vs.count(v)}x)" for v in distinct))
        parts.append(f"{len(rs)} {name}{'s' if len(rs) != 1 else ''}" + (f" ({'; '.join(shown)})" if shown else ""))
    if others:
        parts.append(f"{others} block{'s' if others != 1 else ''} none of the modules")
    return f"{title}: {'; '.join(parts) or 'no blocks'}"
