"""accel's batch prefetcher (issue 7, item 2: input batches copied in, overlapped with compute).

What is checked, under the CUDA simulator (or on a GPU when there is one):
- the prefetcher's batches are exactly the synchronous path's (`HostBatches`):
  ids, values, dtypes, order, the smaller last batch, `shuffle='batch'`,
  sample weights, HDF5 datasets;
- `fit` / `evaluate` / `predict` with and without prefetching give
  bit-identical weights, histories and outputs, and the callbacks see the same
  sequence;
- staging buffers are allocated once per slot and array, not per step;
- each array of each batch is copied in once, at the step before its own
  (copies out: the logged scalars only);
- an exception, a `KeyboardInterrupt` or a bad batch in the middle of an epoch
  leaves no copy in flight and releases the stream and the staging buffers.

The simulator runs every copy at once, so it could not catch a prefetcher that
forgets to make the compute stream wait, or rewrites a staging buffer whose
copy is still in flight. `LateCopies` emulates a device whose copies land
late: a copied batch holds a sentinel until the compute stream waits for the
copy's event, and a staging buffer counts as read by its copy until the host
has synchronised with that event (a rewrite before then is recorded as a
violation). Two tests break the prefetcher on purpose to show that the
emulation catches both mistakes.
"""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, strategies as st

from accel_harness import accel_mode_or_skip, fast_simulator_threads

_MODE = accel_mode_or_skip()

from refkeras import backend as K  # noqa: E402
from refkeras import callbacks as cbks  # noqa: E402
from refkeras import optimizers  # noqa: E402
from refkeras.engine import feeding  # noqa: E402
from refkeras.engine import training_utils as tu  # noqa: E402
from refkeras.layers import Dense  # noqa: E402
from refkeras.models import Sequential  # noqa: E402

from accel import arrays, prefetch  # noqa: E402

pytestmark = pytest.mark.accel

SEED = 4321


_fast_simulator_threads = fast_simulator_threads(_MODE)


@pytest.fixture(autouse=True)
def _prefetch_switch_restored():
    previous = prefetch.ENABLED
    yield
    prefetch.ENABLED = previous


# --- an emulated device whose copies land late ----------------------------------------------

def sentinel(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == 'f':
        return np.nan
    if dtype.kind == 'b':
        return True
    return np.iinfo(dtype).max


class _Copy(object):
    def __init__(self, stream, host, device):
        self.stream, self.host, self.device = stream, host, device
        self.snapshot = host.copy()  # what the host buffer held when the copy was queued
        self.landed = False


class _Stream(object):
    def __init__(self, device):
        self.device = device

    def synchronize(self):
        self.device.finish([c for c in self.device.pending if c.stream is self])


class _Event(object):
    def __init__(self, device):
        self.device = device
        self.copies = []

    def record(self, stream):
        self.copies = [c for c in self.device.pending if c.stream is stream]

    def wait(self, stream):
        assert stream is self.device.compute_stream
        for c in self.copies:
            self.device.land(c)

    def synchronize(self):
        self.device.finish(self.copies)


class LateCopies(object):
    """The `CudaCopies` interface, with copies that complete only when waited for.

    A copy writes the host buffer's *current* contents into its device array
    when the compute stream waits for an event recorded after it (until then
    the device array holds a sentinel); the host may rewrite the buffer only
    after synchronising with such an event (or the stream): `finish` checks that
    the buffer still holds what it held when the copy was queued.
    """

    compute_stream = 'compute stream'

    def __init__(self):
        self.pending = []      # copies the host has not synchronised with
        self.violations = []   # staging buffers rewritten under a copy in flight
        self.staging = []      # weak references to the pinned buffers handed out
        self.streams = []      # weak references to the streams handed out

    def new_stream(self):
        stream = _Stream(self)
        self.streams.append(weakref.ref(stream))
        return stream

    def new_event(self):
        return _Event(self)

    def pinned(self, shape, dtype):
        buffer = np.full(shape, sentinel(dtype), dtype=dtype)
        self.staging.append(weakref.ref(buffer))
        return buffer

    def copy_in(self, host, stream):
        device = arrays.empty(host.shape, host.dtype)
        if device.size:
            device.data.copy_to_device(np.full(device.size, sentinel(host.dtype), host.dtype))
        self.pending.append(_Copy(stream, host, device))
        return device

    def land(self, copy):
        if not copy.landed and copy.device.size:
            copy.device.data.copy_to_device(np.ascontiguousarray(copy.host).reshape(-1))
        copy.landed = True

    def finish(self, copies):
        for c in copies:
            if c in self.pending:
                if not np.array_equal(c.host, c.snapshot, equal_nan=True):
                    self.violations.append(c.snapshot.shape)
                self.land(c)
                self.pending.remove(c)

    def alive(self):
        """Staging buffers and streams still referenced by anyone."""
        gc.collect()
        return [r for r in self.staging + self.streams if r() is not None]


# --- the batches of one pass -----------------------------------------------------------------

def host_batches(batches):
    """Device arrays of a pass copied back, for comparing with `HostBatches`."""
    return [(ids, [[None if a is None else arrays.to_host(a) for a in group] for group in groups])
            for ids, groups in batches]


def run_pass(feed):
    """Takes every batch, reading (no) results back in between as the loops do
    (which is when a prefetching pass stages the next batch)."""
    out = []
    for ids, groups in feed:
        feed.read_back([])
        out.append((np.array(ids), [[None if a is None else arrays.to_host(a) for a in group]
                                    for group in groups]))
    return out


def assert_same_batches(got, want):
    assert len(got) == len(want)
    for (ids_got, groups_got), (ids_want, groups_want) in zip(got, want):
        np.testing.assert_array_equal(ids_got, ids_want)
        for group_got, group_want in zip(groups_got, groups_want):
            for a, b in zip(group_got, group_want):
                if b is None:
                    assert a is None
                    continue
                assert a.dtype == b.dtype and a.shape == b.shape
                np.testing.assert_array_equal(a, b)


def example_arrays(samples, rng):
    """Inputs that need a cast (float64 -> float32), integers that keep their
    dtype (int64 for an int32 input), targets, and per-sample weights."""
    xs = [rng.standard_normal((samples, 2, 3)), rng.integers(-5, 5, (samples, 4))]
    ys = [rng.standard_normal((samples, 2)).astype('float32')]
    sws = [rng.uniform(0.5, 1.5, samples).astype('float32')]
    dtypes = [np.dtype('float32'), np.dtype('int32')]
    return [xs, ys, sws], [dtypes, None, None]


def order_for(shuffle, samples, batch_size):
    index = np.arange(samples)
    if shuffle == 'batch':
        return tu.batch_shuffle(index, batch_size)
    return np.random.permutation(samples) if shuffle else index


@given(samples=st.integers(1, 11), batch_size=st.integers(1, 5),
       shuffle=st.sampled_from([False, True, 'batch']), seed=st.integers(0, 2 ** 16))
def test_prefetched_batches_are_those_of_the_synchronous_path(samples, batch_size, shuffle,
                                                               seed):
    rng = np.random.default_rng(seed)
    groups, dtypes = example_arrays(samples, rng)
    np.random.seed(seed)
    order = order_for(shuffle, samples, batch_size)
    bounds = tu.make_batches(samples, batch_size)
    want = run_pass(feeding.HostBatches(groups, dtypes, order, bounds))
    assert want[-1][0].shape[0] == samples - batch_size * (len(bounds) - 1)  # the last batch
    assert want[0][1][0][0].dtype == np.float32 and want[0][1][0][1].dtype == np.int64
    late = LateCopies()
    with prefetch.Prefetcher(late) as prefetcher:
        assert_same_batches(run_pass(prefetcher.batches(groups, dtypes, order, bounds)), want)
    assert late.pending == [] and late.violations == []
    # With numba's own streams and copies (the simulator's, or a GPU's).
    with prefetch.Prefetcher() as prefetcher:
        assert_same_batches(run_pass(prefetcher.batches(groups, dtypes, order, bounds)), want)


def test_hdf5_batches_are_those_of_the_synchronous_path(tmp_path):
    h5py = pytest.importorskip('h5py')
    rng = np.random.default_rng(3)
    x = rng.standard_normal((10, 3))  # float64, cast to float32 for the model
    y = rng.integers(0, 3, 10)
    with h5py.File(str(tmp_path / 'data.h5'), 'w') as f:
        f['x'], f['y'] = x, y
    with h5py.File(str(tmp_path / 'data.h5'), 'r') as f:
        # `fit` reads 1-D datasets as columns, and validation_split gives LazyRows.
        xs = tu.take_rows([f['x']], 2, 10)
        ys = [tu.standardize_single_array(f['y'])]
        ys = tu.take_rows(ys, 2, 10)
        np.random.seed(0)
        order = tu.batch_shuffle(np.arange(8), 3)
        bounds = tu.make_batches(8, 3)
        groups, dtypes = [xs, ys], [[np.dtype('float32')], None]
        want = run_pass(feeding.HostBatches(groups, dtypes, order, bounds))
        late = LateCopies()
        with prefetch.Prefetcher(late) as prefetcher:
            got = run_pass(prefetcher.batches(groups, dtypes, order, bounds))
    assert_same_batches(got, want)
    assert [ids.tolist() for ids, _ in want] == [order[0:3].tolist(), order[3:6].tolist(),
                                                 [6, 7]]
    np.testing.assert_array_equal(want[2][1][0][0], x[8:10].astype('float32'))
    np.testing.assert_array_equal(want[2][1][1][0], y[8:10].reshape(2, 1))
    assert late.pending == [] and late.violations == []


def test_staging_buffers_are_allocated_once_per_slot_and_array():
    rng = np.random.default_rng(0)
    groups, dtypes = example_arrays(10, rng)
    late = LateCopies()
    with prefetch.Prefetcher(late) as prefetcher:
        for _ in range(3):  # three epochs: batches of 4, 4 and 2 rows
            run_pass(prefetcher.batches(groups, dtypes, np.random.permutation(10),
                                        tu.make_batches(10, 4)))
        # a validation-like pass over fewer rows reuses the same buffers
        run_pass(prefetcher.batches([g for g in groups], dtypes, np.arange(3),
                                    tu.make_batches(3, 4)))
        arrays_per_batch = 4
        assert len(late.staging) == prefetch.SLOTS * arrays_per_batch
        assert prefetcher.pinned_allocations == len(late.staging)
    assert late.alive() == []


def test_a_pass_left_early_is_waited_for_before_the_next_pass():
    """As when a callback sets `stop_training` after batch 0: batch 1 is staged,
    its copies in flight, and the loop goes on to validation or the next epoch."""
    groups, dtypes = example_arrays(8, np.random.default_rng(0))
    late = LateCopies()
    with prefetch.Prefetcher(late) as prefetcher:
        feed = prefetcher.batches(groups, dtypes, np.arange(8), tu.make_batches(8, 4))
        next(feed)
        feed.stage_next()
        in_flight = list(late.pending)
        assert len(in_flight) == 2 * 4  # batches 0 and 1, four arrays each
        again = prefetcher.batches(groups, dtypes, np.arange(8)[::-1].copy(),
                                   tu.make_batches(8, 8))
        assert not any(c in late.pending for c in in_flight[4:])  # batch 1's were waited for
        assert_same_batches(run_pass(again),
                            run_pass(feeding.HostBatches(groups, dtypes, np.arange(8)[::-1].copy(),
                                                    tu.make_batches(8, 8))))
    assert late.pending == [] and late.violations == []


def test_the_emulation_catches_a_batch_used_before_its_copy_landed(monkeypatch):
    monkeypatch.setattr(prefetch.Prefetcher, '_hand_out',
                        lambda self, staged: (staged.ids, staged.groups))
    groups, dtypes = example_arrays(4, np.random.default_rng(0))
    with prefetch.Prefetcher(LateCopies()) as prefetcher:
        (_, batch), = run_pass(prefetcher.batches(groups, dtypes, np.arange(4), [(0, 4)]))
    assert np.isnan(batch[0][0]).all()


def test_the_emulation_catches_a_staging_buffer_rewritten_under_a_copy(monkeypatch):
    monkeypatch.setattr(prefetch._Slot, 'reclaim', lambda self: None)
    groups, dtypes = example_arrays(8, np.random.default_rng(0))
    late = LateCopies()
    with prefetch.Prefetcher(late) as prefetcher:
        run_pass(prefetcher.batches(groups, dtypes, np.arange(8), tu.make_batches(8, 2)))
    assert late.violations


# --- fit / evaluate / predict with and without prefetching ------------------------------------

class Record(cbks.Callback):
    """Logs each callback with the host <-> device copies made since the previous one."""

    def __init__(self, transfers):
        super(Record, self).__init__()
        self.transfers = transfers
        self.events = []

    def _log(self, what, index, logs):
        self.events.append((what, index, dict(logs or {}), self.transfers.take()))

    def on_epoch_begin(self, epoch, logs=None):
        self._log('epoch_begin', epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._log('batch_begin', batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._log('batch_end', batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._log('epoch_end', epoch, logs)


class Transfers(object):
    """Counts copies in (synchronous and asynchronous) and out, by shape."""

    def __init__(self, monkeypatch):
        self.copies_in, self.copies_out, self.async_in = [], [], 0
        to_device, to_device_async, to_host = (arrays.to_device, arrays.to_device_async,
                                               arrays.to_host)

        def counted_to_device(x, dtype=None):
            if not isinstance(x, arrays.DeviceArray):
                self.copies_in.append(np.shape(x))
            return to_device(x, dtype)

        def counted_to_device_async(host, stream):
            self.copies_in.append(host.shape)
            self.async_in += 1
            return to_device_async(host, stream)

        def counted_to_host(x):
            if isinstance(x, arrays.DeviceArray):
                self.copies_out.append(x.shape)
            return to_host(x)
        monkeypatch.setattr(arrays, 'to_device', counted_to_device)
        monkeypatch.setattr(arrays, 'to_device_async', counted_to_device_async)
        monkeypatch.setattr(arrays, 'to_host', counted_to_host)

    def take(self):
        taken = (sorted(self.copies_in), list(self.copies_out))
        del self.copies_in[:], self.copies_out[:]
        return taken


SAMPLES, BATCH, EPOCHS = 13, 4, 2
# validation_split=0.25 keeps int(13 * 0.75) = 9 samples for training: batches
# of 4, 4 and 1; the 4 validation samples make one batch.
TRAIN_BATCHES, VAL_BATCHES = [4, 4, 1], [4]


def fit_data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((SAMPLES, 5))  # float64: cast to float32 on the host
    y = np.eye(3, dtype='float32')[rng.integers(0, 3, SAMPLES)]
    weights = rng.uniform(0.5, 2.0, SAMPLES).astype('float32')
    return x, y, weights


def build():
    np.random.seed(SEED)
    model = Sequential([Dense(3, activation='softmax', input_shape=(5,))])
    model.compile(optimizers.RMSprop(lr=0.05), 'categorical_crossentropy', metrics=['acc'])
    return model


def train(monkeypatch, enabled):
    """Warms up, then fits with a counting `Record`; returns what to compare."""
    x, y, weights = fit_data()
    allocations = []
    pinned = prefetch.CudaCopies.pinned

    def counted_pinned(self, shape, dtype):
        allocations.append((tuple(shape), np.dtype(dtype).str))
        return pinned(self, shape, dtype)
    with monkeypatch.context() as patch, K.using_backend('numba'):
        patch.setattr(prefetch, 'ENABLED', enabled)
        model = build()
        # Constants a step caches on the device are made in the first step.
        model.train_on_batch(x[:BATCH], y[:BATCH])
        patch.setattr(prefetch.CudaCopies, 'pinned', counted_pinned)
        transfers = Transfers(patch)
        record = Record(transfers)
        history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                            validation_split=0.25, sample_weight=weights, shuffle=True,
                            callbacks=[record])
        async_in, fit_allocations = transfers.async_in, list(allocations)
        predictions = model.predict(x, batch_size=5)
        evaluation = model.evaluate(x, y, batch_size=5, verbose=0)
        weights_after = model.get_weights()
    return dict(weights=weights_after, history=history.history, events=record.events,
                predictions=predictions, evaluation=evaluation, async_in=async_in,
                allocations=fit_allocations)


@pytest.fixture(scope='module')
def runs():
    with pytest.MonkeyPatch.context() as monkeypatch:
        return {enabled: train(monkeypatch, enabled) for enabled in (True, False)}


def test_fit_with_and_without_prefetch_is_bit_identical(runs):
    on, off = runs[True], runs[False]
    assert on['async_in'] > 0 and off['async_in'] == 0  # the switch switches
    assert len(on['weights']) == len(off['weights']) == 2
    for a, b in zip(on['weights'], off['weights']):
        np.testing.assert_array_equal(a, b)
    assert on['history'] == off['history']
    assert sorted(on['history']) == ['acc', 'loss', 'val_acc', 'val_loss']
    np.testing.assert_array_equal(on['predictions'], off['predictions'])
    assert on['evaluation'] == off['evaluation']
    # The callbacks saw the same sequence with the same logs.
    assert [e[:3] for e in on['events']] == [e[:3] for e in off['events']]
    sizes = [e[2]['size'] for e in on['events'] if e[0] == 'batch_begin']
    assert sizes == TRAIN_BATCHES * EPOCHS


def test_staging_buffers_in_fit_are_allocated_once(runs):
    # x (float32 once cast), y and the sample weights, in each of the two slots;
    # the validation pass and the second epoch reuse them.
    want = [((BATCH, 5), '<f4'), ((BATCH, 3), '<f4'), ((BATCH,), '<f4')] * prefetch.SLOTS
    assert sorted(runs[True]['allocations']) == sorted(want)
    assert runs[False]['allocations'] == []


def batch_copies(rows):
    return sorted([(rows, 5), (rows, 3), (rows,)])


def test_each_batch_is_copied_in_once_and_only_logged_values_come_out(runs):
    """Between two callbacks, which copies happen, derived from the protocol:
    without prefetching, a step copies its own batch; with it, the first batch of
    a pass is copied when the loop takes it (before `on_batch_begin`) and each
    step copies the next batch in. Out: loss and accuracy per step, in one copy."""
    # Loss and accuracy come out together, packed on the device into one array
    # of two elements and copied back once (one host synchronisation per step,
    # issue 17), with prefetching or without.
    logged_by = {True: [(2,)], False: [(2,)]}

    def expected(prefetching):
        logged = logged_by[prefetching]
        events = []
        for epoch in range(EPOCHS):
            events.append(('epoch_begin', epoch, ([], [])))
            for i, rows in enumerate(TRAIN_BATCHES):
                if prefetching:
                    before = batch_copies(rows) if i == 0 else []
                    during = (batch_copies(TRAIN_BATCHES[i + 1])
                              if i + 1 < len(TRAIN_BATCHES) else [])
                else:
                    before, during = [], batch_copies(rows)
                events.append(('batch_begin', i, (before, [])))
                events.append(('batch_end', i, (during, logged)))
            validation = sorted(sum([batch_copies(rows) for rows in VAL_BATCHES], []))
            events.append(('epoch_end', epoch, (validation, logged * len(VAL_BATCHES))))
        return events
    for enabled in (True, False):
        got = [(what, index, copies) for what, index, _, copies in runs[enabled]['events']]
        assert got == expected(enabled), 'prefetch %s' % enabled


# --- failures in the middle of an epoch ---------------------------------------------------------

class Boom(Exception):
    pass


class FailAt(cbks.Callback):
    """Raises `error` in `on_batch_<when>` of batch `batch`, noting `probe()` then."""

    def __init__(self, when, batch, error, probe=lambda: None):
        super(FailAt, self).__init__()
        self.when, self.batch, self.error, self.probe = when, batch, error, probe
        self.seen = []
        self.probed = None

    def _maybe_fail(self, when, batch):
        self.seen.append((when, batch))
        if self.when == when and batch == self.batch:
            self.probed = self.probe()
            raise self.error

    def on_batch_begin(self, batch, logs=None):
        self._maybe_fail('begin', batch)

    def on_batch_end(self, batch, logs=None):
        self._maybe_fail('end', batch)


class BadRows(object):
    """An array-like (read like an HDF5 dataset) whose rows from `bad` on cannot be read."""

    def __init__(self, values, bad):
        self.values, self.bad = values, bad
        self.shape, self.dtype = values.shape, values.dtype

    def __len__(self):
        return len(self.values)

    def __getitem__(self, key):
        stop = key.stop if isinstance(key, slice) else max(key) + 1
        if stop > self.bad:
            raise IOError('cannot read rows up to %d' % stop)
        return self.values[key]


@pytest.mark.parametrize('when, error', [('end', Boom('callback failed')),
                                         ('begin', KeyboardInterrupt())])
def test_an_interruption_mid_epoch_leaves_no_copy_in_flight_and_releases_everything(
        monkeypatch, when, error):
    x, y, _ = fit_data()
    late = LateCopies()
    monkeypatch.setattr(prefetch, 'CudaCopies', lambda: late)
    prefetch.ENABLED = True
    fail = FailAt(when, 1, error, probe=lambda: len(late.pending))
    with K.using_backend('numba'):
        model = build()
        with pytest.raises(type(error)):
            model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False,
                      callbacks=[fail])
    assert fail.seen[-1] == (when, 1)
    # Batches 0 and 1 used both slots (x, y, weights each). When the failure
    # came, the host had synchronised with none of the copies of the two
    # batches in flight: batches 0 and 1 in on_batch_begin(1), batches 1 and 2
    # (staged during step 1) in on_batch_end(1).
    assert len(late.staging) == 3 * prefetch.SLOTS
    assert fail.probed == 2 * 3
    assert late.pending == [] and late.violations == []
    assert late.alive() == []


def test_a_bad_batch_fails_where_the_synchronous_path_fails_and_releases_everything(
        monkeypatch):
    x, y, _ = fit_data()
    late = LateCopies()
    monkeypatch.setattr(prefetch, 'CudaCopies', lambda: late)
    seen, errors = {}, {}
    for enabled in (True, False):
        prefetch.ENABLED = enabled
        fail = FailAt('never', None, None)  # only notes the callbacks
        with K.using_backend('numba'):
            model = build()
            with pytest.raises(IOError) as info:
                # rows 8 and up cannot be read: the third batch (rows 8..11) fails
                model.fit(BadRows(x.astype('float32'), 8), y, batch_size=BATCH, epochs=1,
                          verbose=0, shuffle=False, callbacks=[fail])
        seen[enabled], errors[enabled] = fail.seen, str(info.value)
        del info
    assert seen[True] == seen[False] == [('begin', 0), ('end', 0), ('begin', 1), ('end', 1)]
    assert errors[True] == errors[False] == 'cannot read rows up to 12'
    assert late.pending == [] and late.violations == []
    assert late.alive() == []


def test_the_reference_backend_never_prefetches():
    prefetch.ENABLED = True
    assert K.backend() == 'numpy'
    assert isinstance(feeding.open_feed(), feeding.HostFeed)
    with K.using_backend('numba'):
        source = feeding.open_feed()
        assert isinstance(source, prefetch.Prefetcher)
        source.close()
        prefetch.ENABLED = False
        assert isinstance(feeding.open_feed(), feeding.HostFeed)
