"""Elementwise rules run on cache-sized pieces, and subnormal values flushed to zero.

Two facts about the CPU shape the optimizer updates (`prims_updates.py`):

- **Cache.** NumPy runs each operation of a formula as a pass over whole
  arrays. An update rule is six to twelve such passes; for a parameter of a
  few hundred thousand values the arrays no longer fit the core's L2 cache,
  so every pass streams them through main memory again. `in_pieces` runs the
  same rule on consecutive slices of `PIECE_ELEMENTS` values, whose
  temporaries stay in the cache (the RMSprop step of the `mlp` workload's
  first kernel, 784 x 512, ran 1.17 to 1.3 times faster in pieces on the
  project's 2-core machine, `benchmarks/bench_elementwise.py`; Adadelta's
  longer rule on the `cnn` workload's 9216 x 128 kernel, 2.2 times). Every
  element goes through the same operations in the same order, and pieces
  start at multiples of the vector width, so the results are bit-identical
  to the whole-array rule. `along_first_axis` does the same for an
  elementwise rule with a broadcast operand (the fused bias + activation).

- **Subnormals.** A slot that decays geometrically while its gradient is zero
  (`rho * a` for a dead unit's accumulator) falls into float32's subnormal
  range (below 1.18e-38), where each arithmetic operation takes a microcode
  path about 18 times slower than normal values on the project's machine; by
  the third epoch of the `mlp` workload 50,000 accumulator values were
  subnormal and the RMSprop step took 1.7 times as long. TensorFlow runs its
  CPU kernels with flush-to-zero and denormals-are-zero, so Keras 2.2.4 on
  TensorFlow never holds such a value: it stores 0. `flush_subnormals`
  does the same for the slots the rules return (the flush costs about a
  fifth of an RMSprop step; the slow path cost up to three quarters).
"""
import functools
import inspect

import numpy as np

PIECE_ELEMENTS = 2 ** 15
"""Values per piece: 128 KB of float32 per operand, so that a rule's operands and
temporaries fit a 2 MB L2 cache; a multiple of every SIMD width."""


def in_pieces(arrays):
    """Decorator: runs an elementwise rule piece by piece over its first `arrays` operands.

    The rule's first `arrays` positional operands must share one shape (the
    parameter, its gradient, its slots); the rest (0-d scalars) and the
    keyword attributes are passed to every piece unchanged. The rule returns
    a tuple of arrays of that shape.

    A rule may take a keyword `out`: a tuple with one destination array per
    result (or None), into which its last operation for each result writes
    (`destination(out, i)` as that operation's `out=`). The pieces then go
    straight into the results, without a copy; the first piece, which tells
    the results' dtypes, is copied. `out` is how the pieces are put together,
    not an operand: the decorated function's signature leaves it out.

    # Arguments
        arrays: how many leading positional operands are elementwise arrays.

    # Returns
        A decorator. The decorated rule calls the original once, on whole
        arrays, when they are small, are passed by keyword, or do not share a
        shape (so that the rule's own checks raise their errors); otherwise
        once per piece of `PIECE_ELEMENTS` values, gathering the results.
    """
    def decorate(rule):
        signature = inspect.signature(rule)
        writes_into = 'out' in signature.parameters

        @functools.wraps(rule)
        def run_in_pieces(*operands, **attributes):
            elementwise = operands[:arrays]
            shape = np.shape(elementwise[0]) if elementwise else None
            if (len(elementwise) < arrays or np.prod(shape) <= PIECE_ELEMENTS or
                    any(np.shape(a) != shape for a in elementwise)):
                return rule(*operands, **attributes)
            flat = [np.ravel(a) for a in elementwise]
            pieces = [slice(start, start + PIECE_ELEMENTS)
                      for start in range(0, flat[0].size, PIECE_ELEMENTS)]
            first = rule(*[a[pieces[0]] for a in flat], *operands[arrays:], **attributes)
            results = [np.empty(flat[0].size, dtype=value.dtype) for value in first]
            for result, value in zip(results, first):
                result[pieces[0]] = value
            for piece in pieces[1:]:
                values = [a[piece] for a in flat]
                if writes_into:
                    rule(*values, *operands[arrays:], out=tuple(r[piece] for r in results),
                         **attributes)
                    continue
                for result, value in zip(results, rule(*values, *operands[arrays:],
                                                       **attributes)):
                    result[piece] = value
            return tuple(result.reshape(shape) for result in results)

        if writes_into:
            run_in_pieces.__signature__ = signature.replace(parameters=[
                parameter for name, parameter in signature.parameters.items() if name != 'out'])
        return run_in_pieces
    return decorate


def destination(out, index):
    """The array result `index` of a rule is written into: `out[index]`, or None
    (a new array) when the rule runs without `out` (see `in_pieces`)."""
    return None if out is None else out[index]


def flush_subnormals(x):
    """Sets the subnormal values of a floating-point array to zero, in place.

    # Arguments
        x: a NumPy array of a floating dtype, freshly computed (it is modified).

    # Returns
        `x`, where every nonzero value of magnitude below
        `np.finfo(x.dtype).tiny` is now 0.
    """
    if np.ndim(x) == 0 or not np.issubdtype(np.result_type(x), np.inexact):
        return _flush_scalar(x)
    magnitude = np.abs(x)
    subnormal = magnitude < np.finfo(x.dtype).tiny
    subnormal &= magnitude > 0
    if subnormal.any():
        x[subnormal] = 0
    return x


def _flush_scalar(x):
    """`flush_subnormals` for a 0-d value (returned, not modified) or a non-float array."""
    dtype = np.result_type(x)
    if not np.issubdtype(dtype, np.inexact) or not 0 < abs(x) < np.finfo(dtype).tiny:
        return x
    return x * 0


def along_first_axis(rule, x):
    """`rule(x)` for an elementwise `rule`, run on slices of `x` along its first axis.

    Each slice holds about `PIECE_ELEMENTS` values (at least one index of the
    first axis), so that the rule's temporaries stay in the cache; the results
    are written into one array, bit-identical to `rule(x)`.

    # Arguments
        rule: function of an array returning an array of the same shape
            (its dtype may differ), elementwise along the first axis (a bias
            broadcast along another axis is fine).
        x: a NumPy array of rank >= 1.

    # Returns
        The array `rule(x)`.
    """
    x = np.asarray(x)
    rows_per_piece = max(1, PIECE_ELEMENTS * x.shape[0] // max(1, x.size)) if x.ndim else 0
    if x.ndim == 0 or rows_per_piece >= x.shape[0]:
        return rule(x)
    result = None
    for start in range(0, x.shape[0], rows_per_piece):
        piece = slice(start, start + rows_per_piece)
        value = rule(x[piece])
        if result is None:
            result = np.empty(x.shape, dtype=value.dtype)
        result[piece] = value
    return result
