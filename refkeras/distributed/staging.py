"""Moving gradients between the backend's memory and MPI's buffers.

MPI reads and writes one flat buffer per step: every gradient, flattened, in
the order of the model's trainable weights. Putting all gradients in one
buffer makes one reduction per step instead of one per weight (Horovod calls
this tensor fusion).

`HostStaging` serves the reference backend, whose gradients are NumPy arrays:
they are copied into the buffer, and the reduced values copied out as new
arrays. With the `numba` accelerator, `staging_for_backend` returns accel's
`PinnedStaging` instead: the gradients are copied from device memory into a
page-locked host buffer, reduced there, and copied back to the device. (With
a CUDA-aware MPI the device buffers could be handed to MPI directly; see
docs/distributed.md for what is owed there.)
"""
import numpy as np

from refkeras import backend as K
from refkeras.backend import state as backend_state


class HostStaging(object):
    """Flat host buffers for gradients held by any backend (copies through `to_host`)."""

    kind = 'host'

    def __init__(self):
        self._buffer = None

    def buffer(self, count, dtype):
        """A reusable 1-D host buffer of `count` elements of `dtype`."""
        if self._buffer is None or self._buffer.size != count or self._buffer.dtype != dtype:
            self._buffer = self._allocate(count, dtype)
        return self._buffer

    @staticmethod
    def _allocate(count, dtype):
        return np.empty(count, dtype=dtype)

    def pack(self, grads, dtype):
        """The step's buffer: `[grad_0.ravel(), grad_1.ravel(), ...]` as `dtype`."""
        sizes = [int(np.prod(K.int_shape(g) or (), dtype=np.int64)) for g in grads]
        flat = self.buffer(sum(sizes), dtype)
        start = 0
        for g, size in zip(grads, sizes):
            self._copy_out(g, flat[start:start + size])
            start += size
        return flat

    @staticmethod
    def _copy_out(grad, target):
        target[:] = K.backend_arrays().to_host(K.value_of(grad)).reshape(-1)

    def unpack(self, flat, grads):
        """Backend arrays shaped like `grads`, read from `flat`."""
        out = []
        start = 0
        for g in grads:
            shape = tuple(K.int_shape(g) or ())
            size = int(np.prod(shape, dtype=np.int64))
            out.append(self._copy_in(flat[start:start + size].reshape(shape), K.dtype(g)))
            start += size
        return out

    @staticmethod
    def _copy_in(values, dtype):
        return K.backend_arrays().array(values, dtype=dtype)


def staging_for_backend():
    """The staging the running backend needs: its plugin's (accel: pinned host
    buffers), or host arrays for the reference."""
    plugin = backend_state.backend_plugin()
    staging = None if plugin is None else plugin.gradient_staging()
    return HostStaging() if staging is None else staging
