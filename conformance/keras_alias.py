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


install()


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

    from conformance.not_applicable import reason_not_applicable
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
            _RESULTS[nodeid] = {'outcome': 'failed', 'reason': _short(report)}
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
