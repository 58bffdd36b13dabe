"""Shape and argument helpers shared by the convolution and pooling layers.

Kept apart from `convolutional.py` so that `pooling.py` can use them while
`convolutional.py` re-exports the pooling layers (as Keras 2.2.4's
`keras.layers.convolutional` does) without an import cycle.
"""
from refkeras.backend.ops_conv import conv_output_length


def _merge_config(base, extra):
    config = dict(base)
    config.update(extra)
    return config


def checked(layer, check, *args):
    """Runs an argument check, naming `layer` in the error it raises.

    # Raises
        ValueError: the check's error, prefixed with the layer's class and name.
    """
    try:
        return check(*args)
    except ValueError as error:
        raise ValueError('%s layer "%s": %s' % (type(layer).__name__, layer.name, error)) from None


def spatial_axes(data_format, rank):
    """The positions of the spatial axes in a `(batch, ...)` shape."""
    first = 2 if data_format == 'channels_first' else 1
    return list(range(first, first + rank))


def channel_axis(data_format):
    """The position of the channels axis (1 or -1)."""
    return 1 if data_format == 'channels_first' else -1


def checked_output_sizes(layer, input_shape, window, padding, strides, dilation, what='kernel'):
    """Output spatial sizes of a convolution or pooling, or an error naming the layer.

    # Raises
        ValueError: if the window does not fit the input (a zero or negative
            output size), naming the layer, the input shape and the window.
    """
    spatial = [input_shape[a] for a in spatial_axes(layer.data_format, len(window))]
    sizes = [conv_output_length(n, k, padding, s, d)
             for n, k, s, d in zip(spatial, window, strides, dilation)]
    if any(n is not None and n < 1 for n in sizes):
        raise ValueError('%s layer "%s": the %s of size %s (dilation %s) is larger than the input '
                         'of shape %s with padding "%s"; the output size would be %s. Use a '
                         'smaller %s, padding="same", or a larger input.'
                         % (type(layer).__name__, layer.name, what, tuple(window),
                            tuple(dilation), tuple(input_shape), padding,
                            tuple(sizes), what))
    return sizes


def known_channels(layer, input_shape):
    """The input's channel count, which must be known to build weights.

    # Raises
        ValueError: naming the layer when the channels axis is None.
    """
    dim = input_shape[channel_axis(layer.data_format)]
    if dim is None:
        raise ValueError('%s layer "%s": the channel dimension of the inputs should be defined; '
                         'found None in input shape %s (data_format=%s).'
                         % (type(layer).__name__, layer.name, tuple(input_shape),
                            layer.data_format))
    return int(dim)
