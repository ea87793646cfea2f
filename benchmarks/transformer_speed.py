"""Speed of a transformer's closed form in H and W, against PyTorch's own counter in the same run.

For ViT-B/16 and Swin-T (torchvision's definitions, weights=None, built once on the meta device, not
timed) this prints, median of ``--runs`` runs each, alternating:

  * convalgebra: the zoo's network built afresh and counted at (H, W), ``ZOO[name]().count((H, W))``, its
    caches cleared before each run,
    every cost a polynomial in H and W (the closed form, with its quadratic terms);
  * FlopCounterMode under FakeTensorMode with a symbolic ShapeEnv (H and W dynamic SymInts), the only
    other counter that can answer as a function of the input size; whether its answer is a function
    of H and W at all (torchvision's ViT asserts H == its image size, so the shape environment
    specializes to 224 and the answer is one number; Swin's window partition needs concrete sizes,
    and the count fails), and the ratio of the times.

Where FlopCounterMode answers, the two are checked equal at 224 x 224.

Run: python benchmarks/transformer_speed.py [--runs 3]   (needs the extra: pip install -e ".[torch]")
"""

from __future__ import annotations

import argparse
import logging
import statistics
import warnings
from typing import Any

from import_speed import symbolic_flops, timed

MODELS = ("vit_b_16", "swin_t")


def theirs(model: Any) -> tuple[Any, str]:
    """FlopCounterMode's symbolic total, or why there is none."""
    try:
        flops = symbolic_flops(model)
    except Exception as error:  # noqa: BLE001 -- the benchmark reports what torch raised
        return None, f"fails: {type(error).__name__}: {str(error).splitlines()[0][:90]}"
    expr = getattr(getattr(flops, "node", None), "expr", flops)
    free = getattr(expr, "free_symbols", set())
    return flops, ("a function of H and W" if free else f"one number ({int(expr):,} FLOPs): specialized to 224 x 224")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)  # torch logs the fake tensor's failure in full

    import torch
    import torchvision

    from convalgebra import networks
    from convalgebra.symbols import H, W
    from convalgebra.zoo import ZOO

    models = {}
    for name in MODELS:
        with torch.device("meta"):
            models[name] = torchvision.models.get_model(name, weights=None).eval()
    ZOO["resnet18"]().count((H, W))  # sympy imported and warmed, once, before any timing
    theirs(models["vit_b_16"])

    print(f"A transformer's closed form in H and W, against FlopCounterMode under FakeTensorMode with a symbolic"
          f" ShapeEnv (median of {args.runs} alternating runs)")
    for name, model in models.items():
        ours_times, their_times = [], []
        for _ in range(args.runs):
            for cache in (networks._poly, networks._reduced_share):  # nothing kept from a run before
                cache.cache_clear()
            seconds, cost = timed(lambda: ZOO[name]().count((H, W)))
            ours_times.append(seconds)
            seconds, (flops, what) = timed(lambda: theirs(model))
            their_times.append(seconds)
        if flops is not None:
            expr = getattr(getattr(flops, "node", None), "expr", flops)
            at = int(expr.subs({s: 224 for s in getattr(expr, "free_symbols", set())}) if hasattr(expr, "subs") else expr)
            assert cost.macs.subs({H: 224, W: 224}) * 2 == at, name
        a, b = statistics.median(ours_times), statistics.median(their_times)
        print(f"   {name:9} convalgebra {a * 1000:7.1f} ms  {cost.macs}  (exact when {cost.exact_when()})")
        print(f"   {'':9} FlopCounterMode {b * 1000:7.1f} ms  {what}   ratio {b / a:5.1f}x")


if __name__ == "__main__":
    main()
