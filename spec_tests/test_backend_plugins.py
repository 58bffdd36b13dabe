"""The one seam between the reference and accel (docs/design.md, invariant 5).

refkeras never imports accel: other backends are plugins, found by name under
the entry-point group `refkeras.backends`, or, in a source checkout that was
never installed, in its own pyproject.toml's table of that group.
"""
import ast
import os
from importlib import metadata

import pytest

from refkeras.backend import config, plugins

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def imports_of(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.lineno, node.module


def test_no_module_of_the_reference_imports_accel():
    found = []
    for directory, _, files in os.walk(os.path.join(ROOT, 'refkeras')):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                found += ['%s:%d %s' % (os.path.relpath(path, ROOT), line, module)
                          for line, module in imports_of(path)
                          if module == 'accel' or module.startswith('accel.')]
    assert not found, found


def test_the_numba_backend_is_the_plugin_accel_announces():
    from accel.plugin import BACKEND
    assert plugins.find('numba') is BACKEND
    assert plugins.find('no-such-backend') is None


def test_an_uninstalled_checkout_finds_the_plugin_in_its_pyproject(monkeypatch):
    from accel.plugin import BACKEND
    monkeypatch.setattr(metadata, 'entry_points', lambda group=None: [])
    assert plugins.declared_in_source_checkout() == {'numba': 'accel.plugin:BACKEND'}
    assert plugins.find('numba') is BACKEND


def test_the_checkout_table_is_read_exactly(tmp_path):
    pyproject = tmp_path / 'pyproject.toml'
    pyproject.write_text('[project]\nname = "x"\n\n[project.entry-points."refkeras.backends"]\n'
                         'fast = "pkg.mod:THING"\n\n[project.scripts]\nother = "a.b:c"\n')
    assert plugins.declared_in_source_checkout(str(pyproject)) == {'fast': 'pkg.mod:THING'}
    assert plugins.declared_in_source_checkout(str(tmp_path / 'none.toml')) == {}


def test_asking_for_a_backend_no_package_provides_names_what_to_install(monkeypatch):
    monkeypatch.setattr(plugins, 'find', lambda name: None)
    with pytest.raises(config.BackendUnavailableError) as info:
        config.choose_backend('numba', 'keras.json')
    message = str(info.value)
    assert 'keras.json' in message and '"numba"' in message
    assert 'refkeras[accel]' in message and 'refkeras.backends' in message
    # 'auto' without the plugin runs the reference, asking nothing of it
    assert config.accel_gpu_ready() is False
