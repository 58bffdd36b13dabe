"""Reading what later Keras versions wrote: tf.keras 2.x model configs.

refkeras writes Keras 2.2.4's format. tf.keras 2.x (e.g. 2.15, with
`model.save(path, save_format='h5')`) writes the same HDF5 layout, but with
newer names inside. The `compat_*` modules translate them to their Keras
2.2.4 equivalents before the model is rebuilt; on Keras 2.2.4 files every
function in them changes nothing.

What is translated:

- Model configs (this module): the class name `Functional` (Keras 2.2.4's
  `Model`); a single input or output written as a flat `[name, node,
  tensor]`; initializer classes (`GlorotUniform` is `VarianceScaling(1,
  'fan_avg', 'uniform')`, ...); `L1` / `L2` regularizers (`L1L2`); dtype
  policies (their dtype name); the `module` / `registered_name` keys of
  serialized objects; and layer arguments Keras 2.2.4 did not have, when
  they hold the value that means Keras 2.2.4's behaviour (`groups=1`,
  `time_major=False`, `keepdims=False`, `ragged=False`, ...). Any other value
  is an error naming the layer and the argument.
- Training configs: `compat_training_config`.
- Optimizer state: `compat_optimizer_state`.
"""
import inspect

from refkeras import layers
from refkeras.engine.base_layer import _ALLOWED_KWARGS


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


def as_coordinates_list(value):
    """`value` as a list of `[layer_name, node_index, tensor_index]` entries.

    tf.keras writes a single input or output as one flat triple, which is
    put in a list; any other value is returned as it is.
    """
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    return value


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
    cls = getattr(layers, class_name, None)
    return cls if isinstance(cls, type) else None


def _accepted_arguments(cls):
    """Keyword arguments a layer class takes, or None if it takes any (`**kwargs` passed on)."""
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
            if key in config:
                config[key] = as_coordinates_list(config[key])
        entry['config'] = config
    elif class_name in _MODEL_CLASSES and isinstance(config, list):
        entry['config'] = [translate_model_config(layer) for layer in config]
    elif isinstance(config, dict):
        entry['config'] = _translate_layer_config(class_name, config)
    return entry
