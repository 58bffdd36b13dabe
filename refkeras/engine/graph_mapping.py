"""How `Network` maps its graph of layers (Keras 2.2.4's rules), one job per function.

From the outputs back to the inputs: which nodes the outputs depend on and in
which order (`nodes_reaching`), the depth of every node and layer
(`depths`: an output node is at depth 0, and a node is one deeper than the
deepest node it feeds), the layer order (`layer_order`: deepest first, ties
in the order the layers were reached), and the two checks that every
tensor can be computed from the inputs (`check_connected`, "Graph
disconnected") and that layer names are unique (`check_unique_names`).
"""


def nodes_reaching(outputs):
    """The nodes the `outputs` depend on, each after the nodes it reads from.

    # Arguments
        outputs: the network's output tensors.

    # Returns
        `(nodes, discovery)`: the nodes (a depth-first post-order, so a node
        comes after every node that feeds it), and a dict layer -> the
        position in which the search first reached it.

    # Raises
        ValueError: if the graph has a cycle.
    """
    nodes, discovery, finished, in_progress = [], {}, set(), set()

    def visit(layer, node_index):
        node = layer._inbound_nodes[node_index]
        if node in in_progress:
            raise ValueError('The graph of layer "%s" has a cycle.' % layer.name)
        if node in finished:
            return
        discovery.setdefault(layer, len(discovery))
        in_progress.add(node)
        for inbound_layer, index in zip(node.inbound_layers, node.node_indices):
            visit(inbound_layer, index)
        finished.add(node)
        in_progress.remove(node)
        nodes.append(node)

    for x in outputs:
        layer, node_index, _ = x._keras_history
        visit(layer, node_index)
    return nodes, discovery


def depths(nodes):
    """The depth of every node and of every layer.

    A node that produces an output is at depth 0; a node is one deeper than the
    deepest node it feeds; a layer is as deep as its deepest node, and each of
    its nodes at least as deep as the layer (Keras 2.2.4's rule, so that a
    layer shared at several places runs after everything it reads).

    # Arguments
        nodes: as `nodes_reaching` gives them.

    # Returns
        `(node_depths, layer_depths)`, two dicts.
    """
    node_depths, layer_depths = {}, {}
    for node in reversed(nodes):
        depth = node_depths.setdefault(node, 0)
        depth = max(depth, layer_depths.get(node.outbound_layer, 0))
        layer_depths[node.outbound_layer] = depth
        node_depths[node] = depth
        for inbound_layer, index in zip(node.inbound_layers, node.node_indices):
            inbound_node = inbound_layer._inbound_nodes[index]
            node_depths[inbound_node] = max(depth + 1, node_depths.get(inbound_node, 0))
    return node_depths, layer_depths


def group_by_depth(depth_of):
    """A dict depth -> the keys of `depth_of` at that depth, in `depth_of`'s order."""
    grouped = {}
    for item, depth in depth_of.items():
        grouped.setdefault(depth, []).append(item)
    return grouped


def layer_order(layers_by_depth, discovery):
    """`Network.layers`: the deepest layers first; at one depth, in the order
    the search reached them (`discovery`)."""
    ordered = []
    for depth in sorted(layers_by_depth, reverse=True):
        ordered.extend(sorted(layers_by_depth[depth], key=discovery.get))
    return ordered


def check_connected(inputs, nodes_by_depth):
    """Every tensor a node reads can be computed from `inputs`.

    # Raises
        ValueError: "Graph disconnected", naming the tensor, the layer that
            needs it and the layers reached before it.
    """
    computable = {id(x) for x in inputs}
    accessed = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for x in node.input_tensors:
                if id(x) not in computable:
                    raise ValueError('Graph disconnected: cannot obtain value for tensor %r '
                                     'at layer "%s". The following previous layers were '
                                     'accessed without issue: %s'
                                     % (x, node.outbound_layer.name, accessed))
            computable.update(id(x) for x in node.output_tensors)
            accessed.append(node.outbound_layer.name)


def check_unique_names(layers):
    """# Raises
        ValueError: naming a layer name used more than once, and how often.
    """
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError('The name "%s" is used %d times in the model. All layer names '
                             'should be unique.' % (name, names.count(name)))
