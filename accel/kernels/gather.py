"""Gather, one-hot, and the deterministic scatter-add behind their gradients.

`gather` reads `x` viewed as `(pre, axis_len, post)` at integer indices: one
thread per output element. Its gradient adds rows of `g` into a zero array at
those indices, where indices may repeat. Instead of atomic float additions
(whose order, hence whose rounding, changes from run to run), `scatter_add`
sorts the positions by destination and lets one thread per destination
element add its sources in increasing position order: the same sequence of
float additions as NumPy's `np.add.at`, every time.

The sort works on one integer key per position, `key = index * count +
position` (negative indices wrapped first): keys are unique, so every correct
sort puts them in the same order, and sorted keys list the positions grouped
by destination (`key // count`) and, within a destination, in increasing
position order (`key % count`). Where the keys are sorted depends on where the
indices are:

- host indices (a `getitem` gradient's offsets, or indices given as a NumPy
  array) are checked and sorted on the host (`np.sort`), where they already
  are, and the sorted keys are copied in: one copy;
- device indices (an `Embedding`'s input batch during `fit`) never leave the
  device: a kernel makes the keys and a bitonic sort orders them (the
  stages within blocks of `SORT_CHUNK` keys in one shared-memory launch; each
  longer stage adds global steps and one more shared-memory launch), with no
  copy in either direction.

Both feed the same segment-sum kernel, so both give the same bits. Range
checks: host indices are checked on the host; device indices by the gather
kernel, which sets a flag that is read back (4 bytes). The gradient of a
gather does not check device indices again (that would be another read-back):
its forward has already rejected out-of-range ones; should one reach
`scatter_add` anyway, it adds nothing rather than writing outside the result.
"""
import numpy as np
from numba import int64

from accel import arrays
from accel.errors import AccelIndexError
from accel.kernels.copy import cast
from accel.kernels.launch import MAX_BLOCKS, SIMULATOR, cuda, grid_1d, run

#: Keys one block sorts in shared memory (with SORT_CHUNK / 2 threads, one
#: compare-exchange each per step): 8 KiB of int64 on a GPU. The simulator,
#: which runs every thread as a Python thread, uses smaller blocks; the sorted
#: result does not depend on it (the keys are unique).
SORT_CHUNK = 64 if SIMULATOR else 1024


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
def _make_keys(keys, idx, count, axis_len, limit):
    # keys[p] = wrapped(idx[p]) * count + p for p < count; `limit` (= axis_len *
    # count, above every valid key) for the padding and for out-of-range indices.
    for p in range(cuda.grid(1), keys.size, cuda.gridsize(1)):
        key = limit
        if p < count:
            k = int64(idx[p])
            if k < 0:
                k += axis_len
            if k >= 0 and k < axis_len:
                key = k * count + p
        keys[p] = key


@cuda.jit(device=True)
def _compare_exchange(keys, i, partner, k, first):
    # Orders keys[i], keys[partner] (i < partner): ascending where the bitonic
    # sequence of size k holding global position `first` is ascending.
    a = keys[i]
    b = keys[partner]
    if (first & k) == 0:
        swap = a > b
    else:
        swap = a < b
    if swap:
        keys[i] = b
        keys[partner] = a


@cuda.jit
def _bitonic_global(keys, j, k):
    # One merge step with partners j >= chunk apart: thread t orders the pair
    # (i, i + j), i = the t-th position whose bit j is clear.
    for t in range(cuda.grid(1), keys.size // 2, cuda.gridsize(1)):
        i = 2 * j * (t // j) + t % j
        _compare_exchange(keys, i, i + j, k, i)


@cuda.jit
def _bitonic_shared(keys, chunk, k_first, k_last):
    # Each block loads `chunk` keys into shared memory and runs the steps with
    # partners closer than `chunk` of the stages k_first, 2 k_first, ..., k_last
    # (blockDim.x == chunk // 2 threads, one pair each per step).
    buf = cuda.shared.array(SORT_CHUNK, int64)
    t = cuda.threadIdx.x
    half = chunk // 2
    for c in range(cuda.blockIdx.x, keys.size // chunk, cuda.gridDim.x):
        base = c * chunk
        buf[t] = keys[base + t]
        buf[t + half] = keys[base + t + half]
        cuda.syncthreads()
        k = k_first
        while k <= k_last:
            j = min(k // 2, half)
            while j > 0:
                i = 2 * j * (t // j) + t % j
                _compare_exchange(buf, i, i + j, k, base + i)
                cuda.syncthreads()
                j //= 2
            k *= 2
        keys[base + t] = buf[t]
        keys[base + t + half] = buf[t + half]
        cuda.syncthreads()


def sort_keys(keys, chunk=SORT_CHUNK):
    """Sorts a device int64 array in place (bitonic sort); its size must be a power of two.

    Stages up to `chunk` keys run in one shared-memory launch; each longer
    stage `k` runs one global launch per step with partners `chunk` or more
    apart, then one shared-memory launch for the rest.

    # Arguments
        keys: 1-D int64 `DeviceArray` of size `2**m`, m >= 1.
        chunk: keys per block, a power of two in `[2, SORT_CHUNK]` (smaller
            values exercise the global steps on small arrays in tests).
    """
    n = keys.size
    if n < 2 or n & (n - 1) or chunk < 2 or chunk & (chunk - 1) or chunk > SORT_CHUNK:
        raise ValueError('sort_keys needs a power-of-two size >= 2 and chunk in [2, %d], got '
                         'size %d and chunk %d' % (SORT_CHUNK, n, chunk))
    chunk = min(chunk, n)
    blocks = min(MAX_BLOCKS, n // chunk)
    run(_bitonic_shared, blocks, chunk // 2, keys.data, chunk, 2, chunk)
    k = 2 * chunk
    while k <= n:
        j = k // 2
        while j >= chunk:
            b, t = grid_1d(n // 2)
            run(_bitonic_global, b, t, keys.data, j, k)
            j //= 2
        run(_bitonic_shared, blocks, chunk // 2, keys.data, chunk, k, k)
        k *= 2
    return keys


def sorted_keys(indices, axis_len, chunk=SORT_CHUNK):
    """The scatter keys `wrapped_index * count + position` of `indices`, sorted.

    # Arguments
        indices: a `DeviceArray` of indices (any shape, integer or float,
            truncated; negatives wrapped), keyed and sorted on the device, or a
            host int64 array already checked and wrapped (`host_indices`),
            sorted on the host and copied in.
        axis_len: the length of the gathered axis.
        chunk: keys per block of the device sort.

    # Returns
        `(keys, count)`: a 1-D int64 `DeviceArray` and the number of indices.
        Device keys are padded to a power of two with keys of at least
        `axis_len * count` (as is the key of an out-of-range device index):
        those name no destination.
    """
    count = int(np.prod(arrays.shape_of(indices), dtype=np.int64))
    if arrays.is_device_array(indices):
        padded = 1 << max(count - 1, 1).bit_length()
        keys = arrays.empty((padded,), np.int64)
        blocks, threads = grid_1d(padded)
        run(_make_keys, blocks, threads, keys.data, indices.data, count, axis_len,
            axis_len * count)
        return sort_keys(keys, chunk), count
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    return arrays.to_device(np.sort(idx * count + np.arange(count, dtype=np.int64))), count


@cuda.jit
def _segment_sum(gx, g, keys, pre, count, axis_len, post, zero):
    # Thread (o, s, q): if sorted position s starts the run of keys with
    # destination d = keys[s] // count, gx[o, d, q] = sum of g[o, keys[r] % count, q]
    # over that run, in increasing position order.
    n = pre * count * post
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        q = j % post
        t = j // post
        s = t % count
        o = t // count
        dest = keys[s] // count
        if dest < axis_len and (s == 0 or keys[s - 1] // count != dest):
            acc = zero
            r = s
            while r < count and keys[r] // count == dest:
                acc += g[(o * count + keys[r] % count) * post + q]
                r += 1
            gx[(o * axis_len + dest) * post + q] = acc


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


def scatter_add(g, indices, x_shape, axis, dtype, primitive='gather', chunk=SORT_CHUNK):
    """Gradient of `gather`: zeros of `x_shape` with `g`'s slices added at `indices`.

    Deterministic, without atomics: each destination slice is the sum of its
    sources in increasing position order (as `np.add.at` adds them), whether
    the indices are on the host or on the device (see the module docstring).

    # Arguments
        g: `DeviceArray` of the gather's output shape.
        indices: the gather's indices: a host array (range checked here) or a
            `DeviceArray` (never copied to the host; the gather's forward has
            checked it).
        x_shape: the gathered array's shape.
        axis: normalised gather axis.
        dtype: the result's dtype.
        chunk: keys per block of the device sort (tests lower it).

    # Raises
        AccelIndexError: for an out-of-range host index.
    """
    axis_len = x_shape[axis]
    pre = int(np.prod(x_shape[:axis], dtype=np.int64))
    post = int(np.prod(x_shape[axis + 1:], dtype=np.int64))
    if not arrays.is_device_array(indices):
        indices = host_indices(indices, axis_len, primitive)
    gx = arrays.zeros(x_shape, dtype)
    if gx.size == 0 or indices.size == 0:
        return gx
    keys, count = sorted_keys(indices, axis_len, chunk)
    if g.dtype != np.dtype(dtype):
        g = cast(g, dtype)
    blocks, threads = grid_1d(pre * count * post)
    run(_segment_sum, blocks, threads, gx.data, g.data, keys.data, pre, count, axis_len, post,
        np.dtype(dtype).type(0))
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

