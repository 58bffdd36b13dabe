"""FAQ: "Where is the Keras configuration file stored?"

- Keras data lives in `$HOME/.keras/`, or `/tmp/.keras/` when that cannot be
  created; `$KERAS_HOME` overrides both.
- `keras.json` there holds `image_data_format`, `epsilon`, `floatx` and
  `backend`; a default one is written when none exists.
- `KERAS_BACKEND` overrides the file's backend.

refkeras's own choices (see `refkeras/backend/config.py`): the backends are
'numpy' (the reference) and 'numba' (accel); the default file says 'auto',
which runs accel when it is installed and a CUDA GPU is visible and the
reference otherwise (FAQ, on TensorFlow: code runs on a GPU automatically, and
`CUDA_VISIBLE_DEVICES=""` runs it on the CPU); an explicit 'numpy' always runs
the reference; 'numba' where there is neither a GPU nor the CUDA simulator is
an error saying what is missing; a backend name of another Keras
('tensorflow', 'theano', 'cntk') falls back to 'numpy' with one warning; a
malformed file or a bad value is an error naming the file and the field.

The configuration is read when `refkeras.backend` is first imported, so each
case runs in a fresh Python process with a controlled environment. Unless a
test says otherwise, that environment shows no GPU (`CUDA_VISIBLE_DEVICES=""`)
and leaves the CUDA simulator off, so the answers do not depend on the
machine.
"""
import contextlib
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keras_under_test import refkeras_only

from refkeras.backend import config

try:
    from accel.device import _numba_cuda_installed, gpu_present
    ACCEL_INSTALLED = _numba_cuda_installed()
except ImportError:  # pragma: no cover (accel is part of this repository)
    ACCEL_INSTALLED, gpu_present = False, lambda: False
needs_accel = pytest.mark.skipif(not ACCEL_INSTALLED, reason='numba-cuda is not installed')

REPO = Path(__file__).resolve().parents[2]

pytestmark = refkeras_only("reads refkeras/backend/config.py's handling of keras.json and its backends ('auto', 'numpy', 'numba') in fresh processes")

# What the probe prints: the settings the backend runs with, the file it read,
# and the UserWarnings raised while importing it.
PROBE = r"""
import json, sys, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    from refkeras import backend as K
numba_imported = 'numba' in sys.modules
from refkeras.backend import state
from refkeras import initializers
print(json.dumps({
    'floatx': K.floatx(), 'epsilon': K.epsilon(),
    'image_data_format': K.image_data_format(), 'backend': K.backend(),
    'path': state.config_path(),
    'numba_imported': numba_imported,
    'variable_dtype': K.variable([1.0]).dtype.name,
    'variable_kind': type(K.variable([1.0]).value).__name__,
    'initializer_dtype': initializers.glorot_uniform()((2, 2)).dtype.name,
    'warnings': [str(w.message) for w in caught if issubclass(w.category, UserWarning)],
}))
"""

DEFAULT_FILE = {'image_data_format': 'channels_last', 'epsilon': 1e-07, 'floatx': 'float32',
                'backend': 'auto'}


def run_python(code, home, **env_vars):
    """Runs `code` in a new interpreter with HOME=`home`, the given KERAS_* variables only,
    no visible GPU and the CUDA simulator off, unless `env_vars` say otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('KERAS_')}
    env['HOME'] = str(home)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['NUMBA_ENABLE_CUDASIM'] = '0'
    env.update({k: str(v) for k, v in env_vars.items()})
    return subprocess.run([sys.executable, '-c', code], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=120)


def probe(home, **keras_env):
    """The probe's report; fails the test if the interpreter did not exit cleanly."""
    result = run_python(PROBE, home, **keras_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def probe_error(home, error='ConfigError', **keras_env):
    """The last line of the stderr of a probe expected to fail at import with `error`."""
    result = run_python(PROBE, home, **keras_env)
    assert result.returncode != 0, result.stdout
    assert error in result.stderr, result.stderr
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
    # The file says "auto"; with no GPU visible, the reference runs, without Numba.
    assert (report['floatx'], report['epsilon'], report['image_data_format'],
            report['backend']) == ('float32', 1e-07, 'channels_last', 'numpy')
    assert report['numba_imported'] is False and report['variable_kind'] == 'ndarray'
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

@needs_accel
def test_keras_backend_variable_overrides_the_file(tmp_path):
    home = tmp_path / 'home'
    write_config(home / '.keras', {'backend': 'numpy'})
    # accel runs here in the CUDA simulator (there may be no GPU).
    assert probe(home, KERAS_BACKEND='numba', NUMBA_ENABLE_CUDASIM=1)['backend'] == 'numba'
    write_config(home / '.keras', {'backend': 'numba'})
    assert probe(home, NUMBA_ENABLE_CUDASIM=1)['backend'] == 'numba'
    assert probe(home, KERAS_BACKEND='numpy', NUMBA_ENABLE_CUDASIM=1)['backend'] == 'numpy'


@needs_accel
def test_numba_backend_keeps_variables_on_the_device(tmp_path):
    report = probe(tmp_path / 'home', KERAS_BACKEND='numba', NUMBA_ENABLE_CUDASIM=1)
    assert report['backend'] == 'numba' and report['numba_imported'] is True
    assert report['variable_kind'] == 'DeviceArray' and report['variable_dtype'] == 'float32'
    # Initial values are drawn on the host, as initializers return them.
    assert report['initializer_dtype'] == 'float32'


def test_explicit_numpy_runs_the_reference_without_importing_numba(tmp_path):
    home = tmp_path / 'home'
    write_config(home / '.keras', {'backend': 'numpy'})
    # Even with a simulator (or a GPU) on offer.
    report = probe(home, NUMBA_ENABLE_CUDASIM=1)
    assert report['backend'] == 'numpy' and report['numba_imported'] is False
    assert report['variable_kind'] == 'ndarray'


@pytest.mark.parametrize('hidden', ['', '-1'])
def test_cuda_visible_devices_hiding_every_gpu_runs_on_the_cpu(tmp_path, hidden):
    home = tmp_path / 'home'
    write_config(home / '.keras', {'backend': 'auto'})
    report = probe(home, CUDA_VISIBLE_DEVICES=hidden)
    assert report['backend'] == 'numpy' and report['numba_imported'] is False
    # The same answer from the check itself, whatever this machine has.
    saved = os.environ.get('CUDA_VISIBLE_DEVICES')
    os.environ['CUDA_VISIBLE_DEVICES'] = hidden
    try:
        assert config.accel_gpu_ready() is False
    finally:
        if saved is None:
            del os.environ['CUDA_VISIBLE_DEVICES']
        else:
            os.environ['CUDA_VISIBLE_DEVICES'] = saved


def test_auto_picks_accel_exactly_when_a_gpu_is_ready():
    asked = []

    def ready(answer):
        def check():
            asked.append(answer)
            return answer
        return check
    assert config.choose_backend('auto', 'test', gpu_ready=ready(True)) == 'numba'
    assert config.choose_backend('auto', 'test', gpu_ready=ready(False)) == 'numpy'
    assert asked == [True, False]
    # An explicit 'numpy' never looks for a GPU.
    assert config.choose_backend('numpy', 'test', gpu_ready=ready(True)) == 'numpy'
    assert asked == [True, False]


@pytest.mark.gpu
@pytest.mark.skipif(not (ACCEL_INSTALLED and gpu_present()), reason='needs a CUDA GPU')
def test_auto_runs_accel_on_a_machine_with_a_gpu(tmp_path):
    env = {'CUDA_VISIBLE_DEVICES': os.environ.get('CUDA_VISIBLE_DEVICES', '0') or '0'}
    report = probe(tmp_path / 'home', **env)
    assert report['backend'] == 'numba' and report['variable_kind'] == 'DeviceArray'


@needs_accel
@pytest.mark.parametrize('source', ['KERAS_BACKEND', 'file'])
def test_numba_without_a_gpu_or_the_simulator_is_a_clear_error(tmp_path, source):
    home = tmp_path / 'home'
    if source == 'file':
        path = write_config(home / '.keras', {'backend': 'numba'})
        message = probe_error(home, error='BackendUnavailableError')
        assert str(path) in message
    else:
        message = probe_error(home, error='BackendUnavailableError', KERAS_BACKEND='numba')
        assert 'KERAS_BACKEND' in message
    # It says what is missing and how to get it.
    assert '"numba"' in message and 'GPU' in message and 'NUMBA_ENABLE_CUDASIM=1' in message
    assert 'CUDA_VISIBLE_DEVICES' in message


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
