"""Recognition by pattern, anywhere in a network: the rules' patterns matched on every sub-block.

The expected counts are the papers' blocks, counted here independently of the import by walking
torch's own modules (their classes and their convolutions' groups and strides), not written down."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.layers import Activation, BatchNorm, Conv  # noqa: E402


def _mobilenet_v1(nested: bool) -> nn.Module:
    """MobileNet V1 as people write it: each block nn.Sequential(dw 3x3, bn, relu, 1x1, bn, relu), the
    blocks nested in the model's Sequential or spliced into one flat Sequential."""
    widths = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
        [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]

    def block(i: int, o: int, s: int) -> list[nn.Module]:
        return [nn.Conv2d(i, i, 3, s, 1, groups=i, bias=False), nn.BatchNorm2d(i), nn.ReLU(inplace=True),
                nn.Conv2d(i, o, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

    blocks = [nn.Sequential(*block(*w)) for w in widths] if nested else [x for w in widths for x in block(*w)]
    return nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True), *blocks,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 10))


@lru_cache(maxsize=None)
def model(name: str) -> nn.Module:
    if name.startswith("mobilenet_v1"):
        with torch.device("meta"):
            return _mobilenet_v1(name.endswith("nested")).eval()
    if name.startswith("timm:"):
        timm = pytest.importorskip("timm")
        with torch.device("meta"):
            return timm.create_model(name[5:], pretrained=False).eval()
    if name.startswith("regnet"):  # its widths are computed with tensors: built on the CPU, then moved
        return getattr(torchvision.models, name)().to("meta").eval()
    with torch.device("meta"):
        return getattr(torchvision.models, name)().eval()


@lru_cache(maxsize=None)
def found(name: str) -> tuple[list[tuple[str, "ca.Recognized | None"]], str]:
    return ca.recognize_network(ca.from_torch(model(name), name=name, title=name))


def modules_of(name: str, *classes: str) -> list[nn.Module]:
    return [m for m in model(name).modules() if type(m).__name__ in classes]


def recognized(name: str) -> list["ca.Recognized"]:
    return [r for _, r in found(name)[0] if r is not None]


def depthwise_first(m: nn.Module) -> bool:
    """Whether a block's first convolution is depthwise (MBConv with t = 1: no expansion before it)."""
    conv = next(c for c in m.modules() if isinstance(c, nn.Conv2d))
    return conv.groups == conv.in_channels > 1


@pytest.mark.parametrize("name, classes", [("efficientnet_b0", ("MBConv",)),
                                           ("timm:efficientnet_b0", ("DepthwiseSeparableConv", "InvertedResidual"))])
def test_efficientnet_b0_holds_the_papers_mbconvs_the_first_with_t_1(name, classes):
    blocks = modules_of(name, *classes)
    got = recognized(name)
    assert [r.module for r in got] == ["mbconv"] * len(blocks) and len(blocks) == 16
    assert sum(dict(r.parameters)["t"] == 1 for r in got) == sum(map(depthwise_first, blocks)) == 1
    assert dict(got[0].parameters)["t"] == 1 and found(name)[1].startswith(f"{name}: 16 mbconvs (t = 1 (1x), 6 (15x)")


def test_shufflenet_v2_holds_16_units_3_of_them_the_down_sampling_unit():
    units = modules_of("shufflenet_v2_x1_0", "InvertedResidual")
    down = [u for u in units if len(u.branch1) > 0]  # the stride-2 unit convolves both halves (Fig. 3d)
    got = recognized("shufflenet_v2_x1_0")
    assert [r.module for r in got] == ["shufflenet-v2"] * len(units) and len(units) == 16
    assert [r.stride for r in got if r.variant == "down-sampling unit"] == [2] * len(down) and len(down) == 3
    assert found("shufflenet_v2_x1_0")[1] == "shufflenet_v2_x1_0: 16 shufflenet-v2s (3 down-sampling units)"


@pytest.mark.parametrize("name, block", [("timm:regnety_002", "Bottleneck"), ("regnet_y_400mf", "ResBottleneckBlock")])
def test_regnety_se_bottlenecks_are_recognized_with_their_groups(name, block):
    """Each Y block is the X block (a bottleneck with a group convolution) with squeeze-and-excitation:
    its groups are torch's, its squeeze the SE's own width."""
    blocks = modules_of(name, block)
    got = recognized(name)
    assert len(got) == len(blocks) > 0 and all(r.variant == "with squeeze-excitation" for r in got)
    grouped = [next(c for c in b.modules() if isinstance(c, nn.Conv2d) and c.kernel_size == (3, 3)) for b in blocks]
    assert [dict(r.parameters).get("G", 1) for r in got] == [c.groups for c in grouped]
    assert all(dict(r.parameters)["t"] == 1 for r in got)  # RegNetY's bottleneck ratio is 1


def test_ghostnet_holds_ghost_bottlenecks_with_and_without_se():
    blocks = modules_of("timm:ghostnet_100", "GhostBottleneck")
    got = recognized("timm:ghostnet_100")
    assert [r.module for r in got] == ["ghost-bottleneck"] * len(blocks) and len(blocks) == 16
    assert [r.variant == "with squeeze-excitation" for r in got] == [b.se is not None for b in blocks]
    assert [r.stride for r in got] == [b.stride for b in blocks]
    assert all(dict(r.parameters)["s"] == 2 for r in got)
    assert [dict(r.parameters)["t"] * b.ghost1.primary_conv[0].in_channels for r, b in zip(got, blocks)] == \
        [b.ghost1.out_chs for b in blocks]  # the expansion is the mid width over the input's


@pytest.mark.parametrize("name", ["mobilenet_v1_flat", "mobilenet_v1_nested"])
def test_hand_written_mobilenet_v1_holds_13_depthwise_separable_blocks(name):
    depthwise = [c for c in model(name).modules() if isinstance(c, nn.Conv2d) and c.groups > 1]
    blocks, line = found(name)
    assert [r.module for _, r in blocks] == ["depthwise-separable"] * len(depthwise) and len(depthwise) == 13
    assert [r.stride for _, r in blocks] == [c.stride[0] for c in depthwise]
    assert line == f"{name}: 13 depthwise-separables"
    if name.endswith("nested"):  # each block named by the Sequential that holds it
        assert [n for n, _ in blocks] == [str(i) for i in range(3, 16)]
    else:  # by its first and last layers
        assert blocks[0][0] == "3 to 8"


def test_densenet_dense_layers():
    layers = modules_of("densenet121", "_DenseLayer")
    got = recognized("densenet121")
    assert [r.module for r in got] == ["dense-layer"] * len(layers) and len(layers) == 58


def test_find_modules_walks_any_block():
    dw = (Conv(32, 32, (3, 3), groups=32), BatchNorm(32), Activation(32), Conv(32, 64, (1, 1)))
    flat = ca.Series(Conv(3, 32, (3, 3)), *dw, Conv(64, 64, (3, 3), groups=64), Conv(64, 8, (1, 1)))
    assert [(a, b, r.text) for a, b, r in ca.find_modules(flat)] == [
        (1, 5, "depthwise-separable"), (5, 7, "depthwise-separable")]
    deep = flat
    for _ in range(2000):  # nesting as deep as memory holds is walked by a loop
        deep = ca.Series(deep)
    assert [r.text for _, _, r in ca.find_modules(deep)] == ["depthwise-separable"] * 2
    assert ca.find_modules(Conv(3, 8)) == []


def test_a_zoo_network_is_recognized_by_pattern():
    """The zoo's networks have no torch modules: every block is found by pattern."""
    _, line = ca.recognize_network(ca.network("mobilenet_v2"))
    assert line.endswith("1 depthwise-separable; 16 inverted-bottlenecks (t = 6)")
    _, line = ca.recognize_network(ca.network("efficientnet_b0"))
    assert line.endswith("16 mbconvs (t = 1 (1x), 6 (15x); r = 4 (1x), 24 (15x))")


def test_json_counts_each_module():
    net = ca.from_torch(model("shufflenet_v2_x1_0"), name="s", title="s")
    data = net.count(224).to_dict()
    assert data["module_counts"] == dict(Counter(b["module"] for b in data["blocks"] if b["module"]))
    assert data["module_counts"] == {"shufflenet-v2": 16}
    assert Counter(b["variant"] for b in data["blocks"]) == Counter({None: 13, "down-sampling unit": 3})
    assert "Modules: s: 16 shufflenet-v2s (3 down-sampling units)" in net.count(224).to_text()
