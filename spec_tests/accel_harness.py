"""What every accel test module does before its tests: choose where kernels run.

```python
from accel_harness import accel_mode_or_skip, fast_simulator_threads

MODE = accel_mode_or_skip()                        # 'gpu' or 'simulator'
_fast_simulator_threads = fast_simulator_threads(MODE)   # an autouse fixture
```

With a CUDA GPU the tests run on it; without one, under Numba's CUDA simulator
(`NUMBA_ENABLE_CUDASIM=1`, set here before Numba reads it). The module is
skipped, saying why, when numba-cuda is not installed, or when
`NUMBA_ENABLE_CUDASIM=0` asks for a GPU that is not there.
"""
import sys

import numpy as np
import pytest

from accel import arrays
from accel.device import AccelUnavailableError, describe, enable_simulator_if_no_gpu, require


def accel_mode_or_skip():
    """'gpu' or 'simulator'; skips the calling test module where accel cannot run."""
    mode = enable_simulator_if_no_gpu()
    if mode is None:
        pytest.skip('numba-cuda is not installed (pip install numba-cuda): accel cannot be '
                    'checked', allow_module_level=True)
    if describe() is None:  # NUMBA_ENABLE_CUDASIM=0 asked for a GPU and there is none
        try:
            require()
        except AccelUnavailableError as err:
            pytest.skip(str(err), allow_module_level=True)
    return mode


def fast_simulator_threads(mode):
    """A module-scoped autouse fixture for the simulator's sake.

    The simulator runs each block's threads as Python threads, and its
    scheduler polls them without sleeping; with Python's default 5 ms thread
    switch interval every barrier waits for that poller's time slice. A 0.1 ms
    interval makes simulated kernels several times faster; it is restored after
    the module. Nothing changes on a GPU.
    """
    @pytest.fixture(autouse=True, scope='module')
    def fixture():
        previous = sys.getswitchinterval()
        if mode == 'simulator':
            sys.setswitchinterval(1e-4)
        yield
        sys.setswitchinterval(previous)
    return fixture


class Transfers(object):
    """Counts host <-> device copies by wrapping accel's two copy functions
    (`copies_in`: the shapes of host arrays copied in; `copies_out`: of device
    arrays copied back)."""

    def __init__(self, monkeypatch):
        self.copies_in, self.copies_out = [], []
        to_device, to_host = arrays.to_device, arrays.to_host

        def counted_to_device(x, dtype=None):
            if not isinstance(x, arrays.DeviceArray):
                self.copies_in.append(np.shape(x))
            return to_device(x, dtype)

        def counted_to_host(x):
            if isinstance(x, arrays.DeviceArray):
                self.copies_out.append(x.shape)
            return to_host(x)
        monkeypatch.setattr(arrays, 'to_device', counted_to_device)
        monkeypatch.setattr(arrays, 'to_host', counted_to_host)

    def reset(self):
        del self.copies_in[:], self.copies_out[:]
