"""Batch normalization (Keras 2.2.4's `keras/layers/normalization.py`).

In the training phase (the forward pass of a `fit` / `train_on_batch` step,
learning phase 1; FAQ: "Why is the training loss much higher than the testing
loss?") the layer normalizes with the statistics of the current batch and
moves its moving statistics towards them. In the test phase (evaluate,
predict, validation, learning phase 0) it normalizes with the moving
statistics and changes nothing.
"""
from refkeras import backend as K
from refkeras import constraints, initializers, regularizers
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.legacy import interfaces


class BatchNormalization(Layer):
    """Normalizes each channel to zero mean and unit variance, then scales and shifts.

    `output = gamma * (x - mean) / sqrt(var + epsilon) + beta`, with the batch's
    `mean` / `var` over all axes except `axis` in training, and the moving
    statistics otherwise.

    # Arguments
        axis: the channels axis (kept); -1 for channels_last data, 1 for
            channels_first.
        momentum: of the moving averages, `moving = moving * momentum +
            batch * (1 - momentum)`.
        epsilon: added to the variance.
        center: whether to learn the offset `beta`; scale: the factor `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the weights.

    # Weights
        In Keras's order: `gamma` (if scale), `beta` (if center), then the
        non-trainable `moving_mean`, `moving_variance`, each of the size of
        the `axis`.

    The moving variance is fed the batch variance times `m / (m - 1 - epsilon)`,
    `m` being the number of values per channel (Keras 2.2.4's near-Bessel
    correction). Keras 2.2.4's TensorFlow backend also "de-biased" the moving
    averages (`zero_debias=True`), which made them forget their initial values
    after the first batch; refkeras uses the plain moving average of the
    formula above, as Keras's other backends did, so pre-trained moving
    statistics are refined rather than replaced when fine-tuning.
    """

    @interfaces.legacy_batchnorm_support
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer='zeros', gamma_initializer='ones',
                 moving_mean_initializer='zeros', moving_variance_initializer='ones',
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super(BatchNormalization, self).__init__(**kwargs)
        self.supports_masking = True
        if not isinstance(axis, int):
            raise ValueError('BatchNormalization layer "%s": `axis` must be an int, received %r.'
                             % (self.name, axis))
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError('BatchNormalization layer "%s": axis %d is out of range for an '
                             'input of shape %s.' % (self.name, self.axis, input_shape))
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError('BatchNormalization layer "%s": axis %d of the input should have a '
                             'defined dimension, but the layer received an input with shape %s.'
                             % (self.name, self.axis, input_shape))
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        shape = (dim,)
        self.gamma = self.add_weight(shape=shape, name='gamma',
                                     initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape=shape, name='beta', initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight(shape=shape, name='moving_mean',
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name='moving_variance',
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        # What `layer.updates` lists; the updates themselves happen eagerly in `call`.
        self.add_update([self.moving_mean, self.moving_variance])
        self.built = True

    def _in_training_phase(self, training):
        """Whether to use (and update from) the batch's statistics.

        `training` overrides the learning phase when given. Outside any model
        run the learning phase is a placeholder that defaults to 0 (test), as
        TensorFlow's `placeholder_with_default(False)`.
        """
        if training is None:
            training = K.learning_phase()
        if isinstance(training, SymbolicTensor):
            return False
        return bool(training)

    def call(self, inputs, training=None):
        rank = K.ndim(inputs)
        axis = self.axis % rank
        reduction_axes = [a for a in range(rank) if a != axis]
        if not self._in_training_phase(training):
            return K.batch_normalization(inputs, self.moving_mean, self.moving_variance,
                                         self.beta, self.gamma, axis=axis, epsilon=self.epsilon)
        normed, mean, variance = K.normalize_batch_in_training(
            inputs, self.gamma, self.beta, reduction_axes, epsilon=self.epsilon)
        if K.learning_phase_value() == 1:
            self._update_moving_statistics(inputs, mean, variance, reduction_axes)
        return normed

    def _update_moving_statistics(self, inputs, mean, variance, reduction_axes):
        """Moves the moving statistics towards the batch's (training steps only)."""
        shape = K.int_shape(inputs)
        count = 1
        for a in reduction_axes:
            count *= shape[a]
        corrected = K.multiply(K.stop_gradient(variance), count / (count - (1.0 + self.epsilon)))
        K.moving_average_update(self.moving_mean, K.stop_gradient(mean), self.momentum)
        K.moving_average_update(self.moving_variance, corrected, self.momentum)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = dict(super(BatchNormalization, self).get_config())
        config.update({
            'axis': self.axis,
            'momentum': self.momentum,
            'epsilon': self.epsilon,
            'center': self.center,
            'scale': self.scale,
            'beta_initializer': initializers.serialize(self.beta_initializer),
            'gamma_initializer': initializers.serialize(self.gamma_initializer),
            'moving_mean_initializer': initializers.serialize(self.moving_mean_initializer),
            'moving_variance_initializer':
                initializers.serialize(self.moving_variance_initializer),
            'beta_regularizer': regularizers.serialize(self.beta_regularizer),
            'gamma_regularizer': regularizers.serialize(self.gamma_regularizer),
            'beta_constraint': constraints.serialize(self.beta_constraint),
            'gamma_constraint': constraints.serialize(self.gamma_constraint)})
        return config
