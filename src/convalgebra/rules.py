"""The primitive rewrites of a convolution, and the combinator that chains them.

The article's conclusion: every module splits the kernel (rows and columns, the
channel dimension, into pieces in series) or groups the kernels. Each primitive here
is one such move, a rule held as data: which convolutions it matches (``on``) and
what each one becomes. A rule maps a block to a block, so rules chain.

>>> from convalgebra.symbols import K, M, N, I, G, t
>>> from convalgebra.layers import Conv
>>> from convalgebra.cost import total
>>> standard = Conv(M, N, (K, K))
>>> total(group(G)(standard), I)
(I**2*K**2*M*N/G, K**2*M*N/G)
>>> resnext = chain(reduce(t), group(G))
>>> resnext
chain(reduce(t), group(G))
>>> [(c.kernel, c.in_channels, c.out_channels, c.groups) for c in iter_layers(resnext(standard))]
[((1, 1), M, N/t, 1), ((K, K), N/t, N/t, G), ((1, 1), N/t, N, 1)]
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Literal, Union, cast

from .errors import InvalidValueError
from .blocks import Block, Parallel, Repeat, Scale, Series, check_block, iter_layers, map_layers, transform
from .layers import (AdaptivePool, Attention, Conv, Identity, LayerNorm, LayerScale, LinearAttention, PatchMerge, Shuffle,
                     Slice, Value, channels_per_group, exact_div, is_concrete)
from .symbols import one_of
from .validation import check

__all__ = [
    "Rewrite", "Chain", "Rule", "chain",
    "group", "stack", "factorize", "separate", "depthwise",
    "reduce", "expand", "squeeze", "mix", "shuffle", "parse_rule",
    "excite", "split", "widen", "layer_norm", "layer_scale", "ghost", "dense", "se_gate",
    "patchify", "attend", "linear_attention", "mobilevit",
]

#: The most layers a rewrite makes (a module has tens; explaining a thousand takes seconds).
MOST_LAYERS = 1000

Target = Literal["spatial", "pointwise", "any"]
Which = Literal["all", "first", "last"]


@dataclass(frozen=True)
class Rewrite:
    """A rule: the convolutions it matches, and what each becomes.

    ``on`` picks spatial (larger than 1 x 1), pointwise (1 x 1) or any convolutions;
    ``which`` keeps all of them, or only the first or last in the block's order. ``name``
    is the call that builds the rule, so its repr can be read back:

    >>> stack(3, on="pointwise"), group(2, which="first"), mix(Fraction(1, 3))
    (stack(3, on='pointwise'), group(2, which='first'), mix('1/3'))
    """

    name: str
    replace: Callable[[Conv], Block] = field(repr=False, compare=False)
    on: Target = "spatial"
    which: Which = "all"
    summary: str = ""

    def __call__(self, block: Block) -> Block:
        layers = list(iter_layers(check_block(block, self.name)))
        matches = [i for i, layer in enumerate(layers) if self._matches(layer)]
        if not matches:
            raise InvalidValueError(f"{self.name} finds no {self.on} convolution to rewrite")
        chosen = set({"all": matches, "first": matches[:1], "last": matches[-1:]}[self.which])
        made = self._replaced(cast(Conv, layers[min(chosen)]))
        self._bounded(len(layers), len(layers) + len(chosen) * (sum(1 for _ in iter_layers(made)) - 1))
        place = iter(range(len(layers) + 1))
        # a repeated convolution repeats its whole replacement (it stays inside its Repeat)
        out = _tidy(map_layers(block, lambda layer: self._replaced(cast(Conv, layer))
                               if next(place) in chosen and isinstance(layer, Conv) else layer))
        self._bounded(len(layers), sum(1 for _ in iter_layers(out)))
        return out

    def _replaced(self, conv: Conv) -> Block:
        """What ``conv`` becomes; each convolution made must split its channels into whole
        groups wherever the sizes are numbers (ghost on a depthwise convolution cannot)."""
        made = self.replace(conv)
        try:
            for layer in iter_layers(made):
                if isinstance(layer, Conv) and layer.groups != 1:
                    layer.fan_in()
                    channels_per_group(layer.out_channels, layer.groups, "output")
        except InvalidValueError as error:
            raise InvalidValueError(f"{self.name} cannot rewrite {conv!r}: {error}") from None
        return made

    def _bounded(self, before: int, after: int) -> None:
        if after > MOST_LAYERS and after > before:
            raise InvalidValueError(
                f"{self.name} would make a block of {after} layers from one of {before}; a rewrite makes at most"
                f" {MOST_LAYERS} (a rule on='any' rewrites the convolutions the rules before it made, so a chain"
                f" of them grows geometrically)")

    def _matches(self, layer: Any) -> bool:
        if not isinstance(layer, Conv):
            return False
        if self.on == "any":
            return True
        return layer.is_pointwise == (self.on == "pointwise")

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Chain:
    """Rules applied one after another, left to right."""

    rules: tuple[Rule, ...]

    def __call__(self, block: Block) -> Block:
        for rule in self.rules:
            block = rule(block)
        return block

    @property
    def name(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        return f"chain({', '.join(map(repr, self.rules))})"


Rule = Union[Rewrite, Chain]


def chain(*rules: Rule) -> Chain:
    """Compose rules: ``chain(a, b)(block) == b(a(block))``.

    >>> chain(reduce(4), group(32))
    chain(reduce(4), group(32))
    """
    flat: list[Rule] = []
    for rule in rules:
        if not isinstance(rule, (Rewrite, Chain)):
            raise InvalidValueError(f"{rule!r} is not a rule; expected rewrites such as group(G) or reduce(t)")
        flat.extend(rule.rules if isinstance(rule, Chain) else (rule,))
    return Chain(tuple(flat))


def _tidy(block: Block) -> Block:
    """Series inside Series is one level (after a rewrite put a series where a layer was)."""
    return transform(block, lambda layer: layer, _flatten)


def _flatten(block: Block) -> Block:
    if not isinstance(block, Series):
        return block
    return Series(*(part for item in block.items for part in (item.items if isinstance(item, Series) else (item,))))


def _on(on: Target) -> Target:
    return cast(Target, one_of(on, ("spatial", "pointwise", "any"), "on"))


def _which(which: Which) -> Which:
    return cast(Which, one_of(which, ("all", "first", "last"), "which"))


def _argument(name: str, value: Any) -> Value:
    """A rule's argument, exact and checked against the table of valid values (G and k whole,
    t > 0, p a share): a number, text read without eval, or an expression in the library's symbols.

    >>> _argument("p", 0.25), _argument("G", "2"), _argument("p", "1/3"), _argument("t", "N/8")
    (Fraction(1, 4), 2, Fraction(1, 3), N/8)
    >>> _argument("G", 0)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: G = 0: expected a whole number >= 1
    """
    return check(name, value)


def _construction(function: str, args: tuple[Any, ...], keywords: dict[str, Any],
                  defaults: dict[str, Any]) -> str:
    """The call that builds a rule: its arguments, then every keyword off its default.
    A fraction is written as text the rule reads back exactly (``'1/3'``, not 1/3, a float).

    >>> _construction("mix", (Fraction(1, 3),), {"on": "any"}, {"on": "spatial"})
    "mix('1/3', on='any')"
    """
    def shown(value: Any) -> str:
        if isinstance(value, Fraction):
            return repr(str(value))
        if hasattr(value, "free_symbols"):
            from .printing import text

            return text(value)
        return repr(value)

    parts = [shown(a) for a in args] + [f"{k}={v!r}" for k, v in keywords.items() if v != defaults[k]]
    return f"{function}({', '.join(parts)})"


def group(G: Value, on: Target = "spatial", which: Which = "all") -> Rewrite:
    """Group the kernels: split the channels into G groups (the article's M -> M/G).

    >>> from convalgebra.symbols import M, N, K, G
    >>> group(G)(Conv(M, N, (K, K))).groups
    G
    """
    G, on, which = _argument("G", G), _on(on), _which(which)
    return Rewrite(
        _construction("group", (G,), {"on": on, "which": which}, {"on": "spatial", "which": "all"}),
        lambda c: replace(c, groups=c.groups * G), on, which,
        "split the input channels into G groups; each kernel sees M/G of them",
    )


def stack(k: Value, on: Target = "spatial") -> Rewrite:
    """Split in series: a K x K kernel becomes (K-1)/(k-1) stacked k x k kernels (VGG).

    >>> from convalgebra.symbols import M, N
    >>> stack(3)(Conv(M, N, (7, 7)))
    Series(items=(Conv(M, N, (3, 3), padding='same', bias=False), Repeat(body=Conv(N, N, (3, 3), padding='same', bias=False), count=2)))

    A stack's kernel is one a network could use (the table of valid values: at most 1000):
    past that, the count of a symbolic K x K, (K - k)/(k - 1), would be negative at every real kernel.

    >>> stack(10**60)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: k = 1000000000000000000000000000000000000000000000000000000000000: a stack of 1 x 1 kernels grows no receptive field, and no network has a kernel larger than 1000; expected a whole number from 2 to 1000
    """
    k = _argument("k", k)

    def replace_(c: Conv) -> Block:
        size, width = c.kernel
        if size != width:
            raise InvalidValueError(f"stack needs a square kernel, not {size}x{width}")
        more = (size - k) / (k - 1) if not (is_concrete(size) and is_concrete(k)) else _whole_count(size, k)
        first = replace(c, kernel=(k, k))
        if more == 0:
            return first
        return Series(first, Repeat(replace(c, in_channels=c.out_channels, kernel=(k, k)), more))

    return Rewrite(_construction("stack", (k,), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "replace the K x K kernel by (K-1)/(k-1) k x k kernels in series")


def _whole_count(size: Value, k: Value) -> int:
    layers = Fraction(int(size) - 1, int(k) - 1)
    if layers.denominator != 1 or layers < 1:
        raise InvalidValueError(
            f"a {size}x{size} kernel is not a stack of {k}x{k} kernels: (K-1)/(k-1) = {layers}"
        )
    return int(layers) - 1


def factorize(on: Target = "spatial") -> Rewrite:
    """Split rows and columns: K x K becomes K x 1 then 1 x K (Inception V2).

    >>> from convalgebra.symbols import M, N, K
    >>> [c.kernel for c in iter_layers(factorize()(Conv(M, N, (K, K))))]
    [(K, 1), (1, K)]
    """

    def replace_(c: Conv) -> Block:
        kh, kw = c.kernel
        return Series(replace(c, kernel=(kh, 1)), replace(c, in_channels=c.out_channels, kernel=(1, kw)))

    return Rewrite(_construction("factorize", (), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "convolve the rows with a K x 1 kernel, then the columns with 1 x K")


def separate(order: Literal["depthwise-first", "pointwise-first"] = "depthwise-first",
             on: Target = "spatial") -> Rewrite:
    """Split off the channel dimension: a depthwise K x K and a pointwise 1 x 1.

    ``depthwise-first`` is MobileNet's order; ``pointwise-first`` is Xception's.

    >>> from convalgebra.symbols import M, N, K
    >>> [(c.kernel, c.groups) for c in iter_layers(separate()(Conv(M, N, (K, K))))]
    [((K, K), M), ((1, 1), 1)]
    >>> [(c.kernel, c.groups) for c in iter_layers(separate("pointwise-first")(Conv(M, N, (K, K))))]
    [((1, 1), 1), ((K, K), N)]
    """
    one_of(order, ("depthwise-first", "pointwise-first"), "order")

    def replace_(c: Conv) -> Block:
        if order == "depthwise-first":
            return Series(
                replace(c, out_channels=c.in_channels, groups=c.in_channels),
                replace(c, kernel=(1, 1), stride=1, padding="same"),
            )
        return Series(
            replace(c, kernel=(1, 1), stride=1, padding="same"),
            replace(c, in_channels=c.out_channels, groups=c.out_channels),
        )

    return Rewrite(_construction("separate", (), {"order": order, "on": _on(on)},
                                 {"order": "depthwise-first", "on": "spatial"}), replace_, on, "all",
                   "factor the channel dimension out of the kernel: depthwise K x K and pointwise 1 x 1")


def depthwise(on: Target = "spatial") -> Rewrite:
    """Make a convolution depthwise: one filter per channel (groups = channels).

    >>> from convalgebra.symbols import M, K
    >>> depthwise()(Conv(M, M, (K, K))).groups
    M
    """

    def replace_(c: Conv) -> Block:
        if c.in_channels != c.out_channels:
            raise InvalidValueError(
                f"depthwise needs as many output channels as input channels, not {c.in_channels} -> {c.out_channels}"
            )
        return replace(c, groups=c.in_channels)

    return Rewrite(_construction("depthwise", (), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "one K x K filter per channel")


def _wrap(c: Conv, width: Value) -> Block:
    return Series(
        Conv(c.in_channels, width, (1, 1)),
        replace(c, in_channels=width, out_channels=width),
        Conv(width, c.out_channels, (1, 1)),
    )


def reduce(t: Value, on: Target = "spatial") -> Rewrite:
    """Pointwise reduce: 1 x 1 down to N/t channels, the convolution there, 1 x 1 up to N (ResNet).

    >>> from convalgebra.symbols import M, N, K, t
    >>> [(c.in_channels, c.out_channels) for c in iter_layers(reduce(t)(Conv(M, N, (K, K))))]
    [(M, N/t), (N/t, N/t), (N/t, N)]
    """
    t = _argument("t", t)
    return Rewrite(_construction("reduce", (t,), {"on": _on(on)}, {"on": "spatial"}),
                   lambda c: _wrap(c, exact_div(c.out_channels, t)), on, "all",
                   "1 x 1 down to N/t channels, the convolution at that width, 1 x 1 back up to N")


def expand(t: Value, on: Target = "spatial") -> Rewrite:
    """Pointwise expand: 1 x 1 up to t*M channels, the convolution there, 1 x 1 to N (MobileNet V2).

    >>> from convalgebra.symbols import M, N, K, t
    >>> [(c.in_channels, c.out_channels) for c in iter_layers(expand(t)(Conv(M, N, (K, K))))]
    [(M, M*t), (M*t, M*t), (M*t, N)]
    """
    t = _argument("t", t)
    return Rewrite(_construction("expand", (t,), {"on": _on(on)}, {"on": "spatial"}),
                   lambda c: _wrap(c, t * c.in_channels), on, "all",
                   "1 x 1 up to t*M channels, the convolution at that width, 1 x 1 down to N")


def squeeze(t: Value, on: Target = "spatial") -> Rewrite:
    """Pointwise squeeze: 1 x 1 down to N/t channels, then the convolution from there (SqueezeNet).

    >>> from convalgebra.symbols import M, N, K, t
    >>> [(c.kernel, c.in_channels, c.out_channels) for c in iter_layers(squeeze(t)(Conv(M, N, (K, K))))]
    [((1, 1), M, N/t), ((K, K), N/t, N)]
    """
    t = _argument("t", t)

    def replace_(c: Conv) -> Block:
        width = exact_div(c.out_channels, t)
        return Series(Conv(c.in_channels, width, (1, 1)), replace(c, in_channels=width))

    return Rewrite(_construction("squeeze", (t,), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "1 x 1 down to N/t channels first")


def mix(p: Value, on: Target = "spatial") -> Rewrite:
    """Group the kernels by size: (1-p)*N of them shrink to 1 x 1, p*N stay K x K, side by side.

    >>> from convalgebra.symbols import M, N, K, p
    >>> [(c.kernel, c.out_channels) for c in iter_layers(mix(p)(Conv(M, N, (K, K))))]
    [((1, 1), N*(1 - p)), ((K, K), N*p)]
    >>> mix(0)(Conv(M, N, (K, K)))  # all 1 x 1: no branch of zero kernels
    Conv(M, N, (1, 1), padding='same', bias=False)
    """
    p = _argument("p", p)

    def replace_(c: Conv) -> Block:
        if is_concrete(p) and p in (0, 1):  # a share of none: one kind of kernel, no empty branch
            return c if p == 1 else replace(c, kernel=(1, 1), stride=1, padding="same")
        ones = replace(c, kernel=(1, 1), out_channels=(1 - p) * c.out_channels, stride=1, padding="same")
        return Parallel(ones, replace(c, out_channels=p * c.out_channels))

    return Rewrite(_construction("mix", (p,), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "(1-p)*N of the kernels become 1 x 1; p*N stay K x K; outputs concatenated")


def shuffle(G: Value, on: Target = "pointwise", which: Which = "first") -> Rewrite:
    """Insert a channel shuffle of G groups after the matched convolution (zero MACs).

    >>> from convalgebra.symbols import M, N, G
    >>> [type(x).__name__ for x in iter_layers(shuffle(G)(Conv(M, N, (1, 1))))]
    ['Conv', 'Shuffle']
    """
    G = _argument("G", G)
    return Rewrite(_construction("shuffle", (G,), {"on": _on(on), "which": _which(which)},
                                 {"on": "pointwise", "which": "first"}),
                   lambda c: Series(c, Shuffle(c.out_channels, G)), on, which,
                   "permute the channels so the next grouped layer mixes every group")


# -- the later modules' moves: squeeze-and-excitation, the channel split, the MLP, normalization
# -- and layer scale, Ghost maps, dense connectivity ---------------------------------------------

def se_gate(channels: Value, r: Value) -> Block:
    """Squeeze-and-excitation's gate on ``channels`` channels: pool to 1 x 1, a 1 x 1 squeeze to
    channels/r, a 1 x 1 excitation back (its activations cost nothing and are left out).

    >>> from convalgebra.symbols import N, r
    >>> [(type(x).__name__, x.out_channels) for x in iter_layers(se_gate(N, r))]
    [('AdaptivePool', N), ('Conv', N/r), ('Conv', N)]
    """
    squeezed = exact_div(channels, r)
    return Series(AdaptivePool(channels), Conv(channels, squeezed, (1, 1)), Conv(squeezed, channels, (1, 1)))


def excite(r: Value, on: Target = "spatial", which: Which = "all") -> Rewrite:
    """Squeeze-and-excitation after the matched convolution: its N outputs scaled by a gate
    that pools them to 1 x 1, squeezes to N/r and excites back (Hu et al.).

    >>> from convalgebra.symbols import M, N, K, I, r
    >>> from convalgebra.cost import total
    >>> total(excite(r)(Conv(M, N, (K, K))), I)[0]
    I**2*K**2*M*N + 2*N**2/r
    """
    r, on, which = _argument("r", r), _on(on), _which(which)
    return Rewrite(_construction("excite", (r,), {"on": on, "which": which}, {"on": "spatial", "which": "all"}),
                   lambda c: Series(c, Scale(se_gate(c.out_channels, r))), on, which,
                   "scale the N outputs by a gate: pool to 1 x 1, 1 x 1 down to N/r, 1 x 1 back up to N")


def split(on: Target = "spatial") -> Rewrite:
    """ShuffleNet V2's channel split: half the M input channels pass untouched, the convolution
    works on the other half (making N - M/2), the halves are concatenated and shuffled in 2.

    >>> from convalgebra.symbols import M, N, K
    >>> [(type(x).__name__, x.in_channels, x.out_channels) for x in iter_layers(split()(Conv(M, N, (K, K))))]
    [('Slice', M, M/2), ('Slice', M, M/2), ('Conv', M/2, -M/2 + N), ('Shuffle', N, N)]
    """
    def replace_(c: Conv) -> Block:
        half = exact_div(c.in_channels, 2)
        return Series(Parallel(Slice(c.in_channels, 0, half),
                               Series(Slice(c.in_channels, half, c.in_channels),
                                      replace(c, in_channels=half, out_channels=c.out_channels - half))),
                      Shuffle(c.out_channels, 2))

    on = _on(on)
    return Rewrite(_construction("split", (), {"on": on}, {"on": "spatial"}), replace_, on, "first",
                   "half the channels pass untouched; the convolution works on the other half; concatenate, shuffle")


def widen(t: Value, on: Target = "pointwise") -> Rewrite:
    """A 1 x 1 convolution becomes two through t*M channels: up to tM, then to N (the
    transformer's MLP, ConvNeXt's inverted bottleneck after its depthwise convolution).

    >>> from convalgebra.symbols import M, N, t
    >>> [(c.in_channels, c.out_channels) for c in iter_layers(widen(t)(Conv(M, N, (1, 1))))]
    [(M, M*t), (M*t, N)]
    """
    t, on = _argument("t", t), _on(on)

    def replace_(c: Conv) -> Block:
        width = t * c.in_channels
        return Series(replace(c, out_channels=width), replace(c, in_channels=width, groups=1, stride=1, padding="same"))

    return Rewrite(_construction("widen", (t,), {"on": on}, {"on": "pointwise"}), replace_, on, "all",
                   "1 x 1 up to t*M channels, then 1 x 1 to N")


def layer_norm(on: Target = "spatial", which: Which = "all") -> Rewrite:
    """Layer normalization after the matched convolution (ConvNeXt: after its depthwise 7 x 7).

    >>> from convalgebra.symbols import M, N, K
    >>> [type(x).__name__ for x in iter_layers(layer_norm()(Conv(M, N, (K, K))))]
    ['Conv', 'LayerNorm']
    """
    on, which = _on(on), _which(which)
    return Rewrite(_construction("layer_norm", (), {"on": on, "which": which}, {"on": "spatial", "which": "all"}),
                   lambda c: Series(c, LayerNorm(c.out_channels)), on, which,
                   "normalize over the channels at each position: 2N parameters, no MACs")


def layer_scale(on: Target = "pointwise", which: Which = "last") -> Rewrite:
    """Layer scale after the matched convolution (by default the block's last 1 x 1): N learned
    factors, one per channel.

    >>> from convalgebra.symbols import M, N
    >>> [type(x).__name__ for x in iter_layers(layer_scale()(Series(Conv(M, N, (1, 1)), Conv(N, N, (1, 1)))))]
    ['Conv', 'Conv', 'LayerScale']
    """
    on, which = _on(on), _which(which)
    return Rewrite(_construction("layer_scale", (), {"on": on, "which": which}, {"on": "pointwise", "which": "last"}),
                   lambda c: Series(c, LayerScale(c.out_channels)), on, which,
                   "scale each output channel by a learned factor: N parameters, no MACs")


def ghost(s: Value, d: int = 3, on: Target = "any") -> Rewrite:
    """GhostNet's Ghost module: the convolution makes N/s primary maps, and a cheap d x d
    convolution in N/s groups makes the other (s - 1)N/s from them; the two are concatenated.

    >>> from convalgebra.symbols import M, N, K, s
    >>> [(c.kernel, c.out_channels, c.groups) for c in iter_layers(ghost(s)(Conv(M, N, (K, K))))
    ...  if isinstance(c, Conv)]
    [((K, K), N/s, 1), ((3, 3), N - N/s, N/s)]
    """
    s, on = _argument("s", s), _on(on)
    d = cast(int, check("kernel", d, "the cheap kernel d", symbolic=False))
    if d % 2 != 1:
        raise InvalidValueError(f"d = {d}: the cheap kernel is an odd whole number")

    def replace_(c: Conv) -> Block:
        primary = exact_div(c.out_channels, s)
        if is_concrete(primary) and primary == c.out_channels:  # s = 1: the convolution itself, no ghosts
            return c
        cheap = Conv(primary, c.out_channels - primary, (d, d), groups=primary)
        return Series(replace(c, out_channels=primary), Parallel(Identity(primary), cheap))

    return Rewrite(_construction("ghost", (s,), {"d": d, "on": on}, {"d": 3, "on": "any"}), replace_, on, "all",
                   "N/s maps from the convolution, the other (s - 1)N/s from a cheap depthwise d x d of them")


def dense(on: Target = "spatial") -> Rewrite:
    """DenseNet's connectivity: the M input channels are kept beside the convolution's N new
    ones (concatenated), so the output has M + N.

    >>> from convalgebra.symbols import M, N, K
    >>> from convalgebra.blocks import out_channels
    >>> out_channels(dense()(Conv(M, N, (K, K))))
    M + N
    """
    on = _on(on)
    return Rewrite(_construction("dense", (), {"on": on}, {"on": "spatial"}),
                   lambda c: Parallel(Identity(c.in_channels), c), on, "first",
                   "keep the input beside the new channels: concatenate, M + N out")


#: The constructors :func:`parse_rule` reads, by name.
_CONSTRUCTORS: dict[str, Callable[..., Rule]] = {
    "chain": chain, "group": group, "stack": stack, "factorize": factorize, "separate": separate,
    "depthwise": depthwise, "reduce": reduce, "expand": expand, "squeeze": squeeze, "mix": mix, "shuffle": shuffle,
    "excite": excite, "split": split, "widen": widen, "layer_norm": layer_norm, "layer_scale": layer_scale,
    "ghost": ghost, "dense": dense,
}
_LONGEST_RULE = 1000  # characters: far beyond any module, small enough to read at once


def parse_rule(text: str) -> Rule:
    """A rule written as its constructors, read without ``eval``: calls of the primitives and
    ``chain``, whose arguments are numbers, expressions in the library's symbols, or the
    words that ``on``, ``which`` and ``order`` take.

    >>> parse_rule("chain(reduce(4), group(32))")
    chain(reduce(4), group(32))
    >>> parse_rule("chain(expand(t), group(G, on='pointwise'), depthwise())")
    chain(expand(t), group(G, on='pointwise'), depthwise())
    >>> parse_rule("mix(0.25)") == mix("1/4")
    True
    >>> parse_rule("__import__('os').system('ls')")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot read rule "__import__('os').system('ls')": expected calls of chain, group, stack, factorize, separate, depthwise, reduce, expand, squeeze, mix, shuffle, excite, split, widen, layer_norm, layer_scale, ghost, dense, patchify, attend, linear_attention, mobilevit
    """
    from .symbols import parse_expression

    def read(node: ast.AST) -> Rule:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CONSTRUCTORS):
            raise ValueError(f"expected calls of {', '.join(_CONSTRUCTORS)}")
        build = _CONSTRUCTORS[node.func.id]
        if build is chain:
            if node.keywords:
                raise ValueError("chain takes rules only")
            return chain(*(read(arg) for arg in node.args))
        args = [argument(arg) for arg in node.args]
        keywords = {kw.arg: argument(kw.value) for kw in node.keywords if kw.arg is not None}
        if len(keywords) != len(node.keywords):
            raise ValueError("** is not read")
        try:
            return build(*args, **keywords)
        except TypeError as error:
            raise ValueError(str(error)) from None

    def argument(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, (ast.Call, ast.Starred)):
            raise ValueError("an argument is a number, an expression in the symbols, or a word such as 'pointwise'")
        return parse_expression(ast.get_source_segment(source, node) or "")  # the rule makes it exact

    if not isinstance(text, str):
        raise InvalidValueError(f"a rule is read from text, not from {type(text).__name__}")
    if len(text) > _LONGEST_RULE:
        raise InvalidValueError(f"a rule of {len(text)} characters is too long; at most {_LONGEST_RULE} are read")
    source = text.strip()
    try:
        return read(ast.parse(source, mode="eval").body)
    except (SyntaxError, ValueError, RecursionError) as error:
        reason = error.msg if isinstance(error, SyntaxError) else "too deeply nested" if isinstance(
            error, RecursionError) else str(error)
        raise InvalidValueError(f"cannot read rule {text!r}: {reason}") from None


# -- from convolution to attention: the image cut into tiles, the tokens mixed by attention ---------------

def patchify(on: Target = "spatial") -> Rewrite:
    """Cut the image into K x K tiles and apply the kernel once a tile: a K x K convolution of
    stride K (ViT's patch embedding, Swin's patch merging at K = 2). Each tile is one position of
    K**2 * M channels and a linear layer (a 1 x 1) makes its N outputs: K**2 * M * N at (I/K)**2
    positions, the K**2 of the stride-1 convolution saved.

    >>> from convalgebra.symbols import M, N, K, I
    >>> from convalgebra.cost import total
    >>> [(type(x).__name__, x.in_channels, x.out_channels) for x in iter_layers(patchify()(Conv(M, N, (K, K))))]
    [('PatchMerge', M, K**2*M), ('Conv', K**2*M, N)]
    >>> total(patchify()(Conv(M, N, (K, K))), I)
    (I**2*M*N, K**2*M*N)
    """
    def replace_(c: Conv) -> Block:
        kh, kw = c.kernel
        if kh != kw:
            raise InvalidValueError(f"patchify needs a square kernel, not {kh}x{kw}")
        return Series(PatchMerge(c.in_channels, kh), Conv(kh * kw * c.in_channels, c.out_channels, (1, 1),
                                                          groups=c.groups, bias=c.bias))

    return Rewrite(_construction("patchify", (), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "cut the input into K x K tiles, a linear layer on each: a K x K convolution of stride K")


def attend(G: Value, window: bool = False, on: Target = "spatial") -> Rewrite:
    """Replace a convolution that mixes positions channel by channel (a depthwise K x K, as
    ``separate`` makes) by multi-head self-attention with G heads: every token weighs every
    other (4*n*M**2 + 2*n**2*M on n = I**2 tokens), or, with ``window``, the K**2 tokens of its
    K x K window (4*n*M**2 + 2*n*K**2*M: Swin's windows, the kernel's K x K window made
    non-overlapping).

    >>> from convalgebra.symbols import M, K, I, G
    >>> from convalgebra.cost import total
    >>> total(attend(G)(Conv(M, M, (K, K), groups=M)), I)[0]
    2*I**4*M + 4*I**2*M**2
    >>> total(attend(G, window=True)(Conv(M, M, (K, K), groups=M)), I)[0]
    2*I**2*K**2*M + 4*I**2*M**2
    """
    G = _argument("G", G)
    if not isinstance(window, bool):
        raise InvalidValueError(f"window = {window!r}: expected True or False")

    def replace_(c: Conv) -> Block:
        if c.in_channels != c.out_channels:
            raise InvalidValueError(f"attention keeps the channels: it replaces a convolution of as many output"
                                    f" channels as input channels, not {c.in_channels} -> {c.out_channels}")
        kh, kw = c.kernel
        if window and kh != kw:
            raise InvalidValueError(f"a window is square: the kernel is {kh}x{kw}")
        return Attention(c.in_channels, G, window=kh if window else None, position_bias="table" if window else "none")

    return Rewrite(_construction("attend", (G,), {"window": window, "on": _on(on)}, {"window": False, "on": "spatial"}),
                   replace_, on, "all",
                   "self-attention in place of the convolution: G heads, every token (or its K x K window's) weighed")


def linear_attention(on: Target = "spatial") -> Rewrite:
    """Replace a convolution that mixes positions channel by channel by MobileViT V2's separable
    self-attention: one context vector from all n tokens, n*M*(3M + 1) MACs, no n**2 term.

    >>> from convalgebra.symbols import M, K, I
    >>> from convalgebra.cost import total
    >>> total(linear_attention()(Conv(M, M, (K, K), groups=M)), I)[0]
    3*I**2*M**2 + I**2*M
    """
    def replace_(c: Conv) -> Block:
        if c.in_channels != c.out_channels:
            raise InvalidValueError(f"attention keeps the channels, not {c.in_channels} -> {c.out_channels}")
        return LinearAttention(c.in_channels)

    return Rewrite(_construction("linear_attention", (), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "separable self-attention in place of the convolution: one context vector, linear in the tokens")


_CONSTRUCTORS.update({"patchify": patchify, "attend": attend, "linear_attention": linear_attention})


def mobilevit(G: Value, k: Value, t: Value, on: Target = "spatial") -> Rewrite:
    """MobileViT's block in place of a K x K convolution M -> N: a local K x K convolution, a 1 x 1 to
    the transformer's N channels, global attention between the k x k patches' tokens (the map unfolded:
    each token attends to the I**2/k**2 at its place in every patch, G heads) and the transformer's MLP
    (1 x 1 up to tN and back), a 1 x 1 to N, the input concatenated, and a K x K convolution fusing
    the M + N channels to N (Mehta and Rastegari; their transformer width is N here).

    >>> from convalgebra.symbols import M, N, K, I, G, k, t
    >>> from convalgebra.cost import total
    >>> import sympy
    >>> print(sympy.expand(total(mobilevit(G, k, t)(Conv(M, N, (K, K))), I)[0]))
    2*I**4*N/k**2 + I**2*K**2*M**2 + I**2*K**2*M*N + I**2*K**2*N**2 + I**2*M*N + 2*I**2*N**2*t + 5*I**2*N**2
    """
    G, k, t = _argument("G", G), _argument("k", k), _argument("t", t)

    def replace_(c: Conv) -> Block:
        m, n = c.in_channels, c.out_channels
        local = Series(replace(c, out_channels=m), Conv(m, n, (1, 1)), Attention(n, G, grid=k),
                       Conv(n, t * n, (1, 1)), Conv(t * n, n, (1, 1)), LayerNorm(n), Conv(n, n, (1, 1)))
        return Series(Parallel(Identity(m), local), replace(c, in_channels=m + n))

    return Rewrite(_construction("mobilevit", (G, k, t), {"on": _on(on)}, {"on": "spatial"}), replace_, on, "all",
                   "a local K x K, global attention between k x k patches, and a K x K fusing it with the input")


_CONSTRUCTORS["mobilevit"] = mobilevit
