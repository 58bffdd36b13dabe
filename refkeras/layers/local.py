"""Locally connected layers (Keras 2.2.4's `keras/layers/local.py`).

`LocallyConnected1D` and `LocallyConnected2D` work like `Conv1D` and `Conv2D`
with 'valid' padding, except that the weights are not shared: every output
position has its own kernel and its own bias. The arithmetic is
`K.local_conv1d` / `K.local_conv2d` (`refkeras/backend/ops_local.py`), a
composition of the `gather` and `matmul` primitives.

Weights have Keras 2.2.4's shapes, so weights saved by Keras load here:

- `LocallyConnected1D`: `kernel (output_length, kernel_size * input_dim,
  filters)`, `bias (output_length, filters)`;
- `LocallyConnected2D`: `kernel (output_rows * output_cols, kernel_rows *
  kernel_cols * channels, filters)`, `bias (output_rows, output_cols, filters)`.

A kernel's middle axis lists a patch's values in (rows, cols, channels)
order with channels_last and (channels, rows, cols) with channels_first. With
channels_first the bias is added as `K.bias_add` adds a multi-axis bias (as in
Keras: reshaped, not transposed, to channels first), so files agree too.
"""
from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.backend.ops_conv import conv_output_length, normalize_padding, normalize_tuple
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.legacy import interfaces
from refkeras.layers.convolutional import channel_axis, checked, known_channels
from refkeras.layers.core import bias_and_activation
from refkeras.utils.generic_utils import transpose_shape

__all__ = ['LocallyConnected1D', 'LocallyConnected2D']


class _LocallyConnected(Layer):
    """What both locally connected layers share: arguments, weights, config.

    Subclasses set `rank` and say how `call` runs the local convolution.
    """

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding='valid', data_format=None,
                 activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super(_LocallyConnected, self).__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError('%s layer "%s": `filters` must be a positive integer, received %r.'
                             % (type(self).__name__, self.name, filters))
        self.filters = filters
        self.kernel_size = checked(self, normalize_tuple, kernel_size, self.rank, 'kernel_size')
        self.strides = checked(self, normalize_tuple, strides, self.rank, 'strides')
        for name in ('kernel_size', 'strides'):
            if min(getattr(self, name)) < 1:
                raise ValueError('%s layer "%s": `%s` must be positive, received %r.'
                                 % (type(self).__name__, self.name, name, getattr(self, name)))
        self.padding = checked(self, normalize_padding, padding, ('valid', 'same'))
        if self.padding != 'valid':
            raise ValueError('%s layer "%s": only padding="valid" is supported (as in Keras '
                             '2.2.4); received padding=%r.'
                             % (type(self).__name__, self.name, padding))
        self.data_format = self._data_format(data_format)
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

    def _data_format(self, data_format):
        return checked(self, K.normalize_data_format, data_format)

    def _check_input_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError('%s layer "%s" expects input of rank %d (batch, %d spatial axes, '
                             'channels); received input shape %s.'
                             % (type(self).__name__, self.name, self.rank + 2, self.rank,
                                tuple(input_shape)))

    def _output_sizes(self, input_shape):
        """The output's spatial sizes; an error naming the layer if the window does not fit."""
        first = 2 if self.data_format == 'channels_first' else 1
        spatial = input_shape[first:first + self.rank]
        sizes = [conv_output_length(n, k, 'valid', s)
                 for n, k, s in zip(spatial, self.kernel_size, self.strides)]
        if any(n is not None and n < 1 for n in sizes):
            raise ValueError('%s layer "%s": the kernel of size %s is larger than the input of '
                             'shape %s (%s; spatial size %s); the output size would be %s. Use '
                             'a smaller kernel_size or a larger input (only padding="valid" '
                             'exists for locally connected layers).'
                             % (type(self).__name__, self.name, tuple(self.kernel_size),
                                tuple(input_shape), self.data_format, tuple(spatial),
                                tuple(sizes)))
        return sizes

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_input_rank(input_shape)
        sizes = self._output_sizes(input_shape)
        if None in sizes:
            raise ValueError('%s layer "%s": the spatial dimensions of the input must be known '
                             '(every position has its own kernel); received input shape %s.'
                             % (type(self).__name__, self.name, input_shape))
        channels = known_channels(self, input_shape)
        self.output_sizes = tuple(sizes)
        positions = 1
        for n in sizes:
            positions *= n
        window = 1
        for k in self.kernel_size:
            window *= k
        self.kernel_shape = (positions, window * channels, self.filters)
        self.kernel = self.add_weight(shape=self.kernel_shape,
                                      initializer=self.kernel_initializer, name='kernel',
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=self.output_sizes + (self.filters,),
                                        initializer=self.bias_initializer, name='bias',
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={channel_axis(self.data_format): channels})
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_input_rank(input_shape)
        sizes = self._output_sizes(input_shape)
        shape = (input_shape[0],) + tuple(sizes) + (self.filters,)
        return transpose_shape(shape, self.data_format,
                               spatial_axes=tuple(range(1, self.rank + 1)))

    def call(self, inputs):
        output = self._local_conv(inputs)
        return bias_and_activation(output, self.bias, self.activation, self.data_format)

    def _local_conv(self, inputs):
        raise NotImplementedError

    def get_config(self):
        config = {
            'filters': self.filters,
            'kernel_size': self.kernel_size,
            'strides': self.strides,
            'padding': self.padding,
            'data_format': self.data_format,
            'activation': activations.serialize(self.activation),
            'use_bias': self.use_bias,
            'kernel_initializer': initializers.serialize(self.kernel_initializer),
            'bias_initializer': initializers.serialize(self.bias_initializer),
            'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
            'bias_regularizer': regularizers.serialize(self.bias_regularizer),
            'activity_regularizer': regularizers.serialize(self.activity_regularizer),
            'kernel_constraint': constraints.serialize(self.kernel_constraint),
            'bias_constraint': constraints.serialize(self.bias_constraint),
        }
        base = dict(super(_LocallyConnected, self).get_config())
        base.update(config)
        return base


class LocallyConnected1D(_LocallyConnected):
    """Locally connected layer for sequences: `Conv1D` with unshared weights.

    Every output step has its own `(kernel_size * input_dim, filters)` kernel
    and its own bias.

    # Example
    ```python
    model = Sequential()
    model.add(LocallyConnected1D(64, 3, input_shape=(10, 32)))
    # model.output_shape == (None, 8, 64)
    model.add(LocallyConnected1D(32, 3))
    # model.output_shape == (None, 6, 32)
    ```

    # Arguments
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of one int, the window's length.
        strides: int or tuple of one int.
        padding: only 'valid' (case-insensitive).
        data_format: 'channels_last' (`(batch, steps, channels)`, the default
            whatever `image_data_format` says, as in Keras 2.2.4) or
            'channels_first' (`(batch, channels, steps)`; Keras 2.2.4 accepted
            the argument but ignored it).
        activation: activation name or function (None: linear).
        use_bias: whether to add a bias per output step and filter.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: as for `Dense`.

    # Input shape
        `(batch, steps, input_dim)`.

    # Output shape
        `(batch, new_steps, filters)`, `new_steps = (steps - kernel_size) //
        strides + 1`.

    # Raises
        ValueError: naming the layer, for padding other than 'valid', an
            input that is not 3D, an unknown number of steps or channels, or a
            window longer than the input.
    """

    rank = 1

    @interfaces.legacy_conv1d_support
    def __init__(self, filters, kernel_size, strides=1, padding='valid', data_format=None,
                 activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super(LocallyConnected1D, self).__init__(
            filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)

    def _data_format(self, data_format):
        if data_format is None:
            return 'channels_last'
        return checked(self, K.normalize_data_format, data_format)

    def _local_conv(self, inputs):
        return K.local_conv1d(inputs, self.kernel, self.kernel_size, self.strides,
                              data_format=self.data_format)


class LocallyConnected2D(_LocallyConnected):
    """Locally connected layer for images: `Conv2D` with unshared weights.

    Every output position has its own `(kernel_rows * kernel_cols * channels,
    filters)` kernel and its own bias.

    # Example
    ```python
    model = Sequential()
    model.add(LocallyConnected2D(64, (3, 3), input_shape=(32, 32, 3)))
    # model.output_shape == (None, 30, 30, 64);
    # (30 * 30) * (3 * 3 * 3 * 64) + (30 * 30) * 64 parameters
    model.add(LocallyConnected2D(32, (3, 3)))
    # model.output_shape == (None, 28, 28, 32)
    ```

    # Arguments
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints.
        padding: only 'valid' (case-insensitive).
        data_format: 'channels_last' or 'channels_first' (None:
            `K.image_data_format()`).
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: as for `LocallyConnected1D`.

    # Input shape
        `(batch, rows, cols, channels)` or `(batch, channels, rows, cols)`.

    # Output shape
        `(batch, new_rows, new_cols, filters)` or `(batch, filters, new_rows,
        new_cols)`.

    # Raises
        ValueError: naming the layer, for padding other than 'valid', an
            input that is not 4D, unknown spatial sizes or channels, or a
            window larger than the input.
    """

    rank = 2

    @interfaces.legacy_conv2d_support
    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
                 activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super(LocallyConnected2D, self).__init__(
            filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)

    @property
    def output_row(self):
        return self.output_sizes[0]

    @property
    def output_col(self):
        return self.output_sizes[1]

    def _local_conv(self, inputs):
        return K.local_conv2d(inputs, self.kernel, self.kernel_size, self.strides,
                              self.output_sizes, data_format=self.data_format)
