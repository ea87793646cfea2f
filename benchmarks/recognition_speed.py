"""Recognition by pattern against the import it follows: import (from_torch on meta) and
recognize_network timed in one run, medians of 5, and their ratio, on models of 100 to 450 layers.

    PYTHONPATH=src python benchmarks/recognition_speed.py
"""

from __future__ import annotations

import statistics
import time
import warnings

import torch
import torchvision

import convalgebra as ca
from convalgebra.blocks import iter_layers

warnings.filterwarnings("ignore")
MODELS = ["resnet50", "efficientnet_b0", "mobilenet_v3_large", "densenet121", "shufflenet_v2_x1_0", "regnet_y_400mf",
          "timm:ghostnet_100", "timm:regnety_002"]


def build(name: str) -> torch.nn.Module:
    if name.startswith("timm:"):
        import timm

        with torch.device("meta"):
            return timm.create_model(name[5:], pretrained=False).eval()
    if name.startswith("regnet"):
        return getattr(torchvision.models, name)().to("meta").eval()
    with torch.device("meta"):
        return getattr(torchvision.models, name)().eval()


def median(f, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ca.recognize(ca.Conv(8, 8))  # the patterns built once a process (cold start measured below)
    start = time.perf_counter()
    from convalgebra import recognition

    recognition._patterns.cache_clear()
    recognition._by_signature.cache_clear()
    recognition._patterns()
    print(f"patterns built (once a process): {time.perf_counter() - start:.3f} s")
    print(f"{'model':24} {'layers':>6} {'import s':>9} {'recognize s':>11} {'ratio':>6}  summary")
    for name in MODELS:
        model = build(name)
        net = ca.from_torch(model, name=name, title=name)
        layers = sum(1 for s in net.stages for _ in iter_layers(s.block))
        imported = median(lambda: ca.from_torch(model, name=name, title=name))

        def recognized() -> None:
            recognition._solve.cache_clear()  # each run solves afresh
            ca.recognize_network(net)

        took = median(recognized)
        print(f"{name:24} {layers:6d} {imported:9.3f} {took:11.3f} {took / imported:6.2f}  {ca.recognize_network(net)[1][:70]}")


if __name__ == "__main__":
    main()
