"""Sequences of integers: padding, skip-gram pairs, windows of a time series.

Keras 2.2.4 took these from `keras_preprocessing` 1.0.5; refkeras writes them
out here with the same names, arguments and results.
"""
import json
import random

import numpy as np

from refkeras.utils.data_utils import Sequence


def _describe(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def pad_sequences(sequences, maxlen=None, dtype='int32', padding='pre', truncating='pre',
                  value=0.):
    """Pads (or truncates) sequences to one length, giving one array.

    # Arguments
        sequences: list of sequences (lists or arrays of integers, or of
            equal-shaped vectors).
        maxlen: the length of the result's second axis; default the longest
            sequence's length.
        dtype: the result's dtype (`object` for strings of any length).
        padding: 'pre' or 'post': where the padding `value`s go.
        truncating: 'pre' or 'post': which end of a longer sequence is cut.
        value: the padding value.

    # Returns
        An array of shape `(len(sequences), maxlen) + element_shape`.

    # Raises
        ValueError: for a `sequences` that is not a list of sequences, an
            element of another shape than the first non-empty one's, a value
            that cannot be converted to `dtype`, or an unknown `padding` or
            `truncating`. Nothing in `sequences` is modified.
    """
    if padding not in ('pre', 'post'):
        raise ValueError('pad_sequences: `padding` must be "pre" or "post"; received %r.'
                         % (padding,))
    if truncating not in ('pre', 'post'):
        raise ValueError('pad_sequences: `truncating` must be "pre" or "post"; received %r.'
                         % (truncating,))
    if isinstance(sequences, str) or not hasattr(sequences, '__len__'):
        raise ValueError('pad_sequences: `sequences` must be a list of sequences; received %s.'
                         % _describe(sequences))
    lengths = []
    for position, sequence in enumerate(sequences):
        if isinstance(sequence, str) or not hasattr(sequence, '__len__'):
            raise ValueError('pad_sequences: `sequences` must be a list of sequences (lists of '
                             'integers); the one at position %d is %s.'
                             % (position, _describe(sequence)))
        lengths.append(len(sequence))
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    element_shape = ()
    for sequence in sequences:
        if len(sequence) > 0:
            element_shape = np.asarray(sequence).shape[1:]
            break
    dtype_is_text = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != np.dtype(object) and not dtype_is_text:
        raise ValueError('pad_sequences: the padding value %r is a string but `dtype` is %s; '
                         'use dtype=object for strings of any length.' % (value, dtype))
    result = np.full((len(sequences), maxlen) + tuple(element_shape), value, dtype=dtype)
    for position, sequence in enumerate(sequences):
        if not len(sequence) or maxlen == 0:
            continue
        kept = sequence[-maxlen:] if truncating == 'pre' else sequence[:maxlen]
        try:
            kept = np.asarray(kept, dtype=dtype)
        except (TypeError, ValueError):
            raise ValueError('pad_sequences: the sequence at position %d holds values that are '
                             'not %s: %s.' % (position, np.dtype(dtype).name, _describe(sequence)))
        if kept.shape[1:] != tuple(element_shape):
            raise ValueError('pad_sequences: the elements of the sequence at position %d have '
                             'shape %s; the first non-empty sequence\'s have shape %s.'
                             % (position, kept.shape[1:], tuple(element_shape)))
        if padding == 'post':
            result[position, :len(kept)] = kept
        else:
            result[position, -len(kept):] = kept
    return result


def make_sampling_table(size, sampling_factor=1e-5):
    """The probability of keeping each word rank, for `skipgrams`.

    word2vec keeps a word of frequency `f` with probability
    `min(1, sqrt(sampling_factor / f))`. Here `f` is not counted but taken
    from Zipf's law, `1 / f(rank) ~ rank * (ln(rank) + gamma) + 1/2 - 1/(12 rank)`
    (gamma the Euler-Mascheroni constant, 0.577), so entry `i` is the
    probability of keeping the `i`-th most common word (rank 0 counts as 1).

    # Arguments
        size: the number of word ranks.
        sampling_factor: word2vec's sampling factor.

    # Returns
        An array of `size` probabilities.
    """
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inverse_frequency = rank * (np.log(rank) + gamma) + 0.5 - 1. / (12. * rank)
    scaled = sampling_factor * inverse_frequency
    return np.minimum(1., scaled / np.sqrt(scaled))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1., shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Skip-gram pairs of word indices, with labels.

    Each word `w_i` (index 0 is "no word" and is skipped) is paired with every
    word `w_j` with `0 < |i - j| <= window_size`: label 1. Then
    `negative_samples` times as many pairs of a word of the sequence with a
    random index in `[1, vocabulary_size)`: label 0.

    # Arguments
        sequence: list of word indices (integers).
        vocabulary_size: the largest word index plus one.
        window_size: how far on each side a neighbour may be.
        negative_samples: how many negative pairs per positive pair (0: none).
        shuffle: whether to shuffle the pairs (the labels follow them).
        categorical: labels as `[0, 1]` / `[1, 0]` instead of 1 / 0.
        sampling_table: optional array: the word with index `i` is used with
            probability `sampling_table[i]` (see `make_sampling_table`).
        seed: seed of the shuffle.

    # Returns
        `(couples, labels)`: lists of `[word, context]` pairs and labels.

    # Raises
        ValueError: if `sequence` is not a list of integers.
    """
    for position, word in enumerate(sequence):
        if not isinstance(word, (int, np.integer)) or isinstance(word, bool):
            raise ValueError('skipgrams: `sequence` must be a list of integer word indices; '
                             'position %d holds %s.' % (position, _describe(word)))
    couples, labels = [], []
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j == i or not sequence[j]:
                continue
            couples.append([word, sequence[j]])
            labels.append([0, 1] if categorical else 1)
    if negative_samples > 0 and couples:
        count = int(len(labels) * negative_samples)
        words = [pair[0] for pair in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)]
                    for k in range(count)]
        labels += [[1, 0] if categorical else 0 for _ in range(count)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10 ** 7)
        # The same seed twice: couples and labels are permuted alike.
        random.Random(seed).shuffle(couples)
        random.Random(seed).shuffle(labels)
    return couples, labels


def _remove_long_seq(maxlen, seq, label):
    """The sequences shorter than `maxlen`, and their labels (used by datasets)."""
    kept_sequences, kept_labels = [], []
    for sequence, target in zip(seq, label):
        if len(sequence) < maxlen:
            kept_sequences.append(sequence)
            kept_labels.append(target)
    return kept_sequences, kept_labels


class TimeseriesGenerator(Sequence):
    """Batches of windows of a time series, each with the target that follows it.

    Sample `k` of the series is the window `data[t - length : t : sampling_rate]`
    with target `targets[t]`, for `t` from `start_index + length` to
    `end_index` in steps of `stride` (or drawn at random with `shuffle`).

    # Arguments
        data: indexable series (list or array) whose axis 0 is time.
        targets: the targets, as long as `data`.
        length: the window's span in time steps.
        sampling_rate: the period between kept time steps of a window.
        stride: the period between successive windows.
        start_index, end_index: the part of the series used (end included;
            default the whole series).
        shuffle: draw the windows' end points at random (with replacement)
            instead of in order.
        reverse: the time steps of each window in reverse order.
        batch_size: windows per batch (the last batch may be smaller).

    # Raises
        ValueError: if `data` and `targets` differ in length, or
            `start_index + length > end_index`.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128):
        if len(data) != len(targets):
            raise ValueError('TimeseriesGenerator: `data` and `targets` must have the same '
                             'length; `data` has %d steps, `targets` %d.'
                             % (len(data), len(targets)))
        self.data = data
        self.targets = targets
        self._data = np.asarray(data)
        self._targets = np.asarray(targets)
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size
        if self.start_index > self.end_index:
            raise ValueError('TimeseriesGenerator: `start_index+length=%i > end_index=%i` is '
                             'disallowed, as no part of the sequence would be left to be used '
                             'as current step.' % (self.start_index, self.end_index))

    def __len__(self):
        per_batch = self.batch_size * self.stride
        return (self.end_index - self.start_index + per_batch) // per_batch

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride,
                                        self.end_index + 1), self.stride)
        data, targets = self._data, self._targets
        samples = np.array([data[row - self.length:row:self.sampling_rate] for row in rows])
        batch_targets = np.array([targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], batch_targets
        return samples, batch_targets

    def get_config(self):
        """The generator's arguments, `data` and `targets` as JSON strings."""
        def as_json(values, what):
            values = values.tolist() if isinstance(values, np.ndarray) else values
            try:
                return json.dumps(values)
            except TypeError:
                raise TypeError('TimeseriesGenerator: the %s are not JSON serializable.' % what)
        return {'data': as_json(self.data, 'data'), 'targets': as_json(self.targets, 'targets'),
                'length': self.length, 'sampling_rate': self.sampling_rate,
                'stride': self.stride, 'start_index': self.start_index - self.length,
                'end_index': self.end_index, 'shuffle': self.shuffle, 'reverse': self.reverse,
                'batch_size': self.batch_size}

    def to_json(self, **kwargs):
        """The configuration as a JSON string (`timeseries_generator_from_json` reads it)."""
        return json.dumps({'class_name': type(self).__name__, 'config': self.get_config()},
                          **kwargs)


def timeseries_generator_from_json(json_string):
    """The `TimeseriesGenerator` whose `to_json()` gave `json_string`."""
    config = dict(json.loads(json_string)['config'])
    config['data'] = json.loads(config['data'])
    config['targets'] = json.loads(config['targets'])
    return TimeseriesGenerator(**config)
