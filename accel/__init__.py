"""accel: the Numba CUDA backend of refkeras, checked against the NumPy reference.

What it offers (this layer):
- `DeviceArray`, `to_device`, `to_host`: arrays in device memory (`accel.arrays`).
- `implementation_table()`: every primitive of `refkeras.backend.REGISTRY`,
  forward and gradient, as Numba CUDA kernels on device arrays, with the
  reference's signatures (`accel.table`); `refkeras.backend.tape.
  set_implementation_table` can route the reference's dispatcher to it.
- `is_available()`, `device_info()`: whether there is a CUDA GPU, or the CUDA
  simulator (`NUMBA_ENABLE_CUDASIM=1`), to run on (`accel.device`).

Layout: `accel/prims_*.py` mirror `refkeras/backend/prims_*.py` (one accel
primitive per reference primitive, same name and signature; see
`accel/registry.py` for adding one); `accel/kernels/` holds the Numba CUDA
kernels they launch; `python -m accel.compile_check` compiles every kernel
specialisation a simulator run launched with the real CUDA compiler (no GPU
needed), since the simulator does not type-check kernels.

Not yet: training with it end to end (keeping weights and optimizer slots on
the device during `fit`), the automatic backend choice of the FAQ, fused
kernels. Importing `accel` does not import Numba; the first use does.
"""
from accel.device import AccelUnavailableError, describe as device_info, is_available  # noqa: F401
from accel.errors import (AccelDtypeError, AccelError, AccelIndexError,  # noqa: F401
                          AccelMemoryError, AccelShapeError)

#: The backend name `K.backend()` will report when accel runs.
BACKEND_NAME = 'numba'

__all__ = ['BACKEND_NAME', 'AccelDtypeError', 'AccelError', 'AccelIndexError',
           'AccelMemoryError', 'AccelShapeError', 'AccelUnavailableError', 'DeviceArray',
           'device_info', 'implementation_table', 'is_available', 'to_device', 'to_host']


def __getattr__(name):
    # Lazy: these need numba; `import accel` alone must work without it.
    if name in ('DeviceArray', 'to_device', 'to_host'):
        from accel import arrays
        return getattr(arrays, name)
    if name == 'implementation_table':
        from accel.table import implementation_table
        return implementation_table
    raise AttributeError("module 'accel' has no attribute %r" % name)
