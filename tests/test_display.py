"""Rich display: what every format shows is well-formed, faithful and agrees with independent counts.

Every displayable type renders in text, Markdown, HTML and LaTeX from one view, and the
numbers the text shows are in the other three. The numbers a reader sees in the HTML
(MACs, FLOPs, params) are parsed back out of the rendered tables and checked against the
article's formulas, written separately in test_modules.article_macs; the LaTeX is balanced;
every table is a table.
"""

from __future__ import annotations

import re
from fractions import Fraction as Fr
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.display import as_html, as_latex, as_markdown
from convalgebra.report import view
from convalgebra.blocks import Parallel, Series
from convalgebra.layers import Conv, Shuffle
from test_modules import article_macs, sizes

NAMES = ca.module_names()
VOID = {"br", "hr", "img", "input", "meta", "col"}


class Tables(HTMLParser):
    """Checks that tags nest, and collects every table as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.captions: list[str] = []
        self.cell: list[str] | None = None
        self.in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "caption":
            self.in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None
        elif tag == "caption":
            self.in_caption = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.in_caption:
            self.captions[-1] += data


def parsed(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    tables.close()
    assert tables.stack == [], f"unclosed tags: {tables.stack}"
    return tables


def assert_math_mode(latex: str) -> None:
    """A LaTeX fragment: a heading, math spans paired, braces balanced, environments paired."""
    assert latex.startswith("\\subsection*{"), latex[:40]
    assert latex.replace("\\$", "").count("$") % 2 == 0, latex
    depth = 0
    for i, ch in enumerate(latex):
        if ch in "{}" and latex[i - 1] != "\\":
            depth += 1 if ch == "{" else -1
            assert depth >= 0, latex
    assert depth == 0, latex
    assert re.findall(r"\\begin\{(\w+)\}", latex) == re.findall(r"\\end\{(\w+)\}", latex)


def cells(markdown_row: str) -> int:
    """The cells of a Markdown table row: its unescaped pipes, less one."""
    return len(re.findall(r"(?<!\\)\|", markdown_row)) - 1


def test_explain_bottleneck_latex_is_balanced_with_fractions():
    latex = ca.explain("bottleneck")._repr_latex_()
    assert_math_mode(latex)
    assert r"\frac{K^{2} + 2 t}{K^{2} t^{2}}" in latex  # the ratio at M = N, typeset as a fraction
    assert r"\text{MACs}" in latex and r"\text{params}" in latex


@pytest.mark.parametrize("name", NAMES)
def test_every_module_renders_in_all_three_forms(name):
    e = ca.explain(name)
    assert_math_mode(e._repr_latex_())
    assert_math_mode(ca.module(name)._repr_latex_())
    tables = parsed(e._repr_html_())
    layers = tables.tables[0]
    assert layers[0] == ["#", "layer", "kernel", "in", "out", "groups", "MACs", "params"]
    assert len(layers) - 1 == len(e.layers)
    assert all(len(row) == len(layers[0]) for row in layers)
    assert "MACs (multiply-accumulates" in tables.captions[0]
    for row, cost in zip(layers[1:], e.layers):
        assert row[6] == f"${ca.latex(cost.macs)}$"
    markdown = e._repr_markdown_()
    assert markdown == e.to_markdown()
    md_rows = [line for line in as_markdown(e).splitlines() if line.startswith("|")]
    assert len({cells(line) for line in md_rows[: len(e.layers) + 2]}) == 1


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_numbers_shown_equal_the_articles_formula(name, data):
    values = data.draw(sizes(name))
    mod = ca.module(name)
    full = {str(s): d for s, d in mod.parameters.items()} | values
    html = ca.explain(name, values)._repr_html_()
    numbers = parsed(html).tables[-1]
    assert numbers[0] == ["", "MACs", "FLOPs (2 x MACs)", "params"]
    shown = {row[0]: [int(cell.replace(",", "")) for cell in row[1:]] for row in numbers[1:3]}
    K, M, N, I = (full[s] for s in "KMNI")
    expected = article_macs(name, **{s: full[s] for s in full if s in ("K", "M", "N", "I", "G", "t", "p", "k")})
    assert shown["standard convolution"] == [K * K * M * N * I * I, 2 * K * K * M * N * I * I, K * K * M * N]
    assert Fr(shown[name][0]) == expected and shown[name][1] == 2 * shown[name][0]
    ratio = numbers[3]
    assert ratio[0] == "ratio" and f"= {Fr(shown[name][0], shown['standard convolution'][0])})" in ratio[1] \
        or ratio[1] == str(Fr(shown[name][0], shown["standard convolution"][0]))


def test_example_values_are_shown_and_labelled_as_examples():
    html = ca.explain("depthwise-separable")._repr_html_()
    assert "(example values; set your own)" in html
    rows = parsed(html).tables[-1]
    assert rows[1][1] == f"{3 * 3 * 512 * 512 * 14 * 14:,}"  # MobileNet V1 Table 3's 14 x 14 layer


def test_names_are_escaped_in_html_and_latex():
    mine = ca.compose(ca.separate(), name="<b>a_b & c|d</b>", summary="x < y & z", title="t<i>")
    html = ca.explain(mine)._repr_html_()
    parsed(html)
    assert "<b>a_b" not in html and "&lt;b&gt;a_b &amp; c|d&lt;/b&gt;" in html
    assert "x &lt; y &amp; z" in html
    latex = as_latex(ca.explain(mine))
    assert_math_mode(latex)
    assert r"a\_b \& c|d" in latex
    md = [line for line in as_markdown(mine).splitlines() if line.startswith("|")]
    assert len({cells(line) for line in md[: len(ca.explain(mine).layers) + 2]}) == 1


def test_blocks_show_a_layer_table_and_their_totals():
    block = Series(Conv(ca.M, 64, (3, 3), stride=2, padding=1),
                   Parallel(Conv(64, 32, (1, 1)), Conv(64, 32, (3, 3))), Shuffle(64, 2))
    tables = parsed(as_html(block))
    rows = tables.tables[0]
    assert len(rows) == 1 + 4
    assert [r[1] for r in rows[1:]] == ["3x3 conv, stride 2", "1x1 conv (branch 1)", "3x3 conv (branch 2)",
                                        "channel shuffle"]
    assert [r[7] for r in rows[1:]] == ["$\\frac{I}{2}$"] * 4
    macs, params = ca.total(block, ca.I)
    latex = as_latex(block)
    assert_math_mode(latex)
    assert ca.latex(ca.canonical(macs)) in latex and ca.latex(params) in latex


def test_costs_render_their_two_fields():
    e = ca.explain("depthwise-separable", K=3, M=512, N=512, I=14)
    assert "\\text{MACs} &= \\frac{1}{N} + \\frac{1}{K^{2}} \\\\\n\\text{params} &= \\frac{1}{N} + \\frac{1}{K^{2}}" \
        in e.ratio._repr_latex_()
    assert "\\text{MACs} &= 52{,}283{,}392 \\\\\n\\text{params} &= 266{,}752" in e.numbers.rewritten._repr_latex_()


def test_networks_render_stage_and_layer_tables():
    cost = ca.network("resnet18").count(224)
    tables = parsed(cost._repr_html_())
    layers, stages = tables.tables
    assert [r[0] for r in stages[1:]] == [s.name for s in cost.stages]
    assert sum(int(r[4].replace(",", "")) for r in stages[1:]) == cost.macs
    assert len(layers) - 1 == len(cost.layers)
    latex = cost._repr_latex_()
    assert_math_mode(latex)
    assert "1,814,073,344 MACs = 1.814 GMACs" in latex
    macs, params = ca.network("resnet18").total_symbolic()
    assert ca.latex(macs) in ca.network("resnet18").count(ca.I).to_latex()
    assert cost._repr_markdown_() == cost.to_markdown()
    assert view(ca.network("resnet18")).title == "resnet18: ResNet-18"


def test_unknown_objects_have_no_view():
    with pytest.raises(ca.InvalidValueError, match="no view of list"):
        view([])


def test_jupyter_asks_through_the_display_protocol():
    formatters = pytest.importorskip("IPython.core.formatters")
    display = formatters.DisplayFormatter()
    for obj in (ca.explain("bottleneck"), ca.module("fire"), ca.network("mobilenet_v2").count(160),
                Series(Conv(8, 8, (3, 3), groups=8), Conv(8, 16, (1, 1))), ca.compare("bottleneck", "resnext"),
                ca.budget("depthwise-separable", K=3, M=64, N=64), ca.break_even("inverted-bottleneck")):
        bundle, _ = display.format(obj)
        assert {"text/html", "text/markdown", "text/latex", "text/plain"} <= set(bundle), type(obj)
        assert_math_mode(bundle["text/latex"])
        parsed(bundle["text/html"])
    bundle, _ = display.format(ca.ratio(ca.K**2 * ca.M + ca.M * ca.N, ca.K**2 * ca.M * ca.N))
    assert r"\frac{1}{N} + \frac{1}{K^{2}}" in bundle["text/latex"]  # sympy's own display, our canonical form


def test_sweeps_render_their_expressions_and_first_rows():
    pytest.importorskip("numpy")
    e = ca.explain("bottleneck")
    s = ca.sweep({"macs": e.rewritten.macs}, K=3, M=256, N=[64, 128, 256], I=56, t=range(1, 9))
    tables = parsed(s._repr_html_())
    rows = tables.tables[0]
    assert rows[0] == ["K", "M", "N", "I", "t", "macs"] and len(rows) == 1 + 10
    for shown in rows[1:]:
        exact = article_macs("bottleneck", **dict(zip("KMNIt", map(int, shown[:5]))))
        assert float(shown[5]) == pytest.approx(float(exact), rel=1e-5)  # six significant digits
    assert "14 more rows of 24" in s._repr_html_()
    assert_math_mode(s._repr_latex_())
    assert ca.latex(e.rewritten.macs) in s._repr_latex_()


def _displayable():
    """One of every displayable public type, symbolic and numeric."""
    pytest.importorskip("numpy")
    e = ca.explain("bottleneck")
    return {
        "Explanation": ca.explain("inverted-bottleneck", K=3, M=64, N=64, I=14),
        "Module": ca.module("fire"),
        "Conv": ca.Conv(ca.M, ca.N, (3, 3), stride=2, padding=1),
        "Shuffle": ca.Shuffle(12, 3),
        "Linear": ca.Linear(2048, 1000),
        "Pool": ca.Pool(64, 3, stride=2, padding=1),
        "AdaptivePool": ca.AdaptivePool(512, 7),
        "BatchNorm": ca.BatchNorm(64),
        "Series": Series(Conv(8, 8, (3, 3), groups=8), Conv(8, 16, (1, 1))),
        "Parallel": Parallel(Conv(16, 64, (1, 1)), Conv(16, 64, (3, 3))),
        "Residual": ca.Residual(Conv(64, 128, (3, 3), stride=2, padding=1), Conv(64, 128, (1, 1), stride=2, padding=0)),
        "Repeat": ca.Repeat(Conv(ca.N, ca.N, (3, 3)), ca.k),
        "Cost": ca.explain("depthwise-separable", K=3, M=512, N=512, I=14).numbers.rewritten,
        "Network": ca.network("squeezenet1_1"),
        "NetworkCost": ca.network("resnet18").count(ca.I),
        "Comparison": ca.compare("bottleneck", "inverted-bottleneck", K=3, M=64, N=64, I=14),
        "Budget": ca.budget("bottleneck", K=3, M=256, N=256),
        "BreakEven": ca.break_even("inverted-bottleneck", K=3, M=64, N=64),
        "LargeNLimit": ca.limit_large_N("bottleneck", K=3),
        "Sweep": ca.sweep({"macs": e.rewritten.macs}, K=3, M=256, N=[64, 128], I=56, t=[2, 4]),
    }


def _numbers(rendered: str) -> set[str]:
    """The numbers in a rendering, digit groups joined (1,024 and 1{,}024 are 1024)."""
    plain = rendered.replace("{,}", "").replace(",", "")
    return set(re.findall(r"\d+(?:\.\d+)?", plain))


def test_every_displayable_type_renders_the_same_numbers_in_all_four_formats():
    for name, obj in _displayable().items():
        shown = {"text": obj.to_text(), "markdown": obj.to_markdown(), "html": obj.to_html(), "latex": obj.to_latex()}
        assert obj._repr_html_() == shown["html"] and obj._repr_markdown_() == shown["markdown"], name
        assert obj._repr_latex_() == shown["latex"], name
        assert_math_mode(shown["latex"])
        parsed(shown["html"])
        numbers = _numbers(shown["text"])
        assert numbers, name
        for fmt in ("markdown", "html", "latex"):
            missing = numbers - _numbers(shown[fmt])
            assert not missing, f"{name}: {fmt} lacks {sorted(missing)[:8]} that the text shows"


def test_the_cli_formats_are_the_renderers():
    from convalgebra.cli import main
    import io

    for fmt, method in (("text", "to_text"), ("markdown", "to_markdown"), ("latex", "to_latex")):
        out = io.StringIO()
        assert main(["explain", "bottleneck", "--format", fmt], out=out) == 0
        assert out.getvalue().rstrip("\n") == getattr(ca.explain("bottleneck"), method)().rstrip("\n")


def test_latex_carries_what_the_text_carries():
    latex = ca.explain("bottleneck").to_latex()
    assert r"\begin{tabular}" in latex                      # the layers table
    assert r"\texttt{(K*K*M*N) -> (M*N/t + K*K*N/t*N/t + N/t*N), t = 4}" in latex  # the article's rewrite
    assert r"\text{standard convolution} &= I^{2} K^{2} M N" in latex             # the cost
    assert r"\frac{K^{2} + 2 t}{K^{2} t^{2}}" in latex                              # the ratio at M = N
    assert "218,365,952" in latex                                                 # the numbers


def test_how_a_request_was_read_is_shown_in_a_notebook_too():
    """A name taken for a network's and the reason there are no numbers are part of the view:
    a notebook's HTML says them once, under the paper."""
    for result, note in ((ca.explain("group", G=3), "no numbers at G = 3: 3 groups do not divide the 256"),
                         (ca.compare("bottleneck", "ResNet"), "'ResNet' names a network, not a module")):
        assert result.caveats and note in result.caveats[0]
        for shown in (result._repr_html_(), result.to_text(), result._repr_markdown_()):
            assert " ".join(shown.split()).count(f"Note: {note}") == 1
    assert "Note:" not in ca.explain("group").to_text()
