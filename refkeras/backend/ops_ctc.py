"""The CTC `K` functions (Keras 2.2.4 names): `ctc_batch_cost`, `ctc_decode`,
`ctc_label_dense_to_sparse`.

As in Keras's TensorFlow backend, `y_pred` holds per-step class
probabilities (a softmax's output), `(samples, time_steps, num_categories)`,
with the blank as the last category. They enter CTC as
`log(y_pred + epsilon)` renormalised over the categories (TensorFlow's CTC
applies a softmax to the logits it is given, which is what this
renormalisation is).

- `ctc_batch_cost` composes that renormalisation with the `ctc_loss`
  primitive (`prims_ctc.py`, forward-backward in log space).
- `ctc_decode(greedy=True)` composes existing primitives: the best class of
  each step, repeats merged and blanks dropped, packed to the left.
- `ctc_decode(greedy=False)` is a prefix beam search: a search over label
  sequences with data-dependent control flow, not an array operation, and
  with no gradient. It runs in NumPy on the host under every backend (the
  probabilities are copied there first), as post-processing of predictions.
"""
import builtins
import collections

import numpy as np

from refkeras.backend import prims_ctc
from refkeras.backend import state
from refkeras.backend.graph import symbolic_aware
from refkeras.backend.ops import (_t, add, argmax, cast, concatenate, cumsum, expand_dims,
                                  int_shape, less, log, logsumexp, max, multiply, not_equal,
                                  one_hot, reshape, slice_item, subtract, sum, value_of)
from refkeras.backend.tape import apply
from refkeras.backend.tensors import any_symbolic, backend_arrays

__all__ = ['ctc_label_dense_to_sparse', 'ctc_batch_cost', 'ctc_decode']

SparseLabels = collections.namedtuple('SparseLabels', ['indices', 'values', 'dense_shape'])
SparseLabels.__doc__ = """CTC labels in sparse form (the fields of a TensorFlow `SparseTensor`).

`indices`: int64 `(n, 2)` of `(sample, position)`; `values`: the `n` labels;
`dense_shape`: `(samples, max_label_length)`."""


def _host(x):
    return np.asarray(backend_arrays().to_host(value_of(x)))


def _lengths(x, name):
    """A length argument, `(samples,)` or `(samples, 1)`, as `(samples,)` ints."""
    shape = int_shape(x)
    if len(shape) == 2 and shape[1] == 1:
        x = reshape(x, (-1,))
    elif len(shape) != 1:
        raise ValueError('CTC: `%s` must have shape (samples,) or (samples, 1); received %s.'
                         % (name, shape))
    return cast(x, 'int32')


def ctc_label_dense_to_sparse(labels, label_lengths):
    """The first `label_lengths[b]` labels of each row of `labels`, in sparse form.

    # Arguments
        labels: int tensor `(samples, max_label_length)`.
        label_lengths: int tensor `(samples,)`.

    # Returns
        A `SparseLabels` (indices, values, dense_shape).
    """
    labels = _host(labels)
    lengths = _host(label_lengths).reshape(-1)
    if labels.ndim != 2 or lengths.shape != (labels.shape[0],):
        raise ValueError('ctc_label_dense_to_sparse: expected labels (samples, max_label_length) '
                         'and one length per sample; received shapes %s and %s.'
                         % (labels.shape, lengths.shape))
    indices = [(b, i) for b in range(labels.shape[0]) for i in range(int(lengths[b]))]
    indices = np.asarray(indices, dtype=np.int64).reshape(-1, 2)
    return SparseLabels(indices, labels[indices[:, 0], indices[:, 1]],
                        np.asarray(labels.shape, dtype=np.int64))


def _log_probabilities(y_pred):
    """`log(y_pred + epsilon)` renormalised over the last axis (a log-softmax)."""
    logits = log(add(_t(y_pred), state.epsilon()))
    return subtract(logits, logsumexp(logits, axis=-1, keepdims=True))


@symbolic_aware
def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """The CTC loss of each sample.

    # Arguments
        y_true: tensor `(samples, max_string_length)` of labels (class
            indices, any numeric dtype; the positions past a sample's label
            length are ignored).
        y_pred: tensor `(samples, time_steps, num_categories)` of
            probabilities (a softmax's output); the last category is the blank.
        input_length: tensor `(samples, 1)`: the time steps of each sample.
        label_length: tensor `(samples, 1)`: the label length of each sample.

    # Returns
        Tensor `(samples, 1)` of the CTC losses (`inf` where the label does
        not fit in the time steps given).

    # Raises
        ValueError: for shapes that do not match, a length out of range, or
            a label that is not a class index below the blank.
    """
    labels = cast(y_true, 'int32')
    loss = apply(prims_ctc.ctc_loss, _log_probabilities(y_pred), labels,
                 _lengths(input_length, 'input_length'), _lengths(label_length, 'label_length'))
    return expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """Decodes the output of a softmax into label sequences.

    # Arguments
        y_pred: tensor `(samples, time_steps, num_categories)` of
            probabilities; the last category is the blank.
        input_length: tensor `(samples,)` (or `(samples, 1)`): the time
            steps of each sample.
        greedy: the best path (the likeliest class at each step, repeats
            merged, blanks dropped) if True; a prefix beam search otherwise.
        beam_width: the beam search keeps this many prefixes at each step.
        top_paths: how many of the beam search's likeliest label sequences
            to return.

    # Returns
        A tuple `(decoded, log_prob)`:
        - `decoded`: a list (one element if greedy, else `top_paths`) of int
          tensors `(samples, longest decoded length)`, padded with -1.
        - `log_prob`: `(samples, 1)` if greedy, the negated sum over the
          steps of the log of the best class's probability (what Keras's
          TensorFlow backend returns); `(samples, top_paths)` for the beam
          search, as Keras's TensorFlow backend reports it too: the
          log-probability of each label sequence (over the paths the beam
          kept) less that of the best path's steps, i.e. less the sum over
          the steps of the largest log-probability (0 would mean that the
          sequence has all of the best path's probability).

    # Raises
        ValueError: for a `y_pred` that is not 3D, or a bad `beam_width` or
            `top_paths`.
    """
    if len(int_shape(y_pred)) != 3:
        raise ValueError('ctc_decode: `y_pred` must be 3D (samples, time_steps, num_categories); '
                         'received shape %s.' % (int_shape(y_pred),))
    if any_symbolic([y_pred, input_length]):
        # Decoded when the graph runs; the decoded lengths are known only then.
        outputs = _ctc_decode_outputs(y_pred, input_length, greedy, beam_width, top_paths)
        for t in outputs[:-1]:
            t.shape = t._keras_shape = (int_shape(y_pred)[0], None)
        return outputs[:-1], outputs[-1]
    lengths = _lengths(input_length, 'input_length')
    if greedy:
        return _greedy_decode(y_pred, lengths)
    if int(beam_width) < 1 or not 1 <= int(top_paths) <= int(beam_width):
        raise ValueError('ctc_decode: need beam_width >= 1 and 1 <= top_paths <= beam_width; '
                         'received beam_width=%r, top_paths=%r.' % (beam_width, top_paths))
    logits = _host(log(add(_t(y_pred), state.epsilon()))).astype(np.float64)
    # Each step shifted by its largest log-probability, as TensorFlow's beam
    # search does: the ranking is unchanged, the scores are relative to the
    # best path (see `log_prob` above).
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return _beam_search_decode(shifted, _host(lengths), int(beam_width), int(top_paths))


@symbolic_aware
def _ctc_decode_outputs(y_pred, input_length, greedy, beam_width, top_paths):
    decoded, log_prob = ctc_decode(y_pred, input_length, greedy, beam_width, top_paths)
    return list(decoded) + [log_prob]


def _greedy_decode(y_pred, lengths):
    logits = log(add(_t(y_pred), state.epsilon()))
    samples, steps, classes = int_shape(logits)
    blank, floatx = classes - 1, state.floatx()
    best = cast(argmax(logits, axis=-1), 'int64')                   # (samples, steps)
    in_time = cast(less(np.arange(steps)[None, :], expand_dims(lengths, 1)), floatx)
    log_prob = multiply(-1.0, sum(multiply(max(logits, axis=-1), in_time), axis=1,
                                  keepdims=True))
    before = concatenate([np.full((samples, 1), -1, dtype=np.int64),
                          slice_item(best, (builtins.slice(None), builtins.slice(None, -1)))],
                         axis=1)
    keep = multiply(multiply(cast(not_equal(best, before), floatx),
                             cast(not_equal(best, blank), floatx)), in_time)
    # The kept classes, packed to the left: kept step t goes to position
    # (number kept up to t) - 1; the others to `width`, outside the one-hot.
    width = int(_host(max(sum(keep, axis=1))).item()) if samples else 0
    position = subtract(cumsum(keep, axis=1), 1.0)
    target = cast(add(multiply(position, keep), multiply(subtract(1.0, keep), float(width))),
                  'int32')
    spread = one_hot(target, width)                              # (samples, steps, width)
    classes_plus_one = expand_dims(add(cast(best, floatx), 1.0), -1)
    decoded = cast(subtract(sum(multiply(spread, classes_plus_one), axis=1), 1.0), 'int64')
    return [decoded], log_prob


def _beam_search_decode(log_probs, lengths, beam_width, top_paths):
    """Prefix beam search over host arrays; see `ctc_decode`."""
    samples, blank = log_probs.shape[0], log_probs.shape[2] - 1
    found = [_beam_search(log_probs[b, :int(lengths[b])], blank, beam_width, top_paths)
             for b in range(samples)]
    decoded, scores = [], np.full((samples, top_paths), -np.inf, dtype=state.floatx())
    for rank in range(top_paths):
        longest = builtins.max([len(paths[rank][0]) for paths in found if rank < len(paths)]
                               + [0])
        dense = np.full((samples, longest), -1, dtype=np.int64)
        for b, paths in enumerate(found):
            if rank < len(paths):
                labels, score = paths[rank]
                dense[b, :len(labels)] = labels
                scores[b, rank] = score
        decoded.append(dense)
    return decoded, scores


def _beam_search(log_probs, blank, beam_width, top_paths):
    """The `top_paths` likeliest label sequences of one sample, with their log-probabilities.

    Each prefix keeps two log-probabilities: of the paths spelling it whose last
    step is a blank, and of those whose last step is its last label (a repeat of
    that label then extends the same prefix; after a blank it starts a new one).
    """
    beams = {(): (0.0, -np.inf)}            # prefix -> (ends in blank, ends in its label)
    for step in log_probs:
        grown = collections.defaultdict(lambda: [-np.inf, -np.inf])
        for prefix, (in_blank, in_label) in beams.items():
            either = np.logaddexp(in_blank, in_label)
            entry = grown[prefix]
            entry[0] = np.logaddexp(entry[0], either + step[blank])
            for k in range(blank):
                longer = grown[prefix + (k,)]
                if prefix and prefix[-1] == k:
                    entry[1] = np.logaddexp(entry[1], in_label + step[k])     # merged repeat
                    longer[1] = np.logaddexp(longer[1], in_blank + step[k])   # k, blank, k
                else:
                    longer[1] = np.logaddexp(longer[1], either + step[k])
        ranked = sorted(grown.items(), key=lambda item: (-np.logaddexp(*item[1]), item[0]))
        beams = {prefix: tuple(scores) for prefix, scores in ranked[:beam_width]}
    ranked = sorted(beams.items(), key=lambda item: (-np.logaddexp(*item[1]), item[0]))
    return [(list(prefix), float(np.logaddexp(*scores))) for prefix, scores in ranked[:top_paths]]
