"""CTC by enumeration: every path of classes over the time steps, collapsed.

An oracle independent of the forward-backward recursions in
`refkeras/backend/prims_ctc.py`: for tiny sizes (classes ** steps paths) it
lists the paths, spells each one out (repeats merged, then blanks dropped;
the blank is the last class) and sums the probabilities of those spelling
each label sequence, with `math.fsum`.
"""
import itertools
import math


def spell(path, blank):
    """The label sequence a path of classes spells."""
    labels, previous = [], None
    for k in path:
        if k != previous and k != blank:
            labels.append(k)
        previous = k
    return tuple(labels)


def labelling_probabilities(log_probs):
    """`{label sequence: probability}` for one sample's `(steps, classes)` log-probabilities."""
    steps, classes = len(log_probs), len(log_probs[0]) if len(log_probs) else 0
    terms = {}
    for path in itertools.product(range(classes), repeat=steps):
        weight = math.exp(math.fsum(float(log_probs[t][k]) for t, k in enumerate(path)))
        terms.setdefault(spell(path, classes - 1), []).append(weight)
    if steps == 0:
        return {(): 1.0}
    return {labels: math.fsum(ws) for labels, ws in terms.items()}


def ctc_loss_by_enumeration(log_probs, labels, input_length, label_length):
    """`-log p(label | log_probs)` per sample, as the `ctc_loss` primitive takes them."""
    losses = []
    for b in range(len(log_probs)):
        steps, length = int(input_length[b]), int(label_length[b])
        target = tuple(int(v) for v in labels[b][:length])
        probability = labelling_probabilities(log_probs[b][:steps]).get(target, 0.0)
        losses.append(math.inf if probability == 0.0 else -math.log(probability))
    return losses
