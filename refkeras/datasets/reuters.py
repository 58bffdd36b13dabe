"""Reuters newswires as sequences of word indices, labelled by topic (46 topics)."""
import json

import numpy as np

from refkeras.datasets._loading import check_kwargs, fetch, index_words, load_npz, object_array

ORIGIN = 'https://s3.amazonaws.com/text-datasets/reuters.npz'
FILE_HASH = '87aedbeb0cb229e378797a632c1997b6'
WORD_INDEX_ORIGIN = 'https://s3.amazonaws.com/text-datasets/reuters_word_index.json'
WORD_INDEX_HASH = '4d44cc38712099c9e383dc6e5f11a921'


def load_data(path='reuters.npz', num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the Reuters newswire topic classification dataset.

    # Arguments
        path: file name in the cache (`~/.keras/datasets/`).
        num_words: keep word indices below this (default: all).
        skip_top: replace the indices below this (the most frequent words).
        maxlen: drop the sequences that are not shorter than this.
        test_split: fraction of the (shuffled) data kept for testing.
        seed: seed of the shuffle (NumPy's global generator is left alone).
        start_char: index marking the start of every sequence (None: none).
        oov_char: index replacing the words cut by `num_words` / `skip_top`
            (None: those words are dropped).
        index_from: shift added to every word index.

    # Returns
        `(x_train, y_train), (x_test, y_test)`: x are 1-D object arrays of
        lists of ints, y int arrays of topic indices.

    # Raises
        ValueError: if `maxlen` leaves no sequence.
        TypeError: for an unknown keyword argument.
    """
    num_words = check_kwargs(kwargs, num_words, 'reuters')
    path = fetch(path, origin=ORIGIN, file_hash=FILE_HASH)
    xs, labels = load_npz(path, ['x', 'y'])
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)  # as Keras's np.random.seed(seed)
    xs, labels = xs[indices], labels[indices]
    sequences, labels, _ = index_words(list(xs), labels, num_words, skip_top, maxlen, start_char,
                                       oov_char, index_from, 'reuters')
    split = int(len(sequences) * (1 - test_split))
    return ((object_array(sequences[:split]), np.array(labels[:split])),
            (object_array(sequences[split:]), np.array(labels[split:])))


def get_word_index(path='reuters_word_index.json'):
    """The dictionary word -> index (before `index_from`) of the Reuters dataset.

    # Arguments
        path: file name in the cache (`~/.keras/datasets/`).
    """
    path = fetch(path, origin=WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)
