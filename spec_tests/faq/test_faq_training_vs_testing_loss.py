"""FAQ: Why is the training loss much higher than the testing loss?

Training runs in training mode (Dropout active, regularization penalties in the
loss); the training loss of an epoch is the average of the batch losses
(weighted by batch size), each computed before that batch's update; the test
loss is computed in test mode with the model as it is at the end of the epoch.
"""
import numpy as np
import pytest

from keras_under_test import callbacks, layers, models, regularizers, require, SGD

Callback = callbacks.Callback
Dense, Dropout, Input = layers.Dense, layers.Dropout, layers.Input
Model, Sequential = models.Model, models.Sequential


class BatchLosses(Callback):
    def on_train_begin(self, logs=None):
        self.losses, self.sizes = [], []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs['loss'])
        self.sizes.append(logs['size'])


def _data(n=50, seed=1):
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((n, 4)).astype('float32')
    y = (x @ rng.standard_normal((4, 1))).astype('float32')
    return x, y


def test_epoch_loss_is_the_batch_size_weighted_mean_of_batch_losses():
    require('batch_log_size')
    x, y = _data(50)
    model = Sequential([Dense(8, activation='tanh', input_shape=(4,)), Dense(1)])
    model.compile(SGD(lr=0.05), 'mse')
    rec = BatchLosses()
    hist = model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[rec], shuffle=False)
    assert rec.sizes == [16, 16, 16, 2]
    expected = np.dot(rec.losses, rec.sizes) / 50.0
    assert hist.history['loss'][0] == pytest.approx(expected, rel=1e-6)
    # ...and the model changed during the epoch, so the end-of-epoch loss differs.
    assert model.evaluate(x, y, verbose=0) != pytest.approx(hist.history['loss'][0], rel=1e-3)


def test_batch_loss_is_computed_before_the_update():
    x, y = _data(8)
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(SGD(lr=0.1), 'mse')
    before = model.evaluate(x, y, batch_size=8, verbose=0)
    reported = model.train_on_batch(x, y)
    assert reported == pytest.approx(before, rel=1e-6)
    assert model.evaluate(x, y, batch_size=8, verbose=0) < before


def test_dropout_is_active_in_training_and_off_in_testing():
    x, y = _data(64)
    model = Sequential([Dense(32, activation='relu', input_shape=(4,)), Dropout(0.5), Dense(1)])
    model.compile(SGD(lr=0.0), 'mse')  # lr 0: the weights never move
    test_loss = model.evaluate(x, y, verbose=0)
    # Test mode is deterministic and equals a NumPy forward pass without dropout.
    w1, b1, w2, b2 = model.get_weights()
    manual = np.mean((np.maximum(x @ w1 + b1, 0) @ w2 + b2 - y) ** 2)
    assert test_loss == pytest.approx(manual, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == test_loss
    train_loss = model.fit(x, y, batch_size=64, epochs=1, verbose=0).history['loss'][0]
    assert train_loss != pytest.approx(test_loss, rel=1e-3)


def test_weight_penalty_is_part_of_the_training_loss():
    x, y = _data(20)
    lam = 0.1
    inp = Input((4,))
    out = Dense(1, kernel_regularizer=regularizers.l2(lam))(inp)
    model = Model(inp, out)
    model.compile(SGD(lr=0.0), 'mse')
    w, b = model.get_weights()
    data_loss = np.mean((x @ w + b - y) ** 2)
    penalty = lam * np.sum(w ** 2)
    train_loss = model.fit(x, y, batch_size=20, epochs=1, verbose=0).history['loss'][0]
    assert train_loss == pytest.approx(data_loss + penalty, rel=1e-5)
    # As in Keras 2.2.4, the penalty's value is also reported by evaluate; it
    # changes no weight there.
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data_loss + penalty, rel=1e-5)
    np.testing.assert_array_equal(model.get_weights()[0], w)


def test_validation_loss_uses_the_model_at_the_end_of_the_epoch():
    x, y = _data(40)
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(SGD(lr=0.05), 'mse')
    hist = model.fit(x[:30], y[:30], batch_size=10, epochs=1, verbose=0,
                     validation_data=(x[30:], y[30:]), shuffle=False)
    assert hist.history['val_loss'][0] == pytest.approx(
        model.evaluate(x[30:], y[30:], verbose=0), rel=1e-6)
