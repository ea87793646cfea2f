"""Every command at the largest values the command line accepts: time and memory of each.

The command line reads numbers of up to 64 characters. This script runs, each in a fresh
process (``python -m convalgebra``), every command that takes values (explain, compare,
budget, break-even, limit for each of the ten modules; network for each network) with
each symbol the command takes set in turn to a 64-digit number, and also to the
64-character fraction with the most digits below the line (1/99...9), the other
symbols at small valid values. Then rule chains up to the parser's 1,000 characters: each
primitive chained as often as fits, the ghost chains of issue 18 (12 and 16), the chains
that grow geometrically (reduce on='any'), and the other lines issue 18 found
(``stack(10**60)``, ``--roofline ''``). It prints the baseline (``explain bottleneck`` at its
example, measured in the same run), the slowest runs as multiples of it, the largest
peak memory (maximum resident set size of the child), and every run that did not end
with exit code 0 or 2 (a traceback, a signal, a timeout).

Run: python benchmarks/hostile_cli.py [--top 12] [--timeout 60] [--quick] [--rules]
(about 1,100 processes; --quick takes one module pair per command instead of all ten; --rules
runs the rule chains and issue 18's lines alone).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

BIG = "4963595372164418730243844250278933730416682962970482173955824000"  # 64 digits
SMALL = "1/" + "9" * 62  # 64 characters, as small a positive number as fits
SIZES = {"K": "3", "M": "64", "N": "64", "I": "16"}
PARAMETERS = {"t": "2", "G": "2", "p": "1/2", "k": "3", "alpha": "1", "rho": "1"}
MODULES = ("group", "vgg-stack", "factorized", "fire", "bottleneck", "resnext", "depthwise-separable",
           "xception", "shufflenet", "inverted-bottleneck")
NETWORKS = ("alexnet", "vgg16", "squeezenet1_1", "resnet50", "mobilenet_v2", "inception_v3", "resnet152")
RULES = ("group(2)", "stack(2)", "factorize()", "separate()", "reduce(2)", "expand(2)", "squeeze(2)", "mix('1/2')",
         "split()", "layer_norm()", "ghost(2)", "dense()", "reduce(2, on='any')", "expand(2, on='any')")


def chain(rule: str, times: int) -> str:
    return "chain(" + ", ".join([rule] * times) + ")"


def rule_lines(quick: bool) -> list[list[str]]:
    """Rule chains as long as the parser reads (1,000 characters), and issue 18's lines."""
    out = [["explain", "--rule", chain("ghost(2)", n)] for n in (12, 16)]
    out += [["explain", "--rule", chain("reduce(2, on='any')", n)] for n in (6, 7, 14)]
    out += [["explain", "--rule", "stack(10**60)"], ["network", "resnet50", "--roofline", ""]]
    for rule in RULES[:3] if quick else RULES:
        out.append(["explain", "--rule", chain(rule, (1000 - len("chain()")) // (len(rule) + 2))])
    return out


def command_lines(quick: bool) -> list[list[str]]:
    modules = MODULES[:2] if quick else MODULES
    out = []
    for i, name in enumerate(modules):
        other = MODULES[(i + 4) % len(MODULES)]
        for command in (["explain", name], ["compare", name, other], ["budget", name], ["break-even", name],
                        ["limit", name]):
            for symbol in (*SIZES, *PARAMETERS):
                for value in (BIG, SMALL):
                    given = {**SIZES, symbol: value}
                    out.append(command + ["--set", *(f"{s}={v}" for s, v in given.items())])
    for name in NETWORKS[:2] if quick else NETWORKS:
        out.append(["network", name, "--set", f"I={BIG}"])
        out.append(["network", name, "--set", f"I={'9' * 64}"])
    return out + rule_lines(quick)


def run(argv: list[str], timeout: float) -> tuple[float, str]:
    """Seconds, and how the command ended: its exit code, "traceback" or "timeout"."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "convalgebra", *argv], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"})
        ended = str(done.returncode) if "Traceback" not in done.stderr else "traceback"
    except subprocess.TimeoutExpired:
        ended = "timeout"
    return time.perf_counter() - start, ended


def peak_memory(argv: list[str]) -> int:
    """The largest resident set size (kB) of one run, from a fresh parent that runs it alone."""
    code = ("import resource, subprocess, sys; subprocess.run([sys.executable, '-m', 'convalgebra', *sys.argv[1:]],"
            " capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    return int(done.stdout.strip() or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rules", action="store_true", help="the rule chains and issue 18's lines alone")
    args = parser.parse_args()
    base = min(run(["explain", "bottleneck"], args.timeout)[0] for _ in range(3))
    base_memory = peak_memory(["explain", "bottleneck"])
    print(f"baseline: 'convalgebra explain bottleneck' takes {base:.2f} s and {base_memory / 1024:.0f} MB")
    results = []
    for argv in rule_lines(args.quick) if args.rules else command_lines(args.quick):
        seconds, ended = run(argv, args.timeout)
        results.append((seconds, ended, " ".join(argv), argv))
    # the memory of the slowest runs, each measured alone (the children's peak is a running maximum)
    peaks = [(peak_memory(argv), " ".join(argv)) for _, _, _, argv in sorted(results, reverse=True)[:args.top]]
    total = sum(r[0] for r in results)
    bad = [r for r in results if r[1] not in ("0", "2")]
    print(f"{len(results)} command lines in {total:.0f} s; exit codes: "
          + ", ".join(f"{code}: {sum(r[1] == code for r in results)}" for code in sorted({r[1] for r in results})))
    print("the slowest:")
    for seconds, ended, line, _ in sorted(results, reverse=True)[:args.top]:
        print(f"  {seconds:6.2f} s ({seconds / base:4.1f} x baseline)  exit {ended}  {line[:150]}")
    most, line = max(peaks)
    print(f"largest peak memory among the slowest: {most / 1024:.0f} MB ({line[:120]})")
    for seconds, ended, line, _ in bad:
        print(f"  NOT 0 OR 2: {ended} after {seconds:.1f} s: {line}")


if __name__ == "__main__":
    main()
