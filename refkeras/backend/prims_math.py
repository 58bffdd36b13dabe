"""Elementwise primitives: arithmetic, math functions, comparisons, where, clip, cast.

Binary primitives broadcast as NumPy does; their gradient rules sum the
broadcast axes away with `unbroadcast`. Every rule is checked against central
finite differences in `spec_tests/primitives/test_primitive_gradients.py`.
"""
import numpy as np

from refkeras.backend.registry import primitive, unbroadcast


# --- arithmetic -------------------------------------------------------------

@primitive()
def add(a, b):
    """`a + b`, broadcasting."""
    return np.add(a, b)


@add.defgrad
def _add_grad(g, out, a, b):
    return unbroadcast(g, a), unbroadcast(g, b)


@primitive()
def subtract(a, b):
    """`a - b`, broadcasting."""
    return np.subtract(a, b)


@subtract.defgrad
def _subtract_grad(g, out, a, b):
    return unbroadcast(g, a), unbroadcast(-g, b)


@primitive()
def multiply(a, b):
    """`a * b`, broadcasting."""
    return np.multiply(a, b)


@multiply.defgrad
def _multiply_grad(g, out, a, b):
    return unbroadcast(g * b, a), unbroadcast(g * a, b)


@primitive()
def divide(a, b):
    """`a / b`, broadcasting."""
    return np.divide(a, b)


@divide.defgrad
def _divide_grad(g, out, a, b):
    return unbroadcast(g / b, a), unbroadcast(-g * out / b, b)


@primitive()
def power(a, b):
    """`a ** b`, broadcasting. The gradient for `b` assumes `a > 0`."""
    return np.power(a, b)


@power.defgrad
def _power_grad(g, out, a, b):
    ga = g * b * np.power(a, b - 1)
    with np.errstate(divide='ignore', invalid='ignore'):
        gb = np.where(np.asarray(a) > 0, g * out * np.log(np.where(np.asarray(a) > 0, a, 1)), 0)
    return unbroadcast(ga.astype(out.dtype, copy=False), a), unbroadcast(gb.astype(out.dtype, copy=False), b)


@primitive()
def maximum(a, b):
    """Elementwise maximum. Ties send the gradient to `a` (as TensorFlow does)."""
    return np.maximum(a, b)


@maximum.defgrad
def _maximum_grad(g, out, a, b):
    pick_a = np.greater_equal(a, b)
    return unbroadcast(np.where(pick_a, g, 0).astype(g.dtype), a), \
        unbroadcast(np.where(pick_a, 0, g).astype(g.dtype), b)


@primitive()
def minimum(a, b):
    """Elementwise minimum. Ties send the gradient to `a`."""
    return np.minimum(a, b)


@minimum.defgrad
def _minimum_grad(g, out, a, b):
    pick_a = np.less_equal(a, b)
    return unbroadcast(np.where(pick_a, g, 0).astype(g.dtype), a), \
        unbroadcast(np.where(pick_a, 0, g).astype(g.dtype), b)


# --- unary math -------------------------------------------------------------

@primitive()
def negative(x):
    """`-x`."""
    return np.negative(x)


@negative.defgrad
def _negative_grad(g, out, x):
    return (-g,)


@primitive()
def abs(x):  # noqa: A001 (the Keras name)
    """`|x|`; the gradient at 0 is 0."""
    return np.abs(x)


@abs.defgrad
def _abs_grad(g, out, x):
    return (g * np.sign(x),)


@primitive()
def square(x):
    """`x ** 2`."""
    return np.square(x)


@square.defgrad
def _square_grad(g, out, x):
    return (g * 2 * x,)


@primitive()
def sqrt(x):
    """Square root of `x` clipped at 0 (as Keras 2.2.4's backends: negative
    inputs give 0, not NaN)."""
    return np.sqrt(np.maximum(x, 0))


@sqrt.defgrad
def _sqrt_grad(g, out, x):
    # d sqrt(x) = 1 / (2 sqrt(x)) where x > 0; 0 where the input was clipped
    # (out is 0 exactly there; at x = 0 itself this also gives 0 rather than inf).
    with np.errstate(divide='ignore', invalid='ignore'):
        return (np.where(out > 0, g / (2 * out), 0).astype(np.result_type(g, out), copy=False),)


@primitive()
def exp(x):
    """`e ** x`."""
    return np.exp(x)


@exp.defgrad
def _exp_grad(g, out, x):
    return (g * out,)


@primitive()
def log(x):
    """Natural logarithm."""
    return np.log(x)


@log.defgrad
def _log_grad(g, out, x):
    return (g / x,)


@primitive()
def sin(x):
    """Sine."""
    return np.sin(x)


@sin.defgrad
def _sin_grad(g, out, x):
    return (g * np.cos(x),)


@primitive()
def cos(x):
    """Cosine."""
    return np.cos(x)


@cos.defgrad
def _cos_grad(g, out, x):
    return (-g * np.sin(x),)


@primitive()
def clip(x, min_value=None, max_value=None):
    """Clamps `x` to `[min_value, max_value]`.

    The gradient passes where `min_value <= x <= max_value` and is 0 outside,
    as TensorFlow's `clip_by_value` (what Keras 2.2.4's `K.clip` is).
    """
    return np.clip(x, min_value, max_value)


@clip.defgrad
def _clip_grad(g, out, x, min_value=None, max_value=None):
    inside = np.ones(np.shape(x), dtype=bool)
    if min_value is not None:
        inside &= np.asarray(x) >= min_value
    if max_value is not None:
        inside &= np.asarray(x) <= max_value
    return (np.where(inside, g, 0).astype(g.dtype),)


@primitive()
def where(condition, a, b):
    """`a` where `condition` is true, else `b` (broadcasting; `K.switch`)."""
    return np.where(condition, a, b)


@where.defgrad
def _where_grad(g, out, condition, a, b):
    zero = np.zeros((), dtype=g.dtype)
    return (None, unbroadcast(np.where(condition, g, zero), a),
            unbroadcast(np.where(condition, zero, g), b))


@primitive()
def cast(x, dtype=None):
    """Converts to `dtype`. Gradients flow between float types only."""
    return np.asarray(x).astype(dtype)


@cast.defgrad
def _cast_grad(g, out, x, dtype=None):
    source = np.asarray(x).dtype
    if np.issubdtype(source, np.floating):
        return (g.astype(source),)
    return (None,)


# --- piecewise-constant operations: no gradient -------------------------------

def _comparison(name, fn, doc):
    prim = primitive(name, differentiable=False)(fn)
    prim.__doc__ = doc
    return prim


equal = _comparison('equal', lambda a, b: np.equal(a, b), 'Elementwise `a == b` (bool).')
not_equal = _comparison('not_equal', lambda a, b: np.not_equal(a, b), 'Elementwise `a != b`.')
greater = _comparison('greater', lambda a, b: np.greater(a, b), 'Elementwise `a > b`.')
greater_equal = _comparison('greater_equal', lambda a, b: np.greater_equal(a, b),
                            'Elementwise `a >= b`.')
less = _comparison('less', lambda a, b: np.less(a, b), 'Elementwise `a < b`.')
less_equal = _comparison('less_equal', lambda a, b: np.less_equal(a, b), 'Elementwise `a <= b`.')
logical_and = _comparison('logical_and', lambda a, b: np.logical_and(a, b), 'Elementwise and.')
logical_or = _comparison('logical_or', lambda a, b: np.logical_or(a, b), 'Elementwise or.')
logical_not = _comparison('logical_not', lambda a: np.logical_not(a), 'Elementwise not.')
sign = _comparison('sign', lambda x: np.sign(x), 'Sign of `x` (-1, 0 or 1).')
round_ = _comparison('round', lambda x: np.round(x), 'Rounds half to even, as TensorFlow.')
stop_gradient = _comparison('stop_gradient', lambda x: np.asarray(x),
                            'Identity whose output the tape does not record: no gradient.')
