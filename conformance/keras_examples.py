"""Runs one of Keras 2.2.4's example programs on refkeras, offline and short.

    python -m conformance.keras_examples PATH/TO/keras-2.2.4/examples/imdb_lstm.py

It checks that an example gets through its imports, its preprocessing and its
training code; the numbers it prints mean nothing (random data, one epoch):
- `import keras` imports refkeras (conformance.keras_alias);
- the dataset loaders return small random arrays of the real shapes and dtypes;
- `get_file` for bAbI returns a small synthetic tar with the files the examples read;
- fit / fit_generator run 1 epoch (and at most 3 steps per epoch);
- the example runs in a new temporary folder (the files it writes go there).
Some examples also need matplotlib, which refkeras does not.
"""
import functools
import io
import os
import re
import runpy
import sys
import tarfile
import tempfile

import numpy as np

from conformance import keras_alias
keras_alias.install()

import keras  # noqa: E402  (refkeras)
from keras.datasets import cifar10, imdb, mnist, reuters  # noqa: E402
from keras.engine import training  # noqa: E402
from keras.utils import data_utils  # noqa: E402

rng = np.random.RandomState(0)
TRAIN, TEST = 96, 48


def word_sequences(count, num_words, lengths=(5, 120)):
    top = num_words or 5000
    return np.array([list(rng.randint(1, top, size=rng.randint(*lengths)))
                     for _ in range(count)], dtype=object)


def fake_imdb(num_words=None, maxlen=None, **kwargs):
    return ((word_sequences(TRAIN, num_words), rng.randint(0, 2, TRAIN)),
            (word_sequences(TEST, num_words), rng.randint(0, 2, TEST)))


def fake_reuters(num_words=None, test_split=0.2, **kwargs):
    return ((word_sequences(TRAIN, num_words), rng.randint(0, 46, TRAIN)),
            (word_sequences(TEST, num_words), rng.randint(0, 46, TEST)))


def fake_cifar10():
    return ((rng.randint(0, 256, (TRAIN, 32, 32, 3)).astype('uint8'),
             rng.randint(0, 10, (TRAIN, 1))),
            (rng.randint(0, 256, (TEST, 32, 32, 3)).astype('uint8'),
             rng.randint(0, 10, (TEST, 1))))


def fake_mnist(path=None):
    return ((rng.randint(0, 256, (TRAIN, 28, 28)).astype('uint8'), rng.randint(0, 10, TRAIN)),
            (rng.randint(0, 256, (TEST, 28, 28)).astype('uint8'), rng.randint(0, 10, TEST)))


imdb.load_data = fake_imdb
imdb.get_word_index = lambda path=None: dict(('w%d' % i, i) for i in range(1, 5000))
reuters.load_data = fake_reuters
reuters.get_word_index = imdb.get_word_index
cifar10.load_data = fake_cifar10
mnist.load_data = fake_mnist

NAMES = ['Mary', 'John', 'Sandra', 'Daniel']
PLACES = ['kitchen', 'garden', 'office', 'hallway', 'bathroom']


def babi_text(stories):
    lines = []
    for _ in range(stories):
        number = 1
        for _ in range(4):
            lines.append('%d %s moved to the %s.' % (number, rng.choice(NAMES), rng.choice(PLACES)))
            number += 1
        lines.append('%d Where is %s?\t%s\t1' % (number, rng.choice(NAMES), rng.choice(PLACES)))
    return ('\n'.join(lines) + '\n').encode()


def fake_babi_tar():
    path = os.path.join(tempfile.mkdtemp(), 'babi.tar.gz')
    with tarfile.open(path, 'w:gz') as tar:
        for folder in ('en', 'en-10k'):
            for task in ('qa1_single-supporting-fact', 'qa2_two-supporting-facts'):
                for part in ('train', 'test'):
                    data = babi_text(20)
                    info = tarfile.TarInfo('tasks_1-20_v1-2/%s/%s_%s.txt' % (folder, task, part))
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return path


def fake_get_file(fname, origin=None, *args, **kwargs):
    if 'babi' in fname:
        return fake_babi_tar()
    raise RuntimeError('keras_examples: refusing to download %s' % origin)


data_utils.get_file = fake_get_file
keras.utils.get_file = fake_get_file

real_fit, real_fit_generator = training.Model.fit, training.Model.fit_generator


@functools.wraps(real_fit)
def short_fit(self, *args, **kwargs):
    kwargs['epochs'] = 1
    kwargs.pop('initial_epoch', None)
    return real_fit(self, *args, **kwargs)


@functools.wraps(real_fit_generator)
def short_fit_generator(self, generator, steps_per_epoch=None, *args, **kwargs):
    kwargs['epochs'] = 1
    kwargs.pop('initial_epoch', None)
    steps = min(steps_per_epoch or 3, 3)
    if kwargs.get('validation_steps'):
        kwargs['validation_steps'] = 1
    return real_fit_generator(self, generator, steps, *args, **kwargs)


training.Model.fit = short_fit
training.Model.fit_generator = short_fit_generator

# The bAbI examples split with an optional group, which yields None pieces
# since Python 3.7; drop them, as Python 2 (the examples' target) did.
real_split = re.split


def split_without_none(pattern, string, *args, **kwargs):
    return [piece for piece in real_split(pattern, string, *args, **kwargs) if piece is not None]


re.split = split_without_none

if __name__ == '__main__':
    example = sys.argv[1]
    sys.argv = [example] + sys.argv[2:]
    os.chdir(tempfile.mkdtemp(prefix='example-'))
    runpy.run_path(example, run_name='__main__')
    print('keras_examples: finished', os.path.basename(example))
