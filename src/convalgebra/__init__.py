"""convalgebra: the cost of convolutional network design as exact, symbolic algebra.

A standard convolution costs K*K*M*N*I*I multiply-accumulates; every classic efficient
module rewrites that expression. convalgebra holds the rewrites as rules, derives the
exact savings, counts whole networks, and explains all of it.

>>> import convalgebra as ca
>>> e = ca.explain("depthwise-separable", K=3, M=512, N=512, I=14)
>>> ca.text(e.ratio.macs)
'1/N + 1/K**2'
>>> e.numbers.rewritten.macs
52283392

Submodules load on first use, so ``import convalgebra`` is cheap and a concrete
network count never waits for sympy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # errors
    "ConvAlgebraError": "errors", "UnknownNameError": "errors", "InvalidValueError": "errors",
    # symbols
    **{name: "symbols" for name in ("K", "M", "N", "I", "F", "G", "t", "p", "k", "alpha", "rho", "H", "W", "r", "s",
                                     "B", "SYMBOLS", "VALID", "parse_number", "parse_expression")},
    # layers
    **{name: "layers" for name in ("Conv", "Shuffle", "output_size")},
    **{name: "layers" for name in ("Identity", "Slice", "LayerNorm", "LayerScale", "Activation", "Elementwise",
                                   "ConvTranspose", "Upsample", "Norm", "Pad", "Parameters", "Traced")},
    **{name: "layers" for name in ("Attention", "LinearAttention", "TokenLinear", "Tokens", "ClassToken", "PatchMerge")},
    **{name: "blocks" for name in ("Series", "Parallel", "Residual", "Repeat", "Scale", "Graph", "Node")},
    **{name: "cost" for name in ("Cost", "count", "total")},
    # rules
    **{name: "rules" for name in ("Rewrite", "chain", "group", "stack", "factorize", "separate",
                                   "depthwise", "reduce", "expand", "squeeze", "mix", "shuffle",
                                   "excite", "split", "widen", "layer_norm", "layer_scale", "ghost", "dense",
                                   "patchify", "attend", "linear_attention", "mobilevit")},
    # modules
    **{name: "modules" for name in ("Module", "MODULES", "LATER_MODULES", "ATTENTION_MODULES", "standard")},
    **{name: "catalog" for name in ("compose", "module", "module_names", "later_module_names", "attention_module_names",
                                    "network", "network_names")},
    # simplification and printing
    "canonical": "simplification", "ratio": "simplification", "equal_channels": "simplification",
    "text": "printing", "latex": "printing",
    # explanation
    "explain": "explanation", "Explanation": "explanation", "evaluate": "explanation",
    # whole networks
    **{name: "layers" for name in ("Linear", "Pool", "AdaptivePool", "BatchNorm")},
    **{name: "networks" for name in ("Network", "Stage", "NetworkCost")},
    # attention's costs derived: Swin's equations, the quadratic term's crossing, where two networks cost the same
    **{name: "attention" for name in ("swin_equations", "swin_letters", "quadratic_crossing", "cost_crossing")},
    # memory traffic, ShuffleNet V2's guidelines, the roofline
    **{name: "memory" for name in ("DTYPES", "Traffic", "layer_traffic", "traffic", "intensity", "peak_memory",
                                   "working_memory", "network_memory", "NetworkMemory", "ModuleMemory")},
    **{name: "guidelines" for name in ("guideline_g1", "guideline_g2", "least_traffic", "fragments", "Fragments",
                                       "Derivation")},
    **{name: "rooflines" for name in ("Device", "DEVICES", "device", "roofline", "Roofline", "crossing")},
    # PyTorch both ways (the ``torch`` extra), blocks recognized as the modules, and what other counters report
    "to_torch": "torch_export", "from_torch": "torch_import", "load_model": "torch_import",
    "from_onnx": "onnx_import",
    **{name: "recognition" for name in ("Recognized", "recognize", "recognize_network", "find_modules")},
    **{name: "peers" for name in ("peer_counts", "PeerCounts", "PeerCount")},
    # figures (matplotlib, the ``plot`` extra, imported when a figure is drawn)
    "plot_ratios": "plotting", "plot_network": "plotting", "plot_roofline": "plotting", "plot_resolution": "plotting",
    "plot_training_memory": "plotting",
    # design questions in closed form, and sweeps (numpy, the ``numpy`` extra, imported when swept)
    **{name: "design" for name in ("compare", "budget", "break_even", "limit_large_N",
                                    "Comparison", "Budget", "BreakEven", "LargeNLimit")},
    **{name: "sweeps" for name in ("sweep", "Sweep", "compile_numpy")},
    # a training step: forward and backward per layer, in the batch B
    **{name: "training" for name in ("training_cost", "TrainingCost", "OPTIMIZERS", "frozen_layers")},
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    try:
        module_name = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'convalgebra' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API only: what ``__all__`` lists (not the helpers this file imports).

    >>> import convalgebra
    >>> "importlib" in dir(convalgebra), "explain" in dir(convalgebra)
    (False, True)
    """
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from .errors import ConvAlgebraError, InvalidValueError, UnknownNameError
    from .design import BreakEven, Budget, Comparison, LargeNLimit, break_even, budget, compare, limit_large_N
    from .blocks import Parallel, Repeat, Residual, Scale, Series
    from .cost import Cost, count, total
    from .explanation import Explanation, evaluate, explain
    from .layers import AdaptivePool, BatchNorm, Linear, Pool
    from .networks import Network, NetworkCost, Stage
    from .catalog import network, network_names
    from .torch_export import to_torch
    from .memory import (DTYPES, ModuleMemory, NetworkMemory, Traffic, intensity, layer_traffic, network_memory,
                         peak_memory, traffic, working_memory)
    from .guidelines import Derivation, Fragments, fragments, guideline_g1, guideline_g2, least_traffic
    from .rooflines import DEVICES, Device, Roofline, crossing, device, roofline
    from .torch_import import from_torch, load_model
    from .onnx_import import from_onnx
    from .recognition import Recognized, find_modules, recognize, recognize_network
    from .peers import PeerCount, PeerCounts, peer_counts
    from .layers import (Activation, Conv, ConvTranspose, Elementwise, Identity, LayerNorm, LayerScale, Shuffle, Slice,
                         Upsample, output_size)
    from .modules import ATTENTION_MODULES, LATER_MODULES, MODULES, Module, standard
    from .catalog import attention_module_names, compose, later_module_names, module, module_names
    from .attention import cost_crossing, quadratic_crossing, swin_equations, swin_letters
    from .layers import Attention, ClassToken, LinearAttention, PatchMerge, TokenLinear, Tokens
    from .rules import attend, linear_attention, mobilevit, patchify
    from .plotting import plot_network, plot_ratios, plot_resolution, plot_roofline, plot_training_memory
    from .printing import latex, text
    from .rules import (Rewrite, chain, dense, depthwise, excite, expand, factorize, ghost, group, layer_norm,
                        layer_scale, mix, reduce, separate, shuffle, split, squeeze, stack, widen)
    from .simplification import canonical, equal_channels, ratio
    from .sweeps import Sweep, compile_numpy, sweep
    from .training import OPTIMIZERS, TrainingCost, frozen_layers, training_cost
    from .symbols import (SYMBOLS, VALID, B, F, G, H, I, K, M, N, W, alpha, k, p, parse_expression, parse_number,
                          r, rho, s, t)
