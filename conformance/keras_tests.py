"""Run Keras 2.2.4's own test suite against refkeras, one file at a time.

    python -m conformance.keras_tests PATH_TO_KERAS_2.2.4 [--only SUBSTRING ...]
        [--timeout SECONDS] [--markdown FILE] [--json FILE]

PATH is a Keras 2.2.4 source tree holding `tests/` (for example
`git archive 2.2.4 tests | tar -x` in a clone of keras-team/keras). Nothing of
it is copied into this repository. Each test file runs in its own pytest
process with `conformance.keras_alias` loaded (so `import keras` imports
refkeras) and a time limit; each test is classed passed, failed, skipped (by
the test's own condition, e.g. a TensorFlow-only test), n/a (listed in
`conformance/not_applicable.py` with its reason) or differs (fails because
refkeras differs on purpose: listed in `conformance/differs_on_purpose.py`
and explained in docs/differences.md). A file that cannot be
collected counts as one failure. The table ends with the line
`N passed, M failed`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTCOMES = ('passed', 'failed', 'skipped', 'n/a', 'differs')


def find_test_files(keras_tree, only=()):
    """The `test_*.py` / `*_test.py` files under `keras_tree/tests`, sorted."""
    root = os.path.join(keras_tree, 'tests')
    if not os.path.isdir(root):
        raise SystemExit('%s has no tests/ folder: expected a Keras 2.2.4 source tree '
                         '(git archive 2.2.4 tests | tar -x)' % keras_tree)
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith('.py') and (name.startswith('test_') or name.endswith('_test.py')):
                relative = os.path.relpath(os.path.join(folder, name), keras_tree)
                if not only or any(part in relative for part in only):
                    found.append(relative)
    return sorted(found)


def run_file(keras_tree, relative, timeout):
    """Runs one test file; returns ({nodeid: result}, seconds, note)."""
    with tempfile.TemporaryDirectory(prefix='refkeras-keras-tests-') as scratch:
        report = os.path.join(scratch, 'report.json')
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            [REPO_ROOT] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
        env['REFKERAS_KERAS_TESTS_REPORT'] = report
        env.setdefault('KERAS_HOME', os.path.join(scratch, 'keras-home'))
        env.setdefault('KERAS_BACKEND', 'numpy')
        command = [sys.executable, '-m', 'pytest', '-p', 'conformance.keras_alias',
                   '-p', 'no:cacheprovider', '-q', '--no-header', '-rN',
                   '--rootdir', keras_tree, relative]
        start = time.time()
        note = ''
        try:
            completed = subprocess.run(command, cwd=keras_tree, env=env, timeout=timeout,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            output = completed.stdout.decode('utf-8', 'replace')
        except subprocess.TimeoutExpired as expired:
            output = (expired.stdout or b'').decode('utf-8', 'replace')
            note = 'timed out after %d s' % timeout
        seconds = time.time() - start
        results = {}
        if os.path.exists(report):
            with open(report) as handle:
                results = json.load(handle)
        if not results:
            tail = output.strip().splitlines()[-3:]
            results = {relative: {'outcome': 'failed',
                                  'reason': note or ' | '.join(tail) or 'no result'}}
        elif note:
            results[relative + '::<timeout>'] = {'outcome': 'failed', 'reason': note}
        for result in results.values():
            if result['outcome'] == 'error':
                result['outcome'] = 'failed'
        return results, seconds, note


def count(results):
    totals = dict.fromkeys(OUTCOMES, 0)
    for result in results.values():
        totals[result['outcome']] += 1
    return totals


def table(per_file):
    """Markdown table: one row per file, then the totals."""
    lines = ['| file | passed | failed | skipped | n/a | differs | seconds |',
             '|---|---:|---:|---:|---:|---:|---:|']
    grand = dict.fromkeys(OUTCOMES, 0)
    for relative, (results, seconds, note) in per_file.items():
        totals = count(results)
        for key in OUTCOMES:
            grand[key] += totals[key]
        lines.append('| %s%s | %d | %d | %d | %d | %d | %.0f |' % (
            relative, ' (%s)' % note if note else '',
            totals['passed'], totals['failed'], totals['skipped'], totals['n/a'],
            totals['differs'], seconds))
    lines.append('| **all** | %d | %d | %d | %d | %d | |' % (
        grand['passed'], grand['failed'], grand['skipped'], grand['n/a'], grand['differs']))
    return lines, grand


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('keras_tree', help='a Keras 2.2.4 source tree holding tests/')
    parser.add_argument('--only', nargs='*', default=(),
                        help='run only files whose path contains one of these')
    parser.add_argument('--timeout', type=int, default=600, help='seconds per file')
    parser.add_argument('--markdown', help='write the table to this file too')
    parser.add_argument('--json', help='write every test result to this file')
    parser.add_argument('--failures', action='store_true', help='list each failure and its reason')
    args = parser.parse_args(argv)
    keras_tree = os.path.abspath(args.keras_tree)
    per_file = {}
    for relative in find_test_files(keras_tree, args.only):
        per_file[relative] = run_file(keras_tree, relative, args.timeout)
        totals = count(per_file[relative][0])
        print('%-60s %4d passed %4d failed %4d skipped %4d n/a %3d differs %5.0f s' % (
            relative, totals['passed'], totals['failed'], totals['skipped'], totals['n/a'],
            totals['differs'],
            per_file[relative][1]), flush=True)
    lines, grand = table(per_file)
    print()
    print('\n'.join(lines))
    if args.failures:
        print()
        for results, _, _ in per_file.values():
            for nodeid, result in sorted(results.items()):
                if result['outcome'] == 'failed':
                    print('FAILED %s: %s' % (nodeid, result.get('reason', '')))
    stale = [nodeid for results, _, _ in per_file.values() for nodeid, result in results.items()
             if 'stale entry' in result.get('reason', '')]
    for nodeid in sorted(stale):
        print('STALE %s: listed in conformance/differs_on_purpose.py but passed' % nodeid)
    if args.markdown:
        with open(args.markdown, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump({relative: results for relative, (results, _, _) in per_file.items()},
                      handle, indent=1, sort_keys=True)
    print()
    print('%d passed, %d failed' % (grand['passed'], grand['failed']))
    return 1 if grand['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
