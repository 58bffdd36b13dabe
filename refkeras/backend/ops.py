"""The backend functions Keras code calls as `K.<name>` (Keras 2.2.4 names and arguments).

Each function works on NumPy arrays, on `Variable`s, on values recorded by a
gradient tape and, through `symbolic_aware`, on symbolic tensors (then it
returns a symbolic tensor evaluated later by `K.function` or a model). Every
differentiable computation goes through a registered primitive, so gradients
come for free.
"""
import builtins

import numpy as np

from refkeras.backend import graph as graph_module
from refkeras.backend import prims_array
from refkeras.backend import prims_fused
from refkeras.backend import prims_math
from refkeras.backend import prims_nn
from refkeras.backend import state
from refkeras.backend.graph import LEARNING_PHASE, symbolic_aware
from refkeras.backend.tape import GradientTape, active_tape, apply
from refkeras.backend.tensors import SymbolicTensor, Traced, Variable, backend_arrays
from refkeras.backend.tensors import any_symbolic as _any_symbolic

# --- conversion helpers -----------------------------------------------------


def _t(x):
    """Normalises an argument: lists become floatx arrays, NumPy float64
    scalars become Python floats (so they do not promote float32 arrays)."""
    # NumPy scalars first: np.float64 is also a Python float, and would
    # otherwise promote float32 arrays to float64.
    if isinstance(x, np.float64):
        return float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (np.ndarray, Variable, Traced, SymbolicTensor, int, float, bool, np.floating)):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x, dtype=state.floatx())
    return x


def value_of(x):
    """The concrete array behind a concrete tensor (no copy): an array of the
    running backend, or a NumPy array for host data (lists, scalars)."""
    if isinstance(x, (Variable, Traced)):
        return x.value
    if backend_arrays().is_array(x):
        return x
    return np.asarray(x)


def backend_array(x, dtype=None):
    """`x` as an array of the running backend (refkeras addition, not in Keras).

    For the reference this is `np.asarray` (no copy). For accel, host data is
    copied to the device: the training engine calls it once per batch on the
    inputs, targets and sample weights, so that every primitive of the step
    reads them from device memory.

    # Arguments
        x: an array-like or a tensor.
        dtype: optional dtype to convert to.

    # Returns
        An array of the running backend.
    """
    return backend_arrays().array(value_of(x), dtype=dtype, copy=False)


def _in_a_run():
    """Whether a model or `K.function` is running (a graph is being evaluated
    or a gradient tape records), as opposed to code setting a model up."""
    return graph_module.running() or active_tape() is not None


# --- variables, constants, placeholders --------------------------------------

def variable(value, dtype=None, name=None, constraint=None):
    """Creates a `Variable` holding a copy of `value`.

    # Arguments
        value: array-like initial value.
        dtype: defaults to floatx (also for integer values, as in Keras).
        name: optional name.
        constraint: optional projection applied after optimizer updates.

    # Returns
        A `Variable`.
    """
    if _is_scipy_sparse(value):
        value = value.toarray()  # refkeras has no sparse tensors: stored densely
    value = value_of(value)
    if dtype is None:
        dtype = state.floatx()  # as Keras 2.2.4: also for integer values
    return Variable(value, dtype=dtype, name=name or 'variable_%d' % state.get_uid('variable'),
                    constraint=constraint)


def _is_scipy_sparse(value):
    # scipy.sparse matrices, recognised without importing SciPy
    return type(value).__module__.startswith('scipy.sparse') and hasattr(value, 'toarray')


def is_sparse(tensor):
    """Whether `tensor` is a sparse tensor: always False in refkeras, which
    keeps a scipy.sparse matrix given to `K.variable` as a dense array."""
    return False


def to_dense(tensor):
    """`tensor` as a dense tensor (every refkeras tensor is dense already)."""
    return tensor


def constant(value, dtype=None, shape=None, name=None):
    """A constant array (filled with `value` when `shape` is given).

    Made by the running backend while a model runs (e.g. the zero initial
    states of an RNN); otherwise, like the random draws below, on the host as
    a NumPy array, which is what initializers return (see `random_uniform`).

    # Arguments
        value: a number or an array-like.
        dtype: defaults to floatx.
        shape: optional shape to fill with `value`.
        name: accepted for compatibility (constants have no names here).

    # Returns
        An array.
    """
    dtype = dtype or state.floatx()
    if _in_a_run():
        if shape is not None:
            return backend_arrays().full(shape, value, dtype)
        return backend_array(value, dtype=dtype)
    if shape is not None:
        return np.full(shape, value, dtype=dtype)
    return np.asarray(value, dtype=dtype)


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A symbolic input to feed to `K.function`.

    # Arguments
        shape: tuple with `None` for unknown sizes.
        ndim: rank, when `shape` is not given (all sizes unknown).
        dtype: defaults to floatx.
        sparse: not supported (refkeras has no sparse tensors).
        name: optional name.

    # Returns
        A symbolic tensor.

    # Raises
        NotImplementedError: for `sparse=True`.
        ValueError: when neither `shape` nor `ndim` is given.
    """
    if sparse:
        raise NotImplementedError('refkeras has no sparse tensors; pass sparse=False.')
    if shape is None:
        if ndim is None:
            raise ValueError('placeholder needs `shape` or `ndim`.')
        shape = (None,) * ndim
    return SymbolicTensor(shape, dtype or state.floatx(),
                          name=name or 'placeholder_%d' % state.get_uid('placeholder'))


def is_keras_tensor(x):
    """Whether `x` is a symbolic tensor produced by a Keras layer (or `Input`).

    # Arguments
        x: a tensor.

    # Returns
        A bool.

    # Raises
        ValueError: if `x` is not a tensor at all, as Keras does.
    """
    if not is_tensor(x):
        raise ValueError('Unexpectedly found an instance of type `%s`. Expected a symbolic tensor '
                         'instance.' % type(x).__name__)
    return isinstance(x, SymbolicTensor) and x._keras_history is not None


def is_tensor(x):
    """Whether `x` is a backend tensor (symbolic, traced or variable)."""
    return isinstance(x, (SymbolicTensor, Traced, Variable))


def is_placeholder(x):
    """Whether `x` is a symbolic tensor fed from outside (placeholder or Input)."""
    return isinstance(x, SymbolicTensor) and x.node is None


def int_shape(x):
    """The static shape as a tuple of ints (None where unknown)."""
    if isinstance(x, SymbolicTensor):
        return x.shape
    return tuple(np.shape(value_of(x)))


@symbolic_aware
def shape(x):
    """The shape as a (concrete) int array."""
    return np.asarray(np.shape(value_of(x)), dtype='int32')


def ndim(x):
    """The rank."""
    return len(int_shape(x))


def dtype(x):
    """The dtype name, e.g. 'float32'."""
    return np.dtype(x.dtype).name


def eval(x):  # noqa: A001
    """The value of a concrete tensor or variable, as a NumPy array.

    # Arguments
        x: a variable, a concrete tensor, or a symbolic tensor computed from
            variables only.

    # Returns
        A NumPy array.

    # Raises
        ValueError: for a symbolic tensor that depends on a placeholder, which
            needs `K.function` and inputs.
    """
    if isinstance(x, SymbolicTensor):
        if x.node is None:
            raise ValueError('Cannot evaluate placeholder %r without a value; use K.function.'
                             % x.name)
        return backend_arrays().to_host(graph_module.evaluate([x], [])[0])
    return backend_arrays().to_host(value_of(x))


def get_value(x):
    """A copy of a variable's value, as a NumPy array (copied from the device for accel)."""
    return backend_arrays().to_host(value_of(x))


def batch_get_value(xs):
    """Copies of several variables' values."""
    return [get_value(x) for x in xs]


def set_value(x, value):
    """Sets a variable's value from a NumPy array (copied to the device for accel).

    # Raises
        ValueError: if the shapes differ (the variable is left unchanged).
    """
    x.assign(value)


def batch_set_value(tuples):
    """Sets several variables at once; checks every shape before changing any.

    # Arguments
        tuples: list of `(variable, value)` pairs.

    # Raises
        ValueError: naming the first variable whose new value has a wrong shape.
    """
    tuples = [(x, value_of(v)) for x, v in tuples]
    for x, v in tuples:
        if np.shape(v) != x.shape:
            raise ValueError('Cannot set variable %r of shape %s to a value of shape %s.'
                             % (x.name, x.shape, np.shape(v)))
    for x, v in tuples:
        x.assign(v)


def get_variable_shape(x):
    """The shape of a variable."""
    return int_shape(x)


def count_params(x):
    """Number of scalars in a variable or array."""
    return int(np.prod(int_shape(x)))


def _shape_is_symbolic(shape):
    """Whether a shape argument holds symbolic sizes (`(K.shape(x)[0], 2)`)."""
    return isinstance(shape, SymbolicTensor) or (isinstance(shape, (list, tuple)) and
                                                 builtins.any(isinstance(d, SymbolicTensor)
                                                              for d in shape))


def _host_value(x):
    """A small concrete value (a size, a bound) as a NumPy array on the host."""
    x = value_of(x)
    return x if isinstance(x, np.ndarray) else np.asarray(backend_arrays().to_host(x))


def _concrete_shape(shape):
    """A shape argument whose sizes may be 0-d arrays (from `K.shape`), as ints."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, (list, tuple)):
        return tuple(int(d) if isinstance(d, (int, np.integer)) else int(_host_value(d))
                     for d in shape)
    return tuple(int(d) for d in _host_value(shape).ravel())


def _sized_by(tensor, shape):
    """`tensor` (symbolic, made from the shape argument `shape`) with the static
    shape that argument gives: None for each symbolic size. (Shape inference
    runs on stand-in zeros, which would make every symbolic size 0.)"""
    if isinstance(shape, SymbolicTensor):
        rank = int_shape(shape)[0] if int_shape(shape) else None
        static = () if rank is None else (None,) * rank
    else:
        static = tuple(None if isinstance(d, SymbolicTensor) else int(d) for d in shape)
    tensor.shape = tensor._keras_shape = static
    return tensor


@symbolic_aware
def _filled_now(shape, fill_value, dtype):
    return backend_arrays().full(_concrete_shape(shape), fill_value, dtype)


def _filled(shape, fill_value, dtype):
    return _sized_by(_filled_now(shape, fill_value, dtype), shape)


def zeros(shape, dtype=None, name=None):
    """A zero-filled variable; a symbolic tensor if `shape` has symbolic sizes
    (as Keras, which then returns a tensor, a variable needing a known shape)."""
    if _shape_is_symbolic(shape):
        return _filled(shape, 0, dtype or state.floatx())
    return variable(np.zeros(shape, dtype=dtype or state.floatx()), dtype=dtype, name=name)


def ones(shape, dtype=None, name=None):
    """A one-filled variable; a symbolic tensor if `shape` has symbolic sizes."""
    if _shape_is_symbolic(shape):
        return _filled(shape, 1, dtype or state.floatx())
    return variable(np.ones(shape, dtype=dtype or state.floatx()), dtype=dtype, name=name)


def eye(size, dtype=None, name=None):
    """An identity-matrix variable."""
    return variable(np.eye(size, dtype=dtype or state.floatx()), dtype=dtype, name=name)


@symbolic_aware
def zeros_like(x, dtype=None, name=None):
    """Zeros of `x`'s shape."""
    return backend_arrays().full(np.shape(value_of(x)), 0, dtype or value_of(x).dtype)


@symbolic_aware
def ones_like(x, dtype=None, name=None):
    """Ones of `x`'s shape."""
    return backend_arrays().full(np.shape(value_of(x)), 1, dtype or value_of(x).dtype)


@symbolic_aware
def identity(x, name=None):
    """`x` itself (a differentiable identity)."""
    return apply(prims_math.add, x, 0)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A variable filled with uniform draws."""
    return variable(random_uniform(shape, low, high, dtype=dtype, seed=seed), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A variable filled with normal draws."""
    return variable(random_normal(shape, mean, scale, dtype=dtype, seed=seed), dtype, name)


# --- updates ----------------------------------------------------------------

def update(x, new_x):
    """Assigns `new_x` to variable `x`.

    Eagerly, the assignment happens now and `x` is returned. With a symbolic
    `new_x`, the pair `(x, new_x)` is returned for `K.function(updates=...)`.

    # Arguments
        x: a variable.
        new_x: its new value (of `x`'s shape), concrete or symbolic.

    # Returns
        `x`, or the pair `(x, new_x)`.

    # Raises
        ValueError: for a value of another shape (`x` is left unchanged).
    """
    if isinstance(new_x, SymbolicTensor):
        return (x, new_x)
    value = value_of(new_x)
    if np.shape(value) != x.shape:
        raise ValueError('K.update: variable %r has shape %s; the new value has shape %s.'
                         % (x.name, x.shape, np.shape(value)))
    x.value = backend_arrays().array(value, dtype=x.dtype, copy=False)
    return x


def update_add(x, increment):
    """`x += increment`."""
    return update(x, add(x, increment))


def update_sub(x, decrement):
    """`x -= decrement`."""
    return update(x, subtract(x, decrement))


def moving_average_update(x, value, momentum):
    """`x = x * momentum + value * (1 - momentum)`."""
    return update(x, add(multiply(x, momentum), multiply(value, 1 - momentum)))


# --- arithmetic and math ------------------------------------------------------

def _binary(prim, doc):
    def op(x, y):
        return apply(prim, _t(x), _t(y))
    op.__name__ = prim.name
    op.__doc__ = doc
    return symbolic_aware(op)


def _unary(prim, doc=None):
    def op(x):
        return apply(prim, _t(x))
    op.__name__ = prim.name
    op.__doc__ = doc or prim.__doc__
    return symbolic_aware(op)


add = _binary(prims_math.add, 'Elementwise `x + y` with broadcasting.')
subtract = _binary(prims_math.subtract, 'Elementwise `x - y` with broadcasting.')
multiply = _binary(prims_math.multiply, 'Elementwise `x * y` with broadcasting.')
divide = _binary(prims_math.divide, 'Elementwise `x / y` with broadcasting.')
power = _binary(prims_math.power, 'Elementwise `x ** y` with broadcasting.')
maximum = _binary(prims_math.maximum, 'Elementwise maximum.')
minimum = _binary(prims_math.minimum, 'Elementwise minimum.')
equal = _binary(prims_math.equal, 'Elementwise equality (bool).')
not_equal = _binary(prims_math.not_equal, 'Elementwise inequality (bool).')
greater = _binary(prims_math.greater, 'Elementwise `x > y` (bool).')
greater_equal = _binary(prims_math.greater_equal, 'Elementwise `x >= y` (bool).')
less = _binary(prims_math.less, 'Elementwise `x < y` (bool).')
less_equal = _binary(prims_math.less_equal, 'Elementwise `x <= y` (bool).')

negative = _unary(prims_math.negative)
abs = _unary(prims_math.abs)  # noqa: A001
square = _unary(prims_math.square)
sqrt = _unary(prims_math.sqrt)
exp = _unary(prims_math.exp)
log = _unary(prims_math.log)
sin = _unary(prims_math.sin)
cos = _unary(prims_math.cos)
sign = _unary(prims_math.sign)
round = _unary(prims_math.round_)  # noqa: A001
tanh = _unary(prims_nn.tanh)
sigmoid = _unary(prims_nn.sigmoid)
hard_sigmoid = _unary(prims_nn.hard_sigmoid)
softplus = _unary(prims_nn.softplus)
softsign = _unary(prims_nn.softsign)


@symbolic_aware
def pow(x, a):  # noqa: A001
    """Elementwise `x ** a`."""
    return apply(prims_math.power, _t(x), _t(a))


@symbolic_aware
def clip(x, min_value, max_value):
    """Clamps to `[min_value, max_value]` (`max_value < min_value` clamps to min)."""
    if max_value is not None and min_value is not None and max_value < min_value:
        max_value = min_value
    return apply(prims_math.clip, _t(x), min_value=min_value, max_value=max_value)


@symbolic_aware
def cast(x, dtype):
    """Converts to `dtype`."""
    return apply(prims_math.cast, _t(x), dtype=np.dtype(dtype).name)


def cast_to_floatx(x):
    """A NumPy array of floatx dtype."""
    return np.asarray(x, dtype=state.floatx())


@symbolic_aware
def stop_gradient(variables):
    """`variables` (one tensor or a list) with gradients blocked."""
    if isinstance(variables, (list, tuple)):
        return [apply(prims_math.stop_gradient, _t(v)) for v in variables]
    return apply(prims_math.stop_gradient, _t(variables))


@symbolic_aware
def switch(condition, then_expression, else_expression):
    """`then_expression` where `condition` holds, else `else_expression`.

    # Arguments
        condition: a scalar or a tensor of rank <= the expressions' rank
            (broadcast against them).
        then_expression: tensor, or a callable returning one (called first).
        else_expression: tensor, or a callable returning one (called first).

    # Returns
        The selected tensor (elementwise for a non-scalar `condition`).

    # Raises
        ValueError: if `condition` has a higher rank than the expressions.
    """
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    cond = value_of(condition)
    if cond.ndim > ndim(then_expression):
        raise ValueError('K.switch: the rank of `condition` (%d) can not exceed the rank of the '
                         'expressions (%d).' % (cond.ndim, ndim(then_expression)))
    if cond.ndim == 0:
        # A Python-level choice: the condition is read on the host.
        return then_expression if bool(backend_arrays().to_host(cond)) else else_expression
    cond_nd = cond.reshape(cond.shape + (1,) * (ndim(then_expression) - cond.ndim))
    return apply(prims_math.where, cond_nd, _t(then_expression), _t(else_expression))


# --- matrix products -----------------------------------------------------------

@symbolic_aware
def dot(x, y):
    """Matrix product with Keras's N-d rule.

    `(..., n) . (n, m) -> (..., m)`; with `y` of rank > 2, `x`'s last axis meets
    `y`'s second-to-last, giving `x.shape[:-1] + y.shape[:-2] + y.shape[-1:]`.

    # Arguments
        x: tensor.
        y: tensor.

    # Returns
        The product, of the shape above.
    """
    x, y = _t(x), _t(y)
    if ndim(y) <= 2 and ndim(x) >= 2:
        if ndim(y) == 1:
            return reshape(apply(prims_array.matmul, x, reshape(y, (-1, 1))), int_shape(x)[:-1])
        return apply(prims_array.matmul, x, y)
    if ndim(x) == 1:
        return reshape(dot(reshape(x, (1, -1)), y), int_shape(y)[:-2] + int_shape(y)[-1:])
    # y of rank > 2: move y's contracted axis first and flatten the rest.
    ys = int_shape(y)
    perm = [ndim(y) - 2] + [i for i in range(ndim(y)) if i != ndim(y) - 2]
    y2 = reshape(permute_dimensions(y, perm), (ys[-2], -1))
    out = apply(prims_array.matmul, x, y2)
    return reshape(out, int_shape(x)[:-1] + ys[:-2] + ys[-1:])


@symbolic_aware
def batch_dot(x, y, axes=None):
    """Batchwise dot product, as Keras 2.2.4's `K.batch_dot`.

    # Arguments
        x: tensor with a batch axis first, rank >= 2.
        y: tensor with a batch axis first, rank >= 2.
        axes: int or pair: the axes of x and y to contract; defaults to
            (x's last, y's second-to-last (or last, for rank-2 y)).

    # Returns
        A tensor with the batch axis and the remaining axes of `x`, then of `y`.
    """
    x, y = _t(x), _t(y)
    if isinstance(axes, int):
        axes = (axes, axes)
    xn, yn = ndim(x), ndim(y)
    if axes is None:
        axes = [xn - 1, yn - 2 if yn > 2 else yn - 1]
    ax, ay = [a % n for a, n in zip(axes, (xn, yn))]
    if xn == 2 and yn == 2:
        # Two matrices: Keras multiplies elementwise and sums over the axis named
        # (so axes=0 sums over the batch), giving a column.
        product = multiply(x, y) if ax == ay else multiply(transpose(x), y)
        return expand_dims(sum(product, axis=ay if ax != ay else ax), 1)
    # Bring the contracted axes to the matmul positions.
    x_perm = [0] + [i for i in range(1, xn) if i != ax] + [ax]
    y_perm = [0, ay] + [i for i in range(1, yn) if i != ay]
    xt = permute_dimensions(x, x_perm)
    yt = permute_dimensions(y, y_perm)
    xs, ys = int_shape(xt), int_shape(yt)
    x3 = reshape(xt, (xs[0], -1, xs[-1]))
    y3 = reshape(yt, (ys[0], ys[1], -1))
    out = apply(prims_array.matmul, x3, y3)
    out_shape = (xs[0],) + xs[1:-1] + ys[2:]
    out = reshape(out, out_shape)
    if len(out_shape) == 1:
        out = expand_dims(out, 1)
    return out


@symbolic_aware
def transpose(x):
    """Reverses the axes."""
    return apply(prims_array.transpose, _t(x))


@symbolic_aware
def permute_dimensions(x, pattern):
    """Permutes the axes by `pattern`."""
    return apply(prims_array.transpose, _t(x), axes=tuple(pattern))


# --- shapes -------------------------------------------------------------------

@symbolic_aware
def reshape(x, shape):
    """Reshapes; one size may be -1."""
    return apply(prims_array.reshape, _t(x), shape=tuple(int(s) for s in shape))


@symbolic_aware
def expand_dims(x, axis=-1):
    """Adds a 1-sized axis at `axis`."""
    shape = list(int_shape(x))
    axis = axis % (len(shape) + 1)
    return reshape(x, shape[:axis] + [1] + shape[axis:])


@symbolic_aware
def squeeze(x, axis):
    """Removes the 1-sized axis `axis`.

    # Arguments
        x: tensor.
        axis: the axis to remove.

    # Returns
        `x` without that axis.

    # Raises
        ValueError: if the axis is not of size 1.
    """
    shape = list(int_shape(x))
    if shape[axis] != 1:
        raise ValueError('Cannot squeeze axis %d of size %d (shape %s).' % (axis, shape[axis],
                                                                            tuple(shape)))
    del shape[axis]
    return reshape(x, shape)


@symbolic_aware
def flatten(x):
    """All axes into one."""
    return reshape(x, (-1,))


@symbolic_aware
def batch_flatten(x):
    """All axes but the first into one: `(n, ...) -> (n, prod(...))`."""
    return reshape(x, (int_shape(x)[0], -1))


@symbolic_aware
def concatenate(tensors, axis=-1):
    """Joins tensors along `axis`."""
    return apply(prims_array.concatenate, *[_t(t) for t in tensors], axis=axis)


@symbolic_aware
def stack(x, axis=0):
    """Stacks rank-R tensors into one rank-(R+1) tensor."""
    return concatenate([expand_dims(t, axis) for t in x], axis=axis)


@symbolic_aware
def tile(x, n):
    """Tiles `x` `n[i]` times along axis i."""
    if isinstance(n, int):
        n = [n]
    return apply(prims_array.tile, _t(x), reps=tuple(int(r) for r in n))


@symbolic_aware
def repeat_elements(x, rep, axis):
    """Repeats each slice `rep` times along `axis` (like `np.repeat`)."""
    return apply(prims_array.repeat, _t(x), repeats=int(rep), axis=axis)


@symbolic_aware
def repeat(x, n):
    """`(samples, dim) -> (samples, n, dim)`."""
    return tile(expand_dims(x, 1), [1, n, 1])


def arange(start, stop=None, step=1, dtype='int32'):
    """A range as an array (also of symbolic bounds, e.g. `K.shape(x)[0]`)."""
    if _any_symbolic([start, stop, step]):
        out = _arange_now(start, stop, step, dtype)
        out.shape = out._keras_shape = (None,)
        return out
    return _arange_now(start, stop, step, dtype)


@symbolic_aware
def _arange_now(start, stop, step, dtype):
    bounds = [None if b is None else _host_value(b).item() for b in (start, stop, step)]
    return np.arange(bounds[0], bounds[1], bounds[2], dtype=dtype)


@symbolic_aware
def reverse(x, axes):
    """Reverses along `axes`.

    # Arguments
        x: tensor.
        axes: an int or a list of ints.

    # Returns
        A tensor of `x`'s shape.
    """
    if isinstance(axes, int):
        axes = [axes]
    key = [builtins.slice(None)] * ndim(x)
    for a in axes:
        key[a] = builtins.slice(None, None, -1)
    return slice_item(x, tuple(key))


@symbolic_aware
def slice(x, start, size):  # noqa: A001
    """`x[start : start + size]` on every axis (size -1 means to the end)."""
    key = tuple(builtins.slice(s, None if n == -1 else s + n) for s, n in zip(start, size))
    return slice_item(x, key)


@symbolic_aware
def slice_item(x, key):
    """`x[key]` for any NumPy-style index (what the `[]` operator calls)."""
    if isinstance(key, (list, np.ndarray)) and not isinstance(key, tuple):
        key = np.asarray(key)
    return apply(prims_array.getitem, _t(x), key=key)


@symbolic_aware
def gather(reference, indices):
    """Rows of `reference` at integer `indices` (any shape)."""
    return apply(prims_array.gather, _t(reference), value_of(indices))


@symbolic_aware
def one_hot(indices, num_classes):
    """One-hot encoding on a new last axis, in floatx."""
    return apply(prims_array.one_hot, _t(indices), num_classes=num_classes, dtype=state.floatx())


@symbolic_aware
def temporal_padding(x, padding=(1, 1)):
    """Zero-pads axis 1 of a 3D tensor."""
    return apply(prims_array.pad, _t(x), pad_width=((0, 0), tuple(padding), (0, 0)))


def _spatial_padding(x, padding, data_format):
    """Zero-pads the spatial axes (all but batch and channels) by `padding` pairs."""
    data_format = state.normalize_data_format(data_format)
    spatial = [tuple(p) for p in padding]
    if data_format == 'channels_first':
        pads = [(0, 0), (0, 0)] + spatial
    else:
        pads = [(0, 0)] + spatial + [(0, 0)]
    return apply(prims_array.pad, _t(x), pad_width=tuple(pads))


@symbolic_aware
def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zero-pads the two spatial axes of a 4D tensor."""
    return _spatial_padding(x, padding, data_format)


@symbolic_aware
def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zero-pads the three spatial axes of a 5D tensor."""
    return _spatial_padding(x, padding, data_format)


# --- reductions -----------------------------------------------------------------

def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@symbolic_aware
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over `axis`."""
    return apply(prims_array.sum, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (booleans are averaged as floatx)."""
    x = _t(x)
    if value_dtype(x).kind == 'b':
        x = cast(x, state.floatx())
    return apply(prims_array.mean, x, axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum over `axis`."""
    return apply(prims_array.max, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over `axis`."""
    return apply(prims_array.min, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def prod(x, axis=None, keepdims=False):
    """Product over `axis`."""
    return apply(prims_array.prod, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def cumsum(x, axis=0):
    """Cumulative sum along `axis`."""
    return apply(prims_array.cumsum, _t(x), axis=axis)


@symbolic_aware
def cumprod(x, axis=0):
    """Cumulative product of the values along `axis`."""
    return apply(prims_array.cumprod, _t(x), axis=axis)


@symbolic_aware
def var(x, axis=None, keepdims=False):
    """Variance over `axis` (population variance, as TensorFlow)."""
    centred = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centred), axis=axis, keepdims=keepdims)


@symbolic_aware
def std(x, axis=None, keepdims=False):
    """Standard deviation over `axis`."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@symbolic_aware
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, stably."""
    return apply(prims_array.logsumexp, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def any(x, axis=None, keepdims=False):  # noqa: A001
    """Logical or over `axis`."""
    return apply(prims_array.reduce_any, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def all(x, axis=None, keepdims=False):  # noqa: A001
    """Logical and over `axis`."""
    return apply(prims_array.reduce_all, _t(x), axis=_axis(axis), keepdims=keepdims)


@symbolic_aware
def argmax(x, axis=-1):
    """Index of the maximum along `axis`."""
    return apply(prims_array.argmax, _t(x), axis=axis)


@symbolic_aware
def argmin(x, axis=-1):
    """Index of the minimum along `axis`."""
    return apply(prims_array.argmin, _t(x), axis=axis)


def value_dtype(x):
    """The NumPy dtype of any tensor kind or Python number."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(x, (int, float)):
        return np.dtype(state.floatx())
    return np.dtype(x.dtype)


# --- activations and losses ---------------------------------------------------------

@symbolic_aware
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit (see `prims_nn.relu`)."""
    return apply(prims_nn.relu, _t(x), alpha=alpha, max_value=max_value, threshold=threshold)


@symbolic_aware
def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return apply(prims_nn.elu, _t(x), alpha=alpha)


@symbolic_aware
def softmax(x, axis=-1):
    """Softmax along `axis`."""
    return apply(prims_nn.softmax, _t(x), axis=axis)


def _check_axis(output, axis):
    if axis != -1 and axis not in range(ndim(output)):
        raise ValueError('Unexpected channels axis %r: expected -1 or one of the axes of '
                         '`output`, which has %d dimensions.' % (axis, ndim(output)))


def _softmax_logits(output, axis):
    """The logits `output` is the softmax of along `axis`, when the active tape
    recorded that softmax; else None (no tape, or any other computation)."""
    tape = active_tape()
    record = tape.producer(output) if tape is not None else None
    if record is None or record.prim is not prims_nn.softmax:
        return None
    rank = ndim(output)
    if record.attrs.get('axis', -1) % rank != axis % rank:
        return None
    return record.inputs[0]


def _fusable_target(target, logits):
    """Whether a fused crossentropy takes this target as the composition does
    (same shape and floating dtype as the logits or probabilities; otherwise the
    composition runs, broadcasting and type promotion included)."""
    return (int_shape(target) == int_shape(logits) and
            value_dtype(target) == value_dtype(logits) and value_dtype(logits).kind == 'f')


@symbolic_aware
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy of one-hot (or soft) targets and class probabilities.

    As Keras 2.2.4: without `from_logits`, `output` is rescaled to sum to 1 and
    clipped to `[epsilon, 1 - epsilon]` before the logarithm.

    When `output` is the softmax (along `axis`) of logits recorded on the active
    gradient tape, as for a model ending in `Dense(n, activation='softmax')`
    during `fit`, the loss is computed from those logits by the fused primitive
    `softmax_crossentropy`: the same value, and a gradient that goes to the
    logits directly (TensorFlow's Keras does the same on seeing a Softmax op).

    # Arguments
        target: tensor of target distributions, of `output`'s shape.
        output: tensor of class probabilities (or logits, with `from_logits`).
        from_logits: whether `output` holds logits.
        axis: the class axis.

    # Returns
        The crossentropy, with `axis` reduced.
    """
    _check_axis(output, axis)
    target = _t(target)
    if from_logits:
        log_probs = subtract(output, logsumexp(output, axis=axis, keepdims=True))
        return negative(sum(multiply(target, log_probs), axis=axis))
    logits = _softmax_logits(output, axis)
    if logits is not None and _fusable_target(target, logits):
        return apply(prims_fused.softmax_crossentropy, target, logits, axis=axis,
                     epsilon=state.epsilon())
    output = divide(output, sum(output, axis=axis, keepdims=True))
    eps = state.epsilon()
    output = clip(output, eps, 1.0 - eps)
    return negative(sum(multiply(target, log(output)), axis=axis))


@symbolic_aware
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy of integer targets and class probabilities (or logits).

    A softmax output recorded on the active tape is handled as in
    `categorical_crossentropy` (the fused primitive, from the logits).

    # Arguments
        target: integer class indices, of `output`'s shape without `axis`.
        output: tensor of class probabilities (or logits, with `from_logits`).
        from_logits: whether `output` holds logits.
        axis: the class axis.

    # Returns
        The crossentropy, with `axis` reduced.
    """
    _check_axis(output, axis)
    logits = None if from_logits else _softmax_logits(output, axis)
    if axis != -1 and axis != ndim(output) - 1:
        perm = [i for i in range(ndim(output)) if i != axis] + [axis]
        output = permute_dimensions(output, perm)
        if logits is not None:
            logits = permute_dimensions(logits, perm)
    classes = int_shape(output)[-1]
    labels = reshape(cast(target, 'int64'), int_shape(output)[:-1])
    one_hot_target = one_hot(labels, classes)
    if logits is not None and value_dtype(logits).kind == 'f':
        # 0 and 1 are exact in any float dtype: in the logits' the values are the composition's.
        if value_dtype(one_hot_target) != value_dtype(logits):
            one_hot_target = cast(one_hot_target, value_dtype(logits))
        return apply(prims_fused.softmax_crossentropy, one_hot_target, logits, axis=-1,
                     epsilon=state.epsilon())
    return categorical_crossentropy(one_hot_target, output, from_logits=from_logits)


@symbolic_aware
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary crossentropy.

    As Keras 2.2.4: without `from_logits`, probabilities are clipped to
    `[epsilon, 1 - epsilon]` and turned back into logits, then the stable
    formula `max(z, 0) - z * t + log(1 + exp(-|z|))` is used. For a target of the
    output's shape and floating dtype these steps run as one primitive,
    `prims_fused.binary_crossentropy` (the same values).

    # Arguments
        target: tensor of targets in [0, 1], of `output`'s shape.
        output: tensor of probabilities (or logits, with `from_logits`).
        from_logits: whether `output` holds logits.

    # Returns
        The crossentropy of each element, of `output`'s shape.
    """
    target, output = _t(target), _t(output)
    if not from_logits and _fusable_target(target, output):
        return apply(prims_fused.binary_crossentropy, target, output, epsilon=state.epsilon())
    if not from_logits:
        eps = state.epsilon()
        output = clip(output, eps, 1.0 - eps)
        output = log(divide(output, subtract(1.0, output)))
    z = output
    return add(subtract(relu(z), multiply(z, target)), softplus(negative(abs(z))))


@symbolic_aware
def l2_normalize(x, axis=None):
    """`x / sqrt(max(sum(x ** 2), 1e-12))` along `axis`."""
    norm = sqrt(maximum(sum(square(x), axis=axis, keepdims=True), 1e-12))
    return divide(x, norm)


@symbolic_aware
def in_top_k(predictions, targets, k):
    """Whether each target class is among the `k` largest predictions.

    A target is in the top `k` when fewer than `k` predictions are strictly larger
    than its own (so ties count in its favour, as in TensorFlow).

    # Arguments
        predictions: `(batch, classes)` scores.
        targets: `(batch,)` integer class indices.
        k: how many of the largest predictions count.

    # Returns
        A `(batch,)` boolean tensor.
    """
    p = value_of(predictions)  # the raw values: nothing here is differentiated
    is_target = cast(one_hot(reshape(cast(value_of(targets), 'int64'), (-1,)), p.shape[-1]), 'bool')
    target_scores = sum(apply(prims_math.where, is_target, p, 0.0), axis=1, keepdims=True)
    better = sum(cast(greater(p, target_scores), 'int32'), axis=1)
    return less(better, k)


@symbolic_aware
def bias_add(x, bias, data_format=None):
    """Adds a bias vector to the channels axis.

    # Arguments
        x: tensor.
        bias: a vector of the channels' size (or a tensor of `x`'s non-batch
            shape, channels last).
        data_format: 'channels_last' or 'channels_first' (None: the default):
            which axis of `x` holds the channels.

    # Returns
        `x + bias`, of `x`'s shape.
    """
    data_format = state.normalize_data_format(data_format)
    if data_format == 'channels_first' and ndim(x) > 2:
        bias_shape = int_shape(bias)
        if len(bias_shape) == 1:
            bias = reshape(bias, (1, bias_shape[0]) + (1,) * (ndim(x) - 2))
        else:
            bias = reshape(bias, (1, bias_shape[-1]) + bias_shape[:-1])
    return add(x, bias)


@symbolic_aware
def bias_activation(x, bias, activation='linear', data_format=None):
    """`activation(bias_add(x, bias, data_format))` in one step (refkeras addition).

    # Arguments
        x: tensor.
        bias: vector with one value per channel of `x`.
        activation: the name of one of the elementwise built-in activations
            (`prims_fused.FUSED_ACTIVATIONS`: 'linear', 'relu', 'elu', 'selu',
            'sigmoid', 'hard_sigmoid', 'tanh', 'softplus', 'softsign',
            'exponential').
        data_format: as `bias_add` (None: `image_data_format()`).

    # Returns
        The same values as the composition, from one primitive whose gradient
        is one elementwise pass plus the bias's sum (see `prims_fused`).

    # Raises
        ValueError: for an unknown activation, or a bias that is not a vector
            of the channel axis's length.
    """
    data_format = state.normalize_data_format(data_format)
    return apply(prims_fused.bias_activation, _t(x), _t(bias), activation=activation,
                 data_format=data_format)


# --- randomness ---------------------------------------------------------------
# Where draws are made: while a model runs (Dropout masks, noise layers), by the
# running backend; otherwise (initial weights, drawn when a layer is built) by
# the reference, on the host. Initializers thus return NumPy arrays, as their
# contract says, and the FAQ's `np.random.seed(...)` recipe gives the same
# initial weights on every backend; `K.variable` then copies them in once.

def _draw(prim, shape, **attrs):
    if _shape_is_symbolic(shape):
        # `K.random_normal((K.shape(x)[0], 2))`: drawn when the graph runs, anew at each run
        return _sized_by(_symbolic_draw(prim, shape, **attrs), shape)
    attrs['shape'] = _concrete_shape(shape)
    if _in_a_run():
        return apply(prim, **attrs)
    return prim.forward(**attrs)


@symbolic_aware
def _symbolic_draw(prim, shape, **attrs):
    return _draw(prim, _concrete_shape(shape), **attrs)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform draws of `shape`."""
    return _draw(prims_nn.random_uniform, shape, minval=minval, maxval=maxval,
                 dtype=dtype or state.floatx(), seed=seed)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws of `shape`."""
    return _draw(prims_nn.random_normal, shape, mean=mean, stddev=stddev,
                 dtype=dtype or state.floatx(), seed=seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws within two standard deviations."""
    return _draw(prims_nn.truncated_normal, shape, mean=mean, stddev=stddev,
                 dtype=dtype or state.floatx(), seed=seed)


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Bernoulli(p) draws of `shape`."""
    return _draw(prims_nn.random_binomial, shape, p=p, dtype=dtype or state.floatx(), seed=seed)


@symbolic_aware
def dropout(x, level, noise_shape=None, seed=None):
    """Zeroes each element with probability `level`, scaling the rest by `1/(1-level)`.

    # Arguments
        x: tensor.
        level: fraction of entries to drop, in `[0, 1)`.
        noise_shape: shape of the mask, broadcast against `x` (e.g. one mask per
            channel for SpatialDropout); defaults to `x`'s shape.
        seed: optional seed.

    # Returns
        A tensor of `x`'s shape.

    # Raises
        ValueError: if `level` is outside `[0, 1)`.
    """
    if not 0.0 <= level < 1.0:
        raise ValueError('Dropout level must be in interval [0, 1), received %r.' % (level,))
    shape = int_shape(x) if noise_shape is None else tuple(
        s if s is not None else n for s, n in zip(noise_shape, int_shape(x)))
    keep = random_binomial(shape, p=1.0 - level, dtype=value_dtype(x).name, seed=seed)
    return multiply(x, keep / (1.0 - level))


# --- learning phase -----------------------------------------------------------

learning_phase = graph_module.learning_phase
set_learning_phase = graph_module.set_learning_phase


def in_train_phase(x, alt, training=None):
    """`x` in the training phase, `alt` in the test phase.

    # Arguments
        x: tensor, or a callable returning one (called only if chosen).
        alt: tensor, or a callable returning one (called only if chosen).
        training: 0/1/bool, or None for the current `K.learning_phase()`.

    # Returns
        The chosen tensor (a symbolic choice when the phase is fed later).
    """
    if training is None:
        training = learning_phase()
    if isinstance(training, SymbolicTensor):
        return _in_train_phase_deferred(x, alt, training)
    chosen = x if training else alt
    return chosen() if callable(chosen) else chosen


@symbolic_aware
def _in_train_phase_deferred(x, alt, training):
    return in_train_phase(x, alt, training=training)


def in_test_phase(x, alt, training=None):
    """`x` in the test phase, `alt` in the training phase."""
    return in_train_phase(alt, x, training=training)


# --- functions and gradients ----------------------------------------------------

class Function(object):
    """A callable evaluating symbolic outputs from input values (`K.function`).

    # Arguments
        inputs: list of placeholders / `Input` tensors, optionally including
            `K.learning_phase()` (then fed as 0 = test or 1 = train).
        outputs: list of symbolic tensors to compute.
        updates: list of `(variable, new value tensor)` pairs applied after
            each call.
    """

    def __init__(self, inputs, outputs, updates=None, name=None):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.updates = []
        for u in updates or []:
            if not (isinstance(u, tuple) and len(u) == 2 and isinstance(u[0], Variable)):
                raise ValueError('K.function updates must be (variable, new value) pairs built '
                                 'from symbolic tensors (e.g. K.update(v, K.sum(x))); received %r. '
                                 'An update computed from concrete values runs at once, when it '
                                 'is built, not at each call.' % (u,))
            self.updates.append(u)
        for t in self.inputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError('K.function inputs must be placeholders or Input tensors; '
                                'received %r.' % (t,))
        targets = self.outputs + [new for _, new in self.updates]
        self.order = graph_module.topological_nodes(
            [t for t in targets if isinstance(t, SymbolicTensor)],
            {id(t) for t in self.inputs} | {id(LEARNING_PHASE)})

    def __call__(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('`inputs` to a K.function should be a list, received %s.'
                            % type(inputs).__name__)
        if len(inputs) != len(self.inputs):
            raise ValueError('This K.function expects %d inputs, received %d.'
                             % (len(self.inputs), len(inputs)))
        phase = _PHASE_DEFAULT()
        feed = []
        for t, v in zip(self.inputs, inputs):
            if t is LEARNING_PHASE:
                phase = int(value_of(v))
                continue
            v = value_of(v)
            dtype = None
            if v.dtype != t.dtype and not (t.dtype.kind in 'iu' and v.dtype.kind in 'iu'):
                dtype = t.dtype
            feed.append((t, backend_array(v, dtype)))  # inputs are copied in once per call
        targets = self.outputs + [new for _, new in self.updates]
        sym = [t for t in targets if isinstance(t, SymbolicTensor)]
        values = dict(zip(map(id, sym), graph_module.evaluate(sym, feed, phase, self.order)))
        results = [values[id(t)] if isinstance(t, SymbolicTensor) else value_of(t)
                   for t in targets]
        for (var, _), new in zip(self.updates, results[len(self.outputs):]):
            update(var, new)
        return [backend_arrays().to_host(value_of(r)) for r in results[:len(self.outputs)]]


def _PHASE_DEFAULT():
    fixed = graph_module._PHASE['fixed']
    return 0 if fixed is None else fixed


def function(inputs, outputs, updates=None, **kwargs):
    """Builds a `Function` (FAQ: "How can I obtain the output of an intermediate layer?").

    # Arguments
        inputs: list of placeholders (and `K.learning_phase()` if fed).
        outputs: list of symbolic tensors to compute.
        updates: list of `(variable, new value)` pairs (or update ops) applied
            at each call.
        kwargs: only `name` is accepted (the function's name).

    # Returns
        A `Function`: called with a list of input values, it returns the list
        of output values.

    # Raises
        ValueError: for a keyword argument other than `name`.

    # Example
    ```python
    get_3rd_layer_output = K.function([model.layers[0].input, K.learning_phase()],
                                      [model.layers[3].output])
    layer_output = get_3rd_layer_output([x, 0])[0]   # test mode
    ```
    """
    unknown = set(kwargs) - {'name'}
    if unknown:
        raise ValueError('Invalid argument(s) %s passed to K.function.' % sorted(unknown))
    return Function(inputs, outputs, updates=updates, name=kwargs.get('name'))


class _GradientNode(object):
    """Symbolic `K.gradients`: evaluates the loss's graph under a tape when run.

    Sources may be variables, placeholders or intermediate symbolic tensors.
    An intermediate source is computed first, then fed to the loss's graph as
    a watched value, so its gradient is that of the loss through it (as
    TensorFlow's `tf.gradients`).
    """

    def __init__(self, loss, wrt):
        self.loss = loss
        self.wrt = list(wrt)
        self.intermediate = [w for w in self.wrt
                             if isinstance(w, SymbolicTensor) and w.node is not None]
        leaves, stack, seen = [], [loss] + self.intermediate, set()
        while stack:
            t = stack.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            if t.node is None:
                leaves.append(t)
            else:
                stack.extend(t.node.inputs)
        self.inputs = leaves
        self.outputs = [SymbolicTensor(int_shape(w), value_dtype(w), name='gradients:%d' % i,
                                       node=self, index=i) for i, w in enumerate(self.wrt)]

    def run(self, values, masks):
        phase = learning_phase_value()
        plain = [(t, v) for t, v in zip(self.inputs, values) if t is not LEARNING_PHASE]
        computed = graph_module.evaluate(self.intermediate, plain, phase) \
            if self.intermediate else []
        with GradientTape([w for w in self.wrt if isinstance(w, Variable)]) as tape:
            feed = []
            for t, v in plain:
                # (`any` is K.any in this module: the builtin is meant here)
                watched = builtins.any(t is w for w in self.wrt)
                feed.append((t, Traced(value_of(v), tape) if watched else v))
            feed += [(t, Traced(value_of(v), tape)) for t, v in zip(self.intermediate, computed)]
            traced = dict((id(t), v) for t, v in feed)
            loss = graph_module.evaluate([self.loss], feed, phase)[0]
        sources = [traced[id(w)] if isinstance(w, SymbolicTensor) else w for w in self.wrt]
        loss_sum = loss if np.ndim(value_of(loss)) == 0 else None
        if loss_sum is None:
            with tape:
                loss_sum = sum(loss)
        return tape.gradient(loss_sum, sources), [None] * len(self.wrt)


def learning_phase_value():
    """The learning phase in force right now, as an int."""
    phase = learning_phase()
    return 0 if isinstance(phase, SymbolicTensor) else int(phase)


def gradients(loss, variables):
    """Gradients of `loss` (summed if not scalar) with respect to `variables`.

    # Arguments
        loss: a symbolic tensor (the gradients are then symbolic, for
            `K.function`), or a value computed while a `GradientTape`
            records (in a layer's `call` during `fit`, `predict`, ...).
        variables: list of `Variable`s, input placeholders or intermediate
            symbolic tensors (symbolically), or concrete values the
            recorded computation went through.

    # Returns
        A list of gradients, one per element of `variables` (one gradient,
        not a list, when `variables` is a single tensor, as Theano's backend
        returns it: Keras's example `mnist_swwae.py` relies on that). Called
        while a computation runs, they are constants for the rest of it:
        refkeras computes no second derivatives.

    # Raises
        GradientsNeedRecordingError: for a concrete `loss` nobody recorded.
            A model or `K.function` evaluating its graph catches it and runs
            the graph again under a recording tape.
    """
    if not isinstance(variables, (list, tuple)):
        return gradients(loss, [variables])[0]
    if isinstance(loss, SymbolicTensor):
        return list(_GradientNode(loss, variables).outputs)
    tape = active_tape()
    if tape is None or not isinstance(loss, Traced) or loss.tape is not tape:
        raise graph_module.GradientsNeedRecordingError(
            'K.gradients was given a concrete loss that no GradientTape recorded (the value '
            'of a computation run eagerly). Build the loss symbolically, or compute it under '
            'an open GradientTape watching what it depends on.')
    if np.ndim(loss.value) != 0:
        with tape:
            loss = sum(loss)
    grads = tape.gradient_keeping_records(loss, list(variables))
    return [g.value if isinstance(g, Traced) else g for g in grads]


def print_tensor(x, message=''):
    """Prints `message` and the value of `x` when it is computed; returns `x`."""
    @symbolic_aware
    def _print(x):
        print(message, backend_arrays().to_host(value_of(x)))
        return x
    return _print(x)
