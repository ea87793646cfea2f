"""The algebra against PyTorch's own counter: every zoo network, the ten modules at drawn sizes,
and drawn compositions of the primitives, exported to torch.nn.Module on the meta device and
counted with torch.utils.flop_counter.FlopCounterMode (2 FLOPs per MAC); and every zoo network
torchvision has, against torchvision's own definition, in total and layer by layer, and against
torchvision's published weight metadata (computed here, compared in the test)."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from test_networks import MIN_SIZES  # noqa: E402
from test_zoo_references import TORCHVISION, gmacs  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra import rules  # noqa: E402
from convalgebra.errors import InvalidValueError  # noqa: E402
from convalgebra.blocks import Parallel, Residual, Scale, Series, substitute  # noqa: E402
from convalgebra.cost import total  # noqa: E402
from convalgebra.layers import (ACTIVATIONS, Activation, AdaptivePool, BatchNorm, Conv, ConvTranspose,  # noqa: E402
                                Elementwise, Identity, LayerNorm, LayerScale, Linear, Pool, Shuffle, Slice, Upsample)
from convalgebra.modules import LATER_MODULES, MODULES, standard  # noqa: E402
from convalgebra.networks import out_channels
from convalgebra.catalog import network, network_names  # noqa: E402
from convalgebra.symbols import G, I, K, M, N, k, p, t  # noqa: E402
from convalgebra.symbols import r as SE_R, s as GHOST_S  # noqa: E402
from convalgebra.torch_export import to_torch  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_cost(model: "torch.nn.Module", channels: int, size) -> tuple[int, int]:
    """(MACs, params) as PyTorch counts them: FLOPs of a forward pass on the meta device / 2,
    and the sum of the parameters' sizes; ``size`` one side, or (height, width)."""
    model.eval()
    height, width = size if isinstance(size, tuple) else (size, size)
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, channels, height, width, device="meta"))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, sum(x.numel() for x in model.parameters())


def _exported() -> list[str]:
    """The networks torchvision lacks, and the first of each family it has (its own definitions hold
    every one of them to the count below): the export checked on every kind of network, and fast."""
    import re

    families: dict[str, str] = {}
    for name in network_names():
        if name.startswith(("vit_", "swin_", "maxvit_")):  # the transformers: tests/test_attention.py
            continue
        family = re.match(r"[a-z]+(?:_v\d|_[xy](?=_))?", name).group() + ("_bn" if name.endswith("_bn") else "")
        families.setdefault(family if name in torchvision.models.list_models() else name, name)
    return list(families.values())


@pytest.mark.parametrize("name", _exported())
def test_zoo_networks_exported_agree_with_pytorch(name):
    # the networks torchvision lacks at their own size too; each at an oblong size that is no
    # multiple of the stride (torchvision's own definitions are held to two more sizes below)
    net = network(name)
    model = to_torch(net, device="meta")
    sizes = [(net.default_size - 37, net.default_size)]
    if name not in torchvision.models.list_models():
        sizes.append(net.default_size)
    for size in sizes:
        assert torch_cost(model, 3, size) == net.total(size), size


# -- torchvision's own definitions ---------------------------------------------------------

#: Keywords that make torchvision's model the one its weights describe: GoogLeNet's pretrained
#: model drops its auxiliary classifiers (and skipping scipy's slow initializer changes no shape).
TORCHVISION_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False}, "inception_v3": {"init_weights": False}}

#: The zoo's transformers (ViT, Swin): tests/test_attention.py holds them to torchvision's own definitions.
TRANSFORMER_NAMES = [name for name in network_names() if name.startswith(("vit_", "swin_", "maxvit_"))]
TORCHVISION_NAMES = [name for name in network_names() if name in torchvision.models.list_models()
                     and name not in TRANSFORMER_NAMES]


@lru_cache(maxsize=None)
def torchvision_model(name: str) -> "torch.nn.Module":
    """torchvision's own model, weights=None, built on the meta device once for all the tests.

    RegNet computes its widths with torch at construction, which the meta device cannot
    answer (``.tolist()``); those few tensors are made on the CPU, the model on meta."""
    from torchvision.models.regnet import BlockParams

    build = BlockParams.from_init_params.__func__

    def widths_on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return build(cls, *args, **kwargs)

    BlockParams.from_init_params = classmethod(widths_on_cpu)
    try:
        with torch.device("meta"):
            model = torchvision.models.get_model(name, weights=None, **TORCHVISION_KWARGS.get(name, {}))
    finally:
        BlockParams.from_init_params = classmethod(build)
    return model.eval()


#: What each counted module is, for the layer-by-layer comparison: weights (a convolution, or a
#: linear layer, which ConvNeXt applies per position as its 1 x 1s), a norm, or a scale (parameters of
#: a module's own, such as ConvNeXt's layer scale).
_KINDS = {torch.nn.Conv2d: "weights", torch.nn.Linear: "weights", torch.nn.BatchNorm2d: "norm",
          torch.nn.LayerNorm: "norm"}


def torch_layers(model: "torch.nn.Module", size) -> tuple[int, Counter]:
    """The MACs of a forward pass on a size x size input, or (height, width) (FlopCounterMode's
    FLOPs / 2), and every module that costs MACs or holds parameters of its own, as (kind, MACs,
    params), from the same count taken per module."""
    height, width = size if isinstance(size, tuple) else (size, size)
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, height, width, device="meta"))
    flops = counter.get_flop_counts()
    rows: Counter = Counter()
    def counted(name: str) -> int:
        return sum(flops.get(f"{type(model).__name__}.{name}", {}).values()) // 2

    for name, module in model.named_modules():
        if not name:
            continue
        # the module's own MACs: its count less its children's (ConvNeXt's block holds a layer scale)
        macs = counted(name) - sum(counted(f"{name}.{child}") for child, _ in module.named_children())
        params = sum(x.numel() for x in module.parameters(recurse=False))
        if params or macs:
            kind = next((k for t, k in _KINDS.items() if isinstance(module, t)), "scale")
            rows[(kind, macs, params)] += 1
    assert counter.get_total_flops() % 2 == 0
    return counter.get_total_flops() // 2, rows


def zoo_layers(name, size) -> Counter:
    """The zoo network's layers (a network, or its name) that cost MACs or hold parameters, as
    (kind, MACs, params)."""
    kinds = {Conv: "weights", Linear: "weights", BatchNorm: "norm", LayerNorm: "norm", LayerScale: "scale"}
    return Counter((kinds.get(type(r.layer), type(r.layer).__name__), r.macs, r.params)
                   for r in network(name).count(size).layers if r.macs or r.params)


def sizes(name: str) -> tuple:
    """Two input sizes, odd and no multiple of any stride: a square 37 below the network's own, and
    97 x 131 (H x W); the network's own size is checked against torchvision's metadata."""
    return network(name).default_size - 37, (97, 131)


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_every_zoo_network_agrees_with_torchvisions_own_definition_layer_by_layer(name):
    model = torchvision_model(name)
    params = sum(x.numel() for x in model.parameters())
    for size in sizes(name):
        macs, layers = torch_layers(model, size)
        assert (macs, params) == network(name).total(size), size
        assert layers == zoo_layers(name, size), size


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_reproduces_torchvisions_weight_metadata(name):
    # num_params exactly; _ops, GMACs to three decimals, at each weight's own crop size
    net = network(name)
    for weights in torchvision.models.get_model_weights(name):
        crop = weights.transforms.keywords["crop_size"]
        macs, params = net.total(crop)
        assert (params, gmacs(macs)) == (weights.meta["num_params"], f"{weights.meta['_ops']}"), weights


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_the_smallest_input_is_the_smallest_torchvision_takes(name):
    # torchvision's min_size metadata is a recipe's bound for some (EfficientNet V2 says 33 and runs at 1);
    # the model itself decides: it runs at the smallest size the zoo finds, and not one below
    net = network(name)
    least = net.min_size()
    assert least <= max(torchvision.models.get_model_weights(name).DEFAULT.meta["min_size"])
    if least > 1:  # a network whose every layer has output at 1 x 1 needs no forward pass to say so
        model = torchvision_model(name)
        model(torch.empty(1, 3, least, least, device="meta"))
        with pytest.raises(RuntimeError):
            model(torch.empty(1, 3, least - 1, least - 1, device="meta"))


def test_the_references_the_tests_without_torch_hold_are_torchvisions():
    # test_zoo_references compares with these; here they are read from torchvision itself
    for name, (params, ops) in TORCHVISION.items():
        meta = torchvision.models.get_model_weights(name).DEFAULT.meta
        assert (params, ops) == (meta["num_params"], f"{meta['_ops']}"), name
    assert all(MIN_SIZES[name] == max(torchvision.models.get_model_weights(name).DEFAULT.meta["min_size"])
               for name in MIN_SIZES)


def test_the_zoo_holds_the_torchvision_networks_it_names():
    # every zoo name that torchvision has is counted above; the others are the papers' own
    assert set(network_names()) - set(TORCHVISION_NAMES) - set(TRANSFORMER_NAMES) == {
        "alexnet_grouped", "mobilenet_v1", "shufflenet_v1", "xception"}
    assert all(name in torchvision.models.list_models() for name in TRANSFORMER_NAMES)
    assert len(TORCHVISION_NAMES) == 68  # every torchvision classification CNN


def module_values(name: str, draw) -> dict:
    """Sizes at which the module is whole: channels multiples of everything they are divided by."""
    g = draw(st.sampled_from([1, 2, 3, 4]))
    r = draw(st.sampled_from([1, 2, 4]))
    unit = g * r * 4
    values = {G: g, t: r, p: Fraction(draw(st.sampled_from([1, 2, 3])), 4), k: 3, SE_R: r, GHOST_S: draw(st.sampled_from([1, 2])),
              M: unit * draw(st.integers(1, 3)), N: unit * draw(st.integers(1, 3)),
              K: draw(st.sampled_from([3, 5, 7] if name == "vgg-stack" else [1, 3, 5])),
              I: draw(st.integers(1, 12))}
    if name == "fire":
        values[K] = draw(st.sampled_from([3, 5]))  # the expand layer needs a spatial kernel to mix
    return values


@pytest.mark.parametrize("mod", MODULES + LATER_MODULES, ids=lambda m: m.name)
@SETTINGS
@given(data=st.data())
def test_each_module_agrees_with_pytorch(mod, data):
    values = module_values(mod.name, data.draw)
    try:
        block = substitute(mod.block(), values)
        base = substitute(standard(), values)
        expected = total(block, values[I])
    except InvalidValueError:
        assume(False)
    assert torch_cost(to_torch(block, device="meta"), values[M], values[I]) == expected
    assert torch_cost(to_torch(base, device="meta"), values[M], values[I]) == total(base, values[I])


PRIMITIVES = {
    "group": lambda v: rules.group(v["g"]), "group-pointwise": lambda v: rules.group(v["g"], on="pointwise"),
    "stack": lambda v: rules.stack(3), "factorize": lambda v: rules.factorize(),
    "separate": lambda v: rules.separate(), "separate-pw": lambda v: rules.separate("pointwise-first"),
    "depthwise": lambda v: rules.depthwise(), "reduce": lambda v: rules.reduce(v["r"]),
    "expand": lambda v: rules.expand(v["r"]), "squeeze": lambda v: rules.squeeze(v["r"]),
    "mix": lambda v: rules.mix(Fraction(1, 2)), "shuffle": lambda v: rules.shuffle(v["g"]),
}


@SETTINGS
@given(names=st.lists(st.sampled_from(sorted(PRIMITIVES)), min_size=1, max_size=3),
       g=st.sampled_from([1, 2, 4]), r=st.sampled_from([1, 2, 4]), m=st.integers(1, 3), n=st.integers(1, 3),
       kernel=st.sampled_from([3, 5, 7]), size=st.integers(1, 10))
def test_chains_of_primitives_agree_with_pytorch(names, g, r, m, n, kernel, size):
    values = {"g": g, "r": r}
    try:
        rule = rules.chain(*(PRIMITIVES[name](values) for name in names))
        block = substitute(rule(Conv(16 * m, 16 * n, (kernel, kernel))), {})
        expected = total(block, size)
        out_channels(block, 16 * m)
    except InvalidValueError:
        assume(False)
    assert torch_cost(to_torch(block, device="meta"), 16 * m, size) == expected


@st.composite
def layer_blocks(draw, channels: int, depth: int = 2):
    """A drawn block on ``channels`` input channels: convolutions of any shape and stride
    (transposed too), pools, batch and layer norm, layer scale, activations, elementwise ops,
    upsampling, shuffles, and branches that concatenate (identities and channel slices among
    them), add or gate (squeeze-and-excitation's scale). Returns (block, out channels)."""
    leaves = ["conv", "pool", "bn", "shuffle", "modern", "transposed"]
    kind = draw(st.sampled_from(leaves + (["series", "parallel", "residual", "scale", "split"] if depth else [])))
    if kind == "modern":
        return draw(st.sampled_from([Identity(channels), LayerNorm(channels), LayerScale(channels),
                                     Activation(channels, draw(st.sampled_from(ACTIVATIONS))),
                                     Elementwise(channels, draw(st.sampled_from(["add", "multiply"]))),
                                     Upsample(channels, draw(st.sampled_from([1, 2])),
                                              draw(st.sampled_from(["nearest", "bilinear"])))])), channels
    if kind == "transposed":
        groups = draw(st.sampled_from([g for g in (1, 2) if channels % g == 0]))
        out, stride = groups * draw(st.integers(1, 4)), draw(st.sampled_from([1, 2]))
        return ConvTranspose(channels, out, draw(st.sampled_from([(2, 2), (3, 3), (1, 3)])), groups=groups,
                             stride=stride, padding=draw(st.integers(0, 1)), output_padding=draw(st.integers(0, stride - 1)),
                             bias=draw(st.booleans())), out
    if kind == "scale":
        squeeze = draw(st.integers(1, 4))
        pooled = draw(st.booleans())
        gate = Series(*([AdaptivePool(channels)] if pooled else []), Conv(channels, squeeze, (1, 1), bias=True),
                      Activation(squeeze), Conv(squeeze, channels, (1, 1), bias=True), Activation(channels, "sigmoid"))
        return Scale(gate), channels
    if kind == "split" and channels >= 2:
        cut = draw(st.integers(1, channels - 1))
        rest, out = draw(layer_blocks(channels - cut, depth - 1).filter(lambda b: _keeps_size(b[0])))
        return Parallel(Slice(channels, 0, cut), Series(Slice(channels, cut, channels), rest)), cut + out
    if kind == "split":
        return Identity(channels), channels
    if kind == "conv":
        groups = draw(st.sampled_from([g for g in (1, 2, 4) if channels % g == 0]))
        out = groups * draw(st.integers(1, 6))
        kh, kw = draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3, 5]))
        padding = draw(st.sampled_from(["same", (kh // 2, kw // 2)] + ([0] if kh == kw else [])))
        stride = 1 if padding == "same" else draw(st.sampled_from([1, 2]))
        return Conv(channels, out, (kh, kw), groups=groups, stride=stride, padding=padding,
                    bias=draw(st.booleans())), out
    if kind == "pool":
        size = draw(st.sampled_from([2, 3]))
        return Pool(channels, size, draw(st.sampled_from([1, 2])), draw(st.integers(0, size // 2)),
                    draw(st.booleans()), draw(st.sampled_from(["max", "avg"]))), channels
    if kind == "bn":
        return BatchNorm(channels), channels
    if kind == "shuffle":
        return Shuffle(channels, draw(st.sampled_from([g for g in (1, 2, 4) if channels % g == 0]))), channels
    if kind == "series":
        first, mid = draw(layer_blocks(channels, depth - 1))
        second, out = draw(layer_blocks(mid, depth - 1))
        return Series(first, second), out
    same = [Conv(channels, channels * 2, (3, 3)), Series(BatchNorm(channels), Conv(channels, channels, (1, 3)))]
    body, out = draw(st.sampled_from([(same[0], channels * 2), (same[1], channels)]))
    if kind == "parallel":
        other, extra = draw(layer_blocks(channels, depth - 1).filter(lambda b: _keeps_size(b[0])))
        return Parallel(body, other), out + extra
    shortcut = None if out == channels else Conv(channels, out, (1, 1))
    return Residual(body, shortcut), out


def _keeps_size(block) -> bool:
    try:
        return _size(block, 9) == 9 and _size(block, 10) == 10
    except InvalidValueError:
        return False


def _size(block, size):
    from convalgebra.cost import output_of

    return output_of(block, size)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), channels=st.sampled_from([4, 8]), height=st.integers(1, 24), width=st.integers(1, 24),
       square=st.booleans(), head=st.booleans())
def test_drawn_compositions_agree_with_pytorch(data, channels, height, width, square, head):
    size = height if square else (height, width)  # one side for I x I, else H x W
    block, out = data.draw(layer_blocks(channels, 3))
    if head:
        pooled = data.draw(st.sampled_from([2, (2, 3)]))
        block = Series(block, AdaptivePool(out, pooled), Linear(out, 10, pooled))
    try:
        expected = total(block, size)
    except InvalidValueError:
        assume(False)
    assert torch_cost(to_torch(block, device="meta"), channels, size) == expected


def test_export_needs_numbers():
    with pytest.raises(InvalidValueError, match="substitute"):
        to_torch(standard())
    with pytest.raises(InvalidValueError, match="pads unevenly"):
        to_torch(Conv(4, 4, (2, 2), stride=2))


def test_auxiliary_classifier_is_held_and_not_run():
    model = to_torch(network("inception_v3"), device="meta")
    assert "AuxLogits" in dict(model.stages.named_children())
    assert torch_cost(model, 3, 75) == network("inception_v3").total(75)  # too small for the auxiliary head


# -- PyTorch habits ------------------------------------------------------------------------------

@SETTINGS
@given(cin=st.integers(1, 8), cout=st.integers(1, 8), kernel=st.integers(1, 5), stride=st.integers(1, 3),
       size=st.integers(5, 40), bias=st.booleans())
def test_padding_valid_is_pytorchs(cin, cout, kernel, stride, size, bias):
    ours = Conv(cin, cout, (kernel, kernel), stride=stride, padding="valid", bias=bias)
    theirs = torch.nn.Conv2d(cin, cout, kernel, stride=stride, bias=bias)  # PyTorch's defaults: no padding
    with torch.device("meta"):
        shape = theirs.to("meta")(torch.empty(1, cin, size, size, device="meta")).shape
    assert ours.output_size(size) == shape[-1] == (size - kernel) // stride + 1
    assert ours.params() == sum(x.numel() for x in theirs.parameters())
    assert torch_cost(to_torch(ours), cin, size) == (ours.macs(size), ours.params())


@pytest.mark.parametrize("call", [
    lambda m: ca.total(m, 224), lambda m: ca.count(m, 224), lambda m: ca.network(m), lambda m: ca.to_torch(m),
    lambda m: ca.Series(m), lambda m: ca.module(m), lambda m: ca.explain(m),
])
def test_a_pytorch_module_where_a_convalgebra_one_belongs_gets_a_library_error(call):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
    with pytest.raises(ca.InvalidValueError) as error:
        call(model)
    message = str(error.value)
    assert "the PyTorch Sequential" in message and "Conv2d(" not in message and "\n" not in message
    assert "use it as it is" in message or "rebuild the model" in message



@pytest.mark.parametrize("alpha", ["0.35", "0.5", "0.75", "1.4"])
def test_families_that_round_their_widths_agree_with_torchvision_at_each_alpha(alpha):
    # MobileNet V2's width_mult and MNASNet's alpha, rounded to multiples of 8 as torchvision rounds them
    with torch.device("meta"):
        v2 = torchvision.models.mobilenet_v2(width_mult=float(alpha)).eval()
        mnas = torchvision.models.MNASNet(float(alpha)).eval()
    for model, name in ((v2, "mobilenet_v2"), (mnas, "mnasnet1_0")):
        net = network(name, Fraction(alpha))
        for size in (224, (97, 131)):
            macs, layers = torch_layers(model, size)
            assert (macs, sum(x.numel() for x in model.parameters())) == net.total(size), (name, size)
            assert layers == zoo_layers(net, size)


@pytest.mark.parametrize("alpha", [Fraction(1, 4), Fraction(3, 4)])
def test_mobilenet_v1_at_alpha_agrees_with_pytorch(alpha):
    net = network("mobilenet_v1", alpha)
    assert torch_cost(to_torch(net, device="meta"), 3, (160, 131)) == net.total((160, 131))
