"""Reverse-mode automatic differentiation with a tape.

While a `GradientTape` is open, every primitive whose inputs depend on a watched
`Variable` is recorded: its inputs, its attributes and its output. The output is
returned as a `Traced` value (an array that remembers it is on the tape).
`tape.gradient(target, sources)` then walks the records backwards, applying each
primitive's gradient rule and summing the gradients that reach every value.

This is the whole autodiff engine; there is no graph compiler behind it.
"""
import numpy as np

from refkeras.backend import tensors
from refkeras.backend.tensors import Traced, Variable

_ACTIVE_TAPES = []
_IMPLEMENTATION = {'table': None}


def set_implementation_table(table, arrays=None):
    """Routes primitives to another backend's implementations (used by `accel`).

    # Arguments
        table: None for the NumPy reference, or a dict mapping primitive names to
            objects with `forward` and `grad` attributes.
        arrays: where that backend keeps values: an object with the functions
            of `tensors.HostArrays` (None: NumPy arrays, as the reference).
    """
    _IMPLEMENTATION['table'] = table
    tensors._ARRAYS['current'] = arrays or tensors.HostArrays


def implementation_table():
    """The table installed by `set_implementation_table` (None: the reference)."""
    return _IMPLEMENTATION['table']


def _value(x):
    """The concrete array (or Python scalar) behind a tensor-like argument."""
    if isinstance(x, (Traced, Variable)):
        return x.value
    return x


def _filled_like(x, fill_value):
    """An array of the running backend shaped and typed like `x`, filled."""
    value = _value(x)
    dtype = value.dtype if hasattr(value, 'dtype') else np.asarray(value).dtype
    return tensors.backend_arrays().full(np.shape(value), fill_value, dtype)


class _Record(object):
    __slots__ = ('prim', 'inputs', 'values', 'attrs', 'output')

    def __init__(self, prim, inputs, values, attrs, output):
        self.prim = prim
        self.inputs = inputs
        self.values = values
        self.attrs = attrs
        self.output = output


class GradientTape(object):
    """Records primitives for reverse-mode differentiation.

    # Arguments
        watch: the variables to differentiate against. Primitives that depend on
            none of them (nor on values computed from them) are not recorded, so
            frozen layers cost no backward work. `None` watches every variable.
        persistent: if False (the default, as in TensorFlow), `gradient` may be
            called once, after which the records are released (they hold every
            activation of the step).

    # Example
    ```python
    with GradientTape([w]) as tape:
        loss = K.sum(K.square(K.dot(x, w)))
    grad_w, = tape.gradient(loss, [w])
    ```
    """

    def __init__(self, watch=None, persistent=False):
        self.records = []
        self._producers = {}   # id of a recorded output -> its record
        self.watched = None if watch is None else {id(v) for v in watch}
        self.persistent = persistent
        self.used = False

    def __enter__(self):
        _ACTIVE_TAPES.append(self)
        return self

    def __exit__(self, *exc):
        _ACTIVE_TAPES.remove(self)
        return False

    def tracks(self, x):
        """Whether `x` is a value this tape must differentiate through."""
        if isinstance(x, Traced):
            return x.tape is self
        if isinstance(x, Variable):
            return self.watched is None or id(x) in self.watched
        return False

    def record(self, prim, inputs, values, attrs, output):
        traced = Traced(output, self)
        rec = _Record(prim, inputs, values, attrs, traced)
        self.records.append(rec)
        self._producers[id(traced)] = rec
        return traced

    def producer(self, x):
        """How this tape's value `x` was computed: the record of the primitive
        that returned it (`prim`, `inputs`, `attrs`), or None for anything else.

        Used to see a chain the backend runs as one fused primitive (a softmax
        followed by a crossentropy, see `K.categorical_crossentropy`). The record's
        `inputs` are the tensors the primitive was given, so using them keeps
        the computation on the tape.
        """
        if not isinstance(x, Traced) or x.tape is not self:
            return None
        return self._producers.get(id(x))

    def gradient(self, target, sources):
        """Gradients of the scalar `target` with respect to each of `sources`.

        # Arguments
            target: a `Traced` value produced under this tape; non-scalar
                targets are summed first (as TensorFlow's `gradients` does).
            sources: list of `Variable`s or `Traced` values.

        # Returns
            A list of arrays, one per source; a source that `target` does not
            depend on gets zeros of its shape.
        """
        if self.used:
            raise RuntimeError('A non-persistent GradientTape can only compute one set of '
                               'gradients; create it with persistent=True to call gradient '
                               'again.')
        out = self.gradient_keeping_records(target, sources)
        if not self.persistent:
            self.used = True
            self.records = []  # also breaks the tape <-> traced values reference cycle
            self._producers = {}
        return out

    def gradient_keeping_records(self, target, sources):
        """As `gradient`, but the tape stays usable, persistent or not.

        `K.gradients` uses it for a gradient asked for in the middle of a
        computation that is itself being differentiated (a layer that calls
        `K.gradients` in its `call`, while `fit` records the step): the step's
        own gradient is computed afterwards from the same records. The
        gradients returned are plain arrays, constants for the rest of the
        computation (no second derivatives).
        """
        if not isinstance(target, Traced) or target.tape is not self:
            return [_filled_like(s, 0) for s in sources]
        grads = {id(target): _filled_like(target, 1)}
        table = _IMPLEMENTATION['table']
        # A source may itself be a recorded value (an intermediate result):
        # its gradient is kept when the walk passes the primitive producing it.
        wanted = {id(s) for s in sources}
        for rec in reversed(self.records):
            key = id(rec.output)
            g = grads.get(key) if key in wanted else grads.pop(key, None)
            if g is None:
                continue
            impl = rec.prim if table is None else table[rec.prim.name]
            attrs = rec.attrs
            if rec.prim.wants_needs:
                attrs = dict(attrs, needs=tuple(self.tracks(x) for x in rec.inputs))
            input_grads = impl.grad(g, rec.output.value, *rec.values, **attrs)
            for x, gx in zip(rec.inputs, input_grads):
                if gx is None or not self.tracks(x):
                    continue
                key = id(x)
                if key in grads:
                    grads[key] = grads[key] + gx
                else:
                    grads[key] = gx
        out = []
        for s in sources:
            g = grads.get(id(s))
            out.append(_filled_like(s, 0) if g is None else g)
        return out


def active_tape():
    """The innermost open tape, or None."""
    return _ACTIVE_TAPES[-1] if _ACTIVE_TAPES else None


def apply(prim, *inputs, **attrs):
    """Runs a primitive on concrete inputs, recording it if a tape needs it.

    # Arguments
        prim: a registered `Primitive`.
        *inputs: arrays, Python scalars, `Variable`s or `Traced` values.
        **attrs: the primitive's non-differentiable attributes (axes, shapes...).

    # Returns
        A NumPy array, or a `Traced` array when recorded on a tape.
    """
    values = [_value(x) for x in inputs]
    table = _IMPLEMENTATION['table']
    forward = prim.forward if table is None else table[prim.name].forward
    out = forward(*values, **attrs)
    if _ACTIVE_TAPES and prim.differentiable:
        tape = _ACTIVE_TAPES[-1]
        for x in inputs:
            if tape.tracks(x):
                return tape.record(prim, inputs, values, attrs, out)
    return out
