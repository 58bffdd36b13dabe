"""What Keras 2.2.4's backend tests check of a single backend, where they
cannot run here as written (they compare Theano with TensorFlow, or rely on
TensorFlow's graph re-execution; see conformance/not_applicable.py), plus
K.relu and K.sqrt as Keras's backends compute them.

Expected values are worked by hand or computed by a direct loop.
"""
import numpy as np
import pytest

from refkeras import backend as K


def test_K_function_returns_outputs_then_applies_its_updates():
    # Expressions built from the function's inputs are evaluated at each call,
    # reading the variable's value of that moment (refkeras executes eagerly:
    # an expression of variables alone is a value computed where it is written).
    x = K.variable(np.array([[1.0, 2.0]]))
    y = K.placeholder(ndim=2)
    f = K.function([y], [x + y], updates=[(x, x + K.sum(y))])
    np.testing.assert_allclose(f([np.array([[1.0, 1.0]])])[0], [[2.0, 3.0]])
    np.testing.assert_allclose(K.get_value(x), [[3.0, 4.0]])
    np.testing.assert_allclose(f([np.zeros((1, 2))])[0], [[3.0, 4.0]])
    np.testing.assert_allclose(K.get_value(x), [[3.0, 4.0]])


def test_gradients_with_respect_to_an_intermediate_tensor_ignore_a_stopped_copy():
    # loss = sum(e) with e = x exp(x): d loss / d e = 1 everywhere; adding
    # stop_gradient(loss) changes the value, not the gradient.
    x = K.placeholder((2, 3))
    e = x * K.exp(x)
    loss = K.sum(e)
    plain, = K.gradients(loss, [e])
    stopped, = K.gradients(loss + K.stop_gradient(loss), [e])
    values = K.function([x], [plain, stopped])([np.random.RandomState(0).rand(2, 3)])
    np.testing.assert_array_equal(values[0], np.ones((2, 3)))
    np.testing.assert_array_equal(values[1], np.ones((2, 3)))


def test_in_top_k_counts_ties_at_the_boundary_and_handles_k_out_of_range():
    predictions = np.array([[0.5, 0.5, 0.1], [0.2, 0.7, 0.1]], dtype='float32')
    targets = np.array([1, 0], dtype='int32')
    got = lambda k: K.eval(K.in_top_k(K.variable(predictions), K.variable(targets, 'int32'), k))  # noqa: E731
    np.testing.assert_array_equal(got(1), [True, False])   # 0.5 ties with the top value
    np.testing.assert_array_equal(got(0), [False, False])
    np.testing.assert_array_equal(got(3), [True, True])
    np.testing.assert_array_equal(got(4), [True, True])


@pytest.mark.parametrize('rank', [2, 3])
def test_spatial_padding_keeps_unknown_sizes_unknown(rank):
    pad = K.spatial_2d_padding if rank == 2 else K.spatial_3d_padding
    padding = ((1, 2), (2, 1), (1, 2))[:rank]
    x = K.placeholder(shape=(1,) + (None,) * rank + (1,))
    y = pad(x, padding=padding, data_format='channels_last')
    assert K.int_shape(y) == (1,) + (None,) * rank + (1,)
    value = np.ones((1,) + (2,) * rank + (1,), dtype='float32')
    out = K.function([x], [y])([value])[0]
    assert out.shape == (1,) + tuple(2 + a + b for a, b in padding) + (1,)
    assert out.sum() == value.sum()


def test_normalize_batch_in_training_without_gamma_and_beta_standardises():
    x = np.random.RandomState(0).rand(1, 4, 2, 3).astype('float32')
    normed, mean, var = K.normalize_batch_in_training(K.variable(x), None, None,
                                                      reduction_axes=[0, 1, 2, 3])
    normed = K.eval(normed)
    assert normed.shape == x.shape
    expected = (x - x.mean()) / np.sqrt(x.var() + 1e-3)
    np.testing.assert_allclose(normed, expected, rtol=1e-4, atol=1e-5)


def _bilinear_by_hand(image, factor):
    # TensorFlow's resize_bilinear (align_corners=False): output pixel i reads
    # the input at i / factor, interpolating between floor and floor + 1.
    h, w = image.shape
    out = np.zeros((h * factor, w * factor))
    for i in range(h * factor):
        for j in range(w * factor):
            y, x = i / factor, j / factor
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            dy, dx = y - y0, x - x0
            out[i, j] = ((1 - dy) * ((1 - dx) * image[y0, x0] + dx * image[y0, x1])
                         + dy * ((1 - dx) * image[y1, x0] + dx * image[y1, x1]))
    return out


@pytest.mark.parametrize('factor', [2, 4])
def test_bilinear_resize_interpolates_for_any_factor(factor):
    image = np.random.RandomState(factor).rand(3, 4).astype('float32')
    x = image[None, :, :, None]
    out = K.eval(K.resize_images(K.variable(x), factor, factor, 'channels_last',
                                 interpolation='bilinear'))
    np.testing.assert_allclose(out[0, :, :, 0], _bilinear_by_hand(image, factor), rtol=1e-5,
                               atol=1e-6)
    first = K.eval(K.resize_images(K.variable(np.transpose(x, (0, 3, 1, 2))), factor, factor,
                                   'channels_first', interpolation='bilinear'))
    np.testing.assert_allclose(first[0, 0], out[0, :, :, 0], rtol=1e-6)


def test_a_random_draw_in_a_layer_is_redrawn_at_every_run():
    from refkeras.layers import Input, Lambda
    from refkeras.models import Model
    x = Input((2,))
    model = Model(x, Lambda(lambda t: t + K.random_normal(K.shape(t)))(x))
    zeros = np.zeros((1, 2), dtype='float32')
    draws = np.array([model.predict(zeros) for _ in range(300)])
    assert len({tuple(d.ravel()) for d in draws}) == 300
    assert abs(draws.mean()) < 4 / np.sqrt(draws.size)      # 4 standard errors
    assert abs(draws.std() - 1.0) < 0.15


@pytest.mark.parametrize('floatx', ['float16', 'float64'])
def test_variables_take_the_floatx_set_at_the_time(floatx):
    old = K.floatx()
    K.set_floatx(floatx)
    try:
        assert K.dtype(K.variable([10])) == floatx
        assert K.get_value(K.variable([10])).dtype == np.dtype(floatx)
    finally:
        K.set_floatx(old)


def test_relu_with_max_value_clips_what_is_above_the_threshold_to_0_and_max_value():
    # Keras 2.2.4: x for threshold < x, clipped to [0, max_value]; alpha (x - threshold) below.
    x = np.array([-4.0, -3.0, -1.0, 0.5, 2.0, 7.0], dtype='float32')
    got = K.eval(K.relu(K.variable(x), alpha=0.1, max_value=5.0, threshold=-2.8))
    expected = [0.1 * (-4.0 + 2.8), 0.1 * (-3.0 + 2.8), 0.0, 0.5, 2.0, 5.0]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    no_max = K.eval(K.relu(K.variable(x), alpha=0.1, threshold=-2.8))
    np.testing.assert_allclose(no_max, [0.1 * (-4.0 + 2.8), 0.1 * (-3.0 + 2.8), -1.0, 0.5, 2.0,
                                        7.0], rtol=1e-6)


def test_sqrt_of_a_negative_input_is_zero_with_zero_gradient():
    from refkeras.backend.tape import GradientTape
    w = K.variable(np.array([-1.0, 0.0, 4.0]))
    with GradientTape([w]) as tape:
        y = K.sqrt(w)
        loss = K.sum(y)
    np.testing.assert_array_equal(K.eval(y), [0.0, 0.0, 2.0])
    grad, = tape.gradient(loss, [w])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.25])


def test_a_scipy_sparse_variable_holds_the_same_values_densely():
    sparse = pytest.importorskip('scipy.sparse')
    matrix = sparse.csr_matrix((np.array([7.0, 2.0, 3.0]), (np.array([0, 2, 3]),
                                                            np.array([4, 2, 3]))), shape=(4, 5))
    v = K.variable(matrix)
    assert not K.is_sparse(v)
    w = np.arange(20.0).reshape(5, 4)
    np.testing.assert_allclose(K.eval(K.dot(v, K.variable(w))), matrix.toarray() @ w, rtol=1e-6)
    both = K.eval(K.concatenate([v, K.variable(matrix)], axis=0))
    np.testing.assert_array_equal(both, np.vstack([matrix.toarray()] * 2))
