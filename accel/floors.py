"""Each kernel's floor: the least a launch must move through memory and compute.

A launch cannot finish before its operands have crossed device memory once
(each input read once, each output written once) nor before its arithmetic has
gone through the arithmetic units once. With `B` bytes and `F` operations,
on a device of memory bandwidth `W` (bytes/s) and arithmetic rate `R`
(operations/s), the floor is

    floor_seconds(B, F, W, R) = max(B / W, F / R)

and the larger term names what bounds the kernel: `memory` or `compute`.
A measured time over the floor is the gap a faster kernel could close.
The method follows the device notes of this workplace (`METHOD.md`: "Two numbers
first"); `benchmarks/kernel_floors.py` measures `W` and `R` on the device and
times accel's kernels against these floors.

Conventions of the counts (every function below follows them):

- **Bytes** are the operands' sizes: `elements * itemsize` of every input array
  (read once, even when broadcast: a cache serves the repeats) plus every
  output array (written once). Python scalars cost nothing (they are
  constants). Intermediates a kernel keeps in registers or shared memory cost
  nothing: the floor is what *any* implementation must move, so an unfused
  chain of kernels, which writes and re-reads its intermediates, has a higher
  measured time than the floor of the fused computation.
- **Operations** are floating-point (or, for integer data, arithmetic)
  operations: one per add, subtract, multiply, divide, comparison, min/max,
  square root, and one per transcendental function (exp, log, tanh, sin, cos).
  A fused multiply-add counts as two, as in the usual `2 * m * n * k` of a
  matrix product. Index arithmetic and the integer work of random bit
  generators are not counted: they are not what the float32 rate measures.
  Counting a transcendental as one operation makes the count a lower bound
  (the special-function units are slower), which is what a floor is.
- Shapes are tuples of ints, dtypes anything `numpy.dtype` accepts. Operands
  may also be given as arrays (anything with `.shape` and `.dtype`: NumPy
  arrays, accel's `DeviceArray`s) or `(shape, dtype)` pairs.

Every count returns a `Floor(bytes, flops)`; floors of consecutive launches add
up with `+`.

Per primitive name, `primitive_floor(name, inputs, output, **attrs)` and
`gradient_floor(name, inputs, output, **attrs)` take a primitive's forward
operands and result (as `refkeras.backend.tape.apply` sees them) and dispatch
to the counts below. A primitive without a rule of its own (a new fused
primitive, say) is counted as *elementwise-like*: bytes of all its array
operands and outputs, `OPS_PER_ELEMENT.get(name, 1)` operations per element of
its largest operand or output. `register_floor` gives a primitive an exact rule.
"""
import collections

import numpy as np

__all__ = ['FP32_LANES_PER_SM', 'Floor', 'OPS_PER_ELEMENT', 'OPTIMIZER_RULES', 'bias_activation',
           'bound', 'conv', 'conv_input_grad', 'conv_kernel_grad', 'copy', 'elementwise',
           'elementwise_grad', 'fill', 'floor_seconds', 'gather', 'gemm', 'gradient_floor',
           'im2col', 'lstm_gates', 'lstm_gates_grad', 'lstm_sequence', 'lstm_sequence_grad',
           'one_hot', 'optimizer_update', 'peak_fp32_rate', 'pool', 'pool_grad', 'primitive_floor',
           'random_draws', 'reduction', 'register_floor', 'scatter_add', 'softmax',
           'softmax_crossentropy', 'softmax_grad']


class Floor(collections.namedtuple('Floor', ['bytes', 'flops'])):
    """The least a launch moves through device memory (`bytes`) and computes (`flops`)."""

    __slots__ = ()

    def __add__(self, other):
        return Floor(self.bytes + other.bytes, self.flops + other.flops)

    def seconds(self, bandwidth, rate):
        """`floor_seconds(self.bytes, self.flops, bandwidth, rate)`."""
        return floor_seconds(self.bytes, self.flops, bandwidth, rate)

    def bound(self, bandwidth, rate):
        """'memory' or 'compute': see `bound`."""
        return bound(self.bytes, self.flops, bandwidth, rate)


ZERO = Floor(0, 0)


def floor_seconds(bytes, flops, bandwidth, rate):  # noqa: A002 (the brief's name)
    """The least time a launch can take: `max(bytes / bandwidth, flops / rate)`.

    # Arguments
        bytes: bytes the launch must move through device memory (see the module doc).
        flops: arithmetic operations it must do.
        bandwidth: the device's memory bandwidth, bytes per second (> 0).
        rate: the device's arithmetic rate, operations per second (> 0).

    # Returns
        Seconds, a float.

    # Raises
        ValueError: if `bandwidth` or `rate` is not positive, or a count is negative.
    """
    if not bandwidth > 0 or not rate > 0:
        raise ValueError('floor_seconds: bandwidth and rate must be positive; received '
                         'bandwidth=%r, rate=%r' % (bandwidth, rate))
    if bytes < 0 or flops < 0:
        raise ValueError('floor_seconds: counts must be >= 0; received bytes=%r, flops=%r'
                         % (bytes, flops))
    return max(bytes / float(bandwidth), flops / float(rate))


def bound(bytes, flops, bandwidth, rate):  # noqa: A002
    """'memory' when moving the bytes takes at least as long as the arithmetic, else 'compute'."""
    return 'memory' if bytes / float(bandwidth) >= flops / float(rate) else 'compute'


# --- the device's theoretical float32 rate -------------------------------------------

#: 32-bit floating-point add / multiply / multiply-add results per clock cycle per
#: multiprocessor, by compute capability, from the table "Throughput of Native
#: Arithmetic Instructions" (section "Arithmetic Instructions") of NVIDIA's CUDA C++
#: Programming Guide (12.x editions): 128 for 5.x, 64 for 6.0, 128 for 6.1 and 6.2,
#: 64 for 7.x and 8.0, 128 for 8.6, 8.7, 8.9 and 9.0. Capabilities not listed here
#: give no theoretical peak (the measured cuBLAS rate is used then).
FP32_LANES_PER_SM = {
    (5, 0): 128, (5, 2): 128, (5, 3): 128,
    (6, 0): 64, (6, 1): 128, (6, 2): 128,
    (7, 0): 64, (7, 2): 64, (7, 5): 64,
    (8, 0): 64, (8, 6): 128, (8, 7): 128, (8, 9): 128,
    (9, 0): 128,
}


def peak_fp32_rate(sm_count, compute_capability, clock_hz):
    """The theoretical float32 rate: SMs x lanes per SM x 2 (a multiply-add is two
    operations) x the SM clock.

    # Arguments
        sm_count: multiprocessors on the device (`MULTIPROCESSOR_COUNT`).
        compute_capability: `(major, minor)`.
        clock_hz: the SM clock in Hz (the device attribute `CLOCK_RATE` is in kHz:
            multiply it by 1000).

    # Returns
        Operations per second, or None when `FP32_LANES_PER_SM` does not know the
        compute capability.
    """
    lanes = FP32_LANES_PER_SM.get(tuple(int(v) for v in compute_capability))
    if lanes is None:
        return None
    return float(sm_count) * lanes * 2 * float(clock_hz)


# --- operands ---------------------------------------------------------------------------

def _size(shape):
    return int(np.prod(tuple(int(n) for n in shape), dtype=np.int64))


def _itemsize(dtype):
    return np.dtype(dtype).itemsize


def _nbytes(shape, dtype):
    return _size(shape) * _itemsize(dtype)


def _is_spec(x):
    """Whether `x` is a `(shape, dtype)` pair."""
    return (isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], (tuple, list)) and
            all(isinstance(n, (int, np.integer)) for n in x[0]) and
            isinstance(x[1], (str, np.dtype, type)))


def _spec(x):
    """`(shape, dtype)` of an operand, or None for a Python scalar or None."""
    if x is None or isinstance(x, (bool, int, float)):
        return None
    if hasattr(x, 'shape') and hasattr(x, 'dtype'):
        return tuple(int(n) for n in x.shape), np.dtype(x.dtype)
    if _is_spec(x):
        return tuple(int(n) for n in x[0]), np.dtype(x[1])
    raise TypeError('floors: cannot read the shape and dtype of an operand of type %s '
                    '(expected an array, a (shape, dtype) pair or a Python scalar)'
                    % type(x).__name__)


def _specs(xs):
    """Specs of the array operands among `xs` (one operand, or a list/tuple of them)."""
    if isinstance(xs, (list, tuple)) and not _is_spec(xs):
        out = []
        for x in xs:
            out.extend(_specs(x))
        return out
    s = _spec(xs)
    return [] if s is None else [s]


def _bytes_of(specs):
    return sum(_nbytes(shape, dtype) for shape, dtype in specs)


# --- the kernel families ------------------------------------------------------------------

def gemm(m, n, k, dtype='float32', batch=1, a_batch=None, b_batch=None):
    """Matrix product `C[z] = A[z] @ B[z]` (`accel/kernels/gemm.py`).

    Each of the `m * n` outputs of each of the `batch` products is a length-`k`
    dot product: `k` multiply-adds, so `2 * m * n * k` operations per product.
    It must read A (`m * k`) and B (`k * n`) and write C (`m * n`) once.

    # Arguments
        m, n, k: C is `m x n`, the contraction has length `k`.
        dtype: of A, B and C.
        batch: number of products.
        a_batch, b_batch: how many distinct A (B) matrices are read (default
            `batch`; 1 when the operand is broadcast over the batch).

    # Returns
        `Floor(bytes=(a_batch*m*k + b_batch*k*n + batch*m*n) * itemsize,
        flops=2*batch*m*n*k)`.
    """
    a_batch = batch if a_batch is None else a_batch
    b_batch = batch if b_batch is None else b_batch
    items = a_batch * m * k + b_batch * k * n + batch * m * n
    return Floor(items * _itemsize(dtype), 2 * batch * m * n * k)


def elementwise(out_shape, operands, out_dtype, ops_per_element=1):
    """An elementwise map (`accel/kernels/elementwise.py` `map_arrays`, and any
    elementwise-like fused kernel).

    Reads each array operand once at its own size (a broadcast operand is read
    once, not once per use), writes the output, and does `ops_per_element`
    operations per output element.

    # Arguments
        out_shape: the output's shape.
        operands: the inputs (arrays, `(shape, dtype)` pairs, or Python scalars,
            which cost nothing).
        out_dtype: the output's dtype.
        ops_per_element: operations per output element (see `OPS_PER_ELEMENT`).

    # Returns
        `Floor(bytes=sum of operand bytes + output bytes, flops=size * ops_per_element)`.
    """
    return Floor(_bytes_of(_specs(list(operands))) + _nbytes(out_shape, out_dtype),
                 _size(out_shape) * ops_per_element)


def elementwise_grad(out_shape, operands, grad_dtype):
    """The gradient of an elementwise map: reads the upstream gradient `g` (of the
    output's shape) and the array operands, writes one gradient per array operand
    (of that operand's shape), and does at least one multiply (the chain rule's
    `g * derivative`) per output element per operand. The derivative's own
    arithmetic is not counted: a lower bound.

    # Arguments
        out_shape: the forward output's shape (that of `g`).
        operands: the forward inputs (Python scalars get no gradient).
        grad_dtype: dtype of `g` and of the gradients.
    """
    specs = _specs(list(operands))
    read = _nbytes(out_shape, grad_dtype) + _bytes_of(specs)
    written = sum(_nbytes(shape, grad_dtype) for shape, _ in specs)
    return Floor(read + written, _size(out_shape) * len(specs))


#: Operations per result beyond the `N - N_out` combinations (mean divides each result).
_REDUCE_EXTRA = {'mean': 1}


def reduction(shape, axes, dtype, out_dtype=None, op='sum'):
    """A reduction over `axes` (`accel/kernels/reduce.py`: rows or columns, no atomics).

    Reading all `N` elements and writing the `N_out` results once; combining `N`
    values into `N_out` results takes `N - N_out` binary operations (sum, prod,
    max, min, any, all, argmax, argmin). `mean` adds one division per result;
    `logsumexp` is a max pass (`N - N_out`), then a subtract, an exp and an add
    per element (`3 N`, the first add against zero), then a log and an add per
    result (`2 N_out`); `cumsum` does `N - N / L` additions for scans of length
    `L` and writes `N` results.

    # Arguments
        shape: the input's shape.
        axes: the reduced axes (an int, a tuple, or None for all).
        dtype: the input's dtype.
        out_dtype: the result's dtype (default `dtype`; int64 for argmax/argmin).
        op: 'sum', 'mean', 'prod', 'max', 'min', 'any', 'all', 'argmax', 'argmin',
            'logsumexp' or 'cumsum'.
    """
    shape = tuple(int(n) for n in shape)
    if axes is None:
        axes = tuple(range(len(shape)))
    elif isinstance(axes, int):
        axes = (axes,)
    axes = tuple(int(a) % max(len(shape), 1) for a in axes)
    if out_dtype is None:
        out_dtype = 'int64' if op in ('argmax', 'argmin') else dtype
    n = _size(shape)
    if op == 'cumsum':
        (axis,) = axes
        length = shape[axis]
        scans = n // length if length else 0
        return Floor(n * _itemsize(dtype) + n * _itemsize(out_dtype), n - scans)
    n_out = _size([s for d, s in enumerate(shape) if d not in axes])
    moved = n * _itemsize(dtype) + n_out * _itemsize(out_dtype)
    if op == 'logsumexp':
        return Floor(moved, (n - n_out) + 3 * n + 2 * n_out)
    return Floor(moved, (n - n_out) + _REDUCE_EXTRA.get(op, 0) * n_out)


def softmax(shape, axis=-1, dtype='float32'):
    """Softmax along `axis` (`accel/kernels/softmax.py`: one pass per row in shared memory).

    Reads `x` and writes `y` once. Per row of length `L`: a maximum (`L - 1`
    comparisons), a subtraction and an exp per element (`2 L`), a sum (`L - 1`
    additions) and a division per element (`L`): `5 L - 2` operations.
    """
    shape = tuple(int(n) for n in shape)
    length = shape[axis]
    n = _size(shape)
    rows = n // length if length else 0
    return Floor(2 * n * _itemsize(dtype), rows * (5 * length - 2))


def softmax_grad(shape, axis=-1, dtype='float32'):
    """The softmax gradient `y * (g - sum(g * y))` along `axis`.

    Reads `g` and `y`, writes the gradient. Per row of length `L`: `L` products
    `g * y`, `L - 1` additions, `L` subtractions and `L` products: `4 L - 1`.
    """
    shape = tuple(int(n) for n in shape)
    length = shape[axis]
    n = _size(shape)
    rows = n // length if length else 0
    return Floor(3 * n * _itemsize(dtype), rows * (4 * length - 1))


def softmax_crossentropy(shape, dtype='float32', axis=-1):
    """A fused softmax + categorical cross-entropy, as Keras 2.2.4 computes it: the
    loss per row from the logits and the targets.

    Reads the logits and the targets (both `shape`), writes one loss per row.
    Per row of length `L`: the softmax (`5 L - 2`), its renormalisation to sum 1
    (`L - 1` additions, `L` divisions), the clip to `[eps, 1 - eps]` (`2 L`), a
    log and a product per element (`2 L`), their sum (`L - 1`) and a negation:
    `12 L - 3` operations.
    """
    shape = tuple(int(n) for n in shape)
    length = shape[axis]
    n = _size(shape)
    rows = n // length if length else 0
    return Floor(2 * n * _itemsize(dtype) + rows * _itemsize(dtype), rows * (12 * length - 3))


def _conv_counts(x_shape, kernel_shape, out_shape):
    """Multiply-adds of a convolution: per output element, `taps * C/groups`."""
    per_output = _size(kernel_shape) // int(kernel_shape[-1])   # taps * C/groups
    return 2 * _size(out_shape) * per_output


def conv(x_shape, kernel_shape, out_shape, dtype='float32'):
    """A convolution, channels last (accel: im2col + one batched GEMM, `prims_conv.py`).

    Each output element is a dot product over its window: `taps * C/groups`
    multiply-adds, where the kernel is `(*kernel_size, C/groups, F)`; so
    `2 * out_size * kernel_size / F` operations. Whatever the algorithm, it must
    read the input and the kernel and write the output once. (im2col, which
    writes the windows out and reads them back, moves more: see `im2col`.)

    # Arguments
        x_shape: `(batch, *spatial, C)`.
        kernel_shape: `(*kernel_size, C/groups, F)`.
        out_shape: `(batch, *out_spatial, F)`.
    """
    moved = _nbytes(x_shape, dtype) + _nbytes(kernel_shape, dtype) + _nbytes(out_shape, dtype)
    return Floor(moved, _conv_counts(x_shape, kernel_shape, out_shape))


def conv_input_grad(x_shape, kernel_shape, out_shape, dtype='float32'):
    """The input gradient of `conv`: the same multiply-adds, reading the upstream
    gradient (`out_shape`) and the kernel, writing a gradient of `x_shape`."""
    return conv(x_shape, kernel_shape, out_shape, dtype)


def conv_kernel_grad(x_shape, kernel_shape, out_shape, dtype='float32'):
    """The kernel gradient of `conv`: the same multiply-adds, reading the input and the
    upstream gradient, writing a gradient of `kernel_shape`."""
    return conv(x_shape, kernel_shape, out_shape, dtype)


def im2col(x_shape, kernel_shape, out_shape, dtype='float32'):
    """The im2col copy of accel's convolution: reads the input once and writes, for
    each of the `batch * positions` output positions, its window: `taps * C`
    values (`taps * C/groups` per channel group). No arithmetic. The GEMM that
    follows reads these rows back: the price of im2col over a direct convolution.
    """
    positions = _size(out_shape) // int(out_shape[-1])     # batch * out positions
    taps = _size(kernel_shape[:-2])
    channels = int(x_shape[-1])
    return Floor(_nbytes(x_shape, dtype) + positions * taps * channels * _itemsize(dtype), 0)


def pool(x_shape, out_shape, taps, dtype='float32', mode='max'):
    """Max or average pooling over windows of `taps` elements (`accel/kernels/window.py`).

    Reads the input once, writes the output once. Per output element: `taps - 1`
    comparisons (max), or `taps - 1` additions and one division (mean, `taps`).
    Windows are counted whole (padding taps included).
    """
    ops = taps - 1 if mode == 'max' else taps
    return Floor(_nbytes(x_shape, dtype) + _nbytes(out_shape, dtype), _size(out_shape) * ops)


def pool_grad(x_shape, out_shape, taps, dtype='float32', mode='max'):
    """The pooling gradient, gathered per input element (`window.py` `window_sum`).

    Average pooling reads the upstream gradient (`out_shape`) and writes the
    input's gradient: per window, `taps` contributions (a division and the
    additions). Max pooling must also find each window's winner: it reads the
    input and the pooled output as well, and compares each tap with the maximum
    (`taps` comparisons per window).
    """
    g_bytes = _nbytes(out_shape, dtype) + _nbytes(x_shape, dtype)
    if mode == 'max':
        g_bytes += _nbytes(x_shape, dtype) + _nbytes(out_shape, dtype)
    return Floor(g_bytes, _size(out_shape) * taps)


def _activation_ops(name):
    ops = _ACTIVATION_OPS.get(name)
    if ops is None:
        raise ValueError('floors: no elementwise count for activation %r (known: %s)'
                         % (name, ', '.join(sorted(k for k, v in _ACTIVATION_OPS.items()
                                                   if k and v is not None))))
    return ops


def lstm_gates(batch, units, dtype='float32', split=False, activation='tanh',
               recurrent_activation='hard_sigmoid'):
    """One LSTM step's gates (`accel/kernels/lstm.py`, one thread per (batch, unit)).

    Fused form (`z, c_prev`): reads the pre-activations `z` (`4 B U`) and the
    carry (`B U`), writes the output and the new carry (`2 B U`): `7 B U`
    values. Per element: three gates through the recurrent activation, the
    candidate and the new carry through the activation (operation counts as in
    `bias_activation`: tanh 1, hard_sigmoid 4, ...), `c = f c_prev + i g` (3) and
    `o * act(c)` (1). Split form (`x_part, h_part, bias, c_prev`): reads both
    projections (`8 B U`) and the bias (`4 U`) instead of `z`, and sums them (2
    additions per gate: 8 per element).
    """
    bu = batch * units
    ops = 3 * _activation_ops(recurrent_activation) + 2 * _activation_ops(activation) + 4
    if split:
        values = 8 * bu + 4 * units + bu + 2 * bu
        return Floor(values * _itemsize(dtype), bu * (ops + 8))
    return Floor(7 * bu * _itemsize(dtype), bu * ops)


def lstm_gates_grad(batch, units, dtype='float32', activation='tanh',
                    recurrent_activation='hard_sigmoid'):
    """The LSTM gates' gradient (fused form): reads the upstream gradients of output
    and carry (`2 B U`), the new carry (`B U`), `z` (`4 B U`) and the old carry
    (`B U`); writes the gradients of `z` (`4 B U`) and of the old carry (`B U`):
    `13 B U` values. Per element: the five activations again (as in
    `lstm_gates`), their five derivatives (counted as 2 operations each, e.g.
    `1 - y * y`), and 12 products and sums (`g_c = g_c' + g_h o act'(c)`: 3;
    four gate gradients of 2 products each; `g_c f`: 1).
    """
    bu = batch * units
    ops = 3 * _activation_ops(recurrent_activation) + 2 * _activation_ops(activation) + 10 + 12
    return Floor(13 * bu * _itemsize(dtype), bu * ops)


def _lstm_sequence_operands(time, batch, input_dim, units, bias_size=None):
    """Values in `lstm_sequence`'s operands, masks aside: `x`, `h0` and `c0`, the two
    kernels and the bias (default `4 U`); also the sizes of their gradients."""
    gates = 4 * units
    return (time * batch * input_dim + 2 * batch * units + gates * (input_dim + units) +
            (gates if bias_size is None else bias_size))


def lstm_sequence(time, batch, input_dim, units, dtype='float32', activation='tanh',
                  recurrent_activation='hard_sigmoid', input_masks=False,
                  recurrent_masks=False, bias_size=None):
    """A whole LSTM sequence (`accel/kernels/lstm_sequence.py`): `time` steps of `lstm_gates`.

    Reads `x` (`T B D`), `h0` and `c0` (`2 B U`), the kernels (`4 D U + 4 U U`),
    the bias (`bias_size` values, default `4 U`) and the dropout masks when
    there are (`4 B D`, `4 B U`); writes `h` and `c` of every timestep (`2 T B U`).
    Operations: the input and recurrent products (`2 T B 4U (D + U)`), the
    masks' products (`T 4 B D`, `T 4 B U`), two additions per gate value
    (`x W + h U + bias`: `8 T B U`), and each timestep's gates as `lstm_gates`.
    """
    bu, gates = batch * units, 4 * units
    values = _lstm_sequence_operands(time, batch, input_dim, units, bias_size) + 2 * time * bu
    flops = 2 * time * batch * gates * (input_dim + units) + 8 * time * bu
    if input_masks:
        values += 4 * batch * input_dim
        flops += time * 4 * batch * input_dim
    if recurrent_masks:
        values += 4 * bu
        flops += time * 4 * bu
    flops += time * lstm_gates(batch, units, dtype, False, activation, recurrent_activation).flops
    return Floor(values * _itemsize(dtype), flops)


def lstm_sequence_grad(time, batch, input_dim, units, dtype='float32', activation='tanh',
                       recurrent_activation='hard_sigmoid', input_masks=False,
                       recurrent_masks=False, bias_size=None):
    """Backpropagation through an LSTM sequence (the gradient rule of `lstm_sequence`).

    Reads the forward's operands and its output (as `lstm_sequence` counts them)
    and the upstream gradient (`2 T B U`); writes the gradients of `x`, `h0`,
    `c0`, both kernels and the bias (the operands' sizes, masks excepted).
    Operations: the forward's pre-activations again (the output holds `h` and
    `c`, not the gates), each timestep's `lstm_gates_grad`, four products of
    `2 T B 4U` times `U` or `D` each (`g_h = g_z U^T`, `g_x = g_z W^T`, and the
    two kernels' gradients) and the bias's sum (`4 T B U`).
    """
    forward = lstm_sequence(time, batch, input_dim, units, dtype, activation,
                            recurrent_activation, input_masks, recurrent_masks, bias_size)
    bu, gates = batch * units, 4 * units
    gradients = _lstm_sequence_operands(time, batch, input_dim, units, bias_size)
    recompute = forward.flops - time * lstm_gates(batch, units, dtype, False, activation,
                                                   recurrent_activation).flops
    flops = (recompute + 2 * time * batch * gates * 2 * (input_dim + units) + time * gates * batch +
             time * lstm_gates_grad(batch, units, dtype, activation, recurrent_activation).flops)
    moved = forward.bytes + (2 * time * bu + gradients) * _itemsize(dtype)
    return Floor(moved, flops)


def _lstm_sequence_sizes(inputs, attrs):
    """`lstm_sequence`'s operands as the keyword arguments of the two counts above."""
    (x_shape, dtype), (h_shape, _) = _spec(inputs[0]), _spec(inputs[1])
    operands = list(inputs) + [None] * (8 - len(inputs))
    input_masks = attrs.get('input_masks', operands[6])
    recurrent_masks = attrs.get('recurrent_masks', operands[7])
    return dict(time=x_shape[0], batch=x_shape[1], input_dim=x_shape[2], units=h_shape[-1],
                dtype=dtype, bias_size=_size(_spec(operands[5])[0]),
                activation=attrs.get('activation', 'tanh'),
                recurrent_activation=attrs.get('recurrent_activation', 'hard_sigmoid'),
                input_masks=input_masks is not None,
                recurrent_masks=recurrent_masks is not None)


def gather(x_shape, indices_shape, axis=0, dtype='float32', index_dtype='int64'):
    """`take(x, indices, axis)` (`accel/kernels/gather.py`): reads the indices, reads one
    slice of `x` per index and writes it. No arithmetic.

    Each index's slice is counted as read (with repeated indices a cache could
    serve the repeats: then this overstates the floor by the repeats' share).
    """
    x_shape = tuple(int(n) for n in x_shape)
    out_shape = x_shape[:axis] + tuple(indices_shape) + x_shape[axis + 1:]
    out = _nbytes(out_shape, dtype)
    return Floor(_nbytes(indices_shape, index_dtype) + 2 * out, 0)


def scatter_add(x_shape, indices_shape, axis=0, dtype='float32', index_dtype='int64'):
    """The gradient of `gather`: reads the indices and the upstream gradient (the
    gather's output shape) and writes the whole gradient of `x_shape` (zeros where
    no index points); one addition per upstream element."""
    x_shape = tuple(int(n) for n in x_shape)
    g_shape = x_shape[:axis] + tuple(indices_shape) + x_shape[axis + 1:]
    moved = (_nbytes(indices_shape, index_dtype) + _nbytes(g_shape, dtype) +
             _nbytes(x_shape, dtype))
    return Floor(moved, _size(g_shape))


def one_hot(indices_shape, num_classes, dtype='float32', index_dtype='int64'):
    """One-hot rows: reads the indices, writes `classes` values per index; one
    comparison per output value."""
    n_out = _size(indices_shape) * int(num_classes)
    return Floor(_nbytes(indices_shape, index_dtype) + n_out * _itemsize(dtype), n_out)


#: Floating-point operations turning random bits into one value (`accel/kernels/random.py`).
_RANDOM_OPS = {'uniform': 3, 'normal': 10, 'binomial': 2}


def random_draws(shape, dtype='float32', distribution='uniform'):
    """Random draws (Philox counters, `accel/kernels/random.py`): write the output once.

    The generator's integer work is not counted. Float operations per value:
    uniform 3 (scale the bits, then `low + span * u`), binomial 2 (scale,
    compare), normal 10 (Box-Muller: two scalings and an increment, log, `-2 *`,
    sqrt, `2 pi *`, cos, the product, then `mean + stddev * z`). A truncated
    normal is counted as one round (redraws happen for 4.6% of values).
    """
    kind = {'random_uniform': 'uniform', 'random_normal': 'normal',
            'truncated_normal': 'normal', 'random_binomial': 'binomial'}.get(distribution,
                                                                             distribution)
    return Floor(_nbytes(shape, dtype), _size(shape) * _RANDOM_OPS[kind])


def copy(shape, dtype='float32', out_dtype=None, out_shape=None):
    """Data movement (`accel/kernels/copy.py`: casts, transposes, slices, pads,
    tiles, broadcasts): reads `shape` elements of `dtype`, writes `out_shape`
    (default `shape`) elements of `out_dtype` (default `dtype`). No arithmetic.
    """
    out_dtype = dtype if out_dtype is None else out_dtype
    out_shape = shape if out_shape is None else out_shape
    return Floor(_nbytes(shape, dtype) + _nbytes(out_shape, out_dtype), 0)


def fill(shape, dtype='float32'):
    """Filling an array with a constant: writes it once."""
    return Floor(_nbytes(shape, dtype), 0)


# --- fused elementwise chains (issue 7, item 4) -------------------------------------------------

#: Operations per element of the activations (the elementwise primitives' formulas).
_ACTIVATION_OPS = {'linear': 0, None: 0, 'relu': 1, 'tanh': 1, 'sigmoid': 3, 'hard_sigmoid': 4,
                   'softsign': 3, 'softplus': 6, 'elu': 3, 'selu': 4, 'exp': 1,
                   'exponential': 1, 'softmax': None}


def bias_activation(shape, bias_shape, dtype='float32', activation='relu'):
    """A fused `activation(x + bias)`: reads `x` and the bias, writes the result; one
    addition plus the activation's operations per element (relu, tanh 1;
    sigmoid 3: exp, add, divide; hard_sigmoid 4: multiply, add, two clamps; elu 3:
    compare, expm1, multiply; selu 4: elu's and the scale; softsign 3: abs, add,
    divide; softplus 6: abs, negate, exp, log1p, max, add; exponential 1;
    linear 0).

    # Raises
        ValueError: for an activation this count does not know (softmax is a row
            operation: count it with `softmax`).
    """
    ops = _activation_ops(activation)
    return elementwise(shape, [(shape, dtype), (bias_shape, dtype)], dtype, 1 + ops)


#: Optimizer update rules: (slot arrays per weight, operations per element of one step).
#: - sgd: `p - lr * g` (2); sgd_momentum: `v = m v - lr g` (3), `p + v` (1): 4.
#: - rmsprop: `a = rho a + (1 - rho) g^2` (4); `p - lr g / (sqrt(a) + eps)` (5): 9.
#: - adagrad: `a = a + g^2` (2); `p - lr g / (sqrt(a) + eps)` (5): 7.
#: - adam: `m = b1 m + (1 - b1) g` (3); `v = b2 v + (1 - b2) g^2` (4);
#:   `p - lr_t m / (sqrt(v) + eps)` (5): 12.
#: - adadelta: `a = rho a + (1 - rho) g^2` (4); `u = g sqrt(d + eps) / sqrt(a + eps)` (6);
#:   `p - lr u` (2); `d = rho d + (1 - rho) u^2` (4): 16.
OPTIMIZER_RULES = {
    'sgd': (0, 2), 'sgd_momentum': (1, 4), 'rmsprop': (1, 9), 'adagrad': (1, 7),
    'adam': (2, 12), 'adadelta': (2, 16),
}


def optimizer_update(rule, size, dtype='float32'):
    """One step of an optimizer rule fused over a weight of `size` elements.

    Reads the weight, its gradient and its slot arrays, writes the weight and the
    slots back (hyperparameters are scalars: free):
    `(3 + 2 * slots) * size * itemsize` bytes, and `OPTIMIZER_RULES[rule][1]`
    operations per element.

    # Raises
        ValueError: for a rule `OPTIMIZER_RULES` does not list.
    """
    if rule not in OPTIMIZER_RULES:
        raise ValueError('optimizer_update: unknown rule %r (known: %s)'
                         % (rule, ', '.join(sorted(OPTIMIZER_RULES))))
    slots, ops = OPTIMIZER_RULES[rule]
    return Floor((3 + 2 * slots) * int(size) * _itemsize(dtype), int(size) * ops)


# --- per primitive name -------------------------------------------------------------------------

#: Operations per output element of the elementwise primitives (the generic rule
#: uses 1 for names not listed here).
OPS_PER_ELEMENT = {
    'add': 1, 'subtract': 1, 'multiply': 1, 'divide': 1, 'power': 1, 'maximum': 1,
    'minimum': 1, 'negative': 1, 'abs': 1, 'square': 1, 'sqrt': 1, 'exp': 1, 'log': 1,
    'sin': 1, 'cos': 1, 'sign': 1, 'round': 1, 'clip': 2, 'where': 1,
    'equal': 1, 'not_equal': 1, 'greater': 1, 'greater_equal': 1, 'less': 1, 'less_equal': 1,
    'logical_and': 1, 'logical_or': 1, 'logical_not': 1,
    'relu': 1, 'elu': 3, 'sigmoid': 3, 'hard_sigmoid': 4, 'tanh': 1, 'softplus': 6,
    'softsign': 3, 'cast': 0, 'stop_gradient': 0,
    # binary cross-entropy per element: clip (2), log(o), 1 - o, log(1 - o), 1 - t,
    # two products, a sum and a negation (8)
    'binary_crossentropy': 10,
    # optimizer update primitives (`refkeras/backend/prims_updates.py`), per element;
    # see OPTIMIZER_RULES for sgd (momentum form), rmsprop, adagrad, adadelta, adam.
    # amsgrad: adam's 12 and `vhat = max(vhat, v)`; adamax: `m` (3),
    # `u = max(b2 u, |g|)` (3), `p - lr_t m / (u + eps)` (4). Other rules (nadam) take
    # the count of the rule their name contains (adam), else 1.
    'sgd_update': 4, 'amsgrad_update': 13, 'adamax_update': 10,
}

_COPIES = ('transpose', 'concatenate', 'tile', 'repeat', 'getitem', 'pad', 'cast')
_VIEWS = ('reshape', 'stop_gradient')
_REDUCTIONS = ('sum', 'mean', 'prod', 'max', 'min', 'any', 'all', 'argmax', 'argmin',
               'logsumexp', 'cumsum')
_RANDOM = ('random_uniform', 'random_normal', 'truncated_normal', 'random_binomial')

_RULES = {}


def register_floor(name, forward=None, gradient=None):
    """Gives the primitive `name` its own floor rules.

    # Arguments
        name: the primitive's registry name.
        forward: `rule(inputs, output, **attrs) -> Floor` for the forward launch(es).
        gradient: the same for the gradient rule.
    """
    _RULES[name] = (forward, gradient)


def _out_shape_dtype(output):
    specs = _specs(output)
    if not specs:
        raise TypeError('floors: the output must be an array or a list of arrays')
    return specs


def _generic(name, inputs, output):
    """Elementwise-like: all array operands read once, all outputs written once,
    `OPS_PER_ELEMENT.get(name, 1)` operations per element of the largest of them."""
    ins, outs = _specs(list(inputs)), _out_shape_dtype(output)
    largest = max(_size(shape) for shape, _ in ins + outs)
    ops = OPS_PER_ELEMENT.get(name)
    if ops is None:
        ops = next((OPTIMIZER_RULES[r][1] for r in sorted(OPTIMIZER_RULES, key=len, reverse=True)
                    if r in name), 1)
    return Floor(_bytes_of(ins) + _bytes_of(outs), largest * ops)


def _matmul_parts(a, b):
    (sa, dt), (sb, _) = _spec(a), _spec(b)
    sa = (1,) + sa if len(sa) == 1 else sa
    sb = sb + (1,) if len(sb) == 1 else sb
    m, k, n = sa[-2], sa[-1], sb[-1]
    batch_shape = np.broadcast_shapes(sa[:-2], sb[:-2])
    return m, n, k, dt, _size(batch_shape), _size(sa[:-2]), _size(sb[:-2])


def primitive_floor(name, inputs, output, **attrs):
    """The floor of one forward call of primitive `name`.

    # Arguments
        name: the primitive's registry name (`refkeras.backend.REGISTRY`).
        inputs: its positional operands (arrays, `(shape, dtype)` pairs, scalars).
        output: its result (an array or `(shape, dtype)`; a list for several).
        **attrs: its keyword attributes (`axis`, `pool_size`, ...).

    # Returns
        A `Floor`. Known families use the counts above; other names (new fused
        primitives included) the elementwise-like rule (see the module doc).
    """
    if name in _RULES and _RULES[name][0] is not None:
        return _RULES[name][0](inputs, output, **attrs)
    (out_shape, out_dtype) = _out_shape_dtype(output)[0]
    if name == 'matmul':
        m, n, k, dt, batch, a_batch, b_batch = _matmul_parts(*inputs[:2])
        return gemm(m, n, k, out_dtype, batch, a_batch, b_batch)
    if name in ('conv', 'conv_transpose'):
        (xs, dt), (ks, _) = _spec(inputs[0]), _spec(inputs[1])
        if name == 'conv':
            return conv(xs, ks, out_shape, out_dtype)
        return conv_input_grad(out_shape, ks, xs, out_dtype)
    if name in ('max_pool', 'avg_pool'):
        (xs, dt) = _spec(inputs[0])
        taps = _size(attrs.get('pool_size') or ())
        return pool(xs, out_shape, taps, out_dtype, 'max' if name == 'max_pool' else 'mean')
    if name in _REDUCTIONS:
        (xs, dt) = _spec(inputs[0])
        axis = attrs.get('axis', 0 if name == 'cumsum' else None)
        return reduction(xs, axis, dt, out_dtype, name)
    if name == 'softmax':
        return softmax(out_shape, attrs.get('axis', -1), out_dtype)
    if name == 'lstm_gates':
        specs = _specs(list(inputs))
        c_shape = specs[-1][0]
        batch, units = _size(c_shape[:-1]), c_shape[-1]
        return lstm_gates(batch, units, out_dtype, len(specs) > 2,
                          attrs.get('activation', 'tanh'),
                          attrs.get('recurrent_activation', 'hard_sigmoid'))
    if name == 'gather':
        (xs, dt), (idx_shape, idx_dt) = _spec(inputs[0]), _spec(inputs[1])
        axis = int(attrs.get('axis', 0)) % len(xs)
        return gather(xs, idx_shape, axis, dt, idx_dt)
    if name == 'one_hot':
        (idx_shape, idx_dt) = _spec(inputs[0])
        return one_hot(idx_shape, out_shape[-1], out_dtype, idx_dt)
    if name in _RANDOM:
        return random_draws(out_shape, out_dtype, name)
    if name in _VIEWS:
        return ZERO
    if name in _COPIES:
        ins = _specs(list(inputs))
        return Floor(_bytes_of(ins) + _nbytes(out_shape, out_dtype), 0)
    return _generic(name, inputs, output)


def _bias_activation_rule(inputs, output, activation='linear', **attrs):
    """`bias_activation(x, bias, activation)`: reads x and the bias, writes the result;
    an addition and the activation per element (softmax: the row count of `softmax`)."""
    (xs, dt), (bs, bdt) = _spec(inputs[0]), _spec(inputs[1])
    (out_shape, out_dtype) = _out_shape_dtype(output)[0]
    moved = _nbytes(xs, dt) + _nbytes(bs, bdt) + _nbytes(out_shape, out_dtype)
    if activation == 'softmax':
        return Floor(moved, _size(xs) + softmax(xs, -1, out_dtype).flops)
    return Floor(moved, _size(xs) * (1 + _activation_ops(activation)))


def _softmax_crossentropy_rule(inputs, output, axis=-1, **attrs):
    """`softmax_crossentropy(target, logits, axis)`: see `softmax_crossentropy`."""
    (ls, dt) = _spec(inputs[1])
    moved = _bytes_of(_specs(list(inputs))) + _bytes_of(_out_shape_dtype(output))
    return Floor(moved, softmax_crossentropy(ls, dt, axis).flops)


def gradient_floor(name, inputs, output, **attrs):
    """The floor of one call of primitive `name`'s gradient rule (all inputs needing
    a gradient).

    matmul: two products (`dA = g B^T`, `dB = A^T g`), `4 m n k` operations;
    conv: the input and kernel gradients; pooling, softmax, lstm_gates and gather
    their own counts above; reductions read `g` and write a gradient of the
    input's shape (max/min also read the input and the output to find the
    winners); views cost nothing; everything else the elementwise gradient
    (`elementwise_grad`). Arguments as `primitive_floor` (the forward's).
    """
    if name in _RULES and _RULES[name][1] is not None:
        return _RULES[name][1](inputs, output, **attrs)
    (out_shape, out_dtype) = _out_shape_dtype(output)[0]
    if name == 'matmul':
        m, n, k, dt, batch, a_batch, b_batch = _matmul_parts(*inputs[:2])
        return (gemm(m, k, n, out_dtype, batch, batch, b_batch) +
                gemm(k, n, m, out_dtype, batch, a_batch, batch))
    if name == 'conv':
        (xs, _), (ks, _) = _spec(inputs[0]), _spec(inputs[1])
        return (conv_input_grad(xs, ks, out_shape, out_dtype) +
                conv_kernel_grad(xs, ks, out_shape, out_dtype))
    if name == 'conv_transpose':
        (ks, _) = _spec(inputs[1])
        (xs, _) = _spec(inputs[0])
        # the input gradient is a convolution of g (out_shape) producing x's shape,
        # the kernel gradient the matching kernel gradient: twice conv's count
        return (conv(out_shape, ks, xs, out_dtype) +
                conv_kernel_grad(out_shape, ks, xs, out_dtype))
    if name in ('max_pool', 'avg_pool'):
        (xs, _) = _spec(inputs[0])
        taps = _size(attrs.get('pool_size') or ())
        return pool_grad(xs, out_shape, taps, out_dtype, 'max' if name == 'max_pool' else 'mean')
    if name == 'softmax':
        return softmax_grad(out_shape, attrs.get('axis', -1), out_dtype)
    if name == 'lstm_gates':
        c_shape = _specs(list(inputs))[-1][0]
        return lstm_gates_grad(_size(c_shape[:-1]), c_shape[-1], out_dtype,
                               attrs.get('activation', 'tanh'),
                               attrs.get('recurrent_activation', 'hard_sigmoid'))
    if name == 'gather':
        (xs, dt), (idx_shape, idx_dt) = _spec(inputs[0]), _spec(inputs[1])
        axis = int(attrs.get('axis', 0)) % len(xs)
        return scatter_add(xs, idx_shape, axis, dt, idx_dt)
    if name in ('sum', 'mean', 'max', 'min'):
        (xs, dt) = _spec(inputs[0])
        moved = _nbytes(out_shape, out_dtype) + _nbytes(xs, out_dtype)
        if name in ('max', 'min'):
            moved += _nbytes(xs, dt) + _nbytes(out_shape, out_dtype)
        return Floor(moved, _size(xs) if name != 'sum' else 0)
    if name in _VIEWS:
        return ZERO
    return elementwise_grad(out_shape, inputs, out_dtype)


register_floor('bias_activation', forward=_bias_activation_rule)
register_floor('lstm_sequence',
               forward=lambda inputs, output, **attrs: lstm_sequence(
                   **_lstm_sequence_sizes(inputs, attrs)),
               gradient=lambda inputs, output, **attrs: lstm_sequence_grad(
                   **_lstm_sequence_sizes(inputs, attrs)))
register_floor('softmax_crossentropy', forward=_softmax_crossentropy_rule)
