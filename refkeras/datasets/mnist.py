"""MNIST: 70,000 28x28 grayscale images of handwritten digits."""
from refkeras.datasets._loading import fetch, load_npz

ORIGIN = 'https://s3.amazonaws.com/img-datasets/mnist.npz'
FILE_HASH = '8a61469f7ea1b51cbae51d4f78837e45'


def load_data(path='mnist.npz'):
    """Loads MNIST.

    # Arguments
        path: file name in the cache (`~/.keras/datasets/`).

    # Returns
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        (60000, 28, 28) and (10000, 28, 28), uint8 labels 0-9.
    """
    path = fetch(path, origin=ORIGIN, file_hash=FILE_HASH)
    x_train, y_train, x_test, y_test = load_npz(path, ['x_train', 'y_train', 'x_test', 'y_test'])
    return (x_train, y_train), (x_test, y_test)
