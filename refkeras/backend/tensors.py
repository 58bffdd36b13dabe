"""The three kinds of tensor a refkeras user meets.

- `Variable`: a named, mutable array (a weight, an optimizer slot, a state).
- `SymbolicTensor`: a placeholder in a graph (what `Input()` and calling a layer
  on `Input()` return). It has a static shape with `None` for unknown sizes and
  remembers how it is computed, so `Model` and `K.function` can evaluate it.
- `Traced`: a concrete array produced while a gradient tape records.

Plain arrays are the fourth, anonymous kind: what eager code sees when no
tape is recording. All kinds support Python's arithmetic operators, which call
the backend functions (`x + y` is `K.add(x, y)`, `x[i]` is `K.slice_item`).

Where values live: the reference keeps them in NumPy arrays (`HostArrays`). A
backend that keeps them elsewhere (accel: device memory) installs its own
`arrays` object with the same four functions, through
`tape.set_implementation_table`; those functions are the only places where
values cross between the host and the backend.
"""
import numpy as np


class HostArrays(object):
    """How the reference stores tensor values: NumPy arrays in host memory."""

    name = 'numpy'

    @staticmethod
    def is_array(x):
        """Whether `x` is an array of this backend."""
        return isinstance(x, np.ndarray)

    @staticmethod
    def array(value, dtype=None, copy=True):
        """`value` (host data or an array of this backend) as an array of this
        backend, converted to `dtype` if given; a new copy unless `copy=False`."""
        return np.array(value, dtype=dtype) if copy else np.asarray(value, dtype=dtype)

    @staticmethod
    def to_host(value):
        """A new NumPy array holding `value`."""
        return np.array(value)

    @staticmethod
    def full(shape, fill_value, dtype):
        """An array of this backend of `shape` filled with `fill_value`."""
        return np.full(shape, fill_value, dtype=dtype)


_ARRAYS = {'current': HostArrays}


def backend_arrays():
    """The running backend's array functions (`HostArrays` for the reference)."""
    return _ARRAYS['current']


def _raw(x):
    """The array behind a `Variable` or `Traced` value; anything else as is."""
    return x.value if isinstance(x, (Variable, Traced)) else x


def _K():
    from refkeras.backend import ops  # imported here: at the top it would be a circular import
    return ops


class TensorOps(object):
    """Arithmetic operators for every tensor kind, routed through the backend."""
    # Tell NumPy not to treat these objects as scalars inside its own ufuncs, so
    # that `ndarray + tensor` falls back to `tensor.__radd__`.
    __array_ufunc__ = None

    def __add__(self, other):
        return _K().add(self, other)

    def __radd__(self, other):
        return _K().add(other, self)

    def __sub__(self, other):
        return _K().subtract(self, other)

    def __rsub__(self, other):
        return _K().subtract(other, self)

    def __mul__(self, other):
        return _K().multiply(self, other)

    def __rmul__(self, other):
        return _K().multiply(other, self)

    def __truediv__(self, other):
        return _K().divide(self, other)

    def __rtruediv__(self, other):
        return _K().divide(other, self)

    def __pow__(self, other):
        return _K().pow(self, other)

    def __rpow__(self, other):
        return _K().power(other, self)

    def __matmul__(self, other):
        return _K().dot(self, other)

    def __rmatmul__(self, other):
        return _K().dot(other, self)

    def __neg__(self):
        return _K().negative(self)

    def __abs__(self):
        return _K().abs(self)

    def __getitem__(self, key):
        return _K().slice_item(self, key)

    def __lt__(self, other):
        return _K().less(self, other)

    def __le__(self, other):
        return _K().less_equal(self, other)

    def __gt__(self, other):
        return _K().greater(self, other)

    def __ge__(self, other):
        return _K().greater_equal(self, other)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def T(self):
        return _K().transpose(self)


class Traced(TensorOps):
    """A concrete array recorded on a gradient tape.

    # Arguments
        value: the NumPy array.
        tape: the `GradientTape` that produced it.
    """
    __slots__ = ('value', 'tape')
    __hash__ = object.__hash__

    def __init__(self, value, tape):
        self.value = value
        self.tape = tape

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def __len__(self):
        return len(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __repr__(self):
        return 'Traced(%r)' % (self.value,)


class Variable(TensorOps):
    """A mutable, named array: the backend's variable (`K.variable`).

    The value is kept where the running backend keeps values (a NumPy array
    for the reference, device memory for accel); `assign` copies host data in.

    # Arguments
        value: initial array (host data, or an array of the running backend).
        dtype: dtype to store; defaults to the value's (floats become floatx).
        name: a readable name; weights are named `<layer>/<weight>:0` as in Keras.
        constraint: optional callable applied after each optimizer update.
    """
    __hash__ = object.__hash__

    def __init__(self, value, dtype=None, name=None, constraint=None):
        self.value = backend_arrays().array(_raw(value), dtype=dtype)
        self.name = name or 'Variable'
        self.constraint = constraint
        self._keras_shape = self.value.shape
        self._uses_learning_phase = False

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def assign(self, new_value):
        """Replaces the value, keeping shape and dtype.

        # Raises
            ValueError: if the shape of `new_value` differs from the variable's.
        """
        new_value = _raw(new_value)
        if np.shape(new_value) != self.value.shape:
            raise ValueError('Cannot assign a value of shape %s to variable %r of shape %s.'
                             % (np.shape(new_value), self.name, self.value.shape))
        self.value = backend_arrays().array(new_value, dtype=self.value.dtype)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __repr__(self):
        return "<Variable '%s' shape=%s dtype=%s>" % (self.name, self.shape, self.dtype.name)


class SymbolicTensor(TensorOps):
    """A placeholder in a graph of layers or backend operations.

    # Arguments
        shape: static shape, `None` for sizes unknown until run time.
        dtype: dtype name.
        name: readable name (`dense_1/BiasAdd:0` style names are not kept;
            we use `<layer name>/<index>`).
        node: the graph node that computes it (`engine.Node` for layer calls,
            `backend.graph.OpNode` for backend functions, None for `Input`).
        index: position among the node's outputs.

    A tensor produced by a layer also carries `_keras_history`,
    `(layer, node_index, tensor_index)`, exactly as in Keras.
    """
    __hash__ = object.__hash__

    def __init__(self, shape, dtype='float32', name=None, node=None, index=0):
        self.shape = tuple(shape)
        self._keras_shape = self.shape
        self.dtype = np.dtype(dtype)
        self.name = name or 'tensor'
        self.node = node
        self.index = index
        self._keras_history = None
        self._uses_learning_phase = False

    def __len__(self):
        raise TypeError('The length of symbolic tensor %r is not known until it is evaluated.'
                        % self.name)

    def __bool__(self):
        raise TypeError('Symbolic tensor %r has no truth value until it is evaluated.' % self.name)

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (
            self.name, '(' + ', '.join('?' if d is None else str(d) for d in self.shape) + ')',
            self.dtype.name)


def is_symbolic(x):
    """Whether `x` is a `SymbolicTensor` (Keras's `K.is_keras_tensor` is stricter)."""
    return isinstance(x, SymbolicTensor)


def any_symbolic(values):
    """Whether any element of a (possibly nested) list/tuple/dict is symbolic."""
    for v in values:
        if isinstance(v, SymbolicTensor):
            return True
        if isinstance(v, (list, tuple)) and any_symbolic(v):
            return True
        if isinstance(v, dict) and any_symbolic(v.values()):
            return True
    return False
