"""The Keras-tests runner (conformance/keras_tests.py) counts what it claims to count.

A tiny stand-in for a Keras source tree is written to a temporary folder, with
tests whose outcomes are known by construction; the runner must report exactly
those, and the alias must hand out refkeras's own modules under Keras's names.
"""
import os
import subprocess
import sys
import textwrap

from conformance import keras_tests
from conformance.not_applicable import NOT_APPLICABLE, reason_not_applicable

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PASSING_AND_FAILING = '''
import keras
from keras import backend as K
from keras.layers import Dense
import refkeras.layers


def test_keras_is_refkeras():
    assert keras.layers.Dense is refkeras.layers.Dense
    assert Dense.__module__.startswith('refkeras.')


def test_tensorflow_backend_name_is_the_refkeras_backend():
    from keras.backend import tensorflow_backend
    assert tensorflow_backend is K


def test_that_fails():
    assert 1 == 2


def test_that_skips():
    import pytest
    pytest.skip('by its own condition')
'''


def write_tree(root, files):
    for relative, text in files.items():
        path = os.path.join(root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(textwrap.dedent(text))


def test_the_runner_counts_passed_failed_skipped_and_an_unimportable_file(tmp_path):
    write_tree(str(tmp_path), {
        'tests/keras/sample_test.py': PASSING_AND_FAILING,
        'tests/keras/broken_test.py': 'from keras.no_such_module import thing\n',
    })
    completed = subprocess.run(
        [sys.executable, '-m', 'conformance.keras_tests', str(tmp_path), '--failures'],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    output = completed.stdout.decode()
    assert completed.returncode == 1, output
    assert output.strip().splitlines()[-1] == '2 passed, 2 failed', output
    assert '| tests/keras/sample_test.py | 2 | 1 | 1 | 0 | 0 |' in output
    assert '| tests/keras/broken_test.py | 0 | 1 | 0 | 0 | 0 |' in output
    assert 'FAILED tests/keras/sample_test.py::test_that_fails' in output


def test_a_tree_without_tests_is_refused_with_the_path(tmp_path):
    completed = subprocess.run(
        [sys.executable, '-m', 'conformance.keras_tests', str(tmp_path)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert completed.returncode != 0
    assert str(tmp_path) in completed.stdout.decode()


def test_only_selects_files_by_substring(tmp_path):
    write_tree(str(tmp_path), {'tests/a/x_test.py': '', 'tests/b/test_y.py': '',
                               'tests/b/helper.py': ''})
    assert keras_tests.find_test_files(str(tmp_path)) == ['tests/a/x_test.py', 'tests/b/test_y.py']
    assert keras_tests.find_test_files(str(tmp_path), ['b/']) == ['tests/b/test_y.py']


def test_every_not_applicable_entry_has_a_reason_and_matches_by_pattern():
    for pattern, reason in NOT_APPLICABLE:
        assert pattern.startswith('tests/') and len(reason) > 20, (pattern, reason)
        # a node id the pattern stands for: `*` filled in, fnmatch's `[[]` and `[]]` as `[` `]`
        sample = pattern.replace('*', 'x').replace('[[]', '[').replace('[]]', ']')
        assert reason_not_applicable(sample) == reason
    assert reason_not_applicable('tests/keras/no_such_test.py::test_nothing') is None


def test_every_deliberate_difference_is_named_in_docs_differences_under_its_section():
    from conformance.differs_on_purpose import DIFFERS_ON_PURPOSE
    with open(os.path.join(REPO_ROOT, 'docs', 'differences.md')) as handle:
        text = handle.read()
    sections = {line[3:].strip(): index for index, line in enumerate(text.splitlines())
                if line.startswith('## ')}
    for pattern, section in DIFFERS_ON_PURPOSE:
        assert section in sections, (pattern, section)
        # the test function's name, without a parametrization such as `[[]*[]]`
        test_name = pattern.rsplit('::', 1)[-1].split('[')[0]
        start = text.index('## ' + section)
        end = text.find('\n## ', start + 1)
        assert test_name in text[start:end if end != -1 else None], (pattern, section)


def test_a_listed_deliberate_difference_counts_as_differs_when_it_fails_and_stale_when_it_passes(
        tmp_path):
    write_tree(str(tmp_path), {
        'tests/keras/utils/data_utils_test.py':
            'def test_generator_enqueuer_threadsafe():\n    assert False\n',
        'tests/test_model_saving.py': 'def test_saving_lambda_custom_objects():\n    pass\n',
    })
    completed = subprocess.run(
        [sys.executable, '-m', 'conformance.keras_tests', str(tmp_path)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    output = completed.stdout.decode()
    assert '| tests/keras/utils/data_utils_test.py | 0 | 0 | 0 | 0 | 1 |' in output, output
    assert 'STALE tests/test_model_saving.py::test_saving_lambda_custom_objects' in output
    assert output.strip().splitlines()[-1] == '1 passed, 0 failed'
