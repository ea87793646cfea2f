"""Layers: the output-size arithmetic and the cost of one convolution, against enumeration."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.blocks import Repeat, substitute
from convalgebra.cost import total
from convalgebra.layers import Conv, output_size

import enumerate_macs as em
from test_modules import article_macs


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 9), kernel=st.integers(1, 5), stride=st.integers(1, 3),
       padding=st.integers(0, 3), dilation=st.integers(1, 2),
       cin=st.integers(1, 3), groups=st.integers(1, 2), cout_per=st.integers(1, 3))
def test_convolution_cost_equals_enumeration(size, kernel, stride, padding, dilation, cin, groups, cout_per):
    cin *= groups
    cout = cout_per * groups
    reach = dilation * (kernel - 1) + 1
    if size + 2 * padding < reach:
        with pytest.raises(ca.InvalidValueError):
            output_size(size, kernel, stride, padding, dilation)
        return
    rng = random.Random(0)
    counter = em.Counter()
    out = em.conv2d(em.random_tensor(cin, size, rng), cout, (kernel, kernel), groups, stride,
                    (padding, padding), dilation, counter, rng)
    conv = Conv(cin, cout, (kernel, kernel), groups=groups, stride=stride, padding=padding, dilation=dilation)
    assert conv.output_size(size) == len(out[0]) == len(out[0][0])
    assert conv.macs(size) == counter.macs
    assert conv.params() == cout * (cin // groups) * kernel * kernel


@settings(max_examples=60, deadline=None)
@given(height=st.integers(1, 9), width=st.integers(1, 9), kh=st.integers(1, 4), kw=st.integers(1, 4),
       stride=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2), groups=st.integers(1, 2),
       cout_per=st.integers(1, 2))
def test_an_h_by_w_convolution_costs_what_the_loops_count(height, width, kh, kw, stride, ph, pw, groups, cout_per):
    conv = Conv(2 * groups, cout_per * groups, (kh, kw), groups=groups, stride=stride, padding=(ph, pw))
    if height + 2 * ph < kh or width + 2 * pw < kw:
        with pytest.raises(ca.InvalidValueError):
            conv.output_size((height, width))
        return
    rng, counter = random.Random(0), em.Counter()
    out = em.conv2d(em.random_tensor(2 * groups, height, rng, width), cout_per * groups, (kh, kw), groups, stride,
                    (ph, pw), 1, counter, rng)
    assert ca.layers.sides(conv.output_size((height, width))) == (len(out[0]), len(out[0][0]))
    assert conv.macs((height, width)) == counter.macs


@settings(max_examples=40, deadline=None)
@given(height=st.integers(1, 6), width=st.integers(1, 6), kernel=st.integers(1, 4), stride=st.integers(1, 3),
       padding=st.integers(0, 1), extra=st.integers(0, 2), groups=st.integers(1, 2))
def test_a_transposed_convolution_costs_what_its_scatter_counts(height, width, kernel, stride, padding, extra, groups):
    # MACs on the input positions: Kh*Kw*M*(N/G)*H*W, what FlopCounterMode also counts
    if extra >= stride:
        with pytest.raises(ca.InvalidValueError, match="output_padding"):
            ca.ConvTranspose(2, 2, kernel, stride=stride, output_padding=extra)
        return
    up = ca.ConvTranspose(2 * groups, 3 * groups, (kernel, kernel), groups=groups, stride=stride, padding=padding,
                          output_padding=extra)
    if (min(height, width) - 1) * stride + kernel + extra - 2 * padding < 1:
        with pytest.raises(ca.InvalidValueError):
            up.output_size((height, width))
        return
    rng, counter = random.Random(0), em.Counter()
    out = em.conv_transpose2d(em.random_tensor(2 * groups, height, rng, width), 3 * groups, (kernel, kernel), groups,
                              stride, (padding, padding), (extra, extra), counter, rng)
    assert ca.layers.sides(up.output_size((height, width))) == (len(out[0]), len(out[0][0]))
    assert up.macs((height, width)) == counter.macs
    assert up.params() == 2 * groups * 3 * kernel * kernel


@settings(max_examples=60, deadline=None)
@given(multiple=st.integers(1, 40), kernel=st.integers(1, 11), stride=st.integers(1, 4),
       padding=st.integers(0, 5), offset=st.integers(-3, 3))
def test_symbolic_output_size_is_exact_at_multiples_of_the_stride(multiple, kernel, stride, padding, offset):
    """For a size c*I + e, the closed form holds whenever c*I is a multiple of the stride."""
    I = ca.I
    size_expr = I + offset
    value = stride * multiple
    concrete_in = value + offset
    if concrete_in < 1 or concrete_in + 2 * padding < kernel:
        return
    closed = output_size(size_expr, kernel, stride, padding)
    assert closed.subs(I, value) == output_size(concrete_in, kernel, stride, padding)


def test_rectangular_kernels_keep_a_square_map_with_matching_padding():
    conv = Conv(8, 8, (1, 7), padding=(0, 3))
    assert conv.output_size(17) == 17
    assert conv.macs(17) == 7 * 8 * 8 * 17 * 17


def test_uneven_padding_makes_an_oblong_map_counted_as_the_loops_count_it():
    # once refused as "non-square"; now H x W: 17 + 6 rows and 17 + 6 - 6 columns
    conv = Conv(2, 3, (1, 7), padding=3)
    assert conv.output_size(17) == (23, 17)
    counter, rng = em.Counter(), random.Random(0)
    out = em.conv2d(em.random_tensor(2, 17, rng), 3, (1, 7), 1, 1, (3, 3), 1, counter, rng)
    assert (len(out[0]), len(out[0][0])) == (23, 17) and conv.macs(17) == counter.macs


def test_bias_adds_one_parameter_per_output_channel():
    assert Conv(3, 64, (3, 3), bias=True).params() == 3 * 3 * 3 * 64 + 64


def test_groups_must_divide_channels():
    with pytest.raises(ca.InvalidValueError, match="3 groups do not divide the 64"):
        Conv(64, 64, (3, 3), groups=3).macs(8)


def test_repeated_layers_count_in_series():
    block = Repeat(Conv(ca.N, ca.N, (3, 3)), ca.k)
    macs, params = total(block, ca.I)
    assert macs == 9 * ca.N**2 * ca.I**2 * ca.k
    assert total(substitute(block, {ca.N: 4, ca.k: 3}), 5) == (9 * 16 * 25 * 3, 9 * 16 * 3)


def test_substitute_demands_whole_channel_counts():
    with pytest.raises(ca.InvalidValueError, match="N/t = 5/2 channels"):
        substitute(Conv(ca.M, ca.N / ca.t, (1, 1)), {ca.M: 4, ca.N: 10, ca.t: 4})
    with pytest.raises(ca.InvalidValueError, match="no value for t"):
        substitute(Conv(ca.M, ca.N / ca.t, (1, 1)), {ca.M: 4, ca.N: 10})


def test_symbols_are_the_librarys_own():
    assert ca.I is not sympy.I and ca.N is not sympy.N
    assert all(s.is_positive for s in ca.SYMBOLS.values())


@pytest.mark.parametrize("call", [
    lambda: Conv(4, 6, (3, 3)).macs(-3), lambda: Conv(4, 6, (3, 3)).macs(2.5), lambda: total(Conv(4, 6, (3, 3)), 0),
    lambda: Conv(4, 6, (3, 3), stride=0, padding=1), lambda: ca.count(Conv(4, 6, (3, 3)), "a"),
    lambda: output_size(8, 3, stride=1, padding=1, dilation=0), lambda: Conv(4, 6, (3, 3, 3)),
])
def test_bad_sizes_and_strides_are_library_errors(call):
    with pytest.raises(ca.InvalidValueError):
        call()


def test_a_square_kernel_may_be_given_as_one_number():
    assert Conv(4, 6, 3) == Conv(4, 6, (3, 3))


def test_numbers_too_long_to_be_sizes_are_refused_in_one_line():
    from convalgebra.cli import main
    import io

    err = io.StringIO()
    assert main(["explain", "group", "--set", "K=" + "1" * 5000], out=io.StringIO(), err=err) == 2
    assert err.getvalue().count("\n") == 1 and "too long" in err.getvalue()


@pytest.mark.parametrize("make,message", [
    (lambda: ca.Conv(64.5, 64), "input channels = 129/2: expected a whole number >= 1"),
    (lambda: ca.Conv(64, 64, (0, 0)), "kernel side = 0: expected a whole number >= 1"),
    (lambda: ca.Conv(0, 64), "input channels = 0"),
    (lambda: ca.Conv(-64, 64), "input channels = -64"),
    (lambda: ca.Conv("64.5", 64), "input channels = 129/2"),  # text is read as a number, then checked
    (lambda: ca.Conv("x", 64), "cannot read 'x'"),
    (lambda: ca.Repeat(ca.Conv(64, 64), -1), "repeats = -1: expected a whole number >= 0"),
    (lambda: ca.Conv(64, 64, groups=True), "groups = True: expected a number, not a truth value"),
    (lambda: ca.Conv(64, 64, bias=1), "bias = 1: expected True or False"),
    (lambda: ca.Parallel(), "Parallel() has no branch"),
    (lambda: ca.Series([ca.Conv(64, 64)]), "not Series([a, b])"),
    (lambda: ca.Series(3), "not an int"),
    (lambda: ca.Residual(None), "not a NoneType"),
    (lambda: ca.Shuffle(12, 0), "groups = 0"),
    (lambda: ca.BatchNorm(0.5), "channels = 1/2"),
    (lambda: ca.Linear(512, 0), "output features = 0"),
    (lambda: ca.Pool(64, 3, stride=0), "pooling stride = 0"),
    (lambda: ca.Slice(8, 4, 4), "expected 0 <= start < stop <= 8"),
    (lambda: ca.Slice(8, -1, 4), "first channel = -1"),
    (lambda: ca.Identity(0), "channels = 0"),
    (lambda: ca.LayerNorm(2.5), "channels = 5/2"),
    (lambda: ca.LayerScale(-1), "channels = -1"),
    (lambda: ca.Activation(8, "swish"), "'swish'"),
    (lambda: ca.Elementwise(8, "subtract"), "'subtract'"),
    (lambda: ca.ConvTranspose(8, 8, 3, stride=2, output_padding=2), "output_padding 2 must be smaller"),
    (lambda: ca.ConvTranspose(8, 8, 3, padding=-1), "padding = -1"),
    (lambda: ca.Upsample(8, 0), "upsampling scale = 0"),
    (lambda: ca.Upsample(8, 2, "cubic"), "'cubic'"),
    (lambda: ca.Scale([ca.Conv(8, 8)]), "Scale"),
    (lambda: ca.total(ca.Scale(ca.Conv(8, 8, (3, 3), stride=2, padding=1)), 8), "a scale's gate must pool to 1 x 1"),
    (lambda: ca.total(ca.Series(ca.Conv(8, 8), ca.Linear(8, 10, (2, 3))), (2, 2)), "pool to 2 x 3 first"),
])
def test_a_layer_or_block_that_cannot_exist_is_refused_when_built(make, message):
    with pytest.raises(ca.InvalidValueError) as error:
        make()
    assert message in str(error.value)


@settings(max_examples=50, deadline=None)
@given(channels=st.integers(1, 512), kernel=st.integers(1, 7), size=st.integers(7, 64))
def test_whole_positive_sizes_are_still_counted_exactly(channels, kernel, size):
    macs, params = ca.total(ca.Conv(channels, 2 * channels, (kernel, kernel)), size)
    assert (macs, params) == (kernel * kernel * channels * 2 * channels * size * size, kernel * kernel * channels * 2 * channels)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 4), dilation=st.integers(1, 2))
def test_padding_valid_is_no_padding(size, kernel, stride, dilation):
    reach = dilation * (kernel - 1) + 1
    if reach > size:
        with pytest.raises(ca.InvalidValueError, match="leaves no output"):
            output_size(size, kernel, stride, "valid", dilation)
        return
    assert output_size(size, kernel, stride, "valid", dilation) == (size - reach) // stride + 1
    assert output_size(size, kernel, stride, "valid", dilation) == output_size(size, kernel, stride, 0, dilation)


def test_the_articles_defaults_are_in_the_repr_and_pytorchs_are_a_keyword_away():
    copied = Conv(3, 32, (3, 3), stride=2)  # nn.Conv2d(3, 32, 3, stride=2) copied as it is
    assert repr(copied) == "Conv(3, 32, (3, 3), stride=2, padding='same', bias=False)"
    assert (copied.output_size(96), copied.params()) == (48, 3 * 32 * 9)
    torch_like = Conv(3, 32, (3, 3), stride=2, padding="valid", bias=True)
    assert (torch_like.output_size(96), torch_like.params()) == ((96 - 3) // 2 + 1, 3 * 32 * 9 + 32)
    with pytest.raises(ca.InvalidValueError, match="expected 'same', 'valid' or a whole number"):
        Conv(3, 32, (3, 3), padding="SAME").output_size(8)


@settings(max_examples=40, deadline=None)
@given(share=st.sampled_from([Fraction(0), Fraction(1)]), M_=st.integers(1, 64), n=st.integers(1, 16),
       t_=st.integers(1, 4), K_=st.sampled_from([1, 3, 5]), I_=st.integers(1, 20))
def test_a_share_of_none_builds_no_layer_of_zero_channels(share, M_, n, t_, K_, I_):
    """Fire at p = 0 is all 1 x 1 and at p = 1 all K x K: no Conv(16, 0) in either."""
    values = {ca.K: K_, ca.M: M_, ca.N: 4 * t_ * n, ca.I: I_, ca.t: t_, ca.p: share}
    block = substitute(ca.module("fire").block(), values)
    layers = list(ca.blocks.iter_layers(block))
    assert len(layers) == 2 and all(layer.out_channels >= 1 for layer in layers)
    macs = total(block, I_)[0]
    assert macs == article_macs("fire", **{str(s): v for s, v in values.items()})
    rule = ca.mix(share)(Conv(M_, 4 * n, (3, 3)))
    assert isinstance(rule, Conv) and rule.kernel == ((3, 3) if share == 1 else (1, 1))
    with pytest.raises(ca.InvalidValueError, match="output channels = 0: expected a whole number >= 1"):
        Conv(16, 0)
