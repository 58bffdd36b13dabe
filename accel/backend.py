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


#: Device arrays up to this many elements are read back packed together (`read_back`).
PACKED_READ_BACK_ELEMENTS = 1024


def read_back(values):
    """A step's results as host arrays (what `refkeras.engine.feeding.read_back`
    gives), with one host synchronisation for all the small ones.

    Copying each logged scalar back on its own waits for the device once per
    scalar. Here the device arrays of at most `PACKED_READ_BACK_ELEMENTS`
    elements are first copied, on the device, into one buffer per dtype (one
    short launch each, queued behind the step), and each buffer comes back in
    one copy: one wait for the step however many scalars it logs. The bits are
    those of copying each array back.

    # Arguments
        values: a list of the step's results (device arrays, variables, host
            values).

    # Returns
        A list of NumPy arrays, in the order of `values`.
    """
    # Imported here: refkeras imports accel's plugin lazily; accel.kernels loads Numba.
    from refkeras import backend as K
    from accel.kernels.copy import copy_strided
    plain = [K.value_of(v) for v in values]
    small = {}
    for index, value in enumerate(plain):
        if isinstance(value, arrays.DeviceArray) and 0 < value.size <= PACKED_READ_BACK_ELEMENTS:
            small.setdefault(value.dtype.str, []).append(index)
    out = [None] * len(plain)
    for indices in small.values():
        if len(indices) == 1:
            continue
        total = sum(plain[i].size for i in indices)
        packed = arrays.empty((total,), plain[indices[0]].dtype)
        offset = 0
        for i in indices:
            copy_strided(plain[i], (plain[i].size,), (1,), out=packed, dst_base=offset)
            offset += plain[i].size
        host = arrays.to_host(packed)
        offset = 0
        for i in indices:
            out[i] = host[offset:offset + plain[i].size].reshape(plain[i].shape)
            offset += plain[i].size
    return [DeviceArrays.to_host(v) if got is None else got for v, got in zip(plain, out)]


def implementation():
    """`(table, DeviceArrays)` for `set_implementation_table`.

    # Raises
        AccelUnavailableError: if there is no GPU and no simulator.
        IncompleteTableError: if accel lacks a reference primitive.
    """
    require()
    return implementation_table(), DeviceArrays
