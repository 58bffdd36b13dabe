"""Gather, one-hot, and the deterministic scatter-add behind their gradients.

`gather` reads `x` viewed as `(pre, axis_len, post)` at integer indices: one
thread per output element. Its gradient adds rows of `g` into a zero array at
those indices, where indices may repeat. Instead of atomic float additions
(whose order, hence whose rounding, changes from run to run) the positions are
sorted by destination once (a stable sort of the integer indices), and one
thread per destination element adds its sources in increasing position order:
the same sequence of float additions as NumPy's `np.add.at`, every time.

The integer bookkeeping of that sort (and the range check of indices) runs on
the host: gather's indices are host data in Keras models (an `Embedding`'s
input batch); indices living on the device are copied to the host for it. All
float arithmetic stays on the device.
"""
import numpy as np

from accel import arrays
from accel.errors import AccelIndexError
from accel.kernels.launch import cuda, grid_1d, run


@cuda.jit
def _gather(out, x, idx, pre, count, axis_len, post, bad):
    n = pre * count * post
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        q = j % post
        t = j // post
        p = t % count
        o = t // count
        k = int(idx[p])
        if k < 0:
            k += axis_len
        if k < 0 or k >= axis_len:
            bad[0] = 1
            out[j] = 0
        else:
            out[j] = x[(o * axis_len + k) * post + q]


@cuda.jit
def _segment_sum(gx, g, perm, seg_start, seg_dest, pre, count, segments, axis_len, post, zero):
    # gx[o, seg_dest[s], q] = sum of g[o, perm[k], q] for k in [seg_start[s], seg_start[s+1])
    n = pre * segments * post
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        q = j % post
        t = j // post
        s = t % segments
        o = t // segments
        acc = zero
        for k in range(seg_start[s], seg_start[s + 1]):
            acc += g[(o * count + perm[k]) * post + q]
        gx[(o * axis_len + seg_dest[s]) * post + q] = acc


@cuda.jit
def _one_hot(out, idx, count, classes):
    for j in range(cuda.grid(1), count * classes, cuda.gridsize(1)):
        if int(idx[j // classes]) == j % classes:
            out[j] = 1
        else:
            out[j] = 0


def host_indices(indices, axis_len, primitive):
    """Indices as a host int64 array, negatives wrapped, range checked.

    # Raises
        AccelIndexError: for an index outside `[-axis_len, axis_len)`.
    """
    host = arrays.to_host(indices)
    idx = np.asarray(host).astype(np.int64)
    bad = (idx < -axis_len) | (idx >= axis_len)
    if bad.any():
        first = int(idx[bad].reshape(-1)[0])
        raise AccelIndexError('primitive %r: index %d is out of bounds for an axis of size %d'
                              % (primitive, first, axis_len))
    return np.where(idx < 0, idx + axis_len, idx)


def gather(x, indices, axis, primitive='gather'):
    """`np.take(x, indices, axis)` for a normalised `axis`.

    # Arguments
        x: `DeviceArray`.
        indices: integer (or float, truncated) indices: a host array, whose range
            is checked on the host before the launch, or a `DeviceArray`, checked
            by the kernel (then read back once).

    # Raises
        AccelIndexError: for an out-of-range index.
    """
    axis_len = x.shape[axis]
    pre = int(np.prod(x.shape[:axis], dtype=np.int64))
    post = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    on_device = arrays.is_device_array(indices)
    if on_device:
        idx = indices
        idx_shape = indices.shape
    else:
        host = host_indices(indices, axis_len, primitive)
        idx_shape = host.shape
        idx = arrays.to_device(host)
    count = int(np.prod(idx_shape, dtype=np.int64))
    out = arrays.empty(x.shape[:axis] + tuple(idx_shape) + x.shape[axis + 1:], x.dtype)
    if out.size == 0:
        return out
    if axis_len == 0:
        raise AccelIndexError('primitive %r: cannot take indices from an empty axis (shape %s)'
                              % (primitive, x.shape))
    flag = arrays.zeros((1,), np.int32)
    blocks, threads = grid_1d(out.size)
    run(_gather, blocks, threads, out.data, x.data, idx.data, pre, count, axis_len, post,
        flag.data)
    if on_device and int(flag) != 0:
        raise AccelIndexError('primitive %r: an index is out of bounds for an axis of size %d'
                              % (primitive, axis_len))
    return out


def scatter_add(g, indices, x_shape, axis, dtype, primitive='gather'):
    """Gradient of `gather`: zeros of `x_shape` with `g`'s slices added at `indices`.

    # Arguments
        g: `DeviceArray` of the gather's output shape.
        indices: the gather's indices (host or device).
        x_shape: the gathered array's shape.
        axis: normalised gather axis.
        dtype: the result's dtype.
    """
    axis_len = x_shape[axis]
    pre = int(np.prod(x_shape[:axis], dtype=np.int64))
    post = int(np.prod(x_shape[axis + 1:], dtype=np.int64))
    idx = host_indices(indices, axis_len, primitive).reshape(-1)
    gx = arrays.zeros(x_shape, dtype)
    if idx.size == 0 or gx.size == 0:
        return gx
    order = np.argsort(idx, kind='stable')
    ordered = idx[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    seg_start = np.concatenate([starts, [idx.size]]).astype(np.int64)
    seg_dest = ordered[starts].astype(np.int64)
    segments = seg_dest.size
    if g.dtype != np.dtype(dtype):
        from accel.kernels.copy import cast
        g = cast(g, dtype)
    blocks, threads = grid_1d(pre * segments * post)
    perm = arrays.to_device(order.astype(np.int64))
    run(_segment_sum, blocks, threads, gx.data, g.data, perm.data,
        arrays.to_device(seg_start).data, arrays.to_device(seg_dest).data, pre, idx.size,
        segments, axis_len, post, np.dtype(dtype).type(0))
    return gx


def one_hot(indices, num_classes, dtype):
    """One-hot rows on a new last axis (indices truncated to integers; out of range gives 0s)."""
    idx = arrays.as_device(indices, 'one_hot')
    out = arrays.empty(idx.shape + (int(num_classes),), dtype)
    if out.size == 0:
        return out
    blocks, threads = grid_1d(out.size)
    run(_one_hot, blocks, threads, out.data, idx.data, idx.size, int(num_classes))
    return out

