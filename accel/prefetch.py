"""Copying the next input batch to the device while the current step runs (issue 7, item 2).

On accel, `fit`, `evaluate` and `predict` take the batches of their array
loops (in-memory arrays, HDF5 datasets, `HDF5Matrix`, `LazyRows`) from a
`Prefetcher` (accel's feed, see `refkeras.engine.feeding`). A step on
accel queues its kernels (launches are asynchronous) and ends by copying its
logged scalars back, which waits for those kernels. The prefetcher puts the
work of bringing in batch i+1 inside that wait:

    host:           | queue step i's kernels | gather i+1, queue its copy | read step i's scalars |
    compute stream: |========== step i's kernels ==========| wait(copied) | step i+1 ...
    copy stream:                             | copy i+1 |

1. The engine asks the pass for a step's results (`read_back`) once the
   step's work is queued; the pass first stages the next batch (`stage_next`),
   then copies the results back. The
   host gathers the rows of batch i+1 (the fancy index or slice, and the cast
   to the model input's dtype) straight into page-locked ("pinned") staging
   buffers, queues the copy of each array into a new device array on the copy
   stream, and records the event `copied` on the copy stream after them.
2. When the loop takes batch i+1, the compute stream is made to wait for
   `copied` (`cuStreamWaitEvent`): the kernels of step i+1, queued after that,
   read complete data. The host does not wait.
3. The staging buffers are double-buffered: consecutive batches use the two
   slots in turn, and before the host rewrites a slot it waits (on the host)
   for that slot's `copied` event, so a copy never reads a buffer being
   rewritten. One event per slot serves both sides, since both wait for the
   same thing: the completion of the copies out of that slot. The buffers live
   as long as the prefetcher (one `fit` call, its validation included) and are
   reused whenever dtype and row shape match (a smaller batch, such as the
   last one, uses their first rows): page-locked allocation is slow and
   serialises streams, so it happens once per buffer, not per step.

Which stream, and what really overlaps (numba-cuda 0.30.4, read from its
source):
- accel launches every kernel without a stream, i.e. on stream handle 0, the
  legacy default stream (unless the process turned on per-thread default
  streams through CUDA Python). The legacy default stream synchronises
  implicitly with every *blocking* stream of the context: its work waits for
  all earlier work of those streams, and theirs for its. `cuda.stream()`
  creates a blocking stream (`Context.create_stream` passes the flags
  CU_STREAM_DEFAULT = 0), so a copy queued there would wait for step i's
  kernels, and step i+1's kernels for the copy: only the host work would
  overlap. The copy stream is therefore created with CU_STREAM_NON_BLOCKING
  through numba-cuda's driver binding (`cuStreamCreate`) and wrapped in
  numba's `Stream` with its usual finaliser; it has no implicit
  synchronisation with stream 0, and the event is the only ordering between
  the two. (It works as well with per-thread default streams.)
- So the gather of batch i+1 runs on the host while step i's queued kernels
  run on the device, and the copy of batch i+1 (`cuMemcpyHtoDAsync` from
  pinned memory, done by a copy engine) runs alongside those kernels. Reading
  step i's scalars back (a synchronous copy on stream 0) does not wait for the
  copy stream.
- What does not overlap: the first batch of each pass (an epoch, a validation
  pass, a predict call) is gathered and copied with nothing running; nothing
  is staged across an epoch boundary, because the next epoch's shuffle is
  drawn after this epoch's callbacks and validation (drawing it earlier would
  change the random sequence). The destination of each copy is a new device
  array, allocated like every primitive's output; the CUDA programming guide
  allows a device allocation to serialise streams, which can shorten the
  overlap. `benchmarks/bench_accel_prefetch.py` measures what is left.
- If the non-blocking stream cannot be created (a numba-cuda without the
  driver functions used here), `cuda.stream()` is used, with a warning: the
  results are the same; only the host work overlaps.
- Under the CUDA simulator, streams and events exist but every copy and kernel
  runs at once, in order: the results are the same (spec_tests check it, also
  with an emulated device whose copies land late), the overlap cannot be seen.

What the loops see: exactly the batches, order, dtypes and callback sequence
of the synchronous path, each array copied once. Two differences, both only
in timing: batch i+1 is read from the arrays during step i, i.e. before the
callbacks' `on_batch_end(i)` (a callback that writes into the training arrays
there is not seen by batch i+1); and an error reading batch i+1 (an HDF5 read
failure) is kept and raised when the loop takes batch i+1, before its
`on_batch_begin`, which is where the synchronous path raises it. A pass over
an array whose dtype accel does not support uses the synchronous path, so
that the error comes from the step as before.

Generator loops (`fit_generator`, `evaluate_generator`, `predict_generator`
and a validation generator; see `refkeras.engine.training_generator`): a pass
of `count` steps takes its batches from `Prefetcher.items(read, count,
keep_going)`. `read(i)` is the synchronous loop's own code for batch i: take
the next item from the enqueuer's output (with `workers=0`, this runs the
generator or `Sequence.__getitem__` in the calling thread), unpack and check
it, standardize and cast it. During step i the prefetcher calls `read(i+1)`,
copies the arrays it returns into pinned buffers (one flat buffer per
position, dtype and slot, grown when an item needs more room, so batches whose
shapes vary still reuse them) and queues their copies as above. What the loops
see is what the synchronous loop sees, item by item; the rules that keep it so:
- Never an item the synchronous loop would not take: nothing is read ahead at
  the last step of a pass (`count` is the pass's step count; the next epoch's
  first batch is taken after this epoch's callbacks and validation, a
  validation pass's after the training steps), nor when `keep_going()` says
  the loop will stop after this step (`fit_generator` passes
  `not model.stop_training`, so a callback that stops training in
  `on_epoch_begin` or `on_batch_begin` stops the reading ahead too).
- An error reading batch i+1 (the generator raising, running out of
  batches, a batch of the wrong form, a non-finite input) is kept and raised
  when the loop takes batch i+1, i.e. after step i's `on_batch_end` and where
  the synchronous loop raises it; if the loop stops before (a callback set
  `stop_training`) it is dropped, with the batch. A `KeyboardInterrupt` is
  not kept: it stops the call at once.
- A batch with an array accel does not support (its dtype), or whose copy
  cannot be queued (out of device memory), is handed to the step as host
  arrays: the step copies it, or fails, as in the synchronous loop.
What differs, in timing only: batch i+1 is produced during step i, before the
callbacks' `on_batch_end(i)` (with `workers=0` the generator's own code runs
then, and a `Sequence`'s `on_epoch_end`, which the enqueuer calls when it hands
out the last batch of a pass, runs during the step before that batch). And the
one thing read ahead cannot know: when a callback stops training in
`on_batch_end(i)` (`TerminateOnNaN`), or step i or a callback fails, before the
last step of a pass, batch i+1 has already been taken from the generator (and
is dropped). With workers the enqueuer reads ahead of the loop anyway (up to
`max_queue_size` batches); with `workers=0` and a generator the caller goes on
using, that one batch is missing. `ENABLED = False` avoids it.

Turning it off: `accel.prefetch.ENABLED = False` (or `ACCEL_PREFETCH=0` in the
environment before `accel.prefetch` is imported) makes the loops (array and
generator loops) take and copy each batch in its own step, synchronously, as
they do on the reference backend.

Failures: leaving the `with` block of a `Prefetcher` in any way (an exception
in a callback, `KeyboardInterrupt`, a bad batch) calls `close()`: it waits for
the copies still in flight on the copy stream, so no copy writes into device
memory or reads pinned memory after they are released, then drops the staged
batch, the pinned buffers, the events and the stream (numba's finalisers free
them).
"""
import os
import warnings
import weakref

import numpy as np

from accel import arrays, budget
from accel.device import require
from refkeras.engine import feeding, training_utils

#: Whether the accel backend prefetches input batches (see the module doc).
ENABLED = os.environ.get('ACCEL_PREFETCH', '1') != '0'

#: Staging slots: one being copied from while the host fills the other.
SLOTS = 2


class CudaCopies(object):
    """The CUDA operations the prefetcher uses, through numba-cuda (GPU or simulator).

    Tests substitute an emulated device with the same five members.
    """

    #: The stream accel's kernels run on: handle 0, numba's launch default.
    compute_stream = 0

    #: A read-back (a synchronous copy on the launch stream) returns only once
    #: everything queued on that stream before it has run, including a wait
    #: for an event of the copy stream: after it, the copies that event
    #: follows are done, and `_Slot.reclaim` need not wait for them again
    #: (one host synchronisation per step instead of two).
    READ_BACK_ORDERS_COPIES = True

    def __init__(self):
        require()
        # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
        from numba import cuda
        # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
        from numba.core import config
        self._cuda = cuda
        self.simulator = bool(config.ENABLE_CUDASIM)

    def new_stream(self):
        """The copy stream: non-blocking (see the module doc), or blocking as a fallback."""
        if self.simulator:
            return self._cuda.stream()
        try:
            return _non_blocking_stream(self._cuda)
        except (AttributeError, ImportError, TypeError) as err:
            warnings.warn('accel.prefetch: could not create a non-blocking CUDA stream (%s: %s); '
                          'using a blocking one, whose copies cannot overlap the kernels.'
                          % (type(err).__name__, err))
            return self._cuda.stream()

    def new_event(self):
        if self.simulator:
            return self._cuda.event()  # the simulator's Event takes no arguments
        return self._cuda.event(timing=False)

    def pinned(self, shape, dtype):
        """A page-locked host array (`cuda.pinned_array`)."""
        return self._cuda.pinned_array(tuple(shape), dtype=np.dtype(dtype))

    def copy_in(self, host, stream):
        """A new device array receiving `host`, its copy queued on `stream`."""
        return arrays.to_device_async(host, stream)


def _non_blocking_stream(cuda):
    """A CUDA stream created with CU_STREAM_NON_BLOCKING, as numba's `Stream`.

    numba-cuda only offers blocking streams (`cuda.stream()`); this makes the
    same driver call with the other flag, and gives the stream the finaliser
    numba gives its own (destroyed once unreferenced).
    """
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba.cuda.cudadrv import driver as drv
    flags = int(drv.binding.CUstream_flags.CU_STREAM_NON_BLOCKING.value)
    handle = drv.driver.cuStreamCreate(flags)
    context = cuda.current_context()
    return drv.Stream(handle, finalizer=drv._stream_finalizer(context.deallocations, handle))


class _Slot(object):
    """One staging area: a pinned buffer per (array position, dtype, row shape),
    and the event recorded on the copy stream after the copies out of them."""

    def __init__(self, event):
        self.buffers = {}
        self.copied = event
        self.in_flight = False
        #: `budget.TOTALS.readbacks` when the launch stream was made to wait for
        #: `copied` (None before, or when the device gives no such guarantee).
        self.handed_at = None

    def waited_for(self, copies):
        """Notes that the launch stream now waits for `copied` (on a device whose
        read-backs then also wait for the copies: `CudaCopies.READ_BACK_ORDERS_COPIES`)."""
        if getattr(copies, 'READ_BACK_ORDERS_COPIES', False):
            self.handed_at = budget.TOTALS.readbacks

    def reclaim(self):
        """Waits, on the host, until the copies out of this slot are done."""
        if self.in_flight:
            if self.handed_at is not None and budget.TOTALS.readbacks > self.handed_at:
                # The launch stream waited for `copied` before a read-back that
                # has returned since: the copies are done (see `CudaCopies`).
                self.in_flight = False
                return
            budget.TOTALS.waits += 1
            self.copied.synchronize()
            self.in_flight = False


class _Staged(object):
    """A batch whose copies are queued: the ids, the device arrays per group, its slot."""

    def __init__(self, ids, groups, slot):
        self.ids, self.groups, self.slot = ids, groups, slot


class _StagedItem(object):
    """A generator batch: its groups (device arrays whose copies are queued out
    of `slot`, or host arrays when `slot` is None) and what `read` passed along."""

    def __init__(self, groups, info, slot):
        self.groups, self.info, self.slot = groups, info, slot


class _Failed(object):
    """A batch whose staging raised: the error, raised when the loop takes the batch."""

    def __init__(self, error):
        self.error = error


class Prefetcher(object):
    """Gives the array loops of one fit / evaluate / predict call their batches
    as device arrays, copying batch i+1 in while step i runs (see the module doc).

    Use it as a context manager (`feeding.open_feed()` gives one); leaving
    the block calls `close()`.

    # Arguments
        copies: the CUDA operations (default `CudaCopies()`, made at the
            first batch; tests pass an emulated device).

    # Attributes
        pinned_allocations: how many staging buffers were allocated.
    """

    def __init__(self, copies=None):
        self._copies = copies
        self._stream = None
        self._slots = []
        self._turn = 0
        self._feeds = weakref.WeakSet()
        self.pinned_allocations = 0
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def batches(self, groups, dtypes, order, bounds):
        """The batches of one pass, like `feeding.HostBatches` (same
        arguments) but as device arrays, each batch staged during the step
        before it (`PrefetchedBatches.stage_next`)."""
        self._new_pass()
        if not _all_supported(groups, dtypes):
            return feeding.HostBatches(groups, dtypes, order, bounds)
        feed = PrefetchedBatches(self, groups, dtypes, order, bounds)
        self._feeds.add(feed)
        return feed

    def items(self, read, count, keep_going=None):
        """The batches of one pass of a generator loop (see "Generator loops"
        in the module doc): iterating gives `read(0)`, ..., `read(count - 1)`,
        each `(groups, info)` with the groups' arrays as device arrays; batch
        i+1 is read and staged during step i (`PrefetchedItems.stage_next`).

        # Arguments
            read: `read(i)` takes batch i from the generator and checks it as
                the synchronous loop does; returns `(groups, info)`: lists of
                host arrays to copy in (None entries stay None), and anything
                else the loop needs, passed along as is.
            count: the number of batches of the pass; `read(count)` is never
                called.
            keep_going: None, or a function telling, while a step runs,
                whether the loop will take the next batch (when it returns
                False, nothing is read ahead).
        """
        self._new_pass()
        feed = PrefetchedItems(self, read, count, keep_going)
        self._feeds.add(feed)
        return feed

    def _new_pass(self):
        if self.closed:
            raise RuntimeError('this Prefetcher is closed')
        # A pass left early (a callback set `stop_training`) may have staged a
        # batch: wait for its copies before letting go of it.
        for old in list(self._feeds):
            old._drop_staged(wait=True)

    def close(self):
        """Waits for the copies in flight, then releases the staged batches,
        the staging buffers, the events and the stream. Idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._stream is not None:
                budget.TOTALS.waits += 1
                self._stream.synchronize()
        finally:
            for feed in list(self._feeds):
                feed._drop_staged(wait=False)  # the stream is synchronised
            self._feeds = weakref.WeakSet()
            self._slots = []
            self._stream = None
            self._copies = None

    # --- staging --------------------------------------------------------------------------

    def _start(self):
        if self._stream is None:
            if self._copies is None:
                self._copies = CudaCopies()
            self._stream = self._copies.new_stream()
            self._slots = [_Slot(self._copies.new_event()) for _ in range(SLOTS)]

    def _stage(self, groups, dtypes, ids, capacity):
        """Gathers rows `ids` of every array into the next slot's pinned
        buffers and queues their copies; returns a `_Staged`."""
        self._start()
        slot = self._slots[self._turn]
        self._turn = (self._turn + 1) % len(self._slots)
        slot.reclaim()
        staged = []
        try:
            for g, (group, group_dtypes) in enumerate(zip(groups, dtypes)):
                staged.append([None if a is None else self._copy_rows(
                    slot, (g, j), a, None if group_dtypes is None else group_dtypes[j], ids,
                    capacity) for j, a in enumerate(group)])
        finally:
            # Also after a failure: copies queued before it still read the slot.
            slot.copied.record(self._stream)
            slot.in_flight = True
            slot.handed_at = None
        return _Staged(ids, staged, slot)

    def _copy_rows(self, slot, position, array, input_dtype, ids, capacity):
        """Rows `ids` of `array` (cast for the model input of `input_dtype`,
        if given) into a staging buffer, and its copy queued."""
        if isinstance(array, np.ndarray):
            dtype = (array.dtype if input_dtype is None
                     else training_utils.batch_dtype(array.dtype, input_dtype))
            buffer = self._buffer(slot, position, dtype, array.shape[1:], len(ids), capacity)
            if dtype == array.dtype:
                # One pass, straight into pinned memory ('clip' does not buffer;
                # the ids are positions of existing rows).
                np.take(array, ids, axis=0, out=buffer, mode='clip')
            else:
                buffer[...] = array[ids]
        else:
            # HDF5 data: read (and checked) as the synchronous path reads it.
            rows = training_utils.slice_arrays([array], ids)[0]
            if input_dtype is not None:
                rows = training_utils.cast_inputs([rows], [input_dtype])[0]
            buffer = self._buffer(slot, position, rows.dtype, rows.shape[1:], len(rows),
                                  capacity)
            buffer[...] = rows
        return self._copies.copy_in(buffer, self._stream)

    def _buffer(self, slot, position, dtype, row_shape, rows, capacity):
        """The first `rows` rows of the slot's buffer for this array, (re)allocated
        with room for `capacity` rows when missing or too small."""
        key = (position, np.dtype(dtype).str, tuple(int(d) for d in row_shape))
        buffer = slot.buffers.get(key)
        if buffer is None or buffer.shape[0] < rows:
            buffer = self._copies.pinned((max(rows, capacity),) + key[2], dtype)
            slot.buffers[key] = buffer
            self.pinned_allocations += 1
        return buffer[:rows]

    def _hand_out(self, staged):
        """Makes the compute stream wait for the batch's copies; returns it."""
        staged.slot.copied.wait(self._copies.compute_stream)
        staged.slot.waited_for(self._copies)
        return staged.ids, staged.groups

    def _stage_item(self, read, index):
        """Reads batch `index` of a generator pass (`read(index)`) and queues
        the copies of its arrays out of the next slot; returns a `_StagedItem`.
        Errors of `read` propagate; a batch accel cannot copy stays on the host."""
        groups, info = read(index)
        if not all(a is None or (isinstance(a, np.ndarray) and a.dtype in arrays.SUPPORTED_DTYPES)
                   for group in groups for a in group):
            return _StagedItem(groups, info, None)  # the step raises as it would have
        self._start()
        slot = self._slots[self._turn]
        self._turn = (self._turn + 1) % len(self._slots)
        slot.reclaim()
        try:
            staged = [[None if a is None else self._copy_item_array(slot, (g, j), a)
                       for j, a in enumerate(group)] for g, group in enumerate(groups)]
        except Exception:
            # Out of device memory, say: the step copies the host arrays itself
            # and fails, or not, where the synchronous loop would.
            return _StagedItem(groups, info, None)
        finally:
            # Also after a failure: copies queued before it still read the slot.
            slot.copied.record(self._stream)
            slot.in_flight = True
            slot.handed_at = None
        return _StagedItem(staged, info, slot)

    def _copy_item_array(self, slot, position, host):
        """`host` into the slot's flat pinned buffer for this position and
        dtype (grown if too small), and its copy queued."""
        key = ('item', position, host.dtype.str)
        buffer = slot.buffers.get(key)
        if buffer is None or buffer.size < host.size:
            buffer = self._copies.pinned((max(host.size, 1),), host.dtype)
            slot.buffers[key] = buffer
            self.pinned_allocations += 1
        staging = buffer[:host.size].reshape(host.shape)
        staging[...] = host
        return self._copies.copy_in(staging, self._stream)

    def _hand_out_item(self, staged):
        """Makes the compute stream wait for the item's copies; returns `(groups, info)`."""
        if staged.slot is not None:
            staged.slot.copied.wait(self._copies.compute_stream)
            staged.slot.waited_for(self._copies)
        return staged.groups, staged.info


class PrefetchedBatches(object):
    """One pass of a `Prefetcher`: iterating gives `(ids, batches per group)`
    as `HostBatches` does, with device arrays.

    `stage_next()`, called while the step of the batch last given runs (by
    `read_back`, before it waits for the step's results), stages the batch
    after it. A batch not staged ahead (the first) is staged when taken.
    """

    def __init__(self, prefetcher, groups, dtypes, order, bounds):
        self._prefetcher = prefetcher
        self._groups, self._dtypes, self._order, self._bounds = groups, dtypes, order, bounds
        self._capacity = max([end - start for start, end in bounds] or [0])
        self._next = 0
        self._staged = None

    def __iter__(self):
        return self

    def _ids(self, index):
        start, end = self._bounds[index]
        return self._order[start:end]

    def __next__(self):
        if self._next >= len(self._bounds):
            raise StopIteration
        staged, self._staged = self._staged, None
        if staged is None:
            staged = self._prefetcher._stage(self._groups, self._dtypes, self._ids(self._next),
                                             self._capacity)
        if isinstance(staged, _Failed):
            raise staged.error
        self._next += 1
        return self._prefetcher._hand_out(staged)

    def _drop_staged(self, wait):
        staged, self._staged = self._staged, None
        if wait and isinstance(staged, _Staged):
            staged.slot.reclaim()

    def read_back(self, values):
        """A step's results as host arrays, the next batch staged first, while
        the device still runs the step."""
        self.stage_next()
        return feeding.read_back(values)

    def stage_next(self):
        """Stages the next batch, if any; an error is kept for `__next__`."""
        if self._staged is not None or self._next >= len(self._bounds) or \
                self._prefetcher.closed:
            return
        try:
            self._staged = self._prefetcher._stage(self._groups, self._dtypes,
                                                   self._ids(self._next), self._capacity)
        except Exception as err:  # raised where the synchronous path raises it
            self._staged = _Failed(err)


class PrefetchedItems(object):
    """One pass of a generator loop on a `Prefetcher` (`Prefetcher.items`):
    iterating gives `read(i)`'s `(groups, info)` for i < count, the arrays on
    the device.

    `stage_next()`, called while the step of the batch last given runs (by
    `read_back`), reads and stages the batch after it, unless it is
    beyond the pass or `keep_going()` is False. A batch not staged ahead (the
    first) is read when taken; its errors propagate then.
    """

    def __init__(self, prefetcher, read, count, keep_going=None):
        self._prefetcher = prefetcher
        self._read, self._count, self._keep_going = read, count, keep_going
        self._next = 0
        self._staged = None

    def __iter__(self):
        return self

    def __next__(self):
        if self._next >= self._count:
            raise StopIteration
        staged, self._staged = self._staged, None
        if staged is None:
            staged = self._prefetcher._stage_item(self._read, self._next)
        if isinstance(staged, _Failed):
            raise staged.error
        self._next += 1
        return self._prefetcher._hand_out_item(staged)

    def _drop_staged(self, wait):
        staged, self._staged = self._staged, None
        if wait and isinstance(staged, _StagedItem) and staged.slot is not None:
            staged.slot.reclaim()

    def read_back(self, values):
        """A step's results as host arrays, the next batch read and staged
        first (see `PrefetchedBatches.read_back`)."""
        self.stage_next()
        return feeding.read_back(values)

    def stage_next(self):
        """Reads and stages the next batch, if the loop will take it; an error
        is kept for `__next__`."""
        if self._staged is not None or self._next >= self._count or self._prefetcher.closed:
            return
        if self._keep_going is not None and not self._keep_going():
            return
        try:
            self._staged = self._prefetcher._stage_item(self._read, self._next)
        except Exception as err:  # raised where the synchronous loop raises it
            self._staged = _Failed(err)


def _all_supported(groups, dtypes):
    """Whether every array's batches have a dtype accel supports (known in advance)."""
    for group, group_dtypes in zip(groups, dtypes):
        for j, a in enumerate(group):
            if a is None or getattr(a, 'dtype', None) is None:
                continue
            dtype = np.dtype(a.dtype)
            if group_dtypes is not None:
                dtype = training_utils.batch_dtype(dtype, group_dtypes[j])
            if dtype not in arrays.SUPPORTED_DTYPES:
                return False
    return True
