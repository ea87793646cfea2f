"""The same bytes for the same input: every command's output, in every format, is the
committed golden file, under the installed sympy, under the oldest sympy the package
supports, and in fresh processes under other hash seeds.

When a change of output is deliberate, regenerate the files and read the diff:

    python tools/golden.py --update && git diff tests/golden
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

import convalgebra

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "golden.py"
SRC = pathlib.Path(convalgebra.__file__).resolve().parents[1]  # the tree under test
REGENERATE = "if the change is deliberate, regenerate them with: python tools/golden.py --update (and read the diff)"


def golden_tool():
    spec = importlib.util.spec_from_file_location("golden", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def oldest_sympy() -> str:
    """The lowest sympy the package declares (``sympy>=X`` in pyproject.toml)."""
    found = re.search(r'"sympy>=([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert found, "pyproject.toml declares sympy>=VERSION"
    return found.group(1)


def check_in_a_fresh_process(seed: str, extra_path: str = "") -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (extra_path, str(SRC)) if p)
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": path}
    return subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True, env=env, cwd=ROOT)


def test_every_command_prints_its_golden_file():
    tool = golden_tool()
    assert len(tool.cases()) >= 60  # every command, each of the ten modules, every network
    found = list(tool.differences())
    diffs = "".join(diff for _, diff in found)[:20000]
    assert not found, f"{len(found)} golden files differ; {REGENERATE}\n{diffs}"


@pytest.mark.parametrize("seed", ["1", "4242"])
def test_every_command_prints_the_same_bytes_under_another_hash_seed(seed):
    done = check_in_a_fresh_process(seed)
    assert done.returncode == 0, f"under PYTHONHASHSEED={seed}: {done.stdout[-20000:]}{done.stderr[-5000:]}"


def test_the_oldest_supported_sympy_prints_the_same_bytes():
    """pip installs the oldest declared sympy into a cache directory (once) and runs the
    check with it first on the path; set CONVALGEBRA_OFFLINE=1 to skip where PyPI is out of reach."""
    version = oldest_sympy()
    target = pathlib.Path(os.environ.get("CONVALGEBRA_SYMPY_CACHE", tempfile.gettempdir())) / f"convalgebra-sympy-{version}"
    if not (target / "sympy" / "__init__.py").exists():
        if os.environ.get("CONVALGEBRA_OFFLINE"):
            pytest.skip("CONVALGEBRA_OFFLINE is set: no sympy to install")
        install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                                  str(target), f"sympy=={version}"], capture_output=True, text=True)
        assert install.returncode == 0, f"pip could not install sympy=={version}: {install.stderr[-3000:]}"
    probe = subprocess.run([sys.executable, "-c", "import sympy; print(sympy.__version__)"], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(target)})
    assert probe.stdout.strip() == version
    done = check_in_a_fresh_process("7", str(target))
    assert done.returncode == 0, f"under sympy {version}: {done.stdout[-20000:]}{done.stderr[-5000:]}"
    assert f"under sympy {version}" in done.stdout


def test_a_figure_writes_the_same_bytes_under_any_hash_seed(tmp_path):
    pytest.importorskip("matplotlib")
    outs = set()
    for seed in ("0", "99"):
        path = tmp_path / f"ratios-{seed}.svg"
        done = subprocess.run([sys.executable, "-m", "convalgebra", "plot", "bottleneck", "fire", "--over", "t",
                               "--set", "K=3", "N=256", "--out", str(path)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(SRC)})
        assert done.returncode == 0, done.stderr
        outs.add(path.read_bytes())
    assert len(outs) == 1
