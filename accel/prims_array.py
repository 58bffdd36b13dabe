"""accel's array primitives (mirror of `refkeras/backend/prims_array.py`):
matrix product, shape manipulation, indexing, reductions."""
import builtins

import numpy as np

from accel import arrays
from accel.arrays import contiguous_strides
from accel.dtypes import forward_dtype, grad_dtypes
from accel.errors import AccelIndexError, AccelShapeError
from accel.kernels import copy
from accel.kernels import gather as gather_kernels
from accel.kernels import gemm
from accel.kernels import reduce
from accel.kernels import scalar
from accel.kernels.elementwise import broadcast_shape, map_arrays
from accel.operands import device, expand_reduced, unbroadcast
from accel.registry import accel_primitive


def _as_dtype(x, dtype):
    return x if x.dtype == dtype else copy.cast(x, dtype)


# --- matrix product -----------------------------------------------------------

def _matmul_dtype(a, b):
    dt = np.result_type(a.dtype, b.dtype)
    # Boolean products are computed in int32, then turned back into bool.
    return (np.dtype(np.int32) if dt == np.bool_ else dt), dt


@accel_primitive('matmul')
def matmul(a, b):
    """Matrix product with NumPy's `matmul` broadcasting (1-D operands as in NumPy)."""
    a, b = device(a, 'matmul'), device(b, 'matmul')
    if a.ndim == 0 or b.ndim == 0:
        raise AccelShapeError("primitive 'matmul': operands must have at least one axis, got "
                              'shapes %s and %s' % (a.shape, b.shape))
    squeeze = []
    if a.ndim == 1:
        a = a.reshape((1,) + a.shape)
        squeeze.append(-2)
    if b.ndim == 1:
        b = b.reshape(b.shape + (1,))
        squeeze.append(-1)
    if a.shape[-1] != b.shape[-2]:
        raise AccelShapeError("primitive 'matmul': contraction sizes differ: shapes %s and %s "
                              '(%d != %d)' % (a.shape, b.shape, a.shape[-1], b.shape[-2]))
    batch = broadcast_shape([a.shape[:-2], b.shape[:-2]], 'matmul')
    work, final = _matmul_dtype(a, b)
    a, b = _as_dtype(a, work), _as_dtype(b, work)
    out = gemm.gemm(gemm.matrix_view(a, batch), gemm.matrix_view(b, batch), batch, work)
    if squeeze:
        shape = list(out.shape)
        for axis in sorted(squeeze):
            del shape[axis]
        out = out.reshape(shape)
    return _as_dtype(out, final)


@matmul.defgrad
def _matmul_grad(g, out, a, b, needs=(True, True)):
    a, b, g = device(a, 'matmul'), device(b, 'matmul'), device(g, 'matmul')
    if a.ndim < 2 or b.ndim < 2:
        raise AccelShapeError("primitive 'matmul': the gradient needs operands of rank >= 2, "
                              'got shapes %s and %s' % (a.shape, b.shape))
    work = np.result_type(g.dtype, a.dtype, b.dtype)
    g, a2, b2 = _as_dtype(g, work), _as_dtype(a, work), _as_dtype(b, work)
    batch = g.shape[:-2]
    ga = gb = None
    if needs[0]:
        # ga = g @ b^T, summed over the batch axes a was broadcast along
        prod = gemm.gemm(gemm.matrix_view(g, batch), gemm.matrix_view(b2, batch).transposed(),
                         batch, work)
        ga = unbroadcast(prod, a)
    if needs[1]:
        if a.ndim > 2 and b.ndim == 2:
            # A weight shared over leading axes: fold them into the contraction.
            a_flat = a2.reshape(-1, a.shape[-1])
            g_flat = g.reshape(-1, g.shape[-1])
            gb = gemm.gemm(gemm.matrix_view(a_flat, ()).transposed(),
                           gemm.matrix_view(g_flat, ()), (), work)
        else:
            prod = gemm.gemm(gemm.matrix_view(a2, batch).transposed(),
                             gemm.matrix_view(g, batch), batch, work)
            gb = unbroadcast(prod, b)
    return ga, gb


# --- shape --------------------------------------------------------------------

@accel_primitive('reshape')
def reshape(x, shape=None):
    """Reshapes (one size may be -1); shares the buffer."""
    x = device(x, 'reshape')
    return x.reshape(arrays.resolve_reshape(x.shape, shape))


@reshape.defgrad
def _reshape_grad(g, out, x, shape=None):
    return (g.reshape(arrays.shape_of(x)),)


def _permutation(axes, ndim):
    if axes is None:
        return tuple(range(ndim - 1, -1, -1))
    perm = tuple(int(a) % builtins.max(ndim, 1) for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise AccelShapeError("primitive 'transpose': axes %r are not a permutation of the "
                              '%d axes' % (tuple(axes), ndim))
    return perm


@accel_primitive('transpose')
def transpose(x, axes=None):
    """Permutes axes (reverses them when `axes` is None)."""
    x = device(x, 'transpose')
    return copy.transpose(x, _permutation(axes, x.ndim))


@transpose.defgrad
def _transpose_grad(g, out, x, axes=None):
    perm = _permutation(axes, g.ndim)
    return (copy.transpose(g, tuple(int(i) for i in np.argsort(perm))),)


@accel_primitive('concatenate')
def concatenate(*xs, axis=-1):
    """Joins arrays along an existing axis."""
    xs = [device(x, 'concatenate') for x in xs]
    if not xs:
        raise AccelShapeError("primitive 'concatenate': needs at least one array")
    ndim = xs[0].ndim
    if ndim == 0:
        raise AccelShapeError("primitive 'concatenate': zero-dimensional arrays cannot be "
                              'concatenated')
    ax = int(axis)
    if not -ndim <= ax < ndim:
        raise AccelShapeError("primitive 'concatenate': axis %d is out of range for rank %d"
                              % (ax, ndim))
    ax %= ndim
    for x in xs:
        if x.ndim != ndim or any(n != m for d, (n, m) in enumerate(zip(x.shape, xs[0].shape))
                                 if d != ax):
            raise AccelShapeError("primitive 'concatenate': shapes %s do not match except on "
                                  'axis %d' % (', '.join(str(y.shape) for y in xs), ax))
    dtype = np.result_type(*[x.dtype for x in xs])
    shape = list(xs[0].shape)
    shape[ax] = builtins.sum(x.shape[ax] for x in xs)
    out = arrays.empty(shape, dtype)
    strides = contiguous_strides(shape)
    start = 0
    for x in xs:
        copy.copy_strided(x, x.shape, contiguous_strides(x.shape), out=out, dst_strides=strides,
                          dst_base=start * strides[ax])
        start += x.shape[ax]
    return out


@concatenate.defgrad
def _concatenate_grad(g, out, *xs, axis=-1):
    ax = int(axis) % g.ndim
    strides = contiguous_strides(g.shape)
    pieces = []
    start = 0
    for x in xs:
        shape = arrays.shape_of(x)
        pieces.append(copy.copy_strided(g, shape, strides, src_base=start * strides[ax]))
        start += shape[ax]
    return tuple(pieces)


def _tile_reps(reps, ndim):
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    if any(r < 0 for r in reps):
        raise AccelShapeError("primitive 'tile': negative repetitions %r" % (reps,))
    return reps


@accel_primitive('tile')
def tile(x, reps=None):
    """Repeats the whole array `reps[i]` times along axis i."""
    x = device(x, 'tile')
    reps = _tile_reps(reps, x.ndim)
    rank = builtins.max(len(reps), x.ndim)
    shape = (1,) * (rank - x.ndim) + x.shape
    reps = (1,) * (rank - len(reps)) + reps
    strides = contiguous_strides(shape)
    inter_shape, inter_strides = [], []
    for r, n, s in zip(reps, shape, strides):
        inter_shape += [r, n]
        inter_strides += [0, s]
    out = copy.copy_strided(x, inter_shape, inter_strides)
    return out.reshape(tuple(r * n for r, n in zip(reps, shape)))


@tile.defgrad
def _tile_grad(g, out, x, reps=None):
    x_shape = arrays.shape_of(x)
    reps = _tile_reps(reps, len(x_shape))
    rank = builtins.max(len(reps), len(x_shape))
    reps = (1,) * (rank - len(reps)) + reps
    shape = (1,) * (rank - len(x_shape)) + tuple(x_shape)
    interleaved = []
    for r, n in zip(reps, shape):
        interleaved.extend([r, n])
    split = g.reshape(interleaved)
    axes = tuple(range(0, 2 * len(shape), 2))
    return (reduce.reduce(split, axes, 'sum', g.dtype, primitive='tile').reshape(x_shape),)


@accel_primitive('repeat')
def repeat(x, repeats=1, axis=0):
    """Repeats each element `repeats` times along `axis` (None: the flattened array)."""
    x = device(x, 'repeat')
    if np.ndim(repeats) != 0:
        raise AccelShapeError("accel primitive 'repeat' takes an integer `repeats` (as "
                              'K.repeat_elements passes), not an array of shape %s'
                              % (np.shape(repeats),))
    repeats = int(repeats)
    if repeats < 0:
        raise AccelShapeError("primitive 'repeat': negative repeats %d" % repeats)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    (ax,) = reduce.normalize_axes(axis, x.ndim, 'repeat')
    strides = contiguous_strides(x.shape)
    split = x.shape[:ax + 1] + (repeats,) + x.shape[ax + 1:]
    split_strides = strides[:ax + 1] + (0,) + strides[ax + 1:]
    out_shape = x.shape[:ax] + (x.shape[ax] * repeats,) + x.shape[ax + 1:]
    return copy.copy_strided(x, split, split_strides).reshape(out_shape)


@repeat.defgrad
def _repeat_grad(g, out, x, repeats=1, axis=0):
    shape = list(arrays.shape_of(x))
    ax = int(axis) % len(shape)
    split = g.reshape(shape[:ax] + [shape[ax], int(repeats)] + shape[ax + 1:])
    return (reduce.reduce(split, (ax + 1,), 'sum', g.dtype, primitive='repeat').reshape(shape),)


# --- indexing -----------------------------------------------------------------

def _host_key(key):
    """The key with any device arrays copied to the host (index metadata only)."""
    if isinstance(key, tuple):
        return tuple(_host_key(k) for k in key)
    if arrays.is_device_array(key):
        return arrays.to_host(key)
    return key


def _is_basic(key):
    items = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis
               for k in items)


def _coordinate_views(shape):
    """One zero-copy int64 view per axis whose element at any index is that axis's
    coordinate times its stride: indexing them all with a key and adding the results
    gives the flat source offsets of `x[key]` without allocating `x.size` integers."""
    strides = contiguous_strides(shape)
    views = []
    for d, (n, s) in enumerate(zip(shape, strides)):
        line = np.arange(n, dtype=np.int64) * s
        view_strides = [0] * len(shape)
        view_strides[d] = line.strides[0]
        views.append(np.lib.stride_tricks.as_strided(line, shape=shape, strides=view_strides,
                                                     writeable=False))
    return views


def _index_plan(shape, key):
    """How to read `x[key]` for an array of `shape`.

    # Returns
        `('basic', out_shape, strides, base)` for slices/ints/None/Ellipsis, or
        `('advanced', offsets)` with the int64 flat offsets (shape of the result).

    # Raises
        AccelIndexError: for out-of-range or malformed indices (NumPy's message).
    """
    try:
        if _is_basic(key):
            # A byte-sized fake array of the right shape: NumPy parses the key and
            # computes the view's offset and strides, without touching memory.
            base = np.zeros(1, np.uint8)
            fake = np.lib.stride_tricks.as_strided(base, shape=shape,
                                                   strides=contiguous_strides(shape),
                                                   writeable=False)
            # A trailing Ellipsis changes nothing but keeps an all-integer key from
            # returning a scalar instead of a (0-d) view.
            items = key if isinstance(key, tuple) else (key,)
            view = fake[items + (Ellipsis,) if Ellipsis not in items else items]
            offset = view.__array_interface__['data'][0] - base.__array_interface__['data'][0]
            return 'basic', view.shape, view.strides, offset
        if not shape:
            offsets = np.zeros((), np.int64)[key]
        else:
            views = _coordinate_views(shape)
            offsets = builtins.sum(v[key] for v in views)
        return 'advanced', np.asarray(offsets, dtype=np.int64)
    except IndexError as err:
        raise AccelIndexError("primitive 'getitem': %s (array shape %s, key %r)"
                              % (err, tuple(shape), key)) from None


@accel_primitive('getitem')
def getitem(x, key=None):
    """`x[key]`: slices, integers, None and Ellipsis by a strided copy; integer
    arrays and boolean masks (host arrays) by a gather."""
    x = device(x, 'getitem')
    plan = _index_plan(x.shape, _host_key(key))
    if plan[0] == 'basic':
        _, shape, strides, base = plan
        return copy.copy_strided(x, shape, strides, src_base=base)
    offsets = plan[1]
    return gather_kernels.gather(x.reshape(-1), offsets, 0, 'getitem').reshape(offsets.shape)


@getitem.defgrad
def _getitem_grad(g, out, x, key=None):
    shape = arrays.shape_of(x)
    plan = _index_plan(shape, _host_key(key))
    if plan[0] == 'basic':
        _, view_shape, strides, base = plan
        gx = arrays.zeros(shape, g.dtype)
        copy.copy_strided(g, view_shape, contiguous_strides(view_shape), out=gx,
                          dst_strides=strides, dst_base=base)
        return (gx,)
    offsets = plan[1]
    size = int(np.prod(shape, dtype=np.int64))
    gx = gather_kernels.scatter_add(g.reshape(-1), offsets.reshape(-1), (size,), 0, g.dtype,
                                    'getitem')
    return (gx.reshape(shape),)


def _gather_axis(x, axis):
    if x.ndim == 0:
        raise AccelShapeError("primitive 'gather': cannot gather from a 0-d array")
    (ax,) = reduce.normalize_axes(axis, x.ndim, 'gather')
    return ax


@accel_primitive('gather')
def gather(x, indices, axis=0):
    """Slices of `x` along `axis` at integer `indices` (host or device array)."""
    x = device(x, 'gather')
    return gather_kernels.gather(x, indices, _gather_axis(x, axis), 'gather')


@gather.defgrad
def _gather_grad(g, out, x, indices, axis=0):
    # A deterministic scatter-add; device indices (an Embedding's input batch)
    # are sorted on the device and never copied to the host.
    shape = arrays.shape_of(x)
    ax = reduce.normalize_axes(axis, len(shape), 'gather')[0]
    return gather_kernels.scatter_add(g, indices, shape, ax, g.dtype, 'gather'), None


def _pad_width(pad_width, ndim):
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    except ValueError:
        raise AccelShapeError("primitive 'pad': pad_width %r does not fit an array of rank %d"
                              % (pad_width, ndim)) from None
    if (widths < 0).any():
        raise AccelShapeError("primitive 'pad': negative pad_width %r" % (pad_width,))
    return [(int(b), int(a)) for b, a in widths]


@accel_primitive('pad')
def pad(x, pad_width=None, constant=0.0):
    """Pads with a constant; `pad_width` as in `np.pad`."""
    x = device(x, 'pad')
    widths = _pad_width(pad_width, x.ndim)
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    out = arrays.full(shape, constant, x.dtype)
    strides = contiguous_strides(shape)
    base = builtins.sum(b * s for (b, _), s in zip(widths, strides))
    copy.copy_strided(x, x.shape, contiguous_strides(x.shape), out=out, dst_strides=strides,
                      dst_base=base)
    return out


@pad.defgrad
def _pad_grad(g, out, x, pad_width=None, constant=0.0):
    shape = arrays.shape_of(x)
    widths = _pad_width(pad_width, len(shape))
    strides = contiguous_strides(g.shape)
    base = builtins.sum(b * s for (b, _), s in zip(widths, strides))
    return (copy.copy_strided(g, shape, strides, src_base=base),)


# --- reductions -------------------------------------------------------------------

def _reduction(name, op, acc=None):
    def forward(x, axis=None, keepdims=False):
        x = device(x, name)
        axes = reduce.normalize_axes(axis, x.ndim, name)
        dt = forward_dtype(name, x, axis=axis, keepdims=keepdims)
        out = reduce.reduce(x, axes, op, dt, acc_dtype=acc, primitive=name)
        return out.reshape(reduce.reduced_shape(x.shape, axes, keepdims))
    forward.__name__ = name
    forward.__doc__ = 'accel `%s` over `axis` (int, tuple or None), no atomics.' % name
    return accel_primitive(name)(forward)


sum = _reduction('sum', 'sum')  # noqa: A001


@sum.defgrad
def _sum_grad(g, out, x, axis=None, keepdims=False):
    shape = arrays.shape_of(x)
    axes = reduce.normalize_axes(axis, len(shape), 'sum')
    return (copy.broadcast_to(expand_reduced(g, shape, axes, keepdims), shape),)


@accel_primitive('mean')
def mean(x, axis=None, keepdims=False):
    """Mean over `axis`: a sum divided by the count, in the result's dtype."""
    x = device(x, 'mean')
    axes = reduce.normalize_axes(axis, x.ndim, 'mean')
    dt = forward_dtype('mean', x, axis=axis, keepdims=keepdims)
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    out = reduce.reduce(x, axes, 'sum', dt, divisor=count, primitive='mean')
    return out.reshape(reduce.reduced_shape(x.shape, axes, keepdims))


@mean.defgrad
def _mean_grad(g, out, x, axis=None, keepdims=False):
    shape = arrays.shape_of(x)
    axes = reduce.normalize_axes(axis, len(shape), 'mean')
    count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    (dt,) = grad_dtypes('mean', g, out, x, axis=axis, keepdims=keepdims)
    return (map_arrays(scalar.divide, [expand_reduced(g, shape, axes, keepdims), count], dt,
                       primitive='mean', out_shape=shape),)


def _extremum_grad(name):
    def rule(g, out, x, axis=None, keepdims=False):
        x = device(x, name)
        axes = reduce.normalize_axes(axis, x.ndim, name)
        counts = reduce.reduce(x, axes, 'count_equal', np.int64, shift=out, primitive=name)
        share = map_arrays(scalar.divide, [g.reshape(counts.shape), counts], g.dtype,
                           primitive=name)
        kept = reduce.reduced_shape(x.shape, axes, True)
        return (map_arrays(scalar.extremum_grad, [x, out.reshape(kept), share.reshape(kept)],
                           g.dtype, primitive=name),)
    return rule


max = _reduction('max', 'max')  # noqa: A001
max.defgrad(_extremum_grad('max'))
min = _reduction('min', 'min')  # noqa: A001
min.defgrad(_extremum_grad('min'))
prod = _reduction('prod', 'prod')


@prod.defgrad
def _prod_grad(g, out, x, axis=None, keepdims=False):
    x = device(x, 'prod')
    axes = reduce.normalize_axes(axis, x.ndim, 'prod')
    (dt,) = grad_dtypes('prod', g, out, x, axis=axis, keepdims=keepdims)
    return (_as_dtype(reduce.prod_grad(x, g, axes), dt),)


@accel_primitive('logsumexp')
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x - max))) + max` over `axis` (a max reduction, a shifted
    exp-sum reduction, one elementwise pass)."""
    x = device(x, 'logsumexp')
    axes = reduce.normalize_axes(axis, x.ndim, 'logsumexp')
    dt = forward_dtype('logsumexp', x, axis=axis, keepdims=keepdims)
    x = _as_dtype(x, dt)
    top = reduce.reduce(x, axes, 'max', dt, primitive='logsumexp')
    total = reduce.reduce(x, axes, 'sumexp', dt, shift=top, primitive='logsumexp')
    out = map_arrays(scalar.logsumexp_finish, [total, top], dt, primitive='logsumexp')
    return out.reshape(reduce.reduced_shape(x.shape, axes, keepdims))


@logsumexp.defgrad
def _logsumexp_grad(g, out, x, axis=None, keepdims=False):
    x = device(x, 'logsumexp')
    axes = reduce.normalize_axes(axis, x.ndim, 'logsumexp')
    kept = reduce.reduced_shape(x.shape, axes, True)
    (dt,) = grad_dtypes('logsumexp', g, out, x, axis=axis, keepdims=keepdims)
    return (map_arrays(scalar.logsumexp_grad, [g.reshape(kept), x, out.reshape(kept)], dt,
                       primitive='logsumexp'),)


@accel_primitive('cumsum')
def cumsum(x, axis=0):
    """Cumulative sum along `axis` (sequential, as NumPy)."""
    x = device(x, 'cumsum')
    return reduce.cumsum(x, axis, forward_dtype('cumsum', x, axis=axis))


@cumsum.defgrad
def _cumsum_grad(g, out, x, axis=0):
    shape = arrays.shape_of(x)
    if axis is None:
        return (reduce.cumsum(g.reshape(-1), 0, g.dtype, reverse=True).reshape(shape),)
    return (reduce.cumsum(g, axis, g.dtype, reverse=True),)


@accel_primitive('cumprod')
def cumprod(x, axis=0):
    """Cumulative product along `axis` (sequential, as NumPy)."""
    x = device(x, 'cumprod')
    return reduce.cumprod(x, axis, forward_dtype('cumprod', x, axis=axis))


@cumprod.defgrad
def _cumprod_grad(g, out, x, axis=0):
    x = device(x, 'cumprod')
    return (reduce.cumprod_grad(x, g, axis),)


def _arg(name, want_max):
    def forward(x, axis=-1):
        x = device(x, name)
        return reduce.arg_extremum(x, axis, want_max, name)
    forward.__name__ = name
    forward.__doc__ = 'Index of the first %s along `axis` (no gradient).' % (
        'maximum' if want_max else 'minimum')
    return accel_primitive(name)(forward)


argmax = _arg('argmax', True)
argmin = _arg('argmin', False)


def _logical_reduction(name, op):
    def forward(x, axis=None, keepdims=False):
        x = device(x, name)
        axes = reduce.normalize_axes(axis, x.ndim, name)
        out = reduce.reduce(x, axes, op, np.bool_, primitive=name)
        return out.reshape(reduce.reduced_shape(x.shape, axes, keepdims))
    forward.__name__ = name
    forward.__doc__ = 'Logical %s over `axis` (no gradient).' % ('and' if op == 'all' else 'or')
    return accel_primitive(name)(forward)


reduce_all = _logical_reduction('all', 'all')
reduce_any = _logical_reduction('any', 'any')


@accel_primitive('one_hot')
def one_hot(indices, num_classes=None, dtype='float32'):
    """One-hot encoding on a new last axis (no gradient)."""
    return gather_kernels.one_hot(indices, num_classes, arrays.check_dtype(dtype, 'one_hot'))

