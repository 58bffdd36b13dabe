"""The LSTM cell's gates in one kernel, forward and backward.

One thread per (batch, unit) element sums the four gates' pre-activations
(`x_part + h_part + bias`, broadcast), reads the previous carry and (backward)
the upstream gradients, and writes the new
output and carry (forward) or the five gradients (backward): the arithmetic of
`refkeras.backend.prims_rnn.lstm_gates` with no intermediate in device memory.
The activations are chosen when the kernel is compiled (one kernel per pair of
activations); their formulas are those of the activation primitives.
"""
from accel import arrays
from accel.kernels.launch import (broadcast_strides, cuda, grid_1d, kernel_factory, run,
                                  strided_offset)
from accel.kernels.fused import ACTIVATIONS as FUSED_CODES
from accel.kernels.fused import _params, activate, activation_grad
from accel.kernels.scalar import ONE

from refkeras.backend.prims_rnn import FUSABLE_ACTIVATIONS

#: Activation names, as `prims_rnn.FUSABLE_ACTIVATIONS`, and their kernel codes:
#: the activations are `fused.py`'s device functions (those `bias_activation`
#: uses), with their constants (`_params`) in the computing dtype.
ACTIVATIONS = {name: FUSED_CODES[name] for name in FUSABLE_ACTIVATIONS}


@cuda.jit(device=True)
def derivative(kind, z, y, p):
    """d activation / dz at `z`, given `y = activation(z)`: the gradient rule
    applied to an upstream gradient of exactly one."""
    return activation_grad(kind, ONE, y, z, p)


@kernel_factory
def _forward_kernel(act, rec):
    @cuda.jit
    def lstm_forward(out, x_part, sx, h_part, sh, bias, sb, c_prev, n, shape, p):
        # z[k, j] = x_part + h_part + bias (broadcast: strides sx, sh, sb over shape
        # (4, batch, units)), for gate k and element j of the carry.
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            z0 = _gate(0, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            z1 = _gate(1, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            z2 = _gate(2, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            z3 = _gate(3, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            i = activate(rec, z0, p)
            f = activate(rec, z1, p)
            candidate = activate(act, z2, p)
            o = activate(rec, z3, p)
            c = f * c_prev[j] + i * candidate
            out[j] = o * activate(act, c, p)
            out[n + j] = c
    return lstm_forward


@cuda.jit(device=True)
def _gate(k, j, n, shape, x_part, sx, h_part, sh, bias, sb):
    q = k * n + j
    return (x_part[strided_offset(q, shape, sx)] + h_part[strided_offset(q, shape, sh)]) + \
        bias[strided_offset(q, shape, sb)]


@kernel_factory
def _backward_kernel(act, rec):
    @cuda.jit
    def lstm_backward(gz, gc_prev, g, out, x_part, sx, h_part, sh, bias, sb, c_prev, n, shape,
                      p):
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            z0 = _gate(0, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            z1 = _gate(1, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            z2 = _gate(2, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            z3 = _gate(3, j, n, shape, x_part, sx, h_part, sh, bias, sb)
            i = activate(rec, z0, p)
            f = activate(rec, z1, p)
            candidate = activate(act, z2, p)
            o = activate(rec, z3, p)
            c = out[n + j]
            act_c = activate(act, c, p)
            g_h = g[j]
            g_c = g[n + j] + g_h * o * derivative(act, c, act_c, p)
            gz[j] = g_c * candidate * derivative(rec, z0, i, p)
            gz[n + j] = g_c * c_prev[j] * derivative(rec, z1, f, p)
            gz[2 * n + j] = g_c * i * derivative(act, z2, candidate, p)
            gz[3 * n + j] = g_h * act_c * derivative(rec, z3, o, p)
            gc_prev[j] = g_c * f
    return lstm_backward


def _gate_operands(parts, c_prev):
    shape = (4,) + tuple(c_prev.shape)
    args = []
    for part in parts:
        args += [part.data, broadcast_strides(part.shape, shape)]
    return args, shape


def lstm_forward(x_part, h_part, bias, c_prev, activation, recurrent_activation):
    """`(2, batch, units)`: new output and carry. `x_part`, `h_part`, `bias` broadcast
    to `(4,) + c_prev.shape` and are summed into the gates' pre-activations."""
    n = c_prev.size
    out = arrays.empty((2,) + c_prev.shape, c_prev.dtype)
    if n:
        args, shape = _gate_operands((x_part, h_part, bias), c_prev)
        blocks, threads = grid_1d(n)
        run(_forward_kernel(ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]),
            blocks, threads, out.data, *args, c_prev.data, n, shape, _params(c_prev.dtype))
    return out


def lstm_backward(g, out, x_part, h_part, bias, c_prev, activation, recurrent_activation):
    """The gradients `(g_z, g_c_prev)` of `lstm_forward`, `g_z` of shape `(4,) + c_prev.shape`."""
    n = c_prev.size
    gz = arrays.empty((4,) + c_prev.shape, g.dtype)
    gc = arrays.empty(c_prev.shape, g.dtype)
    if n:
        args, shape = _gate_operands((x_part, h_part, bias), c_prev)
        blocks, threads = grid_1d(n)
        run(_backward_kernel(ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]),
            blocks, threads, gz.data, gc.data, g.data, out.data, *args, c_prev.data, n, shape,
            _params(g.dtype))
    return gz, gc
