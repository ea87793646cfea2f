"""Every result as JSON-ready data: one builder a result, keyed like its view, one value
encoder and one layer row, so that no two commands write the same thing two ways.

The rules of the encoding, the same in every command's output:

- an exact whole number is a JSON integer (Python's ``int`` and sympy's ``Integer`` alike);
- any other exact value, a fraction or an expression, is a string in the library's one
  printer's form (:func:`convalgebra.printing.text`), which ``parse_expression`` reads back;
- a size or any other sequence is a list; a mapping is an object with string keys;
- a truth value is a JSON boolean, a measured float a JSON number.

>>> import sympy
>>> encode(sympy.Integer(3)), encode((3, 3)), encode(M / 2), encode(Fraction(3, 4)), encode(Fraction(4, 2))
(3, [3, 3], 'M/2', '3/4', 2)
>>> data(explain("depthwise-separable"))["layers"][0]["kind"]
'depthwise'
>>> data(network("mobilenet_v2").count(224))["layers"][2]["kind"]
'depthwise'
>>> data(Conv(8, 8))
Traceback (most recent call last):
...
convalgebra.errors.InvalidValueError: no JSON form of Conv; the library writes its own results as JSON (explain, network, compare ...)

Each command's output has a JSON Schema (:func:`schema`), which the tests hold every output to.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from .cost import CONVENTION, UNITS, Cost
from .errors import InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    from .design import BreakEven, Budget, Comparison, LargeNLimit
    from .explanation import Explanation, Numbers
    from .guidelines import Derivation
    from .memory import ModuleMemory, NetworkMemory
    from .networks import LayerCost, NetworkCost
    from .peers import PeerCounts
    from .rooflines import Roofline
    from .sweeps import Sweep
    from .training import TrainingCost

__all__ = ["encode", "data", "to_json", "layer_row", "schema", "SCHEMAS"]


# -- values ------------------------------------------------------------------------------------

def encode(value: Any) -> Any:
    """``value`` as JSON-ready data, by the rules above (the one encoder of the library)."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Cost):
        return {"macs": encode(value.macs), "params": encode(value.params)}
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else str(value)
    if getattr(value, "is_Boolean", False) and value in (True, False):  # sympy's true and false
        return bool(value)
    if getattr(value, "is_Integer", False):
        return int(value)
    if hasattr(value, "free_symbols"):
        from .printing import text

        return text(value)
    raise InvalidValueError(f"no JSON form of a value of type {type(value).__name__}")


def layer_row(layer: Any, macs: Any, params: Any, **where: Any) -> dict[str, Any]:
    """One layer as every command writes it: what it is (``kind``, in a course's words, and
    ``label``, in a model summary's), its shape, its costs, then where it sits (``where``).

    >>> layer_row(Conv(8, 8, (3, 3), groups=8), 8, 72, name="conv1")["label"]
    '3x3 depthwise conv'
    """
    from .layers import Conv, ConvTranspose, Pool, layer_kind, layer_role, padding_data

    if isinstance(layer, (Conv, ConvTranspose)):
        kernel: Optional[list[Any]] = encode(tuple(layer.kernel))
    elif isinstance(layer, Pool):
        kernel = [encode(layer.kernel)] * 2
    else:
        kernel = None
    return {
        **{key: encode(value) for key, value in where.items() if key in ("name", "stage", "module")},
        "kind": layer_role(layer), "label": layer_kind(layer), "kernel": kernel,
        "in": encode(layer.in_channels), "out": encode(layer.out_channels),
        "groups": encode(getattr(layer, "groups", 1)), "stride": encode(getattr(layer, "stride", 1)),
        "padding": padding_data(layer), "bias": getattr(layer, "bias", None),
        "macs": encode(macs), "params": encode(params),
        **{key: encode(value) for key, value in where.items() if key not in ("name", "stage", "module")},
    }


def _from_example(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    if getattr(obj, "from_example", ()):
        values["from_example"] = [str(s) for s in obj.from_example]
    return values


# -- the builders, keyed by each result's ``__view__`` ------------------------------------------

_BUILDERS: dict[str, Callable[[Any], dict[str, Any]]] = {}


def _builder(name: str) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    def register(function: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        _BUILDERS[name] = function
        return function

    return register


def data(obj: Any) -> dict[str, Any]:
    """The JSON-ready data of a library result (what ``to_dict`` returns and ``--format json``
    writes); how the request was read comes as ``caveats``, as the views show it as notes."""
    builder = _BUILDERS.get(getattr(type(obj), "__view__", ""))
    if builder is None:
        raise InvalidValueError(f"no JSON form of {type(obj).__name__}; the library writes its own results as JSON"
                                " (explain, network, compare ...)")
    out = builder(obj)
    caveats = tuple(getattr(obj, "caveats", ()))
    if caveats:
        out["caveats"] = list(caveats)
    return out


def to_json(obj: Any) -> str:
    """:func:`data` as JSON text, indented, the same bytes on every run."""
    return json.dumps(data(obj), indent=2, ensure_ascii=False) + "\n"


def _numbers(n: "Numbers") -> dict[str, Any]:
    return {"given": encode(n.values), "baseline": encode(n.baseline), "rewritten": encode(n.rewritten),
            "ratio": encode(n.ratio)}


@_builder("explanation")
def _explanation(e: "Explanation") -> dict[str, Any]:
    out: dict[str, Any] = {
        "module": e.module.name,
        "parameters": encode(e.module.parameters),
        "baseline": encode(e.baseline),
        "rewritten": encode(e.rewritten),
        "layers": [layer_row(row.layer, row.macs, row.params,
                             **({"count": row.times} if row.times != 1 else {}),
                             **({"branch": row.branch[-1] + 1} if row.branch else {}))  # numbered from 1, as the text
                   for row in e.layers],
        "ratio": encode(e.ratio),
        "ratio_equal_channels": encode(e.ratio_equal_channels),
        "break_even": encode(e.break_even),
        "limit_large_N": encode(e.limit_large_N),
    }
    if e.numbers is not None:
        out["values"] = _from_example(e, _numbers(e.numbers))
    elif e.example is not None:  # the numbers the text shows, at the module's example values
        out["example"] = _numbers(e.example)
    elif e.given:  # values that give no numbers: what was given, and why
        out["values"] = {"given": encode(e.given), "from_example": [str(s) for s in e.from_example],
                         "no_numbers": e.no_numbers}
    if e.memory is not None:
        out["memory"] = _module_memory(e.memory)
    return out


def _module_memory(m: "ModuleMemory") -> dict[str, Any]:
    from .memory import dtype_bytes, intensity

    out: dict[str, Any] = {"dtype": m.dtype, "bytes_per_element": dtype_bytes(m.dtype),
                           "baseline": encode(m.baseline), "rewritten": encode(m.rewritten),
                           "ratio": encode(m.ratio), "ratio_equal_channels": encode(m.ratio_equal_channels)}
    if m.at is not None and m.macs_at is not None:
        out["at"] = {side: {"elements": encode(t.elements), "bytes": encode(t.bytes(m.dtype)),
                            "intensity": encode(intensity(macs, t.bytes(m.dtype)))}
                     for side, t, macs in (("baseline", m.at[0], m.macs_at[0]), ("rewritten", m.at[1], m.macs_at[1]))}
        out["at"]["ratio"] = encode(m.ratio_at)
    if m.peak is not None:
        out["peak"] = {"baseline": encode(m.peak[0]), "rewritten": encode(m.peak[1])}
        if m.peak_at is not None:
            out["peak"]["at"] = {"baseline": encode(m.peak_at[0]), "rewritten": encode(m.peak_at[1])}
    return out


def _notes(notes: Mapping[Any, tuple[Any, str]]) -> dict[str, Any]:
    return {str(s): {"value": encode(v), "from": how} for s, (v, how) in notes.items()}


@_builder("comparison")
def _comparison(c: "Comparison") -> dict[str, Any]:
    import sympy

    from .design import condition_text

    out: dict[str, Any] = {
        "a": c.a.name, "b": c.b.name,
        "parameters": {"a": _notes(c.notes_a), "b": _notes(c.notes_b)},
        "cost_a": encode(c.cost_a), "cost_b": encode(c.cost_b),
        "ratio": encode(c.ratio), "ratio_equal_channels": encode(c.ratio_equal_channels),
        "a_cheaper_when": c.a_cheaper_when,
        "a_cheaper_when_equal_channels": condition_text(c.condition_equal_channels),
    }
    if c.given:
        values: dict[str, Any] = {"given": encode(c.given)}
        if c.numbers is not None:
            values["a"], values["b"] = (encode(n.rewritten) for n in c.numbers)
        if c.at_ratio is not None:
            values["ratio"] = encode(c.at_ratio)
        if c.at_condition in (sympy.true, sympy.false):  # the values decide: a verdict
            values["a_cheaper"] = c.at_condition is sympy.true
        elif c.at_condition is not None:  # a condition on the sizes not given
            values["a_cheaper_when"] = condition_text(c.at_condition)
        out["values"] = _from_example(c, values)
    return out


@_builder("budget")
def _budget(b: "Budget") -> dict[str, Any]:
    from .printing import text

    out: dict[str, Any] = {"module": b.module.name, "parameters": encode(b.module.parameters), "N": encode(b.N),
                           "equation": f"{text(b.rewritten)} = {text(b.baseline)}"}
    if b.value is not None:
        out["values"] = _from_example(b, {"given": encode(b.given), "parameters": _notes(b.notes),
                                          "N": encode(b.value), "whole": b.whole, "floor": b.floor,
                                          "usable": b.usable, "usable_note": b.usable_note})
    return out


@_builder("break_even")
def _break_even(b: "BreakEven") -> dict[str, Any]:
    from .design import in_range
    from .symbols import K

    out: dict[str, Any] = {"module": b.module.name, "ratio": encode(b.ratio), "break_even": encode(b.points)}
    if b.given:
        out["values"] = _from_example(b, {
            "given": encode(b.given), "break_even": encode(b.values),
            "in_range": {str(s): in_range(s, v, b.given.get(K)) for s, v in b.values.items()},
            "notes": encode(b.notes)})
    return out


@_builder("large_N_limit")
def _large_n_limit(lim: "LargeNLimit") -> dict[str, Any]:
    out: dict[str, Any] = {"module": lim.module.name, "ratio_equal_channels": encode(lim.ratio_equal_channels),
                           "limit_large_N": {"macs": encode(lim.macs), "params": encode(lim.params)}}
    if lim.value is not None:
        out["values"] = _from_example(lim, {"given": encode(lim.given), "limit_large_N": encode(lim.value)})
    return out


@_builder("derivation")
def _derivation(d: "Derivation") -> dict[str, Any]:
    return {"guideline": d.name, "claim": d.claim,
            "steps": [{"step": words, "left": encode(left), "right": encode(right)} for words, left, right in d.steps]}


def _network_row(row: "LayerCost") -> dict[str, Any]:
    return layer_row(row.layer, row.macs, row.params, name=row.name, stage=row.stage, module=row.module or None,
                     output_size=row.output_size, runs=row.runs, **({"unused": True} if row.unused else {}))


@_builder("network_cost")
def _network_cost(cost: "NetworkCost") -> dict[str, Any]:
    from .layers import is_concrete, sides
    from .symbols import H, W

    net = cost.network
    closed: Optional[dict[str, Any]]
    if net.imported:  # in H and W, where the model takes a symbolic size at all
        symbolic = net.closed_form()
        closed = None if symbolic is None else {"macs": encode(symbolic.macs), "params": encode(symbolic.params),
                                                "exact_when": symbolic.exact_when()}
    else:
        oblong = isinstance(cost.size, tuple)  # the closed form in H and W for an oblong input, in I for a square
        macs, params = net.total_symbolic((H, W) if oblong else None)
        closed = {"macs": encode(macs), "params": encode(params),
                  "exact_when": (f"H and W are multiples of {net.stride}" if oblong
                                 else f"I is a multiple of {net.stride}")}
    total: dict[str, Any] = {"macs": encode(cost.macs), "params": encode(cost.params)}
    if not is_concrete(cost.size):  # a closed form at a symbolic size: where it is exact
        total["exact_when"] = cost.exact_when()
    height, width = sides(cost.size)
    out: dict[str, Any] = {
        "network": net.name, "title": net.title,
        "input": {"channels": encode(net.in_channels), "size": encode(cost.size), "height": encode(height),
                  "width": encode(width), **({} if is_concrete(cost.batch) and cost.batch == 1
                                             else {"batch": encode(cost.batch)})},
        "units": {"macs": UNITS, "convention": CONVENTION},
        "total": total,
        "total_symbolic": closed,
        "stages": [{"name": s.name, "module": s.module or None, "layers": s.layers,
                    "output_channels": encode(s.output_channels), "output_size": encode(s.output_size),
                    "macs": encode(s.macs), "params": encode(s.params), "runs": s.runs} for s in cost.stages],
        "layers": [_network_row(r) for r in cost.layers],
    }
    if net.imported:  # an imported model's operations the library does not know, and its blocks recognized
        from .recognition import recognize_network

        found, summary = recognize_network(net)
        from .layers import Traced

        out["not_counted"] = [{"name": r.name, "op": getattr(r.layer, "op")} for r in cost.uncounted]
        out["outputs"] = list(net.outputs)
        out["unused"] = [r.name for r in cost.layers if r.unused]
        out["counted_at_traced_size_only"] = [r.name for r in cost.layers if isinstance(r.layer, Traced)]
        out["exported_at"] = net.domain or None
        out["blocks"] = [{"name": name, "module": r.module if r else None, "variant": (r.variant or None) if r else None,
                          "parameters": encode(dict(r.parameters)) if r else {},
                          "stride": r.stride if r else None} for name, r in found]
        out["modules"] = summary
        out["module_counts"] = {m: sum(1 for _, r in found if r is not None and r.module == m)
                                for m in dict.fromkeys(r.module for _, r in found if r is not None)}
    return out


@_builder("network_memory")
def _network_memory(m: "NetworkMemory") -> dict[str, Any]:
    from .memory import dtype_bytes

    return {
        "network": m.network.name, "size": encode(m.size), "dtype": m.dtype, "bytes_per_element": dtype_bytes(m.dtype),
        "total": {"macs": encode(m.macs), "elements": encode(m.elements), "bytes": encode(m.bytes),
                  "intensity": encode(m.intensity), "peak_elements": encode(m.peak), "peak_bytes": encode(m.peak_bytes)},
        "layers": [{"name": r.name, "op": r.op, "macs": encode(r.macs), "reads": encode(r.traffic.reads),
                    "writes": encode(r.traffic.writes), "weights": encode(r.traffic.weights),
                    "elements": encode(r.traffic.elements)} for r in m.rows],
    }


@_builder("roofline")
def _roofline(r: "Roofline") -> dict[str, Any]:
    return {"network": r.network.name, "device": r.device.name, "dtype": r.dtype, "size": encode(r.size),
            "ridge": encode(r.device.ridge(r.dtype)), "time_s": encode(r.time), "macs_time_s": encode(r.macs_time),
            "steps": [{"name": s.name, "op": s.op, "flops": encode(s.flops), "bytes": encode(s.bytes),
                       "intensity": encode(s.intensity), "bound": s.bound, "time_s": encode(s.time)}
                      for s in r.rows]}


@_builder("peer_counts")
def _peer_counts(p: "PeerCounts") -> dict[str, Any]:
    from .layers import sides

    height, width = sides(p.cost.size)
    return {
        "network": p.cost.network.name,
        "input": {"channels": encode(p.cost.network.in_channels), "height": encode(height), "width": encode(width)},
        "convalgebra": {"macs": encode(p.cost.macs), "flops": encode(p.cost.flops), "params": encode(p.cost.params)},
        "peers": [{"counter": c.key, "tool": c.tool, "unit": c.unit, "total": encode(c.total),
                   "params": encode(c.params), "parts": encode(dict(c.parts)), "finds": c.finds, "counts": c.why,
                   "not_known": c.unknown or None} for c in p.peers],
    }


@_builder("sweep")
def _sweep(s: "Sweep") -> dict[str, Any]:
    """Column name -> list of values."""
    return {name: encode(column.tolist()) for name, column in s.columns.items()}


@_builder("training")
def _training(t: "TrainingCost") -> dict[str, Any]:
    """A training step: a ``training`` object with the step's ``forward``, ``backward`` and ``total``
    MACs, epsilon and its parts, the parameters and the memory, then each stage and layer's."""
    from .layers import Uncounted, sides
    from .memory import dtype_bytes

    height, width = sides(t.size)
    return {
        "network": t.network.name, "title": t.network.title,
        "input": {"channels": encode(t.network.in_channels), "size": encode(t.size), "height": encode(height),
                  "width": encode(width)},
        "units": {"macs": UNITS, "convention": CONVENTION},
        "training": {
            "batch": encode(t.batch), "freeze": list(t.freeze), "optimizer": t.optimizer, "dtype": t.dtype,
            **{key: encode(getattr(t, attr)) for key, attr in (
                ("forward", "forward"), ("backward", "backward"), ("total", "total"), ("flops", "flops"),
                ("ratio", "ratio"), ("epsilon", "epsilon"), ("epsilon_first", "epsilon_first"),
                ("epsilon_frozen", "epsilon_frozen"), ("skipped_input_gradient", "skipped_input"),
                ("skipped_weight_gradient", "skipped_weight"), ("params", "params"),
                ("trainable_params", "trainable_params"))},
            "memory": {"activation_bytes_per_element": dtype_bytes(t.dtype), "saved_is_exact": t.saved_is_exact,
                       **{key: encode(getattr(t, key)) for key in (
                           "saved_elements", "saved_bytes", "weight_bytes", "gradient_bytes", "optimizer_elements",
                           "optimizer_bytes", "peak_bytes")}},
        },
        "stages": [{"name": s.name, "forward": encode(s.forward), "backward": encode(s.backward),
                    "total": encode(s.total), "params": encode(s.params), "trainable_params": encode(s.trainable_params),
                    "layers": s.layers, "side": s.side} for s in t.stages],
        "layers": [{**layer_row(r.layer, r.forward, r.params, name=r.name, stage=r.stage),
                    "forward": encode(r.forward), "input_gradient": encode(r.input_gradient),
                    "weight_gradient": encode(r.weight_gradient), "backward": encode(r.backward),
                    "trainable": r.trainable, "input_needs_gradient": r.input_needs_gradient,
                    "saved_elements": encode(r.saved), "statistics": encode(r.statistics),
                    "indices": encode(r.indices), "weight_copies": encode(r.weight_copies),
                    "counted": not isinstance(r.layer, Uncounted)} for r in t.layers],
    }


# -- the schemas ---------------------------------------------------------------------------------

#: Each command's output, by the name of its schema file in ``schemas/``.
SCHEMAS: tuple[str, ...] = ("explain", "compare", "budget", "break-even", "limit", "network", "network-memory",
                            "network-roofline", "network-training", "count", "count-conventions")


def schema(command: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``command``'s ``--format json`` output, one of :data:`SCHEMAS`.

    >>> schema("explain")["title"]
    'convalgebra explain --format json'
    """
    from importlib import resources

    if command not in SCHEMAS:
        raise InvalidValueError(f"no schema for {command!r}; expected one of: {' '.join(SCHEMAS)}")
    loaded: dict[str, Any] = json.loads((resources.files(__package__) / "schemas" / f"{command}.json")
                                        .read_text(encoding="utf-8"))
    return loaded
