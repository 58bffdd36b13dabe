"""Device arrays: what accel's primitives take and return.

A `DeviceArray` is a C-contiguous block of device memory plus the logical
`shape` and `dtype`: the buffer is always one-dimensional (`size` elements, C
order), so reshaping is free and every kernel indexes it with explicit strides.
Primitives never write into their inputs, so a reshape may share its buffer.

Host data reaches the device only through `to_device` (explicitly, or when a
primitive receives a NumPy array, which is how input batches come in); it comes
back only through `to_host` (or `DeviceArray.to_host()`, `float()`, `int()`).
`np.asarray(device_array)` raises instead of copying silently.

Python scalars (`int`, `float`, `bool`) are *weak* operands, as in NumPy 2: they
take the dtype of the array they meet (`x * 0.5` stays float32). On the device
they become one-element constants, cached per (value, dtype), broadcast with
stride 0, so a repeated `1 - x` costs no transfer after the first.
"""
import collections

import numpy as np

from accel import budget, pool
from accel.device import require
from accel.errors import AccelDtypeError, AccelMemoryError
from accel.errors import AccelShapeError
from accel.table import registered

SUPPORTED_DTYPES = tuple(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64,
    np.uint8, np.uint16, np.uint32, np.uint64, np.float32, np.float64))

_PYTHON_SCALARS = (bool, int, float)


def _cuda():
    require()
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba import cuda
    return cuda


def check_dtype(dtype, primitive=None, shapes=()):
    """Returns `np.dtype(dtype)` if accel's kernels implement it.

    # Arguments
        dtype: anything `np.dtype` accepts.
        primitive: name used in the error message.
        shapes: operand shapes, named in the error message.

    # Raises
        AccelDtypeError: for float16, complex, object, string... dtypes.
    """
    dt = np.dtype(dtype)
    if dt not in SUPPORTED_DTYPES:
        where = ('primitive %r' % primitive) if primitive else 'accel'
        raise AccelDtypeError(
            '%s does not support dtype %s (operand shapes %s); supported dtypes: %s.'
            % (where, dt.name, ', '.join(str(tuple(s)) for s in shapes) or '?',
               ', '.join(d.name for d in SUPPORTED_DTYPES)))
    return dt


def contiguous_strides(shape):
    """Element strides of a C-contiguous array of `shape`."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * max(int(shape[d + 1]), 1)
    return tuple(strides)


def _from_driver(size, dtype):
    """A new 1-D device buffer from the driver (counted in `accel.budget`); out of
    memory, the pool's free buffers are freed and it is tried once more."""
    cuda = _cuda()
    try:
        try:
            buffer = cuda.device_array(int(size), dtype=dtype)
        except Exception as err:
            if not _out_of_memory(err) or not _POOL.free_bytes:
                raise
            _POOL.clear()
            buffer = cuda.device_array(int(size), dtype=dtype)
    except Exception as err:  # numba's CudaAPIError, or MemoryError in the simulator
        if _out_of_memory(err):
            raise AccelMemoryError(
                'device out of memory allocating %d elements of %s (%d bytes): %s'
                % (size, np.dtype(dtype).name, size * np.dtype(dtype).itemsize, err)) from err
        raise
    budget.TOTALS.allocations += 1
    budget.TOTALS.allocated_bytes += int(size) * np.dtype(dtype).itemsize
    return buffer


def _out_of_memory(err):
    text = str(err)
    return isinstance(err, MemoryError) or 'OUT_OF_MEMORY' in text or 'out of memory' in text


_POOL = pool.DevicePool(_from_driver)


def _allocate(size, dtype, side_stream=False):
    """A raw 1-D device buffer, reused from `accel.pool` when it is enabled;
    out-of-memory becomes `AccelMemoryError`. `side_stream`: the buffer is
    written by a copy on a stream other than the launch stream (`accel.pool`)."""
    if pool.ENABLED and size > 0:
        return _POOL.take(size, dtype, side_stream)
    return _from_driver(size, dtype)


class DeviceArray(object):
    """An n-dimensional array in device memory.

    # Arguments
        data: 1-D contiguous Numba device array holding `prod(shape)` elements.
        shape: the logical shape (a tuple of ints; `()` for a scalar).
        dtype: the element type (equal to `data.dtype`).
    """
    __slots__ = ('data', 'shape', 'dtype', '__weakref__')
    # NumPy must not treat a DeviceArray as a scalar inside its own ufuncs.
    __array_ufunc__ = None

    def __init__(self, data, shape, dtype):
        self.data = data
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def reshape(self, *shape):
        """The same buffer seen with another shape (no copy; -1 allowed once)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return DeviceArray(self.data, resolve_reshape(self.shape, shape), self.dtype)

    def to_host(self):
        """Copies to a new NumPy array (waits for pending kernels)."""
        return to_host(self)

    copy_to_host = to_host

    def __len__(self):
        if not self.shape:
            raise TypeError('len() of a 0-d device array')
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            'A DeviceArray %s %s is in device memory; NumPy cannot read it directly. Copy it '
            'explicitly with accel.to_host(x) or x.to_host().' % (self.shape, self.dtype.name))

    def __bool__(self):
        # `if device_array:` would need the value on the host: refuse, as for NumPy.
        raise TypeError(
            'The truth value of a DeviceArray %s %s needs its value on the host; copy it '
            'explicitly with accel.to_host(x) (or K.get_value) first.'
            % (self.shape, self.dtype.name))

    def __float__(self):
        return float(self._only_element())

    def __int__(self):
        return int(self._only_element())

    def _only_element(self):
        if self.size != 1:
            raise TypeError('only one-element device arrays convert to Python scalars, not %s'
                            % (self.shape,))
        return to_host(self).reshape(-1)[0]

    def __repr__(self):
        return 'DeviceArray(shape=%s, dtype=%s)' % (self.shape, self.dtype.name)

    # Arithmetic and indexing, so that code summing gradients (`g1 + g2`), the
    # optimizers' scalar formulas (`lr * (1. - beta_2 ** t)`) and layers
    # splitting a result (`hc[0]`) work on device arrays too; each operator runs
    # the accel primitive of the same name.
    def _binary(self, name, a, b):
        other = b if a is self else a
        if not isinstance(other, DeviceArray) and getattr(other, '__array_ufunc__', 0) is None:
            # A type that asks NumPy arrays to defer to it (refkeras's Variable
            # and Traced do): let its reflected operator run instead.
            return NotImplemented
        return registered()[name].forward(a, b)

    def __add__(self, other):
        return self._binary('add', self, other)

    def __radd__(self, other):
        return self._binary('add', other, self)

    def __sub__(self, other):
        return self._binary('subtract', self, other)

    def __rsub__(self, other):
        return self._binary('subtract', other, self)

    def __mul__(self, other):
        return self._binary('multiply', self, other)

    def __rmul__(self, other):
        return self._binary('multiply', other, self)

    def __truediv__(self, other):
        return self._binary('divide', self, other)

    def __rtruediv__(self, other):
        return self._binary('divide', other, self)

    def __getitem__(self, key):
        return registered()['getitem'].forward(self, key=key)

    def __pow__(self, other):
        return self._binary('power', self, other)

    def __rpow__(self, other):
        return self._binary('power', other, self)

    def __neg__(self):
        return registered()['negative'].forward(self)


def resolve_reshape(old_shape, new_shape):
    """The target shape of a reshape, with one -1 resolved, as NumPy does.

    # Raises
        AccelShapeError: if the sizes differ or more than one -1 is given.
    """
    if isinstance(new_shape, (int, np.integer)):
        new_shape = (new_shape,)
    new_shape = [int(s) for s in new_shape]
    size = int(np.prod(old_shape, dtype=np.int64))
    unknown = [i for i, s in enumerate(new_shape) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in new_shape):
        raise AccelShapeError('cannot reshape an array of shape %s into %s: at most one -1 '
                              'and no other negative sizes' % (tuple(old_shape), tuple(new_shape)))
    if unknown:
        known = int(np.prod([s for s in new_shape if s != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise AccelShapeError('cannot reshape an array of size %d into shape %s'
                                  % (size, tuple(new_shape)))
        new_shape[unknown[0]] = size // known
    if int(np.prod(new_shape, dtype=np.int64)) != size:
        raise AccelShapeError('cannot reshape an array of size %d into shape %s'
                              % (size, tuple(new_shape)))
    return tuple(new_shape)


def is_device_array(x):
    return isinstance(x, DeviceArray)


def is_python_scalar(x):
    """Whether `x` is a weak Python scalar operand (bool, int or float)."""
    return isinstance(x, _PYTHON_SCALARS)


def empty(shape, dtype):
    """An uninitialised device array."""
    dt = check_dtype(dtype)
    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape, dtype=np.int64))
    return DeviceArray(_allocate(size, dt), shape, dt)


def full(shape, value, dtype):
    """A device array of `shape` filled with `value` (converted to `dtype`)."""
    from accel.kernels.copy import fill  # imported here: at the top it would load Numba too early
    out = empty(shape, dtype)
    fill(out, value)
    return out


def zeros(shape, dtype):
    """A device array of zeros."""
    return full(shape, 0, dtype)


def to_device(x, dtype=None):
    """Copies a host array (or scalar) to a new device array.

    # Arguments
        x: array-like, or a `DeviceArray` (returned as is when no dtype change
            is asked for).
        dtype: optional dtype to convert to on the host first.

    # Raises
        AccelDtypeError: if the dtype is not supported.
    """
    if isinstance(x, DeviceArray):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x
        # Imported here: at the top it would load Numba too early.
        from accel.kernels.copy import cast
        return cast(x, np.dtype(dtype))
    host = np.asarray(x, dtype=dtype)
    dt = check_dtype(host.dtype, shapes=(host.shape,))
    flat = np.ascontiguousarray(host).reshape(-1)
    try:
        data = _allocate(flat.size, dt)
    except AccelMemoryError as err:
        raise AccelMemoryError('device out of memory copying an array of shape %s (%s) to '
                               'the device' % (host.shape, dt.name)) from err
    if flat.size:
        data.copy_to_device(flat)
    return DeviceArray(data, host.shape, dt)


def to_device_async(host, stream):
    """Starts copying a host array into a new device array on `stream`; returns at once.

    The copy is ordered on `stream` only: the caller makes the stream that
    reads the result wait for it (an event recorded on `stream` after this
    call) and must not change `host` before that event has completed. From
    page-locked (pinned) memory the copy runs while the host goes on; from
    ordinary memory the driver stages it before returning. Used by
    `accel.prefetch` for input batches.

    # Arguments
        host: a C-contiguous NumPy array (a view into a pinned staging buffer).
        stream: the Numba stream the copy is queued on.

    # Raises
        ValueError: if `host` is not C-contiguous (a hidden temporary copy
            would be read after it is freed).
        AccelDtypeError: if the dtype is not supported.
        AccelMemoryError: when the device is out of memory.
    """
    if not host.flags.c_contiguous:
        raise ValueError('to_device_async needs a C-contiguous host array, got shape %s with '
                         'strides %s' % (host.shape, host.strides))
    dt = check_dtype(host.dtype, shapes=(host.shape,))
    out = DeviceArray(_allocate(host.size, dt, side_stream=True), host.shape, dt)
    if out.size:
        out.data.copy_to_device(host.reshape(-1), stream=stream)
    return out


def to_host(x):
    """Copies a `DeviceArray` to a new NumPy array; other values go through `np.asarray`."""
    if isinstance(x, DeviceArray):
        if x.size == 0:
            return np.empty(x.shape, dtype=x.dtype)
        host = x.data.copy_to_host().reshape(x.shape)
        # Counted once the copy has returned: `accel.pool` relies on it having waited.
        budget.TOTALS.readbacks += 1
        return host
    return np.asarray(x)


_SCALARS = collections.OrderedDict()
_SCALAR_CACHE_SIZE = 512


def scalar_constant(value, dtype):
    """A 0-d device array holding `value` as `dtype`, cached (LRU) per value and dtype."""
    dt = np.dtype(dtype)
    host = np.asarray(value, dtype=dt)
    key = (dt.str, host.tobytes())
    hit = _SCALARS.get(key)
    if hit is not None:
        _SCALARS.move_to_end(key)
        return hit
    const = to_device(host)
    _SCALARS[key] = const
    if len(_SCALARS) > _SCALAR_CACHE_SIZE:
        _SCALARS.popitem(last=False)
    return const


def as_device(x, primitive=None):
    """A `DeviceArray` for an operand: device arrays pass, host arrays are copied in
    (0-d ones through the constant cache of `scalar_constant`).

    Python scalars are not accepted here (they are weak operands: see
    `elementwise` for how they are typed); use `scalar_constant`.

    # Raises
        AccelDtypeError: for unsupported dtypes, naming `primitive`.
    """
    if isinstance(x, DeviceArray):
        return x
    if is_python_scalar(x):
        raise TypeError('as_device does not type Python scalars; use scalar_constant')
    host = np.asarray(x)
    check_dtype(host.dtype, primitive, (host.shape,))
    if host.ndim == 0:
        # A NumPy scalar (or 0-d array) is a constant too: cached like Python
        # scalars, but keeping its own dtype.
        return scalar_constant(host, host.dtype)
    return to_device(host)


def shape_of(x):
    """Shape of a device array, host array or scalar."""
    return tuple(x.shape) if hasattr(x, 'shape') else np.shape(x)


def dtype_of(x):
    """dtype of an array; for a Python scalar, the type object itself (weak)."""
    if hasattr(x, 'dtype'):
        return np.dtype(x.dtype)
    return type(x)
