"""What each result shows: a :class:`View` (a title, then paragraphs, tables and
equations) and its renderings as HTML, Markdown and LaTeX, for :mod:`convalgebra.display`.

>>> v = view(explain("group"))
>>> v.title, [type(b).__name__ for b in v.blocks][:3]
('group: group convolution (AlexNet)', ['Paragraph', 'Paragraph', 'Paragraph'])
>>> print(render_markdown(View("A title", (Paragraph(("Cost ", Math("K^{2}"), " MACs")),))))
### A title
<BLANKLINE>
Cost $K^{2}$ MACs
<BLANKLINE>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

from .printing import number_latex

__all__ = [
    "Math", "Code", "Paragraph", "Table", "Equations", "View",
    "view", "render_html", "render_markdown", "render_latex",
]

UNITS = "MACs (multiply-accumulates; 1 MAC = 2 FLOPs)"


class Math(str):
    """A LaTeX fragment, typeset in math mode wherever it is shown."""


class Code(str):
    """Text shown as code (a rule, a name a user types)."""


Piece = Union[str, Math, Code]


@dataclass(frozen=True)
class Paragraph:
    """A line of text, with math and code pieces; ``note`` sets it in italics."""

    pieces: tuple[Piece, ...]
    note: bool = False


@dataclass(frozen=True)
class Table:
    """A table: header and rows of cells; the columns numbered in ``right`` align right (numbers)."""

    header: tuple[str, ...]
    rows: tuple[tuple[Piece, ...], ...]
    caption: str = ""
    right: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Equations:
    """Formulas aligned at ``=``: each row is (left side, right side), both LaTeX."""

    rows: tuple[tuple[str, str], ...]


Block = Union[Paragraph, Table, Equations]


@dataclass(frozen=True)
class View:
    """What a result shows: a title and blocks, in order."""

    title: str
    blocks: tuple[Block, ...]


# -- rendering -------------------------------------------------------------------

def _escape(text: str) -> str:
    """HTML-escape text (the html module is imported only when HTML is asked for)."""
    from html import escape

    return escape(text, quote=False)


def _html_piece(piece: Piece) -> str:
    text = _escape(piece)
    if isinstance(piece, Math):
        return f"${text}$"
    if isinstance(piece, Code):
        return f"<code>{text}</code>"
    return text


def _markdown_piece(piece: Piece, in_table: bool = False) -> str:
    if isinstance(piece, Math):
        out = f"${piece}$"
    elif isinstance(piece, Code):
        out = f"`{piece}`"
    else:
        out = str(piece)
    return out.replace("|", "\\|") if in_table else out


def _aligned(rows: Sequence[tuple[str, str]]) -> str:
    return "\\begin{aligned}" + " \\\\ ".join(f"{left} &= {right}" for left, right in rows) + "\\end{aligned}"


def render_html(v: View) -> str:
    """The view as an HTML fragment: headings, paragraphs, tables, display math."""
    out = ['<div class="convalgebra">', f"<h4>{_escape(v.title)}</h4>"]
    for block in v.blocks:
        if isinstance(block, Paragraph):
            body = "".join(_html_piece(p) for p in block.pieces)
            out.append(f"<p><em>{body}</em></p>" if block.note else f"<p>{body}</p>")
        elif isinstance(block, Equations):
            out.append(f"<p>$${_escape(_aligned(block.rows))}$$</p>")
        else:
            out += _html_table(block)
    out.append("</div>")
    return "\n".join(out)


def _html_table(table: Table) -> list[str]:
    def cell(tag: str, piece: Piece, i: int) -> str:
        style = ' style="text-align: right"' if i in table.right else ""
        return f"<{tag}{style}>{_html_piece(piece)}</{tag}>"

    out = ["<table>"]
    if table.caption:
        out.append(f"<caption>{_escape(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(cell("th", h, i) for i, h in enumerate(table.header)) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(cell("td", c, i) for i, c in enumerate(row)) + "</tr>" for row in table.rows]
    out += ["</tbody>", "</table>"]
    return out


def render_markdown(v: View) -> str:
    """The view as Markdown with ``$...$`` math, as Jupyter and course pages render it."""
    out = [f"### {v.title}", ""]
    for block in v.blocks:
        if isinstance(block, Paragraph):
            body = "".join(_markdown_piece(p) for p in block.pieces)
            out += [f"*{body}*" if block.note else body, ""]
        elif isinstance(block, Equations):
            out += [f"$${_aligned(block.rows)}$$", ""]
        else:
            if block.caption:
                out += [block.caption + ":", ""]
            align = ["---:" if i in block.right else "---" for i in range(len(block.header))]
            out.append("| " + " | ".join(_markdown_piece(h, True) for h in block.header) + " |")
            out.append("|" + "|".join(align) + "|")
            out += ["| " + " | ".join(_markdown_piece(c, True) for c in row) + " |" for row in block.rows]
            out.append("")
    return "\n".join(out)


def render_latex(v: View) -> Optional[str]:
    """The view's equations as one math-mode string (``$\\begin{aligned}...$``), or None."""
    rows = [row for block in v.blocks if isinstance(block, Equations) for row in block.rows]
    if not rows:
        return None
    return "$" + _aligned(rows) + "$"


# -- views of the library's results ------------------------------------------------

_VIEWS: dict[str, Callable[[Any], View]] = {}


def _view_of(*qualnames: str) -> Callable[[Callable[[Any], View]], Callable[[Any], View]]:
    def register(function: Callable[[Any], View]) -> Callable[[Any], View]:
        for name in qualnames:
            _VIEWS[name] = function
        return function

    return register


def view(obj: Any) -> View:
    """The view of a library result (looked up by its class, nearest first).

    >>> view(module("group")).title
    'group: group convolution (AlexNet)'
    >>> view(42)
    Traceback (most recent call last):
    ...
    TypeError: no rich display for int
    """
    for cls in type(obj).__mro__:
        function = _VIEWS.get(f"{cls.__module__}.{cls.__qualname__}")
        if function is not None:
            return function(obj)
    raise TypeError(f"no rich display for {type(obj).__name__}")


def _math(value: Any) -> Math:
    from .printing import latex

    return Math(latex(value))


def _values_math(values: dict[Any, Any]) -> Math:
    return Math(", ".join(f"{number_latex(s)} = {number_latex(v)}" for s, v in values.items()))


def _cost_rows(label: str, cost: Any, ratio: bool = False) -> tuple[str, str]:
    unit = (r"\ (\text{MACs})", r"\ (\text{params})") if ratio else (r"\ \text{MACs}", r"\ \text{params}")
    return label, rf"{number_latex(cost.macs)}{unit[0]}, \quad {number_latex(cost.params)}{unit[1]}"


@_view_of("convalgebra.cost.Cost")
def _cost_view(cost: Any) -> View:
    """A Cost's two fields (MACs and params, or their ratios when the Cost is a ratio)."""
    rows = ((r"\text{MACs}", number_latex(cost.macs)), (r"\text{params}", number_latex(cost.params)))
    return View("Cost", (Equations(rows),))


@_view_of("convalgebra.explanation.Explanation")
def _explanation_view(e: Any) -> View:
    from .explanation import _kernel, _times, layer_kind
    from .printing import fraction_text
    from .printing import grouped
    from .solving import point_note

    m = e.module
    name = rf"\text{{{_latex_text(m.name)}}}"
    std = r"\text{standard}"
    blocks: list[Block] = []
    if m.paper:
        blocks.append(Paragraph((str(m.paper),), note=True))
    if m.summary:
        blocks.append(Paragraph((m.summary,)))
    if m.parameters:
        pieces: list[Piece] = ["Parameters: "]
        for i, (s, (v, d)) in enumerate(e._parameter_values().items()):
            pieces += [", "] * bool(i) + [Math(f"{number_latex(s)} = {number_latex(v) if v is not None else '?'}")]
            pieces += [" as set (default ", Math(number_latex(d)), ")"] if v != d else []
        blocks.append(Paragraph(tuple(pieces)))
    rule: list[Piece] = ["Rewrite rule: ", Code(repr(m.rule))]
    if m.article:
        rule += ["; the article's rewrite: ", Code(m.article)]
    blocks.append(Paragraph(tuple(rule)))
    blocks.append(Table(
        ("#", "layer", "kernel", "in", "out", "groups", "MACs", "params"),
        tuple((str(i), layer_kind(r.layer) + _times(r), _kernel(r.layer), _math(r.layer.in_channels),
               _math(r.layer.out_channels), _math(r.layer.groups), _math(r.macs), _math(r.params))
              for i, r in enumerate(e.layers, 1)),
        caption=f"Layers (stride 1, SAME padding: an I x I input gives an F x F output, F = I); costs in {UNITS}"))
    blocks.append(Equations((
        _cost_rows(r"\text{standard convolution}", e.baseline),
        _cost_rows(name, e.rewritten),
        _cost_rows(rf"\frac{{{name}}}{{{std}}}", e.ratio, ratio=True),
        _cost_rows(rf"\left.\frac{{{name}}}{{{std}}}\right|_{{M=N}}", e.ratio_equal_channels, ratio=True),
        (rf"\lim_{{N \to \infty}} \left.\frac{{{name}}}{{{std}}}\right|_{{M=N}}",
         number_latex(e.limit_large_N) + r"\ (\text{MACs})"),
    )))
    if e.break_even:
        pieces = ["Break-even, as many MACs as the standard convolution, at "]
        for i, (s, v) in enumerate(e.break_even.items()):
            note = point_note(s, v)
            pieces += ["; "] * bool(i) + [Math(f"{number_latex(s)} = {number_latex(v)}")] + [f" ({note})"] * bool(note)
        blocks.append(Paragraph(tuple(pieces + ["."])))
    numbers, note = e._shown_numbers()
    if numbers is not None:
        r = numbers.ratio
        blocks.append(Paragraph(("At ", _values_math(numbers.values), note + ":")))
        blocks.append(Table(("", "MACs", "FLOPs", "params"), (
            ("standard convolution", grouped(numbers.baseline.macs), grouped(2 * numbers.baseline.macs),
             grouped(numbers.baseline.params)),
            (m.name, grouped(numbers.rewritten.macs), grouped(2 * numbers.rewritten.macs),
             grouped(numbers.rewritten.params)),
            ("ratio", fraction_text(r.macs), fraction_text(r.macs), fraction_text(r.params)),
        ), right=frozenset({1, 2, 3})))
    title = f"{m.name}: {m.title}" + (f" ({m.network})" if m.network else "")
    return View(title, tuple(blocks))


@_view_of("convalgebra.modules.Module")
def _module_view(m: Any) -> View:
    from .explanation import explain

    return _explanation_view(explain(m))


@_view_of("convalgebra.layers.Conv", "convalgebra.layers.Shuffle", "convalgebra.blocks.Series",
          "convalgebra.blocks.Parallel", "convalgebra.blocks.Residual", "convalgebra.blocks.Repeat",
          "convalgebra.layers.Linear", "convalgebra.layers.Pool", "convalgebra.layers.AdaptivePool",
          "convalgebra.layers.BatchNorm")
def _block_view(block: Any) -> View:
    from .cost import count
    from .networks import layer_kind
    from .simplification import canonical
    from .symbols import I

    rows = count(block, I)
    branched = any(r.branch for r in rows)
    header = ("#", "layer", "in", "out", "groups", "input", "output", "MACs", "params")
    cells = []
    for i, r in enumerate(rows, 1):
        layer = r.layer
        kind = layer_kind(layer) + (f" x {r.times}" if r.times != 1 else "")
        stride = getattr(layer, "stride", 1) or getattr(layer, "kernel", 1)
        kind += f", stride {stride}" if stride != 1 else ""
        kind += f" (branch {'.'.join(str(b + 1) for b in r.branch)})" if branched and r.branch else ""
        cells.append((str(i), kind, _math(layer.in_channels), _math(layer.out_channels),
                      _math(getattr(layer, "groups", 1)), _math(r.input_size), _math(r.output_size),
                      _math(r.macs), _math(r.params)))
    macs = canonical(sum(r.macs for r in rows))
    params = canonical(sum(r.params for r in rows))
    plural = "layer" if len(rows) == 1 else "layers"
    return View(f"{type(block).__name__}: {len(rows)} {plural} on an I x I input", (
        Table(header, tuple(cells), caption=f"Layers; costs in {UNITS}"),
        Equations(((r"\text{MACs}", number_latex(macs)), (r"\text{params}", number_latex(params)))),
    ))


@_view_of("convalgebra.networks.NetworkCost")
def _network_cost_view(cost: Any) -> View:
    from .networks import _CONVENTION, _MACS_UNITS, _layer_cells, _map_cell, _stage_cells

    net = cost.network
    macs, params = net.total_symbolic()
    size = cost.size
    blocks: list[Block] = [Paragraph((x,), note=True) for x in (net.paper, net.source) if x]
    blocks.append(Paragraph(("Input ", *_math_cells([_map_cell(net.in_channels, size, math=True)]),
                             f"; costs in {_MACS_UNITS}: {_CONVENTION}.")))
    equations = [(r"\text{MACs}(I)", number_latex(macs))]
    if isinstance(size, int):
        equations.append((rf"\text{{MACs}}({size})", number_latex(cost.macs)))
    equations.append((r"\text{params}", number_latex(params)))
    blocks.append(Paragraph(("Closed form in the input size ", Math("I"), ", exact when ", Math("I"),
                             f" is a multiple of {net.stride}:")))
    blocks.append(Equations(tuple(equations)))
    blocks.append(Table(("stage", "module", "layers", "output", "MACs", "MACs %", "params", "params %"),
                        tuple(_math_cells(_stage_cells(st, math=True, spaced=cost._spaced)) for st in cost.stages), caption="Stages",
                        right=frozenset(range(2, 8))))
    blocks.append(Table(("#", "layer", "kind", "in", "out", "groups", "stride", "output", "MACs", "MACs %",
                         "params", "params %"),
                        tuple(_math_cells(_layer_cells(i, r, math=True, spaced=cost._spaced)) for i, r in enumerate(cost.layers, 1)),
                        caption="Layers", right=frozenset({0, *range(3, 12)})))
    return View(f"{net.name}: {net.title}", tuple(blocks))


def _math_cells(cells: Sequence[str]) -> tuple[Piece, ...]:
    """A summary row's cells, those written ``$...$`` as Math (typeset, not shown as dollars).

    >>> _math_cells(["64", "$I^{2}$"])
    ('64', 'I^{2}')
    """
    return tuple(Math(c[1:-1]) if len(c) > 1 and c[0] == c[-1] == "$" else c for c in cells)


@_view_of("convalgebra.networks.Network")
def _network_view(net: Any) -> View:
    return _network_cost_view(net.count())


@_view_of("convalgebra.sweeps.Sweep")
def _sweep_view(sweep: Any, most: int = 10) -> View:
    names = sweep.names
    rows = tuple(tuple(f"{row[name]:.6g}" for name in names) for row in sweep.rows[:most])
    blocks: list[Block] = [
        Equations(tuple((rf"\text{{{_latex_text(name)}}}", number_latex(expr))
                        for name, expr in sweep.expressions.items())),
        Table(tuple(names), rows, right=frozenset(range(len(names)))),
    ]
    if len(sweep) > most:
        blocks.append(Paragraph((f"{len(sweep) - most:,} more rows of {len(sweep):,}",), note=True))
    return View(f"sweep: {len(sweep):,} points", tuple(blocks))


def _latex_text(text: str) -> str:
    """Text made safe inside ``\\text{...}``: LaTeX's special characters escaped or dropped.

    >>> print(_latex_text("my_block & 50%"))
    my\\_block \\& 50\\%
    """
    text = "".join(" " if char in "\\^~" else char for char in text)
    for char in "{}$&#_%":
        text = text.replace(char, "\\" + char)
    return text
