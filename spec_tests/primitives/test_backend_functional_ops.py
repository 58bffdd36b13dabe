"""K.map_fn, K.foldl, K.foldr, K.cumprod and K.gradients inside a running step.

Each expectation is computed independently: a Python loop over rows, a
product written out, or a gradient worked by hand.
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras.backend.graph import GradientsNeedRecordingError
from refkeras.backend.tape import GradientTape
from refkeras.layers import Dense, Flatten, Input, Lambda, MaxPooling2D, Multiply, UpSampling2D
from refkeras.layers import Conv2D
from refkeras.models import Model

ROWS = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0], [2.0, 2.0, -2.0]], dtype='float32')


def test_map_fn_applies_the_function_to_each_row_and_stacks_the_results():
    out = K.eval(K.map_fn(lambda row: K.sum(row * row), K.variable(ROWS)))
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [sum(v * v for v in row) for row in ROWS.tolist()])


def test_map_fn_over_indices_casts_to_the_dtype_asked_for():
    table = K.variable(ROWS)
    out = K.eval(K.map_fn(lambda i: K.max(table[i]), K.arange(3), dtype='float32'))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [3.0, 4.0, 2.0])


def test_foldl_goes_from_the_first_row_and_foldr_from_the_last():
    # a * 10 + b keeps the order of the rows visible in the digits.
    digits = np.array([1.0, 2.0, 3.0], dtype='float32')
    assert float(K.eval(K.foldl(lambda acc, x: acc * 10 + x, K.variable(digits)))) == 123.0
    assert float(K.eval(K.foldr(lambda acc, x: acc * 10 + x, K.variable(digits)))) == 321.0


def test_folds_start_from_the_initializer_when_given_one():
    digits = K.variable(np.array([1.0, 2.0], dtype='float32'))
    assert float(K.eval(K.foldl(lambda acc, x: acc * 10 + x, digits, initializer=9.0))) == 912.0
    assert float(K.eval(K.foldr(lambda acc, x: acc * 10 + x, digits, initializer=9.0))) == 921.0


def test_map_and_folds_run_on_symbolic_tensors_with_an_unknown_first_axis():
    x = K.placeholder((None, 3))
    mapped = K.map_fn(lambda row: K.sum(row), x)
    folded = K.foldr(lambda acc, row: acc * 2 + row, x)
    assert K.int_shape(mapped) == (None,)
    assert K.int_shape(folded) == (3,)
    got_mapped, got_folded = K.function([x], [mapped, folded])([ROWS])
    np.testing.assert_allclose(got_mapped, ROWS.sum(axis=1))
    expected = ROWS[2]
    for row in (ROWS[1], ROWS[0]):
        expected = expected * 2 + row
    np.testing.assert_allclose(got_folded, expected)


def test_gradients_flow_through_map_fn():
    w = K.variable(ROWS)
    with GradientTape([w]) as tape:
        loss = K.sum(K.map_fn(lambda row: K.sum(row * row), w))
    grad, = tape.gradient(loss, [w])
    np.testing.assert_allclose(grad, 2 * ROWS)     # d/dw sum(w^2) = 2 w


def test_map_fn_and_folds_refuse_scalars_and_empty_input_naming_the_function():
    with pytest.raises(ValueError, match='map_fn'):
        K.map_fn(lambda v: v, K.variable(3.0))
    with pytest.raises(ValueError, match='foldl'):
        K.foldl(lambda a, b: a + b, np.zeros((0, 2), dtype='float32'))


def test_cumprod_multiplies_along_the_axis():
    x = np.array([[2.0, 3.0, 0.5], [0.0, 4.0, -1.0]], dtype='float32')
    np.testing.assert_array_equal(K.eval(K.cumprod(K.variable(x), axis=1)),
                                  [[2.0, 6.0, 3.0], [0.0, 0.0, -0.0]])
    np.testing.assert_array_equal(K.eval(K.cumprod(K.variable(x), axis=0)),
                                  [[2.0, 3.0, 0.5], [0.0, 12.0, -0.5]])


def test_cumprod_gradient_through_a_zero_is_the_product_of_the_other_factors():
    # out = (a, a b, a b c); d sum(out) / d a = 1 + b + b c, / d b = a + a c, / d c = a b.
    a, b, c = 0.0, 3.0, 2.0
    w = K.variable(np.array([a, b, c]))
    with GradientTape([w]) as tape:
        loss = K.sum(K.cumprod(w))
    grad, = tape.gradient(loss, [w])
    np.testing.assert_allclose(grad, [1 + b + b * c, a + a * c, a * b])


# --- K.gradients inside a running computation (Keras's mnist_swwae "where" mask) ---------

def _where_mask(tensors):
    before_pooling, after_pooling = tensors
    return K.gradients(K.sum(after_pooling), before_pooling)


def _swwae_like_model():
    x = Input((4, 4, 1))
    features = Conv2D(1, 1, use_bias=False, kernel_initializer='ones')(x)
    pooled = MaxPooling2D()(features)
    where = Lambda(_where_mask, output_shape=lambda shapes: shapes[0])([features, pooled])
    unpooled = Multiply()([where, UpSampling2D()(pooled)])
    out = Dense(1, kernel_initializer='ones')(Flatten()(unpooled))
    return Model(x, out), Model(x, where)


def _mask_by_hand(image):
    # 1 where an element is its 2x2 block's maximum (distinct values: one per block).
    mask = np.zeros_like(image)
    for i in range(0, 4, 2):
        for j in range(0, 4, 2):
            block = image[i:i + 2, j:j + 2]
            r, c = np.unravel_index(np.argmax(block), block.shape)
            mask[i + r, j + c] = 1.0
    return mask


def test_a_layer_may_call_K_gradients_on_values_of_the_step_in_predict_and_fit():
    model, mask_model = _swwae_like_model()
    images = np.random.RandomState(0).permutation(32).reshape(2, 4, 4, 1).astype('float32')
    masks = mask_model.predict(images)
    for k in range(2):
        np.testing.assert_array_equal(masks[k, :, :, 0], _mask_by_hand(images[k, :, :, 0]))
    # The output is the sum of the block maxima (kernel and Dense weights are ones).
    expected = [sum(images[k, :, :, 0][_mask_by_hand(images[k, :, :, 0]) == 1]) for k in range(2)]
    np.testing.assert_allclose(model.predict(images)[:, 0], expected, rtol=1e-6)
    model.compile('sgd', 'mse')
    before = model.train_on_batch(images / 32.0, np.zeros((2, 1)))
    after = model.train_on_batch(images / 32.0, np.zeros((2, 1)))   # the step's own gradients
    assert after < before


def test_K_gradients_during_a_recorded_step_leaves_the_step_its_gradients():
    w = K.variable(np.array([1.0, -2.0, 3.0]))
    with GradientTape([w]) as tape:
        h = w * 3.0
        inner, = K.gradients(K.sum(K.square(h)), [h])    # 2 h, asked for mid-step
        loss = K.sum(h * h * h)
    np.testing.assert_allclose(inner, 2 * 3.0 * np.array([1.0, -2.0, 3.0]))
    grad, = tape.gradient(loss, [w])
    np.testing.assert_allclose(grad, 3 * (3.0 * np.array([1.0, -2.0, 3.0])) ** 2 * 3.0)


def test_symbolic_K_gradients_accepts_an_intermediate_tensor_as_source():
    x = K.placeholder((None, 3))
    h = x * 3.0
    grad, = K.gradients(K.sum(K.square(h)) + K.sum(x), [h])   # the direct x path does not count
    got = K.function([x], [grad])([ROWS])[0]
    np.testing.assert_allclose(got, 2 * 3.0 * ROWS)


def test_K_gradients_of_one_tensor_is_one_gradient_and_of_a_list_a_list():
    x = K.placeholder((None, 3))
    single = K.gradients(K.sum(x * x), x)
    listed = K.gradients(K.sum(x * x), [x])
    assert not isinstance(single, list) and isinstance(listed, list) and len(listed) == 1
    f = K.function([x], [single, listed[0]])
    a, b = f([ROWS])
    np.testing.assert_allclose(a, 2 * ROWS)
    np.testing.assert_allclose(b, 2 * ROWS)


def test_K_gradients_of_an_unrecorded_concrete_value_says_what_to_do():
    w = K.variable(np.ones(3))
    with pytest.raises(GradientsNeedRecordingError, match='GradientTape'):
        K.gradients(K.sum(w * 2.0), [w])
