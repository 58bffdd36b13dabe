"""Keras 1 layers that Keras 2.2.4 still ships, deprecated (`keras.legacy.layers`).

- `MaxoutDense(output_dim, nb_feature=4)`: the element-wise maximum of
  `nb_feature` affine maps of the input (Goodfellow et al., "Maxout
  Networks", https://arxiv.org/abs/1302.4389).
- `Highway()`: `y = T * activation(x W + b) + (1 - T) * x` with the transform
  gate `T = sigmoid(x W_carry + b_carry)` (Srivastava et al., "Highway
  Networks", https://arxiv.org/abs/1505.00387).
- `AtrousConvolution1D/2D(..., atrous_rate=r)`: the Keras 2 `Conv1D`/`Conv2D`
  with `dilation_rate=r` (the Keras 1 argument names are converted by those
  layers' legacy decorators).

They keep their Keras 1 argument names (`init`, `W_regularizer`, `bias`, ...)
and weight names (`W`, `b`, `W_carry`, `b_carry`) in their configs and
weights, so models saved by Keras 2.2.4 with them load. Each warns, as
Keras 2.2.4 does, that it is deprecated.

Keras 2.2.4's module also holds `Recurrent` and `ConvRecurrent2D`, the base
classes of Keras 1's recurrent layers; refkeras's recurrent layers are built
on `RNN` and cells instead, and these two base classes are not provided.
Keras 1's `Merge` layer is gone from Keras 2.2.4 as well: the merge layers
(`Add`, `Concatenate`, ...) replace it.
"""
import warnings

from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.engine.base_layer import InputSpec, Layer


def _deprecated(name, replacement):
    warnings.warn('The `%s` layer is deprecated (a Keras 1 layer that Keras 2.2.4 keeps in '
                  'keras.legacy); %s' % (name, replacement), stacklevel=3)


def _check_input_dim(layer, input_shape):
    if len(input_shape) != 2 or input_shape[-1] is None:
        raise ValueError('%s layer %s expects inputs of shape (batch, features) with the '
                         'number of features known; received input shape %s.'
                         % (type(layer).__name__, layer.name, tuple(input_shape)))
    return input_shape[-1]


class _LegacyDense(Layer):
    """What `MaxoutDense` and `Highway` share: Keras 1 argument names for
    the weight initializer, penalties and constraints, and `input_dim`."""

    def __init__(self, init, W_regularizer, b_regularizer, activity_regularizer,
                 W_constraint, b_constraint, bias, input_dim, **kwargs):
        self.input_dim = input_dim
        if input_dim:
            kwargs['input_shape'] = (input_dim,)
        super(_LegacyDense, self).__init__(**kwargs)
        self.init = initializers.get(init)
        self.W_regularizer = regularizers.get(W_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.W_constraint = constraints.get(W_constraint)
        self.b_constraint = constraints.get(b_constraint)
        self.bias = bias
        self.input_spec = InputSpec(ndim=2)

    def get_config(self):
        config = super(_LegacyDense, self).get_config()
        config.update({
            'init': initializers.serialize(self.init),
            'W_regularizer': regularizers.serialize(self.W_regularizer),
            'b_regularizer': regularizers.serialize(self.b_regularizer),
            'activity_regularizer': regularizers.serialize(self.activity_regularizer),
            'W_constraint': constraints.serialize(self.W_constraint),
            'b_constraint': constraints.serialize(self.b_constraint),
            'bias': self.bias,
            'input_dim': self.input_dim})
        return config


class MaxoutDense(_LegacyDense):
    """A dense maxout layer: `max_k (x W[k] + b[k])` over `nb_feature` maps.

    A linear layer (no activation): the maximum of affine maps is itself a
    learned convex piecewise-linear function.

    # Arguments
        output_dim: positive int, the output size.
        nb_feature: number of affine maps the maximum is taken over.
        init: initializer of `W` (default 'glorot_uniform').
        weights: optional initial weights `[W, b]`.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties.
        W_constraint, b_constraint: optional constraints.
        bias: whether the maps have the biases `b`.
        input_dim: shortcut for `input_shape=(input_dim,)`.

    # Weights
        `W`: `(nb_feature, input_dim, output_dim)`; `b`: `(nb_feature, output_dim)`.

    # Input shape
        `(batch, input_dim)`.

    # Output shape
        `(batch, output_dim)`.
    """

    def __init__(self, output_dim, nb_feature=4, init='glorot_uniform', weights=None,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, input_dim=None, **kwargs):
        _deprecated('MaxoutDense', 'a Dense layer with nb_feature * output_dim units followed '
                    'by a maximum over groups computes the same.')
        for name, value in (('output_dim', output_dim), ('nb_feature', nb_feature)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError('MaxoutDense: `%s` must be a positive integer; received %r.'
                                 % (name, value))
        super(MaxoutDense, self).__init__(init, W_regularizer, b_regularizer,
                                          activity_regularizer, W_constraint, b_constraint,
                                          bias, input_dim, weights=weights, **kwargs)
        self.output_dim = output_dim
        self.nb_feature = nb_feature

    def build(self, input_shape):
        input_dim = _check_input_dim(self, input_shape)
        self.input_spec = InputSpec(ndim=2, axes={-1: input_dim})
        self.W = self.add_weight(name='W', shape=(self.nb_feature, input_dim, self.output_dim),
                                 initializer=self.init, regularizer=self.W_regularizer,
                                 constraint=self.W_constraint)
        if self.bias:
            self.b = self.add_weight(name='b', shape=(self.nb_feature, self.output_dim),
                                     initializer='zeros', regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)
        else:
            self.b = None
        self.built = True

    def call(self, inputs):
        maps = K.dot(inputs, self.W)  # (batch, nb_feature, output_dim)
        if self.bias:
            maps = maps + self.b
        return K.max(maps, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        config = super(MaxoutDense, self).get_config()
        config.update({'output_dim': self.output_dim, 'nb_feature': self.nb_feature})
        return config


class Highway(_LegacyDense):
    """A densely connected highway layer (input and output of the same size).

    `output = T * activation(x W + b) + (1 - T) * x`, `T = sigmoid(x W_carry
    + b_carry)`; `b_carry` starts at one.

    # Arguments
        init: initializer of `W` and `W_carry` (default 'glorot_uniform').
        activation: activation of the transform (None: linear).
        weights: optional initial weights `[W, W_carry, b, b_carry]`.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties
            (on `W`, `b` and the output).
        W_constraint, b_constraint: optional constraints on `W` and `b`.
        bias: whether to use the biases `b` and `b_carry`.
        input_dim: shortcut for `input_shape=(input_dim,)`.

    # Input shape
        `(batch, input_dim)`.

    # Output shape
        `(batch, input_dim)`.
    """

    def __init__(self, init='glorot_uniform', activation=None, weights=None,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, input_dim=None, **kwargs):
        _deprecated('Highway', 'it is a few lines as a custom layer.')
        if 'transform_bias' in kwargs:
            kwargs.pop('transform_bias')
            warnings.warn('Highway: the `transform_bias` argument no longer exists and is '
                          'ignored (the carry bias starts at one).', stacklevel=2)
        super(Highway, self).__init__(init, W_regularizer, b_regularizer, activity_regularizer,
                                      W_constraint, b_constraint, bias, input_dim,
                                      weights=weights, **kwargs)
        self.activation = activations.get(activation)

    def build(self, input_shape):
        input_dim = _check_input_dim(self, input_shape)
        self.input_spec = InputSpec(ndim=2, axes={-1: input_dim})
        square = (input_dim, input_dim)
        self.W = self.add_weight(name='W', shape=square, initializer=self.init,
                                 regularizer=self.W_regularizer, constraint=self.W_constraint)
        self.W_carry = self.add_weight(name='W_carry', shape=square, initializer=self.init)
        if self.bias:
            self.b = self.add_weight(name='b', shape=(input_dim,), initializer='zeros',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)
            self.b_carry = self.add_weight(name='b_carry', shape=(input_dim,),
                                           initializer='ones')
        else:
            self.b = self.b_carry = None
        self.built = True

    def call(self, inputs):
        gate_input = K.dot(inputs, self.W_carry)
        transform_input = K.dot(inputs, self.W)
        if self.bias:
            gate_input = gate_input + self.b_carry
            transform_input = transform_input + self.b
        transform_gate = K.sigmoid(gate_input)
        return (transform_gate * self.activation(transform_input) +
                (1. - transform_gate) * inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super(Highway, self).get_config()
        config['activation'] = activations.serialize(self.activation)
        return config


def _atrous(name, conv_class, args, kwargs):
    if 'atrous_rate' in kwargs and 'dilation_rate' in kwargs:
        raise TypeError('%s received both the Keras 1 argument `atrous_rate` and its Keras 2 '
                        'replacement `dilation_rate`; pass only `dilation_rate`.' % name)
    kwargs = dict(kwargs)
    kwargs['dilation_rate'] = kwargs.pop('atrous_rate', kwargs.pop('dilation_rate', 1))
    warnings.warn('The `%s` layer is deprecated: it is `%s` with `dilation_rate=%r` (returned).'
                  % (name, conv_class.__name__, kwargs['dilation_rate']), stacklevel=3)
    return conv_class(*args, **kwargs)


def AtrousConvolution1D(*args, **kwargs):
    """Keras 1's dilated 1D convolution: returns `Conv1D(..., dilation_rate=atrous_rate)`.

    Takes `Conv1D`'s arguments (Keras 1 or 2 names) plus `atrous_rate` (default 1).
    """
    from refkeras.layers.convolutional import Conv1D
    return _atrous('AtrousConvolution1D', Conv1D, args, kwargs)


def AtrousConvolution2D(*args, **kwargs):
    """Keras 1's dilated 2D convolution: returns `Conv2D(..., dilation_rate=atrous_rate)`.

    Takes `Conv2D`'s arguments (Keras 1 or 2 names, e.g. `(nb_filter, nb_row,
    nb_col)`) plus `atrous_rate` (default 1).
    """
    from refkeras.layers.convolutional import Conv2D
    return _atrous('AtrousConvolution2D', Conv2D, args, kwargs)
