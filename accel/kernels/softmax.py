"""Softmax along one axis, and its gradient, one launch each.

With the softmax axis last (`inner == 1`, the usual case) one block handles a
row: a tree maximum, a tree sum of `exp(x - max)` (written to the output on the
way), then a scaling pass. With the axis elsewhere, one thread per output line
walks the axis three times; neighbouring threads read neighbouring addresses.
Reduction orders are fixed, so results are deterministic.
"""
import numpy as np

from accel import arrays
from accel.kernels.copy import cast
from accel.kernels.launch import (MAX_BLOCKS, cuda, grid_1d, kernel_factory, next_pow2,
                                  numba_type, run)
from accel.kernels.reduce import ROW_THREADS, _add, _max, normalize_axes
from accel.kernels.scalar import safe_exp


@cuda.jit(device=True)
def _tree(buf, t, width, use_max):
    """Combines buf[0:width] into buf[0] (fixed order); every thread must call it."""
    cuda.syncthreads()
    half = width // 2
    while half > 0:
        if t < half:
            if use_max:
                buf[t] = _max(buf[t], buf[t + half])
            else:
                buf[t] = _add(buf[t], buf[t + half])
        cuda.syncthreads()
        half //= 2


@kernel_factory
def _softmax_rows(dtype):
    elem = numba_type(dtype)
    cast = np.dtype(dtype).type
    lowest = cast(-np.inf)
    zero = cast(0)

    @cuda.jit
    def softmax_rows(out, x, rows, length):
        buf = cuda.shared.array(ROW_THREADS, elem)
        t = cuda.threadIdx.x
        width = cuda.blockDim.x
        for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
            base = row * length
            m = lowest
            for r in range(t, length, width):
                m = _max(m, x[base + r])
            buf[t] = m
            _tree(buf, t, width, True)
            m = buf[0]
            cuda.syncthreads()
            s = zero
            for r in range(t, length, width):
                e = cast(safe_exp(x[base + r] - m))
                out[base + r] = e
                s += e
            buf[t] = s
            _tree(buf, t, width, False)
            total = buf[0]
            cuda.syncthreads()
            for r in range(t, length, width):
                out[base + r] = out[base + r] / total
    return softmax_rows


@kernel_factory
def _softmax_columns(dtype):
    cast = np.dtype(dtype).type
    lowest = cast(-np.inf)
    zero = cast(0)

    @cuda.jit
    def softmax_columns(out, x, outer, length, inner):
        for j in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
            i = j % inner
            base = (j // inner) * length * inner + i
            m = lowest
            for r in range(length):
                m = _max(m, x[base + r * inner])
            s = zero
            for r in range(length):
                e = cast(safe_exp(x[base + r * inner] - m))
                out[base + r * inner] = e
                s += e
            for r in range(length):
                out[base + r * inner] = out[base + r * inner] / s
    return softmax_columns


@kernel_factory
def _softmax_grad_rows(dtype):
    elem = numba_type(dtype)
    cast = np.dtype(dtype).type
    zero = cast(0)

    @cuda.jit
    def softmax_grad_rows(gx, g, y, rows, length):
        buf = cuda.shared.array(ROW_THREADS, elem)
        t = cuda.threadIdx.x
        width = cuda.blockDim.x
        for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
            base = row * length
            d = zero
            for r in range(t, length, width):
                d += cast(g[base + r] * y[base + r])
            buf[t] = d
            _tree(buf, t, width, False)
            d = buf[0]
            cuda.syncthreads()
            for r in range(t, length, width):
                gx[base + r] = y[base + r] * (g[base + r] - d)
    return softmax_grad_rows


@kernel_factory
def _softmax_grad_columns(dtype):
    cast = np.dtype(dtype).type
    zero = cast(0)

    @cuda.jit
    def softmax_grad_columns(gx, g, y, outer, length, inner):
        for j in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
            i = j % inner
            base = (j // inner) * length * inner + i
            d = zero
            for r in range(length):
                d += cast(g[base + r * inner] * y[base + r * inner])
            for r in range(length):
                k = base + r * inner
                gx[k] = y[k] * (g[k] - d)
    return softmax_grad_columns


def _layout(shape, axis):
    (ax,) = normalize_axes(axis, len(shape), 'softmax')
    outer = int(np.prod(shape[:ax], dtype=np.int64))
    inner = int(np.prod(shape[ax + 1:], dtype=np.int64))
    return outer, shape[ax], inner


def softmax(x, axis=-1):
    """`exp(x - max) / sum(exp(x - max))` along `axis` (x floating)."""
    out = arrays.empty(x.shape, x.dtype)
    if x.size == 0:
        return out
    outer, length, inner = _layout(x.shape, axis)
    if inner == 1:
        run(_softmax_rows(x.dtype), min(outer, MAX_BLOCKS), next_pow2(length, ROW_THREADS),
            out.data, x.data, outer, length)
    else:
        blocks, threads = grid_1d(outer * inner)
        run(_softmax_columns(x.dtype), blocks, threads, out.data, x.data, outer, length, inner)
    return out


def softmax_grad(g, y, axis=-1):
    """`y * (g - sum(g * y))` along `axis`: the gradient through a softmax output `y`."""
    dtype = np.result_type(g.dtype, y.dtype)
    if g.dtype != dtype or y.dtype != dtype:
        g, y = cast(g, dtype), cast(y, dtype)
    gx = arrays.empty(y.shape, dtype)
    if y.size == 0:
        return gx
    outer, length, inner = _layout(y.shape, axis)
    if inner == 1:
        run(_softmax_grad_rows(dtype), min(outer, MAX_BLOCKS), next_pow2(length, ROW_THREADS),
            gx.data, g.data, y.data, outer, length)
    else:
        blocks, threads = grid_1d(outer * inner)
        run(_softmax_grad_columns(dtype), blocks, threads, gx.data, g.data, y.data, outer,
            length, inner)
    return gx
