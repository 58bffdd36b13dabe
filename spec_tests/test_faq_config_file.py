"""FAQ: "Where is the Keras configuration file stored?"

- Keras data lives in `$HOME/.keras/`, or `/tmp/.keras/` when that cannot be
  created; `$KERAS_HOME` overrides both.
- `keras.json` there holds `image_data_format`, `epsilon`, `floatx` and
  `backend`; a default one is written when none exists.
- `KERAS_BACKEND` overrides the file's backend.

refkeras's own choices (see `refkeras/backend/config.py`): the default backend
is 'numpy'; a backend name of another Keras ('tensorflow', 'theano', 'cntk')
falls back to 'numpy' with one warning; a malformed file or a bad value is an
error naming the file and the field.

The configuration is read when `refkeras.backend` is first imported, so each
case runs in a fresh Python process with a controlled environment.
"""
import contextlib
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refkeras.backend import config

REPO = Path(__file__).resolve().parents[1]

# What the probe prints: the settings the backend runs with, the file it read,
# and the UserWarnings raised while importing it.
PROBE = r"""
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    from refkeras import backend as K
from refkeras.backend import state
from refkeras import initializers
print(json.dumps({
    'floatx': K.floatx(), 'epsilon': K.epsilon(),
    'image_data_format': K.image_data_format(), 'backend': K.backend(),
    'path': state.config_path(),
    'variable_dtype': K.variable([1.0]).dtype.name,
    'initializer_dtype': initializers.glorot_uniform()((2, 2)).dtype.name,
    'warnings': [str(w.message) for w in caught if issubclass(w.category, UserWarning)],
}))
"""

DEFAULT_FILE = {'image_data_format': 'channels_last', 'epsilon': 1e-07, 'floatx': 'float32',
                'backend': 'numpy'}


def run_python(code, home, **keras_env):
    """Runs `code` in a new interpreter with HOME=`home` and the given KERAS_* variables only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('KERAS_')}
    env['HOME'] = str(home)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    env.update({k: str(v) for k, v in keras_env.items()})
    return subprocess.run([sys.executable, '-c', code], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=120)


def probe(home, **keras_env):
    """The probe's report; fails the test if the interpreter did not exit cleanly."""
    result = run_python(PROBE, home, **keras_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def probe_error(home, **keras_env):
    """The stderr of a probe expected to fail at import with a ConfigError."""
    result = run_python(PROBE, home, **keras_env)
    assert result.returncode != 0, result.stdout
    assert 'ConfigError' in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


def write_config(directory, content):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / 'keras.json'
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# --- where the file is --------------------------------------------------------------------

def test_defaults_written_to_home_keras_when_absent(tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    report = probe(home)
    path = home / '.keras' / 'keras.json'
    assert path.is_file()
    assert json.loads(path.read_text()) == DEFAULT_FILE
    assert report['path'] == str(path)
    assert (report['floatx'], report['epsilon'], report['image_data_format'],
            report['backend']) == ('float32', 1e-07, 'channels_last', 'numpy')
    assert report['warnings'] == []


def test_home_keras_directory_is_created_if_missing(tmp_path):
    home = tmp_path / 'fresh_home'  # HOME itself does not exist yet
    report = probe(home)
    assert report['path'] == str(home / '.keras' / 'keras.json')
    assert json.loads((home / '.keras' / 'keras.json').read_text()) == DEFAULT_FILE


def test_existing_file_is_read_not_rewritten(tmp_path):
    home = tmp_path / 'home'
    text = '{"floatx":   "float64",\n "epsilon": 0.001}\n'
    path = write_config(home / '.keras', text)
    report = probe(home)
    assert path.read_text() == text
    # Missing fields take their defaults.
    assert (report['floatx'], report['epsilon'], report['image_data_format'],
            report['backend']) == ('float64', 0.001, 'channels_last', 'numpy')


def test_keras_home_overrides_home(tmp_path):
    home, keras_home = tmp_path / 'home', tmp_path / 'elsewhere'
    home.mkdir()
    report = probe(home, KERAS_HOME=keras_home)
    assert report['path'] == str(keras_home / 'keras.json')
    assert json.loads((keras_home / 'keras.json').read_text()) == DEFAULT_FILE
    assert not (home / '.keras').exists()
    # And a file there is what is read.
    write_config(keras_home, {'image_data_format': 'channels_first'})
    assert probe(home, KERAS_HOME=keras_home)['image_data_format'] == 'channels_first'


# --- the fields -----------------------------------------------------------------------------

def test_fields_are_honoured(tmp_path):
    home = tmp_path / 'home'
    write_config(home / '.keras', {'floatx': 'float64', 'epsilon': 1e-4,
                                   'image_data_format': 'channels_first', 'backend': 'numpy'})
    report = probe(home)
    assert report['floatx'] == 'float64'
    assert report['epsilon'] == 1e-4
    assert report['image_data_format'] == 'channels_first'
    # floatx is the default dtype of variables and initial weights.
    assert report['variable_dtype'] == 'float64'
    assert report['initializer_dtype'] == 'float64'


def test_float16_and_integer_epsilon(tmp_path):
    home = tmp_path / 'home'
    write_config(home / '.keras', {'floatx': 'float16', 'epsilon': 1})
    report = probe(home)
    assert report['floatx'] == 'float16' and report['variable_dtype'] == 'float16'
    assert report['epsilon'] == 1.0


# --- the backend ----------------------------------------------------------------------------

def test_keras_backend_variable_overrides_the_file(tmp_path):
    home = tmp_path / 'home'
    write_config(home / '.keras', {'backend': 'numpy'})
    assert probe(home, KERAS_BACKEND='numba')['backend'] == 'numba'
    write_config(home / '.keras', {'backend': 'numba'})
    assert probe(home)['backend'] == 'numba'
    assert probe(home, KERAS_BACKEND='numpy')['backend'] == 'numpy'


@pytest.mark.parametrize('foreign', ['tensorflow', 'theano', 'cntk'])
def test_foreign_backend_in_the_file_falls_back_with_one_warning(tmp_path, foreign):
    home = tmp_path / 'home'
    path = write_config(home / '.keras', dict(DEFAULT_FILE, backend=foreign))
    report = probe(home)
    assert report['backend'] == 'numpy'
    assert len(report['warnings']) == 1
    message = report['warnings'][0]
    assert foreign in message and 'numpy' in message and str(path) in message


def test_foreign_backend_in_keras_backend_falls_back_with_one_warning(tmp_path):
    home = tmp_path / 'home'
    report = probe(home, KERAS_BACKEND='theano')
    assert report['backend'] == 'numpy'
    assert len(report['warnings']) == 1
    assert 'KERAS_BACKEND' in report['warnings'][0] and 'theano' in report['warnings'][0]


def test_unknown_backend_is_an_error_naming_file_and_field(tmp_path):
    home = tmp_path / 'home'
    path = write_config(home / '.keras', dict(DEFAULT_FILE, backend='mxnet'))
    message = probe_error(home)
    assert str(path) in message and 'backend' in message
    assert 'mxnet' in message and 'numpy' in message


def test_unknown_backend_in_keras_backend_is_an_error(tmp_path):
    message = probe_error(tmp_path / 'home', KERAS_BACKEND='jax')
    assert 'KERAS_BACKEND' in message and 'jax' in message


# --- bad files ------------------------------------------------------------------------------

def test_malformed_json_is_an_error_naming_the_file(tmp_path):
    home = tmp_path / 'home'
    path = write_config(home / '.keras', '{"floatx": "float32",,}')
    message = probe_error(home)
    assert str(path) in message and 'JSON' in message
    assert path.read_text() == '{"floatx": "float32",,}'  # left for the user to fix


@pytest.mark.parametrize('field, value', [
    ('floatx', 'float8'), ('floatx', 'int32'),
    ('epsilon', -1e-7), ('epsilon', 0), ('epsilon', 'small'), ('epsilon', True),
    ('image_data_format', 'nhwc'), ('backend', 42),
])
def test_bad_field_value_is_an_error_naming_file_and_field(tmp_path, field, value):
    home = tmp_path / 'home'
    path = write_config(home / '.keras', dict(DEFAULT_FILE, **{field: value}))
    message = probe_error(home)
    assert str(path) in message
    assert field in message
    assert repr(value) in message


def test_file_that_is_not_an_object_is_an_error(tmp_path):
    home = tmp_path / 'home'
    path = write_config(home / '.keras', '["float32"]')
    message = probe_error(home)
    assert str(path) in message and 'object' in message


# --- the /tmp/.keras fallback -----------------------------------------------------------------
# Tests run as root, for whom permission bits do not stop directory creation,
# so $HOME/.keras is made impossible by putting HOME under a regular file.

def unusable_home(tmp_path):
    blocker = tmp_path / 'a_regular_file'
    blocker.write_text('')
    return blocker / 'home'


def test_keras_dir_falls_back_to_tmp(tmp_path):
    assert config.keras_dir({'HOME': str(unusable_home(tmp_path))}) == '/tmp/.keras'
    # $HOME/.keras being a regular file is another reason.
    home = tmp_path / 'home'
    home.mkdir()
    (home / '.keras').write_text('')
    assert config.keras_dir({'HOME': str(home)}) == '/tmp/.keras'
    # KERAS_HOME wins even then.
    assert config.keras_dir({'HOME': str(home), 'KERAS_HOME': str(tmp_path / 'k')}) == \
        str(tmp_path / 'k')


@contextlib.contextmanager
def real_tmp_keras_guard():
    """Serialises use of the real /tmp/.keras between test processes and, on exit,
    removes what the test created there (an existing keras.json is never touched)."""
    directory = '/tmp/.keras'
    path = os.path.join(directory, 'keras.json')
    with open('/tmp/.refkeras-tmp-keras-test.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        dir_existed = os.path.isdir(directory)
        before = None
        if os.path.isfile(path):
            with open(path, 'rb') as f:
                before = f.read()
        try:
            yield before
        finally:
            if before is None and os.path.isfile(path):
                os.remove(path)
                if not dir_existed:
                    with contextlib.suppress(OSError):
                        os.rmdir(directory)
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_tmp_keras_fallback_end_to_end(tmp_path):
    home = unusable_home(tmp_path)
    path = '/tmp/.keras/keras.json'
    with real_tmp_keras_guard() as before:
        result = run_python(PROBE, home)
        if before is None:
            # No file there: the defaults are written and used.
            assert result.returncode == 0, result.stderr
            report = json.loads(result.stdout.strip().splitlines()[-1])
            assert report['path'] == path
            with open(path) as f:
                assert json.load(f) == DEFAULT_FILE
        else:
            # Someone's real file: it is the one read (whatever it holds), unchanged.
            assert path in result.stdout + result.stderr
            with open(path, 'rb') as f:
                assert f.read() == before
    assert not home.exists()
