"""The library's exceptions: one base class, refined by the built-in each one means.

>>> from convalgebra.errors import ConvAlgebraError, UnknownNameError
>>> issubclass(UnknownNameError, LookupError) and issubclass(UnknownNameError, ConvAlgebraError)
True
"""

from __future__ import annotations

__all__ = ["ConvAlgebraError", "UnknownNameError", "InvalidValueError", "unknown_name"]

from typing import Callable, Mapping


class ConvAlgebraError(Exception):
    """Base class: every error the library raises on purpose is one of these."""


class UnknownNameError(ConvAlgebraError, LookupError):
    """A module, network or symbol name that the library does not know."""

    def __str__(self) -> str:  # LookupError's KeyError-like quoting is not wanted
        return str(self.args[0]) if self.args else ""


class InvalidValueError(ConvAlgebraError, ValueError):
    """A value that is malformed or makes no sense (G = 0, p > 1, channels not divisible)."""


def unknown_name(kind: str, name: object, known: Mapping[str, str], listing: str,
                 key: Callable[[str], str] = str.lower) -> UnknownNameError:
    """The error for an unknown ``kind`` of name, suggesting the closest known ones.

    ``known`` maps each accepted spelling (aliases too) to its canonical name; ``listing``
    is the command that lists them all; ``key`` is how a spelling is normalized.

    >>> str(unknown_name("module", "botleneck", {"bottleneck": "bottleneck", "group": "group"}, "convalgebra list"))
    "unknown module 'botleneck'; did you mean bottleneck? (see 'convalgebra list')"
    """
    import difflib

    wanted = key(str(name))
    prefixed = [k for k in known if wanted and k.startswith(wanted)]
    close = prefixed + difflib.get_close_matches(wanted, list(known), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(known[c] for c in close))[:3]
    hint = (f"did you mean {' or '.join(suggestions)}?" if suggestions
            else "known: " + ", ".join(dict.fromkeys(known.values())))
    return UnknownNameError(f"unknown {kind} {str(name)!r}; {hint} (see '{listing}')")
