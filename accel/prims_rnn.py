"""accel's recurrent primitives (mirror of `refkeras/backend/prims_rnn.py`)."""
import inspect

import numpy as np

from accel import arrays
from accel.errors import AccelShapeError
from accel.kernels import lstm
from accel.kernels.copy import cast
from accel.operands import device, unbroadcast
from accel.registry import accel_primitive
from refkeras.backend.registry import REGISTRY


def _checked(x_part, h_part, bias, c_prev, activation, recurrent_activation):
    for name in (activation, recurrent_activation):
        if name not in lstm.ACTIVATIONS:
            raise ValueError("primitive 'lstm_gates': unknown activation %r (expected one of %s)"
                             % (name, ', '.join(sorted(lstm.ACTIVATIONS))))
    parts = [device(v, 'lstm_gates') for v in (x_part, h_part, bias, c_prev)]
    c_prev = parts[3]
    gates = (4,) + tuple(c_prev.shape)
    for what, v in zip(('x_part', 'h_part', 'bias'), parts[:3]):
        try:
            fits = np.broadcast_shapes(v.shape, gates) == gates
        except ValueError:
            fits = False
        if not fits:
            raise AccelShapeError("primitive 'lstm_gates': %s of shape %s does not broadcast to "
                                  'the gates\' shape %s (4 + c_prev %s)'
                                  % (what, v.shape, gates, c_prev.shape))
    dtype = np.result_type(*[v.dtype for v in parts])
    dtype = dtype if dtype.kind == 'f' else np.dtype(np.float64)
    return [v if v.dtype == dtype else cast(v, dtype) for v in parts]


def _split_forward(x_part, h_part, bias, c_prev, activation='tanh',
                   recurrent_activation='hard_sigmoid'):
    """One LSTM step, gates summed and activated in one kernel: `(2, batch, units)`."""
    x_part, h_part, bias, c_prev = _checked(x_part, h_part, bias, c_prev, activation,
                                            recurrent_activation)
    return lstm.lstm_forward(x_part, h_part, bias, c_prev, activation, recurrent_activation)


def _split_grad(g, out, x_part, h_part, bias, c_prev, activation='tanh',
                recurrent_activation='hard_sigmoid'):
    x_part, h_part, bias, c_prev = _checked(x_part, h_part, bias, c_prev, activation,
                                            recurrent_activation)
    g, out = device(g, 'lstm_gates'), device(out, 'lstm_gates')
    g = g if g.dtype == c_prev.dtype else cast(g, c_prev.dtype)
    out = out if out.dtype == c_prev.dtype else cast(out, c_prev.dtype)
    g_z, g_c = lstm.lstm_backward(g, out, x_part, h_part, bias, c_prev, activation,
                                  recurrent_activation)
    return (unbroadcast(g_z, x_part), unbroadcast(g_z, h_part), unbroadcast(g_z, bias), g_c)


def _zero_like(z):
    z = device(z, 'lstm_gates')
    return z, arrays.scalar_constant(0, z.dtype)


def _fused_forward(z, c_prev, activation='tanh', recurrent_activation='hard_sigmoid'):
    """One LSTM step from the gates' pre-activations `z`, in one kernel."""
    z, zero = _zero_like(z)
    return _split_forward(z, zero, zero, c_prev, activation, recurrent_activation)


def _fused_grad(g, out, z, c_prev, activation='tanh', recurrent_activation='hard_sigmoid'):
    z, zero = _zero_like(z)
    g_z, _, _, g_c = _split_grad(g, out, z, zero, zero, c_prev, activation,
                                 recurrent_activation)
    return g_z, g_c


# The reference's `lstm_gates` takes either the summed pre-activations
# `(z, c_prev)` or the projections `(x_part, h_part, bias, c_prev)` (its RNN work
# is moving from one to the other); the kernel does both, and accel registers
# the form the reference has, so that the signatures stay identical.
def _reference_form():

    ref = REGISTRY.get('lstm_gates')
    if ref is None:
        return None
    return 'fused' if list(inspect.signature(ref.forward).parameters)[0] == 'z' else 'split'


_FORM = _reference_form()
if _FORM is not None:
    lstm_gates = accel_primitive('lstm_gates')(
        _fused_forward if _FORM == 'fused' else _split_forward)
    lstm_gates.defgrad(_fused_grad if _FORM == 'fused' else _split_grad)
