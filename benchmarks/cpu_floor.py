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


#: The layers whose work is one matrix product of their kernel per output position.
PRODUCT_LAYERS = ('Dense', 'Conv1D', 'Conv2D', 'Conv3D')


def _layer_flops(layer):
    """Forward operations of one Dense or convolution layer, per sample; None for others.

    Either is a product `(positions, fan_in) @ (fan_in, units)`: the kernel's
    last axis holds the units (filters), the rest of it is the fan-in, and the
    output holds `positions * units` values per sample, whatever its layout.
    The count is `accel.floors.gemm`'s.
    """
    if type(layer).__name__ not in PRODUCT_LAYERS:
        return None
    from accel import floors
    kernel_shape = tuple(int(n) for n in layer.kernel.shape)
    units = kernel_shape[-1]
    fan_in = int(np.prod(kernel_shape[:-1], dtype=np.int64))
    positions = int(np.prod(layer.output_shape[1:], dtype=np.int64)) // units
    return floors.gemm(positions, units, fan_in).flops


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
