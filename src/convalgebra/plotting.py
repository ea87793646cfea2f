"""Figures: the ten modules' savings against any symbol, and a network's cost as bars.

matplotlib (the ``plot`` extra) is imported only inside these functions, and pyplot not
at all: each function returns a matplotlib ``Figure`` that a notebook shows
as it would any value, and that ``fig.savefig("ratios.svg")`` writes.

The article's story in one figure, every module's MACs over the standard convolution's
as the number of kernels N grows (M = N, each module at its default parameters):

>>> fig = plot_ratios()
>>> ax = fig.axes[0]
>>> ax.get_xlabel(), ax.get_ylabel()
('N: number of kernels = output channels (M = N)', 'MACs ratio: module / standard convolution')
>>> [line.get_label() for line in ax.get_lines()][:3]
['group (AlexNet): G = 2 (78 of 166 points valid)', 'vgg-stack (VGG): k = 3', 'factorized (Inception V2)']
>>> print(ax.get_title().splitlines()[1])
at K = 7, M = N (K: the largest of the modules' examples; set it to draw at another)

A curve is drawn only where ``explain`` accepts the values: 2 groups need an even number of
channels, so the group convolution's curve skips every odd N, and its legend says so.

A network's cost, layer by layer or stage by stage:

>>> fig = plot_network("resnet50", by="stage")
>>> fig.axes[0].get_ylabel()
'MACs, millions (multiply-accumulates)'

A network's layers on a device's roofline (:mod:`convalgebra.rooflines`):

>>> fig = plot_roofline("mobilenet_v2", "t4")
>>> fig.axes[0].get_xlabel()
'arithmetic intensity, FLOPs per byte (FLOPs = 2 x MACs; bytes at fp32, 4 per element)'
"""

from __future__ import annotations

import functools
import os
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence, Union, cast

from .errors import ConvAlgebraError, InvalidValueError
from .symbols import VALID, Domain, one_of, shown
from .validation import check

if TYPE_CHECKING:  # pragma: no cover
    import sympy
    from matplotlib.figure import Figure
    from .layers import Size
    from matplotlib.typing import ColorType

    from .modules import Module

__all__ = ["plot_ratios", "plot_network", "plot_roofline", "plot_training_memory", "save", "output_format", "FORMATS"]

#: The file formats a figure is written in, by suffix.
FORMATS = {".png": "png", ".svg": "svg"}

#: Each symbol's default span on the x axis (its grid is whole where the table of valid values
#: says the symbol is whole).
_SPANS: dict[str, tuple[Any, Any]] = {
    "N": (8, 1024), "M": (8, 1024), "K": (1, 11), "G": (1, 64), "t": (1, 16), "p": (0, 1), "k": (2, 7),
    "I": (7, 224), "alpha": (0.25, 1), "rho": (0.25, 1),
}
_CHUNK = 65536
#: A layer's output channels along a curve: none is a parallel branch left out, as explain leaves it.
_BRANCH_OF_NONE = Domain(0, whole=True)
#: The most points a curve is drawn at (more would take matplotlib minutes).
_MOST_POINTS = 1_000_000
_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")


def _matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConvAlgebraError("plotting needs matplotlib: pip install 'convalgebra[plot]'") from None


def output_format(path: Union[str, os.PathLike]) -> str:
    """The format a figure is written in, from the file's suffix (``.png`` or ``.svg``).

    >>> output_format("ratios.SVG")
    'svg'
    >>> output_format("ratios.jpg")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: cannot write 'ratios.jpg': expected a .png or .svg file
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise InvalidValueError(f"cannot write {os.fspath(path)!r}: expected a .png or .svg file")
    return FORMATS[suffix]


def save(fig: "Figure", path: Union[str, os.PathLike]) -> str:
    """Write ``fig`` to ``path`` as PNG or SVG (by the suffix); return the format.

    The same figure writes the same bytes on every run: no date in the metadata, and
    SVG element ids drawn from a fixed salt.
    """
    import matplotlib

    fmt = output_format(path)
    metadata = {"Date": None} if fmt == "svg" else {}
    try:
        with matplotlib.rc_context({"svg.hashsalt": "convalgebra"}):
            fig.savefig(path, format=fmt, dpi=150, metadata=metadata)
    except OSError as error:
        raise InvalidValueError(f"cannot write {os.fspath(path)!r}: {error.strerror or error}") from None
    return fmt


def _figure(width: float, height: float) -> "Figure":
    """A Figure outside pyplot (no global state), shown in a notebook as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig._repr_png_ = functools.partial(_png, fig)  # type: ignore[attr-defined]
    return fig


def _png(fig: "Figure") -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


# -- the modules' ratios --------------------------------------------------------------

def plot_ratios(modules: Union[None, str, "Module", Iterable[Union[str, "Module"]]] = None,
                over: Union[str, "sympy.Symbol"] = "N", values: Optional[Mapping[Any, Any]] = None, *,
                between: Optional[tuple[Any, Any]] = None, points: int = 200,
                progress: Optional[bool] = None) -> "Figure":
    """The MACs ratio (module over standard convolution) of ``modules`` against ``over``.

    ``modules`` defaults to the article's ten; ``values`` fixes other symbols (names or
    Symbols to numbers). M = N (the article's shorthand) unless M is set. A size left
    unset (K, N, ...) is the same for every module, the largest in their examples, and
    the title says it; a module parameter left unset takes the module's default, and the
    legend names it.
    ``between`` sets the span of the axis, ``points`` how many values it is drawn at;
    over a large grid, ``progress`` shows a bar once the work takes a second or two.

    >>> fig = plot_ratios(["bottleneck", "inverted-bottleneck"], over="t", values={"K": 3, "N": 256})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['bottleneck (ResNet)', 'inverted-bottleneck (MobileNet V2)', 'standard convolution (= 1)']
    >>> print(fig.axes[0].get_title())
    Cost of each module relative to the standard K x K convolution, in MACs (multiply-accumulates)
    at K = 3, N = 256, M = N

    Every module is drawn at one K: the ten at 7, factorized's example (vgg-stack's is 5,
    the others' 3), and a composed module takes the sizes as the others do:

    >>> mine = compose(expand(t), group(G, on="pointwise"), depthwise(), name="mine", parameters={t: 6, G: 2})
    >>> fig = plot_ratios(["depthwise-separable", mine])
    >>> [line.get_label() for line in fig.axes[0].get_lines()][1], fig.axes[0].get_title().splitlines()[1]
    ('mine: G = 2, t = 6 (78 of 166 points valid)', 'at K = 3, M = N')
    >>> plot_ratios(over="F")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: F, the output size, follows from I; plot over I instead
    """
    _matplotlib()
    import numpy as np

    from . import progress as bar
    from .errors import missing_values
    from .explanation import explain
    from .modules import MODULES, check_used
    from .catalog import module
    from .symbols import DESCRIPTIONS, SIZE_SYMBOLS, F, I, K, M, N, symbol
    from .values import check_values

    axis = symbol(over)
    if axis == F:
        raise InvalidValueError("F, the output size, follows from I; plot over I instead")
    fixed = check_values(values if values is not None else {})
    if axis in fixed:
        raise InvalidValueError(f"{axis} is the plot's axis; do not also set it")
    if modules is None:
        modules = MODULES
    elif isinstance(modules, str) or not isinstance(modules, Iterable):  # one module: a name or the Module
        modules = [cast("str | Module", modules)]
    try:
        given = list(modules)
    except TypeError:  # an iterable that does not iterate (a 0-d numpy array): as one module, refused by name
        given = [cast("str | Module", modules)]
    chosen = [module(m) for m in given]
    if not chosen:
        raise InvalidValueError("no module to plot; name at least one (see 'convalgebra list')")
    check_used(fixed, *chosen)
    # the article's shorthand M = N, unless the user sets M (or plots over M with N set)
    tied = (N, M) if axis == M and N not in fixed else (M, N) if M not in fixed and axis != M else None
    ratios = [explain(m).ratio.macs for m in chosen]
    ratios = [r.subs(*tied) for r in ratios] if tied is not None else ratios
    # every size left unset is one value for all the modules: the largest in their examples
    free = set().union(*(r.free_symbols for r in ratios)) - {axis} - set(fixed)
    common: dict[Any, Any] = {}
    for size in (x for x in (K, *SIZE_SYMBOLS) if x in free):
        known = [m.example[size] for m in chosen if size in m.example]
        if not known:
            raise missing_values([str(size)])
        common[size] = max(known)
    xs = _grid(str(axis), between, points)
    curves = [_curve(m, r, axis, {**fixed, **common}) for m, r in zip(chosen, ratios)]
    # where each curve has sense, as explain checks it: at the values drawn, and for a size the
    # ratio leaves open (the channels of 1/G), the largest of the modules' examples again
    open_sizes = {size: max(m.example[size] for m in chosen if size in m.example) for size in (K, M, N, I)
                  if size != axis and size not in fixed and size not in common and (tied is None or size != tied[0])
                  and any(size in m.example for m in chosen)}
    checks = [_valid(m, axis, {**open_sizes, **fixed, **common, **{s: d for s, d in m.parameters.items()
                                                                    if d is not None and s != axis}}, tied)
              for m in chosen]
    ys = [np.empty_like(xs) for _ in curves]
    valid = [np.empty(xs.shape, dtype=bool) for _ in curves]
    steps = [(i, start) for i in range(len(curves)) for start in range(0, len(xs), _CHUNK)]
    with np.errstate(all="ignore"):
        for i, start in bar.progress(steps, description="plot_ratios", show=progress):
            ys[i][start:start + _CHUNK] = curves[i][1](xs[start:start + _CHUNK])
            valid[i][start:start + _CHUNK] = checks[i][0](xs[start:start + _CHUNK])

    fig = _figure(10, 5.6)
    ax = fig.add_subplot()
    for i, ((label, _), (_, checked), y, ok) in enumerate(zip(curves, checks, ys, valid)):  # markers tell curves apart
        if not ok.all():  # a point explain refuses is not drawn, and the legend says how many are
            at = ", ".join(f"{s} = {v}" for s, v in open_sizes.items() if s in checked and s in (M, N))
            label += f" ({int(ok.sum())} of {len(ok)} points valid" + (f" at {at})" if at else ")")
        ax.plot(xs[ok], y[ok], label=label, linewidth=2, linestyle=_STYLES[(i // 10) % len(_STYLES)],
                marker=_MARKERS[i % len(_MARKERS)], markevery=(0.008 * (i % 10), 0.08), markersize=5)
    ax.axhline(1, color="0.35", linewidth=1.2, linestyle=":", label="standard convolution (= 1)")
    _scales(ax, xs, [y[ok] for y, ok in zip(ys, valid)], str(axis))
    ax.set_xlabel(f"{axis}: {DESCRIPTIONS[axis]}" + (f" ({tied[0]} = {axis})" if tied and axis in tied else ""))
    ax.set_ylabel("MACs ratio: module / standard convolution")
    shared = ", ".join([f"{s} = {v}" for s, v in {**fixed, **common}.items()] + ["M = N"] * bool(tied))
    differ = [str(s) for s, v in common.items() if len({m.example.get(s, v) for m in chosen}) > 1]
    if differ:
        shared += (f" ({', '.join(differ)}: the largest of the modules' examples; set "
                   f"{'it' if len(differ) == 1 else 'them'} to draw at another)")
    flat = [m.name for m, y, ok in zip(chosen, ys, valid) if ok.any() and np.all(y[ok] == y[ok][0])]  # say why
    note = "" if not flat else f"\nno module's ratio depends on {axis} here" if len(flat) == len(chosen) else \
        f"\nthe ratio of {', '.join(flat)} does not depend on {axis} here"
    if not all(ok.all() for ok in valid):
        note += (f"\ndrawn only where every layer has sense (whole channels and layers, as explain requires)"
                 if VALID[str(axis)].whole else "\ndrawn only where every layer has sense (no negative channels)")
    ax.set_title("Cost of each module relative to the standard K x K convolution, in MACs "
                 "(multiply-accumulates)" + (f"\nat {shared}" if shared else "") + note, fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


def _grid(name: str, between: Optional[tuple[Any, Any]], points: int) -> Any:
    import numpy as np

    from .symbols import exact

    low, high = _SPANS.get(name, (1, 100))
    whole = VALID[name].whole
    if between is not None:
        if isinstance(between, (str, bytes)) or not isinstance(between, Sequence) or len(between) != 2:
            raise InvalidValueError(f"between = {shown(between)}: expected two numbers, low and high")
        low, high = (exact(v, name) for v in between)
        if not (isinstance(low, (int, Fraction)) and isinstance(high, (int, Fraction))):
            raise InvalidValueError(f"between = {shown(between)}: expected two numbers, low and high")
        _in_range(name, low, high)
    if not low < high:
        raise InvalidValueError(f"{name} from {low} to {high}: expected low < high")
    points = int(check("size", points, "points", symbolic=False))
    if not 2 <= points <= _MOST_POINTS:
        raise InvalidValueError(f"points = {points}: expected a whole number from 2 to {_MOST_POINTS:,}")
    low, high = float(low), float(high)
    xs = np.geomspace(low, high, points) if low > 0 and high / low >= 20 else np.linspace(low, high, points)
    return np.unique(np.round(xs)) if whole else xs


def _in_range(name: str, low: Any, high: Any) -> None:
    """Refuse a span that leaves the symbol's valid values (sizes >= 1, k >= 2, t > 0, 0 <= p <= 1),
    in one line naming the span; the grid's own points need not be whole.

    >>> _in_range("t", -1, 5)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: t from -1 to 5: t = -1: expected a number > 0
    >>> _in_range("p", 0, 2)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: p from 0 to 2: p = 2: expected a share between 0 and 1
    """
    import math

    from .values import check_values

    whole = VALID[name].whole
    for end in (low, high):  # a whole-number axis checks its bound's whole part (the grid rounds to whole numbers)
        value = math.floor(end) if whole else end
        try:
            check_values({name: value})
        except InvalidValueError as error:
            message = str(error) if value == end else f"{name} = {end}: {str(error).split(': ', 1)[1]}"
            raise InvalidValueError(f"{name} from {low} to {high}: {message}") from None


def _curve(mod: "Module", ratio: "sympy.Expr", axis: "sympy.Symbol", fixed: Mapping[Any, Any]) -> tuple[str, Any]:
    """The module's legend label and its MACs ``ratio`` as a function of the axis (numpy
    arrays), at the ``fixed`` values and the module's default parameters (which the label names)."""
    import numpy as np
    import sympy

    from .errors import missing_values

    used = {}
    for sym in sorted(ratio.free_symbols - {axis} - set(fixed), key=str):
        default = mod.parameters.get(sym)
        if default is None:
            raise InvalidValueError(f"{mod.name}: {missing_values([str(sym)])}")
        used[sym] = default
    function = sympy.lambdify(axis, ratio.subs({**fixed, **used}), "numpy")
    label = f"{mod.name}" + (f" ({mod.network})" if mod.network else "")
    if used:
        label += ": " + ", ".join(f"{s} = {v}" for s, v in used.items())
    return label, lambda x: np.broadcast_to(np.asarray(function(x), dtype=float), x.shape)


def _valid(mod: "Module", axis: "sympy.Symbol", values: Mapping[Any, Any], tied: Any) -> tuple[Any, set[Any]]:
    """Where along the axis every layer of the module has sense, as explain checks it, as a
    function of the axis (numpy arrays to booleans): each channel count, group count, kernel
    side, repeat count and channels per group within its range in the table of valid values,
    and whole where the axis is (a curve over t or p is the continuous relaxation); and the
    symbols of ``values`` it used.

    >>> import numpy as np
    >>> from convalgebra.catalog import module
    >>> from convalgebra.symbols import K, M, N, k
    >>> _valid(module("vgg-stack"), K, {M: 64, N: 256, k: 3}, None)[0](np.arange(1.0, 8.0)).tolist()
    [False, False, True, False, True, False, True]
    """
    import numpy as np
    import sympy

    from .blocks import size_fields

    whole = VALID[axis.name].whole
    fields = [(expr, name) for name, expr in size_fields(mod.block())]
    checks, checked = [], set()
    for expr, name in fields:
        expr = sympy.sympify(expr, strict=True)
        if tied is not None:
            expr = expr.subs(*tied)
        checked |= expr.free_symbols
        expr = expr.subs(values)
        if expr.free_symbols <= {axis}:  # a size the curve leaves open (the kernel K of 1/G) is not checked
            # a branch of no output channels is left out (fire at p = 0 or 1), as explain leaves it out
            checks.append((sympy.lambdify(axis, expr, "numpy"), _BRANCH_OF_NONE if name == "out_channels"
                           else VALID[name]))

    def valid(x: Any) -> Any:
        ok = np.ones(x.shape, dtype=bool)
        with np.errstate(all="ignore"):
            for function, domain in checks:
                v = np.broadcast_to(np.asarray(function(x), dtype=float), x.shape)
                near = np.abs(v - np.round(v)) <= 1e-9 * np.maximum(1, np.abs(v))  # whole but for rounding
                v = np.where(near, np.round(v), v)
                ok &= np.isfinite(v) & ~domain.outside(v)
                if whole and domain.whole:
                    ok &= near
        return ok

    return valid, checked


def _scales(ax: Any, xs: Any, ys: Sequence[Any], name: str) -> None:
    """Log axes where the values span more than a decade."""
    import numpy as np
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    low, high = float(xs[0]), float(xs[-1])
    if low > 0 and high / low >= 20:
        ax.set_xscale("log", base=2 if name in ("N", "M", "G", "t", "I") else 10)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    finite = np.concatenate([y[np.isfinite(y)] for y in ys] + [np.array([1.0])])
    if finite.min() > 0 and finite.max() / finite.min() > 10:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())


# -- a network's cost -------------------------------------------------------------------

def plot_network(name: Any, by: str = "layer", input_size: Optional["Size"] = None) -> "Figure":
    """A network's MACs as bars, one per layer that computes (convolutions and linear
    layers, coloured by stage) or one per stage with its share of the total.

    >>> fig = plot_network("mobilenet_v2", by="layer", input_size=160)
    >>> fig.axes[0].get_title().splitlines()[0]
    'mobilenet_v2 at 3 x 160 x 160: 0.154 GMACs (multiply-accumulates), 3.50 M params'
    >>> plot_network("resnet50", by="block")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: by = 'block': expected 'layer' or 'stage'
    """
    one_of(by, ("layer", "stage"), "by")
    _matplotlib()
    import matplotlib

    from .catalog import network

    net = network(name)
    cost = net.count(_whole_size(input_size))
    from matplotlib.patches import Patch

    stages = [s for s in cost.stages if s.runs]
    if by == "stage":  # one bar per stage, coloured by the article's module it is built from
        modules = list(dict.fromkeys(s.module for s in stages if s.module))
        colours: dict[str, ColorType] = {m: f"C{i % 10}" for i, m in enumerate(modules)}
        colours[""] = "0.6"
        fig = _figure(max(7.0, 0.75 * len(stages) + 3.5), 5)
        ax = fig.add_subplot()
        bars = ax.bar(range(len(stages)), [s.macs / 1e6 for s in stages], color=[colours[s.module] for s in stages])
        ax.bar_label(bars, labels=[_percent(s.macs_share) for s in stages], fontsize="small", padding=2)
        crowded = len(stages) * max(len(s.name) for s in stages) > 70
        ax.set_xticks(range(len(stages)), [s.name for s in stages], rotation=35 if crowded else 0,
                      ha="right" if crowded else "center", rotation_mode="anchor")
        ax.set_xlabel("stage (bar labels: share of the network's MACs)")
        handles = [Patch(color=colours[m], label=m) for m in modules]
        if any(not s.module for s in stages):
            handles.append(Patch(color=colours[""], label="no module (stem, head, ...)"))
        legend_title = "built from"
    else:  # one bar per layer that computes, coloured by stage
        rows = [r for r in cost.layers if r.runs and r.macs]
        palette = "tab10" if len(stages) <= 10 else "tab20"
        colours = {s.name: matplotlib.colormaps[palette](i % 20) for i, s in enumerate(stages)}
        fig = _figure(min(26.0, max(9.0, 0.14 * len(rows) + 4.5)), 5.5)
        ax = fig.add_subplot()
        ax.bar(range(len(rows)), [r.macs / 1e6 for r in rows], color=[colours[r.stage] for r in rows])
        ax.set_xticks(range(len(rows)), [r.name for r in rows], rotation=90, fontsize=6 if len(rows) > 40 else 8)
        ax.set_xlim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("layer (convolutions and linear layers, in order)")
        handles = [Patch(color=colours[s.name], label=s.name + (f" ({s.module})" if s.module else ""))
                   for s in stages]
        legend_title = "stage"
    ax.legend(handles=handles, title=legend_title, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    ax.set_ylabel("MACs, millions (multiply-accumulates)")
    largest = max(stages, key=lambda s: s.macs)
    height, width = cost.size if isinstance(cost.size, tuple) else (cost.size, cost.size)
    ax.set_title(f"{net.name} at {net.in_channels} x {height} x {width}: {cost.macs / 1e9:.3f} GMACs "
                 f"(multiply-accumulates), {cost.params / 1e6:.2f} M params\n"
                 f"MACs per {by}; the largest stage, {largest.name}, has {_percent(largest.macs_share)} of them",
                 fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def _percent(share: Any) -> str:
    """A share as a percentage, with a second decimal below one percent.

    >>> _percent(Fraction(1, 3)), _percent(Fraction(1, 2800))
    ('33.3%', '0.04%')
    """
    return f"{float(share):.1%}" if share >= Fraction(1, 100) else f"{float(share):.2%}"


def _whole_size(input_size: Optional["Size"]) -> Optional["Size"]:
    """A figure's input size checked: None (the network's own), a whole I, or a whole (H, W)."""
    if isinstance(input_size, tuple) and len(input_size) == 2:  # an oblong input, H x W
        return cast("Size", tuple(check(side, value, symbolic=False) for side, value in zip("HW", input_size)))
    return None if input_size is None else check("I", input_size, symbolic=False)


# -- a network on a device's roofline -------------------------------------------------------

def plot_roofline(name: Any, device: Any, input_size: Optional["Size"] = None, dtype: str = "fp32") -> "Figure":
    """A network's layers on the roofline of ``device`` (a preset's name or a
    :class:`~convalgebra.rooflines.Device`): each step that does MACs as a point at its
    arithmetic intensity and the performance the device attains there,
    min(peak, intensity x bandwidth), coloured by kind; the roof drawn through the ridge.
    Steps with no MACs (batch norm, pools, additions: intensity 0, memory-bound) cannot sit
    on a log axis; the title counts them.

    >>> fig = plot_roofline("resnet50", "a100", input_size=(224, 160), dtype="fp16")
    >>> print(fig.axes[0].get_title())
    resnet50 at 3 x 224 x 160 on NVIDIA A100 80GB SXM, fp16: roofline estimate 0.0697 ms (MACs alone at peak 0.0187 ms)
    54 steps with MACs drawn (47 memory-bound); 71 with none (batch norm, pools, additions) left out
    >>> plot_roofline("resnet50", "h100")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown device 'h100'; did you mean v100 or a100? (see 'convalgebra network NAME --roofline DEVICE')
    """
    from .memory import dtype_bytes
    from .rooflines import device as named_device, roofline

    dev = named_device(device)
    size = _whole_size(input_size)
    est = roofline(name, dev, size, dtype)
    _matplotlib()
    peak, bandwidth = dev.peak_for(dtype), dev.bandwidth
    drawn = [r for r in est.rows if r.flops]
    kinds = list(dict.fromkeys(r.op for r in drawn))
    fig = _figure(9, 5.5)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ridge = float(dev.ridge(dtype))
    xs = [float(r.intensity) for r in drawn]
    low, high = min(xs + [ridge]) / 4, max(xs + [ridge]) * 4
    roof = [low, ridge, high]
    ax.plot(roof, [x * bandwidth / 1e9 for x in roof[:2]] + [peak / 1e9], color="0.2", lw=2,
            label=f"roof: {bandwidth / 1e9:g} GB/s, peak {peak / 1e12:g} TFLOP/s")
    ax.axvline(ridge, color="0.5", ls=":", lw=1, label=f"ridge point: {ridge:.3g} FLOPs per byte")
    for i, kind in enumerate(kinds):
        mine = [r for r in drawn if r.op == kind]
        ax.scatter([float(r.intensity) for r in mine], [min(peak, float(r.intensity) * bandwidth) / 1e9 for r in mine],
                   s=22, color=f"C{i % 10}", marker=_MARKERS[i % len(_MARKERS)], label=f"{kind} ({len(mine)})",
                   zorder=3)
    ax.set_xlim(low, high)
    ax.set_xlabel(f"arithmetic intensity, FLOPs per byte (FLOPs = 2 x MACs; bytes at {dtype}, "
                  f"{dtype_bytes(dtype)} per element)")
    ax.set_ylabel("attainable performance, GFLOP/s")
    ax.legend(fontsize="small", loc="lower right")
    ax.grid(True, which="major", alpha=0.3)
    height, width = est.size if isinstance(est.size, tuple) else (est.size, est.size)
    left = len(est.rows) - len(drawn)
    ax.set_title(f"{est.network.name} at {est.network.in_channels} x {height} x {width} on {dev.title or dev.name}, "
                 f"{dtype}: roofline estimate {float(est.time) * 1e3:.3g} ms (MACs alone at peak "
                 f"{float(est.macs_time) * 1e3:.3g} ms)\n{len(drawn)} steps with MACs drawn "
                 f"({sum(r.bound == 'memory' for r in drawn)} memory-bound); {left} with none "
                 f"(batch norm, pools, additions) left out", fontsize="medium")
    return fig


def plot_training_memory(networks: Any, input_size: Optional["Size"] = None, optimizer: str = "adam",
                         dtype: str = "fp32", device_memory: Optional[int] = None,
                         batches: Optional[Sequence[int]] = None) -> "Figure":
    """A training step's peak memory against the batch, one line a network (names or
    :class:`~convalgebra.networks.Network`, a model read with ``from_torch`` too): weights,
    gradients and the optimizer's state, plus what autograd keeps for the backward, which grows
    with the batch (:func:`convalgebra.training.training_cost`). With ``device_memory`` (bytes), the
    device's line and each network's largest batch that fits, solved in closed form.

    >>> fig = plot_training_memory(["resnet18", "resnet50"], 224, device_memory=16 * 2**30)
    >>> print(fig.axes[0].get_title())
    a training step at 3 x 224 x 224, Adam, fp32: peak memory against the batch
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['resnet18 (fits 769 in 16 GiB; memory a lower bound: the zoo leaves out activations)', 'resnet50 (fits 196 in 16 GiB; memory a lower bound: the zoo leaves out activations)']
    """
    import sympy

    from .symbols import B
    from .training import training_cost

    names = [networks] if isinstance(networks, str) or not isinstance(networks, (list, tuple)) else list(networks)
    if not names:
        raise InvalidValueError("plot_training_memory takes at least one network")
    size = _whole_size(input_size)
    if batches is not None and not isinstance(batches, (list, tuple, range)):
        raise InvalidValueError(f"batches = {shown(batches)}: expected a list of whole numbers, for example [1, 8, 32]")
    shown_batches = [] if batches is None else [int(check("B", b, "batch", symbolic=False)) for b in batches]
    if batches is not None and not shown_batches:
        raise InvalidValueError("batches = []: expected at least one batch")
    if device_memory is not None:
        device_memory = int(check("size", device_memory, "device memory in bytes", symbolic=False))
    steps = [training_cost(name, size, B, optimizer=optimizer, dtype=dtype) for name in names]
    fits = [step.batch_that_fits(device_memory) if device_memory is not None else None for step in steps]
    if batches is None:  # up to a quarter past the largest batch that fits (256 without a device)
        last = 256 if device_memory is None else min(max(max(cast(int, f) for f in fits) * 5 // 4, 8), 4096)
        shown_batches = list(range(1, last + 1))
    _matplotlib()
    fig = _figure(9, 5.5)
    ax = fig.add_subplot()
    for i, (step, fit) in enumerate(zip(steps, fits)):
        peak = sympy.sympify(step.peak_bytes, strict=True)
        label = step.network.name
        notes = [] if fit is None else [f"fits {fit} in {_gib(cast(int, device_memory))}"]
        if not step.saved_is_exact:
            notes.append("memory a lower bound: the zoo leaves out activations")
        if notes:
            label += f" ({'; '.join(notes)})"
        ax.plot(shown_batches, [float(peak.subs(B, b)) / 2**30 for b in shown_batches], color=f"C{i % 10}",
                label=label)
    if device_memory is not None:
        ax.axhline(device_memory / 2**30, color="0.3", ls="--", lw=1, label=f"device: {_gib(device_memory)}")
    ax.set_xlabel("batch B (images a step)")
    ax.set_ylabel("peak memory of a step, GiB")
    ax.legend(fontsize="small", loc="upper left")
    ax.grid(True, alpha=0.3)
    title_size = steps[0].size
    height, width = title_size if isinstance(title_size, tuple) else (title_size, title_size)
    words = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}[optimizer]
    ax.set_title(f"a training step at 3 x {height} x {width}, {words}, {dtype}: peak memory against the batch",
                 fontsize="medium")
    return fig


def _gib(memory: int) -> str:
    return f"{memory / 2**30:g} GiB"


# -- cost against resolution: where a transformer's curve crosses a CNN's ----------------------------------

def plot_resolution(names: Iterable[Any] = ("resnet50", "vit_b_32", "swin_t"), between: tuple[int, int] = (32, 2048)
                    ) -> "Figure":
    """The MACs of networks on a square input of side I against I, from their closed forms in H and W
    (a ViT's is that of the ViT built for each size; each form is exact at multiples of its network's
    stride), on logarithmic axes, with the sides where two of the curves cross marked (solved exactly by
    :func:`convalgebra.attention.cost_crossing`).

    >>> fig = plot_resolution()
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:3]
    ['resnet50: 81456*I**2 + 2048000', 'vit_b_32: 9*I**4/512 + 85284*I**2 + 85721088', 'swin_t: 89481*I**2 + 768000']
    >>> plot_resolution(between=(0, 10))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: between = (0, 10): expected two whole sides, 1 <= low < high <= 4096
    """
    if not (isinstance(between, tuple) and len(between) == 2 and all(isinstance(x, int) for x in between)
            and 1 <= between[0] < between[1] <= 4096):
        raise InvalidValueError(f"between = {shown(between)}: expected two whole sides, 1 <= low < high <= 4096")
    _matplotlib()
    import sympy

    from .attention import cost_crossing
    from .catalog import network
    from .printing import text
    from .symbols import H, I, W

    if not isinstance(names, (str, list, tuple)):
        raise InvalidValueError(f"names = {shown(names)}: expected networks' names, for example ['resnet50', 'swin_t']")
    nets = [network(n) for n in (names.split() if isinstance(names, str) else names)]
    if not nets:
        raise InvalidValueError("names: expected at least one network")
    forms = [sympy.expand(sympy.sympify(net.count((H, W)).macs, strict=True).subs({H: I, W: I})) for net in nets]
    low, high = between
    sides = sorted({round(low * (high / low) ** (k / 200)) for k in range(201)})
    fig = _figure(8, 5)
    ax = fig.add_subplot()
    for i, (net, form) in enumerate(zip(nets, forms)):
        values = sympy.lambdify(I, form)
        ax.plot(sides, [float(values(s)) / 1e9 for s in sides], color=f"C{i % 10}", label=f"{net.name}: {text(form)}")
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            try:
                crossing = cost_crossing(a, b)
            except InvalidValueError:
                continue
            for side in crossing.sides:
                if low <= side <= high:
                    macs = float(crossing.first_macs.subs({H: side, W: side})) / 1e9
                    ax.plot([side], [macs], "o", color="black", markersize=4)
                    ax.annotate(f"{a.name} = {b.name}\nat {side:.0f} x {side:.0f}", (side, macs),
                                textcoords="offset points", xytext=(6, -14), fontsize="x-small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("input side I (an I x I image)")
    ax.set_ylabel("GMACs (multiply-accumulates)")
    ax.set_title("Cost against resolution: a convolution network, global attention (I**4) and windows (I**2)",
                 fontsize="medium")
    ax.legend(fontsize="small", loc="upper left", frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    return fig
