"""Regularizers and constraints (`refkeras.regularizers`, `refkeras.constraints`).

Penalties are compared with their formulas summed by loops, and their
gradients through the tape with closed forms and finite differences.
Constraints are compared with the projections computed column by column.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from refkeras import backend as K
from refkeras import constraints, regularizers
from refkeras.utils.generic_utils import CustomObjectScope

EPS = 1e-7  # K.epsilon() by default, the fuzz factor Keras 2.2.4's constraints use


def loop_penalty(x, l1, l2):
    total = 0.0
    for v in np.asarray(x, dtype='float64').ravel():
        total += l1 * abs(v) + l2 * v * v
    return total


W = np.array([[0.5, -1.5, 2.0], [-0.25, 3.0, -4.0], [1.0, 0.1, -0.2], [2.2, -0.7, 0.3]])


# --- regularizers: values ------------------------------------------------------------------

def test_l1_l2_penalties_match_the_formula():
    for reg, l1, l2 in ((regularizers.l1(0.3), 0.3, 0.0), (regularizers.l2(0.05), 0.0, 0.05),
                        (regularizers.l1_l2(l1=0.2, l2=0.4), 0.2, 0.4),
                        (regularizers.L1L2(l1=1e-3, l2=2e-3), 1e-3, 2e-3)):
        value = reg(W.astype('float32'))
        assert np.ndim(value) == 0
        # float32 factors and sums: relative error a few float32 ulps.
        assert math.isclose(float(value), loop_penalty(W, l1, l2), rel_tol=1e-6)


def test_default_factors_are_0_01():
    x = W.astype('float32')
    assert math.isclose(float(regularizers.l1()(x)), loop_penalty(W, 0.01, 0), rel_tol=1e-6)
    assert math.isclose(float(regularizers.l2()(x)), loop_penalty(W, 0, 0.01), rel_tol=1e-6)
    assert math.isclose(float(regularizers.l1_l2()(x)), loop_penalty(W, 0.01, 0.01),
                        rel_tol=1e-6)
    for name, l1, l2 in (('l1', 0.01, 0.0), ('l2', 0.0, 0.01), ('l1_l2', 0.01, 0.01)):
        config = regularizers.get(name).get_config()
        assert math.isclose(config['l1'], l1, rel_tol=1e-7) and math.isclose(config['l2'], l2,
                                                                             rel_tol=1e-7)


def test_zero_factors_and_base_class_give_zero():
    assert regularizers.L1L2()(W) == 0.0
    assert regularizers.Regularizer()(W) == 0.0


def test_penalty_keeps_the_weight_dtype():
    assert regularizers.l1_l2()(W.astype('float32')).dtype == np.float32
    assert regularizers.l1_l2()(W).dtype == np.float64


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                  elements=st.floats(-10, 10)),
       st.floats(0, 2), st.floats(0, 2))
def test_penalty_property(x, l1, l2):
    value = float(regularizers.L1L2(l1=l1, l2=l2)(x))
    # The factors are stored as floatx (float32) numbers, as Keras 2.2.4 does.
    f1, f2 = float(np.float32(l1)), float(np.float32(l2))
    assert math.isclose(value, loop_penalty(x, f1, f2), rel_tol=1e-12, abs_tol=1e-12)


# --- regularizers: gradients through the tape -------------------------------------------------

def test_penalty_gradient_closed_form():
    # d/dw [l1 |w| + l2 w^2] = l1 sign(w) + 2 l2 w (no zero entries in W).
    w = K.variable(W, dtype='float64')
    l1, l2 = float(np.float32(0.3)), float(np.float32(0.7))
    reg = regularizers.l1_l2(l1=0.3, l2=0.7)
    with K.GradientTape([w]) as tape:
        penalty = reg(w)
    grad, = tape.gradient(penalty, [w])
    np.testing.assert_allclose(grad, l1 * np.sign(W) + 2 * l2 * W, rtol=1e-12)


def test_penalty_gradient_finite_differences():
    reg = regularizers.L1L2(l1=0.05, l2=0.2)
    w = K.variable(W, dtype='float64')
    with K.GradientTape([w]) as tape:
        penalty = reg(w)
    grad, = tape.gradient(penalty, [w])
    h = 1e-6
    numeric = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        up, down = W.copy(), W.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (float(reg(up)) - float(reg(down))) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_penalty_on_symbolic_tensor():
    x = K.placeholder(shape=(None, 3))
    penalty = regularizers.l1_l2(l1=0.1, l2=0.2)(x)
    value, = K.function([x], [penalty])([W.astype('float32')])
    assert math.isclose(float(value), loop_penalty(W, float(np.float32(0.1)),
                                                   float(np.float32(0.2))), rel_tol=1e-6)


# --- regularizers: get / serialize / deserialize ----------------------------------------------

def test_regularizer_round_trip_and_get():
    reg = regularizers.L1L2(l1=0.25, l2=0.5)
    config = regularizers.serialize(reg)
    assert config == {'class_name': 'L1L2', 'config': {'l1': 0.25, 'l2': 0.5}}
    rebuilt = regularizers.deserialize(config)
    assert isinstance(rebuilt, regularizers.L1L2)
    assert rebuilt.get_config() == reg.get_config()
    assert regularizers.get(config).get_config() == reg.get_config()
    assert regularizers.get(None) is None
    assert regularizers.get(reg) is reg
    assert isinstance(regularizers.get('L1L2'), regularizers.L1L2)


def test_unknown_regularizer_and_bad_identifier():
    with pytest.raises(ValueError) as info:
        regularizers.get('l3')
    message = str(info.value)
    assert 'Unknown regularizer' in message and 'l3' in message
    assert 'custom_objects' in message and 'CustomObjectScope' in message
    with pytest.raises(ValueError, match='regularizer'):
        regularizers.get(0.01)
    with pytest.raises(ValueError):
        regularizers.get('K')


def test_custom_regularizer_by_scope():
    class Smoothness(regularizers.Regularizer):
        def __init__(self, weight=1.0):
            self.weight = weight

        def __call__(self, x):
            return K.multiply(self.weight, K.sum(K.square(x)))

        def get_config(self):
            return {'weight': self.weight}

    config = regularizers.serialize(Smoothness(2.0))
    with CustomObjectScope({'Smoothness': Smoothness}):
        assert regularizers.get(config).weight == 2.0
    assert regularizers.deserialize(config, custom_objects={'Smoothness': Smoothness}).weight == 2.0


# --- constraints: projections -----------------------------------------------------------------

def column_norms(w, axis):
    """Norms along `axis` by an explicit loop over the other axes."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = [a % w.ndim for a in axes]
    kept = [a for a in range(w.ndim) if a not in axes]
    moved = np.transpose(w, kept + axes).reshape([w.shape[a] for a in kept] + [-1])
    norms = np.empty(moved.shape[:-1])
    for idx in np.ndindex(*norms.shape):
        norms[idx] = math.sqrt(sum(v * v for v in moved[idx]))
    # Back to keepdims layout.
    shape = [1 if a in axes else w.shape[a] for a in range(w.ndim)]
    order = np.argsort(kept + axes)
    return np.transpose(norms.reshape(norms.shape + (1,) * len(axes)), order).reshape(shape)


def test_max_norm_rescales_only_long_columns():
    w = W.copy()
    original = w.copy()
    out = constraints.MaxNorm(max_value=2.0)(w)
    norms = column_norms(W, 0)  # about 2.47, 3.44, 4.49
    expected = W * np.minimum(norms, 2.0) / (EPS + norms)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(column_norms(out, 0), 2.0 * norms / (EPS + norms), rtol=1e-12)
    np.testing.assert_array_equal(w, original)  # the input is not modified in place


def test_max_norm_keeps_short_columns_up_to_epsilon():
    w = W * 0.1  # every column norm below 1
    out = constraints.max_norm(max_value=1.0)(w)
    np.testing.assert_allclose(out, w, rtol=1e-6)


def test_max_norm_on_conv_kernel_per_filter():
    kernel = np.random.RandomState(0).randn(3, 3, 4, 5)
    out = constraints.MaxNorm(max_value=1.5, axis=[0, 1, 2])(kernel)
    for f in range(5):
        norm = math.sqrt(float(np.sum(kernel[..., f] ** 2)))
        np.testing.assert_allclose(out[..., f], kernel[..., f] * min(norm, 1.5) / (EPS + norm),
                                   rtol=1e-12)


def test_non_neg():
    w = W.copy()
    out = constraints.NonNeg()(w)
    np.testing.assert_array_equal(out, np.where(W >= 0, W, 0.0))
    np.testing.assert_array_equal(w, W)
    assert constraints.non_neg()(W.astype('float32')).dtype == np.float32


def test_unit_norm():
    for axis in (0, 1, -1):
        out = constraints.UnitNorm(axis=axis)(W)
        norms = column_norms(W, axis)
        np.testing.assert_allclose(out, W / (EPS + norms), rtol=1e-12)
        np.testing.assert_allclose(column_norms(out, axis), norms / (EPS + norms), rtol=1e-12)


def test_min_max_norm_strict_and_gradual():
    norms = column_norms(W, 0)
    out = constraints.MinMaxNorm(min_value=2.6, max_value=4.0)(W)
    desired = np.clip(norms, 2.6, 4.0)
    np.testing.assert_allclose(out, W * desired / (EPS + norms), rtol=1e-12)
    out = constraints.min_max_norm(min_value=2.6, max_value=4.0, rate=0.25)(W)
    desired = 0.25 * np.clip(norms, 2.6, 4.0) + 0.75 * norms
    np.testing.assert_allclose(column_norms(out, 0), desired * norms / (EPS + norms), rtol=1e-12)


def test_zero_column_stays_zero():
    w = W.copy()
    w[:, 1] = 0.0
    for c in (constraints.MaxNorm(), constraints.UnitNorm(), constraints.MinMaxNorm(0.5, 1.0)):
        out = c(w)
        assert np.all(np.isfinite(out))
        np.testing.assert_array_equal(out[:, 1], 0.0)


def test_constraints_accept_variables():
    v = K.variable(W.astype('float32'))
    out = constraints.MaxNorm(max_value=2.0)(v)
    assert np.asarray(out).dtype == np.float32
    norms = column_norms(W, 0)
    np.testing.assert_allclose(out, W * np.minimum(norms, 2.0) / (EPS + norms), rtol=1e-6)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)),
                  elements=st.floats(-5, 5)),
       st.floats(0.1, 3.0))
def test_max_norm_property(w, max_value):
    out = constraints.MaxNorm(max_value=max_value)(w)
    assert np.all(column_norms(out, 0) <= max_value * (1 + 1e-12))
    # Each column keeps its direction: out = c * w with 0 <= c <= 1.
    for j in range(w.shape[1]):
        col = w[:, j]
        if np.any(col):
            k = np.argmax(np.abs(col))
            c = out[k, j] / col[k]
            assert -1e-12 <= c <= 1 + 1e-12
            np.testing.assert_allclose(out[:, j], c * col, rtol=1e-12, atol=1e-300)


# --- constraints: get / serialize / deserialize ----------------------------------------------

def test_constraint_round_trips_and_aliases():
    for c in (constraints.MaxNorm(3, axis=1), constraints.NonNeg(), constraints.UnitNorm(axis=-1),
              constraints.MinMaxNorm(0.5, 2.0, 0.3, axis=[0, 1])):
        config = constraints.serialize(c)
        assert config['class_name'] == type(c).__name__
        rebuilt = constraints.deserialize(config)
        assert type(rebuilt) is type(c) and rebuilt.get_config() == c.get_config()
        assert type(constraints.get(config)) is type(c)
    for name, cls in (('max_norm', constraints.MaxNorm), ('maxnorm', constraints.MaxNorm),
                      ('non_neg', constraints.NonNeg), ('nonneg', constraints.NonNeg),
                      ('unit_norm', constraints.UnitNorm), ('unitnorm', constraints.UnitNorm),
                      ('min_max_norm', constraints.MinMaxNorm), ('MaxNorm', constraints.MaxNorm)):
        assert type(constraints.get(name)) is cls, name
    assert constraints.get('max_norm').get_config() == {'max_value': 2, 'axis': 0}
    assert constraints.get('min_max_norm').get_config() == {
        'min_value': 0.0, 'max_value': 1.0, 'rate': 1.0, 'axis': 0}
    assert constraints.get(None) is None
    fn = constraints.UnitNorm()
    assert constraints.get(fn) is fn


def test_unknown_constraint_and_bad_identifier():
    with pytest.raises(ValueError) as info:
        constraints.get('max_nrom')
    message = str(info.value)
    assert 'Unknown constraint' in message and 'max_nrom' in message
    assert 'custom_objects' in message and "'max_norm'" in message
    with pytest.raises(ValueError, match='constraint'):
        constraints.get(2.0)
