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
  its own for the training loops (see `refkeras.engine.feeding`).
"""
from importlib import metadata

ENTRY_POINT_GROUP = 'refkeras.backends'

#: What to install for each backend name this project ships.
INSTALL_HINTS = {'numba': 'pip install "refkeras[accel]"'}


def find(name):
    """The plugin installed for backend `name`, or None.

    # Arguments
        name: a backend name, e.g. 'numba'.
    """
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            return entry.load()
    return None


def missing_plugin_message(name, where):
    """Why backend `name`, asked for by `where`, cannot be used: no plugin."""
    hint = INSTALL_HINTS.get(name, 'install the package that provides it')
    return ('%s asks for the "%s" backend, but no installed package provides it (entry point '
            'group %r; %s).' % (where, name, ENTRY_POINT_GROUP, hint))
