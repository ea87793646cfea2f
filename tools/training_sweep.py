"""Every torchvision CNN in the zoo, its training step held to torch at a random size, batch and
frozen prefix (a seed makes the draw): the zoo's network and the imported one against
FlopCounterMode over a real backward on meta (its convolution backward counting groups), and the
imported one's kept bytes against ``saved_tensors_hooks`` (dropout and stochastic depth taken out:
they are not layers the library knows). Prints each mismatch and the count; minutes on 2 cores.

    python tools/training_sweep.py macs 1      # MACs, seed 1
    python tools/training_sweep.py saved 5     # bytes kept for the backward, seed 5

The imported Inception V3 differs by its auxiliary classifier, which runs in training only
(from_torch traces in eval mode); the zoo's has it and agrees.
"""

from __future__ import annotations

import os
import random
import sys
import time
import warnings
from math import prod

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision.ops import StochasticDepth  # noqa: E402

import convalgebra as ca  # noqa: E402
from convalgebra.training import training_cost  # noqa: E402


def conv_backward(g, x, w, _b, _s, _p, _d, transposed, _o, _groups, mask, out_shape=None, **kw):
    """FLOPs of a convolution's backward from the definition: each weight meets each position once an image."""
    return 2 * x[0] * prod(x[2:] if transposed else g[2:]) * prod(w) * (int(mask[0]) + int(mask[1]))


def frozen(m, freeze):
    for name, p in m.named_parameters():
        p.requires_grad_(not any(name == f or name.startswith(f + ".") for f in freeze))


def torch_macs(m, size, batch, freeze):
    frozen(m, freeze)
    with FlopCounterMode(display=False, custom_mapping={torch.ops.aten.convolution_backward: conv_backward}) as c:
        out = m(torch.empty(batch, 3, *size, device="meta"))
        outs = [out] if isinstance(out, torch.Tensor) else [o for o in out if o is not None]
        sum(o.sum() for o in outs).backward()
    frozen(m, ())
    return c.get_total_flops() // 2


def torch_saved(m, size, batch, freeze):
    own, kept = list(m.parameters()) + list(m.buffers()), {}

    def pack(t):
        if not any(t is p or t._base is p for p in own):
            base = t if t._base is None else t._base
            kept[id(base)] = base.numel() * base.element_size()
        return t

    frozen(m, freeze)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m(torch.empty(batch, 3, *size, device="meta"))
    frozen(m, ())
    return sum(kept.values())


def without_dropout(module):
    for name, child in module.named_children():
        if isinstance(child, (torch.nn.Dropout, StochasticDepth)):
            setattr(module, name, torch.nn.Identity())
        else:
            without_dropout(child)
    return module


def main(what: str, seed: int) -> int:
    random.seed(seed)
    names = [n for n in ca.network_names() if n in torchvision.models.list_models(module=torchvision.models)]
    bad = 0
    for name in names:
        start = time.time()
        kwargs = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
        if name == "googlenet" or (what == "saved" and name == "inception_v3"):
            kwargs["aux_logits"] = False  # the zoo's GoogLeNet has none
        m = getattr(torchvision.models, name)(**kwargs).to("meta")
        if what == "saved":
            m = without_dropout(m)
        base = 299 if name == "inception_v3" else 224
        net = ca.from_torch(m.eval(), input_shape=(3, base, base))
        m.train()
        size = (301, 333) if name == "inception_v3" else (random.choice([97, 129, 161, 225, 241]),
                                                           random.choice([113, 161, 193, 257]))
        batch = random.randint(1, 5)
        owners = [n for n, c in m.named_modules() if n and any(True for _ in c.parameters(recurse=False))]
        deep = random.choice(owners).rsplit(".", 1)[0]
        top = random.choice([n for n, c in m.named_children() if any(True for _ in c.parameters())])
        checks = [(net, f) for f in ((), (deep,))]
        if what == "macs":
            checks += [(name, f) for f in ((), (top,))]
        for subject, freeze in checks:
            step = training_cost(subject, size, batch, freeze=freeze)
            ours = step.total if what == "macs" else step.saved_bytes
            theirs = (torch_macs if what == "macs" else torch_saved)(m, size, batch, freeze)
            if ours != theirs:
                bad += 1
                kind = "zoo" if isinstance(subject, str) else "imported"
                print(f"MISMATCH {kind} {name} {size} batch {batch} freeze {freeze}: {ours} != {theirs}")
        print(f"{name} {time.time() - start:.1f} s", flush=True)
    print(f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("macs", "saved"):
        sys.exit("usage: python tools/training_sweep.py macs|saved SEED")
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
