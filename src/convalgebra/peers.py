"""Why counters disagree: what fvcore, ptflops (both backends), thop and PyTorch's
FlopCounterMode each report for an imported model, computed from its layers.

Each counter has its own convention: a unit (MACs, or FLOPs = 2 x MACs), a list of
operations it puts a cost on (bias, batch norm, activations, pooling ...), and a way of
finding them (hooks on module classes, patched functions, traced operators), which
decides whether a module called twice, or held in two places of the module tree, is
counted once, per call or per place. :func:`peer_counts` applies each convention to the
layers of a network read by :func:`~convalgebra.from_torch` (which records what torch ran
for each layer: a module's exact class or a function), part by part, so each column says
*why* it differs from the library's MACs. The conventions were read from each tool's
source, at the versions named in :data:`PEERS`, and a test holds every column to the real
tool on torchvision models.

>>> from convalgebra.catalog import network
>>> peer_counts(network("resnet18"), 224)
Traceback (most recent call last):
...
convalgebra.errors.InvalidValueError: resnet18 is not imported from PyTorch: what other counters report depends on the modules and functions torch runs (import the model with from_torch)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any, Optional

from .display import Result
from .errors import InvalidValueError, wrong_type
from .layers import (Activation, AdaptivePool, Attention, BatchNorm, Conv, ConvTranspose, Elementwise, Held, LayerNorm,
                     Linear, LinearAttention, Norm, Pool, TokenLinear, Traced, Uncounted, Upsample, area, sides)

if TYPE_CHECKING:  # pragma: no cover
    from .networks import LayerCost, Network, NetworkCost

__all__ = ["PEERS", "PeerCount", "PeerCounts", "peer_counts"]


@dataclass(frozen=True)
class _Peer:
    key: str
    tool: str
    unit: str
    finds: str
    why: str


#: The counters compared, with the versions their conventions were read from.
PEERS: tuple[_Peer, ...] = (
    _Peer("flopcountermode", "torch FlopCounterMode (torch 2.14)", "FLOPs",
          "traced operators (per call)",
          "2 FLOPs per MAC of convolutions and matrix products; nothing else (no bias, norm, activation, pooling);"
          " run on CPU tensors, as here, scaled_dot_product_attention (nn.MultiheadAttention called with"
          " need_weights=False runs it) is a fused kernel it has no formula for: 0 (on the meta device or a GPU its"
          " two products count)"),
    _Peer("fvcore", "fvcore FlopCountAnalysis (0.1.5)", "MACs (its 'flops')",
          "operators traced by torch.jit (per call)",
          "conv and linear MACs without bias; batch norm 2 a value (affine; 5 on a model left in training mode), layer norm 5, adaptive average"
          " pooling 1 an input value, upsampling 1 (nearest) or 4 (bilinear) an output value; attention's products"
          " where torch runs matmul, bmm or einsum (a hand-written attention, nn.MultiheadAttention asked for its"
          " weights), but scaled_dot_product_attention not (it has no handle for it); activations,"
          " max and average pooling, additions not"),
    _Peer("ptflops-aten", "ptflops, aten backend (0.7.5)", "MACs",
          "dispatched operators (per call)",
          "conv and linear MACs plus their bias, 1 an output value (a linear layer's only where torch runs it as"
          " addmm: tokens contiguous in memory, as after a layer norm); attention's products where torch runs bmm,"
          " scaled_dot_product_attention's fused CPU kernel not; nothing else"),
    _Peer("ptflops-pytorch", "ptflops, pytorch backend (0.7.5)", "MACs",
          "hooks on exact module classes, per call and per place in the module tree; patched functions",
          "conv and linear with bias; batch norm 2 a value, nn.LayerNorm 1; ReLU, ReLU6, GELU modules 1 an output"
          " value, pools 1 an input value; F.relu, F.gelu, F.silu and the pooling functions 1 an input value"
          " again, also when a module calls them (nn.ReLU, nn.SiLU, nn.MaxPool2d ...): counted twice;"
          " nn.MultiheadAttention by a formula of its own (projections, their biases and the output's, the two"
          " products, the scaling of the queries and the softmax, 1 a score), and again the torch.bmm and"
          " F.softmax it calls when asked for its weights; torch.matmul and torch.bmm, but not the @ operator, nor"
          " scaled_dot_product_attention; timm's Attention by a formula that leaves out its qkv and proj layers;"
          " Hardswish, Sigmoid, subclasses (LayerNorm2d) and additions by + not"),
    _Peer("thop", "thop profile (0.1.1.post2209072238)", "MACs (its 'macs')",
          "hooks on exact module classes, per call and per place in the module tree, the hook set once per place"
          " (so a module held in two places counts 4 times a call)",
          "conv and linear MACs without bias; batch norm and nn.LayerNorm 4 a value, average pooling 1 an output"
          " value, adaptive average pooling (kernel + 1) an output value; activations, max pooling and functions"
          " not, so neither attention's products (matmul, scaled_dot_product_attention) nor nn.MultiheadAttention"
          " (no hook in this version: 0, its projections too); parameters only of the modules it hooks that ran"),
)


@dataclass(frozen=True)
class PeerCount:
    """What one counter reports: ``total`` in its ``unit`` (None where the library cannot say:
    the model runs an operation the library does not know), its ``params``, and the total
    ``parts`` by what they count (conv and linear, bias, norms, activations, pooling, other)."""

    key: str
    tool: str
    unit: str
    total: Optional[int]
    params: Optional[int]
    parts: tuple[tuple[str, int], ...]
    finds: str
    why: str
    unknown: str = ""


@dataclass(frozen=True)
class PeerCounts(Result):
    """The library's count beside each counter's, for one network at one size."""

    __view__ = "peer_counts"

    cost: "NetworkCost"
    peers: tuple[PeerCount, ...]
    products: int = 0  #: of the library's MACs, those of attention's two products (scores, weighted sum)

#: The parts each total is split into, in the table's order.
PARTS = ("conv and linear", "attention", "bias", "norms", "activations", "pooling", "other")

_NN = "torch.nn.modules."
_F = "torch.nn.functional."
#: ptflops' pytorch backend: module classes hooked (exact type), by what they count.
_PTF_ACTIVATIONS = {_NN + "activation." + c for c in ("ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU")}
_PTF_POOLS = {_NN + "pooling." + c for c in ("MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool2d")}
_PTF_NORMS = {_NN + "batchnorm.BatchNorm2d", _NN + "batchnorm.BatchNorm1d", _NN + "normalization.LayerNorm",
              _NN + "normalization.GroupNorm"}
#: The functions ptflops patches, and the ones each module's forward calls (so counted again).
_PTF_FUNCTIONS = {_F + f for f in ("relu", "prelu", "elu", "relu6", "gelu", "silu", "avg_pool2d", "max_pool2d",
                                   "adaptive_avg_pool2d", "adaptive_max_pool2d", "softmax", "interpolate", "upsample")}
_CALLS = {_NN + "activation.ReLU": "relu", _NN + "activation.GELU": "gelu", _NN + "activation.SiLU": "silu",
          _NN + "activation.ELU": "elu", _NN + "activation.PReLU": "prelu", _NN + "pooling.MaxPool2d": "max_pool2d",
          _NN + "pooling.AvgPool2d": "avg_pool2d", _NN + "pooling.AdaptiveAvgPool2d": "adaptive_avg_pool2d",
          _NN + "pooling.AdaptiveMaxPool2d": "adaptive_max_pool2d", _NN + "upsampling.Upsample": "interpolate"}
_PTF_TENSOR_OPS = {"torch.add", "torch.mul", "Tensor.add", "Tensor.mul"}
#: Attention's products of two computed tensors, as torch runs them; those ptflops' pytorch backend patches.
_PRODUCTS = {"_operator.matmul", "torch.matmul", "Tensor.matmul", "torch.bmm", "Tensor.bmm", "torch.mm", "Tensor.mm",
             "torch.functional.einsum", "torch.einsum", "Tensor.__matmul__"}
_PTF_PRODUCTS = {"torch.matmul", "Tensor.matmul", "torch.bmm", "Tensor.bmm", "torch.mm", "Tensor.mm"}
#: Ops the library leaves uncounted whose cost under every peer's convention is known (0, or ptflops' 1 a value).
_NO_COST = {"softmax"}
_SDPA = "torch.nn.functional.scaled_dot_product_attention"
_MHA = _NN + "activation.MultiheadAttention"
_LINEAR = _NN + "linear.Linear"
_LAYER_NORM = _NN + "normalization.LayerNorm"
#: What nn.MultiheadAttention was called with, as the importer records it in the origin.
_MHA_CALL = re.compile(r"\(heads=(\d+), tokens=(\d+), need_weights=(True|False), mask=(True|False), self=(True|False),"
                       r" bias=(True|False)")


class _NotKnown(Exception):
    """A layer whose cost under a peer's convention the library cannot say."""
#: thop: module classes it hooks (exact type); the rest count nothing, their parameters neither.
_THOP = {_NN + c for c in ("conv.Conv2d", "conv.ConvTranspose2d", "batchnorm.BatchNorm2d", "batchnorm.BatchNorm1d",
                           "normalization.LayerNorm", "activation.ReLU", "activation.ReLU6", "activation.LeakyReLU",
                           "activation.PReLU", "pooling.MaxPool2d", "pooling.AdaptiveMaxPool2d", "pooling.AvgPool2d",
                           "pooling.AdaptiveAvgPool2d", "linear.Linear", "dropout.Dropout", "upsampling.Upsample",
                           "padding.ZeroPad2d", "pixelshuffle.PixelShuffle")}


def peer_counts(net: "Network", size: Any = None) -> PeerCounts:
    """What each counter reports for ``net`` (imported by :func:`~convalgebra.from_torch`) on a
    1 x C x H x W input of ``size`` (a number or (height, width); the traced size by default),
    and why, part by part.

    >>> import pytest; torchvision = pytest.importorskip("torchvision")
    >>> import torch
    >>> with torch.device("meta"):
    ...     model = torchvision.models.resnet18()
    >>> from convalgebra.torch_import import from_torch
    >>> counts = peer_counts(from_torch(model, name="resnet18"))
    >>> [(p.key, p.total) for p in counts.peers]   # doctest: +NORMALIZE_WHITESPACE
    [('flopcountermode', 3628146688), ('fvcore', 1819065856), ('ptflops-aten', 1814074344),
     ('ptflops-pytorch', 1825313768), ('thop', 1824033792)]
    >>> counts.cost.macs * 2                         # FlopCounterMode: FLOPs
    3628146688
    """
    from .networks import Network

    if not isinstance(net, Network):
        raise wrong_type(net, "a Network imported with from_torch")
    if not net.imported:
        raise InvalidValueError(f"{net.name} is not imported from PyTorch: what other counters report depends on the"
                                " modules and functions torch runs (import the model with from_torch)")
    cost = net.count(net.default_size if size is None else size)
    if not all(isinstance(side, int) for side in sides(cost.size)):
        raise InvalidValueError("peer_counts counts at a number (the counters run the model at one size)")
    origins = {name: (op, places) for name, op, places in net.origins}
    rows = [r for r in cost.layers]
    unknown = "; ".join(f"{r.name} ({getattr(r.layer, 'op')})" for r in cost.uncounted
                        if getattr(r.layer, "op") not in _NO_COST)  # a softmax: each counter's convention is known
    peers = []
    whole = sorted({op for _, (op, _) in origins.items() if op.startswith("timm.") and op.endswith(".Attention")})
    for peer in PEERS:
        parts: dict[str, int] = {}
        params: Optional[int] = int(cost.params)
        reason = f"runs operations the library does not know: {unknown}" if unknown else ""
        if peer.key == "ptflops-pytorch":
            patched = [op for op in net.joins if op in _PTF_TENSOR_OPS]
            if patched and not reason:
                reason = f"joins branches with {', '.join(patched)}, which ptflops counts and the layers do not show"
            if whole and not reason:
                reason = ("runs timm's Attention, which ptflops hooks by a formula of its own, leaving out the qkv and"
                          " proj layers inside it (the layers do not say how many tokens it saw)")
        if peer.key == "thop":
            params = 0
        if peer.key == "flopcountermode":  # it counts operations only
            params = None
        carried: Optional[int] = None  # the values a layer on tokens passes on (a traced op's shape)
        for row in rows:
            op, places = origins.get(row.name, ("", 1))
            try:
                counted = _counted(peer.key, row, op, places, carried)
            except _NotKnown as error:
                reason = reason or str(error)
                counted = []
            for part, amount in counted:
                parts[part] = parts.get(part, 0) + amount
            layer = row.layer
            if isinstance(layer, Traced) and row.runs:
                carried = prod(layer.shape) if layer.shape else None
            elif not isinstance(layer, (Activation, Uncounted, Elementwise, Norm)):
                carried = None
            if peer.key == "thop" and op in _THOP and row.runs and row.name not in net.reused:
                params = (params or 0) + int(row.params) * places
        ordered = tuple((p, parts[p]) for p in PARTS if parts.get(p))
        total = None if reason else sum(parts.values())
        peers.append(PeerCount(peer.key, peer.tool, peer.unit, total, None if reason and peer.key == "thop" else params,
                               ordered if total is not None else (), peer.finds, peer.why, reason))
    return PeerCounts(cost, tuple(peers), sum(_products(row, origins.get(row.name, ("", 1))[0]) for row in rows))


def _products(row: "LayerCost", op: str) -> int:
    """The MACs of attention's two products in one layer, as the library counts them (all devices alike)."""
    layer = row.layer
    if not row.runs:
        return 0
    if isinstance(layer, Attention):
        return int(layer.score_macs(row.input_size))
    if isinstance(layer, Traced) and (op in _PRODUCTS or op == _SDPA):
        return int(layer.counted)
    call = _MHA_CALL.search(op) if isinstance(layer, Traced) and op.startswith(_MHA) else None
    if call is not None:
        n, c = int(call.group(2)), _channels_of(op)
        return 2 * n * n * c
    return 0


def _numel(channels: Any, size: Any) -> int:
    return int(channels * area(size)) if size is not None else int(channels)


def _counted(key: str, row: "LayerCost", op: str, places: int, carried: Optional[int] = None
             ) -> list[tuple[str, int]]:
    """What counter ``key`` puts on one layer, by part (``carried``: the values the layer
    before passed on, where it was a traced op on tokens, not a map)."""
    layer = row.layer
    if not row.runs or isinstance(layer, Held):
        return []
    if isinstance(layer, Traced):
        return _traced(key, layer, op, places)
    if isinstance(layer, (Attention, LinearAttention, TokenLinear)):
        return _tokens(key, row, op, places)
    if isinstance(layer, Uncounted) and not (key == "ptflops-pytorch" and op in _PTF_FUNCTIONS):
        return []
    macs = int(row.macs)
    if carried is not None and isinstance(layer, (Activation, Uncounted, Elementwise, Norm)):
        out = into = carried
    else:
        out = _numel(layer.out_channels, row.output_size)
        into = _numel(layer.in_channels, row.input_size)
    bias = 0
    if isinstance(layer, (Conv, ConvTranspose)) and layer.bias:
        bias = out
    elif isinstance(layer, Linear) and layer.bias:
        bias = int(layer.out_channels)
    is_linear_conv = op == _NN + "linear.Linear" and isinstance(layer, Conv)  # a linear layer on channels-last positions
    if key == "flopcountermode":
        return [("conv and linear", 2 * macs)]
    if key == "ptflops-aten":
        return [("conv and linear", macs), ("bias", bias)]
    if key == "fvcore":
        if isinstance(layer, (Conv, ConvTranspose, Linear)):
            return [("conv and linear", macs)]
        if isinstance(layer, BatchNorm):
            return [("norms", 2 * into)]
        if isinstance(layer, LayerNorm):
            return [("norms", 5 * into)]
        if isinstance(layer, Norm) and layer.kind in ("layer", "group"):  # F.layer_norm, F.group_norm: 4, 5 affine
            return [("norms", (5 if layer.held else 4) * into)]
        if isinstance(layer, AdaptivePool) and layer.kind == "avg" and op != "Tensor.mean":
            return [("pooling", into)]
        if isinstance(layer, Upsample):
            return [("other", out * (4 if layer.mode == "bilinear" else 1))]
        return []
    if key == "ptflops-pytorch":
        found: list[tuple[str, int]] = []
        if op == _NN + "conv.Conv2d" or op == _NN + "conv.ConvTranspose2d":
            found += [("conv and linear", macs * places), ("bias", bias * places)]
        elif op == _NN + "linear.Linear":
            positions = area(row.output_size) if is_linear_conv else 1
            found += [("conv and linear", macs * places), ("bias", int(bias if not is_linear_conv else
                                                                       layer.out_channels * positions) * places)]
        elif op in _PTF_NORMS:
            found.append(("norms", into * (2 if isinstance(layer, BatchNorm) else 1) * places))
        elif op in _PTF_ACTIVATIONS:
            found.append(("activations", out * places))
        elif op in _PTF_POOLS:
            found.append(("pooling", into * places))
        elif op == _NN + "upsampling.Upsample":
            found.append(("other", out * places))
        function = _F + _CALLS[op] if op in _CALLS else op
        if function in _PTF_FUNCTIONS:  # the patched function, called by itself or by the module's forward
            part = "pooling" if "pool" in function else "other" if function.endswith(("interpolate", "upsample")) \
                else "activations"
            found.append((part, out if part == "other" else into))
        if op in _PTF_TENSOR_OPS and isinstance(layer, Elementwise):
            found.append(("other", out))
        return found
    if key == "thop":
        if op not in _THOP:
            return []
        places *= places  # model.apply meets the module at each place and hooks it again: each call counts per place
        if isinstance(layer, Conv):
            return [("conv and linear", macs * places)]
        if isinstance(layer, ConvTranspose):
            height, width = sides(layer.kernel)
            return [("conv and linear", int(out * (layer.in_channels // layer.groups) * height * width) * places)]
        if isinstance(layer, Linear):
            return [("conv and linear", macs * places)]
        if isinstance(layer, (BatchNorm, LayerNorm)):
            return [("norms", 4 * into * places)]
        if isinstance(layer, Pool) and layer.kind == "avg":
            return [("pooling", out * places)]
        if isinstance(layer, AdaptivePool) and layer.kind == "avg":
            (h_in, w_in), (h_out, w_out) = sides(row.input_size), sides(row.output_size)
            kernel = (float(h_in) / float(h_out)) * (float(w_in) / float(w_out))  # thop's doubles, in its order
            return [("pooling", int((kernel + 1) * out) * places)]
        if isinstance(layer, Upsample):
            return [("other", out * (11 if layer.mode == "bilinear" else 1) * places)]
        if isinstance(layer, Activation) and layer.function == "prelu":
            return [("activations", into * places)]
        return []
    raise InvalidValueError(f"no counter {key!r}")


def _traced(key: str, layer: Traced, op: str, places: int) -> list[tuple[str, int]]:
    """What counter ``key`` puts on an op counted at the traced size (a linear layer or a layer
    norm on tokens, attention's products, nn.MultiheadAttention), from its traced shape."""
    values = prod(layer.shape) if layer.shape else 0
    counted = int(layer.counted)
    module = op.split("(", 1)[0]
    if module == _MHA:
        return _multihead(key, op)
    if module == _LINEAR and values:
        inputs = counted // values
        bias = values if int(layer.held) > inputs * int(layer.shape[-1]) else 0
        found = {"flopcountermode": [("conv and linear", 2 * counted)], "fvcore": [("conv and linear", counted)],
                 "ptflops-aten": [("conv and linear", counted), ("bias", bias)],
                 "ptflops-pytorch": [("conv and linear", counted * places), ("bias", bias * places)],
                 "thop": [("conv and linear", counted * places * places)]}
        return found[key]
    if op in _PRODUCTS:
        if key == "thop" or (key == "ptflops-pytorch" and op not in _PTF_PRODUCTS):
            return []
        return [("attention", counted * (2 if key == "flopcountermode" else 1))]
    if op == _SDPA:
        return []  # on CPU tensors a fused kernel that none of them has a formula for
    if module == _LAYER_NORM:
        by = {"fvcore": 5 * values, "ptflops-pytorch": values * places, "thop": 4 * values * places * places}
        return [("norms", by[key])] if key in by else []
    if counted:
        raise _NotKnown(f"runs {layer.op} ({layer.name}), counted at the traced size, whose convention here is not"
                        " known")
    return []


def _tokens(key: str, row: "LayerCost", op: str, places: int) -> list[tuple[str, int]]:
    """A layer on tokens with a size rule (an import that reads a linear layer or nn.MultiheadAttention
    into the library's token layers): a linear layer on each token as a traced one; attention by
    the call torch ran (nn.MultiheadAttention's, recorded by the importer); any other not known."""
    layer = row.layer
    if isinstance(layer, TokenLinear) and op.split("(", 1)[0] == _LINEAR:
        n = int(area(row.input_size) + layer.extra)
        values, counted = n * int(layer.out_channels), int(row.macs)
        held = counted // n + (int(layer.out_channels) if layer.bias else 0)
        return _traced(key, Traced(layer.in_channels, "Linear", layer.out_channels, counted, shape=(n, int(
            layer.out_channels)), held=held), op, places) if values else []
    if isinstance(layer, Attention) and op.startswith(_MHA):
        return _multihead(key, op)
    raise _NotKnown(f"runs {getattr(layer, 'name', '') or type(layer).__name__} ({op or 'its calls not recorded'}),"
                    " whose convention here is not known")


def _multihead(key: str, op: str) -> list[tuple[str, int]]:
    """nn.MultiheadAttention on n tokens of C channels with h heads, under each counter's convention:
    the projections 4nC**2, the two products 2n**2*C (explicit bmm with ``need_weights``, otherwise
    scaled_dot_product_attention), biases, ptflops' scaling and softmax."""
    call = _MHA_CALL.search(op)
    if call is None or call.group(4) == "True" or call.group(5) == "False":
        raise _NotKnown("runs nn.MultiheadAttention with a mask, across two inputs or not read by the importer")
    heads, tokens = int(call.group(1)), int(call.group(2))
    weights, bias = call.group(3) == "True", call.group(6) == "True"
    return _multihead_parts(key, tokens, _channels_of(op), heads, weights, bias)


def _channels_of(op: str) -> int:
    found = re.search(r"channels=(\d+)", op)
    if found is None:
        raise _NotKnown("runs nn.MultiheadAttention whose channels the importer did not record")
    return int(found.group(1))


def _multihead_parts(key: str, n: int, c: int, heads: int, weights: bool, bias: bool) -> list[tuple[str, int]]:
    """The parts of nn.MultiheadAttention under counter ``key``.

    >>> _multihead_parts("ptflops-pytorch", 6, 16, 2, False, True)
    [('conv and linear', 6144), ('attention', 1152), ('bias', 384), ('other', 168)]
    >>> _multihead_parts("flopcountermode", 6, 16, 2, False, True)
    [('conv and linear', 12288)]
    """
    projections, products = 4 * n * c * c, 2 * n * n * c
    seen = products if weights else 0  # explicit bmm with need_weights; else SDPA, a fused kernel on CPU
    if key == "flopcountermode":
        found = [("conv and linear", 2 * projections), ("attention", 2 * seen)]
    elif key == "fvcore":
        found = [("conv and linear", projections), ("attention", seen)]
    elif key == "ptflops-aten":  # the input projection is addmm on contiguous tokens; the output's always
        found = [("conv and linear", projections), ("attention", seen), ("bias", (4 * n * c) if bias else n * c)]
    elif key == "ptflops-pytorch":
        softmax = heads * n * n
        found = [("conv and linear", projections), ("attention", products + seen),
                 ("bias", (3 * n * c if bias else 0) + n * c), ("other", n * c + softmax + (softmax if weights else 0))]
    else:
        found = []
    return [(part, amount) for part, amount in found if amount]
