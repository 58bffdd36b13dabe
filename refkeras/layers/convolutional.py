"""Convolution layers and their companions (Keras 2.2.4's `keras/layers/convolutional.py`).

Conv1D/2D/3D, SeparableConv1D/2D, DepthwiseConv2D, Conv2DTranspose,
Conv3DTranspose, UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D.

Weights have Keras's shapes and names, so weights saved by Keras load here:
a convolution kernel is `(*kernel_size, input_channels, filters)`, a
transposed convolution kernel `(*kernel_size, filters, input_channels)`, a
depthwise kernel `(*kernel_size, input_channels, depth_multiplier)`.

`data_format` is 'channels_last' (`(batch, *spatial, channels)`) or
'channels_first' (`(batch, channels, *spatial)`); 2D and 3D layers default to
`K.image_data_format()` (FAQ: "Where is the Keras configuration file
stored?"), 1D layers to 'channels_last' as in Keras.
"""
import numbers

from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.backend.ops_conv import (conv_output_length, deconv_length, normalize_padding,
                                       normalize_tuple)
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.layers.core import bias_and_activation
# Keras 2.2.4 users import the pooling layers from here too
# (`keras.layers.convolutional.MaxPooling2D`).
from refkeras.layers.pooling import (AveragePooling1D, AveragePooling2D,  # noqa: F401
                                     AveragePooling3D, MaxPooling1D, MaxPooling2D,
                                     MaxPooling3D)
from refkeras.layers.spatial_utils import (_merge_config, channel_axis, checked,  # noqa: F401
                                           checked_output_sizes, known_channels,
                                           spatial_axes)
from refkeras.utils.generic_utils import transpose_shape
from refkeras.legacy import interfaces


class _Conv(Layer):
    """Abstract N-d convolution: `activation(conv(inputs, kernel) + bias)`.

    # Arguments
        rank: number of spatial axes (1, 2 or 3).
        filters: number of output channels.
        kernel_size: int or tuple of `rank` ints.
        strides: int or tuple of `rank` ints.
        padding: 'valid' (no padding), 'same' (output size `ceil(size / stride)`),
            or, for Conv1D, 'causal' (zeros before the sequence only).
        data_format: 'channels_last' or 'channels_first' (None: the default).
        dilation_rate: int or tuple; spacing between kernel elements.
        activation: activation name or function (None: linear).
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: as for `Dense`.

    # Raises
        ValueError: naming the layer, for an unknown padding or data format,
            malformed sizes, or a non-positive number of filters.
    """

    _paddings = ('valid', 'same')

    def __init__(self, rank, filters, kernel_size, strides=1, padding='valid', data_format=None,
                 dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super(_Conv, self).__init__(**kwargs)
        self.rank = rank
        if filters is not None and (isinstance(filters, bool) or
                                    not isinstance(filters, numbers.Integral) or filters < 1):
            raise ValueError('%s layer "%s": `filters` must be a positive integer, received %r.'
                             % (type(self).__name__, self.name, filters))
        self.filters = None if filters is None else int(filters)  # np.int64(4) works too
        self.kernel_size = checked(self, normalize_tuple, kernel_size, rank, 'kernel_size')
        self.strides = checked(self, normalize_tuple, strides, rank, 'strides')
        self.padding = checked(self, normalize_padding, padding, self._paddings)
        self.data_format = checked(self, K.normalize_data_format, data_format)
        self.dilation_rate = checked(self, normalize_tuple, dilation_rate, rank, 'dilation_rate')
        for name in ('kernel_size', 'strides', 'dilation_rate'):
            if min(getattr(self, name)) < 1:
                raise ValueError('%s layer "%s": `%s` must be positive, received %r.'
                                 % (type(self).__name__, self.name, name, getattr(self, name)))
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _output_channels(self, input_channels):
        return self.filters

    def _kernel_shape(self, input_channels):
        return self.kernel_size + (input_channels, self.filters)

    def build(self, input_shape):
        input_dim = known_channels(self, input_shape)
        self.compute_output_shape(input_shape)   # a kernel that does not fit fails before any weight is made
        self.kernel = self.add_weight(shape=self._kernel_shape(input_dim), name='kernel',
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias(self._output_channels(input_dim))
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={channel_axis(self.data_format): input_dim})
        self.built = True

    def _build_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(shape=(size,), name='bias',
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None

    def _convolve(self, inputs):
        conv = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}[self.rank]
        strides = self.strides[0] if self.rank == 1 else self.strides
        dilation = self.dilation_rate[0] if self.rank == 1 else self.dilation_rate
        return conv(inputs, self.kernel, strides=strides, padding=self.padding,
                    data_format=self.data_format, dilation_rate=dilation)

    def call(self, inputs):
        self.compute_output_shape(K.int_shape(inputs))   # names the layer if the kernel does not fit
        outputs = self._convolve(inputs)
        # Keras's `K.bias_add` then `self.activation`; fused into one primitive
        # where the activation is elementwise (`core.bias_and_activation`).
        return bias_and_activation(outputs, self.bias if self.use_bias else None,
                                   self.activation, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        sizes = checked_output_sizes(self, input_shape, self.kernel_size, self.padding,
                                     self.strides, self.dilation_rate)
        channels = input_shape[channel_axis(self.data_format)]
        shape = (input_shape[0],) + tuple(sizes) + (self._output_channels(channels),)
        return transpose_shape(shape, self.data_format, spatial_axes('channels_last', self.rank))

    def get_config(self):
        return _merge_config(super(_Conv, self).get_config(), {
            'filters': self.filters,
            'kernel_size': self.kernel_size,
            'strides': self.strides,
            'padding': self.padding,
            'data_format': self.data_format,
            'dilation_rate': self.dilation_rate,
            'activation': activations.serialize(self.activation),
            'use_bias': self.use_bias,
            'kernel_initializer': initializers.serialize(self.kernel_initializer),
            'bias_initializer': initializers.serialize(self.bias_initializer),
            'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
            'bias_regularizer': regularizers.serialize(self.bias_regularizer),
            'activity_regularizer': regularizers.serialize(self.activity_regularizer),
            'kernel_constraint': constraints.serialize(self.kernel_constraint),
            'bias_constraint': constraints.serialize(self.bias_constraint)})


class Conv1D(_Conv):
    """1D convolution over time: `(batch, steps, channels) -> (batch, new_steps, filters)`.

    `padding='causal'` pads `dilation_rate * (kernel_size - 1)` zeros at the
    start only, so output `t` depends on inputs `0..t` (WaveNet-style
    temporal models); it needs `data_format='channels_last'`.

    See `_Conv` for the arguments; kernel shape `(kernel_size, channels, filters)`.
    """

    _paddings = ('valid', 'same', 'causal')

    @interfaces.legacy_conv1d_support
    def __init__(self, filters, kernel_size, strides=1, padding='valid',
                 data_format='channels_last', dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Conv1D, self).__init__(
            rank=1, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
        if self.padding == 'causal' and self.data_format != 'channels_last':
            raise ValueError('Conv1D layer "%s": causal padding needs data_format='
                             '"channels_last" (temporal data); received %r.'
                             % (self.name, self.data_format))


class Conv2D(_Conv):
    """2D convolution over images (`input_shape=(128, 128, 3)` for 128x128 RGB pictures).

    See `_Conv` for the arguments; kernel shape `(rows, cols, channels, filters)`.
    """

    @interfaces.legacy_conv2d_support
    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Conv2D, self).__init__(
            rank=2, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)


class Conv3D(_Conv):
    """3D convolution over volumes.

    See `_Conv` for the arguments; kernel shape `(d1, d2, d3, channels, filters)`.
    """

    @interfaces.legacy_conv3d_support
    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding='valid',
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Conv3D, self).__init__(
            rank=3, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)


class _ConvTranspose(_Conv):
    """Shared code of Conv2DTranspose and Conv3DTranspose.

    The output is what a convolution with the same kernel size, strides,
    padding and dilation would map back to the input's size; `output_padding`
    (each entry smaller than its stride) picks among the sizes that map back.
    """

    def _init_output_padding(self, output_padding):
        self.output_padding = output_padding
        if output_padding is not None:
            self.output_padding = checked(self, normalize_tuple, output_padding, self.rank,
                                          'output_padding')
            for stride, pad in zip(self.strides, self.output_padding):
                if pad >= stride or pad < 0:
                    raise ValueError('%s layer "%s": each output_padding %s must be smaller '
                                     'than its stride %s (and not negative).'
                                     % (type(self).__name__, self.name, self.output_padding,
                                        self.strides))

    def _kernel_shape(self, input_channels):
        return self.kernel_size + (self.filters, input_channels)

    def _output_sizes(self, input_shape):
        pads = self.output_padding or (None,) * self.rank
        sizes = []
        for n, k, s, pad, d in zip([input_shape[a] for a in
                                    spatial_axes(self.data_format, self.rank)],
                                   self.kernel_size, self.strides, pads, self.dilation_rate):
            out = deconv_length(n, s, k, self.padding, pad, d)
            if out is not None and (out < 1 or
                                    conv_output_length(out, k, self.padding, s, d) != n):
                raise ValueError('%s layer "%s": no output size for the input of shape %s: a '
                                 'convolution with kernel size %s, strides %s, padding "%s" and '
                                 'output_padding %s would map %s back to %s, not %s.'
                                 % (type(self).__name__, self.name, tuple(input_shape),
                                    self.kernel_size, self.strides, self.padding,
                                    self.output_padding, out,
                                    conv_output_length(out, k, self.padding, s, d), n))
            sizes.append(out)
        return sizes

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0],) + tuple(self._output_sizes(input_shape)) + (self.filters,)
        return transpose_shape(shape, self.data_format, spatial_axes('channels_last', self.rank))

    def _convolve(self, inputs):
        output_shape = self.compute_output_shape(K.int_shape(inputs))
        if self.rank == 2:
            return K.conv2d_transpose(inputs, self.kernel, output_shape, self.strides,
                                      padding=self.padding, data_format=self.data_format,
                                      dilation_rate=self.dilation_rate)
        return K.conv3d_transpose(inputs, self.kernel, output_shape, self.strides,
                                  padding=self.padding, data_format=self.data_format)

    def get_config(self):
        return _merge_config(super(_ConvTranspose, self).get_config(),
                             {'output_padding': self.output_padding})


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2D convolution (sometimes called deconvolution).

    Goes the other way of a `Conv2D` with the same arguments: from something
    of that convolution's output shape to something of its input shape.

    # Arguments
        output_padding: int or tuple of 2 ints, extra rows/columns added on one
            side of the output; None infers the size. Each must be smaller
            than its stride.
        (others: see `_Conv`; kernel shape `(rows, cols, filters, channels)`.)
    """

    @interfaces.legacy_deconv2d_support
    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Conv2DTranspose, self).__init__(
            rank=2, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
        self._init_output_padding(output_padding)


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3D convolution (no dilation, as in Keras 2.2.4).

    Kernel shape `(d1, d2, d3, filters, channels)`; see `Conv2DTranspose`.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding='valid',
                 output_padding=None, data_format=None, activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super(Conv3DTranspose, self).__init__(
            rank=3, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=1, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)
        self._init_output_padding(output_padding)

    def get_config(self):
        config = super(Conv3DTranspose, self).get_config()
        config.pop('dilation_rate')
        return config


class _SeparableConv(_Conv):
    """Depthwise convolution (each input channel on its own), then a pointwise one.

    # Arguments
        depth_multiplier: filters per input channel in the depthwise step.
        depthwise_initializer, pointwise_initializer, depthwise_regularizer,
        pointwise_regularizer, depthwise_constraint, pointwise_constraint:
            for the two kernels.
        (others: see `_Conv`.)

    Weights: `depthwise_kernel` `(*kernel_size, channels, depth_multiplier)`,
    `pointwise_kernel` `(1, .., 1, channels * depth_multiplier, filters)`, `bias`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding='valid', data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform',
                 bias_initializer='zeros', depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super(_SeparableConv, self).__init__(
            rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, use_bias=use_bias, bias_initializer=bias_initializer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _positive_int(self, depth_multiplier, 'depth_multiplier')
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        input_dim = known_channels(self, input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (input_dim, self.depth_multiplier), name='depthwise_kernel',
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self.rank + (input_dim * self.depth_multiplier, self.filters),
            name='pointwise_kernel', initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self._build_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={channel_axis(self.data_format): input_dim})
        self.built = True

    def _convolve(self, inputs):
        if self.rank == 1:
            return K.separable_conv1d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                      strides=self.strides[0], padding=self.padding,
                                      data_format=self.data_format,
                                      dilation_rate=self.dilation_rate[0])
        return K.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                  strides=self.strides, padding=self.padding,
                                  data_format=self.data_format, dilation_rate=self.dilation_rate)

    def get_config(self):
        config = super(_SeparableConv, self).get_config()
        for key in ('kernel_initializer', 'kernel_regularizer', 'kernel_constraint'):
            config.pop(key)
        config.update({
            'depth_multiplier': self.depth_multiplier,
            'depthwise_initializer': initializers.serialize(self.depthwise_initializer),
            'pointwise_initializer': initializers.serialize(self.pointwise_initializer),
            'depthwise_regularizer': regularizers.serialize(self.depthwise_regularizer),
            'pointwise_regularizer': regularizers.serialize(self.pointwise_regularizer),
            'depthwise_constraint': constraints.serialize(self.depthwise_constraint),
            'pointwise_constraint': constraints.serialize(self.pointwise_constraint)})
        return config


def _positive_int(layer, value, name):
    if not isinstance(value, int) or value < 1:
        raise ValueError('%s layer "%s": `%s` must be a positive integer, received %r.'
                         % (type(layer).__name__, layer.name, name, value))
    return value


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1D convolution (see `_SeparableConv`)."""

    def __init__(self, filters, kernel_size, strides=1, padding='valid',
                 data_format='channels_last', dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer='glorot_uniform',
                 pointwise_initializer='glorot_uniform', bias_initializer='zeros',
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super(SeparableConv1D, self).__init__(
            rank=1, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint, **kwargs)


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2D convolution (see `_SeparableConv`)."""

    @interfaces.legacy_separable_conv2d_support
    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform',
                 bias_initializer='zeros', depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super(SeparableConv2D, self).__init__(
            rank=2, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint, **kwargs)


class DepthwiseConv2D(Conv2D):
    """Depthwise 2D convolution: each input channel convolved with its own filters.

    Output channel `c * depth_multiplier + m` comes from input channel `c`.

    # Arguments
        kernel_size, strides, padding, data_format, activation, use_bias: see `_Conv`.
        depth_multiplier: filters per input channel.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint:
            for the `depthwise_kernel` `(rows, cols, channels, depth_multiplier)`.
        dilation_rate: accepted as a keyword, as Keras 2.2.4 passed it through.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1,
                 data_format=None, activation=None, use_bias=True,
                 depthwise_initializer='glorot_uniform', bias_initializer='zeros',
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, dilation_rate=(1, 1),
                 **kwargs):
        super(DepthwiseConv2D, self).__init__(
            filters=None, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, bias_initializer=bias_initializer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _positive_int(self, depth_multiplier, 'depth_multiplier')
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def _output_channels(self, input_channels):
        return None if input_channels is None else input_channels * self.depth_multiplier

    def build(self, input_shape):
        input_dim = known_channels(self, input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (input_dim, self.depth_multiplier), name='depthwise_kernel',
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self._build_bias(input_dim * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=4, axes={channel_axis(self.data_format): input_dim})
        self.built = True

    def _convolve(self, inputs):
        return K.depthwise_conv2d(inputs, self.depthwise_kernel, strides=self.strides,
                                  padding=self.padding, data_format=self.data_format,
                                  dilation_rate=self.dilation_rate)

    def get_config(self):
        config = super(DepthwiseConv2D, self).get_config()
        for key in ('filters', 'kernel_initializer', 'kernel_regularizer', 'kernel_constraint'):
            config.pop(key)
        config.update({
            'depth_multiplier': self.depth_multiplier,
            'depthwise_initializer': initializers.serialize(self.depthwise_initializer),
            'depthwise_regularizer': regularizers.serialize(self.depthwise_regularizer),
            'depthwise_constraint': constraints.serialize(self.depthwise_constraint)})
        return config


# --- resizing, padding, cropping -------------------------------------------------------------

class _SpatialLayer(Layer):
    """A weightless layer acting on the `rank` spatial axes of `(batch, ..., channels)` data."""

    def __init__(self, rank, data_format, **kwargs):
        super(_SpatialLayer, self).__init__(**kwargs)
        self.rank = rank
        self.data_format = checked(self, K.normalize_data_format, data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _spatial_axes(self):
        return spatial_axes(self.data_format, self.rank)


class _UpSampling(_SpatialLayer):
    """Repeats each element `size[i]` times along spatial axis i."""

    def __init__(self, size, rank, data_format=None, **kwargs):
        super(_UpSampling, self).__init__(rank, data_format, **kwargs)
        self.size = checked(self, normalize_tuple, size, rank, 'size')
        if min(self.size) < 1:
            raise ValueError('%s layer "%s": `size` must be positive, received %r.'
                             % (type(self).__name__, self.name, size))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(self._spatial_axes(), self.size):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)

    def get_config(self):
        return _merge_config(super(_UpSampling, self).get_config(),
                             {'size': self.size, 'data_format': self.data_format})


class UpSampling1D(_UpSampling):
    """Repeats each timestep `size` times: `(batch, steps, features) -> (batch, steps * size, features)`."""

    @interfaces.legacy_upsampling1d_support
    def __init__(self, size=2, **kwargs):
        super(UpSampling1D, self).__init__(size, 1, 'channels_last', **kwargs)

    def call(self, inputs):
        return K.repeat_elements(inputs, self.size[0], axis=1)

    def get_config(self):
        config = super(UpSampling1D, self).get_config()
        config['size'] = self.size[0]
        config.pop('data_format')
        return config


class UpSampling2D(_UpSampling):
    """Scales rows and columns by `size`.

    # Arguments
        size: int or tuple of 2 ints.
        data_format: see the module docstring.
        interpolation: 'nearest' (repeat) or 'bilinear'.
    """

    @interfaces.legacy_upsampling2d_support
    def __init__(self, size=(2, 2), data_format=None, interpolation='nearest', **kwargs):
        super(UpSampling2D, self).__init__(size, 2, data_format, **kwargs)
        if interpolation not in ('nearest', 'bilinear'):
            raise ValueError('UpSampling2D layer "%s": interpolation should be one of "nearest" '
                             'or "bilinear"; received %r.' % (self.name, interpolation))
        self.interpolation = interpolation

    def call(self, inputs):
        return K.resize_images(inputs, self.size[0], self.size[1], self.data_format,
                               self.interpolation)

    def get_config(self):
        return _merge_config(super(UpSampling2D, self).get_config(),
                             {'interpolation': self.interpolation})


class UpSampling3D(_UpSampling):
    """Scales the three spatial axes by `size` (repeating elements)."""

    @interfaces.legacy_upsampling3d_support
    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super(UpSampling3D, self).__init__(size, 3, data_format, **kwargs)

    def call(self, inputs):
        return K.resize_volumes(inputs, self.size[0], self.size[1], self.size[2],
                                self.data_format)


def _pairs(layer, value, rank, name):
    """An int, `rank` ints, or `rank` pairs of ints, as `rank` (before, after) pairs.

    # Raises
        ValueError: naming the layer, for any other value or a negative entry.
    """
    try:
        if isinstance(value, int):
            pairs = ((value, value),) * rank
        elif rank == 1:
            pairs = (normalize_tuple(value, 2, name),)
        else:
            if len(value) != rank:
                raise ValueError('`%s` should have %d elements. Found: %r' % (name, rank, value))
            pairs = tuple(normalize_tuple(v, 2, '%s entry of %s' % (('1st', '2nd', '3rd')[i],
                                                                     name))
                          for i, v in enumerate(value))
    except (TypeError, ValueError) as error:
        raise ValueError('%s layer "%s": %s (expected an int, a tuple of %d ints, or a tuple of '
                         '%d pairs of ints).' % (type(layer).__name__, layer.name, error, rank,
                                                 rank)) from None
    if any(a < 0 or b < 0 for a, b in pairs):
        raise ValueError('%s layer "%s": `%s` must not be negative, received %r.'
                         % (type(layer).__name__, layer.name, name, value))
    return pairs


class _ZeroPadding(_SpatialLayer):
    """Adds zeros before and after each spatial axis."""

    def __init__(self, padding, rank, data_format=None, **kwargs):
        super(_ZeroPadding, self).__init__(rank, data_format, **kwargs)
        self.padding = _pairs(self, padding, rank, 'padding')

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.padding):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def call(self, inputs):
        if self.rank == 1:
            return K.temporal_padding(inputs, padding=self.padding[0])
        if self.rank == 2:
            return K.spatial_2d_padding(inputs, padding=self.padding, data_format=self.data_format)
        return K.spatial_3d_padding(inputs, padding=self.padding, data_format=self.data_format)

    def get_config(self):
        return _merge_config(super(_ZeroPadding, self).get_config(),
                             {'padding': self.padding, 'data_format': self.data_format})


class ZeroPadding1D(_ZeroPadding):
    """Zero-padding of a sequence: `padding` is an int or a (start, end) pair."""

    def __init__(self, padding=1, **kwargs):
        super(ZeroPadding1D, self).__init__(padding, 1, 'channels_last', **kwargs)

    def get_config(self):
        config = super(ZeroPadding1D, self).get_config()
        config['padding'] = config['padding'][0]
        config.pop('data_format')
        return config


class ZeroPadding2D(_ZeroPadding):
    """Zero-padding of images.

    # Arguments
        padding: int (all sides), 2 ints (rows, columns: symmetric), or
            ((top, bottom), (left, right)).
        data_format: see the module docstring.
    """

    @interfaces.legacy_zeropadding2d_support
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super(ZeroPadding2D, self).__init__(padding, 2, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zero-padding of volumes: int, 3 ints, or 3 (before, after) pairs."""

    @interfaces.legacy_zeropadding3d_support
    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super(ZeroPadding3D, self).__init__(padding, 3, data_format, **kwargs)


class _Cropping(_SpatialLayer):
    """Removes `(start, end)` elements from each spatial axis."""

    def __init__(self, cropping, rank, data_format=None, **kwargs):
        super(_Cropping, self).__init__(rank, data_format, **kwargs)
        self.cropping = _pairs(self, cropping, rank, 'cropping')

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (start, end) in zip(self._spatial_axes(), self.cropping):
            if shape[axis] is not None:
                # Cropping an axis to length 0 is allowed (an empty tensor, as
                # in Keras 2.2.4); cropping more than the axis holds is not.
                shape[axis] -= start + end
                if shape[axis] < 0:
                    raise ValueError('%s layer "%s": cropping %s removes more than the input '
                                     'of shape %s holds.' % (type(self).__name__, self.name,
                                                            self.cropping, tuple(input_shape)))
        return tuple(shape)

    def call(self, inputs):
        self.compute_output_shape(K.int_shape(inputs))
        index = [slice(None)] * (self.rank + 2)
        for axis, (start, end) in zip(self._spatial_axes(), self.cropping):
            index[axis] = slice(start, -end if end else None)
        return inputs[tuple(index)]

    def get_config(self):
        return _merge_config(super(_Cropping, self).get_config(),
                             {'cropping': self.cropping, 'data_format': self.data_format})


class Cropping1D(_Cropping):
    """Crops a sequence: `cropping` is an int or a (start, end) pair."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super(Cropping1D, self).__init__(cropping, 1, 'channels_last', **kwargs)

    def get_config(self):
        config = super(Cropping1D, self).get_config()
        config['cropping'] = config['cropping'][0]
        config.pop('data_format')
        return config


class Cropping2D(_Cropping):
    """Crops images: int, 2 ints (symmetric), or ((top, bottom), (left, right))."""

    @interfaces.legacy_cropping2d_support
    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super(Cropping2D, self).__init__(cropping, 2, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops volumes: int, 3 ints, or 3 (start, end) pairs."""

    @interfaces.legacy_cropping3d_support
    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super(Cropping3D, self).__init__(cropping, 3, data_format, **kwargs)


# Keras 2.2.4's aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
Convolution2DTranspose = Conv2DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
