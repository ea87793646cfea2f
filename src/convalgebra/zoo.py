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
from typing import Callable, Optional, Union

from .blocks import AnyBlock, Parallel, Repeat, Residual, Series, map_layers, substitute, transform
from .layers import AdaptivePool, AnyLayer, BatchNorm, Conv, Linear, Padding, Pool
from .networks import Network, Stage, named
from .rules import chain, depthwise, expand, group, mix, reduce, separate, shuffle, squeeze, stack

__all__ = ["ZOO", "build"]

Kernel = Union[int, tuple[int, int]]

#: Every network's builder, by name, in the order of the papers.
ZOO: dict[str, Callable[[], Network]] = {}


def _register(fn: Callable[[], Network]) -> Callable[[], Network]:
    ZOO[fn.__name__] = fn
    return fn


@lru_cache(maxsize=None)
def build(name: str) -> Network:
    """The network called exactly ``name`` (see ``networks.network`` for the forgiving lookup).

    >>> build("vgg16").stride
    32
    """
    return ZOO[name]()


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


def _unrolled(block: AnyBlock) -> AnyBlock:
    """``block`` with every repeat written out as that many copies (each layer gets its own name)."""
    return transform(block, lambda layer: layer,
                     lambda b: Series(*(b.body,) * int(b.count)) if isinstance(b, Repeat) else b)


def _stage(name: str, blocks: list[AnyBlock], module: str = "", side: bool = False) -> Stage:
    """A stage of numbered blocks (layers named ``0.conv1``, ``1.conv1`` ...), channel counts made whole."""
    items = [named(_unrolled(b), f"{i}." if len(blocks) > 1 else "") for i, b in enumerate(blocks)]
    return Stage(name, substitute(Series(*items), {}), module, side)


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
def mobilenet_v1() -> Network:
    """MobileNet V1 1.0-224 (the paper's Table 1): a 3 x 3 stem and 13 depthwise separable blocks
    (the last depthwise at stride 1, as the paper's sizes require)."""
    stages = [_stage("stem", [_conv_bn(3, 32, 3, 2, 1)])]
    plan = [(32, 64, 1)], [(64, 128, 2), (128, 128, 1)], [(128, 256, 2), (256, 256, 1)], \
        [(256, 512, 2)] + [(512, 512, 1)] * 5, [(512, 1024, 2), (1024, 1024, 1)]
    for i, blocks in enumerate(plan, 2):
        stages.append(_stage(f"stage{i}", [_separable(*b) for b in blocks], "depthwise-separable"))
    stages.append(_head(1024))
    return _network("mobilenet_v1", "MobileNet V1 1.0-224", stages,
                    'Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision '
                    'Applications" (2017)', "the paper's Table 1 (average pooling made global)")


def _inverted(cin: int, cout: int, stride: int, t: int, kernel: int = 3) -> AnyBlock:
    """MobileNet V2's block: the ``inverted-bottleneck`` rule, chain(expand(t), depthwise()), of a 3 x 3
    (MNASNet: or 5 x 5) convolution; at t = 1 there is nothing to expand and it is ``separate()``
    (depthwise separable)."""
    conv = _conv(cin, cout, kernel, stride, kernel // 2)
    body = _bn(separate()(conv) if t == 1 else chain(expand(t), depthwise())(conv))
    return Residual(body) if stride == 1 and cin == cout else body


@_register
def mobilenet_v2() -> Network:
    """MobileNet V2 1.0 (torchvision): seven stages of inverted bottlenecks (t, c, n, s)."""
    stages = [_stage("stem", [_conv_bn(3, 32, 3, 2, 1)])]
    cin = 32
    plan = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    for i, (t, c, n, s) in enumerate(plan, 1):
        blocks = []
        for j in range(n):
            blocks.append(_inverted(cin, c, s if j == 0 else 1, t))
            cin = c
        stages.append(_stage(f"stage{i}", blocks, "inverted-bottleneck" if t != 1 else "depthwise-separable"))
    stages += [_stage("last", [_conv_bn(320, 1280, 1)]), _head(1280)]
    return _network("mobilenet_v2", "MobileNet V2 1.0", stages,
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


def _mnasnet(alpha: str) -> Network:
    """MNASNet-B1 at width multiplier ``alpha`` (torchvision): a 3 x 3 stem, a depthwise separable
    block, six stages of inverted bottlenecks (3 x 3 or 5 x 5 depthwise, t = 3 or 6), each width
    alpha times the paper's rounded to a multiple of 8."""
    scale = Fraction(alpha)
    d = [_round_to_multiple(width * scale) for width in (32, 16, 24, 40, 80, 96, 192, 320)]
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
    name = f"mnasnet{alpha.replace('.', '_')}"
    return _network(name, f"MNASNet {alpha}", stages,
                    'Tan, Chen, Pang, Vasudevan, Sandler, Howard, Le, "MnasNet: Platform-Aware Neural Architecture '
                    'Search for Mobile" (2018)', f"torchvision.models.{name}")


@_register
def mnasnet0_5() -> Network:
    """MNASNet 0.5: every width halved, then rounded to a multiple of 8."""
    return _mnasnet("0.5")


@_register
def mnasnet0_75() -> Network:
    """MNASNet 0.75."""
    return _mnasnet("0.75")


@_register
def mnasnet1_0() -> Network:
    """MNASNet 1.0."""
    return _mnasnet("1.0")


@_register
def mnasnet1_3() -> Network:
    """MNASNet 1.3."""
    return _mnasnet("1.3")


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
