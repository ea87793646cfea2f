"""Export any block or network to a ``torch.nn.Module`` with the same layers, shapes and costs.

PyTorch is the optional extra ``torch`` and is imported only here, when called. The
export is how the tests hold the algebra to a real framework's own counter; every layer
exports, activations by name (the zoo's networks leave them out: they cost no MACs and no
parameters).

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
from .blocks import AnyBlock, Graph, Parallel, Repeat, Scale, Series, check_block, fold
from .layers import (Activation, AdaptivePool, Attention, BatchNorm, ClassToken, Conv, ConvTranspose, Elementwise, Identity,
                     Layer, LayerNorm, LayerScale, Linear, LinearAttention, Norm, Pad, Parameters, PatchMerge, Pool, Shuffle,
                     Slice, TokenLinear, Tokens, Upsample)
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
        raise ConvAlgebraError('to_torch needs PyTorch (torch is not installed): pip install "convalgebra[torch]"') from None
    if not isinstance(obj, Network):
        obj = check_block(obj, "to_torch")
    try:
        place = torch.device(device) if device is not None else contextlib.nullcontext()
        if device is not None:
            torch.empty(0, device=torch.device(device))  # a device this machine has (a CUDA index needs a GPU)
    except (RuntimeError, TypeError, ValueError, AssertionError) as error:
        why = str(error).splitlines()[0][:120] if str(error) else "not a device"
        raise InvalidValueError(f"device = {shown(device)}: expected a torch device such as 'cpu' or 'meta' ({why})"
                                ) from None
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


#: The most layers an export makes (each repeat its own copy): far beyond any network.
MOST_LAYERS = 100_000
#: The deepest nesting an export makes: PyTorch's own walks of a model (``parameters()``,
#: ``named_modules()``, a forward pass) recurse once per level, within Python's stack.
MOST_NESTED = 100


def _module(block: AnyBlock) -> "torch.nn.Module":
    """The block as torch modules, built bottom up by the one walk of a block (:func:`fold`)."""
    _exported_layers(block)
    return fold(block, _layer, _composite)


def _exported_layers(block: AnyBlock) -> int:
    """How many layers the export of ``block`` makes, every repeat unrolled; refused past
    :data:`MOST_LAYERS` before any is made.

    >>> from convalgebra.layers import Conv
    >>> _exported_layers(Repeat(Repeat(Conv(8, 8), 3), 4))
    12
    >>> _exported_layers(Repeat(Conv(8, 8), 10**9))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: the export makes each repeat its own layers: 1000000000 here, more than the 100000 a model is given
    """
    def node(b: AnyBlock, parts: list[tuple[int, int]]) -> tuple[int, int]:
        made = sum(p[0] for p in parts) * (_whole(b.count, "repeats") if isinstance(b, Repeat) else 1)
        return made, 1 + max((p[1] for p in parts), default=0)

    made, depth = fold(block, lambda layer: (1, 0), node)
    if made > MOST_LAYERS:
        raise InvalidValueError(f"the export makes each repeat its own layers: {made} here, more than the"
                                f" {MOST_LAYERS} a model is given")
    if depth > MOST_NESTED:
        raise InvalidValueError(f"a block nested {depth} deep: PyTorch's own walks of a model recurse once per level,"
                                f" so an export is nested at most {MOST_NESTED} deep (count it with the library instead)")
    return made


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
    if isinstance(block, Scale):
        return c.Gate(parts[0])
    if isinstance(block, Graph):
        return c.Graph(parts, [(node.inputs, node.join) for node in block.nodes], block.outputs[0])
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
    if isinstance(block, Identity):
        return nn.Identity()
    if isinstance(block, Slice):
        return c.ChannelSlice(_whole(block.start, "start"), _whole(block.stop, "stop"))
    if isinstance(block, LayerNorm):
        return c.ChannelNorm(_whole(block.channels, "channels"))
    if isinstance(block, LayerScale):
        return c.LayerScale(_whole(block.channels, "channels"))
    if isinstance(block, Activation):
        return _ACTIVATIONS[block.function]()
    if isinstance(block, Elementwise):
        return c.Elementwise(block.op)
    if isinstance(block, ConvTranspose):
        kernel = (_whole(block.kernel[0], "kernel"), _whole(block.kernel[1], "kernel"))
        return nn.ConvTranspose2d(_whole(block.in_channels, "in channels"), _whole(block.out_channels, "out channels"),
                                  kernel, stride=block.stride, padding=block.padding,
                                  output_padding=block.output_padding, groups=_whole(block.groups, "groups"),
                                  bias=block.bias, dilation=block.dilation)
    if isinstance(block, Upsample):
        return nn.Upsample(scale_factor=block.scale, mode=block.mode)
    if isinstance(block, Pad):
        top, bottom, left, right = block.pads
        return nn.ZeroPad2d((left, right, top, bottom))
    if isinstance(block, (Norm, Parameters)):
        return c.Held(_whole(block.channels, "channels"), int(block.held)) if block.held else nn.Identity()
    if isinstance(block, (TokenLinear, Attention, LinearAttention, PatchMerge, Tokens, ClassToken)):
        return _token_layer(block)
    raise wrong_type(block, "a convalgebra network, block or layer to export",
                     "it is a PyTorch model already: use it as it is")


def _token_layer(block: Layer) -> "torch.nn.Module":
    """A transformer's layer on a map (B, C, H, W), its tokens the positions: a linear layer on each token
    is a 1 x 1 convolution; attention runs torch's own modules (``nn.MultiheadAttention``, torchvision's
    shifted window attention) on the tokens. A class token has no place in a map: a ViT is exported from
    torchvision itself."""
    from torch import nn

    c = _classes()
    if isinstance(block, (Tokens, ClassToken)) or (isinstance(block, (TokenLinear, Attention)) and block.extra):
        raise InvalidValueError("a class token has no place in a map, so a ViT is not exported: use torchvision's"
                                " own (torchvision.models.vit_b_16(image_size=...))")
    if isinstance(block, TokenLinear):
        return nn.Conv2d(_whole(block.in_channels, "in channels"), _whole(block.out_channels, "out channels"), 1,
                         bias=block.bias)
    if isinstance(block, PatchMerge):
        return c.PatchMerge(_whole(block.patch, "patch side"))
    if isinstance(block, LinearAttention):
        return c.SeparableAttention(_whole(block.channels, "channels"), block.bias)
    assert isinstance(block, Attention)
    channels, heads = _whole(block.channels, "channels"), _whole(block.heads, "heads")
    if block.window is not None:
        if block.position_bias == "none":
            raise InvalidValueError("window attention exports as torchvision's, which has a position bias:"
                                    " position_bias='table' or 'mlp'")
        return c.WindowAttention(channels, heads, _whole(block.window, "window"), block.shift,
                                 block.position_bias == "mlp", block.qkv_bias, block.proj_bias)
    if block.qkv_bias != block.proj_bias:
        raise InvalidValueError("torch's MultiheadAttention has one bias flag: qkv_bias and proj_bias alike")
    grid = None if block.grid is None else _whole(block.grid, "patch side")
    return c.TokenAttention(channels, heads, block.qkv_bias, grid)


#: torch's module for each activation the layers name.
_ACTIVATIONS: dict[str, Any] = {}


def _activation_modules(erf: Any) -> None:
    from torch import nn

    _ACTIVATIONS.update(relu=nn.ReLU, relu6=nn.ReLU6, gelu=nn.GELU, silu=nn.SiLU, sigmoid=nn.Sigmoid,
                        hardswish=nn.Hardswish, hardsigmoid=nn.Hardsigmoid, tanh=nn.Tanh,
                        leaky_relu=nn.LeakyReLU, elu=nn.ELU, selu=nn.SELU, celu=nn.CELU, softplus=nn.Softplus,
                        softsign=nn.Softsign, mish=nn.Mish, hardtanh=nn.Hardtanh, erf=erf,
                        softmax=lambda: nn.Softmax(dim=1))


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

    class Gate(nn.Module):
        """``x * gate(x)``: squeeze-and-excitation's scale, broadcast over the positions."""

        def __init__(self, gate: nn.Module) -> None:
            super().__init__()
            self.gate = gate

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.gate(x)

    class Erf(nn.Module):
        """torch.erf as a module (the erf of an exact GELU written out)."""

        def forward(self, x: Any) -> Any:
            return torch.erf(x)

    class ChannelSlice(nn.Module):
        """Channels ``start`` to ``stop`` of the input (a view)."""

        def __init__(self, start: int, stop: int) -> None:
            super().__init__()
            self.start, self.stop = start, stop

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, self.start:self.stop]

    class ChannelNorm(nn.LayerNorm):
        """Layer norm over the channels at each position (torchvision's ``LayerNorm2d``)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    class LayerScale(nn.Module):
        """Each channel times a learned gamma."""

        def __init__(self, channels: int) -> None:
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(channels, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.gamma

    class Elementwise(nn.Module):
        """An elementwise op, the layer's input as both operands (a block's layer has one input)."""

        def __init__(self, op: str) -> None:
            super().__init__()
            self.op = op

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + x if self.op == "add" else x * x

    class Graph(nn.Module):
        """A dataflow graph: each node's module on the value its inputs make (joined by a sum,
        a product or a concatenation along the channels); the first output handed on."""

        def __init__(self, parts: list[nn.Module], wiring: list[tuple[tuple[int, ...], str]], output: int) -> None:
            super().__init__()
            self.parts = nn.ModuleList(parts)
            self.wiring, self.output = wiring, output

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            values = [x]
            for part, (inputs, join) in zip(self.parts, self.wiring):
                ins = [values[i] for i in inputs]
                y = ins[0]
                for other in ins[1:]:
                    if join == "resize":
                        y = nn.functional.interpolate(y, size=tuple(other.shape[-2:]))
                        continue
                    y = torch.cat([y, other], 1) if join == "concat" else (y + other if join == "add" else y * other)
                values.append(part(y))
            return values[self.output]

    class Held(nn.Module):
        """Parameters held beside the data's path (a norm's affine weights, a gain): the input as it is."""

        def __init__(self, channels: int, held: int) -> None:
            super().__init__()
            self.held = nn.Parameter(torch.ones(held))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x


    class PatchMerge(nn.Module):
        """Each P x P patch to one position of P*P*C channels, a side padded up to whole patches."""

        def __init__(self, patch: int) -> None:
            super().__init__()
            self.patch = patch

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            p = self.patch
            x = nn.functional.pad(x, (0, -x.shape[3] % p, 0, -x.shape[2] % p))
            return nn.functional.pixel_unshuffle(x, p)

    class TokenAttention(nn.Module):
        """Multi-head self-attention over the positions of a map (torch's ``MultiheadAttention``); with
        ``grid`` P, MobileViT's: the map unfolded, the tokens at one place of every P x P patch a sequence."""

        def __init__(self, channels: int, heads: int, bias: bool, grid: Optional[int]) -> None:
            super().__init__()
            self.attention = nn.MultiheadAttention(channels, heads, bias=bias, batch_first=True)
            self.grid = grid

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, ch, h, w = x.shape
            p = self.grid or 1
            hp, wp = -(-h // p) * p, -(-w // p) * p
            if (hp, wp) != (h, w):  # stretched to whole patches, as timm's MobileViT does
                x = nn.functional.interpolate(x, size=(hp, wp), mode="bilinear", align_corners=False)
            tokens = x.reshape(b, ch, hp // p, p, wp // p, p).permute(0, 3, 5, 2, 4, 1).reshape(b * p * p, -1, ch)
            out = self.attention(tokens, tokens, tokens, need_weights=False)[0]
            out = out.reshape(b, p, p, hp // p, wp // p, ch).permute(0, 5, 3, 1, 4, 2).reshape(b, ch, hp, wp)
            return out if (hp, wp) == (h, w) else nn.functional.interpolate(out, size=(h, w), mode="bilinear",
                                                                            align_corners=False)

    class WindowAttention(nn.Module):
        """Swin's (shifted) window attention, torchvision's own module, on a map (B, C, H, W)."""

        def __init__(self, channels: int, heads: int, window: int, shift: int, v2: bool, qkv_bias: bool,
                     proj_bias: bool) -> None:
            super().__init__()
            from torchvision.models.swin_transformer import ShiftedWindowAttention, ShiftedWindowAttentionV2

            kind = ShiftedWindowAttentionV2 if v2 else ShiftedWindowAttention
            self.attention = kind(channels, [window, window], [shift, shift], heads, qkv_bias, proj_bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attention(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    class SeparableAttention(nn.Module):
        """MobileViT V2's separable self-attention on a map (its authors' LinearSelfAttention)."""

        def __init__(self, channels: int, bias: bool) -> None:
            super().__init__()
            self.channels = channels
            self.qkv_proj = nn.Conv2d(channels, 1 + 2 * channels, 1, bias=bias)
            self.out_proj = nn.Conv2d(channels, channels, 1, bias=bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            query, key, value = torch.split(self.qkv_proj(x), [1, self.channels, self.channels], dim=1)
            scores = torch.softmax(query.flatten(2), dim=-1).view_as(query)
            context = (key * scores).sum(dim=(2, 3), keepdim=True)
            return self.out_proj(torch.relu(value) * context)

    _activation_modules(Erf)
    return SimpleNamespace(Held=Held, Graph=Graph,
                           Concat=Concat, Sum=Sum, ChannelShuffle=ChannelShuffle, Network=Network, Gate=Gate,
                           Erf=Erf, ChannelSlice=ChannelSlice, ChannelNorm=ChannelNorm, LayerScale=LayerScale,
                           Elementwise=Elementwise, PatchMerge=PatchMerge, TokenAttention=TokenAttention,
                           WindowAttention=WindowAttention, SeparableAttention=SeparableAttention)


def _key(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)
