"""Every result renders the same way: its view (:mod:`convalgebra.report`), through one
renderer a format (:mod:`convalgebra.render`).

:class:`RichDisplay` gives each displayable type ``to_text``, ``to_markdown``, ``to_html``
and ``to_latex``, and Jupyter's ``_repr_html_``, ``_repr_markdown_`` and ``_repr_latex_``,
all from the one view, so no two formats can disagree. The library itself never prints:
the notebook or the command line shows what these return. Views and renderers load at the
first display.

>>> e = explain("depthwise-separable")
>>> e._repr_markdown_() == e.to_markdown() and e._repr_latex_() == e.to_latex()
True
>>> print(as_html(Conv(M, N, (3, 3), stride=2, padding=1)).splitlines()[1])
<h4>Conv: 1 layer on an I x I input</h4>
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["RichDisplay", "Result", "as_text", "as_html", "as_markdown", "as_latex", "rendered"]


def as_text(obj: Any) -> str:
    """``obj`` as plain text."""
    return rendered(obj, "text")


def as_html(obj: Any) -> str:
    """``obj`` as an HTML fragment (what ``_repr_html_`` returns)."""
    return rendered(obj, "html")


def as_markdown(obj: Any) -> str:
    """``obj`` as Markdown (what ``_repr_markdown_`` returns)."""
    return rendered(obj, "markdown")


def as_latex(obj: Any) -> str:
    """``obj`` as LaTeX to paste into a document (what ``_repr_latex_`` returns)."""
    return rendered(obj, "latex")


def rendered(obj: Any, fmt: str) -> Any:
    """``obj`` in the format ``fmt``, by :func:`convalgebra.render.rendered`.

    This is the one import that goes up the layers (declared in ``pyproject.toml``'s
    import-linter contract): the results of every layer below know how to show themselves,
    as sympy's ``Printable`` does, while the renderers, which know every result, sit above
    them. It runs at the first display, never at import.
    """
    from .render import rendered as render

    return render(obj, fmt)


class RichDisplay:
    """Mixin: the four renderings and Jupyter's protocol, from the view named by ``__view__``."""

    __slots__ = ()
    #: The name of this type's view in :mod:`convalgebra.report`.
    __view__: ClassVar[str] = "block"

    def to_text(self) -> str:
        """Plain text, for a terminal or a handout."""
        return as_text(self)

    def to_markdown(self) -> str:
        """Markdown with LaTeX math, as Jupyter and course pages render it."""
        return as_markdown(self)

    def to_html(self) -> str:
        """An HTML fragment (math for MathJax)."""
        return as_html(self)

    def to_latex(self) -> str:
        """LaTeX to paste into a document (amsmath): the same facts as the text."""
        return as_latex(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready data of a result (what ``--format json`` writes: see :mod:`convalgebra.data`)."""
        data: dict[str, Any] = rendered(self, "data")
        return data

    def _repr_html_(self) -> str:
        return as_html(self)

    def _repr_markdown_(self) -> str:
        return as_markdown(self)

    def _repr_latex_(self) -> str:
        return as_latex(self)


class Result(RichDisplay):
    """A result of a question asked (an explanation, a count, an answer): ``str`` is its text."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.to_text()
