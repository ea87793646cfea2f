"""Export any block or network to a ``torch.nn.Module`` with the same layers, shapes and costs.

PyTorch is the optional extra ``torch`` and is imported only here, when called. The
export is how the tests hold the algebra to a real framework's own counter; it carries
the layers that cost something or change the shape (activations and dropout cost no
MACs and no parameters, and are left out).

>>> import pytest; torch = pytest.importorskip("torch")
>>> model = to_torch(network("resnet18"), device="meta")
>>> sum(p.numel() for p in model.parameters())
11689512
>>> model(torch.empty(1, 3, 224, 224, device="meta")).shape
torch.Size([1, 1000])

A block with symbols exports once numbers are put in:

>>> from convalgebra.blocks import substitute
>>> block = substitute(module("bottleneck").block(), {K: 3, M: 256, N: 256, t: 4})
>>> to_torch(block)  # doctest: +NORMALIZE_WHITESPACE
Sequential(
  (0): Conv2d(256, 64, kernel_size=(1, 1), stride=(1, 1), padding=same, bias=False)
  (1): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=same, bias=False)
  (2): Conv2d(64, 256, kernel_size=(1, 1), stride=(1, 1), padding=same, bias=False)
)
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Optional, Union

from .errors import ConvAlgebraError, InvalidValueError, wrong_type
from .blocks import AnyBlock, Parallel, Repeat, Series, check_block, fold
from .layers import AdaptivePool, BatchNorm, Conv, Layer, Linear, Pool, Shuffle
from .networks import Network
from .symbols import shown

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["to_torch"]


def to_torch(obj: Union[Network, AnyBlock], device: Optional[Any] = None) -> "torch.nn.Module":
    """A ``torch.nn.Module`` for a network or a block whose sizes are numbers.

    ``device="meta"`` builds it without memory or compute: shapes and costs only, which is
    all a FLOP counter needs. A network's side stages (an auxiliary classifier) are
    submodules, so their parameters count, and do not run in ``forward``.
    """
    try:
        import torch
    except ImportError:
        raise ConvAlgebraError("to_torch needs torch: pip install 'convalgebra[torch]'") from None
    if not isinstance(obj, Network):
        obj = check_block(obj, "to_torch")
    try:
        place = torch.device(device) if device is not None else contextlib.nullcontext()
    except (RuntimeError, TypeError, ValueError):
        raise InvalidValueError(f"device = {shown(device)}: expected a torch device such as 'cpu' or 'meta'") from None
    with place:
        if isinstance(obj, Network):
            return _classes().Network(obj)
        return _module(obj)


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidValueError(f"{what} = {value!r}: expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    if getattr(value, "is_Integer", False):
        return int(value)
    raise InvalidValueError(
        f"{what} = {value}: the export needs whole numbers; put numbers in for the symbols first"
        " (layers.substitute)"
    )


def _padding(layer: Conv) -> Union[str, int, tuple[int, int]]:
    """PyTorch's padding for ``layer``: 'same' at stride 1, else explicit numbers."""
    if layer.padding != "same":
        return layer.padding
    if layer.stride == 1:
        return "same"
    kh, kw = (_whole(k, "kernel") for k in layer.kernel)
    if kh % 2 == 0 or kw % 2 == 0:
        raise InvalidValueError(f"a strided {kh}x{kw} convolution with SAME padding pads unevenly; give the padding")
    return ((kh - 1) // 2 * layer.dilation, (kw - 1) // 2 * layer.dilation)


def _module(block: AnyBlock) -> "torch.nn.Module":
    """The block as torch modules, built bottom up by the one walk of a block (:func:`fold`)."""
    return fold(block, _layer, _composite)


def _composite(block: AnyBlock, parts: list["torch.nn.Module"]) -> "torch.nn.Module":
    import copy

    from torch import nn

    c = _classes()
    if isinstance(block, Series):
        return nn.Sequential(*parts)
    if isinstance(block, Parallel):
        return c.Concat(parts)
    if isinstance(block, Repeat):  # each repeat its own weights, as separate layers have
        return nn.Sequential(*(copy.deepcopy(parts[0]) for _ in range(_whole(block.count, "repeats"))))
    return c.Sum(parts[0], parts[1] if len(parts) > 1 else None)


def _layer(block: Layer) -> "torch.nn.Module":
    from torch import nn

    c = _classes()
    if isinstance(block, Conv):
        kernel = (_whole(block.kernel[0], "kernel"), _whole(block.kernel[1], "kernel"))
        return nn.Conv2d(_whole(block.in_channels, "in channels"), _whole(block.out_channels, "out channels"),
                         kernel, stride=block.stride, padding=_padding(block), dilation=block.dilation,
                         groups=_whole(block.groups, "groups"), bias=block.bias)
    if isinstance(block, Linear):
        return nn.Sequential(nn.Flatten(), nn.Linear(_whole(block.in_features, "in features"),
                                                     _whole(block.out_features, "out features"), bias=block.bias))
    if isinstance(block, Pool):
        kind = nn.MaxPool2d if block.kind == "max" else nn.AvgPool2d
        return kind(block.kernel, block.stride, block.padding, ceil_mode=block.ceil_mode)
    if isinstance(block, AdaptivePool):
        return (nn.AdaptiveAvgPool2d if block.kind == "avg" else nn.AdaptiveMaxPool2d)(block.output)
    if isinstance(block, BatchNorm):
        return nn.BatchNorm2d(_whole(block.channels, "channels"))
    if isinstance(block, Shuffle):
        return c.ChannelShuffle(_whole(block.groups, "groups"))
    raise wrong_type(block, "a convalgebra network, block or layer to export",
                     "it is a PyTorch model already: use it as it is")


@lru_cache(maxsize=None)
def _classes() -> SimpleNamespace:
    """The few modules PyTorch has no class for, defined once torch is imported."""
    import torch
    from torch import nn

    class Concat(nn.Module):
        """Branches on the same input, outputs concatenated along the channels."""

        def __init__(self, branches: list[nn.Module]) -> None:
            super().__init__()
            self.branches = nn.ModuleList(branches)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([branch(x) for branch in self.branches], 1)

    class Sum(nn.Module):
        """``body(x) + shortcut(x)``, the shortcut the identity when absent."""

        def __init__(self, body: nn.Module, shortcut: Optional[nn.Module]) -> None:
            super().__init__()
            self.body = body
            self.shortcut = shortcut if shortcut is not None else nn.Identity()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x) + self.shortcut(x)

    class ChannelShuffle(nn.Module):
        """ShuffleNet's channel shuffle: (g, c/g) -> (c/g, g)."""

        def __init__(self, groups: int) -> None:
            super().__init__()
            self.groups = groups

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, c, h, w = x.shape
            return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)

    class Network(nn.Module):
        """A network's stages in order; side stages are held (their parameters count) and not run."""

        def __init__(self, net: Any) -> None:
            super().__init__()
            self.stages = nn.ModuleDict({_key(s.name): _module(s.block) for s in net.stages})
            self.running = [_key(s.name) for s in net.stages if not s.side]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for name in self.running:
                x = self.stages[name](x)
            return torch.flatten(x, 1)

    return SimpleNamespace(Concat=Concat, Sum=Sum, ChannelShuffle=ChannelShuffle, Network=Network)


def _key(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)
