"""Attention in the algebra: the transformer layers, rules and modules against counts written apart from the
library (plain Python formulas, and PyTorch's FlopCounterMode on the meta device, FLOPs / 2 = MACs, on torch's and
torchvision's own modules), and every torchvision transformer of the zoo against torchvision's definition."""

from __future__ import annotations

import math
from functools import lru_cache

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convalgebra as ca
from convalgebra.cost import total
from convalgebra.errors import InvalidValueError
from convalgebra.layers import Attention, Conv, LinearAttention, PatchMerge, TokenLinear, Tokens
from convalgebra.memory import layer_traffic
from convalgebra.symbols import G, H, I, K, M, N, W, t

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- independent counts: the formulas, written here from the papers, in plain Python ------------------------------

def attention_macs(n: int, c: int) -> int:
    """Vaswani et al.: q, k, v and the output projection (4 n c^2), the scores and the weighted sum (2 n^2 c)."""
    return 4 * n * c * c + 2 * n * n * c


def window_attention_macs(height: int, width: int, c: int, m: int) -> int:
    """Swin on a map padded up to whole m x m windows (torchvision's padding): every token against its window."""
    n = math.ceil(height / m) * m * math.ceil(width / m) * m
    return 4 * n * c * c + 2 * n * m * m * c


def module_macs(name: str, kernel: int, m: int, n: int, i: int, **own: int) -> int:
    """Each attention module's MACs on an i x i input, from its paper's structure."""
    tokens, k = i * i, kernel
    if name == "patch-embedding":
        tiles = math.ceil(i / k) ** 2
        return tiles * k * k * m * n
    tt = own["t"]
    mlp = tokens * (m * tt * m + tt * m * n)
    if name == "self-attention":
        return attention_macs(tokens, m) + mlp
    if name == "window-attention":
        return window_attention_macs(i, i, m, k) + mlp
    if name == "mobilevit":  # MobileViT: local K x K, 1 x 1, attention between k x k patches, MLP, 1 x 1, fusion
        p, seqs = own["k"], own["k"] ** 2
        assert i % p == 0  # whole patches (timm stretches the map to them otherwise)
        attention = seqs * attention_macs(tokens // seqs, n)
        return (k * k * m * m + m * n + 2 * tt * n * n + n * n + k * k * (m + n) * n) * tokens + attention
    if name == "separable-attention":
        return tokens * m * (2 * m + 1) + tokens * m * m + mlp
    raise AssertionError(name)


@pytest.mark.parametrize("name", ca.attention_module_names())
@SETTINGS
@given(data=st.data())
def test_each_attention_module_agrees_with_an_independent_count(name, data):
    mod = ca.module(name)
    k = data.draw(st.integers(2, 9), label="K")
    m = data.draw(st.integers(1, 64), label="M")
    n = m if name not in ("patch-embedding", "mobilevit") else data.draw(st.integers(1, 64), label="N")
    i = data.draw(st.integers(1, 40), label="I")
    own = {str(s): data.draw(st.integers(1, 6), label=str(s)) for s in mod.parameters if str(s) == "t"}
    if "k" in map(str, mod.parameters):  # MobileViT's patch side, and a map of whole patches
        own["k"] = data.draw(st.integers(2, 4), label="k")
        i = own["k"] * data.draw(st.integers(1, 8), label="I / k")
    if G in mod.parameters:  # heads: a divisor of the channels they work on
        width = n if name == "mobilevit" else m
        own["G"] = data.draw(st.sampled_from([d for d in range(1, width + 1) if width % d == 0]), label="G")
    e = ca.explain(name, K=k, M=m, N=n, I=i, **own)
    assert e.numbers.rewritten.macs == module_macs(name, k, m, n, i, **own)
    assert e.numbers.baseline.macs == k * k * m * n * i * i


def test_the_attention_modules_closed_forms():
    # the ratios against the standard convolution, in the article's letters
    assert ca.text(ca.explain("patch-embedding").ratio.macs) == "1/K**2"
    quadratic = ca.explain("self-attention").ratio_equal_channels.macs
    assert sympy.simplify(quadratic - (2 * I**2 / (K**2 * N) + 2 * (t + 2) / K**2)) == 0
    windowed = ca.explain("window-attention").ratio_equal_channels.macs
    assert sympy.simplify(windowed - (2 / N + 2 * (t + 2) / K**2)) == 0  # no I: linear in the area
    assert I not in ca.explain("separable-attention").ratio.macs.free_symbols


# -- the layers against torch's own modules -----------------------------------------------------------------------

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


def flop_macs(fn, *args) -> tuple[int, dict]:
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, {str(op): v // 2 for op, v in counter.get_flop_counts().get("Global", {}).items()}


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


@SETTINGS
@given(heads=st.integers(1, 4), per_head=st.integers(1, 8), height=st.integers(1, 9), width=st.integers(1, 9),
       extra=st.integers(0, 1))
def test_self_attention_is_torchs_multihead_attention(heads, per_head, height, width, extra):
    c = heads * per_head
    with torch.device("meta"):
        mha = torch.nn.MultiheadAttention(c, heads, batch_first=True)
    x = torch.empty(1, height * width + extra, c, device="meta")
    macs, ops = flop_macs(lambda: mha(x, x, x, need_weights=False))
    layer = Attention(c, heads, extra=extra)
    assert layer.macs((height, width)) == macs == attention_macs(height * width + extra, c)
    assert layer.params() == numel(mha)
    assert layer.score_macs((height, width)) == ops["aten.bmm"]  # SDPA on meta: its math path's two bmm


@SETTINGS
@given(heads=st.integers(1, 3), per_head=st.integers(1, 6), window=st.integers(2, 5), height=st.integers(1, 13),
       width=st.integers(1, 13), shifted=st.booleans(), v2=st.booleans())
def test_window_attention_is_torchvisions_shifted_window_attention(heads, per_head, window, height, width, shifted, v2):
    from torchvision.models.swin_transformer import ShiftedWindowAttention, ShiftedWindowAttentionV2

    c = heads * per_head
    shift = window // 2 if shifted else 0
    kind = ShiftedWindowAttentionV2 if v2 else ShiftedWindowAttention
    with torch.device("meta"):
        swa = kind(c, [window, window], [shift, shift], heads).eval()
    macs, _ = flop_macs(swa, torch.empty(1, height, width, c, device="meta"))
    layer = Attention(c, heads, window=window, shift=shift, position_bias="mlp" if v2 else "table")
    cpb = (2 * window - 1) ** 2 * (2 * 512 + 512 * heads) if v2 else 0
    assert layer.macs((height, width)) == macs == window_attention_macs(height, width, c, window) + cpb
    assert layer.params() == numel(swa)


class SeparableSelfAttention(torch.nn.Module):
    """MobileViT V2's LinearSelfAttention (Mehta and Rastegari's code), on an H x W map."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.c = c
        self.qkv_proj = torch.nn.Conv2d(c, 1 + 2 * c, 1)
        self.out_proj = torch.nn.Conv2d(c, c, 1)

    def forward(self, x):
        query, key, value = torch.split(self.qkv_proj(x), [1, self.c, self.c], dim=1)
        scores = torch.softmax(query.flatten(2), dim=-1).view_as(query)
        context = (key * scores).sum(dim=(2, 3), keepdim=True)
        return self.out_proj(torch.relu(value) * context)


@SETTINGS
@given(m=st.integers(1, 24), n=st.integers(1, 6), heads=st.integers(1, 4), k=st.sampled_from([3, 5]),
       patch=st.integers(2, 3), tiles=st.integers(1, 5), t=st.integers(1, 3))
def test_the_mobilevit_module_is_timms_mobilevit_block(m, n, heads, k, patch, tiles, t):
    timm = pytest.importorskip("timm")
    from timm.models.mobilevit import MobileVitBlock

    n *= heads  # the transformer's width, whole heads
    size = patch * tiles
    with torch.device("meta"):
        block = MobileVitBlock(m, n, kernel_size=k, transformer_dim=n, transformer_depth=1, patch_size=patch,
                               num_heads=heads, mlp_ratio=t).eval()
    macs, _ = flop_macs(block, torch.empty(1, m, size, size, device="meta"))
    assert timm is not None and ca.explain("mobilevit", K=k, M=m, N=n, I=size, G=heads, k=patch, t=t
                                           ).numbers.rewritten.macs == macs


@SETTINGS
@given(c=st.integers(1, 32), height=st.integers(1, 12), width=st.integers(1, 12))
def test_separable_attention_is_mobilevit_v2s(c, height, width):
    with torch.device("meta"):
        sep = SeparableSelfAttention(c)
    macs, _ = flop_macs(sep, torch.empty(1, c, height, width, device="meta"))
    layer = LinearAttention(c)
    assert layer.macs((height, width)) == macs and layer.params() == numel(sep)


@SETTINGS
@given(m=st.integers(1, 8), n=st.integers(1, 16), k=st.integers(2, 6), tiles=st.integers(1, 6))
def test_patch_embedding_is_a_strided_convolution(m, n, k, tiles):
    size = k * tiles
    with torch.device("meta"):
        conv = torch.nn.Conv2d(m, n, k, stride=k, bias=False)
    macs, _ = flop_macs(conv, torch.empty(1, m, size, size, device="meta"))
    assert total(ca.patchify()(Conv(m, n, (k, k))), size) == (macs, numel(conv))


@SETTINGS
@given(c=st.integers(1, 16), out=st.integers(1, 16), height=st.integers(1, 9), width=st.integers(1, 9),
       extra=st.integers(0, 1))
def test_a_linear_layer_on_tokens_is_torchs_linear(c, out, height, width, extra):
    with torch.device("meta"):
        linear = torch.nn.Linear(c, out)
    macs, _ = flop_macs(linear, torch.empty(1, height * width + extra, c, device="meta"))
    assert TokenLinear(c, out, extra=extra).macs((height, width)) == macs
    assert TokenLinear(c, out).params() == numel(linear)


# -- the zoo's transformers against torchvision's own definitions ---------------------------------------------------

#: Sizes tried beside each network's own: Swin at odd and oblong sizes and below one window; a ViT at other
#: image sizes, each with torchvision's model built for it (image_size=).
SWIN_SIZES = ((97, 131), 33, (64, 200))
VIT_SIZES = {"vit_b_16": 96, "vit_b_32": 160, "vit_l_16": 64, "vit_l_32": 96, "vit_h_14": 224}
TRANSFORMERS = ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14", "swin_t", "swin_s", "swin_b",
                "swin_v2_t", "swin_v2_s", "swin_v2_b", "maxvit_t")


@lru_cache(maxsize=None)
def torchvision_transformer(name: str, image_size: int | None = None):
    key = "input_size" if name.startswith("maxvit") else "image_size"  # MaxViT's partitions are built for a size
    kwargs = {} if image_size is None else {key: (image_size, image_size) if key == "input_size" else image_size}
    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None, **kwargs).eval()


def torch_total(model, size) -> tuple[int, int, dict]:
    height, width = size if isinstance(size, tuple) else (size, size)
    macs, ops = flop_macs(model, torch.empty(1, 3, height, width, device="meta"))
    return macs, numel(model), ops


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_every_torchvision_transformer_agrees_with_flopcountermode(name):
    net = ca.network(name)
    if name.startswith("vit"):
        own = net.default_size
        cases = [(net, own, torchvision_transformer(name, own)),
                 (ca.network(name, image_size=VIT_SIZES[name]), VIT_SIZES[name],
                  torchvision_transformer(name, VIT_SIZES[name]))]
    elif name.startswith("maxvit"):  # torchvision's MaxViT takes the size it is built for (whole 7 x 7 partitions)
        cases = [(net, size, torchvision_transformer(name, size)) for size in (224, 448)]
    else:
        model = torchvision_transformer(name)
        cases = [(net, size, model) for size in (net.default_size, *SWIN_SIZES)]
    for built, size, model in cases:
        macs, params, ops = torch_total(model, size)
        cost = built.count(size)
        assert (cost.macs, cost.params) == (macs, params), (name, size)
        scores = sum(r.layer.score_macs(r.input_size) for r in cost.layers if isinstance(r.layer, Attention))
        if not name.startswith(("swin_v2", "maxvit")):  # V2's position-bias MLP runs as a linear layer, MaxViT's
            assert scores == ops["aten.bmm"], (name, size)  # MBConv too: the two products of attention, as run


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_reproduces_torchvisions_weight_metadata(name):
    # num_params exactly; _ops, GMACs to three decimals, at each weight's own crop size (a ViT built for it)
    from test_zoo_references import gmacs

    for weights in torchvision.models.get_model_weights(name):
        crop = weights.transforms.keywords["crop_size"]
        net = ca.network(name, image_size=crop) if name.startswith("vit") else ca.network(name)
        macs, params = net.total(crop)
        assert (params, gmacs(macs)) == (weights.meta["num_params"], f"{weights.meta['_ops']}"), weights


def test_a_vit_takes_the_size_it_is_built_for():
    with pytest.raises(InvalidValueError, match="position embedding holds 197: the network is built for another"):
        ca.network("vit_b_16").count(96)
    assert ca.network("vit_b_16", image_size=96).count(96).macs == torch_total(torchvision_transformer("vit_b_16", 96),
                                                                             96)[0]
    with pytest.raises(InvalidValueError, match="multiple of 16"):
        ca.network("vit_b_16", image_size=100)
    with pytest.raises(InvalidValueError, match="not built for one input size"):
        ca.network("swin_t", image_size=256)


# -- closed forms in H and W --------------------------------------------------------------------------------------

def test_a_vits_closed_form_shows_its_quadratic_term_and_is_exact_at_multiples_of_the_patch():
    form = ca.network("vit_b_32").count((H, W))
    assert form.exact_when() == "H and W are multiples of 32"
    poly = sympy.Poly(form.macs, H, W)
    # 12 layers, each 2 * n**2 * C with n = H*W/32**2 (+ the class token): the quadratic term
    assert poly.coeff_monomial(H**2 * W**2) == sympy.Rational(12 * 2 * 768, 32**4)
    for height, width in ((96, 160), (224, 224), (64, 32)):
        built = ca.network("vit_b_32", image_size=height) if height == width else None
        if built is not None:
            assert form.macs.subs({H: height, W: width}) == built.total(height)[0]


@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t"])
def test_a_swins_closed_form_is_linear_in_the_area_and_exact_where_it_says(name):
    net = ca.network(name)
    form = net.count((H, W))
    assert sympy.Poly(form.macs, H, W).total_degree() == 2 and H**2 not in sympy.Add.make_args(form.macs)
    window = 7 if name == "swin_t" else 8
    assert net.stride == 32 * window and form.exact_when() == f"H and W are multiples of {32 * window}"
    for height, width in ((32 * window, 64 * window), (64 * window, 32 * window)):
        assert form.macs.subs({H: height, W: width}) == net.total((height, width))[0]
    exact = net.total_symbolic(exact=True)[0]  # the ceilings of the windows' padding kept: exact everywhere
    for size in (33, 97, 224, 250):
        assert exact.subs(I, size) == net.total(size)[0]


# -- derived, not asserted -----------------------------------------------------------------------------------------

def test_swins_equations_are_derived_from_the_rules():
    h, w, c, m = sympy.symbols("h w C M", positive=True)
    eq = ca.swin_equations()
    assert sympy.expand(ca.swin_letters(eq.msa) - (4 * h * w * c**2 + 2 * (h * w) ** 2 * c)) == 0  # Swin, Eq. (1)
    assert sympy.expand(ca.swin_letters(eq.wmsa) - (4 * h * w * c**2 + 2 * m**2 * h * w * c)) == 0  # Swin, Eq. (2)
    assert eq.limit == 0 and sympy.simplify(eq.ratio - (K**2 + 2 * N) / (H * W + 2 * N)) == 0
    assert ca.quadratic_crossing() == {H * W: 2 * N}


def test_where_vit_and_swin_cost_the_same_is_where_their_counts_cross():
    crossing = ca.cost_crossing("vit_b_32", "swin_t")
    assert len(crossing.areas) == 2
    vit, swin = crossing.first_macs, crossing.second_macs
    for area in crossing.areas:
        assert sympy.simplify(vit.subs({H: 1, W: area}) - swin.subs({H: 1, W: area})) == 0
    low, high = (float(a) for a in crossing.areas)
    for side, vit_cheaper in ((96, False), (224, True), (448, True), (512, False)):  # multiples of 32
        cheaper = ca.network("vit_b_32", image_size=side).total(side)[0] < swin.subs({H: side, W: side})
        assert cheaper == vit_cheaper == (low < side * side < high)
    with pytest.raises(InvalidValueError, match="never cost the same"):
        ca.cost_crossing("vit_b_16", "resnet50")


# -- memory: the score matrix --------------------------------------------------------------------------------------

@SETTINGS
@given(heads=st.integers(1, 4), per_head=st.integers(1, 8), height=st.integers(1, 9), width=st.integers(1, 9))
def test_attentions_traffic_holds_the_score_matrices(heads, per_head, height, width):
    c, n = heads * per_head, height * width
    traffic = layer_traffic(Attention(c, heads), (height, width))
    # the input and the output, q k v written and read, the context written and read: 10 n c; the h n x n scores
    # written, read by the softmax, written again and read by the weighted sum: 4 h n^2
    assert traffic.reads + traffic.writes == 10 * n * c + 4 * heads * n * n
    assert traffic.weights == Attention(c, heads).params()


def test_hostile_values_are_the_librarys_errors():
    for bad in (lambda: Attention(10, 3), lambda: Attention(8, 0), lambda: Attention(8, 2, window=0),
                lambda: Attention(8, 2, position_bias="table"), lambda: Attention(8, 2, position_bias="rope"),
                lambda: Attention(8, 2, window=7, extra=1), lambda: Tokens(8, positions=-1),
                lambda: PatchMerge(8, 0), lambda: ca.attend(0), lambda: ca.attend(2, window="yes"),
                lambda: ca.attend(2)(Conv(8, 16, (3, 3)))):
        with pytest.raises(InvalidValueError):
            bad()


# -- the export: each attention module as torch modules, counted by FlopCounterMode ------------------------------

@pytest.mark.parametrize("name", ca.attention_module_names())
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_attention_module_exports_to_torch_and_counts_the_same(name, data):
    from convalgebra.blocks import substitute

    mod = ca.module(name)
    values = {**mod.parameters, K: data.draw(st.integers(2, 5), label="K")}
    heads = values.get(G, 1)
    values[M] = heads * data.draw(st.integers(1, 6), label="M / G")
    values[N] = values[M] if name != "patch-embedding" else data.draw(st.integers(1, 16), label="N")
    if name == "mobilevit":
        values[N] = heads * data.draw(st.integers(1, 4), label="N / G")
    block = substitute(mod.block(), values)
    model = ca.to_torch(block, device="meta")
    size = data.draw(st.integers(values[K], 3 * values[K] + 2), label="I")
    macs, _ = flop_macs(model, torch.empty(1, values[M], size, size, device="meta"))
    assert total(block, size) == (macs, numel(model))


def test_a_class_token_is_not_exported():
    with pytest.raises(InvalidValueError, match="class token has no place in a map"):
        ca.to_torch(ca.network("vit_b_32"))


@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t"])
def test_a_swin_of_the_zoo_exports_and_counts_the_same(name):
    net = ca.network(name)
    model = ca.to_torch(net, device="meta").eval()
    for size in ((97, 131), net.default_size):
        macs, params, _ = torch_total(model, size)
        assert (macs, params) == net.total(size), size
