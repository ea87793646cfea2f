"""Every command's ``--format json`` output held to its published JSON Schema (issue 18).

Each command's schema is ``src/convalgebra/schemas/<command>.json`` (:func:`convalgebra.data.schema`).
The commands run in-process through the CLI over a broad set of inputs (every module, pairs,
values and none, zoo networks square, oblong and symbolic, memory and roofline, a torchvision
model); each output is validated with ``jsonschema`` and walked for the encoding rules: exact
whole numbers are JSON integers (never a string of digits), other exact values strings in the
printer's form, sizes lists (or one value for a square), no floats.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import re
from importlib import resources
from typing import Any, Iterator

import jsonschema
import pytest

from convalgebra.cli import main
from convalgebra.data import SCHEMAS, schema
from convalgebra.modules import LATER_MODULES, MODULES

MODULE_NAMES = tuple(m.name for m in MODULES + LATER_MODULES)
INTEGER_LITERAL = re.compile(r"-?[0-9]+")
#: Keys whose strings are names, free to look like anything (a torch layer named "0").
NAME_KEYS = {"name", "stage", "network", "title", "module", "a", "b", "op", "counter", "tool"}
#: Keys whose values are sizes: a list [height, width], or one value for a square.
SIZE_KEYS = {"size", "output_size"}

#: Sizes every module takes whole channels at (the groups of resnext, shufflenet ... divide them).
FULL = ("--set", "K=3", "M=192", "N=192", "I=14")
PARTIAL = ("--set", "K=5")  # the rest from the module's example, said in from_example

#: Outputs known to break a rule, with why (none now: a case added here must name its issue).
KNOWN: dict[tuple[str, ...], str] = {}


@functools.lru_cache(maxsize=None)
def run(*argv: str) -> Any:
    """The parsed JSON output of ``convalgebra ARGV --format json`` (each command run once)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--format", "json"], out=out, err=err)
    assert (code, err.getvalue()) == (0, ""), f"{' '.join(argv)}: exit {code}: {err.getvalue()}"
    text = out.getvalue()
    assert text.endswith("}\n")
    return json.loads(text)


def cases() -> Iterator[tuple[str, tuple[str, ...]]]:
    """(schema name, command line) for every command over a broad set of inputs."""
    extra: tuple[str, ...]
    for name in MODULE_NAMES:
        for extra in ((), FULL, PARTIAL, ("--memory",), ("--memory", *FULL, "--dtype", "int8")):
            yield "explain", ("explain", name, *extra)
        for command in ("budget", "break-even", "limit"):
            for extra in ((), FULL[:-1], PARTIAL):
                yield command, (command, name, *extra)
    yield "explain", ("explain", "ResNet")  # a network's name read as its module: a caveat
    yield "explain", ("explain", "group", "--set", "G=3")  # no numbers at the example's sizes: a caveat
    yield "explain", ("explain", "depthwise-separable", "--set", "K=1", "M=1", "N=1", "I=1", "--memory")
    for rule in ("chain(reduce(4), group(32))", "chain(expand(6), group(2, on='pointwise'), depthwise())",
                 "chain(expand(4), depthwise(), excite(16))", "factorize()", "ghost(2)"):
        for extra in ((), ("--set", "K=3", "M=256", "N=256", "I=56"), ("--memory",)):
            yield "explain", ("explain", "--rule", rule, *extra)
    for command in ("budget", "break-even", "limit"):
        yield command, (command, "ResNet")
        yield command, (command, "group", "--set", "G=3")
    for a, b in (("bottleneck", "inverted-bottleneck"), ("group", "depthwise-separable"), ("fire", "xception"),
                 ("inverted-bottleneck", "inverted-bottleneck"), ("bottleneck", "bottleneck"),
                 ("mbconv", "convnext"), ("ghost", "shufflenet-v2"), ("dense-layer", "squeeze-excitation"),
                 ("resnext", "shufflenet"), ("vgg-stack", "factorized"), ("ResNet", "depthwise-separable")):
        for extra in ((), FULL, ("--set", "N=192")):
            yield "compare", ("compare", a, b, *extra)
    yield "compare", ("compare", "inverted-bottleneck", "inverted-bottleneck", "--set-a", "t=4", "--set-b", "t=6")
    yield "compare", ("compare", "inverted-bottleneck", "inverted-bottleneck", "--set-a", "t=4", "--set-b", "t=6",
                      *FULL)
    yield "compare", ("compare", "group", "shufflenet", "--set", "G=3")
    for net in ("resnet18", "mobilenet_v2", "googlenet", "shufflenet_v2_x0_5", "efficientnet_b0", "densenet121",
                "inception_v3", "convnext_tiny", "squeezenet1_1", "alexnet_grouped", "regnet_y_400mf"):
        yield "network", ("network", net)
    yield "network", ("network", "inception_v3", "--set", "H=299", "W=224")  # 1x7 and 7x1 kernels, [h, w] padding
    for net in ("resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x0_5"):
        for extra in (("--set", "I=160"), ("--set", "H=224", "W=160"), ("--symbolic",), ("--symbolic", "HW")):
            yield "network", ("network", net, *extra)
        for extra in ((), ("--set", "H=224", "W=160"), ("--symbolic",), ("--symbolic", "HW"), ("--dtype", "int8")):
            yield "network-memory", ("network", net, "--memory", *extra)
    yield "network", ("network", "mobilenet_v1", "--set", "alpha=0.5", "I=128")
    yield "network-roofline", ("network", "resnet18", "--roofline", "t4")
    yield "network-roofline", ("network", "mobilenet_v2", "--set", "H=224", "W=160", "--roofline", "a100", "--dtype",
                               "fp16")
    yield "network-roofline", ("network", "shufflenet_v2_x0_5", "--set", "I=160", "--roofline", "v100")
    yield "network-training", ("network", "resnet18", "--training")
    yield "network-training", ("network", "mobilenet_v2", "--training", "--batch", "8", "--set", "H=224", "W=160")
    yield "network-training", ("network", "resnet18", "--training", "--freeze", "layer1", "--optimizer", "adam",
                               "--dtype", "bf16")
    yield "network-training", ("network", "squeezenet1_1", "--training", "--symbolic", "HW")


CASES = tuple(cases())
TORCH_CASES = (("count", ("count", "torchvision:resnet18")),
               ("count", ("count", "torchvision:squeezenet1_1", "--symbolic")),
               ("count-conventions", ("count", "torchvision:resnet18", "--conventions")),
               ("network-training", ("count", "torchvision:resnet18", "--training", "--batch", "2")))
IDS = [" ".join(argv) for _, argv in CASES]


# -- the schemas themselves -------------------------------------------------------------------------------

SCHEMA_DIR = resources.files("convalgebra") / "schemas"


@functools.lru_cache(maxsize=None)
def validator(name: str, relaxed: bool = False) -> jsonschema.Draft202012Validator:
    """The validator of ``name``'s schema; ``relaxed`` lifts only the rule that an expression is never a
    whole number's digits (so a case known to break that rule is still held to everything else)."""
    loaded = schema(name)
    if relaxed:
        loaded = copy.deepcopy(loaded)
        loaded["$defs"].get("expression", {}).pop("not", None)
    return jsonschema.Draft202012Validator(loaded)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    document = schema(name)
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    words = name.replace("network-", "network --").replace("count-", "count --")
    assert document["title"] == f"convalgebra {words} --format json"
    assert document["type"] == "object" and document["additionalProperties"] is False
    assert set(document["required"]) <= set(document["properties"])
    for key, prop in document["properties"].items():  # each top-level property says what it is
        described = prop.get("description") or document["$defs"].get(prop.get("$ref", "#/$defs/").split("/")[-1],
                                                                      {}).get("description")
        assert described, f"{name}: {key} has no description"


def test_a_schema_for_each_name_and_no_other() -> None:
    files = sorted(p.name for p in SCHEMA_DIR.iterdir() if p.name.endswith(".json"))
    assert files == sorted(f"{name}.json" for name in SCHEMAS)


def test_shared_definitions_are_the_same_in_every_schema() -> None:
    """Each file stands alone, so the pieces they share ($defs) are copies: they must not drift apart."""
    seen: dict[str, tuple[str, Any]] = {}
    for name in SCHEMAS:
        for key, definition in schema(name)["$defs"].items():
            if key in seen:
                assert definition == seen[key][1], f"$defs/{key} differs between {seen[key][0]} and {name}"
            else:
                seen[key] = (name, definition)
    assert {"cost", "layer_row", "caveats", "given", "expression", "exact"} <= set(seen)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_fixed_object_is_closed(name: str) -> None:
    """Precise, not permissive: an object with listed properties lists which it requires and admits no other."""
    for node in _objects(schema(name)):
        if node.get("type") == "object" and "properties" in node and "allOf" not in node:
            assert node.get("additionalProperties") is False, node
            assert "required" in node, node


def _first_integer_path(node: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    if isinstance(node, bool):
        return None
    if isinstance(node, int):
        return path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found = _first_integer_path(value, (*path, key))
        if found is not None:
            return found
    return None


REFUSAL_CASES = (("explain", ("explain", "bottleneck")), ("compare", ("compare", "fire", "xception", *FULL)),
                 ("budget", ("budget", "bottleneck", *FULL[:-1])), ("limit", ("limit", "group", *FULL[:-1])),
                 ("network", ("network", "resnet18")), ("network-memory", ("network", "resnet18", "--memory")))


@pytest.mark.parametrize("name,argv", REFUSAL_CASES, ids=[" ".join(a) for _, a in REFUSAL_CASES])
def test_the_schema_refuses_what_is_off(name: str, argv: tuple[str, ...]) -> None:
    """A schema that took anything would pass every output: an extra key, a missing one, and a whole
    number written as a string are each refused."""
    document = run(*argv)
    check = validator(name)
    check.validate(document)
    extra = {**document, "surprise": 1}
    assert not check.is_valid(extra)
    for key in schema(name)["required"]:
        assert not check.is_valid({k: v for k, v in document.items() if k != key}), key
    path = _first_integer_path(document)
    assert path is not None
    spoiled = copy.deepcopy(document)
    node = spoiled
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = str(node[path[-1]])
    assert not check.is_valid(spoiled), path


# -- the outputs -------------------------------------------------------------------------------------------

def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for k, value in node.items():
            yield from _strings(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, key)


def _keyed(node: Any, keys: set[str]) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, value in node.items():
            if k in keys:
                yield k, value
            yield from _keyed(value, keys)
    elif isinstance(node, list):
        for value in node:
            yield from _keyed(value, keys)


def _floats(node: Any) -> Iterator[float]:
    if isinstance(node, float):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _floats(value)
    elif isinstance(node, list):
        for value in node:
            yield from _floats(value)


def check_encoding(document: Any) -> None:
    """The encoding rules, walked over the whole document."""
    digits = [(key, s) for key, s in _strings(document) if key not in NAME_KEYS and INTEGER_LITERAL.fullmatch(s)]
    assert not digits, f"whole numbers written as strings (should be JSON integers): {digits[:5]}"
    assert not list(_floats(document)), "a float in an exact answer"
    for key, size in _keyed(document, SIZE_KEYS | {"kernel"}):
        if size is None or (key != "kernel" and isinstance(size, (int, str))):  # one value: a square
            assert not isinstance(size, str) or not re.search(r"[,(\[]| x ", size), (key, size)
            continue
        assert isinstance(size, list) and len(size) == 2, (key, size)


def check_case(name: str, argv: tuple[str, ...]) -> None:
    document = run(*argv)
    validator(name, relaxed=True).validate(document)  # everything but the digits rule, known case or not
    if argv in KNOWN:
        with pytest.raises((jsonschema.ValidationError, AssertionError)):
            validator(name).validate(document)
            check_encoding(document)
        pytest.xfail(KNOWN[argv])
    validator(name).validate(document)
    check_encoding(document)


@pytest.mark.parametrize("name,argv", CASES, ids=IDS)
def test_output_matches_its_schema(name: str, argv: tuple[str, ...]) -> None:
    check_case(name, argv)


@pytest.mark.parametrize("name,argv", TORCH_CASES, ids=[" ".join(a) for _, a in TORCH_CASES])
def test_count_output_matches_its_schema(name: str, argv: tuple[str, ...]) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    check_case(name, argv)


def test_values_that_leave_a_module_no_convolution_are_one_line() -> None:
    """shufflenet-v2 at M = 64, N = 32 has a branch of N - M/2 = 0 channels: no module left to compare."""
    for argv in (("compare", "ghost", "shufflenet-v2", "--set", "M=64", "N=32"),
                 ("explain", "shufflenet-v2", "--set", "M=64", "N=32")):
        out, err = io.StringIO(), io.StringIO()
        assert main([*argv, "--format", "json"], out=out, err=err) == 2
        assert out.getvalue() == "" and err.getvalue().count("\n") == 1 and "no channels left" in err.getvalue()


def test_sizes_are_lists_for_an_oblong_or_symbolic_input() -> None:
    assert run("network", "resnet18", "--set", "H=224", "W=160")["input"]["size"] == [224, 160]
    assert run("network", "resnet18", "--symbolic", "HW")["input"]["size"] == ["H", "W"]
    assert run("network", "resnet18", "--symbolic")["input"]["size"] == "I"
    assert run("network", "resnet18")["input"] == {"channels": 3, "size": 224, "height": 224, "width": 224}
    assert run("network", "resnet18", "--memory", "--set", "H=224", "W=160")["size"] == [224, 160]
    oblong = run("network", "resnet18", "--set", "H=224", "W=160")
    for row in oblong["layers"] + oblong["stages"]:  # a list, or one value where the output is square (1 x 1)
        assert isinstance(row["output_size"], list) or row["output_size"] in (1, None), row
    assert all(isinstance(row["kernel"], list) for row in run("explain", "bottleneck")["layers"])


def test_closed_forms_read_back_in_the_printers_form() -> None:
    """An expression string is the printer's form, which parse_expression reads back to the same text."""
    import sympy

    from convalgebra.printing import text
    from convalgebra.symbols import parse_expression

    forms = []
    for name in MODULE_NAMES:
        e = run("explain", name)
        forms += [*e["baseline"].values(), *e["rewritten"].values(), *e["ratio"].values(),
                  *e["ratio_equal_channels"].values(), *(row["macs"] for row in e["layers"])]
    forms += [run("network", net, *sym)["total"]["macs"] for net in ("resnet18", "mobilenet_v2")
              for sym in (("--symbolic",), ("--symbolic", "HW"))]
    for form in forms:
        if isinstance(form, str):
            read = parse_expression(form)
            assert sympy.cancel(parse_expression(text(read)) - read) == 0, form
