"""LocallyConnected1D/2D, ConvLSTM2D, CuDNNLSTM and CuDNNGRU run on accel as on the reference.

These layers add no primitive (they are compositions of `gather`, `matmul`,
`conv`, `lstm_gates` and elementwise primitives, whose kernels
`test_accel_vs_reference.py` checks one by one); this file checks that the
compositions run on accel end to end and agree with the reference: a tiny
model per layer, built from the same seed on both backends, predicts, then
takes one SGD step, and the predictions, the loss and the updated weights are
compared.

The tolerance is `test_accel_models.py`'s bound, for the same reason: both
backends compute the same float32 formulas and may differ only in the order
of their sums (at most `(K - 1) * eps * sum|terms|` for a sum of K terms) and
by a few ulps in exp/tanh; a forward pass chains `depth` such reductions (a
timestep counts as a layer), a gradient `2 * depth`, so after S steps

    |accel - reference| <= (S + 1) * 2 * depth * K * eps * (1 + |reference|)

with K the longest reduction (a fan-in, or the batch times the positions and
timesteps a kernel is shared over).
"""
import collections

import numpy as np
import pytest

from accel_harness import accel_mode_or_skip, fast_simulator_threads

_MODE = accel_mode_or_skip()

from refkeras import backend as K  # noqa: E402
from refkeras import optimizers  # noqa: E402
from refkeras.layers import (ConvLSTM2D, CuDNNGRU, CuDNNLSTM, Dense, Flatten,  # noqa: E402
                             LocallyConnected1D, LocallyConnected2D)
from refkeras.models import Sequential  # noqa: E402

pytestmark = pytest.mark.accel
_fast_simulator_threads = fast_simulator_threads(_MODE)

EPS32 = float(np.finfo(np.float32).eps)
BATCH = 4
SEED = 99

Spec = collections.namedtuple('Spec', 'build sample_shape depth reduction')
MODELS = {
    # patch features 2 * 2 = 4, dense fan-in 4 * 3 = 12; the kernels' gradients
    # sum over the batch only (unshared weights)
    'local_1d': Spec(lambda: Sequential([LocallyConnected1D(3, 2, input_shape=(5, 2)),
                                         Flatten(), Dense(2)]),
                     (5, 2), depth=2, reduction=12),
    'local_2d_channels_first': Spec(
        lambda: Sequential([LocallyConnected2D(2, (2, 2), strides=(1, 2),
                                               data_format='channels_first',
                                               activation='tanh', input_shape=(2, 3, 4)),
                            Flatten(), Dense(2)]),
        (2, 3, 4), depth=2, reduction=2 * 2 * 2 * 2),
    # 2 timesteps; the kernels' gradients sum over batch, 3 x 3 positions, time
    'conv_lstm_2d': Spec(lambda: Sequential([ConvLSTM2D(2, (2, 2), padding='same',
                                                        input_shape=(2, 3, 3, 1)),
                                             Flatten(), Dense(2)]),
                         (2, 3, 3, 1), depth=2 + 2, reduction=BATCH * 3 * 3 * 2),
    # 3 timesteps; the kernels' gradients sum over batch and time
    'cudnn_lstm': Spec(lambda: Sequential([CuDNNLSTM(3, input_shape=(3, 2)), Dense(2)]),
                       (3, 2), depth=3 + 1, reduction=BATCH * 3),
    'cudnn_gru': Spec(lambda: Sequential([CuDNNGRU(3, return_sequences=True,
                                                   input_shape=(3, 2)),
                                          Flatten(), Dense(2)]),
                      (3, 2), depth=3 + 1, reduction=BATCH * 3),
}


def run(backend, name):
    spec = MODELS[name]
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (BATCH,) + spec.sample_shape).astype('float32')
    y = rng.uniform(-1, 1, (BATCH, 2)).astype('float32')
    with K.using_backend(backend):
        K.clear_session()
        np.random.seed(SEED)
        model = spec.build()
        model.compile(optimizers.SGD(lr=0.1), 'mse')
        initial = model.get_weights()
        predictions = model.predict(x, batch_size=BATCH)
        loss = model.train_on_batch(x, y)
        return initial, predictions, loss, model.get_weights()


def assert_within(got, want, tol, what):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, what
    err = np.abs(got - want)
    assert (err <= tol * (1 + np.abs(want))).all(), '%s: |accel - reference| up to %r, ' \
        'tolerance %r' % (what, err.max(), tol)


@pytest.mark.parametrize('name', sorted(MODELS))
def test_layer_predicts_and_trains_on_accel_as_on_the_reference(name):
    spec = MODELS[name]
    ref_initial, ref_predictions, ref_loss, ref_final = run('numpy', name)
    initial, predictions, loss, final = run('numba', name)
    for a, b in zip(initial, ref_initial):
        np.testing.assert_array_equal(a, b)      # the same seed, drawn on the host
    forward = 2 * spec.depth * spec.reduction * EPS32
    assert_within(predictions, ref_predictions, forward, name + ' predictions')
    assert_within(loss, ref_loss, forward, name + ' loss')
    step = 2 * forward
    moved = max(np.abs(a - b).max() for a, b in zip(ref_final, ref_initial))
    assert moved > 100 * step, 'the step moved the weights too little to tell'
    for index, (a, b) in enumerate(zip(final, ref_final)):
        assert_within(a, b, step, '%s weight %d after one step' % (name, index))
