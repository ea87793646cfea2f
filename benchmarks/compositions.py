"""Every two-rule composition through explain, compare and budget: the slowest, against a baseline.

Closed-form solving is bounded (see convalgebra.solving): no composition of the primitive
rewrites should take much longer than an article module. This script composes every
ordered pair of the primitives (the pairs that make a module at all), and for each runs

  explain(m).to_text()                        the symbolic explanation, with its break-even points
  explain(m, K=3, M=64, N=64, I=16)           the numbers too (parameters at small whole values)
  compare(m, "bottleneck") and with values    the condition for m to be cheaper
  budget(m) and budget(m, K=3, M=64, N=64)    the kernels it affords

each on a fresh module (the derivations are cached per module). It prints the baseline,
the same steps on the article's bottleneck module measured in this run, the slowest
compositions with their time as a multiple of the baseline, and the total. A step that
raises the library's error (a composition with no break-even, say) counts as answered.

Run: python benchmarks/compositions.py [--top 12] [--timeout 120]
"""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any, Callable

import convalgebra as ca
from convalgebra import G, k, p, t

PRIMITIVES: list[tuple[str, Callable[[], Any]]] = [
    ("group(G)", lambda: ca.group(G)), ("group(G, on='pointwise')", lambda: ca.group(G, on="pointwise")),
    ("stack(k)", lambda: ca.stack(k)), ("factorize()", lambda: ca.factorize()), ("separate()", lambda: ca.separate()),
    ("separate('pointwise-first')", lambda: ca.separate("pointwise-first")), ("depthwise()", lambda: ca.depthwise()),
    ("reduce(t)", lambda: ca.reduce(t)), ("expand(t)", lambda: ca.expand(t)), ("squeeze(t)", lambda: ca.squeeze(t)),
    ("mix(p)", lambda: ca.mix(p)), ("shuffle(G)", lambda: ca.shuffle(G)),
]
#: Small valid values for a composition's parameters in the numbers (G = 2 divides 64).
DEFAULTS = {G: 2, k: 3, t: 2, p: ca.parse_number("1/2")}
SIZES = {"K": 3, "M": 64, "N": 64, "I": 16}


class TimedOut(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise TimedOut


def steps(make: Callable[[], Any]) -> float:
    """Seconds for every step on a fresh module from ``make``."""
    start = time.perf_counter()
    for step in (lambda m: ca.explain(m).to_text(), lambda m: ca.explain(m, SIZES).to_text(),
                 lambda m: ca.compare(m, "bottleneck").to_text(),
                 lambda m: ca.compare(m, "bottleneck", SIZES).to_text(),
                 lambda m: ca.budget(m).to_text(), lambda m: ca.budget(m, K=3, M=64, N=64).to_text()):
        try:
            step(make())
        except ca.ConvAlgebraError:
            pass
    return time.perf_counter() - start


def composed(a: Callable[[], Any], b: Callable[[], Any], name: str) -> Callable[[], Any]:
    def make() -> Any:
        m = ca.compose(a(), b(), name=name)
        return ca.compose(a(), b(), name=name, parameters={s: DEFAULTS[s] for s in m.parameters})
    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12, help="how many of the slowest to print")
    parser.add_argument("--timeout", type=float, default=120, help="seconds after which a composition is cut off")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)

    pairs = []
    for name_a, a in PRIMITIVES:
        for name_b, b in PRIMITIVES:
            try:
                ca.compose(a(), b(), name="probe")
            except ca.ConvAlgebraError:
                continue
            pairs.append((f"{name_a} . {name_b}", composed(a, b, f"{name_a}.{name_b}")))

    base = min(steps(lambda: ca.compose(ca.reduce(t), name="bottleneck-again", parameters={t: 4}))
               for _ in range(3))
    print(f"baseline: the steps on compose(reduce(t)) (the bottleneck) took {base * 1000:.0f} ms")
    results = []
    start = time.perf_counter()
    for label, make in pairs:
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        try:
            seconds = steps(make)
        except TimedOut:
            seconds = float("inf")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        results.append((seconds, label))
    total = time.perf_counter() - start
    results.sort(reverse=True)
    print(f"{len(pairs)} two-rule compositions, 6 steps each, in {total:.1f} s; the slowest:")
    for seconds, label in results[:args.top]:
        shown = f"> {args.timeout:.0f} s (cut off)" if seconds == float("inf") else f"{seconds:6.2f} s"
        ratio = "" if seconds == float("inf") else f"  ({seconds / base:5.1f} x baseline)"
        print(f"  {shown}{ratio}  {label}")


if __name__ == "__main__":
    main()
