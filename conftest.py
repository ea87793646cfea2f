"""Puts the public API into every doctest's namespace, as ``ca`` and by name."""

import pytest

import convalgebra


@pytest.fixture(autouse=True)
def _public_api(doctest_namespace):
    doctest_namespace["ca"] = convalgebra
    for name in convalgebra.__all__:
        doctest_namespace[name] = getattr(convalgebra, name)
