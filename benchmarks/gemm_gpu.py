"""GEMM throughput on the GPU: accel's tiled kernel against cuBLAS (through PyTorch).

For n = 1024, 4096 and 8192 it times `C = A @ B` on n x n float32 matrices,
alternating accel (`accel`'s `matmul` primitive: the tiled shared-memory
kernel of `accel/kernels/gemm.py`) and `torch.matmul` (cuBLAS SGEMM, with TF32
disabled so that both do float32 arithmetic), with CUDA events around each
call, and prints the median of several runs as TFLOP/s (2 n^3 operations per
product). It also checks that accel's product is within the K-term float32 bound
(`n * eps * |A| @ |B|`) of the exact product. accel's kernel writes into a
preallocated output, as cuBLAS does here.

Usage: `python benchmarks/gemm_gpu.py [--sizes 1024 4096 8192] [--runs 7]`.

It needs a real CUDA GPU, numba-cuda and PyTorch with CUDA; it refuses to run
(exit status 2) under the CUDA simulator or without a GPU, rather than print
numbers that would mean nothing.
"""
import argparse
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def refuse(reason):
    print('gemm_gpu.py: refusing to run: %s' % reason, file=sys.stderr)
    sys.exit(2)


def check_environment():
    """Returns (numba.cuda, torch, device name) or exits with the reason."""
    if os.environ.get('NUMBA_ENABLE_CUDASIM', '0') not in ('', '0'):
        refuse('NUMBA_ENABLE_CUDASIM is set: the simulator runs kernels in Python, so timings '
               'would measure nothing about a GPU. Unset it and run on a machine with a GPU.')
    from accel.device import AccelUnavailableError, require
    try:
        info = require()
    except AccelUnavailableError as err:
        refuse(str(err))
    if info.kind != 'gpu':
        refuse('accel runs on %r, not on a GPU.' % info.kind)
    try:
        import torch
    except ImportError:
        refuse('PyTorch is not installed (it provides the cuBLAS reference): pip install torch.')
    if not torch.cuda.is_available():
        refuse('PyTorch sees no CUDA device (torch.cuda.is_available() is False).')
    from numba import cuda
    return cuda, torch, info


def time_accel(cuda, matmul, a, b, out, runs):
    times = []
    start, stop = cuda.event(), cuda.event()
    for _ in range(runs):
        start.record()
        matmul(a, b, out)
        stop.record()
        stop.synchronize()
        times.append(cuda.event_elapsed_time(start, stop) / 1e3)
    return times


def time_torch(torch, a, b, runs):
    times = []
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(runs):
        start.record()
        torch.matmul(a, b)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / 1e3)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024, 4096, 8192])
    parser.add_argument('--runs', type=int, default=7,
                        help='timed runs per size and implementation (after one warm-up)')
    args = parser.parse_args(argv)
    cuda, torch, info = check_environment()

    import numpy as np

    from accel import arrays
    from accel.kernels import gemm as G

    def matmul(a, b, out=None):
        # The kernel itself, into a preallocated output: Numba's default allocator
        # calls cuMemAlloc for every new array, which is not what is measured here.
        return G.gemm(G.matrix_view(a, ()), G.matrix_view(b, ()), (), a.dtype, out=out)

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision('highest')

    print('device: %s (compute capability %s)'
          % (info.name, '.'.join(map(str, info.compute_capability))))
    print('accel GEMM tile: %d x %d x %d, %d x %d outputs per thread, %d threads per block'
          % (G.BM, G.BN, G.BK, G.TM, G.TN, G.THREADS))
    print('cuBLAS via torch %s, TF32 off; median of %d runs, alternating'
          % (torch.__version__, args.runs))
    print()
    header = '%8s %14s %14s %10s %12s' % ('n', 'accel TFLOP/s', 'cuBLAS TFLOP/s', 'ratio',
                                          'max |err|/bound')
    print(header)
    print('-' * len(header))
    rng = np.random.RandomState(0)
    for n in args.sizes:
        host_a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        host_b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        a, b = arrays.to_device(host_a), arrays.to_device(host_b)
        ta, tb = torch.from_numpy(host_a).cuda(), torch.from_numpy(host_b).cuda()
        # warm-up (compilation, cuBLAS heuristics), then the accuracy check
        ours = matmul(a, b)
        theirs = torch.matmul(ta, tb)
        torch.cuda.synchronize()
        bound = n * np.finfo(np.float32).eps * (
            torch.matmul(ta.abs().double(), tb.abs().double()))
        err = (torch.from_numpy(arrays.to_host(ours)).cuda().double() -
               torch.matmul(ta.double(), tb.double())).abs()
        worst = float((err / bound).max())
        del theirs, bound, err
        accel_times, torch_times = [], []
        for _ in range(args.runs):
            accel_times += time_accel(cuda, matmul, a, b, ours, 1)
            torch_times += time_torch(torch, ta, tb, 1)
        flops = 2.0 * n ** 3
        ours_tf = flops / statistics.median(accel_times) / 1e12
        theirs_tf = flops / statistics.median(torch_times) / 1e12
        print('%8d %14.2f %14.2f %9.0f%% %12.3g' % (n, ours_tf, theirs_tf,
                                                   100 * ours_tf / theirs_tf, worst))
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
