"""Built-in loss functions (Keras 2.2.4's `keras.losses`).

Every loss is a function `loss(y_true, y_pred)` that returns one value per
sample: the per-entry loss averaged (or summed, where Keras sums) over the
last axis. The training engine then applies sample weights and masks and takes
the mean over the batch.

All arithmetic goes through backend (`K`) functions, so a loss is
differentiable on a gradient tape and can be built on symbolic tensors.
Losses that divide or take logarithms clip their arguments with `K.epsilon()`
exactly where Keras 2.2.4 does.

Functions are found by name with `get('mse')`, and a loss is saved by its name
(`serialize(mean_squared_error) == 'mean_squared_error'`).
"""
import math

from refkeras import backend as K
from refkeras.utils.generic_utils import deserialize_keras_object
from refkeras.utils.generic_utils import serialize_keras_object

_LOG_OF_TWO = math.log(2.0)


def mean_squared_error(y_true, y_pred):
    """Mean over the last axis of `(y_pred - y_true) ** 2`."""
    return K.mean(K.square(K.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean over the last axis of `|y_pred - y_true|`."""
    return K.mean(K.abs(K.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(|y_true - y_pred| / max(|y_true|, epsilon))` over the last axis."""
    denominator = K.clip(K.abs(y_true), K.epsilon(), None)
    ratio = K.abs(K.divide(K.subtract(y_true, y_pred), denominator))
    return K.multiply(100.0, K.mean(ratio, axis=-1))


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean squared difference of `log(max(y, epsilon) + 1)` over the last axis."""
    log_pred = K.log(K.add(K.clip(y_pred, K.epsilon(), None), 1.0))
    log_true = K.log(K.add(K.clip(y_true, K.epsilon(), None), 1.0))
    return K.mean(K.square(K.subtract(log_pred, log_true)), axis=-1)


def _hinge_margin(y_true, y_pred):
    """`max(1 - y_true * y_pred, 0)`, elementwise (targets are -1 or 1)."""
    return K.maximum(K.subtract(1.0, K.multiply(y_true, y_pred)), 0.0)


def squared_hinge(y_true, y_pred):
    """Mean over the last axis of `max(1 - y_true * y_pred, 0) ** 2`."""
    return K.mean(K.square(_hinge_margin(y_true, y_pred)), axis=-1)


def hinge(y_true, y_pred):
    """Mean over the last axis of `max(1 - y_true * y_pred, 0)`."""
    return K.mean(_hinge_margin(y_true, y_pred), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`max(0, best wrong score - true score + 1)` for one-hot `y_true`.

    The true score is `sum(y_true * y_pred)`, the best wrong score
    `max((1 - y_true) * y_pred)`, both over the last axis.

    # Arguments
        y_true: one-hot targets.
        y_pred: scores, of `y_true`'s shape.

    # Returns
        The loss of each sample (the last axis reduced).
    """
    positive = K.sum(K.multiply(y_true, y_pred), axis=-1)
    negative = K.max(K.multiply(K.subtract(1.0, y_true), y_pred), axis=-1)
    return K.maximum(0.0, K.add(K.subtract(negative, positive), 1.0))


def logcosh(y_true, y_pred):
    """Mean over the last axis of `log(cosh(y_pred - y_true))`.

    `log(cosh(x))` is about `x ** 2 / 2` for small `x` and `|x| - log(2)` for
    large `x`: like the squared error, but less sensitive to the occasional
    wildly wrong prediction. It is computed as `x + softplus(-2x) - log(2)`,
    which does not overflow.

    # Arguments
        y_true: tensor of true targets.
        y_pred: tensor of predicted targets.

    # Returns
        Tensor with one scalar loss entry per sample.
    """
    error = K.subtract(y_pred, y_true)
    log_cosh = K.subtract(K.add(error, K.softplus(K.multiply(-2.0, error))), _LOG_OF_TWO)
    return K.mean(log_cosh, axis=-1)


def categorical_crossentropy(y_true, y_pred):
    """Crossentropy of one-hot (or soft) targets and predicted class probabilities.

    `y_pred` is rescaled to sum to 1 over the last axis and clipped to
    `[epsilon, 1 - epsilon]` (see `K.categorical_crossentropy`).
    """
    return K.categorical_crossentropy(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred):
    """Crossentropy of integer class targets and predicted class probabilities.

    `y_true` holds class indices, of shape `y_pred.shape[:-1]` (or with an
    extra axis of size 1).
    """
    return K.sparse_categorical_crossentropy(y_true, y_pred)


def binary_crossentropy(y_true, y_pred):
    """Mean over the last axis of the elementwise binary crossentropy.

    Probabilities are clipped to `[epsilon, 1 - epsilon]` first (see
    `K.binary_crossentropy`).
    """
    return K.mean(K.binary_crossentropy(y_true, y_pred), axis=-1)


def kullback_leibler_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred))` over the last axis.

    Both distributions are clipped to `[epsilon, 1]` first.
    """
    y_true = K.clip(y_true, K.epsilon(), 1)
    y_pred = K.clip(y_pred, K.epsilon(), 1)
    return K.sum(K.multiply(y_true, K.log(K.divide(y_true, y_pred))), axis=-1)


def poisson(y_true, y_pred):
    """Mean over the last axis of `y_pred - y_true * log(y_pred + epsilon)`."""
    log_pred = K.log(K.add(y_pred, K.epsilon()))
    return K.mean(K.subtract(y_pred, K.multiply(y_true, log_pred)), axis=-1)


def cosine_proximity(y_true, y_pred):
    """Minus the cosine similarity of `y_true` and `y_pred` along the last axis.

    Both are L2-normalised with `K.l2_normalize` (whose norm is at least
    `sqrt(1e-12)`), so the loss is -1 for vectors pointing the same way.

    # Arguments
        y_true: target vectors.
        y_pred: predicted vectors, of `y_true`'s shape.

    # Returns
        The loss of each sample (the last axis reduced).
    """
    y_true = K.l2_normalize(y_true, axis=-1)
    y_pred = K.l2_normalize(y_pred, axis=-1)
    return K.negative(K.sum(K.multiply(y_true, y_pred), axis=-1))


# Aliases.

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_proximity

# The names `get` and `deserialize` accept. Keras 2.2.4 looked names up in the
# module's globals, so `get('K')` returned the backend; only losses are here.
_LOSSES_BY_NAME = {
    fn.__name__: fn for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, squared_hinge, hinge, categorical_hinge, logcosh,
        categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
        kullback_leibler_divergence, poisson, cosine_proximity)
}
_LOSSES_BY_NAME.update({
    'mse': mse, 'MSE': MSE, 'mae': mae, 'MAE': MAE, 'mape': mape, 'MAPE': MAPE,
    'msle': msle, 'MSLE': MSLE, 'kld': kld, 'KLD': KLD, 'cosine': cosine,
})


def serialize(loss):
    """The name under which a loss function is saved (its `__name__`).

    # Arguments
        loss: a loss function (aliases give the full name: `mse` gives
            `'mean_squared_error'`), or an object with `get_config`.

    # Returns
        A string (or a config dict for an object with `get_config`).
    """
    return serialize_keras_object(loss)


def deserialize(name, custom_objects=None):
    """The loss function saved under `name`.

    # Arguments
        name: a loss name or alias (e.g. `'mse'`), or a config dict.
        custom_objects: optional dict of user-defined losses by name.

    # Returns
        The loss function.

    # Raises
        ValueError: for an unknown name, naming it.
    """
    return deserialize_keras_object(name, module_objects=_LOSSES_BY_NAME,
                                    custom_objects=custom_objects,
                                    printable_module_name='loss function')


def get(identifier):
    """Resolves a loss given by name, config dict or function.

    # Arguments
        identifier: None, a loss name or alias (`'categorical_crossentropy'`,
            `'mse'`, ...), a config dict, or a callable (returned as is).

    # Returns
        The loss function, or None if `identifier` is None.

    # Raises
        ValueError: if `identifier` is an unknown name or cannot be
            interpreted as a loss.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError('Could not interpret loss function identifier: %r (expected a loss name '
                     'such as "mse", a config dict or a callable).' % (identifier,))
