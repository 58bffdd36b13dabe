"""Reading what later Keras versions wrote: tf.keras 2.x configurations and state.

refkeras writes Keras 2.2.4's format. tf.keras 2.x (e.g. 2.15, with
`model.save(path, save_format='h5')`) writes the same HDF5 layout, but with
newer names inside. This module translates them to their Keras 2.2.4
equivalents before `saving` rebuilds the model; on Keras 2.2.4 files every
function here changes nothing.

What is translated:

- Model configs: the class name `Functional` (Keras 2.2.4's `Model`); a
  single input or output written as a flat `[name, node, tensor]`; initializer
  classes (`GlorotUniform` is `VarianceScaling(1, 'fan_avg', 'uniform')`,
  ...); `L1` / `L2` regularizers (`L1L2`); dtype policies (their dtype name);
  the `module` / `registered_name` keys of serialized objects; and layer
  arguments Keras 2.2.4 did not have, when they hold the value that means
  Keras 2.2.4's behaviour (`groups=1`, `time_major=False`, `keepdims=False`,
  `ragged=False`, ...). Any other value is an error naming the layer and the
  argument.
- Training configs: `Custom>Adam` and the other new optimizers become their
  Keras 2.2.4 classes (`learning_rate` is `lr`; options without a Keras 2.2.4
  counterpart must have their neutral value); losses and metrics stored as
  objects (`MeanSquaredError`, `MeanMetricWrapper(fn=...)`) become names;
  per-output metric lists become a dict by output name.
- Optimizer state: tf.keras names each slot after its variable
  (`Adam/m/dense/kernel:0`, or `Adam/dense/kernel/m:0` for the legacy
  optimizers); `map_optimizer_weights` matches them to refkeras's slots.
- Weights: `CuDNNLSTM` / `CuDNNGRU` weights into `LSTM` / `GRU` and back
  (Keras 2.2.4's `_convert_rnn_weights`).
"""
import inspect
import re
import warnings

import numpy as np

# --- model configs --------------------------------------------------------------------------------

# tf.keras initializer classes, as Keras 2.2.4's VarianceScaling (scale, mode, distribution).
_VARIANCE_SCALING = {
    'GlorotUniform': (1.0, 'fan_avg', 'uniform'),
    'GlorotNormal': (1.0, 'fan_avg', 'normal'),
    'HeUniform': (2.0, 'fan_in', 'uniform'),
    'HeNormal': (2.0, 'fan_in', 'normal'),
    'LecunUniform': (1.0, 'fan_in', 'uniform'),
    'LecunNormal': (1.0, 'fan_in', 'normal'),
}

_ANY = object()

# Layer arguments tf.keras added, with the value that means Keras 2.2.4's behaviour.
# Consulted only for arguments the refkeras layer does not take.
_NEUTRAL_ARGUMENTS = {
    'groups': 1,
    'time_major': False,
    'keepdims': False,
    'ragged': False,
    'seed': None,
    'noise_shape': None,
    'synchronized': False,
    'module': _ANY,                  # where tf.keras found a Lambda's function
    'output_shape_module': _ANY,
    'registered_name': _ANY,
    'kernel_initializer': _ANY,      # tf.keras's SeparableConv lists unused kernel options
    'kernel_regularizer': _ANY,
    'kernel_constraint': _ANY,
}

_LAYER_ENTRY_KEYS = ('class_name', 'config', 'name', 'inbound_nodes')
_MODEL_CLASSES = ('Model', 'Functional', 'Sequential')


def _plain_object(value):
    """A serialized object `{'class_name', 'config'}` without tf.keras's extra keys."""
    if isinstance(value, dict) and 'class_name' in value:
        return {'class_name': value['class_name'], 'config': value.get('config', {})}
    return value


def _translate_initializer(value):
    value = _plain_object(value)
    if not isinstance(value, dict) or 'class_name' not in value:
        return value
    name, config = value['class_name'], dict(value.get('config') or {})
    if name in _VARIANCE_SCALING:
        scale, mode, distribution = _VARIANCE_SCALING[name]
        return {'class_name': 'VarianceScaling',
                'config': {'scale': scale, 'mode': mode, 'distribution': distribution,
                           'seed': config.get('seed')}}
    if name == 'VarianceScaling':
        distribution = config.get('distribution', 'normal')
        if distribution == 'truncated_normal':
            config['distribution'] = 'normal'
        elif distribution == 'untruncated_normal':
            raise ValueError('VarianceScaling(distribution="untruncated_normal") (tf.keras) has no '
                             'Keras 2.2.4 equivalent.')
    return {'class_name': name, 'config': config}


def _translate_regularizer(value):
    value = _plain_object(value)
    if not isinstance(value, dict) or 'class_name' not in value:
        return value
    name, config = value['class_name'], dict(value.get('config') or {})
    if name == 'L1':
        return {'class_name': 'L1L2', 'config': {'l1': config.get('l1', 0.01), 'l2': 0.0}}
    if name == 'L2':
        return {'class_name': 'L1L2', 'config': {'l1': 0.0, 'l2': config.get('l2', 0.01)}}
    return {'class_name': name, 'config': config}


def _layer_class(class_name):
    from refkeras import layers
    cls = getattr(layers, class_name, None)
    return cls if isinstance(cls, type) else None


def _accepted_arguments(cls):
    """Keyword arguments a layer class takes, or None if it takes any (`**kwargs` passed on)."""
    from refkeras.engine.base_layer import _ALLOWED_KWARGS
    names = set(_ALLOWED_KWARGS)
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        parameters = inspect.signature(init).parameters
        names.update(p for p in parameters if p not in ('self', 'kwargs'))
    return names


def _translate_layer_config(class_name, config):
    config = dict(config)
    for key, value in list(config.items()):
        if key == 'dtype' and isinstance(value, dict):
            # A dtype policy: {'class_name': 'Policy', 'config': {'name': 'float32'}}.
            config[key] = (value.get('config') or {}).get('name', 'float32')
        elif key.endswith('_initializer'):
            config[key] = _translate_initializer(value)
        elif key.endswith('_regularizer'):
            config[key] = _translate_regularizer(value)
        elif key.endswith('_constraint'):
            config[key] = _plain_object(value)
        elif key in ('layer', 'cell', 'backward_layer') and isinstance(value, dict):
            config[key] = translate_model_config(value)
    if class_name == 'BatchNormalization' and isinstance(config.get('axis'), list) and \
            len(config['axis']) == 1:
        config['axis'] = config['axis'][0]
    cls = _layer_class(class_name)
    if cls is not None:
        accepted = _accepted_arguments(cls)
        for key in [k for k in config if k not in accepted]:
            neutral = _NEUTRAL_ARGUMENTS.get(key, KeyError)
            if neutral is KeyError:
                continue  # let the layer report it
            if neutral is _ANY or config[key] == neutral:
                del config[key]
            else:
                raise ValueError('Layer %r (%s): the argument %s=%r (from a newer Keras) has no '
                                 'Keras 2.2.4 equivalent; only %s=%r can be read.'
                                 % (config.get('name'), class_name, key, config[key], key,
                                    neutral))
    return config


def translate_model_config(entry):
    """A model (or layer) config `{'class_name', 'config', ...}` in Keras 2.2.4's terms.

    # Raises
        ValueError: for a tf.keras setting with no Keras 2.2.4 equivalent.
    """
    if not isinstance(entry, dict) or 'class_name' not in entry:
        return entry
    entry = {key: value for key, value in entry.items() if key in _LAYER_ENTRY_KEYS}
    class_name = entry['class_name']
    if class_name == 'Functional':
        class_name = entry['class_name'] = 'Model'
    config = entry.get('config')
    if class_name in _MODEL_CLASSES and isinstance(config, dict) and \
            isinstance(config.get('layers'), list):
        config = dict(config)
        config['layers'] = [translate_model_config(layer) for layer in config['layers']]
        for key in ('input_layers', 'output_layers'):
            value = config.get(key)
            if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
                config[key] = [value]
        entry['config'] = config
    elif class_name in _MODEL_CLASSES and isinstance(config, list):
        entry['config'] = [translate_model_config(layer) for layer in config]
    elif isinstance(config, dict):
        entry['config'] = _translate_layer_config(class_name, config)
    return entry


# --- training configs -----------------------------------------------------------------------------

_OPTIMIZER_DROPPED = ('name', 'is_legacy_optimizer', 'jit_compile', 'ema_momentum',
                      'ema_overwrite_frequency')
# Options of the new optimizers and the value that means Keras 2.2.4's behaviour.
_OPTIMIZER_NEUTRAL = {'weight_decay': (None, 0, 0.0), 'clipnorm': (None,), 'clipvalue': (None,),
                      'global_clipnorm': (None,), 'use_ema': (False,), 'centered': (False,)}


def _snake_case(name):
    name = re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


def translate_optimizer_config(optimizer_config):
    """A tf.keras optimizer config in Keras 2.2.4's terms (unchanged for Keras 2.2.4's).

    # Raises
        ValueError: for a learning-rate schedule or an option Keras 2.2.4 lacks.
    """
    if not isinstance(optimizer_config, dict) or 'class_name' not in optimizer_config:
        return optimizer_config
    class_name = optimizer_config['class_name']
    if isinstance(class_name, str) and class_name.startswith('Custom>'):
        class_name = class_name[len('Custom>'):]
    config = dict(optimizer_config.get('config') or {})
    for key in _OPTIMIZER_DROPPED:
        config.pop(key, None)
    if 'learning_rate' in config:
        config['lr'] = config.pop('learning_rate')
    if isinstance(config.get('lr'), dict):
        raise ValueError('the optimizer uses a learning-rate schedule (%s), which Keras 2.2.4 '
                         'does not have.' % config['lr'].get('class_name'))
    for key, neutral in _OPTIMIZER_NEUTRAL.items():
        if key in config:
            if config[key] not in neutral:
                if key in ('clipnorm', 'clipvalue'):
                    continue  # Keras 2.2.4 has these
                raise ValueError('the optimizer option %s=%r has no Keras 2.2.4 equivalent.'
                                 % (key, config[key]))
            del config[key]
    if class_name.lower() == 'rmsprop' and config.get('momentum', 0) in (0, 0.0):
        config.pop('momentum', None)
    if class_name.lower() == 'adagrad' and 'initial_accumulator_value' in config:
        value = config.pop('initial_accumulator_value')
        if value:
            warnings.warn('Adagrad(initial_accumulator_value=%r) (tf.keras): Keras 2.2.4 starts '
                          'the accumulators at 0; the saved state, if any, is restored as is.'
                          % (value,))
    return {'class_name': class_name, 'config': config}


_NEUTRAL_LOSS_OPTIONS = {'reduction': ('auto', 'sum_over_batch_size'), 'from_logits': (False,),
                         'label_smoothing': (0, 0.0), 'axis': (-1,), 'name': _ANY, 'fn': _ANY,
                         'dtype': _ANY, 'ignore_class': (None,)}


def _object_as_name(value, what, known):
    """The Keras 2.2.4 name of a loss or metric object saved by tf.keras."""
    value = _plain_object(value)
    if not isinstance(value, dict):
        return value
    class_name, config = value['class_name'], value.get('config') or {}
    for key, option in config.items():
        neutral = _NEUTRAL_LOSS_OPTIONS.get(key, ())
        if neutral is not _ANY and option not in neutral:
            raise ValueError('the %s %s has the option %s=%r, which Keras 2.2.4 does not have.'
                             % (what, class_name, key, option))
    candidates = []
    if class_name in ('MeanMetricWrapper', 'LossFunctionWrapper', 'SumOverBatchSizeMetricWrapper'):
        candidates = [config.get('name'), config.get('fn')]
    else:
        candidates = [_snake_case(class_name), config.get('name')]
    for candidate in candidates:
        if isinstance(candidate, str) and known(candidate):
            return candidate
    raise ValueError('the %s %r (tf.keras) has no Keras 2.2.4 equivalent.'
                     % (what, config.get('name') or class_name))


def _known_loss(name):
    from refkeras import losses
    try:
        losses.get(name)
        return True
    except ValueError:
        return False


def _known_metric(name):
    from refkeras import metrics
    if name in ('acc', 'accuracy', 'ce', 'crossentropy'):
        return True
    try:
        metrics.get(name)
        return True
    except ValueError:
        return False


def _translate_losses(value):
    if isinstance(value, list):
        return [_translate_losses(v) for v in value]
    if isinstance(value, dict) and 'class_name' not in value:
        return {k: _translate_losses(v) for k, v in value.items()}
    return _object_as_name(value, 'loss', _known_loss)


def _translate_metric_list(value, output_name=None):
    """Metric names; tf.keras prefixes the names of per-output metrics with the
    output's name (`out_acc`) and writes None for an output without metrics."""
    values = value if isinstance(value, (list, tuple)) else [value]
    names = []
    for item in values:
        if item is None:
            continue
        item = _plain_object(item)
        if output_name and isinstance(item, dict):
            config = dict(item.get('config') or {})
            prefix = output_name + '_'
            if isinstance(config.get('name'), str) and config['name'].startswith(prefix):
                config['name'] = config['name'][len(prefix):]
            item = {'class_name': item['class_name'], 'config': config}
        names.append(_object_as_name(item, 'metric', _known_metric))
    return names


def _translate_metrics(value, output_names):
    """Metrics as Keras 2.2.4 takes them: a list (all outputs) or a dict by output name.

    tf.keras saves one list per output (`[[m1, m2]]` for one output).
    """
    if value is None:
        return None
    if isinstance(value, dict) and 'class_name' not in value:
        return {k: _translate_metric_list(v, k) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) == 1:
            return _translate_metric_list(value[0])
        if len(value) == len(output_names):
            return {name: _translate_metric_list(v, name)
                    for name, v in zip(output_names, value)}
        per_output = value
        raise ValueError('the metrics are given for %d outputs; the model has %d.'
                         % (len(per_output), len(output_names)))
    return _translate_metric_list(value)


def translate_training_config(config, output_names):
    """A training config (`compile` arguments) in Keras 2.2.4's terms.

    # Arguments
        config: the decoded `training_config` attribute.
        output_names: the model's output names (for per-output metrics).

    # Returns
        A dict with `optimizer_config`, `loss`, `metrics`, `weighted_metrics`,
        `loss_weights`, `sample_weight_mode`.

    # Raises
        ValueError: for settings Keras 2.2.4 does not have.
    """
    if not isinstance(config, dict) or 'optimizer_config' not in config:
        raise ValueError('the training configuration has no optimizer_config.')
    return {'optimizer_config': translate_optimizer_config(config['optimizer_config']),
            'loss': _translate_losses(config.get('loss')),
            'metrics': _translate_metrics(config.get('metrics'), output_names),
            'weighted_metrics': _translate_metrics(config.get('weighted_metrics'), output_names),
            'loss_weights': config.get('loss_weights'),
            'sample_weight_mode': config.get('sample_weight_mode')}


# --- optimizer state ------------------------------------------------------------------------------

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


# --- RNN weights ----------------------------------------------------------------------------------

def _per_gate(kernels, gates, transform):
    return np.hstack([transform(k) for k in np.hsplit(kernels, gates)])


def convert_rnn_weights(layer, weights):
    """Converts `CuDNNLSTM` / `CuDNNGRU` weights for `LSTM` / `GRU` (and back).

    The source is told by the bias shape, as Keras 2.2.4 does. Weights that
    cannot be converted are returned unchanged (the shape check that follows
    reports them).
    """
    target = layer.__class__.__name__
    if target not in ('LSTM', 'CuDNNLSTM', 'GRU', 'CuDNNGRU') or len(weights) != 3:
        return weights
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]

    def from_cudnn_input(k):
        return k.T.reshape(k.shape, order='F')

    def to_cudnn_input(k):
        return k.T.reshape(k.shape, order='C')

    if target in ('LSTM', 'CuDNNLSTM'):
        gates = 4
        source = 'CuDNNLSTM' if bias.shape == (2 * units * gates,) else \
            'LSTM' if bias.shape == (units * gates,) else None
        if source is None or source == target:
            return weights
        from_cudnn = source == 'CuDNNLSTM'
        kernel = _per_gate(kernel, gates, from_cudnn_input if from_cudnn else to_cudnn_input)
        recurrent = _per_gate(recurrent, gates, lambda k: k.T)
        bias = np.sum(np.split(bias, 2), axis=0) if from_cudnn else np.tile(0.5 * bias, 2)
        return [kernel, recurrent, bias]
    gates = 3
    if bias.shape == (2 * units * gates,):
        source = 'CuDNNGRU'
    elif bias.shape == (2, units * gates):
        source = 'GRU(reset_after=True)'
    else:
        return weights
    wanted = 'CuDNNGRU' if target == 'CuDNNGRU' else \
        'GRU(reset_after=True)' if getattr(layer, 'reset_after', False) else None
    if wanted is None or wanted == source:
        return weights
    from_cudnn = source == 'CuDNNGRU'
    kernel = _per_gate(kernel, gates, from_cudnn_input if from_cudnn else to_cudnn_input)
    recurrent = _per_gate(recurrent, gates, lambda k: k.T)
    bias = np.array(bias).reshape((2, -1) if from_cudnn else -1)
    return [kernel, recurrent, bias]
