"""Boston housing prices: 506 samples of 13 features, regression targets."""
from refkeras.datasets._loading import fetch, load_npz, shuffled_split

ORIGIN = 'https://s3.amazonaws.com/keras-datasets/boston_housing.npz'
FILE_HASH = 'f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5'


def load_data(path='boston_housing.npz', test_split=0.2, seed=113):
    """Loads the Boston housing dataset.

    # Arguments
        path: file name in the cache (`~/.keras/datasets/`).
        test_split: fraction of the data kept for testing (the last part
            after shuffling).
        seed: seed of the shuffle before the split (NumPy's global
            generator is left alone).

    # Returns
        `(x_train, y_train), (x_test, y_test)`.

    # Raises
        ValueError: unless `0 <= test_split < 1`.
    """
    if not 0 <= test_split < 1:
        raise ValueError('boston_housing.load_data: `test_split` must be in [0, 1); received %r.'
                         % (test_split,))
    path = fetch(path, origin=ORIGIN, file_hash=FILE_HASH)
    x, y = load_npz(path, ['x', 'y'])
    return shuffled_split(x, y, test_split, seed, 'boston_housing')
