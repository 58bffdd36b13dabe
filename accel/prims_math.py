"""accel's elementwise primitives (mirror of `refkeras/backend/prims_math.py`).

Forward passes and gradient rules are elementwise kernels (`kernels/elementwise`)
applying the scalar functions of `kernels/scalar`; gradients of broadcasting
operations are summed back to each input's shape with `unbroadcast`. Output
dtypes are the reference's (`accel.dtypes`).
"""
import numpy as np

from accel import arrays
from accel.dtypes import forward_dtype, grad_dtypes
from accel.kernels import scalar
from accel.kernels.copy import cast as cast_array
from accel.kernels.elementwise import map_arrays
from accel.operands import device, unbroadcast
from accel.registry import accel_primitive


def _map(name, fn, operands, dtype, params=()):
    return map_arrays(fn, list(operands), dtype, params, primitive=name)


def _forward(name, fn, *operands, params=(), **attrs):
    return _map(name, fn, operands, forward_dtype(name, *operands, **attrs), params)


def _define_binary(name, fn, grad=None):
    def forward(a, b):
        return _forward(name, fn, a, b)
    forward.__name__ = name
    forward.__doc__ = 'accel `%s`: elementwise, broadcasting.' % name
    prim = accel_primitive(name)(forward)
    if grad is not None:
        prim.defgrad(grad)
    return prim


def _define_unary(name, fn, grad=None):
    def forward(x):
        return _forward(name, fn, x)
    forward.__name__ = name
    forward.__doc__ = 'accel `%s`: elementwise.' % name
    prim = accel_primitive(name)(forward)
    if grad is not None:
        prim.defgrad(grad)
    return prim


# --- arithmetic -------------------------------------------------------------

def _add_grad(g, out, a, b):
    return unbroadcast(g, a), unbroadcast(g, b)


def _subtract_grad(g, out, a, b):
    dt = grad_dtypes('subtract', g, out, a, b)[1]
    return unbroadcast(g, a), unbroadcast(_map('subtract', scalar.negative, [g], dt), b)


def _multiply_grad(g, out, a, b):
    da, db = grad_dtypes('multiply', g, out, a, b)
    return (unbroadcast(_map('multiply', scalar.multiply, [g, b], da), a),
            unbroadcast(_map('multiply', scalar.multiply, [g, a], db), b))


def _divide_grad(g, out, a, b):
    da, db = grad_dtypes('divide', g, out, a, b)
    return (unbroadcast(_map('divide', scalar.divide, [g, b], da), a),
            unbroadcast(_map('divide', scalar.divide_grad_b, [g, out, b], db), b))


def _power_grad(g, out, a, b):
    da, db = grad_dtypes('power', g, out, a, b)
    return (unbroadcast(_map('power', scalar.power_grad_a, [g, a, b], da), a),
            unbroadcast(_map('power', scalar.power_grad_b, [g, out, a], db), b))


def _extremum_grad(name, pick_a, pick_b):
    def rule(g, out, a, b):
        da, db = grad_dtypes(name, g, out, a, b)
        return (unbroadcast(_map(name, pick_a, [g, a, b], da), a),
                unbroadcast(_map(name, pick_b, [g, a, b], db), b))
    return rule


add = _define_binary('add', scalar.add, _add_grad)
subtract = _define_binary('subtract', scalar.subtract, _subtract_grad)
multiply = _define_binary('multiply', scalar.multiply, _multiply_grad)
divide = _define_binary('divide', scalar.divide, _divide_grad)
power = _define_binary('power', scalar.power, _power_grad)
maximum = _define_binary('maximum', scalar.maximum,
                         _extremum_grad('maximum', scalar.maximum_grad_a, scalar.maximum_grad_b))
minimum = _define_binary('minimum', scalar.minimum,
                         _extremum_grad('minimum', scalar.minimum_grad_a, scalar.minimum_grad_b))


# --- unary math -------------------------------------------------------------

def _unary_grad(name, fn, uses):
    """A gradient rule `fn(g, x or out)`: `uses` says which value the rule reads."""
    def rule(g, out, x):
        (dt,) = grad_dtypes(name, g, out, x)
        return (_map(name, fn, [g, x if uses == 'x' else out], dt),)
    return rule


negative = _define_unary('negative', scalar.negative, lambda g, out, x: (
    _map('negative', scalar.negative, [g], grad_dtypes('negative', g, out, x)[0]),))
abs = _define_unary('abs', scalar.absolute, _unary_grad('abs', scalar.abs_grad, 'x'))  # noqa: A001
square = _define_unary('square', scalar.square, _unary_grad('square', scalar.square_grad, 'x'))
sqrt = _define_unary('sqrt', scalar.sqrt, _unary_grad('sqrt', scalar.sqrt_grad, 'out'))
exp = _define_unary('exp', scalar.exp, _unary_grad('exp', scalar.multiply, 'out'))
log = _define_unary('log', scalar.log, _unary_grad('log', scalar.divide, 'x'))
sin = _define_unary('sin', scalar.sin, _unary_grad('sin', scalar.sin_grad, 'x'))
cos = _define_unary('cos', scalar.cos, _unary_grad('cos', scalar.cos_grad, 'x'))


def _clip_params(min_value, max_value):
    for v in (min_value, max_value):
        if v is not None and np.ndim(v) != 0:
            raise TypeError("accel primitive 'clip' takes scalar min_value/max_value, got an "
                            'array of shape %s' % (np.shape(v),))
    flags = (1 if min_value is not None else 0) | (2 if max_value is not None else 0)
    return (0.0 if min_value is None else float(min_value),
            0.0 if max_value is None else float(max_value), float(flags))


@accel_primitive('clip')
def clip(x, min_value=None, max_value=None):
    """Clamps `x` to `[min_value, max_value]` (either may be None)."""
    dt = forward_dtype('clip', x, min_value=min_value, max_value=max_value)
    return _map('clip', scalar.clip, [x], dt, _clip_params(min_value, max_value))


@clip.defgrad
def _clip_grad(g, out, x, min_value=None, max_value=None):
    (dt,) = grad_dtypes('clip', g, out, x, min_value=min_value, max_value=max_value)
    return (_map('clip', scalar.clip_grad, [g, x], dt, _clip_params(min_value, max_value)),)


@accel_primitive('where')
def where(condition, a, b):
    """`a` where `condition` is true, else `b` (broadcasting)."""
    return _forward('where', scalar.where, condition, a, b)


@where.defgrad
def _where_grad(g, out, condition, a, b):
    _, da, db = grad_dtypes('where', g, out, condition, a, b)
    cond = device(condition, 'where')
    return (None, unbroadcast(_map('where', scalar.where_grad_then, [cond, g], da), a),
            unbroadcast(_map('where', scalar.where_grad_else, [cond, g], db), b))


@accel_primitive('cast')
def cast(x, dtype=None):
    """Converts to `dtype`."""
    x = device(x, 'cast')
    target = arrays.check_dtype(dtype, 'cast', [x.shape])
    return cast_array(x, target)


@cast.defgrad
def _cast_grad(g, out, x, dtype=None):
    source = np.dtype(arrays.dtype_of(x)) if not arrays.is_python_scalar(x) \
        else np.result_type(x)
    if np.issubdtype(source, np.floating):
        return (g if g.dtype == source else cast_array(g, source),)
    return (None,)


# --- piecewise-constant operations: no gradient -------------------------------

equal = _define_binary('equal', scalar.equal)
not_equal = _define_binary('not_equal', scalar.not_equal)
greater = _define_binary('greater', scalar.greater)
greater_equal = _define_binary('greater_equal', scalar.greater_equal)
less = _define_binary('less', scalar.less)
less_equal = _define_binary('less_equal', scalar.less_equal)
logical_and = _define_binary('logical_and', scalar.logical_and)
logical_or = _define_binary('logical_or', scalar.logical_or)


@accel_primitive('logical_not')
def logical_not(a):
    """Elementwise not."""
    return _forward('logical_not', scalar.logical_not, a)


sign = _define_unary('sign', scalar.sign)
round_ = _define_unary('round', scalar.round_even)


@accel_primitive('stop_gradient')
def stop_gradient(x):
    """Identity (the same device array: primitives never modify their inputs)."""
    return device(x, 'stop_gradient')
