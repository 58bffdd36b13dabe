"""Sliding-window kernels for convolution and pooling, any number of spatial axes.

Arrays are channels last, `(batch, *spatial, channels)`. A window of output
position `o` (a multi-index over the spatial axes) covers input positions
`i = o * stride + k * dilation - pad_before` for kernel taps `k`; taps are
visited in row-major order, positions outside the input are padding.

- `pool`: one thread per output element walks its window's taps: the maximum
  (first maximum wins), the mean of the non-padding elements, or the index of
  the first tap equal to a given value (max-pooling's winner).
- `window_sum` (col2im and pooling gradients): one thread per *input* element
  gathers, tap by tap in row-major order, the contributions of every window
  that covers it. Each input element is written by one thread, so there are no
  atomics, and the additions happen in the order the reference's tap loop
  makes them.
"""
import numpy as np

from accel import arrays
from accel.kernels.launch import cuda, grid_1d, kernel_factory, run

MODE_MAX = 0
MODE_MEAN = 1
MODE_WINNER = 2


@cuda.jit(device=True)
def _input_offset(p, tap, out_strides, out_size, k_strides, ksize, strides, dilation,
                  pad_before, in_size, in_strides):
    """Offset (without batch and channel) of tap `tap` of window `p`, or -1 for padding."""
    off = 0
    for d in range(len(in_size)):
        o = (p // out_strides[d]) % out_size[d]
        k = (tap // k_strides[d]) % ksize[d]
        i = o * strides[d] + k * dilation[d] - pad_before[d]
        if i < 0 or i >= in_size[d]:
            return -1
        off += i * in_strides[d]
    return off


@kernel_factory
def _pool_kernel(mode, dtype):
    cast = np.dtype(dtype).type
    lowest = cast(-np.inf) if np.dtype(dtype).kind == 'f' else cast(np.iinfo(dtype).min)
    zero = cast(0)

    @cuda.jit
    def pool(out, x, ref, batch, channels, positions, in_size, in_strides, in_batch, out_size,
             out_strides, ksize, k_strides, taps, strides, dilation, pad_before):
        n = batch * positions * channels
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            c = j % channels
            t = j // channels
            p = t % positions
            b = t // positions
            best = lowest
            winner = -1
            total = zero
            count = 0
            for tap in range(taps):
                off = _input_offset(p, tap, out_strides, out_size, k_strides, ksize, strides,
                                    dilation, pad_before, in_size, in_strides)
                if off < 0:
                    v = lowest
                else:
                    v = x[b * in_batch + off + c]
                if mode == MODE_MAX:
                    if v != v and best == best:
                        best = v
                    elif v > best:
                        best = v
                elif mode == MODE_MEAN:
                    if off >= 0:
                        total += v
                        count += 1
                else:
                    if winner < 0 and v == ref[j]:
                        winner = tap
            if mode == MODE_MAX:
                out[j] = best
            elif mode == MODE_MEAN:
                out[j] = total / cast(count)
            else:
                out[j] = winner
    return pool


@kernel_factory
def _window_sum_kernel(mode, dtype):
    """mode 'cols': gx[i] = sum over (o, tap) covering i of cols[o, tap];
    'mean': sum of g[o] / count(o); 'winner': sum of g[o] where winner[o] == tap."""
    cast = np.dtype(dtype).type
    zero = cast(0)

    @cuda.jit
    def window_sum(gx, src, winner, batch, channels, in_size, in_strides, in_batch, out_size,
                   out_strides, positions, ksize, k_strides, taps, strides, dilation,
                   pad_before, col_p, col_tap, col_group, group_channels):
        n = batch * in_batch
        rank = len(in_size)
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            c = j % channels
            b = j // in_batch
            rest = (j % in_batch) // channels
            acc = zero
            for tap in range(taps):
                p = 0
                inside = True
                for d in range(rank):
                    i = (rest // (in_strides[d] // channels)) % in_size[d]
                    k = (tap // k_strides[d]) % ksize[d]
                    num = i + pad_before[d] - k * dilation[d]
                    if num < 0 or num % strides[d] != 0:
                        inside = False
                        break
                    o = num // strides[d]
                    if o >= out_size[d]:
                        inside = False
                        break
                    p += o * out_strides[d]
                if not inside:
                    continue
                if mode == 0:
                    g = c // group_channels
                    acc += src[g * col_group + (b * positions + p) * col_p + tap * col_tap
                               + c % group_channels]
                elif mode == 1:
                    count = 1
                    for d in range(rank):
                        o = (p // out_strides[d]) % out_size[d]
                        start = o * strides[d] - pad_before[d]
                        count *= min(start + ksize[d], in_size[d]) - max(start, 0)
                    acc += src[(b * positions + p) * channels + c] / cast(count)
                else:
                    q = (b * positions + p) * channels + c
                    if winner[q] == tap:
                        acc += src[q]
            gx[j] = acc
    return window_sum


class Windows(object):
    """The index bookkeeping of one convolution or pooling geometry.

    # Arguments
        geo: the reference's checked geometry (`refkeras.backend.prims_conv._Geometry`):
            `in_size`, `out_size`, `kernel_size`, `strides`, `dilation`, `padding`.
        batch, channels: of the input.
    """

    def __init__(self, geo, batch, channels):
        rank = geo.rank
        self.batch = int(batch)
        self.channels = int(channels)
        self.in_size = tuple(int(n) for n in geo.in_size)
        self.out_size = tuple(int(n) for n in geo.out_size)
        self.ksize = tuple(int(k) for k in geo.kernel_size)
        self.strides = tuple(int(s) for s in geo.strides)
        self.dilation = tuple(int(d) for d in geo.dilation)
        self.pad_before = tuple(int(a) for a, _ in geo.padding)
        self.in_strides = tuple(s * self.channels for s in arrays.contiguous_strides(self.in_size))
        self.in_batch = int(np.prod(self.in_size, dtype=np.int64)) * self.channels
        self.out_strides = arrays.contiguous_strides(self.out_size)
        self.positions = int(np.prod(self.out_size, dtype=np.int64))
        self.k_strides = arrays.contiguous_strides(self.ksize)
        self.taps = int(np.prod(self.ksize, dtype=np.int64))
        assert len(self.in_size) == rank

    def geometry_args(self):
        return (self.in_size, self.in_strides, self.in_batch, self.out_size, self.out_strides,
                self.ksize, self.k_strides, self.taps, self.strides, self.dilation,
                self.pad_before)


def pool(x, win, mode, ref=None):
    """Max (mode MODE_MAX) or mean (MODE_MEAN) over each window, or the first tap
    equal to `ref` (MODE_WINNER, int64 result). Output `(batch, *out, channels)`."""
    shape = (win.batch,) + win.out_size + (win.channels,)
    out = arrays.empty(shape, np.int64 if mode == MODE_WINNER else x.dtype)
    if out.size == 0:
        return out
    ref_data = (ref if ref is not None else x).data
    (in_size, in_strides, in_batch, out_size, out_strides, ksize, k_strides, taps, strides,
     dilation, pad_before) = win.geometry_args()
    blocks, threads = grid_1d(out.size)
    run(_pool_kernel(mode, x.dtype), blocks, threads, out.data, x.data, ref_data, win.batch,
        win.channels, win.positions, in_size, in_strides, in_batch, out_size, out_strides,
        ksize, k_strides, taps, strides, dilation, pad_before)
    return out


def window_sum(src, win, mode, dtype, winner=None, col_layout=(0, 0, 0, 1)):
    """Gathers window contributions back onto the input `(batch, *in, channels)`.

    # Arguments
        src: for mode 0, per-window values read at `g * col_group + (b * P + p) *
            col_p + tap * col_tap + channel_in_group` (`col_layout = (col_p,
            col_tap, col_group, group_channels)`); for modes 1 and 2, the upstream
            gradient `(batch, *out, channels)`.
        mode: 0 (col2im), 1 (average pooling), 2 (max pooling, with `winner`).
    """
    gx = arrays.empty((win.batch,) + win.in_size + (win.channels,), dtype)
    if gx.size == 0:
        return gx
    winner_data = (winner if winner is not None else src).data
    col_p, col_tap, col_group, group_channels = col_layout
    (in_size, in_strides, in_batch, out_size, out_strides, ksize, k_strides, taps, strides,
     dilation, pad_before) = win.geometry_args()
    blocks, threads = grid_1d(gx.size)
    run(_window_sum_kernel(mode, np.dtype(dtype)), blocks, threads, gx.data, src.data,
        winner_data, win.batch, win.channels, in_size, in_strides, in_batch, out_size,
        out_strides, win.positions, ksize, k_strides, taps, strides, dilation, pad_before,
        int(col_p), int(col_tap), int(col_group), int(group_channels))
    return gx
