"""A whole LSTM sequence in one persistent kernel per direction (forward, backward).

The batch rows of an LSTM are independent, so one thread block takes one row
(or several, looping, when the batch outnumbers the grid) and walks all the
timesteps itself, with `cuda.syncthreads()` where a timestep needs what other
threads of the block wrote: no launch per timestep. The threads of a block
share the row's units (`j = threadIdx.x, threadIdx.x + blockDim.x, ...`).

- Forward, timestep t: thread j computes the four recurrent products
  `sum_m (h_{t-1}[m] * mask_k[m]) * U_k[m, j]` (in increasing m from zero, one
  fused multiply-add at a time, as `gemm.py` does), adds the input projection
  and the bias, `z = (x_proj + hU) + bias` in the reference's order, applies
  the gates (the device functions of `lstm.py`) and writes `h_t[j]`, `c_t[j]`
  into the output; the block then synchronises, because timestep t + 1 reads
  all of `h_t`. `h` lives in the output array in device memory (the L1/L2
  caches serve the block's re-reads), so a row may have any number of units.
- Backward, timestep t from the last: thread j recomputes its `z` (the same
  operations, so the same values), takes the upstream gradient plus what
  reaches `h_t` and `c_t` from timestep t + 1, and writes the gates' gradients
  `g_z[:, t]` (and, for the weights' gradients, the masked `h_{t-1}`); after a
  synchronisation, thread m sums `g_z[k, t] . U_k[m, :]` over gates (masked)
  into the gradient reaching `h_{t-1}[m]`. Those carried gradients are indexed
  like the thread's own units, so no further synchronisation is needed.

The weights' gradients are then three matrix products over all timesteps at
once (`accel/prims_rnn.py`), from the stored `g_z` laid out gate-major,
`(4, time, batch, units)`.
No atomics: every value is written by one thread in a fixed order.
"""
from accel import arrays
from accel.kernels.fused import _params, activate
from accel.kernels.launch import MAX_BLOCKS, SIMULATOR, cuda, kernel_factory, run
from accel.kernels.lstm import ACTIVATIONS, derivative

__all__ = ['ACTIVATIONS', 'sequence_forward', 'sequence_backward']

#: Threads per block (a block's threads share the units of its batch row).
ROW_THREADS = 8 if SIMULATOR else 128


@cuda.jit(device=True)
def _h_prev(t, b, m, out, h0, batch, units):
    """`h_{t-1}[b, m]`: the initial state at t = 0, else the output of timestep t - 1."""
    if t == 0:
        return h0[b * units + m]
    return out[(2 * (t - 1)) * batch * units + b * units + m]


@cuda.jit(device=True)
def _c_prev(t, b, j, out, c0, batch, units):
    if t == 0:
        return c0[b * units + j]
    return out[(2 * (t - 1) + 1) * batch * units + b * units + j]


@cuda.jit(device=True)
def _masked(value, masks, masked, k, b, m, batch, units):
    if masked:
        return value * masks[(k * batch + b) * units + m]
    return value


@cuda.jit(device=True)
def _preactivations(t, b, j, out, xproj, h0, u_kernel, bias, sb, masks, masked, time, batch,
                    units, zero):
    """The four gates' `z = (x_proj + (h_{t-1} * mask) . U) + bias` of unit j, row b."""
    a0 = zero
    a1 = zero
    a2 = zero
    a3 = zero
    for m in range(units):
        h = _h_prev(t, b, m, out, h0, batch, units)
        a0 += _masked(h, masks, masked, 0, b, m, batch, units) * u_kernel[m * units + j]
        a1 += _masked(h, masks, masked, 1, b, m, batch, units) * u_kernel[(units + m) * units + j]
        a2 += _masked(h, masks, masked, 2, b, m, batch, units) * \
            u_kernel[(2 * units + m) * units + j]
        a3 += _masked(h, masks, masked, 3, b, m, batch, units) * \
            u_kernel[(3 * units + m) * units + j]
    at = (t * batch + b) * units + j
    step = time * batch * units          # one gate's block of x_proj
    bj = b * sb[1] + j * sb[2]
    return ((xproj[at] + a0) + bias[bj], (xproj[step + at] + a1) + bias[sb[0] + bj],
            (xproj[2 * step + at] + a2) + bias[2 * sb[0] + bj],
            (xproj[3 * step + at] + a3) + bias[3 * sb[0] + bj])


@kernel_factory
def _forward_kernel(act, rec):
    @cuda.jit
    def lstm_sequence_forward(out, xproj, h0, c0, u_kernel, bias, sb, masks, masked, time,
                              batch, units, zero, p):
        for b in range(cuda.blockIdx.x, batch, cuda.gridDim.x):
            for t in range(time):
                for j in range(cuda.threadIdx.x, units, cuda.blockDim.x):
                    z0, z1, z2, z3 = _preactivations(t, b, j, out, xproj, h0, u_kernel, bias,
                                                     sb, masks, masked, time, batch, units, zero)
                    c = activate(rec, z1, p) * _c_prev(t, b, j, out, c0, batch, units) + \
                        activate(rec, z0, p) * activate(act, z2, p)
                    at = 2 * t * batch * units + b * units + j
                    out[at] = activate(rec, z3, p) * activate(act, c, p)
                    out[at + batch * units] = c
                cuda.syncthreads()     # timestep t + 1 reads all of h_t
    return lstm_sequence_forward


@cuda.jit(device=True)
def _gate_gradients(t, b, j, gz, gh, gc, g, out, xproj, h0, c0, u_kernel, bias, sb, masks,
                    masked, time, batch, units, zero, act, rec, p):
    """Writes `g_z[:, t, b, j]` and the carry's gradient `gc[b, j]` (`lstm.py`'s rule)."""
    z0, z1, z2, z3 = _preactivations(t, b, j, out, xproj, h0, u_kernel, bias, sb, masks,
                                     masked, time, batch, units, zero)
    i = activate(rec, z0, p)
    f = activate(rec, z1, p)
    candidate = activate(act, z2, p)
    o = activate(rec, z3, p)
    n = batch * units
    at = b * units + j
    c = out[(2 * t + 1) * n + at]
    act_c = activate(act, c, p)
    g_h = g[2 * t * n + at] + gh[at]
    g_c = (g[(2 * t + 1) * n + at] + gc[at]) + g_h * o * derivative(act, c, act_c, p)
    step = time * n
    zt = t * n + at
    gz[zt] = g_c * candidate * derivative(rec, z0, i, p)
    gz[step + zt] = g_c * _c_prev(t, b, j, out, c0, batch, units) * derivative(rec, z1, f, p)
    gz[2 * step + zt] = g_c * i * derivative(act, z2, candidate, p)
    gz[3 * step + zt] = g_h * act_c * derivative(rec, z3, o, p)
    gc[at] = g_c * f


@kernel_factory
def _backward_kernel(act, rec):
    @cuda.jit
    def lstm_sequence_backward(gz, h_in, gh, gc, g, out, xproj, h0, c0, u_kernel, bias, sb,
                               masks, masked, time, batch, units, zero, p):
        n = batch * units
        step = time * n
        for b in range(cuda.blockIdx.x, batch, cuda.gridDim.x):
            for j in range(cuda.threadIdx.x, units, cuda.blockDim.x):
                gh[b * units + j] = zero
                gc[b * units + j] = zero
            for t in range(time - 1, -1, -1):
                for j in range(cuda.threadIdx.x, units, cuda.blockDim.x):
                    _gate_gradients(t, b, j, gz, gh, gc, g, out, xproj, h0, c0, u_kernel, bias,
                                    sb, masks, masked, time, batch, units, zero, act, rec, p)
                    h = _h_prev(t, b, j, out, h0, batch, units)
                    for k in range(4 if masked else 1):   # h_{t-1} as the products saw it
                        h_in[k * step + t * n + b * units + j] = _masked(h, masks, masked, k, b,
                                                                         j, batch, units)
                cuda.syncthreads()     # the sums below read every unit's g_z[:, t]
                for m in range(cuda.threadIdx.x, units, cuda.blockDim.x):
                    total = zero
                    for k in range(4):
                        acc = zero
                        for j in range(units):
                            acc += gz[k * step + t * n + b * units + j] * \
                                u_kernel[(k * units + m) * units + j]
                        total += _masked(acc, masks, masked, k, b, m, batch, units)
                    gh[b * units + m] = total
    return lstm_sequence_backward


def _launch_shape(batch, units):
    return (min(batch, MAX_BLOCKS),), (min(units, ROW_THREADS),)


def sequence_forward(xproj, h0, c0, u_kernel, bias, sb, masks, activation,
                     recurrent_activation):
    """`(time, 2, batch, units)`: h and c after every timestep.

    # Arguments
        xproj: `(4, time, batch, units)`, the input projections, gate-major.
        h0, c0: `(batch, units)`; u_kernel: `(4, units, units)`.
        bias: any array, read at `k * sb[0] + b * sb[1] + j * sb[2]` (its
            strides broadcast over `(4, batch, units)`).
        masks: None, or `(4, batch, units)` recurrent dropout masks.
    """
    time, batch, units = xproj.shape[1], h0.shape[0], h0.shape[1]
    out = arrays.empty((time, 2, batch, units), h0.dtype)
    if out.size:
        grid, block = _launch_shape(batch, units)
        run(_forward_kernel(ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]),
            grid, block, out.data, xproj.data, h0.data, c0.data, u_kernel.data, bias.data,
            sb, (h0 if masks is None else masks).data, masks is not None, time, batch, units,
            h0.dtype.type(0), _params(h0.dtype))
    return out


def sequence_backward(g, out, xproj, h0, c0, u_kernel, bias, sb, masks, activation,
                      recurrent_activation):
    """`(g_z, h_in, g_h0, g_c0)`: the gates' gradients `(4, time, batch, units)`, the
    masked `h_{t-1}` of every timestep (`(4 or 1, time, batch, units)`, 1 without
    masks), and the gradients reaching the initial states."""
    time, batch, units = xproj.shape[1], h0.shape[0], h0.shape[1]
    gz = arrays.empty((4, time, batch, units), g.dtype)
    h_in = arrays.empty((1 if masks is None else 4, time, batch, units), g.dtype)
    make = arrays.empty if time else arrays.zeros     # the kernel zeroes them first
    gh = make((batch, units), g.dtype)
    gc = make((batch, units), g.dtype)
    if gh.size and time:
        grid, block = _launch_shape(batch, units)
        run(_backward_kernel(ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]),
            grid, block, gz.data, h_in.data, gh.data, gc.data, g.data, out.data, xproj.data,
            h0.data, c0.data, u_kernel.data, bias.data, sb,
            (h0 if masks is None else masks).data, masks is not None, time, batch, units,
            g.dtype.type(0), _params(g.dtype))
    return gz, h_in, gh, gc
