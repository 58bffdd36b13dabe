"""accel: the Numba CUDA backend of refkeras, checked against the NumPy reference.

What it offers:
- `DeviceArray`, `to_device`, `to_host`: arrays in device memory (`accel.arrays`).
- `implementation_table()`: every primitive of `refkeras.backend.REGISTRY`,
  forward and gradient, as Numba CUDA kernels on device arrays, with the
  reference's signatures (`accel.table`).
- refkeras's 'numba' backend (`accel.backend`): that table plus
  `DeviceArrays`, which keeps tensor values in device memory. refkeras
  installs it when `keras.json` / `KERAS_BACKEND` say 'numba', or 'auto' (the
  default) on a machine with a CUDA GPU; `refkeras.backend.using_backend('numba')`
  runs a block with it. Training then stays on the device: weights, optimizer
  slots and hyperparameters, RNN states and BatchNormalization statistics are
  device arrays; each step copies in its batch and copies out the logged
  scalars; `K.get_value`, `get_weights` and saving copy to the host. Initial
  weights are drawn on the host (so a seed gives the reference's), then copied
  in once.
- `is_available()`, `device_info()`, `gpu_count()`: whether there is a CUDA
  GPU, or the CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`), to run on, and how
  many (`accel.device`; `multi_gpu_model` counts them).

Layout: `accel/prims_*.py` mirror `refkeras/backend/prims_*.py` (one accel
primitive per reference primitive, same name and signature; see
`accel/registry.py` for adding one); `accel/kernels/` holds the Numba CUDA
kernels they launch; `python -m accel.compile_check` compiles every kernel
specialisation a simulator run launched with the real CUDA compiler (no GPU
needed), since the simulator does not type-check kernels.

Beyond one kernel per primitive: fused primitives that the reference has too
(bias + activation, softmax + crossentropy, binary crossentropy, one update
kernel per optimizer step and parameter), reductions in a fixed order (so
training is bit-identical run after run), an `Embedding` whose lookups and
gradient stay on the device, and the next input batch copied on its own
stream while the current step runs (`accel.prefetch`). `accel.floors` counts
each kernel's floor (bytes over bandwidth, operations over the arithmetic
rate) for the GPU benchmarks (`docs/accel-benchmarks.md`).

Importing `accel` does not import Numba; the first use does.
"""
from accel import arrays
from accel.device import (AccelUnavailableError, describe as device_info,  # noqa: F401
                          gpu_count, is_available)
from accel.errors import (AccelDtypeError, AccelError, AccelIndexError,  # noqa: F401
                          AccelMemoryError, AccelShapeError)
from accel.table import implementation_table

#: The backend name `K.backend()` will report when accel runs.
BACKEND_NAME = 'numba'

__all__ = ['BACKEND_NAME', 'AccelDtypeError', 'AccelError', 'AccelIndexError',
           'AccelMemoryError', 'AccelShapeError', 'AccelUnavailableError', 'DeviceArray',
           'device_info', 'gpu_count', 'implementation_table', 'is_available', 'to_device',
           'to_host']


def __getattr__(name):
    # Lazy: these need numba; `import accel` alone must work without it.
    if name in ('DeviceArray', 'to_device', 'to_host'):
        return getattr(arrays, name)
    if name == 'implementation_table':
        return implementation_table
    raise AttributeError("module 'accel' has no attribute %r" % name)
