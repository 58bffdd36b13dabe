"""TimeDistributed and Bidirectional on symbolic tensors whose batch and time sizes are unknown."""
import numpy as np

from refkeras import backend as K
from refkeras import layers as L
from refkeras.models import Model, Sequential
from refkeras.utils.generic_utils import CustomObjectScope, object_list_uid


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


def test_rnn_initial_state_on_a_symbolic_input_has_the_input_batch_size():
    inputs = L.Input((3, 5))
    layer = L.LSTM(4)
    layer(inputs)
    states = layer.get_initial_state(inputs)
    assert [K.int_shape(s) for s in states] == [(None, 4), (None, 4)]
    values = K.function([inputs], states)([np.ones((2, 3, 5), dtype='float32')])
    for value in values:
        np.testing.assert_array_equal(value, np.zeros((2, 4)))


def test_bidirectional_inner_layers_called_on_a_symbolic_input_match_the_model():
    inputs = L.Input((3, 2))
    layer = L.Bidirectional(L.SimpleRNN(3), merge_mode='sum')
    model = Model(inputs, layer(inputs))
    forward = layer.forward_layer.call(inputs)
    backward = layer.backward_layer.call(inputs)
    assert K.int_shape(forward) == (None, 3)
    data = np.random.RandomState(2).rand(4, 3, 2).astype('float32')
    f_value, b_value = K.function([inputs], [forward, backward])([data])
    np.testing.assert_allclose(f_value + b_value, model.predict(data), rtol=1e-5, atol=1e-6)


class CellWithConstant(L.Layer):
    """h_t = x_t . Wx + h_{t-1} . Wh + c . Wc (no nonlinearity, easy to loop by hand)."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super(CellWithConstant, self).__init__(**kwargs)

    def build(self, input_shape):
        assert isinstance(input_shape, list), 'the cell must see the constant shape'
        step_shape, constant_shape = input_shape
        self.wx = self.add_weight(shape=(step_shape[-1], self.units), initializer='uniform',
                                  name='wx')
        self.wh = self.add_weight(shape=(self.units, self.units), initializer='uniform',
                                  name='wh')
        self.wc = self.add_weight(shape=(constant_shape[-1], self.units), initializer='uniform',
                                  name='wc')
        self.built = True

    def call(self, inputs, states, constants):
        out = K.dot(inputs, self.wx) + K.dot(states[0], self.wh) + K.dot(constants[0], self.wc)
        return out, [out]

    def get_config(self):
        config = dict(super(CellWithConstant, self).get_config())
        config['units'] = self.units
        return config


def loop_by_hand(x, c, wx, wh, wc, reverse):
    h = np.zeros((x.shape[0], wh.shape[0]))
    steps = range(x.shape[1])
    for t in (reversed(steps) if reverse else steps):
        h = x[:, t] @ wx + h @ wh + c @ wc
    return h


def test_bidirectional_passes_constants_to_both_directions_cells():
    x_in, c_in = L.Input((4, 3)), L.Input((2,))
    with CustomObjectScope({'CellWithConstant': CellWithConstant}):  # the backward copy
        layer = L.Bidirectional(L.RNN(CellWithConstant(5)))
    model = Model([x_in, c_in], layer(x_in, constants=c_in))
    assert model.output_shape == (None, 10)
    rng = np.random.RandomState(3)
    x, c = rng.rand(2, 4, 3), rng.rand(2, 2)
    fwx, fwh, fwc, bwx, bwh, bwc = layer.get_weights()
    expected = np.concatenate([loop_by_hand(x, c, fwx, fwh, fwc, reverse=False),
                               loop_by_hand(x, c, bwx, bwh, bwc, reverse=True)], axis=-1)
    np.testing.assert_allclose(model.predict([x, c]), expected, rtol=1e-5, atol=1e-6)


def test_bidirectional_with_constants_survives_a_config_round_trip():
    x_in, c_in = L.Input((4, 3)), L.Input((2,))
    with CustomObjectScope({'CellWithConstant': CellWithConstant}):
        layer = L.Bidirectional(L.RNN(CellWithConstant(5)), merge_mode='sum')
        model = Model([x_in, c_in], layer(x_in, constants=c_in))
        rebuilt = Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    rng = np.random.RandomState(4)
    x, c = rng.rand(3, 4, 3), rng.rand(3, 2)
    fwx, fwh, fwc, bwx, bwh, bwc = model.get_weights()
    expected = (loop_by_hand(x, c, fwx, fwh, fwc, reverse=False) +
                loop_by_hand(x, c, bwx, bwh, bwc, reverse=True))
    np.testing.assert_allclose(rebuilt.predict([x, c]), expected, rtol=1e-5, atol=1e-6)
