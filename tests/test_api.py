"""The public API: every name in ``__all__`` resolves, and importing is light."""

from __future__ import annotations

import subprocess
import sys

import convalgebra as ca


def test_every_public_name_resolves():
    missing = [name for name in ca.__all__ if not hasattr(ca, name)]
    assert missing == []
    assert set(ca.__all__) <= set(dir(ca))


def test_dir_lists_the_public_api_and_nothing_else():
    import convalgebra.explanation  # noqa: F401  (a submodule loaded is an attribute, not API)

    assert dir(ca) == sorted(ca.__all__)
    assert not {"TYPE_CHECKING", "annotations", "importlib", "Any", "explanation"} & set(dir(ca))


def test_unknown_attribute_is_an_attribute_error():
    try:
        ca.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:  # pragma: no cover
        raise AssertionError("no AttributeError")


def test_import_loads_neither_sympy_nor_anything_heavy():
    code = "import sys, convalgebra; print(sorted(m for m in ('sympy', 'torch', 'numpy', 'matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_errors_refine_the_builtins_they_mean():
    assert issubclass(ca.UnknownNameError, LookupError)
    assert issubclass(ca.InvalidValueError, ValueError)
    assert issubclass(ca.UnknownNameError, ca.ConvAlgebraError)


def test_explain_on_the_command_line_loads_only_what_it_shows():
    # start-up is part of the product (benchmarks/startup.py measures it); the command
    # must not pay for design answers, networks or plots it never shows
    code = ("import io, sys; from convalgebra.cli import main; main(['explain', 'bottleneck'], out=io.StringIO());"
            "print(sorted(m for m in ('convalgebra.design', 'convalgebra.networks',"
            " 'convalgebra.zoo', 'convalgebra.plotting', 'convalgebra.sweeps', 'numpy', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
