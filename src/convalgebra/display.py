"""Rich display in Jupyter: one view of a result, rendered as HTML, Markdown and LaTeX.

A result (an explanation, a module, a block of layers, a cost) becomes a
:class:`~convalgebra.views.View`: a title and a sequence of paragraphs, tables and
equations. Jupyter asks the object for ``_repr_html_``, ``_repr_markdown_`` or
``_repr_latex_``; ``RichDisplay`` answers each from the same view, so the three never
disagree. The library itself never prints: the notebook renders what these return.
Views are built and rendered in :mod:`convalgebra.views`, imported at the first display,
so the command line never loads them.

>>> e = explain("depthwise-separable")
>>> print(e._repr_latex_()[:75])
$\\begin{aligned}\\text{standard convolution} &= I^{2} K^{2} M N\\ \\text{MACs}
>>> r"\\frac{1}{N} + \\frac{1}{K^{2}}" in e._repr_latex_()
True
>>> print(as_html(e).splitlines()[1])
<h4>depthwise-separable: depthwise separable convolution (MobileNet V1)</h4>

Per-layer tables are real tables, with each formula typeset:

>>> print(as_html(Conv(M, N, (3, 3), stride=2, padding=1)))
<div class="convalgebra">
<h4>Conv: 1 layer on an I x I input</h4>
<table>
<caption>Layers; costs in MACs (multiply-accumulates; 1 MAC = 2 FLOPs)</caption>
<thead><tr><th>#</th><th>layer</th><th>in</th><th>out</th><th>groups</th><th>input</th><th>output</th><th>MACs</th><th>params</th></tr></thead>
<tbody>
<tr><td>1</td><td>3x3 conv, stride 2</td><td>$M$</td><td>$N$</td><td>$1$</td><td>$I$</td><td>$\\frac{I}{2}$</td><td>$\\frac{9 I^{2} M N}{4}$</td><td>$9 M N$</td></tr>
</tbody>
</table>
<p>$$\\begin{aligned}\\text{MACs} &amp;= \\frac{9 I^{2} M N}{4} \\\\ \\text{params} &amp;= 9 M N\\end{aligned}$$</p>
</div>
"""

from __future__ import annotations

from typing import Optional

__all__ = ["RichDisplay", "as_html", "as_markdown", "as_latex"]


def as_html(obj: object) -> str:
    """``obj`` as an HTML fragment (what ``_repr_html_`` returns)."""
    from .views import render_html, view

    return render_html(view(obj))


def as_markdown(obj: object) -> str:
    """``obj`` as Markdown (what ``_repr_markdown_`` returns)."""
    from .views import render_markdown, view

    return render_markdown(view(obj))


def as_latex(obj: object) -> Optional[str]:
    """``obj``'s formulas as a math-mode LaTeX string (what ``_repr_latex_`` returns)."""
    from .views import render_latex, view

    return render_latex(view(obj))


class RichDisplay:
    """Mixin: Jupyter shows the object through its view (:func:`convalgebra.views.view`) (and its own ``to_markdown``,
    the command line's, when it has one)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return as_html(self)

    def _repr_markdown_(self) -> str:
        own = getattr(self, "to_markdown", None)
        return own() if callable(own) else as_markdown(self)

    def _repr_latex_(self) -> Optional[str]:
        return as_latex(self)
