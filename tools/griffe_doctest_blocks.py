"""A Griffe extension for the API reference: doctest examples in docstrings become code blocks.

The library's docstrings show rather than tell, with ``>>>`` examples in running text.
Markdown would read ``>>>`` as nested quotes; this wraps each example (the prompts and
the output after them, up to a blank line) in a fenced ``pycon`` block.
"""

from __future__ import annotations

from typing import Any

from griffe import Extension


def fence_doctests(text: str) -> str:
    """Wrap every run of doctest lines (``>>>`` up to a blank line) in a pycon fence.

    >>> print(fence_doctests("Add:\\n\\n>>> 1 + 1\\n2\\n\\nDone."))
    Add:
    <BLANKLINE>
    ```pycon
    >>> 1 + 1
    2
    ```
    <BLANKLINE>
    Done.
    """
    out: list[str] = []
    inside = False
    fenced = False
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fenced = not fenced
        if not fenced and not inside and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(Extension):
    """Fence the doctests of every object's docstring as Griffe loads it."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
