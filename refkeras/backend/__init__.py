"""refkeras's backend: `from refkeras import backend as K`.

The reference backend ('numpy') runs every operation as a NumPy primitive
(`registry.REGISTRY`) and differentiates with a tape (`tape.GradientTape`).
The 'numba' backend (the `accel` package) runs the same primitives as CUDA
kernels on values kept in device memory. Importing this package reads
`keras.json` (FAQ: "Where is the Keras configuration file stored?"; see
`config.py`), which picks the backend; `K.backend()` says which one runs.
Numba is imported only when 'numba' is chosen.
"""
import contextlib as _contextlib

from refkeras.backend import config as _config
from refkeras.backend import plugins as _plugins
from refkeras.backend import prims_array, prims_conv, prims_math, prims_nn  # noqa: F401 (register primitives)
from refkeras.backend import prims_fused, prims_updates  # noqa: F401 (register primitives)
from refkeras.backend import prims_ctc, prims_gru  # noqa: F401 (register primitives)
from refkeras.backend.graph import LEARNING_PHASE  # noqa: F401
from refkeras.backend.ops import *  # noqa: F401,F403
from refkeras.backend.ops_conv import *  # noqa: F401,F403
from refkeras.backend.ops_functional import *  # noqa: F401,F403
from refkeras.backend.ops_ctc import *  # noqa: F401,F403
from refkeras.backend.ops_local import *  # noqa: F401,F403
from refkeras.backend.ops import Function, value_of  # noqa: F401
from refkeras.backend.ops_rnn import *  # noqa: F401,F403
from refkeras.backend.registry import REGISTRY  # noqa: F401
from refkeras.backend.state import (backend, epsilon, floatx, get_uid,  # noqa: F401
                                    image_data_format, normalize_data_format, reset_uids,
                                    set_epsilon, set_floatx, set_image_data_format)
from refkeras.backend.tape import GradientTape  # noqa: F401
from refkeras.backend.tensors import SymbolicTensor, Traced, Variable  # noqa: F401

from refkeras.backend import state as _state  # noqa: E402
from refkeras.backend import tape as _tape  # noqa: E402
from refkeras.backend import tensors as _tensors  # noqa: E402
from refkeras.backend import graph, prims_nn as _nn


def _install(name):
    """Routes the primitives to a backend, which then keeps the new values.

    # Arguments
        name: 'numpy' (the reference) or the name of a backend plugin, such
            as 'numba' (accel; see `plugins.py`).
    """
    plugin = None if name == 'numpy' else _plugins.find(name)
    table, arrays = (None, None) if plugin is None else plugin.implementation()
    _tape.set_implementation_table(table, arrays)
    _state.set_backend(name, plugin)


def batch_feed():
    """How the running backend takes the batches of the training loops: None
    to be handed host arrays batch by batch (the reference), or the backend's
    own feed (accel's prefetcher; see `refkeras.engine.feeding`)."""
    plugin = _state.backend_plugin()
    return None if plugin is None else plugin.batch_feed()


@_contextlib.contextmanager
def using_backend(name):
    """Runs a block with another backend, in this process (refkeras addition).

    Values stay where their backend keeps them: variables created in the block
    (the weights of a model built there) hold device arrays under 'numba' and
    are meant to be used in the block; copy what you need out there
    (`K.get_value`, `get_weights`), since after the block the reference (and
    NumPy) refuse device arrays. Tests use this to compare backends.

    # Arguments
        name: 'numpy', 'numba' or 'auto' (see `config.choose_backend`).

    # Raises
        BackendUnavailableError: for 'numba' where accel cannot run.
    """
    chosen = _config.choose_backend(_config._check_backend(name, 'using_backend'),
                                    'using_backend(%r)' % (name,))
    previous = (_state.backend(), _state.backend_plugin(), _tape.implementation_table(),
                _tensors.backend_arrays())
    _install(chosen)
    try:
        yield
    finally:
        name_before, plugin_before, table, arrays = previous
        _tape.set_implementation_table(table, None if arrays is _tensors.HostArrays else arrays)
        _state.set_backend(name_before, plugin_before)


_loaded, _path = _config.load()
_state.apply_config(_loaded, _path)
if _state.backend() != 'numpy':
    _install(_state.backend())


def clear_session():
    """Resets the name counters, the learning phase and the seeded generators.

    Layers created afterwards are numbered from 1 again (`dense_1`, ...).
    """
    _state.reset_uids()
    graph.reset_learning_phase()
    _nn.reset_seeded_generators()


def __getattr__(name):
    # Keras 2.2.4 code reads the running backend's name as `K._BACKEND`.
    if name == '_BACKEND':
        return _state.backend()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
