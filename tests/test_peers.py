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
