"""The docs site builds with ``mkdocs build --strict``: every chapter and notebook in the nav,
every link resolved, the API reference generated from the docstrings (their doctests as
code), every formula a chapter's doctests print typeset beside them (MathML, from the
library's LaTeX printer), the figures drawn at build time, and no reference to another host.
The built site is the session's ``site`` fixture (tests/conftest.py); a real browser opens
it in test_site_browser.py."""

from __future__ import annotations

import doctest
import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TOOLS = ROOT / "tools" / "site"
CHAPTERS = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if p.name not in ("api.md", "architecture.md"))
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))

pytest.importorskip("mkdocs")
pytest.importorskip("material")
pytest.importorskip("mkdocstrings_handlers.python")


def nav_pages(entries) -> list[str]:
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def built(site: Path, page: str) -> Path:
    """The HTML file a Markdown page becomes (directory URLs)."""
    stem = page[:-3]
    return site / ("index.html" if stem == "index" else f"{stem}/index.html")


def load_tool(name: str):
    """A module of tools/site, loaded as mkdocs loads a hook (its folder on the path)."""
    sys.path.insert(0, str(TOOLS))
    try:
        spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # as mkdocs does (dataclasses look their module up)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(TOOLS))
    return module


def config():
    import yaml

    class Loader(yaml.SafeLoader):  # mkdocs.yml may hold !!python tags that safe_load refuses; it holds none now
        pass

    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)


def test_every_chapter_and_notebook_is_in_the_nav_once():
    cfg = config()
    pages = nav_pages(cfg["nav"])
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    notebooks = [f"notebooks/{p.stem}.md" for p in NOTEBOOKS]
    assert sorted(pages) == sorted(on_disk + notebooks)
    assert len(pages) == len(set(pages))
    modules = [p for p in pages if p.startswith("modules/")]
    assert modules == sorted(modules) and len(modules) == 10  # the article's order
    assert [p for p in pages if p.startswith("notebooks/")] == notebooks
    assert cfg["theme"]["name"] == "material"
    assert cfg["theme"]["font"] is False  # no font host
    assert "extra_javascript" not in cfg  # no MathJax, no script from elsewhere
    assert cfg["hooks"] == ["tools/site/notebooks.py", "tools/site/doctest_display.py"]


def test_site_builds_strictly_with_every_page(site):
    for page in nav_pages(config()["nav"]):
        assert built(site, page).is_file(), page


def test_api_reference_comes_from_the_docstrings(site):
    api = (site / "api" / "index.html").read_text()
    for name in ("convalgebra.explanation.explain", "convalgebra.layers.Conv", "convalgebra.catalog.network",
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


@pytest.mark.parametrize("name", ["mathml", "doctest_display", "notebooks"])
def test_the_site_hooks_doctests(name):
    pytest.importorskip("latex2mathml")
    module = load_tool(name)
    sys.path.insert(0, str(TOOLS))
    try:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    finally:
        sys.path.remove(str(TOOLS))
    assert result.attempted > 0 and result.failed == 0, result


# -- no other host -------------------------------------------------------------------------

_REFERENCE = re.compile(r"""\b(?:src|href|srcset|action|poster|data|formaction|xlink:href)\s*=\s*["']([^"']*)["']""", re.I)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""", re.I)


def external(reference: str) -> bool:
    """A reference that leaves the site: a scheme and a host, or a protocol-relative //host."""
    return bool(re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", reference, re.I))


def test_no_page_refers_to_another_host(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(nav_pages(config()["nav"]))
    for page in pages:
        text = page.read_text()
        assert [r for r in _REFERENCE.findall(text) if external(r)] == [], page
        assert [u for u in _CSS_URL.findall(text) for u in u if u and external(u)] == [], page  # inline styles
        assert not re.search(r"<script[^>]*mathjax|fonts\.(googleapis|gstatic)\.com", text, re.I), page
    for sheet in sorted(site.rglob("*.css")):
        assert [u for u in _CSS_URL.findall(sheet.read_text()) for u in u if u and external(u)] == [], sheet


def test_no_figure_is_committed():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    binary = [f for f in listed.stdout.splitlines() if f.lower().endswith((".png", ".svg", ".jpg", ".jpeg", ".gif",
                                                                          ".pdf", ".webp"))]
    assert binary == []


# -- formulas and figures beside the doctests ------------------------------------------------

_BLOCKS = re.compile(r'<div class="(?:language-\w+ )?highlight"><pre>(.*?)</pre></div>'
                     r'|<div class="ca-typeset"[^>]*>(.*?)</div>'
                     r'|<img [^>]*class="ca-figure"[^>]*>', re.S)
_MATH = re.compile(r'<math [^>]*alttext="([^"]*)"[^>]*>(.*?)</math>', re.S)
_PRINTS_FORMULA = re.compile(r"(?:^|[^\w.])(?:ca\.)?(?:text|latex)\(", re.M)


def blocks(page_html: str) -> list[tuple[str, object]]:
    """A page's code blocks (their text), typeset panels (their formulas: plain text and
    MathML) and figures (their img tag), in order."""
    out = []
    for match in _BLOCKS.finditer(page_html):
        if match.group(1) is not None:
            out.append(("code", html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))))
        elif match.group(2) is not None:
            out.append(("typeset", [(html.unescape(alt), body) for alt, body in _MATH.findall(match.group(2))]))
        else:
            out.append(("figure", match.group(0)))
    return out


def squeeze(text: str) -> str:
    return " ".join(text.split())


def formula_parts(want: str):
    """The expressions in the library's symbols that a doctest's output reads as: the whole
    line, or the items of a tuple, list or dict (read with the library's own parser)."""
    from convalgebra.errors import ConvAlgebraError
    from convalgebra.symbols import parse_expression

    found = []
    for line in want.strip().splitlines():
        parts = [line]
        if line[:1] in "([{" and line[-1:] in ")]}":
            parts = [p.split(": ", 1)[-1] for p in re.split(r",\s+(?![^()]*\))", line[1:-1])]
        for part in parts:
            try:
                expr = parse_expression(part)  # a quoted string is text, not a formula
            except ConvAlgebraError:
                continue
            if expr.free_symbols:
                found.append(expr)
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_formula_a_chapter_proves_is_typeset_beside_its_doctest(site, chapter):
    """Each example that prints a formula (through ``text`` or ``latex``) or whose output is
    one is followed, on the page, by a panel of typeset formulas; each formula there is one
    the doctest printed (as text or as LaTeX, in the example's output), and where the
    library's parser reads that text back, its MathML is the LaTeX printer's for the
    expression read."""
    pytest.importorskip("latex2mathml")
    import convalgebra as ca

    mathml = load_tool("mathml")
    source = (DOCS / chapter).read_text()
    examples = doctest.DocTestParser().get_examples(source)
    page = blocks(built(site, chapter).read_text())
    expected = [ex for ex in examples if ex.exc_msg is None and ex.want.strip()
                and (_PRINTS_FORMULA.search(ex.source) or formula_parts(ex.want))]
    assert expected, f"{chapter} proves no formula"
    exact = 0
    for example in expected:
        target = squeeze(example.source + example.want)
        after = [page[i + 1][1] for i, (kind, text) in enumerate(page[:-1]) if kind == "code" and page[i + 1][0] == "typeset"
                 and squeeze(re.sub(r"^(>>>|\.\.\.) ?", "", text, flags=re.M)).endswith(target)]
        assert after and after[0], f"{chapter}: {example.source.strip()!r} has no typeset formula after it"
        formulas = after[0]
        for plain, body in formulas:
            try:
                expr = ca.parse_expression(plain)
            except ca.ConvAlgebraError:  # sqrt, N' or a relation: beyond the library's reader
                assert squeeze(plain) in squeeze(example.want), (chapter, plain, example.want)
                continue
            printed = squeeze(plain) in squeeze(example.want) or squeeze(ca.latex(expr)) in squeeze(example.want)
            assert printed, (chapter, plain, example.want)  # the doctest printed it, as text or as LaTeX
            inner = re.sub(r"^<math [^>]*>|</math>$", "", mathml.mathml(ca.latex(expr)))
            if inner in body or inner[len("<mrow>"):-len("</mrow>")] in body:
                exact += 1
            else:  # the reader multiplies out what the printer kept factored, 96*(K**2 + 2*N): same symbols
                assert set(re.findall(r"<mi>(\w+)</mi>", body)) == {str(s) for s in expr.free_symbols}, (chapter, plain)
    assert exact >= 1, chapter


def test_each_chapter_draws_its_figures_at_build_time(site):
    """Every example whose value is a figure is drawn after it as an SVG of the built site:
    the ten modules' savings on the front page, each module's own curve, a network's breakdown."""
    drawn = {}
    for chapter in CHAPTERS:
        examples = [ex for ex in doctest.DocTestParser().get_examples((DOCS / chapter).read_text())
                    if ex.want.startswith("<Figure size")]
        page = blocks(built(site, chapter).read_text())
        figures = [text for kind, text in page if kind == "figure"]
        assert len(figures) == len(examples), chapter
        for tag in figures:
            src = re.search(r'src="([^"]+)"', tag).group(1)
            svg = (built(site, chapter).parent / src).resolve()
            assert svg.suffix == ".svg" and svg.read_bytes().startswith(b"<?xml") and b"<svg" in svg.read_bytes()[:600]
            assert re.search(r'alt="[^"]{10,}"', tag), tag  # the figure's title, for a reader without it
        drawn[chapter] = len(figures)
    assert all(drawn[f"modules/{p.name}"] >= 1 for p in (DOCS / "modules").glob("*.md")), drawn
    assert drawn["index.md"] >= 1 and drawn["networks.md"] >= 1


def test_notebooks_are_pages_run_at_build_time(site):
    for path in NOTEBOOKS:
        page = built(site, f"notebooks/{path.stem}.md")
        text = page.read_text()
        images = re.findall(r'<img [^>]*src="([^"]+\.png)"', text)
        assert images, f"{path.name}: no figure"
        for src in images:
            assert (page.parent / src).resolve().read_bytes().startswith(b"\x89PNG"), src
        assert '<div class="ca-output">' in text and "<math " in text, path.name  # rich outputs, typeset
        assert not re.search(r"\$\$|\$\\", re.sub(r"<code>.*?</code>", "", text, flags=re.S)), path.name
