"""refkeras.preprocessing.sequence and .text, checked against direct computations."""
import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refkeras.preprocessing.sequence import (TimeseriesGenerator, make_sampling_table,
                                             pad_sequences, skipgrams,
                                             timeseries_generator_from_json)
from refkeras.preprocessing.text import (Tokenizer, hashing_trick, one_hot,
                                         text_to_word_sequence, tokenizer_from_json)

sequences_strategy = st.lists(st.lists(st.integers(1, 50), max_size=8), min_size=1, max_size=6)


def padded_by_hand(sequences, maxlen, padding, truncating, value):
    rows = []
    for sequence in sequences:
        kept = list(sequence)
        if len(kept) > maxlen:
            kept = kept[len(kept) - maxlen:] if truncating == 'pre' else kept[:maxlen]
        fill = [value] * (maxlen - len(kept))
        rows.append(fill + kept if padding == 'pre' else kept + fill)
    return rows


@given(sequences_strategy, st.integers(0, 10), st.sampled_from(['pre', 'post']),
       st.sampled_from(['pre', 'post']), st.integers(-3, 3))
def test_pad_sequences_pads_and_truncates_like_a_direct_loop(sequences, maxlen, padding,
                                                             truncating, value):
    before = copy.deepcopy(sequences)
    result = pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating,
                           value=value)
    assert result.dtype == np.int32
    assert result.shape == (len(sequences), maxlen)
    assert result.tolist() == padded_by_hand(sequences, maxlen, padding, truncating, value)
    assert sequences == before


def test_pad_sequences_default_length_is_the_longest_sequence():
    assert pad_sequences([[1], [2, 3, 4], []]).tolist() == [[0, 0, 1], [2, 3, 4], [0, 0, 0]]


@pytest.mark.parametrize('bad, words', [
    (5, 'list of sequences'),
    ('abc', 'list of sequences'),
    ([[1, 2], 3], 'position 1'),
    ([[1, 2], ['a', 'b']], 'position 1'),
])
def test_pad_sequences_names_what_is_wrong_with_bad_sequences(bad, words):
    with pytest.raises(ValueError) as error:
        pad_sequences(bad)
    assert words in str(error.value)


def test_pad_sequences_rejects_an_unknown_padding_or_truncating():
    with pytest.raises(ValueError, match='padding'):
        pad_sequences([[1]], padding='middle')
    with pytest.raises(ValueError, match='truncating'):
        pad_sequences([[1]], truncating='middle')


def test_make_sampling_table_follows_the_word2vec_formula_with_zipf_frequencies():
    table = make_sampling_table(6, sampling_factor=1e-3)
    for rank in range(6):
        r = max(rank, 1)
        inverse_frequency = r * (math.log(r) + 0.577) + 0.5 - 1 / (12 * r)
        ratio = (1 / inverse_frequency) / 1e-3  # word frequency / sampling factor
        expected = min(1.0, math.sqrt(ratio) / ratio)
        assert table[rank] == pytest.approx(expected, rel=1e-12)


@given(st.lists(st.integers(0, 9), min_size=1, max_size=12), st.integers(1, 4))
def test_skipgrams_positive_pairs_are_exactly_the_window_neighbours(sequence, window):
    couples, labels = skipgrams(sequence, vocabulary_size=10, window_size=window,
                                negative_samples=0., shuffle=False)
    expected = [[sequence[i], sequence[j]]
                for i in range(len(sequence)) if sequence[i]
                for j in range(len(sequence))
                if j != i and abs(i - j) <= window and sequence[j]]
    assert couples == expected
    assert labels == [1] * len(expected)


def test_skipgrams_negative_pairs_draw_words_in_range_and_labels_follow_the_shuffle():
    sequence = [1, 2, 3, 4, 5, 6]
    couples, labels = skipgrams(sequence, vocabulary_size=7, window_size=1,
                                negative_samples=2., shuffle=True, seed=3, categorical=True)
    positives = set((sequence[i], sequence[j]) for i in range(6) for j in range(6)
                    if abs(i - j) == 1)
    assert len(labels) == 3 * len(positives)
    for (word, context), label in zip(couples, labels):
        assert 1 <= context < 7
        if label == [0, 1]:
            assert (word, context) in positives


def test_skipgrams_refuses_a_sequence_that_is_not_integers():
    with pytest.raises(ValueError, match='position 1'):
        skipgrams([1, 'cat', 3], vocabulary_size=5)


@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
       st.booleans())
def test_timeseries_generator_windows_match_a_direct_loop(length, rate, stride, batch, reverse):
    data = np.arange(30).reshape(30, 1) * 10
    targets = np.arange(30)
    generator = TimeseriesGenerator(data, targets, length=length, sampling_rate=rate,
                                    stride=stride, batch_size=batch, reverse=reverse)
    ends = list(range(length, 30, stride))
    windows = [data[end - length:end:rate] for end in ends]
    if reverse:
        windows = [window[::-1] for window in windows]
    got_x = np.concatenate([generator[i][0] for i in range(len(generator))])
    got_y = np.concatenate([generator[i][1] for i in range(len(generator))])
    assert len(generator) == math.ceil(len(ends) / batch)
    np.testing.assert_array_equal(got_x, np.array(windows))
    np.testing.assert_array_equal(got_y, targets[ends])


def test_timeseries_generator_json_round_trip_keeps_every_argument():
    data = [[i] for i in range(20)]
    generator = TimeseriesGenerator(data, list(range(20)), length=4, sampling_rate=2,
                                    stride=3, start_index=2, end_index=17, batch_size=2)
    restored = timeseries_generator_from_json(generator.to_json())
    assert len(restored) == len(generator)
    for i in range(len(generator)):
        np.testing.assert_array_equal(restored[i][0], generator[i][0])
        np.testing.assert_array_equal(restored[i][1], generator[i][1])


def test_timeseries_generator_refuses_data_and_targets_of_different_lengths():
    with pytest.raises(ValueError, match='same length'):
        TimeseriesGenerator(np.zeros((5, 1)), np.zeros(4), length=2)


TEXTS = ['The cat sat on the mat.', 'The dog sat on the log.', 'Dogs and cats living together.']


def test_text_to_word_sequence_lowers_and_drops_punctuation():
    assert text_to_word_sequence("Don't STOP, me now!") == ["don't", 'stop', 'me', 'now']


def test_texts_that_are_not_strings_are_refused_by_name():
    for function in (text_to_word_sequence, lambda t: one_hot(t, 5),
                     lambda t: hashing_trick(t, 5)):
        with pytest.raises(ValueError, match='must be a string'):
            function(['a', 'list'])
    with pytest.raises(ValueError, match='not one string'):
        Tokenizer().fit_on_texts('one text')
    tokenizer = Tokenizer()
    with pytest.raises(ValueError, match='string or a list of words'):
        tokenizer.fit_on_texts(['fine', 42])
    assert tokenizer.document_count == 0 and not tokenizer.word_index


def test_hashing_trick_md5_is_stable_and_in_range():
    from hashlib import md5
    encoded = hashing_trick('alpha beta alpha', 7, hash_function='md5')
    expected = [int(md5(w.encode()).hexdigest(), 16) % 6 + 1 for w in ['alpha', 'beta', 'alpha']]
    assert encoded == expected


def test_tokenizer_numbers_words_by_falling_count_and_counts_documents():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(TEXTS)
    assert tokenizer.word_index['the'] == 1  # four times
    assert tokenizer.word_counts['sat'] == 2
    assert tokenizer.word_docs['the'] == 2
    assert tokenizer.document_count == 3
    assert tokenizer.texts_to_sequences(['the cat sat']) == [[1, tokenizer.word_index['cat'], 2]]


def test_tokenizer_tfidf_matrix_matches_the_formula():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(TEXTS)
    matrix = tokenizer.texts_to_matrix(['the the cat'], mode='tfidf')
    the, cat = tokenizer.word_index['the'], tokenizer.word_index['cat']
    assert matrix[0, the] == pytest.approx((1 + math.log(2)) * math.log(1 + 3 / (1 + 2)))
    assert matrix[0, cat] == pytest.approx(1 * math.log(1 + 3 / (1 + 1)))
    assert np.count_nonzero(matrix) == 2


def test_tokenizer_oov_token_replaces_unknown_words():
    tokenizer = Tokenizer(oov_token='<unk>')
    tokenizer.fit_on_texts(['known words only'])
    assert tokenizer.texts_to_sequences(['known unknown words']) == [[2, 1, 3]]
    assert tokenizer.sequences_to_texts([[2, 1, 3]]) == ['known <unk> words']


def test_tokenizer_config_round_trip_restores_every_table_and_can_go_on_fitting():
    tokenizer = Tokenizer(num_words=8, oov_token='?')
    tokenizer.fit_on_texts(TEXTS)
    restored = tokenizer_from_json(tokenizer.to_json())
    for table in ('word_counts', 'word_docs', 'index_docs', 'word_index', 'index_word'):
        assert dict(getattr(restored, table)) == dict(getattr(tokenizer, table)), table
    assert restored.num_words == 8 and restored.oov_token == '?'
    assert restored.texts_to_sequences(TEXTS) == tokenizer.texts_to_sequences(TEXTS)
    np.testing.assert_array_equal(restored.texts_to_matrix(TEXTS, 'tfidf'),
                                  tokenizer.texts_to_matrix(TEXTS, 'tfidf'))
    restored.fit_on_texts(['a new cat'])
    tokenizer.fit_on_texts(['a new cat'])
    assert restored.word_index == tokenizer.word_index


def test_sequences_to_matrix_refuses_an_unknown_mode():
    tokenizer = Tokenizer(num_words=5)
    with pytest.raises(ValueError, match='unknown vectorization mode'):
        tokenizer.sequences_to_matrix([[1]], mode='bogus')
