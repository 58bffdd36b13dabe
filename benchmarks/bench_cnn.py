"""The `cnn` workload of shared/bench/WORKLOADS.md: refkeras against tf.keras 2.15 on the CPU.

    python benchmarks/bench_cnn.py --peer /tmp/tfpeer/bin/python
    python benchmarks/bench_cnn.py --peer /tmp/tfpeer/bin/python --blas-threads 1
    python benchmarks/bench_cnn.py --peer /tmp/tfpeer/bin/python --malloc-defaults
    python benchmarks/bench_cnn.py --profile        # where refkeras's time goes

Prints one JSON line with refkeras's median seconds per epoch and, with
`--peer`, the peer's and the median ratio (refkeras / tf.keras; below 1 is
faster), timed alternately in the same run (see `harness.py`).

`--blas-threads N` sets OPENBLAS_NUM_THREADS for refkeras (the peer keeps its own
thread pools). On a shared machine whose cores are busy with other work, OpenBLAS's
spinning worker threads slow matrix products down badly (a step took 2 to 3 times
longer with 2 threads than with 1 while other processes kept the 2 cores busy), so
the figure is worth taking both ways there.

`--malloc-defaults` keeps glibc's malloc at its own settings: importing refkeras
otherwise tells it to keep freed blocks for reuse (`refkeras/_malloc_defaults.py`),
so that a step's arrays do not start on fresh pages. The flag shows what that
setting is worth; it marks the settings as the user's own choice by setting
`MALLOC_TRIM_THRESHOLD_` to glibc's default before refkeras is imported (glibc
itself read its variables at start-up, so they stay at its defaults), and removes
the variable again before the peer starts.

`--profile` times one epoch primitive by primitive (`harness.profile`).
"""
import json
import os
import sys


def _take_option(name):
    """Removes `name VALUE` from sys.argv (before harness's parser sees it); returns VALUE."""
    if name not in sys.argv:
        return None
    at = sys.argv.index(name)
    value = sys.argv[at + 1]
    del sys.argv[at:at + 2]
    return value


def _take_flag(name):
    """Removes `name` from sys.argv; returns whether it was there."""
    if name not in sys.argv:
        return False
    sys.argv.remove(name)
    return True


#: glibc's default trim threshold (128 KB), the value `--malloc-defaults` names.
GLIBC_TRIM_THRESHOLD = str(128 * 1024)


BLAS_THREADS = _take_option('--blas-threads')
MALLOC_DEFAULTS = _take_flag('--malloc-defaults')
if MALLOC_DEFAULTS and 'MALLOC_TRIM_THRESHOLD_' not in os.environ:
    os.environ['MALLOC_TRIM_THRESHOLD_'] = GLIBC_TRIM_THRESHOLD   # refkeras then leaves malloc
if BLAS_THREADS is not None:   # must happen before NumPy loads OpenBLAS
    os.environ['OPENBLAS_NUM_THREADS'] = BLAS_THREADS

import refkeras  # noqa: E402,F401 (before NumPy: sets OpenBLAS's thread timeout)
import numpy as np  # noqa: E402

if os.environ.get('MALLOC_TRIM_THRESHOLD_') == GLIBC_TRIM_THRESHOLD and MALLOC_DEFAULTS:
    del os.environ['MALLOC_TRIM_THRESHOLD_']   # the peer's process starts as it would

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import compare, parse_args, profile  # noqa: E402

BATCH_SIZE = 128


def data():
    """The seeded synthetic data WORKLOADS.md defines (drawn in its order)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6000, 28, 28, 1)).astype('float32')
    y = np.eye(10, dtype='float32')[rng.integers(0, 10, 6000)]
    return x, y


def build():
    from refkeras import optimizers
    from refkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from refkeras.models import Sequential
    model = Sequential([Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
                        Conv2D(64, (3, 3), activation='relu'), MaxPooling2D((2, 2)),
                        Dropout(0.25), Flatten(), Dense(128, activation='relu'), Dropout(0.5),
                        Dense(10, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer=optimizers.Adadelta(lr=1.0),
                  metrics=['accuracy'])
    return model


if __name__ == '__main__':
    if '--profile' in sys.argv:
        profile('cnn', build, data, BATCH_SIZE)
    else:
        args = parse_args()
        print(json.dumps({'workload': 'cnn', 'refkeras_openblas_threads': BLAS_THREADS or
                          'default', 'malloc_defaults': MALLOC_DEFAULTS}), flush=True)
        compare('cnn', build, data, BATCH_SIZE, peer_python=args.peer, rounds=args.rounds,
                repeats=args.repeats)
