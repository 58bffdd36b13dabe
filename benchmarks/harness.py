"""Timing harness shared by the benchmarks: refkeras against a peer, alternating.

Each round times `repeats` epochs of refkeras in this process (after one
warm-up epoch on a few batches), then runs the peer script once in a
subprocess (it does its own warm-up and prints the median of its `repeats`
epochs as JSON). The figure reported is the median over rounds of the ratio
refkeras / peer, so that slow phases of a noisy machine hit both sides.
"""
import json
import statistics
import subprocess
import sys
import time
import os

SHARED_BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared',
                            'bench')


def time_epochs(model, x, y, batch_size, repeats):
    """Seconds per `fit(..., epochs=1)` pass, `repeats` times."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    return times


def peer_epoch_seconds(python, workload, script=None):
    """Runs the tf.keras baseline script for one workload; returns its median seconds/epoch."""
    script = script or os.path.join(SHARED_BENCH, 'tf_keras_baseline.py')
    out = subprocess.run([python, script, workload], check=True, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith('{')]
    return json.loads(lines[-1])['seconds_per_epoch']


def compare(workload, build, data, batch_size, peer_python=None, rounds=3, repeats=3):
    """Times refkeras (and the peer, alternating) on one workload; prints JSON lines.

    # Arguments
        workload: name from WORKLOADS.md.
        build: function returning a compiled refkeras model.
        data: function returning (x, y).
        batch_size: the workload's batch size.
        peer_python: path of a Python with tf.keras 2.15, or None for refkeras only.
        rounds: alternations; repeats: epochs timed per round.
    """
    x, y = data()
    model = build()
    model.fit(x[:batch_size * 4], y[:batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)
    ours, theirs, ratios = [], [], []
    for _ in range(rounds):
        times = time_epochs(model, x, y, batch_size, repeats)
        ours.append(statistics.median(times))
        if peer_python:
            theirs.append(peer_epoch_seconds(peer_python, workload))
            ratios.append(ours[-1] / theirs[-1])
    result = {'workload': workload, 'impl': 'refkeras', 'seconds_per_epoch': statistics.median(ours),
              'rounds': [round(t, 3) for t in ours]}
    if peer_python:
        result.update({'peer': 'tf.keras-2.15', 'peer_seconds_per_epoch': statistics.median(theirs),
                       'peer_rounds': [round(t, 3) for t in theirs],
                       'ratio': statistics.median(ratios),
                       'ratio_rounds': [round(r, 3) for r in ratios]})
    print(json.dumps(result), flush=True)
    return result


def parse_args(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--peer', help='Python interpreter with tensorflow-cpu==2.15.1')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=3)
    return parser.parse_args(argv if argv is not None else sys.argv[1:])
