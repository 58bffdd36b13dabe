"""A pytest plugin for conformance.faq_report: one JSON line per FAQ spec test.

Loaded with `-p conformance.faq_outcomes`; the file to append to is
`$FAQ_OUTCOMES`. Lines are written as each test ends, so a file whose run is
cut off by the report's time limit still tells what it did before.

Each test is classed:
- `passed`;
- `failed` (an error in setup or teardown too, and an expected failure
  (`xfail`): the behaviour is missing either way);
- `absent`: skipped with a reason starting "absent:" (the implementation
  removed the feature; see spec_tests/faq/keras_under_test.py);
- `refkeras-only`: skipped with a reason starting "refkeras-only:";
- `skipped`: any other skip (a missing optional dependency, for example).
"""
import json
import os


def classify(report):
    """The class of one test from its pytest reports (see the module docstring)."""
    if hasattr(report, 'wasxfail'):
        return 'failed' if report.skipped else 'passed' if report.passed else 'failed'
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.split('Skipped: ', 1)[-1]
        for outcome in ('absent', 'refkeras-only'):
            if reason.startswith(outcome + ':'):
                return outcome
        return 'skipped'
    return 'passed' if report.passed else 'failed'


def _reason(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2].split('Skipped: ', 1)[-1]
    if report.failed:
        text = str(report.longrepr).strip().splitlines()
        errors = [line for line in text if line.startswith('E ')]
        return (errors[0] if errors else text[-1] if text else '')[:300]
    return ''


def pytest_runtest_logreport(report):
    path = os.environ.get('FAQ_OUTCOMES')
    if not path:
        return
    decisive = (report.when == 'call' or (report.when == 'setup' and not report.passed)
                or (report.when == 'teardown' and report.failed))
    if not decisive:
        return
    outcome = classify(report)
    with open(path, 'a') as handle:
        handle.write(json.dumps({'test': report.nodeid, 'when': report.when,
                                 'outcome': outcome, 'reason': _reason(report)}) + '\n')
