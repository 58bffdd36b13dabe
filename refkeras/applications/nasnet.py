"""NASNet-A Mobile and Large (Keras 2.2.4's `keras.applications.nasnet`).

Reference: Zoph et al., "Learning Transferable Architectures for Scalable
Image Recognition", https://arxiv.org/abs/1707.07012

A NASNet-A is a stem convolution followed by cells found by architecture
search. Each cell reads two inputs, the previous cell's output `ip` and the
one before, `p` (adjusted to `ip`'s size and channels first), and
concatenates the results of five small branches ("blocks") that each add
two operations: separable convolutions (two of ReLU, separable convolution,
batch normalization), average or max poolings, or the identity. A normal
cell keeps the size; a reduction cell halves it. The stack:

    stem conv (3x3, stride 2) -> reduction 'stem_1' -> reduction 'stem_2'
    -> N normal cells -> reduction -> N normal cells -> reduction -> N normal
    cells -> ReLU -> [global average pooling, softmax Dense 'predictions']

with `filters = penultimate_filters // 24` channels per branch in the first
normal cells, times `filter_multiplier` after each reduction. NASNetMobile:
N=4, penultimate 1056, stem 32, 224x224 (5,326,716 parameters with the
classifier); NASNetLarge: N=6, penultimate 4032, stem 96, 331x331
(88,949,818), as in Keras 2.2.4's documentation. With `skip_reduction`
(Large), the cell after a reduction reads the cell before the reduction as
its `p`.

A strided separable convolution pads explicitly (`correct_pad`, as
`mobilenet_v2`) and convolves with 'valid' padding. Images: RGB prepared
with `preprocess_input` ('tf' mode: `x / 127.5 - 1`). NASNet exists only in
the 'channels_last' data format: with 'channels_first' configured it warns
and builds a channels_last model (the configured format is restored
afterwards).
"""
from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401
from refkeras.applications.mobilenet_v2 import correct_pad
from refkeras.layers import (Activation, AveragePooling2D, BatchNormalization, Conv2D,
                             Cropping2D, Dense, GlobalAveragePooling2D, MaxPooling2D,
                             SeparableConv2D, ZeroPadding2D, add, concatenate)

BASE_WEIGHTS_PATH = ('https://github.com/titu1994/Keras-NASNet/'
                     'releases/download/v1.2/')

# Keras 2.2.4's cache file name, download URL and md5 for (size, include_top).
WEIGHTS_FILES = {
    (224, True): ('nasnet_mobile.h5', BASE_WEIGHTS_PATH + 'NASNet-mobile.h5',
                  '020fb642bf7360b370c678b08e0adf61'),
    (224, False): ('nasnet_mobile_no_top.h5', BASE_WEIGHTS_PATH + 'NASNet-mobile-no-top.h5',
                   '1ed92395b5b598bdda52abe5c0dbfd63'),
    (331, True): ('nasnet_large.h5', BASE_WEIGHTS_PATH + 'NASNet-large.h5',
                  '11577c9a518f0070763c2b964a382f17'),
    (331, False): ('nasnet_large_no_top.h5', BASE_WEIGHTS_PATH + 'NASNet-large-no-top.h5',
                   'd81d89dc07e6e56530c4e77faddd61b5'),
}

BN = dict(axis=-1, momentum=0.9997, epsilon=1e-3)
CONV = dict(use_bias=False, kernel_initializer='he_normal')


def _separable_conv_block(x, filters, kernel_size=3, strides=1, block_id=None):
    """Two of (ReLU, separable convolution, batch normalization); the first
    convolution may be strided. Layers `separable_conv_{1,2}_<id>`,
    `separable_conv_{1,2}_bn_<id>`, `separable_conv_1_pad_<id>`."""
    x = Activation('relu')(x)
    if strides == 2:
        x = ZeroPadding2D(padding=correct_pad(x, kernel_size),
                          name='separable_conv_1_pad_%s' % block_id)(x)
        padding = 'valid'
    else:
        padding = 'same'
    x = SeparableConv2D(filters, kernel_size, strides=strides, padding=padding,
                        name='separable_conv_1_%s' % block_id, **CONV)(x)
    x = BatchNormalization(name='separable_conv_1_bn_%s' % block_id, **BN)(x)
    x = Activation('relu')(x)
    x = SeparableConv2D(filters, kernel_size, padding='same',
                        name='separable_conv_2_%s' % block_id, **CONV)(x)
    return BatchNormalization(name='separable_conv_2_bn_%s' % block_id, **BN)(x)


def _adjust_block(p, ip, filters, block_id):
    """The previous-previous input `p`, made to match `ip`.

    - None (the first cell): `ip` itself.
    - Twice `ip`'s width: halved by two 1x1 strided "factorized reductions"
      (average pooling with stride 2, 1x1 convolution to `filters // 2`;
      the second path shifted by one pixel), concatenated and normalized.
    - Other channel count: ReLU, 1x1 convolution to `filters`, batch
      normalization.
    """
    if p is None:
        return ip
    p_shape, ip_shape = K.int_shape(p), K.int_shape(ip)
    if p_shape[-2] != ip_shape[-2]:
        p = Activation('relu', name='adjust_relu_1_%s' % block_id)(p)
        path1 = AveragePooling2D(1, strides=2, padding='valid',
                                 name='adjust_avg_pool_1_%s' % block_id)(p)
        path1 = Conv2D(filters // 2, 1, padding='same', name='adjust_conv_1_%s' % block_id,
                       **CONV)(path1)
        path2 = ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        path2 = Cropping2D(cropping=((1, 0), (1, 0)))(path2)
        path2 = AveragePooling2D(1, strides=2, padding='valid',
                                 name='adjust_avg_pool_2_%s' % block_id)(path2)
        path2 = Conv2D(filters // 2, 1, padding='same', name='adjust_conv_2_%s' % block_id,
                       **CONV)(path2)
        p = concatenate([path1, path2], axis=-1)
        return BatchNormalization(name='adjust_bn_%s' % block_id, **BN)(p)
    if p_shape[-1] != filters:
        p = Activation('relu')(p)
        p = Conv2D(filters, 1, strides=1, padding='same',
                   name='adjust_conv_projection_%s' % block_id, **CONV)(p)
        return BatchNormalization(name='adjust_bn_%s' % block_id, **BN)(p)
    return p


def _squeeze(ip, filters, kind, block_id):
    """ReLU, 1x1 convolution to `filters`, batch normalization: `h`, the
    cell's own input (`<kind>_conv_1_<id>`, `<kind>_bn_1_<id>`)."""
    h = Activation('relu')(ip)
    h = Conv2D(filters, 1, strides=1, padding='same', name='%s_conv_1_%s' % (kind, block_id),
               **CONV)(h)
    return BatchNormalization(name='%s_bn_1_%s' % (kind, block_id), **BN)(h)


def _normal_a_cell(ip, p, filters, block_id):
    """A normal cell (Fig. 4 of the paper, left). Returns `(output, ip)`."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _squeeze(ip, filters, 'normal', block_id)

    def sep(x, kernel_size, side):
        return _separable_conv_block(x, filters, kernel_size,
                                     block_id='normal_%s_%s' % (side, block_id))

    def avg(x, side):
        return AveragePooling2D(3, strides=1, padding='same',
                                name='normal_%s_%s' % (side, block_id))(x)

    x1 = add([sep(h, 5, 'left1'), sep(p, 3, 'right1')], name='normal_add_1_%s' % block_id)
    x2 = add([sep(p, 5, 'left2'), sep(p, 3, 'right2')], name='normal_add_2_%s' % block_id)
    x3 = add([avg(h, 'left3'), p], name='normal_add_3_%s' % block_id)
    x4 = add([avg(p, 'left4'), avg(p, 'right4')], name='normal_add_4_%s' % block_id)
    x5 = add([sep(h, 3, 'left5'), h], name='normal_add_5_%s' % block_id)
    x = concatenate([p, x1, x2, x3, x4, x5], axis=-1, name='normal_concat_%s' % block_id)
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id):
    """A reduction cell (Fig. 4 of the paper, right). Returns `(output, ip)`."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _squeeze(ip, filters, 'reduction', block_id)
    h_padded = ZeroPadding2D(padding=correct_pad(h, 3),
                             name='reduction_pad_1_%s' % block_id)(h)

    def sep(x, kernel_size, side, strides=2):
        return _separable_conv_block(x, filters, kernel_size, strides=strides,
                                     block_id='reduction_%s_%s' % (side, block_id))

    def pool(pool_class, side):
        return pool_class(3, strides=2, padding='valid',
                          name='reduction_%s_%s' % (side, block_id))(h_padded)

    x1 = add([sep(h, 5, 'left1'), sep(p, 7, 'right1')], name='reduction_add_1_%s' % block_id)
    x2 = add([pool(MaxPooling2D, 'left2'), sep(p, 7, 'right2')],
             name='reduction_add_2_%s' % block_id)
    x3 = add([pool(AveragePooling2D, 'left3'), sep(p, 5, 'right3')],
             name='reduction_add3_%s' % block_id)
    x4 = AveragePooling2D(3, strides=1, padding='same',
                          name='reduction_left4_%s' % block_id)(x1)
    x4 = add([x2, x4])
    # Keras 2.2.4 reuses the name 'reduction_left4_<id>' as this separable
    # block's id (its layers are 'separable_conv_1_reduction_left4_<id>', ...).
    x5 = add([sep(x1, 3, 'left4', strides=1), pool(MaxPooling2D, 'right5')],
             name='reduction_add4_%s' % block_id)
    x = concatenate([x2, x3, x4, x5], axis=-1, name='reduction_concat_%s' % block_id)
    return x, ip


def NASNet(input_shape=None, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
           skip_reduction=True, filter_multiplier=2, include_top=True, weights=None,
           input_tensor=None, pooling=None, classes=1000, default_size=None):
    """A NASNet-A model of any size (NASNetMobile and NASNetLarge fix the sizes).

    # Arguments
        input_shape: optional `(rows, cols, channels)`, at least 32 pixels;
            with the classifier and ImageNet weights `(default_size,
            default_size, 3)`.
        penultimate_filters: channels of the last cells (divisible by 24).
        num_blocks: N, the normal cells between reductions.
        stem_block_filters: filters of the stem convolution.
        skip_reduction: whether the cell after a reduction reads the cell
            before the reduction (True for Large).
        filter_multiplier: channel growth at each reduction.
        include_top, weights, input_tensor, pooling, classes: as `NASNetMobile`.
        default_size: the default image size (331); ImageNet weights exist
            for 224 (Mobile) and 331 (Large).

    # Returns
        A `Model` named 'NASNet'.

    # Raises
        ValueError: for invalid arguments (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    _common.check_arguments('NASNet', weights, include_top, pooling, classes, input_tensor)
    if not isinstance(penultimate_filters, int) or penultimate_filters <= 0 or \
            penultimate_filters % 24 != 0:
        raise ValueError('NASNet: `penultimate_filters` must be a positive multiple of 24; '
                         'received %r.' % (penultimate_filters,))
    if isinstance(input_shape, tuple) and None in input_shape and weights == 'imagenet':
        raise ValueError('NASNet: with ImageNet weights the input shape must be static (no '
                         'None entries); received input_shape=%s.' % (input_shape,))
    default_size = 331 if default_size is None else default_size
    if weights == 'imagenet' and default_size not in (224, 331):
        raise ValueError('NASNet: ImageNet weights exist only for NASNetMobile (224) and '
                         'NASNetLarge (331); received default_size=%r.' % (default_size,))
    input_shape = _obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                      data_format='channels_last',
                                      require_flatten=include_top, weights=weights)
    weights_path = None
    if weights == 'imagenet':
        file_name, origin, file_hash = WEIGHTS_FILES[(default_size, bool(include_top))]
        owner = 'NASNetMobile' if default_size == 224 else 'NASNetLarge'
        weights_path = _common.pretrained_weights_file(owner, file_name, origin, file_hash)

    with _common.channels_last_while_building('NASNet'):
        img_input = _common.image_input(input_tensor, input_shape)
        filters = penultimate_filters // 24
        x = Conv2D(stem_block_filters, 3, strides=2, padding='valid', name='stem_conv1',
                   **CONV)(img_input)
        x = BatchNormalization(name='stem_bn1', **BN)(x)
        x, p = _reduction_a_cell(x, None, filters // (filter_multiplier ** 2), 'stem_1')
        x, p = _reduction_a_cell(x, p, filters // filter_multiplier, 'stem_2')
        cell = 0
        for stage in range(3):
            if stage > 0:
                cell += 1  # the normal cells' numbering skips the reduction cell
                x, before = _reduction_a_cell(x, p, filters * filter_multiplier ** stage,
                                              'reduce_%d' % (stage * num_blocks))
                p = p if skip_reduction else before
            for _ in range(num_blocks):
                x, p = _normal_a_cell(x, p, filters * filter_multiplier ** stage,
                                      '%d' % cell)
                cell += 1
        x = Activation('relu')(x)
        if include_top:
            x = GlobalAveragePooling2D()(x)
            x = Dense(classes, activation='softmax', name='predictions')(x)
        else:
            x = _common.feature_pooling(x, pooling)
        return _common.finish_model(input_tensor, img_input, x, 'NASNet', weights,
                                    weights_path)


_SIZES = {
    'NASNetMobile': dict(penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                         skip_reduction=False, default_size=224),
    'NASNetLarge': dict(penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                        skip_reduction=True, default_size=331),
}


def NASNetMobile(input_shape=None, include_top=True, weights='imagenet', input_tensor=None,
                 pooling=None, classes=1000):
    """NASNet-A Mobile (4 normal cells per stage, 1056 penultimate filters),
    optionally with weights pre-trained on ImageNet.

    # Arguments
        input_shape: optional `(rows, cols, channels)`, at least 32 pixels;
            `(224, 224, 3)` with the classifier and ImageNet weights.
        include_top: whether to include the classifier.
        weights: None, 'imagenet' (downloaded once into `<Keras dir>/models/`)
            or the path of a weights file.
        input_tensor: optional tensor to build the model on.
        pooling: without the classifier, None, 'avg' or 'max'.
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named 'NASNet'.

    # Raises
        ValueError: for invalid arguments (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded.
    """
    return NASNet(input_shape, filter_multiplier=2, include_top=include_top, weights=weights,
                  input_tensor=input_tensor, pooling=pooling, classes=classes,
                  **_SIZES['NASNetMobile'])


def NASNetLarge(input_shape=None, include_top=True, weights='imagenet', input_tensor=None,
                pooling=None, classes=1000):
    """NASNet-A Large (6 normal cells per stage, 4032 penultimate filters),
    optionally with weights pre-trained on ImageNet.

    Arguments, returns and errors as `NASNetMobile`, with 331x331 images.
    """
    return NASNet(input_shape, filter_multiplier=2, include_top=include_top, weights=weights,
                  input_tensor=input_tensor, pooling=pooling, classes=classes,
                  **_SIZES['NASNetLarge'])


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in the 'tf' mode (`x / 127.5 - 1`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode='tf')
