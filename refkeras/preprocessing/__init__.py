"""Data preprocessing: `sequence` (padding, skip-grams, time-series windows),
`text` (tokenizing) and `image` (loading and augmenting images; needs Pillow
and SciPy: `pip install refkeras[image]`).

`image` is imported on first use, so `sequence` and `text` work without
Pillow and SciPy.
"""
from refkeras.preprocessing import sequence  # noqa: F401
from refkeras.preprocessing import text  # noqa: F401


def __getattr__(name):
    if name == 'image':
        import importlib
        return importlib.import_module('refkeras.preprocessing.image')
    raise AttributeError("module 'refkeras.preprocessing' has no attribute %r" % name)
