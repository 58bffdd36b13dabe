"""Kernel launches, device allocations and host synchronisations per training step on accel.

    NUMBA_ENABLE_CUDASIM=1 python benchmarks/accel_step_budget.py [--steps 5] [mlp cnn lstm]
    python benchmarks/accel_step_budget.py --full          # on a GPU: the WORKLOADS.md shapes

For each workload of shared/bench/WORKLOADS.md, one model trains for `steps`
equal batches (`fit`, as the CPU benchmarks run it); `accel.budget` counts,
between consecutive `on_batch_begin` calls, what each step asked of the
device: everything the loop does per batch (the step's kernels, the logged
scalars read back, the next batch staged by `accel.prefetch`). The counts are
decided by accel's Python code, not by the device, so the CUDA simulator gives
the same counts as a GPU; under the simulator the layer stacks are narrowed
(the `gpu_table.py` stand-ins: same layers, few units, batch 4), which changes
no count except through sizes (the LSTM's launches grow with its timesteps:
printed per timestep from two sequence lengths).

The predicted GPU time of a step is `launches * LAUNCH_SECONDS` plus the
floors (`accel.floors`) of the workload's matrix products, convolutions and
optimizer updates at the WORKLOADS.md shapes on an H200-class device
(`BANDWIDTH`, `RATE`), whichever shapes were counted: the launch term is
what a whole-step replay (a CUDA graph) or fewer kernels would save. Host
synchronisations are printed as a term of their own (`sync_term_us`, at
`SYNC_SECONDS` each), not added in.

Prints one JSON line per workload, then a table.
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (HERE, os.path.dirname(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402

#: Host-side cost of one kernel launch through numba-cuda, seconds (order of magnitude).
LAUNCH_SECONDS = 5e-6
#: What one host synchronisation costs a step at least (the device drains, the
#: host waits for the copy's round trip; order of magnitude), seconds.
SYNC_SECONDS = 10e-6
#: An H200's HBM bandwidth (bytes/s) and float32 rate without tensor cores (operations/s).
BANDWIDTH = 4.8e12
RATE = 6.0e13

WORKLOADS = ('mlp', 'cnn', 'lstm')


def _batches(x, y, batch, steps):
    """`steps` equal batches of the data (rows repeated as needed)."""
    reps = -(-batch * steps // len(x))
    xs = np.concatenate([x] * reps)[:batch * steps]
    ys = np.concatenate([y] * reps)[:batch * steps]
    return xs, ys


def _tiny_lstm(timesteps):
    """The gpu_table.py LSTM stand-in with `timesteps` steps."""
    from refkeras.layers import LSTM, Dense, Embedding
    from refkeras.models import Sequential
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, (10, timesteps))
    y = rng.integers(0, 2, 10).astype('float32')

    def build():
        m = Sequential([Embedding(30, 4, input_length=timesteps),
                        LSTM(4, dropout=0.2, recurrent_dropout=0.2),
                        Dense(1, activation='sigmoid')])
        m.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
        return m
    return build, x, y, 4


def per_step_counts(build, x, y, batch, steps):
    """Per-step `accel.budget` counts (a list of dicts, one per step) of one `fit` epoch."""
    from accel import budget
    from refkeras import backend as K
    from refkeras.callbacks import Callback

    marks = []

    class Marks(Callback):
        def on_batch_begin(self, batch_index, logs=None):
            marks.append(budget.TOTALS.copy())

        def on_epoch_end(self, epoch, logs=None):
            marks.append(budget.TOTALS.copy())

    xs, ys = _batches(x, y, batch, steps)
    with K.using_backend('numba'):
        model = build()
        model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0, shuffle=False,
                  callbacks=[Marks()])
    return [later.minus(earlier).as_dict() for earlier, later in zip(marks, marks[1:])]


def full_shape_floor_seconds(name):
    """The floor (seconds) of one full-size step's matrix products, convolutions and
    updates (forward and both gradients), on the device of BANDWIDTH and RATE."""
    from accel import floors
    total = floors.ZERO
    if name == 'mlp':
        b, dims = 128, (784, 512, 512, 10)
        for k, n in zip(dims, dims[1:]):
            total += floors.gemm(b, n, k) + floors.gemm(b, k, n) + floors.gemm(k, n, b)
            total += floors.optimizer_update('rmsprop', k * n + n)
    elif name == 'cnn':
        b = 128
        for x_shape, k_shape, o_shape in (((b, 28, 28, 1), (3, 3, 1, 32), (b, 26, 26, 32)),
                                          ((b, 26, 26, 32), (3, 3, 32, 64), (b, 24, 24, 64))):
            total += (floors.conv(x_shape, k_shape, o_shape)
                      + floors.conv_input_grad(x_shape, k_shape, o_shape)
                      + floors.conv_kernel_grad(x_shape, k_shape, o_shape))
        for k, n in ((9216, 128), (128, 10)):
            total += floors.gemm(b, n, k) + floors.gemm(b, k, n) + floors.gemm(k, n, b)
        for size in (9 * 32 + 32, 9 * 32 * 64 + 64, 9216 * 128 + 128, 1290):
            total += floors.optimizer_update('adadelta', size)
    else:
        b, t, units, embed = 32, 80, 128, 128
        # the whole sequence with both dropouts, forward and backward (`lstm_sequence`)
        sizes = dict(time=t, batch=b, input_dim=embed, units=units, input_masks=True,
                     recurrent_masks=True, bias_size=4 * units)
        total += floors.lstm_sequence(**sizes) + floors.lstm_sequence_grad(**sizes)
        parameters = 20000 * 128 + 4 * units * (embed + units + 1) + units + 1
        total += floors.optimizer_update('adam', parameters)
    return total.seconds(BANDWIDTH, RATE)


def steady(counts):
    """Median per-step counts over the steps after the first two (the steady state)."""
    tail = counts[2:] or counts[-1:]
    return {key: statistics.median(step[key] for step in tail) for key in tail[0]}


def report(name, counts, extra=None):
    state = steady(counts)
    floor = full_shape_floor_seconds(name)
    launch_term = state['launches'] * LAUNCH_SECONDS
    row = {'workload': name, 'steady_step': state,
           'steps': [{k: c[k] for k in ('launches', 'allocations', 'host_syncs')}
                     for c in counts],
           'predicted_gpu_step_us': round(1e6 * (launch_term + floor), 1),
           'launch_term_us': round(1e6 * launch_term, 1),
           'sync_term_us': round(1e6 * state['host_syncs'] * SYNC_SECONDS, 1),
           'floor_us_full_shapes': round(1e6 * floor, 1)}
    row.update(extra or {})
    print(json.dumps(row), flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('workloads', nargs='*', default=list(WORKLOADS))
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--full', action='store_true',
                        help='the WORKLOADS.md shapes (for a GPU; very slow in the simulator)')
    args = parser.parse_args(argv)
    import gpu_table
    rows = []
    for name in args.workloads:
        build, x, y, batch = gpu_table.workload(name, tiny=not args.full)
        counts = per_step_counts(build, x, y, batch, args.steps)
        extra = None
        if name == 'lstm' and not args.full:
            # Launches per timestep, from a second sequence length.
            longer = per_step_counts(*_tiny_lstm(10), args.steps)
            per_t = (steady(longer)['launches'] - steady(counts)['launches']) / 5.0
            fixed = steady(counts)['launches'] - 5 * per_t
            extra = {'launches_per_timestep': per_t, 'launches_fixed': fixed,
                     'launches_at_80_timesteps': fixed + 80 * per_t}
            predicted = fixed + 80 * per_t
            extra['predicted_gpu_step_us_80_timesteps'] = round(
                1e6 * (predicted * LAUNCH_SECONDS + full_shape_floor_seconds(name)), 1)
        rows.append(report(name, counts, extra))
    print('\n%-6s %10s %12s %11s %18s' % ('', 'launches', 'allocations', 'host syncs',
                                            'predicted GPU us'))
    for row in rows:
        s = row['steady_step']
        print('%-6s %10d %12d %11d %18.1f' % (row['workload'], s['launches'], s['allocations'],
                                               s['host_syncs'], row.get(
                                                   'predicted_gpu_step_us_80_timesteps',
                                                   row['predicted_gpu_step_us'])))


if __name__ == '__main__':
    main()
