"""Reusing device buffers, so that a steady-state training step allocates nothing.

Every primitive writes a new output array (nothing is updated in place), so a
training step makes dozens of device arrays, and the previous step's arrays
die as the new ones are made. Without this pool each would be a `cuMemAlloc`
and a deferred `cuMemFree`: far slower than a kernel launch, and, by the CUDA
programming guide, a possible synchronisation of the streams. Here a buffer
whose last reference is dropped goes back to a free list keyed by its exact
element count and dtype, and the next request for that key takes it. Since
the shapes of one step are those of the next, from the second step on every
request finds a free buffer (`accel.budget` counts them:
`spec_tests/test_accel_step_budget.py` checks it).

Why reuse is safe while kernels are still queued: accel launches every
kernel, and makes its synchronous copies, on one stream (the legacy default
stream, see `accel.prefetch`), in order. A buffer is released when the host
drops its last reference, i.e. after every launch reading or writing it has
been queued; whoever takes it next queues its own work behind those launches
on the same stream. The one exception is the prefetcher's copy stream, which
does not wait for the launch stream: a buffer for a copy queued there
(`side_stream=True`) is taken only among buffers released before the last
synchronous read-back (`accel.budget.TOTALS.readbacks`), which waited for
every launch queued until then, so no kernel still pending can touch it.

Results do not change: a buffer's old contents are never read (every kernel
writes its whole output before anything reads it, as with a fresh
allocation).

Memory: free buffers are kept up to `LIMIT_BYTES` (beyond that a released
buffer is freed); when an allocation fails for lack of device memory, the free
buffers are freed and it is tried once more. `clear()` frees them at any time.
`ENABLED = False` (or `ACCEL_POOL=0` in the environment before importing
accel) allocates every buffer from the driver, as before.
"""
import os
import weakref

import numpy as np

from accel import budget

#: Whether device buffers are reused (see the module doc).
ENABLED = os.environ.get('ACCEL_POOL', '1') != '0'

#: The most bytes kept in free buffers; a buffer released beyond it is freed.
LIMIT_BYTES = int(os.environ.get('ACCEL_POOL_LIMIT_BYTES', str(2 ** 30)))


class DevicePool(object):
    """Free device buffers per `(dtype, elements)`, and the bookkeeping of the module doc.

    # Arguments
        allocate: `allocate(size, dtype)` obtains a new 1-D device buffer from the
            driver (and counts it).
    """

    def __init__(self, allocate):
        self._allocate = allocate
        self._free = {}     # (dtype.str, size) -> [(buffer, readbacks when released), ...]
        self.free_bytes = 0

    def take(self, size, dtype, side_stream=False):
        """A 1-D device array of `size` elements of `dtype`, from a free buffer if
        one fits (see the module doc for `side_stream`), else newly allocated;
        its buffer returns to the pool when the array is garbage."""
        dtype = np.dtype(dtype)
        key = (dtype.str, int(size))
        buffer = self._reuse(key, side_stream)
        if buffer is None:
            buffer = self._allocate(size, dtype)
        else:
            budget.TOTALS.pool_reuses += 1
        handed = buffer[:size]   # a view: its death, not the buffer's, releases the buffer
        weakref.finalize(handed, self._release, key, buffer)
        return handed

    def _reuse(self, key, side_stream):
        free = self._free.get(key)
        if not free:
            return None
        if not side_stream:
            buffer, _ = free.pop()
        else:
            synced = budget.TOTALS.readbacks
            for index in range(len(free) - 1, -1, -1):
                if free[index][1] < synced:
                    buffer, _ = free.pop(index)
                    break
            else:
                return None
        self.free_bytes -= buffer.size * buffer.dtype.itemsize
        return buffer

    def _release(self, key, buffer):
        nbytes = buffer.size * buffer.dtype.itemsize
        if not ENABLED or self.free_bytes + nbytes > LIMIT_BYTES:
            return  # dropped: numba frees it
        self._free.setdefault(key, []).append((buffer, budget.TOTALS.readbacks))
        self.free_bytes += nbytes

    def clear(self):
        """Frees every free buffer (buffers in use are unaffected)."""
        self._free = {}
        self.free_bytes = 0
