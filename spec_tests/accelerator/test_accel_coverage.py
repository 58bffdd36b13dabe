"""accel covers the reference: every primitive of `REGISTRY` has an accel twin.

docs/design.md, invariant 5: "A primitive missing from `accel` fails a coverage
test; it is never silently run on the host." This file is that test. When a
helper adds a reference primitive, `test_every_reference_primitive_has_an_accel_twin`
fails, naming it, until `accel/prims_*.py` registers a forward (and, for a
differentiable primitive, a gradient rule) with the same name; see
`accel/registry.py` for the recipe.

It also checks how accel reports a machine it cannot run on. No kernel runs here.
"""
import inspect
import os
import subprocess
import sys

import pytest

from accel_harness import accel_mode_or_skip

_MODE = accel_mode_or_skip()

from refkeras.backend.registry import REGISTRY  # noqa: E402

import accel  # noqa: E402
from accel.table import IncompleteTableError, extra, implementation_table, missing  # noqa: E402

pytestmark = pytest.mark.accel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_reference_primitive_has_an_accel_twin():
    gaps = missing()
    assert not gaps, (
        'accel lacks %d part(s) of the reference registry (add them to accel/prims_*.py, see '
        'accel/registry.py): %s' % (len(gaps), ', '.join('%s (%s)' % g for g in gaps)))


def test_accel_registers_nothing_the_reference_lacks():
    assert extra() == []


def test_the_table_mirrors_the_registry_or_refuses_naming_the_gaps():
    gaps = missing()
    if gaps:
        with pytest.raises(IncompleteTableError) as info:
            implementation_table()
        for name, part in gaps:
            assert '%s.%s' % (name, part) in str(info.value)
        return
    table = implementation_table()
    assert set(table) == set(REGISTRY)
    for name, ref in REGISTRY.items():
        assert callable(table[name].forward)
        if ref.grad is not None:
            assert callable(table[name].grad), name


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def _attributes(params):
    return [(n, d) for n, _, d in params if d is not inspect.Parameter.empty]


def test_accel_signatures_are_the_references():
    """forward(*inputs, **attrs) and grad(g, out, *inputs, **attrs [, needs]) match."""
    from accel.table import registered
    accel_prims = registered()
    wrong = []
    for name, ref in sorted(REGISTRY.items()):
        mine = accel_prims.get(name)
        if mine is None:
            continue
        if _parameters(mine.forward) != _parameters(ref.forward):
            wrong.append('%s.forward %s != %s' % (name, inspect.signature(mine.forward),
                                                  inspect.signature(ref.forward)))
        if ref.grad is not None and mine.grad is not None:
            # The rule's own parameter names (g, out, inputs) are free; their kinds,
            # and the attributes' names and defaults, must agree.
            mine_g, ref_g = _parameters(mine.grad), _parameters(ref.grad)
            if [(k, d) for _, k, d in mine_g] != [(k, d) for _, k, d in ref_g] or \
                    _attributes(mine_g) != _attributes(ref_g):
                wrong.append('%s.grad %s != %s' % (name, inspect.signature(mine.grad),
                                                   inspect.signature(ref.grad)))
    assert not wrong, 'signatures differ from the reference:\n' + '\n'.join(wrong)


def test_accel_reports_what_it_runs_on():
    assert accel.is_available()
    info = accel.device_info()
    assert info.kind == _MODE
    assert accel.BACKEND_NAME == 'numba'


def test_no_gpu_and_no_simulator_is_a_clear_error():
    """With every GPU hidden and the simulator off, `require` names both."""
    code = ('import accel.device as d\n'
            'try:\n'
            '    d.require()\n'
            'except d.AccelUnavailableError as e:\n'
            '    print("ERR", e)\n'
            'else:\n'
            '    print("NO ERROR")\n')
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', NUMBA_ENABLE_CUDASIM='0')
    env.pop('ACCEL_COMPILE_ONLY', None)
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith('ERR accel cannot run'), out
    assert 'CUDA_VISIBLE_DEVICES' in out and 'NUMBA_ENABLE_CUDASIM=1' in out


def test_importing_accel_does_not_import_numba():
    code = 'import sys, accel; print("numba" in sys.modules)'
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == 'False', result.stdout + result.stderr




def test_simulated_shared_arrays_are_made_once_per_block_line():
    """Every thread of a simulated block must get the same `cuda.shared.array`
    (accel.simulator locks numba-cuda's unlocked look-up-then-store). Two threads
    are made to look the line up together: unlocked, both find nothing and each
    makes its own array (a reduction then adds the wrong partial sums)."""
    import threading

    from accel.kernels.launch import SIMULATOR
    if not SIMULATOR:
        pytest.skip('a property of the CUDA simulator')
    from numba.cuda.simulator import kernelapi
    import numpy as np

    both_looking = threading.Barrier(2, timeout=0.5)

    class Allocations(dict):
        def get(self, key, default=None):
            found = dict.get(self, key, default)
            try:   # wait (up to 0.5 s) for the other thread to have looked too
                both_looking.wait()
            except threading.BrokenBarrierError:
                pass
            return found

    shared = kernelapi.FakeCUDAShared(0)
    shared._allocations = Allocations()
    got = []

    def thread():
        got.append(shared.array((8,), np.float32))   # one line, as in a kernel

    threads = [threading.Thread(target=thread) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 2 and got[0] is got[1]
