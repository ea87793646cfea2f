"""Hostile input, as classes: no text is ever evaluated, every public entry point answers or
raises the library's own error, a user's own symbols are the library's by name, and the
numbers users have (numpy integers, sympy Integers, floats, text) follow one rule everywhere."""

from __future__ import annotations

import math
import pathlib
from fractions import Fraction
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.design import break_even_points, large_N_limit
from convalgebra.symbols import exact

np = pytest.importorskip("numpy")

MARKER = pathlib.Path(__file__).with_name(".pwned-by-eval")


def payloads() -> list[str]:
    """Text that creates MARKER when evaluated (by eval, sympify, parse_expr or lambdify)."""
    touch = f"__import__('pathlib').Path({str(MARKER)!r}).touch()"
    return [touch, f"({touch}) or 1", f"1 + ({touch} or 0)", f"[{touch}]", f"lambda: {touch}",
            f"N({touch} or 2)", f"K*({touch} or 1)"]


class Unprintable:
    """An object whose text fails: messages must not (its repr works, for hypothesis's report)."""

    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("no text")

    def __repr__(self) -> str:
        return "Unprintable()"


HOSTILE: list[Any] = [
    *payloads(), "", " ", "K**", "1/0", "0/0", "nan", "inf", "1e400", "N(2)", "I**K", "x", "K.__class__",
    "9" * 70, "(" * 200 + "1" + ")" * 200, "((((2**64)**64)**64)**64)**64", "(K+M+N+I+G+t+p+k)**64",
    True, False, None, 0, -1, -3, 10**100, -(10**100), 2**63, 0.5, -0.5, 1e308, float("nan"), float("inf"),
    -float("inf"), 1e-320, 3 + 4j, Fraction(1, 3), Fraction(-7, 2), b"K", [1, 2], (3,), {"K": 3}, {3},
    sympy.I, -ca.I, sympy.sqrt(2), sympy.oo, -sympy.oo, sympy.zoo, sympy.nan, sympy.pi, sympy.Symbol("x"),
    sympy.Symbol("K"), sympy.Symbol("I"), sympy.sin(ca.K), ca.K > 2, sympy.true, sympy.Matrix([1]),
    sympy.Integer(3), sympy.Rational(1, 2), sympy.Float(0.25), ca.M - ca.N, -ca.M, ca.N / ca.t, ca.K ** 200,
    (ca.K + ca.M + ca.N + ca.I) ** 40, sympy.Dummy("d"),
    np.int64(3), np.int32(-2), np.float64(0.5), np.float32(0.1), np.float64("nan"), np.bool_(True),
    np.array([1, 2]), np.array(5), Unprintable(), object(), ca.reduce(ca.t), ca.module("bottleneck"),
    ca.Conv(8, 8), ca.network("resnet18"), print,
]

MODULE = ca.module("bottleneck")


class Pairs(Mapping):
    """A mapping that holds any key, hashable or not (a list as a symbol, say)."""

    def __init__(self, *pairs: tuple[Any, Any]) -> None:
        self._pairs = pairs

    def __getitem__(self, key: Any) -> Any:
        return next(v for k, v in self._pairs if k is key)

    def __iter__(self) -> Iterator[Any]:
        return (k for k, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)


def entry_points() -> list[tuple[str, Callable[[Any], Any]]]:
    """Every public function and constructor that takes a value or an expression, each with
    the hostile value put where a value (or a name, or an expression) goes."""
    K, M, N, I, t = ca.K, ca.M, ca.N, ca.I, ca.t
    net = ca.network("resnet18")
    out: list[tuple[str, Callable[[Any], Any]]] = [
        ("canonical", ca.canonical), ("ratio a", lambda x: ca.ratio(x, K)), ("ratio b", lambda x: ca.ratio(K, x)),
        ("equal_channels", ca.equal_channels), ("text", ca.text), ("latex", ca.latex),
        ("parse_number", ca.parse_number), ("parse_expression", ca.parse_expression),
        ("explain name", ca.explain), ("explain value", lambda x: ca.explain("bottleneck", {"K": x})),
        ("explain keyword", lambda x: ca.explain("group", G=x)), ("explain key", lambda x: ca.explain("group", Pairs((x, 2)))),
        ("explain values", lambda x: ca.explain("fire", x)),
        ("evaluate", lambda x: ca.evaluate(MODULE, {"K": 3, "M": 8, "N": 8, "I": x})),
        ("compare a", lambda x: ca.compare(x, "group")), ("compare value", lambda x: ca.compare("bottleneck", "group", t=x)),
        ("budget", lambda x: ca.budget("bottleneck", K=3, M=x, N=64)), ("budget name", ca.budget),
        ("break_even", lambda x: ca.break_even("inverted-bottleneck", {"K": 3, "M": 64, "N": x})),
        ("limit_large_N", lambda x: ca.limit_large_N("fire", p=x)),
        ("module", ca.module), ("network", ca.network), ("count size", net.count), ("total size", net.total),
        ("min_size", net.min_size), ("count auxiliary", lambda x: net.count(224, auxiliary=x)),
        ("Module default", lambda x: ca.limit_large_N(ca.Module("m", ca.reduce(t), {t: x}), K=3)),
        ("Module example", lambda x: ca.explain(ca.Module("m", ca.reduce(t), {t: 2}, example={K: x}))),
        ("Module name", lambda x: ca.Module(x, ca.reduce(t))), ("Module rule", lambda x: ca.Module("m", x)),
        ("compose parameters", lambda x: ca.compare(ca.compose(ca.reduce(t), name="m", parameters={"t": x}), "group")),
        ("compose parameters key", lambda x: ca.compose(ca.reduce(t), name="m", parameters=Pairs((x, 2)))),
        ("compose rule", lambda x: ca.compose(x, name="m")), ("compose name", lambda x: ca.compose(ca.reduce(t), name=x)),
        ("group", ca.group), ("stack", ca.stack), ("reduce", ca.reduce), ("expand", ca.expand), ("squeeze", ca.squeeze),
        ("mix", ca.mix), ("shuffle", ca.shuffle), ("group on", lambda x: ca.group(2, on=x)),
        ("group which", lambda x: ca.group(2, which=x)), ("separate", ca.separate), ("factorize", ca.factorize),
        ("chain", ca.chain), ("rule on a block", lambda x: ca.group(2)(x)),
        ("Conv in", lambda x: ca.Conv(x, 8)), ("Conv out", lambda x: ca.Conv(8, x)),
        ("Conv kernel", lambda x: ca.Conv(8, 8, x)), ("Conv groups", lambda x: ca.Conv(8, 8, groups=x)),
        ("Conv stride", lambda x: ca.Conv(8, 8, stride=x)), ("Conv padding", lambda x: ca.Conv(8, 8, padding=x)),
        ("Conv dilation", lambda x: ca.Conv(8, 8, dilation=x)), ("Conv bias", lambda x: ca.Conv(8, 8, bias=x)),
        ("Conv name", lambda x: ca.Conv(8, 8, name=x)), ("Shuffle", lambda x: ca.Shuffle(x, 2)),
        ("Linear in", lambda x: ca.Linear(x, 10)), ("Linear out", lambda x: ca.Linear(8, x)),
        ("Linear in_size", lambda x: ca.Linear(8, 10, in_size=x)), ("Pool kernel", lambda x: ca.Pool(8, x)),
        ("Pool stride", lambda x: ca.Pool(8, 3, stride=x)), ("Pool padding", lambda x: ca.Pool(8, 3, padding=x)),
        ("Pool kind", lambda x: ca.Pool(8, 3, kind=x)), ("AdaptivePool", lambda x: ca.AdaptivePool(8, x)),
        ("BatchNorm", ca.BatchNorm), ("Repeat", lambda x: ca.Repeat(ca.Conv(8, 8), x)), ("Series", ca.Series),
        ("Parallel", ca.Parallel), ("Residual", ca.Residual),
        ("count", lambda x: ca.count(ca.Conv(8, 8), x)), ("total", lambda x: ca.total(ca.Conv(M, N, (K, K)), x)),
        ("count block", lambda x: ca.count(x, 8)), ("total block", lambda x: ca.total(x, I)),
        ("to_torch", ca.to_torch),
        ("output_size size", lambda x: ca.output_size(x, 3)), ("output_size kernel", lambda x: ca.output_size(8, x)),
        ("macs", lambda x: ca.Conv(8, 8).macs(x)),
        ("sweep expression", lambda x: ca.sweep(x, N=8, K=3)), ("sweep value", lambda x: ca.sweep("N*K", N=x, K=3)),
        ("sweep key", lambda x: ca.sweep("N", Pairs((x, 1)))), ("sweep grid", lambda x: ca.sweep("N", x)),
        ("compile_numpy", ca.compile_numpy),
        ("break_even_points", lambda x: break_even_points(x, [t])), ("break_even_points of", lambda x: break_even_points(t, x)),
        ("large_N_limit", large_N_limit),
        ("plot modules", lambda x: ca.plot_ratios(x, points=4)), ("plot over", lambda x: ca.plot_ratios("group", over=x, points=4)),
        ("plot values", lambda x: ca.plot_ratios("group", values={"K": x}, points=4)),
        ("plot between", lambda x: ca.plot_ratios("group", between=(x, 64), points=4)),
        ("plot points", lambda x: ca.plot_ratios("group", points=x)),
        ("plot_network", ca.plot_network), ("plot_network size", lambda x: ca.plot_network("resnet18", input_size=x)),
        ("plot_network by", lambda x: ca.plot_network("resnet18", by=x)),
        ("layer_traffic size", lambda x: ca.layer_traffic(ca.Conv(8, 8), x)), ("layer_traffic layer", lambda x: ca.layer_traffic(x, 8)),
        ("traffic block", lambda x: ca.traffic(x, 8)), ("traffic size", lambda x: ca.traffic(ca.Conv(8, 8), x)),
        ("peak_memory", lambda x: ca.peak_memory(ca.Conv(8, 8), x)), ("intensity", lambda x: ca.intensity(x, 4)),
        ("intensity bytes", lambda x: ca.intensity(4, x)),
        ("network_memory size", lambda x: ca.network_memory("resnet18", x)),
        ("network_memory dtype", lambda x: ca.network_memory("resnet18", 32, x)),
        ("explain memory dtype", lambda x: ca.explain("group", memory=True, dtype=x)),
        ("fragments", ca.fragments), ("least_traffic", ca.least_traffic),
        ("least_traffic values", lambda x: ca.least_traffic("group", {"K": x})),
        ("device", ca.device), ("Device peak", lambda x: ca.Device("d", {"fp32": x}, 10)),
        ("Device bandwidth", lambda x: ca.Device("d", {"fp32": 10}, x)),
        ("roofline device", lambda x: ca.roofline("resnet18", x)), ("roofline size", lambda x: ca.roofline("resnet18", "t4", x)),
        ("roofline dtype", lambda x: ca.roofline("resnet18", "t4", 32, x)),
        ("crossing over", lambda x: ca.crossing(ca.Conv(N, N, (1, 1)), x, "t4")),
        ("crossing values", lambda x: ca.crossing(ca.Conv(N, N, (1, 1)), N, "t4", values={"I": x})),
        ("plot_roofline device", lambda x: ca.plot_roofline("resnet18", x)),
        ("plot_roofline size", lambda x: ca.plot_roofline("resnet18", "t4", input_size=x)),
        ("recognize", ca.recognize),
        ("training_cost network", lambda x: ca.training_cost(x, 32, 1)),
        ("training_cost size", lambda x: ca.training_cost("resnet18", x, 1)),
        ("training_cost batch", lambda x: ca.training_cost("resnet18", 32, x)),
        ("training_cost freeze", lambda x: ca.training_cost("resnet18", 32, 1, freeze=x)),
        ("training_cost freeze item", lambda x: ca.training_cost("resnet18", 32, 1, freeze=[x])),
        ("training_cost optimizer", lambda x: ca.training_cost("resnet18", 32, 1, optimizer=x)),
        ("training_cost dtype", lambda x: ca.training_cost("resnet18", 32, 1, dtype=x)),
        ("batch_that_fits", lambda x: ca.training_cost("resnet18", 32).batch_that_fits(x)),
        ("frozen_layers", lambda x: ca.frozen_layers("resnet18", x)),
        ("plot_training_memory", lambda x: ca.plot_training_memory(x, 32, batches=[1, 2])),
        ("plot_training_memory memory", lambda x: ca.plot_training_memory("resnet18", 32, device_memory=x,
                                                                          batches=[1, 2])),
        # issue 18: the entry points and the parameters that still let a foreign error through
        ("recognize_network", ca.recognize_network), ("peer_counts", ca.peer_counts),
        ("peak_memory channels", lambda x: ca.peak_memory(ca.Conv(8, 8), 8, x)),
        ("network alpha", lambda x: ca.network("mobilenet_v2", x)), ("explain memory", lambda x: ca.explain("group", memory=x)),
        ("least_traffic mapping", lambda x: ca.least_traffic("group", x)),
        ("crossing mapping", lambda x: ca.crossing(ca.Conv(N, N, (1, 1)), N, "t4", values=x)),
        ("plot values mapping", lambda x: ca.plot_ratios("group", values=x, points=4)),
        ("total_symbolic exact", lambda x: net.total_symbolic(exact=x)), ("evaluate module", lambda x: ca.evaluate(x, {"K": 3})),
        ("Network channels", lambda x: ca.Network("n", "n", (), in_channels=x)),
        ("Network size", lambda x: ca.Network("n", "n", (), default_size=x)), ("fragments block", ca.fragments),
        ("to_torch repeat", lambda x: ca.to_torch(ca.Repeat(ca.Conv(8, 8), x))), ("load_model", ca.load_model),
        ("from_torch strict", lambda x: ca.from_torch(ca.to_torch(ca.Conv(8, 8), device="meta"), (8, 8, 8), strict=x)),
        ("stack k", lambda x: ca.explain(ca.compose(ca.stack(x), name="m"))),
    ]
    return out


ENTRIES = entry_points()


def answers_or_refuses(call: Callable[[Any], Any], value: Any) -> None:
    """The call returns, or raises the library's error: nothing else reaches the user."""
    try:
        call(value)
    except ca.ConvAlgebraError:
        pass


@pytest.fixture(autouse=True)
def _no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "user text was evaluated"


@pytest.mark.parametrize("name,call", ENTRIES, ids=[name for name, _ in ENTRIES])
def test_no_text_given_to_any_entry_point_is_evaluated(name, call):
    pytest.importorskip("matplotlib")
    for text in payloads():
        answers_or_refuses(call, text)
        assert not MARKER.exists(), (name, text)


def test_the_command_line_evaluates_no_text(tmp_path):
    from convalgebra.cli import main

    import io

    for text in payloads():
        for argv in (["explain", "bottleneck", "--set", f"K={text}"], ["compare", text, "group"],
                     ["budget", "group", "--set", f"G={text}"], ["network", "resnet18", "--set", f"I={text}"],
                     ["plot", "group", "--over", text, "--out", str(tmp_path / "x.png")],
                     ["plot", "group", "--between", text, "4", "--out", str(tmp_path / "x.png")],
                     ["network", "resnet18", "--training", "--batch", text],
                     ["network", "resnet18", "--training", "--freeze", text]):
            assert main(argv, out=io.StringIO(), err=io.StringIO()) == 2
    assert not MARKER.exists()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=st.sampled_from(ENTRIES), value=st.sampled_from(HOSTILE))
def test_every_entry_point_answers_or_raises_the_librarys_error(entry, value):
    pytest.importorskip("matplotlib")
    answers_or_refuses(entry[1], value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=st.sampled_from(ENTRIES),
       value=st.one_of(st.text(max_size=70), st.integers(), st.floats(), st.fractions(), st.binary(max_size=8),
                       st.lists(st.integers(), max_size=3), st.complex_numbers(), st.none(), st.booleans()))
def test_every_entry_point_takes_drawn_values_without_a_foreign_error(entry, value):
    pytest.importorskip("matplotlib")
    answers_or_refuses(entry[1], value)


# -- a user's own symbols, and the numbers users have ----------------------------------------

def bottleneck_macs(K: int, M: int, N: int, I: int, t: int = 4) -> int:
    """ResNet's bottleneck by hand: 1 x 1 down to N/t, K x K there, 1 x 1 back up, per pixel."""
    return (M * (N // t) + K * K * (N // t) ** 2 + (N // t) * N) * I * I


USER = dict(zip("KMNIGtpk", sympy.symbols("K M N I G t p k")))  # no assumptions: not the library's objects


def test_a_users_own_symbols_are_the_librarys_by_name():
    K, M, N, I, t = (USER[n] for n in "KMNIt")
    e = ca.explain("bottleneck", {K: 7, M: 64, N: 64, I: 8})
    assert e.numbers.rewritten.macs == bottleneck_macs(7, 64, 64, 8) == 933_888
    assert ca.budget("bottleneck", {K: 3, M: 256, N: 256}).value == ca.budget("bottleneck", K=3, M=256, N=256).value
    assert ca.compare("bottleneck", "group", {K: 3}).at_condition == ca.compare("bottleneck", "group", K=3).at_condition
    assert ca.limit_large_N("bottleneck", {K: 3, t: 2}).value == ca.limit_large_N("bottleneck", K=3, t=2).value
    assert ca.canonical(K**2 * M / (K**2 * M * N)) == 1 / ca.N
    assert ca.group(USER["G"])(ca.Conv(ca.M, ca.N, (ca.K, ca.K))).groups is ca.G
    assert ca.network("resnet50").count(I).macs == ca.network("resnet50").count(ca.I).macs
    sweep = ca.sweep(K**2 * M, {K: [1, 2], M: 3})
    assert sweep.columns["value"].tolist() == [3, 12]
    fig = ca.plot_ratios(["bottleneck"], over=t, values={K: 3, N: 256}, points=4)
    assert "K = 3, N = 256" in fig.axes[0].get_title()
    with pytest.raises(ca.UnknownNameError, match="unknown symbol 'Q'"):
        ca.explain("bottleneck", {sympy.Symbol("Q"): 3})


WHOLE: list[Callable[[int], Any]] = [int, np.int64, np.int16, sympy.Integer, float, np.float64, str, Fraction,
                                     lambda n: sympy.Float(n)]


@pytest.mark.parametrize("whole", WHOLE, ids=["int", "int64", "int16", "Integer", "float", "float64", "str",
                                             "Fraction", "Float"])
def test_whole_numbers_in_every_form_are_whole_everywhere(whole):
    assert ca.explain("bottleneck", K=whole(3), M=whole(64), N=whole(64), I=whole(8)).numbers.rewritten.macs \
        == bottleneck_macs(3, 64, 64, 8)
    assert ca.network("resnet18").count(whole(225)).size == 225
    conv = ca.Conv(whole(64), whole(8), whole(3))
    assert conv == ca.Conv(64, 8, (3, 3)) and type(conv.in_channels) is int and type(conv.kernel[0]) is int
    assert ca.group(whole(4))(ca.Conv(64, 64)).groups == 4 and ca.Repeat(ca.Conv(8, 8), whole(3)).count == 3
    assert ca.budget("group", K=3, M=64, N=64, G=whole(4)).value == 4 * 64  # N' = G*N
    assert ca.sweep("N", N=whole(3)).rows == [{"N": 3, "value": 3.0}]
    assert ca.compose(ca.reduce(ca.t), name="m", parameters={ca.t: whole(3)}).parameters == {ca.t: 3}
    assert ca.plot_network("resnet18", input_size=whole(64)).axes[0].get_title().startswith("resnet18 at 3 x 64 x 64")


def test_floats_and_text_are_read_as_typed_and_stored_exact():
    mine = ca.compose(ca.reduce(ca.t), name="m", parameters={ca.t: 0.1})
    assert mine.parameters == {ca.t: Fraction(1, 10)}
    limit = ca.limit_large_N(mine, K=3)
    assert limit.value.macs == sympy.Rational(920, 9)  # (K**2 + 2t)/(K**2 t**2) at K = 3, t = 1/10, exactly
    assert "." not in ca.text(limit.value.macs)  # an exact fraction, never a float's digits
    assert ca.Module("m", ca.reduce(ca.t), {ca.t: "0.25"}).parameters == {ca.t: Fraction(1, 4)}
    assert ca.evaluate(ca.module("fire"), {"K": 3, "M": 96, "N": 128, "I": 55, "p": "1/2"}).values[ca.p] == Fraction(1, 2)
    assert ca.mix(0.25) == ca.mix(Fraction(1, 4)) == ca.mix("1/4")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_is_the_decimal_it_prints_as_or_is_refused_past_64_digits(x):
    typed = Fraction(repr(x))
    if max(abs(typed.numerator), typed.denominator) >= 10**64:
        with pytest.raises(ca.InvalidValueError, match="more than 64 digits"):
            exact(x)
    else:
        value = exact(x)
        assert value == typed and (isinstance(value, int) or value.denominator > 1)


@pytest.mark.parametrize("bad", [sympy.I, -ca.I, sympy.sqrt(2), 2.5, -3, 0, True, "I/0", sympy.Symbol("x")])
def test_a_network_is_counted_only_at_an_input_size_that_can_be_one(bad):
    with pytest.raises(ca.ConvAlgebraError):
        ca.network("resnet18").count(bad)


@pytest.mark.parametrize("make", [
    lambda: ca.Conv(-ca.M, ca.N), lambda: ca.Conv(ca.M, ca.N, groups=-ca.G), lambda: ca.Conv(sympy.I, 8),
    lambda: ca.Conv(8, 8, (sympy.sqrt(2), 3)), lambda: ca.Conv(8, 8, bias=1), lambda: ca.Conv(8, 8, bias="no"),
    lambda: ca.Pool(8, 3, stride=0), lambda: ca.Pool(8, 3, ceil_mode=1), lambda: ca.Linear(8, 10, bias=0),
    lambda: ca.Repeat(ca.Conv(8, 8), -ca.k), lambda: ca.Conv(8, 8, stride=ca.K), lambda: ca.Conv(8, 8, padding=-1),
    lambda: ca.Conv(8, 8, dilation=0), lambda: ca.Shuffle(ca.N, 1 - ca.G), lambda: ca.mix(1 + ca.p),
    lambda: ca.reduce(-ca.t), lambda: ca.group(ca.G - ca.G - 1), lambda: ca.stack(1), lambda: ca.mix(1.5),
])
def test_a_field_that_makes_no_layer_is_refused_symbolic_or_not(make):
    with pytest.raises(ca.InvalidValueError):
        make()


@given(st.sampled_from(["K", "M", "N", "I", "G", "t", "p", "k", "alpha", "rho"]),
       st.one_of(st.integers(-10**6, 10**6), st.fractions(max_denominator=10**6).filter(lambda q: abs(q) < 10**6),
                 st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-6)))
def test_one_table_decides_every_value_everywhere(name, value):
    """A value the table refuses is refused by explain's values, by a rule's argument and by
    a sweep's axis alike; one it accepts is accepted by all three."""
    from convalgebra.symbols import VALID
    from convalgebra.values import check_values  # what explain, compare, budget and plots check values with

    number = exact(value)
    accepted = VALID[name].holds(number)
    verdicts = []
    for use in (lambda: check_values({name: value}),
                lambda: {"G": ca.group, "k": ca.stack, "t": ca.reduce, "p": ca.mix}.get(name, ca.group)(value),
                lambda: ca.sweep(name, {name: value})):
        try:
            use()
            verdicts.append(True)
        except ca.InvalidValueError:
            verdicts.append(False)
    if name not in ("G", "k", "t", "p"):
        verdicts.pop(1)  # no rule takes a size
    whole = not VALID[name].whole or number == math.floor(number)
    assert verdicts[0] == accepted
    if name in ("G", "k", "t", "p"):
        assert verdicts[1] == accepted
    assert verdicts[-1] == (not bool(VALID[name].outside(number)))  # a sweep's grid need not be whole
    assert accepted <= whole


# -- issue 18, section 3: the hostile inputs that still got through -------------------------

def _cli(argv: list[str]) -> tuple[int, str, str]:
    import io

    from convalgebra.cli import main

    out, err = io.StringIO(), io.StringIO()
    return main(argv, out=out, err=err), out.getvalue(), err.getvalue()


def _one_line_refusal(argv: list[str], *words: str) -> str:
    code, out, err = _cli(argv)
    assert (code, out) == (2, ""), (argv, code, out, err)
    assert err.startswith("convalgebra: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)
    return err


@pytest.mark.parametrize("argv", [
    ["count", "torchvision:resnet18"], ["count", "timm:resnet50"], ["count", "model.py:build"], ["count", "nonsense"],
    ["count", "torchvision:resnet18", "--set", "I=0"], ["count", "torchvision:resnet18", "--conventions"],
    ["count", "torchvision:resnet18", "--symbolic", "--format", "json"],
])
def test_count_without_torch_is_one_line_naming_the_extra(argv, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # import torch fails, as where it is not installed
    monkeypatch.setitem(__import__("sys").modules, "torchvision", None)
    _one_line_refusal(argv, 'pip install "convalgebra[torch]"')


def test_the_torch_entry_points_without_torch_name_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    for call in (lambda: ca.from_torch(None), lambda: ca.load_model("torchvision:resnet18"),
                 lambda: ca.to_torch(ca.Conv(8, 8))):
        with pytest.raises(ca.ConvAlgebraError, match=r'pip install "convalgebra\[torch\]"'):
            call()


@pytest.mark.parametrize("rules", [12, 16])
def test_a_chain_of_ghost_rules_is_refused_at_once_with_the_reason(rules):
    rule = "chain(" + ", ".join(["ghost(2)"] * rules) + ")"
    _one_line_refusal(["explain", "--rule", rule], "ghost(2) cannot rewrite", "groups do not divide")
    with pytest.raises(ca.InvalidValueError, match="ghost"):
        ca.explain(ca.compose(ca.chain(*[ca.ghost(2)] * 14), name="ghosts"))


def test_a_rule_chain_that_grows_geometrically_is_refused_before_it_is_built():
    """reduce on='any' rewrites the convolutions the rule before it made: 3**n layers."""
    from convalgebra.blocks import iter_layers
    from convalgebra.rules import MOST_LAYERS

    six = ca.chain(*[ca.reduce(2, on="any")] * 6)(ca.standard())
    assert len(list(iter_layers(six))) == 3**6 <= MOST_LAYERS
    with pytest.raises(ca.InvalidValueError, match=f"2187 layers from one of 729; a rewrite makes at most {MOST_LAYERS}"):
        ca.chain(*[ca.reduce(2, on="any")] * 14)(ca.standard())
    _one_line_refusal(["explain", "--rule", "chain(" + ", ".join(["reduce(2, on='any')"] * 40) + ")"],
                      "a rewrite makes at most")


class _NoModule:
    pass


_NoModule.__module__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("value", [sympy.Function("f")(ca.K), sympy.Function("g"), _NoModule()],
                         ids=["applied function", "function class", "type without module"])
def test_a_type_whose_module_is_none_is_named_in_the_message(value):
    for call in (ca.explain, ca.module, ca.network, ca.text, lambda v: ca.count(v, 8), ca.recognize, ca.Series,
                 lambda v: ca.Residual(v), ca.to_torch, ca.fragments, lambda v: ca.traffic(v, 8),
                 lambda v: ca.layer_traffic(v, 8), ca.device, lambda v: ca.roofline("resnet18", v)):
        answers_or_refuses(call, value)  # f(K) prints, for one
    from convalgebra.errors import wrong_type

    assert str(wrong_type(sympy.Function("f")(ca.K), "a layer")) == "f(K): expected a layer, not f"


@pytest.mark.parametrize("call", [
    lambda: ca.recognize_network(None), lambda: ca.peer_counts(None), lambda: ca.peak_memory(ca.Conv(8, 8), 56, {}),
    lambda: ca.network("mobilenet_v2", sympy.Matrix([1])), lambda: ca.explain("group", memory=np.array([1, 2])),
    lambda: ca.explain("group", memory=1), lambda: ca.least_traffic("group", np.array([1, 2])),
    lambda: ca.crossing(ca.Conv(ca.N, ca.N, (1, 1)), ca.N, "t4", values=np.array([1, 2])),
    lambda: ca.plot_ratios("group", values=np.array([1, 2]), points=4),
    lambda: ca.network("resnet18").total_symbolic(exact=np.array([1, 2])),
    lambda: ca.evaluate({}, {"K": 3}), lambda: ca.Network("n", "n", (), in_channels={}),
    lambda: ca.stack(10**60), lambda: ca.network("resnet50\x00"),
], ids=["recognize_network", "peer_counts", "peak_memory channels", "network alpha", "explain memory",
        "explain memory int", "least_traffic", "crossing", "plot_ratios", "total_symbolic exact", "evaluate",
        "Network channels", "stack", "network name"])
def test_each_value_that_got_through_is_the_librarys_error(call):
    pytest.importorskip("matplotlib")
    with pytest.raises(ca.ConvAlgebraError):
        call()


@pytest.mark.parametrize("argv,words", [
    (["explain", "--rule", "stack(10**60)"], ["no network has a kernel larger than 1000"]),
    (["explain", "vgg-stack", "--set", "k=1001"], ["expected a whole number from 2 to 1000"]),
    (["network", "resnet50", "--roofline", ""], ["unknown device ''"]),
    (["network", "resnet50\x00"], ["control character", "\\x00"]),
])
def test_each_command_line_that_got_through_is_refused_in_one_line(argv, words):
    _one_line_refusal(argv, *words)


def _nested(kind: str, depth: int) -> Any:
    block: Any = ca.Conv(8, 8)
    for _ in range(depth):
        block = ca.Series(block) if kind == "series" else ca.Repeat(block, 1)
    return block


@pytest.mark.parametrize("kind", ["series", "repeat"])
def test_a_block_nested_thousands_deep_is_counted(kind):
    """Every walk is a loop: a conv inside 3,000 Series (or Repeat once) costs what it costs alone,
    3*3*8*8*I*I MACs and 576 weights, through every walk of a block."""
    depth = 3000
    block = _nested(kind, depth)
    alone = ca.Conv(8, 8)
    macs = 3 * 3 * 8 * 8 * 16 * 16
    assert ca.total(block, 16) == (macs, 576) and [r.macs for r in ca.count(block, 16)] == [macs]
    assert ca.traffic(block, 16) == ca.traffic(alone, 16) == ca.Traffic(8 * 16 * 16, 8 * 16 * 16, 576)
    assert ca.peak_memory(block, 16) == ca.peak_memory(alone, 16) == 2 * 8 * 16 * 16
    assert block == _nested(kind, depth) and hash(block) == hash(_nested(kind, depth)) and block != _nested(kind, depth - 1)
    assert repr(block).count("Conv(8, 8") == 1 and repr(block).count("(body=" if kind == "repeat" else "(items=(") == depth
    assert ca.recognize(block) == ca.recognize(alone)
    assert ca.total(ca.group(2)(block), 16) == (macs // 2, 576 // 2)
    net = ca.Network("deep", "deep", (ca.Stage("s", ca.Series(ca.Conv(3, 8), block)),), default_size=16)
    assert net.total(16) == (3 * 3 * 3 * 8 * 16 * 16 + macs, 3 * 3 * 3 * 8 + 576)
    assert ca.fragments(block).layers == 1


def test_a_block_nested_deep_exports_to_torch_as_deep_as_torch_walks():
    """PyTorch's own walks of a model recurse once per level: an export as deep as they go is
    counted by FlopCounterMode as the library counts it; a deeper one is refused with the reason."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from convalgebra.torch_export import MOST_NESTED

    block = _nested("series", MOST_NESTED)
    model = ca.to_torch(block, device="meta")
    assert sum(p.numel() for p in model.parameters()) == 576
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 8, 16, 16, device="meta"))
    assert counter.get_total_flops() // 2 == ca.total(block, 16)[0]
    with pytest.raises(ca.InvalidValueError, match="nested 3000 deep"):
        ca.to_torch(_nested("series", 3000))


def test_the_walks_past_their_bounds_are_refused_with_the_reason():
    """A walk for lifetimes visits each repeated body twice, and an export makes each repeat its own
    layers: nested repeats past the bound are refused before the walk, not left to run."""
    doubled = _nested("series", 0)
    for _ in range(30):
        doubled = ca.Repeat(doubled, 2)
    assert ca.total(doubled, 8)[0] == 2**30 * 3 * 3 * 8 * 8 * 8 * 8  # the count needs no unrolling
    with pytest.raises(ca.InvalidValueError, match="30 nested repeats make 1073741824 steps"):
        ca.peak_memory(doubled, 8)
    with pytest.raises(ca.InvalidValueError, match="1073741824 here"):
        ca.to_torch(doubled)


def test_the_traffic_and_peak_of_ten_thousand_layers_in_linear_time():
    """10,000 layers in series: each reads its input and writes its output; two maps are alive at
    once. (Summing every storage at every step was quadratic: 32 s for this block.)"""
    n, size = 10_000, 8
    block = ca.Series(*[ca.Conv(8, 8, (1, 1)) for _ in range(n)])
    one = 8 * size * size
    assert ca.traffic(block, size) == ca.Traffic(n * one, n * one, n * 64)
    assert ca.peak_memory(block, size) == 2 * one
    shorter = ca.Series(*block.items[:1000])  # in closed form, a tenth as long is enough to show the sums
    assert ca.peak_memory(shorter, (ca.H, ca.W)) == 2 * 8 * ca.H * ca.W
    assert ca.traffic(shorter, ca.I).elements == 2 * 1000 * 8 * ca.I**2 + 1000 * 64
