"""Making every rank's model equal to the root's: weights and optimizer slots.

Before anything is sent, the ranks compare the layout of what they are about
to exchange: every layer's weights (name, shape, dtype) and the optimizer's
state. A rank whose model differs (a layer built with other units, a missing
layer) makes *every* rank raise `ModelMismatchError` naming the first layer
that differs, so no rank is left waiting in a broadcast of a size the others
never send.
"""
import numpy as np

from refkeras import backend as K
from refkeras.distributed.comm import ModelMismatchError


def _layout(model):
    """`[(layer name, weight name, shape, dtype)]` of the model's weights, then its optimizer's."""
    entries = [(layer.name, w.name, tuple(K.int_shape(w)), K.dtype(w))
               for layer, w in _layer_weights(model)]
    optimizer = getattr(model, 'optimizer', None)
    for i, w in enumerate(getattr(optimizer, 'weights', None) or []):
        entries.append(('optimizer %s' % optimizer.__class__.__name__, 'state %d' % i,
                        tuple(K.int_shape(w)), K.dtype(w)))
    return entries


def _layer_weights(model):
    """`(layer, weight)` for each of the model's weights, once each, layer by layer."""
    seen = set()
    pairs = []
    for layer in model.layers:
        for w in layer.weights:
            if id(w) not in seen:
                seen.add(id(w))
                pairs.append((layer, w))
    return pairs


def _variables(model):
    variables = [w for _, w in _layer_weights(model)]
    optimizer = getattr(model, 'optimizer', None)
    return variables + list(getattr(optimizer, 'weights', None) or [])


def check_same_layout(world, model, what):
    """Raises `ModelMismatchError` on every rank unless all ranks' layouts equal rank 0's."""
    everyone = world.allgather_object(_layout(model), '%s (layouts)' % what)
    root = everyone[0]
    for r, theirs in enumerate(everyone):
        if theirs == root:
            continue
        for i in range(max(len(theirs), len(root))):
            mine = theirs[i] if i < len(theirs) else None
            ref = root[i] if i < len(root) else None
            if mine != ref:
                break
        layer = (mine or ref)[0]
        raise ModelMismatchError(
            '%s: the models differ at layer %r: rank %d has %s, rank 0 has %s. Every rank '
            'must build the same model.'
            % (what, layer, r, _describe(mine), _describe(ref)))


def _describe(entry):
    if entry is None:
        return 'no weight there'
    return 'weight %r of shape %s (%s)' % (entry[1], entry[2], entry[3])


def broadcast_model(world, model, root_rank, what='BroadcastGlobalVariablesCallback'):
    """Sets every rank's weights and optimizer slots to root's, after checking layouts.

    A compiled model's optimizer slots are created first (as the first
    training step would), so that they are broadcast too.

    # Raises
        ModelMismatchError: on every rank, naming the first layer that differs.
    """
    if not 0 <= root_rank < world.size:
        raise ValueError('%s: root_rank=%r is not a rank of this job (0 to %d).'
                         % (what, root_rank, world.size - 1))
    if getattr(model, 'optimizer', None) is not None and hasattr(model, '_make_train_function'):
        model._make_train_function()   # creates the optimizer's slots
    check_same_layout(world, model, what)
    variables = _variables(model)
    values = [np.array(K.get_value(v), order="C") for v in variables]
    for i, (variable, value) in enumerate(zip(variables, values)):
        world.broadcast_into(value, root_rank, '%s: broadcast of %s' % (what, variable.name))
    if world.rank != root_rank:
        K.batch_set_value(list(zip(variables, values)))
