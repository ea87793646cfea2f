"""The example notebooks: committed without outputs, exactly what examples/make_notebooks.py
writes, and each runs top to bottom through a real Jupyter kernel (python3) with no error and
no warning. Each notebook asserts its own numbers, so running it checks them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def load_maker():
    spec = importlib.util.spec_from_file_location("make_notebooks", EXAMPLES / "make_notebooks.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker


def execute(nb, cwd: Path):
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=240,
                                     resources={"metadata": {"path": str(cwd)}})
    return client.execute()


def outputs(nb, kind: str) -> list:
    return [o for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == kind]


def test_at_least_the_three_a_course_needs():
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01-tour-of-the-ten-modules.ipynb", "02-designing-a-block-under-a-budget.ipynb",
                     "03-network-cost-breakdown.ipynb", "04-designing-a-hybrid-under-a-budget.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_as_the_script_writes_them(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id
    assert nb.metadata["kernelspec"]["name"] == "python3"
    made = load_maker().notebook(load_maker().NOTEBOOKS[path.name])
    assert [(c.cell_type, c.id, c.source) for c in nb.cells] == [(c.cell_type, c.id, c.source) for c in made.cells]


def test_the_python3_kernel_is_this_interpreter(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys, convalgebra\nprint(sys.executable)")])
    execute(nb, tmp_path)
    assert [o["text"].strip() for o in outputs(nb, "stream")] == [sys.executable]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_through_a_kernel(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    execute(nb, tmp_path)  # raises CellExecutionError, with the cell and its traceback, on any error
    assert outputs(nb, "error") == []
    assert [o["text"] for o in outputs(nb, "stream") if o["name"] == "stderr"] == []  # no warnings
    shown = [set(o["data"]) for o in outputs(nb, "execute_result") + outputs(nb, "display_data")]
    assert any("image/png" in kinds for kinds in shown), "a figure"
    assert any({"text/html", "text/latex"} <= kinds for kinds in shown), "a rich result"
    assert list(tmp_path.iterdir()) == []  # nothing written beside it
