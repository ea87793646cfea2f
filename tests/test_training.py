"""The training step held to PyTorch: FlopCounterMode over a real forward and backward on the
meta device, with its convolution backward formula replaced by one written here from the
definition (each weight meets each output position once per image; each gradient repeats
those multiplications once), because its own ignores groups for the weight gradient.

The reference never reads the library's algebra: the batch, the sizes and the frozen
parameters (``requires_grad=False``) are torch's, and the counts are FlopCounterMode's / 2.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from functools import lru_cache
from math import prod

import pytest
from hypothesis import given, settings, strategies as st

import convalgebra as ca
from convalgebra.errors import ConvAlgebraError, InvalidValueError
from convalgebra.symbols import B, H, W
from convalgebra.training import frozen_layers, training_cost

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from convalgebra.torch_import import from_torch  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)  # googlenet's and inception's initializer notices

BATCH = 2


def conv_backward(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                  _output_padding, _groups, output_mask, out_shape=None, **kwargs) -> int:
    """FLOPs of a convolution's backward, from the definition: the forward multiplies each weight
    (``prod(w_shape)``, groups already in it: out x in/groups x kernel) by one input value at each
    position it visits, once per image: the output positions of a convolution, the input
    positions of a transposed one. The input gradient and the weight gradient each make that many
    multiplications again; 2 FLOPs each."""
    positions = x_shape[2:] if transposed else grad_out_shape[2:]
    macs = x_shape[0] * prod(positions) * prod(w_shape)
    return 2 * macs * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


FIXED = {torch.ops.aten.convolution_backward: conv_backward}

#: One network a family: (torchvision name, keyword arguments, the zoo's frozen prefixes, torch's frozen prefixes).
#: GoogLeNet in the zoo has no auxiliary classifiers; Inception V3's runs in training, as in torch.
FAMILIES = [
    ("alexnet", {}, ("features",), ("features",)),
    ("vgg11_bn", {}, ("features",), ("features",)),
    ("squeezenet1_1", {}, ("features",), ("features",)),
    ("resnet18", {}, ("layer1",), ("layer1",)),
    ("resnext50_32x4d", {}, ("stem", "layer1", "layer2"), ("conv1", "bn1", "layer1", "layer2")),
    ("densenet121", {}, ("features",), ("features",)),
    ("googlenet", {"aux_logits": False, "init_weights": False}, ("stem", "inception3"),
     ("conv1", "conv2", "conv3", "inception3a", "inception3b")),
    ("inception_v3", {"init_weights": False}, ("stem", "Mixed_5b"),
     ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "Mixed_5b")),
    ("mobilenet_v2", {}, ("features",), ("features",)),
    ("mobilenet_v3_small", {}, ("features",), ("features",)),
    ("mnasnet0_5", {}, ("layers",), ("layers",)),
    ("efficientnet_b0", {}, ("features",), ("features",)),
    ("shufflenet_v2_x0_5", {}, ("stage2",), ("stage2",)),
    ("regnet_y_400mf", {}, ("stem", "block1"), ("stem", "trunk_output.block1")),
    ("convnext_tiny", {}, ("features",), ("features",)),
]
BY_NAME = {family[0]: family for family in FAMILIES}
SIZES = [(224, 224), (225, 161)]
LARGE_SIZES = [(299, 299), (301, 333)]  # Inception V3's auxiliary classifier needs a larger input


def sizes(name: str) -> list[tuple[int, int]]:
    return LARGE_SIZES if name == "inception_v3" else SIZES


@lru_cache(maxsize=None)
def model(name: str, aux: bool = True) -> "nn.Module":
    """The torchvision model on the meta device, in training mode (no weights are made)."""
    kwargs = dict(BY_NAME[name][1])
    if not aux and name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
    return build(name, kwargs).train()


def build(name: str, kwargs: dict) -> "nn.Module":
    """The model made on the meta device; RegNet computes its widths with tensors, so it is made
    on the CPU and moved."""
    if name.startswith("regnet"):
        return getattr(torchvision.models, name)(**kwargs).to("meta")
    with torch.device("meta"):
        return getattr(torchvision.models, name)(**kwargs)


def torch_step(name: str, height: int, width: int, freeze: tuple[str, ...] = (), aux: bool = True,
               fixed: bool = True) -> int:
    """MACs of one training step as FlopCounterMode counts it: forward and backward of the sum of
    the outputs on a batch of BATCH, with the parameters under ``freeze`` not trainable (``aux``
    False: without the auxiliary classifiers, for the models that have them)."""
    return _torch_step(name, height, width, freeze, aux or name not in ("googlenet", "inception_v3"), fixed)


@lru_cache(maxsize=None)
def _torch_step(name: str, height: int, width: int, freeze: tuple[str, ...], aux: bool, fixed: bool) -> int:
    m = model(name, aux)
    for pname, p in m.named_parameters():
        p.requires_grad_(not any(pname == f or pname.startswith(f + ".") for f in freeze))
    try:
        with FlopCounterMode(display=False, custom_mapping=FIXED if fixed else {}) as counter:
            out = m(torch.empty(BATCH, 3, height, width, device="meta"))
            outputs = [out] if isinstance(out, torch.Tensor) else [o for o in out if o is not None]
            sum(o.sum() for o in outputs).backward()
    finally:
        for p in m.parameters():
            p.requires_grad_(True)
            p.grad = None
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


@lru_cache(maxsize=None)
def imported(name: str) -> "ca.Network":
    """The model as from_torch reads it (in eval mode, as it traces; the auxiliary classifiers left out)."""
    m = build(name, {**BY_NAME[name][1], **({"aux_logits": False} if name in ("googlenet", "inception_v3") else {})})
    return from_torch(m.eval(), input_shape=(3, *sizes(name)[0]), name=name, title=name)


def at(height: int, width: int):
    return height if height == width else (height, width)


# -- the whole step, against FlopCounterMode -------------------------------------------------

@pytest.mark.parametrize("name", [f[0] for f in FAMILIES])
def test_zoo_step_equals_flopcountermode(name):
    """Forward + backward of the zoo's network, everything trainable and with a frozen prefix,
    at a square size and an odd oblong one, batch 2."""
    _, _, zoo_freeze, torch_freeze = BY_NAME[name]
    for height, width in sizes(name):
        for ours, theirs in (((), ()), (zoo_freeze, torch_freeze)):
            step = training_cost(name, at(height, width), BATCH, freeze=ours)
            assert step.total == torch_step(name, height, width, theirs), (name, height, width, ours)
            assert step.forward + step.backward == step.total
            assert step.uncounted == ()


@pytest.mark.parametrize("name", [f[0] for f in FAMILIES])
def test_imported_step_equals_flopcountermode(name):
    """The same for the model read by from_torch, frozen by torch's own qualified names."""
    _, _, _, torch_freeze = BY_NAME[name]
    net = imported(name)
    for height, width in sizes(name):
        for freeze in ((), torch_freeze):
            step = training_cost(net, at(height, width), BATCH, freeze=freeze)
            assert step.total == torch_step(name, height, width, freeze, aux=False), (name, height, width, freeze)


def test_stock_flopcountermode_overcounts_a_depthwise_weight_gradient():
    """FlopCounterMode's own convolution backward counts a depthwise convolution's weight gradient
    as if it had one group: G times the multiplications it takes (the issue's 28.9 M for 0.9 M)."""
    conv = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False, device="meta")
    x = torch.empty(1, 32, 56, 56, device="meta", requires_grad=True)

    def step(mapping) -> int:
        with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
            conv(x).sum().backward()
        return counter.get_total_flops() // 2

    forward = 32 * 3 * 3 * 56 * 56  # one multiplication per weight per output position
    assert forward == ca.Conv(32, 32, (3, 3), groups=32).macs(56) == 903168
    stock, fixed = step({}), step(FIXED)
    assert stock == forward + forward + 32 * forward  # the input gradient right, the weight gradient 32 times
    assert stock - 2 * forward == 28901376
    assert fixed == 3 * forward


def test_mobilenet_v2_step_stock_and_fixed():
    """The issue's figure: stock FlopCounterMode counts MobileNet V2's step about 6.9 times what it takes."""
    stock, fixed = torch_step("mobilenet_v2", 224, 224, fixed=False), torch_step("mobilenet_v2", 224, 224)
    assert training_cost("mobilenet_v2", 224, BATCH).total == fixed
    assert 6.8 < stock / fixed < 7.0


def test_layer_by_layer_against_flopcountermode_per_module():
    """Each imported layer's forward and backward against FlopCounterMode's per-module counts
    (it follows the backward into the modules too), frozen prefix and all."""
    name, freeze = "mobilenet_v2", ("features.0", "features.1")
    net = imported(name)
    m = model(name)
    for pname, p in m.named_parameters():
        p.requires_grad_(not any(pname.startswith(f + ".") for f in freeze))
    try:
        with FlopCounterMode(display=False, depth=None, custom_mapping=FIXED) as counter:
            m(torch.empty(BATCH, 3, 225, 161, device="meta")).sum().backward()
    finally:
        for p in m.parameters():
            p.requires_grad_(True)
    counts = counter.get_flop_counts()
    step = training_cost(net, (225, 161), BATCH, freeze=freeze)
    checked = 0
    for row in step.layers:
        if isinstance(row.layer, (ca.Conv, ca.Linear)):
            ops = counts[f"{type(m).__name__}.{row.name}"]
            forward = sum(v for op, v in ops.items() if "backward" not in str(op) and "mm" not in str(op)) // 2
            total = sum(ops.values()) // 2
            if isinstance(row.layer, ca.Conv):
                assert forward == row.forward, row.name
            assert total == row.forward + row.backward, row.name
            checked += 1
    assert checked == sum(isinstance(r.layer, (ca.Conv, ca.Linear)) for r in step.layers) > 50
    first = step.layers[0]
    assert (first.input_gradient, first.weight_gradient, first.trainable) == (0, 0, False)
    trainable = next(r for r in step.layers if r.trainable and isinstance(r.layer, ca.Conv))
    assert trainable.name.startswith("features.2") and trainable.input_gradient == 0
    assert trainable.weight_gradient == trainable.forward


# -- freezing by name: the zoo's stages and torchvision's parts --------------------------------

@pytest.mark.parametrize("name", [f[0] for f in FAMILIES])
def test_torchvision_top_level_names_freeze_the_same_parameters(name):
    """Each of torchvision's top-level modules that holds parameters (``features``, ``classifier``,
    ResNet's ``conv1``, GoogLeNet's ``inception3a`` ...), frozen by that name on the zoo's network
    and on the imported one, freezes exactly the parameters torchvision holds under it."""
    m = model(name)
    parts = [child for child, module in m.named_children() if any(True for _ in module.parameters())]
    assert parts
    for part in parts:
        want = sum(p.numel() for pname, p in m.named_parameters() if pname.split(".")[0] == part)
        step = training_cost(name, sizes(name)[0], 1, freeze=[part])
        assert step.params - step.trainable_params == want, (name, part)
        if name != "inception_v3":  # its import leaves the auxiliary classifier out (it runs in training only)
            mine = training_cost(imported(name), sizes(name)[0], 1, freeze=[part])
            assert mine.params - mine.trainable_params == want, (name, part)


def test_frozen_names_and_refusals():
    assert frozen_layers("resnet18", ["layer1.0"])[0] == "layer1.0.conv1"
    assert all(n.startswith("layer1.") for n in frozen_layers("resnet18", ["layer1"]))
    assert not any(n.startswith("layer1") for n in frozen_layers("resnet18", ["layer2"]))
    with pytest.raises(InvalidValueError, match="no layer of resnet18 is named so"):
        training_cost("resnet18", 224, 1, freeze=["layer9"])
    with pytest.raises(InvalidValueError, match="freeze 3"):
        training_cost("resnet18", 224, 1, freeze=[3])
    with pytest.raises(InvalidValueError):
        training_cost("resnet18", 224, 1, freeze=[""])


@pytest.mark.parametrize("batch", [0, -1, 1.5, "two", "K + 1", float("nan"), True, [2]])
def test_bad_batch_refused(batch):
    with pytest.raises(ConvAlgebraError):
        training_cost("resnet18", 224, batch)


def test_bad_optimizer_and_dtype_refused():
    with pytest.raises(InvalidValueError, match="optimizer 'rmsprop'"):
        training_cost("resnet18", 224, 1, optimizer="rmsprop")
    with pytest.raises(InvalidValueError, match="for training"):
        training_cost("resnet18", 224, 1, dtype="int8")
    with pytest.raises(InvalidValueError, match="fp64"):
        training_cost("resnet18", 224, 1, dtype="fp64")


# -- the closed form in B, H and W, and the rule of thumb -----------------------------------

@lru_cache(maxsize=None)
def closed(name: str, freeze: tuple[str, ...] = ()) -> "ca.TrainingCost":
    return training_cost(name, (H, W), freeze=freeze)


@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(["resnet18", "mobilenet_v2", "shufflenet_v2_x0_5"]),
       h=st.integers(1, 12), w=st.integers(1, 12), batch=st.integers(1, 512),
       freeze=st.sampled_from([(), ("stem",), ("stem", "layer1"), ("head",)]))
def test_closed_form_in_batch_and_size_is_exact_at_multiples_of_the_stride(name, h, w, batch, freeze):
    import sympy

    freeze = tuple(f for f in freeze if f != "layer1" or name == "resnet18")
    symbolic = closed(name, freeze)
    number = training_cost(name, (32 * h, 32 * w), batch, freeze=freeze)
    values = {B: batch, H: 32 * h, W: 32 * w}
    for field in ("forward", "backward", "total", "skipped_input", "skipped_weight"):
        assert sympy.sympify(getattr(symbolic, field)).subs(values) == getattr(number, field), field
    assert sympy.sympify(symbolic.epsilon).subs(values) == number.epsilon


@pytest.mark.parametrize("name,freeze", [("resnet18", ()), ("resnet50", ("stem", "layer1")),
                                         ("mobilenet_v2", ("features",)), ("densenet121", ())])
def test_rule_of_thumb(name, freeze):
    """total = (3 - epsilon) x forward, epsilon the skipped gradients over the forward; B cancels."""
    import sympy

    step = closed(name, freeze)
    assert sympy.simplify(step.total - (3 - step.epsilon) * step.forward) == 0
    assert B not in step.epsilon.free_symbols
    assert sympy.simplify(step.epsilon - step.epsilon_first - step.epsilon_frozen) == 0
    at = training_cost(name, 224, 8, freeze=freeze)
    assert at.total == (3 - at.epsilon) * at.forward
    assert isinstance(at.epsilon, Fraction) and 0 < at.epsilon < 3
    if not freeze:  # only the input gradients nobody needs: those of the stem's first convolution
        first = next(r for r in at.layers if isinstance(r.layer, ca.Conv))
        assert at.skipped_input == first.forward and at.skipped_weight == 0


def test_everything_frozen_is_the_forward_alone():
    step = training_cost("resnet18", 224, 4, freeze=["stem", "layer1", "layer2", "layer3", "layer4", "head"])
    assert (step.backward, step.epsilon, step.trainable_params) == (0, 2, 0)


def test_a_branch_needs_a_gradient_only_from_what_trains_before_it():
    """A trainable branch beside a frozen one: the frozen branch's input needs no gradient
    (nothing before it trains), though a layer before it in the walk does train."""
    frozen_branch = ca.Parallel(ca.Conv(8, 8, (3, 3), name="a"), ca.Conv(8, 8, (3, 3), name="b"))
    net = ca.Network("toy", "toy", (ca.Stage("stem", ca.Conv(3, 8, (3, 3), name="c0")),
                                    ca.Stage("mix", frozen_branch),
                                    ca.Stage("top", ca.Conv(16, 4, (1, 1), name="c1"))))
    step = training_cost(net, 8, 1, freeze=["stem", "mix.a"])
    needs = {r.name: r.input_needs_gradient for r in step.layers}
    assert needs == {"stem.c0": False, "mix.a": False, "mix.b": False, "top.c1": True}
    grads = {r.name: (r.input_gradient, r.weight_gradient) for r in step.layers}
    assert grads["mix.a"] == (0, 0) and grads["mix.b"] == (0, 8 * 9 * 8 * 64)


# -- the command line -----------------------------------------------------------------------

def run(*argv: str) -> tuple[int, str, str]:
    import io

    from convalgebra.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_training_json_is_the_api_s():
    import json

    code, out, _ = run("network", "mobilenet_v2", "--training", "--batch", "2", "--set", "H=225", "W=161",
                       "--freeze", "features", "--format", "json")
    assert code == 0
    data = json.loads(out)["training"]
    step = training_cost("mobilenet_v2", (225, 161), 2, freeze=["features"])
    assert (data["forward"], data["backward"], data["total"]) == (step.forward, step.backward, step.total)
    assert data["total"] == torch_step("mobilenet_v2", 225, 161, ("features",))


def test_cli_count_training_is_torch_s_step():
    import json

    code, out, _ = run("count", "torchvision:resnet18", "--training", "--batch", "2", "--set", "H=225", "W=161",
                       "--freeze", "layer1", "--format", "json")
    assert code == 0
    assert json.loads(out)["training"]["total"] == torch_step("resnet18", 225, 161, ("layer1",))


@pytest.mark.parametrize("argv", [
    ("network", "resnet18", "--batch", "2"), ("network", "resnet18", "--freeze", "layer1"),
    ("network", "resnet18", "--training", "--batch", "0"), ("network", "resnet18", "--training", "--batch", "1e400"),
    ("network", "resnet18", "--training", "--batch", "2.5"), ("network", "resnet18", "--training", "--freeze", "x"),
    ("network", "resnet18", "--training", "--memory"), ("network", "resnet18", "--training", "--dtype", "int8"),
    ("network", "resnet18", "--training", "--optimizer", "lion"), ("count", "torchvision:resnet18", "--dtype", "bf16"),
])
def test_cli_training_refuses_in_one_line(argv):
    code, out, err = run(*argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("convalgebra: error:"), err


# -- training memory: what autograd saves, and the optimizer's state ---------------------------

#: Imported models whose saved tensors are held to torch's: (name, frozen prefix). Dropout and
#: stochastic depth are not layers the library knows (from_torch traces in eval mode, where they
#: do nothing), so they are taken out of the torch model first: in training each keeps its mask.
SAVED = [("resnet18", ("layer1", "fc")), ("mobilenet_v2", ("features",)), ("shufflenet_v2_x0_5", ("stage2",)),
         ("regnet_y_400mf", ("stem",)), ("densenet121", ("classifier",)), ("efficientnet_b0", ("features.0",)),
         ("mobilenet_v3_small", ("classifier",)), ("convnext_tiny", ("features.1",)), ("googlenet", ("fc",))]


def without_dropout(module: "nn.Module") -> "nn.Module":
    from torchvision.ops import StochasticDepth

    for child_name, child in module.named_children():
        if isinstance(child, (nn.Dropout, StochasticDepth)):
            setattr(module, child_name, nn.Identity())
        else:
            without_dropout(child)
    return module


@lru_cache(maxsize=None)
def plain(name: str) -> tuple["nn.Module", "ca.Network"]:
    """The torchvision model without dropout (on meta, in training mode) and the network read from it."""
    kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    m = without_dropout(build(name, kwargs))
    net = from_torch(m.eval(), input_shape=(3, 224, 224), name=name, title=name)
    return m.train(), net


def torch_saved(m: "nn.Module", x: "torch.Tensor", freeze: tuple[str, ...] = ()) -> int:
    """Bytes of the tensors autograd saves during the forward, as ``saved_tensors_hooks`` sees them:
    each storage once (a view counts its base), parameters and buffers left out (they are the model's)."""
    own = list(m.parameters()) + list(m.buffers())
    storages: dict[int, int] = {}

    def pack(t):
        if not any(t is p or t._base is p for p in own):
            base = t if t._base is None else t._base
            storages[id(base)] = base.numel() * base.element_size()
        return t

    for pname, p in m.named_parameters():
        p.requires_grad_(not any(pname == f or pname.startswith(f + ".") for f in freeze))
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            m(x)
    finally:
        for p in m.parameters():
            p.requires_grad_(True)
    return sum(storages.values())


@pytest.mark.parametrize("name,freeze", SAVED)
def test_saved_bytes_equal_what_autograd_saves(name, freeze):
    m, net = plain(name)
    for height, width in SIZES:
        for frozen in ((), freeze):
            want = torch_saved(m, torch.empty(BATCH, 3, height, width, device="meta"), frozen)
            assert training_cost(net, at(height, width), BATCH, freeze=frozen).saved_bytes == want, \
                (name, height, width, frozen)


@pytest.mark.parametrize("activation", ["ReLU", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "GELU", "Sigmoid", "Tanh"])
@pytest.mark.parametrize("inplace", [True, False])
def test_saved_bytes_of_each_activation_in_place_or_not(activation, inplace):
    """ReLU, sigmoid and tanh keep their output, which the next convolution keeps as its input:
    one tensor; the others keep their input, and torch copies it first when they run in place."""
    kind = getattr(nn, activation)
    act = kind(inplace=True) if inplace and "inplace" in kind.__init__.__code__.co_varnames else kind()
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), act, nn.MaxPool2d(2),
                      nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.AvgPool2d(2), nn.Conv2d(8, 6, 1),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5)).to("meta")
    net = from_torch(m.eval(), input_shape=(3, 16, 16))
    m.train()
    for batch, (height, width) in ((1, (16, 16)), (3, (17, 23))):
        want = torch_saved(m, torch.empty(batch, 3, height, width, device="meta"))
        assert training_cost(net, at(height, width), batch).saved_bytes == want


def test_saved_bytes_in_closed_form():
    """The closed form in B, H and W is the count at each multiple of the stride."""
    import sympy

    m, net = plain("resnet18")
    form = training_cost(net, (H, W)).saved_bytes
    for batch, height, width in ((1, 64, 96), (3, 128, 32)):
        want = torch_saved(m, torch.empty(batch, 3, height, width, device="meta"))
        assert sympy.sympify(form).subs({B: batch, H: height, W: width}) == want


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_optimizer_state_equals_torch_s_after_one_step(optimizer):
    """The elements of state torch's optimizer keeps after one step on a small CPU model, a prefix frozen."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.Conv2d(8, 8, 3, padding=1, groups=4), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    net = from_torch(m.eval(), input_shape=(3, 8, 8))
    for freeze in ((), ("0", "1")):
        for pname, p in m.named_parameters():
            p.requires_grad_(not pname.startswith(freeze))
        params = [p for p in m.parameters() if p.requires_grad]
        make = {"sgd": lambda: torch.optim.SGD(params, lr=0.1),
                "momentum": lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9),
                "adam": lambda: torch.optim.Adam(params), "adamw": lambda: torch.optim.AdamW(params)}[optimizer]
        opt = make()
        m.train()(torch.randn(2, 3, 8, 8)).sum().backward()
        opt.step()
        state = sum(v.numel() for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor))
        step = training_cost(net, 8, 2, freeze=freeze, optimizer=optimizer)
        assert step.optimizer_elements == state, (optimizer, freeze)
        assert step.trainable_params == sum(p.numel() for p in params)
        assert step.gradient_bytes == 4 * sum(p.grad.numel() for p in params)
        m.zero_grad(set_to_none=True)


def test_batch_that_fits():
    step = training_cost("resnet18", 224, optimizer="adam")
    fits = step.batch_that_fits(16 * 2**30)
    at_fit, over = (training_cost("resnet18", 224, b, optimizer="adam").peak_bytes for b in (fits, fits + 1))
    assert at_fit <= 16 * 2**30 < over
    import sympy

    form = training_cost("resnet18", (H, W)).batch_that_fits(2**34)
    assert form.subs({H: 224, W: 224}) == training_cost("resnet18", 224).batch_that_fits(2**34)
    with pytest.raises(InvalidValueError, match="at the batch B"):
        training_cost("resnet18", 224, 8).batch_that_fits(2**34)
    fp32, bf16 = training_cost("resnet18", 224), training_cost("resnet18", 224, dtype="bf16")
    copies = sum(r.weight_copies for r in bf16.layers)  # autocast's 2-byte weights, kept for the backward
    assert copies == sum(r.params for r in fp32.layers if isinstance(r.layer, (ca.Conv, ca.Linear))) - 1000
    assert sympy.expand(fp32.saved_bytes - bf16.saved_bytes - 2 * fp32.saved_elements + 2 * copies) == 0
    assert (bf16.weight_bytes, bf16.gradient_bytes) == (fp32.weight_bytes, fp32.gradient_bytes)  # fp32 masters


def test_stages_sum_their_layers_and_the_zoo_s_memory_is_a_lower_bound():
    import sympy

    step = training_cost("mobilenet_v2", (H, W), freeze=["features"])
    assert sympy.expand(sum(s.forward for s in step.stages) - step.forward) == 0
    assert sympy.expand(sum(s.backward for s in step.stages) - step.backward) == 0
    assert sum(s.trainable_params for s in step.stages) == step.trainable_params
    zoo, real = training_cost("mobilenet_v2", 224, 2), training_cost(plain("mobilenet_v2")[1], 224, 2)
    assert (zoo.saved_is_exact, real.saved_is_exact) == (False, True)
    assert zoo.saved_bytes < real.saved_bytes and zoo.total == real.total


@pytest.mark.parametrize("name,freeze", [("resnet18", ("layer1",)), ("mobilenet_v2", ("features.3",)),
                                         ("shufflenet_v2_x0_5", ())])
def test_mixed_precision_saved_bytes_equal_cpu_autocast(name, freeze):
    """Under bf16 autocast (on the CPU: autocast needs real tensors), what autograd keeps: the
    activations at 2 bytes, autocast's 2-byte copies of the weights, the norms' statistics in float32."""
    torch.manual_seed(0)
    m = without_dropout(getattr(torchvision.models, name)())
    net = from_torch(m.eval(), input_shape=(3, 64, 64))
    m.train()
    own = list(m.parameters()) + list(m.buffers())
    storages: dict[int, int] = {}

    def pack(t):
        if not any(t is p or t._base is p for p in own):
            base = t if t._base is None else t._base
            storages[id(base)] = base.numel() * base.element_size()
        return t

    for pname, p in m.named_parameters():
        p.requires_grad_(not any(pname.startswith(f + ".") for f in freeze))
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m(torch.randn(2, 3, 64, 80))
    assert training_cost(net, (64, 80), 2, freeze=freeze, dtype="bf16").saved_bytes == sum(storages.values())
