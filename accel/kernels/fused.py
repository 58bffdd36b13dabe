"""Fused kernels: bias + activation, softmax + categorical crossentropy, binary crossentropy.

The arithmetic of `refkeras/backend/prims_fused.py`, with no intermediate in
device memory:

- `bias_activation`: one thread per element reads `x` and the bias of its
  channel and writes `activation(x + bias)`. The gradient is one elementwise
  kernel (`g * activation'`, the derivative taken from the output where the
  reference rule does so, from `x + bias` recomputed otherwise) and the bias's
  sum over the non-channel axes, a fixed-order reduction of `reduce.py`.
- `softmax_crossentropy`: one block per row (the classes axis) computes the
  maximum, the softmax's sum, the sum of the probabilities (Keras rescales by
  it), and the row's `-sum(target * log(clip(q)))` in fixed-order tree
  reductions; `exp` is recomputed at each pass rather than stored. The
  gradient kernel makes the same passes plus the sum of the targets the clip
  lets through, then writes both gradients. Rows are read with a stride when
  the classes axis is not the last one.
- `binary_crossentropy`: scalar functions for `elementwise.map_arrays`, the
  loss and its two gradients each one elementwise pass.

The activation is chosen when a kernel is compiled (one specialisation per
activation); its formulas and roundings are those of the reference's
activation primitives.
"""
import numpy as np

from accel import arrays
from accel.kernels.launch import (MAX_BLOCKS, cuda, grid_1d, kernel_factory, next_pow2,
                                  numba_type, run)
from accel.kernels.reduce import ROW_THREADS, _max, reduce
from accel.kernels.scalar import (ONE, ZERO, safe_exp, safe_expm1, safe_log, safe_log1p,
                                  safe_tanh, stable_sigmoid)
from accel.kernels.softmax import _tree
from refkeras.backend.prims_nn import SELU_ALPHA, SELU_SCALE

#: Kernel codes of the activations `prims_fused.FUSED_ACTIVATIONS` names.
ACTIVATIONS = {'linear': 0, 'relu': 1, 'elu': 2, 'selu': 3, 'sigmoid': 4, 'hard_sigmoid': 5,
               'tanh': 6, 'softplus': 7, 'softsign': 8, 'exponential': 9}
#: Activations whose gradient needs the pre-activation `x + bias`, not only the output.
_NEEDS_PREACTIVATION = (3, 5, 7, 8)

# The constants the activations use, passed to the kernels in the computing
# dtype (as NumPy converts the reference's Python floats): selu's alpha and
# scale, hard_sigmoid's slope and offset, and its kink at 2.5.


def _params(dtype):
    t = np.dtype(dtype).type
    return (t(SELU_ALPHA), t(SELU_SCALE), t(0.2), t(0.5), t(2.5))


@cuda.jit(device=True)
def activate(kind, z, p):
    """`activation(z)` for the activation with code `kind` (see `ACTIVATIONS`)."""
    if kind == 1:   # relu: np.maximum(z, 0)
        if z > ZERO or z != z:
            return z
        return ZERO
    if kind == 2:   # elu, alpha = 1
        if z > ZERO:
            return z
        return safe_expm1(min(z, ZERO))
    if kind == 3:   # selu: scale * elu(z, alpha)
        if z > ZERO:
            return p[1] * z
        return p[1] * (p[0] * safe_expm1(min(z, ZERO)))
    if kind == 4:
        return stable_sigmoid(z)
    if kind == 5:   # clip(0.2 z + 0.5, 0, 1)
        y = p[2] * z + p[3]
        if y < ZERO:
            return ZERO
        if y > ONE:
            return ONE
        return y
    if kind == 6:
        return safe_tanh(z)
    if kind == 7:   # log(1 + exp(z)), as np.logaddexp(0, z)
        return max(z, ZERO) + safe_log1p(safe_exp(-abs(z)))
    if kind == 8:
        return z / (ONE + abs(z))
    if kind == 9:
        return safe_exp(z)
    return z


@cuda.jit(device=True)
def activation_grad(kind, g, y, z, p):
    """`g * activation'(z)` as the reference rule computes it, given the output `y`
    (and the pre-activation `z` for the kinds in `_NEEDS_PREACTIVATION`)."""
    if kind == 1:   # g * (y > 0)
        if y > ZERO:
            return g
        return g * ZERO
    if kind == 2:
        if y > ZERO:
            return g
        return g * (y + ONE)
    if kind == 3:   # the product's rule (g * scale), then elu's with elu's output
        gs = g * p[1]
        if z > ZERO:
            return gs
        return gs * (p[0] * safe_expm1(min(z, ZERO)) + p[0])
    if kind == 4:
        return g * y * (ONE - y)
    if kind == 5:
        if z > -p[4] and z < p[4]:
            return p[2] * g
        return ZERO
    if kind == 6:
        return g * (ONE - y * y)
    if kind == 7:
        return g * stable_sigmoid(z)
    if kind == 8:
        d = ONE + abs(z)
        return g / (d * d)
    if kind == 9:
        return g * y
    return g


@kernel_factory
def _bias_activation_kernel(kind):
    @cuda.jit
    def bias_activation(out, x, bias, n, channels, inner, p):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            out[i] = activate(kind, x[i] + bias[(i // inner) % channels], p)
    return bias_activation


@kernel_factory
def _bias_activation_grad_kernel(kind):
    needs_z = kind in _NEEDS_PREACTIVATION

    @cuda.jit
    def bias_activation_grad(gz, g, out, x, bias, n, channels, inner, p):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            z = out[i]
            if needs_z:
                z = x[i] + bias[(i // inner) % channels]
            gz[i] = activation_grad(kind, g[i], out[i], z, p)
    return bias_activation_grad


def _layout(shape, axis):
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    return outer, int(shape[axis]), inner


def bias_activation(x, bias, activation, axis):
    """`activation(x + bias)`, the bias along `axis` (x and bias of one floating dtype).

    # Arguments
        x: `DeviceArray`.
        bias: `DeviceArray` vector of `x.shape[axis]` values.
        activation: a name in `ACTIVATIONS`.
        axis: the channel axis (non-negative).
    """
    out = arrays.empty(x.shape, x.dtype)
    if x.size == 0:
        return out
    _, channels, inner = _layout(x.shape, axis)
    blocks, threads = grid_1d(x.size)
    run(_bias_activation_kernel(ACTIVATIONS[activation]), blocks, threads, out.data, x.data,
        bias.data, x.size, channels, inner, _params(x.dtype))
    return out


def bias_activation_grad(g, out, x, bias, activation, axis, bias_dtype):
    """The gradients of `bias_activation` for `x` and for the bias.

    # Returns
        `(g_x, g_bias)`: `g * activation'` (one kernel), and its sum over every
        axis but `axis` (a fixed-order reduction, in `bias_dtype`).
    """
    gz = arrays.empty(x.shape, x.dtype)
    if x.size:
        _, channels, inner = _layout(x.shape, axis)
        blocks, threads = grid_1d(x.size)
        run(_bias_activation_grad_kernel(ACTIVATIONS[activation]), blocks, threads, gz.data,
            g.data, out.data, x.data, bias.data, x.size, channels, inner, _params(x.dtype))
    others = tuple(a for a in range(x.ndim) if a != axis)
    return gz, reduce(gz, others, 'sum', bias_dtype, primitive='bias_activation')


# --- softmax + categorical crossentropy ----------------------------------------------

@cuda.jit(device=True)
def _row_statistics(z, base, length, inner, buf, t, width, lowest, zero):
    """The row's maximum `m`, softmax sum `total = sum(exp(z - m))` and the sum
    `s` of the probabilities `exp(z - m) / total` (every thread must call it)."""
    m = lowest
    for r in range(t, length, width):
        m = _max(m, z[base + r * inner])
    buf[t] = m
    _tree(buf, t, width, True)
    m = buf[0]
    cuda.syncthreads()
    total = zero
    for r in range(t, length, width):
        total += safe_exp(z[base + r * inner] - m)
    buf[t] = total
    _tree(buf, t, width, False)
    total = buf[0]
    cuda.syncthreads()
    s = zero
    for r in range(t, length, width):
        s += safe_exp(z[base + r * inner] - m) / total
    buf[t] = s
    _tree(buf, t, width, False)
    s = buf[0]
    cuda.syncthreads()
    return m, total, s


@cuda.jit(device=True)
def _clipped(q, lo, hi):
    c = q
    if c < lo:
        c = lo
    if c > hi:
        c = hi
    return c


@kernel_factory
def _crossentropy_kernel(dtype):
    elem = numba_type(dtype)
    cast = np.dtype(dtype).type
    lowest = cast(-np.inf)
    zero = cast(0)

    @cuda.jit
    def softmax_crossentropy(loss, target, z, lines, length, inner, lo, hi):
        buf = cuda.shared.array(ROW_THREADS, elem)
        t = cuda.threadIdx.x
        width = cuda.blockDim.x
        for line in range(cuda.blockIdx.x, lines, cuda.gridDim.x):
            base = (line // inner) * length * inner + line % inner
            m, total, s = _row_statistics(z, base, length, inner, buf, t, width, lowest, zero)
            acc = zero
            for r in range(t, length, width):
                k = base + r * inner
                q = (cast(safe_exp(z[k] - m)) / total) / s
                acc += target[k] * safe_log(_clipped(q, lo, hi))
            buf[t] = acc
            _tree(buf, t, width, False)
            if t == 0:
                loss[line] = -buf[0]
            cuda.syncthreads()
    return softmax_crossentropy


@kernel_factory
def _crossentropy_grad_kernel(dtype):
    elem = numba_type(dtype)
    cast = np.dtype(dtype).type
    lowest = cast(-np.inf)
    zero = cast(0)

    @cuda.jit
    def softmax_crossentropy_grad(g_target, g_z, g, target, z, lines, length, inner, lo, hi):
        buf = cuda.shared.array(ROW_THREADS, elem)
        t = cuda.threadIdx.x
        width = cuda.blockDim.x
        for line in range(cuda.blockIdx.x, lines, cuda.gridDim.x):
            base = (line // inner) * length * inner + line % inner
            m, total, s = _row_statistics(z, base, length, inner, buf, t, width, lowest, zero)
            passed = zero   # the sum of the targets whose probability the clip lets through
            for r in range(t, length, width):
                k = base + r * inner
                q = (cast(safe_exp(z[k] - m)) / total) / s
                if q >= lo and q <= hi:
                    passed += target[k]
            buf[t] = passed
            _tree(buf, t, width, False)
            passed = buf[0]
            cuda.syncthreads()
            gl = g[line]
            for r in range(t, length, width):
                k = base + r * inner
                q = (cast(safe_exp(z[k] - m)) / total) / s
                tk = zero
                if q >= lo and q <= hi:
                    tk = target[k]
                g_z[k] = gl * (q * passed - tk)
                g_target[k] = -gl * safe_log(_clipped(q, lo, hi))
    return softmax_crossentropy_grad


def _rows(shape, axis):
    outer, length, inner = _layout(shape, axis)
    return outer * inner, length, inner


def softmax_crossentropy(target, z, axis, epsilon):
    """Keras 2.2.4's `categorical_crossentropy(target, softmax(z, axis))`, one launch.

    # Arguments
        target, z: `DeviceArray`s of one shape and floating dtype.
        axis: the classes axis (non-negative).
        epsilon: the clipping constant.
    """
    shape = tuple(n for d, n in enumerate(z.shape) if d != axis)
    loss = arrays.empty(shape, z.dtype)
    lines, length, inner = _rows(z.shape, axis)
    if lines == 0:
        return loss
    cast = z.dtype.type
    run(_crossentropy_kernel(z.dtype), min(lines, MAX_BLOCKS), next_pow2(length, ROW_THREADS),
        loss.data, target.data, z.data, lines, length, inner, cast(epsilon),
        cast(1.0 - epsilon))
    return loss


def softmax_crossentropy_grad(g, target, z, axis, epsilon):
    """The gradients of `softmax_crossentropy` for the target and the logits, one launch.

    # Returns
        `(g_target, g_z)`: `-g * log(clip(q))` and `g * (q * sum(m * target) -
        m * target)`, with `m` = 1 where the clip lets `q` through.
    """
    g_target = arrays.empty(z.shape, z.dtype)
    g_z = arrays.empty(z.shape, z.dtype)
    lines, length, inner = _rows(z.shape, axis)
    if lines == 0 or length == 0:
        return g_target, g_z
    cast = z.dtype.type
    run(_crossentropy_grad_kernel(z.dtype), min(lines, MAX_BLOCKS),
        next_pow2(length, ROW_THREADS), g_target.data, g_z.data, g.data, target.data, z.data,
        lines, length, inner, cast(epsilon), cast(1.0 - epsilon))
    return g_target, g_z




# --- binary crossentropy on probabilities (elementwise: `elementwise.map_arrays`) -------
# p = (epsilon, 1 - epsilon) in the computing dtype.

@cuda.jit(device=True)
def _clipped_logit(output, p):
    c = _clipped(output, p[0], p[1])
    return c, safe_log(c / (ONE - c))


@cuda.jit(device=True)
def binary_crossentropy(target, output, p):
    """`max(z, 0) - z t + log1p(exp(-|z|))`, z the logit of the clipped output."""
    c, z = _clipped_logit(output, p)
    relu_z = z
    if not (z > ZERO or z != z):
        relu_z = ZERO
    m = -abs(z)   # softplus(m) as np.logaddexp(0, m)
    return (relu_z - z * target) + (max(m, ZERO) + safe_log1p(safe_exp(-abs(m))))


@cuda.jit(device=True)
def binary_crossentropy_grad_output(g, target, output, p):
    """`g (c - t) / (c (1 - c))` where the clip passes the output, else 0."""
    if not (output >= p[0] and output <= p[1]):
        return ZERO
    c = output
    return g * (c - target) / (c * (ONE - c))


@cuda.jit(device=True)
def binary_crossentropy_grad_target(g, output, p):
    """`-g z`."""
    c, z = _clipped_logit(output, p)
    return -g * z
