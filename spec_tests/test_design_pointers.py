"""docs/design.md is there, and what points at it points at something real.

Code and tests cite its invariants by number ("docs/design.md, invariant 4");
a citation of a number the page does not have, or a file the page names that
the repository lacks, is a stale pointer and fails here.
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DESIGN = os.path.join(ROOT, 'docs', 'design.md')


def design_text():
    with open(DESIGN) as handle:
        return handle.read()


def numbered_invariants():
    section = design_text().split('## Invariants', 1)[1]
    return {int(number) for number in re.findall(r'^(\d+)\. \*\*', section, re.M)}


def citations():
    """`(file, invariant number)` for every citation of docs/design.md in the tree."""
    pattern = re.compile(r'docs/design\.md,? invariants? ([\d, and]+)')
    for top in ('refkeras', 'accel', 'spec_tests', 'docs', 'conformance', 'benchmarks'):
        for directory, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(('.py', '.md')):
                    path = os.path.join(directory, name)
                    with open(path) as handle:
                        text = handle.read()
                    for match in pattern.finditer(text):
                        for number in re.findall(r'\d+', match.group(1)):
                            yield os.path.relpath(path, ROOT), int(number)


def test_every_cited_invariant_exists_in_docs_design():
    invariants = numbered_invariants()
    assert invariants == set(range(1, max(invariants) + 1))
    found = list(citations())
    assert found, 'no file cites docs/design.md (the search pattern is broken)'
    stale = [(path, number) for path, number in found if number not in invariants]
    assert not stale, stale


def test_every_file_docs_design_names_exists():
    named = re.findall(r'`((?:refkeras|accel|spec_tests|docs)/[\w/]+\.(?:py|md))`', design_text())
    assert named
    missing = [path for path in named if not os.path.exists(os.path.join(ROOT, path))]
    assert not missing, missing
