"""A `Sequential` model whose first layer has no input shape is built later
(Keras 2.2.4's deferred build; issue 18).

Expected, from Keras 2.2.4's behaviour: until it sees data the model has its
layers but no weights and `built` is False; `compile` may be called before;
the first `train_on_batch` / `predict` / call on a tensor builds it with the
data's shape (batch axis free) and completes the compile; the config then
carries `build_input_shape`, so `from_config` gives a built copy. Parameter
counts are worked by hand (`Dense(n)` on `m` inputs has `m * n + n`).
"""
import numpy as np
import pytest

from refkeras import layers as L
from refkeras.models import Model, Sequential


def test_a_sequential_model_without_input_shape_has_no_weights_until_it_sees_data():
    model = Sequential([L.Dense(3), L.Dense(2)])
    model.compile('sgd', 'mse')
    assert model.built is False
    assert len(model.layers) == 2 and model.weights == []
    model.train_on_batch(np.ones((5, 4)), np.zeros((5, 2)))
    assert model.built is True
    assert [w.shape for w in model.weights] == [(4, 3), (3,), (3, 2), (2,)]
    assert model.input_shape == (None, 4)


def test_a_compile_before_the_build_is_completed_with_its_arguments():
    model = Sequential([L.Dense(1)])
    model.compile('sgd', 'mse', metrics=['mae'])
    model.train_on_batch(np.ones((2, 3)), np.zeros((2, 1)))
    assert model.metrics_names == ['loss', 'mean_absolute_error']
    loss, mae = model.evaluate(np.ones((2, 3)), np.zeros((2, 1)), verbose=0)
    prediction = model.predict(np.ones((2, 3)))
    np.testing.assert_allclose(mae, np.abs(prediction).mean(), rtol=1e-6)
    np.testing.assert_allclose(loss, np.square(prediction).mean(), rtol=1e-6)


def test_predict_builds_a_deferred_model_from_the_data_shape():
    model = Sequential([L.Dense(2, kernel_initializer='ones', bias_initializer='zeros')])
    out = model.predict(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(out, [[3.0, 3.0], [12.0, 12.0]])
    assert model.layers[0].input_shape == (None, 3)


def test_a_deferred_model_is_named_as_keras_names_its_input():
    model = Sequential([L.Dense(2)], name='stack')
    model.build((None, 7))
    assert model.inputs[0]._keras_history[0].name == 'stack_input'
    assert model.count_params() == 7 * 2 + 2


def test_the_config_of_a_model_built_late_rebuilds_a_built_copy():
    model = Sequential([L.Dense(3), L.Dense(2)])
    model.build((None, 4))
    config = model.get_config()
    assert tuple(config['build_input_shape']) == (None, 4)
    copy = Sequential.from_config(config)
    assert copy.built and copy.count_params() == (4 * 3 + 3) + (3 * 2 + 2)


def test_a_nested_deferred_model_is_built_with_the_outer_one():
    inner = Sequential([L.Dense(3), L.Dense(3)])
    outer = Sequential([inner, L.Dense(5)])
    outer.compile('sgd', 'mse')
    assert inner.built is False and outer.weights == []
    outer.train_on_batch(np.ones((2, 4)), np.zeros((2, 5)))
    assert inner.built and len(inner.weights) == 4 and len(outer.weights) == 6
    copy = Sequential.from_config(outer.get_config())
    assert copy.layers[0].built and copy.count_params() == outer.count_params()


def test_a_deferred_model_called_on_a_tensor_is_built_with_its_shape():
    model = Sequential([L.Dense(2)])
    x = L.Input(shape=(6,))
    y = model(x)
    assert y.shape == (None, 2)
    assert Model(x, y).count_params() == 6 * 2 + 2


def test_counting_the_parameters_of_a_model_without_any_input_shape_names_the_model():
    model = Sequential([L.Dense(2)], name='shapeless')
    with pytest.raises(ValueError, match='shapeless'):
        model.count_params()
