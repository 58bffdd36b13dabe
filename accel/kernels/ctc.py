"""The CTC loss on the device: the forward-backward recursions of
`refkeras/backend/prims_ctc.py`, one thread per sample.

Each thread walks its sample's time steps in order (the recursion is
sequential in time) over the `2 L + 1` states of its extended label, in
float64 as the reference, keeping the forward (and, for the gradient, the
backward) variables in scratch arrays `(batch, time, states)` in device
memory. `logaddexp` is NumPy's formula.
"""
import math

import numpy as np

from accel import arrays
from accel.kernels.copy import cast
from accel.kernels.launch import cuda, grid_1d, run

NEG_INF = -math.inf
LOG2 = math.log(2.0)


@cuda.jit(device=True)
def logaddexp(x, y):
    # log(exp(x) + exp(y)), as NumPy's npy_logaddexp computes it
    if x == y:
        return x + LOG2
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d   # a NaN operand


@cuda.jit(device=True)
def state_class(labels, b, max_labels, s, blank):
    # the class of extended-label state s: blanks at even states, labels between
    if s % 2 == 0:
        return blank
    return labels[b * max_labels + (s - 1) // 2]


@cuda.jit(device=True)
def can_skip(labels, b, max_labels, s, blank):
    return s >= 2 and (state_class(labels, b, max_labels, s, blank)
                       != state_class(labels, b, max_labels, s - 2, blank))


@cuda.jit(device=True)
def forward_variables(alpha, lp, labels, b, steps, states, time, classes, max_labels, width):
    blank = classes - 1
    base = b * time * width
    for s in range(states):
        alpha[base + s] = NEG_INF
    alpha[base] = lp[(b * time) * classes + blank]
    if states > 1:
        alpha[base + 1] = lp[(b * time) * classes + state_class(labels, b, max_labels, 1, blank)]
    for t in range(1, steps):
        row, prev = base + t * width, base + (t - 1) * width
        for s in range(states):
            total = alpha[prev + s]
            if s >= 1:
                total = logaddexp(total, alpha[prev + s - 1])
            if can_skip(labels, b, max_labels, s, blank):
                total = logaddexp(total, alpha[prev + s - 2])
            k = state_class(labels, b, max_labels, s, blank)
            alpha[row + s] = total + lp[(b * time + t) * classes + k]


@cuda.jit(device=True)
def backward_variables(beta, lp, labels, b, steps, states, time, classes, max_labels, width):
    blank = classes - 1
    base = b * time * width
    last = base + (steps - 1) * width
    for s in range(states):
        beta[last + s] = NEG_INF
    t_last = (b * time + steps - 1) * classes
    beta[last + states - 1] = lp[t_last + blank]
    if states > 1:
        beta[last + states - 2] = lp[t_last + state_class(labels, b, max_labels, states - 2,
                                                           blank)]
    for t in range(steps - 2, -1, -1):
        row, after = base + t * width, base + (t + 1) * width
        for s in range(states):
            total = beta[after + s]
            if s + 1 < states:
                total = logaddexp(total, beta[after + s + 1])
            if s + 2 < states and can_skip(labels, b, max_labels, s + 2, blank):
                total = logaddexp(total, beta[after + s + 2])
            k = state_class(labels, b, max_labels, s, blank)
            beta[row + s] = total + lp[(b * time + t) * classes + k]


@cuda.jit(device=True)
def sample_loss(alpha, b, steps, states, time, width):
    if steps == 0:
        return 0.0 if states == 1 else math.inf
    last = b * time * width + (steps - 1) * width
    total = alpha[last + states - 1]
    if states > 1:
        total = logaddexp(total, alpha[last + states - 2])
    return -total


@cuda.jit
def _ctc_forward(loss, alpha, lp, labels, input_length, label_length, batch, time, classes,
                 max_labels, width):
    for b in range(cuda.grid(1), batch, cuda.gridsize(1)):
        steps, states = input_length[b], 2 * label_length[b] + 1
        if steps > 0:
            forward_variables(alpha, lp, labels, b, steps, states, time, classes, max_labels,
                              width)
        loss[b] = sample_loss(alpha, b, steps, states, time, width)


@cuda.jit
def _ctc_backward(grad, share, alpha, beta, lp, g, labels, input_length, label_length, batch,
                  time, classes, max_labels, width):
    for b in range(cuda.grid(1), batch, cuda.gridsize(1)):
        steps, states = input_length[b], 2 * label_length[b] + 1
        blank = classes - 1
        for q in range(b * time * classes, (b + 1) * time * classes):
            grad[q] = 0.0
            share[q] = NEG_INF
        if steps == 0:
            continue
        forward_variables(alpha, lp, labels, b, steps, states, time, classes, max_labels, width)
        loss = sample_loss(alpha, b, steps, states, time, width)
        if math.isinf(loss) or math.isnan(loss):
            continue
        backward_variables(beta, lp, labels, b, steps, states, time, classes, max_labels, width)
        for t in range(steps):
            row = b * time * width + t * width
            for s in range(states):
                q = (b * time + t) * classes + state_class(labels, b, max_labels, s, blank)
                share[q] = logaddexp(share[q], alpha[row + s] + beta[row + s] - lp[q])
        for t in range(steps):
            for k in range(classes):
                q = (b * time + t) * classes + k
                grad[q] = -g[b] * math.exp(share[q] + loss)


def _operands(log_probs, labels, input_length, label_length):
    lp = log_probs if log_probs.dtype == np.float64 else cast(log_probs, np.float64)
    ints = [x if x.dtype == np.int64 else cast(x, np.int64)
            for x in (labels, input_length, label_length)]
    batch, time, classes = log_probs.shape
    max_labels = labels.shape[1]
    width = 2 * max_labels + 1
    scratch = arrays.empty((max(batch, 1), max(time, 1), width), np.float64)
    return lp, ints, (batch, time, classes, max_labels, width), scratch


def ctc_loss(log_probs, labels, input_length, label_length, out_dtype):
    """`(batch,)` CTC losses (arguments as the reference primitive's)."""
    lp, (lab, inl, labl), dims, alpha = _operands(log_probs, labels, input_length, label_length)
    loss = arrays.empty((dims[0],), np.float64)
    if dims[0]:
        blocks, threads = grid_1d(dims[0])
        run(_ctc_forward, blocks, threads, loss.data, alpha.data, lp.data, lab.data, inl.data,
            labl.data, *dims)
    return loss if loss.dtype == out_dtype else cast(loss, out_dtype)


def ctc_loss_grad(g, log_probs, labels, input_length, label_length, out_dtype):
    """The gradient with respect to `log_probs` for upstream gradients `g` `(batch,)`."""
    lp, (lab, inl, labl), dims, alpha = _operands(log_probs, labels, input_length, label_length)
    beta = arrays.empty(alpha.shape, np.float64)
    grad = arrays.empty(log_probs.shape, np.float64)
    share = arrays.empty(log_probs.shape, np.float64)
    g = g if g.dtype == np.float64 else cast(g, np.float64)
    if dims[0]:
        blocks, threads = grid_1d(dims[0])
        run(_ctc_backward, blocks, threads, grad.data, share.data, alpha.data, beta.data, lp.data,
            g.data, lab.data, inl.data, labl.data, *dims)
    return grad if grad.dtype == out_dtype else cast(grad, out_dtype)
