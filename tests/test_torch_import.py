"""from_torch: any traceable PyTorch CNN as a network, held to PyTorch's own counts.

The reference counts here are torch's, taken independently of the import: MACs are
FlopCounterMode's FLOPs of one forward pass on the meta device / 2, parameters are
``sum(p.numel() for p in model.parameters())``, per module where a test goes layer by layer."""

from __future__ import annotations

import io
import textwrap
import warnings
from functools import lru_cache

import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.blocks import iter_layers  # noqa: E402
from convalgebra.cli import main  # noqa: E402
from convalgebra.errors import ConvAlgebraError, InvalidValueError  # noqa: E402
from convalgebra.layers import Conv, Linear, Uncounted  # noqa: E402
from convalgebra.symbols import H, W  # noqa: E402
from convalgebra.torch_import import from_torch, load_model  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)  # googlenet's and inception's initializer notices

#: A representative family each, at three sizes: square, odd and oblong, small and oblong.
FAMILIES = ["alexnet", "vgg11_bn", "squeezenet1_1", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2",
            "densenet121", "googlenet", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "efficientnet_b0",
            "shufflenet_v2_x0_5", "regnet_y_400mf", "convnext_tiny"]
SIZES = [(224, 224), (225, 161), (97, 131)]
ALL = torchvision.models.list_models(module=torchvision.models)
TRANSFORMERS = ("vit_", "swin_", "maxvit_")  # attention: not CNNs; refused or shown as not counted, never wrong


@lru_cache(maxsize=None)
def model(name: str) -> "nn.Module":
    return load_model(f"torchvision:{name}").eval()


@lru_cache(maxsize=None)
def imported(name: str) -> "ca.Network":
    return from_torch(model(name), name=name, title=name)


@lru_cache(maxsize=None)
def closed(name: str) -> "ca.NetworkCost":
    return imported(name).count((H, W))


def torch_count(m: "nn.Module", height: int, width: int, channels: int = 3) -> tuple[int, int, dict]:
    """(MACs, params, FLOPs per module) as PyTorch counts them."""
    device = next(m.parameters()).device
    with FlopCounterMode(display=False) as counter:
        m(torch.empty(1, channels, height, width, device=device))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, sum(p.numel() for p in m.parameters()), counter.get_flop_counts()


def at(height: int, width: int):
    return height if height == width else (height, width)


@pytest.mark.parametrize("name", FAMILIES)
def test_families_exact_at_three_sizes(name):
    net = imported(name)
    for height, width in SIZES:
        macs, params, _ = torch_count(model(name), height, width)
        cost = net.count(at(height, width))
        assert (cost.macs, cost.params) == (macs, params), (name, height, width)
        assert cost.uncounted == ()


@pytest.mark.parametrize("name", ["inception_v3"])
def test_inception_exact_at_its_sizes(name):
    net = imported(name)
    for height, width in [(299, 299), (301, 250)]:
        macs, params, _ = torch_count(model(name), height, width)
        assert net.total(at(height, width)) == (macs, params)


#: One of each kind of transformer is enough to show it refused or its attention named (the suite stays cheap).
SOME_TRANSFORMERS = ("vit_b_16", "swin_t", "maxvit_t")


@pytest.mark.parametrize("name", [n for n in ALL if n not in FAMILIES  # the families: above, at 224 too
                                  and (not n.startswith(TRANSFORMERS) or n in SOME_TRANSFORMERS)])
def test_every_torchvision_classifier_at_224(name):
    """Every CNN exactly; a transformer refused in one line or counted with its unknown ops named."""
    macs, params, _ = torch_count(model(name), 224, 224)
    if name.startswith(TRANSFORMERS):
        try:
            cost = from_torch(model(name), name=name).count(224)
        except ConvAlgebraError as error:
            assert "\n" not in str(error) and name in str(error)
            return
        assert cost.params == params
        assert cost.macs == macs or (cost.uncounted and cost.macs < macs)
        return
    cost = imported(name).count(224)
    assert (cost.macs, cost.params, cost.uncounted) == (macs, params, ())


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v3_large", "shufflenet_v2_x1_0", "convnext_tiny", "densenet121"])
def test_layer_by_layer(name):
    """Each convolution and linear layer, by torch's own name: FlopCounterMode's count for that
    module, and the module's own parameters."""
    m = model(name)
    _, _, per_module = torch_count(m, 225, 161)
    modules = dict(m.named_modules())
    prefix = type(m).__name__
    rows = [r for r in imported(name).count((225, 161)).layers if isinstance(r.layer, (Conv, Linear))]
    assert len(rows) == sum(isinstance(x, (nn.Conv2d, nn.Linear)) for x in modules.values())
    for row in rows:
        flops = sum(per_module[f"{prefix}.{row.name}"].values())
        assert (row.macs, row.params) == (flops // 2, sum(p.numel() for p in modules[row.name].parameters())), row.name


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(["resnet50", "mobilenet_v2", "efficientnet_b0", "shufflenet_v2_x1_0", "convnext_tiny"]),
       a=st.integers(1, 12), b=st.integers(1, 12))
def test_closed_form_equals_the_count_where_exact(name, a, b):
    cost = closed(name)
    multiples = cost.exact_multiples
    height, width = a * multiples[H], b * multiples[W]
    exact = imported(name).count(at(height, width))
    assert cost.macs.subs({H: height, W: width}) == exact.macs
    assert cost.params == exact.params
    if name == "mobilenet_v2" and a == b:  # and the count is torch's there
        assert exact.macs == torch_count(model(name), height, width)[0]


def test_the_closed_form_condition():
    assert closed("resnet50").exact_when() == "H and W are multiples of 32"
    assert closed("resnet50").macs.subs({H: 224, W: 224}) == 4089184256


# -- small models: unknown ops, shared modules, tracing -----------------------------------

class Odd(nn.Module):
    """A convolution, an op the library does not know (erf), then a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.erf(self.conv(x))), 1))


class Shared(nn.Module):
    """One convolution called twice."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.conv = nn.Conv2d(16, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)

    def forward(self, x):
        return self.conv(self.bn(self.conv(self.stem(x))))


class Branchy(nn.Module):
    """Control flow on a tensor's value: torch.fx cannot trace it."""

    def forward(self, x):
        return x if x.sum() > 0 else -x


def test_an_unknown_op_is_named_shown_and_refused_under_strict():
    net = from_torch(Odd(), (3, 10, 12))
    cost = net.count((10, 12))
    assert [(r.name, r.layer.op) for r in cost.uncounted] == [("erf", "erf")]
    macs, params, _ = torch_count(Odd(), 10, 12)
    assert (cost.macs, cost.params) == (macs, params)  # erf costs no MACs in torch either: named, not hidden
    assert "not counted: erf" in cost.to_text() and "Not counted: 1 operation" in cost.to_text()
    assert cost.to_dict()["not_counted"] == [{"name": "erf", "op": "erf"}]
    with pytest.raises(InvalidValueError, match=r"1 operation\(s\) the library does not count: erf \(erf\); strict"):
        from_torch(Odd(), (3, 10, 12), strict=True)


def test_a_module_called_twice_counts_at_each_call_and_its_parameters_once():
    m = Shared()
    cost = from_torch(m, (3, 9, 7)).count((9, 7))
    macs, params, _ = torch_count(m, 9, 7)
    assert (cost.macs, cost.params) == (macs, params)
    assert [r.name for r in cost.layers] == ["stem", "conv", "bn", "conv (call 2)"]
    assert cost.layers[1].macs == cost.layers[3].macs and cost.layers[3].params == 0


def test_a_model_that_cannot_be_traced_is_one_line():
    with pytest.raises(InvalidValueError, match=r"^Branchy cannot be traced by torch.fx \(TraceError: .*\) nor exported"
                                                r" by torch.export at 1 x 3 x 8 x 8 \(its forward branches on the values"
                                                r" in a tensor") as error:
        from_torch(Branchy(), (3, 8, 8))
    assert "\n" not in str(error.value)


def test_a_model_on_the_cpu_and_its_training_flags_are_kept():
    m = torchvision.models.resnet18()  # real weights on the CPU, in training mode
    net = from_torch(m, (3, 64, 80))
    assert m.training and all(x.training for x in m.modules())
    assert net.total((64, 80)) == torch_count(m.eval(), 64, 80)[:2]


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "shufflenet_v2_x0_5", "convnext_tiny"])
def test_exported_back_to_torch_counts_the_same(name):
    net = imported(name)
    back = ca.to_torch(net, device="meta").eval()
    assert torch_count(back, 97, 131)[:2] == net.total((97, 131)) == torch_count(model(name), 97, 131)[:2]


def test_stages_are_the_top_level_children():
    assert [s.name for s in imported("resnet50").stages] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2",
                                                              "layer3", "layer4", "avgpool", "fc"]
    googlenet = imported("googlenet")
    assert [s.name for s in googlenet.stages if s.side] == ["unused"]  # the auxiliary classifiers: params, no MACs
    assert {layer.module for layer in iter_layers(googlenet.stages[-1].block)} >= {"aux1.conv.conv", "aux2.fc2"}


# -- the command line ------------------------------------------------------------------

def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_count_torchvision():
    code, out, _ = run("count", "torchvision:resnet18", "--set", "H=224", "W=160", "--format", "json")
    assert code == 0
    import json

    data = json.loads(out)
    assert data["total"]["macs"] == torch_count(model("resnet18"), 224, 160)[0]
    assert data["total_symbolic"] == {"macs": "36144*H*W + 512000", "params": 11689512,
                                      "exact_when": "H and W are multiples of 32"}
    assert data["layers"][4]["name"] == "layer1.0.conv1"


def test_cli_count_a_users_file(tmp_path):
    builder = tmp_path / "mine.py"
    builder.write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class Odd(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1)

            def forward(self, x):
                return torch.erf(self.conv(x))

        def build():
            return Odd()
    """))
    code, out, _ = run("count", f"{builder}:build", "--set", "I=16")
    assert code == 0 and "not counted: erf" in out and "(not counted)" in out and "55,296" in out  # 3*3*3*8*16*16
    code, _, err = run("count", f"{builder}:build", "--strict")
    assert code == 2 and err.startswith("convalgebra: error: ") and err.count("\n") == 1 and "erf" in err
    code, _, err = run("count", f"{builder}:missing")
    assert code == 2 and "has no function 'missing'" in err


@pytest.mark.parametrize("argv, message", [
    (("count", "torchvision:resnet5"), "unknown torchvision model 'resnet5'; did you mean resnet50"),
    (("count", "resnet50"), "expected torchvision:NAME, timm:NAME or FILE.py:FUNCTION"),
    (("count", "torchvision:resnet18", "--set", "K=3"), "not K"),
    (("count", "torchvision:resnet18", "--set", "I=224", "H=3"), "not both"),
    (("count", "torchvision:vit_b_16", "--set", "I=225"), "VisionTransformer does not run on a 1 x 3 x 225 x 225"),
])
def test_cli_count_bad_input_is_one_line(argv, message):
    code, _, err = run(*argv)
    assert code == 2 and message in err and err.count("\n") == 1


def test_cli_help_says_a_file_runs():
    code, out, _ = run("count", "--help")
    assert code == 0 and "that file is your code, and it runs" in " ".join(out.split())


# -- the article's modules, recognized by the rules -------------------------------------

@pytest.mark.parametrize("name, line", [
    ("resnet50", "resnet50: 16 bottlenecks (t = 4)"),                     # He et al. 2016, Table 1: 3+4+6+3
    ("resnext50_32x4d", "resnext50_32x4d: 16 resnexts (t = 2; G = 32)"),  # Xie et al. 2017: 32 groups, width 128 of 256
    ("mobilenet_v2", "mobilenet_v2: 1 depthwise-separable; 16 inverted-bottlenecks (t = 6)"),  # Table 2: t = 1 once
    ("efficientnet_b0", "efficientnet_b0: 16 mbconvs (t = 1 (1x), 6 (15x); r = 4 (1x), 24 (15x))"),  # MBConv1 once
    ("shufflenet_v2_x1_0", "shufflenet_v2_x1_0: 16 shufflenet-v2s (3 down-sampling units)"),  # 3 stride-2 units
    ("convnext_tiny", "convnext_tiny: 18 convnexts (t = 4)"),             # Liu et al. 2022: (3, 3, 9, 3)
])
def test_recognized_modules(name, line):
    _, summary = ca.recognize_network(imported(name))
    assert summary == line


def test_recognized_blocks_with_their_parameters_and_strides():
    found = dict(ca.recognize_network(imported("resnet50"))[0])
    assert found["layer2.0"].text == "bottleneck (t = 4), stride 2" and found["layer1.1"].text == "bottleneck (t = 4)"
    found = dict(ca.recognize_network(imported("mobilenet_v3_large"))[0])
    assert found["features.4"].text == "mbconv (t = 3, r = 3), stride 2"  # 24 -> 72, SE squeeze to 24 (72/3)
    assert found["features.2"].text == "inverted-bottleneck (t = 4), stride 2"


def test_the_blocks_recognized_are_part_of_the_counts_view_in_every_format():
    """``count`` names each block in text, Markdown, LaTeX and HTML alike, and JSON lists them
    with their parameters: the same facts as recognize_network, from the one view."""
    found, summary = ca.recognize_network(imported("mobilenet_v2"))
    cost = imported("mobilenet_v2").count(224)
    for shown in (cost.to_text(), cost.to_markdown(), cost.to_html(), cost.to_latex().replace("\\_", "_")):
        assert shown.count(summary) == 1 and "features.2" in shown and "inverted-bottleneck (t = 6), stride 2" in shown
    data = cost.to_dict()
    assert data["modules"] == summary
    assert [(b["name"], b["module"], b["parameters"], b["stride"]) for b in data["blocks"]] == [
        (name, r.module, dict(r.parameters), r.stride) if r else (name, None, {}, None) for name, r in found]
    code, out, _ = run("count", "torchvision:resnet18", "--format", "markdown")
    assert code == 0 and "Modules: " in out


# -- a few timm CNNs (the test extra installs timm; tests/test_graph_import.py holds a model of each family) --

#: timm models whose fused BatchNormAct2d calls batch norm as a function, or whose head calls
#: linear as a function: the table of ops counts the functional forms as the modules.
TIMM = ("resnet50", "convnext_nano", "efficientnet_b0", "mixnet_s", "densenet121", "mobilenetv3_large_100")


@pytest.mark.parametrize("name", TIMM)
def test_a_few_timm_cnns_exact(name):
    pytest.importorskip("timm")
    m = load_model(f"timm:{name}").eval()
    net = from_torch(m, (3, 193, 161), name=name, strict=True)
    macs, params, _ = torch_count(m, 193, 161)
    cost = net.count((193, 161))
    assert (cost.macs, cost.params, cost.uncounted) == (macs, params, ())
