"""Layer wrappers: `TimeDistributed` (a layer on every timestep) and `Bidirectional` (an RNN
run forwards and backwards)."""
import copy

import numpy as np

from refkeras import backend as K
from refkeras.backend.graph import running_phase, symbolic_aware
from refkeras.backend.tensors import SymbolicTensor, any_symbolic
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.layers.recurrent import RNN, _rename_weights
from refkeras.utils.generic_utils import has_arg, object_list_uid, to_list


def _stand_in(value):
    """`value` with zeros standing in for its symbolic tensors (unknown sizes as 2)."""
    if isinstance(value, SymbolicTensor):
        return np.zeros(tuple(2 if d is None else d for d in value.shape), dtype=value.dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_stand_in(v) for v in value)
    if isinstance(value, dict):
        return {key: _stand_in(v) for key, v in value.items()}
    return value


def _when_evaluated(function, *args):
    """`function(*args)`, or on symbolic arguments a symbolic tensor computed later.

    A wrapper reshapes between `(batch, time, ...)` and `(batch * time, ...)`,
    which on a symbolic tensor with unknown batch and time sizes cannot be
    written as one static target shape. On symbolic arguments the whole
    computation therefore runs as one graph operation, on the values, when
    the graph is evaluated (`K.function`, a model run); its static shape is
    inferred as for any backend function. A computation that gives None for
    the stand-in values gives None here too (no mask).
    """
    if not any_symbolic(args):
        return function(*args)
    with running_phase(0):
        if function(*_stand_in(args)) is None:
            return None
    return symbolic_aware(function)(*args)


def _merge_time_into_batch(x):
    """`(batch, time, ...)` values as `(batch * time, ...)`."""
    shape = K.int_shape(x)
    return K.reshape(x, (shape[0] * shape[1],) + tuple(shape[2:]))


class Wrapper(Layer):
    """Base class of layers that wrap another layer.

    Weights, losses and `trainable` are the wrapped layer's.

    # Arguments
        layer: the wrapped `Layer`.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError('%s wraps a Layer; received %r.' % (self.__class__.__name__, layer))
        self.layer = layer
        layer_trainable = layer.trainable
        super(Wrapper, self).__init__(**kwargs)
        if 'trainable' not in kwargs:
            # Layer.__init__ set `trainable` (and so the wrapped layer's) to True.
            self.layer.trainable = layer_trainable

    def build(self, input_shape=None):
        self.built = True

    @property
    def activity_regularizer(self):
        return getattr(self.layer, 'activity_regularizer', None)

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        if value is not None:
            self.layer.activity_regularizer = value

    @property
    def trainable(self):
        return self.layer.trainable

    @trainable.setter
    def trainable(self, value):
        self.layer.trainable = value

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights

    @property
    def non_trainable_weights(self):
        return self.layer.non_trainable_weights

    @property
    def updates(self):
        return self.layer.updates + Layer.updates.fget(self)

    def get_updates_for(self, inputs):
        return self.layer.get_updates_for(inputs) + Layer.get_updates_for(self, inputs)

    def _add_call_updates(self, inputs, arguments):
        # The wrapped layer runs inside this layer's call, on the same
        # inputs: its updates (BatchNormalization's moving statistics) are
        # conditional on them.
        self.layer._add_call_updates(inputs, arguments)

    def _loss_sublayers(self):
        return [self.layer]

    def get_weights(self):
        return self.layer.get_weights()

    def set_weights(self, weights):
        self.layer.set_weights(weights)

    def get_config(self):
        config = dict(super(Wrapper, self).get_config())
        config['layer'] = {'class_name': self.layer.__class__.__name__,
                           'config': self.layer.get_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from refkeras.layers import deserialize as deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop('layer'), custom_objects=custom_objects)
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of an input.

    The input is `(batch, time, ...)`; the wrapped layer sees `(batch, ...)`
    slices and shares its weights across time.

    As in Keras 2.2.4, when the batch size is fixed (`batch_input_shape`), the
    layer is called once per timestep; otherwise once on all timesteps merged
    into the batch axis. Both give the same numbers for layers without
    batch-dependent behaviour.

    # Example
    ```python
    model = Sequential()
    model.add(TimeDistributed(Dense(8), input_shape=(10, 16)))
    # model.output_shape == (None, 10, 8)
    ```

    # Raises
        ValueError: for an input of rank below 3.
    """

    def __init__(self, layer, **kwargs):
        super(TimeDistributed, self).__init__(layer, **kwargs)
        self.supports_masking = True
        self._static_batch_size = None
        # As in Keras 2.2.4: for each symbolic input this layer was called on
        # (keyed by `object_list_uid`), the symbolic `(batch * time, ...)`
        # tensor the wrapped layer sees, e.g. for
        # `K.function([model.input], [td._input_map[uid]])`. Only kept when the
        # batch size is not fixed (otherwise the layer runs step by step).
        self._input_map = {}

    def _call_uses_learning_phase(self, arguments):
        return self.layer._call_uses_learning_phase(arguments)

    def __call__(self, inputs, **kwargs):
        outputs = super(TimeDistributed, self).__call__(inputs, **kwargs)
        if isinstance(inputs, SymbolicTensor) and not self._static_batch_size:
            self._input_map[object_list_uid(inputs)] = _when_evaluated(
                _merge_time_into_batch, inputs)
        return outputs

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError('TimeDistributed layer %s needs an input of rank 3 or more '
                             '(batch, time, ...); received input shape %s.'
                             % (self.name, input_shape))
        self.input_spec = InputSpec(shape=input_shape)
        self._static_batch_size = input_shape[0]
        if not self.layer.built:
            self.layer.build((input_shape[0],) + input_shape[2:])
            self.layer.built = True
            _rename_weights(self.layer.weights, self.name)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        child = self.layer.compute_output_shape((input_shape[0],) + input_shape[2:])
        return (child[0], input_shape[1]) + tuple(child[1:])

    def call(self, inputs, training=None, mask=None):
        kwargs = {}
        if has_arg(self.layer.call, 'training'):
            kwargs['training'] = training
        if self._static_batch_size:
            def step(x, _):
                return self.layer.call(x, **kwargs), []
            _, outputs, _ = K.rnn(step, inputs, initial_states=[])
            return outputs
        return _when_evaluated(self._call_merged, inputs, mask, kwargs)

    def _call_merged(self, inputs, mask, kwargs):
        """The wrapped layer called once on all timesteps merged into the batch axis."""
        kwargs = dict(kwargs)
        shape = K.int_shape(inputs)
        if has_arg(self.layer.call, 'mask') and mask is not None:
            kwargs['mask'] = _merge_time_into_batch(mask)
        outputs = self.layer.call(_merge_time_into_batch(inputs), **kwargs)
        return K.reshape(outputs, (shape[0], shape[1]) + tuple(K.int_shape(outputs)[1:]))

    def compute_mask(self, inputs, mask=None):
        """The input mask, or the wrapped layer's mask for each timestep.

        On symbolic inputs with unknown sizes this is computed when the graph
        is evaluated (see `_when_evaluated`); None when neither the input nor
        the wrapped layer gives a mask.
        """
        if self._static_batch_size:
            return mask
        return _when_evaluated(self._compute_mask_merged, inputs, mask)

    def _compute_mask_merged(self, inputs, mask):
        shape = K.int_shape(inputs)
        merged = _merge_time_into_batch(inputs)
        inner_mask = None if mask is None else _merge_time_into_batch(mask)
        output_mask = self.layer.compute_mask(merged, inner_mask)
        if output_mask is None:
            if mask is None:
                return None
            for _ in range(2, K.ndim(mask)):
                mask = K.any(mask, axis=-1)
            return mask
        return K.reshape(output_mask, (shape[0], shape[1]) + tuple(K.int_shape(output_mask)[1:]))


class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and backwards and merges the two outputs.

    # Arguments
        layer: an `RNN` instance (`LSTM`, `GRU`, `SimpleRNN`, `RNN(cell)`).
        merge_mode: how to combine the two outputs: 'concat' (default, along
            the last axis), 'sum', 'mul', 'ave', or None (a list of both).
        weights: optional initial weights: the forward layer's, then the
            backward layer's.

    With `return_sequences=True` the backward outputs are put back in time
    order before merging. With `return_state=True` the forward states then
    the backward states follow the output(s).

    # Example
    ```python
    model = Sequential()
    model.add(Bidirectional(LSTM(10, return_sequences=True), input_shape=(5, 10)))
    model.add(Bidirectional(LSTM(10)))
    ```

    # Raises
        ValueError: if `layer` is not a recurrent layer, for an unknown
            `merge_mode`, or an odd number of initial states.
    """

    def __init__(self, layer, merge_mode='concat', weights=None, **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError('Bidirectional needs a recurrent layer (an RNN instance such as '
                             'LSTM, GRU, SimpleRNN or RNN(cell)); received %s %r.'
                             % (layer.__class__.__name__, getattr(layer, 'name', layer)))
        if merge_mode not in ('sum', 'mul', 'ave', 'concat', None):
            raise ValueError('Invalid merge mode %r for Bidirectional: merge mode should be one '
                             'of {"sum", "mul", "ave", "concat", None}.' % (merge_mode,))
        self.forward_layer = copy.copy(layer)
        self.forward_layer.input_spec = list(layer.input_spec)
        self.forward_layer._inbound_nodes = []
        self.forward_layer._outbound_nodes = []
        config = layer.get_config()
        config['go_backwards'] = not config['go_backwards']
        self.backward_layer = layer.__class__.from_config(config)
        self.forward_layer.name = 'forward_' + self.forward_layer.name
        self.backward_layer.name = 'backward_' + self.backward_layer.name
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self._trainable = True
        if weights:
            kwargs['weights'] = weights
        super(Bidirectional, self).__init__(layer, **kwargs)
        self.stateful = layer.stateful
        self.supports_masking = True
        self.input_spec = layer.input_spec
        self._num_constants = None

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = value
        self.forward_layer.trainable = value
        self.backward_layer.trainable = value

    @property
    def trainable_weights(self):
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    @property
    def non_trainable_weights(self):
        return self.forward_layer.non_trainable_weights + self.backward_layer.non_trainable_weights

    def _loss_sublayers(self):
        return [self.forward_layer, self.backward_layer]

    @property
    def updates(self):
        return self.forward_layer.updates + self.backward_layer.updates + Layer.updates.fget(self)

    def get_updates_for(self, inputs):
        return (self.forward_layer.get_updates_for(inputs) +
                self.backward_layer.get_updates_for(inputs) + Layer.get_updates_for(self, inputs))

    def _add_call_updates(self, inputs, arguments):
        self.forward_layer._add_call_updates(inputs, arguments)
        self.backward_layer._add_call_updates(inputs, arguments)

    def get_weights(self):
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def set_weights(self, weights):
        """Sets the forward layer's weights (first half) and the backward layer's.

        # Raises
            ValueError: for a wrong number or shape of arrays; nothing is changed then.
        """
        weights = list(weights)
        expected = len(self.forward_layer.weights) + len(self.backward_layer.weights)
        if len(weights) != expected:
            raise ValueError('Bidirectional layer %s expects %d weight arrays (forward then '
                             'backward), received %d.' % (self.name, expected, len(weights)))
        half = len(weights) // 2
        params = self.forward_layer.weights + self.backward_layer.weights
        for p, w in zip(params, weights):
            if tuple(p.shape) != K.int_shape(w):
                raise ValueError('Bidirectional layer %s: weight %s has shape %s, the value given '
                                 'has shape %s.' % (self.name, p.name, p.shape, K.int_shape(w)))
        self.forward_layer.set_weights(weights[:half])
        self.backward_layer.set_weights(weights[half:])

    def build(self, input_shape):
        for inner in (self.forward_layer, self.backward_layer):
            if not inner.built:
                inner.build(input_shape)
                inner.built = True
            _rename_weights(inner.weights, '%s/%s' % (self.name, inner.name))
        self.built = True

    def compute_output_shape(self, input_shape):
        output_shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes = []
        if self.return_state:
            state_shapes = list(output_shape[1:])
            output_shape = output_shape[0]
        if self.merge_mode == 'concat':
            output_shape = tuple(output_shape[:-1]) + (output_shape[-1] * 2,)
        elif self.merge_mode is None:
            output_shape = [output_shape, tuple(output_shape)]
        if self.return_state:
            outputs = output_shape if self.merge_mode is None else [output_shape]
            return outputs + state_shapes + list(state_shapes)
        return output_shape

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if not self.merge_mode else mask
        else:
            output_mask = [None, None] if not self.merge_mode else None
        if self.return_state:
            n_states = len(self.forward_layer.states)
            masks = output_mask if isinstance(output_mask, list) else [output_mask]
            return masks + [None] * (2 * n_states)
        return output_mask

    def _split_list_input(self, inputs):
        inputs = list(inputs)
        x, rest = inputs[0], inputs[1:]
        constants = None
        if self._num_constants:
            constants = rest[len(rest) - self._num_constants:]
            rest = rest[:len(rest) - self._num_constants]
        return x, (rest or None), constants

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, list):
            inputs, initial_state, constants = self._split_list_input(inputs)
        initial_state = None if initial_state is None else to_list(initial_state,
                                                                   allow_tuple=True)
        constants = None if constants is None else to_list(constants, allow_tuple=True)
        if initial_state is None and constants is None:
            return super(Bidirectional, self).__call__(inputs, **kwargs)
        if initial_state is not None:
            if len(initial_state) % 2:
                raise ValueError('When passing `initial_state` to Bidirectional layer %s, it '
                                 'should be a list of the states of the forward layer followed '
                                 'by those of the backward layer (an even number); received %d.'
                                 % (self.name, len(initial_state)))
            half = len(initial_state) // 2
            shapes = [K.int_shape(s) for s in initial_state]
            self.forward_layer._check_state_spec(shapes[:half])
            self.backward_layer._check_state_spec(shapes[half:])
        extra = list(initial_state or []) + list(constants or [])
        symbolic = [isinstance(t, SymbolicTensor) for t in extra]
        if any(symbolic) and not all(symbolic):
            raise ValueError('Bidirectional layer %s: the initial state or constants cannot be '
                             'specified with a mix of symbolic tensors and arrays.' % self.name)
        if constants is not None:
            self._set_num_constants(len(constants))
        if all(symbolic) and isinstance(inputs, SymbolicTensor):
            original_spec = self.input_spec
            self.input_spec = list(to_list(original_spec))[:1] + [None] * len(extra)
            try:
                return super(Bidirectional, self).__call__([inputs] + extra, **kwargs)
            finally:
                self.input_spec = original_spec
        kwargs['initial_state'] = initial_state
        kwargs['constants'] = constants
        return super(Bidirectional, self).__call__(inputs, **kwargs)

    def _call_uses_learning_phase(self, arguments):
        return (self.forward_layer._call_uses_learning_phase(arguments) or
                self.backward_layer._call_uses_learning_phase(arguments))

    def _set_num_constants(self, count):
        # The two inner layers build their cells from the constants' shapes too.
        self._num_constants = count
        self.forward_layer._num_constants = count
        self.backward_layer._num_constants = count

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(inputs, list):
            inputs, initial_state, listed_constants = self._split_list_input(inputs)
            constants = listed_constants if listed_constants is not None else constants
        if isinstance(mask, list):
            mask = mask[0]
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer.call(inputs, mask=mask, training=training,
                                    initial_state=forward_state, constants=constants)
        y_rev = self.backward_layer.call(inputs, mask=mask, training=training,
                                         initial_state=backward_state, constants=constants)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = K.reverse(y_rev, 1)
        if self.merge_mode == 'concat':
            output = K.concatenate([y, y_rev])
        elif self.merge_mode == 'sum':
            output = y + y_rev
        elif self.merge_mode == 'ave':
            output = (y + y_rev) / 2
        elif self.merge_mode == 'mul':
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def reset_states(self, states=None):
        """Resets both directions' states (`states`: the forward values then the backward)."""
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        states = to_list(states, allow_tuple=True)
        half = len(states) // 2
        if len(states) % 2:
            raise ValueError('Bidirectional layer %s: give the forward states then the backward '
                             'states (an even number of arrays); received %d.'
                             % (self.name, len(states)))
        forward_before = [K.get_value(s) for s in self.forward_layer.states]
        self.forward_layer.reset_states(states[:half])
        try:
            self.backward_layer.reset_states(states[half:])
        except ValueError:
            self.forward_layer.reset_states(forward_before)
            raise

    def get_config(self):
        config = dict(super(Bidirectional, self).get_config())
        config['merge_mode'] = self.merge_mode
        if self._num_constants is not None:
            config['num_constants'] = self._num_constants
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from refkeras.layers import deserialize as deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop('layer'), custom_objects=custom_objects)
        num_constants = config.pop('num_constants', None)
        bidirectional = cls(layer, **config)
        if num_constants is not None:
            bidirectional._set_num_constants(num_constants)
        return bidirectional
