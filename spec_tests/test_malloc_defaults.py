"""Importing refkeras makes glibc's malloc keep freed memory for the next step's
arrays, unless the user set malloc up (`refkeras/_malloc_defaults.py`)."""
import os
import platform
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc',
    reason='the setting only exists on glibc')

# Three 20 MB arrays allocated, written and freed, five times over: what a
# training step does with its activations. With glibc's defaults (or the user's
# trim threshold of 128 KB) such arrays are mapped afresh and unmapped each
# round, so every later round faults their pages in again: at least 30 faults
# per round even where the kernel backs them with 2 MB pages (1,500 on the
# project's machine, where some are 4 KB pages). Kept, only the first round does.
_ROUNDS_OF_STEP_SIZED_ARRAYS = """
import resource
import refkeras, numpy
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def one_round():
    arrays = [numpy.ones(5 * 2 ** 20, dtype='float32') for _ in range(3)]
    del arrays
one_round()
before = faults()
for _ in range(4):
    one_round()
print(faults() - before)
"""


def _faults_in_later_rounds(**environment):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('MALLOC_') and k != 'GLIBC_TUNABLES'}
    env.update(environment, PYTHONPATH=ROOT + os.pathsep + env.get('PYTHONPATH', ''))
    out = subprocess.run([sys.executable, '-c', _ROUNDS_OF_STEP_SIZED_ARRAYS], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.strip().splitlines()[-1])


def test_after_importing_refkeras_freed_arrays_are_reused_without_page_faults():
    assert _faults_in_later_rounds() < 40


def test_a_users_own_malloc_setting_is_left_alone():
    # glibc's default trim threshold, set by the user: the memory goes back each round.
    assert _faults_in_later_rounds(MALLOC_TRIM_THRESHOLD_=str(128 * 1024)) >= 4 * 30


def test_the_call_reports_that_it_left_user_settings_alone(monkeypatch):
    from refkeras import _malloc_defaults
    monkeypatch.setenv('GLIBC_TUNABLES', 'glibc.malloc.trim_threshold=131072')
    assert _malloc_defaults.keep_freed_memory() is False
