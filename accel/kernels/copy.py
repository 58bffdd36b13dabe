"""Data movement: fill, cast, strided copies and a tiled transpose.

Every shape primitive (transpose, slicing, pad, concatenate, tile, repeat,
broadcast) is a strided copy: thread `i` takes the `i`-th element of an
iteration shape in C order and copies it from `src_base + coords . src_strides`
to `dst_base + coords . dst_strides`. Axes that are contiguous on both sides
are merged first. Transposes that swap two blocks of axes (`(B, R, C)` to
`(B, C, R)`, which includes every matrix transpose) go through 32x32 tiles in
shared memory instead, so that both the reads and the writes are coalesced.
"""
import numpy as np

from accel import arrays
from accel.arrays import contiguous_strides
from accel.kernels.launch import (MAX_BLOCKS, coalesce, cuda, grid_1d, kernel_factory,
                                  numba_type, run,
                                  strided_offset)
from accel.kernels.launch import broadcast_strides

TILE = 32
TILE_ROWS = 8  # threads per tile column: each thread moves TILE / TILE_ROWS elements
TILE_SHAPE = (TILE, TILE + 1)  # shared-memory tile, rows padded by one word: no bank conflicts


@cuda.jit
def _fill(out, n, value):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[i] = value


@cuda.jit
def _strided_copy(dst, dst_base, dst_strides, src, src_base, src_strides, n, shape):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        dst[dst_base + strided_offset(i, shape, dst_strides)] = \
            src[src_base + strided_offset(i, shape, src_strides)]


@kernel_factory
def _tiled_transpose(dtype):
    elem = numba_type(dtype)

    @cuda.jit
    def transpose_tiles(out, x, batch, rows, cols):
        # x is (batch, rows, cols), out is (batch, cols, rows); one block per tile.
        tile = cuda.shared.array(TILE_SHAPE, elem)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        c0 = cuda.blockIdx.x * TILE
        r0 = cuda.blockIdx.y * TILE
        for b in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
            base = b * rows * cols
            for j in range(ty, TILE, TILE_ROWS):
                r = r0 + j
                c = c0 + tx
                if r < rows and c < cols:
                    tile[j, tx] = x[base + r * cols + c]
            cuda.syncthreads()
            for j in range(ty, TILE, TILE_ROWS):
                c = c0 + j
                r = r0 + tx
                if c < cols and r < rows:
                    out[base + c * rows + r] = tile[tx, j]
            cuda.syncthreads()
    return transpose_tiles


def fill(out, value):
    """Sets every element of the `DeviceArray` `out` to `value`."""
    n = out.size
    if n == 0:
        return out
    blocks, threads = grid_1d(n)
    run(_fill, blocks, threads, out.data, n, out.dtype.type(value))
    return out


def copy_strided(src, shape, src_strides, src_base=0, out=None, out_dtype=None,
                 dst_strides=None, dst_base=0):
    """Copies a strided view of `src` into `out` (a new contiguous array by default).

    # Arguments
        src: the `DeviceArray` to read.
        shape: iteration shape (the view's shape).
        src_strides: element strides of the view into `src`'s buffer (may be 0 or negative).
        src_base: element offset of the view's first element.
        out: `DeviceArray` to write into; default a new array of `shape`.
        out_dtype: dtype of a new `out` (default `src.dtype`); conversion as by a C cast.
        dst_strides: strides of the destination view in `out` (default contiguous).
        dst_base: element offset of the destination view.

    # Returns
        `out`.
    """
    shape = tuple(int(s) for s in shape)
    if out is None:
        out = arrays.empty(shape, out_dtype or src.dtype)
    if dst_strides is None:
        dst_strides = contiguous_strides(shape)
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return out
    iter_shape, (dst_s, src_s) = coalesce(shape, tuple(dst_strides), tuple(src_strides))
    blocks, threads = grid_1d(n)
    run(_strided_copy, blocks, threads, out.data, int(dst_base), dst_s, src.data, int(src_base),
        src_s, n, iter_shape)
    return out


def cast(x, dtype):
    """A copy of `x` converted to `dtype` (C conversion rules: floats truncate to ints)."""
    dtype = arrays.check_dtype(dtype, 'cast', [x.shape])
    return copy_strided(x, x.shape, contiguous_strides(x.shape), out_dtype=dtype)


def broadcast_to(x, shape):
    """`x` broadcast to `shape`, materialised as a new contiguous array."""
    return copy_strided(x, shape, broadcast_strides(x.shape, shape))


def transpose(x, axes):
    """`np.transpose(x, axes)` as a new contiguous array.

    Uses shared-memory tiles when the permutation is a swap of two blocks of
    axes with both sides at least a tile wide, a strided copy otherwise.
    """
    axes = tuple(int(a) for a in axes)
    out_shape = tuple(x.shape[a] for a in axes)
    in_strides = contiguous_strides(x.shape)
    src_strides = tuple(in_strides[a] for a in axes)
    n = x.size
    if n == 0:
        return arrays.empty(out_shape, x.dtype)
    shape, (dst_s, src_s) = coalesce(out_shape, contiguous_strides(out_shape), src_strides)
    batch = rows = cols = None
    if len(shape) == 2 and src_s == (1, shape[0]):
        batch, rows, cols = 1, shape[1], shape[0]
    elif len(shape) == 3 and src_s == (shape[1] * shape[2], 1, shape[1]):
        batch, rows, cols = shape[0], shape[2], shape[1]
    if batch is not None and rows >= TILE // 2 and cols >= TILE // 2:
        out = arrays.empty(out_shape, x.dtype)
        grid = ((cols + TILE - 1) // TILE, (rows + TILE - 1) // TILE, min(batch, MAX_BLOCKS))
        run(_tiled_transpose(x.dtype), grid, (TILE, TILE_ROWS), out.data, x.data, batch, rows, cols)
        return out
    return copy_strided(x, out_shape, src_strides)
