"""Model summaries and parameter counts."""
import numpy as np


def count_params(weights):
    """Number of scalars in a list of weights (each counted once)."""
    unique = {id(w): w for w in weights}.values()
    return int(sum(int(np.prod(w.shape)) for w in unique))


def _is_sequential_like(model):
    if model.__class__.__name__ == 'Sequential':
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and
                                     len(depth_nodes[0].inbound_layers) > 1):
            return False
        nodes += depth_nodes
    for layer in model.layers:
        if sum(1 for node in layer._inbound_nodes if node in nodes) > 1:
            return False
    return True


def _format_shape(shape):
    if isinstance(shape, list):
        return str([_format_shape(s) for s in shape]).replace("'", '')
    return str(tuple(shape))


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints a table of the model's layers, in Keras 2.2.4's format.

    A chain of single-input layers gets the columns 'Layer (type)', 'Output
    Shape' and 'Param #' in 65 characters; any other graph also 'Connected to'
    in 98 characters. The totals count each weight once; trainable ones as
    collected by the last `compile` when there was one.

    # Arguments
        model: the model.
        line_length: total width of the table.
        positions: right edges of the columns, as fractions or characters.
        print_fn: called with each line (default `print`).
    """
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [.45, .85, 1.]
        headers = ['Layer (type)', 'Output Shape', 'Param #']
    else:
        line_length = line_length or 98
        positions = positions or [.33, .55, .67, 1.]
        headers = ['Layer (type)', 'Output Shape', 'Param #', 'Connected to']
        relevant_nodes = [n for nodes in model._nodes_by_depth.values() for n in nodes]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def print_row(fields):
        line = ''
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + ' '
            line += str(field)
            line = line[:positions[i]]
            line += ' ' * (positions[i] - len(line))
        print_fn(line)

    print_fn('_' * line_length)
    print_row(headers)
    print_fn('=' * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        try:
            shape = _format_shape(layer.output_shape)
        except AttributeError:
            shape = 'multiple'
        name = '%s (%s)' % (layer.name, layer.__class__.__name__)
        if sequential_like:
            print_row([name, shape, layer.count_params()])
        else:
            connections = []
            for node in layer._inbound_nodes:
                if node not in relevant_nodes:
                    continue
                for inbound, node_index, tensor_index in zip(node.inbound_layers,
                                                             node.node_indices,
                                                             node.tensor_indices):
                    connections.append('%s[%d][%d]' % (inbound.name, node_index, tensor_index))
            print_row([name, shape, layer.count_params(), connections[0] if connections else ''])
            for extra in connections[1:]:
                print_row(['', '', '', extra])
        print_fn(('=' if i == len(layers) - 1 else '_') * line_length)
    collected = getattr(model, '_collected_trainable_weights', None)
    trainable = count_params(collected if collected is not None else model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    print_fn('Total params: {:,}'.format(trainable + non_trainable))
    print_fn('Trainable params: {:,}'.format(trainable))
    print_fn('Non-trainable params: {:,}'.format(non_trainable))
    print_fn('_' * line_length)


# --- weight conversions between backends and data formats ----------------------------

#: The layers whose kernel `convert_all_kernels_in_model` flips (as Keras 2.2.4:
#: separable and depthwise convolutions are left alone).
CONVOLUTION_CLASSES = ('Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose')


def convert_all_kernels_in_model(model):
    """Flips the spatial axes of every convolution kernel of `model`.

    Converts weights trained with Theano (whose convolutions flip the kernel)
    for use with refkeras or TensorFlow (which do not), and back: see
    `conv_utils.convert_kernel`. The layers converted are `model.layers` of
    the classes in `CONVOLUTION_CLASSES`.

    # Arguments
        model: a `Model` (or `Sequential`).
    """
    from refkeras import backend as K
    from refkeras.utils.conv_utils import convert_kernel
    to_assign = [(layer.kernel, convert_kernel(K.get_value(layer.kernel)))
                 for layer in model.layers if layer.__class__.__name__ in CONVOLUTION_CLASSES]
    K.batch_set_value(to_assign)


def convert_dense_weights_data_format(dense, previous_feature_map_shape,
                                      target_data_format='channels_first'):
    """Reorders the input rows of a Dense kernel that follows a `Flatten` of
    a convolutional feature map, for a model built with the other data format.

    Flattening a feature map of `channels` x `height` x `width` values lists
    them in a different order in 'channels_first' than in 'channels_last'
    layout; the Dense layer after it must see its weights in the same order.

    # Arguments
        dense: the `Dense` layer (its weights are replaced).
        previous_feature_map_shape: the feature map's shape (3 integers)
            before the `Flatten`, in the *target* layout: `(channels,
            height, width)` for 'channels_first', `(height, width, channels)`
            for 'channels_last'.
        target_data_format: the layout the weights are converted to
            ('channels_first' or 'channels_last'); they are taken to be in
            the other one now.

    # Raises
        ValueError: for another `target_data_format`, a shape that is not 3
            integers, or one whose size is not the kernel's number of rows
            (the layer is then left unchanged).
    """
    if target_data_format not in ('channels_first', 'channels_last'):
        raise ValueError('convert_dense_weights_data_format: `target_data_format` must be '
                         '"channels_first" or "channels_last"; received %r.'
                         % (target_data_format,))
    shape = tuple(previous_feature_map_shape)
    if len(shape) != 3 or not all(isinstance(n, (int, np.integer)) for n in shape):
        raise ValueError('convert_dense_weights_data_format: `previous_feature_map_shape` must '
                         'be 3 integers; received %r.' % (previous_feature_map_shape,))
    weights = dense.get_weights()
    kernel = weights[0]
    if int(np.prod(shape)) != kernel.shape[0]:
        raise ValueError('convert_dense_weights_data_format: layer %s has %d input rows, but '
                         'a feature map of shape %s flattens to %d values.'
                         % (dense.name, kernel.shape[0], shape, int(np.prod(shape))))
    if target_data_format == 'channels_first':
        channels, height, width = shape
        current, to_target = (height, width, channels), (2, 0, 1)
    else:
        height, width, channels = shape
        current, to_target = (channels, height, width), (1, 2, 0)
    units = kernel.shape[1]
    reordered = kernel.reshape(current + (units,)).transpose(to_target + (3,))
    dense.set_weights([reordered.reshape(kernel.shape)] + weights[1:])
