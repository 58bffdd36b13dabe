"""FAQ: How can I "freeze" Keras layers?

`trainable=False` in a constructor or as an attribute; `compile` snapshots which
weights are trainable, so the FAQ's frozen_model / trainable_model example
behaves exactly as written.
"""
import warnings

import numpy as np
import pytest

from keras_under_test import layers, models

Dense, Input = layers.Dense, layers.Input
Model, Sequential = models.Model, models.Sequential


def _data():
    rng = np.random.RandomState(0)
    return (rng.standard_normal((64, 32)).astype('float32'),
            rng.standard_normal((64, 32)).astype('float32'))


def test_faq_frozen_model_and_trainable_model():
    data, labels = _data()
    x = Input(shape=(32,))
    layer = Dense(32)
    layer.trainable = False
    y = layer(x)

    frozen_model = Model(x, y)
    frozen_model.compile(optimizer='rmsprop', loss='mse')

    layer.trainable = True
    trainable_model = Model(x, y)
    trainable_model.compile(optimizer='rmsprop', loss='mse')

    before = layer.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # frozen_model warns that trainable changed
        frozen_model.fit(data, labels, verbose=0)  # this does NOT update the weights of `layer`
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    trainable_model.fit(data, labels, verbose=0)  # this updates the weights of `layer`
    assert not np.array_equal(before[0], layer.get_weights()[0])


def test_trainable_constructor_argument():
    frozen = Dense(4, trainable=False)
    model = Sequential([Dense(4, input_shape=(32,)), frozen])
    model.compile('sgd', 'mse')
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    before = frozen.get_weights()
    data, labels = _data()
    model.fit(data, labels[:, :4], verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_changing_trainable_without_recompiling_has_no_effect_and_warns():
    data, labels = _data()
    layer = Dense(32, input_shape=(32,))
    model = Sequential([layer])
    model.compile('sgd', 'mse')
    layer.trainable = False  # not recompiled: training still updates it
    before = layer.get_weights()[0]
    with pytest.warns(UserWarning, match='Discrepancy between trainable weights'):
        model.fit(data, labels, verbose=0)
    assert not np.array_equal(before, layer.get_weights()[0])
    model.compile('sgd', 'mse')  # now the freeze takes effect
    before = layer.get_weights()[0]
    model.fit(data, labels, verbose=0)
    np.testing.assert_array_equal(before, layer.get_weights()[0])


def test_frozen_nested_model():
    data, labels = _data()
    inner = Sequential([Dense(8, input_shape=(32,))])
    outer = Sequential([inner, Dense(32)])
    inner.trainable = False
    outer.compile('sgd', 'mse')
    assert len(outer.trainable_weights) == 2
    before = inner.get_weights()
    outer.fit(data, labels, verbose=0)
    for a, b in zip(before, inner.get_weights()):
        np.testing.assert_array_equal(a, b)
