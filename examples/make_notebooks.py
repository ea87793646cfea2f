"""Write the example notebooks (without outputs) from the cells below.

Run ``python examples/make_notebooks.py`` after editing a cell here; the tests check the
committed notebooks are what this script writes, and run each one through a Jupyter kernel.
Every notebook checks its own numbers with ``assert``, so running it is a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


TOUR = [
    md("""
# A tour of the ten modules

A standard convolution with K x K kernels, M input channels and N kernels, on an I x I input
(stride 1, SAME padding), costs **K·K·M·N·I·I multiply-accumulates (MACs)** and K·K·M·N
parameters. The article *CNN model evolution seen through convolution splitting and grouping*
reads every efficient module of the last decade as a rewrite of that product. convalgebra holds
each rewrite as a chain of primitive rules and derives the exact cost, in closed form.

Costs are in MACs (what torchvision and the papers call FLOPs); FLOPs = 2 × MACs.
"""),
    code("""
import convalgebra as ca

ca.standard()  # the convolution every module rewrites: its layer table and closed-form cost
"""),
    md("""
## One module, explained

`explain` gives a module's layers, its cost before and after, and the savings ratio, as
closed forms. In a notebook it renders as tables and typeset formulas.
"""),
    code("""
e = ca.explain("bottleneck")
e
"""),
    md("""
Every result keeps its sympy expressions. The bottleneck's savings with M = N (the article's
shorthand), and at ResNet's t = 4 with 3 x 3 kernels:
"""),
    code("""
e.ratio_equal_channels.macs
"""),
    code("""
ratio = e.ratio_equal_channels.macs.subs({ca.K: 3, ca.t: 4})
assert ratio == ca.parse_expression("17/144")  # (9 + 8) / (9 * 16)
ratio
"""),
    md("""
## All ten, side by side

Each module's rule, its savings ratio with M = N, and the ratio at the sizes of the layer its
paper describes (the module's example values), computed layer by layer on integers.
"""),
    code("""
import pandas as pd

rows = []
for m in ca.MODULES:
    at_example = ca.explain(m, m.example).numbers
    rows.append({
        "module": m.name,
        "network": f"{m.network} ({m.paper.year})",
        "rule": repr(m.rule),
        "MACs ratio, M = N": ca.text(ca.explain(m).ratio_equal_channels.macs),
        "example sizes": ", ".join(f"{s}={v}" for s, v in m.example.items()),
        "MACs ratio there": float(at_example.ratio.macs),
    })
table = pd.DataFrame(rows).set_index("module")
table
"""),
    md("""
## The article's story in one figure

Every module's MACs over the standard convolution's as the number of kernels N grows
(M = N, each module at its default parameters; the legend names the values used).
"""),
    code("""
ca.plot_ratios()
"""),
    md("""
## Checking one by hand

MobileNet V1's 14 x 14 layer with 512 channels: a depthwise 3 x 3 convolution and a pointwise
one, against the plain 3 x 3 convolution. The numbers are the paper's Table 3.
"""),
    code("""
e = ca.explain("depthwise-separable", K=3, M=512, N=512, I=14)
assert e.numbers.baseline.macs == 3 * 3 * 512 * 512 * 14 * 14 == 462_422_016
assert e.numbers.rewritten.macs == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14 == 52_283_392
e
"""),
    md("""
## A module of your own

A new module needs no new code: chain the same primitive rules. Here, MobileNet V2's inverted
bottleneck with grouped pointwise convolutions; its savings against the expansion t:
"""),
    code("""
mine = ca.compose(ca.expand(ca.t), ca.group(ca.G, on="pointwise"), ca.depthwise(),
                  name="grouped-inverted", parameters={ca.t: 6, ca.G: 2})
mine
"""),
    code("""
ca.plot_ratios([mine, "inverted-bottleneck"], over="t", values={"K": 3, "N": 128})
"""),
]

BUDGET = [
    md("""
# Designing a block under a budget

The article observes that each module's savings "make room for more kernels N". This notebook
asks a designer's questions of the algebra, exactly: for the MACs of a plain 3 x 3 convolution,
how many kernels does each module afford? Where does a module stop saving? Which of two modules
is cheaper, and when?

Costs are in MACs (multiply-accumulates; 1 MAC = 2 FLOPs).
"""),
    code("""
import convalgebra as ca
import pandas as pd

K, M, N, I = 3, 240, 240, 28     # a 3 x 3 layer as wide as ShuffleNet's second stage (g = 3)
budget_macs, _ = ca.total(ca.Conv(M, N, (K, K)), I)
budget_macs
"""),
    md("""
## How many kernels N' for the same MACs?

`budget` solves *module cost with N' kernels = plain cost with N kernels* for N'. For the
depthwise separable convolution the answer is linear, N' = K²·(N − 1):
"""),
    code("""
ca.budget("depthwise-separable")
"""),
    md("""
For the bottleneck it is the positive root of a quadratic. At our layer's sizes:
"""),
    code("""
b = ca.budget("bottleneck", K=K, M=M, N=N)
b
"""),
    md("""
Every module at once. `usable` is the largest N' within the budget for which every layer of
the module has whole channels; each is checked by counting the module layer by layer.
"""),
    code("""
rows = []
for m in ca.MODULES:
    b = ca.budget(m, K=K, M=M, N=N)
    if not b.fits or b.usable is None:
        rows.append({"module": m.name, "N'": None, "usable N'": None, "MACs used": None})
        continue
    cost = ca.explain(m, K=K, M=M, N=b.usable, I=I).numbers.rewritten.macs
    assert cost <= budget_macs, m.name
    rows.append({"module": m.name, "N'": float(b.value), "usable N'": b.usable,
                 "MACs used": f"{cost / budget_macs:.1%}"})
pd.DataFrame(rows).set_index("module")
"""),
    md("""
## Where does a module stop saving?

MobileNet V2's block expands the channels by t. At which t does it cost as much as the plain
convolution it replaces?
"""),
    code("""
ca.break_even("inverted-bottleneck")
"""),
    code("""
at = ca.break_even("inverted-bottleneck", K=3, M=64, N=64)
t_even = at.values[ca.t]
assert t_even == ca.parse_expression("576/137")   # 9 * 64 / (9 + 64 + 64)
float(t_even)   # below MobileNet V2's default t = 6: at these sizes its block costs more
"""),
    md("""
## Which of two modules is cheaper, and when?
"""),
    code("""
ca.compare("depthwise-separable", "xception")
"""),
    md("""
## Sweeping a design space

The ResNeXt block's savings over its width reduction t and its groups G, evaluated at numpy
speed from the closed form (one row per combination):
"""),
    code("""
ratio = ca.explain("resnext").ratio.macs
s = ca.sweep(ratio, K=3, M=256, N=256, t=[1, 2, 4, 8], G=[1, 2, 4, 8, 16, 32])
grid = s.to_pandas().pivot(index="G", columns="t", values="value")
exact = ca.explain("resnext", K=3, M=256, N=256, I=14, t=2, G=32).numbers.ratio.macs
assert abs(grid.loc[32, 2] - float(exact)) < 1e-12   # the sweep agrees with the exact count
grid.round(4)
"""),
    code("""
ca.plot_ratios(["bottleneck", "resnext", "shufflenet"], over="G", values={"K": 3, "N": 240})
"""),
]

NETWORK = [
    md("""
# A network's cost, layer by layer

A ResNet-50 is a stem, four stages of the article's bottleneck, and a classifier. convalgebra
counts it layer by layer, with each strided layer's real output-size arithmetic: an exact
integer at any input size, and a closed form in the input size I.

Counting convention (torchvision's and the papers'): MACs of convolution and linear layers;
params of all weights and biases plus batch norm's γ and β.
"""),
    code("""
import convalgebra as ca
import pandas as pd

net = ca.network("resnet50")
cost = net.count(224)
assert (cost.macs, cost.params) == (4_089_184_256, 25_557_032)   # torchvision: 4.089 GMACs, 25,557,032
cost
"""),
    md("""
## Where the MACs go
"""),
    code("""
ca.plot_network("resnet50", by="stage")
"""),
    code("""
ca.plot_network("resnet50", by="layer")
"""),
    code("""
stages = pd.DataFrame([{"stage": s.name, "module": s.module or "-", "output": s.output_size,
                        "MACs": s.macs, "share": f"{float(s.macs_share):.1%}",
                        "params": s.params} for s in cost.stages]).set_index("stage")
assert stages["MACs"].sum() == cost.macs and stages["params"].sum() == cost.params
stages
"""),
    md("""
## The cost as a closed form in the input size

Exact whenever I is a multiple of the network's total stride:
"""),
    code("""
macs, params = net.total_symbolic()
macs
"""),
    code("""
sizes = [128, 160, 192, 224, 256]
for size in sizes:
    assert macs.subs(ca.I, size) == net.count(size).macs   # the closed form is the count
pd.DataFrame({"I": sizes, "GMACs": [net.count(s).macs / 1e9 for s in sizes]}).set_index("I")
"""),
    md("""
## The zoo

Every network's cost at the input size it was designed for, counted here:
"""),
    code("""
zoo = []
for name in ca.network_names():
    n = ca.network(name)
    c = n.count()
    zoo.append({"network": name, "input": n.default_size, "GMACs": round(c.macs / 1e9, 3),
                "M params": round(c.params / 1e6, 2)})
pd.DataFrame(zoo).set_index("network")
"""),
    md("""
## Cross-checked against PyTorch

When torch is installed (the `torch` extra), the same network exported to a `torch.nn.Module`
and counted by PyTorch's own `FlopCounterMode` (2 FLOPs per MAC) agrees exactly:
"""),
    code("""
try:
    import torch
    from torch.utils.flop_counter import FlopCounterMode
except ImportError:
    print("torch is not installed: pip install 'convalgebra[torch]'")
else:
    model = ca.to_torch(ca.network("mobilenet_v2")).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 160, 160))
    ours = ca.network("mobilenet_v2").count(160)
    assert counter.get_total_flops() == 2 * ours.macs
    assert sum(p.numel() for p in model.parameters()) == ours.params
    print(f"mobilenet_v2 at 160: {ours.macs:,} MACs, as PyTorch counts them")
"""),
    code("""
ca.plot_network("mobilenet_v2", by="stage", input_size=160)
"""),
]

HYBRID = [
    md("""
# Designing a hybrid under a budget

MobileViT (Mehta and Rastegari, 2021) keeps convolutions where the map is large and puts
attention where it is small: convolutions at stride 2 to 16, transformer blocks on the 14 x 14
and 7 x 7 maps. Convolution costs are linear in the image's area; attention on n tokens costs
4nC² for its projections and 2n²C for its two products, quadratic in the area. A hybrid is
cheap exactly because its n is small.

This notebook designs one: a convolutional stem and stages, then two attention stages of
width N, and asks for the widest N whose MACs at 224 x 224 stay within the budget of
MobileNet V2, the convolutional network it competes with. Every number is computed.

Costs are MACs (FLOPs = 2 x MACs); attention's softmax and scaling are not counted, as
FlopCounterMode does not count them.
"""),
    md("""
MobileViT's block, as the library's rule: unfold the map into P x P patches, attend between the
tokens at the same place of every patch, fold back.
"""),
    code("""
import convalgebra as ca
from convalgebra import (Activation, AdaptivePool, Attention, Conv, LayerNorm, Linear, Repeat, Residual, Series,
                         TokenLinear)

ca.explain("mobilevit")
"""),
    md("""
## The design

A transformer stage of width C: a layer norm, multi-head attention and a residual, then a layer
norm, an MLP of ratio 2 and a residual, twice. The hybrid: a stride-2 stem, an inverted
residual, three strided convolutions to 14 x 14, a transformer stage, a strided convolution to
7 x 7, another transformer stage, and MobileNet's head. Each transformer stage is entered and
left by 1 x 1 convolutions, as in MobileViT.
"""),
    code("""
def transformer(c, heads, blocks=2):
    attend = Residual(Series(LayerNorm(c), Attention(c, heads)))
    mlp = Residual(Series(LayerNorm(c), TokenLinear(c, 2 * c), Activation(2 * c, "gelu"), TokenLinear(2 * c, c)))
    return Repeat(Series(attend, mlp), blocks)


def hybrid(width, heads=4):
    return Series(
        Conv(3, 16, (3, 3), stride=2, padding=1),
        Residual(Series(Conv(16, 64, (1, 1)), Conv(64, 64, (3, 3), groups=64), Conv(64, 16, (1, 1)))),
        Conv(16, 24, (3, 3), stride=2, padding=1), Conv(24, 48, (3, 3), stride=2, padding=1),
        Conv(48, 64, (3, 3), stride=2, padding=1),
        Conv(64, width, (1, 1)), transformer(width, heads), Conv(width, 64, (1, 1)),
        Conv(64, 80, (3, 3), stride=2, padding=1),
        Conv(80, width, (1, 1)), transformer(width, heads), Conv(width, 80, (1, 1)),
        Conv(80, 320, (1, 1)), AdaptivePool(320), Linear(320, 1000))
"""),
    md("""
## Its cost in closed form

With the width left as the symbol N, the MACs at 224 x 224 are a quadratic in N (the heads
group the channels of attention's products and change nothing in the count; one head stands
for any number of them here):
"""),
    code("""
N, H, W = ca.N, ca.H, ca.W
macs_N, params_N = ca.total(hybrid(N, heads=1), 224)
macs_N
"""),
    md("""
And in the input's H and W at a fixed width: the term in H²W² is attention's n² (n = HW/256
tokens at stride 16, HW/1024 at 32), the others the convolutions' and projections' HW:
"""),
    code("""
ca.total(hybrid(96), (H, W))[0]
"""),
    md("""
## The budget: MobileNet V2 at 224
"""),
    code("""
budget = ca.network("mobilenet_v2").count(224).macs
budget
"""),
    md("""
The closed form evaluated on every width that 4 heads divide, with `sweep` (numpy speed), and
the widest that fits:
"""),
    code("""
import pandas as pd

widths = list(range(16, 1025, 4))
table = ca.sweep(macs_N, N=widths).to_pandas()
fits = table[table["value"] <= budget]
width = int(fits["N"].max())
chosen = hybrid(width)
macs, params = ca.total(chosen, 224)
assert macs <= budget < ca.total(hybrid(width + 4), 224)[0]        # the widest that fits, counted exactly
assert macs == macs_N.subs(N, width) and params == params_N.subs(N, width)  # the closed form is the count
pd.DataFrame({"width N": [width], "MACs": [macs], "budget used": [f"{macs / budget:.1%}"], "params": [params]})
"""),
    md("""
PyTorch agrees: the same design built as PyTorch modules (`to_torch`, on the meta device, where
nothing is computed) and counted by FlopCounterMode (FLOPs, 2 per MAC):
"""),
    code("""
import torch
from torch.utils.flop_counter import FlopCounterMode

model = ca.to_torch(chosen, device="meta")
with FlopCounterMode(display=False) as counter:
    model(torch.empty(1, 3, 224, 224, device="meta"))
assert counter.get_total_flops() == 2 * macs
assert sum(p.numel() for p in model.parameters()) == params
print(f"width {width}: {macs:,} MACs, {params:,} params, as PyTorch counts them")
"""),
    md("""
## Where the budget goes, and where the hybrid stops being cheap

Attention's share at 224: its projections (4nC²) and its two products (2n²C), read off each step
of the forward pass (a repeated block's step counts its repeats):
"""),
    code("""
from convalgebra.memory import trace

steps = [s for s in trace(chosen, 224).steps if isinstance(s.layer, Attention)]
products = sum(s.layer.score_macs(s.input_size) * s.times for s in steps)
projections = sum(s.layer.projection_macs(s.input_size) * s.times for s in steps)
assert products == 2 * (2 * 196**2 * width) + 2 * (2 * 49**2 * width)   # two blocks a stage: n = 196, then 49
shares = {"attention's products (2n²C)": products, "attention's projections (4nC²)": projections,
          "everything else": macs - products - projections}
pd.Series(shares).to_frame("MACs")
"""),
    md("""
The n² term is small at 224, but it grows with the square of the image's area. Against MobileNet
V2, whose MACs grow linearly in the area, the hybrid's cost crosses over at some input side;
both closed forms in I (H = W = I, exact at multiples of 32), swept:
"""),
    code("""
I = ca.I
ours = ca.total(chosen, (H, W))[0].subs({H: I, W: I})
theirs = ca.network("mobilenet_v2").count((H, W)).macs.subs({H: I, W: I})
sides = list(range(96, 1217, 32))
curves = pd.DataFrame({"I": sides,
                       "hybrid": ca.sweep(ours, I=sides).to_pandas()["value"],
                       "mobilenet_v2": ca.sweep(theirs, I=sides).to_pandas()["value"]})
beyond = curves[curves["hybrid"] > curves["mobilenet_v2"]]
cross = int(beyond["I"].min()) if len(beyond) else None
assert ca.total(chosen, 224)[0] == ours.subs(I, 224)
print(f"the hybrid costs more than MobileNet V2 from I = {cross} on" if cross else "the hybrid stays cheaper")
"""),
    code("""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(curves["I"], curves["hybrid"] / 1e9, label=f"hybrid, N = {width}")
ax.plot(curves["I"], curves["mobilenet_v2"] / 1e9, label="MobileNet V2")
ax.axvline(224, color="grey", lw=0.8, ls=":")
ax.set_xlabel("input side I (H = W = I)")
ax.set_ylabel("GMACs")
ax.set_title("A hybrid's attention is quadratic in the area")
ax.legend()
plt.show()
"""),
    md("""
The design holds at the size it was made for; past the crossing, a larger image calls for
windows (Swin's M x M windows make the n² term n·M²) or separable attention (MobileViT V2:
no n² term at all), each a rule in the library: `ca.explain("window-attention")`,
`ca.explain("separable-attention")`.
"""),
]

NOTEBOOKS = {
    "01-tour-of-the-ten-modules.ipynb": TOUR,
    "02-designing-a-block-under-a-budget.ipynb": BUDGET,
    "03-network-cost-breakdown.ipynb": NETWORK,
    "04-designing-a-hybrid-under-a-budget.ipynb": HYBRID,
}


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """A notebook of ``cells`` for the python3 kernel, with no outputs and stable cell ids."""
    nb = new_notebook(cells=[nbformat.from_dict(dict(c)) for c in cells])
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(argv: list[str]) -> int:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(notebook(cells), HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
