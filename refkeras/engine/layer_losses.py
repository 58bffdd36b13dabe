"""How layers and models keep their losses (`add_loss`, `losses`, `get_losses_for`).

Keras 2.2.4's bookkeeping, for a backend that runs eagerly:

- Every loss a layer holds is an *entry*, filed under the inputs it depends
  on (`get_losses_for(inputs)`) or under None when it depends on no input
  (weight penalties, constants: `get_losses_for(None)`).
- A weight penalty is a `WeightPenalty` entry: `losses` reports its value
  computed now, and the training step computes it under the gradient tape.
- An activity regularizer's loss depends on the batch, so it has no value
  before the model runs. Calling the layer on symbolic tensors files a
  symbolic tensor for it under those inputs (it can be listed, counted and
  evaluated with `K.function`), marked *collected during runs*: the value the
  training step adds is the one the layer computes while the model runs on
  the batch (`run_context`), so each layer runs once per step.
- A model used as a layer on new inputs files, under those inputs, one marked
  symbolic tensor for each of its own input-dependent losses.
- A model's training loss is the sum of its unique entries (`unique_entries`):
  constants, penalties computed now, symbolic losses evaluated with the
  outputs, and the values collected during the run.
"""
from refkeras.backend import graph as graph_module
from refkeras.backend.tensors import SymbolicTensor
from refkeras.utils.generic_utils import to_list


class WeightPenalty(object):
    """The loss a weight regularizer adds: `regularizer(weight)`, computed when asked.

    # Arguments
        regularizer: a callable (e.g. `regularizers.l2(0.01)`).
        weight: the `Variable` it penalises.
    """

    def __init__(self, regularizer, weight):
        self.regularizer = regularizer
        self.weight = weight

    def __call__(self):
        return self.regularizer(self.weight)

    def __repr__(self):
        return '<WeightPenalty %r on %s>' % (self.regularizer, self.weight.name)


def inputs_key(inputs):
    """The key a loss is filed under: None (unconditional) or the inputs.

    Tensors are compared by identity, and a key made of them survives
    pickling (ids would not); unhashable inputs (arrays a layer was called on
    eagerly) are keyed by their ids.
    """
    if inputs is None:
        return None
    inputs = to_list(inputs, allow_tuple=True)
    if not inputs:
        return None
    try:
        for x in inputs:
            hash(x)
    except TypeError:
        return ('ids',) + tuple(id(x) for x in inputs)
    return tuple(inputs)


def is_symbolic(entry):
    return isinstance(entry, SymbolicTensor)


def is_collected_during_runs(entry):
    """Whether the training step takes this loss's value from the run itself."""
    return is_symbolic(entry) and getattr(entry, '_collected_during_runs', False)


def mark_collected_during_runs(tensors):
    for tensor in tensors:
        tensor._collected_during_runs = True
    return tensors


def current_value(entry):
    """What `losses` reports for an entry: penalties (and other zero-argument
    callables) computed now; tensors and constants as they are."""
    if callable(entry) and not is_symbolic(entry):
        return entry()
    return entry


def unique_entries(entries):
    """Entries without repeats, as Keras 2.2.4 lists a model's losses: each
    tensor (or penalty) once, every Python number kept."""
    seen, out = set(), []
    for entry in entries:
        if isinstance(entry, (int, float)) and not isinstance(entry, bool):
            out.append(entry)
        elif id(entry) not in seen:
            seen.add(id(entry))
            out.append(entry)
    return out


def entries_for(layer, inputs):
    """A layer's loss entries filed under `inputs` (None: the unconditional
    ones). A layer class that overrides the public `get_losses_for` (a
    custom cell, say) is asked through it."""
    # Imported here: at the top it would be a circular import.
    from refkeras.engine.base_layer import Layer
    if type(layer).get_losses_for is not Layer.get_losses_for:
        return list(layer.get_losses_for(inputs))
    return layer._loss_entries_for(inputs)


def all_entries(layer):
    """All of a layer's loss entries; through `losses` if its class overrides it."""
    # Imported here: at the top it would be a circular import.
    from refkeras.engine.base_layer import Layer
    if type(layer).losses is not Layer.losses and not hasattr(layer, '_internal_loss_entries'):
        return list(layer.losses)
    return layer._all_loss_entries()


class ActivityPenalty(object):
    """`regularizer(output)` as the function of a graph node (picklable, unlike a closure)."""
    __name__ = 'activity_regularizer'

    def __init__(self, regularizer):
        self.regularizer = regularizer

    def __call__(self, output):
        return self.regularizer(output)


def activity_losses(regularizer, outputs):
    """The marked symbolic losses of an activity regularizer on symbolic outputs."""
    penalty = graph_module.symbolic_aware(ActivityPenalty(regularizer))
    return mark_collected_during_runs([penalty(out) for out in to_list(outputs)])


class NetworkLossesNode(object):
    """Graph node for the input-dependent losses of a model called on new inputs.

    Evaluating one of its outputs runs the model's graph on the new inputs'
    values and computes the loss; training never does that (the model's own
    layers add those values while they run), so the outputs are marked
    collected during runs.

    # Arguments
        network: the model used as a layer.
        inputs: the symbolic tensors it was called on.
        losses: the model's own symbolic losses (on its own inputs).
    """

    def __init__(self, network, inputs, losses):
        self.network = network
        self.inputs = list(inputs)
        self.losses = list(losses)
        self.outputs = mark_collected_during_runs(
            [SymbolicTensor(loss.shape, loss.dtype, name='%s/loss:%d' % (network.name, i),
                            node=self, index=i) for i, loss in enumerate(self.losses)])

    def run(self, values, masks):
        phase = graph_module.learning_phase()
        phase = phase if isinstance(phase, int) else 0
        outs = graph_module.evaluate(self.losses, list(zip(self.network.inputs, values)), phase)
        return outs, [None] * len(outs)
