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
