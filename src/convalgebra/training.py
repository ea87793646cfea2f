"""Training cost: a network's forward and backward pass per layer, in closed form in the batch B.

Every other count in the library is one image's forward pass. A training step runs the
forward on a batch of B images, then the backward; the backward of a layer that multiplies
(a convolution of any kind, grouped, depthwise or transposed, and a linear layer) is two
products, each with exactly the forward's multiply-accumulates:

- the **input gradient** (what the layer passes back to the one before), computed only where
  something before the layer needs it: never for the first layer, nor for any layer before
  the first trainable one;
- the **weight gradient**, computed only for a trainable layer (not a frozen one).

Norms, activations, pooling, sums and products cost no MACs forward and none backward (the
convention of every count here, and of PyTorch's ``FlopCounterMode``). So for ResNet-18 with
everything trainable, the backward is twice the forward less the stem's input gradient:

>>> t = training_cost("resnet18", 224, batch=2)
>>> t.forward, t.backward, t.total
(3628146688, 7020265472, 10648412160)
>>> t.backward == 2 * t.forward - t.layers[0].forward
True

The batch is the symbol B unless a number is given, and the size may be symbols too: every
count is then a closed form in B, H and W (exact when H and W are multiples of the stride):

>>> from convalgebra.symbols import H, W
>>> training_cost("resnet18", (H, W)).total
106080*B*H*W + 1536000*B

The rule of thumb "training costs three forward passes" is ``(3 - epsilon) x forward``, and
epsilon is what the first layer and the frozen layers take off, in closed form:

>>> training_cost("resnet18", (H, W)).epsilon
147*H*W/(2259*H*W + 32000)

FlopCounterMode counts the same, except for a grouped convolution's weight gradient, which
it counts as if the convolution had one group (G times too many); ``docs/conventions.md``
says where each counter differs.

A step's memory is the weights, their gradients, the optimizer's state and what autograd keeps
from the forward for the backward (:attr:`TrainingCost.saved_bytes`, each layer's in
:meth:`TrainingCost.kept`), which grows with the batch; the largest batch that fits a device
is solved in closed form:

>>> adam = training_cost("resnet18", (H, W), optimizer="adam")
>>> adam.peak_bytes
440*B*H*W + 2048*B + 187070840
>>> adam.batch_that_fits(16 * 2**30)
floor(16992798344/(440*H*W + 2048))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional, Sequence, cast

from .blocks import Block, Repeat, Scale, Series, flow, iter_layers, transform
from .display import Result
from .errors import InvalidValueError, wrong_type
from .layers import Conv, ConvTranspose, Held, Layer, Linear, Size, Uncounted, Value, is_concrete, normal
from .symbols import shown
from .validation import check

if TYPE_CHECKING:  # pragma: no cover
    from .networks import Network

__all__ = ["OPTIMIZERS", "LayerTraining", "StageTraining", "TrainingCost", "training_cost", "frozen_layers"]

#: Each optimizer by name, and how many values of state it keeps per trainable parameter:
#: SGD none, SGD with momentum its velocity, Adam and AdamW the two moments.
OPTIMIZERS: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}

#: The layers whose backward costs MACs: those whose forward does.
_MULTIPLYING = (Conv, ConvTranspose, Linear)


@dataclass(frozen=True)
class LayerTraining:
    """One layer of a training step: its forward MACs on the batch, the MACs of its input
    gradient and of its weight gradient (0 where skipped), whether its parameters train
    (``trainable``), and whether its input needs a gradient (``input_needs_gradient``); and what
    autograd keeps for its backward: ``saved`` activation elements (those no layer before kept
    already), ``statistics`` (float32, batch norm's and layer norm's), ``indices`` (int64,
    max pooling's) and, under mixed precision, ``weight_copies``: autocast's copy of the layer's
    weights at 2 bytes, which the backward keeps."""

    name: str
    stage: str
    layer: Layer
    forward: Value
    input_gradient: Value
    weight_gradient: Value
    params: Value
    trainable: bool
    input_needs_gradient: bool
    saved: Value = 0
    statistics: Value = 0
    indices: Value = 0
    weight_copies: Value = 0

    @property
    def backward(self) -> Value:
        """The layer's backward MACs: input gradient plus weight gradient."""
        return _expanded(self.input_gradient + self.weight_gradient)


@dataclass(frozen=True)
class StageTraining:
    """One stage's sums over its layers: forward and backward MACs, parameters and those that train."""

    name: str
    forward: Value
    backward: Value
    params: Value
    trainable_params: Value
    layers: int
    side: bool = False

    @property
    def total(self) -> Value:
        return _expanded(self.forward + self.backward)


@dataclass(frozen=True)
class TrainingCost(Result):
    """A network's training step at an input ``size`` and a ``batch`` (a number or B): each
    layer's forward and backward MACs, each stage's, the totals, and the rule of thumb derived.

    ``skipped_input`` are the MACs of the input gradients nobody needs (the layers before the
    first trainable one), ``skipped_weight`` those of the frozen layers' weight gradients;
    ``backward = 2 x forward - skipped_input - skipped_weight``.
    """

    __view__ = "training"

    network: "Network"
    size: Size
    batch: Value
    freeze: tuple[str, ...]
    optimizer: str
    dtype: str
    layers: tuple[LayerTraining, ...]
    stages: tuple[StageTraining, ...]
    forward: Value
    backward: Value
    skipped_input: Value
    skipped_weight: Value
    params: Value
    trainable_params: Value
    trainable_tensors: int = 0
    products: Value = 0

    @property
    def total(self) -> Value:
        """Forward plus backward MACs of one training step."""
        return _expanded(self.forward + self.backward)

    @property
    def flops(self) -> Value:
        """The step's floating-point operations: 2 per multiply-accumulate."""
        return _expanded(2 * self.total)

    @property
    def epsilon(self) -> Value:
        """epsilon in ``total = (3 - epsilon) x forward``: the MACs of the gradients not computed
        over the forward's (the batch cancels): 0 if every layer computed both, 2 if all were frozen.

        >>> training_cost("resnet18", 224).epsilon      # the stem's 118,013,952 MACs over 1,814,073,344
        Fraction(28812, 442889)
        """
        return _ratio(_expanded(self.skipped_input + self.skipped_weight), self.forward)

    @property
    def epsilon_first(self) -> Value:
        """The part of epsilon from the input gradients nobody needs (the first layer's, and
        every layer's before the first trainable one)."""
        return _ratio(self.skipped_input, self.forward)

    @property
    def epsilon_frozen(self) -> Value:
        """The part of epsilon from the frozen layers' weight gradients."""
        return _ratio(self.skipped_weight, self.forward)

    @property
    def ratio(self) -> Value:
        """The step's MACs over the forward's: ``3 - epsilon``."""
        return _ratio(self.total, self.forward)

    # -- memory ------------------------------------------------------------
    @property
    def saved_elements(self) -> Value:
        """Activation elements autograd keeps for the backward: every layer's (each storage once),
        and the products' of squeeze-and-excitation's gates."""
        return _expanded(_sum(r.saved for r in self.layers) + self.products)

    @property
    def saved_bytes(self) -> Value:
        """Bytes autograd keeps for the backward: the activations at the ``dtype``, the norms'
        statistics in float32 and max pooling's indices in int64. In fp32 this is torch's figure
        (``saved_tensors_hooks``, for a model whose layers hold its activations: see
        :attr:`saved_is_exact`). Under mixed precision (bf16, fp16) the activations are at 2 bytes,
        and autocast's 2-byte copies of the convolution and linear weights are kept too: torch's
        figure under CPU autocast (bf16) for the CNNs whose every activation comes out of a
        convolution in 2 bytes (ResNet, MobileNet V2, EfficientNet, ShuffleNet V2, RegNet); not
        ConvNeXt's, whose layer norms make its residual stream float32 under autocast.

        >>> fp32, bf16 = (training_cost("resnet18", 224, 1, dtype=d) for d in ("fp32", "bf16"))
        >>> fp32.saved_bytes, bf16.saved_bytes           # bf16: the activations at 2 bytes, and the weights' copy
        (22117888, 35238784)
        """
        from .memory import dtype_bytes

        return _expanded(self.saved_elements * dtype_bytes(self.dtype) + 4 * _sum(r.statistics for r in self.layers)
                         + 8 * _sum(r.indices for r in self.layers)
                         + dtype_bytes(self.dtype) * _sum(r.weight_copies for r in self.layers))

    @property
    def weight_bytes(self) -> Value:
        """The parameters, in float32 (mixed precision's master weights too)."""
        return _expanded(4 * self.params)

    @property
    def gradient_bytes(self) -> Value:
        """One float32 gradient a trainable parameter."""
        return _expanded(4 * self.trainable_params)

    @property
    def optimizer_elements(self) -> Value:
        """The optimizer's state: none for SGD, a velocity a trainable parameter for SGD with
        momentum, two moments for Adam and AdamW and a step count a parameter tensor, as torch keeps
        them after a step."""
        per = OPTIMIZERS[self.optimizer]
        steps = self.trainable_tensors if self.optimizer in ("adam", "adamw") else 0
        return _expanded(per * self.trainable_params + steps)

    @property
    def optimizer_bytes(self) -> Value:
        return _expanded(4 * self.optimizer_elements)

    @property
    def peak_bytes(self) -> Value:
        """The memory a training step holds at its peak, by this model of it: the weights, the
        optimizer's state, every gradient and everything kept for the backward at once. (The
        backward frees what it kept as it goes while the gradients arrive, so they are not all
        there at once; the gradient of each layer's output, held while the backward passes it,
        and the allocator's slack are not in it.)"""
        return _expanded(self.weight_bytes + self.gradient_bytes + self.optimizer_bytes + self.saved_bytes)

    @property
    def saved_is_exact(self) -> bool:
        """Whether the network's layers hold its activations (a model read with ``from_torch``
        does), so that :attr:`saved_bytes` is what torch keeps. The zoo's networks leave their
        activations out (they cost no MACs), and an activation that keeps its input (ReLU6, SiLU,
        GELU, Hardswish) keeps a tensor no other layer keeps: for them :attr:`saved_bytes` falls short
        of torch's (MobileNet V2's by 31 % at 224 x 224), a lower bound but where a frozen ConvNeXt's
        linear maps, 1 x 1 convolutions in the zoo, are counted keeping their input as a
        convolution does (torch's linear layer, frozen, keeps nothing).

        >>> training_cost("vgg16", 224).saved_is_exact
        False
        """
        from .layers import Activation

        if self.uncounted:  # an operation the library does not know keeps what it keeps
            return False
        return self.network.imported or any(isinstance(r.layer, Activation) for r in self.layers)

    def kept(self, row: LayerTraining) -> Value:
        """The bytes one layer adds to what is kept for the backward."""
        from .memory import dtype_bytes

        return _expanded((row.saved + row.weight_copies) * dtype_bytes(self.dtype) + 4 * row.statistics
                         + 8 * row.indices)

    def batch_that_fits(self, memory: Any) -> Value:
        """The largest batch whose :attr:`peak_bytes` fit in ``memory`` bytes: the peak is linear in
        B, ``a B + c``, so the batch is floor((memory - c) / a), in closed form at a symbolic size.
        Needs the count at the batch B (the default).

        >>> step = training_cost("resnet18", 224)
        >>> step.batch_that_fits(16 * 2**30)               # a 16 GiB device
        773
        """
        import sympy

        from .symbols import B

        if B not in getattr(self.batch, "free_symbols", ()):
            raise InvalidValueError("the batch that fits is solved at the batch B: count with batch=B (the default)")
        memory = check("size", memory, "memory in bytes")
        peak = sympy.expand(sympy.sympify(self.peak_bytes, strict=True))
        a, c = peak.coeff(B, 1), peak.coeff(B, 0)
        if sympy.expand(a * B + c - peak) != 0 or a == 0:  # a batch such as B**2
            raise InvalidValueError("the peak memory is not linear in the batch")
        found = sympy.floor((memory - c) / a)
        if found.is_Integer:
            return max(int(found), 0)
        return found

    @property
    def uncounted(self) -> tuple[LayerTraining, ...]:
        """The layers whose MACs (forward and backward) the library does not know."""
        return tuple(row for row in self.layers if isinstance(row.layer, Uncounted))








def _expanded(value: Value) -> Value:
    """A sum of costs: a number as it is, an expression expanded (an int where it is one)."""
    if is_concrete(value):
        return normal(value)
    import sympy

    out = sympy.expand(value)
    return int(out) if out.is_Integer else out


def _ratio(part: Value, whole: Value) -> Value:
    """``part / whole`` exactly: a Fraction for numbers, a fraction in lowest terms for expressions."""
    from fractions import Fraction

    if part == 0:
        return Fraction(0) if is_concrete(whole) else 0
    if is_concrete(part) and is_concrete(whole):
        return Fraction(part, whole) if isinstance(part, int) and isinstance(whole, int) else \
            Fraction(part) / Fraction(whole)
    import sympy

    out = sympy.factor(sympy.cancel(sympy.sympify(part, strict=True) / sympy.sympify(whole, strict=True)))
    return Fraction(int(out.p), int(out.q)) if out.is_Rational else out


# -- which layers train, and which need an input gradient -----------------------------------

def _row_names(net: "Network") -> list[tuple[str, str, Layer, bool]]:
    """Every layer of the network in counting order: (its name as the network's count names it,
    its stage, the layer, whether the stage is a side one), side stages included."""
    out: list[tuple[str, str, Layer, bool]] = []
    for stage in net.stages:
        for i, layer in enumerate(iter_layers(stage.block), 1):
            name = layer.name if net.imported and layer.name else f"{stage.name}.{layer.name or i}"
            out.append((name, stage.name, layer, stage.side))
    return out


def _under(name: str, prefix: str) -> bool:
    """Whether the layer ``name`` is ``prefix`` or inside it (at a dot: ``layer1`` holds
    ``layer1.0.conv1``, not ``layer10.conv1``)."""
    return name == prefix or name.startswith(prefix + ".")


#: torchvision's top-level parts by the families that have them, for the zoo's networks, whose
#: stages are named by the papers (``stem``, ``stage1`` ...): ``features`` is everything before
#: the classifier (with DenseNet's last batch norm, torchvision's ``features.norm5``),
#: ``classifier`` (and MNASNet's ``layers``, its features) the rest, ``fc`` the last linear layer.
_FEATURES = ("alexnet", "vgg", "squeezenet", "mobilenet_v2", "mobilenet_v3", "efficientnet", "densenet", "convnext")
_TORCHVISION_PARTS: dict[str, tuple[str, ...]] = {
    "features": _FEATURES, "layers": ("mnasnet",), "classifier": _FEATURES + ("mnasnet",),
    "fc": ("resnet", "resnext", "wide_resnet", "regnet", "googlenet", "inception_v3", "shufflenet_v2"),
}


def _torchvision_part(net: "Network", prefix: str, rows: list[tuple[str, str, Layer, bool]]) -> set[int]:
    """The rows of a zoo network that torchvision's top-level part ``prefix`` holds (none if the
    network's family has no such part)."""
    renamed = _torchvision_names(net.name, prefix)
    if renamed and not net.imported:
        return {i for i, row in enumerate(rows) if any(_under(row[0], p) for p in renamed)}
    families = _TORCHVISION_PARTS.get(prefix, ())
    if net.imported or not any(net.name.startswith(family) for family in families):
        return set()
    main = [i for i, (_, _, _, side) in enumerate(rows) if not side]
    last = rows[main[-1]][1]
    head = [i for i in main if rows[i][1] == last]
    from .layers import BatchNorm

    leading = set()
    for i in head:  # DenseNet's last batch norm sits in torchvision's features, before the pool
        if not isinstance(rows[i][2], BatchNorm):
            break
        leading.add(i)
    if prefix in ("features", "layers"):
        return {i for i in main if rows[i][1] != last} | leading
    if prefix == "classifier":
        return set(head) - leading
    linear = [i for i in head if isinstance(rows[i][2], Linear)]
    return {linear[-1]} if linear else set()


def _torchvision_names(name: str, prefix: str) -> tuple[str, ...]:
    """The zoo's names for one of torchvision's top-level modules where the two differ: ResNet's
    ``conv1`` and ``bn1`` (the zoo's stem), ShuffleNet V2's ``conv1``, RegNet's ``trunk_output``
    (its blocks), GoogLeNet's ``conv1`` to ``conv3`` and ``inception3a`` (the zoo's ``inception3.0``),
    Inception V3's ``Conv2d_1a_3x3`` to ``Conv2d_4a_3x3``.

    >>> _torchvision_names("googlenet", "inception4c"), _torchvision_names("regnet_y_400mf", "trunk_output.block2")
    (('inception4.2',), ('block2',))
    """
    import re

    resnet: dict[str, tuple[str, ...]] = {"conv1": ("stem.conv1",), "bn1": ("stem.bn1",)}
    stem: dict[str, dict[str, tuple[str, ...]]] = {
        "resnet": resnet, "resnext": resnet, "wide_resnet": resnet,
        "shufflenet_v2": {"conv1": ("stem.conv1", "stem.bn1")},
        "googlenet": {f"conv{i}": (f"stem.conv{i}", f"stem.bn{i}") for i in (1, 2, 3)},
        "inception_v3": {f"Conv2d_{n}": (f"stem.conv{i}", f"stem.bn{i}")
                         for i, n in enumerate(("1a_3x3", "2a_3x3", "2b_3x3", "3b_1x1", "4a_3x3"), 1)}}
    for family, names in stem.items():
        if name.startswith(family) and prefix in names:
            return names[prefix]
    if name.startswith("regnet") and (prefix == "trunk_output" or prefix.startswith("trunk_output.")):
        rest = prefix[len("trunk_output."):]
        return (rest,) if rest else tuple(f"block{i}" for i in range(1, 5))
    found = re.fullmatch(r"inception([345])([a-e])", prefix)
    if name == "googlenet" and found:
        return (f"inception{found.group(1)}.{ord(found.group(2)) - ord('a')}",)
    return ()


def frozen_layers(net: "str | Network", freeze: Sequence[str] = ()) -> list[str]:
    """The names of the layers that ``freeze`` (name prefixes) freezes: a layer is frozen when its
    name is a prefix or lies under one at a dot (``layer1`` holds ``layer1.0.conv1``). Names are
    the network's own (``Network.count``'s rows): torch's qualified names for an imported model;
    a zoo network's stages are named by its paper, and torchvision's top-level parts
    (``features``, ``classifier``, ``fc``, MNASNet's ``layers``) are understood too.

    >>> frozen_layers("resnet18", ["layer1.0"])
    ['layer1.0.conv1', 'layer1.0.bn1', 'layer1.0.conv2', 'layer1.0.bn2']
    >>> frozen_layers("mobilenet_v2", ["classifier"])
    ['head.avgpool1', 'head.fc1']
    >>> frozen_layers("resnet18", ["features"])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: freeze 'features': no layer of resnet18 is named so or under it; its stages: stem, layer1, layer2, layer3, layer4, head
    """
    from .catalog import network

    net = network(net)
    rows = _row_names(net)
    return [rows[i][0] for i in sorted(_frozen(net, _prefixes(freeze), rows))]


def _prefixes(freeze: Any) -> tuple[str, ...]:
    """``freeze`` as a tuple of name prefixes (one text is one prefix)."""
    if isinstance(freeze, str):
        freeze = (freeze,)
    if not isinstance(freeze, (tuple, list)):
        raise wrong_type(freeze, "layer name prefixes to freeze (a list of text, e.g. ['layer1'])")
    out = []
    for prefix in freeze:
        if not isinstance(prefix, str) or not prefix.strip() or len(prefix) > 500:
            raise InvalidValueError(f"freeze {shown(prefix)}: expected a layer name prefix such as 'layer1'")
        out.append(prefix.strip())
    return tuple(out)


def _frozen(net: "Network", prefixes: tuple[str, ...], rows: list[tuple[str, str, Layer, bool]]) -> set[int]:
    frozen: set[int] = set()
    for prefix in prefixes:
        found = {i for i, row in enumerate(rows) if _under(row[0], prefix)} or _torchvision_part(net, prefix, rows)
        if not found:
            stages = ", ".join(stage.name for stage in net.stages)
            raise InvalidValueError(f"freeze {prefix!r}: no layer of {net.name} is named so or under it;"
                                    f" its stages: {stages}")
        frozen |= found
    return frozen


def _peeled(block: Block) -> Block:
    """A repeat's first run apart from the rest: ``Repeat(body, k)`` as ``body`` then
    ``Repeat(body, k - 1)``, so that every layer of the rest sees the same need for gradients
    (after one run, the body's output needs one if any of its layers trains)."""
    def node(b: Block) -> Block:
        if not isinstance(b, Repeat) or b.count == 1:
            return b.body if isinstance(b, Repeat) else b
        if is_concrete(b.count) and b.count == 0:
            return Series()
        return Series(b.body, Repeat(b.body, normal(b.count - 1)))

    return transform(block, lambda layer: layer, node)


def _needs(net: "Network", trains: list[bool]) -> list[bool]:
    """For each layer in counting order, whether its input needs a gradient: whether some layer
    that trains lies on a path from the network's input to it. A sum, a concatenation and a
    scale's product need one where any of their operands does."""
    needs: list[bool] = []

    def leaf(layer: Layer, need: bool, place: Any) -> bool:
        index = len(needs)
        needs.append(need)
        return need or trains[index]

    def join(block: Block, need: bool, outs: list[bool]) -> bool:
        if isinstance(block, Scale):
            return need or outs[0]
        return any(outs)

    need = False
    for stage in net.stages:
        out = flow(stage.block, need, leaf, join)
        if not stage.side:
            need = out
    return needs


# -- what autograd saves for the backward ------------------------------------------------------

#: Activations whose backward reads their output (so the next layer's saved input is the same
#: tensor); every other one reads its input, and torch keeps that even when the activation runs
#: in place (it saves a copy first), as ReLU6, SiLU, Hardswish and GELU do.
_SAVE_OUTPUT = ("relu", "sigmoid", "tanh")


@dataclass(frozen=True)
class _Tensor:
    """A tensor as the walk sees it: ``key`` and ``elements`` name the storage it lives in (a view,
    such as a channel slice, is its base's), ``channels`` and ``size`` the tensor itself, and
    ``needs`` whether it needs a gradient."""

    key: int
    elements: Value
    channels: Value
    size: Size
    needs: bool


class _Saved:
    """The storages autograd keeps for the backward: each once, however many operations keep it."""

    def __init__(self, batch: Value) -> None:
        self.batch = batch
        self.storages: dict[int, Value] = {}
        self.made = 0

    def new(self, channels: Value, size: Size, needs: bool) -> _Tensor:
        from .layers import area

        self.made += 1
        elements = _expanded(self.batch * channels * area(size))
        return _Tensor(self.made, elements, channels, size, needs)

    def keep(self, tensor: _Tensor) -> Value:
        """Keep ``tensor``'s storage; the elements it adds (0 if already kept)."""
        if tensor.key in self.storages:
            return 0
        self.storages[tensor.key] = tensor.elements
        return tensor.elements


def _saved_by(layer: Layer, x: _Tensor, out: _Tensor, train: bool, saved: _Saved,
              product: bool = False) -> tuple[Value, Value, Value]:
    """What one layer's operation keeps for the backward, when autograd records it (when its input
    needs a gradient or its parameters train): (activation elements newly kept, float32 statistics,
    int64 indices). As torch does: a convolution keeps its input (frozen or not), a linear layer its
    input where its weight trains (a product keeps each operand for the other's gradient), batch norm its
    input and two statistics a channel, layer norm its input and two a position, max pooling its
    input and the indices of its maxima, average pooling its input (not a global one: it is a mean,
    which keeps nothing), an activation its output or input (see ``_SAVE_OUTPUT``), a layer scale its
    input (to scale's gradient); a sum, a concatenation, a view, a shuffle and upsampling nothing.
    ``product``: the layer is a matrix product in torch (an ``nn.Linear`` that the import reads as
    a 1 x 1 convolution, as ConvNeXt's on channels-last maps), which keeps what a linear layer keeps."""
    from .layers import Activation, AdaptivePool, BatchNorm, LayerNorm, LayerScale, Pool, area

    if not (x.needs or train):
        return 0, 0, 0
    if isinstance(layer, Linear) or product:  # a matrix product keeps each operand for the other's gradient
        return (saved.keep(x) if train else 0), 0, 0
    if isinstance(layer, (Conv, ConvTranspose)):  # kept even for a frozen one, as torch's convolution does
        return saved.keep(x), 0, 0
    if isinstance(layer, BatchNorm):
        return saved.keep(x), 2 * layer.channels, 0
    if isinstance(layer, LayerNorm):
        return saved.keep(x), _expanded(2 * saved.batch * area(x.size)), 0
    if isinstance(layer, LayerScale):
        return (saved.keep(x) if train else 0), 0, 0
    if isinstance(layer, Activation):
        return saved.keep(out if layer.function in _SAVE_OUTPUT else x), 0, 0
    if isinstance(layer, (Pool, AdaptivePool)):
        if isinstance(layer, AdaptivePool) and layer.kind == "avg" and layer.output == 1:
            return 0, 0, 0
        return saved.keep(x), 0, (out.elements if layer.kind == "max" else 0)
    return 0, 0, 0


def _products(net: "Network") -> set[str]:
    """The layers of an imported model that torch ran as ``nn.Linear`` (a matrix product), whatever
    the import reads them as (ConvNeXt's maps on channels-last are 1 x 1 convolutions)."""
    return {name for name, kind, _ in net.origins if kind == "torch.nn.modules.linear.Linear"}


def _weight_copy(layer: Layer, product: bool, need: bool, train: bool) -> Value:
    """The weights autocast copies at 2 bytes and the backward keeps (mixed precision): a
    convolution's wherever autograd records it, a matrix product's where its input needs a
    gradient (the copy is what that gradient multiplies by); the bias is not kept."""
    if not isinstance(layer, (Conv, ConvTranspose, Linear)):
        return 0
    bias = layer.out_features if isinstance(layer, Linear) else layer.out_channels
    weights = normal(layer.params() - (bias if layer.bias else 0))
    if isinstance(layer, Linear) or product:
        return weights if need else 0
    return weights if need or train else 0


def _views(layer: Layer) -> bool:
    """A layer whose output is a view of its input (the same storage)."""
    from .layers import Identity, Slice

    return isinstance(layer, (Identity, Slice))


def _saved_walk(net: "Network", size: Size, batch: Value, trains: list[bool],
                joins: list[Value]) -> list[tuple[Value, Value, Value]]:
    """For each layer in counting order, what it keeps for the backward (see :func:`_saved_by`);
    ``joins`` gets what the products of scales (squeeze-and-excitation's gates) keep: both operands."""
    from .blocks import Parallel

    saved = _Saved(batch)
    rows: list[tuple[Value, Value, Value]] = []
    products = _products(net)
    names = [row[0] for row in _row_names(net)]

    def leaf(layer: Layer, x: _Tensor, place: Any) -> _Tensor:
        index = len(rows)
        train = trains[index]
        needs = x.needs or train
        size = layer.output_size(x.size)
        if _views(layer):
            out = _Tensor(x.key, x.elements, layer.out_channels, size, needs)
        else:
            out = saved.new(layer.out_channels, size, needs)
        kept = _saved_by(layer, x, out, train, saved, names[index] in products)
        rows.append(tuple(_expanded(v * place.times) for v in kept))  # type: ignore[arg-type]
        return out

    def join(block: Block, x: _Tensor, outs: list[_Tensor]) -> _Tensor:
        if isinstance(block, Scale):  # x * gate: each operand kept for the other's gradient
            gate = outs[0]
            if gate.needs:
                joins.append(saved.keep(x))
            if x.needs:
                joins.append(saved.keep(gate))
            return saved.new(x.channels, x.size, x.needs or gate.needs)
        if isinstance(block, Parallel):
            channels = normal(sum(o.channels for o in outs))
            return saved.new(channels, outs[0].size, any(o.needs for o in outs))
        if isinstance(block, Repeat):
            return outs[0]
        body = outs[0]  # a residual sum, written into the body's output (``out += identity``)
        return replace(body, needs=any(o.needs for o in outs))

    x = saved.new(net.in_channels, size, False)
    for stage in net.stages:
        out = flow(stage.block, x, leaf, join)
        if not stage.side:
            x = out
    return rows


# -- the training step ----------------------------------------------------------------------

def training_cost(net: "str | Network", size: Optional[Size] = None, batch: Any = None, freeze: Sequence[str] = (),
             optimizer: str = "sgd", dtype: str = "fp32") -> TrainingCost:
    """A network's training step: each layer's forward and backward MACs on a ``batch`` of
    ``size`` inputs (the symbol B by default; ``size`` by default the network's own), the
    layers under the name prefixes ``freeze`` frozen, and the totals.

    A network's side stages (an auxiliary classifier) run in training, and count. A model read
    with ``from_torch`` is traced in eval mode, so what runs only in training is not in it (an
    auxiliary classifier's forward, dropout's mask). ``optimizer`` (``sgd``, ``momentum``,
    ``adam``, ``adamw``) and ``dtype`` (``fp32``, or mixed precision ``bf16`` or ``fp16``: the
    activations at 2 bytes, the weights, gradients and optimizer state in float32) set the
    memory figures.

    Freezing a backbone's first stages removes their weight gradients and, as nothing before
    the first trainable layer needs an input gradient, their input gradients too:

    >>> full = training_cost("resnet50", 224, 1)
    >>> tuned = training_cost("resnet50", 224, 1, freeze=["stem", "layer1", "layer2"])
    >>> full.total, tuned.total, tuned.backward
    (12149538816, 8434909184, 4345724928)
    >>> tuned.epsilon_first, tuned.epsilon_frozen
    (Fraction(123235, 249584), Fraction(110691, 249584))
    >>> training_cost("resnet50", 224, 0)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: batch B = 0: expected a whole number >= 1
    """
    from .memory import dtype_bytes
    from .catalog import network

    net = network(net)
    if batch is None:
        from .symbols import B

        batch = B
    batch = check("B", batch, "batch B")
    if not is_concrete(batch) and {str(x) for x in cast(Any, batch).free_symbols} != {"B"}:
        raise InvalidValueError(f"batch B = {shown(batch)}: expected a whole number >= 1 or an expression in B")
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise InvalidValueError(f"optimizer {shown(optimizer)}: expected one of {', '.join(OPTIMIZERS)}")
    if not isinstance(dtype, str) or dtype not in ("fp32", "bf16", "fp16"):
        dtype_bytes(dtype)  # not a dtype at all: its own error
        raise InvalidValueError(f"dtype {dtype!r} for training: expected fp32, or bf16 or fp16 (mixed precision)")
    prefixes = _prefixes(freeze)
    if any(isinstance(b, Repeat) for stage in net.stages for b in _composites(stage.block)):
        net = replace(net, stages=tuple(replace(stage, block=_peeled(stage.block)) for stage in net.stages))
    if getattr(net, "batch", 1) != 1:  # an imported file's batch: the step's own batch is the one counted
        net = replace(net, batch=1)
    cost = net.count(size, auxiliary=True)
    rows = _row_names(net)
    if [r[0] for r in rows] != [r.name for r in cost.layers]:  # pragma: no cover - the two walks agree
        raise InvalidValueError(f"{net.name}: its layers could not be named")
    frozen = _frozen(net, prefixes, rows)
    trains = [not (i in frozen or isinstance(row.layer, Held) or _is_zero(row.params))
              for i, row in enumerate(cost.layers)]
    needs = _needs(net, trains)
    products: list[Value] = []
    kept = _saved_walk(net, cost.size, batch, trains, products)
    layers: list[LayerTraining] = []
    skipped_input: Value = 0
    skipped_weight: Value = 0
    products_of = _products(net) if dtype != "fp32" else set()
    for row, train, need, (saved, statistics, indices) in zip(cost.layers, trains, needs, kept):
        # a module called again shares autocast's copy (row.params is 0 for its second call)
        copies = 0 if dtype == "fp32" or _is_zero(row.params) else \
            _weight_copy(row.layer, row.name in products_of, need, train)
        forward = _expanded(row.macs * batch)
        multiplies = isinstance(row.layer, _MULTIPLYING)
        grad_in = forward if multiplies and need else 0
        grad_w = forward if multiplies and train else 0
        if multiplies and not need:
            skipped_input = skipped_input + forward
        if multiplies and not train:
            skipped_weight = skipped_weight + forward
        layers.append(LayerTraining(row.name, row.stage, row.layer, forward, grad_in, grad_w, row.params, train, need,
                                    saved, statistics, indices, copies))
    stages, start = [], 0
    for stage, made in zip(cost.stages, net.stages):
        mine, start = layers[start:start + stage.layers], start + stage.layers
        stages.append(StageTraining(stage.name, _sum(r.forward for r in mine), _sum(r.backward for r in mine),
                                    _sum(r.params for r in mine), _sum(r.params for r in mine if r.trainable),
                                    len(mine), made.side))
    return TrainingCost(net, cost.size, batch, prefixes, optimizer, dtype, tuple(layers), tuple(stages),
                        _sum(r.forward for r in layers), _sum(r.backward for r in layers), _expanded(skipped_input),
                        _expanded(skipped_weight), _sum(r.params for r in layers),
                        _sum(r.params for r in layers if r.trainable),
                        sum(_tensors(r.layer) for r in layers if r.trainable), _sum(products))


def _tensors(layer: Layer) -> int:
    """How many parameter tensors a layer holds: a weight and its bias, a norm's scale and shift."""
    from .layers import BatchNorm, LayerNorm, LayerScale

    if isinstance(layer, (Conv, ConvTranspose, Linear)):
        return 2 if layer.bias else 1
    if isinstance(layer, (BatchNorm, LayerNorm)):
        return 2
    return 1 if isinstance(layer, LayerScale) else 0


def _composites(block: Block) -> list[Block]:
    from .blocks import children

    out = [block]
    for part in children(block):
        out += _composites(part)
    return out


def _is_zero(value: Value) -> bool:
    return is_concrete(value) and value == 0


def _sum(values: Any) -> Value:
    total: Value = 0
    for value in values:
        total = total + value
    return _expanded(total)
