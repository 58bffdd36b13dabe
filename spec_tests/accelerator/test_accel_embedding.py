"""accel's Embedding path stays on the device (issue 7, items 2 and 5).

An `Embedding` under accel reads its input batch from device memory: its range
check reduces the batch on the device and copies back only `(min, max)`, and
the gradient of the lookup (`gather`) is a deterministic scatter-add whose
integer bookkeeping (a sort of the keys `index * count + position`) runs on
the device too. These tests check:

- the device sort and the device scatter-add: equal, bit for bit, to a direct
  float32 loop adding the rows in increasing position order (what `np.add.at`
  and the host-sorted path do), hence to the host path; and within the
  sum-of-K-terms bound of a float64 loop (`(K - 1) * eps * sum|terms|` with K
  the terms added into a destination; Higham, "Accuracy and Stability of
  Numerical Algorithms", 4.2);
- what an Embedding training step copies between host and device;
- the layer's error for out-of-range and negative indices on both backends,
  with nothing of the model changed;
- an Embedding -> LSTM -> Dense model trains on accel as on the reference.

Under `NUMBA_ENABLE_CUDASIM=1` (set below when no GPU is present) the kernels
run in Python threads: shapes are tiny.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from accel_harness import Transfers, accel_mode_or_skip, fast_simulator_threads

_MODE = accel_mode_or_skip()

from refkeras import backend as K  # noqa: E402
from refkeras import optimizers  # noqa: E402
from refkeras.layers import LSTM, Dense, Embedding  # noqa: E402
from refkeras.models import Sequential  # noqa: E402

from accel import arrays  # noqa: E402
from accel.kernels import gather as gather_kernels  # noqa: E402

pytestmark = pytest.mark.accel

EPS32 = float(np.finfo(np.float32).eps)
SEED = 1234
BATCH = 8
STEPS = 4
VOCAB = 7


_fast_simulator_threads = fast_simulator_threads(_MODE)


def power_of_two_chunks():
    """Keys per block of the device sort: small ones force the global merge steps."""
    return st.sampled_from(sorted({2, 4, 8, gather_kernels.SORT_CHUNK}))


# --- the device sort and scatter-add -------------------------------------------------

@given(st.data())
def test_device_sort_sorts(data):
    size = data.draw(st.sampled_from([2, 4, 8, 16, 32, 64, 128]))
    keys = data.draw(hnp.arrays(np.int64, size, elements=st.integers(-50, 50)))  # repeats too
    chunk = data.draw(power_of_two_chunks())
    device = arrays.to_device(keys)
    gather_kernels.sort_keys(device, chunk)
    np.testing.assert_array_equal(arrays.to_host(device), np.sort(keys))


def test_device_sort_refuses_sizes_that_are_not_powers_of_two():
    with pytest.raises(ValueError, match='power-of-two'):
        gather_kernels.sort_keys(arrays.to_device(np.arange(6, dtype=np.int64)))


def loop_scatter_add(g, wrapped, pre, n, post, dtype):
    """zeros((pre, n, post)) with g[:, p, :] added at wrapped[p], p = 0, 1, ... in
    that order, by NumPy elementwise additions in `dtype`."""
    out = np.zeros((pre, n, post), dtype=dtype)
    g3 = g.reshape(pre, wrapped.size, post).astype(dtype)
    for p, d in enumerate(wrapped):
        out[:, d, :] = out[:, d, :] + g3[:, p, :]
    return out


@given(st.data())
def test_device_scatter_add_matches_the_host_path_and_a_direct_loop(data):
    x_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(st.integers(0, len(x_shape) - 1))
    n = x_shape[axis]
    # Counts that are mostly not powers of two (the device keys are padded),
    # indices unsorted, repeated and negative (wrapped, as np.take does).
    idx_shape = data.draw(st.sampled_from([(1,), (3,), (5,), (7,), (2, 3), (3, 5), (13,),
                                           (4, 5), (33,)]))
    indices = data.draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1)))
    as_float = data.draw(st.booleans())
    if as_float:  # float indices are truncated: 2.75 -> 2, -0.5 -> 0
        indices = np.where(indices < 0, indices + n, indices) + 0.75 * (indices >= 0)
        indices = indices.astype(np.float32)
    g_shape = x_shape[:axis] + idx_shape + x_shape[axis + 1:]
    g = data.draw(hnp.arrays(np.float32, g_shape, elements=st.floats(
        -4, 4, width=32, allow_subnormal=False)))
    chunk = data.draw(power_of_two_chunks())

    g_dev = arrays.to_device(g)
    on_device = arrays.to_host(gather_kernels.scatter_add(g_dev, arrays.to_device(indices),
                                                          x_shape, axis, np.float32,
                                                          chunk=chunk))
    on_host = arrays.to_host(gather_kernels.scatter_add(g_dev, indices, x_shape, axis, np.float32))
    assert on_device.shape == on_host.shape == x_shape and on_device.dtype == np.float32
    np.testing.assert_array_equal(on_device.view(np.uint32), on_host.view(np.uint32))

    pre = int(np.prod(x_shape[:axis], dtype=np.int64))
    post = int(np.prod(x_shape[axis + 1:], dtype=np.int64))
    truncated = indices.astype(np.int64).reshape(-1)
    wrapped = np.where(truncated < 0, truncated + n, truncated)
    same_order = loop_scatter_add(g, wrapped, pre, n, post, np.float32).reshape(x_shape)
    np.testing.assert_array_equal(on_device.view(np.uint32), same_order.view(np.uint32))
    # np.add.at adds in the same order
    add_at = np.zeros((pre, n, post), np.float32)
    np.add.at(add_at, (slice(None), wrapped), g.reshape(pre, -1, post))
    np.testing.assert_array_equal(on_device.view(np.uint32),
                                  add_at.reshape(x_shape).view(np.uint32))

    exact = loop_scatter_add(g, wrapped, pre, n, post, np.float64)
    magnitude = loop_scatter_add(np.abs(g), wrapped, pre, n, post, np.float64)
    terms = np.bincount(wrapped, minlength=n).reshape(1, n, 1)
    bound = np.maximum(terms - 1, 0) * EPS32 * magnitude
    err = np.abs(on_device.reshape(pre, n, post).astype(np.float64) - exact)
    assert (err <= bound).all()


def test_device_scatter_add_gives_out_of_range_indices_nothing():
    # The forward gather rejects such indices (a flag read back); the gradient
    # does not check again, and must not write outside its result.
    g = np.arange(1, 5, dtype=np.float32).reshape(4, 1)
    indices = arrays.to_device(np.array([1, 3, -4, 1]))
    got = arrays.to_host(gather_kernels.scatter_add(arrays.to_device(g), indices, (3, 1), 0,
                                                    np.float32))
    np.testing.assert_array_equal(got, [[0.0], [1.0 + 4.0], [0.0]])


# --- an Embedding model ----------------------------------------------------------------

def embedding_lstm():
    return Sequential([Embedding(VOCAB, 4, input_length=3), LSTM(5),
                       Dense(3, activation='softmax')])


def id_data(seed, samples=BATCH):
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, VOCAB, (samples, 3))
    y = np.eye(3, dtype='float32')[rng.randint(0, 3, samples)]
    return ids, y


def test_an_embedding_step_copies_out_no_index_batch(monkeypatch):
    ids, y = id_data(0)
    with K.using_backend('numba'):
        np.random.seed(SEED)
        model = embedding_lstm()
        model.compile(optimizers.SGD(lr=0.1), 'categorical_crossentropy', metrics=['acc'])
        model.train_on_batch(ids, y)  # cached constants are made once
        transfers = Transfers(monkeypatch)
        logged = model.train_on_batch(ids, y)
    # In: the batch (indices, targets, the engine's unit sample weights), nothing more:
    # no scatter keys or permutation for the embedding's gradient.
    assert sorted(transfers.copies_in) == sorted([(BATCH, 3), (BATCH, 3), (BATCH,)])
    # Out: the logged scalars (packed into one array, one copy: issue 17), the
    # Embedding's (min, max) of the batch and the gather kernel's out-of-range flag;
    # never the (BATCH, 3) index batch.
    assert sorted(transfers.copies_out) == sorted([(len(logged),), (2,), (1,)])


@pytest.mark.parametrize('bad', [VOCAB, -1], ids=['too-large', 'negative'])
@pytest.mark.parametrize('backend', ['numpy', 'numba'])
def test_bad_indices_raise_the_layers_error_and_change_nothing(backend, bad):
    ids, y = id_data(1)
    wrong = ids.copy()
    wrong[3, 1] = bad
    with K.using_backend(backend):
        np.random.seed(SEED)
        model = embedding_lstm()
        model.compile(optimizers.SGD(lr=0.1, momentum=0.5), 'categorical_crossentropy')
        model.train_on_batch(ids, y)   # so that the optimizer has slots to change
        before, slots = model.get_weights(), model.optimizer.get_weights()
        name = model.layers[0].name
        with pytest.raises(ValueError, match=r'Embedding layer %s: indices must be in '
                           r'\[0, %d\) \(input_dim=%d\), but the input holds '
                           r'%d\.' % (name, VOCAB, VOCAB, bad)):
            model.train_on_batch(wrong, y)
        for got, want in zip(model.get_weights() + model.optimizer.get_weights(),
                             before + slots):
            np.testing.assert_array_equal(got, want)
        with pytest.raises(ValueError, match='indices must be in'):
            model.predict(wrong)


def test_float_indices_are_truncated_on_both_backends():
    ids = np.array([[0.5, 2.9, 6.99], [-0.5, 1.0, 3.25]], dtype='float32')  # -> [[0 2 6] [0 1 3]]
    for backend in ('numpy', 'numba'):
        with K.using_backend(backend):
            layer = Embedding(VOCAB, 2)
            out = K.get_value(layer(K.backend_array(ids)))
            table = K.get_value(layer.embeddings)
            np.testing.assert_array_equal(out, table[np.array([[0, 2, 6], [0, 1, 3]])])
            with pytest.raises(ValueError, match='holds 7'):
                layer(K.backend_array(np.array([[7.0]], dtype='float32')))
            with pytest.raises(ValueError, match='holds nan'):
                layer(K.backend_array(np.array([[np.nan]], dtype='float32')))


def train(backend):
    ids, y = id_data(2, samples=2 * BATCH)
    with K.using_backend(backend):
        K.clear_session()
        np.random.seed(SEED)
        model = embedding_lstm()
        model.compile(optimizers.SGD(lr=0.5), 'categorical_crossentropy')
        initial = model.get_weights()
        history = model.fit(ids, y, batch_size=BATCH, epochs=STEPS // 2, shuffle=False, verbose=0)
        return initial, history.history['loss'], model.get_weights()


def test_an_embedding_lstm_model_trains_on_accel_as_on_the_reference():
    """The bound of test_accel_models.py, `S * 2 * depth * K * eps` relative to the
    magnitudes: S steps; depth 3 timesteps + Dense + Embedding = 5; K = BATCH * 3,
    the longest sum (the LSTM kernels' and the embedding rows' gradients add over
    the batch and the timesteps)."""
    ref_initial, ref_loss, ref_final = train('numpy')
    acc_initial, acc_loss, acc_final = train('numba')
    for a, r in zip(acc_initial, ref_initial):
        np.testing.assert_array_equal(a, r)
    tol = STEPS * 2 * (3 + 2) * (BATCH * 3) * EPS32
    moved = float(np.abs(ref_final[0] - ref_initial[0]).max())
    assert moved > 100 * tol, 'training hardly changed the embeddings: the test would be vacuous'
    for got, want, what in [(acc_loss, ref_loss, 'loss')] + [
            (a, r, 'weight %d' % i) for i, (a, r) in enumerate(zip(acc_final, ref_final))]:
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        err, bound = np.abs(got - want), tol * (1 + np.abs(want))
        assert (err <= bound).all(), '%s: |accel - reference| up to %r, tolerance %r' % (
            what, float(err.max()), tol)
