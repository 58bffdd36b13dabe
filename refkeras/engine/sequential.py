"""`Sequential`: a linear stack of layers (FAQ: "How can I remove a layer from a Sequential model?")."""
import warnings

from refkeras import backend as K
from refkeras.engine.base_layer import Layer
from refkeras.engine.input_layer import Input, InputLayer
from refkeras.engine.training import Model
from refkeras.layers import deserialize
from refkeras.layers import serialize
from refkeras.utils.generic_utils import to_list


class Sequential(Model):
    """A model whose layers are applied one after the other.

    # Arguments
        layers: optional list of layers to `add` in order.
        name: model name (`sequential_1`, ... by default).

    The first layer needs to know its input: pass `input_shape`, `input_dim`,
    `batch_input_shape` or `batch_size` to it, or add an `InputLayer`. Without
    that, the model is *deferred*, as in Keras 2.2.4: its layers are kept
    unbuilt (no weights yet), `compile` records its arguments, and the model
    is built (and compiled) from the data the first time it is used (`fit`,
    `train_on_batch`, `predict`, ...), called on a tensor, or given a shape
    with `build(input_shape)`.

    # Example
    ```python
    model = Sequential()
    model.add(Dense(32, activation='relu', input_dim=784))
    model.add(Dense(32, activation='relu'))
    print(len(model.layers))  # 2
    model.pop()
    print(len(model.layers))  # 1
    ```
    """

    def __init__(self, layers=None, name=None):
        Layer.__init__(self, name=name)
        self._layers = []
        self.inputs, self.outputs = [], []
        self._is_graph_network = True
        self._build_input_shape = None
        self._model_compiled_state_init()
        self.built = False
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        # As in Keras 2.2.4, the implicit input layer is not listed.
        if self._layers and isinstance(self._layers[0], InputLayer):
            return list(self._layers[1:])
        return list(self._layers)

    def add(self, layer):
        """Adds a layer on top of the stack.

        # Raises
            TypeError: if `layer` is not a Layer.
            ValueError: if the layer has several outputs, or the first layer's
                input cannot be determined for a model given as a layer.
        """
        if not isinstance(layer, Layer):
            raise TypeError('The added layer must be an instance of class Layer. Found: %r'
                            % (layer,))
        if not self.outputs and not self._layers:
            if isinstance(layer, InputLayer):
                self._layers = [layer]
                self._set_graph(layer._inbound_nodes[-1].output_tensors,
                                layer._inbound_nodes[-1].output_tensors)
                return
            batch_shape = getattr(layer, 'batch_input_shape', None)
            if batch_shape is None and isinstance(layer, Model) and getattr(layer, 'inputs', None):
                batch_shape = layer.inputs[0].shape
            if batch_shape is None:
                # No input known yet: keep the layer and build once data arrives.
                self._defer(layer)
                return
            x = Input(batch_shape=batch_shape, dtype=getattr(layer, 'dtype', None),
                      name=layer.name + '_input')
            self._layers = [x._keras_history[0]] + self._layers
            self._append(layer, x)
            return
        if not self.outputs:
            # A deferred model: the layer waits for the build too.
            self._defer(layer)
            return
        self._append(layer, self.outputs[0])

    def _defer(self, layer):
        self._check_fresh_layer(layer)
        self._layers.append(layer)
        self.built = False

    def _append(self, layer, x):
        self._check_fresh_layer(layer)
        output = layer(x)
        if len(to_list(output)) != 1:
            raise ValueError('All layers in a Sequential model should have a single output tensor. '
                             'Layer %s has %d; use the functional API for multi-output layers.'
                             % (layer.name, len(to_list(output))))
        if layer not in self._layers:
            self._layers.append(layer)
        self._set_graph(self.inputs or [x], [output])

    def _check_fresh_layer(self, layer):
        for existing in self._layers:
            if existing is not layer and existing.name == layer.name:
                raise ValueError('The name "%s" is used 2 times in the model. All layer names '
                                 'should be unique.' % layer.name)

    def _set_graph(self, inputs, outputs):
        # Maps the graph again; for a stack, ordering the layers by depth gives
        # the order of addition, with the input layer first.
        self._init_graph_network(inputs, outputs)

    def build(self, input_shape=None):
        """Builds a deferred model: creates its input and calls every layer on it.

        As Keras 2.2.4: the input is named `<model name>_input`, has dtype
        floatx, and `input_shape` (with the batch axis) is kept in the config
        (`build_input_shape`) so that `from_config` builds the copy too. A
        model that has its input already is left as it is. A `compile` called
        before the build is completed now.

        # Arguments
            input_shape: the full input shape, batch axis included (e.g.
                `(None, 4)`).

        # Raises
            ValueError: if the model has no input yet and no `input_shape` is
                given, or it has no layers.
        """
        if not self.inputs:
            if input_shape is None:
                raise ValueError('You must provide an `input_shape` argument to build Sequential '
                                 'model %s: its first layer has no input shape (give it '
                                 '`input_shape=...`, or call the model on data).' % self.name)
            pending = [layer for layer in self._layers if not isinstance(layer, InputLayer)]
            if not pending:
                raise ValueError('Sequential model %s has no layers; add layers before building '
                                 'it.' % self.name)
            input_shape = tuple(input_shape)
            x = Input(batch_shape=input_shape, dtype=K.floatx(), name=self.name + '_input')
            self._layers = [x._keras_history[0]]
            for layer in pending:
                self._append(layer, x if not self.outputs else self.outputs[0])
            self._build_input_shape = input_shape
        self.built = True
        pending_compile = getattr(self, '_deferred_compile', None)
        if pending_compile is not None:
            self._deferred_compile = None
            self.compile(**pending_compile)

    def count_params(self):
        """Number of scalars in the weights; a deferred model is built first.

        # Raises
            ValueError: for a deferred model no input shape is known for.
        """
        if not self.built:
            self.build()
        return super(Sequential, self).count_params()

    def pop(self):
        """Removes the last layer (FAQ: "How can I remove a layer from a Sequential model?").

        # Raises
            TypeError: if the model has no layers.
        """
        if not self.layers:
            raise TypeError('There are no layers in the model.')
        removed = self._layers.pop()
        if not self.outputs:
            return
        remaining = self.layers
        if not remaining:
            self._layers, self.inputs, self.outputs = [], [], []
            self.built = False
            return
        last = remaining[-1]
        last._outbound_nodes = [n for n in last._outbound_nodes if n.outbound_layer is not removed]
        output = last._inbound_nodes[-1].output_tensors[0] if last is not self._layers[0] \
            else self.inputs[0]
        self._set_graph(self.inputs, [output])

    def predict_proba(self, x, batch_size=32, verbose=0):
        """Class probabilities: `predict`, with Keras 2.2.4's warning when the
        outputs are not in [0, 1]."""
        preds = self.predict(x, batch_size, verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn('Network returning invalid probability values. The last layer might not '
                          'normalize predictions into probabilities (like softmax or sigmoid '
                          'would).')
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: the argmax of `predict` for several units, else
        `predict > 0.5` as int32 (as Keras 2.2.4)."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype('int32')

    def get_config(self):
        """Keras 2.2.4's Sequential config: `{'name', 'layers': [{'class_name', 'config'}]}`."""
        config = {'name': self.name, 'layers': [serialize(layer) for layer in self.layers]}
        if self._build_input_shape is not None:
            config['build_input_shape'] = self._build_input_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Sequential model from `get_config()`'s output (2.2.4 or older list form)."""
        build_input_shape = None
        if isinstance(config, dict):
            name, layer_configs = config.get('name'), config['layers']
            build_input_shape = config.get('build_input_shape')
        else:
            name, layer_configs = None, config
        model = cls(name=name)
        for conf in layer_configs:
            model.add(deserialize(conf, custom_objects=custom_objects))
        if not model.inputs and build_input_shape is not None:
            model.build(tuple(build_input_shape))
        return model
