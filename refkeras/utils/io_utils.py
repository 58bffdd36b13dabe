"""HDF5 helpers: `HDF5Matrix` (reading data batch by batch) and `h5dict`.

`h5dict` (`H5Dict`) is Keras 2.2.4's dict-like view of an HDF5 file or group,
or of a plain Python dict, so that one piece of code can write either.

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

`h5dict` differs from Keras 2.2.4's on purpose where 2.2.4's was
inconsistent: a list stored in HDF5 reads back as the same list of bytes
whether or not it had to be split across attributes (2.2.4 decoded the split
form to str); in the dict form arrays are kept as arrays (2.2.4 pickled
them) and the group marker does not show in `len`, iteration or `keys()`;
`update` works (2.2.4's always raised).
"""
import builtins
import os
import sys

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


_BUILTIN_INPUT = builtins.input


def _read_answer(prompt):
    """One line typed on the terminal, read by `input`.

    Keras 2.2.4 reads it through `six.moves.input`, and code tested against
    Keras replaces that function to answer for the user: if `six.moves` is
    loaded and its `input` is no longer Python's own, that replacement reads
    the answer.
    """
    six_moves = sys.modules.get('six.moves')
    # Read the module's own dict: `getattr` would make six resolve (and keep)
    # whatever `builtins.input` is at this moment.
    replaced = vars(six_moves).get('input') if six_moves is not None else None
    if replaced is not None and replaced is not _BUILTIN_INPUT:
        return replaced(prompt)
    return builtins.input(prompt)


def ask_to_proceed_with_overwrite(filepath):
    """Asks on the terminal whether `filepath` may be overwritten.

    # Arguments
        filepath: the file that exists.

    # Returns
        True to overwrite, False to keep the file.
    """
    answer = _read_answer('[WARNING] %s already exists - overwrite? [y/n]' % (filepath,))
    answer = answer.strip().lower()
    while answer not in ('y', 'n'):
        answer = _read_answer('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == 'n':
        return False
    print('[TIP] Next time specify overwrite=True!')
    return True


# --- h5dict -------------------------------------------------------------------------------------

# In the dict form, a sub-group is a dict holding this key (as in Keras 2.2.4).
_GROUP_MARKER = '_is_group'


def _is_numpy_value(value):
    """Arrays and NumPy scalars: stored as HDF5 datasets (everything else as attributes)."""
    return isinstance(value, (np.ndarray, np.generic))


class H5Dict(object):
    """A dict-like view of an HDF5 file or group, or of a plain dict.

    Model serialization code writes through it whatever the destination:
    a file, an open h5py group, or an in-memory dict (e.g. for pickling).

    - `d[name] = array` (a NumPy array or scalar) stores a dataset;
    - `d[name] = value` stores anything else (str, number, list of bytes or
      str) as an attribute; a list of str is stored as UTF-8 bytes and reads
      back as a list of bytes; a list too large for one HDF5 attribute is
      split over `name0`, `name1`, ... and read back whole;
    - `d[name]` for a name not stored yet creates a sub-group (an `H5Dict`),
      except in read-only mode;
    - `name in d`, `d.get(name, default)`, `len(d)`, iteration, `keys()`,
      `update(...)` and `close()` behave as for a dict.

    # Arguments
        path: a file path, an h5py `Group` (or `File`), or a dict.
        mode: `'r'` (read only), `'w'` (start empty: a file is truncated,
            a dict cleared) or `'a'` (read and write, the default).

    # Raises
        TypeError: if `path` is none of the above.
        ValueError: for an unknown `mode`.
    """

    def __init__(self, path, mode='a'):
        if mode not in ('r', 'w', 'a'):
            raise ValueError('h5dict: mode must be "r", "w" or "a"; received %r.' % (mode,))
        self._is_file = False
        if h5py is not None and isinstance(path, h5py.Group):
            self.data = path
        elif isinstance(path, (str, bytes, os.PathLike)):
            if h5py is None:  # pragma: no cover - h5py is a dependency
                raise ImportError('h5dict on a file requires h5py (pip install h5py).')
            self.data = h5py.File(path, mode=mode)
            self._is_file = True
        elif isinstance(path, dict):
            self.data = path
            if mode == 'w':
                path.clear()
            if mode != 'r':
                path[_GROUP_MARKER] = True
        else:
            raise TypeError('h5dict: expected a file path, an h5py Group or a dict; received %s.'
                            % type(path).__name__)
        self.read_only = mode == 'r'

    @property
    def _in_memory(self):
        return isinstance(self.data, dict)

    def __setitem__(self, name, value):
        if self.read_only:
            raise ValueError('h5dict: cannot set %r: opened read-only (mode "r").' % (name,))
        if isinstance(name, bytes):
            name = name.decode('utf8')
        if self._in_memory:
            self.data[name] = np.array(value) if isinstance(value, np.ndarray) else value
            return
        if name in self.data:
            raise KeyError('h5dict: cannot set %r: a group or dataset of that name exists in %s.'
                           % (name, self.data.name))
        if _is_numpy_value(value):
            self.data.create_dataset(name, data=value)
        elif isinstance(value, list):
            # Lazy import: refkeras.engine imports refkeras.utils.
            from refkeras.engine.saving.hdf5_format import save_attributes_to_hdf5_group
            save_attributes_to_hdf5_group(self.data, name, value)
        else:
            self.data.attrs[name] = value

    def __getitem__(self, name):
        if isinstance(name, bytes):
            name = name.decode('utf8')
        if self._in_memory:
            return self._get_in_memory(name)
        if name in self.data.attrs:
            value = self.data.attrs[name]
            if isinstance(value, np.ndarray) and value.dtype.kind == 'S':
                return value.tolist()
            return value
        if name in self.data:
            item = self.data[name]
            if isinstance(item, h5py.Dataset):
                return item[()]
            return H5Dict(item, mode='r' if self.read_only else 'a')
        if '%s0' % name in self.data.attrs:
            parts, index = [], 0
            while '%s%d' % (name, index) in self.data.attrs:
                parts.extend(self.data.attrs['%s%d' % (name, index)].tolist())
                index += 1
            return parts
        self._refuse_new_group(name)
        return H5Dict(self.data.create_group(name))

    def _get_in_memory(self, name):
        if name in self.data and name != _GROUP_MARKER:
            value = self.data[name]
            if isinstance(value, dict) and value.get(_GROUP_MARKER):
                return H5Dict(value, mode='r' if self.read_only else 'a')
            return value
        self._refuse_new_group(name)
        group = {_GROUP_MARKER: True}
        self.data[name] = group
        return H5Dict(group)

    def _refuse_new_group(self, name):
        if self.read_only:
            raise KeyError('h5dict: no item %r (opened read-only, so no group is created).'
                           % (name,))

    def keys(self):
        """The names stored: datasets, groups and attributes (a list)."""
        if self._in_memory:
            return [key for key in self.data if key != _GROUP_MARKER]
        return list(self.data.keys()) + [key for key in self.data.attrs.keys()
                                         if key not in self.data]

    def __iter__(self):
        return iter(self.keys())

    def iter(self):
        """An iterator over the names (as Keras 2.2.4's `h5dict.iter()`)."""
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __contains__(self, name):
        if isinstance(name, bytes):
            name = name.decode('utf8')
        if self._in_memory:
            return name in self.data and name != _GROUP_MARKER
        return name in self.data or name in self.data.attrs

    def get(self, name, default=None):
        """`self[name]` if stored, else `default` (no group is created)."""
        if name in self:
            return self[name]
        return default

    def update(self, *args, **kwargs):
        """Stores every item of a dict (or of keyword arguments), as `self[name] = value`."""
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def close(self):
        """Writes an HDF5 file out and closes it (if `h5dict` opened it); a group is flushed."""
        if self._in_memory:
            return
        if self._is_file:
            if self.data.id.valid:
                self.data.close()
        elif self.data.id.valid:
            self.data.file.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


h5dict = H5Dict
