"""Memory access cost: what each layer reads and writes, in closed form, beside its MACs.

ShuffleNet V2 (Ma et al., ECCV 2018) measured that MACs alone mislead: a layer's speed
also depends on its **memory access cost** (MAC in that paper; here *traffic*, so as not
to clash with multiply-accumulates), the elements of its input and output feature maps
plus its weights. For the article's standard convolution on I x I:

>>> from convalgebra.layers import Conv
>>> from convalgebra.symbols import K, M, N, I
>>> t = layer_traffic(Conv(M, N, (K, K)), I)
>>> t.reads, t.writes, t.weights, t.elements
(I**2*M, I**2*N, K**2*M*N, I**2*M + I**2*N + K**2*M*N)

in bytes at a dtype (fp32, 4 bytes, by default), and its arithmetic intensity, FLOPs
(2 per MAC) per byte moved:

>>> t14 = layer_traffic(Conv(512, 512, (3, 3)), 14)
>>> t14.elements, t14.bytes(), t14.bytes("int8")
(2560000, 10240000, 2560000)
>>> intensity(Conv(512, 512, (3, 3)).macs(14), t14.bytes())
Fraction(56448, 625)

The conventions, the same for every layer and block:

- a layer reads its input map once, writes its output map once and reads each of its
  parameters once (``params()``: weights, biases, batch norm's gamma and beta);
- :class:`~convalgebra.layers.Identity` and :class:`~convalgebra.layers.Slice` are views:
  they move nothing and make no new tensor (a view keeps its whole input alive);
- a concatenation (a :class:`~convalgebra.blocks.Parallel`) copies, as ``torch.cat`` does:
  it reads every branch's output and writes the joined map;
- a residual sum reads its two operands and writes the sum in place of the body's output
  (``out += identity``, as torchvision writes it); an elementwise layer reads two operands;
- a :class:`~convalgebra.blocks.Scale` reads the input and the gate and writes the product.

The same walk gives the **peak activation memory** of a forward pass: the largest set of
tensors alive at once (a tensor lives from the step that writes it to the last step that
reads it; a block's input is held until the block joins its parts, a concatenation, a sum
or a product, as a ``forward`` method's frame holds it; so a residual's input and a
concatenation's finished branches stay held):

>>> from convalgebra.blocks import Residual, Series
>>> block = Residual(Series(Conv(64, 64, (3, 3)), Conv(64, 64, (3, 3))))
>>> peak_memory(block, 56)            # the input held for the sum, the 1st output, the 2nd
602112
>>> 3 * 64 * 56 * 56
602112
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Generator, Optional, Sequence, cast

from .blocks import (Block, Graph, Parallel, Place, Repeat, Residual, Scale, Series, check_block, drive, fold, iter_layers,
                     same_value)
from .display import Result
from .errors import InvalidValueError, wrong_type
from .symbols import expression
from .validation import check
from .layers import (LAYER_TYPES, Attention, Elementwise, Identity, Layer, Linear, LinearAttention, Size, Slice,
                     TokenLinear, Value, area, as_size, exact_div,
                     checked_size, is_concrete, layer_role, normal, sides)

if TYPE_CHECKING:  # pragma: no cover
    from .networks import Network

__all__ = [
    "DTYPES", "dtype_bytes", "Traffic", "Step", "Trace", "layer_traffic", "trace", "traffic", "intensity",
    "peak_memory", "peak_of", "alive_sets", "NetworkMemory", "MemoryRow", "network_memory", "ModuleMemory",
    "module_memory", "working_memory",
]

#: Bytes per element of each dtype a count may be given in.
DTYPES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of ``dtype``.

    >>> dtype_bytes("bf16")
    2
    >>> dtype_bytes("fp64")
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: dtype 'fp64'; expected one of fp32 fp16 bf16 int8
    """
    if not isinstance(dtype, str):
        raise wrong_type(dtype, f"a dtype's name, one of {' '.join(DTYPES)}")
    if dtype not in DTYPES:
        raise InvalidValueError(f"dtype {dtype!r}; expected one of {' '.join(DTYPES)}")
    return DTYPES[dtype]


@dataclass(frozen=True)
class Traffic:
    """Elements one step moves: activations read, activations written, parameters read."""

    reads: Value = 0
    writes: Value = 0
    weights: Value = 0

    @property
    def elements(self) -> Value:
        """All elements moved: reads + writes + weights."""
        return normal(self.reads + self.writes + self.weights)

    def bytes(self, dtype: str = "fp32") -> Value:
        """The elements moved, in bytes at ``dtype``."""
        return normal(self.elements * dtype_bytes(dtype))

    def times(self, count: Value) -> "Traffic":
        return Traffic(normal(self.reads * count), normal(self.writes * count), normal(self.weights * count))


def intensity(macs: Value, moved_bytes: Value) -> Value:
    """Arithmetic intensity: FLOPs (2 per MAC) per byte moved; exact.

    >>> intensity(100, 50)
    4
    >>> from convalgebra.symbols import M, N
    >>> intensity(M * N, 4 * (M + N))
    M*N/(2*(M + N))
    """
    for value in (macs, moved_bytes):
        if type(value) in (int, Fraction):
            continue
        expr: Any = value
        if not (_is_expression(expr) and expr.is_real is not False and (expr.is_Rational or not expr.is_Number)
                and expr.is_finite is not False):
            raise wrong_type(value, "MACs and bytes: whole numbers, fractions or expressions")
        expression(expr)  # refuses one too large to work with
    if is_concrete(macs) and is_concrete(moved_bytes):
        if moved_bytes == 0:
            raise InvalidValueError("a step that moves no bytes has no arithmetic intensity")
        return normal(Fraction(2 * macs) / Fraction(moved_bytes))
    import sympy

    return sympy.factor(sympy.cancel(sympy.sympify(2 * macs, strict=True) / moved_bytes))


def _given_size(size: Any) -> Size:
    """``size`` as the walk takes it: whole numbers and expressions as they are (the layers
    check them), anything else (text, a float, a list) read and checked as a user's size."""
    pair = size if isinstance(size, tuple) and len(size) == 2 else (size,)
    if all(type(side) is int or _is_expression(side) for side in pair):
        return cast(Size, size)
    return checked_size(size)


def _is_expression(value: Any) -> bool:
    """A sympy expression (not a relation, nor a truth value), without importing sympy for a number."""
    if not hasattr(value, "free_symbols"):
        return False
    import sympy

    return isinstance(value, sympy.Expr)


def _map(channels: Value, size: Size) -> Value:
    return normal(channels * area(size))


_VIEWS = (Identity, Slice)


def layer_traffic(layer: Layer, size: Size) -> Traffic:
    """What ``layer`` reads and writes on an input of ``size``, in elements (see the conventions above).

    >>> from convalgebra.layers import Conv, Slice, Elementwise, Linear
    >>> from convalgebra.symbols import M, N, H, W
    >>> layer_traffic(Conv(M, N, (1, 1)), (H, W)).elements      # ShuffleNet V2's hw(c1 + c2) + c1*c2
    H*M*W + H*N*W + M*N
    >>> layer_traffic(Slice(8, 0, 4), 7), layer_traffic(Elementwise(8), 7).elements
    (Traffic(reads=0, writes=0, weights=0), 1176)
    >>> layer_traffic(Linear(2048, 1000), 1)
    Traffic(reads=2048, writes=1000, weights=2049000)
    """
    if not isinstance(layer, LAYER_TYPES):
        raise wrong_type(layer, "a layer (a block's traffic: traffic(block, size))")
    size = _given_size(size)
    if isinstance(layer, _VIEWS):
        layer.output_size(size)
        return Traffic()
    out = layer.output_size(size)
    if isinstance(layer, Linear):
        return Traffic(normal(layer.in_features), normal(layer.out_features), layer.params())
    if isinstance(layer, (Attention, LinearAttention, TokenLinear)):
        return _token_traffic(layer, size)
    operands = 2 if isinstance(layer, Elementwise) else 1
    return Traffic(normal(operands * _map(layer.in_channels, size)), _map(layer.out_channels, out), layer.params())


def working_memory(layer: Layer, size: Size) -> Value:
    """The elements a layer holds while it runs, besides its input and its output: 0 for every
    layer but self-attention, which on n tokens of C channels makes the queries, keys and values
    (3nC), the scores S (h*n*n, h*n*M**2 in windows) and the softmax's output P (as many), then
    the weighted sum O (nC) before the output projection. Inside the step the largest of
    qkv + S + P (while the softmax runs), qkv + P + O (the second product) and O (the
    projection, beside the output) is alive; the output (C*H*W) is the step's, so it is taken off.

    >>> from convalgebra.layers import Attention
    >>> from convalgebra.symbols import H, W
    >>> working_memory(Attention(768, 12, extra=1), 14)     # qkv and 2 x 12 x 197 x 197 scores, less the output
    1234776
    >>> 3 * 197 * 768 + 2 * 12 * 197**2 - 196 * 768
    1234776
    >>> working_memory(Attention(96, 3, window=7), (H, W))     # Swin: S = 3 * 49 per token
    486*H*W
    """
    if not isinstance(layer, LAYER_TYPES):
        raise wrong_type(layer, "a layer")
    size = _given_size(size)
    layer.output_size(size)
    if not isinstance(layer, Attention):
        return 0
    n, scores = layer.tokens(size), layer.score_elements(size)
    C = layer.channels
    qkv, context, out = 3 * n * C, n * C, _map(C, size)  # the output a map: the class token's and padding's left
    return peak_of([normal(qkv + 2 * scores - out), normal(qkv + scores + context - out), normal(context)])


def _token_traffic(layer: "Attention | LinearAttention | TokenLinear", size: Size) -> Traffic:
    """A transformer layer's traffic on the n tokens (H*W, the class token too, Swin's windows padded):
    a linear layer on each token reads n*in and writes n*out. Self-attention is counted as torch
    runs it unfused, each product a kernel of its own: it reads its input (n*C), writes the queries,
    keys and values (3n*C) and reads them back, writes the scores S = h*n*n (h*n*M**2 in windows), reads
    them for the softmax, writes its result and reads it for the weighted sum (4S in all), writes the
    context (n*C) and reads it for the projection, and writes the output (n*C). The n x n score
    matrix is the term that grows with the square of the tokens. Separable attention writes and
    reads its n*(2C + 1) scores, keys and values and its n*C scaled values.

    >>> from convalgebra.layers import Attention
    >>> from convalgebra.symbols import H, W, N, G
    >>> layer_traffic(Attention(N, G), (H, W)).elements
    4*G*H**2*W**2 + 10*H*N*W + 4*N**2 + 4*N
    """
    if isinstance(layer, TokenLinear):
        n = exact_div(layer.macs(size), layer.in_channels * layer.out_channels)
        return Traffic(normal(n * layer.in_channels), normal(n * layer.out_channels), layer.params())
    C = layer.channels
    if isinstance(layer, LinearAttention):
        n = area(size)
        made = n * (2 * C + 1) + n * C
        return Traffic(normal(n * C + made), normal(made + n * C), layer.params())
    n, scores = layer.tokens(size), layer.score_elements(size)
    real = _map(C, size) if layer.window is not None else n * C  # the padding of the windows is made in place
    return Traffic(normal(real + 3 * n * C + 2 * scores + n * C), normal(3 * n * C + 2 * scores + n * C + real),
                   layer.params())


# -- the walk: every step of a forward pass, and the tensors it makes ------------------

@dataclass(frozen=True)
class Step:
    """One step of a forward pass: a layer, or a block's own operation (``concat``, ``add``,
    ``multiply``); the storages it reads and the one it writes (None: a view, or in place)."""

    op: str
    layer: Optional[Layer]
    in_channels: Value
    out_channels: Value
    input_size: Size
    output_size: Size
    macs: Value
    traffic: Traffic
    reads: tuple[int, ...] = ()
    writes: Optional[int] = None
    branch: tuple[int, ...] = ()
    times: Value = 1
    working: Value = 0  #: elements alive inside the step besides its input and output (attention's scores)


@dataclass(frozen=True)
class Trace:
    """A block's steps in order and the size in elements of each storage they make; storage
    0 is the input. ``output`` is the storage that holds the result."""

    steps: tuple[Step, ...]
    storages: tuple[Value, ...]
    output: int
    out_channels: Value = 0
    output_size: Size = 1


@dataclass
class _Tracer:
    unroll: bool
    steps: list[Step] = field(default_factory=list)
    storages: list[Value] = field(default_factory=list)

    def new(self, elements: Value) -> int:
        self.storages.append(elements)
        return len(self.storages) - 1

    def walk(self, block: Block, x: tuple[int, Value, Size], place: Place) -> tuple[int, Value, Size]:
        """``x`` is (storage, channels, size); returns the same for the output (a loop, however deep the block)."""
        return cast("tuple[int, Value, Size]", drive(self._walk(block, x, place)))

    def _walk(self, block: Block, x: tuple[int, Value, Size], place: Place) -> Generator[Any, Any, tuple[int, Value, Size]]:
        """The walk as :func:`~convalgebra.blocks.drive` runs it: each part's walk is yielded."""
        sid, channels, size = x
        if isinstance(block, Series):
            for item in block.items:
                x = yield self._walk(item, x, place)
            return x
        if isinstance(block, Parallel):
            outs = []
            for i, item in enumerate(block.items):
                outs.append((yield self._walk(item, x, place.into(i))))
            total = normal(sum(c for _, c, _ in outs))
            out_size = outs[0][2]
            if any(o[2] != out_size for o in outs[1:]):
                raise InvalidValueError(f"parallel branches disagree on output size: {[o[2] for o in outs]}")
            moved = normal(sum(_map(c, s) for _, c, s in outs))
            new = self.new(_map(total, out_size))
            self.steps.append(Step("concat", None, channels, total, size, out_size, 0,
                                   Traffic(moved, _map(total, out_size)), (sid, *(o[0] for o in outs)), new,
                                   place.branch, place.times))
            return new, total, out_size
        if isinstance(block, Residual):
            body = yield self._walk(block.body, x, place.into(0))
            short = x if block.shortcut is None else (yield self._walk(block.shortcut, x, place.into(1)))
            if body[2] != short[2]:
                raise InvalidValueError(f"the residual sum adds a {body[2]}-wide output to a {short[2]}-wide shortcut")
            in_place = body[0] != sid  # never overwrite the block's input, which the shortcut may read
            target = body[0] if in_place else self.new(_map(body[1], body[2]))
            one = _map(body[1], body[2])
            self.steps.append(Step("add", None, body[1], body[1], body[2], body[2], 0, Traffic(2 * one, one),
                                   (body[0], short[0], sid), None if in_place else target, place.branch, place.times))
            return target, body[1], body[2]
        if isinstance(block, Repeat):
            if not self.unroll:
                return (yield self._walk(block.body, x, place.repeated(block.count)))
            runs = 2 if not is_concrete(block.count) else min(int(block.count), 2)  # later runs repeat the 2nd
            for _ in range(runs):
                x = yield self._walk(block.body, x, place)
            return x
        if isinstance(block, Scale):
            gate = yield self._walk(block.gate, x, place.gated())
            new = self.new(_map(channels, size))
            self.steps.append(Step("multiply", None, channels, channels, size, size, 0,
                                   Traffic(normal(_map(channels, size) + _map(gate[1], gate[2])), _map(channels, size)),
                                   (sid, gate[0]), new, place.branch, place.times))
            return new, channels, size
        if isinstance(block, Graph):
            values = [x]
            for i, node in enumerate(block.nodes):
                ins = [values[j] for j in node.inputs]
                joined = ins[0] if len(ins) == 1 else self.joined(node.join, ins, place)
                values.append((yield self._walk(node.block, joined, place.into(i))))
            return values[block.outputs[0]]
        layer = cast(Layer, block)
        if not same_value(layer.in_channels, channels):
            raise InvalidValueError(f"a {layer_role(layer)} for {layer.in_channels} input channels gets {channels}")
        moved = layer_traffic(layer, size).times(place.times)
        out_size = layer.output_size(size)
        made = None if isinstance(layer, _VIEWS) else self.new(_map(layer.out_channels, out_size))
        self.steps.append(Step(layer_role(layer), layer, layer.in_channels, layer.out_channels, size, out_size,
                               normal(layer.macs(size) * place.times), moved, (sid,), made, place.branch, place.times,
                               working_memory(layer, size)))
        return (sid if made is None else made), layer.out_channels, out_size

    def joined(self, kind: str, ins: list[tuple[int, Value, Size]], place: Place) -> tuple[int, Value, Size]:
        """A graph's join of several values: it reads them all and writes the result (a sum or a
        product broadcasts a 1 x 1 or 1-channel value; a concatenation copies)."""
        if kind == "concat":
            channels: Value = normal(sum(c for _, c, _ in ins))
            size = ins[0][2]
        elif kind == "resize":
            channels, size = ins[0][1], ins[1][2]
            ins = ins[:1]
        else:
            channels = next((c for _, c, _ in ins if not same_value(c, 1)), 1)
            size = next((s for _, _, s in ins if s != 1), 1)
        out = _map(channels, size)
        new = self.new(out)
        self.steps.append(Step(kind, None, ins[0][1], channels, ins[0][2], size, 0,
                               Traffic(normal(sum(_map(c, s) for _, c, s in ins)), out),
                               tuple(i[0] for i in ins), new, place.branch, place.times))
        return new, channels, size


def trace(block: Block, size: Size, in_channels: Optional[Value] = None, unroll: bool = False) -> Trace:
    """Every step of ``block`` on an input of ``size``, with the storages the steps make.

    A repeated body is walked once with its count as ``times`` (``unroll=False``, for
    traffic), or twice in a row (``unroll=True``, for lifetimes: the third run and later
    see what the second saw).

    >>> from convalgebra.layers import Conv, Identity
    >>> t = trace(Parallel(Identity(8), Conv(8, 4, (1, 1))), 7)
    >>> [(s.op, s.reads, s.writes) for s in t.steps]
    [('identity', (0,), None), ('pointwise', (0,), 1), ('concat', (0, 0, 1), 2)]
    >>> t.storages
    (392, 196, 588)
    >>> trace(42, 7)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: trace takes layers and blocks, not an int
    """
    block = check_block(block, "trace")
    size = _given_size(size)
    if in_channels is not None:
        in_channels = check("in_channels", in_channels, "input channels")
    first = next(iter_layers(block), None)
    channels = in_channels if in_channels is not None else (first.in_channels if first is not None else 0)
    size = as_size(*sides(size))  # a square as one number, as every layer's output is
    if unroll:
        _unrolled_steps(block)
    tracer = _Tracer(unroll)
    sid = tracer.new(_map(channels, size))
    out, made, out_size = tracer.walk(block, (sid, channels, size), Place())
    return Trace(tuple(tracer.steps), tuple(tracer.storages), out, made, out_size)


#: The most steps a walk for lifetimes takes (each repeated body walked twice, so nested
#: repeats double the steps at every level): far beyond any network, small enough to walk at once.
MOST_UNROLLED_STEPS = 1_000_000


def _unrolled_steps(block: Block) -> int:
    """The steps of ``block``'s walk for lifetimes, refused past :data:`MOST_UNROLLED_STEPS`.

    >>> from convalgebra.layers import Conv
    >>> deep = Conv(8, 8)
    >>> for _ in range(30):
    ...     deep = Repeat(deep, 2)
    >>> _unrolled_steps(deep)
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: the peak memory walks each repeated body twice (the third run and later see what the second saw); this block's 30 nested repeats make 1073741824 steps, more than the 1000000 walked
    """
    def node(b: Block, parts: list[tuple[int, int]]) -> tuple[int, int]:
        steps, depth = sum(p[0] for p in parts), max((p[1] for p in parts), default=0)
        if isinstance(b, Repeat):
            runs = 2 if not is_concrete(b.count) else min(int(b.count), 2)
            return runs * steps, depth + 1
        return steps + 1, depth

    steps, depth = fold(block, lambda layer: (1, 0), node)
    if steps > MOST_UNROLLED_STEPS:
        raise InvalidValueError(f"the peak memory walks each repeated body twice (the third run and later see what the"
                                f" second saw); this block's {depth} nested repeats make {steps} steps, more than the"
                                f" {MOST_UNROLLED_STEPS} walked")
    return steps


def traffic(block: Block, size: Size) -> Traffic:
    """All a block moves, in elements: the sum over its steps.

    >>> from convalgebra.layers import Conv
    >>> from convalgebra.symbols import K, M, N, I
    >>> traffic(Series(Conv(M, M, (K, K), groups=M), Conv(M, N, (1, 1))), I).elements
    3*I**2*M + I**2*N + K**2*M + M*N
    """
    steps = trace(block, size).steps
    return Traffic(_total(s.traffic.reads for s in steps), _total(s.traffic.writes for s in steps),
                   _total(s.traffic.weights for s in steps))


def _total(values: Any) -> Value:
    """The sum of ``values``, expanded: numbers added as numbers, expressions in one sum
    (adding them one at a time rebuilds a growing sum each time, quadratic in their number)."""
    numbers: Value = 0
    terms = []
    for v in values:
        if is_concrete(v):
            numbers = numbers + v
        else:
            terms.append(v)
    if not terms:
        return normal(numbers)
    import sympy

    return sympy.expand(sympy.Add(numbers, *terms))


def alive_sets(t: Trace) -> list[Value]:
    """The elements alive during each step: every storage from the step that writes it
    (the input: from the start) to the last step that reads it (the output: to the end)."""
    born = {0: -1}
    last = {0: -1}
    for i, s in enumerate(t.steps):
        if s.writes is not None:
            born[s.writes] = i
            last.setdefault(s.writes, i)
        for sid in s.reads:
            last[sid] = i
    last[t.output] = len(t.steps)
    # a sweep over the steps: each storage joins the sum at its birth and leaves after its last read
    # (linear in the steps, where summing every storage at every step was quadratic)
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for sid, i in born.items():
        starts.setdefault(max(i, 0), []).append(sid)
        ends.setdefault(last[sid] + 1, []).append(sid)
    numbers: Value = 0
    terms: dict[Any, Any] = {}  # the symbolic part: each expanded term with its coefficient
    out: list[Value] = []
    for i in range(len(t.steps)):
        for sid, sign in [(sid, 1) for sid in starts.get(i, ())] + [(sid, -1) for sid in ends.get(i, ())]:
            numbers = _gather(t.storages[sid], sign, numbers, terms)
        alive = _sum(numbers, terms)
        working = t.steps[i].working
        out.append(alive if is_concrete(working) and working == 0 else normal(alive + working))
    return out


def _gather(value: Value, sign: int, numbers: Value, terms: dict[Any, Any]) -> Value:
    """Add ``sign * value`` to a running sum held as a number and expanded terms (``terms``,
    in place, each term's coefficient by its monomial); returns the new number."""
    if is_concrete(value):
        return numbers + sign * value
    import sympy

    for term in sympy.Add.make_args(sympy.expand(value)):
        coefficient, monomial = term.as_coeff_Mul()
        if monomial == 1:
            numbers = numbers + sign * coefficient
            continue
        left = terms.get(monomial, 0) + sign * coefficient
        if left == 0:
            terms.pop(monomial, None)
        else:
            terms[monomial] = left
    return numbers


def _sum(numbers: Value, terms: dict[Any, Any]) -> Value:
    """The running sum of :func:`_gather` as a value (the expanded sum :func:`_total` gives)."""
    if not terms:
        return normal(numbers)
    import sympy

    return sympy.Add(numbers, *(c * m for m, c in terms.items()))


def peak_of(candidates: Sequence[Value], least: int = 1) -> Value:
    """The largest of ``candidates``: a number, or for polynomials in the sizes the Max of
    those no other one bounds wherever every size is at least ``least`` (each size written
    ``least + x`` with x >= 0, one bounds another when no coefficient is smaller).

    >>> from convalgebra.symbols import H, W
    >>> peak_of([3, 7, 5]), peak_of([H*W, 2*H*W + 1, 40*H])
    (7, Max(40*H, 2*H*W + 1))
    >>> peak_of([H*W, 2*H*W + 1, 40*H], least=32)
    2*H*W + 1
    """
    if not candidates:
        return 0
    candidates = [part for c in candidates for part in _maxima(c)]
    if all(is_concrete(c) for c in candidates):
        return normal(max(Fraction(c) if isinstance(c, Fraction) else c for c in candidates))
    import sympy

    gens = sorted(set().union(*(getattr(c, "free_symbols", set()) for c in candidates)), key=str)
    polys = []
    shift = {g: g + least for g in gens}
    unique = list(dict.fromkeys(sympy.expand(c) for c in candidates))
    try:
        for c in unique:
            polys.append((c, sympy.Poly(sympy.expand(c.xreplace(shift)), *gens).as_dict()))
    except sympy.PolynomialError:  # a size that is no polynomial (N/t): every candidate kept
        return sympy.Max(*unique)

    def bounds(a: dict[Any, Any], b: dict[Any, Any]) -> bool:
        return all(a.get(m, 0) >= v for m, v in b.items()) and all(v >= 0 for m, v in a.items() if m not in b)

    front = [c for i, (c, pc) in enumerate(polys)
             if not any(j != i and bounds(pj, pc) and (pj != pc or j < i) for j, (_, pj) in enumerate(polys))]
    return front[0] if len(front) == 1 else sympy.Max(*front)


def _maxima(value: Value) -> list[Value]:
    """The candidates a value stands for: the arguments of a Max, and of a sum with a Max in it
    (the elements alive beside attention's working memory, itself the largest of its phases)."""
    import sys

    if "sympy" not in sys.modules or is_concrete(value):
        return [value]
    import sympy

    if isinstance(value, sympy.Max):
        return [part for arg in value.args for part in _maxima(arg)]
    if isinstance(value, sympy.Add):
        inner = next((a for a in value.args if isinstance(a, sympy.Max)), None)
        if inner is not None:
            rest = value - inner
            return [part for arg in inner.args for part in _maxima(normal(rest + arg))]
    return [value]


def peak_memory(block: Block, size: Size, in_channels: Optional[Value] = None) -> Value:
    """Peak activation memory of ``block``'s forward pass on ``size``, in elements: the
    largest set of tensors alive at once (weights not included).

    >>> from convalgebra.layers import Conv, Identity
    >>> from convalgebra.symbols import H, W
    >>> peak_memory(Parallel(Identity(8), Conv(8, 4, (1, 1))), (H, W))   # input, branch, joined
    24*H*W
    """
    return peak_of(alive_sets(trace(block, size, in_channels, unroll=True)))


# -- a network: per layer, in total, and its peak ----------------------------------------

@dataclass(frozen=True)
class MemoryRow:
    """One step of a network: its name, kind, MACs and the elements it moves."""

    name: str
    stage: str
    op: str
    macs: Value
    traffic: Traffic
    output_size: Size
    out_channels: Value


@dataclass(frozen=True)
class NetworkMemory(Result):
    """A network's memory traffic at one input size (a number, I, or (H, W)): per step and
    in total, in elements and in bytes at ``dtype``, and the peak activation memory."""

    __view__ = "network_memory"

    network: "Network"
    size: Size
    dtype: str
    rows: tuple[MemoryRow, ...]
    macs: Value
    elements: Value
    peak: Value

    @property
    def bytes(self) -> Value:
        return normal(self.elements * dtype_bytes(self.dtype))

    @property
    def peak_bytes(self) -> Value:
        return normal(self.peak * dtype_bytes(self.dtype))

    @property
    def intensity(self) -> Value:
        """The whole network's FLOPs per byte."""
        return intensity(self.macs, self.bytes)

def network_memory(net: "str | Network", size: Optional[Size] = None, dtype: str = "fp32") -> NetworkMemory:
    """Every step of a network with what it moves, the total, and the peak activation memory
    (side stages, which do not run at inference, left out).

    >>> m = network_memory("resnet18", 224)
    >>> m.macs == network("resnet18").total(224)[0]
    True
    >>> from convalgebra.symbols import H, W
    >>> network_memory("resnet18", (H, W)).peak          # at the stem: conv1's map and bn1's
    32*H*W
    """
    from .catalog import network

    net = network(net)
    given = size = net.default_size if size is None else checked_size(size)
    dtype_bytes(dtype)
    rows: list[MemoryRow] = []
    alive: list[Value] = []
    channels: Value = net.in_channels
    for stage in net.stages:
        if stage.side:
            continue
        try:
            flat = trace(stage.block, size, channels)
            lives = trace(stage.block, size, channels, unroll=True)
        except InvalidValueError as error:
            raise InvalidValueError(f"{net.name} at {size}, stage {stage.name}: {error}") from None
        counts: dict[str, int] = {}
        for i, s in enumerate(flat.steps, 1):
            if s.layer is not None:
                name = s.layer.name or str(i)
            else:
                counts[s.op] = counts.get(s.op, 0) + 1
                name = f"{s.op}{counts[s.op]}"
            rows.append(MemoryRow(f"{stage.name}.{name}", stage.name, s.op, s.macs, s.traffic, s.output_size,
                                  s.out_channels))
        alive += alive_sets(lives)
        size, channels = flat.output_size, flat.out_channels
    macs = _total(r.macs for r in rows)
    elements = _total(r.traffic.elements for r in rows)
    # the closed forms are exact when each side is a multiple of the stride: at least the stride
    return NetworkMemory(net, given, dtype, tuple(rows), macs, elements, peak_of(alive, net.stride))


# -- a module: traffic before and after the rewrite ----------------------------------------

@dataclass(frozen=True)
class ModuleMemory:
    """A module's memory traffic beside the standard convolution's, in elements: closed
    forms in the article's symbols, their ratio (and at M = N), and at ``values`` the exact
    numbers with bytes at ``dtype`` and each side's arithmetic intensity."""

    dtype: str
    baseline: Value
    rewritten: Value
    ratio: Value
    ratio_equal_channels: Value
    values: Optional[dict[Any, Any]] = None
    at: Optional[tuple[Traffic, Traffic]] = None
    macs_at: Optional[tuple[Value, Value]] = None
    #: for a module with attention: the peak activation memory of each side on I x I (its n x n scores and the
    #: softmax's output alive together), and at ``values``
    peak: Optional[tuple[Value, Value]] = None
    peak_at: Optional[tuple[Value, Value]] = None

    @property
    def ratio_at(self) -> Optional[Fraction]:
        """The traffic ratio, module / standard, at ``values``."""
        if self.at is None:
            return None
        return Fraction(self.at[1].elements, self.at[0].elements)

def module_memory(block: Block, baseline: Block, dtype: str = "fp32", values: Optional[dict[Any, Any]] = None,
                  concrete: Optional[tuple[Block, Block]] = None) -> ModuleMemory:
    """The traffic of a module's ``block`` beside the standard convolution's ``baseline``, on
    I x I; ``concrete`` is the pair (baseline, block) with ``values`` put in (I among them).

    >>> from convalgebra.modules import standard
    >>> from convalgebra.catalog import module
    >>> m = module_memory(module("depthwise-separable").block(), standard())
    >>> m.rewritten, m.ratio_equal_channels
    (3*I**2*M + I**2*N + K**2*M + M*N, (4*I**2 + K**2 + N)/(2*I**2 + K**2*N))
    """
    from .simplification import canonical, equal_channels
    from .symbols import I

    dtype_bytes(dtype)
    before, after = canonical(traffic(baseline, I).elements), canonical(traffic(block, I).elements)
    ratio = canonical(after / before)
    at = macs_at = None
    if concrete is not None and values is not None:
        size = values[I]
        at = traffic(concrete[0], size), traffic(concrete[1], size)
        macs_at = (_total(s.macs for s in trace(concrete[0], size).steps),
                   _total(s.macs for s in trace(concrete[1], size).steps))
    peak = peak_at = None
    if any(isinstance(layer, Attention) for layer in iter_layers(block)):
        peak = peak_memory(baseline, I), peak_memory(block, I)
        if concrete is not None and values is not None:
            peak_at = peak_memory(concrete[0], values[I]), peak_memory(concrete[1], values[I])
    return ModuleMemory(dtype, before, after, ratio, equal_channels(ratio), values, at, macs_at, peak, peak_at)
