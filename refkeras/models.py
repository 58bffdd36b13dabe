"""Model classes and model-level functions (`from refkeras.models import Sequential, Model`)."""
from refkeras.engine.sequential import Sequential  # noqa: F401
from refkeras.engine.training import Model  # noqa: F401
from refkeras.engine.saving import load_model  # noqa: F401,E402
from refkeras.engine.saving import model_from_config  # noqa: F401,E402
from refkeras.engine.saving import model_from_json  # noqa: F401,E402
from refkeras.engine.saving import model_from_yaml  # noqa: F401,E402
from refkeras.engine.saving import save_model  # noqa: F401,E402


def clone_model(model, input_tensors=None):
    """A copy of `model` with new layers (fresh weights), as Keras 2.2.4's `clone_model`.

    Each layer is rebuilt with `layer.__class__.from_config(layer.get_config())`
    and called as in the original graph; the weights are new (copy them with
    `clone.set_weights(model.get_weights())`).

    # Arguments
        model: a `Model` or `Sequential` model.
        input_tensors: optional list of `Input` tensors to build the copy on;
            by default new inputs like the model's.

    # Returns
        The new model.

    # Raises
        ValueError: if `model` is not a `Model`, or for a wrong number of
            input tensors.
    """
    if not isinstance(model, Model):
        raise ValueError('Expected `model` argument to be a `Model` instance, got %r.' % (model,))
    if isinstance(model, Sequential):
        return _clone_sequential_model(model, input_tensors)
    return _clone_functional_model(model, input_tensors)


def _clone_layer(layer):
    return layer.__class__.from_config(layer.get_config())


def _clone_sequential_model(model, input_tensors=None):
    """A `Sequential` model rebuilt from new layers with the same configurations.

    # Arguments
        model: a `Sequential` model.
        input_tensors: optional single tensor to build the clone on.

    # Returns
        A `Sequential` model whose layers are fresh copies (new weights).

    # Raises
        ValueError: if more than one input tensor is given.
    """
    from refkeras.engine.input_layer import InputLayer
    stack = [_clone_layer(layer) for layer in model.layers]
    first = model._layers[0] if model._layers else None
    if input_tensors is not None:
        tensors = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(tensors) != 1:
            raise ValueError('To clone a Sequential model, give one input tensor; received %d.'
                             % len(tensors))
        origin = tensors[0]._keras_history[0]
        if not isinstance(origin, InputLayer):
            origin = InputLayer(input_tensor=tensors[0], name='input_wrapper_for_' + model.name)
        return Sequential(layers=[origin] + stack, name=model.name)
    if isinstance(first, InputLayer):
        stack = [InputLayer(batch_input_shape=first.batch_input_shape, dtype=first.dtype,
                            name=first.name)] + stack
    return Sequential(layers=stack, name=model.name)


def _clone_functional_model(model, input_tensors=None):
    """A functional model rebuilt from new layers with the same configurations.

    # Arguments
        model: a functional `Model`.
        input_tensors: optional tensor (or list, one per model input) to
            build the clone on; new `Input`s otherwise.

    # Returns
        A `Model` whose layers are fresh copies (new weights).

    # Raises
        ValueError: if the number of input tensors is not the model's.
    """
    from refkeras.engine.input_layer import Input
    if input_tensors is None:
        new_inputs = [Input(batch_shape=layer.batch_input_shape, dtype=layer.dtype, name=layer.name)
                      for layer in model.input_layers]
    else:
        new_inputs = list(input_tensors) if isinstance(input_tensors, (list, tuple)) \
            else [input_tensors]
        if len(new_inputs) != len(model.inputs):
            raise ValueError('Model %s has %d inputs; %d input tensors were given.'
                             % (model.name, len(model.inputs), len(new_inputs)))
    tensor_map = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    layer_map = {}
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            layer = node.outbound_layer
            if all(id(x) in tensor_map for x in node.output_tensors):
                continue  # an input of the model
            if layer not in layer_map:
                layer_map[layer] = _clone_layer(layer)
            inputs = [tensor_map[id(x)] for x in node.input_tensors]
            outputs = layer_map[layer](inputs[0] if len(inputs) == 1 else inputs,
                                       **(node.arguments or {}))
            outputs = outputs if isinstance(outputs, list) else [outputs]
            for old, new in zip(node.output_tensors, outputs):
                tensor_map[id(old)] = new
    return Model(new_inputs, [tensor_map[id(x)] for x in model.outputs], name=model.name)
