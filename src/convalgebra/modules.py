"""The article's ten modules, each a chain of primitive rewrites of the standard convolution.

>>> [m.name for m in MODULES]  # doctest: +NORMALIZE_WHITESPACE
['group', 'vgg-stack', 'factorized', 'fire', 'bottleneck', 'resnext',
 'depthwise-separable', 'xception', 'shufflenet', 'inverted-bottleneck']
>>> module("mobilenet_v2").name
'inverted-bottleneck'
>>> module("resnext").rule
chain(reduce(t), group(G))

A new module needs no new code, only a chain of the same primitives:

>>> from convalgebra.rules import expand, group, depthwise
>>> from convalgebra.symbols import t, G
>>> grouped_inverted = compose(expand(t), group(G, on="pointwise"), depthwise(),
...                            name="grouped-inverted", parameters={t: 6, G: 2})
>>> [c.groups for c in grouped_inverted.layers()]
[G, M*t, G]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Optional

import sympy

from .display import RichDisplay
from .errors import InvalidValueError, unknown_name
from .blocks import Block, iter_layers, size_fields
from .layers import Conv, Layer
from .rules import (Chain, Rewrite, Rule, chain, depthwise, expand, factorize, group, mix, reduce, separate,
                    shuffle, squeeze, stack)
from .symbols import G, I, K, M, N, Number, k, p, symbol, t
from .values import check_values

__all__ = ["Paper", "Module", "MODULES", "module", "compose", "standard", "module_names"]


@dataclass(frozen=True)
class Paper:
    """Where a module comes from."""

    title: str
    authors: str
    year: int

    def __str__(self) -> str:
        return f"{self.authors}, \"{self.title}\" ({self.year})"


def standard() -> Conv:
    """The article's standard convolution: K x K kernels, M -> N channels, stride 1, SAME.

    >>> standard().macs(I)
    I**2*K**2*M*N
    """
    return Conv(M, N, (K, K))


@dataclass(frozen=True, eq=False)
class Module(RichDisplay):
    """A named rewrite of the standard convolution, with its paper and the article's reading.

    ``parameters`` maps each of the module's own symbols to its default value
    (``None`` when it has none); ``article`` is the article's factor rewrite.
    """

    __view__ = "module"

    name: str
    rule: Rule
    parameters: Mapping[sympy.Symbol, Optional[Number]] = field(default_factory=dict)
    title: str = ""
    network: str = ""
    paper: Optional[Paper] = None
    article: str = ""
    summary: str = ""
    aliases: tuple[str, ...] = ()
    example: Mapping[sympy.Symbol, Number] = field(default_factory=dict)

    def block(self) -> Block:
        """The layers that replace the standard convolution, as a tree."""
        return self.rule(standard())

    def layers(self) -> list[Layer]:
        """The layers in order (parallel branches one after the other)."""
        return list(iter_layers(self.block()))

    def __repr__(self) -> str:
        return f"Module({self.name!r}, {self.rule!r})"


def compose(*rules: Rule, name: str = "custom", parameters: Mapping[sympy.Symbol, Optional[Number]] | None = None,
            summary: str = "", title: str = "") -> Module:
    """A new module from primitive rewrites, applied left to right to the standard convolution.

    Parameters not given default to the module's free symbols, with no default value.

    >>> from convalgebra.rules import factorize, separate
    >>> m = compose(separate(), factorize(), name="factorized-depthwise")
    >>> [(c.kernel, c.groups) for c in m.layers()]
    [((K, 1), M), ((1, K), M), ((1, 1), 1)]
    >>> m.parameters
    {}
    >>> compose(separate(), parameters={"t": 2})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: t is not a parameter of this module; its parameters: none
    """
    if _key(name) in _BY_NAME:
        raise InvalidValueError(f"name {name!r} is the article's {_BY_NAME[_key(name)].name} module's;"
                                " give a composed module a name of its own")
    rule = chain(*rules)
    free = _free(rule(standard())) - {K, M, N, I}
    if parameters is None:
        parameters = {s: None for s in sorted(free, key=str)}
    else:
        given = {(s if isinstance(s, sympy.Symbol) else symbol(str(s))): d for s, d in parameters.items()}
        stray = sorted(str(s) for s in given if s not in free)
        if stray:
            raise InvalidValueError(f"{' '.join(stray)} is not a parameter of this module;"
                                    f" its parameters: {' '.join(sorted(map(str, free))) or 'none'}")
        check_values({s: d for s, d in given.items() if d is not None})
        parameters = given
    return Module(name, rule, dict(parameters), title=title or "a module composed of primitive rewrites",
                  summary=summary)


def _free(block: Block) -> set[sympy.Symbol]:
    """The symbols a block is built from."""
    return set().union(*(getattr(v, "free_symbols", set()) for _, v in size_fields(block)))


_HALF = Fraction(1, 2)

MODULES: tuple[Module, ...] = (
    Module(
        "group", group(G), {G: 2},
        title="group convolution", network="AlexNet",
        paper=Paper("ImageNet Classification with Deep Convolutional Neural Networks",
                    "Krizhevsky, Sutskever, Hinton", 2012),
        article="M -> M/G",
        summary="The input channels are split into G groups and each kernel sees only its own "
                "group: every kernel keeps its K x K size but has M/G channels instead of M.",
        aliases=("group-convolution", "grouped", "alexnet"),
        example={K: 5, M: 96, N: 256, I: 27},
    ),
    Module(
        "vgg-stack", stack(k), {k: 3},
        title="stacked small kernels", network="VGG",
        paper=Paper("Very Deep Convolutional Networks for Large-Scale Image Recognition",
                    "Simonyan, Zisserman", 2014),
        article="(K*K) -> (k*k + ... + k*k), (K-1)/(k-1) terms",
        summary="A large K x K kernel is replaced by (K-1)/(k-1) small k x k kernels in series, "
                "which see the same receptive field: a product of large numbers becomes a sum "
                "of products of small ones (5x5 -> two 3x3, 7x7 -> three 3x3).",
        aliases=("vgg", "stack", "stacked"),
        example={K: 5, M: 256, N: 256, I: 56},
    ),
    Module(
        "factorized", factorize(), {},
        title="factorized convolution", network="Inception V2",
        paper=Paper("Rethinking the Inception Architecture for Computer Vision",
                    "Szegedy, Vanhoucke, Ioffe, Shlens, Wojna", 2015),
        article="(K*K) -> (K*1 + 1*K)",
        summary="The two-dimensional kernel is split into its rows and columns: a K x 1 "
                "convolution followed by a 1 x K convolution.",
        aliases=("factorised", "inception", "inception-v2", "inception_v3", "asymmetric"),
        example={K: 7, M: 192, N: 192, I: 17},
    ),
    Module(
        "fire", chain(squeeze(t), mix(p)), {t: 8, p: _HALF},
        title="Fire module", network="SqueezeNet",
        paper=Paper("SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
                    "Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer", 2016),
        article="(K*K*M*N) -> (M*N/t + N/t*(1-p)*N + K*K*N/t*p*N), K = 3",
        summary="A 1 x 1 squeeze layer reduces the M channels to N/t; the expand layer then "
                "makes (1 - p)N outputs with 1 x 1 kernels and pN with K x K kernels, side by "
                "side, and concatenates them.",
        aliases=("squeezenet", "fire-module"),
        example={K: 3, M: 96, N: 128, I: 55},
    ),
    Module(
        "bottleneck", reduce(t), {t: 4},
        title="bottleneck", network="ResNet",
        paper=Paper("Deep Residual Learning for Image Recognition",
                    "He, Zhang, Ren, Sun", 2015),
        article="(K*K*M*N) -> (M*N/t + K*K*N/t*N/t + N/t*N), t = 4",
        summary="A 1 x 1 convolution reduces the channels to N/t, the K x K convolution works "
                "at that width, and a second 1 x 1 convolution restores N channels: like an "
                "SVD of the channel dimension.",
        aliases=("resnet", "resnet-bottleneck"),
        example={K: 3, M: 256, N: 256, I: 56},
    ),
    Module(
        "resnext", chain(reduce(t), group(G)), {t: 2, G: 32},
        title="grouped bottleneck", network="ResNeXt",
        paper=Paper("Aggregated Residual Transformations for Deep Neural Networks",
                    "Xie, Girshick, Dollar, Tu, He", 2016),
        article="(K*K*M*N) -> (M*N/t + K*K*N/(t*G)*N/t + N/t*N), t = 2, G = 32",
        summary="A bottleneck whose K x K convolution is a group convolution with G groups.",
        aliases=("resnext-block", "grouped-bottleneck"),
        example={K: 3, M: 256, N: 256, I: 56},
    ),
    Module(
        "depthwise-separable", separate(), {},
        title="depthwise separable convolution", network="MobileNet V1",
        paper=Paper("MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
                    "Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto, Adam", 2017),
        article="(K*K*N) -> (K*K + N)",
        summary="The channel dimension is factored out of the kernel: a depthwise K x K "
                "convolution filters each of the M channels on its own, then a pointwise 1 x 1 "
                "convolution combines them into N outputs.",
        aliases=("mobilenet", "mobilenet-v1", "separable", "dw-separable"),
        example={K: 3, M: 512, N: 512, I: 14},
    ),
    Module(
        "xception", separate("pointwise-first"), {},
        title="separable convolution, pointwise first", network="Xception",
        paper=Paper("Xception: Deep Learning with Depthwise Separable Convolutions",
                    "Chollet", 2016),
        article="(K*K*M) -> (M + K*K)",
        summary="The channel dimension is factored out in the other order: a pointwise 1 x 1 "
                "convolution to N channels, then a depthwise K x K convolution, with no "
                "activation between them. Stacked, it is the same as depthwise separable.",
        aliases=("xception-separable",),
        example={K: 3, M: 728, N: 728, I: 19},
    ),
    Module(
        "shufflenet", chain(reduce(t), group(G, on="pointwise"), depthwise(), shuffle(G)), {G: 3, t: 4},
        title="group pointwise convolution and channel shuffle", network="ShuffleNet",
        paper=Paper("ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
                    "Zhang, Zhou, Lin, Sun", 2017),
        article="(K*K*M*N) -> (M/G*N/t + shuffle + K*K*N/t + N/(t*G)*N)",
        summary="A bottleneck in which both 1 x 1 convolutions are grouped with G groups and "
                "the K x K convolution is depthwise; a channel shuffle after the first 1 x 1 "
                "lets information cross the groups again.",
        aliases=("shufflenet-v1", "shuffle", "channel-shuffle"),
        example={K: 3, M: 240, N: 240, I: 28},
    ),
    Module(
        "inverted-bottleneck", chain(expand(t), depthwise()), {t: 6},
        title="inverted linear bottleneck", network="MobileNet V2",
        paper=Paper("MobileNetV2: Inverted Residuals and Linear Bottlenecks",
                    "Sandler, Howard, Zhu, Zhmoginov, Chen", 2018),
        article="(K*K*M*N) -> (M*t*M + K*K*t*M + t*M*N), t = 6",
        summary="The bottleneck turned inside out: a 1 x 1 convolution expands the M channels "
                "to tM, a depthwise K x K convolution filters them, and a linear 1 x 1 "
                "convolution projects them to N.",
        aliases=("mobilenet-v2", "inverted-residual", "mbconv", "inverted"),
        example={K: 3, M: 64, N: 64, I: 14},
    ),
)

_BY_NAME: dict[str, Module] = {}
for _m in MODULES:
    for _name in (_m.name, *_m.aliases):
        _BY_NAME[_name] = _m


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def module_names() -> list[str]:
    """Canonical names, in the article's order."""
    return [m.name for m in MODULES]


def module(name: str | Module) -> Module:
    """The module called ``name`` (its canonical name, an alias, any case, ``_`` or ``-``).

    >>> module("Depthwise_Separable").name
    'depthwise-separable'
    >>> module("botleneck")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown module 'botleneck'; did you mean bottleneck or resnext? (see 'convalgebra list')
    >>> module(group(2))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: group(2) is a rule, not a module; make it one with compose(group(2))
    """
    if isinstance(name, Module):
        return name
    if isinstance(name, (Rewrite, Chain)):
        raise InvalidValueError(f"{name!r} is a rule, not a module; make it one with compose({name!r})")
    if not isinstance(name, str):
        raise InvalidValueError(f"{name!r}: expected a module's name or a Module, not {type(name).__name__}")
    found = _BY_NAME.get(_key(name))
    if found is not None:
        return found
    known = {spelling: m.name for spelling, m in _BY_NAME.items()}
    raise unknown_name("module", name, known, "convalgebra list", _key)
