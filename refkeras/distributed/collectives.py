"""`allreduce`, `broadcast` and `allgather` on arrays; sums in a fixed order.

An allreduce here adds the ranks' values element by element in rank order,
0, 1, ..., N-1, in float64, and rounds once to the arrays' dtype. MPI's own
`MPI_Allreduce` may add in an order that depends on the algorithm the library
picks for the message size and the number of ranks; this one cannot, so a
training run repeated on the same ranks is bit-identical, and every rank
holds the very same result (their weights never drift apart).

It runs in two collectives (`reduce_in_rank_order`), the bandwidth-optimal
pattern of a reduce-scatter followed by an allgather:
1. the flat buffer is cut into N near-equal chunks; an all-to-all sends chunk
   j of every rank to rank j;
2. rank j adds up the N copies of its chunk in rank order and divides;
3. an allgather gives every rank every reduced chunk.
Each element goes through exactly the additions it would go through if one
process added the N whole buffers in rank order (`sum_in_rank_order`), so
the result does not depend on how the buffer is chunked. Each rank sends and
receives about `2 (N - 1) / N` times the buffer, as a ring allreduce does;
docs/distributed.md works out what that costs from 8 to 64 machines.

Each public function first exchanges the arrays' shapes and dtypes, so that
ranks passing different arrays all raise `ModelMismatchError` (naming
`name`) instead of corrupting memory or hanging.
"""
import numpy as np

from refkeras import backend as K
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


def chunk_bounds(length, parts):
    """`parts + 1` offsets cutting `length` elements into near-equal consecutive chunks."""
    sizes = [length // parts + (1 if j < length % parts else 0) for j in range(parts)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def reduce_in_rank_order(world, flat, weights=None, divisor=1.0, what='allreduce'):
    """`sum_r weights[r] * flat_r / divisor` over the ranks, on every rank (see the module).

    # Arguments
        world: the job's `comm.World`.
        flat: this rank's 1-D array (the same length and dtype on every rank).
        weights: one number per rank (the same list on every rank), or None for 1 each.
        divisor: the sum is divided by it before rounding to `flat.dtype`.
        what: names the operation in a timeout's message.

    # Returns
        A new 1-D array of `flat.dtype`, equal on every rank.
    """
    flat = np.ascontiguousarray(flat).reshape(-1)
    size, rank = world.size, world.rank
    bounds = chunk_bounds(flat.size, size)
    counts = np.diff(bounds)
    mine = int(counts[rank])
    received = np.empty(size * mine, dtype=flat.dtype)
    world.alltoallv(flat, counts, bounds[:-1], received, np.full(size, mine),
                    np.arange(size) * mine, what + ' (reduce-scatter)')
    chunk = sum_in_rank_order(received.reshape(size, mine), weights)
    chunk /= divisor
    out = np.empty(flat.size, dtype=flat.dtype)
    world.allgatherv(chunk.astype(flat.dtype), out, counts, bounds[:-1],
                     what + ' (allgather)')
    return out


def _host(value):
    """A NumPy copy of an array of any backend (copied from the device for accel)."""
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
    if average and not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)   # the mean of integers is not an integer
    divisor = float(world.size) if average else 1.0
    return reduce_in_rank_order(world, array, divisor=divisor, what=name).reshape(array.shape)


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
