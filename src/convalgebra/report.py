"""What each result shows, as data: a :class:`View` is a title and a sequence of
paragraphs, tables and equations whose pieces keep their values (numbers, expressions),
so that each renderer of :mod:`convalgebra.render` prints them in its own way.

Every displayable type names its view here (its ``__view__``), and :func:`view` builds it:

>>> v = view(explain("group"))
>>> v.title
'group: group convolution (AlexNet)'
>>> [type(b).__name__ for b in v.blocks][:4]
['Paragraph', 'Paragraph', 'Paragraph', 'Paragraph']
>>> view(42)
Traceback (most recent call last):
...
convalgebra.errors.InvalidValueError: no view of int; the library shows its own results (explain, network, compare ...)

The units sentence, said once for every result:

>>> UNITS
'MACs (multiply-accumulates, what the article and torchvision call FLOPs; 1 MAC = 2 FLOPs)'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from .cost import CONVENTION, TRAFFIC, UNITS
from .errors import InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    from .cost import Cost
    from .design import BreakEven, Budget, Comparison, LargeNLimit
    from .explanation import Explanation
    from .networks import NetworkCost
    from .peers import PeerCounts

__all__ = [
    "Expr", "Code", "Math", "Piece", "Paragraph", "Table", "Equations", "Items", "Block", "View",
    "view",
]

# -- the model ---------------------------------------------------------------------

@dataclass(frozen=True)
class Expr:
    """A value shown in its renderer's notation: an expression (``style="expr"``), a number with
    grouped digits (``"number"``), an exact ratio with its decimal (``"ratio"``), a decimal
    beside an exact irrational or fraction (``"exact"``), or a share as a percent (``"percent"``)."""

    value: Any
    style: str = "expr"


class Code(str):
    """Text shown as code (a rule, a name a user types)."""


@dataclass(frozen=True)
class Math:
    """A formula given in both notations: plain text and LaTeX."""

    text: str
    tex: str


Piece = Union[str, Expr, Code, Math]


@dataclass(frozen=True)
class Paragraph:
    """A line of text, with values, formulas and code in it; ``note`` sets it apart (italics);
    ``tight`` keeps it under the paragraph before (in text, no blank line between)."""

    pieces: tuple[Piece, ...]
    note: bool = False
    tight: bool = False


@dataclass(frozen=True)
class Table:
    """A table: header and rows of cells (each a piece or a tuple of pieces); the columns
    numbered in ``right`` align right (numbers)."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""
    right: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Equations:
    """Formulas aligned at ``=``: each row is (left side, right side), each a tuple of pieces."""

    rows: tuple[tuple[tuple[Piece, ...], tuple[Piece, ...]], ...]
    caption: str = ""


@dataclass(frozen=True)
class Items:
    """Statements one a line (a list), each a tuple of pieces."""

    items: tuple[tuple[Piece, ...], ...]
    caption: str = ""
    tight: bool = True  # in text, right under the paragraph before (no blank line between)


Block = Union[Paragraph, Table, Equations, Items]


@dataclass(frozen=True)
class View:
    """What a result shows: a title and blocks, in order."""

    title: str
    blocks: tuple[Block, ...]


_BUILDERS: dict[str, Callable[[Any], View]] = {}


def _builds(name: str) -> Callable[[Callable[[Any], View]], Callable[[Any], View]]:
    def register(function: Callable[[Any], View]) -> Callable[[Any], View]:
        _BUILDERS[name] = function
        return function

    return register


def view(obj: Any) -> View:
    """The view of a library result: the builder its class names in ``__view__``.

    >>> view(Repeat(Conv(8, 8), 2)).title
    'Repeat: 1 layer, run 2 times, on an I x I input'
    """
    builder = _BUILDERS.get(getattr(type(obj), "__view__", ""))
    if builder is None:
        raise InvalidValueError(f"no view of {type(obj).__name__}; the library shows its own results"
                                " (explain, network, compare ...)")
    shown = builder(obj)
    # how the request was read (a network's name taken for a module, why there are no numbers) comes first
    notes = tuple(Paragraph((f"Note: {caveat}",)) for caveat in getattr(obj, "caveats", ()))
    if not notes:
        return shown
    under = next((i for i, b in enumerate(shown.blocks) if not (isinstance(b, Paragraph) and b.note)), 0)
    return replace(shown, blocks=shown.blocks[:under] + notes + shown.blocks[under:])  # after the paper line


# -- pieces used by several views ------------------------------------------------------

def _name(name: str) -> Math:
    """A module's name as a label in a formula."""
    return Math(name, rf"\text{{{tex_text(name)}}}")


def tex_text(text: str) -> str:
    """Text made safe inside ``\\text{...}``: LaTeX's special characters escaped or dropped.

    >>> print(tex_text("my_block & 50%"))
    my\\_block \\& 50\\%
    """
    text = "".join(" " if char in "\\^~" else char for char in text)
    for char in "{}$&#_%":
        text = text.replace(char, "\\" + char)
    return text


def _values(values: dict[Any, Any], scaled: Optional[dict[Any, Any]] = None) -> tuple[Piece, ...]:
    """``K = 3, M = 256, ...`` as one formula, and the sizes the multipliers make (``so M = 384``)."""
    from .printing import latex, text

    out: list[Piece] = [Math(", ".join(f"{s} = {text(v)}" for s, v in values.items()),
                             ", ".join(f"{latex(s)} = {latex(v)}" for s, v in values.items()))]
    changed = {s: v for s, v in (scaled or {}).items() if v != values.get(s)}
    if changed:
        out += [" (so ", Math(", ".join(f"{s} = {v}" for s, v in changed.items()),
                              ", ".join(f"{latex(s)} = {latex(v)}" for s, v in changed.items())), ")"]
    return tuple(out)


def _symbol(s: Any) -> Expr:
    return Expr(s)


def _cost(cost: "Cost", unit: str = "") -> tuple[Piece, ...]:
    """``<macs> MACs, <params> params`` (or the ratios of the two, ``unit="ratio"``)."""
    if unit == "ratio":
        return (Expr(cost.macs), " (MACs), ", Expr(cost.params), " (params)")
    return (Expr(cost.macs), " MACs, ", Expr(cost.params), " params")


def _saving(ratio: Fraction, what: str, than: str) -> str:
    """What an exact MACs ratio means for a reader: a saving, a cost, or the same.

    >>> _saving(Fraction(17, 144), "bottleneck", "the standard convolution")
    'bottleneck costs 88.19% fewer MACs than the standard convolution (a saving of 88.19%).'
    >>> _saving(Fraction(3, 2), "x", "y")
    'x costs 50.00% more MACs than y (no saving: a ratio above 1).'
    """
    from .printing import percent

    if ratio == 1:
        return f"{what} costs as many MACs as {than}."
    if ratio < 1:
        share = percent(1 - ratio)
        return f"{what} costs {share} fewer MACs than {than} (a saving of {share})."
    return f"{what} costs {percent(ratio - 1)} more MACs than {than} (no saving: a ratio above 1)."


# -- layers and blocks ------------------------------------------------------------------

@_builds("block")
def _block_view(block: Any) -> View:
    """Any layer or block, counted on an I x I input (a linear layer first: on its own input size)."""
    from .blocks import Repeat, iter_layers
    from .cost import count
    from .layers import Linear, layer_kind
    from .simplification import canonical
    from .symbols import I

    first = next(iter_layers(block), None)
    size = first.in_size if isinstance(first, Linear) else I
    rows = count(block, size)
    branched = any(r.branch for r in rows)
    cells = []
    for i, r in enumerate(rows, 1):
        layer = r.layer
        kind = layer_kind(layer)
        stride = getattr(layer, "stride", 1) or 1
        kind += f", stride {stride}" if stride != 1 else ""
        kind += f" (branch {'.'.join(str(b + 1) for b in r.branch)})" if branched and r.branch else ""
        cells.append((str(i), kind, Expr(layer.in_channels), Expr(layer.out_channels),
                      Expr(getattr(layer, "groups", 1)), Expr(r.times), Expr(r.input_size), Expr(r.output_size),
                      Expr(r.macs, "number"), Expr(r.params, "number")))
    macs = canonical(sum(r.macs for r in rows))
    params = canonical(sum(r.params for r in rows))
    plural = "layer" if len(rows) == 1 else "layers"
    runs = f", run {block.count} times," if isinstance(block, Repeat) else ""
    where = "on an I x I input" if size is I else f"on a {size} x {size} input"
    return View(f"{type(block).__name__}: {len(rows)} {plural}{runs} {where}", (
        Paragraph((Code(repr(block)),)),
        Table(("#", "layer", "in", "out", "groups", "runs", "input", "output", "MACs", "params"), tuple(cells),
              caption=f"Layers; costs in {UNITS}", right=frozenset({0, 8, 9})),
        Equations(((("MACs",), (Expr(macs, "number"),)), (("params",), (Expr(params, "number"),))),
                  caption="Total"),
    ))


@_builds("cost")
def _cost_view(cost: "Cost") -> View:
    """A Cost's two fields: MACs and params (or their ratios, when the Cost is a ratio)."""
    return View("Cost", (Equations(((("MACs",), (Expr(cost.macs, "number"),)),
                                    (("params",), (Expr(cost.params, "number"),))), caption=f"in {UNITS}"),))


# -- explain ---------------------------------------------------------------------------

@_builds("explanation")
def _explanation_view(e: "Explanation") -> View:
    m = e.module
    blocks: list[Block] = []
    if m.paper:
        blocks.append(Paragraph((str(m.paper),), note=True))
    if m.summary:
        blocks.append(Paragraph((m.summary,)))
    numbers, shown_note = e.shown_numbers()
    if m.parameters:
        blocks.append(_parameters(e, numbers.values if numbers is not None else e.given))
    blocks.append(Paragraph(("Rewrite rule: ", Code(repr(m.rule))), tight=bool(m.parameters)))
    if m.article:
        blocks.append(Paragraph(("The article's rewrite: ", Code(m.article)), tight=True))
    if m.activations:  # no MACs, so not in the layers below; where they sit is part of the design
        blocks.append(Paragraph(("Activations (no MACs, so not among the layers below): " + m.activations,)))
    blocks.append(Table(
        ("#", "layer", "kernel", "in", "out", "groups", "MACs", "params"),
        tuple((str(i), _layer_words(r), _kernel(getattr(r.layer, "kernel", None)),
               Expr(r.layer.in_channels), Expr(r.layer.out_channels), Expr(getattr(r.layer, "groups", 1)),
               Expr(r.macs), Expr(r.params)) for i, r in enumerate(e.layers, 1)),
        caption=f"Layers (stride 1, SAME padding: an I x I input gives an F x F output, F = I); costs in {UNITS}"))
    blocks.append(Equations((
        (("standard convolution",), _cost(e.baseline)),
        ((m.name,), _cost(e.rewritten)),
    ), caption="Cost, in MACs, and parameters"))
    blocks.append(_ratios(m.name, (
        ("MACs", "", e.ratio.macs, "MACs"), ("params", "", e.ratio.params, "params"),
        ("MACs at M = N", "M = N", e.ratio_equal_channels.macs, "MACs"),
        ("params at M = N", "M = N", e.ratio_equal_channels.params, "params"),
        ("MACs at M = N, N -> oo", "N -> oo", e.limit_large_N, "MACs")),
        f"Cost ratio, {m.name} / standard convolution (below 1 is a saving; M = N is the article's shorthand)"))
    if e.break_even:
        blocks.append(_break_even(e.break_even))
    if numbers is not None:
        blocks += _numbers(m.name, numbers, shown_note)
    if e.memory is not None:
        blocks += _memory_blocks(e)
    title = f"{m.name}: {m.title}" + (f" ({m.network})" if m.network else "")
    return View(title, tuple(blocks))


def _parameters(e: "Explanation", shown: dict[Any, Any]) -> Paragraph:
    """The module's parameters, each at the value shown, said when it is not the default."""
    from .printing import text
    from .symbols import DESCRIPTIONS

    pieces: list[Piece] = ["Parameters: "]
    for i, (s, d) in enumerate(e.module.parameters.items()):
        v = shown.get(s, d)
        pieces += [", "] * bool(i) + [Math(f"{s} = {'?' if v is None else text(v)}",
                                           f"{_tex(s)} = {'?' if v is None else _tex(v)}")]
        if v is None:
            pieces.append(" (no default)")
        elif v != d:
            pieces += [" as set (default ", Expr(d, "number"), f"; {DESCRIPTIONS.get(s, '')})"]
        else:
            pieces.append(f" ({DESCRIPTIONS.get(s, '')})")
    return Paragraph(tuple(pieces))


def _ratios(name: str, rows: Sequence[tuple[str, str, Any, str]], caption: str) -> Equations:
    """Ratios ``name`` / standard, each (label, where: '' or 'M = N' or 'N -> oo', value, unit)."""
    ratio = rf"\frac{{{_name(name).tex}}}{{\text{{standard}}}}"
    tex = {"": ratio, "M = N": rf"\left.{ratio}\right|_{{M=N}}",
           "N -> oo": rf"\lim_{{N \to \infty}} \left.{ratio}\right|_{{M=N}}"}
    return Equations(tuple(((Math(label, tex[where]),), (Expr(value), Math("", rf"\ (\text{{{unit}}})")))
                           for label, where, value, unit in rows), caption=caption)


def _break_even(points: dict[Any, Any]) -> Paragraph:
    """Where each parameter makes the module cost as many MACs as the standard convolution."""
    from .printing import text
    from .solving import point_note

    pieces: list[Piece] = ["Break-even, as many MACs as the standard convolution, at "]
    for i, (s, v) in enumerate(points.items()):
        note = point_note(s, v)
        pieces += ["; "] * bool(i) + [Math(f"{s} = {text(v)}", f"{_tex(s)} = {_tex(v)}")] + [f" ({note})"] * bool(note)
    return Paragraph(tuple(pieces + ["."]))


def _numbers(name: str, numbers: Any, shown_note: str) -> list[Block]:
    """The exact costs at the values shown: MACs, FLOPs and params of both, their ratio, the saving."""
    r = numbers.ratio
    return [
        Paragraph(("At ", *_values(numbers.values, _scaled(numbers.values)), shown_note + ":")),
        Table(("", "MACs", "FLOPs (2 x MACs)", "params"), tuple(
            (label, Expr(cost.macs, "number"), Expr(2 * cost.macs, "number"), Expr(cost.params, "number"))
            for label, cost in (("standard convolution", numbers.baseline), (name, numbers.rewritten))) + (
            ("ratio", Expr(r.macs, "ratio"), Expr(r.macs, "ratio"), Expr(r.params, "ratio")),), right=frozenset({1, 2, 3})),
        Paragraph((_saving(r.macs, f"Here {name}", "the standard convolution"),)),
    ]


#: What memory traffic counts, said once for every result that shows it.



def _memory_blocks(e: "Explanation") -> list[Block]:
    """explain's memory section: traffic closed forms, its ratio beside the MACs ratio, the numbers."""
    from .memory import dtype_bytes, intensity

    mem, m = e.memory, e.module
    assert mem is not None
    out: list[Block] = [
        Paragraph((f"Counted: {TRAFFIC}.",)),
        Equations((
            (("standard convolution",), (Expr(mem.baseline), " elements")),
            ((m.name,), (Expr(mem.rewritten), " elements")),
        ), caption="Memory traffic, in elements"),
        _ratios(m.name, (
            ("MACs", "", e.ratio.macs, "MACs"), ("traffic", "", mem.ratio, "elements"),
            ("MACs at M = N", "M = N", e.ratio_equal_channels.macs, "MACs"),
            ("traffic at M = N", "M = N", mem.ratio_equal_channels, "elements")),
            f"Memory traffic ratio beside the MACs ratio, {m.name} / standard convolution"),
    ]
    if mem.at is not None and mem.macs_at is not None and mem.values is not None:
        size = dtype_bytes(mem.dtype)
        rows: list[tuple[Any, ...]] = []
        for label, moved, macs in (("standard convolution", mem.at[0], mem.macs_at[0]),
                                   (m.name, mem.at[1], mem.macs_at[1])):
            rows.append((label, Expr(macs, "number"), Expr(moved.elements, "number"),
                         Expr(moved.bytes(mem.dtype), "number"), Expr(intensity(macs, moved.bytes(mem.dtype)), "exact")))
        macs_ratio = Fraction(mem.macs_at[1], mem.macs_at[0])
        traffic_ratio = mem.ratio_at
        rows.append(("ratio", Expr(macs_ratio, "ratio"), Expr(traffic_ratio, "ratio"), Expr(traffic_ratio, "ratio"), "-"))
        out.append(Table(("", "MACs", "traffic (elements)", f"traffic (bytes, {mem.dtype}: {size} per element)",
                          "intensity (FLOPs per byte)"), tuple(rows),
                         caption="Memory traffic at the values above", right=frozenset({1, 2, 3, 4})))
        if macs_ratio and traffic_ratio:
            out.append(Paragraph((f"MACs: {_change(macs_ratio)}; memory traffic: {_change(traffic_ratio)}.",)))
    if mem.peak is not None:
        out.append(Equations((
            (("standard convolution",), (Expr(mem.peak[0]), " elements")),
            ((m.name,), (Expr(mem.peak[1]), " elements")),
        ), caption="Peak activation memory, in elements (the most tensors alive at once; inside attention the"
                   " queries, keys and values, the n x n scores of every head and the softmax's output are alive"
                   " together)"))
        if mem.peak_at is not None:
            out.append(Paragraph(("At the values above: ", Expr(mem.peak_at[0], "number"), " elements for the standard"
                                  f" convolution, ", Expr(mem.peak_at[1], "number"), f" for {m.name}.")))
    return out


def _change(ratio: Fraction) -> str:
    """A ratio after / before as a reader reads it.

    >>> _change(Fraction(261, 1000)), _change(Fraction(17, 8)), _change(Fraction(1))
    ('3.83 times fewer', '2.12 times more', 'as many')
    """
    if ratio == 1:
        return "as many"
    return f"{float(1 / ratio):.3g} times fewer" if ratio < 1 else f"{float(ratio):.3g} times more"


@_builds("module")
def _module_view(m: Any) -> View:
    from .explanation import explain

    return _explanation_view(explain(m))


def _layer_words(row: Any) -> str:
    """A module's layer in a course's words, with its repeats and branch."""
    from .layers import layer_role
    from .printing import text

    times = "" if row.times == 1 else f" x {text(row.times)}"
    branch = f", branch {row.branch[-1] + 1}" if row.branch else ""  # side by side, outputs concatenated
    return layer_role(row.layer) + times + branch


def _kernel(kernel: Optional[tuple[Any, Any]]) -> Math:
    """A convolution's kernel, ``KhxKw`` (``-`` for a layer without one)."""
    from .printing import latex, text

    if kernel is None:
        return Math("-", "-")

    def side(x: Any) -> str:
        shown = text(x)
        return shown if getattr(x, "is_Atom", True) else f"({shown})"

    return Math("x".join(side(x) for x in kernel), r" \times ".join(latex(x) for x in kernel))


def _tex(value: Any) -> str:
    from .printing import number_latex

    return number_latex(value)


def _scaled(values: dict[Any, Any]) -> dict[Any, Any]:
    from .explanation import scale

    return scale(values)


# -- networks --------------------------------------------------------------------------

@_builds("network")
def _network_view(net: Any) -> View:
    return _network_cost_view(net.count())


@_builds("network_cost")
def _network_cost_view(cost: "NetworkCost") -> View:
    from .layers import Uncounted, is_concrete, layer_kind, sides
    from .printing import text

    net = cost.network
    size = cost.size
    blocks: list[Block] = [Paragraph((x,), note=True) for x in (net.paper, net.source) if x]
    blocks.append(Paragraph(("Input: ", _map(net.in_channels, size, spaced=True), f". Costs in {UNITS}: {CONVENTION}.")))
    if not (is_concrete(cost.batch) and cost.batch == 1):
        blocks.append(Paragraph(("Batch: ", Expr(cost.batch), " images (the model's batch dimension): each layer's MACs"
                                 " are for the whole batch, its parameters once.",)))
    spaced = not all(map(is_concrete, sides(size)))
    blocks.append(Table(
        ("#", "layer", "kind", "in", "out", "groups", "stride", "output", "MACs", "MACs %", "params", "params %"),
        tuple((str(i), r.name + (" (unused)" if r.unused else ""), layer_kind(r.layer), Expr(r.layer.in_channels),
               Expr(r.layer.out_channels),
               Expr(getattr(r.layer, "groups", 1)), str(getattr(r.layer, "stride", 1)),
               _shape(r.layer) or _map(r.layer.out_channels, r.output_size, spaced),
               "(not counted)" if isinstance(r.layer, Uncounted) else Expr(r.macs, "number") if r.runs else "(not run)",
               Expr(r.macs_share, "percent"),
               Expr(r.params, "number"), Expr(r.params_share, "percent"))
              for i, r in enumerate(cost.layers, 1)),
        caption="Layers", right=frozenset({0, *range(3, 12)})))
    blocks.append(Table(
        ("stage", "module", "layers", "output", "MACs", "MACs %", "params", "params %"),
        tuple((s.name + ("" if s.runs else " (side)"), s.module or "-", str(s.layers),
               _map(s.output_channels, s.output_size, spaced), Expr(s.macs, "number"), Expr(s.macs_share, "percent"),
               Expr(s.params, "number"), Expr(s.params_share, "percent")) for s in cost.stages),
        caption="Stages", right=frozenset(range(2, 8))))
    blocks.append(_network_totals(cost))
    if cost.uncounted:
        blocks.append(Paragraph((f"Not counted: {len(cost.uncounted)} operation(s) the library does not know, their MACs"
                                 " missing from the totals: "
                                 + "; ".join(f"{r.name} ({getattr(r.layer, 'op')})" for r in cost.uncounted) + ".",)))
    if net.imported:
        blocks += _imported_notes(cost)
    if any(not s.runs for s in cost.stages):
        blocks.append(Paragraph(("Side stages do not run at inference: their parameters count, their MACs do not.",),
                                note=True))
    if net.imported:  # each block named by the module it is; its closed form is the count at (H, W)
        from .recognition import recognize_network

        found, summary = recognize_network(net)
        if found:
            blocks.append(Table(("block", "module"), tuple((name, r.text if r else "none of the modules")
                                                           for name, r in found),
                                caption="Blocks, recognized as the modules (matched against their rules)"))
        blocks.append(Paragraph(("Modules: " + summary,)))
    elif not spaced and isinstance(size, tuple):  # a count at a number stays free of sympy; the closed form is one call away
        blocks.append(Paragraph((f"The closed form in H and W, exact when H and W are multiples of {net.stride}: ",
                                 Code(f"convalgebra network {net.name} --symbolic HW"), ", or ",
                                 Code(f"network({net.name!r}).count((H, W))"), " in Python."),
                                note=True))
    elif not spaced:
        blocks.append(Paragraph((f"The closed form in the input size I, exact when I is a multiple of {net.stride}: ",
                                 Code(f"convalgebra network {net.name} --symbolic"), ", or ",
                                 Code(f"network({net.name!r}).count(I)"), " in Python."),
                                note=True))
    elif size != _I() and not (isinstance(size, tuple) and all(map(_is_symbol, size))):
        macs, params = net.total_symbolic()
        blocks.append(Equations(((("MACs(I)",), (Expr(macs),)), (("params",), (Expr(params, "number"),))),
                                caption=f"Closed form in the input size I, exact when I is a multiple of {net.stride}"))
    return View(f"{net.name}: {net.title}", tuple(blocks))


def _imported_notes(cost: Any) -> list[Block]:
    """What an imported model's count holds beyond layers: values computed and unused, its
    several outputs, operations counted at the traced size only, a path taken by torch.export."""
    from .layers import Traced

    net, notes = cost.network, []
    unused = [r.name for r in cost.layers if r.unused]
    if unused:
        notes.append(f"Unused: {len(unused)} layer(s) torch runs whose values no output reads, counted: "
                     + ", ".join(unused[:8]) + (", ..." if len(unused) > 8 else "") + ".")
    if len(net.outputs) > 1:
        notes.append(f"Outputs: {len(net.outputs)} values, all counted: " + ", ".join(net.outputs) + ".")
    traced = [r.name for r in cost.layers if isinstance(r.layer, Traced)]
    if net.domain:
        notes.append(f"Exported by torch.export at {net.domain} (the forward has Python control flow): the count holds"
                     " at that size only.")
    elif traced:
        notes.append(f"Counted as PyTorch counts them at the traced size only: {len(traced)} operation(s) with no size"
                     " rule here (" + ", ".join(traced[:4]) + (", ..." if len(traced) > 4 else "")
                     + "); the network counts at that size only, with no closed form in H and W.")
    return [Paragraph((text,), note=True) for text in notes]


def _I() -> Any:
    from .symbols import I

    return I


def _is_symbol(side: Any) -> bool:
    """A side that is a symbol itself (H of H x W): the count is already the closed form."""
    return bool(getattr(side, "is_Symbol", False))


@_builds("peer_counts")
def _peer_counts_view(counts: "PeerCounts") -> View:
    """The library's count beside what each other counter reports, part by part, and why."""
    from .layers import sides
    from .peers import PARTS

    cost = counts.cost
    net = cost.network
    height, width = sides(cost.size)
    blocks: list[Block] = [Paragraph((
        f"On a 1 x {net.in_channels} x {height} x {width} input, convalgebra counts ", Expr(cost.macs, "number"),
        f" MACs ({CONVENTION}), that is ", Expr(cost.flops, "number"), " FLOPs, and ", Expr(cost.params, "number"),
        " params. Each counter below puts a cost on other things too, or on some of them twice:"))]
    shown = tuple(p for p in PARTS if p != "attention" or any(dict(peer.parts).get(p) for peer in counts.peers))
    mine = ((Expr(cost.macs - counts.products, "number"), Expr(counts.products, "number"))
            if "attention" in shown else (Expr(cost.macs, "number"),))
    rows: list[tuple[Any, ...]] = [("convalgebra", "MACs", Expr(cost.macs, "number"), Expr(cost.params, "number"),
                                    *mine, *("-" for _ in shown[len(mine):]))]
    for peer in counts.peers:
        parts = dict(peer.parts)
        params = "-" if peer.params is None else Expr(peer.params, "number")
        if peer.total is None:
            rows.append((peer.tool, peer.unit, "not known", "not known" if peer.key == "thop" else params,
                         *("-" for _ in shown)))
            continue
        rows.append((peer.tool, peer.unit, Expr(peer.total, "number"), params,
                     *(Expr(parts[p], "number") if parts.get(p) else "-" for p in shown)))
    blocks.append(Table(("counter", "unit", "reports", "params", *shown), tuple(rows),
                        caption=f"{net.name} at {height} x {width}: each counter's total, by what it counts",
                        right=frozenset(range(2, 4 + len(shown)))))
    blocks.append(Items(tuple((f"{peer.tool} finds what to count by {peer.finds}; it counts {peer.why}"
                               + (f". Not known here: the model {peer.unknown}" if peer.unknown else "") + ".",)
                              for peer in counts.peers), caption="Why"))
    return View(f"{net.name}: what other counters report", tuple(blocks))


def _network_totals(cost: "NetworkCost") -> Items:
    """The totals, each with its unit: exact integers and a scaled form at a number, the closed
    forms at a symbolic size, and where those are exact."""
    from .layers import is_concrete, sides
    from .printing import scaled, text

    size = cost.size
    if not isinstance(size, tuple) and is_concrete(size):
        caption = f"Total at I = {size}"
    elif isinstance(size, tuple) and all(map(is_concrete, size)):
        caption = f"Total at H x W = {size[0]} x {size[1]}"
    else:
        free = " and ".join(sorted({str(x) for side in sides(size) for x in getattr(side, "free_symbols", ())}))
        when = cost.exact_when()
        exact = (f"exact when {when}" if when is not None else
                 "exact only where every strided layer divides its input evenly; count at a number to be sure")
        shown = " x ".join(text(side) for side in sides(size)) if isinstance(size, tuple) else text(size)
        caption = (f"Total as a function of I ({exact})" if size == _I() else
                   f"Total at input size {shown}, as a function of {free} ({exact})")
    items: list[tuple[Piece, ...]] = []
    for unit, note, value in (("MACs", " (multiply-accumulates)", cost.macs), ("FLOPs", " (2 FLOPs per MAC)", cost.flops),
                              ("params", "", cost.params)):
        if isinstance(value, int):
            shown = scaled(value, unit)
            items.append((Expr(value, "number"), f" {unit}" + (f" = {shown}" if shown else "") + note))
        else:
            items.append((f"{unit} = ", Expr(value), note))
    return Items(tuple(items), caption=caption)


def _shape(layer: Any) -> Optional[Math]:
    """The output shape torch gave an operation counted at the traced size (tokens are no map)."""
    shape = getattr(layer, "shape", ())
    if not shape:
        return None
    return Math("x".join(map(str, shape)), " \\times ".join(map(str, shape)))


def _map(channels: Any, size: Any, spaced: bool = False) -> Math:
    """A feature map, channels x height x width; a side that is a sum is bracketed.

    >>> from convalgebra.symbols import I
    >>> _map(64, 56), _map(128, I / 4 + 1).text, _map(64, (56, 40)).text
    (Math(text='64x56x56', tex='64 \\\\times 56 \\\\times 56'), '128 x (I/4 + 1) x (I/4 + 1)', '64x56x40')
    """
    from .layers import is_concrete, sides
    from .printing import latex, text

    if size is None:
        return Math("-", "-")
    height, width = sides(size)
    tex = rf"{latex(channels)} \times " + r" \times ".join(
        rf"\left({latex(x)}\right)" if getattr(x, "is_Add", False) else latex(x) for x in (height, width))
    if is_concrete(channels) and is_concrete(height) and is_concrete(width) and not spaced:
        return Math(f"{channels}x{height}x{width}", tex)
    shown = [f"({text(x)})" if " " in text(x) else text(x) for x in (height, width)]
    return Math(f"{text(channels)} x {shown[0]} x {shown[1]}", tex)


# -- design questions ------------------------------------------------------------------

def _title(mod: Any) -> str:
    return f"{mod.name}: {mod.title}" + (f" ({mod.network})" if mod.network else "")


def _condition(condition: Any) -> Piece:
    """A condition on the sizes (a sympy Boolean) as a formula, or 'always' / 'never'."""
    import sympy

    from .design import condition_text
    from .printing import latex

    if condition in (sympy.true, sympy.false):
        return condition_text(condition)
    return Math(condition_text(condition), condition_text(condition, latex))


def _at(value: Any) -> Expr:
    """A value at given sizes: an exact ratio with its decimal, or an expression."""
    return Expr(value, "ratio" if isinstance(value, Fraction) else "exact")


def _when(condition: Any) -> tuple[Piece, ...]:
    """``: always``, ``: never``, or `` when <condition>``."""
    piece = _condition(condition)
    return (": ", piece) if isinstance(piece, str) else (" when ", piece)


@_builds("comparison")
def _comparison_view(c: "Comparison") -> View:
    from .design import notes_text

    a, b = _name(c.a.name), _name(c.b.name)
    ratio = Math("A / B", rf"\frac{{{a.tex}}}{{{b.tex}}}")
    equal = Math("A / B at M = N", rf"\left.{ratio.tex}\right|_{{M=N}}")
    blocks: list[Block] = []
    if c.same_module:
        blocks.append(Paragraph((f"A and B are the same module, {c.a.name}"
                                 + (" with the same parameters" if c.notes_a == c.notes_b else "")
                                 + ": the comparison is of a module with itself.",), note=True))
    blocks += [
        Paragraph(("A = ", Code(_title(c.a)), f"; {notes_text(c.notes_a)}")),
        Paragraph(("B = ", Code(_title(c.b)), f"; {notes_text(c.notes_b)}"), tight=True),
        Equations((((Math("A", a.tex),), _cost(c.cost_a)), ((Math("B", b.tex),), _cost(c.cost_b))),
                  caption=f"Costs in {UNITS}"),
        Equations((((ratio,), _cost(c.ratio, "ratio")), ((equal,), _cost(c.ratio_equal_channels, "ratio"))),
                  caption="Ratio A / B"),
        Paragraph(("A costs fewer MACs than B", *_when(c.condition), "; with M = N", *_when(c.condition_equal_channels),
                   ".")),
    ]
    if c.at_ratio is not None:
        blocks.append(Paragraph(("At ", *_values(c.given, _scaled(c.given)), c.example_note + ":")))
        if c.numbers is not None:
            na, nb = c.numbers
            blocks.append(Table(("", "MACs", "params"), (
                ("A " + c.a.name, Expr(na.rewritten.macs, "number"), Expr(na.rewritten.params, "number")),
                ("B " + c.b.name, Expr(nb.rewritten.macs, "number"), Expr(nb.rewritten.params, "number"))),
                right=frozenset({1, 2})))
        blocks.append(Paragraph(("ratio A / B: MACs ", _at(c.at_ratio.macs), ", params ", _at(c.at_ratio.params))))
        if c.at_condition is not None:
            verdict = c.verdict()
            blocks.append(Paragraph(("A costs fewer MACs than B: ", verdict if isinstance(verdict, str) else "when ",
                                     *(() if isinstance(verdict, str) else (_condition(verdict),)), ".")))
            if c.numbers is not None:
                blocks.append(Paragraph((_saving(Fraction(na.rewritten.macs, nb.rewritten.macs), "Here A", "B"),),
                                        tight=True))
    return View(f"compare {c.a.name} / {c.b.name}", tuple(blocks))


@_builds("budget")
def _budget_view(b: "Budget") -> View:
    from .design import N_PRIME, notes_text
    from .printing import grouped

    m = b.module
    blocks: list[Block] = [Equations((((Expr(b.rewritten),), (Expr(b.baseline),)), ((Expr(N_PRIME),), (Expr(b.N),))))]
    if b.value is not None:
        notes = notes_text(b.notes, defaults_only=True)
        blocks.append(Paragraph(("At ", *_values(b.given, _scaled(b.given)),
                                 b.example_note + (f"; {notes}" if notes else "") + ":")))
        if not b.fits:
            items: list[tuple[Piece, ...]] = [(Math("N' = ", "N' = "), Expr(b.value), ": no kernels fit; the module costs"
                                               " more than the standard convolution whatever its N'")]
        else:
            items = [(Math("N' = ", "N' = "), Expr(b.value, "exact"),
                      "" if b.whole else f", not whole: {grouped(b.floor or 0)} kernels fit")]
            if b.usable_note is not None:
                items.append((b.usable_note,))
        blocks.append(Items(tuple(items)))
    return View(f"budget {m.name}: how many kernels N' {m.title} affords for the MACs of the standard"
                " convolution with N kernels", tuple(blocks))


@_builds("break_even")
def _break_even_view(be: "BreakEven") -> View:
    from .design import in_range, range_text
    from .solving import point_note
    from .symbols import K

    m = be.module
    rows: list[tuple[tuple[Piece, ...], tuple[Piece, ...]]] = [(("ratio",), (Expr(be.ratio), " = 1"))]
    for s, v in be.points.items():
        note = point_note(s, v)
        rows.append(((Expr(s),), (Expr(v),) + ((f" ({note})",) if note else ())))
    blocks: list[Block] = [Equations(tuple(rows))]
    if not be.points:
        blocks.append(Paragraph(("No parameter to solve for: "
                                 + ("the module has none." if not m.parameters else "no positive root."),)))
    if be.given:
        blocks.append(Paragraph(("At ", *_values(be.given, _scaled(be.given)), be.example_note + ":")))
        items: list[tuple[Piece, ...]] = []
        for s in be.points:
            v = be.values.get(s)
            if v is None:
                pieces: tuple[Piece, ...] = (Expr(s), f": none; {s} does not change the cost here")
            else:
                pieces = (Expr(s), " = ", Expr(v, "exact"))
                if not in_range(s, v, be.given.get(K)):
                    pieces += (f" (outside {range_text(s)}: no {s} breaks even)",)
            if s in be.notes:
                pieces += (f" ({be.notes[s]})",)
            items.append(pieces)
        blocks.append(Items(tuple(items)))
    return View(f"break-even {m.name}: where {m.title} costs as many MACs as the standard convolution",
                tuple(blocks))


@_builds("large_N_limit")
def _limit_view(lim: "LargeNLimit") -> View:
    m = lim.module
    arrow = Math(" -> ", r" \to ")
    blocks: list[Block] = [Equations((
        (("MACs",), (Expr(lim.ratio_equal_channels.macs), arrow, Expr(lim.macs))),
        (("params",), (Expr(lim.ratio_equal_channels.params), arrow, Expr(lim.params))),
    ), caption="The ratio at M = N, as N grows without bound")]
    if lim.value is not None:
        blocks.append(Paragraph(("At ", *_values(lim.given, _scaled(lim.given)),
                                 lim.example_note + ": the MACs ratio tends to ",
                                 Expr(lim.value.macs, "exact"), ", the params ratio to ", Expr(lim.value.params, "exact"),
                                 ".")))
    return View(f"limit {m.name}: the savings ratio with M = N as N grows without bound", tuple(blocks))


# -- sweeps ----------------------------------------------------------------------------

@_builds("sweep")
def _sweep_view(sweep: Any, most: int = 10) -> View:
    names = sweep.names
    rows = tuple(tuple(f"{row[name]:.6g}" for name in names) for row in sweep.rows[:most])
    blocks: list[Block] = [
        Equations(tuple(((name,), (Expr(expr),)) for name, expr in sweep.expressions.items())),
        Table(tuple(names), rows, right=frozenset(range(len(names)))),
    ]
    if len(sweep) > most:
        blocks.append(Paragraph((f"{len(sweep) - most:,} more rows of {len(sweep):,}",), note=True))
    return View(f"sweep: {len(sweep):,} points", tuple(blocks))


# -- memory traffic: a network's, a guideline's derivation, a roofline ------------------

@_builds("derivation")
def _derivation_view(d: Any) -> View:
    """A guideline's steps, each a statement and the equation sympy gave."""
    rows = tuple(((Expr(left),), (Expr(right), f"   ({words})")) for words, left, right in d.steps)
    heading = f"ShuffleNet V2's {d.name}" if d.name in ("G1", "G2") else d.name
    return View(f"{heading}: {d.claim}", (
        Paragraph((f"Counted: {TRAFFIC}; B is the layer's MACs held fixed.",), note=True),
        Equations(rows, caption="Derived step by step (sympy)"),
    ))


@_builds("network_memory")
def _network_memory_view(m: Any) -> View:
    """A network's traffic per step, in total, and its peak activation memory."""
    from .layers import is_concrete

    cells = tuple((str(i), r.name, r.op, Expr(r.macs, "number"), Expr(r.traffic.elements, "number"),
                   Expr(r.traffic.elements * _bytes(m.dtype), "number"))
                  for i, r in enumerate(m.rows, 1))
    where = f"I = {m.size}" if is_concrete(m.size) else f"input {m.size}"
    return View(f"{m.network.name}: memory traffic at {where}, {m.dtype}", (
        Paragraph((f"Counted: {TRAFFIC}. Costs in {UNITS}.",), note=True),
        Table(("#", "step", "kind", "MACs", "traffic (elements)", f"traffic (bytes, {m.dtype})"), cells,
              caption="Steps", right=frozenset({0, 3, 4, 5})),
        Items(((Expr(m.macs, "number"), " MACs"), (Expr(m.elements, "number"), " elements moved"),
               (Expr(m.bytes, "number"), f" bytes moved ({m.dtype})"),
               (Expr(m.intensity, "exact"), " FLOPs per byte"),
               (Expr(m.peak, "number"), " elements of peak activation memory (the most tensors alive at once)"),
               (Expr(m.peak_bytes, "number"), f" bytes of peak activation memory ({m.dtype})")),
              caption="Total"),
    ))


def _bytes(dtype: str) -> int:
    from .memory import dtype_bytes

    return dtype_bytes(dtype)


@_builds("roofline")
def _roofline_view(r: Any) -> View:
    """A network's steps on a device's roofline: intensity, bound, time; the total beside MACs alone."""
    dev = r.device
    cells = tuple((str(i), x.name, x.op, Expr(x.flops, "number"), Expr(x.bytes, "number"),
                   f"{float(x.intensity):.4g}", x.bound, f"{float(x.time) * 1e6:.4g}")
                  for i, x in enumerate(r.rows, 1))
    return View(f"{r.network.name} on {dev.title or dev.name}, {r.dtype}, at I = {r.size}: the roofline", (
        Paragraph((dev.source,), note=True),
        Paragraph(("Ridge point: ", Expr(dev.ridge(r.dtype), "exact"), " FLOPs per byte (peak ",
                   Expr(dev.peak_for(r.dtype), "number"), " FLOPs/s over ", Expr(dev.bandwidth, "number"),
                   " bytes/s). Each step takes max(FLOPs / peak, bytes / bandwidth).")),
        Table(("#", "step", "kind", "FLOPs", "bytes", "FLOPs per byte", "bound", "time (us)"), cells,
              caption=f"Steps (FLOPs = 2 x MACs; bytes: {TRAFFIC})", right=frozenset({0, 3, 4, 5, 7})),
        Items(((f"{float(r.time) * 1e3:.4g} ms estimated (the sum of the steps' times)",),
               (f"{float(r.macs_time) * 1e3:.4g} ms from MACs alone (all FLOPs at peak)",),
               (f"{r.memory_bound} of {len(r.rows)} steps memory-bound",)), caption="Total"),
    ))


#: How a training step's backward is counted.
BACKWARD = ("backward: each convolution's and linear layer's input gradient and weight gradient take the forward's"
            " MACs; the input gradient is skipped where no layer before it trains (the first layer's always), the"
            " weight gradient where the layer is frozen; norms, activations, pooling and sums take none")


@_builds("training")
def _training_view(t: Any) -> View:
    """A training step: per layer the forward beside its input and weight gradients, per stage,
    the totals and the rule of thumb derived (total = (3 - epsilon) x forward)."""
    from .layers import Uncounted, is_concrete, layer_kind, sides
    from .printing import text

    net = t.network
    height, width = sides(t.size)
    batch = text(t.batch) if not isinstance(t.batch, int) else str(t.batch)
    blocks: list[Block] = [Paragraph((x,), note=True) for x in (net.paper, net.source) if x]
    blocks.append(Paragraph((f"Input: a batch of {batch} x {net.in_channels} x {text(height)} x {text(width)}."
                             f" Costs in {UNITS}: {CONVENTION}; {BACKWARD}.",)))
    if t.freeze:
        frozen = [r for r in t.layers if not r.trainable and not _zero(r.params)]
        blocks.append(Paragraph((f"Frozen: {', '.join(t.freeze)} ({len(frozen)} layers with parameters, ",
                                 Expr(t.params - t.trainable_params, "number"), " params); ",
                                 Expr(t.trainable_params, "number"), " params train.")))

    def cell(row: Any, value: Any, skipped: bool) -> Piece:
        if isinstance(row.layer, Uncounted):
            return "(not counted)"
        return "(skipped)" if skipped else Expr(value, "number")

    shown = tuple(r for r in t.layers if not (_zero(r.forward) and _zero(r.params) and _zero(t.kept(r))))
    blocks.append(Table(
        ("#", "layer", "kind", "trains", "forward", "input gradient", "weight gradient", "backward", "saved (bytes)"),
        tuple((str(i), r.name, layer_kind(r.layer), "yes" if r.trainable else "no" if not _zero(r.params) else "-",
               cell(r, r.forward, False), cell(r, r.input_gradient, _multiplies(r) and not r.input_needs_gradient),
               cell(r, r.weight_gradient, _multiplies(r) and not r.trainable), cell(r, r.backward, False),
               Expr(t.kept(r), "number"))
              for i, r in enumerate(shown, 1)),
        caption="Layers with MACs, parameters or tensors kept for the backward (the others have none)",
        right=frozenset({0, 4, 5, 6, 7, 8})))
    blocks.append(Table(
        ("stage", "forward", "backward", "total", "params", "trainable"),
        tuple((s.name + (" (side)" if s.side else ""), Expr(s.forward, "number"), Expr(s.backward, "number"),
               Expr(s.total, "number"), Expr(s.params, "number"), Expr(s.trainable_params, "number"))
              for s in t.stages),
        caption="Stages", right=frozenset(range(1, 6))))
    concrete = is_concrete(t.total)
    items: list[tuple[Piece, ...]] = []
    for words, value in (("forward", t.forward), ("backward", t.backward), ("training step (forward + backward)", t.total),
                         ("FLOPs of the step (2 per MAC)", t.flops)):
        items.append((Expr(value, "number"), f" MACs: {words}") if concrete and "FLOPs" not in words else
                     (Expr(value, "number"), f" {words}") if concrete else (f"{words} = ", Expr(value)))
    blocks.append(Items(tuple(items), caption=f"Total, batch {batch}" + ("" if concrete else
                                                                          f" ({_exact_words(t)})")))
    style = "ratio" if is_concrete(t.epsilon) else "expr"
    blocks.append(Equations((
        (("training / forward",), (Expr(t.ratio, style), "   (3 - epsilon)")),
        (("epsilon",), (Expr(t.epsilon, style), "   (the gradients not computed, over the forward)")),
        (("epsilon, input gradients",), (Expr(t.epsilon_first, style),
                                         "   (those before the first trainable layer: the first layer's at least)")),
        (("epsilon, frozen weights",), (Expr(t.epsilon_frozen, style), "   (the frozen layers' weight gradients)")),
    ), caption="The rule of thumb derived: training = (3 - epsilon) x forward"))
    optimizer = {"sgd": "SGD (no state)", "momentum": "SGD with momentum (a velocity a parameter)",
                 "adam": "Adam (two moments a parameter, a step count a tensor)",
                 "adamw": "AdamW (two moments a parameter, a step count a tensor)"}[t.optimizer]
    kept = (("activations at fp32" if t.dtype == "fp32" else
             f"activations and autocast's weight copies at {t.dtype} (mixed precision)")
            + ", the norms' statistics in fp32, max pooling's indices in int64; each tensor once")
    rows: list[tuple[Piece, ...]] = []
    for words, value in ((f"kept for the backward ({kept})", t.saved_bytes),
                         ("weights (fp32)", t.weight_bytes), ("gradients (fp32, the trainable parameters')",
                                                             t.gradient_bytes),
                         (f"optimizer state: {optimizer}", t.optimizer_bytes),
                         ("at the peak, all of these at once", t.peak_bytes)):
        rows.append((Expr(value, "number"), f" bytes {words}") if is_concrete(value) else
                    (f"{words} = ", Expr(value), " bytes"))
    blocks.append(Items(tuple(rows), caption="Memory of the step, in bytes"))
    if not t.saved_is_exact:
        blocks.append(Paragraph(("The zoo's networks leave out their activations (they cost no MACs), so the"
                                 " memory kept for the backward is a lower bound: what an activation alone keeps"
                                 " is not in it (ReLU6's, SiLU's and GELU's inputs, a ReLU's output before a"
                                 " global pooling); a model read with from_torch has them, and its figure is"
                                 " torch's.",), note=True))
    if t.uncounted:
        blocks.append(Paragraph((f"Not counted: {len(t.uncounted)} operation(s) the library does not know, forward"
                                 " and backward: " + "; ".join(r.name for r in t.uncounted) + ".",)))
    if any(s.side for s in t.stages):
        blocks.append(Paragraph(("Side stages (auxiliary classifiers) run in training, and count.",), note=True))
    return View(f"{net.name}: a training step, batch {batch}", tuple(blocks))


def _zero(value: Any) -> bool:
    from .layers import is_concrete

    return is_concrete(value) and value == 0


def _multiplies(row: Any) -> bool:
    from .layers import Conv, ConvTranspose, Linear

    return isinstance(row.layer, (Conv, ConvTranspose, Linear))


def _exact_words(t: Any) -> str:
    """Where a training step's closed form is exact (the network count's words)."""
    when = t.network.count(t.size).exact_when()
    return f"exact when {when}" if when else "a closed form"
