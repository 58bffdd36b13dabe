"""FAQ: "How can I use stateful RNNs?"

The FAQ's promises, each checked against an independent computation:

- "the states for the samples of each batch will be reused as initial states
  for the samples in the next batch": a long sequence fed in chunks to a
  stateful model gives the predictions a stateless model with the same weights
  gives on the whole sequence; sample i continues sample i, also between the
  batches of one `predict` call.
- "`model.reset_states()` / `layer.reset_states()`": after a reset, the first
  chunk's prediction repeats exactly; `reset_states(states=...)` starts from
  the given values.
- "the methods `predict`, `fit`, `train_on_batch`, `predict_classes`, etc. will
  *all* update the states": after each of `fit`, `evaluate`, `predict`,
  `train_on_batch`, `test_on_batch`, `predict_on_batch` the states are those of
  the last batch run (computed here by a stateless twin with `return_state`).
- "all batches have the same number of samples", "explicitly specify the batch
  size", "specify `shuffle=False`": a stateful layer without a fixed batch
  size, or a batch of another size, is refused with a clear error before any
  state (or weight) changes; `fit(shuffle=True)` warns.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_under_test import IS_REFKERAS, get_value, layers, models, refkeras_only, require

if IS_REFKERAS:  # for the refkeras-only tests of its helpers
    from refkeras.layers.recurrent import check_stateful_batch, warn_if_shuffling_stateful

GRU, LSTM, Dense, Embedding = layers.GRU, layers.LSTM, layers.Dense, layers.Embedding
Input, Masking, SimpleRNN = layers.Input, layers.Masking, layers.SimpleRNN
TimeDistributed = layers.TimeDistributed
Model, Sequential = models.Model, models.Sequential

TOL = 1e-5   # float32 models; the two sides sum the same terms in the same order


def _model_checks_stateful_batches():
    """Whether `Model` refuses a smaller last batch before running any batch
    (the hook `Model._check_stateful_batch` in training.py)."""
    try:
        model = Sequential([SimpleRNN(1, batch_input_shape=(2, 1, 1), stateful=True)])
    except (TypeError, ValueError):  # Keras 3 has no batch_input_shape
        return False
    try:
        model.predict(np.ones((3, 1, 1)), batch_size=2)
    except ValueError:
        return not np.any(get_value(model.layers[0].states[0]))
    return False


needs_model_hook = pytest.mark.xfail(
    not _model_checks_stateful_batches(), strict=True,
    reason='Model._check_stateful_batch does not yet call '
           'refkeras.layers.recurrent.check_stateful_batch for every entry point')


def states_of(layer):
    return [get_value(s).copy() for s in layer.states]


def stateful_and_stateless(kind, batch, chunk, total, features, units, **kwargs):
    """A stateful model on chunks and a stateless twin (same weights) on whole sequences."""
    make = {'LSTM': LSTM, 'GRU': GRU, 'SimpleRNN': SimpleRNN}[kind]
    stateful = Sequential([make(units, batch_input_shape=(batch, chunk, features),
                                stateful=True, return_sequences=True, **kwargs),
                           make(units, stateful=True, return_sequences=True, **kwargs),
                           TimeDistributed(Dense(2))])
    stateless = Sequential([make(units, input_shape=(total, features), return_sequences=True,
                                 **kwargs),
                            make(units, return_sequences=True, **kwargs),
                            TimeDistributed(Dense(2))])
    rng = np.random.RandomState(0)
    stateless.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in stateless.get_weights()])
    stateful.set_weights(stateless.get_weights())
    return stateful, stateless


# --- the FAQ's example, as written ------------------------------------------------------------

def test_the_faq_example_runs_as_written():
    x = np.random.RandomState(1).standard_normal((32, 21, 16)).astype('float32')
    # we will feed it to our model in sequences of length 10

    model = Sequential()
    model.add(LSTM(32, input_shape=(10, 16), batch_size=32, stateful=True))
    model.add(Dense(16, activation='softmax'))

    model.compile(optimizer='rmsprop', loss='categorical_crossentropy')

    # we train the network to predict the 11th timestep given the first 10:
    model.train_on_batch(x[:, :10, :], np.reshape(x[:, 10, :], (32, 16)))
    after_first = states_of(model.layers[0])
    assert all(np.abs(s).max() > 0 for s in after_first)

    # the state of the network has changed. We can feed the follow-up sequences:
    model.train_on_batch(x[:, 10:20, :], np.reshape(x[:, 20, :], (32, 16)))
    assert not np.allclose(states_of(model.layers[0])[0], after_first[0])

    # let's reset the states of the LSTM layer:
    model.reset_states()
    assert all(np.all(s == 0) for s in states_of(model.layers[0]))

    # another way to do it in this case:
    model.train_on_batch(x[:, :10, :], np.reshape(x[:, 10, :], (32, 16)))
    model.layers[0].reset_states()
    assert all(np.all(s == 0) for s in states_of(model.layers[0]))
    assert [s.shape for s in states_of(model.layers[0])] == [(32, 32), (32, 32)]


# --- states carried from batch to batch ----------------------------------------------------------

@pytest.mark.parametrize('kind', ['LSTM', 'GRU', 'SimpleRNN'])
@settings(max_examples=12)
@given(batch=st.integers(1, 3), chunk=st.integers(1, 4), n_chunks=st.integers(2, 3),
       seed=st.integers(0, 2 ** 31 - 1))
def test_chunked_stateful_predictions_equal_stateless_whole_sequence(kind, batch, chunk,
                                                                      n_chunks, seed):
    require('batch_input_shape')
    total, features = chunk * n_chunks, 3
    stateful, stateless = stateful_and_stateless(kind, batch, chunk, total, features, 4)
    x = np.random.RandomState(seed).uniform(-1, 1, (batch, total, features)).astype('float32')
    whole = stateless.predict(x)
    pieces = [stateful.predict(x[:, i * chunk:(i + 1) * chunk], batch_size=batch)
              for i in range(n_chunks)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole, rtol=TOL, atol=TOL)
    # After reset_states() the first chunk's prediction repeats exactly.
    stateful.reset_states()
    np.testing.assert_array_equal(stateful.predict(x[:, :chunk], batch_size=batch), pieces[0])


def test_masked_timesteps_carry_across_chunks():
    require('batch_input_shape')
    # Masked timesteps (all-zero features) keep the states: also at a chunk boundary.
    batch, chunk, total = 2, 3, 9
    x = np.random.RandomState(2).uniform(-1, 1, (batch, total, 2)).astype('float32')
    x[0, 2:5] = 0.0
    x[1, 6:9] = 0.0
    stateful = Sequential([Masking(0.0, batch_input_shape=(batch, chunk, 2)),
                           LSTM(3, stateful=True, return_sequences=True)])
    stateless = Sequential([Masking(0.0, input_shape=(total, 2)),
                            LSTM(3, return_sequences=True)])
    stateful.set_weights(stateless.get_weights())
    whole = stateless.predict(x)
    pieces = [stateful.predict(x[:, i:i + chunk], batch_size=batch)
              for i in range(0, total, chunk)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole, rtol=TOL, atol=TOL)
    # A masked step repeats the previous output, across the boundary at t = 3.
    np.testing.assert_array_equal(whole[0, 3], whole[0, 1])


def test_states_are_kept_per_sample_index():
    require('batch_input_shape')
    # Within one predict call, the samples of the second batch continue the
    # samples of the first batch with the same index.
    batch, chunk = 3, 4
    stateful, stateless = stateful_and_stateless('LSTM', batch, chunk, 2 * chunk, 2, 3)
    rng = np.random.RandomState(3)
    first, second = (rng.uniform(-1, 1, (batch, chunk, 2)).astype('float32') for _ in range(2))
    out = stateful.predict(np.concatenate([first, second]), batch_size=batch)
    whole = stateless.predict(np.concatenate([first, second], axis=1))
    np.testing.assert_allclose(out[:batch], whole[:, :chunk], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(out[batch:], whole[:, chunk:], rtol=TOL, atol=TOL)
    # Permuting the samples of both chunks permutes the outputs the same way:
    # sample i's state never leaks into another row.
    order = np.array([2, 0, 1])
    stateful.reset_states()
    out_permuted = stateful.predict(np.concatenate([first[order], second[order]]),
                                    batch_size=batch)
    np.testing.assert_allclose(out_permuted[batch:], out[batch:][order], rtol=TOL, atol=TOL)


def test_reset_states_with_given_values():
    require('batch_input_shape')
    batch, chunk = 2, 3
    layer = LSTM(4, batch_input_shape=(batch, chunk, 2), stateful=True, return_sequences=True)
    model = Sequential([layer])
    twin_in = [Input((chunk, 2)), Input((4,)), Input((4,))]
    twin_layer = LSTM(4, return_sequences=True)
    twin = Model(twin_in, twin_layer(twin_in[0], initial_state=twin_in[1:]))
    twin_layer.set_weights(layer.get_weights())
    rng = np.random.RandomState(4)
    h0, c0 = rng.uniform(-1, 1, (batch, 4)), rng.uniform(-1, 1, (batch, 4))
    x = rng.uniform(-1, 1, (batch, chunk, 2)).astype('float32')
    layer.reset_states([h0, c0])
    np.testing.assert_allclose(model.predict(x, batch_size=batch), twin.predict([x, h0, c0]),
                               rtol=TOL, atol=TOL)
    layer.reset_states(states=(h0, c0))
    np.testing.assert_allclose(states_of(layer)[1], c0.astype('float32'))


# --- every entry point carries the states --------------------------------------------------------

def make_pair(batch=2, chunk=3, features=2, units=3):
    """A stateful LSTM model and a stateless twin that returns its final states."""
    model = Sequential([LSTM(units, batch_input_shape=(batch, chunk, features), stateful=True),
                        Dense(1)])
    model.compile('sgd', 'mse')
    inputs = [Input((chunk, features)), Input((units,)), Input((units,))]
    twin_lstm = LSTM(units, return_state=True)
    outputs = twin_lstm(inputs[0], initial_state=inputs[1:])
    twin = Model(inputs, outputs[1:])
    return model, twin, twin_lstm


def expected_states(model, twin, twin_lstm, x, start):
    twin_lstm.set_weights(model.layers[0].get_weights())
    return twin.predict([x] + start, batch_size=len(x))


@pytest.mark.parametrize('entry_point', ['predict', 'predict_on_batch', 'evaluate',
                                         'test_on_batch', 'train_on_batch', 'fit'])
def test_every_entry_point_updates_the_states(entry_point):
    require('batch_input_shape')
    model, twin, twin_lstm = make_pair()
    rng = np.random.RandomState(5)
    x1, x2 = (rng.uniform(-1, 1, (2, 3, 2)).astype('float32') for _ in range(2))
    y = rng.uniform(-1, 1, (2, 1)).astype('float32')
    calls = {'predict': lambda x: model.predict(x, batch_size=2),
             'predict_on_batch': model.predict_on_batch,
             'evaluate': lambda x: model.evaluate(x, y, batch_size=2, verbose=0),
             'test_on_batch': lambda x: model.test_on_batch(x, y),
             'train_on_batch': lambda x: model.train_on_batch(x, y),
             'fit': lambda x: model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)}
    zeros = [np.zeros((2, 3), dtype='float32')] * 2
    # The states after a call are those of the forward pass of that call, which
    # uses the weights from before the call (training updates them afterwards).
    want1 = expected_states(model, twin, twin_lstm, x1, zeros)
    calls[entry_point](x1)
    got1 = states_of(model.layers[0])
    want2 = expected_states(model, twin, twin_lstm, x2, got1)
    calls[entry_point](x2)
    for got, want in zip(got1, want1):
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)
    for got, want in zip(states_of(model.layers[0]), want2):
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)


def test_fit_carries_states_from_batch_to_batch_like_train_on_batch():
    require('batch_input_shape')
    model, _, _ = make_pair()
    clone, _, _ = make_pair()
    clone.set_weights(model.get_weights())
    rng = np.random.RandomState(6)
    x = rng.uniform(-1, 1, (6, 3, 2)).astype('float32')
    y = rng.uniform(-1, 1, (6, 1)).astype('float32')
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    for start in (0, 2, 4):
        clone.train_on_batch(x[start:start + 2], y[start:start + 2])
    for a, b in zip(model.get_weights() + states_of(model.layers[0]),
                    clone.get_weights() + states_of(clone.layers[0])):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_stateful_embedding_lstm_model_trains():
    require('batch_input_shape')
    model = Sequential([Embedding(10, 4, batch_input_shape=(2, 5)),
                        LSTM(3, stateful=True, dropout=0.2, recurrent_dropout=0.2),
                        Dense(1, activation='sigmoid')])
    model.compile('adam', 'binary_crossentropy', metrics=['acc'])
    rng = np.random.RandomState(7)
    history = model.fit(rng.randint(0, 10, (8, 5)), rng.randint(0, 2, (8, 1)), batch_size=2,
                        epochs=2, shuffle=False, verbose=0)
    assert set(history.history) == {'loss', 'acc'}
    assert np.abs(states_of(model.layers[1])[0]).max() > 0


# --- bad input -----------------------------------------------------------------------------------

def test_stateful_layer_without_fixed_batch_size_is_refused():
    with pytest.raises(ValueError, match='stateful.*batch size'):
        Sequential([LSTM(3, input_shape=(4, 2), stateful=True)])
    with pytest.raises(ValueError, match='batch_shape'):
        inputs = Input((4, 2))
        GRU(3, stateful=True)(inputs)


@refkeras_only('calls refkeras.layers.recurrent helpers')
def test_check_stateful_batch_refuses_other_batch_sizes():
    require('batch_input_shape')
    model = Sequential([SimpleRNN(2, batch_input_shape=(4, 3, 1), stateful=True)])
    arrays = [np.zeros((8, 3, 1))]
    check_stateful_batch(model, arrays, 4)                    # two full batches
    check_stateful_batch(model, [np.zeros((4, 3, 1))], None)  # one batch
    with pytest.raises(ValueError, match='multiple of it.*10 samples.*2 samples'):
        check_stateful_batch(model, [np.zeros((10, 3, 1))], 4)
    with pytest.raises(ValueError, match='batch_size=8 was requested. Pass batch_size=4'):
        check_stateful_batch(model, arrays, 8)
    with pytest.raises(ValueError, match='exactly 4 samples.*this batch has 3'):
        check_stateful_batch(model, [np.zeros((3, 3, 1))], None)
    stateless = Sequential([SimpleRNN(2, input_shape=(3, 1))])
    check_stateful_batch(stateless, [np.zeros((3, 3, 1))], 2)   # nothing to check
    inputs = Input(batch_shape=(4, 3, 1))
    nested = Model(inputs, model(inputs))
    with pytest.raises(ValueError, match='Layer simple_rnn_.* is stateful'):
        check_stateful_batch(nested, [np.zeros((3, 3, 1))], None)


@refkeras_only("refkeras refuses or warns before any change; Keras 2.2.4 assumes (FAQ: 'all batches have the same number of samples')")
def test_stateful_layer_refuses_a_batch_of_another_size_before_changing_states():
    require('batch_input_shape')
    model = Sequential([LSTM(2, batch_input_shape=(3, 2, 1), stateful=True)])
    layer = model.layers[0]
    model.predict(np.ones((3, 2, 1)), batch_size=3)
    before = states_of(layer)
    with pytest.raises(ValueError, match='stateful'):
        layer.call(np.ones((2, 2, 1), dtype='float32'))
    for a, b in zip(states_of(layer), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('entry_point', [
    # Several batches: only a check before the first batch can keep the states.
    pytest.param('predict', marks=needs_model_hook), pytest.param('fit', marks=needs_model_hook),
    pytest.param('evaluate', marks=needs_model_hook),
    'train_on_batch', 'test_on_batch', 'predict_on_batch'])
@refkeras_only("refkeras refuses or warns before any change; Keras 2.2.4 assumes (FAQ: 'all batches have the same number of samples')")
def test_model_refuses_other_batch_sizes_before_any_change(entry_point):
    require('batch_input_shape')
    model, _, _ = make_pair(batch=2)
    x = np.ones((2, 3, 2), dtype='float32')
    model.predict(x, batch_size=2)
    states, weights = states_of(model.layers[0]), model.get_weights()
    x5, y5 = np.ones((5, 3, 2), dtype='float32'), np.ones((5, 1), dtype='float32')
    calls = {'predict': lambda: model.predict(x5, batch_size=2),
             'fit': lambda: model.fit(x5, y5, batch_size=2, shuffle=False, verbose=0),
             'evaluate': lambda: model.evaluate(x5, y5, batch_size=2, verbose=0),
             'train_on_batch': lambda: model.train_on_batch(x5[:3], y5[:3]),
             'test_on_batch': lambda: model.test_on_batch(x5[:1], y5[:1]),
             'predict_on_batch': lambda: model.predict_on_batch(x5[:4])}
    with pytest.raises(ValueError, match='stateful'):
        calls[entry_point]()
    for a, b in zip(states_of(model.layers[0]) + model.get_weights(), states + weights):
        np.testing.assert_array_equal(a, b)


@refkeras_only('calls refkeras.layers.recurrent helpers')
def test_shuffling_a_stateful_model_warns():
    require('batch_input_shape')
    model, _, _ = make_pair()
    with pytest.warns(UserWarning, match='shuffle=False'):
        warn_if_shuffling_stateful(model, True)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        warn_if_shuffling_stateful(model, False)
        warn_if_shuffling_stateful(Sequential([Dense(1, input_shape=(2,))]), True)


def _fit_warns_when_shuffling_stateful():
    try:
        model, _, _ = make_pair()
    except (TypeError, ValueError):  # Keras 3 has no batch_input_shape
        return False
    x, y = np.ones((2, 3, 2), dtype='float32'), np.ones((2, 1), dtype='float32')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model.fit(x, y, batch_size=2, verbose=0)
    return any('shuffle=False' in str(w.message) for w in caught)


@pytest.mark.xfail(not _fit_warns_when_shuffling_stateful(), strict=True,
                   reason='fit() does not call warn_if_shuffling_stateful yet')
@refkeras_only("refkeras refuses or warns before any change; Keras 2.2.4 assumes (FAQ: 'all batches have the same number of samples')")
def test_fit_with_shuffle_warns_for_a_stateful_model():
    require('batch_input_shape')
    model, _, _ = make_pair()
    x, y = np.ones((2, 3, 2), dtype='float32'), np.ones((2, 1), dtype='float32')
    with pytest.warns(UserWarning, match='shuffle=False'):
        model.fit(x, y, batch_size=2, verbose=0)


@refkeras_only('calls refkeras.layers.recurrent helpers')
def test_data_of_exactly_the_fixed_batch_size_needs_no_batch_size_argument():
    require('batch_input_shape')
    # Keras 2.2.4 batches at most `batch_size` (default 32) samples, so 2
    # samples make one batch of 2: what a batch size fixed at 2 accepts.
    model = Sequential([SimpleRNN(3, batch_input_shape=(2, 4, 1), stateful=True,
                                  kernel_initializer='ones', recurrent_initializer='zeros')])
    model.compile('sgd', 'mse')
    x = np.ones((2, 4, 1))
    first = model.predict(x)
    # No recurrence weight: each step is tanh(x_t) = tanh(1) whatever the state.
    np.testing.assert_allclose(first, np.full((2, 3), np.tanh(1.0)), rtol=1e-6)
    # mse against zeros of tanh(1) everywhere.
    assert model.evaluate(x, np.zeros((2, 3)), verbose=0) == pytest.approx(np.tanh(1.0) ** 2,
                                                                            rel=1e-6)
    model.fit(x, np.zeros((2, 3)), epochs=1, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match='exactly 2 samples.*this batch has 3'):
        check_stateful_batch(model, [np.ones((3, 4, 1))], None)
    with pytest.raises(ValueError, match='multiple of it'):
        model.predict(np.ones((3, 4, 1)), batch_size=2)
