"""The docs site builds with ``mkdocs build --strict``: every chapter in the nav, every link
resolved, and the API reference generated from the docstrings, their doctests as code."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs")
pytest.importorskip("material")
pytest.importorskip("mkdocstrings_handlers.python")


def nav_pages(entries) -> list[str]:
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def test_every_chapter_is_in_the_nav_once():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    on_disk = sorted(str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
    assert sorted(pages) == on_disk
    assert len(pages) == len(set(pages))
    modules = [p for p in pages if p.startswith("modules/")]
    assert modules == sorted(modules) and len(modules) == 10  # the article's order
    assert config["theme"]["name"] == "material"


def test_site_builds_strictly_with_every_page(site):
    for page in ("index.html", "conventions/index.html", "modules/05-bottleneck/index.html", "api/index.html"):
        assert (site / page).is_file(), page


def test_api_reference_comes_from_the_docstrings(site):
    api = (site / "api" / "index.html").read_text()
    for name in ("convalgebra.explanation.explain", "convalgebra.layers.Conv", "convalgebra.networks.network",
                 "convalgebra.plotting.plot_ratios", "convalgebra.display.RichDisplay"):
        assert f'id="{name}"' in api, name
    assert "Explain a module: its layers, its cost before and after" in api  # explain's docstring
    assert "<blockquote>" not in api  # doctest prompts are code, not nested quotes
    assert re.search(r'<code>.*&gt;&gt;&gt;.*explain', api, re.S)


def test_doctest_examples_are_fenced_for_the_api_page():
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("griffe_doctest_blocks", ROOT / "tools" / "griffe_doctest_blocks.py")
    blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blocks)
    text = "Costs:\n\n>>> 1 + 1\n2\n\nand a fenced one:\n\n```\n>>> 3\n```\n    >>> x\n    1"
    assert blocks.fence_doctests(text).splitlines() == [
        "Costs:", "", "```pycon", ">>> 1 + 1", "2", "```", "", "and a fenced one:", "", "```", ">>> 3", "```",
        "    ```pycon", "    >>> x", "    1", "    ```"]
