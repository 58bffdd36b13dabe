"""Texts to words, words to integers: `Tokenizer`, `one_hot`, `hashing_trick`.

Keras 2.2.4 took these from `keras_preprocessing` 1.0.5; refkeras writes them
out here with the same names, arguments and results.
"""
import json
import warnings
from collections import OrderedDict, defaultdict
from hashlib import md5

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MATRIX_MODES = ('binary', 'count', 'tfidf', 'freq')


def _check_text(text, function):
    if not isinstance(text, str):
        raise ValueError('%s: the text must be a string; received %s of type %s.'
                         % (function, repr(text)[:60], type(text).__name__))


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=' '):
    """Splits a text into words.

    # Arguments
        text: a string.
        filters: characters replaced by `split` before splitting
            (default: punctuation, tabs and line breaks).
        lower: lower-case the text first.
        split: the separator (may be several characters long).

    # Returns
        The list of non-empty words.

    # Raises
        ValueError: if `text` is not a string.
    """
    _check_text(text, 'text_to_word_sequence')
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans(dict((character, split) for character in filters)))
    return [word for word in text.split(split) if word]


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=' '):
    """Each word of a text as `hash(word) % (n - 1) + 1`: indices in `[1, n)`.

    Index 0 is never given (it is kept for padding); different words may
    share an index.

    # Arguments
        text: a string.
        n: the size of the index space.
        hash_function: None (Python's `hash`, which differs from run to run
            for strings unless PYTHONHASHSEED is set), 'md5' (the same in
            every run) or a function from a string to an int.
        filters, lower, split: as in `text_to_word_sequence`.

    # Returns
        A list of integer word indices.

    # Raises
        ValueError: if `text` is not a string.
    """
    _check_text(text, 'hashing_trick')
    if hash_function is None:
        hash_function = hash
    elif hash_function == 'md5':
        def hash_function(word):
            return int(md5(word.encode()).hexdigest(), 16)
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [hash_function(word) % (n - 1) + 1 for word in words]


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=' '):
    """`hashing_trick` with Python's `hash`: word indices in `[1, n)`."""
    _check_text(text, 'one_hot')
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split)


class Tokenizer(object):
    """Learns a word index from texts; turns texts into sequences or matrices.

    Words are numbered from 1 by falling count (0 is kept for padding); with
    `oov_token`, that token is word 1 and stands for unknown words.

    # Arguments
        num_words: if set, only words with an index below `num_words` are
            used when converting texts (the index itself keeps every word).
        filters: characters removed from the texts (default: punctuation,
            tabs and line breaks, but not `'`).
        lower: lower-case the texts.
        split: the word separator.
        char_level: every character is a token.
        oov_token: if set, the token that replaces out-of-vocabulary words in
            `texts_to_sequences`.
        document_count: the number of documents already counted (used when
            restoring a configuration).

    # Raises
        TypeError: for an unknown keyword argument.
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=' ',
                 char_level=False, oov_token=None, document_count=0, **kwargs):
        if 'nb_words' in kwargs:
            warnings.warn('The `nb_words` argument in `Tokenizer` has been renamed `num_words`.')
            num_words = kwargs.pop('nb_words')
        if kwargs:
            raise TypeError('Tokenizer: unrecognized keyword arguments: %s' % sorted(kwargs))
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token

    def _tokens(self, text, method):
        """The tokens of one text (a string, or a list of words used as is)."""
        if isinstance(text, list):
            return [word.lower() for word in text] if self.lower else text
        if not isinstance(text, str):
            raise ValueError('Tokenizer.%s: each text must be a string or a list of words; '
                             'received %s of type %s.'
                             % (method, repr(text)[:60], type(text).__name__))
        if self.char_level:
            return text.lower() if self.lower else text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Counts the words of `texts` and renumbers the vocabulary.

        # Arguments
            texts: a list (or generator) of strings, or of lists of words.

        # Raises
            ValueError: if `texts` is a single string, or holds something else
                than strings and lists of words (raised before anything is
                counted, when `texts` is a list).
        """
        if isinstance(texts, str):
            raise ValueError('Tokenizer.fit_on_texts: `texts` must be a list of texts, not one '
                             'string (wrap it in a list).')
        if isinstance(texts, (list, tuple)):
            token_lists = [self._tokens(text, 'fit_on_texts') for text in texts]
        else:
            token_lists = (self._tokens(text, 'fit_on_texts') for text in texts)
        for tokens in token_lists:
            self.document_count += 1
            for word in tokens:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(tokens):
                self.word_docs[word] += 1
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = [] if self.oov_token is None else [self.oov_token]
        vocabulary.extend(word for word, _ in by_count)
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = dict((index, word) for word, index in self.word_index.items())
        for word, count in self.word_docs.items():
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences):
        """Counts in how many sequences each index occurs (for `tfidf` matrices).

        # Arguments
            sequences: a list of lists of integer word indices.
        """
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (see `texts_to_sequences_generator`)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Yields each text as a list of word indices.

        Unknown words, and words with an index of `num_words` or more, are
        dropped, or replaced by `oov_token`'s index when it is set.
        """
        if isinstance(texts, str):
            raise ValueError('Tokenizer.texts_to_sequences: `texts` must be a list of texts, '
                             'not one string (wrap it in a list).')
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            sequence = []
            for word in self._tokens(text, 'texts_to_sequences'):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    sequence.append(index)
                elif oov_index is not None:
                    sequence.append(oov_index)
            yield sequence

    def sequences_to_texts(self, sequences):
        """Each sequence of indices back as a text of space-separated words."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """Yields each sequence of word indices as a text (the inverse of
        `texts_to_sequences`, with the same treatment of unknown indices)."""
        oov_index = self.word_index.get(self.oov_token)
        for sequence in sequences:
            words = []
            for index in sequence:
                word = self.index_word.get(index)
                if word is not None and not (self.num_words and index >= self.num_words):
                    words.append(word)
                elif oov_index is not None:
                    words.append(self.index_word[oov_index])
            yield ' '.join(words)

    def texts_to_matrix(self, texts, mode='binary'):
        """`sequences_to_matrix` of `texts_to_sequences(texts)`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode='binary'):
        """One row per sequence, one column per word index.

        # Arguments
            sequences: a list of lists of word indices.
            mode: 'binary' (1 where the word occurs), 'count' (its count),
                'freq' (its count over the sequence's length) or 'tfidf'
                (`(1 + ln count) * ln(1 + documents / (1 + documents holding it))`).

        # Returns
            A float array of shape `(len(sequences), num_words)` (default
            `num_words`: the vocabulary size plus one).

        # Raises
            ValueError: for an unknown `mode`, or when the width is unknown
                (no `num_words` and nothing fitted), or 'tfidf' before fitting.
        """
        if mode not in MATRIX_MODES:
            raise ValueError('Tokenizer: unknown vectorization mode %r; expected one of %s.'
                             % (mode, ', '.join(MATRIX_MODES)))
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError('Specify a dimension (num_words argument), '
                             'or fit on some text data first.')
        if mode == 'tfidf' and not self.document_count:
            raise ValueError('Fit the Tokenizer on some data before using tfidf mode.')
        matrix = np.zeros((len(sequences), width))
        for row, sequence in enumerate(sequences):
            if not len(sequence):
                continue
            counts = defaultdict(int)
            for index in sequence:
                if index < width:
                    counts[index] += 1
            for index, count in counts.items():
                if mode == 'count':
                    matrix[row, index] = count
                elif mode == 'freq':
                    matrix[row, index] = count / len(sequence)
                elif mode == 'binary':
                    matrix[row, index] = 1
                else:
                    term_frequency = 1 + np.log(count)
                    inverse_document_frequency = np.log(
                        1 + self.document_count / (1 + self.index_docs.get(index, 0)))
                    matrix[row, index] = term_frequency * inverse_document_frequency
        return matrix

    def get_config(self):
        """The arguments and the learned counts (the counts as JSON strings)."""
        return {
            'num_words': self.num_words, 'filters': self.filters, 'lower': self.lower,
            'split': self.split, 'char_level': self.char_level, 'oov_token': self.oov_token,
            'document_count': self.document_count,
            'word_counts': json.dumps(self.word_counts),
            'word_docs': json.dumps(self.word_docs),
            'index_docs': json.dumps(self.index_docs),
            'index_word': json.dumps(self.index_word),
            'word_index': json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """The configuration as a JSON string (`tokenizer_from_json` reads it back)."""
        return json.dumps({'class_name': type(self).__name__, 'config': self.get_config()},
                          **kwargs)


def tokenizer_from_json(json_string):
    """The `Tokenizer` whose `to_json()` gave `json_string`; it can go on fitting.

    # Raises
        ValueError: if the string is not a tokenizer configuration.
    """
    try:
        config = dict(json.loads(json_string)['config'])
        counts = {name: json.loads(config.pop(name))
                  for name in ('word_counts', 'word_docs', 'index_docs', 'index_word',
                               'word_index')}
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError('tokenizer_from_json: not a Tokenizer configuration (%s).' % error)
    tokenizer = Tokenizer(**config)
    # JSON keys are strings: the integer-keyed tables get their integers back.
    tokenizer.word_counts = OrderedDict(counts['word_counts'])
    tokenizer.word_docs = defaultdict(int, counts['word_docs'])
    tokenizer.index_docs = defaultdict(int, ((int(k), v) for k, v in counts['index_docs'].items()))
    tokenizer.index_word = dict((int(k), v) for k, v in counts['index_word'].items())
    tokenizer.word_index = dict(counts['word_index'])
    return tokenizer
