"""from_torch on models nobody here wrote: any DAG, any output container, functional forms,
control flow, unused values, attention. The references are torch's own, taken independently of
the import: MACs are FlopCounterMode's FLOPs of one forward on the meta device / 2, parameters
``sum(p.numel() for p in model.parameters())``. Each model is built once, on meta."""

from __future__ import annotations

import io
import json
import warnings
from functools import lru_cache

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.blocks import Graph, iter_layers  # noqa: E402
from convalgebra.cli import main  # noqa: E402
from convalgebra.errors import InvalidValueError  # noqa: E402
from convalgebra.layers import Traced  # noqa: E402
from convalgebra.symbols import H, W  # noqa: E402
from convalgebra.torch_import import from_torch, load_model  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)


def torch_count(m: "nn.Module", shape: tuple[int, ...]) -> tuple[int, int]:
    """(MACs, params) as PyTorch counts them, on meta."""
    with FlopCounterMode(display=False) as counter:
        m(torch.empty(1, *shape, device="meta"))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, sum(p.numel() for p in m.parameters())


def at(shape: tuple[int, ...]):
    height, width = shape[-2:]
    return height if height == width else (height, width)


def exact(m: "nn.Module", shape: tuple[int, ...], name: str = "") -> "ca.NetworkCost":
    """The import at ``shape`` counted there, asserted equal to torch's count; the cost returned."""
    cost = from_torch(m, shape, name=name).count(at(shape))
    assert (cost.macs, cost.params) == torch_count(m, shape), (name, shape)
    return cost


# -- timm: one small model a family --------------------------------------------------------------------

#: (family's model, the two sizes: a square one, an odd oblong one where the model takes it). DLA and
#: HRNet add strided paths that must agree (multiples of 32); the transformers take their size only.
TIMM = [
    ("dla34", (224, 224), (256, 160)),                 # not series-parallel: trees of aggregations
    ("hrnet_w18_small", (224, 224), (256, 160)),       # not series-parallel: multi-resolution fusion
    ("dpn68", (224, 224), (193, 161)),                 # dual paths: slices of a sum, a growing concatenation
    ("vovnet39a", (224, 224), (193, 161)),             # one-shot aggregation
    ("rexnet_100", (224, 224), (193, 161)),            # a residual onto part of the channels
    ("selecsls42b", (224, 224), (193, 161)),
    ("nfnet_l0", (224, 224), (193, 161)),              # F.conv2d on standardized weights, a gain beside
    ("res2net50_14w_8s", (224, 224), (193, 161)),      # split into unequal use of pieces
    ("edgenext_xx_small", (224, 224), (193, 161)),     # transposed attention, a positional encoding from the size
    ("poolformer_s12", (224, 224), (193, 161)),        # pool(x) - x: a difference of two maps
    ("fastvit_t8", (224, 224), (193, 161)),
    ("ghostnet_100", (224, 224), (193, 161)),
    ("resnest14d", (224, 224), (193, 161)),            # a sum over split groups
    ("efficientnet_b0", (224, 224), (193, 161)),       # timm's BatchNormAct2d: batch norm as a function
    ("mobilenetv3_large_100", (224, 224), (193, 161)),  # its head's F.linear
    ("convnext_nano", (224, 224), (193, 161)),
    ("cspresnet50", (224, 224), (193, 161)),
    ("levit_128s", (224, 224), None),                  # attention on tokens: counted at the traced size
    ("vit_tiny_patch16_224", (224, 224), None),
    ("coatnet_0_rw_224", (224, 224), None),
]


@lru_cache(maxsize=None)
def timm_model(name: str) -> "nn.Module":
    pytest.importorskip("timm")
    return load_model(f"timm:{name}").eval()


@pytest.mark.parametrize("name, square, oblong", TIMM, ids=[t[0] for t in TIMM])
def test_timm_families_exact_at_two_sizes(name, square, oblong):
    m = timm_model(name)
    for size in (square, oblong):
        if size is not None:
            cost = exact(m, (3, *size), name)
            assert cost.network.domain == ""


@pytest.mark.parametrize("name", ["dla34", "hrnet_w18_small"])
def test_a_graph_that_is_not_series_parallel_is_a_graph_block_and_its_closed_form_holds(name):
    net = from_torch(timm_model(name), (3, 224, 224), name=name)
    assert any(isinstance(s.block, Graph) or any(isinstance(b, Graph) for b in getattr(s.block, "items", ()))
               for s in net.stages)
    closed = net.count((H, W))
    multiples = closed.exact_multiples
    assert multiples == {H: 32, W: 32}
    for a, b in [(7, 5), (9, 9)]:
        height, width = a * multiples[H], b * multiples[W]
        counted = net.count((height, width))
        assert closed.macs.subs({H: height, W: width}) == counted.macs
        assert (counted.macs, counted.params) == torch_count(timm_model(name), (3, height, width))


def test_efficientnetv2_tf_has_control_flow_and_is_exported_at_its_size():
    """timm's TF-style SAME padding reads the size in Python: torch.fx cannot trace it, torch.export
    takes the path of the given size, and the count holds there only (other sizes refused in one line)."""
    m = timm_model("tf_efficientnetv2_b0")
    for size in [(224, 224), (193, 161)]:
        net = from_torch(m, (3, *size), name="tf_efficientnetv2_b0")
        assert net.domain == f"{size[0]} x {size[1]}" and "torch.export" in net.source
        assert net.total(at(size)) == torch_count(m, (3, *size))
    with pytest.raises(InvalidValueError, match=r"counts at 193 x 161 only; import it at I = 224") as error:
        net.count(224)
    assert "\n" not in str(error.value)


# -- torchvision beyond classification ---------------------------------------------------------------

@lru_cache(maxsize=None)
def tv_model(name: str, **kwargs) -> "nn.Module":
    builder = torchvision.models.get_model_builder(name)
    with torch.device("meta"):
        return builder(weights=None, **kwargs).eval()


@pytest.mark.parametrize("name, kwargs", [("fcn_resnet50", {"aux_loss": True}),
                                          ("deeplabv3_mobilenet_v3_large", {}),
                                          ("lraspp_mobilenet_v3_large", {})])
def test_segmentation_models_every_output_counted_and_in_closed_form(name, kwargs):
    m = tv_model(name, weights_backbone=None, **kwargs)
    for size in [(224, 224), (193, 161)]:
        cost = exact(m, (3, *size), name)
    net = cost.network
    if kwargs:  # {"out", "aux"}: both heads counted, both named as outputs
        assert net.outputs == ("out", "aux") and cost.to_dict()["outputs"] == ["out", "aux"]
    closed = net.count((H, W))  # the logits resized to the input's size: H and W stay symbols
    assert closed.exact_multiples is not None
    height, width = 5 * closed.exact_multiples[H], 3 * closed.exact_multiples[W]
    assert closed.macs.subs({H: height, W: width}) == net.count((height, width)).macs


def test_a_detection_backbone_with_its_feature_pyramid():
    from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

    with torch.device("meta"):
        m = resnet_fpn_backbone(backbone_name="resnet18", weights=None).eval()
    for size in [(224, 224), (193, 161)]:
        cost = exact(m, (3, *size), "fpn")
    assert cost.network.outputs == ("0", "1", "2", "3", "pool")  # every level of the pyramid


def test_r3d_a_video_model():
    m = tv_model("r3d_18")
    for shape in [(3, 8, 112, 112), (3, 5, 97, 81)]:
        cost = exact(m, shape, "r3d_18")
    assert cost.network.in_channels == 3
    code, _, err = run("count", "torchvision:r3d_18", "--set", "I=64")  # without --frames: one line
    assert code == 2 and err.count("\n") == 1 and "VideoResNet" in err
    code, out, _ = run("count", "torchvision:r3d_18", "--frames", "4", "--set", "I=64")
    assert code == 0 and f"{torch_count(m, (3, 4, 64, 64))[0]:,} MACs" in out


# -- models written by hand ---------------------------------------------------------------------------

class UNet(nn.Module):
    """A small UNet: skip connections concatenated after a transposed convolution, and an
    interpolation to the skip's size (the way people write it for odd sizes)."""

    def __init__(self) -> None:
        super().__init__()

        def block(a: int, b: int) -> nn.Module:
            return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(inplace=True),
                                 nn.Conv2d(b, b, 3, padding=1), nn.ReLU(inplace=True))

        self.down1, self.down2, self.bottom = block(3, 8), block(8, 16), block(16, 32)
        self.up2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.dec2, self.dec1 = block(32, 16), block(24, 8)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(F.max_pool2d(d1, 2))
        b = self.bottom(F.max_pool2d(d2, 2))
        u2 = self.dec2(torch.cat([F.interpolate(self.up2(b), size=d2.shape[2:]), d2], dim=1))
        u1 = F.interpolate(u2, size=d1.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(self.dec1(torch.cat([u1, d1], dim=1)))


class Functional(nn.Module):
    """A CNN written with torch.nn.functional and raw parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(16, 3, 3, 3))
        self.b1 = nn.Parameter(torch.zeros(16))
        self.gamma, self.beta = nn.Parameter(torch.ones(16)), nn.Parameter(torch.zeros(16))
        self.register_buffer("mean", torch.zeros(16))
        self.register_buffer("var", torch.ones(16))
        self.w2 = nn.Parameter(torch.randn(32, 8, 3, 3))
        self.fc = nn.Parameter(torch.randn(10, 32))

    def forward(self, x):
        x = F.conv2d(x, self.w1, self.b1, stride=2, padding=1)
        x = F.relu(F.batch_norm(x, self.mean, self.var, self.gamma, self.beta))
        x = F.conv2d(x, self.w2, None, padding=1, groups=2)
        x = F.adaptive_avg_pool2d(F.max_pool2d(x, 3, 2, 1), 1).flatten(1)
        return F.linear(x, self.fc)


class ShapeIf(nn.Module):
    """A forward that reads the size in Python (torch.fx cannot trace it)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.big = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.conv(x)
        if x.shape[-1] > 64:
            x = self.big(x)
        return self.fc(x.mean((2, 3)))


class UnusedBranch(nn.Module):
    """A branch computed and never returned, and a value read by two later joins."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
        self.c, self.d = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(16, 8, 1)
        self.probe = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.a(x)
        y, z = self.b(x), self.c(x)
        _ = self.probe(z)  # computed, unused
        return self.d(torch.cat([y, z], 1)) + x + y


class Pieces(nn.Module):
    """Unequal pieces of a split read from the end (``parts[-2]``), a slice with negative bounds."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 1)
        self.mid = nn.Conv2d(16, 8, 3, padding=1)
        self.tail = nn.Conv2d(12, 4, 1)

    def forward(self, x):
        parts = torch.split(self.conv(x), [8, 16, 8], dim=1)
        y = self.mid(parts[-2])
        return self.tail(torch.cat([y, x[:, -3:], parts[-1][:, :-7]], 1))


@pytest.mark.parametrize("model", [UNet, Functional, UnusedBranch, Pieces], ids=lambda m: m.__name__)
def test_hand_written_models_exact_at_two_sizes_and_in_closed_form(model):
    with torch.device("meta"):
        m = model().eval()
    for shape in [(3, 64, 64), (3, 97, 75)]:
        cost = exact(m, shape, model.__name__)
    closed = cost.network.count((H, W))
    multiples = closed.exact_multiples
    height, width = 3 * multiples[H], 5 * multiples[W]
    assert closed.macs.subs({H: height, W: width}) == torch_count(m, (3, height, width))[0]


def test_an_unused_branch_is_counted_and_marked_unused():
    with torch.device("meta"):
        m = UnusedBranch().eval()
    cost = exact(m, (3, 16, 12))
    assert [r.name for r in cost.layers if r.unused] == ["probe"]
    assert "(unused)" in cost.to_text() and "Unused: 1 layer(s)" in cost.to_text()
    data = cost.to_dict()
    assert [r["name"] for r in data["layers"] if r.get("unused")] == data["unused"] == ["probe"]
    assert data["counted_at_traced_size_only"] == [] and data["exported_at"] is None


def test_the_issue_s_trunk_returning_its_first_level_is_not_short():
    """A ResNet-50 trunk that computes every stage and returns layer1's output: torch runs 4.09 G
    MACs and holds 23.5 M parameters; both are counted, the stages after layer1 marked unused."""
    class Trunk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.r = torchvision.models.resnet50()
            del self.r.fc

        def forward(self, x):
            r = self.r
            a = r.layer1(r.maxpool(r.relu(r.bn1(r.conv1(x)))))
            r.layer4(r.layer3(r.layer2(a)))
            return a

    with torch.device("meta"):
        m = Trunk().eval()
    cost = exact(m, (3, 224, 224))
    assert cost.params == 23508032 and cost.macs > 4_000_000_000
    assert all(r.unused == r.name.startswith(("r.layer2", "r.layer3", "r.layer4")) for r in cost.layers)
    assert from_torch(m, (3, 224, 224), strict=True).total(224) == (cost.macs, cost.params)  # nothing lost


def test_a_shape_if_takes_the_path_of_each_size():
    with torch.device("meta"):
        m = ShapeIf().eval()
    for shape in [(3, 96, 80), (3, 48, 40)]:  # the big conv runs at the first size only
        net = from_torch(m, shape)
        assert net.domain == f"{shape[1]} x {shape[2]}"
        assert net.total(at(shape)) == torch_count(m, shape)
    with pytest.raises(InvalidValueError, match="ShapeIf was exported by torch.export at 48 x 40"):
        net.count((H, W))


def test_what_depends_on_the_values_is_refused_in_one_line_naming_the_model_and_reason():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(InvalidValueError, match=r"^Branchy cannot be traced by torch.fx \(TraceError.*nor exported"
                                                r" by torch.export at 1 x 3 x 8 x 8 \(its forward branches on the"
                                                r" values in a tensor at test_graph_import.py:\d+ in forward, which no"
                                                r" count of costs can follow\): ") as error:
        from_torch(Branchy(), (3, 8, 8))
    assert "\n" not in str(error.value)


def test_the_users_model_is_untouched_on_the_cpu_with_weights():
    m = UNet()  # real weights on the CPU, in training mode
    before = {k: v.clone() for k, v in m.state_dict().items()}
    cost = from_torch(m, (3, 32, 48)).count((32, 48))
    assert m.training and all(x.training for x in m.modules())
    assert all(p.device.type == "cpu" and p.requires_grad for p in m.parameters())
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    with torch.device("meta"):
        twin = UNet().eval()
    assert (cost.macs, cost.params) == torch_count(twin, (3, 32, 48))


def test_a_constant_made_in_forward_is_not_stowed_on_the_users_model():
    class Doubled(nn.Module):  # torch.fx keeps torch.tensor(2.0) as a constant: on a module of its own, not the model
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x) * torch.tensor(2.0)

    m = Doubled()
    before = set(vars(m))
    for _ in range(2):
        cost = from_torch(m, (3, 17, 23)).count((17, 23))
        assert set(vars(m)) == before
    with torch.device("meta"):
        twin = Doubled()
    assert (cost.macs, cost.params) == torch_count(twin, (3, 17, 23))


def test_a_graph_network_works_everywhere_networks_do():
    """JSON, memory traffic, the export back to torch, the tables: on a graph network (DLA)."""
    net = from_torch(timm_model("dla34"), (3, 224, 224), name="dla34")
    cost = net.count(224)
    data = json.loads(json.dumps(cost.to_dict()))
    assert data["total"]["macs"] == cost.macs and data["total_symbolic"]["exact_when"] == "H and W are multiples of 32"
    memory = ca.network_memory(net, 224)
    assert memory.macs == cost.macs
    back = ca.to_torch(net, device="meta").eval()
    assert torch_count(back, (3, 224, 224)) == (cost.macs, cost.params)
    assert len({layer.name for stage in net.stages for layer in iter_layers(stage.block)}) == len(cost.layers)


def test_attention_is_counted_at_the_traced_size_and_refused_elsewhere():
    net = from_torch(timm_model("vit_tiny_patch16_224"), (3, 224, 224))
    assert any(isinstance(x, Traced) for s in net.stages for x in iter_layers(s.block))
    assert net.closed_form() is None
    with pytest.raises(InvalidValueError, match="counted as PyTorch counts them at the traced size only") as error:
        net.count((H, W))
    assert "\n" not in str(error.value)


# -- the command line ---------------------------------------------------------------------------------

def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, words", [
    (("count", "torchvision:alexnet", "--set", "I=16"), "AlexNet does not run"),  # a size the model cannot take
    (("count", "torchvision:r3d_18"), "VideoResNet does not run"),           # a 3-D model without its frames
    (("count", "timm:vit_tiny_patch16_224", "--set", "I=160"), "VisionTransformer does not run"),
])
def test_the_cli_never_prints_a_traceback(argv, words):
    code, out, err = run(*argv)
    assert code == 2 and err.count("\n") == 1 and words in err and "Traceback" not in err + out


def test_cli_counts_a_segmentation_model_with_its_closed_form():
    code, out, _ = run("count", "torchvision:fcn_resnet50", "--set", "H=193", "W=161", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["total"]["macs"] == torch_count(tv_model("fcn_resnet50", weights_backbone=None, aux_loss=None),
                                                (3, 193, 161))[0]
    assert data["total_symbolic"]["exact_when"] == "H and W are multiples of 8"
