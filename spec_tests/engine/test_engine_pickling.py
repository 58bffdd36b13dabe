"""Pickling models (`pickle.dumps(model)`, issue 18; Keras 2.2.4 pickles a
model as its config, weights, training configuration and optimizer state).

Expected: the unpickled model is a new model with the same architecture and
weights (same predictions), compiled as the original was, with the same
optimizer state, so that training both on the same batches gives the same
weights. Both run the same NumPy operations in the same order, so the
comparison is exact.
"""
import pickle

import numpy as np

from refkeras import backend as K
from refkeras import layers as L
from refkeras import optimizers
from refkeras.models import Model, Sequential


def _data(seed, shape):
    return np.random.RandomState(seed).rand(*shape).astype('float32')


def test_an_unpickled_model_is_a_new_model_that_predicts_the_same():
    model = Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])
    copy = pickle.loads(pickle.dumps(model))
    assert copy is not model and copy.layers[0] is not model.layers[0]
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    x = _data(0, (5, 3))
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))
    assert copy.optimizer is None


def test_an_unpickled_model_goes_on_training_exactly_as_the_original():
    x_in = L.Input(shape=(3,))
    model = Model(x_in, L.Dense(2)(L.Dense(4, activation='tanh')(x_in)))
    model.compile(optimizers.Adam(lr=0.01, decay=0.1), 'mse', metrics=['mae'])
    x, y = _data(1, (6, 3)), _data(2, (6, 2))
    model.train_on_batch(x, y)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.metrics_names == model.metrics_names
    assert isinstance(copy.optimizer, optimizers.Adam)
    assert K.get_value(copy.optimizer.iterations) == 1
    for _ in range(2):
        assert copy.train_on_batch(x, y) == model.train_on_batch(x, y)
    for a, b in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(copy.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_unpickled_model_keeps_an_input_that_no_output_depends_on():
    a, b = L.Input(shape=(4, 6)), L.Input(shape=(4, 1))
    out = L.Lambda(lambda t: t[:, :, :1])(a)
    model = Model([a, b], out)
    copy = pickle.loads(pickle.dumps(model))
    assert len(copy.inputs) == 2
    assert [K.int_shape(t) for t in copy.inputs] == [(None, 4, 6), (None, 4, 1)]
    x = _data(3, (2, 4, 6))
    np.testing.assert_array_equal(copy.predict([x, _data(4, (2, 4, 1))]), x[:, :, :1])


def test_the_config_of_a_model_with_an_unused_input_lists_that_input():
    a, b = L.Input(shape=(2,), name='used'), L.Input(shape=(2,), name='unused')
    model = Model([a, b], L.Dense(1)(a))
    config = model.get_config()
    assert [entry[0] for entry in config['input_layers']] == ['used', 'unused']
    assert Model.from_config(config).input_names == ['used', 'unused']
    assert [layer.name for layer in model.layers][:1] == ['used']


def test_a_deferred_sequential_model_compiled_before_its_build_unpickles_and_builds_on_data():
    model = Sequential([L.Dense(2)])
    model.compile('sgd', 'mse')
    copy = pickle.loads(pickle.dumps(model))
    assert copy.built is False
    copy.train_on_batch(_data(5, (3, 4)), _data(6, (3, 2)))
    assert copy.built and copy.count_params() == 4 * 2 + 2
