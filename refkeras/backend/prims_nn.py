"""Neural-network primitives: activations, softmax, and random draws.

Random draws use NumPy's global generator unless a `seed` is given, so the
FAQ's reproducibility recipe (`np.random.seed(...)` before building a model)
makes initial weights and dropout masks repeat from run to run. A given seed
starts its own generator once and then continues it, so a seeded dropout layer
still draws a new mask at every batch (as an op-level seed does in TensorFlow).
"""
import collections

import numpy as np

from refkeras.backend import prims_math
from refkeras.backend.registry import primitive

# --- activations ------------------------------------------------------------


@primitive()
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, as Keras 2.2.4's `K.relu`.

    `alpha * (x - threshold)` for `x <= threshold`; above the threshold `x`,
    or, when `max_value` is given, `x` clipped to `[0, max_value]` (so with a
    negative threshold and a `max_value`, inputs between the threshold and 0
    give 0, as Keras's backends compute it).
    """
    x = np.asarray(x)
    if alpha == 0.0 and threshold == 0.0:
        out = np.maximum(x, 0)
        if max_value is not None:
            out = np.minimum(out, np.asarray(max_value, dtype=x.dtype))
        return out
    above = x if max_value is None else np.clip(x, 0, np.asarray(max_value, dtype=x.dtype))
    return np.where(x > threshold, above, alpha * (x - threshold)).astype(x.dtype, copy=False)


@relu.defgrad
def _relu_grad(g, out, x, alpha=0.0, max_value=None, threshold=0.0):
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        # The common case, kept cheap: it runs at every layer. `out > 0` exactly
        # where `x > 0`, so the rule needs only the output (see `ACTIVATIONS`).
        return (g * (out > 0),)
    x = np.asarray(x)
    slope_above = 1.0
    if max_value is not None:
        slope_above = np.where((x < 0) | (x >= max_value), 0.0, 1.0)
    slope = np.where(x > threshold, slope_above, alpha).astype(g.dtype)
    return (g * slope,)


@primitive()
def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    x = np.asarray(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


@elu.defgrad
def _elu_grad(g, out, x, alpha=1.0):
    return (np.where(np.asarray(x) > 0, g, g * (out + alpha)).astype(g.dtype),)


@primitive()
def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`, computed without overflow."""
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


@sigmoid.defgrad
def _sigmoid_grad(g, out, x):
    return (g * out * (1 - out),)


@primitive()
def hard_sigmoid(x):
    """Piecewise linear sigmoid: `clip(0.2 * x + 0.5, 0, 1)`."""
    x = np.asarray(x)
    return np.clip(0.2 * x + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)


@hard_sigmoid.defgrad
def _hard_sigmoid_grad(g, out, x):
    x = np.asarray(x)
    return (np.where((x > -2.5) & (x < 2.5), 0.2 * g, 0).astype(g.dtype),)


@primitive()
def tanh(x):
    """Hyperbolic tangent."""
    return np.tanh(x)


@tanh.defgrad
def _tanh_grad(g, out, x):
    return (g * (1 - out * out),)


@primitive()
def softplus(x):
    """`log(1 + exp(x))`, computed without overflow."""
    x = np.asarray(x)
    return np.logaddexp(np.zeros((), dtype=x.dtype), x)


@softplus.defgrad
def _softplus_grad(g, out, x):
    return (g * sigmoid.forward(x),)


@primitive()
def softsign(x):
    """`x / (1 + |x|)`."""
    return x / (1 + np.abs(x))


@softsign.defgrad
def _softsign_grad(g, out, x):
    d = 1 + np.abs(x)
    return (g / (d * d),)


@primitive()
def softmax(x, axis=-1):
    """Softmax along `axis`, shifted by the maximum for stability."""
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@softmax.defgrad
def _softmax_grad(g, out, x, axis=-1):
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


# --- the activation table ---------------------------------------------------
#
# Keras 2.2.4's elementwise built-in activations in their default form (plain
# relu, elu with alpha 1), each as a forward `forward(z)` and a gradient rule
# `gradient(g, out, z)` on the pre-activation `z`. The rules are the
# primitives' own, so no derivative is written twice: `bias_activation`
# (prims_fused.py) runs these inside its fused step. `reads_input` says whether
# the rule needs `z` itself; the others take their derivative from the output
# alone, so the fused step need not keep or recompute `z` for them.

# The SELU constants (Klambauer et al., 2017, "Self-Normalizing Neural Networks").
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

Activation = collections.namedtuple('Activation', ['forward', 'gradient', 'reads_input'])


def _from_primitive(prim, reads_input):
    """The table entry of an activation that is one primitive."""
    return Activation(prim.forward, lambda g, out, z: prim.grad(g, out, z)[0], reads_input)


def _selu_forward(z):
    return np.multiply(SELU_SCALE, elu.forward(z, alpha=SELU_ALPHA))


def _selu_gradient(g, out, z):
    # As the composition `SELU_SCALE * elu(z, SELU_ALPHA)` differentiates: the
    # product's rule first, then elu's rule with elu's own output.
    return elu.grad(g * SELU_SCALE, elu.forward(z, alpha=SELU_ALPHA), z, alpha=SELU_ALPHA)[0]


ACTIVATIONS = {
    'linear': Activation(lambda z: z, lambda g, out, z: g, False),
    'relu': _from_primitive(relu, reads_input=False),
    'elu': _from_primitive(elu, reads_input=True),
    'selu': Activation(_selu_forward, _selu_gradient, True),
    'sigmoid': _from_primitive(sigmoid, reads_input=False),
    'hard_sigmoid': _from_primitive(hard_sigmoid, reads_input=True),
    'tanh': _from_primitive(tanh, reads_input=False),
    'softplus': _from_primitive(softplus, reads_input=True),
    'softsign': _from_primitive(softsign, reads_input=True),
    'exponential': _from_primitive(prims_math.exp, reads_input=False),
}


# --- random draws -------------------------------------------------------------

_SEEDED = {}


def generator(seed=None):
    """The random generator for `seed`: NumPy's global one when seed is None.

    # Arguments
        seed: None or an int. Each int gets one `RandomState`, created on first
            use and continued afterwards (reset by `K.clear_session()`).
    """
    if seed is None:
        return np.random.mtrand._rand
    if seed not in _SEEDED:
        _SEEDED[seed] = np.random.RandomState(seed)
    return _SEEDED[seed]


def draws(seed=None):
    """A fresh fast generator for one draw, seeded from `generator(seed)`.

    Drawing the seed from the (global or seeded) `RandomState` keeps every draw
    reproducible under `np.random.seed`, while the draw itself uses PCG64, which
    produces float32 values directly (about twice as fast as `RandomState` for
    dropout masks).
    """
    return np.random.Generator(np.random.PCG64(generator(seed).randint(2 ** 63, dtype=np.int64)))


def reset_seeded_generators():
    """Forgets every seeded generator (part of `K.clear_session`)."""
    _SEEDED.clear()


def _float_dtype(dtype):
    return np.dtype(dtype) if np.dtype(dtype) in (np.float32, np.float64) else np.dtype('float64')


@primitive(differentiable=False)
def random_uniform(shape=None, minval=0.0, maxval=1.0, dtype='float32', seed=None):
    """Uniform draws in `[minval, maxval)`."""
    unit = draws(seed).random(shape, dtype=_float_dtype(dtype))
    return (minval + (maxval - minval) * unit).astype(dtype, copy=False)


@primitive(differentiable=False)
def random_normal(shape=None, mean=0.0, stddev=1.0, dtype='float32', seed=None):
    """Normal draws."""
    z = draws(seed).standard_normal(shape, dtype=_float_dtype(dtype))
    return (mean + stddev * z).astype(dtype, copy=False)


@primitive(differentiable=False)
def truncated_normal(shape=None, mean=0.0, stddev=1.0, dtype='float32', seed=None):
    """Normal draws, redrawn until within two standard deviations of the mean."""
    rng = draws(seed)
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2
    return (mean + stddev * z).astype(dtype)


@primitive(differentiable=False)
def random_binomial(shape=None, p=0.0, dtype='float32', seed=None):
    """Bernoulli draws: 1 with probability `p`, else 0."""
    return (draws(seed).random(shape, dtype=np.float32) < p).astype(dtype)
