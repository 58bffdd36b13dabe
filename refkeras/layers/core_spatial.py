"""SpatialDropout1D/2D/3D: Dropout of whole feature maps (Keras 2.2.4 has them in `core`).

In convolutional networks neighbouring values of one feature map are strongly
correlated, so dropping single values regularizes little; these layers drop
entire channels instead (one keep/drop draw per sample and channel), in
training only.
"""
from refkeras import backend as K
from refkeras.engine.base_layer import InputSpec
from refkeras.layers.spatial_utils import checked
from refkeras.layers.core import Dropout
from refkeras.legacy import interfaces


class SpatialDropout1D(Dropout):
    """Drops whole channels of `(batch, steps, channels)` data with probability `rate`."""

    @interfaces.legacy_spatialdropout1d_support
    def __init__(self, rate, **kwargs):
        super(SpatialDropout1D, self).__init__(rate, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _get_noise_shape(self, inputs):
        shape = K.int_shape(inputs)
        return (shape[0], 1, shape[2])


class _SpatialDropoutND(Dropout):
    rank = None

    @interfaces.legacy_spatialdropoutNd_support
    def __init__(self, rate, data_format=None, **kwargs):
        super(_SpatialDropoutND, self).__init__(rate, **kwargs)
        self.data_format = checked(self, K.normalize_data_format, data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _get_noise_shape(self, inputs):
        shape = K.int_shape(inputs)
        if self.data_format == 'channels_first':
            return (shape[0], shape[1]) + (1,) * self.rank
        return (shape[0],) + (1,) * self.rank + (shape[-1],)

    def get_config(self):
        # Keras 2.2.4 did not save `data_format`, so a loaded layer fell back
        # to the default; refkeras keeps it.
        config = dict(super(_SpatialDropoutND, self).get_config())
        config['data_format'] = self.data_format
        return config


class SpatialDropout2D(_SpatialDropoutND):
    """Drops whole feature maps of images with probability `rate`.

    # Arguments
        rate: float in [0, 1].
        data_format: 'channels_last' or 'channels_first' (None: the default).
    """
    rank = 2


class SpatialDropout3D(_SpatialDropoutND):
    """Drops whole feature maps of volumes with probability `rate` (see SpatialDropout2D)."""
    rank = 3
