"""The reset-after GRU cell's gates as one primitive (cuDNN's GRU, `CuDNNGRU`).

Like `prims_rnn.lstm_gates`, `gru_gates` exists for speed: one GRU timestep
from elementwise primitives is about a dozen tape records; this is one, with
the backpropagation equations written out below. Its inputs are the two
projections cuDNN keeps apart, biases included:

    x_part = x . W + b      (3, batch, units), gates z, r, h
    h_part = h . R + rb     (3, batch, units)

and the step is

    z = recurrent_activation(x_part[0] + h_part[0])
    r = recurrent_activation(x_part[1] + h_part[1])
    hh = activation(x_part[2] + r * h_part[2])
    h = z * h_prev + (1 - z) * hh

Activations are given by name and computed by the registered activation
primitives, forward and gradient (the table of `prims_rnn`).
"""
import numpy as np

from refkeras.backend.prims_rnn import _ACTIVATIONS
from refkeras.backend.registry import primitive


def _check(x_part, h_part, h_prev, activation, recurrent_activation):
    for name in (activation, recurrent_activation):
        if name not in _ACTIVATIONS:
            raise ValueError("primitive 'gru_gates': unknown activation %r (expected one of %s)"
                             % (name, ', '.join(sorted(_ACTIVATIONS))))
    gates = (3,) + np.shape(h_prev)
    for what, value in (('x_part', x_part), ('h_part', h_part)):
        if np.shape(value) != gates:
            raise ValueError("primitive 'gru_gates': %s must have the gates' shape %s (3 + "
                             'h_prev %s); received %s.'
                             % (what, gates, np.shape(h_prev), np.shape(value)))


@primitive()
def gru_gates(x_part, h_part, h_prev, activation='tanh', recurrent_activation='sigmoid'):
    """One reset-after GRU step from the input and state projections.

    # Arguments
        x_part: `(3, batch, units)`, the input's projections (bias included)
            for the z, r and h gates.
        h_part: `(3, batch, units)`, the previous state's projections
            (recurrent bias included).
        h_prev: `(batch, units)`, the previous state.
        activation, recurrent_activation: names in `prims_rnn.FUSABLE_ACTIVATIONS`.

    # Returns
        `(batch, units)`, the new state (see the module docstring).

    # Raises
        ValueError: for an unknown activation or projections of another shape.
    """
    _check(x_part, h_part, h_prev, activation, recurrent_activation)
    rec, act = _ACTIVATIONS[recurrent_activation][0], _ACTIVATIONS[activation][0]
    z = rec(x_part[0] + h_part[0])
    r = rec(x_part[1] + h_part[1])
    candidate = act(x_part[2] + r * h_part[2])
    return z * h_prev + (1. - z) * candidate


@gru_gates.defgrad
def _gru_gates_grad(g, out, x_part, h_part, h_prev, activation='tanh',
                    recurrent_activation='sigmoid'):
    rec, rec_grad = _ACTIVATIONS[recurrent_activation]
    act, act_grad = _ACTIVATIONS[activation]
    pre_z, pre_r = x_part[0] + h_part[0], x_part[1] + h_part[1]
    z, r = rec(pre_z), rec(pre_r)
    pre_candidate = x_part[2] + r * h_part[2]
    candidate = act(pre_candidate)
    g_pre_z = g * (h_prev - candidate) * rec_grad(pre_z, z)
    g_pre_candidate = g * (1. - z) * act_grad(pre_candidate, candidate)
    g_pre_r = g_pre_candidate * h_part[2] * rec_grad(pre_r, r)
    g_x = np.stack([g_pre_z, g_pre_r, g_pre_candidate]).astype(g.dtype, copy=False)
    g_h = np.stack([g_pre_z, g_pre_r, g_pre_candidate * r]).astype(g.dtype, copy=False)
    return g_x, g_h, (g * z).astype(g.dtype, copy=False)
