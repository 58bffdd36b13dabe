"""Recurrent layers, Embedding, TimeDistributed and Bidirectional against NumPy loops.

Every expected value comes from a direct NumPy loop written here with the
Keras 2.2.4 equations (gate order i, f, c, o for LSTM and z, r, h for GRU, read
straight from the kernel columns), never from refkeras itself. Masking follows
Keras 2.2.4's TensorFlow loop: where a sample's timestep is masked, its states
keep their previous values and its output is the previous first state.

Gradients (backpropagation through time on the tape) are compared with central
finite differences in float64, on sequences, sizes, masks and directions drawn
by hypothesis. Tolerance: step `H = 1e-6`, a check passes when
`|numeric - tape| <= 1e-6 + 1e-6 * |numeric|`. The loss `sum(g * outputs)` has
at most a few dozen terms of magnitude <= 1, so its rounding error is below
~1e-14 and contributes < 1e-8 after dividing by `2 H`; the truncation error
`H**2 / 6 * |L'''|` is below 1e-11. Weights are drawn in [-0.25, 0.25] and
sizes are at most 3, so every pre-activation stays inside (-1.75, 1.75): away
from the kinks of hard_sigmoid (+-2.5), so the functions are smooth there.
"""
import contextlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refkeras import backend as K
from refkeras.backend.registry import REGISTRY
from refkeras.layers import (GRU, LSTM, RNN, Bidirectional, Dense, Embedding, GRUCell, Input,
                             Layer, LSTMCell, Masking, SimpleRNN, SimpleRNNCell,
                             StackedRNNCells, TimeDistributed)
from refkeras.models import Model, Sequential
from refkeras.optimizers import Adam
from refkeras.layers import deserialize as deserialize_layer
from refkeras.layers import serialize as serialize_layer

H = 1e-6
FD_RTOL = 1e-6
FD_ATOL = 1e-6
FORWARD_TOL = 1e-10      # float64 layer vs. float64 NumPy loop: a few ulps of O(1) values


@contextlib.contextmanager
def float64():
    previous = K.floatx()
    K.set_floatx('float64')
    try:
        yield
    finally:
        K.set_floatx(previous)


# --- the NumPy reference ------------------------------------------------------------------

def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


NP_ACTIVATIONS = {'tanh': np.tanh, 'sigmoid': np_sigmoid, 'hard_sigmoid': np_hard_sigmoid,
                  'linear': lambda x: x, 'relu': lambda x: np.maximum(x, 0.0)}


def np_loop(step, x, initial_states, mask=None, go_backwards=False):
    """Keras 2.2.4's `K.rnn` (TensorFlow, while loop) written out: (outputs, last states)."""
    timesteps = x.shape[1]
    order = range(timesteps - 1, -1, -1) if go_backwards else range(timesteps)
    states = [np.array(s, dtype=np.float64) for s in initial_states]
    outputs = []
    for t in order:
        output, new_states = step(x[:, t], states)
        if mask is not None:
            keep = mask[:, t][:, None]
            output = np.where(keep, output, states[0])
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        states = new_states
        outputs.append(output)
    return np.stack(outputs, axis=1), states


def np_simple_rnn_step(kernel, recurrent_kernel, bias, activation='tanh'):
    act = NP_ACTIVATIONS[activation]

    def step(x, states):
        h = act(x @ kernel + bias + states[0] @ recurrent_kernel)
        return h, [h]
    return step


def np_lstm_step(kernel, recurrent_kernel, bias, activation='tanh',
                 recurrent_activation='hard_sigmoid'):
    act, ract = NP_ACTIVATIONS[activation], NP_ACTIVATIONS[recurrent_activation]
    u = recurrent_kernel.shape[0]

    def step(x, states):
        h, c = states
        z = x @ kernel + h @ recurrent_kernel + bias
        i = ract(z[:, :u])
        f = ract(z[:, u:2 * u])
        candidate = act(z[:, 2 * u:3 * u])
        o = ract(z[:, 3 * u:])
        c = f * c + i * candidate
        h = o * act(c)
        return h, [h, c]
    return step


def np_gru_step(kernel, recurrent_kernel, bias, reset_after, activation='tanh',
                recurrent_activation='hard_sigmoid'):
    act, ract = NP_ACTIVATIONS[activation], NP_ACTIVATIONS[recurrent_activation]
    u = recurrent_kernel.shape[0]
    W = [kernel[:, k * u:(k + 1) * u] for k in range(3)]           # z, r, h
    U = [recurrent_kernel[:, k * u:(k + 1) * u] for k in range(3)]
    if reset_after:
        b_in = [bias[0, k * u:(k + 1) * u] for k in range(3)]
        b_rec = [bias[1, k * u:(k + 1) * u] for k in range(3)]
    else:
        b_in = [bias[k * u:(k + 1) * u] for k in range(3)]

    def step(x, states):
        h = states[0]
        if reset_after:
            z = ract(x @ W[0] + b_in[0] + h @ U[0] + b_rec[0])
            r = ract(x @ W[1] + b_in[1] + h @ U[1] + b_rec[1])
            candidate = act(x @ W[2] + b_in[2] + r * (h @ U[2] + b_rec[2]))
        else:
            z = ract(x @ W[0] + b_in[0] + h @ U[0])
            r = ract(x @ W[1] + b_in[1] + h @ U[1])
            candidate = act(x @ W[2] + b_in[2] + (r * h) @ U[2])
        h = z * h + (1 - z) * candidate
        return h, [h]
    return step


def np_step_for(kind, weights, **options):
    if kind == 'SimpleRNN':
        return np_simple_rnn_step(*weights)
    if kind == 'LSTM':
        return np_lstm_step(*weights)
    return np_gru_step(*weights, reset_after=options['reset_after'])


# --- strategies ----------------------------------------------------------------------------

KINDS = ['SimpleRNN', 'LSTM', 'LSTM_composed', 'GRU', 'GRU_reset_after']
GATES = {'SimpleRNN': 1, 'LSTM': 4, 'LSTM_composed': 4, 'GRU': 3, 'GRU_reset_after': 3}


def own_tanh(x):
    """tanh, but not the built-in activation: LSTM then runs its composed gates
    (elementwise primitives) instead of the fused `lstm_gates` primitive."""
    return K.tanh(x)


def make_layer(kind, units, **kwargs):
    if kind == 'SimpleRNN':
        return SimpleRNN(units, **kwargs)
    if kind == 'LSTM':
        return LSTM(units, **kwargs)
    if kind == 'LSTM_composed':
        return LSTM(units, activation=own_tanh, **kwargs)
    return GRU(units, reset_after=(kind == 'GRU_reset_after'), **kwargs)


def random_weights(rng, kind, input_dim, units, scale=0.25):
    gates = GATES[kind]
    kernel = rng.uniform(-scale, scale, (input_dim, gates * units))
    recurrent = rng.uniform(-scale, scale, (units, gates * units))
    bias_shape = (2, gates * units) if kind == 'GRU_reset_after' else (gates * units,)
    bias = rng.uniform(-scale, scale, bias_shape)
    return [kernel, recurrent, bias]


def reference(kind, weights, x, initial_states, mask=None, go_backwards=False):
    base = kind.split('_')[0]
    step = np_step_for(base, weights, reset_after=(kind == 'GRU_reset_after'))
    return np_loop(step, x, initial_states, mask=mask, go_backwards=go_backwards)


@st.composite
def sequences(draw, max_batch=3, max_time=5, max_dim=3, max_units=3):
    batch = draw(st.integers(1, max_batch))
    timesteps = draw(st.integers(1, max_time))
    input_dim = draw(st.integers(1, max_dim))
    units = draw(st.integers(1, max_units))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1, 1, (batch, timesteps, input_dim))
    use_mask = draw(st.booleans())
    mask = rng.uniform(size=(batch, timesteps)) < 0.6 if use_mask else None
    go_backwards = draw(st.booleans())
    return dict(rng=rng, x=x, units=units, input_dim=input_dim, mask=mask,
                go_backwards=go_backwards)


def n_states(kind):
    return 2 if kind.startswith('LSTM') else 1


# --- forward passes --------------------------------------------------------------------------

@pytest.mark.parametrize('kind', KINDS)
@settings(max_examples=15)
@given(case=sequences(), return_sequences=st.booleans())
def test_forward_matches_numpy_loop(kind, case, return_sequences):
    with float64():
        rng, x, units = case['rng'], case['x'], case['units']
        weights = random_weights(rng, kind, case['input_dim'], units, scale=1.0)
        layer = make_layer(kind, units, return_sequences=return_sequences, return_state=True,
                           go_backwards=case['go_backwards'])
        layer.build(x.shape)
        layer.set_weights(weights)
        outputs = layer(x, mask=case['mask'])
        zeros = [np.zeros((x.shape[0], units))] * n_states(kind)
        expected_seq, expected_states = reference(kind, weights, x, zeros, case['mask'],
                                                  case['go_backwards'])
        expected = expected_seq if return_sequences else expected_seq[:, -1]
        assert len(outputs) == 1 + n_states(kind)
        np.testing.assert_allclose(outputs[0], expected, rtol=0, atol=FORWARD_TOL)
        for got, want in zip(outputs[1:], expected_states):
            np.testing.assert_allclose(got, want, rtol=0, atol=FORWARD_TOL)


def test_masked_timesteps_keep_previous_state_and_output():
    # Worked by hand: with a zero kernel and recurrent kernel, SimpleRNN(linear)
    # outputs its bias at every unmasked step; masked steps repeat the previous
    # output, and before any unmasked step they output the initial state.
    layer = SimpleRNN(1, activation='linear', return_sequences=True, return_state=True)
    x = np.ones((1, 4, 1), dtype='float32')
    layer.build(x.shape)
    layer.set_weights([np.zeros((1, 1)), np.zeros((1, 1)), np.array([3.0])])
    mask = np.array([[False, True, False, True]])
    seq, state = layer(x, initial_state=[np.array([[7.0]], dtype='float32')], mask=mask)
    np.testing.assert_array_equal(seq[0, :, 0], [7.0, 3.0, 3.0, 3.0])
    np.testing.assert_array_equal(state, [[3.0]])
    # Backwards: timesteps 3, 2, 1, 0 -> outputs in that order.
    back = SimpleRNN(1, activation='linear', return_sequences=True, go_backwards=True)
    back.build(x.shape)
    back.set_weights([np.array([[1.0]]), np.zeros((1, 1)), np.array([0.0])])
    x_ramp = np.array([[[1.0], [2.0], [3.0], [4.0]]], dtype='float32')
    np.testing.assert_array_equal(back(x_ramp, mask=mask)[0, :, 0], [4.0, 4.0, 2.0, 2.0])


def test_lstm_gate_order_is_i_f_c_o():
    # One unit, zero recurrent kernel, linear activations: each gate's column of
    # the kernel is set to a different constant, and the result is worked out by
    # hand: c = f * 0 + i * c~, h = o * c.
    layer = LSTM(1, activation='linear', recurrent_activation='linear')
    x = np.ones((1, 1, 1), dtype='float32')
    layer.build(x.shape)
    kernel = np.array([[2.0, 3.0, 5.0, 7.0]])           # i, f, c, o
    layer.set_weights([kernel, np.zeros((1, 4)), np.zeros(4)])
    np.testing.assert_allclose(layer(x), [[7.0 * 2.0 * 5.0]])
    # And the forget gate multiplies the carried state: two steps.
    x2 = np.ones((1, 2, 1), dtype='float32')
    # step 1: c1 = 2*5 = 10; step 2: c2 = f * c1 + i * c~ = 3*10 + 10 = 40; h = 7 * 40
    np.testing.assert_allclose(layer(x2), [[280.0]])


def test_gru_gate_order_is_z_r_h():
    # One unit, linear activations, zero recurrent kernel except the candidate's:
    # h1 = z*h0 + (1-z)*hh with z = 2, hh = 5 + r * h0 @ Uh (reset before).
    layer = GRU(1, activation='linear', recurrent_activation='linear')
    x = np.ones((1, 1, 1), dtype='float32')
    layer.build(x.shape)
    layer.set_weights([np.array([[2.0, 3.0, 5.0]]), np.array([[0.0, 0.0, 10.0]]), np.zeros(3)])
    h0 = np.array([[1.0]], dtype='float32')
    # z = 2, r = 3, hh = 5 + (3 * 1) * 10 = 35, h = 2 * 1 + (1 - 2) * 35 = -33
    np.testing.assert_allclose(layer(x, initial_state=[h0]), [[-33.0]])
    after = GRU(1, activation='linear', recurrent_activation='linear', reset_after=True)
    after.build(x.shape)
    after.set_weights([np.array([[2.0, 3.0, 5.0]]), np.array([[0.0, 0.0, 10.0]]),
                       np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])])
    # hh = 5 + r * (h0 @ Uh + rbh) = 5 + 3 * 11 = 38, h = 2 - 38 = -36
    np.testing.assert_allclose(after(x, initial_state=[h0]), [[-36.0]])


@pytest.mark.parametrize('implementation', [1, 2])
def test_implementations_give_the_same_numbers(implementation):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (2, 4, 3)).astype('float32')
    weights = random_weights(rng, 'LSTM', 3, 2, scale=1.0)
    layer = LSTM(2, implementation=implementation, return_sequences=True)
    layer.build(x.shape)
    layer.set_weights(weights)
    expected, _ = reference('LSTM', weights, x.astype('float64'), [np.zeros((2, 2))] * 2)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('activation', ['relu', 'sigmoid', 'linear'])
def test_activation_choices(activation):
    rng = np.random.RandomState(1)
    x = rng.uniform(-1, 1, (2, 3, 2))
    with float64():
        weights = random_weights(rng, 'SimpleRNN', 2, 3, scale=1.0)
        layer = SimpleRNN(3, activation=activation, return_sequences=True)
        layer.build(x.shape)
        layer.set_weights(weights)
        expected, _ = np_loop(np_simple_rnn_step(*weights, activation=activation), x,
                              [np.zeros((2, 3))])
        np.testing.assert_allclose(layer(x), expected, atol=FORWARD_TOL)
        lstm = LSTM(2, activation=activation, recurrent_activation='sigmoid',
                    return_sequences=True)
        lstm.build(x.shape)
        lstm_weights = random_weights(rng, 'LSTM', 2, 2, scale=1.0)
        lstm.set_weights(lstm_weights)
        expected, _ = np_loop(np_lstm_step(*lstm_weights, activation=activation,
                                           recurrent_activation='sigmoid'), x,
                              [np.zeros((2, 2))] * 2)
        np.testing.assert_allclose(lstm(x), expected, atol=FORWARD_TOL)


def test_initial_state_as_keyword_and_as_list_input():
    rng = np.random.RandomState(2)
    x = rng.uniform(-1, 1, (2, 3, 4))
    h0, c0 = rng.uniform(-1, 1, (2, 5)), rng.uniform(-1, 1, (2, 5))
    with float64():
        weights = random_weights(rng, 'LSTM', 4, 5, scale=1.0)
        expected, states = reference('LSTM', weights, x, [h0, c0])
        # Eager keyword.
        layer = LSTM(5, return_state=True)
        layer.build(x.shape)
        layer.set_weights(weights)
        out, h, c = layer(x, initial_state=[h0, c0])
        np.testing.assert_allclose(out, expected[:, -1], atol=FORWARD_TOL)
        np.testing.assert_allclose(c, states[1], atol=FORWARD_TOL)
        # Symbolic initial states: inputs of the model.
        inputs = [Input((3, 4)), Input((5,)), Input((5,))]
        for call in (lambda layer: layer(inputs[0], initial_state=inputs[1:]),
                     lambda layer: layer(inputs)):
            symbolic_layer = LSTM(5)
            model = Model(inputs, call(symbolic_layer))
            symbolic_layer.set_weights(weights)
            assert len(model.layers) == 4
            np.testing.assert_allclose(model.predict([x, h0, c0]), expected[:, -1], atol=1e-10)


class MinimalRNNCell(Layer):
    """The custom cell of Keras 2.2.4's RNN docstring: h = x.W + h_{t-1}.U."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super(MinimalRNNCell, self).__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer='uniform',
                                      name='kernel')
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer='uniform', name='recurrent_kernel')
        self.built = True

    def call(self, inputs, states):
        output = K.dot(inputs, self.kernel) + K.dot(states[0], self.recurrent_kernel)
        return output, [output]


class ConstantsCell(MinimalRNNCell):
    """A cell conditioned on a constant: h = x.W + h_{t-1}.U + c.V."""

    def build(self, input_shape):
        step_shape, constant_shape = input_shape
        super(ConstantsCell, self).build(step_shape)
        self.constant_kernel = self.add_weight(shape=(constant_shape[-1], self.units),
                                               initializer='uniform', name='constant_kernel')

    def call(self, inputs, states, constants):
        output, _ = super(ConstantsCell, self).call(inputs, states)
        output = output + K.dot(constants[0], self.constant_kernel)
        return output, [output]


class DoublingCell(MinimalRNNCell):
    """Output 2 * h while the state is h: masked steps output the previous *state*."""

    def call(self, inputs, states):
        output, new_states = super(DoublingCell, self).call(inputs, states)
        return output * 2.0, new_states


def test_masked_step_outputs_the_previous_first_state_for_custom_cells():
    rng = np.random.RandomState(15)
    x = rng.uniform(-1, 1, (2, 5, 3))
    mask = np.array([[True, False, True, False, False], [False, True, True, False, True]])
    with float64():
        cell = DoublingCell(2)
        layer = RNN(cell, return_sequences=True, go_backwards=True)
        got = layer(x, mask=mask)
        w = [K.get_value(v) for v in cell.weights]

        def doubling(x_t, states):
            h = x_t @ w[0] + states[0] @ w[1]
            return 2.0 * h, [h]
        expected, _ = np_loop(doubling, x, [np.zeros((2, 2))], mask=mask, go_backwards=True)
        np.testing.assert_allclose(got, expected, atol=FORWARD_TOL)


def test_custom_cell_stacked_cells_and_constants():
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (2, 4, 3))
    with float64():
        cells = [MinimalRNNCell(4), LSTMCell(2), GRUCell(3)]
        layer = RNN(cells, return_sequences=True, return_state=True)
        outputs = layer(x)
        assert isinstance(layer.cell, StackedRNNCells)
        w1 = [K.get_value(w) for w in cells[0].weights]
        w2 = [K.get_value(w) for w in cells[1].weights]
        w3 = [K.get_value(w) for w in cells[2].weights]

        def minimal(x_t, states):
            h = x_t @ w1[0] + states[0] @ w1[1]
            return h, [h]
        steps = [minimal, np_lstm_step(*w2), np_gru_step(*w3, reset_after=False)]

        def stacked(x_t, states):
            h1, new1 = steps[0](x_t, states[:1])
            h2, new2 = steps[1](h1, states[1:3])
            h3, new3 = steps[2](h2, states[3:])
            return h3, new1 + new2 + new3
        zeros = [np.zeros((2, 4)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 3))]
        expected, states = np_loop(stacked, x, zeros)
        np.testing.assert_allclose(outputs[0], expected, atol=FORWARD_TOL)
        assert len(outputs) == 5
        for got, want in zip(outputs[1:], states):
            np.testing.assert_allclose(got, want, atol=FORWARD_TOL)

        constant = rng.uniform(-1, 1, (2, 5))
        cell = ConstantsCell(3)
        symbolic_x, symbolic_c = Input((4, 3)), Input((5,))
        model = Model([symbolic_x, symbolic_c], RNN(cell)(symbolic_x, constants=symbolic_c))
        w = [K.get_value(v) for v in cell.weights]

        def conditioned(x_t, states):
            h = x_t @ w[0] + states[0] @ w[1] + constant @ w[2]
            return h, [h]
        expected, _ = np_loop(conditioned, x, [np.zeros((2, 3))])
        np.testing.assert_allclose(model.predict([x, constant]), expected[:, -1], atol=1e-10)
        with pytest.raises(ValueError, match='does not support constants'):
            LSTM(2)(x, constants=[constant])


# --- Embedding, Masking, TimeDistributed, Bidirectional ------------------------------------------

def test_embedding_lookup_mask_and_shapes():
    layer = Embedding(10, 3, mask_zero=True, input_length=4)
    ids = np.array([[1, 2, 0, 0], [9, 0, 5, 0]])
    out = layer(ids)
    table = K.get_value(layer.embeddings)
    np.testing.assert_array_equal(out, table[ids])
    np.testing.assert_array_equal(K.eval(layer.compute_mask(ids)), ids != 0)
    assert layer.compute_output_shape((None, 4)) == (None, 4, 3)
    assert Embedding(10, 3).compute_output_shape((None, 7)) == (None, 7, 3)
    assert Embedding(10, 3, input_length=(2, None)).compute_output_shape((None, 2, 6)) == \
        (None, 2, 6, 3)
    with pytest.raises(ValueError, match='input_length'):
        layer.compute_output_shape((None, 5))
    with pytest.raises(ValueError, match=r'indices must be in \[0, 10\)'):
        layer(np.array([[1, 10, 0, 0]]))
    with pytest.raises(ValueError, match='positive integer'):
        Embedding(0, 3)
    config = layer.get_config()
    assert {k: config[k] for k in ('input_dim', 'output_dim', 'mask_zero', 'input_length')} == \
        {'input_dim': 10, 'output_dim': 3, 'mask_zero': True, 'input_length': 4}
    assert config['batch_input_shape'] == (None, 4)


@pytest.mark.parametrize('kind', ['LSTM', 'GRU'])
def test_embedding_mask_zero_and_masking_feed_the_rnn(kind):
    rng = np.random.RandomState(4)
    ids = np.array([[3, 1, 0, 0, 2], [0, 0, 4, 4, 1], [2, 2, 2, 2, 2]])
    model = Sequential([Embedding(5, 2, mask_zero=True, input_length=5),
                        make_layer(kind, 3, return_sequences=True)])
    weights = random_weights(rng, kind, 2, 3, scale=1.0)
    model.layers[1].set_weights(weights)
    table = K.get_value(model.layers[0].embeddings).astype('float64')
    expected, _ = reference(kind, weights, table[ids], [np.zeros((3, 3))] * n_states(kind),
                            mask=ids != 0)
    np.testing.assert_allclose(model.predict(ids), expected, rtol=1e-5, atol=1e-6)

    x = table[ids]
    x[ids == 0] = 0.0
    masked = Sequential([Masking(0.0, input_shape=(5, 2)),
                         make_layer(kind, 3, return_sequences=True)])
    masked.layers[1].set_weights(weights)
    np.testing.assert_allclose(masked.predict(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('batch_size', [None, 2])
def test_time_distributed_dense(batch_size):
    rng = np.random.RandomState(5)
    x = rng.uniform(-1, 1, (2, 4, 3))
    with float64():
        layer = TimeDistributed(Dense(5, activation='tanh'))
        inputs = Input(batch_shape=(batch_size, 4, 3))
        model = Model(inputs, layer(inputs))
        kernel, bias = layer.get_weights()
        assert [w.name for w in layer.weights] == ['%s/kernel:0' % layer.name,
                                                    '%s/bias:0' % layer.name]
        np.testing.assert_allclose(model.predict(x), np.tanh(x @ kernel + bias), atol=1e-12)
        assert model.output_shape == (batch_size, 4, 5)
        mask = np.array([[True, False, True, True], [False, True, True, True]])
        assert layer.compute_mask(x, mask) is mask or np.array_equal(
            K.eval(layer.compute_mask(x, mask)), mask)
    with pytest.raises(ValueError, match='rank 3'):
        TimeDistributed(Dense(2)).build((None, 3))


MERGES = {'concat': lambda a, b: np.concatenate([a, b], axis=-1), 'sum': lambda a, b: a + b,
          'mul': lambda a, b: a * b, 'ave': lambda a, b: (a + b) / 2, None: lambda a, b: [a, b]}


@pytest.mark.parametrize('merge_mode', ['concat', 'sum', 'mul', 'ave', None])
@pytest.mark.parametrize('kind', ['LSTM', 'GRU'])
def test_bidirectional_merge_modes_and_states(kind, merge_mode):
    rng = np.random.RandomState(6)
    x = rng.uniform(-1, 1, (2, 4, 3))
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    with float64():
        for return_sequences in (False, True):
            layer = Bidirectional(make_layer(kind, 2, return_sequences=return_sequences,
                                             return_state=True), merge_mode=merge_mode)
            layer.build(x.shape)
            forward_w = random_weights(rng, kind, 3, 2, scale=1.0)
            backward_w = random_weights(rng, kind, 3, 2, scale=1.0)
            layer.set_weights(forward_w + backward_w)
            outputs = layer(x, mask=mask)
            zeros = [np.zeros((2, 2))] * n_states(kind)
            fw_seq, fw_states = reference(kind, forward_w, x, zeros, mask)
            bw_seq, bw_states = reference(kind, backward_w, x, zeros, mask, go_backwards=True)
            if return_sequences:
                fw_out, bw_out = fw_seq, bw_seq[:, ::-1]
            else:
                fw_out, bw_out = fw_seq[:, -1], bw_seq[:, -1]
            merged = MERGES[merge_mode](fw_out, bw_out)
            merged = merged if isinstance(merged, list) else [merged]
            expected = merged + fw_states + bw_states
            assert len(outputs) == len(expected)
            for got, want in zip(outputs, expected):
                np.testing.assert_allclose(got, want, atol=FORWARD_TOL)


def test_bidirectional_in_a_model_shapes_names_and_config():
    inputs = Input((5, 3))
    layer = Bidirectional(LSTM(4, return_sequences=True), merge_mode='concat')
    model = Model(inputs, layer(inputs))
    assert model.output_shape == (None, 5, 8)
    names = [w.name for w in layer.weights]
    assert names[0] == '%s/forward_%s/kernel:0' % (layer.name, layer.layer.name)
    assert names[3] == '%s/backward_%s/kernel:0' % (layer.name, layer.layer.name)
    assert len(layer.get_weights()) == 6
    config = layer.get_config()
    assert config['merge_mode'] == 'concat' and config['layer']['class_name'] == 'LSTM'
    clone = deserialize_layer(serialize_layer(layer))
    assert isinstance(clone, Bidirectional) and clone.backward_layer.go_backwards


def test_bidirectional_initial_state_from_inputs():
    rng = np.random.RandomState(12)
    x = rng.uniform(-1, 1, (2, 3, 4))
    states = [rng.uniform(-1, 1, (2, 2)) for _ in range(4)]
    with float64():
        inputs = [Input((3, 4))] + [Input((2,)) for _ in range(4)]
        layer = Bidirectional(LSTM(2), merge_mode='sum')
        model = Model(inputs, layer(inputs[0], initial_state=inputs[1:]))
        fw = random_weights(rng, 'LSTM', 4, 2, scale=1.0)
        bw = random_weights(rng, 'LSTM', 4, 2, scale=1.0)
        layer.set_weights(fw + bw)
        fw_seq, _ = reference('LSTM', fw, x, states[:2])
        bw_seq, _ = reference('LSTM', bw, x, states[2:], go_backwards=True)
        np.testing.assert_allclose(model.predict([x] + states), fw_seq[:, -1] + bw_seq[:, -1],
                                   atol=1e-10)


def test_masks_propagate_to_the_loss():
    # Embedding(mask_zero) -> LSTM(return_sequences) -> TimeDistributed(Dense):
    # the targets of masked timesteps do not count in the loss.
    model = Sequential([Embedding(6, 3, mask_zero=True, input_length=4),
                        LSTM(2, return_sequences=True), TimeDistributed(Dense(1))])
    model.compile('sgd', 'mse')
    ids = np.array([[1, 2, 0, 0], [3, 0, 4, 5]])
    y = np.random.RandomState(13).uniform(-1, 1, (2, 4, 1)).astype('float32')
    other = y.copy()
    other[ids == 0] = 100.0
    assert model.test_on_batch(ids, y) == model.test_on_batch(ids, other)
    other[0, 0] = 100.0
    assert model.test_on_batch(ids, y) != model.test_on_batch(ids, other)


def test_unroll_gives_the_same_numbers():
    rng = np.random.RandomState(14)
    x = rng.uniform(-1, 1, (2, 4, 3)).astype('float32')
    mask = np.array([[False, True, True, False], [True, True, False, True]])
    rolled = GRU(3, return_sequences=True)
    unrolled = GRU(3, return_sequences=True, unroll=True)
    rolled.build(x.shape)
    unrolled.build(x.shape)
    unrolled.set_weights(rolled.get_weights())
    np.testing.assert_array_equal(rolled(x, mask=mask), unrolled(x, mask=mask))


def test_k_rnn_on_symbolic_tensors():
    # K.rnn on placeholders: a running sum, evaluated by K.function.
    x = K.placeholder((None, 3, 2))
    h0 = K.placeholder((None, 2))

    def step(inputs, states):
        total = states[0] + inputs
        return total * 2.0, [total]
    last, outputs, states = K.rnn(step, x, [h0])
    run = K.function([x, h0], [last, outputs, states[0]])
    value = np.arange(12, dtype='float32').reshape(2, 3, 2)
    start = np.ones((2, 2), dtype='float32')
    got_last, got_outputs, got_state = run([value, start])
    sums = start[:, None, :] + np.cumsum(value, axis=1)
    np.testing.assert_array_equal(got_outputs, 2 * sums)
    np.testing.assert_array_equal(got_last, 2 * sums[:, -1])
    np.testing.assert_array_equal(got_state, sums[:, -1])


# --- configs ---------------------------------------------------------------------------------

KERAS_224_CONFIG_KEYS = {
    'LSTM': ['name', 'trainable', 'return_sequences', 'return_state', 'go_backwards',
             'stateful', 'unroll', 'units', 'activation', 'recurrent_activation', 'use_bias',
             'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
             'unit_forget_bias', 'kernel_regularizer', 'recurrent_regularizer',
             'bias_regularizer', 'activity_regularizer', 'kernel_constraint',
             'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout',
             'implementation'],
    'GRU': ['name', 'trainable', 'return_sequences', 'return_state', 'go_backwards',
            'stateful', 'unroll', 'units', 'activation', 'recurrent_activation', 'use_bias',
            'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
            'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer',
            'activity_regularizer', 'kernel_constraint', 'recurrent_constraint',
            'bias_constraint', 'dropout', 'recurrent_dropout', 'implementation', 'reset_after'],
    'SimpleRNN': ['name', 'trainable', 'return_sequences', 'return_state',
                  'go_backwards', 'stateful', 'unroll', 'units', 'activation', 'use_bias',
                  'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
                  'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer',
                  'activity_regularizer', 'kernel_constraint', 'recurrent_constraint',
                  'bias_constraint', 'dropout', 'recurrent_dropout'],
}


@pytest.mark.parametrize('kind', ['SimpleRNN', 'LSTM', 'GRU'])
def test_config_keys_and_round_trip(kind):
    layer = make_layer(kind, 3, return_sequences=True, dropout=0.1)
    config = layer.get_config()
    assert list(config) == KERAS_224_CONFIG_KEYS[kind]
    clone = deserialize_layer(serialize_layer(layer))
    assert type(clone) is type(layer) and clone.get_config() == config
    x = np.random.RandomState(7).uniform(-1, 1, (2, 3, 4)).astype('float32')
    layer.build(x.shape)
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), layer(x))
    assert [w.name.split('/')[-1] for w in layer.weights] == [
        'kernel:0', 'recurrent_kernel:0', 'bias:0']
    assert all(w.name.startswith(layer.name + '/') for w in layer.weights)
    rnn = RNN(LSTMCell(3), return_state=True)
    rnn_clone = deserialize_layer(serialize_layer(rnn))
    assert isinstance(rnn_clone.cell, LSTMCell) and rnn_clone.return_state
    stacked = deserialize_layer(serialize_layer(RNN([SimpleRNNCell(2), GRUCell(3)])))
    assert [type(c) for c in stacked.cell.cells] == [SimpleRNNCell, GRUCell]


def test_lstm_bias_starts_with_unit_forget_bias():
    layer = LSTM(3)
    layer.build((None, 2, 4))
    np.testing.assert_array_equal(K.get_value(layer.cell.bias),
                                  [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert layer.count_params() == 4 * 3 * (4 + 3 + 1)


def test_dropout_masks_one_per_gate_constant_over_time(monkeypatch):
    # In the training phase LSTM asks `K.dropout` for 4 masks of its inputs,
    # shape (batch, input_dim), and 4 of its state, shape (batch, units), once
    # per sequence; gate k (i, f, c, o) uses the k-th mask of each kind at every
    # timestep. The masks are recorded here as they are handed out.
    rate = 0.4
    rng = np.random.RandomState(8)
    x = rng.uniform(-1, 1, (3, 4, 2))
    handed_out = []

    def recording_dropout(ones, level, noise_shape=None, seed=None):
        assert level == rate
        mask = (rng.uniform(size=np.shape(ones)) < 1 - level) / (1 - level)
        handed_out.append(mask)
        return K.multiply(ones, mask)

    with float64():
        weights = random_weights(rng, 'LSTM', 2, 3, scale=1.0)
        layer = LSTM(3, dropout=rate, recurrent_dropout=rate, return_sequences=True)
        layer.build(x.shape)
        layer.set_weights(weights)
        monkeypatch.setattr(K, 'dropout', recording_dropout)
        got = layer(x, training=True)
        in_masks = [m for m in handed_out if m.shape == (3, 2)]
        rec_masks = [m for m in handed_out if m.shape == (3, 3)]
        assert len(in_masks) == 4 and len(rec_masks) == 4 and len(handed_out) == 8
        kernel, recurrent, bias = weights
        u = 3

        def step(x_t, states):
            h, c = states
            z = [(x_t * in_masks[k]) @ kernel[:, k * u:(k + 1) * u]
                 + (h * rec_masks[k]) @ recurrent[:, k * u:(k + 1) * u]
                 + bias[k * u:(k + 1) * u] for k in range(4)]
            i, f, o = np_hard_sigmoid(z[0]), np_hard_sigmoid(z[1]), np_hard_sigmoid(z[3])
            c = f * c + i * np.tanh(z[2])
            h = o * np.tanh(c)
            return h, [h, c]
        expected, _ = np_loop(step, x, [np.zeros((3, 3))] * 2)
        np.testing.assert_allclose(got, expected, atol=FORWARD_TOL)
        # A new sequence draws new masks.
        layer(x, training=True)
        assert len(handed_out) == 16
        # Test phase: no dropout at all.
        plain, _ = reference('LSTM', weights, x, [np.zeros((3, 3))] * 2)
        np.testing.assert_allclose(layer(x), plain, atol=FORWARD_TOL)
        assert len(handed_out) == 16


# --- gradients: backpropagation through time vs finite differences -------------------------------

def check_gradients(forward, variables):
    """Tape gradients of `sum(g * forward())` vs central differences, for every variable element."""
    probe = [np.asarray(K.value_of(o)) for o in forward()]
    rng = np.random.RandomState(11)
    cotangents = [rng.uniform(-1, 1, p.shape) for p in probe]

    def loss_value():
        return sum(float(np.sum(np.asarray(K.value_of(o)) * g))
                   for o, g in zip(forward(), cotangents))

    with K.GradientTape(variables) as tape:
        outputs = forward()
        loss = None
        for o, g in zip(outputs, cotangents):
            term = K.sum(K.multiply(o, g))
            loss = term if loss is None else K.add(loss, term)
    grads = tape.gradient(loss, variables)
    for variable, grad in zip(variables, grads):
        numeric = np.zeros(variable.shape)
        for index in np.ndindex(variable.shape):
            original = variable.value[index]
            variable.value[index] = original + H
            plus = loss_value()
            variable.value[index] = original - H
            minus = loss_value()
            variable.value[index] = original
            numeric[index] = (plus - minus) / (2 * H)
        np.testing.assert_allclose(grad, numeric, rtol=FD_RTOL, atol=FD_ATOL,
                                   err_msg='gradient of %s' % variable.name)


@pytest.mark.parametrize('kind', KINDS)
@settings(max_examples=20)
@given(case=sequences(max_batch=2, max_time=4), return_sequences=st.booleans())
def test_gradients_match_finite_differences(kind, case, return_sequences):
    with float64():
        x = K.variable(case['x'], name='x')
        layer = make_layer(kind, case['units'], return_sequences=return_sequences,
                           return_state=True, go_backwards=case['go_backwards'])
        layer.build(case['x'].shape)
        layer.set_weights(random_weights(case['rng'], kind, case['input_dim'], case['units']))
        h0 = [K.variable(case['rng'].uniform(-1, 1, (case['x'].shape[0], case['units'])),
                         name='initial_%d' % i) for i in range(n_states(kind))]
        mask = case['mask']
        check_gradients(lambda: layer(x, mask=mask, initial_state=list(h0)),
                        layer.trainable_weights + [x] + h0)


@settings(max_examples=15)
@given(case=sequences(max_batch=2, max_time=4), merge_mode=st.sampled_from(
    ['concat', 'sum', 'mul', 'ave']), kind=st.sampled_from(['LSTM', 'GRU', 'SimpleRNN']))
def test_bidirectional_gradients(case, merge_mode, kind):
    with float64():
        x = K.variable(case['x'], name='x')
        layer = Bidirectional(make_layer(kind, case['units'], return_sequences=True),
                              merge_mode=merge_mode)
        layer.build(case['x'].shape)
        rng, d, u = case['rng'], case['input_dim'], case['units']
        layer.set_weights(random_weights(rng, kind, d, u) + random_weights(rng, kind, d, u))
        mask = case['mask']
        check_gradients(lambda: [layer(x, mask=mask)], layer.trainable_weights + [x])


@settings(max_examples=15)
@given(case=sequences(max_batch=2, max_time=4), fixed_batch=st.booleans())
def test_time_distributed_and_stacked_cells_gradients(case, fixed_batch):
    with float64():
        x = K.variable(case['x'], name='x')
        batch = case['x'].shape[0] if fixed_batch else None
        td = TimeDistributed(Dense(case['units'], activation='tanh'))
        td.build((batch,) + case['x'].shape[1:])
        check_gradients(lambda: [td(x)], td.trainable_weights + [x])
        stacked = RNN([SimpleRNNCell(case['units']), LSTMCell(2)], return_sequences=True,
                      go_backwards=case['go_backwards'])
        stacked.build(case['x'].shape)
        rng = case['rng']
        stacked.set_weights([rng.uniform(-0.25, 0.25, w.shape) for w in stacked.weights])
        mask = case['mask']
        check_gradients(lambda: [stacked(x, mask=mask)], stacked.trainable_weights + [x])


@settings(max_examples=15)
@given(seed=st.integers(0, 2 ** 31 - 1), mask_zero=st.booleans())
def test_embedding_into_lstm_gradients(seed, mask_zero):
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, 4, (2, 3))
    with float64():
        embedding = Embedding(4, 2, mask_zero=mask_zero, embeddings_initializer='uniform')
        lstm = LSTM(2, return_sequences=True)
        embedding.build(ids.shape)
        lstm.build((2, 3, 2))
        lstm.set_weights(random_weights(rng, 'LSTM', 2, 2))

        def forward():
            vectors = embedding(ids)
            return [lstm(vectors, mask=embedding.compute_mask(ids))]
        check_gradients(forward, embedding.trainable_weights + lstm.trainable_weights)
        # Rows of the table that no index uses get no gradient.
        with K.GradientTape(embedding.trainable_weights) as tape:
            loss = K.sum(forward()[0])
        grad, = tape.gradient(loss, embedding.trainable_weights)
        unused = np.setdiff1d(np.arange(4), ids)
        assert np.all(grad[unused] == 0)


LSTM_ACTIVATIONS = {'tanh': math.tanh, 'sigmoid': lambda v: 1 / (1 + math.exp(-v)),
                    'hard_sigmoid': lambda v: min(1.0, max(0.0, 0.2 * v + 0.5)),
                    'linear': lambda v: v, 'softsign': lambda v: v / (1 + abs(v)),
                    'softplus': lambda v: math.log1p(math.exp(v))}


@settings(max_examples=30)
@given(batch=st.integers(1, 3), units=st.integers(1, 3), seed=st.integers(0, 2 ** 31 - 1),
       activation=st.sampled_from(['tanh', 'sigmoid', 'linear', 'softsign', 'softplus']),
       recurrent_activation=st.sampled_from(['hard_sigmoid', 'sigmoid', 'tanh', 'linear']))
def test_lstm_gates_primitive_forward_and_gradient(batch, units, seed, activation,
                                                   recurrent_activation):
    # Element by element with Python's math module; then central differences.
    # z stays within (-2.4, 2.4): away from hard_sigmoid's kinks at +-2.5.
    prim = REGISTRY['lstm_gates']
    rng = np.random.RandomState(seed)
    z = rng.uniform(-2.4, 2.4, (4, batch, units))
    c_prev = rng.uniform(-2, 2, (batch, units))
    attrs = dict(activation=activation, recurrent_activation=recurrent_activation)
    act, rec = LSTM_ACTIVATIONS[activation], LSTM_ACTIVATIONS[recurrent_activation]

    def oracle(z, c_prev):
        out = np.empty((2, batch, units))
        for b, u in np.ndindex(batch, units):
            i, f, o = rec(z[0, b, u]), rec(z[1, b, u]), rec(z[3, b, u])
            c = f * c_prev[b, u] + i * act(z[2, b, u])
            out[0, b, u], out[1, b, u] = o * act(c), c
        return out
    out = prim.forward(z, c_prev, **attrs)
    np.testing.assert_allclose(out, oracle(z, c_prev), rtol=1e-12, atol=1e-12)
    g = rng.uniform(-1, 1, out.shape)
    g_z, g_c = prim.grad(g, out, z, c_prev, **attrs)
    for value, grad in ((z, g_z), (c_prev, g_c)):
        numeric = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + H
            plus = math.fsum((g * oracle(z, c_prev)).ravel())
            value[index] = original - H
            minus = math.fsum((g * oracle(z, c_prev)).ravel())
            value[index] = original
            numeric[index] = (plus - minus) / (2 * H)
        np.testing.assert_allclose(grad, numeric, rtol=FD_RTOL, atol=FD_ATOL)
    out32 = prim.forward(z.astype('float32'), c_prev.astype('float32'), **attrs)
    grads32 = prim.grad(g.astype('float32'), out32, z.astype('float32'),
                        c_prev.astype('float32'), **attrs)
    assert out32.dtype == np.float32 and all(gr.dtype == np.float32 for gr in grads32)


# --- training through time ------------------------------------------------------------------------

def test_lstm_model_learns_a_sequence_task():
    # The sign of the first timestep, read after 6 steps: needs memory.
    rng = np.random.RandomState(9)
    x = rng.uniform(-1, 1, (64, 6, 1)).astype('float32')
    y = (x[:, 0, 0] > 0).astype('float32')
    np.random.seed(9)
    model = Sequential([LSTM(8, input_shape=(6, 1)), Dense(1, activation='sigmoid')])
    model.compile(Adam(lr=0.02), 'binary_crossentropy', metrics=['acc'])
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    after, accuracy = model.evaluate(x, y, verbose=0)
    assert after < before * 0.7 and accuracy > 0.8


# --- bad input -----------------------------------------------------------------------------------

def test_wrong_input_rank_is_refused():
    layer = LSTM(3)
    with pytest.raises(ValueError, match='ndim=3'):
        layer(np.zeros((2, 3), dtype='float32'))
    assert not layer.built
    with pytest.raises(ValueError, match='ndim=3'):
        GRU(2)(Input((4, 3, 2)))
    with pytest.raises(ValueError, match='at least 3D'):
        K.rnn(lambda x, s: (x, s), np.zeros((2, 3)), [])


def test_initial_state_count_and_shape_mismatches_are_refused():
    x = np.zeros((2, 3, 4), dtype='float32')
    layer = LSTM(5, return_state=True)
    with pytest.raises(ValueError, match='initial_state'):
        layer(x, initial_state=[np.zeros((2, 5), dtype='float32')])
    assert not layer.built
    with pytest.raises(ValueError, match='initial_state'):
        layer(x, initial_state=[np.zeros((2, 5), dtype='float32'),
                                np.zeros((2, 6), dtype='float32')])
    with pytest.raises(ValueError, match='initial_state'):
        LSTM(5, return_state=True)(Input((3, 4)), initial_state=[Input((5,))])
    built = LSTM(5, return_state=True)
    built.build(x.shape)
    with pytest.raises(ValueError, match='initial state'):
        built.call(x, initial_state=[np.zeros((3, 5)), np.zeros((3, 5))])
    with pytest.raises(ValueError, match='even number'):
        Bidirectional(LSTM(2))(Input((3, 4)), initial_state=[Input((2,))] * 3)


def test_reset_states_with_wrong_shapes_changes_nothing():
    layer = LSTM(3, stateful=True)
    inputs = Input(batch_shape=(2, 4, 1))
    Model(inputs, layer(inputs))
    good = [np.full((2, 3), 1.5), np.full((2, 3), -2.0)]
    layer.reset_states(good)
    for bad in ([np.zeros((2, 3))], [np.zeros((2, 3)), np.zeros((3, 3))],
                [np.zeros((2, 3)), np.zeros((2, 4))], np.zeros((2, 3))):
        with pytest.raises(ValueError, match='(?i)state'):
            layer.reset_states(bad)
        np.testing.assert_array_equal(K.get_value(layer.states[0]), good[0])
        np.testing.assert_array_equal(K.get_value(layer.states[1]), good[1])
    with pytest.raises(AttributeError, match='stateful'):
        LSTM(3).reset_states()


def test_bidirectional_over_a_non_recurrent_layer_is_refused():
    with pytest.raises(ValueError, match='recurrent layer.*Dense'):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match='merge mode'):
        Bidirectional(LSTM(3), merge_mode='max')


def test_stateful_layer_without_batch_size_is_refused_before_building():
    layer = LSTM(3, stateful=True)
    with pytest.raises(ValueError, match='needs to know its batch size'):
        Sequential([Embedding(5, 2), layer])
    assert not layer.cell.built
    with pytest.raises(ValueError, match='cannot unroll'):
        SimpleRNN(2, unroll=True)(Input((None, 3)))


def test_rnn_get_losses_for_asks_its_cells():
    """Keras 2.2.4: an RNN's conditional losses include its cells' (single and stacked)."""
    x = Input((None, 5))
    marker = K.sum(x)

    class CellWithConditionalLoss(SimpleRNNCell):
        def get_losses_for(self, inputs):
            return [marker] if inputs is x else []

    single = RNN(CellWithConditionalLoss(3))
    stacked = RNN([SimpleRNNCell(3), CellWithConditionalLoss(3)])
    for layer in (single, stacked):
        layer.build((None, None, 5))
        assert layer.get_losses_for(x) == [marker]
        assert layer.get_losses_for(Input((None, 5))) == []
