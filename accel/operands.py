"""Helpers shared by the accel primitives: operands, unbroadcasting, reduced shapes."""
import numpy as np

from accel import arrays
from accel.kernels import reduce


def device(x, primitive):
    """Any operand as a `DeviceArray`: a Python scalar becomes a 0-d constant of
    NumPy's default dtype for it; a host array is copied in."""
    if arrays.is_python_scalar(x):
        return arrays.scalar_constant(x, np.result_type(x))
    return arrays.as_device(x, primitive)


def unbroadcast(g, like):
    """Sums `g` over the axes broadcasting added or stretched for `like` (device version
    of `refkeras.backend.registry.unbroadcast`): the result has `np.shape(like)`."""
    shape = arrays.shape_of(like)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = list(range(extra))
    axes += [extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1]
    summed = reduce.reduce(g, tuple(axes), 'sum', g.dtype, primitive='unbroadcast')
    return summed.reshape(shape)


def expand_reduced(g, x_shape, axes, keepdims):
    """Reshapes a reduced array so that it broadcasts against the input shape."""
    if keepdims:
        return g
    return g.reshape(reduce.reduced_shape(x_shape, axes, True))
