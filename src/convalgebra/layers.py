"""Layers: the leaves of a block, each with its exact cost, and the output-size arithmetic.

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

A size is one number (or expression) for a square input, the article's I x I, or a pair
(height, width) for H x W; an output that comes out square is written as one number:

>>> from convalgebra.symbols import H, W
>>> Conv(3, 64, (7, 7), stride=2, padding=3).output_size((224, 160))
(112, 80)
>>> Conv(3, 64, (7, 7), stride=2, padding=3).macs((H, W))
2352*H*W
>>> Conv(3, 64, (3, 3), stride=2, padding=1).output_size((225, 225))
113

Layers join into blocks in :mod:`convalgebra.blocks` and are counted in :mod:`convalgebra.cost`.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Optional, Union, cast

from .display import RichDisplay
from .errors import InvalidValueError
from .symbols import VALID, one_of, shown
from .validation import check

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = [
    "Value", "Size", "Padding", "Conv", "Shuffle", "Linear", "Pool", "AdaptivePool", "BatchNorm", "Layer", "AnyLayer",
    "Identity", "Slice", "LayerNorm", "LayerScale", "Activation", "Elementwise", "ConvTranspose", "Upsample",
    "Uncounted", "Held", "Norm", "Parameters", "Pad", "Traced", "ACTIVATIONS", "UPSAMPLING", "LAYER_TYPES",
    "is_concrete", "exact_div", "normal", "output_size",
    "pool_output_size", "transposed_output_size", "sides", "as_size", "checked_size", "area", "floors", "layer_kind", "layer_role",
    "window_text", "padding_data", "floor_div", "channels_per_group", "TokenLinear", "Tokens", "ClassToken",
    "PatchMerge", "Attention", "LinearAttention", "CPB_HIDDEN",
]

#: A channel count or cost: an exact number or a sympy expression.
Value = Union[int, Fraction, "sympy.Expr"]
#: A spatial size: one Value for a square input (I x I), or (height, width) for H x W.
Size = Union[Value, tuple[Value, Value]]
Padding = Union[str, int, tuple[int, int]]


def sides(size: Size) -> tuple[Value, Value]:
    """A size as (height, width): a square's one number twice.

    >>> sides(56), sides((224, 160))
    ((56, 56), (224, 160))
    """
    if isinstance(size, tuple):
        if len(size) != 2:
            raise InvalidValueError(f"input size {size!r}: expected one size or (height, width)")
        return size
    return size, size


def as_size(height: Value, width: Value) -> Size:
    """(height, width) as a size: one number where they agree (a square), else the pair.

    >>> as_size(7, 7), as_size(7, 5)
    (7, (7, 5))
    """
    return height if height == width else (height, width)


def checked_size(size: Any) -> Size:
    """An input size checked against the table of valid values: one side (a whole number >= 1 or
    an expression), or a pair (height, width) of them, a square's pair as its one number.

    >>> checked_size((7, 7)), checked_size((7, 5.0))
    (7, (7, 5))
    >>> checked_size(0)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: input size = 0: expected a whole number >= 1
    """
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise InvalidValueError(f"input size = {shown(size)}: expected one size or (height, width)")
        return as_size(*(_side(side) for side in size))
    return _side(size)


def _side(size: Any) -> Value:
    """One side of a size, checked against the table of valid values; within :func:`floors` an
    expression is taken as it is (its floors make it 0 or less at the smallest sizes, which the
    count at a number then refuses)."""
    if _FLOORS.get() and hasattr(size, "free_symbols") and not getattr(size, "is_Number", False):
        return size
    return check("size", size, "input size")


def area(size: Size) -> Value:
    """Height times width: the positions a layer's kernel visits.

    >>> area(7), area((7, 5))
    (49, 35)
    """
    height, width = sides(size)
    return height * width


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


#: Whether output sizes at a symbolic size keep their floor (exact at every size) or drop it
#: (a polynomial, exact where every strided division is); see :func:`floors`.
_FLOORS: ContextVar[bool] = ContextVar("floors", default=False)


@contextmanager
def floors() -> Iterator[None]:
    """Within it, a symbolic output size keeps the floor of its division, so a closed form is
    exact at every input size (not only at multiples of the stride):

    >>> from convalgebra.symbols import I
    >>> output_size(I, 3, stride=2, padding=1)
    I/2
    >>> with floors():
    ...     output_size(I, 3, stride=2, padding=1)
    floor(I/2 - 1/2) + 1
    """
    token = _FLOORS.set(True)
    try:
        yield
    finally:
        _FLOORS.reset(token)


def floor_div(x: Value, s: int) -> Value:
    """floor(x / s); for an expression ``c*I + e`` it assumes ``c*I/s`` is whole (within
    :func:`floors`, it keeps the floor)."""
    if is_concrete(x):
        return math.floor(Fraction(_number(x)) / s)
    if _FLOORS.get():
        import sympy

        return sympy.floor(_symbolic(x) / s)
    const, rest = _symbolic(x).as_coeff_Add()
    return rest / s + (const // s)


def _ceil_div(x: Value, s: int) -> Value:
    if is_concrete(x):
        return math.ceil(Fraction(_number(x)) / s)
    if _FLOORS.get():
        import sympy

        return sympy.ceiling(_symbolic(x) / s)
    const, rest = _symbolic(x).as_coeff_Add()
    return rest / s - ((-const) // s)


def output_size(size: Value, kernel: Value, stride: int = 1, padding: Padding = "same",
                dilation: int = 1) -> Value:
    """The output size of one spatial dimension, as a real convolution computes it.

    ``padding="same"`` keeps the size at stride 1 (and gives ceil(size/stride)
    otherwise); ``"valid"`` is no padding, as in PyTorch; an integer pads both sides.

    >>> output_size(224, 11, stride=4, padding=2)
    55
    >>> output_size(299, 3, stride=2, padding=0)
    149
    >>> from convalgebra.symbols import I
    >>> output_size(I, 11, stride=4, padding=2)
    I/4 - 1
    """
    if not is_concrete(size) and type(kernel) is int and type(stride) is int and type(dilation) is int and \
            type(padding) in (int, str):  # a closed form: each (size, kernel, stride, padding) worked out once
        return _output_size_at(size, kernel, stride, padding, dilation, _FLOORS.get())
    return _output_size(size, kernel, stride, padding, dilation)


@lru_cache(maxsize=4096)
def _output_size_at(size: Value, kernel: int, stride: int, padding: Padding, dilation: int, floors: bool) -> Value:
    return _output_size(size, kernel, stride, padding, dilation)


def _output_size(size: Value, kernel: Value, stride: int, padding: Padding, dilation: int) -> Value:
    size = _side(size)
    kernel = check("kernel", kernel, "kernel side")
    stride = cast(int, check("stride", stride, symbolic=False))
    dilation = cast(int, check("dilation", dilation, symbolic=False))
    if isinstance(padding, str) and padding == "same":
        return size if stride == 1 else _ceil_div(size, stride)
    padding = 0 if isinstance(padding, str) and padding == "valid" else _padding(padding)
    out = floor_div(size + 2 * padding - dilation * (kernel - 1) - 1, stride) + 1
    if is_concrete(out) and out < 1:
        raise InvalidValueError(
            f"a {kernel}-wide kernel with stride {stride} and padding {padding}"
            f" leaves no output on a {size}-wide input"
        )
    return out


def _padding(padding: Any) -> int:
    """One side's padding: a whole number >= 0 (``"same"`` and ``"valid"`` are the caller's).

    >>> _padding(2), _padding(2.0)
    (2, 2)
    >>> _padding("full")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: padding = 'full': expected 'same', 'valid' or a whole number >= 0
    """
    if isinstance(padding, str):
        raise InvalidValueError(f"padding = {shown(padding)}: expected 'same', 'valid' or a whole number >= 0")
    return cast(int, check("padding", padding, symbolic=False))


def _truth(value: Any, what: str) -> bool:
    """A field that is a truth value: True or False, nothing else (not 0, 1 or "no")."""
    if not isinstance(value, bool):
        raise InvalidValueError(f"{what} = {shown(value)}: expected True or False")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(f"{what} = {shown(value)}: expected text")
    return value


def _set(layer: Any, **values: Any) -> None:
    """Store checked values in a frozen layer's fields."""
    for name, value in values.items():
        object.__setattr__(layer, name, value)


class _Layer(RichDisplay):
    """A leaf of a block; its repr is the call that builds it (see :func:`_construction`)."""

    __slots__ = ()
    #: The fields that hold sizes (channel counts, groups): numbers put in by ``substitute``.
    SIZES: ClassVar[tuple[str, ...]] = ()
    #: How many fields the repr gives by position, and the fields it always gives by keyword.
    POSITIONAL: ClassVar[int] = 1
    ALWAYS: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        return _construction(self, self.POSITIONAL, self.ALWAYS)


@dataclass(frozen=True, repr=False)
class Conv(_Layer):
    """A 2-D convolution: ``kernel`` (height, width), ``in_channels`` -> ``out_channels``.

    ``groups`` splits both channel sets into that many groups (the article's M -> M/G).
    The defaults are the article's convolution: SAME padding (the output keeps the input's
    size at stride 1) and no bias; PyTorch's ``nn.Conv2d`` defaults to ``padding=0`` with
    a bias, so the repr always shows both. To repeat a layer, use
    :class:`convalgebra.blocks.Repeat`.

    >>> from convalgebra.symbols import K, M, N, I, G
    >>> Conv(M, N, (K, K), groups=G).macs(I)
    I**2*K**2*M*N/G
    >>> Conv(M, M, (K, K), groups=M).params()  # depthwise
    K**2*M

    ``nn.Conv2d(3, 32, 3, stride=2)`` copied as it is keeps the article's defaults; PyTorch's
    are ``padding="valid"`` (or 0) and ``bias=True``:

    >>> Conv(3, 32, (3, 3), stride=2)
    Conv(3, 32, (3, 3), stride=2, padding='same', bias=False)
    >>> same, torch_like = Conv(3, 32, (3, 3), stride=2), Conv(3, 32, (3, 3), stride=2, padding="valid", bias=True)
    >>> (same.output_size(96), same.params()), (torch_like.output_size(96), torch_like.params())
    ((48, 864), (47, 896))
    """

    in_channels: Value
    out_channels: Value
    kernel: tuple[Value, Value] = (3, 3)
    groups: Value = 1
    stride: int = 1
    padding: Padding = "same"
    dilation: int = 1
    bias: bool = False
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("in_channels", "out_channels", "groups")
    POSITIONAL: ClassVar[int] = 3
    ALWAYS: ClassVar[tuple[str, ...]] = ("padding", "bias")  # the article's defaults are not PyTorch's

    def __post_init__(self) -> None:
        """Every field checked against the table of valid values, and stored exact."""
        kernel = self.kernel
        if isinstance(kernel, list):
            kernel = tuple(kernel)
        if not isinstance(kernel, tuple):  # Conv(M, N, 3): a square 3 x 3 kernel
            kernel = (kernel, kernel)
        if len(kernel) != 2:
            raise InvalidValueError(f"kernel = {shown(self.kernel)}: expected (height, width)")
        padding: Padding = self.padding
        if isinstance(padding, list):
            padding = tuple(padding)
        if isinstance(padding, tuple):
            if len(padding) != 2:
                raise InvalidValueError(f"padding = {shown(self.padding)}: expected 'same', a number or (height, width)")
            padding = (_padding(padding[0]), _padding(padding[1]))
        elif not (isinstance(padding, str) and padding in ("same", "valid")):
            padding = _padding(padding)
        _set(self, in_channels=check("in_channels", self.in_channels, "input channels"),
             out_channels=check("out_channels", self.out_channels, "output channels"),  # a share p = 0: none
             groups=check("groups", self.groups, "groups"),
             kernel=tuple(check("kernel", side, "kernel side") for side in kernel),
             stride=check("stride", self.stride, "stride", symbolic=False), padding=padding,
             dilation=check("dilation", self.dilation, "dilation", symbolic=False),
             bias=_truth(self.bias, "bias"), name=_text(self.name, "name"))

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

    def output_size(self, size: Size) -> Size:
        """Output size for an input of ``size`` (I x I, or (H, W)); each side as a real
        convolution computes it, so an unevenly padded kernel may make a square input oblong.

        >>> Conv(8, 8, (1, 3), padding=0).output_size(7)
        (7, 5)
        """
        kh, kw = self.kernel
        pad_h, pad_w = self.padding if isinstance(self.padding, tuple) else (self.padding,) * 2
        height, width = sides(size)
        return as_size(output_size(height, kh, self.stride, pad_h, self.dilation),
                       output_size(width, kw, self.stride, pad_w, self.dilation))

    def fan_in(self) -> Value:
        """Channels each filter sees: in_channels / groups (must be whole for numbers)."""
        return channels_per_group(self.in_channels, self.groups, "input")

    def macs(self, size: Size) -> Value:
        """Multiply-accumulates on an input of ``size``: Kh*Kw*(M/G)*N*F*F (F x F the output;
        Fh*Fw for an oblong one)."""
        channels_per_group(self.out_channels, self.groups, "output")
        height, width = sides(self.output_size(size))
        kh, kw = self.kernel
        return normal(kh * kw * self.fan_in() * self.out_channels * height * width)

    def params(self) -> Value:
        """Weights Kh*Kw*(M/G)*N, plus N biases when ``bias``."""
        kh, kw = self.kernel
        weights = kh * kw * self.fan_in() * self.out_channels
        return normal(weights + (self.out_channels if self.bias else 0))


@dataclass(frozen=True, repr=False)
class Shuffle(_Layer):
    """ShuffleNet's channel shuffle: a permutation, zero MACs and zero parameters.

    >>> Shuffle(12, 3).macs(7), Shuffle(12, 3).params()
    (0, 0)
    """

    channels: Value
    groups: Value
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("channels", "groups")
    POSITIONAL: ClassVar[int] = 2

    def __post_init__(self) -> None:
        _set(self, channels=check("channels", self.channels, "channels"), groups=check("groups", self.groups, "groups"),
             name=_text(self.name, "name"))

    in_channels = out_channels = property(lambda self: self.channels)  # the channels it keeps

    def output_size(self, size: Size) -> Size:
        return size

    def macs(self, size: Size) -> Value:
        channels_per_group(self.channels, self.groups, "shuffled")
        return 0

    def params(self) -> Value:
        return 0

    def permutation(self) -> list[int]:
        """Where each output channel comes from: view as (groups, channels/groups), transpose, flatten.

        >>> Shuffle(6, 3).permutation()
        [0, 2, 4, 1, 3, 5]
        """
        per_group = channels_per_group(self.channels, self.groups, "shuffled")
        if not (isinstance(per_group, int) and isinstance(self.groups, int)):
            raise InvalidValueError("a permutation needs whole numbers of channels and groups")
        return [(i % self.groups) * per_group + i // self.groups for i in range(per_group * self.groups)]


Layer = Union["Conv", "Shuffle", "Linear", "Pool", "AdaptivePool", "BatchNorm", "Identity", "Slice", "LayerNorm",
              "LayerScale", "Activation", "Elementwise", "ConvTranspose", "Upsample", "Uncounted", "Held", "Norm",
              "Parameters", "Pad", "Traced",
              "TokenLinear", "Tokens", "ClassToken", "PatchMerge", "Attention", "LinearAttention"]


def channels_per_group(channels: Value, groups: Value, what: str) -> Value:
    if is_concrete(groups) and groups <= 0:
        raise InvalidValueError(f"groups must be a whole number >= 1, not {groups}")
    per_group = normal(exact_div(channels, groups))
    least = VALID["out_channels" if what == "output" else "channels"].low
    if is_concrete(per_group) and (not isinstance(per_group, int) or per_group < least):
        raise InvalidValueError(
            f"{groups} groups do not divide the {channels} {what} channels"
        )
    return per_group


def normal(x: Value) -> Value:
    """An int where the value is whole, else as it is."""
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    if not isinstance(x, (int, Fraction)) and getattr(x, "is_Integer", False):
        return int(x)
    return x


def padding_data(layer: Any) -> Any:
    """A layer's padding as plain data (JSON): 'same' or 'valid', a number, [height, width],
    or None for a layer without a window.

    >>> padding_data(Conv(3, 8, (3, 3))), padding_data(Conv(3, 8, (1, 7), padding=(0, 3))), padding_data(Pool(8, 3))
    ('same', [0, 3], 0)
    """
    padding = getattr(layer, "padding", None)
    return list(padding) if isinstance(padding, tuple) else padding


def _kernel_text(kernel: tuple[Value, Value]) -> str:
    return f"{kernel[0]}x{kernel[1]}"


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
    size = _side(size)
    kernel, stride, padding = (cast(int, check(name, value, f"pooling {name}", symbolic=False))
                               for name, value in (("kernel", kernel), ("stride", stride), ("padding", padding)))
    out = _ceil_div(size + 2 * padding - kernel, stride) + 1
    overhang = (out - 1) * stride - (size + padding)
    if is_concrete(overhang) and overhang >= 0:
        out -= 1
    elif not is_concrete(overhang) and _FLOORS.get() and padding + stride > kernel:
        # the last window may start past the input at some sizes: say at which, exactly
        import sympy

        out = sympy.Piecewise((out - 1, sympy.Ge(overhang, 0)), (out, True))
    if is_concrete(out) and out < 1:
        raise InvalidValueError(
            f"a {kernel}-wide pooling window with stride {stride} leaves no output on a {size}-wide input"
        )
    return out


@dataclass(frozen=True, repr=False)
class Linear(_Layer):
    """A fully connected layer on the flattened ``in_channels x in_size x in_size`` input
    (``in_size`` a number, or (height, width)).

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
    in_size: Union[int, tuple[int, int]] = 1
    bias: bool = True
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("in_channels", "out_features")
    POSITIONAL: ClassVar[int] = 2

    def __post_init__(self) -> None:
        in_size: Any = self.in_size
        if isinstance(in_size, (tuple, list)) and len(in_size) == 2:  # an oblong input: (height, width)
            in_size = as_size(*(check("size", side, "input size", symbolic=False) for side in in_size))
        else:
            in_size = check("size", in_size, "input size", symbolic=False)
        _set(self, in_channels=check("in_channels", self.in_channels, "input channels"),
             out_features=check("out_features", self.out_features, "output features"),
             in_size=in_size, bias=_truth(self.bias, "bias"), name=_text(self.name, "name"))

    @property
    def out_channels(self) -> Value:
        return self.out_features

    @property
    def in_features(self) -> Value:
        """The length of the flattened input: in_channels * in_size * in_size."""
        return self.in_channels * area(self.in_size)

    def output_size(self, size: Size) -> Size:
        size = checked_size(size)
        if sides(size) != sides(self.in_size):
            wanted = " x ".join(map(str, sides(self.in_size)))
            raise InvalidValueError(
                f"a linear layer on {self.in_channels} x {wanted} inputs gets a"
                f" {' x '.join(map(str, sides(size)))} input; pool to {wanted} first"
            )
        return 1

    def macs(self, size: Size) -> Value:
        """in_features * out_features multiply-accumulates (the bias is not counted)."""
        self.output_size(size)
        return normal(self.in_features * self.out_features)

    def params(self) -> Value:
        return normal(self.in_features * self.out_features + (self.out_features if self.bias else 0))


class _Passive(_Layer):
    """A layer that keeps the channels and costs no MACs and no parameters."""

    channels: Value
    SIZES: ClassVar[tuple[str, ...]] = ("channels",)
    in_channels = out_channels = property(lambda self: self.channels)

    def __post_init__(self) -> None:
        _set(self, channels=check("channels", self.channels, "channels"), name=_text(getattr(self, "name", ""), "name"))

    def output_size(self, size: Size) -> Size:
        return size

    def macs(self, size: Size) -> Value:
        return 0

    def params(self) -> Value:
        return 0


@dataclass(frozen=True, repr=False)
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

    POSITIONAL: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        kernel = check("kernel", self.kernel, "pooling window", symbolic=False)
        stride = kernel if self.stride is None else check("stride", self.stride, "pooling stride", symbolic=False)
        padding = check("padding", self.padding, "pooling padding", symbolic=False)
        one_of(self.kind, ("max", "avg"), "pooling kind")
        if 2 * padding > kernel:
            raise InvalidValueError(f"pooling padding = {padding}: expected at most half the kernel {kernel}")
        _set(self, kernel=kernel, stride=stride, padding=padding, ceil_mode=_truth(self.ceil_mode, "ceil_mode"))

    def output_size(self, size: Size) -> Size:
        height, width = sides(size)
        stride = self.stride or self.kernel
        return as_size(pool_output_size(height, self.kernel, stride, self.padding, self.ceil_mode),
                       pool_output_size(width, self.kernel, stride, self.padding, self.ceil_mode))


@dataclass(frozen=True, repr=False)
class AdaptivePool(_Passive):
    """Pooling to a fixed ``output`` x ``output`` whatever the input size (global pooling at 1).

    >>> AdaptivePool(2048).output_size(7), AdaptivePool(512, 7).output_size(14)
    (1, 7)
    """

    channels: Value
    output: Union[int, tuple[int, int]] = 1
    kind: str = "avg"
    name: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of(self.kind, ("max", "avg"), "pooling kind")
        output: Any = self.output
        if isinstance(output, (tuple, list)) and len(output) == 2:
            output = as_size(*(check("output", side, "pooled size", symbolic=False) for side in output))
        else:
            output = check("output", output, "pooled size", symbolic=False)
        _set(self, output=output)

    def output_size(self, size: Size) -> Size:
        checked_size(size)
        return as_size(*sides(self.output))


@dataclass(frozen=True, repr=False)
class BatchNorm(_Passive):
    """Batch normalization: its affine gamma and beta are 2 * channels parameters; no MACs
    (at inference it folds into the convolution before it).

    >>> BatchNorm(64).params(), BatchNorm(64).macs(56)
    (128, 0)
    """

    channels: Value
    name: str = ""

    def params(self) -> Value:
        return normal(2 * self.channels)


# -- the layers of modern CNNs: identity, channel slices, normalization and scaling, named
# -- activations and elementwise operations, transposed convolution, upsampling --------------

@dataclass(frozen=True, repr=False)
class Identity(_Passive):
    """The input as it is: DenseNet's concatenation keeps it beside the new channels
    (``Parallel(Identity(M), ...)``), a Ghost module its primary maps beside the cheap ones.

    >>> Identity(64).out_channels, Identity(64).macs(56), Identity(64).params()
    (64, 0, 0)
    """

    channels: Value
    name: str = ""

    KIND: ClassVar[str] = "identity"


@dataclass(frozen=True, repr=False)
class Slice(_Layer):
    """Channels ``start`` to ``stop`` (``stop`` not included) of a ``channels``-channel input:
    ShuffleNet V2's channel split is two slices side by side. A view: no MACs, no parameters.

    >>> half = Slice(116, 58, 116)
    >>> half.in_channels, half.out_channels, half.macs(28), half.params()
    (116, 58, 0, 0)
    >>> Slice(8, 6, 10)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a slice of channels 6 to 10 of 8 input channels: expected 0 <= start < stop <= 8
    """

    channels: Value
    start: Value
    stop: Value
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("channels", "start", "stop")
    POSITIONAL: ClassVar[int] = 3
    KIND: ClassVar[str] = "channel slice"

    def __post_init__(self) -> None:
        _set(self, channels=check("channels", self.channels, "channels"),
             start=check("start", self.start, "first channel"), stop=check("stop", self.stop, "end of the slice"),
             name=_text(self.name, "name"))
        if all(map(is_concrete, (self.channels, self.start, self.stop))) and \
                not 0 <= self.start < self.stop <= self.channels:
            raise InvalidValueError(f"a slice of channels {self.start} to {self.stop} of {self.channels} input"
                                    f" channels: expected 0 <= start < stop <= {self.channels}")

    @property
    def in_channels(self) -> Value:
        return self.channels

    @property
    def out_channels(self) -> Value:
        return normal(self.stop - self.start)

    def output_size(self, size: Size) -> Size:
        return size

    def macs(self, size: Size) -> Value:
        return 0

    def params(self) -> Value:
        return 0


@dataclass(frozen=True, repr=False)
class LayerNorm(_Passive):
    """Layer normalization over the channels at each position (ConvNeXt's ``LayerNorm2d``):
    its affine gamma and beta are 2 * channels parameters; no MACs (the convention counts
    convolutions and linear layers only).

    >>> LayerNorm(96).params(), LayerNorm(96).macs(56)
    (192, 0)
    """

    channels: Value
    name: str = ""

    KIND: ClassVar[str] = "layer norm"

    def params(self) -> Value:
        return normal(2 * self.channels)


@dataclass(frozen=True, repr=False)
class LayerScale(_Passive):
    """ConvNeXt's (and CaiT's) layer scale: each channel multiplied by a learned gamma,
    ``channels`` parameters; the multiplication is elementwise, 0 MACs.

    >>> LayerScale(96).params(), LayerScale(96).macs(56)
    (96, 0)
    """

    channels: Value
    name: str = ""

    KIND: ClassVar[str] = "layer scale"

    def params(self) -> Value:
        return normal(self.channels)


#: The activation functions a layer may name.
ACTIVATIONS: tuple[str, ...] = ("relu", "relu6", "gelu", "silu", "sigmoid", "hardswish", "hardsigmoid", "tanh",
                                "leaky_relu", "elu", "selu", "celu", "softplus", "softsign", "mish", "hardtanh", "erf",
                                "softmax")


@dataclass(frozen=True, repr=False)
class Activation(_Passive):
    """An activation function by name (one of :data:`ACTIVATIONS`), applied to each value:
    0 MACs and no parameters, so a table can show it and a count under another convention
    (one operation per output value) can add it.

    >>> Activation(64, "hardswish").macs(56), Activation(64).function
    (0, 'relu')
    >>> Activation(64, "swish")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: activation = 'swish': expected 'relu', 'relu6', 'gelu', 'silu', 'sigmoid', 'hardswish', 'hardsigmoid', 'tanh', 'leaky_relu', 'elu', 'selu', 'celu', 'softplus', 'softsign', 'mish', 'hardtanh', 'erf' or 'softmax'
    """

    channels: Value
    function: str = "relu"
    name: str = ""

    POSITIONAL: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of(self.function, ACTIVATIONS, "activation")


@dataclass(frozen=True, repr=False)
class Elementwise(_Passive):
    """An elementwise operation on the input and a second operand of its shape (``"add"``:
    a residual sum; ``"multiply"``: a gate): 0 MACs and no parameters, shown by name.

    >>> Elementwise(64, "multiply").macs(7), Elementwise(64).op
    (0, 'add')
    """

    channels: Value
    op: str = "add"
    name: str = ""

    POSITIONAL: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of(self.op, ("add", "multiply"), "elementwise op")


def transposed_output_size(size: Value, kernel: Value, stride: int = 1, padding: int = 0,
                           output_padding: int = 0, dilation: int = 1) -> Value:
    """The output size of one side of a transposed convolution, as PyTorch computes it:
    (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.

    >>> transposed_output_size(7, 4, stride=2, padding=1), transposed_output_size(7, 3, 2, 1, 1)
    (14, 14)
    """
    size = _side(size)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if is_concrete(out) and out < 1:
        raise InvalidValueError(f"a {kernel}-wide transposed kernel with padding {padding} leaves no output"
                                f" on a {size}-wide input")
    return out


@dataclass(frozen=True, repr=False)
class ConvTranspose(_Layer):
    """A transposed 2-D convolution (a "deconvolution"): each input position scatters a
    ``kernel`` window of every output channel it reaches. Its MACs are counted on the
    **input** positions, Kh*Kw*M*(N/G)*H*W (H x W the input), not on the larger output:

    >>> up = ConvTranspose(256, 128, (4, 4), stride=2, padding=1)
    >>> up.output_size(14), up.macs(14), up.params()
    (28, 102760448, 524288)
    >>> from convalgebra.symbols import K, M, N, I
    >>> ConvTranspose(M, N, (K, K), stride=2).macs(I)
    I**2*K**2*M*N
    """

    in_channels: Value
    out_channels: Value
    kernel: tuple[Value, Value] = (2, 2)
    groups: Value = 1
    stride: int = 1
    padding: Union[int, tuple[int, int]] = 0
    output_padding: Union[int, tuple[int, int]] = 0
    dilation: int = 1
    bias: bool = False
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("in_channels", "out_channels", "groups")
    POSITIONAL: ClassVar[int] = 3
    ALWAYS: ClassVar[tuple[str, ...]] = ("stride", "padding", "bias")

    def __post_init__(self) -> None:
        kernel = tuple(self.kernel) if isinstance(self.kernel, list) else self.kernel
        kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        if len(kernel) != 2:
            raise InvalidValueError(f"kernel = {shown(self.kernel)}: expected (height, width)")
        padding, extra = (as_size(*(check(name, side, name.replace("_", " "), symbolic=False) for side in sides(
            tuple(value) if isinstance(value, list) else value))) for name, value in
            (("padding", self.padding), ("output_padding", self.output_padding)))
        stride = check("stride", self.stride, "stride", symbolic=False)
        dilation = check("dilation", self.dilation, "dilation", symbolic=False)
        for side in sides(extra):
            if side >= max(stride, dilation):
                raise InvalidValueError(f"output_padding {side} must be smaller than the stride or the dilation")
        _set(self, in_channels=check("in_channels", self.in_channels, "input channels"),
             out_channels=check("out_channels", self.out_channels, "output channels"),
             groups=check("groups", self.groups, "groups"),
             kernel=tuple(check("kernel", side, "kernel side") for side in kernel), stride=stride,
             padding=padding, output_padding=extra, dilation=dilation, bias=_truth(self.bias, "bias"),
             name=_text(self.name, "name"))

    def output_size(self, size: Size) -> Size:
        height, width = sides(size)
        (kh, kw), (ph, pw) = self.kernel, cast("tuple[int, int]", sides(self.padding))
        oh, ow = cast("tuple[int, int]", sides(self.output_padding))
        return as_size(transposed_output_size(height, kh, self.stride, ph, oh, self.dilation),
                       transposed_output_size(width, kw, self.stride, pw, ow, self.dilation))

    def macs(self, size: Size) -> Value:
        """Kh*Kw*M*(N/G) per input position (PyTorch's FlopCounterMode counts the same)."""
        self.output_size(size)
        channels_per_group(self.in_channels, self.groups, "input")
        kh, kw = self.kernel
        return normal(kh * kw * self.in_channels * channels_per_group(self.out_channels, self.groups, "output")
                      * area(size))

    def params(self) -> Value:
        """Weights Kh*Kw*M*(N/G), plus N biases when ``bias``."""
        kh, kw = self.kernel
        weights = kh * kw * self.in_channels * channels_per_group(self.out_channels, self.groups, "output")
        return normal(weights + (self.out_channels if self.bias else 0))


#: The modes of upsampling (interpolation is no convolution: 0 MACs in every mode).
UPSAMPLING: tuple[str, ...] = ("nearest", "bilinear", "bicubic", "nearest-exact", "linear", "trilinear", "area")


@dataclass(frozen=True, repr=False)
class Upsample(_Passive):
    """Upsampling by a whole ``scale`` (``mode`` nearest or bilinear): each side times the
    scale; 0 MACs by the convention (interpolation is no convolution) and no parameters.

    >>> Upsample(64, 2).output_size((7, 5)), Upsample(64, 2, "bilinear").macs(7)
    ((14, 10), 0)
    """

    channels: Value
    scale: int = 2
    mode: str = "nearest"
    name: str = ""

    POSITIONAL: ClassVar[int] = 2
    KIND: ClassVar[str] = "upsample"

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, scale=check("scale", self.scale, "upsampling scale", symbolic=False))
        one_of(self.mode, UPSAMPLING, "upsampling mode")

    def output_size(self, size: Size) -> Size:
        height, width = sides(size)
        return as_size(height * self.scale, width * self.scale)


@dataclass(frozen=True, repr=False)
class Uncounted(_Passive):
    """An operation the library does not know, found in an imported model: kept in its place
    and shown by name (``op``), its MACs **not counted** (never silently 0: every table says
    so, and ``from_torch(..., strict=True)`` refuses the model). It keeps the size; ``out``
    is the channels it makes (its input's by default); ``held`` the parameters it holds.

    >>> odd = Uncounted(64, "torch.erf")
    >>> odd.macs(56), odd.params(), layer_role(odd)
    (0, 0, 'not counted: torch.erf')
    """

    channels: Value
    op: str = ""
    out: Optional[Value] = None
    held: int = 0
    name: str = ""

    POSITIONAL: ClassVar[int] = 2

    @property
    def out_channels(self) -> Value:
        return self.channels if self.out is None else self.out

    def params(self) -> Value:
        return self.held


@dataclass(frozen=True, repr=False)
class Traced(_Layer):
    """An operation counted at the size the model was traced at only: attention's products of
    two computed values, a reshape into tokens and back, a convolution over 1 or 3 dimensions.
    Its MACs are PyTorch's own (FlopCounterMode's formula for the op, at the shapes the trace
    gave); its output size is the trace's. At another input size it refuses to count (import
    the model again at that size), so a closed form in H and W is not claimed for a network
    that holds one.

    >>> t = Traced(64, "matmul", 64, 802816, 14, 14)
    >>> t.macs(14), t.output_size(14), layer_role(t)
    (802816, 14, 'matmul (at the traced size)')
    >>> t.macs(15)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: matmul is counted at the size the model was traced at (14), not 15; import the model at that size
    """

    channels: Value
    op: str = ""
    out: Value = 0
    counted: int = 0
    at: Any = 1
    made: Any = 1
    held: int = 0
    name: str = ""
    shape: tuple[int, ...] = ()  #: the output's shape at the trace, batch left out (tokens: (197, 192))

    POSITIONAL: ClassVar[int] = 6
    SIZES: ClassVar[tuple[str, ...]] = ()

    @property
    def in_channels(self) -> Value:
        return self.channels

    @property
    def out_channels(self) -> Value:
        return self.out

    def _check(self, size: Size) -> None:
        if size != self.at:
            raise InvalidValueError(f"{self.name or self.op} is counted at the size the model was traced at"
                                    f" ({_size_text(self.at)}), not {_size_text(size)}; import the model at that size")

    def output_size(self, size: Size) -> Size:
        self._check(size)
        return self.made

    def macs(self, size: Size) -> Value:
        self._check(size)
        return self.counted

    def params(self) -> Value:
        return self.held


def _size_text(size: Any) -> str:
    return " x ".join(map(str, size)) if isinstance(size, tuple) else str(size)


@dataclass(frozen=True, repr=False)
class Held(_Passive):
    """Parameters a model holds that its forward pass does not use (an auxiliary classifier
    at inference, a spare head): counted as parameters, no MACs, no effect on the data.

    >>> Held(1000, 1234, "aux1").params(), layer_role(Held(1000, 1234, "aux1"))
    (1234, 'not run')
    """

    channels: Value
    held: int = 0
    module: str = ""
    name: str = ""

    POSITIONAL: ClassVar[int] = 3
    KIND: ClassVar[str] = "not run"

    def params(self) -> Value:
        return self.held


@dataclass(frozen=True, repr=False)
class Norm(_Passive):
    """A normalization other than batch norm over the channels (``kind``: group, instance,
    layer over C x H x W, RMS): 0 MACs by the convention, ``params`` its affine weights (2 per
    channel with a bias, 1 without, 0 when not affine).

    >>> Norm(64, "group", 128).params(), layer_role(Norm(64, "group", 128))
    (128, 'group norm')
    """

    channels: Value
    kind: str = "group"
    held: int = 0
    name: str = ""

    POSITIONAL: ClassVar[int] = 3

    def params(self) -> Value:
        return self.held


@dataclass(frozen=True, repr=False)
class Pad(_Passive):
    """Zero padding by fixed amounts ``(top, bottom, left, right)`` (``F.pad``; TensorFlow's
    SAME padding done by hand): the sides grow; no MACs, no parameters.

    >>> Pad(8, (0, 1, 0, 1)).output_size(224), Pad(8, (1, 1, 2, 2)).output_size((7, 4))
    (225, (9, 8))
    """

    channels: Value
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    name: str = ""

    POSITIONAL: ClassVar[int] = 2
    KIND: ClassVar[str] = "pad"

    def output_size(self, size: Size) -> Size:
        height, width = sides(size)
        top, bottom, left, right = self.pads
        return as_size(height + top + bottom, width + left + right)


@dataclass(frozen=True, repr=False)
class Parameters(_Passive):
    """Parameters an operation uses beside its layer's own (NFNet's gain, which scales its
    standardized convolution's weights): counted as parameters; no MACs, no effect on the data.

    >>> Parameters(64, 64, "stem.conv1.gain").params(), layer_role(Parameters(64, 64))
    (64, 'parameters')
    """

    channels: Value
    held: int = 0
    name: str = ""

    POSITIONAL: ClassVar[int] = 3
    KIND: ClassVar[str] = "parameters"

    def params(self) -> Value:
        return self.held


# -- the layers of vision transformers: tokens, linear layers on each token, self-attention -----------
#
# A transformer works on n tokens of C channels. Here a token is a position of the map: a block on an
# H x W map of C channels works on n = H*W tokens (after a P x P patch embedding, H*W/P**2 of the
# image's), so every closed form stays in the input's H and W. ViT's class token is one token more that
# no map holds: the layers that see it say so with ``extra`` (n = H*W + extra).


def _tokens(size: Size, extra: Value) -> Value:
    return normal(area(size) + extra)


@dataclass(frozen=True, repr=False)
class TokenLinear(_Layer):
    """A linear layer applied to each token on its own (a transformer's MLP, its projections):
    ``in_channels`` -> ``out_channels`` at each of the n = H*W (+ ``extra``) tokens, the same
    MACs as a 1 x 1 convolution on the map (the bias, as everywhere, not counted):

    >>> from convalgebra.symbols import H, W, N
    >>> TokenLinear(N, 4 * N).macs((H, W)), TokenLinear(N, 4 * N).params()
    (4*H*N**2*W, 4*N**2 + 4*N)
    >>> TokenLinear(768, 3072, extra=1).macs(14)       # ViT-B/16's MLP: 196 patches and the class token
    464781312
    """

    in_channels: Value
    out_channels: Value
    bias: bool = True
    extra: int = 0
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("in_channels", "out_channels")
    POSITIONAL: ClassVar[int] = 2
    KIND: ClassVar[str] = "token linear"

    def __post_init__(self) -> None:
        _set(self, in_channels=check("in_channels", self.in_channels, "input channels"),
             out_channels=check("out_channels", self.out_channels, "output channels"),
             bias=_truth(self.bias, "bias"), extra=check("tokens", self.extra, "extra tokens", symbolic=False),
             name=_text(self.name, "name"))

    def output_size(self, size: Size) -> Size:
        return checked_size(size)

    def macs(self, size: Size) -> Value:
        """in * out at each token."""
        return normal(_tokens(checked_size(size), self.extra) * self.in_channels * self.out_channels)

    def params(self) -> Value:
        return normal(self.in_channels * self.out_channels + (self.out_channels if self.bias else 0))


@dataclass(frozen=True, repr=False)
class Tokens(_Passive):
    """ViT's token embedding after its patch embedding: ``extra`` class tokens put before the
    H*W patch tokens (``channels`` parameters each) and a learned position embedding of
    ``positions`` tokens (``positions * channels`` parameters); 0 MACs (the additions are
    elementwise). A ViT is built for one input size: at a number, the tokens must be as many
    as its position embedding (torchvision refuses other sizes); at a symbolic size the
    closed form is the MACs of the ViT built for that size, its parameters those of the one
    built for ``positions``.

    >>> Tokens(768, positions=197).params(), Tokens(768, positions=197).output_size(14)
    (152064, 14)
    >>> Tokens(768, positions=197).output_size(12)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: 145 tokens (12 x 12 patches and 1 class token) where the position embedding holds 197: the network is built for another input size (ca.network(name, image_size=...) builds one for it)
    """

    channels: Value
    extra: int = 1
    positions: Optional[int] = None
    name: str = ""

    POSITIONAL: ClassVar[int] = 1
    KIND: ClassVar[str] = "tokens"

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, extra=check("tokens", self.extra, "extra tokens", symbolic=False),
             positions=None if self.positions is None else check("size", self.positions, "positions", symbolic=False))

    def output_size(self, size: Size) -> Size:
        size = checked_size(size)
        tokens = _tokens(size, self.extra)
        if self.positions is not None and is_concrete(tokens) and tokens != self.positions:
            height, width = sides(size)
            raise InvalidValueError(f"{tokens} tokens ({height} x {width} patches and {self.extra} class token"
                                    f"{'s' if self.extra != 1 else ''}) where the position embedding holds"
                                    f" {self.positions}: the network is built for another input size"
                                    " (ca.network(name, image_size=...) builds one for it)")
        return size

    def params(self) -> Value:
        return normal(self.channels * (self.extra + (self.positions or 0)))


@dataclass(frozen=True, repr=False)
class ClassToken(_Passive):
    """The class token taken out of the tokens for the classifier (ViT's head reads it alone):
    a 1 x 1 output, no MACs, no parameters.

    >>> ClassToken(768).output_size((14, 14)), ClassToken(768).macs(14)
    (1, 0)
    """

    channels: Value
    name: str = ""

    KIND: ClassVar[str] = "class token"

    def output_size(self, size: Size) -> Size:
        checked_size(size)
        return 1


@dataclass(frozen=True, repr=False)
class PatchMerge(_Passive):
    """The image (or a map) cut into ``patch`` x ``patch`` tiles, each tile one position of
    P**2 * C channels (a space-to-depth; a side that is no multiple of P is padded up to one, as
    Swin's patch merging does), no MACs, no parameters. With a linear layer on each tile after it,
    it is a P x P convolution of stride P: ViT's patch embedding, Swin's patch merging (P = 2).

    >>> PatchMerge(96).out_channels, PatchMerge(96).output_size((56, 57))
    (384, (28, 29))
    >>> from convalgebra.symbols import K, M, I
    >>> PatchMerge(M, K).out_channels, PatchMerge(M, K).output_size(I)
    (K**2*M, I/K)
    """

    channels: Value
    patch: Value = 2
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("channels", "patch")
    KIND: ClassVar[str] = "patch merge"

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, patch=check("window", self.patch, "patch side"))

    @property
    def out_channels(self) -> Value:
        return normal(self.patch ** 2 * self.channels)

    @property
    def stride(self) -> Value:
        """A tile a position: the stride of the P x P convolution it makes with the linear layer after it."""
        return self.patch

    def output_size(self, size: Size) -> Size:
        height, width = sides(checked_size(size))
        return as_size(_tiles(height, self.patch), _tiles(width, self.patch))


def _tiles(side: Value, tile: Value) -> Value:
    """How many tiles of ``tile`` cover ``side`` (the last one padded): ceil(side / tile); at a
    symbolic tile, side / tile (exact where the side is a multiple of it)."""
    if is_concrete(tile):
        return _ceil_div(side, cast(int, tile))
    return normal(exact_div(side, tile))


#: Swin V2's continuous position bias: a 2 -> 512 -> heads MLP on the (2M - 1)**2 relative positions.
CPB_HIDDEN = 512


@dataclass(frozen=True, repr=False)
class Attention(_Layer):
    """Multi-head self-attention over the tokens of a map of ``channels`` C, with ``heads`` h:
    a linear layer makes the queries, keys and values (3C**2 at each token), each head compares
    its C/h channels of every query with every key (the scores, n x n) and sums the values
    weighted by them (n x n again), and a linear layer projects the result (C**2 a token).
    On n tokens: 4*n*C**2 + 2*n**2*C MACs, the heads whatever their number (they group the
    channels of the two products, as G groups split a convolution: h * n**2 * C/h). The
    softmax and the scaling by 1/sqrt(C/h) are not counted, like activations (they are no
    multiply-accumulate of two tensors; FlopCounterMode counts neither).

    >>> from convalgebra.symbols import H, W, N, G
    >>> Attention(N, G).macs((H, W))                     # Swin's Eq. (1), hw tokens of C = N channels
    2*H**2*N*W**2 + 4*H*N**2*W
    >>> Attention(768, 12, extra=1).macs(14)             # ViT-B/16's attention: 196 patches and the class token
    524391936

    ``window`` M splits the tokens into M x M windows and attends within each (Swin; a side that
    is not a multiple of M is padded up to one, as torchvision does, and the padded tokens
    count): on n tokens, 4*n*C**2 + 2*n*M**2*C, Swin's Eq. (2). ``shift`` (Swin's shifted
    windows) moves the windows and costs nothing. ``position_bias`` is Swin's relative position
    bias, a table of (2M - 1)**2 * h parameters (``"table"``), or Swin V2's continuous one
    (``"mlp"``: a 2 -> 512 -> h MLP on the (2M - 1)**2 relative positions, run once a layer, and
    a learned logit scale a head).

    >>> Attention(N, G, window=7).macs((H, W))
    4*H*N**2*W + 98*H*N*W

    ``grid`` P is MobileViT's unfolding: the map cut into P x P patches, and each token attends to
    the n/P**2 tokens at the same place of every patch (P**2 sequences; a side that is no multiple
    of P is stretched up to one, as timm does):

    >>> Attention(N, G, grid=2).macs((H, W))
    H**2*N*W**2/2 + 4*H*N**2*W
    >>> Attention(96, 3, window=7, position_bias="table").params()
    37755
    """

    channels: Value
    heads: Value = 1
    extra: int = 0
    window: Optional[Value] = None
    shift: int = 0
    grid: Optional[Value] = None
    qkv_bias: bool = True
    proj_bias: bool = True
    position_bias: str = "none"
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("channels", "heads")
    POSITIONAL: ClassVar[int] = 2

    def __post_init__(self) -> None:
        _set(self, channels=check("channels", self.channels, "channels"), heads=check("heads", self.heads, "heads"),
             extra=check("tokens", self.extra, "extra tokens", symbolic=False),
             window=None if self.window is None else check("window", self.window, "window"),
             shift=check("padding", self.shift, "shift", symbolic=False),
             grid=None if self.grid is None else check("window", self.grid, "patch side"),
             qkv_bias=_truth(self.qkv_bias, "qkv_bias"), proj_bias=_truth(self.proj_bias, "proj_bias"),
             name=_text(self.name, "name"))
        one_of(self.position_bias, ("none", "table", "mlp"), "position bias")
        if self.position_bias != "none" and self.window is None:
            raise InvalidValueError("a relative position bias needs windows (window=M)")
        if (self.window is not None or self.grid is not None) and self.extra:
            raise InvalidValueError("window or unfolded attention has no class token (extra = 0)")
        if self.window is not None and self.grid is not None:
            raise InvalidValueError("attention in windows or unfolded into patches (grid), not both")
        channels_per_group(self.channels, self.heads, "attention")

    in_channels = out_channels = property(lambda self: self.channels)  # the channels it keeps

    @property
    def KIND(self) -> str:
        if self.grid is not None:
            return "unfolded attention"
        if self.window is None:
            return "self-attention"
        return f"{'shifted ' if self.shift else ''}window attention"

    def output_size(self, size: Size) -> Size:
        return checked_size(size)

    def tokens(self, size: Size) -> Value:
        """The tokens the projections run on: H*W (+ ``extra``), padded up to whole windows.

        >>> Attention(96, 3, window=7).tokens((56, 57)), Attention(768, 12, extra=1).tokens(14)
        (3528, 197)
        """
        size = checked_size(size)
        tile = self.window if self.window is not None else self.grid
        if tile is None:
            return _tokens(size, self.extra)
        height, width = sides(size)
        return normal(_tiles(height, tile) * _tiles(width, tile) * tile ** 2)

    def partners(self, size: Size) -> Value:
        """How many tokens each token attends to: all n, the M**2 of its window, or, unfolded into
        P x P patches (``grid`` P, MobileViT), the n/P**2 at the same place of every patch."""
        if self.grid is not None:
            return normal(exact_div(self.tokens(size), self.grid ** 2))
        return self.tokens(size) if self.window is None else self.window ** 2

    def projection_macs(self, size: Size) -> Value:
        """The linear layers' MACs: queries, keys, values and the output projection, 4*n*C**2."""
        return normal(4 * self.tokens(size) * self.channels ** 2)

    def score_macs(self, size: Size) -> Value:
        """The two products of attention, the scores and the weighted sum: 2 * n * partners * C
        (each of h heads on C/h channels; Swin V2's position-bias MLP, run once, is counted here too)."""
        both = 2 * self.tokens(size) * self.partners(size) * self.channels
        if self.position_bias == "mlp":
            both += (2 * cast(int, self.window) - 1) ** 2 * (2 * CPB_HIDDEN + CPB_HIDDEN * self.heads)
        return normal(both)

    def macs(self, size: Size) -> Value:
        return normal(self.projection_macs(size) + self.score_macs(size))

    def score_elements(self, size: Size) -> Value:
        """The size of the score matrices: h x n x n (h x n x M**2 in windows)."""
        return normal(self.heads * self.tokens(size) * self.partners(size))

    def params(self) -> Value:
        """4C**2 weights, 3C + C biases, and the position bias: (2M - 1)**2 * h (a table) or
        2*512 + 512 + 512*h + h (V2's MLP and logit scale)."""
        C = self.channels
        total = 4 * C ** 2 + (3 * C if self.qkv_bias else 0) + (C if self.proj_bias else 0)
        if self.position_bias == "table":
            total += (2 * cast(int, self.window) - 1) ** 2 * self.heads
        elif self.position_bias == "mlp":
            total += 3 * CPB_HIDDEN + CPB_HIDDEN * self.heads + self.heads
        return normal(total)


@dataclass(frozen=True, repr=False)
class LinearAttention(_Layer):
    """MobileViT V2's separable self-attention over the tokens of a map of ``channels`` C: a 1 x 1
    layer makes one context score and a key and a value a token (C -> 1 + 2C), the softmax of the
    n scores weights the keys into one context vector, which scales each token's value, and a
    1 x 1 layer projects the result (C**2). No token is compared with every other: no n**2 term,
    n*C*(3C + 1) MACs. The weighted sum of the keys and the scaling are elementwise products
    (n*C each), which FlopCounterMode does not count and neither does this count (like the softmax).

    >>> from convalgebra.symbols import H, W, N
    >>> LinearAttention(N).macs((H, W)), LinearAttention(N).params()
    (3*H*N**2*W + H*N*W, 3*N**2 + 4*N + 1)
    """

    channels: Value
    bias: bool = True
    name: str = ""

    SIZES: ClassVar[tuple[str, ...]] = ("channels",)
    KIND: ClassVar[str] = "separable attention"

    def __post_init__(self) -> None:
        _set(self, channels=check("channels", self.channels, "channels"), bias=_truth(self.bias, "bias"),
             name=_text(self.name, "name"))

    in_channels = out_channels = property(lambda self: self.channels)  # the channels it keeps

    def output_size(self, size: Size) -> Size:
        return checked_size(size)

    def macs(self, size: Size) -> Value:
        C, n = self.channels, area(checked_size(size))
        return normal(3 * n * C ** 2 + n * C)

    def params(self) -> Value:
        C = self.channels
        return normal(3 * C ** 2 + C + (3 * C + 1 if self.bias else 0))


def layer_role(layer: Layer) -> str:
    """What a layer does, in a course's words (its kernel aside).

    >>> [layer_role(x) for x in (Conv(8, 8, (3, 3), groups=8), Conv(8, 16, (1, 1), groups=2), Conv(8, 16),
    ...                          Shuffle(8, 2), Pool(8, 3, 2), AdaptivePool(8), BatchNorm(8), Linear(8, 10))]
    ['depthwise', 'group pointwise', 'conv', 'shuffle', 'max pool', 'adaptive avg pool', 'batch norm', 'linear']
    >>> [layer_role(x) for x in (Identity(8), Slice(8, 0, 4), LayerNorm(8), LayerScale(8), Activation(8, "gelu"),
    ...                          Elementwise(8, "multiply"), ConvTranspose(8, 4, (2, 2), stride=2), Upsample(8))]
    ['identity', 'channel slice', 'layer norm', 'layer scale', 'gelu', 'multiply', 'transposed conv', 'upsample']
    """
    if isinstance(layer, Conv):
        if layer.is_depthwise:
            return "depthwise"
        kind = "pointwise" if layer.is_pointwise else "conv"
        return kind if layer.groups == 1 else "group " + kind
    if isinstance(layer, Pool):
        return f"{layer.kind} pool"
    if isinstance(layer, AdaptivePool):
        return f"adaptive {layer.kind} pool"
    if isinstance(layer, ConvTranspose):
        return "transposed conv"
    if isinstance(layer, (Activation, Elementwise)):
        return layer.function if isinstance(layer, Activation) else layer.op
    if isinstance(layer, Uncounted):
        return f"not counted: {layer.op}"
    if isinstance(layer, Norm):
        return f"{layer.kind} norm"
    if isinstance(layer, Traced):
        return f"{layer.op} (at the traced size)"
    named = {Shuffle: "shuffle", BatchNorm: "batch norm", Linear: "linear"}
    return named.get(type(layer)) or getattr(layer, "KIND")


#: A convolution's role as a model summary names it, after its kernel.
_CONV_KIND = {"depthwise": "depthwise conv", "pointwise": "conv", "conv": "conv",
              "group pointwise": "group conv", "group conv": "group conv"}


def layer_kind(layer: Layer) -> str:
    """What a layer is, in a model summary's words: its role, with the kernel of a convolution.

    >>> [layer_kind(x) for x in (Conv(8, 8, (3, 3), groups=8), Conv(8, 16, (1, 1)), Shuffle(8, 2), Pool(8, 3, 2),
    ...                          ConvTranspose(8, 4, (2, 2), stride=2))]
    ['3x3 depthwise conv', '1x1 conv', 'channel shuffle', 'max pool', '2x2 transposed conv']
    """
    role = layer_role(layer)
    if isinstance(layer, Conv):
        return f"{window_text(layer)} {_CONV_KIND[role]}"
    if isinstance(layer, ConvTranspose):
        return f"{window_text(layer)} {role}"
    return "channel shuffle" if role == "shuffle" else role


def window_text(layer: Layer) -> str:
    """A convolution's kernel or a pool's window as ``KhxKw``; ``-`` for other layers."""
    if isinstance(layer, (Conv, ConvTranspose)):
        return _kernel_text(layer.kernel)
    if isinstance(layer, Pool):
        return f"{layer.kernel}x{layer.kernel}"
    return "-"


#: Every kind of layer: the leaves of a block.
LAYER_TYPES: tuple[type, ...] = (Conv, Shuffle, Linear, Pool, AdaptivePool, BatchNorm, Identity, Slice, LayerNorm,
                                 LayerScale, Activation, Elementwise, ConvTranspose, Upsample, Uncounted, Held, Norm,
                                 Parameters, Pad, Traced,
                                 TokenLinear, Tokens, ClassToken, PatchMerge, Attention, LinearAttention)

#: The same as Layer (the name the network code uses).
AnyLayer = Layer


def _construction(layer: Any, positional: int, always: tuple[str, ...] = ()) -> str:
    """A layer's repr as the call that builds it: the first ``positional`` fields by position,
    then every other field off its default (and those in ``always``) by keyword.

    >>> _construction(BatchNorm(64), 1)
    'BatchNorm(64)'
    """
    parts: list[str] = []
    for i, f in enumerate(fields(layer)):
        value = getattr(layer, f.name)
        if i < positional:
            parts.append(repr(value))
        elif f.name in always or value != f.default:
            parts.append(f"{f.name}={value!r}")
    return f"{type(layer).__name__}({', '.join(parts)})"
