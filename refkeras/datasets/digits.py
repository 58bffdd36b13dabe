"""The UCI 8x8 handwritten digits, shipped with refkeras (no download).

1797 images of 8x8 pixels with values 0..16 (counts of "on" pixels in 4x4
blocks of 32x32 bitmaps) and their digit 0-9. See data/README.md for the
origin and licence.
"""
import gzip
import os

import numpy as np

from refkeras.datasets._loading import shuffled_split

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'digits.csv.gz')


def _read_all():
    with gzip.open(DATA_FILE, 'rt') as f:
        table = np.loadtxt(f, delimiter=',', dtype='int64')
    images = (table[:, :64].reshape(-1, 8, 8) / 16.0).astype('float32')
    return images, table[:, 64]


def load_data(test_split=0.2, seed=113):
    """Loads the digits, shuffled with `seed`, the last `test_split` kept for testing.

    # Arguments
        test_split: fraction of the samples in the test set, in [0, 1).
        seed: seed of the shuffle (NumPy's global generator is left alone).

    # Returns
        `(x_train, y_train), (x_test, y_test)`: float32 images of shape
        (n, 8, 8) with values in [0, 1] (pixel / 16), int64 labels 0-9.
        With the defaults: 1437 training and 360 test samples.

    # Raises
        ValueError: unless `0 <= test_split < 1`.
    """
    if not 0 <= test_split < 1:
        raise ValueError('digits.load_data: `test_split` must be in [0, 1); received %r.'
                         % (test_split,))
    x, y = _read_all()
    return shuffled_split(x, y, test_split, seed, 'digits')
