"""Fused optimizer updates: one kernel per update rule, one pass over a parameter.

Each kernel applies one rule of `refkeras/backend/prims_updates.py` to every
element: it reads the parameter, its gradient and the slots once, and writes
the new parameter and the new slots once, into fresh arrays (out of place; see
`accel/prims_updates.py` for why). A chain of elementwise primitives doing the
same would read and write the whole parameter once per operation.

Arguments, in this order: the output buffers, the input buffers (parameter,
gradient, slots), the 0-d scalars (learning rate, betas...: one-element device
buffers read by every thread from device memory, never copied to the host),
the Python-number attributes (`epsilon`, ...; converted on the host to the
computing dtype), and `n`, the number of elements. Every buffer is the 1-D
C-order storage of a `DeviceArray`, and all arrays of one launch have the same
shape, so element `i` of each is at index `i` (no strides).

Arithmetic is the reference's, operation by operation, in the same order and
types: `ONE - beta` is float32 for float32 `beta` (as NumPy's `1. - beta`), a
Python attribute arrives already rounded to the data's dtype (as a weak NumPy
scalar), `sqrt` and `/` are IEEE. The compiler may contract a product followed
by a sum into one fused multiply-add (one rounding instead of two), so results
can differ from the reference by a few roundings (bounds:
`spec_tests/accelerator/test_accel_vs_reference.py`). Each thread computes its elements
alone, so results do not depend on the launch shape: runs are deterministic.
"""
from accel.kernels.launch import cuda, grid_1d, run
from accel.kernels.scalar import ONE, safe_sqrt


@cuda.jit(device=True)
def nan_max(a, b):
    """`np.maximum(a, b)`: the larger value, NaN if either is NaN."""
    if a >= b or a != a:
        return a
    return b


@cuda.jit(device=True)
def magnitude(x):
    """`np.abs(x)` (with +0.0 for -0.0)."""
    if x < 0:
        return -x
    if x == 0:
        return x - x
    return x


# --- one kernel per rule -------------------------------------------------------------

@cuda.jit
def sgd_kernel(new_p, new_moment, p, g, moment, lr, momentum, nesterov, n):
    """v = momentum * moment - lr * g; new_p = p + v, or p + momentum * v - lr * g."""
    rate = lr[0]
    mu = momentum[0]
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        step = rate * g[i]
        velocity = mu * moment[i] - step
        new_moment[i] = velocity
        if nesterov:
            new_p[i] = p[i] + mu * velocity - step
        else:
            new_p[i] = p[i] + velocity


@cuda.jit
def rmsprop_kernel(new_p, new_a, p, g, a, lr, rho, epsilon, n):
    """new_a = rho * a + (1 - rho) * g ** 2; new_p = p - lr * g / (sqrt(new_a) + epsilon)."""
    rate = lr[0]
    keep = rho[0]
    fresh = ONE - keep
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        acc = keep * a[i] + fresh * (gi * gi)
        new_a[i] = acc
        new_p[i] = p[i] - rate * gi / (safe_sqrt(acc) + epsilon)


@cuda.jit
def adagrad_kernel(new_p, new_a, p, g, a, lr, epsilon, n):
    """new_a = a + g ** 2; new_p = p - lr * g / (sqrt(new_a) + epsilon)."""
    rate = lr[0]
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        acc = a[i] + gi * gi
        new_a[i] = acc
        new_p[i] = p[i] - rate * gi / (safe_sqrt(acc) + epsilon)


@cuda.jit
def adadelta_kernel(new_p, new_a, new_d, p, g, a, d, lr, rho, fresh, epsilon, n):
    """new_a = rho * a + (1 - rho) * g ** 2; u = g * sqrt(d + epsilon) / sqrt(new_a + epsilon);
    new_p = p - lr * u; new_d = rho * d + (1 - rho) * u ** 2 (`fresh` is `1 - rho`)."""
    rate = lr[0]
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        di = d[i]
        acc = rho * a[i] + fresh * (gi * gi)
        update = gi * safe_sqrt(di + epsilon) / safe_sqrt(acc + epsilon)
        new_a[i] = acc
        new_p[i] = p[i] - rate * update
        new_d[i] = rho * di + fresh * (update * update)


@cuda.jit
def adam_kernel(new_p, new_m, new_v, p, g, m, v, lr_t, beta_1, beta_2, epsilon, n):
    """new_m = b1 * m + (1 - b1) * g; new_v = b2 * v + (1 - b2) * g ** 2;
    new_p = p - lr_t * new_m / (sqrt(new_v) + epsilon)."""
    rate = lr_t[0]
    b1 = beta_1[0]
    b2 = beta_2[0]
    c1 = ONE - b1
    c2 = ONE - b2
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * (gi * gi)
        new_m[i] = mi
        new_v[i] = vi
        new_p[i] = p[i] - rate * mi / (safe_sqrt(vi) + epsilon)


@cuda.jit
def amsgrad_kernel(new_p, new_m, new_v, new_vhat, p, g, m, v, vhat, lr_t, beta_1, beta_2,
                   epsilon, n):
    """As `adam_kernel`, dividing by sqrt(new_vhat) where new_vhat = max(vhat, new_v)."""
    rate = lr_t[0]
    b1 = beta_1[0]
    b2 = beta_2[0]
    c1 = ONE - b1
    c2 = ONE - b2
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * (gi * gi)
        top = nan_max(vhat[i], vi)
        new_m[i] = mi
        new_v[i] = vi
        new_vhat[i] = top
        new_p[i] = p[i] - rate * mi / (safe_sqrt(top) + epsilon)


@cuda.jit
def adamax_kernel(new_p, new_m, new_u, p, g, m, u, lr_t, beta_1, beta_2, epsilon, n):
    """new_m = b1 * m + (1 - b1) * g; new_u = max(b2 * u, |g|);
    new_p = p - lr_t * new_m / (new_u + epsilon)."""
    rate = lr_t[0]
    b1 = beta_1[0]
    b2 = beta_2[0]
    c1 = ONE - b1
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        mi = b1 * m[i] + c1 * gi
        ui = nan_max(b2 * u[i], magnitude(gi))
        new_m[i] = mi
        new_u[i] = ui
        new_p[i] = p[i] - rate * mi / (ui + epsilon)


@cuda.jit
def nadam_kernel(new_p, new_m, new_v, p, g, m, v, lr, beta_1, beta_2, momentum_t,
                 momentum_next, schedule_new, schedule_next, beta_2_power, epsilon, n):
    """g' = g / (1 - s_new); new_m = b1 * m + (1 - b1) * g; m' = new_m / (1 - s_next);
    new_v = b2 * v + (1 - b2) * g ** 2; v' = new_v / (1 - b2 ** t);
    m_bar = (1 - mu_t) * g' + mu_next * m'; new_p = p - lr * m_bar / (sqrt(v') + epsilon)."""
    rate = lr[0]
    b1 = beta_1[0]
    b2 = beta_2[0]
    c1 = ONE - b1
    c2 = ONE - b2
    mu_t = momentum_t[0]
    mu_next = momentum_next[0]
    fresh = ONE - mu_t
    g_scale = ONE - schedule_new[0]
    m_scale = ONE - schedule_next[0]
    v_scale = ONE - beta_2_power[0]
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        gi = g[i]
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * (gi * gi)
        m_bar = fresh * (gi / g_scale) + mu_next * (mi / m_scale)
        new_m[i] = mi
        new_v[i] = vi
        new_p[i] = p[i] - rate * m_bar / (safe_sqrt(vi / v_scale) + epsilon)


def launch(kernel, outputs, inputs, scalars, params=(), flags=()):
    """Runs an update kernel over every element of `outputs[0]`.

    # Arguments
        kernel: one of the kernels above.
        outputs: the new arrays to write (`DeviceArray`s, all of one shape).
        inputs: the parameter, gradient and slots (`DeviceArray`s of that shape).
        scalars: the 0-d `DeviceArray` operands (read on the device).
        params: the attributes, NumPy scalars of the computing dtype.
        flags: booleans (SGD's `nesterov`), passed before `params`.
    """
    n = outputs[0].size
    if n == 0:
        return
    args = [o.data for o in outputs] + [x.data for x in inputs] + [s.data for s in scalars]
    args += list(flags) + list(params) + [n]
    blocks, threads = grid_1d(n)
    run(kernel, blocks, threads, *args)
