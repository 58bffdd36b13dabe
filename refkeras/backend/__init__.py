"""refkeras's backend: `from refkeras import backend as K`.

The reference backend ('numpy') runs every operation as a NumPy primitive
(`registry.REGISTRY`) and differentiates with a tape (`tape.GradientTape`).
Importing this package reads `keras.json` (FAQ: "Where is the Keras
configuration file stored?"; see `config.py`).
"""
from refkeras.backend import config as _config
from refkeras.backend import prims_array, prims_conv, prims_math, prims_nn  # noqa: F401 (register primitives)
from refkeras.backend.graph import LEARNING_PHASE  # noqa: F401
from refkeras.backend.ops import *  # noqa: F401,F403
from refkeras.backend.ops_conv import *  # noqa: F401,F403
from refkeras.backend.ops import Function, value_of  # noqa: F401
from refkeras.backend.ops_rnn import *  # noqa: F401,F403
from refkeras.backend.registry import REGISTRY  # noqa: F401
from refkeras.backend.state import (backend, epsilon, floatx, get_uid,  # noqa: F401
                                    image_data_format, normalize_data_format, reset_uids,
                                    set_epsilon, set_floatx, set_image_data_format)
from refkeras.backend.tape import GradientTape  # noqa: F401
from refkeras.backend.tensors import SymbolicTensor, Traced, Variable  # noqa: F401

_loaded, _path = _config.load()
from refkeras.backend import state as _state  # noqa: E402

_state.apply_config(_loaded, _path)


def clear_session():
    """Resets the name counters, the learning phase and the seeded generators.

    Layers created afterwards are numbered from 1 again (`dense_1`, ...).
    """
    from refkeras.backend import graph, prims_nn as _nn
    _state.reset_uids()
    graph.reset_learning_phase()
    _nn.reset_seeded_generators()
