"""MobileNet v1 (FAQ: "How can I use pre-trained models in Keras?").

Reference: Howard et al., "MobileNets: Efficient Convolutional Neural
Networks for Mobile Vision Applications", https://arxiv.org/abs/1704.04861

A strided 3x3 convolution, then 13 depthwise separable blocks (a 3x3
depthwise convolution and a 1x1 "pointwise" convolution, each followed by
batch normalization and ReLU6). `alpha` scales the number of filters of every
layer, `depth_multiplier` the depthwise convolutions' outputs per channel.
The classifier is global average pooling, dropout and a 1x1 convolution
followed by softmax. 4,253,864 parameters for alpha=1 with the classifier.
Images: RGB, prepared with `preprocess_input` ('tf' mode); ImageNet weights
exist for alpha in {0.25, 0.5, 0.75, 1.0} at 128, 160, 192 and 224 pixels.

MobileNet exists only in the 'channels_last' data format: with
'channels_first' configured it warns and builds a channels_last model (the
configured format is restored afterwards). Keras 2.2.4 checked `input_shape`
in the configured format before switching, so a channels_first
configuration produced a model with a meaningless input shape; here
`input_shape` is always read as `(rows, cols, channels)`.
"""
import warnings

from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Activation, BatchNormalization, Conv2D, DepthwiseConv2D, Dropout,
                             GlobalAveragePooling2D, ReLU, Reshape, ZeroPadding2D)

BASE_WEIGHT_PATH = ('https://github.com/fchollet/deep-learning-models/'
                    'releases/download/v0.6/')

# The sizes and widths ImageNet weights were published for.
IMAGENET_SIZES = (128, 160, 192, 224)
IMAGENET_ALPHAS = (0.25, 0.50, 0.75, 1.0)
# How alpha is written in the weight file names.
ALPHA_TEXT = {1.0: '1_0', 0.75: '7_5', 0.50: '5_0', 0.25: '2_5'}

# (pointwise filters before alpha, strides) of the 13 depthwise separable blocks.
BLOCKS = (
    (64, (1, 1)),
    (128, (2, 2)), (128, (1, 1)),
    (256, (2, 2)), (256, (1, 1)),
    (512, (2, 2)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)), (512, (1, 1)),
    (1024, (2, 2)), (1024, (1, 1)),
)


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The first layer: padding, convolution (`conv1`, no bias), batch
    normalization and ReLU6, with `int(filters * alpha)` filters."""
    filters = int(filters * alpha)
    x = ZeroPadding2D(padding=((0, 1), (0, 1)), name='conv1_pad')(inputs)
    x = Conv2D(filters, kernel, padding='valid', use_bias=False, strides=strides,
               name='conv1')(x)
    x = BatchNormalization(axis=-1, name='conv1_bn')(x)
    return ReLU(6., name='conv1_relu')(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1,
                          strides=(1, 1), block_id=1):
    """A depthwise separable block `block_id`: depthwise 3x3 convolution,
    batch normalization, ReLU6, pointwise 1x1 convolution with
    `int(pointwise_conv_filters * alpha)` filters, batch normalization, ReLU6.

    A strided block pads the bottom and right by one (`conv_pad_<id>`) and
    convolves with 'valid' padding, as the TensorFlow originals did.
    """
    pointwise_conv_filters = int(pointwise_conv_filters * alpha)
    if strides == (1, 1):
        x = inputs
    else:
        x = ZeroPadding2D(((0, 1), (0, 1)), name='conv_pad_%d' % block_id)(inputs)
    x = DepthwiseConv2D((3, 3), padding='same' if strides == (1, 1) else 'valid',
                        depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                        name='conv_dw_%d' % block_id)(x)
    x = BatchNormalization(axis=-1, name='conv_dw_%d_bn' % block_id)(x)
    x = ReLU(6., name='conv_dw_%d_relu' % block_id)(x)
    x = Conv2D(pointwise_conv_filters, (1, 1), padding='same', use_bias=False, strides=(1, 1),
               name='conv_pw_%d' % block_id)(x)
    x = BatchNormalization(axis=-1, name='conv_pw_%d_bn' % block_id)(x)
    return ReLU(6., name='conv_pw_%d_relu' % block_id)(x)


def _input_rows(input_shape, include_top, weights, alpha, depth_multiplier):
    """Checks the input shape and the ImageNet constraints.

    # Returns
        `(input_shape, rows)`: the checked shape and the image size used in
        the model name and weight file name.
    """
    if not alpha > 0:
        raise ValueError('MobileNet: `alpha` (the width multiplier) must be positive; '
                         'received %r.' % (alpha,))
    if not (isinstance(depth_multiplier, int) and depth_multiplier >= 1):
        raise ValueError('MobileNet: `depth_multiplier` must be a positive integer; '
                         'received %r.' % (depth_multiplier,))
    # A square input of a size weights exist for is its own default size.
    default_size = 224
    if input_shape is not None and len(input_shape) == 3:
        rows, cols = input_shape[0], input_shape[1]
        if rows == cols and rows in IMAGENET_SIZES:
            default_size = rows
    input_shape = _obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                      data_format='channels_last',
                                      require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == 'imagenet':
        if depth_multiplier != 1:
            raise ValueError('MobileNet: ImageNet weights exist only for depth_multiplier=1; '
                             'received %r.' % (depth_multiplier,))
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError('MobileNet: ImageNet weights exist only for alpha in 0.25, 0.50, '
                             '0.75 or 1.0; received %r.' % (alpha,))
        if rows != cols or rows not in IMAGENET_SIZES:
            if rows is None:
                rows = 224
                warnings.warn('MobileNet shape is undefined. Weights for input shape '
                              '(224, 224) will be loaded.')
            else:
                raise ValueError('MobileNet: ImageNet weights need a static square input of '
                                 '128, 160, 192 or 224 pixels; received input_shape=%s.'
                                 % (input_shape,))
    return input_shape, rows


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights='imagenet', input_tensor=None, pooling=None, classes=1000):
    """The MobileNet model, optionally with weights pre-trained on ImageNet.

    Always built in the 'channels_last' data format (see the module docstring).

    # Arguments
        input_shape: optional shape `(rows, cols, channels)` without the
            batch axis; height and width at least 32. With `include_top` and
            ImageNet weights: `(224, 224, 3)`, or a square of 128, 160 or
            192 pixels. Default `(224, 224, 3)` with the classifier,
            `(None, None, 3)` without.
        alpha: width multiplier: every layer has `int(filters * alpha)`
            filters (<1 thinner, >1 wider).
        depth_multiplier: outputs per channel of the depthwise convolutions
            (called the resolution multiplier in the paper).
        dropout: dropout rate before the classifier's convolution.
        include_top: whether to include the classifier.
        weights: None (random initialization), 'imagenet' (pre-trained
            weights, downloaded once into `<Keras dir>/models/`) or the path
            of a weights file to load.
        input_tensor: optional tensor (e.g. from `Input()`) to build the model on.
        pooling: without the classifier, None (the last 4D feature map),
            'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named `'mobilenet_<alpha:.2f>_<rows>'`, e.g. 'mobilenet_1.00_224'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape`, and with ImageNet weights for an
            `alpha`, `depth_multiplier` or image size they do not exist for
            (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('MobileNet', weights, include_top, pooling, classes, input_tensor)
    input_shape, rows = _input_rows(input_shape, include_top, weights, alpha, depth_multiplier)
    weights_path = None
    if weights == 'imagenet':
        suffix = 'tf.h5' if include_top else 'tf_no_top.h5'
        file_name = 'mobilenet_%s_%d_%s' % (ALPHA_TEXT[alpha], rows, suffix)
        # Keras publishes no hash for these files.
        weights_path = _common.pretrained_weights_file('MobileNet', file_name,
                                                       BASE_WEIGHT_PATH + file_name)

    with _common.channels_last_while_building('MobileNet'):
        img_input = _common.image_input(input_tensor, input_shape)
        x = _conv_block(img_input, 32, alpha, strides=(2, 2))
        for block_id, (filters, strides) in enumerate(BLOCKS, start=1):
            x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=strides,
                                      block_id=block_id)

        if include_top:
            x = GlobalAveragePooling2D()(x)
            x = Reshape((1, 1, int(1024 * alpha)), name='reshape_1')(x)
            x = Dropout(dropout, name='dropout')(x)
            x = Conv2D(classes, (1, 1), padding='same', name='conv_preds')(x)
            x = Activation('softmax', name='act_softmax')(x)
            x = Reshape((classes,), name='reshape_2')(x)
        else:
            x = _common.feature_pooling(x, pooling)
        return _common.finish_model(input_tensor, img_input, x,
                                    'mobilenet_%0.2f_%s' % (alpha, rows), weights, weights_path)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in the 'tf' mode MobileNet was trained
    with (`x / 127.5 - 1`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode='tf')
