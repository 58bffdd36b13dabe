"""A model's architecture as a config, JSON or YAML (FAQ: "Saving/loading only a
model's architecture").

`model_to_json` / `model_to_yaml` are behind `model.to_json()` /
`model.to_yaml()`; `model_from_json`, `model_from_yaml` and
`model_from_config` rebuild the model, uncompiled and freshly initialised.
Configs written by tf.keras 2.x are translated first (`compat_tf_keras`). A
`Lambda` layer stored as bytecode is only rebuilt with `safe_mode=False` (or
inside `refkeras.layers.core.allow_code_loading()`).
"""
import contextlib
import json

import yaml

from refkeras import backend as K
from refkeras.engine.input_layer import InputLayer
from refkeras.engine.saving.compat_tf_keras import translate_model_config
from refkeras.engine.saving.errors import UnsafeYAMLError
from refkeras.engine.saving.hdf5_format import FORMAT_KERAS_VERSION
from refkeras.engine.saving.json_yaml import (_json_default, _KerasYAMLLoader, _parse_json,
                                              _plain_data)
from refkeras.layers.core import allow_code_loading


def model_config(model):
    """`{'class_name', 'config'}` of a model, as stored in files.

    For a `Sequential` model whose input came from an explicit `InputLayer`
    (which `model.layers` does not list, as in Keras 2.2.4), the input shape
    is written into the first layer's config, so the model can be rebuilt
    with its weights.
    """
    # Imported here: at the top it would be a circular import.
    from refkeras.engine.network import Network
    config = model.get_config()
    if model.__class__.__name__ == 'Sequential' and isinstance(config, dict):
        layers = config.get('layers') or []
        all_layers = getattr(model, '_layers', [])
        if layers and all_layers and isinstance(all_layers[0], InputLayer) and \
                len(all_layers) > 1 and not isinstance(all_layers[1], Network):
            first = layers[0].get('config', {})
            if 'batch_input_shape' not in first:
                first['batch_input_shape'] = tuple(all_layers[0].batch_input_shape)
                first['dtype'] = all_layers[0].dtype
    return {'class_name': model.__class__.__name__, 'config': config}


def _versioned_config(model):
    config = model_config(model)
    config['keras_version'] = FORMAT_KERAS_VERSION
    config['backend'] = K.backend()
    return config


def model_to_json(model, **kwargs):
    """The architecture as JSON text (what `model.to_json()` returns).

    # Arguments
        **kwargs: passed to `json.dumps` (e.g. `indent=2`).
    """
    return json.dumps(_versioned_config(model), default=_json_default, **kwargs)


def model_to_yaml(model, **kwargs):
    """The architecture as YAML text (what `model.to_yaml()` returns).

    Plain YAML only (tuples written as lists), so any YAML reader, Keras
    2.2.4's included, reads it safely.

    # Arguments
        **kwargs: passed to `yaml.safe_dump`.
    """
    return yaml.safe_dump(_plain_data(_versioned_config(model)), **kwargs)


@contextlib.contextmanager
def _code_loading(safe_mode):
    if safe_mode:
        yield
        return
    with allow_code_loading(True):
        yield


def model_from_config(config, custom_objects=None, safe_mode=True):
    """Builds a model (uncompiled, freshly initialised) from its config.

    # Arguments
        config: `{'class_name': ..., 'config': ...}`, as `model_config`
            gives, or as found in Keras 2.2.4 and tf.keras 2.x files.
        custom_objects: dict of custom layers, functions, ... by name.
        safe_mode: if False, `Lambda` layers stored as bytecode are rebuilt
            (this runs code from the config; only for trusted sources).

    # Returns
        The model.

    # Raises
        TypeError: if `config` is a list (old Sequential configs go to
            `Sequential.from_config`).
        ValueError: for an unknown class name (saying how to pass custom
            objects), a bytecode `Lambda` with `safe_mode=True`, or a
            malformed config.
    """
    if isinstance(config, list):
        raise TypeError('`model_from_config` expects a dictionary, not a list. Maybe you meant to '
                        'use `Sequential.from_config(config)`?')
    if not isinstance(config, dict) or 'class_name' not in config or 'config' not in config:
        raise ValueError('A model config must be a dict with "class_name" and "config"; found %r.'
                         % (config if not isinstance(config, dict) else sorted(config),))
    # Imported here: at the top it would be a circular import.
    from refkeras.layers import deserialize
    config = translate_model_config(config)
    with _code_loading(safe_mode):
        return deserialize(config, custom_objects=custom_objects)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """Builds a model from `model.to_json()`'s output (or Keras's).

    # Arguments
        json_string: the JSON text.
        custom_objects: dict of custom objects by name.
        safe_mode: see `model_from_config`.

    # Returns
        A model (not compiled, with new weights).

    # Raises
        ValueError: for invalid JSON, an unknown object, a refused `Lambda`.
    """
    config = _parse_json(json_string, 'model description')
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)


def model_from_yaml(yaml_string, custom_objects=None, safe_mode=True):
    """Builds a model from `model.to_yaml()`'s output (or Keras's), with a safe loader.

    # Arguments
        yaml_string: the YAML text.
        custom_objects: dict of custom objects by name.
        safe_mode: see `model_from_config`.

    # Returns
        A model (not compiled, with new weights).

    # Raises
        UnsafeYAMLError: if the YAML holds a Python object tag (anything but
            the tuples and NumPy scalars Keras 2.2.4 wrote).
        ValueError: for invalid YAML, an unknown object, a refused `Lambda`.
    """
    try:
        config = yaml.load(yaml_string, Loader=_KerasYAMLLoader)
    except UnsafeYAMLError:
        raise
    except yaml.YAMLError as error:
        raise ValueError('The model description is not valid YAML (or holds a tag refkeras does '
                         'not read): %s' % (error,))
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
