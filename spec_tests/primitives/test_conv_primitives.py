"""The convolution and pooling primitives of `refkeras/backend/prims_conv.py`.

Each primitive's forward is compared with a direct nested-loop definition
written here (the independent oracle: index arithmetic over output positions,
kernel taps and channels, with out-of-range positions skipped instead of
padded), and each gradient rule with central finite differences in float64,
on shapes, strides, dilations, paddings and groups drawn by hypothesis
(docs/design.md, invariants 2, 3 and 6).

Tolerances. Finite differences: step `H = 1e-6`, `|numeric - rule| <= 1e-6 +
1e-6 * |numeric|`, as in `test_primitive_gradients.py`: convolutions are
linear in each input and pooling is piecewise linear with its kinks (ties in a
window) kept at least 0.05 away from every drawn value, so the truncation error
is zero and only rounding (about `1e-16 * |terms| / H`, below 1e-8 here)
remains. Forward in float64 against the loops: `1e-10` (both are sums of a few
dozen products, a few ulps apart). float32 against float64 on the same inputs:
`1e-4` relative to the output's scale (a few dozen float32 roundings of 6e-8).

`CHECKED_PRIMITIVES` names every primitive this file checks; the registry-wide
coverage test uses it.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from refkeras.backend import prims_conv
from refkeras.backend.registry import REGISTRY
from refkeras.backend.tape import GradientTape, apply
from refkeras.backend.tensors import Variable

CHECKED_PRIMITIVES = {'conv', 'conv_transpose', 'max_pool', 'avg_pool'}

H = 1e-6
FD_RTOL = FD_ATOL = 1e-6
FORWARD_TOL = 1e-10
F32_TOL = 1e-4


# --- the oracles: direct loops -----------------------------------------------------------

def positions(sizes):
    return itertools.product(*[range(n) for n in sizes])


def out_sizes(sizes, kernel, strides, dilation, padding):
    """`floor((n + before + after - dilation * (k - 1) - 1) / stride) + 1` per axis."""
    return tuple((n + a + b - d * (k - 1) - 1) // s + 1
                 for n, k, s, d, (a, b) in zip(sizes, kernel, strides, dilation, padding))


def source(o, k, strides, dilation, padding):
    """The input position that output `o` reads through kernel tap `k` (maybe outside)."""
    return tuple(oi * s + ki * d - a for oi, ki, s, d, (a, _) in
                 zip(o, k, strides, dilation, padding))


def inside(pos, sizes):
    return all(0 <= p < n for p, n in zip(pos, sizes))


def conv_loops(x, kernel, strides, dilation, padding, groups):
    """out[b, o, f] = sum over taps k and the channels c of f's group of x[b, src, c] * kernel[k, c, f]."""
    batch, sizes = x.shape[0], x.shape[1:-1]
    rank = len(sizes)
    ksize, per_group, filters = kernel.shape[:rank], kernel.shape[-2], kernel.shape[-1]
    outs = out_sizes(sizes, ksize, strides, dilation, padding)
    out = np.zeros((batch,) + outs + (filters,))
    for b in range(batch):
        for o in positions(outs):
            for f in range(filters):
                group = f // (filters // groups)
                total = 0.0
                for k in positions(ksize):
                    src = source(o, k, strides, dilation, padding)
                    if not inside(src, sizes):
                        continue
                    for c in range(per_group):
                        total += x[(b,) + src + (group * per_group + c,)] * kernel[k + (c, f)]
                out[(b,) + o + (f,)] = total
    return out


def conv_transpose_loops(x, kernel, output_size, strides, dilation, padding, groups):
    """Each x[b, o, j] adds x * kernel[k, c, j] to output[b, src(o, k), c' of j's group]."""
    batch, in_sizes = x.shape[0], x.shape[1:-1]
    rank = len(in_sizes)
    ksize, per_group, in_channels = kernel.shape[:rank], kernel.shape[-2], kernel.shape[-1]
    y = np.zeros((batch,) + tuple(output_size) + (per_group * groups,))
    for b in range(batch):
        for o in positions(in_sizes):
            for j in range(in_channels):
                group = j // (in_channels // groups)
                for k in positions(ksize):
                    dst = source(o, k, strides, dilation, padding)
                    if not inside(dst, output_size):
                        continue
                    for c in range(per_group):
                        y[(b,) + dst + (group * per_group + c,)] += x[(b,) + o + (j,)] * \
                            kernel[k + (c, j)]
    return y


def pool_loops(x, pool_size, strides, padding, reduce):
    """`reduce` of the values in each window that lie inside the input."""
    batch, sizes, channels = x.shape[0], x.shape[1:-1], x.shape[-1]
    rank = len(sizes)
    outs = out_sizes(sizes, pool_size, strides, (1,) * rank, padding)
    out = np.zeros((batch,) + outs + (channels,))
    for b in range(batch):
        for o in positions(outs):
            for c in range(channels):
                values = []
                for k in positions(pool_size):
                    src = source(o, k, strides, (1,) * rank, padding)
                    if inside(src, sizes):
                        values.append(x[(b,) + src + (c,)])
                out[(b,) + o + (c,)] = reduce(values)
    return out


# --- strategies ----------------------------------------------------------------------------

@st.composite
def geometries(draw, pooling=False):
    """Rank, window, strides, dilation, padding and an input size with >= 1 output position.

    For pooling the padding on each side is smaller than the window (as
    'same' padding is), so that every window holds at least one input element.
    """
    rank = draw(st.integers(1, 3))
    small = rank == 3
    window = tuple(draw(st.integers(1, 2 if small else 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2 if small else 3)) for _ in range(rank))
    dilation = (1,) * rank if pooling else tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = tuple((draw(st.integers(0, k - 1 if pooling else 2)),
                     draw(st.integers(0, k - 1 if pooling else 2))) for k in window)
    outs = tuple(draw(st.integers(1, 2 if small else 3)) for _ in range(rank))
    extra = tuple(draw(st.integers(0, s - 1)) for s in strides)
    sizes = tuple((o - 1) * s + d * (k - 1) + 1 - a - b + e for o, s, d, k, (a, b), e in
                  zip(outs, strides, dilation, window, padding, extra))
    assume(all(n >= 1 for n in sizes))
    return dict(rank=rank, window=window, strides=strides, dilation=dilation, padding=padding,
                sizes=sizes)


@st.composite
def conv_examples(draw):
    geo = draw(geometries())
    groups = draw(st.integers(1, 3))
    per_group = draw(st.integers(1, 2))
    filters_per_group = draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.uniform(-1, 1, (batch,) + geo['sizes'] + (groups * per_group,))
    kernel = rng.uniform(-1, 1, geo['window'] + (per_group, groups * filters_per_group))
    return geo, groups, x, kernel, rng


def seeded_uniform(rng, shape):
    return rng.uniform(-1, 1, shape)


# --- finite differences ------------------------------------------------------------------------

def objective(prim, inputs, attrs, g):
    """`sum(g * prim(*inputs))`, summed exactly (so untouched terms cancel)."""
    return math.fsum((g * prim.forward(*inputs, **attrs)).ravel())


def numeric_vjp(prim, inputs, attrs, g, which):
    """Central differences of `objective` with respect to `inputs[which]`, element by element."""
    base = [np.array(v, dtype=np.float64) for v in inputs]
    grad = np.zeros_like(base[which])
    for index in np.ndindex(*base[which].shape):
        plus = [v.copy() for v in base]
        minus = [v.copy() for v in base]
        plus[which][index] += H
        minus[which][index] -= H
        grad[index] = (objective(prim, plus, attrs, g) - objective(prim, minus, attrs, g)) / (2 * H)
    return grad


def assert_close_to_numeric(rule, numeric):
    assert rule.shape == numeric.shape
    np.testing.assert_allclose(rule, numeric, rtol=FD_RTOL, atol=FD_ATOL)


def tape_gradients(prim, inputs, attrs, g):
    """The gradients the tape computes for `sum(g * prim(*inputs))`."""
    variables = [Variable(v) for v in inputs]
    with GradientTape(variables) as tape:
        out = apply(prim, *variables, **attrs)
        loss = apply(REGISTRY['sum'], apply(REGISTRY['multiply'], out, g))
    return tape.gradient(loss, variables)


def check_gradients(prim, inputs, attrs, rng):
    """Rule vs finite differences vs tape, in float64; then dtypes in float32."""
    out = prim.forward(*inputs, **attrs)
    g = seeded_uniform(rng, out.shape)
    rule = prim.grad(g, out, *inputs, **attrs) if not prim.wants_needs else \
        prim.grad(g, out, *inputs, needs=(True,) * len(inputs), **attrs)
    for which, grad in enumerate(rule):
        assert_close_to_numeric(grad, numeric_vjp(prim, inputs, attrs, g, which))
    for from_tape, grad in zip(tape_gradients(prim, inputs, attrs, g), rule):
        np.testing.assert_allclose(from_tape, grad, rtol=1e-12, atol=1e-12)
    # float32 stays float32, close to the float64 results.
    inputs32 = [v.astype(np.float32) for v in inputs]
    out32 = prim.forward(*inputs32, **attrs)
    assert out32.dtype == np.float32
    scale = max(1.0, float(np.abs(out).max()))
    np.testing.assert_allclose(out32, prim.forward(*[v.astype(np.float64) for v in inputs32],
                                                   **attrs), atol=F32_TOL * scale)
    extra = {} if not prim.wants_needs else {'needs': (True,) * len(inputs)}
    for grad32 in prim.grad(g.astype(np.float32), out32, *inputs32, **dict(attrs, **extra)):
        assert grad32.dtype == np.float32


# --- the tests ----------------------------------------------------------------------------------

def test_checked_primitives_are_the_ones_prims_conv_registers():
    here = {name for name, prim in REGISTRY.items()
            if prim.forward.__module__ == prims_conv.__name__}
    assert here == CHECKED_PRIMITIVES
    assert all(REGISTRY[name].differentiable and REGISTRY[name].grad is not None
               for name in CHECKED_PRIMITIVES)


@given(conv_examples())
def test_conv_forward_matches_loops(example):
    geo, groups, x, kernel, _ = example
    attrs = dict(strides=geo['strides'], dilation=geo['dilation'], padding=geo['padding'],
                 groups=groups)
    out = REGISTRY['conv'].forward(x, kernel, **attrs)
    expected = conv_loops(x, kernel, geo['strides'], geo['dilation'], geo['padding'], groups)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=FORWARD_TOL, atol=FORWARD_TOL)


@given(conv_examples())
def test_conv_gradients(example):
    geo, groups, x, kernel, rng = example
    attrs = dict(strides=geo['strides'], dilation=geo['dilation'], padding=geo['padding'],
                 groups=groups)
    check_gradients(REGISTRY['conv'], [x, kernel], attrs, rng)


def transpose_example(example):
    """A conv example turned around: x of the conv's output shape, output of its input size."""
    geo, groups, y, kernel, rng = example
    outs = out_sizes(geo['sizes'], geo['window'], geo['strides'], geo['dilation'], geo['padding'])
    x = rng.uniform(-1, 1, (y.shape[0],) + outs + (kernel.shape[-1],))
    attrs = dict(output_size=geo['sizes'], strides=geo['strides'], dilation=geo['dilation'],
                 padding=geo['padding'], groups=groups)
    return x, kernel, attrs, rng


@given(conv_examples())
def test_conv_transpose_forward_matches_loops(example):
    x, kernel, attrs, _ = transpose_example(example)
    out = REGISTRY['conv_transpose'].forward(x, kernel, **attrs)
    expected = conv_transpose_loops(x, kernel, attrs['output_size'], attrs['strides'],
                                    attrs['dilation'], attrs['padding'], attrs['groups'])
    np.testing.assert_allclose(out, expected, rtol=FORWARD_TOL, atol=FORWARD_TOL)


@given(conv_examples())
def test_conv_transpose_is_the_adjoint_of_conv(example):
    """<conv(y, w), x> == <y, conv_transpose(x, w)> for every y and x."""
    geo, groups, y, kernel, _ = example
    x, kernel, attrs, _ = transpose_example(example)
    conv_attrs = dict((k, v) for k, v in attrs.items() if k != 'output_size')
    left = np.sum(REGISTRY['conv'].forward(y, kernel, **conv_attrs) * x)
    right = np.sum(y * REGISTRY['conv_transpose'].forward(x, kernel, **attrs))
    assert abs(left - right) <= 1e-10 * max(1.0, abs(left))


@given(conv_examples())
def test_conv_transpose_gradients(example):
    x, kernel, attrs, rng = transpose_example(example)
    check_gradients(REGISTRY['conv_transpose'], [x, kernel], attrs, rng)


@st.composite
def pool_examples(draw):
    """Pooling inputs whose values are distinct and at least 0.05 apart (no ties)."""
    geo = draw(geometries(pooling=True))
    shape = (draw(st.integers(1, 2)),) + geo['sizes'] + (draw(st.integers(1, 2)),)
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    x = ((np.array(order, dtype=np.float64) - size / 2.0) * 0.05).reshape(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    attrs = dict(pool_size=geo['window'], strides=geo['strides'], padding=geo['padding'])
    return x, attrs, rng


@given(pool_examples())
def test_max_pool_forward_matches_loops(example):
    x, attrs, _ = example
    expected = pool_loops(x, attrs['pool_size'], attrs['strides'], attrs['padding'], max)
    np.testing.assert_array_equal(REGISTRY['max_pool'].forward(x, **attrs), expected)


@given(pool_examples())
def test_avg_pool_forward_matches_loops(example):
    """Padding is not counted in the mean (TensorFlow's 'SAME' average pooling)."""
    x, attrs, _ = example
    expected = pool_loops(x, attrs['pool_size'], attrs['strides'], attrs['padding'],
                          lambda values: math.fsum(values) / len(values))
    np.testing.assert_allclose(REGISTRY['avg_pool'].forward(x, **attrs), expected,
                               rtol=FORWARD_TOL, atol=FORWARD_TOL)


@pytest.mark.parametrize('name', ['max_pool', 'avg_pool'])
@given(example=pool_examples())
def test_pool_gradients(name, example):
    x, attrs, rng = example
    check_gradients(REGISTRY[name], [x], attrs, rng)


def test_max_pool_gradient_goes_to_the_first_of_tied_maxima():
    x = np.array([[[1.0], [3.0], [3.0], [2.0]]])           # (batch, steps, channels)
    out = REGISTRY['max_pool'].forward(x, pool_size=(3,), strides=(1,))
    assert out.ravel().tolist() == [3.0, 3.0]
    (grad,) = REGISTRY['max_pool'].grad(np.array([[[10.0], [1.0]]]), out, x, pool_size=(3,),
                                        strides=(1,))
    assert grad.ravel().tolist() == [0.0, 11.0, 0.0, 0.0]


def test_conv_skips_gradients_nobody_needs():
    prim = REGISTRY['conv']
    x, kernel = np.ones((1, 4, 2)), np.ones((2, 2, 3))
    out = prim.forward(x, kernel)
    gx, gk = prim.grad(np.ones_like(out), out, x, kernel, needs=(False, True))
    assert gx is None and gk.shape == kernel.shape
    gx, gk = prim.grad(np.ones_like(out), out, x, kernel, needs=(True, False))
    assert gk is None and gx.shape == x.shape


def test_conv_worked_example():
    """A 1D example by hand: x = [1, 2, 3, 4, 5], kernel [1, 10], stride 2, one zero after."""
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    kernel = np.array([1.0, 10.0]).reshape(2, 1, 1)
    out = REGISTRY['conv'].forward(x, kernel, strides=(2,), padding=((0, 1),))
    assert out.ravel().tolist() == [1 + 20, 3 + 40, 5 + 0]


# --- bad input --------------------------------------------------------------------------------

def test_conv_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match=r'does not fit.*\(2, 2\)'):
        REGISTRY['conv'].forward(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)))


def test_conv_rejects_a_wrong_channel_count():
    with pytest.raises(ValueError, match=r'has 3 channels.*\(3, 3, 2, 4\)'):
        REGISTRY['conv'].forward(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 4)))


def test_conv_rejects_filters_not_divisible_by_groups():
    with pytest.raises(ValueError, match='groups'):
        REGISTRY['conv'].forward(np.ones((1, 5, 4)), np.ones((3, 2, 3)), groups=2)


def test_conv_transpose_rejects_an_output_size_that_does_not_map_back():
    with pytest.raises(ValueError, match='does not match'):
        REGISTRY['conv_transpose'].forward(np.ones((1, 3, 1)), np.ones((2, 1, 1)),
                                           output_size=(9,), strides=(2,))


def test_pooling_rejects_a_window_larger_than_the_input():
    with pytest.raises(ValueError, match='does not fit'):
        REGISTRY['max_pool'].forward(np.ones((1, 2, 1)), pool_size=(3,), strides=(1,))


@given(conv_examples())
def test_conv_in_one_example_chunks_matches_loops_and_finite_differences(example):
    # The primitives work through the batch in cache-sized chunks; a tiny chunk
    # budget forces one example per chunk, so the chunk seams are exercised.
    geo, groups, x, kernel, rng = example
    attrs = dict(strides=geo['strides'], dilation=geo['dilation'], padding=geo['padding'],
                 groups=groups)
    saved = prims_conv.CHUNK_BYTES
    prims_conv.CHUNK_BYTES = 1
    try:
        out = REGISTRY['conv'].forward(x, kernel, **attrs)
        expected = conv_loops(x, kernel, geo['strides'], geo['dilation'], geo['padding'], groups)
        np.testing.assert_allclose(out, expected, rtol=FORWARD_TOL, atol=FORWARD_TOL)
        check_gradients(REGISTRY['conv'], [x, kernel], attrs, rng)
    finally:
        prims_conv.CHUNK_BYTES = saved
