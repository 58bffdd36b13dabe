"""DenseNet-121, -169 and -201 (Keras 2.2.4's `keras.applications.densenet`).

Reference: Huang et al., "Densely Connected Convolutional Networks",
https://arxiv.org/abs/1608.06993

A 7x7 strided convolution and a 3x3 max pooling, then four dense blocks
with a transition between consecutive ones. In a dense block every
"conv block" (batch normalization, ReLU, 1x1 convolution to 128 channels,
batch normalization, ReLU, 3x3 convolution to 32 channels, the growth rate)
appends its 32 channels to its input, so a block of n conv blocks adds 32 n
channels. A transition (batch normalization, ReLU, 1x1 convolution to half
the channels, 2x2 average pooling) halves channels and size. The numbers of
conv blocks: 121 -> (6, 12, 24, 16), 169 -> (6, 12, 32, 32),
201 -> (6, 12, 48, 32), ending with 1024, 1664 and 1920 channels. The
classifier: global average pooling and a softmax `Dense`.

Images: RGB prepared with `preprocess_input` ('torch' mode: scaled to [0, 1],
then normalized per channel by the ImageNet mean and standard deviation).
Both data formats are supported. Parameters with the classifier (Keras 2.2.4's
documentation): 8,062,504, 14,307,880 and 20,242,984.
"""
from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.layers import (Activation, AveragePooling2D, BatchNormalization, Concatenate,
                             Conv2D, Dense, GlobalAveragePooling2D, GlobalMaxPooling2D,
                             MaxPooling2D, ZeroPadding2D)

BASE_WEIGHTS_PATH = ('https://github.com/keras-team/keras-applications/'
                     'releases/download/densenet/')

# Conv blocks per dense block, and the model name, of each published depth.
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}

# (file name, md5) of the ImageNet weights, with and without the classifier.
WEIGHTS_FILES = {
    (121, True): ('densenet121_weights_tf_dim_ordering_tf_kernels.h5',
                  '9d60b8095a5708f2dcce2bca79d332c7'),
    (121, False): ('densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5',
                   '30ee3e1110167f948a6b9946edeeb738'),
    (169, True): ('densenet169_weights_tf_dim_ordering_tf_kernels.h5',
                  'd699b8f76981ab1b30698df4c175e90b'),
    (169, False): ('densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5',
                   'b8c4d4c20dd625c148057b9ff1c1176b'),
    (201, True): ('densenet201_weights_tf_dim_ordering_tf_kernels.h5',
                  '1ceb130c1ea1b78c3bf6114dbdfd8807'),
    (201, False): ('densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5',
                   'c13680b51ded0fb44dff2d8f86ac8bb1'),
}

GROWTH_RATE = 32
BN_EPSILON = 1.001e-5


def _bn_relu(x, name):
    """Batch normalization (`<name>_bn`) and ReLU (`<name>_relu`)."""
    x = BatchNormalization(axis=_common.channel_axis(), epsilon=BN_EPSILON, name=name + '_bn')(x)
    return Activation('relu', name=name + '_relu')(x)


def conv_block(x, growth_rate, name):
    """One conv block: its `growth_rate` new channels concatenated to `x`.

    Layers `<name>_0_bn/_0_relu/_1_conv/_1_bn/_1_relu/_2_conv/_concat`.
    """
    new = _bn_relu(x, name + '_0')
    new = Conv2D(4 * growth_rate, 1, use_bias=False, name=name + '_1_conv')(new)
    new = _bn_relu(new, name + '_1')
    new = Conv2D(growth_rate, 3, padding='same', use_bias=False, name=name + '_2_conv')(new)
    return Concatenate(axis=_common.channel_axis(), name=name + '_concat')([x, new])


def dense_block(x, blocks, name):
    """`blocks` conv blocks named `<name>_block1`, `<name>_block2`, ..."""
    for index in range(1, blocks + 1):
        x = conv_block(x, GROWTH_RATE, name='%s_block%d' % (name, index))
    return x


def transition_block(x, reduction, name):
    """Batch normalization, ReLU, a 1x1 convolution to `reduction` times the
    channels and a 2x2 average pooling (`<name>_bn/_relu/_conv/_pool`)."""
    x = _bn_relu(x, name)
    channels = K.int_shape(x)[_common.channel_axis()]
    x = Conv2D(int(channels * reduction), 1, use_bias=False, name=name + '_conv')(x)
    return AveragePooling2D(2, strides=2, name=name + '_pool')(x)


def DenseNet(blocks, include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             pooling=None, classes=1000):
    """A DenseNet with the given numbers of conv blocks per dense block.

    # Arguments
        blocks: four integers, the conv blocks of the four dense blocks.
        include_top, weights, input_tensor, input_shape, pooling, classes:
            as `DenseNet121`. ImageNet weights exist only for the blocks of
            121, 169 and 201.

    # Returns
        A `Model` named 'densenet121', 'densenet169', 'densenet201' or
        'densenet' (other blocks).

    # Raises
        ValueError: for invalid arguments, or ImageNet weights asked for
            blocks they do not exist for (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    blocks = tuple(blocks)
    depth = {value: key for key, value in BLOCKS.items()}.get(blocks)
    model_name = 'densenet%d' % depth if depth else 'densenet'
    owner = 'DenseNet%d' % depth if depth else 'DenseNet'
    if len(blocks) != 4 or not all(isinstance(b, int) and b > 0 for b in blocks):
        raise ValueError('%s: `blocks` must be four positive integers; received %r.'
                         % (owner, blocks))
    _common.check_arguments(owner, weights, include_top, pooling, classes, input_tensor)
    if weights == 'imagenet' and depth is None:
        raise ValueError('DenseNet: ImageNet weights exist only for the blocks %s; received %r.'
                         % (sorted(BLOCKS.values()), blocks))
    input_shape = _obtain_input_shape(input_shape, default_size=224, min_size=32,
                                      data_format=K.image_data_format(),
                                      require_flatten=include_top, weights=weights)
    weights_path = None
    if weights == 'imagenet':
        file_name, file_hash = WEIGHTS_FILES[(depth, bool(include_top))]
        weights_path = _common.pretrained_weights_file(owner, file_name,
                                                       BASE_WEIGHTS_PATH + file_name, file_hash)

    img_input = _common.image_input(input_tensor, input_shape)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=False, name='conv1/conv')(x)
    x = BatchNormalization(axis=_common.channel_axis(), epsilon=BN_EPSILON, name='conv1/bn')(x)
    x = Activation('relu', name='conv1/relu')(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = MaxPooling2D(3, strides=2, name='pool1')(x)
    for stage, count in enumerate(blocks, start=2):
        x = dense_block(x, count, name='conv%d' % stage)
        if stage < 5:
            x = transition_block(x, 0.5, name='pool%d' % stage)
    x = BatchNormalization(axis=_common.channel_axis(), epsilon=BN_EPSILON, name='bn')(x)
    x = Activation('relu', name='relu')(x)

    if include_top:
        x = GlobalAveragePooling2D(name='avg_pool')(x)
        x = Dense(classes, activation='softmax', name='fc1000')(x)
    elif pooling == 'avg':
        x = GlobalAveragePooling2D(name='avg_pool')(x)
    elif pooling == 'max':
        x = GlobalMaxPooling2D(name='max_pool')(x)
    return _common.finish_model(input_tensor, img_input, x, model_name, weights, weights_path)


def _depth_model(depth):
    def model(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
              pooling=None, classes=1000):
        return DenseNet(BLOCKS[depth], include_top, weights, input_tensor, input_shape,
                        pooling, classes)
    model.__name__ = model.__qualname__ = 'DenseNet%d' % depth
    model.__doc__ = """The DenseNet-%d model, optionally with weights pre-trained on ImageNet.

    # Arguments
        include_top: whether to include the classifier (global average
            pooling and a softmax `Dense` named 'fc1000').
        weights: None (random initialization), 'imagenet' (pre-trained
            weights, downloaded once into `<Keras dir>/models/`) or the path
            of a weights file to load.
        input_tensor: optional tensor (e.g. from `Input()`) to build the model on.
        input_shape: optional shape without the batch axis, in the
            configured data format, 3 channels, height and width at least
            32. With the classifier and ImageNet weights: (224, 224, 3).
        pooling: without the classifier, None (the last 4D feature map),
            'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named 'densenet%d'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape` (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded (the message says where to
            place the file by hand).
    """ % (depth, depth)
    return model


DenseNet121 = _depth_model(121)
DenseNet169 = _depth_model(169)
DenseNet201 = _depth_model(201)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in the 'torch' mode DenseNet was
    trained with (`x / 255`, minus the ImageNet mean, divided by its standard
    deviation, per RGB channel)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode='torch')
