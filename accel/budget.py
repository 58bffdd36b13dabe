"""What a training step asks of the device, counted without one (issue 17, item 3).

On a GPU, a small model's step is bound less by its kernels' arithmetic than
by three fixed costs: each kernel launch (a few microseconds of driver and
Python work), each device allocation (`cuMemAlloc` can serialise streams and
costs far more than a launch) and each host synchronisation (the host waits
until the device has drained; nothing can be queued meanwhile). All three are
the same under the CUDA simulator as on a GPU, since they are decided by
accel's Python code, so they can be counted anywhere.

`TOTALS` counts, for the whole process:

- `launches`: kernels launched (every launch goes through
  `accel.kernels.launch.run`);
- `allocations`, `allocated_bytes`: device buffers obtained from the driver
  (`accel.arrays`; a buffer reused from `accel.pool` is not counted here but
  in `pool_reuses`);
- `readbacks`: synchronous device-to-host copies on the launch stream (each
  waits for every kernel queued before it: a full host synchronisation);
- `waits`: other host waits (an event or a stream synchronised on the host,
  as `accel.prefetch` does before rewriting a staging buffer);
- `host_syncs` = `readbacks + waits`.

`counting()` measures a block:

    with budget.counting() as step:
        model.train_on_batch(x, y)
    step.launches, step.allocations, step.host_syncs

Counting is always on (a few integer increments per launch); it changes no
result.
"""
import contextlib


class Tally(object):
    """Counts of launches, allocations and host synchronisations (see the module doc)."""

    __slots__ = ('launches', 'allocations', 'allocated_bytes', 'pool_reuses', 'readbacks',
                 'waits')

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, 0)

    @property
    def host_syncs(self):
        return self.readbacks + self.waits

    def copy(self):
        other = Tally()
        for name in self.__slots__:
            setattr(other, name, getattr(self, name))
        return other

    def minus(self, earlier):
        """The counts since `earlier` (a `copy()` of these totals)."""
        other = Tally()
        for name in self.__slots__:
            setattr(other, name, getattr(self, name) - getattr(earlier, name))
        return other

    def as_dict(self):
        out = {name: getattr(self, name) for name in self.__slots__}
        out['host_syncs'] = self.host_syncs
        return out

    def __repr__(self):
        return 'Tally(%s)' % ', '.join('%s=%d' % kv for kv in sorted(self.as_dict().items()))


#: The process's running totals.
TOTALS = Tally()


class Measured(Tally):
    """The counts of a `counting()` block; filled in when the block ends."""

    __slots__ = ()


@contextlib.contextmanager
def counting():
    """Counts the launches, allocations and host synchronisations of a block.

    # Returns
        A `Tally` whose counts are those of the block once it has ended.
    """
    start = TOTALS.copy()
    result = Measured()
    try:
        yield result
    finally:
        done = TOTALS.minus(start)
        for name in Tally.__slots__:
            setattr(result, name, getattr(done, name))
