"""MobileNet v2 (Keras 2.2.4's `keras.applications.mobilenet_v2`).

Reference: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", https://arxiv.org/abs/1801.04381

A strided 3x3 convolution, then 17 inverted residual blocks, then a 1x1
convolution to 1280 channels. An inverted residual block expands its input
to `expansion` times the channels with a 1x1 convolution (batch
normalization, ReLU6), filters it with a 3x3 depthwise convolution (batch
normalization, ReLU6) and projects it back with a linear 1x1 convolution
(batch normalization, no activation); when input and output have the same
shape, the input is added. The first block has no expansion. `alpha` scales
every block's output channels (rounded to a multiple of 8); the last
convolution keeps 1280 channels for `alpha <= 1`. The classifier: global
average pooling and a softmax `Dense` named 'Logits'. 3,538,984 parameters
for alpha=1 with the classifier (Keras 2.2.4's documentation).

A strided convolution pads explicitly (`correct_pad`: one pixel fewer at the
top and left for an even size) and convolves with 'valid' padding, as the
TensorFlow original did. Images: RGB prepared with `preprocess_input`
(`x / 128 - 1`, Keras 2.2.4's rule for this model). ImageNet weights exist
for alpha in 0.35, 0.5, 0.75, 1.0, 1.3, 1.4 at 96, 128, 160, 192 and 224
pixels.

MobileNetV2 exists only in the 'channels_last' data format: with
'channels_first' configured it warns and builds a channels_last model (the
configured format is restored afterwards); `input_shape` is always read as
`(rows, cols, channels)`.
"""
import warnings

import numpy as np

from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Add, BatchNormalization, Conv2D, Dense, DepthwiseConv2D,
                             GlobalAveragePooling2D, ReLU, ZeroPadding2D)

BASE_WEIGHT_PATH = ('https://github.com/JonathanCMitchell/mobilenet_v2_keras/'
                    'releases/download/v1.1/')

IMAGENET_SIZES = (96, 128, 160, 192, 224)
IMAGENET_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)

# (output channels before alpha, stride, expansion) of the 17 blocks, block_id 0..16.
BLOCKS = (
    (16, 1, 1),
    (24, 2, 6), (24, 1, 6),
    (32, 2, 6), (32, 1, 6), (32, 1, 6),
    (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
    (96, 1, 6), (96, 1, 6), (96, 1, 6),
    (160, 2, 6), (160, 1, 6), (160, 1, 6),
    (320, 1, 6),
)
BN = dict(epsilon=1e-3, momentum=0.999)


def make_divisible(value, divisor=8):
    """`value` rounded to the nearest multiple of `divisor` (at least
    `divisor`), rounded up once more when rounding lost more than 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def correct_pad(inputs, kernel_size):
    """The `((top, bottom), (left, right))` zero padding before a stride-2
    'valid' convolution of a `(rows, cols, channels)` input: `kernel_size //
    2` on each side, one less at the top/left for an even (or unknown) size."""
    rows, cols = K.int_shape(inputs)[1:3]
    half = kernel_size // 2
    top = half - (1 if rows is None else 1 - rows % 2)
    left = half - (1 if cols is None else 1 - cols % 2)
    return ((top, half), (left, half))


def _bn(x, name):
    return BatchNormalization(name=name, **BN)(x)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """Block `block_id`: layers `block_<id>_expand/_expand_BN/_expand_relu/
    _pad/_depthwise/_depthwise_BN/_depthwise_relu/_project/_project_BN/_add`
    (block 0 is named `expanded_conv_...` and has no expansion)."""
    in_channels = K.int_shape(inputs)[-1]
    out_channels = make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = 'block_%d_' % block_id
        x = Conv2D(expansion * in_channels, 1, padding='same', use_bias=False,
                   name=prefix + 'expand')(x)
        x = _bn(x, prefix + 'expand_BN')
        x = ReLU(6., name=prefix + 'expand_relu')(x)
    else:
        prefix = 'expanded_conv_'
    if stride == 2:
        x = ZeroPadding2D(padding=correct_pad(x, 3), name=prefix + 'pad')(x)
    x = DepthwiseConv2D(3, strides=stride, use_bias=False,
                        padding='same' if stride == 1 else 'valid',
                        name=prefix + 'depthwise')(x)
    x = _bn(x, prefix + 'depthwise_BN')
    x = ReLU(6., name=prefix + 'depthwise_relu')(x)
    x = Conv2D(out_channels, 1, padding='same', use_bias=False, name=prefix + 'project')(x)
    x = _bn(x, prefix + 'project_BN')
    if in_channels == out_channels and stride == 1:
        return Add(name=prefix + 'add')([inputs, x])
    return x


def _input_rows(input_shape, input_tensor, include_top, weights, alpha, depth_multiplier):
    """The checked `input_shape` (channels_last) and the image size the
    ImageNet weights file is chosen by."""
    if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
        raise ValueError('MobileNetV2: `depth_multiplier` must be a positive integer; '
                         'received %r.' % (depth_multiplier,))
    if input_shape is None and input_tensor is not None and K.is_keras_tensor(input_tensor):
        shape = K.int_shape(input_tensor)
        if len(shape) == 4:
            input_shape = tuple(shape[1:])
    default_size = 224
    if input_shape is not None and len(input_shape) == 3:
        if input_shape[0] == input_shape[1] and input_shape[0] in IMAGENET_SIZES:
            default_size = input_shape[0]
    input_shape = _obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                      data_format='channels_last',
                                      require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == 'imagenet':
        if depth_multiplier != 1:
            raise ValueError('MobileNetV2: ImageNet weights exist only for depth_multiplier=1; '
                             'received %r.' % (depth_multiplier,))
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError('MobileNetV2: ImageNet weights exist only for alpha in 0.35, 0.50, '
                             '0.75, 1.0, 1.3 or 1.4; received %r.' % (alpha,))
        if rows != cols or rows not in IMAGENET_SIZES:
            if rows is None:
                rows = 224
                warnings.warn('MobileNetV2 shape is undefined. Weights for input shape '
                              '(224, 224) will be loaded.')
            else:
                raise ValueError('MobileNetV2: ImageNet weights need a static square input of '
                                 '96, 128, 160, 192 or 224 pixels; received input_shape=%s.'
                                 % (input_shape,))
    return input_shape, rows


def weights_file_name(alpha, rows, include_top):
    """Keras 2.2.4's name of the ImageNet weights file (alpha as `str(float)`)."""
    suffix = '' if include_top else '_no_top'
    return 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_%s_%s%s.h5' % (
        str(float(alpha)), rows, suffix)


def MobileNetV2(input_shape=None, alpha=1.0, depth_multiplier=1, include_top=True,
                weights='imagenet', input_tensor=None, pooling=None, classes=1000):
    """The MobileNetV2 model, optionally with weights pre-trained on ImageNet.

    Always built in the 'channels_last' data format (see the module docstring).

    # Arguments
        input_shape: optional shape `(rows, cols, channels)` without the
            batch axis, at least 32 pixels; by default taken from a Keras
            `input_tensor`, else `(224, 224, 3)` with the classifier and
            `(None, None, 3)` without.
        alpha: width multiplier of every block's output channels.
        depth_multiplier: accepted for Keras's signature; the depthwise
            convolutions of MobileNetV2 always have one output per channel,
            as in Keras 2.2.4 (which also ignored it while building). Only 1
            is allowed with ImageNet weights.
        include_top: whether to include the classifier.
        weights: None, 'imagenet' or the path of a weights file.
        input_tensor: optional tensor to build the model on.
        pooling: without the classifier, None, 'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named `'mobilenetv2_<alpha:.2f>_<rows>'`, e.g. 'mobilenetv2_1.00_224'.

    # Raises
        ValueError: for invalid arguments, and with ImageNet weights for an
            `alpha`, `depth_multiplier` or image size they do not exist for
            (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('MobileNetV2', weights, include_top, pooling, classes, input_tensor)
    input_shape, rows = _input_rows(input_shape, input_tensor, include_top, weights, alpha,
                                    depth_multiplier)
    weights_path = None
    if weights == 'imagenet':
        file_name = weights_file_name(alpha, rows, include_top)
        # Keras publishes no hash for these files.
        weights_path = _common.pretrained_weights_file('MobileNetV2', file_name,
                                                       BASE_WEIGHT_PATH + file_name)

    with _common.channels_last_while_building('MobileNetV2'):
        img_input = _common.image_input(input_tensor, input_shape)
        x = ZeroPadding2D(padding=correct_pad(img_input, 3), name='Conv1_pad')(img_input)
        x = Conv2D(make_divisible(32 * alpha, 8), 3, strides=(2, 2), padding='valid',
                   use_bias=False, name='Conv1')(x)
        x = _bn(x, 'bn_Conv1')
        x = ReLU(6., name='Conv1_relu')(x)
        for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
            x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
        last_channels = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
        x = Conv2D(last_channels, 1, use_bias=False, name='Conv_1')(x)
        x = _bn(x, 'Conv_1_bn')
        x = ReLU(6., name='out_relu')(x)
        if include_top:
            x = GlobalAveragePooling2D()(x)
            x = Dense(classes, activation='softmax', use_bias=True, name='Logits')(x)
        else:
            x = _common.feature_pooling(x, pooling)
        return _common.finish_model(input_tensor, img_input, x,
                                    'mobilenetv2_%0.2f_%s' % (alpha, rows), weights,
                                    weights_path)


def preprocess_input(x, data_format=None):
    """Scales RGB values from [0, 255] to [-1, 1) as `x / 128 - 1` (Keras
    2.2.4's MobileNetV2 rule, not `imagenet_utils`' 'tf' mode `x / 127.5 - 1`).

    # Arguments
        x: array of images (any layout: the rule is the same for every value).
        data_format: accepted for the common signature; unused.

    # Returns
        A new float32 array (Keras changed a float input in place; this
        never changes `x`).
    """
    return (np.asarray(x, dtype=np.float64) / 128. - 1.).astype(np.float32)
