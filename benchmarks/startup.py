"""Start-up and derivation speed of `explain`, measured against sympy's own import.

Prints:
  1. wall time (after byte-compiling the package, as an installed package is) of `python -m convalgebra explain bottleneck` over `python -c "import sympy"`,
     alternating runs in the same session, the fastest and the median of each and their ratios
     (target: at most 1.3x; the fastest run is the least disturbed by the rest of the machine);
     and, for a fair view of the library's own work, the same command run through ``main()``
     with Python's garbage collector left on (the command switches it off for its short life,
     which also spares sympy's import the collector's walks);
  2. the time to derive all ten savings ratios (MACs and params, general and M = N) in a
     fresh interpreter, after `import convalgebra` and sympy are loaded (target: under 0.2 s).

Run: python benchmarks/startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

DERIVE = r"""
import time, sympy, convalgebra
from convalgebra.modules import MODULES
from convalgebra.simplification import canonical, equal_channels
from convalgebra.cost import count, total
from convalgebra.modules import standard
from convalgebra.symbols import I
start = time.perf_counter()
for m in MODULES:
    rows = count(m.block(), I)
    base = total(standard(), I)
    macs = canonical(sum(r.macs for r in rows) / base[0])
    params = canonical(sum(r.params for r in rows) / base[1])
    equal_channels(macs), equal_channels(params)
print(time.perf_counter() - start)
"""


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    # An installed package has its bytecode cached; an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would recompile every module on every run instead.
    import compileall
    import convalgebra

    compileall.compile_dir(os.path.dirname(convalgebra.__file__), quiet=1)
    explain = [py, "-m", "convalgebra", "explain", "bottleneck"]
    collected = [py, "-c", "import sys; from convalgebra.cli import main; sys.exit(main(['explain', 'bottleneck']))"]
    baseline = [py, "-c", "import sympy"]
    wall(explain), wall(collected), wall(baseline)  # warm the file cache
    ours, theirs, with_gc = [], [], []
    for _ in range(args.runs):
        ours.append(wall(explain))
        theirs.append(wall(baseline))
        with_gc.append(wall(collected))
    for label, pick in (("fastest", min), ("median", statistics.median)):
        a, b, c = pick(ours), pick(theirs), pick(with_gc)
        print(f"{label} of {args.runs} alternating runs: python -m convalgebra explain bottleneck {a * 1000:.0f} ms,"
              f" python -c 'import sympy' {b * 1000:.0f} ms, ratio {a / b:.2f}x (target <= 1.3x);"
              f" with the garbage collector on {c * 1000:.0f} ms, {c / b:.2f}x")
    derive = [float(subprocess.run([py, "-c", DERIVE], check=True, capture_output=True, text=True).stdout)
              for _ in range(5)]
    print(f"all ten savings ratios (MACs and params, general and M = N), fresh interpreter: "
          f"median {statistics.median(derive) * 1000:.0f} ms over 5 runs (target < 200 ms)")


if __name__ == "__main__":
    main()
