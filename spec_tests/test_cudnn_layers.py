"""CuDNNLSTM and CuDNNGRU: cuDNN's mathematics, on a CPU, and weights that convert.

Keras 2.2.4 runs these layers only through cuDNN on a GPU (its own tests are
skipped elsewhere); these tests cover the same behaviours on the reference.

The expected outputs come from NumPy loops written here from how Keras 2.2.4
hands its weights to cuDNN (`cudnn_recurrent.py`'s `_canonical_to_params`):
each gate's block of the kernel, `kernel[:, gate]` of shape `(input_dim,
units)`, is flattened row by row, and cuDNN reads each flat buffer as its
row-major canonical matrix `W` of shape `(units, input_dim)` (recurrent: `R`,
`(units, units)`), computing `W . x + R . h + b_W + b_R`; the biases are the
first and second halves of `bias`. Gate order in Keras's columns: i, f, c, o
(LSTM) and z, r, h (GRU); cuDNN's equations: sigmoid gates, tanh, and the GRU
candidate `tanh(W_h x + b_Wh + r . (R_h h + b_Rh))`, `h = (1 - z) hh + z h_prev`.

Weight conversion (Keras's `preprocess_weights_for_loading`) is checked by its
consequence: a model saved with one layer type and loaded into the other
predicts the same (to float32 rounding, 1e-5 on O(1) outputs).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refkeras import backend as K
from refkeras.engine.saving.errors import WeightsMismatchError
from refkeras.layers import (GRU, LSTM, Bidirectional, CuDNNGRU, CuDNNLSTM, Embedding, Input,
                             TimeDistributed)
from refkeras.layers import deserialize as deserialize_layer
from refkeras.layers import serialize as serialize_layer
from refkeras.models import Model, Sequential, load_model

H = 1e-6
FORWARD_TOL = 1e-10


class float64(object):
    def __enter__(self):
        self.previous = K.floatx()
        K.set_floatx('float64')

    def __exit__(self, *exc):
        K.set_floatx(self.previous)


def sigmoid(x):
    return 1. / (1. + np.exp(-x))


def canonical(kernel, recurrent_kernel, bias, gates):
    """cuDNN's canonical matrices and biases, read from Keras's buffers as cuDNN reads them."""
    input_dim, columns = kernel.shape
    units = columns // gates
    w = [kernel[:, g * units:(g + 1) * units].reshape(-1).reshape(units, input_dim)
         for g in range(gates)]
    r = [recurrent_kernel[:, g * units:(g + 1) * units].reshape(-1).reshape(units, units)
         for g in range(gates)]
    bw = [bias[g * units:(g + 1) * units] for g in range(gates)]
    br = [bias[(gates + g) * units:(gates + g + 1) * units] for g in range(gates)]
    return w, r, bw, br


def np_cudnn_lstm(x, weights, h, c, go_backwards=False):
    w, r, bw, br = canonical(*weights, gates=4)
    outputs = []
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    for t in steps:
        pre = [x[:, t] @ w[g].T + h @ r[g].T + bw[g] + br[g] for g in range(4)]
        i, f, o = sigmoid(pre[0]), sigmoid(pre[1]), sigmoid(pre[3])
        c = f * c + i * np.tanh(pre[2])
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def np_cudnn_gru(x, weights, h, go_backwards=False):
    w, r, bw, br = canonical(*weights, gates=3)
    outputs = []
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    for t in steps:
        xt = x[:, t]
        z = sigmoid(xt @ w[0].T + bw[0] + h @ r[0].T + br[0])
        reset = sigmoid(xt @ w[1].T + bw[1] + h @ r[1].T + br[1])
        candidate = np.tanh(xt @ w[2].T + bw[2] + reset * (h @ r[2].T + br[2]))
        h = (1. - z) * candidate + z * h
        outputs.append(h)
    return np.stack(outputs, axis=1), h


@st.composite
def cases(draw):
    return {'batch': draw(st.integers(1, 3)), 'time': draw(st.integers(1, 4)),
            'input_dim': draw(st.integers(1, 4)), 'units': draw(st.integers(1, 3)),
            'go_backwards': draw(st.booleans()),
            'rng': np.random.RandomState(draw(st.integers(0, 2 ** 16)))}


def _built(cls, case, **kwargs):
    layer = cls(case['units'], go_backwards=case['go_backwards'], **kwargs)
    layer.build((case['batch'], case['time'], case['input_dim']))
    layer.set_weights([case['rng'].uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()])
    return layer


@settings(max_examples=30, deadline=None)
@given(case=cases())
def test_cudnn_lstm_computes_cudnns_equations_from_keras_weights(case):
    with float64():
        layer = _built(CuDNNLSTM, case, return_sequences=True, return_state=True)
        rng = case['rng']
        x = rng.uniform(-1, 1, (case['batch'], case['time'], case['input_dim']))
        h0, c0 = [rng.uniform(-1, 1, (case['batch'], case['units'])) for _ in range(2)]
        expected, h, c = np_cudnn_lstm(x, layer.get_weights(), h0, c0, case['go_backwards'])
        outputs, last_h, last_c = layer(K.constant(x),
                                        initial_state=[K.constant(h0), K.constant(c0)])
        np.testing.assert_allclose(K.eval(outputs), expected, atol=FORWARD_TOL)
        np.testing.assert_allclose(K.eval(last_h), h, atol=FORWARD_TOL)
        np.testing.assert_allclose(K.eval(last_c), c, atol=FORWARD_TOL)


@settings(max_examples=30, deadline=None)
@given(case=cases())
def test_cudnn_gru_computes_cudnns_reset_after_equations_from_keras_weights(case):
    with float64():
        layer = _built(CuDNNGRU, case, return_sequences=True, return_state=True)
        rng = case['rng']
        x = rng.uniform(-1, 1, (case['batch'], case['time'], case['input_dim']))
        h0 = rng.uniform(-1, 1, (case['batch'], case['units']))
        expected, h = np_cudnn_gru(x, layer.get_weights(), h0, case['go_backwards'])
        outputs, last_h = layer(K.constant(x), initial_state=[K.constant(h0)])
        np.testing.assert_allclose(K.eval(outputs), expected, atol=FORWARD_TOL)
        np.testing.assert_allclose(K.eval(last_h), h, atol=FORWARD_TOL)


def _check_gradients(forward, variables):
    probe = [np.asarray(K.value_of(o)) for o in forward()]
    rng = np.random.RandomState(11)
    cotangents = [rng.uniform(-1, 1, p.shape) for p in probe]

    def loss_value():
        return sum(float(np.sum(np.asarray(K.value_of(o)) * g))
                   for o, g in zip(forward(), cotangents))

    with K.GradientTape(variables) as tape:
        loss = None
        for o, g in zip(forward(), cotangents):
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
        # Smooth functions (sigmoid, tanh) of O(1) values: truncation ~1e-12,
        # rounding ~1e-9 (see test_recurrent_layers.py for the same bound).
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6,
                                   err_msg='gradient of %s' % variable.name)


@settings(max_examples=10, deadline=None)
@given(case=cases(), cls=st.sampled_from([CuDNNLSTM, CuDNNGRU]))
def test_backpropagation_through_time_matches_finite_differences(case, cls):
    with float64():
        layer = _built(cls, case, return_sequences=True, return_state=True)
        rng = case['rng']
        x = K.variable(rng.uniform(-1, 1, (case['batch'], case['time'], case['input_dim'])))
        states = [K.variable(rng.uniform(-1, 1, (case['batch'], case['units'])))
                  for _ in range(2 if cls is CuDNNLSTM else 1)]
        _check_gradients(lambda: layer(x, initial_state=list(states)),
                         layer.trainable_weights + [x] + states)


# --- weights: layout, names, counts, conversion -----------------------------------------------------

def test_weights_have_keras_shapes_names_and_parameter_counts():
    K.clear_session()
    model = Sequential([CuDNNLSTM(5, input_shape=(None, 7)), ])
    layer = model.layers[0]
    assert [w.name for w in layer.weights] == ['cu_dnnlstm_1/kernel:0',
                                               'cu_dnnlstm_1/recurrent_kernel:0',
                                               'cu_dnnlstm_1/bias:0']
    assert [tuple(w.shape) for w in layer.weights] == [(7, 20), (5, 20), (40,)]
    assert layer.count_params() == 4 * (7 * 5 + 5 * 5) + 8 * 5 == 280
    gru = Sequential([CuDNNGRU(5, input_shape=(None, 7))]).layers[0]
    assert gru.name == 'cu_dnngru_1'
    assert [tuple(w.shape) for w in gru.weights] == [(7, 15), (5, 15), (30,)]
    assert gru.count_params() == 3 * (7 * 5 + 5 * 5) + 6 * 5 == 210
    # The same counts as the LSTM / GRU(reset_after=True) they convert to, plus
    # one more bias vector for the LSTM.
    assert Sequential([LSTM(5, input_shape=(None, 7))]).count_params() == 280 - 4 * 5
    assert Sequential([GRU(5, reset_after=True, input_shape=(None, 7))]).count_params() == 210


def test_unit_forget_bias_sets_the_recurrent_forget_bias_to_one():
    layer = CuDNNLSTM(2)
    layer.build((None, None, 3))
    np.testing.assert_array_equal(K.get_value(layer.bias),
                                  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0])


@pytest.mark.parametrize('rnn', ['LSTM', 'GRU'])
@pytest.mark.parametrize('to_cudnn', [False, True])
@pytest.mark.parametrize('wrapper', [None, 'Bidirectional', 'nested'])
def test_weights_saved_by_one_layer_kind_load_into_the_other_and_predict_the_same(
        rnn, to_cudnn, wrapper, tmp_path):
    rng = np.random.RandomState(0)
    x = rng.uniform(size=(4, 5, 3)).astype('float32')
    if rnn == 'LSTM':
        plain = LSTM(2, recurrent_activation='sigmoid', bias_initializer='random_uniform')
        cudnn = CuDNNLSTM(2, bias_initializer='random_uniform')
    else:
        plain = GRU(2, recurrent_activation='sigmoid', reset_after=True,
                    bias_initializer='random_uniform')
        cudnn = CuDNNGRU(2, bias_initializer='random_uniform')
    models = []
    for layer in (plain, cudnn):
        if wrapper == 'Bidirectional':
            layer = Bidirectional(layer)
        inputs = Input((5, 3))
        model = Model(inputs, layer(inputs))
        if wrapper == 'nested':
            outer_inputs = Input((5, 3))
            model = Model(outer_inputs, model(outer_inputs))
        models.append(model)
    source, target = (models[0], models[1]) if to_cudnn else (models[1], models[0])
    path = str(tmp_path / 'weights.h5')
    source.save_weights(path)
    target.load_weights(path)
    np.testing.assert_allclose(target.predict(x), source.predict(x), atol=1e-5)


@pytest.mark.parametrize('rnn', ['LSTM', 'GRU'])
def test_a_whole_model_trained_with_cudnn_layers_loads_and_predicts_on_the_cpu(rnn, tmp_path):
    cls = CuDNNLSTM if rnn == 'LSTM' else CuDNNGRU
    rng = np.random.RandomState(1)
    x = rng.uniform(size=(8, 4, 3)).astype('float32')
    y = rng.uniform(size=(8, 2)).astype('float32')
    model = Sequential([cls(2, input_shape=(4, 3))])
    model.compile('adam', 'mse')
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    path = str(tmp_path / 'model.h5')
    model.save(path)
    again = load_model(path)
    assert type(again.layers[0]) is cls
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_time_distributed_cudnn_weights_convert_too(tmp_path):
    x = np.random.RandomState(2).uniform(size=(2, 3, 4, 5)).astype('float32')
    models = []
    for layer in (LSTM(2, recurrent_activation='sigmoid', bias_initializer='random_uniform'),
                  CuDNNLSTM(2)):
        inputs = Input((3, 4, 5))
        models.append(Model(inputs, TimeDistributed(layer)(inputs)))
    path = str(tmp_path / 'td.h5')
    models[0].save_weights(path)
    models[1].load_weights(path)
    np.testing.assert_allclose(models[1].predict(x), models[0].predict(x), atol=1e-5)


def test_cudnn_gru_weights_into_a_reset_before_gru_are_refused_before_any_weight_changes(
        tmp_path):
    source = Sequential([CuDNNGRU(3, input_shape=(4, 2))])
    path = str(tmp_path / 'gru.h5')
    source.save_weights(path)
    target = Sequential([GRU(3, input_shape=(4, 2))])
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ValueError) as info:
        target.load_weights(path)
    message = str(info.value)
    assert target.layers[0].name in message and 'reset_after=True' in message
    assert 'CuDNNGRU' in message
    for old, new in zip(before, target.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize('source_cls, target_cls', [(CuDNNLSTM, LSTM), (LSTM, CuDNNLSTM),
                                                    (CuDNNGRU, CuDNNGRU)])
def test_cudnn_weights_of_the_wrong_size_are_refused_naming_layer_and_shapes(
        source_cls, target_cls, tmp_path):
    source = Sequential([source_cls(3, input_shape=(4, 2))])
    path = str(tmp_path / 'w.h5')
    source.save_weights(path)
    target = Sequential([target_cls(2, input_shape=(4, 2))])
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(WeightsMismatchError) as info:
        target.load_weights(path)
    message = str(info.value)
    assert target.layers[0].name in message and 'has shape' in message
    for old, new in zip(before, target.get_weights()):
        np.testing.assert_array_equal(old, new)


# --- the RNN behaviours Keras tests on a GPU only ---------------------------------------------------

@pytest.mark.parametrize('cls', [CuDNNLSTM, CuDNNGRU])
def test_stateful_cudnn_layer_continues_from_its_last_states(cls):
    rng = np.random.RandomState(3)
    x = rng.uniform(size=(2, 6, 3)).astype('float32')
    whole = Sequential([cls(2, return_sequences=True, batch_input_shape=(2, 6, 3))])
    halves = Sequential([cls(2, return_sequences=True, stateful=True,
                             batch_input_shape=(2, 3, 3))])
    halves.set_weights(whole.get_weights())
    expected = whole.predict(x)
    got = np.concatenate([halves.predict(x[:, :3]), halves.predict(x[:, 3:])], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    halves.reset_states()
    np.testing.assert_allclose(halves.predict(x[:, :3]), expected[:, :3], atol=1e-6)


@pytest.mark.parametrize('cls', [CuDNNLSTM, CuDNNGRU])
def test_trainable_false_moves_all_three_weights_to_non_trainable(cls):
    layer = cls(2)
    layer.build((None, None, 10))
    assert len(layer.trainable_weights) == 3 and not layer.non_trainable_weights
    layer.trainable = False
    assert len(layer.non_trainable_weights) == 3 and not layer.trainable_weights


@pytest.mark.parametrize('cls', [CuDNNLSTM, CuDNNGRU])
def test_config_round_trips_and_has_keras_keys(cls):
    layer = cls(3, return_sequences=True, go_backwards=True, stateful=False,
                kernel_regularizer='l2')
    config = layer.get_config()
    assert {'units', 'return_sequences', 'return_state', 'go_backwards', 'stateful',
            'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
            'kernel_regularizer', 'activity_regularizer'} <= set(config)
    assert 'cell' not in config and 'unroll' not in config
    again = deserialize_layer(serialize_layer(layer))
    assert type(again) is cls and again.get_config() == config


def test_bidirectional_and_embedding_into_cudnn_layers_train():
    x = np.random.RandomState(4).randint(0, 10, (4, 5))
    y = np.random.RandomState(5).uniform(size=(4, 4)).astype('float32')
    model = Sequential([Embedding(10, 3, input_length=5),
                        Bidirectional(CuDNNGRU(2, return_sequences=True)),
                        Bidirectional(CuDNNLSTM(2))])
    model.compile('sgd', 'mse')
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    assert np.isfinite(history.history['loss']).all()


def test_bad_input_rank_is_a_clear_error_naming_the_layer():
    with pytest.raises(ValueError) as info:
        Sequential([CuDNNLSTM(2, input_shape=(4, 4, 1))])
    assert 'cu_dnnlstm' in str(info.value) and 'ndim=3' in str(info.value)
    with pytest.raises(ValueError) as info:
        CuDNNGRU(0)
    assert 'units' in str(info.value)


def _parse_cudnn_buffer(buffer, shapes):
    """Cuts cuDNN's flat parameter buffer into row-major matrices/vectors of `shapes`."""
    pieces, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        pieces.append(buffer[start:start + size].reshape(shape))
        start += size
    assert start == buffer.size
    return pieces


def test_the_buffer_keras_hands_to_cudnn_drives_cudnns_lstm_to_the_layers_outputs():
    """Keras 2.2.4's `_canonical_to_params` with its gate attributes, in cuDNN's order
    (i, f, c, o), read back as cuDNN reads it, computes what the layer computes."""
    with float64():
        units, input_dim = 2, 3
        layer = CuDNNLSTM(units, return_sequences=True)
        layer.build((None, None, input_dim))
        rng = np.random.RandomState(8)
        layer.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()])
        params = K.eval(layer._canonical_to_params(
            weights=[layer.kernel_i, layer.kernel_f, layer.kernel_c, layer.kernel_o,
                     layer.recurrent_kernel_i, layer.recurrent_kernel_f,
                     layer.recurrent_kernel_c, layer.recurrent_kernel_o],
            biases=[layer.bias_i_i, layer.bias_f_i, layer.bias_c_i, layer.bias_o_i,
                    layer.bias_i, layer.bias_f, layer.bias_c, layer.bias_o]))
        w_ = _parse_cudnn_buffer(params, [(units, input_dim)] * 4 + [(units, units)] * 4 +
                                 [(units,)] * 8)
        w, r, bw, br = w_[:4], w_[4:8], w_[8:12], w_[12:]
        x = rng.uniform(-1, 1, (2, 3, input_dim))
        h = c = np.zeros((2, units))
        expected = []
        for t in range(3):
            pre = [x[:, t] @ w[g].T + h @ r[g].T + bw[g] + br[g] for g in range(4)]
            c = sigmoid(pre[1]) * c + sigmoid(pre[0]) * np.tanh(pre[2])
            h = sigmoid(pre[3]) * np.tanh(c)
            expected.append(h)
        np.testing.assert_allclose(K.eval(layer(K.constant(x))), np.stack(expected, 1),
                                   atol=FORWARD_TOL)


def test_the_buffer_keras_hands_to_cudnn_drives_cudnns_gru_to_the_layers_outputs():
    """The same for CuDNNGRU, whose buffer Keras fills in cuDNN's order r, z, h."""
    with float64():
        units, input_dim = 3, 2
        layer = CuDNNGRU(units, return_sequences=True)
        layer.build((None, None, input_dim))
        rng = np.random.RandomState(9)
        layer.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()])
        params = K.eval(layer._canonical_to_params(
            weights=[layer.kernel_r, layer.kernel_z, layer.kernel_h, layer.recurrent_kernel_r,
                     layer.recurrent_kernel_z, layer.recurrent_kernel_h],
            biases=[layer.bias_r_i, layer.bias_z_i, layer.bias_h_i, layer.bias_r,
                    layer.bias_z, layer.bias_h]))
        w_ = _parse_cudnn_buffer(params, [(units, input_dim)] * 3 + [(units, units)] * 3 +
                                 [(units,)] * 6)
        (w_r, w_z, w_h), (r_r, r_z, r_h) = w_[:3], w_[3:6]
        (b_r, b_z, b_h), (rb_r, rb_z, rb_h) = w_[6:9], w_[9:]
        x = rng.uniform(-1, 1, (2, 4, input_dim))
        h = np.zeros((2, units))
        expected = []
        for t in range(4):
            xt = x[:, t]
            reset = sigmoid(xt @ w_r.T + b_r + h @ r_r.T + rb_r)
            update = sigmoid(xt @ w_z.T + b_z + h @ r_z.T + rb_z)
            candidate = np.tanh(xt @ w_h.T + b_h + reset * (h @ r_h.T + rb_h))
            h = (1 - update) * candidate + update * h
            expected.append(h)
        np.testing.assert_allclose(K.eval(layer(K.constant(x))), np.stack(expected, 1),
                                   atol=FORWARD_TOL)
