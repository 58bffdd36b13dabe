"""ConvLSTM2D against a NumPy loop of convolutions, and its BPTT gradients.

The expected values come from a direct NumPy implementation written here: a
2D correlation by explicit loops over output positions (TensorFlow's 'same'
padding: total `max((out - 1) * stride + (k - 1) * dilation + 1 - n, 0)`, the
smaller half before), and the ConvLSTM equations of Shi et al. (2015) as
Keras 2.2.4 computes them (gates i, f, c, o read from consecutive blocks of
`filters` columns of the kernels; the recurrent convolution has stride 1 and
'same' padding; masked timesteps keep the states and repeat the previous
output).

Gradients (backpropagation through time) are compared with central finite
differences in float64, step 1e-6. Weights in [-0.3, 0.3], inputs in [-1, 1]
and at most 2x2x2 kernels over 2 channels keep every pre-activation inside
(-2.5, 2.5), where hard_sigmoid is linear (no kink within a step), so the
function is smooth and the truncation error `H**2 |f'''| / 6` is ~1e-12; the
rounding error of a loss of a few dozen O(1) terms over `2 H` is ~1e-9.
Tolerance: `1e-6 + 1e-6 |numeric|`.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refkeras import backend as K
from refkeras.layers import ConvLSTM2D, ConvLSTM2DCell, Input
from refkeras.layers import deserialize as deserialize_layer
from refkeras.layers import serialize as serialize_layer
from refkeras.models import Model, Sequential

H = 1e-6
FORWARD_TOL = 1e-10


class float64(object):
    def __enter__(self):
        self.previous = K.floatx()
        K.set_floatx('float64')

    def __exit__(self, *exc):
        K.set_floatx(self.previous)


# --- the NumPy reference ------------------------------------------------------------------------

def np_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def np_conv2d(x, kernel, strides, padding, dilation=(1, 1)):
    """Correlation of channels-last `x` (batch, rows, cols, ch) with `kernel` (kr, kc, ch, out)."""
    batch, rows, cols, _ = x.shape
    kr, kc, _, out_ch = kernel.shape
    spans = [(kr - 1) * dilation[0] + 1, (kc - 1) * dilation[1] + 1]
    if padding == 'same':
        outs = [-(-rows // strides[0]), -(-cols // strides[1])]
        pads = [max((o - 1) * s + span - n, 0)
                for o, s, span, n in zip(outs, strides, spans, (rows, cols))]
        x = np.pad(x, ((0, 0), (pads[0] // 2, pads[0] - pads[0] // 2),
                       (pads[1] // 2, pads[1] - pads[1] // 2), (0, 0)))
    else:
        outs = [(rows - spans[0]) // strides[0] + 1, (cols - spans[1]) // strides[1] + 1]
    out = np.zeros((batch, outs[0], outs[1], out_ch))
    for i in range(outs[0]):
        for j in range(outs[1]):
            for a in range(kr):
                for b in range(kc):
                    pixel = x[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]]
                    out[:, i, j] += pixel @ kernel[a, b]
    return out


def np_conv_lstm(x, kernel, recurrent_kernel, bias, h0, c0, strides, padding, dilation,
                 data_format, go_backwards=False, mask=None):
    """Outputs `(batch, time, ...)` and last states of ConvLSTM2D, channels in `data_format`."""
    if data_format == 'channels_first':
        x = np.transpose(x, (0, 1, 3, 4, 2))
        h0, c0 = np.transpose(h0, (0, 2, 3, 1)), np.transpose(c0, (0, 2, 3, 1))
    f = recurrent_kernel.shape[2]
    h, c = h0, c0
    outputs = []
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    previous_output = h0
    for t in order:
        z = np_conv2d(x[:, t], kernel, strides, padding, dilation) + \
            np_conv2d(h, recurrent_kernel, (1, 1), 'same')
        if bias is not None:
            z = z + bias
        i = np_hard_sigmoid(z[..., :f])
        fg = np_hard_sigmoid(z[..., f:2 * f])
        new_c = fg * c + i * np.tanh(z[..., 2 * f:3 * f])
        o = np_hard_sigmoid(z[..., 3 * f:])
        new_h = o * np.tanh(new_c)
        if mask is not None:
            keep = mask[:, t].reshape(-1, 1, 1, 1)
            new_h = np.where(keep, new_h, h)
            new_c = np.where(keep, new_c, c)
            out = np.where(keep, new_h, previous_output)
        else:
            out = new_h
        h, c = new_h, new_c
        previous_output = out
        outputs.append(out)
    outputs = np.stack(outputs, axis=1)
    if data_format == 'channels_first':
        outputs = np.transpose(outputs, (0, 1, 4, 2, 3))
        h, c = np.transpose(h, (0, 3, 1, 2)), np.transpose(c, (0, 3, 1, 2))
    return outputs, h, c


# --- cases ---------------------------------------------------------------------------------------

@st.composite
def conv_lstm_cases(draw, small=False):
    kernel = tuple(draw(st.integers(1, 2 if small else 3)) for _ in range(2))
    padding = draw(st.sampled_from(['valid', 'same']))
    strides = (1, 1) if small else tuple(draw(st.integers(1, 2)) for _ in range(2))
    dilation = (1, 1)
    if not small and strides == (1, 1) and draw(st.booleans()):
        dilation = (2, 1)
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    image = tuple(s + draw(st.integers(0, 1 if small else 2)) for s in spans)
    time = draw(st.integers(1, 2 if small else 3))
    batch = draw(st.integers(1, 2))
    mask = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.lists(st.booleans(), min_size=time, max_size=time),
                                      min_size=batch, max_size=batch)))
    return {'kernel_size': kernel, 'padding': padding, 'strides': strides,
            'dilation_rate': dilation, 'image': image, 'time': time, 'batch': batch,
            'channels': draw(st.integers(1, 2)), 'filters': draw(st.integers(1, 2)),
            'data_format': draw(st.sampled_from(['channels_last', 'channels_first'])),
            'go_backwards': draw(st.booleans()), 'use_bias': draw(st.booleans()),
            'mask': mask, 'rng': np.random.RandomState(draw(st.integers(0, 2 ** 16)))}


def _input_shape(case):
    if case['data_format'] == 'channels_first':
        return (case['batch'], case['time'], case['channels']) + case['image']
    return (case['batch'], case['time']) + case['image'] + (case['channels'],)


def _layer(case, **kwargs):
    layer = ConvLSTM2D(case['filters'], case['kernel_size'], strides=case['strides'],
                       padding=case['padding'], dilation_rate=case['dilation_rate'],
                       data_format=case['data_format'], go_backwards=case['go_backwards'],
                       use_bias=case['use_bias'], **kwargs)
    layer.build(_input_shape(case))
    scale = 0.3
    layer.set_weights([case['rng'].uniform(-scale, scale, w.shape) for w in layer.get_weights()])
    return layer


def _initial_states(case, layer):
    shape = _input_shape(case)
    shape = layer.cell.state_shape(shape[:1] + shape[2:])
    return [case['rng'].uniform(-1, 1, shape) for _ in range(2)]


@settings(max_examples=30, deadline=None)
@given(case=conv_lstm_cases())
def test_conv_lstm_2d_equals_a_numpy_loop_of_convolutions(case):
    with float64():
        layer = _layer(case, return_sequences=True, return_state=True)
        x = case['rng'].uniform(-1, 1, _input_shape(case))
        h0, c0 = _initial_states(case, layer)
        weights = layer.get_weights()
        kernel, recurrent = weights[0], weights[1]
        bias = weights[2] if case['use_bias'] else None
        expected, h, c = np_conv_lstm(x, kernel, recurrent, bias, h0, c0, case['strides'],
                                      case['padding'], case['dilation_rate'],
                                      case['data_format'], case['go_backwards'], case['mask'])
        outputs, last_h, last_c = layer(K.constant(x), mask=case['mask'],
                                        initial_state=[K.constant(h0), K.constant(c0)])
        np.testing.assert_allclose(K.eval(outputs), expected, atol=FORWARD_TOL)
        np.testing.assert_allclose(K.eval(last_h), h, atol=FORWARD_TOL)
        np.testing.assert_allclose(K.eval(last_c), c, atol=FORWARD_TOL)
        assert layer.compute_output_shape(x.shape)[0] == expected.shape


def test_without_initial_states_the_states_start_at_zero_and_return_sequences_false_is_the_last():
    with float64():
        case = {'filters': 2, 'kernel_size': (2, 2), 'strides': (1, 1), 'padding': 'valid',
                'dilation_rate': (1, 1), 'data_format': 'channels_last', 'go_backwards': False,
                'use_bias': True, 'batch': 2, 'time': 3, 'image': (3, 4), 'channels': 1,
                'rng': np.random.RandomState(5)}
        layer = _layer(case)
        x = case['rng'].uniform(-1, 1, _input_shape(case))
        zeros = np.zeros((2, 2, 3, 2))
        w = layer.get_weights()
        expected, _, _ = np_conv_lstm(x, w[0], w[1], w[2], zeros, zeros, (1, 1), 'valid',
                                      (1, 1), 'channels_last')
        np.testing.assert_allclose(K.eval(layer(K.constant(x))), expected[:, -1],
                                   atol=FORWARD_TOL)


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
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6,
                                   err_msg='gradient of %s' % variable.name)


@settings(max_examples=6, deadline=None)
@given(case=conv_lstm_cases(small=True), return_sequences=st.booleans())
def test_backpropagation_through_time_matches_finite_differences(case, return_sequences):
    with float64():
        layer = _layer(case, return_sequences=return_sequences, return_state=True)
        x = K.variable(case['rng'].uniform(-1, 1, _input_shape(case)), name='x')
        states = [K.variable(s, name='state_%d' % i)
                  for i, s in enumerate(_initial_states(case, layer))]
        mask = case['mask']
        _check_gradients(lambda: layer(x, mask=mask, initial_state=list(states)),
                         layer.trainable_weights + [x] + states)


def test_stateful_layer_continues_from_its_last_states():
    """Two stateful calls on halves of a sequence give the one call on the whole."""
    rng = np.random.RandomState(2)
    x = rng.uniform(-1, 1, (2, 4, 3, 3, 1)).astype('float32')
    whole = Sequential([ConvLSTM2D(2, (2, 2), padding='same', return_sequences=True,
                                   batch_input_shape=(2, 4, 3, 3, 1))])
    halves = Sequential([ConvLSTM2D(2, (2, 2), padding='same', return_sequences=True,
                                    stateful=True, batch_input_shape=(2, 2, 3, 3, 1))])
    halves.set_weights(whole.get_weights())
    expected = whole.predict(x)
    first = halves.predict(x[:, :2])
    second = halves.predict(x[:, 2:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), expected, atol=1e-6)
    halves.reset_states()
    np.testing.assert_allclose(halves.predict(x[:, :2]), first, atol=1e-6)
    layer = halves.layers[0]
    assert [K.int_shape(s) for s in layer.states] == [(2, 3, 3, 2)] * 2


def test_stateful_reset_states_with_values_checks_their_shape_before_changing_anything():
    layer = ConvLSTM2D(2, (2, 2), stateful=True, batch_input_shape=(1, 2, 3, 3, 1))
    Sequential([layer])
    before = [K.get_value(s).copy() for s in layer.states]
    with pytest.raises(ValueError) as info:
        layer.reset_states([np.ones((1, 2, 2, 2)), np.ones((1, 3, 3, 2))])
    assert 'expected shape=(1, 2, 2, 2)' in str(info.value) and layer.name in str(info.value)
    for old, new in zip(before, layer.states):
        np.testing.assert_array_equal(old, K.get_value(new))
    layer.reset_states([np.ones((1, 2, 2, 2)), 2 * np.ones((1, 2, 2, 2))])
    np.testing.assert_array_equal(K.get_value(layer.states[1]), 2 * np.ones((1, 2, 2, 2)))


def test_dropout_applies_only_in_training_and_draws_a_mask_per_gate():
    rng = np.random.RandomState(4)
    x = K.constant(rng.uniform(-1, 1, (2, 3, 4, 4, 2)))
    plain = ConvLSTM2D(3, (3, 3), padding='same')
    plain.build((2, 3, 4, 4, 2))
    dropped = ConvLSTM2D(3, (3, 3), padding='same', dropout=0.5, recurrent_dropout=0.5)
    dropped.build((2, 3, 4, 4, 2))
    dropped.set_weights(plain.get_weights())
    np.testing.assert_allclose(K.eval(dropped(x, training=False)), K.eval(plain(x)), atol=1e-6)
    trained = K.eval(dropped(x, training=True))
    assert np.abs(trained - K.eval(plain(x))).max() > 1e-3
    assert trained.shape == (2, 4, 4, 3)


def test_a_fully_masked_sample_keeps_its_zero_initial_state():
    x = np.random.RandomState(1).uniform(size=(2, 3, 3, 3, 1)).astype('float32')
    x[1] = 0.
    inputs = Input((3, 3, 3, 1))
    layer = ConvLSTM2D(2, (2, 2), padding='same')
    model = Model(inputs, layer(inputs))
    mask = np.array([[1, 1, 1], [0, 0, 0]], bool)
    out = K.eval(layer(K.constant(x), mask=mask))
    np.testing.assert_array_equal(out[1], np.zeros((3, 3, 2)))
    assert np.abs(out[0]).max() > 0
    assert model.output_shape == (None, 3, 3, 2)


def test_parameter_counts_are_keras_ones():
    # The first two layers of Keras 2.2.4's examples/conv_lstm.py: 59,200 and 115,360.
    K.clear_session()
    model = Sequential()
    model.add(ConvLSTM2D(40, (3, 3), input_shape=(None, 40, 40, 1), padding='same',
                         return_sequences=True))
    model.add(ConvLSTM2D(40, (3, 3), padding='same', return_sequences=True))
    assert [layer.count_params() for layer in model.layers] == [
        4 * 40 * (3 * 3 * 1 + 3 * 3 * 40 + 1), 4 * 40 * (3 * 3 * 40 + 3 * 3 * 40 + 1)]
    assert [layer.count_params() for layer in model.layers] == [59200, 115360]
    assert model.output_shape == (None, None, 40, 40, 40)
    names = [w.name for w in model.layers[0].weights]
    assert names == ['conv_lst_m2d_1/kernel:0', 'conv_lst_m2d_1/recurrent_kernel:0',
                     'conv_lst_m2d_1/bias:0']


def test_unit_forget_bias_starts_the_forget_gate_at_one():
    layer = ConvLSTM2D(3, (2, 2), bias_initializer='zeros')
    layer.build((None, 2, 4, 4, 1))
    np.testing.assert_array_equal(K.get_value(layer.cell.bias),
                                  [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_config_round_trip_and_cell_attributes():
    layer = ConvLSTM2D(3, 2, strides=2, padding='same', data_format='channels_first',
                       dropout=0.25, recurrent_activation='sigmoid', return_sequences=True)
    config = layer.get_config()
    assert config['kernel_size'] == (2, 2) and config['strides'] == (2, 2)
    assert 'cell' not in config
    again = deserialize_layer(serialize_layer(layer))
    assert again.get_config() == config
    assert again.filters == 3 and again.dropout == 0.25 and again.data_format == 'channels_first'
    cell = ConvLSTM2DCell(2, (3, 3))
    assert ConvLSTM2DCell.from_config(cell.get_config()).get_config() == cell.get_config()


@pytest.mark.parametrize('make, error, message', [
    (lambda: ConvLSTM2D(2, (5, 5), input_shape=(3, 4, 4, 1)), ValueError,
     'larger than the input'),
    (lambda: ConvLSTM2D(2, (3, 3), input_shape=(4, 4, 1)), ValueError, 'expected ndim=5'),
    (lambda: ConvLSTM2D(2, (3, 3), stateful=True, input_shape=(3, 4, 4, 1)), ValueError,
     'batch size'),
    (lambda: ConvLSTM2D(2, (3, 3), unroll=True, input_shape=(3, 4, 4, 1)), TypeError,
     'Unrolling'),
])
def test_bad_input_is_a_clear_error(make, error, message):
    with pytest.raises(error) as info:
        Sequential([make()])
    assert message in str(info.value)


def test_initial_states_of_the_wrong_shape_are_refused_naming_the_layer():
    layer = ConvLSTM2D(2, (2, 2))
    layer.build((1, 2, 3, 3, 1))
    x = K.constant(np.zeros((1, 2, 3, 3, 1)))
    with pytest.raises(ValueError) as info:
        layer(x, initial_state=[K.constant(np.zeros((1, 3, 3, 2)))] * 2)
    assert layer.name in str(info.value) and '(1, 2, 2, 2)' in str(info.value)


def test_a_stateful_model_runs_a_single_batch_of_its_size_with_the_default_batch_size():
    """As in Keras 2.2.4 (whose default batch size is 32): one batch holding all the
    samples is fine when it has the layer's fixed batch size, and refused otherwise."""
    model = Sequential([ConvLSTM2D(2, (2, 2), stateful=True, batch_input_shape=(1, 2, 3, 3, 1))])
    model.compile('sgd', 'mse')
    assert model.predict(np.ones((1, 2, 3, 3, 1))).shape == (1, 2, 2, 2)
    before = [K.get_value(s).copy() for s in model.layers[0].states]
    with pytest.raises(ValueError) as info:
        model.fit(np.ones((3, 2, 3, 3, 1)), np.ones((3, 2, 2, 2)), verbose=0)
    assert 'fixed batch size of 1' in str(info.value)
    for old, new in zip(before, model.layers[0].states):
        np.testing.assert_array_equal(old, K.get_value(new))


def test_the_cell_names_each_gates_part_of_the_weights_as_keras():
    layer = ConvLSTM2D(3, (2, 2))
    layer.build((None, 2, 4, 4, 2))
    cell = layer.cell
    kernel = K.get_value(cell.kernel)
    for index, gate in enumerate('ifco'):
        np.testing.assert_array_equal(K.eval(getattr(cell, 'kernel_' + gate)),
                                      kernel[..., 3 * index:3 * index + 3])
        assert K.int_shape(getattr(cell, 'recurrent_kernel_' + gate)) == (2, 2, 3, 3)
    np.testing.assert_array_equal(K.eval(cell.bias_f), [1, 1, 1])
    no_bias = ConvLSTM2D(3, (2, 2), use_bias=False)
    no_bias.build((None, 2, 4, 4, 2))
    assert no_bias.cell.bias_i is None
