"""The library's exceptions: one base class, refined by the built-in each one means.

>>> from convalgebra.errors import ConvAlgebraError, UnknownNameError
>>> issubclass(UnknownNameError, LookupError) and issubclass(UnknownNameError, ConvAlgebraError)
True
"""

from __future__ import annotations

__all__ = ["ConvAlgebraError", "UnknownNameError", "InvalidValueError", "unknown_name", "wrong_type",
           "missing_values", "indefinite", "from_torch_package", "type_name"]

from typing import Callable, Mapping, Sequence


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


def indefinite(noun: str) -> str:
    """``noun`` with its indefinite article: 'a Conv', 'an int'.

    >>> indefinite("Conv"), indefinite("int")
    ('a Conv', 'an int')
    """
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def type_name(got: object) -> str:
    """The name of ``got``'s type, for a message; never an error, whatever the type holds
    (sympy's applied functions are types whose ``__module__`` is None).

    >>> import sympy
    >>> type_name(3.5), type_name(sympy.Function("f")(1))
    ('float', 'f')
    """
    name = getattr(type(got), "__name__", None)
    return name if isinstance(name, str) and name else "object"


def from_torch_package(got: object) -> bool:
    """Whether ``got``'s type comes from PyTorch (by its module's name, without importing torch).

    >>> import sympy
    >>> from_torch_package(3), from_torch_package(sympy.Function("f")(1))
    (False, False)
    """
    module = getattr(type(got), "__module__", None)
    return isinstance(module, str) and module.split(".")[0] == "torch"


def wrong_type(got: object, expected: str, torch_hint: str = "") -> InvalidValueError:
    """The error for an object of the wrong kind: a short repr of it, what is ``expected``, and
    its type. A PyTorch module is named by its class only (its repr is the whole model), with
    a word on how to count it instead (``torch_hint``, where another word fits better).

    >>> str(wrong_type(3.5, "a network's name or a Network"))
    "3.5: expected a network's name or a Network, not float"
    """
    if from_torch_package(got):
        return InvalidValueError(f"expected {expected}, not the PyTorch {type(got).__qualname__}; " + (torch_hint or (
            "convalgebra counts its own layers: rebuild the model from them (Conv, Series, Residual, ...), "
            "or count a network of the zoo by its name, e.g. network('resnet50')")))
    return InvalidValueError(f"{_short_repr(got)}: expected {expected}, not {type_name(got)}")


def _short_repr(got: object) -> str:
    """A short repr of ``got``, or its type's name where its repr fails."""
    import reprlib

    try:
        return reprlib.repr(got)
    except Exception:
        return f"<{type_name(got)}>"


#: A real size for each symbol, for the hint in :func:`missing_values` (ResNet's 56 x 56 stage).
_EXAMPLES = {"K": "3", "M": "256", "N": "256", "I": "56", "G": "32", "t": "4", "p": "1/2", "k": "3",
             "alpha": "3/4", "rho": "5/7"}


def missing_values(names: Sequence[str]) -> InvalidValueError:
    """The error for symbols that need a value, with real sizes as the example.

    >>> str(missing_values(["M", "N"]))
    'no value for M N; set each (for example M=256 N=256)'
    """
    example = " ".join(f"{n}={_EXAMPLES.get(n, '3')}" for n in names)
    return InvalidValueError(f"no value for {' '.join(names)}; set {'it' if len(names) == 1 else 'each'}"
                             f" (for example {example})")
