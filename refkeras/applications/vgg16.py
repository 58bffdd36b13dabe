"""VGG16 (FAQ: "How can I use pre-trained models in Keras?").

Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", https://arxiv.org/abs/1409.1556

13 convolutions and 3 dense layers: 138,357,544 parameters with the
classifier. Images: 224x224 RGB, prepared with `preprocess_input` ('caffe'
mode: BGR, ImageNet mean pixel subtracted).
"""
from refkeras.applications import _vgg
from refkeras.applications import imagenet_utils
from refkeras.applications.imagenet_utils import decode_predictions  # noqa: F401

WEIGHTS_PATH = ('https://github.com/fchollet/deep-learning-models/'
                'releases/download/v0.1/'
                'vgg16_weights_tf_dim_ordering_tf_kernels.h5')
WEIGHTS_PATH_NO_TOP = ('https://github.com/fchollet/deep-learning-models/'
                       'releases/download/v0.1/'
                       'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5')
# {include_top: (file name in <Keras dir>/models, URL, md5)}
WEIGHTS_FILES = {
    True: ('vgg16_weights_tf_dim_ordering_tf_kernels.h5', WEIGHTS_PATH,
           '64373286793e3c8b2b4e3219cbf3544b'),
    False: ('vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', WEIGHTS_PATH_NO_TOP,
            '6d6bbae143d832006294945121d1f1fc'),
}


def VGG16(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
          pooling=None, classes=1000):
    """The VGG16 model, optionally with weights pre-trained on ImageNet.

    The layers follow the configured image data format (keras.json).

    # Arguments
        include_top: whether to include the classifier (Flatten and the 3
            dense layers at the top).
        weights: None (random initialization), 'imagenet' (pre-trained
            weights, downloaded once into `<Keras dir>/models/`) or the path
            of a weights file to load.
        input_tensor: optional tensor (e.g. from `Input()`) to build the model on.
        input_shape: optional shape without the batch axis. With
            `include_top` and ImageNet weights it must be `(224, 224, 3)`
            (`(3, 224, 224)` for channels_first); with `include_top` it must
            be fully known. Height and width at least 32. Default
            `(224, 224, 3)` with the classifier, `(None, None, 3)` without.
        pooling: without the classifier, None (the output is the last 4D
            feature map), 'avg' or 'max' (global pooling to a 2D output).
        classes: number of classes of the classifier; 1000 with ImageNet weights.

    # Returns
        A `Model` named 'vgg16'.

    # Raises
        ValueError: for invalid `weights`, `classes`, `pooling`,
            `input_tensor` or `input_shape` (before anything is built).
        PretrainedWeightsUnavailableError: when the ImageNet weights are
            not cached and cannot be downloaded (the message says where to
            place the file).
    """
    return _vgg.build_vgg('vgg16', (2, 2, 3, 3, 3), WEIGHTS_FILES, include_top, weights,
                          input_tensor, input_shape, pooling, classes)


def preprocess_input(x, data_format=None, mode='caffe'):
    """`imagenet_utils.preprocess_input`, by default in the 'caffe' mode VGG16 was
    trained with (RGB -> BGR, ImageNet mean pixel subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode=mode)
