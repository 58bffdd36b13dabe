"""The `mlp` workload of shared/bench/WORKLOADS.md: refkeras against tf.keras 2.15 on the CPU.

    python benchmarks/bench_mlp.py --peer /tmp/tfpeer/bin/python
    python benchmarks/bench_mlp.py --profile        # where refkeras's time goes

Prints one JSON line with refkeras's median seconds per epoch and, with
`--peer`, the peer's and the median ratio (refkeras / tf.keras; below 1 is faster).
`--profile` times one epoch primitive by primitive (`harness.profile`).
"""
import os
import sys

import refkeras  # noqa: F401 (first: sets OpenBLAS's thread timeout, refkeras/_blas_defaults.py)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import compare, parse_args, profile  # noqa: E402


def data():
    """The seeded synthetic data WORKLOADS.md defines (drawn in its order)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60000, 784)).astype('float32')
    y = np.eye(10, dtype='float32')[rng.integers(0, 10, 60000)]
    return x, y


def build():
    from refkeras import optimizers
    from refkeras.layers import Dense, Dropout
    from refkeras.models import Sequential
    model = Sequential([Dense(512, activation='relu', input_shape=(784,)), Dropout(0.2),
                        Dense(512, activation='relu'), Dropout(0.2),
                        Dense(10, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer=optimizers.RMSprop(lr=0.001),
                  metrics=['accuracy'])
    return model


if __name__ == '__main__':
    if '--profile' in sys.argv:
        profile('mlp', build, data, 128)
        sys.exit(0)
    args = parse_args()
    compare('mlp', build, data, 128, peer_python=args.peer, rounds=args.rounds,
            repeats=args.repeats)
