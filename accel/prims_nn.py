"""accel's neural-network primitives (mirror of `refkeras/backend/prims_nn.py`):
activations, softmax, random draws."""
import numpy as np

from accel import arrays
from accel.dtypes import forward_dtype, grad_dtypes
from accel.kernels import random as RNG
from accel.kernels import scalar
from accel.kernels import softmax as softmax_kernels
from accel.kernels.copy import cast as cast_array
from accel.kernels.elementwise import map_arrays
from accel.operands import device
from accel.registry import accel_primitive


def _unary(name, fn, grad_fn=None, grad_uses='x', params=()):
    def forward(x):
        return map_arrays(fn, [x], forward_dtype(name, x), params, primitive=name)
    forward.__name__ = name
    forward.__doc__ = 'accel `%s`: elementwise.' % name
    prim = accel_primitive(name)(forward)
    if grad_fn is not None:
        def rule(g, out, x):
            (dt,) = grad_dtypes(name, g, out, x)
            return (map_arrays(grad_fn, [g, x if grad_uses == 'x' else out], dt, params,
                               primitive=name),)
        prim.defgrad(rule)
    return prim


# --- activations ------------------------------------------------------------

def _relu_params(alpha, max_value, threshold):
    return (float(alpha), float(threshold), 0.0 if max_value is None else float(max_value),
            0.0 if max_value is None else 1.0)


@accel_primitive('relu')
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras 2.2.4's `alpha`, `max_value`, `threshold`."""
    attrs = dict(alpha=alpha, max_value=max_value, threshold=threshold)
    dt = forward_dtype('relu', x, **attrs)
    if alpha == 0.0 and threshold == 0.0 and max_value is None:
        return map_arrays(scalar.relu_plain, [x], dt, primitive='relu')
    return map_arrays(scalar.relu_general, [x], dt, _relu_params(alpha, max_value, threshold),
                      primitive='relu')


@relu.defgrad
def _relu_grad(g, out, x, alpha=0.0, max_value=None, threshold=0.0):
    (dt,) = grad_dtypes('relu', g, out, x, alpha=alpha, max_value=max_value,
                        threshold=threshold)
    return (map_arrays(scalar.relu_grad, [g, x], dt, _relu_params(alpha, max_value, threshold),
                       primitive='relu'),)


@accel_primitive('elu')
def elu(x, alpha=1.0):
    """`x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return map_arrays(scalar.elu, [x], forward_dtype('elu', x, alpha=alpha), (float(alpha),),
                      primitive='elu')


@elu.defgrad
def _elu_grad(g, out, x, alpha=1.0):
    (dt,) = grad_dtypes('elu', g, out, x, alpha=alpha)
    return (map_arrays(scalar.elu_grad, [g, x, out], dt, (float(alpha),), primitive='elu'),)


sigmoid = _unary('sigmoid', scalar.sigmoid, scalar.sigmoid_grad, 'out')
hard_sigmoid = _unary('hard_sigmoid', scalar.hard_sigmoid, scalar.hard_sigmoid_grad, 'x',
                      params=(0.2, 0.5))
tanh = _unary('tanh', scalar.tanh, scalar.tanh_grad, 'out')
softplus = _unary('softplus', scalar.softplus, scalar.softplus_grad, 'x')
softsign = _unary('softsign', scalar.softsign, scalar.softsign_grad, 'x')


@accel_primitive('softmax')
def softmax(x, axis=-1):
    """Softmax along `axis`, shifted by the maximum (one launch)."""
    x = device(x, 'softmax')
    dt = forward_dtype('softmax', x, axis=axis)
    if x.dtype != dt:
        x = cast_array(x, dt)
    return softmax_kernels.softmax(x, axis)


@softmax.defgrad
def _softmax_grad(g, out, x, axis=-1):
    (dt,) = grad_dtypes('softmax', g, out, x, axis=axis)
    gx = softmax_kernels.softmax_grad(device(g, 'softmax'), device(out, 'softmax'), axis)
    return (gx if gx.dtype == dt else cast_array(gx, dt),)


# --- random draws -------------------------------------------------------------

def _shape(shape):
    if shape is None:
        return ()
    if np.ndim(shape) == 0:
        return (int(shape),)
    return tuple(int(s) for s in shape)


@accel_primitive('random_uniform')
def random_uniform(shape=None, minval=0.0, maxval=1.0, dtype='float32', seed=None):
    """Uniform draws in `[minval, maxval)` (Philox, keyed from NumPy's generator)."""
    dt = arrays.check_dtype(dtype, 'random_uniform')
    return RNG.uniform(_shape(shape), minval, maxval, dt, seed)


@accel_primitive('random_normal')
def random_normal(shape=None, mean=0.0, stddev=1.0, dtype='float32', seed=None):
    """Normal draws (Box-Muller on Philox words)."""
    dt = arrays.check_dtype(dtype, 'random_normal')
    return RNG.normal(_shape(shape), mean, stddev, dt, seed)


@accel_primitive('truncated_normal')
def truncated_normal(shape=None, mean=0.0, stddev=1.0, dtype='float32', seed=None):
    """Normal draws redrawn (per element, with the next counter) until within two
    standard deviations of the mean."""
    dt = arrays.check_dtype(dtype, 'truncated_normal')
    return RNG.normal(_shape(shape), mean, stddev, dt, seed, truncate=True)


@accel_primitive('random_binomial')
def random_binomial(shape=None, p=0.0, dtype='float32', seed=None):
    """1 with probability `p`, else 0."""
    dt = arrays.check_dtype(dtype, 'random_binomial')
    return RNG.binomial(_shape(shape), p, dt, seed)
