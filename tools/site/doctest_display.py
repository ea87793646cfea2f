r"""mkdocs hook: each course page's doctests run at build time, and beside every example the
site shows what it proves, typeset: its formulas in MathML and its figures as SVG.

The doctest stays the source of truth. The code block shows sympy's code strings
(``'1/N + 1/K**2'``); right after the example the page shows the same expression through
the library's own LaTeX printer (``convalgebra.latex``), converted to MathML, so the two
cannot drift. What counts as an example's formulas:

- every expression the example passes to ``text`` or ``latex`` (``ca.text(e.ratio.macs)``,
  ``print(ca.latex(...))``, inside loops too): each output line that holds one is shown
  again with the formula typeset in place, the rest of the line as text;
- an example whose value is a sympy expression (``net.total_symbolic()[0]``), or a tuple,
  list or dict of them (``e.break_even`` shows as t = ...); plain numbers are not formulas;
- an example whose value is a matplotlib ``Figure`` (``>>> ca.plot_ratios(...)`` with the
  doctest output ``<Figure size ... with 1 Axes>``) is drawn beside it, as an SVG file
  generated into the built site (nothing committed).

To trace ``text`` and ``latex`` the hook replaces ``convalgebra.text`` and
``convalgebra.latex`` by recording wrappers while it runs a page (this is the project's
own docs code, not user input), and puts them back after. An example whose output differs
from its doctest is a warning, so ``mkdocs build --strict`` fails, as ``pytest docs`` does.

>>> shown = run_page('''```python
... >>> import convalgebra as ca
... >>> print(ca.text(1/ca.N + 1/ca.K**2), "MACs")
... 1/N + 1/K**2 MACs
...
... ```''', "example.md")
>>> [(lineno, [piece if isinstance(piece, str) else piece.plain for piece in line])
...  for lineno, s in shown for line in s.lines]
[(4, ['1/N + 1/K**2', ' MACs'])]
>>> shown[0][1].lines[0][0].tex
'\\frac{1}{N} + \\frac{1}{K^{2}}'
"""

from __future__ import annotations

import contextlib
import doctest
import html
import io
import logging
import os
import posixpath
import re
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:  # the site shows this tree's library, whatever else is installed
    sys.path.insert(0, str(ROOT / "src"))

import mathml  # noqa: E402  (beside this file; mkdocs puts the hook's folder on the path while it loads it)

log = logging.getLogger("mkdocs.hooks.doctest_display")

# as pyproject.toml's doctest_optionflags, which pytest uses on the same pages
OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
FENCE_OPEN, FENCE_CLOSE = re.compile(r"^```python\s*$"), re.compile(r"^```\s*$")


@dataclass(frozen=True)
class Formula:
    """One formula: its TeX from the library's printer, and its plain text as the doctest shows it."""

    tex: str
    plain: str


Piece = Union[str, Formula]


@dataclass
class Shown:
    """What one example shows beside it: lines of text and formulas, and figures (title, SVG)."""

    lines: list[list[Piece]] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.lines or self.figures)


class _Tracer:
    """``convalgebra.text`` and ``latex`` replaced, while a page runs, by wrappers that record
    each formula they print, with the string they returned."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Formula]] = []

    @contextlib.contextmanager
    def installed(self):  # type: ignore[no-untyped-def]
        import convalgebra

        text, latex = convalgebra.text, convalgebra.latex

        def traced_text(expr: Any) -> str:
            out = text(expr)
            if is_formula(expr):
                self.calls.append((out, Formula(latex(expr), out)))
            return out

        def traced_latex(expr: Any) -> str:
            out = latex(expr)
            if is_formula(expr):
                self.calls.append((out, Formula(out, text(expr))))
            return out

        traced_text.__doc__, traced_latex.__doc__ = text.__doc__, latex.__doc__
        convalgebra.text, convalgebra.latex = traced_text, traced_latex
        try:
            yield self
        finally:
            convalgebra.text, convalgebra.latex = text, latex


def is_formula(value: Any) -> bool:
    """A sympy expression that is not a plain number: ``1/N``, ``sqrt(82)/9``; not ``17/144``."""
    if "sympy" not in sys.modules:
        return False
    import sympy

    return isinstance(value, sympy.Basic) and not value.is_Number and not isinstance(value, sympy.logic.boolalg.BooleanAtom)


def formula(expr: Any) -> Formula:
    import convalgebra

    return Formula(convalgebra.printing.latex(expr), convalgebra.printing.text(expr))


# -- running a page ----------------------------------------------------------------------

def fences(markdown: str) -> list[tuple[int, int]]:
    """The ``python`` code fences of a page, as (first content line, closing line) indices.

    >>> fences("text\\n```python\\n>>> 1\\n1\\n```\\n")
    [(2, 4)]
    """
    lines, out, start = markdown.splitlines(), [], None
    for i, line in enumerate(lines):
        if start is None and FENCE_OPEN.match(line):
            start = i + 1
        elif start is not None and FENCE_CLOSE.match(line):
            out.append((start, i))
            start = None
    return out


def run_page(markdown: str, name: str) -> list[tuple[int, Shown]]:
    """Run every doctest example of a page in order, in one namespace (as pytest does), and
    return what each example shows, by the page line (0-based) just after the example."""
    lines = markdown.splitlines()
    parser, tracer = doctest.DocTestParser(), _Tracer()
    globs: dict[str, Any] = {"__name__": "__main__"}
    out = []
    with tracer.installed():
        for start, end in fences(markdown):
            for example in parser.get_examples("\n".join(lines[start:end]) + "\n"):
                if example.options.get(doctest.SKIP):
                    continue
                tracer.calls = []
                shown = _run(example, globs, tracer, f"{name} line {start + example.lineno + 1}")
                after = start + example.lineno + example.source.count("\n") + example.want.count("\n")
                if shown:
                    out.append((after, shown))
    return out


_NOTHING = object()


def _run(example: doctest.Example, globs: dict[str, Any], tracer: _Tracer, where: str) -> Shown:
    values: list[Any] = []

    def displayhook(value: Any) -> None:
        if value is not None:
            values.append(value)
        sys.__displayhook__(value)  # prints the repr, as doctest compares it

    buffer, error = io.StringIO(), None
    saved = sys.displayhook
    sys.displayhook = displayhook
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(example.source, where, "single", dont_inherit=True), globs)
    except Exception as raised:
        error = raised
    finally:
        sys.displayhook = saved
    got = buffer.getvalue()
    flags = OPTIONFLAGS
    for flag, on in example.options.items():
        flags = flags | flag if on else flags & ~flag
    checker = doctest.OutputChecker()
    if error is not None:
        message = traceback.format_exception_only(type(error), error)[-1]
        if example.exc_msg is None or not checker.check_output(example.exc_msg, message, flags):
            log.warning(f"{where}: {example.source.strip()!r} raised {message.strip()!r}")
        return Shown()
    if not checker.check_output(example.want, got, flags):
        log.warning(f"{where}: {example.source.strip()!r} printed {got!r}, its doctest says {example.want!r}")
    value = values[-1] if values else _NOTHING
    shown = Shown()
    if _is_figure(value):
        shown.figures.append((_title(value), _svg(value)))
    elif value is not _NOTHING:
        line = _value_pieces(value, tracer.calls)
        shown.lines = [line] if line else []
    else:
        shown.lines = [pieces for pieces in (_line_pieces(line, tracer.calls) for line in got.splitlines()) if pieces]
    return shown


def _value_pieces(value: Any, calls: list[tuple[str, Formula]]) -> list[Piece]:
    """An example's value, typeset: a formula, or a tuple, list or dict holding formulas."""
    import convalgebra

    printed = dict(calls)

    def piece(item: Any) -> Formula | None:
        if is_formula(item):
            return formula(item)
        return printed.get(item) if isinstance(item, str) else None

    if piece(value) is not None:
        return [piece(value)]  # type: ignore[list-item]
    out: list[Piece] = []
    if isinstance(value, (tuple, list)) and any(piece(item) is not None for item in value):
        for i, item in enumerate(value):
            out += [", "] * bool(i) + [piece(item) or repr(item)]
    elif isinstance(value, dict) and any(piece(item) is not None for item in value.values()):
        import sympy

        for i, (key, item) in enumerate(value.items()):
            out += [", "] * bool(i)
            if is_formula(key) and is_formula(item):  # {t: ...} reads t = ...
                out.append(Formula(convalgebra.printing.latex(sympy.Eq(key, item, evaluate=False)),
                                   convalgebra.printing.text(item)))
            else:
                out += [f"{key}: ", piece(item) or repr(item)]
    return out


def _line_pieces(line: str, calls: list[tuple[str, Formula]]) -> list[Piece]:
    """An output line with each formula printed in it typeset in place; [] when it holds none.

    >>> f = Formula(r"\\frac{1}{G}", "1/G")
    >>> _line_pieces("group 1/G | M/G", [("1/G", f)])
    ['group ', Formula(tex='\\\\frac{1}{G}', plain='1/G'), ' | M/G']
    """
    printed = dict(calls)
    if not printed:
        return []
    pattern = "|".join(rf"(?<![\w.*/^']){re.escape(s)}(?![\w.*/^('])" for s in sorted(printed, key=len, reverse=True))
    out: list[Piece] = []
    at = 0
    for match in re.finditer(pattern, line):
        out += [line[at:match.start()]] * (match.start() > at) + [printed[match.group(0)]]
        at = match.end()
    return out + [line[at:]] * (at < len(line)) if out else []


def _is_figure(value: Any) -> bool:
    figure = sys.modules.get("matplotlib.figure")  # no figure without matplotlib imported
    return figure is not None and isinstance(value, figure.Figure)


def _title(fig: Any) -> str:
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(" ".join(titles).splitlines()) or "figure"


def _svg(fig: Any) -> bytes:
    import convalgebra

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "figure.svg")
        convalgebra.plotting.save(fig, path)  # the library's own writer: same figure, same bytes
        return Path(path).read_bytes()


# -- what the page shows -------------------------------------------------------------------

def render(markdown: str, shown: list[tuple[int, Shown]], page_uri: str) -> tuple[str, dict[str, bytes]]:
    r"""The page with each example's formulas and figures after it (its code block split
    there), and the figures' files by their path in the site.

    >>> page = "Cost:\n```python\n>>> 1\n1\n>>> 2\n2\n\n```\nEnd."
    >>> for line in render(page, [(4, Shown([["x"]]))], "a.md")[0].splitlines():
    ...     print(repr(line))
    'Cost:'
    '```python'
    '>>> 1'
    '1'
    '```'
    ''
    '<div class="ca-typeset" title="typeset by convalgebra.latex at build time">'
    '<p>x</p>'
    '</div>'
    ''
    '```python'
    '>>> 2'
    '2'
    '```'
    'End.'
    """
    lines = markdown.splitlines()
    after = dict(shown)
    stem = page_uri[:-3].replace("/", "-")
    figures: dict[str, bytes] = {}
    out: list[str] = []
    prose_from = 0
    for start, end in fences(markdown):
        out += lines[prose_from:start]  # the prose, and the fence's opening line
        opening = out.pop()
        chunk_from = start
        for cut in sorted(i for i in after if start <= i <= end) + [None]:
            code = _trim(lines[chunk_from:end if cut is None else cut])
            if code:
                out += [opening, *code, "```"]
            if cut is not None:
                out += ["", *_panel(after[cut], stem, page_uri, figures), ""]
                chunk_from = cut
        prose_from = end + 1
    out += lines[prose_from:]
    return "\n".join(out) + "\n", figures


def _trim(chunk: list[str]) -> list[str]:
    """The lines without blank ones at either end."""
    while chunk and not chunk[-1].strip():
        chunk = chunk[:-1]
    while chunk and not chunk[0].strip():
        chunk = chunk[1:]
    return chunk


def _panel(shown: Shown, stem: str, page_uri: str, figures: dict[str, bytes]) -> list[str]:
    out = []
    if shown.lines:
        out.append('<div class="ca-typeset" title="typeset by convalgebra.latex at build time">')
        rows = [_split(line) for line in shown.lines]
        if len(rows) > 1 and all(row is not None for row in rows):  # label, formula, note: a table
            out.append('<table class="ca-lines">')
            out += [f"<tr><td>{html.escape(a.strip())}</td><td>{_math(f)}</td><td>{html.escape(b.strip())}</td></tr>"
                    for a, f, b in rows]  # type: ignore[misc]
            out.append("</table>")
        else:
            for line in shown.lines:  # inline math, left under the code (the stylesheet sets full-size fractions)
                out.append("<p>" + "".join(html.escape(p) if isinstance(p, str) else _math(p) for p in line) + "</p>")
        out.append("</div>")
    for title, svg in shown.figures:
        uri = f"figures/{stem}-{len(figures) + 1}.svg"
        figures[uri] = svg
        link = posixpath.relpath(uri, posixpath.dirname(page_uri) or ".")
        alt = title.replace("[", "(").replace("]", ")")
        out += ["" if out else None, f"![{alt}]({link}){{ .ca-figure }}"]
    return [line for line in out if line is not None]


def _split(line: list[Piece]) -> tuple[str, Formula, str] | None:
    """A line of one formula with text around it, as (before, formula, after)."""
    formulas = [i for i, p in enumerate(line) if isinstance(p, Formula)]
    if len(formulas) != 1:
        return None
    i = formulas[0]
    return "".join(line[:i]), line[i], "".join(line[i + 1:])  # type: ignore[arg-type,return-value]


def _math(f: Formula) -> str:
    return mathml.mathml(f.tex, alt=f.plain)


# -- the hook ----------------------------------------------------------------------------

_PAGES: dict[str, tuple[str, str]] = {}


def has_doctests(markdown: str) -> bool:
    lines = markdown.splitlines()
    return any(line.lstrip().startswith(">>>") for start, end in fences(markdown) for line in lines[start:end])


def on_files(files: Any, config: Any) -> Any:
    """Run every page with doctests; add the figures they draw to the site's files."""
    from mkdocs.structure.files import File

    _PAGES.clear()
    for file in files.documentation_pages():
        source = file.content_string
        if not has_doctests(source):
            continue
        try:
            markdown, figures = render(source, run_page(source, file.src_uri), file.src_uri)
        except mathml.TeXError as error:
            log.warning(f"{file.src_uri}: {error}")
            continue
        for uri, svg in figures.items():
            files.append(File.generated(config, uri, content=svg))
        _PAGES[file.src_uri] = (source, markdown)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    source, shown = _PAGES.get(page.file.src_uri, (markdown, markdown))
    if markdown != source:
        log.warning(f"{page.file.src_uri}: its Markdown changed after its doctests ran; shown without them")
        return markdown
    return shown
