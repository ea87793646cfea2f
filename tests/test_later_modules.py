"""The later modules (squeeze-and-excitation, MBConv, ShuffleNet V2's unit, the ConvNeXt block,
the Ghost module, DenseNet's dense layer) against an independent count: each paper's layers
written out here as plain arithmetic on exact numbers, not derived from the library's rules.
hypothesis draws the sizes and the parameters."""

from __future__ import annotations

import json
from fractions import Fraction as Fr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.blocks import out_channels, substitute
from convalgebra.cost import total
from convalgebra.modules import LATER_MODULES
from convalgebra.catalog import later_module_names
from convalgebra.symbols import I, K, M, N, r, s, t

NAMES = later_module_names()


def paper_cost(name: str, K: int, M: int, N: int, I: int, t=None, r=None, s=None) -> tuple[Fr, Fr]:
    """(MACs, params) of each module as its paper describes the layers, at stride 1 on I x I.
    Weights only (no biases), batch norm and activations left out, as the library's rules make them."""
    K, M, N, I = map(Fr, (K, M, N, I))
    area = I * I
    if name == "squeeze-excitation":  # conv, then pool -> FC N -> N/r -> FC N/r -> N on one position
        conv = K * K * M * N
        gate = N * (N / r) + (N / r) * N
        return conv * area + gate, conv + gate
    if name == "mbconv":  # 1x1 M -> tM, depthwise KxK, SE on tM, 1x1 tM -> N
        wide = t * M
        per = M * wide + K * K * wide + wide * N
        gate = 2 * wide * (wide / r)
        return per * area + gate, per + gate
    if name == "shufflenet-v2":  # half of M passes; the rest: 1x1, depthwise KxK, 1x1 at width N - M/2
        half, width = M / 2, N - M / 2
        per = half * width + K * K * width + width * width
        return per * area, per
    if name == "convnext":  # depthwise KxK, LN (2M params), 1x1 M -> tM, 1x1 tM -> N, layer scale (N)
        per = K * K * M + M * t * M + t * M * N
        return per * area, per + 2 * M + N
    if name == "ghost":  # primary KxK M -> N/s, cheap 3x3 in N/s groups: N/s -> (s - 1)N/s
        primary = N / s
        per = K * K * M * primary + 3 * 3 * (N - primary)
        return per * area, per
    if name == "dense-layer":  # 1x1 M -> N/t, KxK N/t -> N, input concatenated
        per = M * (N / t) + K * K * (N / t) * N
        return per * area, per
    raise AssertionError(name)  # pragma: no cover


@st.composite
def values(draw, name: str):
    v = {I: draw(st.integers(1, 120)), K: draw(st.sampled_from([1, 3, 5, 7]))}
    if name in ("squeeze-excitation", "mbconv"):
        v[r] = draw(st.sampled_from([1, 2, 4, 8, 16, 24]))
        v[t] = draw(st.integers(1, 6))
        unit = v[r]
        v[M], v[N] = unit * draw(st.integers(1, 16)), unit * draw(st.integers(1, 16))
    elif name == "shufflenet-v2":
        v[M] = 2 * draw(st.integers(1, 64))
        v[N] = 2 * draw(st.integers(v[M] // 4 + 1, v[M] // 4 + 64))  # shuffled in 2, more than the M/2 kept
    elif name == "convnext":
        v[t] = draw(st.integers(1, 4))
        v[M] = v[N] = draw(st.integers(1, 256))
    elif name == "ghost":
        v[s] = draw(st.integers(1, 4))
        v[M], v[N] = draw(st.integers(1, 64)), v[s] * draw(st.integers(1, 32))
    elif name == "dense-layer":
        v[t] = draw(st.sampled_from([Fr(1, 4), Fr(1, 2), 1]))
        v[M], v[N] = draw(st.integers(1, 512)), 4 * draw(st.integers(1, 16))
    return {k: v for k, v in v.items() if name != "shufflenet-v2" or k not in (t, r, s)}


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_later_module_costs_what_its_paper_describes(name, data):
    v = data.draw(values(name))
    block = substitute(ca.module(name).block(), v)
    expected = paper_cost(name, v[K], v[M], v[N], v[I], v.get(t), v.get(r), v.get(s))
    assert total(block, v[I]) == expected
    # the closed form, at the same numbers
    macs, params = total(ca.module(name).block(), I)
    assert (macs.subs(v), params.subs(v)) == expected


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_the_savings_ratio_is_the_costs_divided(name, data):
    v = data.draw(values(name))
    e = ca.explain(name)
    macs, _ = paper_cost(name, v[K], v[M], v[N], v[I], v.get(t), v.get(r), v.get(s))
    assert e.ratio.macs.subs(v) == macs / (v[K] ** 2 * v[M] * v[N] * v[I] ** 2)


def test_the_output_channels_of_each_module():
    got = {m.name: out_channels(m.block()) for m in LATER_MODULES}
    assert got == {"squeeze-excitation": N, "mbconv": N, "shufflenet-v2": N, "convnext": N, "ghost": N,
                   "dense-layer": M + N}  # DenseNet keeps its input beside the N new channels


def test_closed_form_savings_limits_and_break_even():
    # Hu et al.: the gate adds 2N^2/r on one position; it never breaks even
    se = ca.explain("squeeze-excitation")
    assert se.ratio_equal_channels.macs == 1 + 2 / (I**2 * K**2 * r) and se.break_even == {}
    # ShuffleNet V2 at M = N: a half of the channels through 1x1, depthwise, 1x1 at N/2
    v2 = ca.explain("shufflenet-v2")
    assert v2.ratio_equal_channels.macs == 1 / (2 * N) + 1 / (2 * K**2) and v2.limit_large_N == 1 / (2 * K**2)
    # ConvNeXt: tends to 2t/K^2 (8/49 at K = 7, t = 4); it costs as much as a plain conv at t = K^2(N-1)/(M+N)
    cn = ca.explain("convnext")
    assert cn.limit_large_N == 2 * t / K**2
    assert (cn.ratio.macs.subs(t, cn.break_even[t]) - 1).simplify() == 0
    # Ghost: tends to 1/s, the paper's speed-up s
    assert ca.explain("ghost").limit_large_N == 1 / s
    # MBConv: the SE gate's share vanishes for large images, leaving MobileNet V2's ratio
    mb = ca.explain("mbconv")
    assert (mb.ratio_equal_channels.macs - ca.explain("inverted-bottleneck").ratio_equal_channels.macs
            - 2 * t**2 / (I**2 * K**2 * r)).simplify() == 0


def test_mbconv_is_its_own_module_now():
    # once an alias of the inverted bottleneck; now the inverted bottleneck with squeeze-and-excitation
    assert ca.module("mbconv").name == "mbconv" and ca.module("mobilenet_v2").name == "inverted-bottleneck"
    assert repr(ca.module("mbconv").rule) == "chain(expand(t), depthwise(), excite(r))"


@pytest.mark.parametrize("name", NAMES)
def test_each_later_module_explains_in_every_format(name):
    e = ca.explain(name, **{str(k): v for k, v in ca.module(name).example.items()})
    text = e.to_text()
    assert f"{e.numbers.rewritten.macs:,}" in text and ca.module(name).paper.title in text
    assert e.to_markdown() and e.to_latex() and e._repr_html_()
    assert json.loads(json.dumps(e.to_dict()))["values"]["rewritten"]["macs"] == e.numbers.rewritten.macs


def test_a_variant_needs_no_new_code():
    # a grouped ConvNeXt-like block with a squeeze-and-excitation gate: primitives only
    mine = ca.compose(ca.separate(), ca.widen(t), ca.excite(r, on="spatial"), name="mine", parameters={t: 4, r: 4})
    macs, _ = total(mine.block(), I)
    assert (macs - (I**2 * (K**2 * M + M * t * M + t * M * N) + 2 * M * M / r)).expand() == 0
