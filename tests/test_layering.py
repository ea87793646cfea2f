"""The layers of the package (docs/architecture.md): imports go one way, and no module imports itself back.

import-linter reads every import, those inside functions too; the contract is in ``pyproject.toml``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "convalgebra"
#: The one import that goes up the layers: a result's display hops to the renderers.
DECLARED = ("convalgebra.display", "convalgebra.render")


def contract() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        (only,) = tomllib.load(f)["tool"]["importlinter"]["contracts"]
    return only


def test_the_layers_contract_holds():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
                          " sys.exit(lint_imports_command())"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 kept, 0 broken" in run.stdout


def test_the_contract_declares_one_exception_only():
    assert contract()["ignore_imports"] == [" -> ".join(DECLARED)]


def test_every_module_sits_in_a_layer():
    """A new file must be placed: a module in no layer would escape the contract."""
    placed = {name.strip() for layer in contract()["layers"] for name in layer.replace("|", ":").split(":")}
    modules = {f"convalgebra.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert modules - placed == set()
    assert placed - modules == set()


def _graph() -> "grimp.ImportGraph":
    sys.path.insert(0, str(ROOT / "src"))
    try:
        return grimp.build_graph("convalgebra", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT / "src"))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle_but_the_declared_hop():
    graph = _graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) - {"convalgebra"} for m in graph.modules
             if m != "convalgebra"}
    assert _cycles(edges) != [], "the declared hop closes a circle; without it there must be none"
    edges[DECLARED[0]].discard(DECLARED[1])
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
