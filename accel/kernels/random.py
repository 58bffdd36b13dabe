"""Random draws with a counter-based generator: Philox-4x32-10.

Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011)
turns a 64-bit key and a 128-bit counter into four independent 32-bit words
with ten rounds of multiplications and xors, so element `i` of a draw is a pure
function of `(key, i)`: no generator state on the device, any launch shape,
the same numbers every time.

The key of each draw comes from NumPy: two 32-bit words taken from the
reference's generator for the draw's `seed` (NumPy's global generator when
`seed` is None, see `refkeras.backend.prims_nn.generator`). So
`np.random.seed(n)` before building a model makes accel's initial weights and
dropout masks repeat from run to run exactly as it does for the reference
(FAQ: "How can I obtain reproducible results using Keras during development?"),
though the numbers themselves differ from the reference's.

Counter layout: word 0/1 = element index (low/high), word 2 = redraw round
(truncated normal), word 3 = 0.
"""
import math

import numpy as np

from accel import arrays
from accel.kernels.launch import cuda, grid_1d, run
from refkeras.backend.prims_nn import generator

_MASK = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_TWO_POW_M24 = 1.0 / 16777216.0
_TWO_POW_M32 = 1.0 / 4294967296.0
_TWO_POW_M53 = 1.0 / 9007199254740992.0
_TWO_PI = 2.0 * math.pi
#: Truncated normal: give up redrawing after this many rounds (probability 0.0455**64).
MAX_ROUNDS = 64


@cuda.jit(device=True)
def philox(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 of counter (c0..c3) under key (k0, k1); all uint64 < 2**32."""
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0 = p0 >> _SHIFT
        lo0 = p0 & _MASK
        hi1 = p1 >> _SHIFT
        lo1 = p1 & _MASK
        n0 = (hi1 ^ c1 ^ k0) & _MASK
        n2 = (hi0 ^ c3 ^ k1) & _MASK
        c0 = n0
        c1 = lo1
        c2 = n2
        c3 = lo0
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


@cuda.jit(device=True)
def _counter(i):
    return np.uint64(i) & _MASK, np.uint64(i) >> _SHIFT


@cuda.jit(device=True)
def _uniform(w0, w1, wide):
    """A uniform in [0, 1): 24 random bits (float32) or 53 (float64)."""
    if wide:
        return ((w0 >> np.uint64(5)) * 67108864.0 + (w1 >> np.uint64(6))) * _TWO_POW_M53
    return (w0 >> np.uint64(8)) * _TWO_POW_M24


@cuda.jit(device=True)
def _normal(w0, w1):
    """A standard normal by Box-Muller, from two 32-bit words, in float64."""
    u1 = (w0 + np.uint64(1)) * _TWO_POW_M32      # (0, 1]: log is finite
    u2 = w1 * _TWO_POW_M32
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@cuda.jit
def _uniform_kernel(out, n, k0, k1, low, span, wide):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        c0, c1 = _counter(i)
        w0, w1, w2, w3 = philox(c0, c1, np.uint64(0), np.uint64(0), k0, k1)
        out[i] = low + span * _uniform(w0, w1, wide)


@cuda.jit
def _normal_kernel(out, n, k0, k1, mean, stddev, truncate):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        c0, c1 = _counter(i)
        z = 0.0
        for r in range(MAX_ROUNDS):
            w0, w1, w2, w3 = philox(c0, c1, np.uint64(r), np.uint64(0), k0, k1)
            z = _normal(w0, w1)
            if not truncate or abs(z) <= 2.0:
                break
        if truncate and abs(z) > 2.0:
            z = 0.0
        out[i] = mean + stddev * z


@cuda.jit
def _binomial_kernel(out, n, k0, k1, p):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        c0, c1 = _counter(i)
        w0, w1, w2, w3 = philox(c0, c1, np.uint64(0), np.uint64(0), k0, k1)
        if _uniform(w0, w1, True) < p:
            out[i] = 1
        else:
            out[i] = 0


def draw_key(seed):
    """Two 32-bit key words from the reference's generator for `seed`."""
    words = generator(seed).randint(0, 2 ** 32, size=2, dtype=np.uint64)
    return np.uint64(words[0]), np.uint64(words[1])


def _launch(kernel, shape, dtype, *params, seed=None):
    out = arrays.empty(shape, dtype)
    k0, k1 = draw_key(seed)
    if out.size:
        blocks, threads = grid_1d(out.size)
        run(kernel, blocks, threads, out.data, out.size, k0, k1, *params)
    return out


def uniform(shape, minval, maxval, dtype, seed=None):
    """Uniform draws in `[minval, maxval)` (computed in float64, then converted)."""
    wide = np.dtype(dtype) == np.float64
    return _launch(_uniform_kernel, shape, dtype, float(minval), float(maxval) - float(minval),
                   bool(wide), seed=seed)


def normal(shape, mean, stddev, dtype, seed=None, truncate=False):
    """Normal draws; with `truncate`, redrawn until within two standard deviations."""
    return _launch(_normal_kernel, shape, dtype, float(mean), float(stddev), bool(truncate),
                   seed=seed)


def binomial(shape, p, dtype, seed=None):
    """1 with probability `p`, else 0."""
    return _launch(_binomial_kernel, shape, dtype, float(p), seed=seed)
