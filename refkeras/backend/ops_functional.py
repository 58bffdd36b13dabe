"""Higher-order backend functions: `K.map_fn`, `K.foldl`, `K.foldr` (Keras 2.2.4 names).

Each one is a Python loop over the first axis of `elems` that calls `fn` on
one slice at a time and joins the results with existing primitives
(`slice_item`, `stack`), so that whatever `fn` computes is differentiable as
it is. On symbolic tensors the loop runs when the graph is evaluated, over
the actual length of the first axis (which may be unknown, None, when the
graph is built).
"""
from refkeras.backend.graph import symbolic_aware
from refkeras.backend.ops import _t, cast, int_shape, slice_item, stack

__all__ = ['map_fn', 'foldl', 'foldr']


def _length(elems, function):
    shape = int_shape(elems)
    if not shape:
        raise ValueError('%s: `elems` must have at least one axis to iterate over; '
                         'received a scalar.' % function)
    return shape[0]


@symbolic_aware
def map_fn(fn, elems, name=None, dtype=None):
    """`fn` applied to each slice `elems[i]` of the first axis, results stacked.

    # Arguments
        fn: callable taking one slice and returning a tensor (every call
            the same shape).
        elems: tensor whose first axis is iterated over.
        name: unused (Keras passes it to TensorFlow as an op name).
        dtype: the results' dtype, when it differs from `elems`' (they are
            cast to it).

    # Returns
        A tensor of shape `(len(elems),) + shape of fn's result`.

    # Raises
        ValueError: if `elems` is a scalar or has no element.
    """
    n = _length(elems, 'map_fn')
    if n == 0:
        raise ValueError('map_fn: `elems` has no element along its first axis, so the '
                         'shape of the result is unknown.')
    results = [fn(slice_item(_t(elems), i)) for i in range(n)]
    if dtype is not None:
        results = [cast(r, dtype) for r in results]
    return stack(results, axis=0)


def _fold(fn, elems, initializer, order, function):
    n = _length(elems, function)
    elems = _t(elems)
    indices = list(order(range(n)))
    if initializer is None:
        if n == 0:
            raise ValueError('%s: `elems` is empty and no `initializer` was given.' % function)
        accumulator = slice_item(elems, indices[0])
        indices = indices[1:]
    else:
        accumulator = initializer
    for i in indices:
        accumulator = fn(accumulator, slice_item(elems, i))
    return accumulator


@symbolic_aware
def foldl(fn, elems, initializer=None, name=None):
    """Reduces `elems` from the first element to the last with `fn`.

    # Arguments
        fn: callable `fn(accumulator, element)` returning the new
            accumulator (for instance `lambda acc, x: acc + x`).
        elems: tensor whose first axis is iterated over.
        initializer: the first accumulator (default: `elems[0]`, and the
            fold starts at `elems[1]`).
        name: unused (a TensorFlow op name in Keras).

    # Returns
        The last accumulator.

    # Raises
        ValueError: if `elems` is a scalar, or empty without `initializer`.
    """
    return _fold(fn, elems, initializer, lambda r: r, 'foldl')


@symbolic_aware
def foldr(fn, elems, initializer=None, name=None):
    """Reduces `elems` from the last element to the first with `fn`.

    # Arguments
        fn: callable `fn(accumulator, element)` returning the new accumulator.
        elems: tensor whose first axis is iterated over, from its end.
        initializer: the first accumulator (default: `elems[-1]`, and the
            fold continues with `elems[-2]`).
        name: unused (a TensorFlow op name in Keras).

    # Returns
        The last accumulator.

    # Raises
        ValueError: if `elems` is a scalar, or empty without `initializer`.
    """
    return _fold(fn, elems, initializer, reversed, 'foldr')
