"""Cost: a block counted layer by layer, in MACs (multiply-accumulates) and parameters.

>>> from convalgebra.layers import Conv
>>> from convalgebra.blocks import Series
>>> from convalgebra.symbols import M, N, I
>>> rows = count(Series(Conv(M, M, (3, 3), groups=M), Conv(M, N, (1, 1))), I)
>>> [row.macs for row in rows]
[9*I**2*M, I**2*M*N]
>>> total(Series(Conv(32, 32, (3, 3), groups=32), Conv(32, 64, (1, 1))), 112)
(29302784, 2336)

The same formulas count symbols and plain numbers, so a concrete network is counted on
Python integers without importing sympy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .display import RichDisplay
from .blocks import Block, Graph, Join, Parallel, Place, Repeat, Scale, check_block, flow, out_channels
from .errors import InvalidValueError
from .layers import Layer, Size, Value, checked_size, normal

__all__ = ["UNITS", "CONVENTION", "TRAFFIC", "Cost", "CostRow", "count", "layer_costs", "total", "output_of", "agree"]

#: The unit of every cost the library shows.
UNITS = "MACs (multiply-accumulates, what the article and torchvision call FLOPs; 1 MAC = 2 FLOPs)"

#: What a network's count includes.
CONVENTION = ("MACs of convolution and linear layers only (biases, batch norm, activations, pooling "
              "and additions are not counted); params: all weights and biases plus batch norm's gamma and beta")

#: What memory traffic counts.
TRAFFIC = ("memory traffic (ShuffleNet V2's memory access cost): elements of the input and output feature maps"
           " read and written, plus the weights read; views (identity, channel slice) move nothing, a concatenation"
           " copies, a residual sum reads two maps and writes one")



class _Pair(NamedTuple):
    macs: Any
    params: Any


class Cost(_Pair, RichDisplay):
    """A cost in MACs (multiply-accumulates) and parameters (a pair: ``macs, params = cost``).

    >>> Cost(10, 3).flops
    20
    """

    __slots__ = ()
    __view__ = "cost"

    @property
    def flops(self) -> Any:
        """Floating-point operations: 2 per multiply-accumulate."""
        return 2 * self.macs


@dataclass(frozen=True)
class CostRow:
    """One layer's place in a block and its cost there (``times`` runs in series included)."""

    layer: Layer
    input_size: Value
    output_size: Value
    macs: Value
    params: Value
    branch: tuple[int, ...] = field(default=())
    times: Value = 1


def count(block: Block, size: Value) -> list[CostRow]:
    """Every layer of ``block`` on a ``size`` x ``size`` input, in order, with its cost.

    Each layer must get the channels the one before it makes (see
    :func:`convalgebra.blocks.out_channels`):

    >>> from convalgebra.layers import Conv
    >>> from convalgebra.blocks import Series
    >>> from convalgebra.symbols import M, N, I
    >>> count(Series(Conv(M, N, (1, 1)), Conv(M, N, (3, 3))), I)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a 3x3 conv for M input channels gets N
    """
    return layer_costs(block, size)[0]


def layer_costs(block: Block, size: Size) -> tuple[list[CostRow], Size]:
    """:func:`count`'s rows, and the block's output size.

    >>> from convalgebra.layers import Conv
    >>> rows, out = layer_costs(Conv(3, 64, (7, 7), stride=2, padding=3), 224)
    >>> rows[0].macs, out
    (118013952, 112)
    """
    out_channels(check_block(block, "count"))
    size = checked_size(size)
    rows: list[CostRow] = []

    def leaf(layer: Layer, size: Value, place: Place) -> Value:
        out = layer.output_size(size)
        rows.append(CostRow(layer, size, out, normal(layer.macs(size) * place.times),
                            normal(layer.params() * place.times), place.branch, place.times))
        return out

    return rows, flow(block, size, leaf, agree)


def output_of(block: Block, size: Value) -> Value:
    """The output size of ``block`` on a ``size`` x ``size`` input (no cost counted).

    >>> from convalgebra.layers import Conv, Pool
    >>> from convalgebra.blocks import Series
    >>> output_of(Series(Conv(3, 64, (7, 7), stride=2, padding=3), Pool(64, 3, 2, 1)), 224)
    56
    """
    return flow(block, size, lambda layer, s, place: layer.output_size(s), agree)


def agree(block: "Block | Join", size: Size, outs: list[Size]) -> Size:
    """Branches and both sides of a sum give one size; a repeated block keeps its size; a
    scale's gate is pooled to 1 x 1 or keeps the size, and the product has the input's; a
    graph's sum or product broadcasts a 1 x 1 value over the others, which agree; a graph's
    output is its first output's size."""
    if isinstance(block, Graph):
        return outs[0]
    if isinstance(block, Join) and block.kind == "resize":
        return outs[1]
    if isinstance(block, Join) and block.kind != "concat":
        wide = [o for o in outs if o != 1]
        if any(o != wide[0] for o in wide[1:]):
            raise InvalidValueError(f"a {block.kind} of values of sizes {', '.join(map(str, outs))}")
        return wide[0] if wide else 1
    if isinstance(block, Scale):
        if outs[0] not in (1, size):
            raise InvalidValueError(f"a scale's gate must pool to 1 x 1 or keep the size {size}, not make {outs[0]}")
        return size
    if isinstance(block, Repeat):
        if outs[0] != size:
            raise InvalidValueError(f"a repeated block must keep its size, not turn {size} into {outs[0]}")
        return size
    if any(o != outs[0] for o in outs[1:]):
        if isinstance(block, (Parallel, Join)):
            raise InvalidValueError(f"parallel branches disagree on output size: {outs}")
        raise InvalidValueError(f"the residual sum adds a {outs[0]}-wide output to a {outs[1]}-wide shortcut")
    return outs[0]


def total(block: Block, size: Value) -> tuple[Value, Value]:
    """(MACs, params) of a block: the sums over its layers.

    >>> from convalgebra.layers import Conv
    >>> from convalgebra.blocks import Repeat
    >>> total(Repeat(Conv(64, 64, (3, 3)), 2), 56)
    (231211008, 73728)
    """
    rows = count(block, size)
    return normal(sum(r.macs for r in rows)), normal(sum(r.params for r in rows))
