"""Views as text, Markdown, HTML and LaTeX: one renderer a format, for every result.

The command line's formats, Jupyter's ``_repr_*_`` and the ``to_*`` methods of every
result all call these four:

>>> from convalgebra import render
>>> from convalgebra.report import Equations, Expr, Paragraph, View
>>> v = View("A title", (Paragraph(("Cost ", Expr(K**2), " MACs")),
...                      Equations(((("MACs",), (Expr(462422016, "number"),)),))))
>>> print(render.text(v))
A title
<BLANKLINE>
Cost K**2 MACs
<BLANKLINE>
  MACs = 462,422,016
>>> print(render.markdown(v))
### A title
<BLANKLINE>
Cost $K^{2}$ MACs
<BLANKLINE>
$$\\begin{aligned}\\text{MACs} &= 462{,}422{,}016\\end{aligned}$$
<BLANKLINE>
>>> print(render.latex(v))
\\subsection*{A title}
<BLANKLINE>
Cost $K^{2}$ MACs
<BLANKLINE>
\\begin{align*}
\\text{MACs} &= 462{,}422{,}016
\\end{align*}
<BLANKLINE>
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence

from .data import data, to_json
from .report import view
from .report import Code, Equations, Expr, Items, Math, Paragraph, Piece, Table, View, tex_text

__all__ = ["text", "markdown", "html", "latex", "rendered", "FORMATS"]

_WIDTH = 88


# -- values in each notation ---------------------------------------------------------

def _value_text(piece: Expr) -> str:
    from . import printing

    value, style = piece.value, piece.style
    if style == "percent":
        return _percent_text(value)
    if style == "ratio" and isinstance(value, Fraction):
        return printing.fraction_text(value)
    if style in ("number", "exact", "ratio") and _is_whole(value):
        return printing.grouped(int(value))
    if style in ("exact", "ratio") and _is_number(value):
        shown = printing.text(value)
        return f"{shown} = {printing.decimal(value)}" if getattr(value, "is_real", True) else shown
    return printing.text(value)


def _value_tex(piece: Expr) -> str:
    from . import printing

    value, style = piece.value, piece.style
    if style == "percent":
        return _percent_tex(value)
    if style in ("ratio", "exact") and _is_number(value) and not _is_whole(value) \
            and getattr(value, "is_real", True):
        return rf"{printing.decimal(value)} \; (= {printing.latex(value)})"
    if style in ("number", "exact", "ratio"):
        return printing.number_latex(value)
    return printing.latex(value)


def _is_whole(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or bool(getattr(value, "is_Integer", False)) \
        or (isinstance(value, Fraction) and value.denominator == 1)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Fraction)) or bool(getattr(value, "is_number", False))


def _percent_text(share: Any) -> str:
    from . import printing

    if isinstance(share, (int, Fraction)):
        return printing.percent(share)
    import sympy

    return f"{printing.text(sympy.cancel(100 * share))} %"


def _percent_tex(share: Any) -> str:
    from . import printing

    if isinstance(share, (int, Fraction)):
        return printing.percent(share).replace("%", r"\%")
    import sympy

    return rf"{printing.latex(sympy.cancel(100 * share))} \,\%"


# -- text ---------------------------------------------------------------------------

def _plain(piece: Piece) -> str:
    if isinstance(piece, Expr):
        return _value_text(piece)
    if isinstance(piece, Math):
        return piece.text
    return str(piece)


def _plain_all(pieces: Sequence[Piece]) -> str:
    return "".join(_plain(p) for p in pieces)


def _cell(cell: Any, show: Callable[[Sequence[Piece]], str]) -> str:
    return show(cell if isinstance(cell, tuple) else (cell,))


def text(v: View) -> str:
    """The view as plain text for a terminal or a course handout: aligned tables, one formula a line."""
    import textwrap

    out = [v.title]
    for i, block in enumerate(v.blocks):
        if isinstance(block, Paragraph):
            body = _plain_all(block.pieces)
            before = v.blocks[i - 1] if i else None
            if block.note and (before is None or isinstance(before, Paragraph) and before.note):
                out.append("  " + body)  # a note under the title (the paper, the source)
                continue
            prose = all(type(p) is str for p in block.pieces)
            lines = textwrap.wrap(body, _WIDTH, break_long_words=False, break_on_hyphens=False) if prose else [body]
            out += ([] if block.tight else [""]) + (["  " + line for line in lines] if block.note else lines)
        elif isinstance(block, Table):
            out += [""] + ([block.caption + ":"] if block.caption else [])
            out += _text_table(block)
        elif isinstance(block, Items):
            out += ([] if block.tight and not block.caption else [""]) + ([block.caption + ":"] if block.caption else [])
            out += ["  " + _plain_all(item) for item in block.items]
        else:
            out += [""] + ([block.caption + ":"] if block.caption else [])
            lefts = [_plain_all(left) for left, _ in block.rows]
            width = max(map(len, lefts))
            out += [f"  {left:<{width}} = {_plain_all(right)}" for left, (_, right) in zip(lefts, block.rows)]
    return "\n".join(out)


def _text_table(table: Table) -> list[str]:
    rows = [[_cell(c, _plain_all) for c in row] for row in table.rows]
    header = list(table.header)
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]

    def line(cells: list[str]) -> str:
        return ("  " + "  ".join(c.rjust(w) if i in table.right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths)))).rstrip()

    return [line(header)] + [line(r) for r in rows]


# -- LaTeX pieces, shared by Markdown, HTML and LaTeX ---------------------------------------

def _tex_math(piece: Piece) -> str:
    """A piece inside math mode: values and formulas as LaTeX, words as ``\\text``."""
    if isinstance(piece, Expr):
        return _value_tex(piece)
    if isinstance(piece, Math):
        return piece.tex
    if isinstance(piece, Code):
        return rf"\texttt{{{tex_text(piece)}}}"
    return rf"\text{{{tex_text(piece)}}}" if piece.strip() else (r"\ " if piece else "")


def _inline(pieces: Sequence[Piece], word: Callable[[Piece], str], wrap: Callable[[str], str]) -> str:
    """Pieces in running text: each run of math pieces one math span (``wrap`` of their LaTeX),
    plain numbers and words through ``word``."""
    out: list[str] = []
    run: list[str] = []
    for piece in pieces:
        if isinstance(piece, (Expr, Math)) and not _is_plain(piece):
            run.append(_tex_math(piece))
            continue
        if run:
            out.append(wrap("".join(run)))
            run = []
        out.append(word(piece))
    if run:
        out.append(wrap("".join(run)))
    return "".join(out)


def _aligned(rows: Sequence[tuple[Sequence[Piece], Sequence[Piece]]], env: str = "aligned") -> str:
    body = " \\\\ ".join(f"{''.join(map(_tex_math, left))} &= {''.join(map(_tex_math, right))}" for left, right in rows)
    return f"\\begin{{{env}}}{body}\\end{{{env}}}"


# -- Markdown -----------------------------------------------------------------------

def _is_plain(piece: Piece) -> bool:
    """A number that reads best as it is (grouped digits, a decimal, a percent) rather than typeset."""
    return isinstance(piece, Expr) and piece.style != "expr" and (
        isinstance(piece.value, (int, Fraction)) or bool(getattr(piece.value, "is_Rational", False)))


def _md_word(piece: Piece) -> str:
    return f"`{piece}`" if isinstance(piece, Code) else _plain(piece)


def _md(pieces: Sequence[Piece], in_table: bool = False) -> str:
    out = _inline(pieces, _md_word, lambda tex: f"${tex}$")
    return out.replace("|", "\\|") if in_table else out


def markdown(v: View) -> str:
    """The view as Markdown with ``$...$`` math, as Jupyter and course pages render it."""
    out = [f"### {v.title}", ""]
    for block in v.blocks:
        if isinstance(block, Paragraph):
            body = _md(block.pieces)
            out += [f"*{body}*" if block.note else body, ""]
        elif isinstance(block, Equations):
            out += ([block.caption + ":", ""] if block.caption else []) + [f"$${_aligned(block.rows)}$$", ""]
        elif isinstance(block, Items):
            out += ([block.caption + ":", ""] if block.caption else []) + [f"- {_md(item)}" for item in block.items] + [""]
        else:
            out += [block.caption + ":", ""] if block.caption else []
            align = ["---:" if i in block.right else "---" for i in range(len(block.header))]
            out.append("| " + " | ".join(h.replace("|", "\\|") for h in block.header) + " |")
            out.append("|" + "|".join(align) + "|")
            out += ["| " + " | ".join(_cell(c, lambda ps: _md(ps, True)) for c in row) + " |"
                    for row in block.rows]
            out.append("")
    return "\n".join(out)


# -- HTML ---------------------------------------------------------------------------

def _escape(words: str) -> str:
    from html import escape

    return escape(words, quote=False)


def _html_word(piece: Piece) -> str:
    return f"<code>{_escape(piece)}</code>" if isinstance(piece, Code) else _escape(_plain(piece))


def _html_inline(pieces: Sequence[Piece]) -> str:
    return _inline(pieces, _html_word, lambda tex: f"${_escape(tex)}$")


def html(v: View) -> str:
    """The view as an HTML fragment: headings, paragraphs, tables, display math (for MathJax)."""
    out = ['<div class="convalgebra">', f"<h4>{_escape(v.title)}</h4>"]
    for block in v.blocks:
        if isinstance(block, Paragraph):
            body = _html_inline(block.pieces)
            out.append(f"<p><em>{body}</em></p>" if block.note else f"<p>{body}</p>")
        elif isinstance(block, Equations):
            if block.caption:
                out.append(f"<p>{_escape(block.caption)}:</p>")
            out.append(f"<p>$${_escape(_aligned(block.rows))}$$</p>")
        elif isinstance(block, Items):
            if block.caption:
                out.append(f"<p>{_escape(block.caption)}:</p>")
            out += ["<ul>"] + [f"<li>{_html_inline(item)}</li>" for item in block.items] + ["</ul>"]
        else:
            out += _html_table(block)
    out.append("</div>")
    return "\n".join(out)


def _html_table(table: Table) -> list[str]:
    def cell(tag: str, content: str, i: int) -> str:
        style = ' style="text-align: right"' if i in table.right else ""
        return f"<{tag}{style}>{content}</{tag}>"

    out = ["<table>"]
    if table.caption:
        out.append(f"<caption>{_escape(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(cell("th", _escape(h), i) for i, h in enumerate(table.header)) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(cell("td", _cell(c, _html_inline), i)
                             for i, c in enumerate(row)) + "</tr>" for row in table.rows]
    out += ["</tbody>", "</table>"]
    return out


# -- LaTeX --------------------------------------------------------------------------

def _tex_word(piece: Piece) -> str:
    """A piece in running LaTeX text: code in ``\\texttt``, words and plain numbers escaped."""
    if isinstance(piece, Code):
        return rf"\texttt{{{tex_text(piece)}}}"
    return tex_text(_plain(piece))


def _tex_inline(pieces: Sequence[Piece]) -> str:
    return _inline(pieces, _tex_word, lambda tex: f"${tex}$")


def latex(v: View) -> str:
    """The view as LaTeX to paste into a document (amsmath): a heading, paragraphs, ``tabular``
    tables and ``align*`` formulas."""
    out = [rf"\subsection*{{{tex_text(v.title)}}}", ""]
    for block in v.blocks:
        if isinstance(block, Paragraph):
            body = _tex_inline(block.pieces)
            out += [rf"\emph{{{body}}}" if block.note else body, ""]
        elif isinstance(block, Items):
            out += ([tex_text(block.caption) + ":", ""] if block.caption else [])
            out += ["\\begin{itemize}"] + [f"\\item {_tex_inline(item)}" for item in block.items] + ["\\end{itemize}", ""]
        elif isinstance(block, Equations):
            out += ([tex_text(block.caption) + ":", ""] if block.caption else [])
            out += ["\\begin{align*}", " \\\\\n".join(
                f"{''.join(map(_tex_math, left))} &= {''.join(map(_tex_math, right))}" for left, right in block.rows),
                "\\end{align*}", ""]
        else:
            out += _tex_table(block) + [""]
    return "\n".join(out)


def _tex_table(table: Table) -> list[str]:
    columns = "".join("r" if i in table.right else "l" for i in range(len(table.header)))
    out = [tex_text(table.caption) + ":", ""] if table.caption else []
    out += [rf"\begin{{tabular}}{{{columns}}}", r"\hline",
            " & ".join(tex_text(h) for h in table.header) + r" \\", r"\hline"]
    out += [" & ".join(_cell(c, _tex_inline) for c in row) + r" \\" for row in table.rows]
    out += [r"\hline", r"\end{tabular}"]
    return out


# -- a result in any format -------------------------------------------------------------------

#: Every format a result comes in: the four renderings of its view, its JSON text, and its data.
FORMATS: tuple[str, ...] = ("text", "markdown", "html", "latex", "json", "data")


def rendered(obj: Any, fmt: str) -> Any:
    """A library result in the format ``fmt`` (one of :data:`FORMATS`): the renderings come from
    its view (:mod:`convalgebra.report`), JSON and data from its data (:mod:`convalgebra.data`).

    >>> rendered(explain("group"), "text").splitlines()[0]
    'group: group convolution (AlexNet)'
    >>> rendered(explain("group"), "data")["module"]
    'group'
    """
    if fmt == "json":
        return to_json(obj)
    if fmt == "data":
        return data(obj)
    renderer = {"text": text, "markdown": markdown, "html": html, "latex": latex}.get(fmt)
    if renderer is None:
        from .errors import InvalidValueError

        raise InvalidValueError(f"format = {fmt!r}: expected one of {', '.join(FORMATS)}")
    return renderer(view(obj))
