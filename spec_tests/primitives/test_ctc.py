"""CTC: K.ctc_batch_cost, K.ctc_decode, K.ctc_label_dense_to_sparse.

The oracle is enumeration (`ctc_oracle.py`): every path of classes over the
time steps, spelled out and summed. `y_pred` is a softmax's output; CTC sees
it as `log(y_pred + epsilon)` renormalised over the classes.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctc_oracle import labelling_probabilities, spell
from refkeras import backend as K
from refkeras.backend.tape import GradientTape


def _log_probs_as_ctc_sees_them(y_pred):
    logits = np.log(y_pred.astype(np.float64) + K.epsilon())
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype('float32')


@st.composite
def ctc_batches(draw):
    batch, steps, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(2, 4))
    max_labels = draw(st.integers(1, 3))
    labels = np.full((batch, max_labels), -1, dtype='int32')
    label_length = np.zeros((batch, 1), dtype='int32')
    for b in range(batch):
        label = draw(st.lists(st.integers(0, classes - 2), max_size=max_labels))
        labels[b, :len(label)] = label
        label_length[b, 0] = len(label)
    input_length = np.array([[draw(st.integers(0, steps))] for _ in range(batch)], dtype='int32')
    seed = draw(st.integers(0, 2 ** 31 - 1))
    z = np.random.RandomState(seed).normal(size=(batch, steps, classes))
    return labels, _softmax(z), input_length, label_length


@given(ctc_batches())
def test_ctc_batch_cost_is_minus_the_log_of_the_summed_path_probabilities(example):
    labels, y_pred, input_length, label_length = example
    cost = K.eval(K.ctc_batch_cost(K.variable(labels, dtype='int32'), K.variable(y_pred),
                                   K.variable(input_length, dtype='int32'),
                                   K.variable(label_length, dtype='int32')))
    assert cost.shape == (len(labels), 1)
    log_probs = _log_probs_as_ctc_sees_them(y_pred)
    for b in range(len(labels)):
        target = tuple(labels[b, :label_length[b, 0]].tolist())
        p = labelling_probabilities(log_probs[b, :input_length[b, 0]]).get(target, 0.0)
        if p == 0.0:
            assert cost[b, 0] == np.inf      # the label does not fit in its time steps
        else:
            np.testing.assert_allclose(cost[b, 0], -math.log(p), rtol=1e-5, atol=1e-5)


def test_ctc_batch_cost_of_one_step_and_one_label_is_worked_by_hand():
    # One step, label (0,): the only path is class 0: cost = -log p(0) (renormalised).
    y_pred = np.array([[[0.7, 0.2, 0.1]]], dtype='float32')
    cost = K.eval(K.ctc_batch_cost(np.array([[0]]), y_pred, np.array([[1]]), np.array([[1]])))
    p0 = (0.7 + K.epsilon()) / (1.0 + 3 * K.epsilon())
    np.testing.assert_allclose(cost, [[-math.log(p0)]], rtol=1e-6)


def test_ctc_batch_cost_gradient_matches_finite_differences_of_the_logits():
    rng = np.random.RandomState(3)
    z = rng.normal(size=(2, 4, 3))
    labels, input_length, label_length = np.array([[0, 1], [1, 1]]), [[4], [4]], [[2], [2]]

    def cost(logits):
        return float(np.sum(K.eval(K.ctc_batch_cost(labels, K.softmax(K.constant(logits, 'float64')),
                                                    np.array(input_length),
                                                    np.array(label_length)))))

    w = K.variable(z, dtype='float64')
    with GradientTape([w]) as tape:
        loss = K.sum(K.ctc_batch_cost(labels, K.softmax(w), np.array(input_length),
                                      np.array(label_length)))
    grad, = tape.gradient(loss, [w])
    numeric = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        plus, minus = z.copy(), z.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        numeric[index] = (cost(plus) - cost(minus)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


def test_ctc_batch_cost_refuses_a_label_that_is_the_blank_or_beyond():
    y_pred = np.full((1, 3, 3), 1.0 / 3, dtype='float32')     # classes 0, 1 and the blank 2
    with pytest.raises(ValueError, match='blank'):
        K.ctc_batch_cost(np.array([[2]]), y_pred, np.array([[3]]), np.array([[1]]))
    with pytest.raises(ValueError, match='input_length'):
        K.ctc_batch_cost(np.array([[0]]), y_pred, np.array([[4]]), np.array([[1]]))


def test_greedy_decoding_takes_the_best_class_merges_repeats_and_drops_blanks():
    # classes 0, 1, blank 2; per step best class: 0 0 2 0 1 1 | 1 2 1 (2 2: past its length)
    best = [[0, 0, 2, 0, 1, 1], [1, 2, 1, 1, 2, 2]]
    y_pred = np.full((2, 6, 3), 0.1, dtype='float32')
    for b, row in enumerate(best):
        for t, k in enumerate(row):
            y_pred[b, t, k] = 0.8
    decoded, log_prob = K.ctc_decode(y_pred, np.array([6, 4]), greedy=True)
    assert len(decoded) == 1
    np.testing.assert_array_equal(K.eval(decoded[0]), [[0, 0, 1], [1, 1, -1]])
    np.testing.assert_allclose(K.eval(log_prob),
                               [[-6 * math.log(0.8 + K.epsilon())],
                                [-4 * math.log(0.8 + K.epsilon())]], rtol=1e-6)


def test_beam_search_wide_enough_finds_the_likeliest_labellings_exactly():
    rng = np.random.RandomState(1)
    y_pred = _softmax(rng.normal(size=(2, 4, 3)) * 2)
    lengths = np.array([4, 3])
    decoded, scores = K.ctc_decode(y_pred, lengths, greedy=False, beam_width=100, top_paths=3)
    log_probs = _log_probs_as_ctc_sees_them(y_pred)
    logits = np.log(y_pred.astype(np.float64) + K.epsilon())
    for b in range(2):
        exact = labelling_probabilities(log_probs[b, :lengths[b]])
        ranked = sorted(exact.items(), key=lambda item: -item[1])[:3]
        # scores are relative to the best path's steps, as Keras's TensorFlow backend reports
        offset = logits[b, :lengths[b]].max(axis=-1).sum() - np.log(
            np.exp(logits[b, :lengths[b]]).sum(axis=-1)).sum()
        for rank, (labels, p) in enumerate(ranked):
            row = K.eval(decoded[rank])[b]
            assert tuple(int(v) for v in row if v != -1) == labels
            np.testing.assert_allclose(scores[b, rank], math.log(p) - offset, rtol=1e-5,
                                       atol=1e-6)   # scores are stored in float32


def test_a_repeated_label_needs_a_blank_between_its_copies():
    # With steps 0-blank-0 likely, "0 0" (two labels) is found, not "0".
    y_pred = np.array([[[0.9, 0.05, 0.05], [0.05, 0.05, 0.9], [0.9, 0.05, 0.05]]], dtype='float32')
    decoded, _ = K.ctc_decode(y_pred, np.array([3]), greedy=False, beam_width=10, top_paths=1)
    np.testing.assert_array_equal(K.eval(decoded[0]), [[0, 0]])
    assert spell((0, 2, 0), blank=2) == (0, 0)


def test_ctc_label_dense_to_sparse_keeps_the_labels_within_each_length():
    labels = np.array([[3, 1, 4], [1, 5, 9]])
    sparse = K.ctc_label_dense_to_sparse(labels, np.array([2, 3]))
    expected = [(b, i) for b, n in enumerate([2, 3]) for i in range(n)]
    assert [tuple(r) for r in sparse.indices.tolist()] == expected
    assert sparse.values.tolist() == [labels[b, i] for b, i in expected]
    assert sparse.dense_shape.tolist() == [2, 3]


def test_a_ctc_model_trains_as_in_keras_image_ocr_example():
    # The loss as a Lambda layer over (y_pred, labels, input_length, label_length).
    from refkeras.layers import Dense, Input, Lambda
    from refkeras.models import Model
    rng = np.random.RandomState(0)
    features = Input((5, 4))
    y_pred = Dense(3, activation='softmax')(features)
    labels, input_length, label_length = Input((2,)), Input((1,), dtype='int32'), \
        Input((1,), dtype='int32')
    loss = Lambda(lambda args: K.ctc_batch_cost(*args), output_shape=(1,))(
        [labels, y_pred, input_length, label_length])
    model = Model([features, labels, input_length, label_length], loss)
    model.compile('adam', loss=lambda y_true, y_out: y_out)
    x = rng.normal(size=(8, 5, 4)).astype('float32')
    inputs = [x, rng.randint(0, 2, size=(8, 2)).astype('float32'),
              np.full((8, 1), 5), np.full((8, 1), 2)]
    history = model.fit(inputs, np.zeros((8, 1)), epochs=20, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
    assert all(np.isfinite(history.history['loss']))


def test_enumeration_oracle_spells_paths_as_ctc_defines():
    assert spell((0, 0, 2, 1, 1, 2, 2, 1), blank=2) == (0, 1, 1)
    # three steps, two classes + blank: 27 paths, probabilities summing to 1
    log_probs = np.log(np.full((3, 3), 1.0 / 3))
    total = sum(labelling_probabilities(log_probs).values())
    assert abs(total - 1.0) < 1e-12
    assert len(list(itertools.product(range(3), repeat=3))) == 27
