"""accel's optimizer update rules (mirror of `refkeras/backend/prims_updates.py`).

Each rule is one kernel of `accel/kernels/updates.py`: one launch per
parameter and step, where the same rule as a chain of elementwise primitives
would launch six to twelve kernels and allocate as many temporaries.

The scalar operands (learning rate, betas, the step's bias corrections) are
0-d device arrays, read by the kernel in device memory: a training step never
copies them to the host. Python scalars given instead are weak operands, as
in the reference (they take the arrays' dtype).

Out of place: the new parameter and slots are written into fresh arrays and
the inputs are left untouched. Writing in place would save the allocations,
but it would break two rules this backend relies on. Device arrays are never
modified once made (`accel.backend.DeviceArrays`), so a reshape, a value a
caller kept (`K.get_value` before the step, a tensor computed from the old
weights) may share the buffer and would change under it. And an optimizer
computes every new value before assigning any (`refkeras.optimizers`), so that
a step failing halfway (device memory running out at the third parameter, a
constraint raising) leaves the model as it was; in place, the first
parameters would already hold their new values. The extra memory is one
parameter-sized array per output, freed as soon as the variables take the
new arrays.

Errors name the primitive and the operands' shapes: `AccelShapeError` when
the parameter, gradient and slots differ in shape or a scalar is not 0-d,
`AccelDtypeError` for a non-floating operand (the kernels compute in float32
or float64).
"""
import numpy as np

from accel import arrays
from accel.errors import AccelDtypeError, AccelShapeError
from accel.kernels import updates as kernels
from accel.kernels.elementwise import device_operands
from accel.registry import accel_primitive
from refkeras.backend.registry import REGISTRY

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_OUTPUT_DTYPES = {}


def _placeholder(x):
    if arrays.is_python_scalar(x):
        return x
    return np.ones((1,) * len(arrays.shape_of(x)), dtype=np.dtype(x.dtype))


def _output_dtypes(name, operands, attrs):
    """The dtypes of the reference rule's outputs for these operands' dtypes.

    Read off the reference run on one-element placeholders (as `accel.dtypes`
    does for single-output primitives), cached per operand dtypes, ranks and
    attributes: metadata only, no tensor data involved.
    """
    key = (name, tuple(('py', type(x).__name__) if arrays.is_python_scalar(x)
                       else (np.dtype(x.dtype).str, len(arrays.shape_of(x))) for x in operands),
           tuple(sorted((k, repr(v)) for k, v in attrs.items())))
    hit = _OUTPUT_DTYPES.get(key)
    if hit is None:
        with np.errstate(all='ignore'):
            outs = REGISTRY[name].forward(*[_placeholder(x) for x in operands], **attrs)
        hit = tuple(np.asarray(o).dtype for o in outs)
        _OUTPUT_DTYPES[key] = hit
    return hit


def _describe(labels, operands):
    return ', '.join('%s %s' % (label, tuple(arrays.shape_of(x)))
                     for label, x in zip(labels, operands))


def _prepare(name, labels, operands, n_arrays):
    """Checks the operands and makes them device arrays.

    # Arguments
        name: the primitive's name.
        labels: the operands' names, for messages.
        operands: the parameter, gradient and slots (the first `n_arrays`),
            then the scalars.
        n_arrays: how many operands have the parameter's shape.

    # Returns
        `(device arrays, device scalars, computing dtype)`.

    # Raises
        AccelShapeError, AccelDtypeError: see the module docstring.
    """
    shape = tuple(arrays.shape_of(operands[0]))
    for label, x in zip(labels[1:n_arrays], operands[1:n_arrays]):
        if tuple(arrays.shape_of(x)) != shape:
            raise AccelShapeError(
                'primitive %r: a parameter, its gradient and its slots must have the same '
                'shape; received %s.' % (name, _describe(labels[:n_arrays], operands[:n_arrays])))
    for label, x in zip(labels[n_arrays:], operands[n_arrays:]):
        if tuple(arrays.shape_of(x)) != ():
            raise AccelShapeError('primitive %r: `%s` must be a scalar (0-d), not of shape %s.'
                                  % (name, label, tuple(arrays.shape_of(x))))
    on_device = device_operands(list(operands), name)
    for label, x in zip(labels, on_device):
        if x.dtype not in _FLOAT_DTYPES:
            raise AccelDtypeError(
                'primitive %r computes in float32 or float64; `%s` has dtype %s (operand '
                'shapes %s).' % (name, label, x.dtype.name, _describe(labels, operands)))
    dtype = np.result_type(*[x.dtype for x in on_device])
    return on_device[:n_arrays], on_device[n_arrays:], dtype


def _run(name, kernel, labels, operands, n_arrays, attrs, params=(), flags=()):
    """Checks, allocates the outputs (in the reference's dtypes) and launches `kernel`."""
    inputs, scalars, dtype = _prepare(name, labels, operands, n_arrays)
    shape = inputs[0].shape
    outputs = tuple(arrays.empty(shape, dt) for dt in _output_dtypes(name, operands, attrs))
    kernels.launch(kernel, outputs, inputs, scalars, [dtype.type(v) for v in params], flags)
    return outputs


@accel_primitive('sgd_update')
def sgd_update(p, g, moment, lr, momentum, nesterov=False):
    """One SGD step for one parameter: `(new_p, new_moment)`, one kernel."""
    return _run('sgd_update', kernels.sgd_kernel, ('p', 'g', 'moment', 'lr', 'momentum'),
                (p, g, moment, lr, momentum), 3, {'nesterov': nesterov},
                flags=(bool(nesterov),))


@accel_primitive('rmsprop_update')
def rmsprop_update(p, g, accumulator, lr, rho, epsilon=1e-7):
    """One RMSprop step for one parameter: `(new_p, new_a)`, one kernel."""
    return _run('rmsprop_update', kernels.rmsprop_kernel,
                ('p', 'g', 'accumulator', 'lr', 'rho'), (p, g, accumulator, lr, rho), 3,
                {'epsilon': epsilon}, params=(epsilon,))


@accel_primitive('adagrad_update')
def adagrad_update(p, g, accumulator, lr, epsilon=1e-7):
    """One Adagrad step for one parameter: `(new_p, new_a)`, one kernel."""
    return _run('adagrad_update', kernels.adagrad_kernel, ('p', 'g', 'accumulator', 'lr'),
                (p, g, accumulator, lr), 3, {'epsilon': epsilon}, params=(epsilon,))


@accel_primitive('adadelta_update')
def adadelta_update(p, g, accumulator, delta_accumulator, lr, rho=0.95, epsilon=1e-7):
    """One Adadelta step for one parameter: `(new_p, new_a, new_d)`, one kernel.

    `1 - rho` is computed on the host in double precision, then rounded to the
    computing dtype, as NumPy does with the weak Python number `1. - rho`.
    """
    return _run('adadelta_update', kernels.adadelta_kernel,
                ('p', 'g', 'accumulator', 'delta_accumulator', 'lr'),
                (p, g, accumulator, delta_accumulator, lr), 4,
                {'rho': rho, 'epsilon': epsilon}, params=(rho, 1. - rho, epsilon))


@accel_primitive('adam_update')
def adam_update(p, g, m, v, lr_t, beta_1, beta_2, epsilon=1e-7):
    """One Adam step for one parameter: `(new_p, new_m, new_v)`, one kernel."""
    return _run('adam_update', kernels.adam_kernel,
                ('p', 'g', 'm', 'v', 'lr_t', 'beta_1', 'beta_2'),
                (p, g, m, v, lr_t, beta_1, beta_2), 4, {'epsilon': epsilon}, params=(epsilon,))


@accel_primitive('amsgrad_update')
def amsgrad_update(p, g, m, v, vhat, lr_t, beta_1, beta_2, epsilon=1e-7):
    """One AMSGrad step for one parameter: `(new_p, new_m, new_v, new_vhat)`, one kernel."""
    return _run('amsgrad_update', kernels.amsgrad_kernel,
                ('p', 'g', 'm', 'v', 'vhat', 'lr_t', 'beta_1', 'beta_2'),
                (p, g, m, v, vhat, lr_t, beta_1, beta_2), 5, {'epsilon': epsilon},
                params=(epsilon,))


@accel_primitive('adamax_update')
def adamax_update(p, g, m, u, lr_t, beta_1, beta_2, epsilon=1e-7):
    """One Adamax step for one parameter: `(new_p, new_m, new_u)`, one kernel."""
    return _run('adamax_update', kernels.adamax_kernel,
                ('p', 'g', 'm', 'u', 'lr_t', 'beta_1', 'beta_2'),
                (p, g, m, u, lr_t, beta_1, beta_2), 4, {'epsilon': epsilon}, params=(epsilon,))


@accel_primitive('nadam_update')
def nadam_update(p, g, m, v, lr, beta_1, beta_2, momentum_t, momentum_next,
                 schedule_new, schedule_next, beta_2_power, epsilon=1e-7):
    """One Nadam step for one parameter: `(new_p, new_m, new_v)`, one kernel."""
    return _run('nadam_update', kernels.nadam_kernel,
                ('p', 'g', 'm', 'v', 'lr', 'beta_1', 'beta_2', 'momentum_t', 'momentum_next',
                 'schedule_new', 'schedule_next', 'beta_2_power'),
                (p, g, m, v, lr, beta_1, beta_2, momentum_t, momentum_next, schedule_new,
                 schedule_next, beta_2_power), 4, {'epsilon': epsilon}, params=(epsilon,))
