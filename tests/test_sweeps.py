"""Sweeps: compiled once to numpy, equal to exact evaluation at the points of the grid."""

from __future__ import annotations

import functools
import subprocess
import sys
from fractions import Fraction as Fr

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.symbols import I, K, M, N, t

from test_modules import article_macs, sizes

np = pytest.importorskip("numpy")

NAMES = ca.module_names()


def exact(expr: sympy.Expr, row: dict) -> sympy.Expr:
    return sympy.sympify(expr).subs({ca.SYMBOLS[name]: sympy.Rational(str(v)) for name, v in row.items()})


@functools.lru_cache(maxsize=None)
def closed_forms(name: str) -> tuple[sympy.Expr, ...]:
    """A module's closed forms: MACs, ratios, the kernels a budget buys, its break-even points."""
    e = ca.explain(name)
    return (e.rewritten.macs, e.ratio.macs, e.ratio_equal_channels.macs, ca.budget(name).N, *e.break_even.values())


@st.composite
def grids(draw):
    """A module, one of its closed forms, and a grid over every symbol it holds."""
    expr = draw(st.sampled_from(closed_forms(draw(st.sampled_from(NAMES)))))
    symbols = sorted(expr.free_symbols, key=str)
    axis = {"p": st.sampled_from([0, 0.25, 0.5, 1]), "t": st.sampled_from([0.5, 1, 2, 4, 6])}
    grid = {str(s): draw(st.lists(axis.get(str(s), st.integers(2, 600)), min_size=1, max_size=4, unique=True))
            for s in symbols}
    return expr, grid


@settings(max_examples=60, deadline=None)
@given(case=grids(), picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=5))
def test_sweep_values_equal_exact_evaluation_at_sampled_points(case, picks):
    expr, grid = case
    s = ca.sweep(expr, grid)
    assert len(s) == int(np.prod([len(v) for v in grid.values()]))
    for i in (pick % len(s) for pick in picks):
        row = s.rows[i]
        point = {name: v for name, v in row.items() if name != "value"}
        value = exact(expr, point)
        if value.is_finite and value.is_real:
            # floating point loses digits where large terms cancel (a budget's -G*K**2/2 + sqrt(...)/2):
            # the error allowed grows with the terms' size, not only the result's
            terms = sum(abs(complex(exact(term, point))) for term in sympy.Add.make_args(expr))
            assert row["value"] == pytest.approx(float(value), rel=1e-12, abs=1e-12 * terms + 1e-300)
        else:  # a division by zero, or a square root of a negative number
            assert not np.isfinite(row["value"])


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_swept_costs_equal_the_articles_formula(name, data):
    """A module's MACs swept over N equal the article's formula, written separately."""
    values = data.draw(sizes(name))
    e = ca.explain(name)
    widths = [values["N"], 2 * values["N"], 3 * values["N"]]
    s = ca.sweep(e.rewritten.macs, {**values, "N": widths})
    for row, width in zip(s.rows, widths):
        assert row["value"] == pytest.approx(float(article_macs(name, **{**values, "N": width})), rel=1e-12)


def test_grid_order_is_the_first_symbol_slowest():
    s = ca.sweep(M * N, M=[1, 2], N=[10, 20, 30])
    assert s.to_dict() == {"M": [1, 1, 1, 2, 2, 2], "N": [10, 20, 30, 10, 20, 30],
                           "value": [10.0, 20.0, 30.0, 20.0, 40.0, 60.0]}
    assert [row["value"] for row in s] == s.to_dict()["value"]


def test_several_expressions_and_a_cost_sweep_together():
    e = ca.explain("depthwise-separable")
    s = ca.sweep(e.rewritten, K=3, M=512, N=[256, 512], I=14)
    assert s.names == ("K", "M", "N", "I", "macs", "params")
    assert s.columns["macs"].tolist()[1] == ca.explain("depthwise-separable", K=3, M=512, N=512, I=14).numbers.rewritten.macs


def test_width_and_resolution_multipliers_scale_the_sizes():
    """MobileNet V1, Table 3: alpha = 0.75 and rho = 5/7 on the 14 x 14 x 512 layer."""
    e = ca.explain("depthwise-separable")
    s = ca.sweep(e.rewritten.macs, K=3, M=512, N=512, I=14, alpha=[0.75, 1], rho=[5 / 7, 1])
    expected = [ca.evaluate(ca.module("depthwise-separable"),
                            {"K": 3, "M": 512, "N": 512, "I": 14, "alpha": a, "rho": r}).rewritten.macs
                for a in (Fr(3, 4), 1) for r in (Fr(5, 7), 1)]
    assert s.columns["value"] == pytest.approx(expected, rel=1e-12)


def test_text_is_read_without_eval_and_symbols_are_checked():
    assert ca.sweep("1/N + 1/K**2", K=3, N=9).rows == [{"K": 3, "N": 9, "value": pytest.approx(2 / 9)}]
    with pytest.raises(ca.InvalidValueError, match="cannot read"):
        ca.sweep("__import__('os').system('true')", K=3)
    with pytest.raises(ca.UnknownNameError, match="unknown symbol 'Q'"):
        ca.sweep(M * N, M=1, Q=[1, 2])
    with pytest.raises(ca.UnknownNameError, match="unknown symbol 'x'"):
        ca.sweep(sympy.Symbol("x") * N, N=[1])
    with pytest.raises(ca.InvalidValueError, match="no value for N"):
        ca.sweep(M * N, M=[1, 2])
    with pytest.raises(ca.InvalidValueError, match="cannot read 'a'"):
        ca.sweep(M * N, M=["a"], N=1)
    with pytest.raises(ca.InvalidValueError, match="M: expected numbers"):
        ca.sweep(M * N, M=["N"], N=1)
    with pytest.raises(ca.InvalidValueError, match="no values"):
        ca.sweep(M * N, M=[], N=1)
    with pytest.raises(ca.InvalidValueError, match="finite"):
        ca.sweep(M * N, M=[float("inf")], N=1)


def test_a_symbol_the_expression_lacks_is_a_constant_column():
    s = ca.sweep(ca.explain("group").ratio.macs, G=[1, 2], N=[8, 16])
    assert s.to_dict()["value"] == [1.0, 1.0, 0.5, 0.5]


def test_compiled_once_then_called_on_arrays():
    f = ca.compile_numpy({"macs": I**2 * K**2 * M * N / t, "ratio": 1 / t})
    assert f.symbols == (K, M, N, I, t)
    out = f(K=3, M=np.array([64, 128]), N=64, I=56, t=4)
    assert out["macs"].tolist() == [9 * 64 * 64 * 56 * 56 / 4, 9 * 128 * 64 * 56 * 56 / 4]
    assert out["ratio"].tolist() == [0.25, 0.25]


def test_notebook_views():
    s = ca.sweep(M * N, M=range(1, 31), N=2)
    markdown = s._repr_markdown_()
    assert "\n| M | N | value |\n" in markdown and "20 more rows of 30" in markdown
    pd = pytest.importorskip("pandas")
    frame = s.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["M", "N", "value"] and len(frame) == 30


def test_numpy_is_not_imported_until_a_sweep_runs():
    code = ("import sys, convalgebra as ca\n"
            "import convalgebra.sweeps\n"
            "ca.explain('bottleneck', K=3, M=64, N=64, I=8)\n"
            "assert 'numpy' not in sys.modules, 'numpy imported early'\n"
            "ca.sweep('M*N', M=[1, 2], N=3)\n"
            "assert 'numpy' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sweeping_something_that_is_not_an_expression_is_a_library_error():
    pytest.importorskip("numpy")
    with pytest.raises(ca.InvalidValueError, match="cannot sweep an object of type Explanation"):
        ca.sweep(ca.explain("bottleneck"), N=[1, 2])


@pytest.mark.parametrize("axes,message", [
    ({"N": [64], "K": 3, "M": 64, "t": 0}, "t = 0: expected a value > 0"),
    ({"N": [64, 0], "K": 3, "M": 64, "t": 1}, "N = 0: expected a value >= 1"),
    ({"N": 64, "K": 3, "M": 64, "t": 1, "p": [0.5, 2]}, "p = 2.0: expected a share from 0 to 1"),
    ({"N": 64, "K": 3, "M": 64, "t": 1, "k": [1, 3]}, "k = 1: expected a value from 2 to 1000"),
    ({"N": 64, "K": 3, "M": 64, "t": 1, "k": [3, 1001]}, "k = 1001: expected a value from 2 to 1000"),
])
def test_a_grid_value_without_sense_is_refused_as_explain_refuses_it(axes, message):
    with pytest.raises(ca.InvalidValueError, match=message):
        ca.sweep(ca.explain("bottleneck").ratio.macs, **axes)
