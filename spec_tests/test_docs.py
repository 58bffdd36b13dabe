"""The Python examples of the README and docs/ run as written.

Every ```python block of a page runs, in order, in one namespace per page, so a
page's examples may build on each other.
"""
import contextlib
import io
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ['README.md'] + sorted(os.path.join('docs', name) for name in os.listdir(
    os.path.join(ROOT, 'docs')) if name.endswith('.md'))


def python_blocks(path):
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    return re.findall(r'```python\n(.*?)```', text, flags=re.S)


@pytest.mark.parametrize('page', [p for p in PAGES if python_blocks(p)])
def test_examples_run(page):
    namespace = {'__name__': 'docs_example'}
    with contextlib.redirect_stdout(io.StringIO()):
        for block in python_blocks(page):
            exec(compile(block, page, 'exec'), namespace)


def test_readme_quick_start_commands_match_ci():
    with open(os.path.join(ROOT, 'README.md')) as f:
        readme = f.read()
    with open(os.path.join(ROOT, '.ci', 'run')) as f:
        ci = f.read()
    test_command = "python3 -m pip install -e '.[test]' && python3 -m pytest"
    assert test_command in readme
    # CI installs the same way and then runs exactly the README's test command.
    assert "python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'" in ci
    assert ci.strip().splitlines()[-1] == 'python3 -m pytest'
    assert 'python3 -m pip install . && python3 -m refkeras.examples.digits_mlp' in readme
