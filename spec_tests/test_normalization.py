"""BatchNormalization and the batch-norm `K` functions (issue 6).

Checked against computations written here:

- the moving statistics after training steps, worked by hand: with momentum
  `m`, `moving_mean <- m * moving_mean + (1 - m) * batch_mean` and
  `moving_variance <- m * moving_variance + (1 - m) * batch_var * n / (n - 1 - epsilon)`,
  `batch_var` the biased variance over the `n` values of each channel
  (Keras 2.2.4's `BatchNormalization.call`); e.g. the batch [1, 2, 3, 4] with
  momentum 0 leaves moving_mean 2.5 and moving_variance 1.25 * 4 / 2.999,
  the 1.6672224 reported for Keras 2.2.4 in keras-team/keras#10443;
- unchanged moving statistics in test mode (predict, evaluate, test_on_batch,
  validation);
- the outputs in both phases, against NumPy formulas;
- gradients of the training-phase normalization against central finite
  differences (float64);
- axis=1 on channels_first data equals axis=-1 on channels_last data.

Tolerances: float64 against float64 formulas `1e-10`; float32 layer values
against float64 formulas `1e-5` (values of order 1, a handful of float32
operations); finite differences as in `test_conv_primitives.py` (step 1e-6,
`1e-6` absolute + relative: the objective is smooth, its third derivative of
order 10 on these inputs, so the truncation error `H**2 / 6 * 10` is ~2e-12).
"""
import math

import numpy as np
import pytest

from refkeras import backend as K
from refkeras import layers as L
from refkeras import optimizers
from refkeras.models import Sequential

TOL64 = 1e-10
TOL32 = 1e-5


def bn_model(input_shape, **kwargs):
    """A model made of one BatchNormalization, trained with a zero learning rate
    (so that gamma and beta stay 1 and 0 and only the moving statistics change)."""
    model = Sequential([L.BatchNormalization(input_shape=input_shape, **kwargs)])
    model.compile(optimizers.SGD(lr=0.0), 'mse')
    return model


def test_moving_statistics_worked_example():
    model = bn_model((1,), momentum=0.0)
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype='float32')
    model.train_on_batch(x, np.zeros_like(x))
    gamma, beta, moving_mean, moving_variance = model.layers[0].get_weights()
    assert gamma.tolist() == [1.0] and beta.tolist() == [0.0]
    np.testing.assert_allclose(moving_mean, [2.5], rtol=1e-7)
    np.testing.assert_allclose(moving_variance, [1.25 * 4 / (4 - 1.001)], rtol=1e-6)
    np.testing.assert_allclose(moving_variance, [1.6672224], rtol=1e-6)


def test_moving_statistics_over_several_steps_by_hand():
    momentum, eps = 0.9, 1e-3
    model = bn_model((2,), momentum=momentum, epsilon=eps)
    rng = np.random.RandomState(0)
    mean, var = np.zeros(2), np.ones(2)
    for step in range(3):
        x = rng.normal(loc=[1.0, -2.0], scale=[0.5, 3.0], size=(8, 2)).astype('float32')
        model.train_on_batch(x, np.zeros_like(x))
        xd = x.astype('float64')
        batch_mean = xd.sum(axis=0) / 8
        batch_var = ((xd - batch_mean) ** 2).sum(axis=0) / 8
        mean = momentum * mean + (1 - momentum) * batch_mean
        var = momentum * var + (1 - momentum) * batch_var * 8 / (8 - 1 - eps)
        _, _, moving_mean, moving_variance = model.layers[0].get_weights()
        np.testing.assert_allclose(moving_mean, mean, rtol=TOL32, atol=TOL32)
        np.testing.assert_allclose(moving_variance, var, rtol=TOL32, atol=TOL32)


def test_fit_updates_once_per_batch():
    model = bn_model((3,), momentum=0.5)
    x = np.random.RandomState(1).normal(size=(12, 3)).astype('float32')
    model.fit(x, x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    mean = np.zeros(3)
    for start in (0, 4, 8):
        mean = 0.5 * mean + 0.5 * x[start:start + 4].astype('float64').mean(axis=0)
    np.testing.assert_allclose(model.layers[0].get_weights()[2], mean, rtol=TOL32, atol=TOL32)


def test_test_mode_changes_nothing_and_uses_the_moving_statistics():
    model = bn_model((3,), momentum=0.8)
    x = np.random.RandomState(2).normal(2.0, 3.0, size=(16, 3)).astype('float32')
    model.fit(x, x, batch_size=16, epochs=2, verbose=0)
    weights = model.layers[0].get_weights()
    out = model.predict(x)
    model.evaluate(x, x, verbose=0)
    model.test_on_batch(x, x)
    model.predict_on_batch(x)
    for before, after in zip(weights, model.layers[0].get_weights()):
        np.testing.assert_array_equal(before, after)
    gamma, beta, mean, var = [w.astype('float64') for w in weights]
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(out, expected, rtol=TOL32, atol=TOL32)


def test_validation_does_not_update_the_moving_statistics():
    x = np.random.RandomState(3).normal(size=(8, 2)).astype('float32')
    shifted = x + 100.0
    model = bn_model((2,), momentum=0.0)
    model.fit(x, x, batch_size=8, epochs=1, verbose=0, validation_data=(shifted, shifted))
    np.testing.assert_allclose(model.layers[0].get_weights()[2],
                               x.astype('float64').mean(axis=0), rtol=TOL32, atol=TOL32)


def test_training_phase_output_uses_the_batch_statistics():
    layer = L.BatchNormalization(epsilon=0.01)
    x = np.random.RandomState(4).normal(1.0, 2.0, size=(6, 4)).astype('float32')
    layer(x)
    gamma, beta = np.random.RandomState(5).uniform(0.5, 2, size=(2, 4))
    layer.set_weights([gamma, beta, np.zeros(4), np.ones(4)])
    out = np.asarray(layer(x, training=True))
    xd = x.astype('float64')
    mean, var = xd.mean(axis=0), xd.var(axis=0)
    np.testing.assert_allclose(out, (xd - mean) / np.sqrt(var + 0.01) * gamma + beta,
                               rtol=TOL32, atol=TOL32)
    # Outside a training step (no learning phase 1) nothing is updated.
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(4))
    # And by default (test phase outside a model run) the moving statistics are used.
    np.testing.assert_allclose(np.asarray(layer(x)), xd / np.sqrt(1.01) * gamma + beta,
                               rtol=TOL32, atol=TOL32)


def test_channels_first_axis_1_equals_channels_last():
    rng = np.random.RandomState(6)
    x = rng.normal(size=(4, 3, 5, 2)).astype('float32')           # channels last, 2 channels
    last = bn_model((3, 5, 2), momentum=0.7)
    first = bn_model((2, 3, 5), axis=1, momentum=0.7)
    x_first = np.moveaxis(x, -1, 1)
    last.train_on_batch(x, x)
    first.train_on_batch(x_first, x_first)
    for a, b in zip(last.layers[0].get_weights(), first.layers[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=TOL32, atol=TOL32)
    np.testing.assert_allclose(np.moveaxis(first.predict(x_first), 1, -1), last.predict(x),
                               rtol=TOL32, atol=TOL32)
    # The statistics are per channel over batch, rows and columns (n = 4 * 3 * 5).
    xd = x.astype('float64').reshape(-1, 2)
    expected_var = 0.7 + 0.3 * xd.var(axis=0) * 60 / (60 - 1.001)
    np.testing.assert_allclose(last.layers[0].get_weights()[3], expected_var, rtol=TOL32)


def test_weights_order_and_trainability():
    layer = L.BatchNormalization()
    layer(L.Input(shape=(5, 3)))
    assert [w.name.split('/')[-1] for w in layer.weights] == [
        'gamma:0', 'beta:0', 'moving_mean:0', 'moving_variance:0']
    assert [w.name.split('/')[-1] for w in layer.trainable_weights] == ['gamma:0', 'beta:0']
    assert all(w.shape == (3,) for w in layer.weights)
    assert [w.tolist() for w in layer.get_weights()] == [[1.0] * 3, [0.0] * 3, [0.0] * 3,
                                                         [1.0] * 3]
    assert len(layer.updates) == 2
    plain = L.BatchNormalization(center=False, scale=False, axis=1)
    plain(L.Input(shape=(4, 7)))
    assert [w.name.split('/')[-1] for w in plain.weights] == ['moving_mean:0',
                                                             'moving_variance:0']
    assert plain.weights[0].shape == (4,) and plain.trainable_weights == []


def test_gamma_and_beta_train_and_the_moving_weights_do_not_get_gradients():
    model = Sequential([L.BatchNormalization(input_shape=(2,))])
    model.compile(optimizers.SGD(lr=0.1), 'mse')
    x = np.random.RandomState(7).normal(size=(8, 2)).astype('float32')
    model.train_on_batch(x, 2 * x)
    gamma, beta = model.layers[0].get_weights()[:2]
    assert not np.allclose(gamma, 1.0)
    assert len(model.trainable_weights) == 2


def test_config_round_trip():
    layer = L.BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False,
                                 gamma_initializer='zeros', name='bn')
    config = layer.get_config()
    assert config['axis'] == 1 and config['momentum'] == 0.9 and config['epsilon'] == 0.01
    assert config['center'] is False and config['scale'] is True
    assert set(config) >= {'beta_initializer', 'gamma_initializer', 'moving_mean_initializer',
                           'moving_variance_initializer', 'beta_regularizer',
                           'gamma_regularizer', 'beta_constraint', 'gamma_constraint'}
    assert L.BatchNormalization.from_config(config).get_config() == config


# --- K functions ---------------------------------------------------------------------------

def test_k_batch_normalization_formula():
    rng = np.random.RandomState(8)
    x = rng.normal(size=(2, 3, 4))
    mean, var, beta, gamma = rng.normal(size=3), rng.uniform(0.5, 2, 3), rng.normal(size=3), \
        rng.normal(size=3)
    out = np.asarray(K.batch_normalization(x, mean, var, beta, gamma, axis=1, epsilon=0.1))
    expected = (x - mean[:, None]) / np.sqrt(var[:, None] + 0.1) * gamma[:, None] + beta[:, None]
    np.testing.assert_allclose(out, expected, rtol=TOL64, atol=TOL64)
    # Broadcast-shaped statistics and no beta / gamma.
    out = np.asarray(K.batch_normalization(x, mean.reshape(1, 3, 1), var.reshape(1, 3, 1), None,
                                           None, axis=1, epsilon=0.1))
    np.testing.assert_allclose(out, (x - mean[:, None]) / np.sqrt(var[:, None] + 0.1),
                               rtol=TOL64, atol=TOL64)


def test_k_normalize_batch_in_training():
    rng = np.random.RandomState(9)
    x = rng.normal(size=(3, 2, 4, 5))
    gamma, beta = rng.normal(size=2), rng.normal(size=2)
    normed, mean, var = K.normalize_batch_in_training(x, gamma, beta, [0, 2, 3], epsilon=0.01)
    expected_mean = np.array([x[:, c].mean() for c in range(2)])
    expected_var = np.array([np.mean((x[:, c] - x[:, c].mean()) ** 2) for c in range(2)])
    np.testing.assert_allclose(mean, expected_mean, rtol=TOL64, atol=TOL64)
    np.testing.assert_allclose(var, expected_var, rtol=TOL64, atol=TOL64)
    expected = (x - expected_mean[:, None, None]) / np.sqrt(expected_var[:, None, None] + 0.01) \
        * gamma[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(normed, expected, rtol=TOL64, atol=TOL64)


def test_normalize_batch_in_training_gradients_by_finite_differences():
    rng = np.random.RandomState(10)
    x0, gamma0, beta0 = rng.normal(size=(4, 3)), rng.uniform(0.5, 2, 3), rng.normal(size=3)
    g = rng.uniform(-1, 1, size=(4, 3))

    def objective(x, gamma, beta):
        normed, _, _ = K.normalize_batch_in_training(x, gamma, beta, [0], epsilon=0.01)
        return math.fsum((np.asarray(normed) * g).ravel())

    variables = [K.variable(v, dtype='float64') for v in (x0, gamma0, beta0)]
    with K.GradientTape(variables) as tape:
        normed, _, _ = K.normalize_batch_in_training(*variables, [0], epsilon=0.01)
        loss = K.sum(normed * g)
    grads = tape.gradient(loss, variables)
    values = [x0, gamma0, beta0]
    for which, grad in enumerate(grads):
        numeric = np.zeros_like(values[which])
        for index in np.ndindex(*numeric.shape):
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[which][index] += 1e-6
            minus[which][index] -= 1e-6
            numeric[index] = (objective(*plus) - objective(*minus)) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


# --- bad input ---------------------------------------------------------------------------------

def test_unknown_axis_size_cannot_build():
    layer = L.BatchNormalization(name='bn_none')
    with pytest.raises(ValueError, match=r'bn_none.*axis -1.*\(None, 3, None\)'):
        layer(L.Input(shape=(3, None)))
    assert layer.weights == [] and not layer.built


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r'bn_axis.*axis 3.*\(None, 4\)'):
        L.BatchNormalization(axis=3, name='bn_axis')(L.Input(shape=(4,)))


def test_wrong_channel_count_after_build_changes_nothing():
    model = bn_model((3,), momentum=0.0)
    model.train_on_batch(np.ones((2, 3), 'float32'), np.ones((2, 3), 'float32'))
    weights = model.layers[0].get_weights()
    layer = model.layers[0]
    with pytest.raises(ValueError, match=r'batch_normalization_\d+.*axis -1.*3.*\(2, 4\)'):
        layer(np.ones((2, 4), 'float32'))
    for before, after in zip(weights, layer.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_axis_must_be_an_int():
    with pytest.raises(ValueError, match=r'bn_list.*axis'):
        L.BatchNormalization(axis=[1, 2], name='bn_list')
