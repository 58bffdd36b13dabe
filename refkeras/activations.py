"""Activation functions: `Dense(64, activation='relu')` or `activation=activations.relu`.

Every function is written with backend functions only, so it works on arrays,
on variables, under a gradient tape (differentiable) and on symbolic tensors.
`get` turns what a layer was given (None, a name, a function) into a function.
"""
import warnings

from refkeras import backend as K
# The SELU constants (Klambauer et al., 2017), kept with the activation table.
from refkeras.backend.prims_nn import SELU_ALPHA, SELU_SCALE
from refkeras.utils.generic_utils import deserialize_keras_object


def softmax(x, axis=-1):
    """Softmax: `exp(x) / sum(exp(x))` along `axis`.

    # Arguments
        x: tensor of rank 2 or more.
        axis: the axis along which the outputs sum to 1.

    # Returns
        A tensor of the same shape.

    # Raises
        ValueError: for a tensor of rank 0 or 1, as Keras 2.2.4.

    Keras 2.2.4 ignored `axis` for rank-2 inputs (always the last axis); here
    `axis` is honoured for every rank.
    """
    rank = K.ndim(x)
    if rank < 2:
        raise ValueError('Cannot apply softmax to a tensor that is %dD (shape %s); softmax '
                         'needs a batch axis and at least one other axis.'
                         % (rank, K.int_shape(x)))
    return K.softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0`, else `alpha * (exp(x) - 1)`.

    # Arguments
        x: tensor.
        alpha: scale of the negative part.
    """
    return K.elu(x, alpha)


def selu(x):
    """Scaled exponential linear unit: `scale * elu(x, alpha)`.

    With `alpha = 1.6732632...` and `scale = 1.0507009...`, activations keep a
    zero mean and unit variance from layer to layer when the weights are
    initialised with `lecun_normal` (and dropout is `AlphaDropout`).
    """
    return K.multiply(SELU_SCALE, K.elu(x, SELU_ALPHA))


def softplus(x):
    """`log(exp(x) + 1)`."""
    return K.softplus(x)


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return K.softsign(x)


def relu(x, alpha=0., max_value=None, threshold=0.):
    """Rectified linear unit.

    `max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`,
    `alpha * (x - threshold)` otherwise; with the defaults, `max(x, 0)`.

    # Arguments
        x: tensor.
        alpha: slope below the threshold.
        max_value: saturation value (None: no saturation).
        threshold: where the linear part starts.

    # Returns
        A tensor of `x`'s shape.
    """
    return K.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def tanh(x):
    """Hyperbolic tangent."""
    return K.tanh(x)


def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`."""
    return K.sigmoid(x)


def hard_sigmoid(x):
    """Piecewise linear sigmoid: 0 below -2.5, 1 above 2.5, `0.2 * x + 0.5` between."""
    return K.hard_sigmoid(x)


def exponential(x):
    """`exp(x)`."""
    return K.exp(x)


def linear(x):
    """The identity: `x` unchanged (what `activation=None` means)."""
    return x


# The names `get('...')` and `deserialize('...')` accept (custom ones come from
# `custom_objects` or `CustomObjectScope`).
_BUILT_IN = {fn.__name__: fn for fn in (softmax, elu, selu, softplus, softsign, relu, tanh,
                                         sigmoid, hard_sigmoid, exponential, linear)}


def serialize(activation):
    """The name under which `activation` is saved (its `__name__`)."""
    return activation.__name__


def deserialize(name, custom_objects=None):
    """The activation function called `name`.

    # Arguments
        name: a built-in name ('relu', ...) or a custom one.
        custom_objects: dict of custom activation functions by name.

    # Returns
        The function.

    # Raises
        ValueError: for an unknown name, saying how to pass a custom one.
    """
    return deserialize_keras_object(name, module_objects=_BUILT_IN,
                                    custom_objects=custom_objects,
                                    printable_module_name='activation function')


def _is_layer(obj):
    """Whether `obj` is a refkeras layer instance or layer class.

    Checked by the class hierarchy rather than by importing the engine, which
    itself imports this module.

    # Arguments
        obj: anything.

    # Returns
        A bool.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    return any(c.__name__ == 'Layer' and c.__module__.startswith('refkeras.engine')
               for c in cls.__mro__)


def get(identifier):
    """The activation function a layer's `activation` argument designates.

    # Arguments
        identifier: None (gives `linear`), a name, or a callable.

    # Returns
        A function of one tensor.

    # Raises
        ValueError: for an unknown name or an object that is not callable.

    A layer (such as `LeakyReLU()`) passed as an activation works, since
    layers are callable, but gets the warning Keras 2.2.4 gives: advanced
    activations are meant to be layers of the model.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return deserialize(identifier)
    if callable(identifier):
        if _is_layer(identifier):
            name = identifier.__name__ if isinstance(identifier, type) else \
                identifier.__class__.__name__
            warnings.warn('Do not pass a layer instance (such as %s) as the activation '
                          'argument of another layer: add advanced activation layers to the '
                          'model as layers of their own.' % name, stacklevel=2)
        return identifier
    raise ValueError('Could not interpret activation function identifier: %r (expected None, '
                     'a name such as "relu", or a callable).' % (identifier,))
