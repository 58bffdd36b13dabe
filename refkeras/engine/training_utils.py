"""Checking and slicing the data given to `fit`, `evaluate` and `predict`.

Everything here runs before training touches the model, so bad input raises
before any weight changes (docs/design.md, invariant 7).
"""
import warnings

import numpy as np

from refkeras import backend as K
from refkeras import losses
from refkeras.utils.io_utils import HDF5Matrix, h5py


def is_array_like(x):
    """Arrays and array-likes readable by slicing (NumPy, h5py datasets, HDF5Matrix)."""
    return hasattr(x, 'shape') and hasattr(x, '__getitem__') and hasattr(x, '__len__')


class LazyRows(object):
    """Rows `start:stop` of an array-like read only when indexed, optionally as columns.

    Lets `fit` split off the validation rows of HDF5 data, and see a 1-D h5py
    dataset as a column, without reading the data (FAQ: "How can I use HDF5
    inputs with Keras?").

    # Arguments
        base: an array-like readable by slicing (h5py dataset, HDF5Matrix).
        start, stop: the rows of `base` in the view.
        as_column: whether 1-D rows are returned as a column (shape (n, 1)).
    """

    def __init__(self, base, start=0, stop=None, as_column=False):
        self.base = base
        self.start = int(start)
        self.stop = int(base.shape[0]) if stop is None else int(stop)
        self.as_column = as_column

    @property
    def shape(self):
        inner = tuple(self.base.shape[1:])
        return (self.stop - self.start,) + (inner + (1,) if self.as_column else inner)

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return self.stop - self.start

    def __getitem__(self, key):
        length = len(self)
        if isinstance(key, slice):
            first, last, step = key.indices(length)
            rows = np.asarray(self.base[self.start + first:self.start + last:step]
                              if step != 1 else self.base[self.start + first:self.start + last])
        elif isinstance(key, (int, np.integer)):
            position = int(key) + length if key < 0 else int(key)
            if not 0 <= position < length:
                raise IndexError('index %d is out of range for %d rows' % (key, length))
            rows = np.asarray(self.base[self.start + position])
            return rows.reshape(1) if self.as_column else rows
        else:
            positions = [int(i) + length if i < 0 else int(i) for i in np.asarray(key).tolist()]
            rows = np.asarray(self.base[[self.start + i for i in positions]])
        return rows.reshape(rows.shape + (1,)) if self.as_column else rows

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values if dtype is None else values.astype(dtype)


def is_sparse_matrix(x):
    """Whether `x` is a SciPy sparse matrix (fed as is; each batch is made dense)."""
    return type(x).__module__.startswith('scipy.sparse') and hasattr(x, 'toarray')


def is_in_memory(x):
    """NumPy arrays and SciPy sparse matrices: rows readable in any order."""
    return isinstance(x, np.ndarray) or is_sparse_matrix(x)


def take_rows(arrays, start, stop):
    """Rows `start:stop` of each array, without reading array-likes (None stays None).

    NumPy arrays give views; other array-likes (h5py datasets, HDF5Matrix) give a
    `LazyRows` that reads only what is indexed. For `fit`'s `validation_split`.
    """
    out = []
    for a in arrays:
        if a is None or is_in_memory(a):
            out.append(a if a is None else a[start:stop])
        else:
            out.append(LazyRows(a, start, stop))
    return out


def check_shuffle_supported(arrays, shuffle):
    """Refuses `shuffle=True` on data that is not in memory, before training starts.

    HDF5 data (h5py datasets, `HDF5Matrix`) can only be read in increasing
    row order; Keras 2.2.4's advice applies: pass `shuffle='batch'`.

    # Raises
        TypeError: if `shuffle` is True and one of `arrays` is not a NumPy array.
    """
    if not shuffle or (isinstance(shuffle, str) and shuffle == 'batch'):
        return
    for a in arrays:
        if a is not None and not is_in_memory(a):
            raise TypeError('shuffle=True needs random access to the samples, but the data '
                            'includes %s, which can only be read in increasing row order. If '
                            'using HDF5 input data, pass shuffle="batch" (shuffles batch-sized '
                            'chunks) or shuffle=False.' % (type(a).__name__,))


def standardize_single_array(x):
    """One array as the model will read it: 1-D arrays become columns, as in Keras 2.2.4.

    A 1-D array-like that is not in memory (an h5py dataset) becomes a lazy
    column view instead of being read whole.
    """
    if x is None:
        return None
    if type(x).__name__ in ('DataFrame', 'Series') and hasattr(x, 'values'):
        x = x.values  # pandas data, read as Keras 2.2.4 reads it
    if is_sparse_matrix(x):
        return x
    if not is_array_like(x):
        x = np.asarray(x)
    if len(x.shape) == 1:
        if is_on_disk(x):
            x = LazyRows(x, as_column=True)
        else:
            x = np.asarray(x).reshape(-1, 1)
    return x


def is_on_disk(x):
    """Whether `x` is read from a file on indexing (h5py dataset, HDF5Matrix, LazyRows)."""
    if isinstance(x, LazyRows):
        return True
    return isinstance(x, HDF5Matrix) or (h5py is not None and isinstance(x, h5py.Dataset))


def standardize_input_data(data, names, shapes=None, check_batch_axis=True, exception_prefix=''):
    """Turns user data (an array, a list or a dict of arrays) into one array per name.

    # Arguments
        data: the user's data.
        names: the model's input (or output) names, in order.
        shapes: expected shapes (None entries free), or None to skip the check.
        check_batch_axis: whether the first axis is checked too.
        exception_prefix: 'input' or 'target', for the error messages.

    # Returns
        A list of arrays, one per name.

    # Raises
        ValueError: for a missing name, a wrong number of arrays or a shape
            that does not fit, saying what was expected and what was received.
    """
    if not names:
        if data is not None and hasattr(data, '__len__') and len(data):
            raise ValueError('Error when checking model %s: expected no data, but got %r.'
                             % (exception_prefix, data))
        return []
    if data is None:
        return [None] * len(names)
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError('No data provided for %r. Need data for each key in: %s'
                             % (missing[0], names))
        arrays = [data[n] for n in names]
    elif isinstance(data, list):
        if data and isinstance(data[0], list):
            arrays = [np.asarray(d) for d in data]
        elif len(names) == 1 and data and isinstance(data[0], (float, int)):
            arrays = [np.asarray(data)]
        else:
            arrays = list(data)
    else:
        arrays = [data]
    arrays = [standardize_single_array(x) for x in arrays]
    if len(arrays) != len(names):
        raise ValueError('Error when checking model %s: the list of arrays you are passing to '
                         'your model is not the size the model expected. Expected to see %d '
                         'array(s) (for %s), but got %d.'
                         % (exception_prefix, len(names), names, len(arrays)))
    if shapes:
        for name, array, shape in zip(names, arrays, shapes):
            if shape is None:
                continue
            if len(array.shape) != len(shape):
                raise ValueError('Error when checking %s: expected %s to have %d dimensions, but '
                                 'got array with shape %s' % (exception_prefix, name, len(shape),
                                                              tuple(array.shape)))
            got, want = tuple(array.shape), tuple(shape)
            if not check_batch_axis:
                got, want = got[1:], want[1:]
            for dim, ref in zip(got, want):
                if ref is not None and ref != dim:
                    raise ValueError('Error when checking %s: expected %s to have shape %s but '
                                     'got array with shape %s' % (exception_prefix, name, want,
                                                                  got))
    return arrays


def check_array_lengths(inputs, targets, weights=None):
    """All input, target and weight arrays must have the same number of samples.

    # Raises
        ValueError: naming the differing sample counts.
    """
    def lengths(arrays):
        return {int(x.shape[0]) for x in arrays if x is not None}
    x_n, y_n = lengths(inputs), lengths(targets)
    w_n = lengths(weights or [])
    if len(x_n) > 1:
        raise ValueError('All input arrays (x) should have the same number of samples. Got array '
                         'shapes: %s' % [tuple(x.shape) for x in inputs])
    if len(y_n) > 1:
        raise ValueError('All target arrays (y) should have the same number of samples. Got '
                         'array shapes: %s' % [tuple(y.shape) for y in targets])
    if x_n and y_n and x_n != y_n:
        raise ValueError('Input arrays should have the same number of samples as target arrays. '
                         'Found %d input samples and %d target samples.'
                         % (list(x_n)[0], list(y_n)[0]))
    if len(w_n) > 1 or (w_n and y_n and w_n != y_n):
        raise ValueError('Sample weight arrays should have the same number of samples as target '
                         'arrays. Got %s weights for %s targets.' % (sorted(w_n), sorted(y_n)))


def check_array_length_consistency(inputs, targets, weights=None):
    """Keras 2.2.4's check that inputs, targets and weights have one sample count.

    Each argument is an array, a list of arrays or None; None (as a whole or as
    an entry) counts as zero samples, so a missing target for present inputs is
    an inconsistency.

    # Raises
        ValueError: naming the sample counts that differ.
    """
    def counts(arrays):
        if arrays is None:
            return {0}
        if not isinstance(arrays, (list, tuple)):
            arrays = [arrays]
        return {0 if a is None else int(a.shape[0]) for a in arrays}

    x_n, y_n, w_n = counts(inputs), counts(targets), counts(weights)
    if len(x_n) > 1:
        raise ValueError('All input arrays (x) should have the same number of samples. Got '
                         'sample counts %s.' % sorted(x_n))
    if len(y_n) > 1:
        raise ValueError('All target arrays (y) should have the same number of samples. Got '
                         'sample counts %s.' % sorted(y_n))
    if x_n != y_n:
        raise ValueError('Input arrays should have the same number of samples as target arrays. '
                         'Found %d input samples and %d target samples.'
                         % (min(x_n), min(y_n)))
    if len(w_n) > 1:
        raise ValueError('All sample_weight arrays should have the same number of samples. Got '
                         'sample counts %s.' % sorted(w_n))
    if y_n != w_n:
        raise ValueError('Sample_weight arrays should have the same number of samples as target '
                         'arrays. Found %d weighted samples and %d target samples.'
                         % (min(w_n), min(y_n)))


def weighted_masked_objective(fn):
    """Keras 2.2.4's weighting of a loss by masks and sample weights.

    # Arguments
        fn: `fn(y_true, y_pred)` giving per-sample (or per-timestep) values.

    # Returns
        `weighted(y_true, y_pred, weights, mask=None)`: the per-sample values
        times the mask (renormalised by the mask's mean), averaged over the
        axes the weights do not have, times the weights (renormalised by the
        fraction of non-zero weights), averaged to a scalar. None for a None
        `fn`.
    """
    if fn is None:
        return None

    def weighted(y_true, y_pred, weights, mask=None):
        score = fn(y_true, y_pred)
        if mask is not None:
            mask = K.cast(mask, K.floatx())
            score = K.multiply(score, mask)
            score = K.divide(score, K.mean(mask))
        if weights is not None:
            score_ndim, weight_ndim = K.ndim(score), K.ndim(weights)
            if score_ndim > weight_ndim:
                score = K.mean(score, axis=list(range(weight_ndim, score_ndim)))
            score = K.multiply(score, weights)
            # Divided by the fraction of non-zero weights. When every weight is 0,
            # Keras 2.2.4 gave 0 / 0 = NaN; here the division is by 1 instead, so
            # the (all zero) weighted scores give a loss of 0.
            nonzero = K.mean(K.cast(K.not_equal(weights, 0), K.floatx()))
            nonzero = K.add(nonzero, K.cast(K.equal(nonzero, 0), K.floatx()))
            score = K.divide(score, nonzero)
        return K.mean(score)
    weighted.__name__ = getattr(fn, '__name__', 'weighted')
    return weighted


def standardize_sample_or_class_weights(x_weight, output_names, weight_type):
    """`sample_weight` or `class_weight` as one entry per output (Keras 2.2.4's rules).

    For one output: the value itself, or its entry by the output's name. For
    several: a list with one entry per output, or a dict by output name (other
    keys are ignored, as in Keras 2.2.4).

    # Arguments
        x_weight: the user's argument (None, an array, a dict or a list).
        output_names: the model's output names.
        weight_type: 'sample_weight' or 'class_weight', for the messages.

    # Raises
        ValueError: for a list of the wrong length.
        TypeError: for several outputs and a value that is neither a list nor a dict.
    """
    if x_weight is None or (isinstance(x_weight, (list, dict)) and not x_weight):
        return [None] * len(output_names)
    if len(output_names) == 1:
        if isinstance(x_weight, list) and len(x_weight) == 1:
            return list(x_weight)
        if isinstance(x_weight, dict) and output_names[0] in x_weight:
            return [x_weight[output_names[0]]]
        return [x_weight]
    if isinstance(x_weight, list):
        if len(x_weight) != len(output_names):
            raise ValueError('Provided `%s` was a list of %d elements, but the model has %d '
                             'outputs. Provide one `%s` array per model output.'
                             % (weight_type, len(x_weight), len(output_names), weight_type))
        return list(x_weight)
    if isinstance(x_weight, dict):
        return [x_weight.get(name) for name in output_names]
    raise TypeError('The model has multiple outputs, so `%s` should be a list or a dict by '
                    'output name; received %s.' % (weight_type, type(x_weight).__name__))


def standardize_class_weights(class_weight, output_names):
    """`standardize_sample_or_class_weights` for `class_weight`."""
    return standardize_sample_or_class_weights(class_weight, output_names, 'class_weight')


def standardize_sample_weights(sample_weight, output_names):
    """`standardize_sample_or_class_weights` for `sample_weight`."""
    return standardize_sample_or_class_weights(sample_weight, output_names, 'sample_weight')


def collect_metrics(metrics, output_names):
    """`compile`'s `metrics` as one list of metrics per output.

    A list applies to every output; a dict maps output names to a metric or a
    list of them (outputs not named get none).

    # Raises
        TypeError: for anything else.
    """
    if not metrics:
        return [[] for _ in output_names]
    if isinstance(metrics, (list, tuple)):
        return [list(metrics) for _ in output_names]
    if isinstance(metrics, dict):
        out = []
        for name in output_names:
            chosen = metrics.get(name, [])
            out.append(list(chosen) if isinstance(chosen, (list, tuple)) else [chosen])
        return out
    raise TypeError('Type of `metrics` argument not understood. Expected a list or '
                    'dictionary, found: %r' % (metrics,))


def check_num_samples(ins, batch_size=None, steps=None, steps_name='steps'):
    """The number of samples a loop over `ins` covers, or None when it runs `steps` steps.

    # Arguments
        ins: the arrays fed to the loop.
        batch_size: the batch size, or None.
        steps: the number of steps, or None.
        steps_name: the argument's public name, for the messages.

    # Raises
        ValueError: if both `steps` and `batch_size` are given, or if there
            are no arrays and no `steps`.
    """
    if steps is not None and batch_size is not None:
        raise ValueError('If %s is set, the `batch_size` must be None.' % steps_name)
    arrays = [x for x in (ins or []) if x is not None]
    if not arrays:
        if steps is None:
            raise ValueError('Without input arrays, you should specify the `%s` argument.'
                             % steps_name)
        return None
    if steps is not None:
        return None
    return int(arrays[0].shape[0])


def iter_sequence_infinite(seq):
    """Yields the items of a `Sequence` over and over."""
    while True:
        for item in seq:
            yield item


def check_loss_and_target_compatibility(targets, loss_fns, output_shapes):
    """Catches targets whose shape cannot go with the chosen loss.

    # Raises
        ValueError: e.g. integer labels (shape (n, 1)) with categorical_crossentropy,
            with the fix spelled out.
    """
    same_shape_losses = {losses.mean_squared_error, losses.binary_crossentropy,
                         losses.categorical_crossentropy}
    for y, loss, shape in zip(targets, loss_fns, output_shapes):
        if y is None or loss is None:
            continue
        if loss is losses.categorical_crossentropy and y.shape[-1] == 1:
            raise ValueError('You are passing a target array of shape %s while using as loss '
                             '`categorical_crossentropy`. `categorical_crossentropy` expects '
                             'targets to be binary matrices (1s and 0s) of shape (samples, '
                             'classes). If your targets are integer classes, convert them with '
                             '`refkeras.utils.to_categorical(y_int)`, or use the loss '
                             '`sparse_categorical_crossentropy`, which expects integer targets.'
                             % (tuple(y.shape),))
        if loss in same_shape_losses:
            for target_dim, out_dim in zip(y.shape[1:], shape[1:]):
                if out_dim is not None and target_dim != out_dim:
                    raise ValueError('A target array with shape %s was passed for an output of '
                                     'shape %s while using as loss `%s`. This loss expects '
                                     'targets to have the same shape as the output.'
                                     % (tuple(y.shape), shape, loss.__name__))


def standardize_weights(y, sample_weight=None, class_weight=None, sample_weight_mode=None):
    """Per-sample (or per-timestep) weights for one output.

    # Arguments
        y: the target array.
        sample_weight: 1-D array (or 2-D with `sample_weight_mode='temporal'`).
        class_weight: dict mapping class index to weight.
        sample_weight_mode: None or 'temporal'.

    # Returns
        A float array of shape (samples,) or (samples, timesteps).

    # Raises
        ValueError: for weights of the wrong rank or length, or classes
            missing from `class_weight`.
    """
    if sample_weight_mode is not None and sample_weight_mode != 'temporal':
        raise ValueError('"sample_weight_mode" should be None or "temporal". Found: %r'
                         % (sample_weight_mode,))
    if sample_weight_mode == 'temporal':
        if len(y.shape) < 3:
            raise ValueError('Found a sample_weight array for an input with shape %s. '
                             'Timestep-wise sample weighting (sample_weight_mode="temporal") is '
                             'restricted to outputs that are at least 3D.' % (tuple(y.shape),))
        if sample_weight is not None and np.ndim(sample_weight) != 2:
            raise ValueError('Found a sample_weight array with shape %s. Timestep-wise sample '
                             'weighting needs a 2D sample_weight array.'
                             % (np.shape(sample_weight),))
    elif sample_weight is not None and np.ndim(sample_weight) != 1:
        raise ValueError('Found a sample_weight array with shape %s. For timestep-wise sample '
                         'weights, pass sample_weight_mode="temporal" to compile(); for '
                         'sample-wise weights the array must be 1D.' % (np.shape(sample_weight),))
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
        if class_weight is not None:
            warnings.warn('Found both `sample_weight` and `class_weight`: `class_weight` argument '
                          'will be ignored.')
        if tuple(y.shape[:sample_weight.ndim]) != sample_weight.shape:
            raise ValueError('Found a sample_weight array with shape %s for an input with shape '
                             '%s. sample_weight cannot be broadcast.'
                             % (sample_weight.shape, tuple(y.shape)))
        return sample_weight.astype(K.floatx())
    if isinstance(class_weight, dict):
        if len(y.shape) > 2:
            raise ValueError('`class_weight` not supported for 3+ dimensional targets.')
        y = np.asarray(y)
        if y.shape[1] > 1:
            classes = np.argmax(y, axis=1)
        else:
            classes = np.reshape(y, y.shape[0])
        missing = set(classes.tolist()) - set(class_weight)
        if missing:
            raise ValueError('`class_weight` must contain all classes in the data. The classes %s '
                             'exist in the data but not in `class_weight`.' % sorted(missing))
        return np.asarray([class_weight[c] for c in classes.tolist()], dtype=K.floatx())
    if sample_weight_mode is None:
        return np.ones((y.shape[0],), dtype=K.floatx())
    return np.ones((y.shape[0], y.shape[1]), dtype=K.floatx())


def check_finite(arrays, what):
    """Warns about NaN or infinite values in in-memory float arrays.

    Keras 2.2.4 trains on such data (the loss then becomes NaN, which
    `TerminateOnNaN` watches for); refkeras does too, but says where the
    first bad value is, since it is rarely on purpose.
    """
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray) and a.dtype.kind == 'f' and not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            warnings.warn('%s array %d contains NaN or infinite values (first at index %s); the '
                          'loss computed from it will not be finite.'
                          % (what, i, tuple(int(j) for j in bad)), stacklevel=3)


def make_batches(size, batch_size):
    """`(start, end)` index pairs covering `range(size)` in batches; the last may be smaller."""
    return [(i, min(size, i + batch_size)) for i in range(0, size, batch_size)]


def batch_shuffle(index_array, batch_size):
    """Shuffles batch-sized chunks (the order within a chunk is kept): `shuffle='batch'`.

    The incomplete last chunk stays at the end, as in Keras 2.2.4.
    """
    batch_count = len(index_array) // batch_size
    last = index_array[batch_count * batch_size:]
    chunks = index_array[:batch_count * batch_size].reshape((batch_count, batch_size))
    np.random.shuffle(chunks)
    return np.append(chunks.flatten(), last)


def slice_arrays(arrays, indices):
    """The rows `indices` of each array (None stays None).

    HDF5 datasets only accept increasing indices; a shuffled index array on such
    data raises the Keras advice to use `shuffle='batch'`.
    """
    out = []
    for a in arrays:
        if a is None:
            out.append(None)
        elif isinstance(a, np.ndarray):
            out.append(a[indices])
        elif is_sparse_matrix(a):
            out.append(a[indices].toarray())
        else:
            if isinstance(indices, np.ndarray) and len(indices) > 1 and \
                    np.any(np.diff(indices) <= 0):
                raise TypeError('TypeError while preparing batch: HDF5 data can only be read in '
                                'increasing index order. If using HDF5 input data, pass '
                                'shuffle="batch".')
            if isinstance(indices, np.ndarray) and len(indices) and \
                    np.all(np.diff(indices) == 1):
                out.append(np.asarray(a[int(indices[0]):int(indices[-1]) + 1]))
            else:
                out.append(np.asarray(a[list(map(int, indices))]))
    return out


def densified(arrays):
    """The arrays with SciPy sparse matrices made dense (None stays None)."""
    if arrays is None:
        return None
    return [a.toarray() if is_sparse_matrix(a) else a for a in arrays]


def batch_dtype(array_dtype, input_dtype):
    """The dtype of a batch of an array once cast for the model input it feeds:
    the input's dtype, except that integer data feeding an integer input keeps
    its own (`cast_inputs`)."""
    array_dtype, input_dtype = np.dtype(array_dtype), np.dtype(input_dtype)
    if array_dtype.kind in 'iu' and input_dtype.kind in 'iu':
        return array_dtype
    return input_dtype


def cast_inputs(arrays, dtypes):
    """Casts each batch array to the dtype of the model input it feeds."""
    out = []
    for a, dtype in zip(arrays, dtypes):
        a = a.toarray() if is_sparse_matrix(a) else np.asarray(a)
        target = batch_dtype(a.dtype, dtype)
        if a.dtype != target:
            a = a.astype(target)
        out.append(a)
    return out
