"""ResNet50 (FAQ: "How can I use pre-trained models in Keras?").

Reference: He et al., "Deep Residual Learning for Image Recognition",
https://arxiv.org/abs/1512.03385

A 7x7 stride-2 convolution and a max pooling, then 16 bottleneck blocks in
4 stages (3, 4, 6, 3 blocks). A bottleneck is 1x1 -> 3x3 -> 1x1 convolutions,
each followed by batch normalization, added to the block's input (identity
block) or to a 1x1 projection of it (the first, "conv" block of each stage,
which also changes the size). 25,636,712 parameters with the classifier.
Images: 224x224 RGB, prepared with `preprocess_input` ('caffe' mode).

Layer names follow Keras: `conv1`, `bn_conv1`, then per block
`res<stage><block>_branch2a/2b/2c` (and `_branch1` for the projection) with
`bn<stage><block>_branch...` for their batch normalizations, and `fc1000`.
"""
import warnings

from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Activation, BatchNormalization, Conv2D, Dense,
                             GlobalAveragePooling2D, MaxPooling2D, ZeroPadding2D, add)

WEIGHTS_PATH = ('https://github.com/fchollet/deep-learning-models/'
                'releases/download/v0.2/'
                'resnet50_weights_tf_dim_ordering_tf_kernels.h5')
WEIGHTS_PATH_NO_TOP = ('https://github.com/fchollet/deep-learning-models/'
                       'releases/download/v0.2/'
                       'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5')
# {include_top: (file name in <Keras dir>/models, URL, md5)}
WEIGHTS_FILES = {
    True: ('resnet50_weights_tf_dim_ordering_tf_kernels.h5', WEIGHTS_PATH,
           'a7b3fe01876f51b976af0dea6bc144eb'),
    False: ('resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', WEIGHTS_PATH_NO_TOP,
            'a268eb855778b3df3c7506639542a6af'),
}

# (filters of the three convolutions, block letters) of each stage, from stage 2.
STAGES = (
    ((64, 64, 256), 'abc'),
    ((128, 128, 512), 'abcd'),
    ((256, 256, 1024), 'abcdef'),
    ((512, 512, 2048), 'abc'),
)


def _bottleneck(input_tensor, kernel_size, filters, stage, block, strides=None):
    """One residual block: the main path plus a shortcut, then ReLU.

    # Arguments
        input_tensor: the block's input.
        kernel_size: size of the middle convolution (3).
        filters: filters of the three convolutions of the main path.
        stage, block: the stage number and block letter, used in layer names.
        strides: None for an identity block (the shortcut is the input);
            otherwise the strides of the first convolution and of the 1x1
            projection on the shortcut (a "conv block").
    """
    bn_axis = _common.channel_axis()
    conv_name = 'res%d%s_branch' % (stage, block)
    bn_name = 'bn%d%s_branch' % (stage, block)
    filters1, filters2, filters3 = filters

    x = Conv2D(filters1, (1, 1), strides=strides or (1, 1), kernel_initializer='he_normal',
               name=conv_name + '2a')(input_tensor)
    x = BatchNormalization(axis=bn_axis, name=bn_name + '2a')(x)
    x = Activation('relu')(x)
    x = Conv2D(filters2, kernel_size, padding='same', kernel_initializer='he_normal',
               name=conv_name + '2b')(x)
    x = BatchNormalization(axis=bn_axis, name=bn_name + '2b')(x)
    x = Activation('relu')(x)
    x = Conv2D(filters3, (1, 1), kernel_initializer='he_normal', name=conv_name + '2c')(x)
    x = BatchNormalization(axis=bn_axis, name=bn_name + '2c')(x)

    if strides is None:
        shortcut = input_tensor
    else:
        shortcut = Conv2D(filters3, (1, 1), strides=strides, kernel_initializer='he_normal',
                          name=conv_name + '1')(input_tensor)
        shortcut = BatchNormalization(axis=bn_axis, name=bn_name + '1')(shortcut)
    x = add([x, shortcut])
    return Activation('relu')(x)


def ResNet50(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             pooling=None, classes=1000):
    """The ResNet50 model, optionally with weights pre-trained on ImageNet.

    The layers follow the configured image data format (keras.json).

    # Arguments
        include_top: whether to include the classifier (global average
            pooling `avg_pool` and the dense layer `fc1000`).
        weights: None (random initialization), 'imagenet' (pre-trained
            weights, downloaded once into `<Keras dir>/models/`) or the path
            of a weights file to load.
        input_tensor: optional tensor (e.g. from `Input()`) to build the model on.
        input_shape: optional shape without the batch axis. With
            `include_top` and ImageNet weights it must be `(224, 224, 3)`
            (`(3, 224, 224)` for channels_first). Height and width at least
            32 (as Keras 2.2.4's code checks; its docstring said 197).
        pooling: without the classifier, None (the last 4D feature map;
            a warning recalls that this output changed in Keras 2.2.0),
            'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named 'resnet50'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape` (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('ResNet50', weights, include_top, pooling, classes, input_tensor)
    input_shape = _obtain_input_shape(input_shape, default_size=224, min_size=32,
                                      data_format=K.image_data_format(),
                                      require_flatten=include_top, weights=weights)
    weights_path = None
    if weights == 'imagenet':
        weights_path = _common.pretrained_weights_file('ResNet50', *WEIGHTS_FILES[include_top])

    img_input = _common.image_input(input_tensor, input_shape)
    x = ZeroPadding2D(padding=(3, 3), name='conv1_pad')(img_input)
    x = Conv2D(64, (7, 7), strides=(2, 2), padding='valid', kernel_initializer='he_normal',
               name='conv1')(x)
    x = BatchNormalization(axis=_common.channel_axis(), name='bn_conv1')(x)
    x = Activation('relu')(x)
    x = ZeroPadding2D(padding=(1, 1), name='pool1_pad')(x)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)

    for stage, (filters, blocks) in enumerate(STAGES, start=2):
        # Stage 2 keeps the size (the max pooling just halved it); the others halve it.
        first_strides = (1, 1) if stage == 2 else (2, 2)
        x = _bottleneck(x, 3, filters, stage, blocks[0], strides=first_strides)
        for block in blocks[1:]:
            x = _bottleneck(x, 3, filters, stage, block)

    if include_top:
        x = GlobalAveragePooling2D(name='avg_pool')(x)
        x = Dense(classes, activation='softmax', name='fc1000')(x)
    else:
        if pooling is None:
            warnings.warn('The output shape of `ResNet50(include_top=False)` has been changed '
                          'since Keras 2.2.0: it is the last 4D feature map (use pooling='
                          "'avg' for the former 2D output).")
        x = _common.feature_pooling(x, pooling)
    return _common.finish_model(input_tensor, img_input, x, 'resnet50', weights, weights_path)


def preprocess_input(x, data_format=None, mode='caffe'):
    """`imagenet_utils.preprocess_input`, by default in the 'caffe' mode ResNet50
    was trained with (RGB -> BGR, ImageNet mean pixel subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode=mode)
