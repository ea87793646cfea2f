"""Every torchvision classification CNN exported to ONNX and counted from the file, held to torch.

Each model is built on the CPU with random weights (``weights=None``), exported to a temporary
folder by ``torch.onnx.export`` with H and W dynamic (the TorchScript exporter, or with
``--dynamo`` the dynamo exporter, its weights as external data when large), read back with
``convalgebra.from_onnx`` and counted at two sizes, one odd and oblong. MACs are held to
FlopCounterMode's FLOPs / 2 of one forward of the same torchvision definition on the meta device at
the same size; params to the initializers' elements read off the file (float initializers but a
batch norm's running mean and variance and one-element numbers, as tests/test_onnx_import.py
counts them). Prints one line a model and ``N exact, M mismatched, K failed``; minutes on 2 cores.

    python tools/onnx_sweep.py                    # the 68 CNNs, TorchScript exporter
    python tools/onnx_sweep.py --dynamo           # the same, dynamo exporter (onnxscript)
    python tools/onnx_sweep.py resnet18 alexnet   # only these (any of list_models())
    python tools/onnx_sweep.py --all              # also the 12 transformers (ViT, Swin, MaxViT)

Sizes: 225x161 and 192x256 (Inception V3: 301x333 and 299x299). A model that refuses a size (ViT
takes 224x224 only) is a failure named by torch's message.

Known (torch 2.14, torchvision 0.29): the TorchScript exporter refuses AlexNet and the eight VGGs
with H and W dynamic (their AdaptiveAvgPool2d to 6x6 / 7x7 needs the input's size: "adaptive_avg_pool2d,
input size not accessible"). The dynamo exporter writes that pool, where the map's size is no
multiple of the output's (AlexNet's 4 columns to 6 at 225x161), as index arithmetic (Range, GatherND,
Where, Gather, Add, Div), which from_onnx reads whole as the adaptive pool by the module's class.
With --all: the dynamo exporter keeps swin_t's input at 224 x 224 (its sizes fixed, so the odd size
counts the layers at another size than the file's graph computes); the TorchScript one keeps H and W.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import signal
import sys
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
warnings.filterwarnings("ignore")

import onnx  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from onnx import TensorProto  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.blocks import iter_layers  # noqa: E402
from convalgebra.layers import Uncounted  # noqa: E402
from convalgebra.torch_import import load_model  # noqa: E402

SIZES = [(225, 161), (192, 256)]
INCEPTION_SIZES = [(301, 333), (299, 299)]
TRANSFORMERS = ("vit_", "swin_", "maxvit_")
#: The largest last, so that a sweep cut short has counted the most models.
LAST = ("vit_l_32", "vit_l_16", "regnet_x_32gf", "regnet_y_32gf", "vit_h_14", "regnet_y_128gf")
TIMEOUT = 900  # seconds a model, export and count


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout(f"over {TIMEOUT} s")


def sizes(name: str) -> list[tuple[int, int]]:
    if name == "inception_v3":
        return INCEPTION_SIZES
    if name.startswith("vit_"):
        return [(224, 224)]  # ViT refuses any other size
    return SIZES


@contextlib.contextmanager
def quiet():
    """The exporters' notes and graph dumps (some written by C++ straight to the file descriptors) hushed."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)


def export(name: str, folder: str, dynamo: bool) -> str:
    """The model built on the CPU with random weights, exported with H and W dynamic."""
    path = os.path.join(folder, f"{name}.onnx")
    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None).eval()
    height, width = sizes(name)[0]
    x = torch.randn(1, 3, height, width)
    with warnings.catch_warnings(), quiet(), torch.no_grad():
        warnings.simplefilter("ignore")
        if dynamo:
            dims = {2: torch.export.Dim("H", min=32, max=2048), 3: torch.export.Dim("W", min=32, max=2048)}
            torch.onnx.export(model, (x,), path, dynamo=True, dynamic_shapes={"x": dims}, input_names=["x"])
        else:
            torch.onnx.export(model, x, path, dynamo=False, input_names=["x"], dynamic_axes={"x": {2: "H", 3: "W"}})
    return path


def initializer_parameters(path: str) -> int:
    """The weights the file holds (its protobuf only, external data left on disk): float
    initializers of more than one element (those no node reads too: the file holds them), but those
    only read as a batch norm's running mean or variance (the dynamo exporter shares equal
    initializers: with random weights a norm's running variance is its scale, all ones, and its
    running mean its bias, all zeros); as tests/test_onnx_import.py counts them."""
    model = onnx.load(path, load_external_data=False)
    read = {x for node in model.graph.node for k, x in enumerate(node.input)
            if not (node.op_type == "BatchNormalization" and k in (3, 4))}
    statistics = {x for node in model.graph.node if node.op_type == "BatchNormalization"
                  for x in node.input[3:5]} - read
    return sum(math.prod(t.dims) for t in model.graph.initializer
               if t.data_type == TensorProto.FLOAT and t.name not in statistics and math.prod(t.dims) > 1)


def torch_macs(model: torch.nn.Module, height: int, width: int) -> int:
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, height, width, device="meta"))
    return counter.get_total_flops() // 2


def check(name: str, dynamo: bool) -> tuple[str, str]:
    """('exact' | 'mismatch', the line's details)."""
    with tempfile.TemporaryDirectory() as folder:
        path = export(name, folder, dynamo)
        net = ca.from_onnx(path, name=name)
        theirs_params = initializer_parameters(path)
        uncounted = sorted({x.op for s in net.stages for x in iter_layers(s.block) if isinstance(x, Uncounted)})
        meta = load_model(f"torchvision:{name}").eval()
        bad, parts = [], []
        for height, width in sizes(name):
            macs, params = net.total((height, width))
            theirs = torch_macs(meta, height, width)
            if macs != theirs:
                bad.append(f"MACs at {height}x{width} {macs} != torch {theirs} ({macs - theirs:+d})")
            parts.append(f"{height}x{width} {macs}")
        if params != theirs_params:
            bad.append(f"params {params} != initializers {theirs_params} ({params - theirs_params:+d})")
        if uncounted:
            bad.append(f"not counted: {', '.join(uncounted)}")
    if bad:
        return "mismatch", "; ".join(bad)
    return "exact", f"MACs {', '.join(parts)}; params {params}"


def main(argv: list[str]) -> int:
    dynamo = "--dynamo" in argv
    every = "--all" in argv
    chosen = [a for a in argv if not a.startswith("--")]
    names = chosen or [n for n in torchvision.models.list_models(module=torchvision.models)
                       if every or not n.startswith(TRANSFORMERS)]
    names = sorted(names, key=lambda n: (LAST.index(n) if n in LAST else -1, names.index(n)))
    logging.disable(logging.WARNING)  # the exporters' progress notes
    signal.signal(signal.SIGALRM, _alarm)
    tally = {"exact": 0, "mismatch": 0, "failed": 0}
    for name in names:
        start = time.time()
        signal.alarm(TIMEOUT)
        try:
            kind, detail = check(name, dynamo)
        except Exception as error:  # noqa: BLE001 -- a failure is reported, and the sweep goes on
            frames = traceback.extract_tb(error.__traceback__)
            where = next((f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(frames)
                          if "convalgebra" in f.filename), "")
            message = " ".join(str(error).split(" [Caused by")[0].split(" Please feel free")[0].split())[:300]
            kind, detail = "failed", f"{type(error).__name__}: {message}" + (f" [{where}]" if where else "")
        finally:
            signal.alarm(0)
        tally[kind] += 1
        label = {"exact": "exact", "mismatch": "MISMATCH", "failed": "FAILED"}[kind]
        print(f"{name} {label} {time.time() - start:.1f} s: {detail}", flush=True)
    exporter = "dynamo" if dynamo else "torchscript"
    print(f"{tally['exact']} exact, {tally['mismatch']} mismatched, {tally['failed']} failed"
          f" ({exporter} exporter, {len(names)} models)", flush=True)
    return 1 if tally["mismatch"] or tally["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
