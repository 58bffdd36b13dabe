"""FAQ: "How can I remove a layer from a Sequential model?"

`model.pop()` removes the last layer. The FAQ's example prints 2, then 1.
As in Keras 2.2.4, popping a model without layers raises a TypeError. After a
pop the model is a working model again: its output is the previous layer's
output, `predict` gives the new shape, and layers can be added on top.
"""
import numpy as np
import pytest

from keras_under_test import auto_names, backend as K, layers, models

Dense = layers.Dense
Sequential = models.Sequential

RTOL, ATOL = 1e-5, 1e-6


def np_dense(x, layer, relu=False):
    kernel, bias = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    z = np.asarray(x, dtype=np.float64) @ kernel + bias
    return np.maximum(z, 0.0) if relu else z


def test_faq_example_prints_2_then_1(capsys):
    model = Sequential()
    model.add(Dense(32, activation='relu', input_dim=784))
    model.add(Dense(32, activation='relu'))

    print(len(model.layers))  # "2"

    model.pop()
    print(len(model.layers))  # "1"

    assert capsys.readouterr().out == '2\n1\n'


def test_pop_an_empty_model_raises_type_error():
    model = Sequential()
    with pytest.raises(TypeError, match='no layers'):
        model.pop()
    assert model.layers == []


def test_pop_until_empty_then_raise():
    model = Sequential([Dense(3, input_dim=2), Dense(4)])
    model.pop()
    model.pop()
    assert model.layers == []
    with pytest.raises(TypeError):
        model.pop()


def test_after_pop_the_output_is_the_previous_layers_output():
    K.clear_session()
    model = Sequential()
    model.add(Dense(6, activation='relu', input_dim=5))
    model.add(Dense(4, activation='relu'))
    model.add(Dense(3))
    first, second, third = model.layers
    model.pop()
    assert model.layers == [first, second]
    assert model.output is second.output
    assert model.outputs == [second.output]
    assert model.output_shape == (None, 4)
    # The popped layer's weights are no longer the model's.
    popped_ids = {id(w) for w in third.weights}
    assert not popped_ids & {id(w) for w in model.weights}
    assert model.count_params() == (5 * 6 + 6) + (6 * 4 + 4)
    assert [layer.name for layer in model.layers] == auto_names('dense', 2)

    x = np.random.RandomState(3).normal(size=(9, 5)).astype('float32')
    out = model.predict(x)
    assert out.shape == (9, 4)
    expected = np_dense(np_dense(x, first, relu=True), second, relu=True)
    np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)


def test_a_layer_can_be_added_after_pop():
    model = Sequential()
    model.add(Dense(6, activation='relu', input_dim=5))
    model.add(Dense(4))
    model.pop()
    head = Dense(2)
    model.add(head)
    assert len(model.layers) == 2
    assert model.layers[-1] is head
    assert model.output is head.output
    assert head.get_weights()[0].shape == (6, 2)

    x = np.random.RandomState(4).normal(size=(7, 5)).astype('float32')
    out = model.predict(x)
    assert out.shape == (7, 2)
    expected = np_dense(np_dense(x, model.layers[0], relu=True), head)
    np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)


def test_pop_twice_then_add_to_the_first_layer():
    model = Sequential([Dense(4, activation='relu', input_dim=3), Dense(5), Dense(6)])
    model.pop()
    model.pop()
    assert len(model.layers) == 1
    x = np.random.RandomState(5).normal(size=(4, 3)).astype('float32')
    np.testing.assert_allclose(model.predict(x), np_dense(x, model.layers[0], relu=True),
                               rtol=RTOL, atol=ATOL)
    model.add(Dense(2))
    expected = np_dense(np_dense(x, model.layers[0], relu=True), model.layers[1])
    np.testing.assert_allclose(model.predict(x), expected, rtol=RTOL, atol=ATOL)


def test_pop_then_compile_and_train_uses_the_remaining_layers():
    model = Sequential([Dense(4, input_dim=3), Dense(7)])
    model.pop()
    model.compile('sgd', 'mse')
    x = np.ones((2, 3), dtype='float32')
    y = np.zeros((2, 4), dtype='float32')
    # Targets of the new output shape are accepted; those of the old one are not.
    model.train_on_batch(x, y)
    with pytest.raises(ValueError):
        model.train_on_batch(x, np.zeros((2, 7), dtype='float32'))


def test_pop_on_a_model_built_later_from_data():
    model = Sequential([Dense(3), Dense(2)])
    model.pop()
    assert len(model.layers) == 1
    x = np.random.RandomState(6).normal(size=(5, 4)).astype('float32')
    out = model.predict(x)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out, np_dense(x, model.layers[0]), rtol=RTOL, atol=ATOL)


def test_pop_everything_then_start_again():
    model = Sequential([Dense(3, input_dim=2)])
    model.pop()
    assert model.layers == []
    model.add(Dense(4, input_dim=6))
    x = np.random.RandomState(7).normal(size=(3, 6)).astype('float32')
    np.testing.assert_allclose(model.predict(x), np_dense(x, model.layers[0]),
                               rtol=RTOL, atol=ATOL)
