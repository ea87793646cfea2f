"""from_onnx: ONNX files read into networks, held to counts taken apart from the library.

Real models: torchvision's CNNs (one a family) exported once per session by ``torch.onnx.export``
with H and W dynamic, counted from the file; MACs are FlopCounterMode's FLOPs of one forward on the
meta device / 2 at two sizes (one odd and oblong), params the initializers' elements read off the
file's own protobuf. Ops: a graph built by hand with ``onnx.helper`` for each op of the table, its
count written out here from the op's definition (the output-size formulas of the ONNX spec)."""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from functools import lru_cache
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
import onnx.numpy_helper  # noqa: E402
torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from onnx import TensorProto, helper  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.blocks import iter_layers  # noqa: E402
from convalgebra.cli import main  # noqa: E402
from convalgebra.errors import InvalidValueError  # noqa: E402
from convalgebra.layers import Uncounted  # noqa: E402
from convalgebra.symbols import B, H, I, W  # noqa: E402
from convalgebra.torch_import import load_model  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)

#: One model a family (a segmentation model for the resize to the input's size), exported once.
MODELS = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1", "googlenet", "densenet121",
          "shufflenet_v2_x0_5", "efficientnet_b0", "convnext_tiny", "regnet_y_400mf", "mnasnet0_5",
          "lraspp_mobilenet_v3_large"]
SIZES = [(97, 131), (128, 160)]
#: Exported by torch's dynamo exporter too (``dynamo=True``, when onnxscript is installed): other node
#: names, the shapes computed in the graph, as_strided's gather, and weights in an external-data file.
DYNAMO = ["resnet18", "shufflenet_v2_x0_5", "convnext_tiny", "efficientnet_b0"]
CASES = [(name, "torchscript") for name in MODELS] + [(name, "dynamo") for name in DYNAMO]
#: Exported with the batch dynamic too (the file's batch dimension N, read as the symbol B).
BATCHED = ("mobilenet_v3_small", "batch")
#: A transformer: Swin's window attention and patch merging, exported with H and W dynamic.
SWIN = ("swin_t", "torchscript")


def _torchvision(name: str, device: str) -> "torch.nn.Module":
    extra = {"weights_backbone": None} if name.startswith("lraspp") else {}
    if device == "meta" and not extra:
        return load_model(f"torchvision:{name}").eval()
    with torch.device(device):
        return torchvision.models.get_model(name, weights=None, **extra).eval()


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> dict[str, Path]:
    """Each model built small on the CPU with random weights, exported by the TorchScript exporter
    with H and W dynamic (the file's dim_params), once a session."""
    import logging

    folder = tmp_path_factory.mktemp("onnx")
    files = {}
    torch.manual_seed(0)
    logging.disable(logging.WARNING)  # the dynamo exporter's progress notes
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            for name, exporter in [*CASES, BATCHED, SWIN]:
                path = folder / exporter / f"{name}.onnx"
                path.parent.mkdir(exist_ok=True)
                model, x = _torchvision(name, "cpu"), torch.randn(1, 3, 64, 96)
                if exporter in ("torchscript", "batch"):  # "batch": the batch a dim_param too
                    axes = {0: "N", 2: "H", 3: "W"} if exporter == "batch" else {2: "H", 3: "W"}
                    torch.onnx.export(model, x, str(path), dynamo=False, dynamic_axes={"x": axes}, input_names=["x"])
                else:
                    try:
                        import onnxscript  # noqa: F401
                    except ImportError:
                        continue
                    dims = {2: torch.export.Dim("H", min=32, max=2048), 3: torch.export.Dim("W", min=32, max=2048)}
                    torch.onnx.export(model, (x,), str(path), dynamo=True, dynamic_shapes={"x": dims},
                                      input_names=["x"])
                files[name, exporter] = path
    finally:
        logging.disable(logging.NOTSET)
    return files


@lru_cache(maxsize=None)
def flop_counter(name: str, height: int, width: int, batch: int = 1) -> int:
    model = _torchvision(name, "meta")
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(batch, 3, height, width, device="meta"))
    return counter.get_total_flops() // 2


_cache: dict[tuple[str, str], "ca.Network"] = {}


def network(exported: dict[tuple[str, str], Path], case: tuple[str, str]) -> "ca.Network":
    if case not in exported:
        pytest.skip("the dynamo exporter needs onnxscript")
    if case not in _cache:
        _cache[case] = ca.from_onnx(exported[case], name=case[0])
    return _cache[case]


def initializer_parameters(path: Path) -> int:
    """The weights a file holds, read off its protobuf: the sum of its float initializers' sizes,
    but one-element numbers and the tensors read only as a batch norm's running mean or variance
    (statistics, torch's buffers; the dynamo exporter keeps one copy of equal tensors, so with
    random weights a norm's running variance may be another layer's weight, which counts).

    They differ from torch's ``sum(p.numel())``: the exporter folds each batch norm after a
    convolution into it, so the file holds a bias of N where torch holds the norm's 2N (N fewer
    a folded norm; ``test_batch_norm_folded_differs_from_torch_by_the_norms``)."""
    model = onnx.load(str(path), load_external_data=False)
    read = {x for node in model.graph.node for k, x in enumerate(node.input)
            if not (node.op_type == "BatchNormalization" and k in (3, 4))}
    statistics = {x for node in model.graph.node if node.op_type == "BatchNormalization"
                  for x in node.input[3:5]} - read
    return sum(math.prod(t.dims) for t in model.graph.initializer
               if t.data_type == TensorProto.FLOAT and t.name not in statistics and math.prod(t.dims) > 1)


@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_exported_model_counts_as_torch(exported, case):
    net = network(exported, case)
    assert not [x for s in net.stages for x in iter_layers(s.block) if isinstance(x, Uncounted)]
    for height, width in SIZES:
        assert net.total((height, width))[0] == flop_counter(case[0], height, width), (height, width)
    assert net.total(SIZES[0])[1] == initializer_parameters(exported[case])


@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_closed_form_in_the_files_symbols(exported, case):
    """The count at the file's dim_params H and W is a closed form, equal to the count wherever it
    claims to be exact (at multiples of the total stride)."""
    cost = network(exported, case).count()
    assert cost.macs.free_symbols <= {H, W}
    when = cost.exact_when()
    step = int(when.rsplit(" ", 1)[-1]) if "multiples of" in when else 1
    for height, width in ((3 * step, 5 * step), (7 * step, 4 * step)):
        assert cost.macs.subs({H: height, W: width}) == network(exported, case).total((height, width))[0]
    assert cost.params == initializer_parameters(exported[case])


def test_batch_dimension_is_B(exported):
    """A file whose batch is a dim_param counts its MACs for B images (closed form in B, H and W),
    its parameters once: at B = 2 the MACs are FlopCounterMode's on a batch of 2."""
    from convalgebra.symbols import B

    net = network(exported, BATCHED)
    cost = net.count()
    assert net.batch == B and cost.batch == B and cost.macs.free_symbols == {B, H, W}
    for batch, (height, width) in ((2, SIZES[0]), (3, SIZES[1])):
        assert net.total((height, width))[0].subs(B, batch) == flop_counter(BATCHED[0], height, width, batch)
        assert sum(r.macs for r in net.count((height, width)).layers).subs(B, batch) == \
            flop_counter(BATCHED[0], height, width, batch)  # each layer's MACs are the batch's
    step = int(cost.exact_when().rsplit(" ", 1)[-1])  # where the closed form in B, H and W claims to be exact
    assert cost.macs.subs({B: 2, H: 3 * step, W: 5 * step}) == flop_counter(BATCHED[0], 3 * step, 5 * step, 2)
    assert cost.params == net.total(SIZES[0])[1] == initializer_parameters(exported[BATCHED])
    assert "batch dimension N: MACs for B images" in net.source
    eight = ca.from_onnx(exported[BATCHED], dims={"N": 8})
    assert eight.batch == 8 and eight.total(SIZES[0])[0] == flop_counter(BATCHED[0], *SIZES[0], 8)


def test_batch_on_the_command_line(exported):
    """``--set B=2 H=.. W=..`` counts the batch; text and JSON say it; a file whose batch is fixed
    takes no B (one line, exit 2)."""
    import json

    height, width = SIZES[0]
    out, err = io.StringIO(), io.StringIO()
    args = ["count", str(exported[BATCHED]), "--set", "B=2", f"H={height}", f"W={width}"]
    assert main([*args, "--format", "json"], out, err) == 0, err.getvalue()
    data = json.loads(out.getvalue())
    assert data["input"]["batch"] == 2 and data["total"]["macs"] == flop_counter(BATCHED[0], height, width, 2)
    from convalgebra.symbols import B

    per_image = network(exported, BATCHED).count().macs.subs(B, 1)
    assert ca.parse_expression(data["total_symbolic"]["macs"]) == 2 * per_image  # the closed form at B = 2
    import jsonschema

    jsonschema.validate(data, ca.data.schema("count"))
    out = io.StringIO()
    assert main(args, out, err) == 0
    assert "Batch: 2 images" in out.getvalue()
    out = io.StringIO()
    assert main(["count", str(exported[BATCHED]), "--symbolic"], out, err) == 0
    assert "Batch: B images" in out.getvalue()
    out = io.StringIO()
    assert main(["count", str(exported[BATCHED]), "--symbolic", "--format", "json"], out, err) == 0
    data = json.loads(out.getvalue())
    assert data["input"]["batch"] == "B" and ca.parse_expression(data["total"]["macs"]) == (B * per_image).expand()
    fixed = exported["mobilenet_v3_small", "torchscript"]
    code, text = _one_line_cli(["count", str(fixed), "--set", "B=2"])
    assert code == 2 and "batch is fixed at 1" in text and text.count("\n") == 1
    code, text = _one_line_cli(["count", str(exported[BATCHED]), "--set", "B=0"])
    assert code == 2 and text.count("\n") == 1


def test_dynamo_gathered_adaptive_pool(tmp_path):
    """torch's dynamo exporter writes an adaptive pool whose input is no multiple of its output
    (AlexNet's and VGG's) as index arithmetic (Range, GatherND, Where, Gather, Add, Div): read as
    the library's AdaptivePool by its module, so the classifier after it counts, at two sizes."""
    pytest.importorskip("onnxscript")
    import logging

    class Small(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, stride=2)
            self.avgpool = torch.nn.AdaptiveAvgPool2d((3, 3))
            self.fc = torch.nn.Linear(36, 5)

        def forward(self, x):
            return self.fc(torch.flatten(self.avgpool(self.conv(x)), 1))

    torch.manual_seed(0)
    model, path = Small().eval(), tmp_path / "small.onnx"
    dims = {2: torch.export.Dim("H", min=8, max=512), 3: torch.export.Dim("W", min=8, max=512)}
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (torch.randn(1, 3, 17, 21),), str(path), dynamo=True, dynamic_shapes={"x": dims},
                              input_names=["x"])  # a map of 8 x 10: no multiple of 3
    finally:
        logging.disable(logging.NOTSET)
    assert {"GatherND", "Where"} <= {n.op_type for n in onnx.load(str(path)).graph.node}
    net = ca.from_onnx(path, strict=True)
    assert [type(x).__name__ for s in net.stages for x in iter_layers(s.block)] == ["Conv", "AdaptivePool", "Linear"]
    meta = model.to("meta")
    for height, width in ((17, 21), (30, 19)):
        with FlopCounterMode(display=False) as counter:
            meta(torch.empty(1, 3, height, width, device="meta"))
        assert net.total((height, width)) == (counter.get_total_flops() // 2, initializer_parameters(path))


def test_torchscript_swin_with_h_and_w_dynamic(exported):
    """swin_t from the TorchScript exporter, H and W dynamic (its shifted windows' masks built with
    ScatterND, Mod, Range, Where from the sizes): each attn module read whole as the window attention,
    each patch merging as one; MACs FlopCounterMode's at two sizes (one odd and oblong), params the
    file's initializers, and the closed form in H and W equal to the count where it claims to be exact."""
    from convalgebra.layers import Attention

    net = network(exported, SWIN)
    assert not [x for s in net.stages for x in iter_layers(s.block) if isinstance(x, Uncounted)]
    assert [(x.heads, x.window) for s in net.stages for x in iter_layers(s.block) if isinstance(x, Attention)] == \
        [(h, 7) for h, n in ((3, 2), (6, 2), (12, 6), (24, 2)) for _ in range(n)]
    for height, width in ((225, 161), (192, 256)):
        assert net.total((height, width)) == (flop_counter("swin_t", height, width), initializer_parameters(exported[SWIN]))
    cost = net.count()
    assert cost.exact_when() == "H and W are multiples of 224"
    assert cost.macs.subs({H: 448, W: 224}) == flop_counter("swin_t", 448, 224)


def test_dynamo_swin_read_whole(tmp_path):
    """torchvision's swin_t exported by the dynamo exporter (which keeps the input at 224 x 224 though
    asked for H and W dynamic): each ShiftedWindowAttention read as the library's window attention
    (its heads and window read off the position bias the exporter gathered), each PatchMerging as
    the patch merge, its norm and linear layer; MACs FlopCounterMode's, params the file's initializers
    (the gathered bias and the shifted windows' masks are in them, where torch holds a bias table)."""
    pytest.importorskip("onnxscript")
    import logging

    from convalgebra.layers import Attention

    torch.manual_seed(0)
    model, path = _torchvision("swin_t", "cpu"), tmp_path / "swin_t.onnx"
    dims = {2: torch.export.Dim("H", min=32, max=2048), 3: torch.export.Dim("W", min=32, max=2048)}
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), dynamo=True, dynamic_shapes={"x": dims},
                              input_names=["x"])
    finally:
        logging.disable(logging.NOTSET)
    net = ca.from_onnx(path, name="swin_t", strict=True)
    attention = [x for s in net.stages for x in iter_layers(s.block) if isinstance(x, Attention)]
    assert [(x.heads, x.window) for x in attention] == [(h, 7) for h, n in ((3, 2), (6, 2), (12, 6), (24, 2))
                                                         for _ in range(n)]
    assert [x.shift for x in attention[:2]] == [0, 3]
    assert net.total(224) == (flop_counter("swin_t", 224, 224), initializer_parameters(path))


def test_batch_norm_folded_differs_from_torch_by_the_norms(exported):
    """resnet18's exporter folds each batch norm (2N weights) into the convolution before it (a
    bias of N): the file holds N fewer per norm than torch's parameters, as the docstring says
    (less the biases the exporter keeps one copy of, being equal)."""
    model = _torchvision("resnet18", "meta")
    norms = sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    net = network(exported, ("resnet18", "torchscript"))
    shared = sum(m.out_channels for s in net.stages for m in iter_layers(s.block)
                 if isinstance(m, ca.Conv) and not m.bias)  # convolutions whose bias another holds
    assert net.total(224)[1] == sum(p.numel() for p in model.parameters()) - norms - shared


@pytest.mark.parametrize("case", [("resnet18", "torchscript"), ("efficientnet_b0", "dynamo")], ids="-".join)
def test_blocks_recognized_as_from_torch_does(exported, case):
    """The modules recognized in the file's blocks (the joins' modules; the dynamo exporter's own
    classes) are those from_torch recognizes in the model."""
    from collections import Counter

    mine = Counter(r.module for _, r in ca.recognize_network(network(exported, case))[0] if r is not None)
    theirs = Counter(r.module for _, r in ca.recognize_network(ca.from_torch(_torchvision(case[0], "meta")))[0]
                     if r is not None)
    assert mine and mine == theirs


# -- the ops, each on a graph built by hand ---------------------------------------------------

def _model(nodes, inits=(), channels=3, opset=17, dims=(1, None, "H", "W"), outputs=("y",)):
    shape = [channels if d is None else d for d in dims]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    graph = helper.make_graph(list(nodes), "g", [x], outs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _weight(name, *dims):
    return helper.make_tensor(name, TensorProto.FLOAT, list(dims), [0.0] * math.prod(dims))


def _ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], list(values))


def _out(size, kernel, stride=1, pad=0, dilation=1, ceil=False):
    """ONNX's output size: floor (or ceil) of (size + pads - dilation * (kernel - 1) - 1) / stride + 1."""
    span = size + pad - dilation * (kernel - 1) - 1
    return (-(-span // stride) if ceil else span // stride) + 1


def _conv_macs(cin, cout, k, groups, oh, ow, kw=None):
    return k * (kw or k) * (cin // groups) * cout * oh * ow


def _counts(model, size, **kw):
    return ca.from_onnx(model, **kw).total(size)


CONV = [  # (attributes, weight dims, input channels): Conv's count at two sizes, the spec's output size
    (dict(pads=[1, 1, 1, 1]), (8, 3, 3, 3), 3),
    (dict(strides=[2, 2], pads=[3, 3, 3, 3]), (16, 3, 7, 7), 3),
    (dict(group=4, pads=[1, 1, 1, 1], strides=[2, 2]), (8, 2, 3, 3), 8),
    (dict(dilations=[2, 2], pads=[2, 2, 2, 2]), (4, 4, 3, 3), 4),
    (dict(pads=[0, 0, 1, 1], strides=[2, 2]), (4, 3, 3, 3), 3),  # asymmetric: TensorFlow's SAME
    (dict(auto_pad="SAME_UPPER"), (4, 3, 3, 3), 3),
    (dict(auto_pad="VALID", strides=[2, 2]), (4, 3, 2, 2), 3),
    (dict(auto_pad="SAME_UPPER", strides=[2, 2]), (4, 3, 3, 3), 3),
    (dict(auto_pad="SAME_LOWER", strides=[3, 3], dilations=[2, 2]), (4, 3, 3, 3), 3),
    (dict(pads=[2, 1, 2, 1]), (6, 3, 5, 3), 3),  # an oblong kernel with its own pads a side
]


@pytest.mark.parametrize("attrs,dims,cin", CONV)
def test_conv(attrs, dims, cin):
    cout, per_group, kh, kw = dims
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)
    model = _model([node], [_weight("w", *dims), _weight("b", cout)], channels=cin)
    s, d = attrs.get("strides", [1, 1])[0], attrs.get("dilations", [1, 1])[0]
    pads = attrs.get("pads", [0, 0, 0, 0])
    for h, w in ((33, 47), (64, 31)):
        if attrs.get("auto_pad", "").startswith("SAME"):
            oh, ow = -(-h // s), -(-w // s)
        else:
            oh, ow = _out(h, kh, s, pads[0] + pads[2], d), _out(w, kw, s, pads[1] + pads[3], d)
        macs = kh * kw * per_group * cout * oh * ow
        assert _counts(model, (h, w)) == (macs, math.prod(dims) + cout)


def test_channels_last_input():
    """TensorFlow's N x H x W x C input, transposed to N x C x H x W by the exporter's first node."""
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["t", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])]
    model = _model(nodes, [_weight("w", 8, 3, 3, 3)], dims=("unk__0", "H", "W", 3))
    net = ca.from_onnx(model, strict=True, dims={"unk__0": 1})
    assert net.in_channels == 3 and net.count().macs == 216 * H * W / 4
    assert net.total((9, 14)) == (216 * 5 * 7, 216)


def test_conv_transpose():
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
                            output_padding=[1, 1])
    model = _model([node, helper.make_node("Relu", ["y"], ["z"])], [_weight("w", 8, 4, 3, 3)], channels=8,
                   outputs=("z",))
    net = ca.from_onnx(model)
    for h, w in ((7, 9), (16, 5)):
        # MACs on the input positions: k*k*Cin*Cout per position; the output (h-1)*2 - 2 + 3 + 1 = 2h
        assert net.total((h, w)) == (9 * 8 * 4 * h * w, 8 * 4 * 9)
        assert net.count((h, w)).layers[0].output_size == ((2 * h, 2 * w) if h != w else 2 * h)


def _head(inner_nodes, inits, channels=8):
    """x -> GlobalAveragePool -> Flatten -> the nodes (on a vector of ``channels``)."""
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Flatten", ["p"], ["f"])]
    return _model(nodes + list(inner_nodes), inits, channels=channels)


def test_gemm_and_matmul():
    gemm = _head([helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1)], [_weight("w", 10, 8),
                                                                              _weight("b", 10)])
    assert _counts(gemm, (9, 11)) == (80, 90)
    matmul = _head([helper.make_node("MatMul", ["f", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])],
                   [_weight("w", 8, 10), _weight("b", 10)])
    assert _counts(matmul, (9, 11)) == (80, 90)  # the bias after the matmul is the layer's


def test_flatten_of_a_map_into_a_fixed_classifier():
    """A classifier on a 4 x 4 map: the file fixes its size, so the count holds at that size only."""
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["y"], transB=1)]
    model = _model(nodes, [_weight("w", 10, 3 * 16)], dims=(1, None, 8, 8))
    assert _counts(model, 8) == (480, 480)
    with pytest.raises(InvalidValueError):
        _counts(model, 16)


def test_norms():
    bn = helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"])
    model = _model([bn], [_weight(n, 8) for n in "gbmv"], channels=8)
    assert _counts(model, (5, 7)) == (0, 16)  # the running mean and variance are statistics
    inorm = helper.make_node("InstanceNormalization", ["x", "g", "b"], ["y"])
    assert _counts(_model([inorm], [_weight("g", 8), _weight("b", 8)], channels=8), (5, 7)) == (0, 16)
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("LayerNormalization", ["t", "g", "b"], ["n"], axis=-1),
             helper.make_node("MatMul", ["n", "w"], ["m"]),
             helper.make_node("Transpose", ["m"], ["y"], perm=[0, 3, 1, 2])]
    model = _model(nodes, [_weight("g", 8), _weight("b", 8), _weight("w", 8, 32)], channels=8)
    for h, w in ((5, 7), (6, 6)):
        assert _counts(model, (h, w)) == (8 * 32 * h * w, 16 + 256)  # a linear layer on each position


def test_group_norm_written_out():
    """GroupNorm as torch exports it: Reshape to N x G x -1, InstanceNormalization, Reshape back to the
    map's shape (read off the map), a per-channel scale and shift; the convolution after it at full size."""
    nodes = [helper.make_node("Reshape", ["x", "g3"], ["r"]),
             helper.make_node("InstanceNormalization", ["r", "ones", "zeros"], ["n"]),
             helper.make_node("Shape", ["x"], ["shp"]), helper.make_node("Reshape", ["n", "shp"], ["m"]),
             helper.make_node("Mul", ["m", "gamma"], ["a"]), helper.make_node("Add", ["a", "beta"], ["b"]),
             helper.make_node("Conv", ["b", "w"], ["y"])]
    inits = [_ints("g3", [0, 2, -1]), _weight("ones", 2), _weight("zeros", 2), _weight("gamma", 4, 1, 1),
             _weight("beta", 4, 1, 1), _weight("w", 3, 4, 1, 1)]
    net = ca.from_onnx(_model(nodes, inits, channels=4), strict=True)
    assert [type(x).__name__ for s in net.stages for x in iter_layers(s.block)][0] == "Norm"
    for h, w in ((5, 6), (8, 3)):
        assert net.total((h, w)) == (12 * h * w, 2 + 2 + 4 + 4 + 12)


ACTIVATIONS = ["Relu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "Elu", "Selu", "Softplus",
               "Gelu", "Erf", "Softsign", "Celu", "Mish", "Identity", "Dropout"]


@pytest.mark.parametrize("op", ACTIVATIONS)
def test_activation_then_conv(op):
    """Each activation keeps the map: the convolution after it counts at the full size."""
    opset = 20 if op == "Gelu" else 18
    nodes = [helper.make_node(op, ["x"], ["a"]), helper.make_node("Conv", ["a", "w"], ["y"], pads=[1, 1, 1, 1])]
    model = _model(nodes, [_weight("w", 4, 3, 3, 3)], opset=opset)
    net = ca.from_onnx(model, strict=True)
    assert net.total((9, 13)) == (9 * 3 * 4 * 9 * 13, 108)
    assert net.count().macs == 108 * H * W
    exported = ca.to_torch(net)  # every activation the layers name has torch's module
    assert sum(p.numel() for p in exported.parameters()) == 108


def test_gelu_written_out_with_erf():
    """x * 0.5 * (1 + erf(x / sqrt 2)), as exporters before opset 20 write GELU: elementwise ops only."""
    def number(name, value):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [], [value]))

    nodes = [helper.make_node("Conv", ["x", "w"], ["a"]), number("root2", 1.4142135), number("one", 1.0),
             number("half", 0.5), helper.make_node("Div", ["a", "root2"], ["b"]), helper.make_node("Erf", ["b"], ["c"]),
             helper.make_node("Add", ["c", "one"], ["d"]), helper.make_node("Mul", ["a", "d"], ["e"]),
             helper.make_node("Mul", ["e", "half"], ["f"]), helper.make_node("Conv", ["f", "w2"], ["y"])]
    net = ca.from_onnx(_model(nodes, [_weight("w", 4, 3, 1, 1), _weight("w2", 2, 4, 1, 1)]), strict=True)
    assert net.total((5, 9)) == ((12 + 8) * 45, 20)


def test_prelu_holds_its_slopes_and_clip_is_hardtanh():
    nodes = [helper.make_node("PRelu", ["x", "slope"], ["a"]),
             helper.make_node("Clip", ["a"], ["y"], min=-1.0, max=1.0)]
    net = ca.from_onnx(_model(nodes, [_weight("slope", 3, 1, 1)], opset=11), strict=True)
    assert net.total((4, 4)) == (0, 3)
    assert [x.function for s in net.stages for x in iter_layers(s.block) if isinstance(x, ca.Activation)] == \
        ["leaky_relu", "hardtanh"]


def test_clip_is_relu6():
    nodes = [helper.make_node("Constant", [], ["lo"], value=helper.make_tensor("v", TensorProto.FLOAT, [], [0.0])),
             helper.make_node("Constant", [], ["hi"], value=helper.make_tensor("v", TensorProto.FLOAT, [], [6.0])),
             helper.make_node("Clip", ["x", "lo", "hi"], ["y"])]
    net = ca.from_onnx(_model(nodes))
    assert [x.function for s in net.stages for x in iter_layers(s.block)] == ["relu6"]


def test_elementwise_joins():
    """A residual sum, a difference, a product and a quotient of maps; an SE gate broadcast over the
    map; a number added: no MACs, the two convolutions counted once each."""
    conv = lambda i, o, n: helper.make_node("Conv", [i, n], [o], pads=[1, 1, 1, 1])  # noqa: E731
    inits = [_weight("w1", 4, 4, 3, 3), _weight("w2", 4, 4, 3, 3), _weight("s1", 2, 4, 1, 1), _weight("s2", 4, 2, 1, 1)]
    nodes = [conv("x", "a", "w1"), conv("a", "b", "w2"), helper.make_node("Add", ["x", "b"], ["c"]),
             helper.make_node("Sub", ["c", "a"], ["d"]), helper.make_node("Mul", ["d", "a"], ["e"]),
             helper.make_node("Div", ["e", "c"], ["f"]),
             helper.make_node("GlobalAveragePool", ["f"], ["g"]), helper.make_node("Conv", ["g", "s1"], ["g1"]),
             helper.make_node("Relu", ["g1"], ["g2"]), helper.make_node("Conv", ["g2", "s2"], ["g3"]),
             helper.make_node("Sigmoid", ["g3"], ["g4"]), helper.make_node("Mul", ["f", "g4"], ["h"]),
             helper.make_node("Constant", [], ["one"], value=helper.make_tensor("v", TensorProto.FLOAT, [], [1.0])),
             helper.make_node("Add", ["h", "one"], ["y"])]
    net = ca.from_onnx(_model(nodes, inits, channels=4), strict=True)
    for h, w in ((7, 9), (12, 5)):
        assert net.total((h, w)) == (2 * 9 * 16 * h * w + 8 + 8, 2 * 144 + 16)


def test_per_channel_scale_is_a_weight():
    nodes = [helper.make_node("Mul", ["x", "gamma"], ["y"])]
    net = ca.from_onnx(_model(nodes, [_weight("gamma", 3, 1, 1)]))
    assert net.total(5) == (0, 3)


@pytest.mark.parametrize("kind", ["MaxPool", "AveragePool"])
def test_pools(kind):
    node = helper.make_node(kind, ["x"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    model = _model([node, helper.make_node("Conv", ["p", "w"], ["y"])], [_weight("w", 2, 3, 1, 1)])
    for h, w in ((15, 22), (8, 9)):
        oh, ow = _out(h, 3, 2, 2, ceil=True), _out(w, 3, 2, 2, ceil=True)
        oh, ow = (oh - 1 if (oh - 1) * 2 >= h + 1 else oh), (ow - 1 if (ow - 1) * 2 >= w + 1 else ow)
        assert _counts(model, (h, w)) == (6 * oh * ow, 6)


@pytest.mark.parametrize("op", ["GlobalAveragePool", "ReduceMean"])
def test_global_pool_and_mean(op):
    extra = {"axes": [2, 3], "keepdims": 0} if op == "ReduceMean" else {}
    nodes = [helper.make_node(op, ["x"], ["p"], **extra)]
    if op == "GlobalAveragePool":
        nodes.append(helper.make_node("Flatten", ["p"], ["q"]))
    nodes += [helper.make_node("Gemm", [nodes[-1].output[0], "w"], ["y"], transB=1)]
    model = _model(nodes, [_weight("w", 5, 3)], opset=13)
    assert _counts(model, (31, 17)) == (15, 15)


def test_resize_upsample_and_to_another_values_size():
    """Resize by a scale of 2, then (Shape -> Slice -> Concat) back to the input's own size: a
    resize join on the input, so the closed form stays in H and W."""
    nodes = [helper.make_node("Resize", ["x", "", "sc"], ["u"], mode="linear"),
             helper.make_node("Conv", ["u", "w"], ["c"]),
             helper.make_node("Shape", ["x"], ["shp"]),
             helper.make_node("Slice", ["shp", "two", "four"], ["hw"]),
             helper.make_node("Concat", ["nc", "hw"], ["sz"], axis=0),
             helper.make_node("Resize", ["c", "", "", "sz"], ["y"], mode="nearest")]
    inits = [helper.make_tensor("sc", TensorProto.FLOAT, [4], [1, 1, 2, 2]), _ints("two", [2]), _ints("four", [4]),
             _ints("nc", [1, 4]), _weight("w", 4, 3, 1, 1)]
    net = ca.from_onnx(_model(nodes, inits))
    for h, w in ((7, 9), (10, 3)):
        assert net.total((h, w)) == (12 * 2 * h * 2 * w, 12)
    assert net.count().macs == 48 * H * W
    assert net.count((7, 9)).layers[-1].output_size == (7, 9)


def test_upsample_and_pad():
    nodes = [helper.make_node("Upsample", ["x", "sc"], ["u"], mode="nearest"),
             helper.make_node("Pad", ["u", "pads"], ["p"]),
             helper.make_node("Conv", ["p", "w"], ["y"])]
    inits = [helper.make_tensor("sc", TensorProto.FLOAT, [4], [1, 1, 3, 3]), _ints("pads", [0, 0, 1, 2, 0, 0, 0, 1]),
             _weight("w", 2, 3, 3, 3)]
    for h, w in ((5, 8), (11, 4)):
        oh, ow = 3 * h + 1 - 2, 3 * w + 3 - 2
        assert _counts(_model(nodes, inits, opset=11), (h, w)) == (27 * 2 * oh * ow, 54)


def test_concat_split_slice():
    """Two branches concatenated along the channels, split again (unequal pieces), and a slice of
    the channels counted from the end."""
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"]), helper.make_node("Conv", ["x", "w2"], ["b"]),
             helper.make_node("Concat", ["a", "b"], ["c"], axis=1),
             helper.make_node("Split", ["c", "parts"], ["s1", "s2"], axis=1),
             helper.make_node("Conv", ["s2", "w3"], ["d"]),
             helper.make_node("Slice", ["c", "st", "en", "ax"], ["e"]),
             helper.make_node("Conv", ["e", "w4"], ["f"]),
             helper.make_node("Add", ["d", "f"], ["g"]), helper.make_node("Mul", ["g", "s1"], ["y"])]
    inits = [_weight("w1", 2, 3, 1, 1), _weight("w2", 5, 3, 1, 1), _ints("parts", [1, 6]), _weight("w3", 1, 6, 1, 1),
             _ints("st", [-3]), _ints("en", [2**62]), _ints("ax", [1]), _weight("w4", 1, 3, 1, 1)]
    net = ca.from_onnx(_model(nodes, inits, opset=13), strict=True)
    for h, w in ((4, 6), (9, 9)):
        assert net.total((h, w)) == ((6 + 15 + 6 + 3) * h * w, 6 + 15 + 6 + 3)


def test_computed_reshape_channel_shuffle():
    """ShuffleNet's shuffle as exporters write it: Shape -> Gather -> Div -> Unsqueeze -> Concat ->
    Reshape to groups, Transpose, Reshape back (its shape computed the same way): one shuffle."""
    def index(i):
        return helper.make_tensor(f"i{i}", TensorProto.INT64, [], [i])

    nodes = [helper.make_node("Shape", ["x"], ["shp"])]
    for i in range(4):
        nodes.append(helper.make_node("Gather", ["shp", f"i{i}"], [f"d{i}"], axis=0))
    nodes += [helper.make_node("Div", ["d1", "g"], ["cg"]),
              *[helper.make_node("Unsqueeze", [n, "zero"], [n + "u"]) for n in ("d0", "cg", "d2", "d3", "d1")],
              helper.make_node("Concat", ["d0u", "gu", "cgu", "d2u", "d3u"], ["s5"], axis=0),
              helper.make_node("Reshape", ["x", "s5"], ["r"]),
              helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
              helper.make_node("Concat", ["d0u", "minus", "d2u", "d3u"], ["s4"], axis=0),
              helper.make_node("Reshape", ["t", "s4"], ["u"]),
              helper.make_node("Conv", ["u", "w"], ["y"])]
    inits = [*(index(i) for i in range(4)), helper.make_tensor("g", TensorProto.INT64, [], [2]), _ints("zero", [0]),
             _ints("gu", [2]), _ints("minus", [-1]), _weight("w", 3, 8, 1, 1)]
    net = ca.from_onnx(_model(nodes, inits, channels=8, opset=13), strict=True)
    kinds = [type(x).__name__ for s in net.stages for x in iter_layers(s.block)]
    assert kinds == ["Shuffle", "Conv"]
    assert net.total((5, 7)) == (24 * 35, 24)


def test_squeeze_unsqueeze_softmax():
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Squeeze", ["p", "ax"], ["q"]),
             helper.make_node("Gemm", ["q", "w"], ["r"], transB=1), helper.make_node("Softmax", ["r"], ["s"]),
             helper.make_node("Unsqueeze", ["s", "ax"], ["t"]), helper.make_node("Mul", ["x", "t"], ["y"])]
    net = ca.from_onnx(_model(nodes, [_ints("ax", [2, 3]), _weight("w", 3, 3)], opset=13), strict=True)
    assert net.total((6, 4)) == (9, 9)


def test_shared_initializer_counted_once_and_named():
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Identity", ["w"], ["w_again"]),
             helper.make_node("Conv", ["a", "w_again"], ["y"], pads=[1, 1, 1, 1])]
    net = ca.from_onnx(_model(nodes, [_weight("w", 3, 3, 3, 3)]))
    assert net.total((5, 6)) == (2 * 81 * 30, 81)
    assert len(net.reused) == 1 and "w (by 2 layers)" in net.source


def test_tensorflow_same_padding_computed_from_the_size():
    """TensorFlow's SAME before a strided convolution, as its ports write it: pads of
    max((ceil(H / s) - 1) * s + k - H, 0), split low and high, computed from the map's own shape."""
    def number(name, value):
        return helper.make_tensor(name, TensorProto.FLOAT, [], [value])

    nodes = [helper.make_node("Shape", ["x"], ["shp"]), helper.make_node("Slice", ["shp", "two", "four"], ["hw"]),
             helper.make_node("Cast", ["hw"], ["hwf"], to=TensorProto.FLOAT),
             helper.make_node("Div", ["hwf", "s"], ["q"]), helper.make_node("Ceil", ["q"], ["o"]),
             helper.make_node("Sub", ["o", "one"], ["o1"]), helper.make_node("Mul", ["o1", "s"], ["o2"]),
             helper.make_node("Add", ["o2", "k"], ["o3"]), helper.make_node("Sub", ["o3", "hwf"], ["t0"]),
             helper.make_node("Max", ["t0", "zero"], ["t"]), helper.make_node("Div", ["t", "s"], ["lo0"]),
             helper.make_node("Floor", ["lo0"], ["lo"]), helper.make_node("Sub", ["t", "lo"], ["hi"]),
             helper.make_node("Cast", ["lo"], ["loi"], to=TensorProto.INT64),
             helper.make_node("Cast", ["hi"], ["hii"], to=TensorProto.INT64),
             helper.make_node("Concat", ["zeros", "loi", "zeros", "hii"], ["pads"], axis=0),
             helper.make_node("Pad", ["x", "pads"], ["p"]),
             helper.make_node("Conv", ["p", "w"], ["y"], strides=[2, 2])]
    inits = [_ints("two", [2]), _ints("four", [4]), number("s", 2.0), number("one", 1.0), number("k", 3.0),
             number("zero", 0.0), _ints("zeros", [0, 0]), _weight("w", 8, 3, 3, 3)]
    net = ca.from_onnx(_model(nodes, inits, opset=13), strict=True)
    for h, w in ((9, 14), (16, 7)):
        assert net.total((h, w)) == (216 * -(-h // 2) * -(-w // 2), 216)


def test_weight_computed_from_initializers():
    """NFNet's standardized convolution: the weight a function of the stored one and a gain, both counted."""
    nodes = [helper.make_node("Mul", ["w", "gain"], ["ww"]), helper.make_node("Conv", ["x", "ww"], ["y"])]
    net = ca.from_onnx(_model(nodes, [_weight("w", 4, 3, 3, 3), _weight("gain", 4, 1, 1, 1)]), strict=True)
    assert net.total((6, 7)) == (108 * 4 * 5, 108 + 4)


def test_unknown_op_is_named_and_strict_refuses():
    nodes = [helper.make_node("Sqrt", ["x"], ["a"]), helper.make_node("Conv", ["a", "w"], ["y"])]
    model = _model(nodes, [_weight("w", 2, 3, 1, 1)])
    net = ca.from_onnx(model)
    odd = [x for s in net.stages for x in iter_layers(s.block) if isinstance(x, Uncounted)]
    assert [x.op for x in odd] == ["Sqrt"]
    assert net.total((4, 5)) == (6 * 20, 6)  # shape inference says Sqrt keeps the map: the conv after counts
    with pytest.raises(InvalidValueError, match="Sqrt.*strict refuses"):
        ca.from_onnx(model, strict=True)


def test_control_flow():
    """An If whose condition the shapes fix is its branch; one that depends on the input's size or
    on the data is refused in one line, as is a Loop."""
    conv = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    relu = helper.make_graph([helper.make_node("Relu", ["x"], ["e"])], "else", [],
                             [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    branch = helper.make_node("If", ["cond"], ["y"], then_branch=conv, else_branch=relu)
    inits = [helper.make_tensor("one", TensorProto.INT64, [], [1]), helper.make_tensor("two", TensorProto.INT64, [],
                                                                                          [2]),
             helper.make_tensor("three", TensorProto.INT64, [], [3]), _weight("w", 2, 3, 1, 1)]
    shape = [helper.make_node("Shape", ["x"], ["shp"]), helper.make_node("Gather", ["shp", "one"], ["c"], axis=0),
             helper.make_node("Gather", ["shp", "two"], ["h"], axis=0)]
    channels = [*shape, helper.make_node("Equal", ["c", "three"], ["cond"]), branch]
    net = ca.from_onnx(_model(channels, inits), strict=True)  # 3 channels: the Conv branch
    assert net.total((3, 4)) == (6 * 12, 6) and net.count().macs == 6 * H * W
    height = [*shape, helper.make_node("Greater", ["h", "three"], ["cond"]), branch]
    with pytest.raises(InvalidValueError, match=r"If node .* depends on the input's size \(H > 3\)"):
        ca.from_onnx(_model(height, inits))
    # H = 2: the Relu branch; the Conv's weight, which the file holds, is a held parameter that does not run
    assert ca.from_onnx(_model(height, inits), dims={"H": 2}).total((2, 5)) == (0, 6)
    data = [helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0), helper.make_node("Greater", ["m", "one"], ["cond"]),
            branch]
    with pytest.raises(InvalidValueError, match="If node .* condition is computed from the data"):
        ca.from_onnx(_model(data, inits))
    fixed = [helper.make_node("Constant", [], ["cond"], value=helper.make_tensor("v", TensorProto.BOOL, [], [False])),
             branch]
    assert ca.from_onnx(_model(fixed, inits)).total((3, 4)) == (0, 6)
    loop = helper.make_node("Loop", ["", "cond"], ["y"], body=relu)
    with pytest.raises(InvalidValueError, match="Loop node"):
        ca.from_onnx(_model([fixed[0], loop], inits))


def test_reshape_to_minus_one_with_a_batch():
    """The dynamo exporter's flatten before a classifier, Reshape to [-1, C], on a file whose batch is a
    dim_param: the classifier counts, for B images."""
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Reshape", ["p", "shape"], ["f"]),
             helper.make_node("Gemm", ["f", "w"], ["y"], transB=1)]
    model = _model(nodes, [_ints("shape", [-1, 3]), _weight("w", 5, 3)], dims=("N", 3, "H", "W"))
    net = ca.from_onnx(model, strict=True)
    assert net.total((7, 9)) == (15 * B, 15)


def test_dims_mapped_and_square():
    node = helper.make_node("Conv", ["x", "w"], ["y"])
    model = _model([node], [_weight("w", 2, 3, 1, 1)], dims=("batch", None, "size", "size"))
    cost = ca.from_onnx(model).count()
    assert cost.macs == 6 * B * I**2 and cost.params == 6  # the batch is B: MACs for B images, weights once
    assert "batch dimension batch: MACs for B images" in ca.from_onnx(model).source
    assert ca.from_onnx(model, dims={"batch": 4}).count().macs == 24 * I**2
    mapped = _model([node], [_weight("w", 2, 3, 1, 1)], dims=(1, None, "height", "width"))
    assert ca.from_onnx(mapped, dims={"height": "W", "width": "H"}).count().macs == 6 * H * W
    assert ca.from_onnx(mapped, dims={"height": 10}).count().macs == 60 * W
    with pytest.raises(InvalidValueError, match="no dim_param"):
        ca.from_onnx(mapped, dims={"depth": "H"})


# -- bad input --------------------------------------------------------------------------

def _one_line_cli(args):
    out, err = io.StringIO(), io.StringIO()
    code = main(args, out, err)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    numpy = pytest.importorskip("numpy")
    weight = onnx.numpy_helper.from_array(numpy.full((64, 3, 3, 3), 0.5, numpy.float32), "w")  # raw bytes
    model = _model([helper.make_node("Conv", ["x", "w"], ["y"])], [weight])
    path = folder / "small.onnx"
    onnx.save(model, str(path))
    return folder, model, path


def test_bad_inputs(small_file):
    folder, model, path = small_file
    text = folder / "text.onnx"
    text.write_text("not a model\n")
    truncated = folder / "truncated.onnx"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    newer = folder / "newer.onnx"
    model2 = onnx.ModelProto()
    model2.CopyFrom(model)
    model2.opset_import[0].version = 999
    onnx.save(model2, str(newer))
    older = folder / "older.onnx"
    model2.opset_import[0].version = 9
    onnx.save(model2, str(older))
    huge = folder / "huge.onnx"
    with open(huge, "wb") as f:
        f.truncate(3 * 2**30)  # sparse: no disk is used
    external = folder / "external" / "model.onnx"
    external.parent.mkdir()
    onnx.save(model, str(external), save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin",
              size_threshold=0)
    assert ca.from_onnx(external).total(8) == (64 * 27 * 36, 64 * 27)  # counted without reading the weights
    (external.parent / "weights.bin").unlink()
    cases = {text: "not an ONNX model", truncated: "not an ONNX model, or a truncated one", newer: "opset 999 is newer",
             older: "opset 9 is older", huge: "too large", external: "external data of w .* is missing",
             folder / "nothing.onnx": "no such file"}
    for bad, message in cases.items():
        with pytest.raises(InvalidValueError, match=message):
            ca.from_onnx(bad)
        code, err = _one_line_cli(["count", str(bad)])
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    with pytest.raises(InvalidValueError, match="takes a path"):
        ca.from_onnx(3.5)


HOSTILE = {  # a model the library cannot count as it is: one line, the library's error
    "channels that disagree": ([helper.make_node("Conv", ["x", "w"], ["y"])], [_weight("w", 4, 5, 3, 3)], (1, 3, "H", "W"),
                               "a 3x3 conv for 5 input channels gets 3"),
    "a kernel larger than the input": ([helper.make_node("Conv", ["x", "w"], ["y"])], [_weight("w", 4, 3, 3, 3)],
                                       (1, 3, 2, 2), "leaves no output"),
    "a batch of 8": ([helper.make_node("Relu", ["x"], ["y"])], [], (8, 3, "H", "W"), "a batch of 8 images"),
    "no image input": ([helper.make_node("Relu", ["x"], ["y"])], [], (1, 3, "L"), "has 3 dims"),
    "no data out": ([helper.make_node("Shape", ["x"], ["y"])], [], (1, 3, "H", "W"), "returns no tensor"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_models(case):
    nodes, inits, dims, message = HOSTILE[case]
    with pytest.raises(InvalidValueError, match=message):
        ca.from_onnx(_model(nodes, inits, dims=dims))


@pytest.mark.parametrize("kwargs,message", [(dict(dims=5), "expected a mapping"), (dict(dims={"H": "Q"}), "unknown"),
                                            (dict(dims={"H": 0}), ">= 1"), (dict(strict="yes"), "True or False"),
                                            (dict(name=3), "expected text")])
def test_hostile_arguments(kwargs, message):
    with pytest.raises(ca.ConvAlgebraError, match=message):
        ca.from_onnx(_model([helper.make_node("Relu", ["x"], ["y"])]), **kwargs)


def test_malformed_nodes_are_named_not_counted():
    """A node without its weight, a pool without its window, a custom domain's op: not counted, by name."""
    nodes = [helper.make_node("Conv", ["x"], ["a"]), helper.make_node("MaxPool", ["a"], ["b"]),
             helper.make_node("Foo", ["b"], ["y"], domain="com.example")]
    net = ca.from_onnx(_model(nodes))
    odd = [x.op for s in net.stages for x in iter_layers(s.block) if isinstance(x, Uncounted)]
    assert odd == ["Conv", "MaxPool", "com.example.Foo"]


def test_cli_count(small_file):
    folder, model, path = small_file
    out, err = io.StringIO(), io.StringIO()
    assert main(["count", str(path), "--set", "H=10", "W=12"], out, err) == 0
    assert "138,240" in out.getvalue()  # 27 * 64 * 8 * 10
    out = io.StringIO()
    assert main(["count", str(path), "--symbolic", "--format", "json"], out, err) == 0
    assert "1728*H*W - 3456*H - 3456*W + 6912" in out.getvalue()
    unknown = folder / "unknown.onnx"
    onnx.save(_model([helper.make_node("Sqrt", ["x"], ["y"])]), str(unknown))
    code, err_text = _one_line_cli(["count", str(unknown), "--strict"])
    assert code == 2 and "Sqrt" in err_text and err_text.count("\n") == 1
