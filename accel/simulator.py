"""Making Numba's CUDA simulator safe for the block-shared arrays accel's kernels use.

The simulator (`NUMBA_ENABLE_CUDASIM=1`) runs each thread of a block as a
Python thread. numba-cuda 0.30's `FakeCUDAShared.array` gives a block's threads
their `cuda.shared.array` with an unlocked look-up-then-store keyed by the
calling line: when Python switches threads between the look-up and the store,
two threads of one block get two different arrays, and a reduction through
shared memory sums the wrong partial results. On a busy machine this happens
at random (it was seen as a wrong `add` gradient and as two evaluations of the
same model disagreeing). `install()` wraps the method in a lock, so every
thread of a block gets the one array; a real GPU is not affected.
"""
import sys
import threading
import traceback

import numpy as np

_INSTALLED = []


def install():
    """Replaces the simulator's shared-array allocation by a locked one (once).

    Does nothing unless Numba's CUDA simulator is the active CUDA target.
    """
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba.core import config
    if _INSTALLED or not config.ENABLE_CUDASIM:
        return
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba.cuda.simulator import kernelapi
    unlocked = kernelapi.FakeCUDAShared.array
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:   # dynamic shared memory, or the error
            return unlocked(self, shape, dtype, alignment)
        if isinstance(dtype, kernelapi.types.Type):
            dtype = kernelapi.numpy_support.as_dtype(dtype)
        line = traceback.extract_stack(sys._getframe())[-2][0:2]   # the kernel's line
        with lock:
            shared = self._allocations.get(line)
            if shared is None:
                shared = self._allocations[line] = np.empty(shape, dtype)
        return shared

    array.unlocked = unlocked
    kernelapi.FakeCUDAShared.array = array
    _INSTALLED.append(True)
