"""Keeping freed memory for reuse: glibc's malloc told not to hand it back at once.

A training step allocates its activations and gradients afresh (the tape
holds them until the backward pass ends) and frees them at the end of the
step: on the `cnn` workload some forty arrays of 1 to 20 MB. With its default
settings glibc's malloc serves the largest of them with `mmap` and returns
them, and the free memory at the top of its heap, to the kernel on `free`.
The next step's arrays of the same sizes then start on fresh pages, which
the kernel has to map and zero on first touch: about 7,500 page faults per
step, some 30 ms of a 175 ms step spent in the kernel on the project's 2-core
machine. TensorFlow's own allocator keeps freed blocks for reuse, and so does
refkeras's process once `keep_freed_memory` has run: blocks up to 32 MB come
from the heap, and up to 256 MB of free memory at its top stay mapped. The
step then took 160 to 169 ms with about 20 page faults, and the process's
peak memory did not grow; an epoch went from 8.55 s to 7.60 s (`mlp`: 3.68 s
to 3.50 s), measured with `benchmarks/compare_revisions.py` against the
revision before this setting. `benchmarks/bench_cnn.py --malloc-defaults`
measures the epoch without it. No result changes.

glibc reads its own variables `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`
and `GLIBC_TUNABLES` when a program starts; a user who sets any of them
has chosen, and importing refkeras leaves the settings alone (README, "Speed
on a shared machine"). Elsewhere than on glibc nothing is changed.
"""
import ctypes
import os
import platform

#: Blocks up to this size come from the heap (glibc's upper limit for its own
#: dynamic threshold, on 64-bit systems).
MMAP_THRESHOLD = 32 * 2 ** 20
#: Free memory at the heap's top above this size goes back to the kernel.
TRIM_THRESHOLD = 256 * 2 ** 20

# The parameter numbers of mallopt, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: The environment variables through which a user sets glibc's malloc.
USER_SETTINGS = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'GLIBC_TUNABLES')


def keep_freed_memory():
    """Sets glibc's mmap and trim thresholds, unless the user set malloc up.

    # Returns
        True if this call changed the settings; False where the process does
        not run on glibc, or an environment variable of `USER_SETTINGS` is set.
    """
    if any(name in os.environ for name in USER_SETTINGS):
        return False
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
                mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
