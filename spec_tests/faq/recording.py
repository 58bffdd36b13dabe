"""Test helpers: a layer that records what the model feeds it.

`Recorder` is an identity layer; each time it runs it appends a copy of its
input batch and the learning phase (1 training, 0 testing) to `log`. Feeding it
sample indices as a feature lets a test observe exactly which samples the model
saw, in which order and in which mode.
"""
import numpy as np

import pytest

from keras_under_test import KERAS_3, is_concrete, layers, phase_of, to_numpy


class Recorder(layers.Layer):
    """Identity layer logging `(learning_phase, batch)` pairs."""

    def __init__(self, log, **kwargs):
        super(Recorder, self).__init__(**kwargs)
        self.log = log

    def call(self, inputs, training=None):
        if is_concrete(inputs):
            self.log.append((phase_of(training), to_numpy(inputs)))
        elif KERAS_3 and training:
            # JAX traces the training step to differentiate it: no values to record.
            pytest.skip('the Recorder cannot read the batches of a traced training step')
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


def indexed_data(n, features=3, seed=0):
    """x whose column 0 is the sample index (so recorded batches name their samples), and y."""
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((n, features)).astype('float32')
    x[:, 0] = np.arange(n)
    y = rng.standard_normal((n, 1)).astype('float32')
    return x, y


def seen_indices(log, phase):
    """Sample indices recorded in `phase`, per batch."""
    if KERAS_3 and not log:
        pytest.skip('the Recorder saw no batches: Keras 3 runs the steps traced')
    return [batch[:, 0].astype(int).tolist() for p, batch in log if p == phase]
