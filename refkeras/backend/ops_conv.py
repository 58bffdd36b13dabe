"""The convolution, pooling, resizing and batch-normalization `K` functions.

Keras 2.2.4 names and arguments (`K.conv2d`, `K.pool2d`, `K.normalize_batch_in_training`,
...). Each one turns Keras's conventions into the explicit attributes of the
channels-last primitives in `prims_conv.py`:

- `data_format='channels_first'` inputs are transposed to channels last and
  the result back (the transposes are primitives too, so gradients flow);
- `padding='valid'` is no padding, `'same'` pads as TensorFlow does (the output
  has `ceil(size / stride)` positions; the total padding is split with the
  extra element *after*), `'causal'` (1D only) pads only before.

The shape arithmetic of `keras.utils.conv_utils` (`conv_output_length`,
`deconv_length`, `normalize_tuple`, `normalize_padding`) lives here too, so that
layers and backend agree on it.
"""
import numpy as np

from refkeras.backend import prims_conv
from refkeras.backend import state
from refkeras.backend.graph import symbolic_aware
from refkeras.backend.ops import (_t, add, int_shape, mean, multiply, ndim, permute_dimensions,
                                  repeat_elements, reshape, sqrt, square, subtract, dot, divide)
from refkeras.backend.tape import apply

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv2d_transpose', 'conv3d_transpose',
           'separable_conv1d', 'separable_conv2d', 'depthwise_conv2d', 'pool2d', 'pool3d',
           'resize_images', 'resize_volumes', 'normalize_batch_in_training',
           'batch_normalization']


# --- shape arithmetic (keras.utils.conv_utils) ----------------------------------------

def normalize_tuple(value, n, name):
    """`value` (an int or `n` ints) as a tuple of `n` ints.

    # Raises
        ValueError: naming the argument `name`, for anything else.
    """
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(value)
    except TypeError:
        raise ValueError('The `%s` argument must be an int or a tuple of %d integers. '
                         'Received: %r' % (name, n, value))
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError('The `%s` argument must be an int or a tuple of %d integers. '
                         'Received: %r' % (name, n, value))
    return tuple(int(v) for v in values)


def normalize_padding(value, allowed=('valid', 'same', 'causal')):
    """`value` lower-cased and checked against `allowed`.

    # Raises
        ValueError: for any other value.
    """
    padding = str(value).lower()
    if padding not in allowed:
        raise ValueError('The `padding` argument must be one of %s. Received: %r'
                         % (' or '.join('"%s"' % a for a in allowed), value))
    return padding


def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    """Output length of a convolution or pooling along one axis (None if unknown).

    'same' and 'causal' give `ceil(n / stride)`; 'valid' gives
    `ceil((n - dilated_filter + 1) / stride)` (0 or less when the filter does
    not fit: callers report that as an error).
    """
    if input_length is None:
        return None
    _check_padding_name(padding, ('same', 'valid', 'causal', 'full'), 'conv_output_length')
    dilated = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ('same', 'causal'):
        length = input_length
    elif padding == 'valid':
        length = input_length - dilated + 1
    else:  # 'full'
        length = input_length + dilated - 1
    return (length + stride - 1) // stride


def conv_input_length(output_length, filter_size, padding, stride):
    """Input length of a convolution along one axis, given its output length
    (None if unknown): the inverse of `conv_output_length` for stride 1, and
    the shortest input that gives `output_length` positions otherwise.

    A convolution reads `(output_length - 1) * stride + filter_size` padded
    positions; 'same' pads `filter_size // 2` on each side, 'full'
    `filter_size - 1` on each side, 'valid' none.

    # Raises
        PaddingError: for a padding other than 'same', 'valid' or 'full'.
    """
    if output_length is None:
        return None
    _check_padding_name(padding, ('same', 'valid', 'full'), 'conv_input_length')
    pad_each_side = {'same': filter_size // 2, 'valid': 0, 'full': filter_size - 1}[padding]
    return (output_length - 1) * stride + filter_size - 2 * pad_each_side


class PaddingError(ValueError, AssertionError):
    """An unknown padding name given to the conv_utils shape arithmetic.

    A ValueError, as refkeras raises for bad arguments, and also an
    AssertionError, which is what Keras 2.2.4's `conv_output_length` and
    `conv_input_length` raise (code written for Keras may catch that).
    """


def _check_padding_name(padding, allowed, function):
    if padding not in allowed:
        raise PaddingError('%s: `padding` must be one of %s; received %r.'
                           % (function, ', '.join(repr(a) for a in allowed), padding))


def deconv_length(dim_size, stride_size, kernel_size, padding, output_padding, dilation=1):
    """Output length of a transposed convolution along one axis (None if unknown).

    Without `output_padding` it is the largest length that the matching
    convolution maps back to `dim_size`; with it, exactly
    `(dim_size - 1) * stride + dilated_kernel - 2 * pad + output_padding`.
    """
    if dim_size is None:
        return None
    kernel_size = kernel_size + (kernel_size - 1) * (dilation - 1)
    _check_padding_name(padding, ('same', 'valid', 'full'), 'deconv_length')
    if output_padding is None:
        if padding == 'valid':
            return dim_size * stride_size + max(kernel_size - stride_size, 0)
        if padding == 'full':
            return dim_size * stride_size - (stride_size + kernel_size - 2)
        if padding == 'same':
            return dim_size * stride_size
    pad = {'same': kernel_size // 2, 'valid': 0, 'full': kernel_size - 1}[padding]
    return (dim_size - 1) * stride_size + kernel_size - 2 * pad + output_padding


def explicit_padding(padding, sizes, kernel_size, strides, dilation):
    """Keras's padding name as one `(before, after)` pair per spatial axis.

    # Arguments
        padding: 'valid', 'same' or 'causal'.
        sizes: the input's spatial sizes.
        kernel_size, strides, dilation: one int per spatial axis.
    """
    pairs = []
    for n, k, s, d in zip(sizes, kernel_size, strides, dilation):
        span = d * (k - 1) + 1
        if padding == 'valid':
            pairs.append((0, 0))
        elif padding == 'causal':
            pairs.append((span - 1, 0))
        else:
            out = -(-n // s)
            total = max((out - 1) * s + span - n, 0)
            pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


# --- layout helpers ---------------------------------------------------------------------

def _to_channels_last(x, data_format):
    if data_format == 'channels_first':
        return permute_dimensions(x, (0,) + tuple(range(2, ndim(x))) + (1,))
    return x


def _from_channels_last(x, data_format):
    if data_format == 'channels_first':
        return permute_dimensions(x, (0, ndim(x) - 1) + tuple(range(1, ndim(x) - 1)))
    return x


def _check_rank(x, rank, what):
    if ndim(x) != rank + 2:
        raise ValueError('%s expects an input of rank %d (batch, %d spatial axes, channels); '
                         'received shape %s.' % (what, rank + 2, rank, int_shape(x)))


def _convolution(x, kernel, rank, strides, padding, data_format, dilation_rate, what, groups=1):
    """Shared body of the convolution functions: checks, layout, padding, primitive."""
    data_format = state.normalize_data_format(data_format)
    strides = normalize_tuple(strides, rank, 'strides')
    dilation = normalize_tuple(dilation_rate, rank, 'dilation_rate')
    padding = normalize_padding(padding, ('valid', 'same', 'causal') if rank == 1
                                else ('valid', 'same'))
    if padding == 'causal' and data_format != 'channels_last':
        raise ValueError('When using causal padding in `%s`, `data_format` must be '
                         '"channels_last" (temporal data).' % what)
    _check_rank(x, rank, what)
    if ndim(kernel) != rank + 2:
        raise ValueError('%s expects a kernel of rank %d (%d spatial axes, input channels, '
                         'filters); received shape %s.' % (what, rank + 2, rank, int_shape(kernel)))
    x = _to_channels_last(_t(x), data_format)
    pads = explicit_padding(padding, int_shape(x)[1:-1], int_shape(kernel)[:rank], strides,
                            dilation)
    out = apply(prims_conv.conv, x, _t(kernel), strides=strides, dilation=dilation, padding=pads,
                groups=groups)
    return _from_channels_last(out, data_format)


# --- convolutions ---------------------------------------------------------------------------

@symbolic_aware
def conv1d(x, kernel, strides=1, padding='valid', data_format=None, dilation_rate=1):
    """1D convolution.

    # Arguments
        x: `(batch, steps, channels)` (or `(batch, channels, steps)`).
        kernel: `(kernel_size, channels, filters)`.
        strides: int.
        padding: 'valid', 'same' or 'causal' (pads `dilation * (kernel - 1)`
            zeros before the sequence only, so output `t` never sees input `t + 1`).
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: int.

    # Returns
        `(batch, new_steps, filters)`.

    # Raises
        ValueError: for an unknown padding or data format, causal padding with
            channels_first, mismatched channels, or a kernel longer than the
            (padded) input.
    """
    return _convolution(x, kernel, 1, strides, padding, data_format, dilation_rate, 'conv1d')


@symbolic_aware
def conv2d(x, kernel, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1)):
    """2D convolution: kernel `(rows, cols, in_channels, filters)`.

    # Raises
        ValueError: see `conv1d`.
    """
    return _convolution(x, kernel, 2, strides, padding, data_format, dilation_rate, 'conv2d')


@symbolic_aware
def conv3d(x, kernel, strides=(1, 1, 1), padding='valid', data_format=None,
           dilation_rate=(1, 1, 1)):
    """3D convolution.

    # Arguments
        x: a 5D tensor, `(batch, d1, d2, d3, channels)` (or channels first).
        kernel: `(d1, d2, d3, in_channels, filters)`.
        strides: tuple of 3 ints.
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: tuple of 3 ints.

    # Returns
        A 5D tensor with `filters` channels.

    # Raises
        ValueError: see `conv1d`.
    """
    return _convolution(x, kernel, 3, strides, padding, data_format, dilation_rate, 'conv3d')


def _transposed(x, kernel, output_shape, rank, strides, padding, data_format, dilation_rate, what):
    data_format = state.normalize_data_format(data_format)
    strides = normalize_tuple(strides, rank, 'strides')
    dilation = normalize_tuple(dilation_rate, rank, 'dilation_rate')
    padding = normalize_padding(padding, ('valid', 'same'))
    _check_rank(x, rank, what)
    output_shape = tuple(output_shape)
    if len(output_shape) != rank + 2:
        raise ValueError('%s: `output_shape` %s should have %d entries (batch, channels and %d '
                         'spatial sizes).' % (what, output_shape, rank + 2, rank))
    if data_format == 'channels_first':
        channels, spatial = output_shape[1], output_shape[2:]
    else:
        channels, spatial = output_shape[-1], output_shape[1:-1]
    kernel_shape = int_shape(kernel)
    if channels is not None and channels != kernel_shape[-2]:
        raise ValueError('%s: `output_shape` %s asks for %s channels, but the kernel of shape %s '
                         'makes %d.' % (what, output_shape, channels, kernel_shape,
                                        kernel_shape[-2]))
    spatial = tuple(int(n) for n in spatial)
    pads = explicit_padding(padding, spatial, kernel_shape[:rank], strides, dilation)
    out = apply(prims_conv.conv_transpose, _to_channels_last(_t(x), data_format), _t(kernel),
                output_size=spatial, strides=strides, dilation=dilation, padding=pads)
    return _from_channels_last(out, data_format)


@symbolic_aware
def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding='valid', data_format=None,
                     dilation_rate=(1, 1)):
    """2D transposed convolution ("deconvolution").

    # Arguments
        x: input tensor.
        kernel: `(rows, cols, filters, in_channels)`.
        output_shape: the full output shape (the batch entry may be None).
        strides: those of the convolution that this one is the transpose of.
        padding: that convolution's padding, 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: that convolution's dilation rate.

    # Returns
        A tensor of `output_shape`.

    # Raises
        ValueError: if `output_shape` is not one that convolution maps back to
            `x`'s shape, or for mismatched channels.
    """
    return _transposed(x, kernel, output_shape, 2, strides, padding, data_format, dilation_rate,
                       'conv2d_transpose')


@symbolic_aware
def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding='valid',
                     data_format=None):
    """3D transposed convolution.

    # Arguments
        x: a 5D input tensor.
        kernel: `(d1, d2, d3, filters, in_channels)`.
        output_shape: the full output shape (the batch entry may be None).
        strides: those of the convolution that this one is the transpose of.
        padding: that convolution's padding, 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first' (None: the default).

    # Returns
        A tensor of `output_shape`.

    # Raises
        ValueError: see `conv2d_transpose`.
    """
    return _transposed(x, kernel, output_shape, 3, strides, padding, data_format, 1,
                       'conv3d_transpose')


def _depthwise(x, depthwise_kernel, rank, strides, padding, data_format, dilation_rate, what):
    """Depthwise convolution: each input channel with its own `depth_multiplier` filters.

    Output channel `c * depth_multiplier + m` is input channel `c` convolved
    with `depthwise_kernel[..., c, m]` (TensorFlow's order).
    """
    kernel_shape = int_shape(depthwise_kernel)
    _check_rank(x, rank, what)
    data_format = state.normalize_data_format(data_format)
    channels = int_shape(x)[1 if data_format == 'channels_first' else -1]
    if len(kernel_shape) != rank + 2 or kernel_shape[-2] != channels:
        raise ValueError('%s: the depthwise kernel of shape %s should be %d spatial sizes, then '
                         'the %s input channels of the input of shape %s, then the depth '
                         'multiplier.' % (what, kernel_shape, rank, channels, int_shape(x)))
    grouped = reshape(depthwise_kernel,
                      kernel_shape[:rank] + (1, kernel_shape[-2] * kernel_shape[-1]))
    return _convolution(x, grouped, rank, strides, padding, data_format, dilation_rate, what,
                        groups=kernel_shape[-2])


@symbolic_aware
def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding='valid', data_format=None,
                     dilation_rate=(1, 1)):
    """2D depthwise convolution: each input channel convolved on its own.

    # Arguments
        x: a 4D input tensor.
        depthwise_kernel: `(rows, cols, in_channels, depth_multiplier)`.
        strides: tuple of 2 ints.
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: tuple of 2 ints.

    # Returns
        A tensor with `in_channels * depth_multiplier` channels.

    # Raises
        ValueError: see `conv1d`.
    """
    return _depthwise(x, depthwise_kernel, 2, strides, padding, data_format, dilation_rate,
                      'depthwise_conv2d')


def _separable(x, depthwise_kernel, pointwise_kernel, rank, strides, padding, data_format,
               dilation_rate, what):
    out = _depthwise(x, depthwise_kernel, rank, strides, padding, data_format, dilation_rate, what)
    return _convolution(out, pointwise_kernel, rank, 1, 'valid', data_format, 1, what)


@symbolic_aware
def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding='valid',
                     data_format=None, dilation_rate=1):
    """1D separable convolution: a depthwise convolution, then a pointwise (size-1) one.

    # Arguments
        x: a 3D input tensor.
        depthwise_kernel: `(kernel_size, in_channels, depth_multiplier)`.
        pointwise_kernel: `(1, in_channels * depth_multiplier, filters)`.
        strides: int.
        padding: 'valid', 'same' or 'causal'.
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: int.

    # Returns
        A 3D tensor with `filters` channels.
    """
    return _separable(x, depthwise_kernel, pointwise_kernel, 1, strides, padding, data_format,
                      dilation_rate, 'separable_conv1d')


@symbolic_aware
def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding='valid',
                     data_format=None, dilation_rate=(1, 1)):
    """2D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    # Arguments
        x: a 4D input tensor.
        depthwise_kernel: `(rows, cols, in_channels, depth_multiplier)`.
        pointwise_kernel: `(1, 1, in_channels * depth_multiplier, filters)`.
        strides: tuple of 2 ints.
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: tuple of 2 ints.

    # Returns
        A 4D tensor with `filters` channels.
    """
    return _separable(x, depthwise_kernel, pointwise_kernel, 2, strides, padding, data_format,
                      dilation_rate, 'separable_conv2d')


# --- pooling -------------------------------------------------------------------------------

def _pool(x, rank, pool_size, strides, padding, data_format, pool_mode, what):
    data_format = state.normalize_data_format(data_format)
    pool_size = normalize_tuple(pool_size, rank, 'pool_size')
    strides = normalize_tuple(strides, rank, 'strides')
    padding = normalize_padding(padding, ('valid', 'same'))
    if pool_mode not in ('max', 'avg'):
        raise ValueError('Invalid pool_mode: %r; expected "max" or "avg".' % (pool_mode,))
    _check_rank(x, rank, what)
    x = _to_channels_last(_t(x), data_format)
    pads = explicit_padding(padding, int_shape(x)[1:-1], pool_size, strides, (1,) * rank)
    prim = prims_conv.max_pool if pool_mode == 'max' else prims_conv.avg_pool
    out = apply(prim, x, pool_size=pool_size, strides=strides, padding=pads)
    return _from_channels_last(out, data_format)


@symbolic_aware
def pool2d(x, pool_size, strides=(1, 1), padding='valid', data_format=None, pool_mode='max'):
    """2D pooling.

    # Arguments
        x: a 4D tensor.
        pool_size: tuple of 2 ints.
        strides: tuple of 2 ints.
        padding: 'valid' or 'same' ('same' pads with values that never win
            the max and are not counted in the average).
        data_format: 'channels_last' or 'channels_first' (None: the default).
        pool_mode: 'max' or 'avg'.

    # Returns
        The pooled 4D tensor.

    # Raises
        ValueError: for an unknown padding, data format or pool mode, or a
            window larger than a 'valid' input.
    """
    return _pool(x, 2, pool_size, strides, padding, data_format, pool_mode, 'pool2d')


@symbolic_aware
def pool3d(x, pool_size, strides=(1, 1, 1), padding='valid', data_format=None, pool_mode='max'):
    """3D pooling (see `pool2d`)."""
    return _pool(x, 3, pool_size, strides, padding, data_format, pool_mode, 'pool3d')


# --- resizing ---------------------------------------------------------------------------------

def _bilinear_matrix(size, factor, dtype):
    """The `(size, size * factor)` matrix of TensorFlow 1's `resize_bilinear` along one axis.

    Output `j` reads the input at `j / factor` (corners not aligned, no half-pixel
    shift), mixing its two neighbours; the last input row is repeated past the end.
    """
    out = np.arange(size * factor)
    source = out / float(factor)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, size - 1)
    frac = source - low
    matrix = np.zeros((size, size * factor), dtype=dtype)
    np.add.at(matrix, (low, out), 1.0 - frac)
    np.add.at(matrix, (high, out), frac)
    return matrix


def _resize_axis_linear(x, axis, factor):
    """Bilinear resizing along one axis: a matrix product with `_bilinear_matrix`."""
    rank = ndim(x)
    order = [a for a in range(rank) if a != axis] + [axis]
    moved = permute_dimensions(x, order)
    size = int_shape(x)[axis]
    resized = dot(moved, _bilinear_matrix(size, factor, np.dtype(x.dtype)))
    return permute_dimensions(resized, tuple(np.argsort(order)))


@symbolic_aware
def resize_images(x, height_factor, width_factor, data_format, interpolation='nearest'):
    """Scales the rows and columns of a 4D tensor by integer factors.

    # Arguments
        x: a 4D tensor.
        height_factor: positive int.
        width_factor: positive int.
        data_format: 'channels_last' or 'channels_first'.
        interpolation: 'nearest' (each pixel repeated) or 'bilinear'.

    # Returns
        The resized 4D tensor.

    # Raises
        ValueError: for an unknown data format or interpolation.
    """
    data_format = state.normalize_data_format(data_format)
    _check_rank(x, 2, 'resize_images')
    rows, cols = (2, 3) if data_format == 'channels_first' else (1, 2)
    if interpolation == 'nearest':
        return repeat_elements(repeat_elements(x, int(height_factor), rows), int(width_factor),
                               cols)
    if interpolation == 'bilinear':
        return _resize_axis_linear(_resize_axis_linear(_t(x), rows, int(height_factor)), cols,
                                   int(width_factor))
    raise ValueError('interpolation should be one of "nearest" or "bilinear"; received %r.'
                     % (interpolation,))


@symbolic_aware
def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Scales the three spatial axes of a 5D tensor by repeating elements.

    # Arguments
        x: a 5D tensor.
        depth_factor: positive int.
        height_factor: positive int.
        width_factor: positive int.
        data_format: 'channels_last' or 'channels_first'.

    # Returns
        The resized 5D tensor.

    # Raises
        ValueError: for an unknown data format.
    """
    data_format = state.normalize_data_format(data_format)
    _check_rank(x, 3, 'resize_volumes')
    first = 2 if data_format == 'channels_first' else 1
    for axis, factor in zip(range(first, first + 3), (depth_factor, height_factor, width_factor)):
        x = repeat_elements(x, int(factor), axis)
    return x


# --- batch normalization -----------------------------------------------------------------------

def _broadcastable(v, x, axis):
    """A per-channel vector reshaped to broadcast against `x` along `axis`."""
    if v is None or ndim(v) != 1 or ndim(x) <= 1:
        return v
    shape = [1] * ndim(x)
    shape[axis % ndim(x)] = int_shape(v)[0]
    return reshape(v, shape)


@symbolic_aware
def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta`.

    # Arguments
        x: tensor.
        mean: tensor broadcastable against `x`, or a vector of the size of
            `x`'s `axis` (then broadcast along that axis).
        var: the variance, shaped as `mean`.
        beta: the offset, shaped as `mean`, or None (0).
        gamma: the scale, shaped as `mean`, or None (1).
        axis: the normalized (channels) axis, used for vectors.
        epsilon: added to the variance.

    # Returns
        The normalized tensor, of `x`'s shape.
    """
    mean, var = _broadcastable(mean, x, axis), _broadcastable(var, x, axis)
    beta, gamma = _broadcastable(beta, x, axis), _broadcastable(gamma, x, axis)
    scale = divide(1.0, sqrt(add(var, epsilon)))
    if gamma is not None:
        scale = multiply(scale, gamma)
    shift = multiply(mean, scale)
    shift = subtract(beta, shift) if beta is not None else multiply(shift, -1.0)
    return add(multiply(x, scale), shift)


@symbolic_aware
def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """Normalizes `x` with the mean and variance over `reduction_axes` (a batch's statistics).

    The variance is the biased one (divided by the number of elements), as
    TensorFlow's `moments`.

    # Arguments
        x: tensor.
        gamma: per-channel scale vector (the size of the axes not reduced), or None.
        beta: per-channel offset vector, or None.
        reduction_axes: the axes to compute the statistics over.
        epsilon: added to the variance.

    # Returns
        `(normalized x, mean, variance)`; mean and variance have the shape of
        the axes not reduced.
    """
    reduction_axes = sorted(a % ndim(x) for a in reduction_axes)
    kept = [a for a in range(ndim(x)) if a not in reduction_axes]
    kept_shape = tuple(int_shape(x)[a] for a in kept)
    broadcast_shape = [1 if a in reduction_axes else int_shape(x)[a] for a in range(ndim(x))]
    batch_mean = mean(x, axis=reduction_axes, keepdims=True)
    centred = subtract(x, batch_mean)
    batch_var = mean(square(centred), axis=reduction_axes, keepdims=True)
    scale = divide(1.0, sqrt(add(batch_var, epsilon)))
    if gamma is not None:
        scale = multiply(scale, reshape(gamma, broadcast_shape))
    normed = multiply(centred, scale)
    if beta is not None:
        normed = add(normed, reshape(beta, broadcast_shape))
    return normed, reshape(batch_mean, kept_shape), reshape(batch_var, kept_shape)
