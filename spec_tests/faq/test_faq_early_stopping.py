"""FAQ: How can I interrupt training when the validation loss isn't decreasing anymore?

`EarlyStopping(monitor='val_loss', patience=2)` stops once the validation loss
has not improved for 2 epochs after its best.
"""
import numpy as np

from keras_under_test import SGD, callbacks, iterations, layers, models

Callback, EarlyStopping = callbacks.Callback, callbacks.EarlyStopping
Dense, Sequential = layers.Dense, models.Sequential


def test_faq_early_stopping_example():
    rng = np.random.RandomState(0)
    x = rng.standard_normal((100, 4)).astype('float32')
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype='float32')
    # The last 20% (the validation split) has the opposite targets, so as the
    # model learns the training data the validation loss can only grow.
    y[80:] = -y[80:]
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(SGD(lr=0.05), 'mse')
    early_stopping = EarlyStopping(monitor='val_loss', patience=2)
    hist = model.fit(x, y, validation_split=0.2, callbacks=[early_stopping], epochs=50,
                     verbose=0)
    val = hist.history['val_loss']
    assert all(b > a for a, b in zip(val, val[1:]))  # never improves after epoch 0
    # Best at epoch 0, then 2 epochs of patience: training ends after epoch 2.
    assert hist.epoch == [0, 1, 2]
    assert early_stopping.stopped_epoch == 2


def test_stop_training_works_from_any_callback():
    class StopAtBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile('sgd', 'mse')
    hist = model.fit(np.zeros((50, 2)), np.zeros((50, 1)), batch_size=5, epochs=5, verbose=0,
                     callbacks=[StopAtBatch()])
    assert hist.epoch == [0]
    assert iterations(model) == 2
