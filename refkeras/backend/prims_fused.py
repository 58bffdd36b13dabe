"""Fused primitives: chains a layer or a loss runs as one step (issue 7).

Chains that run at every training step of most models:

- `activation(x + bias)` at the end of every Dense and convolution layer;
- `categorical_crossentropy(target, softmax(logits))`, the usual classifier loss;
- `binary_crossentropy(target, probabilities)`, a dozen elementwise steps in Keras.

Composed of separate primitives, each link is a pass over the activations (and
one more in the backward pass), and the crossentropy's gradient goes through the
clip, the rescaling and the softmax's backward. As primitives of their own:

- `bias_activation` computes `activation(x + bias)` in one pass; its gradient
  is one elementwise pass (the derivative taken from the output where it can be)
  and the bias's sum over the non-channel axes.
- `softmax_crossentropy` goes from the logits to the loss in one row pass, and
  its gradient goes straight to the logits: for a row where no probability is
  clipped, `p * sum(target) - target`.
- `binary_crossentropy` is Keras's clip, logit and stable formula in one
  elementwise pass; its gradient is `(c - target) / (c (1 - c))` with
  `c = clip(output)` (zero where the clip cuts).

The arithmetic is that of the composition, operation for operation (the
activations and their gradient rules are `prims_nn.ACTIVATIONS`), so a model gives the same numbers
whether the chain is fused or not: the forward values are bit-identical, and so
are the gradients except where noted (the crossentropies' gradients are the
exact derivatives of the compositions, computed in fewer roundings).

`refkeras.layers.core.bias_and_activation` uses `bias_activation` in Dense and
the convolution layers; `K.categorical_crossentropy` uses `softmax_crossentropy`
when the tape shows that its `output` is a softmax (as TensorFlow's Keras does
when it sees a `Softmax` op); `K.binary_crossentropy` uses `binary_crossentropy`.
"""
import numpy as np

from refkeras.backend import prims_nn, state
from refkeras.backend.pieces import along_first_axis
from refkeras.backend.prims_nn import SELU_ALPHA, SELU_SCALE  # noqa: F401 (this module's names too)
from refkeras.backend.registry import primitive

# --- bias + activation ---------------------------------------------------------------
#
# The activations and their gradient rules are `prims_nn.ACTIVATIONS`, the
# plain primitives' own forward and rules; here they run on the pre-activation
# `z = x + bias`, which the backward pass recomputes only for the activations
# whose rule reads it.

#: The activations `bias_activation` implements (Keras 2.2.4's elementwise built-ins,
#: in their default form: plain relu, elu with alpha 1).
FUSED_ACTIVATIONS = frozenset(prims_nn.ACTIVATIONS)


def channel_axis(ndim, data_format):
    """The axis a bias vector is added along, as `K.bias_add` places it: axis 1
    for 'channels_first' inputs of rank 3 or more, else the last axis."""
    if data_format == 'channels_first' and ndim > 2:
        return 1
    return ndim - 1


def _check_bias_activation(x, bias, activation, data_format):
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError('bias_activation: unknown activation %r; expected one of %s.'
                         % (activation, ', '.join(sorted(FUSED_ACTIVATIONS))))
    if data_format not in ('channels_last', 'channels_first'):
        raise ValueError('bias_activation: data_format must be "channels_last" or '
                         '"channels_first", received %r.' % (data_format,))
    x_shape, b_shape = np.shape(x), np.shape(bias)
    if len(x_shape) < 1 or len(b_shape) != 1 or \
            b_shape[0] != x_shape[channel_axis(len(x_shape), data_format)]:
        raise ValueError('bias_activation: expected a bias vector with one value per channel '
                         '(axis %s of the input, data_format=%s); received an input of shape %s '
                         'and a bias of shape %s.'
                         % ('-' if not x_shape else channel_axis(len(x_shape), data_format),
                            data_format, x_shape, b_shape))


def _bias_broadcast(bias, ndim, data_format):
    """The bias shaped to broadcast along the channel axis (a view)."""
    axis = channel_axis(ndim, data_format)
    return np.reshape(bias, (-1,) + (1,) * (ndim - 1 - axis))


@primitive()
def bias_activation(x, bias, activation='linear', data_format='channels_last'):
    """`activation(x + bias)`, the bias added along the channel axis.

    # Arguments
        x: array of rank >= 1.
        bias: vector with one value per channel.
        activation: the name of an activation in `FUSED_ACTIVATIONS`.
        data_format: 'channels_last' (channels on the last axis) or
            'channels_first' (on axis 1, for inputs of rank 3 or more), as
            `K.bias_add`.

    # Returns
        An array of `x`'s shape: `activation(K.bias_add(x, bias, data_format))`,
        the same numbers.

    # Raises
        ValueError: for an unknown activation or data format, or a bias that is
            not a vector of the channel axis's length (naming both shapes).
    """
    _check_bias_activation(x, bias, activation, data_format)
    forward = prims_nn.ACTIVATIONS[activation].forward
    bias = _bias_broadcast(bias, np.ndim(x), data_format)
    if channel_axis(np.ndim(x), data_format) == 0:       # a single vector
        return forward(np.add(x, bias))
    # Slices of the batch, each small enough for the cache (`pieces.py`): same values.
    return along_first_axis(lambda part: forward(np.add(part, bias)), x)


@bias_activation.defgrad
def _bias_activation_grad(g, out, x, bias, activation='linear', data_format='channels_last'):
    rule = prims_nn.ACTIVATIONS[activation]
    z = np.add(x, _bias_broadcast(bias, np.ndim(x), data_format)) if rule.reads_input else None
    g_z = rule.gradient(g, out, z)
    axis = channel_axis(np.ndim(x), data_format)
    others = tuple(a for a in range(np.ndim(x)) if a != axis)
    return g_z, np.asarray(np.sum(g_z, axis=others))


# --- softmax + categorical crossentropy -----------------------------------------------

def _clipped_probabilities(logits, axis, epsilon):
    """Keras 2.2.4's steps from the softmax to the logarithm's argument: the
    probabilities `q` rescaled to sum to 1, and `clip(q, epsilon, 1 - epsilon)`."""
    p = prims_nn.softmax.forward(logits, axis=axis)
    q = np.divide(p, np.asarray(np.sum(p, axis=axis, keepdims=True)))
    return q, np.clip(q, epsilon, 1.0 - epsilon)


def _check_crossentropy(target, logits, axis):
    t_shape, z_shape = np.shape(target), np.shape(logits)
    if t_shape != z_shape:
        raise ValueError('softmax_crossentropy: the target must have the shape of the logits; '
                         'received a target of shape %s and logits of shape %s.'
                         % (t_shape, z_shape))
    if not -len(z_shape) <= axis < len(z_shape):
        raise ValueError('softmax_crossentropy: axis %r is out of range for logits of shape %s.'
                         % (axis, z_shape))


@primitive()
def softmax_crossentropy(target, logits, axis=-1, epsilon=None):
    """`categorical_crossentropy(target, softmax(logits, axis))` as Keras 2.2.4 computes it.

    The softmax's output is rescaled to sum to 1 along `axis`, clipped to
    `[epsilon, 1 - epsilon]`, and the loss is `-sum(target * log(clipped))`
    along `axis`: the numbers of the composition, operation for operation.

    # Arguments
        target: one-hot (or soft) targets, of the logits' shape.
        logits: the softmax's input.
        axis: the classes axis.
        epsilon: the clipping constant (None: `K.epsilon()`).

    # Returns
        The loss, of the logits' shape without `axis`.

    # Raises
        ValueError: if the shapes differ or the axis is out of range.
    """
    _check_crossentropy(target, logits, axis)
    epsilon = state.epsilon() if epsilon is None else epsilon
    _, clipped = _clipped_probabilities(logits, axis, epsilon)
    return np.negative(np.asarray(np.sum(np.multiply(target, np.log(clipped)), axis=axis)))


@softmax_crossentropy.defgrad
def _softmax_crossentropy_grad(g, out, target, logits, axis=-1, epsilon=None):
    # With q = p / sum(p), c = clip(q), L = -sum(t * log(c)) and m = 1 where the
    # clip passes q (epsilon <= q <= 1 - epsilon) and 0 where it cuts it:
    # dL/dq = -m t / c, and through the rescaling and the softmax
    # dL/dlogits = q * sum(m t) - m t  (for c = q where m = 1). dL/dt = -log(c).
    epsilon = state.epsilon() if epsilon is None else epsilon
    q, clipped = _clipped_probabilities(logits, axis, epsilon)
    g = np.expand_dims(g, axis)
    passed = np.where((q >= epsilon) & (q <= 1.0 - epsilon), target, 0).astype(q.dtype)
    g_logits = g * (q * np.sum(passed, axis=axis, keepdims=True) - passed)
    g_target = np.negative(g) * np.log(clipped)
    return g_target, g_logits


# --- binary crossentropy on probabilities ----------------------------------------------

def _clipped_logit(output, epsilon):
    """Keras 2.2.4's first steps: the probabilities clipped to `[epsilon, 1 - epsilon]`
    and turned back into logits `log(c / (1 - c))`."""
    clipped = np.clip(output, epsilon, 1.0 - epsilon)
    return clipped, np.log(np.divide(clipped, np.subtract(1.0, clipped)))


@primitive()
def binary_crossentropy(target, output, epsilon=None):
    """Keras 2.2.4's `K.binary_crossentropy(target, output)` on probabilities, elementwise.

    The probabilities are clipped to `[epsilon, 1 - epsilon]` and turned into
    logits `z = log(c / (1 - c))`, and the loss is the stable
    `max(z, 0) - z * target + log(1 + exp(-|z|))`: the composition's operations.

    # Arguments
        target: targets in [0, 1], of the output's shape.
        output: probabilities.
        epsilon: the clipping constant (None: `K.epsilon()`).

    # Raises
        ValueError: if the shapes differ.
    """
    if np.shape(target) != np.shape(output):
        raise ValueError('binary_crossentropy: the target must have the shape of the output; '
                         'received a target of shape %s and an output of shape %s.'
                         % (np.shape(target), np.shape(output)))
    epsilon = state.epsilon() if epsilon is None else epsilon
    _, z = _clipped_logit(output, epsilon)
    return np.add(np.subtract(prims_nn.relu.forward(z), np.multiply(z, target)),
                  prims_nn.softplus.forward(np.negative(np.abs(z))))


@binary_crossentropy.defgrad
def _binary_crossentropy_grad(g, out, target, output, epsilon=None):
    # d loss / dz = sigmoid(z) - target = c - target, dz/dc = 1 / (c (1 - c)), and the
    # clip passes the gradient where epsilon <= output <= 1 - epsilon. d loss / dtarget = -z.
    # (At z = 0 the composition takes relu's and abs's slopes at their kinks, 0, and gives
    # -target / (c (1 - c)); the loss is smooth there and this is its derivative, as
    # TensorFlow's sigmoid_cross_entropy_with_logits, which Keras 2.2.4 calls, gives.)
    epsilon = state.epsilon() if epsilon is None else epsilon
    clipped, z = _clipped_logit(output, epsilon)
    passed = (output >= epsilon) & (output <= 1.0 - epsilon)
    g_output = np.where(passed, g * (clipped - target) / (clipped * (1 - clipped)), 0)
    return np.negative(g) * z, g_output.astype(clipped.dtype, copy=False)
