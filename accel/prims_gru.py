"""accel's reset-after GRU gates (mirror of `refkeras/backend/prims_gru.py`)."""
import numpy as np

from accel.errors import AccelShapeError
from accel.kernels import gru
from accel.kernels.copy import cast
from accel.operands import device
from accel.registry import accel_primitive


def _checked(x_part, h_part, h_prev, activation, recurrent_activation):
    """The operands on the device, in one float dtype, after the reference's checks."""
    for name in (activation, recurrent_activation):
        if name not in gru.ACTIVATIONS:
            raise ValueError("primitive 'gru_gates': unknown activation %r (expected one of %s)"
                             % (name, ', '.join(sorted(gru.ACTIVATIONS))))
    parts = [device(v, 'gru_gates') for v in (x_part, h_part, h_prev)]
    gates = (3,) + tuple(parts[2].shape)
    for what, v in zip(('x_part', 'h_part'), parts[:2]):
        if tuple(v.shape) != gates:
            raise AccelShapeError("primitive 'gru_gates': %s must have the gates' shape %s (3 + "
                                  'h_prev %s); received %s.'
                                  % (what, gates, tuple(parts[2].shape), tuple(v.shape)))
    dtype = np.result_type(*[v.dtype for v in parts])
    dtype = dtype if dtype.kind == 'f' else np.dtype(np.float64)
    return [v if v.dtype == dtype else cast(v, dtype) for v in parts]


@accel_primitive('gru_gates')
def gru_gates(x_part, h_part, h_prev, activation='tanh', recurrent_activation='sigmoid'):
    """One reset-after GRU step in one kernel: the new state `(batch, units)`."""
    x_part, h_part, h_prev = _checked(x_part, h_part, h_prev, activation,
                                      recurrent_activation)
    return gru.gru_forward(x_part, h_part, h_prev, activation, recurrent_activation)


@gru_gates.defgrad
def _gru_gates_grad(g, out, x_part, h_part, h_prev, activation='tanh',
                    recurrent_activation='sigmoid'):
    x_part, h_part, h_prev = _checked(x_part, h_part, h_prev, activation,
                                      recurrent_activation)
    g = device(g, 'gru_gates')
    g = g if g.dtype == h_prev.dtype else cast(g, h_prev.dtype)
    return gru.gru_backward(g, x_part, h_part, h_prev, activation, recurrent_activation)
