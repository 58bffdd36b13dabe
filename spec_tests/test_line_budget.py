"""Readability as a property (docs/design.md, invariant 8): line budgets.

The reference is meant to be read in a sitting, so its size is a stated
budget, in the spirit of tinygrad's line count: the tape (all of reverse-mode
autodiff) and the registry stay small, and no function of the reference grows
past a length one reads on a screen. A change that needs more must split the
code, or change the budget here, in review, with a reason.

Lines counted are lines of code: not blank, not comments, not docstrings.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Code lines allowed per module.
MODULE_BUDGETS = {
    'refkeras/backend/tape.py': 120,        # reverse-mode autodiff, all of it
    'refkeras/backend/registry.py': 50,     # what a primitive is
    'refkeras/engine/epoch_loop.py': 40,    # the loop fit and fit_generator share
}

#: Lines allowed in one function's body (its docstring aside), by area.
FUNCTION_BUDGETS = [
    ('refkeras/backend/', 50),
    ('refkeras/engine/', 60),
    ('refkeras/layers/', 60),
    ('refkeras/', 80),   # the rest, e.g. the applications' model builders
]


def _docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(source, first=1, last=None, docstrings=None):
    """Lines of code of `source` between `first` and `last` (1-based, inclusive)."""
    docstrings = _docstring_lines(ast.parse(source)) if docstrings is None else docstrings
    lines = source.split('\n')
    last = len(lines) if last is None else last
    return sum(1 for number in range(first, last + 1)
               if number not in docstrings and lines[number - 1].strip() and
               not lines[number - 1].strip().startswith('#'))


def function_lengths(source):
    """`(name, first line, code lines of the body)` for every function in `source`."""
    tree = ast.parse(source)
    docstrings = _docstring_lines(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, code_lines(source, node.body[0].lineno, node.end_lineno,
                                                     docstrings)


def reference_files():
    """`(path relative to the repository, source)` of every module of the reference."""
    for directory, _, files in os.walk(os.path.join(ROOT, 'refkeras')):
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                with open(path) as handle:
                    yield os.path.relpath(path, ROOT).replace(os.sep, '/'), handle.read()


def budget_for(relative_path):
    return next(limit for prefix, limit in FUNCTION_BUDGETS if relative_path.startswith(prefix))


@pytest.mark.parametrize('relative_path', sorted(MODULE_BUDGETS))
def test_the_core_modules_stay_within_their_line_budgets(relative_path):
    with open(os.path.join(ROOT, relative_path)) as handle:
        count = code_lines(handle.read())
    assert count <= MODULE_BUDGETS[relative_path], (
        '%s has %d lines of code; its budget is %d' % (relative_path, count,
                                                       MODULE_BUDGETS[relative_path]))


def test_no_reference_function_is_longer_than_its_areas_budget():
    too_long = ['%s:%d %s (%d lines, budget %d)' % (relative, line, name, length,
                                                     budget_for(relative))
                for relative, source in reference_files()
                for name, line, length in function_lengths(source)
                if length > budget_for(relative)]
    assert not too_long, 'functions over budget:\n' + '\n'.join(too_long)


def test_the_counter_counts_code_not_comments_or_docstrings():
    source = ('def f(x):\n'
              '    """Doc.\n\n    More doc.\n    """\n'
              '    # a comment\n'
              '\n'
              '    y = x + 1\n'
              '    return y\n')
    assert code_lines(source) == 3  # def, y = ..., return
    assert list(function_lengths(source)) == [('f', 1, 2)]
