"""IMDB movie reviews as sequences of word indices, labelled by sentiment (0/1).

Difference from Keras 2.2.4, on purpose: with `maxlen`, the training and the
test sequences are filtered separately; Keras filtered them together and then
split at the original number of training sequences, so test reviews ended up
in the training set. The shuffle uses a local `RandomState(seed)` (same
permutations as Keras's `np.random.seed(seed)`, without touching NumPy's global
generator), and x are object arrays of lists also when all lengths agree.
"""
import json

import numpy as np

from refkeras.datasets._loading import check_kwargs, fetch, index_words, load_npz, object_array

ORIGIN = 'https://s3.amazonaws.com/text-datasets/imdb.npz'
FILE_HASH = '599dadb1135973df5b59232a0e9a887c'
WORD_INDEX_ORIGIN = 'https://s3.amazonaws.com/text-datasets/imdb_word_index.json'
WORD_INDEX_HASH = 'bfafd718b763782e994055a2d397834f'


def load_data(path='imdb.npz', num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB dataset.

    Words are indexed by decreasing frequency (index 1 is the most frequent
    word, before shifting by `index_from`).

    # Arguments
        path: file name in the cache (`~/.keras/datasets/`).
        num_words: keep word indices below this (default: all).
        skip_top: replace the indices below this (the most frequent words).
        maxlen: drop the sequences that are not shorter than this.
        seed: seed of the shuffle of the training and the test set (NumPy's
            global generator is left alone).
        start_char: index marking the start of every sequence (None: none).
        oov_char: index replacing the words cut by `num_words` / `skip_top`
            (None: those words are dropped).
        index_from: shift added to every word index.

    # Returns
        `(x_train, y_train), (x_test, y_test)`: x are 1-D object arrays of
        lists of ints, y int arrays of 0/1.

    # Raises
        ValueError: if `maxlen` leaves no sequence.
        TypeError: for an unknown keyword argument.
    """
    num_words = check_kwargs(kwargs, num_words, 'imdb')
    path = fetch(path, origin=ORIGIN, file_hash=FILE_HASH)
    x_train, labels_train, x_test, labels_test = load_npz(
        path, ['x_train', 'y_train', 'x_test', 'y_test'])
    rng = np.random.RandomState(seed)  # same draws as Keras's np.random.seed(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    sequences = list(x_train) + list(x_test)
    labels = np.concatenate([labels_train, labels_test])
    sequences, labels, split = index_words(sequences, labels, num_words, skip_top, maxlen,
                                           start_char, oov_char, index_from, 'imdb',
                                           split=len(x_train))
    return ((object_array(sequences[:split]), np.array(labels[:split])),
            (object_array(sequences[split:]), np.array(labels[split:])))


def get_word_index(path='imdb_word_index.json'):
    """The dictionary word -> index (before `index_from`) of the IMDB dataset.

    # Arguments
        path: file name in the cache (`~/.keras/datasets/`).
    """
    path = fetch(path, origin=WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)
