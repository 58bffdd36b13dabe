"""Timing harness shared by the benchmarks: refkeras against a peer, alternating.

Each round times `repeats` epochs of refkeras in this process (after one
warm-up epoch on a few batches), then runs the peer script once in a
subprocess (it does its own warm-up and prints the median of its `repeats`
epochs as JSON). The figure reported is the median over rounds of the ratio
refkeras / peer, so that slow phases of a noisy machine hit both sides. The
JSON line also gives the epoch's FLOP floor at the GEMM rate measured at the
end of the run (`cpu_floor.py`) and refkeras's epoch as a multiple of it.

The second half serves the GPU benchmarks (`kernel_floors.py`, `gemm_gpu.py`,
`gpu_table.py`): refusing clearly where timings would mean nothing, timing with
CUDA events, and measuring the device's memory bandwidth and float32 rate in
the same run.
"""
import collections
import json
import statistics
import subprocess
import sys
import time
import os

def _shared_bench():
    """The shared benchmark folder beside the checkout (`../shared/bench`), or beside
    the folder holding it (a worktree one level further down)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(here, *(['..'] * up + ['shared', 'bench'])) for up in (2, 3)]
    return next((c for c in candidates if os.path.isdir(c)), candidates[0])


SHARED_BENCH = _shared_bench()


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
    floor, rate = flop_floor(model, len(x))
    result.update({'gemm_gflops': round(rate / 1e9, 1), 'flop_floor_seconds': float('%.4g' % floor),
                   'ratio_to_flop_floor': _against_floor(result['seconds_per_epoch'], floor)})
    if peer_python:
        result.update({'peer': 'tf.keras-2.15', 'peer_seconds_per_epoch': statistics.median(theirs),
                       'peer_rounds': [round(t, 3) for t in theirs],
                       'ratio': statistics.median(ratios),
                       'ratio_rounds': [round(r, 3) for r in ratios]})
        result['peer_ratio_to_flop_floor'] = _against_floor(result['peer_seconds_per_epoch'],
                                                            floor)
    print(json.dumps(result), flush=True)
    return result


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


def profile(workload, build, data, batch_size, rows=15):
    """Times one epoch of refkeras primitive by primitive; prints a JSON line and a table.

    Every primitive's forward and gradient rule runs wrapped in a timer, through
    the tape's implementation table (the hook the accelerator uses); what the
    primitives do not account for is the Python of the tape, the layers and the
    training loop.

    # Arguments
        workload, build, data, batch_size: as `compare`.
        rows: how many of the costliest rules the table lists.
    """
    from refkeras.backend import tape
    from refkeras.backend.registry import REGISTRY
    x, y = data()
    model = build()
    model.fit(x[:batch_size * 4], y[:batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)
    totals = collections.defaultdict(float)
    tape.set_implementation_table({name: _Timed(p, totals) for name, p in REGISTRY.items()})
    try:
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        epoch = time.perf_counter() - start
    finally:
        tape.set_implementation_table(None)
    in_primitives = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    print(json.dumps({'workload': workload, 'impl': 'refkeras', 'profiled_epoch_seconds': epoch,
                      'in_primitives': in_primitives,
                      'by_primitive': {'%s.%s' % k: round(v, 3) for k, v in ranked}}))
    print('%-30s %8s %6s' % ('primitive', 'seconds', 'share'))
    for (name, part), seconds in ranked[:rows]:
        print('%-30s %8.3f %5.1f%%' % ('%s.%s' % (name, part), seconds, 100 * seconds / epoch))
    print('%-30s %8.3f %5.1f%%' % ('(outside primitives)', epoch - in_primitives,
                                   100 * (epoch - in_primitives) / epoch))


def flop_floor(model, samples):
    """The epoch's FLOP floor in seconds (`cpu_floor.py`), at the GEMM rate measured now,
    and that rate (FLOP/s)."""
    import cpu_floor
    rate = cpu_floor.gemm_rate()
    return cpu_floor.training_flops_per_sample(model) * samples / rate, rate


def _against_floor(seconds, floor):
    return round(seconds / floor, 2) if floor else None


def parse_args(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--peer', help='Python interpreter with tensorflow-cpu==2.15.1')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=3)
    return parser.parse_args(argv if argv is not None else sys.argv[1:])


# --- GPU benchmarks: environment checks, device timing, the device's two ceilings ----------
#
# Shared by kernel_floors.py, gemm_gpu.py and gpu_table.py. Nothing here imports
# numba or torch at module import: the CPU benchmarks above must not need them.

SIMULATOR_SMOKE_FLAG = '--simulator-smoke'


def request_simulator_if_smoke(argv=None):
    """With `--simulator-smoke` among the arguments, sets NUMBA_ENABLE_CUDASIM=1 (before
    anything imports numba) and returns True; else returns False."""
    argv = sys.argv[1:] if argv is None else argv
    if SIMULATOR_SMOKE_FLAG in argv:
        os.environ['NUMBA_ENABLE_CUDASIM'] = '1'
        return True
    return False


class Refused(SystemExit):
    """A GPU benchmark refusing to run (exit status 2), with the reason on stderr."""


def refuse(script, reason):
    print('%s: refusing to run: %s' % (script, reason), file=sys.stderr, flush=True)
    raise Refused(2)


def gpu_environment(script, smoke, need_torch=False):
    """Checks that timings would mean something; returns `(numba.cuda, torch or None, info)`.

    # Arguments
        script: name used in the messages.
        smoke: True for a `--simulator-smoke` run: the CUDA simulator is then
            expected (and torch optional), and figures mean nothing.
        need_torch: refuse when PyTorch with CUDA is missing (not in a smoke run).

    # Raises
        Refused (exit status 2): under the simulator without `--simulator-smoke`,
            without a GPU, or without PyTorch when it is needed.
    """
    simulated = os.environ.get('NUMBA_ENABLE_CUDASIM', '0') not in ('', '0')
    if simulated and not smoke:
        refuse(script, 'NUMBA_ENABLE_CUDASIM is set: the simulator runs kernels in Python, so '
               'timings would say nothing about a GPU. Unset it and run on a machine with a '
               'CUDA GPU, or pass %s to check the script itself.' % SIMULATOR_SMOKE_FLAG)
    from accel.device import AccelUnavailableError, require
    try:
        info = require()
    except AccelUnavailableError as err:
        refuse(script, '%s This benchmark needs a CUDA GPU (or %s for a check of the script '
               'under the CUDA simulator, without figures).' % (err, SIMULATOR_SMOKE_FLAG))
    if not smoke and info.kind != 'gpu':
        refuse(script, 'accel runs on %r, not on a GPU.' % info.kind)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and not smoke and not torch.cuda.is_available():
        torch = None
    if torch is None and need_torch and not smoke:
        refuse(script, 'PyTorch with CUDA is needed (it provides the cuBLAS reference): '
               'torch is not installed or sees no GPU.')
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    from numba import cuda
    return cuda, torch, info


def device_seconds(cuda, fn, runs, warmup=2):
    """Seconds per call of `fn` on the device: CUDA events around each call, median of
    `runs` after `warmup` calls. Under the simulator (no device timeline) the host clock
    around a synchronised call is used instead.

    # Returns
        `(median, all_times)`.
    """
    from numba.core import config
    simulated = bool(config.ENABLE_CUDASIM)
    for _ in range(warmup):
        fn()
    cuda.synchronize()
    times = []
    for _ in range(runs):
        if simulated:
            start = time.perf_counter()
            fn()
            cuda.synchronize()
            times.append(time.perf_counter() - start)
        else:
            start, stop = cuda.event(), cuda.event()
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(cuda.event_elapsed_time(start, stop) / 1e3)
    return statistics.median(times), times


def device_attributes(cuda):
    """`(name, compute capability, SM count, SM clock in Hz)` of the current device
    (None for what the device does not report, as under the simulator). The clock is
    the `CLOCK_RATE` attribute (the maximum SM clock, in kHz); where the driver does
    not report it, `nvidia-smi`'s `clocks.max.sm`."""
    dev = cuda.get_current_device()
    name = getattr(dev, 'name', 'CUDA simulator')
    name = name.decode() if isinstance(name, bytes) else str(name)
    cc = tuple(getattr(dev, 'compute_capability', ()) or ())

    def attribute(attr):
        try:
            return getattr(dev, attr, None)
        except Exception:   # an attribute this driver or binding does not know
            return None
    sms = attribute('MULTIPROCESSOR_COUNT')
    clock_khz = attribute('CLOCK_RATE')
    if not clock_khz and cc:
        try:
            out = subprocess.run(['nvidia-smi', '--query-gpu=clocks.max.sm',
                                  '--format=csv,noheader,nounits', '-i', str(dev.id)],
                                 capture_output=True, text=True, timeout=30)
            clock_khz = float(out.stdout.split()[0]) * 1000.0
        except Exception:
            clock_khz = None
    return name, cc, sms, (clock_khz * 1000.0 if clock_khz else None)


def measure_ceilings(cuda, torch, smoke=False, copy_mib=1024, gemm_n=8192, runs=10):
    """The device's two ceilings, measured in this run (METHOD.md, "Two numbers first").

    - bandwidth: a device-to-device copy of `copy_mib` MiB (`cuMemcpyDtoD` through
      Numba), counting the bytes read plus the bytes written;
    - rate: cuBLAS float32 GEMM (n = `gemm_n`, TF32 off) through PyTorch, the
      achievable float32 rate; without PyTorch, the theoretical peak below;
    - peak: the theoretical float32 rate from the device attributes
      (`accel.floors.peak_fp32_rate`: SMs x lanes per SM x 2 x SM clock).

    In a smoke run the sizes are tiny and the figures are placeholders.

    # Returns
        A dict: bandwidth (bytes/s), rate (operations/s), rate_source, peak
        (operations/s or None), device, compute_capability, sms, clock_hz.
    """
    import numpy as np

    from accel import floors
    name, cc, sms, clock = device_attributes(cuda)
    peak = floors.peak_fp32_rate(sms, cc, clock) if sms and clock and cc else None
    n = (1 << 12) if smoke else copy_mib * (1 << 20) // 4
    rng = np.random.default_rng(0)
    src = cuda.to_device(rng.standard_normal(n, dtype=np.float32))
    dst = cuda.device_array(n, np.float32)
    copy_time, _ = device_seconds(cuda, lambda: dst.copy_to_device(src), 3 if smoke else runs)
    bandwidth = 2.0 * n * 4 / copy_time
    result = {'device': name, 'compute_capability': list(cc), 'sms': sms, 'clock_hz': clock,
              'bandwidth': bandwidth, 'peak': peak, 'copy_bytes': 2 * n * 4}
    if torch is not None:
        dev = 'cuda' if torch.cuda.is_available() else 'cpu'
        m = 64 if smoke else gemm_n
        a = torch.randn(m, m, device=dev)
        b = torch.randn(m, m, device=dev)
        times = []
        for i in range(3 + (3 if smoke else runs)):
            if dev == 'cuda':
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                torch.matmul(a, b)
                e.record()
                e.synchronize()
                t = s.elapsed_time(e) / 1e3
            else:
                t0 = time.perf_counter()
                torch.matmul(a, b)
                t = time.perf_counter() - t0
            if i >= 3:
                times.append(t)
        result['rate'] = 2.0 * m ** 3 / statistics.median(times)
        result['rate_source'] = 'cuBLAS SGEMM n=%d via torch %s (TF32 off)' % (m, torch.__version__)
    elif peak is not None:
        result['rate'] = peak
        result['rate_source'] = 'theoretical peak (PyTorch absent: no cuBLAS measurement)'
    else:
        m = 256
        a = rng.standard_normal((m, m), dtype=np.float32)
        start = time.perf_counter()
        a @ a
        result['rate'] = 2.0 * m ** 3 / max(time.perf_counter() - start, 1e-9)
        result['rate_source'] = 'placeholder: NumPy on the host (no GPU, no PyTorch)'
    return result


def describe_ceilings(c):
    """Lines describing `measure_ceilings`' result."""
    lines = ['device: %s (compute capability %s, %s SMs, SM clock %s)'
             % (c['device'], '.'.join(map(str, c['compute_capability'])) or '?',
                c['sms'] or '?', ('%.0f MHz' % (c['clock_hz'] / 1e6)) if c['clock_hz'] else '?'),
             'memory bandwidth: %.0f GB/s (device-to-device copy of %.0f MiB, read + written)'
             % (c['bandwidth'] / 1e9, c['copy_bytes'] / 2 / 2 ** 20),
             'float32 rate: %.2f TFLOP/s (%s)' % (c['rate'] / 1e12, c['rate_source'])]
    if c['peak']:
        lines.append('theoretical float32 peak: %.2f TFLOP/s (SMs x FP32 lanes per SM x 2 x '
                     'clock)' % (c['peak'] / 1e12))
    else:
        lines.append('theoretical float32 peak: unknown for this device')
    return lines
