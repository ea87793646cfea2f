"""Blocks: layers joined in series, side by side, around a residual sum, or repeated; and
the one way to walk them.

A block is a tree whose leaves are layers (:mod:`convalgebra.layers`):

- :class:`Series`: one after another;
- :class:`Parallel`: side by side on the same input, outputs concatenated along channels;
- :class:`Residual`: ``body(x) + shortcut(x)``;
- :class:`Repeat`: a body applied ``count`` times in series (the one way to repeat a layer);
- :class:`Scale`: ``x * gate(x)``, squeeze-and-excitation's scale;
- :class:`Graph`: any dataflow graph (a DAG): :class:`Node` s, each a block applied to the
  values it reads (several joined by a sum, a product or a concatenation), for what is not
  nested series and parallel (DLA, HRNet, a feature pyramid, a branch computed but unused).

:class:`Parallel` is the concatenation: with an :class:`~convalgebra.layers.Identity` branch it
keeps its input beside new channels (DenseNet), with :class:`~convalgebra.layers.Slice`
branches it splits the channels (ShuffleNet V2).

Every walker (counting, substituting, naming, exporting, rewriting) goes through three
functions here: :func:`children` and :func:`fold` (structure, bottom up) and :func:`flow`
(a value such as a size or a channel count carried from the input to the output).

>>> from convalgebra.layers import Conv, BatchNorm
>>> block = Series(Conv(8, 16, (1, 1)), Repeat(Conv(16, 16), 2), BatchNorm(16))
>>> [type(x).__name__ for x in iter_layers(block)]
['Conv', 'Conv', 'BatchNorm']
>>> out_channels(block)
16
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterator, Optional, Sequence, TypeVar, Union, cast

from .display import RichDisplay
from .errors import InvalidValueError, from_torch_package, indefinite, missing_values, type_name, wrong_type
from .layers import LAYER_TYPES, Conv, Layer, Value, is_concrete, layer_kind, normal
from .symbols import VALID, shown
from .validation import check

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = [
    "Series", "Parallel", "Residual", "Repeat", "Scale", "Graph", "Node", "Join", "Block", "AnyBlock", "Place",
    "children", "rebuild", "fold", "transform", "map_layers", "iter_layers", "flow",
    "substitute", "out_channels", "drive", "same_value", "whole_value", "size_fields", "check_block", "drop_empty_branches",
]

R = TypeVar("R")


class _Composite:
    """What every composite shares: equality, hash and repr as a dataclass has them, each
    computed by a loop instead of recursion, so a block nested as deep as memory holds
    compares, hashes and prints (a dataclass's own recurse once per level).

    >>> deep = Conv(8, 8)
    >>> for _ in range(5000):
    ...     deep = Series(deep)
    >>> deep == Series(deep.items[0]), hash(deep) == hash(Series(deep.items[0])), repr(deep).count("Series(")
    (True, True, 5000)
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _equal(cast(Block, self), cast(Block, other))

    def __hash__(self) -> int:
        return cast(int, fold(cast(Block, self), hash, lambda b, parts: hash(
            (type(b).__name__, b.count if isinstance(b, Repeat) else None, len(parts), *parts))))

    def __repr__(self) -> str:
        return _block_repr(cast(Block, self))


@dataclass(frozen=True, repr=False, eq=False)
class Series(_Composite, RichDisplay):
    """Layers one after another.

    >>> Series(Conv(3, 8), Conv(8, 8)).items[1].in_channels
    8
    """

    items: tuple["Block", ...]

    def __init__(self, *items: "Block") -> None:
        object.__setattr__(self, "items", tuple(check_block(item, "Series") for item in items))


@dataclass(frozen=True, repr=False, eq=False)
class Parallel(_Composite, RichDisplay):
    """Branches side by side on the same input, outputs concatenated along channels.

    >>> out_channels(Parallel(Conv(16, 64, (1, 1)), Conv(16, 64, (3, 3))))
    128
    """

    items: tuple["Block", ...]

    def __init__(self, *items: "Block") -> None:
        if not items:
            raise InvalidValueError("Parallel() has no branch; give at least one layer or block")
        object.__setattr__(self, "items", tuple(check_block(item, "Parallel") for item in items))


@dataclass(frozen=True, repr=False, eq=False)
class Residual(_Composite, RichDisplay):
    """``body(x) + shortcut(x)``: ResNet's sum. The shortcut is the identity (``None``) or a
    block, such as a strided 1 x 1 projection; the addition itself costs no MACs.

    >>> from convalgebra.cost import total, count
    >>> block = Residual(Series(Conv(64, 64, (3, 3)), Conv(64, 64, (3, 3))))
    >>> total(block, 56)
    (231211008, 73728)
    >>> [row.branch for row in count(Residual(Conv(64, 128, (3, 3), stride=2, padding=1),
    ...                                       Conv(64, 128, (1, 1), stride=2, padding=0)), 56)]
    [(0,), (1,)]
    """

    body: "Block"
    shortcut: Optional["Block"] = None

    def __post_init__(self) -> None:
        check_block(self.body, "Residual")
        if self.shortcut is not None:
            check_block(self.shortcut, "Residual")


@dataclass(frozen=True, repr=False, eq=False)
class Repeat(_Composite, RichDisplay):
    """``body`` applied ``count`` times in series (a count that may be a symbol).

    The body must keep its size and its channels; every layer's cost is ``count`` times
    its cost once. A rule that rewrites a repeated convolution repeats the whole rewrite:

    >>> from convalgebra.cost import count
    >>> from convalgebra.symbols import N, I, k
    >>> rows = count(Repeat(Series(Conv(N, N / 4, (1, 1)), Conv(N / 4, N, (3, 3))), k), I)
    >>> [r.macs for r in rows], [r.times for r in rows]
    ([I**2*N**2*k/4, 9*I**2*N**2*k/4], [k, k])
    """

    body: "Block"
    count: Value

    def __post_init__(self) -> None:
        check_block(self.body, "Repeat")
        object.__setattr__(self, "count", check("count", self.count, "repeats"))


@dataclass(frozen=True, repr=False, eq=False)
class Scale(_Composite, RichDisplay):
    """``x * gate(x)``: squeeze-and-excitation's scale. The ``gate`` is a branch on the input
    that makes one weight per channel, pooled to 1 x 1 (or one per position, at the input's
    size); the product broadcasts it over the input. The multiplication costs no MACs; the
    gate's layers cost what they cost, at 1 x 1:

    >>> from convalgebra.cost import count
    >>> from convalgebra.layers import AdaptivePool, Activation
    >>> se = Scale(Series(AdaptivePool(64), Conv(64, 16, (1, 1), bias=True), Activation(16),
    ...                   Conv(16, 64, (1, 1), bias=True), Activation(64, "sigmoid")))
    >>> [(r.output_size, r.macs) for r in count(se, 56)]
    [(1, 0), (1, 1024), (1, 0), (1, 1024), (1, 0)]
    >>> out_channels(Scale(Conv(64, 16, (1, 1))), 64)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a scale multiplies 64 channels by a gate of 16
    """

    gate: "Block"

    def __post_init__(self) -> None:
        check_block(self.gate, "Scale")


#: How a graph's node joins the values it reads: a sum (``"add"``, also a difference), a product
#: (``"multiply"``, also a quotient), both broadcasting a 1 x 1 value or a 1-channel one over the
#: other, a concatenation along the channels (``"concat"``), or a resize of the first value to the
#: second's height and width (``"resize"``: ``F.interpolate(x, size=y.shape[-2:])``, a segmentation
#: model's logits brought back to its input's size).
JOINS: tuple[str, ...] = ("add", "multiply", "concat", "resize")


@dataclass(frozen=True)
class Join:
    """The join of several values at a graph's node, handed to :func:`flow`'s ``join`` (a
    marker: it holds no layer)."""

    kind: str


@dataclass(frozen=True)
class Node:
    """One node of a :class:`Graph`: ``block`` applied to the value its ``inputs`` make (value 0
    is the graph's input, value ``i`` the output of node ``i - 1``); several inputs are joined by
    ``join`` first. ``unused`` marks a value torch computes that no output reads: it is counted,
    and shown as unused."""

    block: "Block"
    inputs: tuple[int, ...] = (0,)
    join: str = ""
    unused: bool = False

    def __post_init__(self) -> None:
        check_block(self.block, "Node")
        if not isinstance(self.inputs, (tuple, list)):
            raise InvalidValueError(f"a graph node reads values by their numbers >= 0, not {shown(self.inputs)}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if not self.inputs or not all(type(i) is int and i >= 0 for i in self.inputs):
            raise InvalidValueError(f"a graph node reads values by their numbers >= 0, not {shown(self.inputs)}")
        if not isinstance(self.join, str) or not isinstance(self.unused, bool):
            raise InvalidValueError(f"a graph node's join is a word ({', '.join(JOINS)}) and unused True or False,"
                                    f" not {shown(self.join)} and {shown(self.unused)}")
        if (len(self.inputs) > 1) != bool(self.join) or (self.join and self.join not in JOINS):
            raise InvalidValueError(f"a graph node reading {len(self.inputs)} value(s) joins them by one of"
                                    f" {', '.join(JOINS)} (only when it reads several), not {self.join!r}")


@dataclass(frozen=True)
class Graph(RichDisplay):
    """A dataflow graph: nodes in an order where each reads only the input (value 0) and earlier
    nodes' outputs (node ``i``'s is value ``i + 1``); ``outputs`` are the values it hands on, the
    first of them on the main path (a model's other outputs: a segmentation model's auxiliary
    head, a backbone's feature levels). Every node is counted, whether an output reads it or not.

    DLA's and HRNet's aggregations, a feature pyramid, are graphs that no nesting of series and
    parallel blocks holds without counting a value twice:

    >>> from convalgebra.cost import total
    >>> from convalgebra.layers import Identity
    >>> g = Graph(Node(Conv(8, 8)), Node(Conv(8, 8), (1,)), Node(Conv(8, 8), (1,)),
    ...           Node(Conv(16, 8, (1, 1)), (2, 3), "concat"), Node(Conv(8, 8), (1, 4), "add"))
    >>> total(g, 7) == (4 * 9 * 64 * 49 + 16 * 8 * 49, 4 * 9 * 64 + 16 * 8)
    True
    >>> out_channels(Graph(Node(Conv(8, 4)), Node(Conv(8, 6)), Node(Identity(10), (1, 2), "concat")))
    10
    """

    nodes: tuple[Node, ...]
    outputs: tuple[int, ...] = ()

    def __init__(self, *nodes: Node, outputs: Sequence[int] = ()) -> None:
        for node in nodes:
            if not isinstance(node, Node):
                raise InvalidValueError(f"Graph takes Node(block, inputs, join), not {indefinite(type(node).__name__)}")
        for i, node in enumerate(nodes):
            if max(node.inputs) > i:
                raise InvalidValueError(f"graph node {i} reads value {max(node.inputs)}, not made before it")
        if not nodes:
            raise InvalidValueError("a graph holds at least one Node")
        if not isinstance(outputs, (tuple, list)):
            raise InvalidValueError(f"a graph's outputs are values 0 to {len(nodes)}, not {shown(outputs)}")
        outs = tuple(outputs) or (len(nodes),)
        if not all(type(o) is int and 0 <= o <= len(nodes) for o in outs):
            raise InvalidValueError(f"a graph's outputs are values 0 to {len(nodes)}, not {shown(outs)}")
        object.__setattr__(self, "nodes", tuple(nodes))
        object.__setattr__(self, "outputs", outs)


Block = Union[Layer, Series, Parallel, Residual, Repeat, Scale, Graph]
#: The same as Block (the name the network code uses).
AnyBlock = Block

_COMPOSITES = (Series, Parallel, Residual, Repeat, Scale, Graph)


def _equal(a: Block, b: Block) -> bool:
    """Whether two blocks are equal, field by field, walked by a loop."""
    pairs = [(a, b)]
    while pairs:
        x, y = pairs.pop()
        if x is y:
            continue
        if x.__class__ is not y.__class__:
            return False
        if not isinstance(x, _COMPOSITES):
            if x != y:
                return False
            continue
        if isinstance(x, Repeat) and not x.count == cast(Repeat, y).count:
            return False
        if isinstance(x, Graph) and _wiring(x) != _wiring(cast(Graph, y)):
            return False
        xs, ys = children(x), children(y)
        if len(xs) != len(ys):
            return False
        pairs.extend(zip(xs, ys))
    return True


def _wiring(graph: Graph) -> tuple[Any, ...]:
    """What a graph holds besides its nodes' blocks: each node's inputs and join, and its outputs."""
    return graph.outputs, tuple((n.inputs, n.join, n.unused) for n in graph.nodes)


def _block_repr(block: Block) -> str:
    """A block's repr as a dataclass writes it (``Series(items=(...))``), built by a loop."""
    out: list[str] = []
    todo: list[Any] = [block]  # blocks still to write, and text (a str) to write as it is
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
        elif not isinstance(item, _COMPOSITES):
            out.append(repr(item))
        elif isinstance(item, (Series, Parallel)):
            parts: list[Any] = [f"{type(item).__name__}(items=("]
            for i, part in enumerate(item.items):
                parts += [", "] * (i > 0) + [part]
            todo.extend(reversed(parts + ["," * (len(item.items) == 1) + "))"]))
        elif isinstance(item, Residual):
            todo.extend(reversed(["Residual(body=", item.body, ", shortcut=",
                                  "None" if item.shortcut is None else item.shortcut, ")"]))
        elif isinstance(item, Repeat):
            todo.extend(reversed(["Repeat(body=", item.body, f", count={item.count!r})"]))
        elif isinstance(item, Graph):
            out.append(repr(item))  # a graph's own (a dataclass's): its nodes with their wiring
        else:
            todo.extend(reversed(["Scale(gate=", item.gate, ")"]))
    return "".join(out)


def check_block(item: Any, where: str) -> Block:
    """``item`` if it is a layer or a block, else the error that says what was given (a
    PyTorch module by its class, with what to do instead).

    >>> Series([Conv(8, 8)])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: Series takes layers and blocks, not a list; write Series(a, b), not Series([a, b])
    >>> check_block("resnet50", "count")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: count takes layers and blocks, not a str; a network is counted with network('resnet50').count()
    """
    if isinstance(item, LAYER_TYPES + _COMPOSITES):
        return cast(Block, item)
    if from_torch_package(item):
        raise wrong_type(item, f"convalgebra's layers and blocks ({where} takes no other)")
    hint = f"; write {where}(a, b), not {where}([a, b])" if isinstance(item, (list, tuple)) else ""
    if isinstance(item, str):
        hint = f"; a network is counted with network({item!r}).count()"
    raise InvalidValueError(f"{where} takes layers and blocks, not {indefinite(type_name(item))}{hint}")


# -- the structure: children, rebuilt bottom up ------------------------------------

def children(block: Block) -> tuple[Block, ...]:
    """The parts of a block, in order (a layer has none).

    >>> len(children(Residual(Conv(8, 8), Conv(8, 8, (1, 1))))), children(Conv(8, 8))
    (2, ())
    """
    if isinstance(block, (Series, Parallel)):
        return block.items
    if isinstance(block, Residual):
        return (block.body,) if block.shortcut is None else (block.body, block.shortcut)
    if isinstance(block, Repeat):
        return (block.body,)
    if isinstance(block, Scale):
        return (block.gate,)
    if isinstance(block, Graph):
        return tuple(node.block for node in block.nodes)
    return ()


def rebuild(block: Block, parts: Sequence[Block]) -> Block:
    """``block`` with its parts replaced by ``parts`` (as many, in the same order).

    >>> rebuild(Repeat(Conv(8, 8), 3), [Conv(8, 8, (1, 1))]).body.kernel
    (1, 1)
    """
    if isinstance(block, (Series, Parallel)):
        return type(block)(*parts)
    if isinstance(block, Residual):
        return Residual(parts[0], parts[1] if len(parts) > 1 else None)
    if isinstance(block, Repeat):
        return Repeat(parts[0], block.count)
    if isinstance(block, Scale):
        return Scale(parts[0])
    if isinstance(block, Graph):
        return Graph(*(replace(node, block=part) for node, part in zip(block.nodes, parts)), outputs=block.outputs)
    return block


def fold(block: Block, leaf: Callable[[Layer], R], node: Callable[[Block, list[R]], R]) -> R:
    """The one bottom-up walk: ``leaf`` on every layer, ``node`` on every composite with
    its parts' results.

    >>> fold(Series(Conv(3, 8), Parallel(Conv(8, 4), Conv(8, 4))), lambda layer: 1,
    ...      lambda block, parts: sum(parts))
    3
    """
    def walk(b: Block) -> Generator[Any, Any, R]:
        parts: list[R] = []
        for part in children(b):
            parts.append((yield walk(part)) if isinstance(part, _COMPOSITES) else leaf(cast(Layer, part)))
        return node(b, parts)

    if not isinstance(block, _COMPOSITES):
        return leaf(cast(Layer, block))
    return cast(R, drive(walk(block)))


def drive(walk: Generator[Any, Any, Any]) -> Any:
    """Run a walk written as a generator that yields the walk of each part and is sent that
    part's result: recursion kept on a list, not on Python's stack, so a block nested as
    deep as memory holds is walked (every walk of blocks goes through here).

    >>> def depth(n):
    ...     return 0 if n == 0 else 1 + (yield depth(n - 1))
    >>> drive(depth(100000))
    100000
    """
    stack: list[Generator[Any, Any, Any]] = [walk]
    result: Any = None
    while stack:
        try:
            part = stack[-1].send(result)
        except StopIteration as done:
            stack.pop()
            result = done.value
        else:
            stack.append(part)
            result = None
    return result


def transform(block: Block, leaf: Callable[[Layer], Block],
              node: Optional[Callable[[Block], Block]] = None) -> Block:
    """The block rebuilt with ``leaf(layer)`` for every layer and ``node(rebuilt)`` for every
    composite (when given).

    >>> transform(Repeat(Conv(8, 8), 2), lambda c: c, lambda b: b.body if isinstance(b, Repeat) else b)
    ... # doctest: +ELLIPSIS
    Conv(8, 8, ...)
    """
    return fold(block, leaf, lambda b, parts: (node or _same_block)(rebuild(b, parts)))


def _same_block(block: Block) -> Block:
    return block


def map_layers(block: Block, fn: Callable[[Layer], Block]) -> Block:
    """The block with every layer replaced by ``fn(layer)`` (a layer or a block), structure kept.

    >>> from convalgebra.layers import BatchNorm
    >>> map_layers(Series(Conv(3, 8), Conv(8, 8)), lambda c: Series(c, BatchNorm(c.out_channels)))
    ... # doctest: +ELLIPSIS
    Series(items=(Series(items=(Conv(...), BatchNorm(8))), Series(...)))
    """
    return transform(block, fn)


def iter_layers(block: Block) -> Iterator[Layer]:
    """The layers of a block in order: into branches, residual sums (body, then shortcut)
    and repeats (the repeated layers once).

    >>> from convalgebra.layers import BatchNorm
    >>> [type(x).__name__ for x in iter_layers(Residual(Conv(8, 8), Series(Conv(8, 8, (1, 1)), BatchNorm(8))))]
    ['Conv', 'Conv', 'BatchNorm']
    """
    todo = [block]
    while todo:
        item = todo.pop()
        if isinstance(item, _COMPOSITES):
            todo.extend(reversed(children(item)))
        else:
            yield cast(Layer, item)


def size_fields(block: Block) -> list[tuple[str, Value]]:
    """Every size a block is built from, by field name: each layer's channels, groups,
    channels per group and kernel sides, and each repeat's count.

    >>> from convalgebra.symbols import N, k
    >>> size_fields(Repeat(Conv(N, N, (3, 3), groups=2), k - 1))  # doctest: +NORMALIZE_WHITESPACE
    [('in_channels', N), ('out_channels', N), ('groups', 2), ('in_channels', N/2), ('out_channels', N/2),
     ('kernel', 3), ('kernel', 3), ('count', k - 1)]
    """
    def leaf(layer: Layer) -> list[tuple[str, Value]]:
        out: list[tuple[str, Value]] = [(name, getattr(layer, name)) for name in layer.SIZES]
        if isinstance(layer, Conv):
            out += [("in_channels", layer.in_channels / layer.groups), ("out_channels", layer.out_channels / layer.groups)]
            out += [("kernel", side) for side in layer.kernel]
        return out

    def node(b: Block, parts: list[list[tuple[str, Value]]]) -> list[tuple[str, Value]]:
        return [item for part in parts for item in part] + ([("count", b.count)] if isinstance(b, Repeat) else [])

    return fold(block, leaf, node)


# -- the data flow: a value carried from input to output ---------------------------

@dataclass(frozen=True)
class Place:
    """Where a layer sits as a value flows through a block: its branch (an index per
    Parallel or Residual passed) and how many times it runs in series (the product of the
    Repeat counts around it)."""

    branch: tuple[int, ...] = ()
    times: Value = 1
    gate: bool = False  #: inside a Scale's gate (a side branch: the main path's size does not flow through it)

    def into(self, index: int) -> "Place":
        return replace(self, branch=self.branch + (index,))

    def gated(self) -> "Place":
        return replace(self, branch=self.branch + (0,), gate=True)

    def repeated(self, count: Value) -> "Place":
        return replace(self, times=normal(self.times * count))


def flow(block: Block, value: R, leaf: Callable[[Layer, R, Place], R],
         join: Callable[[Block, R, list[R]], R], place: Place = Place()) -> R:
    """The one way a value (a size, a channel count) flows through a block.

    ``leaf(layer, value, place)`` gives a layer's output value; ``join(block, value, outs)``
    combines the outputs of a Parallel's branches or a Residual's two sides (the identity
    shortcut's output is ``value`` itself), checks a Repeat's body output ``[out]``, and
    gives a Scale's output from its gate's ``[out]`` (the main path's value is ``value``). In a
    :class:`Graph`, ``join(Join(kind), first, values)`` joins the values a node reads (``first``
    is the first of them), and ``join(graph, value, outs)`` gives the graph's output from the
    values of its ``outputs``.

    >>> flow(Series(Conv(3, 8), Parallel(Conv(8, 4), Conv(8, 6))), 3,
    ...      lambda layer, c, place: layer.out_channels, lambda b, c, outs: sum(outs))
    10
    """
    def walk(b: Block, value: R, place: Place) -> Generator[Any, Any, R]:
        if isinstance(b, Series):
            for item in b.items:
                value = (yield walk(item, value, place)) if isinstance(item, _COMPOSITES) else leaf(
                    cast(Layer, item), value, place)
            return value
        if isinstance(b, Parallel):
            outs = []
            for i, item in enumerate(b.items):
                outs.append((yield walk(item, value, place.into(i))))
            return join(b, value, outs)
        if isinstance(b, Residual):
            body = yield walk(b.body, value, place.into(0))
            shortcut = value if b.shortcut is None else (yield walk(b.shortcut, value, place.into(1)))
            return join(b, value, [body, shortcut])
        if isinstance(b, Repeat):
            return join(b, value, [(yield walk(b.body, value, place.repeated(b.count)))])
        if isinstance(b, Scale):
            return join(b, value, [(yield walk(b.gate, value, place.gated()))])
        if isinstance(b, Graph):
            values = [value]
            for i, node in enumerate(b.nodes):
                ins = [values[j] for j in node.inputs]
                x = ins[0] if len(ins) == 1 else join(cast(Any, Join(node.join)), ins[0], ins)
                values.append((yield walk(node.block, x, place.into(i))))
            return join(b, value, [values[j] for j in b.outputs])
        return leaf(cast(Layer, b), value, place)

    if not isinstance(block, _COMPOSITES):
        return leaf(cast(Layer, block), value, place)
    return cast(R, drive(walk(block, value, place)))


def out_channels(block: Block, in_channels: Optional[Value] = None) -> Value:
    """The channels ``block`` makes from ``in_channels`` (by default, what its first layer
    takes), checking that every layer gets the channels it expects.

    >>> out_channels(Series(Conv(3, 64), Conv(32, 64)))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a 3x3 conv for 32 input channels gets 64

    Symbolic channels are compared by value: a share p of N kernels beside the other 1 - p
    makes N.

    >>> from convalgebra.symbols import M, N, p
    >>> out_channels(Parallel(Conv(M, p * N, (1, 1)), Conv(M, (1 - p) * N, (3, 3))))
    N
    """
    if in_channels is None:
        first = next(iter_layers(block), None)
        if first is None:
            return 0
        in_channels = first.in_channels

    def leaf(layer: Layer, channels: Value, place: Place) -> Value:
        if not same_value(layer.in_channels, channels):
            raise InvalidValueError(f"a {layer_kind(layer)} for {layer.in_channels} input channels gets {channels}")
        return layer.out_channels

    def join(b: Any, channels: Value, outs: list[Value]) -> Value:
        if isinstance(b, Parallel) or (isinstance(b, Join) and b.kind == "concat"):
            return normal(_gathered(sum(outs)))
        if isinstance(b, Graph) or (isinstance(b, Join) and b.kind == "resize"):
            return outs[0]
        if isinstance(b, Join):  # a sum or product broadcasts a 1-channel value over the other
            wide = [c for c in outs if not same_value(c, 1)]
            if any(not same_value(c, wide[0]) for c in wide[1:]):
                raise InvalidValueError(f"a graph's {b.kind} joins {', '.join(map(str, outs))} channels")
            return wide[0] if wide else 1
        if isinstance(b, Repeat):
            if not same_value(outs[0], channels):
                raise InvalidValueError(f"a block repeated {b.count} times must keep its channels, not {channels} -> {outs[0]}")
            return outs[0]
        if isinstance(b, Scale):
            if not same_value(outs[0], channels):
                raise InvalidValueError(f"a scale multiplies {channels} channels by a gate of {outs[0]}")
            return channels
        if not same_value(outs[0], outs[1]):
            raise InvalidValueError(f"a residual sum adds {outs[0]} channels to a shortcut of {outs[1]}")
        return outs[0]

    return flow(block, in_channels, leaf, join)


def same_value(a: Value, b: Value) -> bool:
    """Whether two channel counts or sizes are equal: as numbers, or as rational functions of the symbols.

    >>> from convalgebra.symbols import N, p
    >>> same_value(p * N + (1 - p) * N, N), same_value(3, 4)
    (True, False)
    """
    if a == b:
        return True
    if is_concrete(a) and is_concrete(b):
        return False
    import sympy

    return bool(sympy.cancel(sympy.Add(a, -b)) == 0)


def _gathered(x: Value) -> Value:
    """A sum of channel counts with like terms gathered (p*N + (1 - p)*N is N)."""
    return x if is_concrete(x) else cast("sympy.Expr", x).expand()


# -- numbers put in ----------------------------------------------------------------

def substitute(block: Block, values: dict[Any, Any]) -> Block:
    """The block with numbers put in for its symbols; every channel count must come out whole.

    >>> from convalgebra.symbols import M, N, t
    >>> substitute(Series(Conv(M, N / t, (1, 1))), {M: 256, N: 256, t: 4})
    Series(items=(Conv(256, 64, (1, 1), padding='same', bias=False),))
    >>> substitute(Repeat(Conv(N, N, (3, 3)), N - 4), {N: 4})  # no repeats: no layer
    Series(items=())
    >>> substitute(Conv(M, N / t, (1, 1)), {M: 256, N: 10, t: 4})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: N/t = 5/2 channels: expected a whole number

    A parallel branch that makes no channels at the values is no layer, and is left out
    (a Fire module at p = 0 has no K x K branch):

    >>> from convalgebra.symbols import p
    >>> substitute(Parallel(Conv(M, (1 - p) * N, (1, 1)), Conv(M, p * N, (3, 3))), {M: 16, N: 64, p: 0})
    Conv(16, 64, (1, 1), padding='same', bias=False)
    """
    def leaf(layer: Layer) -> Block:
        changes: dict[str, Any] = {name: whole_value(getattr(layer, name), values, name) for name in layer.SIZES}
        if isinstance(layer, Conv):
            changes["kernel"] = tuple(whole_value(v, values, "kernel") for v in layer.kernel)
        for tile in ("window", "grid"):  # attention's window (its kernel: K x K), its patches
            if getattr(layer, tile, None) is not None:
                changes[tile] = whole_value(getattr(layer, tile), values, "window")
        return replace(layer, **changes)

    def node(b: Block) -> Block:
        if isinstance(b, Repeat):
            times = whole_value(b.count, values, "count")
            return Series() if times == 0 else Repeat(b.body, times)
        return b

    return transform(drop_empty_branches(block, values), leaf, node)


def drop_empty_branches(block: Block, values: dict[Any, Any]) -> Block:
    """``block`` without the parallel branches that make no channels at ``values`` (some
    symbols may stay unset); a Parallel left with one branch is that branch.

    >>> from convalgebra.symbols import M, N, p
    >>> drop_empty_branches(Parallel(Conv(M, (1 - p) * N, (1, 1)), Conv(M, p * N, (3, 3))), {p: 1})
    Conv(M, N*p, (3, 3), padding='same', bias=False)
    """
    def empty(item: Block) -> bool:
        made = out_channels(item)
        made = made if is_concrete(made) else cast("sympy.Expr", made).xreplace(values)
        return is_concrete(made) and normal(made) == 0

    def node(b: Block) -> Block:
        if not isinstance(b, Parallel):
            return b
        kept = [item for item in b.items if not empty(item)]
        if not kept or len(kept) == len(b.items):
            return b
        return kept[0] if len(kept) == 1 else Parallel(*kept)

    return transform(block, lambda layer: layer, node)


def whole_value(expr: Value, values: dict[Any, Any], what: str) -> int:
    """``expr`` with ``values`` put in: a whole number (at least 1; 0 for a count).

    >>> from convalgebra.symbols import N, t
    >>> whole_value(N / t, {N: 256, t: 4}, "out_channels")
    64
    >>> whole_value(N / t, {N: 256}, "out_channels")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: no value for t; set it (for example t=4)
    """
    if is_concrete(expr):
        got = normal(expr)
    else:
        got = normal(cast("sympy.Expr", expr).xreplace(values))
        if not is_concrete(got):
            raise missing_values(sorted(str(s) for s in cast("sympy.Expr", got).free_symbols))
        got = normal(got)
    least = VALID[what].low
    if not isinstance(got, int) or got < least:
        noun = {"count": "layers", "groups": "groups", "kernel": "as the kernel size"}.get(what, "channels")
        shown = f"{expr} = {got}" if not is_concrete(expr) else f"{got}"
        wanted = "a whole number" if not isinstance(got, int) else f"at least {least}"
        raise InvalidValueError(f"{shown} {noun}: expected {wanted}")
    return got
