"""All layers, importable as `from refkeras.layers import Dense, ...` (Keras 2.2.4 names)."""
from refkeras.engine.base_layer import InputSpec, Layer  # noqa: F401
from refkeras.engine.input_layer import Input, InputLayer  # noqa: F401
from refkeras.layers.core import (Activation, ActivityRegularization, Dense,  # noqa: F401
                                  Dropout, Flatten, Lambda, Masking, Permute, RepeatVector,
                                  Reshape)
from refkeras.layers.merge import (Add, Average, Concatenate, Dot, Maximum,  # noqa: F401
                                   Minimum, Multiply, Subtract, add, average, concatenate, dot,
                                   maximum, minimum, multiply, subtract)
from refkeras.layers.advanced_activations import (ELU, LeakyReLU, PReLU, ReLU,  # noqa: F401
                                                  Softmax, ThresholdedReLU)
from refkeras.layers.convolutional import (Conv1D, Conv2D, Conv2DTranspose, Conv3D,  # noqa: F401
                                           Conv3DTranspose, Convolution1D, Convolution2D,
                                           Convolution3D, Convolution2DTranspose, Cropping1D,
                                           Cropping2D, Cropping3D, Deconv2D, Deconv3D,
                                           Deconvolution2D, Deconvolution3D, DepthwiseConv2D,
                                           SeparableConv1D, SeparableConv2D,
                                           SeparableConvolution1D, SeparableConvolution2D,
                                           UpSampling1D, UpSampling2D, UpSampling3D,
                                           ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
from refkeras.layers.core_spatial import (SpatialDropout1D, SpatialDropout2D,  # noqa: F401
                                          SpatialDropout3D)
from refkeras.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise  # noqa: F401
from refkeras.layers.normalization import BatchNormalization  # noqa: F401
from refkeras.layers.pooling import (AveragePooling1D, AveragePooling2D,  # noqa: F401
                                     AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
                                     GlobalAveragePooling1D, GlobalAveragePooling2D,
                                     GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D,
                                     GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D,
                                     GlobalMaxPool3D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                                     GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D,
                                     MaxPooling1D, MaxPooling2D, MaxPooling3D)
from refkeras.layers.embeddings import Embedding  # noqa: F401
from refkeras.layers.recurrent import (GRU, GRUCell, LSTM, LSTMCell, RNN,  # noqa: F401
                                       SimpleRNN, SimpleRNNCell, StackedRNNCells)
from refkeras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: F401
from refkeras.legacy.layers import (AtrousConvolution1D, AtrousConvolution2D,  # noqa: F401
                                    Highway, MaxoutDense, Recurrent)
from refkeras.utils.generic_utils import deserialize_keras_object, serialize_keras_object


def serialize(layer):
    """`{'class_name': ..., 'config': ...}` for a layer (or model)."""
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """Rebuilds a layer (or model) from `serialize`'s output.

    # Arguments
        config: `{'class_name': ..., 'config': ...}`.
        custom_objects: optional dict of custom layer classes (and functions
            they use) by name.

    # Returns
        A layer, or a `Model` / `Sequential`.

    # Raises
        ValueError: for an unknown class name, saying how to pass custom objects.
    """
    from refkeras.engine.sequential import Sequential
    from refkeras.engine.training import Model
    objects = {name: obj for name, obj in globals().items()
               if isinstance(obj, type) and issubclass(obj, Layer)}
    objects['Model'] = Model
    objects['Sequential'] = Sequential
    return deserialize_keras_object(config, module_objects=objects,
                                    custom_objects=custom_objects, printable_module_name='layer')
