"""Weight regularizers: `Dense(64, kernel_regularizer=regularizers.l2(0.01))`.

A regularizer maps a weight to a scalar penalty that the model adds to its
loss. The penalty is built with backend functions, so the training tape
differentiates it along with the loss.
"""
from refkeras import backend as K
from refkeras.utils.generic_utils import deserialize_keras_object, serialize_keras_object


class Regularizer(object):
    """Base class of regularizers: `__call__(x)` returns the penalty for `x`."""

    def __call__(self, x):
        return 0.

    @classmethod
    def from_config(cls, config):
        """Builds a regularizer from its `get_config()` dict."""
        return cls(**config)


class L1L2(Regularizer):
    """The penalty `l1 * sum(|x|) + l2 * sum(x ** 2)`.

    # Arguments
        l1: L1 factor (non-negative float).
        l2: L2 factor (non-negative float).
    """

    def __init__(self, l1=0., l2=0.):
        self.l1 = K.cast_to_floatx(l1)
        self.l2 = K.cast_to_floatx(l2)

    def __call__(self, x):
        penalty = 0.
        # The factors go in as Python floats so that they keep `x`'s dtype.
        if self.l1:
            penalty = K.add(penalty, K.sum(K.multiply(float(self.l1), K.abs(x))))
        if self.l2:
            penalty = K.add(penalty, K.sum(K.multiply(float(self.l2), K.square(x))))
        return penalty

    def get_config(self):
        return {'l1': float(self.l1), 'l2': float(self.l2)}


def l1(l=0.01):  # noqa: E741 (the Keras argument name)
    """An L1 penalty `l * sum(|x|)`."""
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741 (the Keras argument name)
    """An L2 penalty `l * sum(x ** 2)`."""
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):
    """The penalty `l1 * sum(|x|) + l2 * sum(x ** 2)`."""
    return L1L2(l1=l1, l2=l2)


# The names `get` and `deserialize` accept.
_BUILT_IN = {'Regularizer': Regularizer, 'L1L2': L1L2, 'l1': l1, 'l2': l2, 'l1_l2': l1_l2}


def serialize(regularizer):
    """`{'class_name': ..., 'config': ...}` for a regularizer object."""
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """The regularizer described by `config` (from `serialize`).

    # Arguments
        config: `{'class_name': ..., 'config': ...}`.
        custom_objects: dict of custom regularizers by name.
    """
    return deserialize_keras_object(config, module_objects=_BUILT_IN,
                                    custom_objects=custom_objects,
                                    printable_module_name='regularizer')


def get(identifier):
    """The regularizer a layer argument designates.

    # Arguments
        identifier: None, a name ('l1', 'l2', 'l1_l2' with the default factor
            0.01), a config dict, or a callable.

    # Returns
        A regularizer, or None for None.

    # Raises
        ValueError: for an unknown name or an uninterpretable value.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({'class_name': identifier, 'config': {}})
    if callable(identifier):
        return identifier
    raise ValueError('Could not interpret regularizer identifier: %r (expected None, a name '
                     'such as "l2", a config dict or a callable).' % (identifier,))
