"""Array primitives: matrix product, shape manipulation, indexing, reductions."""
import builtins

import numpy as np

from refkeras.backend.registry import primitive, unbroadcast


# --- matrix product ---------------------------------------------------------

@primitive(wants_needs=True)
def matmul(a, b):
    """Matrix product with NumPy's `matmul` broadcasting; both inputs rank >= 2."""
    return np.matmul(a, b)


@matmul.defgrad
def _matmul_grad(g, out, a, b, needs=(True, True)):
    ga = gb = None
    if needs[0]:
        ga = unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)
    if needs[1]:
        if a.ndim > 2 and b.ndim == 2:
            # A weight shared over leading axes (Dense on a sequence): fold them.
            gb = np.matmul(a.reshape(-1, a.shape[-1]).T, g.reshape(-1, g.shape[-1]))
        else:
            gb = unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)
    return ga, gb


# --- shape ------------------------------------------------------------------

@primitive()
def reshape(x, shape=None):
    """Reshapes (one size may be -1)."""
    return np.reshape(x, shape)


@reshape.defgrad
def _reshape_grad(g, out, x, shape=None):
    return (np.reshape(g, np.shape(x)),)


@primitive()
def transpose(x, axes=None):
    """Permutes axes (reverses them when `axes` is None)."""
    return np.transpose(x, axes)


@transpose.defgrad
def _transpose_grad(g, out, x, axes=None):
    inverse = None if axes is None else tuple(np.argsort(axes))
    return (np.transpose(g, inverse),)


@primitive()
def concatenate(*xs, axis=-1):
    """Joins arrays along an existing axis."""
    return np.concatenate(xs, axis=axis)


@concatenate.defgrad
def _concatenate_grad(g, out, *xs, axis=-1):
    bounds = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return tuple(np.split(g, bounds, axis=axis))


@primitive()
def tile(x, reps=None):
    """Repeats the whole array `reps[i]` times along axis i (same rank)."""
    return np.tile(x, reps)


@tile.defgrad
def _tile_grad(g, out, x, reps=None):
    # np.tile pads the shorter of `reps` and the shape with leading 1s.
    rank = builtins.max(len(reps), np.ndim(x))
    reps = (1,) * (rank - len(reps)) + tuple(reps)
    shape = (1,) * (rank - np.ndim(x)) + tuple(np.shape(x))
    interleaved = []
    for r, n in zip(reps, shape):
        interleaved.extend([r, n])
    summed = g.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(shape), 2)))
    return (summed.reshape(np.shape(x)),)


@primitive()
def repeat(x, repeats=1, axis=0):
    """Repeats each element `repeats` times along `axis` (`K.repeat_elements`)."""
    return np.repeat(x, repeats, axis=axis)


@repeat.defgrad
def _repeat_grad(g, out, x, repeats=1, axis=0):
    shape = list(np.shape(x))
    axis = axis % len(shape)
    split = shape[:axis] + [shape[axis], repeats] + shape[axis + 1:]
    return (g.reshape(split).sum(axis=axis + 1),)


def _is_basic_index(key):
    items = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis
               for k in items)


@primitive()
def getitem(x, key=None):
    """`x[key]` for any NumPy index (slices, integers, integer arrays, masks)."""
    return np.asarray(x)[key]


@getitem.defgrad
def _getitem_grad(g, out, x, key=None):
    gx = np.zeros(np.shape(x), dtype=g.dtype)
    if _is_basic_index(key):
        gx[key] = g
    else:
        np.add.at(gx, key, g)
    return (gx,)


@primitive()
def gather(x, indices, axis=0):
    """Picks slices of `x` along `axis` at integer `indices` (`K.gather`)."""
    return np.take(x, np.asarray(indices).astype(np.intp), axis=axis)


@gather.defgrad
def _gather_grad(g, out, x, indices, axis=0):
    indices = np.asarray(indices).astype(np.intp)
    axis = axis % np.ndim(x)
    gx = np.zeros(np.shape(x), dtype=g.dtype)
    moved = np.moveaxis(gx, axis, 0)  # a view: writes land in gx
    g_moved = np.moveaxis(g, tuple(range(axis, axis + indices.ndim)),
                          tuple(range(indices.ndim)))
    np.add.at(moved, indices, g_moved)
    return gx, None


@primitive()
def pad(x, pad_width=None, constant=0.0):
    """Pads with a constant; `pad_width` as in `np.pad` (one (before, after) per axis)."""
    return np.pad(x, pad_width, mode='constant', constant_values=constant)


@pad.defgrad
def _pad_grad(g, out, x, pad_width=None, constant=0.0):
    index = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, np.shape(x)))
    return (g[index],)


# --- reductions -------------------------------------------------------------

def _axes(axis, ndim):
    """Normalises a reduction axis argument to a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(sorted(a % ndim for a in axis))
    return (axis % ndim,)


def _expand_reduced(g, x, axis, keepdims):
    """Reshapes a reduced gradient so it broadcasts against the input `x`."""
    if keepdims:
        return g
    shape = list(np.shape(x))
    for a in _axes(axis, len(shape)):
        shape[a] = 1
    return np.reshape(g, shape)


@primitive()
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over `axis` (int, tuple or None for all)."""
    return np.asarray(np.sum(x, axis=axis, keepdims=keepdims))


@sum.defgrad
def _sum_grad(g, out, x, axis=None, keepdims=False):
    return (np.broadcast_to(_expand_reduced(g, x, axis, keepdims), np.shape(x)),)


@primitive()
def mean(x, axis=None, keepdims=False):
    """Mean over `axis`."""
    return np.asarray(np.mean(x, axis=axis, keepdims=keepdims))


@mean.defgrad
def _mean_grad(g, out, x, axis=None, keepdims=False):
    count = int(np.prod([np.shape(x)[a] for a in _axes(axis, np.ndim(x))]))
    g = _expand_reduced(g, x, axis, keepdims) / count
    return (np.broadcast_to(g, np.shape(x)).astype(out.dtype, copy=False),)


def _extremum_grad(g, out, x, axis, keepdims):
    """Gradient of max/min: shared equally among the elements that attain it."""
    out_b = _expand_reduced(out, x, axis, keepdims)
    hits = (np.asarray(x) == out_b)
    counts = hits.sum(axis=_axes(axis, np.ndim(x)), keepdims=True)
    return ((hits * (_expand_reduced(g, x, axis, keepdims) / counts)).astype(g.dtype),)


@primitive()
def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum over `axis`; ties share the gradient equally (as TensorFlow)."""
    return np.asarray(np.max(x, axis=axis, keepdims=keepdims))


@max.defgrad
def _max_grad(g, out, x, axis=None, keepdims=False):
    return _extremum_grad(g, out, x, axis, keepdims)


@primitive()
def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over `axis`; ties share the gradient equally."""
    return np.asarray(np.min(x, axis=axis, keepdims=keepdims))


@min.defgrad
def _min_grad(g, out, x, axis=None, keepdims=False):
    return _extremum_grad(g, out, x, axis, keepdims)


@primitive()
def prod(x, axis=None, keepdims=False):
    """Product over `axis`."""
    return np.asarray(np.prod(x, axis=axis, keepdims=keepdims))


@prod.defgrad
def _prod_grad(g, out, x, axis=None, keepdims=False):
    # The product of all the *other* elements, without dividing by x (zeros are
    # fine): exclusive cumulative products from the left and from the right.
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    others = np.transpose(others, np.argsort(rest + list(axes)))
    return ((others * _expand_reduced(g, x, axis, keepdims)).astype(g.dtype),)


@primitive()
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, computed stably."""
    x = np.asarray(x)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


@logsumexp.defgrad
def _logsumexp_grad(g, out, x, axis=None, keepdims=False):
    out_b = _expand_reduced(out, x, axis, keepdims)
    return ((_expand_reduced(g, x, axis, keepdims) * np.exp(x - out_b)).astype(g.dtype),)


@primitive()
def cumsum(x, axis=0):
    """Cumulative sum along `axis`."""
    return np.cumsum(x, axis=axis)


@cumsum.defgrad
def _cumsum_grad(g, out, x, axis=0):
    if axis is None:  # the forward flattened x first
        flat = np.flip(np.cumsum(np.flip(g.ravel())))
        return (flat.reshape(np.shape(x)),)
    return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


@primitive()
def cumprod(x, axis=0):
    """Cumulative product along `axis` (`axis=None`: of the flattened array)."""
    return np.cumprod(x, axis=axis)


@cumprod.defgrad
def _cumprod_grad(g, out, x, axis=0):
    # out[j] = x[0] * ... * x[j], so d out[j] / d x[i] (i <= j) is that product
    # without its factor x[i]: prod(x[:i]) * prod(x[i+1 : j+1]). Summing over j
    # without dividing by x[i] keeps the rule exact where x has zeros.
    x = np.asarray(x)
    flat = axis is None
    xs = x.reshape(-1) if flat else np.moveaxis(x, axis, -1)
    gs = g.reshape(-1) if flat else np.moveaxis(g, axis, -1)
    dtype = np.result_type(g, x)
    grad = np.zeros(xs.shape, dtype)
    n = xs.shape[-1]
    for i in range(n):
        before = np.prod(xs[..., :i], axis=-1)
        after = np.cumprod(xs[..., i + 1:], axis=-1)            # for j = i+1 .. n-1
        after = np.concatenate([np.ones(xs.shape[:-1] + (1,), dtype), after], axis=-1)
        grad[..., i] = before * np.sum(gs[..., i:] * after, axis=-1)
    if flat:
        return (grad.reshape(x.shape),)
    return (np.moveaxis(grad, -1, axis),)


argmax = primitive('argmax', differentiable=False)(
    lambda x, axis=-1: np.argmax(x, axis=axis))
argmax.__doc__ = 'Index of the maximum along `axis` (no gradient).'
argmin = primitive('argmin', differentiable=False)(
    lambda x, axis=-1: np.argmin(x, axis=axis))
argmin.__doc__ = 'Index of the minimum along `axis` (no gradient).'
reduce_all = primitive('all', differentiable=False)(
    lambda x, axis=None, keepdims=False: np.all(x, axis=axis, keepdims=keepdims))
reduce_all.__doc__ = 'Logical and over `axis` (no gradient).'
reduce_any = primitive('any', differentiable=False)(
    lambda x, axis=None, keepdims=False: np.any(x, axis=axis, keepdims=keepdims))
reduce_any.__doc__ = 'Logical or over `axis` (no gradient).'


@primitive(differentiable=False)
def one_hot(indices, num_classes=None, dtype='float32'):
    """One-hot encoding on a new last axis (no gradient)."""
    indices = np.asarray(indices).astype(np.intp)
    return (indices[..., None] == np.arange(num_classes)).astype(dtype)
