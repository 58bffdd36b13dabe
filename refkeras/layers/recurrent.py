"""Recurrent layers: `RNN` and its cells, `SimpleRNN`, `GRU`, `LSTM`, `StackedRNNCells`.

An RNN layer runs a *cell* (one timestep: `cell.call(input_t, states) ->
(output_t, new_states)`) over the time axis with `K.rnn`. Weight layouts, gate
orders, names and configs are Keras 2.2.4's, so weights from Keras files load
and give the same outputs:

- `SimpleRNN`: `kernel (input_dim, units)`, `recurrent_kernel (units, units)`,
  `bias (units,)`.
- `GRU`: the same with `3 * units` columns in z (update), r (reset), h
  (candidate) order; with `reset_after=True` the bias is `(2, 3 * units)`
  (input bias, then recurrent bias).
- `LSTM`: `4 * units` columns in i (input), f (forget), c (candidate),
  o (output) order; states `[h, c]`.

The built-in cells split their kernels by gate once per sequence and compute
all gates of a timestep with one batched matrix product; an LSTM with built-in
activations computes its gates with one primitive (`prims_rnn.lstm_gates`),
with other activations from elementwise primitives: the same numbers. An
`LSTM` layer without a mask or constants runs its whole timestep loop as one
primitive, `prims_rnn.lstm_sequence` (`_runs_as_one_lstm_sequence` says when):
the same operations again, so the same bits, and on an accelerator one kernel
for the loop instead of a dozen launches per timestep.

Where the FAQ's "How can I use stateful RNNs?" lives: `RNN(stateful=True)`
keeps its last states in variables (`RNN.states`) and starts the next batch
from them, sample i from sample i; `RNN.reset_states` zeroes (or sets) them;
`check_stateful_batch` is what `Model` calls to refuse batches of the wrong
size before any state changes; `warn_if_shuffling_stateful` warns about
`fit(shuffle=True)`.

Differences from Keras 2.2.4, all on the side of doing better:

- `implementation=1` and `implementation=2` compute the same function. With
  dropout, both use one mask per gate (Keras 2.2.4's implementation 2 reused
  the first gate's mask for all gates and, for GRU, also applied the recurrent
  mask to the carried state).
- Dropout masks are drawn once per sequence (per batch), also for cells used
  directly in `RNN(cell)` (Keras kept the first mask forever there).
- `unroll=True` gives the same numbers as `unroll=False` (the loop is always a
  Python loop); masked first steps output the initial state in both cases.
- `reset_states(states=...)` sets the given values also on a first call.
"""
import warnings

import numpy as np

from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.backend import prims_rnn
from refkeras.backend.registry import REGISTRY
from refkeras.backend.tape import apply, implementation_table
from refkeras.backend.tensors import SymbolicTensor, any_symbolic
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.utils.generic_utils import has_arg, to_list
from refkeras.legacy import interfaces


def _merge_config(base, extra):
    config = dict(base)
    config.update(extra)
    return config


def _matmul(a, b):
    """Matrix product with NumPy's broadcasting over leading axes (a primitive)."""
    return apply(REGISTRY['matmul'], a, b)


def _state_sizes(cell):
    """The cell's state sizes as a list of ints."""
    if hasattr(cell.state_size, '__len__'):
        return [int(s) for s in cell.state_size]
    return [int(cell.state_size)]


def _output_size(cell):
    """The size of the cell's output: `output_size`, else the first state size."""
    size = getattr(cell, 'output_size', None)
    return int(size) if size is not None else _state_sizes(cell)[0]


def _training_flag(training):
    """`training` as 0/1; None means the learning phase in force (test outside a model)."""
    if training is None:
        return K.learning_phase_value()
    return int(bool(training))


def _dropout_masks(rate, count, shape, training):
    """`count` dropout masks of `shape`, stacked on a new first axis (`(shape)` if count is 1).

    Each mask keeps an element with probability `1 - rate` and scales it by
    `1 / (1 - rate)`, as `K.dropout` of ones. None in test mode or for a rate
    of 0: multiplying by ones would change nothing.
    """
    if not 0. < rate < 1. or not training:
        return None
    ones = K.constant(1., shape=shape)
    masks = [K.dropout(ones, rate) for _ in range(count)]
    return masks[0] if count == 1 else K.stack(masks)


def _gate_major(kernel, gates):
    """A `(rows, gates * units)` kernel as `(gates, rows, units)`: one matrix per gate."""
    rows, columns = K.int_shape(kernel)
    split = K.reshape(kernel, (rows, gates, columns // gates))
    return K.permute_dimensions(split, (1, 0, 2))


def _rename_weights(weights, prefix):
    """Names weights `<prefix>/<weight name>:0` (Keras's names under a layer's name scope).

    Two weights of the same name (the cells of a stack) get `_1`, `_2`, ...
    suffixes, as TensorFlow makes variable names unique.
    """
    seen = {}
    for weight in weights:
        short = weight.name.split('/')[-1]
        base = short[:-2] if short.endswith(':0') else short
        count = seen.get(base, 0)
        seen[base] = count + 1
        weight.name = '%s/%s%s:0' % (prefix, base, '_%d' % count if count else '')


class _BuiltinCell(Layer):
    """What SimpleRNNCell, GRUCell and LSTMCell share: weights options, dropout, `call`.

    Each subclass implements `_sequence_step(batch_size, training)`, which does
    the work that is the same at every timestep of one sequence (kernels split
    by gate, dropout masks drawn) and returns `step(inputs, states) ->
    (output, new_states)`. `RNN` calls it once per sequence; `call` (one
    timestep, the Keras cell API) calls it for that single step.
    """

    def __init__(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                 bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                 kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                 recurrent_dropout, **kwargs):
        super(_BuiltinCell, self).__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError('%s %s: `units` must be a positive integer, received %r.'
                             % (self.__class__.__name__, self.name, units))
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1., max(0., float(dropout)))
        self.recurrent_dropout = min(1., max(0., float(recurrent_dropout)))

    def _add_kernels(self, input_shape, gates, bias_shape, bias_initializer):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError('%s %s needs the last axis of its input to be known; received '
                             'input shape %s.' % (self.__class__.__name__, self.name,
                                                  tuple(input_shape)))
        self.kernel = self.add_weight(shape=(input_dim, self.units * gates), name='kernel',
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units * gates),
                                                name='recurrent_kernel',
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=bias_shape, name='bias',
                                        initializer=bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs, states, training=None):
        """One timestep: `(output, new_states)` for `inputs` `(batch, input_dim)`."""
        step = self._sequence_step(K.int_shape(inputs)[0], _training_flag(training))
        return step(inputs, list(states))

    def _sequence_step(self, batch_size, training):
        raise NotImplementedError

    def _masks(self, batch_size, training, count):
        input_dim = K.int_shape(self.kernel)[0]
        return (_dropout_masks(self.dropout, count, (batch_size, input_dim), training),
                _dropout_masks(self.recurrent_dropout, count, (batch_size, self.units), training))

    def _base_cell_config(self):
        return {'units': self.units,
                'activation': activations.serialize(self.activation)}

    def _weights_config(self):
        return {'kernel_initializer': initializers.serialize(self.kernel_initializer),
                'recurrent_initializer': initializers.serialize(self.recurrent_initializer),
                'bias_initializer': initializers.serialize(self.bias_initializer)}

    def _penalties_config(self):
        return {'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
                'recurrent_regularizer': regularizers.serialize(self.recurrent_regularizer),
                'bias_regularizer': regularizers.serialize(self.bias_regularizer),
                'kernel_constraint': constraints.serialize(self.kernel_constraint),
                'recurrent_constraint': constraints.serialize(self.recurrent_constraint),
                'bias_constraint': constraints.serialize(self.bias_constraint),
                'dropout': self.dropout,
                'recurrent_dropout': self.recurrent_dropout}


# --- the cells -------------------------------------------------------------------------

class SimpleRNNCell(_BuiltinCell):
    """Cell of `SimpleRNN`: `h_t = activation(x_t . kernel + bias + h_{t-1} . recurrent_kernel)`.

    # Arguments
        units: positive int, the size of the output and of the state.
        activation: activation (default `tanh`; None means linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (default 'glorot_uniform', 'orthogonal', 'zeros').
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections.
        dropout: fraction of the input units dropped (one mask per sequence).
        recurrent_dropout: fraction of the state units dropped before the
            recurrent product (one mask per sequence).
    """

    def __init__(self, units, activation='tanh', use_bias=True,
                 kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',
                 bias_initializer='zeros', kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0., recurrent_dropout=0., **kwargs):
        super(SimpleRNNCell, self).__init__(
            units, activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint, dropout,
            recurrent_dropout, **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape, 1, (self.units,), self.bias_initializer)

    def _sequence_step(self, batch_size, training):
        input_mask, recurrent_mask = self._masks(batch_size, training, 1)
        kernel, recurrent_kernel, bias = self.kernel, self.recurrent_kernel, self.bias
        activation = self.activation

        def step(inputs, states):
            h_tm1 = states[0]
            if input_mask is not None:
                inputs = inputs * input_mask
            if recurrent_mask is not None:
                h_tm1 = h_tm1 * recurrent_mask
            z = K.dot(inputs, kernel)
            if bias is not None:
                z = z + bias
            output = activation(z + K.dot(h_tm1, recurrent_kernel))
            return output, [output]
        return step

    def get_config(self):
        config = self._base_cell_config()
        config['use_bias'] = self.use_bias
        config.update(self._weights_config())
        config.update(self._penalties_config())
        return _merge_config(super(SimpleRNNCell, self).get_config(), config)


class GRUCell(_BuiltinCell):
    """Cell of `GRU` (Cho et al. 2014); gates in z (update), r (reset), h order.

    With `reset_after=False` (the default):
        z = recurrent_activation(x Wz + bz + h_{t-1} Uz)
        r = recurrent_activation(x Wr + br + h_{t-1} Ur)
        hh = activation(x Wh + bh + (r * h_{t-1}) Uh)
    With `reset_after=True` (CuDNN-compatible, separate recurrent biases):
        z = recurrent_activation(x Wz + bz + h_{t-1} Uz + rbz), r likewise,
        hh = activation(x Wh + bh + r * (h_{t-1} Uh + rbh))
    and then `h_t = z * h_{t-1} + (1 - z) * hh`.

    # Arguments
        units, activation, use_bias, initializers, regularizers, constraints,
        dropout, recurrent_dropout: as for `SimpleRNNCell` (dropout draws one
            mask per gate).
        recurrent_activation: activation of the gates (default 'hard_sigmoid').
        implementation: 1 or 2; accepted for compatibility, same numbers.
        reset_after: whether the reset gate multiplies after the recurrent
            product (True) or before it (False, the default).
    """

    def __init__(self, units, activation='tanh', recurrent_activation='hard_sigmoid',
                 use_bias=True, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0., recurrent_dropout=0., implementation=1, reset_after=False,
                 **kwargs):
        super(GRUCell, self).__init__(
            units, activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint, dropout,
            recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = _check_implementation(implementation, self)
        self.reset_after = bool(reset_after)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_kernels(input_shape, 3, bias_shape, self.bias_initializer)

    def _sequence_step(self, batch_size, training):
        units = self.units
        input_masks, recurrent_masks = self._masks(batch_size, training, 3)
        kernel = _gate_major(self.kernel, 3)                     # (3, input_dim, units)
        recurrent_kernel = _gate_major(self.recurrent_kernel, 3)   # (3, units, units)
        input_bias = recurrent_bias = None
        if self.use_bias:
            biases = K.reshape(self.bias, (-1, 3, 1, units))
            input_bias = biases[0]                                   # (3, 1, units)
            recurrent_bias = biases[1] if self.reset_after else None
        activation, recurrent_activation = self.activation, self.recurrent_activation
        reset_after = self.reset_after
        if not reset_after:
            recurrent_zr, recurrent_h = recurrent_kernel[:2], recurrent_kernel[2]

        def step(inputs, states):
            h_tm1 = states[0]
            x = inputs if input_masks is None else inputs * input_masks
            x = _matmul(x, kernel)                                     # (3, batch, units)
            if input_bias is not None:
                x = x + input_bias
            h = h_tm1 if recurrent_masks is None else h_tm1 * recurrent_masks
            if reset_after:
                recurrent = _matmul(h, recurrent_kernel)
                if recurrent_bias is not None:
                    recurrent = recurrent + recurrent_bias
                zr = recurrent_activation(x[:2] + recurrent[:2])
                candidate = activation(x[2] + zr[1] * recurrent[2])
            else:
                h_zr, h_h = (h, h) if recurrent_masks is None else (h[:2], h[2])
                zr = recurrent_activation(x[:2] + _matmul(h_zr, recurrent_zr))
                candidate = activation(x[2] + K.dot(zr[1] * h_h, recurrent_h))
            z = zr[0]
            output = z * h_tm1 + (1. - z) * candidate
            return output, [output]
        return step

    def get_config(self):
        config = self._base_cell_config()
        config['recurrent_activation'] = activations.serialize(self.recurrent_activation)
        config['use_bias'] = self.use_bias
        config.update(self._weights_config())
        config.update(self._penalties_config())
        config['implementation'] = self.implementation
        config['reset_after'] = self.reset_after
        return _merge_config(super(GRUCell, self).get_config(), config)


class LSTMCell(_BuiltinCell):
    """Cell of `LSTM` (Hochreiter 1997); gates in i, f, c, o order, states `[h, c]`.

        i = recurrent_activation(x Wi + bi + h_{t-1} Ui)
        f = recurrent_activation(x Wf + bf + h_{t-1} Uf)
        c = f * c_{t-1} + i * activation(x Wc + bc + h_{t-1} Uc)
        o = recurrent_activation(x Wo + bo + h_{t-1} Uo)
        h = o * activation(c)

    # Arguments
        units, activation, use_bias, initializers, regularizers, constraints,
        dropout, recurrent_dropout: as for `SimpleRNNCell` (dropout draws one
            mask per gate).
        recurrent_activation: activation of the gates (default 'hard_sigmoid').
        unit_forget_bias: if True, the forget gate's bias starts at 1 (and
            the rest of the bias from `bias_initializer`).
        implementation: 1 or 2; accepted for compatibility, same numbers.
    """

    def __init__(self, units, activation='tanh', recurrent_activation='hard_sigmoid',
                 use_bias=True, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0., recurrent_dropout=0., implementation=1,
                 **kwargs):
        super(LSTMCell, self).__init__(
            units, activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint, dropout,
            recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.implementation = _check_implementation(implementation, self)
        self.state_size = (self.units, self.units)
        self.output_size = self.units

    def build(self, input_shape):
        if self.use_bias and self.unit_forget_bias:
            bias_initializer = self._forget_bias_initializer
        else:
            bias_initializer = self.bias_initializer
        self._add_kernels(input_shape, 4, (4 * self.units,), bias_initializer)

    def _forget_bias_initializer(self, shape, dtype=None):
        """`bias_initializer` for i, c and o, ones for the forget gate f."""
        units = self.units
        return np.concatenate([np.asarray(self.bias_initializer((units,), dtype=dtype)),
                               np.ones((units,), dtype=dtype or K.floatx()),
                               np.asarray(self.bias_initializer((2 * units,), dtype=dtype))])

    def _sequence_step(self, batch_size, training):
        input_masks, recurrent_masks = self._masks(batch_size, training, 4)
        kernel = _gate_major(self.kernel, 4)                       # (4, input_dim, units)
        recurrent_kernel = _gate_major(self.recurrent_kernel, 4)   # (4, units, units)
        bias = K.reshape(self.bias, (4, 1, self.units)) if self.use_bias else None
        gates = _fused_lstm_gates(self.activation, self.recurrent_activation)
        if gates is None:
            gates = _composed_lstm_gates(self.activation, self.recurrent_activation)

        def step(inputs, states):
            h_tm1, c_tm1 = states[0], states[1]
            if input_masks is not None:
                inputs = inputs * input_masks                          # (4, batch, input_dim)
            if recurrent_masks is not None:
                h_tm1 = h_tm1 * recurrent_masks                        # (4, batch, units)
            z = _matmul(inputs, kernel) + _matmul(h_tm1, recurrent_kernel)
            if bias is not None:
                z = z + bias
            h, c = gates(z, c_tm1)
            return h, [h, c]
        return step

    def get_config(self):
        config = self._base_cell_config()
        config['recurrent_activation'] = activations.serialize(self.recurrent_activation)
        config['use_bias'] = self.use_bias
        config.update(self._weights_config())
        config['unit_forget_bias'] = self.unit_forget_bias
        config.update(self._penalties_config())
        config['implementation'] = self.implementation
        return _merge_config(super(LSTMCell, self).get_config(), config)


def _composed_lstm_gates(activation, recurrent_activation):
    """`(z, c_prev) -> (h, c)` from the gates' pre-activations `z` (i, f, c, o on axis
    0), as `prims_rnn.lstm_gates` computes them."""
    def gates(z, c_prev):
        activated = recurrent_activation(z)        # i, f, (unused), o
        c = activated[1] * c_prev + activated[0] * activation(z[2])
        return activated[3] * activation(c), c
    return gates


def _fusable_name(activation):
    """The name under which `lstm_gates` knows a built-in activation, or None."""
    for name in prims_rnn.FUSABLE_ACTIVATIONS:
        if getattr(activations, name, None) is activation:
            return name
    return None


def _fused_lstm_gates(activation, recurrent_activation):
    """The same as `_composed_lstm_gates` in one `lstm_gates` primitive, when both
    activations are built-in ones it knows; None otherwise."""
    names = (_fusable_name(activation), _fusable_name(recurrent_activation))
    if None in names:
        return None

    def gates(z, c_prev):
        hc = apply(prims_rnn.lstm_gates, z, c_prev, activation=names[0],
                   recurrent_activation=names[1])
        return hc[0], hc[1]
    return gates


def _runs_as_one_lstm_sequence(layer, inputs, initial_state, mask, constants):
    """Whether `_lstm_sequence` computes what `K.rnn` over the cell's steps would.

    It does for a plain `LSTMCell` with a bias and built-in activations, on
    concrete (not symbolic) inputs with at least one timestep, no mask and no
    constants, where the running backend has `lstm_sequence`; anything else
    (masking, a subclassed cell, custom activations...) takes the per-timestep path.
    """
    cell = layer.cell
    if type(cell) is not LSTMCell or not cell.use_bias or mask is not None or constants:
        return False
    if None in (_fusable_name(cell.activation), _fusable_name(cell.recurrent_activation)):
        return False
    if any_symbolic([inputs] + list(initial_state)) or not K.int_shape(inputs)[1]:
        return False
    table = implementation_table()
    return table is None or 'lstm_sequence' in table


def _lstm_sequence(layer, inputs, initial_state, training):
    """`(last_output, outputs, [h, c])` of an LSTM layer from one `lstm_sequence` record.

    The dropout masks are drawn, and the kernels split by gate, exactly as
    `LSTMCell._sequence_step` does them (so a seeded run draws the same masks);
    a backwards layer reverses the inputs, and its outputs stay in that order.
    """
    cell = layer.cell
    input_masks, recurrent_masks = cell._masks(K.int_shape(inputs)[0], training, 4)
    kernel = _gate_major(cell.kernel, 4)                       # (4, input_dim, units)
    recurrent_kernel = _gate_major(cell.recurrent_kernel, 4)   # (4, units, units)
    bias = K.reshape(cell.bias, (4, 1, cell.units))
    x = K.permute_dimensions(inputs, (1, 0, 2))                # (time, batch, input_dim)
    if layer.go_backwards:
        x = K.reverse(x, 0)
    out = apply(prims_rnn.lstm_sequence, x, initial_state[0], initial_state[1], kernel,
                recurrent_kernel, bias, input_masks, recurrent_masks,
                activation=_fusable_name(cell.activation),
                recurrent_activation=_fusable_name(cell.recurrent_activation))
    h, c = K.slice_item(out, (-1, 0)), K.slice_item(out, (-1, 1))
    outputs = K.permute_dimensions(K.slice_item(out, (slice(None), 0)), (1, 0, 2))
    return h, outputs, [h, c]


def _check_implementation(implementation, layer):
    if implementation not in (0, 1, 2):
        raise ValueError('%s %s: `implementation` must be 1 or 2, received %r.'
                         % (layer.__class__.__name__, layer.name, implementation))
    if implementation == 0:
        warnings.warn('`implementation=0` has been deprecated, and now defaults to '
                      '`implementation=1`. Please update your layer call.')
    return implementation


def _cell_step(cell, batch_size, training):
    """`step(inputs, states, constants) -> (output, new_states)` for one sequence.

    Built-in cells (not subclassed with their own `call`) prepare their
    per-sequence work once; other cells have their `call` run at each step.
    """
    if getattr(type(cell), 'call', None) is _BuiltinCell.call:
        sequence_step = cell._sequence_step(batch_size, training)
        return lambda inputs, states, constants: sequence_step(inputs, states)
    if getattr(type(cell), 'call', None) is StackedRNNCells.call:
        return cell._stacked_step(batch_size, training)
    kwargs = {}
    if has_arg(cell.call, 'training'):
        kwargs['training'] = training
    takes_constants = has_arg(cell.call, 'constants')

    def step(inputs, states, constants):
        if constants and takes_constants:
            return cell.call(inputs, states, constants=constants, **kwargs)
        return cell.call(inputs, states, **kwargs)
    return step


class StackedRNNCells(Layer):
    """Several cells run one after the other at each timestep, as one cell.

    The states are the cells' states in order (`[h1, c1, h2, c2]` for two LSTM
    cells); the output is the last cell's output.

    # Arguments
        cells: list of cells.

    # Example
    ```python
    cells = [LSTMCell(32), LSTMCell(32)]
    x = Input((timesteps, input_dim))
    y = RNN(cells)(x)
    ```

    # Raises
        ValueError: if a cell has no `call` method or no `state_size`.
    """

    def __init__(self, cells, **kwargs):
        for cell in cells:
            if not hasattr(cell, 'call'):
                raise ValueError('All cells must have a `call` method; received %r.' % (cell,))
            if not hasattr(cell, 'state_size'):
                raise ValueError('All cells must have a `state_size` attribute; received %r.'
                                 % (cell,))
        self.cells = list(cells)
        self.reverse_state_order = kwargs.pop('reverse_state_order', False)
        if self.reverse_state_order:
            warnings.warn('`reverse_state_order=True` in `StackedRNNCells` will soon be '
                          'deprecated. Please update the code to work with the natural order '
                          'of states if you rely on the RNN states, eg `RNN(return_state=True)`.')
        super(StackedRNNCells, self).__init__(**kwargs)

    def _ordered_cells(self):
        return self.cells[::-1] if self.reverse_state_order else self.cells

    @property
    def state_size(self):
        sizes = []
        for cell in self._ordered_cells():
            sizes.extend(_state_sizes(cell))
        return tuple(sizes)

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def _split_states(self, states):
        """The flat state list as one list per cell, in `self.cells` order."""
        nested = []
        for cell in self._ordered_cells():
            count = len(_state_sizes(cell))
            nested.append(list(states[:count]))
            states = states[count:]
        return nested[::-1] if self.reverse_state_order else nested

    def _join_states(self, nested):
        if self.reverse_state_order:
            nested = nested[::-1]
        return [s for cell_states in nested for s in cell_states]

    def _stacked_step(self, batch_size, training):
        steps = [_cell_step(cell, batch_size, training) for cell in self.cells]

        def step(inputs, states, constants):
            new_nested = []
            for cell_step, cell_states in zip(steps, self._split_states(list(states))):
                inputs, new_states = cell_step(inputs, cell_states, constants)
                new_nested.append(list(new_states))
            return inputs, self._join_states(new_nested)
        return step

    def call(self, inputs, states, constants=None, training=None):
        """One timestep of every cell in turn."""
        step = self._stacked_step(K.int_shape(inputs)[0], _training_flag(training))
        return step(inputs, list(states), constants)

    def build(self, input_shape):
        constants_shape = None
        if isinstance(input_shape, list):
            constants_shape = input_shape[1:]
            input_shape = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                if constants_shape and has_arg(cell.call, 'constants'):
                    cell.build([input_shape] + constants_shape)
                else:
                    cell.build(input_shape)
                cell.built = True
            input_shape = (input_shape[0], _output_size(cell))
        self.built = True

    def get_config(self):
        cells = [{'class_name': cell.__class__.__name__, 'config': cell.get_config()}
                 for cell in self.cells]
        return _merge_config(super(StackedRNNCells, self).get_config(), {'cells': cells})

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from refkeras.layers import deserialize as deserialize_layer
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects=custom_objects)
                 for c in config.pop('cells')]
        return cls(cells, **config)

    def _cell_layers(self):
        return [cell for cell in self.cells if isinstance(cell, Layer)]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for cell in self._cell_layers() for w in cell.trainable_weights]

    @property
    def non_trainable_weights(self):
        weights = [w for cell in self._cell_layers() for w in cell.non_trainable_weights]
        if not self.trainable:
            return [w for cell in self._cell_layers() for w in cell.trainable_weights] + weights
        return weights

    def _loss_sublayers(self):
        return list(self._cell_layers())


# --- the RNN layer ----------------------------------------------------------------------

class RNN(Layer):
    """Base class of recurrent layers: runs a cell over the time axis.

    # Arguments
        cell: an RNN cell: an object with `call(input_t, states) -> (output_t,
            new_states)` (optionally taking `constants=` and `training=`) and
            a `state_size` (an int, or a tuple of ints, one per state);
            optionally an `output_size`. A list of cells makes a
            `StackedRNNCells`.
        return_sequences: return the outputs of every timestep
            `(batch, time, units)` rather than the last one `(batch, units)`.
        return_state: also return the last states (a list `[output] + states`).
        go_backwards: process the sequence from its end; the returned
            sequence is in that reversed order.
        stateful: keep the last states of each batch as the initial states of
            the next one, sample i to sample i (FAQ: "How can I use stateful
            RNNs?"). Needs a fixed batch size: `batch_size` or
            `batch_input_shape` on the first layer, or `Input(batch_shape=...)`.
        unroll: accepted for compatibility; same numbers either way.
        input_dim, input_length: legacy shortcut for
            `input_shape=(input_length, input_dim)`.

    # Call arguments
        inputs: `(batch, time, input_dim)`; or a list `[inputs] + initial
            states (+ constants)`.
        mask: `(batch, time)` booleans; masked timesteps keep the previous
            states and output.
        training: True/False to force dropout on/off.
        initial_state: a tensor or list of tensors, one per state.
        constants: a tensor or list of tensors given to the cell at every step
            (the cell's `call` must take `constants=`).

    # Raises
        ValueError: for a cell without `call` or `state_size`; input of rank
            other than 3; a stateful layer without a fixed batch size; a wrong
            number or shape of initial states; constants for a cell that does
            not take them.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, 'call'):
            raise ValueError('`cell` should have a `call` method; the RNN was passed %r.'
                             % (cell,))
        if not hasattr(cell, 'state_size'):
            raise ValueError('The RNN cell should have an attribute `state_size` (tuple of '
                             'integers, one integer per RNN state); received %r.' % (cell,))
        if 'input_shape' not in kwargs and 'batch_input_shape' not in kwargs and (
                'input_dim' in kwargs or 'input_length' in kwargs):
            kwargs['input_shape'] = (kwargs.pop('input_length', None),
                                     kwargs.pop('input_dim', None))
        kwargs.pop('input_dim', None)
        kwargs.pop('input_length', None)
        super(RNN, self).__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]
        self.state_spec = None
        self._states = None
        self.constants_spec = None
        self._num_constants = None

    # --- states --------------------------------------------------------------------------

    @property
    def states(self):
        """The state variables of a stateful layer; `[None, ...]` before they exist."""
        if self._states is None:
            return [None] * len(_state_sizes(self.cell))
        return self._states

    @states.setter
    def states(self, states):
        self._states = states

    def _fixed_batch_size(self):
        spec = self.input_spec[0] if self.input_spec else None
        return spec.shape[0] if spec is not None and spec.shape is not None else None

    def reset_states(self, states=None):
        """Sets the states of a stateful layer to zeros, or to the given values.

        # Arguments
            states: None for zeros, or one array (or a list of arrays, one per
                state) of shape `(batch_size, state_size)`.

        # Raises
            AttributeError: if the layer is not stateful.
            ValueError: if the batch size is not fixed, or for a wrong number
                or shape of values; no state is changed then.
        """
        if not self.stateful:
            raise AttributeError('Layer %s must be stateful to reset its states (it was '
                                 'created with stateful=False).' % self.name)
        batch_size = self._fixed_batch_size()
        if not batch_size:
            raise ValueError(_NEEDS_BATCH_SIZE % self.name)
        sizes = _state_sizes(self.cell)
        shapes = [(batch_size, size) for size in sizes]
        if states is None:
            values = [np.zeros(shape, dtype=K.floatx()) for shape in shapes]
        else:
            values = [K.get_value(v) for v in to_list(states, allow_tuple=True)]
            if len(values) != len(sizes):
                raise ValueError('Layer %s expects %d state value(s), but it received %d.'
                                 % (self.name, len(sizes), len(values)))
            for index, (value, shape) in enumerate(zip(values, shapes)):
                if value.shape != shape:
                    raise ValueError('State %d is incompatible with layer %s: expected shape=%s, '
                                     'found shape=%s. Nothing was changed.'
                                     % (index, self.name, shape, value.shape))
        if self._states is None:
            self._states = [K.zeros(shape, name='%s/state_%d' % (self.name, i))
                            for i, shape in enumerate(shapes)]
        K.batch_set_value(list(zip(self._states, values)))

    def get_initial_state(self, inputs):
        """Zero states `(batch, size)`, one per state of the cell.

        On a symbolic input whose batch size is unknown, the zeros are
        derived from the input (`(batch,)` zeros tiled to each state size), so
        their batch size is the input's when the graph runs.
        """
        batch_size = K.int_shape(inputs)[0]
        dtype = K.dtype(inputs) if K.value_dtype(inputs).kind == 'f' else K.floatx()
        sizes = _state_sizes(self.cell)
        if batch_size is not None:
            return [K.constant(0., shape=(batch_size, size), dtype=dtype) for size in sizes]
        zeros = K.cast(K.zeros_like(inputs), dtype)
        column = K.expand_dims(K.sum(zeros, axis=list(range(1, K.ndim(inputs)))))
        return [K.tile(column, [1, size]) for size in sizes]

    # --- shapes and masks ----------------------------------------------------------------

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        output_dim = _output_size(self.cell)
        if self.return_sequences:
            output_shape = (input_shape[0], input_shape[1], output_dim)
        else:
            output_shape = (input_shape[0], output_dim)
        if self.return_state:
            return [output_shape] + [(input_shape[0], size) for size in _state_sizes(self.cell)]
        return output_shape

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_state_sizes(self.cell))
        return output_mask

    # --- building --------------------------------------------------------------------------

    def build(self, input_shape):
        constants_shape = None
        if isinstance(input_shape, list):
            if self._num_constants:
                constants_shape = input_shape[-self._num_constants:]
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError('Layer %s expects input of rank 3 (batch, time, features); '
                             'received input shape %s.' % (self.name, input_shape))
        if self.stateful and not input_shape[0]:
            raise ValueError(_NEEDS_BATCH_SIZE % self.name)
        if self.unroll and input_shape[1] in (None, 1):
            raise ValueError('Layer %s: cannot unroll a RNN if the time dimension is undefined '
                             'or equal to 1 (input shape %s). Specify the time dimension with '
                             '`input_shape`/`batch_input_shape` (or `input_length` on an '
                             'Embedding) or `Input(shape=...)`.' % (self.name, input_shape))
        batch_size = input_shape[0] if self.stateful else None
        self.input_spec[0] = InputSpec(shape=(batch_size, None, input_shape[-1]))
        if isinstance(self.cell, Layer):
            step_input_shape = (input_shape[0],) + input_shape[2:]
            if not self.cell.built:
                if constants_shape is not None:
                    self.cell.build([step_input_shape] + list(constants_shape))
                else:
                    self.cell.build(step_input_shape)
                self.cell.built = True
                _rename_weights(self.cell.weights, self.name)
        sizes = _state_sizes(self.cell)
        if self.state_spec is not None:
            self._check_state_spec([spec.shape for spec in self.state_spec])
        else:
            self.state_spec = [InputSpec(shape=(None, size)) for size in sizes]
        if self.stateful:
            self.reset_states()
        self.built = True

    def _check_state_spec(self, shapes):
        sizes = _state_sizes(self.cell)
        if len(shapes) != len(sizes) or any(
                s[-1] is not None and s[-1] != size for s, size in zip(shapes, sizes)):
            raise ValueError('Layer %s: an `initial_state` was passed that is not compatible '
                             'with `cell.state_size`: expected %d state(s) of shape(s) %s, '
                             'received shape(s) %s.'
                             % (self.name, len(sizes), [(None, s) for s in sizes],
                                [tuple(s) for s in shapes]))

    # --- calling -----------------------------------------------------------------------------

    def _split_list_input(self, inputs):
        """`[x, states..., constants...]` as `(x, states or None, constants or None)`."""
        inputs = list(inputs)
        x, rest = inputs[0], inputs[1:]
        constants = None
        if self._num_constants:
            constants = rest[len(rest) - self._num_constants:]
            rest = rest[:len(rest) - self._num_constants]
        return x, (rest or None), constants

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, list):
            if initial_state is not None or constants is not None:
                raise ValueError('Layer %s: give the initial state and constants either in '
                                 'the input list or as keyword arguments, not both.' % self.name)
            inputs, initial_state, constants = self._split_list_input(inputs)
        initial_state = None if initial_state is None else to_list(initial_state,
                                                                   allow_tuple=True)
        constants = None if constants is None else to_list(constants, allow_tuple=True)
        if initial_state is None and constants is None:
            return super(RNN, self).__call__(inputs, **kwargs)
        if initial_state is not None:
            self._check_state_spec([K.int_shape(s) for s in initial_state])
        extra = list(initial_state or []) + list(constants or [])
        symbolic = [isinstance(t, SymbolicTensor) for t in extra]
        if any(symbolic) and not all(symbolic):
            raise ValueError('Layer %s: the initial state or constants of an RNN layer cannot '
                             'be specified with a mix of symbolic tensors (from `Input` or a '
                             'layer) and arrays.' % self.name)
        if all(symbolic) and isinstance(inputs, SymbolicTensor):
            # Symbolic states and constants are inputs of the node, so the
            # model computes them before this layer (as in Keras).
            if initial_state is not None:
                self.state_spec = [InputSpec(shape=K.int_shape(s)) for s in initial_state]
            if constants is not None:
                self.constants_spec = [InputSpec(shape=K.int_shape(c)) for c in constants]
                self._num_constants = len(constants)
            original_spec = self.input_spec
            self.input_spec = list(original_spec[:1]) + [None] * len(extra)
            try:
                return super(RNN, self).__call__([inputs] + extra, **kwargs)
            finally:
                self.input_spec = original_spec
        if constants is not None:
            self._num_constants = len(constants)
        kwargs['initial_state'] = initial_state
        kwargs['constants'] = constants
        return super(RNN, self).__call__(inputs, **kwargs)

    def _call_uses_learning_phase(self, arguments):
        cells = self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]
        dropout = sum(getattr(cell, 'dropout', 0) + getattr(cell, 'recurrent_dropout', 0)
                      for cell in cells)
        return dropout > 0 and arguments.get('training') is None

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(inputs, list):
            inputs, listed_states, listed_constants = self._split_list_input(inputs)
            initial_state = listed_states
            constants = listed_constants if listed_constants is not None else constants
        if isinstance(mask, list):
            mask = mask[0]
        shape = K.int_shape(inputs)
        if len(shape) != 3:
            raise ValueError('Layer %s expects input of rank 3 (batch, time, features); '
                             'received a tensor of shape %s.' % (self.name, shape))
        batch_size = shape[0]
        if initial_state is not None:
            initial_state = to_list(initial_state, allow_tuple=True)
            self._check_initial_state_values(initial_state, batch_size)
        elif self.stateful:
            self._check_stateful_batch_size(batch_size)
            initial_state = list(self.states)
        else:
            initial_state = self.get_initial_state(inputs)
        if constants and not has_arg(self.cell.call, 'constants'):
            raise ValueError('Layer %s: the RNN cell %s does not support constants (its `call` '
                             'takes no `constants` argument).' % (self.name, self.cell))
        constants = list(constants or [])
        if _runs_as_one_lstm_sequence(self, inputs, initial_state, mask, constants):
            last_output, outputs, states = _lstm_sequence(self, inputs, initial_state,
                                                          _training_flag(training))
        else:
            last_output, outputs, states = self._run_cell(inputs, initial_state, mask,
                                                          constants, training)
        if self.stateful:
            for variable, value in zip(self.states, states):
                K.update(variable, value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(states)
        return output

    def _run_cell(self, inputs, initial_state, mask, constants, training):
        """`K.rnn` over the cell's steps: `(last_output, outputs, states)`."""
        cell_step = _cell_step(self.cell, K.int_shape(inputs)[0], _training_flag(training))
        n_constants = len(constants)

        def step(x, states):
            if n_constants:
                return cell_step(x, states[:-n_constants], states[-n_constants:])
            return cell_step(x, states, None)

        return K.rnn(step, inputs, initial_state, constants=constants,
                     go_backwards=self.go_backwards, mask=mask, unroll=self.unroll,
                     input_length=K.int_shape(inputs)[1])

    def _check_initial_state_values(self, initial_state, batch_size):
        sizes = _state_sizes(self.cell)
        shapes = [K.int_shape(s) for s in initial_state]
        if len(shapes) != len(sizes) or any(
                s != (batch_size, size) for s, size in zip(shapes, sizes)):
            raise ValueError('Layer %s has %d state(s) of shape(s) %s for this batch, but was '
                             'passed %d initial state(s) of shape(s) %s.'
                             % (self.name, len(sizes), [(batch_size, s) for s in sizes],
                                len(shapes), shapes))

    def _check_stateful_batch_size(self, batch_size):
        expected = self._fixed_batch_size()
        if batch_size != expected:
            raise ValueError('Layer %s is stateful with a fixed batch size of %s, but received a '
                             'batch of %d samples. All batches fed to a stateful RNN must have '
                             'the same number of samples (FAQ: "How can I use stateful RNNs?").'
                             % (self.name, expected, batch_size))

    # --- weights and config ----------------------------------------------------------------

    @property
    def trainable_weights(self):
        if not self.trainable or not isinstance(self.cell, Layer):
            return []
        return self.cell.trainable_weights

    @property
    def non_trainable_weights(self):
        if not isinstance(self.cell, Layer):
            return []
        if not self.trainable:
            return self.cell.weights
        return self.cell.non_trainable_weights

    def _loss_sublayers(self):
        return [self.cell] if isinstance(self.cell, Layer) else []

    def get_config(self):
        config = {'return_sequences': self.return_sequences,
                  'return_state': self.return_state,
                  'go_backwards': self.go_backwards,
                  'stateful': self.stateful,
                  'unroll': self.unroll}
        if self._num_constants is not None:
            config['num_constants'] = self._num_constants
        config['cell'] = {'class_name': self.cell.__class__.__name__,
                          'config': self.cell.get_config()}
        return _merge_config(super(RNN, self).get_config(), config)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from refkeras.layers import deserialize as deserialize_layer
        config = dict(config)
        cell = deserialize_layer(config.pop('cell'), custom_objects=custom_objects)
        num_constants = config.pop('num_constants', None)
        layer = cls(cell, **config)
        layer._num_constants = num_constants
        return layer


_BATCH_SIZE_HINT = (
    'Specify the batch size of your input tensors:\n'
    '- If using a Sequential model, pass a `batch_size` (with `input_shape`) or a '
    '`batch_input_shape` argument to your first layer.\n'
    '- If using the functional API, pass a `batch_shape` argument to your Input layer.')
_NEEDS_BATCH_SIZE = ('Layer %s is stateful, so it needs to know its batch size (its states '
                     'hold one row per sample). ' + _BATCH_SIZE_HINT)


# --- the layers ---------------------------------------------------------------------------

_CELL_PROPERTIES = ('units', 'activation', 'use_bias', 'kernel_initializer',
                    'recurrent_initializer', 'bias_initializer', 'kernel_regularizer',
                    'recurrent_regularizer', 'bias_regularizer', 'kernel_constraint',
                    'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout')


class _CellBackedRNN(RNN):
    """An RNN layer created from cell arguments; exposes them as attributes."""

    def __getattr__(self, name):
        # Only reached for attributes not found normally: read them from the cell.
        if name in self._cell_attributes and 'cell' in self.__dict__:
            return getattr(self.__dict__['cell'], name)
        raise AttributeError('%r object has no attribute %r' % (type(self).__name__, name))

    def _layer_config(self):
        base = super(_CellBackedRNN, self).get_config()
        del base['cell']
        cell_config = self.cell.get_config()
        for key in ('name', 'trainable', 'dtype', 'batch_input_shape'):
            cell_config.pop(key, None)
        return base, cell_config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class SimpleRNN(_CellBackedRNN):
    """Fully-connected RNN whose output is fed back as its state.

    # Arguments
        units ... recurrent_dropout: as for `SimpleRNNCell`.
        activity_regularizer: optional penalty on the layer's output.
        return_sequences, return_state, go_backwards, stateful, unroll: as for `RNN`.
    """
    _cell_attributes = _CELL_PROPERTIES

    @interfaces.legacy_recurrent_support
    def __init__(self, units, activation='tanh', use_bias=True,
                 kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',
                 bias_initializer='zeros', kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.,
                 recurrent_dropout=0., return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        kwargs.pop('implementation', None)
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias,
                             kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer,
                             bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer,
                             recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer,
                             kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint,
                             bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout)
        super(SimpleRNN, self).__init__(cell, return_sequences=return_sequences,
                                        return_state=return_state, go_backwards=go_backwards,
                                        stateful=stateful, unroll=unroll, **kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def get_config(self):
        base, cell = self._layer_config()
        config = {key: cell[key] for key in ('units', 'activation', 'use_bias',
                                             'kernel_initializer', 'recurrent_initializer',
                                             'bias_initializer', 'kernel_regularizer',
                                             'recurrent_regularizer', 'bias_regularizer')}
        config['activity_regularizer'] = regularizers.serialize(self.activity_regularizer)
        for key in ('kernel_constraint', 'recurrent_constraint', 'bias_constraint',
                    'dropout', 'recurrent_dropout'):
            config[key] = cell[key]
        return _merge_config(base, config)


class GRU(_CellBackedRNN):
    """Gated Recurrent Unit (Cho et al. 2014); see `GRUCell` for the equations.

    `reset_after=False` (the default) applies the reset gate before the
    recurrent product; `reset_after=True` after it, with separate recurrent
    biases (the CuDNNGRU convention; use it with `recurrent_activation='sigmoid'`
    to load CuDNNGRU weights).

    # Arguments
        units ... reset_after: as for `GRUCell`.
        activity_regularizer: optional penalty on the layer's output.
        return_sequences, return_state, go_backwards, stateful, unroll: as for `RNN`.
    """
    _cell_attributes = _CELL_PROPERTIES + ('recurrent_activation', 'implementation',
                                           'reset_after')

    @interfaces.legacy_recurrent_support
    def __init__(self, units, activation='tanh', recurrent_activation='hard_sigmoid',
                 use_bias=True, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0., recurrent_dropout=0., implementation=1,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, reset_after=False, **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation,
                       use_bias=use_bias, kernel_initializer=kernel_initializer,
                       recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer,
                       bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                       recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout,
                       recurrent_dropout=recurrent_dropout, implementation=implementation,
                       reset_after=reset_after)
        super(GRU, self).__init__(cell, return_sequences=return_sequences,
                                  return_state=return_state, go_backwards=go_backwards,
                                  stateful=stateful, unroll=unroll, **kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def get_config(self):
        base, cell = self._layer_config()
        config = {key: cell[key] for key in ('units', 'activation', 'recurrent_activation',
                                             'use_bias', 'kernel_initializer',
                                             'recurrent_initializer', 'bias_initializer',
                                             'kernel_regularizer', 'recurrent_regularizer',
                                             'bias_regularizer')}
        config['activity_regularizer'] = regularizers.serialize(self.activity_regularizer)
        for key in ('kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout',
                    'recurrent_dropout', 'implementation', 'reset_after'):
            config[key] = cell[key]
        return _merge_config(base, config)


class LSTM(_CellBackedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997); see `LSTMCell` for the equations.

    # Arguments
        units ... implementation: as for `LSTMCell`.
        activity_regularizer: optional penalty on the layer's output.
        return_sequences, return_state, go_backwards, stateful, unroll: as for `RNN`.

    # Example (FAQ: "How can I use stateful RNNs?")
    ```python
    model = Sequential()
    model.add(LSTM(32, input_shape=(10, 16), batch_size=32, stateful=True))
    model.add(Dense(16, activation='softmax'))
    model.compile(optimizer='rmsprop', loss='categorical_crossentropy')
    model.train_on_batch(x[:, :10, :], np.reshape(x[:, 10, :], (32, 16)))
    model.train_on_batch(x[:, 10:20, :], np.reshape(x[:, 20, :], (32, 16)))  # continues
    model.reset_states()
    ```
    """
    _cell_attributes = _CELL_PROPERTIES + ('recurrent_activation', 'unit_forget_bias',
                                           'implementation')

    @interfaces.legacy_recurrent_support
    def __init__(self, units, activation='tanh', recurrent_activation='hard_sigmoid',
                 use_bias=True, kernel_initializer='glorot_uniform',
                 recurrent_initializer='orthogonal', bias_initializer='zeros',
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.,
                 recurrent_dropout=0., implementation=1, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation,
                        use_bias=use_bias, kernel_initializer=kernel_initializer,
                        recurrent_initializer=recurrent_initializer,
                        unit_forget_bias=unit_forget_bias, bias_initializer=bias_initializer,
                        kernel_regularizer=kernel_regularizer,
                        recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint,
                        bias_constraint=bias_constraint, dropout=dropout,
                        recurrent_dropout=recurrent_dropout, implementation=implementation)
        super(LSTM, self).__init__(cell, return_sequences=return_sequences,
                                   return_state=return_state, go_backwards=go_backwards,
                                   stateful=stateful, unroll=unroll, **kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def get_config(self):
        base, cell = self._layer_config()
        config = {key: cell[key] for key in ('units', 'activation', 'recurrent_activation',
                                             'use_bias', 'kernel_initializer',
                                             'recurrent_initializer', 'bias_initializer',
                                             'unit_forget_bias', 'kernel_regularizer',
                                             'recurrent_regularizer', 'bias_regularizer')}
        config['activity_regularizer'] = regularizers.serialize(self.activity_regularizer)
        for key in ('kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout',
                    'recurrent_dropout', 'implementation'):
            config[key] = cell[key]
        return _merge_config(base, config)


# --- stateful models (FAQ: "How can I use stateful RNNs?") ---------------------------------

def stateful_layers(model):
    """The stateful layers of a model, nested models included, in `model.layers` order."""
    found = []
    for layer in getattr(model, 'layers', []):
        if hasattr(layer, 'layers'):
            found.extend(stateful_layers(layer))
        elif getattr(layer, 'stateful', False):
            found.append(layer)
    return found


def _layer_batch_size(layer):
    """The batch size a stateful layer's states are fixed to (None if unknown)."""
    inner = getattr(layer, 'forward_layer', None)
    if inner is not None:
        return _layer_batch_size(inner)
    states = [s for s in getattr(layer, 'states', None) or [] if s is not None]
    if states:
        return int(K.int_shape(states[0])[0])
    fixed = getattr(layer, '_fixed_batch_size', None)
    return fixed() if callable(fixed) else None


def check_stateful_batch(model, arrays, batch_size):
    """Refuses input that a model's stateful layers cannot take, before anything runs.

    The FAQ ("How can I use stateful RNNs?") assumes that all batches have the
    same number of samples, the batch size fixed on the model's first layer:
    sample i of a batch continues sample i of the previous batch.

    # Arguments
        model: the model about to run.
        arrays: the input arrays (samples first), as the model will batch them.
        batch_size: the batch size `fit`/`evaluate`/`predict` will use, or
            None when the arrays are a single batch (`train_on_batch`,
            `test_on_batch`, `predict_on_batch`, `steps_per_epoch`). Data of
            at most `batch_size` samples is one batch too.

    # Raises
        ValueError: naming the layer, if a stateful layer's batch size is not
            fixed, if `batch_size` differs from it, or if the number of samples
            is not a whole number of such batches (a smaller last batch).
    """
    layers = stateful_layers(model)
    arrays = [a for a in to_list(arrays) if a is not None]
    if not layers or not arrays:
        return
    samples = int(arrays[0].shape[0])
    for layer in layers:
        fixed = _layer_batch_size(layer)
        where = 'Layer %s of model %s is stateful' % (layer.name, model.name)
        if not fixed:
            raise ValueError('%s, but its batch size is not fixed. %s' % (where, _BATCH_SIZE_HINT))
        if batch_size is not None and samples == fixed and samples <= int(batch_size):
            # One batch of exactly the fixed size: as in Keras 2.2.4, a batch
            # holds at most `batch_size` samples, so predict(x) with the
            # default of 32 runs such data as one batch.
            continue
        if batch_size is None:
            if samples != fixed:
                raise ValueError('%s with a fixed batch size of %d: every batch must have exactly '
                                 '%d samples (sample i of a batch continues sample i of the '
                                 'previous one), but this batch has %d samples.'
                                 % (where, fixed, fixed, samples))
        elif int(batch_size) != fixed:
            raise ValueError('%s with a fixed batch size of %d, but batch_size=%d was requested. '
                             'Pass batch_size=%d.' % (where, fixed, batch_size, fixed))
        elif samples % fixed:
            raise ValueError('%s with a fixed batch size of %d: the number of samples must be a '
                             'multiple of it, but %d samples were given (the last batch would '
                             'have %d samples).' % (where, fixed, samples, samples % fixed))


def warn_if_shuffling_stateful(model, shuffle):
    """Warns when `fit(shuffle=...)` would shuffle the samples of a stateful model.

    Stateful RNNs carry sample i's states to sample i of the next batch; with
    shuffling the next batch's sample i is an unrelated sequence (FAQ: "specify
    `shuffle=False` when calling fit()").
    """
    layers = stateful_layers(model)
    if shuffle and layers:
        warnings.warn('Model %s has stateful layers (%s) but fit() was called with shuffle=%r: '
                      'the states carried from one batch to the next then belong to other '
                      'sequences. Pass shuffle=False (FAQ: "How can I use stateful RNNs?").'
                      % (model.name, ', '.join(layer.name for layer in layers), shuffle))
