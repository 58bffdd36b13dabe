"""A CPU workload's FLOP floor: its matrix-product work at the machine's matrix-product rate.

Issue 17 asks for the cnn within twice its FLOP floor. The floor of one epoch
is the floating-point work that no implementation can skip, the matrix
products of its Dense and convolution layers (forward, kernel gradient and
input gradient), done at the best rate this machine's BLAS reaches, measured
in the same run:

    floor_seconds = training_flops_per_sample(model) * samples / gemm_rate()

Everything else an epoch does (activations, pooling, dropout, the optimizer,
the framework) costs nothing in this floor, so it is a lower bound that even
a perfect implementation only approaches.
"""
import time

import numpy as np


def gemm_rate(n=2048, repeats=5, dtype='float32'):
    """The machine's float32 matrix-product rate through NumPy, in FLOP/s.

    # Arguments
        n: the size of the square product `(n, n) @ (n, n)` (2 n^3 operations).
        repeats: products timed after one warm-up; the fastest is taken (the
            rate the BLAS reaches, not what a busy moment leaves of it).

    # Returns
        Operations per second.
    """
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=out)
    best = min(_seconds(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2.0 * n ** 3 / best


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _layer_flops(layer):
    """Forward multiply-adds (counted as 2 operations) of one Dense or convolution layer, per
    sample; None for a layer without such products."""
    kind = type(layer).__name__
    if kind == 'Dense':
        positions = int(np.prod(layer.input_shape[1:-1], dtype=np.int64))
        return 2 * positions * layer.input_shape[-1] * layer.units
    if kind in ('Conv1D', 'Conv2D', 'Conv3D'):
        channels_last = layer.data_format == 'channels_last'
        out_shape = layer.output_shape[1:-1] if channels_last else layer.output_shape[2:]
        in_channels = layer.input_shape[-1] if channels_last else layer.input_shape[1]
        return (2 * int(np.prod(out_shape, dtype=np.int64)) *
                int(np.prod(layer.kernel_size)) * in_channels * layer.filters)
    return None


def training_flops_per_sample(model):
    """The matrix-product operations of one training step, per sample.

    Each Dense and convolution layer of a Sequential model costs its forward
    product three times (forward, kernel gradient, input gradient), except the
    first, whose input is the model's input and needs no gradient: twice.

    # Arguments
        model: a built Sequential model.

    # Returns
        Operations per sample (an int).
    """
    total, first = 0, True
    for layer in model.layers:
        flops = _layer_flops(layer)
        if flops is None:
            continue
        total += flops * (2 if first else 3)
        first = False
    return total
