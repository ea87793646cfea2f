"""ShuffleNet V2's four guidelines (Ma et al., ECCV 2018, section 2), derived from the layers.

G1 and G2 are algebra on a 1 x 1 convolution's memory traffic (:mod:`convalgebra.memory`),
which the library counts itself; sympy then does each step. In the article's symbols, M
inputs (the paper's c1), N outputs (c2) on H x W (h x w), and B the layer's MACs (the
paper calls them FLOPs):

>>> g1 = guideline_g1()
>>> g1.traffic, g1.macs
(H*M*W + H*N*W + M*N, H*M*N*W)
>>> g1.bound
2*sqrt(B)*sqrt(H)*sqrt(W) + B/(H*W)
>>> g1.equality                  # the bound is reached exactly when c1 = c2
{N: M}
>>> g2 = guideline_g2()
>>> g2.traffic_at_budget, g2.slope   # at fixed B, H, W, M the traffic grows with G
(B*G/M + B/(H*W) + H*M*W, B/M)

A design question of the same family: for a MACs budget B, the widths that move the least
(G1's steps on any module). The standard K x K convolution wants M = N; the
depthwise-separable one wants about three times as many outputs as inputs:

>>> least_traffic().widths
{M: sqrt(B)/(I*K), N: sqrt(B)/(I*K)}
>>> least_traffic("depthwise-separable").widths
{M: sqrt(3)*sqrt(B)/(3*I), N: sqrt(3)*sqrt(B)/I - K**2}

G3 (fragmentation) and G4 (elementwise operations) have no formula; they are counted from
a module's layers:

>>> fragments("shufflenet-v2")
Fragments(layers=4, series=4, parallel=1, elementwise={'concat': 1})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generator, Mapping, Optional, Union

import sympy

from .blocks import Block, Parallel, Repeat, Residual, Scale, Series, check_block, children, drive
from .display import Result
from .layers import (Activation, BatchNorm, Conv, ConvTranspose, Elementwise, Identity, LayerNorm, LayerScale, Linear,
                     Slice)
from .errors import InvalidValueError
from .symbols import G, H, I, M, N, W, expression

if TYPE_CHECKING:  # pragma: no cover
    from .modules import Module

__all__ = ["B", "Derivation", "guideline_g1", "guideline_g2", "least_traffic", "Fragments", "fragments"]

#: A layer's MACs held fixed (ShuffleNet V2's B, which it calls FLOPs).
B = sympy.Symbol("B", positive=True)


@dataclass(frozen=True)
class Derivation(Result):
    """A guideline derived step by step: each step a statement and the expression sympy gave."""

    __view__ = "derivation"

    name: str
    claim: str
    steps: tuple[tuple[str, Any, Any], ...]
    traffic: Any
    macs: Any
    traffic_at_budget: Any
    bound: Any = None
    minimiser: Any = None
    equality: Any = None
    slope: Any = None
    #: The widths that reach the least traffic (:func:`least_traffic`), {M: ..., N: ...}.
    widths: Any = None

def _pointwise(groups: Any = 1) -> tuple[sympy.Expr, sympy.Expr]:
    """A 1 x 1 convolution's traffic and MACs on H x W, as the library counts them."""
    from .memory import layer_traffic

    conv = Conv(M, N, (1, 1), groups=groups)
    return expression(layer_traffic(conv, (H, W)).elements), expression(conv.macs((H, W)))


def guideline_g1() -> Derivation:
    """G1: equal channel widths minimise memory traffic. At fixed MACs B, the traffic of a
    1 x 1 convolution is at least 2 sqrt(HWB) + B/(HW), with equality exactly when M = N."""
    traffic, macs = _pointwise()
    (n_at,) = sympy.solve(sympy.Eq(macs, B), N)
    at_budget = sympy.expand(traffic.subs(N, n_at))
    slope = sympy.diff(at_budget, M)
    (m_star,) = sympy.solve(sympy.Eq(slope, 0), M)
    curvature = sympy.simplify(sympy.diff(at_budget, M, 2).subs(M, m_star))
    bound = sympy.expand(sympy.simplify(at_budget.subs(M, m_star)))
    n_star = sympy.simplify(n_at.subs(M, m_star))
    gap = sympy.expand(traffic - bound.subs(B, macs))
    square = H * W * (sympy.sqrt(M) - sympy.sqrt(N)) ** 2
    assert sympy.expand(gap - square) == 0  # sympy checks the square, term by term
    (equal,) = sympy.solve(sympy.Eq(square, 0), N)
    steps = (
        ("traffic of a 1 x 1 convolution M -> N on H x W (counted)", sympy.Symbol("traffic"), traffic),
        ("its MACs (counted), held at B", macs, B),
        ("so the outputs are", N, n_at),
        ("and the traffic at MACs B is", sympy.Symbol("traffic"), at_budget),
        ("its slope in M", sympy.Symbol("d traffic / dM"), slope),
        ("zero at", M, m_star),
        ("where the curvature is positive: a minimum", sympy.Symbol("d2 traffic / dM2"), curvature),
        ("there N equals M", N, n_star),
        ("and the traffic is the bound", sympy.Symbol("traffic_min"), bound),
        ("the gap to the bound, with B = HWMN", sympy.Symbol("traffic - bound"), square),
        ("zero exactly when", N, equal),
    )
    return Derivation("G1", "Equal channel width minimizes memory access cost", steps, traffic, macs, at_budget,
                      bound=bound, minimiser=m_star, equality={N: equal})


def guideline_g2() -> Derivation:
    """G2: excessive group convolution increases memory traffic. At fixed MACs B, H, W and M,
    the traffic of a G-group 1 x 1 convolution grows with G."""
    traffic, macs = _pointwise(G)
    (n_at,) = sympy.solve(sympy.Eq(macs, B), N)
    at_budget = sympy.expand(traffic.subs(N, n_at))
    slope = sympy.diff(at_budget, G)
    steps = (
        ("traffic of a G-group 1 x 1 convolution (counted)", sympy.Symbol("traffic"), traffic),
        ("its MACs (counted), held at B", macs, B),
        ("so the outputs are", N, n_at),
        ("and the traffic at MACs B is", sympy.Symbol("traffic"), at_budget),
        ("its slope in G, positive: the traffic grows with G", sympy.Symbol("d traffic / dG"), slope),
    )
    assert slope.is_positive
    return Derivation("G2", "Excessive group convolution increases memory access cost", steps, traffic, macs,
                      at_budget, slope=slope)


def least_traffic(block: Union[str, "Module", Block] = "standard", values: Optional[Mapping[Any, Any]] = None
                  ) -> Derivation:
    """For a MACs budget B, the widths M (inputs) and N (outputs) of ``block`` (a module's name
    or a block; default the standard K x K convolution) that minimise its memory traffic on
    I x I, in closed form: G1's steps on the block's counted traffic and MACs. ``values``
    fixes other symbols first (a module's parameters stay symbols unless given).

    >>> d = least_traffic()
    >>> d.bound                            # the least traffic at MACs B: G1 with a K x K kernel
    2*sqrt(B)*I/K + B/I**2
    >>> least_traffic("group").widths       # G groups: still equal widths, sqrt(G) times wider
    {M: sqrt(B)*sqrt(G)/(I*K), N: sqrt(B)*sqrt(G)/(I*K)}

    A closed form holds where the widths it gives are positive (here where 3B > I**2 K**4):

    >>> least_traffic("xception").widths
    {M: sqrt(3)*sqrt(B)/I - K**2, N: sqrt(3)*sqrt(B)/(3*I)}

    The bottleneck (M -> N/t -> N/t -> N) has no least inside: at fixed MACs its traffic
    falls as N grows, all the way:

    >>> least_traffic("bottleneck", {"K": 3})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: bottleneck's traffic at MACs B has no stationary point in N: it falls or grows all the way, and the least is at a bound of the widths
    """
    from .cost import total
    from .memory import traffic
    from .modules import standard
    from .catalog import module
    from .values import check_values

    name = "standard convolution"
    if isinstance(block, str) and block == "standard":
        block = standard()
    elif isinstance(block, str) or hasattr(block, "rule"):
        mod = module(block)  # type: ignore[arg-type]
        name, block = mod.name, mod.block()
    given = check_values(values if values is not None else {})
    moved = expression(traffic(block, I).elements).xreplace(given)
    macs = expression(total(block, I)[0]).xreplace(given)
    if N not in macs.free_symbols or M not in macs.free_symbols:
        raise InvalidValueError(f"{name}'s MACs do not depend on both widths M and N; nothing to choose")
    # hold the MACs at B by the width they are linear in (N, else M), then choose the other
    linear = [(out, free) for out, free in ((N, M), (M, N)) if sympy.degree(macs, out) == 1]
    if not linear:
        raise InvalidValueError(f"{name}'s MACs are not linear in M or in N; no closed form for B's widths")
    out, free = linear[0]
    (out_at,) = sympy.solve(sympy.Eq(macs, B), out)
    at_budget = sympy.expand(moved.subs(out, out_at))
    slope = sympy.diff(at_budget, free)
    top = sympy.numer(sympy.together(slope))
    if not top.is_polynomial(free) or sympy.degree(top, free) > 2:  # beyond a quadratic: no short closed form
        raise InvalidValueError(f"{name}'s traffic at MACs B has no short closed-form least in {free}; "
                                "set its parameters with values")
    roots = [r for r in sympy.solve(top, free) if r.is_positive is not False and r.is_real is not False]
    roots = [r for r in roots if not (-r in roots and r.could_extract_minus_sign())]  # +-sqrt: the + one
    if not roots:
        raise InvalidValueError(f"{name}'s traffic at MACs B has no stationary point in {free}: it falls or grows "
                                "all the way, and the least is at a bound of the widths")
    if len(roots) > 1:
        raise InvalidValueError(f"{name}'s traffic at MACs B has several stationary points in {free}; "
                                "set its parameters with values")
    (free_star,) = roots
    curvature = sympy.simplify(sympy.diff(at_budget, free, 2).subs(free, free_star))
    if curvature.is_positive is not True:
        raise InvalidValueError(f"{name}'s traffic at MACs B has a stationary point in {free} not shown a minimum")
    out_star = sympy.expand(sympy.simplify(out_at.subs(free, free_star)))
    least = sympy.expand(sympy.simplify(at_budget.subs(free, free_star)))
    found = {free: free_star, out: out_star}
    label = {N: "outputs", M: "inputs"}
    steps = (
        (f"traffic of the {name} on I x I (counted)", sympy.Symbol("traffic"), moved),
        ("its MACs (counted), held at B", macs, B),
        (f"so the {label[out]} are", out, out_at),
        ("and the traffic at MACs B is", sympy.Symbol("traffic"), at_budget),
        (f"its slope in {free}", sympy.Symbol(f"d traffic / d{free}"), slope),
        ("zero at", free, free_star),
        ("where the curvature is positive: a minimum", sympy.Symbol(f"d2 traffic / d{free}2"), curvature),
        (f"there the {label[out]} are", out, out_star),
        ("and the traffic is the least", sympy.Symbol("traffic_min"), least),
    )
    return Derivation("least traffic", f"For a MACs budget B, the widths of the {name} that minimise memory access "
                      "cost", steps, moved, macs, at_budget, bound=least, minimiser=free_star,
                      widths={M: found[M], N: found[N]})


# -- G3 and G4: counted from the layers ---------------------------------------------------

@dataclass(frozen=True)
class Fragments:
    """G3 and G4 for a block: its compute layers, the most run one after another (``series``,
    views not counted) and side by side (``parallel``), and its elementwise operations by kind."""

    layers: int
    series: int
    parallel: int
    elementwise: dict[str, int]


_ELEMENTWISE = {Activation: "activation", BatchNorm: "batch norm", LayerNorm: "layer norm",
                LayerScale: "layer scale"}


def fragments(block: Union[str, "Module", Block]) -> Fragments:
    """G3 and G4 counted from a module's (or any block's) layers.

    >>> fragments("fire")
    Fragments(layers=3, series=2, parallel=2, elementwise={'concat': 1})
    >>> from convalgebra.layers import Activation
    >>> fragments(Residual(Series(Conv(8, 8, bias=True), Activation(8), Conv(8, 8))))
    Fragments(layers=3, series=3, parallel=1, elementwise={'bias': 1, 'activation': 1, 'add': 1})
    """
    if isinstance(block, str) or hasattr(block, "rule"):
        from .catalog import module

        block = module(block).block()  # type: ignore[arg-type]
    block = check_block(block, "fragments")
    counts: dict[str, int] = {}

    def add(kind: str, n: int = 1) -> None:
        counts[kind] = counts.get(kind, 0) + n

    def walk(b: Block) -> Generator[Any, Any, tuple[int, int, int]]:
        """(layers, series, parallel) of ``b``, counting its elementwise operations (run by
        :func:`~convalgebra.blocks.drive`: a loop, however deep the block)."""
        if isinstance(b, (Identity, Slice)):
            return 0, 0, 0
        if not isinstance(b, (Series, Parallel, Residual, Repeat, Scale)):
            if getattr(b, "bias", False) and isinstance(b, (Conv, ConvTranspose, Linear)):
                add("bias")
            if isinstance(b, Elementwise):
                add(b.op)
            elif type(b) in _ELEMENTWISE:
                add(_ELEMENTWISE[type(b)])
            return 1, 1, 1
        parts: list[tuple[int, int, int]] = []
        for part in children(b):
            parts.append((yield walk(part)))
        layers = sum(p[0] for p in parts)
        if isinstance(b, Series):
            return layers, sum(p[1] for p in parts), max((p[2] for p in parts), default=0)
        if isinstance(b, Repeat):
            times = int(b.count) if getattr(b.count, "is_Integer", isinstance(b.count, int)) else 1
            return layers * times, parts[0][1] * times, parts[0][2]
        if isinstance(b, Scale):
            add("multiply")
            return layers, parts[0][1] + 1, parts[0][2]
        add("concat" if isinstance(b, Parallel) else "add")
        return layers, max(p[1] for p in parts), max(1, sum(p[2] for p in parts))

    layers, series, parallel = drive(walk(block))
    return Fragments(layers, series, parallel, counts)
