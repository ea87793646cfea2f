r"""mkdocs hook: the notebooks in ``examples/`` become pages of the site, run at build time.

Each notebook (committed without outputs) runs top to bottom through a Jupyter kernel
(``python3``, this tree's library first on its path) in a scratch folder, and becomes a
Markdown page ``notebooks/<name>.md``: its Markdown cells as they are, its code cells as
code blocks, and each output after its cell, in the first form of these it has: a figure
(PNG or SVG, written as a file of the built site), HTML (the rich display's tables, pandas'
tables; their ``$...$`` math typeset as MathML), LaTeX (a sympy result, typeset as
MathML), Markdown, plain text. No script, stylesheet or font of a notebook exporter comes
along, so the pages make no request outside the site. A cell that fails fails the build.

>>> cells = [{"cell_type": "markdown", "source": "# Title"},
...          {"cell_type": "code", "source": "1 + 1", "outputs": [
...              {"output_type": "execute_result", "data": {"text/plain": "2", "text/latex": "$2$"}}]}]
>>> page, files = to_markdown(cells, "notebooks/demo")
>>> print(page.split("<math")[0])
# Title
<BLANKLINE>
```python
1 + 1
```
<BLANKLINE>
<div class="ca-output">
<BLANKLINE>
>>> files
{}
"""

from __future__ import annotations

import base64
import logging
import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Any

import mathml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OUT = "notebooks"

log = logging.getLogger("mkdocs.hooks.notebooks")

# what a page shows of an output, best first
_FIGURES = {"image/svg+xml": "svg", "image/png": "png"}
_TEXT = ("text/html", "text/latex", "text/markdown", "text/plain")


def pages() -> list[str]:
    """The site's path of each notebook's page, in order.

    >>> pages()[0]
    'notebooks/01-tour-of-the-ten-modules.md'
    """
    return [f"{OUT}/{path.stem}.md" for path in sorted(EXAMPLES.glob("*.ipynb"))]


def execute(paths: list[Path]) -> list[Any]:
    """The notebooks at ``paths`` run, all at once, each through its own python3 kernel in
    a scratch folder, with this tree's ``src`` first on the kernels' path. A cell that
    fails raises nbclient's CellExecutionError (naming the cell, with its traceback)."""
    import asyncio

    import nbclient
    import nbformat

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src")] + [p for p in [env.get("PYTHONPATH")] if p])

    async def one(path: Path) -> Any:
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as scratch:
            client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                                             resources={"metadata": {"path": scratch}})
            await client.async_execute(env=env)
            left = os.listdir(scratch)
        if left:
            log.warning(f"{path.name} wrote {', '.join(sorted(left))} beside itself")
        return nb

    async def every() -> list[Any]:
        return list(await asyncio.gather(*(one(path) for path in paths)))

    return asyncio.run(every())


def to_markdown(cells: list[Any], stem: str) -> tuple[str, dict[str, bytes]]:
    """A run notebook's cells as one Markdown page, and its figures by their path in the site
    (``stem``-N.png, beside the page ``stem``.md)."""
    out: list[str] = []
    files: dict[str, bytes] = {}
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            out.append(mathml.typeset_markdown(source))
        elif cell["cell_type"] == "code":
            out.append(_fence("python", source))
            for output in cell.get("outputs", []):
                shown = _output(output, stem, files, source)
                if shown:
                    out.append(shown)
    return "\n\n".join(out) + "\n", files


def _fence(language: str, text: str) -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def _output(output: Any, stem: str, files: dict[str, bytes], source: str) -> str:
    kind = output["output_type"]
    if kind == "stream":
        text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
        if output.get("name") == "stderr":
            log.warning(f"{stem}: a cell wrote to stderr: {text.strip()[:200]}")
        return _fence("text", text)
    if kind == "error":  # nbclient stops at an error; kept for a notebook run elsewhere
        log.warning(f"{stem}: a cell raised {output.get('ename')}: {output.get('evalue')}")
        return _fence("text", f"{output.get('ename')}: {output.get('evalue')}")
    data = output.get("data", {})
    for mime, suffix in _FIGURES.items():
        if mime in data:
            uri = f"{stem}-{len(files) + 1}.{suffix}"
            raw = data[mime]
            raw = "".join(raw) if isinstance(raw, list) else raw
            files[uri] = raw.encode() if suffix == "svg" else base64.b64decode(raw)
            alt = "the figure of " + source.strip().splitlines()[-1].replace("[", "(").replace("]", ")")
            return f"![{alt}]({posixpath.basename(uri)}){{ .ca-figure }}"
    for mime in _TEXT:
        if mime in data:
            value = "".join(data[mime]) if isinstance(data[mime], list) else data[mime]
            if mime == "text/html":
                return _html_block(mathml.typeset_html(value))
            if mime == "text/latex":
                return _html_block(mathml.mathml(value.strip().strip("$"), display=True, alt=data.get("text/plain")))
            if mime == "text/markdown":
                return mathml.typeset_markdown(value)
            return _fence("text", value)
    log.warning(f"{stem}: an output in none of the forms a page shows ({', '.join(data)}) is left out")
    return ""


def _html_block(fragment: str) -> str:
    """Raw HTML for the Markdown page: one block, no blank line inside (which would end it)."""
    body = "\n".join(line for line in fragment.splitlines() if line.strip())
    return f'<div class="ca-output">\n{body}\n</div>'


_RUNNING: dict[str, Any] = {}


def on_config(config: Any) -> Any:
    """Start the notebooks now, in a thread: their kernels are processes of their own, so
    they run while the build goes on (the chapters' doctests run in on_files)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notebooks")
    _RUNNING["run"] = pool.submit(execute, sorted(EXAMPLES.glob("*.ipynb")))
    pool.shutdown(wait=False)
    return config


def on_files(files: Any, config: Any) -> Any:
    """Wait for the notebooks; add each one's page and figures to the site's files."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    run = _RUNNING.pop("run", None)
    try:
        done = run.result() if run is not None else execute(sorted(EXAMPLES.glob("*.ipynb")))
    except Exception as error:  # CellExecutionError names the notebook's cell and its traceback
        raise PluginError(f"a notebook in examples/ failed to run: {error}") from None
    for nb, page in zip(done, pages()):
        markdown, figures = to_markdown(nb.cells, page[:-3])
        files.append(File.generated(config, page, content=markdown))
        for uri, data in figures.items():
            files.append(File.generated(config, uri, content=data))
    return files
