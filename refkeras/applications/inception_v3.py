"""InceptionV3 (FAQ: "How can I use pre-trained models in Keras?").

Reference: Szegedy et al., "Rethinking the Inception Architecture for
Computer Vision", http://arxiv.org/abs/1512.00567

A stem of plain convolutions, then 11 "mixed" modules (`mixed0` ...
`mixed10`), each the concatenation along the channels of parallel branches
(1x1 convolutions, factorised 5x5/7x7/3x3 convolutions, a pooling). Every
convolution is a `_conv_bn`: convolution without bias, batch normalization
without scale, ReLU. 23,851,784 parameters with the classifier. Images:
299x299 RGB, prepared with `preprocess_input` ('tf' mode: scaled to [-1, 1]).

As in Keras 2.2.4, the input size stays free (`(None, None, 3)`) unless
`input_shape` is given, even with the classifier, whose global average
pooling takes any size.
"""
from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense,
                             GlobalAveragePooling2D, MaxPooling2D, concatenate)

WEIGHTS_PATH = ('https://github.com/fchollet/deep-learning-models/'
                'releases/download/v0.5/'
                'inception_v3_weights_tf_dim_ordering_tf_kernels.h5')
WEIGHTS_PATH_NO_TOP = ('https://github.com/fchollet/deep-learning-models/'
                       'releases/download/v0.5/'
                       'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5')
# {include_top: (file name in <Keras dir>/models, URL, md5)}
WEIGHTS_FILES = {
    True: ('inception_v3_weights_tf_dim_ordering_tf_kernels.h5', WEIGHTS_PATH,
           '9a0d58056eeedaa3f26cb7ebd46da564'),
    False: ('inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5', WEIGHTS_PATH_NO_TOP,
            'bcbd6486424b2319ff4ef7d526e38f63'),
}


def _conv_bn(x, filters, num_row, num_col, padding='same', strides=(1, 1), name=None):
    """Convolution (no bias), batch normalization (no scale), ReLU.

    With a `name`, the layers are `<name>_conv`, `<name>_bn` and `<name>`;
    without one they get automatic names (`conv2d_1`, ...), as in Keras.
    """
    x = Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
               name=None if name is None else name + '_conv')(x)
    x = BatchNormalization(axis=_common.channel_axis(), scale=False,
                           name=None if name is None else name + '_bn')(x)
    return Activation('relu', name=name)(x)


def _pooled_branch(x, filters):
    """3x3 average pooling (stride 1) followed by a 1x1 `_conv_bn`."""
    branch = AveragePooling2D((3, 3), strides=(1, 1), padding='same')(x)
    return _conv_bn(branch, filters, 1, 1)


def _module_35x35(x, pool_filters, name):
    """mixed0-2: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | pool -> 1x1."""
    branch1x1 = _conv_bn(x, 64, 1, 1)
    branch5x5 = _conv_bn(x, 48, 1, 1)
    branch5x5 = _conv_bn(branch5x5, 64, 5, 5)
    branch3x3dbl = _conv_bn(x, 64, 1, 1)
    branch3x3dbl = _conv_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = _conv_bn(branch3x3dbl, 96, 3, 3)
    branch_pool = _pooled_branch(x, pool_filters)
    return concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool],
                       axis=_common.channel_axis(), name=name)


def _reduction_35_to_17(x):
    """mixed3: 3x3 stride 2 | 1x1 -> 3x3 -> 3x3 stride 2 | max pooling."""
    branch3x3 = _conv_bn(x, 384, 3, 3, strides=(2, 2), padding='valid')
    branch3x3dbl = _conv_bn(x, 64, 1, 1)
    branch3x3dbl = _conv_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = _conv_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding='valid')
    branch_pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
    return concatenate([branch3x3, branch3x3dbl, branch_pool], axis=_common.channel_axis(),
                       name='mixed3')


def _module_17x17(x, filters_7x7, name):
    """mixed4-7: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | pool -> 1x1."""
    branch1x1 = _conv_bn(x, 192, 1, 1)
    branch7x7 = _conv_bn(x, filters_7x7, 1, 1)
    branch7x7 = _conv_bn(branch7x7, filters_7x7, 1, 7)
    branch7x7 = _conv_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = _conv_bn(x, filters_7x7, 1, 1)
    branch7x7dbl = _conv_bn(branch7x7dbl, filters_7x7, 7, 1)
    branch7x7dbl = _conv_bn(branch7x7dbl, filters_7x7, 1, 7)
    branch7x7dbl = _conv_bn(branch7x7dbl, filters_7x7, 7, 1)
    branch7x7dbl = _conv_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = _pooled_branch(x, 192)
    return concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool],
                       axis=_common.channel_axis(), name=name)


def _reduction_17_to_8(x):
    """mixed8: 1x1 -> 3x3 stride 2 | 1x1 -> 1x7 -> 7x1 -> 3x3 stride 2 | max pooling."""
    branch3x3 = _conv_bn(x, 192, 1, 1)
    branch3x3 = _conv_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding='valid')
    branch7x7x3 = _conv_bn(x, 192, 1, 1)
    branch7x7x3 = _conv_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = _conv_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = _conv_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding='valid')
    branch_pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
    return concatenate([branch3x3, branch7x7x3, branch_pool], axis=_common.channel_axis(),
                       name='mixed8')


def _module_8x8(x, index):
    """mixed9-10: 1x1 | 1x1 -> (1x3 | 3x1) | 1x1 -> 3x3 -> (1x3 | 3x1) | pool -> 1x1."""
    axis = _common.channel_axis()
    branch1x1 = _conv_bn(x, 320, 1, 1)
    branch3x3 = _conv_bn(x, 384, 1, 1)
    branch3x3 = concatenate([_conv_bn(branch3x3, 384, 1, 3), _conv_bn(branch3x3, 384, 3, 1)],
                            axis=axis, name='mixed9_%d' % index)
    branch3x3dbl = _conv_bn(x, 448, 1, 1)
    branch3x3dbl = _conv_bn(branch3x3dbl, 384, 3, 3)
    branch3x3dbl = concatenate([_conv_bn(branch3x3dbl, 384, 1, 3),
                                _conv_bn(branch3x3dbl, 384, 3, 1)], axis=axis)
    branch_pool = _pooled_branch(x, 192)
    return concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=axis,
                       name='mixed%d' % (9 + index))


def InceptionV3(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                pooling=None, classes=1000):
    """The Inception v3 model, optionally with weights pre-trained on ImageNet.

    The layers follow the configured image data format (keras.json).

    # Arguments
        include_top: whether to include the classifier (global average
            pooling `avg_pool` and the dense layer `predictions`).
        weights: None (random initialization), 'imagenet' (pre-trained
            weights, downloaded once into `<Keras dir>/models/`) or the path
            of a weights file to load.
        input_tensor: optional tensor (e.g. from `Input()`) to build the model on.
        input_shape: optional shape without the batch axis, e.g.
            `(299, 299, 3)`; height and width at least 75. Default
            `(None, None, 3)` (`(3, None, None)` for channels_first).
        pooling: without the classifier, None (the last 4D feature map),
            'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named 'inception_v3'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape` (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('InceptionV3', weights, include_top, pooling, classes,
                            input_tensor)
    input_shape = _obtain_input_shape(input_shape, default_size=299, min_size=75,
                                      data_format=K.image_data_format(),
                                      require_flatten=False, weights=weights)
    weights_path = None
    if weights == 'imagenet':
        weights_path = _common.pretrained_weights_file('InceptionV3',
                                                       *WEIGHTS_FILES[include_top])

    img_input = _common.image_input(input_tensor, input_shape)
    x = _conv_bn(img_input, 32, 3, 3, strides=(2, 2), padding='valid')
    x = _conv_bn(x, 32, 3, 3, padding='valid')
    x = _conv_bn(x, 64, 3, 3)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _conv_bn(x, 80, 1, 1, padding='valid')
    x = _conv_bn(x, 192, 3, 3, padding='valid')
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)

    x = _module_35x35(x, 32, 'mixed0')
    x = _module_35x35(x, 64, 'mixed1')
    x = _module_35x35(x, 64, 'mixed2')
    x = _reduction_35_to_17(x)
    x = _module_17x17(x, 128, 'mixed4')
    x = _module_17x17(x, 160, 'mixed5')
    x = _module_17x17(x, 160, 'mixed6')
    x = _module_17x17(x, 192, 'mixed7')
    x = _reduction_17_to_8(x)
    x = _module_8x8(x, 0)
    x = _module_8x8(x, 1)

    if include_top:
        x = GlobalAveragePooling2D(name='avg_pool')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    else:
        x = _common.feature_pooling(x, pooling)
    return _common.finish_model(input_tensor, img_input, x, 'inception_v3', weights,
                                weights_path)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in the 'tf' mode InceptionV3 was trained
    with (`x / 127.5 - 1`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode='tf')
