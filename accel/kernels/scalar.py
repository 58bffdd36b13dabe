"""Scalar device functions: what the elementwise kernels apply to each element.

Each function takes its operand values and `p`, a tuple of three parameters
(attributes such as relu's `alpha`, converted to the computing dtype on the
host), and returns one value; the kernel converts it to the output dtype.

The `safe_*` helpers give IEEE results (inf, nan) where Python's `math` module
raises, because the CUDA simulator runs these functions as Python; on the GPU
they compile to the same libdevice calls plus a select.

Adding an elementwise primitive: write its function here, then call
`elementwise.map_arrays(scalar.<fn>, ...)` from the accel primitive.
"""
import math

import numpy as np
from numba.core import config

from accel.kernels.launch import cuda

SIMULATOR = bool(config.ENABLE_CUDASIM)

# Constants as float32: Numba types a bare literal `2` or `1.0` as 64-bit, which
# would turn `g * 2 * x` on float32 data into float64 arithmetic (slower, and
# rounded differently from the reference's float32). A float32 constant keeps
# float32 data in float32 and widens exactly for float64 data.
ZERO = np.float32(0)
ONE = np.float32(1)
TWO = np.float32(2)

INF = math.inf
NAN = math.nan


# --- IEEE math -----------------------------------------------------------------
#
# On the GPU, `math.exp` & co. compile to libdevice calls with IEEE results
# (inf, nan) and keep float32 in float32. The simulator runs Python's `math`,
# which raises instead (`math.log(0)`, `math.exp(1000)`), so under the simulator
# these helpers check the special cases first and return the IEEE value.

if SIMULATOR:
    # Python's math also returns Python floats, which NumPy 2 treats as weak:
    # `np.float32(1) + math.exp(np.float64(x))` would be float32. `_like` gives
    # the result the type the compiled function has (float32 for float32,
    # float64 otherwise), so the simulator computes in the GPU's precision.
    def _like(x, value):
        if isinstance(x, np.floating):
            return type(x)(value)
        return np.float64(value)

    @cuda.jit(device=True)
    def safe_exp(x):
        if x > 709:
            return _like(x, INF)
        return _like(x, math.exp(x))

    @cuda.jit(device=True)
    def safe_expm1(x):
        if x > 709:
            return _like(x, INF)
        return _like(x, math.expm1(x))

    @cuda.jit(device=True)
    def safe_log(x):
        if x > 0:
            if math.isinf(x):
                return _like(x, INF)
            return _like(x, math.log(x))
        if x == 0:
            return _like(x, -INF)
        return _like(x, NAN)

    @cuda.jit(device=True)
    def safe_log1p(x):
        if x > -1:
            if math.isinf(x):
                return _like(x, INF)
            return _like(x, math.log1p(x))
        if x == -1:
            return _like(x, -INF)
        return _like(x, NAN)

    @cuda.jit(device=True)
    def safe_sqrt(x):
        if x >= 0:
            return _like(x, math.sqrt(x))
        return _like(x, NAN)

    @cuda.jit(device=True)
    def safe_sin(x):
        if math.isinf(x):
            return _like(x, NAN)
        return _like(x, math.sin(x))

    @cuda.jit(device=True)
    def safe_cos(x):
        if math.isinf(x):
            return _like(x, NAN)
        return _like(x, math.cos(x))

    @cuda.jit(device=True)
    def safe_tanh(x):
        return _like(x, math.tanh(x))

    @cuda.jit(device=True)
    def safe_floor(x):
        return _like(x, math.floor(x))
else:
    @cuda.jit(device=True)
    def safe_exp(x):
        return math.exp(x)

    @cuda.jit(device=True)
    def safe_expm1(x):
        return math.expm1(x)

    @cuda.jit(device=True)
    def safe_log(x):
        return math.log(x)

    @cuda.jit(device=True)
    def safe_log1p(x):
        return math.log1p(x)

    @cuda.jit(device=True)
    def safe_sqrt(x):
        return math.sqrt(x)

    @cuda.jit(device=True)
    def safe_sin(x):
        return math.sin(x)

    @cuda.jit(device=True)
    def safe_cos(x):
        return math.cos(x)

    @cuda.jit(device=True)
    def safe_tanh(x):
        return math.tanh(x)

    @cuda.jit(device=True)
    def safe_floor(x):
        return math.floor(x)


@cuda.jit(device=True)
def safe_pow(a, b):
    return a ** b


@cuda.jit(device=True)
def round_half_even(x):
    if math.isnan(x) or math.isinf(x):
        return x
    f = safe_floor(x)
    twice = (x - f) * TWO  # exact: x - floor(x) is exact and doubling is exact
    if twice > ONE:
        return f + ONE
    if twice < ONE or f % TWO == ZERO:
        return f
    return f + ONE  # exactly half way, odd floor: up to the even neighbour


@cuda.jit(device=True)
def sign_of(x):
    if x > ZERO:
        return ONE
    if x < ZERO:
        return -ONE
    if x == ZERO:
        return ZERO
    return x  # nan


@cuda.jit(device=True)
def stable_sigmoid(x):
    z = safe_exp(-abs(x))
    if x >= ZERO:
        return ONE / (ONE + z)
    return z / (ONE + z)


# --- copies and casts -------------------------------------------------------

@cuda.jit(device=True)
def identity(x, p):
    return x


# --- binary arithmetic ------------------------------------------------------

@cuda.jit(device=True)
def add(a, b, p):
    return a + b


@cuda.jit(device=True)
def subtract(a, b, p):
    return a - b


@cuda.jit(device=True)
def multiply(a, b, p):
    return a * b


@cuda.jit(device=True)
def divide(a, b, p):
    return a / b


@cuda.jit(device=True)
def power(a, b, p):
    return safe_pow(a, b)


@cuda.jit(device=True)
def maximum(a, b, p):
    # NaN propagates from either side, as np.maximum.
    if a >= b or a != a:
        return a
    return b


@cuda.jit(device=True)
def minimum(a, b, p):
    if a <= b or a != a:
        return a
    return b


# --- comparisons and logic ----------------------------------------------------

@cuda.jit(device=True)
def equal(a, b, p):
    return a == b


@cuda.jit(device=True)
def not_equal(a, b, p):
    return a != b


@cuda.jit(device=True)
def greater(a, b, p):
    return a > b


@cuda.jit(device=True)
def greater_equal(a, b, p):
    return a >= b


@cuda.jit(device=True)
def less(a, b, p):
    return a < b


@cuda.jit(device=True)
def less_equal(a, b, p):
    return a <= b


@cuda.jit(device=True)
def logical_and(a, b, p):
    return (a != 0) and (b != 0)


@cuda.jit(device=True)
def logical_or(a, b, p):
    return (a != 0) or (b != 0)


@cuda.jit(device=True)
def logical_not(x, p):
    return x == 0


@cuda.jit(device=True)
def where(c, a, b, p):
    if c != 0:
        return a
    return b


# --- unary math ---------------------------------------------------------------

@cuda.jit(device=True)
def negative(x, p):
    return -x


@cuda.jit(device=True)
def absolute(x, p):
    if x < 0:
        return -x
    if x == 0:
        return x - x  # +0.0 for -0.0, as np.abs
    return x


@cuda.jit(device=True)
def square(x, p):
    return x * x


@cuda.jit(device=True)
def sqrt(x, p):
    # clipped at 0, as the reference (Keras's K.sqrt)
    if x < 0:
        return ZERO
    return safe_sqrt(x)


@cuda.jit(device=True)
def exp(x, p):
    return safe_exp(x)


@cuda.jit(device=True)
def log(x, p):
    return safe_log(x)


@cuda.jit(device=True)
def sin(x, p):
    return safe_sin(x)


@cuda.jit(device=True)
def cos(x, p):
    return safe_cos(x)


@cuda.jit(device=True)
def sign(x, p):
    return sign_of(x)


@cuda.jit(device=True)
def round_even(x, p):
    return round_half_even(x)


@cuda.jit(device=True)
def clip(x, p):
    # p = (min_value, max_value, flags): bit 1 = has min, bit 2 = has max.
    flags = int(p[2])
    y = x
    if (flags & 1) and y < p[0]:
        y = p[0]
    if (flags & 2) and y > p[1]:
        y = p[1]
    return y


# --- activations --------------------------------------------------------------

@cuda.jit(device=True)
def relu_plain(x, p):
    # p = (alpha, threshold, max_value); this variant for alpha == threshold == 0
    # and no max_value: np.maximum(x, 0).
    if x > 0 or x != x:
        return x
    return ZERO


@cuda.jit(device=True)
def relu_general(x, p):
    # p = (alpha, threshold, max_value, has_max_value)
    # above the threshold x, clipped to [0, max_value] when there is one
    if x <= p[1]:
        return p[0] * (x - p[1])
    if p[3] != 0:
        if x > p[2]:
            return p[2]
        if x < 0:
            return ZERO
    return x


@cuda.jit(device=True)
def elu(x, p):
    if x > 0:
        return x
    return p[0] * safe_expm1(min(x, ZERO))


@cuda.jit(device=True)
def sigmoid(x, p):
    return stable_sigmoid(x)


@cuda.jit(device=True)
def hard_sigmoid(x, p):
    y = p[0] * x + p[1]  # p = (0.2, 0.5, unused) in the computing dtype
    if y < ZERO:
        return ZERO
    if y > ONE:
        return ONE
    return y


@cuda.jit(device=True)
def tanh(x, p):
    return safe_tanh(x)


@cuda.jit(device=True)
def softplus(x, p):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), as np.logaddexp(0, x)
    return max(x, ZERO) + safe_log1p(safe_exp(-abs(x)))


@cuda.jit(device=True)
def softsign(x, p):
    return x / (ONE + abs(x))


# --- gradient rules (g is the upstream gradient) ------------------------------

@cuda.jit(device=True)
def abs_grad(g, x, p):
    return g * sign_of(x)


@cuda.jit(device=True)
def square_grad(g, x, p):
    return g * TWO * x


@cuda.jit(device=True)
def sqrt_grad(g, out, p):
    # 0 where the input was clipped (out == 0), as the reference
    if out > 0:
        return g / (TWO * out)
    return ZERO


@cuda.jit(device=True)
def sin_grad(g, x, p):
    return g * safe_cos(x)


@cuda.jit(device=True)
def cos_grad(g, x, p):
    return -g * safe_sin(x)


@cuda.jit(device=True)
def clip_grad(g, x, p):
    flags = int(p[2])
    if (flags & 1) and not (x >= p[0]):
        return ZERO
    if (flags & 2) and not (x <= p[1]):
        return ZERO
    return g


@cuda.jit(device=True)
def where_grad_then(c, g, p):
    if c != 0:
        return g
    return ZERO


@cuda.jit(device=True)
def where_grad_else(c, g, p):
    if c != 0:
        return ZERO
    return g


@cuda.jit(device=True)
def divide_grad_b(g, out, b, p):
    return -g * out / b


@cuda.jit(device=True)
def power_grad_a(g, a, b, p):
    return g * b * safe_pow(a, b - ONE)


@cuda.jit(device=True)
def power_grad_b(g, out, a, p):
    if a > 0:
        return g * out * safe_log(a)
    return ZERO


@cuda.jit(device=True)
def maximum_grad_a(g, a, b, p):
    if a >= b:
        return g
    return ZERO


@cuda.jit(device=True)
def maximum_grad_b(g, a, b, p):
    if a >= b:
        return ZERO
    return g


@cuda.jit(device=True)
def minimum_grad_a(g, a, b, p):
    if a <= b:
        return g
    return ZERO


@cuda.jit(device=True)
def minimum_grad_b(g, a, b, p):
    if a <= b:
        return ZERO
    return g


@cuda.jit(device=True)
def relu_grad(g, x, p):
    # p = (alpha, threshold, max_value, has_max_value)
    if x <= p[1]:
        return g * p[0]
    if p[3] != 0 and (x >= p[2] or x < 0):
        return ZERO
    return g


@cuda.jit(device=True)
def elu_grad(g, x, out, p):
    if x > 0:
        return g
    return g * (out + p[0])


@cuda.jit(device=True)
def sigmoid_grad(g, out, p):
    return g * out * (ONE - out)


@cuda.jit(device=True)
def hard_sigmoid_grad(g, x, p):
    if x > -2.5 and x < 2.5:
        return p[0] * g
    return ZERO


@cuda.jit(device=True)
def tanh_grad(g, out, p):
    return g * (ONE - out * out)


@cuda.jit(device=True)
def softplus_grad(g, x, p):
    return g * stable_sigmoid(x)


@cuda.jit(device=True)
def softsign_grad(g, x, p):
    d = ONE + abs(x)
    return g / (d * d)


@cuda.jit(device=True)
def extremum_grad(x, out, share, p):
    # share = g / (number of elements attaining the extremum)
    if x == out:
        return share
    return ZERO


@cuda.jit(device=True)
def logsumexp_grad(g, x, out, p):
    return g * safe_exp(x - out)


@cuda.jit(device=True)
def logsumexp_finish(total, top, p):
    if math.isinf(top) or math.isnan(top):
        return safe_log(total)
    return safe_log(total) + top
