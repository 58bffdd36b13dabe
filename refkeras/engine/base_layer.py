"""`Layer`, `Node` and `InputSpec`: the building blocks of every model.

Calling a layer on symbolic tensors (what `Input()` returns) does not compute
anything: it builds the layer's weights if needed, works out the output shape
and records a `Node` linking the inputs to new symbolic outputs. The model then
evaluates those nodes on arrays in topological order (`backend.graph.evaluate`).
Calling a layer on arrays runs it at once.
"""
import re

import numpy as np

from refkeras import backend as K
from refkeras import constraints, initializers, regularizers
from refkeras.backend import graph as graph_module
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine import layer_losses
from refkeras.engine import run_context
from refkeras.legacy import interfaces
from refkeras.utils.generic_utils import has_arg, to_list, unpack_singleton


def to_snake_case(name):
    """`Conv2DTranspose` -> `conv2d_transpose`, the prefix of automatic layer names."""
    intermediate = re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', name)
    snake = re.sub('([a-z])([A-Z])', r'\1_\2', intermediate).lower()
    return snake if snake[0] != '_' else 'private' + snake


class InputSpec(object):
    """What a layer accepts: rank, dtype and fixed axis sizes.

    # Arguments
        dtype: expected dtype, or None.
        shape: expected full shape (None entries are free), or None.
        ndim / max_ndim / min_ndim: expected rank bounds, or None.
        axes: dict `{axis: size}` of sizes the layer's weights fix.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = axes or {}

    def __repr__(self):
        fields = ['%s=%r' % (k, v) for k, v in sorted(self.__dict__.items()) if v]
        return 'InputSpec(%s)' % ', '.join(fields)


class Node(object):
    """One call of a layer on symbolic tensors.

    Keras's bookkeeping is kept as is: `inbound_layers`, `node_indices` and
    `tensor_indices` say where each input came from, and every output tensor's
    `_keras_history` is `(layer, node_index, tensor_index)`.

    For evaluation, `inputs`/`outputs` list the tensors and `run` computes the
    outputs (and their masks) from concrete input values.
    """

    def __init__(self, outbound_layer, inbound_layers, node_indices, tensor_indices,
                 input_tensors, output_tensors, input_shapes, output_shapes, arguments=None):
        self.outbound_layer = outbound_layer
        self.inbound_layers = inbound_layers
        self.node_indices = node_indices
        self.tensor_indices = tensor_indices
        self.input_tensors = input_tensors
        self.output_tensors = output_tensors
        self.input_shapes = input_shapes
        self.output_shapes = output_shapes
        self.arguments = arguments or {}
        for layer in inbound_layers:
            if layer is not None:
                layer._outbound_nodes.append(self)
        outbound_layer._inbound_nodes.append(self)

    @property
    def inputs(self):
        return self.input_tensors

    @property
    def outputs(self):
        return self.output_tensors

    @property
    def input_masks(self):
        """The masks of the input tensors (None where unmasked), as Keras 2.2.4 keeps them.

        A mask given as the call's `mask=` argument, else the output mask of
        the node that produced each input. Masks are computed when first
        asked for (`output_masks`), symbolically; the model runs its own
        masks on the values.
        """
        if 'mask' in self.arguments:
            mask = self.arguments['mask']
            return list(mask) if isinstance(mask, (list, tuple)) else [mask]
        masks = []
        for x in self.input_tensors:
            history = getattr(x, '_keras_history', None)
            if history is None:
                masks.append(None)
                continue
            layer, node_index, tensor_index = history
            producer = layer._inbound_nodes[node_index]
            masks.append(None if producer is self else producer.output_masks[tensor_index])
        return masks

    @property
    def output_masks(self):
        """The masks of the output tensors: the layer's `compute_mask` on the
        symbolic inputs and `input_masks` (computed once, when first asked for)."""
        if getattr(self, '_output_masks', None) is None:
            if not self.inbound_layers:
                masks = [None] * len(self.output_tensors)
            else:
                in_masks = self.input_masks
                mask = None if all(m is None for m in in_masks) else unpack_singleton(in_masks)
                computed = self.outbound_layer.compute_mask(
                    unpack_singleton(list(self.input_tensors)), mask)
                masks = list(computed) if isinstance(computed, (list, tuple)) else \
                    [computed] * len(self.output_tensors)
            self._output_masks = masks
        return list(self._output_masks)

    def run(self, values, masks):
        """Runs the layer on concrete values; returns (outputs, masks) as lists."""
        layer = self.outbound_layer
        inputs = unpack_singleton(list(values))
        mask = unpack_singleton(list(masks))
        if all(m is None for m in masks):
            mask = None
        return layer._run(inputs, mask, self.arguments)

    def get_config(self):
        return {'outbound_layer': self.outbound_layer.name,
                'inbound_layers': [layer.name for layer in self.inbound_layers],
                'node_indices': self.node_indices, 'tensor_indices': self.tensor_indices}


_ALLOWED_KWARGS = {'input_shape', 'batch_input_shape', 'batch_size', 'dtype', 'name',
                   'trainable', 'weights', 'input_dtype'}


class Layer(object):
    """Base class of all layers.

    Subclasses implement `build(input_shape)` (create weights with
    `add_weight`), `call(inputs, **kwargs)` (the computation, with backend
    functions only, so it is differentiable) and, when the output shape differs
    from the input shape, `compute_output_shape(input_shape)`.

    # Arguments (keywords, as in Keras 2.2.4)
        name: the layer's name; by default the snake-cased class name and a
            counter (`dense_1`, `dense_2`, ...).
        trainable: whether the weights are updated by training (FAQ: "How can I
            'freeze' Keras layers?"). Can also be set as an attribute; then the
            model must be compiled again for it to take effect.
        input_shape / batch_input_shape / batch_size: on the first layer of a
            `Sequential` model, create its input.
        dtype: dtype of the input created from `input_shape`.
        weights: initial weight values, set after the layer is built.

    # Raises
        TypeError: for an unknown keyword argument.
    """

    def __init__(self, **kwargs):
        for kwarg in kwargs:
            if kwarg not in _ALLOWED_KWARGS:
                raise TypeError('Keyword argument not understood: %r (layer class %s).'
                                % (kwarg, self.__class__.__name__))
        name = kwargs.get('name')
        if not name:
            prefix = self.__class__.__name__
            name = to_snake_case(prefix) + '_' + str(K.get_uid(prefix))
        self.name = name
        self.trainable = kwargs.get('trainable', True)
        self.input_spec = None
        self.supports_masking = False
        self.stateful = False
        self.built = False
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._losses = []
        self._updates = []
        self._per_input_updates = {}
        self._inbound_nodes = []
        self._outbound_nodes = []
        self._per_input_losses = {}
        self.activity_regularizer = getattr(self, 'activity_regularizer', None)
        if 'batch_input_shape' in kwargs or 'input_shape' in kwargs:
            if 'batch_input_shape' in kwargs:
                batch_input_shape = tuple(kwargs['batch_input_shape'])
            else:
                batch_input_shape = (kwargs.get('batch_size'),) + tuple(kwargs['input_shape'])
            self.batch_input_shape = batch_input_shape
        dtype = kwargs.get('dtype', kwargs.get('input_dtype'))
        self.dtype = dtype or K.floatx()
        self._initial_weights = kwargs.get('weights')

    # --- weights -------------------------------------------------------------

    @interfaces.legacy_add_weight_support
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None):
        """Creates a weight variable of the layer.

        # Arguments
            name: weight name; the variable is named `<layer name>/<name>:0`.
            shape: tuple of ints.
            dtype: defaults to floatx.
            initializer, regularizer, constraint: objects or names (see the
                `initializers`, `regularizers`, `constraints` modules).
            trainable: whether training may update it.

        # Returns
            The `Variable`.
        """
        initializer = initializers.get(initializer)
        dtype = dtype or K.floatx()
        shape = tuple(int(s) for s in shape)
        value = np.asarray(initializer(shape, dtype=dtype), dtype=dtype)
        weight = K.variable(value, dtype=dtype, name='%s/%s:0' % (self.name, name),
                            constraint=constraints.get(constraint))
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self.add_loss(layer_losses.WeightPenalty(regularizer, weight))
        if trainable:
            self._trainable_weights.append(weight)
        else:
            self._non_trainable_weights.append(weight)
        return weight

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    def get_weights(self):
        """Copies of the weights' values, as a list of NumPy arrays."""
        return K.batch_get_value(self.weights)

    def set_weights(self, weights):
        """Sets the weights from a list of arrays (same order as `get_weights`).

        # Raises
            ValueError: naming the layer, for a wrong count or a wrong shape;
                nothing is changed then.
        """
        params = self.weights
        if len(params) != len(weights):
            raise ValueError('You called `set_weights(weights)` on layer "%s" with a weight list '
                             'of length %d, but the layer was expecting %d weights. Provided '
                             'weights: %s...' % (self.name, len(weights), len(params),
                                                 str(weights)[:50]))
        pairs = []
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(p.shape) != w.shape:
                raise ValueError('Layer weight shape %s not compatible with provided weight shape '
                                 '%s (layer "%s", weight %s).' % (p.shape, w.shape, self.name,
                                                                  p.name))
            pairs.append((p, w))
        K.batch_set_value(pairs)

    def count_params(self):
        """Number of scalars in the layer's weights.

        # Raises
            RuntimeError: if the layer is not built yet.
        """
        if not self.built:
            raise RuntimeError('You tried to call `count_params` on layer %s, but the layer '
                               'is not built yet. Build it first by calling it on an input.'
                               % self.name)
        return int(sum(int(np.prod(w.shape)) for w in _unique(self.weights)))

    # --- losses and updates ------------------------------------------------------

    def add_loss(self, losses, inputs=None):
        """Adds loss terms to the layer (regularization penalties, ...).

        # Arguments
            losses: a loss or a list of them: symbolic tensors, numbers,
                arrays, or zero-argument callables (computed at every step).
            inputs: the input tensor(s) the losses depend on, or None for
                losses that depend on no input (see `get_losses_for`).

        Concrete values added from `call` while a model runs join that run's
        training loss instead (see `engine.run_context`).
        """
        if losses is None:
            return
        key = layer_losses.inputs_key(inputs)
        for loss in to_list(losses):
            if loss is None or run_context.add_loss(loss):
                continue
            self._losses.append(loss)
            self._per_input_losses.setdefault(key, []).append(loss)

    def add_update(self, updates, inputs=None):
        """Records updates of the layer's state, as Keras 2.2.4 does.

        refkeras runs updates eagerly (a `BatchNormalization` moves its
        moving statistics while it runs in a training step), so what is
        recorded here is the list that `updates` and `get_updates_for`
        report, and that a training step is allowed to apply (see
        `run_context.updates_allowed`).

        # Arguments
            updates: an update (for the built-in layers, the variable it
                changes) or a list of them.
            inputs: the input tensor(s) the updates depend on (a
                `BatchNormalization` update depends on the batch it
                normalizes), or None for unconditional updates.
        """
        if updates is None or (isinstance(updates, list) and not updates):
            return
        updates = to_list(updates)
        self._updates.extend(updates)
        if isinstance(inputs, list) and not inputs:
            inputs = None
        key = _inputs_key(inputs)
        self._per_input_updates.setdefault(key, []).extend(updates)

    def _add_call_updates(self, inputs, arguments):
        """Records the updates that a call on symbolic `inputs` makes when it runs.

        Called by `__call__` for every symbolic call, after the layer is
        built. Layers whose `call` changes state (`BatchNormalization`) record
        those updates here with `add_update(..., inputs)`; `arguments` are the
        call's keyword arguments (e.g. `training=False` makes none).
        """

    def _loss_sublayers(self):
        """Layers whose losses are part of this layer's (a wrapped layer, a cell)."""
        return []

    def _all_loss_entries(self):
        entries = [e for layer in self._loss_sublayers() for e in layer_losses.all_entries(layer)]
        return entries + list(self._losses)

    def _loss_entries_for(self, inputs):
        entries = [e for layer in self._loss_sublayers()
                   for e in layer_losses.entries_for(layer, inputs)]
        return entries + list(self._per_input_losses.get(layer_losses.inputs_key(inputs), []))

    @property
    def losses(self):
        """Every loss of the layer: weight penalties (computed now), activity
        regularization losses and added losses."""
        return [layer_losses.current_value(e)
                for e in layer_losses.unique_entries(self._all_loss_entries())]

    def get_losses_for(self, inputs):
        """The losses that depend on `inputs` (None: those that depend on no input)."""
        return [layer_losses.current_value(e) for e in self._loss_entries_for(inputs)]

    def _add_call_losses(self, inputs, outputs):
        """Files the losses of a call on symbolic `inputs` (activity regularization)."""
        if self.activity_regularizer is not None:
            self.add_loss(layer_losses.activity_losses(self.activity_regularizer, outputs),
                          inputs=inputs)

    @property
    def updates(self):
        """The recorded updates; none for a layer that is neither trainable
        nor stateful (Keras 2.2.4: a frozen `BatchNormalization` keeps its
        moving statistics)."""
        if not self.trainable and not self.stateful:
            return []
        return list(self._updates)

    def get_updates_for(self, inputs):
        """The updates recorded for `inputs` (None: the unconditional ones).

        # Arguments
            inputs: the tensor or list of tensors given to `add_update`, or None.

        # Returns
            A list (empty for a layer that is neither trainable nor stateful).
        """
        if not self.trainable and not self.stateful:
            return []
        return list(self._per_input_updates.get(_inputs_key(inputs), []))

    # --- building and calling ----------------------------------------------------

    def build(self, input_shape):
        """Creates the weights; subclasses override it and call the base at the end."""
        self.built = True

    def call(self, inputs, **kwargs):
        """The layer's computation on concrete inputs (identity here)."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (None for unknown sizes).

        By default it is found by running `call` on zero arrays (see
        `backend.graph.infer_output_shapes`); layers whose shape rule is simple
        override it. A subclass that overrides it and calls this base method
        gets `input_shape` back, as in Keras 2.2.4 (where the base method
        assumes the shape is unchanged).
        """
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            return input_shape
        return self._infer_output_shape(input_shape)

    def _infer_output_shape(self, input_shape):
        """The output shape(s) found by running `call` on zeros of `input_shape`."""
        shapes = [input_shape] if not _is_shape_list(input_shape) else list(input_shape)
        dummies = [SymbolicTensor(s, self.dtype) for s in shapes]
        structure = dummies[0] if not _is_shape_list(input_shape) else dummies
        out, _, seq = graph_module.infer_output_shapes(lambda a: self.call(a), structure)
        return out if seq else out[0]

    def compute_mask(self, inputs, mask=None):
        """The output mask; layers that do not support masking refuse a mask.

        # Raises
            TypeError: if a mask reaches a layer that does not support masking.
        """
        if not self.supports_masking:
            if mask is not None and any(m is not None for m in to_list(mask)):
                raise TypeError('Layer %s does not support masking, but was passed an input '
                                'mask.' % self.name)
            return None
        return mask

    def assert_input_compatibility(self, inputs):
        """Checks inputs against `self.input_spec`.

        # Raises
            ValueError: naming the layer, the input index, what was expected and
                the shape received.
        """
        if not self.input_spec:
            return
        specs = to_list(self.input_spec)
        inputs = to_list(inputs)
        if len(inputs) != len(specs):
            raise ValueError('Layer %s expects %d inputs, but it received %d input tensors.'
                             % (self.name, len(specs), len(inputs)))
        for index, (x, spec) in enumerate(zip(inputs, specs)):
            if spec is None:
                continue
            shape = K.int_shape(x)
            where = 'Input %d is incompatible with layer %s' % (index, self.name)
            if spec.ndim is not None and len(shape) != spec.ndim:
                raise ValueError('%s: expected ndim=%d, found ndim=%d (shape %s).'
                                 % (where, spec.ndim, len(shape), shape))
            if spec.max_ndim is not None and len(shape) > spec.max_ndim:
                raise ValueError('%s: expected max_ndim=%d, found ndim=%d (shape %s).'
                                 % (where, spec.max_ndim, len(shape), shape))
            if spec.min_ndim is not None and len(shape) < spec.min_ndim:
                raise ValueError('%s: expected min_ndim=%d, found ndim=%d (shape %s).'
                                 % (where, spec.min_ndim, len(shape), shape))
            for axis, value in spec.axes.items():
                if value is not None and -len(shape) <= axis < len(shape) and \
                        shape[axis] not in (value, None):
                    raise ValueError('%s: expected axis %d of input shape to have value %d but '
                                     'got shape %s.' % (where, axis, value, shape))
            if spec.shape is not None:
                for expected, got in zip(spec.shape, shape):
                    if expected is not None and got is not None and expected != got:
                        raise ValueError('%s: expected shape=%s, found shape=%s.'
                                         % (where, spec.shape, shape))

    def _maybe_build(self, input_shapes):
        if not self.built:
            self.build(unpack_singleton(input_shapes))
            self.built = True
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None

    def __call__(self, inputs, **kwargs):
        """Calls the layer: symbolically (records a node) or on arrays (runs now).

        # Arguments
            inputs: a tensor or a list of tensors.
            **kwargs: passed to `call` (e.g. `training=True`, `mask=...`).

        # Returns
            The output tensor(s).

        # Raises
            ValueError: for inputs the layer cannot take (see
                `assert_input_compatibility`), or symbolic inputs that did not
                come from a layer.
        """
        # A copy: the node must not see later changes to the caller's list.
        input_list = list(to_list(inputs))
        symbolic = [isinstance(x, SymbolicTensor) for x in input_list]
        if any(symbolic) and not all(symbolic):
            raise ValueError('Layer %s was called with a mix of symbolic tensors and arrays; '
                             'all inputs must be of one kind.' % self.name)
        if not any(symbolic):
            self.assert_input_compatibility(inputs)
            self._maybe_build([K.int_shape(x) for x in input_list])
            mask = kwargs.pop('mask', None)
            if isinstance(K.learning_phase(), SymbolicTensor):
                # Called on arrays outside any model run: test mode, as Keras's
                # default learning phase (pass training=True for training mode).
                with graph_module.running_phase(0):
                    outputs, _ = self._run(inputs, mask, kwargs)
            else:
                outputs, _ = self._run(inputs, mask, kwargs)
            if self.activity_regularizer is not None and not run_context.in_run():
                self.add_loss([self.activity_regularizer(out) for out in outputs],
                              inputs=input_list)
            return unpack_singleton(outputs)
        for x in input_list:
            if x._keras_history is None:
                raise ValueError('Layer %s was called on %r, which was not produced by a Keras '
                                 'layer or Input (it comes from a backend function). Wrap that '
                                 'computation in a `Lambda` layer.' % (self.name, x))
        self.assert_input_compatibility(inputs)
        input_shapes = [x.shape for x in input_list]
        self._maybe_build(input_shapes)
        output_shape = self.compute_output_shape(unpack_singleton(input_shapes))
        output_shapes = list(output_shape) if _is_shape_list(output_shape) else [output_shape]
        node_index = len(self._inbound_nodes)
        outputs = [SymbolicTensor(s, self.dtype if self._output_is_float() else 'int32',
                                  name='%s/%d:%d' % (self.name, node_index, i))
                   for i, s in enumerate(output_shapes)]
        uses_learning_phase = (any(x._uses_learning_phase for x in input_list) or
                               self._call_uses_learning_phase(kwargs))
        for out in outputs:
            out._uses_learning_phase = uses_learning_phase
        node = Node(self,
                    inbound_layers=[x._keras_history[0] for x in input_list],
                    node_indices=[x._keras_history[1] for x in input_list],
                    tensor_indices=[x._keras_history[2] for x in input_list],
                    input_tensors=input_list, output_tensors=outputs,
                    input_shapes=input_shapes, output_shapes=output_shapes,
                    arguments=kwargs)
        for i, out in enumerate(outputs):
            out.node = node
            out.index = i
            out._keras_history = (self, node_index, i)
        self._add_call_updates(inputs, kwargs)
        self._add_call_losses(input_list, outputs)
        return unpack_singleton(outputs)

    def _output_is_float(self):
        return True

    def _call_uses_learning_phase(self, arguments):
        """Whether a call with keyword `arguments` switches on the learning phase.

        As in Keras 2.2.4, such outputs (and everything computed from them)
        carry `_uses_learning_phase = True`: dropout and noise layers when
        `training` is not given, for example. Layers that switch override this.
        """
        return False

    def _run(self, inputs, mask, arguments):
        """Runs `call` and `compute_mask` on concrete values (used by `Node.run`).

        # Returns
            (outputs, masks), both lists.
        """
        kwargs = dict(arguments)
        if mask is not None or 'mask' in kwargs:
            if has_arg(self.call, 'mask'):
                kwargs.setdefault('mask', mask)
            else:
                kwargs.pop('mask', None)
        outputs = self.call(inputs, **kwargs)
        out_mask = self.compute_mask(inputs, kwargs.get('mask', mask))
        if self.activity_regularizer is not None and run_context.is_collecting():
            for out in to_list(outputs):
                run_context.add_loss(self.activity_regularizer(out))
        outputs = to_list(outputs)
        masks = to_list(out_mask) if out_mask is not None else [None] * len(outputs)
        return outputs, masks

    # --- graph accessors ----------------------------------------------------------

    def _node_attribute(self, node_index, attr, name):
        if not self._inbound_nodes:
            raise AttributeError('Layer %s is not connected, no %s to return.' % (self.name, name))
        if not 0 <= node_index < len(self._inbound_nodes):
            raise ValueError('Asked to get %s at node %d, but layer %s has only %d inbound nodes.'
                             % (name, node_index, self.name, len(self._inbound_nodes)))
        return unpack_singleton(getattr(self._inbound_nodes[node_index], attr))

    def get_input_at(self, node_index):
        """The input tensor(s) of the layer's `node_index`-th call."""
        return self._node_attribute(node_index, 'input_tensors', 'input')

    def get_output_at(self, node_index):
        """The output tensor(s) of the layer's `node_index`-th call."""
        return self._node_attribute(node_index, 'output_tensors', 'output')

    def get_input_shape_at(self, node_index):
        return self._node_attribute(node_index, 'input_shapes', 'input shape')

    def get_output_shape_at(self, node_index):
        return self._node_attribute(node_index, 'output_shapes', 'output shape')

    def get_input_mask_at(self, node_index):
        """The input mask(s) of the layer's `node_index`-th call (None if unmasked)."""
        return self._node_attribute(node_index, 'input_masks', 'input mask')

    def get_output_mask_at(self, node_index):
        """The output mask(s) of the layer's `node_index`-th call (None if unmasked)."""
        return self._node_attribute(node_index, 'output_masks', 'output mask')

    def _single_node(self, attr, name):
        if not self._inbound_nodes:
            raise AttributeError('Layer %s is not connected, no %s to return.' % (self.name, name))
        values = [tuple(getattr(n, attr)) if 'shape' not in attr else
                  tuple(map(tuple, getattr(n, attr))) for n in self._inbound_nodes]
        if len(self._inbound_nodes) > 1 and (('shape' in attr and len(set(values)) > 1) or
                                             'shape' not in attr):
            raise AttributeError('Layer %s has multiple inbound nodes, hence the notion of "layer '
                                 '%s" is ill-defined. Use `get_%s_at(node_index)` instead.'
                                 % (self.name, name, name.replace(' ', '_')))
        return unpack_singleton(getattr(self._inbound_nodes[0], attr))

    @property
    def input(self):
        return self._single_node('input_tensors', 'input')

    @property
    def output(self):
        return self._single_node('output_tensors', 'output')

    @property
    def input_shape(self):
        return self._single_node('input_shapes', 'input shape')

    @property
    def output_shape(self):
        return self._single_node('output_shapes', 'output shape')

    def _single_node_mask(self, attr, name):
        if len(self._inbound_nodes) != 1:
            raise AttributeError('Layer %s has %d inbound nodes, hence the notion of "layer %s" '
                                 'is ill-defined. Use `get_%s_at(node_index)` instead.'
                                 % (self.name, len(self._inbound_nodes), name,
                                    name.replace(' ', '_')))
        return self._node_attribute(0, attr, name)

    @property
    def input_mask(self):
        """The input mask(s) of the layer's only call.

        # Raises
            AttributeError: if the layer was called not exactly once.
        """
        return self._single_node_mask('input_masks', 'input mask')

    @property
    def output_mask(self):
        """The output mask(s) of the layer's only call.

        # Raises
            AttributeError: if the layer was called not exactly once.
        """
        return self._single_node_mask('output_masks', 'output mask')

    # --- serialization ------------------------------------------------------------

    def get_config(self):
        """The layer's constructor arguments as a JSON-friendly dict."""
        config = {'name': self.name, 'trainable': self.trainable}
        if hasattr(self, 'batch_input_shape'):
            # As Keras 2.2.4: the dtype is part of the config only for a layer
            # that creates its model's input.
            config['batch_input_shape'] = self.batch_input_shape
            config['dtype'] = self.dtype
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self):
        return '<%s name=%s>' % (self.__class__.__name__, self.name)


def _inputs_key(inputs):
    """The key under which updates (or losses) conditional on `inputs` are kept.

    None for unconditional ones; otherwise the ids of the input tensors, in
    order (Keras 2.2.4's `object_list_uid`).
    """
    if inputs is None:
        return None
    return tuple(id(x) for x in to_list(inputs))


def _unique(items):
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def _is_shape_list(shape):
    """Whether `shape` is a list of shapes rather than one shape."""
    return isinstance(shape, list) and (not shape or isinstance(shape[0], (tuple, list)))
