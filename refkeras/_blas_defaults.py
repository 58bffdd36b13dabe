"""How long idle OpenBLAS threads spin: set before NumPy loads OpenBLAS.

After each matrix product, OpenBLAS's worker threads keep spinning, waiting
for the next one, for 2**28 CPU cycles (about a tenth of a second) before
they sleep. refkeras runs much of a training step between products (the
elementwise primitives, the tape, the optimizer's updates) on the main thread
alone. On a quiet machine the spinning saves the workers' wake-up before the
next product; on one whose cores are busy with other work, the spinning
workers take CPU time from the main thread and from the other processes. On
the project's 2-core machine, with one CPU-bound process beside it, an epoch
of the `mlp` workload took 7.5 s with the default and 4.0 s with a timeout of
2**4 cycles, the `cnn` workload 18.7 s and 11.5 s (`benchmarks/bench_mlp.py`,
`bench_cnn.py`, run once with `OPENBLAS_THREAD_TIMEOUT=4` and once without).
A later sweep of the exponent on the mlp (two epochs of 3 each per value):
beside the CPU-bound process 3.8 and 4.0 s at 4, 4.7 to 5.9 s at 18, 6.2 to
7.4 s at 21 to 28; quiet 3.2 and 3.5 s at 4, 2.8 to 3.2 s at 21 to 28. The
short timeout therefore costs about a tenth of a quiet mlp epoch and saves
nearly half of a busy one; no middle value keeps both. A program that runs on
a machine of its own can set the variable to 28 (OpenBLAS's default). The
setting changes no result.

OpenBLAS reads `OPENBLAS_THREAD_TIMEOUT` once, when it is loaded, so importing
refkeras sets it only if NumPy is not imported yet and the variable is not set
already: a program that imports NumPy first, or wants another value, sets the
variable itself (README, "Speed on a shared machine").
"""
import os
import sys

#: The exponent OpenBLAS takes: idle threads spin for 2**4 cycles, then sleep.
THREAD_TIMEOUT = '4'


def set_blas_thread_timeout():
    """Sets `OPENBLAS_THREAD_TIMEOUT` unless NumPy is loaded or the variable is set.

    # Returns
        True if this call set the variable.
    """
    if 'numpy' in sys.modules or 'OPENBLAS_THREAD_TIMEOUT' in os.environ:
        return False
    os.environ['OPENBLAS_THREAD_TIMEOUT'] = THREAD_TIMEOUT
    return True
