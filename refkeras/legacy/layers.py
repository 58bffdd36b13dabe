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

- `Recurrent`: the Keras 1 base class of custom recurrent layers, which
  define `build` (weights, `self.states = [None] * n`, `self.units`) and
  `step(inputs, states) -> (output, new_states)`; it runs `step` over the
  time axis with `K.rnn` (masking, `go_backwards`, `stateful`,
  `return_sequences`, `return_state`, `initial_state`). refkeras's own
  recurrent layers are built on `RNN` and cells instead.

Keras 2.2.4's module also holds `ConvRecurrent2D`, the Keras 1 base of its
ConvLSTM2D; it is not provided. Keras 1's `Merge` layer is gone from Keras
2.2.4 as well: the merge layers (`Add`, `Concatenate`, ...) replace it.
"""
import warnings

import numpy as np

from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.utils.generic_utils import to_list


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


class Recurrent(Layer):
    """The Keras 1 base class of recurrent layers (for custom layers written for it).

    A subclass sets, in `build`, its weights, `self.states = [None] * n` (n
    states of size `self.units`) and `self.built = True`, and implements
    `step(inputs, states)`: `inputs` is one timestep `(batch, input_dim)`,
    `states` the current states followed by `get_constants(...)`; it returns
    `(output, new_states)`. `preprocess_input` may transform the whole input
    sequence first.

    # Arguments
        return_sequences: return the output of every timestep `(batch, time,
            units)`, not only the last `(batch, units)`.
        return_state: also return the last states (`[output] + states`).
        go_backwards: process the sequence from its end.
        stateful: keep each batch's last states as the next batch's initial
            states (needs a fixed batch size).
        unroll: accepted; same numbers either way.
        implementation: accepted for Keras 1 configs; unused.
        input_dim, input_length: shortcut for `input_shape=(input_length, input_dim)`.

    # Raises
        ValueError: input of rank other than 3, a stateful layer without a
            fixed batch size, a wrong number or shape of initial states.
        NotImplementedError: when the subclass has no `step`.
    """

    def __init__(self, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, implementation=0, **kwargs):
        if 'input_shape' not in kwargs and 'batch_input_shape' not in kwargs and (
                'input_dim' in kwargs or 'input_length' in kwargs):
            kwargs['input_shape'] = (kwargs.pop('input_length', None),
                                     kwargs.pop('input_dim', None))
        kwargs.pop('input_dim', None)
        kwargs.pop('input_length', None)
        super(Recurrent, self).__init__(**kwargs)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.implementation = implementation
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]
        self.state_spec = None
        self.states = [None]
        self.dropout = 0
        self.recurrent_dropout = 0

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        if self.return_sequences:
            output_shape = (input_shape[0], input_shape[1], self.units)
        else:
            output_shape = (input_shape[0], self.units)
        if self.return_state:
            return [output_shape] + [(input_shape[0], self.units) for _ in self.states]
        return output_shape

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.states)
        return output_mask

    def step(self, inputs, states):
        raise NotImplementedError('%s (a Recurrent subclass) must implement '
                                  '`step(inputs, states) -> (output, new_states)`.'
                                  % type(self).__name__)

    def get_constants(self, inputs, training=None):
        """Tensors appended to the states at every step (none by default)."""
        return []

    def get_initial_state(self, inputs):
        """Zeros `(batch, units)`, one per state, built from `inputs` so that
        the batch size may be unknown until the layer runs."""
        zeros = K.sum(K.zeros_like(inputs), axis=(1, 2))     # (batch,)
        zeros = K.tile(K.expand_dims(zeros), [1, self.units])  # (batch, units)
        return [zeros for _ in self.states]

    def preprocess_input(self, inputs, training=None):
        return inputs

    def __call__(self, inputs, initial_state=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1 and initial_state is None:
            initial_state = list(inputs[1:])
            inputs = inputs[0]
        if initial_state is None:
            return super(Recurrent, self).__call__(inputs, **kwargs)
        initial_state = to_list(initial_state, allow_tuple=True)
        symbolic = [isinstance(state, SymbolicTensor) for state in initial_state]
        if any(symbolic) and not all(symbolic):
            raise ValueError('Layer %s: the initial state cannot mix symbolic tensors (from '
                             '`Input` or a layer) and arrays.' % self.name)
        if all(symbolic) and isinstance(inputs, SymbolicTensor):
            original_spec = self.input_spec
            self.input_spec = list(to_list(original_spec)[:1]) + [None] * len(initial_state)
            try:
                return super(Recurrent, self).__call__([inputs] + initial_state, **kwargs)
            finally:
                self.input_spec = original_spec
        kwargs['initial_state'] = initial_state
        return super(Recurrent, self).__call__(inputs, **kwargs)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, list):
            initial_state = inputs[1:]
            inputs = inputs[0]
        elif initial_state is None:
            initial_state = self.states if self.stateful else self.get_initial_state(inputs)
        if isinstance(mask, list):
            mask = mask[0]
        shape = K.int_shape(inputs)
        if len(shape) != 3:
            raise ValueError('Layer %s expects input of rank 3 (batch, time, features); '
                             'received a tensor of shape %s.' % (self.name, shape))
        if len(initial_state) != len(self.states):
            raise ValueError('Layer %s has %d state(s) but was passed %d initial state(s).'
                             % (self.name, len(self.states), len(initial_state)))
        if self.stateful and any(state is None for state in initial_state):
            raise ValueError('Layer %s is stateful but its states do not exist: give it a fixed '
                             'batch size (`batch_input_shape` or `Input(batch_shape=...)`) and '
                             'call `reset_states()` in `build`.' % self.name)
        constants = self.get_constants(inputs, training=None)
        sequence = self.preprocess_input(inputs, training=None)
        last_output, outputs, states = K.rnn(self.step, sequence, list(initial_state),
                                             go_backwards=self.go_backwards, mask=mask,
                                             constants=constants, unroll=self.unroll,
                                             input_length=shape[1])
        if self.stateful:
            for variable, value in zip(self.states, states):
                K.update(variable, value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(to_list(states, allow_tuple=True))
        return output

    def reset_states(self, states=None):
        """Sets the states of a stateful layer to zeros (creating them the
        first time), or to the given arrays of shape `(batch_size, units)`.

        # Raises
            AttributeError: if the layer is not stateful.
            ValueError: without a fixed batch size, or for a wrong number or
                shape of values (nothing is changed then).
        """
        if not self.stateful:
            raise AttributeError('Layer %s must be stateful to reset its states.' % self.name)
        spec = to_list(self.input_spec)[0]
        batch_size = spec.shape[0] if spec is not None and spec.shape is not None else None
        if not batch_size and getattr(self, 'batch_input_shape', None):
            batch_size = self.batch_input_shape[0]
        if not batch_size:
            raise ValueError('Layer %s is stateful and needs to know its batch size: pass '
                             '`batch_input_shape` to the first layer, or '
                             '`Input(batch_shape=...)`.' % self.name)
        shape = (batch_size, self.units)
        if states is None:
            values = [np.zeros(shape, dtype=K.floatx()) for _ in self.states]
        else:
            values = [np.asarray(value) for value in to_list(states, allow_tuple=True)]
            if len(values) != len(self.states):
                raise ValueError('Layer %s expects %d state value(s), but it received %d.'
                                 % (self.name, len(self.states), len(values)))
            for index, value in enumerate(values):
                if value.shape != shape:
                    raise ValueError('State %d is incompatible with layer %s: expected shape=%s, '
                                     'found shape=%s. Nothing was changed.'
                                     % (index, self.name, shape, value.shape))
        if self.states[0] is None:
            self.states = [K.zeros(shape) for _ in self.states]
        for state, value in zip(self.states, values):
            K.set_value(state, value)

    def get_config(self):
        config = super(Recurrent, self).get_config()
        config.update({'return_sequences': self.return_sequences,
                       'return_state': self.return_state,
                       'go_backwards': self.go_backwards,
                       'stateful': self.stateful,
                       'unroll': self.unroll,
                       'implementation': self.implementation})
        return config
