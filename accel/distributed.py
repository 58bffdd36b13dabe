"""accel's part in `refkeras.distributed`: one GPU per rank, and pinned staging buffers.

`select_device(local_rank)` gives each rank of a machine its own GPU (rank i
takes GPU `i % gpu_count`), as Horovod's guide pins one GPU per process; it
must run before the rank's first kernel. On the CUDA simulator there is one
simulated device and every rank takes it.

`PinnedStaging` moves each step's gradients from device memory into one
page-locked host buffer, where MPI reads them, and the averaged gradients back
to the device. `cuda_aware_mpi()` tells whether the MPI library could read
device memory itself; MPICH's wheel cannot, so the pinned path is the one used
(and the one tested, under `NUMBA_ENABLE_CUDASIM=1`).
"""
from accel.arrays import DeviceArray, to_device
from accel.device import gpu_count, require, simulator_requested
from refkeras.distributed.staging import HostStaging


def select_device(local_rank):
    """Makes GPU `local_rank % gpu_count()` this process's device; returns its index.

    # Arguments
        local_rank: the rank of this process among the ranks of its machine.

    # Raises
        AccelUnavailableError: when there is neither a GPU nor the simulator.
    """
    require()
    from numba import cuda
    if simulator_requested():
        return 0
    index = local_rank % max(gpu_count(), 1)
    cuda.select_device(index)
    return index


def cuda_aware_mpi():
    """Whether the MPI library reports that it can read and write CUDA device memory."""
    if simulator_requested():
        return False
    from mpi4py import MPI
    query = getattr(MPI, 'Query_cuda_support', None)
    return bool(query()) if query is not None else False


class PinnedStaging(HostStaging):
    """Gradient buffers in page-locked host memory, filled from and emptied to the device."""

    kind = 'pinned'

    @staticmethod
    def _allocate(count, dtype):
        require()
        from numba import cuda
        return cuda.pinned_array(count, dtype=dtype)

    @staticmethod
    def _copy_out(grad, target):
        value = getattr(grad, 'value', grad)
        if isinstance(value, DeviceArray) and value.dtype == target.dtype:
            if value.size:
                value.data.copy_to_host(target)  # device -> pinned, no NumPy temporary
        else:
            HostStaging._copy_out(grad, target)

    @staticmethod
    def _copy_in(values, dtype):
        return to_device(values, dtype=dtype)
