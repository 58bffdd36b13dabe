"""Why the optimizer updates run in pieces and flush subnormals (`refkeras/backend/pieces.py`).

    python benchmarks/bench_elementwise.py

Prints JSON lines, each a ratio of two ways timed alternately in this run
(median of `--rounds` rounds of `--repeats` calls each):

- `rmsprop_pieces`: the RMSprop rule on the `mlp` workload's first kernel
  (784 x 512 float32) on whole arrays against the same rule in pieces of
  `PIECE_ELEMENTS` values (the rule without the subnormal flush, so that only
  the pieces differ);
- `multiply_subnormal`: `0.9 * a` for an array of subnormal float32 values
  against the same for normal values (the slow path that the flush avoids);
- `rmsprop_flush`: the cost of the flush itself, the rule in pieces with and
  without it, on data with no subnormals.
"""
import argparse
import json
import statistics
import time

import numpy as np

from refkeras.backend import pieces


def alternate(first, second, rounds, repeats):
    """Median seconds per call of `first` and `second`, timed in alternating rounds."""
    times = ([], [])
    for _ in range(rounds):
        for fn, into in ((first, times[0]), (second, times[1])):
            fn()
            start = time.perf_counter()
            for _ in range(repeats):
                fn()
            into.append((time.perf_counter() - start) / repeats)
    return statistics.median(times[0]), statistics.median(times[1])


def rmsprop(p, g, a, lr, rho, epsilon=1e-7, flush=False):
    """Keras 2.2.4's RMSprop rule, as `prims_updates.rmsprop_update` computes it."""
    new_a = rho * a + (1. - rho) * np.square(g)
    if flush:
        new_a = pieces.flush_subnormals(new_a)
    return p - lr * g / (np.sqrt(new_a) + epsilon), new_a


def report(name, label_a, seconds_a, label_b, seconds_b):
    print(json.dumps({'benchmark': name, label_a + '_ms': round(seconds_a * 1e3, 4),
                      label_b + '_ms': round(seconds_b * 1e3, 4),
                      'ratio': round(seconds_a / seconds_b, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--repeats', type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal((2, 784, 512)).astype(np.float32)
    a = np.abs(rng.standard_normal((784, 512))).astype(np.float32)
    lr, rho = np.float32(0.001), np.float32(0.9)
    in_pieces = pieces.in_pieces(arrays=3)(rmsprop)

    whole, pieced = alternate(lambda: rmsprop(p, g, a, lr, rho),
                              lambda: in_pieces(p, g, a, lr, rho), args.rounds, args.repeats)
    report('rmsprop_pieces', 'whole', whole, 'pieces', pieced)

    subnormal = np.full(p.size, 1e-39, dtype=np.float32)
    normal = np.full(p.size, 1e-30, dtype=np.float32)
    out = np.empty_like(normal)
    slow, fast = alternate(lambda: np.multiply(subnormal, np.float32(0.9), out=out),
                           lambda: np.multiply(normal, np.float32(0.9), out=out),
                           args.rounds, args.repeats)
    report('multiply_subnormal', 'subnormal', slow, 'normal', fast)

    flushed, plain = alternate(lambda: in_pieces(p, g, a, lr, rho, flush=True),
                               lambda: in_pieces(p, g, a, lr, rho), args.rounds, args.repeats)
    report('rmsprop_flush', 'with_flush', flushed, 'without', plain)


if __name__ == '__main__':
    main()
