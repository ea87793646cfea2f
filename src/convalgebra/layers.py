"""Layers and blocks, and their exact cost.

A block is a tree: :class:`Conv` and :class:`Shuffle` leaves, joined in
:class:`Series` (one after another) or in :class:`Parallel` (side by side on the same
input, outputs concatenated). The same formulas count symbols and plain numbers, so a
concrete network is counted on Python integers without importing sympy.

The article's standard convolution, K x K, M -> N, stride 1, SAME padding on I x I:

>>> from convalgebra.symbols import K, M, N, I
>>> conv = Conv(M, N, (K, K))
>>> conv.macs(I), conv.params()
(I**2*K**2*M*N, K**2*M*N)

and its numbers, MobileNet V1's 14 x 14 layer with 512 channels:

>>> Conv(512, 512, (3, 3)).macs(14)
462422016

Strides, padding and dilation follow the real convolution arithmetic:

>>> Conv(3, 64, (7, 7), stride=2, padding=3).output_size(224)
112
>>> Conv(3, 64, (7, 7), stride=2, padding=3).output_size(I)
I/2
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Union, cast

from .display import RichDisplay
from .errors import InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = [
    "Value", "Conv", "Shuffle", "Series", "Parallel", "Layer", "Block",
    "CostRow", "count", "total", "is_concrete", "exact_div", "output_size",
    "Linear", "Pool", "AdaptivePool", "BatchNorm", "Residual", "Repeat", "pool_output_size", "AnyLayer", "AnyBlock",
    "iter_layers", "map_layers", "substitute", "out_channels", "layer_kind", "window_text",
]

#: A size, channel count or cost: an exact number or a sympy expression.
Value = Union[int, Fraction, "sympy.Expr"]
Padding = Union[str, int, tuple[int, int]]


def is_concrete(x: Any) -> bool:
    """Whether ``x`` is a plain exact number rather than an expression with symbols.

    >>> is_concrete(3), is_concrete(Fraction(1, 2))
    (True, True)
    """
    if isinstance(x, (int, Fraction)):
        return True
    return bool(getattr(x, "is_Number", False))


def _number(x: Any) -> int | Fraction:
    """A concrete value as int, or Fraction when it is not whole."""
    if isinstance(x, int):
        return x
    value = Fraction(int(x.p), int(x.q)) if hasattr(x, "q") else Fraction(x)
    return int(value) if value.denominator == 1 else value


def _symbolic(x: Value) -> sympy.Expr:
    """``x`` where :func:`is_concrete` said no: a sympy expression (for the type checker)."""
    return cast("sympy.Expr", x)


def exact_div(a: Value, b: Value) -> Value:
    """``a / b`` exactly: a Fraction (or int) for numbers, an expression otherwise.

    >>> exact_div(64, 4), exact_div(6, 4)
    (16, Fraction(3, 2))
    """
    if is_concrete(a) and is_concrete(b):
        if b == 0:
            raise InvalidValueError("division by zero")
        value = Fraction(_number(a)) / Fraction(_number(b))
        return int(value) if value.denominator == 1 else value
    return a / b


def _floor_div(x: Value, s: int) -> Value:
    """floor(x / s); for an expression ``c*I + e`` it assumes ``c*I/s`` is whole."""
    if is_concrete(x):
        return math.floor(Fraction(_number(x)) / s)
    const, rest = _symbolic(x).as_coeff_Add()
    return rest / s + (const // s)


def _ceil_div(x: Value, s: int) -> Value:
    if is_concrete(x):
        return math.ceil(Fraction(_number(x)) / s)
    const, rest = _symbolic(x).as_coeff_Add()
    return rest / s - ((-const) // s)


def output_size(size: Value, kernel: Value, stride: int = 1, padding: Padding = "same",
                dilation: int = 1) -> Value:
    """The output size of one spatial dimension, as a real convolution computes it.

    ``padding="same"`` keeps the size at stride 1 (and gives ceil(size/stride)
    otherwise); an integer pads both sides.

    >>> output_size(224, 11, stride=4, padding=2)
    55
    >>> output_size(299, 3, stride=2, padding=0)
    149
    >>> from convalgebra.symbols import I
    >>> output_size(I, 11, stride=4, padding=2)
    I/4 - 1
    """
    _check_size(size)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise InvalidValueError(f"stride {stride!r}: expected a whole number >= 1")
    if isinstance(dilation, bool) or not isinstance(dilation, int) or dilation < 1:
        raise InvalidValueError(f"dilation {dilation!r}: expected a whole number >= 1")
    if padding == "same":
        return size if stride == 1 else _ceil_div(size, stride)
    if not isinstance(padding, int) or padding < 0:
        raise InvalidValueError(f"padding {padding!r} is not 'same' or a whole number >= 0")
    out = _floor_div(size + 2 * padding - dilation * (kernel - 1) - 1, stride) + 1
    if is_concrete(out) and out < 1:
        raise InvalidValueError(
            f"a {kernel}-wide kernel with stride {stride} and padding {padding}"
            f" leaves no output on a {size}-wide input"
        )
    return out


def _check_size(size: Any) -> None:
    """A spatial size is a whole number >= 1 or a sympy expression.

    >>> _check_size(-3)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: input size -3: expected a whole number >= 1 or an expression in I
    """
    if is_concrete(size) and not isinstance(size, bool):
        if _normal(size) == size and isinstance(_normal(size), int) and size >= 1:
            return
    elif hasattr(size, "free_symbols") and hasattr(size, "as_coeff_Add"):
        return
    raise InvalidValueError(f"input size {size!r}: expected a whole number >= 1 or an expression in I")


def _check_whole(value: Any, what: str, least: int = 1) -> None:
    """Refuse what cannot be a channel count, group count, repeat count or kernel side:
    a number that is not whole or is below ``least``, or anything but a number or an expression.

    >>> _check_whole(64.5, "input channels")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: 64.5 input channels: expected a whole number >= 1 or an expression
    """
    if isinstance(value, bool) or not (isinstance(value, (int, Fraction)) or hasattr(value, "free_symbols")):
        raise InvalidValueError(f"{value!r} {what}: expected a whole number >= {least} or an expression")
    if is_concrete(value) and (_number(value) != int(_number(value)) or _number(value) < least):
        raise InvalidValueError(f"{value} {what}: expected a whole number >= {least}")


@dataclass(frozen=True)
class Conv(RichDisplay):
    """A 2-D convolution: ``kernel`` (height, width), ``in_channels`` -> ``out_channels``.

    ``groups`` splits both channel sets into that many groups (the article's M -> M/G);
    ``count`` repeats the layer in series (it must keep the size: stride 1, SAME).

    >>> from convalgebra.symbols import K, M, N, I, G
    >>> Conv(M, N, (K, K), groups=G).macs(I)
    I**2*K**2*M*N/G
    >>> Conv(M, M, (K, K), groups=M).params()  # depthwise
    K**2*M
    """

    in_channels: Value
    out_channels: Value
    kernel: tuple[Value, Value] = (3, 3)
    groups: Value = 1
    stride: int = 1
    padding: Padding = "same"
    dilation: int = 1
    bias: bool = False
    count: Value = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.kernel, tuple):  # Conv(M, N, 3): a square 3 x 3 kernel
            object.__setattr__(self, "kernel", (self.kernel, self.kernel))
        if len(self.kernel) != 2:
            raise InvalidValueError(f"kernel {self.kernel!r}: expected (height, width)")
        _check_whole(self.in_channels, "input channels")
        _check_whole(self.out_channels, "output channels", least=0)  # a share p = 0 leaves no kernels
        _check_whole(self.groups, "groups")
        _check_whole(self.count, "layers", least=0)
        for side in self.kernel:
            _check_whole(side, "as a kernel side")
        if isinstance(self.stride, bool) or not isinstance(self.stride, int) or self.stride < 1:
            raise InvalidValueError(f"stride {self.stride!r}: expected a whole number >= 1")

    @property
    def is_pointwise(self) -> bool:
        """A 1 x 1 convolution.

        >>> Conv(8, 16, (1, 1)).is_pointwise, Conv(8, 16, (3, 3)).is_pointwise
        (True, False)
        """
        return self.kernel == (1, 1)

    @property
    def is_depthwise(self) -> bool:
        """One filter per channel: groups equal to the input channels, in == out.

        >>> Conv(8, 8, (3, 3), groups=8).is_depthwise
        True
        """
        return self.groups == self.in_channels == self.out_channels and self.groups != 1

    def output_size(self, size: Value) -> Value:
        """Output size for an input of ``size`` x ``size`` (square in, square out)."""
        kh, kw = self.kernel
        pad_h, pad_w = self.padding if isinstance(self.padding, tuple) else (self.padding,) * 2
        out_h = output_size(size, kh, self.stride, pad_h, self.dilation)
        out_w = output_size(size, kw, self.stride, pad_w, self.dilation)
        if out_h != out_w:
            raise InvalidValueError(
                f"{_kernel_text(self.kernel)} convolution with padding {self.padding!r}"
                " gives a non-square output; pad so both sides agree"
            )
        return out_h

    def fan_in(self) -> Value:
        """Channels each filter sees: in_channels / groups (must be whole for numbers)."""
        return _channels_per_group(self.in_channels, self.groups, "input")

    def macs(self, size: Value) -> Value:
        """Multiply-accumulates on an input of ``size`` x ``size``: Kh*Kw*(M/G)*N*F*F."""
        _channels_per_group(self.out_channels, self.groups, "output")
        out = self.output_size(size)
        kh, kw = self.kernel
        return _normal(kh * kw * self.fan_in() * self.out_channels * out * out * self.count)

    def params(self) -> Value:
        """Weights Kh*Kw*(M/G)*N, plus N biases when ``bias``."""
        kh, kw = self.kernel
        weights = kh * kw * self.fan_in() * self.out_channels
        return _normal((weights + (self.out_channels if self.bias else 0)) * self.count)


@dataclass(frozen=True)
class Shuffle(RichDisplay):
    """ShuffleNet's channel shuffle: a permutation, zero MACs and zero parameters.

    >>> Shuffle(12, 3).macs(7), Shuffle(12, 3).params()
    (0, 0)
    """

    channels: Value
    groups: Value
    name: str = ""

    def __post_init__(self) -> None:
        _check_whole(self.channels, "channels")
        _check_whole(self.groups, "groups")

    @property
    def in_channels(self) -> Value:
        return self.channels

    @property
    def out_channels(self) -> Value:
        return self.channels

    def output_size(self, size: Value) -> Value:
        return size

    def macs(self, size: Value) -> Value:
        _channels_per_group(self.channels, self.groups, "shuffled")
        return 0

    def params(self) -> Value:
        return 0

    def permutation(self) -> list[int]:
        """Where each output channel comes from: view as (groups, channels/groups), transpose, flatten.

        >>> Shuffle(6, 3).permutation()
        [0, 2, 4, 1, 3, 5]
        """
        per_group = _channels_per_group(self.channels, self.groups, "shuffled")
        if not (isinstance(per_group, int) and isinstance(self.groups, int)):
            raise InvalidValueError("a permutation needs whole numbers of channels and groups")
        return [(i % self.groups) * per_group + i // self.groups for i in range(per_group * self.groups)]


@dataclass(frozen=True)
class Series(RichDisplay):
    """Layers one after another."""

    items: tuple["Block", ...]

    def __init__(self, *items: "Block") -> None:
        object.__setattr__(self, "items", tuple(_check_block(item, "Series") for item in items))


@dataclass(frozen=True)
class Parallel(RichDisplay):
    """Branches side by side on the same input, outputs concatenated along channels."""

    items: tuple["Block", ...]

    def __init__(self, *items: "Block") -> None:
        if not items:
            raise InvalidValueError("Parallel() has no branch; give at least one layer or block")
        object.__setattr__(self, "items", tuple(_check_block(item, "Parallel") for item in items))


def _check_block(item: Any, where: str) -> "Block":
    """``item`` if it is a layer or a block, else the error that says what was given.

    >>> Series([Conv(8, 8)])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: Series takes layers and blocks, not a list; write Series(a, b), not Series([a, b])
    """
    if isinstance(item, _BLOCK_TYPES):
        return cast("Block", item)
    hint = f"; write {where}(a, b), not {where}([a, b])" if isinstance(item, (list, tuple)) else ""
    raise InvalidValueError(f"{where} takes layers and blocks, not {_a(type(item).__name__)}{hint}")


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


Layer = Union["Conv", "Shuffle", "Linear", "Pool", "AdaptivePool", "BatchNorm"]
Block = Union[Layer, "Series", "Parallel", "Residual", "Repeat"]


@dataclass(frozen=True)
class CostRow:
    """One layer's place in a block and its cost there."""

    layer: Layer
    input_size: Value
    output_size: Value
    macs: Value
    params: Value
    branch: tuple[int, ...] = field(default=())
    repeat: Value = 1  # how many times the layer runs: a Repeat's count times the layer's own

    @property
    def times(self) -> Value:
        """How many times the layer runs in series (its ``count`` times any enclosing repeats)."""
        return _normal(self.repeat * getattr(self.layer, "count", 1))


def count(block: Block, size: Value) -> list[CostRow]:
    """Every layer of ``block`` on a ``size`` x ``size`` input, in order, with its cost.

    >>> from convalgebra.symbols import M, N, I
    >>> rows = count(Series(Conv(M, M, (3, 3), groups=M), Conv(M, N, (1, 1))), I)
    >>> [row.macs for row in rows]
    [9*I**2*M, I**2*M*N]

    Each layer must get the channels the one before it makes (see :func:`out_channels`):

    >>> count(Series(Conv(M, N, (1, 1)), Conv(M, N, (3, 3))), I)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a 3x3 conv for M input channels gets N
    """
    out_channels(block)
    rows: list[CostRow] = []
    _walk(block, size, rows, ())
    return rows


def total(block: Block, size: Value) -> tuple[Value, Value]:
    """(MACs, params) of a block: the sums over its layers.

    >>> total(Series(Conv(32, 32, (3, 3), groups=32), Conv(32, 64, (1, 1))), 112)
    (29302784, 2336)
    """
    rows = count(block, size)
    return _normal(sum(r.macs for r in rows)), _normal(sum(r.params for r in rows))


def _walk(block: Block, size: Value, rows: list[CostRow], branch: tuple[int, ...]) -> Value:
    if isinstance(block, Series):
        for item in block.items:
            size = _walk(item, size, rows, branch)
        return size
    if isinstance(block, Parallel):
        outs = [_walk(item, size, rows, branch + (i,)) for i, item in enumerate(block.items)]
        if any(o != outs[0] for o in outs[1:]):
            raise InvalidValueError(f"parallel branches disagree on output size: {outs}")
        return outs[0]
    if isinstance(block, Residual):
        return block._walk(size, rows, branch)
    if isinstance(block, Repeat):
        return block._walk(size, rows, branch)
    if isinstance(block, Conv) and block.count != 1 and (block.stride != 1 or block.padding != "same"):
        raise InvalidValueError("a repeated layer must keep its size (stride 1, SAME padding)")
    out = block.output_size(size)
    rows.append(CostRow(block, size, out, block.macs(size), block.params(), branch))
    return out


def _channels_per_group(channels: Value, groups: Value, what: str) -> Value:
    if is_concrete(groups) and groups <= 0:
        raise InvalidValueError(f"groups must be a whole number >= 1, not {groups}")
    per_group = _normal(exact_div(channels, groups))
    least = 0 if what == "output" else 1  # a share p = 0 leaves a branch with no kernels
    if is_concrete(per_group) and (not isinstance(per_group, int) or per_group < least):
        raise InvalidValueError(
            f"{groups} groups do not divide the {channels} {what} channels"
        )
    return per_group


def _normal(x: Value) -> Value:
    """An int where the value is whole, else as it is."""
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    if not isinstance(x, (int, Fraction)) and getattr(x, "is_Integer", False):
        return int(x)
    return x


def _kernel_text(kernel: tuple[Value, Value]) -> str:
    return f"{kernel[0]}x{kernel[1]}"


def iter_layers(block: Block) -> Iterator[Layer]:
    """The layers of a block in order: into branches, residual sums (body, then shortcut)
    and repeats (the repeated layers once).

    >>> [type(x).__name__ for x in iter_layers(Residual(Conv(8, 8), Series(Conv(8, 8, (1, 1)), BatchNorm(8))))]
    ['Conv', 'Conv', 'BatchNorm']
    """
    for item in _children(block):
        if item is block:  # a layer is its own only child
            yield cast(Layer, block)
        else:
            yield from iter_layers(item)


def map_layers(block: Block, fn: Callable[[Layer], Block]) -> Block:
    """The block with every layer replaced by ``fn(layer)`` (a layer or a block), structure kept.

    >>> map_layers(Series(Conv(3, 8), Conv(8, 8)), lambda c: Series(c, BatchNorm(c.out_channels)))
    ... # doctest: +ELLIPSIS
    Series(items=(Series(items=(Conv(...), BatchNorm(channels=8, name=''))), Series(...)))
    """
    if isinstance(block, (Series, Parallel)):
        return type(block)(*(map_layers(item, fn) for item in block.items))
    if isinstance(block, Residual):
        return Residual(map_layers(block.body, fn), None if block.shortcut is None else map_layers(block.shortcut, fn))
    if isinstance(block, Repeat):
        return Repeat(map_layers(block.body, fn), block.count)
    return fn(block)


def _children(block: Block) -> tuple[Block, ...]:
    if isinstance(block, (Series, Parallel)):
        return block.items
    if isinstance(block, Residual):
        return (block.body,) if block.shortcut is None else (block.body, block.shortcut)
    if isinstance(block, Repeat):
        return (block.body,)
    return (block,)


def substitute(block: Block, values: dict[Any, Any]) -> Block:
    """The block with numbers put in for its symbols; every channel count must come out whole.

    >>> from convalgebra.symbols import M, N, t
    >>> substitute(Series(Conv(M, N / t, (1, 1))), {M: 256, N: 256, t: 4})
    Series(items=(Conv(in_channels=256, out_channels=64, kernel=(1, 1), groups=1, stride=1, padding='same', dilation=1, bias=False, count=1, name=''),))
    >>> substitute(Conv(N, N, (3, 3), count=N - 4), {N: 4})  # no repeats: no layer
    Series(items=())
    >>> substitute(Conv(M, N / t, (1, 1)), {M: 256, N: 10, t: 4})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: N/t = 5/2 channels: expected a whole number
    """
    if isinstance(block, (Series, Parallel)):
        return type(block)(*(substitute(item, values) for item in block.items))
    if isinstance(block, Residual):
        return Residual(substitute(block.body, values),
                        None if block.shortcut is None else substitute(block.shortcut, values))
    if isinstance(block, Repeat):
        times = _whole(block.count, values, "count")
        return Series() if times == 0 else Repeat(substitute(block.body, values), times)
    if isinstance(block, (Linear, Pool, AdaptivePool, BatchNorm)):
        # Any: replace() checks the keywords against every class of the union
        sized: dict[str, Any] = {name: _whole(getattr(block, name), values, name) for name in _SIZED_FIELDS[type(block)]}
        return replace(block, **sized)
    fields = ("in_channels", "out_channels", "groups", "count") if isinstance(block, Conv) else ("channels", "groups")
    changes: dict[str, Any] = {name: _whole(getattr(block, name), values, name) for name in fields}
    if isinstance(block, Conv):
        changes["kernel"] = tuple(_whole(v, values, "kernel") for v in block.kernel)
        if changes["count"] == 0:  # e.g. a stack of (K-k)/(k-1) more layers at K = k
            return Series()
    return replace(block, **changes)


def _whole(expr: Value, values: dict[Any, Any], what: str) -> int:
    if is_concrete(expr):
        got = _normal(expr)
    else:
        got = _normal(_symbolic(expr).xreplace(values))
        if not is_concrete(got):
            missing = " ".join(sorted(str(s) for s in _symbolic(got).free_symbols))
            raise InvalidValueError(f"no value for {missing}; set it (for example {missing.split()[0]}=4)")
        got = _normal(_number(got))
    least = 0 if what in ("count", "out_channels") else 1
    if not isinstance(got, int) or got < least:
        noun = {"count": "layers", "groups": "groups", "kernel": "as the kernel size"}.get(what, "channels")
        shown = f"{expr} = {got}" if not is_concrete(expr) else f"{got}"
        wanted = "a whole number" if not isinstance(got, int) else f"at least {least}"
        raise InvalidValueError(f"{shown} {noun}: expected {wanted}")
    return got


# -- the rest of a network: fully connected, pooling, batch norm, the residual sum --------

def pool_output_size(size: Value, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> Value:
    """The output size of a pooling window, as PyTorch computes it (``ceil_mode`` rounds up).

    With ``ceil_mode`` the last window may hang over the edge, but must start inside the
    input (or its left padding):

    >>> pool_output_size(109, 3, 2), pool_output_size(109, 3, 2, ceil_mode=True)
    (54, 54)
    >>> pool_output_size(110, 3, 2), pool_output_size(110, 3, 2, ceil_mode=True)
    (54, 55)
    >>> from convalgebra.symbols import I
    >>> pool_output_size(I / 2 - 3, 3, 2, ceil_mode=True)
    I/4 - 2
    """
    if not ceil_mode:
        return output_size(size, kernel, stride, padding)
    out = _ceil_div(size + 2 * padding - kernel, stride) + 1
    overhang = (out - 1) * stride - (size + padding)
    if is_concrete(overhang) and overhang >= 0:
        out -= 1
    if is_concrete(out) and out < 1:
        raise InvalidValueError(
            f"a {kernel}-wide pooling window with stride {stride} leaves no output on a {size}-wide input"
        )
    return out


@dataclass(frozen=True)
class Linear:
    """A fully connected layer on the flattened ``in_channels x in_size x in_size`` input.

    Its input must have size ``in_size`` (an adaptive pool before it sees to that); its
    output is ``out_features`` values, a 1 x 1 map.

    >>> fc = Linear(2048, 1000)               # ResNet-50's classifier
    >>> fc.macs(1), fc.params()
    (2048000, 2049000)
    >>> Linear(256, 4096, in_size=6).macs(6)   # AlexNet's first classifier layer
    37748736
    """

    in_channels: Value
    out_features: Value
    in_size: int = 1
    bias: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        _check_whole(self.in_channels, "input channels")
        _check_whole(self.out_features, "output features")
        _check_whole(self.in_size, "as the input size")

    @property
    def out_channels(self) -> Value:
        return self.out_features

    @property
    def in_features(self) -> Value:
        """The length of the flattened input: in_channels * in_size * in_size."""
        return self.in_channels * self.in_size * self.in_size

    def output_size(self, size: Value) -> Value:
        if size != self.in_size:
            raise InvalidValueError(
                f"a linear layer on {self.in_channels} x {self.in_size} x {self.in_size} inputs gets a"
                f" {size} x {size} input; pool to {self.in_size} x {self.in_size} first"
            )
        return 1

    def macs(self, size: Value) -> Value:
        """in_features * out_features multiply-accumulates (the bias is not counted)."""
        self.output_size(size)
        return _normal(self.in_features * self.out_features)

    def params(self) -> Value:
        return _normal(self.in_features * self.out_features + (self.out_features if self.bias else 0))


class _Passive:
    """A layer that keeps the channels and costs no MACs and no parameters."""

    channels: Value
    in_channels = out_channels = property(lambda self: self.channels)

    def __post_init__(self) -> None:
        _check_whole(self.channels, "channels")

    def macs(self, size: Value) -> Value:
        return 0

    def params(self) -> Value:
        return 0


@dataclass(frozen=True)
class Pool(_Passive):
    """Max or average pooling (``kind``): no MACs, no parameters; it only changes the size.

    ``stride`` defaults to the kernel; ``padding`` is at most half the kernel, as PyTorch
    requires.

    >>> Pool(64, 3, stride=2, padding=1).output_size(112)   # ResNet's stem
    56
    >>> Pool(96, 3, stride=2, ceil_mode=True).output_size(109), Pool(96, 3).params()
    (54, 0)
    """

    channels: Value
    kernel: int
    stride: Optional[int] = None
    padding: int = 0
    ceil_mode: bool = False
    kind: str = "max"
    name: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_whole(self.kernel, "as the pooling window")
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel)
        if self.kind not in ("max", "avg"):
            raise InvalidValueError(f"pooling kind {self.kind!r}; expected 'max' or 'avg'")
        if not isinstance(self.padding, int) or not 0 <= 2 * self.padding <= self.kernel:
            raise InvalidValueError(f"pooling padding {self.padding!r}: expected at most half the kernel {self.kernel}")

    def output_size(self, size: Value) -> Value:
        return pool_output_size(size, self.kernel, self.stride or self.kernel, self.padding, self.ceil_mode)


@dataclass(frozen=True)
class AdaptivePool(_Passive):
    """Pooling to a fixed ``output`` x ``output`` whatever the input size (global pooling at 1).

    >>> AdaptivePool(2048).output_size(7), AdaptivePool(512, 7).output_size(14)
    (1, 7)
    """

    channels: Value
    output: int = 1
    kind: str = "avg"
    name: str = ""

    def output_size(self, size: Value) -> Value:
        return self.output


@dataclass(frozen=True)
class BatchNorm(_Passive):
    """Batch normalization: its affine gamma and beta are 2 * channels parameters; no MACs
    (at inference it folds into the convolution before it).

    >>> BatchNorm(64).params(), BatchNorm(64).macs(56)
    (128, 0)
    """

    channels: Value
    name: str = ""

    def output_size(self, size: Value) -> Value:
        return size

    def params(self) -> Value:
        return _normal(2 * self.channels)


@dataclass(frozen=True)
class Residual(RichDisplay):
    """``body(x) + shortcut(x)``: ResNet's sum. The shortcut is the identity (``None``) or a
    block, such as a strided 1 x 1 projection; the addition itself costs no MACs.

    >>> block = Residual(Series(Conv(64, 64, (3, 3)), Conv(64, 64, (3, 3))))
    >>> total(block, 56)
    (231211008, 73728)
    >>> [row.branch for row in count(Residual(Conv(64, 128, (3, 3), stride=2, padding=1),
    ...                                       Conv(64, 128, (1, 1), stride=2, padding=0)), 56)]
    [(0,), (1,)]
    """

    body: "AnyBlock"
    shortcut: Optional["AnyBlock"] = None

    def __post_init__(self) -> None:
        _check_block(self.body, "Residual")
        if self.shortcut is not None:
            _check_block(self.shortcut, "Residual")

    def _walk(self, size: Value, rows: list[CostRow], branch: tuple[int, ...]) -> Value:
        out = _walk(self.body, size, rows, branch + (0,))
        short = size if self.shortcut is None else _walk(self.shortcut, size, rows, branch + (1,))
        if out != short:
            raise InvalidValueError(f"the residual sum adds a {out}-wide output to a {short}-wide shortcut")
        return out


@dataclass(frozen=True)
class Repeat(RichDisplay):
    """``body`` applied ``count`` times in series (a count that may be a symbol).

    The body must keep its size; every layer's cost is ``count`` times its cost once.
    A rule that rewrites a repeated convolution repeats the whole rewrite:

    >>> from convalgebra.symbols import N, I, k
    >>> rows = count(Repeat(Series(Conv(N, N / 4, (1, 1)), Conv(N / 4, N, (3, 3))), k), I)
    >>> [r.macs for r in rows]
    [I**2*N**2*k/4, 9*I**2*N**2*k/4]
    """

    body: "AnyBlock"
    count: Value

    def __post_init__(self) -> None:
        _check_block(self.body, "Repeat")
        _check_whole(self.count, "repeats", least=0)

    def _walk(self, size: Value, rows: list[CostRow], branch: tuple[int, ...]) -> Value:
        once: list[CostRow] = []
        out = _walk(self.body, size, once, branch)
        if out != size:
            raise InvalidValueError(f"a repeated block must keep its size, not turn {size} into {out}")
        rows.extend(replace(r, macs=_normal(r.macs * self.count), params=_normal(r.params * self.count),
                            repeat=_normal(r.repeat * self.count)) for r in once)
        return out


def out_channels(block: Block, in_channels: Optional[Value] = None) -> Value:
    """The channels ``block`` makes from ``in_channels`` (by default, what its first layer
    takes), checking that every layer gets the channels it expects.

    >>> out_channels(Parallel(Conv(16, 64, (1, 1)), Conv(16, 64, (3, 3))), 16)
    128
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
    if isinstance(block, Series):
        for item in block.items:
            in_channels = out_channels(item, in_channels)
        return in_channels
    if isinstance(block, Parallel):
        return _normal(_simplest(sum(out_channels(item, in_channels) for item in block.items)))
    if isinstance(block, Repeat):
        out = out_channels(block.body, in_channels)
        if not _same(out, in_channels):
            raise InvalidValueError(f"a block repeated {block.count} times must keep its channels, not {in_channels} -> {out}")
        return out
    if isinstance(block, Residual):
        out = out_channels(block.body, in_channels)
        short = in_channels if block.shortcut is None else out_channels(block.shortcut, in_channels)
        if not _same(out, short):
            raise InvalidValueError(f"a residual sum adds {out} channels to a shortcut of {short}")
        return out
    if not _same(block.in_channels, in_channels):
        raise InvalidValueError(f"a {layer_kind(block)} for {block.in_channels} input channels gets {in_channels}")
    if isinstance(block, Conv) and block.count != 1 and not _same(block.in_channels, block.out_channels):
        raise InvalidValueError(f"a conv repeated {block.count} times must keep its channels")
    return block.out_channels


def _same(a: Value, b: Value) -> bool:
    """Whether two channel counts are equal: as numbers, or as rational functions of the symbols."""
    if a == b:
        return True
    if is_concrete(a) and is_concrete(b):
        return False
    import sympy

    return bool(sympy.cancel(sympy.sympify(a) - b) == 0)


def _simplest(x: Value) -> Value:
    """A sum of channel counts with like terms gathered (p*N + (1 - p)*N is N)."""
    return x if is_concrete(x) else _symbolic(x).expand()


def layer_kind(layer: Layer) -> str:
    """What a layer is, in a model summary's words.

    >>> [layer_kind(x) for x in (Conv(8, 8, (3, 3), groups=8), Conv(8, 16, (1, 1)), Pool(8, 3, 2),
    ...                          AdaptivePool(8), BatchNorm(8), Linear(8, 10))]
    ['3x3 depthwise conv', '1x1 conv', 'max pool', 'adaptive avg pool', 'batch norm', 'linear']
    """
    if isinstance(layer, Conv):
        kind = "depthwise conv" if layer.is_depthwise else ("group conv" if layer.groups != 1 else "conv")
        return f"{window_text(layer)} {kind}"
    if isinstance(layer, Pool):
        return f"{layer.kind} pool"
    if isinstance(layer, AdaptivePool):
        return f"adaptive {layer.kind} pool"
    return {Shuffle: "channel shuffle", BatchNorm: "batch norm", Linear: "linear"}[type(layer)]


def window_text(layer: Layer) -> str:
    """A convolution's kernel or a pool's window as ``KhxKw``; ``-`` for other layers."""
    if isinstance(layer, Conv):
        return _kernel_text(layer.kernel)
    if isinstance(layer, Pool):
        return f"{layer.kernel}x{layer.kernel}"
    return "-"


_BLOCK_TYPES = (Conv, Shuffle, Linear, Pool, AdaptivePool, BatchNorm, Series, Parallel, Residual, Repeat)

#: The fields of each network layer that hold channel counts (numbers put in by ``substitute``).
_SIZED_FIELDS: dict[type, tuple[str, ...]] = {
    Linear: ("in_channels", "out_features"), Pool: ("channels",), AdaptivePool: ("channels",),
    BatchNorm: ("channels",),
}

#: The same as Layer and Block (names the network code uses).
AnyLayer = Layer
AnyBlock = Block
