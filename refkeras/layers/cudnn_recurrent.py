"""`CuDNNLSTM` and `CuDNNGRU`: the recurrent layers of NVIDIA's cuDNN, computed anywhere.

Keras 2.2.4 runs these layers through cuDNN only (TensorFlow backend and a
GPU); refkeras computes cuDNN's mathematics with its own primitives, so a
model trained with them on a GPU loads and predicts the same on a CPU (and on
accel). The weights have Keras 2.2.4's shapes and names:

- `kernel (input_dim, gates * units)`, `recurrent_kernel (units, gates *
  units)`, columns in Keras's gate order (LSTM: i, f, c, o; GRU: z, r, h);
- `bias (2 * gates * units,)`: cuDNN keeps two bias vectors, one added to
  the input's projection and one to the state's; the input biases come first.

How cuDNN reads a kernel: Keras hands cuDNN each gate's block `kernel[:,
gate]` (`(input_dim, units)`) flattened row by row, and cuDNN reads that buffer
as a row-major `(units, input_dim)` matrix `W` and computes `W . x`. So the
matrix multiplying the input is not the block itself but
`reshape(block, (units, input_dim)).T` (`cudnn_input_kernels`); each
recurrent block (square) is read the same way, which amounts to its
transpose (`cudnn_recurrent_kernels`). Those are the conversions Keras
applies when loading CuDNN weights into `LSTM` / `GRU`
(`refkeras/engine/saving/weight_conversion.py`).

cuDNN's equations (`sigmoid` gates, `tanh` activations, `*` the matrix
product with the kernels read as above, `b` input and `rb` recurrent biases):

LSTM:
    i = sigmoid(x Wi + bi + h Ri + rbi), f, o likewise,
    c = f . c_prev + i . tanh(x Wc + bc + h Rc + rbc),   h = o . tanh(c)
GRU (the reset gate applied after the recurrent product, as
`GRU(reset_after=True)`):
    z = sigmoid(x Wz + bz + h Rz + rbz), r likewise,
    hh = tanh(x Wh + bh + r . (h Rh + rbh)),   h = z . h_prev + (1 - z) . hh

The gates of a timestep are one primitive, `lstm_gates` (LSTM) or
`gru_gates` (GRU, `prims_gru.py`), fed by two batched matrix products; the
loop is `K.rnn`, so gradients, `stateful`, `go_backwards`, `return_state` and
initial states behave as for the other RNN layers.

Differences from Keras 2.2.4 (docs/differences.md): they run on every
backend and machine, and they accept masks (cuDNN could not).
"""
from refkeras import backend as K
from refkeras import constraints, initializers, regularizers
from refkeras.backend import prims_gru, prims_rnn
from refkeras.backend.tape import apply
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.layers.recurrent import RNN, _matmul
from refkeras.utils.generic_utils import to_list

import numpy as np

__all__ = ['CuDNNGRU', 'CuDNNLSTM']


def _gate_blocks(kernel, gates):
    """`(rows, gates * units)` as `(gates, rows, units)`: Keras's block of each gate."""
    rows, columns = K.int_shape(kernel)
    return K.permute_dimensions(K.reshape(kernel, (rows, gates, columns // gates)), (1, 0, 2))


def cudnn_input_kernels(kernel, gates):
    """The matrices cuDNN multiplies the input by, `(gates, input_dim, units)`.

    Each gate's block `(input_dim, units)` is read by cuDNN as a row-major
    `(units, input_dim)` matrix (the same values, re-cut, not transposed);
    `x . that.T` is cuDNN's `W . x` for a row of inputs.
    """
    rows, columns = K.int_shape(kernel)
    units = columns // gates
    recut = K.reshape(_gate_blocks(kernel, gates), (gates, units, rows))
    return K.permute_dimensions(recut, (0, 2, 1))


def cudnn_recurrent_kernels(recurrent_kernel, gates):
    """The matrices cuDNN multiplies the state by, `(gates, units, units)`: each block's
    transpose (a square block re-cut row-major is itself)."""
    return K.permute_dimensions(_gate_blocks(recurrent_kernel, gates), (0, 2, 1))


def _gate_views(gate_names, bias_names):
    """Properties naming the gates' parts of the weights, as Keras 2.2.4's attributes
    (`kernel_i`, `recurrent_kernel_i`, `bias_i_i` (input bias), `bias_i` (recurrent
    bias), ...): slices of the three weights, computed when read."""
    def column(weight, index):
        def read(self):
            units = self.units
            return getattr(self, weight)[:, index * units:(index + 1) * units]
        return property(read)

    def piece(index):
        def read(self):
            return self.bias[index * self.units:(index + 1) * self.units]
        return property(read)

    views = {}
    for index, gate in enumerate(gate_names):
        views['kernel_' + gate] = column('kernel', index)
        views['recurrent_kernel_' + gate] = column('recurrent_kernel', index)
    for index, name in enumerate(bias_names):
        views[name] = piece(index)
    return views


class _CuDNNCell(object):
    """What `RNN` asks of a cell: the state sizes (the step is the layer's own)."""

    def __init__(self, state_size):
        self.state_size = state_size

    def call(self, inputs, states, training=None):
        raise NotImplementedError('A CuDNN layer runs its steps itself.')


class _CuDNNRNN(RNN):
    """What CuDNNLSTM and CuDNNGRU share: arguments, weights on the layer, the loop.

    Subclasses set `gates`, implement `_sequence_step()` and describe their
    bias initialization.
    """

    gates = None

    def __init__(self, units, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        # Layer's constructor, not RNN's: the weights live on this layer, no cell has them.
        Layer.__init__(self, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError('%s %s: `units` must be a positive integer, received %r.'
                             % (type(self).__name__, self.name, units))
        self.units = int(units)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = False
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]
        self.state_spec = None
        self._states = None
        self.constants_spec = None
        self._num_constants = None
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    @property
    def cell(self):
        return _CuDNNCell(self._state_size())

    def _state_size(self):
        raise NotImplementedError

    def build(self, input_shape):
        super(_CuDNNRNN, self).build(input_shape)   # checks the rank, states, stateful
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError('%s %s needs the last axis of its input to be known; received '
                             'input shape %s.' % (type(self).__name__, self.name,
                                                  tuple(input_shape)))
        gates, units = self.gates, self.units
        self.kernel = self.add_weight(shape=(input_dim, gates * units), name='kernel',
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(units, gates * units),
                                                name='recurrent_kernel',
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(shape=(2 * gates * units,), name='bias',
                                    initializer=self._bias_initializer(),
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)
        self.built = True

    def _bias_initializer(self):
        return self.bias_initializer

    def _prepared(self):
        """The kernels as cuDNN applies them and the two biases, `(gates, 1, units)` each."""
        gates, units = self.gates, self.units
        biases = K.reshape(self.bias, (2, gates, 1, units))
        return (cudnn_input_kernels(self.kernel, gates),
                cudnn_recurrent_kernels(self.recurrent_kernel, gates), biases[0], biases[1])

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(inputs, list):
            inputs, initial_state, _ = self._split_list_input(inputs)
        if isinstance(mask, list):
            mask = mask[0]
        if constants:
            raise ValueError('Layer %s: CuDNN layers take no constants.' % self.name)
        shape = K.int_shape(inputs)
        if len(shape) != 3:
            raise ValueError('Layer %s expects input of rank 3 (batch, time, features); '
                             'received a tensor of shape %s.' % (self.name, shape))
        if initial_state is not None:
            initial_state = to_list(initial_state, allow_tuple=True)
            self._check_initial_state_values(initial_state, shape[0])
        elif self.stateful:
            self._check_stateful_batch_size(shape[0])
            initial_state = list(self.states)
        else:
            initial_state = self.get_initial_state(inputs)
        last_output, outputs, states = K.rnn(self._sequence_step(), inputs, initial_state,
                                             go_backwards=self.go_backwards, mask=mask,
                                             input_length=shape[1])
        if self.stateful:
            for variable, value in zip(self.states, states):
                K.update(variable, value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(states)
        return output

    def _sequence_step(self):
        raise NotImplementedError

    def _canonical_to_params(self, weights, biases):
        """The flat parameter buffer Keras 2.2.4 handed to cuDNN: every weight and
        then every bias flattened row by row, concatenated, in the order given."""
        return K.concatenate([K.reshape(x, (-1,)) for x in list(weights) + list(biases)],
                             axis=0)

    @property
    def trainable_weights(self):
        if self.trainable and self.built:
            return [self.kernel, self.recurrent_kernel, self.bias]
        return []

    @property
    def non_trainable_weights(self):
        if not self.trainable and self.built:
            return [self.kernel, self.recurrent_kernel, self.bias]
        return []

    @property
    def losses(self):
        return Layer.losses.fget(self)

    def _weights_config(self):
        return {
            'units': self.units,
            'kernel_initializer': initializers.serialize(self.kernel_initializer),
            'recurrent_initializer': initializers.serialize(self.recurrent_initializer),
            'bias_initializer': initializers.serialize(self.bias_initializer),
        }

    def _penalties_config(self):
        return {
            'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
            'recurrent_regularizer': regularizers.serialize(self.recurrent_regularizer),
            'bias_regularizer': regularizers.serialize(self.bias_regularizer),
            'activity_regularizer': regularizers.serialize(self.activity_regularizer),
            'kernel_constraint': constraints.serialize(self.kernel_constraint),
            'recurrent_constraint': constraints.serialize(self.recurrent_constraint),
            'bias_constraint': constraints.serialize(self.bias_constraint),
        }

    def get_config(self):
        config = dict(Layer.get_config(self))
        config.update({'return_sequences': self.return_sequences,
                       'return_state': self.return_state,
                       'go_backwards': self.go_backwards,
                       'stateful': self.stateful})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class CuDNNLSTM(_CuDNNRNN):
    """cuDNN's LSTM (see the module docstring for its equations and weight layout).

    # Arguments
        units: positive int, the size of the output and of both states.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            'glorot_uniform', 'orthogonal', 'zeros'.
        unit_forget_bias: if True, the forget gate's recurrent bias starts at
            1 (as in Keras 2.2.4; the input bias at `bias_initializer`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint: optional.
        return_sequences, return_state, go_backwards, stateful: as for `RNN`.

    # Raises
        ValueError: naming the layer, for a non-positive `units`, input of
            rank other than 3, or initial states of the wrong number or shape.
    """

    gates = 4

    def __init__(self, units, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, return_sequences=False,
                 return_state=False, stateful=False, **kwargs):
        super(CuDNNLSTM, self).__init__(
            units, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, return_sequences=return_sequences,
            return_state=return_state, stateful=stateful, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _state_size(self):
        return (self.units, self.units)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units = self.units

        def forget_bias_initializer(shape, dtype=None):
            # input biases i, f, c, o and recurrent bias i, then ones for the
            # recurrent bias f, then recurrent biases c, o.
            return np.concatenate([
                np.asarray(self.bias_initializer((5 * units,), dtype=dtype)),
                np.ones((units,), dtype=dtype or K.floatx()),
                np.asarray(self.bias_initializer((2 * units,), dtype=dtype))])
        return forget_bias_initializer

    def _sequence_step(self):
        kernels, recurrent_kernels, input_bias, recurrent_bias = self._prepared()
        bias = input_bias + recurrent_bias

        def step(inputs, states):
            h_tm1, c_tm1 = states[0], states[1]
            z = _matmul(inputs, kernels) + _matmul(h_tm1, recurrent_kernels) + bias
            hc = apply(prims_rnn.lstm_gates, z, c_tm1, activation='tanh',
                       recurrent_activation='sigmoid')
            return hc[0], [hc[0], hc[1]]
        return step

    def get_config(self):
        config = self._weights_config()
        config['unit_forget_bias'] = self.unit_forget_bias
        config.update(self._penalties_config())
        base = super(CuDNNLSTM, self).get_config()
        base.update(config)
        return base


class CuDNNGRU(_CuDNNRNN):
    """cuDNN's GRU (see the module docstring for its equations and weight layout).

    The same function as `GRU(reset_after=True, recurrent_activation='sigmoid')`
    with converted weights.

    # Arguments
        units: positive int, the size of the output and of the state.
        kernel_initializer ... bias_constraint: as for `CuDNNLSTM`.
        return_sequences, return_state, go_backwards, stateful: as for `RNN`.

    # Raises
        ValueError: as `CuDNNLSTM`.
    """

    gates = 3

    def __init__(self, units, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences=False, return_state=False,
                 stateful=False, **kwargs):
        super(CuDNNGRU, self).__init__(
            units, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, return_sequences=return_sequences,
            return_state=return_state, stateful=stateful, **kwargs)

    def _state_size(self):
        return self.units

    def _sequence_step(self):
        kernels, recurrent_kernels, input_bias, recurrent_bias = self._prepared()

        def step(inputs, states):
            h_tm1 = states[0]
            x = _matmul(inputs, kernels) + input_bias                  # (3, batch, units)
            h = _matmul(h_tm1, recurrent_kernels) + recurrent_bias     # (3, batch, units)
            output = apply(prims_gru.gru_gates, x, h, h_tm1, activation='tanh',
                           recurrent_activation='sigmoid')
            return output, [output]
        return step

    def get_config(self):
        config = self._weights_config()
        config.update(self._penalties_config())
        base = super(CuDNNGRU, self).get_config()
        base.update(config)
        return base


# Keras 2.2.4's names for the gates' parts of the weights (read-only slices).
for _cls, _gates, _biases in ((CuDNNLSTM, 'ifco', ['bias_i_i', 'bias_f_i', 'bias_c_i', 'bias_o_i',
                                                    'bias_i', 'bias_f', 'bias_c', 'bias_o']),
                              (CuDNNGRU, 'zrh', ['bias_z_i', 'bias_r_i', 'bias_h_i',
                                                 'bias_z', 'bias_r', 'bias_h'])):
    for _name, _view in _gate_views(_gates, _biases).items():
        setattr(_cls, _name, _view)
