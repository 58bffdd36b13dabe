"""refkeras: a readable NumPy reference implementation of Keras 2.2.4.

Read `docs/reading-guide.md` for where each behaviour of the Keras FAQ lives.
"""
__version__ = '0.1.0'
# The Keras version whose behaviour and file format refkeras implements.
KERAS_VERSION = '2.2.4'

from refkeras._blas_defaults import set_blas_thread_timeout  # noqa: E402

set_blas_thread_timeout()   # before the first NumPy import (see _blas_defaults.py)

from refkeras._malloc_defaults import keep_freed_memory  # noqa: E402

keep_freed_memory()   # a step's arrays reuse the last step's pages (see _malloc_defaults.py)

from refkeras import backend  # noqa: E402,F401
from refkeras import activations, constraints, initializers, layers  # noqa: E402,F401
from refkeras import losses, metrics, models, optimizers, regularizers  # noqa: E402,F401
from refkeras import callbacks, utils  # noqa: E402,F401
from refkeras.engine.input_layer import Input  # noqa: E402,F401
from refkeras.models import Model, Sequential  # noqa: E402,F401
