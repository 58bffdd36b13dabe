"""The `lstm` workload of ../shared/bench/WORKLOADS.md on refkeras, optionally against tf.keras.

    Embedding(20000, 128, input_length=80) -> LSTM(128, dropout=0.2, recurrent_dropout=0.2)
    -> Dense(1, sigmoid); Adam, binary_crossentropy, accuracy; batch 32;
    x = integers(1, 20000, (2000, 80)), y = integers(0, 2, 2000) as float32 (default_rng(0)).

One epoch is one `fit(..., epochs=1)` over the 2000 samples (63 batches of 80 timesteps).
The figure is the median of `--repeats` epochs after one warm-up fit on 4 batches.

With `--peer PYTHON` (a Python with tensorflow-cpu 2.15 installed, e.g. /tmp/tfpeer/bin/python)
the same workload also runs on tf.keras, built by ../shared/bench/tf_keras_baseline.py, in a
second process kept alive for the whole run; the epochs of the two alternate (refkeras, tf.keras,
refkeras, ...) so that both see the same machine load, and the ratio refkeras / tf.keras of the
medians is printed. With `--profile` one more refkeras epoch runs under cProfile and the
functions taking the most time are printed.

`--blas-threads N` runs refkeras with `OPENBLAS_NUM_THREADS=N` (the script restarts itself with
it set, since OpenBLAS reads it when NumPy is imported; the peer keeps its own threading). The
LSTM's matrix products are small (32 x 128 by 128 x 128 per gate and timestep): on a busy
2-core machine OpenBLAS's worker threads can make them many times slower than one thread.

    python benchmarks/bench_lstm.py --peer /tmp/tfpeer/bin/python --repeats 3

Prints one JSON line per implementation (`workload`, `impl`, `seconds_per_epoch`, `all`) and,
with a peer, one line with the `ratio`.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_BENCH = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'bench'))
sys.path.insert(0, os.path.dirname(HERE))

import refkeras  # noqa: E402 (before NumPy: sets OpenBLAS's thread timeout)
import numpy as np  # noqa: E402

# The peer side: a small loop run by the peer's Python, reading one command per line.
PEER_DRIVER = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
import tf_keras_baseline as baseline
import tensorflow as tf
x, y = baseline.data("lstm")
model, batch_size = baseline.model("lstm")
model.fit(x[:batch_size * 4], y[:batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)
print(json.dumps({"ready": "tf.keras-" + tf.__version__}), flush=True)
for line in sys.stdin:
    if line.strip() != "epoch":
        break
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
'''


def workload_data():
    """The seeded synthetic data of WORKLOADS.md, drawn in the order written."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20000, (2000, 80))
    y = rng.integers(0, 2, 2000).astype('float32')
    return x, y


def refkeras_model():
    from refkeras.layers import LSTM, Dense, Embedding
    from refkeras.models import Sequential
    model = Sequential([Embedding(20000, 128, input_length=80),
                        LSTM(128, dropout=0.2, recurrent_dropout=0.2),
                        Dense(1, activation='sigmoid')])
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
    return model, 32


_THREADS_MARK = 'BENCH_LSTM_SET_BLAS_THREADS'


def restart_with_blas_threads(threads):
    """Re-runs this script with `OPENBLAS_NUM_THREADS` set (read when NumPy loads)."""
    if os.environ.get(_THREADS_MARK) == str(threads):
        return
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), **{_THREADS_MARK: str(threads)})
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


class Peer(object):
    """tf.keras running the workload in another process, one epoch per request."""

    def __init__(self, python):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
        if env.pop(_THREADS_MARK, None):
            env.pop('OPENBLAS_NUM_THREADS', None)
        self.process = subprocess.Popen([python, '-u', '-c', PEER_DRIVER, SHARED_BENCH],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        universal_newlines=True, env=env)
        self.name = self._read()['ready']

    def _read(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError('the tf.keras peer exited (exit code %s)'
                                   % self.process.poll())
            line = line.strip()
            if line.startswith('{'):
                return json.loads(line)

    def epoch(self):
        self.process.stdin.write('epoch\n')
        self.process.stdin.flush()
        return self._read()['seconds']

    def close(self):
        try:
            self.process.stdin.write('stop\n')
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self.process.wait()


def time_epoch(model, x, y, batch_size):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    return time.perf_counter() - start


def report(impl, times):
    median = sorted(times)[len(times) // 2]
    print(json.dumps({'workload': 'lstm', 'impl': impl, 'seconds_per_epoch': round(median, 3),
                      'all': [round(t, 3) for t in times]}), flush=True)
    return median


def profile_epoch(model, x, y, batch_size, top):
    profiler = cProfile.Profile()
    profiler.enable()
    time_epoch(model, x, y, batch_size)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats('tottime').print_stats(top)
    print(out.getvalue())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=3, help='timed epochs (default 3)')
    parser.add_argument('--peer', help='Python with tensorflow-cpu 2.15 to time tf.keras too')
    parser.add_argument('--profile', action='store_true', help='profile one more epoch')
    parser.add_argument('--top', type=int, default=25, help='functions shown by --profile')
    parser.add_argument('--blas-threads', type=int,
                        help='OPENBLAS_NUM_THREADS for refkeras (default: as the environment)')
    args = parser.parse_args(argv)
    if args.blas_threads:
        restart_with_blas_threads(args.blas_threads)

    x, y = workload_data()
    model, batch_size = refkeras_model()
    model.fit(x[:batch_size * 4], y[:batch_size * 4], batch_size=batch_size, epochs=1,
              verbose=0)
    peer = Peer(args.peer) if args.peer else None
    ours, theirs = [], []
    try:
        for _ in range(args.repeats):
            ours.append(time_epoch(model, x, y, batch_size))
            if peer is not None:
                theirs.append(peer.epoch())
    finally:
        if peer is not None:
            peer.close()
    threads = os.environ.get('OPENBLAS_NUM_THREADS', 'default')
    our_median = report('refkeras-%s (OPENBLAS_NUM_THREADS=%s)' % (refkeras.__version__, threads),
                        ours)
    if peer is not None:
        their_median = report(peer.name, theirs)
        print(json.dumps({'workload': 'lstm', 'ratio': round(our_median / their_median, 3),
                          'meaning': 'refkeras seconds per epoch / %s seconds per epoch'
                          % peer.name}), flush=True)
    if args.profile:
        profile_epoch(model, x, y, batch_size, args.top)


if __name__ == '__main__':
    main()
