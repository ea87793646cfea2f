"""Golden files: every command's output, in every format, committed under ``tests/golden/``.

Each file holds one subject's commands (``explain bottleneck`` in text, Markdown, LaTeX and
JSON, with and without values, ...), each after a line ``$ convalgebra ARGS``; a command
that ends in an error shows the error line and its exit code. The tests check the files
under the installed sympy and under the oldest sympy the package supports
(``tests/test_golden.py``), so the same input prints the same bytes on every supported sympy.

    python tools/golden.py --update     rewrite every file from the code in this tree
    python tools/golden.py --check      compare; print a diff and exit 1 on a difference
    python tools/golden.py --list       the files and their commands

Regenerate after a deliberate change of output, and read the diff before committing it.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
from typing import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden")
FORMATS = ("text", "markdown", "latex", "json")

MODULES = ("group", "vgg-stack", "factorized", "fire", "bottleneck", "resnext", "depthwise-separable", "xception",
           "shufflenet", "inverted-bottleneck")
NETWORKS = ("alexnet", "alexnet_grouped", "vgg16", "squeezenet1_0", "squeezenet1_1", "resnet18", "resnet50",
            "resnext50_32x4d", "mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "xception", "inception_v3",
            "resnet101", "resnet152")
EVERY_FORMAT = ("resnet18", "squeezenet1_1", "mobilenet_v2", "shufflenet_v1")
EXAMPLES = {  # each module's example sizes (the ones its explanation shows), written out
    "group": "K=5 M=96 N=256 I=27", "vgg-stack": "K=5 M=256 N=256 I=56", "factorized": "K=7 M=192 N=192 I=17",
    "fire": "K=3 M=96 N=128 I=55", "bottleneck": "K=3 M=256 N=256 I=56", "resnext": "K=3 M=256 N=256 I=56",
    "depthwise-separable": "K=3 M=512 N=512 I=14", "xception": "K=3 M=728 N=728 I=19",
    "shufflenet": "K=3 M=240 N=240 I=28", "inverted-bottleneck": "K=3 M=64 N=64 I=14",
}


def cases() -> dict[str, list[list[str]]]:
    """File name -> the command lines it holds."""
    out: dict[str, list[list[str]]] = {"list.txt": [["list"]], "networks.txt": [["networks"]]}
    for i, name in enumerate(MODULES):
        sizes = EXAMPLES[name].split()
        other = MODULES[(i + 1) % len(MODULES)]
        out[f"explain-{name}.txt"] = ([["explain", name, "--format", f] for f in FORMATS]
                                      + [["explain", name, "--set", *sizes, "--format", f] for f in ("text", "json")])
        out[f"compare-{name}-{other}.txt"] = (
            [["compare", name, other, "--format", f] for f in FORMATS]
            + [["compare", name, other, "--set", *sizes, "--format", f] for f in ("text", "json")]
            + [["compare", name, other, "--set", "K=3", "--format", f] for f in ("text", "json")])
        out[f"budget-{name}.txt"] = ([["budget", name, "--format", f] for f in FORMATS]
                                     + [["budget", name, "--set", "K=3", "M=256", "N=256", "--format", f]
                                        for f in ("text", "json")])
        out[f"break-even-{name}.txt"] = ([["break-even", name, "--format", f] for f in FORMATS]
                                         + [["break-even", name, "--set", "K=3", "M=64", "N=64", "--format", f]
                                            for f in ("text", "json")])
        out[f"limit-{name}.txt"] = ([["limit", name, "--format", f] for f in FORMATS]
                                    + [["limit", name, "--set", "K=3", "--format", "text"]])
    for name in NETWORKS:  # every network as text; four small ones in every format (the big ones are long)
        formats = FORMATS if name in EVERY_FORMAT else ("text",)
        out[f"network-{name}.txt"] = [["network", name, "--format", f] for f in formats]
    out["network-resnet18.txt"] += [["network", "resnet18", "--set", "I=64", "--format", f] for f in ("text", "json")]
    out["training-resnet18.txt"] = (  # a training step in every format, a frozen stage, and its closed form
        [["network", "resnet18", "--training", "--batch", "2", "--set", "I=64", "--freeze", "layer1", "--format", f]
         for f in FORMATS]
        + [["network", "resnet18", "--training", "--symbolic", "HW", "--format", f] for f in ("text", "json")]
        + [["network", "resnet18", "--training", "--batch", "0"], ["network", "resnet18", "--batch", "2"]])
    return out


def render(commands: list[list[str]]) -> str:
    """The file for ``commands``: each command line, then what it printed (and its exit code when not 0)."""
    from convalgebra.cli import main

    parts = []
    for argv in commands:
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, out=out, err=err)
        parts.append(f"$ convalgebra {' '.join(argv)}\n{out.getvalue()}{err.getvalue()}"
                     + (f"[exit {code}]\n" if code else ""))
    return "\n".join(parts)


def differences() -> Iterator[tuple[str, str]]:
    """(file name, unified diff) for every golden file that differs from the output now."""
    for name, commands in cases().items():
        path = os.path.join(GOLDEN, name)
        now = render(commands)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                then = f.read()
        except FileNotFoundError:
            then = ""
        if now != then:
            diff = difflib.unified_diff(then.splitlines(keepends=True), now.splitlines(keepends=True),
                                        f"tests/golden/{name} (committed)", f"tests/golden/{name} (now)")
            yield name, "".join(diff)
    known = set(cases())
    for name in sorted(os.listdir(GOLDEN)) if os.path.isdir(GOLDEN) else ():
        if name not in known:
            yield name, f"tests/golden/{name} is no longer made by tools/golden.py; remove it\n"


def update() -> int:
    os.makedirs(GOLDEN, exist_ok=True)
    made = cases()
    for name, commands in made.items():
        with open(os.path.join(GOLDEN, name), "w", encoding="utf-8", newline="") as f:
            f.write(render(commands))
    for name in os.listdir(GOLDEN):
        if name not in made:
            os.remove(os.path.join(GOLDEN, name))
    print(f"wrote {len(made)} files, {sum(map(len, made.values()))} commands, to {os.path.relpath(GOLDEN)}")
    return 0


def check() -> int:
    import sympy

    found = list(differences())
    for _, diff in found:
        sys.stdout.write(diff)
    if found:
        print(f"{len(found)} golden files differ under sympy {sympy.__version__}; if the change is deliberate,"
              " regenerate them with: python tools/golden.py --update")
        return 1
    print(f"all {len(cases())} golden files match under sympy {sympy.__version__}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="golden files of every command's output")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--update", action="store_true", help="rewrite the files from this tree's code")
    action.add_argument("--check", action="store_true", help="compare; exit 1 with a diff on a difference")
    action.add_argument("--list", action="store_true", help="list the files and their commands")
    args = parser.parse_args()
    if args.list:
        for name, commands in cases().items():
            print(name)
            for argv in commands:
                print("   convalgebra", " ".join(argv))
        return 0
    return update() if args.update else check()


if __name__ == "__main__":
    sys.exit(main())
