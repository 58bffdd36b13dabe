"""Reading what later Keras versions wrote: tf.keras 2.x optimizer state.

Keras 2.2.4 (and refkeras) store an optimizer's weights in
`optimizer.weights` order. tf.keras 2.x names each slot after its variable
(`Adam/m/dense/kernel:0`, or `Adam/dense/kernel/m:0` for the legacy
optimizers); `map_optimizer_weights` matches those names to refkeras's
slots.
"""
import re


# For each refkeras optimizer: its slot lists (attribute names) and the tf.keras slot
# names that hold the same quantity, for the new optimizers and the legacy ones.
_SLOTS = {
    'SGD': [('moments', ('m',), ('momentum',))],
    'Adam': [('ms', ('m',), ('m',)), ('vs', ('v',), ('v',)), ('vhats', ('vhat',), ('vhat',))],
    'Adamax': [('ms', ('m',), ('m',)), ('us', ('u',), ('v',))],
    'Nadam': [('ms', ('m', 'momentums'), ('m',)), ('vs', ('v', 'velocities'), ('v',))],
    'RMSprop': [('accumulators', ('velocity',), ('rms',))],
    'Adagrad': [('accumulators', ('accumulator',), ('accumulator',))],
    'Adadelta': [('accumulators', ('accumulated_grad',), ('accum_grad',)),
                 ('delta_accumulators', ('accumulated_delta_var',), ('accum_var',))],
}
# Variables of the new optimizers refkeras recomputes instead of restoring.
_IGNORED = ('u_product',)


def _variable_key(name):
    """A variable's name without `:0` and without the cell scopes tf.keras's
    recurrent layers add (`gru/gru_cell/kernel:0` is refkeras's `gru/kernel:0`)."""
    name = name[:-2] if name.endswith(':0') else name
    return '/'.join(part for part in name.split('/') if not part.endswith('_cell'))


def map_optimizer_weights(optimizer, params, names):
    """Matches tf.keras 2.x optimizer weight names to refkeras's optimizer weights.

    # Arguments
        optimizer: the (built) refkeras optimizer.
        params: the variables it trains, in order.
        names: the weight names stored in the file.

    # Returns
        None if `names` are not tf.keras 2.x names (then the file holds the
        weights in `optimizer.weights` order, as Keras 2.2.4 writes them);
        else `(sources, iterations_source)`: for each of `optimizer.weights`
        the index in `names` of its value (None: no saved value, e.g.
        AMSGrad's unused slots), and the index of the step counter (None if
        it is already one of the weights).

    # Raises
        ValueError: if the saved slots cannot be matched (another optimizer,
            other variables, or slots refkeras does not have).
    """
    if 'iteration:0' in names:
        style, iteration_name = 1, 'iteration:0'
    else:
        legacy = [n for n in names if re.match(r'^[^/]+/iter:0$', n)]
        if not legacy:
            return None
        style, iteration_name = 2, legacy[0]
    table = _SLOTS.get(optimizer.__class__.__name__)
    if table is None:
        raise ValueError('no known tf.keras slot layout for %s' % optimizer.__class__.__name__)
    slot_names = {}
    for attribute, new_names, legacy_names in table:
        for slot in (new_names if style == 1 else legacy_names):
            slot_names[slot] = attribute
    by_attribute = {}
    for index, name in enumerate(names):
        if name == iteration_name:
            continue
        parts = name.split('/')
        if not name.endswith(':0'):
            raise ValueError('unexpected optimizer weight name %r' % name)
        if len(parts) >= 2 and parts[-1][:-2] in _IGNORED:
            continue
        if style == 1 and len(parts) >= 3:
            slot, variable = parts[1], _variable_key('/'.join(parts[2:]))
        elif style == 2 and len(parts) >= 3:
            slot, variable = parts[-1][:-2], _variable_key('/'.join(parts[1:-1]))
        else:
            raise ValueError('unexpected optimizer weight name %r' % name)
        if slot not in slot_names:
            raise ValueError('the saved optimizer has a slot %r that refkeras\'s %s does not have'
                             % (slot, optimizer.__class__.__name__))
        by_attribute.setdefault(slot_names[slot], []).append((variable, index))
    param_keys = [_variable_key(getattr(p, 'name', '')) for p in params]
    sources = {}
    for attribute, entries in by_attribute.items():
        slots = getattr(optimizer, attribute, None)
        if slots is None or len(entries) != len(params):
            raise ValueError('%d saved %r slots for %d trained variables'
                             % (len(entries), attribute, len(params)))
        saved_keys = [variable for variable, _ in entries]
        if len(set(param_keys)) == len(param_keys) and sorted(saved_keys) == sorted(param_keys):
            order = {variable: index for variable, index in entries}
            chosen = [order[key] for key in param_keys]
        else:  # names differ: fall back to the order of the variables
            chosen = [index for _, index in entries]
        for slot, index in zip(slots, chosen):
            sources[id(slot)] = index
    iterations_source = names.index(iteration_name)
    iterations = getattr(optimizer, 'iterations', None)
    result = []
    for variable in optimizer.weights:
        if variable is iterations:
            result.append(iterations_source)
            iterations_source = None
        else:
            result.append(sources.get(id(variable)))
    return result, iterations_source
