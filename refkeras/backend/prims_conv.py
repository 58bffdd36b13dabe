"""Convolution and pooling primitives: N-dimensional, channels last.

Every primitive here takes arrays laid out `(batch, *spatial, channels)`
(TensorFlow's NHWC, for any number of spatial axes); the `K` functions in
`ops_conv.py` transpose channels-first data around them. Padding is explicit:
`padding` holds one `(before, after)` pair per spatial axis, and `ops_conv.py`
turns Keras's 'valid' / 'same' / 'causal' into such pairs.

The formulation is im2col, with no Python loop over pixels:

- `_windows` views the padded input as `(batch, *out, *kernel, channels)`:
  for every output position, its receptive field (`as_strided`, no copy).
- Convolution: those windows, flattened to one row per output position, times
  the kernel flattened to `(taps * channels, filters)`: one matrix product.
- Kernel gradient: windows transposed times the upstream gradient: one matrix
  product.
- Input gradient: the upstream gradient times each kernel tap's transpose gives
  that tap's share of every window (one matrix product per tap); `add_taps`
  (col2im) adds the shares back into place, each tap one whole-array addition.

All three work through the batch a few examples at a time (`_batch_chunks`):
the im2col rows of a whole batch are large (85 MB for the 3x3, 32-to-64
channel convolution of the `cnn` benchmark), while a chunk's rows stay in the
CPU cache, which makes building them almost free and the products faster.

A transposed convolution is the input gradient of a convolution, so
`conv_transpose` is built from the same three functions with the roles swapped.
Pooling uses the same windows: average pooling sums them, max pooling folds
`np.maximum` over the kernel taps' regions; the max-pooling gradient has a
loop-free path for windows that do not overlap (the common `strides == pool_size`).

Grouped convolution (`groups > 1`) splits the input channels into `groups`
equal parts, each convolved with its own slice of the filters; with one group
per input channel it is a depthwise convolution (`K.depthwise_conv2d`).

Every gradient rule is checked against central finite differences in
`spec_tests/primitives/test_conv_primitives.py`, and every forward against a direct
nested-loop definition there.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from refkeras.backend.registry import primitive

# --- geometry -----------------------------------------------------------------


def output_length(size, kernel, stride=1, dilation=1, before=0, after=0):
    """Number of window positions along one axis.

    A window spans `dilation * (kernel - 1) + 1` elements of the padded axis
    (`size + before + after` long) and moves by `stride`.

    # Returns
        The count, which is 0 or negative when the window does not fit.
    """
    span = dilation * (kernel - 1) + 1
    return (size + before + after - span) // stride + 1


class _Geometry(object):
    """The checked attributes of one convolution or pooling call.

    # Arguments
        x_shape: shape of the (unpadded) input, `(batch, *spatial, channels)`.
        kernel_size: one size per spatial axis.
        strides, dilation: None (all 1) or one int per spatial axis.
        padding: None (no padding) or one `(before, after)` pair per axis.
        what: the primitive's name, for error messages.

    # Raises
        ValueError: for inconsistent ranks, negative padding, non-positive
            strides or dilations, or a window that does not fit the input.
    """

    def __init__(self, x_shape, kernel_size, strides, dilation, padding, what):
        rank = len(x_shape) - 2
        if rank < 1:
            raise ValueError('%s expects an input of shape (batch, *spatial, channels) with at '
                             'least one spatial axis; received shape %s.' % (what, tuple(x_shape)))
        self.rank = rank
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.strides = (1,) * rank if strides is None else tuple(int(s) for s in strides)
        self.dilation = (1,) * rank if dilation is None else tuple(int(d) for d in dilation)
        self.padding = ((0, 0),) * rank if padding is None else tuple(
            (int(a), int(b)) for a, b in padding)
        for name, value in (('kernel size', self.kernel_size), ('strides', self.strides),
                            ('dilation', self.dilation), ('padding', self.padding)):
            if len(value) != rank:
                raise ValueError('%s: %s %s has %d entries, but the input of shape %s has %d '
                                 'spatial axes.' % (what, name, value, len(value),
                                                    tuple(x_shape), rank))
        if min(self.kernel_size + self.strides + self.dilation) < 1:
            raise ValueError('%s: kernel size %s, strides %s and dilation %s must be positive.'
                             % (what, self.kernel_size, self.strides, self.dilation))
        if any(a < 0 or b < 0 for a, b in self.padding):
            raise ValueError('%s: padding %s must not be negative.' % (what, self.padding))
        self.in_size = tuple(int(n) for n in x_shape[1:-1])
        self.padded_size = tuple(n + a + b for n, (a, b) in zip(self.in_size, self.padding))
        self.out_size = tuple(output_length(n, k, s, d, a, b) for n, k, s, d, (a, b) in zip(
            self.in_size, self.kernel_size, self.strides, self.dilation, self.padding))
        if min(self.out_size) < 1:
            raise ValueError('%s: a window of size %s (dilation %s) does not fit the input of '
                             'spatial size %s padded by %s; the output size would be %s.'
                             % (what, self.kernel_size, self.dilation, self.in_size,
                                self.padding, self.out_size))

    @property
    def taps(self):
        """Number of elements in one window."""
        return int(np.prod(self.kernel_size))

    def pad(self, x, value=0.0):
        """`x` with its spatial axes padded by `value` (no copy without padding)."""
        if not any(a or b for a, b in self.padding):
            return x
        return np.pad(x, ((0, 0),) + self.padding + ((0, 0),), mode='constant',
                      constant_values=value)

    def unpad(self, xp):
        """The inverse of `pad`: the part of a padded array that covers the input."""
        index = tuple(slice(a, a + n) for (a, _), n in zip(self.padding, self.in_size))
        return xp[(slice(None),) + index + (slice(None),)]

    def windows(self, xp, writeable=False):
        """A view `(batch, *out, *kernel, channels)` of the padded input.

        `windows[b, o1, .., k1, .., c] = xp[b, o1 * s1 + k1 * d1, .., c]`.
        Read-only unless `writeable`, which is only meaningful when no two
        windows share an element (see `disjoint`): writing through the view
        then writes each element of `xp` at most once.
        """
        s = xp.strides
        spatial = s[1:-1]
        shape = (xp.shape[0],) + self.out_size + self.kernel_size + (xp.shape[-1],)
        strides = ((s[0],) + tuple(st * a for st, a in zip(self.strides, spatial)) +
                   tuple(d * a for d, a in zip(self.dilation, spatial)) + (s[-1],))
        return as_strided(xp, shape, strides, writeable=writeable)

    @property
    def disjoint(self):
        """True when no two windows share an input element (strides >= window span)."""
        return all(s >= d * (k - 1) + 1 for k, s, d in zip(
            self.kernel_size, self.strides, self.dilation))

    def tap_region(self, tap):
        """Index of the padded input that kernel element `tap` sees, for all outputs.

        `xp[tap_region(tap)]` has shape `(batch, *out, channels)`.
        """
        index = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, s, o in zip(
            tap, self.dilation, self.strides, self.out_size))
        return (slice(None),) + index + (slice(None),)

    def add_taps(self, dxp, per_tap):
        """Adds each kernel tap's values onto the elements of `dxp` that tap sees.

        The adjoint of `windows`: `dxp` has the padded input's shape;
        `per_tap` yields, for each kernel tap in row-major order, an array
        `(batch, *out, channels)` holding the value of every window's element
        at that tap (it may be a generator, so that each tap's values exist
        only while they are added). Every element of `dxp` receives the sum
        over all the windows and taps that contain it.
        """
        for values, tap in zip(per_tap, np.ndindex(*self.kernel_size)):
            dxp[self.tap_region(tap)] += values
        return dxp


# --- working through the batch in chunks -------------------------------------------

CHUNK_BYTES = 2 ** 23
"""About how large a batch chunk's biggest temporary may be (see `_batch_chunks`)."""


def _batch_chunks(batch, bytes_per_example):
    """Slices splitting the batch so that a chunk's temporary is about `CHUNK_BYTES`.

    Chunking changes nothing in the results (the kernel gradient's sum over
    chunks only rounds differently); it keeps the temporaries (im2col rows,
    per-tap shares) in the CPU cache instead of streaming tens of megabytes
    through memory. Eight megabytes fit a server CPU's L3 cache and keep the
    matrix products large enough (and few enough) for a multi-threaded BLAS;
    on the 2-core benchmark machine 2 to 8 MB were equally fast on one BLAS
    thread, and 8 MB held up best with two under load from other processes.

    # Arguments
        batch: the batch size.
        bytes_per_example: size of the temporary for one example.

    # Returns
        A list of `slice`s covering `range(batch)` in order.
    """
    step = max(1, CHUNK_BYTES // max(1, int(bytes_per_example)))
    return [slice(start, start + step) for start in range(0, batch, step)]


def _rows_bytes(geo, channels, dtype):
    """Size of one example's im2col rows: positions x (taps * channels) elements."""
    return int(np.prod(geo.out_size)) * geo.taps * channels * np.dtype(dtype).itemsize


# --- grouped matrix products ---------------------------------------------------------


def _rows(windows, groups):
    """Windows `(batch, *out, *kernel, C)` as `(groups, positions, taps * C/groups)` (a copy)."""
    rank = (windows.ndim - 2) // 2
    positions = int(np.prod(windows.shape[:1 + rank]))
    taps = int(np.prod(windows.shape[1 + rank:-1]))
    per_group = windows.shape[-1] // groups
    rows = windows.reshape(positions, taps, groups, per_group)
    return rows.transpose(2, 0, 1, 3).reshape(groups, positions, taps * per_group)


def _grouped_kernel(kernel, groups):
    """Kernel `(*kernel, C/groups, F)` as `(groups, taps * C/groups, F/groups)`."""
    taps = int(np.prod(kernel.shape[:-2]))
    per_group_in, filters = kernel.shape[-2:]
    w = kernel.reshape(taps, per_group_in, groups, filters // groups)
    return w.transpose(2, 0, 1, 3).reshape(groups, taps * per_group_in, filters // groups)


def _ungrouped_kernel(w, kernel_shape, groups):
    """The inverse of `_grouped_kernel`."""
    taps = int(np.prod(kernel_shape[:-2]))
    per_group_in = kernel_shape[-2]
    w = w.reshape(groups, taps, per_group_in, -1)
    return w.transpose(1, 2, 0, 3).reshape(kernel_shape)


def _grouped_channels(y, groups):
    """`(batch, *spatial, F)` as `(groups, positions, F/groups)`."""
    positions = int(np.prod(y.shape[:-1]))
    return y.reshape(positions, groups, -1).transpose(1, 0, 2)


def _ungrouped_channels(y, lead_shape):
    """`(groups, positions, F/groups)` as `lead_shape + (F,)`."""
    return y.transpose(1, 0, 2).reshape(tuple(lead_shape) + (-1,))


# --- the three convolution computations -------------------------------------------------

def _check_conv(x_shape, kernel_shape, groups, what):
    """Checks channel counts; returns the number of input channels per group."""
    rank = len(x_shape) - 2
    if len(kernel_shape) != rank + 2:
        raise ValueError('%s: the kernel of shape %s should have %d axes (%d spatial, then input '
                         'channels, then filters) for an input of shape %s.'
                         % (what, tuple(kernel_shape), rank + 2, rank, tuple(x_shape)))
    groups = int(groups)
    if groups < 1 or kernel_shape[-1] % groups:
        raise ValueError('%s: the kernel\'s %d filters cannot be split into %r groups.'
                         % (what, kernel_shape[-1], groups))
    if x_shape[-1] != kernel_shape[-2] * groups:
        raise ValueError('%s: the input of shape %s has %d channels, but the kernel of shape %s '
                         'expects %d (%d per group, %d groups).'
                         % (what, tuple(x_shape), x_shape[-1], tuple(kernel_shape),
                            kernel_shape[-2] * groups, kernel_shape[-2], groups))
    return groups


def _conv_output(x, kernel, geo, groups):
    """The convolution's output `(batch, *out, filters)`: windows times the kernel.

    One (grouped) matrix product per chunk of the batch (`_batch_chunks`). With
    one group the product writes straight into the output's rows (the same
    numbers, without a temporary and its copy).
    """
    xp = geo.pad(x)
    w = _grouped_kernel(kernel, groups)                          # (G, taps * C/G, F/G)
    out = np.empty((x.shape[0],) + geo.out_size + (kernel.shape[-1],),
                   dtype=np.result_type(x, kernel))
    for chunk in _batch_chunks(x.shape[0], _rows_bytes(geo, x.shape[-1], x.dtype)):
        rows = _rows(geo.windows(xp[chunk]), groups)           # (G, positions, taps * C/G)
        if groups == 1 and rows.dtype == w.dtype == out.dtype:
            np.matmul(rows[0], w[0], out=out[chunk].reshape(rows.shape[1], -1))
        else:
            out[chunk] = _ungrouped_channels(np.matmul(rows, w), out[chunk].shape[:-1])
    return out


def _conv_input_grad(g, kernel, geo, groups):
    """Gradient with respect to the input, for upstream gradient `g` `(batch, *out, F)`.

    One (grouped) matrix product per kernel tap gives that tap's share of every
    window, `g . kernel[tap]^T`; `add_taps` adds the shares back into place.
    Chunk by chunk over the batch, so that a chunk's shares stay in the cache.
    """
    taps, per_group_in, filters = geo.taps, kernel.shape[-2], kernel.shape[-1]
    per_tap_kernel = kernel.reshape(taps, per_group_in, groups, filters // groups)
    per_tap_kernel = np.ascontiguousarray(per_tap_kernel.transpose(0, 2, 3, 1))  # taps,G,F/G,C/G
    channels = groups * per_group_in
    dtype = np.result_type(g, kernel)
    dxp = np.zeros((g.shape[0],) + geo.padded_size + (channels,), dtype=dtype)
    share_and_dxp = (int(np.prod(geo.out_size)) + int(np.prod(geo.padded_size))) * channels
    for chunk in _batch_chunks(g.shape[0], share_and_dxp * dtype.itemsize):
        g_chunk = g[chunk]
        grouped = _grouped_channels(g_chunk, groups)            # (G, positions, F/G)
        shares = (_ungrouped_channels(np.matmul(grouped, tap_kernel), g_chunk.shape[:-1])
                  for tap_kernel in per_tap_kernel)             # each (chunk, *out, C)
        geo.add_taps(dxp[chunk], shares)
    return geo.unpad(dxp)


def _conv_kernel_grad(x, g, kernel_shape, geo, groups):
    """Gradient with respect to the kernel: windows transposed times `g`.

    Summed over chunks of the batch (`_batch_chunks`).
    """
    xp = geo.pad(x)
    filters = kernel_shape[-1]
    w = np.zeros((groups, geo.taps * kernel_shape[-2], filters // groups),
                 dtype=np.result_type(x, g))
    for chunk in _batch_chunks(x.shape[0], _rows_bytes(geo, x.shape[-1], x.dtype)):
        rows = _rows(geo.windows(xp[chunk]), groups)            # (G, positions, taps * C/G)
        w += np.matmul(rows.transpose(0, 2, 1), _grouped_channels(g[chunk], groups))
    return _ungrouped_kernel(w, tuple(kernel_shape), groups)


# --- primitives -------------------------------------------------------------------------

@primitive(wants_needs=True)
def conv(x, kernel, strides=None, dilation=None, padding=None, groups=1):
    """N-d convolution (cross-correlation, as TensorFlow's), channels last.

    `out[b, o, f] = sum over taps k and channels c of
    xp[b, o * strides + k * dilation, c] * kernel[k, c, f]` (multi-indices over
    the spatial axes), where `xp` is `x` zero-padded by `padding`. With
    `groups > 1`, filter `f` only sees the input channels of its group
    `f // (filters / groups)`, and `c` runs over that group's channels.

    # Arguments
        x: `(batch, *spatial, channels)`.
        kernel: `(*kernel_size, channels / groups, filters)`.
        strides, dilation: one int per spatial axis (None: all 1).
        padding: one `(before, after)` pair of zeros per spatial axis.
        groups: number of channel groups; `filters` must be divisible by it.

    # Returns
        `(batch, *out, filters)`, with `out` given by `output_length`.

    # Raises
        ValueError: for mismatched shapes or a window larger than the padded input.
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    groups = _check_conv(x.shape, kernel.shape, groups, 'conv')
    geo = _Geometry(x.shape, kernel.shape[:-2], strides, dilation, padding, 'conv')
    return _conv_output(x, kernel, geo, groups)


@conv.defgrad
def _conv_grad(g, out, x, kernel, strides=None, dilation=None, padding=None, groups=1,
               needs=(True, True)):
    geo = _Geometry(np.shape(x), np.shape(kernel)[:-2], strides, dilation, padding, 'conv')
    gx = _conv_input_grad(g, kernel, geo, groups) if needs[0] else None
    gk = _conv_kernel_grad(x, g, np.shape(kernel), geo, groups) if needs[1] else None
    return gx, gk


def _transpose_geometry(x_shape, kernel_shape, output_size, strides, dilation, padding, groups):
    """The geometry of the convolution that `conv_transpose` is the transpose of."""
    groups = int(groups)
    rank = len(x_shape) - 2
    if output_size is None or len(output_size) != rank:
        raise ValueError('conv_transpose: `output_size` must give one size per spatial axis of '
                         'the input of shape %s; received %r.' % (tuple(x_shape), output_size))
    filters = kernel_shape[-2] * groups
    y_shape = (x_shape[0],) + tuple(int(n) for n in output_size) + (filters,)
    _check_conv(y_shape, kernel_shape, groups, 'conv_transpose')
    if x_shape[-1] != kernel_shape[-1]:
        raise ValueError('conv_transpose: the input of shape %s has %d channels, but the kernel '
                         'of shape %s expects %d (its last axis).'
                         % (tuple(x_shape), x_shape[-1], tuple(kernel_shape), kernel_shape[-1]))
    geo = _Geometry(y_shape, kernel_shape[:-2], strides, dilation, padding, 'conv_transpose')
    if geo.out_size != tuple(x_shape[1:-1]):
        raise ValueError('conv_transpose: an output of spatial size %s does not match the input '
                         'of shape %s: a convolution with kernel size %s, strides %s, dilation '
                         '%s and padding %s maps that size to %s.'
                         % (tuple(output_size), tuple(x_shape), geo.kernel_size, geo.strides,
                            geo.dilation, geo.padding, geo.out_size))
    return geo, y_shape


@primitive(wants_needs=True)
def conv_transpose(x, kernel, output_size=None, strides=None, dilation=None, padding=None,
                   groups=1):
    """Transposed convolution (the adjoint of `conv`), channels last.

    `conv_transpose(x, kernel, ...)` is the gradient of `conv(y, kernel, ...)`
    with respect to `y` (of spatial size `output_size`) for upstream gradient
    `x`: every input element spreads `x * kernel` over the output window it
    would have been computed from. This is what TensorFlow's
    `conv2d_transpose` computes, with the same kernel layout.

    # Arguments
        x: `(batch, *spatial, in_channels)`.
        kernel: `(*kernel_size, filters / groups, in_channels)`.
        output_size: the output's spatial sizes.
        strides, dilation, padding, groups: those of the convolution that maps
            the output back to `x`'s shape.

    # Returns
        `(batch, *output_size, filters)`.

    # Raises
        ValueError: for mismatched shapes, or an `output_size` that the
            convolution would not map to `x`'s spatial size.
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    geo, _ = _transpose_geometry(x.shape, kernel.shape, output_size, strides, dilation, padding,
                                 groups)
    return _conv_input_grad(x, kernel, geo, int(groups))


@conv_transpose.defgrad
def _conv_transpose_grad(g, out, x, kernel, output_size=None, strides=None, dilation=None,
                         padding=None, groups=1, needs=(True, True)):
    geo, _ = _transpose_geometry(np.shape(x), np.shape(kernel), output_size, strides, dilation,
                                 padding, groups)
    groups = int(groups)
    gx = _conv_output(g, kernel, geo, groups) if needs[0] else None
    gk = _conv_kernel_grad(g, x, np.shape(kernel), geo, groups) if needs[1] else None
    return gx, gk


def _pool_geometry(x, pool_size, strides, padding, what):
    x = np.asarray(x)
    if pool_size is None:
        raise ValueError('%s needs a `pool_size`.' % what)
    return x, _Geometry(x.shape, pool_size, strides, None, padding, what)


@primitive()
def max_pool(x, pool_size=None, strides=None, padding=None):
    """N-d max pooling, channels last.

    `out[b, o, c] = max over taps k of xp[b, o * strides + k, c]`, where `xp`
    is `x` padded with `-inf` (padding never wins, as in TensorFlow's 'SAME').

    # Arguments
        x: `(batch, *spatial, channels)`.
        pool_size, strides: one int per spatial axis (strides None: all 1).
        padding: one `(before, after)` pair per spatial axis.

    # Returns
        `(batch, *out, channels)`.

    The gradient goes to one maximum per window: the first in the window's
    row-major order when several elements tie.
    """
    x, geo = _pool_geometry(x, pool_size, strides, padding, 'max_pool')
    xp = geo.pad(x, -np.inf)
    # The maximum folded over the taps, one whole-array `np.maximum` per tap (faster
    # than `windows(xp).max(...)`, which reduces over short strided axes).
    taps = [xp[geo.tap_region(tap)] for tap in np.ndindex(*geo.kernel_size)]
    if len(taps) == 1:
        return taps[0].copy()
    out = np.maximum(taps[0], taps[1])
    for tap in taps[2:]:
        np.maximum(out, tap, out=out)
    return out


@max_pool.defgrad
def _max_pool_grad(g, out, x, pool_size=None, strides=None, padding=None):
    x, geo = _pool_geometry(x, pool_size, strides, padding, 'max_pool')
    xp = geo.pad(x, -np.inf)
    if geo.disjoint:
        return (geo.unpad(_disjoint_max_pool_grad(g, out, xp, geo)),)
    dxp = np.zeros(xp.shape, dtype=g.dtype)
    unclaimed = np.ones(out.shape, dtype=bool)   # windows whose maximum is not found yet
    for tap in np.ndindex(*geo.kernel_size):
        region = geo.tap_region(tap)
        winner = np.equal(xp[region], out)
        winner &= unclaimed
        dxp[region] += g * winner
        unclaimed ^= winner
    return (geo.unpad(dxp),)


def _disjoint_max_pool_grad(g, out, xp, geo):
    """The max-pooling gradient (padded) when no two windows overlap.

    Every input element then belongs to at most one window, so the gradient
    is written through a writeable `windows` view of the result: `g` where an
    element is its window's first maximum, 0 elsewhere, in three whole-array
    operations (the loop over taps only works on booleans).
    """
    at_window = (slice(None),) * (1 + geo.rank) + (None,) * geo.rank   # (b, *out, [*kernel], c)
    is_max = geo.windows(xp) == out[at_window]                           # (b, *out, *kernel, c)
    unclaimed = np.ones(out.shape, dtype=bool)   # windows whose maximum is not found yet
    for tap in np.ndindex(*geo.kernel_size):
        winner = is_max[(slice(None),) * (1 + geo.rank) + tap]
        winner &= unclaimed
        unclaimed ^= winner
    dxp = np.zeros(xp.shape, dtype=g.dtype)
    np.multiply(is_max, g[at_window], out=geo.windows(dxp, writeable=True))
    return dxp


def _valid_counts(geo, dtype):
    """How many non-padding elements each window holds, shaped `(1, *out, 1)`."""
    counts = np.ones((1,) * (geo.rank + 2), dtype=dtype)
    for axis, (n, k, s, (before, _), o) in enumerate(zip(
            geo.in_size, geo.kernel_size, geo.strides, geo.padding, geo.out_size)):
        start = np.arange(o) * s - before
        per_axis = np.minimum(start + k, n) - np.maximum(start, 0)
        shape = [1] * (geo.rank + 2)
        shape[axis + 1] = o
        counts = counts * per_axis.reshape(shape).astype(dtype)
    return counts


@primitive()
def avg_pool(x, pool_size=None, strides=None, padding=None):
    """N-d average pooling, channels last.

    The mean of each window over its elements that are not padding (as
    TensorFlow's 'SAME' average pooling: padding is not counted).

    # Arguments
        x: `(batch, *spatial, channels)`.
        pool_size, strides: one int per spatial axis (strides None: all 1).
        padding: one `(before, after)` pair per spatial axis.

    # Returns
        `(batch, *out, channels)`.
    """
    x, geo = _pool_geometry(x, pool_size, strides, padding, 'avg_pool')
    spatial_window_axes = tuple(range(1 + geo.rank, 1 + 2 * geo.rank))
    sums = geo.windows(geo.pad(x)).sum(axis=spatial_window_axes)
    return sums / _valid_counts(geo, sums.dtype)


@avg_pool.defgrad
def _avg_pool_grad(g, out, x, pool_size=None, strides=None, padding=None):
    x, geo = _pool_geometry(x, pool_size, strides, padding, 'avg_pool')
    share = g / _valid_counts(geo, g.dtype)
    dxp = np.zeros((x.shape[0],) + geo.padded_size + (x.shape[-1],), dtype=g.dtype)
    for tap in np.ndindex(*geo.kernel_size):
        dxp[geo.tap_region(tap)] += share
    return (geo.unpad(dxp),)
