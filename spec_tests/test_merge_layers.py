"""Merge layers: None dimensions, reuse of a built layer, mask arguments."""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras import layers as L
from refkeras.models import Model


def test_a_layer_called_on_a_list_the_caller_extends_later_keeps_its_inputs():
    """Dense connectivity: each concatenate sees the list as it was when called."""
    x_in = L.Input(shape=(None, 2))
    features = [x_in]
    x = x_in
    for _ in range(3):
        features.append(x)
        x = L.concatenate(features, axis=1)
    model = Model(x_in, x)
    data = np.arange(6, dtype='float32').reshape(1, 3, 2)
    # By hand: step k concatenates [input, input, out_1, ..., out_{k-1}].
    expected_list = [data]
    expected = data
    for _ in range(3):
        expected_list.append(expected)
        expected = np.concatenate(expected_list, axis=1)
    out = model.predict(data)
    assert out.shape == (1, 3 * 8, 2)
    np.testing.assert_array_equal(out, expected)


def test_a_merge_layer_with_none_dimensions_has_none_in_its_output_shape():
    a = L.Input(shape=(None, 3))
    b = L.Input(shape=(None, 3))
    assert K.int_shape(L.add([a, b])) == (None, None, 3)
    assert K.int_shape(L.concatenate([a, b], axis=1)) == (None, None, 3)
    assert K.int_shape(L.concatenate([a, b])) == (None, None, 6)


@pytest.mark.parametrize('make', [L.Add, L.Subtract, L.Multiply, L.Maximum, L.Average,
                                  L.Concatenate])
def test_merge_compute_mask_wants_lists_of_the_same_length(make):
    a = L.Input(shape=(4,))
    b = L.Input(shape=(4,))
    layer = make(name='merger')
    layer([a, b])
    with pytest.raises(ValueError, match=r'merger.*`inputs` should be a list'):
        layer.compute_mask(a, [None, None])
    with pytest.raises(ValueError, match=r'merger.*`mask` should be a list'):
        layer.compute_mask([a, b], np.ones((2, 4)))
    with pytest.raises(ValueError, match=r'merger.*1 masks for 2 inputs'):
        layer.compute_mask([a, b], [None])


def test_a_built_subtract_layer_still_refuses_three_inputs():
    a, b, c = (L.Input(shape=(4,)) for _ in range(3))
    layer = L.Subtract(name='minus')
    layer([a, b])
    with pytest.raises(ValueError, match=r'minus.*exactly 2 inputs; got 3'):
        layer([a, b, c])


def test_a_built_concatenate_layer_still_refuses_a_single_input():
    a, b = L.Input(shape=(4,)), L.Input(shape=(4,))
    layer = L.Concatenate(name='joiner')
    layer([a, b])
    with pytest.raises(ValueError, match=r'joiner.*at least 2'):
        layer([a])
