"""Xception (FAQ: "How can I use pre-trained models in Keras?").

Reference: Chollet, "Xception: Deep Learning with Depthwise Separable
Convolutions", https://arxiv.org/abs/1610.02357

An entry flow (two convolutions, then three blocks of separable convolutions
that halve the image, each added to a strided 1x1 projection of its input),
a middle flow (8 blocks of three 728-filter separable convolutions added to
their input) and an exit flow. 22,910,480 parameters with the classifier.
Images: 299x299 RGB, prepared with `preprocess_input` ('tf' mode).

Xception exists only in the 'channels_last' data format: with
'channels_first' configured it warns and builds a channels_last model (the
configured format is restored afterwards).
"""
from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Activation, BatchNormalization, Conv2D, Dense,
                             GlobalAveragePooling2D, MaxPooling2D, SeparableConv2D, add)

TF_WEIGHTS_PATH = ('https://github.com/fchollet/deep-learning-models/'
                   'releases/download/v0.4/'
                   'xception_weights_tf_dim_ordering_tf_kernels.h5')
TF_WEIGHTS_PATH_NO_TOP = ('https://github.com/fchollet/deep-learning-models/'
                          'releases/download/v0.4/'
                          'xception_weights_tf_dim_ordering_tf_kernels_notop.h5')
# {include_top: (file name in <Keras dir>/models, URL, md5)}
WEIGHTS_FILES = {
    True: ('xception_weights_tf_dim_ordering_tf_kernels.h5', TF_WEIGHTS_PATH,
           '0a58e3b7378bc2990ea3b43d5981f1f6'),
    False: ('xception_weights_tf_dim_ordering_tf_kernels_notop.h5', TF_WEIGHTS_PATH_NO_TOP,
            'b0042744bf5b25fce3cb969f33bebb97'),
}


def _projection(x, filters):
    """The shortcut of a downsampling block: strided 1x1 convolution and batch
    normalization (automatic layer names, as in Keras)."""
    shortcut = Conv2D(filters, (1, 1), strides=(2, 2), padding='same', use_bias=False)(x)
    return BatchNormalization()(shortcut)


def _separable_bn(x, filters, name):
    """Separable 3x3 convolution `<name>` (no bias) and its batch normalization `<name>_bn`."""
    x = SeparableConv2D(filters, (3, 3), padding='same', use_bias=False, name=name)(x)
    return BatchNormalization(name=name + '_bn')(x)


def _downsampling_block(x, filters, block, relu_first=True):
    """An entry/exit-flow block: [ReLU] sepconv, BN, ReLU, sepconv, BN, max
    pooling (stride 2), plus the projection of the block's input.

    # Arguments
        filters: `(first, second)` separable convolution filters.
        block: the block number (`block<n>_...` layer names).
        relu_first: whether the block starts with a ReLU (all but block 2).
    """
    prefix = 'block%d' % block
    residual = _projection(x, filters[1])
    if relu_first:
        x = Activation('relu', name=prefix + '_sepconv1_act')(x)
    x = _separable_bn(x, filters[0], prefix + '_sepconv1')
    x = Activation('relu', name=prefix + '_sepconv2_act')(x)
    x = _separable_bn(x, filters[1], prefix + '_sepconv2')
    x = MaxPooling2D((3, 3), strides=(2, 2), padding='same', name=prefix + '_pool')(x)
    return add([x, residual])


def _middle_block(x, block):
    """A middle-flow block: three (ReLU, 728-filter sepconv, BN), added to its input."""
    residual = x
    prefix = 'block%d' % block
    for conv in (1, 2, 3):
        x = Activation('relu', name='%s_sepconv%d_act' % (prefix, conv))(x)
        x = _separable_bn(x, 728, '%s_sepconv%d' % (prefix, conv))
    return add([x, residual])


def Xception(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             pooling=None, classes=1000):
    """The Xception model, optionally with weights pre-trained on ImageNet.

    Always built in the 'channels_last' data format (see the module docstring).

    # Arguments
        include_top: whether to include the classifier (global average
            pooling `avg_pool` and the dense layer `predictions`).
        weights: None (random initialization), 'imagenet' (pre-trained
            weights, downloaded once into `<Keras dir>/models/`) or the path
            of a weights file to load.
        input_tensor: optional tensor (e.g. from `Input()`) to build the model on.
        input_shape: optional shape `(rows, cols, channels)` without the
            batch axis, e.g. `(299, 299, 3)`; height and width at least 71.
            Default `(None, None, 3)`.
        pooling: without the classifier, None (the last 4D feature map),
            'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named 'xception'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape` (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('Xception', weights, include_top, pooling, classes, input_tensor)
    input_shape = _obtain_input_shape(input_shape, default_size=299, min_size=71,
                                      data_format='channels_last', require_flatten=False,
                                      weights=weights)
    weights_path = None
    if weights == 'imagenet':
        weights_path = _common.pretrained_weights_file('Xception', *WEIGHTS_FILES[include_top])

    with _common.channels_last_while_building('Xception'):
        img_input = _common.image_input(input_tensor, input_shape)
        # Entry flow.
        x = Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name='block1_conv1')(img_input)
        x = BatchNormalization(name='block1_conv1_bn')(x)
        x = Activation('relu', name='block1_conv1_act')(x)
        x = Conv2D(64, (3, 3), use_bias=False, name='block1_conv2')(x)
        x = BatchNormalization(name='block1_conv2_bn')(x)
        x = Activation('relu', name='block1_conv2_act')(x)
        x = _downsampling_block(x, (128, 128), block=2, relu_first=False)
        x = _downsampling_block(x, (256, 256), block=3)
        x = _downsampling_block(x, (728, 728), block=4)
        # Middle flow.
        for block in range(5, 13):
            x = _middle_block(x, block)
        # Exit flow.
        x = _downsampling_block(x, (728, 1024), block=13)
        x = SeparableConv2D(1536, (3, 3), padding='same', use_bias=False,
                            name='block14_sepconv1')(x)
        x = BatchNormalization(name='block14_sepconv1_bn')(x)
        x = Activation('relu', name='block14_sepconv1_act')(x)
        x = SeparableConv2D(2048, (3, 3), padding='same', use_bias=False,
                            name='block14_sepconv2')(x)
        x = BatchNormalization(name='block14_sepconv2_bn')(x)
        x = Activation('relu', name='block14_sepconv2_act')(x)

        if include_top:
            x = GlobalAveragePooling2D(name='avg_pool')(x)
            x = Dense(classes, activation='softmax', name='predictions')(x)
        else:
            x = _common.feature_pooling(x, pooling)
        return _common.finish_model(input_tensor, img_input, x, 'xception', weights,
                                    weights_path)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in the 'tf' mode Xception was trained
    with (`x / 127.5 - 1`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode='tf')
