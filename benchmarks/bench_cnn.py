"""The `cnn` workload of shared/bench/WORKLOADS.md: refkeras against tf.keras 2.15 on the CPU.

    python benchmarks/bench_cnn.py --peer /tmp/tfpeer/bin/python
    python benchmarks/bench_cnn.py --peer /tmp/tfpeer/bin/python --blas-threads 1
    python benchmarks/bench_cnn.py --peer /tmp/tfpeer/bin/python --keep-freed-memory
    python benchmarks/bench_cnn.py --profile        # where refkeras's time goes

Prints one JSON line with refkeras's median seconds per epoch and, with
`--peer`, the peer's and the median ratio (refkeras / tf.keras; below 1 is
faster), timed alternately in the same run (see `harness.py`).

`--blas-threads N` sets OPENBLAS_NUM_THREADS for refkeras (the peer keeps its own
thread pools). On a shared machine whose cores are busy with other work, OpenBLAS's
spinning worker threads slow matrix products down badly (a step took 2 to 3 times
longer with 2 threads than with 1 while other processes kept the 2 cores busy), so
the figure is worth taking both ways there.

`--keep-freed-memory` tells glibc's malloc (through `mallopt`) to serve blocks up
to 32 MB from its heap and not to hand freed memory back to the system. By
default it maps large blocks fresh from the kernel and unmaps them on `free`, so
every step's new activations and gradients (10 to 20 MB each here) fault their
pages in again: on the project's machine about 15,000 page faults per training
step, some 15% of refkeras's CPU time spent in the kernel. TensorFlow keeps its
own allocator, so this only brings refkeras's process to the same footing; it
changes no result.

`--profile` times one epoch with every primitive's forward and gradient rule
wrapped in a timer (through the tape's implementation table, the hook the
accelerator uses) and prints the seconds spent in each, the rest of the epoch
being Python overhead of the tape, the layers and the training loop.
"""
import collections
import json
import os
import sys
import time


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


def keep_freed_memory():
    """Makes glibc's malloc keep freed blocks (up to 32 MB) for reuse; see the module doc."""
    import ctypes
    libc = ctypes.CDLL('libc.so.6')
    m_trim_threshold, m_mmap_threshold = -1, -3      # from glibc's malloc.h
    ok = libc.mallopt(m_mmap_threshold, 32 * 2 ** 20) and libc.mallopt(m_trim_threshold, 2 ** 30)
    if not ok:
        raise RuntimeError('mallopt refused the settings.')


BLAS_THREADS = _take_option('--blas-threads')
KEEP_FREED_MEMORY = _take_flag('--keep-freed-memory')
if KEEP_FREED_MEMORY:
    keep_freed_memory()
if BLAS_THREADS is not None:   # must happen before NumPy loads OpenBLAS
    os.environ['OPENBLAS_NUM_THREADS'] = BLAS_THREADS

import refkeras  # noqa: E402,F401 (before NumPy: sets OpenBLAS's thread timeout)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import compare, parse_args  # noqa: E402

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


class _Timed(object):
    """A primitive's forward and gradient rule, timed into `totals`."""

    def __init__(self, prim, totals):
        self.prim = prim
        self.totals = totals

    def forward(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.prim.forward(*args, **kwargs)
        finally:
            self.totals[(self.prim.name, 'forward')] += time.perf_counter() - start

    def grad(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.prim.grad(*args, **kwargs)
        finally:
            self.totals[(self.prim.name, 'gradient')] += time.perf_counter() - start


def profile():
    """Times one epoch primitive by primitive; prints a JSON line and a table."""
    from refkeras.backend import tape
    from refkeras.backend.registry import REGISTRY
    x, y = data()
    model = build()
    model.fit(x[:BATCH_SIZE * 4], y[:BATCH_SIZE * 4], batch_size=BATCH_SIZE, epochs=1, verbose=0)
    totals = collections.defaultdict(float)
    tape.set_implementation_table({name: _Timed(p, totals) for name, p in REGISTRY.items()})
    try:
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        epoch = time.perf_counter() - start
    finally:
        tape.set_implementation_table(None)
    in_primitives = sum(totals.values())
    print(json.dumps({'workload': 'cnn', 'impl': 'refkeras', 'profiled_epoch_seconds': epoch,
                      'in_primitives': in_primitives,
                      'by_primitive': {'%s.%s' % k: round(v, 3) for k, v in
                                       sorted(totals.items(), key=lambda kv: -kv[1])}}))
    print('%-28s %8s %6s' % ('primitive', 'seconds', 'share'))
    for (name, part), seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:15]:
        print('%-28s %8.3f %5.1f%%' % ('%s.%s' % (name, part), seconds, 100 * seconds / epoch))
    print('%-28s %8.3f %5.1f%%' % ('(outside primitives)', epoch - in_primitives,
                                   100 * (epoch - in_primitives) / epoch))


if __name__ == '__main__':
    if '--profile' in sys.argv:
        profile()
    else:
        args = parse_args()
        print(json.dumps({'workload': 'cnn', 'refkeras_openblas_threads': BLAS_THREADS or
                          'default', 'keep_freed_memory': KEEP_FREED_MEMORY}), flush=True)
        compare('cnn', build, data, BATCH_SIZE, peer_python=args.peer, rounds=args.rounds,
                repeats=args.repeats)
