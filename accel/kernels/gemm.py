"""Batched matrix product: a tiled shared-memory GEMM with register blocking.

Each block computes a `BM x BN` tile of one output matrix. Per step of `BK`
along the contraction axis, the block's 256 threads copy an `BM x BK` tile of
A and a `BK x BN` tile of B into shared memory (zero-filled past the edges, so
sizes need not divide the tiles), then every thread accumulates a `TM x TN`
sub-tile in registers from `TM + TN` shared-memory reads per step: 64 fused
multiply-adds per 16 loads. A thread's outputs are strided by the thread
grid's width (`ty + i * 16`, `tx + j * 16`), so a warp's shared-memory reads
are broadcasts or consecutive words, and its stores to C are coalesced.

Operands are strided views: `(base, batch strides, row stride, column stride)`,
so a transposed operand (`A^T` in the gradients) is read in place, and a
broadcast batch axis has stride 0. The tile load follows whichever axis of the
operand is contiguous, and shared-memory rows are padded by 4 words to keep
both load patterns free of bank conflicts.

Each output element is the sum over k in increasing order, one fused
multiply-add at a time: the result does not depend on the launch, so it is
deterministic. Accumulation is in the output dtype (float32 for float32).
"""
import numpy as np

from accel import arrays
from accel.arrays import contiguous_strides
from accel.kernels.copy import fill
from accel.kernels.launch import MAX_BLOCKS, cuda, kernel_factory, numba_type, run

from accel.kernels.launch import SIMULATOR  # noqa: E402

if not SIMULATOR:
    BM = 128   # rows of C per block
    BN = 128   # columns of C per block
    BK = 8     # contraction step held in shared memory
    TM = 8     # rows of C per thread (registers)
    TN = 8     # columns of C per thread (registers)
else:
    # The same kernel with 16 threads of 2 x 2 outputs instead of 256 threads of
    # 8 x 8: the simulator runs every thread as a Python thread. Each output is
    # still the k-ordered chain of fused multiply-adds, so results are the same
    # bits, and small test matrices now span several tiles.
    BM, BN, BK, TM, TN = 8, 8, 8, 2, 2
TX = BN // TN   # threads along columns (16)
TY = BM // TM   # threads along rows (16)
THREADS = TX * TY
A_LOADS = BM * BK // THREADS   # elements of the A tile each thread loads
B_LOADS = BK * BN // THREADS
PAD = 4
A_TILE_SHAPE = (BK, BM + PAD)   # shared-memory tiles, rows padded by PAD words
B_TILE_SHAPE = (BK, BN + PAD)
MAX_GRID_Z = MAX_BLOCKS  # batch matrices beyond it are looped over


@kernel_factory
def _gemm_kernel(dtype):
    elem = numba_type(dtype)
    zero = np.dtype(dtype).type(0)

    @cuda.jit
    def gemm(c, a, b, M, N, K, batch, batch_shape, a_batch, b_batch, a_base, b_base,
             a_row, a_col, b_row, b_col):
        a_tile = cuda.shared.array(A_TILE_SHAPE, elem)
        b_tile = cuda.shared.array(B_TILE_SHAPE, elem)
        acc = cuda.local.array((TM, TN), elem)
        a_frag = cuda.local.array(TM, elem)
        b_frag = cuda.local.array(TN, elem)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * TX + tx
        row0 = cuda.blockIdx.y * BM
        col0 = cuda.blockIdx.x * BN
        a_k_contiguous = a_col == 1
        b_n_contiguous = b_col == 1
        for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
            a_off = a_base
            b_off = b_base
            rest = z
            for d in range(len(batch_shape) - 1, -1, -1):
                coord = rest % batch_shape[d]
                rest //= batch_shape[d]
                a_off += coord * a_batch[d]
                b_off += coord * b_batch[d]
            for i in range(TM):
                for j in range(TN):
                    acc[i, j] = zero
            for k0 in range(0, K, BK):
                for step in range(A_LOADS):
                    e = tid + step * THREADS
                    if a_k_contiguous:
                        kk = e % BK
                        mm = e // BK
                    else:
                        mm = e % BM
                        kk = e // BM
                    gm = row0 + mm
                    gk = k0 + kk
                    if gm < M and gk < K:
                        a_tile[kk, mm] = a[a_off + gm * a_row + gk * a_col]
                    else:
                        a_tile[kk, mm] = zero
                for step in range(B_LOADS):
                    e = tid + step * THREADS
                    if b_n_contiguous:
                        nn = e % BN
                        kk = e // BN
                    else:
                        kk = e % BK
                        nn = e // BK
                    gk = k0 + kk
                    gn = col0 + nn
                    if gk < K and gn < N:
                        b_tile[kk, nn] = b[b_off + gk * b_row + gn * b_col]
                    else:
                        b_tile[kk, nn] = zero
                cuda.syncthreads()
                for kk in range(BK):
                    for i in range(TM):
                        a_frag[i] = a_tile[kk, ty + i * TY]
                    for j in range(TN):
                        b_frag[j] = b_tile[kk, tx + j * TX]
                    for i in range(TM):
                        for j in range(TN):
                            acc[i, j] += a_frag[i] * b_frag[j]
                cuda.syncthreads()
            c_off = z * M * N
            for i in range(TM):
                r = row0 + ty + i * TY
                if r < M:
                    for j in range(TN):
                        col = col0 + tx + j * TX
                        if col < N:
                            c[c_off + r * N + col] = acc[i, j]
    return gemm


class MatrixView(object):
    """A batch of matrices inside a `DeviceArray`'s buffer.

    # Arguments
        array: the `DeviceArray`.
        rows, cols: the matrix shape as seen by the product.
        row_stride, col_stride: element strides along the matrix axes.
        batch_strides: element strides along the output's batch axes (0 where
            this operand is broadcast), one per batch axis.
        base: element offset of the first matrix.
    """

    def __init__(self, array, rows, cols, row_stride, col_stride, batch_strides, base=0):
        self.array = array
        self.rows = int(rows)
        self.cols = int(cols)
        self.row_stride = int(row_stride)
        self.col_stride = int(col_stride)
        self.batch_strides = tuple(int(s) for s in batch_strides)
        self.base = int(base)

    def transposed(self):
        return MatrixView(self.array, self.cols, self.rows, self.col_stride, self.row_stride,
                          self.batch_strides, self.base)


def matrix_view(x, batch_shape):
    """Views a contiguous `(..., R, C)` array as a batch of `R x C` matrices
    broadcast to `batch_shape`."""
    strides = contiguous_strides(x.shape)
    own_batch = x.shape[:-2]
    lead = len(batch_shape) - len(own_batch)
    batch_strides = [0] * lead + [0 if n == 1 else s
                                  for n, s in zip(own_batch, strides[:-2])]
    return MatrixView(x, x.shape[-2], x.shape[-1], strides[-2], strides[-1], batch_strides)


def gemm(a, b, batch_shape, out_dtype, out=None):
    """`C[z] = A[z] @ B[z]` for every batch index z of `batch_shape`.

    # Arguments
        a, b: `MatrixView`s (`a.cols == b.rows`), with dtype `out_dtype`.
        batch_shape: the output's batch axes.
        out_dtype: dtype of C (and of the accumulation).
        out: optional `DeviceArray` to write C into (contiguous, of C's size).

    # Returns
        `out`, or a new `DeviceArray` of shape `batch_shape + (a.rows, b.cols)`.
    """
    M, K, N = a.rows, a.cols, b.cols
    batch_shape = tuple(int(s) for s in batch_shape)
    if out is None:
        out = arrays.empty(batch_shape + (M, N), out_dtype)
    if out.size == 0:
        return out
    if K == 0:
        return fill(out, 0)
    batch = int(np.prod(batch_shape, dtype=np.int64))
    kernel_batch = batch_shape or (1,)
    a_batch = a.batch_strides or (0,)
    b_batch = b.batch_strides or (0,)
    grid = ((N + BN - 1) // BN, (M + BM - 1) // BM, min(batch, MAX_GRID_Z))
    run(_gemm_kernel(np.dtype(out_dtype)), grid, (TX, TY), out.data, a.array.data, b.array.data,
        M, N, K, batch, kernel_batch, a_batch, b_batch, a.base, b.base,
        a.row_stride, a.col_stride, b.row_stride, b.col_stride)
    return out
