"""Speed of the graph import on timm models, against PyTorch's own counter in the same run (issue 19).

Three ratios, each measured here, now, on both sides:

  1. import + count of a model **held on the CPU with its weights** (as users hold it) against one
     FlopCounterMode forward on the meta device (a meta twin of the model, built untimed): per model,
     and the median over the models (target: the import at most 1x the forward, ratio <= 1);
  2. the closed form in H and W (``from_torch(model).count((H, W))``) against FlopCounterMode under
     fake tensors with symbolic H and W (``ShapeEnv(duck_shape=False)``), both on meta, for the models
     whose every op has a size rule (target: >= 10x faster);
  3. ``python -m convalgebra count timm:NAME`` as a whole process against a script that imports torch
     and timm, builds the model on meta and runs FlopCounterMode (target: at most 1.2x).

Every count is checked equal to FlopCounterMode's / 2 where they meet, so the times are of the same answer.

Run: python benchmarks/import_graph_speed.py [--runs 3] [--models N]   (needs torch and timm)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings
from typing import Any, Callable

#: One small model a family, diverse: series-parallel ones, graphs, functional forms, control flow, attention.
MODELS = ("resnet18", "resnet50", "resnext26ts", "seresnext26d_32x4d", "efficientnet_b0", "mobilenetv3_large_100",
          "mixnet_s", "ghostnet_100", "regnety_002", "convnext_nano", "densenet121", "dla34", "hrnet_w18_small",
          "dpn68", "vovnet39a", "ese_vovnet19b_dw", "rexnet_100", "selecsls42b", "nfnet_l0", "resnest14d",
          "res2net50_14w_8s", "edgenext_xx_small", "poolformer_s12", "fastvit_t8", "mobileone_s0",
          "tf_efficientnetv2_b0", "cspresnet50", "levit_128s", "vit_tiny_patch16_224", "coatnet_0_rw_224",
          "repvgg_a0", "lcnet_050")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def meta_flops(model: Any) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, 224, 224, device="meta"))
    return int(counter.get_total_flops())


def symbolic_flops(model: Any) -> Any:
    """FlopCounterMode's total under fake tensors whose H and W are symbols (a SymInt)."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv, StatelessSymbolicContext
    from torch.utils.flop_counter import FlopCounterMode

    mode = FakeTensorMode(shape_env=ShapeEnv(duck_shape=False), allow_non_fake_inputs=True)
    dynamic = [DimDynamic.STATIC, DimDynamic.STATIC, DimDynamic.DYNAMIC, DimDynamic.DYNAMIC]
    x = mode.from_tensor(torch.empty(1, 3, 224, 224, device="meta"),
                         symbolic_context=StatelessSymbolicContext(dynamic_sizes=dynamic))
    with mode, FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def process_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


BASELINE = """
import sys, torch, timm
from torch.utils.flop_counter import FlopCounterMode
with torch.device("meta"):
    model = timm.create_model(sys.argv[1], pretrained=False).eval()
with FlopCounterMode(display=False) as counter:
    model(torch.empty(1, 3, 224, 224, device="meta"))
print(counter.get_total_flops() // 2)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", type=int, default=len(MODELS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    import timm
    import torch

    from convalgebra.layers import Traced
    from convalgebra.blocks import iter_layers
    from convalgebra.symbols import H, W
    from convalgebra import torch_import
    from convalgebra.torch_import import from_torch

    def fresh(fn: Callable[[], Any]) -> Callable[[], Any]:
        """``fn`` with the import's cache of FlopCounterMode's counts per op and shapes emptied first,
        so that no run is faster for the runs of the same model before it."""
        def run() -> Any:
            torch_import._TRACED_MACS.clear()
            return fn()
        return run

    names = MODELS[:args.models]
    from_torch(timm.create_model("resnet18", pretrained=False)).count((H, W))  # imports and caches, untimed
    print(f"1. import + count at 224 of a model on the CPU with weights, against one FlopCounterMode forward on meta"
          f" (median of {args.runs} alternating runs)")
    ratios, closed = [], []
    for name in names:
        cpu = timm.create_model(name, pretrained=False).eval()
        with torch.device("meta"):
            meta = timm.create_model(name, pretrained=False).eval()
        ours, theirs = [], []
        for _ in range(args.runs):
            seconds, cost = timed(fresh(lambda: from_torch(cpu, (3, 224, 224), name=name).count(224)))
            ours.append(seconds)
            seconds, flops = timed(lambda: meta_flops(meta))
            theirs.append(seconds)
        assert cost.macs * 2 == flops, (name, cost.macs, flops)
        a, b = statistics.median(ours), statistics.median(theirs)
        ratios.append(a / b)
        net = cost.network
        exact = not net.domain and not any(isinstance(x, Traced) for s in net.stages for x in iter_layers(s.block))
        print(f"   {name:24} import + count {a * 1000:8.1f} ms   FlopCounterMode (meta) {b * 1000:8.1f} ms"
              f"   {a / b:5.2f}x   {'closed form' if exact else 'at 224 only'}")
        if exact:
            closed.append((name, meta))
    print(f"   median ratio {statistics.median(ratios):.2f}x over {len(names)} models (target <= 1x)")

    print("2. closed form in H and W, against FlopCounterMode under fake tensors with symbolic H and W"
          f" (median of {args.runs} runs)")
    closed_ratios = []
    for name, meta in closed:
        ours, theirs = [], []
        for _ in range(args.runs):
            seconds, cost = timed(fresh(lambda: from_torch(meta, name=name).count((H, W))))
            ours.append(seconds)
            try:
                seconds, flops = timed(lambda: symbolic_flops(meta))
            except Exception as error:  # some models cannot run on symbolic sizes at all
                seconds, flops = float("nan"), None
                first = str(error).splitlines()[0][:80]
                print(f"   {name:24} FlopCounterMode under a symbolic ShapeEnv fails: {first}")
                break
            theirs.append(seconds)
        if flops is None:
            continue
        a, b = statistics.median(ours), statistics.median(theirs)
        closed_ratios.append(b / a)
        print(f"   {name:24} closed form {a * 1000:8.1f} ms   FlopCounterMode (fake, symbolic) {b * 1000:9.1f} ms"
              f"   {b / a:6.1f}x   (exact when {cost.exact_when()})")
    if closed_ratios:
        print(f"   median {statistics.median(closed_ratios):.1f}x, smallest {min(closed_ratios):.1f}x (target >= 10x)")

    print(f"3. count timm:NAME as a whole process, against a script: import torch and timm, build on meta, run"
          f" FlopCounterMode (median of {args.runs} runs)")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".baseline_flops.py")
    with open(script, "w") as f:
        f.write(BASELINE)
    try:
        for name in ("resnet50", "dla34", "efficientnet_b0"):
            ours = process_seconds([sys.executable, "-m", "convalgebra", "count", f"timm:{name}"], args.runs)
            theirs = process_seconds([sys.executable, script, name], args.runs)
            print(f"   {name:24} count {ours:6.2f} s   script {theirs:6.2f} s   {ours / theirs:5.2f}x (target <= 1.2x)")
    finally:
        os.remove(script)


if __name__ == "__main__":
    main()
