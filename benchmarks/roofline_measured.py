"""The roofline measured, not assumed: layer times on this machine's CPU against two predictions.

For resnet50 and mobilenet_v2 (torchvision's own definitions, batch 1, fp32, 224 x 224), every
layer that is a module in torch (convolutions, batch norms, pools, the classifier; the ReLUs
are left out, as the zoo has no separate activation layers, and so are the residual sums and
mobilenet_v2's pool, which torchvision writes inline) is timed alone on the input it sees in a forward pass. The
same run measures this machine's peak compute (a large fp32 matmul, best of several) and its
memory bandwidth (a large copy, bytes read plus written, best of several), on one thread by
default (--threads), the layers and the peak alike. Then it prints:

  1. the measured peak, bandwidth and ridge point;
  2. per network: the measured time of the timed layers, the roofline estimate of the same
     layers on a Device made of the measured figures, and what MACs alone predict (all FLOPs
     at peak);
  3. Spearman's rank correlation of predicted and measured layer times, for MACs alone and for
     the roofline: over all timed layers, and over the convolutions and the linear layer only
     (where MACs alone predict no ties at zero).

Each layer is matched with convalgebra's step of the same kind in the same order, and the
match is checked (kind and output elements), so a count and a time are of the same layer.

Run: python benchmarks/roofline_measured.py [--runs 15] [--layers] [--threads N]   (needs the torch extra)
"""

from __future__ import annotations

import argparse
import statistics
import time
from fractions import Fraction

import torch
import torchvision

from convalgebra.layers import area
from convalgebra.memory import network_memory
from convalgebra.rooflines import Device, roofline

#: torch's module types that are layers of the zoo, and convalgebra's kinds for them.
KINDS = {torch.nn.Conv2d: ("conv", "pointwise", "depthwise"), torch.nn.BatchNorm2d: ("batch norm",),
         torch.nn.MaxPool2d: ("max pool",), torch.nn.AdaptiveAvgPool2d: ("adaptive avg pool",),
         torch.nn.Linear: ("linear",)}
COMPUTE = ("conv", "pointwise", "depthwise", "linear")


def timed(fn, runs: int, least: float = 2e-3) -> float:
    """Seconds per call of ``fn``: the least of ``runs`` samples (on a machine shared with other
    work the least is the sample least disturbed), each a loop long enough to last ``least``
    seconds (so that a layer of microseconds is not lost in the clock's noise)."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(least / once))
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - start) / loops)
    return min(samples)


def best(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine(runs: int) -> Device:
    """This machine's fp32 peak (a 2048 x 2048 matmul: 2 n^3 FLOPs) and bandwidth (a 256 MB copy:
    read and written), each the best of ``runs``."""
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    peak = 2 * n**3 / best(lambda: torch.mm(a, b, out=out), runs)
    src = torch.randn(64 * 2**20)
    dst = torch.empty_like(src)
    bandwidth = 2 * src.numel() * 4 / best(lambda: dst.copy_(src), runs)
    return Device("this-cpu", {"fp32": int(peak)}, int(bandwidth), "this machine's CPU",
                  f"measured in this run: a {n} x {n} fp32 matmul and a 256 MB copy, torch {torch.__version__}, "
                  f"{torch.get_num_threads()} thread(s)")


def layer_inputs(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[str, torch.nn.Module, torch.Tensor, int]]:
    """Each timed layer in the order it runs, with the input it sees and its output's elements."""
    seen: list[tuple[str, torch.nn.Module, torch.Tensor, int]] = []
    hooks = []
    for name, mod in model.named_modules():
        if type(mod) in KINDS:
            def hook(m, args, out, name=name):
                seen.append((name, m, args[0].detach().clone(), out.numel()))
            hooks.append(mod.register_forward_hook(hook))
    with torch.inference_mode():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties given the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation: Pearson's on the ranks (ties averaged)."""
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else float("nan")


def measure(name: str, dev: Device, runs: int, show: bool) -> None:
    model = getattr(torchvision.models, name)().eval()
    x = torch.randn(1, 3, 224, 224)
    layers = layer_inputs(model, x)
    est = roofline(name, dev, 224)
    steps = {r.name: r for r in network_memory(name, 224).rows}
    # torchvision writes the residual sums inline, and mobilenet_v2's pool too: no modules to time
    kinds = {kind for _, mod, _, _ in layers for kind in KINDS[type(mod)]}
    rows = [r for r in est.rows if r.op in kinds]
    inline = sorted({r.op for r in est.rows} - kinds)
    assert len(rows) == len(layers), (name, len(rows), len(layers))
    measured, by_roof, by_macs, compute = [], [], [], []
    peak = dev.peak_for("fp32")
    with torch.inference_mode():
        for row, (tname, mod, inp, out_elements) in zip(rows, layers):
            step = steps[row.name]
            assert row.op in KINDS[type(mod)], (row.name, row.op, tname)
            assert step.out_channels * area(step.output_size) == out_elements, (row.name, tname)
            seconds = timed(lambda: mod(inp), runs)
            measured.append(seconds)
            by_roof.append(float(row.time))
            by_macs.append(float(Fraction(row.flops, peak)))
            compute.append(row.op in COMPUTE)
            if show:
                print(f"  {row.name:<28} {tname:<26} {row.op:<18} {row.bound:<8} "
                      f"measured {seconds * 1e6:9.1f} us  roofline {float(row.time) * 1e6:9.1f} us")
    pick = [i for i, c in enumerate(compute) if c]
    with torch.inference_mode():
        whole = timed(lambda: model(x), max(3, runs // 3))
    print(f"{name}: {len(rows)} layers timed ({len(pick)} convolutions and linear), "
          f"{sum(r.bound == 'memory' for r in rows)} memory-bound on this machine's roofline; not timed, "
          f"as torchvision runs them inline: {', '.join(inline)}")
    print(f"  measured: the layers {sum(measured) * 1e3:.2f} ms (the whole forward pass {whole * 1e3:.2f} ms); "
          f"roofline estimate {sum(by_roof) * 1e3:.2f} ms; MACs alone at peak {sum(by_macs) * 1e3:.2f} ms")
    for label, idx in (("all timed layers", range(len(rows))), ("convolutions and linear", pick)):
        m = [measured[i] for i in idx]
        print(f"  Spearman rank correlation with measured layer times, {label} ({len(m)}): "
              f"MACs alone {spearman([by_macs[i] for i in idx], m):.3f}, "
              f"roofline {spearman([by_roof[i] for i in idx], m):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per layer (the least is taken)")
    parser.add_argument("--layers", action="store_true", help="print every layer's times")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch's threads (default 1: on a machine shared with other work, a thread pool "
                             "waits for its slowest thread, and a layer of 2 ms measures 40)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = machine(max(5, args.runs // 2))
    peak, bandwidth = dev.peak_for("fp32"), dev.bandwidth
    threads = torch.get_num_threads()
    print(f"this machine: torch {torch.__version__}, {threads} thread{'s' if threads != 1 else ''}; fp32 peak "
          f"{peak / 1e9:.1f} GFLOP/s (matmul), bandwidth {bandwidth / 1e9:.2f} GB/s (copy), "
          f"ridge {float(dev.ridge('fp32')):.1f} FLOPs per byte")
    for name in ("resnet50", "mobilenet_v2"):
        measure(name, dev, args.runs, args.layers)


if __name__ == "__main__":
    main()
