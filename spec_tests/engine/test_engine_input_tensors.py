"""`Input(tensor=...)`, models built on variables, and `clone_model` on given
input tensors (issue 18; Keras 2.2.4's behaviour).

Expected: a symbolic tensor given as `tensor` becomes the input itself; a
value (a `K.variable`) gets an input that is not a placeholder and reads the
variable's contents whenever the graph runs, so a model on it is fed no data
(`train_on_batch(None, y)`). Outputs are compared with NumPy computations of
the same `Dense` layers (`x @ kernel + bias`) written here; tolerance 1e-5
(float32 products of a few terms of order 1).
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras import layers as L
from refkeras import optimizers
from refkeras.models import Model, Sequential, clone_model

TOL32 = 1e-5


def dense_value(layer, x):
    kernel, bias = layer.get_weights()
    return x.astype('float64') @ kernel + bias


def test_an_input_on_a_symbolic_tensor_is_that_tensor():
    placeholder = K.placeholder(shape=(None, 3))
    x = L.Input(tensor=placeholder)
    assert x is placeholder
    assert x._keras_history[0].is_placeholder
    layer = L.Dense(2)
    model = Model(x, layer(x))
    data = np.random.RandomState(0).rand(4, 3).astype('float32')
    np.testing.assert_allclose(model.predict(data), dense_value(layer, data), rtol=TOL32)


def test_an_input_on_a_variable_is_no_placeholder_and_takes_its_shape_and_dtype():
    variable = K.variable(np.zeros((5, 3)))
    x = L.Input(tensor=variable)
    layer = x._keras_history[0]
    assert layer.is_placeholder is False
    assert K.int_shape(x) == (5, 3) and K.dtype(x) == 'float32'
    assert not K.is_placeholder(x)


def test_an_input_on_a_variable_reads_its_current_contents_at_each_run():
    variable = K.variable(np.ones((2, 3)))
    x = L.Input(tensor=variable)
    layer = L.Dense(1)
    y = layer(x)
    run = K.function([], [y])
    np.testing.assert_allclose(run([])[0], dense_value(layer, np.ones((2, 3))), rtol=TOL32)
    new = np.arange(6.0).reshape(2, 3)
    K.set_value(variable, new)
    np.testing.assert_allclose(run([])[0], dense_value(layer, new), rtol=TOL32)


def test_a_model_on_a_variable_trains_on_its_contents_without_input_data():
    contents = np.random.RandomState(1).rand(4, 2).astype('float32')
    x = L.Input(tensor=K.variable(contents))
    layer = L.Dense(1, kernel_initializer='ones', bias_initializer='zeros')
    model = Model(x, layer(x))
    model.compile(optimizers.SGD(lr=0.1), 'mse')
    assert model._feed_inputs == []
    y = np.zeros((4, 1), dtype='float32')
    loss = model.train_on_batch(None, y)
    np.testing.assert_allclose(loss, np.mean(contents.astype('float64').sum(axis=1) ** 2),
                               rtol=TOL32)
    # SGD: kernel -= lr * d(mean((x @ w) ** 2)) / dw = lr * 2 * x.T @ (x @ w) / n
    pred = contents.astype('float64').sum(axis=1, keepdims=True)
    expected_kernel = 1.0 - 0.1 * 2 * contents.T.astype('float64') @ pred / 4
    np.testing.assert_allclose(layer.get_weights()[0], expected_kernel, rtol=TOL32)


def _two_input_model():
    a, b = L.Input(shape=(3,), name='a'), L.Input(shape=(3,), name='b')
    shared = L.Dense(2, name='shared')
    out = L.add([shared(a), shared(b)])
    return Model([a, b], out)


def test_clone_model_on_variables_wraps_them_in_inputs_named_after_the_model_inputs():
    model = _two_input_model()
    va = np.random.RandomState(2).rand(4, 3).astype('float32')
    vb = np.random.RandomState(3).rand(4, 3).astype('float32')
    clone = clone_model(model, input_tensors=[K.variable(va), K.variable(vb)])
    assert [layer.name for layer in clone.input_layers] == ['input_wrapper_for_a',
                                                            'input_wrapper_for_b']
    clone.set_weights(model.get_weights())
    shared = clone.get_layer('shared')
    expected = dense_value(shared, va) + dense_value(shared, vb)
    np.testing.assert_allclose(K.function([], clone.outputs)([])[0], expected, rtol=TOL32)
    clone.compile('sgd', 'mse')
    loss = clone.train_on_batch(None, np.zeros((4, 2)))
    np.testing.assert_allclose(loss, np.mean(expected ** 2), rtol=TOL32)


def test_clone_model_on_input_tensors_uses_them_as_the_inputs():
    model = _two_input_model()
    a, b = L.Input(shape=(3,)), L.Input(shape=(3,))
    clone = clone_model(model, input_tensors=[a, b])
    assert clone.inputs == [a, b]
    assert clone.get_layer('shared') is not model.get_layer('shared')


def test_clone_sequential_model_on_a_variable_trains_on_its_contents():
    model = Sequential([L.Dense(2, input_shape=(3,)), L.BatchNormalization(), L.Dense(1)])
    contents = np.random.RandomState(4).rand(6, 3).astype('float32')
    clone = clone_model(model, input_tensors=K.variable(contents))
    assert len(clone.layers) == 3 and clone._feed_inputs == []
    clone.compile('rmsprop', 'mse')
    first = clone.train_on_batch(None, np.zeros((6, 1)))
    second = clone.train_on_batch(None, np.zeros((6, 1)))
    assert np.isfinite(first) and second != first


def test_clone_sequential_model_refuses_a_tensor_that_comes_from_another_layer():
    model = Sequential([L.Dense(2, input_shape=(3,))])
    hidden = L.Dense(3, name='hidden')(L.Input(shape=(3,)))
    with pytest.raises(ValueError, match='hidden'):
        clone_model(model, input_tensors=hidden)
