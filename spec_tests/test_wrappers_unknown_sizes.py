"""TimeDistributed and Bidirectional on symbolic tensors whose batch and time sizes are unknown."""
import numpy as np

from refkeras import backend as K
from refkeras import layers as L
from refkeras.models import Sequential
from refkeras.utils.generic_utils import object_list_uid


def masked_sequences(seed=0):
    """(5, 3, 4) integers 1..4 with trailing timesteps of sample i zeroed from step i on."""
    data = np.random.RandomState(seed).randint(1, 5, size=(5, 3, 4)).astype('float32')
    for i in range(3):
        data[i, i:, :] = 0.
    return data


def test_time_distributed_masking_gives_a_symbolic_mask_with_unknown_sizes():
    model = Sequential([L.TimeDistributed(L.Masking(0.), input_shape=(None, 4)),
                        L.TimeDistributed(L.Dense(2))])
    first, second = model.layers
    mask = first.compute_mask(model.input)
    assert K.int_shape(mask) == (None, None)
    downstream = second.compute_mask(second.input, mask)
    data = masked_sequences()
    values = K.function([model.input], [mask, downstream])([data])
    by_hand = np.array([[any(v != 0 for v in step) for step in sample] for sample in data])
    np.testing.assert_array_equal(values[0], by_hand)
    np.testing.assert_array_equal(values[1], by_hand)


def test_time_distributed_without_any_mask_has_no_mask():
    model = Sequential([L.TimeDistributed(L.Dense(2), input_shape=(None, 4))])
    assert model.layers[0].compute_mask(model.input) is None


def test_time_distributed_embedding_masks_two_unknown_axes():
    model = Sequential([L.TimeDistributed(L.Embedding(5, 3, mask_zero=True),
                                          input_shape=(None, None))])
    mask = model.layers[0].compute_mask(model.input)
    assert K.int_shape(mask) == (None, None, None)
    ids = np.array([[[1, 0, 2], [0, 0, 4]]], dtype='int32')
    np.testing.assert_array_equal(K.function([model.input], [mask])([ids])[0], ids != 0)


def test_time_distributed_keeps_the_merged_view_of_each_symbolic_input():
    model = Sequential([L.TimeDistributed(L.Dense(3), input_shape=(4, 2))])
    td = model.layers[0]
    uid = object_list_uid(model.inputs)
    assert list(td._input_map) == [uid]
    assert K.int_shape(td._input_map[uid]) == (None, 2)
    data = np.arange(16, dtype='float32').reshape(2, 4, 2)
    merged = K.function([model.input], [td._input_map[uid]])([data])[0]
    np.testing.assert_array_equal(merged, data.reshape(8, 2))


def test_time_distributed_call_on_a_symbolic_tensor_matches_predict():
    model = Sequential([L.TimeDistributed(L.Dense(3), input_shape=(None, 2))])
    td = model.layers[0]
    symbolic = td.call(model.input)
    assert K.int_shape(symbolic) == (None, None, 3)
    data = np.random.RandomState(1).rand(2, 5, 2).astype('float32')
    kernel, bias = td.get_weights()
    np.testing.assert_allclose(K.function([model.input], [symbolic])([data])[0],
                               data @ kernel + bias, rtol=1e-6)
