"""The reset-after GRU cell's gates in one kernel, forward and backward.

One thread per (batch, unit) element reads the six projections of its element
(`x_part` and `h_part`, gates z, r, h), the previous state and (backward) the
upstream gradient, and writes the new state (forward) or the seven gradients
(backward): the arithmetic of `refkeras.backend.prims_gru.gru_gates` with no
intermediate in device memory. The activations are chosen when the kernel is
compiled (one kernel per pair); they are `fused.py`'s device functions, those
`lstm.py` uses, with their constants in the computing dtype.
"""
from accel import arrays
from accel.kernels.launch import cuda, grid_1d, kernel_factory, run
from accel.kernels.fused import _params, activate
from accel.kernels.lstm import ACTIVATIONS, derivative
from accel.kernels.scalar import ONE

__all__ = ['ACTIVATIONS', 'gru_forward', 'gru_backward']


@kernel_factory
def _forward_kernel(act, rec):
    @cuda.jit
    def gru_forward(out, x_part, h_part, h_prev, n, p):
        # x_part, h_part: (3, batch, units) flattened, gate k of element j at k * n + j.
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            z = activate(rec, x_part[j] + h_part[j], p)
            r = activate(rec, x_part[n + j] + h_part[n + j], p)
            candidate = activate(act, x_part[2 * n + j] + r * h_part[2 * n + j], p)
            out[j] = z * h_prev[j] + (ONE - z) * candidate
    return gru_forward


@kernel_factory
def _backward_kernel(act, rec):
    @cuda.jit
    def gru_backward(gx, gh, gh_prev, g, x_part, h_part, h_prev, n, p):
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            pre_z = x_part[j] + h_part[j]
            pre_r = x_part[n + j] + h_part[n + j]
            z = activate(rec, pre_z, p)
            r = activate(rec, pre_r, p)
            pre_candidate = x_part[2 * n + j] + r * h_part[2 * n + j]
            candidate = activate(act, pre_candidate, p)
            g_j = g[j]
            g_pre_z = g_j * (h_prev[j] - candidate) * derivative(rec, pre_z, z, p)
            g_pre_candidate = g_j * (ONE - z) * derivative(act, pre_candidate, candidate, p)
            g_pre_r = g_pre_candidate * h_part[2 * n + j] * derivative(rec, pre_r, r, p)
            gx[j] = g_pre_z
            gx[n + j] = g_pre_r
            gx[2 * n + j] = g_pre_candidate
            gh[j] = g_pre_z
            gh[n + j] = g_pre_r
            gh[2 * n + j] = g_pre_candidate * r
            gh_prev[j] = g_j * z
    return gru_backward


def gru_forward(x_part, h_part, h_prev, activation, recurrent_activation):
    """The new state `(batch, units)`; `x_part`, `h_part` are `(3,) + h_prev.shape`."""
    n = h_prev.size
    out = arrays.empty(h_prev.shape, h_prev.dtype)
    if n:
        blocks, threads = grid_1d(n)
        run(_forward_kernel(ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]),
            blocks, threads, out.data, x_part.data, h_part.data, h_prev.data, n,
            _params(h_prev.dtype))
    return out


def gru_backward(g, x_part, h_part, h_prev, activation, recurrent_activation):
    """The gradients `(g_x_part, g_h_part, g_h_prev)` of `gru_forward`."""
    n = h_prev.size
    gx = arrays.empty(x_part.shape, g.dtype)
    gh = arrays.empty(h_part.shape, g.dtype)
    gh_prev = arrays.empty(h_prev.shape, g.dtype)
    if n:
        blocks, threads = grid_1d(n)
        run(_backward_kernel(ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]),
            blocks, threads, gx.data, gh.data, gh_prev.data, g.data, x_part.data, h_part.data,
            h_prev.data, n, _params(g.dtype))
    return gx, gh, gh_prev
