"""How the batches of the training loops reach the backend, and how their
results come back: the loops' one interface with the backend.

A loop (`fit`, `evaluate`, `predict` and the generator loops) opens a *feed*
for the call (`open_feed()`, a context manager) and asks it, for each pass,
for the pass's batches:

- `feed.batches(groups, dtypes, order, bounds)` for arrays: `(ids, batches
  per group)` for each `(start, end)` of `bounds`, the rows `order[start:end]`
  of every array of each group (cast to `dtypes` for a group that has them);
- `feed.items(read, count, keep_going)` for a generator: `read(0)`, ...,
  `read(count - 1)`, each `(groups, info)`.

Each step queues its work on the backend and the loop then asks the pass for
the step's results, `pass_.read_back(values)`, which returns them as host
arrays. That call is the backend's moment: accel's feed (`accel.prefetch`)
stages the next batch there, while the device still runs the step. The
reference's feed, here, slices each batch on the host when the loop takes it
and reads results back at once.

Which feed a call gets is the running backend's choice (`K.batch_feed()`);
the engine knows no backend by name.
"""
from refkeras import backend as K
from refkeras.backend import state as backend_state
from refkeras.engine import training_utils


def read_back(values):
    """`values` (a step's results, on the running backend) as host arrays: the
    backend plugin's way where it has one (accel copies a step's scalars back
    in one copy), else one `K.get_value` each."""
    plugin = backend_state.backend_plugin()
    if plugin is not None:
        return plugin.read_back(values)
    return [K.get_value(value) for value in values]


class HostBatches(object):
    """The batches of one pass over arrays, each sliced (and cast) on the host
    when the loop reaches it.

    Iterating gives `(ids, batches)` for each `(start, end)` of `bounds`:
    `ids = order[start:end]` and, per group, that group's arrays sliced at
    `ids` (`slice_arrays`, then `cast_inputs` for a group with dtypes).

    # Arguments
        groups: lists of arrays read together, e.g. `[xs, ys, sample_weights]`
            (None entries stay None).
        dtypes: one entry per group: the model input dtypes its batches are
            cast to, or None to keep the arrays' own dtypes.
        order: the sample indices in the order of the pass.
        bounds: `(start, end)` positions in `order` of each batch
            (`make_batches`).
    """

    read_back = staticmethod(read_back)

    def __init__(self, groups, dtypes, order, bounds):
        self.groups, self.dtypes, self.order, self.bounds = groups, dtypes, order, bounds

    def __iter__(self):
        for start, end in self.bounds:
            ids = self.order[start:end]
            yield ids, [training_utils.slice_arrays(arrays, ids) if dtypes is None
                        else training_utils.cast_inputs(
                            training_utils.slice_arrays(arrays, ids), dtypes)
                        for arrays, dtypes in zip(self.groups, self.dtypes)]


class HostItems(object):
    """The batches of one pass of a generator loop, each read when the loop
    reaches it: `read(0)`, ..., `read(steps - 1)`."""

    read_back = staticmethod(read_back)

    def __init__(self, read, steps):
        self._read, self._steps = read, steps

    def __iter__(self):
        for step in range(self._steps):
            yield self._read(step)


class SizedBatches(object):
    """A pass of `batches(...)` yielding `(groups, size)` instead of `(ids,
    groups)`, as a generator pass does (for the loop both share,
    `epoch_loop`); it reads results back through the pass it wraps."""

    def __init__(self, batches):
        self._batches = batches
        self.read_back = batches.read_back

    def __iter__(self):
        for ids, groups in self._batches:
            yield groups, len(ids)


class HostFeed(object):
    """The reference's feed: hands out `HostBatches` and `HostItems`; holds
    nothing, so closing it does nothing."""

    def batches(self, groups, dtypes, order, bounds):
        return HostBatches(groups, dtypes, order, bounds)

    def items(self, read, count, keep_going=None):
        """`keep_going` (whether the loop takes the next batch) matters only to
        a feed that reads ahead; this one reads each batch when it is taken."""
        return HostItems(read, count)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


def open_feed():
    """The feed of one fit / evaluate / predict call (a context manager): the
    running backend's own (`K.batch_feed()`), else a `HostFeed`."""
    feed = K.batch_feed()
    return HostFeed() if feed is None else feed
