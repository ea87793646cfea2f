"""An independent count for the tests: run real convolutions in plain Python, one
multiply-accumulate at a time, and count them.

Nothing here uses convalgebra's formulas: the output size comes from sliding the
window over the padded input, and the count from the loops that do the arithmetic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

Tensor = list  # [channel][row][column] of ints


@dataclass
class Counter:
    macs: int = 0


def random_tensor(channels: int, size: int, rng: random.Random, width: int | None = None) -> Tensor:
    """A size x size tensor, or size x width."""
    return [[[rng.randint(-3, 3) for _ in range(size if width is None else width)] for _ in range(size)]
            for _ in range(channels)]


def conv2d(x: Tensor, out_channels: int, kernel: tuple[int, int], groups: int, stride: int,
           padding: tuple[int, int], dilation: int, counter: Counter, rng: random.Random) -> Tensor:
    """A grouped 2-D convolution with zero padding, counting each multiply-accumulate."""
    in_channels, height, width = len(x), len(x[0]), len(x[0][0])
    kh, kw = kernel
    ph, pw = padding
    assert in_channels % groups == 0 and out_channels % groups == 0
    per_group_in = in_channels // groups
    per_group_out = out_channels // groups
    weight = [[[[rng.randint(-2, 2) for _ in range(kw)] for _ in range(kh)] for _ in range(per_group_in)]
              for _ in range(out_channels)]
    rows = [r for r in range(-ph, height + ph) if r + dilation * (kh - 1) < height + ph][::stride]
    cols = [c for c in range(-pw, width + pw) if c + dilation * (kw - 1) < width + pw][::stride]
    out = []
    for o in range(out_channels):
        g = o // per_group_out
        plane = []
        for r0 in rows:
            line = []
            for c0 in cols:
                acc = 0
                for ci in range(per_group_in):
                    channel = x[g * per_group_in + ci]
                    for i in range(kh):
                        for j in range(kw):
                            r, c = r0 + i * dilation, c0 + j * dilation
                            value = channel[r][c] if 0 <= r < height and 0 <= c < width else 0
                            acc += weight[o][ci][i][j] * value
                            counter.macs += 1
                line.append(acc)
            plane.append(line)
        out.append(plane)
    return out


def shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle: reshape (g, n/g), transpose, flatten. No arithmetic."""
    n = len(x)
    per = n // groups
    return [x[(i % groups) * per + i // groups] for i in range(n)]


def same_padding(kernel: int) -> int:
    assert kernel % 2 == 1, "SAME padding at stride 1 needs an odd kernel here"
    return (kernel - 1) // 2


def conv_transpose2d(x: Tensor, out_channels: int, kernel: tuple[int, int], groups: int, stride: int,
                     padding: tuple[int, int], output_padding: tuple[int, int], counter: Counter,
                     rng: random.Random) -> Tensor:
    """A grouped transposed convolution as the scatter it is: every input value, times every
    weight of its group's kernels, added into the output window it reaches (padding then
    crops the borders). Counts each multiply-accumulate."""
    in_channels, height, width = len(x), len(x[0]), len(x[0][0])
    kh, kw = kernel
    per_group_in, per_group_out = in_channels // groups, out_channels // groups
    weight = [[[[rng.randint(-2, 2) for _ in range(kw)] for _ in range(kh)] for _ in range(per_group_out)]
              for _ in range(in_channels)]
    full_h, full_w = (height - 1) * stride + kh + output_padding[0], (width - 1) * stride + kw + output_padding[1]
    full = [[[0] * full_w for _ in range(full_h)] for _ in range(out_channels)]
    for ci in range(in_channels):
        g = ci // per_group_in
        for r in range(height):
            for c in range(width):
                for oc in range(per_group_out):
                    for i in range(kh):
                        for j in range(kw):
                            full[g * per_group_out + oc][r * stride + i][c * stride + j] += weight[ci][oc][i][j] * x[ci][r][c]
                            counter.macs += 1
    ph, pw = padding
    return [[row[pw:full_w - pw] for row in plane[ph:full_h - ph]] for plane in full]
