"""Fused chains (issue 7): layers and losses use the fused primitives, with unchanged numbers.

`refkeras/backend/prims_fused.py` computes `activation(x + bias)`,
`categorical_crossentropy(target, softmax(logits))` and the binary crossentropy
as single primitives. Dense and the convolution layers use the first for the
built-in elementwise activations; `K.categorical_crossentropy` (and the sparse
one) uses the second when the tape shows its input is a softmax;
`K.binary_crossentropy` uses the third. These tests check, against the
same computation written with the unfused `K` operations:

- bias + activation: the layer's output and the gradients for its kernel, its
  bias and its input are *bit-identical* to the composition. The fused primitive
  performs the same IEEE operations on the same values (the activation formulas
  and gradient rules are those of `prims_nn`, the bias's gradient the same NumPy
  sum), so no rounding difference is allowed.
- softmax + crossentropy: the loss is bit-identical (same operations); the
  gradient for the logits is the exact derivative of the composition computed in
  fewer roundings. In float64, with K <= 5 classes and |gradient| <= 1 per
  element, each side is within a few dozen roundings of the exact value, so the
  two agree to 1e-13 (|difference| <= ~50 * 2.2e-16 * K * max(1, |terms|)).
  The clipped rows (a probability below `epsilon`, or above `1 - epsilon`) are
  included and checked against a hand-derived value as well.
- binary crossentropy: one primitive for Keras's clip, logit and stable formula;
  the loss and the target's gradient are bit-identical, the output's gradient is
  the derivative (c - t) / (c (1 - c)) (see the test for the one point, an output
  of exactly 0.5, where the composition's kinks give another value).
- the fused paths are taken (the tape holds the fused primitive, the softmax's
  gradient rule never runs), and not taken for a custom activation, a layer
  without bias, or a crossentropy along another axis than the softmax's.
"""
import numpy as np
import pytest

from refkeras import activations
from refkeras import backend as K
from refkeras.backend import prims_fused
from refkeras.backend.registry import REGISTRY
from refkeras.layers import (Conv1D, Conv2D, Conv2DTranspose, Dense, DepthwiseConv2D,
                             SeparableConv2D)
from refkeras.models import Sequential

FUSED = sorted(prims_fused.FUSED_ACTIVATIONS)


def names_on(tape):
    return [record.prim.name for record in tape.records]


def taped(fn, weights, *inputs):
    """`fn(*inputs)` under a tape watching `weights` (Variables) and the inputs
    (wrapped as Variables); returns (value, records' names, gradients of sum(value * u))."""
    variables = [K.variable(x, dtype=x.dtype) for x in inputs]
    sources = list(weights) + variables
    with K.GradientTape(sources) as tape:
        out = fn(*variables)
        upstream = np.random.RandomState(0).uniform(-1, 1, K.int_shape(out)).astype(out.dtype)
        loss = K.sum(K.multiply(out, upstream))
    names = names_on(tape)
    grads = tape.gradient(loss, sources)
    return K.get_value(out), names, grads


def assert_bit_identical(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), '%s: max |difference| %r' % (
        what, np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


# --- bias + activation in layers ----------------------------------------------------

def test_the_selu_constants_agree_with_the_activations_module():
    assert prims_fused.SELU_ALPHA == activations.SELU_ALPHA
    assert prims_fused.SELU_SCALE == activations.SELU_SCALE


@pytest.mark.parametrize('activation', FUSED)
def test_dense_with_a_fused_activation_equals_the_composition(activation):
    np.random.seed(1)
    layer = Dense(5, activation=activation, bias_initializer='uniform')
    layer.build((None, 4))
    x = np.random.uniform(-3, 3, (6, 4)).astype(np.float32)
    weights = layer.trainable_weights
    act = activations.get(activation)

    fused, names, grads = taped(layer, weights, x)
    composed, composed_names, composed_grads = taped(
        lambda v: act(K.bias_add(K.dot(v, layer.kernel), layer.bias,
                                 data_format='channels_last')), weights, x)
    assert names[:2] == ['matmul', 'bias_activation'] and 'add' not in names
    assert 'bias_activation' not in composed_names
    assert_bit_identical(fused, composed, 'output')
    for g, h, what in zip(grads, composed_grads, ('kernel', 'bias', 'input')):
        assert_bit_identical(g, h, '%s gradient (%s)' % (what, activation))


@pytest.mark.parametrize('activation', FUSED)
@pytest.mark.parametrize('data_format', ['channels_last', 'channels_first'])
def test_conv2d_with_a_fused_activation_equals_the_composition(activation, data_format):
    np.random.seed(2)
    layer = Conv2D(3, (2, 2), activation=activation, data_format=data_format,
                   bias_initializer='uniform')
    shape = (2, 4, 5, 2) if data_format == 'channels_last' else (2, 2, 4, 5)
    layer.build((None,) + shape[1:])
    x = np.random.uniform(-2, 2, shape).astype(np.float32)
    act = activations.get(activation)

    fused, names, grads = taped(layer, layer.trainable_weights, x)
    composed, _, composed_grads = taped(
        lambda v: act(K.bias_add(K.conv2d(v, layer.kernel, data_format=data_format),
                                 layer.bias, data_format=data_format)),
        layer.trainable_weights, x)
    assert 'bias_activation' in names and 'add' not in names
    assert_bit_identical(fused, composed, 'output')
    for g, h, what in zip(grads, composed_grads, ('kernel', 'bias', 'input')):
        assert_bit_identical(g, h, '%s gradient (%s, %s)' % (what, activation, data_format))


@pytest.mark.parametrize('make, shape', [
    (lambda: Conv1D(3, 2, activation='relu', bias_initializer='uniform'), (2, 5, 2)),
    (lambda: Conv2DTranspose(2, (2, 2), activation='sigmoid', bias_initializer='uniform'),
     (1, 3, 3, 2)),
    (lambda: SeparableConv2D(2, (2, 2), activation='elu', bias_initializer='uniform'),
     (1, 4, 4, 2)),
    (lambda: DepthwiseConv2D((2, 2), activation='tanh', bias_initializer='uniform'),
     (1, 4, 4, 2)),
])
def test_every_convolution_uses_the_fused_primitive(make, shape):
    np.random.seed(3)
    layer = make()
    layer.build((None,) + shape[1:])
    x = np.random.uniform(-2, 2, shape).astype(np.float32)
    out, names, _ = taped(layer, layer.trainable_weights, x)
    assert 'bias_activation' in names and 'add' not in names
    # The output against the layer's convolution followed by bias_add and the activation.
    conv = K.get_value(layer._convolve(x))
    expected = K.get_value(layer.activation(K.bias_add(conv, layer.bias,
                                                       data_format=layer.data_format)))
    assert_bit_identical(out, expected, type(layer).__name__)


def relu_with_a_threshold(x):
    return K.relu(x, threshold=0.5)


@pytest.mark.parametrize('make', [
    lambda: Dense(4, activation=relu_with_a_threshold, bias_initializer='uniform'),
    lambda: Dense(4, activation=lambda x: K.relu(x, alpha=0.1), bias_initializer='uniform'),
    lambda: Dense(4, activation='softmax', bias_initializer='uniform'),
    lambda: Dense(4, activation='relu', use_bias=False),
    lambda: Dense(4, activation=None, use_bias=False),
])
def test_custom_activations_and_layers_without_bias_take_the_unfused_path(make):
    np.random.seed(4)
    layer = make()
    layer.build((None, 3))
    x = np.random.uniform(-2, 2, (5, 3)).astype(np.float32)
    out, names, grads = taped(layer, layer.trainable_weights, x)
    assert 'bias_activation' not in names
    z = x.astype(np.float64) @ K.get_value(layer.kernel).astype(np.float64)
    if layer.use_bias:
        z = z + K.get_value(layer.bias)
    expected = K.get_value(layer.activation(z.astype(np.float32)))
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)   # float32 dot of 3 terms
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_bias_activation_rejects_a_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match=r'bias_activation.*\(2, 3\).*\(4,\)'):
        K.bias_activation(np.ones((2, 3), np.float32), np.ones(4, np.float32), 'relu')
    with pytest.raises(ValueError, match=r"unknown activation 'swish'"):
        K.bias_activation(np.ones((2, 3), np.float32), np.ones(3, np.float32), 'swish')


# --- softmax + crossentropy ------------------------------------------------------------

# Rows: ordinary ones, one where a probability is far below epsilon (clipped low), and one
# where one class takes almost everything (its probability clipped to 1 - epsilon).
LOGITS = np.array([[0.5, -1.0, 2.0, 0.0],
                   [1.0, 1.0, 1.0, 1.0],
                   [3.0, -20.0, 0.5, 1.0],     # exp(-23) ~ 1e-10 < epsilon: clipped low
                   [25.0, 0.0, -1.0, 2.0]])    # 1 - p ~ 1e-10: clipped to 1 - epsilon
TARGET = np.array([[0.0, 0.0, 1.0, 0.0],
                   [0.25, 0.25, 0.25, 0.25],
                   [0.0, 1.0, 0.0, 0.0],
                   [1.0, 0.0, 0.0, 0.0]])


def composed_crossentropy(target, probabilities, axis=-1):
    """Keras 2.2.4's steps written with the unfused K operations (never detected)."""
    q = K.divide(probabilities, K.sum(probabilities, axis=axis, keepdims=True))
    clipped = K.clip(q, K.epsilon(), 1.0 - K.epsilon())
    return K.negative(K.sum(K.multiply(target, K.log(clipped)), axis=axis))


def crossentropy_and_gradients(loss_fn, logits, target, axis=-1):
    """loss_fn(target, softmax(logits)) under a tape: values, records, gradients, and how
    many times the softmax's gradient rule ran."""
    z = K.variable(logits, dtype=logits.dtype)
    t = K.variable(target, dtype=target.dtype)
    softmax = REGISTRY['softmax']
    calls = []
    rule = softmax.grad
    softmax.grad = lambda *args, **kwargs: calls.append(1) or rule(*args, **kwargs)
    try:
        with K.GradientTape([z, t]) as tape:
            loss = loss_fn(t, K.softmax(z, axis=axis))
            total = K.sum(loss)
        names = names_on(tape)
        grads = tape.gradient(total, [z, t])
    finally:
        softmax.grad = rule
    return K.get_value(loss), names, grads, len(calls)


def test_the_loss_on_a_softmax_uses_the_fused_primitive_and_skips_the_softmax_backward():
    for dtype in (np.float32, np.float64):
        logits, target = LOGITS.astype(dtype), TARGET.astype(dtype)
        loss, names, grads, softmax_grads = crossentropy_and_gradients(
            K.categorical_crossentropy, logits, target)
        assert names == ['softmax', 'softmax_crossentropy', 'sum']
        assert softmax_grads == 0
        ref_loss, ref_names, ref_grads, ref_softmax_grads = crossentropy_and_gradients(
            composed_crossentropy, logits, target)
        assert 'softmax_crossentropy' not in ref_names and ref_softmax_grads == 1
        assert_bit_identical(loss, ref_loss, 'loss (%s)' % np.dtype(dtype).name)
        if dtype == np.float64:
            np.testing.assert_allclose(grads[0], ref_grads[0], rtol=0, atol=1e-13)
            np.testing.assert_allclose(grads[1], ref_grads[1], rtol=0, atol=1e-13)


def test_the_gradient_in_clipped_rows_is_the_derivative_of_the_clipped_loss():
    # Worked by hand: with q = softmax(z) (already summing to 1) and m = 1 where
    # epsilon <= q <= 1 - epsilon, d loss / dz = q * sum(m t) - m t, d loss / dt = -log(clip(q)).
    _, _, (g_z, g_t), _ = crossentropy_and_gradients(K.categorical_crossentropy, LOGITS, TARGET)
    eps = K.epsilon()
    e = np.exp(LOGITS - LOGITS.max(axis=1, keepdims=True))
    q = e / e.sum(axis=1, keepdims=True)
    assert q[2, 1] < eps and q[3, 0] > 1 - eps          # the clip is active in rows 2 and 3
    m = (q >= eps) & (q <= 1 - eps)
    passed = np.where(m, TARGET, 0.0)
    np.testing.assert_allclose(g_z, q * passed.sum(axis=1, keepdims=True) - passed,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_t, -np.log(np.clip(q, eps, 1 - eps)), rtol=1e-12)
    # Row 2's target class is clipped: no gradient reaches its logit except through
    # the other classes' shares (all zero targets): the whole row's gradient is 0.
    np.testing.assert_array_equal(g_z[2], np.zeros(4))


def test_a_crossentropy_along_another_axis_than_the_softmax_is_not_fused():
    logits = np.random.RandomState(5).uniform(-2, 2, (2, 3, 3))
    target = np.abs(np.random.RandomState(6).uniform(0, 1, (2, 3, 3)))
    z = K.variable(logits, dtype=logits.dtype)
    with K.GradientTape([z]) as tape:
        other = K.categorical_crossentropy(target, K.softmax(z, axis=-1), axis=1)
        same = K.categorical_crossentropy(target, K.softmax(z, axis=1), axis=1)
    assert names_on(tape).count('softmax_crossentropy') == 1
    np.testing.assert_array_equal(K.get_value(other), K.get_value(
        composed_crossentropy(target, K.softmax(logits, axis=-1), axis=1)))
    np.testing.assert_array_equal(K.get_value(same), K.get_value(
        composed_crossentropy(target, K.softmax(logits, axis=1), axis=1)))


def test_outside_a_tape_the_composition_gives_the_same_value():
    for dtype in (np.float32, np.float64):
        logits, target = LOGITS.astype(dtype), TARGET.astype(dtype)
        plain = K.categorical_crossentropy(target, K.softmax(logits))
        fused, _, _, _ = crossentropy_and_gradients(K.categorical_crossentropy, logits, target)
        assert_bit_identical(plain, fused, np.dtype(dtype).name)


def test_sparse_categorical_crossentropy_uses_the_fused_primitive():
    labels = TARGET.argmax(axis=1)[:, None]
    one_hot = np.eye(4)[labels[:, 0]]
    loss, names, (g_z, _), softmax_grads = crossentropy_and_gradients(
        lambda t, p: K.sparse_categorical_crossentropy(labels, p), LOGITS, one_hot)
    assert 'softmax_crossentropy' in names and softmax_grads == 0
    ref_loss, _, (ref_g_z, _), _ = crossentropy_and_gradients(
        composed_crossentropy, LOGITS, one_hot)
    assert_bit_identical(loss, ref_loss, 'loss')
    np.testing.assert_allclose(g_z, ref_g_z, rtol=0, atol=1e-13)


def test_sparse_crossentropy_along_a_middle_axis_is_fused_too():
    rng = np.random.RandomState(7)
    logits = rng.uniform(-3, 3, (2, 4, 3))
    labels = rng.randint(0, 4, (2, 3))
    _, names, (g_z, _), softmax_grads = crossentropy_and_gradients(
        lambda t, p: K.sparse_categorical_crossentropy(labels, p, axis=1), logits,
        np.zeros_like(logits), axis=1)
    assert 'softmax_crossentropy' in names and softmax_grads == 0
    one_hot = np.moveaxis(np.eye(4)[labels], -1, 1)
    _, _, (ref_g_z, _), _ = crossentropy_and_gradients(
        lambda t, p: composed_crossentropy(one_hot, p, axis=1), logits, one_hot, axis=1)
    np.testing.assert_allclose(g_z, ref_g_z, rtol=0, atol=1e-13)


def test_a_targets_of_another_dtype_take_the_composition():
    logits = LOGITS.astype(np.float32)
    loss, names, _, _ = crossentropy_and_gradients(
        lambda t, p: K.categorical_crossentropy(TARGET, p), logits, logits)   # float64 target
    assert 'softmax_crossentropy' not in names
    assert loss.dtype == np.float64   # the composition's type promotion, unchanged


# --- in a model ---------------------------------------------------------------------------

def test_fit_reports_the_loss_evaluate_gives_before_the_update():
    # One batch, one epoch: fit's loss is computed (fused, on the tape) from the weights
    # before the update, which is what evaluate (unfused, no tape) computes.
    np.random.seed(8)
    model = Sequential([Dense(6, activation='tanh', input_shape=(3,)),
                        Dense(4, activation='softmax')])
    model.compile('sgd', 'categorical_crossentropy')
    x = np.random.uniform(-1, 1, (8, 3)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[np.random.randint(0, 4, 8)]
    before = model.evaluate(x, y, batch_size=8, verbose=0)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert history.history['loss'][0] == before
    assert model.evaluate(x, y, batch_size=8, verbose=0) < before


# --- binary crossentropy ------------------------------------------------------------------

def composed_binary_crossentropy(target, output):
    """Keras 2.2.4's steps with the unfused K operations."""
    clipped = K.clip(output, K.epsilon(), 1.0 - K.epsilon())
    z = K.log(K.divide(clipped, K.subtract(1.0, clipped)))
    return K.add(K.subtract(K.relu(z), K.multiply(z, target)), K.softplus(K.negative(K.abs(z))))


# Probabilities inside (0, 1), and outside the clip: 0, 1e-9 and 1.
OUTPUT = np.array([[0.2, 0.7, 1e-9, 0.5], [0.0, 0.999, 1.0, 0.01]])
BINARY_TARGET = np.array([[0.0, 1.0, 1.0, 0.3], [1.0, 0.0, 0.0, 1.0]])


def binary_and_gradients(loss_fn, target, output):
    p, t = K.variable(output, dtype=output.dtype), K.variable(target, dtype=target.dtype)
    with K.GradientTape([p, t]) as tape:
        loss = loss_fn(t, p)
        total = K.sum(loss)
    names = names_on(tape)
    return K.get_value(loss), names, tape.gradient(total, [p, t])


def test_binary_crossentropy_is_one_primitive_with_the_composition_values():
    for dtype in (np.float32, np.float64):
        target, output = BINARY_TARGET.astype(dtype), OUTPUT.astype(dtype)
        loss, names, (g_p, g_t) = binary_and_gradients(K.binary_crossentropy, target, output)
        assert names == ['binary_crossentropy', 'sum']
        ref_loss, ref_names, (ref_g_p, ref_g_t) = binary_and_gradients(
            composed_binary_crossentropy, target, output)
        assert 'binary_crossentropy' not in ref_names
        assert_bit_identical(loss, ref_loss, 'loss')
        assert_bit_identical(g_t, ref_g_t, 'target gradient')   # -z, the same operations
        assert_bit_identical(K.binary_crossentropy(target, output), loss, 'without a tape')
        if dtype == np.float64:
            # Output gradient: (c - t) / (c (1 - c)) against the composition's chain;
            # both within a few dozen roundings of the exact value, relative to
            # |t| / c + |1 - t| / (1 - c), which reaches 1e7 where c ~ epsilon.
            # At output 0.5 (z = 0) the composition differentiates relu and abs at their
            # kinks (slopes 0) and gives -t / (c (1 - c)); the loss is smooth there and the
            # fused rule gives its derivative (c - t) / (c (1 - c)), as TensorFlow's
            # sigmoid_cross_entropy_with_logits, which Keras 2.2.4 calls, does.
            kink = OUTPUT == 0.5
            assert g_p[kink] == (0.5 - 0.3) / 0.25 and ref_g_p[kink] == -0.3 / 0.25
            scale = np.abs(BINARY_TARGET) / 1e-7 + 1 / (1 - 0.999)
            np.testing.assert_allclose(g_p[~kink], ref_g_p[~kink], rtol=0,
                                       atol=1e-13 * scale.max())


def test_binary_crossentropy_gradient_is_zero_where_the_clip_cuts():
    _, _, (g_p, _) = binary_and_gradients(K.binary_crossentropy, BINARY_TARGET, OUTPUT)
    eps = K.epsilon()
    inside = (OUTPUT >= eps) & (OUTPUT <= 1 - eps)
    assert not inside.all()
    with np.errstate(divide='ignore'):
        expected = np.where(inside, (OUTPUT - BINARY_TARGET) / (OUTPUT * (1 - OUTPUT)), 0.0)
    np.testing.assert_allclose(g_p, expected, rtol=1e-12)


def test_binary_crossentropy_with_a_broadcast_target_takes_the_composition():
    output = OUTPUT.astype(np.float32)
    target = np.array([1.0, 0.0, 1.0, 0.0], np.float32)
    loss, names, _ = binary_and_gradients(lambda t, p: K.binary_crossentropy(target, p),
                                          target, output)
    assert 'binary_crossentropy' not in names
    expected = K.get_value(composed_binary_crossentropy(np.broadcast_to(target, output.shape),
                                                        output))
    assert_bit_identical(loss, expected, 'broadcast target')


def test_a_sigmoid_model_trains_on_the_fused_binary_crossentropy():
    np.random.seed(9)
    model = Sequential([Dense(5, activation='relu', input_shape=(3,)),
                        Dense(2, activation='sigmoid')])
    model.compile('sgd', 'binary_crossentropy')
    x = np.random.uniform(-1, 1, (8, 3)).astype(np.float32)
    y = (np.random.uniform(0, 1, (8, 2)) > 0.5).astype(np.float32)
    before = model.evaluate(x, y, batch_size=8, verbose=0)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert history.history['loss'][0] == before
    # Keras's formula by hand: mean over outputs and samples of -(y log p + (1-y) log(1-p)).
    p = np.clip(model.predict(x).astype(np.float64), 1e-7, 1 - 1e-7)
    by_hand = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0), by_hand,
                               rtol=1e-5)   # float32 logs and sums of 16 terms
