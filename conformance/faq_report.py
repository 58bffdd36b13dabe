"""Grade a Keras implementation against the FAQ spec tests, one FAQ answer at a time.

    python -m conformance.faq_report [--keras refkeras|tensorflow.keras|keras]
        [--python INTERPRETER] [--timeout SECONDS] [--markdown FILE] [--only WORD ...]

Each file of `spec_tests/faq/` (one per FAQ answer) runs in its own pytest
process, with `SPEC_KERAS` naming the implementation (see
spec_tests/faq/keras_under_test.py) and a time limit; `--python` runs it with
another interpreter, e.g. a virtual environment holding tf.keras. Every test is
classed passed, failed, absent (a feature the implementation removed),
refkeras-only (a check of refkeras's own internals) or skipped (see
conformance/faq_outcomes.py). An answer is graded:

- `fail` if any of its tests failed (or its file could not be run in time);
- `absent` if none passed and some are absent;
- `pass` otherwise (with the absent ones counted beside it);
- `n/a` if all its tests are refkeras-only.

The table is printed and, with `--markdown`, written as Markdown.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAQ_DIR = os.path.join('spec_tests', 'faq')

# The FAQ's answers, in the FAQ's order, and the file that tests each.
ANSWERS = [
    ('How should I cite Keras?', 'test_faq_cite.py'),
    ('How can I run Keras on GPU?', 'test_faq_gpu.py'),
    ('How can I run a Keras model on multiple GPUs?', 'test_faq_multi_gpu.py'),
    ('What does "sample", "batch", "epoch" mean?', 'test_faq_sample_batch_epoch.py'),
    ('How can I save a Keras model?', 'test_faq_saving.py'),
    ('Why is the training loss much higher than the testing loss?',
     'test_faq_training_vs_testing_loss.py'),
    ('How can I obtain the output of an intermediate layer?', 'test_faq_intermediate_output.py'),
    ("How can I use Keras with datasets that don't fit in memory?",
     'test_faq_data_not_fitting_memory.py'),
    ("How can I interrupt training when the validation loss isn't decreasing anymore?",
     'test_faq_early_stopping.py'),
    ('How is the validation split computed?', 'test_faq_validation_split.py'),
    ('Is the data shuffled during training?', 'test_faq_shuffle.py'),
    ('How can I record the training / validation loss / accuracy at each epoch?',
     'test_faq_history.py'),
    ('How can I "freeze" Keras layers?', 'test_faq_freezing.py'),
    ('How can I use stateful RNNs?', 'test_faq_stateful_rnns.py'),
    ('How can I remove a layer from a Sequential model?', 'test_faq_remove_layer.py'),
    ('How can I use pre-trained models in Keras?', 'test_faq_pretrained_models.py'),
    ('How can I use HDF5 inputs with Keras?', 'test_faq_hdf5_inputs.py'),
    ('Where is the Keras configuration file stored?', 'test_faq_config_file.py'),
    ('How can I obtain reproducible results using Keras during development?',
     'test_faq_reproducibility.py'),
    ('How can I install HDF5 or h5py to save my models in Keras?', 'test_faq_h5py_install.py'),
]

CLASSES = ('passed', 'failed', 'absent', 'refkeras-only', 'skipped')
# When a test reports twice (a teardown error after its call), the worse class counts.
SEVERITY = {'failed': 4, 'absent': 3, 'skipped': 2, 'refkeras-only': 1, 'passed': 0}


def run_file(path, keras, python, timeout):
    """Run one FAQ test file; returns ({test id: (class, reason)}, note)."""
    handle, outcomes = tempfile.mkstemp(prefix='faq-outcomes-', suffix='.jsonl')
    os.close(handle)
    env = dict(os.environ, SPEC_KERAS=keras, FAQ_OUTCOMES=outcomes)
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    command = [python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p',
               'conformance.faq_outcomes', '-W', 'ignore', path]
    note = ''
    try:
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=timeout)
        if result.returncode not in (0, 1, 5):  # 5: nothing collected
            tail = result.stdout.decode('utf-8', 'replace').strip().splitlines()[-3:]
            note = 'pytest exit status %d: %s' % (result.returncode, ' / '.join(tail))
    except subprocess.TimeoutExpired:
        note = 'cut off after %d s' % timeout
    tests = {}
    with open(outcomes) as lines:
        for line in lines:
            entry = json.loads(line)
            old = tests.get(entry['test'])
            if old is None or SEVERITY[entry['outcome']] > SEVERITY[old[0]]:
                tests[entry['test']] = (entry['outcome'], entry['reason'])
    os.unlink(outcomes)
    return tests, note


def grade(counts, note):
    """An answer's grade from its class counts (see the module docstring)."""
    if counts['failed'] or note:
        return 'fail'
    if counts['passed']:
        return 'pass'
    if counts['absent']:
        return 'absent'
    if counts['refkeras-only']:
        return 'n/a'
    return 'no tests'


def describe(keras, python):
    code = ('import os, sys; sys.path.insert(0, %r); os.environ["SPEC_KERAS"] = %r; '
            'import keras_under_test as k; print(k.describe())'
            % (os.path.join(REPO_ROOT, FAQ_DIR), keras))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run([python, '-c', code], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    lines = result.stdout.decode().strip().splitlines()
    return lines[-1] if lines else keras


def markdown(rows, title):
    lines = ['#### ' + title, '',
             '| FAQ answer | grade | passed | failed | absent | refkeras-only | skipped |',
             '|---|---|---|---|---|---|---|']
    for question, _, counts, verdict, note in rows:
        cells = [question.replace('|', '\\|'), verdict + (' (%s)' % note if note else '')]
        cells += [str(counts[name]) for name in CLASSES]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--keras', default=os.environ.get('SPEC_KERAS', 'refkeras'),
                        choices=['refkeras', 'tensorflow.keras', 'keras'])
    parser.add_argument('--python', default=sys.executable,
                        help='the interpreter to run the tests with (its environment holds the Keras)')
    parser.add_argument('--timeout', type=int, default=600, help='seconds per FAQ answer')
    parser.add_argument('--markdown', help='write the table to this file')
    parser.add_argument('--failures', action='store_true', help='list each failed test')
    parser.add_argument('--only', nargs='*', default=(), help='answers whose file contains a word')
    args = parser.parse_args(argv)

    implementation = describe(args.keras, args.python)
    rows, failures = [], []
    for question, name in ANSWERS:
        if args.only and not any(word in name for word in args.only):
            continue
        path = os.path.join(FAQ_DIR, name)
        counts = dict.fromkeys(CLASSES, 0)
        note = ''
        if not os.path.exists(os.path.join(REPO_ROOT, path)):
            note = 'no test file'
        else:
            started = time.time()
            tests, note = run_file(path, args.keras, args.python, args.timeout)
            for test, (outcome, reason) in sorted(tests.items()):
                counts[outcome] += 1
                if outcome == 'failed':
                    failures.append((test, reason))
            sys.stderr.write('%-45s %5.0f s\n' % (name, time.time() - started))
        verdict = grade(counts, note)
        rows.append((question, name, counts, verdict, note))
        print('%-7s %s  (%s)' % (verdict, question,
                                 ', '.join('%d %s' % (counts[c], c) for c in CLASSES if counts[c])
                                 + (('; ' + note) if note else '')))
    table = markdown(rows, '%s, %s' % (implementation, time.strftime('%Y-%m-%d', time.gmtime())))
    if args.failures:
        for test, reason in failures:
            print('FAILED %s: %s' % (test, reason))
    if args.markdown:
        with open(args.markdown, 'w') as handle:
            handle.write(table)
    totals = {c: sum(row[2][c] for row in rows) for c in CLASSES}
    print('%s: %s' % (implementation, ', '.join('%d %s' % (totals[c], c) for c in CLASSES)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
