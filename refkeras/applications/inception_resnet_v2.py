"""InceptionResNetV2 (FAQ: "How can I use pre-trained models in Keras?").

Reference: Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", https://arxiv.org/abs/1602.07261. Layer
names and filter counts follow TF-slim's implementation, from which the
ImageNet weights were converted (as in Keras).

A stem, an Inception-A module (`mixed_5b`), 10 residual `block35` blocks, a
reduction (`mixed_6a`), 20 `block17` blocks, a reduction (`mixed_7a`), 10
`block8` blocks and a 1x1 convolution (`conv_7b`). A residual block adds
`scale * r` to its input, where `r` is a 1x1 convolution (with bias) of the
concatenated branches. 55,873,736 parameters with the classifier. Images:
299x299 RGB, prepared with `preprocess_input` ('tf' mode).

Difference from Keras 2.2.4: the residual sum is the named function
`scaled_residual` in a `Lambda` layer (Keras used an anonymous lambda), so a
saved architecture reloads with `custom_objects={'scaled_residual':
scaled_residual}` without running bytecode from the file.
"""
from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Activation, AveragePooling2D, BatchNormalization, Concatenate,
                             Conv2D, Dense, GlobalAveragePooling2D, Lambda, MaxPooling2D)

BASE_WEIGHT_URL = ('https://github.com/fchollet/deep-learning-models/'
                   'releases/download/v0.7/')
_TOP_FILE = 'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5'
_NO_TOP_FILE = 'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5'
# {include_top: (file name in <Keras dir>/models, URL, md5)}
WEIGHTS_FILES = {
    True: (_TOP_FILE, BASE_WEIGHT_URL + _TOP_FILE, 'e693bd0210a403b3192acc6073ad2e96'),
    False: (_NO_TOP_FILE, BASE_WEIGHT_URL + _NO_TOP_FILE, 'd19885ff4a710c122648d3b5c3b684e4'),
}

BLOCK_TYPES = ('block35', 'block17', 'block8')


def _conv_bn(x, filters, kernel_size, strides=1, padding='same', activation='relu',
             use_bias=False, name=None):
    """Convolution, then (without bias) batch normalization without scale,
    then the activation.

    With a `name`, the layers are `<name>`, `<name>_bn` and `<name>_ac`.
    """
    x = Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
               name=name)(x)
    if not use_bias:
        x = BatchNormalization(axis=_common.channel_axis(), scale=False,
                               name=None if name is None else name + '_bn')(x)
    if activation is not None:
        x = Activation(activation, name=None if name is None else name + '_ac')(x)
    return x


def scaled_residual(inputs, scale):
    """`shortcut + scale * residual`, for `inputs = [shortcut, residual]`
    (the function of each residual block's `Lambda` layer)."""
    shortcut, residual = inputs
    return shortcut + residual * scale


def _residual_branches(x, block_type):
    """The parallel branches of an Inception-ResNet block of `block_type`."""
    if block_type == 'block35':
        branch_0 = _conv_bn(x, 32, 1)
        branch_1 = _conv_bn(x, 32, 1)
        branch_1 = _conv_bn(branch_1, 32, 3)
        branch_2 = _conv_bn(x, 32, 1)
        branch_2 = _conv_bn(branch_2, 48, 3)
        branch_2 = _conv_bn(branch_2, 64, 3)
        return [branch_0, branch_1, branch_2]
    if block_type == 'block17':
        branch_0 = _conv_bn(x, 192, 1)
        branch_1 = _conv_bn(x, 128, 1)
        branch_1 = _conv_bn(branch_1, 160, [1, 7])
        branch_1 = _conv_bn(branch_1, 192, [7, 1])
        return [branch_0, branch_1]
    branch_0 = _conv_bn(x, 192, 1)
    branch_1 = _conv_bn(x, 192, 1)
    branch_1 = _conv_bn(branch_1, 224, [1, 3])
    branch_1 = _conv_bn(branch_1, 256, [3, 1])
    return [branch_0, branch_1]


def inception_resnet_block(x, scale, block_type, block_idx, activation='relu'):
    """One Inception-ResNet block: `x + scale * conv1x1(concat(branches(x)))`.

    # Arguments
        x: the block's input.
        scale: the factor of the residual.
        block_type: 'block35' (Inception-ResNet-A), 'block17' (-B) or
            'block8' (-C).
        block_idx: its number; layers are named `<block_type>_<block_idx>...`.
        activation: applied at the end (None for none).

    # Raises
        ValueError: for an unknown `block_type`.
    """
    if block_type not in BLOCK_TYPES:
        raise ValueError('Unknown Inception-ResNet block type %r; expected one of %s.'
                         % (block_type, ', '.join(BLOCK_TYPES)))
    block_name = '%s_%d' % (block_type, block_idx)
    axis = _common.channel_axis()
    mixed = Concatenate(axis=axis, name=block_name + '_mixed')(_residual_branches(x, block_type))
    up = _conv_bn(mixed, K.int_shape(x)[axis], 1, activation=None, use_bias=True,
                  name=block_name + '_conv')
    x = Lambda(scaled_residual, output_shape=K.int_shape(x)[1:], arguments={'scale': scale},
               name=block_name)([x, up])
    if activation is not None:
        x = Activation(activation, name=block_name + '_ac')(x)
    return x


def InceptionResNetV2(include_top=True, weights='imagenet', input_tensor=None,
                      input_shape=None, pooling=None, classes=1000):
    """The Inception-ResNet v2 model, optionally with weights pre-trained on ImageNet.

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
        A `Model` named 'inception_resnet_v2'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape` (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('InceptionResNetV2', weights, include_top, pooling, classes,
                            input_tensor)
    input_shape = _obtain_input_shape(input_shape, default_size=299, min_size=75,
                                      data_format=K.image_data_format(),
                                      require_flatten=False, weights=weights)
    weights_path = None
    if weights == 'imagenet':
        weights_path = _common.pretrained_weights_file('InceptionResNetV2',
                                                       *WEIGHTS_FILES[include_top])

    axis = _common.channel_axis()
    img_input = _common.image_input(input_tensor, input_shape)
    # Stem.
    x = _conv_bn(img_input, 32, 3, strides=2, padding='valid')
    x = _conv_bn(x, 32, 3, padding='valid')
    x = _conv_bn(x, 64, 3)
    x = MaxPooling2D(3, strides=2)(x)
    x = _conv_bn(x, 80, 1, padding='valid')
    x = _conv_bn(x, 192, 3, padding='valid')
    x = MaxPooling2D(3, strides=2)(x)

    # Mixed 5b (Inception-A).
    branch_0 = _conv_bn(x, 96, 1)
    branch_1 = _conv_bn(x, 48, 1)
    branch_1 = _conv_bn(branch_1, 64, 5)
    branch_2 = _conv_bn(x, 64, 1)
    branch_2 = _conv_bn(branch_2, 96, 3)
    branch_2 = _conv_bn(branch_2, 96, 3)
    branch_pool = AveragePooling2D(3, strides=1, padding='same')(x)
    branch_pool = _conv_bn(branch_pool, 64, 1)
    x = Concatenate(axis=axis, name='mixed_5b')([branch_0, branch_1, branch_2, branch_pool])

    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type='block35', block_idx=block_idx)

    # Mixed 6a (Reduction-A).
    branch_0 = _conv_bn(x, 384, 3, strides=2, padding='valid')
    branch_1 = _conv_bn(x, 256, 1)
    branch_1 = _conv_bn(branch_1, 256, 3)
    branch_1 = _conv_bn(branch_1, 384, 3, strides=2, padding='valid')
    branch_pool = MaxPooling2D(3, strides=2, padding='valid')(x)
    x = Concatenate(axis=axis, name='mixed_6a')([branch_0, branch_1, branch_pool])

    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type='block17', block_idx=block_idx)

    # Mixed 7a (Reduction-B).
    branch_0 = _conv_bn(x, 256, 1)
    branch_0 = _conv_bn(branch_0, 384, 3, strides=2, padding='valid')
    branch_1 = _conv_bn(x, 256, 1)
    branch_1 = _conv_bn(branch_1, 288, 3, strides=2, padding='valid')
    branch_2 = _conv_bn(x, 256, 1)
    branch_2 = _conv_bn(branch_2, 288, 3)
    branch_2 = _conv_bn(branch_2, 320, 3, strides=2, padding='valid')
    branch_pool = MaxPooling2D(3, strides=2, padding='valid')(x)
    x = Concatenate(axis=axis, name='mixed_7a')([branch_0, branch_1, branch_2, branch_pool])

    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type='block8', block_idx=block_idx)
    # The last block has no activation and a residual scale of 1.
    x = inception_resnet_block(x, scale=1., activation=None, block_type='block8', block_idx=10)

    x = _conv_bn(x, 1536, 1, name='conv_7b')

    if include_top:
        x = GlobalAveragePooling2D(name='avg_pool')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    else:
        x = _common.feature_pooling(x, pooling)
    return _common.finish_model(input_tensor, img_input, x, 'inception_resnet_v2', weights,
                                weights_path)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in the 'tf' mode InceptionResNetV2 was
    trained with (`x / 127.5 - 1`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode='tf')
