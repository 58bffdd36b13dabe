"""Loading weights saved by Keras 1 (issue 18; Keras 2.2.4's
`preprocess_weights_for_loading` with `original_keras_version='1'`).

The Keras 1 layouts are built here by hand from a Keras 2 layer's weights:
Keras 1 kept each gate of a recurrent layer as its own (kernel, recurrent
kernel, bias) triple, GRU gates in the order z, r, h and LSTM gates in the
order i, c, f, o (Keras 2: one kernel whose column blocks are z, r, h and
i, f, c, o); a `Conv1D` kernel as a 2D one of shape (length, 1, in, out), or
Theano's (out, in, length, 1); a `Conv2DTranspose` kernel with its last two
axes swapped. Converting them must give back the Keras 2 weights exactly.
"""
import h5py
import numpy as np

from refkeras import layers as L
from refkeras.engine.saving import preprocess_weights_for_loading
from refkeras.models import Sequential


def _built(layer, input_shape):
    """Builds `layer` on inputs of `input_shape`; its weights."""
    Sequential([L.InputLayer(input_shape=input_shape), layer])
    return layer.get_weights()


def _per_gate(weights, gates, keras1_order):
    """Keras 1's list of triples from Keras 2's [kernel, recurrent, bias]."""
    blocks = [np.split(w, gates, axis=-1) for w in weights]
    return [blocks[part][gate] for gate in keras1_order for part in range(3)]


def assert_same(converted, expected):
    assert len(converted) == len(expected)
    for a, b in zip(converted, expected):
        np.testing.assert_array_equal(a, b)


def test_keras_1_gru_triples_become_one_kernel_per_kind():
    layer = L.GRU(2)
    weights = _built(layer, (3, 5))
    keras1 = _per_gate(weights, 3, [0, 1, 2])
    assert len(keras1) == 9
    assert_same(preprocess_weights_for_loading(layer, keras1, original_keras_version='1'),
                weights)


def test_keras_1_lstm_triples_are_put_in_keras_2_gate_order():
    layer = L.LSTM(2)
    weights = _built(layer, (3, 5))
    keras1 = _per_gate(weights, 4, [0, 2, 1, 3])      # i, c, f, o
    assert_same(preprocess_weights_for_loading(layer, keras1, original_keras_version='1.2.2'),
                weights)


def test_keras_1_conv1d_kernels_lose_their_second_spatial_axis():
    layer = L.Conv1D(4, 3)
    kernel, bias = _built(layer, (10, 2))
    as_2d = kernel[:, np.newaxis, :, :]                             # (3, 1, 2, 4)
    assert_same(preprocess_weights_for_loading(layer, [as_2d, bias], '1'), [kernel, bias])
    theano_order = np.transpose(as_2d, (3, 2, 0, 1))                # (4, 2, 3, 1)
    assert_same(preprocess_weights_for_loading(layer, [theano_order, bias], '1'),
                [kernel, bias])


def test_keras_1_conv2d_transpose_kernels_get_keras_2_axes():
    layer = L.Conv2DTranspose(2, (3, 3))
    kernel, bias = _built(layer, (5, 5, 4))                         # (3, 3, 2, 4)
    swapped = np.transpose(kernel, (0, 1, 3, 2))
    assert_same(preprocess_weights_for_loading(layer, [swapped, bias], '1'), [kernel, bias])


def test_keras_2_weights_pass_unchanged_when_the_file_says_keras_1():
    layer = L.Conv2DTranspose(2, (3, 3))
    weights = _built(layer, (5, 5, 4))
    assert_same(preprocess_weights_for_loading(layer, list(weights), '1'), weights)
    lstm = L.LSTM(3)
    weights = _built(lstm, (2, 4))
    assert_same(preprocess_weights_for_loading(lstm, list(weights), '1'), weights)


def test_a_keras_1_weights_file_of_an_lstm_loads_into_keras_2(tmp_path):
    source = L.LSTM(2, name='lstm_k1')
    model = Sequential([L.InputLayer(input_shape=(3, 5)), source])
    weights = model.get_weights()
    path = str(tmp_path / 'keras1.h5')
    keras1 = _per_gate(weights, 4, [0, 2, 1, 3])
    names = [('lstm_k1_%s_%s' % (kind, gate)).encode() for gate in 'icfo' for kind in 'WUb']
    with h5py.File(path, 'w') as handle:
        handle.attrs['layer_names'] = [b'lstm_k1']
        handle.attrs['keras_version'] = b'1.2.2'
        handle.attrs['backend'] = b'tensorflow'
        group = handle.create_group('lstm_k1')
        group.attrs['weight_names'] = names
        for name, value in zip(names, keras1):
            group.create_dataset(name.decode(), data=value)
    target = Sequential([L.InputLayer(input_shape=(3, 5)), L.LSTM(2, name='lstm_k1')])
    target.load_weights(path)
    assert_same(target.get_weights(), weights)
