"""Regularization layers that add noise in training only (Keras 2.2.4's `keras/layers/noise.py`).

GaussianNoise, GaussianDropout and AlphaDropout are active in the training
phase (learning phase 1) and the identity in the test phase (FAQ: "Why is the
training loss much higher than the testing loss?").
"""
import math

from refkeras import backend as K
# AlphaDropout keeps SELU activations' mean and variance: it needs SELU's constants.
from refkeras.backend.prims_nn import SELU_ALPHA, SELU_SCALE
from refkeras.engine.base_layer import Layer
from refkeras.legacy import interfaces



class _TrainingNoise(Layer):
    """Base of the noise layers: same shape out, masks passed through."""

    def __init__(self, **kwargs):
        super(_TrainingNoise, self).__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _adds_noise(self):
        """Whether training-phase calls change the inputs (the dropouts: 0 < rate < 1)."""
        return 0.0 < self.rate < 1.0

    def _call_uses_learning_phase(self, arguments):
        return self._adds_noise() and arguments.get('training') is None

    def _with_config(self, extra):
        config = dict(super(_TrainingNoise, self).get_config())
        config.update(extra)
        return config


def _rate(layer, rate):
    if not 0.0 <= float(rate) <= 1.0:
        raise ValueError('%s layer "%s": `rate` must be in [0, 1], received %r.'
                         % (type(layer).__name__, layer.name, rate))
    return rate


class GaussianNoise(_TrainingNoise):
    """Adds zero-centred Gaussian noise of standard deviation `stddev` (training only)."""

    @interfaces.legacy_gaussiannoise_support
    def __init__(self, stddev, **kwargs):
        super(GaussianNoise, self).__init__(**kwargs)
        if float(stddev) < 0:
            raise ValueError('GaussianNoise layer "%s": `stddev` cannot be negative, received '
                             '%r.' % (self.name, stddev))
        self.stddev = stddev

    def _adds_noise(self):
        return True  # as Keras 2.2.4: a learning-phase switch even for stddev=0

    def call(self, inputs, training=None):
        def noised():
            return inputs + K.random_normal(K.int_shape(inputs), mean=0.0, stddev=self.stddev,
                                            dtype=K.dtype(inputs))
        return K.in_train_phase(noised, inputs, training=training)

    def get_config(self):
        return self._with_config({'stddev': self.stddev})


class GaussianDropout(_TrainingNoise):
    """Multiplies by Gaussian noise of mean 1 and variance `rate / (1 - rate)` (training only).

    # Arguments
        rate: float in [0, 1], the drop probability of the equivalent Dropout.
    """

    @interfaces.legacy_gaussiandropout_support
    def __init__(self, rate, **kwargs):
        super(GaussianDropout, self).__init__(**kwargs)
        self.rate = _rate(self, rate)

    def call(self, inputs, training=None):
        if 0 < self.rate < 1:
            def noised():
                stddev = math.sqrt(self.rate / (1.0 - self.rate))
                return inputs * K.random_normal(K.int_shape(inputs), mean=1.0, stddev=stddev,
                                                dtype=K.dtype(inputs))
            return K.in_train_phase(noised, inputs, training=training)
        return inputs

    def get_config(self):
        return self._with_config({'rate': self.rate})


class AlphaDropout(_TrainingNoise):
    """Dropout that keeps a SELU network's activations at zero mean and unit variance.

    Dropped values are set to SELU's negative saturation value, then all values
    are transformed by `a * x + b` chosen to restore the mean and variance
    (Klambauer et al., 2017). Identity in the test phase.

    # Arguments
        rate: float in [0, 1], the drop probability.
        noise_shape: shape of the keep mask (broadcast against the input), or None.
        seed: optional random seed.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super(AlphaDropout, self).__init__(**kwargs)
        self.rate = _rate(self, rate)
        self.noise_shape = noise_shape
        self.seed = seed

    def _get_noise_shape(self, inputs):
        if not self.noise_shape:
            return K.int_shape(inputs)
        shape = K.int_shape(inputs)
        return tuple(shape[i] if s is None else s for i, s in enumerate(self.noise_shape))

    def call(self, inputs, training=None):
        if 0.0 < self.rate < 1.0:
            rate = self.rate

            def dropped():
                saturation = -SELU_ALPHA * SELU_SCALE
                uniform = K.random_uniform(self._get_noise_shape(inputs), seed=self.seed,
                                           dtype=K.dtype(inputs))
                kept = K.cast(K.greater_equal(uniform, rate), K.dtype(inputs))
                a = ((1 - rate) * (1 + rate * saturation ** 2)) ** -0.5
                b = -a * saturation * rate
                x = inputs * kept + saturation * (1 - kept)
                return a * x + b
            return K.in_train_phase(dropped, inputs, training=training)
        return inputs

    def get_config(self):
        # Keras 2.2.4 saved only `rate`; `noise_shape` and `seed` are kept too.
        return self._with_config({'rate': self.rate, 'noise_shape': self.noise_shape,
                                  'seed': self.seed})
