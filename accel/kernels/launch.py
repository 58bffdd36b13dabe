"""Shared launch helpers: the `cuda` module, grid sizes, shape coalescing, `run`."""
import functools
import json
import os

import numpy as np

from accel.device import require

require()
# Numba after `require()`: only once a device or the simulator is confirmed.
from numba import cuda, from_dtype  # noqa: E402
from numba.core import config  # noqa: E402

from accel import budget, simulator  # noqa: E402
from accel.arrays import contiguous_strides  # noqa: E402

simulator.install()   # a no-op on a GPU

#: Whether kernels run in Numba's CUDA simulator (Python threads) rather than on a GPU.
SIMULATOR = bool(config.ENABLE_CUDASIM)

# Launch shapes never change results here: every kernel loops (grid-stride) over
# whatever its grid does not cover, and reductions fix their order by the data's
# shape, not by the grid. So the simulator, where each block is a set of Python
# threads polled by the scheduler, gets small grids: the same code, far faster.

#: Threads per block of the one-dimensional (grid-stride) kernels.
THREADS = 64 if SIMULATOR else 256
#: Upper bound on blocks of a grid-stride launch; each thread loops beyond it.
MAX_BLOCKS = 2 if SIMULATOR else 65535


def grid_1d(n, threads=THREADS):
    """`(blocks, threads)` for a grid-stride loop over `n` items (n >= 1)."""
    threads = int(min(threads, max(n, 1)))
    blocks = int(min(MAX_BLOCKS, (n + threads - 1) // threads))
    return max(blocks, 1), threads


def next_pow2(n, cap):
    """The smallest power of two >= n, at most `cap`."""
    p = 1
    while p < n and p < cap:
        p *= 2
    return p


def coalesce(shape, *strides):
    """Drops size-1 axes and merges neighbours that are contiguous for every operand.

    A C-contiguous operand of shape (a, b, c) is one axis of a*b*c elements;
    broadcasting against a scalar keeps stride 0 everywhere. Fewer axes mean
    fewer divisions per element in the kernels.

    # Arguments
        shape: the iteration shape.
        *strides: one stride tuple (in elements) per operand, as long as `shape`.

    # Returns
        `(shape, strides_list)`, each of rank >= 1.
    """
    dims = [(n, [s[d] for s in strides]) for d, n in enumerate(shape) if n != 1]
    merged = []
    for n, st in dims:
        if merged:
            pn, pst = merged[-1]
            if all(ps == s * n for ps, s in zip(pst, st)):
                merged[-1] = (pn * n, st)
                continue
        merged.append((n, st))
    if not merged:
        merged = [(1, [0] * len(strides))]
    new_shape = tuple(int(n) for n, _ in merged)
    new_strides = [tuple(int(st[k]) for _, st in merged) for k in range(len(strides))]
    return new_shape, new_strides


def broadcast_strides(shape, out_shape):
    """Element strides reading a C-contiguous array of `shape` broadcast to `out_shape`."""
    own = contiguous_strides(shape)
    lead = len(out_shape) - len(shape)
    strides = [0] * lead
    for n, s in zip(shape, own):
        strides.append(0 if n == 1 else s)
    return tuple(strides)


def numba_type(dtype):
    """The Numba scalar type of a NumPy dtype."""
    return from_dtype(np.dtype(dtype))


@cuda.jit(device=True)
def strided_offset(i, shape, strides):
    """Offset of the C-order linear index `i` of `shape` in an array with `strides`."""
    off = 0
    for d in range(len(shape) - 1, 0, -1):
        n = shape[d]
        off += (i % n) * strides[d]
        i //= n
    return off + i * strides[0]


# --- launching, and recording what was launched --------------------------------
#
# Every launch goes through `run`. With ACCEL_RECORD_LAUNCHES=<file> set, each
# distinct (kernel, argument types) pair is also appended to that file, so that
# `accel.tools.compile_check` can later compile exactly those specialisations
# with the real CUDA compiler (the simulator does not type-check kernels).

_RECORDED = set()


def _origin(obj):
    """A JSON-able recipe naming how a kernel (or a factory key item) is obtained."""
    recipe = getattr(obj, '_accel_recipe', None)
    if recipe is not None:
        return recipe
    fn = getattr(obj, 'py_func', None) or getattr(obj, 'fn', None)
    if fn is not None:
        return ['function', fn.__module__, fn.__name__]
    if isinstance(obj, np.dtype):
        return ['dtype', obj.str]
    if isinstance(obj, type) and issubclass(obj, np.generic):
        return ['dtype', np.dtype(obj).str]
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        return ['value', obj]
    if isinstance(obj, tuple):
        return ['tuple'] + [_origin(o) for o in obj]
    raise TypeError('cannot describe %r for the launch record' % (obj,))


def kernel_factory(factory):
    """Caches a kernel factory and tags its kernels with how they were made."""
    cached = functools.lru_cache(maxsize=None)(factory)

    @functools.wraps(factory)
    def make(*key):
        kernel = cached(*key)
        if getattr(kernel, '_accel_recipe', None) is None:
            try:
                kernel._accel_recipe = ['factory', factory.__module__, factory.__name__,
                                        [_origin(k) for k in key]]
            except (AttributeError, TypeError):
                pass
        return kernel
    return make


def _arg_type(a):
    """The Numba type name the real compiler would see for a launch argument."""
    if hasattr(a, 'dtype') and hasattr(a, 'shape') and not isinstance(a, np.generic):
        return ['array', np.dtype(a.dtype).str, len(a.shape)]
    if isinstance(a, tuple):
        return ['tuple'] + [_arg_type(x) for x in a]
    if isinstance(a, (bool, np.bool_)):
        return ['scalar', '|b1']
    if isinstance(a, int):
        return ['scalar', '<i8']
    if isinstance(a, float):
        return ['scalar', '<f8']
    if isinstance(a, np.generic):
        return ['scalar', a.dtype.str]
    raise TypeError('unexpected kernel argument %r' % (a,))


def _record(kernel, args):
    path = os.environ.get('ACCEL_RECORD_LAUNCHES')
    if not path:
        return
    try:
        entry = json.dumps([_origin(kernel), [_arg_type(a) for a in args]])
    except TypeError:
        return
    if entry in _RECORDED:
        return
    _RECORDED.add(entry)
    with open(path, 'a') as f:
        f.write(entry + '\n')


def run(kernel, grid, block, *args):
    """Launches `kernel[grid, block](*args)` (counted in `accel.budget`, and
    recorded when asked to)."""
    budget.TOTALS.launches += 1
    if 'ACCEL_RECORD_LAUNCHES' in os.environ:
        _record(kernel, args)
    kernel[grid, block](*args)

