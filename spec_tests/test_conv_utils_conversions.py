"""keras.utils.conv_utils shape arithmetic and kernel conversion, and
keras.utils.layer_utils weight conversions between backends and data formats.

Lengths are counted by direct loops over window positions; converted
weights are checked by the computations they must reproduce.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refkeras import backend as K
from refkeras.layers import Conv2D, Dense, Flatten
from refkeras.models import Sequential
from refkeras.utils import conv_utils, layer_utils


def _positions(length, window, stride, pad_before, pad_after):
    """Window starts on the padded axis, counted one by one."""
    padded = length + pad_before + pad_after
    return sum(1 for start in range(0, padded, stride) if start + window <= padded)


@given(st.integers(1, 30), st.integers(1, 6), st.integers(1, 4), st.integers(1, 3))
def test_conv_output_length_counts_the_window_positions(length, size, stride, dilation):
    span = (size - 1) * dilation + 1
    if span <= length:
        assert conv_utils.conv_output_length(length, size, 'valid', stride, dilation) == \
            _positions(length, span, stride, 0, 0)
    assert conv_utils.conv_output_length(length, size, 'full', stride, dilation) == \
        _positions(length, span, stride, span - 1, span - 1)
    assert conv_utils.conv_output_length(length, size, 'causal', stride, dilation) == \
        _positions(length, span, stride, span - 1, 0)
    assert conv_utils.conv_output_length(length, size, 'same', stride, dilation) == \
        -(-length // stride)


@given(st.integers(1, 30), st.integers(1, 6), st.sampled_from(['valid', 'full', 'same']))
def test_conv_input_length_inverts_conv_output_length_at_stride_one(length, size, padding):
    if padding == 'same' and size % 2 == 0:
        size += 1       # 'same' pads size // 2 on each side: symmetric for odd sizes
    out = conv_utils.conv_output_length(length, size, padding, 1)
    if out >= 1:
        assert conv_utils.conv_input_length(out, size, padding, 1) == length


def test_conv_input_length_worked_by_hand():
    # stride 2, size 5, 'valid': 14 outputs read positions 0 .. 13 * 2 + 4 = 30: 31 inputs.
    assert conv_utils.conv_input_length(14, 5, 'valid', 2) == 31
    # 'full' pads 4 on each side: 31 + 8 = 39 padded positions for 18 outputs.
    assert conv_utils.conv_input_length(18, 5, 'full', 2) == 39 - 8
    assert conv_utils.conv_input_length(None, 5, 'same', 1) is None


def test_an_unknown_padding_is_a_value_error_and_an_assertion_error():
    for call in (lambda: conv_utils.conv_output_length(32, 5, 'diagonal', 2),
                 lambda: conv_utils.conv_input_length(32, 5, 'causal', 1),
                 lambda: conv_utils.deconv_length(32, 2, 5, 'diagonal', None)):
        with pytest.raises(ValueError, match='padding') as info:
            call()
        assert isinstance(info.value, AssertionError)


def _true_convolution(image, kernel):
    """sum over the window of image[i + a, j + b] * kernel[-1 - a, -1 - b] ('valid')."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(image[i + a, j + b] * kernel[kh - 1 - a, kw - 1 - b]
                            for a in range(kh) for b in range(kw))
    return out


def test_convert_kernel_turns_a_convolution_kernel_into_a_correlation_kernel():
    rng = np.random.RandomState(0)
    image, kernel = rng.rand(5, 6), rng.rand(3, 2)
    converted = conv_utils.convert_kernel(kernel[:, :, None, None])
    got = K.eval(K.conv2d(K.variable(image[None, :, :, None]), K.variable(converted)))
    np.testing.assert_allclose(got[0, :, :, 0], _true_convolution(image, kernel), rtol=1e-5)
    np.testing.assert_array_equal(conv_utils.convert_kernel(converted), kernel[:, :, None, None])


def test_convert_kernel_keeps_the_channel_axes_and_refuses_other_ranks():
    kernel = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    converted = conv_utils.convert_kernel(kernel)
    assert converted[0, 0, 1, 2] == kernel[1, 2, 1, 2]
    with pytest.raises(ValueError, match='3D, 4D or 5D'):
        conv_utils.convert_kernel(np.zeros((10, 20)))


def _conv_model(input_shape, data_format):
    model = Sequential()
    model.add(Conv2D(2, (3, 2), input_shape=input_shape, data_format=data_format))
    model.add(Flatten())
    model.add(Dense(3))
    return model


def test_convert_all_kernels_in_model_flips_every_convolution_kernel():
    model = _conv_model((5, 4, 2), 'channels_last')
    kernel = K.get_value(model.layers[0].kernel)
    dense_kernel = K.get_value(model.layers[2].kernel)
    layer_utils.convert_all_kernels_in_model(model)
    np.testing.assert_array_equal(K.get_value(model.layers[0].kernel), kernel[::-1, ::-1])
    np.testing.assert_array_equal(K.get_value(model.layers[2].kernel), dense_kernel)


@pytest.mark.parametrize('source,target', [('channels_last', 'channels_first'),
                                           ('channels_first', 'channels_last')])
def test_converted_dense_weights_give_the_same_outputs_in_the_other_data_format(source, target):
    spatial, channels = (5, 4), 2
    shape = {'channels_last': spatial + (channels,), 'channels_first': (channels,) + spatial}
    feature_map = {'channels_last': (3, 3, 2), 'channels_first': (2, 3, 3)}  # conv (3, 2), 2 filters
    model = _conv_model(shape[source], source)
    other = _conv_model(shape[target], target)
    x = np.random.RandomState(1).rand(2, *shape[source]).astype('float32')
    expected = model.predict(x)
    layer_utils.convert_dense_weights_data_format(model.layers[2], feature_map[target], target)
    for mine, theirs in zip(model.layers, other.layers):
        theirs.set_weights(mine.get_weights())
    to_target = (0, 3, 1, 2) if target == 'channels_first' else (0, 2, 3, 1)
    np.testing.assert_allclose(other.predict(np.transpose(x, to_target)), expected, rtol=1e-5,
                               atol=1e-6)


def test_convert_dense_weights_refuses_a_shape_of_another_size_and_changes_nothing():
    dense = _conv_model((5, 4, 2), 'channels_last').layers[2]
    before = dense.get_weights()
    with pytest.raises(ValueError, match='18 input rows'):
        layer_utils.convert_dense_weights_data_format(dense, (2, 3, 4), 'channels_first')
    with pytest.raises(ValueError, match='target_data_format'):
        layer_utils.convert_dense_weights_data_format(dense, (2, 3, 3), 'channels_middle')
    for a, b in zip(before, dense.get_weights()):
        np.testing.assert_array_equal(a, b)
