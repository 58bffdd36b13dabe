"""Weights as stored in a file, converted to the layout the target layer expects.

As Keras 2.2.4 does when loading: nested models and wrappers are converted
layer by layer; weights saved by Keras 1 are put in Keras 2's layout (one
kernel for all the gates of a recurrent layer, Keras 2's kernel axes);
convolution kernels saved with the Theano backend are flipped, or transposed
from Theano's axis order; `CuDNNLSTM` / `CuDNNGRU` weights are converted for
`LSTM` / `GRU` (and back). With `reshape=True`, any weight with the right
number of values is reshaped (Keras 2.2.4 only reshaped convolution kernels).
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
    if _is_keras_1(original_keras_version):
        weights = _from_keras_1(layer, weights)
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


def _is_keras_1(version):
    """Whether a file's `keras_version` attribute says Keras 1 (Keras 1 files may
    have none, which Keras 2.2.4 reads as '1')."""
    return version is None or str(version).split('.')[0] == '1'


def _transposed_if_it_fits(kernel, axes, expected):
    """`kernel` transposed by `axes` if that gives the `expected` shape, else as is."""
    if tuple(kernel.shape) != expected and kernel.ndim == len(axes) and \
            tuple(np.transpose(kernel, axes).shape) == expected:
        return np.transpose(kernel, axes)
    return kernel


# Keras 1 stored each gate of a recurrent layer as its own (kernel, recurrent
# kernel, bias) triple; the positions of Keras 2's gates in that list of triples.
_KERAS_1_GATES = {'GRU': (9, (0, 1, 2)),          # z, r, h in both
                  'LSTM': (12, (0, 2, 1, 3)),     # Keras 1: i, c, f, o; Keras 2: i, f, c, o
                  'ConvLSTM2D': (12, (0, 2, 1, 3))}


def _from_keras_1(layer, weights):
    """Weights saved by Keras 1 in the layout of Keras 2's `layer` (as Keras 2.2.4).

    Kernel axes are only moved where the stored shape does not fit and the
    moved one does, so weights already in Keras 2's layout pass unchanged.
    """
    class_name = layer.__class__.__name__
    if not weights or not layer.weights:
        return weights
    expected = tuple(layer.weights[0].shape)
    data_format = getattr(layer, 'data_format', 'channels_last')
    if class_name == 'Conv1D' and weights[0].ndim == 4:
        # Keras 1 kept a 1D kernel as a 2D one: (length, 1, in, out), or in
        # Theano's order (out, in, length, 1).
        kernel = weights[0]
        if kernel.shape[:2] != (layer.kernel_size[0], 1) or kernel.shape[3] != layer.filters:
            kernel = np.transpose(kernel, (2, 3, 1, 0))
        weights[0] = kernel[:, 0, :, :]
    elif class_name == 'Conv2D' and data_format == 'channels_first':
        weights[0] = _transposed_if_it_fits(weights[0], (2, 3, 1, 0), expected)
    elif class_name == 'Conv2DTranspose':
        axes = (0, 1, 3, 2) if data_format == 'channels_last' else (2, 3, 0, 1)
        weights[0] = _transposed_if_it_fits(weights[0], axes, expected)
    elif class_name == 'Conv3D' and data_format == 'channels_first':
        weights[0] = _transposed_if_it_fits(weights[0], (2, 3, 4, 1, 0), expected)
    elif class_name in _KERAS_1_GATES and len(weights) == _KERAS_1_GATES[class_name][0]:
        order = _KERAS_1_GATES[class_name][1]
        weights = [np.concatenate([weights[3 * gate + part] for gate in order], axis=-1)
                   for part in range(3)]
        if class_name == 'ConvLSTM2D' and data_format == 'channels_first':
            recurrent_expected = tuple(layer.weights[1].shape)
            weights[0] = _transposed_if_it_fits(weights[0], (2, 3, 1, 0), expected)
            weights[1] = _transposed_if_it_fits(weights[1], (2, 3, 1, 0), recurrent_expected)
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
