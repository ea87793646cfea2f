"""Long and deep blocks: the walks are loops and the memory analyses linear.

Times, in this process, the count, the traffic and the peak activation memory of a series
of n 1 x 1 convolutions (n = 1,000 and 10,000; concrete and symbolic sizes), and the count
of a convolution nested d deep in Series and in Repeat (d = 1,000 and 10,000). Each line
prints the time and its ratio to the same walk at the smaller n (or d): about 10 for linear
time, about 100 for quadratic. Issue 18 measured 32 s for traffic and peak at n = 10,000, and
RecursionError at d = 2,000.

Run: python benchmarks/deep_blocks.py
"""

from __future__ import annotations

import time
from typing import Any, Callable

import convalgebra as ca


def seconds(work: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def series(n: int) -> Any:
    return ca.Series(*[ca.Conv(8, 8, (1, 1)) for _ in range(n)])


def nested(kind: str, depth: int) -> Any:
    block: Any = ca.Conv(8, 8)
    for _ in range(depth):
        block = ca.Series(block) if kind == "series" else ca.Repeat(block, 1)
    return block


def main() -> None:
    small, large = 1_000, 10_000
    cases: list[tuple[str, Callable[[int], Callable[[], Any]]]] = [
        ("total, series of n", lambda n: (lambda b=series(n): ca.total(b, 56))),
        ("traffic, series of n", lambda n: (lambda b=series(n): ca.traffic(b, 56))),
        ("peak_memory, series of n", lambda n: (lambda b=series(n): ca.peak_memory(b, 56))),
        ("traffic + peak_memory, series of n", lambda n: (lambda b=series(n): (ca.traffic(b, 56), ca.peak_memory(b, 56)))),
        ("traffic at I, series of n", lambda n: (lambda b=series(n): ca.traffic(b, ca.I))),
        ("peak_memory at H x W, series of n", lambda n: (lambda b=series(n): ca.peak_memory(b, (ca.H, ca.W)))),
        ("total, nested n deep in Series", lambda n: (lambda b=nested("series", n): ca.total(b, 56))),
        ("total, nested n deep in Repeat", lambda n: (lambda b=nested("repeat", n): ca.total(b, 56))),
        ("peak_memory, nested n deep in Series", lambda n: (lambda b=nested("series", n): ca.peak_memory(b, 56))),
        ("repr + hash + ==, nested n deep", lambda n: (lambda b=nested("series", n): (repr(b), hash(b), b == nested("series", n)))),
    ]
    print(f"each at n = {small} (baseline) and n = {large}; the ratio is about 10 for linear time")
    for label, make in cases:
        base = seconds(make(small))
        big = seconds(make(large), repeat=1)
        print(f"  {label:<40} {base:7.3f} s  {big:7.3f} s  ratio {big / base:5.1f}")


if __name__ == "__main__":
    main()
