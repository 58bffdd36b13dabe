"""Saving and loading models (FAQ: "How can I save a Keras model?").

The FAQ's four answers, and where they live here:

- **Whole models** (architecture + weights + training configuration +
  optimizer state): `save_model` / `load_model`, one HDF5 file.
- **Architecture only**: `model_to_json` / `model_to_yaml` (behind
  `model.to_json()` / `model.to_yaml()`) and `model_from_json` /
  `model_from_yaml` / `model_from_config`.
- **Weights only**: `save_weights_to_hdf5_group` (behind
  `model.save_weights`), `load_weights_from_hdf5_group` (topological) and
  `load_weights_from_hdf5_group_by_name` (behind
  `model.load_weights(..., by_name=True)`).
- **Custom objects**: every loader takes `custom_objects` and sees the
  objects of an enclosing `CustomObjectScope`.

The HDF5 layout is Keras 2.2.4's, so Keras 2 reads refkeras files and the
other way round:

```
/                     attrs: keras_version, backend, model_config (JSON),
                             training_config (JSON, if compiled)
/model_weights        attrs: layer_names, backend, keras_version
/model_weights/<layer name>          attrs: weight_names
/model_weights/<layer name>/<weight name>   one dataset per weight
/optimizer_weights    attrs: weight_names; one dataset per optimizer weight
```

A weights-only file is the `model_weights` group at the root. Attributes
holding lists of names that would exceed HDF5's 64 KB object header are
split, as Keras does, into `layer_names0`, `layer_names1`, ...

Files written by tf.keras 2.x (`model.save(path, save_format='h5')`,
`save_weights`) are read too: their configurations are translated to
Keras 2.2.4's (`saving_compat`), and their optimizer state is matched to
refkeras's slots by name.

Differences from Keras 2.2.4, on purpose:

- Writing a file is atomic: the data go to a temporary file in the same
  folder, which is renamed over the target only once complete; a crash
  mid-write leaves the previous file as it was.
- `overwrite=False` asks on a terminal, as Keras does, but raises
  `OverwriteRefusedError` when nobody can answer (no TTY).
- Loading validates everything it read (layer and weight counts, shapes,
  readable data) before assigning anything: a bad file raises one of the
  `ModelFileError` types below, naming the file and the problem, and leaves
  the target model's weights untouched.
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
import contextlib
import json
import os
import sys
import uuid
import warnings

import numpy as np
import yaml

try:
    import h5py
except ImportError:  # pragma: no cover - h5py is a dependency
    h5py = None

from refkeras import backend as K
from refkeras.engine import saving_compat

# HDF5 refuses attributes larger than this (the object header limit, in bytes).
HDF5_OBJECT_HEADER_LIMIT = 64512

# The file format written is Keras 2.2.4's, whatever refkeras's own version.
FORMAT_KERAS_VERSION = '2.2.4'


# --- errors --------------------------------------------------------------------------------

class ModelFileError(ValueError):
    """Base class: a model or weights file could not be used.

    Subclasses `ValueError`, which Keras 2.2.4 raised in these cases.

    # Attributes
        filepath: the file (a path, or a description of the h5py object).
        problem: what is wrong, in words.
    """

    def __init__(self, filepath, problem):
        self.filepath = filepath
        self.problem = problem
        super(ModelFileError, self).__init__('%s: %s' % (filepath, problem))


class CorruptModelFileError(ModelFileError):
    """The file is not a readable Keras HDF5 file: not HDF5 at all, truncated,
    damaged, or missing a group, an attribute or a weight that its own index
    lists."""


class WeightsMismatchError(ModelFileError):
    """The file is readable but its weights do not fit the model (number of
    layers with weights, number of weights in a layer, or a shape)."""


class ModelConfigError(ModelFileError):
    """The architecture or training configuration stored in the file cannot be
    rebuilt: invalid JSON, an unknown (custom) object, a `Lambda` layer that
    would run code from the file, or a setting refkeras does not support. The
    message of the underlying error is included."""


class OverwriteRefusedError(FileExistsError):
    """`overwrite=False` and the file exists, and nobody could be asked (no
    terminal), or the user answered no in a context that needs the file."""


class UnsafeYAMLError(ValueError):
    """A YAML model description holds a Python object tag that could run code."""


# --- file names and opening ------------------------------------------------------------------

def _label(target):
    """How an error names a file: its path, or the h5py object's file and group."""
    if h5py is not None and isinstance(target, h5py.Group):
        try:
            name = target.file.filename
            if target.name not in ('/', None):
                name = '%s (group %s)' % (name, target.name)
            return repr(name)
        except Exception:  # a closed or invalid h5py object  # noqa: BLE001
            return repr(target)
    return repr(os.fspath(target))


def _require_h5py(what):
    if h5py is None:  # pragma: no cover - h5py is a dependency
        raise ImportError('`%s` requires h5py (pip install h5py).' % what)


# Everything h5py and the decoding of its values may raise on a damaged file.
_READ_FAILURES = (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError,
                  AttributeError, UnicodeError, OverflowError, SystemError)


@contextlib.contextmanager
def _reading(label, what):
    """Turns any failure while reading `what` from an HDF5 file into a
    `CorruptModelFileError` naming the file (our own errors pass through)."""
    try:
        yield
    except ModelFileError:
        raise
    except _READ_FAILURES as error:
        raise CorruptModelFileError(label, 'cannot read %s (%s: %s). The file is damaged or '
                                    'is not a Keras file.' % (what, type(error).__name__, error))


@contextlib.contextmanager
def _opened_for_reading(filepath):
    """Yields `(group, label)` for a path or an open h5py File/Group.

    # Raises
        FileNotFoundError: for a path that does not exist.
        CorruptModelFileError: if the file is not a readable HDF5 file.
    """
    _require_h5py('load')
    if isinstance(filepath, h5py.Group):
        yield filepath, _label(filepath)
        return
    path = os.fspath(filepath)
    label = _label(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, 'No such model or weights file', path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, 'Expected a model or weights file, found a folder', path)
    try:
        handle = h5py.File(path, 'r')
    except _READ_FAILURES as error:
        raise CorruptModelFileError(label, 'not a readable HDF5 file (%s). It may be truncated '
                                    '(e.g. an interrupted copy) or not an HDF5 file at all.'
                                    % (error,))
    try:
        yield handle, label
    finally:
        try:
            handle.close()
        except Exception:  # closing a damaged file may fail again  # noqa: BLE001
            pass


# --- writing atomically ---------------------------------------------------------------------

def ask_to_proceed_with_overwrite(filepath):
    """Asks on the terminal whether to overwrite `filepath`.

    # Returns
        True to go on, False to keep the existing file.

    # Raises
        OverwriteRefusedError: when standard input is not a terminal (nobody
            can answer).
    """
    stdin = sys.stdin
    if stdin is None or not hasattr(stdin, 'isatty') or not stdin.isatty():
        raise OverwriteRefusedError(
            17, 'The file exists and overwrite=False; refusing to replace it (no terminal to ask '
            'for confirmation). Pass overwrite=True or choose another path', os.fspath(filepath))
    answer = input('[WARNING] %s already exists - overwrite? [y/n]' % (filepath,)).strip().lower()
    while answer not in ('y', 'n'):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == 'n':
        return False
    print('[TIP] Next time specify overwrite=True!')
    return True


def _temporary_sibling(path):
    """Creates an empty, new file next to `path` and returns its name.

    It is made with the permissions a new file would get (the umask applies),
    or those of the existing file at `path`.
    """
    folder, base = os.path.split(os.path.abspath(path))
    mode = 0o666
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o777
    for _ in range(100):
        candidate = os.path.join(folder, '.%s.%s.tmp' % (base, uuid.uuid4().hex[:12]))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        os.close(fd)
        if os.path.exists(path):
            os.chmod(candidate, mode)
        return candidate
    raise FileExistsError('Could not create a temporary file next to %r.' % (path,))


def _fsync_path(path, directory=False):
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, 'O_DIRECTORY', 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_hdf5_atomically(filepath, write, overwrite=True):
    """Writes an HDF5 file through `write(h5py.File)`, atomically.

    The data go to a temporary file in the target's folder, which replaces
    the target (`os.replace`) only after `write` returned and the file was
    closed and synced. If anything fails, the temporary file is removed and
    an existing file at `filepath` is left as it was.

    # Arguments
        filepath: path of the file to write; or an open `h5py.File` /
            `h5py.Group`, which is written into directly (no atomicity).
        write: function of one argument, the h5py group to fill.
        overwrite: if False and the file exists, ask (see
            `ask_to_proceed_with_overwrite`).

    # Returns
        True if the file was written, False if the user declined.

    # Raises
        OverwriteRefusedError: `overwrite=False`, the file exists and there
            is no terminal to ask.
    """
    _require_h5py('save')
    if isinstance(filepath, h5py.Group):
        write(filepath)
        filepath.file.flush()
        return True
    path = os.fspath(filepath)
    if not overwrite and os.path.isfile(path):
        if not ask_to_proceed_with_overwrite(path):
            return False
    temporary = _temporary_sibling(path)
    try:
        with h5py.File(temporary, 'w') as handle:
            write(handle)
        _fsync_path(temporary)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    _fsync_path(os.path.dirname(os.path.abspath(path)), directory=True)
    return True


# --- attributes -----------------------------------------------------------------------------------

def save_attributes_to_hdf5_group(group, name, data):
    """Stores a list of names as the attribute `name` of `group`, split in parts if needed.

    HDF5 cannot store an attribute larger than `HDF5_OBJECT_HEADER_LIMIT`
    bytes; longer lists are stored, as Keras does, in the attributes
    `name0`, `name1`, ... of about equal lengths.

    # Arguments
        group: an h5py group.
        name: the attribute name.
        data: list of byte strings (or str, encoded as UTF-8).

    # Raises
        RuntimeError: if a single name is longer than the limit.
    """
    data = [d.encode('utf8') if isinstance(d, str) else d for d in data]
    too_long = [d for d in data if len(d) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError('The following attributes cannot be saved to HDF5 file because they '
                           'are larger than %d bytes: %s'
                           % (HDF5_OBJECT_HEADER_LIMIT, ', '.join(repr(d) for d in too_long)))
    array = np.asarray(data)
    parts = 1
    chunks = np.array_split(array, parts)
    while any(chunk.nbytes > HDF5_OBJECT_HEADER_LIMIT for chunk in chunks):
        parts += 1
        chunks = np.array_split(array, parts)
    if parts > 1:
        for index, chunk in enumerate(chunks):
            group.attrs['%s%d' % (name, index)] = chunk
    else:
        # Fixed-length byte strings, as h5py 2 wrote them for Keras 2.2.4 (which
        # calls `.decode` on each name); an empty list is an empty float array.
        group.attrs[name] = array if data else np.asarray(data)


def _write_text_attribute(group, name, text):
    """Stores text as Keras 2.2.4 did (fixed-length bytes), or as a variable-length
    string when longer than HDF5 allows for the former."""
    data = text.encode('utf8')
    if len(data) < HDF5_OBJECT_HEADER_LIMIT:
        group.attrs[name] = np.bytes_(data)
    else:
        group.attrs[name] = text


def _decode_text(value, what, label):
    """A str from an attribute value written as bytes (Keras 2.2.4) or str (tf.keras)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode('utf8')
        except UnicodeDecodeError as error:
            raise CorruptModelFileError(label, '%s is not valid UTF-8 text (%s).' % (what, error))
    if isinstance(value, str):
        return str(value)
    raise CorruptModelFileError(label, '%s should be text; found %s.'
                                % (what, type(value).__name__))


def _decode_name_list(value, what, label):
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return []  # Keras writes an empty list as an empty float array.
        if value.ndim != 1:
            raise CorruptModelFileError(label, '%s should be a list of names; found an array of '
                                        'shape %s.' % (what, value.shape))
        return [_decode_text(item, what, label) for item in value]
    if isinstance(value, (bytes, np.bytes_, str)):
        return [_decode_text(value, what, label)]
    raise CorruptModelFileError(label, '%s should be a list of names; found %s.'
                                % (what, type(value).__name__))


def load_attributes_from_hdf5_group(group, name, label=None):
    """The list of names stored by `save_attributes_to_hdf5_group` (whole or in parts).

    # Returns
        A list of str; empty if the attribute is absent.

    # Raises
        CorruptModelFileError: if the attribute is not a list of text.
    """
    label = label or _label(group)
    what = 'attribute %r of %s' % (name, group.name)
    with _reading(label, what):
        if name in group.attrs:
            return _decode_name_list(group.attrs[name], what, label)
        names, index = [], 0
        while '%s%d' % (name, index) in group.attrs:
            names.extend(_decode_name_list(group.attrs['%s%d' % (name, index)], what, label))
            index += 1
        return names


def _read_text_attribute(group, name, label, required):
    what = 'the attribute %r' % name
    with _reading(label, what):
        if name not in group.attrs:
            if required:
                raise CorruptModelFileError(label, 'no %r attribute: this is not a Keras model '
                                            'file (a weights-only file loads with '
                                            '`model.load_weights`).' % name)
            return None
        return _decode_text(group.attrs[name], what, label)


# --- JSON and YAML --------------------------------------------------------------------------------

def _json_default(obj):
    """How `json.dumps` writes what it does not know (as Keras 2.2.4)."""
    if hasattr(obj, 'get_config'):
        return {'class_name': obj.__class__.__name__, 'config': obj.get_config()}
    if type(obj).__module__ == np.__name__:
        return obj.tolist() if isinstance(obj, np.ndarray) else obj.item()
    if isinstance(obj, type):
        return obj.__name__
    if callable(obj) and hasattr(obj, '__name__'):
        return obj.__name__
    raise TypeError('Not JSON Serializable: %r' % (obj,))


def _json_object_hook(obj):
    """Undoes tf.keras 2.x's JSON encodings of tuples, shapes and bytes."""
    kind = obj.get('class_name') if len(obj) <= 3 else None
    if kind == '__tuple__' and 'items' in obj:
        return list(obj['items'])
    if kind == 'TensorShape' and 'items' in obj:
        return list(obj['items'])
    if kind == '__bytes__' and 'value' in obj:
        return obj['value']
    return obj


def _parse_json(text, what):
    """Parses JSON text (our encodings of tuples understood).

    # Raises
        ValueError: for invalid JSON.
    """
    try:
        return json.loads(text, object_hook=_json_object_hook)
    except (ValueError, RecursionError) as error:
        raise ValueError('The %s is not valid JSON: %s' % (what, error))


class _KerasYAMLLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus data-only readings of the Python tags
    Keras 2.2.4's `to_yaml` wrote for tuples and NumPy scalars."""


def _yaml_tuple(loader, node):
    return loader.construct_sequence(node, deep=True)


def _yaml_text(loader, node):
    return loader.construct_scalar(node)


_YAML_NUMPY_DTYPE_TAGS = ('tag:yaml.org,2002:python/object/apply:numpy.dtype',)
_YAML_NUMPY_SCALAR_TAGS = ('tag:yaml.org,2002:python/object/apply:numpy.core.multiarray.scalar',
                           'tag:yaml.org,2002:python/object/apply:numpy._core.multiarray.scalar')


def _yaml_numpy_dtype(loader, node):
    """A `numpy.dtype` from its pickled arguments, for numeric types only."""
    fields = loader.construct_mapping(node, deep=True) if isinstance(node, yaml.MappingNode) \
        else {'args': loader.construct_sequence(node, deep=True)}
    args = fields.get('args') or []
    state = fields.get('state') or []
    code = args[0] if args else None
    if not isinstance(code, str) or len(code) > 4:
        raise UnsafeYAMLError('Unreadable numpy dtype in YAML: %r.' % (fields,))
    order = state[1] if len(state) > 1 and state[1] in ('<', '>', '|', '=') else '='
    try:
        dtype = np.dtype(code).newbyteorder(order) if order in '<>' else np.dtype(code)
    except TypeError:
        raise UnsafeYAMLError('Unknown numpy dtype %r in YAML.' % (code,))
    if dtype.kind not in 'biuf':
        raise UnsafeYAMLError('Only numeric numpy scalars are read from YAML; found dtype %r.'
                              % (code,))
    return dtype


def _yaml_numpy_scalar(loader, node):
    """A Python number from a pickled NumPy scalar (`[dtype, raw bytes]`)."""
    items = loader.construct_sequence(node, deep=True)
    if len(items) != 2 or not isinstance(items[0], np.dtype) or not isinstance(items[1], bytes) \
            or len(items[1]) != items[0].itemsize:
        raise UnsafeYAMLError('Unreadable numpy scalar in YAML: %r.' % (items,))
    return np.frombuffer(items[1], dtype=items[0])[0].item()


def _yaml_refuse(loader, suffix, node):
    raise UnsafeYAMLError(
        'Refusing to load YAML holding the Python object tag %r (line %d): building it could '
        'run arbitrary code. Model YAML written by Keras or refkeras holds only plain data; '
        'remove the tag if you trust the file, or use JSON.'
        % ('!!python/' + suffix, node.start_mark.line + 1))


_KerasYAMLLoader.add_constructor('tag:yaml.org,2002:python/tuple', _yaml_tuple)
for _tag in ('tag:yaml.org,2002:python/unicode', 'tag:yaml.org,2002:python/str'):
    _KerasYAMLLoader.add_constructor(_tag, _yaml_text)
for _tag in _YAML_NUMPY_DTYPE_TAGS:
    _KerasYAMLLoader.add_constructor(_tag, _yaml_numpy_dtype)
for _tag in _YAML_NUMPY_SCALAR_TAGS:
    _KerasYAMLLoader.add_constructor(_tag, _yaml_numpy_scalar)
_KerasYAMLLoader.add_multi_constructor('tag:yaml.org,2002:python/', _yaml_refuse)


def _plain_data(config):
    """`config` with tuples, NumPy values and objects turned into JSON data."""
    return json.loads(json.dumps(config, default=_json_default))


# --- architecture ---------------------------------------------------------------------------------

def network_get_config(network):
    """Keras 2.2.4's functional config of a graph network.

    # Returns
        `{'name', 'layers', 'input_layers', 'output_layers'}`. Each layer
        entry is `{'name', 'class_name', 'config', 'inbound_nodes'}`, where
        `inbound_nodes` lists, for each call of the layer that belongs to
        this network, its inputs as `[layer_name, node_index, tensor_index,
        kwargs]`. Node indices are renumbered to count only the nodes that
        belong to the network (a nested network's own node 0 is kept), so
        the config rebuilds the same graph in a fresh process.
    """
    from refkeras.engine.network import Network
    network_nodes = network._network_nodes
    new_index = {}
    for layer in network.layers:
        kept = 1 if isinstance(layer, Network) else 0
        for node in layer._inbound_nodes:
            if node in network_nodes:
                new_index[id(node)] = kept
                kept += 1

    def renumbered(layer, node_index):
        node = layer._inbound_nodes[node_index]
        return new_index.get(id(node), 0)

    layer_configs = []
    for layer in network.layers:
        inbound_nodes = []
        for node in layer._inbound_nodes:
            if node not in network_nodes or not node.inbound_layers:
                continue
            kwargs = node.arguments or {}
            if kwargs:
                try:
                    json.dumps(kwargs)
                except TypeError:
                    warnings.warn('Layer %s was passed non-serializable keyword arguments: %s. '
                                  'They will not be included in the serialized model (and thus '
                                  'will be missing at deserialization time).'
                                  % (layer.name, kwargs))
                    kwargs = {}
            inbound_nodes.append([[inbound.name, renumbered(inbound, node_index), tensor_index,
                                   kwargs]
                                  for inbound, node_index, tensor_index in
                                  zip(node.inbound_layers, node.node_indices,
                                      node.tensor_indices)])
        layer_configs.append({'name': layer.name, 'class_name': layer.__class__.__name__,
                              'config': layer.get_config(), 'inbound_nodes': inbound_nodes})

    def coordinates(tensors):
        out = []
        for x in tensors:
            layer, node_index, tensor_index = x._keras_history
            out.append([layer.name, renumbered(layer, node_index), tensor_index])
        return out

    return {'name': network.name, 'layers': layer_configs,
            'input_layers': coordinates(network.inputs),
            'output_layers': coordinates(network.outputs)}


def _coordinates_list(value, what):
    """`[[name, node, tensor], ...]`; tf.keras writes a single input as a flat triple."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, list) and len(v) == 3 and
                                              isinstance(v[0], str) for v in value):
        raise ValueError('Improperly formatted model config: %s should be a list of '
                         '[layer_name, node_index, tensor_index]; found %r.' % (what, value))
    return value


def _check_indices(node_index, tensor_index, entry):
    for index in (node_index, tensor_index):
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError('Improperly formatted model config: node and tensor indices must be '
                             'integers >= 0; found %r.' % (entry,))


def network_from_config(cls, config, custom_objects=None):
    """Builds a graph network of class `cls` from `network_get_config`'s output.

    Layers are created in the order listed, then called on their inputs;
    a call whose inputs do not exist yet (a shared layer whose other input
    comes later) is retried once they do, and the later calls of that layer
    wait with it, so each call gets the node index the config gives it
    (Keras 2.2.4 could make a later call first and mix up the indices).

    # Raises
        ValueError: for a malformed config: an unknown inbound layer, a node
            that can never be built, or unknown input/output layers.
    """
    from refkeras.layers import deserialize as deserialize_layer
    from refkeras.utils.generic_utils import unpack_singleton
    if not isinstance(config, dict) or not isinstance(config.get('layers'), list):
        raise ValueError('Improperly formatted model config: expected a dict with a "layers" '
                         'list; found %r.' % (type(config).__name__,))
    created = {}
    pending = []  # (layer, node_data), in the order Keras processes them
    for layer_data in config['layers']:
        if not isinstance(layer_data, dict) or 'name' not in layer_data:
            raise ValueError('Improperly formatted model config: a layer entry has no name: %r.'
                             % (layer_data,))
        layer = deserialize_layer(layer_data, custom_objects=custom_objects)
        created[layer_data['name']] = layer
        inbound_nodes = layer_data.get('inbound_nodes') or []
        if not isinstance(inbound_nodes, list):
            raise ValueError('Improperly formatted model config: inbound_nodes of layer %r.'
                             % layer_data['name'])
        for node_data in inbound_nodes:
            pending.append((layer, node_data))

    def input_tensors_of(node_data):
        tensors = []
        for input_data in node_data:
            if not isinstance(input_data, list) or len(input_data) not in (3, 4):
                raise ValueError('Improperly formatted model config: inbound node entry %r.'
                                 % (input_data,))
            name, node_index, tensor_index = input_data[:3]
            _check_indices(node_index, tensor_index, input_data)
            if name not in created:
                raise ValueError('Improperly formatted model config: a layer is called on the '
                                 'output of layer %r, which the config does not define.' % (name,))
            inbound = created[name]
            if len(inbound._inbound_nodes) <= node_index:
                return None, {}
            outputs = inbound._inbound_nodes[node_index].output_tensors
            if tensor_index >= len(outputs):
                raise ValueError('Improperly formatted model config: %r asks for output %d of '
                                 'layer %r, which has %d.' % (input_data, tensor_index, name,
                                                              len(outputs)))
            tensors.append(outputs[tensor_index])
        kwargs = node_data[0][3] if node_data and len(node_data[0]) == 4 else {}
        return tensors, kwargs or {}

    while pending:
        still_pending, blocked = [], set()
        for layer, node_data in pending:
            # A layer's calls are made in their order, so that their node indices
            # are those of the config: once one waits, the later ones wait too.
            tensors, kwargs = (None, {}) if id(layer) in blocked else input_tensors_of(node_data)
            if tensors is None:
                still_pending.append((layer, node_data))
                blocked.add(id(layer))
            elif tensors:
                layer(unpack_singleton(tensors), **kwargs)
        if len(still_pending) == len(pending):
            layer, node_data = still_pending[0]
            raise ValueError('Improperly formatted model config: the call of layer %r on %r can '
                             'never be made (its inputs are never created).'
                             % (layer.name, node_data))
        pending = still_pending

    def tensors_at(coordinates, what):
        out = []
        for name, node_index, tensor_index in _coordinates_list(coordinates, what):
            _check_indices(node_index, tensor_index, [name, node_index, tensor_index])
            if name not in created:
                raise ValueError('Improperly formatted model config: %s names layer %r, which '
                                 'the config does not define.' % (what, name))
            nodes = created[name]._inbound_nodes
            if node_index >= len(nodes) or tensor_index >= len(nodes[node_index].output_tensors):
                raise ValueError('Improperly formatted model config: %s refers to node %d, '
                                 'tensor %d of layer %r, which does not exist.'
                                 % (what, node_index, tensor_index, name))
            out.append(nodes[node_index].output_tensors[tensor_index])
        return out

    inputs = tensors_at(config.get('input_layers'), 'input_layers')
    outputs = tensors_at(config.get('output_layers'), 'output_layers')
    return cls(inputs=inputs, outputs=outputs, name=config.get('name'))


def model_config(model):
    """`{'class_name', 'config'}` of a model, as stored in files.

    For a `Sequential` model whose input came from an explicit `InputLayer`
    (which `model.layers` does not list, as in Keras 2.2.4), the input shape
    is written into the first layer's config, so the model can be rebuilt
    with its weights.
    """
    from refkeras.engine.input_layer import InputLayer
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
    from refkeras.layers.core import allow_code_loading
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
    from refkeras.layers import deserialize
    config = saving_compat.translate_model_config(config)
    with _code_loading(safe_mode):
        return deserialize(config, custom_objects=custom_objects)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """Builds a model from `model.to_json()`'s output (or Keras's).

    # Arguments
        json_string: the JSON text.
        custom_objects: dict of custom objects by name.
        safe_mode: see `model_from_config`.

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


# --- writing weights ------------------------------------------------------------------------------

def _unique_weight_names(variables):
    names = []
    for index, variable in enumerate(variables):
        name = str(getattr(variable, 'name', '') or 'param_%d' % index)
        if name in names:
            suffix = 1
            while '%s_%d' % (name, suffix) in names:
                suffix += 1
            name = '%s_%d' % (name, suffix)
        names.append(name)
    return names


def _write_datasets(group, names, values):
    for name, value in zip(names, values):
        value = np.asarray(value)
        dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
        if value.shape:
            dataset[:] = value
        else:
            dataset[()] = value


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
    save_weights_to_hdf5_group(group.create_group('model_weights'), model.layers)
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


def _file_size(group):
    try:
        return int(group.file.id.get_filesize())
    except Exception:  # noqa: BLE001 - an in-memory file has no size to ask
        return None


def _read_dataset(group, name, file_size, label, what):
    """Reads one dataset into a NumPy array, after checking it is one."""
    with _reading(label, what):
        if name not in group:
            raise CorruptModelFileError(label, '%s is listed in the file but missing.' % what)
        dataset = group[name]
        if not isinstance(dataset, h5py.Dataset):
            raise CorruptModelFileError(label, '%s is not a dataset.' % what)
        if dataset.dtype.kind not in 'biuf':
            raise CorruptModelFileError(label, '%s holds %s data, not numbers.'
                                        % (what, dataset.dtype))
        nbytes = int(np.prod(dataset.shape, dtype=np.float64) * dataset.dtype.itemsize)
        limit = file_size if dataset.compression is None else 64 * (file_size or 0)
        if file_size is not None and nbytes > max(limit, 1024):
            raise CorruptModelFileError(label, '%s declares shape %s (%d bytes), more than the '
                                        'file holds (%d bytes): the file is damaged.'
                                        % (what, dataset.shape, nbytes, file_size))
        value = dataset[()]
        return np.array(value, copy=True)


def _is_network(layer):
    return hasattr(layer, 'layers') and hasattr(layer, '_is_graph_network')


_CONV_CLASSES = ('Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'ConvLSTM2D')


def _flip_kernel(kernel):
    """A kernel with its spatial axes reversed (convolution <-> correlation)."""
    slices = tuple([slice(None, None, -1)] * (kernel.ndim - 2) + [slice(None), slice(None)])
    return np.copy(kernel[slices])


def preprocess_weights_for_loading(layer, weights, original_keras_version=None,
                                   original_backend=None, reshape=False):
    """Converts weights as stored in a file to the layout `layer` expects.

    Handled as in Keras 2.2.4: weights of nested models (converted layer by
    layer); convolution kernels saved with the Theano backend (flipped) or
    in Theano's axis order (transposed); `CuDNNLSTM` / `CuDNNGRU` weights
    loaded into `LSTM` / `GRU` (and back). With `reshape=True`, a weight
    with the right number of values but another shape is reshaped.

    # Arguments
        layer: the target layer.
        weights: list of arrays read from the file.
        original_keras_version, original_backend: from the file's attributes.
        reshape: see above.

    # Returns
        The list of arrays to assign (not yet checked against the layer).
    """
    weights = list(weights)
    class_name = layer.__class__.__name__
    if class_name == 'Bidirectional' and hasattr(layer, 'forward_layer'):
        half = len(weights) // 2
        weights = (preprocess_weights_for_loading(layer.forward_layer, weights[:half],
                                                  original_keras_version, original_backend)
                   + preprocess_weights_for_loading(layer.backward_layer, weights[half:],
                                                    original_keras_version, original_backend))
    elif class_name == 'TimeDistributed' and hasattr(layer, 'layer'):
        weights = preprocess_weights_for_loading(layer.layer, weights, original_keras_version,
                                                 original_backend)
    elif _is_network(layer):
        weights = _preprocess_nested_model(layer, weights, original_keras_version,
                                           original_backend)
    if class_name in _CONV_CLASSES and weights and layer.weights:
        expected = tuple(layer.weights[0].shape)
        if original_backend == 'theano':
            weights[0] = _flip_kernel(weights[0])
            if class_name == 'ConvLSTM2D' and len(weights) > 1:
                weights[1] = _flip_kernel(weights[1])
        if tuple(weights[0].shape) != expected and weights[0].ndim == 4 and \
                tuple(np.transpose(weights[0], (2, 3, 1, 0)).shape) == expected and not reshape:
            weights[0] = np.transpose(weights[0], (2, 3, 1, 0))
            if class_name == 'ConvLSTM2D' and len(weights) > 1:
                weights[1] = np.transpose(weights[1], (2, 3, 1, 0))
    weights = saving_compat.convert_rnn_weights(layer, weights)
    if reshape:
        targets = layer.weights
        for index, (variable, value) in enumerate(zip(targets, weights)):
            shape = tuple(variable.shape)
            if tuple(value.shape) != shape and value.size == int(np.prod(shape)):
                weights[index] = np.reshape(value, shape)
    return weights


def _preprocess_nested_model(model, weights, original_keras_version, original_backend):
    """Converts a nested model's weights sublayer by sublayer (trainable ones first)."""
    converted = []
    trainable_counts = [len(sub.trainable_weights) for sub in model.layers]
    other_counts = [len(sub.weights) - n for sub, n in zip(model.layers, trainable_counts)]
    for sub, count in zip(model.layers, trainable_counts):
        if count:
            converted.extend(preprocess_weights_for_loading(sub, weights[:count],
                                                            original_keras_version,
                                                            original_backend))
            weights = weights[count:]
    for sub, count in zip(model.layers, other_counts):
        if count:
            converted.extend(preprocess_weights_for_loading(sub, weights[:count],
                                                            original_keras_version,
                                                            original_backend))
            weights = weights[count:]
    return converted + list(weights)


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
            index.label, 'you are trying to load a weight file containing %d layers with weights '
            '(%s) into a model with %d layers with weights (%s).'
            % (len(saved), ', '.join(s.name for s in saved) or 'none', len(targets),
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
                warnings.warn('Skipping loading of weights for layer %s due to a mismatch: %s'
                              % (layer.name, error.problem))
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
    from refkeras import optimizers
    from refkeras.utils.generic_utils import CustomObjectScope
    try:
        config = _parse_json(config_text, 'training_config attribute')
        config = saving_compat.translate_training_config(config, model.output_names)
        custom_objects = custom_objects or {}
        with CustomObjectScope(custom_objects):
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
        mapping = saving_compat.map_optimizer_weights(optimizer, model._collected_trainable_weights,
                                                      names)
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
