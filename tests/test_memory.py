"""Memory traffic, the guidelines and the roofline, against counts written here independently:
elements read and written from each layer's own shape arithmetic, and the peak activation
memory from a simulated forward pass whose tensors Python frees by reference counting."""

from __future__ import annotations

import functools
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings, strategies as st

import convalgebra as ca
from convalgebra.blocks import Parallel, Repeat, Residual, Scale, Series, substitute
from convalgebra.cli import main
from convalgebra.errors import InvalidValueError, UnknownNameError
from convalgebra.guidelines import B
from convalgebra.layers import (Activation, AdaptivePool, BatchNorm, Conv, Elementwise, Identity, Linear, Pool, Shuffle,
                                Slice)
from convalgebra.memory import layer_traffic, network_memory, peak_memory, traffic
from convalgebra.symbols import G, H, I, K, M, N, W

sizes = st.integers(1, 64)


# -- an independent count: each layer's input, output and weights from its shapes ------------

def _side(n: int, k: int, stride: int, pad: int) -> int:
    return (n + 2 * pad - k) // stride + 1


def _conv_count(m: int, n: int, k: int, g: int, stride: int, pad: int, h: int, w: int) -> int:
    return m * h * w + n * _side(h, k, stride, pad) * _side(w, k, stride, pad) + k * k * (m // g) * n


@given(m=st.integers(1, 8), n=st.integers(1, 8), g=st.integers(1, 4), k=st.integers(1, 5),
       stride=st.integers(1, 3), h=sizes, w=sizes, data=st.data())
def test_conv_traffic_closed_form_matches_a_count(m, n, g, k, stride, h, w, data):
    pad = data.draw(st.integers(0, k // 2))
    m, n = m * g, n * g
    if _side(min(h, w), k, stride, pad) < 1:
        return
    conv = Conv(M, N, (K, K), groups=G, stride=stride, padding=pad)
    closed = layer_traffic(conv, (H, W)).elements
    counted = _conv_count(m, n, k, g, stride, pad, h, w)
    if stride == 1:  # the closed form in H and W is exact for every size at stride 1
        assert closed.subs({M: m, N: n, G: g, K: k, H: h, W: w}) == counted
    concrete = Conv(m, n, (k, k), groups=g, stride=stride, padding=pad)
    assert layer_traffic(concrete, (h, w)).elements == counted


@given(c=st.integers(1, 32), h=sizes, w=sizes, k=st.integers(1, 3))
def test_other_layers_count_their_maps_and_weights(c, h, w, k):
    hw = h * w
    assert layer_traffic(BatchNorm(c), (h, w)).elements == 2 * c * hw + 2 * c
    assert layer_traffic(Activation(c, "gelu"), (h, w)).elements == 2 * c * hw
    assert layer_traffic(Elementwise(c, "multiply"), (h, w)).elements == 3 * c * hw
    assert layer_traffic(Shuffle(2 * c, 2), (h, w)).elements == 4 * c * hw
    assert layer_traffic(Slice(2 * c, 0, c), (h, w)).elements == 0
    assert layer_traffic(Identity(c), (h, w)).elements == 0
    assert layer_traffic(AdaptivePool(c), (h, w)).elements == c * hw + c
    if k <= min(h, w):
        assert layer_traffic(Pool(c, k), (h, w)).elements == c * hw + c * (h // k) * (w // k)
    assert layer_traffic(Linear(c, 10, in_size=(h, w)), (h, w)).elements == c * hw + 10 + (c * hw * 10 + 10)


def _block_count(block, c: int, h: int, w: int) -> tuple[int, int]:
    """(elements moved, output channels) of a block with numbers in, on h x w at stride 1, counted here."""
    hw = h * w
    if isinstance(block, Series):
        moved = 0
        for item in block.items:
            step, c = _block_count(item, c, h, w)
            moved += step
        return moved, c
    if isinstance(block, Parallel):
        parts = [_block_count(item, c, h, w) for item in block.items]
        out = sum(p[1] for p in parts)
        return sum(p[0] for p in parts) + 2 * out * hw, out  # the concatenation reads and writes the joined map
    if isinstance(block, Scale):
        gate = 0
        gc = c
        for layer in block.gate.items if isinstance(block.gate, Series) else (block.gate,):
            if isinstance(layer, AdaptivePool):
                gate += c * hw + c
            else:
                gate += layer.in_channels + layer.out_channels + layer.params()
                gc = layer.out_channels
        return gate + c * hw + gc + c * hw, c
    if isinstance(block, Repeat):
        step, c = _block_count(block.body, c, h, w)
        return step * block.count, c
    if isinstance(block, (Identity, Slice)):
        return 0, block.out_channels
    return block.in_channels * hw + block.out_channels * hw + block.params(), block.out_channels


@functools.lru_cache(maxsize=None)
def _closed(name: str):
    return ca.explain(name, memory=True).memory.rewritten


@pytest.mark.parametrize("name", ca.module_names() + ca.later_module_names())
@settings(max_examples=8, deadline=None)
@given(base=st.integers(1, 2), i=st.integers(1, 20))
def test_module_traffic_closed_form_matches_a_count(name, base, i):
    mod = ca.module(name)
    values = {s: d for s, d in mod.parameters.items() if d is not None}
    values.update({K: 3, I: i})
    scale = 192 * base  # channels that every module's divisions keep whole
    values.update({M: scale, N: scale})
    try:
        concrete = substitute(mod.block(), values)
    except InvalidValueError:
        return
    closed = _closed(name)
    assert sympy.sympify(closed).subs(values) == _block_count(concrete, scale, i, i)[0]


def test_depthwise_separable_cuts_macs_far_more_than_traffic():
    e = ca.explain("depthwise-separable", K=3, M=512, N=512, I=14, memory=True)
    assert e.numbers.ratio.macs < Fraction(1, 8) and e.memory.ratio_at > Fraction(1, 4)
    # the closed form at the numbers is the count at the numbers
    assert e.memory.ratio.subs({K: 3, M: 512, N: 512, I: 14}) == e.memory.ratio_at


# -- peak activation memory: a forward pass whose tensors Python frees --------------------

class _Sim:
    def __init__(self) -> None:
        self.live = 0
        self.peak = 0

    def tensor(self, elements: int) -> "_Tensor":
        return _Tensor(self, elements)


class _Tensor:
    def __init__(self, sim: _Sim, elements: int, base: "_Tensor | None" = None) -> None:
        self.sim, self.elements, self.base = sim, elements, base
        if base is None:
            sim.live += elements
            sim.peak = max(sim.peak, sim.live)

    def view(self) -> "_Tensor":
        return _Tensor(self.sim, 0, self.base or self)

    def __del__(self) -> None:
        if self.base is None:
            self.sim.live -= self.elements


def _run(sim: _Sim, block, box: list, c: int, size) -> tuple[_Tensor, int, object]:
    """Run ``block`` on the tensor in ``box`` (taken out, so only the block holds it)."""
    if isinstance(block, Series):
        for item in block.items:
            x, c, size = _run(sim, item, box, c, size)
            box = [x]
            del x
        return box.pop(), c, size
    if isinstance(block, Repeat):
        for _ in range(block.count):
            x, c, size = _run(sim, block.body, box, c, size)
            box = [x]
            del x
        return box.pop(), c, size
    if isinstance(block, Parallel):
        x = box.pop()
        outs = [_run(sim, item, [x], c, size) for item in block.items]
        out_size = outs[0][2]
        total = sum(o[1] for o in outs)
        joined = sim.tensor(total * ca.layers.area(out_size))  # torch.cat, the input still in the frame
        del outs, x
        return joined, total, out_size
    if isinstance(block, Residual):
        x = box.pop()
        body, bc, bsize = _run(sim, block.body, [x], c, size)
        if block.shortcut is not None:
            short = _run(sim, block.shortcut, [x], c, size)[0]
        else:
            short = x
        if body is x or body.base is x:
            body = sim.tensor(bc * ca.layers.area(bsize))
        del x, short
        return body, bc, bsize
    if isinstance(block, Scale):
        x = box.pop()
        gate = _run(sim, block.gate, [x], c, size)[0]
        out = sim.tensor(c * ca.layers.area(size))
        del x, gate
        return out, c, size
    x = box.pop()
    out_size = block.output_size(size)
    if isinstance(block, ca.Attention):
        return _attend(sim, block, x, size), c, out_size
    if isinstance(block, (Identity, Slice)):
        return x.view(), block.out_channels, out_size
    out = sim.tensor(block.out_channels * ca.layers.area(out_size))
    del x
    return out, block.out_channels, out_size


def _attend(sim: _Sim, layer, x: _Tensor, size) -> _Tensor:
    """Self-attention as torch's math path runs it, each tensor freed when Python drops it: the queries, keys and
    values, the scores of each head, the softmax's output (the scores freed after it), the weighted sum, then
    the output projection. Tokens and partners counted here apart from the layer: the map's positions and the
    class tokens, or whole M x M windows (a side padded up to a multiple of M), each token with its window's."""
    height, width = ca.layers.sides(size)
    if layer.window is None:
        tokens, partners = height * width + layer.extra, height * width + layer.extra
    else:
        m = layer.window
        tokens, partners = -(-height // m) * -(-width // m) * m * m, m * m
    c, h = layer.channels, layer.heads
    qkv = sim.tensor(3 * tokens * c)
    scores = sim.tensor(h * tokens * partners)
    weights = sim.tensor(h * tokens * partners)
    del scores
    context = sim.tensor(tokens * c)
    del weights, qkv
    out = sim.tensor(c * height * width)
    del context, x
    return out


def _simulated_peak(stages, c: int, size) -> int:
    sim = _Sim()
    box = [sim.tensor(c * ca.layers.area(size))]
    for block in stages:
        x, c, size = _run(sim, block, box, c, size)
        box = [x]
        del x
    return sim.peak


def _small(c: int, e: int):
    return [
        Series(Conv(c, e, 3), BatchNorm(e), Activation(e)),
        Residual(Series(Conv(c, e, 1), Conv(e, e, 3, groups=e), Conv(e, c, 1))),
        Residual(Conv(c, e, 3, stride=2, padding=1), Conv(c, e, 1, stride=2, padding=0)),
        Parallel(Identity(c), Series(Conv(c, e, 1), Conv(e, e, 3))),
        Series(Parallel(Slice(2 * c, 0, c), Series(Slice(2 * c, c, 2 * c), Conv(c, c, 1))), Shuffle(2 * c, 2)),
        Series(Conv(c, e, 1), Scale(Series(AdaptivePool(e), Conv(e, c, 1), Conv(c, e, 1)))),
        Repeat(Residual(Series(Conv(c, c, 3), BatchNorm(c))), 3),
        Series(Conv(c, e, 1), Parallel(Conv(e, c, 1), Conv(e, 2 * c, 3), Series(Pool(e, 3, 1, 1), Conv(e, c, 1)))),
    ]


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 6), e=st.integers(1, 9), h=st.integers(4, 16), w=st.integers(4, 16), which=st.integers(0, 7))
def test_peak_matches_a_simulated_forward_pass(c, e, h, w, which):
    block = _small(c, e)[which]
    if which == 4:
        c = 2 * c
    assert peak_memory(block, (h, w), c) == _simulated_peak([block], c, (h, w))


@settings(max_examples=25, deadline=None)
@given(heads=st.integers(1, 4), per_head=st.integers(1, 6), h=st.integers(1, 12), w=st.integers(1, 12),
       window=st.sampled_from([None, 2, 3, 5]), extra=st.integers(0, 1), which=st.integers(0, 2))
def test_attention_peak_holds_its_scores_as_a_simulated_forward_pass(heads, per_head, h, w, window, extra, which):
    """The n x n scores (h*n*M**2 in windows) and the softmax's output are alive together inside attention:
    the peak holds them, equal to a forward pass whose tensors Python frees one by one."""
    c = heads * per_head
    attention = ca.Attention(c, heads, extra=0 if window else extra, window=window)
    block = [attention,
             Residual(Series(ca.LayerNorm(c), attention)),
             Series(Residual(Series(ca.LayerNorm(c), attention)),
                    Residual(Series(ca.TokenLinear(c, 4 * c), Activation(4 * c, "gelu"), ca.TokenLinear(4 * c, c))))][which]
    assert peak_memory(block, (h, w), c) == _simulated_peak([block], c, (h, w))
    if which == 0:
        n = (h * w + attention.extra) if window is None else -(-h // window) * -(-w // window) * window ** 2
        scores = heads * n * (n if window is None else window ** 2)
        assert peak_memory(block, (h, w), c) >= c * h * w + 3 * n * c + 2 * scores  # the input, qkv, S and P


@pytest.mark.parametrize("name", ["vit_b_16", "swin_t"])
def test_transformer_peak_holds_the_scores_and_its_closed_form(name):
    net = ca.network(name)
    stages = [s.block for s in net.stages if not s.side]
    size = net.default_size
    peak = network_memory(net, size).peak
    assert peak == _simulated_peak(stages, net.in_channels, size)
    if name == "swin_t":
        closed = network_memory(net, (H, W)).peak
        assert sympy.sympify(closed).subs({H: 224, W: 224}) == peak


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "squeezenet1_0", "googlenet", "densenet121"
                                  if "densenet121" in ca.network_names() else "shufflenet_v1"])
def test_network_peak_matches_a_simulated_forward_pass_and_its_closed_form(name):
    net = ca.network(name)
    stages = [s.block for s in net.stages if not s.side]
    size = net.default_size
    peak = network_memory(net, size).peak
    assert peak == _simulated_peak(stages, net.in_channels, size)
    closed = network_memory(net, (H, W)).peak
    assert sympy.sympify(closed).subs({H: size, W: size}) == peak
    oblong = (size, size + net.stride)
    assert network_memory(net, oblong).peak == _simulated_peak(stages, net.in_channels, oblong)


def test_network_traffic_sums_its_steps_and_its_macs_are_the_networks():
    m = network_memory("resnet50", 224, "fp16")
    assert m.macs == ca.network("resnet50").total(224)[0]
    assert m.bytes == 2 * sum(r.traffic.elements for r in m.rows)
    closed = network_memory("resnet50", (H, W))
    assert sympy.sympify(closed.elements).subs({H: 224, W: 224}) == m.elements


# -- the guidelines -----------------------------------------------------------------------

_G1 = functools.lru_cache(maxsize=None)(ca.guideline_g1)
_G2 = functools.lru_cache(maxsize=None)(ca.guideline_g2)


@settings(deadline=None)
@given(h=sizes, w=sizes, m=st.integers(1, 512), n=st.integers(1, 512))
def test_g1_bound_holds_and_is_reached_exactly_at_equal_widths(h, w, m, n):
    counted = h * w * (m + n) + m * n  # a 1 x 1 convolution's maps and weights
    b = h * w * m * n
    gap = sympy.sympify(counted) - _G1().bound.subs({B: b, H: h, W: w})
    assert bool(gap >= 0)
    assert bool(gap.is_zero) == (m == n)


@settings(deadline=None)
@given(h=sizes, w=sizes, m=st.integers(1, 64), n=st.integers(1, 16), g=st.integers(1, 8))
def test_g2_traffic_grows_with_groups_at_fixed_macs(h, w, m, n, g):
    b = h * w * m * n  # the MACs of a gg-group conv with n*gg outputs: h*w*m*(n*gg)/gg, whatever gg
    # its input map, its output map, its weights m*(n*gg)/gg
    counted = [h * w * m + h * w * n * gg + m * n for gg in (g, g + 1)]
    assert counted[1] > counted[0]
    assert _G2().traffic_at_budget.subs({B: b, H: h, W: w, M: m, G: g}) == counted[0]


_LEAST = functools.lru_cache(maxsize=None)(ca.least_traffic)


@settings(deadline=None)
@given(k=st.integers(1, 7), i=sizes, m=st.integers(1, 256), n=st.integers(1, 256))
def test_least_traffic_of_the_standard_convolution_is_reached_at_equal_widths(k, i, m, n):
    counted = i * i * (m + n) + k * k * m * n  # its input map, output map and weights
    d = _LEAST()
    at = {B: k * k * i * i * m * n, K: k, I: i}
    gap = sympy.sympify(counted) - d.bound.subs(at)
    assert bool(gap >= 0)
    assert bool(gap.is_zero) == (m == n)
    if m == n:
        assert {s: w.subs(at) for s, w in d.widths.items()} == {M: m, N: n}


@settings(deadline=None)
@given(k=st.integers(1, 5), i=sizes, m=st.integers(1, 128), n=st.integers(1, 256))
def test_least_traffic_of_depthwise_separable_bounds_every_width_and_is_reached(k, i, m, n):
    # depthwise: reads M maps, writes M maps, K*K*M weights; pointwise: reads M maps, writes N, M*N weights
    counted = 3 * i * i * m + i * i * n + k * k * m + m * n
    d = _LEAST("depthwise-separable")
    at = {B: i * i * m * (k * k + n), K: k, I: i}
    assert bool(sympy.sympify(counted) - d.bound.subs(at) >= 0)
    # at B = 3 I**2 m**2 the least is at M = m, N = 3m - K**2 (whole widths, where positive)
    best = 3 * m - k * k
    if best > 0:
        at = {B: 3 * i * i * m * m, K: k, I: i}
        assert {s: w.subs(at) for s, w in d.widths.items()} == {M: m, N: best}
        assert d.bound.subs(at) == 3 * i * i * m + i * i * best + k * k * m + m * best


def test_least_traffic_says_why_there_is_no_closed_form():
    with pytest.raises(InvalidValueError, match="no stationary point in N"):
        ca.least_traffic("bottleneck", {"K": 3})
    with pytest.raises(InvalidValueError, match="not shown a minimum"):
        ca.least_traffic("bottleneck")  # with K a symbol, the stationary point's sign is K's
    with pytest.raises(InvalidValueError, match="no short closed-form least in M"):
        ca.least_traffic("mbconv")


def test_g3_g4_are_counted_from_the_layers():
    f = ca.fragments("inverted-bottleneck")
    assert (f.layers, f.series, f.parallel, f.elementwise) == (3, 3, 1, {})
    f = ca.fragments(Residual(Series(Conv(8, 8, bias=True), Activation(8), Conv(8, 8))))
    assert f.elementwise == {"bias": 1, "activation": 1, "add": 1}


# -- the roofline --------------------------------------------------------------------------

def test_roofline_times_are_the_max_of_the_two_roofs():
    dev = ca.Device("mine", {"fp32": 10**12}, 10**11, "a made-up device")
    est = ca.roofline("resnet18", dev)
    for r in est.rows:
        assert r.time == max(Fraction(r.flops, 10**12), Fraction(r.bytes, 10**11))
        assert (r.bound == "compute") == (r.intensity >= dev.ridge())
    assert est.time >= est.macs_time


def test_crossing_sits_on_the_ridge():
    (n,) = ca.crossing(Conv(N, N, (K, K)), N, "t4", values={K: 3, I: 14})
    value = Fraction(str(sympy.Rational(n)))
    moved = 4 * (196 * value + 196 * value + 9 * value * value)
    assert 2 * 9 * value * value * 196 / moved == ca.device("t4").ridge()


@pytest.mark.parametrize("call, message", [
    (lambda: ca.traffic(42, 7), "takes layers and blocks, not an int"),
    (lambda: ca.layer_traffic(Series(Conv(8, 8)), 7), "expected a layer"),
    (lambda: ca.fragments(42), "takes layers and blocks, not an int"),
    (lambda: ca.network_memory("resnet18", "abc"), "cannot read 'abc'"),
    (lambda: ca.Device("mine", "abc", 10), "a device's peak compute"),
    (lambda: ca.crossing(Conv(N, N), "zz", "t4"), "unknown symbol 'zz'"),
    (lambda: ca.least_traffic(42), "takes layers and blocks, not an int"),
])
def test_bad_input_is_the_librarys_error(call, message):
    with pytest.raises(ca.ConvAlgebraError, match=message):
        call()


def test_bad_input():
    with pytest.raises(InvalidValueError):
        ca.network_memory("resnet18", 224, "fp64")
    with pytest.raises(UnknownNameError):
        ca.device("h100")
    with pytest.raises(InvalidValueError):
        ca.roofline("resnet18", "v100", dtype="int8")
    assert main(["network", "resnet18", "--roofline", "h100"], err=sys.stdout) == 2
    assert main(["explain", "group", "--dtype", "fp16"], err=sys.stdout) == 2


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_cli_memory_and_roofline_in_every_format(fmt, capsys):
    assert main(["explain", "depthwise-separable", "--memory", "--format", fmt]) == 0
    assert "memory" in capsys.readouterr().out.lower()
    assert main(["network", "resnet18", "--roofline", "a100", "--format", fmt]) == 0
    assert "conv1" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_network_memory_is_the_walks(fmt, capsys):
    assert main(["network", "resnet18", "--memory", "--symbolic", "HW", "--format", fmt]) == 0
    shown = capsys.readouterr().out
    peak = network_memory("resnet18", (H, W)).peak
    assert ca.text(peak) in shown and ca.text(4 * peak) in shown  # elements, and bytes in fp32
    assert main(["network", "resnet18", "--memory", "--set", "H=224", "W=160", "--dtype", "int8",
                 "--format", fmt]) == 0
    assert f"{network_memory('resnet18', (224, 160)).peak:{',' if fmt == 'text' else ''}}" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--dtype", "fp16"], ["--memory", "--roofline", "t4"],
                                  ["--memory", "--symbolic", "--set", "I=32"]])
def test_cli_network_memory_refuses_what_does_not_apply(argv, capsys):
    assert main(["network", "resnet18", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convalgebra: error: ") and len(err.strip().splitlines()) == 1


def test_every_format_renders_the_memory_results():
    for obj in (ca.explain("ghost", memory=True), ca.guideline_g1(), ca.guideline_g2(),
                ca.network_memory("resnet18", (H, W)), ca.roofline("mobilenet_v2", "t4")):
        shown = [render() for render in (obj.to_text, obj.to_markdown, obj.to_html, obj.to_latex)]
        assert shown == [render() for render in (obj.to_text, obj.to_markdown, obj.to_html, obj.to_latex)]
        assert all("ShuffleNet V2" in x or "conv1" in x or "ghost" in x for x in shown)


def test_explain_attention_memory_shows_the_peak_with_its_scores(capsys):
    """explain --memory of an attention module gives each side's peak in closed form and at the values, the
    closed form equal to the walk at those values; a module without attention shows no peak."""
    e = ca.explain("self-attention", memory=True)
    shown = e.numbers if e.numbers is not None else e.example
    values = dict(shown.values)
    assert sympy.sympify(e.memory.peak[1]).subs(values) == e.memory.peak_at[1]
    assert main(["explain", "window-attention", "--memory", "--format", "json"]) == 0
    import json

    peak = json.loads(capsys.readouterr().out)["memory"]["peak"]
    assert set(peak) == {"baseline", "rewritten", "at"}
    assert main(["explain", "self-attention", "--memory"]) == 0
    assert "n x n scores" in capsys.readouterr().out
    assert ca.explain("bottleneck", memory=True).memory.peak is None
