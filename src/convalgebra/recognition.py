"""Which of the article's modules a block is: matched against the rules themselves.

Each module's rule applied to the standard convolution (K x K, M -> N) gives a pattern of
convolutions in the symbols K, M, N and the module's own (t, G, r ...); a block is that
module when its convolutions, in order, solve the pattern's equations (channels in and out,
groups, kernel sides) for positive numbers. No class names are read.

>>> from convalgebra.layers import Conv, BatchNorm
>>> from convalgebra.blocks import Series, Residual
>>> block = Residual(Series(Conv(256, 64, (1, 1)), BatchNorm(64), Conv(64, 64, (3, 3)), Conv(64, 256, (1, 1))))
>>> recognize(block).text
'bottleneck (t = 4)'
>>> recognize(Series(Conv(32, 32, (3, 3), groups=32, stride=2), Conv(32, 64, (1, 1)))).text
'depthwise-separable, stride 2'
>>> recognize(Conv(3, 8)) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional, Sequence

from .blocks import AnyBlock, check_block, iter_layers
from .layers import AdaptivePool, AnyLayer, Conv, Linear, Shuffle, Slice

__all__ = ["Recognized", "recognize", "recognize_network"]

#: The modules tried, in this order (the first that solves wins; they exclude one another).
_CANDIDATES = ("bottleneck", "resnext", "inverted-bottleneck", "mbconv", "depthwise-separable", "shufflenet-v2",
               "convnext", "xception", "fire", "factorized", "vgg-stack")


@dataclass(frozen=True)
class Recognized:
    """A block recognized as ``module``, with its parameters' values and its stride."""

    module: str
    parameters: tuple[tuple[str, Any], ...]
    stride: int = 1

    @property
    def text(self) -> str:
        shown = ", ".join(f"{name} = {value}" for name, value in self.parameters)
        return self.module + (f" ({shown})" if shown else "") + (f", stride {self.stride}" if self.stride != 1 else "")


#: The layers a pattern is matched on: the weighted ones, and those that shape the channels.
_SHAPING = (Conv, Linear, Slice, Shuffle, AdaptivePool)
#: Parameters that count something (an expansion, groups): whole numbers.
_WHOLE = ("t", "G")


def _signature(block: AnyBlock) -> list[AnyLayer]:
    return [x for x in iter_layers(block) if isinstance(x, _SHAPING)]


@lru_cache(maxsize=None)
def _pattern(name: str) -> tuple[Any, list[AnyLayer]]:
    from .catalog import module

    m = module(name)
    return m, _signature(m.block())


def recognize(block: AnyBlock) -> Optional[Recognized]:
    """The module ``block`` is (solved for its parameters), or None if it is none of them.

    >>> recognize("bottleneck")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: recognize takes layers and blocks, not a str; a network is counted with network('bottleneck').count()
    """
    convs = _signature(check_block(block, "recognize"))
    if not any(isinstance(x, Conv) for x in convs) or any(isinstance(x, Linear) for x in convs):
        return None
    import sympy

    for name in _CANDIDATES:
        module, pattern = _pattern(name)
        if [type(x) for x in pattern] != [type(x) for x in convs]:
            continue
        equations = []
        for want, got in zip(pattern, convs):
            equations += [sympy.Eq(want.in_channels, got.in_channels), sympy.Eq(want.out_channels, got.out_channels)]
            if isinstance(want, Conv) and isinstance(got, Conv):
                equations.append(sympy.Eq(want.groups, got.groups))
                equations += [sympy.Eq(w, g) for w, g in zip(want.kernel, got.kernel)]
        unknowns = sorted(set().union(*(sympy.sympify(e, strict=True).free_symbols for e in equations)), key=str)
        solutions = sympy.solve(equations, unknowns, dict=True) if unknowns else [{}]
        equations = [e for e in equations if e is not sympy.true]
        if any(e is sympy.false for e in equations) or not solutions:
            continue
        solution = solutions[0]
        if len(solution) != len(unknowns) or not all(v.is_positive for v in solution.values()) \
                or not all(v.is_integer for s, v in solution.items() if str(s) in _WHOLE):
            continue
        own = tuple((str(s), _number(solution[s])) for s in module.parameters if s in solution)
        stride = max(getattr(x, "stride", 1) for x in convs)
        return Recognized(name, own, stride)
    return None


def _number(value: Any) -> Any:
    return int(value) if value.is_Integer else value


def recognize_network(net: Any) -> tuple[list[tuple[str, Optional[Recognized]]], str]:
    """Each block of an imported network (torch's block modules, :attr:`Network.parts`) and
    what it is, and a summary line: ``'ResNet-50: 16 bottlenecks'``.

    >>> recognize_network(None)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: None: expected a Network (one imported with from_torch), not NoneType
    """
    from .blocks import Residual, Series, fold
    from .errors import wrong_type
    from .networks import Network

    if not isinstance(net, Network):
        raise wrong_type(net, "a Network (one imported with from_torch)")

    def shortcuts(block: AnyBlock) -> set[str]:  # the layers of projection shortcuts: not the module's
        return fold(block, lambda layer: set(), lambda b, parts: set().union(*parts) | (
            {x.name for x in iter_layers(b.shortcut)} if isinstance(b, Residual) and b.shortcut is not None else set()))

    skip = set().union(*(shortcuts(stage.block) for stage in net.stages))
    layers = [x for stage in net.stages if not stage.side for x in iter_layers(stage.block) if x.name not in skip]
    found: list[tuple[str, Optional[Recognized]]] = []
    for part in net.parts:
        mine = [x for x in layers if x.name.startswith(part + ".")]
        if any(isinstance(x, Conv) for x in mine):
            found.append((part, recognize(Series(*mine))))
    return found, summary(net.title, [r for _, r in found])


def summary(title: str, found: Sequence[Optional[Recognized]]) -> str:
    """``'ResNet-50: 16 bottlenecks'``, with each parameter's values when they vary.

    >>> summary("MobileNet V2", [Recognized("inverted-bottleneck", (("t", 6),))] * 16 + [None])
    'MobileNet V2: 16 inverted-bottlenecks (t = 6); 1 block none of the modules'
    """
    counts: dict[str, list[Recognized]] = {}
    others = 0
    for r in found:
        if r is None:
            others += 1
        else:
            counts.setdefault(r.module, []).append(r)
    parts = []
    for name, rs in counts.items():
        values: dict[str, list[Any]] = {}
        for r in rs:
            for k, v in r.parameters:
                values.setdefault(k, []).append(v)
        shown = []
        for k, vs in values.items():
            distinct = sorted(set(vs), key=lambda v: (vs.count(v), str(v)))
            shown.append(f"{k} = {distinct[0]}" if len(distinct) == 1 else
                         f"{k} = " + ", ".join(f"{v} ({vs.count(v)}x)" for v in distinct))
        parts.append(f"{len(rs)} {name}{'s' if len(rs) != 1 else ''}" + (f" ({'; '.join(shown)})" if shown else ""))
    if others:
        parts.append(f"{others} block{'s' if others != 1 else ''} none of the modules")
    return f"{title}: {'; '.join(parts) or 'no blocks'}"
