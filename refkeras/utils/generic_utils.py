"""Python helpers shared by the rest of refkeras.

The larger part is how objects are saved and found again by name:

- `serialize_keras_object` turns a layer, initializer, regularizer, ... into
  `{'class_name': ..., 'config': ...}` (or a function into its name);
- `deserialize_keras_object` turns that back into an object, looking the name
  up in the caller's own table, in the global custom objects and in the
  `custom_objects` argument;
- `CustomObjectScope` / `custom_object_scope` / `get_custom_objects` manage
  the global custom objects (FAQ: "Handling custom layers (or other custom
  objects) in saved models").

`func_dump` / `func_load` store a Python function as marshalled bytecode, the
format Keras 2.2.4 uses for `Lambda` layers.

`Progbar` lives in `refkeras.utils.progbar`; it is importable from here too,
where Keras 2.2.4 defines it.
"""
import base64
import binascii
import difflib
import inspect
import marshal
import types

from refkeras.utils.progbar import Progbar  # noqa: F401  (Keras 2.2.4's location)

_GLOBAL_CUSTOM_OBJECTS = {}


class CustomObjectScope(object):
    """A `with` block inside which extra objects can be found by name.

    On entering, the dictionaries given are added to the global custom objects
    (later dictionaries win); on leaving, the global custom objects are put
    back exactly as they were on entering, including any change made to them
    inside the block. Scopes nest.

    # Arguments
        *args: dictionaries mapping names to classes or functions.

    # Example
    ```python
    with CustomObjectScope({'AttentionLayer': AttentionLayer}):
        model = load_model('my_model.h5')
    ```
    """

    def __init__(self, *args):
        for objects in args:
            if not isinstance(objects, dict):
                raise TypeError('CustomObjectScope expects dictionaries mapping names to '
                                'objects; received %r.' % (objects,))
        self.custom_objects = args
        self.backup = None

    def __enter__(self):
        self.backup = dict(_GLOBAL_CUSTOM_OBJECTS)
        for objects in self.custom_objects:
            _GLOBAL_CUSTOM_OBJECTS.update(objects)
        return self

    def __exit__(self, *exc_info):
        _GLOBAL_CUSTOM_OBJECTS.clear()
        _GLOBAL_CUSTOM_OBJECTS.update(self.backup)
        return False


def custom_object_scope(*args):
    """A `CustomObjectScope` for the given dictionaries (a shorter spelling).

    # Arguments
        *args: dictionaries mapping names to classes or functions.

    # Returns
        A `CustomObjectScope`, to use in a `with` statement.

    # Example
    ```python
    with custom_object_scope({'MyRegularizer': MyRegularizer}):
        layer = Dense(3, kernel_regularizer='MyRegularizer')
    ```
    """
    return CustomObjectScope(*args)


def get_custom_objects():
    """The global dictionary of custom objects itself (not a copy).

    Adding to it registers an object for good; `custom_object_scope` is the
    way to register one for a `with` block only.

    # Example
    ```python
    get_custom_objects()['MyObject'] = MyObject
    ```

    # Returns
        The dict mapping names to classes and functions.
    """
    return _GLOBAL_CUSTOM_OBJECTS


def serialize_keras_object(instance):
    """A saveable description of an object.

    # Arguments
        instance: an object with `get_config` (layer, initializer, ...), a
            function or class (saved by its `__name__`), or None.

    # Returns
        `{'class_name': ..., 'config': instance.get_config()}`, the name, or
        None for None.

    # Raises
        ValueError: for an object with neither `get_config` nor `__name__`.
    """
    if instance is None:
        return None
    if hasattr(instance, 'get_config'):
        return {'class_name': instance.__class__.__name__,
                'config': instance.get_config()}
    if hasattr(instance, '__name__'):
        return instance.__name__
    raise ValueError('Cannot serialize %r: it has no `get_config` method and no `__name__`. '
                     'Give its class a `get_config` method returning the arguments that '
                     'rebuild it.' % (instance,))


def _how_to_register(name, printable_module_name):
    return ('If %r is a custom %s, pass it when loading or deserializing, e.g. '
            '`load_model(path, custom_objects={%r: %s})`, or run the call inside '
            '`with CustomObjectScope({%r: %s}):`.'
            % (name, printable_module_name, name, name, name, name))


def _look_up(name, module_objects, custom_objects, printable_module_name):
    """Finds `name` in `custom_objects`, the global custom objects, then the module's table."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    found = (module_objects or {}).get(name)
    if found is None:
        known = [str(k) for k in (list(module_objects or {}) + list(_GLOBAL_CUSTOM_OBJECTS)
                                  + list(custom_objects or {}))]
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = ' Did you mean %r?' % close[0] if close else ''
        raise ValueError('Unknown %s: %s.%s %s' % (printable_module_name, name, hint,
                                                   _how_to_register(name, printable_module_name)))
    return found


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name='object'):
    """Builds an object back from what `serialize_keras_object` gave.

    Names are looked up first in `custom_objects`, then in the global custom
    objects (see `CustomObjectScope`), then in `module_objects`.

    # Arguments
        identifier: a config dict `{'class_name': ..., 'config': ...}`, or a
            name (string).
        module_objects: dict of the module's own objects by name.
        custom_objects: dict of user objects by name.
        printable_module_name: what the objects are, for error messages
            ('layer', 'initializer', ...).

    # Returns
        For a dict: `cls.from_config(config)` when the class found has
        `from_config` (given `custom_objects=` too when it accepts that
        argument; otherwise called inside a scope holding `custom_objects`),
        else `cls(**config)` (a function returning an object, such as
        `glorot_uniform`). For a string: the object found under that name.

    # Raises
        ValueError: for an unknown name (naming it and saying how to pass a
            custom object) or a malformed config.
    """
    if isinstance(identifier, dict):
        config = identifier
        if 'class_name' not in config or 'config' not in config:
            raise ValueError('Improper config format for a %s: expected a dict with keys '
                             '"class_name" and "config", received %r.'
                             % (printable_module_name, config))
        class_name = config['class_name']
        cls = _look_up(class_name, module_objects, custom_objects, printable_module_name)
        custom_objects = custom_objects or {}
        if hasattr(cls, 'from_config'):
            if has_arg(cls.from_config, 'custom_objects'):
                merged = dict(_GLOBAL_CUSTOM_OBJECTS)
                merged.update(custom_objects)
                return cls.from_config(config['config'], custom_objects=merged)
            with CustomObjectScope(custom_objects):
                return cls.from_config(config['config'])
        # A function that returns an object: the config holds its keyword arguments.
        with CustomObjectScope(custom_objects):
            return cls(**config['config'])
    if isinstance(identifier, str):
        return _look_up(identifier, module_objects, custom_objects, printable_module_name)
    raise ValueError('Could not interpret serialized %s: %r (expected a name or a config '
                     'dict).' % (printable_module_name, identifier))


def has_arg(fn, name, accept_all=False):
    """Whether `fn` can be called with the keyword argument `name`.

    # Arguments
        fn: a callable.
        name: the argument name.
        accept_all: what to answer when `fn` has no parameter `name` but takes
            `**kwargs`.

    # Returns
        True if `fn` has a parameter `name` that can be passed by keyword.
    """
    signature = inspect.signature(fn)
    parameter = signature.parameters.get(name)
    if parameter is None:
        if accept_all:
            return any(p.kind == inspect.Parameter.VAR_KEYWORD
                       for p in signature.parameters.values())
        return False
    return parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              inspect.Parameter.KEYWORD_ONLY)


def to_list(x, allow_tuple=False):
    """`x` if it is a list, else `[x]` (a tuple becomes a list if `allow_tuple`).

    # Arguments
        x: a list, a tuple or a single object.
        allow_tuple: convert a tuple into a list of its items (otherwise a
            tuple is one item).

    # Returns
        A list.
    """
    if isinstance(x, list):
        return x
    if allow_tuple and isinstance(x, tuple):
        return list(x)
    return [x]


def unpack_singleton(x):
    """The only element of a one-element list or tuple; `x` itself otherwise.

    # Arguments
        x: a list or tuple.
    """
    if len(x) == 1:
        return x[0]
    return x


def object_list_uid(object_list):
    """A string identifying a list of objects by their ids (for caches)."""
    return ', '.join(str(abs(id(x))) for x in to_list(object_list))


def is_all_none(iterable_or_element):
    """Whether every element (or the single element) is None."""
    return all(x is None for x in to_list(iterable_or_element, allow_tuple=True))


def slice_arrays(arrays, start=None, stop=None):
    """Slices an array, or each array of a list, by `start:stop` or by indices.

    # Arguments
        arrays: an array, a list of arrays (None entries stay None), or None.
        start: an int, or a list/array of indices (then `stop` is ignored).
        stop: an int.

    # Returns
        The slice(s): an array, or a list (`[None]` for `arrays=None`).
    """
    if arrays is None:
        return [None]
    by_indices = hasattr(start, '__len__')
    if by_indices and hasattr(start, 'shape'):
        start = start.tolist()  # h5py datasets accept lists of indices only
    if isinstance(arrays, list):
        if by_indices:
            return [None if x is None else x[start] for x in arrays]
        return [None if x is None else x[start:stop] for x in arrays]
    if by_indices:
        return arrays[start]
    # (Keras 2.2.4 tested `start` here instead of `arrays` and so answered
    # [None] for a single array sliced by ints.)
    if hasattr(arrays, '__getitem__'):
        return arrays[start:stop]
    return [None]


def transpose_shape(shape, target_format, spatial_axes):
    """Reorders a channels-last `shape` for `target_format`.

    # Arguments
        shape: tuple or list in channels-last order.
        target_format: 'channels_first' or 'channels_last'.
        spatial_axes: indices of the spatial axes in `shape`.

    # Returns
        `shape` unchanged for channels_last; for channels_first, the axes
        before the first spatial axis, then the channels, then the spatial axes.

    # Raises
        ValueError: for another `target_format`.
    """
    if target_format == 'channels_last':
        return shape
    if target_format != 'channels_first':
        raise ValueError('The `data_format` argument must be one of "channels_first", '
                         '"channels_last". Received: %r' % (target_format,))
    reordered = (tuple(shape[:spatial_axes[0]]) + (shape[-1],)
                 + tuple(shape[i] for i in spatial_axes))
    return list(reordered) if isinstance(shape, list) else reordered


# --- functions as data (Lambda layers) ------------------------------------------------

def func_dump(func):
    """Serializes a Python function, as Keras 2.2.4 stores `Lambda` layers.

    # Arguments
        func: a function (not a builtin).

    # Returns
        `(code, defaults, closure)`: the function's bytecode marshalled and
        base64-encoded (an ASCII string), its default arguments (tuple or
        None) and the values captured in its closure (tuple or None).

    Marshalled bytecode only loads in the Python version that wrote it.
    """
    code = base64.encodebytes(marshal.dumps(func.__code__)).decode('ascii')
    closure = None
    if func.__closure__:
        closure = tuple(cell.cell_contents for cell in func.__closure__)
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """Rebuilds a function serialized by `func_dump` (or by Keras 2.2.4).

    **This runs code read from data.** Whoever wrote the file chose the
    bytecode, so only call this from code paths where the user has explicitly
    opted into running code stored in files (e.g. loading a model with a
    `Lambda` layer from a trusted source); never on untrusted input.

    # Arguments
        code: the base64 string from `func_dump`, or the whole
            `(code, defaults, closure)` tuple/list (as saved in a config).
        defaults: the function's default arguments.
        closure: the values of the function's closure.
        globs: the globals the function sees (defaults to this module's).

    # Returns
        A function.

    # Raises
        ValueError: if the bytecode cannot be read, typically because it was
            written by another Python version.
    """
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    if closure is not None:
        closure = tuple(c if isinstance(c, types.CellType) else types.CellType(c)
                        for c in closure)
    try:
        raw = base64.decodebytes(code.encode('ascii'))
        code_object = marshal.loads(raw)
    except (UnicodeEncodeError, binascii.Error, ValueError, EOFError, TypeError):
        # Files written by Keras before 2.1.2 stored the raw marshal bytes as text.
        try:
            code_object = marshal.loads(code.encode('raw_unicode_escape'))
        except (ValueError, EOFError, TypeError) as e:
            raise ValueError('Cannot load a serialized function (e.g. of a Lambda layer): its '
                             'bytecode is unreadable (%s). Marshalled bytecode only loads in '
                             'the Python version that saved it; rebuild the function in code '
                             'and pass it through `custom_objects`.' % (e,))
    if not isinstance(code_object, types.CodeType):
        raise ValueError('Cannot load a serialized function: the data holds a %s, not '
                         'bytecode.' % type(code_object).__name__)
    if globs is None:
        globs = globals()
    return types.FunctionType(code_object, globs, name=code_object.co_name,
                              argdefs=defaults, closure=closure)
