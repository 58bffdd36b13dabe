"""A model's weights in HDF5 (FAQ: "Saving/loading only a model's weights").

`save_weights_to_hdf5_group` (behind `model.save_weights`) writes each
layer's weights in Keras 2.2.4's layout. Loading goes by position
(`load_weights_from_hdf5_group`: the k-th layer with weights gets the k-th
saved one) or by layer name (`load_weights_from_hdf5_group_by_name`, behind
`model.load_weights(..., by_name=True)`). Everything is read and checked
(layer and weight counts, shapes, readable data) before any weight is
assigned, so a bad file leaves the model's weights untouched.

With `by_name=True, skip_mismatch=True`, a layer with any mismatching weight
is skipped as a whole (Keras 2.2.4 loaded the weights that did fit and
skipped the others, leaving a half-loaded layer).
"""
import warnings

from refkeras import backend as K
from refkeras.engine.saving.atomic import write_hdf5_atomically
from refkeras.engine.saving.errors import CorruptModelFileError, WeightsMismatchError
from refkeras.engine.saving.hdf5_format import (FORMAT_KERAS_VERSION, _decode_text, _file_size,
                                                _label, _opened_for_reading, _read_dataset,
                                                _reading, _unique_weight_names, _write_datasets,
                                                _write_text_attribute, h5py,
                                                load_attributes_from_hdf5_group,
                                                save_attributes_to_hdf5_group)
from refkeras.engine.saving.weight_conversion import preprocess_weights_for_loading


# --- writing weights ------------------------------------------------------------------------------

def save_weights_to_hdf5_group(group, layers):
    """Writes the layers' weights into an HDF5 group, in Keras 2.2.4's layout.

    # Arguments
        group: an h5py group (the root of a weights file, or `model_weights`).
        layers: the layers, in `model.layers` order.
    """
    save_attributes_to_hdf5_group(group, 'layer_names', [layer.name for layer in layers])
    _write_text_attribute(group, 'backend', K.backend())
    _write_text_attribute(group, 'keras_version', FORMAT_KERAS_VERSION)
    for layer in layers:
        layer_group = group.create_group(layer.name)
        variables = layer.weights
        names = _unique_weight_names(variables)
        save_attributes_to_hdf5_group(layer_group, 'weight_names', names)
        _write_datasets(layer_group, names, K.batch_get_value(variables))


def save_weights(model, filepath, overwrite=True):
    """Saves the weights of `model.layers` to an HDF5 file (atomically).

    # Raises
        OverwriteRefusedError: `overwrite=False`, the file exists and there is
            no terminal to ask.
    """
    write_hdf5_atomically(filepath, lambda group: save_weights_to_hdf5_group(group, model.layers),
                          overwrite=overwrite)


# --- reading weights ------------------------------------------------------------------------------

class _SavedLayer(object):
    """One layer of a weights group: its name, its weight names and where they are."""

    def __init__(self, name, weight_names, group):
        self.name = name
        self.weight_names = weight_names
        self.group = group


class _WeightsIndex(object):
    """The index of a weights group: versions and the layers with their weight names.

    Only names are read here; `read_values` reads the data of one layer.
    """

    def __init__(self, group, label):
        self.label = label
        with _reading(label, 'the weights index'):
            self.keras_version = None
            self.backend = None
            if 'keras_version' in group.attrs:
                self.keras_version = _decode_text(group.attrs['keras_version'],
                                                  'keras_version', label)
            if 'backend' in group.attrs:
                self.backend = _decode_text(group.attrs['backend'], 'backend', label)
            has_names = 'layer_names' in group.attrs or 'layer_names0' in group.attrs
            if not has_names:
                raise CorruptModelFileError(label, 'no "layer_names" attribute in %s: this is not '
                                            'a Keras weights file (or its index was damaged).'
                                            % group.name)
            names = load_attributes_from_hdf5_group(group, 'layer_names', label)
            if len(set(names)) != len(names):
                raise CorruptModelFileError(label, 'the file lists a layer name twice: %s.'
                                            % names)
            self.layers = []
            for name in names:
                if name not in group or not isinstance(group[name], h5py.Group):
                    raise CorruptModelFileError(label, 'layer %r is listed in "layer_names" but '
                                                'its group is missing.' % name)
                layer_group = group[name]
                weight_names = load_attributes_from_hdf5_group(layer_group, 'weight_names',
                                                               label)
                self.layers.append(_SavedLayer(name, weight_names, layer_group))
            self.file_size = _file_size(group)

    def read_values(self, saved):
        """The arrays of one saved layer, in `weight_names` order.

        # Raises
            CorruptModelFileError: for a missing or unreadable weight.
        """
        return [_read_dataset(saved.group, name, self.file_size, self.label,
                              'weight %r of layer %r' % (name, saved.name))
                for name in saved.weight_names]


def _checked_pairs(layer, values, saved_name, label, position):
    """(variable, value) pairs after checking count and shapes.

    # Raises
        WeightsMismatchError: naming the layer, the weight and both shapes.
    """
    variables = layer.weights
    if len(values) != len(variables):
        raise WeightsMismatchError(label, 'layer #%d (named "%s" in the current model) was found '
                                   'to correspond to layer %s in the save file. However the new '
                                   'layer %s expects %d weights, but the saved weights have %d '
                                   'elements.' % (position, layer.name, saved_name, layer.name,
                                                  len(variables), len(values)))
    pairs = []
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != tuple(value.shape):
            raise WeightsMismatchError(label, 'layer #%d (named "%s"), weight %s has shape %s, '
                                       'but the saved weight (from layer %s) has shape %s.'
                                       % (position, layer.name, variable.name,
                                          tuple(variable.shape), saved_name, tuple(value.shape)))
        pairs.append((variable, value))
    return pairs


def _topological_pairs(index, layers, reshape):
    """Pairs (variable, value) for loading by position (layers with weights only)."""
    targets = [layer for layer in layers if layer.weights]
    saved = [entry for entry in index.layers if entry.weight_names]
    if len(saved) != len(targets):
        raise WeightsMismatchError(
            index.label, 'you are trying to load a weight file containing %d layers into a model '
            'with %d layers. (Layers with weights in the file: %s; in the model: %s.)'
            % (len(saved), len(targets), ', '.join(s.name for s in saved) or 'none',
               ', '.join(layer.name for layer in targets) or 'none'))
    pairs = []
    for position, (entry, layer) in enumerate(zip(saved, targets)):
        values = preprocess_weights_for_loading(layer, index.read_values(entry),
                                                index.keras_version, index.backend,
                                                reshape=reshape)
        pairs.extend(_checked_pairs(layer, values, entry.name, index.label, position))
    return pairs


def _by_name_pairs(index, layers, skip_mismatch, reshape):
    """Pairs (variable, value) for loading by layer name; skips or raises on mismatch."""
    by_name = {}
    for layer in layers:
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for position, entry in enumerate(index.layers):
        targets = by_name.get(entry.name, [])
        if not targets:
            continue
        values = index.read_values(entry)
        for layer in targets:
            converted = preprocess_weights_for_loading(layer, values, index.keras_version,
                                                       index.backend, reshape=reshape)
            try:
                pairs.extend(_checked_pairs(layer, converted, entry.name, index.label, position))
            except WeightsMismatchError as error:
                if not skip_mismatch:
                    raise
                warnings.warn('Skipping loading of weights for layer %s due to mismatch in its '
                              'weights: %s' % (layer.name, error.problem))
    return pairs


def load_weights_from_hdf5_group(group, layers, reshape=False, label=None):
    """Loads weights by position: the k-th layer with weights gets the k-th saved one.

    Layers without weights are ignored on both sides, so adding or removing
    such layers is fine. Everything is read and checked before any weight
    is assigned.

    # Arguments
        group: the h5py group (a weights file's root, or `model_weights`).
        layers: the target layers (`model.layers`).
        reshape: reshape weights with the right number of values.

    # Raises
        CorruptModelFileError: unreadable or incomplete file.
        WeightsMismatchError: different number of layers with weights, of
            weights in a layer, or a shape; no weight is changed.
    """
    index = _WeightsIndex(group, label or _label(group))
    K.batch_set_value(_topological_pairs(index, layers, reshape))


def load_weights_from_hdf5_group_by_name(group, layers, skip_mismatch=False, reshape=False,
                                         label=None):
    """Loads weights into the layers whose names appear in the file.

    Layers of the model absent from the file keep their weights (FAQ:
    "load weights into a *different* architecture (with some layers in
    common)").

    # Arguments
        group: the h5py group.
        layers: the target layers.
        skip_mismatch: warn and skip a layer whose weights do not fit
            (instead of raising).
        reshape: reshape weights with the right number of values.

    # Raises
        CorruptModelFileError: unreadable or incomplete file.
        WeightsMismatchError: a matching layer whose weights do not fit (if
            not `skip_mismatch`); no weight is changed.
    """
    index = _WeightsIndex(group, label or _label(group))
    K.batch_set_value(_by_name_pairs(index, layers, skip_mismatch, reshape))


def load_weights(model, filepath, by_name=False, skip_mismatch=False, reshape=False):
    """`model.load_weights`: from a weights file, or the weights of a whole-model file.

    # Raises
        FileNotFoundError: no such file.
        CorruptModelFileError / WeightsMismatchError: see
            `load_weights_from_hdf5_group`; the model is unchanged then.
        ValueError: `skip_mismatch=True` without `by_name=True`.
    """
    if skip_mismatch and not by_name:
        raise ValueError('`skip_mismatch=True` only applies with `by_name=True`.')
    with _opened_for_reading(filepath) as (group, label):
        with _reading(label, 'the file index'):
            if 'layer_names' not in group.attrs and 'layer_names0' not in group.attrs and \
                    'model_weights' in group:
                group = group['model_weights']
        if by_name:
            load_weights_from_hdf5_group_by_name(group, model.layers, skip_mismatch=skip_mismatch,
                                                 reshape=reshape, label=label)
        else:
            load_weights_from_hdf5_group(group, model.layers, reshape=reshape, label=label)
