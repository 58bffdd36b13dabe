"""CIFAR-100: 60,000 32x32 color images in 100 fine (20 coarse) classes."""
import os

import numpy as np

from refkeras import backend as K
from refkeras.datasets._loading import fetch
from refkeras.datasets.cifar import load_batch

DIRNAME = 'cifar-100-python'
ORIGIN = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'
# Keras 2.2.4 checked no hash here; refkeras does, since the files are unpickled.
FILE_HASH = '85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7'


def load_data(label_mode='fine'):
    """Loads CIFAR-100 (extracted into `~/.keras/datasets/cifar-100-python/`).

    # Arguments
        label_mode: 'fine' (100 classes) or 'coarse' (20 superclasses).

    # Returns
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        (50000, 32, 32, 3) and (10000, 32, 32, 3) (channels first with
        `image_data_format() == 'channels_first'`), labels of shape (n, 1).

    # Raises
        ValueError: for an invalid `label_mode`.
    """
    if label_mode not in ('fine', 'coarse'):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`; received %r.'
                         % (label_mode,))
    path = fetch(DIRNAME, origin=ORIGIN, untar=True, file_hash=FILE_HASH)
    x_train, y_train = load_batch(os.path.join(path, 'train'), label_key=label_mode + '_labels')
    x_test, y_test = load_batch(os.path.join(path, 'test'), label_key=label_mode + '_labels')
    y_train = np.reshape(np.asarray(y_train), (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test), (len(y_test), 1))
    if K.image_data_format() == 'channels_last':
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
