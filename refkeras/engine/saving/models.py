"""Whole models in one HDF5 file (FAQ: "Saving/loading whole models").

`save_model` (behind `model.save`) writes the architecture, the weights, the
training configuration (loss, metrics, optimizer) and the optimizer's
state; `load_model` rebuilds the model, compiles it with the saved
configuration and restores the optimizer's state, so that training resumes
exactly where it stopped. Files written by tf.keras 2.x load too: their
training configuration is translated (`compat_training_config`) and their
optimizer state matched to refkeras's slots by name
(`compat_optimizer_state`).
"""
import json
import warnings

import numpy as np

from refkeras import backend as K
from refkeras import optimizers
from refkeras.engine.saving import weights
from refkeras.engine.saving.architecture import model_config, model_from_config
from refkeras.engine.saving.atomic import write_hdf5_atomically
from refkeras.engine.saving.compat_optimizer_state import map_optimizer_weights
from refkeras.engine.saving.compat_training_config import translate_training_config
from refkeras.engine.saving.errors import CorruptModelFileError, ModelConfigError
from refkeras.engine.saving.hdf5_format import (FORMAT_KERAS_VERSION, _file_size,
                                                _opened_for_reading, _read_dataset,
                                                _read_text_attribute, _reading,
                                                _unique_weight_names, _write_datasets,
                                                _write_text_attribute, h5py,
                                                load_attributes_from_hdf5_group,
                                                save_attributes_to_hdf5_group)
from refkeras.engine.saving.json_yaml import _json_default, _parse_json
from refkeras.engine.saving.weights import _topological_pairs, _WeightsIndex
from refkeras.utils.generic_utils import CustomObjectScope


# --- saving whole models --------------------------------------------------------------------------

def training_config(model):
    """What `load_model` needs to compile the model again, as Keras 2.2.4 saves it."""
    optimizer = model.optimizer
    config = {'optimizer_config': {'class_name': optimizer.__class__.__name__,
                                   'config': optimizer.get_config()},
              'loss': model.loss,
              'metrics': model.metrics,
              'sample_weight_mode': getattr(model, 'sample_weight_mode', None),
              'loss_weights': getattr(model, 'loss_weights', None)}
    if getattr(model, 'weighted_metrics', None):
        config['weighted_metrics'] = model.weighted_metrics
    return config


def _serialize_model(model, group, include_optimizer=True):
    """Fills `group` with the whole model (Keras 2.2.4's layout)."""
    _write_text_attribute(group, 'keras_version', FORMAT_KERAS_VERSION)
    _write_text_attribute(group, 'backend', K.backend())
    _write_text_attribute(group, 'model_config', json.dumps(model_config(model),
                                                            default=_json_default))
    # Looked up on the module when called, so that a test can make it crash mid-write.
    weights.save_weights_to_hdf5_group(group.create_group('model_weights'), model.layers)
    if include_optimizer and getattr(model, 'optimizer', None) is not None and \
            getattr(model, '_compiled', True):
        _write_text_attribute(group, 'training_config', json.dumps(training_config(model),
                                                                   default=_json_default))
        variables = list(model.optimizer.weights)
        if variables:
            weights_group = group.create_group('optimizer_weights')
            names = _unique_weight_names(variables)
            save_attributes_to_hdf5_group(weights_group, 'weight_names', names)
            _write_datasets(weights_group, names, K.batch_get_value(variables))


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Saves a whole model to one HDF5 file (FAQ: "Saving/loading whole models").

    The file holds the architecture, the weights, the training configuration
    (loss, metrics, optimizer) and the optimizer's state, so that
    `load_model` gives back the model ready to resume training exactly where
    it stopped.

    # Arguments
        model: the model.
        filepath: a path, or an open `h5py.File` / `h5py.Group` to write into.
        overwrite: if False and the file exists, ask the user (refused when
            there is no terminal).
        include_optimizer: whether to save the training configuration and
            the optimizer's state.

    # Raises
        OverwriteRefusedError: see `overwrite`.
        NotImplementedError: for a model that is not a graph network.
    """
    if not getattr(model, '_is_graph_network', True):
        raise NotImplementedError('Only graph models (Sequential and functional) can be saved.')
    write_hdf5_atomically(filepath, lambda group: _serialize_model(model, group,
                                                                    include_optimizer),
                          overwrite=overwrite)


# --- loading whole models -------------------------------------------------------------------------

def _config_error(label, what, error):
    return ModelConfigError(label, 'cannot rebuild the %s saved in the file: %s' % (what, error))


def _rebuild_model(config_text, custom_objects, safe_mode, label):
    try:
        config = _parse_json(config_text, 'model_config attribute')
    except ValueError as error:
        raise ModelConfigError(label, str(error))
    try:
        return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
    except RecursionError as error:
        raise _config_error(label, 'model', error)
    except Exception as error:  # noqa: BLE001 - any failure of a config from a file
        raise _config_error(label, 'model', error)


def _compile_from_training_config(model, config_text, custom_objects, label):
    try:
        config = _parse_json(config_text, 'training_config attribute')
        custom_objects = custom_objects or {}
        with CustomObjectScope(custom_objects):
            # In the scope, so that custom loss classes saved with their config
            # are kept as Keras 2.2.4 objects rather than read as tf.keras ones.
            config = translate_training_config(config, model.output_names)
            optimizer = optimizers.deserialize(config['optimizer_config'],
                                               custom_objects=custom_objects)
            model.compile(optimizer=optimizer,
                          loss=_with_custom_objects(config.get('loss'), custom_objects),
                          metrics=_with_custom_objects(config.get('metrics'), custom_objects),
                          loss_weights=config.get('loss_weights'),
                          sample_weight_mode=config.get('sample_weight_mode'),
                          weighted_metrics=_with_custom_objects(config.get('weighted_metrics'),
                                                                custom_objects))
    except Exception as error:  # noqa: BLE001 - any failure of a config from a file
        raise ModelConfigError(label, 'cannot compile the model with the training configuration '
                               'saved in the file: %s. Load it with `compile=False` and compile '
                               'it yourself.' % (error,))


def _with_custom_objects(value, custom_objects):
    """Replaces names found in `custom_objects` by the objects (in lists and dicts too)."""
    if isinstance(value, list):
        return [_with_custom_objects(v, custom_objects) for v in value]
    if isinstance(value, dict) and 'class_name' in value and 'config' in value:
        # A custom loss or metric class saved with its options (Keras 2.2.4's
        # `losses.serialize` of an object with `get_config`).
        from refkeras.utils.generic_utils import deserialize_keras_object
        return deserialize_keras_object(value, custom_objects=custom_objects,
                                        printable_module_name='loss or metric')
    if isinstance(value, dict):
        return {k: _with_custom_objects(v, custom_objects) for k, v in value.items()}
    if isinstance(value, str) and value in custom_objects:
        return custom_objects[value]
    return value


def _optimizer_state(model, group, label):
    """The optimizer's new state read from `optimizer_weights`, or None.

    # Returns
        `(values, iterations)`: arrays for `optimizer.set_weights` and an
        optional value for `optimizer.iterations` (when it is not one of the
        optimizer's weights), or None (with a warning) when the saved state
        does not fit the optimizer.

    # Raises
        CorruptModelFileError: if the group lists a weight it does not hold,
            or the data cannot be read.
    """
    optimizer = model.optimizer
    with _reading(label, 'the optimizer weights'):
        weights_group = group['optimizer_weights']
        if not isinstance(weights_group, h5py.Group):
            raise CorruptModelFileError(label, '"optimizer_weights" is not a group.')
    names = load_attributes_from_hdf5_group(weights_group, 'weight_names', label)
    file_size = _file_size(group)

    def read(name):
        return _read_dataset(weights_group, name, file_size, label,
                             'optimizer weight %r' % (name,))

    stored = [read(name) for name in names]
    optimizer.build(model._collected_trainable_weights)
    variables = list(optimizer.weights)
    try:
        mapping = map_optimizer_weights(optimizer, model._collected_trainable_weights, names)
    except ValueError as error:
        warnings.warn('%s: the saved optimizer state does not fit the optimizer (%s); the model '
                      'starts with a freshly initialized optimizer.' % (label, error))
        return None
    if mapping is None:  # Keras 2.2.4 / refkeras layout: the same order
        if len(stored) != len(variables):
            warnings.warn('%s: the file holds %d optimizer weights but %s has %d; the model starts '
                          'with a freshly initialized optimizer.'
                          % (label, len(stored), optimizer.__class__.__name__, len(variables)))
            return None
        sources, iterations_source = list(range(len(stored))), None
    else:
        sources, iterations_source = mapping
    values = []
    for variable, source in zip(variables, sources):
        if source is None:
            values.append(K.get_value(variable))
            continue
        value = stored[source]
        if tuple(value.shape) != tuple(variable.shape):
            warnings.warn('%s: optimizer weight %r has shape %s but %s expects %s; the model '
                          'starts with a freshly initialized optimizer.'
                          % (label, names[source], value.shape, variable.name,
                             tuple(variable.shape)))
            return None
        values.append(value)
    iterations = stored[iterations_source] if iterations_source is not None else None
    return values, iterations


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by `save_model` (or Keras 2 / tf.keras 2.x `model.save`).

    # Arguments
        filepath: a path, or an open `h5py.File` / `h5py.Group`.
        custom_objects: dict of custom layers, losses, metrics, ... by name
            (an enclosing `CustomObjectScope` works too).
        compile: whether to compile the model with the saved training
            configuration and restore the optimizer's state. A model saved
            without one (never compiled, or `include_optimizer=False`) is
            returned uncompiled, with a warning.
        safe_mode: if False, `Lambda` layers stored as bytecode are rebuilt
            (this runs code from the file; only for files you trust).

    # Returns
        The model, compiled (if it was and `compile` is True) and with its
        optimizer state restored, so training resumes exactly.

    # Raises
        FileNotFoundError: no such file.
        CorruptModelFileError: not HDF5, truncated, damaged, not a Keras
            model file, or a weight missing.
        WeightsMismatchError: the weights do not fit the saved architecture.
        ModelConfigError: the architecture or training configuration cannot
            be rebuilt (unknown custom object, refused `Lambda`, ...).
    """
    with _opened_for_reading(filepath) as (group, label):
        config_text = _read_text_attribute(group, 'model_config', label, required=True)
        with _reading(label, 'the model weights'):
            if 'model_weights' not in group or not isinstance(group['model_weights'], h5py.Group):
                raise CorruptModelFileError(label, 'no "model_weights" group: the file is not a '
                                            'complete Keras model file.')
            weights_group = group['model_weights']
        index = _WeightsIndex(weights_group, label)
        model = _rebuild_model(config_text, custom_objects, safe_mode, label)
        pairs = _topological_pairs(index, model.layers, reshape=False)
        state = None
        if compile:
            training_text = _read_text_attribute(group, 'training_config', label, required=False)
            if training_text is None:
                warnings.warn('%s: no training configuration found in the save file, so the model '
                              'was *not* compiled. Compile it manually.' % label)
                compile = False
            else:
                _compile_from_training_config(model, training_text, custom_objects, label)
                with _reading(label, 'the optimizer weights'):
                    has_state = 'optimizer_weights' in group
                if has_state:
                    state = _optimizer_state(model, group, label)
    K.batch_set_value(pairs)
    if state is not None:
        values, iterations = state
        model.optimizer.set_weights(values)
        if iterations is not None:
            K.set_value(model.optimizer.iterations, np.asarray(iterations).astype(
                K.dtype(model.optimizer.iterations)))
    return model
