"""Weight constraints: `Dense(64, kernel_constraint=max_norm(2.))`.

A constraint is a projection the optimizer applies to a weight after each
update: it takes the new value and returns the value to store. Each one is
written with backend functions and returns a new tensor (the input is never
modified in place).

The norm-based constraints divide by `K.epsilon() + norm`, as Keras 2.2.4, so
a zero column stays zero and projected norms fall short of the target by a
relative `epsilon / norm`.
"""
from refkeras import backend as K
from refkeras.utils.generic_utils import deserialize_keras_object, serialize_keras_object


def _norms(w, axis):
    """Euclidean norms of `w` along `axis` (int or list of ints), kept as axes of size 1."""
    return K.sqrt(K.sum(K.square(w), axis=axis, keepdims=True))


class Constraint(object):
    """Base class of constraints: `__call__(w)` returns the projected weight."""

    def __call__(self, w):
        return w

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        return {}


class MaxNorm(Constraint):
    """Caps the norm of the weights along `axis` at `max_value`.

    # Arguments
        max_value: the largest norm allowed.
        axis: the axis (or list of axes) along which norms are taken. For a
            Dense kernel `(input_dim, units)`, `axis=0` caps each unit's
            incoming weight vector; for a Conv2D kernel
            `(rows, cols, input_depth, filters)`, use `axis=[0, 1, 2]`.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = K.clip(norms, 0, self.max_value)
        return K.multiply(w, K.divide(desired, K.add(K.epsilon(), norms)))

    def get_config(self):
        return {'max_value': self.max_value, 'axis': self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return K.multiply(w, K.cast(K.greater_equal(w, 0.), K.dtype(w)))


class UnitNorm(Constraint):
    """Scales the weights along `axis` to norm 1.

    # Arguments
        axis: the axis (or list of axes) along which norms are taken (see
            `MaxNorm`).
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return K.divide(w, K.add(K.epsilon(), _norms(w, self.axis)))

    def get_config(self):
        return {'axis': self.axis}


class MinMaxNorm(Constraint):
    """Moves the norm of the weights along `axis` into `[min_value, max_value]`.

    The weights are rescaled to the norm
    `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`: `rate=1`
    enforces the bounds at once, a smaller rate moves towards them gradually.

    # Arguments
        min_value: smallest norm allowed.
        max_value: largest norm allowed.
        rate: how far to move towards the allowed interval at each call.
        axis: the axis (or list of axes) along which norms are taken (see
            `MaxNorm`).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = K.add(K.multiply(self.rate, K.clip(norms, self.min_value, self.max_value)),
                        K.multiply(1 - self.rate, norms))
        return K.multiply(w, K.divide(desired, K.add(K.epsilon(), norms)))

    def get_config(self):
        return {'min_value': self.min_value, 'max_value': self.max_value, 'rate': self.rate,
                'axis': self.axis}


# Keras's other names for the classes (the last three are Keras 1 spellings).
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
maxnorm = max_norm
nonneg = non_neg
unitnorm = unit_norm

# The names `get` and `deserialize` accept.
_BUILT_IN = {
    'Constraint': Constraint, 'MaxNorm': MaxNorm, 'NonNeg': NonNeg, 'UnitNorm': UnitNorm,
    'MinMaxNorm': MinMaxNorm, 'max_norm': MaxNorm, 'non_neg': NonNeg, 'unit_norm': UnitNorm,
    'min_max_norm': MinMaxNorm, 'maxnorm': MaxNorm, 'nonneg': NonNeg, 'unitnorm': UnitNorm,
}


def serialize(constraint):
    """`{'class_name': ..., 'config': ...}` for a constraint object."""
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """The constraint described by `config` (from `serialize`).

    # Arguments
        config: `{'class_name': ..., 'config': ...}`.
        custom_objects: dict of custom constraints by name.
    """
    return deserialize_keras_object(config, module_objects=_BUILT_IN,
                                    custom_objects=custom_objects,
                                    printable_module_name='constraint')


def get(identifier):
    """The constraint a layer argument designates.

    # Arguments
        identifier: None, a name ('max_norm', 'non_neg', ...), a config dict,
            or a callable.

    # Returns
        A constraint, or None for None.

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
    raise ValueError('Could not interpret constraint identifier: %r (expected None, a name '
                     'such as "max_norm", a config dict or a callable).' % (identifier,))
