"""docs/primitives.md, the primitive index, is what `tools.primitive_index` generates now.

The index tells a reader, for each primitive, where its forward, gradient rule,
reference test, accel twin, kernels and accel test are. It is generated from
the registries; this test keeps the committed copy current.
"""
import os
import sys

from accel_harness import accel_mode_or_skip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODE = accel_mode_or_skip()
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools import primitive_index  # noqa: E402


def test_the_committed_primitive_index_is_what_the_registries_give_now():
    with open(primitive_index.INDEX_PATH) as handle:
        committed = handle.read()
    assert committed == primitive_index.render(), (
        'docs/primitives.md is stale: run `python3 -m tools.primitive_index --write`')


def test_every_primitive_has_a_row_naming_real_files():
    from refkeras.backend import REGISTRY
    rows = primitive_index.rows()
    assert [row.split('|')[1].strip().strip('`') for row in rows] == sorted(REGISTRY)
    for row in rows:
        for cell in row.split('|')[2:-1]:
            for path in [piece.split('`')[1] for piece in cell.split(', ') if '`' in piece]:
                file_part = path.split('::')[0].split(':')[0]
                if file_part.endswith('.py'):
                    assert os.path.exists(os.path.join(ROOT, file_part)), (row, file_part)
        assert 'missing' not in row, row
