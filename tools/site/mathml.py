r"""TeX to MathML at build time, for the site's pages.

Browsers render MathML themselves, so a page whose formulas are MathML needs no script and
makes no request to show them (MathJax from a CDN would leave an offline reader with raw
TeX). The TeX comes from the library's own printer (``convalgebra.latex``) or from the
rich display's HTML (``$...$`` and ``$$...$$``); ``latex2mathml`` converts it, with two
repairs: ``aligned`` (which it does not know) becomes ``align*``, and the TeX escapes in
``\text{...}`` (``\_``, ``\&``, ...) become the characters they stand for.

>>> print(mathml(r"\frac{1}{G}", alt="1/G"))
<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline" alttext="1/G"><mrow><mfrac><mrow><mn>1</mn></mrow><mrow><mi>G</mi></mrow></mfrac></mrow></math>
>>> print(typeset_html("<td>$M$</td>"))
<td><math xmlns="http://www.w3.org/1998/Math/MathML" display="inline" alttext="M"><mrow><mi>M</mi></mrow></math></td>
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

__all__ = ["mathml", "typeset_html", "typeset_markdown", "TeXError"]

_MTEXT = re.compile(r"<mtext>(.*?)</mtext>", re.S)
_TEX_ESCAPE = re.compile(r"\\([{}$&#_%])")
# $$...$$ (display) first, then $...$ (inline, no space just inside the dollars, as Jupyter's and pandoc's rule)
_HTML_MATH = re.compile(r"\$\$(.+?)\$\$|\$(?=\S)((?:[^$\\]|\\.)+?)(?<=\S)\$", re.S)
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


class TeXError(ValueError):
    """TeX that latex2mathml cannot convert (the page would show it raw)."""


def mathml(tex: str, display: bool = False, alt: str | None = None) -> str:
    r"""One formula as a ``<math>`` element; ``alt`` is its plain text, for readers and search.
    TeX it cannot convert (an unknown command would be shown raw) is an error.

    >>> "<mtext>layer1_conv</mtext>" in mathml(r"\text{layer1\_conv}")
    True
    >>> try:
    ...     mathml(r"\frac{1}{G} \aligned")
    ... except TeXError as error:
    ...     print(error)
    cannot typeset '\\frac{1}{G} \\aligned': \aligned is unknown
    """
    source = tex.strip()
    if source.startswith(r"\displaystyle"):
        source, display = source[len(r"\displaystyle"):].strip(), True
    source = source.replace(r"\begin{aligned}", r"\begin{align*}").replace(r"\end{aligned}", r"\end{align*}")
    try:
        out = convert(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises its own exceptions, and plain ones, on TeX it does not know
        raise TeXError(f"cannot typeset {tex!r}: {error}") from None
    out = _MTEXT.sub(_plain_mtext, out)
    left = re.search(r"\\[A-Za-z]+|\\.", re.sub(r"<[^>]*>", "", out))
    if left:  # an unknown command comes through as a name: the page would show it raw
        raise TeXError(f"cannot typeset {tex!r}: {left.group(0)} is unknown")
    alt = tex if alt is None else alt
    return re.sub(r"^<math ([^>]*)>", lambda m: f'<math {m.group(1)} alttext="{html.escape(alt)}">', out, count=1)


def _plain_mtext(match: re.Match[str]) -> str:
    """An ``<mtext>``'s TeX escapes as the characters they stand for, HTML-escaped."""
    plain = _TEX_ESCAPE.sub(lambda m: m.group(1), html.unescape(match.group(1)))
    return f"<mtext>{html.escape(plain, quote=False)}</mtext>"


def typeset_html(fragment: str) -> str:
    r"""An HTML fragment with its ``$$...$$`` and ``$...$`` math as MathML (the TeX in it
    HTML-escaped, as the rich display writes it).

    >>> print(typeset_html("<p>$$a &amp; b$$</p>").count("<math"))
    1
    """
    def one(match: re.Match[str]) -> str:
        tex = html.unescape(match.group(1) if match.group(1) is not None else match.group(2))
        return mathml(tex, display=match.group(1) is not None, alt=tex)

    return _HTML_MATH.sub(one, fragment)


def typeset_markdown(text: str) -> str:
    """Markdown with its ``$...$`` math as MathML, code spans and fences left as they are.

    >>> typeset_markdown("cost `$x$` is $x$").count("<math")
    1
    """
    parts = _CODE.split(text)
    return "".join(part if i % 2 else _HTML_MATH.sub(
        lambda m: mathml(m.group(1) or m.group(2), display=m.group(1) is not None), part) for i, part in enumerate(parts))
