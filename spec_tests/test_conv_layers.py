"""Convolution, pooling, resizing, padding, cropping, activation and noise layers (issue 6).

What is checked, against computations written here:

- the `K` functions (`conv1d/2d/3d`, `conv2d_transpose`, `depthwise_conv2d`,
  `separable_conv2d`, `pool2d/3d`, `resize_images/volumes`) against the nested
  loops of `test_conv_primitives.py`, with the padding that TensorFlow's
  'same' rule gives (restated here: `ceil(n / s)` outputs, total padding
  `max((out - 1) * s + dilated kernel - n, 0)`, the odd element after);
- channels_first gives the same numbers as channels_last for the same weights
  (the input transposed in, the output transposed back);
- output shapes, weight shapes and names (Keras 2.2.4's), configs;
- bad input: errors that name the layer and the shapes, with nothing built or
  changed.

Tolerances: float64 outputs against float64 loops `1e-10`; float32 layer
outputs against float64 loops `1e-5` (sums of at most a few hundred float32
products of values below 1).
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from refkeras import backend as K
from refkeras import layers as L
from refkeras.models import Sequential
from test_conv_primitives import conv_loops, conv_transpose_loops, pool_loops

TOL64 = 1e-10
TOL32 = 1e-5


def same_padding(n, k, s, d=1):
    """TensorFlow's 'SAME' padding of one axis, as (before, after)."""
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return (total // 2, total - total // 2)


def rand(shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, size=shape)


def to_first(x):
    """channels_last -> channels_first."""
    return np.moveaxis(x, -1, 1)


def to_last(x):
    return np.moveaxis(x, 1, -1)


# --- K functions against the loops --------------------------------------------------------

def test_same_padding_worked_examples():
    """The rule by hand: n=4, k=2 pads one after; n=5, k=3, s=2 one on each side; n=4, k=3, s=2 one after."""
    assert same_padding(4, 2, 1) == (0, 1)
    assert same_padding(5, 3, 2) == (1, 1)
    assert same_padding(4, 3, 2) == (0, 1)
    assert same_padding(6, 1, 3) == (0, 0)
    x = np.arange(1.0, 5.0).reshape(1, 4, 1)        # [1, 2, 3, 4]
    kernel = np.array([1.0, 1.0, 1.0]).reshape(3, 1, 1)
    out = K.conv1d(x, kernel, strides=2, padding='same')
    assert np.asarray(out).ravel().tolist() == [1 + 2 + 3, 3 + 4 + 0]


@st.composite
def k_conv_cases(draw):
    rank = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(['valid', 'same'] + (['causal'] if rank == 1 else [])))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    sizes = tuple(draw(st.integers(1, 6 if rank < 3 else 4)) for _ in range(rank))
    if padding == 'valid':
        assume(all(n >= d * (k - 1) + 1 for n, k, d in zip(sizes, kernel, dilation)))
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 10 ** 6))
    x = rand((draw(st.integers(1, 2)),) + sizes + (channels,), seed)
    w = rand(kernel + (channels, filters), seed + 1)
    return rank, padding, strides, dilation, x, w


def explicit(padding, x, w, strides, dilation):
    sizes, kernel = x.shape[1:-1], w.shape[:-2]
    if padding == 'valid':
        return ((0, 0),) * len(sizes)
    if padding == 'causal':
        return ((dilation[0] * (kernel[0] - 1), 0),)
    return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation))


K_CONV = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}


@given(k_conv_cases())
def test_k_conv_matches_loops_in_both_data_formats(case):
    rank, padding, strides, dilation, x, w = case
    expected = conv_loops(x, w, strides, dilation, explicit(padding, x, w, strides, dilation), 1)
    conv = K_CONV[rank]
    args = dict(strides=strides[0] if rank == 1 else strides, padding=padding,
                dilation_rate=dilation[0] if rank == 1 else dilation)
    out = np.asarray(conv(x, w, data_format='channels_last', **args))
    np.testing.assert_allclose(out, expected, rtol=TOL64, atol=TOL64)
    if padding != 'causal':
        first = np.asarray(conv(to_first(x), w, data_format='channels_first', **args))
        np.testing.assert_allclose(to_last(first), expected, rtol=TOL64, atol=TOL64)


def test_causal_conv1d_never_sees_the_future():
    x = rand((1, 7, 2))
    w = rand((3, 2, 1), 1)
    base = np.asarray(K.conv1d(x, w, padding='causal', dilation_rate=2))
    changed = x.copy()
    changed[0, 4:] += 5.0
    out = np.asarray(K.conv1d(changed, w, padding='causal', dilation_rate=2))
    np.testing.assert_array_equal(out[0, :4], base[0, :4])
    assert not np.allclose(out[0, 4:], base[0, 4:])
    assert out.shape == (1, 7, 1)


@given(st.integers(1, 3), st.integers(1, 2), st.sampled_from(['valid', 'same']),
       st.integers(1, 2), st.integers(1, 3), st.integers(0, 1000))
def test_k_depthwise_and_separable_conv2d_match_loops(kernel, stride, padding, multiplier,
                                                      channels, seed):
    x = rand((2, 5, 4, channels), seed)
    dk = rand((kernel, kernel, channels, multiplier), seed + 1)
    pk = rand((1, 1, channels * multiplier, 3), seed + 2)
    pads = (same_padding(5, kernel, stride), same_padding(4, kernel, stride)) \
        if padding == 'same' else ((0, 0), (0, 0))
    # Depthwise: channel c with its own filters; output channel c * multiplier + m.
    expected = np.concatenate(
        [conv_loops(x[..., c:c + 1], dk[:, :, c:c + 1, :], (stride,) * 2, (1, 1), pads, 1)
         for c in range(channels)], axis=-1)
    out = np.asarray(K.depthwise_conv2d(x, dk, strides=(stride, stride), padding=padding))
    np.testing.assert_allclose(out, expected, rtol=TOL64, atol=TOL64)
    pointwise = np.einsum('bijc,cf->bijf', expected, pk[0, 0])
    sep = np.asarray(K.separable_conv2d(x, dk, pk, strides=(stride, stride), padding=padding))
    np.testing.assert_allclose(sep, pointwise, rtol=TOL64, atol=TOL64)
    sep_first = K.separable_conv2d(to_first(x), dk, pk, strides=(stride, stride),
                                   padding=padding, data_format='channels_first')
    np.testing.assert_allclose(to_last(np.asarray(sep_first)), pointwise, rtol=TOL64, atol=TOL64)


@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from(['valid', 'same']),
       st.integers(1, 4), st.integers(0, 1000))
def test_k_conv2d_transpose_matches_scatter_loops(kernel, stride, padding, rows, seed):
    """The output shape chosen as a Conv2DTranspose layer does, then the scatter definition."""
    x = rand((1, rows, 2, 3), seed)
    w = rand((kernel, kernel, 2, 3), seed + 1)          # (rows, cols, filters, in_channels)
    layer = L.Conv2DTranspose(2, kernel, strides=stride, padding=padding)
    out_shape = layer.compute_output_shape((1, rows, 2, 3))
    pads = tuple(same_padding(n, kernel, stride) if padding == 'same' else (0, 0)
                 for n in out_shape[1:3])
    expected = conv_transpose_loops(x, w, out_shape[1:3], (stride,) * 2, (1, 1), pads, 1)
    out = np.asarray(K.conv2d_transpose(x, w, out_shape, (stride, stride), padding=padding))
    np.testing.assert_allclose(out, expected, rtol=TOL64, atol=TOL64)
    first = K.conv2d_transpose(to_first(x), w, (1, 2) + tuple(out_shape[1:3]), (stride, stride),
                               padding=padding, data_format='channels_first')
    np.testing.assert_allclose(to_last(np.asarray(first)), expected, rtol=TOL64, atol=TOL64)


@given(st.integers(2, 3), st.integers(1, 3), st.integers(1, 3), st.sampled_from(['valid', 'same']),
       st.sampled_from(['max', 'avg']), st.integers(0, 1000))
def test_k_pool_matches_loops(rank, pool, stride, padding, mode, seed):
    sizes = (5, 4, 3)[:rank]
    x = rand((2,) + sizes + (2,), seed)
    pads = tuple(same_padding(n, pool, stride) if padding == 'same' else (0, 0) for n in sizes)
    reduce = max if mode == 'max' else (lambda v: math.fsum(v) / len(v))
    expected = pool_loops(x, (pool,) * rank, (stride,) * rank, pads, reduce)
    pool_fn = K.pool2d if rank == 2 else K.pool3d
    out = np.asarray(pool_fn(x, (pool,) * rank, (stride,) * rank, padding, 'channels_last', mode))
    np.testing.assert_allclose(out, expected, rtol=TOL64, atol=TOL64)
    first = pool_fn(to_first(x), (pool,) * rank, (stride,) * rank, padding, 'channels_first',
                    mode)
    np.testing.assert_allclose(to_last(np.asarray(first)), expected, rtol=TOL64, atol=TOL64)


def bilinear_loops(x, fh, fw):
    """TensorFlow 1's resize_bilinear (corners not aligned): output i reads input i / f."""
    batch, rows, cols, channels = x.shape
    out = np.zeros((batch, rows * fh, cols * fw, channels))
    for i in range(rows * fh):
        r = i / fh
        r0 = int(math.floor(r))
        r1, dr = min(r0 + 1, rows - 1), r - r0
        for j in range(cols * fw):
            c = j / fw
            c0 = int(math.floor(c))
            c1, dc = min(c0 + 1, cols - 1), c - c0
            top = x[:, r0, c0] * (1 - dc) + x[:, r0, c1] * dc
            bottom = x[:, r1, c0] * (1 - dc) + x[:, r1, c1] * dc
            out[:, i, j] = top * (1 - dr) + bottom * dr
    return out


@pytest.mark.parametrize('fh,fw', [(2, 2), (3, 1), (1, 2)])
def test_k_resize_images(fh, fw):
    x = rand((2, 3, 4, 2))
    nearest = np.zeros((2, 3 * fh, 4 * fw, 2))
    for i in range(3 * fh):
        for j in range(4 * fw):
            nearest[:, i, j] = x[:, i // fh, j // fw]
    np.testing.assert_array_equal(K.resize_images(x, fh, fw, 'channels_last'), nearest)
    np.testing.assert_array_equal(to_last(np.asarray(
        K.resize_images(to_first(x), fh, fw, 'channels_first'))), nearest)
    np.testing.assert_allclose(K.resize_images(x, fh, fw, 'channels_last', 'bilinear'),
                               bilinear_loops(x, fh, fw), rtol=TOL64, atol=TOL64)
    with pytest.raises(ValueError, match='interpolation'):
        K.resize_images(x, fh, fw, 'channels_last', 'cubic')


def test_k_resize_volumes():
    x = rand((1, 2, 3, 2, 2))
    out = np.asarray(K.resize_volumes(x, 2, 1, 3, 'channels_last'))
    assert out.shape == (1, 4, 3, 6, 2)
    for d, h, w in np.ndindex(4, 3, 6):
        np.testing.assert_array_equal(out[0, d, h, w], x[0, d // 2, h, w // 3])


# --- layers: shapes, weights, numbers -------------------------------------------------------

LAYER_SHAPES = [
    # (layer, input shape without batch, expected output shape without batch), worked by hand.
    (lambda: L.Conv1D(4, 3), (10, 2), (8, 4)),
    (lambda: L.Conv1D(4, 3, padding='causal', dilation_rate=2), (10, 2), (10, 4)),
    (lambda: L.Conv1D(4, 3, strides=2, padding='same'), (9, 2), (5, 4)),
    (lambda: L.Conv2D(5, (3, 2), strides=(2, 1)), (7, 6, 3), (3, 5, 5)),
    (lambda: L.Conv2D(5, 3, strides=2, padding='same', data_format='channels_first'),
     (3, 7, 9), (5, 4, 5)),
    (lambda: L.Conv2D(2, 3, dilation_rate=2), (7, 7, 1), (3, 3, 2)),
    (lambda: L.Conv3D(2, (2, 3, 1)), (4, 5, 6, 1), (3, 3, 6, 2)),
    (lambda: L.SeparableConv1D(3, 2, depth_multiplier=2), (5, 4), (4, 3)),
    (lambda: L.SeparableConv2D(3, 3, padding='same'), (5, 5, 2), (5, 5, 3)),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=3), (5, 6, 2), (3, 4, 6)),
    (lambda: L.Conv2DTranspose(4, 3, strides=2), (3, 4, 2), (7, 9, 4)),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, padding='same'), (3, 4, 2), (6, 8, 4)),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, padding='same', output_padding=0), (3, 4, 2),
     (5, 7, 4)),
    (lambda: L.Conv3DTranspose(2, 2, strides=2), (2, 3, 1, 1), (4, 6, 2, 2)),
    (lambda: L.MaxPooling1D(), (9, 3), (4, 3)),
    (lambda: L.AveragePooling1D(3, strides=1, padding='same'), (5, 3), (5, 3)),
    (lambda: L.MaxPooling2D((2, 3)), (5, 7, 2), (2, 2, 2)),
    (lambda: L.AveragePooling2D(2, padding='same'), (5, 7, 2), (3, 4, 2)),
    (lambda: L.MaxPooling3D(), (4, 5, 2, 1), (2, 2, 1, 1)),
    (lambda: L.AveragePooling3D(data_format='channels_first'), (1, 4, 5, 2), (1, 2, 2, 1)),
    (lambda: L.GlobalMaxPooling1D(), (5, 3), (3,)),
    (lambda: L.GlobalAveragePooling2D(data_format='channels_first'), (3, 4, 5), (3,)),
    (lambda: L.GlobalMaxPooling3D(), (2, 3, 4, 5), (5,)),
    (lambda: L.UpSampling1D(3), (4, 2), (12, 2)),
    (lambda: L.UpSampling2D((2, 3)), (2, 3, 1), (4, 9, 1)),
    (lambda: L.UpSampling3D(data_format='channels_first'), (1, 2, 3, 4), (1, 4, 6, 8)),
    (lambda: L.ZeroPadding1D((1, 2)), (4, 2), (7, 2)),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 3))), (4, 5, 1), (5, 10, 1)),
    (lambda: L.ZeroPadding3D(1, data_format='channels_first'), (2, 1, 2, 3), (2, 3, 4, 5)),
    (lambda: L.Cropping1D((1, 2)), (6, 2), (3, 2)),
    (lambda: L.Cropping2D(((1, 0), (2, 1))), (4, 5, 1), (3, 2, 1)),
    (lambda: L.Cropping3D(((0, 1), (1, 1), (0, 0)), data_format='channels_first'),
     (2, 3, 4, 5), (2, 2, 2, 5)),
]


@pytest.mark.parametrize('make,in_shape,out_shape', LAYER_SHAPES)
def test_layer_output_shapes(make, in_shape, out_shape):
    layer = make()
    symbolic = layer(L.Input(shape=in_shape))
    assert K.int_shape(symbolic) == (None,) + out_shape
    eager = layer(rand((2,) + in_shape).astype('float32'))
    assert np.asarray(eager).shape == (2,) + out_shape


def test_weight_shapes_and_names_follow_keras():
    def weights(layer, shape):
        layer(L.Input(shape=shape))
        return [(w.name.split('/')[1], tuple(w.shape)) for w in layer.weights]

    K.clear_session()
    assert weights(L.Conv2D(8, (3, 2)), (9, 9, 3)) == [('kernel:0', (3, 2, 3, 8)),
                                                       ('bias:0', (8,))]
    assert weights(L.Conv1D(8, 3, use_bias=False), (9, 3)) == [('kernel:0', (3, 3, 8))]
    assert weights(L.Conv3D(4, 2), (3, 3, 3, 2)) == [('kernel:0', (2, 2, 2, 2, 4)),
                                                     ('bias:0', (4,))]
    assert weights(L.DepthwiseConv2D(3, depth_multiplier=2), (5, 5, 3)) == [
        ('depthwise_kernel:0', (3, 3, 3, 2)), ('bias:0', (6,))]
    assert weights(L.SeparableConv2D(7, 3, depth_multiplier=2), (5, 5, 3)) == [
        ('depthwise_kernel:0', (3, 3, 3, 2)), ('pointwise_kernel:0', (1, 1, 6, 7)),
        ('bias:0', (7,))]
    assert weights(L.SeparableConv1D(7, 3), (5, 3)) == [
        ('depthwise_kernel:0', (3, 3, 1)), ('pointwise_kernel:0', (1, 3, 7)), ('bias:0', (7,))]
    assert weights(L.Conv2DTranspose(7, 3), (5, 5, 3)) == [('kernel:0', (3, 3, 7, 3)),
                                                           ('bias:0', (7,))]
    assert weights(L.Conv3DTranspose(7, 2), (2, 2, 2, 3)) == [('kernel:0', (2, 2, 2, 7, 3)),
                                                              ('bias:0', (7,))]
    assert weights(L.Conv2D(8, 3, data_format='channels_first'), (3, 9, 9))[0] == \
        ('kernel:0', (3, 3, 3, 8))
    layer = L.Conv2D(2, 3, name='first')
    layer(L.Input(shape=(5, 5, 1)))
    assert [w.name for w in layer.weights] == ['first/kernel:0', 'first/bias:0']


def test_conv2d_layer_matches_loops_with_bias_and_activation():
    layer = L.Conv2D(3, (2, 3), strides=(1, 2), padding='same', activation='relu')
    x = rand((2, 5, 6, 2)).astype('float32')
    out = np.asarray(layer(x))
    kernel, bias = [w.astype('float64') for w in layer.get_weights()]
    bias = rand((3,), 5)
    layer.set_weights([kernel, bias])
    out = np.asarray(layer(x))
    pads = (same_padding(5, 2, 1), same_padding(6, 3, 2))
    expected = np.maximum(conv_loops(x.astype('float64'), kernel, (1, 2), (1, 1), pads, 1) + bias,
                          0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=TOL32, atol=TOL32)


# Layers whose channels_first version must give the channels_last numbers, transposed.
DATA_FORMAT_LAYERS = [
    (lambda f: L.Conv2D(3, (2, 3), strides=(2, 1), padding='same', data_format=f), (5, 6, 2)),
    (lambda f: L.Conv1D(3, 2, dilation_rate=2, data_format=f), (7, 2)),
    (lambda f: L.Conv3D(2, 2, padding='same', data_format=f), (3, 4, 2, 2)),
    (lambda f: L.SeparableConv2D(3, 3, depth_multiplier=2, data_format=f), (5, 5, 2)),
    (lambda f: L.SeparableConv1D(3, 3, padding='same', data_format=f), (5, 2)),
    (lambda f: L.DepthwiseConv2D(2, strides=2, depth_multiplier=2, data_format=f), (5, 4, 3)),
    (lambda f: L.Conv2DTranspose(3, 3, strides=2, padding='same', data_format=f), (3, 2, 2)),
    (lambda f: L.Conv3DTranspose(2, 2, strides=(1, 2, 1), data_format=f), (2, 2, 2, 3)),
    (lambda f: L.MaxPooling2D(3, strides=2, padding='same', data_format=f), (5, 6, 2)),
    (lambda f: L.AveragePooling1D(2, data_format=f), (5, 3)),
    (lambda f: L.AveragePooling3D(2, padding='same', data_format=f), (3, 3, 2, 2)),
    (lambda f: L.GlobalAveragePooling1D(data_format=f), (5, 3)),
    (lambda f: L.GlobalMaxPooling2D(data_format=f), (4, 5, 3)),
    (lambda f: L.UpSampling2D((2, 1), data_format=f, interpolation='bilinear'), (3, 2, 2)),
    (lambda f: L.UpSampling3D((1, 2, 1), data_format=f), (2, 2, 2, 2)),
    (lambda f: L.ZeroPadding2D(((1, 2), (0, 1)), data_format=f), (3, 2, 2)),
    (lambda f: L.Cropping2D(((1, 0), (0, 1)), data_format=f), (3, 3, 2)),
    (lambda f: L.Cropping3D(1, data_format=f), (3, 4, 3, 2)),
]


@pytest.mark.parametrize('make,shape', DATA_FORMAT_LAYERS)
def test_channels_first_gives_the_channels_last_numbers(make, shape):
    x = rand((2,) + shape).astype('float32')
    last = make('channels_last')
    out_last = np.asarray(last(x))
    first = make('channels_first')
    out_first = np.asarray(first(to_first(x)))
    if last.weights:
        first.set_weights(last.get_weights())
        out_first = np.asarray(first(to_first(x)))
    if out_last.ndim > 2:
        out_first = to_last(out_first)
    np.testing.assert_allclose(out_first, out_last, rtol=TOL32, atol=TOL32)


def test_conv1d_causal_layer_and_keras_default_data_formats():
    assert L.Conv1D(2, 3).data_format == 'channels_last'
    assert L.SeparableConv1D(2, 3).data_format == 'channels_last'
    assert L.MaxPooling1D().data_format == 'channels_last'
    previous = K.image_data_format()
    try:
        K.set_image_data_format('channels_first')
        assert L.Conv2D(2, 3).data_format == 'channels_first'
        assert L.MaxPooling3D().data_format == 'channels_first'
    finally:
        K.set_image_data_format(previous)


def test_global_average_pooling_1d_with_a_mask():
    x = rand((2, 4, 3)).astype('float32')
    model = Sequential([L.Masking(mask_value=0.0, input_shape=(4, 3)),
                        L.GlobalAveragePooling1D()])
    x[0, 2:] = 0.0
    out = model.predict(x)
    np.testing.assert_allclose(out[0], x[0, :2].mean(axis=0), rtol=TOL32, atol=TOL32)
    np.testing.assert_allclose(out[1], x[1].mean(axis=0), rtol=TOL32, atol=TOL32)


CONFIG_LAYERS = [
    (lambda: L.Conv2D(4, (3, 2), strides=2, padding='same', activation='relu',
                      data_format='channels_first', dilation_rate=1, use_bias=False), (3, 8, 8)),
    (lambda: L.Conv1D(2, 3, padding='causal', dilation_rate=2), (8, 3)),
    (lambda: L.Conv3D(2, 2), (3, 3, 3, 1)),
    (lambda: L.SeparableConv2D(3, 3, depth_multiplier=2), (5, 5, 2)),
    (lambda: L.SeparableConv1D(3, 3), (5, 2)),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding='same'), (5, 5, 2)),
    (lambda: L.Conv2DTranspose(3, 3, strides=2, output_padding=1), (3, 3, 2)),
    (lambda: L.Conv3DTranspose(3, 2, strides=2), (2, 2, 2, 2)),
    (lambda: L.MaxPooling2D(3, strides=1, padding='same'), (5, 5, 2)),
    (lambda: L.AveragePooling1D(2), (6, 2)),
    (lambda: L.GlobalMaxPooling3D(), (2, 2, 2, 2)),
    (lambda: L.UpSampling2D(2, interpolation='bilinear'), (2, 2, 1)),
    (lambda: L.UpSampling1D(3), (2, 1)),
    (lambda: L.ZeroPadding2D(((1, 2), (3, 4))), (2, 2, 1)),
    (lambda: L.ZeroPadding1D(2), (2, 1)),
    (lambda: L.Cropping1D((0, 1)), (3, 1)),
    (lambda: L.Cropping3D(((1, 0), (0, 1), (1, 1))), (3, 3, 3, 1)),
]

KERAS_CONFIG_KEYS = {
    'Conv2D': {'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate',
               'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
               'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
               'kernel_constraint', 'bias_constraint'},
    'DepthwiseConv2D': {'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate',
                        'activation', 'use_bias', 'bias_initializer', 'bias_regularizer',
                        'activity_regularizer', 'bias_constraint', 'depth_multiplier',
                        'depthwise_initializer', 'depthwise_regularizer',
                        'depthwise_constraint'},
    'Conv3DTranspose': {'filters', 'kernel_size', 'strides', 'padding', 'data_format',
                        'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
                        'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
                        'kernel_constraint', 'bias_constraint', 'output_padding'},
    'MaxPooling2D': {'pool_size', 'padding', 'strides', 'data_format'},
    'UpSampling1D': {'size'},
    'ZeroPadding1D': {'padding'},
}


@pytest.mark.parametrize('make,shape', CONFIG_LAYERS)
def test_config_round_trip_rebuilds_the_same_layer(make, shape):
    layer = make()
    x = rand((2,) + shape).astype('float32')
    out = np.asarray(layer(x))
    config = layer.get_config()
    expected_keys = KERAS_CONFIG_KEYS.get(type(layer).__name__)
    if expected_keys is not None:
        assert set(config) - {'name', 'trainable', 'dtype'} == expected_keys
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), out, rtol=0, atol=0)


def test_a_small_cnn_learns():
    """Two classes told apart by the sign of the image's mean (the image mean has standard
    deviation 1/8 around +-0.5, so they are separable): training must learn it."""
    np.random.seed(0)
    rng = np.random.RandomState(0)
    x = rng.normal(size=(64, 8, 8, 1)).astype('float32')
    x[:32] += 0.5
    x[32:] -= 0.5
    y = np.eye(2, dtype='float32')[[0] * 32 + [1] * 32]
    model = Sequential([L.Conv2D(4, 3, activation='relu', padding='same', input_shape=(8, 8, 1)),
                        L.MaxPooling2D(), L.Conv2D(4, 3, activation='relu'),
                        L.GlobalAveragePooling2D(), L.Dense(2, activation='softmax')])
    model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, batch_size=16, epochs=30, verbose=0)
    after, accuracy = model.evaluate(x, y, verbose=0)
    assert after < 0.5 * before
    assert accuracy > 0.9


# --- bad input ---------------------------------------------------------------------------------

def test_kernel_larger_than_a_valid_input_fails_before_any_weight_is_made():
    layer = L.Conv2D(2, 5, name='too_big')
    with pytest.raises(ValueError, match=r'too_big.*\(5, 5\).*\(None, 4, 6, 1\)'):
        layer(L.Input(shape=(4, 6, 1)))
    assert not layer.built and layer.weights == []
    with pytest.raises(ValueError, match='too_big'):
        layer(np.zeros((1, 4, 6, 1), 'float32'))
    assert not layer.built and layer.weights == []


def test_a_smaller_input_later_fails_with_the_layer_name_and_nothing_changes():
    layer = L.Conv2D(2, 3, name='later')
    layer(np.zeros((1, 5, 5, 1), 'float32'))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r'later.*\(1, 2, 5, 1\)'):
        layer(np.zeros((1, 2, 5, 1), 'float32'))
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_pool_larger_than_a_valid_input():
    with pytest.raises(ValueError, match=r'pooled.*pool_size.*\(None, 3, 3, 2\)'):
        L.MaxPooling2D(4, name='pooled')(L.Input(shape=(3, 3, 2)))
    with pytest.raises(ValueError, match='pooled1d'):
        L.AveragePooling1D(4, name='pooled1d')(np.zeros((1, 3, 2), 'float32'))


def test_wrong_channel_count_for_built_weights():
    layer = L.Conv2D(2, 3, name='three_channels')
    layer(L.Input(shape=(5, 5, 3)))
    kernel = layer.get_weights()[0]
    with pytest.raises(ValueError, match=r'three_channels.*axis -1.*3.*\(1, 5, 5, 4\)'):
        layer(np.zeros((1, 5, 5, 4), 'float32'))
    with pytest.raises(ValueError, match='three_channels'):
        layer(L.Input(shape=(5, 5, 2)))
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)


def test_unknown_channels_cannot_build():
    with pytest.raises(ValueError, match=r'no_channels.*channel dimension.*None'):
        L.Conv2D(2, 3, name='no_channels')(L.Input(shape=(5, 5, None)))


@pytest.mark.parametrize('make,message', [
    (lambda: L.Conv2D(2, 3, data_format='channels_middle', name='fmt'), r'fmt.*channels_middle'),
    (lambda: L.Conv2D(2, 3, padding='full', name='pad'), r'pad.*"valid" or "same".*full'),
    (lambda: L.Conv2D(2, 3, padding='causal', name='causal2d'), r'causal2d.*causal'),
    (lambda: L.Conv1D(2, 3, padding='causal', data_format='channels_first', name='c1'),
     r'c1.*causal.*channels_last'),
    (lambda: L.MaxPooling2D(padding='reflect', name='mp'), r'mp.*reflect'),
    (lambda: L.AveragePooling3D(data_format='NHWC', name='ap'), r'ap.*NHWC'),
    (lambda: L.UpSampling2D(data_format='x', name='up'), r'up.*x'),
    (lambda: L.UpSampling2D(interpolation='cubic', name='up2'), r'up2.*cubic'),
    (lambda: L.ZeroPadding2D(((1, 2, 3), 1), name='zp'), r'zp.*padding'),
    (lambda: L.Cropping2D(-1, name='crop'), r'crop.*negative'),
    (lambda: L.Conv2D(0, 3, name='nofilters'), r'nofilters.*filters'),
    (lambda: L.Conv2D(2, (3, 3, 3), name='kshape'), r'kshape.*kernel_size'),
    (lambda: L.Conv2D(2, 3, strides=0, name='zerostride'), r'zerostride.*strides'),
    (lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=2, name='outpad'),
     r'outpad.*output_padding'),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=0, name='dm'), r'dm.*depth_multiplier'),
    (lambda: L.ReLU(max_value=-1.0, name='relu_cap'), r'relu_cap.*max_value'),
    (lambda: L.GaussianDropout(1.5, name='gd'), r'gd.*rate'),
    (lambda: L.SpatialDropout2D(0.5, data_format='x', name='sd'), r'sd.*x'),
])
def test_bad_arguments_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_cropping_more_than_the_input_holds_names_the_layer():
    with pytest.raises(ValueError, match=r'cropper.*removes more.*\(None, 3, 4, 1\)'):
        L.Cropping2D(((2, 2), (0, 0)), name='cropper')(L.Input(shape=(3, 4, 1)))


def test_cropping_an_axis_to_length_zero_gives_an_empty_output():
    """Keras 2.2.4's test_cropping_1d crops a length-4 sequence by (2, 2)."""
    model = Sequential([L.Cropping1D((2, 2), input_shape=(4, 3))])
    assert model.output_shape == (None, 0, 3)
    out = model.predict(np.ones((2, 4, 3)))
    assert out.shape == (2, 0, 3)


def test_conv2d_transpose_without_a_consistent_output_size():
    """Kernel 2, stride 2, 'same', output_padding 0: (n-1)*2 rows map back to n-1, not n."""
    with pytest.raises(ValueError, match=r'tconv.*map.*back'):
        L.Conv2DTranspose(2, 2, strides=2, padding='same', output_padding=0,
                          name='tconv')(L.Input(shape=(3, 3, 1)))


def test_k_functions_reject_bad_input():
    x = np.zeros((1, 4, 4, 2))
    with pytest.raises(ValueError, match='data_format'):
        K.conv2d(x, np.zeros((3, 3, 2, 1)), data_format='channels_middle')
    with pytest.raises(ValueError, match='padding'):
        K.conv2d(x, np.zeros((3, 3, 2, 1)), padding='causal')
    with pytest.raises(ValueError, match=r'rank 4.*\(1, 4, 4\)'):
        K.conv2d(np.zeros((1, 4, 4)), np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r'has 2 channels.*\(3, 3, 3, 1\)'):
        K.conv2d(x, np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match='pool_mode'):
        K.pool2d(x, (2, 2), pool_mode='median')
    with pytest.raises(ValueError, match='does not fit'):
        K.pool2d(x, (5, 5))


# --- advanced activations and noise ----------------------------------------------------------

def test_advanced_activations_match_their_formulas():
    x = np.linspace(-3, 3, 25).reshape(1, 25).astype('float32')
    xd = x.astype('float64')
    cases = [
        (L.LeakyReLU(), np.where(xd > 0, xd, 0.3 * xd)),
        (L.LeakyReLU(alpha=0.1), np.where(xd > 0, xd, 0.1 * xd)),
        (L.ELU(alpha=0.5), np.where(xd > 0, xd, 0.5 * (np.exp(xd) - 1))),
        (L.ThresholdedReLU(theta=1.0), np.where(xd > 1.0, xd, 0.0)),
        (L.ReLU(), np.maximum(xd, 0)),
        (L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5),
         np.where(xd >= 2.0, 2.0, np.where(xd > 0.5, xd, 0.1 * (xd - 0.5)))),
        (L.Softmax(), np.exp(xd) / np.exp(xd).sum()),
    ]
    for layer, expected in cases:
        np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=TOL32, atol=TOL32,
                                   err_msg=type(layer).__name__)


def test_prelu_shares_slopes_along_shared_axes():
    layer = L.PReLU(alpha_initializer='ones', shared_axes=[1, 2])
    x = rand((2, 3, 4, 5)).astype('float32')
    layer(x)
    assert layer.get_weights()[0].shape == (1, 1, 5)
    alpha = rand((1, 1, 5), 3)
    layer.set_weights([alpha])
    expected = np.where(x > 0, x, alpha * x)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=TOL32, atol=TOL32)
    assert L.PReLU.from_config(layer.get_config()).shared_axes == [1, 2]


def test_noise_layers_are_the_identity_in_test_mode():
    x = rand((4, 24)).astype('float32')
    for layer in (L.GaussianNoise(1.0), L.GaussianDropout(0.5), L.AlphaDropout(0.5),
                  L.SpatialDropout1D(0.5)):
        model = Sequential([L.Reshape((4, 6), input_shape=(24,)), layer])
        np.testing.assert_array_equal(model.predict(x), x.reshape(4, 4, 6))


def test_noise_statistics_in_training_mode():
    """Large samples: the sample mean/std of 200000 draws is within 0.01 of the target
    (five standard errors: sqrt(1 / 200000) = 0.0022)."""
    np.random.seed(0)
    zeros = np.zeros((1000, 200), 'float32')
    ones = np.ones((1000, 200), 'float32')
    noise = np.asarray(L.GaussianNoise(0.5)(zeros, training=True))
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    dropped = np.asarray(L.GaussianDropout(0.2)(ones, training=True))
    assert abs(dropped.mean() - 1) < 0.01 and abs(dropped.std() - 0.5) < 0.01  # sqrt(.2/.8)
    standard = np.random.RandomState(1).normal(size=(1000, 200)).astype('float32')
    alpha = np.asarray(L.AlphaDropout(0.3)(standard, training=True))
    assert abs(alpha.mean()) < 0.02 and abs(alpha.std() - 1) < 0.02
    # About 30% of the values are the one dropped value a * alpha' + b.
    values, counts = np.unique(alpha, return_counts=True)
    assert abs(counts.max() / alpha.size - 0.3) < 0.01


@pytest.mark.parametrize('layer,shape,kept_axes', [
    (lambda: L.SpatialDropout1D(0.5), (8, 5, 6), (0, 2)),
    (lambda: L.SpatialDropout2D(0.5), (8, 3, 4, 6), (0, 3)),
    (lambda: L.SpatialDropout2D(0.5, data_format='channels_first'), (8, 6, 3, 4), (0, 1)),
    (lambda: L.SpatialDropout3D(0.5), (8, 2, 3, 2, 6), (0, 4)),
])
def test_spatial_dropout_drops_whole_feature_maps(layer, shape, kept_axes):
    np.random.seed(1)
    x = np.ones(shape, 'float32')
    out = np.asarray(layer()(x, training=True))
    other = tuple(a for a in range(len(shape)) if a not in kept_axes)
    per_map_min, per_map_max = out.min(axis=other), out.max(axis=other)
    np.testing.assert_array_equal(per_map_min, per_map_max)       # one value per map
    assert set(np.unique(per_map_min)) == {0.0, 2.0}              # dropped or scaled by 1/(1-0.5)


def test_spatial_dropout_keeps_data_format_in_its_config():
    layer = L.SpatialDropout2D(0.3, data_format='channels_first')
    assert L.SpatialDropout2D.from_config(layer.get_config()).data_format == 'channels_first'


def test_pooling_layers_are_importable_from_the_convolutional_module_as_in_keras():
    from refkeras.layers import convolutional, pooling
    for name in ('MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D',
                 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D'):
        assert getattr(convolutional, name) is getattr(pooling, name)
