"""CIFAR-10: 60,000 32x32 color images in 10 classes."""
import os

import numpy as np

from refkeras import backend as K
from refkeras.datasets._loading import fetch
from refkeras.datasets.cifar import load_batch

DIRNAME = 'cifar-10-batches-py'
ORIGIN = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
# Keras 2.2.4 checked no hash here; refkeras does, since the files are unpickled.
FILE_HASH = '6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce'
TRAIN_BATCHES = 5


def load_data():
    """Loads CIFAR-10 (extracted into `~/.keras/datasets/cifar-10-batches-py/`).

    # Returns
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        (50000, 32, 32, 3) and (10000, 32, 32, 3) (channels first with
        `image_data_format() == 'channels_first'`), uint8 labels of shape
        (n, 1).
    """
    path = fetch(DIRNAME, origin=ORIGIN, untar=True, file_hash=FILE_HASH)
    parts = [load_batch(os.path.join(path, 'data_batch_%d' % i))
             for i in range(1, TRAIN_BATCHES + 1)]
    x_train = np.concatenate([data for data, _ in parts]).astype('uint8')
    y_train = np.concatenate([np.asarray(labels) for _, labels in parts]).astype('uint8')
    x_test, y_test = load_batch(os.path.join(path, 'test_batch'))
    x_test = np.asarray(x_test, dtype='uint8')
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test), (len(y_test), 1))
    if K.image_data_format() == 'channels_last':
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
