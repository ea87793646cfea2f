"""The roofline (Williams, Waterman, Patterson, CACM 2009): a step takes at least
max(FLOPs / peak compute, bytes / memory bandwidth), so it is compute-bound when its
arithmetic intensity (FLOPs per byte, :mod:`convalgebra.memory`) is above the device's
ridge point, peak / bandwidth, and memory-bound below it.

>>> t4 = device("t4")
>>> t4.ridge("fp32")                     # FLOPs per byte
Fraction(405, 16)
>>> est = roofline("mobilenet_v2", "t4")
>>> est.rows[0].bound, est.memory_bound > 0
('memory', True)

Where a layer crosses the ridge, in closed form: the standard convolution at M = N is
compute-bound on a T4 in fp32 once N exceeds 17640/1163 (about 15.2 channels):

>>> from convalgebra.symbols import K, M, N, I
>>> crossing(Conv(N, N, (K, K)), N, t4, values={K: 3, I: 14})
[17640/1163]

Published figures are the devices' datasheets' (dense, without sparsity); give your own
with :class:`Device`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Mapping, Optional

from .display import Result
from .errors import InvalidValueError, unknown_name, wrong_type
from .layers import Conv, Size, sides
from .memory import dtype_bytes, network_memory, trace, traffic

if TYPE_CHECKING:  # pragma: no cover
    from .blocks import Block
    from .networks import Network

__all__ = ["Device", "DEVICES", "device", "RooflineRow", "Roofline", "roofline", "crossing"]

_T = 10**12
_G = 10**9


@dataclass(frozen=True)
class Device:
    """A device: peak compute in FLOPs per second for each dtype it runs, and memory
    bandwidth in bytes per second; ``source`` says where the figures come from."""

    name: str
    peak: Mapping[str, int]
    bandwidth: int
    title: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.peak, Mapping) or not self.peak or any(not (isinstance(v, int) and v > 0) for v in self.peak.values()):
            raise InvalidValueError("a device's peak compute: whole FLOPs per second > 0 for each dtype")
        for dtype in self.peak:
            dtype_bytes(dtype)
        if not (isinstance(self.bandwidth, int) and self.bandwidth > 0):
            raise InvalidValueError("a device's memory bandwidth: whole bytes per second > 0")

    def peak_for(self, dtype: str) -> int:
        dtype_bytes(dtype)
        if dtype not in self.peak:
            raise InvalidValueError(f"{self.name} has no published peak for {dtype}; it has {' '.join(self.peak)}")
        return self.peak[dtype]

    def ridge(self, dtype: str = "fp32") -> Fraction:
        """The ridge point, FLOPs per byte: peak / bandwidth."""
        return Fraction(self.peak_for(dtype), self.bandwidth)


#: Named devices, with their datasheets' figures (dense peaks, without structured sparsity).
DEVICES: dict[str, Device] = {d.name: d for d in (
    Device("a100", {"fp32": 19_500 * _G, "fp16": 312 * _T, "bf16": 312 * _T, "int8": 624 * _T}, 2_039 * _G,
           "NVIDIA A100 80GB SXM", "NVIDIA A100 Tensor Core GPU datasheet (2021): FP32 19.5 TFLOPS, FP16 and BF16"
           " Tensor Core 312 TFLOPS, INT8 624 TOPS, GPU memory bandwidth 2,039 GB/s"),
    Device("v100", {"fp32": 15_700 * _G, "fp16": 125 * _T}, 900 * _G,
           "NVIDIA Tesla V100 SXM2", "NVIDIA Tesla V100 datasheet (2017): single precision 15.7 TFLOPS,"
           " Tensor Core 125 TFLOPS, memory bandwidth 900 GB/s"),
    Device("t4", {"fp32": 8_100 * _G, "fp16": 65 * _T, "int8": 130 * _T}, 320 * _G,
           "NVIDIA T4", "NVIDIA T4 Tensor Core GPU datasheet (2019): single precision 8.1 TFLOPS, mixed precision"
           " (FP16/FP32) 65 TFLOPS, INT8 130 TOPS, memory bandwidth 320 GB/s"),
)}


def device(name: "str | Device") -> Device:
    """A named device (see :data:`DEVICES`), or ``name`` itself if it is a Device.

    >>> device("A100").bandwidth
    2039000000000
    >>> device("h100")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown device 'h100'; did you mean v100 or a100? (see 'convalgebra network NAME --roofline DEVICE')
    """
    if isinstance(name, Device):
        return name
    if not isinstance(name, str):
        raise wrong_type(name, "a device's name (see DEVICES) or a Device")
    found = DEVICES.get(name.strip().lower())
    if found is None:
        raise unknown_name("device", name, {n: n for n in DEVICES}, "convalgebra network NAME --roofline DEVICE")
    return found


@dataclass(frozen=True)
class RooflineRow:
    """One step on the roofline: FLOPs, bytes, intensity, which roof bounds it, and its time in seconds."""

    name: str
    op: str
    flops: int
    bytes: int
    intensity: Fraction
    bound: str
    time: Fraction


@dataclass(frozen=True)
class Roofline(Result):
    """A network's roofline estimate on a device: per step, and the total time (the sum)."""

    __view__ = "roofline"

    network: "Network"
    device: Device
    dtype: str
    size: Size
    rows: tuple[RooflineRow, ...] = field(repr=False)

    @property
    def time(self) -> Fraction:
        """The estimate, in seconds: the sum of the steps' times."""
        return sum((r.time for r in self.rows), Fraction(0))

    @property
    def macs_time(self) -> Fraction:
        """What MACs alone predict: all FLOPs at peak compute, in seconds."""
        return Fraction(sum(r.flops for r in self.rows), self.device.peak_for(self.dtype))

    @property
    def memory_bound(self) -> int:
        """How many steps are memory-bound."""
        return sum(r.bound == "memory" for r in self.rows)

def roofline(net: "str | Network", dev: "str | Device", size: Optional[Size] = None, dtype: str = "fp32") -> Roofline:
    """Every step of a network at ``size`` (default: its design size) on the roofline of ``dev``.

    A step that moves bytes but does no MACs (a pool, an addition) is memory-bound.
    """
    dev = device(dev)
    peak, bandwidth = dev.peak_for(dtype), dev.bandwidth
    mem = network_memory(net, size, dtype)
    if not all(isinstance(side, int) for side in sides(mem.size)):
        raise InvalidValueError("a roofline estimate takes a whole input size, for example 224 or (224, 160)")
    rows = []
    width = dtype_bytes(dtype)
    for r in mem.rows:
        flops, moved = int(2 * r.macs), int(r.traffic.elements * width)
        if moved == 0:
            continue  # a view: no step at all
        compute, memory = Fraction(flops, peak), Fraction(moved, bandwidth)
        rows.append(RooflineRow(r.name, r.op, flops, moved, Fraction(flops, moved),
                                "compute" if compute >= memory else "memory", max(compute, memory)))
    return Roofline(mem.network, dev, dtype, mem.size, tuple(rows))


def crossing(block: "Block", over: Any, dev: "str | Device", dtype: str = "fp32",
             values: Optional[Mapping[Any, Any]] = None, size: Any = None) -> list[Any]:
    """The values of the symbol ``over`` at which ``block`` sits on the ridge of ``dev``
    (its intensity equals peak / bandwidth), in closed form in the symbols left free;
    ``values`` puts numbers in for some symbols. ``size`` defaults to I.

    >>> from convalgebra.symbols import K, M, N, I
    >>> crossing(Conv(M, N, (1, 1)), I, "t4", values={M: 64, N: 64})   # a 64 -> 64 1 x 1 conv, I x I
    []
    >>> crossing(Conv(N, N, (1, 1)), "N", "t4", values={"I": 14})          # names read as the library's symbols
    [158760/1163]
    """
    import sympy

    from .symbols import I, symbol
    from .values import check_values

    dev = device(dev)
    over = symbol(over)
    size = I if size is None else size
    moved = traffic(block, size).elements * dtype_bytes(dtype)
    macs = sum(s.macs for s in trace(block, size).steps)
    given = dict(check_values(values if values is not None else {}))
    ratio = sympy.sympify(2 * macs, strict=True).xreplace(given) / sympy.sympify(moved, strict=True).xreplace(given)
    ridge = sympy.Rational(dev.peak_for(dtype), dev.bandwidth)
    roots = sympy.solve(sympy.Eq(ratio, ridge), over)
    return [sympy.simplify(r) for r in roots if r.is_positive is not False and r.is_real is not False]
