"""Issue 7's GPU benchmarks in one run, printed as one table.

Rows:
- `gemm`: float32 GEMM TFLOP/s for n = 1024, 4096, 8192, accel's tiled kernel
  against cuBLAS through PyTorch (TF32 off), alternating, CUDA events
  (`gemm_gpu.py`, run as a subprocess); target: accel >= 50% of cuBLAS.
- `mlp`, `cnn`, `lstm`: seconds per epoch of the workloads of WORKLOADS.md
  (exactly its models, data, batch sizes and optimizers) on
  accel (refkeras with the numba backend, on the GPU),
  the reference (refkeras with the numpy backend, on the device's CPU) and
  PyTorch eager on the GPU (`torch_gpu_baseline.py` of shared/bench, its own
  data, model and epoch functions);
  ratios accel / PyTorch (target <= 2) and reference / accel.

Each implementation runs in its own worker process, started once per workload,
all workers of the run together (so compilation and data generation happen
once, in parallel, and all are done before the first timed epoch), warmed up by one
`fit` over 4 batches plus a batch of the epoch's last, partial size, then asked
for one epoch at a time: the rounds alternate (accel, PyTorch, reference; the
order rotates each round), and each figure is the median of `--rounds` epochs
(at least 3 for a reported figure, as WORKLOADS.md says). Ratios are the medians
of the per-round ratios.

    python benchmarks/gpu_table.py                          # everything
    python benchmarks/gpu_table.py --rows gemm mlp --rounds 5
    python benchmarks/gpu_table.py --reference-fraction cnn=0.25 mlp=0.2
    python benchmarks/gpu_table.py --json $OUT/gpu_table.json
    python benchmarks/gpu_table.py --simulator-smoke        # checks the script, no GPU

`--reference-fraction W=F` times the reference's epoch of workload W on the
first F of its samples and scales the time by the inverse (the epoch's work is
proportional to its batches); the table says so when it is used.
`--budget SECONDS` (default 540) stops starting new rounds once the run would
pass it, so that a run fits the device's 10-minute limit per command; a figure
with fewer than 3 rounds is marked.

Without a GPU (or under NUMBA_ENABLE_CUDASIM=1) it refuses with exit status 2,
except with `--simulator-smoke`: tiny models and data under the CUDA simulator,
one round, PyTorch only if installed; the figures mean nothing.
See docs/accel-benchmarks.md for the exact command on the lent GPU machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

SCRIPT = 'gpu_table.py'
WORKLOADS = ('mlp', 'cnn', 'lstm')
IMPLS = ('accel', 'torch', 'reference')
IMPL_TITLES = {'accel': 'accel (GPU)', 'torch': 'PyTorch (GPU)', 'reference': 'reference (CPU)'}
#: Where the PyTorch peer may be: beside the checkout (a developer's machine), or
#: carried inside it (the lent GPU machine; see docs/accel-benchmarks.md).
BASELINE_CANDIDATES = (os.path.join(ROOT, '..', 'shared', 'bench', 'torch_gpu_baseline.py'),
                       os.path.join(ROOT, 'shared', 'bench', 'torch_gpu_baseline.py'),
                       os.path.join(ROOT, 'build', 'shared_bench', 'torch_gpu_baseline.py'))


# --- the workloads (WORKLOADS.md), and tiny stand-ins for the simulator smoke ----------------

def workload(name, tiny):
    """`(build, x, y, batch_size)` for workload `name` on refkeras.

    Full size: the models and data of WORKLOADS.md, from the CPU benchmarks
    (`bench_mlp.py`, `bench_cnn.py`, `bench_lstm.py`), so that every benchmark
    times the same thing. Tiny: the same layer stacks, narrowed, on 10 samples.
    """
    if not tiny:
        if name == 'mlp':
            import bench_mlp
            x, y = bench_mlp.data()
            return bench_mlp.build, x, y, 128
        if name == 'cnn':
            import bench_cnn
            x, y = bench_cnn.data()
            return bench_cnn.build, x, y, bench_cnn.BATCH_SIZE
        import bench_lstm
        x, y = bench_lstm.workload_data()
        return (lambda: bench_lstm.refkeras_model()[0]), x, y, 32
    import numpy as np

    from refkeras import optimizers
    from refkeras.layers import (LSTM, Conv2D, Dense, Dropout, Embedding, Flatten,
                                 MaxPooling2D)
    from refkeras.models import Sequential
    rng = np.random.default_rng(0)
    n = 10
    if name == 'mlp':
        x = rng.standard_normal((n, 12)).astype('float32')
        y = np.eye(10, dtype='float32')[rng.integers(0, 10, n)]

        def build():
            m = Sequential([Dense(8, activation='relu', input_shape=(12,)), Dropout(0.2),
                            Dense(8, activation='relu'), Dropout(0.2),
                            Dense(10, activation='softmax')])
            m.compile(loss='categorical_crossentropy', optimizer=optimizers.RMSprop(lr=0.001),
                      metrics=['accuracy'])
            return m
        return build, x, y, 4
    if name == 'cnn':
        x = rng.standard_normal((n, 8, 8, 1)).astype('float32')
        y = np.eye(10, dtype='float32')[rng.integers(0, 10, n)]

        def build():
            m = Sequential([Conv2D(2, (3, 3), activation='relu', input_shape=(8, 8, 1)),
                            Conv2D(3, (3, 3), activation='relu'), MaxPooling2D((2, 2)),
                            Dropout(0.25), Flatten(), Dense(4, activation='relu'), Dropout(0.5),
                            Dense(10, activation='softmax')])
            m.compile(loss='categorical_crossentropy', optimizer=optimizers.Adadelta(lr=1.0),
                      metrics=['accuracy'])
            return m
        return build, x, y, 4
    x = rng.integers(1, 30, (n, 5))
    y = rng.integers(0, 2, n).astype('float32')

    def build():
        m = Sequential([Embedding(30, 4, input_length=5),
                        LSTM(4, dropout=0.2, recurrent_dropout=0.2),
                        Dense(1, activation='sigmoid')])
        m.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
        return m
    return build, x, y, 4


def warmup_slice(n, batch_size):
    """Samples of the warm-up fit: 4 full batches and one of the epoch's last size."""
    return min(n, 4 * batch_size + (n % batch_size))


# --- worker processes ---------------------------------------------------------------------

def _emit(obj):
    print(json.dumps(obj), flush=True)


def refkeras_worker(impl, name, tiny, fraction):
    """Serves epochs of workload `name` on refkeras (accel or the reference backend)."""
    build, x, y, bs = workload(name, tiny)
    n = len(x)
    timed = n
    if fraction < 1.0:
        timed = max(bs, int(round(n * fraction / bs)) * bs)
    scale = n / float(timed)
    from refkeras import backend as K
    model = build()
    w = warmup_slice(n, bs)
    model.fit(x[:w], y[:w], batch_size=bs, epochs=1, verbose=0)
    sync = _accel_sync() if impl == 'accel' else (lambda: None)
    sync()
    _emit({'ready': impl, 'backend': K.backend(), 'samples': n, 'samples_timed': timed,
           'scale': scale})
    xs, ys = x[:timed], y[:timed]
    for line in sys.stdin:
        if line.strip() != 'epoch':
            break
        start = time.perf_counter()
        model.fit(xs, ys, batch_size=bs, epochs=1, verbose=0)
        sync()
        raw = time.perf_counter() - start
        _emit({'seconds': raw * scale, 'raw_seconds': raw})


def _accel_sync():
    from numba import cuda

    def sync():
        cuda.synchronize()
    return sync


def torch_worker(name, tiny, baseline):
    """Serves epochs of workload `name` on PyTorch, with the baseline script's own
    data, model and epoch functions (its `train` without its own timing loop)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(baseline)))
    import torch
    import torch_gpu_baseline as B
    xs, ys = B.data(name)
    m, opt, loss_fn, bs = B.model(name)
    if tiny:
        xs, ys = xs[:2 * bs + 2], ys[:2 * bs + 2]
    m.to(B.dev)
    x = torch.as_tensor(xs, device=B.dev)
    if name == 'cnn':
        x = x.permute(0, 3, 1, 2).contiguous()
    y = torch.as_tensor(ys, device=B.dev)
    w = warmup_slice(len(x), bs)
    B.epoch(m, opt, loss_fn, x[:w], y[:w], bs)
    _emit({'ready': 'torch', 'backend': 'torch-%s-%s' % (torch.__version__, B.dev.type),
           'samples': len(x), 'samples_timed': len(x), 'scale': 1.0})
    for line in sys.stdin:
        if line.strip() != 'epoch':
            break
        start = time.perf_counter()
        B.epoch(m, opt, loss_fn, x, y, bs)    # ends with a device synchronisation
        raw = time.perf_counter() - start
        _emit({'seconds': raw, 'raw_seconds': raw})


class Worker(object):
    """One implementation of one workload in its own process, an epoch per request."""

    def __init__(self, impl, name, args):
        self.impl = impl
        self.name = name
        env = dict(os.environ, PYTHONUNBUFFERED='1', TF_CPP_MIN_LOG_LEVEL='3')
        cmd = [sys.executable, '-u', os.path.abspath(__file__), '--worker', impl, name]
        if args.simulator_smoke:
            cmd.append('--simulator-smoke')
        if impl == 'accel':
            env['KERAS_BACKEND'] = 'numba'
        elif impl == 'reference':
            env['KERAS_BACKEND'] = 'numpy'
            env['CUDA_VISIBLE_DEVICES'] = ''
            env.pop('NUMBA_ENABLE_CUDASIM', None)
            cmd += ['--fraction', str(args.fractions.get(name, 1.0))]
        else:
            cmd += ['--torch-baseline', args.torch_baseline]
        self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        universal_newlines=True, env=env, cwd=ROOT)
        self.info = None

    def _read(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError('the %s worker for %s exited (status %s); see its messages '
                                   'above' % (self.impl, self.name, self.process.wait()))
            line = line.strip()
            if line.startswith('{'):
                return json.loads(line)

    def ready(self):
        """Waits for the worker's 'ready' line (after its warm-up); returns it."""
        if self.info is None:
            self.info = self._read()
        return self.info

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
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the run --------------------------------------------------------------------------

def run_gemm(args, log):
    """Runs gemm_gpu.py in a subprocess; returns its JSON rows."""
    cmd = [sys.executable, '-u', os.path.join(HERE, 'gemm_gpu.py'), '--json',
           '--runs', str(args.gemm_runs), '--sizes'] + [str(n) for n in args.sizes]
    if args.simulator_smoke:
        cmd.append('--simulator-smoke')
    out = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True, cwd=ROOT)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith('{')]
    for line in out.stdout.splitlines():
        if not line.startswith('{'):
            log('  gemm_gpu: ' + line)
    if out.returncode != 0:
        log('gemm_gpu.py exited with status %d' % out.returncode)
    return rows


def start_workers(names, impls, args, log):
    """Starts every worker of every workload at once (compilation, data generation and
    warm-up overlap), and waits until all are ready, so that no warm-up runs while
    another workload is being timed. Returns `{workload: [Worker, ...]}`."""
    workers = {name: [Worker(impl, name, args) for impl in impls] for name in names}
    for name in names:
        for w in workers[name]:
            w.info = w.ready()
            log('  %s %s ready: %s' % (name, w.impl, json.dumps(w.info)))
    return workers


def run_workload(name, workers, args, started, log):
    """Times the implementations of one workload, alternating; returns a result dict."""
    try:
        info = {w.impl: w.info for w in workers}
        times = {w.impl: [] for w in workers}
        elapsed_round = 0.0
        for r in range(args.rounds):
            elapsed = time.perf_counter() - started
            if r and elapsed + (elapsed_round * 1.2) > args.budget:
                log('  %s: stopping after %d round(s): the budget of %d s would be passed'
                    % (name, r, args.budget))
                break
            round_start = time.perf_counter()
            order = workers[r % len(workers):] + workers[:r % len(workers)]
            for w in order:
                t = w.epoch()
                times[w.impl].append(t)
                log('  %s round %d %s: %.3f s/epoch' % (name, r + 1, w.impl, t))
            elapsed_round = time.perf_counter() - round_start
    finally:
        for w in workers:
            w.close()
    return {'workload': name, 'times': times, 'info': info}


def _median(values):
    return statistics.median(values) if values else None


def _ratio_median(a, b):
    pairs = [x / y for x, y in zip(a, b) if y]
    return statistics.median(pairs) if pairs else None


def print_table(gemm_rows, results, args, ceil_info):
    """The one table."""
    cols = ('figure', 'accel', 'PyTorch', 'reference', 'accel/PyTorch', 'ref/accel', 'target')
    # GEMM rows: the PyTorch column is cuBLAS SGEMM through PyTorch
    fmt = '%-22s %10s %10s %10s %14s %10s  %s'
    lines = [fmt % cols, '-' * 104]
    for row in gemm_rows:
        ratio = row.get('ratio')
        lines.append(fmt % ('gemm n=%d TFLOP/s' % row['n'], '%.2f' % row['accel_tflops'],
                            '%.2f' % row['cublas_tflops'] if row.get('cublas_tflops') else 'n/a',
                            '-', '%.0f%%' % (100 * ratio) if ratio else 'n/a', '-',
                            'accel >= 50% of cuBLAS' + ('' if not ratio or args.simulator_smoke else
                                                        (' (met)' if ratio >= 0.5
                                                         else ' (NOT met)'))))
    notes = []
    for res in results:
        t = res['times']
        med = {impl: _median(t.get(impl, [])) for impl in IMPLS}
        a_t = _ratio_median(t.get('accel', []), t.get('torch', []))
        r_a = _ratio_median(t.get('reference', []), t.get('accel', []))
        rounds = min(len(v) for v in t.values()) if t else 0
        label = '%s s/epoch%s' % (res['workload'], '' if rounds >= 3 or args.simulator_smoke
                                  else ' (%d rnd)' % rounds)
        lines.append(fmt % (label, *['%.3f' % med[i] if med[i] else '-' for i in IMPLS],
                            '%.3gx' % a_t if a_t else '-', '%.3gx' % r_a if r_a else '-',
                            'accel/PyTorch <= 2' + ('' if not a_t or args.simulator_smoke else
                                                    (' (met)' if a_t <= 2 else ' (NOT met)'))))
        ref = res['info'].get('reference')
        if ref and ref.get('scale', 1.0) != 1.0:
            notes.append('%s reference: timed on %d of %d samples per epoch, scaled by %.2f'
                         % (res['workload'], ref['samples_timed'], ref['samples'], ref['scale']))
    print()
    if args.simulator_smoke:
        print('SIMULATOR SMOKE RUN: tiny models under the CUDA simulator; these figures check '
              'the script and mean nothing.')
    print('GPU benchmarks (issue 7), one run: %s' % ceil_info)
    for line in lines:
        print(line)
    print('seconds per epoch: median of %d alternating rounds after a warm-up fit, each '
          'implementation in its own process; ratios: medians of the per-round ratios'
          % args.rounds)
    for note in notes:
        print('note: ' + note)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', nargs='+', default=['gemm'] + list(WORKLOADS),
                        choices=['gemm'] + list(WORKLOADS))
    parser.add_argument('--impls', nargs='+', default=list(IMPLS), choices=IMPLS,
                        help='implementations of the workload rows')
    parser.add_argument('--rounds', type=int, default=3, help='timed epochs per implementation')
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024, 4096, 8192])
    parser.add_argument('--gemm-runs', type=int, default=7)
    parser.add_argument('--reference-fraction', nargs='+', default=[], metavar='W=F',
                        help='time the reference on a fraction F of workload W\'s samples')
    parser.add_argument('--torch-baseline', help='path of torch_gpu_baseline.py')
    parser.add_argument('--budget', type=float, default=540.0,
                        help='seconds after which no new round starts')
    parser.add_argument('--json', metavar='PATH', help='also write the results here')
    parser.add_argument('--simulator-smoke', action='store_true')
    parser.add_argument('--worker', nargs=2, metavar=('IMPL', 'WORKLOAD'), help=argparse.SUPPRESS)
    parser.add_argument('--fraction', type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.fractions = {}
    for item in args.reference_fraction:
        w, _, f = item.partition('=')
        if w not in WORKLOADS or not f:
            parser.error('--reference-fraction takes WORKLOAD=FRACTION with WORKLOAD in %s; '
                         'received %r' % (', '.join(WORKLOADS), item))
        args.fractions[w] = float(f)
        if not 0 < args.fractions[w] <= 1:
            parser.error('--reference-fraction: the fraction must be in (0, 1]; received %r'
                         % item)
    if args.torch_baseline is None:
        found = [p for p in BASELINE_CANDIDATES if os.path.exists(p)]
        args.torch_baseline = os.path.normpath(found[0]) if found else None
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    smoke = harness.request_simulator_if_smoke(argv)
    args = parse_args(argv)
    if args.worker:
        impl, name = args.worker
        if impl == 'torch':
            torch_worker(name, smoke, args.torch_baseline)
        else:
            if impl == 'reference':
                os.environ.pop('NUMBA_ENABLE_CUDASIM', None)
            refkeras_worker(impl, name, smoke, args.fraction)
        return 0
    started = time.perf_counter()
    cuda, torch, info = harness.gpu_environment(SCRIPT, smoke, need_torch='torch' in args.impls)
    if smoke:
        args.rounds, args.sizes, args.gemm_runs = 1, [16], 2
        print('SIMULATOR SMOKE RUN: tiny models under the CUDA simulator, one round.')
    impls = list(args.impls)
    if 'torch' in impls and (torch is None or args.torch_baseline is None):
        if not smoke:
            harness.refuse(SCRIPT, 'torch_gpu_baseline.py was not found (looked in %s); pass '
                           '--torch-baseline PATH' % ', '.join(BASELINE_CANDIDATES))
        print('PyTorch or its baseline script is missing here: the PyTorch column stays empty '
              'in this smoke run.')
        impls.remove('torch')
    name, cc, sms, clock = harness.device_attributes(cuda)
    ceil_info = '%s (compute capability %s), %d CPU cores' % (
        name, '.'.join(map(str, cc)) or '?', os.cpu_count() or 0)
    del cuda  # the workers and gemm_gpu.py own the device from here on

    def log(text):
        print(text, flush=True)

    gemm_rows, results = [], []
    if 'gemm' in args.rows:
        log('gemm: accel vs cuBLAS, n = %s' % ', '.join(map(str, args.sizes)))
        gemm_rows = run_gemm(args, log)
    names = [w for w in WORKLOADS if w in args.rows]
    if names:
        log('starting the workers: %s x %s' % (', '.join(names), ', '.join(impls)))
        workers = start_workers(names, impls, args, log)
        try:
            for w in names:
                log('%s: %s, %d round(s)' % (w, ', '.join(impls), args.rounds))
                results.append(run_workload(w, workers.pop(w), args, started, log))
        finally:
            for rest in workers.values():
                for worker in rest:
                    worker.close()
    print_table(gemm_rows, results, args, ceil_info)
    print('wall time of the run: %.0f s' % (time.perf_counter() - started))
    if args.json:
        with open(args.json, 'w') as fh:
            json.dump({'device': ceil_info, 'smoke': smoke, 'gemm': gemm_rows,
                       'workloads': results, 'rounds': args.rounds,
                       'reference_fractions': args.fractions}, fh, indent=1)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except harness.Refused as stop:
        sys.exit(stop.code)
