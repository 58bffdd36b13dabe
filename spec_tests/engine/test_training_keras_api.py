"""Parts of Keras 2.2.4's training API that its own tests use: external and
partial losses, `target_tensors`, per-output sample weights, pandas and SciPy
sparse data, stateful metrics, `training_utils` helpers, `_set_inputs`.

Values are worked out by hand for Dense layers with all-ones kernels and zero
biases on x = [[1, 2], [3, 4]]: each such layer outputs 3 and 7.
"""
import warnings

import numpy as np
import pytest

from refkeras import backend as K
from refkeras import losses
from refkeras.engine import training_utils
from refkeras.layers import Conv2D, Dense, Input
from refkeras.models import Model, Sequential, load_model
from refkeras.optimizers import SGD
from refkeras.utils.generic_utils import custom_object_scope

X = np.array([[1., 2.], [3., 4.]])
ZEROS = np.zeros((2, 1))


def ones_dense(name=None):
    return Dense(1, kernel_initializer='ones', bias_initializer='zeros', name=name)


def two_output_model():
    a = Input(shape=(2,))
    return Model(a, [ones_dense('first')(a), ones_dense('second')(a)])


def test_a_model_can_train_on_added_losses_alone():
    a = Input(shape=(2,))
    layer = ones_dense()
    out = layer(a)
    model = Model(a, out)
    model.add_loss(K.mean(out))
    with pytest.warns(UserWarning, match='missing from loss dictionary'):
        model.compile(SGD(lr=0.1), loss=None)   # as Keras 2.2.4: no output is trained
    assert model.evaluate(X, None, verbose=0) == pytest.approx(5.0)
    model.train_on_batch(X, None)
    # d mean(x . w) / dw = the mean of x's rows = [2, 3].
    np.testing.assert_allclose(layer.get_weights()[0].ravel(), [1 - 0.2, 1 - 0.3], rtol=1e-6)


def test_compile_without_any_loss_is_refused():
    with pytest.raises(ValueError, match='no loss to optimize'), \
            pytest.warns(UserWarning, match='missing from loss dictionary'):
        two_output_model().compile('sgd', loss=None)


def test_an_output_left_out_of_the_loss_dict_takes_no_targets_and_no_metrics():
    model = two_output_model()
    with pytest.warns(UserWarning, match='"first" missing from loss dictionary'):
        model.compile('sgd', loss={'second': 'mse'}, metrics=['mae'])
    assert model.metrics_names == ['loss', 'second_loss', 'second_mean_absolute_error']
    # mse (9 + 49) / 2 = 29, mae (3 + 7) / 2 = 5, for the second output only.
    np.testing.assert_allclose(model.evaluate(X, ZEROS, verbose=0), [29, 29, 5], rtol=1e-6)


def test_a_fixed_target_tensor_replaces_the_targets():
    model = Sequential([ones_dense('dense')])
    model.build((None, 2))
    model.compile(SGD(lr=0.0), loss='mse', target_tensors=[K.variable(ZEROS)])
    assert model.train_on_batch(X, None) == pytest.approx(29.0)
    with pytest.raises(ValueError):
        model.train_on_batch(X, ZEROS)     # the target is fixed: no data for it


def test_placeholder_target_tensors_are_fed_like_any_target():
    model = two_output_model()
    model.compile('sgd', loss='mse', target_tensors={'first': K.placeholder((2, 1))})
    np.testing.assert_allclose(model.test_on_batch(X, [ZEROS, ZEROS]), [58, 29, 29], rtol=1e-6)


@pytest.mark.parametrize('target_tensors, error', [
    (set(), TypeError),
    ([K.placeholder((2, 1))], ValueError),       # one entry for two outputs
    ({'third': None}, ValueError),
    (K.placeholder((2, 1)), ValueError),         # a single tensor for two outputs
])
def test_target_tensors_that_do_not_fit_the_outputs_are_refused(target_tensors, error):
    model = two_output_model()
    with pytest.raises(error):
        model.compile('sgd', loss='mse', target_tensors=target_tensors)
    assert model.optimizer is None


def test_sample_weights_of_several_outputs_may_leave_one_out():
    model = two_output_model()
    model.compile('sgd', loss='mse')
    # Second output: per-sample losses 9 and 49 weighted 1 and 0, divided by
    # the fraction of non-zero weights: (9 / 2) / 0.5 = 9.
    outs = model.test_on_batch(X, [ZEROS, ZEROS], sample_weight=[None, np.array([1., 0.])])
    np.testing.assert_allclose(outs, [29 + 9, 29, 9], rtol=1e-6)
    outs = model.test_on_batch(X, [ZEROS, ZEROS], sample_weight={'second': np.array([1., 0.])})
    np.testing.assert_allclose(outs, [29 + 9, 29, 9], rtol=1e-6)
    with pytest.raises(TypeError, match='list or a dict'):
        model.test_on_batch(X, [ZEROS, ZEROS], sample_weight=(None, np.array([1., 0.])))


def test_compile_checks_loss_weights_and_sample_weight_mode_structures():
    model = two_output_model()
    with pytest.raises(TypeError):
        model.compile('sgd', loss='mse', loss_weights=(0.5, 0.5))
    with pytest.raises(ValueError, match='"second" missing from sample_weight_mode'):
        model.compile('sgd', loss='mse', sample_weight_mode={'first': 'temporal'})


def test_pandas_data_frames_are_read_as_their_values():
    pd = pytest.importorskip('pandas')
    model = Sequential([ones_dense()])
    model.build((None, 2))
    model.compile('sgd', 'mse')
    np.testing.assert_allclose(model.predict(pd.DataFrame(X)), [[3], [7]])
    assert model.evaluate(pd.DataFrame(X), pd.DataFrame(ZEROS), verbose=0) == pytest.approx(29)


def test_scipy_sparse_inputs_and_targets_are_made_dense_batch_by_batch():
    sparse = pytest.importorskip('scipy.sparse')
    model = Sequential([ones_dense()])
    model.build((None, 2))
    model.compile(SGD(lr=0.0), 'mse')
    x_sparse, y_sparse = sparse.csr_matrix(X), sparse.csr_matrix(ZEROS)
    assert model.evaluate(x_sparse, y_sparse, batch_size=1, verbose=0) == pytest.approx(29)
    np.testing.assert_allclose(model.predict(x_sparse, batch_size=1), [[3], [7]])
    assert model.train_on_batch(x_sparse, y_sparse) == pytest.approx(29)
    model.fit(x_sparse, y_sparse, batch_size=1, epochs=1, verbose=0, validation_split=0.5)


def test_numpy_integers_are_accepted_as_filters():
    layer = Conv2D(np.int64(4), 1)
    assert layer.get_config()['filters'] == 4
    assert type(layer.get_config()['filters']) is int   # stays JSON-serialisable


def test_set_inputs_gives_a_model_its_input_tensors_back():
    a = Input(shape=(2,))
    model = Model(a, ones_dense()(a))
    with pytest.raises(ValueError, match='already set'):
        model._set_inputs([a])
    model.inputs = None
    model._set_inputs(a)
    np.testing.assert_allclose(model.predict(X), [[3], [7]])


def test_summary_warns_when_trainable_changed_since_compile():
    a = Input(shape=(2,))
    inner = Model(a, ones_dense()(a))
    inner.trainable = False
    b = Input(shape=(2,))
    outer = Model(b, ones_dense()(inner(b)))
    outer.compile('sgd', 'mse')
    inner.trainable = True
    with pytest.warns(UserWarning, match='Discrepancy'):
        outer.summary(print_fn=lambda line: None)
    outer.compile('sgd', 'mse')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        outer.summary(print_fn=lambda line: None)


def test_check_array_length_consistency_counts_none_as_no_samples():
    four = np.zeros((4, 3))
    training_utils.check_array_length_consistency(None, None, None)
    training_utils.check_array_length_consistency([four, four], [four], [four])
    training_utils.check_array_length_consistency([None], [None], [None])
    for inputs, targets, weights in [(four, None, None), (four, four, None),
                                     ([four], [np.zeros((3, 4))], None),
                                     ([four, np.zeros((3, 3))], [four], [four])]:
        with pytest.raises(ValueError):
            training_utils.check_array_length_consistency(inputs, targets, weights)


def test_weighted_masked_objective_averages_over_the_unmasked_timesteps():
    weighted = training_utils.weighted_masked_objective(losses.mean_absolute_error)
    y_true = np.zeros((1, 2, 1), dtype='float32')
    y_pred = np.array([[[1.], [3.]]], dtype='float32')
    mask = np.array([[1., 0.]], dtype='float32')
    # Timestep errors 1 and 3; the second is masked: the mean of what is kept is 1.
    assert float(weighted(y_true, y_pred, None, mask)) == pytest.approx(1.0)
    assert float(weighted(y_true, y_pred, np.array([1.], dtype='float32'))) == pytest.approx(2.0)
    assert training_utils.weighted_masked_objective(None) is None


def test_categorical_crossentropy_refuses_targets_with_a_last_axis_of_one():
    target = np.zeros((2, 3, 1))
    with pytest.raises(ValueError, match='You are passing a target array'):
        training_utils.check_loss_and_target_compatibility(
            [target], [losses.categorical_crossentropy], [target.shape])


class SampleCounter(object):
    """A stateful metric: the number of samples seen since the last reset."""
    stateful = True
    name = 'samples_seen'
    __name__ = 'samples_seen'

    def __init__(self):
        self.count = K.variable(0.0)

    def reset_states(self):
        K.set_value(self.count, 0.0)

    def __call__(self, y_true, y_pred):
        K.update_add(self.count, K.cast(K.shape(y_true)[0], 'float32'))
        return self.count * 1.0


def test_stateful_metrics_report_their_last_value_and_reset_every_epoch():
    model = Sequential([ones_dense()])
    model.build((None, 2))
    metric = SampleCounter()
    model.compile(SGD(lr=0.0), 'mse', metrics=[metric])
    x, y = np.ones((10, 2)), np.zeros((10, 1))
    # Batches of 4, 4 and 2: the count after the last batch, not the average.
    assert model.evaluate(x, y, batch_size=4, verbose=0)[1] == pytest.approx(10)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0,
                        validation_data=(x[:6], y[:6]))
    assert history.history['samples_seen'] == [10, 10]
    assert history.history['val_samples_seen'] == [6, 6]


class ScaledMSE(object):
    """A loss class with an option, saved with its config."""

    def __init__(self, scale):
        self.scale = scale
        self.__name__ = 'ScaledMSE'

    def __call__(self, y_true, y_pred):
        return self.scale * losses.mean_squared_error(y_true, y_pred)

    def get_config(self):
        return {'scale': self.scale}


def test_a_model_compiled_with_a_loss_class_loads_with_its_options(tmp_path):
    path = str(tmp_path / 'model.h5')
    with custom_object_scope({'ScaledMSE': ScaledMSE}):
        model = Sequential([ones_dense('out')])
        model.build((None, 2))
        model.compile(SGD(lr=0.0), loss={'out': ScaledMSE(0.5)})
        model.save(path)
        loaded = load_model(path)
    assert isinstance(loaded.loss_functions[0], ScaledMSE)
    # 0.5 * (9 + 49) / 2
    assert loaded.evaluate(X, ZEROS, verbose=0) == pytest.approx(14.5)


def test_training_utils_spread_weights_and_metrics_over_outputs_as_keras_does():
    names = ['a', 'b']
    w = np.ones(3)
    assert training_utils.standardize_sample_weights(None, names) == [None, None]
    assert training_utils.standardize_sample_weights({'b': w, 'other': 1}, names)[0] is None
    assert training_utils.standardize_sample_weights({'b': w}, names)[1] is w
    assert training_utils.standardize_class_weights({0: 1.0}, ['a']) == [{0: 1.0}]
    with pytest.raises(ValueError):
        training_utils.standardize_sample_weights([w], names)
    with pytest.raises(TypeError):
        training_utils.standardize_sample_weights(w, names)
    assert training_utils.collect_metrics(['mae'], names) == [['mae'], ['mae']]
    assert training_utils.collect_metrics({'b': 'mae'}, names) == [[], ['mae']]
    with pytest.raises(TypeError):
        training_utils.collect_metrics('mae', names)


def test_check_num_samples_and_iter_sequence_infinite():
    assert training_utils.check_num_samples([np.zeros((5, 2))], batch_size=2) == 5
    assert training_utils.check_num_samples([np.zeros((5, 2))], steps=3) is None
    with pytest.raises(ValueError):
        training_utils.check_num_samples([np.zeros((5, 2))], batch_size=2, steps=3)
    with pytest.raises(ValueError):
        training_utils.check_num_samples([], batch_size=2)
    items = training_utils.iter_sequence_infinite([1, 2])
    assert [next(items) for _ in range(5)] == [1, 2, 1, 2, 1]
