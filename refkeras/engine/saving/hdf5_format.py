"""Keras 2.2.4's HDF5 layout: opening files, attributes, datasets.

The layout is Keras 2.2.4's, so Keras 2 reads refkeras files and the other
way round:

```
/                     attrs: keras_version, backend, model_config (JSON),
                             training_config (JSON, if compiled)
/model_weights        attrs: layer_names, backend, keras_version
/model_weights/<layer name>          attrs: weight_names
/model_weights/<layer name>/<weight name>   one dataset per weight
/optimizer_weights    attrs: weight_names; one dataset per optimizer weight
```

A weights-only file is the `model_weights` group at the root. Attributes
holding lists of names that would exceed HDF5's 64 KB object header are
split, as Keras does, into `layer_names0`, `layer_names1`, ...

Everything read from a file goes through `_reading`, which turns whatever
h5py or the decoding raises on a damaged file into a `CorruptModelFileError`
naming the file.
"""
import contextlib
import os

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover - h5py is a dependency
    h5py = None

from refkeras.engine.saving.errors import CorruptModelFileError, ModelFileError

# HDF5 refuses attributes larger than this (the object header limit, in bytes).
HDF5_OBJECT_HEADER_LIMIT = 64512

# The file format written is Keras 2.2.4's, whatever refkeras's own version.
FORMAT_KERAS_VERSION = '2.2.4'


# --- file names and opening ------------------------------------------------------------------

def _label(target):
    """How an error names a file: its path, or the h5py object's file and group."""
    if h5py is not None and isinstance(target, h5py.Group):
        try:
            name = target.file.filename
            if target.name not in ('/', None):
                name = '%s (group %s)' % (name, target.name)
            return repr(name)
        except Exception:  # a closed or invalid h5py object  # noqa: BLE001
            return repr(target)
    return repr(os.fspath(target))


def _require_h5py(what):
    if h5py is None:  # pragma: no cover - h5py is a dependency
        raise ImportError('`%s` requires h5py (pip install h5py).' % what)


# Everything h5py and the decoding of its values may raise on a damaged file.
_READ_FAILURES = (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError,
                  AttributeError, UnicodeError, OverflowError, SystemError)


@contextlib.contextmanager
def _reading(label, what):
    """Turns any failure while reading `what` from an HDF5 file into a
    `CorruptModelFileError` naming the file (our own errors pass through)."""
    try:
        yield
    except ModelFileError:
        raise
    except _READ_FAILURES as error:
        raise CorruptModelFileError(label, 'cannot read %s (%s: %s). The file is damaged or '
                                    'is not a Keras file.' % (what, type(error).__name__, error))


@contextlib.contextmanager
def _opened_for_reading(filepath):
    """Yields `(group, label)` for a path or an open h5py File/Group.

    # Raises
        FileNotFoundError: for a path that does not exist.
        CorruptModelFileError: if the file is not a readable HDF5 file.
    """
    _require_h5py('load')
    if isinstance(filepath, h5py.Group):
        yield filepath, _label(filepath)
        return
    path = os.fspath(filepath)
    label = _label(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, 'No such model or weights file', path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, 'Expected a model or weights file, found a folder', path)
    try:
        handle = h5py.File(path, 'r')
    except _READ_FAILURES as error:
        raise CorruptModelFileError(label, 'not a readable HDF5 file (%s). It may be truncated '
                                    '(e.g. an interrupted copy) or not an HDF5 file at all.'
                                    % (error,))
    try:
        yield handle, label
    finally:
        try:
            handle.close()
        except Exception:  # closing a damaged file may fail again  # noqa: BLE001
            pass


# --- attributes -----------------------------------------------------------------------------------

def save_attributes_to_hdf5_group(group, name, data):
    """Stores a list of names as the attribute `name` of `group`, split in parts if needed.

    HDF5 cannot store an attribute larger than `HDF5_OBJECT_HEADER_LIMIT`
    bytes; longer lists are stored, as Keras does, in the attributes
    `name0`, `name1`, ... of about equal lengths.

    # Arguments
        group: an h5py group.
        name: the attribute name.
        data: list of byte strings (or str, encoded as UTF-8).

    # Raises
        RuntimeError: if a single name is longer than the limit.
    """
    data = [d.encode('utf8') if isinstance(d, str) else d for d in data]
    too_long = [d for d in data if len(d) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError('The following attributes cannot be saved to HDF5 file because they '
                           'are larger than %d bytes: %s'
                           % (HDF5_OBJECT_HEADER_LIMIT, ', '.join(repr(d) for d in too_long)))
    array = np.asarray(data)
    parts = 1
    chunks = np.array_split(array, parts)
    while any(chunk.nbytes > HDF5_OBJECT_HEADER_LIMIT for chunk in chunks):
        parts += 1
        chunks = np.array_split(array, parts)
    if parts > 1:
        for index, chunk in enumerate(chunks):
            group.attrs['%s%d' % (name, index)] = chunk
    else:
        # Fixed-length byte strings, as h5py 2 wrote them for Keras 2.2.4 (which
        # calls `.decode` on each name); an empty list is an empty float array.
        group.attrs[name] = array if data else np.asarray(data)


def _write_text_attribute(group, name, text):
    """Stores text as Keras 2.2.4 did (fixed-length bytes), or as a variable-length
    string when longer than HDF5 allows for the former."""
    data = text.encode('utf8')
    if len(data) < HDF5_OBJECT_HEADER_LIMIT:
        group.attrs[name] = np.bytes_(data)
    else:
        group.attrs[name] = text


def _decode_text(value, what, label):
    """A str from an attribute value written as bytes (Keras 2.2.4) or str (tf.keras)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode('utf8')
        except UnicodeDecodeError as error:
            raise CorruptModelFileError(label, '%s is not valid UTF-8 text (%s).' % (what, error))
    if isinstance(value, str):
        return str(value)
    raise CorruptModelFileError(label, '%s should be text; found %s.'
                                % (what, type(value).__name__))


def _decode_name_list(value, what, label):
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return []  # Keras writes an empty list as an empty float array.
        if value.ndim != 1:
            raise CorruptModelFileError(label, '%s should be a list of names; found an array of '
                                        'shape %s.' % (what, value.shape))
        return [_decode_text(item, what, label) for item in value]
    if isinstance(value, (bytes, np.bytes_, str)):
        return [_decode_text(value, what, label)]
    raise CorruptModelFileError(label, '%s should be a list of names; found %s.'
                                % (what, type(value).__name__))


def load_attributes_from_hdf5_group(group, name, label=None):
    """The list of names stored by `save_attributes_to_hdf5_group` (whole or in parts).

    # Returns
        A list of str; empty if the attribute is absent.

    # Raises
        CorruptModelFileError: if the attribute is not a list of text.
    """
    label = label or _label(group)
    what = 'attribute %r of %s' % (name, group.name)
    with _reading(label, what):
        if name in group.attrs:
            return _decode_name_list(group.attrs[name], what, label)
        names, index = [], 0
        while '%s%d' % (name, index) in group.attrs:
            names.extend(_decode_name_list(group.attrs['%s%d' % (name, index)], what, label))
            index += 1
        return names


def _read_text_attribute(group, name, label, required):
    what = 'the attribute %r' % name
    with _reading(label, what):
        if name not in group.attrs:
            if required:
                raise CorruptModelFileError(label, 'no %r attribute: this is not a Keras model '
                                            'file (a weights-only file loads with '
                                            '`model.load_weights`).' % name)
            return None
        return _decode_text(group.attrs[name], what, label)


# --- datasets -------------------------------------------------------------------------------------

def _unique_weight_names(variables):
    names = []
    for index, variable in enumerate(variables):
        name = str(getattr(variable, 'name', '') or 'param_%d' % index)
        if name in names:
            suffix = 1
            while '%s_%d' % (name, suffix) in names:
                suffix += 1
            name = '%s_%d' % (name, suffix)
        names.append(name)
    return names


def _write_datasets(group, names, values):
    for name, value in zip(names, values):
        value = np.asarray(value)
        dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
        if value.shape:
            dataset[:] = value
        else:
            dataset[()] = value


def _file_size(group):
    try:
        return int(group.file.id.get_filesize())
    except Exception:  # noqa: BLE001 - an in-memory file has no size to ask
        return None


def _read_dataset(group, name, file_size, label, what):
    """Reads one dataset into a NumPy array, after checking it is one."""
    with _reading(label, what):
        if name not in group:
            raise CorruptModelFileError(label, '%s is listed in the file but missing.' % what)
        dataset = group[name]
        if not isinstance(dataset, h5py.Dataset):
            raise CorruptModelFileError(label, '%s is not a dataset.' % what)
        if dataset.dtype.kind not in 'biuf':
            raise CorruptModelFileError(label, '%s holds %s data, not numbers.'
                                        % (what, dataset.dtype))
        nbytes = int(np.prod(dataset.shape, dtype=np.float64) * dataset.dtype.itemsize)
        limit = file_size if dataset.compression is None else 64 * (file_size or 0)
        if file_size is not None and nbytes > max(limit, 1024):
            raise CorruptModelFileError(label, '%s declares shape %s (%d bytes), more than the '
                                        'file holds (%d bytes): the file is damaged.'
                                        % (what, dataset.shape, nbytes, file_size))
        value = dataset[()]
        return np.array(value, copy=True)
