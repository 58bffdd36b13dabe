"""FAQ: "How can I obtain reproducible results using Keras during development?"

The FAQ's recipe: start Python with `PYTHONHASHSEED=0`, then call
`np.random.seed(42)` and `random.seed(12345)` before building the model
(refkeras has no TensorFlow session to configure). Then building and training
a model (initial weights, Dropout masks, the per-epoch shuffle) gives the same
weights and outputs, bit for bit, in every fresh process.

Each run is a new interpreter; it prints SHA-256 digests of the raw bytes of
the weights and predictions. The test also checks that the digests react to
the seed (another NumPy seed, or a reseed between building and training,
gives other weights), so it cannot pass by comparing constants.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keras_under_test import refkeras_only

REPO = Path(__file__).resolve().parents[2]

pytestmark = refkeras_only("its fresh-process script builds a refkeras model; the FAQ's recipe is TensorFlow 1's (ConfigProto, set_random_seed, Session), not yet ported")

SCRIPT = r"""
import hashlib, json, random, sys

import numpy as np

# The FAQ's recipe (PYTHONHASHSEED=0 is set in the environment by the caller).
np.random.seed(int(sys.argv[1]))
random.seed(12345)

from refkeras.layers import Dense, Dropout
from refkeras.models import Sequential


def digest(arrays):
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


model = Sequential()
model.add(Dense(16, activation='relu', input_dim=6))
model.add(Dropout(0.5))
model.add(Dense(3, activation='softmax'))
model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])
initial = digest(model.get_weights())

if sys.argv[2] != 'none':
    # Same initial weights, other Dropout masks and shuffles.
    np.random.seed(int(sys.argv[2]))

data = np.random.RandomState(0)
x = data.uniform(-1.0, 1.0, size=(64, 6)).astype('float32')
y = np.eye(3, dtype='float32')[data.randint(0, 3, size=64)]
history = model.fit(x, y, batch_size=8, epochs=3, shuffle=True, verbose=0)
predictions = model.predict(x)
print(json.dumps({
    'initial_weights': initial,
    'weights': digest(model.get_weights()),
    'predictions': digest([predictions]),
    'losses': [float(v).hex() for v in history.history['loss']],
    'hash_keras': hash('keras'),
}))
"""


def run_fresh_process(tmp_path, np_seed, train_seed=None):
    env = dict(os.environ)
    env['PYTHONHASHSEED'] = '0'
    env['KERAS_HOME'] = str(tmp_path / 'keras_home')
    env.pop('KERAS_BACKEND', None)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run(
        [sys.executable, '-c', SCRIPT, str(np_seed), 'none' if train_seed is None else str(train_seed)],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('reproducibility')
    return {
        'first': run_fresh_process(tmp, 42),
        'second': run_fresh_process(tmp, 42),
        'other_seed': run_fresh_process(tmp, 43),
        'reseeded_before_fit': run_fresh_process(tmp, 42, train_seed=7),
    }


def test_two_fresh_processes_give_bit_identical_results(runs):
    first, second = runs['first'], runs['second']
    assert first['initial_weights'] == second['initial_weights']
    assert first['weights'] == second['weights']
    assert first['predictions'] == second['predictions']
    assert first['losses'] == second['losses']


def test_pythonhashseed_zero_fixes_string_hashes(runs):
    assert runs['first']['hash_keras'] == runs['second']['hash_keras']


def test_training_changed_the_weights(runs):
    assert runs['first']['weights'] != runs['first']['initial_weights']


def test_another_numpy_seed_gives_other_weights(runs):
    first, other = runs['first'], runs['other_seed']
    assert other['initial_weights'] != first['initial_weights']
    assert other['weights'] != first['weights']
    assert other['predictions'] != first['predictions']


def test_dropout_and_shuffle_draw_from_the_seeded_generator(runs):
    # Reseeding between compile and fit keeps the initial weights but changes
    # the Dropout masks and the shuffled order, hence the trained weights.
    first, reseeded = runs['first'], runs['reseeded_before_fit']
    assert reseeded['initial_weights'] == first['initial_weights']
    assert reseeded['weights'] != first['weights']
    assert reseeded['losses'] != first['losses']
