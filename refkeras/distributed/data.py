"""Splitting the global data between the ranks so that N ranks train like one process.

`shard(x, global_batch_size)` gives this rank its rows of `x` such that, with
`fit(..., batch_size=global_batch_size // size(), shuffle=False)` on every
rank, step k of rank r takes the r-th slice of global batch k:

    global batch k = rows [k * B, (k + 1) * B) of x          (B = global_batch_size)
    rank r's slice = the r-th of N consecutive, near-equal parts of it
                     (np.array_split: the first `len % N` parts get one row more)

Every full global batch splits into N slices of `B // N` rows (B must be a
multiple of N); the last, shorter global batch splits as evenly as it can.
Each rank's shard is its slices concatenated in batch order, so `fit`'s
batches on that shard are exactly those slices, and `DistributedOptimizer`'s
sample-weighted average gives the gradient of each whole global batch.

Shuffling and validation then keep the FAQ's meaning, per rank:
- `validation_split=v` on a shard takes the last `v` of that rank's shard
  (before shuffling); the job's validation set is the union of those parts.
  To validate on the last `v` of the *global* data, as one process would, cut
  it off first and shard both parts (`split_validation`).
- `shuffle=True` reshuffles each rank's shard every epoch with that rank's
  own NumPy random state: the samples never move between ranks, and a global
  batch is the union of the ranks' shuffled slices. Exact equality with one
  process holds for `shuffle=False`.
"""
import numpy as np


def _slice_bounds(length, global_batch_size, size):
    """`bounds[r]`: the `(start, stop)` row ranges of rank r's slices, batch by batch."""
    bounds = [[] for _ in range(size)]
    for start in range(0, length, global_batch_size):
        stop = min(start + global_batch_size, length)
        parts = np.array_split(np.arange(start, stop), size)
        for r, part in enumerate(parts):
            if part.size:
                bounds[r].append((int(part[0]), int(part[-1]) + 1))
    return bounds


def shard_indices(length, global_batch_size, rank, size):
    """The row indices of rank `rank`'s shard of `length` rows (see the module docstring).

    # Raises
        ValueError: if `global_batch_size` is not a positive multiple of
            `size`, or the last global batch has fewer rows than there are
            ranks (a rank would take one step fewer than the others).
    """
    if global_batch_size <= 0 or global_batch_size % size:
        raise ValueError('shard: global_batch_size=%r must be a positive multiple of the number '
                         'of ranks (%d), so that every rank takes a batch of the same size.'
                         % (global_batch_size, size))
    last = length % global_batch_size
    if 0 < last < size:
        raise ValueError('shard: the last global batch has %d samples (%d %% %d) for %d ranks, so '
                         'some rank would have no sample for that step; drop %d samples or '
                         'choose another batch size.'
                         % (last, length, global_batch_size, size, last))
    bounds = _slice_bounds(length, global_batch_size, size)[rank]
    if not bounds:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(start, stop) for start, stop in bounds])


def shard(data, global_batch_size, rank=None, size=None):
    """This rank's share of `data` (an array, or a list / dict of arrays of equal length).

    # Arguments
        data: the global data, the same on every rank.
        global_batch_size: the batch size of the single process this job
            stands for; every rank then calls `fit` with
            `batch_size=global_batch_size // size`.
        rank, size: default to this process's (`refkeras.distributed.rank()`, `size()`).

    # Returns
        The same structure, with this rank's rows.
    """
    if rank is None or size is None:
        from refkeras import distributed  # inside: the package imports this module
        rank = distributed.rank() if rank is None else rank
        size = distributed.size() if size is None else size
    if isinstance(data, dict):
        arrays = list(data.values())
    elif isinstance(data, (list, tuple)):
        arrays = list(data)
    else:
        arrays = [data]
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError('shard: the arrays have different lengths %s.' % sorted(lengths))
    rows = shard_indices(lengths.pop(), global_batch_size, rank, size)
    if isinstance(data, dict):
        return {key: np.asarray(a)[rows] for key, a in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(np.asarray(a)[rows] for a in data)
    return np.asarray(data)[rows]


def split_validation(data, validation_split):
    """`(training part, validation part)`: the last `validation_split` of the rows is
    validation, as `fit(validation_split=...)` cuts the global data in one process."""
    arrays = data if isinstance(data, (list, tuple)) else [data]
    n = len(arrays[0])
    split_at = int(n * (1.0 - validation_split))
    if isinstance(data, (list, tuple)):
        return (type(data)(a[:split_at] for a in data), type(data)(a[split_at:] for a in data))
    return data[:split_at], data[split_at:]
