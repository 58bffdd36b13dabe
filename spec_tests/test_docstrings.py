"""Public functions document every argument, Keras-style.

The developers' guide asks for Keras-style docstrings: a first line ending in
a full stop, and an `# Arguments` section naming each parameter as `name:`, in
the signature's order. Keras 2.2.4's `tests/test_documentation.py` checks the
same of the functions its public modules expose; this is refkeras's own check,
over the functions of at least `MIN_LINES` lines (shorter ones explain
themselves in their first line).
"""
import importlib
import inspect

import pytest

MODULES = ['refkeras', 'refkeras.layers', 'refkeras.models', 'refkeras.backend',
           'refkeras.engine', 'refkeras.utils', 'refkeras.callbacks', 'refkeras.activations',
           'refkeras.losses', 'refkeras.optimizers']
MIN_LINES = 10


def documentation_problems(name, function):
    """What is missing from `function`'s docstring (an empty list if nothing)."""
    doc = function.__doc__
    if doc is None:
        return ['%s has no docstring' % name]
    problems = []
    first_line = doc.split('\n')[0].strip()
    if not first_line.endswith('.'):
        problems.append('%s: the first line should end with a full stop' % name)
    parameters = list(inspect.signature(function).parameters)
    words = doc.replace('*', '').split()
    positions = []
    for parameter in parameters:
        if parameter + ':' not in words:
            problems.append('%s: argument %r is not documented as "%s:"'
                            % (name, parameter, parameter))
        else:
            positions.append(words.index(parameter + ':'))
    if parameters and '# Arguments' not in doc:
        problems.append('%s: no "# Arguments" section' % name)
    if positions != sorted(positions):
        problems.append('%s: the arguments are documented in another order than the '
                        'signature' % name)
    return problems


def exposed_functions():
    seen = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if not member.__module__.startswith('refkeras'):
                continue
            if len(inspect.getsource(member).split('\n')) < MIN_LINES:
                continue
            seen.setdefault('%s.%s' % (member.__module__, member.__qualname__), member)
    return seen


def test_every_exposed_function_documents_its_arguments_in_order():
    problems = []
    for name, function in sorted(exposed_functions().items()):
        problems.extend(documentation_problems(name, function))
    assert problems == []


def test_the_check_reports_a_missing_or_misordered_argument():
    def scale(x, factor, offset=0.):
        """Scales x.

        # Arguments
            offset: added last.
            x: the input.
        """
    problems = documentation_problems('scale', scale)
    assert any("'factor'" in p for p in problems)
    assert any('order' in p for p in problems)

    def undocumented(x):
        return x
    assert documentation_problems('undocumented', undocumented) == [
        'undocumented has no docstring']


@pytest.mark.parametrize('module_name', MODULES)
def test_the_checked_modules_expose_functions(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getmembers(module, inspect.isfunction)
