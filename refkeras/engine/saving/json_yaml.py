"""Configs as JSON and YAML text.

JSON is written with `_json_default` (objects with a `get_config`, NumPy
values, classes and functions, as Keras 2.2.4 wrote them) and read with
`_parse_json`, which also undoes tf.keras 2.x's encodings of tuples, shapes
and bytes. YAML is read with `_KerasYAMLLoader`: PyYAML's safe loader, plus
data-only readings of the few Python tags Keras 2.2.4's YAML writer
produced for plain data (tuples, NumPy scalars); any other Python tag is
refused with `UnsafeYAMLError`.
"""
import json

import numpy as np
import yaml

from refkeras.engine.saving.errors import UnsafeYAMLError


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
