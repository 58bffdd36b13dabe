"""FAQ: How can I use HDF5 inputs with Keras?

"You can use the `HDF5Matrix` class from `keras.utils.io_utils`. [...] You can
also directly use a HDF5 dataset: `model.predict(f['x_data'])`."

Checked here: the FAQ's snippet; `HDF5Matrix` against NumPy indexing of the
same rows; `fit` / `evaluate` / `predict` read HDF5 data batch by batch (a spy
counts the rows of every read); `shuffle='batch'` on HDF5 data trains exactly
as on the same arrays in memory (and as a hand-written SGD loop over the
batches seen); `shuffle=True` is refused with Keras 2.2.4's advice.
"""
import os

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keras_under_test import (get_value, IS_REFKERAS, SGD, callbacks, layers, models,
                              refkeras_only, require, utils)

if IS_REFKERAS:  # for the refkeras-only tests of its helpers
    from refkeras.engine import training_utils as tu

from recording import Recorder, indexed_data, seen_indices

Callback = callbacks.Callback
Dense, Input = layers.Dense, layers.Input
Model = models.Model
HDF5Matrix = getattr(utils, 'HDF5Matrix', None)
io_utils = getattr(utils, 'io_utils', None)

N = 37


@pytest.fixture(scope='module')
def h5_file(tmp_path_factory):
    """An HDF5 file with x_data (N, 3) (column 0: the sample index), y (N, 1), y_flat (N,)."""
    path = str(tmp_path_factory.mktemp('hdf5') / 'input.hdf5')
    x, y = indexed_data(N)
    with h5py.File(path, 'w') as f:
        f['x_data'] = x
        f['y'] = y
        f['y_flat'] = y[:, 0]
        f.create_group('group')['nested'] = np.arange(12.0).reshape(4, 3)
    return path, x, y


class ReadSpy(object):
    """An array-like over an h5py dataset that records how many rows each read returns."""

    def __init__(self, data):
        self.data = data
        self.reads = []

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, key):
        values = self.data[key]
        self.reads.append(len(values) if np.ndim(values) else 1)
        return values


def linear_model(log=None, lr=0.001):
    x_in = Input((3,))
    hidden = Recorder(log)(x_in) if log is not None else x_in
    model = Model(x_in, Dense(1)(hidden))
    model.compile(SGD(lr=lr), 'mse')
    return model


def affine(model, x):
    w, b = model.get_weights()
    return x.astype('float64') @ w + b


# --- the FAQ's snippet -----------------------------------------------------------------


def test_faq_snippet_predict_on_an_h5py_dataset(h5_file):
    path, x, _ = h5_file
    model = linear_model()
    with h5py.File(path, 'r') as f:
        x_data = f['x_data']
        predictions = model.predict(x_data)
    assert predictions.shape == (N, 1)
    np.testing.assert_allclose(predictions, affine(model, x), rtol=1e-5, atol=1e-5)


def test_hdf5matrix_is_importable_from_both_places():
    require('HDF5Matrix')
    assert HDF5Matrix is io_utils.HDF5Matrix


# --- read batch by batch ------------------------------------------------------------------


def test_predict_and_evaluate_read_one_batch_at_a_time(h5_file):
    path, x, y = h5_file
    model = linear_model()
    with h5py.File(path, 'r') as f:
        xs, ys = ReadSpy(f['x_data']), ReadSpy(f['y'])
        predictions = model.predict(xs, batch_size=8)
        assert max(xs.reads) <= 8 and sum(xs.reads) == N
        xs.reads.clear()
        loss = model.evaluate(xs, ys, batch_size=8, verbose=0)
        assert max(xs.reads) <= 8 and sum(xs.reads) == N
        assert max(ys.reads) <= 8 and sum(ys.reads) == N
    np.testing.assert_allclose(predictions, affine(model, x), rtol=1e-5, atol=1e-5)
    # The mean squared error over all samples, computed by hand.
    np.testing.assert_allclose(loss, np.mean((affine(model, x) - y) ** 2), rtol=1e-5)


@pytest.mark.parametrize('shuffle', [False, 'batch'])
def test_fit_reads_one_batch_at_a_time(h5_file, shuffle):
    path, _, _ = h5_file
    model = linear_model()
    with h5py.File(path, 'r') as f:
        xs, ys = ReadSpy(f['x_data']), ReadSpy(f['y'])
        model.fit(xs, ys, batch_size=6, epochs=2, shuffle=shuffle, verbose=0)
    assert max(xs.reads) <= 6 and sum(xs.reads) == 2 * N
    assert max(ys.reads) <= 6 and sum(ys.reads) == 2 * N


def test_evaluate_on_hdf5matrix_equals_the_hand_computed_loss(h5_file):
    require('HDF5Matrix')
    path, x, y = h5_file
    model = linear_model()
    loss = model.evaluate(HDF5Matrix(path, 'x_data', start=5, end=30),
                          HDF5Matrix(path, 'y', start=5, end=30), batch_size=7, verbose=0)
    np.testing.assert_allclose(loss, np.mean((affine(model, x[5:30]) - y[5:30]) ** 2), rtol=1e-5)


# --- HDF5Matrix against NumPy -------------------------------------------------------------


@st.composite
def views_and_keys(draw):
    start = draw(st.integers(0, N))
    end = draw(st.integers(start, N))
    length = end - start
    kinds = ['slice', 'list', 'mask'] + (['int'] if length else [])
    kind = draw(st.sampled_from(kinds))
    if kind == 'int':
        key = draw(st.integers(-length, length - 1))
    elif kind == 'slice':
        first = draw(st.none() | st.integers(-length, length))
        stop = draw(st.none() | st.integers(-length, length))
        key = slice(first, stop, draw(st.none() | st.integers(1, 3)))
    elif kind == 'list':
        key = sorted(draw(st.sets(st.integers(0, max(length - 1, 0)), max_size=length)))
        if draw(st.booleans()):
            key = np.asarray(key, dtype=int)
    else:
        key = np.asarray(draw(st.lists(st.booleans(), min_size=length, max_size=length)),
                         dtype=bool)
    return start, end, key, draw(st.booleans())


@given(views_and_keys())
def test_hdf5matrix_indexing_matches_numpy_on_the_same_rows(h5_file, drawn):
    require('HDF5Matrix')
    path, x, _ = h5_file
    start, end, key, normalize = drawn
    normalizer = (lambda a: a.astype('float64') * 2.0 + 1.0) if normalize else None
    matrix = HDF5Matrix(path, 'x_data', start=start, end=end, normalizer=normalizer)
    rows = x[start:end]  # the oracle: NumPy on the same rows
    expected = rows[key] if not isinstance(key, list) else rows[np.asarray(key, dtype=int)]
    if normalize:
        expected = expected.astype('float64') * 2.0 + 1.0
    np.testing.assert_array_equal(np.asarray(matrix[key]), expected)
    assert len(matrix) == end - start
    assert matrix.shape == (end - start, 3)
    assert matrix.ndim == 2 and matrix.size == (end - start) * 3
    assert matrix.dtype == (np.float64 if normalize else np.float32)
    matrix.close()


def test_hdf5matrix_tuple_index_and_array_conversion(h5_file):
    require('HDF5Matrix')
    path, x, _ = h5_file
    matrix = HDF5Matrix(path, 'x_data', start=3, end=20)
    np.testing.assert_array_equal(matrix[2:9, 1], x[5:12, 1])
    np.testing.assert_array_equal(matrix[4, 1:], x[7, 1:])
    np.testing.assert_array_equal(np.asarray(matrix), x[3:20])


def test_hdf5matrix_shape_and_dtype_follow_the_normalizer(h5_file):
    require('HDF5Matrix')
    path, x, _ = h5_file
    matrix = HDF5Matrix(path, 'x_data', start=2, end=12,
                        normalizer=lambda a: a[..., None].astype('float64'))
    assert matrix.shape == (10, 3, 1) and matrix.ndim == 3 and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix[0:2], x[2:4, :, None])


def test_hdf5matrix_of_a_nested_dataset(h5_file):
    require('HDF5Matrix')
    path, _, _ = h5_file
    matrix = HDF5Matrix(path, 'group/nested', start=1)
    np.testing.assert_array_equal(matrix[:], np.arange(3.0, 12.0).reshape(3, 3))


def test_hdf5matrix_bad_input_gives_clear_errors(h5_file, tmp_path):
    require('HDF5Matrix')
    path, _, _ = h5_file
    missing = str(tmp_path / 'nowhere.h5')
    with pytest.raises(OSError, match='nowhere.h5'):
        HDF5Matrix(missing, 'x_data')
    not_hdf5 = tmp_path / 'text.h5'
    not_hdf5.write_text('not an HDF5 file')
    with pytest.raises(OSError, match='text.h5'):
        HDF5Matrix(str(not_hdf5), 'x_data')
    with pytest.raises(KeyError, match="no dataset 'x_dta'.*'x_data'"):
        HDF5Matrix(path, 'x_dta')
    with pytest.raises(ValueError, match='not an array dataset'):
        HDF5Matrix(path, 'group')
    for start, end in [(-1, None), (5, 3), (0, N + 1), (N + 1, None), (1.5, None)]:
        with pytest.raises(ValueError, match='0 <= start <= end <= %d' % N):
            HDF5Matrix(path, 'x_data', start=start, end=end)
    matrix = HDF5Matrix(path, 'x_data', start=10, end=20)
    for key in (10, -11):
        with pytest.raises(IndexError, match='out of range for 10 rows'):
            matrix[key]
    with pytest.raises(IndexError, match='beyond the 10 rows'):
        matrix[5:11]  # Keras 2.2.4 refuses a stop past the end of the view
    with pytest.raises(IndexError, match='out of range'):
        matrix[[1, 10]]
    with pytest.raises(TypeError, match='strictly increasing.*shuffle="batch"'):
        matrix[[3, 1]]
    with pytest.raises(ValueError, match='positive step'):
        matrix[::-1]
    with pytest.raises(IndexError, match='mask'):
        matrix[np.ones(3, dtype=bool)]


# --- fit with shuffle='batch' -------------------------------------------------------------


def _hand_sgd(weights, batches, y, lr):
    """Plain SGD on the mean squared error of an affine model, batch by batch."""
    w, b = [v.astype('float64') for v in weights]
    for xb in batches:
        yb = y[xb[:, 0].astype(int)]
        error = xb @ w + b - yb
        w = w - lr * 2.0 * xb.T @ error / len(xb)
        b = b - lr * 2.0 * error.mean(axis=0)
    return w, b


def test_fit_shuffle_batch_on_hdf5_equals_the_same_arrays_in_memory(h5_file):
    require('HDF5Matrix')
    path, x, y = h5_file
    log_disk, log_memory = [], []
    on_disk, in_memory = linear_model(log_disk), linear_model(log_memory)
    in_memory.set_weights(on_disk.get_weights())  # the same starting point
    start = on_disk.get_weights()

    np.random.seed(1234)  # the same shuffle draws for both
    on_disk.fit(HDF5Matrix(path, 'x_data'), HDF5Matrix(path, 'y'), batch_size=5, epochs=3,
                shuffle='batch', verbose=0)
    np.random.seed(1234)
    in_memory.fit(x, y, batch_size=5, epochs=3, shuffle='batch', verbose=0)

    for a, b in zip(on_disk.get_weights(), in_memory.get_weights()):
        np.testing.assert_array_equal(a, b)
    orders = seen_indices(log_disk, 1)
    assert orders == seen_indices(log_memory, 1)
    # Whole chunks of 5 consecutive samples, the incomplete chunk (35, 36) last,
    # and a real shuffle (not the file order) in some epoch.
    epochs = [sum(orders[e * 8:(e + 1) * 8], []) for e in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(N)) and order[-2:] == [35, 36]
        assert all(b == list(range(b[0], b[0] + 5)) and b[0] % 5 == 0 for b in orders[:7])
    assert any(order != list(range(N)) for order in epochs)
    # And the weights are those of SGD run by hand over the batches seen.
    batches = [batch.astype('float64') for phase, batch in log_disk if phase == 1]
    w, b = _hand_sgd(start, batches, y.astype('float64'), lr=0.001)
    np.testing.assert_allclose(on_disk.get_weights()[0], w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(on_disk.get_weights()[1], b, rtol=1e-4, atol=1e-5)


class TrainingBegan(Callback):
    def __init__(self):
        super(TrainingBegan, self).__init__()
        self.began = False

    def on_train_begin(self, logs=None):
        self.began = True


@pytest.mark.parametrize('source', ['HDF5Matrix', 'h5py'])
def test_shuffle_true_on_hdf5_data_is_refused_with_the_advice(h5_file, source):
    require('HDF5Matrix')
    path, _, _ = h5_file
    model = linear_model()
    before = model.get_weights()
    with h5py.File(path, 'r') as f:
        xs = HDF5Matrix(path, 'x_data') if source == 'HDF5Matrix' else f['x_data']
        with pytest.raises(TypeError, match='shuffle="batch"'):
            model.fit(xs, f['y'], batch_size=8, epochs=1, shuffle=True, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(get_value(model.optimizer.iterations)) == 0


@refkeras_only('checks refkeras.engine.training_utils helpers')
def test_check_shuffle_supported(h5_file):
    path, x, _ = h5_file
    matrix = HDF5Matrix(path, 'x_data')
    with pytest.raises(TypeError, match='HDF5Matrix.*shuffle="batch"'):
        tu.check_shuffle_supported([x, matrix], True)
    for shuffle in (False, 'batch'):
        tu.check_shuffle_supported([x, matrix], shuffle)
    tu.check_shuffle_supported([x, None], True)


def test_shuffle_true_on_hdf5_is_refused_before_training_begins(h5_file):
    require('HDF5Matrix')
    path, _, _ = h5_file
    model = linear_model()
    began = TrainingBegan()
    with pytest.raises(TypeError, match='shuffle="batch"'):
        model.fit(HDF5Matrix(path, 'x_data'), HDF5Matrix(path, 'y'), shuffle=True, verbose=0,
                  callbacks=[began])
    assert not began.began


# --- targets and validation on disk -------------------------------------------------------


@refkeras_only('checks refkeras.engine.training_utils helpers')
def test_one_dimensional_h5py_targets_are_read_lazily_as_a_column(h5_file):
    path, x, y = h5_file
    with h5py.File(path, 'r') as f:
        column = tu.standardize_single_array(f['y_flat'])
        assert not isinstance(column, np.ndarray) and column.shape == (N, 1)
        np.testing.assert_array_equal(column[3:7], y[3:7])
        np.testing.assert_array_equal(column[[0, 5]], y[[0, 5]])
        on_disk, in_memory = linear_model(), linear_model()
        in_memory.set_weights(on_disk.get_weights())
        on_disk.fit(f['x_data'], f['y_flat'], batch_size=8, epochs=2, shuffle=False, verbose=0)
    in_memory.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(on_disk.get_weights(), in_memory.get_weights()):
        np.testing.assert_array_equal(a, b)


@refkeras_only('checks refkeras.engine.training_utils helpers')
def test_take_rows_is_a_lazy_view_matching_numpy(h5_file):
    path, x, _ = h5_file
    with h5py.File(path, 'r') as f:
        view, = tu.take_rows([f['x_data']], 10, 30)
        assert view.shape == (20, 3) and len(view) == 20
        np.testing.assert_array_equal(view[2:5], x[12:15])
        np.testing.assert_array_equal(view[-1], x[29])
        np.testing.assert_array_equal(view[[0, 4, 19]], x[[10, 14, 29]])
        np.testing.assert_array_equal(np.asarray(view), x[10:30])
    assert tu.take_rows([x, None], 10, 30)[0].base is x  # NumPy: a view, no copy


def test_validation_split_on_hdf5matrix_matches_in_memory(h5_file):
    require('HDF5Matrix')
    path, x, y = h5_file
    on_disk, in_memory = linear_model(), linear_model()
    in_memory.set_weights(on_disk.get_weights())
    history_disk = on_disk.fit(HDF5Matrix(path, 'x_data'), HDF5Matrix(path, 'y'), batch_size=6,
                               epochs=2, validation_split=0.3, shuffle=False, verbose=0)
    history_memory = in_memory.fit(x, y, batch_size=6, epochs=2, validation_split=0.3,
                                   shuffle=False, verbose=0)
    np.testing.assert_allclose(history_disk.history['val_loss'],
                               history_memory.history['val_loss'], rtol=1e-6)
    # Validation is the last 30%: 37 * 0.7 -> 25 training samples (int), 12 for validation.
    np.testing.assert_allclose(history_disk.history['val_loss'][-1],
                               np.mean((affine(on_disk, x[25:]) - y[25:]) ** 2), rtol=1e-5)


def test_validation_split_on_hdf5_reads_one_batch_at_a_time(h5_file):
    path, _, _ = h5_file
    model = linear_model()
    with h5py.File(path, 'r') as f:
        xs, ys = ReadSpy(f['x_data']), ReadSpy(f['y'])
        model.fit(xs, ys, batch_size=6, epochs=1, validation_split=0.3, shuffle=False,
                  verbose=0)
    assert max(xs.reads) <= 6 and max(ys.reads) <= 6


def test_the_file_is_opened_read_only(h5_file):
    require('HDF5Matrix')
    path, _, _ = h5_file
    matrix = HDF5Matrix(path, 'x_data')
    assert matrix.data.file.mode == 'r'
    assert os.path.exists(path)
    matrix.close()
