"""Activation layers with parameters (Keras 2.2.4's `keras/layers/advanced_activations.py`).

LeakyReLU, PReLU (learned slopes), ELU, ThresholdedReLU, Softmax, ReLU.
All keep the input's shape and pass masks through.
"""
from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.utils.generic_utils import to_list
from refkeras.legacy import interfaces


class _Elementwise(Layer):
    """Base of the activation layers: same shape out, masks passed through."""

    def __init__(self, **kwargs):
        super(_Elementwise, self).__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _with_config(self, extra):
        config = dict(super(_Elementwise, self).get_config())
        config.update(extra)
        return config


class LeakyReLU(_Elementwise):
    """`x` for `x >= 0`, `alpha * x` otherwise.

    # Arguments
        alpha: float >= 0, the slope for negative inputs (default 0.3).
    """

    def __init__(self, alpha=0.3, **kwargs):
        super(LeakyReLU, self).__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return K.relu(inputs, alpha=self.alpha)

    def get_config(self):
        return self._with_config({'alpha': self.alpha})


class PReLU(_Elementwise):
    """Parametric ReLU: `x` for `x >= 0`, `alpha * x` otherwise, `alpha` learned.

    # Arguments
        alpha_initializer, alpha_regularizer, alpha_constraint: for the
            weight `alpha`, of the input's shape without the batch axis.
        shared_axes: axes (1-based, the batch axis being 0) along which one
            slope is shared, e.g. `[1, 2]` for one slope per channel of
            `(batch, rows, cols, channels)` feature maps.
    """

    @interfaces.legacy_prelu_support
    def __init__(self, alpha_initializer='zeros', alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super(PReLU, self).__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = None if shared_axes is None else to_list(shared_axes,
                                                                    allow_tuple=True)
        if self.shared_axes is not None and any(
                not isinstance(a, int) or a < 1 for a in self.shared_axes):
            raise ValueError('PReLU layer "%s": `shared_axes` must hold axis indices >= 1 (the '
                             'batch axis cannot be shared), received %r.'
                             % (self.name, shared_axes))

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis >= len(input_shape):
                raise ValueError('PReLU layer "%s": shared axis %d does not exist in the input '
                                 'of shape %s.' % (self.name, axis, input_shape))
            param_shape[axis - 1] = 1
        if None in param_shape:
            raise ValueError('PReLU layer "%s": every axis that is not shared must have a known '
                             'size; received input shape %s.' % (self.name, input_shape))
        self.alpha = self.add_weight(shape=param_shape, name='alpha',
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {i: input_shape[i] for i in range(1, len(input_shape))
                if i not in (self.shared_axes or [])}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs, mask=None):
        return K.relu(inputs) - self.alpha * K.relu(-inputs)

    def get_config(self):
        return self._with_config({
            'alpha_initializer': initializers.serialize(self.alpha_initializer),
            'alpha_regularizer': regularizers.serialize(self.alpha_regularizer),
            'alpha_constraint': constraints.serialize(self.alpha_constraint),
            'shared_axes': self.shared_axes})


class ELU(_Elementwise):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super(ELU, self).__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return K.elu(inputs, self.alpha)

    def get_config(self):
        return self._with_config({'alpha': self.alpha})


class ThresholdedReLU(_Elementwise):
    """`x` for `x > theta`, 0 otherwise (default `theta=1.0`)."""

    def __init__(self, theta=1.0, **kwargs):
        super(ThresholdedReLU, self).__init__(**kwargs)
        self.theta = float(theta)

    def call(self, inputs, mask=None):
        return inputs * K.cast(K.greater(inputs, self.theta), K.dtype(inputs))

    def get_config(self):
        return self._with_config({'theta': self.theta})


class Softmax(_Elementwise):
    """Softmax along `axis` (default the last)."""

    def __init__(self, axis=-1, **kwargs):
        super(Softmax, self).__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return activations.softmax(inputs, axis=self.axis)

    def get_config(self):
        return self._with_config({'axis': self.axis})


class ReLU(_Elementwise):
    """Rectified linear unit with an optional cap, slope and threshold.

    `min(x, max_value)` for `x >= threshold`, `negative_slope * (x - threshold)` otherwise.

    # Arguments
        max_value: float >= 0 or None (no cap).
        negative_slope: float >= 0.
        threshold: float.

    # Raises
        ValueError: naming the layer, for a negative `max_value` or `negative_slope`.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super(ReLU, self).__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError('ReLU layer "%s": max_value cannot be negative, received %r.'
                             % (self.name, max_value))
        if negative_slope < 0.0:
            raise ValueError('ReLU layer "%s": negative_slope cannot be negative, received %r.'
                             % (self.name, negative_slope))
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, inputs):
        return K.relu(inputs, alpha=self.negative_slope, max_value=self.max_value,
                      threshold=self.threshold)

    def get_config(self):
        return self._with_config({'max_value': self.max_value,
                                  'negative_slope': self.negative_slope,
                                  'threshold': self.threshold})
