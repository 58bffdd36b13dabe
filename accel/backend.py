"""accel as refkeras's 'numba' backend: the primitives, and where values live.

`implementation()` gives what `refkeras.backend.tape.set_implementation_table`
takes: the implementation table (every reference primitive as Numba CUDA
kernels, `accel.table`) and `DeviceArrays`, which keeps tensor values in
device memory. refkeras installs both when `keras.json` / `KERAS_BACKEND`
choose 'numba' (or 'auto' on a machine with a GPU), or inside
`refkeras.backend.using_backend('numba')`.

`DeviceArrays` is the only way values cross between host and device while
refkeras runs: `K.variable`, `assign`, `K.set_value` and the engine's input
batches copy host data in through `array`; `K.get_value`, `get_weights`,
saving and the logged scalars copy out through `to_host`. A `DeviceArray`
reaching NumPy otherwise raises (see `accel.arrays`).
"""
import numpy as np

from accel import arrays
from accel.device import require
from accel.table import implementation_table


class DeviceArrays(object):
    """How the 'numba' backend stores tensor values: `DeviceArray`s.

    Device arrays are never written in place (primitives make new ones;
    `assign` replaces a variable's array), so an array already on the device
    is shared rather than copied.
    """

    name = 'numba'

    @staticmethod
    def is_array(x):
        return isinstance(x, arrays.DeviceArray)

    @staticmethod
    def array(value, dtype=None, copy=True):
        """`value` as a `DeviceArray` of `dtype`: host data is converted on the
        host, then copied in; a device array is cast on the device if needed.

        # Raises
            AccelDtypeError: for a dtype accel does not support, naming the
                array's shape.
            AccelMemoryError: when the device is out of memory.
        """
        if isinstance(value, arrays.DeviceArray):
            return arrays.to_device(value, dtype)
        return arrays.to_device(np.asarray(value, dtype=dtype))

    @staticmethod
    def to_host(value):
        """A new NumPy array holding `value` (copied from the device if it is there)."""
        if isinstance(value, arrays.DeviceArray):
            return arrays.to_host(value)
        return np.array(value)

    @staticmethod
    def full(shape, fill_value, dtype):
        """A device array of `shape` filled with `fill_value` (no transfer)."""
        return arrays.full(tuple(int(s) for s in shape), fill_value, np.dtype(dtype))


def implementation():
    """`(table, DeviceArrays)` for `set_implementation_table`.

    # Raises
        AccelUnavailableError: if there is no GPU and no simulator.
        IncompleteTableError: if accel lacks a reference primitive.
    """
    require()
    return implementation_table(), DeviceArrays
