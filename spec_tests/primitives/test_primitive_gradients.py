"""Every registered primitive, checked against an independent computation.

docs/design.md, invariants 2 and 3: the backend is a registry of primitives (a NumPy
forward and a gradient rule side by side), and every gradient rule is checked
against central finite differences in float64, on shapes, attributes and values
drawn by hypothesis.

For each differentiable primitive (`CASES_WITH_GRADIENT`) one property test:

1. runs the forward and compares it with an independent expression (Python's
   `math` module element by element, explicit index arithmetic, loops);
2. draws an upstream cotangent `g` and computes the vector-Jacobian product
   `d/dx sum(g * f(x))` by central differences, one input element at a time;
3. compares it with the gradient rule called directly, and with the gradient
   the tape gives (`K.GradientTape` + `tape.apply`, the loss `sum(g * f(x))`
   itself built from primitives);
4. repeats the forward, the rule and the tape in float32 and checks that
   float32 stays float32 (outputs and gradients).

Non-differentiable primitives (`CASES_WITHOUT_GRADIENT`, `RANDOM_CASES`) are
checked for "not recorded by the tape, zero gradient" and for their forward
(random draws: shape, dtype, range, statistics, seeds).

`test_every_primitive_has_a_case` fails, naming the primitive, as soon as
someone registers a primitive without adding its case here.

Tolerances (float64 finite differences): step `H = 1e-6`, and a check passes
when `|numeric - rule| <= 1e-6 + 1e-6 * |numeric|`. Justification: the
difference `L(x + H e) - L(x - H e)` of `L = sum(g * f(x))` is summed with
`math.fsum` over the terms of both sides at once, so the terms a perturbation
does not change cancel exactly and only the few terms that depend on the
perturbed element carry rounding error, about `2.2e-16 * |g * f|` each; divided
by `2 * H` that is below `1e-9` for the magnitudes drawn here (|g| <= 1,
|f| <= ~50, at most ~30 terms touched). The truncation error of central
differences is `H**2 / 6 * |L'''|`, below 1e-11 for these smooth functions.
Both are far below 1e-6, so a wrong rule (an error of order 1) cannot hide.
Kinks are kept at least 0.005 (5000 steps) away from every drawn value, so
that the function is smooth on `[x - H, x + H]`.
"""
import builtins
import collections
import itertools
import math
import operator
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refkeras.backend as K  # registers every primitive
import strategies
from ctc_oracle import ctc_loss_by_enumeration
from refkeras.backend import prims_nn
from refkeras.backend.registry import REGISTRY
from refkeras.backend.tape import GradientTape, apply
from refkeras.backend.tensors import Traced, Variable

H = 1e-6                 # central-difference step (float64)
FD_RTOL = 1e-6           # see the module docstring
FD_ATOL = 1e-6
FORWARD_RTOL = 1e-10     # float64 forward vs. an independent float64 expression:
FORWARD_ATOL = 1e-12     # both a few ulps from the exact value, 1e-10 leaves a wide margin
F32_RTOL = 1e-4          # float32 forward vs. float64 forward on the same (rounded) inputs:
F32_ATOL = 1e-4          # a handful of float32 roundings (6e-8 each) on values of order <= 50

Example = collections.namedtuple('Example', 'inputs tracked attrs')


class Case(object):
    """How to test one primitive.

    # Arguments
        strategy: hypothesis strategy drawing an `Example` (positional inputs,
            which of them are differentiable, attribute dict).
        oracle: `oracle(*inputs, **attrs)`, an independent computation of the
            forward output.
        float32_attrs: optional function giving the attributes for the
            float32 run (e.g. `cast` targets float32 there).
    """

    def __init__(self, strategy, oracle, float32_attrs=None):
        self.strategy = strategy
        self.oracle = oracle
        self.float32_attrs = float32_attrs


# --- strategies ------------------------------------------------------------------

def grid(lo, hi, step=0.01, offset=0.0):
    """Floats `offset + k * step` within `[lo, hi]`.

    Values drawn on the grid with offset 0.005 stay at least 0.005 away from
    every kink placed on the grid with offset 0 (and vice versa).
    """
    k_lo = int(math.ceil((lo - offset) / step))
    k_hi = int(math.floor((hi - offset) / step))
    return st.integers(k_lo, k_hi).map(lambda k: round(offset + k * step, 10))


OFF_GRID = 0.005   # offset of drawn values when kinks sit on the 0.01 grid


def arrays(shape, elements, unique=False):
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


smooth = strategies.finite_floats  # (lo=-3.0, hi=3.0) in float64
shapes = strategies.shapes


@st.composite
def unary(draw, elements=None, attrs=None, min_dims=0):
    elements = elements if elements is not None else smooth()
    x = draw(arrays(draw(shapes(min_dims=min_dims)), elements))
    return Example([x], [True], dict(attrs or {}))


@st.composite
def binary(draw, elements_a=None, elements_b=None):
    pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                  max_side=3))
    a = draw(arrays(pair.input_shapes[0], elements_a if elements_a is not None else smooth()))
    b = draw(arrays(pair.input_shapes[1], elements_b if elements_b is not None else smooth()))
    return Example([a, b], [True, True], {})


@st.composite
def reduction(draw, elements=None, unique=False):
    shape = draw(shapes())
    x = draw(arrays(shape, elements if elements is not None else smooth(), unique=unique))
    return Example([x], [True], {'axis': draw(strategies.axis_argument(len(shape))),
                                 'keepdims': draw(st.booleans())})


# --- independent oracles ------------------------------------------------------------

def elementwise(fn):
    """An oracle applying a Python scalar function to (broadcast) elements."""
    def oracle(*inputs, **attrs):
        arrays_ = np.broadcast_arrays(*[np.asarray(x, dtype=np.float64) for x in inputs])
        out = np.empty(arrays_[0].shape)
        for index in np.ndindex(out.shape):
            out[index] = fn(*[float(a[index]) for a in arrays_], **attrs)
        return out
    return oracle


def lanes(x, axis):
    """`x` with the reduced axes moved last and merged: shape `kept + (n,)`."""
    x = np.asarray(x)
    if axis is None:
        axes = list(range(x.ndim))
    elif isinstance(axis, tuple):
        axes = sorted(a % x.ndim for a in axis)
    else:
        axes = [axis % x.ndim]
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + axes)
    return moved.reshape(moved.shape[:len(kept)] + (-1,)), axes


def reduced(fn):
    """An oracle reducing every lane with the Python function `fn(list) -> float`."""
    def oracle(x, axis=None, keepdims=False):
        lane_array, axes = lanes(x, axis)
        out = np.empty(lane_array.shape[:-1])
        for index in np.ndindex(out.shape):
            out[index] = fn([float(v) for v in lane_array[index]])
        if keepdims:
            out = out.reshape([1 if a in axes else n for a, n in enumerate(np.shape(x))])
        return out
    return oracle


def lse(values):
    top = builtins.max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def along_axis(fn, x, axis):
    """Applies `fn(list) -> list` to every 1-D lane of `x` along `axis`."""
    x = np.asarray(x, dtype=np.float64)
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape)
    for index in np.ndindex(moved.shape[:-1]):
        out[index] = fn([float(v) for v in moved[index]])
    return np.moveaxis(out, -1, axis)


def softmax_lane(values):
    top = builtins.max(values)
    e = [math.exp(v - top) for v in values]
    total = math.fsum(e)
    return [v / total for v in e]


def relu_scalar(v, alpha=0.0, max_value=None, threshold=0.0):
    # Keras 2.2.4: below the threshold the leaky part; above it x, clipped to
    # [0, max_value] when a max_value is given (0 between a negative threshold and 0).
    if v <= threshold:
        return alpha * (v - threshold)
    if max_value is None:
        return v
    return builtins.min(builtins.max(v, 0.0), max_value)


def index_oracle(x, key=None):
    """`x[key]` computed by indexing an array of flat positions instead of `x`."""
    x = np.asarray(x)
    positions = np.arange(x.size).reshape(x.shape)[key]
    return x.ravel()[positions]


def gather_oracle(x, indices, axis=0):
    axis = axis % np.ndim(x)
    moved = np.moveaxis(np.asarray(x), axis, 0)
    flat = [moved[int(i) % moved.shape[0]] for i in np.ravel(indices)]
    picked = np.array(flat).reshape(np.shape(indices) + moved.shape[1:])
    depth = np.ndim(indices)
    return np.moveaxis(picked, tuple(range(depth)), tuple(range(axis, axis + depth)))


def transpose_oracle(x, axes=None):
    x = np.asarray(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else axes
    out = np.empty([x.shape[a] for a in axes])
    for index in np.ndindex(out.shape):
        source = [0] * x.ndim
        for out_axis, in_axis in enumerate(axes):
            source[in_axis] = index[out_axis]
        out[index] = x[tuple(source)]
    return out


def concatenate_oracle(*xs, axis=-1):
    axis = axis % np.ndim(xs[0])
    shape = list(np.shape(xs[0]))
    shape[axis] = builtins.sum(np.shape(x)[axis] for x in xs)
    out = np.empty(shape)
    start = 0
    for x in xs:
        key = [slice(None)] * len(shape)
        key[axis] = slice(start, start + np.shape(x)[axis])
        out[tuple(key)] = x
        start += np.shape(x)[axis]
    return out


def tile_oracle(x, reps=None):
    x = np.asarray(x)
    rank = builtins.max(len(reps), x.ndim)
    reps = (1,) * (rank - len(reps)) + tuple(reps)
    x = x.reshape((1,) * (rank - x.ndim) + x.shape)
    rows = [np.arange(r * n) % n for r, n in zip(reps, x.shape)]
    return x[np.ix_(*rows)] if rows else x


def repeat_oracle(x, repeats=1, axis=0):
    x = np.asarray(x)
    n = x.shape[axis]
    return np.take(x, np.arange(n * repeats) // repeats, axis=axis)


def pad_oracle(x, pad_width=None, constant=0.0):
    x = np.asarray(x)
    out = np.full([b + n + a for (b, a), n in zip(pad_width, x.shape)], constant)
    out[tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))] = x
    return out


def matmul_oracle(a, b):
    return np.einsum('...ij,...jk->...ik', a, b)


def reshape_oracle(x, shape=None):
    size = np.size(x)
    known = int(np.prod([s for s in shape if s != -1]))
    resolved = [size // known if s == -1 else s for s in shape]
    return np.array(list(np.ravel(x))).reshape(resolved)


def cumsum_oracle(x, axis=0):
    return along_axis(lambda v: list(itertools.accumulate(v)), x, axis)


def cumprod_oracle(x, axis=0):
    if axis is None:
        return np.array(list(itertools.accumulate(np.ravel(x).tolist(), operator.mul)))
    return along_axis(lambda v: list(itertools.accumulate(v, operator.mul)), x, axis)


def cast_oracle(x, dtype=None):
    return elementwise(lambda v: float(np.dtype(dtype).type(v)))(x)


def where_oracle(condition, a, b):
    c, a, b = np.broadcast_arrays(condition, a, b)
    out = np.empty(c.shape)
    for index in np.ndindex(c.shape):
        out[index] = a[index] if c[index] else b[index]
    return out


# --- strategies for the primitives with attributes ------------------------------------

@st.composite
def matmul_example(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                   max_side=3))
    a = draw(arrays(batch.input_shapes[0] + (n, k), smooth(-2, 2)))
    b = draw(arrays(batch.input_shapes[1] + (k, m), smooth(-2, 2)))
    return Example([a, b], [True, True], {})


@st.composite
def reshape_example(draw):
    shape = draw(shapes(min_dims=0, max_dims=3, max_side=4))
    x = draw(arrays(shape, smooth()))
    factors = draw(st.permutations([d for d in shape for _ in [0]]))
    # Regroup the (shuffled) sizes into a new shape: cut the list at random points.
    target, current = [], 1
    for f in factors:
        current *= f
        if draw(st.booleans()):
            target.append(current)
            current = 1
    target.append(current)
    if draw(st.booleans()):
        target.insert(draw(st.integers(0, len(target))), 1)   # an extra size-1 axis
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Example([x], [True], {'shape': tuple(target)})


@st.composite
def transpose_example(draw):
    shape = draw(shapes())
    axes = draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    return Example([draw(arrays(shape, smooth()))], [True], {'axes': axes})


@st.composite
def concatenate_example(draw):
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        shape[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(shape), smooth())))
    return Example(xs, [True] * len(xs), {'axis': axis})


@st.composite
def tile_example(draw):
    shape = draw(shapes())
    # Usually one rep per axis; fewer or more also work (np.tile pads with leading 1s).
    length = builtins.max(0, len(shape) + draw(st.sampled_from([0, 0, 0, -1, 1])))
    reps = tuple(draw(st.integers(1, 3)) for _ in range(length))
    return Example([draw(arrays(shape, smooth()))], [True], {'reps': reps})


@st.composite
def repeat_example(draw):
    shape = draw(shapes(min_dims=1))
    return Example([draw(arrays(shape, smooth()))], [True],
                   {'repeats': draw(st.integers(1, 3)),
                    'axis': draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def basic_key(draw, shape):
    """Integers and slices (any bounds and steps), then maybe `...` and `None`."""
    key = []
    for n in shape:
        if draw(st.booleans()):
            key.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
            key.append(slice(draw(bound), draw(bound),
                             draw(st.sampled_from([None, 1, 2, -1, -2]))))
    # Leave out trailing items (implicit full slices), or stand for a run of
    # items with an Ellipsis.
    start = draw(st.integers(0, len(key)))
    stop = draw(st.integers(start, len(key)))
    if draw(st.booleans()):
        key[start:stop] = [Ellipsis]
    else:
        del key[start:]
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return tuple(key)


@st.composite
def advanced_key(draw, shape):
    kind = draw(st.sampled_from(['array', 'two arrays', 'mask']))
    if kind == 'mask':
        return draw(hnp.arrays(bool, shape))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = draw(shapes(min_dims=1, max_dims=2))

    def indices(n):
        return draw(hnp.arrays(np.intp, index_shape, elements=st.integers(-n, n - 1)))
    key = [slice(None)] * axis + [indices(shape[axis])]
    if kind == 'two arrays' and axis + 1 < len(shape):
        key.append(indices(shape[axis + 1]))   # duplicates allowed: gradients add up
    return tuple(key)


@st.composite
def getitem_example(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    key = draw(st.one_of(basic_key(shape), advanced_key(shape)))
    return Example([draw(arrays(shape, smooth()))], [True], {'key': key})


@st.composite
def gather_example(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    indices = draw(hnp.arrays(np.int64, draw(shapes(min_dims=0, max_dims=2)),
                              elements=st.integers(-n, n - 1)))
    return Example([draw(arrays(shape, smooth())), indices], [True, False], {'axis': axis})


@st.composite
def pad_example(draw):
    shape = draw(shapes(min_dims=1))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return Example([draw(arrays(shape, smooth()))], [True],
                   {'pad_width': widths, 'constant': draw(smooth(-2, 2))})


@st.composite
def cumprod_example(draw):
    # Exact zeros drawn on purpose (the rule must not divide by x); axis=None
    # scans the flattened array.
    shape = draw(shapes(min_dims=1))
    values = st.one_of(st.sampled_from([0.0, 1.0, -1.0]), smooth(-1.5, 1.5))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return Example([draw(arrays(shape, values))], [True], {'axis': axis})


@st.composite
def ctc_example(draw):
    # Every sample's label fits in its time steps (L labels plus one blank
    # between each repeated pair), so every loss is finite; the positions past
    # a label's length hold -1, which the primitive must ignore.
    batch, classes = draw(st.integers(1, 2)), draw(st.integers(2, 3))
    max_labels = draw(st.integers(0, 2))
    labels = np.full((batch, max_labels), -1, dtype=np.int64)
    label_length = np.zeros(batch, dtype=np.int64)
    needed = []
    for b in range(batch):
        label = draw(st.lists(st.integers(0, classes - 2), max_size=max_labels))
        labels[b, :len(label)] = label
        label_length[b] = len(label)
        needed.append(len(label) + sum(1 for u, v in zip(label, label[1:]) if u == v))
    steps = draw(st.integers(builtins.max(needed + [1]), 4))
    input_length = np.array([draw(st.integers(n, steps)) for n in needed], dtype=np.int64)
    log_probs = draw(arrays((batch, steps, classes), smooth(-3, 1)))
    return Example([log_probs, labels, input_length, label_length], [True, False, False, False],
                   {})


def ctc_oracle(log_probs, labels, input_length, label_length):
    return np.array(ctc_loss_by_enumeration(log_probs, labels, input_length, label_length))


@st.composite
def cumsum_example(draw):
    shape = draw(shapes(min_dims=1))
    return Example([draw(arrays(shape, smooth()))], [True],
                   {'axis': draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def softmax_example(draw):
    shape = draw(shapes(min_dims=1))
    return Example([draw(arrays(shape, smooth(-5, 5)))], [True],
                   {'axis': draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def clip_example(draw):
    low = draw(st.one_of(st.none(), grid(-2, 2)))
    high = draw(st.one_of(st.none(), grid(-2 if low is None else low, 2.5)))
    x = draw(arrays(draw(shapes()), grid(-3, 3, offset=OFF_GRID)))
    return Example([x], [True], {'min_value': low, 'max_value': high})


@st.composite
def where_example(draw):
    triple = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                    max_side=3))
    condition = draw(hnp.arrays(bool, triple.input_shapes[0]))
    a = draw(arrays(triple.input_shapes[1], smooth()))
    b = draw(arrays(triple.input_shapes[2], smooth()))
    return Example([condition, a, b], [False, True, True], {})


@st.composite
def relu_example(draw):
    alpha = draw(st.one_of(st.just(0.0), st.floats(0.0, 0.5)))
    threshold = draw(st.one_of(st.just(0.0), grid(-1, 1)))
    # max_value above both the threshold and 0, so the alpha branch never reaches it.
    max_value = draw(st.one_of(st.none(), grid(builtins.max(threshold, 0.0) + 0.01, 3)))
    x = draw(arrays(draw(shapes()), grid(-3, 3, offset=OFF_GRID)))
    return Example([x], [True], {'alpha': alpha, 'max_value': max_value,
                                 'threshold': threshold})


def off_zero(lo=-3, hi=3):
    return grid(lo, hi, offset=OFF_GRID)


def binary_off_grid():
    # a on the 0.01 grid, b half a grid step off: a != b by at least 0.005 everywhere.
    return binary(grid(-3, 3), grid(-3, 3, offset=OFF_GRID))


# --- convolution and pooling (prims_conv.py): direct nested-loop definitions -------------

@st.composite
def window_geometry(draw, pool=False):
    """Spatial rank, kernel, strides, dilation, padding and an input size that fits."""
    rank = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3 if pool else 2)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = (1,) * rank if pool else tuple(draw(st.integers(1, 2)) for _ in range(rank))
    # Pooling padding stays below the window size (as 'same' does), so that no
    # window is made of padding alone.
    padding = tuple((draw(st.integers(0, k - 1 if pool else 1)),
                     draw(st.integers(0, k - 1 if pool else 1))) for k in kernel)
    sizes = tuple(builtins.max(1, d * (k - 1) + 1 - a - b) + draw(st.integers(0, 2))
                  for k, d, (a, b) in zip(kernel, dilation, padding))
    attrs = {'strides': strides if draw(st.booleans()) or builtins.max(strides) > 1 else None,
             'padding': padding if draw(st.booleans()) or builtins.max(sum(padding, ())) else None}
    if not pool:
        attrs['dilation'] = dilation if draw(st.booleans()) or builtins.max(dilation) > 1 else None
    return kernel, strides, dilation, padding, sizes, attrs


def out_sizes(sizes, kernel, strides, dilation, padding):
    return tuple((n + a + b - (d * (k - 1) + 1)) // s + 1
                 for n, k, s, d, (a, b) in zip(sizes, kernel, strides, dilation, padding))


@st.composite
def conv_example(draw):
    kernel, strides, dilation, padding, sizes, attrs = draw(window_geometry())
    groups = draw(st.integers(1, 2))
    per_group_in, per_group_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    x = draw(arrays((batch,) + sizes + (per_group_in * groups,), smooth(-2, 2)))
    w = draw(arrays(kernel + (per_group_in, per_group_out * groups), smooth(-2, 2)))
    attrs['groups'] = groups
    return Example([x, w], [True, True], attrs)


@st.composite
def conv_transpose_example(draw):
    kernel, strides, dilation, padding, sizes, attrs = draw(window_geometry())
    groups = draw(st.integers(1, 2))
    per_group_y, per_group_x = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    x_sizes = out_sizes(sizes, kernel, strides, dilation, padding)
    x = draw(arrays((batch,) + x_sizes + (per_group_x * groups,), smooth(-2, 2)))
    w = draw(arrays(kernel + (per_group_y, per_group_x * groups), smooth(-2, 2)))
    attrs.update(groups=groups, output_size=sizes)
    return Example([x, w], [True, True], attrs)


@st.composite
def pool_example(draw, unique):
    kernel, strides, dilation, padding, sizes, attrs = draw(window_geometry(pool=True))
    shape = (draw(st.integers(1, 2)),) + sizes + (draw(st.integers(1, 2)),)
    # max_pool: distinct values 0.01 apart, so no window has a tie.
    elements = grid(-3, 3) if unique else smooth()
    x = draw(arrays(shape, elements, unique=unique))
    attrs['pool_size'] = kernel
    return Example([x], [True], attrs)


def _geometry(x, kernel_size, strides, dilation, padding):
    rank = np.ndim(x) - 2
    strides = strides or (1,) * rank
    dilation = dilation or (1,) * rank
    padding = padding or ((0, 0),) * rank
    sizes = np.shape(x)[1:-1]
    return strides, dilation, padding, out_sizes(sizes, kernel_size, strides, dilation, padding)


def _position(o, k, strides, dilation, padding):
    """Index into the unpadded input of output o, tap k (may fall in the padding)."""
    return tuple(oi * s + ki * d - a for oi, ki, s, d, (a, _) in zip(o, k, strides, dilation,
                                                                     padding))


def _inside(pos, sizes):
    return all(0 <= p < n for p, n in zip(pos, sizes))


def conv_oracle(x, kernel, strides=None, dilation=None, padding=None, groups=1):
    kernel_size = kernel.shape[:-2]
    per_group_in, filters = kernel.shape[-2:]
    per_group_out = filters // groups
    strides, dilation, padding, outs = _geometry(x, kernel_size, strides, dilation, padding)
    out = np.zeros((x.shape[0],) + outs + (filters,))
    for b in range(x.shape[0]):
        for o in np.ndindex(*outs):
            for f in range(filters):
                group = f // per_group_out
                terms = []
                for k in np.ndindex(*kernel_size):
                    pos = _position(o, k, strides, dilation, padding)
                    if _inside(pos, x.shape[1:-1]):
                        for c in range(per_group_in):
                            terms.append(float(x[(b,) + pos + (group * per_group_in + c,)])
                                         * float(kernel[k + (c, f)]))
                out[(b,) + o + (f,)] = math.fsum(terms)
    return out


def conv_transpose_oracle(x, kernel, output_size=None, strides=None, dilation=None,
                          padding=None, groups=1):
    """Each input element spreads `x * kernel` over the window it would come from."""
    kernel_size = kernel.shape[:-2]
    per_group_y, x_channels = kernel.shape[-2:]
    per_group_x = x_channels // groups
    y = np.zeros((x.shape[0],) + tuple(output_size) + (per_group_y * groups,))
    rank = len(output_size)
    strides = strides or (1,) * rank
    dilation = dilation or (1,) * rank
    padding = padding or ((0, 0),) * rank
    for b in range(x.shape[0]):
        for o in np.ndindex(*x.shape[1:-1]):
            for f in range(x_channels):
                group = f // per_group_x
                for k in np.ndindex(*kernel_size):
                    pos = _position(o, k, strides, dilation, padding)
                    if _inside(pos, output_size):
                        for c in range(per_group_y):
                            y[(b,) + pos + (group * per_group_y + c,)] += (
                                x[(b,) + o + (f,)] * kernel[k + (c, f)])
    return y


def pool_oracle(reduce_lane):
    def oracle(x, pool_size=None, strides=None, padding=None):
        strides, dilation, padding, outs = _geometry(x, pool_size, strides, None, padding)
        out = np.zeros((x.shape[0],) + outs + (x.shape[-1],))
        for b in range(x.shape[0]):
            for o in np.ndindex(*outs):
                for c in range(x.shape[-1]):
                    lane = []
                    for k in np.ndindex(*pool_size):
                        pos = _position(o, k, strides, dilation, padding)
                        if _inside(pos, x.shape[1:-1]):   # padding never counts
                            lane.append(float(x[(b,) + pos + (c,)]))
                    out[(b,) + o + (c,)] = reduce_lane(lane)
        return out
    return oracle


# --- the differentiable primitives ----------------------------------------------------

# --- lstm_gates (refkeras/backend/prims_rnn.py) ---
LSTM_GATE_FUNCTIONS = {
    'tanh': math.tanh, 'sigmoid': lambda v: 1.0 / (1.0 + math.exp(-v)),
    'hard_sigmoid': lambda v: builtins.min(1.0, builtins.max(0.0, 0.2 * v + 0.5)),
    'linear': lambda v: v, 'softsign': lambda v: v / (1.0 + abs(v)),
    'softplus': lambda v: math.log1p(math.exp(v))}


@st.composite
def lstm_gates_example(draw):
    # z on the off-grid 0.01 lattice within (-2.4, 2.4): away from hard_sigmoid's kinks (+-2.5).
    batch, units = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    z = draw(arrays((4, batch, units), grid(-2.4, 2.4, offset=OFF_GRID)))
    c_prev = draw(arrays((batch, units), smooth(-2, 2)))
    attrs = {'activation': draw(st.sampled_from(['tanh', 'sigmoid', 'linear', 'softsign',
                                                 'softplus'])),
             'recurrent_activation': draw(st.sampled_from(['hard_sigmoid', 'sigmoid', 'tanh',
                                                           'linear']))}
    return Example([z, c_prev], [True, True], attrs)


def lstm_gates_oracle(z, c_prev, activation='tanh', recurrent_activation='hard_sigmoid'):
    act, rec = LSTM_GATE_FUNCTIONS[activation], LSTM_GATE_FUNCTIONS[recurrent_activation]
    out = np.empty((2,) + np.shape(c_prev))
    for index in np.ndindex(np.shape(c_prev)):
        i, f, o = (rec(float(z[(k,) + index])) for k in (0, 1, 3))
        c = f * float(c_prev[index]) + i * act(float(z[(2,) + index]))
        out[(0,) + index], out[(1,) + index] = o * act(c), c
    return out


# --- lstm_sequence (refkeras/backend/prims_rnn.py) ---
@st.composite
def lstm_sequence_example(draw):
    # Smooth activations only: the pre-activations of later timesteps depend on
    # everything before them, so they cannot be kept away from a kink.
    time, batch = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    input_dim, units = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = draw(arrays((time, batch, input_dim), smooth(-1, 1)))
    h0, c0 = (draw(arrays((batch, units), smooth(-1, 1))) for _ in range(2))
    kernel = draw(arrays((4, input_dim, units), smooth(-1, 1)))
    recurrent_kernel = draw(arrays((4, units, units), smooth(-1, 1)))
    bias = draw(arrays((4, 1, units), smooth(-1, 1)))
    mask = st.sampled_from([0.0, 1.25])         # dropout masks of rate 0.2
    input_masks = draw(arrays((4, batch, input_dim), mask))
    recurrent_masks = draw(arrays((4, batch, units), mask))
    attrs = {'activation': draw(st.sampled_from(['tanh', 'sigmoid', 'linear', 'softplus'])),
             'recurrent_activation': draw(st.sampled_from(['sigmoid', 'tanh', 'linear']))}
    return Example([x, h0, c0, kernel, recurrent_kernel, bias, input_masks, recurrent_masks],
                   [True] * 6 + [False, False], attrs)


def lstm_sequence_oracle(x, h0, c0, kernel, recurrent_kernel, bias, input_masks,
                         recurrent_masks, activation='tanh', recurrent_activation='hard_sigmoid'):
    act, rec = LSTM_GATE_FUNCTIONS[activation], LSTM_GATE_FUNCTIONS[recurrent_activation]
    (time, batch, input_dim), units = np.shape(x), np.shape(h0)[1]
    out = np.empty((time, 2, batch, units))
    h, c = np.array(h0, dtype=np.float64), np.array(c0, dtype=np.float64)
    for t in range(time):
        for b, j in itertools.product(range(batch), range(units)):
            z = [math.fsum([float(x[t, b, m] * input_masks[k, b, m] * kernel[k, m, j])
                            for m in range(input_dim)] +
                           [float(h[b, m] * recurrent_masks[k, b, m] * recurrent_kernel[k, m, j])
                            for m in range(units)] + [float(bias[k, 0, j])]) for k in range(4)]
            out[t, 1, b, j] = rec(z[1]) * c[b, j] + rec(z[0]) * act(z[2])
            out[t, 0, b, j] = rec(z[3]) * act(out[t, 1, b, j])
        h, c = out[t, 0], out[t, 1]
    return out


# --- gru_gates (refkeras/backend/prims_gru.py) ---
@st.composite
def gru_gates_example(draw):
    # Pre-activations on the off-grid 0.01 lattice within (-1.2, 1.2): x_part + h_part and
    # x_part[2] + r * h_part[2] stay inside (-2.4, 2.4), away from hard_sigmoid's kinks.
    batch, units = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x_part = draw(arrays((3, batch, units), grid(-1.2, 1.2, offset=OFF_GRID)))
    h_part = draw(arrays((3, batch, units), grid(-1.2, 1.2, offset=OFF_GRID)))
    h_prev = draw(arrays((batch, units), smooth(-2, 2)))
    attrs = {'activation': draw(st.sampled_from(['tanh', 'sigmoid', 'linear', 'softsign',
                                                 'softplus'])),
             'recurrent_activation': draw(st.sampled_from(['sigmoid', 'hard_sigmoid', 'tanh',
                                                           'linear']))}
    return Example([x_part, h_part, h_prev], [True, True, True], attrs)


def gru_gates_oracle(x_part, h_part, h_prev, activation='tanh', recurrent_activation='sigmoid'):
    act, rec = LSTM_GATE_FUNCTIONS[activation], LSTM_GATE_FUNCTIONS[recurrent_activation]
    out = np.empty(np.shape(h_prev))
    for index in np.ndindex(np.shape(h_prev)):
        x = [float(x_part[(k,) + index]) for k in range(3)]
        h = [float(h_part[(k,) + index]) for k in range(3)]
        z, r = rec(x[0] + h[0]), rec(x[1] + h[1])
        out[index] = z * float(h_prev[index]) + (1.0 - z) * act(x[2] + r * h[2])
    return out


CASES_WITH_GRADIENT = {
    'lstm_gates': Case(lstm_gates_example(), lstm_gates_oracle),
    'gru_gates': Case(gru_gates_example(), gru_gates_oracle),
    'lstm_sequence': Case(lstm_sequence_example(), lstm_sequence_oracle),
    'add': Case(binary(), elementwise(lambda a, b: a + b)),
    'subtract': Case(binary(), elementwise(lambda a, b: a - b)),
    'multiply': Case(binary(), elementwise(lambda a, b: a * b)),
    'divide': Case(binary(elements_b=st.one_of(smooth(0.5, 3), smooth(-3, -0.5))),
                   elementwise(lambda a, b: a / b)),
    'power': Case(binary(smooth(0.5, 2.5), smooth(-2, 2)), elementwise(math.pow)),
    'maximum': Case(binary_off_grid(), elementwise(builtins.max)),
    'minimum': Case(binary_off_grid(), elementwise(builtins.min)),
    'negative': Case(unary(), elementwise(lambda v: -v)),
    'abs': Case(unary(off_zero()), elementwise(math.fabs)),
    'square': Case(unary(), elementwise(lambda v: v * v)),
    'sqrt': Case(unary(smooth(0.1, 4)), elementwise(math.sqrt)),
    'exp': Case(unary(), elementwise(math.exp)),
    'log': Case(unary(smooth(0.1, 4)), elementwise(math.log)),
    'sin': Case(unary(), elementwise(math.sin)),
    'cos': Case(unary(), elementwise(math.cos)),
    'clip': Case(clip_example(), elementwise(
        lambda v, min_value=None, max_value=None:
        builtins.min(builtins.max(v, -math.inf if min_value is None else min_value),
                     math.inf if max_value is None else max_value))),
    'where': Case(where_example(), where_oracle),
    # float64 -> float64 here (finite differences need float64 outputs); the
    # float32 run casts float32 -> float32; cross-type casts: test_cast_*.
    'cast': Case(unary(attrs={'dtype': 'float64'}), cast_oracle,
                 float32_attrs=lambda attrs: dict(attrs, dtype='float32')),
    'matmul': Case(matmul_example(), matmul_oracle),
    'reshape': Case(reshape_example(), reshape_oracle),
    'transpose': Case(transpose_example(), transpose_oracle),
    'concatenate': Case(concatenate_example(), concatenate_oracle),
    'tile': Case(tile_example(), tile_oracle),
    'repeat': Case(repeat_example(), repeat_oracle),
    'getitem': Case(getitem_example(), index_oracle),
    'gather': Case(gather_example(), gather_oracle),
    'pad': Case(pad_example(), pad_oracle),
    'sum': Case(reduction(), reduced(math.fsum)),
    'mean': Case(reduction(), reduced(lambda v: math.fsum(v) / len(v))),
    # Distinct values 0.01 apart: no ties (ties: test_extremum_ties_share_the_gradient).
    'max': Case(reduction(grid(-3, 3), unique=True), reduced(builtins.max)),
    'min': Case(reduction(grid(-3, 3), unique=True), reduced(builtins.min)),
    # The product is a polynomial: smooth everywhere, so exact zeros are drawn
    # on purpose (the rule must not divide by x).
    'prod': Case(reduction(st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.5]), smooth(-1.5, 1.5))),
                 reduced(math.prod)),
    'logsumexp': Case(reduction(smooth(-5, 5)), reduced(lse)),
    'cumsum': Case(cumsum_example(), cumsum_oracle),
    'cumprod': Case(cumprod_example(), cumprod_oracle),
    'ctc_loss': Case(ctc_example(), ctc_oracle),
    'relu': Case(relu_example(), elementwise(relu_scalar)),
    'elu': Case(unary(off_zero(), attrs=None).flatmap(
        lambda ex: st.floats(0.1, 2.0).map(lambda a: ex._replace(attrs={'alpha': a}))),
        elementwise(lambda v, alpha=1.0: v if v > 0 else alpha * math.expm1(v))),
    'sigmoid': Case(unary(smooth(-8, 8)), elementwise(lambda v: 1 / (1 + math.exp(-v)))),
    'hard_sigmoid': Case(unary(off_zero(-4, 4)), elementwise(
        lambda v: builtins.min(1.0, builtins.max(0.0, 0.2 * v + 0.5)))),
    'tanh': Case(unary(), elementwise(math.tanh)),
    'softplus': Case(unary(smooth(-8, 8)), elementwise(lambda v: math.log1p(math.exp(v)))),
    # |x| has a kink at 0, so softsign's second derivative jumps there.
    'softsign': Case(unary(off_zero()), elementwise(lambda v: v / (1 + math.fabs(v)))),
    'softmax': Case(softmax_example(),
                    lambda x, axis=-1: along_axis(softmax_lane, x, axis)),
    'conv': Case(conv_example(), conv_oracle),
    'conv_transpose': Case(conv_transpose_example(), conv_transpose_oracle),
    'max_pool': Case(pool_example(unique=True), pool_oracle(builtins.max)),
    'avg_pool': Case(pool_example(unique=False), pool_oracle(lambda v: math.fsum(v) / len(v))),
}


# --- the machinery of the gradient check -------------------------------------------------

def outputs(prim, inputs, attrs):
    return np.asarray(prim.forward(*inputs, **attrs), dtype=np.float64)


def loss_difference(g, out_plus, out_minus):
    """`sum(g * out_plus) - sum(g * out_minus)`, rounded once (`math.fsum`).

    Summing both sets of terms together lets the terms the perturbation does
    not change cancel exactly, whatever the size of the whole sum.
    """
    return math.fsum(np.concatenate([(g * out_plus).ravel(), -(g * out_minus).ravel()]))


def numeric_vjp(prim, inputs, attrs, g, which):
    """`d/d inputs[which] sum(g * f(inputs))` by central differences."""
    x = np.asarray(inputs[which], dtype=np.float64)
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += H
        minus[index] -= H
        args_plus = list(inputs)
        args_minus = list(inputs)
        args_plus[which], args_minus[which] = plus, minus
        step = plus[index] - minus[index]   # the step actually taken, exactly
        grad[index] = loss_difference(g, outputs(prim, args_plus, attrs),
                                      outputs(prim, args_minus, attrs)) / step
    return grad


def rule_gradients(prim, g, out, inputs, tracked, attrs):
    extra = {'needs': tuple(tracked)} if prim.wants_needs else {}
    grads = prim.grad(g, out, *inputs, **dict(attrs, **extra))
    assert len(grads) == len(inputs), (
        '%s: the rule returned %d gradients for %d inputs' % (prim.name, len(grads), len(inputs)))
    return grads


def tape_gradients(prim, inputs, tracked, attrs, g):
    """The gradients the tape computes for `sum(g * f(inputs))`, and the output."""
    wrapped = [Variable(x) if t else x for x, t in zip(inputs, tracked)]
    watched = [w for w, t in zip(wrapped, tracked) if t]
    with GradientTape(watched) as tape:
        out = apply(prim, *wrapped, **attrs)
        loss = apply(REGISTRY['sum'], apply(REGISTRY['multiply'], out, g))
    assert isinstance(out, Traced) and out.tape is tape, '%s was not recorded' % prim.name
    return tape.gradient(loss, watched), out.value


def assert_close_to_numeric(actual, numeric, what):
    assert actual is not None, '%s: no gradient' % what
    assert np.shape(actual) == numeric.shape, (
        '%s: gradient of shape %s for an input of shape %s'
        % (what, np.shape(actual), numeric.shape))
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), numeric,
                               rtol=FD_RTOL, atol=FD_ATOL, err_msg=what)


def to_float32(x):
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype == np.float64 else x


def differentiable_names():
    return sorted(name for name, prim in REGISTRY.items() if prim.differentiable)


def non_differentiable_names():
    return sorted(name for name, prim in REGISTRY.items() if not prim.differentiable)


def case_for(name, table):
    if name not in table:
        pytest.fail('Primitive %r has no case in spec_tests/primitives/test_primitive_gradients.py; '
                    'whoever registers a primitive adds its case.' % name)
    return table[name]


# --- the tests of differentiable primitives ------------------------------------------------

@pytest.mark.parametrize('name', differentiable_names())
@given(data=st.data())
def test_gradient_rule_matches_finite_differences(name, data):
    case = case_for(name, CASES_WITH_GRADIENT)
    prim = REGISTRY[name]
    example = data.draw(case.strategy, label='example')
    inputs, tracked, attrs = example

    # 1. forward against an independent computation
    out = prim.forward(*inputs, **attrs)
    expected = case.oracle(*inputs, **attrs)
    assert np.shape(out) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(out, dtype=np.float64), expected,
                               rtol=FORWARD_RTOL, atol=FORWARD_ATOL)
    assert np.asarray(out).dtype == np.float64

    # 2. a random upstream cotangent, and the numeric vector-Jacobian products
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label='cotangent seed')
    g = np.random.RandomState(seed).uniform(-1, 1, np.shape(out))
    numeric = {i: numeric_vjp(prim, inputs, attrs, g, i)
               for i, t in enumerate(tracked) if t}

    # 3. the rule, called directly and run by the tape
    direct = rule_gradients(prim, g, out, inputs, tracked, attrs)
    taped, taped_out = tape_gradients(prim, inputs, tracked, attrs, g)
    np.testing.assert_array_equal(taped_out, out)
    for position, i in enumerate(sorted(numeric)):
        assert_close_to_numeric(direct[i], numeric[i], '%s rule, input %d' % (name, i))
        assert_close_to_numeric(taped[position], numeric[i], '%s tape, input %d' % (name, i))

    # 4. float32 in, float32 out, float32 gradients
    inputs32 = [to_float32(x) for x in inputs]
    attrs32 = case.float32_attrs(attrs) if case.float32_attrs else attrs
    out32 = prim.forward(*inputs32, **attrs32)
    assert np.asarray(out32).dtype == np.float32, '%s: float32 in, %s out' % (
        name, np.asarray(out32).dtype)
    out64 = np.asarray(prim.forward(*[np.asarray(x, dtype=np.float64) if np.asarray(x).dtype ==
                                      np.float32 else x for x in inputs32], **attrs))
    np.testing.assert_allclose(out32, out64, rtol=F32_RTOL, atol=F32_ATOL)
    g32 = g.astype(np.float32)
    direct32 = rule_gradients(prim, g32, out32, inputs32, tracked, attrs32)
    taped32, _ = tape_gradients(prim, inputs32, tracked, attrs32, g32)
    for position, i in enumerate(sorted(numeric)):
        for grad, how in ((direct32[i], 'rule'), (taped32[position], 'tape')):
            assert np.asarray(grad).dtype == np.float32, (
                '%s %s: float32 input %d got a %s gradient' % (name, how, i,
                                                               np.asarray(grad).dtype))
            assert np.shape(grad) == np.shape(inputs32[i])


# --- specific behaviours of gradient rules --------------------------------------------------

def test_maximum_minimum_ties_send_the_gradient_to_the_first_input():
    # Documented in prims_math: at a == b, d/da gets g and d/db gets 0.
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    g = np.array([0.5, 0.25, 2.0])
    for name in ('maximum', 'minimum'):
        prim = REGISTRY[name]
        ga, gb = prim.grad(g, prim.forward(a, b), a, b)
        picks_a = np.array([True, name == 'maximum', True])
        np.testing.assert_array_equal(ga, np.where(picks_a, g, 0))
        np.testing.assert_array_equal(gb, np.where(picks_a, 0, g))


@given(n_ties=st.integers(2, 4), others=st.integers(0, 3), seed=st.integers(0, 2 ** 31))
def test_extremum_ties_share_the_gradient(n_ties, others, seed):
    # Documented: the elements that attain the max (min) share g equally.
    rng = np.random.RandomState(seed)
    x = np.concatenate([np.full(n_ties, 5.0), rng.uniform(-4, 4, others)])
    rng.shuffle(x)
    for name, sign in (('max', 1.0), ('min', -1.0)):
        prim = REGISTRY[name]
        xs = sign * x
        (grad,) = prim.grad(np.array(3.0), prim.forward(xs), xs)
        np.testing.assert_allclose(grad, np.where(x == 5.0, 3.0 / n_ties, 0.0), rtol=1e-15)


def test_abs_gradient_at_zero_is_zero():
    (grad,) = REGISTRY['abs'].grad(np.ones(3), np.zeros(3), np.array([0.0, -0.0, 0.0]))
    np.testing.assert_array_equal(grad, np.zeros(3))


def test_clip_gradient_passes_at_the_bounds():
    # Documented (TensorFlow's clip_by_value): passes where min <= x <= max.
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    (grad,) = REGISTRY['clip'].grad(np.ones(5), None, x, min_value=0.0, max_value=1.0)
    np.testing.assert_array_equal(grad, [0.0, 1.0, 1.0, 1.0, 0.0])


@given(data=st.data())
def test_power_with_a_negative_base_and_integer_exponent(data):
    # d/da a**n = n a**(n-1) holds for negative a too; the exponent is not differentiated.
    a = data.draw(arrays(data.draw(shapes()), off_zero()))
    n = np.float64(data.draw(st.integers(-3, 4)))
    prim = REGISTRY['power']
    g = np.ones(np.shape(a))
    ga, gb = prim.grad(g, prim.forward(a, n), a, n)
    assert_close_to_numeric(ga, numeric_vjp(prim, [a, n], {}, g, 0), 'power base')
    # The exponent's gradient sums a**n * log(a) over the positive bases only
    # (documented: it assumes a > 0 and is 0 elsewhere).
    expected = math.fsum(math.pow(v, n) * math.log(v) for v in np.ravel(a) if v > 0)
    np.testing.assert_allclose(gb, expected, rtol=1e-12, atol=1e-12)


def test_power_exponent_gradient_is_zero_where_the_base_is_not_positive():
    a = np.array([0.0, -2.0, 2.0])
    b = np.array([2.0, 3.0, 3.0])
    out = REGISTRY['power'].forward(a, b)
    ga, gb = REGISTRY['power'].grad(np.ones(3), out, a, b)
    np.testing.assert_allclose(ga, [0.0, 12.0, 12.0])
    np.testing.assert_allclose(gb, [0.0, 0.0, 8.0 * math.log(2.0)])


def test_matmul_rule_skips_the_inputs_nobody_needs():
    a, b = np.ones((2, 3)), np.ones((3, 4))
    g = np.ones((2, 4))
    prim = REGISTRY['matmul']
    ga, gb = prim.grad(g, a @ b, a, b, needs=(True, False))
    assert gb is None and ga.shape == a.shape
    ga, gb = prim.grad(g, a @ b, a, b, needs=(False, True))
    assert ga is None and gb.shape == b.shape


def test_tape_with_only_one_matmul_input_watched():
    rng = np.random.RandomState(0)
    a, b = rng.randn(4, 2, 3), rng.randn(3, 5)
    w = Variable(b)
    with GradientTape([w]) as tape:
        loss = apply(REGISTRY['sum'], apply(REGISTRY['matmul'], a, w))
    (grad,) = tape.gradient(loss, [w])
    # d/dw sum(a @ w) = (sum of a's rows)^T @ ones
    expected = np.repeat(a.reshape(-1, 3).sum(axis=0)[:, None], 5, axis=1)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)


@pytest.mark.parametrize('source, target', [('float64', 'float32'), ('float32', 'float64')])
def test_cast_between_float_types_passes_the_gradient_back_in_the_source_type(source, target):
    x = np.array([1.5, -2.25], dtype=source)
    out = REGISTRY['cast'].forward(x, dtype=target)
    assert out.dtype == np.dtype(target)
    g = np.array([0.5, 3.0], dtype=target)
    (grad,) = REGISTRY['cast'].grad(g, out, x, dtype=target)
    assert grad.dtype == np.dtype(source)
    np.testing.assert_array_equal(grad, [0.5, 3.0])


def test_cast_from_integers_gives_no_gradient():
    x = Variable(np.array([1, 2, 3]))
    with GradientTape([x]) as tape:
        loss = apply(REGISTRY['sum'], apply(REGISTRY['cast'], x, dtype='float64'))
    (grad,) = tape.gradient(loss, [x])
    np.testing.assert_array_equal(grad, [0, 0, 0])
    assert REGISTRY['cast'].grad(np.ones(3), None, np.array([1, 2, 3]), dtype='float64') == (None,)


def test_gradients_accumulate_over_several_uses_of_a_variable():
    # sum(x * x + sin(x)) uses x three times: d/dx = 2x + cos(x).
    x = np.array([0.3, -1.2, 2.0])
    v = Variable(x)
    with GradientTape([v]) as tape:
        y = apply(REGISTRY['add'], apply(REGISTRY['multiply'], v, v), apply(REGISTRY['sin'], v))
        loss = apply(REGISTRY['sum'], y)
    (grad,) = tape.gradient(loss, [v])
    np.testing.assert_allclose(grad, 2 * x + np.cos(x), rtol=1e-14)


def test_gather_rule_with_a_negative_axis():
    x = np.arange(12.0).reshape(3, 4)
    indices = np.array([[0, 3], [3, 1]])
    out = REGISTRY['gather'].forward(x, indices, axis=-1)
    g = np.random.RandomState(0).uniform(-1, 1, out.shape)
    grad, _ = REGISTRY['gather'].grad(g, out, x, indices, axis=-1)
    assert_close_to_numeric(grad, numeric_vjp(REGISTRY['gather'], [x, indices], {'axis': -1},
                                              g, 0), 'gather axis=-1')


@pytest.mark.parametrize('shape, reps', [((2, 3), (2,)), ((3,), (2, 2))])
def test_tile_rule_with_reps_of_another_length(shape, reps):
    x = np.arange(float(np.prod(shape))).reshape(shape)
    out = REGISTRY['tile'].forward(x, reps=reps)
    g = np.random.RandomState(1).uniform(-1, 1, out.shape)
    (grad,) = REGISTRY['tile'].grad(g, out, x, reps=reps)
    assert_close_to_numeric(grad, numeric_vjp(REGISTRY['tile'], [x], {'reps': reps}, g, 0),
                            'tile reps=%s' % (reps,))


# --- the primitives without a gradient -------------------------------------------------------

@st.composite
def comparison_example(draw):
    # Values on a coarse grid, so that ties (a == b) are common.
    pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                  max_side=3))
    values = grid(-1, 1, step=0.5)
    return Example([draw(arrays(s, values)) for s in pair.input_shapes], [True, True], {})


@st.composite
def logical_example(draw, arity):
    pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=arity, min_dims=0, max_dims=3,
                                                  max_side=3))
    inputs = []
    for s in pair.input_shapes:
        if draw(st.booleans()):
            inputs.append(draw(hnp.arrays(bool, s)))
        else:   # numbers count as true when nonzero
            inputs.append(draw(arrays(s, st.sampled_from([0.0, 1.0, -2.5]))))
    return Example(inputs, [True] * arity, {})


@st.composite
def arg_example(draw):
    shape = draw(shapes(min_dims=1))
    x = draw(arrays(shape, grid(-1, 1, step=0.5)))   # ties are common
    return Example([x], [True], {'axis': draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def all_any_example(draw):
    shape = draw(shapes())
    x = draw(st.one_of(hnp.arrays(bool, shape), arrays(shape, st.sampled_from([0.0, 1.0, -3.0]))))
    return Example([x], [True], {'axis': draw(strategies.axis_argument(len(shape))),
                                 'keepdims': draw(st.booleans())})


@st.composite
def one_hot_example(draw):
    classes = draw(st.integers(1, 5))
    # Out-of-range indices (-1, classes) give all-zero rows, as tf.one_hot.
    indices = draw(hnp.arrays(np.int64, draw(shapes(max_dims=2)),
                              elements=st.integers(-1, classes)))
    return Example([indices], [True], {'num_classes': classes,
                                       'dtype': draw(st.sampled_from(['float32', 'float64']))})


def arg_oracle(pick):
    def oracle(x, axis=-1):
        x = np.asarray(x)
        moved = np.moveaxis(x, axis, -1)
        out = np.empty(moved.shape[:-1], dtype=np.int64)
        for index in np.ndindex(out.shape):
            lane = [float(v) for v in moved[index]]
            best = pick(lane)
            out[index] = lane.index(best)   # the first index attaining it
        return out
    return oracle


def truth_oracle(fn):
    def oracle(x, axis=None, keepdims=False):
        return reduced(lambda lane: float(fn(v != 0 for v in lane)))(
            np.asarray(x, dtype=np.float64), axis, keepdims).astype(bool)
    return oracle


def one_hot_oracle(indices, num_classes=None, dtype='float32'):
    out = np.zeros(np.shape(indices) + (num_classes,), dtype=dtype)
    for index in np.ndindex(np.shape(indices)):
        k = int(np.asarray(indices)[index])
        if 0 <= k < num_classes:
            out[index + (k,)] = 1
    return out


def sign_scalar(v):
    return float((v > 0) - (v < 0))


def compare(fn):
    return elementwise(lambda a, b: float(fn(a, b)))


CASES_WITHOUT_GRADIENT = {
    'equal': Case(comparison_example(), compare(lambda a, b: a == b)),
    'not_equal': Case(comparison_example(), compare(lambda a, b: a != b)),
    'greater': Case(comparison_example(), compare(lambda a, b: a > b)),
    'greater_equal': Case(comparison_example(), compare(lambda a, b: a >= b)),
    'less': Case(comparison_example(), compare(lambda a, b: a < b)),
    'less_equal': Case(comparison_example(), compare(lambda a, b: a <= b)),
    'logical_and': Case(logical_example(2), compare(lambda a, b: bool(a) and bool(b))),
    'logical_or': Case(logical_example(2), compare(lambda a, b: bool(a) or bool(b))),
    'logical_not': Case(logical_example(1), elementwise(lambda v: float(not v))),
    'sign': Case(unary(grid(-2, 2, step=0.5)), elementwise(sign_scalar)),
    # Quarter steps include every .5 case; Python's round() also rounds half to even.
    'round': Case(unary(grid(-3, 3, step=0.25)), elementwise(lambda v: float(builtins.round(v)))),
    'stop_gradient': Case(unary(), elementwise(lambda v: v)),
    'argmax': Case(arg_example(), arg_oracle(builtins.max)),
    'argmin': Case(arg_example(), arg_oracle(builtins.min)),
    'all': Case(all_any_example(), truth_oracle(builtins.all)),
    'any': Case(all_any_example(), truth_oracle(builtins.any)),
    'one_hot': Case(one_hot_example(), one_hot_oracle),
}


# --- optimizer update rules (refkeras/backend/prims_updates.py) -----------------------------
#
# Each rule's oracle is Keras 2.2.4's documented formula worked element by element with
# Python floats (`math.sqrt`, correctly rounded like every float64 operation), in the
# formula's own order; the forward runs the same formula on whole float64 arrays, so the two
# agree exactly. Slots that hold averages of squares (or maxima of magnitudes) are drawn
# non-negative, the rates in [0, 1], the schedule terms so that every `1 - x` is >= 0.1.

@st.composite
def update_example(draw, signed_slots, square_slots, scalars, attrs=None):
    """`p, g`, the slots (signed ones first) of one drawn shape, then 0-d scalars.

    # Arguments
        signed_slots, square_slots: how many slots of either kind.
        scalars: `(low, high)` per scalar operand.
        attrs: dict of attribute name -> strategy.
    """
    shape = draw(shapes())
    inputs = [draw(arrays(shape, smooth())) for _ in range(2 + signed_slots)]
    inputs += [draw(arrays(shape, smooth(0.0, 3.0))) for _ in range(square_slots)]
    inputs += [np.array(draw(smooth(low, high))) for low, high in scalars]
    drawn = {name: draw(strategy) for name, strategy in (attrs or {}).items()}
    return Example(inputs, [False] * len(inputs), drawn)


def per_element(rule, n_arrays):
    """An oracle applying `rule(*floats, **attrs) -> tuple` to every element; the first
    `n_arrays` inputs are arrays of one shape, the others scalars."""
    def oracle(*inputs, **attrs):
        shape = np.shape(inputs[0])
        scalars = [float(s) for s in inputs[n_arrays:]]
        outs = None
        for index in np.ndindex(shape):
            values = rule(*([float(np.asarray(x)[index]) for x in inputs[:n_arrays]] + scalars),
                          **attrs)
            if outs is None:
                outs = [np.empty(shape) for _ in values]
            for out, value in zip(outs, values):
                out[index] = value
        return np.stack(outs)
    return oracle


def stored(slot):
    """A slot value as the update rules store it: a subnormal (of magnitude below the
    smallest normal double) becomes 0, as TensorFlow's flush-to-zero CPU kernels store it."""
    return 0.0 if 0 < abs(slot) < sys.float_info.min else slot


def sgd_rule(p, g, m, lr, momentum, nesterov=False):
    v = stored(momentum * m - lr * g)
    return (p + momentum * v - lr * g if nesterov else p + v), v


def rmsprop_rule(p, g, a, lr, rho, epsilon=1e-7):
    a = stored(rho * a + (1 - rho) * (g * g))
    return p - lr * g / (math.sqrt(a) + epsilon), a


def adagrad_rule(p, g, a, lr, epsilon=1e-7):
    a = stored(a + g * g)
    return p - lr * g / (math.sqrt(a) + epsilon), a


def adadelta_rule(p, g, a, d, lr, rho=0.95, epsilon=1e-7):
    a = stored(rho * a + (1 - rho) * (g * g))
    u = g * math.sqrt(d + epsilon) / math.sqrt(a + epsilon)
    return p - lr * u, a, stored(rho * d + (1 - rho) * (u * u))


def adam_rule(p, g, m, v, lr_t, beta_1, beta_2, epsilon=1e-7):
    m = stored(beta_1 * m + (1 - beta_1) * g)
    v = stored(beta_2 * v + (1 - beta_2) * (g * g))
    return p - lr_t * m / (math.sqrt(v) + epsilon), m, v


def amsgrad_rule(p, g, m, v, vhat, lr_t, beta_1, beta_2, epsilon=1e-7):
    m = stored(beta_1 * m + (1 - beta_1) * g)
    v = stored(beta_2 * v + (1 - beta_2) * (g * g))
    vhat = builtins.max(vhat, v)
    return p - lr_t * m / (math.sqrt(vhat) + epsilon), m, v, vhat


def adamax_rule(p, g, m, u, lr_t, beta_1, beta_2, epsilon=1e-7):
    m = stored(beta_1 * m + (1 - beta_1) * g)
    u = stored(builtins.max(beta_2 * u, builtins.abs(g)))
    return p - lr_t * m / (u + epsilon), m, u


def nadam_rule(p, g, m, v, lr, beta_1, beta_2, mu_t, mu_next, s_new, s_next, b2_power,
               epsilon=1e-7):
    m = stored(beta_1 * m + (1 - beta_1) * g)
    v = stored(beta_2 * v + (1 - beta_2) * (g * g))
    m_bar = (1 - mu_t) * (g / (1 - s_new)) + mu_next * (m / (1 - s_next))
    return p - lr * m_bar / (math.sqrt(v / (1 - b2_power)) + epsilon), m, v


EPSILONS = st.sampled_from([1e-7, 1e-3, 0.1])
UNIT = (0.0, 1.0)

CASES_WITHOUT_GRADIENT.update({
    'sgd_update': Case(update_example(1, 0, [UNIT, UNIT], {'nesterov': st.booleans()}),
                       per_element(sgd_rule, 3)),
    'rmsprop_update': Case(update_example(0, 1, [UNIT, UNIT], {'epsilon': EPSILONS}),
                           per_element(rmsprop_rule, 3)),
    'adagrad_update': Case(update_example(0, 1, [UNIT], {'epsilon': EPSILONS}),
                           per_element(adagrad_rule, 3)),
    'adadelta_update': Case(update_example(0, 2, [UNIT], {'rho': smooth(0.0, 1.0),
                                                         'epsilon': EPSILONS}),
                            per_element(adadelta_rule, 4)),
    'adam_update': Case(update_example(1, 1, [UNIT] * 3, {'epsilon': EPSILONS}),
                        per_element(adam_rule, 4)),
    'amsgrad_update': Case(update_example(1, 2, [UNIT] * 3, {'epsilon': EPSILONS}),
                           per_element(amsgrad_rule, 5)),
    'adamax_update': Case(update_example(1, 1, [UNIT] * 3, {'epsilon': EPSILONS}),
                          per_element(adamax_rule, 4)),
    'nadam_update': Case(update_example(1, 1, [UNIT] * 5 + [(0.0, 0.9)] * 3,
                                        {'epsilon': EPSILONS}),
                         per_element(nadam_rule, 4)),
})


def test_update_rules_reject_mismatched_shapes_before_computing():
    p, m = np.ones((2, 3)), np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"'sgd_update'.*`g` has shape \(3,\).*\(2, 3\)"):
        REGISTRY['sgd_update'].forward(p, np.ones(3), m, np.array(0.1), np.array(0.9))
    with pytest.raises(ValueError, match=r"'adam_update'.*`beta_1` must be a scalar.*\(3,\)"):
        REGISTRY['adam_update'].forward(p, p, m, m, np.array(0.1), np.ones(3), np.array(0.9))


def test_update_rules_keep_float32_in_float32():
    x = np.array([[0.5, -1.5], [2.5, 0.0]], dtype=np.float32)
    rate = np.array(0.01, dtype=np.float32)
    new_p, new_m, new_v = REGISTRY['adam_update'].forward(x, x, x, x * x, rate, rate, rate)
    assert new_p.dtype == new_m.dtype == new_v.dtype == np.float32
    new_p, new_a = REGISTRY['rmsprop_update'].forward(x, x, x * x, rate, rate, epsilon=1e-7)
    assert new_p.dtype == new_a.dtype == np.float32


@pytest.mark.parametrize('name', [n for n in non_differentiable_names() if not n.startswith(
    ('random_', 'truncated_'))])
@given(data=st.data())
def test_non_differentiable_primitive_is_not_recorded(name, data):
    case = case_for(name, CASES_WITHOUT_GRADIENT)
    prim = REGISTRY[name]
    inputs, _, attrs = data.draw(case.strategy, label='example')

    out = prim.forward(*inputs, **attrs)
    expected = case.oracle(*inputs, **attrs)
    assert np.shape(out) == np.shape(expected)
    np.testing.assert_array_equal(np.asarray(out, dtype=np.float64),
                                  np.asarray(expected, dtype=np.float64))

    # Every input watched by an open tape: the primitive is still not recorded.
    watched = [Variable(x) for x in inputs]
    with GradientTape(watched) as tape:
        result = apply(prim, *watched, **attrs)
        loss = apply(REGISTRY['sum'], apply(REGISTRY['cast'], result, dtype='float64'))
    assert not isinstance(result, Traced)
    assert tape.records == []
    np.testing.assert_array_equal(result, out)
    for v, grad in zip(watched, tape.gradient(loss, watched)):
        assert grad.shape == v.shape and not np.any(grad)


@given(data=st.data())
def test_stop_gradient_blocks_what_flows_through_it(data):
    # d/dx sum(stop_gradient(x) * x) = stop_gradient(x) = x, not 2x.
    x = data.draw(arrays(data.draw(shapes()), smooth()))
    v = Variable(x)
    with GradientTape([v]) as tape:
        frozen = apply(REGISTRY['stop_gradient'], v)
        loss = apply(REGISTRY['sum'], apply(REGISTRY['multiply'], frozen, v))
    (grad,) = tape.gradient(loss, [v])
    np.testing.assert_array_equal(grad, x)


def test_float32_stays_float32_without_gradients():
    x = np.array([[0.5, -1.5], [2.5, 0.0]], dtype=np.float32)
    for name in ('sign', 'round', 'stop_gradient'):
        assert REGISTRY[name].forward(x).dtype == np.float32, name


# --- random draws -----------------------------------------------------------------------------

N_DRAWS = 20000
# Six standard errors: a correct sampler fails a bound with probability ~2e-9.
SIGMAS = 6.0


def check_uniform(draws, attrs):
    low, high = attrs['minval'], attrs['maxval']
    assert np.all(draws >= low) and np.all(draws < high)
    width = high - low
    mean_error = SIGMAS * width / math.sqrt(12 * draws.size)
    assert abs(draws.mean() - (low + high) / 2) < mean_error
    # Var of the sample variance of U(0,1): (1/80 - 1/144) / n; scaled by width**4.
    var_error = SIGMAS * width ** 2 * math.sqrt((1 / 80 - 1 / 144) / draws.size)
    assert abs(draws.var() - width ** 2 / 12) < var_error


def check_normal(draws, attrs):
    mean, std = attrs['mean'], attrs['stddev']
    assert abs(draws.mean() - mean) < SIGMAS * std / math.sqrt(draws.size)
    # The sample std has standard error std / sqrt(2 n).
    assert abs(draws.std() - std) < SIGMAS * std / math.sqrt(2 * draws.size)
    assert np.mean(np.abs(draws - mean) > 2 * std) > 0.03   # 4.6% expected: not truncated


def check_truncated_normal(draws, attrs):
    mean, std = attrs['mean'], attrs['stddev']
    # float32 rounding of mean + std * z may land a hair outside the exact bound
    margin = 1e-5 * (abs(mean) + 2 * std)
    assert np.all(np.abs(draws - mean) <= 2 * std + margin)
    # Standard normal truncated to [-2, 2]: variance 1 - 2 * 2 * phi(2) / (2 Phi(2) - 1).
    phi = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    truncated_std = std * math.sqrt(1 - 4 * phi / mass)
    assert abs(draws.mean() - mean) < SIGMAS * truncated_std / math.sqrt(draws.size)
    # The truncated distribution has kurtosis < 3, so the normal-theory error bound is safe.
    assert abs(draws.std() - truncated_std) < SIGMAS * truncated_std / math.sqrt(2 * draws.size)


def check_binomial(draws, attrs):
    p = attrs['p']
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert abs(draws.mean() - p) <= SIGMAS * math.sqrt(p * (1 - p) / draws.size) + 1e-12


RANDOM_CASES = {
    'random_uniform': (check_uniform, st.fixed_dictionaries(
        {'minval': grid(-3, 0, step=0.5), 'maxval': grid(0.5, 3, step=0.5)})),
    'random_normal': (check_normal, st.fixed_dictionaries(
        {'mean': grid(-2, 2, step=0.5), 'stddev': grid(0.5, 3, step=0.5)})),
    'truncated_normal': (check_truncated_normal, st.fixed_dictionaries(
        {'mean': grid(-2, 2, step=0.5), 'stddev': grid(0.5, 3, step=0.5)})),
    'random_binomial': (check_binomial, st.fixed_dictionaries(
        {'p': st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0])})),
}


def random_names():
    return sorted(n for n in non_differentiable_names() if n.startswith(('random_', 'truncated_')))


@pytest.mark.parametrize('name', random_names())
@given(data=st.data())
def test_random_draws(name, data):
    check, attr_strategy = case_for(name, RANDOM_CASES)
    prim = REGISTRY[name]
    attrs = data.draw(attr_strategy, label='attrs')
    dtype = data.draw(st.sampled_from(['float32', 'float64']), label='dtype')
    seed = data.draw(st.integers(0, 2 ** 31 - 1), label='seed')

    shape = data.draw(shapes(max_dims=3, max_side=4), label='shape')
    small = prim.forward(shape=shape, dtype=dtype, seed=seed, **attrs)
    assert small.shape == shape and small.dtype == np.dtype(dtype)

    prims_nn.reset_seeded_generators()
    draws = prim.forward(shape=(N_DRAWS,), dtype=dtype, seed=seed, **attrs)
    assert draws.dtype == np.dtype(dtype)
    check(draws.astype(np.float64), attrs)

    # A seed repeats from a fresh start (clear_session forgets the generators) ...
    prims_nn.reset_seeded_generators()
    first = prim.forward(shape=(50,), dtype=dtype, seed=seed, **attrs)
    second = prim.forward(shape=(50,), dtype=dtype, seed=seed, **attrs)
    prims_nn.reset_seeded_generators()
    np.testing.assert_array_equal(prim.forward(shape=(50,), dtype=dtype, seed=seed, **attrs),
                                  first)
    # ... and, within a session, continues (a seeded dropout gets a new mask each batch).
    if name != 'random_binomial' or 0 < attrs['p'] < 1:
        assert not np.array_equal(first, second)

    # Unseeded draws follow NumPy's global generator (the FAQ's np.random.seed recipe).
    np.random.seed(seed)
    a = prim.forward(shape=(20,), dtype=dtype, **attrs)
    np.random.seed(seed)
    np.testing.assert_array_equal(prim.forward(shape=(20,), dtype=dtype, **attrs), a)

    # Nothing is recorded, even by a tape watching every variable.
    with GradientTape() as tape:
        out = apply(prim, shape=(3,), dtype=dtype, seed=seed, **attrs)
    assert not isinstance(out, Traced) and tape.records == []
    prims_nn.reset_seeded_generators()


def test_clear_session_restarts_seeded_generators():
    first = K.random_normal((10,), seed=1234)
    K.clear_session()
    np.testing.assert_array_equal(K.random_normal((10,), seed=1234), first)
    K.clear_session()


# --- coverage ---------------------------------------------------------------------------------

def test_every_primitive_has_a_case():
    """Fails, naming it, when a primitive is registered without a case here."""
    differentiable = set(differentiable_names())
    without = set(non_differentiable_names())
    missing_grad = sorted(differentiable - set(CASES_WITH_GRADIENT))
    assert not missing_grad, ('Differentiable primitives without a finite-difference case in '
                              'CASES_WITH_GRADIENT: %s' % missing_grad)
    missing_nondiff = sorted(without - set(CASES_WITHOUT_GRADIENT) - set(RANDOM_CASES))
    assert not missing_nondiff, ('Non-differentiable primitives without a case in '
                                 'CASES_WITHOUT_GRADIENT / RANDOM_CASES: %s' % missing_nondiff)
    stale = sorted((set(CASES_WITH_GRADIENT) - differentiable)
                   | ((set(CASES_WITHOUT_GRADIENT) | set(RANDOM_CASES)) - without))
    assert not stale, ('Cases for primitives that are not registered, or registered with the '
                       'other `differentiable` flag: %s' % stale)
    assert set(RANDOM_CASES) == set(random_names())


def test_every_differentiable_primitive_has_a_rule():
    no_rule = sorted(name for name, prim in REGISTRY.items()
                     if prim.differentiable and prim.grad is None)
    assert not no_rule, 'differentiable primitives without a gradient rule: %s' % no_rule


def test_cumsum_rule_over_the_flattened_array():
    # axis=None flattens first, so the gradient must come back in x's shape.
    x = np.arange(6.0).reshape(2, 3) / 7.0
    out = REGISTRY['cumsum'].forward(x, axis=None)
    g = np.random.RandomState(2).uniform(-1, 1, out.shape)
    (grad,) = REGISTRY['cumsum'].grad(g, out, x, axis=None)
    assert grad.shape == x.shape
    assert_close_to_numeric(grad, numeric_vjp(REGISTRY['cumsum'], [x], {'axis': None}, g, 0),
                            'cumsum axis=None')


# --- fused chains (refkeras/backend/prims_fused.py) ------------------------------------------
#
# Oracles: the activation and the crossentropy written out element by element with Python's
# `math`. Kinks stay away from the drawn values: `x` lies on the 0.01 grid offset by 0.005 and
# the bias on the 0.01 grid, so `x + bias` is 0.005 from relu's, selu's and softsign's kink at
# 0 and hard_sigmoid's at +-2.5; crossentropy examples whose rescaled probabilities come
# within 0.001 of a clip bound are filtered out. `epsilon` is drawn large as well, so that
# the clipped branch (probabilities below `epsilon`) is differentiated too.

from refkeras.activations import SELU_ALPHA, SELU_SCALE  # noqa: E402  (this section's own)

FUSED_ACTIVATION_FUNCTIONS = {
    'linear': lambda v: v,
    'relu': lambda v: builtins.max(v, 0.0),
    'elu': lambda v: v if v > 0 else math.expm1(v),
    'selu': lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)),
    'sigmoid': lambda v: 1.0 / (1.0 + math.exp(-v)),
    'hard_sigmoid': lambda v: builtins.min(1.0, builtins.max(0.0, 0.2 * v + 0.5)),
    'tanh': math.tanh,
    'softplus': lambda v: math.log1p(math.exp(v)),
    'softsign': lambda v: v / (1.0 + math.fabs(v)),
    'exponential': math.exp,
}


@st.composite
def bias_activation_example(draw):
    shape = draw(shapes(min_dims=1, max_dims=4))
    data_format = draw(st.sampled_from(['channels_last', 'channels_first']))
    channel = 1 if data_format == 'channels_first' and len(shape) > 2 else len(shape) - 1
    x = draw(arrays(shape, grid(-3, 3, offset=OFF_GRID)))
    bias = draw(arrays((shape[channel],), grid(-1, 1)))
    activation = draw(st.sampled_from(sorted(FUSED_ACTIVATION_FUNCTIONS)))
    return Example([x, bias], [True, True], {'activation': activation, 'data_format': data_format})


def bias_activation_oracle(x, bias, activation='linear', data_format='channels_last'):
    fn = FUSED_ACTIVATION_FUNCTIONS[activation]
    channel = 1 if data_format == 'channels_first' and np.ndim(x) > 2 else np.ndim(x) - 1
    out = np.empty(np.shape(x))
    for index in np.ndindex(np.shape(x)):
        out[index] = fn(float(x[index]) + float(bias[index[channel]]))
    return out


def _rescaled_softmax_lane(values):
    p = softmax_lane(values)
    total = math.fsum(p)
    return [v / total for v in p]


def crossentropy_oracle(target, logits, axis=-1, epsilon=1e-7):
    moved_t, moved_z = np.moveaxis(target, axis, -1), np.moveaxis(logits, axis, -1)
    out = np.empty(moved_z.shape[:-1])
    for index in np.ndindex(out.shape):
        q = _rescaled_softmax_lane([float(v) for v in moved_z[index]])
        clipped = [builtins.min(builtins.max(v, epsilon), 1.0 - epsilon) for v in q]
        out[index] = -math.fsum(float(t) * math.log(c) for t, c in zip(moved_t[index], clipped))
    return out


def _away_from_the_clip_bounds(example):
    target, logits = example.inputs
    eps, axis = example.attrs['epsilon'], example.attrs['axis']
    q = along_axis(_rescaled_softmax_lane, logits, axis)
    return bool(np.all(np.abs(q - eps) > 1e-3) and np.all(np.abs(q - (1.0 - eps)) > 1e-3))


@st.composite
def crossentropy_example(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    logits = draw(arrays(shape, smooth(-3, 3)))
    target = draw(arrays(shape, smooth(0, 1)))
    epsilon = draw(st.sampled_from([1e-7, 0.05, 0.2]))
    return Example([target, logits], [True, True], {'axis': axis, 'epsilon': epsilon})


def binary_crossentropy_oracle(target, output, epsilon=1e-7):
    def loss(t, p):
        c = builtins.min(builtins.max(p, epsilon), 1.0 - epsilon)
        return -(t * math.log(c) + (1.0 - t) * math.log(1.0 - c))
    return elementwise(loss)(target, output)


@st.composite
def binary_crossentropy_example(draw):
    shape = draw(shapes())
    epsilon = draw(st.sampled_from([1e-7, 0.05, 0.2]))
    # Outputs 0.001 or more from the clip bounds (the rule is discontinuous there).
    output = draw(arrays(shape, smooth(0.01, 0.99).filter(
        lambda p: builtins.abs(p - epsilon) > 1e-3 and builtins.abs(p - (1 - epsilon)) > 1e-3)))
    target = draw(arrays(shape, smooth(0, 1)))
    return Example([target, output], [True, True], {'epsilon': epsilon})


CASES_WITH_GRADIENT.update({
    'bias_activation': Case(bias_activation_example(), bias_activation_oracle),
    'softmax_crossentropy': Case(crossentropy_example().filter(_away_from_the_clip_bounds),
                                 crossentropy_oracle),
    'binary_crossentropy': Case(binary_crossentropy_example(), binary_crossentropy_oracle),
})
