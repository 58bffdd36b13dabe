"""Losses and metrics (`refkeras.losses`, `refkeras.metrics`), as Keras 2.2.4 defines them.

Each loss and metric is compared with its formula worked out by hand in NumPy
(float64, one sample at a time where that is clearer), including the
`K.epsilon()` clipping Keras applies; gradients through the tape are compared
with central finite differences. Names, aliases, `get` / `serialize` and the
engine's resolution of `'acc'` (Keras 2.2.4's `handle_metrics`) are checked
too.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from refkeras import backend as K
from refkeras import losses
from refkeras import metrics

EPS = 1e-7  # K.epsilon() by default
RNG = np.random.RandomState(1234)


def close(actual, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(K.eval(actual) if K.is_tensor(actual) else actual),
                               expected, rtol=rtol, atol=atol)


def per_sample(fn, y_true, y_pred):
    """`fn(true_row, pred_row)` for each row of 2-D arrays."""
    return np.array([fn(t, p) for t, p in zip(y_true, y_pred)])


def test_epsilon_is_the_default_fuzz_factor():
    assert K.epsilon() == EPS


# --- regression losses ----------------------------------------------------------------

Y_TRUE = RNG.uniform(-2, 2, size=(5, 4))
Y_PRED = RNG.uniform(-2, 2, size=(5, 4))


def test_mean_squared_and_absolute_error():
    close(losses.mean_squared_error(Y_TRUE, Y_PRED),
          per_sample(lambda t, p: sum((pi - ti) ** 2 for ti, pi in zip(t, p)) / len(t),
                     Y_TRUE, Y_PRED))
    close(losses.mean_absolute_error(Y_TRUE, Y_PRED),
          per_sample(lambda t, p: sum(abs(pi - ti) for ti, pi in zip(t, p)) / len(t),
                     Y_TRUE, Y_PRED))


def test_mean_absolute_percentage_error_clips_the_denominator():
    y_true = np.array([[2.0, -4.0, 0.0], [1e-9, 0.5, -0.5]])
    y_pred = np.array([[1.0, -3.0, 0.25], [1.0, 0.0, 0.5]])
    expected = [100 * (0.5 + 0.25 + 0.25 / EPS) / 3,      # |y_true| = 0 -> divided by eps
                100 * ((1 - 1e-9) / EPS + 1.0 + 2.0) / 3]  # |y_true| = 1e-9 < eps
    close(losses.mean_absolute_percentage_error(y_true, y_pred), expected)


def test_mean_squared_logarithmic_error_clips_below_at_epsilon():
    y_true = np.array([[0.0, 1.0, 3.0], [-5.0, 2.0, 0.5]])
    y_pred = np.array([[1.0, -2.0, 2.0], [0.0, 2.0, 1.5]])

    def msle(t, p):
        logs = [(math.log(max(pi, EPS) + 1) - math.log(max(ti, EPS) + 1)) ** 2
                for ti, pi in zip(t, p)]
        return sum(logs) / len(logs)
    close(losses.mean_squared_logarithmic_error(y_true, y_pred), per_sample(msle, y_true, y_pred))


def test_logcosh_is_log_of_cosh_and_does_not_overflow():
    close(losses.logcosh(Y_TRUE, Y_PRED),
          per_sample(lambda t, p: np.mean([math.log(math.cosh(pi - ti)) for ti, pi in zip(t, p)]),
                     Y_TRUE, Y_PRED))
    # Far beyond where cosh overflows float32/float64: log(cosh(x)) = |x| - log(2).
    huge = np.array([[800.0, -900.0]], dtype='float32')
    close(losses.logcosh(np.zeros_like(huge), huge), [(800 + 900) / 2 - math.log(2)], rtol=1e-6)


def test_poisson_and_kullback_leibler_divergence():
    y_true = RNG.uniform(0, 1, size=(4, 3))
    y_pred = RNG.uniform(0, 1, size=(4, 3))
    y_pred[0, 0] = 0.0
    y_true[1, 1] = 0.0
    close(losses.poisson(y_true, y_pred),
          per_sample(lambda t, p: np.mean([pi - ti * math.log(pi + EPS) for ti, pi in zip(t, p)]),
                     y_true, y_pred))

    def kld(t, p):
        total = 0.0
        for ti, pi in zip(t, p):
            ti, pi = min(max(ti, EPS), 1), min(max(pi, EPS), 1)
            total += ti * math.log(ti / pi)
        return total
    close(losses.kullback_leibler_divergence(y_true, y_pred), per_sample(kld, y_true, y_pred))
    # Values above 1 are clipped to 1 too.
    close(losses.kullback_leibler_divergence(np.array([[3.0]]), np.array([[0.5]])),
          [math.log(1 / 0.5)])


def test_cosine_proximity_is_minus_the_cosine_similarity():
    def cosine(t, p):
        nt = max(math.sqrt(sum(v * v for v in t)), 1e-6)
        np_ = max(math.sqrt(sum(v * v for v in p)), 1e-6)
        return -sum(a * b for a, b in zip(t, p)) / (nt * np_)
    close(losses.cosine_proximity(Y_TRUE, Y_PRED), per_sample(cosine, Y_TRUE, Y_PRED))
    close(losses.cosine_proximity(np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])), [-1.0])
    # A zero vector is divided by sqrt(1e-12), not by zero.
    close(losses.cosine_proximity(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])), [0.0])


# --- hinge losses -------------------------------------------------------------------------

def test_hinge_and_squared_hinge():
    y_true = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    y_pred = np.array([[0.3, 0.2, 2.0], [-3.0, 0.9, -0.5]])
    margins = [[0.7, 1.2, 0.0], [0.0, 1.9, 1.5]]  # max(1 - t * p, 0), by hand
    close(losses.hinge(y_true, y_pred), [np.mean(m) for m in margins])
    close(losses.squared_hinge(y_true, y_pred), [np.mean(np.square(m)) for m in margins])


def test_categorical_hinge():
    y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    y_pred = np.array([[0.2, 0.5, 0.9], [3.0, 1.0, 0.5], [0.1, 0.2, 0.3]])
    # max(0, best wrong score - true score + 1)
    expected = [max(0, 0.9 - 0.5 + 1), max(0, 1.0 - 3.0 + 1), max(0, 0.2 - 0.3 + 1)]
    close(losses.categorical_hinge(y_true, y_pred), expected)


# --- crossentropies ---------------------------------------------------------------------

def test_categorical_crossentropy_normalises_and_clips():
    y_pred = np.array([[0.2, 0.6, 0.2], [2.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    expected = [-math.log(0.6),
                -math.log(0.5),        # rows are rescaled to sum to 1
                -math.log(EPS)]        # a zero probability is clipped to epsilon
    close(losses.categorical_crossentropy(y_true, y_pred), expected)
    soft = np.array([[0.25, 0.75, 0.0]])
    close(losses.categorical_crossentropy(soft, y_pred[:1]),
          [-(0.25 * math.log(0.2) + 0.75 * math.log(0.6))])


def test_sparse_categorical_crossentropy_takes_class_indices():
    y_pred = np.array([[0.2, 0.6, 0.2], [2.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    expected = [-math.log(0.6), -math.log(0.25), -math.log(1 - EPS)]
    labels = np.array([1, 2, 1])
    close(losses.sparse_categorical_crossentropy(labels, y_pred), expected)
    close(losses.sparse_categorical_crossentropy(labels.reshape(-1, 1).astype('float32'), y_pred),
          expected)
    # Sequences: (samples, steps) labels against (samples, steps, classes).
    seq = np.stack([y_pred, y_pred[::-1]])
    close(losses.sparse_categorical_crossentropy(np.array([[1, 2, 1], [1, 2, 1]]), seq),
          [expected, [-math.log(1 - EPS), -math.log(0.25), -math.log(0.6)]])


def test_binary_crossentropy_clips_probabilities():
    y_true = np.array([[1.0, 0.0, 1.0, 0.3], [0.0, 1.0, 0.0, 1.0]])
    y_pred = np.array([[0.9, 0.2, 0.5, 0.6], [0.0, 1.0, 1.0, 1e-9]])

    def bce(t, p):
        p = min(max(p, EPS), 1 - EPS)
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))
    expected = [np.mean([bce(t, p) for t, p in zip(ts, ps)]) for ts, ps in zip(y_true, y_pred)]
    close(losses.binary_crossentropy(y_true, y_pred), expected, rtol=1e-7)


def test_binary_crossentropy_in_float32_clips_at_float32_one_minus_epsilon():
    # In float32, 1 - 1e-7 rounds to 1 - 2**-23, so a confident wrong answer
    # costs -log(2**-23) rather than -log(1e-7), as in Keras on TensorFlow.
    y_true = np.array([[0.0]], dtype='float32')
    y_pred = np.array([[1.0]], dtype='float32')
    out = K.eval(losses.binary_crossentropy(y_true, y_pred))
    assert out.dtype == np.float32
    close(out, [-math.log(2.0 ** -23)], rtol=1e-5)


# --- differentiability ------------------------------------------------------------------

LOSSES_TO_DIFFERENTIATE = [
    ('mean_squared_error', lambda: RNG.uniform(-1, 1, (3, 4))),
    ('mean_absolute_error', lambda: RNG.uniform(-1, 1, (3, 4))),
    ('mean_absolute_percentage_error', lambda: RNG.uniform(0.5, 2, (3, 4))),
    ('mean_squared_logarithmic_error', lambda: RNG.uniform(0.1, 2, (3, 4))),
    ('squared_hinge', lambda: np.sign(RNG.uniform(-1, 1, (3, 4)))),
    ('hinge', lambda: np.sign(RNG.uniform(-1, 1, (3, 4)))),
    ('categorical_hinge', lambda: np.eye(4)[[0, 2, 3]]),
    ('logcosh', lambda: RNG.uniform(-1, 1, (3, 4))),
    ('categorical_crossentropy', lambda: np.eye(4)[[0, 2, 3]]),
    ('binary_crossentropy', lambda: RNG.uniform(0, 1, (3, 4))),
    ('kullback_leibler_divergence', lambda: RNG.dirichlet(np.ones(4), 3)),
    ('poisson', lambda: RNG.uniform(0, 2, (3, 4))),
    ('cosine_proximity', lambda: RNG.uniform(-1, 1, (3, 4))),
]


@pytest.mark.parametrize('name,make_target', LOSSES_TO_DIFFERENTIATE,
                         ids=[n for n, _ in LOSSES_TO_DIFFERENTIATE])
def test_losses_are_differentiable_on_the_tape(name, make_target):
    fn = losses.get(name)
    y_true = make_target()
    # Predictions inside (0, 1) away from kinks: valid for every loss here.
    pred0 = RNG.uniform(0.15, 0.85, (3, 4))
    y_pred = K.variable(pred0, dtype='float64')
    with K.GradientTape([y_pred]) as tape:
        loss = K.sum(fn(y_true, y_pred))
    grad, = tape.gradient(loss, [y_pred])

    def f(p):
        return float(np.sum(K.eval(fn(y_true, p))))
    numeric = np.zeros_like(pred0)
    h = 1e-6
    for idx in np.ndindex(pred0.shape):
        up, down = pred0.copy(), pred0.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (f(up) - f(down)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_sparse_categorical_crossentropy_gradient():
    labels = np.array([0, 2, 1])
    pred0 = RNG.uniform(0.1, 1.0, (3, 3))
    y_pred = K.variable(pred0, dtype='float64')
    with K.GradientTape([y_pred]) as tape:
        loss = K.sum(losses.sparse_categorical_crossentropy(labels, y_pred))
    grad, = tape.gradient(loss, [y_pred])
    # d/dp_ij of -log(p_iy / sum_k p_ik) = 1/sum_k p_ik - [j == y] / p_iy
    expected = 1 / pred0.sum(axis=1, keepdims=True) - np.eye(3)[labels] / pred0
    np.testing.assert_allclose(grad, expected, rtol=1e-9)


def test_losses_build_on_symbolic_tensors():
    y_true = K.placeholder(shape=(None, 4))
    y_pred = K.placeholder(shape=(None, 4))
    out = losses.mean_squared_logarithmic_error(y_true, y_pred)
    assert isinstance(out, K.SymbolicTensor)
    t, p = RNG.uniform(0, 1, (2, 4)), RNG.uniform(0, 1, (2, 4))
    value, = K.function([y_true, y_pred], [out])([t, p])
    close(value, np.mean((np.log(p + 1) - np.log(t + 1)) ** 2, axis=-1), rtol=1e-6)


@given(hnp.arrays(np.float64, (3, 5), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, (3, 5), elements=st.floats(-10, 10)))
def test_regression_losses_are_per_sample_and_non_negative(y_true, y_pred):
    for name in ('mse', 'mae', 'mape', 'msle', 'logcosh', 'hinge', 'squared_hinge'):
        out = np.asarray(losses.get(name)(y_true, y_pred))
        assert out.shape == (3,), name
        assert np.all(out >= -1e-12), name
    # mse is the mean of the squared differences, the same as a loop computes.
    close(losses.mse(y_true, y_pred), [np.mean([(p - t) ** 2 for t, p in zip(ts, ps)])
                                       for ts, ps in zip(y_true, y_pred)])


# --- accuracy metrics -----------------------------------------------------------------------

def test_binary_accuracy_rounds_half_to_even():
    y_true = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    y_pred = np.array([[0.7, 0.5, 0.5, 0.2], [0.49, 0.51, 0.99, 0.0]])
    # 0.5 rounds to 0: row 1 -> all four hit; row 2 -> hits at 0 and 2.
    close(metrics.binary_accuracy(y_true, y_pred), [1.0, 0.5])


def test_categorical_accuracy():
    y_true = np.eye(3)[[0, 1, 2, 2]]
    y_pred = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.0, 0.1, 0.9], [0.3, 0.4, 0.3]])
    out = metrics.categorical_accuracy(y_true, y_pred)
    assert np.asarray(out).dtype == np.dtype(K.floatx())
    close(out, [1.0, 0.0, 1.0, 0.0])


def test_sparse_categorical_accuracy_accepts_flat_column_and_sequence_targets():
    y_pred = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.0, 0.1, 0.9]])
    expected = [1.0, 0.0, 1.0]
    close(metrics.sparse_categorical_accuracy(np.array([0.0, 1.0, 2.0]), y_pred), expected)
    close(metrics.sparse_categorical_accuracy(np.array([[0.0], [1.0], [2.0]]), y_pred), expected)
    seq_pred = np.stack([y_pred, y_pred])
    seq_true = np.array([[[0.0], [2.0], [2.0]], [[1.0], [1.0], [2.0]]])
    close(metrics.sparse_categorical_accuracy(seq_true, seq_pred), [[1, 1, 1], [0, 0, 1]])


def top_k_by_sorting(scores, target, k):
    """Target among the k largest, ties at the boundary counted in (TensorFlow's rule)."""
    kth_largest = sorted(scores, reverse=True)[k - 1]
    return scores[target] >= kth_largest


@pytest.mark.parametrize('k', [1, 2, 5])
def test_top_k_categorical_accuracies(k):
    y_pred = RNG.uniform(0, 1, (8, 6))
    labels = RNG.randint(0, 6, size=8)
    expected = np.mean([top_k_by_sorting(list(row), t, k) for row, t in zip(y_pred, labels)])
    close(metrics.top_k_categorical_accuracy(np.eye(6)[labels], y_pred, k=k), expected)
    close(metrics.sparse_top_k_categorical_accuracy(labels.astype('float32'), y_pred, k=k),
          expected)
    close(metrics.sparse_top_k_categorical_accuracy(labels.reshape(-1, 1), y_pred, k=k),
          expected)


def test_top_k_defaults_to_five_and_counts_ties_in():
    y_pred = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    assert float(metrics.top_k_categorical_accuracy(np.eye(7)[[2]], y_pred)) == 1.0
    assert float(metrics.top_k_categorical_accuracy(np.eye(7)[[1]], y_pred)) == 0.0
    tied = np.array([[0.9, 0.5, 0.5, 0.5]])
    assert float(metrics.sparse_top_k_categorical_accuracy(np.array([3]), tied, k=2)) == 1.0


def test_losses_are_metrics_too():
    for name in ('mse', 'mae', 'mape', 'msle', 'cosine', 'hinge', 'squared_hinge', 'logcosh',
                 'poisson', 'binary_crossentropy', 'categorical_crossentropy',
                 'sparse_categorical_crossentropy', 'kullback_leibler_divergence',
                 'cosine_proximity', 'mean_squared_error'):
        assert metrics.get(name) is losses.get(name), name


# --- names, aliases, serialization ------------------------------------------------------

LOSS_ALIASES = {
    'mse': 'mean_squared_error', 'MSE': 'mean_squared_error',
    'mae': 'mean_absolute_error', 'MAE': 'mean_absolute_error',
    'mape': 'mean_absolute_percentage_error', 'MAPE': 'mean_absolute_percentage_error',
    'msle': 'mean_squared_logarithmic_error', 'MSLE': 'mean_squared_logarithmic_error',
    'kld': 'kullback_leibler_divergence', 'KLD': 'kullback_leibler_divergence',
    'cosine': 'cosine_proximity',
}
LOSS_NAMES = ['mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error',
              'mean_squared_logarithmic_error', 'squared_hinge', 'hinge', 'categorical_hinge',
              'logcosh', 'categorical_crossentropy', 'sparse_categorical_crossentropy',
              'binary_crossentropy', 'kullback_leibler_divergence', 'poisson',
              'cosine_proximity']


def test_loss_names_aliases_and_serialization():
    for name in LOSS_NAMES:
        fn = getattr(losses, name)
        assert fn.__name__ == name
        assert losses.get(name) is fn
        assert losses.serialize(fn) == name
        assert losses.deserialize(name) is fn
    for alias, name in LOSS_ALIASES.items():
        assert getattr(losses, alias) is getattr(losses, name)
        assert losses.get(alias) is getattr(losses, name)
        assert losses.serialize(losses.get(alias)) == name


def test_loss_get_passes_callables_and_none_and_rejects_the_rest():
    def my_loss(y_true, y_pred):
        return K.mean(y_pred, axis=-1)
    assert losses.get(my_loss) is my_loss
    assert losses.get(None) is None
    assert losses.deserialize('my_loss', custom_objects={'my_loss': my_loss}) is my_loss
    with pytest.raises(ValueError, match='no_such_loss'):
        losses.get('no_such_loss')
    with pytest.raises(ValueError, match='Could not interpret'):
        losses.get(42)
    # Only losses are found by name (Keras 2.2.4 also returned module globals such as `K`).
    for not_a_loss in ('K', 'serialize', 'math'):
        with pytest.raises(ValueError, match=not_a_loss):
            losses.get(not_a_loss)


METRIC_NAMES = ['binary_accuracy', 'categorical_accuracy', 'sparse_categorical_accuracy',
                'top_k_categorical_accuracy', 'sparse_top_k_categorical_accuracy']


def test_metric_names_aliases_and_serialization():
    for name in METRIC_NAMES:
        fn = getattr(metrics, name)
        assert fn.__name__ == name
        assert metrics.get(name) is fn
        assert metrics.serialize(fn) == name
    for alias in ('mse', 'MSE', 'mae', 'MAE', 'mape', 'MAPE', 'msle', 'MSLE', 'cosine'):
        assert metrics.get(alias) is losses.get(alias)
    # Keras 2.2.4's metrics module has no `kld` alias and no categorical hinge.
    for missing in ('kld', 'categorical_hinge', 'acc', 'K'):
        with pytest.raises(ValueError, match=missing):
            metrics.get(missing)
    with pytest.raises(ValueError, match='Could not interpret'):
        metrics.get(3.5)


class MeanPrediction(object):
    """A metric object with a config, as a user may write one."""
    def __init__(self, scale=1.0):
        self.scale = scale
        self.__name__ = 'mean_prediction'

    def __call__(self, y_true, y_pred):
        return K.multiply(self.scale, K.mean(y_pred, axis=-1))

    def get_config(self):
        return {'scale': self.scale}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_metric_objects_with_a_config_round_trip():
    config = metrics.serialize(MeanPrediction(scale=3.0))
    assert config == {'class_name': 'MeanPrediction', 'config': {'scale': 3.0}}
    with pytest.raises(ValueError, match='MeanPrediction'):
        metrics.get(config)
    rebuilt = metrics.deserialize(config, custom_objects={'MeanPrediction': MeanPrediction})
    assert isinstance(rebuilt, MeanPrediction) and rebuilt.scale == 3.0
    close(rebuilt(None, np.array([[1.0, 2.0]])), [4.5])


def test_top_k_metric_default_k_is_five():
    import inspect
    for fn in (metrics.top_k_categorical_accuracy, metrics.sparse_top_k_categorical_accuracy):
        assert inspect.signature(fn).parameters['k'].default == 5


# --- the engine's resolution of 'acc' ------------------------------------------------------

@pytest.mark.parametrize('name', ['acc', 'accuracy'])
def test_resolve_accuracy_follows_keras_2_2_4_handle_metrics(name):
    cases = [
        (losses.binary_crossentropy, (None, 3), metrics.binary_accuracy),
        (losses.categorical_crossentropy, (None, 1), metrics.binary_accuracy),
        (losses.mean_squared_error, (None, 1), metrics.binary_accuracy),
        (losses.sparse_categorical_crossentropy, (None, 10), metrics.sparse_categorical_accuracy),
        (losses.categorical_crossentropy, (None, 10), metrics.categorical_accuracy),
        (losses.mean_squared_error, (None, 4), metrics.categorical_accuracy),
        ('binary_crossentropy', (None, 5), metrics.binary_accuracy),
        ('sparse_categorical_crossentropy', (None, 7, 5), metrics.sparse_categorical_accuracy),
    ]
    for loss_fn, shape, expected in cases:
        key, fn = metrics.resolve_accuracy(name, loss_fn, shape)
        # Keras 2.2.4 logs both spellings under 'acc' (history['acc'], history['val_acc']).
        assert key == 'acc'
        assert fn is expected, (loss_fn, shape)


def test_resolve_crossentropy_and_other_metrics():
    assert metrics.resolve_accuracy('ce', losses.mse, (None, 1)) == (
        'ce', losses.binary_crossentropy)
    assert metrics.resolve_accuracy('crossentropy', losses.sparse_categorical_crossentropy,
                                    (None, 4)) == ('ce', losses.sparse_categorical_crossentropy)
    assert metrics.resolve_accuracy('ce', losses.mse, (None, 4)) == (
        'ce', losses.categorical_crossentropy)
    assert metrics.resolve_metric('mae', losses.mse, (None, 4)) == (
        'mean_absolute_error', losses.mean_absolute_error)
    assert metrics.resolve_metric('accuracy', losses.mse, (None, 1)) == (
        'acc', metrics.binary_accuracy)

    def my_metric(y_true, y_pred):
        return K.mean(y_pred)
    assert metrics.resolve_metric(my_metric, losses.mse, (None, 1)) == ('my_metric', my_metric)
    my_metric.name = 'custom_name'
    assert metrics.resolve_metric(my_metric, losses.mse, (None, 1))[0] == 'custom_name'
    with pytest.raises(ValueError, match='top5'):
        metrics.resolve_accuracy('top5', losses.mse, (None, 4))
    with pytest.raises(ValueError, match='nonsense'):
        metrics.resolve_metric('nonsense', losses.mse, (None, 4))
