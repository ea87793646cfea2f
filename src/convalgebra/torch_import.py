"""Import a PyTorch model: :func:`from_torch` turns any traceable CNN into a :class:`Network`.

The model is traced with ``torch.fx`` (PyTorch is the optional extra ``torch`` and is
imported only here); every node becomes one of the library's layers, named by torch's own
qualified name (``layer1.0.conv1``), and the graph's forks and joins become the library's
blocks (a sum a :class:`~convalgebra.blocks.Residual`, a concatenation a
:class:`~convalgebra.blocks.Parallel`, a gate a :class:`~convalgebra.blocks.Scale`). The
stages are the model's top-level children. Only the channel counts are read from the trace;
every size flows through the library's own arithmetic, so a count at the symbols H and W
is a closed form:

>>> import pytest; torchvision = pytest.importorskip("torchvision")
>>> import torch
>>> with torch.device("meta"):
...     model = torchvision.models.resnet18()
>>> net = from_torch(model, name="resnet18")
>>> net.total(224)                                    # (MACs, params), exact
(1814073344, 11689512)
>>> [s.name for s in net.stages][:5]
['conv1', 'bn1', 'relu', 'maxpool', 'layer1']
>>> from convalgebra.symbols import H, W
>>> cost = net.count((H, W))
>>> cost.macs, cost.exact_when()
(36144*H*W + 512000, 'H and W are multiples of 32')

An operation the library does not know is kept in its place, by name, as *not counted*
(never as a silent 0), and ``strict=True`` refuses the model.
"""

from __future__ import annotations

import contextlib
import io
import operator
import warnings
from fractions import Fraction
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union, cast

from .blocks import AnyBlock, Graph, Node as GraphNode, Parallel, Residual, Scale, Series, iter_layers
from .errors import ConvAlgebraError, InvalidValueError, type_name
from .layers import (UPSAMPLING, Activation, AdaptivePool, BatchNorm, Conv, ConvTranspose, Elementwise, Held, Identity,
                     LayerNorm, LayerScale, Linear, Norm, Pad, Parameters, Pool, Shuffle, Slice, Traced, Uncounted,
                     Upsample, as_size)
from .networks import Network, Stage
from .symbols import shown

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["from_torch", "load_model", "require_torch", "Importer", "ImportNode", "ImportState"]

#: What to install for PyTorch models, as every message about it says.
TORCH_EXTRA = 'pip install "convalgebra[torch]"'


def require_torch(what: str, module: str = "torch") -> Any:
    """``module`` (torch, or torchvision) imported, or the library's error naming the extra
    to install when it is not there (``what`` is the feature that needs it).

    >>> require_torch("counting a PyTorch model", "a_module_that_is_not_there")
    Traceback (most recent call last):
    ...
    convalgebra.errors.ConvAlgebraError: counting a PyTorch model needs PyTorch (a_module_that_is_not_there is not installed): pip install "convalgebra[torch]"
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConvAlgebraError(f"{what} needs PyTorch ({module} is not installed): {TORCH_EXTRA}") from None


def from_torch(model: "torch.nn.Module", input_shape: Sequence[int] = (3, 224, 224), *, name: str = "",
               title: str = "", strict: bool = False) -> Network:
    """The network ``model`` is, traced on an input of ``input_shape`` ((C, H, W), or (1, C, H, W)).

    The trace runs on the meta device for a model there, else on fake tensors (no memory,
    no compute either way; the model may live on any device) in inference mode, and the model's training flags are restored
    after. Channel counts come from the trace; sizes are left to the library, so the network
    counts at any input size (or at symbols) its layers accept. A module called twice is
    counted at each call (its parameters once); parameters the forward pass never uses (an
    auxiliary classifier) are kept in a side stage ``unused``, so the parameters are torch's.

    >>> from_torch("resnet50")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: from_torch takes a torch.nn.Module, not str
    """
    torch = require_torch("from_torch")

    if not isinstance(model, torch.nn.Module):
        raise InvalidValueError(f"from_torch takes a torch.nn.Module, not {type_name(model)}")
    if not isinstance(strict, bool):
        raise InvalidValueError(f"strict = {shown(strict)}: expected True or False")
    shape = _input_shape(input_shape)
    graph, parameters = _trace(model, shape)
    importer = Importer(model, graph, shape, name or type(model).__name__, title or type(model).__name__, strict)
    if parameters is not None:  # torch.export's graph: parameters are placeholders, and one path was taken
        importer.parameters, importer.exported = parameters, True
        importer.domain = f"{shape[-2]} x {shape[-1]}"
    return importer.network()


def load_model(spec: str) -> "torch.nn.Module":
    """A model by ``torchvision:NAME`` (weights=None, built on the meta device), ``timm:NAME``
    (when timm is installed; on meta too), or ``FILE.py:FUNCTION`` (a builder of the user's:
    **that file is the user's code and runs**, as ``python FILE.py`` would run it).

    >>> load_model("torchvision:resnet5")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown torchvision model 'resnet5'; did you mean resnet50 or resnet152 or resnet34? (see 'torchvision.models.list_models()')
    >>> load_model("resnet50")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: model 'resnet50': expected torchvision:NAME, timm:NAME or FILE.py:FUNCTION
    """
    if not isinstance(spec, str):
        raise InvalidValueError(f"model {shown(spec)}: expected text, torchvision:NAME, timm:NAME or FILE.py:FUNCTION")
    torch = require_torch(f"model {spec!r}")

    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise InvalidValueError(f"model {spec!r}: expected torchvision:NAME, timm:NAME or FILE.py:FUNCTION")
    if kind == "torchvision":
        torchvision = require_torch(f"model {spec!r}", "torchvision")

        known = torchvision.models.list_models()  # classification, segmentation, detection, video
        if rest not in known:
            from .errors import unknown_name

            raise unknown_name("torchvision model", rest, {n: n for n in known}, "torchvision.models.list_models()")
        import inspect

        builder = torchvision.models.get_model_builder(rest)
        extra = {"weights_backbone": None} if "weights_backbone" in inspect.signature(builder).parameters else {}
        return _on_meta(lambda: torchvision.models.get_model(rest, weights=None, **extra))
    if kind == "timm":
        try:
            import timm
        except ImportError:
            raise InvalidValueError("timm:NAME needs timm installed (pip install timm)") from None
        if rest not in timm.list_models():
            from .errors import unknown_name

            raise unknown_name("timm model", rest, {n: n for n in timm.list_models()}, "timm.list_models()")
        return _on_meta(lambda: timm.create_model(rest, pretrained=False))
    if kind.endswith(".py"):
        import importlib.util
        import os

        if not os.path.isfile(kind):
            raise InvalidValueError(f"{kind}: no such file")
        spec_ = importlib.util.spec_from_file_location("_convalgebra_user_model", kind)
        assert spec_ is not None and spec_.loader is not None
        module = importlib.util.module_from_spec(spec_)
        try:
            spec_.loader.exec_module(module)  # the user's own code, run on purpose
        except Exception as error:
            raise InvalidValueError(f"{kind} fails to run: {_first_line(error)}") from None
        builder = getattr(module, rest, None)
        if not callable(builder):
            raise InvalidValueError(f"{kind} has no function {rest!r}")
        try:
            model = builder()
        except Exception as error:
            raise InvalidValueError(f"{kind}:{rest}() fails: {_first_line(error)}") from None
        if not isinstance(model, torch.nn.Module):
            raise InvalidValueError(f"{kind}:{rest}() returns a {type(model).__name__}, not a torch.nn.Module")
        return model
    raise InvalidValueError(f"model {spec!r}: expected torchvision:NAME, timm:NAME or FILE.py:FUNCTION")


def _on_meta(build: Any) -> "torch.nn.Module":
    """``build()`` with its parameters on the meta device (no memory, no initialization).

    RegNet computes its widths with torch at construction, which the meta device cannot
    answer (``.tolist()``); a model that fails so is built with those few tensors on the CPU."""
    import torch

    try:
        with torch.device("meta"):
            return build()
    except NotImplementedError:
        from torchvision.models.regnet import BlockParams

        original = BlockParams.from_init_params.__func__

        def widths_on_cpu(cls: Any, *args: Any, **kwargs: Any) -> Any:
            with torch.device("cpu"):
                return original(cls, *args, **kwargs)

        BlockParams.from_init_params = classmethod(widths_on_cpu)
        try:
            with torch.device("meta"):
                return build()
        finally:
            BlockParams.from_init_params = classmethod(original)


def _input_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """(C, H, W) from (C, H, W) or (1, C, H, W); (C, T, H, W) for a video model (1 x C x T x H x W).

    >>> _input_shape((1, 3, 224, 160)), _input_shape([3, 32, 32])
    ((3, 224, 160), (3, 32, 32))
    >>> _input_shape((3, 16, 112, 112))                      # a video model's: frames too
    (3, 16, 112, 112)
    >>> _input_shape((224, 224))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: input_shape (224, 224): expected (channels, height, width), or (channels, frames, height, width) for a video model
    """
    dims = tuple(shape)
    if len(dims) in (4, 5) and dims[0] == 1:  # a batch of one
        dims = dims[1:]
    if len(dims) == 3:
        return dims[0], dims[1], dims[2]
    if len(dims) not in (3, 4) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dims):
        raise InvalidValueError(f"input_shape {tuple(shape)!r}: expected (channels, height, width), or (channels,"
                                " frames, height, width) for a video model")
    return tuple(dims)


def _trace(model: "torch.nn.Module", shape: tuple[int, ...]) -> tuple[Any, Optional[dict[Any, Any]]]:
    """The model's graph, every node's output shape recorded (``tensor_meta``): traced by
    ``torch.fx`` (every size in the graph a rule of the input's), or where its forward has
    Python control flow, exported by ``torch.export`` at this size (the path the size takes),
    with the placeholders that stand for parameters and buffers (else None)."""
    import torch
    from torch import fx
    from torch._subclasses.fake_tensor import FakeTensorMode

    flags = {m: m.training for m in model.modules()}
    model.eval()
    try:
        on_meta = all(t.device.type == "meta" for t in (*model.parameters(), *model.buffers()))
        mode = None if on_meta else FakeTensorMode(allow_non_fake_inputs=True)  # meta is faster, fake works anywhere
        example = torch.empty(1, *shape, device="meta")
        if mode is not None:
            device = next((t.device for t in (*model.parameters(), *model.buffers())), torch.device("cpu"))
            example = mode.from_tensor(torch.empty(1, *shape, device=device))
        own = set(vars(model))
        try:
            tracer = _tracer()()
            traced = _Traced(model, tracer.trace(model))
        except Exception as error:  # torch.fx raises many kinds: TraceError, TypeError, NotImplementedError ...
            return _exported(model, shape, error)
        finally:  # the constants torch.fx stows on the model (a torch.tensor made in forward) kept here instead
            constants = {k: vars(model).pop(k) for k in set(vars(model)) - own}
        traced.constants = constants
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints the traceback it raises
                try:  # on meta: the model's own tensors read as meta tensors of their shapes (no copy of the model)
                    _shapes_only()(traced.root, traced.graph, constants=constants).propagate(
                        torch.empty(1, *shape, device="meta"))
                except Exception:
                    if mode is None:
                        raise
                    read = {n.target: traced.attribute(n.target) for n in traced.graph.nodes
                            if n.op in ("get_attr", "call_module")}
                    copied = fx.GraphModule(read, traced.graph, type(model).__name__)
                    _shapes_only()(copied, fake_mode=mode).propagate(example)  # a tensor made on the CPU in forward
        except Exception as error:
            raise InvalidValueError(f"{type(model).__name__} does not run on a 1 x {' x '.join(map(str, shape))}"
                                    f" input: {_first_line(error)}") from None
    finally:
        for module, training in flags.items():
            module.training = training
    return traced, None


class _Traced:
    """A graph traced by torch.fx and the module it reads (its ``get_attr`` and ``call_module``
    targets are the module's own): what a ``GraphModule`` holds, without copying the module tree
    and generating the graph's Python code, which took a fifth of an import."""

    def __init__(self, root: "torch.nn.Module", graph: Any) -> None:
        self.root, self.graph = root, graph
        self.constants: dict[str, Any] = {}

    def named_modules(self) -> Any:
        return self.root.named_modules()

    def attribute(self, target: str) -> Any:
        """What a ``get_attr`` node reads: a constant of the trace's, or the module's own tensor or module."""
        if target in self.constants:
            return self.constants[target]
        value: Any = self.root
        for part in target.split("."):
            value = getattr(value, part, None)
        return value


class _Meta:
    """A value's shape and dtype, all an import reads of it (torch.fx's ``TensorMetadata``
    computes strides and memory formats too: a tenth of a millisecond a node)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: Any, dtype: Any) -> None:
        self.shape, self.dtype = shape, dtype


def _exported(model: "torch.nn.Module", shape: tuple[int, ...], why: BaseException) -> tuple[Any, dict[Any, Any]]:
    """``torch.export`` (non-strict) of the model at this size on fake tensors: its ATen graph, each
    node's shape recorded as ``tensor_meta`` (a size read off a tensor as ``concrete``), and the
    placeholders that hold parameters and buffers, with the model's own tensors. A forward whose
    path depends on the values in a tensor is refused, naming the reason."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.passes.shape_prop import _extract_tensor_metadata

    fake = FakeTensorMode(allow_non_fake_inputs=True)
    device = next((t.device for t in (*model.parameters(), *model.buffers())), torch.device("cpu"))
    example = torch.empty(1, *shape, device="meta") if device.type == "meta" else \
        fake.from_tensor(torch.empty(1, *shape, device=device))
    import logging
    import re

    try:
        logging.disable(logging.WARNING)  # torch's loggers write to the stderr they were made with
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.export.export(model, (example,), strict=False)
    except Exception as error:  # an export's failures are of many kinds; the first line says which
        places = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', str(error).split("raised this error:")[-1])
        where = f" at {places[-1][0].rsplit('/', 1)[-1]}:{places[-1][1]} in {places[-1][2]}" if places else ""
        reason = f" (its forward branches on the values in a tensor{where}, which no count of costs can follow)" \
            if "data-dependent" in str(error) else ""
        raise InvalidValueError(f"{type(model).__name__} cannot be traced by torch.fx ({_first_line(why)}) nor"
                                f" exported by torch.export at 1 x {' x '.join(map(str, shape))}{reason}:"
                                f" {_first_line(error)}") from None
    finally:
        logging.disable(logging.NOTSET)
    graph = program.graph_module
    tensors = {**dict(model.named_parameters(remove_duplicate=False)),
               **dict(model.named_buffers(remove_duplicate=False))}
    targets = {spec.arg.name: spec.target for spec in program.graph_signature.input_specs
               if spec.target is not None and getattr(spec.arg, "name", None)}
    parameters: dict[Any, Any] = {}
    for node in graph.graph.nodes:
        value = node.meta.get("val")
        if node.op == "placeholder" and node.name in targets and targets[node.name] in tensors:
            parameters[node] = tensors[targets[node.name]]
        if isinstance(value, torch.Tensor):
            node.meta["tensor_meta"] = _extract_tensor_metadata(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
            node.meta["tensor_meta"] = tuple(_extract_tensor_metadata(v) for v in value)
        elif value is not None:
            node.meta["concrete"] = value
    return graph, parameters


@lru_cache(maxsize=None)
def _tracer() -> Any:
    """torch.fx's Tracer, but a parameter read in a forward (timm's BatchNormAct2d reads its
    weight and bias) found by a dictionary, not by a walk over all the model's parameters at
    every read (which made a trace of MobileOne take seconds)."""
    import torch
    from torch import fx

    plain = {int, float, bool, str, type(None)}

    class Tracer(fx.Tracer):
        def names(self) -> tuple[dict[int, str], dict[int, str]]:
            if not hasattr(self, "_tensor_names"):
                self._tensor_names = ({id(p): n for n, p in reversed(list(self.root.named_parameters()))},
                                      {id(b): n for n, b in reversed(list(self.root.named_buffers()))})
            return self._tensor_names

        def create_arg(self, a: Any) -> Any:
            kind = type(a)  # the commonest arguments first, as torch.fx would make them, without its dozen checks
            if kind is fx.Proxy:
                return a.node
            if kind in plain:
                return a
            if kind is tuple or kind is list:
                return kind(self.create_arg(x) for x in a)
            if isinstance(a, torch.Tensor):
                params, buffers = self.names()
                found = (params if isinstance(a, torch.nn.Parameter) else buffers).get(id(a))
                if found is not None:
                    return self.create_node("get_attr", found, (), {})
            return super().create_arg(a)

        def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
            if not isinstance(attr_val, torch.Tensor):
                return attr_val
            params, buffers = self.names()
            if isinstance(attr_val, torch.nn.Parameter):
                found = params.get(id(attr_val))
            else:
                found = buffers.get(id(attr_val)) if self.proxy_buffer_attributes else None
            if found is None:
                return attr_val
            if found not in parameter_proxy_cache:
                parameter_proxy_cache[found] = self.create_proxy("get_attr", found, (), {})
            return parameter_proxy_cache[found]

    return Tracer


@lru_cache(maxsize=None)
def _shapes_only() -> Any:
    """torch.fx's ShapeProp (a class), but shapes the library knows are not computed by running
    the operation: a module or function that keeps its input's shape (a norm, an activation,
    dropout) hands its input on; a convolution, an adaptive pool and a broadcast sum or product
    make an empty tensor of their output's shape. On the meta device batch norm and pooling run
    PyTorch's Python decompositions, most of a trace's time, for shapes known beforehand."""
    import torch
    from torch import fx, nn
    from torch.fx.node import map_aggregate
    from torch.fx.passes.shape_prop import ShapeProp
    from torch.nn import functional as F

    keep = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Hardswish,
            nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.Dropout, nn.Dropout2d, nn.Identity, nn.LeakyReLU, nn.ELU,
            nn.Mish, nn.Hardtanh)
    functions = {F.relu, F.relu6, F.gelu, F.silu, F.hardswish, F.hardsigmoid, F.layer_norm, F.batch_norm, F.dropout,
                 torch.relu, torch.sigmoid, F.leaky_relu, F.elu, F.mish, F.hardtanh, F.group_norm, torch.tanh}
    broadcast = {operator.add, operator.mul, operator.iadd, operator.imul, torch.add, torch.mul}

    def conv_shape(module: Any, x: Any) -> Optional[tuple[int, ...]]:
        if x.dim() != 4 or isinstance(module.padding, str) or module.padding_mode != "zeros":
            return None
        sides = []
        for size, k, s, p, d in zip(x.shape[2:], module.kernel_size, module.stride, module.padding, module.dilation):
            sides.append((size + 2 * p - d * (k - 1) - 1) // s + 1)
        return (x.shape[0], module.out_channels, *sides) if min(sides) >= 1 and x.shape[1] == module.in_channels \
            else None

    def cat_shape(tensors: Any, dim: Any) -> Optional[tuple[int, ...]]:
        """The shape of a concatenation of tensors that agree but along ``dim`` (DenseNet's, VoVNet's)."""
        if not isinstance(tensors, (list, tuple)) or not tensors or not isinstance(dim, int) or \
                not all(isinstance(t, torch.Tensor) and t.dim() == tensors[0].dim() >= 1 and t.dtype == tensors[0].dtype
                        for t in tensors) or not -tensors[0].dim() <= dim < tensors[0].dim():
            return None
        dim %= tensors[0].dim()
        first = list(tensors[0].shape)
        if any(list(t.shape[:dim]) + list(t.shape[dim + 1:]) != first[:dim] + first[dim + 1:] for t in tensors[1:]):
            return None
        return (*first[:dim], sum(t.shape[dim] for t in tensors), *first[dim + 1:])

    def mean_shape(x: Any, dims: Any, keepdim: Any) -> Optional[tuple[int, ...]]:
        """The shape of ``x.mean(dims, keepdim)`` over whole dimensions of a floating-point tensor."""
        dims = (dims,) if isinstance(dims, int) else dims
        if not x.is_floating_point() or not isinstance(keepdim, bool) or not isinstance(dims, (list, tuple)) or \
                not dims or not all(isinstance(d, int) and -x.dim() <= d < x.dim() for d in dims):
            return None
        gone = {d % x.dim() for d in dims}
        if len(gone) != len(dims):
            return None
        return tuple(1 if i in gone else n for i, n in enumerate(x.shape) if keepdim or i not in gone)

    def light(value: Any) -> Any:
        return _Meta(value.shape, value.dtype) if isinstance(value, torch.Tensor) else value

    class ShapesOnly(ShapeProp):
        def __init__(self, module: Any, graph: Any = None, fake_mode: Any = None,
                     constants: Optional[dict[str, Any]] = None) -> None:
            self.constants = constants or {}
            if graph is None:  # a GraphModule, on fake tensors: ShapeProp's own way
                super().__init__(module, fake_mode=fake_mode)
                return
            fx.Interpreter.__init__(self, module, graph=graph)  # the model's own modules (no GraphModule made)
            self.fake_module = self.fake_mode = None
            self.real_module = module

        def on_meta(self, value: Any) -> Any:
            """A parameter or buffer as a meta tensor of its shape (once each): the model is not copied."""
            if not isinstance(value, torch.Tensor) or value.device.type == "meta" or self.fake_mode is not None:
                return value
            cache = self.__dict__.setdefault("_meta", {})
            if id(value) not in cache:
                cache[id(value)] = value.to("meta")
            return cache[id(value)]

        def fetch_attr(self, target: str) -> Any:
            if target in self.constants:
                return self.on_meta(self.constants[target])
            return self.on_meta(super().fetch_attr(target))

        def run_node(self, n: Any) -> Any:
            if self.fake_mode is not None:
                result = super().run_node(n)
            else:  # the shape and dtype recorded, as ShapeProp's tensor_meta holds them (no strides)
                try:
                    result = fx.Interpreter.run_node(self, n)
                except Exception as error:
                    raise RuntimeError(f"ShapeProp error for: node={n.format_node()}") from error
                meta = map_aggregate(result, light)
                if isinstance(result, torch.Tensor) or any(isinstance(m, _Meta) for m in _flat(meta)):
                    n.meta["tensor_meta"] = meta
            if not isinstance(result, torch.Tensor) and "tensor_meta" not in n.meta:
                n.meta["concrete"] = result  # a size or a number read off a tensor, which an op counted at the trace reads
            return result

        def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
            module = self.fetch_attr(target)
            if len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor):
                x = args[0]
                if type(module) in keep:
                    return x
                shape = conv_shape(module, x) if type(module) is nn.Conv2d else None
                if type(module) is nn.AdaptiveAvgPool2d and x.dim() == 4 and isinstance(module.output_size, int):
                    shape = (*x.shape[:2], module.output_size, module.output_size)
                if type(module) is nn.Linear and x.dim() >= 1 and x.shape[-1] == module.in_features:
                    shape = (*x.shape[:-1], module.out_features)
                if shape is not None:
                    return x.new_empty(shape)
            tensors = [*module.named_parameters(), *module.named_buffers()]
            if self.fake_mode is None and any(t.device.type != "meta" for _, t in tensors):
                return torch.func.functional_call(module, {n: self.on_meta(t) for n, t in tensors}, tuple(args), kwargs)
            return super().call_module(target, args, kwargs)

        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            if target in functions and args and isinstance(args[0], torch.Tensor):
                return args[0]
            if target in broadcast and len(args) == 2 and not kwargs and \
                    all(isinstance(a, torch.Tensor) for a in args):
                shape = torch.broadcast_shapes(args[0].shape, args[1].shape)
                return next((a for a in args if a.shape == shape), None) if any(a.shape == shape for a in args) \
                    else super().call_function(target, args, kwargs)
            if target is torch.cat and args and set(kwargs) <= {"dim"}:
                shape = cat_shape(args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0))
                if shape is not None:
                    return args[0][0].new_empty(shape)
            return super().call_function(target, args, kwargs)

        def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
            if target == "mean" and len(args) in (2, 3) and isinstance(args[0], torch.Tensor) and \
                    set(kwargs) <= {"keepdim"}:
                shape = mean_shape(args[0], args[1], args[2] if len(args) > 2 else kwargs.get("keepdim", False))
                if shape is not None:
                    return args[0].new_empty(shape)
            return super().call_method(target, args, kwargs)

    return ShapesOnly


def _flat(value: Any) -> list[Any]:
    """The items of nested tuples, lists and dicts."""
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def _first_line(error: BaseException) -> str:
    if str(error).startswith("ShapeProp error for") and error.__cause__ is not None:
        error = error.__cause__  # what the op itself said, not the node ShapeProp wraps it in
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


@dataclass
class ImportState:
    """What a value in the graph is, as the library sees it: a feature map (NCHW), the same
    channels-last (NHWC, ConvNeXt's linear layers), a map flattened to a vector (from
    ``channels`` x ``size``), a map viewed as groups or transposed groups (a channel shuffle
    half done), or the pieces of a chunk or split along the channels."""

    kind: str
    channels: int
    size: Any = 1
    groups: int = 1
    bounds: tuple[int, ...] = ()


@dataclass
class ImportNode:
    """A node of the data flow: its inputs (data nodes only), its layer (or None: it passes
    its input on), its state, and its owners (torch's module path, top-level child first)."""

    node: Any
    inputs: list[Any]
    state: ImportState
    layer: Optional[AnyBlock] = None
    owner: str = ""
    params: set[int] = field(default_factory=set)
    join: str = ""
    size: Any = None
    channels: Any = None


class _NotSeriesParallel(Exception):
    """A piece of the graph is no nesting of series and parallel blocks: it is built as a graph."""


def _labelled(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """The fx nodes in a model's output with their keys where the container is a dict
    (``out``, ``aux``; a backbone's levels ``0`` to ``3`` and ``pool``)."""
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _labelled(v, path)]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _labelled(v, f"{path}.{k}" if path else str(k))]
    return [(path, value)] if hasattr(value, "op") else []


def _leaves(value: Any) -> list[Any]:
    """The fx nodes in a model's output, whatever its container (a tensor, a tuple, a list, a dict)."""
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    return [value] if hasattr(value, "op") else []


_ACTIVATION_NAMES = {"relu": "relu", "relu_": "relu", "relu6": "relu6", "gelu": "gelu", "silu": "silu",
                     "silu_": "silu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "hardswish": "hardswish",
                     "hardsigmoid": "hardsigmoid", "tanh": "tanh", "hardswish_": "hardswish",
                     "hardsigmoid_": "hardsigmoid"}
#: Operations that pass their input on unchanged at inference.
_PASS = {"stochastic_depth", "dropout", "dropout2d", "contiguous", "clone", "detach", "alpha_dropout", "feature_alpha_dropout", "to",
         "float", "type_as"}
_ADD = {"add", "add_", "iadd", "sub", "sub_", "isub"}
#: Ops FlopCounterMode has no formula for (views, elementwise ops, reductions, joins): 0 MACs, not run to say so.
_NO_MACS = {"view", "reshape", "permute", "transpose", "flatten", "unflatten", "contiguous", "expand", "expand_as",
            "squeeze", "unsqueeze", "getitem", "cat", "stack", "split", "chunk", "unbind", "softmax", "log_softmax",
            "add", "sub", "mul", "div", "truediv", "iadd", "imul", "neg", "pow", "sqrt", "rsqrt", "exp", "sin", "cos",
            "mean", "sum", "amax", "max", "normalize", "layer_norm", "gelu", "relu", "silu", "sigmoid", "tanh",
            "to", "clone", "masked_fill", "roll", "pad", "repeat", "type_as", "float", "clamp", "abs", "erf"}
#: Ops FlopCounterMode counts multiply-accumulates for: run on parameters alone, they still count.
_MULTIPLYING = {"matmul", "mm", "bmm", "addmm", "baddbmm", "einsum", "linear", "conv1d", "conv2d", "conv3d",
                "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "scaled_dot_product_attention",
                "convolution", "_convolution", "__matmul__"}
_MUL = {"mul", "mul_", "imul", "truediv", "div", "div_", "itruediv"}


class Importer:
    """One import: the graph read node by node, then its forks and joins built into blocks.

    The ONNX front end (:mod:`convalgebra.onnx_import`) subclasses it for the graph building
    (forks, joins, series-parallel pieces and the rest as a :class:`~convalgebra.blocks.Graph`),
    and reads its own nodes."""

    def __init__(self, model: Any, traced: Any, shape: tuple[int, ...], name: str, title: str,
                 strict: bool) -> None:
        self.model, self.traced, self.shape, self.name, self.title, self.strict = model, traced, shape, name, title, strict
        self.modules = dict(traced.named_modules())
        self.nodes: dict[Any, ImportNode] = {}
        self.names: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self.reused: set[str] = set()
        self.accounted: set[int] = set()
        self.emitted: dict[int, int] = {}
        self.origins: dict[str, tuple[str, int]] = {}
        self.joins: list[str] = []
        self.visits = _visits(model)
        self.parameters: dict[Any, Any] = {}  # torch.export's placeholders that are parameters or buffers
        self.parameter_ids = {id(p) for p in model.parameters()}
        self.exported = False
        self.unused: set[str] = set()
        self.domain = ""
        self.join_names: dict[Any, tuple[str, str]] = {}
        self.visited: dict[Any, int] = {}

    # -- reading the graph -------------------------------------------------------
    def network(self) -> Network:
        graph = self.traced.graph
        placeholders = [n for n in graph.nodes if n.op == "placeholder" and n not in self.parameters]
        output = next(n for n in graph.nodes if n.op == "output")
        source = placeholders[0]
        self.nodes[source] = ImportNode(source, [], ImportState("map", self.shape[0]), size=as_size(self.shape[-2], self.shape[-1]),
                                   channels=self.shape[0])
        for node in graph.nodes:
            if node.op in ("placeholder", "output", "get_attr") or node in self.nodes:
                continue
            inputs = [x for x in node.all_input_nodes if x in self.nodes]
            if not inputs and hasattr(node.meta.get("tensor_meta"), "shape"):
                shaped = self._data_behind(list(node.all_input_nodes))  # a tensor made from a size read off the data
                inputs = [shaped] if shaped is not None else []       # (a positional encoding): it runs, it counts
                if not inputs and node.op != "call_module" and self._op(node) in _MULTIPLYING:
                    inputs = [source]  # a product of parameters (a low-rank weight): torch runs it at every forward
            if not inputs or "tensor_meta" not in node.meta:
                continue  # a constant (weights computed from parameters), or a size read off a tensor
            item = self._read(node, inputs)
            self.nodes[node] = item
            item.size = self._flowed(item)
            self._verify(item)
        labels = {n: label for label, n in reversed(_labelled(output.args[0])) if n in self.nodes}
        outputs = list(dict.fromkeys(n for n in _leaves(output.args[0]) if n in self.nodes))
        if not outputs:
            raise InvalidValueError(f"{self.name}: the model returns no tensor computed from its input")
        self.outputs = outputs
        self._dominators(source)
        items = self._segments(source, outputs)
        stages = self._stages(items)
        held = self._held(self.nodes[outputs[0]].state.channels)
        if held is not None:
            stages.append(held)
        via = "torch.export" if self.exported else "torch.fx"
        net = Network(self.name, self.title, tuple(stages), source=f"imported from PyTorch ({type(self.model).__name__},"
                      f" traced by {via})", default_size=as_size(self.shape[-2], self.shape[-1]),
                      in_channels=self.shape[0], reused=frozenset(self.reused), imported=True, parts=self._parts(),
                      origins=tuple((name, op, visits) for name, (op, visits) in self.origins.items()),
                      joins=tuple(dict.fromkeys(self.joins)), unused=frozenset(self.unused),
                      outputs=tuple(labels.get(n) or self._value_name(n) for n in outputs), domain=self.domain)
        uncounted = [layer for stage in net.stages for layer in iter_layers(stage.block) if isinstance(layer, Uncounted)]
        if self.strict and uncounted:
            listed = "; ".join(f"{layer.name} ({layer.op})" for layer in uncounted)
            raise InvalidValueError(f"{self.name}: {len(uncounted)} operation(s) the library does not count: {listed};"
                                    " strict refuses the model")
        return net

    def _flowed(self, item: "ImportNode") -> Any:
        """The size the library's own arithmetic gives this value at the traced input (what a
        layer counted at the traced size only checks it is given)."""
        from .blocks import Join
        from .cost import agree, output_of

        from .blocks import out_channels

        ins = [self.nodes[x].size for x in item.inputs]
        try:
            size = agree(Join(item.join), ins[0], ins) if len(ins) > 1 and item.join else ins[0]
            channels = self._joined_channels(item.join, [self.nodes[x].channels for x in item.inputs])
            item.channels = out_channels(item.layer, channels) if item.layer is not None else channels
            return output_of(item.layer, size) if item.layer is not None else size
        except InvalidValueError as error:
            raise InvalidValueError(f"{self.name}: {self._value_name(item.node)}: {error}") from None

    def _verify(self, item: "ImportNode") -> None:
        """A layer that multiplies (a convolution, a linear layer) counts at the traced size what
        FlopCounterMode counts for the op there, and makes the shape torch made; where the
        library's reading differs, the op is counted as torch counts it at the traced shapes (a
        :class:`~convalgebra.layers.Traced` layer): never a wrong number."""
        from .cost import layer_costs

        layer = item.layer
        if layer is None or not any(isinstance(x, (Conv, Linear, ConvTranspose)) for x in iter_layers(layer)):
            return
        node = item.node
        meta = node.meta["tensor_meta"]
        out = tuple(meta.shape)
        ins = [self.nodes[x].size for x in item.inputs]
        rows, made = layer_costs(layer, ins[0])
        mine = sum(r.macs for r in rows)
        shape_ok = True
        if item.state.kind == "map" and len(out) == 4:
            shape_ok = item.channels == out[1] and made == as_size(out[2], out[3])
        elif item.state.kind == "nhwc" and len(out) == 4:
            shape_ok = item.channels == out[3] and made == as_size(out[1], out[2])
        op, name = self._op(node), getattr(next(iter_layers(layer)), "name", "")
        first = self.nodes[item.inputs[0]]
        real: tuple[int, ...] = tuple(getattr(first.node.meta.get("tensor_meta"), "shape", ()))
        convolutions = all(isinstance(x, (Conv, ConvTranspose, Parameters)) for x in iter_layers(layer))
        if shape_ok and convolutions and first.state.kind == "map" and len(real) == 4 and \
                (first.channels, first.size) == (real[1], as_size(real[2], real[3])):
            return  # a convolution between the shapes torch gives: its MACs are torch's by the same formula
        if shape_ok and mine == self._traced_macs(node, name, op):
            return
        held = int(sum(x.params() for x in iter_layers(layer)))
        self.current = (node, item.inputs[:1])
        self.src = tuple(first.node.meta["tensor_meta"].shape) if hasattr(first.node.meta["tensor_meta"], "shape") else ()
        item.layer = self._unknown(op if op != "module" else type(self.modules[str(node.target)]).__name__,
                                   first.state, out, name, held)
        item.state = self.after if isinstance(item.layer, Traced) else item.state
        item.size = self._flowed(item)

    @staticmethod
    def _joined_channels(join: str, channels: list[Any]) -> Any:
        if len(channels) == 1 or not join or join == "resize":
            return channels[0]
        if join == "concat":
            return sum(channels)
        wide = [c for c in channels if c != 1]
        if any(c != wide[0] for c in wide[1:]):
            raise InvalidValueError(f"a {join} of {', '.join(map(str, channels))} channels")
        return wide[0] if wide else 1

    def _value_name(self, node: Any) -> str:
        """A value by the layer that makes it (or torch's node name)."""
        while node in self.nodes and self.nodes[node].layer is None and len(self.nodes[node].inputs) == 1:
            node = self.nodes[node].inputs[0]
        layer = self.nodes[node].layer if node in self.nodes else None
        return getattr(layer, "name", "") or ("input" if not self.nodes[node].inputs else node.name)

    # -- the graph in pieces: series where it is cut, each piece a block or a graph ----------
    def _segments(self, source: Any, outputs: list[Any]) -> list[AnyBlock]:
        """The data nodes cut where the graph narrows to one value (no edge passes over the
        node); each piece between two cuts built as nested series and parallel blocks where it
        is series-parallel, else as a :class:`~convalgebra.blocks.Graph`. A value no output reads
        is counted in its piece's graph, and marked unused."""
        order = list(self.nodes)
        position = {n: i for i, n in enumerate(order)}
        end = len(order)
        reach = {n: position[n] for n in order}
        for n in order:
            for x in self.nodes[n].inputs:
                reach[x] = max(reach[x], position[n])
        for n in outputs:
            reach[n] = end
        live = set(outputs)
        for n in reversed(order):
            if n in live:
                live.update(self.nodes[n].inputs)
        cuts, furthest = [], 0
        for i, n in enumerate(order):
            if furthest <= i and n in live:
                cuts.append(n)
            furthest = max(furthest, reach[n])
        items: list[AnyBlock] = []
        for a, b in zip(cuts, cuts[1:]):
            inside = order[position[a] + 1:position[b] + 1]
            items += self._piece(a, inside, [b], live)
        rest = order[position[cuts[-1]] + 1:]
        if rest or outputs != [cuts[-1]]:
            items += self._piece(cuts[-1], rest, outputs, live)
        return items

    def _piece(self, src: Any, inside: list[Any], outputs: list[Any], live: set[Any]) -> list[AnyBlock]:
        if len(outputs) == 1 and outputs[0] in inside and all(n in live for n in inside):
            self.visited = {}
            try:
                items = self._build(src, outputs[0])
            except _NotSeriesParallel:
                items = None
            if items is not None and all(self.visited.get(n) == 1 for n in inside):
                return items
        self.emitted = {}
        return [self._graph(src, inside, outputs, live)]

    def _graph(self, src: Any, inside: list[Any], outputs: list[Any], live: set[Any]) -> Graph:
        value = {src: 0}
        nodes: list[GraphNode] = []
        for n in inside:
            item = self.nodes[n]
            ins = [value[x] for x in item.inputs]
            if len(ins) == 1 and item.layer is None:
                value[n] = ins[0]
                continue
            block: AnyBlock
            join = ""
            if len(ins) > 1:
                join = item.join or ""
                name, _ = self._name_for(n)
                block = item.layer if item.layer is not None else Identity(item.state.channels, name=name)
                if not join:  # an op of several values the library does not join: it reads the first
                    ins = ins[:1]
            else:
                block = cast(AnyBlock, item.layer)
            unused = n not in live
            if unused:
                self.unused.update(layer.name for layer in iter_layers(block))
            nodes.append(GraphNode(block, tuple(ins), join, unused))
            value[n] = len(nodes)
        return Graph(*nodes, outputs=tuple(value[o] for o in outputs))

    def _name_for(self, node: Any) -> tuple[str, str]:
        if node not in self.join_names:
            self.join_names[node] = self._name(node)
        return self.join_names[node]

    def _meta(self, node: Any) -> Any:
        return node.meta["tensor_meta"]

    def _shape(self, node: Any) -> tuple[int, ...]:
        return tuple(self._meta(node).shape)

    def _name(self, node: Any) -> tuple[str, str]:
        """The layer's name (torch's qualified module name; a function's module path and op)
        and its top-level owner."""
        stack = list((node.meta.get("nn_module_stack") or {}).values())
        path = stack[-1][0] if stack else ""
        if node.op == "call_module":
            base = str(node.target)
        else:
            op = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
            base = f"{path}.{op}" if path else str(op)
        seen = self.names.get(base, 0) + 1
        self.names[base] = seen
        shown = base if seen == 1 else (f"{base} (call {seen})" if node.op == "call_module" else f"{base}_{seen}")
        owner = str(node.target).split(".")[0] if node.op == "call_module" else (path.split(".")[0] if path else "")
        return shown, owner

    def _read(self, node: Any, inputs: list[Any]) -> ImportNode:
        """The data node for ``node``: its layer and its output state."""
        name, owner = self._name(node)
        item = ImportNode(node, inputs, ImportState("map", 0), owner=owner)
        meta = node.meta["tensor_meta"]
        if not hasattr(meta, "shape"):  # chunk, split: a tuple of pieces along a dimension
            item.state = self._pieces(node, inputs, name)
            if item.state.kind == "tuple":  # several results (attention's output and weights): counted as torch counts
                op = self._op(node) if node.op != "call_module" else type(self.modules[str(node.target)]).__name__
                self.current = (node, inputs)
                macs = self._traced_macs(node, name, op)
                held = self._claim(*[a for a in _leaves((node.args, node.kwargs)) if a not in self.nodes])
                if node.op == "call_module":
                    fresh = [p for p in self.modules[str(node.target)].parameters() if id(p) not in self.accounted]
                    held += sum(p.numel() for p in fresh)
                    self.accounted |= {id(p) for p in fresh}
                if macs or held:
                    at, channels = self.nodes[inputs[0]].size, self.nodes[inputs[0]].channels
                    item.layer = Traced(channels, op, channels, macs, at, at, held, name,
                                        tuple(getattr(meta[0], "shape", (0,))[1:]))
                    item.state = ImportState("tuple", channels)
                    self.origins.setdefault(name, self._origin(node))
            return item
        out = tuple(meta.shape)
        op = self._op(node)
        if op == "cat" and len(inputs) > 1:
            item.inputs = self._cat_inputs(node, inputs)
        state = self.nodes[inputs[0]].state
        self.current = (node, inputs)
        first = self.nodes[inputs[0]].node.meta["tensor_meta"]
        self.src = tuple(first.shape) if hasattr(first, "shape") else ()
        layer, new = self._layer(node, op, inputs, state, out, name, item)
        last = list(iter_layers(layer))[-1:] if layer is not None else []
        if last and isinstance(last[0], Traced):
            new = self.after
        item.layer, item.state = layer, new
        origin = self._origin(node)
        if len(item.inputs) > 1:
            self.joins.append(origin[0])
            item.join = item.join or self._join_kind(node, op, item.inputs)
            self.join_names[node] = (name, item.owner)
        for part in iter_layers(layer) if layer is not None else ():
            self.origins.setdefault(part.name, origin)
        if node.op == "call_module" and "." in str(node.target):  # a module that ptflops hooks whole, children unseen
            parent = str(node.target).rsplit(".", 1)[0]
            self.originals = getattr(self, "originals", None) or dict(self.model.named_modules())
            kind = type(self.originals.get(parent))
            if f"{kind.__module__}.{kind.__qualname__}" in _HOOKED_WHOLE:
                self.origins.setdefault(parent, (f"{kind.__module__}.{kind.__qualname__}", 1))
        return item

    def _join_kind(self, node: Any, op: str, inputs: list[Any]) -> str:
        """How a node of several data inputs joins them, if the library knows: a sum or a
        difference, a product or a quotient (broadcasting), a concatenation along the channels."""
        from .blocks import Join
        from .cost import agree

        kinds = {self.nodes[x].state.kind for x in inputs}
        kind = ""
        if op in _ADD and len(inputs) == 2:
            kind = "add"
        elif op in _MUL and len(inputs) == 2:
            kind = "multiply"
        elif op == "cat" and self._dim(node, 0) in (1, -3) and kinds == {"map"}:
            kind = "concat"
        if kind and not kinds <= {"map", "nhwc", "flat"}:
            kind = ""
        if kind:  # the library's own sizes and channels must join as torch's do, else it is counted at the trace
            try:
                agree(Join(kind), self.nodes[inputs[0]].size, [self.nodes[x].size for x in inputs])
                self._joined_channels(kind, [self.nodes[x].channels for x in inputs])
            except InvalidValueError:
                kind = ""
        return kind

    def _origin(self, node: Any) -> tuple[str, int]:
        """What torch ran for a node, as the peers' counters see it: a module's exact class
        (``torch.nn.modules.conv.Conv2d``; with how it was called where that decides what torch
        runs: ``nn.MultiheadAttention(heads=12, tokens=197, need_weights=False, ...)``, and a
        linear layer inside timm's ``Attention``, which ptflops hooks as a whole, says so) and the
        number of places the module tree holds it,
        or a function (``torch.nn.functional.relu``, ``_operator.add``) or a method (``Tensor.mean``)."""
        if node.op == "call_module":
            module = self.modules[str(node.target)]
            cls = type(module)
            return f"{cls.__module__}.{cls.__qualname__}{_call(node, module)}", self.visits.get(id(module), 1)
        if node.op == "call_method":
            return f"Tensor.{node.target}", 1
        target = node.target
        functional = _functional_names().get(id(target))
        if functional is not None:  # F.avg_pool2d is torch._C._nn.avg_pool2d: named as the user wrote it
            return f"torch.nn.functional.{functional}", 1
        return f"{getattr(target, '__module__', None) or 'torch'}.{getattr(target, '__name__', str(target))}", 1

    def _op(self, node: Any) -> str:
        if node.op == "call_module":
            return "module"
        target = node.target
        packet = getattr(target, "_overloadpacket", None)
        if packet is not None:  # torch.export's ATen op: aten.conv2d.default is conv2d, aten.relu_.default relu_
            return str(getattr(packet, "__name__", target)).split(".")[-1]
        return target if isinstance(target, str) else getattr(target, "__name__", str(target))

    def _pieces(self, node: Any, inputs: list[Any], name: str) -> ImportState:
        state = self.nodes[inputs[0]].state
        dim = self._dim(node, 1 if self._op(node) in ("chunk", "split", "tensor_split", "split_with_sizes") else 0)
        shapes = [tuple(m.shape) if hasattr(m, "shape") else () for m in node.meta["tensor_meta"]]
        if () in shapes or state.kind != "map" or dim not in (1, -3) or \
                self._op(node) not in ("chunk", "split", "tensor_split", "unbind", "split_with_sizes"):
            return ImportState("tuple", state.channels)  # its pieces are read by getitem, each counted at the traced size
        bounds = [0]
        for s in shapes:
            bounds.append(bounds[-1] + s[1])
        return ImportState("pieces", state.channels, bounds=tuple(bounds))

    def _dim(self, node: Any, position: int) -> Any:
        if "dim" in node.kwargs:
            return node.kwargs["dim"]
        args = node.args
        return args[position + 1] if len(args) > position + 1 else 0

    def _cat_inputs(self, node: Any, inputs: list[Any]) -> list[Any]:
        """A concatenation's inputs, with a prefix that an earlier concatenation already joined
        replaced by that one (DenseNet concatenates all earlier features at each layer: so
        every layer's input is the last one's, plus its new channels)."""
        listed = [x for x in (node.args[0] if node.args else node.kwargs.get("tensors", [])) if x in self.nodes]
        key = tuple(listed)
        self._cats = getattr(self, "_cats", {})
        self._cats[key] = node
        for k in range(len(listed) - 1, 1, -1):
            earlier = self._cats.get(tuple(listed[:k]))
            if earlier is not None and earlier is not node:
                return [earlier, *listed[k:]]
        return listed

    # -- one node, one layer ------------------------------------------------------
    def _layer(self, node: Any, op: str, inputs: list[Any], state: ImportState, out: tuple[int, ...], name: str,
               item: ImportNode) -> tuple[Optional[AnyBlock], ImportState]:
        from torch import nn

        channels = state.channels
        keep = ImportState(state.kind, channels, state.size)
        if node.op == "call_module":
            module = self.modules[node.target]
            layer = self._module_layer(module, state, out, name)
            fresh = [p for p in module.parameters() if id(p) not in self.accounted]
            count = self.calls.get(str(node.target), 0) + 1
            self.calls[str(node.target)] = count
            if count > 1 and any(True for _ in module.parameters()):
                self.reused.add(name)
            elif layer is not None and not isinstance(layer, (Uncounted, Traced)):
                layer = self._with_parameters(layer, sum(p.numel() for p in fresh), name, self._channels(out, state))
            if isinstance(layer, (Uncounted, Traced)) and count == 1:
                layer = replace(layer, held=sum(p.numel() for p in fresh))
            self.accounted |= {id(p) for p in fresh}
            if layer is None:  # dropout, identity, flatten: the value passes on
                return None, self._after(module, state, out) if isinstance(module, nn.Flatten) else keep
            return layer, self._after(module, state, out)
        # functions and methods
        if len(inputs) > 1:
            if self._join_kind(node, op, inputs):
                return self._join(op, node, inputs, state, out, name)
            return self._unknown(op, state, out, name), state  # matmul, attention: counted as torch counts them
        if op in _PASS or (op == "cat" and out == self.src):  # a concatenation of one tensor
            return None, keep
        if op in _ACTIVATION_NAMES:
            return Activation(channels, _ACTIVATION_NAMES[op], name=name), keep
        if op in ("hardtanh", "hardtanh_") and self._args(node)[1:3] == [0.0, 6.0]:
            return Activation(channels, "relu6", name=name), keep
        if op in ("flatten", "view", "reshape", "squeeze", "permute", "transpose", "unsqueeze", "mean",
                  "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d"):
            return self._reshape(node, op, state, out, name)
        if op == "getitem":
            return self._getitem(node, state, out, name)
        if op in _ADD | _MUL:
            return self._constant_operand(node, op, state, out, name, item)
        if op == "layer_norm" and state.kind in ("nhwc", "flat"):
            return self._functional_norm(node, state, out, name, item)
        handler = _FUNCTIONS.get(op)
        if handler is not None:
            made = handler(self, node, state, out, name, item)
            if made is not None:
                return made
        return self._unknown(op, state, out, name), ImportState(state.kind, self._channels(out, state), state.size)

    # -- what a function's arguments hold: parameters, shapes, the data a size is read off -------
    def _value(self, arg: Any) -> Any:
        """The tensor a graph node holds when it is a parameter or buffer (a get_attr, or
        torch.export's placeholder for one); None otherwise."""
        if not hasattr(arg, "op"):
            return None
        if arg.op == "get_attr":
            return self._attribute(arg.target)
        return self.parameters.get(arg)

    def _arg_shape(self, arg: Any) -> Optional[tuple[int, ...]]:
        meta = getattr(arg, "meta", {}).get("tensor_meta") if hasattr(arg, "meta") else None
        if meta is not None and hasattr(meta, "shape"):
            return tuple(meta.shape)
        value = self._value(arg)
        return tuple(value.shape) if value is not None else None

    def _claim(self, *args: Any) -> int:
        """The parameters behind ``args`` (held directly, or computed from: NFNet's standardized
        weights) not yet counted: marked counted, their number returned."""
        held, seen, todo = 0, set(), [a for a in args if hasattr(a, "op")]
        while todo:
            arg = todo.pop()
            if arg in seen or arg in self.nodes or not hasattr(arg.meta.get("tensor_meta"), "shape"):
                continue  # a value, not a parameter read for its dtype or its shape
            seen.add(arg)
            value = self._value(arg)
            if value is not None and id(value) not in self.accounted and self._is_parameter(value):
                self.accounted.add(id(value))
                held += value.numel()
            todo += list(arg.all_input_nodes)
        return held

    def _is_parameter(self, value: Any) -> bool:
        return id(value) in self.parameter_ids

    def _data_behind(self, arg: Any) -> Any:
        """The data node whose shape a size argument is read from (``x.shape[-2:]``), or None."""
        todo, seen = [a for a in _leaves(arg)], set()
        while todo:
            node = todo.pop(0)
            if node in seen:
                continue
            seen.add(node)
            if node in self.nodes:
                return node
            todo += list(node.all_input_nodes)
        return None

    def _with_parameters(self, layer: AnyBlock, held: int, name: str, channels: int) -> AnyBlock:
        """``layer`` and, after it, the parameters its op holds beyond what its shape says."""
        own = getattr(layer, "params")()
        if held == own:
            return layer
        if held > own:
            return Series(layer, Parameters(channels, held - own, f"{name}.parameters"))
        return Uncounted(channels, f"{name.rsplit('.', 1)[-1]} with weights computed from the input",
                         out=getattr(layer, "out_channels"), held=held, name=name)

    def _args(self, node: Any) -> list[Any]:
        return list(node.args)

    def _channels(self, out: tuple[int, ...], state: ImportState) -> int:
        if state.kind == "nhwc":
            return out[-1]
        return out[1] if len(out) > 1 else state.channels

    def _unknown(self, op: str, state: ImportState, out: tuple[int, ...], name: str, held: int = 0) -> Any:
        """An operation the library has no size rule for. One that keeps a map's (or a flat
        value's) shape and that PyTorch counts no MACs for is kept, by name, as not counted
        (an unknown elementwise function); any other is counted as PyTorch counts it at the
        traced shapes (FlopCounterMode's formula for the op), its output size the trace's: a
        :class:`~convalgebra.layers.Traced` layer, exact at the traced size only."""
        node, inputs = self.current
        macs = self._traced_macs(node, name, op)
        held += self._claim(*[a for a in _leaves((node.args, node.kwargs)) if a not in self.nodes])
        src = self.src
        keeps = (state.kind == "map" and len(out) == 4 and len(src) == 4 and out[2:] == src[2:]) or \
            (state.kind == "nhwc" and len(out) == 4 and len(src) == 4 and out[1:3] == src[1:3]) or \
            (state.kind == "flat" and len(out) == 2)
        channels = self.nodes[inputs[0]].channels
        if keeps and macs == 0:
            return Uncounted(channels, op, out=self._channels(out, state), held=held, name=name)
        at = self.nodes[inputs[0]].size
        made: Any = at
        if len(out) == 4 and state.kind != "nhwc":
            made = as_size(out[2], out[3])
            self.after = ImportState("map", out[1])
        elif len(out) == 2:
            made, self.after = 1, ImportState("flat", out[1], 1)
        else:
            self.after = ImportState("other", out[1] if len(out) > 1 else 1)
        if state.kind == "nhwc" and len(out) == 4:
            self.after = ImportState("nhwc", out[-1])
        return Traced(channels, op, self.after.channels, macs, at, made, held, name, tuple(out[1:]))

    def _traced_macs(self, node: Any, name: str, op: str) -> Any:
        """What FlopCounterMode counts for ``node`` at the traced shapes, / 2: the op run on
        empty meta tensors of those shapes (no data, no compute)."""
        import torch
        from torch.fx.node import map_aggregate
        from torch.utils.flop_counter import FlopCounterMode

        def empty(meta: Any) -> Any:
            if hasattr(meta, "shape"):
                return torch.empty(tuple(meta.shape), dtype=meta.dtype, device="meta")
            return type(meta)(empty(m) for m in meta) if isinstance(meta, (list, tuple)) else meta

        def real(arg: Any) -> Any:
            if not hasattr(arg, "op"):
                return arg
            value = self._value(arg)
            if value is not None:
                return value.to("meta") if hasattr(value, "to") else value
            if "tensor_meta" in arg.meta:
                return empty(arg.meta["tensor_meta"])
            if "concrete" in arg.meta:  # a size read off a tensor, at the trace
                return arg.meta["concrete"]
            if "val" in arg.meta:
                return map_aggregate(arg.meta["val"], lambda v: torch.empty(tuple(getattr(v, "shape")),
                                                                             dtype=getattr(v, "dtype"), device="meta")
                                     if hasattr(v, "shape") else v)
            raise InvalidValueError(f"{self.name}: {name} ({op}) reads a value whose shape the trace does not give")

        if node.op != "call_module" and op in _NO_MACS:
            return 0  # a view, an elementwise op, a reduction: FlopCounterMode has no formula for it
        args, kwargs = map_aggregate(node.args, real), map_aggregate(node.kwargs, real)
        module = self.modules[str(node.target)] if node.op == "call_module" else None
        key = _op_key(node, module, args, kwargs)
        if key is not None and key in _TRACED_MACS:
            return _TRACED_MACS[key]  # the same op on the same shapes (a transformer's blocks): counted once
        try:
            with FlopCounterMode(display=False) as counter:
                if node.op == "call_function":
                    node.target(*args, **kwargs)
                elif node.op == "call_method":
                    getattr(args[0], node.target)(*args[1:], **kwargs)
                else:
                    module = self.modules[str(node.target)]
                    state = {k: v.to("meta") for k, v in (*module.named_parameters(), *module.named_buffers())}
                    torch.func.functional_call(module, state, tuple(args), kwargs)
        except Exception as error:  # any op of any model: its own exception kinds
            raise InvalidValueError(f"{self.name}: {name} ({op}) cannot be counted on meta tensors:"
                                    f" {_first_line(error)}") from None
        flops = counter.get_total_flops()
        macs = flops // 2 if flops % 2 == 0 else Fraction(flops, 2)
        if key is not None:
            if len(_TRACED_MACS) >= 4096:
                _TRACED_MACS.clear()
            _TRACED_MACS[key] = macs
        return macs

    def _module_layer(self, module: Any, state: ImportState, out: tuple[int, ...], name: str) -> Optional[AnyBlock]:
        from torch import nn

        c = state.channels
        if isinstance(module, (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout, nn.Identity)):
            return None
        if isinstance(module, nn.Flatten):
            return None if len(out) == 2 and state.kind in ("map", "flat") else self._unknown("Flatten", state, out, name)
        if isinstance(module, nn.Conv2d) and state.kind == "map":
            return self._conv(module, name)
        if isinstance(module, nn.ConvTranspose2d) and state.kind == "map" and isinstance(module.padding, tuple):
            kernel: Any = tuple(module.kernel_size)
            return ConvTranspose(module.in_channels, module.out_channels, kernel, module.groups,
                                 _one(module.stride), _pair(module.padding), _pair(module.output_padding),
                                 _one(module.dilation), module.bias is not None, name)
        if isinstance(module, nn.Linear):
            if state.kind == "flat":
                return Linear(state.channels, module.out_features, in_size=state.size, bias=module.bias is not None,
                              name=name)
            if state.kind == "nhwc":  # a linear layer on channels-last positions: a 1 x 1 convolution
                return Conv(module.in_features, module.out_features, (1, 1), padding=0, bias=module.bias is not None,
                            name=name)
            return self._unknown("Linear", state, out, name)  # on tokens: counted at the traced size
        if isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)) and module.affine:
            return BatchNorm(c, name=name)
        if isinstance(module, nn.LayerNorm) and tuple(module.normalized_shape) == (c,) and state.kind in ("nhwc", "flat"):
            return LayerNorm(c, name=name) if module.elementwise_affine and module.bias is not None else None
        if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)) and state.kind == "map":
            kernel, stride, padding = (_square(getattr(module, a)) for a in ("kernel_size", "stride", "padding"))
            if None not in (kernel, stride, padding) and _square(getattr(module, "dilation", 1)) == 1:
                return Pool(c, kernel, stride, padding, bool(module.ceil_mode),
                            "max" if isinstance(module, nn.MaxPool2d) else "avg", name)
        if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) and state.kind == "map":
            size: Any = module.output_size
            if isinstance(size, int) or None not in tuple(size):
                kind = "avg" if isinstance(module, nn.AdaptiveAvgPool2d) else "max"
                output: Any = size if isinstance(size, int) else as_size(*size)
                return AdaptivePool(c, output, kind, name)
        for cls, function in ((nn.ReLU6, "relu6"), (nn.ReLU, "relu"), (nn.GELU, "gelu"), (nn.SiLU, "silu"),
                              (nn.Sigmoid, "sigmoid"), (nn.Hardswish, "hardswish"), (nn.Hardsigmoid, "hardsigmoid"),
                              (nn.Tanh, "tanh")):
            if isinstance(module, cls):
                return Activation(c, function, name=name)
        if isinstance(module, nn.ChannelShuffle) and state.kind == "map":
            return Shuffle(c, module.groups, name)
        if isinstance(module, nn.Upsample) and state.kind == "map" and module.mode in ("nearest", "bilinear") \
                and isinstance(module.scale_factor, (int, float)) and float(module.scale_factor).is_integer() \
                and module.size is None:
            return Upsample(c, int(module.scale_factor), module.mode, name)
        return self._unknown(type(module).__name__, state, out, name)

    def _conv(self, module: Any, name: str) -> Conv:
        padding: Any = module.padding
        if padding == "valid":
            padding = 0
        elif padding != "same":
            padding = padding[0] if padding[0] == padding[1] else tuple(padding)
        stride, dilation = _one(module.stride), _one(module.dilation)
        if stride is None or dilation is None:
            raise InvalidValueError(f"{self.name}: {name}: a convolution with strides {module.stride} or dilations"
                                    f" {module.dilation} that differ between height and width")
        return Conv(module.in_channels, module.out_channels, tuple(module.kernel_size), module.groups, stride, padding,
                    dilation, module.bias is not None, name)

    def _after(self, module: Any, state: ImportState, out: tuple[int, ...]) -> ImportState:
        from torch import nn

        if isinstance(module, nn.Linear) and state.kind == "flat":
            return ImportState("flat", out[-1], 1)
        if state.kind == "flat" and len(out) == 2:
            return ImportState("flat", out[-1], 1) if out[-1] != state.channels else state
        if isinstance(module, nn.Flatten) and len(out) == 2:
            if state.kind != "map":
                raise InvalidValueError(f"{self.name}: a {state.kind} value flattened")
            return ImportState("flat", state.channels, _square_size(self.src))
        return ImportState(state.kind, self._channels(out, state), state.size)

    def _reshape(self, node: Any, op: str, state: ImportState, out: tuple[int, ...], name: str
                 ) -> tuple[Optional[AnyBlock], ImportState]:
        """Views, flattening, permutes and transposes; a channel shuffle (view as groups, swap, view back)."""
        src = self.src
        if op == "mean":
            if state.kind == "map" and len(src) == 4 and out[:2] == src[:2] and (len(out) == 2 or out[2:] == (1, 1)) \
                    and self._mean_dims(node) in ({2, 3}, {-1, -2}):
                pool = AdaptivePool(state.channels, 1, "avg", name)
                return pool, ImportState("flat" if len(out) == 2 else "map", state.channels, 1)
            return self._unknown(op, state, out, name), state
        if op in ("adaptive_avg_pool2d", "adaptive_max_pool2d") and state.kind == "map":
            size: Any = _call_args(node, ("input", "output_size"))["output_size"]
            if isinstance(size, int) or (isinstance(size, (tuple, list)) and None not in size):
                size = size if isinstance(size, int) else as_size(*size)
                return AdaptivePool(state.channels, size, "max" if "max" in op else "avg", name), _keep_map(state)
        if op in ("avg_pool2d", "max_pool2d", "max_pool2d_with_indices") and state.kind == "map":
            got = _call_args(node, ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode")
                             if "max" in op else ("input", "kernel_size", "stride", "padding", "ceil_mode"))
            kernel = _one(got["kernel_size"])
            stride = kernel if got.get("stride") in (None, [], ()) else _one(got["stride"])
            padding, dilation = _one(got.get("padding", 0) or 0), _one(got.get("dilation", 1) or 1)
            if None not in (kernel, stride, padding) and dilation == 1:
                return Pool(state.channels, kernel, stride, padding, bool(got.get("ceil_mode", False)),
                            "max" if "max" in op else "avg", name), _keep_map(state)
        if op in ("adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d", "max_pool2d_with_indices"):
            return self._unknown(op, state, out, name), state
        if state.kind == "map" and len(out) == 2:
            return None, ImportState("flat", state.channels, _square_size(src))
        if state.kind == "flat" and len(out) == 2:
            return None, state
        if state.kind == "map" and len(out) == 5 and op in ("view", "reshape") and out[0] == src[0] \
                and out[1] * out[2] == src[1] and out[3:] == src[2:]:
            return None, ImportState("grouped", state.channels, state.size, groups=out[1])
        if state.kind == "grouped" and op in ("transpose", "permute") and self._swaps_groups(node, op):
            return None, ImportState("shuffled", state.channels, state.size, groups=state.groups)
        if state.kind == "shuffled" and op in ("view", "reshape", "flatten") and len(out) == 4:
            return Shuffle(state.channels, state.groups, name), ImportState("map", state.channels, state.size)
        if op == "permute" and len(out) == 4:
            dims = tuple(d % 4 for d in (node.args[1:] if len(node.args) > 2 else node.args[1]))
            if state.kind == "map" and dims == (0, 2, 3, 1):
                return None, ImportState("nhwc", state.channels, state.size)
            if state.kind == "nhwc" and dims == (0, 3, 1, 2):
                return None, ImportState("map", state.channels, state.size)
        if out == src:
            return None, state
        return self._unknown(op, state, out, name), state

    def _mean_dims(self, node: Any) -> set[int]:
        dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
        return set(dims) if isinstance(dims, (list, tuple)) else set()

    def _swaps_groups(self, node: Any, op: str) -> bool:
        rest = [a for a in node.args[1:]]
        if op == "transpose":
            return sorted(d % 5 for d in rest) == [1, 2]
        dims = tuple(rest[0]) if len(rest) == 1 else tuple(rest)
        return tuple(d % 5 for d in dims) == (0, 2, 1, 3, 4)

    def _getitem(self, node: Any, state: ImportState, out: tuple[int, ...], name: str) -> tuple[Optional[AnyBlock], ImportState]:
        if state.kind == "pieces" and isinstance(node.args[1], int):
            i = node.args[1] % (len(state.bounds) - 1)  # parts[-2]: counted from the end, unequal pieces too
            start, stop = state.bounds[i], state.bounds[i + 1]
            piece = ImportState("map", stop - start)
            if start == 0 and stop == state.channels:
                return None, piece
            return Slice(state.channels, start, stop, name), piece
        index = node.args[1]
        if state.kind == "map" and isinstance(index, tuple) and len(index) >= 2 and index[0] == slice(None) and \
                isinstance(index[1], slice) and index[1].step in (None, 1) and \
                all(x == slice(None) or x is Ellipsis for x in index[2:]):
            start, stop, _ = index[1].indices(state.channels)  # x[:, a:b], negative bounds counted from the end
            if stop > start:
                piece = ImportState("map", stop - start)
                return (None if (start, stop) == (0, state.channels) else Slice(state.channels, start, stop, name)), piece
        return self._unknown("getitem", state, out, name), ImportState(state.kind, self._channels(out, state), state.size)

    def _constant_operand(self, node: Any, op: str, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode
                          ) -> tuple[Optional[AnyBlock], ImportState]:
        """An add or multiply of a data value and a constant: a learned per-channel scale (a
        parameter) is a layer scale; a number is an elementwise operation."""
        keep = ImportState(state.kind, state.channels, state.size)
        others = [a for a in node.args if hasattr(a, "op") and a not in self.nodes]
        if not others:
            return Elementwise(state.channels, "add" if op in _ADD else "multiply", name=name), keep
        behind = self._parameters_behind(others)
        if op in _MUL and len(behind) == 1 and behind[0].numel() == state.channels:  # x * gamma (a view of it too)
            self.accounted.add(id(behind[0]))
            return LayerScale(state.channels, name=name), keep
        return self._unknown(f"{op} with a tensor", state, out, name), keep

    def _parameters_behind(self, args: list[Any]) -> list[Any]:
        """The parameters not yet counted that ``args`` hold or are computed from."""
        found: list[Any] = []
        seen: set[Any] = set()
        todo = list(args)
        while todo:
            arg = todo.pop()
            if arg in seen or arg in self.nodes or not hasattr(arg.meta.get("tensor_meta"), "shape"):
                continue  # a value, not a parameter read for its dtype or its shape
            seen.add(arg)
            value = self._value(arg)
            if value is not None and id(value) not in self.accounted and self._is_parameter(value) and \
                    all(v is not value for v in found):
                found.append(value)
            todo += list(arg.all_input_nodes)
        return found

    def _attribute(self, target: str) -> Any:
        if isinstance(self.traced, _Traced):
            return self.traced.attribute(target)
        value: Any = self.traced
        for part in target.split("."):
            value = getattr(value, part, None)
        return value

    def _functional_norm(self, node: Any, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode
                         ) -> tuple[Optional[AnyBlock], ImportState]:
        """``F.layer_norm(x, (C,), weight, bias)`` over the channels of a channels-last map."""
        args = list(node.args) + [node.kwargs.get(k) for k in ("normalized_shape", "weight", "bias")][len(node.args) - 1:]
        shape, weight, bias = (args + [None] * 4)[1:4]
        keep = ImportState(state.kind, state.channels, state.size)
        values = [self._value(a) for a in (weight, bias)]
        if tuple(shape or ()) == (state.channels,) and state.kind in ("nhwc", "flat") and None not in values:
            self.accounted |= {id(v) for v in values}
            return LayerNorm(state.channels, name=name), keep
        return self._unknown("layer_norm", state, out, name), keep

    def _join(self, op: str, node: Any, inputs: list[Any], state: ImportState, out: tuple[int, ...], name: str
              ) -> tuple[Optional[AnyBlock], ImportState]:
        """A node with several data inputs: its layer is made in :meth:`_build`, which knows its branches."""
        channels = self._channels(out, state) if state.kind != "flat" else out[-1]
        return None, ImportState("flat" if state.kind == "flat" else state.kind, channels, state.size)

    # -- forks and joins -----------------------------------------------------------
    def _dominators(self, source: Any) -> None:
        """The immediate dominator of every data node (the nearest node every path from the
        input passes): where a join's branches fork."""
        order = {node: i for i, node in enumerate(self.nodes)}
        self.order = order
        idom: dict[Any, Any] = {source: source}
        for node, item in self.nodes.items():
            if node is source:
                continue
            preds = [p for p in item.inputs if p in idom]
            current = preds[0]
            for other in preds[1:]:
                a, b = current, other
                while a is not b:
                    while order[a] > order[b]:
                        a = idom[a]
                    while order[b] > order[a]:
                        b = idom[b]
                current = a
            idom[node] = current
        self.idom = idom

    def _build(self, src: Any, dst: Any) -> list[AnyBlock]:
        """The blocks that compute ``dst`` from ``src`` (``src`` dominates ``dst``), in order."""
        items: list[AnyBlock] = []
        node = dst
        while node is not src:
            item = self.nodes[node]
            self.visited[node] = self.visited.get(node, 0) + 1
            if self.visited[node] > 1:
                raise _NotSeriesParallel()
            if len(item.inputs) == 1:
                if item.layer is not None:
                    self.emitted[id(node)] = self.emitted.get(id(node), 0) + 1
                    items.append(item.layer)
                node = item.inputs[0]
                continue
            fork = self.idom[node]
            branches = [self._build(fork, x) for x in item.inputs]
            items.append(self._joined(item, fork, branches))
            self.emitted[id(node)] = self.emitted.get(id(node), 0) + 1
            node = fork
        return items[::-1]

    def _joined(self, item: ImportNode, fork: Any, branches: list[list[AnyBlock]]) -> AnyBlock:
        op = self._op(item.node)
        name, _ = self._name(item.node)
        fork_channels = self.nodes[fork].state.channels
        parts: list[AnyBlock] = [Series(*b) if len(b) > 1 else (b[0] if b else Identity(fork_channels)) for b in branches]
        if not item.join or item.layer is not None or item.join == "resize":
            raise _NotSeriesParallel()  # not a sum, product or concatenation the blocks hold: a graph
        if op in _ADD and len(parts) == 2 and op not in ("sub", "sub_", "isub"):
            if not branches[1]:  # x + f(x) or f(x) + x: the shortcut is the identity
                return Residual(parts[0])
            if not branches[0]:
                return Residual(parts[1])
            return Residual(parts[0], parts[1])
        if op in ("mul", "mul_", "imul") and len(parts) == 2 and (not branches[0] or not branches[1]):
            gate = parts[1] if not branches[0] else parts[0]
            return Scale(gate)
        if item.join == "concat":
            return Parallel(*parts)
        if item.join or item.layer is not None:  # a difference, a product of two computed maps, a matmul: a graph
            raise _NotSeriesParallel()
        raise _NotSeriesParallel()

    def _out_channels(self, node: Any) -> int:
        return self.nodes[node].state.channels

    # -- stages ---------------------------------------------------------------------
    def _stages(self, items: list[AnyBlock]) -> list[Stage]:
        """Stages from the model's top-level children: each top-level item goes to the child
        its layers belong to (a function at the top level joins the stage before it)."""
        owners = {self._name_of(n): self.nodes[n].owner for n in self.nodes}
        groups: list[tuple[str, list[AnyBlock]]] = []
        for block in items:
            found = list(dict.fromkeys(owners.get(layer.name, "") for layer in iter_layers(block)))
            found = [x for x in found if x] or [""]
            label = "+".join(found)
            if groups and (label == "" or groups[-1][0] == label):
                groups[-1][1].append(block)
            else:
                groups.append((label or "input", [block]))
        stages: list[Stage] = []
        seen: dict[str, int] = {}
        for label, blocks in groups:
            seen[label] = seen.get(label, 0) + 1
            shown = label if seen[label] == 1 else f"{label} (call {seen[label]})"
            stages.append(Stage(shown, blocks[0] if len(blocks) == 1 else Series(*blocks)))
        return stages

    def _name_of(self, node: Any) -> str:
        layer = self.nodes[node].layer
        return getattr(layer, "name", "") if layer is not None else ""

    def _parts(self) -> tuple[str, ...]:
        """The model's blocks: the outermost modules of the model's own classes (not torch's
        layers or containers) below the top, by qualified name (``layer1.0``, ``features.3``)."""
        from torch import nn

        parts: list[str] = []
        for path, module in self.model.named_modules():
            if not path or any(path.startswith(p + ".") for p in parts):
                continue
            cls = type(module)
            if cls.__module__.startswith("torch.nn") or isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
                continue
            parts.append(path)
        return tuple(parts)

    def _held(self, channels: int) -> Optional[Stage]:
        """A side stage for the parameters no layer accounts for, by the module that holds them."""
        by_module: dict[str, int] = {}
        for qualified, p in self.model.named_parameters():
            if id(p) in self.accounted:
                continue
            self.accounted.add(id(p))
            owner = qualified.rsplit(".", 1)[0] if "." in qualified else qualified
            by_module[owner] = by_module.get(owner, 0) + p.numel()
        if not by_module:
            return None
        return Stage("unused", Series(*(Held(channels, n, module, module) for module, n in by_module.items())),
                     side=True)


#: Modules a peer (ptflops' pytorch backend) hooks with a formula of its own, counting none of their children.
_HOOKED_WHOLE = {"timm.models.vision_transformer.Attention", "timm.layers.attention.Attention"}


def _call(node: Any, module: Any) -> str:
    """How a module was called, where that decides what torch runs and what the peers count:
    ``nn.MultiheadAttention``'s heads, tokens, ``need_weights`` (explicit products and a softmax,
    or ``scaled_dot_product_attention``) and whether it had a mask or attended across two inputs.

    >>> _call(None, object())
    ''
    """
    from torch import nn

    if not isinstance(module, nn.MultiheadAttention):
        return ""
    names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
             "is_causal")
    given = dict(zip(names, node.args))
    given.update(node.kwargs)
    query = given.get("query")
    shape = tuple(getattr(getattr(query, "meta", {}).get("tensor_meta"), "shape", ()))
    tokens = shape[1 if module.batch_first else 0] if len(shape) == 3 else 0
    mask = any(given.get(k) is not None for k in ("key_padding_mask", "attn_mask")) or bool(given.get("is_causal"))
    alone = given.get("key") is query and given.get("value") is query and module._qkv_same_embed_dim
    return (f"(heads={module.num_heads}, tokens={tokens}, need_weights={bool(given.get('need_weights', True))},"
            f" mask={mask}, self={bool(alone)}, bias={module.in_proj_bias is not None}, channels={module.embed_dim})")


@lru_cache(maxsize=None)
def _functional_names() -> dict[int, str]:
    """torch.nn.functional's functions by identity, each by its own name where it has several."""
    from torch.nn import functional as F

    names: dict[int, str] = {}
    for name, value in sorted(vars(F).items()):
        if callable(value) and not name.startswith("_") and not isinstance(value, type):
            if id(value) not in names or name == getattr(value, "__name__", ""):
                names[id(value)] = name
    return names


def _visits(model: Any) -> dict[int, int]:
    """How many times a walk of the module tree from the top (each parent's children once)
    meets each module: 1 for most, more for a module held in two places."""
    counts: dict[int, int] = {}

    def walk(module: Any) -> None:
        for child in module.children():
            counts[id(child)] = counts.get(id(child), 0) + 1
            walk(child)

    walk(model)
    return counts


#: What FlopCounterMode counted for an op, by :func:`_op_key`.
_TRACED_MACS: dict[Any, Any] = {}


def _op_key(node: Any, module: Any, args: Any, kwargs: Any) -> Any:
    """What FlopCounterMode's count of an op on meta tensors depends on: the function (or method,
    or a leaf module's class, its settings and its tensors' shapes) and its arguments, tensors by
    shape and dtype; None where an argument is no plain value."""
    import torch

    def frozen(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return "tensor", tuple(value.shape), value.dtype, value.device.type
        if isinstance(value, (list, tuple)):
            return type(value).__name__, tuple(frozen(v) for v in value)
        if isinstance(value, dict):
            return "dict", tuple((k, frozen(v)) for k, v in value.items())
        if not isinstance(value, (int, float, bool, str, type(None), torch.dtype, torch.device)):
            raise TypeError(type(value).__name__)
        return type(value).__name__, value

    try:
        target: Any = node.target
        if module is not None:
            settings = tuple((k, frozen(v)) for k, v in sorted(vars(module).items()) if not k.startswith("_") and
                             isinstance(v, (int, float, bool, str, tuple, type(None))))
            tensors = tuple((k, frozen(v)) for k, v in (*module.named_parameters(), *module.named_buffers()))
            target = (type(module), settings, tensors)
        key = (node.op, target, frozen(args), frozen(kwargs))
        hash(key)
        return key
    except TypeError:
        return None


def _keep_map(state: ImportState) -> ImportState:
    return ImportState("map", state.channels)


def _call_args(node: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A call's arguments by name (those given by position, then by keyword)."""
    got = dict(zip(names, node.args))
    got.update(node.kwargs)
    return got


def _one(value: Any) -> Any:
    """One number for a pair that agrees (a stride, a dilation); None if the sides differ."""
    if isinstance(value, int):
        return value
    if len(value) == 1:
        return value[0]
    return value[0] if value[0] == value[1] else None


def _square(value: Any) -> Any:
    return _one(value)


def _pair(value: Any) -> Union[int, tuple[int, int]]:
    return value if isinstance(value, int) else (value[0] if value[0] == value[1] else tuple(value))


def _square_size(shape: tuple[int, ...]) -> Any:
    return as_size(shape[2], shape[3]) if len(shape) == 4 else 1


# -- the table of ops: one entry an op, for its functional, method and ATen forms ----------------

_Handler = Any
#: Canonical op name -> handler(importer, node, state, out, name, item) -> (layer, state) or None.
_FUNCTIONS: dict[str, _Handler] = {}


def register(*names: str) -> Any:
    """Register a handler for the ops called ``names`` (a function's ``__name__``, a method's
    name, an ATen op's packet name: ``conv2d`` is ``F.conv2d``, ``torch.conv2d`` and ``aten.conv2d``)."""
    def add(handler: _Handler) -> _Handler:
        for name in names:
            _FUNCTIONS[name] = handler
        return handler

    return add


def _map_state(state: ImportState, channels: Optional[int] = None) -> ImportState:
    return ImportState(state.kind, state.channels if channels is None else channels, state.size)


@register("conv2d", "convolution", "_convolution")
def _conv_function(self: Importer, node: Any, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode) -> Any:
    """``F.conv2d(x, weight, bias, stride, padding, dilation, groups)``, the weight a parameter or
    computed from parameters (NFNet's standardized weights, its gain counted beside)."""
    names: tuple[str, ...] = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
    if self._op(node) != "conv2d":
        names = ("input", "weight", "bias", "stride", "padding", "dilation", "transposed", "output_padding", "groups")
    got = _call_args(node, names)
    shape = self._arg_shape(got.get("weight"))
    if state.kind != "map" or shape is None or len(shape) != 4 or got.get("transposed"):
        return None
    groups = got.get("groups", 1) or 1
    stride, dilation = _one(got.get("stride", 1) or 1), _one(got.get("dilation", 1) or 1)
    padding: Any = got.get("padding", 0)
    padding = padding if isinstance(padding, str) else (_pair(padding) if not isinstance(padding, int) else padding)
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if stride is None or dilation is None:
        return None
    conv = Conv(shape[1] * groups, shape[0], (shape[2], shape[3]), groups, stride, padding, dilation,
                got.get("bias") is not None, name)
    held = self._claim(got.get("weight"), got.get("bias"))
    return self._with_parameters(conv, held, name, shape[0]), ImportState("map", shape[0])


@register("linear")
def _linear_function(self: Importer, node: Any, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode) -> Any:
    """``F.linear(x, weight, bias)`` on a flattened map (a classifier) or channels-last positions."""
    got = _call_args(node, ("input", "weight", "bias"))
    shape = self._arg_shape(got.get("weight"))
    if shape is None or len(shape) != 2:
        return None
    bias = got.get("bias") is not None
    if state.kind == "flat":
        layer: AnyBlock = Linear(state.channels, shape[0], in_size=state.size, bias=bias, name=name)
        after = ImportState("flat", shape[0], 1)
    elif state.kind == "nhwc":
        layer, after = Conv(shape[1], shape[0], (1, 1), padding=0, bias=bias, name=name), ImportState("nhwc", shape[0])
    else:
        return None
    return self._with_parameters(layer, self._claim(got.get("weight"), got.get("bias")), name, shape[0]), after


@register("batch_norm", "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional",
          "native_batch_norm")
def _batch_norm_function(self: Importer, node: Any, state: ImportState, out: tuple[int, ...], name: str,
                         item: ImportNode) -> Any:
    """``F.batch_norm(x, mean, var, weight, bias, ...)`` (timm's fused BatchNormAct2d)."""
    op = self._op(node)
    order = ("input", "running_mean", "running_var", "weight", "bias") if op == "batch_norm" and not self.exported \
        else ("input", "weight", "bias", "running_mean", "running_var")
    got = _call_args(node, order)
    if state.kind not in ("map", "flat"):
        return None
    held = self._claim(got.get("weight"), got.get("bias"))
    layer = BatchNorm(state.channels, name=name) if held == 2 * state.channels else \
        Norm(state.channels, "batch", held, name)
    return layer, _map_state(state)


@register("group_norm", "instance_norm", "layer_norm", "rms_norm", "native_group_norm", "native_layer_norm")
def _norm_function(self: Importer, node: Any, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode) -> Any:
    """Every other norm: no MACs by the convention, its affine parameters counted."""
    op = self._op(node).replace("native_", "")
    weights = {"group_norm": ("input", "num_groups", "weight", "bias"),
               "instance_norm": ("input", "running_mean", "running_var", "weight", "bias"),
               "layer_norm": ("input", "normalized_shape", "weight", "bias"),
               "rms_norm": ("input", "normalized_shape", "weight")}[op]
    got = _call_args(node, weights)
    if self.exported and op == "group_norm":
        got = _call_args(node, ("input", "weight", "bias"))
    held = self._claim(got.get("weight"), got.get("bias"))
    return Norm(state.channels, op.replace("_norm", ""), held, name), _map_state(state)


@register("interpolate", "upsample", "upsample_nearest2d", "upsample_bilinear2d", "upsample_bicubic2d",
          "_upsample_nearest_exact2d", "upsample")
def _interpolate(self: Importer, node: Any, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode) -> Any:
    """``F.interpolate`` in every mode: to a whole scale, an upsampling; to the size of another
    value (``size=x.shape[-2:]``), a resize join on that value, so the size stays a symbol."""
    if state.kind != "map" or len(out) != 4:
        return None
    got = _call_args(node, ("input", "size", "scale_factor", "mode"))
    mode = got.get("mode") or "nearest"
    if not isinstance(mode, str) or mode not in UPSAMPLING:
        mode = "bilinear" if "bilinear" in self._op(node) else "nearest"
    size = got.get("size")
    ref = self._data_behind(size) if size is not None else None
    if ref is not None and len(self._shape(ref)) == 4 and self._shape(ref)[2:] == out[2:]:
        item.inputs = [item.inputs[0], ref]
        item.join = "resize"
        return None, ImportState("map", state.channels)
    src = self.src
    if len(src) == 4 and out[2] % src[2] == 0 and out[2] // src[2] == out[3] // src[3] and out[3] % src[3] == 0:
        scale = got.get("scale_factor")
        scale = scale[0] if isinstance(scale, (tuple, list)) and len(set(scale)) == 1 else scale
        if scale is None or float(scale) == out[2] // src[2]:
            return Upsample(state.channels, out[2] // src[2], mode, name), ImportState("map", state.channels)
    return None


@register("pad", "constant_pad_nd")
def _pad(self: Importer, node: Any, state: ImportState, out: tuple[int, ...], name: str, item: ImportNode) -> Any:
    """``F.pad`` by zero: the sides grow by fixed amounts (a layer of its own)."""
    got = _call_args(node, ("input", "pad", "mode", "value"))
    pads = got.get("pad")
    if state.kind != "map" or not isinstance(pads, (list, tuple)) or not all(isinstance(p, int) for p in pads):
        return None
    pads = list(pads) + [0] * (4 - len(pads))
    if pads[4:] and any(pads[4:]):
        return None
    left, right, top, bottom = pads[:4]
    return Pad(state.channels, (top, bottom, left, right), name=name), ImportState("map", state.channels)
