"""Plots: the curves are the article's formulas, the bars are the networks' layers as PyTorch
counts them, and the files written are real PNG and SVG images."""

from __future__ import annotations

import io
import struct
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction as Fr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("matplotlib")
np = pytest.importorskip("numpy")

import convalgebra as ca
from convalgebra.cli import main
from convalgebra.plotting import plot_network, plot_ratios, plot_roofline, save
from test_modules import article_macs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAMES = ca.module_names()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def module_values(name: str, x: int) -> dict:
    """The values plot_ratios uses over N for the ten: the module's defaults, one K for all (the
    largest in their examples), M = N = x; the ratio does not depend on I."""
    mod = ca.module(name)
    values = {str(s): d for s, d in mod.parameters.items()}
    values.update(K=max(m.example[ca.K] for m in ca.MODULES), I=mod.example[ca.I], M=x, N=x)
    return values


def test_ratio_curves_are_the_articles_formulas():
    fig = plot_ratios(over="N", between=(192, 768), points=4)
    lines = fig.axes[0].get_lines()
    assert len(lines) == len(NAMES) + 1
    for name, line in zip(NAMES, lines):
        assert line.get_label().startswith(name + " (")
        xs, ys = line.get_data()
        assert list(xs) == [192, 384, 576, 768]
        for x, y in zip(xs, ys):
            v = module_values(name, int(x))
            exact = article_macs(name, **{s: v[s] for s in v}) / (v["K"] ** 2 * v["M"] * v["N"] * v["I"] ** 2)
            assert y == pytest.approx(float(exact), rel=1e-12)
            # and what the layer-by-layer count gives at the same point
            assert y == pytest.approx(float(ca.explain(name, v).numbers.ratio.macs), rel=1e-12)
    reference = lines[-1]
    assert reference.get_label() == "standard convolution (= 1)" and set(reference.get_ydata()) == {1}


def test_ratio_over_a_module_parameter_with_values_set():
    fig = plot_ratios(["bottleneck", "inverted-bottleneck"], over="t", values={"K": 3, "N": 256},
                      between=("1", "8"), points=15)
    for name, line in zip(["bottleneck", "inverted-bottleneck"], fig.axes[0].get_lines()):
        for x, y in zip(*line.get_data()):
            t = Fr(float(x))
            exact = article_macs(name, K=3, M=256, N=256, I=7, t=t) / (9 * 256 * 256 * 49)
            assert y == pytest.approx(float(exact), rel=1e-12)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "t: channel reduction or expansion factor"
    assert "K = 3, N = 256, M = N" in ax.get_title() and "MACs" in ax.get_title()


def test_axes_scale_and_label_with_units():
    ax = plot_ratios().axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"  # N over 8..1024, ratios over two decades
    assert ax.get_ylabel() == "MACs ratio: module / standard convolution"
    assert "multiply-accumulates" in ax.get_title()
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == len(NAMES) + 1
    linear = plot_ratios("group", over="K").axes[0]
    assert linear.get_xscale() == "linear" and linear.get_yscale() == "linear"  # 1/G is flat


@pytest.mark.parametrize("values, over, message", [
    ({}, "F", "F, the output size, follows from I"),
    ({"t": 2}, "t", "t is the plot's axis"),
    ({}, "Q", "unknown symbol 'Q'"),
    ({"G": 0}, "N", "G = 0: expected a whole number >= 1"),
])
def test_ratio_plot_refuses_bad_input(values, over, message):
    with pytest.raises(ca.ConvAlgebraError, match=message):
        plot_ratios(over=over, values=values)


def test_a_span_inside_the_valid_values_draws_only_valid_values():
    """The span's ends may be the valid range's own ends: p from 0 to 1, t from a fraction up;
    over N, fire (t = 8, p = 1/2) has whole layers only where 8 divides N, and only those are drawn."""
    for over, between, low, high in (("p", (0, 1), 0, 1), ("t", ("1/2", 5), 0.5, 5), ("N", (1.4, 64), 8, 64)):
        xs = plot_ratios(["fire"], over=over, between=between).axes[0].get_lines()[0].get_xdata()
        assert xs.min() == low and xs.max() == high
    assert list(xs) == [8, 16, 24, 32, 40, 48, 56, 64]


def test_composed_module_without_defaults_asks_for_values():
    mine = ca.compose(ca.reduce(ca.t), name="mine")
    with pytest.raises(ca.InvalidValueError, match="mine: no value for t"):
        plot_ratios([mine])
    line = plot_ratios([mine], values={"t": 2, "K": 3}).axes[0].get_lines()[0]
    x, y = line.get_data()[0][0], line.get_data()[1][0]
    assert y == pytest.approx(float(article_macs("bottleneck", K=3, M=x, N=x, I=1, t=2) / (9 * x * x)))


def torch_layer_macs(net, size):
    """Each convolution's and linear layer's MACs as PyTorch runs the exported network,
    from the real output shapes torch computes (forward hooks)."""
    torch = pytest.importorskip("torch")
    from convalgebra.torch_export import to_torch

    model = to_torch(net).eval()
    found = []

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            found.append(output[0].numel() * per_output)
        else:
            found.append(module.in_features * module.out_features)

    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, net.in_channels, size, size))
    return found


@pytest.mark.parametrize("name, size", [("resnet18", 64), ("mobilenet_v2", 96), ("squeezenet1_1", 64)])
def test_network_bars_are_the_layers_pytorch_runs(name, size):
    net = ca.network(name)
    fig = plot_network(name, by="layer", input_size=size)
    bars = [round(p.get_height() * 1e6) for p in fig.axes[0].patches]
    assert sorted(bars) == sorted(torch_layer_macs(net, size))
    stages = [round(p.get_height() * 1e6) for p in plot_network(name, by="stage", input_size=size).axes[0].patches]
    assert sum(stages) == sum(bars)


def test_stage_bars_add_up_to_torchvisions_published_cost():
    ax = plot_network("resnet50", by="stage").axes[0]
    total = sum(p.get_height() for p in ax.patches) / 1e3  # GMACs
    assert round(total, 3) == 4.089  # torchvision's ResNet50_Weights.IMAGENET1K_V1 "_ops"
    assert ax.get_ylabel() == "MACs, millions (multiply-accumulates)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["bottleneck", "no module (stem, head, ...)"]
    assert ax.get_title().startswith("resnet50 at 3 x 224 x 224: 4.089 GMACs (multiply-accumulates), 25.56 M params")


def test_network_plot_refuses_bad_input():
    with pytest.raises(ca.InvalidValueError, match="by = 'block'"):
        plot_network("resnet18", by="block")
    with pytest.raises(ca.UnknownNameError, match="did you mean vgg16"):
        plot_network("vgg")
    with pytest.raises(ca.InvalidValueError, match="I = 45/2"):
        plot_network("resnet18", input_size=22.5)


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_files_are_real_images(tmp_path, suffix):
    path = tmp_path / f"ratios.{suffix}"
    assert save(plot_ratios(), path) == suffix
    data = path.read_bytes()
    assert len(data) > 20_000
    if suffix == "png":
        width, height = png_size(data)
        assert width >= 1000 and height >= 600
    else:
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert float(root.get("width").rstrip("pt")) > 500


def test_unknown_suffix_is_refused_before_writing(tmp_path):
    with pytest.raises(ca.InvalidValueError, match=r"expected a .png or .svg file"):
        save(plot_ratios("group"), tmp_path / "ratios.jpg")
    assert not list(tmp_path.iterdir())


def test_figures_show_in_a_notebook_as_png():
    fig = plot_ratios("fire")
    assert png_size(fig._repr_png_())[0] > 500
    formatters = pytest.importorskip("IPython.core.formatters")
    bundle, _ = formatters.DisplayFormatter().format(fig)
    assert bundle["image/png"][:8] == PNG_SIGNATURE


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_plots_modules_and_networks(tmp_path):
    ratios, network = tmp_path / "ratios.svg", tmp_path / "resnet.png"
    assert run("plot", "bottleneck", "fire", "--over", "t", "--set", "K=3", "--out", str(ratios)) == \
        (0, f"wrote {ratios}\n", "")
    assert ET.fromstring(ratios.read_bytes()).tag.endswith("svg")
    assert run("plot", "network", "resnet18", "--by", "stage", "--set", "I=160", "--out", str(network)) == \
        (0, f"wrote {network}\n", "")
    assert network.read_bytes()[:8] == PNG_SIGNATURE
    all_ten = tmp_path / "all.png"
    assert run("plot", "all", "--out", str(all_ten))[0] == 0 and all_ten.stat().st_size > 20_000


@pytest.mark.parametrize("argv, message", [
    (["plot", "bottleneck", "--out", "x.jpg"], "cannot write 'x.jpg': expected a .png or .svg file"),
    (["plot", "network", "resnet18", "--out", "x.gif"], "cannot write 'x.gif': expected a .png or .svg file"),
    (["plot", "bottleneck"], "the following arguments are required: --out"),
    (["plot", "botleneck", "--out", "x.png"], "unknown module 'botleneck'"),
    (["plot", "bottleneck", "--by", "stage", "--out", "x.png"], "--by applies to 'plot network NAME'"),
    (["plot", "network", "--out", "x.png"], "plot network takes one network name"),
    (["plot", "network", "resnet18", "--over", "N", "--out", "x.png"], "--over and --between apply to modules"),
    (["plot", "network", "resnet18", "--set", "K=3", "--out", "x.png"], "a network takes only I"),
    (["plot", "network", "resnet18", "--by", "block", "--out", "x.png"], "invalid choice: 'block'"),
    (["plot", "bottleneck", "--over", "t", "--set", "t=2", "--out", "x.png"], "t is the plot's axis"),
    (["plot", "bottleneck", "--between", "9", "3", "--out", "x.png"], "N from 9 to 3: expected low < high"),
    (["plot", "bottleneck", "--out", "/nonexistent-dir/x.png"], "cannot write '/nonexistent-dir/x.png'"),
    (["plot", "bottleneck", "--over", "t", "--between", "-1", "5", "--out", "x.png"],
     "t from -1 to 5: t = -1: expected a number > 0"),
    (["plot", "fire", "--over", "p", "--between", "0", "2", "--out", "x.png"],
     "p from 0 to 2: p = 2: expected a share between 0 and 1"),
    (["plot", "vgg-stack", "--over", "k", "--between", "1", "5", "--out", "x.png"], "expected a whole number from 2 to 1000"),
    (["plot", "all", "--between", "0.5", "64", "--out", "x.png"], "N = 1/2: expected a whole number >= 1"),
    (["plot", "all", "--over", "alpha", "--between", "0", "1", "--out", "x.png"], "alpha = 0: expected a number > 0"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    assert err.startswith("convalgebra: error: ") and err.count("\n") == 1 and message in err
    assert not list(tmp_path.iterdir())


def test_without_matplotlib_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ca.ConvAlgebraError, match=r"pip install 'convalgebra\[plot\]'"):
        plot_ratios()
    code, out, err = run("plot", "all", "--out", "x.png")
    assert code == 2 and err == "convalgebra: error: plotting needs matplotlib: pip install 'convalgebra[plot]'\n"


def test_a_large_grid_goes_through_progress(monkeypatch):
    from convalgebra import progress as progress_module

    calls = []

    def recording(items, total=None, description="", show=None, delay=1.5):
        calls.append((len(items), description, show))
        yield from items

    monkeypatch.setattr(progress_module, "progress", recording)
    fig = plot_ratios(["group", "bottleneck"], over="t", between=(1, 16), points=200_000, progress=True)
    assert calls == [(2 * 4, "plot_ratios", True)]  # two modules, four chunks of 65,536 points each
    assert len(fig.axes[0].get_lines()[1].get_xdata()) == 200_000


@pytest.mark.parametrize("modules,message", [
    (ca.group(2), "group(2) is a rule, not a module; make it one with compose(group(2))"),
    ([ca.expand(6), "bottleneck"], "is a rule, not a module"),
    (3, "3: expected a module's name or a Module, not int"),
])
def test_a_rule_or_a_number_for_a_module_is_named_in_the_error(modules, message):
    with pytest.raises(ca.InvalidValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plot_ratios(modules)


def test_the_same_plot_writes_the_same_bytes(tmp_path):
    for suffix in ("svg", "png"):
        outs = []
        for run in range(2):
            path = tmp_path / f"ratios{run}.{suffix}"
            assert main(["plot", "bottleneck", "inverted-bottleneck", "--out", str(path)], out=io.StringIO()) == 0
            outs.append(path.read_bytes())
        assert outs[0] == outs[1], suffix


def test_a_flat_curve_is_explained_in_the_title():
    title = plot_ratios(["bottleneck", "group"], over="I").axes[0].get_title()
    assert "no module's ratio depends on I here" in title
    title = plot_ratios(["group", "depthwise-separable"], over="N").axes[0].get_title()
    assert "the ratio of group does not depend on N here" in title
    assert "depend" not in plot_ratios(["depthwise-separable"], over="N").axes[0].get_title()


def test_every_module_is_drawn_at_one_kernel_size():
    fig = plot_ratios()
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert not any("K = " in label for label in labels)  # no module at a K of its own
    assert fig.axes[0].get_title().splitlines()[1].startswith("at K = 7, M = N (K: the largest of the modules'")
    for name in ("bottleneck", "inverted-bottleneck"):  # their examples agree on K = 3: no note
        assert ca.module(name).example[ca.K] == 3
    title = plot_ratios(["bottleneck", "inverted-bottleneck"]).axes[0].get_title()
    assert "at K = 3, M = N" in title and "largest" not in title


def test_a_composed_module_is_drawn_like_the_articles():
    t, G, K, N = ca.t, ca.G, ca.K, ca.N
    mine = ca.compose(ca.expand(t), ca.group(G, on="pointwise"), ca.depthwise(), name="mine", parameters={t: 6, G: 2})
    fig = plot_ratios([mine], between=(16, 256), points=5)  # 16, 32, ..., 256: even, as 2 groups need
    line = fig.axes[0].get_lines()[0]
    assert line.get_label() == "mine: G = 2, t = 6"
    assert "at K = 3, M = N" in fig.axes[0].get_title()
    for x, y in zip(*line.get_data()):  # 1x1 grouped M -> tM, depthwise K x K, 1x1 grouped tM -> N; M = N = x
        m = n = Fr(int(x))
        macs = m * 6 * m / 2 + 9 * 6 * m + 6 * m * n / 2
        assert y == pytest.approx(float(macs / (9 * m * n)), rel=1e-12)


def test_a_symbol_no_plotted_module_uses_is_refused():
    with pytest.raises(ca.InvalidValueError, match="neither group nor depthwise-separable uses t"):
        plot_ratios(["group", "depthwise-separable"], values={"t": 2})


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(NAMES), over=st.sampled_from(["N", "M", "K", "G", "k"]))
def test_a_curve_draws_only_points_that_explain_accepts(name, over):
    """Along a whole-number axis, every point drawn is one explain takes (M = N, the module's
    defaults and its example's sizes for the rest, as the plot uses them), at the ratio drawn;
    the points explain refuses are left out and the legend counts them."""
    mod = ca.module(name)
    low, high = {"N": (8, 64), "M": (8, 64), "K": (1, 11), "G": (1, 16), "k": (2, 7)}[over]
    fig = plot_ratios([name], over=over, between=(low, high), points=high - low + 1)  # every whole number
    line = fig.axes[0].get_lines()[0]
    base = {**{str(s): v for s, v in mod.example.items()}, **{str(s): d for s, d in mod.parameters.items()}}
    drawn = {int(x): y for x, y in zip(*line.get_data())}
    refused = 0
    for x in range(low, high + 1):
        values = {**base, "M": x, "N": x} if over in "MN" else {**base, over: x, "M": base["N"]}
        try:
            exact = ca.evaluate(mod, values).ratio.macs  # the numbers explain prints, and what it refuses
        except ca.InvalidValueError:
            refused += 1
            assert x not in drawn, (name, over, x)
            continue
        assert drawn[x] == pytest.approx(float(exact), rel=1e-12)
    assert (refused > 0) == ("points valid" in line.get_label())


# -- the roofline figure -----------------------------------------------------------------------

def _area(size):
    return size[0] * size[1] if isinstance(size, tuple) else size * size


def _counted_intensities(name, size):
    """Each layer that does MACs: FLOPs (2 per MAC) over the bytes of its input map, output map
    and parameters at fp32, from the layer's shapes as the network's count gives them."""
    out = []
    for row in ca.network(name).count(size).layers:
        if not (row.runs and row.macs):
            continue
        layer = row.layer
        if isinstance(layer, ca.Linear):
            moved = layer.in_features + layer.out_features + row.params
        else:
            moved = layer.in_channels * _area(row.input_size) + layer.out_channels * _area(row.output_size) + row.params
        out.append(Fr(2 * row.macs, 4 * moved))
    return out


@pytest.mark.parametrize("name, size", [("mobilenet_v2", 160), ("resnet18", (224, 160))])
def test_roofline_points_are_the_layers_on_the_devices_roof(name, size):
    dev = ca.device("t4")
    ax = plot_roofline(name, dev, input_size=size).axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    expected = sorted(_counted_intensities(name, size))
    assert sorted(points[:, 0]) == pytest.approx([float(x) for x in expected], rel=1e-12)
    peak, bandwidth = dev.peak_for("fp32"), dev.bandwidth
    assert sorted(points[:, 1]) == pytest.approx(sorted(min(peak, float(x) * bandwidth) / 1e9 for x in expected),
                                                 rel=1e-12)
    roof = ax.get_lines()[0]
    xs, ys = roof.get_data()
    assert float(dev.ridge()) in list(xs) and max(ys) == peak / 1e9
    assert ax.get_xscale() == ax.get_yscale() == "log"
    steps = len(ca.roofline(name, dev, size).rows)
    assert f"; {steps - len(expected)} with none" in ax.get_title()


def test_roofline_figure_writes_an_image_and_refuses_bad_input(tmp_path):
    mine = ca.Device("mine", {"fp16": 10**13}, 10**11)
    path = tmp_path / "roofline.png"
    assert save(plot_roofline("squeezenet1_0", mine, dtype="fp16"), path) == "png"
    assert png_size(path.read_bytes())[0] > 1000
    with pytest.raises(ca.UnknownNameError, match="unknown device 'h100'"):
        plot_roofline("resnet18", "h100")
    with pytest.raises(ca.InvalidValueError, match="no published peak for int8"):
        plot_roofline("resnet18", "v100", dtype="int8")
    with pytest.raises(ca.InvalidValueError, match="I = 45/2"):
        plot_roofline("resnet18", "t4", input_size=22.5)
