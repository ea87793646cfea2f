"""Every zoo network's reference figures, without torch: torchvision's published weight
metadata where torchvision has the network, and otherwise an independent count written
here from the paper's architecture table, layer by layer, with its own size arithmetic.

Nothing here uses the library's layers: each count is the convolution formula
Kh*Kw*(Cin/G)*Cout*Hout*Wout (and Cin*Cout for a linear layer) on sizes computed by hand.
MACs count convolution and linear layers (torchvision's convention); params are every
weight and bias, and batch norm's gamma and beta.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import convalgebra as ca

# torchvision's weight metadata (torchvision.models.get_model_weights(name).DEFAULT.meta):
# num_params exactly, and "_ops" in GMACs as published, to three decimals, at each default
# weight's crop size (the zoo network's default size: 240 for EfficientNet-B1, 384 for RegNetY-128GF).
TORCHVISION = {
    "alexnet": (61_100_840, "0.714"), "vgg16": (138_357_544, "15.47"), "squeezenet1_0": (1_248_424, "0.819"),
    "squeezenet1_1": (1_235_496, "0.349"), "resnet18": (11_689_512, "1.814"), "resnet50": (25_557_032, "4.089"),
    "resnext50_32x4d": (25_028_904, "4.23"), "mobilenet_v2": (3_504_872, "0.301"), "inception_v3": (27_161_264, "5.713"),
    "resnet101": (44_549_160, "7.801"), "resnet152": (60_192_808, "11.514"),
    "resnet34": (21_797_672, "3.664"), "wide_resnet50_2": (68_883_240, "11.398"),
    "wide_resnet101_2": (126_886_696, "22.753"), "resnext101_32x8d": (88_791_336, "16.414"),
    "resnext101_64x4d": (83_455_272, "15.46"), "vgg11": (132_863_336, "7.609"), "vgg13": (133_047_848, "11.308"),
    "vgg19": (143_667_240, "19.632"), "vgg11_bn": (132_868_840, "7.609"), "vgg13_bn": (133_053_736, "11.308"),
    "vgg16_bn": (138_365_992, "15.47"), "vgg19_bn": (143_678_248, "19.632"), "googlenet": (6_624_904, "1.498"),
    "mnasnet0_5": (2_218_512, "0.104"), "mnasnet0_75": (3_170_208, "0.215"), "mnasnet1_0": (4_383_312, "0.314"),
    "mnasnet1_3": (6_282_256, "0.526"), "regnet_x_400mf": (5_495_976, "0.414"), "regnet_x_800mf": (7_259_656, "0.8"),
    "regnet_x_1_6gf": (9_190_136, "1.603"), "regnet_x_3_2gf": (15_296_552, "3.177"),
    "regnet_x_8gf": (39_572_648, "7.995"), "regnet_x_16gf": (54_278_536, "15.941"),
    "regnet_x_32gf": (107_811_560, "31.736"),
    "shufflenet_v2_x0_5": (1_366_792, "0.04"), "shufflenet_v2_x1_0": (2_278_604, "0.145"),
    "shufflenet_v2_x1_5": (3_503_624, "0.296"), "shufflenet_v2_x2_0": (7_393_996, "0.583"),
    "mobilenet_v3_large": (5_483_032, "0.217"), "mobilenet_v3_small": (2_542_856, "0.057"),
    "efficientnet_b0": (5_288_548, "0.386"), "efficientnet_b1": (7_794_184, "0.687"),
    "efficientnet_b2": (9_109_994, "1.088"), "efficientnet_b3": (12_233_232, "1.827"),
    "efficientnet_b4": (19_341_616, "4.394"), "efficientnet_b5": (30_389_784, "10.266"),
    "efficientnet_b6": (43_040_704, "19.068"), "efficientnet_b7": (66_347_960, "37.746"),
    "efficientnet_v2_s": (21_458_488, "8.366"), "efficientnet_v2_m": (54_139_356, "24.582"),
    "efficientnet_v2_l": (118_515_272, "56.08"), "regnet_y_400mf": (4_344_144, "0.402"),
    "regnet_y_800mf": (6_432_512, "0.834"), "regnet_y_1_6gf": (11_202_430, "1.612"),
    "regnet_y_3_2gf": (19_436_338, "3.176"), "regnet_y_8gf": (39_381_472, "8.473"),
    "regnet_y_16gf": (83_590_140, "15.912"), "regnet_y_32gf": (145_046_770, "32.28"),
    "regnet_y_128gf": (644_812_894, "374.57"), "densenet121": (7_978_856, "2.834"),
    "densenet161": (28_681_000, "7.728"), "densenet169": (14_149_480, "3.36"), "densenet201": (20_013_928, "4.291"),
    "convnext_tiny": (28_589_128, "4.456"), "convnext_small": (50_223_688, "8.684"),
    "convnext_base": (88_591_464, "15.355"), "convnext_large": (197_767_336, "34.361"),
    "vit_b_16": (86_567_656, "17.564"), "vit_b_32": (88_224_232, "4.409"), "vit_l_16": (304_326_632, "61.555"),
    "vit_l_32": (306_535_400, "15.378"), "vit_h_14": (633_470_440, "1016.717"), "swin_t": (28_288_354, "4.491"),
    "swin_s": (49_606_258, "8.741"), "swin_b": (87_768_224, "15.431"), "swin_v2_t": (28_351_570, "5.94"),
    "swin_v2_s": (49_737_442, "11.546"), "swin_v2_b": (87_930_848, "20.325"), "maxvit_t": (30_919_624, "5.558"),
}


def gmacs(macs: int) -> str:
    thousandths = round(Fraction(macs, 10**6))
    return f"{thousandths // 1000}.{thousandths % 1000:03d}".rstrip("0").rstrip(".")


def out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class Count:
    """MACs and params, added up layer by layer."""

    def __init__(self) -> None:
        self.macs = self.params = 0

    def conv(self, cin: int, cout: int, kernel: int, size_out: int, groups: int = 1, bias: bool = False,
             bn: bool = False) -> None:
        weights = kernel * kernel * (cin // groups) * cout
        self.macs += weights * size_out * size_out
        self.params += weights + (cout if bias else 0) + (2 * cout if bn else 0)

    def bn(self, channels: int) -> None:
        self.params += 2 * channels

    def linear(self, cin: int, cout: int, bias: bool = True) -> None:
        self.macs += cin * cout
        self.params += cin * cout + (cout if bias else 0)


def alexnet_grouped() -> Count:
    """Krizhevsky, Sutskever, Hinton (2012), Figure 2: two GPUs (groups of 2) at conv2, conv4, conv5; 227 x 227."""
    c = Count()
    s = out_size(227, 11, 4)                      # 55
    c.conv(3, 96, 11, s, bias=True)
    s = out_size(s, 3, 2)                         # 27
    c.conv(96, 256, 5, s, groups=2, bias=True)
    s = out_size(s, 3, 2)                         # 13
    c.conv(256, 384, 3, s, bias=True)
    c.conv(384, 384, 3, s, groups=2, bias=True)
    c.conv(384, 256, 3, s, groups=2, bias=True)
    s = out_size(s, 3, 2)                         # 6
    c.linear(256 * s * s, 4096)
    c.linear(4096, 4096)
    c.linear(4096, 1000)
    return c


def mobilenet_v1() -> Count:
    """Howard et al. (2017), Table 1: a 3 x 3 convolution, 13 depthwise separable layers, batch norm after each."""
    c, s = Count(), 224 // 2
    c.conv(3, 32, 3, s, bn=True)
    cin = 32
    for cout, stride in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *([(512, 1)] * 5),
                         (1024, 2), (1024, 1)):
        s //= stride
        c.conv(cin, cin, 3, s, groups=cin, bn=True)
        c.conv(cin, cout, 1, s, bn=True)
        cin = cout
    c.linear(1024, 1000)
    return c


def shufflenet_v1() -> Count:
    """Zhang et al. (2017), Table 1, 1x with g = 3: 24 channels after the stem, stages of 4, 8 and 4
    units at 240, 480 and 960 channels; bottlenecks a quarter of the unit's output; the first
    1 x 1 of stage 2 ungrouped; a stride-2 unit concatenates an average pool of its input."""
    c, g = Count(), 3
    c.conv(3, 24, 3, 112, bn=True)
    s, cin = 56, 24
    for cout, units in ((240, 4), (480, 8), (960, 4)):
        for unit in range(units):
            stride = 2 if unit == 0 else 1
            made = cout - cin if stride == 2 else cout
            width = cout // 4
            c.conv(cin, width, 1, s, groups=1 if (cout == 240 and unit == 0) else g, bn=True)
            s //= stride
            c.conv(width, width, 3, s, groups=width, bn=True)
            c.conv(width, made, 1, s, groups=g, bn=True)
            cin = cout
    c.linear(960, 1000, bias=False)
    return c


def xception() -> Count:
    """Chollet (2016), Figure 5, as Keras builds it at 299 x 299: separable convolutions (depthwise
    3 x 3 then pointwise, one batch norm after), residual sums with strided 1 x 1 projections."""
    c = Count()
    s = out_size(299, 3, 2)                       # 149
    c.conv(3, 32, 3, s, bn=True)
    s = out_size(s, 3)                            # 147
    c.conv(32, 64, 3, s, bn=True)

    def separable(cin: int, cout: int, size: int) -> None:
        c.conv(cin, cin, 3, size, groups=cin)
        c.conv(cin, cout, 1, size, bn=True)

    cin = 64
    for widths, pool in (((128, 128), True), ((256, 256), True), ((728, 728), True), *([((728,) * 3, False)] * 8),
                         ((728, 1024), True)):
        width = cin
        for w in widths:
            separable(width, w, s)
            width = w
        if pool:
            s = out_size(s, 3, 2, 1)
            c.conv(cin, width, 1, s, bn=True)     # the strided projection of the shortcut
        cin = width
    separable(1024, 1536, s)
    separable(1536, 2048, s)
    c.linear(2048, 1000)
    return c


INDEPENDENT = {"alexnet_grouped": (alexnet_grouped, 227), "mobilenet_v1": (mobilenet_v1, 224),
               "shufflenet_v1": (shufflenet_v1, 224), "xception": (xception, 299)}


def test_every_zoo_network_has_a_reference_here():
    assert set(TORCHVISION) | set(INDEPENDENT) == set(ca.network_names())


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_reproduces_torchvisions_published_metadata(name):
    params, ops = TORCHVISION[name]
    cost = ca.network(name).count()
    assert (cost.params, gmacs(cost.macs)) == (params, ops)


@pytest.mark.parametrize("name", sorted(INDEPENDENT))
def test_reproduces_an_independent_count_from_the_paper(name):
    counted, size = INDEPENDENT[name]
    reference = counted()
    cost = ca.network(name).count(size)
    assert (cost.macs, cost.params) == (reference.macs, reference.params)


def test_the_independent_counts_are_the_papers_figures():
    """The hand counts against the numbers the papers print (rounded as printed)."""
    assert alexnet_grouped().params == 60_965_224                       # the two-GPU AlexNet's well-known count
    v1 = mobilenet_v1()
    assert round(v1.macs / 1e6) == 569 and round(v1.params / 1e6, 1) == 4.2  # MobileNet V1, Table 1 and 8
    assert round(shufflenet_v1().macs / 1e6) == 137                      # ShuffleNet 1x g = 3 (Table 2: 140 MFLOPs)
    assert xception().params == 22_855_952                               # Xception, Table 3: 22.9 M
