"""Recurrent primitives: the LSTM cell's gates as one operation.

`K.rnn` works with any cell built from the other primitives; this one exists
for speed. One LSTM timestep composed of elementwise primitives is about a
dozen tape records (four activations, slicing, products, sums), each with its
Python overhead and NumPy temporaries, and the step runs `batches x timesteps`
times per epoch. `lstm_gates` does the same arithmetic in one record, with its
gradient (the LSTM backpropagation equations) written out below.

Activations are given by name and computed by the registered activation
primitives (`prims_nn`), forward and gradient, so the numbers are exactly those
of the composed cell.
"""
import numpy as np

from refkeras.backend import prims_nn
from refkeras.backend.registry import primitive

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
