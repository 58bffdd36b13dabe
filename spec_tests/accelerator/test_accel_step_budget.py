"""What a training step on accel asks of the device (issue 17, item 3), counted by
`accel.budget` under the CUDA simulator: the counts are decided by accel's Python
code, so they are those of a GPU.

The mlp here is the `gpu_table.py` stand-in of the WORKLOADS.md mlp (Dense 8 relu -
Dropout - Dense 8 relu - Dropout - Dense 10 softmax, RMSprop, accuracy), batch 4,
trained with `fit` on equal batches; a step's counts are taken between consecutive
`on_batch_begin` calls (everything the loop does per batch).
"""
import gc
import os
import sys

import numpy as np

os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')

from accel import arrays, backend as accel_backend, budget, pool  # noqa: E402
from accel.kernels import launch  # noqa: E402
from accel.plugin import AccelBackend  # noqa: E402
from refkeras import backend as K  # noqa: E402
from refkeras import optimizers  # noqa: E402
from refkeras.callbacks import Callback  # noqa: E402
from refkeras.layers import Dense, Dropout  # noqa: E402
from refkeras.models import Sequential  # noqa: E402

BATCH, STEPS = 4, 5


def mlp():
    model = Sequential([Dense(8, activation='relu', input_shape=(12,)), Dropout(0.2),
                        Dense(8, activation='relu'), Dropout(0.2),
                        Dense(10, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer=optimizers.RMSprop(lr=0.001),
                  metrics=['accuracy'])
    return model


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * STEPS, 12)).astype('float32')
    y = np.eye(10, dtype='float32')[rng.integers(0, 10, BATCH * STEPS)]
    return x, y


class Marks(Callback):
    """`budget.TOTALS` at every batch's beginning and at the epoch's end."""

    def __init__(self):
        super(Marks, self).__init__()
        self.marks = []

    def on_batch_begin(self, batch, logs=None):
        self.marks.append(budget.TOTALS.copy())

    def on_epoch_end(self, epoch, logs=None):
        self.marks.append(budget.TOTALS.copy())

    def steps(self):
        return [b.minus(a) for a, b in zip(self.marks, self.marks[1:])]


def train(seed=0):
    """Per-step counts, the weights and the logged losses of one seeded epoch."""
    x, y = data()
    marks = Marks()
    with K.using_backend('numba'):
        np.random.seed(seed)
        model = mlp()
        history = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False,
                            callbacks=[marks])
        weights = model.get_weights()
    return marks.steps(), weights, history.history


def test_a_steady_state_step_allocates_no_device_memory():
    steps, _, _ = train()
    assert len(steps) == STEPS
    assert steps[0].allocations > 0  # the first step finds an empty pool: the count counts
    # Step 2 still takes one staging buffer per input array for the second
    # batch in flight; from step 3 on, nothing new.
    assert [s.allocations for s in steps[2:]] == [0] * (STEPS - 2)
    assert all(s.pool_reuses > 0 for s in steps[1:])


def test_a_step_waits_for_the_device_once():
    # Loss and accuracy are read back packed in one copy, and the prefetcher's
    # staging buffers need no wait of their own after that read-back.
    steps, _, _ = train()
    assert [s.host_syncs for s in steps] == [1] * STEPS
    assert [s.readbacks for s in steps] == [1] * STEPS


def test_an_mlp_step_launches_at_most_66_kernels():
    """The launches of the stand-in mlp's step, by kind (listed from a run, each
    accounted for by the model):

    - 8 matrix products: 3 forward, 3 kernel gradients, 2 input gradients (the
      first layer's input needs none);
    - 6 RMSprop updates, one fused kernel per parameter (3 kernels, 3 biases);
    - 2 bias + relu forward and 2 of their gradients; 3 column reductions for
      the bias gradients; 1 softmax, 1 softmax-crossentropy, its gradient;
    - 2 dropout draws (one per Dropout layer);
    - 2 copies packing loss and accuracy for their single read-back;
    - the rest elementwise glue: dropout masks and scaling, the mean loss and
      the accuracy metric (argmax rows, equality, mean), the output layer's bias
      add, the gradient seed and the sample weighting: 25 binary maps, 1
      ternary, 1 fill, 4 row reductions, 5 strided copies.

    8 + 6 + 4 + 3 + 3 + 2 + 2 + 36 = 64 + 2 = 66.
    """
    steps, _, _ = train()
    assert [s.launches for s in steps[1:]] == [steps[1].launches] * (STEPS - 1)
    assert steps[1].launches <= 66


def test_the_pool_and_the_packed_read_back_leave_every_bit_unchanged(monkeypatch):
    _, pooled_weights, pooled_history = train(seed=3)
    monkeypatch.setattr(pool, 'ENABLED', False)
    # the plain read-back: one copy per value
    monkeypatch.setattr(AccelBackend, 'read_back',
                        lambda self, values: [K.get_value(value) for value in values])
    plain_steps, plain_weights, plain_history = train(seed=3)
    assert [s.pool_reuses for s in plain_steps] == [0] * STEPS
    assert all(s.allocations > 0 for s in plain_steps)
    assert all(s.readbacks == 2 for s in plain_steps)  # loss and accuracy, one copy each
    for a, b in zip(pooled_weights, plain_weights):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert pooled_history == plain_history


def test_packed_read_back_gives_each_value_with_its_shape_dtype_and_bits():
    rng = np.random.default_rng(1)
    host = [np.float32(rng.standard_normal()), rng.standard_normal(3).astype('float32'),
            np.int64(7), rng.standard_normal((2, 2)).astype('float32'),
            rng.standard_normal(5000).astype('float32')]
    with K.using_backend('numba'):
        device = [arrays.to_device(np.asarray(h)) for h in host] + [2.5]
        before = budget.TOTALS.copy()
        got = accel_backend.read_back(device)
        spent = budget.TOTALS.minus(before)
    # One copy for the three small float32 arrays, one for the int64, one for the large one.
    assert spent.readbacks == 3
    for mine, want in zip(got, host + [2.5]):
        want = np.asarray(want)
        assert mine.shape == want.shape and mine.dtype == want.dtype
        assert mine.tobytes() == want.tobytes()


class _Buffer(object):
    """A stand-in device buffer: slicing gives a view that remembers its base."""

    def __init__(self, size, dtype, base=None):
        self.size, self.dtype, self.base = size, np.dtype(dtype), base

    def __getitem__(self, key):
        return _Buffer(self.size, self.dtype, base=self)


def _recording_pool():
    """A `DevicePool` over stand-in buffers, and the list of the buffers it allocated."""
    made = []

    def allocate(size, dtype):
        made.append(_Buffer(size, dtype))
        return made[-1]
    return pool.DevicePool(allocate), made


def test_a_buffer_returns_to_the_pool_only_when_nothing_references_it():
    devices, made = _recording_pool()
    first = devices.take(6, 'float32')
    alias = first  # a reshape shares the buffer object
    del first
    gc.collect()
    second = devices.take(6, 'float32')
    assert second.base is not alias.base and len(made) == 2
    del alias
    gc.collect()
    third = devices.take(6, 'float32')
    assert third.base is made[0] and len(made) == 2
    assert devices.take(6, 'float64').base is made[2]  # another dtype: another buffer


def test_the_copy_stream_gets_only_buffers_released_before_the_last_read_back():
    devices, made = _recording_pool()
    used = devices.take(4, 'float32')
    del used
    gc.collect()
    # A kernel queued before the release may still read it: not for the copy stream...
    held = devices.take(4, 'float32', side_stream=True)
    assert held.base is made[1]
    # ...until a read-back has waited for every queued kernel.
    budget.TOTALS.readbacks += 1
    assert devices.take(4, 'float32', side_stream=True).base is made[0]


def test_counting_counts_each_launch_allocation_and_read_back():
    with K.using_backend('numba'):
        x = arrays.to_device(np.arange(5, dtype='float32'))
        with budget.counting() as spent:
            y = x + 1.0      # one kernel, one new array (the constant 1.0 is cached or copied once)
            host = arrays.to_host(y)
    assert spent.launches == 1 and spent.readbacks == 1
    assert spent.allocations + spent.pool_reuses >= 1
    np.testing.assert_array_equal(host, np.arange(5, dtype='float32') + 1)
    assert launch.run is sys.modules['accel.kernels.launch'].run


def _lstm_step_launches(timesteps, steps=3):
    """Launches of each step of the stand-in lstm (Embedding 30x4 - LSTM 4 with dropout
    and recurrent dropout - Dense 1 sigmoid, Adam, accuracy), batch 4."""
    from refkeras.layers import LSTM, Embedding
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, (BATCH * steps, timesteps))
    y = rng.integers(0, 2, BATCH * steps).astype('float32')
    marks = Marks()
    with K.using_backend('numba'):
        model = Sequential([Embedding(30, 4, input_length=timesteps),
                            LSTM(4, dropout=0.2, recurrent_dropout=0.2),
                            Dense(1, activation='sigmoid')])
        model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False, callbacks=[marks])
    return [s.launches for s in marks.steps()]


def test_an_lstm_step_launches_the_same_kernels_whatever_the_sequence_length():
    """The timestep loop is one `lstm_sequence` primitive: one persistent kernel
    forward, one backward, so 5 and 10 timesteps launch the same kernels.

    The 128 launches of a step, by kind (listed from an instrumented run of the
    5-timestep model): the sequence's own work, 2 loop kernels, 5 matrix
    products (the input projection forward and again backward, the kernel,
    recurrent kernel and input gradients), 2 reductions (bias; the input
    gradient's sum over gates) and 3 mask products; the 8 dropout masks, drawn
    as the per-timestep path draws them (8 binomial draws, 16 maps, 8 copies
    stacking them 4 by 4); the layer's transposes and slices and their
    gradients; and the rest of the step as before (Embedding's gather and its
    gradient, Dense, loss and accuracy, 6 Adam updates, the packed read-back).
    Before, the same model launched 93 + 42 per timestep (303 at 5 timesteps).
    """
    short, longer = _lstm_step_launches(5), _lstm_step_launches(10)
    assert short[1:] == longer[1:] == [short[1]] * 2
    assert short[1] <= 128
