"""compile / fit / evaluate / predict options and the training engine's bad inputs.

Every bad input must raise a clear error before any weight or optimizer slot
changes.
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras.layers import Dense, Input
from refkeras.models import Model, Sequential
from refkeras.optimizers import SGD


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged(before, model):
    after = model.get_weights()
    assert len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def _classifier(compile_model=True):
    model = Sequential([Dense(6, activation='relu', input_shape=(4,)),
                        Dense(3, activation='softmax')])
    if compile_model:
        model.compile(SGD(lr=0.1, momentum=0.9), 'categorical_crossentropy', metrics=['acc'])
    return model


def _data(n=20, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.standard_normal((n, 4)).astype('float32'),
            np.eye(3, dtype='float32')[rng.randint(0, 3, n)])


# --- bad input -------------------------------------------------------------------

def test_fit_before_compile():
    model = _classifier(compile_model=False)
    x, y = _data()
    with pytest.raises(RuntimeError, match='compile'):
        model.fit(x, y, verbose=0)


def test_x_and_y_of_different_lengths():
    model = _classifier()
    x, y = _data()
    before = _weights(model)
    with pytest.raises(ValueError, match='20 input samples and 19 target samples'):
        model.fit(x, y[:19], verbose=0)
    _assert_unchanged(before, model)


def test_integer_labels_with_categorical_crossentropy():
    model = _classifier()
    x, _ = _data()
    before = _weights(model)
    with pytest.raises(ValueError, match='sparse_categorical_crossentropy'):
        model.fit(x, np.random.randint(0, 3, (20, 1)), verbose=0)
    _assert_unchanged(before, model)
    assert model.optimizer.weights == [] or int(K.get_value(model.optimizer.iterations)) == 0


def test_targets_of_the_wrong_shape():
    model = _classifier()
    x, _ = _data()
    with pytest.raises(ValueError, match=r'target array with shape \(20, 5\) was passed for an output of shape \(None, 3\)'):
        model.fit(x, np.zeros((20, 5)), verbose=0)


def test_inputs_of_the_wrong_shape_name_the_input():
    model = _classifier()
    with pytest.raises(ValueError, match=r'expected dense_\d+_input to have shape \(4,\) but got '
                                         r'array with shape \(5,\)'):
        model.predict(np.zeros((2, 5)))


@pytest.mark.parametrize('kwargs, match', [
    (dict(optimizer='sgdd', loss='mse'), 'sgdd'),
    (dict(optimizer='sgd', loss='mean_squared_erorr'), 'mean_squared_erorr'),
    (dict(optimizer='sgd', loss='mse', metrics=['acuracy']), 'acuracy'),
])
def test_unknown_names_in_compile(kwargs, match):
    model = _classifier(compile_model=False)
    with pytest.raises(ValueError, match=match):
        model.compile(**kwargs)
    assert model.optimizer is None  # nothing was half-set


@pytest.mark.filterwarnings('ignore:invalid:RuntimeWarning')
def test_nan_inputs_are_trained_on_as_keras_does_with_a_warning_naming_where():
    model = _classifier()
    x, y = _data()
    x[3, 2] = np.nan
    with pytest.warns(UserWarning, match=r'NaN.*index \(3, 2\)'):
        history = model.fit(x, y, verbose=0, batch_size=len(x), shuffle=False)
    # One batch holding the NaN sample: its loss is NaN, as in Keras 2.2.4.
    assert np.isnan(history.history['loss'][0])
    with pytest.warns(UserWarning, match='NaN'):
        assert np.isnan(model.train_on_batch(x, y)[0])


@pytest.mark.filterwarnings('ignore:overflow:RuntimeWarning', 'ignore:invalid:RuntimeWarning')
def test_nan_loss_during_training_shows_in_history_and_terminate_on_nan_stops():
    from refkeras.callbacks import TerminateOnNaN
    x = np.ones((10, 1), dtype='float32')
    y = np.ones((10, 1), dtype='float32')
    for callbacks, epochs in [([], 3), ([TerminateOnNaN()], 1)]:
        model = Sequential([Dense(1, input_shape=(1,), kernel_initializer='ones')])
        model.compile(SGD(lr=1e30), 'mse')
        hist = model.fit(x * 1e20, y, batch_size=5, epochs=3, verbose=0, callbacks=callbacks)
        assert len(hist.history['loss']) == epochs
        assert not np.isfinite(hist.history['loss'][-1])


# --- options --------------------------------------------------------------------

def test_sample_weight_and_class_weight_match_hand_weighting():
    rng = np.random.RandomState(1)
    x = rng.standard_normal((8, 2)).astype('float32')
    y = rng.standard_normal((8, 1)).astype('float32')
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(SGD(lr=0.0), 'mse')
    w, b = model.get_weights()
    per_sample = ((x @ w + b - y) ** 2).ravel()
    sw = np.array([0, 1, 2, 0, 1, 1, 3, 0], dtype='float32')
    # Keras 2.2.4: mean(loss * w) / (fraction of non-zero weights).
    expected = np.mean(per_sample * sw) / np.mean(sw != 0)
    assert model.evaluate(x, y, sample_weight=sw, verbose=0, batch_size=8) == \
        pytest.approx(expected, rel=1e-5)
    assert model.train_on_batch(x, y, sample_weight=sw) == pytest.approx(expected, rel=1e-5)

    cls_model = _classifier()
    cx, cy = _data(12)
    cls_model.compile(SGD(lr=0.0), 'categorical_crossentropy')
    p = cls_model.predict(cx)
    ce = -np.log(np.clip((cy * p).sum(1), 1e-7, 1 - 1e-7))
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    cw = np.array([weights[c] for c in cy.argmax(1)])
    hist = cls_model.fit(cx, cy, class_weight=weights, batch_size=12, epochs=1, verbose=0)
    assert hist.history['loss'][0] == pytest.approx(np.mean(ce * cw), rel=1e-5)
    with pytest.raises(ValueError, match='class_weight'):
        cls_model.fit(cx, cy, class_weight={0: 1.0, 1: 1.0}, verbose=0)


def test_multi_output_losses_loss_weights_and_names():
    inp = Input((3,), name='features')
    a = Dense(2, name='out_a')(inp)
    b = Dense(1, activation='sigmoid', name='out_b')(inp)
    model = Model(inp, [a, b])
    model.compile(SGD(lr=0.0), loss={'out_a': 'mse', 'out_b': 'binary_crossentropy'},
                  loss_weights={'out_a': 0.5, 'out_b': 2.0}, metrics=['acc'])
    assert model.metrics_names == ['loss', 'out_a_loss', 'out_b_loss', 'out_a_acc', 'out_b_acc']
    rng = np.random.RandomState(0)
    x = rng.standard_normal((10, 3)).astype('float32')
    ya = rng.standard_normal((10, 2)).astype('float32')
    yb = rng.randint(0, 2, (10, 1)).astype('float32')
    pa, pb = model.predict(x)
    mse = np.mean((pa - ya) ** 2)
    p = np.clip(pb, 1e-7, 1 - 1e-7)
    bce = np.mean(-(yb * np.log(p) + (1 - yb) * np.log(1 - p)))
    out = model.evaluate(x, {'out_a': ya, 'out_b': yb}, batch_size=10, verbose=0)
    assert out[0] == pytest.approx(0.5 * mse + 2.0 * bce, rel=1e-4)
    assert out[1] == pytest.approx(mse, rel=1e-5) and out[2] == pytest.approx(bce, rel=1e-4)
    assert out[4] == pytest.approx(np.mean((pb > 0.5) == yb))


def test_validation_data_with_weights_and_verbose_modes(capsys):
    model = _classifier()
    x, y = _data(30)
    model.fit(x, y, validation_data=(x[:10], y[:10], np.ones(10)), epochs=2, verbose=2,
              batch_size=10)
    out = capsys.readouterr().out
    assert 'Train on 30 samples, validate on 10 samples' in out
    assert out.count('Epoch 1/2') == 1 and out.count('Epoch 2/2') == 1
    assert ' - loss: ' in out and ' - val_acc: ' in out
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ''
    with pytest.raises(ValueError, match='2 .* or 3'):
        model.fit(x, y, validation_data=(x,), verbose=0)


def test_steps_per_epoch_runs_that_many_updates():
    model = _classifier()
    x, y = _data(10)
    model.fit(x, y, steps_per_epoch=4, epochs=2, verbose=0)
    assert int(K.get_value(model.optimizer.iterations)) == 8


def test_on_batch_methods_and_evaluate_return_types():
    model = _classifier()
    x, y = _data(9)
    loss, acc = model.test_on_batch(x, y)
    p = model.predict_on_batch(x)
    np.testing.assert_allclose(p, model.predict(x, batch_size=4), rtol=1e-6)
    assert acc == pytest.approx(np.mean(p.argmax(1) == y.argmax(1)))
    single = Sequential([Dense(1, input_shape=(4,))])
    single.compile('sgd', 'mse')
    assert isinstance(single.evaluate(x, np.zeros((9, 1)), verbose=0), float)
    assert isinstance(single.train_on_batch(x, np.zeros((9, 1))), float)


def test_momentum_state_resumes_across_fit_calls():
    # Two fit calls of one epoch each must equal one fit of two epochs: the
    # optimizer's slots (momentum) carry over (shuffle off for comparability).
    x, y = _data(12)
    np.random.seed(3)
    a = _classifier()
    np.random.seed(3)
    b = _classifier()
    a.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    b.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    b.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_sequential_predict_classes_and_proba():
    x, _ = _data(7)
    model = _classifier()
    p = model.predict(x)
    np.testing.assert_array_equal(model.predict_classes(x), p.argmax(axis=-1))
    np.testing.assert_allclose(model.predict_proba(x), p)
    binary = Sequential([Dense(1, activation='sigmoid', input_shape=(4,))])
    q = binary.predict(x)
    np.testing.assert_array_equal(binary.predict_classes(x), (q > 0.5).astype('int32'))
    linear = Sequential([Dense(2, input_shape=(4,), kernel_initializer='ones')])
    with pytest.warns(UserWarning, match='invalid probability'):
        linear.predict_proba(np.full((2, 4), 3.0))


def test_evaluate_returns_numpy_scalars_with_an_empty_shape():
    model = Sequential([Dense(1, input_shape=(2,), kernel_initializer='ones',
                              bias_initializer='zeros')])
    model.compile('sgd', 'mse')
    x = np.array([[1., 2.], [3., -1.], [0., 0.5]], dtype='float32')
    y = np.zeros((3, 1), dtype='float32')
    loss = model.evaluate(x, y, batch_size=2, verbose=0)
    # outputs are x1 + x2 = 3, 2, 0.5: the mean squared error worked by hand
    assert isinstance(loss, np.float64) and loss.shape == ()
    assert loss == pytest.approx((9. + 4. + 0.25) / 3, rel=1e-6)

    def batches():
        while True:
            yield x, y
    from_generator = model.evaluate_generator(batches(), steps=2)
    assert isinstance(from_generator, np.float64) and from_generator.shape == ()
