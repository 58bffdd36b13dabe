"""The VGG architecture shared by VGG16 and VGG19.

Both are five blocks of 3x3 'same' convolutions with ReLU, each block ending
in a 2x2 max pooling that halves the image; the blocks have 64, 128, 256,
512 and 512 filters. The classifier flattens the last feature map into two
4096-unit ReLU layers and a softmax. VGG16 has 2, 2, 3, 3, 3 convolutions
per block, VGG19 2, 2, 4, 4, 4. Layer names follow Keras (`block1_conv1`,
..., `block5_pool`, `flatten`, `fc1`, `fc2`, `predictions`), which is what
the weight files are keyed by.
"""
from refkeras import backend as K
from refkeras.applications import _common
from refkeras.applications.imagenet_utils import _obtain_input_shape
from refkeras.layers import Conv2D, Dense, Flatten, MaxPooling2D

BLOCK_FILTERS = (64, 128, 256, 512, 512)
DEFAULT_SIZE = 224
MIN_SIZE = 32


def build_vgg(model_name, convs_per_block, weights_files, include_top, weights, input_tensor,
              input_shape, pooling, classes):
    """Checks the arguments, then builds a VGG model (see `vgg16.VGG16`).

    # Arguments
        model_name: 'vgg16' or 'vgg19' (the model's name).
        convs_per_block: the number of convolutions in each of the 5 blocks.
        weights_files: `{include_top: (file name, URL, md5)}` of the
            ImageNet weights.
        the others: as `VGG16`.
    """
    display_name = model_name.upper()
    _common.check_arguments(display_name, weights, include_top, pooling, classes,
                            input_tensor)
    input_shape = _obtain_input_shape(input_shape, default_size=DEFAULT_SIZE, min_size=MIN_SIZE,
                                      data_format=K.image_data_format(),
                                      require_flatten=include_top, weights=weights)
    weights_path = None
    if weights == 'imagenet':
        weights_path = _common.pretrained_weights_file(display_name,
                                                       *weights_files[include_top])

    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip(BLOCK_FILTERS, convs_per_block), start=1):
        for conv in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation='relu', padding='same',
                       name='block%d_conv%d' % (block, conv))(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name='block%d_pool' % block)(x)

    if include_top:
        x = Flatten(name='flatten')(x)
        x = Dense(4096, activation='relu', name='fc1')(x)
        x = Dense(4096, activation='relu', name='fc2')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    else:
        x = _common.feature_pooling(x, pooling)
    return _common.finish_model(input_tensor, img_input, x, model_name, weights, weights_path)
