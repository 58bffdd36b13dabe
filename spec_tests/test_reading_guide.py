"""docs/reading-guide.md cannot go stale: the files it names exist, the line
counts it gives are the files' (exactly, or within a quarter for "about N
lines"), and its FAQ table names every FAQ spec test file."""
import glob
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, 'docs', 'reading-guide.md')


def guide():
    with open(GUIDE) as handle:
        return handle.read()


def repository_files():
    listed = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                            cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout.strip():
        return listed.stdout.split()
    found = []
    for folder, _, names in os.walk(ROOT):
        found += [os.path.relpath(os.path.join(folder, name), ROOT) for name in names]
    return found


def resolves(name, files):
    """A path from the repository root (a glob allowed), or the tail of one."""
    if glob.glob(os.path.join(ROOT, name)):
        return True
    return any(path == name or path.endswith('/' + name) for path in files)


def test_every_python_file_the_guide_names_exists():
    files = repository_files()
    named = sorted(set(re.findall(r'`([\w./*-]+\.py)`', guide())))
    assert len(named) > 20  # the pattern still finds the guide's file names
    missing = [name for name in named if not resolves(name, files)]
    assert missing == [], 'docs/reading-guide.md names files that do not exist: %s' % missing


def test_the_line_counts_the_guide_gives_are_the_files():
    figures = re.findall(r'`([\w./-]+\.py)` \((about )?(\d+) lines\)', guide())
    assert figures  # the guide gives some: this test checks them
    wrong = []
    for path, about, stated in figures:
        with open(os.path.join(ROOT, path)) as handle:
            actual = sum(1 for _ in handle)
        stated = int(stated)
        ok = abs(actual - stated) <= 0.25 * actual if about else actual == stated
        if not ok:
            wrong.append('%s: the guide says %s%d lines, it has %d'
                         % (path, about, stated, actual))
    assert wrong == [], wrong


def test_the_faq_table_names_every_faq_spec_test_file():
    text = guide()
    files = sorted(os.path.basename(p) for p in glob.glob(
        os.path.join(ROOT, 'spec_tests', 'faq', 'test_faq_*.py')))
    assert files
    unnamed = [name for name in files if name not in text]
    assert unnamed == [], 'add a row to the reading guide for %s' % unnamed
