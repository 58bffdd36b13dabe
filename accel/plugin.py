"""accel as a refkeras backend plugin: the 'numba' entry of the group
`refkeras.backends` (see `refkeras.backend.plugins` for the protocol).

Importing this module is cheap: Numba is imported only by `implementation()`,
when refkeras switches to this backend.
"""
import accel
from accel import device
from accel.backend import implementation, read_back


class AccelBackend(object):
    """The 'numba' backend: every primitive as Numba CUDA kernels."""

    name = 'numba'

    def unavailable_reason(self):
        """None when accel can run here (a GPU, or the simulator requested),
        otherwise what is missing."""
        try:
            device.require()
        except device.AccelUnavailableError as err:
            return str(err)
        return None

    def gpu_ready(self):
        """Whether a real CUDA GPU is usable (asked without importing Numba)."""
        return device.gpu_usable()

    def gpu_count(self):
        """How many GPUs the running accel can use (1 under the simulator)."""
        return accel.gpu_count()

    def implementation(self):
        """The implementation table and `DeviceArrays` (imports Numba)."""
        return implementation()

    def read_back(self, values):
        """A step's results as host arrays, its small ones in one copy per dtype."""
        return read_back(values)

    def select_device(self, local_rank):
        """Computes on GPU `local_rank` of this machine (a distributed job's rank)."""
        from accel import distributed  # imported here: only a distributed job needs it
        return distributed.select_device(local_rank)

    def gradient_staging(self):
        """Pinned host buffers through which a distributed job's gradients travel."""
        from accel import distributed  # imported here: only a distributed job needs it
        return distributed.PinnedStaging()

    def batch_feed(self):
        """A `Prefetcher` (batch i+1 copied in while step i runs), or None
        when `accel.prefetch.ENABLED` is False."""
        from accel import prefetch  # imported here: at the top it would load Numba too early
        return prefetch.Prefetcher() if prefetch.ENABLED else None


BACKEND = AccelBackend()
