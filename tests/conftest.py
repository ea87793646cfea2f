"""The docs site, built once per test session (its build runs every chapter's doctests and
the three notebooks, so it is the slowest fixture; only the site's tests ask for it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """``mkdocs build --strict`` into a fresh folder: any warning (a broken link, a doctest
    whose output changed, TeX that cannot be typeset, a notebook cell that fails) fails it."""
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "latex2mathml", "nbclient", "matplotlib"):
        pytest.importorskip(module)
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src")] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-6000:]
    return out
