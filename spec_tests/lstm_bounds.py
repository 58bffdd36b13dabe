"""Running error bounds for a float32 LSTM sequence (forward and backpropagation
through time), for comparing two implementations of `lstm_sequence`.

A recurrence carries each timestep's rounding errors into the next, so a fixed
number of ulps cannot bound the difference of two implementations; instead the
test evaluates the LSTM's equations once more, in float64, on `Bounded` numbers:
a value (float64, standing for the exact one) and a bound on how far a float32
computation of it, in any summation order, with or without fused
multiply-adds, can be from it. The rules, with `EPS` float32's machine epsilon
(twice the unit roundoff, so every rule has a factor 2 of margin):

- a rounded sum or product: the operands' errors propagated exactly
  (`|a| e_b + |b| e_a + e_a e_b` for a product), plus `EPS * (|value| + error)`;
- a sum of K terms (a reduction, or each element of a matrix product): the
  terms' propagated errors plus `K * EPS * sum |terms|` (Higham, "Accuracy and
  Stability of Numerical Algorithms", 3.1 and 4.2: any order of K - 1 additions
  and K products is within `gamma_K`);
- an activation with Lipschitz constant L, computed within A ulps: `L e_z +
  A EPS |value|` (A = 12, the unary cases' bound); its derivative (magnitude at
  most 1): `(L2 + 2 L) e_z + 2 A EPS`, where L2 bounds the derivative's own
  slope and `2 L e_z` covers a derivative computed from the output (`1 - y^2`).

Kinked activations (hard_sigmoid at +-2.5, relu at 0) have no L2: the caller
must discard examples whose pre-activations lie within their error of a kink
(`kinks_respected`). Two implementations each within the bound of the value
differ by at most twice the bound.
"""
import numpy as np

from refkeras.backend.registry import REGISTRY

EPS = float(np.finfo(np.float32).eps)
A = 12

#: name: (Lipschitz constant, slope of the derivative, kinks of the derivative).
ACTIVATIONS = {'linear': (1.0, 0.0, ()), 'tanh': (1.0, 1.0, ()), 'sigmoid': (0.25, 0.1, ()),
               'hard_sigmoid': (0.2, 0.0, (-2.5, 2.5)), 'softsign': (1.0, 2.0, ()),
               'softplus': (1.0, 0.25, ()), 'relu': (1.0, 0.0, (0.0,)), 'elu': (1.0, 1.0, ())}


class Bounded(object):
    """A float64 value and a bound on a float32 computation's distance from it."""

    def __init__(self, value, error=0.0):
        self.v = np.asarray(value, dtype=np.float64)
        self.e = np.broadcast_to(np.asarray(error, dtype=np.float64), self.v.shape)

    def __add__(self, other):
        other = bounded(other)
        return rounded(self.v + other.v, self.e + other.e)

    def __mul__(self, other):
        other = bounded(other)
        return rounded(self.v * other.v, np.abs(self.v) * other.e + np.abs(other.v) * self.e +
                       self.e * other.e)

    def __getitem__(self, key):
        return Bounded(self.v[key], self.e[key])

    @property
    def magnitude(self):
        return np.abs(self.v) + self.e


def bounded(x):
    return x if isinstance(x, Bounded) else Bounded(x)


def rounded(value, error):
    return Bounded(value, error + EPS * (np.abs(value) + error))


def matmul(a, b):
    """`a @ b` (NumPy broadcasting), each element a sum of K products."""
    k = a.v.shape[-1]
    error = (np.matmul(a.e, np.abs(b.v)) + np.matmul(np.abs(a.v), b.e) + np.matmul(a.e, b.e) +
             k * EPS * np.matmul(a.magnitude, b.magnitude))
    return Bounded(np.matmul(a.v, b.v), error)


def total(a, axis):
    """The sum over `axis` (an int or a tuple)."""
    count = np.prod([a.v.shape[i] for i in np.atleast_1d(axis)])
    return Bounded(a.v.sum(axis=axis), a.e.sum(axis=axis) +
                   count * EPS * a.magnitude.sum(axis=axis))


def swap(a):
    return Bounded(np.swapaxes(a.v, -1, -2), np.swapaxes(a.e, -1, -2))


def activate(name, z):
    value = z.v if name == 'linear' else REGISTRY[name].forward(z.v)
    return Bounded(value, ACTIVATIONS[name][0] * z.e + A * EPS * np.abs(value))


def derivative(name, z, y):
    value = np.ones_like(z.v) if name == 'linear' else \
        REGISTRY[name].grad(np.ones_like(z.v), y.v, z.v)[0]
    lipschitz, slope, _ = ACTIVATIONS[name]
    return Bounded(value, (slope + 2 * lipschitz) * z.e + 2 * A * EPS)


def kinks_respected(name, z):
    """Whether every pre-activation in `z` is further than its error from a kink."""
    return all(np.all(np.abs(z.v - kink) > 2 * z.e) for kink in ACTIVATIONS[name][2])


def _masked(x, masks):
    return x if masks is None else x * Bounded(masks)


def _preactivation(x_proj, h_in, recurrent_kernel, bias):
    return (x_proj + matmul(h_in, recurrent_kernel)) + bias


def forward(x, h0, c0, kernel, recurrent_kernel, bias, input_masks, recurrent_masks,
            activation, recurrent_activation):
    """`(out, pre-activations)`: Bounded `(time, 2, batch, units)` and the list of each
    timestep's Bounded `z` `(4, batch, units)`."""
    x_proj = matmul(_masked(Bounded(x)[:, None], input_masks), Bounded(kernel))
    h, c, steps, zs = Bounded(h0), Bounded(c0), [], []
    for t in range(len(x)):
        z = _preactivation(x_proj[t], _masked(h, recurrent_masks), Bounded(recurrent_kernel),
                           Bounded(bias))
        gate = activate(recurrent_activation, z)
        c = gate[1] * c + gate[0] * activate(activation, z[2])
        h = gate[3] * activate(activation, c)
        steps.append(Bounded(np.stack([h.v, c.v]), np.stack([h.e, c.e])))
        zs.append(z)
    return Bounded(np.stack([s.v for s in steps]), np.stack([s.e for s in steps])), zs


def backward(g, out, x, h0, c0, kernel, recurrent_kernel, bias, input_masks, recurrent_masks,
             activation, recurrent_activation):
    """Bounded gradients `(g_x, g_h0, g_c0, g_kernel, g_recurrent_kernel, g_bias)` and the
    list of recomputed Bounded `z`, for the upstream `g` and the forward output `out`,
    both given exactly (as both implementations receive them)."""
    act, rec = activation, recurrent_activation
    x_in = _masked(Bounded(x)[:, None], input_masks)
    x_proj = matmul(x_in, Bounded(kernel))
    h_in = _masked(Bounded(np.concatenate([h0[None], out[:-1, 0]]))[:, None], recurrent_masks)
    c_prev = np.concatenate([c0[None], out[:-1, 1]])
    g_h, g_c = Bounded(np.zeros_like(h0)), Bounded(np.zeros_like(c0))
    g_z, zs = [None] * len(x), [None] * len(x)
    for t in range(len(x) - 1, -1, -1):
        z = zs[t] = _preactivation(x_proj[t], h_in[t], Bounded(recurrent_kernel), Bounded(bias))
        gate, candidate = activate(rec, z), activate(act, z[2])
        d_gate, d_candidate = derivative(rec, z, gate), derivative(act, z[2], candidate)
        c = Bounded(out[t, 1])
        act_c = activate(act, c)
        g_h = Bounded(g[t, 0]) + g_h
        g_c = (Bounded(g[t, 1]) + g_c) + g_h * gate[3] * derivative(act, c, act_c)
        parts = [g_c * candidate * d_gate[0], g_c * Bounded(c_prev[t]) * d_gate[1],
                 g_c * gate[0] * d_candidate, g_h * act_c * d_gate[3]]
        g_z[t] = Bounded(np.stack([p.v for p in parts]), np.stack([p.e for p in parts]))
        g_c = g_c * gate[1]
        g_h = total(_masked(matmul(g_z[t], swap(Bounded(recurrent_kernel))), recurrent_masks),
                    0)
    g_z = Bounded(np.stack([p.v for p in g_z]), np.stack([p.e for p in g_z]))
    g_x = total(_masked(matmul(g_z, swap(Bounded(kernel))), input_masks), 1)
    return (g_x, g_h, g_c, _over_time(x_in, g_z), _over_time(h_in, g_z),
            _bias_gradient(g_z, np.shape(bias))), zs


def _over_time(a, g_z):
    """`sum over t, b of a[t, k, b]^T g_z[t, k, b]`: one contraction of time * batch terms."""
    time, gates, batch, units = g_z.v.shape
    n = a.v.shape[-1]

    def rows(v, width):
        v = np.broadcast_to(v, (time, gates, batch, width))
        return np.transpose(v, (1, 0, 2, 3)).reshape(gates, time * batch, width)
    a_rows = Bounded(rows(a.v, n), rows(a.e, n))
    return matmul(swap(a_rows), Bounded(rows(g_z.v, units), rows(g_z.e, units)))


def _bias_gradient(g_z, bias_shape):
    """The sum of `g_z` over time and over the axes the bias is broadcast along."""
    axes = (0,) + tuple(1 + i for i, n in enumerate(bias_shape) if n == 1 and
                        g_z.v.shape[1 + i] != 1)
    summed = total(g_z, axes)
    keep = [n for i, n in enumerate(bias_shape)]
    return Bounded(summed.v.reshape(keep), summed.e.reshape(keep))
