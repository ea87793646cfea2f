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
from functools import cached_property
from typing import Any, Mapping, Optional, cast

import sympy

from .display import RichDisplay
from .errors import InvalidValueError
from .blocks import Block, iter_layers, size_fields
from .layers import Conv, Layer
from .printing import text
from .rules import (Chain, Rewrite, Rule, attend, chain, dense, depthwise, excite, expand, factorize, ghost, group,
                    layer_norm, layer_scale, linear_attention, mix, mobilevit, patchify, reduce, separate, shuffle,
                    split, squeeze, stack, widen)
from .symbols import SYMBOLS, G, I, K, M, N, Number, alpha, k, p, r, rho, s, shown, symbol, t
from .validation import check
from .values import check_values

__all__ = ["Paper", "Module", "MODULES", "LATER_MODULES", "ATTENTION_MODULES", "COMPOSED_EXAMPLE", "standard", "check_used", "free_symbols",
           "parameter_defaults"]


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
    (``None`` when it has none); ``article`` is the article's factor rewrite;
    ``activations`` says where the real module's batch norm and activation functions
    sit (they cost no MACs and are not among its layers); ``example`` holds the sizes of
    a layer the module is known for.

    >>> print(module("xception").activations.split(":")[0])
    No activation between the pointwise and the depthwise convolution
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
    activations: str = ""

    def __post_init__(self) -> None:
        """Every field checked, and the values stored exact: a default of 0.1 is 1/10."""
        for name in ("name", "title", "network", "article", "summary", "activations"):
            if not isinstance(getattr(self, name), str):
                raise InvalidValueError(f"Module {name} = {shown(getattr(self, name))}: expected text")
        if not isinstance(self.rule, (Rewrite, Chain)):
            raise InvalidValueError(f"Module rule = {shown(self.rule)}: expected a rule such as reduce(t) or"
                                    " chain(reduce(t), group(G))")
        if self.paper is not None and not isinstance(self.paper, Paper):
            raise InvalidValueError(f"Module paper = {shown(self.paper)}: expected a Paper or None")
        if not (isinstance(self.aliases, tuple) and all(isinstance(a, str) for a in self.aliases)):
            raise InvalidValueError(f"Module aliases = {shown(self.aliases)}: expected a tuple of names")
        object.__setattr__(self, "parameters", parameter_defaults(self.parameters))
        object.__setattr__(self, "example", check_values(self.example))

    def block(self) -> Block:
        """The layers that replace the standard convolution, as a tree."""
        return self.rule(standard())

    def layers(self) -> list[Layer]:
        """The layers in order (parallel branches one after the other)."""
        return list(iter_layers(self.block()))

    @cached_property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """The symbols the module's cost depends on, in the order of ``SYMBOLS``: the sizes
        K, M, N, I and the module's own parameters.

        >>> module("bottleneck").symbols, module("depthwise-separable").symbols
        ((K, M, N, I, t), (K, M, N, I))
        """
        used = {K, M, N, I} | set(self.parameters) | free_symbols(self.block())
        return tuple(s for s in SYMBOLS.values() if s in used)

    def __repr__(self) -> str:
        return f"Module({self.name!r}, {self.rule!r})"


#: The sizes of a composed module's example unless it is given one: ResNet's 56 x 56
#: stage, the bottleneck's example.
COMPOSED_EXAMPLE: Mapping[sympy.Symbol, Number] = {K: 3, M: 256, N: 256, I: 56}


def free_symbols(block: Block) -> set[sympy.Symbol]:
    """The symbols a block is built from."""
    return set().union(*(getattr(v, "free_symbols", set()) for _, v in size_fields(block)))


def parameter_defaults(parameters: Mapping[Any, Any]) -> dict[sympy.Symbol, Optional[Number]]:
    """A module's parameters: each the library's symbol (by name), its default None or an exact
    number checked against the table of valid values.

    >>> parameter_defaults({"t": 0.1, G: None})
    {t: Fraction(1, 10), G: None}
    >>> parameter_defaults({"t": "__import__('os')"})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot read "__import__('os')" as an expression: only numbers, the symbols K M N I F G t p k alpha rho H W r s B, + - * / ** and parentheses are allowed
    """
    if not isinstance(parameters, Mapping):
        raise InvalidValueError(f"parameters = {shown(parameters)}: expected a mapping of symbols to default values")
    out: dict[sympy.Symbol, Optional[Number]] = {}
    for key, default in parameters.items():
        s = symbol(key)
        if s in out:
            raise InvalidValueError(f"{s} is given twice")
        out[s] = None if default is None else cast(Number, check(s.name, default, symbolic=False))
    return out


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
        aliases=("group-convolution", "grouped"),
        activations="ReLU after every convolution, the grouped ones included; no batch norm (AlexNet "
                    "predates it; local response normalization follows its first two convolutions).",
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
        aliases=("stack", "stacked"),
        activations="ReLU after each of the stacked k x k convolutions: the stack brings (K-1)/(k-1) "
                    "rectifications where the K x K kernel has one, which the paper counts as an "
                    "advantage; no batch norm in the original VGG.",
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
        aliases=("factorised", "asymmetric"),
        activations="Batch norm and ReLU after both the K x 1 and the 1 x K convolution (every Inception "
                    "V3 convolution is conv, batch norm, ReLU); the paper found a linear activation "
                    "between the factors inferior to ReLU.",
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
        aliases=("fire-module",),
        activations="ReLU after the 1 x 1 squeeze and after each expand branch (1 x 1 and K x K), before "
                    "they are concatenated; no batch norm.",
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
        aliases=("resnet-bottleneck",),
        activations="Batch norm and ReLU after the first 1 x 1 and after the K x K convolution; the last "
                    "1 x 1 has batch norm only, and the ReLU comes after the residual addition.",
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
        activations="As in the bottleneck: batch norm and ReLU after the 1 x 1 reduction and after the "
                    "grouped K x K convolution, batch norm only after the last 1 x 1, ReLU after the "
                    "residual addition.",
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
        aliases=("separable", "dw-separable"),
        activations="Batch norm and ReLU after both the depthwise and the pointwise convolution (the "
                    "paper's Figure 3; its reference code uses ReLU6).",
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
        activations="No activation between the pointwise and the depthwise convolution: the paper found "
                    "that leaving it out converges faster and ends more accurate. In the network, batch "
                    "norm follows each separable convolution and ReLU comes before it.",
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
        aliases=("shuffle", "channel-shuffle"),
        activations="Batch norm after each of the three convolutions; ReLU after the first group 1 x 1 "
                    "only (before the shuffle), none after the depthwise convolution (following "
                    "Xception), and ReLU after the residual addition.",
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
        aliases=("inverted-residual", "inverted"),
        activations="Batch norm and ReLU6 after the 1 x 1 expansion and after the depthwise K x K; the 1 "
                    "x 1 projection is linear, batch norm and no activation (the linear bottleneck), and "
                    "no activation follows the residual addition.",
        example={K: 3, M: 64, N: 64, I: 14},
    ),
)

#: The modules that came after the article (2017 on), from the same primitives.
LATER_MODULES: tuple[Module, ...] = (
    Module(
        "squeeze-excitation", excite(r), {r: 16},
        title="squeeze-and-excitation", network="SENet",
        paper=Paper("Squeeze-and-Excitation Networks", "Hu, Shen, Sun", 2018),
        article="(K*K*M*N) -> (K*K*M*N), and N*N/r + N/r*N once per image (at 1 x 1)",
        summary="The convolution's N outputs are scaled, channel by channel, by a gate: a global "
                "average pool to 1 x 1, a 1 x 1 squeeze to N/r channels and a 1 x 1 excitation back "
                "to N. The gate works on one position, so its cost does not grow with I.",
        aliases=("se", "squeeze-and-excitation", "squeeze-excite"),
        example={K: 3, M: 256, N: 256, I: 56},
    ),
    Module(
        "mbconv", chain(expand(t), depthwise(), excite(r)), {t: 6, r: 24},
        title="inverted bottleneck with squeeze-and-excitation", network="EfficientNet, MobileNet V3",
        paper=Paper("EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", "Tan, Le", 2019),
        article="(K*K*M*N) -> (M*t*M + K*K*t*M + t*M*N), and 2*t*M*t*M/r once per image, t = 6, r = 24",
        summary="MobileNet V2's inverted bottleneck with a squeeze-and-excitation gate on the "
                "depthwise convolution's tM outputs. EfficientNet squeezes to a quarter of the block's "
                "input, M/4 = tM/r at r = 4t (24 at t = 6); MobileNet V3 to a quarter of the expanded "
                "width, r = 4, rounded to a multiple of 8.",
        aliases=("mobile-inverted-bottleneck",),
        example={K: 5, M: 40, N: 40, I: 28},
    ),
    Module(
        "shufflenet-v2", chain(split(), reduce(1), depthwise()), {},
        title="channel split and shuffle", network="ShuffleNet V2",
        paper=Paper("ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
                    "Ma, Zhang, Zheng, Sun", 2018),
        article="(K*K*M*N) -> (M/2*N/2 + K*K*N/2 + N/2*N/2), M = N",
        summary="Half of the M input channels pass untouched; the other half goes through a 1 x 1, a "
                "depthwise K x K and a 1 x 1 convolution, all at the same width; the halves are "
                "concatenated and shuffled, so the next unit splits a different half. No group "
                "convolution and equal widths: the paper's guidelines for memory access.",
        aliases=("shufflenet-v2-unit", "channel-split"),
        example={K: 3, M: 116, N: 116, I: 28},
    ),
    Module(
        "convnext", chain(separate(), widen(t), layer_norm(), layer_scale()), {t: 4},
        title="ConvNeXt block", network="ConvNeXt",
        paper=Paper("A ConvNet for the 2020s", "Liu, Mao, Wu, Feichtenhofer, Darrell, Xie", 2022),
        article="(K*K*M*N) -> (K*K*M + M*t*M + t*M*N), K = 7, t = 4",
        summary="A depthwise K x K convolution (7 x 7) with layer norm after it, then a 1 x 1 "
                "expansion to tM channels and a 1 x 1 projection to N, the transformer's MLP, and "
                "a learned scale per output channel.",
        aliases=("convnext-block", "cnblock"),
        example={K: 7, M: 96, N: 96, I: 56},
    ),
    Module(
        "ghost", ghost(s), {s: 2},
        title="Ghost module", network="GhostNet",
        paper=Paper("GhostNet: More Features from Cheap Operations", "Han, Wang, Tian, Guo, Xu, Xu", 2020),
        article="(K*K*M*N) -> (K*K*M*N/s + d*d*(s-1)*N/s), d = 3",
        summary="The convolution makes only N/s of the N maps; a cheap 3 x 3 convolution in N/s "
                "groups makes the other (s - 1)N/s from them ('ghosts'), and the two sets are "
                "concatenated.",
        aliases=("ghost-module",),
        example={K: 3, M: 64, N: 64, I: 56},
    ),
    Module(
        "dense-layer", chain(dense(), squeeze(t)), {t: Fraction(1, 4)},
        title="dense layer", network="DenseNet",
        paper=Paper("Densely Connected Convolutional Networks", "Huang, Liu, van der Maaten, Weinberger", 2017),
        article="(K*K*M*N) -> (M*N/t + K*K*N/t*N), t = 1/4; output M + N",
        summary="A 1 x 1 bottleneck to N/t = 4N channels, then the K x K convolution to the growth "
                "rate N; the new N channels are concatenated to the M of the input, so a block's "
                "width grows by N with every layer.",
        aliases=("dense", "dense-block", "densenet-layer"),
        example={K: 3, M: 256, N: 32, I: 28},
    ),
)

#: From convolution to attention (2020 on): the image cut into tiles, the tokens mixed by attention, in the
#: same primitives (``patchify``, ``attend``, ``linear_attention``). A transformer block is ConvNeXt's with its
#: depthwise K x K replaced: attention mixes the tokens, the MLP (``widen``) the channels.
ATTENTION_MODULES: tuple[Module, ...] = (
    Module(
        "patch-embedding", patchify(), {},
        title="patch embedding", network="ViT, Swin",
        paper=Paper("An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
                    "Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, "
                    "Gelly, Uszkoreit, Houlsby", 2020),
        article="(K*K*M*N*I*I) -> (K*K*M*N*(I/K)*(I/K)), stride K",
        summary="The image is cut into K x K tiles (patches) and one linear layer maps each tile's K*K*M values "
                "to N channels: a K x K convolution of stride K, which visits a K-th of the positions along "
                "each side. ViT's tokens are these tiles (K = 16); Swin's patch merging is the same at K = 2.",
        aliases=("patchify", "patch-embed", "patch-merging"),
        activations="No activation: ViT adds the position embedding (and the class token) to the tiles' "
                    "outputs; Swin puts layer norm after them.",
        example={K: 16, M: 3, N: 768, I: 224},
    ),
    Module(
        "self-attention", chain(separate(), widen(t), attend(G)), {t: 4, G: 12},
        title="transformer block (global self-attention)", network="ViT",
        paper=Paper("Attention Is All You Need", "Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser, "
                    "Polosukhin", 2017),
        article="(K*K*M*N*I*I) -> (4*M*M*I*I + 2*I*I*I*I*M + M*t*M*I*I + t*M*N*I*I), t = 4",
        summary="ConvNeXt's block with its depthwise K x K convolution replaced by self-attention over the I*I "
                "tokens: queries, keys, values and the output projection are four linear layers (4M**2 a "
                "token); every token is compared with every other and the values summed by the scores "
                "(I**2 * I**2 * M twice), the G heads grouping the channels of those two products (h heads of "
                "M/h channels: the same MACs, G score matrices); then the MLP, 1 x 1 up to tM and back to N.",
        aliases=("attention", "msa", "transformer", "transformer-block", "vit-block"),
        activations="Layer norm before the attention and before the MLP (each in a residual sum); the softmax "
                    "over the scores and the scaling by 1/sqrt(M/G) are not counted, like activations; GELU "
                    "between the MLP's two layers.",
        example={K: 3, M: 768, N: 768, I: 14},
    ),
    Module(
        "window-attention", chain(separate(), widen(t), attend(G, window=True)), {t: 4, G: 3},
        title="window attention", network="Swin",
        paper=Paper("Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
                    "Liu, Lin, Cao, Hu, Wei, Zhang, Lin, Guo", 2021),
        article="(K*K*M*N*I*I) -> (4*M*M*I*I + 2*K*K*I*I*M + M*t*M*I*I + t*M*N*I*I), t = 4",
        summary="Self-attention within non-overlapping K x K windows (Swin's M x M, M = 7): the tokens are split "
                "into I*I/K**2 groups as group convolution splits the channels, and each token is compared "
                "with the K**2 of its window only, so the cost is linear in the image's area; every second "
                "block shifts the windows by K/2 (no cost) so that information crosses them. The relative "
                "position bias adds (2K - 1)**2 * G parameters.",
        aliases=("w-msa", "swin", "swin-block", "shifted-window-attention"),
        activations="As in the transformer block: layer norm before the attention and the MLP, GELU in the "
                    "MLP; the softmax, the scaling, the position bias and the shifted windows' mask are additions "
                    "and exponentials, not counted.",
        example={K: 7, M: 96, N: 96, I: 56},
    ),
    Module(
        "mobilevit", mobilevit(G, k, t), {G: 4, k: 2, t: 2},
        title="MobileViT block", network="MobileViT",
        paper=Paper("MobileViT: Light-weight, General-purpose, and Mobile-friendly Vision Transformer",
                    "Mehta, Rastegari", 2021),
        article="(K*K*M*N*I*I) -> (K*K*M*M*I*I + M*N*I*I + 4*N*N*I*I + 2*I*I*(I*I/(k*k))*N + 2*t*N*N*I*I"
                " + N*N*I*I + K*K*(M + N)*N*I*I), k = 2",
        summary="Global attention between local convolutions: a K x K convolution and a 1 x 1 to the "
                "transformer's N channels, the map unfolded into k x k patches so that each token attends "
                "to the I*I/k**2 tokens at its place in every patch (k**2 sequences: the n**2 term divided "
                "by k**2, a grouping of the tokens across the patches where windows group them within), the "
                "MLP, a 1 x 1 back, and a K x K convolution fusing the result with the input.",
        aliases=("mobilevit-block", "mobilevit-v1"),
        activations="Batch norm and SiLU after the convolutions; layer norm before the attention and the "
                    "MLP (SiLU between its layers) and after the transformer; the unfolding and folding are "
                    "reshapes, no MACs.",
        example={K: 3, M: 96, N: 96, I: 32},
    ),
    Module(
        "separable-attention", chain(separate(), widen(t), linear_attention()), {t: 2},
        title="separable self-attention", network="MobileViT V2",
        paper=Paper("Separable Self-attention for Mobile Vision Transformers", "Mehta, Rastegari", 2022),
        article="(K*K*M*N*I*I) -> (M*(3*M + 1)*I*I + M*t*M*I*I + t*M*N*I*I), t = 2",
        summary="Attention without the n x n scores: a 1 x 1 layer gives each token one context score, the "
                "softmax of the I*I scores weighs the keys into one context vector, which scales every "
                "token's value before the output projection. Each token meets a summary of all the others, "
                "not each of them: the I**4 term of self-attention is gone and the cost is linear in the area.",
        aliases=("linear-attention", "mobilevit-v2", "mobilevitv2"),
        activations="ReLU on the values before the context scales them; the softmax and the two elementwise "
                    "products (n*M each) are not counted, as FlopCounterMode counts them not.",
        example={K: 3, M: 256, N: 256, I: 16},
    ),
)


def check_used(given: Mapping[sympy.Symbol, Any], *modules: Module) -> None:
    """Refuse a value for a symbol that none of ``modules`` uses (alpha and rho, which scale
    the sizes, every module uses).

    >>> check_used({k: 3}, module("bottleneck"))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: k = 3: bottleneck does not use k; its symbols: K M N I t (and alpha, rho, which scale M, N and I)
    >>> check_used({t: 2}, module("group"), module("depthwise-separable"))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: t = 2: neither group nor depthwise-separable uses t; their symbols: K M N I G (and alpha, rho, which scale M, N and I)
    """
    if not given:
        return
    used = {s for m in modules for s in m.symbols} | {alpha, rho}
    for s, value in given.items():
        if s in used:
            continue
        names = [m.name for m in dict.fromkeys(modules)]
        whose = (f"{names[0]} does not use {s}; its" if len(names) == 1
                 else f"neither {' nor '.join(names)} uses {s}; their")
        symbols = " ".join(str(x) for x in SYMBOLS.values() if x in used - {alpha, rho})
        raise InvalidValueError(f"{s} = {text(value)}: {whose} symbols: {symbols} "
                                "(and alpha, rho, which scale M, N and I)")
