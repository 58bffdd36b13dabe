"""Graph bookkeeping that Keras 2.2.4 code reads (issue 18): masks kept on
nodes, `Network.compute_mask` on symbolic inputs, `get_source_inputs`, and
the base `compute_output_shape`.

Masks are checked against NumPy: an `Embedding(mask_zero=True)` masks the
positions whose index is 0 (`x != 0`).
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras import layers as L
from refkeras.engine import Layer, get_source_inputs
from refkeras.models import Model

INDICES = np.array([[1, 0, 3], [0, 0, 2]], dtype='int32')


def test_a_node_keeps_the_masks_of_its_inputs_and_outputs():
    x = L.Input(shape=(3,), dtype='int32')
    embedding = L.Embedding(5, 2, mask_zero=True)
    e = embedding(x)
    dense = L.Dense(4)
    d = dense(e)
    assert x._keras_history[0]._inbound_nodes[0].input_masks == [None]
    assert x._keras_history[0]._inbound_nodes[0].output_masks == [None]
    assert embedding.input_mask is None
    mask = embedding.output_mask
    assert dense.input_mask is mask and dense.get_input_mask_at(0) is mask
    value = K.function([x], [mask])([INDICES])[0]
    np.testing.assert_array_equal(value, INDICES != 0)
    # Dense keeps the mask of its input (it supports masking).
    assert K.function([x], [dense.output_mask])([INDICES])[0].tolist() == value.tolist()
    assert d.shape == (None, 3, 4)


def test_the_mask_of_a_layer_called_twice_must_be_asked_for_by_node():
    dense = L.Dense(2)
    dense(L.Input(shape=(3,)))
    dense(L.Input(shape=(3,)))
    assert dense.get_output_mask_at(1) is None
    with pytest.raises(AttributeError, match='get_input_mask_at'):
        dense.input_mask
    with pytest.raises(AttributeError, match='get_output_mask_at'):
        dense.output_mask


def test_network_compute_mask_on_symbolic_inputs_without_masks_is_none_for_each_output():
    a, b = L.Input(shape=(3,)), L.Input(shape=(3,))
    model = Model([a, b], [L.Dense(2)(a), L.add([a, b])])
    c, d = L.Input(shape=(3,)), L.Input(shape=(3,))
    assert model.compute_mask([c, d], [None, None]) == [None, None]


def test_network_compute_mask_on_symbolic_inputs_gives_the_masks_the_graph_computes():
    x = L.Input(shape=(3,), dtype='int32')
    model = Model(x, L.Embedding(5, 2, mask_zero=True)(x))
    other = L.Input(shape=(3,), dtype='int32')
    mask = model.compute_mask(other, None)
    value = K.function([other], [mask])([INDICES])[0]
    np.testing.assert_array_equal(value, INDICES != 0)


def test_get_source_inputs_follows_the_calls_back_to_the_inputs_once_each():
    a, b = L.Input(shape=(2,)), L.Input(shape=(2,))
    shared = L.Dense(2)
    c = L.concatenate([shared(a), shared(b), a])
    assert get_source_inputs(c) == [a, b]
    assert get_source_inputs(a) == [a]
    model = Model([a, b], c)
    assert model._input_layers == [a._keras_history[0], b._keras_history[0]]
    assert model._output_layers == [c._keras_history[0]]


class TwoOutputs(Layer):
    """Overrides compute_output_shape on top of the base method, as Keras code does."""

    def call(self, inputs):
        return [K.abs(inputs), K.square(inputs)]

    def compute_output_shape(self, input_shape):
        shape = super(TwoOutputs, self).compute_output_shape(input_shape)
        return [shape, shape]


class SumOfTwo(Layer):
    """Has no compute_output_shape: its shape is found from `call`."""

    def call(self, inputs):
        return K.sum(inputs[0] + inputs[1], axis=-1)


def test_the_base_compute_output_shape_called_from_an_override_returns_the_input_shape():
    x = L.Input(shape=(4, 3))
    first, second = TwoOutputs()(x)
    assert first.shape == second.shape == (None, 4, 3)


def test_a_layer_without_compute_output_shape_gets_the_shape_of_its_call():
    x = L.Input(shape=(4, 3))
    y = SumOfTwo()([x, x])
    assert y.shape == (None, 4)
    value = np.arange(12.0).reshape(1, 4, 3)
    np.testing.assert_allclose(Model(x, y).predict(value), (2 * value).sum(axis=-1))
