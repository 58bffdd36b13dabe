"""Backends other than the reference, found by name: the one seam to accel.

The reference backend ('numpy') is this package. Any other backend is a
*plugin*: an installed package announces it under the entry-point group
`refkeras.backends` (accel's `pyproject.toml` entry: `numba =
"accel.plugin:BACKEND"`), and refkeras loads it only when `keras.json`,
`KERAS_BACKEND` or `using_backend` ask for that name (FAQ: "Where is the
Keras configuration file stored?"). So the reference never imports a
backend's code; a backend imports refkeras.

A plugin is an object with:

- `unavailable_reason()`: None when the backend can run here, otherwise a
  sentence saying what is missing (asked cheaply: no heavy imports);
- `gpu_ready()`: whether 'auto' should pick it (a real GPU is there);
- `gpu_count()`: how many devices it computes on (`multi_gpu_model`);
- `implementation()`: `(table, arrays)` for `tape.set_implementation_table`
  (the primitives' implementations and where tensor values live);
- `batch_feed()`: None to be fed host arrays batch by batch, or a feed of
  its own for the training loops (see `refkeras.engine.feeding`);
- `read_back(values)`: a step's results as host arrays;
- `select_device(local_rank)` and `gradient_staging()`: for a distributed
  job (`refkeras.distributed`), the device a rank computes on and how its
  gradients reach MPI (None: as host arrays).
"""
import importlib
import os
import re
from importlib import metadata

ENTRY_POINT_GROUP = 'refkeras.backends'

#: What to install for each backend name this project ships.
INSTALL_HINTS = {'numba': 'pip install "refkeras[accel]"'}


#: The source checkout's `pyproject.toml`, read when refkeras runs from a
#: checkout that was never installed (no entry points in any metadata).
SOURCE_PYPROJECT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'pyproject.toml')


def find(name):
    """The plugin installed for backend `name`, or None.

    Installed packages announce plugins in their metadata. A source checkout
    run without installing (`PYTHONPATH=.`) has no metadata, so its own
    `pyproject.toml` is read instead: the declaration stays in one place.

    # Arguments
        name: a backend name, e.g. 'numba'.
    """
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            return entry.load()
    target = declared_in_source_checkout().get(name)
    if target is None:
        return None
    module, _, attribute = target.partition(':')
    return getattr(importlib.import_module(module), attribute)


def declared_in_source_checkout(path=SOURCE_PYPROJECT):
    """The `name = "module:attribute"` lines of the checkout's entry-point table
    for `refkeras.backends` (empty when there is no such file or table)."""
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        text = handle.read()
    table = re.search(r'^\[project\.entry-points\."%s"\]\n(.*?)(?:^\[|\Z)'
                      % re.escape(ENTRY_POINT_GROUP), text, re.M | re.S)
    if table is None:
        return {}
    return dict(re.findall(r'^(\w+)\s*=\s*"([\w.]+:\w+)"', table.group(1), re.M))


def missing_plugin_message(name, where):
    """Why backend `name`, asked for by `where`, cannot be used: no plugin."""
    hint = INSTALL_HINTS.get(name, 'install the package that provides it')
    return ('%s asks for the "%s" backend, but no installed package provides it (entry point '
            'group %r; %s).' % (where, name, ENTRY_POINT_GROUP, hint))
