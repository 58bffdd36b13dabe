"""Recurrent primitives: the LSTM cell's gates, and a whole LSTM sequence, as one operation.

`K.rnn` works with any cell built from the other primitives; this one exists
for speed. One LSTM timestep composed of elementwise primitives is about a
dozen tape records (four activations, slicing, products, sums), each with its
Python overhead and NumPy temporaries, and the step runs `batches x timesteps`
times per epoch. `lstm_gates` does the same arithmetic in one record, with its
gradient (the LSTM backpropagation equations) written out below.

Activations are given by name and computed by the registered activation
primitives (`prims_nn`), forward and gradient, so the numbers are exactly those
of the composed cell.

`lstm_sequence` runs the whole timestep loop of an LSTM layer in one record:
the input projections of all timesteps in one (batched) matrix product, then
per timestep the recurrent product and `lstm_gates`' arithmetic, the same
operations in the same order as the layer's per-timestep path (so the same
bits); its gradient is backpropagation through time, summed in the order the
tape sums the per-timestep records (the same bits again). On an accelerator it
is what lets the loop run inside a kernel instead of as a dozen launches per
timestep.
"""
import numpy as np

from refkeras.backend import prims_nn
from refkeras.backend.registry import primitive, unbroadcast

# Activation name -> (forward(x), derivative given (x, forward output)).
_IDENTITY = (lambda x: x, lambda x, y: np.ones_like(y))
_ACTIVATIONS = {'linear': _IDENTITY}
for _name in ('tanh', 'sigmoid', 'hard_sigmoid', 'softsign', 'softplus', 'relu', 'elu'):
    _prim = getattr(prims_nn, _name)
    _ACTIVATIONS[_name] = (
        _prim.forward,
        lambda x, y, _prim=_prim: _prim.grad(np.ones_like(y), y, x)[0])
FUSABLE_ACTIVATIONS = frozenset(_ACTIVATIONS)


@primitive()
def lstm_gates(z, c_prev, activation='tanh', recurrent_activation='hard_sigmoid'):
    """One LSTM step from the gates' pre-activations.

    # Arguments
        z: `(4, batch, units)`, the pre-activations of the i, f, c, o gates
            (`x . kernel + h_prev . recurrent_kernel + bias`, split by gate).
        c_prev: `(batch, units)`, the previous carry state.
        activation, recurrent_activation: names in `FUSABLE_ACTIVATIONS`.

    # Returns
        `(2, batch, units)`: the new output `h` and the new carry state `c`,
        where `i, f, o = recurrent_activation(z[0], z[1], z[3])`,
        `c = f * c_prev + i * activation(z[2])` and `h = o * activation(c)`.
    """
    gate = _ACTIVATIONS[recurrent_activation][0](z)     # i, f, (unused), o
    act = _ACTIVATIONS[activation][0]
    c = gate[1] * c_prev + gate[0] * act(z[2])
    return np.stack([gate[3] * act(c), c])


@lstm_gates.defgrad
def _lstm_gates_grad(g, out, z, c_prev, activation='tanh', recurrent_activation='hard_sigmoid'):
    act, act_grad = _ACTIVATIONS[activation]
    rec, rec_grad = _ACTIVATIONS[recurrent_activation]
    gate = rec(z)                                       # i, f, (unused), o
    gate_grad = rec_grad(z, gate)
    candidate = act(z[2])
    c = out[1]
    act_c = act(c)
    g_h, g_c = g[0], g[1]
    g_c = g_c + g_h * gate[3] * act_grad(c, act_c)     # c reaches h through activation(c)
    g_z = np.empty(np.shape(z), dtype=g.dtype)
    g_z[0] = g_c * candidate * gate_grad[0]
    g_z[1] = g_c * c_prev * gate_grad[1]
    g_z[2] = g_c * gate[0] * act_grad(z[2], candidate)
    g_z[3] = g_h * act_c * gate_grad[3]
    return g_z, g_c * gate[1]


def _masked(x, masks):
    """`x * masks` (one dropout mask per gate, on a new gate axis), or `x` without masks."""
    return x if masks is None else x * masks


def _unmasked(grad, masks):
    """The gradient reaching `x` from its per-gate uses `_masked(x, masks) @ W_k`:
    `grad` has a gate axis at -3, summed over after applying the masks."""
    return (grad if masks is None else grad * masks).sum(axis=-3)


def _summed(total, term):
    """`total + term`, or `term` for the first one (as the tape adds gradients)."""
    return term if total is None else total + term


@primitive()
def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias, input_masks=None,
                  recurrent_masks=None, activation='tanh', recurrent_activation='hard_sigmoid'):
    """A whole LSTM sequence: `lstm_gates` applied timestep after timestep.

    # Arguments
        x: `(time, batch, input_dim)`, the inputs, time-major, in the order they
            are processed (a backwards layer reverses them first).
        h0, c0: `(batch, units)`, the initial output and carry states.
        kernel: `(4, input_dim, units)`, recurrent_kernel: `(4, units, units)`:
            one matrix per gate (i, f, c, o).
        bias: broadcastable to `(4, batch, units)`, e.g. `(4, 1, units)`.
        input_masks: None, or `(4, batch, input_dim)` dropout masks of the
            inputs, one per gate, the same at every timestep.
        recurrent_masks: None, or `(4, batch, units)` masks of `h`, likewise.
        activation, recurrent_activation: names in `FUSABLE_ACTIVATIONS`.

    # Returns
        `(time, 2, batch, units)`: `h` and `c` after every timestep, where at
        timestep t `z = (x_t W + h_{t-1} U) + bias` (inputs and `h_{t-1}`
        multiplied by their masks first) and `(h_t, c_t) = lstm_gates(z, c_{t-1})`.
    """
    x_proj = np.matmul(_masked(x[:, None], input_masks), kernel)  # (time, 4, batch, units)
    steps, h, c = [], h0, c0
    for t in range(len(x)):
        z = (x_proj[t] + np.matmul(_masked(h, recurrent_masks), recurrent_kernel)) + bias
        h, c = lstm_gates.forward(z, c, activation, recurrent_activation)
        steps.append(np.stack([h, c]))
    return np.stack(steps)


@lstm_sequence.defgrad
def _lstm_sequence_grad(g, out, x, h0, c0, kernel, recurrent_kernel, bias, input_masks=None,
                        recurrent_masks=None, activation='tanh',
                        recurrent_activation='hard_sigmoid'):
    x_in = _masked(x[:, None], input_masks)                     # (time, 4 or 1, batch, in)
    x_proj = np.matmul(x_in, kernel)
    h_in = _masked(np.concatenate([h0[None], out[:-1, 0]])[:, None], recurrent_masks)
    c_prev = np.concatenate([c0[None], out[:-1, 1]])
    g_z = np.empty(x_proj.shape, dtype=g.dtype)                 # (time, 4, batch, units)
    g_h, g_c = np.zeros_like(g[0, 0]), np.zeros_like(g[0, 1])  # from the timestep after
    g_kernel = g_recurrent = g_bias = None
    for t in range(len(x) - 1, -1, -1):
        z = (x_proj[t] + np.matmul(h_in[t], recurrent_kernel)) + bias
        g_step = np.stack([g[t, 0] + g_h, g[t, 1] + g_c])
        g_z[t], g_c = _lstm_gates_grad(g_step, out[t], z, c_prev[t], activation,
                                       recurrent_activation)
        g_h = _unmasked(np.matmul(g_z[t], np.swapaxes(recurrent_kernel, -1, -2)),
                        recurrent_masks)
        # The weights' gradients, summed from the last timestep back, as the tape
        # sums those of the per-timestep path: the same bits.
        g_kernel = _summed(g_kernel, np.matmul(np.swapaxes(x_in[t], -1, -2), g_z[t]))
        g_recurrent = _summed(g_recurrent, np.matmul(np.swapaxes(h_in[t], -1, -2), g_z[t]))
        g_bias = _summed(g_bias, unbroadcast(g_z[t], bias))
    g_x = _unmasked(np.matmul(g_z, np.swapaxes(kernel, -1, -2)), input_masks)
    return g_x, g_h, g_c, g_kernel, g_recurrent, g_bias, None, None
