"""One epoch of the `mlp` workload (shared/bench/WORKLOADS.md) at 1 and 2 ranks over MPI.

    python benchmarks/bench_distributed.py [--ranks 1 2] [--samples 60000] [--rounds 2]

For each rank count, starts `mpirun -np N` on this script's worker, which
trains the workload's model (784-512-512-10, RMSprop, global batch 128) for
one epoch on its shard of the data, with `DistributedOptimizer` and the
broadcast callback, after a warm-up on a few batches. The global batch stays
128 at every rank count (strong scaling: each of N ranks takes 128 / N
samples per step), so the work per epoch is the same and

    scaling efficiency at N ranks = T(1) / (N * T(N))

Each rank computes with one BLAS thread, so N ranks use N cores against
one core for one rank. The rank counts alternate, round after round (a
loaded machine slows both sides alike), and the efficiency reported is the
median over rounds of each round's ratio. Prints one JSON line per run
(seconds per epoch, seconds spent in the gradient exchange, bytes per step),
then a summary. docs/distributed.md uses these figures in its cost model.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

GLOBAL_BATCH = 128


def worker(samples, rounds):
    """One rank: times `rounds` epochs; rank 0 prints the medians as JSON."""
    import refkeras.distributed as hvd
    from bench_mlp import build, data
    hvd.init(timeout=600)
    x, y = data()
    x, y = x[:samples], y[:samples]
    model = build()
    model.compile(loss='categorical_crossentropy',
                  optimizer=hvd.DistributedOptimizer(model.optimizer), metrics=['accuracy'])
    x_mine, y_mine = hvd.shard([x, y], GLOBAL_BATCH)
    batch = GLOBAL_BATCH // hvd.size()
    broadcast = hvd.callbacks.BroadcastGlobalVariablesCallback(0)
    model.fit(x_mine[:batch * 4], y_mine[:batch * 4], batch_size=batch, epochs=1, verbose=0,
              shuffle=False, callbacks=[broadcast])
    epochs, exchanges = [], []
    for _ in range(rounds):
        hvd.barrier()
        model.optimizer.reduction_seconds = 0.0
        start = time.perf_counter()
        model.fit(x_mine, y_mine, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        hvd.barrier()
        epochs.append(time.perf_counter() - start)
        exchanges.append(model.optimizer.reduction_seconds)
    if hvd.rank() == 0:
        steps = -(-len(x_mine) // batch)
        print(json.dumps({
            'workload': 'mlp', 'ranks': hvd.size(), 'samples': samples,
            'global_batch': GLOBAL_BATCH, 'steps': steps,
            'seconds_per_epoch': statistics.median(epochs),
            'exchange_seconds_per_epoch': statistics.median(exchanges),
            # One rank exchanges nothing; N ranks each send one buffer of the
            # sample count and all gradients, and receive N - 1 of them.
            'bytes_per_step': model.optimizer.bytes_reduced_per_step,
            'bytes_received_per_step': model.optimizer.bytes_reduced_per_step * (hvd.size() - 1),
            'rounds': [round(t, 3) for t in epochs]}), flush=True)


def launch(ranks, samples, rounds):
    """Runs the worker under `mpirun -np ranks`; returns rank 0's JSON."""
    mpirun = os.path.join(os.path.dirname(sys.executable), 'mpirun')
    if not os.path.exists(mpirun):
        mpirun = 'mpirun'
    env = dict(os.environ, OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MKL_NUM_THREADS='1')
    command = [mpirun, '-np', str(ranks), sys.executable, os.path.abspath(__file__), '--worker',
               '--samples', str(samples), '--rounds', str(rounds)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    line = [line for line in out.stdout.splitlines() if line.startswith('{')][-1]
    print(line, flush=True)
    return json.loads(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ranks', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--samples', type=int, default=60000)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.samples, args.rounds)
    runs = {n: [] for n in args.ranks}
    for _ in range(args.rounds):
        for n in args.ranks:
            runs[n].append(launch(n, args.samples, 1))
    summary = {'workload': 'mlp', 'samples': args.samples, 'cores': os.cpu_count(),
               'rounds': args.rounds, 'seconds_per_epoch': {}, 'exchange_seconds_per_epoch': {},
               'bytes_per_step': {}, 'scaling_efficiency': {}}
    for n, results in runs.items():
        summary['seconds_per_epoch'][n] = statistics.median(r['seconds_per_epoch'] for r in results)
        summary['exchange_seconds_per_epoch'][n] = statistics.median(
            r['exchange_seconds_per_epoch'] for r in results)
        summary['bytes_per_step'][n] = results[0]['bytes_per_step']
        if 1 in runs:
            summary['scaling_efficiency'][n] = round(statistics.median(
                one['seconds_per_epoch'] / (n * r['seconds_per_epoch'])
                for one, r in zip(runs[1], results)), 3)
    print(json.dumps(summary), flush=True)

if __name__ == '__main__':
    main()
