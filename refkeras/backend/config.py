"""The Keras configuration file, `keras.json`.

Implements the FAQ's "Where is the Keras configuration file stored?":

- the Keras directory is `$KERAS_HOME` if set, else `$HOME/.keras/`, and
  `/tmp/.keras/` when that one cannot be created or written;
- `keras.json` there holds `image_data_format`, `epsilon`, `floatx` and
  `backend`, and is written with the defaults when it does not exist;
- the environment variable `KERAS_BACKEND` overrides the file's backend.

Differences from Keras 2.2.4, on purpose: a malformed file or a bad value is an
error naming the file and the field (Keras ignored a file it could not parse
and failed on bare asserts), and a backend name from another Keras
(`tensorflow`, `theano`, `cntk`) falls back to `numpy` with one warning, so
that refkeras can share `~/.keras` with a real Keras install.
"""
import json
import os
import warnings

DEFAULTS = {
    'floatx': 'float32',
    'epsilon': 1e-07,
    'backend': 'numpy',
    'image_data_format': 'channels_last',
}
# Backends this package provides; `numba` is the accelerator (accel package).
OWN_BACKENDS = ('numpy', 'numba')
FOREIGN_BACKENDS = ('tensorflow', 'theano', 'cntk')
FLOATX_VALUES = ('float16', 'float32', 'float64')
IMAGE_DATA_FORMATS = ('channels_last', 'channels_first')


class ConfigError(ValueError):
    """A `keras.json` file or a `KERAS_*` variable holds something unusable."""


def keras_dir(environ=None):
    """The directory for Keras data (`keras.json`, `datasets/`, `models/`).

    # Arguments
        environ: mapping of environment variables (defaults to `os.environ`).

    # Returns
        `$KERAS_HOME` if set; otherwise `$HOME/.keras` if it exists or can be
        created and is writable; otherwise `/tmp/.keras`.
    """
    environ = os.environ if environ is None else environ
    if environ.get('KERAS_HOME'):
        return environ['KERAS_HOME']
    home = environ.get('HOME') or os.path.expanduser('~')
    candidate = os.path.join(home, '.keras')
    try:
        os.makedirs(candidate, exist_ok=True)
        if os.access(candidate, os.W_OK):
            return candidate
    except OSError:
        pass
    return os.path.join('/tmp', '.keras')


def _check_backend(name, where):
    """Validates a backend name; returns the backend refkeras will use."""
    if not isinstance(name, str):
        raise ConfigError('%s: field "backend" must be a string, received %r.' % (where, name))
    if name in OWN_BACKENDS:
        return name
    if name in FOREIGN_BACKENDS:
        warnings.warn('%s asks for the %r backend, which belongs to another Keras; refkeras '
                      'uses its NumPy reference backend ("numpy") instead.' % (where, name),
                      stacklevel=3)
        return 'numpy'
    raise ConfigError('%s: unknown backend %r; expected one of %s (or a Keras backend name %s, '
                      'which falls back to "numpy").' % (where, name, OWN_BACKENDS, FOREIGN_BACKENDS))


def validate(config, where, check_backend=True):
    """Checks the fields of a configuration dict.

    # Arguments
        config: dict as read from `keras.json`.
        where: description of the source, used in error messages.

    # Returns
        A complete dict (missing fields take their defaults).

    # Raises
        ConfigError: naming `where` and the field, for a wrong type or value.
    """
    if not isinstance(config, dict):
        raise ConfigError('%s must hold a JSON object, found %s.' % (where, type(config).__name__))
    out = dict(DEFAULTS)
    out.update(config)
    if out['floatx'] not in FLOATX_VALUES:
        raise ConfigError('%s: field "floatx" must be one of %s, received %r.'
                          % (where, FLOATX_VALUES, out['floatx']))
    eps = out['epsilon']
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ConfigError('%s: field "epsilon" must be a positive number, received %r.'
                          % (where, eps))
    out['epsilon'] = float(eps)
    if out['image_data_format'] not in IMAGE_DATA_FORMATS:
        raise ConfigError('%s: field "image_data_format" must be one of %s, received %r.'
                          % (where, IMAGE_DATA_FORMATS, out['image_data_format']))
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        warnings.warn('%s has unknown field(s) %s; refkeras reads only %s.'
                      % (where, unknown, sorted(DEFAULTS)), stacklevel=3)
    if check_backend:
        out['backend'] = _check_backend(out['backend'], where)
    return out


def load(environ=None):
    """Reads (or first writes) `keras.json` and applies `KERAS_BACKEND`.

    # Arguments
        environ: mapping of environment variables (defaults to `os.environ`).

    # Returns
        `(config, path)`: the validated configuration and the file's path.

    # Raises
        ConfigError: for malformed JSON or bad values, naming the file and field.
    """
    environ = os.environ if environ is None else environ
    directory = keras_dir(environ)
    path = os.path.join(directory, 'keras.json')
    if os.path.exists(path):
        try:
            with open(path) as f:
                raw = json.load(f)
        except ValueError as e:
            raise ConfigError('The Keras configuration file %s is not valid JSON (%s). Fix or '
                              'delete it; a default one is written when none exists.' % (path, e))
        # The file's backend is checked only when KERAS_BACKEND does not replace it.
        config = validate(raw, 'The Keras configuration file %s' % path,
                          check_backend=not environ.get('KERAS_BACKEND'))
    else:
        config = dict(DEFAULTS)
        try:
            os.makedirs(directory, exist_ok=True)
            with open(path, 'w') as f:
                f.write(json.dumps(config, indent=4))
        except OSError:
            pass  # A read-only place: run with the defaults, as Keras does.
    if environ.get('KERAS_BACKEND'):
        config['backend'] = _check_backend(environ['KERAS_BACKEND'],
                                           'The environment variable KERAS_BACKEND')
    return config, path
