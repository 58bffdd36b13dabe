"""Per-run collection of losses added while layers execute.

A training step opens a `collecting()` context around the model's forward
pass; layers that call `add_loss` on concrete values inside `call` (activity
regularizers, custom penalties) land in that run's list, which the step adds
to the total loss. Values computed while some other graph runs (predict,
`K.function`) have no training step to join and are dropped; values added
outside any run are kept by the layer (`Layer.add_loss`).
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


def is_collecting():
    """Whether a training or test step is collecting loss values now."""
    return bool(_STACK)


def in_run():
    """Whether a step collects losses or some graph is being evaluated."""
    from refkeras.backend import graph
    return bool(_STACK) or graph.running()


def add_loss(loss):
    """Routes a loss value added during a run.

    # Returns
        True if the loss was a concrete value computed during a run and has
        been handled (collected by the step, or dropped when no step
        collects); False if the layer should keep it (symbolic tensors,
        callables and values added outside any run).
    """
    if isinstance(loss, SymbolicTensor) or callable(loss):
        return False
    if _STACK:
        _STACK[-1].losses.append(loss)
        return True
    return in_run()
