"""The connectionist temporal classification (CTC) loss as one primitive.

CTC (Graves et al., 2006) scores a label sequence `l` against per-step class
log-probabilities `log_probs[t, k]` without an alignment: a *path* picks one
class per time step, and it spells `l` when merging repeated classes and then
dropping the blank class (the last one, as in Keras's TensorFlow backend)
gives `l`. The loss is `-log` of the summed probability of all such paths.

The sum runs over the *extended* label `l' = (blank, l1, blank, l2, ...,
blank)` of `S = 2 L + 1` states: a path is at one state per step; from state
`s` it may stay, go to `s + 1`, or skip to `s + 2` when that skips a blank
between two different labels. Forward variables `log_alpha[t, s]` (the paths'
prefixes up to step t ending in state s) and backward ones `log_beta[t, s]`
(their suffixes from step t on, from state s) are computed in log space, where
sums become `logaddexp`, so that long sequences do not underflow.

The gradient with respect to `log_probs[t, k]` is minus the share of the
total probability carried by the paths in class k at step t:
`-exp(logsumexp_{s: l'_s = k} (log_alpha + log_beta - log_probs[t, k]) + loss)`
(each of `alpha` and `beta` counts step t's emission once).

Computed in float64 whatever the input dtype, returned in the input's dtype.
"""
import numpy as np

from refkeras.backend.registry import primitive


def check_ctc_arguments(log_probs_shape, labels, input_length, label_length):
    """Raises a clear error for CTC arguments that do not fit together.

    # Arguments
        log_probs_shape: `(batch, time, classes)`.
        labels: int array `(batch, max_label_length)` (padding past each
            label length is ignored).
        input_length, label_length: int arrays `(batch,)`.

    # Raises
        ValueError: naming the argument, the expected and the received values.
    """
    if len(log_probs_shape) != 3:
        raise ValueError('CTC: `y_pred` must be 3D (samples, time_steps, num_categories); '
                         'received shape %s.' % (tuple(log_probs_shape),))
    batch, time_steps, classes = log_probs_shape
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] != batch:
        raise ValueError('CTC: `y_true` must be 2D (samples, max_string_length) with %d samples; '
                         'received shape %s.' % (batch, labels.shape))
    for name, lengths in (('input_length', input_length), ('label_length', label_length)):
        if np.shape(lengths) != (batch,):
            raise ValueError('CTC: `%s` must hold one length per sample (%d); received shape %s.'
                             % (name, batch, np.shape(lengths)))
    if np.any(input_length < 0) or np.any(input_length > time_steps):
        raise ValueError('CTC: every `input_length` must be between 0 and the %d time steps of '
                         '`y_pred`; received %s.' % (time_steps, np.asarray(input_length).tolist()))
    if np.any(label_length < 0) or np.any(label_length > labels.shape[1]):
        raise ValueError('CTC: every `label_length` must be between 0 and the %d columns of '
                         '`y_true`; received %s.'
                         % (labels.shape[1], np.asarray(label_length).tolist()))
    for b in range(batch):
        used = labels[b, :int(label_length[b])]
        if np.any(used < 0) or np.any(used >= classes - 1):
            raise ValueError('CTC: labels must be classes 0 .. %d (class %d, the last, is the '
                             'blank); sample %d has labels %s.'
                             % (classes - 2, classes - 1, b, used.tolist()))


def extended_labels(label, blank):
    """`(blank, l1, blank, l2, ..., blank)`: the states a path goes through."""
    ext = np.full(2 * len(label) + 1, blank, dtype=np.int64)
    ext[1::2] = label
    return ext


def _can_skip(ext, s):
    # From state s - 2 straight to s: only onto a label that differs from the
    # label two states back (the blank between them may be left out).
    return s >= 2 and ext[s] != ext[s - 2]


def ctc_log_alpha(log_probs, ext):
    """Forward variables `(T, S)` of one sample (`log_probs` `(T, C)` float64)."""
    steps, states = log_probs.shape[0], len(ext)
    alpha = np.full((steps, states), -np.inf)
    alpha[0, 0] = log_probs[0, ext[0]]
    if states > 1:
        alpha[0, 1] = log_probs[0, ext[1]]
    for t in range(1, steps):
        for s in range(states):
            total = alpha[t - 1, s]
            if s >= 1:
                total = np.logaddexp(total, alpha[t - 1, s - 1])
            if _can_skip(ext, s):
                total = np.logaddexp(total, alpha[t - 1, s - 2])
            alpha[t, s] = total + log_probs[t, ext[s]]
    return alpha


def ctc_log_beta(log_probs, ext):
    """Backward variables `(T, S)` of one sample: the mirror image of alpha."""
    steps, states = log_probs.shape[0], len(ext)
    beta = np.full((steps, states), -np.inf)
    beta[-1, -1] = log_probs[-1, ext[-1]]
    if states > 1:
        beta[-1, -2] = log_probs[-1, ext[-2]]
    for t in range(steps - 2, -1, -1):
        for s in range(states):
            total = beta[t + 1, s]
            if s + 1 < states:
                total = np.logaddexp(total, beta[t + 1, s + 1])
            if s + 2 < states and _can_skip(ext, s + 2):
                total = np.logaddexp(total, beta[t + 1, s + 2])
            beta[t, s] = total + log_probs[t, ext[s]]
    return beta


def _sample(log_probs, labels, input_length, label_length, b):
    steps = int(input_length[b])
    ext = extended_labels(np.asarray(labels[b, :int(label_length[b])], dtype=np.int64),
                          log_probs.shape[-1] - 1)
    return np.asarray(log_probs[b, :steps], dtype=np.float64), ext


def _sample_loss(lp, ext):
    if lp.shape[0] == 0:
        return 0.0 if len(ext) == 1 else np.inf
    alpha = ctc_log_alpha(lp, ext)
    last = alpha[-1, -1] if len(ext) == 1 else np.logaddexp(alpha[-1, -1], alpha[-1, -2])
    return -last


@primitive()
def ctc_loss(log_probs, labels, input_length, label_length):
    """CTC loss of each sample: `-log p(labels[b] | log_probs[b])`.

    # Arguments
        log_probs: `(batch, time, classes)` log-probabilities; the last class
            is the blank.
        labels: int `(batch, max_label_length)`; sample b's label is
            `labels[b, :label_length[b]]`.
        input_length: int `(batch,)`, the time steps of each sample.
        label_length: int `(batch,)`.

    # Returns
        `(batch,)` losses; `inf` where no path fits the label in the time
        given (its gradient is then 0).
    """
    log_probs = np.asarray(log_probs)
    input_length, label_length = np.asarray(input_length), np.asarray(label_length)
    check_ctc_arguments(log_probs.shape, labels, input_length, label_length)
    losses = [_sample_loss(*_sample(log_probs, np.asarray(labels), input_length, label_length, b))
              for b in range(log_probs.shape[0])]
    return np.asarray(losses, dtype=log_probs.dtype)


@ctc_loss.defgrad
def _ctc_loss_grad(g, out, log_probs, labels, input_length, label_length):
    log_probs = np.asarray(log_probs)
    input_length, label_length = np.asarray(input_length), np.asarray(label_length)
    grad = np.zeros(log_probs.shape, dtype=np.float64)
    for b in range(log_probs.shape[0]):
        lp, ext = _sample(log_probs, np.asarray(labels), input_length, label_length, b)
        loss = _sample_loss(lp, ext)
        if lp.shape[0] == 0 or not np.isfinite(loss):
            continue
        alpha, beta = ctc_log_alpha(lp, ext), ctc_log_beta(lp, ext)
        share = np.full(lp.shape, -np.inf)         # log of the probability in (t, k)
        for s, k in enumerate(ext):
            share[:, k] = np.logaddexp(share[:, k], alpha[:, s] + beta[:, s] - lp[:, k])
        grad[b, :lp.shape[0]] = -float(g[b]) * np.exp(share + loss)
    return (grad.astype(np.result_type(g, log_probs), copy=False), None, None, None)
