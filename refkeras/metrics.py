"""Built-in metrics (Keras 2.2.4's `keras.metrics`).

A metric is a function `metric(y_true, y_pred)` like a loss; it is reported
during training (FAQ: "How can I record the training / validation loss /
accuracy at each epoch?") but not optimised. Besides the accuracies defined
here, the losses Keras 2.2.4 exposes in this module can be used as metrics
(`metrics=['mae']`).

The strings `'acc'` / `'accuracy'` (and `'ce'` / `'crossentropy'`) are special:
the training engine picks the binary, categorical or sparse variant from the
model's loss and output shape, with `resolve_accuracy`.
"""
from refkeras import backend as K
from refkeras import losses
from refkeras.losses import binary_crossentropy
from refkeras.losses import categorical_crossentropy
from refkeras.losses import cosine_proximity
from refkeras.losses import hinge
from refkeras.losses import kullback_leibler_divergence
from refkeras.losses import logcosh
from refkeras.losses import mean_absolute_error
from refkeras.losses import mean_absolute_percentage_error
from refkeras.losses import mean_squared_error
from refkeras.losses import mean_squared_logarithmic_error
from refkeras.losses import poisson
from refkeras.losses import sparse_categorical_crossentropy
from refkeras.losses import squared_hinge
from refkeras.utils.generic_utils import deserialize_keras_object
from refkeras.utils.generic_utils import serialize_keras_object


def binary_accuracy(y_true, y_pred):
    """Fraction, over the last axis, of predictions that round to the target.

    `y_pred` is rounded half to even (0.5 counts as 0), as TensorFlow rounds.
    """
    return K.mean(K.equal(y_true, K.round(y_pred)), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where the most probable predicted class is the target's, else 0.0."""
    hits = K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1))
    return K.cast(hits, K.floatx())


def _class_indices(y_true, y_pred):
    """Integer targets in the shape of `argmax(y_pred)`.

    Keras 2.2.4 flattened `y_true`, which works for `(samples,)` and
    `(samples, 1)` targets but fails for sequence outputs (targets of shape
    `(samples, steps, 1)`); dropping a trailing axis of size 1 gives the same
    result in the first two cases and works in the third.
    """
    if K.ndim(y_true) == K.ndim(y_pred) and K.int_shape(y_true)[-1] == 1:
        y_true = K.squeeze(y_true, -1)
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the most probable predicted class equals the integer target.

    `y_true` holds class indices of shape `y_pred.shape[:-1]`, optionally with
    an extra axis of size 1.
    """
    predicted = K.cast(K.argmax(y_pred, axis=-1), K.floatx())
    return K.cast(K.equal(_class_indices(y_true, y_pred), predicted), K.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Fraction of samples whose one-hot target is among the `k` top predictions.

    Ties at the boundary count as in the top `k` (TensorFlow's `in_top_k`).
    Returns the mean over the batch, a scalar, as Keras 2.2.4 does.
    """
    return K.mean(K.in_top_k(y_pred, K.argmax(y_true, axis=-1), k), axis=-1)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Fraction of samples whose integer target is among the `k` top predictions.

    `y_true` has shape `(samples,)` or `(samples, 1)`. Returns a scalar.
    """
    targets = K.cast(K.flatten(y_true), 'int32')
    return K.mean(K.in_top_k(y_pred, targets, k), axis=-1)


# Aliases (Keras 2.2.4 has no `kld` or `categorical_hinge` among the metrics).

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
cosine = cosine_proximity

# The names `get` and `deserialize` accept: the metrics and the losses
# Keras 2.2.4's metrics module imports, and the aliases above.
_METRICS_BY_NAME = {
    fn.__name__: fn for fn in (
        binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, hinge, logcosh, squared_hinge,
        categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
        kullback_leibler_divergence, poisson, cosine_proximity)
}
_METRICS_BY_NAME.update({
    'mse': mse, 'MSE': MSE, 'mae': mae, 'MAE': MAE, 'mape': mape, 'MAPE': MAPE,
    'msle': msle, 'MSLE': MSLE, 'cosine': cosine,
})

# Metric names the engine resolves from the loss and the output shape.
ACCURACY_NAMES = ('accuracy', 'acc')
CROSSENTROPY_NAMES = ('crossentropy', 'ce')


def resolve_accuracy(name, loss_fn, output_shape):
    """Which accuracy (or crossentropy) function `'acc'` means for one output.

    As Keras 2.2.4's training engine decides it (`handle_metrics` in
    `engine/training.py`):

    - binary variant when the output has one unit on its last axis or the
      loss is `binary_crossentropy`;
    - sparse categorical variant when the loss is
      `sparse_categorical_crossentropy`;
    - categorical variant otherwise.

    The history key is `'acc'` for both `'acc'` and `'accuracy'`, and `'ce'`
    for both `'ce'` and `'crossentropy'`, exactly as in Keras 2.2.4 (so
    `metrics=['accuracy']` gives `history['acc']` and `history['val_acc']`).
    The engine adds the `weighted_` prefix for weighted metrics and the
    output name for multi-output models.

    # Arguments
        name: one of `'acc'`, `'accuracy'`, `'ce'`, `'crossentropy'`.
        loss_fn: the output's loss function (or its name).
        output_shape: the output's static shape (a tuple).

    # Returns
        `(key, metric_function)`.

    # Raises
        ValueError: if `name` is not one of the four names above.
    """
    if name not in ACCURACY_NAMES + CROSSENTROPY_NAMES:
        raise ValueError('resolve_accuracy handles the metric names %s; received %r.'
                         % (', '.join(ACCURACY_NAMES + CROSSENTROPY_NAMES), name))
    if isinstance(loss_fn, (str, dict)):
        loss_fn = losses.get(loss_fn)
    wants_accuracy = name in ACCURACY_NAMES
    single_unit = bool(output_shape) and output_shape[-1] == 1
    if single_unit or loss_fn is losses.binary_crossentropy:
        fn = binary_accuracy if wants_accuracy else binary_crossentropy
    elif loss_fn is losses.sparse_categorical_crossentropy:
        fn = sparse_categorical_accuracy if wants_accuracy else sparse_categorical_crossentropy
    else:
        fn = categorical_accuracy if wants_accuracy else categorical_crossentropy
    return ('acc' if wants_accuracy else 'ce'), fn


def resolve_metric(metric, loss_fn, output_shape):
    """The history key and function of any metric given to `compile`.

    # Arguments
        metric: a name (`'acc'`, `'mae'`, ...), a config dict or a function.
        loss_fn: the output's loss function (used by `'acc'` and `'ce'`).
        output_shape: the output's static shape.

    # Returns
        `(key, metric_function)`: the key is `'acc'` / `'ce'` for the special
        names (see `resolve_accuracy`), else the function's `name` attribute
        if it has one, else its `__name__` (so `'mae'` is logged as
        `'mean_absolute_error'`, as in Keras 2.2.4).

    # Raises
        ValueError: for an unknown metric name.
    """
    if isinstance(metric, str) and metric in ACCURACY_NAMES + CROSSENTROPY_NAMES:
        return resolve_accuracy(metric, loss_fn, output_shape)
    fn = get(metric)
    key = getattr(fn, 'name', None) or fn.__name__
    return key, fn


def serialize(metric):
    """The name under which a metric function is saved (its `__name__`)."""
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """The metric function saved under a name (or config dict).

    # Raises
        ValueError: for an unknown name, naming it.
    """
    return deserialize_keras_object(config, module_objects=_METRICS_BY_NAME,
                                    custom_objects=custom_objects,
                                    printable_module_name='metric function')


def get(identifier):
    """Resolves a metric given by name, config dict or function.

    Keras 2.2.4 turned a dict into the name `str(dict)` (a bug); here a dict
    is deserialized as a config.

    # Arguments
        identifier: a metric name or alias, a config dict, or a callable
            (returned as is).

    # Returns
        The metric function.

    # Raises
        ValueError: if `identifier` is an unknown name or cannot be
            interpreted as a metric.
    """
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError('Could not interpret metric function identifier: %r (expected a metric '
                     'name such as "accuracy" or "mae", a config dict or a callable).'
                     % (identifier,))
