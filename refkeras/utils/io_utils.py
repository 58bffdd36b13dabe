"""Reading HDF5 data batch by batch: `HDF5Matrix`.

Implements the FAQ's "How can I use HDF5 inputs with Keras?": an
`HDF5Matrix` (or a plain h5py dataset) is used like a NumPy array as `x` or
`y` of `fit`, `evaluate` and `predict`, which read it one batch at a time,
so it never has to fit in memory. Shuffling needs random access, which HDF5
does not give cheaply: pass `shuffle='batch'` (whole batch-sized chunks are
shuffled, each read as one contiguous slice) or `shuffle=False`.

Differences from Keras 2.2.4, on purpose:
- the file is opened read-only, once per `HDF5Matrix` (Keras kept one
  handle per path, opened in append mode, for the life of the process);
- negative indices count from the end of the view (Keras read rows before
  `start`), a list index must be strictly increasing (as h5py requires) and
  boolean masks are accepted;
- a missing file or dataset, or `start`/`end` outside the dataset, is a
  clear error raised by the constructor;
- `ndim` is `len(shape)`, also when the normalizer changes the rank.
"""
import os

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover - h5py is a dependency
    h5py = None


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class HDF5Matrix(object):
    """An HDF5 dataset (or rows `start:end` of it) that reads like a NumPy array.

    # Example

    ```python
        x_data = HDF5Matrix('input/file.hdf5', 'data')
        model.predict(x_data)
    ```

    Indexing is relative to `start`: `m[0]` is the dataset's row `start`.
    `m[i]`, `m[a:b]` (and `m[a:b:step]` with `step > 0`), `m[[i, j, k]]` with
    strictly increasing indices and `m[mask]` with a boolean mask read only
    those rows; the `normalizer`, if any, is applied to every read.

    # Arguments
        datapath: path of the HDF5 file.
        dataset: name (path) of the dataset in the file.
        start: first row of the view.
        end: row after the last one of the view (default: the dataset's end).
        normalizer: function applied to every array read.

    # Raises
        ImportError: without h5py.
        OSError: if the file does not exist or is not an HDF5 file.
        KeyError: if the file has no dataset `dataset`.
        ValueError: if `start`/`end` are not `0 <= start <= end <= rows`.
    """

    def __init__(self, datapath, dataset, start=0, end=None, normalizer=None):
        if h5py is None:
            raise ImportError('HDF5Matrix needs h5py: `pip install h5py`.')
        if not os.path.isfile(datapath):
            raise OSError('HDF5Matrix: no file at %r.' % (datapath,))
        try:
            handle = h5py.File(datapath, 'r')
        except OSError as e:
            raise OSError('HDF5Matrix: cannot open %r as an HDF5 file (%s).' % (datapath, e))
        if dataset not in handle:
            names = []
            handle.visit(lambda name: names.append(name)
                         if isinstance(handle[name], h5py.Dataset) else None)
            handle.close()
            raise KeyError('HDF5Matrix: the file %r has no dataset %r; its datasets are: %s'
                           % (datapath, dataset, names))
        data = handle[dataset]
        if not isinstance(data, h5py.Dataset) or data.ndim == 0:
            handle.close()
            raise ValueError('HDF5Matrix: %r in %r is not an array dataset with at least one '
                             'axis (found %r).' % (dataset, datapath, data))
        rows = int(data.shape[0])
        end = rows if end is None else end
        if not (_is_integer(start) and _is_integer(end) and 0 <= start <= end <= rows):
            handle.close()
            raise ValueError('HDF5Matrix: `start` and `end` must be integers with 0 <= start <= '
                             'end <= %d (the rows of dataset %r in %r); received start=%r, '
                             'end=%r.' % (rows, dataset, datapath, start, end))
        self.datapath = datapath
        self.dataset = dataset
        self._file = handle
        self.data = data
        self.start = int(start)
        self.end = int(end)
        self.normalizer = normalizer
        first = data[self.start:self.start + 1] if self.end > self.start else data[0:1]
        if normalizer is not None:
            first = np.asarray(normalizer(first))
        self._base_shape = tuple(first.shape[1:])
        self._base_dtype = first.dtype

    # -- array protocol --

    def __len__(self):
        return self.end - self.start

    @property
    def shape(self):
        """`(rows of the view,) + shape of one row` (after the normalizer)."""
        return (self.end - self.start,) + self._base_shape

    @property
    def dtype(self):
        """The dtype of the arrays read (after the normalizer)."""
        return self._base_dtype

    @property
    def ndim(self):
        """The number of axes."""
        return len(self.shape)

    @property
    def size(self):
        """The number of elements."""
        return int(np.prod(self.shape))

    def __getitem__(self, key):
        """Reads rows of the view (see the class docstring for the accepted keys).

        # Raises
            IndexError: for an index outside the view.
            TypeError: for a list that is not strictly increasing, or an
                index of another kind.
        """
        if isinstance(key, tuple):
            if not key:
                return self[slice(None)]
            rows = self[key[0]]
            rest = key[1:]
            return rows[rest] if _is_integer(key[0]) else rows[(slice(None),) + rest]
        return self._read(self._dataset_index(key))

    def __array__(self, dtype=None, copy=None):
        """The whole view as a NumPy array (reads everything)."""
        values = self[:]
        return values if dtype is None else values.astype(dtype)

    def __repr__(self):
        return '<HDF5Matrix %r in %r, rows %d:%d, shape %s, dtype %s>' % (
            self.dataset, self.datapath, self.start, self.end, self.shape, self.dtype)

    def close(self):
        """Closes the file; the matrix cannot be read afterwards."""
        self._file.close()

    # -- internals --

    def _read(self, index):
        if isinstance(index, list) and not index:
            values = self.data[self.start:self.start]
        else:
            values = self.data[index]
        if self.normalizer is not None:
            values = self.normalizer(values)
        return values

    def _dataset_index(self, key):
        """Translates a key on the view into a key on the dataset."""
        length = len(self)
        if _is_integer(key):
            position = int(key) + length if key < 0 else int(key)
            if not 0 <= position < length:
                raise IndexError('HDF5Matrix index %d is out of range for %d rows.'
                                 % (key, length))
            return self.start + position
        if isinstance(key, slice):
            step = 1 if key.step is None else key.step
            if not _is_integer(step) or step < 1:
                raise ValueError('HDF5Matrix slices need a positive step; received %r.'
                                 % (key.step,))
            first = 0 if key.start is None else int(key.start)
            stop = length if key.stop is None else int(key.stop)
            first = max(first + length, 0) if first < 0 else first
            stop = max(stop + length, 0) if stop < 0 else stop
            if stop > length:
                raise IndexError('HDF5Matrix slice stop %d is beyond the %d rows of the view.'
                                 % (stop, length))
            first = min(first, stop)
            return slice(self.start + first, self.start + stop, int(step))
        positions = np.asarray(key)
        if positions.dtype == bool:
            if positions.shape != (length,):
                raise IndexError('HDF5Matrix boolean mask of shape %s does not match the %d rows '
                                 'of the view.' % (positions.shape, length))
            positions = np.flatnonzero(positions)
        elif positions.size == 0:
            positions = positions.astype(int)
        if positions.ndim != 1 or positions.dtype.kind not in 'iu':
            raise TypeError('HDF5Matrix indices must be an integer, a slice, a list of integers '
                            'or a boolean mask; received %r.' % (key,))
        positions = np.where(positions < 0, positions + length, positions)
        if positions.size and (positions.min() < 0 or positions.max() >= length):
            raise IndexError('HDF5Matrix indices %s are out of range for %d rows.'
                             % (np.asarray(key).tolist(), length))
        if positions.size > 1 and np.any(np.diff(positions) <= 0):
            raise TypeError('HDF5Matrix list indices must be strictly increasing (HDF5 reads rows '
                            'in increasing order); received %s. To shuffle HDF5 data in fit(), '
                            'pass shuffle="batch".' % (np.asarray(key).tolist(),))
        return [self.start + int(p) for p in positions]


def ask_to_proceed_with_overwrite(filepath):
    """Asks on the terminal whether `filepath` may be overwritten.

    # Arguments
        filepath: the file that exists.

    # Returns
        True to overwrite, False to keep the file.
    """
    answer = input('[WARNING] %s already exists - overwrite? [y/n]' % (filepath,)).strip().lower()
    while answer not in ('y', 'n'):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == 'n':
        return False
    print('[TIP] Next time specify overwrite=True!')
    return True
