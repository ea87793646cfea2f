"""The command line: ``convalgebra explain NAME``, ``convalgebra list`` and the rest.

Runs in-process, as tests and notebooks do; bad input gets one line and exit code 2:

>>> main(["explain", "botleneck"], err=sys.stdout)
convalgebra: error: unknown module 'botleneck'; did you mean bottleneck or resnext? (see 'convalgebra list')
2
>>> main(["explain", "group", "--set", "G=3", "K=3", "M=64", "N=64", "I=8"], err=sys.stdout)
convalgebra: error: 3 groups do not divide the 64 output channels
2
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any, Sequence, TextIO, cast

from .errors import ConvAlgebraError, InvalidValueError

__all__ = ["main", "run", "build_parser"]

FORMATS = ("text", "markdown", "latex", "json")


class UsageError(ConvAlgebraError):
    """The command line's words are off (argparse's complaint, as one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog.split()[-1]}: {message}" if " " in self.prog else message)


def _values(items: list[str] | None) -> dict[Any, Any]:
    from .symbols import parse_assignment

    out: dict[Any, Any] = {}
    for item in items or []:
        sym, value = parse_assignment(item)
        if sym in out:
            raise UsageError(f"{sym} is set twice")
        out[sym] = value
    return out


def _emit(obj: Any, fmt: str, out: TextIO, err: TextIO) -> None:
    """Write ``obj`` in the format asked for; its caveats (how the request was read) are part of
    its view, and JSON's ``caveats``, so they reach the reader in every format."""
    from .render import rendered

    out.write(rendered(obj, fmt) + ("\n" if fmt == "text" else ""))


# -- sizes and settings ---------------------------------------------------------

def network_settings(items: Sequence[str]) -> tuple[Any, Any]:
    """``--set`` for a network: the input size (I, or H and W; None when not set) and the width
    multiplier alpha (None when not set), exact numbers read without sympy.

    >>> network_settings(["alpha=0.5", "I=160"]), network_settings(["H=224", "W=160"])
    ((160, Fraction(1, 2)), ((224, 160), None))
    """
    alpha, rest = None, []
    for item in items:
        name, sep, value = item.partition("=")
        if name.strip() == "alpha" and sep:
            from .symbols import parse_number

            if alpha is not None:
                raise InvalidValueError("alpha is set twice")
            alpha = parse_number(value)
            if not alpha > 0:
                raise InvalidValueError(f"alpha = {alpha}: expected a number > 0")
        else:
            rest.append(item)
    return (parse_size(rest) if rest else None), alpha


def parse_size(items: Sequence[str]) -> Any:
    """The input size from ``--set I=SIZE``, or ``--set H=HEIGHT W=WIDTH`` for an oblong input;
    read without sympy when each is a plain whole number.

    >>> parse_size(["I=299"]), parse_size(["H=224", "W=160"]), parse_size(["W=7", "H=7"])
    (299, (224, 160), 7)
    >>> parse_size(["I=0"])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: I = 0: expected a whole number >= 1
    >>> parse_size(["K=3"])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: a network takes only I, or H and W, the input size (for example --set I=224 or --set H=224 W=160), not K
    >>> parse_size(["H=224"])
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: set both H and W (for example --set H=224 W=160), or I for a square input
    """
    from .layers import as_size

    given: dict[str, int] = {}
    for item in items:
        name, value = _size_item(item)
        if name in given:
            raise InvalidValueError(f"{name} is set twice")
        given[name] = value
    if not given:
        raise InvalidValueError("set the input size, for example --set I=224")
    if "I" in given:
        if len(given) != 1:
            raise InvalidValueError("set I for a square input, or H and W for an oblong one, not both")
        return given["I"]
    if set(given) != {"H", "W"}:
        raise InvalidValueError("set both H and W (for example --set H=224 W=160), or I for a square input")
    return as_size(given["H"], given["W"])


def _size_item(item: str) -> tuple[str, int]:
    """One ``NAME=VALUE`` of a network's size: I, H or W and a whole number >= 1."""
    from .validation import check

    wanted = "a network takes only I, or H and W, the input size (for example --set I=224 or --set H=224 W=160)"
    name, sep, value = item.partition("=")
    name, value = name.strip(), value.strip()
    if name not in ("", "I", "H", "W"):
        raise InvalidValueError(f"{wanted}, not {name}")
    if not (sep and name and value.isascii() and value.isdigit() and len(value) <= 64):
        from .symbols import parse_assignment  # longer or not digits: parse_number refuses it in one line

        sym, number = parse_assignment(item)
        if str(sym) not in ("I", "H", "W"):
            raise InvalidValueError(f"{wanted}, not {sym}")
        return str(sym), int(check(str(sym), number, symbolic=False))
    return name, int(check(name, int(value), symbolic=False))


# -- commands ------------------------------------------------------------------

def _cmd_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .modules import ATTENTION_MODULES, LATER_MODULES, MODULES

    width = max(len(m.name) for m in MODULES + LATER_MODULES + ATTENTION_MODULES)
    for heading, modules in (("", MODULES), ("\nlater modules, from the same primitives:\n", LATER_MODULES),
                             ("\nfrom convolution to attention:\n", ATTENTION_MODULES)):
        out.write(heading)
        for m in modules:
            params = ", ".join(f"{s}={d}" for s, d in m.parameters.items())
            out.write(f"{m.name:<{width}}  {m.title} ({m.network}, {m.paper.year if m.paper else ''})"
                      + (f"; {params}" if params else "") + "\n")
    return 0


def _cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .explanation import explain

    if (args.name is None) == (args.rule is None):
        raise UsageError("explain takes a module's name or --rule RULE (one of them), for example: explain bottleneck, "
                         "or explain --rule \"chain(reduce(4), group(32))\"")
    if args.dtype and not args.memory:
        raise UsageError("--dtype applies with --memory")
    _emit(explain(args.name if args.rule is None else _composed(args.rule), _values(args.set), memory=args.memory,
                  dtype=args.dtype or "fp32"), args.format, out, err)
    return 0


def _composed(text: str) -> Any:
    """The module of a rule written on the command line, named by the rule."""
    from .catalog import compose
    from .rules import parse_rule

    rule = parse_rule(text)
    return compose(rule, name=repr(rule), title="the rule given with --rule")


def _cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .design import compare

    _emit(compare(args.a, args.b, _values(args.set), values_a=_values(args.set_a), values_b=_values(args.set_b)),
          args.format, out, err)
    return 0


def _cmd_question(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """budget, break-even and limit: a design question about one module, by the function that answers it."""
    from . import design

    _emit(getattr(design, args.answer)(args.name, _values(args.set)), args.format, out, err)
    return 0


def _cmd_network(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .catalog import network

    size, alpha = network_settings(args.set or [])
    net = network(args.name, alpha)
    if _training_asked(args) and (args.memory or args.roofline is not None):
        raise UsageError("--training is an answer of its own; leave out --memory and --roofline")
    if args.dtype and not (args.roofline is not None or args.memory or args.training):
        raise UsageError("--dtype applies with --memory, --roofline or --training")
    if args.memory and args.roofline is not None:
        raise UsageError("--memory and --roofline are two answers; ask for one")
    if args.roofline is not None:
        if args.symbolic:
            raise UsageError("--roofline estimates times at a whole input size; leave out --symbolic")
        from .rooflines import roofline

        _emit(roofline(net, args.roofline, size, args.dtype or "fp32"), args.format, out, err)
        return 0
    if args.symbolic:
        if size is not None:
            raise UsageError(f"--symbolic counts at the input size {' x '.join(args.symbolic)} itself;"
                             " leave out I, H and W from --set")
        from .symbols import H, I, W

        size = I if args.symbolic == "I" else (H, W)
    if args.training:
        _emit(_training(net, size, args), args.format, out, err)
    elif args.memory:
        from .memory import network_memory

        _emit(network_memory(net, size, args.dtype or "fp32"), args.format, out, err)
    else:
        _emit(net.count(size), args.format, out, err)
    return 0


def _training_asked(args: argparse.Namespace) -> bool:
    """Whether --training was asked for; its options alone are refused."""
    if not args.training and (args.batch is not None or args.freeze or args.optimizer):
        raise UsageError("--batch, --freeze and --optimizer apply with --training")
    return bool(args.training)


def _training(net: Any, size: Any, args: argparse.Namespace) -> Any:
    """The training step --training asks for: --batch a whole number or B (the default)."""
    from .symbols import B, parse_number
    from .training import training_cost

    batch: Any = B if args.batch is None or args.batch.strip() == "B" else parse_number(args.batch)
    return training_cost(net, size, batch, freeze=tuple(args.freeze or ()), optimizer=args.optimizer or "sgd",
                         dtype=args.dtype or "fp32")


def _cmd_count(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .layers import sides
    from .torch_import import from_torch, load_model, require_torch

    if args.model.lower().endswith(".onnx"):
        return _count_onnx(args, out, err)
    require_torch("count (a PyTorch model)")  # first: the same one line for every input, when torch is missing
    size = parse_size(args.set) if args.set else 224
    if args.symbolic and args.set:
        raise UsageError("--symbolic counts at the symbols H and W; the traced size is --set's, so give it alone")
    height, width = sides(size)
    kind, _, name = args.model.partition(":")
    title = name
    if kind == "torchvision":
        from .catalog import network, network_names

        title = network(name).title if name in network_names() else name
    frames = (args.frames,) if args.frames else ()  # a video model's input: channels x frames x H x W
    net = from_torch(load_model(args.model), (args.channels, *frames, int(height), int(width)), name=args.model,
                     title=title, strict=args.strict)
    if args.conventions and args.symbolic:
        raise UsageError("--conventions compares the counters at the traced size; leave out --symbolic")
    if _training_asked(args) and args.conventions:
        raise UsageError("--training is an answer of its own; leave out --conventions")
    if args.dtype and not args.training:
        raise UsageError("--dtype applies with --training")
    if args.training:
        from .symbols import H, W

        _emit(_training(net, (H, W) if args.symbolic else size, args), args.format, out, err)
        return 0
    if args.conventions:
        from .peers import peer_counts

        _emit(peer_counts(net, size), args.format, out, err)
        return 0
    if args.symbolic:
        from .symbols import H, W

        _emit(net.count((H, W)), args.format, out, err)
    else:
        _emit(net.count(size), args.format, out, err)
    return 0


def _count_onnx(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``count FILE.onnx``: the model read from the file, counted at its own input (a closed form
    where its dims are dim_params), at ``--set``'s size, or at the symbols H and W (``--symbolic``);
    a batch dimension is B, or ``--set B=8``'s number."""
    import os

    from .onnx_import import from_onnx

    if args.conventions:
        raise UsageError("--conventions compares PyTorch's counters; an ONNX model is counted by the library alone")
    sizes = [x for x in args.set or () if x.partition("=")[0].strip() != "B"]
    batches = [x for x in args.set or () if x.partition("=")[0].strip() == "B"]
    if len(batches) > 1:
        raise UsageError("B is set twice")
    if args.symbolic and sizes:
        raise UsageError("--symbolic counts at the symbols H and W; leave out --set's sizes")
    net = from_onnx(args.model, strict=args.strict, name=os.path.basename(args.model))
    if batches:
        from dataclasses import replace

        from .symbols import B, parse_assignment
        from .validation import check

        if getattr(net.batch, "free_symbols", set()) != {B}:
            raise UsageError(f"--set B: the file's batch is fixed at {net.batch}, not a dimension of its own")
        _, value = parse_assignment(batches[0])
        net = replace(net, batch=check("B", value, "batch B", symbolic=False))
    if args.symbolic:
        from .symbols import H, W

        _emit(net.count((H, W)), args.format, out, err)
    else:
        _emit(net.count(parse_size(sizes) if sizes else None), args.format, out, err)
    return 0


def _cmd_networks(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .catalog import network, network_names

    nets = [network(name) for name in network_names()]
    width = max(len(n.name) for n in nets)
    for n in nets:
        out.write(f"{n.name:<{width}}  {n.title}, at {n.default_size} x {n.default_size}; {n.paper}\n")
    return 0


def _cmd_plot(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .plotting import output_format, plot_network, plot_ratios, save

    output_format(args.out)  # refuse an unknown suffix before any work
    names = args.names
    if names[0] == "network":
        if len(names) != 2:
            raise UsageError("plot network takes one network name, for example: plot network resnet50 --out r.png")
        if args.over or args.between:
            raise UsageError("--over and --between apply to modules; plot network draws MACs per layer or stage")
        fig = plot_network(names[1], by=args.by or "layer", input_size=parse_size(args.set) if args.set else None)
    else:
        if args.by:
            raise UsageError("--by applies to 'plot network NAME'")
        if "all" in names and names != ["all"]:
            others = " ".join(n for n in names if n != "all")
            raise UsageError(f"'all' draws the ten modules and takes no other name (not {others}); to draw a "
                             f"network's cost: plot network NAME, for example plot network resnet50 --out r.png")
        fig = plot_ratios(None if names == ["all"] else names, over=args.over or "N", values=_values(args.set),
                          between=tuple(args.between) if args.between else None)
    save(fig, args.out)
    out.write(f"wrote {args.out}\n")
    return 0


#: How every command that takes values fills in the rest (said in each command's --help).
VALUES_HELP = ("Values: with none set, the answer is the closed form (explain also shows the numbers at the "
               "module's example). With any set, the sizes K, M, N, I not set are taken from the module's "
               "example (compare: from A's), and the output says which; the module's parameters not set take "
               "their defaults. A symbol the module does not use is refused.")


def _add_set(parser: argparse.ArgumentParser, example: str = "K=3 M=512 N=512 I=14") -> None:
    parser.add_argument("--set", metavar="SYMBOL=VALUE", nargs="+", action="extend",
                        help=f"give a symbol a value: an integer, decimal or fraction (e.g. --set {example})")


def _add_dtype(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", choices=("fp32", "fp16", "bf16", "int8"),
                        help="the element type bytes are counted in (default: fp32, 4 bytes)")


def _add_training(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--training", action="store_true",
                        help="a training step: each layer's forward beside its input and weight gradients, in MACs,"
                             " on a batch (and the rule of thumb training = (3 - epsilon) x forward derived)")
    parser.add_argument("--batch", metavar="B", help="with --training: the batch, a whole number (default: the symbol B)")
    parser.add_argument("--freeze", metavar="PREFIX", nargs="+", action="extend",
                        help="with --training: freeze the layers whose names start with PREFIX (a stage or torch's"
                             " module name: layer1, features)")
    parser.add_argument("--optimizer", choices=("sgd", "momentum", "adam", "adamw"),
                        help="with --training: the optimizer, for its state's memory (default: sgd)")


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per task."""
    from . import __version__
    from .cost import UNITS

    parser = _Parser(prog="convalgebra", description=(
        f"The cost of convolutional network design as exact algebra. Costs are in {UNITS} and parameters."))

    parser.add_argument("--version", action="version", version=f"convalgebra {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", help="the article's ten modules, then the later ones")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("explain", help="explain a module: layers, cost, savings ratio, numbers",
                       description="Explain a module, or a rule of your own (--rule). " + VALUES_HELP,
                       epilog="examples: explain bottleneck; explain depthwise-separable --set K=3 M=512 N=512 I=14 "
                              "(MobileNet V1's 14 x 14 layer); explain --rule \"chain(reduce(4), group(32))\" "
                              "--set K=3 M=256 N=256 I=56")
    p.add_argument("name", nargs="?", help="module name, e.g. bottleneck (see 'convalgebra list')")
    p.add_argument("--rule", metavar="RULE", help="a chain of the primitive rewrites instead of a module, "
                   "e.g. \"chain(expand(6), group(2, on='pointwise'), depthwise())\"")
    _add_set(p)
    p.add_argument("--memory", action="store_true",
                   help="add the memory traffic before and after, beside the MACs (ShuffleNet V2's memory access cost)")
    _add_dtype(p)
    _add_format(p)
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("compare", help="module A's cost over module B's, and when A is the cheaper",
                       description="Module A's cost over module B's, and when A is the cheaper. " + VALUES_HELP,
                       epilog="examples: compare bottleneck inverted-bottleneck --set K=3 M=64 N=64 I=14; "
                              "compare inverted-bottleneck inverted-bottleneck --set-a t=4 --set-b t=6")
    p.add_argument("a", metavar="A", help="module name, e.g. bottleneck")
    p.add_argument("b", metavar="B", help="module name, e.g. inverted-bottleneck")
    _add_set(p, "K=3 M=64 N=64 I=14")
    for which in ("a", "b"):
        p.add_argument(f"--set-{which}", metavar="PARAMETER=VALUE", nargs="+", action="extend",
                       help=f"give one of {which.upper()}'s own parameters a value for {which.upper()} only "
                            "(e.g. --set-" + which + " t=" + ("4" if which == "a" else "6") + ")")
    _add_format(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("budget", help="how many kernels a module affords for a standard convolution's MACs",
                       description="How many kernels N' a module affords for the MACs of the standard convolution "
                                   "with N kernels. " + VALUES_HELP,
                       epilog="examples: budget depthwise-separable; budget bottleneck --set K=3 M=256 N=256")
    p.add_argument("name", help="module name, e.g. depthwise-separable (see 'convalgebra list')")
    _add_set(p, "K=3 M=256 N=256")
    _add_format(p)
    p.set_defaults(func=_cmd_question, answer="budget")

    for command, words, example, answer in (
            ("break-even", "where each of a module's parameters makes it cost as much as the standard convolution",
             "break-even inverted-bottleneck; break-even bottleneck --set K=3 M=64 N=64", "break_even"),
            ("limit", "a module's savings ratio with M = N as N grows without bound",
             "limit depthwise-separable; limit bottleneck --set K=3", "limit_large_N")):
        p = sub.add_parser(command, help=words, description=f"{words[0].upper()}{words[1:]}. " + VALUES_HELP,
                           epilog=f"examples: {example}")
        p.add_argument("name", help="module name, e.g. inverted-bottleneck (see 'convalgebra list')")
        _add_set(p, "K=3 M=64 N=64")
        _add_format(p)
        p.set_defaults(func=_cmd_question, answer=answer)

    p = sub.add_parser("network", help="count a whole network layer by layer: MACs, params, shares")
    p.add_argument("name", help="network name, e.g. resnet50 (see 'convalgebra networks')")
    p.add_argument("--set", metavar="I=SIZE", nargs="+", action="extend",
                   help="the input size I (default: the size the network was designed for, e.g. --set I=224), or"
                        " H and W for an oblong input (--set H=224 W=160); alpha, the width multiplier, for"
                        " mobilenet_v1, mobilenet_v2 and mnasnet (--set alpha=0.5 I=160)")
    p.add_argument("--symbolic", nargs="?", const="I", choices=("I", "HW"),
                   help="count at the input size I itself (or, with --symbolic HW, at H x W): every cost a closed"
                        " form in I (or in H and W), and where it is exact")
    p.add_argument("--memory", action="store_true",
                   help="each step's memory traffic, the total and the peak activation memory (with --symbolic: "
                        "closed forms in I, or with --symbolic HW in H and W)")
    p.add_argument("--roofline", metavar="DEVICE",
                   help="each layer's memory traffic, intensity and roofline time on DEVICE (a100, v100, t4)")
    _add_training(p)
    _add_dtype(p)
    _add_format(p)
    p.set_defaults(func=_cmd_network)

    p = sub.add_parser("count", help="count a model layer by layer: torchvision:NAME, timm:NAME, FILE.py:FUNCTION or FILE.onnx",
                       description="Trace a PyTorch model with torch.fx (the 'torch' extra) and count it layer by layer,"
                                   " by torch's own layer names. FILE.py:FUNCTION imports FILE.py and calls FUNCTION()"
                                   " for the model: that file is your code, and it runs. FILE.onnx is read (the 'onnx'"
                                   " extra), never run: its dim_params are the symbols H and W.")
    p.add_argument("model", help="torchvision:resnet50, timm:NAME (timm installed), FILE.py:FUNCTION (runs that file),"
                                 " or FILE.onnx")
    p.add_argument("--set", metavar="H=SIZE", nargs="+", action="extend",
                   help="the input size: H=224 W=160, or I=224 for a square (default 224 x 224)")
    p.add_argument("--channels", type=int, default=3, help="input channels (default 3)")
    p.add_argument("--frames", type=int, default=0, help="frames of a video model's input (3-D convolutions)")
    p.add_argument("--symbolic", action="store_true",
                   help="count at the symbols H and W: every cost a closed form, and where it is exact")
    p.add_argument("--strict", action="store_true",
                   help="refuse a model with an operation the library does not count (by default it is shown as not counted)")
    p.add_argument("--conventions", action="store_true",
                   help="what fvcore, ptflops (both backends), thop and FlopCounterMode report for the model, part by part,"
                        " and why they differ (computed from the layers; none of them is run)")
    _add_training(p)
    _add_dtype(p)
    _add_format(p)
    p.set_defaults(func=_cmd_count)

    p = sub.add_parser("networks", help="the zoo of whole networks, with their papers")
    p.set_defaults(func=_cmd_networks)

    p = sub.add_parser("plot", help="draw modules' MACs ratios, or a network's MACs per layer or stage, to a file",
                       description="plot MODULE... [--over SYMBOL] [--set ...] --out FILE.png|FILE.svg, or "
                                   "plot network NAME [--by layer|stage] [--set I=SIZE] --out FILE")
    p.add_argument("names", nargs="+", metavar="NAME",
                   help="modules (or 'all' for the ten), or 'network' and a network's name")
    p.add_argument("--over", metavar="SYMBOL", help="the symbol along the x axis (default: N)")
    p.add_argument("--between", metavar=("LOW", "HIGH"), nargs=2, help="the span of the x axis")
    p.add_argument("--by", choices=("layer", "stage"), help="a network's bars: one per layer (default) or stage")
    _add_set(p)
    p.add_argument("--out", metavar="FILE", required=True, help="the file to write: .png or .svg")
    p.set_defaults(func=_cmd_plot)

    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line on ``argv``; return the exit code (0, or 2 for bad input)."""
    out = cast(TextIO, _Safe(out or sys.stdout))
    err = cast(TextIO, _Safe(err or sys.stderr))
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out):  # --help and --version print to ``out`` too
            args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if not getattr(args, "command", None):
            raise UsageError("no command given; try 'convalgebra list' or 'convalgebra explain bottleneck'")
        return int(args.func(args, out, err))
    except SystemExit as stop:  # --help and --version
        return 0 if stop.code in (0, None) else 2
    except ConvAlgebraError as error:
        err.write(f"convalgebra: error: {_one_line(str(error))}\n")
        return 2
    except RecursionError:
        err.write("convalgebra: error: input too deeply nested\n")
        return 2
    except MemoryError:
        err.write("convalgebra: error: out of memory; give smaller values\n")
        return 2


class _Safe:
    """A text stream that writes what its encoding cannot hold as escapes, never an error
    (a file name that is not UTF-8, echoed to a strict ASCII stdout)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "ascii"
            return self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def run() -> None:
    """Entry point of the ``convalgebra`` script and ``python -m convalgebra``.

    A command is one short computation in its own process, so the cyclic garbage
    collector is switched off for it: otherwise it spends about a tenth of the command's
    time walking the objects sympy creates as it loads, which are never garbage
    (``benchmarks/startup.py`` measures the command both ways). ``main``, which tests and
    notebooks call in their own process, leaves the collector alone.
    """
    import gc

    gc.disable()
    stop = _deadline()
    try:
        code = main()
    finally:
        stop()
    sys.exit(code)


#: Seconds after which the command gives up, in one line (every command is meant to answer
#: within a few seconds; solving is bounded by its own budget, this only backs it up).
DEADLINE = 60


class TooSlowError(ConvAlgebraError):
    """The command ran past :data:`DEADLINE`."""


def _deadline() -> Any:
    """In the command's own process, stop it with one line (exit code 2) past :data:`DEADLINE`;
    returns the function that disarms the timer (``run`` calls it when the command is done)."""
    import signal

    if not hasattr(signal, "setitimer"):  # pragma: no cover - not on Windows
        return lambda: None

    def too_slow(signum: int, frame: Any) -> None:
        raise TooSlowError(f"no answer within {DEADLINE} s; give smaller values or fewer symbols")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, DEADLINE)

    def disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return disarm
