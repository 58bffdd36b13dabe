"""Saving and loading models (FAQ: "How can I save a Keras model?").

The FAQ's four answers, and where they live here:

- **Whole models** (architecture + weights + training configuration +
  optimizer state): `save_model` / `load_model`, one HDF5 file (`models`).
- **Architecture only**: `model_to_json` / `model_to_yaml` (behind
  `model.to_json()` / `model.to_yaml()`) and `model_from_json` /
  `model_from_yaml` / `model_from_config` (`architecture`).
- **Weights only**: `save_weights_to_hdf5_group` (behind
  `model.save_weights`), `load_weights_from_hdf5_group` (topological) and
  `load_weights_from_hdf5_group_by_name` (behind
  `model.load_weights(..., by_name=True)`) (`weights`).
- **Custom objects**: every loader takes `custom_objects` and sees the
  objects of an enclosing `CustomObjectScope`.

The modules, each with one job:

- `errors`: the exceptions (`ModelFileError` and its subclasses, ...).
- `hdf5_format`: Keras 2.2.4's HDF5 layout (opening files, attributes,
  chunked name lists, datasets).
- `atomic`: writing a file atomically; asking before overwriting one.
- `json_yaml`: configs as JSON and YAML text, with a safe YAML loader.
- `network_config`: a graph network's config, both ways.
- `architecture`: a model's architecture as a config, JSON or YAML.
- `weights`: saving and loading weights, by position and by name.
- `weight_conversion`: stored weights in the layout a layer expects.
- `models`: whole models (`save_model` / `load_model`).
- `compat_tf_keras`, `compat_training_config`, `compat_optimizer_state`:
  reading the configurations and optimizer state written by tf.keras 2.x
  (`model.save(path, save_format='h5')`, `save_weights`).

Differences from Keras 2.2.4, on purpose:

- Writing a file is atomic: the data go to a temporary file in the same
  folder, which is renamed over the target only once complete; a crash
  mid-write leaves the previous file as it was.
- `overwrite=False` asks on a terminal, as Keras does, but raises
  `OverwriteRefusedError` when nobody can answer (no TTY).
- Loading validates everything it read (layer and weight counts, shapes,
  readable data) before assigning anything: a bad file raises one of the
  `ModelFileError` types, naming the file and the problem, and leaves the
  target model's weights untouched.
- YAML is read with a safe loader. The few Python tags Keras 2.2.4's YAML
  writer produced for plain data (tuples, NumPy scalars) are rebuilt as
  data; any other Python tag is refused (`UnsafeYAMLError`).
- A `Lambda` layer stored as bytecode is only rebuilt with
  `safe_mode=False` (or inside `refkeras.layers.core.allow_code_loading()`).
- With `by_name=True, skip_mismatch=True`, a layer with any mismatching
  weight is skipped as a whole (Keras 2.2.4 loaded the weights that did fit
  and skipped the others, leaving a half-loaded layer).
- With `reshape=True`, any weight with the right number of values is
  reshaped (Keras 2.2.4 only reshaped convolution kernels).
"""
from refkeras.engine.saving.errors import (CorruptModelFileError, ModelConfigError,
                                           ModelFileError, OverwriteRefusedError,
                                           UnsafeYAMLError, WeightsMismatchError)
from refkeras.engine.saving.hdf5_format import (FORMAT_KERAS_VERSION, HDF5_OBJECT_HEADER_LIMIT,
                                                load_attributes_from_hdf5_group,
                                                save_attributes_to_hdf5_group)
from refkeras.engine.saving.atomic import ask_to_proceed_with_overwrite, write_hdf5_atomically
from refkeras.engine.saving.compat_tf_keras import translate_model_config
from refkeras.engine.saving.compat_training_config import (translate_optimizer_config,
                                                           translate_training_config)
from refkeras.engine.saving.compat_optimizer_state import map_optimizer_weights
from refkeras.engine.saving.network_config import network_from_config, network_get_config
from refkeras.engine.saving.architecture import (model_config, model_from_config,
                                                 model_from_json, model_from_yaml,
                                                 model_to_json, model_to_yaml)
from refkeras.engine.saving.weight_conversion import (convert_rnn_weights,
                                                      preprocess_weights_for_loading)
from refkeras.engine.saving.weights import (load_weights, load_weights_from_hdf5_group,
                                            load_weights_from_hdf5_group_by_name,
                                            save_weights, save_weights_to_hdf5_group)
from refkeras.engine.saving.models import load_model, save_model, training_config

__all__ = [
    # errors
    'ModelFileError', 'CorruptModelFileError', 'WeightsMismatchError', 'ModelConfigError',
    'OverwriteRefusedError', 'UnsafeYAMLError',
    # the HDF5 layout and writing files
    'HDF5_OBJECT_HEADER_LIMIT', 'FORMAT_KERAS_VERSION', 'save_attributes_to_hdf5_group',
    'load_attributes_from_hdf5_group', 'ask_to_proceed_with_overwrite', 'write_hdf5_atomically',
    # architecture
    'network_get_config', 'network_from_config', 'model_config', 'model_to_json',
    'model_to_yaml', 'model_from_config', 'model_from_json', 'model_from_yaml',
    # weights
    'save_weights_to_hdf5_group', 'save_weights', 'load_weights_from_hdf5_group',
    'load_weights_from_hdf5_group_by_name', 'load_weights', 'preprocess_weights_for_loading',
    'convert_rnn_weights',
    # whole models
    'training_config', 'save_model', 'load_model',
    # tf.keras 2.x files
    'translate_model_config', 'translate_optimizer_config', 'translate_training_config',
    'map_optimizer_weights',
]
