"""Import an ONNX model: :func:`from_onnx` reads a ``.onnx`` file into a :class:`Network` of the
library's own layers, the same layers and graph :func:`convalgebra.from_torch` builds.

No inference runs and no weight is read: each initializer counts by its dims (external data is
checked to be there, never loaded). Each ``dim_param`` of the input is a symbol of the closed
form (the height and width H and W, by their place in NCHW; a batch dimension is the symbol B,
the network's :attr:`~convalgebra.networks.Network.batch`: each layer's MACs are for the batch,
the parameters once, and the graph's sizes are followed for one image), and every size flows through the
library's own arithmetic, so a count at H and W is a closed form with its exactness condition.
Shapes the graph computes from its values (``Shape -> Gather -> Concat -> Reshape``) are followed
with those symbols.

Parameters are the initializers' elements, each initializer counted once however many nodes
read it (a layer that reads one already counted is named in ``reused``), with two exceptions:
a batch norm's running mean and variance are statistics (PyTorch's buffers, not parameters),
and a one-element constant is a number in an elementwise op, not a weight. An exporter that
folds a batch norm into the convolution before it (``torch.onnx.export`` does at inference)
leaves a convolution with a bias of N and no batch norm, where PyTorch holds the norm's 2N
weights and no bias: the ONNX model has N fewer parameters per folded norm than ``sum(p.numel())``.
The MACs are the same (neither counts the norm).

An operation the library does not know is kept in its place by name, *not counted* (never a
silent 0), and ``strict=True`` refuses the model.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping, Optional

from .blocks import AnyBlock, Series, iter_layers
from .errors import InvalidValueError
from .layers import (Activation, AdaptivePool, BatchNorm, Conv, ConvTranspose, Elementwise, Held, LayerNorm,
                     LayerScale, Linear, Norm, Pad, Parameters, Pool, Shuffle, Slice, Uncounted, Upsample, as_size,
                     is_concrete, sides)
from .networks import Network, Stage
from .torch_import import Importer, ImportNode, ImportState

if TYPE_CHECKING:  # pragma: no cover
    import onnx

__all__ = ["from_onnx", "load_onnx"]

#: The oldest opset read (the ops' inputs and attributes as opset 11 defines them).
OLDEST_OPSET = 11
#: A protobuf message holds at most 2 GB: a larger file is no ONNX model onnx can read.
LARGEST_FILE = 2**31 - 1

_ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSigmoid": "hardsigmoid",
                "HardSwish": "hardswish", "Gelu": "gelu", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu",
                "Celu": "celu", "Softplus": "softplus", "Softsign": "softsign", "Mish": "mish", "Erf": "erf",
                "Softmax": "softmax", "LogSoftmax": "softmax"}
#: Ops that hand their (data) input on unchanged at inference.
_PASS = {"Identity", "Dropout", "Cast", "CastLike"}
_JOINS = {"Add": "add", "Sub": "add", "Mul": "multiply", "Div": "multiply"}
_TORCH_OPS = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Concat": "cat"}
_CONTROL = {"If", "Loop", "Scan"}
#: Modules the dynamo exporter writes as many ops, read whole by their class (see ``_gathered_pools``).
_WHOLE = ("torch.nn.modules.pooling.AdaptiveAvgPool2d", "torch.nn.modules.pooling.AdaptiveMaxPool2d",
          "torchvision.models.swin_transformer.ShiftedWindowAttention",
          "torchvision.models.swin_transformer.PatchMerging")
_COMPARISONS = {"Equal": "==", "Greater": ">", "Less": "<", "GreaterOrEqual": ">=", "LessOrEqual": "<="}


def load_onnx(source: Any) -> "onnx.ModelProto":
    """An ONNX model from a path (its weights' bytes left on disk: ``load_external_data=False``)
    or a ``ModelProto`` as it is; anything else, or a file that is not a whole ONNX model, is
    the library's error in one line.

    >>> load_onnx(42)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: from_onnx takes a path to a .onnx file or an onnx.ModelProto, not int
    """
    try:
        import onnx
    except ImportError:
        raise InvalidValueError("reading ONNX needs the onnx package (pip install 'convalgebra[onnx]')") from None
    if isinstance(source, onnx.ModelProto):
        model = source
        folder = ""
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InvalidValueError(f"{path}: no such file")
        size = os.path.getsize(path)
        if size > LARGEST_FILE:
            raise InvalidValueError(f"{path}: {size / 2**30:.1f} GB is too large for one ONNX file (protobuf holds at"
                                    " most 2 GB); save the weights as external data")
        try:
            model = onnx.load(path, load_external_data=False)
        except Exception as error:  # protobuf's DecodeError and others: a file that is not ONNX
            raise InvalidValueError(f"{path}: not an ONNX model, or a truncated one ({type(error).__name__})") from None
        folder = os.path.dirname(os.path.abspath(path))
    else:
        raise InvalidValueError(f"from_onnx takes a path to a .onnx file or an onnx.ModelProto,"
                                f" not {type(source).__name__}")
    _check_model(model, folder, str(source) if folder else "the model")
    return model


def _check_model(model: Any, folder: str, where: str) -> None:
    """The opset is one this reader and the installed onnx know; there is a graph with an
    input; every external-data file is there and long enough."""
    import onnx

    if not model.HasField("graph") or not model.graph.node:
        raise InvalidValueError(f"{where}: not an ONNX model (no graph of nodes)")
    newest = onnx.defs.onnx_opset_version()
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            if entry.version > newest:
                raise InvalidValueError(f"{where}: opset {entry.version} is newer than the {newest} the installed"
                                        " onnx knows; upgrade onnx")
            if entry.version < OLDEST_OPSET:
                raise InvalidValueError(f"{where}: opset {entry.version} is older than {OLDEST_OPSET}, the oldest"
                                        " read; convert it (onnx.version_converter.convert_version(model, 11))")
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        location = info.get("location", "")
        if not folder:
            continue  # a ModelProto handed in: its weights are not read, so only their dims matter
        path = os.path.join(folder, location)
        if not location or not os.path.isfile(path):
            raise InvalidValueError(f"{where}: the external data of {tensor.name} ({location or 'no file named'})"
                                    " is missing")
        end = int(info.get("offset", 0) or 0) + int(info.get("length", 0) or 0)
        if os.path.getsize(path) < end:
            raise InvalidValueError(f"{where}: the external data file {location} is truncated ({tensor.name} ends at"
                                    f" byte {end})")


def from_onnx(source: Any, *, name: str = "", strict: bool = False,
              dims: Optional[Mapping[str, Any]] = None) -> Network:
    """The network an ONNX model is (a path to a ``.onnx`` file or an ``onnx.ModelProto``).

    ``dims`` maps an input's ``dim_param`` to a library symbol by name (``{"height": "H"}``) or to
    a whole number; unmapped, the input's third and fourth dims are H and W (one symbol I when
    both are the same ``dim_param``) and its first is the batch B (``{"N": 8}`` counts a batch of 8).

    >>> import pytest; onnx = pytest.importorskip("onnx")
    >>> from onnx import helper, TensorProto
    >>> x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    >>> y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    >>> w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
    >>> conv = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2], name="/stem/Conv")
    >>> model = helper.make_model(helper.make_graph([conv], "g", [x], [y], [w]),
    ...                           opset_imports=[helper.make_opsetid("", 17)])
    >>> net = from_onnx(model, name="tiny")
    >>> cost = net.count()
    >>> cost.macs, cost.params, cost.exact_when()
    (54*H*W, 216, 'H and W are multiples of 2')
    >>> net.total((224, 160))
    (1935360, 216)
    """
    model = load_onnx(source)
    folder = os.path.dirname(os.path.abspath(os.fspath(source))) if isinstance(source, (str, os.PathLike)) else ""
    if not isinstance(strict, bool):
        raise InvalidValueError(f"strict = {strict!r}: expected True or False")
    if dims is not None and not isinstance(dims, Mapping):
        raise InvalidValueError(f"dims = {dims!r}: expected a mapping of dim_param names to symbols or numbers")
    if not isinstance(name, str):
        raise InvalidValueError(f"name = {name!r}: expected text")
    label = name or model.graph.name or "onnx model"
    importer = _OnnxImporter(model, label, strict, dict(dims or {}))
    importer.folder = folder
    return importer.network()


class _Key:
    """A value of the ONNX graph that carries data (a node of the library's graph): the name of
    the tensor, the layer's name and its top-level owner."""

    __slots__ = ("name", "op", "label", "owner")

    def __init__(self, name: str, op: str, label: str, owner: str) -> None:
        self.name, self.op, self.label, self.owner = name, op, label, owner

    def __repr__(self) -> str:
        return f"_Key({self.name!r})"


def _attributes(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _product(values: Any) -> Any:
    total: Any = 1
    for v in values:
        total = total * v
    return total


class _OnnxImporter(Importer):
    """One import: the ONNX graph read node by node into the library's data nodes, then built
    into blocks by :class:`~convalgebra.torch_import.Importer`'s forks and joins (series and
    parallel where the graph is so, a :class:`~convalgebra.blocks.Graph` elsewhere)."""

    def __init__(self, model: Any, name: str, strict: bool, dims: dict[str, Any]) -> None:  # noqa: D107
        # the torch importer's state, as its graph building reads it (no torch model behind it)
        self.name, self.title, self.strict = name, name, strict
        self.nodes: dict[Any, ImportNode] = {}
        self.names: dict[str, int] = {}
        self.reused: set[str] = set()
        self.emitted: dict[int, int] = {}
        self.joins: list[str] = []
        self.origins: dict[str, tuple[str, int]] = {}
        self.unused: set[str] = set()
        self.join_names: dict[Any, tuple[str, str]] = {}
        self.visited: dict[Any, int] = {}
        self.model, self.graph, self.dims = model, model.graph, dims
        self.keys: dict[str, _Key] = {}          # tensor name -> the data value it is
        self.inits: dict[str, Any] = {t.name: t for t in model.graph.initializer}
        self.consts: dict[str, Any] = {}         # tensor name -> its values (a list) where known
        self.shapes: dict[str, tuple[Any, ...]] = {}  # tensor name -> its dims, for constants
        self.origin_of: dict[str, set[str]] = {}  # a computed shape -> the data values it reads sizes off
        self.claimed: dict[str, str] = {}        # initializer -> the layer that counts it
        self.statistics: set[str] = set()        # batch norms' running mean and variance
        self.notes: list[str] = []
        self.shared: dict[str, list[str]] = {}    # an initializer read by several layers -> the later ones
        self.cats: dict[tuple[str, ...], str] = {}
        self.undecided: dict[str, str] = {}      # a comparison of sizes the symbols leave open
        self.paths: dict[str, str] = {}          # a layer's name -> the module path the exporter gave its node
        self.join_paths: list[str] = []          # the module paths of the nodes that join values
        self.classed: list[str] = []             # modules of the model's own classes (the dynamo exporter's)
        self.inferred: Optional[dict[str, Any]] = None
        self.readers: dict[str, int] = {}
        self.producer = {out: node for node in model.graph.node for out in node.output}
        self.consumers: dict[str, list[Any]] = {}
        for node in model.graph.node:
            for x in dict.fromkeys(node.input):
                self.consumers.setdefault(x, []).append(node)
        self.same_padded: set[str] = set()       # maps padded as TensorFlow's SAME for the window after
        for node in model.graph.node:
            for x in node.input:
                self.readers[x] = self.readers.get(x, 0) + 1
        self.folder = ""
        self.opset = next((e.version for e in model.opset_import if e.domain in ("", "ai.onnx")), OLDEST_OPSET)

    # -- the input -----------------------------------------------------------------
    def _source(self) -> tuple[str, int, Any]:
        """The data input: its name, channels and size (symbols where its dims are ``dim_param``)."""
        from .symbols import B, I, H, W, symbol

        inputs = [i for i in self.graph.input if i.name not in self.inits]
        if len(inputs) != 1:
            listed = ", ".join(i.name for i in inputs) or "none"
            raise InvalidValueError(f"{self.name}: the model takes {len(inputs)} inputs ({listed}); one image input"
                                    " is counted")
        value = inputs[0]
        dims = list(value.type.tensor_type.shape.dim) if value.type.tensor_type.HasField("shape") else []
        if len(dims) != 4:
            raise InvalidValueError(f"{self.name}: input {value.name} has {len(dims)} dims; an image input is"
                                    " N x C x H x W")
        readers = [n for n in self.graph.node if value.name in n.input]
        self.channels_last = bool(readers) and all(
            n.op_type == "Transpose" and list(_attributes(n).get("perm", [])) == [0, 3, 1, 2] for n in readers)
        if self.channels_last:  # TensorFlow's N x H x W x C, transposed to N x C x H x W first
            dims = [dims[0], dims[3], dims[1], dims[2]]
        params = [d.dim_param if d.HasField("dim_param") else "" for d in dims]
        for key in self.dims:
            if key not in params:
                raise InvalidValueError(f"{self.name}: dims names {key!r}, which is no dim_param of input"
                                        f" {value.name} ({', '.join(p for p in params if p) or 'none'})")
        mapped: list[Any] = []
        same = params[2] and params[2] == params[3]
        for position, (d, param) in enumerate(zip(dims, params)):
            if param and param in self.dims:
                given = self.dims[param]
                if isinstance(given, int) and not isinstance(given, bool):
                    if given < 1:
                        raise InvalidValueError(f"{self.name}: dims {param} = {given}: expected a whole number >= 1")
                    mapped.append(given)
                else:
                    mapped.append(symbol(given))
            elif d.HasField("dim_value") and d.dim_value > 0:
                mapped.append(int(d.dim_value))
            elif position == 0:
                mapped.append(B)
            else:
                mapped.append(I if same else (H, W, H, W)[position])
        if is_concrete(mapped[0]) and mapped[0] != 1 and not (params[0] and params[0] in self.dims):
            raise InvalidValueError(f"{self.name}: a batch of {mapped[0]} images fixed in the file (its shapes hold"
                                    " it); export with a batch of 1 or a dynamic batch")
        self.batch = mapped[0]  # the images the file's graph is for: its sizes are followed for one image
        if not (is_concrete(self.batch) and self.batch == 1):
            self.notes.append(f"batch dimension {params[0] or '(unnamed)'}: MACs for {self.batch} images")
        channels = mapped[1]
        if not isinstance(channels, int):
            raise InvalidValueError(f"{self.name}: the input's channels ({params[1]}) must be a number")
        return value.name, channels, as_size(mapped[2], mapped[3])

    # -- the graph read ------------------------------------------------------------
    def network(self) -> Network:
        source, channels, size = self._source()
        key = _Key(source, "input", "input", "")
        self.keys[source] = key
        self.nodes[key] = ImportNode(key, [], ImportState("nhwc" if self.channels_last else "map", channels), size=size,
                                channels=channels)
        self.default = size
        for tensor in self.graph.initializer:
            self.shapes[tensor.name] = tuple(int(d) for d in tensor.dims)
            values = self._values_of(tensor)
            if values is not None:
                self.consts[tensor.name] = values
        self.pooled = self._gathered_pools()
        self._read_nodes(self.graph.node)
        outputs = [self.keys[o.name] for o in self.graph.output if o.name in self.keys]
        outputs = list(dict.fromkeys(outputs))
        if not outputs:
            raise InvalidValueError(f"{self.name}: the model returns no tensor computed from its input")
        self.outputs = outputs
        self._dominators(key)
        items = self._segments(key, outputs)
        stages = self._stages(items)
        held = self._held_initializers(self.nodes[outputs[0]].state.channels)
        if held is not None:
            stages.append(held)
        if self.shared:
            named = [f"{n} (by {len(v) + 1} layers)" for n, v in sorted(self.shared.items())]
            listed = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
            self.notes.append(f"{len(self.shared)} initializer(s) shared, counted once: {listed}")
        producer = " ".join(x for x in (self.model.producer_name, self.model.producer_version) if x)
        notes = "; ".join([f"opset {self.opset}"] + self.notes)
        net = Network(self.name, self.title, tuple(stages),
                      source=f"imported from ONNX ({producer or 'unknown producer'}; {notes})",
                      default_size=size, in_channels=channels, reused=frozenset(self.reused), imported=True,
                      parts=self._blocks(),
                      origins=tuple((n, op, visits) for n, (op, visits) in self.origins.items()),
                      joins=tuple(dict.fromkeys(self.joins)), unused=frozenset(self.unused),
                      outputs=tuple(self._value_name(n) for n in outputs), batch=self.batch)
        uncounted = [layer for stage in net.stages for layer in iter_layers(stage.block) if isinstance(layer, Uncounted)]
        if self.strict and uncounted:
            listed = "; ".join(f"{layer.name} ({layer.op})" for layer in uncounted)
            raise InvalidValueError(f"{self.name}: {len(uncounted)} operation(s) the library does not count: {listed};"
                                    " strict refuses the model")
        return net

    def _blocks(self) -> tuple[str, ...]:
        """The model's blocks, for recognition: the outermost modules (by the exporter's module paths)
        whose own forward joins values (a residual sum, a gate, a concatenation), as torch's block
        classes do; the model's top level is none."""
        if self.classed:  # torch's dynamo exporter names each module's class: its blocks, as from_torch finds them
            paths = list(dict.fromkeys(self.classed))
        else:
            convs = [layer.name for item in self.nodes.values() if item.layer is not None
                     for layer in iter_layers(item.layer) if isinstance(layer, (Conv, ConvTranspose))]
            paths = [p for p in dict.fromkeys(self.join_paths) if p and any(c.startswith(p + ".") for c in convs)]
        return tuple(p for p in paths if not any(p.startswith(q + ".") for q in paths))

    def _gathered_pools(self) -> dict[str, tuple[str, str, str, Any]]:
        """Modules torch's dynamo exporter writes as many ops that are read whole, by the module's
        scope and class (its node metadata), as from_torch reads the module: each such module, by
        the first output of each of its nodes: (its module path, its class, the tensor it makes,
        what it is read as).

        - An ``AdaptiveAvgPool2d`` (or max) whose input is no multiple of its output (AlexNet's and
          VGG's to 6 x 6 and 7 x 7 at most sizes) is index arithmetic: Range, GatherND, Where,
          Gather, Add, Div; read as the pool, its output size read off the file's shapes.
        - torchvision's Swin: a ``ShiftedWindowAttention`` (padding to whole windows, the shift's
          rolls, the window partition, the products, the relative position bias gathered) is the
          library's window :class:`~convalgebra.layers.Attention`, its heads and window read off
          the bias table; a ``PatchMerging`` (padding, four strided slices, a concatenation, layer
          norm, a linear layer) is :class:`~convalgebra.layers.PatchMerge`, its norm and linear layer.

        Where the file does not fix what they need, the nodes are read one by one."""
        import ast

        scopes: dict[str, tuple[str, list[Any]]] = {}
        for node in self.graph.node:
            meta = {p.key: p.value for p in node.metadata_props}
            hierarchy = meta.get("pkg.torch.onnx.class_hierarchy", "")
            if not any(name in hierarchy for name in _WHOLE):
                continue
            try:
                scoped = [str(p) for p in ast.literal_eval(meta.get("pkg.torch.onnx.name_scopes", "[]"))]
                classes = [str(c) for c in ast.literal_eval(hierarchy)]
            except (ValueError, SyntaxError):
                continue
            if len(scoped) != len(classes):
                continue
            depth = next((i for i, c in enumerate(classes[:-1]) if c in _WHOLE), None)
            if depth is not None:
                scopes.setdefault(scoped[depth], (classes[depth], []))[1].append(node)
        if not scopes:
            scopes = self._swin_paths()
        pooled: dict[str, tuple[str, str, str, Any]] = {}
        results = {o.name for o in self.graph.output}
        for scope, (kind, nodes) in scopes.items():
            pool = kind.startswith("torch.nn.modules.pooling.")
            if pool and not any(n.op_type in ("GatherND", "Gather", "Where") for n in nodes):
                continue  # a pool the ops say themselves (ReduceMean, AveragePool): read one by one
            inside = {o for n in nodes for o in n.output}
            ours = {id(m) for m in nodes}
            made = [o for n in nodes for o in n.output if o and (o in results or any(
                    id(reader) not in ours and reader.output[0] not in inside for reader in self.consumers.get(o, [])))]
            made = [o for o in made if self._rank(o) == 4]  # the map (not indices or sizes)
            if len(made) != 1:
                continue
            what: Any = None
            if pool:
                dims = self._inferred_dims(made[0])
                if dims is None or not all(isinstance(d, int) for d in dims[2:]):
                    continue
                what = (int(dims[2]), int(dims[3]))
            else:
                weights = [self._aliased(x) for n in nodes for x in n.input]
                weights = [x for x in weights if x in self.inits and self.inits[x].data_type in (1, 10, 11, 16) and
                           _product(self.inits[x].dims) > 1]
                rolled = any(n.op_type == "ScatterND" for n in nodes) if kind.startswith("onnx.") else \
                    any(n.op_type == "Concat" for n in nodes)  # the shift's masks (TorchScript), its rolls (dynamo)
                what = (list(dict.fromkeys(weights)), rolled)
            for n in nodes:
                if n.output:
                    pooled[n.output[0]] = (scope, kind, made[0], what)
        return pooled

    def _aliased(self, name: str) -> str:
        """An initializer behind Identity nodes (the TorchScript exporter's aliases of shared weights)."""
        while name not in self.inits and name in self.producer and self.producer[name].op_type == "Identity":
            name = self.producer[name].input[0]
        return name

    def _rank(self, name: str) -> Optional[int]:
        """A tensor's number of dims as onnx's shape inference gives it (its dims may be unknown)."""
        self._inferred_dims(name)  # onnx's shape inference, once
        value = (self.inferred or {}).get(name)
        if value is None or not value.type.tensor_type.HasField("shape"):
            return None
        return len(value.type.tensor_type.shape.dim)

    def _swin_paths(self) -> dict[str, tuple[str, list[Any]]]:
        """The TorchScript exporter names each node by its module path (``/features/features.1/
        features.1.0/attn/MatMul``) but not the module's class: Swin's modules found by their path
        and what they hold, then read whole only where their weights are a window attention's
        (:meth:`_window_attention`) or a patch merging's (its norm and reduction). An ``attn`` module
        with a softmax and a matmul is taken as a window attention; a module whose own nodes slice
        the map four ways and concatenate it, with a ``norm`` and a ``reduction`` inside, as a patch merging."""
        paths: dict[str, list[Any]] = {}
        for node in self.graph.node:
            parts = [p for p in node.name.split("/") if p] if node.name.startswith("/") else []
            path = ""
            for part in parts[:-1]:
                path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
            if path:
                paths.setdefault(path, []).append(node)
        found: dict[str, tuple[str, list[Any]]] = {}
        for path, own in paths.items():
            ops = {n.op_type for n in own}
            if path.endswith(".attn") and {"Softmax", "MatMul"} <= ops:
                found[path] = ("onnx.ShiftedWindowAttention", [])
            elif sum(n.op_type == "Slice" for n in own) >= 4 and "Concat" in ops and \
                    any(n.op_type == "LayerNormalization" for n in paths.get(f"{path}.norm", [])) and \
                    any(n.op_type == "MatMul" for n in paths.get(f"{path}.reduction", [])):
                found[path] = ("onnx.PatchMerging", [])
        for path, (kind, inside) in found.items():  # each with the nodes of the modules inside it
            inside += [n for p, ns in paths.items() if p == path or p.startswith(path + ".") for n in ns]
        return found

    def _gathered_pool(self, node: Any, data: list[str]) -> None:
        """A node of a module read whole (:meth:`_gathered_pools`): the first that reads the data is
        the whole module, from that value to the module's result; the others are inside it."""
        from .layers import Attention, PatchMerge, TokenLinear

        scope, kind, made, what = self.pooled[node.output[0]]
        if made in self.keys:
            return  # the module is read already
        first = self.nodes[self.keys[data[0]]]
        c = first.channels
        self.names[scope] = self.names.get(scope, 0) + 1
        label = scope if self.names[scope] == 1 else f"{scope}_{self.names[scope]}"
        self.paths[label] = scope
        owner = scope.split(".")[0]
        block: Optional[AnyBlock] = None
        state = ImportState(first.state.kind, c)
        if kind.startswith("torch.nn.modules.pooling.") and first.state.kind == "map":
            height, width = what
            block = AdaptivePool(c, height if height == width else (height, width),
                                 "max" if kind.endswith("MaxPool2d") else "avg", label)
        elif first.state.kind == "nhwc" and is_concrete(c):
            weights, rolled = what
            dims = {x: tuple(self.inits[x].dims) for x in weights}
            if kind.endswith(".ShiftedWindowAttention"):
                block = self._window_attention(c, dims, rolled, label)
            elif kind.endswith(".PatchMerging"):
                block = Series(PatchMerge(c, name=f"{label}.merge"), LayerNorm(4 * c, name=f"{label}.norm"),
                               TokenLinear(4 * c, 2 * c, bias=False, name=f"{label}.reduction"))
                state = ImportState("nhwc", 2 * c)
            total = sum(_product(d) for d in dims.values())
            if block is not None and total != sum(x.params() for x in iter_layers(block)):
                block = None  # the file holds other weights than the module read whole would: not guessed
            held = self._claim(weights, label)
            if block is None:
                block, state = Uncounted(c, kind.rsplit(".", 1)[-1], held=held, name=label), ImportState("other", c)
            elif held != total:  # a weight equal to another layer's, which the exporter keeps once: counted there
                self.reused.update(x.name for x in iter_layers(block))
                block = Series(block, Parameters(state.channels, held, f"{label}.parameters")) if held else block
        if block is None:
            return self._unknown_node(node, node.op_type)
        self._emit(node, made, [data[0]], block, state, label, owner)

    @staticmethod
    def _window_attention(c: int, dims: dict[str, tuple[int, ...]], rolled: bool, label: str) -> Optional[AnyBlock]:
        """Swin's window attention on ``c`` channels from the weights its module's nodes read: the
        queries', keys' and values' C x 3C, the projection's C x C, their biases, and the relative
        position bias: its table ((2M - 1)**2 x h) as torch holds it, or (as the dynamo exporter
        folds it) already gathered for the M**2 x M**2 pairs of a window (h x M**4), with the
        shifted windows' masks beside; the heads h and window M read off it. The file's weights
        are its parameters: a gathered bias and masks are held beside the attention."""
        from .layers import Attention

        shapes = list(dims.values())
        if not any(d in ((3 * c, c), (c, 3 * c)) for d in shapes) or (c, c) not in shapes:
            return None
        heads = window = 0
        table = False
        for d in shapes:
            n = math.isqrt(d[-1]) if len(d) == 4 else math.isqrt(d[0]) if len(d) == 2 else 0
            if len(d) == 4 and d[0] == 1 and d[2] == d[3] and n * n == d[2] and c % d[1] == 0:
                heads, window = d[1], n  # 1 x h x M**2 x M**2
            elif len(d) == 2 and d not in ((c, c), (3 * c, c), (c, 3 * c)) and n * n == d[0] and c % d[1] == 0:
                if math.isqrt(n) ** 2 == n and n > 1:
                    heads, window = d[1], math.isqrt(n)  # M**4 x h
                elif n % 2 == 1 and n > 1 and not heads:
                    heads, window, table = d[1], (n + 1) // 2, True  # (2M - 1)**2 x h
        if not heads:
            return None
        attention = Attention(c, heads, window=window, shift=window // 2 if rolled else 0,
                              qkv_bias=(3 * c,) in shapes, proj_bias=(c,) in shapes,
                              position_bias="table" if table else "none", name=label)
        rest = sum(_product(d) for d in shapes) - attention.params()
        if rest < 0:
            return None
        return attention if not rest else Series(attention, Parameters(c, rest, f"{label}.constants"))

    def _read_nodes(self, nodes: Any) -> None:
        for node in nodes:
            if node.output and node.output[0] in getattr(self, "pooled", {}):
                data = [x for x in node.input if x in self.keys]
                if data:
                    self._gathered_pool(node, data)
                    continue
            if node.domain not in ("", "ai.onnx"):
                data = [x for x in node.input if x in self.keys]
                if data:
                    self._unknown_node(node, f"{node.domain}.{node.op_type}")
                continue
            if node.op_type in _CONTROL:
                self._control(node)
                continue
            data = [x for x in node.input if x in self.keys]
            if not data:
                self._constant(node)
                continue
            known = len(self.nodes)
            try:
                self._data(node, data)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError) as error:
                if isinstance(error, InvalidValueError) or len(self.nodes) != known:
                    raise
                self._unknown_node(node, f"{node.op_type} ({type(error).__name__} reading it)")  # a malformed node

    def _values_of(self, tensor: Any) -> Optional[list[Any]]:
        """A small constant's values (shapes, axes, scales), or None for a weight."""
        import onnx
        from onnx import numpy_helper

        floating = tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                                        onnx.TensorProto.BFLOAT16)
        if _product(tensor.dims) > (64 if floating else 65536):
            return None  # a weight (or indices too many to be a shape)
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            tensor = self._small_external(tensor)
            if tensor is None:
                return None
        try:
            return [x.item() if hasattr(x, "item") else x for x in numpy_helper.to_array(tensor).reshape(-1)]
        except Exception:  # a tensor onnx cannot decode: its values stay unknown
            return None

    def _small_external(self, tensor: Any) -> Any:
        """A small tensor of indices or sizes kept in an external-data file (a shape, as_strided's
        indices): its own bytes read, no weight's."""
        import onnx

        info = {entry.key: entry.value for entry in tensor.external_data}
        folder = getattr(self, "folder", "")
        path = os.path.join(folder, info.get("location", ""))
        if not folder or not os.path.isfile(path) or tensor.data_type == onnx.TensorProto.STRING:
            return None
        with open(path, "rb") as f:
            f.seek(int(info.get("offset", 0) or 0))
            data = f.read(int(info.get("length", 0) or 0) or -1)
        copy = onnx.TensorProto()
        copy.CopyFrom(tensor)
        del copy.external_data[:]
        copy.data_location = onnx.TensorProto.DEFAULT
        copy.raw_data = data
        return copy

    # -- shape arithmetic: what the graph computes from sizes ----------------------------
    def _constant(self, node: Any) -> None:
        """A node on constants and sizes only: its values computed where they are sizes, with
        the symbols; else unknown (a value no layer reads as data)."""
        op, ins, a = node.op_type, list(node.input), _attributes(node)
        outs = list(node.output)
        get: Any = self.consts.get
        result: Optional[list[Any]] = None
        shape: Optional[tuple[Any, ...]] = None
        if op == "Identity" and ins and ins[0] in self.inits:
            self.inits[outs[0]] = self.inits[ins[0]]
            self.shapes[outs[0]] = self.shapes[ins[0]]
            if ins[0] in self.consts:
                self.consts[outs[0]] = self.consts[ins[0]]
            return
        try:
            if op == "Constant":
                if "value" in a:
                    tensor = a["value"]
                    shape = tuple(int(d) for d in tensor.dims)
                    result = self._values_of(tensor)
                else:
                    for k in ("value_int", "value_float"):
                        if k in a:
                            result, shape = [a[k]], ()
                    for k in ("value_ints", "value_floats"):
                        if k in a:
                            result, shape = list(a[k]), (len(a[k]),)
            elif op in ("Identity", "Cast", "Floor", "Ceil") and get(ins[0]) is not None:
                result, shape = get(ins[0]), self.shapes.get(ins[0])
                if op in ("Floor", "Ceil"):
                    result = [math.floor(v) if op == "Floor" else math.ceil(v) if is_concrete(v) else v for v in result]
            elif op == "Gather" and get(ins[0]) is not None and get(ins[1]) is not None:
                data, index = get(ins[0]), get(ins[1])
                result = [data[int(i)] for i in index]
                shape = self.shapes.get(ins[1], (len(result),))
            elif op == "Unsqueeze" and get(ins[0]) is not None:
                result, shape = get(ins[0]), (len(get(ins[0])),)
            elif op == "Reshape" and get(ins[0]) is not None and get(ins[1]) is not None:
                result = get(ins[0])
                target = [len(result) if d == -1 else d for d in get(ins[1])]
                shape = tuple(int(d) for d in target) if _product(target) == len(result) else (len(result),)
            elif op == "Squeeze" and get(ins[0]) is not None:
                result = get(ins[0])
                shape = () if len(result) == 1 else (len(result),)
            elif op == "Concat" and all(get(x) is not None for x in ins):
                result = [v for x in ins for v in get(x)]
                shape = (len(result),)
            elif op in ("Add", "Sub", "Mul", "Div") and all(get(x) is not None for x in ins[:2]):
                left, right = get(ins[0]), get(ins[1])
                n = max(len(left), len(right))
                left, right = (left * n if len(left) == 1 else left), (right * n if len(right) == 1 else right)
                result = [self._arith(op, x, y) for x, y in zip(left, right)]
                shape = (n,) if max(len(self.shapes.get(ins[0], (1,))), len(self.shapes.get(ins[1], (1,)))) else ()
            elif op == "Slice" and get(ins[0]) is not None and all(get(x) is not None for x in ins[1:3]):
                data = get(ins[0])
                step = get(ins[4])[0] if len(ins) > 4 and ins[4] and get(ins[4]) else 1
                result = data[slice(int(get(ins[1])[0]), int(get(ins[2])[0]), int(step))]
                shape = (len(result),)
            elif op == "Shape" and ins[0] in self.shapes:
                result = list(self.shapes[ins[0]])[a.get("start", 0):a.get("end", len(self.shapes[ins[0]]))]
                shape = (len(result),)
            elif op in _COMPARISONS and all(get(x) is not None for x in ins[:2]):
                left, right = get(ins[0]), get(ins[1])
                n = max(len(left), len(right))
                left, right = (left * n if len(left) == 1 else left), (right * n if len(right) == 1 else right)
                decided = [self._compare(op, x, y) for x, y in zip(left, right)]
                if None in decided:
                    self.undecided[outs[0]] = " and ".join(f"{x} {_COMPARISONS[op]} {y}" for x, y in zip(left, right))
                    result = None
                else:
                    result, shape = decided, (n,) if len(self.shapes.get(ins[0], (1,))) else ()
            elif op == "Not" and get(ins[0]) is not None:
                result, shape = [not v for v in get(ins[0])], self.shapes.get(ins[0])
            elif op in ("And", "Or") and all(get(x) is not None for x in ins[:2]):
                pick = all if op == "And" else any
                result = [pick((x, y)) for x, y in zip(get(ins[0]), get(ins[1]))]
                shape = self.shapes.get(ins[0])
            elif op == "ConstantOfShape" and get(ins[0]) is not None:
                fill = a.get("value")
                dims = get(ins[0])
                if all(isinstance(d, int) for d in dims) and _product(dims) <= 64:
                    value = self._values_of(fill)[0] if fill is not None else 0  # type: ignore[index]
                    result, shape = [value] * _product(dims), tuple(dims)
        except (IndexError, TypeError, ValueError, ZeroDivisionError):
            result = None
        if result is not None and outs:
            self.consts[outs[0]] = result
            self.shapes[outs[0]] = shape if shape is not None else (len(result),)
            self.origin_of[outs[0]] = set().union(*(self.origin_of.get(x, set()) for x in ins))

    @staticmethod
    def _compare(op: str, x: Any, y: Any) -> Optional[bool]:
        """A comparison of sizes: True or False where the values (or the symbols' signs) decide it,
        else None (it depends on the input's size)."""
        import sympy

        relation = {"Equal": sympy.Eq, "Greater": sympy.Gt, "Less": sympy.Lt, "GreaterOrEqual": sympy.Ge,
                    "LessOrEqual": sympy.Le}[op](int(x) if isinstance(x, bool) else x, int(y) if isinstance(y, bool) else y)
        if relation in (sympy.true, sympy.false):
            return bool(relation)
        return None

    @staticmethod
    def _arith(op: str, x: Any, y: Any) -> Any:
        if op == "Add":
            return x + y
        if op == "Sub":
            return x - y
        if op == "Mul":
            return x * y
        if is_concrete(x) and is_concrete(y) and isinstance(x, int) and isinstance(y, int):
            return x // y  # integer division, as ONNX's Div on int64
        if isinstance(y, int) and y > 0 and not isinstance(x, float):
            from .layers import floor_div

            return floor_div(x, y)  # a size's floor division as the library's own arithmetic reads it
        return x / y

    def _data_shape(self, key: _Key) -> Optional[tuple[Any, ...]]:
        """A data value's dims, from its state and the size the library's arithmetic gave it."""
        item = self.nodes[key]
        state = item.state
        if state.kind == "line":
            return (item.channels,)
        if state.kind == "gn":
            h, w = sides(item.size)
            return (1, state.groups, item.channels // state.groups * h * w)
        if state.kind in ("map", "nhwc", "grouped", "shuffled"):
            h, w = sides(item.size)
            c = item.channels
            if state.kind == "map":
                return (1, c, h, w)
            if state.kind == "nhwc":
                return (1, h, w, c)
            g = state.groups
            return (1, g, c // g, h, w) if state.kind == "grouped" else (1, c // g, g, h, w)
        if state.kind == "flat":
            return (1, item.channels * _product(sides(item.size)))
        return None

    # -- data nodes: one ONNX node, one library layer ------------------------------------
    def _label(self, node: Any) -> tuple[str, str]:
        """The layer's name from the node's (``/layer1/layer1.0/conv1/Conv`` is ``layer1.0.conv1``,
        as torch names the module) and its top-level owner (``layer1``)."""
        parts = [p for p in node.name.split("/") if p] if node.name else []
        meta = {p.key: p.value for p in node.metadata_props}
        scopes = meta.get("pkg.torch.onnx.name_scopes", "")
        if len(parts) < 2 and scopes.startswith("["):  # torch's dynamo exporter: the module path, then the op
            import ast

            try:
                scoped = [str(p) for p in ast.literal_eval(scopes)]
                classes = [str(c) for c in ast.literal_eval(meta.get("pkg.torch.onnx.class_hierarchy", "[]"))]
            except (ValueError, SyntaxError):
                scoped, classes = [], []
            parts = [p for p in scoped if p]
            for scope, cls in zip(scoped[1:-1], classes[1:-1]):  # the model's own block classes (not torch.nn's)
                if scope and not cls.startswith("torch.nn."):
                    self.classed.append(scope)
                    break
        path = ""
        for part in parts[:-1]:
            path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
        base = path or node.name or f"{node.op_type}_{len(self.nodes)}"
        if path and node.op_type not in ("Conv", "ConvTranspose", "Gemm", "BatchNormalization", "MaxPool",
                                         "AveragePool", "InstanceNormalization", "LayerNormalization") \
                and node.op_type not in _ACTIVATIONS:
            base = f"{path}.{node.op_type}"
        seen = self.names.get(base, 0) + 1
        self.names[base] = seen
        owner = path.split(".")[0] if path else ""
        label = base if seen == 1 else f"{base}_{seen}"
        self.paths[label] = path
        return label, owner

    def _name(self, node: Any) -> tuple[str, str]:
        return node.label, node.owner

    def _op(self, node: Any) -> str:
        return _TORCH_OPS.get(node.op, node.op.lower())

    def _emit(self, node: Any, output: str, inputs: list[str], layer: Optional[AnyBlock], state: ImportState,
              label: str = "", owner: str = "", join: str = "") -> None:
        key = _Key(output, node.op_type, label, owner)
        item = ImportNode(key, [self.keys[x] for x in inputs], state, layer=layer, owner=owner, join=join)
        self.nodes[key] = item
        self.keys[output] = key
        item.size = self._flowed(item)
        item.state = replace(state, channels=item.channels) if state.kind in ("map", "nhwc", "flat") else state
        if layer is not None:
            for part in iter_layers(layer):
                self.origins.setdefault(part.name, (f"onnx.{node.op_type}", 1))
        if join:
            self.joins.append(f"onnx.{node.op_type}")
            self.join_paths.append(self.paths.get(label, ""))

    def _data(self, node: Any, data: list[str]) -> None:
        op = node.op_type
        label, owner = self._label(node)
        first = self.nodes[self.keys[data[0]]]
        state, c = first.state, first.channels
        keep = ImportState(state.kind, c, groups=state.groups)
        a = _attributes(node)
        out = node.output[0] if node.output else ""
        if state.kind not in ("map", "nhwc", "flat", "grouped", "shuffled", "line", "gn"):
            return self._unknown_node(node, op, label, owner)
        if op in _PASS:
            return self._emit(node, out, data[:1], None, keep, label, owner)
        if op in _ACTIVATIONS:
            return self._emit(node, out, data[:1], Activation(c, _ACTIVATIONS[op], name=label), keep, label, owner)
        if op == "Clip":
            low, high = (self._scalar(node, i, a.get(k)) for i, k in ((1, "min"), (2, "max")))
            function = "relu6" if (low, high) == (0, 6) else ("relu" if low == 0 and high is None else "hardtanh")
            return self._emit(node, out, data[:1], Activation(c, function, name=label), keep, label, owner)
        if op == "PRelu":
            slope = node.input[1]
            held = self._claim([slope], label)
            layer = Series(Activation(c, "leaky_relu", name=label), Parameters(c, held, f"{label}.slope")) if held \
                else Activation(c, "leaky_relu", name=label)
            return self._emit(node, out, data[:1], layer, keep, label, owner)
        if op in _JOINS or (op == "Concat" and len([x for x in node.input if x]) > 1):
            return self._join_node(node, data, label, owner, a)
        if op == "Concat":
            return self._emit(node, out, data[:1], None, keep, label, owner)
        if len(data) > 1:
            return self._unknown_node(node, op, label, owner)
        handler = getattr(self, f"_on_{op}", None)
        if handler is not None and handler(node, a, first, label, owner) is not False:
            return None
        return self._unknown_node(node, op, label, owner)

    def _scalar(self, node: Any, position: int, default: Any) -> Any:
        if len(node.input) > position and node.input[position]:
            values = self.consts.get(node.input[position])
            return values[0] if values else float("nan")
        return default

    def _claim(self, names: list[str], layer: str) -> int:
        """The elements of the initializers ``names`` not counted yet, now counted by ``layer``;
        a layer that reads one already counted is a second use of a shared weight (``reused``)."""
        held = 0
        for n in names:
            if not n or n not in self.inits:
                continue
            n = self.inits[n].name  # an Identity of a shared weight stands for the weight itself
            if n in self.claimed:
                self.shared.setdefault(n, []).append(layer)
                continue
            self.claimed[n] = layer
            held += _product(self.inits[n].dims)
        return held

    def _owned(self, layer: Any, weight: str, bias: str) -> AnyBlock:
        """``layer`` with the parameters its weight and bias initializers hold that no layer
        counted yet: a layer whose weight another read first is a second use (``reused``); a bias
        another layer holds too (an exporter keeps one copy of equal tensors) is counted there."""
        fresh = {x: bool(x) and self.inits[x].name not in self.claimed for x in (weight, bias)}
        self._claim([weight], layer.name)
        self._claim([bias], layer.name)
        if fresh[weight]:
            return layer if not bias or fresh[bias] else replace(layer, bias=False)
        self.reused.add(layer.name)
        if bias and fresh[bias]:
            return Series(layer, Parameters(layer.out_channels, _product(self.inits[bias].dims), f"{layer.name}.bias"))
        return layer

    def _weight(self, name: str) -> Optional[tuple[int, ...]]:
        """An initializer's dims (behind Identity aliases, which the exporter makes for shared weights)."""
        return self.shapes.get(name) if name in self.inits else None

    def _unknown_node(self, node: Any, op: str, label: str = "", owner: str = "") -> None:
        """An op the library has no rule for: kept by name, its MACs not counted; its outputs keep
        the input's shape where onnx's shape inference says so, else are of unknown shape (and what
        reads them is not counted either)."""
        if not label:
            label, owner = self._label(node)
        data = [x for x in node.input if x in self.keys]
        first = self.nodes[self.keys[data[0]]]
        held = self._claim([x for x in node.input if x not in self.keys and x in self.inits
                            and self.inits[x].data_type in (1, 10, 11, 16)], label)
        keeps = self._keeps_shape(node, data[0])
        for output in [o for o in node.output if o][:1] or []:
            state = ImportState(first.state.kind, first.channels, groups=first.state.groups) if keeps else \
                ImportState("other", first.channels)
            self._emit(node, output, data[:1], Uncounted(first.channels, op, held=held, name=label), state, label, owner)
        for output in [o for o in node.output if o][1:]:
            key = _Key(output, node.op_type, label, owner)
            self.nodes[key] = ImportNode(key, [self.keys[node.output[0]]], ImportState("other", first.channels),
                                    size=self.nodes[self.keys[node.output[0]]].size, channels=first.channels)
            self.keys[output] = key

    def _keeps_shape(self, node: Any, source: str) -> bool:
        """Whether onnx's shape inference gives the node's first output the dims of its input."""
        before, after = self._inferred_dims(source), self._inferred_dims(node.output[0]) if node.output else None
        return before is not None and before == after

    def _inferred_dims(self, name: str) -> Optional[tuple[Any, ...]]:
        """A tensor's dims as onnx's shape inference gives them (None where it cannot)."""
        if self.inferred is None:
            import onnx

            try:
                inferred = onnx.shape_inference.infer_shapes(self.model)
                values = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
            except Exception:  # shape inference fails on a model it cannot follow: nothing is known
                values = []
            self.inferred = {v.name: v for v in values}

        value = self.inferred.get(name)
        if value is None or not value.type.tensor_type.HasField("shape"):
            return None
        got = tuple((d.dim_param or d.dim_value) for d in value.type.tensor_type.shape.dim)
        return got if all(got) else None

    def _computed_weight(self, name: str) -> Optional[tuple[int, ...]]:
        """The dims of a weight computed from initializers only (NFNet's standardized weights: a
        mean, a variance and a gain applied to the stored one), from onnx's shape inference."""
        if not name or name in self.keys or name in self.inits or name not in self.producer:
            return None
        made = self.producer[name]
        target = self.consts.get(made.input[1]) if made.op_type == "Reshape" and len(made.input) > 1 else None
        if target is not None and all(isinstance(d, int) and d > 0 for d in target):
            return tuple(target)  # the stored weight reshaped back (onnx's inference may not see the shape)
        dims = self._inferred_dims(name)
        return dims if dims is not None and all(isinstance(d, int) for d in dims) else None

    def _behind(self, name: str) -> list[str]:
        """The initializers a computed tensor is made from (the weights and gains, not the numbers)."""
        found, todo, seen = [], [name], set()
        while todo:
            x = todo.pop()
            if x in seen or x in self.keys:
                continue
            seen.add(x)
            if x in self.inits:
                if self.inits[x].data_type in (1, 10, 11, 16) and _product(self.inits[x].dims) > 1:
                    found.append(x)
            elif x in self.producer:
                todo.extend(i for i in self.producer[x].input if i)
        return found

    # -- the ops -------------------------------------------------------------------
    def _on_Conv(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        shape = self._weight(node.input[1]) if len(node.input) > 1 else None
        computed = shape is None and len(node.input) > 1 and self._computed_weight(node.input[1]) is not None
        if computed:
            shape = self._computed_weight(node.input[1])
        if first.state.kind != "map" or shape is None or len(shape) != 4:
            return False
        groups = int(a.get("group", 1))
        kernel = tuple(a.get("kernel_shape", shape[2:]))
        strides, dilations = list(a.get("strides", [1, 1])), list(a.get("dilations", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if len(set(strides)) != 1 or len(set(dilations)) != 1:
            return False
        bias = len(node.input) > 2 and bool(node.input[2])
        padding: Any
        pad: Optional[Pad] = None
        if auto == "VALID":
            padding = 0
        elif auto in ("SAME_UPPER", "SAME_LOWER") or node.input[0] in self.same_padded:
            padding = "same"  # TensorFlow's SAME: ceil(size / stride) at every stride, as the library's "same"
        elif pads[0] == pads[2] and pads[1] == pads[3]:
            padding = pads[0] if pads[0] == pads[1] else (pads[0], pads[1])
        else:
            pad, padding = Pad(first.channels, (pads[0], pads[2], pads[1], pads[3]), name=f"{label}.pad"), 0
        made = Conv(shape[1] * groups, shape[0], (int(kernel[0]), int(kernel[1])), groups, strides[0], padding,
                    dilations[0], bias, label)
        conv: AnyBlock
        if computed:  # its parameters: what the weight is computed from (a gain counted beside)
            held = self._claim(self._behind(node.input[1]) + ([node.input[2]] if bias else []), label)
            own = made.params()
            conv = made if held == own else (Series(made, Parameters(shape[0], int(held - own), f"{label}.parameters"))
                                             if held > own else made)
            if held < own:
                self.reused.add(label)
                conv = Series(made, Parameters(shape[0], held, f"{label}.parameters")) if held else made
        else:
            conv = self._owned(made, node.input[1], node.input[2] if bias else "")
        layer: AnyBlock = conv if pad is None else Series(pad, conv)
        self._emit(node, node.output[0], [node.input[0]], layer, ImportState("map", shape[0]), label, owner)

    def _on_ConvTranspose(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        shape = self._weight(node.input[1]) if len(node.input) > 1 else None
        if first.state.kind != "map" or shape is None or len(shape) != 4 or "output_shape" in a:
            return False
        groups = int(a.get("group", 1))
        strides, dilations = list(a.get("strides", [1, 1])), list(a.get("dilations", [1, 1]))
        pads, extra = list(a.get("pads", [0, 0, 0, 0])), list(a.get("output_padding", [0, 0]))
        auto = a.get("auto_pad", b"NOTSET")
        if len(set(strides)) != 1 or len(set(dilations)) != 1 or pads[:2] != pads[2:] or \
                (auto.decode() if isinstance(auto, bytes) else auto) not in ("NOTSET", "VALID"):
            return False
        bias = len(node.input) > 2 and bool(node.input[2])
        kernel: Any = tuple(int(k) for k in a.get("kernel_shape", shape[2:]))
        layer = self._owned(ConvTranspose(shape[0], shape[1] * groups, kernel, groups, strides[0],
                                          pads[0] if pads[0] == pads[1] else (pads[0], pads[1]),
                                          extra[0] if extra[0] == extra[1] else (extra[0], extra[1]), dilations[0],
                                          bias, label), node.input[1], node.input[2] if bias else "")
        self._emit(node, node.output[0], [node.input[0]], layer, ImportState("map", shape[1] * groups), label, owner)

    def _linear(self, node: Any, first: ImportNode, weight: tuple[int, ...], transposed: bool, bias: str, label: str,
                owner: str) -> Any:
        k, n = (weight[1], weight[0]) if transposed else (weight[0], weight[1])
        state = first.state
        if state.kind == "nhwc" and k == first.channels:
            layer: AnyBlock = Conv(k, n, (1, 1), padding=0, bias=bool(bias), name=label)
            after = ImportState("nhwc", n)
        elif state.kind == "flat" and k % first.channels == 0:
            area = k // first.channels
            in_size: Any = math.isqrt(area)
            if area != 1 and _product(sides(first.size)) == area and all(is_concrete(x) for x in sides(first.size)):
                in_size = first.size
            elif in_size * in_size != area:
                return False
            layer, after = Linear(first.channels, n, in_size=in_size, bias=bool(bias), name=label), ImportState("flat", n)
        else:
            return False
        layer = self._owned(layer, node.input[1], bias)
        self._emit(node, node.output[0], [node.input[0]], layer, after, label, owner)

    def _on_Gemm(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        weight = self._weight(node.input[1])
        if weight is None or len(weight) != 2 or a.get("transA", 0):
            return False
        bias = node.input[2] if len(node.input) > 2 and node.input[2] in self.inits else ""
        if len(node.input) > 2 and node.input[2] and not bias:
            return False
        return self._linear(node, first, weight, bool(a.get("transB", 0)), bias, label, owner)

    def _on_MatMul(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        weight = self._weight(node.input[1])
        if weight is None or len(weight) != 2:
            return False
        return self._linear(node, first, weight, False, "", label, owner)

    def _on_BatchNormalization(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        if first.state.kind not in ("map", "flat") or len(node.input) < 5:
            return False
        held = self._claim(list(node.input[1:3]), label)
        for x in node.input[3:5]:
            x = self.inits[x].name if x in self.inits else x
            if x in self.inits and x not in self.claimed:
                self.claimed[x] = label
                self.statistics.add(x)
        c = first.channels
        layer = BatchNorm(c, name=label) if held == 2 * c else Norm(c, "batch", held, label)
        self._emit(node, node.output[0], [node.input[0]], layer, ImportState(first.state.kind, c), label, owner)

    def _on_InstanceNormalization(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        """An instance norm; on a map viewed as groups (Reshape to N x G x -1 first), a group norm."""
        if first.state.kind not in ("map", "gn"):
            return False
        held = self._claim(list(node.input[1:3]), label)
        kind = "group" if first.state.kind == "gn" else "instance"
        self._emit(node, node.output[0], [node.input[0]], Norm(first.channels, kind, held, label),
                   replace(first.state), label, owner)

    def _on_LayerNormalization(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        c = first.channels
        if first.state.kind not in ("nhwc", "flat") or int(a.get("axis", -1)) != -1 or \
                self._weight(node.input[1]) not in ((c,), None):
            return False
        held = self._claim(list(node.input[1:3]), label)
        layer = LayerNorm(c, name=label) if held == 2 * c else Norm(c, "layer", held, label)
        self._emit(node, node.output[0], [node.input[0]], layer, ImportState(first.state.kind, c), label, owner)

    def _pool(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str, kind: str) -> Any:
        kernel = list(a.get("kernel_shape", []))
        strides, pads = list(a.get("strides", kernel)), list(a.get("pads", [0, 0, 0, 0]))
        dilations = list(a.get("dilations", [1, 1]))
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if first.state.kind != "map" or len(kernel) != 2 or len(set(kernel)) != 1 or len(set(strides)) != 1 or \
                set(dilations) != {1} or auto not in ("NOTSET", "VALID") or len(node.output) > 1 and node.output[1]:
            return False
        c = first.channels
        pad: Optional[Pad] = None
        padding = pads[0]
        if node.input[0] in self.same_padded:  # TensorFlow's SAME: ceil(size / stride), as half the window pads
            if kernel[0] % 2 == 0:
                return False
            padding = (kernel[0] - 1) // 2
            pads = [padding] * 4
        if len(set(pads)) != 1:
            pad, padding = Pad(c, (pads[0], pads[2], pads[1], pads[3]), name=f"{label}.pad"), 0
        pool = Pool(c, int(kernel[0]), int(strides[0]), int(padding), bool(a.get("ceil_mode", 0)), kind, label)
        self._emit(node, node.output[0], [node.input[0]], pool if pad is None else Series(pad, pool),
                   ImportState("map", c), label, owner)

    def _on_MaxPool(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        return self._pool(node, a, first, label, owner, "max")

    def _on_AveragePool(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        return self._pool(node, a, first, label, owner, "avg")

    def _global(self, node: Any, first: ImportNode, label: str, owner: str, kind: str, flat: bool = False) -> Any:
        if first.state.kind != "map":
            return False
        c = first.channels
        self._emit(node, node.output[0], [node.input[0]], AdaptivePool(c, 1, kind, label),
                   ImportState("flat" if flat else "map", c), label, owner)

    def _on_GlobalAveragePool(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        return self._global(node, first, label, owner, "avg")

    def _on_GlobalMaxPool(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        return self._global(node, first, label, owner, "max")

    def _on_ReduceMean(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.consts.get(node.input[1])
        if axes is None or {int(x) % 4 for x in axes} != {2, 3}:
            return False
        return self._global(node, first, label, owner, "avg", flat=not a.get("keepdims", 1))

    def _on_ReduceMax(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.consts.get(node.input[1])
        if axes is None or {int(x) % 4 for x in axes} != {2, 3}:
            return False
        return self._global(node, first, label, owner, "max", flat=not a.get("keepdims", 1))

    def _on_Flatten(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        axis = int(a.get("axis", 1))
        if first.state.kind == "flat" and axis in (1, -1):
            return self._emit(node, node.output[0], [node.input[0]], None, first.state, label, owner)
        if first.state.kind != "map" or axis != 1:
            return False
        return self._emit(node, node.output[0], [node.input[0]], None, ImportState("flat", first.channels, first.size),
                          label, owner)

    def _on_Reshape(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        target = self.consts.get(node.input[1]) if len(node.input) > 1 else None
        shape = self._data_shape(first.node)
        if target is None or shape is None:
            return False
        dims = [shape[i] if (d == 0 and not a.get("allowzero", 0) and i < len(shape)) else d
                for i, d in enumerate(target)]
        whole = _product(shape)
        if sum(1 for d in dims if is_concrete(d) and d == -1) == 1:
            known = _product(d for d in dims if not (is_concrete(d) and d == -1))
            rest = Fraction(whole, known) if isinstance(whole, int) and isinstance(known, int) and known else \
                whole / known  # a number stays exact (Python's 512 / 512 is the float 1.0, which is no 1 to sympy)
            dims = [self._simplified(rest) if (is_concrete(d) and d == -1) else d for d in dims]
        state, c = first.state, first.channels
        dims = [self._simplified(d) for d in dims]
        if tuple(dims) == tuple(self._simplified(x) for x in shape):
            return self._emit(node, node.output[0], [node.input[0]], None, state, label, owner)
        h, w = sides(first.size) if state.kind in ("map", "grouped", "shuffled", "nhwc", "gn") else (1, 1)
        if state.kind == "map" and len(dims) == 2 and dims[0] == 1:
            return self._on_Flatten(node, {"axis": 1}, first, label, owner)
        if state.kind == "map" and len(dims) == 5 and self._same(dims[1] * dims[2], c) and \
                self._same(dims[3], h) and self._same(dims[4], w) and is_concrete(dims[1]):
            return self._emit(node, node.output[0], [node.input[0]], None,
                              ImportState("grouped", c, groups=int(dims[1])), label, owner)
        if state.kind == "shuffled" and len(dims) == 4 and self._same(dims[1], c):
            return self._emit(node, node.output[0], [node.input[0]], Shuffle(c, state.groups, label),
                              ImportState("map", c), label, owner)
        if state.kind == "flat" and len(dims) == 2:
            return self._emit(node, node.output[0], [node.input[0]], None, state, label, owner)
        if state.kind == "map" and len(dims) == 3 and dims[0] == 1 and is_concrete(dims[1]) and is_concrete(c) and \
                c % int(dims[1]) == 0 and self._same(dims[2], c // int(dims[1]) * h * w):  # a group norm's groups
            return self._emit(node, node.output[0], [node.input[0]], None, ImportState("gn", c, groups=int(dims[1])),
                              label, owner)
        if state.kind == "gn" and len(dims) == 4 and self._same(dims[1], c) and self._same(dims[2], h) and \
                self._same(dims[3], w):
            return self._emit(node, node.output[0], [node.input[0]], None, ImportState("map", c), label, owner)
        if state.kind in ("map", "flat") and first.size == 1 and len(dims) == 1:  # a vector of the channels
            return self._emit(node, node.output[0], [node.input[0]], None, ImportState("line", c), label, owner)
        if state.kind == "line" and len(dims) in (2, 4) and tuple(dims[2:]) in ((), (1, 1)):
            return self._emit(node, node.output[0], [node.input[0]], None,
                              ImportState("flat" if len(dims) == 2 else "map", c), label, owner)
        return False

    def _on_Gather(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        """Every element of a vector gathered in order (torch's as_strided, exported): the vector
        itself, shaped as the indices are."""
        index, shape = self.consts.get(node.input[1]), self.shapes.get(node.input[1])
        c = first.channels
        if first.state.kind != "line" or index is None or shape is None or list(index) != list(range(len(index))) or \
                len(index) != c or tuple(shape) not in ((1, c), (1, c, 1, 1)):
            return False
        self._emit(node, node.output[0], [node.input[0]], None, ImportState("flat" if len(shape) == 2 else "map", c),
                   label, owner)

    @staticmethod
    def _simplified(x: Any) -> Any:
        if is_concrete(x):
            from .layers import normal

            return normal(x)
        import sympy

        return sympy.expand(x)

    @staticmethod
    def _same(x: Any, y: Any) -> bool:
        if is_concrete(x) and is_concrete(y):
            return bool(x == y)
        import sympy

        return bool(sympy.expand(x - y) == 0)

    def _on_Transpose(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        perm = tuple(a.get("perm", ()))
        kind = first.state.kind
        after = {("map", (0, 2, 3, 1)): "nhwc", ("nhwc", (0, 3, 1, 2)): "map",
                 ("grouped", (0, 2, 1, 3, 4)): "shuffled"}.get((kind, perm))
        if after is None:
            return False
        self._emit(node, node.output[0], [node.input[0]], None, ImportState(after, first.channels, groups=first.state.groups),
                   label, owner)

    def _on_Squeeze(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.consts.get(node.input[1])
        if first.state.kind != "map" or first.size != 1 or axes is None or {int(x) % 4 for x in axes} != {2, 3}:
            return False
        self._emit(node, node.output[0], [node.input[0]], None, ImportState("flat", first.channels), label, owner)

    def _on_Unsqueeze(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.consts.get(node.input[1])
        if first.state.kind != "flat" or axes is None or [int(x) % 4 for x in axes] not in ([2, 3], [3, 2]):
            return False
        self._emit(node, node.output[0], [node.input[0]], None, ImportState("map", first.channels), label, owner)

    def _on_Shape(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        shape = self._data_shape(first.node)
        if shape is None:
            return False
        start, end = a.get("start", 0), a.get("end", len(shape))
        self.consts[node.output[0]] = list(shape[start:end])
        self.shapes[node.output[0]] = (len(shape[start:end]),)
        self.origin_of[node.output[0]] = {node.input[0]}
        return None

    def _on_Split(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        axis = int(a.get("axis", 0))
        c = first.channels
        if first.state.kind != "map" or axis % 4 != 1 or not is_concrete(c):
            return False
        split = a.get("split")
        if split is None and len(node.input) > 1 and node.input[1]:
            split = self.consts.get(node.input[1])
        outputs = [o for o in node.output]
        if split is None:
            pieces = int(a.get("num_outputs", len(outputs)))
            size = -(-c // pieces)
            split = [min(size, c - i * size) for i in range(pieces)]
        if sum(split) != c or len(split) != len(outputs):
            return False
        start = 0
        for i, (output, part) in enumerate(zip(outputs, split)):
            name = label if i == 0 else f"{label}_{i + 1}"
            layer = None if part == c else Slice(c, start, start + int(part), name)
            self._emit(node, output, [node.input[0]], layer, ImportState("map", int(part)), name, owner)
            start += int(part)

    def _on_Slice(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        values = [self.consts.get(x) if x else None for x in list(node.input[1:5]) + [""] * (4 - len(node.input[1:5]))]
        starts, ends, axes, steps = values
        if starts is None or ends is None or len(starts) != 1 or first.state.kind != "map":
            return False
        axis = int(axes[0]) % 4 if axes else 0
        step = int(steps[0]) if steps else 1
        c = first.channels
        if axis != 1 or step != 1 or not all(is_concrete(x) for x in (starts[0], ends[0], c)):
            return False
        begin, stop, _ = slice(int(starts[0]), int(min(ends[0], 2**62)), 1).indices(int(c))
        if stop <= begin:
            return False
        layer = None if (begin, stop) == (0, c) else Slice(c, begin, stop, label)
        self._emit(node, node.output[0], [node.input[0]], layer, ImportState("map", stop - begin), label, owner)

    def _reads_own_size(self, name: str, data: str) -> bool:
        """Whether the computed tensor ``name`` is made from the shape of the data value ``data``."""
        todo, seen = [name], set()
        while todo:
            x = todo.pop()
            if x in seen or x in self.keys or x not in self.producer:
                continue
            seen.add(x)
            made = self.producer[x]
            if made.op_type == "Shape" and made.input[0] == data:
                return True
            todo.extend(i for i in made.input if i)
        return False

    def _on_Pad(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        pads = a.get("pads")
        if pads is None and len(node.input) > 1:
            pads = self.consts.get(node.input[1])
        readers = self.consumers.get(node.output[0], [])
        if pads is None and len(node.input) > 1 and first.state.kind == "map" and len(readers) == 1 and \
                readers[0].op_type in ("Conv", "MaxPool", "AveragePool") and \
                not any(_attributes(readers[0]).get("pads", [0])) and self._reads_own_size(node.input[1], node.input[0]):
            # TensorFlow's SAME padding computed from the size, before a strided window: the window's "same"
            self.same_padded.add(node.output[0])
            return self._emit(node, node.output[0], [node.input[0]], None, ImportState("map", first.channels), label, owner)
        axes = self.consts.get(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        if first.state.kind != "map" or pads is None or not all(isinstance(p, int) for p in pads):
            return False
        if axes is not None:
            full = [0] * 8
            for i, axis in enumerate(axes):
                full[int(axis) % 4], full[int(axis) % 4 + 4] = pads[i], pads[i + len(axes)]
            pads = full
        if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or min(pads) < 0:
            return False
        layer = Pad(first.channels, (pads[2], pads[6], pads[3], pads[7]), name=label)
        self._emit(node, node.output[0], [node.input[0]], layer, ImportState("map", first.channels), label, owner)

    def _on_Resize(self, node: Any, a: dict[str, Any], first: ImportNode, label: str, owner: str) -> Any:
        if first.state.kind != "map":
            return False
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        mode = {"linear": "bilinear", "cubic": "bicubic"}.get(mode, mode)
        ins = list(node.input) + [""] * 4
        scales = self.consts.get(ins[2]) if ins[2] else None
        sizes = self.consts.get(ins[3]) if ins[3] else None
        if node.op_type == "Upsample":
            scales = a.get("scales") or self.consts.get(ins[1])
        if scales and len(scales) == 4 and scales[:2] == [1, 1] and scales[2] == scales[3] and \
                float(scales[2]).is_integer() and scales[2] >= 1:
            return self._emit(node, node.output[0], [node.input[0]], Upsample(first.channels, int(scales[2]), mode,
                                                                              label), ImportState("map", first.channels),
                              label, owner)
        if sizes is not None and len(sizes) >= 2:
            for ref in sorted(self.origin_of.get(ins[3], set())):
                shape = self._data_shape(self.keys[ref]) if ref in self.keys else None
                if shape is not None and len(shape) == 4 and self._same(shape[2], sizes[-2]) and \
                        self._same(shape[3], sizes[-1]):
                    return self._emit(node, node.output[0], [node.input[0], ref], None,
                                      ImportState("map", first.channels), label, owner, join="resize")
            h, w = sides(first.size)
            factor = [self._simplified(s / x) for s, x in zip(sizes[-2:], (h, w))]
            if factor[0] == factor[1] and is_concrete(factor[0]) and factor[0] == int(factor[0]) and factor[0] >= 1:
                return self._emit(node, node.output[0], [node.input[0]],
                                  Upsample(first.channels, int(factor[0]), mode, label),
                                  ImportState("map", first.channels), label, owner)
        return False

    _on_Upsample = _on_Resize

    def _on_elementwise(self, node: Any, first: ImportNode, label: str, owner: str) -> Any:
        """An add, subtract, multiply or divide of a data value and a constant: a number is an
        elementwise op; a learned per-channel scale a layer scale; a per-channel shift a bias
        (held by the matmul before it, where there is one)."""
        op = node.op_type
        other = next(x for x in node.input if x not in self.keys)
        c = first.channels
        kind = "add" if op in ("Add", "Sub") else "multiply"
        shape = self.shapes.get(other)
        numel = _product(shape) if shape is not None else None
        weight = other in self.inits and numel not in (None, 1)
        if not weight:
            return self._emit(node, node.output[0], [first.node.name], Elementwise(c, kind, name=label),
                              ImportState(first.state.kind, c, groups=first.state.groups), label, owner)
        if numel != c:
            return False
        producer = self.nodes[first.node]
        layer = producer.layer
        if kind == "add" and isinstance(layer, (Conv, Linear)) and not layer.bias and \
                self.readers.get(first.node.name, 0) == 1:
            if self.inits[other].name not in self.claimed:  # else another layer holds the same bias, counted there
                producer.layer = replace(layer, bias=True)
            self._claim([other], layer.name)
            return self._emit(node, node.output[0], [first.node.name], None, first.state, label, owner)
        held = self._claim([other], label)
        made: AnyBlock
        if kind == "multiply" and held == c:
            made = LayerScale(c, name=label)
        elif held:
            made = Series(Elementwise(c, kind, name=label), Parameters(c, held, name=f"{label}.parameters"))
        else:  # a shared constant, counted where it was read first
            made = Elementwise(c, kind, name=label)
        self._emit(node, node.output[0], [first.node.name], made, first.state, label, owner)

    def _join_node(self, node: Any, data: list[str], label: str, owner: str, a: dict[str, Any]) -> Any:
        """A node of several data values (a sum, a product, a concatenation along the channels),
        or one data value and a constant."""
        from .blocks import Join
        from .cost import agree

        op = node.op_type
        if len(data) == 1:
            first = self.nodes[self.keys[data[0]]]
            if op in _JOINS:
                if self._on_elementwise(node, first, label, owner) is not False:
                    return None
            return self._unknown_node(node, op, label, owner)
        items = [self.nodes[self.keys[x]] for x in data]
        kinds = {i.state.kind for i in items}
        if op == "Concat":
            axis = int(a.get("axis", 0))
            if kinds != {"map"} or axis % 4 != 1 or len(data) != len([x for x in node.input if x]):
                return self._unknown_node(node, op, label, owner)
            data = self._concat_inputs(node, data)
            join = "concat"
        else:
            if len(data) != 2 or not kinds <= {"map", "nhwc", "flat"} or len(kinds) != 1:
                return self._unknown_node(node, op, label, owner)
            join = _JOINS[op]
        items = [self.nodes[self.keys[x]] for x in data]
        try:
            agree(Join(join), items[0].size, [i.size for i in items])
            channels = self._joined_channels(join, [i.channels for i in items])
        except InvalidValueError:
            return self._unknown_node(node, op, label, owner)
        kind = items[0].state.kind
        self._emit(node, node.output[0], data, None, ImportState(kind, channels), label, owner, join=join)
        self.join_names[self.keys[node.output[0]]] = (label, owner)

    def _concat_inputs(self, node: Any, data: list[str]) -> list[str]:
        """A concatenation's inputs with a prefix an earlier concatenation joined replaced by it
        (DenseNet concatenates every earlier feature map at each layer)."""
        key = tuple(data)
        self.cats[key] = node.output[0]
        for k in range(len(data) - 1, 1, -1):
            earlier = self.cats.get(tuple(data[:k]))
            if earlier is not None and earlier != node.output[0]:
                return [earlier, *data[k:]]
        return data

    # -- control flow --------------------------------------------------------------
    def _control(self, node: Any) -> None:
        """An If whose condition the shapes fix is its branch, read in place; any other control
        flow is refused (its cost depends on values the file does not hold)."""
        a = _attributes(node)
        if node.op_type == "If":
            condition = self.consts.get(node.input[0])
            if condition is not None and len(condition) == 1 and is_concrete(condition[0]):
                branch = a["then_branch"] if condition[0] else a["else_branch"]
                self._read_nodes(branch.node)
                for inner, outer in zip(branch.output, node.output):
                    if inner.name in self.keys:
                        self.keys[outer] = self.keys[inner.name]
                    elif inner.name in self.consts:
                        self.consts[outer] = self.consts[inner.name]
                        self.shapes[outer] = self.shapes.get(inner.name, (len(self.consts[outer]),))
                return
            undecided = self.undecided.get(node.input[0])
            why = f"its branch depends on the input's size ({undecided}); fix the size with dims" if undecided \
                else "its condition is computed from the data, not fixed by the shapes"
        else:
            why = "the number of iterations depends on values the file does not hold"
        raise InvalidValueError(f"{self.name}: {node.op_type} node {node.name or node.output[0]}: {why}; it cannot be"
                                " counted")

    # -- what no layer counts ---------------------------------------------------------
    def _held_initializers(self, channels: Any) -> Optional[Stage]:
        """A side stage for the weights no layer reads (an initializer no node uses, or one only
        the unknown ops' inputs of sizes read)."""
        held: list[AnyBlock] = []
        for tensor in self.graph.initializer:
            if tensor.name in self.claimed or tensor.data_type not in (1, 10, 11, 16):
                continue  # counted, or no weight (sizes, indices, axes)
            numel = _product(tensor.dims)
            if numel <= 1 or self.readers.get(tensor.name, 0):
                continue  # a number in an op, or a constant read as one
            self.claimed[tensor.name] = "unused"
            held.append(Held(channels, numel, tensor.name, tensor.name))
        if not held:
            return None
        return Stage("unused", Series(*held), side=True)

