"""conformance.faq_report: grades an implementation per FAQ answer from the
FAQ spec tests' outcomes (passed, failed, absent, refkeras-only, skipped)."""
import os
import subprocess
import sys

from conformance import faq_report

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def counts(**given):
    table = dict.fromkeys(faq_report.CLASSES, 0)
    table.update({name.replace('_', '-'): value for name, value in given.items()})
    return table


def test_grades_follow_the_outcomes():
    assert faq_report.grade(counts(passed=3), '') == 'pass'
    assert faq_report.grade(counts(passed=3, absent=2), '') == 'pass'
    assert faq_report.grade(counts(passed=3, failed=1), '') == 'fail'
    assert faq_report.grade(counts(passed=3), 'cut off after 60 s') == 'fail'
    assert faq_report.grade(counts(absent=2, refkeras_only=1), '') == 'absent'
    assert faq_report.grade(counts(refkeras_only=4), '') == 'n/a'


def test_every_faq_answer_has_its_test_file():
    files = set(os.listdir(os.path.join(REPO_ROOT, 'spec_tests', 'faq')))
    assert len(faq_report.ANSWERS) == 20  # the FAQ's twenty questions
    assert [name for _, name in faq_report.ANSWERS if name not in files] == []
    tested = {name for _, name in faq_report.ANSWERS}
    assert sorted(f for f in files if f.startswith('test_faq_') and f not in tested) == []


def test_the_report_on_refkeras_passes_an_answer_and_writes_markdown(tmp_path):
    table = tmp_path / 'table.md'
    result = subprocess.run(
        [sys.executable, '-m', 'conformance.faq_report', '--keras', 'refkeras',
         '--only', 'early_stopping', 'multi_gpu', '--markdown', str(table)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    output = result.stdout.decode()
    assert result.returncode == 0, output
    assert "pass    How can I interrupt training when the validation loss isn't decreasing" in output
    assert 'pass    How can I run a Keras model on multiple GPUs?' in output
    markdown = table.read_text()
    assert markdown.startswith('#### refkeras ')
    assert '| How can I run a Keras model on multiple GPUs? | pass | 10 | 0 | 0 | 0 | 0 |' in markdown
