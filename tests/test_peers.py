"""peer_counts against the real counters: every column is what the tool itself reports.

Each tool runs here on the model (on the CPU, as its users run it: fvcore traces with
torch.jit, which the meta device cannot, and ptflops' pytorch backend counts a linear
layer's product once more on the meta device); the library computes the same figures
from the imported layers, without running any of them."""

from __future__ import annotations

import contextlib
import io
import warnings
from functools import lru_cache

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.cli import main  # noqa: E402
from convalgebra.errors import InvalidValueError  # noqa: E402
from test_torch_import import Shared  # noqa: E402  (one convolution called twice from one place)

warnings.filterwarnings("ignore", category=FutureWarning)


def _flopcountermode(m, x):
    with FlopCounterMode(display=False) as counter:
        m(x)
    return counter.get_total_flops(), None


def _fvcore(m, x):
    fvcore = pytest.importorskip("fvcore.nn")
    analysis = fvcore.FlopCountAnalysis(m, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(analysis.total()), fvcore.parameter_count(m)[""]


def _ptflops(backend):
    def count(m, x):
        ptflops = pytest.importorskip("ptflops")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return ptflops.get_model_complexity_info(m, tuple(x.shape[1:]), as_strings=False,
                                                     print_per_layer_stat=False, backend=backend)
    return count


def _thop(m, x):
    thop = pytest.importorskip("thop")
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ops, params = thop.profile(m, (x,), verbose=False)
    return int(ops), int(params)


REAL = {"flopcountermode": _flopcountermode, "fvcore": _fvcore, "ptflops-aten": _ptflops("aten"),
        "ptflops-pytorch": _ptflops("pytorch"), "thop": _thop}

#: Models that between them have every convention in the table: biases (alexnet, squeezenet), functional ReLU
#: (googlenet; functional pooling and upsampling in Functional below), SiLU (efficientnet), Hardswish and squeeze-excitation (mobilenet v3), layer norm, a norm
#: subclass and layer scale (convnext), auxiliary classifiers not run (googlenet), an adaptive pool of a fraction
#: (alexnet at 225 x 161), odd and oblong inputs.
MODELS = [("resnet18", (97, 131)), ("mobilenet_v3_small", (224, 224)), ("efficientnet_b0", (97, 97)),
          ("convnext_tiny", (65, 97)), ("googlenet", (97, 113)),
          ("alexnet", (225, 161)), ("squeezenet1_0", (97, 113)), ("shufflenet_v2_x0_5", (97, 97))]


@lru_cache(maxsize=None)
def cpu_model(name: str) -> "nn.Module":
    torch.manual_seed(0)
    return torchvision.models.get_model(name, weights=None).eval()


def check_every_column(m: "nn.Module", height: int, width: int, **kwargs) -> "ca.PeerCounts":
    m.eval()  # as the library counts (fvcore alone counts batch norm in training mode otherwise: 5 a value)
    counts = ca.peer_counts(ca.from_torch(m, (3, height, width), **kwargs), (height, width))
    x = torch.zeros(1, 3, height, width)
    for peer in counts.peers:
        total, params = REAL[peer.key](m, x)
        if peer.total is None:
            assert peer.unknown, peer.key
            continue
        assert peer.total == total, (peer.key, peer.parts)
        assert peer.total == sum(amount for _, amount in peer.parts)
        if params is not None:
            assert peer.params == params, peer.key
    return counts


@pytest.mark.parametrize("name, size", MODELS, ids=[name for name, _ in MODELS])
def test_every_column_is_what_the_tool_reports(name, size):
    counts = check_every_column(cpu_model(name), *size)
    assert all(peer.total is not None for peer in counts.peers)
    fcm = next(p for p in counts.peers if p.key == "flopcountermode")
    assert fcm.total == counts.cost.flops == 2 * counts.cost.macs  # FLOPs, the library's MACs twice


class Functional(nn.Module):
    """Functions where the torchvision models mostly have modules (densenet's F.relu and
    F.adaptive_avg_pool2d, inception's F.avg_pool2d and F.max_pool2d), a concatenation and upsampling."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = torch.nn.functional.relu(self.conv(x))
        x = torch.cat([torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1),
                       torch.nn.functional.max_pool2d(x, 3, stride=1, padding=1)], 1)
        x = torch.nn.functional.silu(self.up(self.pool(x)))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def test_functions_where_modules_are_usual():
    counts = check_every_column(Functional(), 12, 10)
    assert dict(next(p for p in counts.peers if p.key == "ptflops-pytorch").parts)["pooling"] > 0


class TwoPlaces(nn.Module):
    """One convolution and one ReLU held in two places of the module tree, and called at each."""

    def __init__(self) -> None:
        super().__init__()
        conv, relu = nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.a = nn.Sequential(conv, relu)
        self.b = nn.Sequential(conv, relu)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.b(self.a(self.stem(x)))), 1))


def test_shared_modules_per_call_and_per_place():
    """A module in two places: counted per call by the traced counters and by the library, per place
    (each call again at each place) by ptflops' pytorch backend, and by thop, which hooks it
    again at each place, per place squared; its parameters once by torch, twice by thop."""
    counts = check_every_column(TwoPlaces(), 12, 10)
    by = {p.key: p for p in counts.peers}
    conv_macs = 3 * 3 * 8 * 8 * 12 * 10
    assert dict(by["thop"].parts)["conv and linear"] == counts.cost.macs + 6 * conv_macs  # 2 calls x 2 hooks x 2 places
    assert dict(by["ptflops-pytorch"].parts)["conv and linear"] == counts.cost.macs + 2 * conv_macs  # 2 calls x 2 places
    assert by["thop"].params == counts.cost.params + 8 * 8 * 9 + 8
    check_every_column(Shared(), 9, 7)


class Added(nn.Module):
    """A residual written torch.add, which ptflops' pytorch backend counts and the layers do not show."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        return torch.add(x, self.conv(x))


class Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return torch.erf(self.conv(x))


def test_what_the_library_cannot_say_is_not_known_not_guessed():
    counts = check_every_column(Added(), 8, 8)
    unknown = [p.key for p in counts.peers if p.total is None]
    assert unknown == ["ptflops-pytorch"] and "torch.add" in counts.peers[3].unknown
    counts = ca.peer_counts(ca.from_torch(Odd(), (3, 8, 8)))
    assert all(p.total is None and "erf" in p.unknown for p in counts.peers)
    assert "not known" in counts.to_text()
    with pytest.raises(InvalidValueError, match="not imported from PyTorch"):
        ca.peer_counts(ca.network("resnet18"))


def test_cli_conventions():
    out, err = io.StringIO(), io.StringIO()
    assert main(["count", "torchvision:resnet18", "--set", "H=97", "W=131", "--conventions", "--format", "json"],
                out=out, err=err) == 0
    import json

    data = json.loads(out.getvalue())
    assert data["input"] == {"channels": 3, "height": 97, "width": 131}
    real = {key: REAL[key](cpu_model("resnet18"), torch.zeros(1, 3, 97, 131))[0] for key in REAL}
    assert {p["counter"]: p["total"] for p in data["peers"]} == real
    out = io.StringIO()
    assert main(["count", "torchvision:resnet18", "--conventions"], out=out, err=err) == 0
    text = out.getvalue()
    assert "what other counters report" in text and "counted twice" in text and "per place" in text
    assert main(["count", "torchvision:resnet18", "--conventions", "--symbolic"], out=out, err=err) == 2


# -- attention: nn.MultiheadAttention, scaled_dot_product_attention, a hand-written one (timm style) --------------

C_TOKENS, HEADS = 16, 2


class _Tokens(nn.Module):
    """A 4 x 4 patch embedding into tokens, then a layer norm (as every transformer block has before attention)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.norm = nn.Conv2d(3, C_TOKENS, 4, stride=4), nn.LayerNorm(C_TOKENS)

    def forward(self, x):
        return self.norm(self.conv(x).flatten(2).transpose(1, 2))


class Multihead(nn.Module):
    """nn.MultiheadAttention, asked for its weights (explicit bmm and softmax) or not (SDPA, as torchvision's ViT)."""

    def __init__(self, need_weights: bool) -> None:
        super().__init__()
        self.tokens, self.need_weights = _Tokens(), need_weights
        self.attention = nn.MultiheadAttention(C_TOKENS, HEADS, batch_first=True)

    def forward(self, x):
        t = self.tokens(x)
        return self.attention(t, t, t, need_weights=self.need_weights)[0]


class Fused(nn.Module):
    """timm's attention with fused_attn: qkv and proj linear layers, F.scaled_dot_product_attention between."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens, self.qkv, self.proj = _Tokens(), nn.Linear(C_TOKENS, 3 * C_TOKENS), nn.Linear(C_TOKENS, C_TOKENS)
        self.act = nn.GELU()

    def heads(self, x):
        t = self.tokens(x)
        b, n, _ = t.shape
        return self.qkv(t).reshape(b, n, 3, HEADS, C_TOKENS // HEADS).permute(2, 0, 3, 1, 4).unbind(0)

    def forward(self, x):
        q, k, v = self.heads(x)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        return self.act(self.proj(out.transpose(1, 2).flatten(2)))


class ByHand(Fused):
    """The same written out: q @ k.T (the operator), F.softmax, torch.matmul with the values."""

    def forward(self, x):
        q, k, v = self.heads(x)
        scores = (q * (C_TOKENS // HEADS) ** -0.5) @ k.transpose(-2, -1)
        out = torch.matmul(torch.nn.functional.softmax(scores, dim=-1), v)
        return self.proj(out.transpose(1, 2).flatten(2))


@lru_cache(maxsize=None)
def tiny_vit() -> "nn.Module":
    torch.manual_seed(0)
    return torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=HEADS,
                                                hidden_dim=C_TOKENS, mlp_dim=2 * C_TOKENS, num_classes=10)


ATTENTION = [("multihead", lambda: Multihead(False), (8, 12)), ("multihead-weights", lambda: Multihead(True), (8, 12)),
             ("sdpa", Fused, (8, 12)), ("by-hand", ByHand, (12, 8)), ("vit", tiny_vit, (32, 32))]


@pytest.mark.parametrize("make, size", [(make, size) for _, make, size in ATTENTION], ids=[k for k, _, _ in ATTENTION])
def test_attention_every_column_is_what_the_tool_reports(make, size):
    torch.manual_seed(0)
    counts = check_every_column(make(), *size)
    assert all(peer.total is not None for peer in counts.peers)
    height, width = size
    tokens = (height // 8) * (width // 8) + 1 if make is tiny_vit else (height // 4) * (width // 4)
    assert counts.products == (2 if make is tiny_vit else 1) * _scores(tokens)  # the library's: 2 n**2 C a layer


def _scores(n: int) -> int:
    """The two products of attention by their definition: n x n scores of C/h channels a head, and as many again."""
    return 2 * HEADS * n * n * (C_TOKENS // HEADS)


def test_attention_where_peers_fall_short_of_the_definition():
    """Held to the definition, not to the tools: on CPU tensors FlopCounterMode, fvcore and ptflops leave out
    scaled_dot_product_attention's two products (2 n**2 C), which the meta device counts; thop counts
    nn.MultiheadAttention as 0, its projections and parameters too; ptflops' pytorch backend counts the
    products of nn.MultiheadAttention twice when asked for its weights (its hook, then the torch.bmm it patches)."""
    n, x = 2 * 3, torch.zeros(1, 3, 8, 12)
    fused = Fused().eval()
    with FlopCounterMode(display=False) as meta:
        fused.to("meta")(x.to("meta"))
    fused = Fused().eval()
    cpu = _flopcountermode(fused, x)[0]
    assert meta.get_total_flops() - cpu == 2 * _scores(n)
    counts = ca.peer_counts(ca.from_torch(fused, (3, 8, 12)))
    assert counts.cost.macs * 2 == meta.get_total_flops()           # the library counts what the meta device runs
    assert counts.products == _scores(n) and "attention" in counts.to_text()
    by = {p.key: p for p in counts.peers}
    assert "attention" not in dict(by["fvcore"].parts) and "attention" not in dict(by["ptflops-aten"].parts)
    mha = Multihead(True).eval()
    thop_total, thop_params = _thop(mha, x)
    conv = C_TOKENS * 3 * 4 * 4 * n
    assert thop_total == conv + 4 * C_TOKENS * n                    # the embedding and its layer norm; attention 0
    assert thop_params == sum(p.numel() for p in mha.tokens.parameters())
    ptflops = dict(next(p for p in ca.peer_counts(ca.from_torch(mha, (3, 8, 12))).peers
                        if p.key == "ptflops-pytorch").parts)
    assert ptflops["attention"] == 2 * _scores(n)


def test_timm_attention_hooked_whole_is_not_guessed():
    """ptflops hooks timm's Attention by a formula of its own and skips the qkv and proj layers inside it: the
    library says it cannot give that column rather than give another number; the other columns are the tools'."""
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    vit = timm.models.vision_transformer.VisionTransformer(img_size=32, patch_size=8, embed_dim=C_TOKENS, depth=2,
                                                           num_heads=HEADS, mlp_ratio=2, num_classes=10)
    counts = check_every_column(vit, 32, 32)
    by = {p.key: p for p in counts.peers}
    assert by["ptflops-pytorch"].total is None and "timm's Attention" in by["ptflops-pytorch"].unknown
    assert all(p.total is not None for key, p in by.items() if key != "ptflops-pytorch")
    # What ptflops reports: its count of the layers, less the qkv and proj layers (and their biases) of the 2 blocks
    # on 17 tokens, plus its formula for each Attention: the scaling of the queries, the two products, the softmax.
    import dataclasses

    net = counts.cost.network
    layers_only = dataclasses.replace(net, origins=tuple(o for o in net.origins if not o[1].startswith("timm.")))
    counted = next(p for p in ca.peer_counts(layers_only, 32).peers if p.key == "ptflops-pytorch").total
    n, c = 17, C_TOKENS
    qkv_proj = n * (c * 3 * c + c * c) + n * 4 * c
    formula = n * c + _scores(n) + HEADS * n * n
    assert _ptflops("pytorch")(vit, torch.zeros(1, 3, 32, 32))[0] == counted - 2 * qkv_proj + 2 * formula


def test_cli_conventions_attention():
    out, err = io.StringIO(), io.StringIO()
    assert main(["count", "torchvision:vit_b_32", "--conventions"], out=out, err=err) == 0, err.getvalue()
    text = out.getvalue()
    assert "attention" in text and "scaled_dot_product_attention" in text


def test_token_layers_with_size_rules_count_as_their_traced_forms():
    """An import that reads linear layers on tokens and nn.MultiheadAttention into the library's TokenLinear and
    Attention (closed forms in H and W) gives every counter's figure the traced layers give; attention whose
    calls the importer did not record is not known, not guessed."""
    import dataclasses

    from convalgebra.layers import Attention, TokenLinear
    from convalgebra.peers import PEERS, _counted, _NotKnown

    for model, name, made in ((Fused(), "qkv", TokenLinear(C_TOKENS, 3 * C_TOKENS, name="qkv")),
                              (Multihead(False), "attention", Attention(C_TOKENS, HEADS, name="attention"))):
        net = ca.from_torch(model.eval(), (3, 8, 12))
        origins = {n: op for n, op, _ in net.origins}
        traced = next(r for r in net.count((8, 12)).layers if r.name == name)
        sized = dataclasses.replace(traced, layer=made, macs=made.macs((2, 3)), input_size=(2, 3), output_size=(2, 3))
        for peer in PEERS:
            assert _counted(peer.key, sized, origins[name], 1) == _counted(peer.key, traced, origins[name], 1), peer.key
    with pytest.raises(_NotKnown):
        _counted("fvcore", sized, "torch.nn.functional.scaled_dot_product_attention", 1)
