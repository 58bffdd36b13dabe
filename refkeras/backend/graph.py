"""Symbolic graphs, evaluated eagerly (docs/design.md, invariant 4).

A `SymbolicTensor` knows the node that computes it. Two kinds of node exist:

- `engine.Node`: a layer called on symbolic tensors (the graph a `Model` is).
- `OpNode`: a backend function (`K.sum`, `K.concatenate`, ...) called on
  symbolic tensors; such graphs are what `K.function` evaluates.

`evaluate(outputs, feed)` runs the nodes needed for `outputs` in topological
order on concrete arrays. The learning phase (FAQ: "How can I obtain the output
of an intermediate layer?") is part of the evaluation: `K.learning_phase()`
returns the placeholder while graphs are built and the current 0/1 value while
they run.
"""
import contextlib

import numpy as np

from refkeras.backend import tape as tape_module
from refkeras.backend.tape import GradientTape, active_tape
from refkeras.backend.tensors import SymbolicTensor, Traced, any_symbolic

LEARNING_PHASE = SymbolicTensor((), dtype='uint8', name='keras_learning_phase')
_PHASE = {'running': [], 'fixed': None}


def learning_phase():
    """The learning phase flag: 0 = test, 1 = train.

    # Returns
        While a graph is being built, the placeholder to pass to `K.function`;
        while one is evaluated (or after `set_learning_phase`), the int value.
    """
    if _PHASE['fixed'] is not None:
        return _PHASE['fixed']
    if _PHASE['running']:
        return _PHASE['running'][-1]
    return LEARNING_PHASE


def set_learning_phase(value):
    """Fixes the learning phase to 0 or 1 for everything run afterwards.

    # Arguments
        value: 0 (test) or 1 (training).

    # Raises
        ValueError: if `value` is not 0 or 1.
    """
    if value not in (0, 1):
        raise ValueError('Expected learning phase to be 0 or 1, received %r.' % (value,))
    _PHASE['fixed'] = int(value)


def reset_learning_phase():
    """Forgets a phase fixed by `set_learning_phase` (used by `clear_session`)."""
    _PHASE['fixed'] = None


def running():
    """Whether a graph is being evaluated (a model or `K.function` runs)."""
    return bool(_PHASE['running'])


@contextlib.contextmanager
def running_phase(value):
    """Context in which `learning_phase()` returns `value` (unless fixed)."""
    _PHASE['running'].append(int(value))
    try:
        yield
    finally:
        _PHASE['running'].pop()


def _dummy(t, fill):
    """A zero array standing in for a symbolic tensor during shape inference."""
    shape = tuple(fill if d is None else d for d in t.shape)
    return np.zeros(shape, dtype=t.dtype)


def _map_structure(fn, value):
    if isinstance(value, (list, tuple)):
        return type(value)(_map_structure(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: _map_structure(fn, v) for k, v in value.items()}
    return fn(value)


def _flatten_symbolic(value, out):
    if isinstance(value, SymbolicTensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _flatten_symbolic(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _flatten_symbolic(v, out)
    return out


def infer_output_shapes(fn, inputs_structure):
    """Static output shape(s) of `fn` by running it twice on zeros.

    Unknown (`None`) sizes are replaced by 2, then by 3; output sizes that differ
    between the two runs are unknown too (if either run fails, one run with 1
    is tried, then 16 and 17, for windows larger than 3). Runs in test phase,
    off any tape.

    # Returns
        (shapes, dtypes, is_sequence): lists of shapes and dtypes, and whether
        `fn` returned a list/tuple.
    """
    def run(fill):
        def concrete(v):
            if v is LEARNING_PHASE:
                return 0
            return _dummy(v, fill) if isinstance(v, SymbolicTensor) else v
        return fn(_map_structure(concrete, inputs_structure))

    saved_tapes = list(tape_module._ACTIVE_TAPES)
    del tape_module._ACTIVE_TAPES[:]
    try:
        with running_phase(0), np.errstate(all='ignore'):
            try:
                first, second = run(2), run(3)
            except Exception as error:
                # Unknown sizes may meet fixed ones (a (2, 3) constant plus a
                # (None, 3) placeholder): size 1 broadcasts against anything.
                # The result's sizes are then taken as known.
                try:
                    first = second = run(1)
                except Exception:
                    # A convolution or pooling window larger than the sizes
                    # tried: larger unknown sizes.
                    try:
                        first, second = run(16), run(17)
                    except Exception:
                        raise error
    finally:
        tape_module._ACTIVE_TAPES.extend(saved_tapes)
    seq = isinstance(first, (list, tuple))
    if not seq:
        first, second = [first], [second]
    shapes, dtypes = [], []
    for a, b in zip(first, second):
        # Only shapes and dtypes are read: the values may be in device memory.
        a_shape, b_shape = np.shape(a), np.shape(b)
        if len(a_shape) != len(b_shape):
            shapes.append(None)
        else:
            shapes.append(tuple(n if n == m else None for n, m in zip(a_shape, b_shape)))
        dtypes.append(_dtype_of(a))
    return shapes, dtypes, seq


def _dtype_of(x):
    return np.dtype(x.dtype) if hasattr(x, 'dtype') else np.asarray(x).dtype


class OpNode(object):
    """A backend function applied to symbolic tensors, run when evaluated.

    # Arguments
        fn: the backend function (e.g. `K.sum`).
        args, kwargs: its arguments, symbolic tensors among them.
    """

    def __init__(self, fn, args, kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.inputs = _flatten_symbolic([args, kwargs], [])
        shapes, dtypes, self.returns_sequence = infer_output_shapes(
            lambda a: fn(*a[0], **a[1]), [args, kwargs])
        name = getattr(fn, '__name__', 'op')
        self.outputs = [SymbolicTensor(s if s is not None else (), d, name='%s:%d' % (name, i),
                                       node=self, index=i)
                        for i, (s, d) in enumerate(zip(shapes, dtypes))]
        for out in self.outputs:
            out._uses_learning_phase = any(getattr(t, '_uses_learning_phase', False) or
                                           t is LEARNING_PHASE for t in self.inputs)

    def run(self, values, masks):
        lookup = {id(t): v for t, v in zip(self.inputs, values)}

        def concrete(v):
            return lookup[id(v)] if isinstance(v, SymbolicTensor) else v
        args = _map_structure(concrete, self.args)
        kwargs = _map_structure(concrete, self.kwargs)
        result = self.fn(*args, **kwargs)
        outs = list(result) if self.returns_sequence else [result]
        return outs, [None] * len(outs)


def symbolic_aware(fn):
    """Lets a backend function accept symbolic tensors.

    Called on concrete values, `fn` runs at once. Called with any symbolic
    tensor among its arguments, it returns symbolic output(s) computed later,
    when the graph is evaluated.

    # Arguments
        fn: the backend function (on concrete values).

    # Returns
        The wrapped function (same name and docstring).
    """
    def wrapper(*args, **kwargs):
        if any_symbolic(args) or any_symbolic(kwargs.values()):
            node = OpNode(fn, list(args), kwargs)
            return list(node.outputs) if node.returns_sequence else node.outputs[0]
        return fn(*args, **kwargs)
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def topological_nodes(outputs, known):
    """The nodes to run, in order, to compute `outputs` from the tensors in `known`.

    # Arguments
        outputs: list of symbolic tensors.
        known: set of ids of tensors whose values are given.

    # Raises
        ValueError: if a needed placeholder or `Input` is not given.
    """
    order, seen = [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        if id(tensor) in known:
            continue
        node = tensor.node
        if node is None:
            raise ValueError('You must feed a value for placeholder tensor %r: it is needed to '
                             'compute the requested outputs but is not among the inputs given.'
                             % tensor.name)
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((tensor, True))
        for t in reversed(node.inputs):
            if id(t) not in known and (t.node is None or id(t.node) not in seen):
                stack.append((t, False))
    return order


def evaluate(outputs, feed, phase=0, order=None, return_masks=False, feed_masks=None):
    """Computes symbolic `outputs` from concrete values of some tensors.

    # Arguments
        outputs: list of symbolic tensors.
        feed: list of `(symbolic tensor, value)` pairs.
        phase: learning phase for this evaluation (0 test, 1 train).
        order: precomputed `topological_nodes` (models cache theirs).
        return_masks: also return the output masks.
        feed_masks: optional masks for the fed tensors, aligned with `feed`.

    # Returns
        The list of output values (and the list of masks if asked).
    """
    try:
        return _evaluate(outputs, feed, phase, order, return_masks, feed_masks)
    except GradientsNeedRecordingError:
        if active_tape() is not None:
            raise
    # A node asked `K.gradients` for the gradient of values computed along the
    # way (a Lambda layer of Keras's example `mnist_swwae.py`), and no tape
    # records this evaluation: run it again from the start, recording every
    # primitive that depends on a variable. (What the nodes before the failing
    # one changed, e.g. a stateful RNN's states, was changed once already.)
    with GradientTape(watch=None, persistent=True):
        result = _evaluate(outputs, feed, phase, order, return_masks, feed_masks)
    return _untraced(result)


class GradientsNeedRecordingError(ValueError):
    """`K.gradients` was asked about a concrete computation nobody recorded."""


def _untraced(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_untraced(v) for v in value)
    return value.value if isinstance(value, Traced) else value


def _evaluate(outputs, feed, phase, order, return_masks, feed_masks):
    cache = {}
    for i, (t, v) in enumerate(feed):
        cache[id(t)] = (v, feed_masks[i] if feed_masks else None)
    cache[id(LEARNING_PHASE)] = (phase, None)
    if order is None:
        order = topological_nodes(outputs, set(cache))
    with running_phase(phase):
        for node in order:
            entries = [cache[id(t)] for t in node.inputs]
            outs, masks = node.run([e[0] for e in entries], [e[1] for e in entries])
            for t, o, m in zip(node.outputs, outs, masks):
                cache[id(t)] = (o, m)
    values = [cache[id(t)][0] for t in outputs]
    if return_masks:
        return values, [cache[id(t)][1] for t in outputs]
    return values
