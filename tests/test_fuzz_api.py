"""A fuzzer over the whole public API: every callable in ``convalgebra.__all__``, called with
hostile arguments drawn by hypothesis (wrong types, values out of range, huge and tiny
numbers, text with control characters, numpy arrays, sympy objects of every kind, nested
containers and blocks), must return or raise the library's own error
(:class:`convalgebra.ConvAlgebraError`), never another exception.

Each call puts a drawn value in one parameter (or several) and a working value in the
others, so the hostile value reaches the check it is meant for instead of being stopped by
the first. The cases found by hand (issue 18) are the seeds, as ``@example``s.
"""

from __future__ import annotations

import inspect
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable

import pytest
import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import convalgebra as ca

np = pytest.importorskip("numpy")
pytest.importorskip("matplotlib")


@lru_cache(maxsize=None)
def resnet18() -> ca.Network:
    return ca.network("resnet18")


#: A working value for a parameter, by the callable's name and the parameter's (or by the
#: parameter's alone); a parameter in neither keeps its default, or gets a drawn value.
WORKING: dict[str, Any] = {
    "name_or_module": "bottleneck", "a": "bottleneck", "b": "group", "modules": "group", "mod": "bottleneck",
    "block": ca.Conv(8, 8), "body": ca.Conv(8, 8), "gate": ca.Conv(8, 8), "layer": ca.Conv(8, 8),
    "obj": ca.Conv(8, 8), "size": 8, "input_size": 32, "values": {"K": 3}, "dev": "t4", "device": "t4",
    "dtype": "fp32", "over": "N", "expr": "K*N", "rewritten": "K", "baseline": "N", "what": "K*N",
    "text": "3", "in_channels": 8, "out_channels": 8, "channels": 8, "kernel": 3, "count": 2, "G": 2,
    "k": 3, "t": 2, "p": "1/2", "r": 4, "s": 2, "macs": 100, "moved_bytes": 10, "spec": "torchvision:resnet18",
    "rule": ca.reduce(ca.t), "rules": ca.reduce(ca.t), "items": ca.Conv(8, 8), "start": 0, "stop": 4,
    "out_features": 10, "groups": 1, "model": None,
}
BY_CALLABLE: dict[tuple[str, str], Any] = {
    ("network", "name"): "resnet18", ("plot_network", "name"): "resnet18", ("plot_roofline", "name"): "resnet18",
    ("network_memory", "net"): "resnet18", ("roofline", "net"): "resnet18", ("module", "name"): "bottleneck",
    ("network_memory", "size"): 32, ("roofline", "size"): 32, ("device", "name"): "t4",
    ("least_traffic", "block"): "group", ("fragments", "block"): "group", ("Module", "name"): "m",
    ("compose", "name"): "m", ("crossing", "block"): ca.Conv(ca.N, ca.N, (1, 1)),
    ("total", "block"): ca.Conv(ca.M, ca.N, (ca.K, ca.K)), ("Device", "name"): "d", ("Device", "peak"): {"fp32": 10},
    ("Device", "bandwidth"): 10, ("Pool", "kernel"): 3, ("Stage", "name"): "s", ("Network", "name"): "n",
    ("Network", "title"): "n", ("Network", "stages"): (ca.Stage("s", ca.Conv(3, 8)),),
    ("recognize_network", "net"): "resnet18", ("peer_counts", "net"): "resnet18",
}


def working(call: str, parameter: inspect.Parameter) -> Any:
    """The working value of a parameter (``inspect.Parameter.empty`` where there is none)."""
    if (call, parameter.name) in BY_CALLABLE:
        value = BY_CALLABLE[(call, parameter.name)]
    elif parameter.name in WORKING:
        value = WORKING[parameter.name]
    else:
        return parameter.default
    return resnet18() if value == "resnet18" and call in ("recognize_network", "peer_counts") else value


class Unprintable:
    """Its text fails (its repr works, for hypothesis's report)."""

    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("no text")

    def __repr__(self) -> str:
        return "Unprintable()"


class NoModule:
    """A type whose ``__module__`` is None, as sympy's applied functions are."""


NoModule.__module__ = None  # type: ignore[assignment]


class Deep:
    """A block nested ``depth`` deep, built when the call is made (hypothesis's report of a
    drawn value recurses through a dataclass's fields: a block this deep is drawn as this)."""

    def __init__(self, kind: str, depth: int) -> None:
        self.kind, self.depth = kind, depth

    def __repr__(self) -> str:
        return f"Deep({self.kind!r}, {self.depth})"

    def build(self) -> Any:
        return deep(self.kind, self.depth)


@lru_cache(maxsize=None)
def deep(kind: str, depth: int) -> Any:
    block: Any = ca.Conv(8, 8)
    for _ in range(depth):
        block = ca.Series(block) if kind == "series" else ca.Repeat(block, 1)
    return block


def built(value: Any) -> Any:
    """``value`` with each :class:`Deep` in it (at the top, or in a list, tuple or dict) built."""
    if isinstance(value, Deep):
        return value.build()
    if type(value) in (list, tuple):  # not a named tuple (a Cost), which is the library's
        return type(value)(built(v) for v in value)
    if type(value) is dict:
        return {k: built(v) for k, v in value.items()}
    return value


#: Values no parameter takes, or takes only in a narrow range.
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**60, max_value=10**70).map(lambda n: n * -1 if n % 2 else n),
    st.floats(), st.fractions(), st.complex_numbers(), st.binary(max_size=8),
    st.text(max_size=20), st.text(alphabet=st.characters(max_codepoint=0x1f), max_size=4),
    st.sampled_from([
        "", " ", "resnet50\x00", "bottleneck\n", "K**", "1/0", "nan", "inf", "9" * 70, "(" * 100 + "1" + ")" * 100,
        "__import__('os')", "chain(" + ", ".join(["ghost(2)"] * 16) + ")", "stack(10**60)", "torchvision:resnet18",
        "x.txt:f", "fp32", "t4", "N", "resnet18", "bottleneck", "layer", "stage", "any", "pointwise",
    ]),
    st.sampled_from([
        sympy.I, sympy.oo, -sympy.oo, sympy.zoo, sympy.nan, sympy.pi, sympy.sqrt(2), sympy.true, sympy.Symbol("x"),
        sympy.Symbol("K"), sympy.Dummy("d"), sympy.Function("f")(ca.K), sympy.Function("g"), sympy.Matrix([1]),
        sympy.Matrix([[1, 2], [3, 4]]), sympy.Integer(3), sympy.Rational(1, 2), sympy.Float(0.25), ca.K > 2,
        -ca.M, ca.N / ca.t, ca.K ** 200, sympy.Eq(ca.K, 3), sympy.Interval(0, 1), sympy.FiniteSet(1, 2), sympy.S.Reals,
        ca.K, ca.I, (ca.H, ca.W),
        np.int64(3), np.float64("nan"), np.bool_(True), np.array([1, 2]), np.array(5), np.array([]),
        np.zeros((2, 2)), Unprintable(), NoModule(), object(), print, type, ca.Conv,
        ca.reduce(ca.t), ca.module("bottleneck"), ca.Conv(8, 8), ca.Conv(ca.M, ca.N, (ca.K, ca.K)),
        ca.Residual(ca.Conv(8, 8)), ca.Parallel(ca.Conv(8, 4), ca.Conv(8, 4)), ca.BatchNorm(8),
        ca.device("t4"), ca.Cost(1, 2), ca.Traffic(1, 2, 3), Fraction(-7, 2), float("-0.0"), 2**63, 10**100,
    ]),
)

KEYS = st.sampled_from(["K", "M", "N", "I", "G", "t", "p", "alpha", "fp32", "F", "x", "", ca.K, ca.I, 3, None,
                         sympy.Symbol("Q"), sympy.Function("f")(ca.K), "resnet50\x00"])

#: Containers of those, nested, with keys of every kind, and blocks nested deep.
HOSTILE = st.one_of(
    st.recursive(SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.tuples(inner, inner), st.frozensets(KEYS, max_size=2),
        st.dictionaries(KEYS, inner, max_size=3)), max_leaves=6),
    st.builds(Deep, st.sampled_from(["series", "repeat"]), st.sampled_from([1, 50, 3000])),
)


def _callables() -> list[tuple[str, Callable[..., Any], inspect.Signature]]:
    out = []
    for name in sorted(ca.__all__):
        obj = getattr(ca, name)
        if not callable(obj) or (isinstance(obj, type) and issubclass(obj, BaseException)):
            continue
        if isinstance(obj, sympy.Basic):  # the symbols: sympy's, not the library's entry points
            continue
        out.append((name, obj, inspect.signature(obj)))
    return out


CALLABLES = _callables()
NAMES = [name for name, _, _ in CALLABLES]
BY_NAME = {name: (obj, sig) for name, obj, sig in CALLABLES}


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """A public callable and hostile arguments for it: one parameter (or more) drawn, the rest working."""
    name = draw(st.sampled_from(NAMES))
    _, sig = BY_NAME[name]
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    hostile = set(draw(st.lists(st.sampled_from([p.name for p in params]), min_size=1, max_size=2))) if params else set()
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in params:
        value = working(name, p)
        if p.name in hostile or value is p.empty:
            value = draw(HOSTILE)
        if p.kind is p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    if name == "load_model" and any(isinstance(a, str) and ".py" in a for a in args):
        args = ["x.txt:f"]  # FILE.py:FUNCTION runs the user's file: never drawn
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()) and draw(st.booleans()):
        kwargs[draw(st.sampled_from(["K", "G", "t", "F", "x", "M"]))] = draw(HOSTILE)
    return name, tuple(args), kwargs


F = sympy.Function("f")(ca.K)
GHOSTS = "chain(" + ", ".join(["ghost(2)"] * 14) + ")"


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(call=calls())
# the cases of issue 18, section 3, as seeds
@example(call=("explain", (F,), {}))
@example(call=("text", (sympy.Function("g"),), {}))
@example(call=("count", (F, 8), {}))
@example(call=("recognize_network", (None,), {}))
@example(call=("peer_counts", (None,), {}))
@example(call=("peak_memory", (ca.Conv(8, 8), 56, {}), {}))
@example(call=("network", ("mobilenet_v2", sympy.Matrix([1])), {}))
@example(call=("network", ("resnet50\x00",), {}))
@example(call=("explain", ("group",), {"memory": np.array([1, 2])}))
@example(call=("least_traffic", ("group", np.array([1, 2])), {}))
@example(call=("crossing", (ca.Conv(ca.N, ca.N, (1, 1)), ca.N, "t4"), {"values": np.array([1, 2])}))
@example(call=("plot_ratios", ("group",), {"values": np.array([1, 2])}))
@example(call=("compose", (ca.chain(*[ca.ghost(2)] * 14),), {"name": "ghosts"}))
@example(call=("compose", (ca.chain(*[ca.reduce(2, on="any")] * 14),), {"name": "reductions"}))
@example(call=("stack", (10**60,), {}))
@example(call=("count", (Deep("series", 3000), 8), {}))
@example(call=("peak_memory", (Deep("repeat", 3000), 8), {}))
@example(call=("to_torch", (ca.Repeat(ca.Conv(8, 8), 10**9),), {}))
@example(call=("roofline", ("resnet18", ""), {}))
def test_every_public_callable_answers_or_raises_the_librarys_error(call):
    name, args, kwargs = call
    function, _ = BY_NAME[name]
    try:
        function(*built(args), **built(kwargs))
    except ca.ConvAlgebraError:
        pass
    finally:
        plt = __import__("sys").modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")


def test_the_fuzzer_reaches_every_public_callable():
    """Every callable of ``__all__`` can be drawn (none left out by accident)."""
    public = {n for n in ca.__all__ if callable(getattr(ca, n)) and not isinstance(getattr(ca, n), sympy.Basic)
              and not (isinstance(getattr(ca, n), type) and issubclass(getattr(ca, n), BaseException))}
    assert public == set(NAMES) and len(NAMES) > 90
