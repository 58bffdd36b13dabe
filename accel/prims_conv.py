"""accel's convolution and pooling primitives (mirror of `refkeras/backend/prims_conv.py`).

Channels last, any number of spatial axes, with strides, dilation, explicit
padding and channel groups, as the reference. The attributes are checked by
the reference's own geometry code (host metadata only), so both backends
accept and reject the same calls with the same messages.

- Convolution is im2col + GEMM: the padded input's windows are copied (one
  strided copy, grouped by channel group) into rows `(groups, positions, taps *
  C/groups)`, multiplied by the kernel read in place as `(groups, taps *
  C/groups, F/groups)` matrices.
- Kernel gradient: those rows transposed (read in place) times the upstream
  gradient, one batched GEMM.
- Input gradient (and `conv_transpose`): the upstream gradient times the kernel
  transposed gives a value per window element; `window_sum` gathers them back
  onto the input, one thread per input element, taps in order (no atomics).
- Pooling: one thread per output element walks its window; the gradients
  gather per input element the same way.
"""
import numpy as np

from accel import arrays
from accel.arrays import contiguous_strides
from accel.kernels import copy
from accel.kernels import gemm
from accel.kernels import window
from accel.operands import device
from accel.registry import accel_primitive
from refkeras.backend import prims_conv


def _ref():
    return prims_conv


def _float(x, dtype=None):
    dtype = np.dtype(dtype or (x.dtype if x.dtype.kind == 'f' else np.float64))
    return x if x.dtype == dtype else copy.cast(x, dtype)


def _padded(x, geo, value=0.0):
    """`x` with its spatial axes padded by `value` (the same array without padding)."""
    if not any(a or b for a, b in geo.padding):
        return x
    widths = ((0, 0),) + tuple(geo.padding) + ((0, 0),)
    shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
    out = arrays.full(shape, value, x.dtype)
    strides = contiguous_strides(shape)
    base = sum(a * s for (a, _), s in zip(widths, strides))
    return copy.copy_strided(x, x.shape, contiguous_strides(x.shape), out=out, dst_strides=strides,
                             dst_base=base)


def _rows(x, geo, groups):
    """im2col: `(groups, batch * positions, taps * C/groups)` rows of the padded input."""
    xp = _padded(x, geo)
    s = contiguous_strides(xp.shape)
    spatial = s[1:-1]
    per_group = xp.shape[-1] // groups
    shape = ((groups, xp.shape[0]) + tuple(geo.out_size) + tuple(geo.kernel_size) +
             (per_group,))
    strides = ((per_group, s[0]) + tuple(st * a for st, a in zip(geo.strides, spatial)) +
               tuple(d * a for d, a in zip(geo.dilation, spatial)) + (1,))
    rows = copy.copy_strided(xp, shape, strides)
    positions = xp.shape[0] * int(np.prod(geo.out_size, dtype=np.int64))
    return rows.reshape(groups, positions, geo.taps * per_group)


def _kernel_view(kernel, groups):
    """The kernel `(*k, Cg, F)` read in place as `groups` matrices `(taps * Cg, F/groups)`."""
    taps_cg = kernel.size // kernel.shape[-1]
    filters = kernel.shape[-1]
    return gemm.MatrixView(kernel, taps_cg, filters // groups, filters, 1, (filters // groups,))


def _channels_view(y, groups):
    """`(batch, *spatial, F)` read in place as `groups` matrices `(positions, F/groups)`."""
    filters = y.shape[-1]
    positions = y.size // max(filters, 1)
    return gemm.MatrixView(y, positions, filters // groups, filters, 1, (filters // groups,))


def _ungroup(z, lead_shape):
    """`(groups, n, F/groups)` to `lead_shape + (F,)` (channels of a group together)."""
    groups = z.shape[0]
    moved = z if groups == 1 else copy.transpose(z, (1, 0, 2))
    return moved.reshape(tuple(lead_shape) + (-1,))


def conv_output(x, kernel, geo, groups):
    rows = _rows(x, geo, groups)
    out = gemm.gemm(gemm.matrix_view(rows, (groups,)), _kernel_view(kernel, groups),
                    (groups,), x.dtype)
    return _ungroup(out, (x.shape[0],) + tuple(geo.out_size))


def conv_input_grad(g, kernel, geo, groups, x_shape):
    per_window = gemm.gemm(_channels_view(g, groups), _kernel_view(kernel, groups).transposed(),
                           (groups,), g.dtype)
    cg = kernel.shape[-2]
    win = window.Windows(geo, x_shape[0], cg * groups)
    positions = per_window.shape[1]
    layout = (geo.taps * cg, cg, positions * geo.taps * cg, cg)
    return window.window_sum(per_window, win, 0, g.dtype, col_layout=layout)


def conv_kernel_grad(x, g, kernel_shape, geo, groups):
    rows = _rows(x, geo, groups)
    w = gemm.gemm(gemm.matrix_view(rows, (groups,)).transposed(), _channels_view(g, groups),
                  (groups,), x.dtype)
    return _ungroup(w, ()).reshape(kernel_shape)


def _operands(x, kernel, name):
    x, kernel = device(x, name), device(kernel, name)
    dtype = np.result_type(x.dtype, kernel.dtype)
    dtype = dtype if dtype.kind == 'f' else np.dtype(np.float64)
    return _float(x, dtype), _float(kernel, dtype)


@accel_primitive('conv')
def conv(x, kernel, strides=None, dilation=None, padding=None, groups=1):
    """N-d convolution (cross-correlation), channels last: im2col and one batched GEMM."""
    x, kernel = _operands(x, kernel, 'conv')
    ref = _ref()
    groups = ref._check_conv(x.shape, kernel.shape, groups, 'conv')
    geo = ref._Geometry(x.shape, kernel.shape[:-2], strides, dilation, padding, 'conv')
    return conv_output(x, kernel, geo, groups)


@conv.defgrad
def _conv_grad(g, out, x, kernel, strides=None, dilation=None, padding=None, groups=1,
               needs=(True, True)):
    x, kernel = _operands(x, kernel, 'conv')
    g = _float(device(g, 'conv'), x.dtype)
    geo = _ref()._Geometry(x.shape, kernel.shape[:-2], strides, dilation, padding, 'conv')
    groups = int(groups)
    gx = conv_input_grad(g, kernel, geo, groups, x.shape) if needs[0] else None
    gk = conv_kernel_grad(x, g, kernel.shape, geo, groups) if needs[1] else None
    return gx, gk


@accel_primitive('conv_transpose')
def conv_transpose(x, kernel, output_size=None, strides=None, dilation=None, padding=None,
                   groups=1):
    """Transposed convolution: the input gradient of the matching convolution."""
    x, kernel = _operands(x, kernel, 'conv_transpose')
    geo, y_shape = _ref()._transpose_geometry(x.shape, kernel.shape, output_size, strides,
                                              dilation, padding, groups)
    return conv_input_grad(x, kernel, geo, int(groups), y_shape)


@conv_transpose.defgrad
def _conv_transpose_grad(g, out, x, kernel, output_size=None, strides=None, dilation=None,
                         padding=None, groups=1, needs=(True, True)):
    x, kernel = _operands(x, kernel, 'conv_transpose')
    g = _float(device(g, 'conv_transpose'), x.dtype)
    geo, _ = _ref()._transpose_geometry(x.shape, kernel.shape, output_size, strides, dilation,
                                        padding, groups)
    groups = int(groups)
    gx = conv_output(g, kernel, geo, groups) if needs[0] else None
    gk = conv_kernel_grad(g, x, kernel.shape, geo, groups) if needs[1] else None
    return gx, gk


def _pool_setup(x, pool_size, strides, padding, what):
    x = device(x, what)
    if pool_size is None:
        raise ValueError('%s needs a `pool_size`.' % what)
    geo = _ref()._Geometry(x.shape, pool_size, strides, None, padding, what)
    return x, window.Windows(geo, x.shape[0], x.shape[-1])


@accel_primitive('max_pool')
def max_pool(x, pool_size=None, strides=None, padding=None):
    """N-d max pooling, channels last (padding never wins)."""
    x, win = _pool_setup(x, pool_size, strides, padding, 'max_pool')
    return window.pool(x, win, window.MODE_MAX)


@max_pool.defgrad
def _max_pool_grad(g, out, x, pool_size=None, strides=None, padding=None):
    x, win = _pool_setup(x, pool_size, strides, padding, 'max_pool')
    out = device(out, 'max_pool')
    reference = _float(out, x.dtype) if out.dtype != x.dtype else out
    winner = window.pool(x, win, window.MODE_WINNER, ref=reference)
    return (window.window_sum(device(g, 'max_pool'), win, 2, g.dtype, winner=winner),)


@accel_primitive('avg_pool')
def avg_pool(x, pool_size=None, strides=None, padding=None):
    """N-d average pooling over the non-padding elements of each window."""
    x, win = _pool_setup(x, pool_size, strides, padding, 'avg_pool')
    return window.pool(_float(x), win, window.MODE_MEAN)


@avg_pool.defgrad
def _avg_pool_grad(g, out, x, pool_size=None, strides=None, padding=None):
    x, win = _pool_setup(x, pool_size, strides, padding, 'avg_pool')
    return (window.window_sum(device(g, 'avg_pool'), win, 1, g.dtype),)
