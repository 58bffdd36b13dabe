"""Importing refkeras shortens OpenBLAS's idle spinning, only where it still can
(`refkeras/_blas_defaults.py`)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _timeout_seen_after(imports, preset=None):
    """The OPENBLAS_THREAD_TIMEOUT a fresh interpreter holds after running `imports`."""
    env = {k: v for k, v in os.environ.items() if k != 'OPENBLAS_THREAD_TIMEOUT'}
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    if preset is not None:
        env['OPENBLAS_THREAD_TIMEOUT'] = preset
    code = imports + "; import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize('imports, preset, expected', [
    ('import refkeras', None, '4'),                  # refkeras first: it sets the timeout
    ('import numpy; import refkeras', None, 'None'),  # too late: OpenBLAS has read it
    ('import refkeras', '9', '9'),                   # the user's own value is kept
])
def test_the_thread_timeout_is_set_only_before_numpy_and_never_over_the_users(imports, preset,
                                                                             expected):
    assert _timeout_seen_after(imports, preset) == expected
