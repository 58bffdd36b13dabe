"""accel against the reference: every primitive, forward and gradient (docs/design.md, invariant 6).

For each primitive of `refkeras.backend.registry.REGISTRY`, hypothesis draws
shapes (odd sizes that divide no tile, broadcasting pairs, axes) and values;
the accel primitive's forward and gradient must equal the reference's within
a tolerance stated per primitive and derived from float32 (or float64)
arithmetic, with `eps` the machine epsilon of the result's dtype:

- *exact*: copies, selections, comparisons, and sequences of correctly
  rounded IEEE operations done in the same order on both sides (`+ - * /`,
  `sqrt`; no product followed by a sum, which the GPU compiler may fuse into
  one rounding).
- *c ulps*: elementwise functions built on exp/log/sin/cos/tanh/pow: CUDA's
  libdevice versions are within 1-4 ulp (CUDA Programming Guide, "Mathematical
  Functions"), NumPy's float32 SIMD versions within about 4 ulp; `c` adds both,
  plus one ulp per further rounding of the formula.
- *sums of K terms*: two summation orders of the same K terms differ by at most
  `(K - 1) * eps * sum|terms|` (each side's error is at most `(K - 1) * eps/2 *
  sum|terms|`, Higham, "Accuracy and Stability of Numerical Algorithms", 4.2).
  This covers reductions, the unbroadcasting of gradients, and matrix products
  (`|A @ B - fl(A @ B)| <= K * eps * (|A| @ |B|)`).

The magnitudes in these bounds are computed in float64 by the test itself
(from `|inputs|`), never read off the code under test.

Random draws are checked statistically and for seed determinism instead.

Under `NUMBA_ENABLE_CUDASIM=1` (set below when no GPU is present) the kernels
run in Python threads, so shapes stay tiny; on a GPU the same tests run on the
device (`pytest -m accel`, or `HYPOTHESIS_PROFILE=dev` for more examples).
"""
import functools
import inspect
import math
import os

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lstm_bounds
import strategies
from accel_harness import accel_mode_or_skip, fast_simulator_threads

_MODE = accel_mode_or_skip()

from refkeras.backend.registry import REGISTRY, unbroadcast  # noqa: E402

from accel import arrays  # noqa: E402
from accel.errors import AccelDtypeError, AccelIndexError, AccelShapeError  # noqa: E402
from accel.table import registered  # noqa: E402

pytestmark = pytest.mark.accel

ACCEL = registered()
SIMULATOR = _MODE == 'simulator'


_fast_simulator_threads = fast_simulator_threads(_MODE)


def eps_of(dtype):
    dtype = np.dtype(dtype)
    return float(np.finfo(dtype).eps) if dtype.kind == 'f' else 0.0


# --- comparing ----------------------------------------------------------------

def to_dev(x):
    if isinstance(x, np.ndarray) or isinstance(x, np.generic):
        return arrays.to_device(x)
    return x


def host(x):
    return None if x is None else arrays.to_host(x)


def assert_close(got, want, tol, what):
    """`got` has `want`'s shape and dtype and |got - want| <= tol elementwise."""
    want = np.asarray(want)
    assert got.shape == want.shape, '%s: shape %s, reference %s' % (what, got.shape, want.shape)
    assert got.dtype == want.dtype, '%s: dtype %s, reference %s' % (what, got.dtype, want.dtype)
    if want.dtype.kind not in 'fc':
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    assert np.array_equal(np.isnan(got), np.isnan(want)), '%s: NaN positions differ' % what
    ok = ~np.isnan(want)
    g64, w64 = got[ok].astype(np.float64), want[ok].astype(np.float64)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), want.shape)[ok]
    inf = np.isinf(w64)
    assert np.array_equal(g64[inf], w64[inf]), '%s: infinities differ' % what
    err = np.abs(g64[~inf] - w64[~inf])
    bound = tol[~inf]
    if err.size and not (err <= bound).all():
        i = int(np.argmax(err - bound))
        raise AssertionError('%s: |accel - reference| = %r exceeds the tolerance %r at '
                             'element %d (accel %r, reference %r)'
                             % (what, err[i], bound[i], i, g64[~inf][i], w64[~inf][i]))


def run(name, inputs, attrs, fwd_tol, grad_tol=None, g=None):
    """Runs primitive `name` on both sides and compares.

    # Arguments
        inputs: host arrays / Python scalars (copied to the device for accel).
        fwd_tol: `f(reference_output) -> tolerance` (scalar or array).
        grad_tol: `f(i, g, out, inputs) -> tolerance` for input i's gradient,
            or None when the primitive has no gradient.
        g: the upstream gradient (default: drawn by the caller or ones).
    """
    ref, mine = REGISTRY[name], ACCEL[name]
    with np.errstate(all='ignore'):
        want = np.asarray(ref.forward(*inputs, **attrs))
    dev_inputs = [to_dev(x) for x in inputs]
    got = host(mine.forward(*dev_inputs, **attrs))
    assert_close(got, want, fwd_tol(want), '%s forward' % name)
    if grad_tol is None or ref.grad is None:
        return want
    if g is None:
        g = np.ones(want.shape, dtype=want.dtype)
    grad_attrs = dict(attrs)
    if ref.wants_needs:
        grad_attrs['needs'] = (True,) * len(inputs)
    with np.errstate(all='ignore'):
        want_grads = ref.grad(g, want, *inputs, **grad_attrs)
    got_grads = mine.grad(to_dev(g), to_dev(want), *dev_inputs, **grad_attrs)
    assert len(got_grads) == len(want_grads), '%s grad: %d results, reference %d' % (
        name, len(got_grads), len(want_grads))
    for i, (gg, wg) in enumerate(zip(got_grads, want_grads)):
        if wg is None:
            assert gg is None, '%s grad %d: reference gives None' % (name, i)
            continue
        assert_close(host(gg), wg, grad_tol(i, g, want, inputs), '%s grad %d' % (name, i))
    return want


# --- tolerances ---------------------------------------------------------------

TINY = float(np.finfo(np.float32).tiny)


def exact(_want):
    return 0.0


def ulps(c):
    """Forward tolerance: c ulps of the reference result."""
    return lambda want: c * eps_of(want.dtype) * (np.abs(want.astype(np.float64)) + TINY)


def elementwise_grad_tol(name, attrs, c):
    """Gradient tolerance of a broadcasting elementwise primitive.

    The reference rule, run in float64 on inputs broadcast to the output's shape,
    gives each input's per-element terms t (no unbroadcast happens). accel's value
    for input i is the sum of K = t.size / x.size such terms, each within c ulps:
    tolerance (K - 1 + c) * eps * sum|t|.
    """
    def tol(i, g, out, inputs):
        shape = out.shape
        full = [np.broadcast_to(np.asarray(x, dtype=np.float64), shape).copy()
                for x in inputs]
        with np.errstate(all='ignore'):
            terms = REGISTRY[name].grad(g.astype(np.float64), out.astype(np.float64), *full,
                                        **attrs)
        t = np.abs(np.nan_to_num(terms[i], nan=0.0, posinf=0.0, neginf=0.0))
        x = inputs[i]
        K = max(t.size // max(np.size(x), 1), 1)
        eps = eps_of(np.result_type(g.dtype, out.dtype))
        return (K - 1 + c) * eps * unbroadcast(t, x) + c * TINY
    return tol


# --- drawing ------------------------------------------------------------------

def finite(low, high, dtype=np.float32):
    return strategies.finite_floats(low, high, dtype)


def draw_array(data, shape, dtype=np.float32, low=-4.0, high=4.0, elements=None):
    dtype = np.dtype(dtype)
    if elements is None:
        if dtype.kind == 'f':
            elements = finite(low, high, dtype)
        elif dtype.kind == 'b':
            elements = st.booleans()
        else:
            elements = st.integers(int(low), int(high))
    return data.draw(hnp.arrays(dtype, shape, elements=elements))


def draw_upstream(data, shape, dtype):
    return draw_array(data, shape, dtype, -2.0, 2.0)


shapes = functools.partial(strategies.shapes, max_side=4)


CASES = {}


def case(*names, examples=None):
    """Registers a property case for the named primitives.

    `examples` lowers hypothesis's example count for slow kernels (the reason is
    stated where it is used).
    """
    def register(fn):
        for name in names:
            CASES[name] = (fn, examples)
        return fn
    return register


# --- elementwise: binary ------------------------------------------------------

BINARY = {
    # name: (dtypes, forward tolerance, gradient ulps, operand domains)
    'add': ('fi', exact, 0, None),
    'subtract': ('fi', exact, 0, None),
    'multiply': ('fi', exact, 0, None),
    'divide': ('fi', exact, 0, 'nonzero_b'),
    'maximum': ('fi', exact, 0, None),
    'minimum': ('fi', exact, 0, None),
    # powf: CUDA <= 4 ulp (double pow 2 ulp), NumPy's powf <= 1 ulp; the gradients
    # add a multiplication and a log (CUDA 1 ulp, NumPy <= 4 ulp) or a second pow.
    'power': ('f', ulps(6), 8, 'positive_a'),
}


@st.composite
def binary_operands(draw, kinds, domain):
    kind = draw(st.sampled_from(kinds))
    dtype = draw(st.sampled_from([np.float32, np.float64])) if kind == 'f' else np.int32
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    max_side=4)).input_shapes
    if domain == 'positive_a':
        ea, eb = finite(0.25, 4.0, dtype), finite(-3.0, 3.0, dtype)
    elif domain == 'nonzero_b':
        if kind == 'f':
            ea = finite(-4.0, 4.0, dtype)
            eb = finite(0.25, 4.0, dtype).flatmap(lambda v: st.sampled_from([v, -v]))
        else:
            ea, eb = st.integers(-20, 20), st.integers(1, 9).flatmap(
                lambda v: st.sampled_from([v, -v]))
    elif kind == 'f':
        ea = eb = finite(-4.0, 4.0, dtype)
    else:
        ea = eb = st.integers(-20, 20)
    a = draw(hnp.arrays(dtype, sa, elements=ea))
    b = draw(hnp.arrays(dtype, sb, elements=eb))
    # Sometimes one operand is a Python scalar (a weak operand: it takes the
    # array's dtype, as in NumPy 2).
    which = draw(st.sampled_from(['none', 'none', 'a', 'b']))
    if which == 'a':
        a = float(draw(ea)) if kind == 'f' else int(draw(ea))
    elif which == 'b':
        b = float(draw(eb)) if kind == 'f' else int(draw(eb))
    return a, b


@case(*BINARY)
def check_binary(name, data):
    kinds, fwd, grad_c, domain = BINARY[name]
    a, b = data.draw(binary_operands(kinds, domain))
    want_dtype = np.asarray(REGISTRY[name].forward(a, b)).dtype
    grad = None
    g = None
    if want_dtype.kind == 'f' and any(isinstance(v, np.ndarray) and v.dtype.kind == 'f'
                                      for v in (a, b)):
        grad = elementwise_grad_tol(name, {}, grad_c)
        g = draw_upstream(data, np.broadcast_shapes(np.shape(a), np.shape(b)), want_dtype)
    run(name, [a, b], {}, fwd, grad, g)


COMPARISONS = ['equal', 'not_equal', 'greater', 'greater_equal', 'less', 'less_equal',
               'logical_and', 'logical_or']


@case(*COMPARISONS)
def check_comparison(name, data):
    """Exact: a comparison of the same two numbers. Values from a small set so
    that ties are frequent."""
    dtype = data.draw(st.sampled_from([np.float32, np.int32, np.bool_]))
    sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                         max_side=4)).input_shapes
    elements = st.booleans() if dtype == np.bool_ else st.integers(-2, 2)
    a = data.draw(hnp.arrays(dtype, sa, elements=elements))
    b = data.draw(hnp.arrays(dtype, sb, elements=elements))
    if data.draw(st.booleans()):
        b = 1 if dtype != np.bool_ else True
    run(name, [a, b], {}, exact)


@case('logical_not', 'sign')
def check_piecewise_unary(name, data):
    dtype = data.draw(st.sampled_from([np.float32, np.int32] +
                                      ([np.bool_] if name == 'logical_not' else [])))
    x = draw_array(data, data.draw(shapes()), dtype, -3, 3,
                   st.integers(-3, 3) if dtype == np.int32 else None)
    run(name, [x], {}, exact)


@case('round')
def check_round(name, data):
    """Exact: halves are drawn often, and go to the even neighbour on both sides."""
    shape = data.draw(shapes())
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.one_of(
        st.integers(-40, 40).map(lambda k: k / 4.0), finite(-100.0, 100.0))))
    run(name, [x], {}, exact)


# --- elementwise: unary ---------------------------------------------------------

UNARY = {
    # name: (domain, forward tolerance, gradient ulps)
    'negative': ((-4, 4), exact, 0),
    'abs': ((-4, 4), exact, 0),
    'square': ((-4, 4), exact, 0),          # g * 2 * x: exact products
    'sqrt': ((-4, 16), exact, 0),           # correctly rounded on both sides; 0 below 0
    'exp': ((-10, 10), ulps(6), 0),         # expf: CUDA 2 ulp, NumPy <= 4; grad g * out
    'log': ((2 ** -6, 100), ulps(6), 0),      # logf: CUDA 1 ulp, NumPy <= 4; grad g / x
    'sin': ((-10, 10), ulps(6), 7),         # sinf/cosf: CUDA 2 ulp, NumPy <= 4 (+1 product)
    'cos': ((-10, 10), ulps(6), 7),
    'tanh': ((-6, 6), ulps(6), 3),          # grad g * (1 - out * out): a fusable product-sum
    'sigmoid': ((-20, 20), ulps(12), 0),    # exp (6) + 1 + z, division (2 each side)
    'softplus': ((-20, 20), ulps(12), 13),  # max(x,0) + log1p(exp(-|x|)); grad g * sigmoid
    'softsign': ((-4, 4), ulps(2), 0),      # x / (1 + |x|): same two roundings
    'hard_sigmoid': ((-4, 4), None, 0),     # 0.2 * x + 0.5: the GPU may fuse it (see below)
}


def _tanh_like_tol(name):
    def tol(i, g, out, inputs):
        # g * (1 - out*out): the product-sum may be fused (one rounding instead
        # of two): error <= eps * |g| * (1 + out^2) + 2 eps |result|.
        eps = eps_of(out.dtype)
        g64, o64 = np.abs(g.astype(np.float64)), out.astype(np.float64)
        return eps * g64 * (1 + o64 * o64) + 2 * eps * np.abs(g64 * (1 - o64 * o64))
    return tol


@case(*UNARY)
def check_unary(name, data):
    domain, fwd, grad_c = UNARY[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x = draw_array(data, data.draw(shapes()), dtype, *domain)
    if name == 'hard_sigmoid':
        # 0.2 * x + 0.5 rounded once (fused) or twice: <= eps * (|0.2 x| + |result|).
        eps = eps_of(dtype)
        product = np.abs(0.2 * x.astype(np.float64))
        fwd = lambda want: eps * (product + np.abs(want) + TINY)  # noqa: E731
    if data.draw(st.booleans()) and x.ndim == 0:
        x = float(x)  # a Python scalar input
    grad = _tanh_like_tol(name) if name == 'tanh' else elementwise_grad_tol(name, {}, grad_c)
    g = draw_upstream(data, np.shape(x), np.asarray(REGISTRY[name].forward(x)).dtype)
    run(name, [x], {}, fwd, grad, g)


@case('relu')
def check_relu(name, data):
    """Exact: selections and alpha * (x - threshold), the same two roundings."""
    x = draw_array(data, data.draw(shapes()), np.float32, -4, 4)
    attrs = data.draw(st.fixed_dictionaries({
        'alpha': st.sampled_from([0.0, 0.0, 0.1, 0.3]),
        'max_value': st.sampled_from([None, None, 1.0, 2.5, 6.0]),
        'threshold': st.sampled_from([0.0, 0.0, 0.5, -1.0])}))
    g = draw_upstream(data, x.shape, np.float32)
    run(name, [x], attrs, exact, elementwise_grad_tol(name, attrs, 0), g)


@case('elu')
def check_elu(name, data):
    """alpha * expm1(x): expm1f CUDA 1 ulp, NumPy 1-4 ulp, then a product."""
    x = draw_array(data, data.draw(shapes()), np.float32, -6, 4)
    attrs = {'alpha': data.draw(st.sampled_from([1.0, 0.5, 2.0]))}
    g = draw_upstream(data, x.shape, np.float32)
    run(name, [x], attrs, ulps(6), elementwise_grad_tol(name, attrs, 0), g)


@case('clip')
def check_clip(name, data):
    x = draw_array(data, data.draw(shapes()), np.float32, -4, 4)
    lo = data.draw(st.sampled_from([None, -1.0, 0.0, -0.5]))
    hi = data.draw(st.sampled_from([None, 1.0, 2.0, 0.5] if lo is not None else [1.0, 2.0]))
    attrs = {'min_value': lo, 'max_value': hi}
    g = draw_upstream(data, x.shape, np.float32)
    run(name, [x], attrs, exact, elementwise_grad_tol(name, attrs, 0), g)


@case('where')
def check_where(name, data):
    """Exact selection; gradients summed back over broadcast axes."""
    sc, sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                             max_side=3)).input_shapes
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a = draw_array(data, sa)
    b = draw_array(data, sb) if data.draw(st.booleans()) else 0.0
    g = draw_upstream(data, np.broadcast_shapes(sc, sa, np.shape(b)), np.float32)
    run(name, [cond, a, b], {}, exact, elementwise_grad_tol(name, {}, 0), g)


@case('cast')
def check_cast(name, data):
    """Exact: float to float rounds once, float to int truncates, ints convert exactly."""
    src = data.draw(st.sampled_from([np.float32, np.float64, np.int32, np.bool_]))
    dst = data.draw(st.sampled_from(['float32', 'float64', 'int32', 'int64', 'bool']))
    x = draw_array(data, data.draw(shapes()), src, -100, 100)
    g = None
    if np.dtype(dst).kind == 'f':
        g = draw_upstream(data, x.shape, np.dtype(dst))
    run(name, [x], {'dtype': dst}, exact, (lambda *a: 0.0) if g is not None else None, g)


@case('stop_gradient')
def check_stop_gradient(name, data):
    x = draw_array(data, data.draw(shapes()))
    run(name, [x], {}, exact)


# --- reductions -------------------------------------------------------------------

def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        return tuple(sorted(a % ndim for a in axis))
    return (axis % ndim,)


def _terms(x, axis):
    return int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)], dtype=np.int64))


def _sum_abs(x, axis, keepdims):
    return np.sum(np.abs(x.astype(np.float64)), axis=axis, keepdims=keepdims)


@st.composite
def reduction_input(draw, dtype=np.float32, low=-4.0, high=4.0, max_side=5, unique=False):
    shape = draw(shapes(min_dims=0, max_dims=3, max_side=max_side))
    elements = finite(low, high, dtype)
    x = draw(hnp.arrays(dtype, shape, elements=elements, unique=unique))
    axis = draw(strategies.axis_argument(x.ndim))
    keepdims = draw(st.booleans())
    return x, axis, keepdims


@case('sum')
def check_sum(name, data):
    """K-term sums in two orders: (K - 1) eps sum|x|. The gradient is a broadcast: exact."""
    dtype = data.draw(st.sampled_from([np.float32, np.float32, np.float64, np.int32]))
    x, axis, keepdims = data.draw(reduction_input(np.float64 if dtype == np.int32 else dtype))
    if dtype == np.int32:
        x = (x * 4).astype(np.int32)
    attrs = {'axis': axis, 'keepdims': keepdims}
    K = _terms(x, axis)
    tol = lambda want: max(K - 1, 0) * eps_of(want.dtype) * _sum_abs(x, axis, keepdims)  # noqa
    g = draw_upstream(data, np.shape(np.sum(x, axis=axis, keepdims=keepdims)), np.float32) \
        if dtype != np.int32 else None
    run(name, [x], attrs, tol, (lambda *a: 0.0) if g is not None else None, g)


@case('mean')
def check_mean(name, data):
    """The sum's bound divided by the count, plus one rounding of the division.
    The gradient g / count is one correctly rounded division: exact."""
    x, axis, keepdims = data.draw(reduction_input(np.float32))
    attrs = {'axis': axis, 'keepdims': keepdims}
    K = _terms(x, axis)
    tol = lambda want: (max(K - 1, 0) * eps_of(want.dtype) * _sum_abs(x, axis, keepdims)  # noqa
                        / max(K, 1) + eps_of(want.dtype) * np.abs(want))
    g = draw_upstream(data, np.shape(np.mean(x, axis=axis, keepdims=keepdims)), np.float32)
    run(name, [x], attrs, tol, lambda *a: 0.0, g)


@case('max', 'min')
def check_extremum(name, data):
    """Exact: a selection. Gradient: g / (number of ties), one correctly rounded
    division, exact. Values from a coarse grid so that ties happen."""
    shape = data.draw(shapes(max_side=5))
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.integers(-3, 3).map(float)))
    axis = data.draw(strategies.axis_argument(x.ndim))
    keepdims = data.draw(st.booleans())
    attrs = {'axis': axis, 'keepdims': keepdims}
    g = draw_upstream(data, np.shape(np.max(x, axis=axis, keepdims=keepdims)), np.float32)
    run(name, [x], attrs, exact, lambda *a: 0.0, g)


@case('prod')
def check_prod(name, data):
    """A product of K factors has relative error <= (K - 1) eps/2 on each side, so
    the two differ by <= K eps |p|. The gradient multiplies the other K - 1 factors
    (and g) on both sides: the same bound relative to |g| * |others|."""
    x, axis, keepdims = data.draw(reduction_input(np.float32, 0.5, 2.0))
    x = np.where(data.draw(hnp.arrays(np.bool_, x.shape)), -x, x).astype(np.float32)
    if x.size and data.draw(st.booleans()):
        x.reshape(-1)[data.draw(st.integers(0, x.size - 1))] = 0.0  # a zero factor
    attrs = {'axis': axis, 'keepdims': keepdims}
    K = _terms(x, axis)
    eps = eps_of(np.float32)
    fwd = lambda want: (K + 1) * eps * np.abs(want.astype(np.float64)) + TINY  # noqa
    g = draw_upstream(data, np.shape(np.prod(x, axis=axis, keepdims=keepdims)), np.float32)

    def grad_tol(i, g, out, inputs):
        with np.errstate(all='ignore'):
            others = REGISTRY['prod'].grad(np.abs(g).astype(np.float64), None,
                                           np.abs(x).astype(np.float64), **attrs)[0]
        return (2 * K + 1) * eps * others + TINY
    run(name, [x], attrs, fwd, grad_tol, g)


@case('logsumexp')
def check_logsumexp(name, data):
    """out = log(S) + max with S = sum(exp(x - max)) in [1, K]: S carries the K-term
    sum bound plus exp's ulps (K + 6) eps relatively, log turns that into an
    absolute error, log's own ulps add 6 eps |log S| <= 6 eps K, and the final
    addition one rounding: (2K + 8) eps + 2 eps |out|. Gradient g * exp(x - out):
    exp's ulps plus one product, 7 ulps."""
    x, axis, keepdims = data.draw(reduction_input(np.float32, -8, 8))
    attrs = {'axis': axis, 'keepdims': keepdims}
    K = _terms(x, axis)
    eps = eps_of(np.float32)
    fwd = lambda want: (2 * K + 8) * eps + 2 * eps * np.abs(want.astype(np.float64))  # noqa
    g = draw_upstream(data, np.shape(REGISTRY['logsumexp'].forward(x, **attrs)), np.float32)

    def grad_tol(i, g, out, inputs):
        want = REGISTRY['logsumexp'].grad(g, out, x, **attrs)[0]
        return 7 * eps * np.abs(want.astype(np.float64)) + TINY
    run(name, [x], attrs, fwd, grad_tol, g)


@case('all', 'any')
def check_logical_reduction(name, data):
    shape = data.draw(shapes(max_side=5))
    dtype = data.draw(st.sampled_from([np.bool_, np.float32]))
    x = data.draw(hnp.arrays(dtype, shape, elements=st.booleans() if dtype == np.bool_
                             else st.sampled_from([0.0, 1.0, -2.5])))
    attrs = {'axis': data.draw(strategies.axis_argument(x.ndim)), 'keepdims': data.draw(st.booleans())}
    run(name, [x], attrs, exact)


@case('argmax', 'argmin')
def check_arg_extremum(name, data):
    """Exact, ties to the first index (coarse values make ties frequent)."""
    shape = data.draw(shapes(min_dims=1, max_side=5))
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.integers(-2, 2).map(float)))
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    run(name, [x], {'axis': axis}, exact)


@case('cumsum')
def check_cumsum(name, data):
    """Prefix k is a (k+1)-term sum: bound k eps sum_{j<=k}|x_j| (both forward and
    gradient, a reversed cumulative sum of g)."""
    shape = data.draw(shapes(min_dims=1, max_side=5))
    x = draw_array(data, shape)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    eps = eps_of(np.float32)
    n = x.shape[axis]
    index = np.arange(n).reshape([-1 if d == axis % x.ndim else 1 for d in range(x.ndim)])
    fwd = lambda want: eps * index * np.cumsum(np.abs(x.astype(np.float64)), axis=axis)  # noqa
    g = draw_upstream(data, x.shape, np.float32)

    def grad_tol(i, g, out, inputs):
        rev = np.flip(np.cumsum(np.flip(np.abs(g.astype(np.float64)), axis), axis=axis), axis)
        return eps * np.flip(index, axis) * rev
    run(name, [x], {'axis': axis}, fwd, grad_tol, g)


@case('cumprod')
def check_cumprod(name, data):
    """Prefix k is a product of k + 1 factors: each side within k eps/2 relatively,
    so they differ by <= (n + 1) eps |out| for a lane of n. The gradient sums n
    terms, each a product of up to n factors and g: (2n + 1) eps times the same
    rule run on |g| and |x| in float64 (the magnitudes of those terms). Exact
    zeros are drawn on purpose (neither side may divide by x)."""
    shape = data.draw(shapes(min_dims=1, max_side=5))
    x = draw_array(data, shape, np.float32, 0.5, 2.0)
    x = np.where(data.draw(hnp.arrays(np.bool_, shape)), -x, x).astype(np.float32)
    if data.draw(st.booleans()):
        x.reshape(-1)[data.draw(st.integers(0, x.size - 1))] = 0.0
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    n = x.size if axis is None else x.shape[axis]
    eps = eps_of(np.float32)
    fwd = lambda want: (n + 1) * eps * np.abs(want.astype(np.float64)) + TINY  # noqa: E731
    g = draw_upstream(data, np.shape(np.cumprod(x, axis=axis)), np.float32)

    def grad_tol(i, g, out, inputs):
        magnitudes = REGISTRY['cumprod'].grad(np.abs(g).astype(np.float64), None,
                                              np.abs(x).astype(np.float64), axis=axis)[0]
        return (2 * n + 1) * eps * magnitudes + TINY
    run(name, [x], {'axis': axis}, fwd, grad_tol, g)


@case('ctc_loss')
def check_ctc_loss(name, data):
    """Both sides run the same float64 recursions (logaddexp from exp and log1p,
    within a few float64 ulps of each other, over at most T * S steps) and round
    the result to float32 once: within one float32 rounding of each other
    (eps |value|), plus a float64 margin far below it. Labels that do not fit
    their time steps give inf (and a zero gradient) on both sides."""
    batch, classes = data.draw(st.integers(1, 3)), data.draw(st.integers(2, 5))
    steps, max_labels = data.draw(st.integers(1, 6)), data.draw(st.integers(0, 3))
    labels = data.draw(hnp.arrays(np.int32, (batch, max_labels),
                                  elements=st.integers(0, classes - 2)))
    label_length = data.draw(hnp.arrays(np.int32, (batch,), elements=st.integers(0, max_labels)))
    input_length = data.draw(hnp.arrays(np.int32, (batch,), elements=st.integers(0, steps)))
    logits = draw_array(data, (batch, steps, classes), np.float32, -4, 4)
    log_probs = (logits - np.log(np.exp(logits.astype(np.float64)).sum(-1, keepdims=True))
                 ).astype(np.float32)
    eps = eps_of(np.float32)
    close = lambda want: eps * np.abs(want.astype(np.float64)) + 1e-12  # noqa: E731
    g = draw_upstream(data, (batch,), np.float32)
    run(name, [log_probs, labels, input_length, label_length], {}, close,
        lambda i, g, out, inputs: eps * np.abs(REGISTRY[name].grad(
            g.astype(np.float64), out.astype(np.float64), log_probs.astype(np.float64),
            labels, input_length, label_length)[0]) + 1e-12, g)


# --- softmax --------------------------------------------------------------------

@case('softmax')
def check_softmax(name, data):
    """y_i = e_i / S: e_i within exp's ulps (6), S a K-term positive sum of such
    values ((K - 1) + 6 ulps relative), one division: (K + 14) eps |y|.
    Gradient y * (g - D), D = sum_j g_j y_j: D's K-term bound (K + 1) eps sum|g y|
    plus the subtraction's and product's roundings."""
    x = draw_array(data, data.draw(shapes(min_dims=1, max_side=5)), np.float32, -8, 8)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    K = x.shape[axis]
    eps = eps_of(np.float32)
    fwd = lambda want: (K + 14) * eps * np.abs(want) + TINY  # noqa
    g = draw_upstream(data, x.shape, np.float32)

    def grad_tol(i, g, out, inputs):
        y, g64 = out.astype(np.float64), g.astype(np.float64)
        dot = np.sum(np.abs(g64 * y), axis=axis, keepdims=True)
        d = np.sum(g64 * y, axis=axis, keepdims=True)
        return eps * np.abs(y) * ((K + 1) * dot + 2 * np.abs(g64 - d)) + TINY
    run(name, [x], {'axis': axis}, fwd, grad_tol, g)


# --- matrix product -----------------------------------------------------------

@st.composite
def matmul_operands(draw):
    # Sizes from 1 to 9 divide no tile (128 x 128 x 8): every block is a partial
    # one; K up to 19 spans three contraction steps.
    m, k, n = draw(st.integers(1, 9)), draw(st.integers(1, 19)), draw(st.integers(1, 9))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                    max_side=3)).input_shapes
    a = draw(hnp.arrays(np.float32, ba + (m, k), elements=finite(-2, 2)))
    b = draw(hnp.arrays(np.float32, bb + (k, n), elements=finite(-2, 2)))
    return a, b


def matmul_tolerances(a, b):
    """K eps (|A| @ |B|) forward; for the gradients, the reference rule applied to
    |g|, |A|, |B| in float64 gives sum|terms| (the rule is bilinear), and the number
    of terms per element is the contraction length times the batch folding."""
    eps = eps_of(np.float32)
    K = a.shape[-1]
    fwd = lambda want: K * eps * np.matmul(np.abs(a.astype(np.float64)),  # noqa
                                           np.abs(b.astype(np.float64)))

    def grad_tol(i, g, out, inputs):
        mags = REGISTRY['matmul'].grad(np.abs(g.astype(np.float64)), None,
                                       np.abs(a.astype(np.float64)),
                                       np.abs(b.astype(np.float64)), needs=(True, True))
        x = inputs[i]
        terms = g.size * (a.shape[-1] if i == 0 else b.shape[-2]) // max(x.size, 1)
        return terms * eps * mags[i]
    return fwd, grad_tol


# Sizes 1-9 with the simulator's 8 x 8 tiles (128 x 128 on a GPU) give partial
# and multiple tiles; K up to 19 spans up to three contraction steps of 8.
@case('matmul')
def check_matmul(name, data):
    a, b = data.draw(matmul_operands())
    fwd, grad_tol = matmul_tolerances(a, b)
    g = draw_upstream(data, np.matmul(a, b).shape, np.float32)
    run(name, [a, b], {}, fwd, grad_tol, g)


# --- convolution and pooling ---------------------------------------------------------

@st.composite
def window_geometry(draw, dilation=True):
    """One or two spatial axes; per axis a kernel of 1-3 taps, stride 1-2, dilation
    1-2 and padding 0-2 on each side, and an input just large enough or a little
    larger."""
    rank = draw(st.integers(1, 2))
    ksize, strides, dil, pads, sizes = [], [], [], [], []
    for _ in range(rank):
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        d = draw(st.integers(1, 2)) if dilation else 1
        a, b = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        if not dilation:  # pooling windows never lie wholly in the padding
            a, b = min(a, k - 1), min(b, k - 1)
        span = d * (k - 1) + 1
        n = draw(st.integers(max(1, span - a - b), max(1, span - a - b) + 3))
        ksize.append(k), strides.append(s), dil.append(d), pads.append((a, b)), sizes.append(n)
    return tuple(ksize), tuple(strides), tuple(dil), tuple(pads), tuple(sizes)


def _abs64(*xs):
    return [np.abs(x.astype(np.float64)) for x in xs]


@case('conv', 'conv_transpose')
def check_conv(name, data):
    """Bilinear: the reference run in float64 on |x|, |kernel|, |g| gives sum|terms|,
    and each result element sums at most K products: forward of conv taps * C/groups,
    input gradient taps * F/groups (a product over F/groups per window element,
    then up to taps windows), kernel gradient batch * positions. conv_transpose
    swaps the forward and the input gradient."""
    ksize, strides, dil, pads, sizes = data.draw(window_geometry())
    groups = data.draw(st.sampled_from([1, 1, 2]))
    cg, fg, batch = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), \
        data.draw(st.integers(1, 2))
    taps = int(np.prod(ksize))
    conv_attrs = {'strides': strides, 'dilation': dil, 'padding': pads, 'groups': groups}
    y = draw_array(data, (batch,) + sizes + (cg * groups,), np.float32, -2, 2)
    kernel = draw_array(data, ksize + (cg, fg * groups), np.float32, -2, 2)
    y_out = REGISTRY['conv'].forward(y, kernel, **conv_attrs)
    positions = batch * int(np.prod(y_out.shape[1:-1]))
    eps = eps_of(np.float32)
    if name == 'conv':
        x, attrs = y, conv_attrs
        k_fwd, k_in = taps * cg, taps * fg
    else:
        x = draw_array(data, y_out.shape, np.float32, -2, 2)
        attrs = dict(conv_attrs, output_size=sizes)
        k_fwd, k_in = taps * fg, taps * cg
    fwd = lambda want: k_fwd * eps * REGISTRY[name].forward(*_abs64(x, kernel), **attrs)  # noqa
    want_shape = REGISTRY[name].forward(x, kernel, **attrs).shape
    g = draw_upstream(data, want_shape, np.float32)

    def grad_tol(i, g, out, inputs):
        mags = REGISTRY[name].grad(np.abs(g.astype(np.float64)), None, *_abs64(x, kernel),
                                   needs=(True, True), **attrs)
        return (k_in if i == 0 else positions) * eps * mags[i]
    run(name, [x, kernel], attrs, fwd, grad_tol, g)


@case('max_pool', 'avg_pool')
def check_pool(name, data):
    """max_pool: a selection, and the gradient adds to each input the upstream
    values of the windows it wins, taps in order on both sides: exact. avg_pool: a
    sum of at most `taps` terms and a division, taps * eps * mean|x| + eps |out|;
    its gradient adds g / count tap by tap on both sides: exact."""
    ksize, strides, _, pads, sizes = data.draw(window_geometry(dilation=False))
    batch, channels = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    x = data.draw(hnp.arrays(np.float32, (batch,) + sizes + (channels,),
                             elements=st.integers(-3, 3).map(float) if name == 'max_pool'
                             else finite(-4, 4)))
    attrs = {'pool_size': ksize, 'strides': strides, 'padding': pads}
    taps = int(np.prod(ksize))
    eps = eps_of(np.float32)
    if name == 'max_pool':
        fwd = exact
    else:
        fwd = lambda want: (taps * eps * REGISTRY[name].forward(*_abs64(x), **attrs)  # noqa
                            + eps * np.abs(want))
    g = draw_upstream(data, REGISTRY[name].forward(x, **attrs).shape, np.float32)
    run(name, [x], attrs, fwd, lambda *a: 0.0, g)


# --- recurrent ---------------------------------------------------------------------------

LSTM_ACTIVATIONS = ['linear', 'tanh', 'sigmoid', 'hard_sigmoid', 'softsign', 'softplus',
                    'relu', 'elu']


def _activation64(name, x):
    return x if name == 'linear' else REGISTRY[name].forward(x)


@case('lstm_gates')
def check_lstm_gates(name, data):
    """z = (x_part + h_part) + bias is computed identically on both sides. Every
    activation value is then within A = 12 ulps (the sigmoid/softplus bound of the
    unary cases; tanh and the rest are tighter), and every derivative (its
    magnitude at most 1) within 2A eps absolutely. Forward: c = f c_prev + i cand
    is within (2A + 2) eps (|f c_prev| + |i cand|) (factor errors, the products'
    and the sum's roundings, which the GPU may fuse); h = o act(c) adds
    |o| (A eps |act c| + err_c) + (A + 1) eps |h|. Gradients: each result is a
    product of up to four computed factors, within C = (4A + 6) eps of the product
    of their magnitudes (derivatives counted as 1); the bias's sums B of them over
    the batch: (C + B - 1) eps."""
    batch, units = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5))
    x_part = draw_array(data, (4, batch, units), np.float32, -2, 2)
    c_prev = draw_array(data, (batch, units), np.float32, -2, 2)
    split = list(inspect.signature(REGISTRY[name].forward).parameters)[0] != 'z'
    if split:   # the (x_part, h_part, bias, c_prev) form
        h_part = draw_array(data, (4, batch, units), np.float32, -1, 1)
        bias = draw_array(data, (4, 1, units), np.float32, -1, 1)
    else:       # the (z, c_prev) form
        h_part = np.zeros((), np.float32)
        bias = np.zeros((), np.float32)
    attrs = {'activation': data.draw(st.sampled_from(LSTM_ACTIVATIONS)),
             'recurrent_activation': data.draw(st.sampled_from(LSTM_ACTIVATIONS))}
    A, eps = 12, eps_of(np.float32)
    act = lambda x: _activation64(attrs['activation'], x)  # noqa: E731
    rec = lambda x: _activation64(attrs['recurrent_activation'], x)  # noqa: E731
    z = ((x_part + h_part) + bias).astype(np.float64)   # float32 sums, as both sides
    c64 = c_prev.astype(np.float64)
    i, f, cand, o = rec(z[0]), rec(z[1]), act(z[2]), rec(z[3])
    c = f * c64 + i * cand
    act_c = act(c)
    err_c = (2 * A + 2) * eps * (np.abs(f * c64) + np.abs(i * cand))
    err_h = np.abs(o) * (A * eps * np.abs(act_c) + err_c) + (A + 1) * eps * np.abs(o * act_c)
    fwd = lambda want: np.stack([err_h, err_c])  # noqa: E731
    g = draw_upstream(data, (2, batch, units), np.float32)

    def grad_tol(k, g, out, inputs):
        g_h, g_c = np.abs(g[0].astype(np.float64)), np.abs(g[1].astype(np.float64))
        m_c = g_c + g_h * np.abs(o)
        C = (4 * A + 6) * eps
        if k == len(inputs) - 1:
            return C * m_c * np.abs(f)
        full = np.stack([m_c * np.abs(cand), m_c * np.abs(c64), m_c * np.abs(i),
                         g_h * np.abs(act_c)])
        if k == 2:
            return (C + (batch - 1) * eps) * full.sum(axis=1, keepdims=True)
        return C * full
    inputs = [x_part, h_part, bias, c_prev] if split else [x_part, c_prev]
    run(name, inputs, attrs, fwd, grad_tol, g)


# The simulator runs a block's threads as Python threads, timestep after timestep: slow.
@case('lstm_sequence', examples=12)
def check_lstm_sequence(name, data):
    """A recurrence carries rounding errors from timestep to timestep, so the
    tolerance is a running error bound (`spec_tests/lstm_bounds.py`): the LSTM's
    equations evaluated in float64 on values with error bounds, forward and
    backward, in the operations' own structure (sums of K terms within
    K eps of their terms' magnitudes, activations within 12 ulps...); each side
    is within the bound of the exact value, so they differ by at most twice it.
    Examples whose pre-activations come within their error of a kink
    (hard_sigmoid, relu) are discarded: there the derivative may jump."""
    time, batch = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    input_dim, units = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5))
    inputs = [draw_array(data, (time, batch, input_dim), np.float32, -1, 1),
              draw_array(data, (batch, units), np.float32, -1, 1),
              draw_array(data, (batch, units), np.float32, -1, 1),
              draw_array(data, (4, input_dim, units), np.float32, -1, 1),
              draw_array(data, (4, units, units), np.float32, -0.5, 0.5),
              draw_array(data, (4, 1, units), np.float32, -1, 1)]
    for shape in ((4, batch, input_dim), (4, batch, units)):
        inputs.append(data.draw(st.one_of(st.none(), hnp.arrays(
            np.float32, shape, elements=st.sampled_from([0.0, 1.25])))))
    attrs = {'activation': data.draw(st.sampled_from(LSTM_ACTIVATIONS)),
             'recurrent_activation': data.draw(st.sampled_from(LSTM_ACTIVATIONS))}
    names = (attrs['activation'], attrs['recurrent_activation'])
    out, zs = lstm_bounds.forward(*inputs, **attrs)
    g = draw_upstream(data, out.v.shape, np.float32)
    want = REGISTRY[name].forward(*inputs, **attrs)
    grads, zs_back = lstm_bounds.backward(g, want, *inputs, **attrs)
    for z in zs + zs_back:
        assume(lstm_bounds.kinks_respected(names[1], z) and
               lstm_bounds.kinks_respected(names[0], z[2]))
    run(name, inputs, attrs, lambda want: 2 * out.e, lambda i, *a: 2 * grads[i].e, g)


# Candidate activations without a kink: the two sides may round the candidate's
# pre-activation differently, and a kink there would flip its derivative.
GRU_CANDIDATE_ACTIVATIONS = ['linear', 'tanh', 'sigmoid', 'softsign', 'softplus', 'elu']


@case('gru_gates')
def check_gru_gates(name, data):
    """The gates' pre-activations x + h are one float32 sum, the same on both
    sides, so z and r are within A = 12 ulps (the unary cases' bound; kinked
    recurrent activations are safe), derivatives (magnitude <= 1) within
    D = 2A eps absolutely. The candidate's pre-activation p = x2 + r h2 is
    within e_p = (A + 2) eps (|x2| + |r h2|) (r's error, the product's and the
    sum's roundings), the candidate within e_c = A eps |cand| + e_p (slope <= 1)
    and its derivative within 2A eps + 2 e_p (|act''| <= 2, softsign's at 0).
    The output z h_prev + (1 - z) cand then carries e_z (|h_prev| + |cand|) +
    |1 - z| e_c plus four roundings. Each gradient is the product of the factors
    of the rule; its error is the sum over factors of (the factor's error times
    the other factors' magnitudes), plus one rounding per product."""
    batch, units = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5))
    x_part = draw_array(data, (3, batch, units), np.float32, -2, 2)
    h_part = draw_array(data, (3, batch, units), np.float32, -2, 2)
    h_prev = draw_array(data, (batch, units), np.float32, -2, 2)
    attrs = {'activation': data.draw(st.sampled_from(GRU_CANDIDATE_ACTIVATIONS)),
             'recurrent_activation': data.draw(st.sampled_from(LSTM_ACTIVATIONS))}
    A, eps = 12, eps_of(np.float32)
    D = 2 * A * eps
    act = lambda x: _activation64(attrs['activation'], x)  # noqa: E731
    rec = lambda x: _activation64(attrs['recurrent_activation'], x)  # noqa: E731
    x64, h64, hp = (v.astype(np.float64) for v in (x_part, h_part, h_prev))
    z = rec((x_part[0] + h_part[0]).astype(np.float64))
    r = rec((x_part[1] + h_part[1]).astype(np.float64))
    cand = act(x64[2] + r * h64[2])
    e_z, e_r = A * eps * np.abs(z), A * eps * np.abs(r)
    e_p = (A + 2) * eps * (np.abs(x64[2]) + np.abs(r * h64[2]))
    e_c = A * eps * np.abs(cand) + e_p
    e_dact = D + 2 * e_p
    one_minus_z = np.abs(1 - z)
    err_out = e_z * (np.abs(hp) + np.abs(cand)) + one_minus_z * e_c + \
        4 * eps * (np.abs(z * hp) + one_minus_z * np.abs(cand))
    g = draw_upstream(data, (batch, units), np.float32)

    def grad_tol(k, g, out, inputs):
        g = np.abs(g.astype(np.float64))
        diff = np.abs(hp - cand)
        e_gz = g * (e_c + diff * (D + 3 * eps))
        m_gc = g * one_minus_z                          # |g_pre_candidate|, |act'| <= 1
        e_gc = g * (e_z + one_minus_z * (e_dact + 3 * eps))
        e_gr = e_gc * np.abs(h64[2]) + m_gc * np.abs(h64[2]) * (D + 2 * eps)
        if k == 2:
            return g * (e_z + eps)
        third = e_gc if k == 0 else e_gc * np.abs(r) + m_gc * (e_r + eps)
        return np.stack([e_gz, e_gr, third])
    run(name, [x_part, h_part, h_prev], attrs, lambda want: err_out, grad_tol, g)


# --- shape and indexing: exact ------------------------------------------------------

@case('reshape')
def check_reshape(name, data):
    x = draw_array(data, data.draw(shapes(max_side=4)))
    sizes = [d for d in x.shape if d != 1]
    target = list(data.draw(st.permutations(sizes))) if sizes else []
    if data.draw(st.booleans()):
        target.insert(data.draw(st.integers(0, len(target))), 1)
    if target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    g = draw_upstream(data, np.reshape(x, target).shape, np.float32)
    run(name, [x], {'shape': tuple(target)}, exact, lambda *a: 0.0, g)


@case('transpose')
def check_transpose(name, data):
    x = draw_array(data, data.draw(shapes(max_dims=4)))
    axes = data.draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)))
    g = draw_upstream(data, np.transpose(x, axes).shape, np.float32)
    run(name, [x], {'axes': axes}, exact, lambda *a: 0.0, g)


@case('concatenate')
def check_concatenate(name, data):
    base = list(data.draw(shapes(min_dims=1)))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 3))):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 3))
        parts.append(draw_array(data, tuple(shape)))
    g = draw_upstream(data, np.concatenate(parts, axis=axis).shape, np.float32)
    run(name, parts, {'axis': axis}, exact, lambda *a: 0.0, g)


@case('tile')
def check_tile(name, data):
    """Forward exact; the gradient sums prod(reps) terms: (R - 1) eps sum|g|."""
    x = draw_array(data, data.draw(shapes(max_dims=3, max_side=3)))
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=x.ndim, max_size=x.ndim + 1)))
    g = draw_upstream(data, np.tile(x, reps).shape, np.float32)
    R = int(np.prod(reps))
    eps = eps_of(np.float32)

    def grad_tol(i, g, out, inputs):
        return (R - 1) * eps * REGISTRY['tile'].grad(np.abs(g.astype(np.float64)), None, x,
                                                     reps=reps)[0]
    run(name, [x], {'reps': reps}, exact, grad_tol, g)


@case('repeat')
def check_repeat(name, data):
    """Forward exact; the gradient sums `repeats` terms."""
    x = draw_array(data, data.draw(shapes(min_dims=1, max_side=3)))
    repeats = data.draw(st.integers(1, 3))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    attrs = {'repeats': repeats, 'axis': axis}
    g = draw_upstream(data, np.repeat(x, repeats, axis=axis).shape, np.float32)
    eps = eps_of(np.float32)

    def grad_tol(i, g, out, inputs):
        return (repeats - 1) * eps * REGISTRY['repeat'].grad(np.abs(g.astype(np.float64)),
                                                             None, x, **attrs)[0]
    run(name, [x], attrs, exact, grad_tol, g)


@st.composite
def index_key(draw, shape):
    """Basic keys (ints, slices with steps, None, Ellipsis) and advanced ones
    (integer arrays with repeats, boolean masks)."""
    kind = draw(st.sampled_from(['basic', 'basic', 'int_array', 'mask']))
    if kind == 'mask' and shape:
        return draw(hnp.arrays(np.bool_, shape[:draw(st.integers(1, len(shape)))]))
    items = []
    # Every integer array of one key has the same length, so that NumPy can
    # broadcast them together (arrays of lengths 2 and 3 are not a key).
    array_length = draw(st.integers(1, 4))
    for n in shape:
        choice = draw(st.sampled_from(['slice', 'int', 'all', 'array'] if kind == 'int_array'
                                      else ['slice', 'int', 'all']))
        if choice == 'int':
            items.append(draw(st.integers(-n, n - 1)))
        elif choice == 'slice':
            items.append(slice(draw(st.one_of(st.none(), st.integers(-n, n))),
                               draw(st.one_of(st.none(), st.integers(-n, n))),
                               draw(st.sampled_from([None, 1, 2, -1, -2]))))
        elif choice == 'array':
            items.append(draw(hnp.arrays(np.int64, array_length,
                                         elements=st.integers(-n, n - 1))))
        else:
            items.append(slice(None))
    if items and draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if items and draw(st.booleans()):
        cut = draw(st.integers(0, len(items)))
        items = items[:cut] + [Ellipsis]
    return tuple(items)


@case('getitem')
def check_getitem(name, data):
    """Exact. Advanced-index gradients add repeated positions in index order on
    both sides (np.add.at; accel's sorted segments), so they are exact too."""
    x = draw_array(data, data.draw(shapes(max_side=4)))
    key = data.draw(index_key(x.shape))
    g = draw_upstream(data, x[key].shape, np.float32)
    run(name, [x], {'key': key}, exact, lambda *a: 0.0, g)


@case('gather')
def check_gather(name, data):
    """Exact: a copy; the gradient adds repeated rows in increasing position order
    on both sides, from zero, so even the rounding is the same."""
    x = draw_array(data, data.draw(shapes(min_dims=1, max_side=4)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    idx_shape = data.draw(shapes(min_dims=0, max_dims=2, max_side=4))
    indices = data.draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1)))
    if data.draw(st.booleans()):
        indices = indices.astype(np.float32)  # the reference truncates float indices
        indices = np.where(indices < 0, indices + n, indices).astype(np.float32)
    g = draw_upstream(data, np.take(x, indices.astype(np.intp), axis=axis).shape, np.float32)
    if data.draw(st.booleans()):
        indices_for_accel = indices  # copied from the host, range-checked there
    else:
        indices_for_accel = arrays.to_device(indices)
    ref, mine = REGISTRY[name], ACCEL[name]
    want = ref.forward(x, indices, axis=axis)
    got = host(mine.forward(arrays.to_device(x), indices_for_accel, axis=axis))
    assert_close(got, want, 0.0, 'gather forward')
    want_gx, want_none = ref.grad(g, want, x, indices, axis=axis)
    got_gx, got_none = mine.grad(arrays.to_device(g), arrays.to_device(want),
                                 arrays.to_device(x), indices_for_accel, axis=axis)
    assert want_none is None and got_none is None
    assert_close(host(got_gx), want_gx, 0.0, 'gather grad')


@case('pad')
def check_pad(name, data):
    x = draw_array(data, data.draw(shapes(min_dims=1, max_side=3)))
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in x.shape)
    attrs = {'pad_width': widths, 'constant': data.draw(st.sampled_from([0.0, -1.5]))}
    g = draw_upstream(data, np.pad(x, widths).shape, np.float32)
    run(name, [x], attrs, exact, lambda *a: 0.0, g)


@case('one_hot')
def check_one_hot(name, data):
    shape = data.draw(shapes(max_side=4))
    classes = data.draw(st.integers(1, 5))
    indices = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-1, classes)))
    run(name, [indices], {'num_classes': classes, 'dtype': 'float32'}, exact)


# --- random draws ---------------------------------------------------------------

def _draw_twice(name, attrs, seed=None):
    """(first, second, first_again): two draws after np.random.seed(s), then the
    first again after seeding with s once more."""
    prim = ACCEL[name]
    np.random.seed(1234)
    first = host(prim.forward(**attrs))
    second = host(prim.forward(**attrs))
    np.random.seed(1234)
    again = host(prim.forward(**attrs))
    return first, second, again


def _check_reproducible(first, second, again):
    np.testing.assert_array_equal(first, again)   # np.random.seed reproduces the draw
    assert not np.array_equal(first, second)      # and the next draw differs


# Each element is a Philox evaluation (ten rounds of 64-bit arithmetic) run as
# Python by the simulator, and a statistical check needs a few thousand draws:
# about a second per example. The statistics are checked at 6 standard errors, so
# a handful of examples tests them as well as many would.
RANDOM_EXAMPLES = 4 if SIMULATOR else None
RANDOM_SIZE = 2000 if SIMULATOR else 200000


@case('random_uniform', examples=RANDOM_EXAMPLES)
def check_random_uniform(name, data):
    lo = data.draw(st.sampled_from([0.0, -1.0, 2.5]))
    hi = lo + data.draw(st.sampled_from([1.0, 0.5, 4.0]))
    dtype = data.draw(st.sampled_from(['float32', 'float64']))
    attrs = {'shape': (RANDOM_SIZE // 40, 40), 'minval': lo, 'maxval': hi, 'dtype': dtype}
    first, second, again = _draw_twice(name, attrs)
    assert first.shape == attrs['shape'] and first.dtype == np.dtype(dtype)
    assert first.min() >= lo and first.max() <= hi
    n, span = first.size, hi - lo
    # mean (lo+hi)/2, variance span^2/12; the fraction below each quartile is 1/4.
    assert abs(first.mean() - (lo + hi) / 2) < 6 * span / math.sqrt(12 * n)
    assert abs(first.var() - span ** 2 / 12) < 6 * span ** 2 * math.sqrt(1 / 180 / n)
    for q in (0.25, 0.5, 0.75):
        assert abs(np.mean(first < lo + q * span) - q) < 6 * math.sqrt(q * (1 - q) / n)
    _check_reproducible(first, second, again)


@case('random_normal', 'truncated_normal', examples=RANDOM_EXAMPLES)
def check_random_normal(name, data):
    mean = data.draw(st.sampled_from([0.0, 1.5, -3.0]))
    std = data.draw(st.sampled_from([1.0, 0.05, 2.0]))
    attrs = {'shape': (RANDOM_SIZE,), 'mean': mean, 'stddev': std, 'dtype': 'float32'}
    first, second, again = _draw_twice(name, attrs)
    assert first.dtype == np.float32 and np.isfinite(first).all()
    z = (first.astype(np.float64) - mean) / std
    n = z.size
    if name == 'truncated_normal':
        assert np.abs(z).max() <= 2 + 1e-5
        var = 0.7737413  # variance of a standard normal truncated to [-2, 2]
        assert abs(z.mean()) < 6 * math.sqrt(var / n)
        assert abs(z.var() - var) < 6 * math.sqrt(0.82 / n)  # Var(z^2) = 0.818
    else:
        assert abs(z.mean()) < 6 / math.sqrt(n)
        assert abs(z.var() - 1) < 6 * math.sqrt(2 / n)
        # Phi(-1) = 0.1587 of a normal lies below mean - std
        assert abs(np.mean(z < -1) - 0.158655) < 6 * math.sqrt(0.16 * 0.84 / n)
    _check_reproducible(first, second, again)


@case('random_binomial', examples=RANDOM_EXAMPLES)
def check_random_binomial(name, data):
    p = data.draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
    attrs = {'shape': (RANDOM_SIZE,), 'p': p, 'dtype': 'float32'}
    first, second, again = _draw_twice(name, attrs)
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert abs(first.mean() - p) <= 6 * math.sqrt(p * (1 - p) / first.size)
    if 0 < p < 1:
        _check_reproducible(first, second, again)
    else:
        np.testing.assert_array_equal(first, again)


def test_an_explicit_seed_gives_its_own_reproducible_stream():
    from refkeras.backend.prims_nn import reset_seeded_generators
    prim = ACCEL['random_uniform']
    reset_seeded_generators()
    a1 = host(prim.forward(shape=(64,), seed=7))
    a2 = host(prim.forward(shape=(64,), seed=7))
    reset_seeded_generators()
    np.random.seed(0)
    b1 = host(prim.forward(shape=(64,), seed=7))
    np.testing.assert_array_equal(a1, b1)   # independent of the global generator
    assert not np.array_equal(a1, a2)       # a seeded stream moves on, as the reference's


# --- optimizer update rules: one fused kernel per rule ------------------------------------
#
# Tolerance. Both sides evaluate the same formula on the same float32 (or float64) inputs,
# each with correctly rounded `+ - * / sqrt`; the GPU may also contract a product and a sum
# into one fused multiply-add (one rounding instead of two). Count, for each output, the
# roundings `n` of its formula written out as a tree (a value used twice, as `u` in Adadelta's
# `u ** 2`, counts its roundings twice). By Higham's rounding-error analysis ("Accuracy and
# Stability of Numerical Algorithms", 3.1-3.4), each side is then within `gamma_n * M` of the
# exact result, `gamma_n = n * u / (1 - n * u)`, `u = eps / 2`, where `M` is the formula with
# every operand replaced by its magnitude and every subtraction by an addition; a division
# by a positive denominator `d` carries its numerator's bound divided by `d`, the relative
# errors of numerator and denominator adding up (`d` is kept as its exact value: the
# denominators here are sums of non-negative terms, or `1 - x` of an exact `x`). Fewer
# roundings (an FMA) only lower the bound. So `|accel - reference| <= 2 * gamma_n * M`,
# below `(n + 1) * eps * M` for these `n <= 24`; `n * TINY` more covers subnormal results.
# `M` is computed here in float64 from the inputs.
#
# `ROUNDINGS` gives `n` per rule: the largest count over the rule's outputs, counted on the
# formulas of `refkeras/backend/prims_updates.py`, e.g. Adam's new `p`:
# `p - lr_t * m' / (sqrt(v') + eps)` with `m' = b1 * m + (1 - b1) * g` (4 roundings) and
# `v' = b2 * v + (1 - b2) * g * g` (5): 1 + 4 for the product, 5 + 1 + 1 for the
# denominator, 1 for the division, 1 for the subtraction, 14 in all.

ROUNDINGS = {'sgd_update': 7, 'rmsprop_update': 10, 'adagrad_update': 7,
             'adadelta_update': 24, 'adam_update': 14, 'amsgrad_update': 14,
             'adamax_update': 9, 'nadam_update': 24}

# name: (signed slots, non-negative slots, scalar ranges, attribute strategies). Rates and
# betas are in [0, 1] as the optimizers use them (so averages of squares stay >= 0); Nadam's
# schedule terms are at most 0.875, so that each `1 - x` it divides by is >= 0.125.
_UNIT = (0.0, 1.0)
_EPSILONS = st.sampled_from([1e-7, 1e-3, 0.1])
UPDATE_RULES = {
    'sgd_update': (1, 0, [_UNIT, _UNIT], {'nesterov': st.booleans()}),
    'rmsprop_update': (0, 1, [_UNIT, _UNIT], {'epsilon': _EPSILONS}),
    'adagrad_update': (0, 1, [_UNIT], {'epsilon': _EPSILONS}),
    'adadelta_update': (0, 2, [_UNIT], {'rho': st.floats(0.0, 1.0), 'epsilon': _EPSILONS}),
    'adam_update': (1, 1, [_UNIT] * 3, {'epsilon': _EPSILONS}),
    'amsgrad_update': (1, 2, [_UNIT] * 3, {'epsilon': _EPSILONS}),
    'adamax_update': (1, 1, [_UNIT] * 3, {'epsilon': _EPSILONS}),
    'nadam_update': (1, 1, [_UNIT] * 5 + [(0.0, 0.875)] * 3, {'epsilon': _EPSILONS}),
}


def _sgd_magnitudes(p, g, m, lr, mu, nesterov=False):
    velocity = mu * m + lr * g
    return (p + mu * velocity + lr * g if nesterov else p + velocity), velocity


def _rmsprop_magnitudes(p, g, a, lr, rho, epsilon=1e-7):
    new_a = rho * a + (1 - rho) * g * g
    return p + lr * g / (np.sqrt(new_a) + epsilon), new_a


def _adagrad_magnitudes(p, g, a, lr, epsilon=1e-7):
    new_a = a + g * g
    return p + lr * g / (np.sqrt(new_a) + epsilon), new_a


def _adadelta_magnitudes(p, g, a, d, lr, rho=0.95, epsilon=1e-7):
    new_a = rho * a + (1 - rho) * g * g
    update = g * np.sqrt(d + epsilon) / np.sqrt(new_a + epsilon)
    return p + lr * update, new_a, rho * d + (1 - rho) * update * update


def _adam_magnitudes(p, g, m, v, lr_t, b1, b2, epsilon=1e-7, vhat=None):
    new_m = b1 * m + (1 - b1) * g
    new_v = b2 * v + (1 - b2) * g * g
    top = new_v if vhat is None else np.maximum(vhat, new_v)
    outs = (p + lr_t * new_m / (np.sqrt(top) + epsilon), new_m, new_v)
    return outs if vhat is None else outs + (top,)


def _amsgrad_magnitudes(p, g, m, v, vhat, lr_t, b1, b2, epsilon=1e-7):
    return _adam_magnitudes(p, g, m, v, lr_t, b1, b2, epsilon, vhat=vhat)


def _adamax_magnitudes(p, g, m, u, lr_t, b1, b2, epsilon=1e-7):
    new_m = b1 * m + (1 - b1) * g
    new_u = np.maximum(b2 * u, g)
    return p + lr_t * new_m / (new_u + epsilon), new_m, new_u


def _nadam_magnitudes(p, g, m, v, lr, b1, b2, mu_t, mu_next, s_new, s_next, b2_power, epsilon=1e-7):
    new_m = b1 * m + (1 - b1) * g
    new_v = b2 * v + (1 - b2) * g * g
    m_bar = (1 - mu_t) * g / (1 - s_new) + mu_next * new_m / (1 - s_next)
    return p + lr * m_bar / (np.sqrt(new_v / (1 - b2_power)) + epsilon), new_m, new_v


UPDATE_MAGNITUDES = {'sgd_update': _sgd_magnitudes, 'rmsprop_update': _rmsprop_magnitudes,
                     'adagrad_update': _adagrad_magnitudes,
                     'adadelta_update': _adadelta_magnitudes, 'adam_update': _adam_magnitudes,
                     'amsgrad_update': _amsgrad_magnitudes, 'adamax_update': _adamax_magnitudes,
                     'nadam_update': _nadam_magnitudes}


@case(*UPDATE_RULES)
def check_update_rule(name, data):
    signed, squares, scalar_ranges, attr_strategies = UPDATE_RULES[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label='dtype')
    shape = data.draw(shapes(max_side=5), label='shape')
    inputs = [draw_array(data, shape, dtype) for _ in range(2 + signed)]
    inputs += [draw_array(data, shape, dtype, 0.0, 4.0) for _ in range(squares)]
    inputs += [draw_array(data, (), dtype, low, high) for low, high in scalar_ranges]
    attrs = {k: data.draw(s, label=k) for k, s in attr_strategies.items()}
    want = REGISTRY[name].forward(*inputs, **attrs)
    got = ACCEL[name].forward(*[to_dev(x) for x in inputs], **attrs)
    assert len(got) == len(want)
    # Magnitudes (float64): every operand by its absolute value, subtractions as additions.
    bounds = UPDATE_MAGNITUDES[name](*[np.abs(np.asarray(x, np.float64)) for x in inputs], **attrs)
    n, eps = ROUNDINGS[name], eps_of(dtype)
    for i, (mine, ref, bound) in enumerate(zip(got, want, bounds)):
        tol = (n + 1) * eps * bound + n * TINY
        assert_close(host(mine), ref, tol, '%s output %d' % (name, i))


def test_an_optimizer_step_launches_one_update_kernel_per_parameter(monkeypatch):
    # With accel as the backend, each parameter's whole update is one launch of its rule's
    # kernel: the launches of a step's update (what `get_updates` runs once it has the
    # gradients) grow by exactly one per parameter (the scalar factors of the step, computed
    # once, are the same however many parameters there are). Nothing is copied to the host.
    import sys

    import refkeras.backend as K
    from refkeras import optimizers
    from accel.kernels import launch as launch_module
    launched = []

    def counting(kernel, *args):
        fn = getattr(kernel, 'py_func', None) or getattr(kernel, 'fn', None)
        launched.append('%s.%s' % (fn.__module__, fn.__name__))
        return real_run(kernel, *args)

    def copied_to_host(x):
        raise AssertionError('an optimizer step copied %r to the host' % (x,))

    real_run = launch_module.run
    patched = [module for name_, module in sorted(sys.modules.items())
               if name_.startswith('accel.kernels') and getattr(module, 'run', None) is real_run]
    for module in patched:
        monkeypatch.setattr(module, 'run', counting)
    configs = {'SGD': dict(momentum=0.9, nesterov=True, decay=0.1), 'RMSprop': {},
               'Adagrad': {}, 'Adadelta': {}, 'Adam': dict(decay=0.1),
               'Adam(amsgrad)': dict(amsgrad=True), 'Adamax': {}, 'Nadam': {}}
    with K.using_backend('numba'):
        for label, kwargs in configs.items():
            counts = []
            for n_params in (1, 3):
                opt = getattr(optimizers, label.split('(')[0])(**kwargs)
                params = [K.variable(np.full((2, 3), 0.5, np.float32)) for _ in range(n_params)]
                grads = [K.backend_array(np.full((2, 3), 0.25, np.float32)) for _ in params]
                opt.build(params)
                del launched[:]
                with monkeypatch.context() as no_copies:
                    no_copies.setattr(arrays, 'to_host', copied_to_host)
                    for variable, value in opt._new_values(params, grads):
                        K.update(variable, value)
                kernels = [k for k in launched if k.startswith('accel.kernels.updates.')]
                assert len(kernels) == n_params, (label, launched)
                counts.append(len(launched))
            assert counts[1] - counts[0] == 2, (label, counts)


def test_update_rules_write_fresh_arrays_and_repeat_bit_for_bit():
    rng = np.random.RandomState(3)
    p, g, m = (rng.uniform(-1, 1, (37, 5)).astype(np.float32) for _ in range(3))
    v = rng.uniform(0, 1, (37, 5)).astype(np.float32)
    scalars = [np.array(x, np.float32) for x in (0.01, 0.9, 0.999)]
    inputs = [to_dev(x) for x in [p, g, m, v] + scalars]
    first = ACCEL['adam_update'].forward(*inputs, epsilon=1e-7)
    again = ACCEL['adam_update'].forward(*inputs, epsilon=1e-7)
    for a, b in zip(first, again):
        assert _bits(a) == _bits(b)
    # Out of place: the inputs keep their values, no output shares an input's buffer.
    for before, after in zip([p, g, m, v], inputs):
        np.testing.assert_array_equal(host(after), before)
    assert not {id(o.data) for o in first} & {id(x.data) for x in inputs}


def test_update_rules_reject_bad_operands_naming_the_primitive_and_shapes():
    p = to_dev(np.ones((2, 3), np.float32))
    rate = to_dev(np.array(0.1, np.float32))
    with pytest.raises(AccelShapeError, match=r"'rmsprop_update'.*g \(3,\).*accumulator \(2, 3\)"):
        ACCEL['rmsprop_update'].forward(p, to_dev(np.ones(3, np.float32)), p, rate, rate)
    with pytest.raises(AccelShapeError, match=r"'sgd_update'.*`momentum` must be a scalar.*\(2,\)"):
        ACCEL['sgd_update'].forward(p, p, p, rate, to_dev(np.ones(2, np.float32)))
    with pytest.raises(AccelDtypeError, match=r"'adagrad_update'.*`g` has dtype int32.*\(2, 3\)"):
        ACCEL['adagrad_update'].forward(p, to_dev(np.ones((2, 3), np.int32)), p, rate)
    with pytest.raises(AccelDtypeError, match=r"'adagrad_update'.*float16.*\(2, 3\)"):
        ACCEL['adagrad_update'].forward(p, np.ones((2, 3), np.float16), p, rate)


# --- the property test over the whole registry -----------------------------------------

@pytest.mark.parametrize('name', sorted(REGISTRY))
def test_accel_matches_the_reference(name):
    if name not in ACCEL:
        pytest.fail('accel has no primitive %r (see spec_tests/accelerator/test_accel_coverage.py)' % name)
    if name not in CASES:
        pytest.fail('no accel-vs-reference case for primitive %r: add one to %s'
                    % (name, os.path.basename(__file__)))
    fn, examples = CASES[name]
    test = given(data=st.data())(lambda data: fn(name, data))
    if examples is not None:
        test = settings(max_examples=min(examples, settings().max_examples))(test)
    test()


# --- edge cases hypothesis rarely reaches ---------------------------------------------

def test_zero_size_arrays():
    x = np.zeros((0, 3), np.float32)
    T = ACCEL
    assert host(T['sum'].forward(to_dev(x), axis=0)).tolist() == [0.0, 0.0, 0.0]
    assert host(T['sum'].forward(to_dev(x), axis=1)).shape == (0,)
    assert host(T['prod'].forward(to_dev(x), axis=0)).tolist() == [1.0, 1.0, 1.0]
    assert host(T['add'].forward(to_dev(x), 1.0)).shape == (0, 3)
    out = host(T['matmul'].forward(to_dev(np.ones((2, 0), np.float32)),
                                   to_dev(np.ones((0, 3), np.float32))))
    np.testing.assert_array_equal(out, np.zeros((2, 3), np.float32))
    cat = host(T['concatenate'].forward(to_dev(x), to_dev(np.ones((2, 3), np.float32)), axis=0))
    np.testing.assert_array_equal(cat, np.ones((2, 3), np.float32))
    with pytest.raises(AccelShapeError, match="'max'"):
        T['max'].forward(to_dev(x), axis=0)


def test_long_reductions_take_the_chunked_path_and_stay_within_bounds():
    """Rows longer than 2 * ROW_CHUNK and columns longer than 2 * COLUMN_CHUNK are
    reduced in chunks, then the chunk results: still a K-term sum."""
    from accel.kernels import reduce
    rng = np.random.RandomState(3)
    eps = eps_of(np.float32)
    for shape, axis in [((2 * reduce.ROW_CHUNK + 37,), 0), ((2 * reduce.COLUMN_CHUNK + 45, 3), 0)]:
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        got = host(ACCEL['sum'].forward(to_dev(x), axis=axis))
        want = np.sum(x, axis=axis)
        bound = (shape[axis] - 1) * eps * np.sum(np.abs(x.astype(np.float64)), axis=axis)
        assert (np.abs(got.astype(np.float64) - want) <= bound).all()


@pytest.mark.parametrize('shape,axes', [((33, 17), (1, 0)), ((2, 20, 18), (0, 2, 1))])
def test_tiled_transpose_is_exact(shape, axes):
    """Shapes at least half a tile wide take the shared-memory transpose."""
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    got = host(ACCEL['transpose'].forward(to_dev(x), axes=axes))
    np.testing.assert_array_equal(got, np.transpose(x, axes))


def test_a_gemm_larger_than_one_tile():
    """M = 130 rows span two 128-row tiles; K = 17 spans three contraction steps."""
    rng = np.random.RandomState(5)
    a = rng.uniform(-1, 1, (130, 17)).astype(np.float32)
    b = rng.uniform(-1, 1, (17, 3)).astype(np.float32)
    got = host(ACCEL['matmul'].forward(to_dev(a), to_dev(b)))
    bound = 17 * eps_of(np.float32) * (np.abs(a.astype(np.float64)) @ np.abs(b))
    assert (np.abs(got - a.astype(np.float64) @ b) <= bound).all()


# --- determinism -------------------------------------------------------------------------

def _bits(x):
    return host(x).tobytes()


def test_reductions_and_gemm_are_bit_identical_run_after_run():
    """Same inputs, same launches: the same bits (fixed reduction order, no atomics)."""
    rng = np.random.RandomState(11)
    x = to_dev(rng.standard_normal((7, 300)).astype(np.float32))
    col = to_dev(rng.standard_normal((600, 3)).astype(np.float32))
    a = to_dev(rng.standard_normal((2, 9, 21)).astype(np.float32))
    b = to_dev(rng.standard_normal((21, 5)).astype(np.float32))
    g = to_dev(rng.standard_normal((2, 9, 5)).astype(np.float32))
    idx = np.array([0, 2, 2, 1, 2, 0])
    emb = to_dev(rng.standard_normal((3, 4)).astype(np.float32))
    gemb = to_dev(rng.standard_normal((6, 4)).astype(np.float32))

    def everything():
        T = ACCEL
        return [
            _bits(T['sum'].forward(x, axis=1)), _bits(T['sum'].forward(x)),
            _bits(T['sum'].forward(col, axis=0)), _bits(T['mean'].forward(x, axis=0)),
            _bits(T['logsumexp'].forward(x, axis=-1)), _bits(T['softmax'].forward(x)),
            _bits(T['matmul'].forward(a, b)),
        ] + [_bits(v) for v in T['matmul'].grad(g, None, a, b, needs=(True, True))] + [
            _bits(T['gather'].grad(gemb, None, emb, idx, axis=0)[0])]
    assert everything() == everything()


# --- bad input ---------------------------------------------------------------------------

def test_unsupported_dtype_names_the_primitive_and_shapes():
    x = np.ones((2, 3), np.float16)
    with pytest.raises(AccelDtypeError, match=r"'exp'.*float16.*\(2, 3\)"):
        ACCEL['exp'].forward(x)


def test_shapes_that_do_not_broadcast_name_the_primitive():
    with pytest.raises(AccelShapeError, match=r"'add'.*\(2, 3\).*\(4,\)"):
        ACCEL['add'].forward(to_dev(np.ones((2, 3), np.float32)),
                             to_dev(np.ones((4,), np.float32)))
    with pytest.raises(AccelShapeError, match=r"'matmul'.*\(2, 3\).*\(4, 5\)"):
        ACCEL['matmul'].forward(to_dev(np.ones((2, 3), np.float32)),
                                to_dev(np.ones((4, 5), np.float32)))


def test_out_of_range_indices_are_index_errors():
    x = to_dev(np.ones((3, 2), np.float32))
    with pytest.raises(AccelIndexError, match="'gather'.*5.*size 3"):
        ACCEL['gather'].forward(x, np.array([0, 5]))
    with pytest.raises(AccelIndexError, match="'gather'"):
        ACCEL['gather'].forward(x, arrays.to_device(np.array([0, -4])))
    with pytest.raises(AccelIndexError, match="'getitem'"):
        ACCEL['getitem'].forward(x, key=(3,))


def test_device_arrays_do_not_convert_to_numpy_silently():
    x = to_dev(np.ones(3, np.float32))
    with pytest.raises(TypeError, match='to_host'):
        np.asarray(x)
    assert float(ACCEL['sum'].forward(x)) == 3.0


def test_python_scalars_are_weak_operands():
    x = to_dev(np.ones(3, np.float32))
    assert ACCEL['multiply'].forward(x, 0.5).dtype == np.float32
    assert ACCEL['add'].forward(2, x).dtype == np.float32
    assert ACCEL['add'].forward(to_dev(np.ones(3, np.int32)), 1.5).dtype == np.float64


# --- fused chains (prims_fused.py: bias + activation, the crossentropies) -----------------

# Forward tolerance of each activation applied to z = x + bias, which both sides compute
# with the same single rounding: the unary cases' bounds (expm1f/expf/tanhf within 5-6 ulps
# on the two sides together, the stable sigmoid within 12, one ulp per side for each
# further product: selu's alpha and scale products make 6 + 4 = 10).
FUSED_FORWARD_ULPS = {'linear': 0, 'relu': 0, 'elu': 6, 'selu': 10, 'sigmoid': 12, 'tanh': 6,
                      'softplus': 12, 'softsign': 2, 'exponential': 6, 'hard_sigmoid': None}


def _bias_activation_tolerances(x, bias, activation, data_format, dtype):
    """Tolerances for `bias_activation`, from float64 magnitudes.

    Forward: `FUSED_FORWARD_ULPS` of |y| (hard_sigmoid: `0.2 z + 0.5`, which the GPU may
    fuse into one rounding, within eps (|0.2 z| + |y|), as the unary case).
    Gradient for x, per element: exact where both sides do the same IEEE operations on the
    same operands (the reference output `y` is given to both): linear, relu, elu (g or
    g (y + 1)), sigmoid (g y (1 - y)), hard_sigmoid (0.2 g), softsign (g / (d d), d = 1 + |z|),
    exponential (g y). tanh: g (1 - y y), whose product-sum may be fused: eps |g| (1 + y^2)
    + 2 eps |result|. softplus: g sigmoid(z): 12 + 1 ulps. selu for z <= 0:
    (g scale)(e + alpha), e = alpha expm1(z) within 7 eps |e| (expm1 5, the product 2), the
    sum and the product one rounding per side: |g scale| (7 eps |e| + 2 eps |e + alpha|)
    + 2 eps |result|. Gradient for the bias: a sum of K = x.size / channels of those terms in
    another order: (K - 1) eps sum|terms| plus the sum of the terms' tolerances.
    """
    from refkeras.backend import prims_fused
    eps = eps_of(dtype)
    axis = prims_fused.channel_axis(x.ndim, data_format)
    shape = [1] * x.ndim
    shape[axis] = -1
    z = (x + bias.reshape(shape)).astype(np.float64)   # the same rounding on both sides
    ulps_fwd = FUSED_FORWARD_ULPS[activation]
    if ulps_fwd is None:
        def fwd(want):
            return eps * (np.abs(0.2 * z) + np.abs(want.astype(np.float64))) + TINY
    else:
        fwd = ulps(ulps_fwd)

    def grad_tol(i, g, out, inputs):
        g64, y = np.abs(g.astype(np.float64)), out.astype(np.float64)
        terms = np.abs(REGISTRY['bias_activation'].grad(
            g.astype(np.float64), y, x.astype(np.float64), bias.astype(np.float64),
            activation=activation, data_format=data_format)[0])
        if activation == 'tanh':
            tol_x = eps * g64 * (1 + y * y) + 2 * eps * terms
        elif activation == 'softplus':
            tol_x = 13 * eps * terms
        elif activation == 'selu':
            alpha, scale = prims_fused.SELU_ALPHA, prims_fused.SELU_SCALE
            e = alpha * np.expm1(np.minimum(z, 0))
            tol_x = np.where(z > 0, 0.0, g64 * scale * (7 * eps * np.abs(e) +
                                                        2 * eps * np.abs(e + alpha))
                             + 2 * eps * terms)
        else:
            tol_x = np.zeros(x.shape)
        tol_x = tol_x + TINY
        if i == 0:
            return tol_x
        others = tuple(a for a in range(x.ndim) if a != axis)
        K = x.size // max(bias.size, 1)
        return (K - 1) * eps * terms.sum(axis=others) + tol_x.sum(axis=others)
    return fwd, grad_tol


@case('bias_activation')
def check_bias_activation(name, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float32, np.float64]))
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=4))
    data_format = data.draw(st.sampled_from(['channels_last', 'channels_first']))
    activation = data.draw(st.sampled_from(sorted(FUSED_FORWARD_ULPS)))
    axis = 1 if data_format == 'channels_first' and len(shape) > 2 else len(shape) - 1
    x = draw_array(data, shape, dtype, -4, 4)
    bias = draw_array(data, (shape[axis],), dtype, -1, 1)
    attrs = {'activation': activation, 'data_format': data_format}
    fwd, grad_tol = _bias_activation_tolerances(x, bias, activation, data_format, dtype)
    g = draw_upstream(data, shape, dtype)
    run(name, [x, bias], attrs, fwd, grad_tol, g)


def _crossentropy_tolerances(target, logits, axis, epsilon):
    """Tolerances for `softmax_crossentropy`, from float64 magnitudes.

    With K classes: the softmax p = e / S within (K + 14) eps p (the softmax case); the
    rescaling sum s = sum p within (K - 1) eps s (summation order) + (K + 14) eps s; q = p / s
    then within delta = (3K + 31) eps q (both errors, a division per side, a spare ulp for
    second-order terms). The clip is 1-Lipschitz and c >= q or c ~ 1, so c is within delta
    c, and log(c) within delta + 6 eps |log c| (logf). Forward, a sum of K products
    t log(c): sum_j |t_j| (delta + (K + 7) eps |log c_j|) (product roundings and the K-term
    summation order included).
    Gradient for the target, -g log(c): |g| (delta + 8 eps |log c|).
    Gradient for the logits, g (q P - m t) with m = 1 where the clip lets q through and
    P = sum m t: |g| (q (delta |P| + (K + 1) eps sum|m t|) + 4 eps |q P - m t|). Where q lies
    within delta q of a clip bound the two sides may disagree on m (the rule is
    discontinuous there): the result may then differ by the jump, |g t_j| at that class
    and |g| q_i |t_j| at every class i of the row.
    """
    eps = eps_of(logits.dtype)
    K = logits.shape[axis]
    delta = (3 * K + 31) * eps
    z = logits.astype(np.float64)
    t = target.astype(np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    q = e / e.sum(axis=axis, keepdims=True)
    cast = logits.dtype.type
    lo, hi = float(cast(epsilon)), float(cast(1.0 - epsilon))
    c = np.clip(q, lo, hi)
    log_c = np.abs(np.log(c))
    fwd_bound = np.sum(np.abs(t) * (delta + (K + 7) * eps * log_c), axis=axis)
    passed = np.where((q >= lo) & (q <= hi), t, 0.0)
    P = passed.sum(axis=axis, keepdims=True)
    sum_abs = np.abs(passed).sum(axis=axis, keepdims=True)
    ambiguous = (np.abs(q - lo) <= delta * q) | (np.abs(q - hi) <= delta * q)
    jumps = np.where(ambiguous, np.abs(t), 0.0)

    def fwd(want):
        return fwd_bound + TINY

    def grad_tol(i, g, out, inputs):
        g64 = np.abs(np.expand_dims(g.astype(np.float64), axis))
        if i == 0:
            return g64 * (delta + 8 * eps * log_c) + TINY
        smooth_part = q * (delta * np.abs(P) + (K + 1) * eps * sum_abs) + \
            4 * eps * np.abs(q * P - passed)
        jump_part = jumps + q * jumps.sum(axis=axis, keepdims=True)
        return g64 * (smooth_part + jump_part) + TINY
    return fwd, grad_tol


@case('softmax_crossentropy')
def check_softmax_crossentropy(name, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float32, np.float64]))
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=5))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rows = tuple(n for d, n in enumerate(shape) if d != axis % len(shape))
    # Logits 24 apart give probabilities far below 1e-7: the clip is often active.
    logits = draw_array(data, shape, dtype, -12, 12)
    if data.draw(st.booleans()):
        target = draw_array(data, shape, dtype, 0, 1)
    else:
        classes = data.draw(hnp.arrays(np.int64, rows, elements=st.integers(0, shape[axis] - 1)))
        target = np.moveaxis(np.eye(shape[axis], dtype=dtype)[classes], -1, axis)
    epsilon = data.draw(st.sampled_from([1e-7, 1e-7, 0.05]))
    fwd, grad_tol = _crossentropy_tolerances(target, logits, axis, epsilon)
    g = draw_upstream(data, rows, dtype)
    run(name, [target, logits], {'axis': axis, 'epsilon': epsilon}, fwd, grad_tol, g)


@case('binary_crossentropy')
def check_binary_crossentropy(name, data):
    """Both sides clip the output, compute 1 - c and c / (1 - c) identically (correctly
    rounded, same operands); z = log(c / (1 - c)) then differs by 6 eps |z| (logf: CUDA 1
    ulp, NumPy <= 4, one spare). Forward, (max(z, 0) - z t) + log1p(exp(-|z|)): the
    first two terms move by |dz| (1 + |t|), the softplus term by at most |dz| (slope <= 1)
    plus its own 12 ulps (the unary softplus case), and the product, the subtraction and
    the sum round once per side: 6 eps |z| (2 + |t|) + 2 eps (|z t| + |max(z, 0) - z t|
    + |loss|) + 12 eps |softplus|. Gradient for the output, g (c - t) / (c (1 - c)) where
    the clip passes: the same correctly rounded operations on the same values, in the same
    order (no product feeding a sum that could be fused): exact. For the target, -g z:
    7 eps |g z| (z's error and one product rounding)."""
    dtype = data.draw(st.sampled_from([np.float32, np.float32, np.float64]))
    shape = data.draw(shapes(max_side=4))
    output = draw_array(data, shape, dtype, 0, 1)
    target = draw_array(data, shape, dtype, 0, 1)
    epsilon = data.draw(st.sampled_from([1e-7, 1e-7, 0.05]))
    eps = eps_of(dtype)
    cast = np.dtype(dtype).type
    c = np.clip(output, cast(epsilon), cast(1.0 - epsilon))
    z = np.log(c / (1 - c)).astype(np.float64)      # c / (1 - c) as both sides round it
    t = target.astype(np.float64)
    first = np.maximum(z, 0) - z * t
    soft = np.log1p(np.exp(-np.abs(z)))
    bound = (6 * eps * np.abs(z) * (2 + np.abs(t)) +
             2 * eps * (np.abs(z * t) + np.abs(first) + np.abs(first + soft)) +
             12 * eps * soft + TINY)
    g = draw_upstream(data, shape, dtype)

    def grad_tol(i, g, out, inputs):
        return 7 * eps * np.abs(g.astype(np.float64) * z) + TINY if i == 0 else 0.0
    run(name, [target, output], {'epsilon': epsilon}, lambda want: bound, grad_tol, g)


@pytest.mark.parametrize('activation', sorted(FUSED_FORWARD_ULPS))
def test_every_fused_activation_in_both_dtypes_and_layouts(activation):
    """Every activation's kernels (hypothesis may not draw them all), with the case's
    tolerances: a rank-4 input each way, values across every branch of the formulas."""
    rng = np.random.RandomState(len(activation))
    for dtype in (np.float32, np.float64):
        for data_format, shape in (('channels_last', (2, 3, 2, 5)),
                                   ('channels_first', (2, 5, 3, 2))):
            x = rng.uniform(-4, 4, shape).astype(dtype)
            bias = rng.uniform(-1, 1, 5).astype(dtype)
            g = rng.uniform(-2, 2, shape).astype(dtype)
            fwd, grad_tol = _bias_activation_tolerances(x, bias, activation, data_format, dtype)
            run('bias_activation', [x, bias], {'activation': activation,
                                               'data_format': data_format}, fwd, grad_tol, g)


def test_fused_primitives_name_themselves_and_the_shapes_in_errors():
    x = to_dev(np.ones((2, 3), np.float32))
    with pytest.raises(AccelShapeError, match=r'bias_activation.*\(2, 3\).*\(4,\)'):
        ACCEL['bias_activation'].forward(x, to_dev(np.ones(4, np.float32)))
    with pytest.raises(AccelShapeError, match=r'bias_activation.*unknown activation'):
        ACCEL['bias_activation'].forward(x, to_dev(np.ones(3, np.float32)), activation='swish')
    with pytest.raises(AccelShapeError, match=r'softmax_crossentropy.*\(2, 2\).*\(2, 3\)'):
        ACCEL['softmax_crossentropy'].forward(to_dev(np.ones((2, 2), np.float32)), x)
    with pytest.raises(AccelDtypeError, match=r'softmax_crossentropy.*\(2, 3\)'):
        ACCEL['softmax_crossentropy'].forward(np.ones((2, 3), np.float16),
                                              np.ones((2, 3), np.float16))
    with pytest.raises(AccelShapeError, match=r'binary_crossentropy.*\(3,\).*\(2, 3\)'):
        ACCEL['binary_crossentropy'].forward(to_dev(np.ones(3, np.float32)), x)


def test_fused_kernels_are_bit_identical_run_after_run():
    rng = np.random.RandomState(3)
    x, b = rng.randn(7, 6).astype(np.float32), rng.randn(6).astype(np.float32)
    g = rng.randn(7, 6).astype(np.float32)
    prim = ACCEL['bias_activation']
    out = prim.forward(to_dev(x), to_dev(b), activation='tanh')
    first = [host(r) for r in prim.grad(to_dev(g), out, to_dev(x), to_dev(b), activation='tanh')]
    again = [host(r) for r in prim.grad(to_dev(g), out, to_dev(x), to_dev(b), activation='tanh')]
    for a, c in zip(first, again):
        assert _bits(a) == _bits(c)
    t = np.eye(6, dtype=np.float32)[rng.randint(0, 6, 7)]
    xent = ACCEL['softmax_crossentropy']
    loss = [host(xent.forward(to_dev(t), to_dev(x))) for _ in range(2)]
    assert _bits(loss[0]) == _bits(loss[1])
