"""Sweeps: a cost or ratio evaluated over a grid of values, at numpy speed.

The closed form is compiled once (``sympy.lambdify`` to numpy) and evaluated on the whole
grid in one call, by broadcasting: every combination of the values given, the first
symbol varying slowest. numpy is the ``numpy`` extra and is imported only in here.

>>> e = explain("bottleneck")
>>> s = sweep(e.ratio.macs, K=3, M=256, N=[64, 256], t=[2, 4])
>>> len(s), s.names
(4, ('K', 'M', 'N', 't', 'value'))
>>> s.rows[1]
{'K': 3, 'M': 256, 'N': 64, 't': 4, 'value': 0.05034722222222...}

Several expressions at once, each a column; and MobileNet's width multiplier, which
scales M and N wherever the expression has them:

>>> s = sweep({"macs": e.rewritten.macs, "params": e.rewritten.params},
...           K=3, M=256, N=256, I=56, t=4, alpha=[0.5, 1])
>>> s.columns["macs"].tolist()
[54591488.0, 218365952.0]

Values are float64: whole costs are exact below 2**53 (about 9.0e15).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Union

import sympy

from .display import RichDisplay
from .errors import ConvAlgebraError, InvalidValueError
from .printing import text
from .symbols import NAMES, VALID, I, M, N, alpha, exact, expression, rho, shown, symbol

if TYPE_CHECKING:  # pragma: no cover
    import numpy
    import pandas

__all__ = ["Compiled", "Sweep", "compile_numpy", "sweep"]

Expressions = Union[sympy.Expr, str, Mapping[str, Union[sympy.Expr, str]]]


@dataclass(frozen=True, eq=False)
class Compiled:
    """Expressions compiled once into one numpy function of ``symbols``.

    >>> f = compile_numpy(1/N + 1/ca.K**2)
    >>> f.symbols
    (K, N)
    >>> f(K=3, N=[9, 18])["value"].tolist()
    [0.2222222222222222, 0.16666666666666666]
    """

    expressions: Mapping[str, sympy.Expr]
    symbols: tuple[sympy.Symbol, ...]
    function: Callable[..., Any]

    def __call__(self, **values: Any) -> dict[str, "numpy.ndarray"]:
        """Each expression evaluated on the arrays given by symbol name (they broadcast)."""
        import numpy as np

        missing = [str(s) for s in self.symbols if str(s) not in values]
        if missing:
            raise InvalidValueError(f"no value for {' '.join(missing)}")
        arrays = [np.asarray(values[str(s)], dtype=float) for s in self.symbols]
        results = self.function(*arrays)
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        return {name: np.broadcast_to(np.asarray(r, dtype=float), shape)
                for name, r in zip(self.expressions, results)}


def compile_numpy(what: Expressions) -> Compiled:
    """Compile a cost or ratio (or a mapping of names to them) into a numpy function, once.

    Text is read with :func:`convalgebra.symbols.parse_expression`, never evaluated.

    >>> compile_numpy({"a": "K**2*M*N", "b": "M*N"}).symbols
    (K, M, N)
    """
    expressions = _expressions(what)
    symbols = tuple(sorted(set().union(*(e.free_symbols for e in expressions.values())), key=_order))
    function = sympy.lambdify(symbols, list(expressions.values()), modules="numpy", cse=True)
    return Compiled(expressions, symbols, function)


@functools.lru_cache(maxsize=128)
def _compiled(items: tuple[tuple[str, sympy.Expr], ...]) -> Compiled:
    """:func:`compile_numpy`, once per set of expressions: a notebook sweeps the same one often."""
    return compile_numpy(dict(items))


def _expressions(what: Expressions) -> dict[str, sympy.Expr]:
    if isinstance(what, Mapping):
        items = dict(what)
    elif hasattr(what, "_fields") and hasattr(what, "_asdict"):  # a Cost: macs and params
        items = what._asdict()
    else:
        items = {"value": what}
    if not items:
        raise InvalidValueError("nothing to sweep: give an expression")
    out = {}
    for name, expr in items.items():
        if not isinstance(expr, (str, int, float, Fraction, sympy.Basic)) or isinstance(expr, bool):
            raise InvalidValueError(f"cannot sweep an object of type {type(expr).__name__}; give a cost or ratio such as"
                                    " explain('bottleneck').ratio.macs, a Cost, or an expression")
        expr = expression(expr, str(name))  # text read without eval; a user's own symbols matched by name
        unknown = [s for s in expr.free_symbols if s.name not in NAMES]
        if unknown:
            raise InvalidValueError(f"{text(expr)} has symbols that are not the library's: "
                                    + " ".join(sorted(map(str, unknown))))
        out[str(name)] = expr
    return out


def _order(s: sympy.Symbol) -> int:
    return NAMES.index(s.name)


@dataclass(frozen=True, eq=False)
class Sweep(RichDisplay):
    """The values of a sweep as columns (numpy arrays), one row per point of the grid.

    ``rows`` gives them as dicts, ``to_pandas()`` as a DataFrame; in a notebook the
    first rows show as a table.
    """

    __view__ = "sweep"

    columns: Mapping[str, "numpy.ndarray"]
    expressions: Mapping[str, sympy.Expr]

    @property
    def names(self) -> tuple[str, ...]:
        """The column names: the symbols swept, then each expression's name."""
        return tuple(self.columns)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every point of the grid as a dict of plain Python numbers."""
        lists = [column.tolist() for column in self.columns.values()]
        return [dict(zip(self.columns, row)) for row in zip(*lists)]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def to_pandas(self) -> "pandas.DataFrame":
        """A pandas DataFrame, one column per name (needs pandas: the ``notebook`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise ConvAlgebraError("to_pandas needs pandas: pip install 'convalgebra[notebook]'") from None
        return pd.DataFrame(dict(self.columns))


def sweep(what: Expressions, grid: Mapping[Any, Any] | None = None, **axes: Any) -> Sweep:
    """Evaluate a cost or ratio (or several, by name) at every combination of the values given.

    Each symbol of the expression takes a number or a list (or numpy array) of numbers,
    by keyword or in ``grid``; a symbol the expression does not hold is a column all the
    same (so one grid serves every module). ``alpha`` and ``rho``, when the expression does not hold
    them, scale M and N, and I, as MobileNet's multipliers do (sizes need not be whole here).

    >>> sweep("1/N + 1/K**2", K=3, N=range(8, 13)).columns["value"].round(4).tolist()
    [0.2361, 0.2222, 0.2111, 0.202, 0.1944]
    >>> sweep("1/N + 1/K**2", N=8)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: no value for K: give each symbol of 1/N + 1/K**2 a number or a list (for example K=3)
    """
    import numpy as np

    if grid is not None and not isinstance(grid, Mapping):
        raise InvalidValueError(f"grid = {shown(grid)}: expected a mapping of symbols (or names) to values")
    given: dict[sympy.Symbol, Any] = {}
    for key, values in [*(grid or {}).items(), *axes.items()]:
        sym = symbol(key)
        if sym in given:
            raise InvalidValueError(f"{sym} is given twice")
        given[sym] = _in_range(sym, _axis(str(sym), values))
    expressions = _expressions(what)
    free = set().union(*(e.free_symbols for e in expressions.values()))
    scaling = {}
    if alpha in given and alpha not in free:
        scaling.update({M: alpha * M, N: alpha * N})
    if rho in given and rho not in free:
        scaling[I] = rho * I
    if scaling:
        expressions = {name: e.subs(scaling, simultaneous=True) for name, e in expressions.items()}
    compiled = _compiled(tuple(expressions.items()))
    written = ", ".join(text(e) for e in expressions.values())
    missing = [str(s) for s in compiled.symbols if s not in given]
    if missing:
        raise InvalidValueError(f"no value for {' '.join(missing)}: give each symbol of {written} a number or a list"
                                f" (for example {missing[0]}=3)")
    shape = tuple(len(a) for a in given.values())
    dims = len(shape)
    placed = {str(s): a.reshape([-1 if i == j else 1 for j in range(dims)]) for i, (s, a) in enumerate(given.items())}
    columns = {name: np.broadcast_to(a, shape).ravel() for name, a in placed.items()}
    columns.update(_evaluate(compiled, placed, shape))
    return Sweep(columns, compiled.expressions)


_CHUNK = 1 << 20


def _evaluate(compiled: Compiled, placed: dict[str, "numpy.ndarray"], shape: tuple[int, ...]) -> dict[str, Any]:
    """Each expression on the whole grid, flattened in the grid's order (every column full
    length, also for an expression without some swept symbol). A grid of more than about a
    million points goes in slices of its first axis, with a progress bar once it is slow."""
    import math

    import numpy as np

    from .progress import progress

    if not placed:  # a constant: one point, no axis to slice
        return {name: np.ravel(values) for name, values in compiled().items()}
    first, rows = next(iter(placed)), shape[0]
    step = max(1, _CHUNK // max(1, math.prod(shape[1:])))
    starts = range(0, rows, step)
    parts: dict[str, list[Any]] = {name: [] for name in compiled.expressions}
    for start in starts if len(starts) == 1 else progress(starts, description="sweep"):
        part = compiled(**{**placed, first: placed[first][start:start + step]})
        for name, values in part.items():
            parts[name].append(np.broadcast_to(values, (min(step, rows - start), *shape[1:])).ravel())
    return {name: p[0] if len(p) == 1 else np.concatenate(p) for name, p in parts.items()}


def _axis(name: str, values: Any) -> "numpy.ndarray":
    """One symbol's values as a 1-D numeric array (whole numbers stay whole)."""
    import numpy as np

    if isinstance(values, (str, bytes)) or not np.iterable(values) or getattr(values, "is_Number", False):
        values = [values]
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        array = values.ravel()
    else:
        try:
            items = [exact(v, name) for v in values]  # the one rule for numbers: text read without eval
        except TypeError:  # an iterable that cannot be read (a generator that fails, say)
            raise InvalidValueError(f"{name}: expected numbers, not {shown(values)}") from None
        if not all(isinstance(v, (int, Fraction)) for v in items):
            raise InvalidValueError(f"{name}: expected numbers, got {shown(items[:5])}")
        whole = all(isinstance(v, int) for v in items) and all(abs(v) < 2**63 for v in items)
        array = np.array([v if whole else float(v) for v in items], dtype=np.int64 if whole else float)
    if array.size == 0:
        raise InvalidValueError(f"{name}: no values to sweep")
    if not np.all(np.isfinite(array)):
        raise InvalidValueError(f"{name}: values must be finite numbers")
    return array


def _in_range(sym: sympy.Symbol, array: "numpy.ndarray") -> "numpy.ndarray":
    """``array`` if every value has sense for ``sym``, as ``explain`` checks a single value
    (sizes at least 1, k at least 2, t, alpha and rho above 0, p from 0 to 1); a grid may
    hold sizes that are not whole, as a curve over N does.

    >>> sweep("1/N + 1/K**2", K=3, N=[64, 0])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: N = 0: expected a value >= 1
    """
    valid = VALID[sym.name]
    bad = valid.outside(array)
    if bad.any():
        value = array[bad][0]
        low, high = valid.low, valid.high
        wanted = (f"a value > {low}" if valid.low_open else f"a value >= {low}" if high is None
                  else f"a value from {low} to {high}" if valid.whole else f"a share from {low} to {high}")
        raise InvalidValueError(f"{sym} = {value}: expected {wanted}")
    return array



