"""Seconds per epoch of the `mlp` workload on accel, with and without batch prefetching.

    python benchmarks/bench_accel_prefetch.py [--rounds 5] [--repeats 1]

The `mlp` workload of shared/bench/WORKLOADS.md (Dense 512 - Dropout - Dense
512 - Dropout - Dense 10, 60000 x 784 float32, batch 128, RMSprop) runs on
accel on a CUDA GPU. One model is trained throughout; `accel.prefetch.ENABLED`
switches between copying batch i+1 in while step i runs (see
`accel/prefetch.py`) and copying each batch in its own step. Each round times
`repeats` epochs of each setting, alternating which goes first, so that slow
phases of the machine hit both; the figures are the medians over rounds of the
seconds per epoch and of the ratio prefetch / synchronous (below 1: prefetching
is faster).

Before timing, two freshly seeded models train on the same 20 batches, one
per setting, and must end with bit-identical weights (printed as
`identical_weights`); the flags of the copy stream are printed too (1 =
CU_STREAM_NON_BLOCKING, which the overlap needs).

Needs a CUDA GPU: it refuses to run on the CUDA simulator (which runs copies
and kernels one after the other, so there would be nothing to measure) or on a
machine without a GPU, with exit status 2.

Prints one JSON line, then a small table.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

BATCH = 128


def refuse_without_gpu():
    """Exits with status 2 and the reason unless accel would run on a real GPU."""
    from accel import device
    if device.simulator_requested():
        _refuse('NUMBA_ENABLE_CUDASIM is set: the CUDA simulator runs copies and kernels one '
                'after the other, so there is no overlap to measure')
    if not device.gpu_usable():
        _refuse('no usable CUDA GPU here (the CUDA driver reports none, CUDA_VISIBLE_DEVICES '
                'hides them, or numba-cuda is not installed)')
    os.environ['NUMBA_ENABLE_CUDASIM'] = '0'  # an explicit GPU request: no silent simulator
    info = device.describe()
    if info is None or info.kind != 'gpu':
        _refuse('accel cannot use the GPU: %s' % (info,))
    return info


def _refuse(reason):
    sys.stderr.write('bench_accel_prefetch: refusing to run: %s. This benchmark needs a CUDA '
                     'GPU.\n' % reason)
    sys.exit(2)


def copy_stream_flags():
    """The flags of the stream the prefetcher copies on (1: non-blocking)."""
    from accel import prefetch
    from numba.cuda.cudadrv import driver as drv
    stream = prefetch.CudaCopies().new_stream()
    try:
        return int(drv.driver.cuStreamGetFlags(stream.handle))
    except Exception as err:  # report, do not fail the timing
        return '%s: %s' % (type(err).__name__, err)


def epoch_seconds(model, x, y, prefetching):
    from accel import prefetch
    prefetch.ENABLED = prefetching
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return time.perf_counter() - start


def identical_weights(build, x, y):
    """Trains two fresh models on 20 batches, with and without prefetching."""
    from accel import prefetch
    finals = []
    for prefetching in (True, False):
        prefetch.ENABLED = prefetching
        np.random.seed(0)
        model = build()
        model.fit(x[:20 * BATCH], y[:20 * BATCH], batch_size=BATCH, epochs=1, verbose=0,
                  shuffle=True)
        finals.append(model.get_weights())
    return all(np.array_equal(a, b) for a, b in zip(*finals))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--repeats', type=int, default=1, help='epochs per setting per round')
    args = parser.parse_args(argv)
    info = refuse_without_gpu()

    from refkeras import backend as K
    from bench_mlp import build, data
    from accel import prefetch
    x, y = data()
    results = {True: [], False: []}
    ratios = []
    with K.using_backend('numba'):
        flags = copy_stream_flags()
        same = identical_weights(build, x, y)
        np.random.seed(0)
        model = build()
        for prefetching in (True, False):  # warm-up: compiles every kernel of both paths
            prefetch.ENABLED = prefetching
            model.fit(x[:4 * BATCH], y[:4 * BATCH], batch_size=BATCH, epochs=1, verbose=0)
        for r in range(args.rounds):
            order = (True, False) if r % 2 == 0 else (False, True)
            per_round = {}
            for prefetching in order:
                times = [epoch_seconds(model, x, y, prefetching) for _ in range(args.repeats)]
                per_round[prefetching] = statistics.median(times)
                results[prefetching].append(per_round[prefetching])
            ratios.append(per_round[True] / per_round[False])
    prefetch.ENABLED = True
    out = {'workload': 'mlp', 'impl': 'refkeras-accel', 'device': info.name,
           'copy_stream_flags': flags, 'identical_weights': same,
           'prefetch_seconds_per_epoch': statistics.median(results[True]),
           'sync_seconds_per_epoch': statistics.median(results[False]),
           'ratio_prefetch_over_sync': statistics.median(ratios),
           'prefetch_rounds': [round(t, 4) for t in results[True]],
           'sync_rounds': [round(t, 4) for t in results[False]],
           'ratio_rounds': [round(q, 4) for q in ratios]}
    print(json.dumps(out), flush=True)
    print('%-28s %10s' % ('mlp on %s' % info.name, 's/epoch'))
    print('%-28s %10.3f' % ('prefetch', out['prefetch_seconds_per_epoch']))
    print('%-28s %10.3f' % ('synchronous copies', out['sync_seconds_per_epoch']))
    print('%-28s %10.3f' % ('ratio (median of rounds)', out['ratio_prefetch_over_sync']))
    return out


if __name__ == '__main__':
    main()
