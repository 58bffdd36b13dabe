"""A graph network's config, both ways (Keras 2.2.4's functional layout).

`network_get_config` (behind `Network.get_config`) lists the layers and the
calls that make up the graph; `network_from_config` (behind
`Network.from_config`) creates the layers and makes those calls again.
"""
import json
import warnings

from refkeras.engine.saving.compat_tf_keras import as_coordinates_list
from refkeras.utils.generic_utils import unpack_singleton


def network_get_config(network):
    """Keras 2.2.4's functional config of a graph network.

    # Returns
        `{'name', 'layers', 'input_layers', 'output_layers'}`. Each layer
        entry is `{'name', 'class_name', 'config', 'inbound_nodes'}`, where
        `inbound_nodes` lists, for each call of the layer that belongs to
        this network, its inputs as `[layer_name, node_index, tensor_index,
        kwargs]`. Node indices are renumbered to count only the nodes that
        belong to the network (a nested network's own node 0 is kept), so
        the config rebuilds the same graph in a fresh process.

        An input that no output depends on is not among `network.layers`;
        its input layer is listed too (first), so that the rebuilt network
        takes the same inputs. (Keras 2.2.4 dropped it from `input_layers`:
        the rebuilt model took one input fewer.)
    """
    # Imported here: at the top it would be a circular import.
    from refkeras.engine.network import Network
    network_nodes = network._network_nodes
    new_index = {}
    for layer in network.layers:
        kept = 1 if isinstance(layer, Network) else 0
        for node in layer._inbound_nodes:
            if node in network_nodes:
                new_index[id(node)] = kept
                kept += 1

    def renumbered(layer, node_index):
        node = layer._inbound_nodes[node_index]
        return new_index.get(id(node), 0)

    unused_inputs = [layer for layer in network.input_layers if layer not in network.layers]
    layer_configs = []
    for layer in unused_inputs + network.layers:
        inbound_nodes = []
        for node in layer._inbound_nodes:
            if node not in network_nodes or not node.inbound_layers:
                continue
            kwargs = node.arguments or {}
            if kwargs:
                try:
                    json.dumps(kwargs)
                except TypeError:
                    warnings.warn('Layer %s was passed non-serializable keyword arguments: %s. '
                                  'They will not be included in the serialized model (and thus '
                                  'will be missing at deserialization time).'
                                  % (layer.name, kwargs))
                    kwargs = {}
            inbound_nodes.append([[inbound.name, renumbered(inbound, node_index), tensor_index,
                                   kwargs]
                                  for inbound, node_index, tensor_index in
                                  zip(node.inbound_layers, node.node_indices,
                                      node.tensor_indices)])
        layer_configs.append({'name': layer.name, 'class_name': layer.__class__.__name__,
                              'config': layer.get_config(), 'inbound_nodes': inbound_nodes})

    def coordinates(tensors):
        out = []
        for x in tensors:
            layer, node_index, tensor_index = x._keras_history
            out.append([layer.name, renumbered(layer, node_index), tensor_index])
        return out

    return {'name': network.name, 'layers': layer_configs,
            'input_layers': coordinates(network.inputs),
            'output_layers': coordinates(network.outputs)}


def _coordinates_list(value, what):
    """`[[name, node, tensor], ...]`; tf.keras writes a single input as a flat triple."""
    value = as_coordinates_list(value)
    if not isinstance(value, list) or not all(isinstance(v, list) and len(v) == 3 and
                                              isinstance(v[0], str) for v in value):
        raise ValueError('Improperly formatted model config: %s should be a list of '
                         '[layer_name, node_index, tensor_index]; found %r.' % (what, value))
    return value


def _check_indices(node_index, tensor_index, entry):
    for index in (node_index, tensor_index):
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError('Improperly formatted model config: node and tensor indices must be '
                             'integers >= 0; found %r.' % (entry,))


def network_from_config(cls, config, custom_objects=None):
    """Builds a graph network of class `cls` from `network_get_config`'s output.

    Layers are created in the order listed, then called on their inputs;
    a call whose inputs do not exist yet (a shared layer whose other input
    comes later) is retried once they do, and the later calls of that layer
    wait with it, so each call gets the node index the config gives it
    (Keras 2.2.4 could make a later call first and mix up the indices).

    # Raises
        ValueError: for a malformed config: an unknown inbound layer, a node
            that can never be built, or unknown input/output layers.
    """
    if not isinstance(config, dict) or not isinstance(config.get('layers'), list):
        raise ValueError('Improperly formatted model config: expected a dict with a "layers" '
                         'list; found %r.' % (type(config).__name__,))
    created, calls = _create_layers(config['layers'], custom_objects)
    _make_calls(created, calls)
    inputs = _tensors_at(created, config.get('input_layers'), 'input_layers')
    outputs = _tensors_at(created, config.get('output_layers'), 'output_layers')
    return cls(inputs=inputs, outputs=outputs, name=config.get('name'))


def _create_layers(layers_config, custom_objects):
    """The layers of a config, by name, and their calls `(layer, node_data)` in
    the order Keras processes them."""
    # Imported here: refkeras.layers imports the engine, which imports this module.
    from refkeras.layers import deserialize as deserialize_layer
    created, calls = {}, []
    for layer_data in layers_config:
        if not isinstance(layer_data, dict) or 'name' not in layer_data:
            raise ValueError('Improperly formatted model config: a layer entry has no name: %r.'
                             % (layer_data,))
        layer = deserialize_layer(layer_data, custom_objects=custom_objects)
        created[layer_data['name']] = layer
        inbound_nodes = layer_data.get('inbound_nodes') or []
        if not isinstance(inbound_nodes, list):
            raise ValueError('Improperly formatted model config: inbound_nodes of layer %r.'
                             % layer_data['name'])
        calls.extend((layer, node_data) for node_data in inbound_nodes)
    return created, calls


def _input_tensors_of(created, node_data):
    """The tensors one call reads and its keyword arguments, or `(None, {})`
    when one of those tensors does not exist yet."""
    tensors = []
    for input_data in node_data:
        if not isinstance(input_data, list) or len(input_data) not in (3, 4):
            raise ValueError('Improperly formatted model config: inbound node entry %r.'
                             % (input_data,))
        name, node_index, tensor_index = input_data[:3]
        _check_indices(node_index, tensor_index, input_data)
        if name not in created:
            raise ValueError('Improperly formatted model config: a layer is called on the '
                             'output of layer %r, which the config does not define.' % (name,))
        inbound = created[name]
        if len(inbound._inbound_nodes) <= node_index:
            return None, {}
        outputs = inbound._inbound_nodes[node_index].output_tensors
        if tensor_index >= len(outputs):
            raise ValueError('Improperly formatted model config: %r asks for output %d of '
                             'layer %r, which has %d.' % (input_data, tensor_index, name,
                                                          len(outputs)))
        tensors.append(outputs[tensor_index])
    kwargs = node_data[0][3] if node_data and len(node_data[0]) == 4 else {}
    return tensors, kwargs or {}


def _make_calls(created, pending):
    """Calls each layer on its inputs, retrying the calls whose inputs come later."""
    while pending:
        still_pending, blocked = [], set()
        for layer, node_data in pending:
            # A layer's calls are made in their order, so that their node indices
            # are those of the config: once one waits, the later ones wait too.
            tensors, kwargs = ((None, {}) if id(layer) in blocked
                               else _input_tensors_of(created, node_data))
            if tensors is None:
                still_pending.append((layer, node_data))
                blocked.add(id(layer))
            elif tensors:
                layer(unpack_singleton(tensors), **kwargs)
        if len(still_pending) == len(pending):
            layer, node_data = still_pending[0]
            raise ValueError('Improperly formatted model config: the call of layer %r on %r can '
                             'never be made (its inputs are never created).'
                             % (layer.name, node_data))
        pending = still_pending


def _tensors_at(created, coordinates, what):
    """The tensors that `[layer name, node index, tensor index]` entries name."""
    out = []
    for name, node_index, tensor_index in _coordinates_list(coordinates, what):
        _check_indices(node_index, tensor_index, [name, node_index, tensor_index])
        if name not in created:
            raise ValueError('Improperly formatted model config: %s names layer %r, which '
                             'the config does not define.' % (what, name))
        nodes = created[name]._inbound_nodes
        if node_index >= len(nodes) or tensor_index >= len(nodes[node_index].output_tensors):
            raise ValueError('Improperly formatted model config: %s refers to node %d, '
                             'tensor %d of layer %r, which does not exist.'
                             % (what, node_index, tensor_index, name))
        out.append(nodes[node_index].output_tensors[tensor_index])
    return out
