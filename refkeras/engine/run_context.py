"""What one run of a model collects and allows while its layers execute.

Losses: a training step opens a `collecting()` context around the model's
forward pass; layers that call `add_loss` on concrete values inside `call`
(activity regularizers, custom penalties) land in that run's list, which the
step adds to the total loss. Values computed while some other graph runs
(predict, `K.function`) have no training step to join and are dropped; values
added outside any run are kept by the layer (`Layer.add_loss`).

Updates: refkeras applies state updates eagerly, while a layer runs (a
`BatchNormalization` moves its moving statistics in the training phase). A
training step opens `applying_updates(model_updates)` with the updates the
model listed when its training step was made (Keras 2.2.4's training
function runs exactly `model.updates`); a layer asks `updates_allowed`
before changing its state, so a frozen layer (`trainable=False`, not
listed) keeps its state in that step.
"""
import contextlib

from refkeras.backend import graph
from refkeras.backend.tensors import SymbolicTensor

_STACK = []
_UPDATES = []
_STEP_SAMPLES = [None]


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


@contextlib.contextmanager
def applying_updates(updates):
    """Allows, for the duration of the block, exactly the updates listed.

    # Arguments
        updates: the updates a training step may apply (for the built-in
            layers, the variables they change), e.g. `model.updates` as
            collected when the step was made.
    """
    allowed = {id(u) for u in updates}
    _UPDATES.append(allowed)
    try:
        yield
    finally:
        _UPDATES.remove(allowed)


def updates_allowed(layer, updates):
    """Whether `layer` may apply `updates` (changing its state) now.

    Inside a training step, for updates the layer recorded in a symbolic
    call (it is part of the model's graph): if every one of them is among
    the step's allowed updates. Otherwise (a `K.function` fed learning phase
    1, a layer called on arrays, a layer used inside another layer's `call`):
    if the layer lists updates at all, i.e. it is trainable or stateful.
    """
    recorded = {id(u) for u in layer._updates}
    if _UPDATES and all(id(u) in recorded for u in updates):
        return all(id(u) in _UPDATES[-1] for u in updates)
    return bool(layer.trainable or layer.stateful)


def note_step_samples(count):
    """Records how many samples the training step now running takes (None: unknown).

    `refkeras.distributed.DistributedOptimizer` weights each rank's gradient
    by it, so that ranks with unequal slices of a global batch still average
    to the gradient of the whole batch.
    """
    _STEP_SAMPLES[0] = count


def step_samples():
    """The sample count `note_step_samples` recorded last (None before any step)."""
    return _STEP_SAMPLES[0]
