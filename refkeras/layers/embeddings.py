"""`Embedding`: integer indices to dense vectors (rows of a trainable matrix)."""
import numpy as np

from refkeras import constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.engine.base_layer import Layer
from refkeras.utils.generic_utils import to_list
from refkeras.legacy import interfaces


class Embedding(Layer):
    """Turns positive integers (indices) into dense vectors of fixed size.

    `[[4], [20]] -> [[0.25, 0.1], [0.6, -0.2]]`: output row `i` is row
    `inputs[i]` of the `embeddings` matrix `(input_dim, output_dim)`. Only the
    first layer of a model can be an Embedding.

    # Arguments
        input_dim: int > 0, size of the vocabulary (maximum index + 1).
        output_dim: int > 0, size of the dense vectors.
        embeddings_initializer: initializer of the matrix (default 'uniform').
        embeddings_regularizer: optional penalty on the matrix.
        activity_regularizer: optional penalty on the output.
        embeddings_constraint: optional projection of the matrix after updates.
        mask_zero: whether index 0 is padding: the layer then outputs a mask
            (False where the index is 0) that recurrent layers use to skip
            those timesteps; index 0 cannot be a word then (so `input_dim`
            should be the vocabulary size + 1).
        input_length: length of the input sequences when it is constant (an
            int, or a tuple for inputs of rank > 2); needed to connect
            `Flatten` then `Dense` layers downstream.

    # Input shape
        `(batch, sequence_length)` integers (floats are cast).

    # Output shape
        `(batch, sequence_length, output_dim)`.

    # Raises
        ValueError: for an index outside `[0, input_dim)`, or an input whose
            shape contradicts `input_length`.
    """

    @interfaces.legacy_embedding_support
    def __init__(self, input_dim, output_dim, embeddings_initializer='uniform',
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if 'input_shape' not in kwargs and 'batch_input_shape' not in kwargs:
            if input_length:
                kwargs['input_shape'] = tuple(to_list(input_length, allow_tuple=True))
            else:
                kwargs['input_shape'] = (None,)
        super(Embedding, self).__init__(**kwargs)
        for what, value in (('input_dim', input_dim), ('output_dim', output_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError('Embedding layer %s: `%s` must be a positive integer, received '
                                 '%r.' % (self.name, what, value))
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.input_length = input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          name='embeddings',
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint,
                                          dtype=self.dtype)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return K.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        lengths = list(to_list(self.input_length, allow_tuple=True))
        if len(lengths) != len(input_shape) - 1:
            raise ValueError('Embedding layer %s: "input_length" is %s, but received input has '
                             'shape %s.' % (self.name, self.input_length, input_shape))
        for i, (declared, actual) in enumerate(zip(lengths, input_shape[1:])):
            if declared is not None and actual is not None and declared != actual:
                raise ValueError('Embedding layer %s: "input_length" is %s, but received input '
                                 'has shape %s.' % (self.name, self.input_length, input_shape))
            if declared is None:
                lengths[i] = actual
        return (input_shape[0],) + tuple(lengths) + (self.output_dim,)

    def call(self, inputs):
        indices = K.value_of(inputs)
        self._check_indices(indices)
        return K.gather(self.embeddings, indices)

    def _check_indices(self, indices):
        """Raises before the lookup if an index is outside `[0, input_dim)`.

        Indices are checked where they are: a NumPy array on the host; a
        backend (device) array by two reductions on the device whose results,
        `(min, max)`, are copied back in one small copy (16 bytes at most;
        accel's gather then reads back its own 4-byte range flag), so the
        index batch itself never leaves the device. Float indices count
        as truncated to integers, as the lookup truncates them (truncation
        keeps the order, so the extrema of the truncated values are the
        truncated extrema). Negative indices are rejected too, although the
        lookup (`np.take`) would wrap them.

        # Raises
            ValueError: naming the layer, `input_dim` and an offending index.
        """
        if not int(np.prod(indices.shape)):
            return
        if isinstance(indices, np.ndarray):
            bounds = (indices.min(), indices.max())
        else:
            bounds = K.get_value(K.stack([K.min(indices), K.max(indices)]))
        # Python's int() truncates as the lookup does; NaN and infinities stay floats.
        low, high = (int(b) if np.isfinite(b) else float(b) for b in bounds)
        if not (np.isfinite(low) and np.isfinite(high)):
            offending = high if np.isfinite(low) else low
        elif low < 0 or high >= self.input_dim:
            offending = low if low < 0 else high
        else:
            return
        raise ValueError('Embedding layer %s: indices must be in [0, %d) (input_dim=%d), but the '
                         'input holds %s.' % (self.name, self.input_dim, self.input_dim, offending))

    def get_config(self):
        config = dict(super(Embedding, self).get_config())
        config.update({
            'input_dim': self.input_dim,
            'output_dim': self.output_dim,
            'embeddings_initializer': initializers.serialize(self.embeddings_initializer),
            'embeddings_regularizer': regularizers.serialize(self.embeddings_regularizer),
            'activity_regularizer': regularizers.serialize(self.activity_regularizer),
            'embeddings_constraint': constraints.serialize(self.embeddings_constraint),
            'mask_zero': self.mask_zero,
            'input_length': self.input_length})
        return config
