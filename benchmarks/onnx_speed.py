"""Speed of from_onnx's closed form against the numeric counts of the same ONNX file, in one run.

torchvision's ResNet-50 (weights=None, on the CPU) is exported once by ``torch.onnx.export``
(``dynamo=False``, H and W dynamic; not timed) to a temporary folder. Then, median of ``--runs``
runs each, alternating:

  1. ``from_onnx(path).count()``: read the file, every layer of the library's, every cost a closed
     form in the file's own H and W (exact where they are multiples of 32);
  2. onnx-tool's numeric profile of the same file at 224 x 224 (``Model(path)``, ``shape_infer``,
     ``profile``), when ``onnx-tool`` is installed (``pip install onnx-tool``);
  3. a plain walk: ``onnx.load``, the input fixed at 224 x 224, onnx's shape inference, and each
     Conv's and Gemm's MACs summed from the inferred shapes.

Both numeric counts give one size; the closed form gives all of them, and is checked equal to the
plain walk's MACs at 224 (and onnx-tool's MACs are printed beside: they add the elementwise ops).

Run: python benchmarks/onnx_speed.py [--runs 5]   (needs: pip install -e ".[torch,onnx]")
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
import warnings
from typing import Any, Callable


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def export(folder: str) -> str:
    import torch
    import torchvision

    path = os.path.join(folder, "resnet50.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(torchvision.models.resnet50(weights=None).eval(), torch.randn(1, 3, 224, 224), path,
                          dynamo=False, dynamic_axes={"x": {2: "H", 3: "W"}}, input_names=["x"])
    return path


def closed_form(path: str) -> Any:
    import convalgebra as ca

    return ca.from_onnx(path).count().macs


def onnx_tool_profile(path: str) -> int:
    import numpy
    import onnx_tool

    model = onnx_tool.Model(path, {"verbose": False})
    model.graph.shape_infer({"x": numpy.zeros((1, 3, 224, 224), numpy.float32)})
    model.graph.profile()
    return int(model.graph.macs[0] if isinstance(model.graph.macs, (list, tuple)) else model.graph.macs)


def plain_walk(path: str) -> int:
    """Conv and Gemm MACs from onnx's shape inference at 224 x 224."""
    import onnx

    model = onnx.load(path, load_external_data=False)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value, dims[3].dim_value = 224, 224
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out, w = shapes[node.output[0]], weights[node.input[1]]
            macs += math.prod(w) * out[2] * out[3]
        elif node.op_type == "Gemm":
            macs += math.prod(weights[node.input[1]])
    return macs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    try:
        import onnx_tool  # noqa: F401
        have_tool = True
    except ImportError:
        have_tool = False
    from convalgebra.symbols import H, W

    with tempfile.TemporaryDirectory() as folder:
        path = export(folder)
        closed_form(path)  # sympy and onnx imported once, outside the timings
        times: dict[str, list[float]] = {"closed form": [], "onnx-tool": [], "plain walk": []}
        for _ in range(args.runs):
            t, ours = timed(lambda: closed_form(path))
            times["closed form"].append(t)
            if have_tool:
                t, tool = timed(lambda: onnx_tool_profile(path))
                times["onnx-tool"].append(t)
            t, walk = timed(lambda: plain_walk(path))
            times["plain walk"].append(t)
    at224 = int(ours.subs({H: 224, W: 224}))
    print(f"resnet50 closed form: {ours}   at 224 x 224: {at224:,} MACs")
    print(f"plain walk at 224: {walk:,} MACs ({'equal' if walk == at224 else 'DIFFERENT'})")
    if have_tool:
        print(f"onnx-tool at 224: {tool:,} MACs (with the elementwise ops)")
    base = statistics.median(times["closed form"])
    for name, values in times.items():
        if values:
            median = statistics.median(values)
            print(f"{name:>12}: {median * 1000:8.1f} ms   ({median / base:.2f} x the closed form's time)")


if __name__ == "__main__":
    main()
