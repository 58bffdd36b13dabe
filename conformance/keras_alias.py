"""`import keras` imports refkeras: Keras 2.2.4 code runs unchanged.

Load it as a pytest plugin (`python -m pytest -p conformance.keras_alias ...`)
or call `install()` before the first `import keras`. Every `keras.X.Y` is the
very module `refkeras.X.Y` (the same object, so `isinstance` and module-level
state agree whichever name imported it), with a few extra names for modules a
Keras 2.2.4 test reaches by another path (`ALIASES`).

As a pytest plugin it also records each test's outcome in the JSON file named
by `REFKERAS_KERAS_TESTS_REPORT` and reports the tests listed in
`not_applicable.NOT_APPLICABLE` as skipped with their reason, so that
`keras_tests` can count them apart.
"""
import importlib
import importlib.abc
import importlib.util
import json
import os
import sys

from conformance.differs_on_purpose import section_differing
from conformance.not_applicable import reason_not_applicable

# Keras module paths answered by another refkeras module than `refkeras.X`.
# `backend_test.py` compares "the TensorFlow backend" with NumPy reference
# operations; under refkeras the backend it should compare is refkeras's own.
# (`from keras.backend import tensorflow_backend` asks for the submodule under
# the real package's name, hence the second spelling.)
ALIASES = {
    'keras.backend.tensorflow_backend': 'refkeras.backend',
    'refkeras.backend.tensorflow_backend': 'refkeras.backend',
}


def _target(fullname):
    if fullname in ALIASES:
        return ALIASES[fullname]
    if fullname == 'keras' or fullname.startswith('keras.'):
        return 'ref' + fullname
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already imported refkeras module under the keras name."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        # Python stamped the keras spec on the module; the module keeps its
        # own, so that reloading and multiprocessing see refkeras's.
        real_spec = importlib.util.find_spec(self.target)
        if real_spec is not None:
            module.__spec__ = real_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        real = _target(fullname)
        if real is None:
            return None
        try:
            real_spec = importlib.util.find_spec(real)
        except ImportError:
            return None
        if real_spec is None:
            return None
        spec = importlib.util.spec_from_loader(
            fullname, _AliasLoader(real),
            is_package=real_spec.submodule_search_locations is not None)
        return spec


_FINDER = _AliasFinder()


def install():
    """Puts the `keras` -> `refkeras` alias first on `sys.meta_path`."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def install_old_scipy_names():
    """Gives SciPy back the names Keras 2.2.4's tests (2018) import from it.

    `tests/keras/backend/reference_operations.py` computes its expected
    logsumexp with `scipy.misc.logsumexp`, which SciPy moved to
    `scipy.special` (and later removed `scipy.misc`). Only that name is
    provided, as the very function SciPy has now; nothing happens without
    SciPy or where SciPy still has it.
    """
    try:
        import scipy
        import scipy.special
    except ImportError:
        return
    try:
        misc = importlib.import_module('scipy.misc')
    except ImportError:
        misc = None
    if misc is not None and hasattr(misc, 'logsumexp'):
        return
    if misc is None:
        misc = type(sys)('scipy.misc')
        sys.modules['scipy.misc'] = misc
        scipy.misc = misc
    misc.logsumexp = scipy.special.logsumexp


install()
install_old_scipy_names()


# ------------------------------------------------- pytest 3 idioms of the tests

def _accept_warns_none():
    """Keras 2.2.4's tests use `pytest.warns(None)` (pytest < 7: record every
    warning, expect none in particular), which newer pytest refuses. Under
    this plugin it records every warning again; other calls are unchanged."""
    import contextlib
    import warnings

    import pytest

    if getattr(pytest.warns, '_accepts_none', False):
        return
    original = pytest.warns

    @contextlib.contextmanager
    def record_every_warning():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            yield caught

    def warns(expected_warning=Warning, *args, **kwargs):
        if expected_warning is None and not args:
            return record_every_warning()
        return original(expected_warning, *args, **kwargs)
    warns._accepts_none = True
    pytest.warns = warns


def pytest_configure(config):
    _accept_warns_none()


# ---------------------------------------------------------------- pytest hooks

_RESULTS = {}


def _hold_to_tensorflow_tolerances(module):
    """Some Keras 2.2.4 tests read their tolerance from a module-level table
    by backend name (`decimal_precision[K.backend()]`, which knows
    'tensorflow', 'theano' and 'cntk'). refkeras computes in float32 as
    TensorFlow does, so it is held to TensorFlow's entry."""
    table = getattr(module, 'decimal_precision', None)
    if isinstance(table, dict) and 'tensorflow' in table:
        from refkeras import backend
        table.setdefault(backend.backend(), table['tensorflow'])


def pytest_collection_modifyitems(config, items):
    import pytest

    for module in {id(item.module): item.module for item in items
                   if getattr(item, 'module', None) is not None}.values():
        _hold_to_tensorflow_tolerances(module)
    for item in items:
        reason = reason_not_applicable(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason='not applicable: ' + reason))


def pytest_runtest_logreport(report):
    nodeid = report.nodeid
    if report.when == 'call' or (report.when == 'setup' and report.outcome != 'passed'):
        outcome = report.outcome
        if outcome == 'skipped':
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            outcome = 'n/a' if reason.startswith('Skipped: not applicable') or \
                reason.startswith('not applicable') else 'skipped'
            _RESULTS[nodeid] = {'outcome': outcome, 'reason': reason}
        elif outcome == 'failed':
            section = section_differing(nodeid)
            if section is None:
                _RESULTS[nodeid] = {'outcome': 'failed', 'reason': _short(report)}
            else:
                _RESULTS[nodeid] = {'outcome': 'differs', 'reason': 'on purpose: see '
                                    'docs/differences.md, "%s"' % section}
        elif section_differing(nodeid) is not None:
            _RESULTS[nodeid] = {'outcome': 'passed', 'reason': 'listed in '
                                'conformance/differs_on_purpose.py but passed: a stale entry'}
        else:
            _RESULTS[nodeid] = {'outcome': 'passed'}
    elif report.when == 'teardown' and report.outcome == 'failed':
        _RESULTS[nodeid] = {'outcome': 'failed', 'reason': 'teardown: ' + _short(report)}


def pytest_collectreport(report):
    if report.outcome == 'failed':
        from conformance.not_applicable import reason_not_applicable
        # A whole file can be listed (e.g. one that imports tensorflow at its top).
        reason = reason_not_applicable(report.nodeid) if report.nodeid else None
        if reason is not None:
            _RESULTS[report.nodeid] = {'outcome': 'n/a', 'reason': 'not applicable: ' + reason}
            return
        _RESULTS[report.nodeid or '<collection>'] = {'outcome': 'error',
                                                     'reason': _short(report)}


def _short(report):
    text = getattr(report, 'longreprtext', '') or str(report.longrepr)
    lines = [line for line in text.splitlines() if line.startswith('E ')]
    return (lines[-1] if lines else text.strip().splitlines()[-1] if text.strip() else '')[:300]


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get('REFKERAS_KERAS_TESTS_REPORT')
    if path:
        with open(path, 'w') as handle:
            json.dump(_RESULTS, handle, indent=1)


# ------------------------------------------------- h5py's default mode of 2018

def install_old_h5py_default_mode():
    """Gives `h5py.File` back the default mode Keras 2.2.4's tests (2018) expect.

    h5py 2 opened a file in mode 'a' (read/write, created if missing) when
    no mode was given; h5py 3 opens it read-only. `tests/test_model_saving.py`
    writes models into `h5py.File('does not matter', driver='core',
    backing_store=False)`, an in-memory file it never names a mode for, and
    reads its image through `File.fid`, h5py 2's name of `File.id`. Only a
    call without a mode changes; nothing happens without h5py or with h5py 2.
    """
    try:
        import h5py
    except ImportError:
        return
    if int(h5py.version.version_tuple[0]) < 3 or \
            getattr(h5py.File.__init__, 'refkeras_default_mode', False):
        return
    original = h5py.File.__init__

    def __init__(self, name, mode=None, *args, **kwargs):
        original(self, name, 'a' if mode is None else mode, *args, **kwargs)
    __init__.refkeras_default_mode = True
    __init__.__doc__ = original.__doc__
    h5py.File.__init__ = __init__
    if not hasattr(h5py.File, 'fid'):
        h5py.File.fid = property(lambda self: self.id)


install_old_h5py_default_mode()
