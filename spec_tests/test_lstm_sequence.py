"""An LSTM layer runs its timestep loop as one `lstm_sequence` primitive where that
computes what the per-timestep path (`K.rnn` over the cell's steps) computes.

The per-timestep path is built from primitives that have their own
finite-difference checks; here the sequence path is compared with it bit for
bit: outputs, states, and the weights after training (so the gradients too),
with dropout masks drawn from the same seed. The per-timestep path is forced by
replacing `recurrent._runs_as_one_lstm_sequence` with a function saying no.
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras.backend import prims_rnn
from refkeras.layers import LSTM, Dense, Input, Masking, recurrent
from refkeras.models import Model, Sequential

TIME, FEATURES, UNITS, BATCH = 6, 3, 4, 4


def _data():
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2 * BATCH, TIME, FEATURES)).astype('float32')
    return x, rng.standard_normal((2 * BATCH, UNITS)).astype('float32')


def _per_timestep(monkeypatch):
    monkeypatch.setattr(recurrent, '_runs_as_one_lstm_sequence', lambda *args: False)


def _sequence_records(monkeypatch):
    """A list that gets one entry per `lstm_sequence` forward run."""
    calls = []
    forward = prims_rnn.lstm_sequence.forward

    def counted(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)
    monkeypatch.setattr(prims_rnn.lstm_sequence, 'forward', counted)
    return calls


def _train(layer_kwargs, epochs=2):
    """Predictions before and after a seeded `fit`, and the weights after it."""
    x, y = _data()
    np.random.seed(7)
    model = Sequential([LSTM(UNITS, input_shape=(TIME, FEATURES), **layer_kwargs),
                        Dense(UNITS)])
    if layer_kwargs.get('return_sequences'):
        model.pop()
        y = np.repeat(y[:, None], TIME, axis=1)
    model.compile('adam', 'mse')
    before = model.predict(x, batch_size=BATCH)
    model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, shuffle=False)
    return [before, model.predict(x, batch_size=BATCH)] + model.get_weights()


def _assert_same_bits(mine, theirs):
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.tobytes() == b.tobytes()


LAYER_OPTIONS = [
    {},
    {'dropout': 0.3, 'recurrent_dropout': 0.2},
    {'recurrent_dropout': 0.4, 'go_backwards': True},
    {'dropout': 0.2, 'return_sequences': True},
    {'activation': 'relu', 'recurrent_activation': 'sigmoid', 'unit_forget_bias': False},
]


@pytest.mark.parametrize('layer_kwargs', LAYER_OPTIONS)
def test_training_through_the_sequence_primitive_gives_the_per_timestep_bits(
        layer_kwargs, monkeypatch):
    calls = _sequence_records(monkeypatch)
    mine = _train(layer_kwargs)
    assert calls, 'the layer did not take the lstm_sequence path'
    _per_timestep(monkeypatch)
    _assert_same_bits(mine, _train(layer_kwargs))


def _stateful_run():
    x, _ = _data()
    np.random.seed(3)
    inputs = Input(batch_shape=(BATCH, TIME, FEATURES))
    outputs = LSTM(UNITS, stateful=True, return_state=True, dropout=0.25)(inputs)
    model = Model(inputs, outputs)
    first = model.predict(x[:BATCH], batch_size=BATCH)
    second = model.predict(x[BATCH:], batch_size=BATCH)   # continues from the first's states
    states = [K.get_value(s) for s in model.layers[1].states]
    return list(first) + list(second) + states


def test_a_stateful_layer_returning_its_states_gives_the_per_timestep_bits(monkeypatch):
    calls = _sequence_records(monkeypatch)
    mine = _stateful_run()
    assert len(calls) == 2
    _per_timestep(monkeypatch)
    _assert_same_bits(mine, _stateful_run())


def _initial_state_run():
    x, _ = _data()
    rng = np.random.RandomState(5)
    h0, c0 = (rng.standard_normal((2 * BATCH, UNITS)).astype('float32') for _ in range(2))
    np.random.seed(4)
    inputs = Input((TIME, FEATURES))
    states = [Input((UNITS,)), Input((UNITS,))]
    output = LSTM(UNITS, return_sequences=True, go_backwards=True)(inputs, initial_state=states)
    model = Model([inputs] + states, output)
    model.compile('sgd', 'mse')
    model.fit([x, h0, c0], np.ones((2 * BATCH, TIME, UNITS)), batch_size=BATCH, verbose=0)
    return [model.predict([x, h0, c0])] + model.get_weights()


def test_a_layer_given_initial_states_gives_the_per_timestep_bits(monkeypatch):
    calls = _sequence_records(monkeypatch)
    mine = _initial_state_run()
    assert calls
    _per_timestep(monkeypatch)
    _assert_same_bits(mine, _initial_state_run())


def test_masked_inputs_and_custom_activations_take_the_per_timestep_path(monkeypatch):
    calls = _sequence_records(monkeypatch)
    x, _ = _data()
    x[:, -2:] = 0.
    masked = Sequential([Masking(0., input_shape=(TIME, FEATURES)), LSTM(UNITS)])
    held = masked.predict(x)
    custom = Sequential([LSTM(UNITS, activation=lambda v: K.tanh(v) * 2.,
                              input_shape=(TIME, FEATURES))])
    custom.predict(x)
    assert calls == []
    # The masked timesteps kept the state: the output is that of the unmasked prefix.
    prefix = Sequential([LSTM(UNITS, input_shape=(TIME - 2, FEATURES))])
    prefix.set_weights(masked.get_weights())
    np.testing.assert_array_equal(prefix.predict(x[:, :-2]), held)
