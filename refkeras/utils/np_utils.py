"""NumPy helpers for preparing data: one-hot labels and normalisation."""
import numpy as np


def to_categorical(y, num_classes=None, dtype='float32'):
    """Converts integer class labels to one-hot rows.

    # Arguments
        y: array-like of class indices in `[0, num_classes)`. A trailing axis
            of size 1 (labels shaped `(n, 1)`) is dropped first.
        num_classes: number of classes; defaults to `max(y) + 1`.
        dtype: dtype of the result.

    # Returns
        An array of shape `y.shape + (num_classes,)` (trailing 1 dropped) with
        a single 1 per row, on the last axis.

    # Raises
        ValueError: for labels outside `[0, num_classes)` (Keras 2.2.4 wrapped
            negative labels around silently), or for an empty `y` without
            `num_classes`.

    # Example
    ```python
    to_categorical([0, 2, 1], 3)
    # [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    ```
    """
    y = np.array(y, dtype='int')
    input_shape = y.shape
    if len(input_shape) > 1 and input_shape[-1] == 1:
        input_shape = input_shape[:-1]
    y = y.ravel()
    if not num_classes:
        if y.size == 0:
            raise ValueError('to_categorical: cannot infer `num_classes` from an empty label '
                             'array; pass num_classes.')
        num_classes = int(np.max(y)) + 1
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError('to_categorical: labels must be in [0, %d) for num_classes=%d; '
                         'received labels from %d to %d.'
                         % (num_classes, num_classes, y.min(), y.max()))
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape(tuple(input_shape) + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divides `x` by its `order`-norm along `axis` (zero norms are left alone).

    # Arguments
        x: NumPy array.
        axis: the axis along which norms are computed.
        order: the norm's order (2 for the Euclidean norm, 1, `np.inf`, ...).

    # Returns
        A normalised copy of `x`.
    """
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)
