"""The backend's global settings and counters (`K.floatx()`, `K.get_uid()`, ...).

Initialised from `keras.json` when `refkeras.backend` is imported (see
`config.py`); changed at run time by the `set_*` functions.
"""
import collections

_SETTINGS = {'floatx': 'float32', 'epsilon': 1e-07, 'image_data_format': 'channels_last',
             'backend': 'numpy', 'backend_plugin': None, 'config_path': None}
_UIDS = collections.defaultdict(int)


def apply_config(config, path=None):
    """Installs a validated configuration dict (from `config.load`)."""
    for key in ('floatx', 'epsilon', 'image_data_format', 'backend'):
        _SETTINGS[key] = config[key]
    _SETTINGS['config_path'] = path


def config_path():
    """Path of the `keras.json` read at import (or written with defaults)."""
    return _SETTINGS['config_path']


def backend():
    """The name of the running backend: 'numpy' (the reference) or 'numba' (accel)."""
    return _SETTINGS['backend']


def backend_plugin():
    """The running backend's plugin (see `plugins.py`), or None for the reference."""
    return _SETTINGS['backend_plugin']


def set_backend(name, plugin):
    """Records which backend runs, and its plugin (None for the reference);
    `backend.using_backend` switches the backend itself."""
    _SETTINGS['backend'] = name
    _SETTINGS['backend_plugin'] = plugin


def floatx():
    """The default float type, as a string ('float16', 'float32' or 'float64')."""
    return _SETTINGS['floatx']


def set_floatx(value):
    """Sets the default float type.

    # Arguments
        value: 'float16', 'float32' or 'float64'.

    # Raises
        ValueError: for anything but 'float16', 'float32' or 'float64'.
    """
    if value not in ('float16', 'float32', 'float64'):
        raise ValueError('Unknown floatx type: %r; expected float16, float32 or float64.'
                         % (value,))
    _SETTINGS['floatx'] = str(value)


def epsilon():
    """The fuzz factor used to avoid divisions by zero (default 1e-7)."""
    return _SETTINGS['epsilon']


def set_epsilon(e):
    """Sets the fuzz factor."""
    _SETTINGS['epsilon'] = float(e)


def image_data_format():
    """'channels_last' or 'channels_first'."""
    return _SETTINGS['image_data_format']


def set_image_data_format(data_format):
    """Sets the default image data format.

    # Arguments
        data_format: 'channels_last' or 'channels_first'.

    # Raises
        ValueError: for anything but 'channels_last' or 'channels_first'.
    """
    if data_format not in ('channels_last', 'channels_first'):
        raise ValueError('Unknown data_format: %r; expected channels_last or channels_first.'
                         % (data_format,))
    _SETTINGS['image_data_format'] = str(data_format)


def normalize_data_format(value):
    """`value` checked, or the configured image data format when None.

    # Arguments
        value: 'channels_first', 'channels_last' (any case) or None.

    # Returns
        'channels_first' or 'channels_last'.

    # Raises
        ValueError: for an unknown data format.
    """
    if value is None:
        value = image_data_format()
    data_format = str(value).lower()
    if data_format not in ('channels_first', 'channels_last'):
        raise ValueError('The `data_format` argument must be one of "channels_first", '
                         '"channels_last". Received: %r' % (value,))
    return data_format


def get_uid(prefix=''):
    """Increments and returns the counter for `prefix` (1 the first time).

    Layer names such as `dense_1`, `dense_2` come from here.
    """
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids():
    """Restarts every name counter."""
    _UIDS.clear()
