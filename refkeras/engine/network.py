"""`Network`: a directed acyclic graph of layers, itself usable as a layer.

`Model(inputs, outputs)` (in `training.py`) adds training to this class. The
graph is mapped as Keras 2.2.4 maps it: nodes get depths, `self.layers` is
ordered by decreasing depth (inputs first) and, within a depth, by the order a
depth-first walk from the outputs meets them. Weight files list layers in
this order, so it matters for file compatibility.
"""
import numpy as np

from refkeras import backend as K
from refkeras.backend import graph as graph_module
from refkeras.backend.tensors import SymbolicTensor, any_symbolic
from refkeras.engine import graph_mapping, layer_losses
from refkeras.engine import run_context
from refkeras.engine import saving
from refkeras.engine.base_layer import Layer, Node, _unique
from refkeras.engine.input_layer import InputLayer
from refkeras.engine.saving import pickling
from refkeras.utils.generic_utils import to_list, unpack_singleton
from refkeras.utils.layer_utils import print_summary


class Network(Layer):
    """A graph of layers from `inputs` to `outputs`.

    # Arguments
        inputs: an `Input` tensor or a list of them.
        outputs: a tensor or a list of tensors computed from `inputs` by layers.
        name: model name (`model_1`, ... by default).

    # Raises
        ValueError: if an input is not an `Input` tensor, an output was not
            produced by a layer, an output cannot be computed from the inputs
            ("graph disconnected"), an input is repeated, or two layers share a
            name.
    """

    def __init__(self, inputs, outputs, name=None):
        super(Network, self).__init__(name=name)
        self._init_graph_network(inputs, outputs)

    def _init_graph_network(self, inputs, outputs):
        inputs, outputs = to_list(inputs), to_list(outputs)
        self._check_graph_endpoints(inputs, outputs)
        self.inputs, self.outputs = list(inputs), list(outputs)
        self.input_layers = [x._keras_history[0] for x in self.inputs]
        self.output_layers = [x._keras_history[0] for x in self.outputs]
        self.input_names = [layer.name for layer in self.input_layers]
        self.output_names = [layer.name for layer in self.output_layers]
        self._map_graph()
        self._order = graph_module.topological_nodes(self.outputs, {id(x) for x in self.inputs})
        # The inputs fed with data (Keras 2.2.4's `_feed_inputs`): not those
        # made on a value with `Input(tensor=...)`, which read it themselves.
        self._feed_inputs = [x for x, layer in zip(self.inputs, self.input_layers)
                             if getattr(layer, 'is_placeholder', True)]
        self._feed_input_names = [layer.name for layer in self.input_layers
                                  if getattr(layer, 'is_placeholder', True)]
        self._feed_input_shapes = [x.shape for x in self._feed_inputs]
        self._bound_inputs = [x for x in self.inputs
                              if all(x is not fed for fed in self._feed_inputs)]
        self.built = True
        self._is_graph_network = True
        self.supports_masking = True
        # The network's own node, so `model.input` / `model.output` work as for any layer.
        self._inbound_nodes = []
        Node(self, inbound_layers=[], node_indices=[], tensor_indices=[],
             input_tensors=self.inputs, output_tensors=self.outputs,
             input_shapes=[x.shape for x in self.inputs],
             output_shapes=[x.shape for x in self.outputs])

    def _check_graph_endpoints(self, inputs, outputs):
        cls = self.__class__.__name__
        seen = set()
        for x in inputs:
            history = getattr(x, '_keras_history', None)
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError('Input tensors to a %s must come from `refkeras.layers.Input`. '
                                 'Received: %r (missing previous layer metadata).' % (cls, x))
            if id(x) in seen:
                raise ValueError('The list of inputs passed to the model is redundant: all '
                                 'inputs should only appear once. Found: %r' % (inputs,))
            seen.add(id(x))
        for x in outputs:
            if getattr(x, '_keras_history', None) is None:
                raise ValueError('Output tensors to a %s must be the output of a Keras `Layer` '
                                 '(thus holding past layer metadata). Found: %r' % (cls, x))

    def _map_graph(self):
        """Depths of nodes and layers, layer order, and the checks (see `graph_mapping`)."""
        nodes, discovery = graph_mapping.nodes_reaching(self.outputs)
        node_depths, layer_depths = graph_mapping.depths(nodes)
        self._nodes_by_depth = graph_mapping.group_by_depth(node_depths)
        self._layers_by_depth = graph_mapping.group_by_depth(layer_depths)
        self._layers = graph_mapping.layer_order(self._layers_by_depth, discovery)
        self._network_nodes = set(node_depths)
        graph_mapping.check_connected(self.inputs, self._nodes_by_depth)
        graph_mapping.check_unique_names(self._layers)

    # --- layers and weights ---------------------------------------------------

    @property
    def _input_layers(self):
        """Keras 2.2.4's private name of `input_layers`."""
        return self.input_layers

    @property
    def _output_layers(self):
        """Keras 2.2.4's private name of `output_layers`."""
        return self.output_layers

    @property
    def layers(self):
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index in `self.layers`.

        # Raises
            ValueError: for an unknown name, an index out of range, or neither.
        """
        if index is not None:  # as in Keras 2.2.4, an index wins over a name
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError('Was asked to retrieve layer at index %d but model only has %d '
                                 'layers.' % (index, len(self.layers)))
            return self.layers[index]
        if name is None:
            raise ValueError('Provide either a layer name or layer index.')
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError('No such layer: %s. The model has: %s.'
                         % (name, [layer.name for layer in self.layers]))

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique([w for layer in self.layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        weights = _unique([w for layer in self.layers for w in layer.non_trainable_weights])
        if not self.trainable:
            return _unique([w for layer in self.layers for w in layer.trainable_weights] + weights)
        return weights

    def get_weights(self):
        """All weights' values, layer by layer (the order `set_weights` expects)."""
        return K.batch_get_value(_unique([w for layer in self.layers for w in layer.weights]))

    def set_weights(self, weights):
        """Sets all weights from a list in `get_weights` order.

        # Raises
            ValueError: naming the layer, for a wrong count or shape; nothing is
                changed then.
        """
        params = _unique([w for layer in self.layers for w in layer.weights])
        if len(params) != len(weights):
            raise ValueError('Model %s expects %d weight arrays, received %d.'
                             % (self.name, len(params), len(weights)))
        pairs = []
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(p.shape) != w.shape:
                raise ValueError('Weight %s of model %s has shape %s; the value given has shape %s.'
                                 % (p.name, self.name, p.shape, w.shape))
            pairs.append((p, w))
        K.batch_set_value(pairs)

    # --- losses (see `engine.layer_losses`) -------------------------------------

    def _internal_loss_entries(self):
        """The unique loss entries the network trains on: for each layer, those
        filed under the inputs of its calls inside this network and those that
        depend on no input, then the network's own unconditional ones."""
        entries = []
        for layer in self.layers:
            for node in layer._inbound_nodes:
                if node in self._network_nodes:
                    entries.extend(layer_losses.entries_for(layer, node.input_tensors))
            entries.extend(layer_losses.entries_for(layer, None))
        entries.extend(self._per_input_losses.get(None, []))
        return layer_losses.unique_entries(entries)

    def _all_loss_entries(self):
        return self._internal_loss_entries()

    def _loss_entries_for(self, inputs):
        """As `Layer`'s; the unconditional ones include the layers' (symbolic
        losses excepted: those depend on this network's inputs and are filed,
        for each call of the network, under that call's inputs)."""
        if inputs is not None:
            return Layer._loss_entries_for(self, inputs)
        entries = list(self._per_input_losses.get(None, []))
        for layer in self.layers:
            entries.extend(layer_losses.entries_for(layer, None))
        return [e for e in entries if not layer_losses.is_symbolic(e)]

    @property
    def losses(self):
        """The network's losses, as Keras 2.2.4 lists them: each layer's losses
        that depend on no input or on the inputs of its calls inside this
        network, and the losses added to the network (each tensor once).
        Weight penalties are computed now."""
        return [layer_losses.current_value(e) for e in self._internal_loss_entries()]

    def _own_symbolic_losses(self, entries=None):
        """The symbolic losses the network itself evaluates when it runs
        (those not marked as collected from its layers' runs), among `entries`
        (by default `_internal_loss_entries()`)."""
        entries = self._internal_loss_entries() if entries is None else entries
        return [e for e in entries
                if layer_losses.is_symbolic(e) and not layer_losses.is_collected_during_runs(e)]

    def _add_call_losses(self, inputs, outputs):
        symbolic = [e for e in self._internal_loss_entries() if layer_losses.is_symbolic(e)]
        if symbolic:
            node = layer_losses.NetworkLossesNode(self, inputs, symbolic)
            self.add_loss(node.outputs, inputs=inputs)

    @property
    def updates(self):
        """The updates of the layers' calls that belong to this graph, as Keras 2.2.4 lists them.

        For each layer: the updates conditional on the inputs of each of its
        calls inside this network, then its unconditional ones. A call of a
        shared layer outside the network does not count. A network that is
        neither trainable nor stateful lists none. refkeras applies updates
        eagerly; a training step applies exactly those listed here when it is
        made (`Model._make_train_function`).
        """
        if not self.trainable and not self.stateful:
            return []
        updates = []
        for layer in self.layers:
            updates.extend(self._conditional_updates_of(layer))
            updates.extend(layer.get_updates_for(None))
        return updates + Layer.get_updates_for(self, None)

    def _conditional_updates_of(self, layer):
        """`layer`'s updates for the inputs of its calls inside this network."""
        own_nodes = getattr(self, '_network_nodes', ())
        return [u for node in layer._inbound_nodes if node in own_nodes
                for u in layer.get_updates_for(node.input_tensors)]

    def get_updates_for(self, inputs):
        """The updates for `inputs`, as the outer model of a nested one asks for them.

        For the inputs of one of this network's calls (its own inputs, or
        other tensors it was called on), the updates its graph makes when it
        runs, i.e. those conditional on its layers' calls inside it; for
        None, its layers' unconditional updates. Updates added to the
        network itself with `add_update(..., inputs)` are included.
        """
        if not self.trainable and not self.stateful:
            return []
        own = Layer.get_updates_for(self, inputs)
        if inputs is None:
            return [u for layer in self.layers for u in layer.get_updates_for(None)] + own
        key = [id(x) for x in to_list(inputs)]
        if any([id(x) for x in node.input_tensors] == key for node in self._inbound_nodes):
            return [u for layer in self.layers for u in self._conditional_updates_of(layer)] + own
        return own

    @property
    def stateful(self):
        return any(getattr(layer, 'stateful', False) for layer in self.layers)

    @stateful.setter
    def stateful(self, value):
        pass  # Derived from the layers; Layer.__init__ assigns it.

    def reset_states(self):
        """Resets the states of every stateful layer (FAQ: "How can I use stateful RNNs?")."""
        for layer in self.layers:
            if hasattr(layer, 'reset_states') and getattr(layer, 'stateful', False):
                layer.reset_states()

    @property
    def uses_learning_phase(self):
        """Whether an output depends on the learning phase (a `Dropout` without
        `training=` on the way to it), as Keras 2.2.4 reports it."""
        return any(getattr(x, '_uses_learning_phase', False) for x in self.outputs)

    def _call_uses_learning_phase(self, arguments):
        # Called on new inputs, a model's outputs switch where its own do.
        return any(x._uses_learning_phase for x in self.outputs)

    # --- running ----------------------------------------------------------------

    def _feed(self, values):
        """`(input, value)` pairs for a run: `values` for the fed inputs, and
        the current value of each input made on a value."""
        return list(zip(self._feed_inputs, values)) + \
            [(x, x.node.current()) for x in self._bound_inputs]

    def _run(self, inputs, mask, arguments):
        masks = None if mask is None else to_list(mask)
        values = to_list(inputs)
        if len(values) != len(self.inputs):
            raise ValueError('Model %s expects %d inputs, received %d.'
                             % (self.name, len(self.inputs), len(values)))
        feed = list(zip(self.inputs, values))
        phase = K.learning_phase()
        training = arguments.get('training')
        if training is not None:
            phase = int(bool(training))
        elif not isinstance(phase, int):
            phase = 0
        # Inside a training or test step, the network's own symbolic losses are
        # computed in the same pass and join the step's losses.
        extra = self._own_symbolic_losses() if run_context.is_collecting() else []
        values, out_masks = graph_module.evaluate(
            self.outputs + extra, feed, phase, None if extra else self._order,
            return_masks=True, feed_masks=masks)
        n = len(self.outputs)
        for value in values[n:]:
            run_context.add_loss(value)
        return values[:n], out_masks[:n]

    def call(self, inputs, mask=None, training=None):
        """Evaluates the graph on concrete inputs."""
        outputs, _ = self._run(inputs, mask, {'training': training})
        return unpack_singleton(outputs)

    def compute_mask(self, inputs, mask=None):
        """The output masks for `inputs` and their masks `mask`.

        On arrays, the graph runs. On symbolic tensors, masks that can exist
        are found by running the graph on zeros standing in for them (sizes
        unknown taken as 2; not for a stateful network, whose states that
        would change); those that are always None are None, the others
        symbolic tensors computed when the graph is evaluated.
        """
        values = to_list(inputs)
        if not any_symbolic(values):
            _, masks = self._run(inputs, mask, {})
            return unpack_singleton(masks)
        masks = None if mask is None else to_list(mask)

        def output_masks(values, masks):
            return self._run(values, masks, {})[1]
        probe = [True] * len(self.outputs)
        if not self.stateful:
            with graph_module.running_phase(0):
                probe = output_masks(_stand_ins(values), _stand_ins(masks))
        if all(m is None for m in probe):
            return unpack_singleton([None] * len(self.outputs))
        symbolic = graph_module.symbolic_aware(output_masks)(values, masks)
        return unpack_singleton([None if p is None else m for p, m in zip(probe, symbolic)])

    def compute_output_shape(self, input_shape):
        """Propagates shapes through the layers' own `compute_output_shape`."""
        shapes = to_list(input_shape) if isinstance(input_shape, list) else [input_shape]
        known = {id(x): tuple(s) for x, s in zip(self.inputs, shapes)}
        for node in self._order:
            in_shapes = [known[id(x)] for x in node.input_tensors]
            out = node.outbound_layer.compute_output_shape(unpack_singleton(in_shapes))
            out = out if isinstance(out, list) else [out]
            for x, s in zip(node.output_tensors, out):
                known[id(x)] = tuple(s)
        return unpack_singleton([known[id(x)] for x in self.outputs])

    # --- summary -------------------------------------------------------------------

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints the layers, their output shapes and parameter counts, as Keras does.

        # Raises
            ValueError: if the model is not built yet (nothing is printed).
        """
        if not self.built:
            raise ValueError('This model has not yet been built. Build the model first by calling '
                             'it on data (fit, predict) or give the first layer an `input_shape` '
                             'or `batch_input_shape`.')
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def count_params(self):
        return int(sum(int(np.prod(w.shape)) for w in _unique(self.weights)))

    # --- saving and loading (FAQ: "How can I save a Keras model?") ----------------------------
    # The work is done in the `refkeras/engine/saving` package; these are the Keras 2.2.4 methods.

    def get_config(self):
        """Keras 2.2.4's functional config: `name`, `layers` (each with
        `inbound_nodes`), `input_layers`, `output_layers` (see
        `saving.network_get_config`)."""
        return saving.network_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a network from `get_config()`'s output (new layers, new weights).

        # Raises
            ValueError: for a malformed config or an unknown (custom) object.
        """
        return saving.network_from_config(cls, config, custom_objects=custom_objects)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Saves architecture, weights, training configuration and optimizer state
        to one HDF5 file, atomically (see `saving.save_model`)."""
        saving.save_model(self, filepath, overwrite=overwrite,
                          include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Saves the layers' weights to an HDF5 file, atomically (Keras 2.2.4's layout)."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, reshape=False):
        """Loads weights from an HDF5 file (a weights file or a whole-model file).

        # Arguments
            filepath: path or open `h5py.File`.
            by_name: load into the layers whose names match (others keep
                their weights); by default layers with weights are matched
                by position.
            skip_mismatch: with `by_name`, skip (with a warning) layers whose
                weights do not fit.
            reshape: reshape weights that have the right number of values.

        # Raises
            CorruptModelFileError, WeightsMismatchError (both `ValueError`s,
            from `refkeras.engine.saving`): nothing is changed then.
        """
        saving.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch,
                            reshape=reshape)

    def __reduce__(self):
        """Pickles the model as its config, weights, training configuration and
        optimizer state (see `saving.pickling`), as Keras 2.2.4 does."""
        return pickling.unpickle_model, (pickling.pickle_state(self),)

    def to_json(self, **kwargs):
        """The architecture as JSON (`refkeras.models.model_from_json` reads it)."""
        return saving.model_to_json(self, **kwargs)

    def to_yaml(self, **kwargs):
        """The architecture as plain YAML (`refkeras.models.model_from_yaml` reads it)."""
        return saving.model_to_yaml(self, **kwargs)


def _stand_ins(values):
    """Zero arrays standing in for the symbolic tensors among `values` (None kept)."""
    if values is None:
        return None
    return [np.zeros(tuple(2 if d is None else d for d in x.shape), dtype=x.dtype)
            if isinstance(x, SymbolicTensor) else x for x in values]


def get_source_inputs(tensor, layer=None, node_index=None):
    """The input tensors (`Input()` placeholders) needed to compute `tensor`.

    Follows the layer calls that produced `tensor` back to the layers that
    have no inbound layers (input layers, or a layer wrapping a given
    tensor), as Keras 2.2.4's `get_source_inputs`.

    # Arguments
        tensor: the tensor to start from.
        layer: the layer that produced `tensor`; by default read from
            `tensor._keras_history`.
        node_index: the index of that layer's call that produced `tensor`.

    # Returns
        A list of tensors, each listed once, in the order they are met
        walking the inbound layers first to last. A value without layer
        history is returned as it is.
    """
    if getattr(tensor, '_keras_history', None) is None:
        return tensor
    if layer is None or node_index is None:
        layer, node_index, _ = tensor._keras_history
    if not layer._inbound_nodes:
        return [tensor]
    node = layer._inbound_nodes[node_index]
    if not node.inbound_layers:
        return list(node.input_tensors)
    sources = []
    for x, inbound_layer, index in zip(node.input_tensors, node.inbound_layers,
                                       node.node_indices):
        for source in get_source_inputs(x, inbound_layer, index):
            if all(source is not seen for seen in sources):
                sources.append(source)
    return sources
