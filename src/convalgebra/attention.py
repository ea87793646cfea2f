"""Attention's costs derived from the rules: Swin's equations (1) and (2), where attention's
quadratic term overtakes its projections, and the input at which a transformer costs as much as
a convolutional network.

Nothing here is typed in: each formula is the count of the layers a rule makes. Swin writes its
map h x w with C channels and M x M windows; here they are the library's H x W, N and K (the
window is the kernel's K x K window made non-overlapping), and :func:`swin_letters` writes them back:

>>> from convalgebra.printing import text
>>> eq = swin_equations()
>>> text(swin_letters(eq.msa)), text(swin_letters(eq.wmsa))
('4*C**2*h*w + 2*C*h**2*w**2', '4*C**2*h*w + 2*C*M**2*h*w')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from .errors import InvalidValueError
from .layers import Size, sides

if TYPE_CHECKING:  # pragma: no cover
    import sympy

    from .networks import Network

__all__ = ["SwinEquations", "swin_equations", "swin_letters", "quadratic_crossing", "Crossing", "cost_crossing"]


@dataclass(frozen=True)
class SwinEquations:
    """Swin's Eq. (1) and (2) as the library counts them, their ratio and its limit for a large map.

    ``msa`` is global multi-head self-attention on an H x W map of N channels (h x w and C in
    Swin), ``wmsa`` the same in K x K windows (M x M in Swin); ``projections`` the part both share
    (the four linear layers), ``ratio`` = wmsa / msa, and ``limit`` its limit as H*W grows (0: the
    windows' cost is linear in the area, global attention's quadratic); ``ratio_times_area`` the
    ratio times H*W in that limit, (K**2 + 2N): how fast it falls.
    """

    msa: Any
    wmsa: Any
    projections: Any
    ratio: Any
    limit: Any
    ratio_times_area: Any


def swin_equations() -> SwinEquations:
    """Swin's equations from the rules: ``attend(G)`` and ``attend(G, window=True)`` applied to a
    depthwise K x K convolution of N channels, counted on an H x W map.

    >>> from convalgebra.printing import text
    >>> eq = swin_equations()
    >>> text(eq.msa), text(eq.wmsa)
    ('2*H**2*N*W**2 + 4*H*N**2*W', '2*H*K**2*N*W + 4*H*N**2*W')
    >>> text(eq.ratio), eq.limit, text(eq.ratio_times_area)
    ('(K**2 + 2*N)/(H*W + 2*N)', 0, 'K**2 + 2*N')
    """
    import sympy

    from .cost import total
    from .layers import Conv
    from .rules import attend
    from .symbols import G, H, K, N, W

    mixing = Conv(N, N, (K, K), groups=N)  # the depthwise K x K a transformer block's attention replaces
    msa = sympy.expand(total(attend(G)(mixing), (H, W))[0])
    wmsa = sympy.expand(total(attend(G, window=True)(mixing), (H, W))[0])
    shared = msa.coeff(N, 2) * N ** 2
    ratio = sympy.factor(sympy.cancel(wmsa / msa))
    area = sympy.Symbol("A", positive=True)
    in_area = ratio.subs(W, area / H)
    limit = sympy.limit(in_area, area, sympy.oo)
    speed = sympy.limit(in_area * area, area, sympy.oo)
    return SwinEquations(msa, wmsa, sympy.expand(shared), ratio, limit, speed)


def swin_letters(expr: Any) -> Any:
    """An expression in the library's H, W, N and K written in Swin's letters h, w, C and M.

    >>> from convalgebra.symbols import H, W, N, K
    >>> swin_letters(4 * H * W * N**2 + 2 * K**2 * H * W * N)
    4*C**2*h*w + 2*C*M**2*h*w
    """
    import sympy

    from .symbols import H, K, N, W, expression

    letters = {H: sympy.Symbol("h", positive=True), W: sympy.Symbol("w", positive=True),
               N: sympy.Symbol("C", positive=True), K: sympy.Symbol("M", positive=True)}
    return expression(expr, "expression").xreplace(letters)


def quadratic_crossing() -> "dict[Any, Any]":
    """The area H*W at which global attention's quadratic term (the scores and the weighted sum,
    2(hw)**2 C) equals its projections (4hwC**2), solved from the attention layer's own two parts:

    >>> quadratic_crossing()
    {H*W: 2*N}

    ViT-B's 768 channels cross at 1,536 tokens, about 39 x 39 patches (627 x 627 pixels at P = 16).
    """
    import sympy

    from .layers import Attention
    from .symbols import G, H, N, W

    layer = Attention(N, G)
    area = sympy.Symbol("A", positive=True)
    gap = sympy.sympify(layer.score_macs((H, W)) - layer.projection_macs((H, W)), strict=True).subs(W, area / H)
    (root,) = sympy.solve(sympy.expand(gap), area)
    return {H * W: root}


@dataclass(frozen=True)
class Crossing:
    """Where two networks cost the same MACs: the areas H*W (``areas``, exact, in radicals, from
    the smallest), the side of the square input at each (``sides``, floats), and the two closed
    forms in H and W."""

    first: str
    second: str
    areas: tuple[Any, ...]
    sides: tuple[float, ...]
    first_macs: Any
    second_macs: Any


def cost_crossing(first: "str | Network", second: "str | Network") -> Crossing:
    """The input areas H*W at which ``first`` costs as many MACs as ``second``, from their closed
    forms in H and W (both must depend on the input through H*W only: a ViT's MACs are a
    polynomial of degree 2 in H*W, a CNN's and a Swin's of degree 1; each closed form is exact
    at multiples of its network's stride, and a ViT's is that of the ViT built for each size).

    ViT-B/32 against Swin-T: the ViT's 12 passes of its class token cost more on a small image,
    its n**2 attention on a large one; between the two crossings it is the cheaper:

    >>> c = cost_crossing("vit_b_32", "swin_t")
    >>> [round(side) for side in c.sides]
    [149, 465]
    >>> c.areas[0]
    358144/3 - 256*sqrt(1293505)/3
    """
    import sympy

    from .catalog import network
    from .symbols import H, W

    nets = [network(n) for n in (first, second)]
    forms = [sympy.expand(net.count((H, W)).macs) for net in nets]
    area = sympy.Symbol("A", positive=True)
    in_area = [sympy.expand(f.subs(W, area / H)) for f in forms]
    if any(H in f.free_symbols for f in in_area):
        raise InvalidValueError("the closed forms depend on H and W apart, not on the area H*W alone")
    roots = sorted((r for r in sympy.solve(in_area[0] - in_area[1], area) if r.is_positive), key=float)
    if not roots:
        raise InvalidValueError(f"{nets[0].name} and {nets[1].name} never cost the same")
    return Crossing(nets[0].name, nets[1].name, tuple(roots), tuple(float(sympy.sqrt(r)) for r in roots),
                    forms[0], forms[1])
