"""Per-run collection of losses added while layers execute.

A training step opens a `collecting()` context around the model's forward
pass; layers that call `add_loss` on concrete values inside `call` (activity
regularizers, custom penalties) land in that run's list, which the step adds
to the total loss. Outside such a context those values have no training step
to join and are dropped (prediction does not need them).
"""
import contextlib

from refkeras.backend.tensors import SymbolicTensor

_STACK = []


class RunLosses(object):
    """The loss values collected during one forward pass."""

    def __init__(self):
        self.losses = []


@contextlib.contextmanager
def collecting():
    """Collects concrete `add_loss` values for the duration of the block."""
    ctx = RunLosses()
    _STACK.append(ctx)
    try:
        yield ctx
    finally:
        _STACK.remove(ctx)


def add_loss(loss):
    """Routes a loss value added during a run.

    # Returns
        True if the loss was concrete and has been handled (collected, or
        dropped outside a training step); False if the layer should keep it
        (symbolic tensors and callables, re-evaluated at every step).
    """
    if isinstance(loss, SymbolicTensor) or callable(loss):
        return False
    if _STACK:
        _STACK[-1].losses.append(loss)
    return True
