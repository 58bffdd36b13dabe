"""Reductions without atomics: sums, products, extrema, any/all, arg-extrema, scans.

Every reduction is first put in a canonical form `(outer, R, inner)`: size-1
axes are dropped, neighbouring axes that are both reduced (or both kept) are
merged, and when the reduced axes still do not form one block the input is
transposed (copied) so that they do. Then:

- `inner == 1` (reducing trailing axes: rows): one block per row; thread `t`
  combines elements `t, t + T, t + 2T, ...` in order, then the block combines
  the `T` partial results in a fixed binary tree in shared memory.
- `inner > 1` (reducing leading or middle axes: columns): one thread per
  output element walks `R` in order; neighbouring threads read neighbouring
  addresses.

Long reductions with few outputs are split into chunks reduced the same way,
then the chunk results are reduced again. Block sizes and chunking depend only
on the shapes, never on timing, and nothing is accumulated with atomics, so a
reduction gives the same bits every time it runs on the same device.

A reduction may apply a *premap* to each element first, with a per-output
*shift* operand: `sumexp` sums `exp(x - shift)` (for logsumexp) and
`count_equal` counts `x == shift` (for the gradient of max and min).
"""
import math

import numpy as np
from numba import int64

from accel import arrays
from accel.errors import AccelShapeError
from accel.kernels.copy import transpose
from accel.kernels.copy import cast
from accel.kernels.launch import (MAX_BLOCKS, SIMULATOR, cuda, grid_1d, kernel_factory, next_pow2,
                                  numba_type, run)
from accel.kernels.scalar import safe_exp

#: Threads per block of the row kernels (the largest tree). The simulator, which
#: runs each thread as a Python thread, uses 32: a different (still fixed) order.
ROW_THREADS = 32 if SIMULATOR else 256
#: Rows longer than this are split into chunks when there are few rows.
ROW_CHUNK = 4096
#: Column reductions longer than this are split into chunks when there are few columns.
COLUMN_CHUNK = 256
#: "Few outputs": fewer than this many rows or columns leave the GPU idle.
FEW_OUTPUTS = 2048


# --- combining functions and premaps ----------------------------------------

@cuda.jit(device=True)
def _add(a, b):
    return a + b


@cuda.jit(device=True)
def _mul(a, b):
    return a * b


@cuda.jit(device=True)
def _max(a, b):
    if a >= b or a != a:
        return a
    return b


@cuda.jit(device=True)
def _min(a, b):
    if a <= b or a != a:
        return a
    return b


@cuda.jit(device=True)
def _take(v, s):
    return v


@cuda.jit(device=True)
def _nonzero(v, s):
    if v != 0:
        return 1
    return 0


@cuda.jit(device=True)
def _exp_shifted(v, s):
    if math.isinf(s) or math.isnan(s):
        return safe_exp(v)
    return safe_exp(v - s)


@cuda.jit(device=True)
def _is_equal(v, s):
    if v == s:
        return 1
    return 0


#: op -> (combine, premap, uses shift, identity, op of the second (chunk) pass)
_OPS = {
    'sum': (_add, _take, False, 'zero', 'sum'),
    'prod': (_mul, _take, False, 'one', 'prod'),
    'max': (_max, _take, False, 'lowest', 'max'),
    'min': (_min, _take, False, 'highest', 'min'),
    'any': (_max, _nonzero, False, 'zero', 'max'),
    'all': (_min, _nonzero, False, 'one', 'min'),
    'sumexp': (_add, _exp_shifted, True, 'zero', 'sum'),
    'count_equal': (_add, _is_equal, True, 'zero', 'sum'),
}


def _identity(kind, dtype):
    dt = np.dtype(dtype)
    if kind == 'zero':
        return dt.type(0)
    if kind == 'one':
        return dt.type(1)
    if dt.kind == 'f':
        return dt.type(-np.inf if kind == 'lowest' else np.inf)
    if dt.kind == 'b':
        return dt.type(kind == 'highest')
    info = np.iinfo(dt)
    return dt.type(info.min if kind == 'lowest' else info.max)


@kernel_factory
def _row_kernel(op, acc_dtype):
    combine, premap, uses_shift, ident_kind, _ = _OPS[op]
    ident = _identity(ident_kind, acc_dtype)
    cast = np.dtype(acc_dtype).type
    acc_type = numba_type(acc_dtype)

    @cuda.jit
    def reduce_rows(out, x, shift, rows, length, chunk, chunks, divisor, divide):
        # Block b reduces chunk (b % chunks) of row (b // chunks).
        buf = cuda.shared.array(ROW_THREADS, acc_type)
        t = cuda.threadIdx.x
        width = cuda.blockDim.x
        for b in range(cuda.blockIdx.x, rows * chunks, cuda.gridDim.x):
            row = b // chunks
            lo = (b % chunks) * chunk
            hi = min(length, lo + chunk)
            s = row if uses_shift else 0
            acc = ident
            for r in range(lo + t, hi, width):
                acc = combine(acc, cast(premap(x[row * length + r], shift[s])))
            buf[t] = acc
            cuda.syncthreads()
            half = width // 2
            while half > 0:
                if t < half:
                    buf[t] = combine(buf[t], buf[t + half])
                cuda.syncthreads()
                half //= 2
            if t == 0:
                if divide:
                    out[b] = buf[0] / divisor
                else:
                    out[b] = buf[0]
            cuda.syncthreads()
    return reduce_rows


@kernel_factory
def _column_kernel(op, acc_dtype):
    combine, premap, uses_shift, ident_kind, _ = _OPS[op]
    ident = _identity(ident_kind, acc_dtype)
    cast = np.dtype(acc_dtype).type

    @cuda.jit
    def reduce_columns(out, x, shift, outer, length, inner, chunk, chunks, divisor, divide):
        # Output element j = ((o * chunks) + c) * inner + i reduces
        # x[o, c*chunk : (c+1)*chunk, i] in order.
        n = outer * chunks * inner
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            i = j % inner
            oc = j // inner
            c = oc % chunks
            o = oc // chunks
            lo = c * chunk
            hi = min(length, lo + chunk)
            s = o * inner + i if uses_shift else 0
            base = o * length * inner + i
            acc = ident
            for r in range(lo, hi):
                acc = combine(acc, cast(premap(x[base + r * inner], shift[s])))
            if divide:
                out[j] = acc / divisor
            else:
                out[j] = acc
    return reduce_columns


# --- canonical form ---------------------------------------------------------

def normalize_axes(axis, ndim, primitive='reduction'):
    """A sorted tuple of distinct non-negative axes (all axes for None).

    # Raises
        AccelShapeError: for an axis out of range or repeated.
    """
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (list, tuple)) else (axis,)
    out = []
    for a in items:
        a = int(a)
        if not -ndim <= a < ndim:
            raise AccelShapeError('primitive %r: axis %d is out of range for an array of rank %d'
                                  % (primitive, a, ndim))
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise AccelShapeError('primitive %r: repeated axis in %r' % (primitive, axis))
    return tuple(sorted(out))


_CANONICAL_PATTERNS = ((), (False,), (True,), (False, True), (True, False), (False, True, False))


def _runs(shape, axes):
    """Runs of neighbouring axes (size-1 axes dropped): `[(reduced?, size), ...]`."""
    runs = []
    for d, n in enumerate(shape):
        if n == 1:
            continue
        flag = d in axes
        if runs and runs[-1][0] == flag:
            runs[-1] = (flag, runs[-1][1] * n)
        else:
            runs.append((flag, n))
    return runs


def canonical_is_view(x, axes):
    """Whether `canonical` uses `x` as it is (no transposition)."""
    return tuple(flag for flag, _ in _runs(x.shape, set(axes))) in _CANONICAL_PATTERNS


def canonical(x, axes):
    """Puts `x` in `(outer, R, inner)` form for reducing `axes`.

    # Returns
        `(x2, outer, R, inner)`, where `x2` is `x` or a transposed copy of it
        whose reduced elements of each output are contiguous.
    """
    runs = _runs(x.shape, set(axes))
    pattern = tuple(flag for flag, _ in runs)
    sizes = [n for _, n in runs]
    if pattern in ((), (False,)):
        return x, (sizes[0] if sizes else 1), 1, 1
    if pattern == (True,):
        return x, 1, sizes[0], 1
    if pattern == (False, True):
        return x, sizes[0], sizes[1], 1
    if pattern == (True, False):
        return x, 1, sizes[0], sizes[1]
    if pattern == (False, True, False):
        return x, sizes[0], sizes[1], sizes[2]
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = transpose(x, kept + sorted(axes))
    outer = int(np.prod([x.shape[d] for d in kept], dtype=np.int64))
    return moved, outer, x.size // max(outer, 1), 1


def reduced_shape(shape, axes, keepdims):
    """The output shape of reducing `axes` of `shape`."""
    if keepdims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _launch_rows(op, acc_dtype, out, x, shift, rows, length, divisor):
    chunks = 1
    if rows < FEW_OUTPUTS and length > 2 * ROW_CHUNK:
        chunks = min((length + ROW_CHUNK - 1) // ROW_CHUNK, 1024)
    chunk = (length + chunks - 1) // chunks
    divide = divisor is not None
    div = acc_dtype.type(divisor if divide else 1)
    if chunks == 1:
        threads = next_pow2(length, ROW_THREADS)
        run(_row_kernel(op, acc_dtype), min(rows, MAX_BLOCKS), threads, out.data, x.data,
            shift.data, rows, length, chunk, 1, div, divide)
        return out
    partial = arrays.empty((rows, chunks), acc_dtype)
    run(_row_kernel(op, acc_dtype), min(rows * chunks, MAX_BLOCKS), ROW_THREADS, partial.data,
        x.data, shift.data, rows, length, chunk, chunks, acc_dtype.type(1), False)
    return _launch_rows(_OPS[op][4], acc_dtype, out, partial, shift, rows, chunks, divisor)


def _launch_columns(op, acc_dtype, out, x, shift, outer, length, inner, divisor):
    chunks = 1
    if outer * inner < FEW_OUTPUTS and length > 2 * COLUMN_CHUNK:
        chunks = min((length + COLUMN_CHUNK - 1) // COLUMN_CHUNK,
                     max(1, (4 * FEW_OUTPUTS) // (outer * inner)))
    chunk = (length + chunks - 1) // chunks
    divide = divisor is not None
    if chunks == 1:
        n = outer * inner
        blocks, threads = grid_1d(n)
        run(_column_kernel(op, acc_dtype), blocks, threads, out.data, x.data, shift.data,
            outer, length, inner, chunk, 1, acc_dtype.type(divisor if divide else 1), divide)
        return out
    partial = arrays.empty((outer, chunks, inner), acc_dtype)
    blocks, threads = grid_1d(outer * chunks * inner)
    run(_column_kernel(op, acc_dtype), blocks, threads, partial.data, x.data, shift.data,
        outer, length, inner, chunk, chunks, acc_dtype.type(1), False)
    return _launch_columns(_OPS[op][4], acc_dtype, out, partial, shift, outer, chunks, inner,
                           divisor)


def reduce(x, axes, op, out_dtype, acc_dtype=None, shift=None, divisor=None,
           primitive='reduction'):
    """Reduces the `DeviceArray` `x` over `axes` (a normalised tuple).

    # Arguments
        x: input.
        axes: sorted tuple of distinct axes (see `normalize_axes`).
        op: 'sum', 'prod', 'max', 'min', 'any', 'all', 'sumexp' or 'count_equal'.
        out_dtype: dtype of the result.
        acc_dtype: dtype of the accumulator (default `out_dtype`; int32 for any/all).
        shift: for 'sumexp' and 'count_equal', a `DeviceArray` with one value per
            output element (C order of the kept axes).
        divisor: if given, each result is divided by it (mean), in the
            accumulator's dtype.

    # Returns
        A `DeviceArray` of the reduced shape without kept dimensions.
    """
    out_dtype = np.dtype(out_dtype)
    if acc_dtype is None:
        acc_dtype = np.dtype(np.int32) if op in ('any', 'all') else out_dtype
    acc_dtype = np.dtype(acc_dtype)
    shape = reduced_shape(x.shape, axes, False)
    n_out = int(np.prod(shape, dtype=np.int64))
    if n_out == 0:
        return arrays.empty(shape, out_dtype)
    if x.size == 0:
        if op in ('max', 'min'):
            raise AccelShapeError('primitive %r: zero-size array to reduction operation %s, '
                                  'which has no identity (shape %s, axes %s)'
                                  % (primitive, op, x.shape, axes))
        value = {'prod': 1, 'all': True}.get(op, 0)
        if divisor is not None:
            value = np.nan
        return arrays.full(shape, value, out_dtype)
    uses_shift = _OPS[op][2]
    if uses_shift:
        if shift is None or shift.size != n_out:
            raise ValueError('reduction %r needs a shift with one value per output' % op)
    else:
        shift = arrays.scalar_constant(0, acc_dtype)
    src, outer, length, inner = canonical(x, axes)
    out = arrays.empty(shape, out_dtype)
    if inner == 1:
        _launch_rows(op, acc_dtype, out, src, shift, outer, length, divisor)
    else:
        _launch_columns(op, acc_dtype, out, src, shift, outer, length, inner, divisor)
    return out


# --- arg-extrema ----------------------------------------------------------------

@cuda.jit(device=True)
def _beats(v, i, w, j, want_max):
    """Whether candidate (v, i) beats (w, j): NaN first, then extremum, then lower index."""
    if v != v:
        return w == w or i < j
    if w != w:
        return False
    if v == w:
        return i < j
    if want_max:
        return v > w
    return v < w


@kernel_factory
def _arg_row_kernel(dtype, want_max):
    val_type = numba_type(dtype)

    @cuda.jit
    def arg_rows(out, x, rows, length):
        vals = cuda.shared.array(ROW_THREADS, val_type)
        idxs = cuda.shared.array(ROW_THREADS, int64)
        t = cuda.threadIdx.x
        width = cuda.blockDim.x
        for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
            best_i = -1
            best_v = x[row * length]
            for r in range(t, length, width):
                v = x[row * length + r]
                if best_i < 0 or _beats(v, r, best_v, best_i, want_max):
                    best_v = v
                    best_i = r
            vals[t] = best_v
            idxs[t] = best_i
            cuda.syncthreads()
            half = width // 2
            while half > 0:
                if t < half and idxs[t + half] >= 0:
                    if idxs[t] < 0 or _beats(vals[t + half], idxs[t + half], vals[t], idxs[t],
                                             want_max):
                        vals[t] = vals[t + half]
                        idxs[t] = idxs[t + half]
                cuda.syncthreads()
                half //= 2
            if t == 0:
                out[row] = idxs[0]
            cuda.syncthreads()
    return arg_rows


@kernel_factory
def _arg_column_kernel(want_max):
    @cuda.jit
    def arg_columns(out, x, outer, length, inner):
        n = outer * inner
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            i = j % inner
            o = j // inner
            base = o * length * inner + i
            best_v = x[base]
            best_i = 0
            for r in range(1, length):
                v = x[base + r * inner]
                if _beats(v, r, best_v, best_i, want_max):
                    best_v = v
                    best_i = r
            out[j] = best_i
    return arg_columns


def arg_extremum(x, axis, want_max, primitive):
    """Index of the first maximum (or minimum) along one axis, or of the flattened array.

    NaN counts as the extremum, as in NumPy.
    """
    if axis is None:
        src, shape, outer, length, inner = x, (), 1, x.size, 1
    else:
        (ax,) = normalize_axes(axis, x.ndim, primitive)
        shape = reduced_shape(x.shape, (ax,), False)
        length = x.shape[ax]
        outer = int(np.prod(x.shape[:ax], dtype=np.int64))
        inner = int(np.prod(x.shape[ax + 1:], dtype=np.int64))
        src = x
    out = arrays.empty(shape, np.intp)
    if out.size == 0:
        return out
    if length == 0:
        raise AccelShapeError('primitive %r: attempt to get %s of an empty sequence (shape %s)'
                              % (primitive, 'argmax' if want_max else 'argmin', x.shape))
    if inner == 1:
        run(_arg_row_kernel(x.dtype, want_max), min(outer, MAX_BLOCKS),
            next_pow2(length, ROW_THREADS), out.data, src.data, outer, length)
    else:
        blocks, threads = grid_1d(outer * inner)
        run(_arg_column_kernel(want_max), blocks, threads, out.data, src.data, outer, length,
            inner)
    return out


# --- scans ------------------------------------------------------------------------

@cuda.jit
def _cumsum_columns(out, x, outer, length, inner, reverse, zero):
    n = outer * inner
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        i = j % inner
        o = j // inner
        base = o * length * inner + i
        acc = zero
        for k in range(length):
            r = length - 1 - k if reverse else k
            acc += x[base + r * inner]
            out[base + r * inner] = acc


def cumsum(x, axis, out_dtype, reverse=False):
    """Cumulative sum along `axis` (sequential per line: the order NumPy uses).

    `axis=None` scans the flattened array. `reverse` scans from the end.
    """
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    (ax,) = normalize_axes(axis, x.ndim, 'cumsum')
    out = arrays.empty(x.shape, out_dtype)
    if x.size == 0:
        return out
    length = x.shape[ax]
    outer = int(np.prod(x.shape[:ax], dtype=np.int64))
    inner = int(np.prod(x.shape[ax + 1:], dtype=np.int64))
    blocks, threads = grid_1d(outer * inner)
    run(_cumsum_columns, blocks, threads, out.data, x.data, outer, length, inner, bool(reverse),
        out.dtype.type(0))
    return out


@cuda.jit
def _cumprod_columns(out, x, outer, length, inner, one):
    n = outer * inner
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        i = j % inner
        o = j // inner
        base = o * length * inner + i
        acc = one
        for k in range(length):
            acc = acc * x[base + k * inner]
            out[base + k * inner] = acc


def cumprod(x, axis, out_dtype):
    """Cumulative product along `axis` (sequential per line, as NumPy).

    `axis=None` scans the flattened array.
    """
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    (ax,) = normalize_axes(axis, x.ndim, 'cumprod')
    out = arrays.empty(x.shape, out_dtype)
    if x.size == 0:
        return out
    if x.dtype != out_dtype:
        x = cast(x, out_dtype)
    length = x.shape[ax]
    outer = int(np.prod(x.shape[:ax], dtype=np.int64))
    inner = int(np.prod(x.shape[ax + 1:], dtype=np.int64))
    blocks, threads = grid_1d(outer * inner)
    run(_cumprod_columns, blocks, threads, out.data, x.data, outer, length, inner,
        out.dtype.type(1))
    return out


@cuda.jit
def _cumprod_grad_columns(out, x, g, outer, length, inner, zero, one):
    # out[r] = sum_{j >= r} g[j] * prod(x[:r]) * prod(x[r+1 : j+1]): the product
    # of out[j]'s factors without x[r], never dividing by x[r] (zeros allowed).
    n = outer * inner
    for t in range(cuda.grid(1), n, cuda.gridsize(1)):
        i = t % inner
        o = t // inner
        base = o * length * inner + i
        before = one
        for r in range(length):
            acc = zero
            partial = one
            for j in range(r, length):
                if j > r:
                    partial = partial * x[base + j * inner]
                acc += g[base + j * inner] * partial
            out[base + r * inner] = before * acc
            before = before * x[base + r * inner]


def cumprod_grad(x, g, axis):
    """Gradient of `cumprod(x, axis)` for the upstream gradient `g` (x's shape)."""
    shape = x.shape
    if axis is None:
        x, g, axis = x.reshape(-1), g.reshape(-1), 0
    (ax,) = normalize_axes(axis, x.ndim, 'cumprod')
    out_dtype = np.result_type(x.dtype, g.dtype)
    result = arrays.empty(x.shape, out_dtype)
    if x.size == 0:
        return result.reshape(shape)
    if x.dtype != out_dtype:
        x = cast(x, out_dtype)
    if g.dtype != out_dtype:
        g = cast(g, out_dtype)
    length = x.shape[ax]
    outer = int(np.prod(x.shape[:ax], dtype=np.int64))
    inner = int(np.prod(x.shape[ax + 1:], dtype=np.int64))
    blocks, threads = grid_1d(outer * inner)
    run(_cumprod_grad_columns, blocks, threads, result.data, x.data, g.data, outer, length,
        inner, out_dtype.type(0), out_dtype.type(1))
    return result.reshape(shape)


@cuda.jit
def _prod_grad_columns(out, x, g, outer, length, inner, one):
    # out[r] = (prod_{k<r} x[k] * prod_{k>r} x[k]) * g, without dividing by x.
    n = outer * inner
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        i = j % inner
        o = j // inner
        base = o * length * inner + i
        left = one
        for r in range(length):
            out[base + r * inner] = left
            left = left * x[base + r * inner]
        right = one
        gv = g[j]
        for k in range(length):
            r = length - 1 - k
            out[base + r * inner] = (out[base + r * inner] * right) * gv
            right = right * x[base + r * inner]


def prod_grad(x, g, axes):
    """Gradient of a product over `axes`: the product of all other elements times g.

    # Arguments
        x: the product's input.
        g: upstream gradient, one value per output (any shape of that size).
        axes: normalised reduced axes.
    """
    out_dtype = np.result_type(x.dtype, g.dtype)
    if x.size == 0:
        return arrays.empty(x.shape, out_dtype)
    src, outer, length, inner = canonical(x, axes)
    if src.dtype != out_dtype:
        src = cast(src, out_dtype)
    result = arrays.empty(src.shape, out_dtype)
    blocks, threads = grid_1d(outer * inner)
    run(_prod_grad_columns, blocks, threads, result.data, src.data, g.data, outer, length, inner,
        out_dtype.type(1))
    if canonical_is_view(x, axes):
        return result.reshape(x.shape)
    # undo the transposition that `canonical` made
    kept = [d for d in range(x.ndim) if d not in axes]
    order = kept + list(axes)
    moved_shape = tuple(x.shape[d] for d in order)
    return transpose(result.reshape(moved_shape), tuple(int(i) for i in np.argsort(order)))


__all__ = ['reduce', 'normalize_axes', 'reduced_shape', 'canonical', 'arg_extremum', 'cumsum',
           'cumprod', 'cumprod_grad', 'prod_grad']
