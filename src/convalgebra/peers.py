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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from .display import Result
from .errors import InvalidValueError, wrong_type
from .layers import (Activation, AdaptivePool, BatchNorm, Conv, ConvTranspose, Elementwise, Held, LayerNorm, Linear,
                     Pool, Uncounted, Upsample, area, sides)

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
          "2 FLOPs per MAC of convolutions and matrix products; nothing else (no bias, norm, activation, pooling)"),
    _Peer("fvcore", "fvcore FlopCountAnalysis (0.1.5)", "MACs (its 'flops')",
          "operators traced by torch.jit (per call)",
          "conv and linear MACs without bias; batch norm 2 a value (affine; 5 on a model left in training mode), layer norm 5, adaptive average"
          " pooling 1 an input value, upsampling 1 (nearest) or 4 (bilinear) an output value; activations,"
          " max and average pooling, additions not"),
    _Peer("ptflops-aten", "ptflops, aten backend (0.7.5)", "MACs",
          "dispatched operators (per call)",
          "conv and linear MACs plus their bias, 1 an output value; nothing else"),
    _Peer("ptflops-pytorch", "ptflops, pytorch backend (0.7.5)", "MACs",
          "hooks on exact module classes, per call and per place in the module tree; patched functions",
          "conv and linear with bias; batch norm 2 a value, nn.LayerNorm 1; ReLU, ReLU6, GELU modules 1 an output"
          " value, pools 1 an input value; F.relu, F.gelu, F.silu and the pooling functions 1 an input value"
          " again, also when a module calls them (nn.ReLU, nn.SiLU, nn.MaxPool2d ...): counted twice; Hardswish,"
          " Sigmoid, subclasses (LayerNorm2d) and additions by + not"),
    _Peer("thop", "thop profile (0.1.1.post2209072238)", "MACs (its 'macs')",
          "hooks on exact module classes, per call and per place in the module tree, the hook set once per place"
          " (so a module held in two places counts 4 times a call)",
          "conv and linear MACs without bias; batch norm and nn.LayerNorm 4 a value, average pooling 1 an output"
          " value, adaptive average pooling (kernel + 1) an output value; activations, max pooling and functions"
          " not; parameters only of the modules it hooks that ran"),
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

#: The parts each total is split into, in the table's order.
PARTS = ("conv and linear", "bias", "norms", "activations", "pooling", "other")

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
    unknown = "; ".join(f"{r.name} ({getattr(r.layer, 'op')})" for r in cost.uncounted)
    peers = []
    for peer in PEERS:
        parts: dict[str, int] = {}
        params: Optional[int] = int(cost.params)
        reason = f"runs operations the library does not know: {unknown}" if unknown else ""
        if peer.key == "ptflops-pytorch":
            patched = [op for op in net.joins if op in _PTF_TENSOR_OPS]
            if patched and not reason:
                reason = f"joins branches with {', '.join(patched)}, which ptflops counts and the layers do not show"
        if peer.key == "thop":
            params = 0
        if peer.key == "flopcountermode":  # it counts operations only
            params = None
        for row in rows:
            op, places = origins.get(row.name, ("", 1))
            for part, amount in _counted(peer.key, row, op, places):
                parts[part] = parts.get(part, 0) + amount
            if peer.key == "thop" and op in _THOP and row.runs and row.name not in net.reused:
                params = (params or 0) + int(row.params) * places
        ordered = tuple((p, parts[p]) for p in PARTS if parts.get(p))
        total = None if reason else sum(parts.values())
        peers.append(PeerCount(peer.key, peer.tool, peer.unit, total, None if reason and peer.key == "thop" else params,
                               ordered if total is not None else (), peer.finds, peer.why, reason))
    return PeerCounts(cost, tuple(peers))


def _numel(channels: Any, size: Any) -> int:
    return int(channels * area(size)) if size is not None else int(channels)


def _counted(key: str, row: "LayerCost", op: str, places: int) -> list[tuple[str, int]]:
    """What counter ``key`` puts on one layer, by part."""
    layer = row.layer
    if not row.runs or isinstance(layer, (Held, Uncounted)):
        return []
    macs = int(row.macs)
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
