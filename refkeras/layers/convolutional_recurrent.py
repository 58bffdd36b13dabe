"""Convolutional recurrent layers (Keras 2.2.4's `keras/layers/convolutional_recurrent.py`).

`ConvLSTM2D` is an LSTM whose input and recurrent transformations are
convolutions: the input is a sequence of images `(batch, time, rows, cols,
channels)` (or channels first), the states `h` and `c` are images too.

As in Keras 2.2.4 the work is split in three classes:

- `ConvLSTM2DCell`: one timestep, a `Layer` with the weights;
- `ConvRNN2D`: an `RNN` whose states are images (their shapes, the initial
  zero states, `reset_states` of a stateful layer);
- `ConvLSTM2D`: `ConvRNN2D` with a `ConvLSTM2DCell`, taking the cell's
  arguments and exposing them as attributes.

One timestep, gates in i, f, c, o order (`*` is the convolution with the
cell's strides, padding and dilation; `(*)` the recurrent one, stride 1 and
'same' padding, so the states keep their shape):

    i = recurrent_activation(x * Wi + bi + h (*) Ui)
    f = recurrent_activation(x * Wf + bf + h (*) Uf)
    c = f . c_prev + i . activation(x * Wc + bc + h (*) Uc)
    o = recurrent_activation(x * Wo + bo + h (*) Uo)
    h = o . activation(c)

The four gates' convolutions are one convolution with the whole kernel
(`(rows, cols, channels, 4 * filters)`, Keras's layout); with dropout each gate
sees its own mask, so each gate has its own convolution. The gates' arithmetic
is the `lstm_gates` primitive (elementwise, so any state shape works) when
both activations are built-in ones, elementwise primitives otherwise. The
loop over time is `K.rnn`; backpropagation through time is the tape's.

Differences from Keras 2.2.4 (on the side of doing better): dropout masks are
drawn once per sequence (Keras 2.2.4 drew them on the cell's first call and
kept them for ever), and `get_initial_state` works out the states' shape from
the cell's own data format (Keras used `K.image_data_format()`).
"""
import numpy as np

from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.backend.ops_conv import conv_output_length, normalize_padding, normalize_tuple
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.legacy import interfaces
from refkeras.layers.convolutional import checked, known_channels
from refkeras.layers.recurrent import (RNN, _composed_lstm_gates, _dropout_masks,
                                       _fused_lstm_gates, _rename_weights, _state_sizes,
                                       _training_flag)
from refkeras.utils.generic_utils import has_arg, to_list, transpose_shape

__all__ = ['ConvRNN2D', 'ConvLSTM2DCell', 'ConvLSTM2D']


def _merge_config(base, extra):
    config = dict(base)
    config.update(extra)
    return config


# --- the cell ------------------------------------------------------------------------------

class ConvLSTM2DCell(Layer):
    """One timestep of `ConvLSTM2D` (see the module docstring for the equations).

    # Arguments
        filters: positive int, the number of channels of the output and states.
        kernel_size: int or tuple of 2 ints, the input and recurrent kernels' size.
        strides: int or tuple of 2 ints, of the input convolution.
        padding: 'valid' or 'same', of the input convolution.
        data_format: 'channels_last' or 'channels_first' (None:
            `K.image_data_format()`).
        dilation_rate: int or tuple of 2 ints, of the input convolution.
        activation: for the candidate and the output (default 'tanh').
        recurrent_activation: for the gates (default 'hard_sigmoid').
        use_bias: whether the input convolutions add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            'glorot_uniform', 'orthogonal', 'zeros'.
        unit_forget_bias: if True, the forget gate's bias starts at 1.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint: optional.
        dropout: fraction of the input's units dropped, one mask per gate and
            sequence.
        recurrent_dropout: fraction of `h`'s units dropped before the
            recurrent convolutions, one mask per gate and sequence.

    # Raises
        ValueError: naming the layer, for malformed sizes, an unknown padding
            or data format, or (when built) an unknown number of channels.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
                 dilation_rate=(1, 1), activation='tanh', recurrent_activation='hard_sigmoid',
                 use_bias=True, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0., recurrent_dropout=0., **kwargs):
        super(ConvLSTM2DCell, self).__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or \
                filters < 1:
            raise ValueError('%s layer "%s": `filters` must be a positive integer, received %r.'
                             % (type(self).__name__, self.name, filters))
        self.filters = int(filters)
        self.kernel_size = checked(self, normalize_tuple, kernel_size, 2, 'kernel_size')
        self.strides = checked(self, normalize_tuple, strides, 2, 'strides')
        self.padding = checked(self, normalize_padding, padding, ('valid', 'same'))
        self.data_format = checked(self, K.normalize_data_format, data_format)
        self.dilation_rate = checked(self, normalize_tuple, dilation_rate, 2, 'dilation_rate')
        for name in ('kernel_size', 'strides', 'dilation_rate'):
            if min(getattr(self, name)) < 1:
                raise ValueError('%s layer "%s": `%s` must be positive, received %r.'
                                 % (type(self).__name__, self.name, name, getattr(self, name)))
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1., max(0., float(dropout)))
        self.recurrent_dropout = min(1., max(0., float(recurrent_dropout)))
        self.state_size = (self.filters, self.filters)

    def build(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise ValueError('%s layer "%s": one timestep must be 4D (batch, rows, cols, '
                             'channels); received shape %s.'
                             % (type(self).__name__, self.name, input_shape))
        channels = known_channels(self, input_shape)
        self.kernel_shape = self.kernel_size + (channels, 4 * self.filters)
        self.kernel = self.add_weight(shape=self.kernel_shape, name='kernel',
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, 4 * self.filters), name='recurrent_kernel',
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        if self.use_bias:
            initializer = self._forget_bias_initializer if self.unit_forget_bias \
                else self.bias_initializer
            self.bias = self.add_weight(shape=(4 * self.filters,), name='bias',
                                        initializer=initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def _forget_bias_initializer(self, shape, dtype=None):
        """`bias_initializer` for i, c and o, ones for the forget gate f."""
        filters = self.filters
        return np.concatenate([np.asarray(self.bias_initializer((filters,), dtype=dtype)),
                               np.ones((filters,), dtype=dtype or K.floatx()),
                               np.asarray(self.bias_initializer((2 * filters,), dtype=dtype))])

    # --- the convolutions (Keras's names and arguments) ------------------------------------

    def input_conv(self, x, w, b=None, padding='valid'):
        """`x * w (+ b)` with the cell's strides, dilation and data format."""
        out = K.conv2d(x, w, strides=self.strides, padding=padding,
                       data_format=self.data_format, dilation_rate=self.dilation_rate)
        if b is not None:
            out = K.bias_add(out, b, data_format=self.data_format)
        return out

    def recurrent_conv(self, x, w):
        """`x (*) w`: stride 1, 'same' padding, so the state keeps its shape."""
        return K.conv2d(x, w, strides=(1, 1), padding='same', data_format=self.data_format)

    # --- one timestep ------------------------------------------------------------------------

    def call(self, inputs, states, training=None):
        """One timestep: `(h, [h, c])` for `inputs` `(batch, rows, cols, channels)`."""
        step = self._sequence_step(K.int_shape(inputs), _training_flag(training))
        return step(inputs, list(states))

    def _gate_major(self, z):
        """Pre-activations `(batch, ..., 4 * filters)` (or channels first) as `(4, batch, ...)`."""
        shape = K.int_shape(z)
        if self.data_format == 'channels_first':
            split = K.reshape(z, (-1, 4, self.filters) + tuple(shape[2:]))
            return K.permute_dimensions(split, (1, 0, 2, 3, 4))
        split = K.reshape(z, (-1,) + tuple(shape[1:3]) + (4, self.filters))
        return K.permute_dimensions(split, (3, 0, 1, 2, 4))

    def _gate_slices(self, weight):
        """The four gates' parts of a `(..., 4 * filters)` weight."""
        f = self.filters
        return [weight[..., g * f:(g + 1) * f] for g in range(4)]

    def _sequence_step(self, input_shape, training):
        """`step(inputs, states) -> (h, [h, c])`, with this sequence's dropout masks drawn."""
        input_masks = _dropout_masks(self.dropout, 4, tuple(input_shape), training)
        state_shape = self.state_shape(input_shape)
        recurrent_masks = _dropout_masks(self.recurrent_dropout, 4, state_shape, training)
        gates = _fused_lstm_gates(self.activation, self.recurrent_activation)
        if gates is None:
            gates = _composed_lstm_gates(self.activation, self.recurrent_activation)
        channel = 1 if self.data_format == 'channels_first' else -1
        kernel, recurrent_kernel, bias = self.kernel, self.recurrent_kernel, self.bias
        if input_masks is not None:
            kernels = self._gate_slices(kernel)
        if recurrent_masks is not None:
            recurrent_kernels = self._gate_slices(recurrent_kernel)

        def step(inputs, states):
            h_tm1, c_tm1 = states[0], states[1]
            if input_masks is None:
                x = self.input_conv(inputs, kernel, padding=self.padding)
            else:
                x = K.concatenate([self.input_conv(inputs * input_masks[g], kernels[g],
                                                   padding=self.padding)
                                   for g in range(4)], axis=channel)
            if bias is not None:
                x = K.bias_add(x, bias, data_format=self.data_format)
            if recurrent_masks is None:
                h = self.recurrent_conv(h_tm1, recurrent_kernel)
            else:
                h = K.concatenate([self.recurrent_conv(h_tm1 * recurrent_masks[g],
                                                       recurrent_kernels[g])
                                   for g in range(4)], axis=channel)
            h, c = gates(self._gate_major(x + h), c_tm1)
            return h, [h, c]
        return step

    def state_shape(self, input_shape):
        """The shape of `h` and `c` for one timestep's input shape `(batch, ...)`."""
        if self.data_format == 'channels_first':
            rows, cols = input_shape[2], input_shape[3]
        else:
            rows, cols = input_shape[1], input_shape[2]
        rows = conv_output_length(rows, self.kernel_size[0], self.padding, self.strides[0],
                                  self.dilation_rate[0])
        cols = conv_output_length(cols, self.kernel_size[1], self.padding, self.strides[1],
                                  self.dilation_rate[1])
        return transpose_shape((input_shape[0], rows, cols, self.filters), self.data_format,
                               spatial_axes=(1, 2))

    def get_config(self):
        config = {'filters': self.filters,
                  'kernel_size': self.kernel_size,
                  'strides': self.strides,
                  'padding': self.padding,
                  'data_format': self.data_format,
                  'dilation_rate': self.dilation_rate,
                  'activation': activations.serialize(self.activation),
                  'recurrent_activation': activations.serialize(self.recurrent_activation),
                  'use_bias': self.use_bias,
                  'kernel_initializer': initializers.serialize(self.kernel_initializer),
                  'recurrent_initializer': initializers.serialize(self.recurrent_initializer),
                  'bias_initializer': initializers.serialize(self.bias_initializer),
                  'unit_forget_bias': self.unit_forget_bias,
                  'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
                  'recurrent_regularizer': regularizers.serialize(self.recurrent_regularizer),
                  'bias_regularizer': regularizers.serialize(self.bias_regularizer),
                  'kernel_constraint': constraints.serialize(self.kernel_constraint),
                  'recurrent_constraint': constraints.serialize(self.recurrent_constraint),
                  'bias_constraint': constraints.serialize(self.bias_constraint),
                  'dropout': self.dropout,
                  'recurrent_dropout': self.recurrent_dropout}
        return _merge_config(super(ConvLSTM2DCell, self).get_config(), config)


def _gate_view(weight, index):
    """A property: gate `index`'s part of the cell's `weight` (Keras 2.2.4's
    `kernel_i`, `recurrent_kernel_f`, `bias_c`, ...; None for a missing bias)."""
    def read(cell):
        value = getattr(cell, weight)
        if value is None:
            return None
        return value[..., index * cell.filters:(index + 1) * cell.filters]
    return property(read)


for _index, _gate in enumerate('ifco'):
    setattr(ConvLSTM2DCell, 'kernel_' + _gate, _gate_view('kernel', _index))
    setattr(ConvLSTM2DCell, 'recurrent_kernel_' + _gate, _gate_view('recurrent_kernel', _index))
    setattr(ConvLSTM2DCell, 'bias_' + _gate, _gate_view('bias', _index))


# --- the RNN over images -------------------------------------------------------------------

class ConvRNN2D(RNN):
    """An `RNN` whose input timesteps and states are images.

    # Arguments
        cell: a cell with `filters`, `kernel_size`, `strides`, `padding`,
            `dilation_rate`, `data_format` and `state_size` (such as
            `ConvLSTM2DCell`).
        return_sequences, return_state, go_backwards, stateful: as for `RNN`.
        unroll: must be False (as in Keras 2.2.4).

    # Input shape
        `(batch, time, rows, cols, channels)` or `(batch, time, channels, rows,
        cols)`.

    # Output shape
        `(batch, [time,] new_rows, new_cols, filters)` (or channels first), and
        with `return_state` the states, each `(batch, new_rows, new_cols, filters)`.

    # Raises
        TypeError: for `unroll=True` or a list of cells (as Keras 2.2.4).
        ValueError: naming the layer, for input of rank other than 5, a
            stateful layer without fixed batch and image sizes, or initial
            states of the wrong number or shape.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        if unroll:
            raise TypeError('Unrolling is not possible with convolutional RNNs.')
        if isinstance(cell, (list, tuple)):
            raise TypeError('Convolutional cells cannot be stacked (as in Keras 2.2.4); '
                            'use several ConvRNN2D layers.')
        super(ConvRNN2D, self).__init__(cell, return_sequences=return_sequences,
                                        return_state=return_state, go_backwards=go_backwards,
                                        stateful=stateful, unroll=False, **kwargs)
        self.input_spec = [InputSpec(ndim=5)]

    def _check_rank(self, input_shape):
        if len(input_shape) != 5:
            raise ValueError('Layer %s expects input of rank 5 (batch, time, rows, cols, '
                             'channels) (or channels first); received input shape %s.'
                             % (self.name, tuple(input_shape)))

    def _state_shape(self, input_shape):
        """One state's shape for an input shape `(batch, time, ...)`.

        # Raises
            ValueError: naming the layer, if the kernel does not fit the input
                (a state with no rows or no columns).
        """
        step_shape = (input_shape[0],) + tuple(input_shape[2:])
        shape = self.cell.state_shape(step_shape)
        if any(n is not None and n < 1 for n in shape[1:]):
            cell = self.cell
            raise ValueError('Layer %s: the kernel of size %s (strides %s, dilation %s) is larger '
                             'than the input images of input shape %s with padding "%s"; the '
                             'states would have shape %s. Use a smaller kernel_size, '
                             'padding="same", or larger images.'
                             % (self.name, tuple(cell.kernel_size), tuple(cell.strides),
                                tuple(cell.dilation_rate), tuple(input_shape), cell.padding,
                                tuple(shape)))
        return shape

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        state_shape = self._state_shape(input_shape)
        output_shape = state_shape
        if self.return_sequences:
            output_shape = state_shape[:1] + (input_shape[1],) + state_shape[1:]
        if self.return_state:
            return [output_shape] + [state_shape for _ in _state_sizes(self.cell)]
        return output_shape

    def build(self, input_shape):
        constants_shape = None
        if isinstance(input_shape, list):
            if self._num_constants:
                constants_shape = input_shape[-self._num_constants:]
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        batch_size = input_shape[0] if self.stateful else None
        self.input_spec[0] = InputSpec(shape=(batch_size, None) + input_shape[2:5])
        if isinstance(self.cell, Layer) and not self.cell.built:
            step_input_shape = (input_shape[0],) + input_shape[2:]
            if constants_shape is not None:
                self.cell.build([step_input_shape] + list(constants_shape))
            else:
                self.cell.build(step_input_shape)
            self.cell.built = True
            _rename_weights(self.cell.weights, self.name)
        sizes = _state_sizes(self.cell)
        if self.state_spec is not None:
            self._check_state_spec([spec.shape for spec in self.state_spec])
        elif self.cell.data_format == 'channels_first':
            self.state_spec = [InputSpec(shape=(None, size, None, None)) for size in sizes]
        else:
            self.state_spec = [InputSpec(shape=(None, None, None, size)) for size in sizes]
        if self.stateful:
            self.reset_states()
        self.built = True

    def _check_state_spec(self, shapes):
        sizes = _state_sizes(self.cell)
        channel = 1 if self.cell.data_format == 'channels_first' else -1
        if len(shapes) != len(sizes) or any(
                s is None or len(s) != 4 or (s[channel] is not None and s[channel] != size)
                for s, size in zip(shapes, sizes)):
            raise ValueError('Layer %s: an `initial_state` was passed that is not compatible '
                             'with `cell.state_size`: expected %d 4D state(s) with %s channels '
                             '(%s), received shape(s) %s.'
                             % (self.name, len(sizes), sizes, self.cell.data_format,
                                [None if s is None else tuple(s) for s in shapes]))

    def get_initial_state(self, inputs):
        """Zero states, one per state of the cell, shaped like the cell's output.

        Computed from `inputs` (zeros of its first timestep through a zero
        kernel), so it works on symbolic inputs of unknown batch size too. On
        the output of a layer or `Input` the states come from a `Lambda`
        layer, so that they can be passed back as `initial_state=` and the
        model computes them (Keras 2.2.4 used the backend graph directly).
        """
        if isinstance(inputs, SymbolicTensor) and \
                getattr(inputs, '_keras_history', None) is not None:
            from refkeras.layers.core import Lambda
            state = Lambda(self._zero_state)(inputs)
        else:
            state = self._zero_state(inputs)
        return [state for _ in _state_sizes(self.cell)]

    def _zero_state(self, inputs):
        step = K.sum(K.zeros_like(inputs), axis=1)            # (batch, rows, cols, channels)
        shape = tuple(self.cell.kernel_shape[:-1]) + (self.cell.filters,)
        return self.cell.input_conv(step, K.constant(0., dtype=K.dtype(step), shape=shape),
                                    padding=self.cell.padding)

    def reset_states(self, states=None):
        """Sets the states of a stateful layer to zeros, or to the given values.

        # Raises
            AttributeError: if the layer is not stateful.
            ValueError: if the batch or image size is not fixed, or for a wrong
                number or shape of values; no state is changed then.
        """
        if not self.stateful:
            raise AttributeError('Layer %s must be stateful to reset its states (it was '
                                 'created with stateful=False).' % self.name)
        input_shape = self.input_spec[0].shape if self.input_spec[0] is not None else None
        shape = None if input_shape is None else self._state_shape(input_shape)
        if shape is None or None in shape:
            raise ValueError('Layer %s is stateful, so it needs to know its batch size and the '
                             'number of rows and columns of its input (its states are images '
                             'of one row per sample); the input shape is %s. Pass a '
                             '`batch_input_shape` to the first layer of a Sequential model, '
                             'or a `batch_shape` to the Input layer.'
                             % (self.name, None if input_shape is None else tuple(input_shape)))
        count = len(_state_sizes(self.cell))
        if states is None:
            values = [np.zeros(shape, dtype=K.floatx()) for _ in range(count)]
        else:
            values = [K.get_value(v) for v in to_list(states, allow_tuple=True)]
            if len(values) != count:
                raise ValueError('Layer %s expects %d state value(s), but it received %d.'
                                 % (self.name, count, len(values)))
            for index, value in enumerate(values):
                if tuple(value.shape) != tuple(shape):
                    raise ValueError('State %d is incompatible with layer %s: expected '
                                     'shape=%s, found shape=%s. Nothing was changed.'
                                     % (index, self.name, tuple(shape), value.shape))
        if self._states is None:
            self._states = [K.zeros(shape, name='%s/state_%d' % (self.name, i))
                            for i in range(count)]
        K.batch_set_value(list(zip(self._states, values)))

    def _check_initial_state_values(self, initial_state, input_shape):
        expected = self._state_shape(input_shape)
        shapes = [K.int_shape(s) for s in initial_state]
        count = len(_state_sizes(self.cell))
        if len(shapes) != count or any(tuple(s) != tuple(expected) for s in shapes):
            raise ValueError('Layer %s has %d state(s) of shape %s for this input, but was '
                             'passed %d initial state(s) of shape(s) %s.'
                             % (self.name, count, tuple(expected), len(shapes), shapes))

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(inputs, list):
            inputs, listed_states, listed_constants = self._split_list_input(inputs)
            initial_state = listed_states
            constants = listed_constants if listed_constants is not None else constants
        if isinstance(mask, list):
            mask = mask[0]
        shape = K.int_shape(inputs)
        self._check_rank(shape)
        if initial_state is not None:
            initial_state = to_list(initial_state, allow_tuple=True)
            self._check_initial_state_values(initial_state, shape)
        elif self.stateful:
            self._check_stateful_batch_size(shape[0])
            initial_state = list(self.states)
        else:
            initial_state = self.get_initial_state(inputs)
        if constants and not has_arg(self.cell.call, 'constants'):
            raise ValueError('Layer %s: the RNN cell %s does not support constants (its `call` '
                             'takes no `constants` argument).' % (self.name, self.cell))
        constants = list(constants or [])
        step = self._step_function((shape[0],) + tuple(shape[2:]), training, len(constants))
        last_output, outputs, states = K.rnn(step, inputs, initial_state, constants=constants,
                                             go_backwards=self.go_backwards, mask=mask,
                                             input_length=shape[1])
        if self.stateful:
            for variable, value in zip(self.states, states):
                K.update(variable, value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(states)
        return output

    def _step_function(self, step_shape, training, n_constants):
        """`K.rnn`'s step: the cell's per-sequence step where it has one, else `cell.call`."""
        cell = self.cell
        if getattr(type(cell), 'call', None) is ConvLSTM2DCell.call:
            sequence_step = cell._sequence_step(step_shape, _training_flag(training))
            return lambda x, states: sequence_step(x, states)
        kwargs = {}
        if has_arg(cell.call, 'training'):
            kwargs['training'] = training

        def step(x, states):
            if n_constants:
                return cell.call(x, states[:-n_constants], constants=states[-n_constants:],
                                 **kwargs)
            return cell.call(x, states, **kwargs)
        return step


# --- the layer -----------------------------------------------------------------------------

_CELL_ATTRIBUTES = ('filters', 'kernel_size', 'strides', 'padding', 'data_format',
                    'dilation_rate', 'activation', 'recurrent_activation', 'use_bias',
                    'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
                    'unit_forget_bias', 'kernel_regularizer', 'recurrent_regularizer',
                    'bias_regularizer', 'kernel_constraint', 'recurrent_constraint',
                    'bias_constraint', 'dropout', 'recurrent_dropout')


class ConvLSTM2D(ConvRNN2D):
    """Convolutional LSTM (Shi et al. 2015): an LSTM whose transformations are convolutions.

    # Arguments
        filters ... recurrent_dropout: as for `ConvLSTM2DCell` (and readable
            on the layer: `layer.filters`, `layer.kernel_size`, ...).
        activity_regularizer: optional penalty on the layer's output.
        return_sequences, return_state, go_backwards, stateful: as for `RNN`.

    # Input shape
        `(batch, time, rows, cols, channels)` (channels_last) or
        `(batch, time, channels, rows, cols)` (channels_first).

    # Output shape
        `(batch, [time,] new_rows, new_cols, filters)` (or channels first).

    # Example
    ```python
    model = Sequential()
    model.add(ConvLSTM2D(40, (3, 3), padding='same', return_sequences=True,
                         input_shape=(None, 40, 40, 1)))
    ```

    # Raises
        ValueError: naming the layer, as `ConvLSTM2DCell` and `ConvRNN2D`.
    """

    @interfaces.legacy_convlstm2d_support
    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
                 dilation_rate=(1, 1), activation='tanh', recurrent_activation='hard_sigmoid',
                 use_bias=True, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, return_sequences=False,
                 go_backwards=False, stateful=False, dropout=0., recurrent_dropout=0.,
                 **kwargs):
        cell = ConvLSTM2DCell(filters=filters, kernel_size=kernel_size, strides=strides,
                              padding=padding, data_format=data_format,
                              dilation_rate=dilation_rate, activation=activation,
                              recurrent_activation=recurrent_activation, use_bias=use_bias,
                              kernel_initializer=kernel_initializer,
                              recurrent_initializer=recurrent_initializer,
                              bias_initializer=bias_initializer,
                              unit_forget_bias=unit_forget_bias,
                              kernel_regularizer=kernel_regularizer,
                              recurrent_regularizer=recurrent_regularizer,
                              bias_regularizer=bias_regularizer,
                              kernel_constraint=kernel_constraint,
                              recurrent_constraint=recurrent_constraint,
                              bias_constraint=bias_constraint, dropout=dropout,
                              recurrent_dropout=recurrent_dropout)
        super(ConvLSTM2D, self).__init__(cell, return_sequences=return_sequences,
                                         go_backwards=go_backwards, stateful=stateful,
                                         **kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def __getattr__(self, name):
        # Only reached for attributes not found normally: read them from the cell.
        if name in _CELL_ATTRIBUTES and 'cell' in self.__dict__:
            return getattr(self.__dict__['cell'], name)
        raise AttributeError('%r object has no attribute %r' % (type(self).__name__, name))

    def get_config(self):
        base = super(ConvLSTM2D, self).get_config()
        del base['cell']
        cell = self.cell.get_config()
        config = {key: cell[key] for key in _CELL_ATTRIBUTES}
        config['activity_regularizer'] = regularizers.serialize(self.activity_regularizer)
        return _merge_config(base, config)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)
