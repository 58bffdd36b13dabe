"""`allreduce`, `broadcast` and `allgather` on arrays, in a fixed order.

The sum of an allreduce is computed the same way on every rank and in every
run: each rank receives every rank's array (an allgather), then adds them up
in float64 in rank order, 0, 1, ..., N-1, and rounds once to the arrays'
dtype. MPI's own `MPI_Allreduce` may add in an order that depends on the
algorithm the library picks for the message size and the number of ranks; this
one cannot, so a training run repeated on the same ranks is bit-identical, and
all ranks hold the very same result (their weights never drift apart).

The price is bandwidth: an allgather receives `(N - 1)` arrays per rank where
a ring allreduce moves about two; `docs/distributed.md` works out what that
costs from 8 to 64 machines.

Each function first exchanges the arrays' shapes and dtypes, so that ranks
passing different arrays all raise `ModelMismatchError` (naming `name`)
instead of corrupting memory or hanging.
"""
import numpy as np

from refkeras.distributed.comm import ModelMismatchError


def sum_in_rank_order(rows, weights=None):
    """`sum_r weights[r] * rows[r]` added in rank order, in float64.

    # Arguments
        rows: array of shape `(N, ...)`, row r from rank r.
        weights: N numbers, or None for 1 each.

    # Returns
        A float64 array of shape `rows.shape[1:]`.
    """
    total = np.zeros(rows.shape[1:], dtype=np.float64)
    term = np.empty_like(total)
    for r in range(rows.shape[0]):
        weight = 1.0 if weights is None else float(weights[r])
        np.multiply(rows[r], weight, out=term, dtype=np.float64)   # exact: float32 * count
        total += term
    return total


def _host(value):
    """A NumPy copy of an array of any backend (copied from the device for accel)."""
    from refkeras import backend as K
    return np.array(K.backend_arrays().to_host(K.value_of(value)))


def _check_same_layout(world, array, name, first_axis_free=False):
    """Raises `ModelMismatchError` on every rank unless all ranks' arrays agree."""
    mine = (array.shape[1:] if first_axis_free else array.shape, array.dtype.str)
    layouts = world.allgather_object(mine, '%s (shapes)' % name)
    for r, theirs in enumerate(layouts):
        if theirs != layouts[0]:
            what = 'shape after the first axis' if first_axis_free else 'shape'
            raise ModelMismatchError(
                '%s: rank %d passed an array of %s %s and dtype %s, rank 0 one of %s %s and '
                'dtype %s; every rank must pass the same layout.'
                % (name, r, what, theirs[0], np.dtype(theirs[1]).name, what, layouts[0][0],
                   np.dtype(layouts[0][1]).name))


def allreduce(world, value, average=True, name='allreduce'):
    """The sum (or mean) over ranks of `value`, identical on every rank."""
    array = _host(value)
    _check_same_layout(world, array, name)
    rows = world.allgather_equal(array, name)
    total = sum_in_rank_order(rows)
    if average:
        total /= world.size
    if np.issubdtype(array.dtype, np.integer) and average:
        return total  # the mean of integers is not an integer (float64, as Horovod gives)
    return total.astype(array.dtype)


def broadcast(world, value, root_rank, name='broadcast'):
    """Root's `value` on every rank."""
    if not 0 <= root_rank < world.size:
        raise ValueError('%s: root_rank=%r is not a rank of this job (0 to %d).'
                         % (name, root_rank, world.size - 1))
    array = np.array(_host(value), order='C')
    _check_same_layout(world, array, name)
    return world.broadcast_into(array, root_rank, name)


def allgather(world, value, name='allgather'):
    """Every rank's `value` concatenated along the first axis, in rank order.

    The first dimension may differ between ranks; the others and the dtype
    may not.
    """
    array = _host(value)
    if array.ndim == 0:
        raise ValueError('%s: allgather concatenates along the first axis; received a scalar '
                         '(pass np.array([value])).' % name)
    _check_same_layout(world, array, name, first_axis_free=True)
    parts = world.allgather_bytes(np.frombuffer(np.ascontiguousarray(array).tobytes(),
                                                dtype=np.uint8), name)
    return np.concatenate([np.frombuffer(p.tobytes(), dtype=array.dtype)
                           .reshape((-1,) + array.shape[1:]) for p in parts])
