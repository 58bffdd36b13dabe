"""The `K` API (refkeras/backend/ops.py, state.py) against NumPy oracles and hand-worked values.

Every expected value below is computed independently of the code under test:
with `np.einsum` / `np.tensordot` / explicit loops, or by hand from the formula
Keras 2.2.4 documents (crossentropies: rescale, then clip with `K.epsilon()`).

Tolerances: float64 inputs are compared at `rtol=1e-12` (a handful of roundings
of order 1e-16 each); float32 results (floatx) at `rtol=1e-6` (float32 has
about 7 significant digits, and these are short sums of at most ~20 terms).
Finite-difference checks use float64, step 1e-6 and `rtol = atol = 1e-6`, as
in test_primitive_gradients.py (error budget explained there).
Random statistics use six standard errors (false alarm probability ~2e-9).
"""
import functools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import strategies
from refkeras import backend as K
from refkeras.backend.tensors import SymbolicTensor, Traced, Variable

F64 = dict(rtol=1e-12, atol=1e-12)
F32 = dict(rtol=1e-6, atol=1e-6)
FD = dict(rtol=1e-6, atol=1e-6)
H = 1e-6
SIGMAS = 6.0


@pytest.fixture(autouse=True)
def restore_backend_state():
    """Every test leaves floatx, epsilon, data format, phase and counters as it found them."""
    saved = (K.floatx(), K.epsilon(), K.image_data_format())
    yield
    K.set_floatx(saved[0])
    K.set_epsilon(saved[1])
    K.set_image_data_format(saved[2])
    K.clear_session()


floats = strategies.float_arrays  # (shape, lo=-3.0, hi=3.0) in float64
shapes = functools.partial(strategies.shapes, min_dims=1)


def numeric_gradient(fn, x, g):
    """Central differences of `sum(g * fn(x))` with respect to the float64 array `x`."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += H
        minus[index] -= H
        # Both sides summed at once: unchanged terms cancel exactly.
        terms = np.concatenate([(g * np.asarray(fn(plus))).ravel(),
                                -(g * np.asarray(fn(minus))).ravel()])
        grad[index] = math.fsum(terms) / (plus[index] - minus[index])
    return grad


def taped_gradients(fn, arrays, g):
    """Gradients of `sum(g * fn(*variables))` computed by the tape."""
    variables = [Variable(a) for a in arrays]
    with K.GradientTape(variables) as tape:
        loss = K.sum(K.multiply(fn(*variables), g))
    return tape.gradient(loss, variables)


def check_k_gradients(fn, arrays, seed=0):
    """Tape gradients of the K composition `fn` against central differences, input by input."""
    out = np.asarray(fn(*arrays))
    g = np.random.RandomState(seed).uniform(-1, 1, out.shape)
    grads = taped_gradients(fn, arrays, g)
    for i, (a, grad) in enumerate(zip(arrays, grads)):
        def partial(v, i=i):
            args = list(arrays)
            args[i] = v
            return fn(*args)
        np.testing.assert_allclose(grad, numeric_gradient(partial, a, g), **FD)


# --- dot and batch_dot ----------------------------------------------------------------------

def test_dot_of_matrices():
    x = np.arange(6.0).reshape(2, 3)
    y = np.arange(12.0).reshape(3, 4) - 5
    expected = [[sum(x[i, k] * y[k, j] for k in range(3)) for j in range(4)] for i in range(2)]
    np.testing.assert_allclose(K.dot(x, y), expected, **F64)


@given(data=st.data())
def test_dot_nd_by_2d_contracts_the_last_axis(data):
    lead = data.draw(shapes(min_dims=1, max_dims=3))
    n, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x = data.draw(floats(lead + (n,)))
    y = data.draw(floats((n, m)))
    out = K.dot(x, y)
    assert out.shape == lead + (m,)
    np.testing.assert_allclose(out, np.einsum('...k,km->...m', x, y), **F64)
    check_k_gradients(K.dot, [x, y], seed=data.draw(st.integers(0, 1000)))


@given(data=st.data())
def test_dot_nd_by_nd_follows_the_theano_rule(data):
    # x.shape[:-1] + y.shape[:-2] + y.shape[-1:]: x's last axis meets y's second-to-last.
    x_lead = data.draw(shapes(min_dims=1, max_dims=2))
    y_lead = data.draw(shapes(min_dims=1, max_dims=2))
    n, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = data.draw(floats(x_lead + (n,)))
    y = data.draw(floats(y_lead + (n, m)))
    out = K.dot(x, y)
    assert out.shape == x_lead + y_lead + (m,)
    np.testing.assert_allclose(out, np.tensordot(x, y, axes=([-1], [-2])), **F64)
    check_k_gradients(K.dot, [x, y], seed=data.draw(st.integers(0, 1000)))


def test_dot_docstring_shapes():
    # The three examples of Keras 2.2.4's K.dot docstring.
    assert K.int_shape(K.dot(K.placeholder(shape=(2, 3)), K.placeholder(shape=(3, 4)))) == (2, 4)
    assert K.int_shape(K.dot(K.placeholder(shape=(32, 28, 3)),
                             K.placeholder(shape=(3, 4)))) == (32, 28, 4)
    x = K.random_uniform_variable(shape=(2, 3), low=0, high=1)
    assert K.int_shape(K.dot(x, K.ones((4, 3, 5)))) == (2, 4, 5)
    assert K.int_shape(K.dot(K.placeholder(shape=(None, 28, 3)),
                             K.placeholder(shape=(3, 4)))) == (None, 28, 4)


def test_batch_dot_docstring_examples():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_allclose(K.batch_dot(x, y, axes=1), [[17.0], [53.0]], **F64)
    out = K.batch_dot(K.ones(shape=(32, 20, 1)), K.ones(shape=(32, 30, 20)), axes=[1, 2])
    assert K.int_shape(out) == (32, 1, 30)
    np.testing.assert_array_equal(out, np.full((32, 1, 30), 20.0))
    assert K.int_shape(K.batch_dot(K.ones((100, 20)), K.ones((100, 30, 20)), axes=(1, 2))) == \
        (100, 30)
    symbolic = K.batch_dot(K.placeholder((None, 20, 1)), K.placeholder((None, 30, 20)), axes=[1, 2])
    assert K.int_shape(symbolic) == (None, 1, 30)


def batch_dot_oracle(x, y, ax, ay):
    """Per sample: tensordot over the chosen axes; rank-1 results get a second axis."""
    out = np.stack([np.tensordot(x[b], y[b], axes=(ax - 1, ay - 1)) for b in range(len(x))])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


@given(data=st.data())
def test_batch_dot_on_rank_2_and_3(data):
    # Ranks 2 and 3, where Keras 2.2.4's docstring and its TensorFlow code agree.
    batch = data.draw(st.integers(1, 3))
    k = data.draw(st.integers(1, 4))
    x_rank, y_rank = data.draw(st.integers(2, 3)), data.draw(st.integers(2, 3))
    ax, ay = data.draw(st.integers(1, x_rank - 1)), data.draw(st.integers(1, y_rank - 1))

    def shape(rank, axis):
        s = [batch] + [data.draw(st.integers(1, 3)) for _ in range(rank - 1)]
        s[axis] = k
        return tuple(s)
    x = data.draw(floats(shape(x_rank, ax)))
    y = data.draw(floats(shape(y_rank, ay)))
    negative = data.draw(st.booleans())
    axes = (ax - x_rank, ay - y_rank) if negative else (ax, ay)
    out = K.batch_dot(x, y, axes=axes)
    expected = batch_dot_oracle(x, y, ax, ay)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, **F64)
    check_k_gradients(lambda a, b: K.batch_dot(a, b, axes=axes), [x, y],
                      seed=data.draw(st.integers(0, 1000)))


def test_batch_dot_default_axes():
    rng = np.random.RandomState(0)
    x, y = rng.randn(4, 2, 3), rng.randn(4, 3, 5)
    np.testing.assert_allclose(K.batch_dot(x, y), np.einsum('bij,bjk->bik', x, y), **F64)
    # Rank-2 y: refkeras contracts the last axes (a row-wise dot product; documented).
    a, b = rng.randn(4, 3), rng.randn(4, 3)
    np.testing.assert_allclose(K.batch_dot(a, b), (a * b).sum(axis=1, keepdims=True), **F64)


def test_batch_dot_of_matrices_over_axis_0_as_keras():
    x = np.ones((32, 20))
    np.testing.assert_allclose(K.batch_dot(x, x, axes=0), np.full((20, 1), 32.0))
    np.testing.assert_allclose(K.batch_dot(x, np.ones((20, 32)), axes=(0, 1)),
                               np.full((20, 1), 32.0))


# --- reductions ---------------------------------------------------------------------------

@st.composite
def reduction_args(draw):
    shape = draw(shapes(min_dims=1))
    x = draw(floats(shape))
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(0, ndim - 1), min_size=1, unique=True)))
    return x, axis, draw(st.booleans())


def reduce_by_loop(x, axis, keepdims, fn):
    """Reduces the lanes of `x` over `axis` with the Python function `fn(list)`."""
    if axis is None:
        axes = list(range(x.ndim))
    elif isinstance(axis, list):
        axes = sorted(a % x.ndim for a in axis)
    else:
        axes = [axis % x.ndim]
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + axes)
    lanes = moved.reshape(moved.shape[:len(kept)] + (-1,))
    out = np.empty(lanes.shape[:-1])
    for index in np.ndindex(out.shape):
        out[index] = fn([float(v) for v in lanes[index]])
    if keepdims:
        out = out.reshape([1 if a in axes else n for a, n in enumerate(x.shape)])
    return out


def population_var(values):
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values) / len(values)


REDUCTIONS = {
    'sum': math.fsum,
    'mean': lambda v: math.fsum(v) / len(v),
    'max': max,
    'min': min,
    'prod': math.prod,
    'var': population_var,                       # population variance, as TensorFlow
    'std': lambda v: math.sqrt(population_var(v)),
    'logsumexp': lambda v: max(v) + math.log(math.fsum(math.exp(u - max(v)) for u in v)),
}


@pytest.mark.parametrize('name', sorted(REDUCTIONS))
@given(args=reduction_args())
def test_reductions_with_keepdims(name, args):
    x, axis, keepdims = args
    out = getattr(K, name)(x, axis=axis, keepdims=keepdims)
    expected = reduce_by_loop(x, axis, keepdims, REDUCTIONS[name])
    assert np.shape(out) == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@given(args=reduction_args())
def test_any_all_with_keepdims(args):
    x, axis, keepdims = args
    x = x > 0.5
    for name, fn in (('any', any), ('all', all)):
        out = getattr(K, name)(x, axis=axis, keepdims=keepdims)
        expected = reduce_by_loop(x.astype(float), axis, keepdims, lambda v: float(fn(v)))
        np.testing.assert_array_equal(out, expected.astype(bool))


def test_mean_of_booleans_is_floatx():
    out = K.mean(np.array([True, False, True, True]))
    assert out.dtype == np.dtype(K.floatx()) and float(out) == 0.75


def test_argmax_argmin_default_to_the_last_axis():
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    np.testing.assert_array_equal(K.argmax(x), [1, 0])
    np.testing.assert_array_equal(K.argmin(x), [0, 1])
    np.testing.assert_array_equal(K.argmax(x, axis=0), [1, 0, 1])


def test_var_and_std_by_hand():
    x = np.array([[1.0, 2.0, 3.0, 6.0], [2.0, 2.0, 2.0, 2.0]])
    # row 0: mean 3, squared deviations 4, 1, 0, 9 -> var 3.5
    np.testing.assert_allclose(K.var(x, axis=1), [3.5, 0.0], **F64)
    np.testing.assert_allclose(K.std(x, axis=-1, keepdims=True), [[math.sqrt(3.5)], [0.0]], **F64)


# --- joining and reshaping --------------------------------------------------------------------

def test_concatenate_and_stack():
    a, b = np.arange(6.0).reshape(2, 3), -np.arange(4.0).reshape(2, 2)
    out = K.concatenate([a, b], axis=-1)
    assert out.shape == (2, 5)
    np.testing.assert_array_equal(out[:, :3], a)
    np.testing.assert_array_equal(out[:, 3:], b)
    c = a + 10
    stacked = K.stack([a, c], axis=1)
    assert stacked.shape == (2, 2, 3)
    np.testing.assert_array_equal(stacked[:, 0], a)
    np.testing.assert_array_equal(stacked[:, 1], c)
    assert K.stack([a, c]).shape == (2, 2, 3)
    check_k_gradients(lambda p, q: K.concatenate([p, q, p], axis=1), [a, b])
    check_k_gradients(lambda p, q: K.stack([p, q], axis=-1), [a, c])


@given(data=st.data())
def test_tile_repeat_elements_reverse(data):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(floats(shape))
    reps = [data.draw(st.integers(1, 3)) for _ in shape]
    tiled = K.tile(x, reps)
    for index in np.ndindex(tiled.shape):
        assert tiled[index] == x[tuple(i % n for i, n in zip(index, shape))]
    axis = data.draw(st.integers(0, len(shape) - 1))
    rep = data.draw(st.integers(1, 3))
    repeated = K.repeat_elements(x, rep, axis)
    for index in np.ndindex(repeated.shape):
        source = list(index)
        source[axis] //= rep
        assert repeated[index] == x[tuple(source)]
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    reversed_ = K.reverse(x, axes)
    for index in np.ndindex(x.shape):
        source = [n - 1 - i if a in axes else i for a, (i, n) in enumerate(zip(index, shape))]
        assert reversed_[index] == x[tuple(source)]
    check_k_gradients(lambda v: K.tile(v, reps), [x])
    check_k_gradients(lambda v: K.repeat_elements(v, rep, axis), [x])
    check_k_gradients(lambda v: K.reverse(v, axes), [x])


def test_repeat_and_slice():
    x = np.arange(6.0).reshape(2, 3)
    repeated = K.repeat(x, 4)
    assert repeated.shape == (2, 4, 3)
    for i in range(4):
        np.testing.assert_array_equal(repeated[:, i, :], x)
    y = np.arange(24.0).reshape(2, 3, 4)
    sliced = K.slice(y, (0, 1, 1), (-1, 2, 2))
    np.testing.assert_array_equal(sliced, [[[5, 6], [9, 10]], [[17, 18], [21, 22]]])


def test_shape_helpers():
    x = np.zeros((2, 1, 3))
    assert K.squeeze(x, 1).shape == (2, 3)
    assert K.expand_dims(x, 0).shape == (1, 2, 1, 3)
    assert K.batch_flatten(x).shape == (2, 3)
    assert K.flatten(x).shape == (6,)
    assert K.permute_dimensions(x, (2, 0, 1)).shape == (3, 2, 1)
    with pytest.raises(ValueError, match='squeeze'):
        K.squeeze(x, 0)


# --- losses, activations ----------------------------------------------------------------------

EPS = 1e-7   # K.epsilon()'s default


def test_categorical_crossentropy_by_hand():
    target = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    output = np.array([[0.2, 0.6, 0.2],
                       [0.0, 1.0, 0.0],      # the target class has probability 0: clipped to eps
                       [0.4, 0.4, 1.2]])     # not normalised: rescaled to [0.2, 0.2, 0.6]
    expected = [-math.log(0.6),
                -math.log(EPS),
                -(0.2 * math.log(0.2) + 0.3 * math.log(0.2) + 0.5 * math.log(0.6))]
    np.testing.assert_allclose(K.categorical_crossentropy(target, output), expected, **F64)


def test_categorical_crossentropy_from_logits_by_hand():
    logits = np.array([[1.0, 2.0, 3.0]])
    target = np.array([[0.0, 0.0, 1.0]])
    expected = -(3.0 - math.log(math.exp(1) + math.exp(2) + math.exp(3)))
    np.testing.assert_allclose(K.categorical_crossentropy(target, logits, from_logits=True),
                               [expected], **F64)


def test_categorical_crossentropy_follows_epsilon():
    K.set_epsilon(1e-3)
    out = K.categorical_crossentropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(out, [-math.log(1e-3)], **F64)


def test_categorical_crossentropy_channels_first_axis():
    output = np.array([[[0.3, 0.9], [0.7, 0.1]]])           # (batch 1, classes 2, positions 2)
    target = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    np.testing.assert_allclose(K.categorical_crossentropy(target, output, axis=1),
                               [[-math.log(0.3), -math.log(0.1)]], **F64)
    with pytest.raises(ValueError, match='axis'):
        K.categorical_crossentropy(target, output, axis=5)


def test_sparse_categorical_crossentropy_by_hand():
    # Keras 2.2.4: clip to [eps, 1 - eps], then softmax crossentropy of log(clipped):
    # loss = -log(clipped[t] / sum(clipped)).
    output = np.array([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    target = np.array([[1.0], [0.0], [1.0]])            # float column, as Keras feeds y_true
    expected = [-math.log(0.8), -math.log(0.5), -math.log(EPS / (1.0 - EPS + EPS))]
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(target, output), expected,
                               rtol=1e-9)
    sequence = np.array([[[0.1, 0.9], [0.6, 0.4]]])       # (batch, time, classes)
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(np.array([[1, 0]]), sequence),
                               [[-math.log(0.9), -math.log(0.6)]], **F64)
    logits = np.array([[0.0, math.log(3.0)]])             # softmax [0.25, 0.75]
    np.testing.assert_allclose(
        K.sparse_categorical_crossentropy(np.array([1]), logits, from_logits=True),
        [-math.log(0.75)], **F64)


def test_binary_crossentropy_by_hand():
    target = np.array([1.0, 0.0, 1.0, 0.0, 0.3])
    output = np.array([0.9, 0.2, 0.0, 1.0, 0.6])

    def bce(t, p):
        p = min(max(p, EPS), 1 - EPS)
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))
    expected = [bce(t, p) for t, p in zip(target, output)]
    # The logit round trip log(p / (1 - p)) costs a few ulps of relative accuracy.
    np.testing.assert_allclose(K.binary_crossentropy(target, output), expected, rtol=1e-9)
    logits = np.array([-2.0, 0.5])
    np.testing.assert_allclose(
        K.binary_crossentropy(np.array([1.0, 0.0]), logits, from_logits=True),
        [math.log1p(math.exp(2.0)), math.log1p(math.exp(0.5))], **F64)


def test_losses_keep_float32():
    t = np.array([[0.0, 1.0]], dtype=np.float32)
    p = np.array([[0.3, 0.7]], dtype=np.float32)
    assert K.categorical_crossentropy(t, p).dtype == np.float32
    assert K.binary_crossentropy(t, p).dtype == np.float32
    assert K.sparse_categorical_crossentropy(np.array([1]), p).dtype == np.float32


def test_crossentropy_gradients_match_finite_differences():
    rng = np.random.RandomState(3)
    probs = rng.uniform(0.1, 1.0, (3, 4))
    target = np.eye(4)[[0, 2, 3]]
    check_k_gradients(lambda p: K.categorical_crossentropy(target, p), [probs])
    check_k_gradients(lambda z: K.categorical_crossentropy(target, z, from_logits=True),
                      [rng.randn(3, 4)])
    check_k_gradients(lambda p: K.binary_crossentropy(target, p), [rng.uniform(0.05, 0.95, (3, 4))])


def test_softmax_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    total = math.exp(1) + math.exp(2) + math.exp(3)
    expected = [[math.exp(1) / total, math.exp(2) / total, math.exp(3) / total], [1 / 3] * 3]
    np.testing.assert_allclose(K.softmax(x), expected, **F64)
    np.testing.assert_allclose(K.softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]], **F64)
    np.testing.assert_allclose(K.softmax(x.T, axis=0), np.array(expected).T, **F64)


def test_l2_normalize_by_hand():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(K.l2_normalize(x, axis=-1), [[0.6, 0.8], [0.0, 0.0]], **F64)
    np.testing.assert_allclose(K.l2_normalize(x), x / 5.0, **F64)   # axis=None: the whole tensor
    np.testing.assert_allclose(K.l2_normalize(x, axis=0), [[1.0, 1.0], [0.0, 0.0]], **F64)


@given(data=st.data())
def test_in_top_k(data):
    batch, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    # Coarse values: ties are frequent. Ties with the target count in its favour, as
    # tf.nn.in_top_k (classes tied at the boundary are all in the top k).
    p = data.draw(hnp.arrays(np.float32, (batch, classes), elements=st.sampled_from([0., .5, 1.])))
    t = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch)))
    k = data.draw(st.integers(1, classes))
    expected = [sum(1 for c in range(classes) if p[i, c] > p[i, t[i]]) < k for i in range(batch)]
    np.testing.assert_array_equal(K.in_top_k(p, t, k), expected)


def test_switch():
    then, other = np.arange(6.0).reshape(2, 3), -np.ones((2, 3))
    np.testing.assert_array_equal(K.switch(True, then, other), then)
    np.testing.assert_array_equal(K.switch(np.array(0), then, other), other)
    np.testing.assert_array_equal(K.switch(K.variable(1.0) > 0, lambda: then, lambda: other), then)
    # A condition of lower rank selects whole rows.
    np.testing.assert_array_equal(K.switch(np.array([True, False]), then, other),
                                  [[0.0, 1.0, 2.0], [-1.0, -1.0, -1.0]])
    elementwise = then > 2
    np.testing.assert_array_equal(K.switch(elementwise, then, other), np.where(elementwise, then,
                                                                               other))
    # Gradients flow to the selected branch only.
    a, b = Variable(then), Variable(other)
    with K.GradientTape([a, b]) as tape:
        loss = K.sum(K.switch(elementwise, a, b))
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_array_equal(ga, elementwise.astype(float))
    np.testing.assert_array_equal(gb, (~elementwise).astype(float))


def test_switch_rejects_a_condition_of_higher_rank():
    with pytest.raises(ValueError, match='rank'):
        K.switch(np.ones((2, 3), dtype=bool), np.ones(3), np.zeros(3))


def test_in_train_phase_and_in_test_phase():
    assert K.in_train_phase(1.0, 2.0, training=1) == 1.0
    assert K.in_train_phase(1.0, 2.0, training=0) == 2.0
    assert K.in_test_phase(1.0, 2.0, training=0) == 1.0
    # Only the chosen callable is called.
    assert K.in_train_phase(lambda: 'train', lambda: 1 / 0, training=True) == 'train'
    assert K.in_train_phase(lambda: 1 / 0, lambda: 'test', training=False) == 'test'
    K.set_learning_phase(1)
    assert K.in_train_phase('train', 'test') == 'train'
    K.clear_session()
    assert K.learning_phase() is K.LEARNING_PHASE


def test_learning_phase_validation():
    with pytest.raises(ValueError, match='0 or 1'):
        K.set_learning_phase(2)


# --- dropout ---------------------------------------------------------------------------------

@given(level=st.sampled_from([0.1, 0.3, 0.5, 0.8]), seed=st.integers(0, 2 ** 31 - 1))
def test_dropout_statistics_and_scaling(level, seed):
    n = 20000
    x = np.ones((n,), dtype=np.float32)
    K.clear_session()
    out = K.dropout(x, level, seed=seed)
    assert out.shape == x.shape and out.dtype == np.float32
    dropped = out == 0
    assert abs(dropped.mean() - level) < SIGMAS * math.sqrt(level * (1 - level) / n)
    np.testing.assert_allclose(out[~dropped], 1.0 / (1.0 - level), rtol=1e-6)
    K.clear_session()
    np.testing.assert_array_equal(K.dropout(x, level, seed=seed), out)   # a seed repeats


def test_dropout_noise_shape_shares_the_mask():
    x = np.ones((500, 4))
    out = K.dropout(x, 0.5, noise_shape=(500, 1), seed=1)
    assert np.all((out == 0).all(axis=1) | (out == 2.0).all(axis=1))
    assert 0 < (out == 0).mean() < 1
    out = K.dropout(x, 0.5, noise_shape=(None, 1), seed=2)   # None: x's size there
    assert np.all((out == 0).all(axis=1) | (out == 2.0).all(axis=1))


def test_dropout_level_is_checked_and_zero_is_identity():
    x = np.arange(5.0)
    np.testing.assert_array_equal(K.dropout(x, 0.0), x)
    for level in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match='Dropout level'):
            K.dropout(x, level)


def test_dropout_gradient_is_the_mask_scaled():
    v = Variable(np.full((1000,), 3.0))
    with K.GradientTape([v]) as tape:
        out = K.dropout(v, 0.25, seed=5)
        loss = K.sum(out)
    (grad,) = tape.gradient(loss, [v])
    np.testing.assert_allclose(grad, np.asarray(out.value) / 3.0, **F64)


# --- variables --------------------------------------------------------------------------------

def test_variable_copies_and_defaults_to_floatx():
    source = np.array([[1.0, 2.0]])
    v = K.variable(source)
    source[0, 0] = 99.0
    assert K.get_value(v)[0, 0] == 1.0
    assert v.dtype == np.float32 and K.dtype(v) == 'float32'
    got = K.get_value(v)
    got[0, 1] = -5.0
    assert K.get_value(v)[0, 1] == 2.0            # get_value returns a copy
    assert K.variable(0.5, dtype='float64').dtype == np.float64
    assert K.variable(np.array([1, 2]), dtype='int32').dtype == np.int32
    assert K.variable(True).dtype == np.float32
    assert K.int_shape(v) == (1, 2) and K.ndim(v) == 2 and K.count_params(v) == 2
    np.testing.assert_array_equal(K.eval(v), [[1.0, 2.0]])
    for maker, fill in ((K.zeros, 0.0), (K.ones, 1.0)):
        z = maker((2, 3))
        assert isinstance(z, Variable) and z.dtype == np.float32
        np.testing.assert_array_equal(K.get_value(z), np.full((2, 3), fill))
    np.testing.assert_array_equal(K.get_value(K.eye(3)), np.eye(3))


def test_variable_of_a_python_int_is_floatx():
    v = K.variable(1)
    assert v.dtype == np.float32
    K.set_value(v, 0.5)
    assert K.get_value(v) == 0.5


def test_variable_of_an_integer_array_is_floatx_as_keras():
    assert K.variable(np.array([1, 2, 3])).dtype == np.float32
    assert K.variable([1, 2, 3]).dtype == np.float32


def test_set_value_checks_the_shape_and_changes_nothing_on_error():
    v = K.variable(np.zeros((2, 3)))
    K.set_value(v, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(K.get_value(v), np.arange(6.0).reshape(2, 3))
    assert v.dtype == np.float32                  # the new value is cast, not adopted
    before = K.get_value(v)
    for bad in (np.zeros((3, 2)), np.zeros(6), np.zeros((2, 3, 1))):
        with pytest.raises(ValueError, match=r'shape'):
            K.set_value(v, bad)
        np.testing.assert_array_equal(K.get_value(v), before)


def test_batch_set_value_changes_nothing_if_one_shape_is_wrong():
    a, b, c = K.variable(np.zeros(2)), K.variable(np.zeros((2, 2))), K.variable(np.zeros(3))
    with pytest.raises(ValueError, match=b.name):
        K.batch_set_value([(a, np.ones(2)), (b, np.ones((3, 3))), (c, np.ones(3))])
    for v in (a, b, c):
        assert not np.any(K.get_value(v))
    K.batch_set_value([(a, [1.0, 2.0]), (c, np.full(3, 7.0))])
    np.testing.assert_array_equal(K.batch_get_value([a, c])[0], [1.0, 2.0])
    np.testing.assert_array_equal(K.batch_get_value([a, c])[1], [7.0, 7.0, 7.0])


def test_eager_update_functions():
    v = K.variable(np.array([1.0, 2.0]))
    K.update(v, np.array([3.0, 4.0]))
    np.testing.assert_array_equal(K.get_value(v), [3.0, 4.0])
    K.update_add(v, np.array([1.0, 1.0]))
    K.update_sub(v, np.array([0.5, 0.0]))
    np.testing.assert_array_equal(K.get_value(v), [3.5, 5.0])
    K.moving_average_update(v, np.array([0.0, 10.0]), 0.75)
    np.testing.assert_allclose(K.get_value(v), [3.5 * 0.75, 5.0 * 0.75 + 2.5], **F32)


def test_update_rejects_a_value_of_another_shape():
    v = K.variable(np.zeros((2, 3)))
    with pytest.raises(ValueError, match='shape'):
        K.update(v, np.arange(6.0))
    assert not np.any(K.get_value(v))


# --- placeholders and K.function --------------------------------------------------------------

def test_placeholder_and_function():
    x = K.placeholder(shape=(None, 3))
    assert K.int_shape(x) == (None, 3) and K.is_placeholder(x) and K.dtype(x) == 'float32'
    assert K.int_shape(K.placeholder(ndim=2)) == (None, None)
    w = K.variable(np.arange(6.0).reshape(3, 2))
    y = K.sum(K.square(K.dot(x, w)), axis=1)
    assert K.int_shape(y) == (None,)
    f = K.function([x], [y, K.dot(x, w)])
    data = np.arange(12.0).reshape(4, 3)
    out, product = f([data])
    expected_product = data @ np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(product, expected_product, **F32)
    np.testing.assert_allclose(out, (expected_product ** 2).sum(axis=1), **F32)
    assert out.dtype == np.float32        # inputs are cast to the placeholder's dtype
    # The function reads the variable's current value on every call.
    K.set_value(w, np.zeros((3, 2)))
    np.testing.assert_array_equal(f([data])[0], np.zeros(4))


def test_function_argument_errors():
    x, z = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3), name='forgotten')
    f = K.function([x], [x * 2])
    with pytest.raises(TypeError, match='list'):
        f(np.ones((1, 3)))
    with pytest.raises(ValueError, match='expects 1 inputs'):
        f([np.ones((1, 3)), np.ones((1, 3))])
    with pytest.raises(ValueError, match='forgotten'):
        K.function([x], [x + z])
    with pytest.raises(ValueError, match='Invalid argument'):
        K.function([x], [x], bogus=1)
    with pytest.raises(ValueError, match='placeholder'):
        K.eval(x)


def test_function_with_the_learning_phase_as_input():
    x = K.placeholder(shape=(None, 4))
    phase_dependent = K.in_train_phase(K.dropout(x, 0.5, seed=0), x * 3)
    f = K.function([x, K.learning_phase()], [phase_dependent])
    data = np.ones((50, 4))
    np.testing.assert_array_equal(f([data, 0])[0], 3 * data)
    train = f([data, 1])[0]
    assert set(np.unique(train)) <= {0.0, 2.0} and (train == 0).any() and (train == 2).any()
    # Without the learning phase among the inputs, the test phase is used.
    np.testing.assert_array_equal(K.function([x], [phase_dependent])([data])[0], 3 * data)


def test_function_updates():
    x = K.placeholder(shape=(None, 2))
    total = K.variable(np.zeros(2))
    calls = K.variable(0.0)
    f = K.function([x], [K.sum(x)], updates=[(total, total + K.sum(x, axis=0)),
                                             K.update_add(calls, K.sum(x) * 0 + 1)])
    for i in range(3):
        (s,) = f([np.array([[1.0, 2.0], [3.0, 4.0]])])
        assert s == 10.0
    np.testing.assert_array_equal(K.get_value(total), [12.0, 18.0])
    assert K.get_value(calls) == 3.0


# --- gradients --------------------------------------------------------------------------------

def test_symbolic_gradients_match_finite_differences():
    x = K.placeholder(shape=(None, 3), dtype='float64')
    w0 = np.array([[0.3, -0.2], [0.1, 0.5], [-0.4, 0.2]])
    w = K.variable(w0, dtype='float64')
    loss = K.mean(K.square(K.tanh(K.dot(x, w)) - 0.5))
    grad_w, grad_x = K.gradients(loss, [w, x])
    assert K.int_shape(grad_w) == (3, 2) and K.int_shape(grad_x) == (None, 3)
    f = K.function([x], [grad_w, grad_x])
    data = np.array([[1.0, -0.5, 0.25], [0.3, 0.8, -1.2]])
    gw, gx = f([data])

    def loss_of(wv, xv):
        return np.mean((np.tanh(xv @ wv) - 0.5) ** 2)
    one = np.ones(())
    np.testing.assert_allclose(gw, numeric_gradient(lambda v: loss_of(v, data), w0, one), **FD)
    np.testing.assert_allclose(gx, numeric_gradient(lambda v: loss_of(w0, v), data, one), **FD)


def test_eager_gradients_under_a_tape():
    w0 = np.array([0.5, -1.5, 2.0])
    w = K.variable(w0, dtype='float64')
    with K.GradientTape([w], persistent=True) as tape:
        loss = K.sum(K.exp(w) * w)            # d/dw = exp(w) (1 + w)
        (grad,) = K.gradients(loss, [w])
    np.testing.assert_allclose(grad, np.exp(w0) * (1 + w0), **F64)
    (grad_after,) = tape.gradient(loss, [w])
    np.testing.assert_allclose(grad_after, grad, **F64)
    # A non-persistent tape (the default) gives one set of gradients, then
    # releases its records.
    with K.GradientTape([w]) as once:
        loss = K.sum(K.exp(w) * w)
    once.gradient(loss, [w])
    assert once.records == []
    with pytest.raises(RuntimeError, match='non-persistent'):
        once.gradient(loss, [w])
    # A non-scalar loss is summed first.
    with K.GradientTape([w]):
        (grad_vector,) = K.gradients(K.square(w), [w])
    np.testing.assert_allclose(grad_vector, 2 * w0, **F64)
    with pytest.raises(ValueError, match='GradientTape'):
        K.gradients(np.float64(1.0), [w])


def test_tape_ignores_unwatched_variables_and_stop_gradient():
    a, b = K.variable(np.array([1.0, 2.0]), dtype='float64'), K.variable(np.array([3.0, 4.0]),
                                                                         dtype='float64')
    with K.GradientTape([a]) as tape:
        loss = K.sum(a * b + K.stop_gradient(a * a))
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_array_equal(ga, [3.0, 4.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0])


# --- settings and counters --------------------------------------------------------------------

def test_defaults():
    # The fixture restores these after each test; a fresh KERAS_HOME gives the defaults.
    assert K.floatx() == 'float32'
    assert K.epsilon() == 1e-07
    assert K.image_data_format() == 'channels_last'
    assert K.backend() == 'numpy'


def test_set_floatx():
    K.set_floatx('float64')
    assert K.floatx() == 'float64'
    assert K.variable(1.0).dtype == np.float64
    assert K.placeholder(shape=(2,)).dtype == np.float64
    assert K.constant(1.0).dtype == np.float64
    assert K.cast_to_floatx([1, 2]).dtype == np.float64
    K.set_floatx('float16')
    assert K.zeros((2,)).dtype == np.float16
    with pytest.raises(ValueError, match='floatx'):
        K.set_floatx('float8')
    assert K.floatx() == 'float16'


def test_set_epsilon():
    K.set_epsilon(1e-5)
    assert K.epsilon() == 1e-5


def test_set_image_data_format():
    K.set_image_data_format('channels_first')
    assert K.image_data_format() == 'channels_first'
    assert K.normalize_data_format(None) == 'channels_first'
    x = np.zeros((2, 3, 4, 4))
    out = K.bias_add(x, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out[0, :, 0, 0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match='data_format'):
        K.set_image_data_format('channels_middle')
    with pytest.raises(ValueError, match='data_format'):
        K.normalize_data_format('nchw')
    assert K.image_data_format() == 'channels_first'
    assert K.normalize_data_format('Channels_Last') == 'channels_last'


def test_get_uid_and_reset_uids():
    K.reset_uids()
    assert [K.get_uid('dense'), K.get_uid('dense'), K.get_uid('conv2d')] == [1, 2, 1]
    K.reset_uids()
    assert K.get_uid('dense') == 1


def test_clear_session_resets_counters_phase_and_seeds():
    K.get_uid('dense')
    K.get_uid('dense')
    K.set_learning_phase(1)
    first = K.random_uniform((5,), seed=42)
    K.clear_session()
    assert K.get_uid('dense') == 1
    assert K.learning_phase() is K.LEARNING_PHASE
    np.testing.assert_array_equal(K.random_uniform((5,), seed=42), first)


# --- operators --------------------------------------------------------------------------------

def operator_table(a, b):
    """(expression, oracle) pairs: each expression takes the tensors, each oracle the arrays."""
    return [
        (lambda x, y: x + y, lambda x, y: x + y),
        (lambda x, y: x - y, lambda x, y: x - y),
        (lambda x, y: x * y, lambda x, y: x * y),
        (lambda x, y: x / y, lambda x, y: x / y),
        (lambda x, y: x ** 2, lambda x, y: x * x),
        (lambda x, y: 2.0 ** x, lambda x, y: np.exp2(x)),
        (lambda x, y: 1.5 - x, lambda x, y: 1.5 - x),
        (lambda x, y: 3.0 / y, lambda x, y: 3.0 / y),
        (lambda x, y: -x, lambda x, y: 0.0 - x),
        (lambda x, y: abs(x), lambda x, y: np.where(x < 0, -x, x)),
        (lambda x, y: x @ y.T, lambda x, y: np.einsum('ik,jk->ij', x, y)),
        (lambda x, y: x[1], lambda x, y: x[1]),
        (lambda x, y: x[:, ::-1], lambda x, y: x[:, ::-1]),
        (lambda x, y: x < y, lambda x, y: x < y),
        (lambda x, y: x <= y, lambda x, y: x <= y),
        (lambda x, y: x > y, lambda x, y: x > y),
        (lambda x, y: x >= y, lambda x, y: x >= y),
        (lambda x, y: x.T, lambda x, y: np.swapaxes(x, 0, 1)),
    ]


A = np.array([[1.0, -2.0, 3.0], [0.5, 2.0, -1.0]])
B = np.array([[2.0, -2.0, 1.0], [4.0, 1.0, 0.5]])


def test_operators_on_variables():
    va, vb = K.variable(A, dtype='float64'), K.variable(B, dtype='float64')
    for expression, oracle in operator_table(A, B):
        out = expression(va, vb)
        assert isinstance(out, np.ndarray) or np.isscalar(out)
        np.testing.assert_allclose(np.asarray(out, dtype=float), oracle(A, B), **F64)


def test_operators_on_traced_values_are_recorded():
    va, vb = Variable(A), Variable(B)
    for expression, oracle in operator_table(A, B):
        with K.GradientTape([va, vb]) as tape:
            out = expression(va, vb)
        np.testing.assert_allclose(np.asarray(out, dtype=float), oracle(A, B), **F64)
        is_comparison = np.asarray(out).dtype == bool
        assert isinstance(out, Traced) != is_comparison
        assert bool(tape.records) != is_comparison
    # Operators chain on Traced values; the gradient of sum(a * b - a ** 2) is b - 2a.
    with K.GradientTape([va]) as tape:
        loss = K.sum(va * vb - va ** 2)
    np.testing.assert_allclose(tape.gradient(loss, [va])[0], B - 2 * A, **F64)


def test_operators_on_symbolic_tensors():
    x = K.placeholder(shape=(None, 3), dtype='float64')
    y = K.placeholder(shape=(None, 3), dtype='float64')
    expressions = operator_table(A, B)
    outputs = [expression(x, y) for expression, _ in expressions]
    assert all(isinstance(o, SymbolicTensor) for o in outputs)
    values = K.function([x, y], outputs)([A, B])
    for (_, oracle), value in zip(expressions, values):
        np.testing.assert_allclose(np.asarray(value, dtype=float), oracle(A, B), **F64)


def test_ndarray_on_the_left():
    v = K.variable(B)
    for result, oracle in ((A + v, A + B), (A - v, A - B), (A * v, A * B), (A / v, A / B),
                           (A @ v.T, A @ B.T), (A > v, A > B), (A <= v, A <= B)):
        assert isinstance(result, np.ndarray) and result.dtype != object, type(result)
        np.testing.assert_allclose(result.astype(float), oracle, **F32)
    traced = Variable(B)
    with K.GradientTape([traced]):
        assert isinstance(A + traced, Traced)
    row = np.array([1.0, 2.0, 3.0])
    x = K.placeholder(shape=(None, 3))
    assert isinstance(row + x, SymbolicTensor) and isinstance(row * x, SymbolicTensor)
    np.testing.assert_allclose(K.function([x], [row - x])([A])[0], row - A, **F32)


def test_fixed_size_array_with_a_placeholder_of_unknown_batch():
    x = K.placeholder(shape=(None, 3))
    y = A + x
    np.testing.assert_allclose(K.function([x], [y])([B])[0], A + B, **F32)


def test_function_refuses_updates_that_are_not_symbolic_pairs():
    # An update built from concrete values has already run; K.function must not
    # pretend to run it at every call.
    v = K.variable(0.0)
    x = K.placeholder(shape=(None, 2))
    with pytest.raises(ValueError, match='updates must be'):
        K.function([x], [K.sum(x)], updates=[K.update_add(v, 1.0)])
    f = K.function([x], [K.sum(x)], updates=[K.update(v, K.sum(x))])
    f([np.ones((3, 2))])
    assert K.get_value(v) == 6.0
    f([np.ones((1, 2))])
    assert K.get_value(v) == 2.0
