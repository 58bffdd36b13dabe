"""The import graph between refkeras's and accel's parts, and its circles.

Nodes are the parts a reader navigates: `accel`, and refkeras's subpackages
(`refkeras.backend`, `refkeras.engine`, ...), top-level modules
(`refkeras.callbacks`, ...) and the modules of `refkeras.utils` and `refkeras.legacy`. An arrow A -> B means some module of A imports
one of B (at module top or inside a function). The script prints the arrows
into accel from refkeras (the seam: there should be none) and every circle
(a strongly connected group of two or more parts).

    python3 -m tools.import_graph [tree]
"""
import ast
import os
import sys


def part_of(module):
    pieces = module.split('.')
    if pieces[0] == 'accel':
        return 'accel'
    if pieces[0] != 'refkeras':
        return None
    if pieces[1:2] in (['utils'], ['legacy']) and len(pieces) > 2:
        return '.'.join(pieces[:3])   # these mix low and high modules: each its own part
    return '.'.join(pieces[:2]) if len(pieces) > 1 else 'refkeras'


def module_of(root, path):
    relative = os.path.relpath(path, root)[:-3].replace(os.sep, '.')
    return relative[:-len('.__init__')] if relative.endswith('.__init__') else relative


def is_module(root, dotted):
    path = os.path.join(root, *dotted.split('.'))
    return os.path.isdir(path) or os.path.exists(path + '.py')


def imported_modules(root, tree, module):
    """The modules of the tree `module`'s imports name (`from a import b` names
    `a.b` when that is a module, else `a`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join(module.split('.')[:-node.level] + ([base] if base else []))
            for alias in node.names:
                full = '%s.%s' % (base, alias.name)
                yield full if is_module(root, full) else base


def arrows(root):
    """A set of `(from part, to part)` for the tree at `root`."""
    found = set()
    for top in ('refkeras', 'accel'):
        for directory, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(directory, name)
                module = module_of(root, path)
                with open(path) as handle:
                    tree = ast.parse(handle.read())
                source = part_of(module)
                for target in imported_modules(root, tree, module):
                    target_part = part_of(target)
                    if target_part and target_part != source:
                        found.add((source, target_part))
    return found


def circles(edges):
    """Strongly connected groups of two or more parts (Tarjan's algorithm)."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(groups)


def main(argv=None):
    root = (argv or sys.argv[1:] or [os.getcwd()])[0]
    edges = arrows(root)
    into_accel = sorted(a for a, b in edges if b == 'accel' and a != 'accel')
    print('parts: %d, arrows: %d' % (len({p for e in edges for p in e}), len(edges)))
    print('refkeras parts importing accel: %s' % (', '.join(into_accel) or 'none'))
    for group in circles(edges):
        print('circle of %d: %s' % (len(group), ', '.join(group)))
        for a, b in sorted(edges):
            if a in group and b in group:
                print('    %s -> %s' % (a, b))


if __name__ == '__main__':
    main()
