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

NOTEBOOKS = {
    "01-tour-of-the-ten-modules.ipynb": TOUR,
    "02-designing-a-block-under-a-budget.ipynb": BUDGET,
    "03-network-cost-breakdown.ipynb": NETWORK,
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
