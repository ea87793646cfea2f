"""The library's exceptions: one base class, refined by the built-in each one means.

>>> from convalgebra.errors import ConvAlgebraError, UnknownNameError
>>> issubclass(UnknownNameError, LookupError) and issubclass(UnknownNameError, ConvAlgebraError)
True
"""

from __future__ import annotations

__all__ = ["ConvAlgebraError", "UnknownNameError", "InvalidValueError"]


class ConvAlgebraError(Exception):
    """Base class: every error the library raises on purpose is one of these."""


class UnknownNameError(ConvAlgebraError, LookupError):
    """A module, network or symbol name that the library does not know."""

    def __str__(self) -> str:  # LookupError's KeyError-like quoting is not wanted
        return str(self.args[0]) if self.args else ""


class InvalidValueError(ConvAlgebraError, ValueError):
    """A value that is malformed or makes no sense (G = 0, p > 1, channels not divisible)."""
