"""GEMM throughput on the GPU: accel's tiled kernel against cuBLAS (through PyTorch).

For n = 1024, 4096 and 8192 it times `C = A @ B` on n x n float32 matrices,
alternating accel (the tiled shared-memory kernel of `accel/kernels/gemm.py`,
writing into a preallocated output as cuBLAS does here) and `torch.matmul`
(cuBLAS SGEMM, with TF32 disabled so that both do float32 arithmetic), with
CUDA events around each call, and prints the median of several runs as
TFLOP/s (2 n^3 operations per product), the ratio accel / cuBLAS (the issue's
target: at least 50%), and the fraction of the float32 floor
(`accel.floors.gemm`) at the theoretical peak. It also checks that accel's
product is within the K-term float32 bound (`n * eps * |A| @ |B|`) of the exact
product, so that a fast wrong kernel cannot pass.

Usage:
    python benchmarks/gemm_gpu.py [--sizes 1024 4096 8192] [--runs 7] [--json]
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gemm_gpu.py --simulator-smoke

`--json` prints one JSON line per size as well (what `gpu_table.py` reads).
It needs a real CUDA GPU, numba-cuda and PyTorch with CUDA; it refuses to run
(exit status 2) under the CUDA simulator or without a GPU, rather than print
numbers that would mean nothing, except with `--simulator-smoke` (tiny sizes,
PyTorch optional, figures meaningless: a check of the script).
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

SCRIPT = 'gemm_gpu.py'


def accel_matmul():
    """`matmul(a, b, out)` running accel's GEMM kernel into a preallocated output
    (Numba's default allocator calls cuMemAlloc for every new array, which is not
    what is measured here); falls back to the `matmul` primitive if the kernel's
    interface changed."""
    from accel.kernels import gemm
    try:
        def matmul(a, b, out=None):
            return gemm.gemm(gemm.matrix_view(a, ()), gemm.matrix_view(b, ()), (), a.dtype, out=out)
        return matmul, 'kernel %d x %d x %d tile, %d x %d outputs per thread, %d threads' % (
            gemm.BM, gemm.BN, gemm.BK, gemm.TM, gemm.TN, gemm.THREADS)
    except AttributeError:  # pragma: no cover (kernel module reorganised)
        from accel.table import registered
        prim = registered()['matmul']
        return (lambda a, b, out=None: prim.forward(a, b)), 'the matmul primitive'


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    smoke = harness.request_simulator_if_smoke(argv)
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024, 4096, 8192])
    parser.add_argument('--runs', type=int, default=7,
                        help='timed runs per size and implementation (after warm-up)')
    parser.add_argument('--json', action='store_true', help='also print one JSON line per size')
    parser.add_argument('--simulator-smoke', action='store_true',
                        help='tiny sizes under the CUDA simulator: checks the script only')
    args = parser.parse_args(argv)
    cuda, torch, info = harness.gpu_environment(SCRIPT, smoke, need_torch=True)

    import numpy as np

    from accel import arrays, floors

    if smoke:
        args.sizes = [n for n in args.sizes if n <= 64] or [16, 24]
        args.runs = min(args.runs, 2)
        print('SIMULATOR SMOKE RUN: tiny sizes, figures meaningless.')
    matmul, what = accel_matmul()
    name, cc, sms, clock = harness.device_attributes(cuda)
    peak = floors.peak_fp32_rate(sms, cc, clock) if sms and clock and cc else None
    print('device: %s (compute capability %s)' % (name, '.'.join(map(str, cc)) or '?'))
    print('accel GEMM: %s' % what)
    print('cuBLAS via torch %s, TF32 off; median of %d runs after warm-up, alternating'
          % (torch.__version__ if torch is not None else '(absent)', args.runs))
    if peak:
        print('theoretical float32 peak: %.2f TFLOP/s' % (peak / 1e12))
    print()
    header = '%8s %14s %14s %10s %12s %16s' % ('n', 'accel TFLOP/s', 'cuBLAS TFLOP/s', 'ratio',
                                               'of peak', 'max |err|/bound')
    print(header)
    print('-' * len(header))
    rng = np.random.RandomState(0)
    results = []
    for n in args.sizes:
        host_a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        host_b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        a, b = arrays.to_device(host_a), arrays.to_device(host_b)
        ours = matmul(a, b)                    # warm-up (compilation), then the check
        worst = accuracy(torch, host_a, host_b, arrays.to_host(ours))
        accel_times, torch_times = [], []
        if torch is not None:
            dev = 'cuda' if torch.cuda.is_available() else 'cpu'
            ta, tb = torch.from_numpy(host_a).to(dev), torch.from_numpy(host_b).to(dev)
            torch.matmul(ta, tb)
        for _ in range(args.runs):
            accel_times += harness.device_seconds(cuda, lambda: matmul(a, b, ours), 1, 0)[1]
            if torch is not None:
                torch_times.append(torch_seconds(torch, ta, tb))
        flops = 2.0 * n ** 3
        ours_tf = flops / statistics.median(accel_times) / 1e12
        theirs_tf = flops / statistics.median(torch_times) / 1e12 if torch_times else None
        row = {'workload': 'gemm', 'n': n, 'accel_tflops': ours_tf, 'cublas_tflops': theirs_tf,
               'ratio': ours_tf / theirs_tf if theirs_tf else None,
               'of_peak': ours_tf * 1e12 / peak if peak else None,
               'error_over_bound': worst, 'smoke': smoke, 'device': name}
        results.append(row)
        print('%8d %14.2f %14s %10s %12s %16.3g'
              % (n, ours_tf, '%.2f' % theirs_tf if theirs_tf else 'n/a',
                 '%.0f%%' % (100 * row['ratio']) if row['ratio'] else 'n/a',
                 '%.0f%%' % (100 * row['of_peak']) if row['of_peak'] else 'n/a', worst))
        if args.json:
            print(json.dumps(row))
        sys.stdout.flush()
    if any(r['error_over_bound'] > 1 for r in results):
        print('accel GEMM result outside the float32 error bound', file=sys.stderr)
        return 1
    return 0


def torch_seconds(torch, ta, tb):
    """One cuBLAS product timed with CUDA events (host clock without CUDA)."""
    if ta.is_cuda:
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(ta, tb)
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop) / 1e3
    import time
    t = time.perf_counter()
    torch.matmul(ta, tb)
    return time.perf_counter() - t


def accuracy(torch, host_a, host_b, ours):
    """max |ours - exact| / (n eps |A| @ |B|), the exact product in float64."""
    import numpy as np
    n = host_a.shape[1]
    eps = np.finfo(np.float32).eps
    if torch is not None and torch.cuda.is_available():
        ta = torch.from_numpy(host_a).cuda().double()
        tb = torch.from_numpy(host_b).cuda().double()
        bound = n * eps * torch.matmul(ta.abs(), tb.abs())
        err = (torch.from_numpy(ours).cuda().double() - torch.matmul(ta, tb)).abs()
        return float((err / bound).max())
    a, b = host_a.astype(np.float64), host_b.astype(np.float64)
    bound = n * eps * (np.abs(a) @ np.abs(b))
    return float((np.abs(ours - a @ b) / bound).max())


if __name__ == '__main__':
    try:
        sys.exit(main())
    except harness.Refused as stop:
        sys.exit(stop.code)
