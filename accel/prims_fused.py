"""accel's fused primitives (mirror of `refkeras/backend/prims_fused.py`):
bias + activation, softmax + categorical crossentropy and binary crossentropy,
each one kernel forward (see `accel/kernels/fused.py`)."""
import numpy as np

from accel import arrays
from accel.dtypes import forward_dtype, grad_dtypes
from accel.errors import AccelShapeError
from accel.kernels import fused
from accel.kernels.copy import cast as cast_array
from accel.kernels.elementwise import map_arrays
from accel.operands import device
from accel.registry import accel_primitive
from refkeras.backend import state
from refkeras.backend import prims_fused


def _reference():
    return prims_fused


def _as(x, dtype):
    return x if x.dtype == dtype else cast_array(x, dtype)


def _checked_dtype(name, dtype, *operands):
    """`dtype` if accel's kernels implement it, else an error naming the primitive and
    the operands' shapes."""
    return arrays.check_dtype(dtype, name, [o.shape for o in operands])


# --- bias + activation ---------------------------------------------------------------

def _checked_bias_operands(x, bias, activation, data_format):
    x, bias = device(x, 'bias_activation'), device(bias, 'bias_activation')
    try:
        _reference()._check_bias_activation(x, bias, activation, data_format)
    except ValueError as err:
        raise AccelShapeError(str(err)) from None
    return x, bias, _reference().channel_axis(x.ndim, data_format)


@accel_primitive('bias_activation')
def bias_activation(x, bias, activation='linear', data_format='channels_last'):
    """`activation(x + bias)`, the bias along the channel axis: one kernel."""
    x, bias, axis = _checked_bias_operands(x, bias, activation, data_format)
    dt = _checked_dtype('bias_activation', forward_dtype('bias_activation', x, bias,
                                                         activation=activation,
                                                         data_format=data_format), x, bias)
    return fused.bias_activation(_as(x, dt), _as(bias, dt), activation, axis)


@bias_activation.defgrad
def _bias_activation_grad(g, out, x, bias, activation='linear', data_format='channels_last'):
    x, bias, axis = _checked_bias_operands(x, bias, activation, data_format)
    g, out = device(g, 'bias_activation'), device(out, 'bias_activation')
    if g.shape != x.shape or out.shape != x.shape:
        raise AccelShapeError('the gradient of primitive %r: the upstream gradient %s and the '
                              'output %s must have the input\'s shape %s.'
                              % ('bias_activation', g.shape, out.shape, x.shape))
    dt_x, dt_b = grad_dtypes('bias_activation', g, out, x, bias, activation=activation,
                             data_format=data_format)
    dt = _checked_dtype('bias_activation', dt_x, g, out, x, bias)
    g_x, g_bias = fused.bias_activation_grad(_as(g, dt), _as(out, dt), _as(x, dt), _as(bias, dt),
                                             activation, axis, dt_b)
    return g_x, g_bias


# --- softmax + categorical crossentropy -----------------------------------------------

def _checked_crossentropy_operands(target, logits, axis):
    target = device(target, 'softmax_crossentropy')
    logits = device(logits, 'softmax_crossentropy')
    try:
        _reference()._check_crossentropy(target, logits, axis)
    except ValueError as err:
        raise AccelShapeError(str(err)) from None
    if logits.ndim and logits.shape[axis] == 0:
        raise AccelShapeError('primitive %r: the classes axis %d of logits of shape %s is '
                              'empty.' % ('softmax_crossentropy', axis, logits.shape))
    return target, logits, axis % max(logits.ndim, 1)


def _epsilon(epsilon):
    if epsilon is None:
        return state.epsilon()
    return epsilon


@accel_primitive('softmax_crossentropy')
def softmax_crossentropy(target, logits, axis=-1, epsilon=None):
    """Keras 2.2.4's `categorical_crossentropy(target, softmax(logits))`: one row kernel."""
    target, logits, ax = _checked_crossentropy_operands(target, logits, axis)
    epsilon = _epsilon(epsilon)
    dt = _checked_dtype('softmax_crossentropy',
                        forward_dtype('softmax_crossentropy', target, logits, axis=axis,
                                      epsilon=epsilon), target, logits)
    return fused.softmax_crossentropy(_as(target, dt), _as(logits, dt), ax, epsilon)


@softmax_crossentropy.defgrad
def _softmax_crossentropy_grad(g, out, target, logits, axis=-1, epsilon=None):
    target, logits, ax = _checked_crossentropy_operands(target, logits, axis)
    epsilon = _epsilon(epsilon)
    g = device(g, 'softmax_crossentropy')
    row_shape = tuple(n for d, n in enumerate(logits.shape) if d != ax)
    if g.shape != row_shape:
        raise AccelShapeError('the gradient of primitive %r: the upstream gradient has shape %s, '
                              'expected %s (the logits %s without axis %d).'
                              % ('softmax_crossentropy', g.shape, row_shape, logits.shape, ax))
    dt_t, dt_z = grad_dtypes('softmax_crossentropy', g, out, target, logits, axis=axis,
                             epsilon=epsilon)
    dt = _checked_dtype('softmax_crossentropy', np.result_type(dt_t, dt_z), g, target, logits)
    g_t, g_z = fused.softmax_crossentropy_grad(_as(g, dt), _as(target, dt), _as(logits, dt), ax,
                                               epsilon)
    return _as(g_t, dt_t), _as(g_z, dt_z)


# --- binary crossentropy on probabilities ----------------------------------------------

def _checked_binary_operands(target, output):
    target = device(target, 'binary_crossentropy')
    output = device(output, 'binary_crossentropy')
    if target.shape != output.shape:
        raise AccelShapeError('primitive %r: the target must have the shape of the output; '
                              'received a target of shape %s and an output of shape %s.'
                              % ('binary_crossentropy', target.shape, output.shape))
    return target, output


def _binary_params(epsilon, dtype):
    t = np.dtype(dtype).type
    return (t(epsilon), t(1.0 - epsilon))


@accel_primitive('binary_crossentropy')
def binary_crossentropy(target, output, epsilon=None):
    """Keras 2.2.4's binary crossentropy on probabilities: one elementwise kernel."""
    target, output = _checked_binary_operands(target, output)
    epsilon = _epsilon(epsilon)
    dt = _checked_dtype('binary_crossentropy', forward_dtype(
        'binary_crossentropy', target, output, epsilon=epsilon), target, output)
    return map_arrays(fused.binary_crossentropy, [_as(target, dt), _as(output, dt)], dt,
                      _binary_params(epsilon, dt), primitive='binary_crossentropy')


@binary_crossentropy.defgrad
def _binary_crossentropy_grad(g, out, target, output, epsilon=None):
    target, output = _checked_binary_operands(target, output)
    g = device(g, 'binary_crossentropy')
    epsilon = _epsilon(epsilon)
    dt_t, dt_o = grad_dtypes('binary_crossentropy', g, out, target, output, epsilon=epsilon)
    dt = _checked_dtype('binary_crossentropy', np.result_type(dt_t, dt_o), g, target, output)
    g, target, output = _as(g, dt), _as(target, dt), _as(output, dt)
    params = _binary_params(epsilon, dt)
    g_target = map_arrays(fused.binary_crossentropy_grad_target, [g, output], dt_t, params,
                          primitive='binary_crossentropy')
    g_output = map_arrays(fused.binary_crossentropy_grad_output, [g, target, output], dt_o, params,
                          primitive='binary_crossentropy')
    return g_target, g_output
