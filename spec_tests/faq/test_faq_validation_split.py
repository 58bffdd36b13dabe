"""FAQ: How is the validation split computed?

`validation_split=0.25` takes the *last* 25% of the arrays as passed, before any
shuffling, and the same validation set is used for every epoch. Validation data
is never shuffled.
"""
import numpy as np
import pytest

from keras_under_test import layers, message, models, refkeras_only, SGD

from recording import Recorder, indexed_data, seen_indices

Dense, Input = layers.Dense, layers.Input
Model = models.Model


def _model(log):
    x = Input((3,))
    model = Model(x, Dense(1)(Recorder(log)(x)))
    model.compile(SGD(lr=0.001), 'mse')
    return model


@pytest.mark.parametrize('shuffle', [True, False, 'batch'])
def test_validation_is_the_last_quarter_in_order_every_epoch(shuffle):
    log = []
    model = _model(log)
    x, y = indexed_data(40)
    model.fit(x, y, batch_size=4, epochs=3, verbose=0, validation_split=0.25, shuffle=shuffle)
    validation = seen_indices(log, 0)
    per_epoch = len(validation) // 3
    for epoch in range(3):
        seen = sum(validation[epoch * per_epoch:(epoch + 1) * per_epoch], [])
        assert seen == list(range(30, 40))  # the last 25%, in the order passed
    trained = sorted(sum(seen_indices(log, 1), []))
    assert trained == sorted(list(range(30)) * 3)  # never a validation sample


def test_validation_loss_equals_evaluate_on_the_last_fraction_only():
    log = []
    model = _model(log)
    x, y = indexed_data(40, seed=3)
    x[:, 0] = 0.0
    model.compile(SGD(lr=0.0), 'mse')  # no learning: the split alone decides val_loss
    hist = model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_split=0.25)
    assert hist.history['val_loss'][0] == pytest.approx(
        model.evaluate(x[30:], y[30:], verbose=0), rel=1e-6)
    assert hist.history['val_loss'][0] != pytest.approx(
        model.evaluate(x[:10], y[:10], verbose=0), rel=1e-3)


def test_validation_data_overrides_validation_split():
    log = []
    model = _model(log)
    x, y = indexed_data(20)
    vx, vy = indexed_data(6, seed=9)
    vx[:, 0] = np.arange(100, 106)
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, validation_split=0.5,
              validation_data=(vx, vy))
    assert sum(seen_indices(log, 0), []) == list(range(100, 106))
    assert sorted(sum(seen_indices(log, 1), [])) == list(range(20))


@refkeras_only("refkeras refuses bad input; Keras 2.2.4's fit ignores a split outside (0, 1)")
@pytest.mark.parametrize('split', [-0.1, 1.0, 1.5])
def test_validation_split_outside_unit_interval_is_refused(split):
    model = _model([])
    x, y = indexed_data(10)
    before = model.get_weights()
    with pytest.raises(ValueError, match='validation_split'):
        model.fit(x, y, validation_split=split, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_split_leaving_no_training_samples_is_refused():
    model = _model([])
    x, y = indexed_data(3)
    with pytest.raises(ValueError, match=message('no training samples')):
        model.fit(x, y, validation_split=0.5 / 3 + 0.8, verbose=0)
