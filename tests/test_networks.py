"""Whole networks: the published figures reproduced, the closed form against the exact count,
stages and shares that add up, the network layers' arithmetic, lookup and the command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from fractions import Fraction
from functools import lru_cache

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import parse_expr

import convalgebra as ca
from convalgebra.cli import main
from convalgebra.errors import InvalidValueError, UnknownNameError
from convalgebra.blocks import Residual, Series, substitute
from convalgebra.cost import count, total
from convalgebra.layers import AdaptivePool, BatchNorm, Conv, Linear, Pool, pool_output_size
from convalgebra.catalog import attention_module_names, later_module_names, module_names
from convalgebra.blocks import iter_layers as leaves
from convalgebra.networks import out_channels
from convalgebra.catalog import network, network_names
from convalgebra.symbols import I
from convalgebra.zoo import SIZED

NAMES = network_names()
#: The networks that take every size (a ViT takes the one its position embedding is built for; tests/test_attention.py
#: counts it at others, built for each).
ANY_SIZE = [name for name in NAMES if name not in SIZED]
#: The networks whose MACs are a polynomial of degree 2 in I (a ViT's attention over all its tokens is of degree 4).
QUADRATIC = ANY_SIZE

# The published figures (torchvision's metadata, the papers) are reproduced in tests/test_zoo_references.py.

# torchvision's metadata "min_size": the smallest input each model takes.
MIN_SIZES = {"alexnet": 63, "vgg16": 32, "squeezenet1_0": 21, "squeezenet1_1": 17, "resnet50": 1,
             "resnext50_32x4d": 1, "mobilenet_v2": 1, "inception_v3": 75, "vgg11": 32, "googlenet": 15,
             "mnasnet0_5": 1, "regnet_x_400mf": 1}


@pytest.mark.parametrize("name", sorted(MIN_SIZES))
def test_smallest_input_matches_torchvision(name):
    assert network(name).min_size() == MIN_SIZES[name]


@lru_cache(maxsize=None)
def symbolic_cost(name: str):
    """The network counted at the symbol I, once for all the tests."""
    return network(name).count(I)


@lru_cache(maxsize=None)
def symbolic(name: str):
    """(MACs, params) in I: the totals of the count at I (expanded, as total_symbolic gives them)."""
    cost = symbolic_cost(name)
    return sympy.expand(cost.macs), sympy.expand(cost.params)


def test_the_count_at_i_is_total_symbolic():
    assert symbolic("resnet50") == network("resnet50").total_symbolic()


@pytest.mark.parametrize("name", ANY_SIZE)
@settings(max_examples=5, deadline=None)  # a polynomial of degree 2 in I: three sizes already settle it
@given(data=st.data())
def test_closed_form_is_exact_at_multiples_of_the_total_stride(name, data):
    net = network(name)
    least = -(-net.min_size() // net.stride)
    size = net.stride * data.draw(st.integers(least, least + 12), label="I / stride")
    macs, params = symbolic(name)
    assert (macs.subs(I, size), params) == net.total(size)


@pytest.mark.parametrize("name", QUADRATIC)
def test_closed_form_is_a_polynomial_of_degree_two_in_I(name):
    macs, params = symbolic(name)
    assert macs.free_symbols == {I} and macs.as_poly(I).degree() == 2
    assert params.is_Integer


@pytest.mark.parametrize("name", ANY_SIZE)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_layers_and_stages_add_up_and_shares_sum_to_one(name, data):
    net = network(name)
    size = data.draw(st.integers(net.min_size(), 2 * net.default_size), label="I")
    cost = net.count(size)
    assert sum(r.macs for r in cost.layers) == sum(s.macs for s in cost.stages) == cost.macs
    assert sum(r.params for r in cost.layers) == sum(s.params for s in cost.stages) == cost.params
    for rows in (cost.layers, cost.stages):
        assert sum(r.macs_share for r in rows) == 1 and sum(r.params_share for r in rows) == 1
    assert [s.layers for s in cost.stages] == [sum(r.stage == s.name for r in cost.layers) for s in cost.stages]
    assert all(isinstance(r.macs, int) and isinstance(r.params, int) for r in cost.layers)


@pytest.mark.parametrize("name", NAMES)
def test_every_layer_is_counted_once_with_a_unique_name(name):
    cost = network(name).count()
    names = [r.name for r in cost.layers]
    assert len(names) == len(set(names))
    net = network(name)
    assert len(cost.layers) == sum(len(list(leaves(s.block))) for s in net.stages)


@pytest.mark.parametrize("name", NAMES)
def test_stages_name_the_articles_modules(name):
    for stage in network(name).stages:
        assert stage.module == "" or stage.module in module_names() + later_module_names() + attention_module_names()


def test_networks_are_sums_of_the_articles_modules():
    modules = {name: {s.module for s in network(name).stages} - {""} for name in NAMES}
    assert modules["resnet50"] == {"bottleneck"} and modules["resnext50_32x4d"] == {"resnext"}
    assert modules["mobilenet_v1"] == {"depthwise-separable"} and modules["shufflenet_v1"] == {"shufflenet"}
    assert modules["mobilenet_v2"] == {"depthwise-separable", "inverted-bottleneck"}
    assert modules["squeezenet1_0"] == {"fire"} and modules["vgg16"] == {"vgg-stack"}
    assert modules["alexnet_grouped"] == {"group"} and "factorized" in modules["inception_v3"]
    assert modules["resnet18"] == set()  # a basic block (two 3 x 3) rewrites no larger kernel: not a vgg-stack
    assert modules["wide_resnet101_2"] == {"bottleneck"} and modules["resnext101_64x4d"] == {"resnext"}
    assert modules["vgg11_bn"] == modules["vgg19"] == {"vgg-stack"} and modules["googlenet"] == set()
    assert modules["mnasnet0_5"] == {"depthwise-separable", "inverted-bottleneck"}
    assert all(modules[f"regnet_x_{x}"] == {"resnext"} for x in ("400mf", "800mf", "1_6gf", "3_2gf", "16gf", "32gf"))
    assert modules["regnet_x_8gf"] == {"bottleneck", "resnext"}  # 80 channels in groups of 80: one group


def test_resnet18_basic_block_is_two_3x3_convs_not_a_stack_of_a_larger_kernel():
    for stage in network("resnet18").stages[1:-1]:
        convs = [x for x in leaves(stage.block) if isinstance(x, Conv) and "shortcut" not in x.name]
        assert {c.kernel for c in convs} == {(3, 3)} and len(convs) == 2 * 2  # two blocks of two 3x3


def test_mobilenet_v1_block_is_the_separate_rule_of_a_conv():
    block = network("mobilenet_v1").stages[1].block
    convs = [x for x in leaves(block) if isinstance(x, Conv)]
    rewritten = list(leaves(ca.separate()(Conv(32, 64, (3, 3), stride=1, padding=1))))
    assert [(c.in_channels, c.out_channels, c.kernel, c.groups) for c in convs] == \
        [(c.in_channels, c.out_channels, c.kernel, c.groups) for c in rewritten]


def test_shufflenet_does_not_group_the_first_pointwise_of_stage_2():
    stages = {s.name: s for s in network("shufflenet_v1").stages}
    pointwise = [c for c in leaves(stages["stage2"].block) if isinstance(c, Conv) and c.kernel == (1, 1)]
    assert [c.groups for c in pointwise[:3]] == [1, 3, 3]
    assert all(c.groups == 3 for s in ("stage3", "stage4")
               for c in leaves(stages[s].block) if isinstance(c, Conv) and c.kernel == (1, 1))


def test_inception_auxiliary_classifier_counts_params_and_does_not_run():
    net = network("inception_v3")
    eval_mode, train_mode = net.count(299), net.count(299, auxiliary=True)
    aux = next(s for s in eval_mode.stages if s.name == "AuxLogits")
    assert not aux.runs and aux.macs == 0 and aux.params > 0
    assert train_mode.params == eval_mode.params and train_mode.macs > eval_mode.macs
    assert net.count(75).macs > 0  # the main path fits at 75; the auxiliary head would not
    with pytest.raises(InvalidValueError, match="AuxLogits"):
        net.count(75, auxiliary=True)


def test_output_sizes_follow_the_real_arithmetic():
    sizes = {s.name: s.output_size for s in network("inception_v3").count(299).stages}
    assert (sizes["stem"], sizes["Mixed_5d"], sizes["Mixed_6e"], sizes["Mixed_7c"]) == (35, 35, 17, 8)
    sizes = {s.name: s.output_size for s in network("squeezenet1_0").count(224).stages}
    assert (sizes["conv1"], sizes["fire2-4"], sizes["fire5-8"]) == (54, 27, 13)  # ceil_mode pooling
    assert [s.output_size for s in network("alexnet_grouped").count(227).stages][:2] == [27, 13]


# -- the network layers ---------------------------------------------------------------

def windows(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """The pooling windows by enumeration: they start every ``stride`` from the left padding.
    Without ceil_mode a window must fit inside the padded input. With it, a window may hang
    over the end, but must start inside the input (or its left padding), and is taken only
    while the window before it had not reached the end of the padded input."""
    taken = 0
    for j in range(size + 2 * padding + 1):
        start = -padding + j * stride
        if ceil_mode:
            taken += start < size and (j - 1) * stride + kernel < size + 2 * padding
        else:
            taken += start + kernel <= size + padding
    return taken


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 60), kernel=st.integers(1, 7), stride=st.integers(1, 4), data=st.data())
def test_pool_output_size_counts_the_windows(size, kernel, stride, data):
    padding = data.draw(st.integers(0, kernel // 2))
    ceil_mode = data.draw(st.booleans())
    expected = windows(size, kernel, stride, padding, ceil_mode)
    if expected < 1:
        with pytest.raises(InvalidValueError):
            pool_output_size(size, kernel, stride, padding, ceil_mode)
    else:
        assert pool_output_size(size, kernel, stride, padding, ceil_mode) == expected


def test_windows_in_words():
    # ceil_mode keeps a last, partial window only when it starts inside the input
    assert [windows(s, 3, 2, 0, True) for s in (5, 6, 7)] == [2, 3, 3]
    assert [windows(s, 3, 2, 0, False) for s in (5, 6, 7)] == [2, 2, 3]
    assert windows(1, 3, 2, 0, True) == 0 and windows(2, 2, 2, 1, True) == 2


def test_closed_form_of_a_ceil_pool_is_exact_at_multiples_of_its_stride():
    for m in range(3, 30):
        assert pool_output_size(I / 2 - 3, 3, 2, ceil_mode=True).subs(I, 4 * m) == \
            pool_output_size(2 * m - 3, 3, 2, ceil_mode=True)


def test_linear_needs_its_input_size():
    assert Linear(256, 4096, 6).macs(6) == 256 * 36 * 4096
    with pytest.raises(InvalidValueError, match="pool to 6 x 6 first"):
        Linear(256, 4096, 6).macs(7)
    with pytest.raises(InvalidValueError):
        count(Series(Conv(3, 8), Linear(8, 10)), I)


def test_batch_norm_and_pools_cost_no_macs():
    block = Series(Conv(3, 8), BatchNorm(8), Pool(8, 2), AdaptivePool(8), Linear(8, 10))
    rows = count(block, 8)
    assert [r.macs for r in rows] == [27 * 8 * 64, 0, 0, 0, 80]
    assert [r.params for r in rows] == [27 * 8, 16, 0, 0, 90]
    assert [r.output_size for r in rows] == [8, 8, 4, 1, 1]


def test_residual_sums_sizes_that_agree():
    assert total(Residual(Conv(8, 8)), 5) == total(Conv(8, 8), 5)
    with pytest.raises(InvalidValueError, match="residual"):
        total(Residual(Conv(8, 8, (3, 3), stride=2, padding=1)), 8)
    with pytest.raises(InvalidValueError, match="residual"):
        out_channels(Residual(Conv(8, 16)), 8)


def test_substitute_reaches_the_network_layers():
    from convalgebra.symbols import M, N

    block = Series(Residual(Conv(M, M), Conv(M, M, (1, 1))), BatchNorm(M), Pool(M, 3, 2, 1), AdaptivePool(M),
                   Linear(M, N))
    fixed = substitute(block, {M: 64, N: 10})
    assert [x.in_channels for x in leaves(fixed)] == [64] * 6
    assert total(fixed, 8)[1] == 9 * 64 * 64 + 64 * 64 + 2 * 64 + 64 * 10 + 10


def test_pool_refuses_too_much_padding():
    with pytest.raises(InvalidValueError, match="at most half"):
        Pool(8, 3, 2, padding=2)
    with pytest.raises(InvalidValueError, match="max"):
        Pool(8, 3, kind="median")


# -- lookup and input sizes ---------------------------------------------------------------

def test_lookup_forgives_case_and_punctuation_and_suggests():
    assert network("ResNet-50").name == "resnet50" and network("MobileNet V2").name == "mobilenet_v2"
    with pytest.raises(UnknownNameError, match="did you mean resnext50_32x4d"):
        network("resnext50")
    with pytest.raises(UnknownNameError, match="known: alexnet"):
        network("transformer")


@pytest.mark.parametrize("size", [0, -3, Fraction(3, 2), 2.5, True, "22.4", sympy.I, -I, sympy.sqrt(2)])
def test_bad_sizes_are_refused(size):
    with pytest.raises(InvalidValueError):
        network("resnet18").count(size)


@pytest.mark.parametrize("size", [224, 224.0, "224", sympy.Integer(224), Fraction(448, 2)])
def test_a_size_in_any_form_of_the_one_rule_counts_the_same(size):
    """Numbers follow one rule everywhere (convalgebra.symbols.exact): a float is the decimal
    it prints as, text is read without eval."""
    assert network("resnet18").count(size).macs == network("resnet18").count(224).macs


def test_too_small_names_the_stage_and_the_smallest_size():
    with pytest.raises(InvalidValueError, match=r"alexnet at I = 40, stage .*smallest input alexnet takes is 63"):
        network("alexnet").count(40)


@pytest.mark.parametrize("name", [n for n in sorted(MIN_SIZES) if MIN_SIZES[n] > 1])
def test_too_small_names_the_layer_by_its_kind(name):
    net = network(name)
    size = net.min_size() - 1
    with pytest.raises(InvalidValueError) as caught:
        net.count(size)
    message = str(caught.value)
    # the layer the message names really has no output on the input it names
    rows = {r.name: r.layer for r in net.count().layers}
    layer = rows[message.split(": layer ")[1].split(",")[0]]
    given = int(message.split(" leaves no output on a ")[1].split(" x ")[0])
    with pytest.raises(InvalidValueError):
        layer.output_size(given)
    kind = "max pool" if isinstance(layer, Pool) and layer.kind == "max" else \
        "avg pool" if isinstance(layer, Pool) else "conv"
    assert f"x{layer.kernel if isinstance(layer, Pool) else layer.kernel[1]} {kind}" in message
    assert "pooling window" not in message and "-wide kernel" not in message  # one wording for every kind
    assert f"stride {layer.stride} and padding" in message


def test_alexnet_and_squeezenet_name_their_failing_max_pools_alike():
    messages = []
    for name, size in (("alexnet", 62), ("squeezenet1_0", 20)):
        with pytest.raises(InvalidValueError) as caught:
            network(name).count(size)
        messages.append(str(caught.value))
    assert all("a 3x3 max pool with stride 2 and padding 0, leaves no output" in m for m in messages)


def test_a_network_prints_as_a_short_summary_and_keeps_equality():
    from convalgebra.zoo import ZOO

    net = network("resnet50")
    assert str(net) == repr(net) == "Network('resnet50', 'ResNet-50', 6 stages, 3 x 224 x 224)"
    assert ZOO["resnet50"]() == net and ZOO["resnet50"]() is not net  # built afresh, equal field by field
    assert net != network("resnet18") and hash(ZOO["vgg16"]()) == hash(network("vgg16"))


# -- the command line -----------------------------------------------------------------------

def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_network_text_is_a_model_summary_with_units():
    code, out, err = run("network", "resnet50")
    assert code == 0 and err == ""
    assert "layer1.0.conv1" in out and "layer1.0.shortcut.conv1" in out and "Stages:" in out
    assert "4,089,184,256 MACs = 4.089 GMACs (multiply-accumulates)" in out
    assert "8,178,368,512 FLOPs = 8.178 GFLOPs (2 FLOPs per MAC)" in out and "25,557,032 params = 25.557 M params" in out
    assert run("network", "resnet50") == (code, out, err)  # stable


def totals(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("Total")):]


def test_a_symbolic_total_is_a_function_of_I_not_scaled():
    net = network("resnet18")
    lines = totals(net.count(I).to_text())
    assert lines[0] == f"Total as a function of I (exact when I is a multiple of {net.stride}):"
    assert not any(x in line for line in lines for x in ("GMACs", "GFLOPs", "Total at I"))
    macs, params = net.total_symbolic()
    assert lines[1] == f"  MACs = {ca.text(macs)} (multiply-accumulates)"
    assert lines[2] == f"  FLOPs = {ca.text(2 * macs)} (2 FLOPs per MAC)"
    assert lines[3].startswith(f"  {int(params):,} params")
    assert parse_expr(lines[1].split("=")[1].split("(")[0], local_dict={"I": I}) == macs


def scaled_by_decimal(value: int, unit: str) -> str:
    """The scaled form computed independently with decimal arithmetic: k/M/G/T to 1000 T, then 10^n."""
    from decimal import ROUND_HALF_UP, Decimal

    for exponent, prefix in ((12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if value >= 10**exponent:
            break
    rounded = (Decimal(value) / Decimal(10) ** exponent).quantize(Decimal("0.001"), ROUND_HALF_UP)
    if rounded >= 1000 and exponent < 12:
        return scaled_by_decimal(10 ** (exponent + 3), unit) if rounded == 1000 else "?"
    if rounded >= 1000:  # beyond 1000 T: a mantissa in [1, 10) times a power of ten
        exponent = len(str(value)) - 1
        rounded = (Decimal(value) / Decimal(10) ** exponent).quantize(Decimal("0.001"), ROUND_HALF_UP)
        if rounded >= 10:
            exponent, rounded = exponent + 1, Decimal("1.000")
        return f"{rounded} x 10^{exponent} {unit}"
    return f"{rounded:,} {prefix}{' ' if unit == 'params' else ''}{unit}"


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["resnet50", "squeezenet1_1", "mobilenet_v2"]), exponent=st.integers(0, 11), data=st.data())
def test_totals_print_the_exact_integer_and_a_correct_scaled_form(name, exponent, data):
    net = network(name)
    least = max(net.min_size(), 10**exponent)
    size = data.draw(st.integers(least, max(least, 10 ** (exponent + 1))), label="I")
    cost = net.count(size)
    lines = totals(cost.to_text())
    assert lines[0] == f"Total at I = {size}:"
    for line, value, unit in zip(lines[1:], (cost.macs, cost.flops, cost.params), ("MACs", "FLOPs", "params")):
        exact = f"  {value:,} {unit}"
        assert line.startswith(exact)
        if value >= 1000:
            assert line[len(exact):].startswith(f" = {scaled_by_decimal(value, unit)}")
        assert "?" not in line


def test_small_totals_scale_to_millions_and_huge_ones_to_powers_of_ten():
    small = totals(network("squeezenet1_1").count(30).to_text())
    assert small[1] == "  3,452,672 MACs = 3.453 MMACs (multiply-accumulates)"
    huge = totals(network("resnet50").count(10**10).to_text())
    assert huge[1] == "  8,145,600,000,000,000,002,048,000 MACs = 8.146 x 10^24 MACs (multiply-accumulates)"


@pytest.mark.parametrize("name", NAMES)
def test_stage_output_shows_channels_and_size(name):
    net = network(name)
    cost = net.count()
    running = [s for s in cost.stages if s.runs]
    stages = [s for s in net.stages if not s.side]
    for here, after in zip(stages, stages[1:]):  # a stage makes what the next stage's first layer takes
        first = next(iter(leaves(after.block)))
        assert next(s for s in running if s.name == here.name).output_channels == first.in_channels
    last = [x for x in leaves(stages[-1].block)][-1]
    assert running[-1].output_channels == last.out_channels
    text = cost.to_text().split("Stages:")[1]
    for stage in cost.stages:
        row = next(line for line in text.splitlines() if line.split()[:1] == [stage.name])
        assert f" {stage.output_channels}x{stage.output_size}x{stage.output_size} " in row


def test_network_json_contract():
    code, out, _ = run("network", "squeezenet1_1", "--set", "I=227", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["network"] == "squeezenet1_1" and data["input"]["size"] == 227
    expected = network("squeezenet1_1").count(227)
    assert data["total"] == {"macs": expected.macs, "params": expected.params}
    macs = parse_expr(data["total_symbolic"]["macs"], local_dict={"I": I})
    assert macs.subs(I, 224) == network("squeezenet1_1").count(224).macs
    assert int(data["total_symbolic"]["params"]) == expected.params
    for layer in data["layers"]:
        assert {"name", "module", "kernel", "in", "out", "groups", "stride", "output_size", "macs", "params"} <= set(layer)
        assert all(isinstance(layer[k], int) for k in ("in", "out", "groups", "stride", "output_size", "macs", "params"))
    assert sum(layer["macs"] for layer in data["layers"]) == expected.macs
    assert [s["output_channels"] for s in data["stages"]][-1] == 1000


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_network_markdown_and_latex_show_the_closed_form(fmt):
    code, out, _ = run("network", "mobilenet_v2", "--symbolic", "--format", fmt)
    assert code == 0 and r"\frac{47751 I^{2}}{8} + 1280000" in out
    assert "--symbolic" in run("network", "mobilenet_v2", "--format", fmt)[1]  # a count at a number points to it


@pytest.mark.parametrize("argv, message", [
    (["network", "resnet5"], "unknown network 'resnet5'; did you mean resnet50"),
    (["network", "resnet18", "--set", "I=0"], "I = 0: expected a whole number >= 1"),
    (["network", "resnet18", "--set", "I=abc"], "'abc' is not a number"),
    (["network", "alexnet", "--set", "I=8"], "smallest input alexnet takes is 63 x 63"),
    (["network", "resnet18", "--set", "K=3"], "a network takes only I"),
    (["network", "resnet18", "--set", "I=2.5"], "I = 5/2: expected a whole number"),
    (["network", "resnet18", "--set", "I=8", "I=9"], "I is set twice"),
    (["network", "resnet18", "--format", "yaml"], "invalid choice"),
])
def test_network_bad_input_is_one_line_and_exit_2(argv, message):
    code, out, err = run(*argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("convalgebra: error: ") and message in err


def test_networks_lists_each_network_with_its_paper():
    code, out, _ = run("networks")
    lines = out.splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == NAMES
    assert all('"' in line and "(20" in line for line in lines)


def test_a_concrete_count_does_not_import_sympy():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "convalgebra", "network", "resnet50"],
                            capture_output=True, text=True, check=True)
    assert "4.089 GMACs" in result.stdout
    assert "sympy" not in result.stderr


def test_an_input_size_too_long_to_read_is_one_line_and_exit_code_2():
    import io

    from convalgebra.cli import main

    err = io.StringIO()
    assert main(["network", "resnet18", "--set", "I=1" + "0" * 2200], out=io.StringIO(), err=err) == 2
    assert err.getvalue().count("\n") == 1 and "too long" in err.getvalue()


def test_at_a_symbolic_size_markdown_and_latex_typeset_every_expression():
    from convalgebra.symbols import I

    for size in (I, 2 * I + 1):
        cost = ca.network("resnet18").count(size)
        markdown, latex = cost.to_markdown(), cost.to_latex()
        assert "**" not in markdown and "**" not in latex  # no Python operators in typeset output
        assert "$0$" not in markdown  # a layer with no MACs has a 0.00% share, as at a number
        stem = cost.stages[0]
        assert stem.macs_share == sympy.cancel(stem.macs / cost.macs)  # in lowest terms, exact
    text = ca.network("resnet18").count(2 * I + 1).to_text()
    assert "Input: 3 x (2*I + 1) x (2*I + 1)." in text and "64 x (I/2 + 1) x (I/2 + 1)" in text


def test_at_a_symbolic_size_costs_are_expanded_polynomials_that_agree_with_numbers():
    from convalgebra.symbols import I

    cost = ca.network("resnet18").count(2 * I + 1)
    assert cost.macs == sympy.expand(cost.macs)
    for n in (32, 64, 96):  # I a multiple of the stride: every strided division is exact
        assert cost.macs.subs(I, n) == ca.network("resnet18").total(2 * n + 1)[0]
    assert "as a function of I (exact when I is a multiple of 16)" in cost.to_text()


@pytest.mark.parametrize("name", ca.network_names())
def test_where_the_closed_form_is_exact_two_ways(name):
    # the running layers' sizes (every one whole) and the total stride agree on where
    # the closed form in I is exact; and it is exact there, against the numeric count
    from convalgebra.symbols import I

    net = ca.network(name)
    cost = symbolic_cost(name)
    assert cost.exact_multiple == net.stride
    size = next(n for n in range(net.stride, 40 * net.stride, net.stride) if n >= net.min_size())
    assert cost.macs.subs(I, size) == net.total(size)[0]


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(["resnet18", "mobilenet_v2", "squeezenet1_1", "inception_v3", "shufflenet_v1"]),
       a=st.sampled_from([1, 2, 3, sympy.Rational(1, 2)]), b=st.integers(0, 40), m=st.integers(1, 4))
def test_the_closed_form_at_a_linear_size_is_exact_where_it_says(name, a, b, m):
    from convalgebra.symbols import I

    net = ca.network(name)
    cost = net.count(a * I + b)
    n = m * cost.exact_multiple
    while a * n + b < net.min_size():
        n += cost.exact_multiple
    assert cost.macs.subs(I, n) == net.total(int(a * n + b))[0]


def test_a_layer_where_a_stage_belongs_is_refused_with_what_to_write():
    with pytest.raises(ca.InvalidValueError, match=r"its stages are Stage\(name, block\), not a Conv; wrap"):
        ca.Network("x", "x", (ca.Conv(3, 8, (3, 3)),))
    with pytest.raises(ca.InvalidValueError, match="not a str"):
        ca.Network("x", "x", ("stem",))
    listed = ca.Network("x", "x", [ca.Stage("stem", ca.Conv(3, 8, (3, 3)))])  # a list of stages is fine
    assert listed.stages == (ca.Stage("stem", ca.Conv(3, 8, (3, 3))),) and listed.total(32) == (3 * 8 * 9 * 32 * 32, 216)


def test_a_networks_layers_json_carries_padding_and_bias():
    layers = ca.network("resnet18").count(224).to_dict()["layers"]
    stem = layers[0]
    assert (stem["kernel"], stem["stride"], stem["padding"], stem["bias"]) == ([7, 7], 2, 3, False)
    assert {layer["bias"] for layer in layers if layer["kind"] == "linear"} == {True}
    assert {layer["padding"] for layer in layers if layer["kind"] in ("batch norm", "linear")} == {None}


# -- H x W inputs --------------------------------------------------------------------------

HW_NAMES = ["alexnet", "resnet18", "inception_v3", "squeezenet1_0", "googlenet", "mobilenet_v3_small",
            "shufflenet_v2_x0_5", "densenet121", "convnext_tiny", "efficientnet_b0", "regnet_y_400mf"]


@lru_cache(maxsize=None)
def symbolic_hw(name: str):
    from convalgebra.symbols import H, W

    return network(name).count((H, W))


@pytest.mark.parametrize("name", HW_NAMES)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_the_closed_form_in_h_and_w_is_exact_at_multiples_and_is_the_square_one_at_h_equal_w(name, data):
    from convalgebra.symbols import H, W

    net = network(name)
    cost = symbolic_hw(name)
    macs, params = cost.macs, cost.params
    assert macs.subs({H: I, W: I}).expand() == symbolic(name)[0] and params == symbolic(name)[1]
    least = -(-net.min_size() // net.stride)
    h, w = (net.stride * data.draw(st.integers(least, least + 8), label=side) for side in "hw")
    assert (macs.subs({H: h, W: w}), params) == net.total((h, w))
    assert cost.exact_when() == f"H and W are multiples of {net.stride}"


@pytest.mark.parametrize("name", HW_NAMES)
def test_an_oblong_input_counts_each_side_on_its_own(name):
    # at H x W with H = W the count is the square one; the sides swap for these symmetric networks
    net = network(name)
    size = net.default_size
    assert net.total((size, size)) == net.total(size)
    assert net.total((size - 37, size)) == net.total((size, size - 37))


@lru_cache(maxsize=None)
def exact_form(name: str):
    return network(name).total_symbolic(exact=True)[0]


@pytest.mark.parametrize("name", ["alexnet", "resnet50", "googlenet", "squeezenet1_1", "inception_v3",
                                  "shufflenet_v2_x1_0", "mobilenet_v3_large", "convnext_tiny"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_the_form_with_floors_is_exact_at_every_size(name, data):
    net = network(name)
    size = data.draw(st.integers(net.min_size(), 3 * net.default_size), label="I")
    assert exact_form(name).subs(I, size) == net.total(size)[0]


def test_the_floor_form_says_what_the_polynomial_drops():
    from convalgebra.symbols import I

    polynomial, floored = network("resnet18").total_symbolic()[0], exact_form("alexnet")
    assert not polynomial.has(sympy.floor) and floored.has(sympy.floor)
    assert polynomial.subs(I, 225) != network("resnet18").total(225)[0]  # 225 is no multiple of 32


@pytest.mark.parametrize("argv,message", [
    (["network", "resnet18", "--set", "H=224"], "set both H and W"),
    (["network", "resnet18", "--set", "H=224", "W=0"], "W = 0: expected a whole number >= 1"),
    (["network", "resnet18", "--set", "I=224", "H=224"], "not both"),
    (["network", "resnet18", "--set", "H=224", "H=160"], "H is set twice"),
    (["network", "resnet18", "--set", "H=2.5", "W=3"], "H = 5/2: expected a whole number >= 1"),
])
def test_bad_h_and_w_get_one_line_and_exit_code_2(argv, message):
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2 and out.getvalue() == ""
    assert message in err.getvalue() and err.getvalue().count("\n") == 1


def test_the_command_line_counts_h_by_w_and_json_has_both():
    out = io.StringIO()
    assert main(["network", "resnet18", "--set", "H=224", "W=160", "--format", "json"], out=out, err=io.StringIO()) == 0
    data = json.loads(out.getvalue())
    assert data["input"] == {"channels": 3, "size": [224, 160], "height": 224, "width": 160}
    assert data["total"]["macs"] == network("resnet18").total((224, 160))[0]
    out = io.StringIO()
    assert main(["network", "resnet18", "--set", "H=224", "W=160"], out=out, err=io.StringIO()) == 0
    assert "Total at H x W = 224 x 160" in out.getvalue() and "512x7x5" in out.getvalue()


# -- the width multiplier alpha ---------------------------------------------------------------

# MobileNet V1's Tables 6 and 7: million mult-adds and million parameters, as the paper prints them
TABLE_6 = {Fraction(1): (569, 4.2), Fraction(3, 4): (325, 2.6), Fraction(1, 2): (149, 1.3), Fraction(1, 4): (41, 0.5)}
TABLE_7 = {224: 569, 192: 418, 160: 290, 128: 186}


@lru_cache(maxsize=None)
def mobilenet_alpha():
    return network("mobilenet_v1", ca.alpha).total_symbolic()


def test_mobilenet_v1_in_alpha_and_i_reproduces_the_papers_tables_6_and_7():
    macs, params = mobilenet_alpha()
    assert macs.free_symbols == {ca.alpha, I} and params.free_symbols == {ca.alpha}
    for a, (paper_macs, paper_params) in TABLE_6.items():
        assert round(macs.subs({ca.alpha: a, I: 224}) / 10**6) == paper_macs
        assert round(params.subs(ca.alpha, a) / 10**5) == round(10 * paper_params)  # tenths of a million
    for size, paper_macs in TABLE_7.items():
        # to the paper's million, rounded; at 160 the paper prints 290 for 290.7 (its only one rounded down)
        assert abs(macs.subs({ca.alpha: 1, I: size}) - paper_macs * 10**6) < 10**6


@settings(max_examples=20, deadline=None)
@given(a=st.sampled_from(sorted(TABLE_6)), n=st.integers(1, 12))
def test_the_closed_form_in_alpha_is_the_count_at_each_alpha(a, n):
    macs, params = mobilenet_alpha()
    size = 32 * n  # I a multiple of the total stride: every division exact
    assert (macs.subs({ca.alpha: a, I: size}), params.subs(ca.alpha, a)) == network("mobilenet_v1", a).total(size)


def test_a_family_that_rounds_its_widths_counts_at_each_alpha_and_says_where_a_closed_form_holds():
    with pytest.raises(InvalidValueError, match="only where alpha is a multiple of 1"):
        network("mobilenet_v2", ca.alpha)
    # at whole alpha the rounding does nothing: alpha times every width, twice the channels at alpha = 2
    one, two = network("mobilenet_v2", 1), network("mobilenet_v2", 2)
    pointwise = [(r.layer.in_channels, r.layer.out_channels) for r in one.count().layers if isinstance(r.layer, Conv)]
    doubled = [(r.layer.in_channels, r.layer.out_channels) for r in two.count().layers if isinstance(r.layer, Conv)]
    assert doubled[1:] == [(2 * a, 2 * b) for a, b in pointwise[1:]] and doubled[0] == (3, 64)
    assert network("mnasnet1_0", Fraction(1, 2)).total() == network("mnasnet0_5").total()
    with pytest.raises(InvalidValueError, match="resnet50 has no width multiplier"):
        network("resnet50", 0.5)
    with pytest.raises(InvalidValueError, match="not whole"):
        network("mobilenet_v1", 0.3)


def test_the_command_line_takes_alpha():
    out = io.StringIO()
    assert main(["network", "mobilenet_v1", "--set", "alpha=0.5", "I=160", "--format", "json"], out=out,
                err=io.StringIO()) == 0
    data = json.loads(out.getvalue())
    assert data["title"] == "MobileNet V1 0.5" and data["input"]["size"] == 160
    assert data["total"]["macs"] == mobilenet_alpha()[0].subs({ca.alpha: Fraction(1, 2), I: 160})
    err = io.StringIO()
    assert main(["network", "mobilenet_v1", "--set", "alpha=0"], out=io.StringIO(), err=err) == 2
    assert "alpha = 0: expected a number > 0" in err.getvalue()
