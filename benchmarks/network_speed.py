"""Speed of counting a whole network, measured against ptflops in the same run.

Prints:
  1. wall time of `python -m convalgebra network resnet50` against a fresh process in which
     ptflops counts the same ResNet-50 (built as a torch.nn.Module by convalgebra's export,
     so no torchvision is needed), medians of alternating runs and their ratio (target: >= 3x);
     then the same two counts inside one warm process (torch already imported, model built);
  2. the in-process time to build and count resnet50, resnet101 and resnet152, per layer,
     to show that the time grows linearly with depth;
  3. the whole zoo (every torchvision classification CNN and the papers' four) built and
     counted at 224 x 224, in a fresh process that never imports sympy (checked), against
     FlopCounterMode counting torchvision's own definitions on the meta device in the same
     run (the models built once; only the forward passes timed); per-family times too.

Both counters' totals are printed too: convalgebra counts convolution and linear MACs only
(torchvision's convention); ptflops' default backend adds batch norm, pooling and biases,
and its aten backend adds the classifier's bias additions.

Run: python benchmarks/network_speed.py [--runs 5] [--zoo-only]   (needs the extras: pip install -e ".[torch,bench]")
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

PTFLOPS = r"""
import torch
from ptflops import get_model_complexity_info
from convalgebra.catalog import network
from convalgebra.torch_export import to_torch
model = to_torch(network("resnet50")).eval()
macs, params = get_model_complexity_info(model, (3, 224, 224), as_strings=False, print_per_layer_stat=False,
                                         backend="aten")
print(macs, params)
"""


def wall(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout


def best_of(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def end_to_end(runs: int) -> None:
    py = sys.executable
    ours_cmd = [py, "-m", "convalgebra", "network", "resnet50"]
    theirs_cmd = [py, "-c", PTFLOPS]
    ours, theirs, out_ours, out_theirs = [], [], "", ""
    for _ in range(runs):  # alternate, so both see the same machine load
        seconds, out_ours = wall(ours_cmd)
        ours.append(seconds)
        seconds, out_theirs = wall(theirs_cmd)
        theirs.append(seconds)
    total_line = next(line for line in out_ours.splitlines() if "GMACs" in line).strip()
    print("1. resnet50 at 224 x 224, end to end (fresh processes, median of", runs, "alternating runs)")
    print(f"   convalgebra network resnet50 : {statistics.median(ours) * 1000:8.1f} ms   ({total_line})")
    print(f"   ptflops (aten backend)       : {statistics.median(theirs) * 1000:8.1f} ms   "
          f"(MACs, params = {out_theirs.split()[0]}, {out_theirs.split()[1]})")
    print(f"   ratio: convalgebra is {statistics.median(theirs) / statistics.median(ours):.1f}x faster (target >= 3x)")


def warm(runs: int) -> None:
    import torch  # noqa: F401  (imported before timing)
    from ptflops import get_model_complexity_info

    from convalgebra import zoo
    from convalgebra.catalog import network
    from convalgebra.torch_export import to_torch

    def ours() -> None:
        zoo.build.cache_clear()
        network("resnet50").count(224)

    model = to_torch(network("resnet50")).eval()
    results = {}

    def theirs(backend: str):
        return lambda: results.setdefault(backend, get_model_complexity_info(
            model, (3, 224, 224), as_strings=False, print_per_layer_stat=False, backend=backend))

    t_ours = best_of(ours, runs * 4)
    t_aten = best_of(theirs("aten"), runs)
    t_torch = best_of(theirs("pytorch"), runs)
    cost = network("resnet50").count(224)
    print("   in one warm process (torch imported, model built; convalgebra builds its network each run):")
    print(f"   convalgebra build + count    : {t_ours * 1000:8.2f} ms   (MACs {cost.macs:,}, params {cost.params:,})")
    for name, seconds in (("aten", t_aten), ("pytorch", t_torch)):
        macs, params = results[name]
        print(f"   ptflops ({name:7} backend)   : {seconds * 1000:8.2f} ms   (MACs {macs:,}, params {params:,}); "
              f"{seconds / t_ours:.0f}x convalgebra's time")


def depth(runs: int) -> None:
    from convalgebra import zoo
    from convalgebra.catalog import network

    print("2. time against depth (in process, build + count at 224, median of", runs * 4, "runs)")
    base = None
    for name in ("resnet50", "resnet101", "resnet152"):
        def run(name: str = name) -> None:
            zoo.build.cache_clear()
            network(name).count(224)

        seconds = best_of(run, runs * 4)
        layers = len(network(name).count(224).layers)
        base = base or (seconds, layers)
        print(f"   {name:10} {layers:4} layers  {seconds * 1000:7.2f} ms  {seconds / layers * 1e6:6.1f} us/layer"
              f"   time x{seconds / base[0]:.2f} for layers x{layers / base[1]:.2f}")


ZOO_COUNT = r"""
import sys, time
start = time.perf_counter()
from convalgebra.catalog import network, network_names
totals = {name: network(name).count(224).macs for name in network_names()}
seconds = time.perf_counter() - start
assert "sympy" not in sys.modules, "a concrete count imported sympy"
print(len(totals), seconds, sum(totals.values()))
"""

TORCH_COUNT = r"""
import sys, time, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.regnet import BlockParams
from convalgebra.catalog import network_names
build = BlockParams.from_init_params.__func__
def on_cpu(cls, *args, **kwargs):
    with torch.device("cpu"):
        return build(cls, *args, **kwargs)
BlockParams.from_init_params = classmethod(on_cpu)  # RegNet's widths need real tensors
names = [n for n in network_names() if n in torchvision.models.list_models()]
kwargs = {"googlenet": {"aux_logits": False, "init_weights": False}, "inception_v3": {"init_weights": False}}
with torch.device("meta"):
    models = {n: torchvision.models.get_model(n, weights=None, **kwargs.get(n, {})).eval() for n in names}
start = time.perf_counter()
total = 0
for n, model in models.items():
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, 224, 224, device="meta"))
    total += counter.get_total_flops() // 2
print(len(models), time.perf_counter() - start, total)
"""


def zoo(runs: int, torch_too: bool) -> None:
    py = sys.executable
    ours = [float(wall([py, "-c", ZOO_COUNT])[1].split()[1]) for _ in range(runs)]
    count, _, macs = wall([py, "-c", ZOO_COUNT])[1].split()
    print(f"3. the whole zoo at 224 x 224: {count} networks built and counted (fresh process, no sympy imported)")
    print(f"   convalgebra build + count, all : {statistics.median(ours) * 1000:8.1f} ms   "
          f"({float(statistics.median(ours)) / int(count) * 1000:.1f} ms a network; {int(macs):,} MACs in all)")
    if torch_too:
        theirs = [wall([py, "-c", TORCH_COUNT])[1].split() for _ in range(max(1, runs // 2))]
        seconds = statistics.median(float(t[1]) for t in theirs)
        print(f"   FlopCounterMode, {theirs[0][0]} torchvision models on meta (forward only, built beforehand): "
              f"{seconds * 1000:8.1f} ms   ({int(theirs[0][2]):,} MACs)")
        print(f"   ratio: convalgebra builds and counts {seconds / statistics.median(ours):.1f}x faster than"
              " FlopCounterMode only counts")
    from convalgebra import zoo as zoo_module
    from convalgebra.catalog import network, network_names

    families: dict[str, float] = {}
    for name in network_names():
        def run(name: str = name) -> None:
            zoo_module.build.cache_clear()
            network(name).count(224)

        family = re.match(r"[a-z]+", name).group()  # vgg11_bn is a vgg, regnet_y_8gf a regnet
        families[family] = families.get(family, 0.0) + best_of(run, runs)
    print("   in process, build + count at 224, by family (medians, ms):")
    print("   " + ", ".join(f"{family} {seconds * 1000:.0f}" for family, seconds in families.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--zoo-only", action="store_true", help="only section 3, the whole zoo")
    parser.add_argument("--no-torch", action="store_true", help="section 3 without the FlopCounterMode baseline")
    args = parser.parse_args()
    if not args.zoo_only:
        end_to_end(args.runs)
        warm(args.runs)
        depth(args.runs)
    zoo(args.runs, not args.no_torch)


if __name__ == "__main__":
    main()
