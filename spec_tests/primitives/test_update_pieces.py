"""The optimizer updates run on cache-sized pieces and store subnormal slots as 0
(`refkeras/backend/pieces.py`)."""
import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refkeras.backend.pieces import PIECE_ELEMENTS, flush_subnormals, in_pieces
from refkeras.backend.registry import REGISTRY

TINY32 = np.finfo(np.float32).tiny


def _rmsprop_whole(p, g, a, lr, rho, epsilon):
    """RMSprop on whole arrays, one NumPy pass per operation (no pieces, no flush)."""
    new_a = rho * a + (1. - rho) * np.square(g)
    return p - lr * g / (np.sqrt(new_a) + epsilon), new_a


@given(extra=st.integers(-3, 3 * PIECE_ELEMENTS // 2), seed=st.integers(0, 2 ** 16))
def test_a_rule_in_pieces_gives_the_whole_array_rule_bit_for_bit(extra, seed):
    size = 2 * PIECE_ELEMENTS + extra
    rng = np.random.default_rng(seed)
    p, g = rng.standard_normal((2, size)).astype(np.float32)
    a = np.abs(rng.standard_normal(size)).astype(np.float32)
    lr, rho = np.float32(0.01), np.float32(0.9)
    expected = _rmsprop_whole(p, g, a, lr, rho, 1e-7)
    got = in_pieces(arrays=3)(_rmsprop_whole)(p, g, a, lr, rho, 1e-7)
    for want, have in zip(expected, got):
        assert have.dtype == want.dtype and have.shape == want.shape
        np.testing.assert_array_equal(have, want)


def test_pieces_keep_the_shape_and_read_strided_operands():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((300, 500)).astype(np.float32)[:, ::2]   # not contiguous
    g = rng.standard_normal((300, 250)).astype(np.float32)
    a = np.abs(rng.standard_normal((300, 250))).astype(np.float32)
    rule = REGISTRY['rmsprop_update'].forward
    new_p, new_a = rule(p, g, a, np.float32(0.01), np.float32(0.9), epsilon=1e-7)
    want_p, want_a = _rmsprop_whole(p, g, a, np.float32(0.01), np.float32(0.9), 1e-7)
    assert new_p.shape == (300, 250)
    np.testing.assert_array_equal(new_p, want_p)
    np.testing.assert_array_equal(new_a, want_a)


def test_a_slot_decaying_below_the_smallest_normal_float32_is_stored_as_zero():
    # A dead unit (gradient 0): the accumulator halves each step, 1.5e-38 -> 7.5e-39,
    # which is subnormal in float32; TensorFlow's flush-to-zero kernels store 0.
    size = PIECE_ELEMENTS + 5                       # through the pieces too
    a = np.full(size, 1.5e-38, dtype=np.float32)
    a[0] = 4.0                                      # a normal value: kept, halved
    p = np.ones(size, dtype=np.float32)
    g = np.zeros(size, dtype=np.float32)
    new_p, new_a = REGISTRY['rmsprop_update'].forward(p, g, a, np.float32(0.1), np.float32(0.5),
                                                      epsilon=1e-7)
    assert new_a[0] == 2.0
    assert not np.any(new_a[1:]) and np.signbit(new_a[1:]).sum() == 0
    np.testing.assert_array_equal(new_p, p)


@pytest.mark.parametrize('name, arrays', [('sgd_update', 3), ('adam_update', 4),
                                          ('adadelta_update', 4), ('adamax_update', 4)])
def test_every_decaying_slot_is_flushed(name, arrays):
    small = np.full(7, 2e-38, dtype=np.float32)     # normal; times 0.5 it is subnormal
    zeros = np.zeros(7, dtype=np.float32)
    half = np.float32(0.5)
    operands = {'sgd_update': (zeros, zeros, small, half, half),
                'adam_update': (zeros, zeros, small, small, half, half, half),
                'adadelta_update': (zeros, zeros, small, small, half),
                'adamax_update': (zeros, zeros, small, small, half, half, half)}[name]
    attributes = {'rho': 0.5} if name == 'adadelta_update' else {}
    outputs = REGISTRY[name].forward(*operands, **attributes)
    for slot in outputs[1:]:
        assert np.all(np.abs(slot) < TINY32)
        assert not np.any(slot), '%s stored a subnormal slot: %r' % (name, slot)


def test_flush_keeps_normal_values_zeros_and_signs():
    x = np.array([-3.0, -1e-39, 0.0, 1e-40, TINY32, -TINY32, 7.0], dtype=np.float32)
    flushed = flush_subnormals(x.copy())
    np.testing.assert_array_equal(flushed, [-3.0, 0.0, 0.0, 0.0, TINY32, -TINY32, 7.0])
    assert flush_subnormals(np.float64(1e-310)) == 0.0
    assert flush_subnormals(np.float64(-2.5)) == -2.5
    ints = np.array([0, 1, 2])
    assert flush_subnormals(ints) is ints


def test_mismatched_shapes_raise_before_any_piece_runs():
    big = np.ones(3 * PIECE_ELEMENTS, dtype=np.float32)
    with pytest.raises(ValueError, match=r"'rmsprop_update'.*`accumulator` has shape"):
        REGISTRY['rmsprop_update'].forward(big, big, big[:-1], np.float32(0.1), np.float32(0.9))


def _scalars(*values):
    return [np.float32(v) for v in values]


#: Each update primitive: how many elementwise arrays it takes, its 0-d operands, attributes.
UPDATE_OPERANDS = {
    'sgd_update': (3, _scalars(0.01, 0.9), {'nesterov': True}),
    'rmsprop_update': (3, _scalars(0.01, 0.9), {}),
    'adagrad_update': (3, _scalars(0.01), {}),
    'adadelta_update': (4, _scalars(1.0), {'rho': 0.95}),
    'adam_update': (4, _scalars(0.001, 0.9, 0.999), {}),
    'amsgrad_update': (5, _scalars(0.001, 0.9, 0.999), {}),
    'adamax_update': (4, _scalars(0.002, 0.9, 0.999), {}),
    'nadam_update': (4, _scalars(0.002, 0.9, 0.999, 0.5, 0.6, 0.45, 0.3, 0.998), {}),
}


def test_every_update_primitive_is_checked_here():
    updates = {name for name in REGISTRY if name.endswith('_update')}
    assert updates == set(UPDATE_OPERANDS)


@pytest.mark.parametrize('name', sorted(UPDATE_OPERANDS))
def test_pieces_written_into_the_results_give_the_whole_array_rule_bit_for_bit(name):
    # The decorated rule writes each piece's results straight into the result arrays
    # (`out`); the undecorated rule on whole arrays is the reference.
    arrays, scalars, attributes = UPDATE_OPERANDS[name]
    rng = np.random.default_rng(7)
    size = 3 * PIECE_ELEMENTS + 11
    operands = [rng.standard_normal(size).astype(np.float32)]                  # p
    operands += [rng.standard_normal(size).astype(np.float32)]                 # g
    operands += [np.abs(rng.standard_normal(size)).astype(np.float32)          # slots
                 for _ in range(arrays - 2)]
    operands[2][:100] = 1e-39                      # some slots decay into subnormals
    forward = REGISTRY[name].forward
    whole = inspect.unwrap(forward)(*operands, *scalars, **attributes)
    pieced = forward(*operands, *scalars, **attributes)
    assert len(pieced) == len(whole)
    for want, have in zip(whole, pieced):
        assert have.dtype == want.dtype and have.shape == want.shape
        assert np.array_equal(have.view(np.int32), want.view(np.int32))


@pytest.mark.parametrize('name', sorted(UPDATE_OPERANDS))
def test_the_destination_keyword_is_not_part_of_a_primitives_signature(name):
    assert 'out' not in inspect.signature(REGISTRY[name].forward).parameters
    assert 'out' in inspect.signature(inspect.unwrap(REGISTRY[name].forward)).parameters
