"""LocallyConnected1D and LocallyConnected2D against direct NumPy loops.

The expected outputs are computed here, one output position at a time, from
Keras 2.2.4's weight layout as its documentation and `local.py` describe it:
position `p` (row-major over the output) has the kernel `kernel[p]`, a matrix
`(patch features, filters)` whose rows list the patch's values in (rows, cols,
channels) order for channels_last and (channels, rows, cols) for
channels_first; the bias `(output sizes..., filters)` is added to
channels_last outputs as is and, as Keras's `bias_add` does with a
multi-axis bias, reshaped (not transposed) to `(filters, output sizes...)`
for channels_first outputs.

Gradients are compared with central finite differences in float64 (step 1e-6;
the layer is linear in each of kernel, bias and input, so the truncation
error is zero and only rounding, ~1e-10 here, remains; tolerance 1e-7).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refkeras import backend as K
from refkeras.layers import Input, LocallyConnected1D, LocallyConnected2D
from refkeras.models import Model, Sequential

H = 1e-6
FORWARD_TOL = 1e-10


def float64(fn):
    def wrapped(*args, **kwargs):
        previous = K.floatx()
        K.set_floatx('float64')
        try:
            return fn(*args, **kwargs)
        finally:
            K.set_floatx(previous)
    wrapped.__name__ = fn.__name__
    return wrapped


def np_local_1d(x, kernel, bias, window, stride, data_format):
    if data_format == 'channels_first':
        x = np.transpose(x, (0, 2, 1))                       # (batch, steps, channels)
    length = kernel.shape[0]
    out = np.zeros((x.shape[0], length, kernel.shape[-1]))
    for t in range(length):
        patch = x[:, t * stride:t * stride + window, :]     # (batch, window, channels)
        if data_format == 'channels_first':
            patch = np.transpose(patch, (0, 2, 1))           # (batch, channels, window)
        out[:, t, :] = patch.reshape(x.shape[0], -1) @ kernel[t]
    if data_format == 'channels_first':
        out = np.transpose(out, (0, 2, 1))
        if bias is not None:
            out = out + bias.reshape((1, bias.shape[-1]) + bias.shape[:-1])
    elif bias is not None:
        out = out + bias
    return out


def np_local_2d(x, kernel, bias, window, strides, out_size, data_format):
    rows, cols = out_size
    filters = kernel.shape[-1]
    out = np.zeros((x.shape[0], rows, cols, filters))
    for i in range(rows):
        for j in range(cols):
            r, c = i * strides[0], j * strides[1]
            if data_format == 'channels_first':
                patch = x[:, :, r:r + window[0], c:c + window[1]]   # (batch, ch, kr, kc)
            else:
                patch = x[:, r:r + window[0], c:c + window[1], :]   # (batch, kr, kc, ch)
            out[:, i, j, :] = patch.reshape(x.shape[0], -1) @ kernel[i * cols + j]
    if data_format == 'channels_first':
        out = np.transpose(out, (0, 3, 1, 2))
        if bias is not None:
            out = out + bias.reshape((1, filters, rows, cols))
    elif bias is not None:
        out = out + bias
    return out


@st.composite
def local_cases(draw, rank):
    window = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    spatial = tuple(w + draw(st.integers(0, 3)) for w in window)
    return {'window': window, 'strides': strides, 'spatial': spatial,
            'channels': draw(st.integers(1, 3)), 'filters': draw(st.integers(1, 3)),
            'batch': draw(st.integers(1, 3)),
            'data_format': draw(st.sampled_from(['channels_last', 'channels_first'])),
            'use_bias': draw(st.booleans()), 'seed': draw(st.integers(0, 2 ** 16))}


def _input_shape(case):
    if case['data_format'] == 'channels_first':
        return (case['channels'],) + case['spatial']
    return case['spatial'] + (case['channels'],)


def _built(cls, case):
    layer = cls(case['filters'], case['window'], strides=case['strides'],
                data_format=case['data_format'], use_bias=case['use_bias'])
    layer.build((case['batch'],) + _input_shape(case))
    rng = np.random.RandomState(case['seed'])
    layer.set_weights([rng.uniform(-1, 1, w.shape) for w in layer.get_weights()])
    x = rng.uniform(-1, 1, (case['batch'],) + _input_shape(case))
    return layer, x


@settings(max_examples=40, deadline=None)
@given(case=local_cases(1))
@float64
def test_locally_connected_1d_equals_a_loop_over_output_steps(case):
    layer, x = _built(LocallyConnected1D, case)
    weights = layer.get_weights()
    length = (case['spatial'][0] - case['window'][0]) // case['strides'][0] + 1
    assert weights[0].shape == (length, case['window'][0] * case['channels'], case['filters'])
    bias = weights[1] if case['use_bias'] else None
    if bias is not None:
        assert bias.shape == (length, case['filters'])
    expected = np_local_1d(x, weights[0], bias, case['window'][0], case['strides'][0],
                           case['data_format'])
    np.testing.assert_allclose(K.eval(layer(K.constant(x))), expected, atol=FORWARD_TOL)
    assert layer.compute_output_shape(x.shape) == expected.shape


@settings(max_examples=40, deadline=None)
@given(case=local_cases(2))
@float64
def test_locally_connected_2d_equals_a_loop_over_output_positions(case):
    layer, x = _built(LocallyConnected2D, case)
    weights = layer.get_weights()
    out_size = tuple((n - k) // s + 1 for n, k, s in
                     zip(case['spatial'], case['window'], case['strides']))
    assert weights[0].shape == (out_size[0] * out_size[1],
                                case['window'][0] * case['window'][1] * case['channels'],
                                case['filters'])
    bias = weights[1] if case['use_bias'] else None
    if bias is not None:
        assert bias.shape == out_size + (case['filters'],)
    expected = np_local_2d(x, weights[0], bias, case['window'], case['strides'], out_size,
                           case['data_format'])
    np.testing.assert_allclose(K.eval(layer(K.constant(x))), expected, atol=FORWARD_TOL)
    assert layer.compute_output_shape(x.shape) == expected.shape


def _check_gradients(layer, x):
    rng = np.random.RandomState(3)
    xv = K.variable(x, name='x')
    variables = layer.trainable_weights + [xv]
    probe = K.eval(layer(xv))
    cotangent = rng.uniform(-1, 1, probe.shape)

    def loss_value():
        return float(np.sum(K.eval(layer(xv)) * cotangent))

    with K.GradientTape(variables) as tape:
        loss = K.sum(K.multiply(layer(xv), cotangent))
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
        np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-7,
                                   err_msg='gradient of %s' % variable.name)


@settings(max_examples=10, deadline=None)
@given(case=local_cases(2), one_d=st.booleans())
@float64
def test_locally_connected_gradients_match_finite_differences(case, one_d):
    if one_d:
        case = dict(case, window=case['window'][:1], strides=case['strides'][:1],
                    spatial=case['spatial'][:1])
    layer, x = _built(LocallyConnected1D if one_d else LocallyConnected2D, case)
    _check_gradients(layer, x)


def test_parameter_counts_are_those_of_the_keras_documentation():
    # Keras 2.2.4's docstring: (30*30)*(3*3*3*64) + (30*30)*64 parameters.
    model = Sequential()
    model.add(LocallyConnected2D(64, (3, 3), input_shape=(32, 32, 3)))
    assert model.output_shape == (None, 30, 30, 64)
    assert model.layers[0].count_params() == 30 * 30 * 3 * 3 * 3 * 64 + 30 * 30 * 64
    model.add(LocallyConnected2D(32, (3, 3)))
    assert model.output_shape == (None, 28, 28, 32)
    assert model.layers[1].count_params() == 28 * 28 * 3 * 3 * 64 * 32 + 28 * 28 * 32
    model = Sequential()
    model.add(LocallyConnected1D(64, 3, input_shape=(10, 32)))
    assert model.output_shape == (None, 8, 64)
    assert model.layers[0].count_params() == 8 * 3 * 32 * 64 + 8 * 64
    model.add(LocallyConnected1D(32, 3))
    assert model.output_shape == (None, 6, 32)


def test_locally_connected_1d_is_channels_last_whatever_the_image_data_format():
    previous = K.image_data_format()
    K.set_image_data_format('channels_first')
    try:
        layer = LocallyConnected1D(2, 3)
        assert layer.data_format == 'channels_last'
        model = Sequential([LocallyConnected1D(2, 3, input_shape=(6, 4))])
        assert model.output_shape == (None, 4, 2)
    finally:
        K.set_image_data_format(previous)


def test_weights_and_config_round_trip_through_a_saved_model(tmp_path):
    from refkeras.models import load_model
    inputs = Input((2, 5, 6))
    outputs = LocallyConnected2D(3, (2, 3), strides=(1, 2), data_format='channels_first',
                                 activation='tanh')(inputs)
    model = Model(inputs, outputs)
    model.compile('sgd', 'mse')
    x = np.random.RandomState(0).uniform(size=(2, 2, 5, 6)).astype("float32")
    path = str(tmp_path / 'lc.h5')
    model.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.layers[1].get_config() == model.layers[1].get_config()


@pytest.mark.parametrize('make, message', [
    (lambda: LocallyConnected2D(2, (5, 5), input_shape=(4, 4, 1)), 'larger than the input'),
    (lambda: LocallyConnected1D(2, 7, input_shape=(6, 3)), 'larger than the input'),
    (lambda: LocallyConnected2D(2, (3, 3), input_shape=(4, 4)), 'expected ndim=4'),
    (lambda: LocallyConnected1D(2, 3, input_shape=(4, 4, 1)), 'expected ndim=3'),
    (lambda: LocallyConnected2D(2, (2, 2), padding='same', input_shape=(4, 4, 1)),
     'only padding="valid"'),
    (lambda: LocallyConnected2D(2, (2, 2), input_shape=(None, 4, 1)), 'must be known'),
])
def test_bad_input_is_a_clear_error_naming_the_layer(make, message):
    with pytest.raises(ValueError) as info:
        Sequential([make()])
    assert message in str(info.value)
    assert 'locally_connected' in str(info.value)


def test_calling_with_an_input_of_another_size_is_refused_before_any_weight_changes():
    model = Sequential([LocallyConnected2D(2, (2, 2), input_shape=(4, 4, 1))])
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError):
        model.predict(np.zeros((1, 5, 5, 1)))
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
