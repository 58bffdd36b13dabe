"""Weights as stored in a file, converted to the layout the target layer expects.

As Keras 2.2.4 does when loading: nested models and wrappers are converted
layer by layer; convolution kernels saved with the Theano backend are
flipped, or transposed from Theano's axis order; `CuDNNLSTM` / `CuDNNGRU`
weights are converted for `LSTM` / `GRU` (and back). With `reshape=True`,
any weight with the right number of values is reshaped (Keras 2.2.4 only
reshaped convolution kernels).
"""
import numpy as np


def _is_network(layer):
    return hasattr(layer, 'layers') and hasattr(layer, '_is_graph_network')


_CONV_CLASSES = ('Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'ConvLSTM2D')


def _flip_kernel(kernel):
    """A kernel with its spatial axes reversed (convolution <-> correlation)."""
    slices = tuple([slice(None, None, -1)] * (kernel.ndim - 2) + [slice(None), slice(None)])
    return np.copy(kernel[slices])


def preprocess_weights_for_loading(layer, weights, original_keras_version=None,
                                   original_backend=None, reshape=False):
    """Converts weights as stored in a file to the layout `layer` expects.

    Handled as in Keras 2.2.4: weights of nested models (converted layer by
    layer); convolution kernels saved with the Theano backend (flipped) or
    in Theano's axis order (transposed); `CuDNNLSTM` / `CuDNNGRU` weights
    loaded into `LSTM` / `GRU` (and back). With `reshape=True`, a weight
    with the right number of values but another shape is reshaped.

    # Arguments
        layer: the target layer.
        weights: list of arrays read from the file.
        original_keras_version, original_backend: from the file's attributes.
        reshape: see above.

    # Returns
        The list of arrays to assign (not yet checked against the layer).
    """
    weights = list(weights)
    class_name = layer.__class__.__name__
    if class_name == 'Bidirectional' and hasattr(layer, 'forward_layer'):
        half = len(weights) // 2
        weights = (preprocess_weights_for_loading(layer.forward_layer, weights[:half],
                                                  original_keras_version, original_backend)
                   + preprocess_weights_for_loading(layer.backward_layer, weights[half:],
                                                    original_keras_version, original_backend))
    elif class_name == 'TimeDistributed' and hasattr(layer, 'layer'):
        weights = preprocess_weights_for_loading(layer.layer, weights, original_keras_version,
                                                 original_backend)
    elif _is_network(layer):
        weights = _preprocess_nested_model(layer, weights, original_keras_version,
                                           original_backend)
    if class_name in _CONV_CLASSES and weights and layer.weights:
        expected = tuple(layer.weights[0].shape)
        if original_backend == 'theano':
            weights[0] = _flip_kernel(weights[0])
            if class_name == 'ConvLSTM2D' and len(weights) > 1:
                weights[1] = _flip_kernel(weights[1])
        if tuple(weights[0].shape) != expected and weights[0].ndim == 4 and \
                tuple(np.transpose(weights[0], (2, 3, 1, 0)).shape) == expected and not reshape:
            weights[0] = np.transpose(weights[0], (2, 3, 1, 0))
            if class_name == 'ConvLSTM2D' and len(weights) > 1:
                weights[1] = np.transpose(weights[1], (2, 3, 1, 0))
    weights = convert_rnn_weights(layer, weights)
    if reshape:
        targets = layer.weights
        for index, (variable, value) in enumerate(zip(targets, weights)):
            shape = tuple(variable.shape)
            if tuple(value.shape) != shape and value.size == int(np.prod(shape)):
                weights[index] = np.reshape(value, shape)
    return weights


def _preprocess_nested_model(model, weights, original_keras_version, original_backend):
    """Converts a nested model's weights sublayer by sublayer (trainable ones first)."""
    converted = []
    trainable_counts = [len(sub.trainable_weights) for sub in model.layers]
    other_counts = [len(sub.weights) - n for sub, n in zip(model.layers, trainable_counts)]
    for counts in (trainable_counts, other_counts):
        for sub, count in zip(model.layers, counts):
            if count:
                converted.extend(preprocess_weights_for_loading(sub, weights[:count],
                                                                original_keras_version,
                                                                original_backend))
                weights = weights[count:]
    return converted + list(weights)


# --- RNN weights ----------------------------------------------------------------------------------

def _per_gate(kernels, gates, transform):
    return np.hstack([transform(k) for k in np.hsplit(kernels, gates)])


def convert_rnn_weights(layer, weights):
    """Converts `CuDNNLSTM` / `CuDNNGRU` weights for `LSTM` / `GRU` (and back).

    The source is told by the bias shape, as Keras 2.2.4 does. Weights that
    cannot be converted are returned unchanged (the shape check that follows
    reports them).
    """
    target = layer.__class__.__name__
    if target not in ('LSTM', 'CuDNNLSTM', 'GRU', 'CuDNNGRU') or len(weights) != 3:
        return weights
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]

    def from_cudnn_input(k):
        return k.T.reshape(k.shape, order='F')

    def to_cudnn_input(k):
        return k.T.reshape(k.shape, order='C')

    if target in ('LSTM', 'CuDNNLSTM'):
        gates = 4
        source = 'CuDNNLSTM' if bias.shape == (2 * units * gates,) else \
            'LSTM' if bias.shape == (units * gates,) else None
        if source is None or source == target:
            return weights
        from_cudnn = source == 'CuDNNLSTM'
        kernel = _per_gate(kernel, gates, from_cudnn_input if from_cudnn else to_cudnn_input)
        recurrent = _per_gate(recurrent, gates, lambda k: k.T)
        bias = np.sum(np.split(bias, 2), axis=0) if from_cudnn else np.tile(0.5 * bias, 2)
        return [kernel, recurrent, bias]
    gates = 3
    if bias.shape == (2 * units * gates,):
        source = 'CuDNNGRU'
    elif bias.shape == (2, units * gates):
        source = 'GRU(reset_after=True)'
    else:
        return weights
    wanted = 'CuDNNGRU' if target == 'CuDNNGRU' else \
        'GRU(reset_after=True)' if getattr(layer, 'reset_after', False) else None
    if wanted is None:
        raise ValueError('Layer %s (GRU with reset_after=False) cannot load the weights of a %s '
                         '(bias of shape %s): that bias holds separate recurrent biases, which '
                         'only GRU(reset_after=True) has (use it, with '
                         "recurrent_activation='sigmoid' for the same outputs as CuDNNGRU)."
                         % (layer.name, source, tuple(bias.shape)))
    if wanted == source:
        return weights
    from_cudnn = source == 'CuDNNGRU'
    kernel = _per_gate(kernel, gates, from_cudnn_input if from_cudnn else to_cudnn_input)
    recurrent = _per_gate(recurrent, gates, lambda k: k.T)
    bias = np.array(bias).reshape((2, -1) if from_cudnn else -1)
    return [kernel, recurrent, bias]
