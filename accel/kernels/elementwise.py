"""Elementwise kernels: one to three broadcast operands, one output.

`map_arrays(fn, operands, out_dtype)` broadcasts the operands as NumPy does,
merges axes that are contiguous for every operand (a contiguous array is read
as one long axis), and launches a grid-stride kernel that applies the scalar
device function `fn` (see `scalar.py`) to every element. Python scalar
operands are weak: they take the dtype NumPy 2 would give them against the
array operands and become cached one-element device constants read with
stride 0.

One kernel is compiled per (function, arity), then specialised by Numba per
operand dtypes and ranks.
"""
import numpy as np

from accel import arrays
from accel.arrays import contiguous_strides
from accel.errors import AccelShapeError
from accel.kernels.launch import (broadcast_strides, coalesce, cuda, grid_1d, kernel_factory, run,
                                  strided_offset)


@kernel_factory
def _kernel(fn, arity):
    if arity == 1:
        @cuda.jit
        def map1(out, n, shape, x, sx, p):
            for i in range(cuda.grid(1), n, cuda.gridsize(1)):
                out[i] = fn(x[strided_offset(i, shape, sx)], p)
        return map1
    if arity == 2:
        @cuda.jit
        def map2(out, n, shape, a, sa, b, sb, p):
            for i in range(cuda.grid(1), n, cuda.gridsize(1)):
                out[i] = fn(a[strided_offset(i, shape, sa)], b[strided_offset(i, shape, sb)], p)
        return map2
    if arity == 3:
        @cuda.jit
        def map3(out, n, shape, a, sa, b, sb, c, sc, p):
            for i in range(cuda.grid(1), n, cuda.gridsize(1)):
                out[i] = fn(a[strided_offset(i, shape, sa)], b[strided_offset(i, shape, sb)],
                            c[strided_offset(i, shape, sc)], p)
        return map3
    raise ValueError('elementwise kernels take 1 to 3 operands, not %d' % arity)


def broadcast_shape(shapes, primitive):
    """The NumPy broadcast of `shapes`.

    # Raises
        AccelShapeError: naming the primitive and the shapes when they do not broadcast.
    """
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise AccelShapeError('primitive %r: operands of shapes %s do not broadcast together'
                              % (primitive, ', '.join(str(tuple(s)) for s in shapes))) from None


def weak_scalar_dtype(scalar, operands):
    """The dtype a Python scalar takes against the array operands (NumPy 2 rules)."""
    dtypes = [o.dtype for o in operands if not arrays.is_python_scalar(o)]
    return np.result_type(scalar, *dtypes)


def device_operands(operands, primitive):
    """Every operand as a `DeviceArray` (host arrays copied in, scalars made constants)."""
    out = []
    for o in operands:
        if arrays.is_python_scalar(o):
            out.append(arrays.scalar_constant(o, weak_scalar_dtype(o, operands)))
        else:
            out.append(arrays.as_device(o, primitive))
    return out


def param_dtype(out_dtype):
    """The dtype parameters are passed in: the output's if floating, else float64."""
    dt = np.dtype(out_dtype)
    return dt if dt.kind == 'f' else np.dtype(np.float64)


def map_arrays(fn, operands, out_dtype, params=(), primitive='?', out_shape=None):
    """Applies `fn` elementwise to broadcast operands.

    # Arguments
        fn: a scalar device function `fn(*values, p)` from `scalar.py`.
        operands: 1 to 3 `DeviceArray`s, host arrays or Python scalars.
        out_dtype: dtype of the result (the caller applies NumPy's rules).
        params: numbers passed to `fn` as `p`, converted to `param_dtype(out_dtype)`.
        primitive: name for error messages.
        out_shape: broadcast the result to this shape (default: the operands' broadcast).

    # Returns
        A new `DeviceArray`.

    # Raises
        AccelShapeError: if the operands do not broadcast.
        AccelDtypeError: for unsupported dtypes.
    """
    out_dtype = arrays.check_dtype(out_dtype, primitive,
                                   [arrays.shape_of(o) for o in operands])
    ops = device_operands(operands, primitive)
    shapes = [o.shape for o in ops]
    shape = broadcast_shape(shapes + ([out_shape] if out_shape is not None else []), primitive)
    out = arrays.empty(shape, out_dtype)
    n = out.size
    if n == 0:
        return out
    strides = [broadcast_strides(o.shape, shape) for o in ops]
    iter_shape, merged = coalesce(shape, contiguous_strides(shape), *strides)
    merged = merged[1:]
    pdt = param_dtype(out_dtype).type
    p = tuple(pdt(v) for v in params) if params else (pdt(0),)
    kernel = _kernel(fn, len(ops))
    args = [out.data, n, iter_shape]
    for o, s in zip(ops, merged):
        args += [o.data, s]
    args.append(p)
    blocks, threads = grid_1d(n)
    run(kernel, blocks, threads, *args)
    return out
