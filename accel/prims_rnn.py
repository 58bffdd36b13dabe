"""accel's recurrent primitives (mirror of `refkeras/backend/prims_rnn.py`): `lstm_gates`,
one LSTM step in one kernel, and `lstm_sequence`, the whole timestep loop in one
kernel per direction."""
import inspect

import numpy as np

from accel import arrays
from accel.errors import AccelShapeError
from accel.kernels import gemm, lstm, reduce
from accel.kernels import lstm_sequence as lstm_sequence_kernels
from accel.kernels.copy import cast
from accel.kernels.launch import broadcast_strides
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


# --- lstm_sequence: the whole timestep loop, one persistent kernel per direction ----------

def _sequence_operands(x, h0, c0, kernel, recurrent_kernel, bias, input_masks,
                       recurrent_masks, activation, recurrent_activation):
    """The operands on the device in one float dtype, after checking their shapes."""
    for name in (activation, recurrent_activation):
        if name not in lstm.ACTIVATIONS:
            raise ValueError("primitive 'lstm_sequence': unknown activation %r (expected one "
                             'of %s)' % (name, ', '.join(sorted(lstm.ACTIVATIONS))))
    names = ('x', 'h0', 'c0', 'kernel', 'recurrent_kernel', 'bias', 'input_masks',
             'recurrent_masks')
    parts = [None if v is None else device(v, 'lstm_sequence')
             for v in (x, h0, c0, kernel, recurrent_kernel, bias, input_masks, recurrent_masks)]
    time, batch, input_dim = parts[0].shape if parts[0].ndim == 3 else (None,) * 3
    units = parts[1].shape[-1] if parts[1].ndim == 2 else None
    expected = [(time, batch, input_dim), (batch, units), (batch, units),
                (4, input_dim, units), (4, units, units), None, (4, batch, input_dim),
                (4, batch, units)]
    for name, v, shape in zip(names, parts, expected):
        if v is not None and shape is not None and (None in shape or tuple(v.shape) != shape):
            raise AccelShapeError("primitive 'lstm_sequence': %s must have shape %s (x %s, h0 "
                                  '%s), received %s' % (name, shape, parts[0].shape,
                                                        parts[1].shape, v.shape))
    try:
        np.broadcast_shapes(parts[5].shape, (4, batch, units))
    except ValueError:
        raise AccelShapeError("primitive 'lstm_sequence': bias of shape %s does not broadcast "
                              'to (4, batch, units) = %s' % (parts[5].shape, (4, batch, units)))
    dtype = np.result_type(*[v.dtype for v in parts if v is not None])
    dtype = dtype if dtype.kind == 'f' else np.dtype(np.float64)
    return [v if v is None or v.dtype == dtype else cast(v, dtype) for v in parts]


def _gate_inputs(x, input_masks):
    """`x` as the input products see it, gate-major: `(4, time * batch, input_dim)` with
    the masks applied, or `(1, time * batch, input_dim)` (shared by the gates) without."""
    time, batch, input_dim = x.shape
    if input_masks is None:
        return x.reshape((1, time * batch, input_dim))
    masked = x.reshape((1, time, batch, input_dim)) * input_masks.reshape((4, 1, batch,
                                                                           input_dim))
    return masked.reshape((4, time * batch, input_dim))


def _projection(x_in, kernel):
    """`x_in @ kernel`, gate by gate: `(4, rows, units)` (one launch)."""
    return gemm.gemm(gemm.matrix_view(x_in, (4,)), gemm.matrix_view(kernel, (4,)), (4,),
                     kernel.dtype)


def _sequence_forward(x, h0, c0, kernel, recurrent_kernel, bias, input_masks=None,
                      recurrent_masks=None, activation='tanh', recurrent_activation='hard_sigmoid'):
    """A whole LSTM sequence: the input projections in one matrix product, then the
    timestep loop in one kernel (`accel/kernels/lstm_sequence.py`)."""
    x, h0, c0, kernel, recurrent_kernel, bias, input_masks, recurrent_masks = \
        _sequence_operands(x, h0, c0, kernel, recurrent_kernel, bias, input_masks,
                           recurrent_masks, activation, recurrent_activation)
    xproj = _projection(_gate_inputs(x, input_masks), kernel)
    return lstm_sequence_kernels.sequence_forward(
        xproj.reshape((4, x.shape[0]) + h0.shape), h0, c0, recurrent_kernel, bias,
        broadcast_strides(bias.shape, (4,) + h0.shape), recurrent_masks, activation,
        recurrent_activation)


def _sequence_grad(g, out, x, h0, c0, kernel, recurrent_kernel, bias, input_masks=None,
                   recurrent_masks=None, activation='tanh', recurrent_activation='hard_sigmoid'):
    x, h0, c0, kernel, recurrent_kernel, bias, input_masks, recurrent_masks = \
        _sequence_operands(x, h0, c0, kernel, recurrent_kernel, bias, input_masks,
                           recurrent_masks, activation, recurrent_activation)
    g, out = (v if v.dtype == h0.dtype else cast(v, h0.dtype)
              for v in (device(g, 'lstm_sequence'), device(out, 'lstm_sequence')))
    (time, batch, input_dim), units = x.shape, h0.shape[1]
    x_in = _gate_inputs(x, input_masks)
    xproj = _projection(x_in, kernel).reshape((4, time, batch, units))
    gz, h_in, g_h0, g_c0 = lstm_sequence_kernels.sequence_backward(
        g, out, xproj, h0, c0, recurrent_kernel, bias,
        broadcast_strides(bias.shape, (4, batch, units)), recurrent_masks, activation,
        recurrent_activation)
    rows = time * batch
    gz = gz.reshape((4, rows, units))
    # The weights' gradients: one product each over all timesteps and rows.
    g_kernel = gemm.gemm(gemm.matrix_view(x_in, (4,)).transposed(), gemm.matrix_view(gz, (4,)),
                         (4,), gz.dtype)
    g_recurrent = gemm.gemm(gemm.matrix_view(h_in.reshape((-1, rows, units)), (4,)).transposed(),
                            gemm.matrix_view(gz, (4,)), (4,), gz.dtype)
    # The bias's: g_z summed over time and over the axes the bias is broadcast along.
    spread = broadcast_strides(bias.shape, (4, batch, units))
    axes = (1,) + tuple(axis for axis, stride in zip((0, 2, 3), spread) if stride == 0)
    g_bias = reduce.reduce(gz.reshape((4, time, batch, units)), tuple(sorted(axes)), 'sum',
                           gz.dtype).reshape(bias.shape)
    g_x = gemm.gemm(gemm.matrix_view(gz, (4,)), gemm.matrix_view(kernel, (4,)).transposed(),
                    (4,), gz.dtype)                                # (4, rows, input_dim)
    if input_masks is not None:
        g_x = g_x.reshape((4, time, batch, input_dim)) * input_masks.reshape((4, 1, batch,
                                                                             input_dim))
    g_x = reduce.reduce(g_x.reshape((4, rows * input_dim)), (0,), 'sum', gz.dtype)
    return (g_x.reshape(x.shape), g_h0, g_c0, g_kernel, g_recurrent, g_bias, None, None)


if 'lstm_sequence' in REGISTRY:
    lstm_sequence = accel_primitive('lstm_sequence')(_sequence_forward)
    lstm_sequence.defgrad(_sequence_grad)
