"""FAQ: How can I record the training / validation loss / accuracy at each epoch?

`fit` returns the `History` callback; `history.history` maps Keras 2.2.4's log
keys ('loss', 'acc', 'val_loss', 'val_acc') to per-epoch lists.
"""
import numpy as np
import pytest

from keras_under_test import callbacks, layers, metric_key, models, refkeras_only

History, Dense, Sequential = callbacks.History, layers.Dense, models.Sequential
ACC = metric_key('accuracy')


def _classifier():
    model = Sequential([Dense(8, activation='relu', input_shape=(5,)),
                        Dense(3, activation='softmax')])
    model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
    return model


def _data(n=60):
    rng = np.random.RandomState(0)
    x = rng.standard_normal((n, 5)).astype('float32')
    y = np.eye(3, dtype='float32')[rng.randint(0, 3, n)]
    return x, y


def test_fit_returns_history_with_keras_keys():
    model = _classifier()
    x, y = _data()
    hist = model.fit(x, y, validation_split=0.2, epochs=4, batch_size=10, verbose=0)
    assert isinstance(hist, History) and hist is model.history
    assert sorted(hist.history) == sorted([ACC, 'loss', 'val_' + ACC, 'val_loss'])
    assert all(len(v) == 4 for v in hist.history.values())
    assert hist.epoch == [0, 1, 2, 3]


@refkeras_only
def test_history_params_are_keras_2_2_4s():
    # tf.keras 2 keeps only 'epochs', 'steps' and 'verbose' in params.
    model = _classifier()
    x, y = _data()
    hist = model.fit(x, y, validation_split=0.2, epochs=4, batch_size=10, verbose=0)
    assert hist.params['epochs'] == 4 and hist.params['batch_size'] == 10
    assert hist.params['samples'] == 48 and hist.params['do_validation'] is True
    assert hist.params['metrics'] == ['loss', 'acc', 'val_loss', 'val_acc']


def test_history_values_are_the_epoch_figures():
    model = _classifier()
    x, y = _data()
    hist = model.fit(x[:48], y[:48], validation_data=(x[48:], y[48:]), epochs=1, batch_size=48,
                     verbose=0, shuffle=False)
    loss, acc = model.evaluate(x[48:], y[48:], verbose=0)
    assert hist.history['val_loss'][0] == pytest.approx(loss, rel=1e-6)
    assert hist.history['val_' + ACC][0] == pytest.approx(acc, rel=1e-6)
    # Accuracy as a count worked out by hand from the predictions.
    pred = model.predict(x[48:])
    assert acc == pytest.approx(np.mean(pred.argmax(1) == y[48:].argmax(1)))


def test_metric_names_are_keras_2_2_4_keys():
    # 'accuracy' and 'acc' both give 'acc' (and 'crossentropy' gives 'ce') in Keras 2.2.4.
    x, y = _data()
    for metric, key in [('accuracy', 'acc'), ('acc', 'acc'), ('crossentropy', 'ce'),
                        ('categorical_accuracy', 'categorical_accuracy'), ('mse', 'mean_squared_error')]:
        key = metric_key(metric, key)
        model = Sequential([Dense(3, activation='softmax', input_shape=(5,))])
        model.compile('sgd', 'categorical_crossentropy', metrics=[metric])
        hist = model.fit(x, y, epochs=1, verbose=0, validation_split=0.5)
        assert sorted(hist.history) == sorted(['loss', key, 'val_loss', 'val_' + key])


def test_history_after_initial_epoch_counts_from_it():
    model = _classifier()
    x, y = _data()
    hist = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert hist.epoch == [3, 4] and len(hist.history['loss']) == 2
