"""Pooling layers (Keras 2.2.4's `keras/layers/pooling.py`).

MaxPooling1D/2D/3D and AveragePooling1D/2D/3D slide a window over the spatial
axes and keep its maximum or mean; the Global* layers reduce the spatial axes
entirely. With `padding='same'` the padding never wins a maximum and is not
counted in a mean, as in TensorFlow.
"""
from refkeras import backend as K
from refkeras.backend.ops_conv import normalize_padding, normalize_tuple
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.layers.spatial_utils import (channel_axis, checked, checked_output_sizes,
                                           spatial_axes)
from refkeras.utils.generic_utils import transpose_shape
from refkeras.legacy import interfaces


def _merge_config(base, extra):
    config = dict(base)
    config.update(extra)
    return config


class _Pooling(Layer):
    """Abstract N-d pooling.

    # Arguments
        rank: number of spatial axes.
        pool_size: int or tuple of `rank` ints: the window.
        strides: int, tuple, or None (then `pool_size`).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first'.

    # Raises
        ValueError: naming the layer, for an unknown padding or data format,
            or malformed sizes.
    """

    pool_mode = None

    def __init__(self, rank, pool_size, strides=None, padding='valid', data_format=None,
                 **kwargs):
        super(_Pooling, self).__init__(**kwargs)
        self.rank = rank
        if strides is None:
            strides = pool_size
        self.pool_size = checked(self, normalize_tuple, pool_size, rank, 'pool_size')
        self.strides = checked(self, normalize_tuple, strides, rank, 'strides')
        if min(self.pool_size + self.strides) < 1:
            raise ValueError('%s layer "%s": `pool_size` %s and `strides` %s must be positive.'
                             % (type(self).__name__, self.name, self.pool_size, self.strides))
        self.padding = checked(self, normalize_padding, padding, ('valid', 'same'))
        self.data_format = checked(self, K.normalize_data_format, data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        sizes = checked_output_sizes(self, input_shape, self.pool_size, self.padding,
                                     self.strides, (1,) * self.rank, what='pool_size')
        channels = input_shape[channel_axis(self.data_format)]
        shape = (input_shape[0],) + tuple(sizes) + (channels,)
        return transpose_shape(shape, self.data_format, spatial_axes('channels_last', self.rank))

    def call(self, inputs):
        self.compute_output_shape(K.int_shape(inputs))   # names the layer if the window does not fit
        if self.rank == 1:
            # As Keras: a 2D pooling over a dummy axis of size 1.
            dummy_axis = 2 if self.data_format == 'channels_last' else 3
            pooled = K.pool2d(K.expand_dims(inputs, dummy_axis), self.pool_size + (1,),
                              self.strides + (1,), self.padding, self.data_format,
                              pool_mode=self.pool_mode)
            return K.squeeze(pooled, dummy_axis)
        pool = K.pool2d if self.rank == 2 else K.pool3d
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format,
                    pool_mode=self.pool_mode)

    def get_config(self):
        return _merge_config(super(_Pooling, self).get_config(), {
            'pool_size': self.pool_size, 'padding': self.padding, 'strides': self.strides,
            'data_format': self.data_format})


class MaxPooling1D(_Pooling):
    """Max pooling over time: `(batch, steps, features)`, window `pool_size` (default 2)."""
    pool_mode = 'max'

    @interfaces.legacy_pooling1d_support
    def __init__(self, pool_size=2, strides=None, padding='valid', data_format='channels_last',
                 **kwargs):
        super(MaxPooling1D, self).__init__(1, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """Average pooling over time (see `MaxPooling1D`)."""
    pool_mode = 'avg'

    @interfaces.legacy_pooling1d_support
    def __init__(self, pool_size=2, strides=None, padding='valid', data_format='channels_last',
                 **kwargs):
        super(AveragePooling1D, self).__init__(1, pool_size, strides, padding, data_format,
                                               **kwargs)


class MaxPooling2D(_Pooling):
    """Max pooling over images; `pool_size=(2, 2)` halves both sizes."""
    pool_mode = 'max'

    @interfaces.legacy_pooling2d_support
    def __init__(self, pool_size=(2, 2), strides=None, padding='valid', data_format=None,
                 **kwargs):
        super(MaxPooling2D, self).__init__(2, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling over images."""
    pool_mode = 'avg'

    @interfaces.legacy_pooling2d_support
    def __init__(self, pool_size=(2, 2), strides=None, padding='valid', data_format=None,
                 **kwargs):
        super(AveragePooling2D, self).__init__(2, pool_size, strides, padding, data_format,
                                               **kwargs)


class MaxPooling3D(_Pooling):
    """Max pooling over volumes."""
    pool_mode = 'max'

    @interfaces.legacy_pooling3d_support
    def __init__(self, pool_size=(2, 2, 2), strides=None, padding='valid', data_format=None,
                 **kwargs):
        super(MaxPooling3D, self).__init__(3, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
    """Average pooling over volumes."""
    pool_mode = 'avg'

    @interfaces.legacy_pooling3d_support
    def __init__(self, pool_size=(2, 2, 2), strides=None, padding='valid', data_format=None,
                 **kwargs):
        super(AveragePooling3D, self).__init__(3, pool_size, strides, padding, data_format,
                                               **kwargs)


class _GlobalPooling(Layer):
    """Reduces all spatial axes: `(batch, ..., channels) -> (batch, channels)`."""

    def __init__(self, rank, data_format=None, **kwargs):
        super(_GlobalPooling, self).__init__(**kwargs)
        self.rank = rank
        self.data_format = checked(self, K.normalize_data_format, data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _axes(self):
        return spatial_axes(self.data_format, self.rank)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[channel_axis(self.data_format)])

    def get_config(self):
        return _merge_config(super(_GlobalPooling, self).get_config(),
                             {'data_format': self.data_format})


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over time; with a mask, the mean over the unmasked timesteps only."""

    def __init__(self, data_format='channels_last', **kwargs):
        super(GlobalAveragePooling1D, self).__init__(1, data_format, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        steps_axis = self._axes()[0]
        if mask is None:
            return K.mean(inputs, axis=steps_axis)
        weights = K.cast(mask, K.dtype(inputs))
        weights = K.expand_dims(weights, 2 if steps_axis == 1 else 1)
        return K.sum(inputs * weights, axis=steps_axis) / K.sum(weights, axis=steps_axis)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling1D(_GlobalPooling):
    """Maximum over time."""

    def __init__(self, data_format='channels_last', **kwargs):
        super(GlobalMaxPooling1D, self).__init__(1, data_format, **kwargs)

    def call(self, inputs):
        return K.max(inputs, axis=self._axes()[0])


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over rows and columns."""

    @interfaces.legacy_global_pooling_support
    def __init__(self, data_format=None, **kwargs):
        super(GlobalAveragePooling2D, self).__init__(2, data_format, **kwargs)

    def call(self, inputs):
        return K.mean(inputs, axis=self._axes())


class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over rows and columns."""

    @interfaces.legacy_global_pooling_support
    def __init__(self, data_format=None, **kwargs):
        super(GlobalMaxPooling2D, self).__init__(2, data_format, **kwargs)

    def call(self, inputs):
        return K.max(inputs, axis=self._axes())


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes."""

    @interfaces.legacy_global_pooling_support
    def __init__(self, data_format=None, **kwargs):
        super(GlobalAveragePooling3D, self).__init__(3, data_format, **kwargs)

    def call(self, inputs):
        return K.mean(inputs, axis=self._axes())


class GlobalMaxPooling3D(_GlobalPooling):
    """Maximum over the three spatial axes."""

    @interfaces.legacy_global_pooling_support
    def __init__(self, data_format=None, **kwargs):
        super(GlobalMaxPooling3D, self).__init__(3, data_format, **kwargs)

    def call(self, inputs):
        return K.max(inputs, axis=self._axes())


# Keras 2.2.4's aliases.
AvgPool1D = AveragePooling1D
MaxPool1D = MaxPooling1D
AvgPool2D = AveragePooling2D
MaxPool2D = MaxPooling2D
AvgPool3D = AveragePooling3D
MaxPool3D = MaxPooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
