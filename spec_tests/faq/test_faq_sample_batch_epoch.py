"""FAQ: What does "sample", "batch", "epoch" mean?

One batch of N samples results in one update; an epoch is one pass over the
data; evaluation on validation data runs at the end of every epoch.
"""
import numpy as np

from keras_under_test import get_value, callbacks, layers, models, require, SGD

from recording import Recorder, indexed_data, seen_indices

Callback = callbacks.Callback
Dense, Input = layers.Dense, layers.Input
Model = models.Model


class BatchSizes(Callback):
    def __init__(self):
        super(BatchSizes, self).__init__()
        self.sizes, self.epoch_ends = [], []

    def on_batch_end(self, batch, logs=None):
        self.sizes.append(logs['size'])

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(len(self.sizes))


def _model(log):
    x = Input((3,))
    y = Dense(1)(Recorder(log)(x))
    model = Model(x, y)
    model.compile(SGD(lr=0.01), 'mse')
    return model


def test_one_update_per_batch_and_a_smaller_last_batch():
    require('batch_log_size')
    log = []
    model = _model(log)
    x, y = indexed_data(70)
    sizes = BatchSizes()
    model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[sizes], shuffle=False)
    # 70 samples in batches of 32: 32, 32, 6 -- three updates per epoch.
    assert sizes.sizes == [32, 32, 6] * 3
    assert sizes.epoch_ends == [3, 6, 9]
    assert int(get_value(model.optimizer.iterations)) == 9
    training_batches = seen_indices(log, 1)
    assert [len(b) for b in training_batches] == [32, 32, 6] * 3


def test_each_batch_moves_the_weights_once_by_its_own_gradient():
    # Plain SGD on a linear model: after one batch the kernel must be
    # w - lr * grad computed on that batch only (worked out with NumPy).
    log = []
    model = _model(log)
    x, y = indexed_data(10)
    x[:, 0] /= 10.0
    w0, b0 = model.get_weights()
    model.fit(x[:4], y[:4], batch_size=4, epochs=1, verbose=0, shuffle=False)
    err = x[:4] @ w0 + b0 - y[:4]
    grad_w = 2 * x[:4].T @ err / 4
    grad_b = 2 * err.sum(axis=0) / 4
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.01 * grad_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b1, b0 - 0.01 * grad_b, rtol=1e-5, atol=1e-7)


def test_validation_runs_once_at_the_end_of_every_epoch():
    log = []
    model = _model(log)
    x, y = indexed_data(40)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25, shuffle=False)
    phases = [p for p, _ in log]
    # Per epoch: 30 training samples in 4 batches (8, 8, 8, 6), then the 10
    # validation samples in test mode, in batches of 8 (8, 2).
    assert phases == [1, 1, 1, 1, 0, 0] * 2
