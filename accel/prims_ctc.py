"""accel's CTC loss primitive (mirror of `refkeras/backend/prims_ctc.py`)."""
import numpy as np

from accel import arrays
from accel.kernels import ctc as CTC
from accel.operands import device
from accel.registry import accel_primitive

from refkeras.backend.prims_ctc import check_ctc_arguments


def _checked(log_probs, labels, input_length, label_length):
    operands = [device(x, 'ctc_loss') for x in (log_probs, labels, input_length, label_length)]
    # The arguments are checked as the reference checks them, on host copies of
    # the (small) integer operands, before any kernel runs.
    check_ctc_arguments(operands[0].shape, *[arrays.to_host(x) for x in operands[1:]])
    return operands


@accel_primitive('ctc_loss')
def ctc_loss(log_probs, labels, input_length, label_length):
    """CTC loss of each sample: one thread per sample, float64 recursions."""
    operands = _checked(log_probs, labels, input_length, label_length)
    return CTC.ctc_loss(*operands, out_dtype=operands[0].dtype)


@ctc_loss.defgrad
def _ctc_loss_grad(g, out, log_probs, labels, input_length, label_length):
    operands = _checked(log_probs, labels, input_length, label_length)
    g = device(g, 'ctc_loss')
    out_dtype = np.result_type(g.dtype, operands[0].dtype)
    return (CTC.ctc_loss_grad(g, *operands, out_dtype=out_dtype), None, None, None)
