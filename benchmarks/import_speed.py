"""Speed of from_torch's closed forms and counts, against PyTorch's own counter in the same run.

The only other counter that gives a cost as a function of the input size is FlopCounterMode
run under fake tensors with a symbolic shape environment (every H and W a SymInt): its total
is a SymInt expression with floors. For resnet50, mobilenet_v2, efficientnet_b0 and
convnext_tiny (torchvision's definitions, weights=None, built once on the meta device, not timed)
this prints, median of ``--runs`` runs each, alternating:

  1. import + closed form: ``from_torch(model).count((H, W))`` (the trace, the library's layers, every
     cost a polynomial in H and W) against FlopCounterMode under FakeTensorMode(ShapeEnv) on a
     1 x 3 x H x W input with H and W dynamic; the ratio (target: >= 10x);
  2. the exact count at 224 x 224 of the imported network (``net.count(224)``) against
     FlopCounterMode on meta tensors (one forward pass, shapes only); the ratio (target: >= 2x);
     and, for the record, import + count at 224 against the same forward pass (the import runs
     the model once on the meta device itself, so it cannot be faster than one pass).

Both counts are checked equal where they meet (MACs = FLOPs / 2 at 224; the SymInt total at
H = W = 224 too), so the times are of the same answer.

Run: python benchmarks/import_speed.py [--runs 3]   (needs the extra: pip install -e ".[torch]")
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any, Callable

MODELS = ("resnet50", "mobilenet_v2", "efficientnet_b0", "convnext_tiny")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


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


def meta_flops(model: Any) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, 224, 224, device="meta"))
    return int(counter.get_total_flops())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from convalgebra.symbols import H, W
    from convalgebra.torch_import import from_torch, load_model

    models = {name: load_model(f"torchvision:{name}").eval() for name in MODELS}
    from_torch(models["resnet50"]).count((H, W))  # sympy and torch.fx imported, once, before any timing
    meta_flops(models["resnet50"])

    print(f"1. import + closed form in H and W, against FlopCounterMode under FakeTensorMode with a symbolic"
          f" ShapeEnv (median of {args.runs} alternating runs)")
    closed_ratios, count_ratios = [], []
    rows = []
    for name, model in models.items():
        ours, theirs, ours_count, theirs_meta, ours_import_count = [], [], [], [], []
        for _ in range(args.runs):
            seconds, cost = timed(lambda: from_torch(model, name=name).count((H, W)))
            ours.append(seconds)
            seconds, flops = timed(lambda: symbolic_flops(model))
            theirs.append(seconds)
        net = from_torch(model, name=name)
        for _ in range(args.runs):
            seconds, exact = timed(lambda: net.count(224))
            ours_count.append(seconds)
            seconds, meta = timed(lambda: meta_flops(model))
            theirs_meta.append(seconds)
            seconds, _ = timed(lambda: from_torch(model, name=name).count(224))
            ours_import_count.append(seconds)
        assert exact.macs * 2 == meta, name
        assert cost.macs.subs({H: 224, W: 224}) * 2 == int(flops.node.expr.subs(
            {s: 224 for s in flops.node.expr.free_symbols})), name
        a, b = statistics.median(ours), statistics.median(theirs)
        closed_ratios.append(b / a)
        print(f"   {name:16} convalgebra {a * 1000:8.1f} ms   FlopCounterMode (fake, symbolic) {b * 1000:9.1f} ms"
              f"   {b / a:6.1f}x   (closed form exact when {cost.exact_when()})")
        c, d, e = statistics.median(ours_count), statistics.median(theirs_meta), statistics.median(ours_import_count)
        count_ratios.append(d / c)
        rows.append((name, c, d, e, exact.macs))
    print(f"   smallest ratio {min(closed_ratios):.1f}x (target >= 10x)")
    print(f"2. the exact count at 224 x 224, against FlopCounterMode on meta tensors (median of {args.runs} runs)")
    for name, c, d, e, macs in rows:
        print(f"   {name:16} net.count(224) {c * 1000:7.2f} ms   FlopCounterMode (meta) {d * 1000:7.1f} ms   {d / c:6.1f}x"
              f"   | import + count {e * 1000:7.1f} ms, {d / e:4.2f}x   ({macs:,} MACs)")
    print(f"   smallest ratio {min(count_ratios):.1f}x (target >= 2x)")


if __name__ == "__main__":
    main()
