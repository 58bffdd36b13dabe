"""Finding something to run kernels on: a CUDA GPU, or Numba's CUDA simulator.

accel runs on a real CUDA GPU through Numba (`numba-cuda`), or, for testing on
any machine, on Numba's CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`), which runs
the very same kernels in Python threads, slowly. Which one is used is decided
the first time `numba.cuda` is imported in the process, so the simulator must
be requested before that (see `enable_simulator_if_no_gpu`).

When neither is available, `require()` raises `AccelUnavailableError` saying
what is missing.
"""
import ctypes
from importlib import metadata
import importlib.util
import os
import sys

from accel.errors import AccelUnavailableError

__all__ = ['AccelUnavailableError', 'DeviceInfo', 'describe', 'enable_simulator_if_no_gpu',
           'gpu_count', 'gpu_present', 'gpu_usable', 'is_available', 'require',
           'simulator_requested']

_INSTALL_HINT = 'install it with `pip install numba-cuda`'


class DeviceInfo(object):
    """What accel runs on.

    # Arguments
        kind: 'gpu' or 'simulator'.
        name: the device's name ('CUDA simulator' for the simulator).
        compute_capability: `(major, minor)` of the GPU, None for the simulator.
    """

    def __init__(self, kind, name, compute_capability=None):
        self.kind = kind
        self.name = name
        self.compute_capability = compute_capability

    @property
    def is_simulator(self):
        return self.kind == 'simulator'

    def __repr__(self):
        return '<accel device %s: %s>' % (self.kind, self.name)


def simulator_requested():
    """Whether `NUMBA_ENABLE_CUDASIM` asks for the simulator in this process."""
    if 'numba' in sys.modules:
        try:
            # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
            from numba.core import config
            return bool(config.ENABLE_CUDASIM)
        except ImportError:  # pragma: no cover (very old numba)
            pass
    return os.environ.get('NUMBA_ENABLE_CUDASIM', '0') not in ('', '0')


def _numba_cuda_installed():
    """Whether numba and its CUDA target are installed (without importing numba:
    importing it reads NUMBA_ENABLE_CUDASIM once and for all)."""
    if importlib.util.find_spec('numba') is None:
        return False
    if 'numba.cuda' in sys.modules:
        return True
    try:
        metadata.distribution('numba-cuda')
        return True
    except metadata.PackageNotFoundError:
        pass
    # Older numba releases ship numba.cuda inside numba itself.
    origin = importlib.util.find_spec('numba').submodule_search_locations
    return any(os.path.isdir(os.path.join(p, 'cuda')) for p in (origin or []))


def gpu_present():
    """Whether the CUDA driver reports at least one GPU, asked without Numba.

    Respects `CUDA_VISIBLE_DEVICES` (an empty value hides every GPU, as the FAQ
    says for running on the CPU). Safe to call before `numba.cuda` is imported.

    # Returns
        True when `libcuda` loads, initialises and counts one device or more.
    """
    if os.environ.get('CUDA_VISIBLE_DEVICES', None) in ('', '-1'):
        return False
    # The driver's own names (ctypes.util.find_library would add a subprocess
    # to every `import refkeras` on machines without a GPU).
    for name in ('libcuda.so.1', 'libcuda.so', 'nvcuda.dll'):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            if lib.cuInit(0) != 0:
                return False
            count = ctypes.c_int(0)
            if lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
                return False
            return count.value > 0
        except AttributeError:
            return False
    return False


def gpu_usable():
    """Whether accel would run on a real GPU here, asked without importing Numba:
    numba-cuda is installed, the driver shows a GPU (see `gpu_present`) and the
    simulator is not requested. This is refkeras's automatic backend choice."""
    return not simulator_requested() and gpu_present() and _numba_cuda_installed()


def enable_simulator_if_no_gpu():
    """Requests Numba's CUDA simulator when no GPU is present.

    Must run before anything imports `numba.cuda` in this process; afterwards
    the choice is fixed and this only reports it. An explicit
    `NUMBA_ENABLE_CUDASIM=0` (asking for the GPU) is respected: then, without a
    GPU, accel is unavailable and `require()` says why.

    # Returns
        'gpu', 'simulator', or None when numba-cuda is not installed.
    """
    if not _numba_cuda_installed():
        return None
    explicit_gpu = os.environ.get('NUMBA_ENABLE_CUDASIM') == '0'
    if ('numba.cuda' not in sys.modules and not explicit_gpu and not simulator_requested()
            and not gpu_present()):
        os.environ['NUMBA_ENABLE_CUDASIM'] = '1'
        if 'numba.core.config' in sys.modules:
            # numba was imported already and read the variable: read it again
            # (numba.cuda, not yet imported, looks at the config when it is).
            sys.modules['numba.core.config'].reload_config()
    return 'simulator' if simulator_requested() else 'gpu'


_CACHE = {}


def _detect():
    """Returns `(DeviceInfo or None, reason)` for this process."""
    if not _numba_cuda_installed():
        return None, 'numba-cuda is not installed (%s)' % _INSTALL_HINT
    try:
        # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
        from numba import cuda
    except Exception as err:  # pragma: no cover (broken installation)
        return None, 'numba.cuda cannot be imported (%s: %s)' % (type(err).__name__, err)
    if simulator_requested():
        return DeviceInfo('simulator', 'CUDA simulator'), None
    if os.environ.get('CUDA_VISIBLE_DEVICES', None) in ('', '-1'):
        return None, ('no CUDA GPU is visible (CUDA_VISIBLE_DEVICES=%r hides them all) and the '
                      'CUDA simulator is off (set NUMBA_ENABLE_CUDASIM=1 before importing numba '
                      'to run the kernels in Python)' % os.environ['CUDA_VISIBLE_DEVICES'])
    try:
        available = cuda.is_available()
    except Exception as err:  # pragma: no cover
        available, detail = False, '%s: %s' % (type(err).__name__, err)
    else:
        detail = 'the CUDA driver reports no usable GPU'
    if not available:
        return None, ('no usable CUDA GPU (%s) and the CUDA simulator is off (set '
                      'NUMBA_ENABLE_CUDASIM=1 before importing numba to run the kernels in '
                      'Python)' % detail)
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return DeviceInfo('gpu', name, tuple(dev.compute_capability)), None


def describe():
    """The `DeviceInfo` accel would run on, or None (see `require` for why).

    `ACCEL_COMPILE_ONLY=1` (used by `accel.compile_check` only) reports a
    'compile-only' device: kernels can be compiled to PTX, not launched.
    """
    if 'result' not in _CACHE:
        if os.environ.get('ACCEL_COMPILE_ONLY') == '1' and not simulator_requested():
            _CACHE['result'] = (DeviceInfo('compile-only', 'no device: PTX compilation only',
                                           (9, 0)), None)
        else:
            _CACHE['result'] = _detect()
    return _CACHE['result'][0]


def gpu_count():
    """How many devices accel can run on: the visible CUDA GPUs, 1 for the
    simulator (it simulates one device), 0 when accel cannot run."""
    info = describe()
    if info is None or info.kind == 'compile-only':
        return 0
    if info.is_simulator:
        return 1
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba import cuda
    return len(cuda.gpus)


def is_available():
    """Whether accel can run here (a usable GPU, or the simulator requested)."""
    return describe() is not None


def require():
    """The `DeviceInfo` to run on.

    # Raises
        AccelUnavailableError: naming what is missing (numba-cuda, a GPU, the
            simulator switch).
    """
    info = describe()
    if info is None:
        raise AccelUnavailableError('accel cannot run: ' + _CACHE['result'][1] + '.')
    return info
