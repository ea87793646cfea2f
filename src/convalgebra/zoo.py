"""The zoo: classic backbones as sums of the article's modules, by torchvision's names.

Each network is built from the same layers as the core, and where a stage is one of the
article's modules it is that module's rule applied to a standard convolution: a
ResNet-50 stage is ``reduce(4)`` of a 3 x 3 convolution, a MobileNet V1 block is
``separate()`` of one, a ShuffleNet unit is the ``shufflenet`` chain.

>>> [s.module for s in build("resnext50_32x4d").stages]
['', 'resnext', 'resnext', 'resnext', 'resnext', '']
>>> build("mobilenet_v1").count(224).macs
568740352

Definitions follow torchvision's code where torchvision has the network (padding,
``ceil_mode``, biases, batch norm placement), and the paper's table (or its authors'
code) where it does not.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Optional, Union

from .blocks import AnyBlock, Parallel, Repeat, Residual, Scale, Series, map_layers, size_fields, substitute, transform
from .errors import InvalidValueError
from .layers import (Activation, AdaptivePool, AnyLayer, Attention, BatchNorm, ClassToken, Conv, LayerNorm, Linear,
                     Padding, PatchMerge, Pool, Shuffle, TokenLinear, Tokens, is_concrete)
from .validation import check
from .networks import Network, Stage, named
from .rules import (chain, dense, depthwise, excite, expand, group, layer_norm, layer_scale, mix, reduce, se_gate, separate,
                    shuffle, split, squeeze, stack, widen)

__all__ = ["ZOO", "WIDTH_MULTIPLIED", "SIZED", "build", "width_multiplier"]

Kernel = Union[int, tuple[int, int]]

#: Every network's builder, by name, in the order of the papers.
ZOO: dict[str, Callable[..., Network]] = {}

#: The families built at any width multiplier alpha (``build(name, alpha)``): each says, when alpha
#: is a symbol, where a closed form in alpha holds.
WIDTH_MULTIPLIED: tuple[str, ...] = ("mobilenet_v1", "mobilenet_v2", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0",
                                     "mnasnet1_3")


def _register(fn: Callable[..., Network]) -> Callable[..., Network]:
    ZOO[fn.__name__] = fn
    return fn


#: The networks built for one input size (a ViT's position embedding holds one token a patch):
#: ``build(name, image_size=...)`` builds one for another size, as torchvision's ``image_size=`` does.
SIZED: tuple[str, ...] = ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14")


@lru_cache(maxsize=None)
def build(name: str, alpha: Any = None, image_size: Any = None) -> Network:
    """The network called exactly ``name`` (see ``catalog.network`` for the forgiving lookup),
    at width multiplier ``alpha`` for a family that has one (MobileNet V1 and V2, MNASNet),
    built for ``image_size`` for one built for a size (the ViTs).

    >>> build("vgg16").stride
    32
    >>> build("mobilenet_v1", Fraction(1, 2)).title
    'MobileNet V1 0.5'
    >>> build("vit_b_16", image_size=384).total(384)[0]
    55484350464
    """
    if image_size is not None:
        if name not in SIZED or alpha is not None:
            raise InvalidValueError(f"{name} is not built for one input size; these are: {', '.join(SIZED)}")
        return ZOO[name](image_size=image_size)
    if alpha is None:
        return ZOO[name]()
    if name not in WIDTH_MULTIPLIED:
        families = ", ".join(sorted(WIDTH_MULTIPLIED))
        raise InvalidValueError(f"{name} has no width multiplier alpha; these do: {families}")
    return ZOO[name](alpha=alpha)


def width_multiplier(alpha: Any) -> Any:
    """A width multiplier: an exact number > 0 (a float as typed: 0.75 is 3/4), or an expression in
    the symbols; read without sympy, so a concrete count stays free of it.

    >>> width_multiplier(0.75), width_multiplier(2)
    (Fraction(3, 4), 2)
    """
    if isinstance(alpha, bool):
        raise InvalidValueError(f"alpha = {alpha!r}: expected a number, not a truth value")
    if hasattr(alpha, "free_symbols") and not getattr(alpha, "is_Number", False):
        import sympy

        from .symbols import shown

        if not isinstance(alpha, sympy.Expr):  # a matrix, a truth value: no multiplier
            raise InvalidValueError(f"alpha = {shown(alpha)}: expected a number or an expression in the library's symbols")
        return alpha
    if isinstance(alpha, float) and alpha == alpha and abs(alpha) != float("inf"):
        value = Fraction(repr(float(alpha)))  # numpy's float64 is a float whose repr is not a number
    elif isinstance(alpha, (int, Fraction)) or getattr(alpha, "is_Rational", False):
        value = Fraction(int(alpha.p), int(alpha.q)) if hasattr(alpha, "q") else Fraction(alpha)
    else:
        raise InvalidValueError(f"alpha = {alpha!r}: expected a number or an expression in the library's symbols")
    if not value > 0:
        raise InvalidValueError(f"alpha = {value}: expected a number > 0")
    return int(value) if value.denominator == 1 else value


def _decimal(alpha: Any) -> str:
    """A multiplier as its paper writes it: 0.5, 0.75, 1.0.

    >>> _decimal(Fraction(1, 2)), _decimal(1), _decimal(Fraction(1, 3))
    ('0.5', '1.0', '1/3')
    """
    if not is_concrete(alpha):
        return str(alpha)
    value = Fraction(alpha)
    for places in range(1, 5):
        if (value * 10**places).denominator == 1:
            return f"{float(value):.{places}f}".rstrip("0").rstrip(".") + (".0" if value.denominator == 1 else "")
    return str(value)


def _rounding_holds(widths: tuple[int, ...], divisor: int = 8) -> Fraction:
    """The a such that, for alpha a multiple of a, every width times alpha is already a multiple of
    ``divisor``: there the rounding does nothing and the closed form in alpha holds. alpha * w is a
    multiple of the divisor for every w exactly when alpha * gcd(widths) is.

    >>> _rounding_holds((32, 16, 24, 32, 64, 96, 160, 320))
    Fraction(1, 1)
    """
    import math

    return Fraction(divisor, math.gcd(*widths))


# -- building blocks ----------------------------------------------------------------

def _conv(cin: int, cout: int, kernel: Kernel, stride: int = 1, padding: Padding = 0,
          groups: int = 1, bias: bool = False) -> Conv:
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    return Conv(cin, cout, kernel, groups=groups, stride=stride, padding=padding, bias=bias)


def _conv_bn(cin: int, cout: int, kernel: Kernel, stride: int = 1,
             padding: Union[int, tuple[int, int]] = 0, groups: int = 1) -> Series:
    """A convolution without bias, then batch norm: torchvision's BasicConv2d / Conv2dNormActivation."""
    return Series(_conv(cin, cout, kernel, stride, padding, groups), BatchNorm(cout))


def _bn(block: AnyBlock) -> AnyBlock:
    """Batch norm after every convolution of ``block``."""
    return map_layers(block, lambda x: Series(x, BatchNorm(x.out_channels)) if isinstance(x, Conv) else x)


def _biased(block: AnyBlock) -> AnyBlock:
    """Every convolution of ``block`` with a bias (the pre-batch-norm networks)."""
    return map_layers(block, lambda x: replace(x, bias=True) if isinstance(x, Conv) else x)


def _se_biased(block: AnyBlock) -> AnyBlock:
    """The 1 x 1 convolutions of every squeeze-and-excitation gate with biases (torchvision's
    ``SqueezeExcitation`` is two biased 1 x 1 convolutions), the rest as it is."""
    return transform(block, lambda x: x, lambda b: Scale(_biased(b.gate)) if isinstance(b, Scale) else b)


def _bn_main(block: AnyBlock) -> AnyBlock:
    """Batch norm after every convolution of ``block`` but those of its squeeze-and-excitation gates."""
    def without_bn(b: AnyBlock) -> AnyBlock:
        return Series(*(x for x in b.items if not isinstance(x, BatchNorm))) if isinstance(b, Series) else b

    return transform(_bn(block), lambda x: x,
                     lambda b: Scale(transform(b.gate, lambda x: x, without_bn)) if isinstance(b, Scale) else b)


def _unrolled(block: AnyBlock) -> AnyBlock:
    """``block`` with every repeat written out as that many copies (each layer gets its own name)."""
    return transform(block, lambda layer: layer,
                     lambda b: Series(*(b.body,) * int(b.count)) if isinstance(b, Repeat) else b)


def _stage(name: str, blocks: list[AnyBlock], module: str = "", side: bool = False) -> Stage:
    """A stage of numbered blocks (layers named ``0.conv1``, ``1.conv1`` ...), channel counts made whole."""
    items = Series(*(named(_unrolled(b), f"{i}." if len(blocks) > 1 else "") for i, b in enumerate(blocks)))
    symbolic = any(getattr(value, "free_symbols", None) for _, value in size_fields(items))  # alpha a symbol
    return Stage(name, items if symbolic else substitute(items, {}), module, side)


def _head(channels: int, classes: int = 1000, bias: bool = True, pool: int = 1) -> Stage:
    """Global (or fixed-size) average pooling, then the classifier's linear layer."""
    return _stage("head", [Series(AdaptivePool(channels, pool), Linear(channels, classes, pool, bias))])


def _network(name: str, title: str, stages: list[Stage], paper: str, source: str, size: int = 224) -> Network:
    return Network(name, title, tuple(stages), paper, source, size)


# -- AlexNet --------------------------------------------------------------------------

_ALEXNET = 'Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional Neural Networks" (2012)'


def _alexnet(name: str, title: str, widths: tuple[int, ...], groups: int, conv1_padding: int,
             source: str, size: int) -> Network:
    c1, c2, c3, c4, c5 = widths

    def grouped(conv: Conv) -> AnyBlock:
        return group(groups)(conv) if groups != 1 else conv

    stages = [
        _stage("conv1", [Series(_conv(3, c1, 11, 4, conv1_padding, bias=True), Pool(c1, 3, 2))]),
        _stage("conv2", [Series(grouped(_conv(c1, c2, 5, padding=2, bias=True)), Pool(c2, 3, 2))],
               "group" if groups != 1 else ""),
        _stage("conv3", [_conv(c2, c3, 3, padding=1, bias=True)]),
        _stage("conv4", [grouped(_conv(c3, c4, 3, padding=1, bias=True))], "group" if groups != 1 else ""),
        _stage("conv5", [Series(grouped(_conv(c4, c5, 3, padding=1, bias=True)), Pool(c5, 3, 2))],
               "group" if groups != 1 else ""),
        _stage("classifier", [Series(AdaptivePool(c5, 6), Linear(c5, 4096, 6), Linear(4096, 4096),
                                     Linear(4096, 1000))]),
    ]
    return _network(name, title, stages, _ALEXNET, source, size)


@_register
def alexnet() -> Network:
    """torchvision's AlexNet: one tower, 64-192-384-256-256 kernels (Krizhevsky's 2014 variant)."""
    return _alexnet("alexnet", "AlexNet, one tower (torchvision)", (64, 192, 384, 256, 256), 1, 2,
                    "torchvision.models.alexnet", 224)


@_register
def alexnet_grouped() -> Network:
    """The 2012 paper's AlexNet: 96-256-384-384-256 kernels, conv2, conv4 and conv5 in two groups
    (one per GPU), on a 227 x 227 input (which makes the paper's 55 x 55 first layer)."""
    return _alexnet("alexnet_grouped", "AlexNet, two groups as in the 2012 paper", (96, 256, 384, 384, 256), 2, 0,
                    "the paper's Figure 2 (response normalization has no parameters and is left out)", 227)


# -- VGG ------------------------------------------------------------------------------

_VGG = 'Simonyan, Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition" (2014)'

#: Each configuration's stages: (3 x 3 convolutions in the stage, their width), the paper's Table 1.
_VGG_CONFIGS = {
    "11": ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),        # A
    "13": ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),        # B
    "16": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),        # D
    "19": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),        # E
}


def _vgg(depth: str, batch_norm: bool = False) -> Network:
    """VGG (configuration A, B, D or E): each stage of n >= 2 convolutions is the ``vgg-stack``
    rewrite, stack(3), of one (2n + 1) x (2n + 1) convolution into n stacked 3 x 3 ones; a stage
    of one 3 x 3 is that convolution (no module). ``batch_norm``: batch norm after every
    convolution, which keeps its bias (torchvision's ``vgg*_bn``)."""
    stages, cin = [], 3
    for i, (n, width) in enumerate(_VGG_CONFIGS[depth], 1):
        conv = _conv(cin, width, 2 * n + 1, padding="same", bias=True)
        body = stack(3)(conv) if n > 1 else replace(conv, kernel=(3, 3))
        body = _unrolled(body)  # n convolutions, each with its batch norm
        stages.append(_stage(f"block{i}", [Series(_bn(body) if batch_norm else body, Pool(width, 2, 2))],
                             "vgg-stack" if n > 1 else ""))
        cin = width
    stages.append(_stage("classifier", [Series(AdaptivePool(512, 7), Linear(512, 4096, 7), Linear(4096, 4096),
                                               Linear(4096, 1000))]))
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    return _network(name, f"VGG-{depth}" + (" with batch norm" if batch_norm else ""), stages, _VGG,
                    f"torchvision.models.{name}")


@_register
def vgg16() -> Network:
    """VGG-16 (configuration D): each stage is the ``vgg-stack`` rewrite of one 5 x 5 or 7 x 7
    convolution into two or three 3 x 3 ones."""
    return _vgg("16")


# -- SqueezeNet -------------------------------------------------------------------------

def _fire(cin: int, squeeze_to: int, expand1x1: int, expand3x3: int) -> AnyBlock:
    """SqueezeNet's Fire module: the ``fire`` rule, chain(squeeze(t), mix(p)), of a 3 x 3 convolution."""
    width = expand1x1 + expand3x3
    rule = chain(squeeze(Fraction(width, squeeze_to)), mix(Fraction(expand3x3, width)))
    return _biased(rule(_conv(cin, width, 3, padding=1)))


def _squeezenet(version: str, stem: Conv, groups: list[list[tuple[int, int, int, int]]]) -> Network:
    stages = [_stage("conv1", [Series(stem, Pool(stem.out_channels, 3, 2, ceil_mode=True))])]
    first = 2
    for i, fires in enumerate(groups):
        blocks: list[AnyBlock] = [_fire(*f) for f in fires]
        if i < len(groups) - 1:
            blocks.append(Pool(fires[-1][2] + fires[-1][3], 3, 2, ceil_mode=True))
        last = first + len(fires) - 1
        stages.append(_stage(f"fire{first}-{last}" if last > first else f"fire{first}", blocks, "fire"))
        first += len(fires)
    stages.append(_stage("classifier", [Series(_conv(512, 1000, 1, bias=True), AdaptivePool(1000))]))
    return _network(f"squeezenet{version}", f"SqueezeNet {version.replace('_', '.')}", stages,
                    'Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer, "SqueezeNet: AlexNet-level accuracy with 50x '
                    'fewer parameters and <0.5MB model size" (2016)', f"torchvision.models.squeezenet{version}")


@_register
def squeezenet1_0() -> Network:
    """SqueezeNet 1.0: a 7 x 7 stem and eight Fire modules."""
    return _squeezenet("1_0", _conv(3, 96, 7, 2, bias=True), [
        [(96, 16, 64, 64), (128, 16, 64, 64), (128, 32, 128, 128)],
        [(256, 32, 128, 128), (256, 48, 192, 192), (384, 48, 192, 192), (384, 64, 256, 256)],
        [(512, 64, 256, 256)],
    ])


@_register
def squeezenet1_1() -> Network:
    """SqueezeNet 1.1: a 3 x 3 stem and the pooling moved earlier (2.4x less computation)."""
    return _squeezenet("1_1", _conv(3, 64, 3, 2, bias=True), [
        [(64, 16, 64, 64), (128, 16, 64, 64)],
        [(128, 32, 128, 128), (256, 32, 128, 128)],
        [(256, 48, 192, 192), (384, 48, 192, 192), (384, 64, 256, 256), (512, 64, 256, 256)],
    ])


# -- ResNet and ResNeXt -------------------------------------------------------------------

_RESNET = 'He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition" (2015)'
_RESNEXT = 'Xie, Girshick, Dollar, Tu, He, "Aggregated Residual Transformations for Deep Neural Networks" (2016)'


def _projection(cin: int, cout: int, stride: int) -> Optional[AnyBlock]:
    """The shortcut: the identity, or a strided 1 x 1 projection when the shape changes."""
    return None if stride == 1 and cin == cout else _conv_bn(cin, cout, 1, stride)


def _basic(cin: int, width: int, stride: int, groups: int, base: int) -> AnyBlock:
    """ResNet's basic block: two 3 x 3 convolutions and a residual sum. It is none of the article's
    modules (it rewrites no larger kernel: VGG's stack replaces a 5 x 5 or 7 x 7), so its stages
    name no module."""
    body = Series(_conv(cin, width, 3, stride, 1), _conv(width, width, 3, 1, 1))
    return Residual(_bn(body), _projection(cin, width, stride))


def _bottleneck(cin: int, planes: int, stride: int, groups: int, base: int) -> AnyBlock:
    """The ``bottleneck`` rule, reduce(t), of a 3 x 3 convolution (``resnext``: then group(G));
    the stride sits on the 3 x 3, as in torchvision (ResNet V1.5)."""
    out, width = 4 * planes, planes * base // 64 * groups
    rule = chain(reduce(Fraction(out, width)), group(groups)) if groups != 1 else reduce(Fraction(out, width))
    return Residual(_bn(rule(_conv(cin, out, 3, stride, 1))), _projection(cin, out, stride))


def _resnet(name: str, title: str, unit: Callable[..., AnyBlock], depths: tuple[int, ...],
            groups: int = 1, base: int = 64, paper: str = "") -> Network:
    expansion = 4 if unit is _bottleneck else 1
    module = ("resnext" if groups != 1 else "bottleneck") if unit is _bottleneck else ""
    stages = [_stage("stem", [Series(_conv_bn(3, 64, 7, 2, 3), Pool(64, 3, 2, 1))])]
    cin = 64
    for i, (planes, depth) in enumerate(zip((64, 128, 256, 512), depths)):
        blocks = []
        for j in range(depth):
            blocks.append(unit(cin, planes, 2 if j == 0 and i > 0 else 1, groups, base))
            cin = planes * expansion
        stages.append(_stage(f"layer{i + 1}", blocks, module))
    stages.append(_head(cin))
    return _network(name, title, stages, paper or (_RESNEXT if groups != 1 else _RESNET), f"torchvision.models.{name}")


@_register
def resnet18() -> Network:
    """ResNet-18: basic blocks (two 3 x 3 convolutions, none of the article's modules), 2-2-2-2.

    >>> [s.module for s in resnet18().stages]
    ['', '', '', '', '', '']
    """
    return _resnet("resnet18", "ResNet-18", _basic, (2, 2, 2, 2))


@_register
def resnet50() -> Network:
    """ResNet-50: bottlenecks (t = 4), 3-4-6-3."""
    return _resnet("resnet50", "ResNet-50", _bottleneck, (3, 4, 6, 3))


@_register
def resnext50_32x4d() -> Network:
    """ResNeXt-50 32x4d: bottlenecks twice as wide (t = 2) with the 3 x 3 in 32 groups."""
    return _resnet("resnext50_32x4d", "ResNeXt-50 (32x4d)", _bottleneck, (3, 4, 6, 3), groups=32, base=4)


# -- MobileNets and ShuffleNet ---------------------------------------------------------------

def _separable(cin: int, cout: int, stride: int) -> AnyBlock:
    """The ``depthwise-separable`` rule, separate(), of a 3 x 3 convolution, batch norm after each part."""
    return _bn(separate()(_conv(cin, cout, 3, stride, 1)))


@_register
def mobilenet_v1(alpha: Any = 1) -> Network:
    """MobileNet V1 1.0-224 (the paper's Table 1): a 3 x 3 stem and 13 depthwise separable blocks
    (the last depthwise at stride 1, as the paper's sizes require); at width multiplier ``alpha``
    every layer's channels times alpha (the paper's section 3.3), alpha a number or the symbol.

    >>> from convalgebra.symbols import alpha, I
    >>> build("mobilenet_v1", alpha).total_symbolic()[0]
    10752*I**2*alpha**2 + 1125*I**2*alpha/2 + 1024000*alpha
    """
    a = width_multiplier(alpha)

    def w(channels: int) -> Any:
        width = channels * a
        if is_concrete(width) and Fraction(width).denominator != 1:
            raise InvalidValueError(f"alpha = {a} makes {channels} x {a} = {Fraction(width)} channels, not whole")
        return width if not is_concrete(width) else int(width)

    stages = [_stage("stem", [_conv_bn(3, w(32), 3, 2, 1)])]
    plan = [(32, 64, 1)], [(64, 128, 2), (128, 128, 1)], [(128, 256, 2), (256, 256, 1)], \
        [(256, 512, 2)] + [(512, 512, 1)] * 5, [(512, 1024, 2), (1024, 1024, 1)]
    for i, blocks in enumerate(plan, 2):
        stages.append(_stage(f"stage{i}", [_separable(w(cin), w(cout), stride) for cin, cout, stride in blocks],
                             "depthwise-separable"))
    stages.append(_head(w(1024)))
    title = "MobileNet V1 1.0-224" if alpha == 1 else f"MobileNet V1 {_decimal(a)}"
    return _network("mobilenet_v1", title, stages,
                    'Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision '
                    'Applications" (2017)', "the paper's Table 1 (average pooling made global)")


def _inverted(cin: int, cout: int, stride: int, t: int, kernel: int = 3) -> AnyBlock:
    """MobileNet V2's block: the ``inverted-bottleneck`` rule, chain(expand(t), depthwise()), of a 3 x 3
    (MNASNet: or 5 x 5) convolution; at t = 1 there is nothing to expand and it is ``separate()``
    (depthwise separable)."""
    conv = _conv(cin, cout, kernel, stride, kernel // 2)
    body = _bn(separate()(conv) if t == 1 else chain(expand(t), depthwise())(conv))
    return Residual(body) if stride == 1 and cin == cout else body


_V2_PLAN = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _rounded(alpha: Any, name: str, widths: tuple[int, ...]) -> Fraction:
    """A width multiplier for a family that rounds its widths to multiples of 8: a number (each width
    is then exact); a symbol is refused, with where the closed form in alpha would hold."""
    a = width_multiplier(alpha)
    if not is_concrete(a):
        raise InvalidValueError(
            f"{name} rounds every width times alpha to a multiple of 8, so its cost is no closed form in alpha;"
            f" it is alpha times the widths only where alpha is a multiple of {_rounding_holds(widths)} (every"
            " width times alpha a multiple of 8 already); count at each alpha, a number")
    return Fraction(a)


@_register
def mobilenet_v2(alpha: Any = 1) -> Network:
    """MobileNet V2 1.0 (torchvision): seven stages of inverted bottlenecks (t, c, n, s); at width
    multiplier ``alpha`` (a number) each width times alpha rounded to a multiple of 8, the last
    1280 times alpha only when alpha > 1, as torchvision's ``width_mult``.

    >>> build("mobilenet_v2", Fraction(1, 2)).total(224)
    (97131840, 1968680)
    """
    a = _rounded(alpha, "mobilenet_v2", (32,) + tuple(c for _, c, _, _ in _V2_PLAN))
    cin = _round_to_multiple(32 * a)
    stages = [_stage("stem", [_conv_bn(3, cin, 3, 2, 1)])]
    for i, (t, c, n, s) in enumerate(_V2_PLAN, 1):
        blocks, cout = [], _round_to_multiple(c * a)
        for j in range(n):
            blocks.append(_inverted(cin, cout, s if j == 0 else 1, t))
            cin = cout
        stages.append(_stage(f"stage{i}", blocks, "inverted-bottleneck" if t != 1 else "depthwise-separable"))
    last = _round_to_multiple(1280 * max(Fraction(1), a))
    stages += [_stage("last", [_conv_bn(cin, last, 1)]), _head(last)]
    return _network("mobilenet_v2", f"MobileNet V2 {_decimal(a)}", stages,
                    'Sandler, Howard, Zhu, Zhmoginov, Chen, "MobileNetV2: Inverted Residuals and Linear '
                    'Bottlenecks" (2018)', "torchvision.models.mobilenet_v2")


def _shuffle_unit(cin: int, cout: int, stride: int, groups: int, first: bool) -> AnyBlock:
    """ShuffleNet's unit: the ``shufflenet`` rule of a 3 x 3 convolution, bottleneck width cout/4.

    At stride 2 the unit makes cout - cin channels and concatenates a 3 x 3 average pool
    of its input; at stride 1 it adds its input. The first unit of stage 2 does not group
    its first 1 x 1 (its input has only 24 channels).
    """
    width, made = cout // 4, cout - cin if stride == 2 else cout
    rule = chain(reduce(Fraction(made, width)), group(groups, on="pointwise"), depthwise(), shuffle(groups))
    unit = rule(_conv(cin, made, 3, stride, 1))
    if first:
        done: list[bool] = []

        def ungroup(layer: AnyLayer) -> AnyLayer:
            if isinstance(layer, Conv) and not done:
                done.append(True)
                return replace(layer, groups=1)
            return layer

        unit = map_layers(unit, ungroup)
    unit = _bn(unit)
    return Parallel(Pool(cin, 3, 2, 1, kind="avg"), unit) if stride == 2 else Residual(unit)


@_register
def shufflenet_v1() -> Network:
    """ShuffleNet V1 1x, g = 3 (the paper's Table 1): stages of 4, 8 and 4 units, 240-480-960 channels."""
    stages = [_stage("stem", [Series(_conv_bn(3, 24, 3, 2, 1), Pool(24, 3, 2, 1))])]
    cin = 24
    for i, (cout, depth) in enumerate(((240, 4), (480, 8), (960, 4)), 2):
        blocks = []
        for j in range(depth):
            blocks.append(_shuffle_unit(cin, cout, 2 if j == 0 else 1, 3, i == 2 and j == 0))
            cin = cout
        stages.append(_stage(f"stage{i}", blocks, "shufflenet"))
    stages.append(_head(960, bias=False))
    return _network("shufflenet_v1", "ShuffleNet V1 1x (g = 3)", stages,
                    'Zhang, Zhou, Lin, Sun, "ShuffleNet: An Extremely Efficient Convolutional Neural Network for '
                    'Mobile Devices" (2017)', "the paper's Table 1 and its authors' code (megvii ShuffleNet-Series)")


# -- Xception ---------------------------------------------------------------------------------

def _xsep(cin: int, cout: int) -> AnyBlock:
    """Keras's SeparableConv2D: depthwise 3 x 3 then pointwise (``separate()``), one batch norm after."""
    return Series(separate()(_conv(cin, cout, 3, 1, 1)), BatchNorm(cout))


def _xblock(cin: int, widths: tuple[int, ...], pool: bool) -> AnyBlock:
    """Separable convolutions with a residual sum; a strided block ends in a 3 x 3 max pool and
    projects its shortcut with a strided 1 x 1."""
    body, width = [], cin
    for out in widths:
        body.append(_xsep(width, out))
        width = out
    if pool:
        return Residual(Series(*body, Pool(width, 3, 2, 1)), _conv_bn(cin, width, 1, 2))
    return Residual(Series(*body))


@_register
def xception() -> Network:
    """Xception (the paper's Figure 5, as Keras builds it) at 299 x 299: entry, 8 middle and exit blocks
    of separable convolutions with residual sums."""
    stages = [
        _stage("stem", [Series(_conv_bn(3, 32, 3, 2), _conv_bn(32, 64, 3))]),
        _stage("entry", [_xblock(64, (128, 128), True), _xblock(128, (256, 256), True),
                         _xblock(256, (728, 728), True)], "depthwise-separable"),
        _stage("middle", [_xblock(728, (728, 728, 728), False) for _ in range(8)], "depthwise-separable"),
        _stage("exit", [_xblock(728, (728, 1024), True), _xsep(1024, 1536), _xsep(1536, 2048)],
               "depthwise-separable"),
        _head(2048),
    ]
    return _network("xception", "Xception", stages,
                    'Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions" (2016)',
                    "keras.applications.Xception", 299)


# -- Inception V3 --------------------------------------------------------------------------------

def _inception_a(cin: int, pool: int) -> AnyBlock:
    """35 x 35: the 5 x 5 branch beside two stacked 3 x 3 (the ``vgg-stack`` of a 5 x 5)."""
    return Parallel(
        _conv_bn(cin, 64, 1),
        Series(_conv_bn(cin, 48, 1), _conv_bn(48, 64, 5, padding=2)),
        Series(_conv_bn(cin, 64, 1), _conv_bn(64, 96, 3, padding=1), _conv_bn(96, 96, 3, padding=1)),
        Series(Pool(cin, 3, 1, 1, kind="avg"), _conv_bn(cin, pool, 1)),
    )


def _inception_b(cin: int) -> AnyBlock:
    """35 -> 17: strided convolutions beside a max pool."""
    return Parallel(
        _conv_bn(cin, 384, 3, 2),
        Series(_conv_bn(cin, 64, 1), _conv_bn(64, 96, 3, padding=1), _conv_bn(96, 96, 3, 2)),
        Pool(cin, 3, 2),
    )


def _seven(cin: int, cout: int, rows_first: bool) -> AnyBlock:
    """The ``factorized`` 7 x 7: a 1 x 7 and a 7 x 1 convolution (or the other way round)."""
    row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))
    first, second = (row, col) if rows_first else (col, row)
    return Series(_conv_bn(cin, cin, first[0], padding=first[1]), _conv_bn(cin, cout, second[0], padding=second[1]))


def _inception_c(cin: int, c7: int) -> AnyBlock:
    """17 x 17: 7 x 7 convolutions factorized into 1 x 7 and 7 x 1."""
    return Parallel(
        _conv_bn(cin, 192, 1),
        Series(_conv_bn(cin, c7, 1), _seven(c7, 192, True)),
        Series(_conv_bn(cin, c7, 1), _seven(c7, c7, False), _seven(c7, 192, False)),
        Series(Pool(cin, 3, 1, 1, kind="avg"), _conv_bn(cin, 192, 1)),
    )


def _inception_d(cin: int) -> AnyBlock:
    """17 -> 8: strided convolutions (one after a factorized 7 x 7) beside a max pool."""
    return Parallel(
        Series(_conv_bn(cin, 192, 1), _conv_bn(192, 320, 3, 2)),
        Series(_conv_bn(cin, 192, 1), _seven(192, 192, True), _conv_bn(192, 192, 3, 2)),
        Pool(cin, 3, 2),
    )


def _split3(c: int) -> AnyBlock:
    """A 3 x 3 factorized side by side: 1 x 3 and 3 x 1 on the same input, concatenated."""
    return Parallel(_conv_bn(c, c, (1, 3), padding=(0, 1)), _conv_bn(c, c, (3, 1), padding=(1, 0)))


def _inception_e(cin: int) -> AnyBlock:
    """8 x 8: factorized 3 x 3 convolutions, expanded side by side."""
    return Parallel(
        _conv_bn(cin, 320, 1),
        Series(_conv_bn(cin, 384, 1), _split3(384)),
        Series(_conv_bn(cin, 448, 1), _conv_bn(448, 384, 3, padding=1), _split3(384)),
        Series(Pool(cin, 3, 1, 1, kind="avg"), _conv_bn(cin, 192, 1)),
    )


@_register
def inception_v3() -> Network:
    """Inception V3 (torchvision) at 299 x 299, with its auxiliary classifier: a side stage whose
    parameters count and which does not run at inference (torchvision's eval mode)."""
    stages = [
        _stage("stem", [Series(_conv_bn(3, 32, 3, 2), _conv_bn(32, 32, 3), _conv_bn(32, 64, 3, padding=1),
                               Pool(64, 3, 2), _conv_bn(64, 80, 1), _conv_bn(80, 192, 3), Pool(192, 3, 2))]),
        _stage("Mixed_5b", [_inception_a(192, 32)], "vgg-stack"),
        _stage("Mixed_5c", [_inception_a(256, 64)], "vgg-stack"),
        _stage("Mixed_5d", [_inception_a(288, 64)], "vgg-stack"),
        _stage("Mixed_6a", [_inception_b(288)]),
        *(_stage(f"Mixed_6{x}", [_inception_c(768, c7)], "factorized") for x, c7 in zip("bcde", (128, 160, 160, 192))),
        _stage("AuxLogits", [Series(Pool(768, 5, 3, kind="avg"), _conv_bn(768, 128, 1), _conv_bn(128, 768, 5),
                                    AdaptivePool(768), Linear(768, 1000))], side=True),
        _stage("Mixed_7a", [_inception_d(768)], "factorized"),
        _stage("Mixed_7b", [_inception_e(1280)], "factorized"),
        _stage("Mixed_7c", [_inception_e(2048)], "factorized"),
        _head(2048),
    ]
    return _network("inception_v3", "Inception V3", stages,
                    'Szegedy, Vanhoucke, Ioffe, Shlens, Wojna, "Rethinking the Inception Architecture for Computer '
                    'Vision" (2015)', "torchvision.models.inception_v3", 299)


# -- deeper ResNets (for the depth benchmark) --------------------------------------------------------

@_register
def resnet101() -> Network:
    """ResNet-101: bottlenecks, 3-4-23-3."""
    return _resnet("resnet101", "ResNet-101", _bottleneck, (3, 4, 23, 3))


@_register
def resnet152() -> Network:
    """ResNet-152: bottlenecks, 3-8-36-3."""
    return _resnet("resnet152", "ResNet-152", _bottleneck, (3, 8, 36, 3))


# -- more ResNets: ResNet-34, the wide ResNets, the larger ResNeXts ----------------------------------

_WIDE = 'Zagoruyko, Komodakis, "Wide Residual Networks" (2016)'


@_register
def resnet34() -> Network:
    """ResNet-34: basic blocks, 3-4-6-3."""
    return _resnet("resnet34", "ResNet-34", _basic, (3, 4, 6, 3))


@_register
def wide_resnet50_2() -> Network:
    """Wide ResNet-50-2: ResNet-50 with every bottleneck's inner width doubled (t = 2)."""
    return _resnet("wide_resnet50_2", "Wide ResNet-50-2", _bottleneck, (3, 4, 6, 3), base=128, paper=_WIDE)


@_register
def wide_resnet101_2() -> Network:
    """Wide ResNet-101-2: ResNet-101 with every bottleneck's inner width doubled (t = 2)."""
    return _resnet("wide_resnet101_2", "Wide ResNet-101-2", _bottleneck, (3, 4, 23, 3), base=128, paper=_WIDE)


@_register
def resnext101_32x8d() -> Network:
    """ResNeXt-101 32x8d: bottlenecks as wide as their output (t = 1), the 3 x 3 in 32 groups."""
    return _resnet("resnext101_32x8d", "ResNeXt-101 (32x8d)", _bottleneck, (3, 4, 23, 3), groups=32, base=8)


@_register
def resnext101_64x4d() -> Network:
    """ResNeXt-101 64x4d: bottlenecks as wide as their output (t = 1), the 3 x 3 in 64 groups."""
    return _resnet("resnext101_64x4d", "ResNeXt-101 (64x4d)", _bottleneck, (3, 4, 23, 3), groups=64, base=4)


# -- the other VGGs ----------------------------------------------------------------------------------

@_register
def vgg11() -> Network:
    """VGG-11 (configuration A): one 3 x 3 in each of the first two stages, stacks of two after."""
    return _vgg("11")


@_register
def vgg13() -> Network:
    """VGG-13 (configuration B): stacks of two 3 x 3 (a 5 x 5) in every stage."""
    return _vgg("13")


@_register
def vgg19() -> Network:
    """VGG-19 (configuration E): stacks of four 3 x 3 (a 9 x 9) in the last three stages."""
    return _vgg("19")


@_register
def vgg11_bn() -> Network:
    """VGG-11 with batch norm after every convolution."""
    return _vgg("11", batch_norm=True)


@_register
def vgg13_bn() -> Network:
    """VGG-13 with batch norm after every convolution."""
    return _vgg("13", batch_norm=True)


@_register
def vgg16_bn() -> Network:
    """VGG-16 with batch norm after every convolution."""
    return _vgg("16", batch_norm=True)


@_register
def vgg19_bn() -> Network:
    """VGG-19 with batch norm after every convolution."""
    return _vgg("19", batch_norm=True)


# -- GoogLeNet ------------------------------------------------------------------------------------

def _inception_v1(cin: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool: int) -> AnyBlock:
    """GoogLeNet's Inception module: a 1 x 1, a 1 x 1 then 3 x 3, a 1 x 1 then "5 x 5", a 3 x 3 max
    pool then 1 x 1, side by side. torchvision's "5 x 5" branch is a 3 x 3 (a known bug it keeps for its
    weights, pytorch/vision#906), and so is this one."""
    return Parallel(
        _conv_bn(cin, c1, 1),
        Series(_conv_bn(cin, c3_reduce, 1), _conv_bn(c3_reduce, c3, 3, padding=1)),
        Series(_conv_bn(cin, c5_reduce, 1), _conv_bn(c5_reduce, c5, 3, padding=1)),
        Series(Pool(cin, 3, 1, 1, ceil_mode=True), _conv_bn(cin, pool, 1)),
    )


@_register
def googlenet() -> Network:
    """GoogLeNet (Inception V1, torchvision) as its pretrained weights have it: without the two
    auxiliary classifiers, which torchvision drops once the weights are loaded."""
    stages = [
        _stage("stem", [Series(_conv_bn(3, 64, 7, 2, 3), Pool(64, 3, 2, ceil_mode=True), _conv_bn(64, 64, 1),
                               _conv_bn(64, 192, 3, padding=1), Pool(192, 3, 2, ceil_mode=True))]),
        _stage("inception3", [_inception_v1(192, 64, 96, 128, 16, 32, 32), _inception_v1(256, 128, 128, 192, 32, 96, 64),
                              Pool(480, 3, 2, ceil_mode=True)]),
        _stage("inception4", [_inception_v1(480, 192, 96, 208, 16, 48, 64), _inception_v1(512, 160, 112, 224, 24, 64, 64),
                              _inception_v1(512, 128, 128, 256, 24, 64, 64), _inception_v1(512, 112, 144, 288, 32, 64, 64),
                              _inception_v1(528, 256, 160, 320, 32, 128, 128), Pool(832, 2, 2, ceil_mode=True)]),
        _stage("inception5", [_inception_v1(832, 256, 160, 320, 32, 128, 128),
                              _inception_v1(832, 384, 192, 384, 48, 128, 128)]),
        _head(1024),
    ]
    return _network("googlenet", "GoogLeNet (Inception V1)", stages,
                    'Szegedy et al., "Going Deeper with Convolutions" (2014)', "torchvision.models.googlenet")


# -- MNASNet ------------------------------------------------------------------------------------------

def _round_to_multiple(value: Fraction, divisor: int = 8, round_up_bias: Fraction = Fraction(9, 10)) -> int:
    """A width rounded to a multiple of ``divisor``, to the nearest but never more than 10% down
    (the MobileNet and MNASNet rounding, ``_make_divisible``), exactly.

    >>> [_round_to_multiple(Fraction(x)) for x in (83, 84, 12, 3)]
    [80, 88, 16, 8]
    """
    rounded = max(divisor, int(value + Fraction(divisor, 2)) // divisor * divisor)
    return rounded if rounded >= round_up_bias * value else rounded + divisor


_MNASNET_DEPTHS = (32, 16, 24, 40, 80, 96, 192, 320)


def _mnasnet(alpha: Any, name: str = "") -> Network:
    """MNASNet-B1 at width multiplier ``alpha`` (torchvision): a 3 x 3 stem, a depthwise separable
    block, six stages of inverted bottlenecks (3 x 3 or 5 x 5 depthwise, t = 3 or 6), each width
    alpha times the paper's rounded to a multiple of 8."""
    scale = _rounded(alpha, name or "mnasnet", _MNASNET_DEPTHS)
    d = [_round_to_multiple(width * scale) for width in _MNASNET_DEPTHS]
    stages = [_stage("stem", [_conv_bn(3, d[0], 3, 2, 1)]),
              _stage("stage1", [_separable(d[0], d[1], 1)], "depthwise-separable")]
    plan = [(3, 3, 2, 3), (5, 3, 2, 3), (5, 6, 2, 3), (3, 6, 1, 2), (5, 6, 2, 4), (3, 6, 1, 1)]  # k, t, s, n
    cin = d[1]
    for i, ((kernel, t, stride, n), cout) in enumerate(zip(plan, d[2:]), 2):
        blocks = []
        for j in range(n):
            blocks.append(_inverted(cin, cout, stride if j == 0 else 1, t, kernel))
            cin = cout
        stages.append(_stage(f"stage{i}", blocks, "inverted-bottleneck"))
    stages += [_stage("last", [_conv_bn(cin, 1280, 1)]), _head(1280)]
    name = name or f"mnasnet{_decimal(scale).replace('.', '_')}"
    return _network(name, f"MNASNet {_decimal(scale)}", stages,
                    'Tan, Chen, Pang, Vasudevan, Sandler, Howard, Le, "MnasNet: Platform-Aware Neural Architecture '
                    'Search for Mobile" (2018)', f"torchvision.models.{name}")


@_register
def mnasnet0_5(alpha: Any = None) -> Network:
    """MNASNet 0.5: every width halved, then rounded to a multiple of 8."""
    return _mnasnet(Fraction("0.5") if alpha is None else alpha, "mnasnet0_5")


@_register
def mnasnet0_75(alpha: Any = None) -> Network:
    """MNASNet 0.75."""
    return _mnasnet(Fraction("0.75") if alpha is None else alpha, "mnasnet0_75")


@_register
def mnasnet1_0(alpha: Any = None) -> Network:
    """MNASNet 1.0."""
    return _mnasnet(Fraction("1.0") if alpha is None else alpha, "mnasnet1_0")


@_register
def mnasnet1_3(alpha: Any = None) -> Network:
    """MNASNet 1.3."""
    return _mnasnet(Fraction("1.3") if alpha is None else alpha, "mnasnet1_3")


# -- RegNet X ---------------------------------------------------------------------------------------

_REGNET = 'Radosavovic, Kosaraju, Girshick, He, Dollar, "Designing Network Design Spaces" (2020)'


def _regnet_stages(depth: int, w0: int, wa: float, wm: float, group_width: int) -> list[tuple[int, int, int]]:
    """RegNet's stages from its five parameters: (width, blocks, group width) for each stage.

    Block j's width is w0 + wa * j, quantized in log space to w0 * wm^round(log_wm((w0 + wa*j)/w0))
    and rounded to a multiple of 8; runs of equal widths are stages; each width is then made a
    multiple of its group width (at most the width itself). These are the paper's equations
    (2)-(4), as torchvision computes them (in floating point, whose rounding they reproduce).

    >>> _regnet_stages(22, 24, 24.48, 2.54, 16)   # RegNetX-400MF
    [(32, 1, 16), (64, 2, 16), (160, 7, 16), (400, 12, 16)]
    """
    import math

    widths = [int(round(w0 * wm ** round(math.log((w0 + wa * j) / w0) / math.log(wm)) / 8) * 8) for j in range(depth)]
    runs: list[list[int]] = []
    for width in widths:
        if runs and runs[-1][0] == width:
            runs[-1][1] += 1
        else:
            runs.append([width, 1])
    stages = []
    for width, blocks in runs:
        g = min(group_width, width)
        stages.append((_round_to_multiple(Fraction(width), g), blocks, g))
    return stages


def _regnet_block(cin: int, cout: int, stride: int, group_width: int) -> AnyBlock:
    """RegNet's X block: the ``resnext`` rule at t = 1, chain(reduce(1), group(cout / group width)), of a
    3 x 3 convolution (the ``bottleneck`` rule where that is one group), batch norm after each part, and a
    residual sum (a strided 1 x 1 projection where the shape changes)."""
    groups = cout // group_width
    rule = chain(reduce(1), group(groups)) if groups != 1 else reduce(1)
    return Residual(_bn(rule(_conv(cin, cout, 3, stride, 1))), _projection(cin, cout, stride))


def _regnet(name: str, title: str, depth: int, w0: int, wa: float, wm: float, group_width: int) -> Network:
    stages, cin = [_stage("stem", [_conv_bn(3, 32, 3, 2, 1)])], 32
    for i, (width, blocks, g) in enumerate(_regnet_stages(depth, w0, wa, wm, group_width), 1):
        units = []
        for j in range(blocks):
            units.append(_regnet_block(cin, width, 2 if j == 0 else 1, g))
            cin = width
        stages.append(_stage(f"block{i}", units, "resnext" if width != g else "bottleneck"))
    stages.append(_head(cin))
    return _network(name, title, stages, _REGNET, f"torchvision.models.{name}")


@_register
def regnet_x_400mf() -> Network:
    """RegNetX-400MF: d = 22, w0 = 24, wa = 24.48, wm = 2.54, group width 16."""
    return _regnet("regnet_x_400mf", "RegNetX-400MF", 22, 24, 24.48, 2.54, 16)


@_register
def regnet_x_800mf() -> Network:
    """RegNetX-800MF: d = 16, w0 = 56, wa = 35.73, wm = 2.28, group width 16."""
    return _regnet("regnet_x_800mf", "RegNetX-800MF", 16, 56, 35.73, 2.28, 16)


@_register
def regnet_x_1_6gf() -> Network:
    """RegNetX-1.6GF: d = 18, w0 = 80, wa = 34.01, wm = 2.25, group width 24."""
    return _regnet("regnet_x_1_6gf", "RegNetX-1.6GF", 18, 80, 34.01, 2.25, 24)


@_register
def regnet_x_3_2gf() -> Network:
    """RegNetX-3.2GF: d = 25, w0 = 88, wa = 26.31, wm = 2.25, group width 48."""
    return _regnet("regnet_x_3_2gf", "RegNetX-3.2GF", 25, 88, 26.31, 2.25, 48)


@_register
def regnet_x_8gf() -> Network:
    """RegNetX-8GF: d = 23, w0 = 80, wa = 49.56, wm = 2.88, group width 120."""
    return _regnet("regnet_x_8gf", "RegNetX-8GF", 23, 80, 49.56, 2.88, 120)


@_register
def regnet_x_16gf() -> Network:
    """RegNetX-16GF: d = 22, w0 = 216, wa = 55.59, wm = 2.1, group width 128."""
    return _regnet("regnet_x_16gf", "RegNetX-16GF", 22, 216, 55.59, 2.1, 128)


@_register
def regnet_x_32gf() -> Network:
    """RegNetX-32GF: d = 23, w0 = 320, wa = 69.86, wm = 2.0, group width 168."""
    return _regnet("regnet_x_32gf", "RegNetX-32GF", 23, 320, 69.86, 2.0, 168)


# -- ShuffleNet V2 -------------------------------------------------------------------------------

_SHUFFLENET_V2 = ('Ma, Zhang, Zheng, Sun, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture '
                  'Design" (2018)')


def _shuffle_v2_unit(cin: int, cout: int, stride: int) -> AnyBlock:
    """ShuffleNet V2's unit: at stride 1 the ``shufflenet-v2`` rule, chain(split(), reduce(1), depthwise()),
    of a 3 x 3 convolution; at stride 2 (the paper's Figure 3(d)) both halves compute, ``separate()``
    beside chain(reduce(1), depthwise()), each to cout/2, concatenated and shuffled. Batch norm after
    every convolution."""
    if stride == 1:
        return _bn(chain(split(), reduce(1), depthwise())(_conv(cin, cout, 3, 1, 1)))
    half = cout // 2
    left = separate()(_conv(cin, half, 3, stride, 1))
    right = chain(reduce(1), depthwise())(_conv(cin, half, 3, stride, 1))
    return Series(Parallel(_bn(left), _bn(right)), Shuffle(cout, 2))


def _shufflenet_v2(scale: str, widths: tuple[int, int, int, int]) -> Network:
    stages = [_stage("stem", [Series(_conv_bn(3, 24, 3, 2, 1), Pool(24, 3, 2, 1))])]
    cin = 24
    for i, (cout, repeats) in enumerate(zip(widths[:3], (4, 8, 4)), 2):
        units = []
        for j in range(repeats):
            units.append(_shuffle_v2_unit(cin, cout, 2 if j == 0 else 1))
            cin = cout
        stages.append(_stage(f"stage{i}", units, "shufflenet-v2"))
    stages += [_stage("conv5", [_conv_bn(cin, widths[3], 1)]), _head(widths[3])]
    name = f"shufflenet_v2_x{scale.replace('.', '_')}"
    return _network(name, f"ShuffleNet V2 {scale}x", stages, _SHUFFLENET_V2, f"torchvision.models.{name}")


@_register
def shufflenet_v2_x0_5() -> Network:
    """ShuffleNet V2 0.5x: 48-96-192 channels, 1024 in the last 1 x 1."""
    return _shufflenet_v2("0.5", (48, 96, 192, 1024))


@_register
def shufflenet_v2_x1_0() -> Network:
    """ShuffleNet V2 1x: 116-232-464 channels, 1024 in the last 1 x 1."""
    return _shufflenet_v2("1.0", (116, 232, 464, 1024))


@_register
def shufflenet_v2_x1_5() -> Network:
    """ShuffleNet V2 1.5x: 176-352-704 channels, 1024 in the last 1 x 1."""
    return _shufflenet_v2("1.5", (176, 352, 704, 1024))


@_register
def shufflenet_v2_x2_0() -> Network:
    """ShuffleNet V2 2x: 244-488-976 channels, 2048 in the last 1 x 1."""
    return _shufflenet_v2("2.0", (244, 488, 976, 2048))


# -- MobileNet V3 and EfficientNet: MBConv ----------------------------------------------------------

def _mbconv(cin: int, cout: int, kernel: int, stride: int, expanded: int, squeeze: Optional[int]) -> tuple[AnyBlock, str]:
    """An inverted bottleneck on a ``kernel`` x ``kernel`` convolution, expanded to ``expanded`` channels,
    with a squeeze-and-excitation gate to ``squeeze`` channels after the depthwise convolution (the
    ``mbconv`` rule, chain(expand(t), depthwise(), excite(r))) or without one (the ``inverted-bottleneck``);
    with nothing to expand it starts from ``separate()``. Batch norm after every convolution of the
    main path, biases on the gate's; a residual sum where the shape is kept. Returns the block and
    the module it is."""
    rules = [expand(Fraction(expanded, cin)), depthwise()] if expanded != cin else [separate()]
    if squeeze:
        rules.append(excite(Fraction(expanded, squeeze)))
    body = _se_biased(_bn_main(chain(*rules)(_conv(cin, cout, kernel, stride, kernel // 2))))
    module = "mbconv" if squeeze else "inverted-bottleneck" if expanded != cin else "depthwise-separable"
    return (Residual(body) if stride == 1 and cin == cout else body), module


_MOBILENET_V3 = 'Howard et al., "Searching for MobileNetV3" (2019)'

#: Each block of MobileNet V3 (the paper's Tables 1 and 2): input, kernel, expanded, output, SE, stride.
_V3_LARGE = ((16, 3, 16, 16, False, 1), (16, 3, 64, 24, False, 2), (24, 3, 72, 24, False, 1),
             (24, 5, 72, 40, True, 2), (40, 5, 120, 40, True, 1), (40, 5, 120, 40, True, 1),
             (40, 3, 240, 80, False, 2), (80, 3, 200, 80, False, 1), (80, 3, 184, 80, False, 1),
             (80, 3, 184, 80, False, 1), (80, 3, 480, 112, True, 1), (112, 3, 672, 112, True, 1),
             (112, 5, 672, 160, True, 2), (160, 5, 960, 160, True, 1), (160, 5, 960, 160, True, 1))
_V3_SMALL = ((16, 3, 16, 16, True, 2), (16, 3, 72, 24, False, 2), (24, 3, 88, 24, False, 1),
             (24, 5, 96, 40, True, 2), (40, 5, 240, 40, True, 1), (40, 5, 240, 40, True, 1),
             (40, 5, 120, 48, True, 1), (48, 5, 144, 48, True, 1), (48, 5, 288, 96, True, 2),
             (96, 5, 576, 96, True, 1), (96, 5, 576, 96, True, 1))


def _mobilenet_v3(size: str, plan: tuple[tuple[int, int, int, int, bool, int], ...], last: int) -> Network:
    """MobileNet V3 (torchvision, width 1.0): one stage per block; squeeze-and-excitation gates squeeze a
    quarter of the expanded width, rounded to a multiple of 8 (torchvision's ``_make_divisible``)."""
    stages = [_stage("stem", [_conv_bn(3, plan[0][0], 3, 2, 1)])]
    for i, (cin, kernel, expanded, cout, se, stride) in enumerate(plan, 1):
        squeeze = _round_to_multiple(Fraction(expanded // 4)) if se else None
        block, module = _mbconv(cin, cout, kernel, stride, expanded, squeeze)
        stages.append(_stage(f"block{i}", [block], module))
    cin = plan[-1][3]
    stages += [_stage("last", [_conv_bn(cin, 6 * cin, 1)]),
               _stage("head", [Series(AdaptivePool(6 * cin), Linear(6 * cin, last), Linear(last, 1000))])]
    name = f"mobilenet_v3_{size}"
    return _network(name, f"MobileNet V3 {size.capitalize()}", stages, _MOBILENET_V3, f"torchvision.models.{name}")


@_register
def mobilenet_v3_large() -> Network:
    """MobileNet V3 Large: 15 inverted bottlenecks, 8 of them with squeeze-and-excitation."""
    return _mobilenet_v3("large", _V3_LARGE, 1280)


@_register
def mobilenet_v3_small() -> Network:
    """MobileNet V3 Small: 11 inverted bottlenecks, 9 of them with squeeze-and-excitation."""
    return _mobilenet_v3("small", _V3_SMALL, 1024)


_EFFICIENTNET = 'Tan, Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks" (2019)'
_EFFICIENTNET_V2 = 'Tan, Le, "EfficientNetV2: Smaller Models and Faster Training" (2021)'

#: EfficientNet-B0's stages (the paper's Table 1): expansion, kernel, stride, input, output, layers.
_B0 = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
       (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))


def _mbconv_stage(t: int, kernel: int, stride: int, cin: int, cout: int, layers: int) -> tuple[list[AnyBlock], str]:
    """EfficientNet's stage of ``layers`` MBConv blocks: each gate squeezes a quarter of the block's input."""
    blocks, module = [], ""
    for j in range(layers):
        width = cin if j == 0 else cout
        block, module = _mbconv(width, cout, kernel, stride if j == 0 else 1, _round_to_multiple(Fraction(width * t)),
                                max(1, width // 4))
        blocks.append(block)
    return blocks, module


def _efficientnet(b: int, width: str, depth: str, size: int) -> Network:
    """EfficientNet-B``b``: B0's stages with every width times ``width`` (rounded to a multiple of 8) and
    every stage's depth times ``depth`` (rounded up), at its own resolution ``size`` (compound scaling)."""
    import math

    widen_, deepen = Fraction(width), Fraction(depth)
    stages = [_stage("stem", [_conv_bn(3, _round_to_multiple(32 * widen_), 3, 2, 1)])]
    cout = 0
    for i, (t, kernel, stride, cin, cout, layers) in enumerate(_B0, 1):
        cin, cout = _round_to_multiple(cin * widen_), _round_to_multiple(cout * widen_)
        blocks, module = _mbconv_stage(t, kernel, stride, cin, cout, math.ceil(layers * deepen))
        stages.append(_stage(f"stage{i}", blocks, module))
    stages += [_stage("last", [_conv_bn(cout, 4 * cout, 1)]), _head(4 * cout)]
    return _network(f"efficientnet_b{b}", f"EfficientNet-B{b}", stages, _EFFICIENTNET,
                    f"torchvision.models.efficientnet_b{b}", size)


@_register
def efficientnet_b0() -> Network:
    """EfficientNet-B0 at 224: the searched baseline, 16 MBConv blocks."""
    return _efficientnet(0, "1.0", "1.0", 224)


@_register
def efficientnet_b1() -> Network:
    """EfficientNet-B1 at 240: depth 1.1."""
    return _efficientnet(1, "1.0", "1.1", 240)


@_register
def efficientnet_b2() -> Network:
    """EfficientNet-B2 at 288: width 1.1, depth 1.2."""
    return _efficientnet(2, "1.1", "1.2", 288)


@_register
def efficientnet_b3() -> Network:
    """EfficientNet-B3 at 300: width 1.2, depth 1.4."""
    return _efficientnet(3, "1.2", "1.4", 300)


@_register
def efficientnet_b4() -> Network:
    """EfficientNet-B4 at 380: width 1.4, depth 1.8."""
    return _efficientnet(4, "1.4", "1.8", 380)


@_register
def efficientnet_b5() -> Network:
    """EfficientNet-B5 at 456: width 1.6, depth 2.2."""
    return _efficientnet(5, "1.6", "2.2", 456)


@_register
def efficientnet_b6() -> Network:
    """EfficientNet-B6 at 528: width 1.8, depth 2.6."""
    return _efficientnet(6, "1.8", "2.6", 528)


@_register
def efficientnet_b7() -> Network:
    """EfficientNet-B7 at 600: width 2.0, depth 3.1."""
    return _efficientnet(7, "2.0", "3.1", 600)


def _fused(t: int, kernel: int, stride: int, cin: int, cout: int) -> AnyBlock:
    """EfficientNet V2's Fused-MBConv: the expansion and the depthwise convolution fused into one
    ``kernel`` x ``kernel`` convolution to t*cin channels, then a 1 x 1 to cout (only the convolution at
    t = 1). A plain convolution and a pointwise one: none of the modules."""
    wide = _round_to_multiple(Fraction(cin * t))
    body = _conv_bn(cin, cout, kernel, stride, kernel // 2) if wide == cin else \
        Series(_conv_bn(cin, wide, kernel, stride, kernel // 2), _conv_bn(wide, cout, 1))
    return Residual(body) if stride == 1 and cin == cout else body


#: EfficientNet V2's stages (its Table 4 and torchvision): fused or not, expansion, kernel, stride, in, out, layers.
_V2 = {
    "s": ((True, 1, 3, 1, 24, 24, 2), (True, 4, 3, 2, 24, 48, 4), (True, 4, 3, 2, 48, 64, 4),
          (False, 4, 3, 2, 64, 128, 6), (False, 6, 3, 1, 128, 160, 9), (False, 6, 3, 2, 160, 256, 15)),
    "m": ((True, 1, 3, 1, 24, 24, 3), (True, 4, 3, 2, 24, 48, 5), (True, 4, 3, 2, 48, 80, 5),
          (False, 4, 3, 2, 80, 160, 7), (False, 6, 3, 1, 160, 176, 14), (False, 6, 3, 2, 176, 304, 18),
          (False, 6, 3, 1, 304, 512, 5)),
    "l": ((True, 1, 3, 1, 32, 32, 4), (True, 4, 3, 2, 32, 64, 7), (True, 4, 3, 2, 64, 96, 7),
          (False, 4, 3, 2, 96, 192, 10), (False, 6, 3, 1, 192, 224, 19), (False, 6, 3, 2, 224, 384, 25),
          (False, 6, 3, 1, 384, 640, 7)),
}


def _efficientnet_v2(size: str, resolution: int) -> Network:
    plan = _V2[size]
    stages = [_stage("stem", [_conv_bn(3, plan[0][4], 3, 2, 1)])]
    cout = 0
    for i, (fused, t, kernel, stride, cin, cout, layers) in enumerate(plan, 1):
        if fused:
            blocks = [_fused(t, kernel, stride if j == 0 else 1, cin if j == 0 else cout, cout) for j in range(layers)]
            stages.append(_stage(f"stage{i}", blocks))
        else:
            blocks, module = _mbconv_stage(t, kernel, stride, cin, cout, layers)
            stages.append(_stage(f"stage{i}", blocks, module))
    stages += [_stage("last", [_conv_bn(cout, 1280, 1)]), _head(1280)]
    name = f"efficientnet_v2_{size}"
    return _network(name, f"EfficientNetV2-{size.upper()}", stages, _EFFICIENTNET_V2, f"torchvision.models.{name}",
                    resolution)


@_register
def efficientnet_v2_s() -> Network:
    """EfficientNetV2-S at 384: three Fused-MBConv stages, then MBConv."""
    return _efficientnet_v2("s", 384)


@_register
def efficientnet_v2_m() -> Network:
    """EfficientNetV2-M at 480."""
    return _efficientnet_v2("m", 480)


@_register
def efficientnet_v2_l() -> Network:
    """EfficientNetV2-L at 480."""
    return _efficientnet_v2("l", 480)


# -- RegNet Y: RegNet X with squeeze-and-excitation ------------------------------------------------------

def _regnet_y_block(cin: int, cout: int, stride: int, group_width: int) -> AnyBlock:
    """RegNet's Y block: the X block with a squeeze-and-excitation gate after its grouped 3 x 3, which
    squeezes to a quarter of the block's input, chain(reduce(1), group(G), excite(r))."""
    groups = cout // group_width
    squeeze = round(Fraction(cin, 4))
    rules = [reduce(1)] + ([group(groups)] if groups != 1 else []) + [excite(Fraction(cout, squeeze))]
    body = _se_biased(_bn_main(chain(*rules)(_conv(cin, cout, 3, stride, 1))))
    return Residual(body, _projection(cin, cout, stride))


def _regnet_y(name: str, title: str, depth: int, w0: int, wa: float, wm: float, group_width: int,
              size: int = 224) -> Network:
    stages, cin = [_stage("stem", [_conv_bn(3, 32, 3, 2, 1)])], 32
    for i, (width, blocks, g) in enumerate(_regnet_stages(depth, w0, wa, wm, group_width), 1):
        units = []
        for j in range(blocks):
            units.append(_regnet_y_block(cin, width, 2 if j == 0 else 1, g))
            cin = width
        stages.append(_stage(f"block{i}", units, "resnext" if width != g else "bottleneck"))
    stages.append(_head(cin))
    return _network(name, title, stages, _REGNET, f"torchvision.models.{name}", size)


@_register
def regnet_y_400mf() -> Network:
    """RegNetY-400MF: d = 16, w0 = 48, wa = 27.89, wm = 2.09, group width 8."""
    return _regnet_y("regnet_y_400mf", "RegNetY-400MF", 16, 48, 27.89, 2.09, 8)


@_register
def regnet_y_800mf() -> Network:
    """RegNetY-800MF: d = 14, w0 = 56, wa = 38.84, wm = 2.4, group width 16."""
    return _regnet_y("regnet_y_800mf", "RegNetY-800MF", 14, 56, 38.84, 2.4, 16)


@_register
def regnet_y_1_6gf() -> Network:
    """RegNetY-1.6GF: d = 27, w0 = 48, wa = 20.71, wm = 2.65, group width 24."""
    return _regnet_y("regnet_y_1_6gf", "RegNetY-1.6GF", 27, 48, 20.71, 2.65, 24)


@_register
def regnet_y_3_2gf() -> Network:
    """RegNetY-3.2GF: d = 21, w0 = 80, wa = 42.63, wm = 2.66, group width 24."""
    return _regnet_y("regnet_y_3_2gf", "RegNetY-3.2GF", 21, 80, 42.63, 2.66, 24)


@_register
def regnet_y_8gf() -> Network:
    """RegNetY-8GF: d = 17, w0 = 192, wa = 76.82, wm = 2.19, group width 56."""
    return _regnet_y("regnet_y_8gf", "RegNetY-8GF", 17, 192, 76.82, 2.19, 56)


@_register
def regnet_y_16gf() -> Network:
    """RegNetY-16GF: d = 18, w0 = 200, wa = 106.23, wm = 2.48, group width 112."""
    return _regnet_y("regnet_y_16gf", "RegNetY-16GF", 18, 200, 106.23, 2.48, 112)


@_register
def regnet_y_32gf() -> Network:
    """RegNetY-32GF: d = 20, w0 = 232, wa = 115.89, wm = 2.53, group width 232."""
    return _regnet_y("regnet_y_32gf", "RegNetY-32GF", 20, 232, 115.89, 2.53, 232)


@_register
def regnet_y_128gf() -> Network:
    """RegNetY-128GF: d = 27, w0 = 456, wa = 160.83, wm = 2.52, group width 264; at 384, the size of
    torchvision's only weights for it (SWAG, fine-tuned end to end)."""
    return _regnet_y("regnet_y_128gf", "RegNetY-128GF", 27, 456, 160.83, 2.52, 264, 384)


# -- DenseNet ------------------------------------------------------------------------------------------

_DENSENET = 'Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional Networks" (2017)'


def _dense_layer(cin: int, growth: int, width: int = 4) -> AnyBlock:
    """DenseNet's layer: the ``dense-layer`` rule, chain(dense(), squeeze(1/4)), of a 3 x 3 convolution to the
    growth rate, batch norm before each convolution (pre-activation)."""
    block = chain(dense(), squeeze(Fraction(1, width)))(_conv(cin, growth, 3, 1, 1))
    return map_layers(block, lambda x: Series(BatchNorm(x.in_channels), x) if isinstance(x, Conv) else x)


def _densenet(depth: int, growth: int, layers: tuple[int, int, int, int], init: int) -> Network:
    """DenseNet-BC: four dense blocks, each layer concatenating ``growth`` new channels; between blocks a
    transition (batch norm, 1 x 1 to half the channels, 2 x 2 average pool)."""
    stages = [_stage("stem", [Series(_conv_bn(3, init, 7, 2, 3), Pool(init, 3, 2, 1))])]
    channels = init
    for i, n in enumerate(layers, 1):
        stages.append(_stage(f"denseblock{i}", [_dense_layer(channels + j * growth, growth) for j in range(n)],
                             "dense-layer"))
        channels += n * growth
        if i < len(layers):
            stages.append(_stage(f"transition{i}", [Series(BatchNorm(channels), _conv(channels, channels // 2, 1),
                                                           Pool(channels // 2, 2, 2, kind="avg"))]))
            channels //= 2
    stages.append(_stage("head", [Series(BatchNorm(channels), AdaptivePool(channels), Linear(channels, 1000))]))
    return _network(f"densenet{depth}", f"DenseNet-{depth}", stages, _DENSENET, f"torchvision.models.densenet{depth}")


@_register
def densenet121() -> Network:
    """DenseNet-121: growth rate 32, 6-12-24-16 layers."""
    return _densenet(121, 32, (6, 12, 24, 16), 64)


@_register
def densenet161() -> Network:
    """DenseNet-161: growth rate 48, 6-12-36-24 layers, a 96-channel stem."""
    return _densenet(161, 48, (6, 12, 36, 24), 96)


@_register
def densenet169() -> Network:
    """DenseNet-169: growth rate 32, 6-12-32-32 layers."""
    return _densenet(169, 32, (6, 12, 32, 32), 64)


@_register
def densenet201() -> Network:
    """DenseNet-201: growth rate 32, 6-12-48-32 layers."""
    return _densenet(201, 32, (6, 12, 48, 32), 64)


# -- ConvNeXt ---------------------------------------------------------------------------------------

_CONVNEXT = 'Liu, Mao, Wu, Feichtenhofer, Darrell, Xie, "A ConvNet for the 2020s" (2022)'


def _cnblock(dim: int) -> AnyBlock:
    """The ConvNeXt block: the ``convnext`` rule, chain(separate(), widen(4), layer_norm(), layer_scale()),
    of a 7 x 7 convolution, every convolution biased (its 1 x 1s are torchvision's ``Linear`` layers on
    channels-last maps: the same MACs and parameters), and a residual sum."""
    return Residual(_biased(chain(separate(), widen(4), layer_norm(), layer_scale())(_conv(dim, dim, 7, 1, 3))))


def _convnext(size: str, widths: tuple[int, int, int, int], depths: tuple[int, int, int, int]) -> Network:
    """ConvNeXt: a 4 x 4 stride-4 stem, four stages of ConvNeXt blocks, each but the last followed by
    layer norm and a 2 x 2 stride-2 convolution."""
    stages = [_stage("stem", [Series(_conv(3, widths[0], 4, 4, 0, bias=True), LayerNorm(widths[0]))])]
    for i, (width, depth) in enumerate(zip(widths, depths), 1):
        stages.append(_stage(f"stage{i}", [_cnblock(width) for _ in range(depth)], "convnext"))
        if i < 4:
            stages.append(_stage(f"downsample{i}", [Series(LayerNorm(width), _conv(width, widths[i], 2, 2, 0, bias=True))]))
    stages.append(_stage("head", [Series(AdaptivePool(widths[3]), LayerNorm(widths[3]), Linear(widths[3], 1000))]))
    name = f"convnext_{size}"
    return _network(name, f"ConvNeXt-{size.capitalize()}", stages, _CONVNEXT, f"torchvision.models.{name}")


@_register
def convnext_tiny() -> Network:
    """ConvNeXt-T: 96-192-384-768 channels, 3-3-9-3 blocks."""
    return _convnext("tiny", (96, 192, 384, 768), (3, 3, 9, 3))


@_register
def convnext_small() -> Network:
    """ConvNeXt-S: 96-192-384-768 channels, 3-3-27-3 blocks."""
    return _convnext("small", (96, 192, 384, 768), (3, 3, 27, 3))


@_register
def convnext_base() -> Network:
    """ConvNeXt-B: 128-256-512-1024 channels, 3-3-27-3 blocks."""
    return _convnext("base", (128, 256, 512, 1024), (3, 3, 27, 3))


@_register
def convnext_large() -> Network:
    """ConvNeXt-L: 192-384-768-1536 channels, 3-3-27-3 blocks."""
    return _convnext("large", (192, 384, 768, 1536), (3, 3, 27, 3))


# -- vision transformers: ViT and Swin -----------------------------------------------------------------
#
# A transformer's block is two residual sums on the tokens: attention (after layer norm), then the MLP,
# two linear layers at each token with GELU between. The patch embedding is a P x P convolution of
# stride P: the image cut into tiles. Tokens are the positions of the map, so the closed forms are in
# the input's H and W (see ``layers.Attention``).

_VIT = ('Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, Gelly, '
        'Uszkoreit, Houlsby, "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale" (2020)')
_SWIN = ('Liu, Lin, Cao, Hu, Wei, Zhang, Lin, Guo, "Swin Transformer: Hierarchical Vision Transformer using '
         'Shifted Windows" (2021)')
_SWIN_V2 = ('Liu, Hu, Lin, Yao, Xie, Wei, Ning, Cao, Zhang, Dong, Wei, Guo, "Swin Transformer V2: Scaling Up '
            'Capacity and Resolution" (2022)')


def _mlp(dim: int, hidden: int, extra: int = 0) -> AnyBlock:
    """The transformer's MLP: dim -> hidden -> dim at each token, GELU between (biased, as torchvision's)."""
    return Series(TokenLinear(dim, hidden, extra=extra), Activation(hidden, "gelu"), TokenLinear(hidden, dim, extra=extra))


def _encoder_block(dim: int, heads: int, hidden: int) -> AnyBlock:
    """ViT's encoder block: layer norm and self-attention over every token (the class token too), then
    layer norm and the MLP, each in a residual sum."""
    return Series(Residual(Series(LayerNorm(dim), Attention(dim, heads, extra=1))),
                  Residual(Series(LayerNorm(dim), _mlp(dim, hidden, extra=1))))


def _vit(patch: int, layers: int, heads: int, dim: int, hidden: int, image_size: Any = 224, default: int = 224) -> Network:
    """torchvision's VisionTransformer: a P x P stride-P patch embedding, the class token and the position
    embedding (built for ``image_size``), ``layers`` encoder blocks, layer norm, the class token's classifier."""
    image_size = check("size", image_size, "image_size", symbolic=False)
    if image_size % patch:
        raise InvalidValueError(f"image_size = {image_size}: a ViT with {patch} x {patch} patches takes a multiple of {patch}")
    positions = (image_size // patch) ** 2 + 1
    stages = [_stage("patch_embed", [Series(_conv(3, dim, patch, patch, 0, bias=True), Tokens(dim, 1, positions))],
                     "patch-embedding"),
              _stage("encoder", [_encoder_block(dim, heads, hidden) for _ in range(layers)], "self-attention"),
              _stage("head", [Series(LayerNorm(dim), ClassToken(dim), Linear(dim, 1000))])]
    size = {16: "b", 32: "b", 14: "h"}.get(patch, "b") if dim == 768 or dim == 1280 else "l"
    name = f"vit_{size}_{patch}"
    title = f"ViT-{size.upper()}/{patch}" + ("" if image_size == default else f" at {image_size}")
    return _network(name, title, stages, _VIT, f"torchvision.models.{name}(image_size={image_size})", image_size)


@_register
def vit_b_16(image_size: Any = 224) -> Network:
    """ViT-B/16: 16 x 16 patches, 12 layers, 12 heads, 768 channels, MLP 3072."""
    return _vit(16, 12, 12, 768, 3072, image_size)


@_register
def vit_b_32(image_size: Any = 224) -> Network:
    """ViT-B/32: 32 x 32 patches, 12 layers, 12 heads, 768 channels, MLP 3072."""
    return _vit(32, 12, 12, 768, 3072, image_size)


@_register
def vit_l_16(image_size: Any = 224) -> Network:
    """ViT-L/16: 16 x 16 patches, 24 layers, 16 heads, 1024 channels, MLP 4096."""
    return _vit(16, 24, 16, 1024, 4096, image_size)


@_register
def vit_l_32(image_size: Any = 224) -> Network:
    """ViT-L/32: 32 x 32 patches, 24 layers, 16 heads, 1024 channels, MLP 4096."""
    return _vit(32, 24, 16, 1024, 4096, image_size)


@_register
def vit_h_14(image_size: Any = 518) -> Network:
    """ViT-H/14: 14 x 14 patches, 32 layers, 16 heads, 1280 channels, MLP 5120, built for 518 x 518 as its
    weights are (torchvision's ``vit_h_14()`` without weights builds it for 224)."""
    return _vit(14, 32, 16, 1280, 5120, image_size, 518)


def _swin_block(dim: int, heads: int, window: int, shift: int, v2: bool) -> AnyBlock:
    """Swin's block: (shifted) window attention with its relative position bias, then the MLP (ratio 4),
    each with layer norm in a residual sum: before (V1) or after (V2's post-norm)."""
    attention = Attention(dim, heads, window=window, shift=shift, position_bias="mlp" if v2 else "table")
    mlp = _mlp(dim, 4 * dim)
    if v2:
        return Series(Residual(Series(attention, LayerNorm(dim))), Residual(Series(mlp, LayerNorm(dim))))
    return Series(Residual(Series(LayerNorm(dim), attention)), Residual(Series(LayerNorm(dim), mlp)))


def _patch_merging(dim: int, v2: bool) -> AnyBlock:
    """Each 2 x 2 patch to one position of 4C channels, then a 4C -> 2C linear layer (no bias): a 2 x 2
    convolution of stride 2; layer norm on the 4C before it (V1) or on the 2C after it (V2)."""
    if v2:
        return Series(PatchMerge(dim), TokenLinear(4 * dim, 2 * dim, bias=False), LayerNorm(2 * dim))
    return Series(PatchMerge(dim), LayerNorm(4 * dim), TokenLinear(4 * dim, 2 * dim, bias=False))


def _swin(size: str, dim: int, depths: tuple[int, ...], heads: tuple[int, ...], v2: bool = False) -> Network:
    """torchvision's SwinTransformer: a 4 x 4 stride-4 patch embedding and layer norm, four stages of Swin
    blocks (windows of 7, or 8 in V2, every second block shifted by half a window) with patch merging
    between them, layer norm, global average pooling and the classifier."""
    window = 8 if v2 else 7
    stages = [_stage("patch_embed", [Series(_conv(3, dim, 4, 4, 0, bias=True), LayerNorm(dim))], "patch-embedding")]
    for i, (depth, h) in enumerate(zip(depths, heads)):
        width = dim * 2 ** i
        blocks = [_swin_block(width, h, window, 0 if j % 2 == 0 else window // 2, v2) for j in range(depth)]
        stages.append(_stage(f"stage{i + 1}", blocks, "window-attention"))
        if i < len(depths) - 1:
            stages.append(_stage(f"merge{i + 1}", [_patch_merging(width, v2)], "patch-embedding"))
    last = dim * 2 ** (len(depths) - 1)
    stages.append(_stage("head", [Series(LayerNorm(last), AdaptivePool(last), Linear(last, 1000))]))
    name = f"swin_{'v2_' if v2 else ''}{size}"
    title = f"Swin{'V2' if v2 else ''}-{size.upper()}"
    return _network(name, title, stages, _SWIN_V2 if v2 else _SWIN, f"torchvision.models.{name}", 256 if v2 else 224)


@_register
def swin_t() -> Network:
    """Swin-T: 96 channels, 2-2-6-2 blocks, 3-6-12-24 heads, 7 x 7 windows."""
    return _swin("t", 96, (2, 2, 6, 2), (3, 6, 12, 24))


@_register
def swin_s() -> Network:
    """Swin-S: 96 channels, 2-2-18-2 blocks, 3-6-12-24 heads, 7 x 7 windows."""
    return _swin("s", 96, (2, 2, 18, 2), (3, 6, 12, 24))


@_register
def swin_b() -> Network:
    """Swin-B: 128 channels, 2-2-18-2 blocks, 4-8-16-32 heads, 7 x 7 windows."""
    return _swin("b", 128, (2, 2, 18, 2), (4, 8, 16, 32))


@_register
def swin_v2_t() -> Network:
    """Swin V2-T: 96 channels, 2-2-6-2 blocks, 3-6-12-24 heads, 8 x 8 windows, continuous position bias."""
    return _swin("t", 96, (2, 2, 6, 2), (3, 6, 12, 24), v2=True)


@_register
def swin_v2_s() -> Network:
    """Swin V2-S: 96 channels, 2-2-18-2 blocks, 3-6-12-24 heads, 8 x 8 windows, continuous position bias."""
    return _swin("s", 96, (2, 2, 18, 2), (3, 6, 12, 24), v2=True)


@_register
def swin_v2_b() -> Network:
    """Swin V2-B: 128 channels, 2-2-18-2 blocks, 4-8-16-32 heads, 8 x 8 windows, continuous position bias."""
    return _swin("b", 128, (2, 2, 18, 2), (4, 8, 16, 32), v2=True)


# -- MaxViT: MBConv, then attention in 7 x 7 blocks and in a 7 x 7 grid ------------------------------------

_MAXVIT = ('Tu, Talebi, Zhang, Yang, Milanfar, Bovik, Li, "MaxViT: Multi-Axis Vision Transformer" (2022)')


def _maxvit_mbconv(cin: int, cout: int, stride: int) -> AnyBlock:
    """MaxViT's MBConv: batch norm, 1 x 1 up to 4 * out, a 3 x 3 depthwise (the stride), a squeeze-and-
    excitation gate to out/4 (biased), a biased 1 x 1 to out; the shortcut pooled and projected where the
    block strides."""
    mid = 4 * cout
    body = Series(BatchNorm(cin), _conv(cin, mid, 1), BatchNorm(mid), _conv(mid, mid, 3, stride, 1, mid), BatchNorm(mid),
                  Scale(_biased(se_gate(mid, 16))), _conv(mid, cout, 1, bias=True))
    if stride == 1 and cin == cout:
        return Residual(body)
    shortcut = Series(Pool(cin, 3, stride, 1, kind="avg"), _conv(cin, cout, 1, bias=True)) if stride > 1 \
        else _conv(cin, cout, 1, bias=True)
    return Residual(body, shortcut)


def _partition_attention(dim: int) -> AnyBlock:
    """Layer norm and attention within 49 tokens (a 7 x 7 block, or a 7 x 7 grid spread over the map: the
    same count), heads of 32 channels with a relative position bias, then layer norm and the MLP (ratio 4)."""
    return Series(Residual(Series(LayerNorm(dim), Attention(dim, dim // 32, window=7, position_bias="table"))),
                  Residual(Series(LayerNorm(dim), _mlp(dim, 4 * dim))))


@_register
def maxvit_t() -> Network:
    """MaxViT-T: a 3 x 3 stem of 64 channels, four stages of 2-2-5-2 layers of 64-128-256-512 channels, each
    layer an MBConv, block attention and grid attention (7 x 7 partitions, heads of 32 channels)."""
    stages = [_stage("stem", [Series(_conv(3, 64, 3, 2, 1), BatchNorm(64), _conv(64, 64, 3, 1, 1, bias=True))])]
    cin = 64
    for i, (width, depth) in enumerate(zip((64, 128, 256, 512), (2, 2, 5, 2)), 1):
        layers: list[AnyBlock] = [Series(_maxvit_mbconv(cin if j == 0 else width, width, 2 if j == 0 else 1),
                         _partition_attention(width), _partition_attention(width)) for j in range(depth)]
        stages.append(_stage(f"stage{i}", layers, "window-attention"))
        cin = width
    stages.append(_stage("head", [Series(AdaptivePool(512), LayerNorm(512), Linear(512, 512), Activation(512, "tanh"),
                                         Linear(512, 1000, bias=False))]))
    return _network("maxvit_t", "MaxViT-T", stages, _MAXVIT, "torchvision.models.maxvit_t")
