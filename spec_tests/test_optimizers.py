"""Optimizers (`refkeras.optimizers`), as Keras 2.2.4 defines them.

Every optimizer takes several steps on a small quadratic, and the weights and
the optimizer's state are compared with a direct NumPy loop written here from
the update rules of Keras 2.2.4 (float64; the optimizer runs in float32).
Also checked: learning rate decay, Nesterov momentum, AMSGrad, gradient
clipping, weight constraints, `get_config` round trips, the order and shapes
of the state (`get_weights` / `set_weights`, the layout of `optimizer_weights`
in saved files), and that `K.set_value(opt.lr, ...)` takes effect.
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras import optimizers

# --- the problem: sum(0.5 * a * (w - c) ** 2) over two weights of different shapes ---

START = [np.array([1.0, -2.0, 0.5]), np.array([[0.3, -0.7], [2.0, 0.0]])]
CURVATURE = [np.array([1.0, 3.0, 0.5]), np.array([[2.0, 0.2], [1.0, 4.0]])]
CENTRE = [np.array([0.2, 0.1, -1.0]), np.array([[-0.5, 0.4], [1.0, 1.0]])]
STEPS = 6


def gradient(ws):
    """The gradient of the quadratic, by hand: a * (w - c)."""
    return [a * (w - c) for w, a, c in zip(ws, CURVATURE, CENTRE)]


def make_params(constraint=None):
    return [K.variable(w, constraint=constraint) for w in START]


def quadratic_loss(params):
    total = 0.0
    for w, a, c in zip(params, CURVATURE, CENTRE):
        term = K.sum(K.multiply(0.5, K.multiply(a.astype('float32'),
                                                K.square(K.subtract(w, c.astype('float32'))))))
        total = K.add(total, term)
    return total


def train(optimizer, params, steps=STEPS):
    for _ in range(steps):
        with K.GradientTape(params):
            loss = quadratic_loss(params)
        optimizer.get_updates(loss, params)
    return [K.get_value(p) for p in params]


# --- reference update rules (Keras 2.2.4), one plain loop each --------------------------

def zeros():
    return [np.zeros_like(w) for w in START]


def ref_sgd(steps, lr=0.01, momentum=0.0, decay=0.0, nesterov=False, project=None):
    ws, ms, it = [w.copy() for w in START], zeros(), 0
    for _ in range(steps):
        gs = gradient(ws)
        rate = lr * (1.0 / (1.0 + decay * it)) if decay > 0 else lr
        for i in range(len(ws)):
            v = momentum * ms[i] - rate * gs[i]
            ms[i] = v
            if nesterov:
                ws[i] = ws[i] + momentum * v - rate * gs[i]
            else:
                ws[i] = ws[i] + v
            if project is not None:
                ws[i] = project(ws[i])
        it += 1
    return ws, [it] + ms


def ref_rmsprop(steps, lr=0.001, rho=0.9, epsilon=1e-7, decay=0.0):
    ws, acc, it = [w.copy() for w in START], zeros(), 0
    for _ in range(steps):
        gs = gradient(ws)
        rate = lr / (1.0 + decay * it) if decay > 0 else lr
        for i in range(len(ws)):
            acc[i] = rho * acc[i] + (1 - rho) * gs[i] ** 2
            ws[i] = ws[i] - rate * gs[i] / (np.sqrt(acc[i]) + epsilon)
        it += 1
    return ws, acc


def ref_adagrad(steps, lr=0.01, epsilon=1e-7, decay=0.0):
    ws, acc, it = [w.copy() for w in START], zeros(), 0
    for _ in range(steps):
        gs = gradient(ws)
        rate = lr / (1.0 + decay * it) if decay > 0 else lr
        for i in range(len(ws)):
            acc[i] = acc[i] + gs[i] ** 2
            ws[i] = ws[i] - rate * gs[i] / (np.sqrt(acc[i]) + epsilon)
        it += 1
    return ws, acc


def ref_adadelta(steps, lr=1.0, rho=0.95, epsilon=1e-7, decay=0.0):
    ws, acc, delta, it = [w.copy() for w in START], zeros(), zeros(), 0
    for _ in range(steps):
        gs = gradient(ws)
        rate = lr / (1.0 + decay * it) if decay > 0 else lr
        for i in range(len(ws)):
            acc[i] = rho * acc[i] + (1 - rho) * gs[i] ** 2
            step = gs[i] * np.sqrt(delta[i] + epsilon) / np.sqrt(acc[i] + epsilon)
            ws[i] = ws[i] - rate * step
            delta[i] = rho * delta[i] + (1 - rho) * step ** 2
        it += 1
    return ws, acc + delta


def ref_adam(steps, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0,
             amsgrad=False):
    ws, ms, vs, it = [w.copy() for w in START], zeros(), zeros(), 0
    vhats = zeros() if amsgrad else [np.zeros(1) for _ in START]
    for _ in range(steps):
        gs = gradient(ws)
        rate = lr / (1.0 + decay * it) if decay > 0 else lr
        t = it + 1
        corrected = rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for i in range(len(ws)):
            ms[i] = beta_1 * ms[i] + (1 - beta_1) * gs[i]
            vs[i] = beta_2 * vs[i] + (1 - beta_2) * gs[i] ** 2
            if amsgrad:
                vhats[i] = np.maximum(vhats[i], vs[i])
                ws[i] = ws[i] - corrected * ms[i] / (np.sqrt(vhats[i]) + epsilon)
            else:
                ws[i] = ws[i] - corrected * ms[i] / (np.sqrt(vs[i]) + epsilon)
        it += 1
    return ws, [it] + ms + vs + vhats


def ref_adamax(steps, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0):
    ws, ms, us, it = [w.copy() for w in START], zeros(), zeros(), 0
    for _ in range(steps):
        gs = gradient(ws)
        rate = lr / (1.0 + decay * it) if decay > 0 else lr
        t = it + 1
        for i in range(len(ws)):
            ms[i] = beta_1 * ms[i] + (1 - beta_1) * gs[i]
            us[i] = np.maximum(beta_2 * us[i], np.abs(gs[i]))
            ws[i] = ws[i] - rate / (1 - beta_1 ** t) * ms[i] / (us[i] + epsilon)
        it += 1
    return ws, [it] + ms + us


def ref_nadam(steps, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, schedule_decay=0.004):
    ws, ms, vs, it, schedule = [w.copy() for w in START], zeros(), zeros(), 0, 1.0

    def mu(step):
        return beta_1 * (1 - 0.5 * 0.96 ** (step * schedule_decay))
    for _ in range(steps):
        gs = gradient(ws)
        t = it + 1
        schedule_now = schedule * mu(t)
        schedule_next = schedule_now * mu(t + 1)
        for i in range(len(ws)):
            ms[i] = beta_1 * ms[i] + (1 - beta_1) * gs[i]
            vs[i] = beta_2 * vs[i] + (1 - beta_2) * gs[i] ** 2
            m_bar = ((1 - mu(t)) * gs[i] / (1 - schedule_now)
                     + mu(t + 1) * ms[i] / (1 - schedule_next))
            v_hat = vs[i] / (1 - beta_2 ** t)
            ws[i] = ws[i] - lr * m_bar / (np.sqrt(v_hat) + epsilon)
        schedule = schedule_now
        it += 1
    return ws, [it] + ms + vs


CASES = [
    ('SGD', {}, ref_sgd),
    ('SGD', {'lr': 0.1, 'momentum': 0.9}, ref_sgd),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True}, ref_sgd),
    ('SGD', {'lr': 0.1, 'momentum': 0.5, 'decay': 0.3}, ref_sgd),
    ('RMSprop', {}, ref_rmsprop),
    ('RMSprop', {'lr': 0.05, 'rho': 0.5, 'decay': 0.2, 'epsilon': 0.01}, ref_rmsprop),
    ('Adagrad', {}, ref_adagrad),
    ('Adagrad', {'lr': 0.3, 'decay': 0.5}, ref_adagrad),
    ('Adadelta', {}, ref_adadelta),
    ('Adadelta', {'lr': 0.5, 'rho': 0.6, 'epsilon': 1e-3, 'decay': 0.1}, ref_adadelta),
    ('Adam', {}, ref_adam),
    ('Adam', {'lr': 0.1, 'beta_1': 0.8, 'beta_2': 0.5, 'decay': 0.2}, ref_adam),
    ('Adam', {'lr': 0.1, 'beta_2': 0.5, 'amsgrad': True}, ref_adam),
    ('Adamax', {}, ref_adamax),
    ('Adamax', {'lr': 0.1, 'beta_1': 0.7, 'beta_2': 0.5, 'decay': 0.1}, ref_adamax),
    ('Nadam', {}, ref_nadam),
    ('Nadam', {'lr': 0.1, 'beta_1': 0.8, 'beta_2': 0.6, 'schedule_decay': 0.3}, ref_nadam),
]
CASE_IDS = ['%s-%d' % (name, i) for i, (name, _, _) in enumerate(CASES)]


@pytest.mark.parametrize('name,kwargs,reference', CASES, ids=CASE_IDS)
def test_steps_match_the_keras_2_2_4_rule(name, kwargs, reference):
    opt = getattr(optimizers, name)(**kwargs)
    params = make_params()
    final = train(opt, params)
    expected_ws, expected_state = reference(STEPS, **kwargs)
    for got, want in zip(final, expected_ws):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    # The weights really moved (so the comparison above says something).
    assert max(np.abs(w - s).max() for w, s in zip(expected_ws, START)) > 1e-3
    state = opt.get_weights()
    assert len(state) == len(expected_state)
    for got, want in zip(state, expected_state):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_amsgrad_and_nesterov_change_the_result():
    plain = train(optimizers.Adam(lr=0.1, beta_2=0.5), make_params())
    ams = train(optimizers.Adam(lr=0.1, beta_2=0.5, amsgrad=True), make_params())
    assert np.abs(plain[1] - ams[1]).max() > 1e-3
    heavy = train(optimizers.SGD(lr=0.1, momentum=0.9), make_params())
    nesterov = train(optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True), make_params())
    assert np.abs(heavy[0] - nesterov[0]).max() > 1e-3


# --- each step, bit for bit, against a float32 loop ----------------------------------------
#
# The optimizers run each parameter's update as one primitive (refkeras/backend/
# prims_updates.py; one kernel with accel). Here every step is recomputed element by
# element with NumPy float32 scalars, in the order Keras 2.2.4 writes its formulas (the
# float32 rounding of each operation is then fixed, so the results must be equal, not
# close). Gradients are chosen on a 1/8 grid, so that their squares and sums of squares
# (clipnorm's global norm) are exact in any order.

F = np.float32


def f32_decayed_lr(lr, decay, iterations):
    if decay > 0:
        return F(lr) * (1. / (1. + F(decay) * F(iterations)))
    return F(lr)


def f32_power(x, y):
    """`x ** y` in float32 by NumPy's `power` ufunc, as the optimizers raise their beta
    variables (0-d arrays) to the step number. `pow` is not correctly rounded, and NumPy's
    scalar `**` differs from the ufunc in the last place for some float32 values, so the
    loop must take the same one to be exact."""
    return np.power(np.asarray(x, F), np.asarray(y, F))[()]


def f32_nadam_mu(beta_1, t, schedule_decay):
    return F(beta_1) * (1. - 0.5 * (F(0.96) ** (t * F(schedule_decay))))


class Float32Loop(object):
    """Keras 2.2.4's rules, one element at a time in float32 (an independent re-computation).

    `slots` holds up to three lists of slot arrays (one array per weight), in the order of
    the optimizer's `weights`: SGD the velocities; RMSprop and Adagrad the accumulators;
    Adadelta the accumulators, then the delta accumulators; Adam `m`, `v`, `vhat`; Adamax
    `m`, `u`; Nadam `m`, `v`. `step(ws, gs, project)` takes one step (`gs` already clipped)
    and returns the new weights; `state()` is what `get_weights()` must return.
    """

    def __init__(self, name, kw, shapes):
        self.name, self.kw, self.it = name, kw, 0
        self.schedule = F(1.)
        zeros = [[np.zeros(s, F) for s in shapes] for _ in range(3)]
        self.slots = zeros
        if name == 'Adam' and not kw.get('amsgrad'):
            self.slots[2] = [np.zeros(1, F) for _ in shapes]

    def state(self):
        per_kind = {'SGD': 1, 'RMSprop': 1, 'Adagrad': 1, 'Adadelta': 2, 'Adam': 3,
                    'Adamax': 2, 'Nadam': 2}[self.name]
        flat = [s for kind in self.slots[:per_kind] for s in kind]
        with_iterations = self.name in ('SGD', 'Adam', 'Adamax', 'Nadam')
        return ([np.array(self.it)] if with_iterations else []) + flat

    def step(self, ws, gs, project):
        kw, name = self.kw, self.name
        get = kw.get
        eps = F(get('epsilon', 1e-7))
        lr = f32_decayed_lr(get('lr', DEFAULT_LR[name]), get('decay', 0.), self.it)
        t = F(self.it) + 1
        b1, b2 = F(get('beta_1', 0.9)), F(get('beta_2', 0.999))
        if name == 'Adam':
            lr = lr * (np.sqrt(1. - f32_power(b2, t)) / (1. - f32_power(b1, t)))
        elif name == 'Adamax':
            lr = lr / (1. - f32_power(b1, t))
        elif name == 'Nadam':
            mu_t = f32_nadam_mu(b1, t, get('schedule_decay', 0.004))
            mu_next = f32_nadam_mu(b1, t + 1, get('schedule_decay', 0.004))
            s_new = self.schedule * mu_t
            s_next = s_new * mu_next
            self.schedule = s_new
        new_ws = []
        for k, (w, g) in enumerate(zip(ws, gs)):
            w = w.copy()
            for i in np.ndindex(w.shape):
                a, b, c = (kind[k] for kind in self.slots)
                p, gi = w[i], g[i]
                if name == 'SGD':
                    mom = F(get('momentum', 0.))
                    v = mom * a[i] - lr * gi
                    a[i] = v
                    w[i] = p + mom * v - lr * gi if get('nesterov') else p + v
                elif name == 'RMSprop':
                    rho = F(get('rho', 0.9))
                    a[i] = rho * a[i] + (1. - rho) * (gi * gi)
                    w[i] = p - lr * gi / (np.sqrt(a[i]) + eps)
                elif name == 'Adagrad':
                    a[i] = a[i] + gi * gi
                    w[i] = p - lr * gi / (np.sqrt(a[i]) + eps)
                elif name == 'Adadelta':
                    rho = get('rho', 0.95)
                    a[i] = F(rho) * a[i] + F(1. - rho) * (gi * gi)
                    u = gi * np.sqrt(b[i] + eps) / np.sqrt(a[i] + eps)
                    w[i] = p - lr * u
                    b[i] = F(rho) * b[i] + F(1. - rho) * (u * u)
                elif name == 'Adam':
                    a[i] = b1 * a[i] + (1. - b1) * gi
                    b[i] = b2 * b[i] + (1. - b2) * (gi * gi)
                    if get('amsgrad'):
                        c[i] = max(c[i], b[i])
                    w[i] = p - lr * a[i] / (np.sqrt(c[i] if get('amsgrad') else b[i]) + eps)
                elif name == 'Adamax':
                    a[i] = b1 * a[i] + (1. - b1) * gi
                    b[i] = max(b2 * b[i], abs(gi))
                    w[i] = p - lr * a[i] / (b[i] + eps)
                elif name == 'Nadam':
                    a[i] = b1 * a[i] + (1. - b1) * gi
                    b[i] = b2 * b[i] + (1. - b2) * (gi * gi)
                    m_bar = (1. - mu_t) * (gi / (1. - s_new)) + mu_next * (a[i] / (1. - s_next))
                    w[i] = p - lr * m_bar / (np.sqrt(b[i] / (1. - f32_power(b2, t))) + eps)
            new_ws.append(project(w))
        self.it += 1
        return new_ws


DEFAULT_LR = {'SGD': 0.01, 'RMSprop': 0.001, 'Adagrad': 0.01, 'Adadelta': 1.0, 'Adam': 0.001,
              'Adamax': 0.002, 'Nadam': 0.002}


def f32_clipped(gs, clipnorm=0., clipvalue=0.):
    if clipnorm > 0:
        total = F(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in gs))  # exact: 1/8 grid
        norm = np.sqrt(total)
        if norm >= F(clipnorm):
            gs = [g * F(clipnorm) / norm for g in gs]
    if clipvalue > 0:
        gs = [np.clip(g, F(-clipvalue), F(clipvalue)) for g in gs]
    return gs


def within(bound):
    return lambda w: K.clip(w, -bound, bound)


BIT_EXACT_CASES = [
    ('SGD', {'lr': 0.1}, False),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'decay': 0.05}, False),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'clipnorm': 1.0}, True),
    ('RMSprop', {'lr': 0.01, 'decay': 0.1}, False),
    ('RMSprop', {'rho': 0.7, 'clipvalue': 0.75}, True),
    ('Adagrad', {'lr': 0.1, 'decay': 0.1, 'clipnorm': 0.5}, False),
    ('Adadelta', {'rho': 0.8, 'decay': 0.05}, True),
    ('Adam', {'lr': 0.1, 'decay': 0.1}, False),
    ('Adam', {'lr': 0.1, 'beta_2': 0.5, 'amsgrad': True, 'clipnorm': 1.5}, True),
    ('Adamax', {'lr': 0.1, 'decay': 0.05}, True),
    ('Nadam', {'lr': 0.1, 'clipnorm': 1.0}, False),
    ('Nadam', {'beta_1': 0.8, 'schedule_decay': 0.3}, True),
]


@pytest.mark.parametrize('name,kwargs,constrained', BIT_EXACT_CASES,
                         ids=['%s-%d' % (c[0], i) for i, c in enumerate(BIT_EXACT_CASES)])
def test_each_step_equals_the_float32_rule_bit_for_bit(name, kwargs, constrained):
    rng = np.random.RandomState(7)
    shapes = [(3,), (2, 2)]
    start = [rng.uniform(-1, 1, s).astype(F) for s in shapes]
    bound = 0.6
    params = [K.variable(w, constraint=within(bound) if constrained else None) for w in start]
    opt = getattr(optimizers, name)(**kwargs)
    loop = Float32Loop(name, kwargs, shapes)
    ws = [w.copy() for w in start]
    project = (lambda w: np.clip(w, F(-bound), F(bound))) if constrained else (lambda w: w)
    for step in range(4):
        # Gradients on a 1/8 grid in [-2, 2], larger at the first step (AMSGrad's max matters).
        gs = [(rng.randint(-16, 17, s) / 8. * (2. if step == 0 else 1.)).astype(F)
              for s in shapes]
        with K.GradientTape(params):
            loss = sum(K.sum(K.multiply(p, g)) for p, g in zip(params, gs))  # gradient: g
        opt.get_updates(loss, params)
        ws = loop.step(ws, f32_clipped(gs, kwargs.get('clipnorm', 0.), kwargs.get('clipvalue', 0.)),
                       project)
        for p, want in zip(params, ws):
            got = K.get_value(p)
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, want, err_msg='%s step %d' % (name, step))
        for got, want in zip(opt.get_weights(), loop.state()):
            np.testing.assert_array_equal(got, want, err_msg='%s state, step %d' % (name, step))
    assert max(np.abs(w - s).max() for w, s in zip(ws, start)) > 1e-3  # the weights moved


# --- hyperparameters are variables ------------------------------------------------------

def test_set_value_of_lr_takes_effect_on_the_next_step():
    params = make_params()
    opt = optimizers.SGD(lr=0.1)
    train(opt, params, steps=1)
    K.set_value(opt.lr, 0.5)
    train(opt, params, steps=1)
    w = [s.copy() for s in START]
    for rate in (0.1, 0.5):
        w = [wi - rate * gi for wi, gi in zip(w, gradient(w))]
    for p, want in zip(params, w):
        np.testing.assert_allclose(K.get_value(p), want, rtol=1e-6)
    K.set_value(opt.lr, 0.0)
    before = [K.get_value(p) for p in params]
    train(opt, params, steps=2)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(K.get_value(p), b)


def test_hyperparameters_and_iterations_are_backend_variables():
    opt = optimizers.Adam()
    for name in ('lr', 'beta_1', 'beta_2', 'decay', 'iterations'):
        assert isinstance(getattr(opt, name), K.Variable), name
    assert K.dtype(opt.iterations) == 'int64'
    assert K.get_value(opt.iterations) == 0
    params = make_params()
    train(opt, params, steps=3)
    assert K.get_value(opt.iterations) == 3
    for name in ('lr', 'momentum', 'decay'):
        assert isinstance(getattr(optimizers.SGD(), name), K.Variable)


def test_decay_acts_only_if_set_at_construction_as_in_keras():
    params = make_params()
    opt = optimizers.SGD(lr=0.1)
    K.set_value(opt.decay, 10.0)
    final = train(opt, params, steps=3)
    expected, _ = ref_sgd(3, lr=0.1)
    for got, want in zip(final, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_decay_reads_the_step_counter_a_callback_may_set():
    params = make_params()
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    K.set_value(opt.iterations, 4)
    train(opt, params, steps=1)
    rate = 0.1 / (1 + 0.5 * 4)
    for p, w, g in zip(params, START, gradient(START)):
        np.testing.assert_allclose(K.get_value(p), w - rate * g, rtol=1e-6)
    assert K.get_value(opt.iterations) == 5


# --- gradient clipping ---------------------------------------------------------------------

def gradients_of(opt, params):
    with K.GradientTape(params):
        loss = quadratic_loss(params)
    return [np.asarray(g) for g in opt.get_gradients(loss, params)]


def test_clipnorm_rescales_by_the_norm_of_all_gradients_together():
    params = make_params()
    raw = gradient(START)
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in raw))
    # Clipping each gradient by its own norm would leave the second one alone.
    assert global_norm > 5.0 and np.sqrt(np.sum(raw[1] ** 2)) < 5.0
    clipped = gradients_of(optimizers.SGD(clipnorm=5.0), params)
    for got, g in zip(clipped, raw):
        np.testing.assert_allclose(got, g * 5.0 / global_norm, rtol=1e-6)
    # Below the threshold (or clipnorm=0) the gradients pass unchanged.
    for opt in (optimizers.SGD(clipnorm=global_norm * 1.01), optimizers.SGD(clipnorm=0.0),
                optimizers.SGD()):
        for got, g in zip(gradients_of(opt, params), raw):
            np.testing.assert_allclose(got, g, rtol=1e-6)


def test_clipvalue_clips_elementwise_and_combines_with_clipnorm():
    params = make_params()
    raw = gradient(START)
    for got, g in zip(gradients_of(optimizers.Adam(clipvalue=0.5), params), raw):
        np.testing.assert_allclose(got, np.clip(g, -0.5, 0.5), rtol=1e-6)
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in raw))
    both = gradients_of(optimizers.Adam(clipnorm=1.0, clipvalue=0.2), params)
    for got, g in zip(both, raw):
        np.testing.assert_allclose(got, np.clip(g / global_norm, -0.2, 0.2), rtol=1e-6)


def test_clipped_gradients_drive_the_update():
    params = make_params()
    train(optimizers.SGD(lr=0.1, clipvalue=0.25), params, steps=1)
    for p, w, g in zip(params, START, gradient(START)):
        np.testing.assert_allclose(K.get_value(p), w - 0.1 * np.clip(g, -0.25, 0.25), rtol=1e-6)


# --- constraints ----------------------------------------------------------------------------

def test_constraint_projects_each_new_parameter_value():
    def within_half(w):
        return K.clip(w, -0.5, 0.5)
    params = make_params(constraint=within_half)
    opt = optimizers.SGD(lr=0.1, momentum=0.9)
    final = train(opt, params, steps=4)
    expected, state = ref_sgd(4, lr=0.1, momentum=0.9, project=lambda w: np.clip(w, -0.5, 0.5))
    for got, want in zip(final, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The velocities are not projected.
    for got, want in zip(opt.get_weights()[1:], state[1:]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert max(np.abs(s).max() for s in state[1:]) > 0.5


@pytest.mark.parametrize('name', ['SGD', 'RMSprop', 'Adagrad', 'Adadelta', 'Adam', 'Adamax',
                                  'Nadam'])
def test_every_optimizer_applies_constraints(name):
    params = make_params(constraint=lambda w: K.clip(w, -0.01, 0.01))
    for value in train(getattr(optimizers, name)(), params, steps=2):
        assert np.abs(value).max() <= 0.01 + 1e-9


def test_a_failing_step_changes_nothing():
    def broken(w):
        raise RuntimeError('constraint failed')
    params = make_params()
    opt = optimizers.Adam(lr=0.1)
    train(opt, params, steps=1)
    before_params = [K.get_value(p) for p in params]
    before_state = opt.get_weights()
    params[1].constraint = broken
    with pytest.raises(RuntimeError):
        train(opt, params, steps=1)
    for p, b in zip(params, before_params):
        np.testing.assert_array_equal(K.get_value(p), b)
    for s, b in zip(opt.get_weights(), before_state):
        np.testing.assert_array_equal(s, b)


# --- the state: order, shapes, set_weights ---------------------------------------------------

EXPECTED_STATE_SHAPES = {
    'SGD': [(), (3,), (2, 2)],
    'RMSprop': [(3,), (2, 2)],
    'Adagrad': [(3,), (2, 2)],
    'Adadelta': [(3,), (2, 2), (3,), (2, 2)],
    'Adam': [(), (3,), (2, 2), (3,), (2, 2), (1,), (1,)],
    'Adamax': [(), (3,), (2, 2), (3,), (2, 2)],
    'Nadam': [(), (3,), (2, 2), (3,), (2, 2)],
}


@pytest.mark.parametrize('name', sorted(EXPECTED_STATE_SHAPES))
def test_state_is_created_on_the_first_step_in_keras_order(name):
    opt = getattr(optimizers, name)()
    assert opt.weights == [] and opt.get_weights() == []
    params = make_params()
    train(opt, params, steps=1)
    shapes = [w.shape for w in opt.get_weights()]
    assert shapes == EXPECTED_STATE_SHAPES[name]
    if shapes[0] == ():
        assert opt.weights[0] is opt.iterations
        assert opt.get_weights()[0].dtype == np.int64
    # A second step reuses the same slots.
    slots = list(opt.weights)
    train(opt, params, steps=1)
    assert all(a is b for a, b in zip(opt.weights, slots))


def test_adam_with_amsgrad_keeps_a_full_vhat_per_weight():
    opt = optimizers.Adam(amsgrad=True)
    train(opt, make_params(), steps=1)
    assert [w.shape for w in opt.get_weights()] == [(), (3,), (2, 2), (3,), (2, 2), (3,),
                                                    (2, 2)]


def test_state_variables_are_named_as_keras_names_them():
    K.clear_session()
    opt = optimizers.Adam()
    train(opt, make_params(), steps=1)
    assert [w.name for w in opt.weights] == [
        'Adam/iterations:0'] + ['training/Adam/Variable%s:0' % s
                                for s in ('', '_1', '_2', '_3', '_4', '_5')]
    assert opt.lr.name == 'Adam/lr:0'
    assert optimizers.Adam().lr.name == 'Adam_1/lr:0'


@pytest.mark.parametrize('name', sorted(EXPECTED_STATE_SHAPES))
def test_set_weights_restores_the_state_so_training_resumes_identically(name):
    kwargs = {'lr': 0.05} if name != 'Adadelta' else {}
    first = getattr(optimizers, name)(**kwargs)
    params = make_params()
    train(first, params, steps=4)
    second = getattr(optimizers, name)(**kwargs)
    copies = [K.variable(K.get_value(p)) for p in params]
    second.build(copies)
    second.set_weights(first.get_weights())
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    train(first, params, steps=2)
    train(second, copies, steps=2)
    for p, c in zip(params, copies):
        np.testing.assert_array_equal(K.get_value(p), K.get_value(c))


def test_nadam_set_weights_recomputes_the_momentum_schedule():
    first = optimizers.Nadam()
    params = make_params()
    train(first, params, steps=7)
    second = optimizers.Nadam()
    second.build(make_params())
    second.set_weights(first.get_weights())
    assert K.get_value(second.m_schedule) == K.get_value(first.m_schedule)
    expected = np.prod([0.9 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in range(1, 8)])
    np.testing.assert_allclose(K.get_value(second.m_schedule), expected, rtol=1e-6)


@pytest.mark.parametrize('name', sorted(EXPECTED_STATE_SHAPES))
def test_set_weights_with_a_wrong_count_or_shape_raises_and_changes_nothing(name):
    opt = getattr(optimizers, name)()
    train(opt, make_params(), steps=2)
    before = opt.get_weights()
    with pytest.raises(ValueError, match=r'length of the specified weight list \(%d\)'
                       % (len(before) - 1)):
        opt.set_weights(before[:-1])
    bad = [np.full(w.shape, 7, dtype=w.dtype) for w in before]
    bad[-1] = np.zeros((5,))
    with pytest.raises(ValueError, match=r'shape \(5,\)'):
        opt.set_weights(bad)
    for got, want in zip(opt.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_set_weights_before_the_first_step_explains_why():
    with pytest.raises(ValueError, match='no state yet'):
        optimizers.Adam().set_weights([np.zeros(())])


# --- configuration and lookup -----------------------------------------------------------------

def f32(x):
    return float(np.float32(x))


DEFAULT_CONFIGS = {
    'SGD': {'lr': f32(0.01), 'momentum': 0.0, 'decay': 0.0, 'nesterov': False},
    'RMSprop': {'lr': f32(0.001), 'rho': f32(0.9), 'decay': 0.0, 'epsilon': 1e-7},
    'Adagrad': {'lr': f32(0.01), 'decay': 0.0, 'epsilon': 1e-7},
    'Adadelta': {'lr': 1.0, 'rho': 0.95, 'decay': 0.0, 'epsilon': 1e-7},
    'Adam': {'lr': f32(0.001), 'beta_1': f32(0.9), 'beta_2': f32(0.999), 'decay': 0.0,
             'epsilon': 1e-7, 'amsgrad': False},
    'Adamax': {'lr': f32(0.002), 'beta_1': f32(0.9), 'beta_2': f32(0.999), 'decay': 0.0,
               'epsilon': 1e-7},
    'Nadam': {'lr': f32(0.002), 'beta_1': f32(0.9), 'beta_2': f32(0.999), 'epsilon': 1e-7,
              'schedule_decay': 0.004},
}


@pytest.mark.parametrize('name', sorted(DEFAULT_CONFIGS))
def test_default_configs_are_keras_2_2_4s(name):
    cls = getattr(optimizers, name)
    assert cls().get_config() == DEFAULT_CONFIGS[name]
    assert optimizers.get(name.lower()).get_config() == DEFAULT_CONFIGS[name]
    assert getattr(optimizers, name.lower()) is cls


@pytest.mark.parametrize('name,kwargs', [(n, k) for n, k, _ in CASES], ids=CASE_IDS)
def test_config_round_trips(name, kwargs):
    opt = getattr(optimizers, name)(clipnorm=1.5, **kwargs)
    config = opt.get_config()
    assert config['clipnorm'] == 1.5 and 'clipvalue' not in config
    for key, value in kwargs.items():
        assert config[key] == pytest.approx(value, rel=1e-7), key
    rebuilt = getattr(optimizers, name).from_config(config)
    assert type(rebuilt) is type(opt) and rebuilt.get_config() == config
    serialized = optimizers.serialize(opt)
    assert serialized == {'class_name': name, 'config': config}
    again = optimizers.deserialize(serialized)
    assert type(again) is type(opt) and again.get_config() == config
    # as in Keras 2.2.4, deserialize lower-cases a built-in name in the dict it is given
    assert serialized == {'class_name': name.lower(), 'config': config}


def test_get_accepts_names_in_any_case_dicts_and_instances():
    assert type(optimizers.get('sgd')) is optimizers.SGD
    assert type(optimizers.get('RMSprop')) is optimizers.RMSprop
    assert type(optimizers.get('ADAM')) is optimizers.Adam
    opt = optimizers.Nadam()
    assert optimizers.get(opt) is opt
    built = optimizers.get({'class_name': 'SGD', 'config': {'lr': 0.5, 'nesterov': True}})
    assert K.get_value(built.lr) == np.float32(0.5) and built.nesterov is True


def test_get_rejects_unknown_optimizers_clearly():
    with pytest.raises(ValueError, match='adamw'):
        optimizers.get('adamw')
    with pytest.raises(ValueError, match='Could not interpret optimizer identifier'):
        optimizers.get(0.01)
    with pytest.raises(ValueError, match='Could not interpret optimizer identifier'):
        optimizers.get(None)


def test_custom_optimizer_classes_deserialize_through_custom_objects():
    class MySGD(optimizers.SGD):
        pass
    opt = optimizers.deserialize({'class_name': 'MySGD', 'config': {'lr': 0.2}},
                                 custom_objects={'MySGD': MySGD})
    assert type(opt) is MySGD and K.get_value(opt.lr) == np.float32(0.2)


def test_bad_arguments_are_rejected_before_anything_is_built():
    with pytest.raises(TypeError, match='momentom'):
        optimizers.SGD(momentom=0.9)
    with pytest.raises(ValueError, match='lr'):
        optimizers.Adam(lr=-0.1)
    with pytest.raises(ValueError, match='clipnorm'):
        optimizers.RMSprop(clipnorm=-1)
    with pytest.raises(ValueError, match='decay'):
        optimizers.Adagrad(decay='fast')
    assert optimizers.RMSprop(epsilon=None).epsilon == K.epsilon()


# --- how get_updates is driven ---------------------------------------------------------------

def test_loss_not_recorded_on_a_tape_is_rejected():
    params = make_params()
    with pytest.raises(ValueError, match='GradientTape'):
        optimizers.SGD().get_updates(np.float32(1.0), params)
    with pytest.raises(TypeError, match='backend variables'):
        with K.GradientTape(params):
            loss = quadratic_loss(params)
        optimizers.SGD().get_updates(loss, params + [np.zeros(3)])


def test_get_updates_returns_the_updated_variables():
    opt = optimizers.Adam()
    params = make_params()
    with K.GradientTape(params):
        loss = quadratic_loss(params)
    updates = opt.get_updates(loss, params)
    assert updates[0] is opt.iterations
    assert all(any(u is p for u in updates) for p in params)


def test_symbolic_loss_gives_updates_for_k_function():
    x = K.placeholder(shape=(None, 3))
    kernel = K.variable(START[0].reshape(3, 1))
    target = K.sum(K.square(K.subtract(K.dot(x, kernel), 1.0)))
    opt = optimizers.Adam(lr=0.1, clipnorm=1.0)
    updates = opt.get_updates(target, [kernel])
    assert all(isinstance(u, tuple) for u in updates)
    assert K.get_value(opt.iterations) == 0  # nothing ran yet
    step = K.function([x], [target], updates=updates)
    batch = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, -1.0]], dtype='float32')
    for _ in range(3):
        step([batch])
    eager_kernel = K.variable(START[0].reshape(3, 1))
    eager = optimizers.Adam(lr=0.1, clipnorm=1.0)
    for _ in range(3):
        with K.GradientTape([eager_kernel]):
            loss = K.sum(K.square(K.subtract(K.dot(batch, eager_kernel), 1.0)))
        eager.get_updates(loss, [eager_kernel])
    assert np.abs(K.get_value(kernel) - START[0].reshape(3, 1)).max() > 0.1
    np.testing.assert_allclose(K.get_value(kernel), K.get_value(eager_kernel), rtol=1e-6)
    assert K.get_value(opt.iterations) == 3
