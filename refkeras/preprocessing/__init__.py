"""Data preprocessing: `sequence` (padding, skip-grams, time-series windows),
`text` (tokenizing) and `image` (loading and augmenting images).

`image` needs Pillow and SciPy (`pip install refkeras[image]`) only when an
image is read, written or transformed, so all three import without them.
"""
from refkeras.preprocessing import image  # noqa: F401
from refkeras.preprocessing import sequence  # noqa: F401
from refkeras.preprocessing import text  # noqa: F401
