"""Optimizer update rules as primitives: one step of an optimizer for one parameter (issue 7).

Each primitive takes a parameter `p`, its gradient `g` and the optimizer's
slots for `p` (momenta, accumulators), and returns the new values, the new
parameter first and then the new slots in the order they were given. Nothing
is assigned here: `refkeras/optimizers.py` computes the new values of every
parameter first and only then assigns them (so a failing step changes nothing).

Why primitives: written with `K` functions, one step is a chain of six to
twelve elementwise operations, each a full pass over the parameter (on a GPU,
one kernel and one temporary array each). As one primitive, accel runs the
whole rule as a single kernel that reads `p`, `g` and the slots once and
writes the new values once (`accel/kernels/updates.py`).

Operands, in three kinds:

- arrays of `p`'s shape: `p`, `g` and the slots;
- 0-d scalars: the hyperparameters that are backend variables (`lr`,
  `momentum`, `rho`, `beta_1`, ...) and the per-step factors computed from
  them (the decayed learning rate, Adam's corrected `lr_t`, Nadam's momentum
  schedule). They are operands rather than attributes because they change
  (a callback may `K.set_value(opt.lr, ...)`, the step counter moves): with
  accel they stay in device memory and the kernel reads them there;
- attributes: Python numbers fixed when the optimizer is built (`epsilon`,
  Adadelta's `rho`) and flags (`nesterov`).

Float semantics: each forward performs, with NumPy, the operations of Keras
2.2.4's rule in the order Keras writes them (`lr * g / (sqrt(a) + epsilon)`
is `(lr * g) / (sqrt(a) + epsilon)`), with NumPy's types: float32 operands
compute in float32, and Python-number attributes are weak (they take the
arrays' dtype). The results are therefore those of the same rule written as a
chain of `K` operations, bit for bit, with one exception taken from TensorFlow:
a slot value that falls into the subnormal range is stored as 0, as
TensorFlow's CPU kernels (which flush subnormals to zero) store it. Each rule
runs on cache-sized pieces of its arrays, which changes no value; its last
operation for each result writes into that result's piece (`out=`, hidden
from the primitive's signature). Both are explained in `pieces.py`.

None of these is differentiable: an optimizer step runs after the gradient
tape has closed, and the tape never records it.
"""
import numpy as np

from refkeras.backend.pieces import destination, flush_subnormals, in_pieces
from refkeras.backend.registry import primitive


def _check_operands(name, arrays, scalars):
    """Raises a ValueError unless `arrays` share one shape and `scalars` are 0-d.

    # Arguments
        name: the primitive's name, for the message.
        arrays: `(label, value)` pairs: the parameter first, then its gradient
            and its slots.
        scalars: `(label, value)` pairs of the scalar operands.
    """
    (first_label, first), rest = arrays[0], arrays[1:]
    shape = np.shape(first)
    for label, value in rest:
        if np.shape(value) != shape:
            raise ValueError('primitive %r: `%s` has shape %s but `%s` has shape %s; a '
                             'parameter, its gradient and its slots must have the same shape.'
                             % (name, label, np.shape(value), first_label, shape))
    for label, value in scalars:
        if np.ndim(value) != 0:
            raise ValueError('primitive %r: `%s` must be a scalar (0-d), not of shape %s.'
                             % (name, label, np.shape(value)))


@primitive(differentiable=False)
@in_pieces(arrays=3)
def sgd_update(p, g, moment, lr, momentum, nesterov=False, out=None):
    """One step of SGD with momentum (Keras 2.2.4's `SGD`) for one parameter.

        v     = momentum * moment - lr * g
        new_p = p + v                          # nesterov=False
        new_p = p + momentum * v - lr * g      # nesterov=True

    # Arguments
        p, g, moment: the parameter, its gradient and its velocity slot.
        lr: the step's learning rate (already decayed), 0-d.
        momentum: 0-d.
        nesterov: whether to take the Nesterov momentum step.

    # Returns
        `(new_p, v)`: the new parameter and the new velocity.
    """
    _check_operands('sgd_update', [('p', p), ('g', g), ('moment', moment)],
                    [('lr', lr), ('momentum', momentum)])
    step = lr * g
    velocity = flush_subnormals(np.subtract(momentum * moment, step, out=destination(out, 1)))
    if nesterov:
        new_p = np.subtract(p + momentum * velocity, step, out=destination(out, 0))
    else:
        new_p = np.add(p, velocity, out=destination(out, 0))
    return new_p, velocity


@primitive(differentiable=False)
@in_pieces(arrays=3)
def rmsprop_update(p, g, accumulator, lr, rho, epsilon=1e-7, out=None):
    """One step of RMSprop (Keras 2.2.4's `RMSprop`) for one parameter.

        new_a = rho * a + (1 - rho) * g ** 2
        new_p = p - lr * g / (sqrt(new_a) + epsilon)

    # Arguments
        p, g, accumulator: the parameter, its gradient and the running average
            `a` of its squares.
        lr: the step's learning rate (already decayed), 0-d.
        rho: the fraction of the average kept at each step, 0-d.
        epsilon: fuzz factor (a Python number).

    # Returns
        `(new_p, new_a)`.
    """
    _check_operands('rmsprop_update', [('p', p), ('g', g), ('accumulator', accumulator)],
                    [('lr', lr), ('rho', rho)])
    new_a = flush_subnormals(np.add(rho * accumulator, (1. - rho) * np.square(g),
                                    out=destination(out, 1)))
    new_p = np.subtract(p, lr * g / (np.sqrt(new_a) + epsilon), out=destination(out, 0))
    return new_p, new_a


@primitive(differentiable=False)
@in_pieces(arrays=3)
def adagrad_update(p, g, accumulator, lr, epsilon=1e-7, out=None):
    """One step of Adagrad (Keras 2.2.4's `Adagrad`) for one parameter.

        new_a = a + g ** 2
        new_p = p - lr * g / (sqrt(new_a) + epsilon)

    # Arguments
        p, g, accumulator: the parameter, its gradient and the sum `a` of its
            squares so far.
        lr: the step's learning rate (already decayed), 0-d.
        epsilon: fuzz factor (a Python number).

    # Returns
        `(new_p, new_a)`.
    """
    _check_operands('adagrad_update', [('p', p), ('g', g), ('accumulator', accumulator)],
                    [('lr', lr)])
    new_a = flush_subnormals(np.add(accumulator, np.square(g), out=destination(out, 1)))
    new_p = np.subtract(p, lr * g / (np.sqrt(new_a) + epsilon), out=destination(out, 0))
    return new_p, new_a


@primitive(differentiable=False)
@in_pieces(arrays=4)
def adadelta_update(p, g, accumulator, delta_accumulator, lr, rho=0.95, epsilon=1e-7,
                    out=None):
    """One step of Adadelta (Keras 2.2.4's `Adadelta`) for one parameter.

        new_a = rho * a + (1 - rho) * g ** 2
        u     = g * sqrt(d + epsilon) / sqrt(new_a + epsilon)    # d: the old value
        new_p = p - lr * u
        new_d = rho * d + (1 - rho) * u ** 2

    # Arguments
        p, g: the parameter and its gradient.
        accumulator, delta_accumulator: the running averages `a` of the
            squared gradients and `d` of the squared updates.
        lr: the step's learning rate (already decayed), 0-d.
        rho: the fraction of the averages kept at each step (a Python number,
            as Keras 2.2.4's Adadelta keeps it).
        epsilon: fuzz factor (a Python number).

    # Returns
        `(new_p, new_a, new_d)`.
    """
    _check_operands('adadelta_update', [('p', p), ('g', g), ('accumulator', accumulator),
                                        ('delta_accumulator', delta_accumulator)],
                    [('lr', lr)])
    new_a = flush_subnormals(np.add(rho * accumulator, (1. - rho) * np.square(g),
                                    out=destination(out, 1)))
    update = g * np.sqrt(delta_accumulator + epsilon) / np.sqrt(new_a + epsilon)
    new_p = np.subtract(p, lr * update, out=destination(out, 0))
    new_d = flush_subnormals(np.add(rho * delta_accumulator, (1. - rho) * np.square(update),
                                    out=destination(out, 2)))
    return new_p, new_a, new_d


@primitive(differentiable=False)
@in_pieces(arrays=4)
def adam_update(p, g, m, v, lr_t, beta_1, beta_2, epsilon=1e-7, out=None):
    """One step of Adam (Keras 2.2.4's `Adam`, `amsgrad=False`) for one parameter.

        new_m = beta_1 * m + (1 - beta_1) * g
        new_v = beta_2 * v + (1 - beta_2) * g ** 2
        new_p = p - lr_t * new_m / (sqrt(new_v) + epsilon)

    # Arguments
        p, g: the parameter and its gradient.
        m, v: the moving averages of the gradient and of its square.
        lr_t: the step's bias-corrected learning rate,
            `lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)`, 0-d.
        beta_1, beta_2: 0-d.
        epsilon: fuzz factor (a Python number).

    # Returns
        `(new_p, new_m, new_v)`.
    """
    _check_operands('adam_update', [('p', p), ('g', g), ('m', m), ('v', v)],
                    [('lr_t', lr_t), ('beta_1', beta_1), ('beta_2', beta_2)])
    new_m = flush_subnormals(np.add(beta_1 * m, (1. - beta_1) * g, out=destination(out, 1)))
    new_v = flush_subnormals(np.add(beta_2 * v, (1. - beta_2) * np.square(g),
                                    out=destination(out, 2)))
    new_p = np.subtract(p, lr_t * new_m / (np.sqrt(new_v) + epsilon), out=destination(out, 0))
    return new_p, new_m, new_v


@primitive(differentiable=False)
@in_pieces(arrays=5)
def amsgrad_update(p, g, m, v, vhat, lr_t, beta_1, beta_2, epsilon=1e-7, out=None):
    """One step of Adam's AMSGrad variant (Keras 2.2.4's `Adam(amsgrad=True)`).

        new_m    = beta_1 * m + (1 - beta_1) * g
        new_v    = beta_2 * v + (1 - beta_2) * g ** 2
        new_vhat = max(vhat, new_v)
        new_p    = p - lr_t * new_m / (sqrt(new_vhat) + epsilon)

    # Arguments
        p, g, m, v, lr_t, beta_1, beta_2, epsilon: as for `adam_update`.
        vhat: the largest `v` so far.

    # Returns
        `(new_p, new_m, new_v, new_vhat)`.
    """
    _check_operands('amsgrad_update', [('p', p), ('g', g), ('m', m), ('v', v), ('vhat', vhat)],
                    [('lr_t', lr_t), ('beta_1', beta_1), ('beta_2', beta_2)])
    new_m = flush_subnormals(np.add(beta_1 * m, (1. - beta_1) * g, out=destination(out, 1)))
    new_v = flush_subnormals(np.add(beta_2 * v, (1. - beta_2) * np.square(g),
                                    out=destination(out, 2)))
    new_vhat = np.maximum(vhat, new_v, out=destination(out, 3))
    new_p = np.subtract(p, lr_t * new_m / (np.sqrt(new_vhat) + epsilon),
                        out=destination(out, 0))
    return new_p, new_m, new_v, new_vhat


@primitive(differentiable=False)
@in_pieces(arrays=4)
def adamax_update(p, g, m, u, lr_t, beta_1, beta_2, epsilon=1e-7, out=None):
    """One step of Adamax (Keras 2.2.4's `Adamax`) for one parameter.

        new_m = beta_1 * m + (1 - beta_1) * g
        new_u = max(beta_2 * u, |g|)
        new_p = p - lr_t * new_m / (new_u + epsilon)

    # Arguments
        p, g: the parameter and its gradient.
        m: the moving average of the gradient.
        u: the exponentially weighted infinity norm of the gradients.
        lr_t: the step's bias-corrected learning rate, `lr / (1 - beta_1 ** t)`, 0-d.
        beta_1, beta_2: 0-d.
        epsilon: fuzz factor (a Python number).

    # Returns
        `(new_p, new_m, new_u)`.
    """
    _check_operands('adamax_update', [('p', p), ('g', g), ('m', m), ('u', u)],
                    [('lr_t', lr_t), ('beta_1', beta_1), ('beta_2', beta_2)])
    new_m = flush_subnormals(np.add(beta_1 * m, (1. - beta_1) * g, out=destination(out, 1)))
    new_u = flush_subnormals(np.maximum(beta_2 * u, np.abs(g), out=destination(out, 2)))
    new_p = np.subtract(p, lr_t * new_m / (new_u + epsilon), out=destination(out, 0))
    return new_p, new_m, new_u


@primitive(differentiable=False)
@in_pieces(arrays=4)
def nadam_update(p, g, m, v, lr, beta_1, beta_2, momentum_t, momentum_next,
                 schedule_new, schedule_next, beta_2_power, epsilon=1e-7, out=None):
    """One step of Nadam (Keras 2.2.4's `Nadam`) for one parameter.

        g'    = g / (1 - schedule_new)
        new_m = beta_1 * m + (1 - beta_1) * g
        m'    = new_m / (1 - schedule_next)
        new_v = beta_2 * v + (1 - beta_2) * g ** 2
        v'    = new_v / (1 - beta_2 ** t)
        m_bar = (1 - momentum_t) * g' + momentum_next * m'
        new_p = p - lr * m_bar / (sqrt(v') + epsilon)

    # Arguments
        p, g: the parameter and its gradient.
        m, v: the moving averages of the gradient and of its square.
        lr, beta_1, beta_2: 0-d.
        momentum_t, momentum_next: the momentum schedule at steps `t` and
            `t + 1` (see `refkeras.optimizers.Nadam`), 0-d.
        schedule_new, schedule_next: the products of the schedule up to `t`
            and up to `t + 1`, 0-d.
        beta_2_power: `beta_2 ** t`, 0-d.
        epsilon: fuzz factor (a Python number).

    # Returns
        `(new_p, new_m, new_v)`.
    """
    _check_operands('nadam_update', [('p', p), ('g', g), ('m', m), ('v', v)],
                    [('lr', lr), ('beta_1', beta_1), ('beta_2', beta_2),
                     ('momentum_t', momentum_t), ('momentum_next', momentum_next),
                     ('schedule_new', schedule_new), ('schedule_next', schedule_next),
                     ('beta_2_power', beta_2_power)])
    g_prime = g / (1. - schedule_new)
    new_m = flush_subnormals(np.add(beta_1 * m, (1. - beta_1) * g, out=destination(out, 1)))
    m_prime = new_m / (1. - schedule_next)
    new_v = flush_subnormals(np.add(beta_2 * v, (1. - beta_2) * np.square(g),
                                    out=destination(out, 2)))
    v_prime = new_v / (1. - beta_2_power)
    m_bar = (1. - momentum_t) * g_prime + momentum_next * m_prime
    new_p = np.subtract(p, lr * m_bar / (np.sqrt(v_prime) + epsilon), out=destination(out, 0))
    return new_p, new_m, new_v
