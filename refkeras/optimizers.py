"""Built-in optimizers (Keras 2.2.4's `keras.optimizers`).

An optimizer turns the gradients of the loss into new values of the trainable
weights. Its hyperparameters (`lr`, `momentum`, `decay`, ...) and its step
counter `iterations` are backend variables, so a callback can change the
learning rate while training runs:

```python
K.set_value(model.optimizer.lr, 0.1)
```

How a step runs. refkeras executes eagerly: the engine records the loss on a
gradient tape, closes the tape and calls `get_updates(loss, params)`. That
call reads the gradients from the tape that recorded `loss`, clips them
(`clipnorm`, `clipvalue`), creates the optimizer's slots (momenta,
accumulators) on first use, computes every new value from the *old* values,
exactly as Keras 2.2.4's graph computes one step, and only then assigns them.
A constraint attached to a weight (`p.constraint`) is applied to its new
value, as in Keras.

The optimizer's state, `weights`, is listed in Keras 2.2.4's order (the
layout of `optimizer_weights` in a saved model file, FAQ: "Saving/loading
whole models (architecture + weights + optimizer state)"): `iterations` first
for SGD, Adam, Adamax and Nadam; no `iterations` for RMSprop, Adagrad and
Adadelta, whose Keras 2.2.4 `weights` omit it; then the slots in the order
Keras creates them.

The update rules are written as for Keras 2.2.4; each class's docstring
states its rule. The per-parameter part of each rule is one primitive of
`refkeras/backend/prims_updates.py` (`sgd_update`, `adam_update`, ...),
which accel runs as one kernel per parameter; the scalar factors (decayed
learning rate, bias corrections) are computed here once per step.
"""
import numpy as np

from refkeras import backend as K
from refkeras.backend import prims_updates as rules
from refkeras.backend.graph import symbolic_aware
from refkeras.legacy import interfaces
from refkeras.utils.generic_utils import deserialize_keras_object
from refkeras.utils.generic_utils import serialize_keras_object


def _check_non_negative(optimizer_name, **values):
    """Checks that every value given is a number >= 0.

    # Arguments
        optimizer_name: for the message.
        values: the arguments to check, by name (`lr=0.01, decay=0.`).

    # Raises
        ValueError: naming the first argument that is not a number >= 0.
    """
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError('%s: `%s` must be a number >= 0; received %r.'
                             % (optimizer_name, name, value))
        if not value >= 0:
            raise ValueError('%s: `%s` must be >= 0; received %r.'
                             % (optimizer_name, name, value))


def _scope_name(base):
    """`base`, then `base_1`, `base_2`, ... (names as TensorFlow makes them unique)."""
    uid = K.get_uid('optimizer_scope/' + base)
    return base if uid == 1 else '%s_%d' % (base, uid - 1)


def clip_norm(g, c, n):
    """`g * c / n` if the norm `n` is at least `c`, else `g` (unchanged if `c <= 0`).

    # Arguments
        g: a gradient.
        c: the largest norm allowed (`clipnorm`).
        n: the norm to compare with `c`. Keras 2.2.4 passes the norm of *all*
            the gradients together, so that clipping rescales every gradient
            by the same factor.

    # Returns
        The gradient, rescaled if needed (deferred if `g` or `n` is symbolic).
    """
    if c <= 0:
        return g
    return _rescale_above_norm(g, c, n)


@symbolic_aware
def _rescale_above_norm(g, c, n):
    # Chosen elementwise (K.switch on a condition of g's rank) rather than by a
    # Python `if`, so that the norm is never read on the host.
    above = K.reshape(K.greater_equal(n, c), (1,) * K.ndim(g))
    return K.switch(above, K.divide(K.multiply(g, c), n), g)


class Optimizer(object):
    """Base class of the optimizers; not an optimizer itself.

    Subclasses implement `_create_slots(params)` (makes the slot variables
    with `_slot`, in Keras 2.2.4's order, and sets `self.weights`) and
    `_new_values(params, grads)` (returns the `(variable, new value)` pairs of
    one step, all computed from the current values, in Keras 2.2.4's update
    order).

    # Arguments
        clipnorm: float >= 0. If the norm of all the gradients together
            exceeds this value, every gradient is rescaled by
            `clipnorm / norm` (Keras 2.2.4's rule).
        clipvalue: float >= 0. Gradients are clipped elementwise to
            `[-clipvalue, clipvalue]`.

    # Raises
        TypeError: for any other keyword argument.
        ValueError: for a negative or non-numeric `clipnorm` / `clipvalue`.
    """

    def __init__(self, **kwargs):
        allowed_kwargs = {'clipnorm', 'clipvalue'}
        for k in kwargs:
            if k not in allowed_kwargs:
                raise TypeError('Unexpected keyword argument passed to optimizer %s: %s '
                                '(accepted: clipnorm, clipvalue).'
                                % (self.__class__.__name__, k))
        _check_non_negative(self.__class__.__name__, **kwargs)
        self.__dict__.update(kwargs)
        self.updates = []
        self.weights = []
        self._scope = _scope_name(self.__class__.__name__)
        self._slot_params = None   # ids of the params the slots were made for

    # --- hyperparameters ------------------------------------------------------

    def _hyper(self, name, value, dtype=None):
        """A hyperparameter variable named `<scope>/<name>:0`, as in Keras."""
        return K.variable(value, dtype=dtype, name='%s/%s:0' % (self._scope, name))

    @staticmethod
    def _scalar(variable):
        """The current value of a scalar variable as a floatx scalar of the backend.

        Hyperparameter arithmetic (bias corrections, schedules, decay) is done
        on these scalars with Python's operators and K functions, in floatx as
        TensorFlow does it in Keras's graph. They are 0-d arrays of the running
        backend, so with accel they never leave the device.
        """
        return K.cast(variable, K.floatx())

    def _decayed_lr(self):
        """`lr / (1 + decay * iterations)` when built with `decay > 0`, else `lr`.

        As in Keras 2.2.4, the decay only acts if the optimizer was *created*
        with a positive `decay`; setting `decay` later on an optimizer built
        with `decay=0` has no effect. `iterations` is read before the step.
        """
        lr = self._scalar(self.lr)
        if self.initial_decay > 0:
            lr = lr * (1. / (1. + self._scalar(self.decay) * self._scalar(self.iterations)))
        return lr

    def _step_count(self):
        """`t = iterations + 1`, the number of the step being taken (floatx scalar)."""
        return self._scalar(self.iterations) + 1

    # --- slots ----------------------------------------------------------------

    def _slot(self, shape, dtype=None):
        """A zero-filled slot variable named as Keras 2.2.4 names it in TensorFlow."""
        index = self._slot_count
        self._slot_count += 1
        suffix = '' if index == 0 else '_%d' % index
        return K.zeros(shape, dtype=dtype,
                       name='training/%s/Variable%s:0' % (self._scope, suffix))

    def build(self, params):
        """Creates the optimizer's slots for `params`, if not done already.

        `get_updates` calls this on its first call; Keras 2.2.4 created the
        slots when the training function was made, which is also when the
        engine must call this before `set_weights` (loading a saved model).
        Called with other params than before (a recompiled model), fresh
        slots are made, as Keras makes them for a new training function.

        # Arguments
            params: list of the weight variables to be trained.
        """
        params = list(params)
        for p in params:
            if not isinstance(p, K.Variable):
                raise TypeError('%s: the parameters to optimise must be backend variables '
                                '(K.variable); received %r.' % (self.__class__.__name__, p))
        key = [id(p) for p in params]
        if self._slot_params == key:
            return
        self._slot_count = 0
        self._create_slots(params)
        self._slot_params = key

    def _create_slots(self, params):
        raise NotImplementedError

    def _new_values(self, params, grads):
        raise NotImplementedError

    @staticmethod
    def _constrained(p, new_p):
        """`new_p` projected by the weight's constraint, if it has one."""
        constraint = getattr(p, 'constraint', None)
        if constraint is not None:
            return constraint(new_p)
        return new_p

    # --- gradients and updates -----------------------------------------------------

    def get_gradients(self, loss, params):
        """The gradients of `loss` with respect to `params`, clipped.

        # Arguments
            loss: a scalar computed under a `K.GradientTape` (the tape may be
                closed already; its gradients are read from `loss.tape`), or a
                symbolic tensor (then the gradients are symbolic too).
            params: list of variables.

        # Returns
            A list of gradients, one per parameter (zeros for a parameter the
            loss does not depend on).

        # Raises
            ValueError: if `loss` was not computed on a tape (so no gradient
                can be taken) and `params` is not empty.
        """
        return self._clipped(self._unclipped_gradients(loss, params))

    def _unclipped_gradients(self, loss, params):
        """The gradients of `loss` with respect to `params` (see `get_gradients`)."""
        params = list(params)
        if isinstance(loss, K.SymbolicTensor):
            grads = K.gradients(loss, params)
        elif isinstance(loss, K.Traced):
            grads = loss.tape.gradient(loss, params)
        elif not params:
            grads = []
        else:
            raise ValueError('%s cannot differentiate the loss: it was not computed under a '
                             'K.GradientTape watching the parameters (received a %s). Compute '
                             'the loss with backend functions inside '
                             '`with K.GradientTape(params):`.'
                             % (self.__class__.__name__, type(loss).__name__))
        return grads

    def _clipped(self, grads):
        """`grads` clipped by `clipnorm` then `clipvalue`, where they are set.

        Split from `get_gradients` so that a distributed optimizer can clip the
        gradients averaged over its ranks, as one process clips the gradient
        of the whole batch.
        """
        if getattr(self, 'clipnorm', 0) > 0:
            total = sum(K.sum(K.square(g)) for g in grads)
            norm = K.sqrt(K.cast(total, K.floatx()))
            grads = [clip_norm(g, self.clipnorm, norm) for g in grads]
        if getattr(self, 'clipvalue', 0) > 0:
            grads = [K.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    @interfaces.legacy_get_updates_support
    def get_updates(self, loss, params):
        """Takes one optimisation step (eagerly) and returns the updated variables.

        All new values (step counter, slots, parameters) are computed from the
        values before the step, then assigned; if anything fails on the way,
        no variable has changed.

        With a symbolic `loss`, nothing is assigned: the `(variable, new
        value)` pairs are returned for `K.function(..., updates=...)`.

        # Arguments
            loss: the loss (see `get_gradients`).
            params: list of the variables to train.

        # Returns
            The list of variables updated (eagerly), or the list of
            `(variable, symbolic new value)` pairs.
        """
        params = list(params)
        grads = self.get_gradients(loss, params)
        self.build(params)
        if any(isinstance(g, K.SymbolicTensor) for g in grads):
            return self._symbolic_updates(params, grads)
        pairs = self._new_values(params, grads)
        for variable, value in pairs:
            K.update(variable, value)
        self.updates = [variable for variable, _ in pairs]
        return self.updates

    def _symbolic_updates(self, params, grads):
        """Update pairs whose new values are computed when a `K.function` runs."""
        placeholder_grads = [np.zeros(K.int_shape(p), dtype=K.dtype(p)) for p in params]
        variables = [v for v, _ in self._new_values(params, placeholder_grads)]

        def optimizer_step(*concrete_grads):
            return [value for _, value in self._new_values(params, list(concrete_grads))]
        new_values = symbolic_aware(optimizer_step)(*grads)
        self.updates = list(zip(variables, new_values))
        return self.updates

    # --- state --------------------------------------------------------------------

    def get_weights(self):
        """The optimizer's state as a list of NumPy arrays (copies), in `weights` order."""
        return K.batch_get_value(self.weights)

    def set_weights(self, weights):
        """Sets the optimizer's state from NumPy arrays (as `get_weights` returns them).

        Only possible once the slots exist (after the first training step, or
        after `build(params)`).

        # Arguments
            weights: list of arrays, one per entry of `self.weights`, with the
                same shapes.

        # Raises
            ValueError: if the number of arrays or a shape does not match;
                nothing is changed then.
        """
        weights = list(weights)
        if len(self.weights) != len(weights):
            hint = ('' if self.weights else ' The optimizer has no state yet: it is created '
                    'by the first training step (or `build(params)`).')
            raise ValueError('%s: the length of the specified weight list (%d) does not match '
                             'the number of weights of the optimizer (%d).%s'
                             % (self.__class__.__name__, len(weights), len(self.weights), hint))
        pairs = []
        for i, (variable, value) in enumerate(zip(self.weights, weights)):
            value = np.asarray(value)
            if tuple(variable.shape) != value.shape:
                raise ValueError('%s: optimizer weight %d (%s) has shape %s, not compatible '
                                 'with the provided weight shape %s.'
                                 % (self.__class__.__name__, i, variable.name,
                                    tuple(variable.shape), value.shape))
            pairs.append((variable, value))
        K.batch_set_value(pairs)

    def get_config(self):
        """The constructor arguments (`clipnorm` / `clipvalue` only if given)."""
        config = {}
        if hasattr(self, 'clipnorm'):
            config['clipnorm'] = self.clipnorm
        if hasattr(self, 'clipvalue'):
            config['clipvalue'] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config):
        """A new optimizer from `get_config()`'s dict."""
        return cls(**config)


def _base_config(optimizer, config):
    merged = Optimizer.get_config(optimizer)
    merged.update(config)
    return merged


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum, learning rate decay and Nesterov momentum.

    One step, with `lr_t = lr / (1 + decay * iterations)` (if `decay > 0`):

        v = momentum * m - lr_t * g          # m: the velocity slot
        p = p + v                            # or, with nesterov:
        p = p + momentum * v - lr_t * g

    State (`weights`): `[iterations, m for each param]`.

    # Arguments
        lr: float >= 0. Learning rate.
        momentum: float >= 0. Accelerates SGD in the relevant direction and
            dampens oscillations.
        decay: float >= 0. Learning rate decay over each update.
        nesterov: boolean. Whether to apply Nesterov momentum.
    """

    def __init__(self, lr=0.01, momentum=0., decay=0., nesterov=False, **kwargs):
        super(SGD, self).__init__(**kwargs)
        _check_non_negative('SGD', lr=lr, momentum=momentum, decay=decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.lr = self._hyper('lr', lr)
        self.momentum = self._hyper('momentum', momentum)
        self.decay = self._hyper('decay', decay)
        self.initial_decay = decay
        self.nesterov = nesterov

    def _create_slots(self, params):
        self.moments = [self._slot(K.int_shape(p)) for p in params]
        self.weights = [self.iterations] + self.moments

    def _new_values(self, params, grads):
        lr = self._decayed_lr()
        momentum = self._scalar(self.momentum)
        pairs = [(self.iterations, K.add(self.iterations, 1))]
        for p, g, m in zip(params, grads, self.moments):
            new_p, velocity = rules.sgd_update(p, g, m, lr, momentum,
                                               nesterov=bool(self.nesterov))
            pairs.append((m, velocity))
            pairs.append((p, self._constrained(p, new_p)))
        return pairs

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'momentum': float(K.get_value(self.momentum)),
                                   'decay': float(K.get_value(self.decay)),
                                   'nesterov': self.nesterov})


class RMSprop(Optimizer):
    """RMSProp: divides the gradient by a running average of its recent magnitude.

    One step, with `lr_t` decayed as in SGD:

        a = rho * a + (1 - rho) * g ** 2
        p = p - lr_t * g / (sqrt(a) + epsilon)

    State (`weights`): `[a for each param]` (Keras 2.2.4 leaves `iterations`
    out of RMSprop's weights).

    # Arguments
        lr: float >= 0. Learning rate.
        rho: float >= 0.
        epsilon: float >= 0. Fuzz factor; `None` means `K.epsilon()`.
        decay: float >= 0. Learning rate decay over each update.
    """

    def __init__(self, lr=0.001, rho=0.9, epsilon=None, decay=0., **kwargs):
        super(RMSprop, self).__init__(**kwargs)
        if epsilon is None:
            epsilon = K.epsilon()
        _check_non_negative('RMSprop', lr=lr, rho=rho, epsilon=epsilon, decay=decay)
        self.lr = self._hyper('lr', lr)
        self.rho = self._hyper('rho', rho)
        self.decay = self._hyper('decay', decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.epsilon = epsilon
        self.initial_decay = decay

    def _create_slots(self, params):
        self.accumulators = [self._slot(K.int_shape(p), dtype=K.dtype(p)) for p in params]
        self.weights = list(self.accumulators)

    def _new_values(self, params, grads):
        lr = self._decayed_lr()
        rho = self._scalar(self.rho)
        pairs = [(self.iterations, K.add(self.iterations, 1))]
        for p, g, a in zip(params, grads, self.accumulators):
            new_p, new_a = rules.rmsprop_update(p, g, a, lr, rho, epsilon=self.epsilon)
            pairs.append((a, new_a))
            pairs.append((p, self._constrained(p, new_p)))
        return pairs

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'rho': float(K.get_value(self.rho)),
                                   'decay': float(K.get_value(self.decay)),
                                   'epsilon': self.epsilon})


class Adagrad(Optimizer):
    """Adagrad: per-parameter learning rates that shrink as updates accumulate.

    One step, with `lr_t` decayed as in SGD:

        a = a + g ** 2
        p = p - lr_t * g / (sqrt(a) + epsilon)

    State (`weights`): `[a for each param]` (no `iterations`, as in Keras 2.2.4).

    # Arguments
        lr: float >= 0. Initial learning rate.
        epsilon: float >= 0. `None` means `K.epsilon()`.
        decay: float >= 0. Learning rate decay over each update.
    """

    def __init__(self, lr=0.01, epsilon=None, decay=0., **kwargs):
        super(Adagrad, self).__init__(**kwargs)
        if epsilon is None:
            epsilon = K.epsilon()
        _check_non_negative('Adagrad', lr=lr, epsilon=epsilon, decay=decay)
        self.lr = self._hyper('lr', lr)
        self.decay = self._hyper('decay', decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.epsilon = epsilon
        self.initial_decay = decay

    def _create_slots(self, params):
        self.accumulators = [self._slot(K.int_shape(p)) for p in params]
        self.weights = list(self.accumulators)

    def _new_values(self, params, grads):
        lr = self._decayed_lr()
        pairs = [(self.iterations, K.add(self.iterations, 1))]
        for p, g, a in zip(params, grads, self.accumulators):
            new_p, new_a = rules.adagrad_update(p, g, a, lr, epsilon=self.epsilon)
            pairs.append((a, new_a))
            pairs.append((p, self._constrained(p, new_p)))
        return pairs

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'decay': float(K.get_value(self.decay)),
                                   'epsilon': self.epsilon})


class Adadelta(Optimizer):
    """Adadelta: adapts the step from moving windows of gradients and of updates.

    One step, with `lr_t` decayed as in SGD:

        a = rho * a + (1 - rho) * g ** 2
        u = g * sqrt(d + epsilon) / sqrt(a + epsilon)    # the old d
        p = p - lr_t * u
        d = rho * d + (1 - rho) * u ** 2

    State (`weights`): `[a for each param] + [d for each param]` (no
    `iterations`, as in Keras 2.2.4).

    # Arguments
        lr: float >= 0. Initial learning rate; best left at 1.
        rho: float >= 0. Decay factor: the fraction of the averages kept at
            each step.
        epsilon: float >= 0. Fuzz factor; `None` means `K.epsilon()`.
        decay: float >= 0. Learning rate decay over each update.
    """

    def __init__(self, lr=1.0, rho=0.95, epsilon=None, decay=0., **kwargs):
        super(Adadelta, self).__init__(**kwargs)
        if epsilon is None:
            epsilon = K.epsilon()
        _check_non_negative('Adadelta', lr=lr, rho=rho, epsilon=epsilon, decay=decay)
        self.lr = self._hyper('lr', lr)
        self.decay = self._hyper('decay', decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.rho = rho
        self.epsilon = epsilon
        self.initial_decay = decay

    def _create_slots(self, params):
        self.accumulators = [self._slot(K.int_shape(p)) for p in params]
        self.delta_accumulators = [self._slot(K.int_shape(p)) for p in params]
        self.weights = self.accumulators + self.delta_accumulators

    def _new_values(self, params, grads):
        lr = self._decayed_lr()
        pairs = [(self.iterations, K.add(self.iterations, 1))]
        for p, g, a, d in zip(params, grads, self.accumulators, self.delta_accumulators):
            new_p, new_a, new_d = rules.adadelta_update(p, g, a, d, lr, rho=self.rho,
                                                        epsilon=self.epsilon)
            pairs.append((a, new_a))
            pairs.append((p, self._constrained(p, new_p)))
            pairs.append((d, new_d))
        return pairs

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'rho': self.rho,
                                   'decay': float(K.get_value(self.decay)),
                                   'epsilon': self.epsilon})


class Adam(Optimizer):
    """Adam, optionally with the AMSGrad variant.

    One step `t = iterations + 1`, with `lr` decayed as in SGD:

        lr_t = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        p = p - lr_t * m / (sqrt(v) + epsilon)
        # amsgrad: vhat = max(vhat, v); p = p - lr_t * m / (sqrt(vhat) + epsilon)

    State (`weights`): `[iterations] + [m ...] + [v ...] + [vhat ...]`; without
    amsgrad each `vhat` is an unused zero vector of shape `(1,)`, as in
    Keras 2.2.4 (so saved files have the same layout).

    # Arguments
        lr: float >= 0. Learning rate.
        beta_1: float, 0 < beta < 1. Generally close to 1.
        beta_2: float, 0 < beta < 1. Generally close to 1.
        epsilon: float >= 0. Fuzz factor; `None` means `K.epsilon()`.
        decay: float >= 0. Learning rate decay over each update.
        amsgrad: boolean. Whether to apply AMSGrad ("On the Convergence of
            Adam and Beyond").
    """

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.,
                 amsgrad=False, **kwargs):
        super(Adam, self).__init__(**kwargs)
        if epsilon is None:
            epsilon = K.epsilon()
        _check_non_negative('Adam', lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                            decay=decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.lr = self._hyper('lr', lr)
        self.beta_1 = self._hyper('beta_1', beta_1)
        self.beta_2 = self._hyper('beta_2', beta_2)
        self.decay = self._hyper('decay', decay)
        self.epsilon = epsilon
        self.initial_decay = decay
        self.amsgrad = amsgrad

    def _create_slots(self, params):
        self.ms = [self._slot(K.int_shape(p), dtype=K.dtype(p)) for p in params]
        self.vs = [self._slot(K.int_shape(p), dtype=K.dtype(p)) for p in params]
        if self.amsgrad:
            self.vhats = [self._slot(K.int_shape(p), dtype=K.dtype(p)) for p in params]
        else:
            self.vhats = [self._slot((1,)) for _ in params]
        self.weights = [self.iterations] + self.ms + self.vs + self.vhats

    def _new_values(self, params, grads):
        lr = self._decayed_lr()
        t = self._step_count()
        beta_1, beta_2 = self._scalar(self.beta_1), self._scalar(self.beta_2)
        lr_t = lr * (K.sqrt(1. - beta_2 ** t) / (1. - beta_1 ** t))
        pairs = [(self.iterations, K.add(self.iterations, 1))]
        for p, g, m, v, vhat in zip(params, grads, self.ms, self.vs, self.vhats):
            if self.amsgrad:
                new_p, m_t, v_t, vhat_t = rules.amsgrad_update(
                    p, g, m, v, vhat, lr_t, beta_1, beta_2, epsilon=self.epsilon)
                pairs.append((vhat, vhat_t))
            else:
                new_p, m_t, v_t = rules.adam_update(p, g, m, v, lr_t, beta_1, beta_2,
                                                    epsilon=self.epsilon)
            pairs.append((m, m_t))
            pairs.append((v, v_t))
            pairs.append((p, self._constrained(p, new_p)))
        return pairs

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'beta_1': float(K.get_value(self.beta_1)),
                                   'beta_2': float(K.get_value(self.beta_2)),
                                   'decay': float(K.get_value(self.decay)),
                                   'epsilon': self.epsilon,
                                   'amsgrad': self.amsgrad})


class Adamax(Optimizer):
    """Adamax, the infinity-norm variant of Adam (Adam paper, section 7).

    One step `t = iterations + 1`, with `lr` decayed as in SGD:

        lr_t = lr / (1 - beta_1 ** t)
        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        p = p - lr_t * m / (u + epsilon)

    State (`weights`): `[iterations] + [m ...] + [u ...]`.

    # Arguments
        lr: float >= 0. Learning rate.
        beta_1, beta_2: floats, 0 < beta < 1. Generally close to 1.
        epsilon: float >= 0. Fuzz factor; `None` means `K.epsilon()`.
        decay: float >= 0. Learning rate decay over each update.
    """

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0., **kwargs):
        super(Adamax, self).__init__(**kwargs)
        if epsilon is None:
            epsilon = K.epsilon()
        _check_non_negative('Adamax', lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                            decay=decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.lr = self._hyper('lr', lr)
        self.beta_1 = self._hyper('beta_1', beta_1)
        self.beta_2 = self._hyper('beta_2', beta_2)
        self.decay = self._hyper('decay', decay)
        self.epsilon = epsilon
        self.initial_decay = decay

    def _create_slots(self, params):
        self.ms = [self._slot(K.int_shape(p)) for p in params]
        self.us = [self._slot(K.int_shape(p)) for p in params]
        self.weights = [self.iterations] + self.ms + self.us

    def _new_values(self, params, grads):
        lr = self._decayed_lr()
        t = self._step_count()
        beta_1, beta_2 = self._scalar(self.beta_1), self._scalar(self.beta_2)
        lr_t = lr / (1. - beta_1 ** t)
        pairs = [(self.iterations, K.add(self.iterations, 1))]
        for p, g, m, u in zip(params, grads, self.ms, self.us):
            new_p, m_t, u_t = rules.adamax_update(p, g, m, u, lr_t, beta_1, beta_2,
                                                  epsilon=self.epsilon)
            pairs.append((m, m_t))
            pairs.append((u, u_t))
            pairs.append((p, self._constrained(p, new_p)))
        return pairs

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'beta_1': float(K.get_value(self.beta_1)),
                                   'beta_2': float(K.get_value(self.beta_2)),
                                   'decay': float(K.get_value(self.decay)),
                                   'epsilon': self.epsilon})


def _nadam_momentum(beta_1, t, schedule_decay):
    """Nadam's warming momentum schedule, `beta_1 * (1 - 0.5 * 0.96 ** (t * decay))`.

    On floatx scalars (`beta_1`, `t`), giving a floatx scalar (the Python
    floats take the scalars' dtype, as NumPy 2 and accel type them).
    """
    return beta_1 * (1. - 0.5 * (0.96 ** (t * schedule_decay)))


class Nadam(Optimizer):
    """Nesterov Adam: Adam with Nesterov momentum and a warming momentum schedule.

    One step `t = iterations + 1` (no learning rate decay):

        mu_t   = beta_1 * (1 - 0.5 * 0.96 ** (t * schedule_decay))
        mu_t1  = beta_1 * (1 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        s_new  = m_schedule * mu_t;   s_next = s_new * mu_t1
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        m_bar = (1 - mu_t) * g / (1 - s_new) + mu_t1 * m / (1 - s_next)
        p = p - lr * m_bar / (sqrt(v / (1 - beta_2 ** t)) + epsilon)
        m_schedule = s_new

    State (`weights`): `[iterations] + [m ...] + [v ...]`, as in Keras 2.2.4,
    which leaves `m_schedule` out. Keras 2.2.4 therefore restarted the
    schedule at 1 when a saved model was loaded; here `set_weights`
    recomputes `m_schedule` from the restored `iterations` (it is the product
    of the `mu_t` of the steps taken), so training resumes exactly.

    # Arguments
        lr: float >= 0. Learning rate.
        beta_1, beta_2: floats, 0 < beta < 1. Generally close to 1.
        epsilon: float >= 0. Fuzz factor; `None` means `K.epsilon()`.
        schedule_decay: float >= 0, the momentum schedule's decay.
    """

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None,
                 schedule_decay=0.004, **kwargs):
        super(Nadam, self).__init__(**kwargs)
        if epsilon is None:
            epsilon = K.epsilon()
        _check_non_negative('Nadam', lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                            schedule_decay=schedule_decay)
        self.iterations = self._hyper('iterations', 0, dtype='int64')
        self.m_schedule = self._hyper('m_schedule', 1.)
        self.lr = self._hyper('lr', lr)
        self.beta_1 = self._hyper('beta_1', beta_1)
        self.beta_2 = self._hyper('beta_2', beta_2)
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay

    def _create_slots(self, params):
        self.ms = [self._slot(K.int_shape(p)) for p in params]
        self.vs = [self._slot(K.int_shape(p)) for p in params]
        self.weights = [self.iterations] + self.ms + self.vs

    def _new_values(self, params, grads):
        t = self._step_count()
        lr = self._scalar(self.lr)
        beta_1, beta_2 = self._scalar(self.beta_1), self._scalar(self.beta_2)
        momentum_t = _nadam_momentum(beta_1, t, self.schedule_decay)
        momentum_next = _nadam_momentum(beta_1, t + 1, self.schedule_decay)
        schedule_new = self._scalar(self.m_schedule) * momentum_t
        schedule_next = schedule_new * momentum_next
        beta_2_power = beta_2 ** t
        pairs = [(self.iterations, K.add(self.iterations, 1)),
                 (self.m_schedule, schedule_new)]
        for p, g, m, v in zip(params, grads, self.ms, self.vs):
            new_p, m_t, v_t = rules.nadam_update(
                p, g, m, v, lr, beta_1, beta_2, momentum_t, momentum_next, schedule_new,
                schedule_next, beta_2_power, epsilon=self.epsilon)
            pairs.append((m, m_t))
            pairs.append((v, v_t))
            pairs.append((p, self._constrained(p, new_p)))
        return pairs

    def set_weights(self, weights):
        """Sets the state as `Optimizer.set_weights`, then recomputes `m_schedule`.

        `m_schedule` after `n` steps is the product `mu_1 * ... * mu_n` of the
        momentum schedule. It is recomputed step by step with the arithmetic
        the updates use (so bit for bit as if training had run here), with
        the current `beta_1` and `schedule_decay`.
        """
        super(Nadam, self).set_weights(weights)
        beta_1 = self._scalar(self.beta_1)
        schedule = K.cast_to_floatx(1.)[()]
        for step in range(int(K.get_value(self.iterations))):
            t = K.cast(step + 1, K.floatx())
            schedule = schedule * _nadam_momentum(beta_1, t, self.schedule_decay)
        K.set_value(self.m_schedule, schedule)

    def get_config(self):
        return _base_config(self, {'lr': float(K.get_value(self.lr)),
                                   'beta_1': float(K.get_value(self.beta_1)),
                                   'beta_2': float(K.get_value(self.beta_2)),
                                   'epsilon': self.epsilon,
                                   'schedule_decay': self.schedule_decay})


# Aliases.

sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamax = Adamax
nadam = Nadam

_OPTIMIZERS_BY_NAME = {
    'sgd': SGD,
    'rmsprop': RMSprop,
    'adagrad': Adagrad,
    'adadelta': Adadelta,
    'adam': Adam,
    'adamax': Adamax,
    'nadam': Nadam,
}


def serialize(optimizer):
    """`{'class_name': ..., 'config': optimizer.get_config()}`."""
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """Builds an optimizer from `serialize`'s dict.

    Built-in class names are matched case-insensitively (`'Adam'`, `'adam'`).
    As in Keras 2.2.4, a built-in name in the given dict is rewritten there in
    lower case (`config['class_name']` becomes `'adam'`); Keras's own tests
    compare against the dict after the call. Nothing else in it is changed.

    # Arguments
        config: `{'class_name': ..., 'config': {...}}`.
        custom_objects: optional dict of user-defined optimizer classes by name.

    # Returns
        An `Optimizer` instance.

    # Raises
        ValueError: for an unknown class name or a malformed config.
    """
    if not isinstance(config, dict) or 'class_name' not in config:
        raise ValueError('Could not interpret optimizer config %r: expected a dict with keys '
                         '"class_name" and "config".' % (config,))
    class_name = config['class_name']
    if isinstance(class_name, str) and class_name.lower() in _OPTIMIZERS_BY_NAME:
        config['class_name'] = class_name.lower()
    return deserialize_keras_object(config, module_objects=_OPTIMIZERS_BY_NAME,
                                    custom_objects=custom_objects,
                                    printable_module_name='optimizer')


def get(identifier):
    """Resolves an optimizer given by name, config dict or instance.

    # Arguments
        identifier: a name (`'sgd'`, `'rmsprop'`, `'adagrad'`, `'adadelta'`,
            `'adam'`, `'adamax'`, `'nadam'`, any case; default arguments), a
            config dict, or an `Optimizer` (returned unchanged).

    # Returns
        An `Optimizer` instance.

    # Raises
        ValueError: if `identifier` cannot be interpreted.
    """
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({'class_name': identifier, 'config': {}})
    if isinstance(identifier, Optimizer):
        return identifier
    raise ValueError('Could not interpret optimizer identifier: %r (expected one of %s, a '
                     'config dict or an Optimizer instance).'
                     % (identifier, ', '.join(sorted(_OPTIMIZERS_BY_NAME))))
