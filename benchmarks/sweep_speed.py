"""Sweep speed: a closed form compiled once to numpy against the same expression written by hand.

For each expression, over a grid of 10**6 configurations (1000 values of M times 1000 of N,
K = 3 and the module's t), in the same run, medians over repeats:
  1. evaluation only: the compiled function against hand-written numpy, on the same
     broadcast axes;
  2. end to end: ``sweep(...)`` (grid columns and values, flattened) against hand-written
     numpy that builds the same columns;
and the ratio of each (target: within 2x). The one-off compile time is printed apart.

Run: python benchmarks/sweep_speed.py [--repeats 7] [--side 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np

import convalgebra as ca


def bottleneck_ratio(K: Any, M: Any, N: Any, t: Any) -> Any:
    """1/(K**2*t) + N*(K**2 + t)/(K**2*M*t**2), by hand."""
    return 1.0 / (K * K * t) + N * (K * K + t) / (K * K * M * t * t)


def inverted_macs(K: Any, M: Any, N: Any, I: Any, t: Any) -> Any:
    """I*I*t*M*(K*K + M + N): expand, depthwise, project, by hand."""
    return I * I * t * M * (K * K + M + N)


def bottleneck_budget(K: Any, M: Any, N: Any, t: Any) -> Any:
    """The positive root N' of (K**2 + t)*N'**2 + t*M*N' - K**2*M*N*t**2 = 0, by hand."""
    a = K * K + t
    return t * (np.sqrt(M * (M + 4 * K * K * N * a)) - M) / (2 * a)


def median_time(function: Callable[[], Any], repeats: int) -> float:
    function()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--side", type=int, default=1000, help="values per axis (grid = side**2)")
    args = parser.parse_args()
    side = args.side
    Ms = np.arange(8, 8 + side, dtype=np.int64)
    Ns = np.arange(8, 8 + side, dtype=np.int64)
    cases = [
        ("bottleneck MACs ratio", ca.explain("bottleneck").ratio.macs, bottleneck_ratio, {"t": 4}),
        ("inverted-bottleneck MACs", ca.explain("inverted-bottleneck").rewritten.macs, inverted_macs,
         {"I": 14, "t": 6}),
        ("bottleneck budget N'", ca.budget("bottleneck").N, bottleneck_budget, {"t": 4}),
    ]
    print(f"grid: {side} values of M x {side} of N = {side * side:,} configurations, K = 3; "
          f"medians over {args.repeats} runs")
    worst = 0.0
    for label, expr, by_hand, fixed in cases:
        start = time.perf_counter()
        compiled = ca.compile_numpy(expr)
        compile_time = time.perf_counter() - start
        axes = {"K": np.float64(3), "M": Ms[:, None].astype(float), "N": Ns[None, :].astype(float),
                **{name: np.float64(v) for name, v in fixed.items()}}
        names = [str(s) for s in compiled.symbols]
        check = compiled(**axes)["value"]
        hand = by_hand(**{name: axes[name] for name in names})
        assert np.allclose(check, hand, rtol=1e-12), label
        ours = median_time(lambda: compiled(**axes), args.repeats)
        theirs = median_time(lambda: by_hand(**{name: axes[name] for name in names}), args.repeats)

        def sweep_end_to_end() -> Any:
            return ca.sweep(expr, K=3, M=Ms, N=Ns, **fixed)

        def hand_end_to_end() -> Any:
            m, n = np.meshgrid(Ms, Ns, indexing="ij")
            values = by_hand(**{name: axes[name] for name in names}).ravel()
            return {"K": np.full(m.size, 3), "M": m.ravel(), "N": n.ravel(),
                    **{name: np.full(m.size, v) for name, v in fixed.items()}, "value": values}

        whole = median_time(sweep_end_to_end, args.repeats)
        whole_hand = median_time(hand_end_to_end, args.repeats)
        worst = max(worst, ours / theirs, whole / whole_hand)
        print(f"\n{label}: {ca.text(expr)}")
        print(f"  compile once (lambdify):   {compile_time * 1000:8.1f} ms")
        print(f"  evaluate, compiled:        {ours * 1000:8.1f} ms   by hand: {theirs * 1000:8.1f} ms   "
              f"ratio {ours / theirs:.2f}x")
        print(f"  sweep() end to end:        {whole * 1000:8.1f} ms   by hand: {whole_hand * 1000:8.1f} ms   "
              f"ratio {whole / whole_hand:.2f}x")
    print(f"\nworst ratio: {worst:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
