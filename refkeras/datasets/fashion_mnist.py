"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing."""
import gzip
import os

import numpy as np

from refkeras.datasets._loading import fetch


BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
FILES = ['train-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz',
         't10k-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz']


def _read_idx(path, header_bytes):
    """The bytes after the IDX header of a gzipped file, as a writable uint8 array."""
    with gzip.open(path, 'rb') as f:
        content = bytearray(f.read())
    return np.frombuffer(content, dtype=np.uint8, offset=header_bytes)


def load_data():
    """Loads Fashion-MNIST (files cached in `~/.keras/datasets/fashion-mnist/`).

    # Returns
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        (60000, 28, 28) and (10000, 28, 28), uint8 labels 0-9.
    """
    dirname = os.path.join('datasets', 'fashion-mnist')
    paths = [fetch(name, origin=BASE_URL + name, cache_subdir=dirname) for name in FILES]
    y_train = _read_idx(paths[0], 8)
    x_train = _read_idx(paths[1], 16).reshape(len(y_train), 28, 28)
    y_test = _read_idx(paths[2], 8)
    x_test = _read_idx(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
