"""Reading the dataset files safely, shared by the `load_data` functions.

Several Keras datasets are pickles (CIFAR batches) or `.npz` files holding
pickled object arrays (IMDB, Reuters: lists of word indices). Unpickling a
file from the network can run arbitrary code, so refkeras unpickles them with
an unpickler that can only rebuild NumPy arrays, NumPy scalars and dtypes
(plus the plain containers pickle builds by itself: lists, dicts, strings,
numbers). Keras 2.2.4 used the plain unpickler, and checked no hash for the
CIFAR archives; this is one of refkeras's documented differences.
"""
import os
import pickle
import warnings
import zipfile

import numpy as np

from refkeras.backend import config as config_module
from refkeras.utils import data_utils

# (module, name) pairs a dataset pickle may refer to; numpy.core is numpy._core in NumPy 2.
_ALLOWED_GLOBALS = {
    ('numpy', 'ndarray'): lambda: np.ndarray,
    ('numpy', 'dtype'): lambda: np.dtype,
    ('numpy.core.multiarray', '_reconstruct'): lambda: _numpy_multiarray()._reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): lambda: _numpy_multiarray()._reconstruct,
    ('numpy.core.multiarray', 'scalar'): lambda: _numpy_multiarray().scalar,
    ('numpy._core.multiarray', 'scalar'): lambda: _numpy_multiarray().scalar,
    # Python 3 pickles bytes as _codecs.encode(text, 'latin1') under protocol 2.
    ('_codecs', 'encode'): lambda: _latin1_encode,
}


def _latin1_encode(text, encoding='utf-8'):
    if encoding not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError('Refusing _codecs.encode with encoding %r in a dataset '
                                     'file.' % (encoding,))
    return text.encode('latin1')


def _numpy_multiarray():
    try:
        from numpy._core import multiarray  # NumPy 2: whichever of the two exists
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray
    return multiarray


def fetch(fname, origin, untar=False, file_hash=None, cache_subdir='datasets'):
    """`get_file` for a dataset file; offline, the error says where to put it by hand.

    # Arguments
        fname: the file's name in the cache (as `get_file`'s).
        origin: its URL.
        untar: whether it is a `.tar.gz` archive to extract (as `get_file`'s).
        file_hash: its expected sha256 or md5, or None.
        cache_subdir: the folder of the Keras directory it goes to.

    # Returns
        The local path (of the extracted folder, with `untar`).

    # Raises
        OSError: when the file is not cached and cannot be downloaded: Keras's
            "URL fetch failure on ..." message, then the path where the
            file can be placed (it is then used without downloading).
        ValueError: when the downloaded file's hash does not match.
    """
    try:
        return data_utils.get_file(fname, origin=origin, untar=untar, file_hash=file_hash,
                                   cache_subdir=cache_subdir)
    except OSError as error:
        folder = data_utils._cache_folder(config_module.keras_dir(), cache_subdir)
        target = os.path.join(folder, fname + ('.tar.gz' if untar else ''))
        hash_text = ' (hash %s)' % file_hash if file_hash else ''
        raise OSError('%s. Without network access, download %s elsewhere and place it at '
                      '%s%s; it is then used without downloading.'
                      % (str(error).rstrip('.'), origin, target, hash_text)) from error


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and plain containers, nothing else."""

    def find_class(self, module, name):
        factory = _ALLOWED_GLOBALS.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(
                'Refusing to load %s.%s from a dataset file: only NumPy arrays and plain Python '
                'values are allowed (the file may be corrupt or malicious).' % (module, name))
        return factory()


def load_pickle(path, encoding='bytes'):
    """Unpickles a dataset file, allowing only arrays and plain values.

    # Raises
        pickle.UnpicklingError: if the file refers to anything else.
    """
    with open(path, 'rb') as f:
        return _ArrayUnpickler(f, encoding=encoding).load()


def _read_object_array(npz_path, key):
    """One object array of an `.npz` file, through the restricted unpickler."""
    with zipfile.ZipFile(npz_path) as archive:
        with archive.open(key + '.npy') as fp:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                np.lib.format.read_array_header_2_0(fp)
            else:
                raise ValueError('%s: unsupported .npy format version %s for %r.'
                                 % (npz_path, version, key))
            return _ArrayUnpickler(fp, encoding='latin1').load()


def load_npz(path, keys):
    """The arrays `keys` of an `.npz` file, object arrays unpickled safely.

    # Returns
        A list of arrays, in the order of `keys`.

    # Raises
        KeyError: naming the missing array and the ones present.
    """
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in keys if k not in f.files]
        if missing:
            raise KeyError('%s has no array %r; it holds %s.' % (path, missing[0], f.files))
        out = []
        for key in keys:
            try:
                out.append(f[key])
            except ValueError:  # an object array: needs unpickling
                out.append(_read_object_array(path, key))
    return out


def object_array(items):
    """A 1-D object array holding the given lists (NumPy would stack equal-length ones)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def remove_long_sequences(maxlen, sequences, labels):
    """Keeps the sequences shorter than `maxlen` (and their labels), as Keras 2.2.4."""
    kept, kept_labels = [], []
    for sequence, label in zip(sequences, labels):
        if len(sequence) < maxlen:
            kept.append(sequence)
            kept_labels.append(label)
    return kept, kept_labels


def index_words(sequences, labels, num_words, skip_top, maxlen, start_char, oov_char,
                index_from, dataset, split=None):
    """Keras 2.2.4's common preparation of IMDB and Reuters word-index sequences.

    Shifts indices by `index_from`, prepends `start_char`, drops sequences
    not shorter than `maxlen`, and replaces (or, with `oov_char=None`,
    drops) the indices outside `[skip_top, num_words)` (`num_words` defaults
    to the largest index left).

    # Arguments
        split: None, or the number of leading sequences that form the
            training set; filtering by `maxlen` then keeps the training and
            test sequences apart (Keras 2.2.4 filtered first and split at the
            original count, moving test sequences into the training set).

    # Returns
        `(sequences, labels, split)`: lists, and the new split (or None).

    # Raises
        ValueError: if `maxlen` leaves no sequence.
    """
    if start_char is not None:
        sequences = [[start_char] + [w + index_from for w in s] for s in sequences]
    elif index_from:
        sequences = [[w + index_from for w in s] for s in sequences]
    else:
        sequences = [list(s) for s in sequences]
    labels = list(labels)
    if maxlen:
        if split is None:
            sequences, labels = remove_long_sequences(maxlen, sequences, labels)
        else:
            train, train_labels = remove_long_sequences(maxlen, sequences[:split], labels[:split])
            test, test_labels = remove_long_sequences(maxlen, sequences[split:], labels[split:])
            sequences, labels, split = train + test, train_labels + test_labels, len(train)
        if not sequences:
            raise ValueError('%s: after filtering for sequences shorter than maxlen=%s, no '
                             'sequence was kept. Increase maxlen.' % (dataset, maxlen))
    if not num_words:
        num_words = max(max(s) for s in sequences if s)
    if oov_char is not None:
        sequences = [[w if skip_top <= w < num_words else oov_char for w in s]
                     for s in sequences]
    else:
        sequences = [[w for w in s if skip_top <= w < num_words] for s in sequences]
    return sequences, labels, split


def check_kwargs(kwargs, num_words, dataset):
    """Keras 2.2.4's legacy `nb_words`; any other keyword is an error."""
    if 'nb_words' in kwargs:
        warnings.warn('The `nb_words` argument in `load_data` has been renamed `num_words`.')
        num_words = kwargs.pop('nb_words')
    if kwargs:
        raise TypeError('%s.load_data: unrecognized keyword arguments: %s'
                        % (dataset, sorted(kwargs)))
    return num_words


def shuffled_split(x, y, test_split, seed, dataset):
    """Shuffles `x`, `y` with `RandomState(seed)` and splits off the last `test_split`.

    Same permutation as Keras 2.2.4's `np.random.seed(seed); np.random.shuffle(...)`,
    without reseeding NumPy's global generator.

    # Raises
        ValueError: unless `0 <= test_split < 1`.
    """
    if not 0 <= test_split < 1:
        raise ValueError('%s.load_data: `test_split` must be in [0, 1); received %r.'
                         % (dataset, test_split))
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
