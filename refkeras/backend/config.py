"""The Keras configuration file, `keras.json`.

Implements the FAQ's "Where is the Keras configuration file stored?":

- the Keras directory is `$KERAS_HOME` if set, else `$HOME/.keras/`, and
  `/tmp/.keras/` when that one cannot be created or written;
- `keras.json` there holds `image_data_format`, `epsilon`, `floatx` and
  `backend`, and is written with the defaults when it does not exist;
- the environment variable `KERAS_BACKEND` overrides the file's backend.

The backends (`choose_backend`): `numpy` is the reference, `numba` the
accelerator (the `accel` package, Numba CUDA kernels, found as a plugin: see
`plugins.py`), and `auto`, the value written to a new file, picks `numba` when
accel is installed and a CUDA GPU is visible, `numpy` otherwise, so that, as the FAQ says of TensorFlow, code runs
on the GPU when there is one and `CUDA_VISIBLE_DEVICES=""` runs it on the CPU.
An explicit `numpy` always runs the reference; an explicit `numba` where
neither a GPU nor the CUDA simulator is available is an error saying what is
missing.

Differences from Keras 2.2.4, on purpose: a malformed file or a bad value is an
error naming the file and the field (Keras ignored a file it could not parse
and failed on bare asserts), and a backend name from another Keras
(`tensorflow`, `theano`, `cntk`) falls back to `numpy` with one warning, so
that refkeras can share `~/.keras` with a real Keras install.
"""
import json
import os
import warnings

from refkeras.backend import plugins

DEFAULTS = {
    'floatx': 'float32',
    'epsilon': 1e-07,
    'backend': 'auto',
    'image_data_format': 'channels_last',
}
# Backends this package provides; `numba` is the accelerator (accel package).
OWN_BACKENDS = ('numpy', 'numba')
# What the `backend` field may say: one of them, or `auto` to pick one.
BACKEND_CHOICES = ('auto',) + OWN_BACKENDS
FOREIGN_BACKENDS = ('tensorflow', 'theano', 'cntk')
FLOATX_VALUES = ('float16', 'float32', 'float64')
IMAGE_DATA_FORMATS = ('channels_last', 'channels_first')


class ConfigError(ValueError):
    """A `keras.json` file or a `KERAS_*` variable holds something unusable."""


class BackendUnavailableError(RuntimeError):
    """The backend asked for cannot run here (accel without a GPU or the simulator)."""


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
    """Validates a backend name; returns the name refkeras will go by
    ('auto', 'numpy' or 'numba')."""
    if not isinstance(name, str):
        raise ConfigError('%s: field "backend" must be a string, received %r.' % (where, name))
    if name in BACKEND_CHOICES:
        return name
    if name in FOREIGN_BACKENDS:
        warnings.warn('%s asks for the %r backend, which belongs to another Keras; refkeras '
                      'uses its NumPy reference backend ("numpy") instead.' % (where, name),
                      stacklevel=3)
        return 'numpy'
    raise ConfigError('%s: unknown backend %r; expected one of %s (or a Keras backend name %s, '
                      'which falls back to "numpy").'
                      % (where, name, BACKEND_CHOICES, FOREIGN_BACKENDS))


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


def accel_gpu_ready():
    """Whether the 'numba' backend (accel) is installed and a real CUDA GPU is
    visible to it.

    Asked without importing Numba (so importing refkeras stays fast when the
    reference runs): the plugin's probe loads the CUDA driver library and
    counts the GPUs it shows, honouring `CUDA_VISIBLE_DEVICES` (`""` hides
    them all). The CUDA simulator does not count: it is for tests.
    """
    plugin = plugins.find('numba')
    return plugin is not None and plugin.gpu_ready()


def choose_backend(requested, where, gpu_ready=accel_gpu_ready):
    """The backend that runs for a requested one: 'numpy' or 'numba'.

    # Arguments
        requested: 'auto', 'numpy' or 'numba' (as `_check_backend` returns).
        where: the source of the request, for error messages.
        gpu_ready: the test for 'auto' (see `accel_gpu_ready`).

    # Returns
        'numba' for 'numba', and for 'auto' when `gpu_ready()`; otherwise 'numpy'.

    # Raises
        BackendUnavailableError: for 'numba' when no installed package provides
            it, or it finds neither a CUDA GPU nor the simulator
            (`NUMBA_ENABLE_CUDASIM=1`); the message says which.
    """
    if requested == 'auto':
        return 'numba' if gpu_ready() else 'numpy'
    if requested != 'numba':
        return 'numpy'
    plugin = plugins.find('numba')
    if plugin is None:
        raise BackendUnavailableError(plugins.missing_plugin_message('numba', where))
    reason = plugin.unavailable_reason()
    if reason is not None:
        raise BackendUnavailableError('%s asks for the "numba" backend, which cannot run here: %s '
                                      'Use "numpy" (the reference) or "auto".' % (where, reason))
    return 'numba'


def load(environ=None):
    """Reads (or first writes) `keras.json` and applies `KERAS_BACKEND`.

    # Arguments
        environ: mapping of environment variables (defaults to `os.environ`).

    # Returns
        `(config, path)`: the validated configuration and the file's path. Its
        'backend' is the one that runs ('numpy' or 'numba', see
        `choose_backend`); 'requested_backend' is what was asked for.

    # Raises
        ConfigError: for malformed JSON or bad values, naming the file and field.
        BackendUnavailableError: for 'numba' where accel cannot run.
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
    where = 'The Keras configuration file %s' % path
    if environ.get('KERAS_BACKEND'):
        where = 'The environment variable KERAS_BACKEND'
        config['backend'] = _check_backend(environ['KERAS_BACKEND'], where)
    config['requested_backend'] = config['backend']
    config['backend'] = choose_backend(config['backend'], where)
    return config, path
