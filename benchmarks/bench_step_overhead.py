"""The fixed cost of one training step: µs per `train_on_batch` of a tiny model.

    python benchmarks/bench_step_overhead.py [--peer /tmp/tfpeer/bin/python] [--rounds 5]

A model so small that its arithmetic is nothing (Dense(4) on 4 inputs, batch 8,
SGD, mean squared error) shows what the framework itself costs per step: the
tape, the graph's evaluation, the optimizer's Python, the checks. Three
implementations of the same step, alternating in each round:

- refkeras (`train_on_batch`);
- a plain NumPy loop: the same forward pass, gradient and SGD update written
  out by hand (the floor of any NumPy implementation);
- with `--peer`, tf.keras 2.15 `train_on_batch`, timed in the peer's Python
  (its own warm-up, then the same number of steps), started once per round.

Prints one JSON line: the median µs per step of each and the medians of the
per-round ratios refkeras / NumPy and refkeras / tf.keras.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

BATCH, FEATURES, UNITS, STEPS = 8, 4, 4, 300

PEER_SCRIPT = r'''
import os, sys, time, json
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import numpy as np
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
rng = np.random.default_rng(0)
x = rng.standard_normal((%(batch)d, %(features)d)).astype('float32')
y = rng.standard_normal((%(batch)d, %(units)d)).astype('float32')
model = tf.keras.Sequential([tf.keras.layers.Dense(%(units)d, input_shape=(%(features)d,))])
model.compile(optimizer=tf.keras.optimizers.SGD(0.01), loss='mse')
for _ in range(50):
    model.train_on_batch(x, y)
start = time.perf_counter()
for _ in range(%(steps)d):
    model.train_on_batch(x, y)
print(json.dumps({'us_per_step': 1e6 * (time.perf_counter() - start) / %(steps)d}))
''' % dict(batch=BATCH, features=FEATURES, units=UNITS, steps=STEPS)


def data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((BATCH, FEATURES)).astype('float32'),
            rng.standard_normal((BATCH, UNITS)).astype('float32'))


def refkeras_us(x, y):
    from refkeras import optimizers
    from refkeras.layers import Dense
    from refkeras.models import Sequential
    model = Sequential([Dense(UNITS, input_shape=(FEATURES,))])
    model.compile(optimizer=optimizers.SGD(lr=0.01), loss='mse')
    for _ in range(50):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(STEPS):
        model.train_on_batch(x, y)
    return 1e6 * (time.perf_counter() - start) / STEPS


def numpy_us(x, y):
    """The same step by hand: y_hat = x W + b, loss = mean((y_hat - y)^2), SGD."""
    rng = np.random.default_rng(1)
    w = rng.uniform(-0.5, 0.5, (FEATURES, UNITS)).astype('float32')
    b = np.zeros(UNITS, 'float32')
    lr = np.float32(0.01)

    def step(w, b):
        err = x @ w + b - y
        loss = float(np.mean(err * err))
        g = (2.0 / err.size) * err
        return w - lr * (x.T @ g), b - lr * g.sum(axis=0), loss
    for _ in range(50):
        w, b, _ = step(w, b)
    start = time.perf_counter()
    for _ in range(STEPS):
        w, b, _ = step(w, b)
    return 1e6 * (time.perf_counter() - start) / STEPS


def peer_us(python):
    out = subprocess.run([python, '-c', PEER_SCRIPT], check=True, capture_output=True,
                         text=True)
    line = [text for text in out.stdout.splitlines() if text.startswith('{')][-1]
    return json.loads(line)['us_per_step']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--peer', help='Python interpreter with tensorflow-cpu==2.15.1')
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args(argv)
    x, y = data()
    ours, plain, theirs = [], [], []
    for _ in range(args.rounds):
        ours.append(refkeras_us(x, y))
        plain.append(numpy_us(x, y))
        if args.peer:
            theirs.append(peer_us(args.peer))
    result = {'benchmark': 'step_overhead', 'batch': BATCH, 'steps': STEPS,
              'refkeras_us_per_step': round(statistics.median(ours), 1),
              'numpy_us_per_step': round(statistics.median(plain), 1),
              'ratio_to_numpy': round(statistics.median(a / b for a, b in zip(ours, plain)), 2),
              'refkeras_rounds': [round(t, 1) for t in ours]}
    if theirs:
        result.update({'tf_keras_us_per_step': round(statistics.median(theirs), 1),
                       'ratio_to_tf_keras': round(statistics.median(
                           a / b for a, b in zip(ours, theirs)), 2),
                       'tf_keras_rounds': [round(t, 1) for t in theirs]})
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
