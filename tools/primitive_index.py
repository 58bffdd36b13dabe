"""Writes `docs/primitives.md`: where each primitive's code and tests are.

For every primitive of the reference registry (`refkeras.backend.REGISTRY`)
the index gives its forward function and gradient rule, the spec test that
checks the rule (finite differences, or "not recorded" for the
non-differentiable ones), accel's twin (`accel.table`), the kernel modules
that twin launches, and the property test that compares the two.

    python3 -m tools.primitive_index           # prints the index
    python3 -m tools.primitive_index --write   # rewrites docs/primitives.md

`spec_tests/test_primitive_index.py` fails when the committed file differs
from what this prints, so the index cannot go stale.
"""
import argparse
import glob
import importlib.util
import inspect
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INDEX_PATH = os.path.join(ROOT, 'docs', 'primitives.md')


def relative(path):
    return os.path.relpath(path, ROOT).replace(os.sep, '/')


def find_spec_test(filename):
    """The path of the spec test file named `filename`, wherever the tree keeps it."""
    found = sorted(glob.glob(os.path.join(ROOT, 'spec_tests', '**', filename), recursive=True))
    if len(found) != 1:
        raise RuntimeError('expected one spec_tests/**/%s, found %s' % (filename, found))
    return found[0]


def load_test_module(path):
    """Imports a spec test file as a module (its folder first on the path, as pytest does)."""
    folder = os.path.dirname(path)
    for directory in (folder, os.path.join(ROOT, 'spec_tests')):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    name = '_index_' + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def where(function, name):
    """'`file`: `function`' for the function registered as primitive `name`
    (a lambda is named by its registration, e.g. `primitive('all')`)."""
    function = inspect.unwrap(function)
    label = function.__name__
    if label == '<lambda>':
        label = "primitive('%s')" % name
    return '`%s`: `%s`' % (relative(inspect.getsourcefile(function)), label)


def kernel_modules(function, seen=None):
    """The accel/kernels modules a primitive's function uses (by the names it
    reads, and the functions and modules its closure holds), as file paths."""
    seen = set() if seen is None else seen
    function = inspect.unwrap(function)
    if not isinstance(function, types.FunctionType) or function in seen:
        return set()
    seen.add(function)
    values = [function.__globals__.get(name) for name in function.__code__.co_names]
    values += [cell.cell_contents for cell in function.__closure__ or ()]
    used = set()
    for value in values:
        module = getattr(value, '__module__', None) if callable(value) else None
        if isinstance(value, types.ModuleType):
            module = value.__name__
        if module and module.startswith('accel.kernels.'):
            used.add(relative(sys.modules[module].__file__))
        elif isinstance(value, types.FunctionType) and value.__module__.startswith('accel.'):
            used |= kernel_modules(value, seen)
    return used


def reference_test(name, primitive, test_path):
    test_file = relative(test_path)
    if primitive.differentiable:
        return '`%s::test_gradient_rule_matches_finite_differences[%s]`' % (test_file, name)
    if name.startswith(('random_', 'truncated_')):
        return '`%s::test_random_draws[%s]`' % (test_file, name)
    return '`%s::test_non_differentiable_primitive_is_not_recorded[%s]`' % (test_file, name)


def rows():
    """One Markdown table row per primitive, sorted by name."""
    from accel import device
    device.enable_simulator_if_no_gpu()
    from accel import table
    from refkeras.backend import REGISTRY
    accel_registry = table.registered()
    gradients_path = find_spec_test('test_primitive_gradients.py')
    accel_test_path = find_spec_test('test_accel_vs_reference.py')
    accel_cases = load_test_module(accel_test_path).CASES
    out = []
    for name in sorted(REGISTRY):
        primitive = REGISTRY[name]
        twin = accel_registry.get(name)
        gradient = where(primitive.grad, name) if primitive.grad is not None else 'not differentiable'
        if twin is None:
            accel_cell, kernels = 'missing', ''
        else:
            functions = [twin.forward] + ([twin.grad] if twin.grad is not None else [])
            accel_cell = where(twin.forward, name)
            kernels = ', '.join('`%s`' % path for path in
                                sorted(set().union(*[kernel_modules(f) for f in functions])))
            kernels = kernels or 'none (a view or host work)'
        case = accel_cases.get(name)
        accel_test = ('`%s::test_accel_matches_the_reference[%s]` (`%s`)'
                      % (relative(accel_test_path), name, case[0].__name__) if case else 'missing')
        out.append('| `%s` | %s | %s | %s | %s | %s | %s |' % (
            name, where(primitive.forward, name), gradient,
            reference_test(name, primitive, gradients_path), accel_cell, kernels, accel_test))
    return out


#: Layers whose primitives the index lists: (label, a function making the layer, input shape).
TRACED_LAYERS = [
    ("Dense(4, activation='relu')", lambda layers: layers.Dense(4, activation='relu'), (2, 3)),
    ("Dense(4, activation='softmax')", lambda layers: layers.Dense(4, activation='softmax'),
     (2, 3)),
    ("Conv2D(2, 3, activation='relu')", lambda layers: layers.Conv2D(2, 3, activation='relu'),
     (1, 5, 5, 1)),
    ('MaxPooling2D()', lambda layers: layers.MaxPooling2D(), (1, 4, 4, 1)),
    ('LSTM(3)', lambda layers: layers.LSTM(3), (2, 4, 3)),
    ('GRU(3)', lambda layers: layers.GRU(3), (2, 4, 3)),
    ('Embedding(5, 2)', lambda layers: layers.Embedding(5, 2), None),
    ('BatchNormalization()', lambda layers: layers.BatchNormalization(), (4, 3)),
    ('Dropout(0.5)', lambda layers: layers.Dropout(0.5), (2, 3)),
]


def traced_primitives(make_layer, input_shape):
    """The primitives a layer runs in a training-mode call, each once, in the
    order the tape first records it."""
    import numpy as np
    from refkeras import backend, layers
    layer = make_layer(layers)
    if input_shape is None:   # an Embedding takes integer indices
        inputs = backend.variable(np.array([[0, 3], [4, 1]]), dtype='int32')
    else:
        inputs = backend.variable(np.linspace(-1, 1, int(np.prod(input_shape)))
                                  .reshape(input_shape))
    with backend.GradientTape() as tape:
        layer(inputs, training=True) if 'training' in _call_arguments(layer) else layer(inputs)
    names = []
    for record in tape.records:
        if record.prim.name not in names:
            names.append(record.prim.name)
    return names


def _call_arguments(layer):
    return inspect.signature(layer.call).parameters


def render():
    body = rows()
    layer_lines = ['- `%s`: %s' % (label, ' → '.join('`%s`' % name for name in
                                                       traced_primitives(make, shape)))
                   for label, make, shape in TRACED_LAYERS]
    return '\n'.join([
        '# Primitive index',
        '',
        'Every backend operation is a *primitive*: a NumPy forward function and, beside it, its',
        'gradient rule (`refkeras/backend/registry.py` says what one is). This table is where each',
        "one's code and tests are; `python3 -m tools.primitive_index --write` regenerates it and",
        '`spec_tests/test_primitive_index.py` fails when it is stale.',
        '',
        '%d primitives, %d of them differentiable.' % (
            len(body), sum(1 for row in body if 'not differentiable' not in row)),
        '',
        '## What a layer runs',
        '',
        'The primitives the tape records when a layer is called in training mode (found by',
        'calling it; each shown once, in the order it is first used). A layer\'s gradient is',
        "these primitives' gradient rules, applied in the reverse order of the calls.",
        '',
    ] + layer_lines + [
        '',
        '## The primitives',
        '',
        '| primitive | forward | gradient rule | reference test | accel twin | accel kernels '
        '| accel test |',
        '|---|---|---|---|---|---|---|',
    ] + body) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--write', action='store_true', help='rewrite docs/primitives.md')
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        with open(INDEX_PATH, 'w') as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
