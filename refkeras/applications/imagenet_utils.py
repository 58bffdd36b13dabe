"""ImageNet preprocessing, prediction decoding and input-shape checks.

Part of the FAQ's "How can I use pre-trained models in Keras?": a model
trained on ImageNet expects its images prepared the way its training images
were, and answers with 1000 class scores that `decode_predictions` names.

The three ways of preparing images (`mode`), each used by some models:

- 'caffe' (VGG16, VGG19, ResNet50): RGB -> BGR, then the ImageNet mean pixel
  `(103.939, 116.779, 123.68)` (in BGR order) is subtracted; no scaling.
- 'tf' (Xception, InceptionV3, InceptionResNetV2, MobileNet): `x / 127.5 - 1`,
  so values in [0, 255] land in [-1, 1].
- 'torch' (DenseNet in Keras): `x / 255`, then per RGB channel
  `(x - mean) / std` with mean `(0.485, 0.456, 0.406)` and std
  `(0.229, 0.224, 0.225)`.

Differences from Keras 2.2.4, on purpose:
- `preprocess_input` never writes over the caller's array (Keras modified a
  float input in place, and for 'caffe' on `channels_last` data left the
  caller's array mean-subtracted in the wrong channel order). The returned
  values are the same.
- An unknown `mode` is an error (Keras silently used 'caffe'), and 'caffe' /
  'torch' check that the channel axis has 3 entries.
- `decode_predictions` breaks ties between equal scores by the lower class
  index (Keras's order among ties was unspecified).
"""
import json
import warnings

import numpy as np

from refkeras import backend as K
from refkeras.applications import _common

# Where the class index (class number -> [WordNet id, readable name]) comes from.
CLASS_INDEX_PATH = ('https://s3.amazonaws.com/deep-learning-models/'
                    'image-models/imagenet_class_index.json')
CLASS_INDEX_FILE_NAME = 'imagenet_class_index.json'
CLASS_INDEX_HASH = 'c2c37ea517e94d9795004a39431a14cb'  # md5

# The class index, read once per process by `decode_predictions`.
CLASS_INDEX = None

NUM_IMAGENET_CLASSES = 1000

# Per-channel constants of the 'caffe' mode (BGR order) and 'torch' mode (RGB order).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN_RGB = (0.485, 0.456, 0.406)
TORCH_STD_RGB = (0.229, 0.224, 0.225)

PREPROCESS_MODES = ('caffe', 'tf', 'torch')


def _channel_axis(ndim, data_format):
    """The axis holding the colour channels of a 3D image or a 4D batch."""
    if data_format == 'channels_last':
        return ndim - 1
    # channels_first: (channels, rows, cols) for one image, else (batch, channels, ...).
    return 0 if ndim == 3 else 1


def _per_channel(values, ndim, channel_axis, dtype):
    """`values` (one per channel) in `dtype`, shaped to broadcast along `channel_axis`.

    The constants take the data's dtype so that float32 data is computed in
    float32, as Keras does.
    """
    shape = [1] * ndim
    shape[channel_axis] = len(values)
    return np.reshape(np.asarray(values, dtype=dtype), shape)


def _preprocess_numpy_input(x, data_format, mode):
    """The preprocessing of one NumPy image or batch, returned as a new array."""
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(K.floatx())
    if mode == 'tf':
        return x / 127.5 - 1.
    axis = _channel_axis(x.ndim, data_format)
    if mode == 'torch':
        mean = _per_channel(TORCH_MEAN_RGB, x.ndim, axis, x.dtype)
        std = _per_channel(TORCH_STD_RGB, x.ndim, axis, x.dtype)
        return (x / 255. - mean) / std
    bgr = np.flip(x, axis=axis)
    return bgr - _per_channel(CAFFE_MEAN_BGR, x.ndim, axis, x.dtype)


def _preprocess_symbolic_input(x, data_format, mode):
    """The same preprocessing with backend functions (differentiable, works on
    symbolic tensors)."""
    if mode == 'tf':
        return x / 127.5 - 1.
    ndim = K.ndim(x)
    axis = _channel_axis(ndim, data_format)
    dtype = K.dtype(x)
    if mode == 'torch':
        mean = K.constant(_per_channel(TORCH_MEAN_RGB, ndim, axis, dtype), dtype=dtype)
        std = K.constant(_per_channel(TORCH_STD_RGB, ndim, axis, dtype), dtype=dtype)
        return (x / 255. - mean) / std
    mean = K.constant(_per_channel(CAFFE_MEAN_BGR, ndim, axis, dtype), dtype=dtype)
    return K.reverse(x, axes=axis) - mean


def preprocess_input(x, data_format=None, mode='caffe'):
    """Prepares an image or a batch of images for an ImageNet model.

    # Arguments
        x: a NumPy array (values in [0, 255], RGB) or a backend tensor, 3D
            (one image) or 4D (a batch). Integer arrays are converted to
            floatx; float arrays keep their dtype. `x` itself is not modified.
        data_format: 'channels_last' or 'channels_first'; default the
            configured image data format.
        mode: 'caffe', 'tf' or 'torch' (see the module docstring).

    # Returns
        The preprocessed array (a new one) or tensor.

    # Raises
        ValueError: for an unknown `data_format` or `mode`, or when 'caffe' /
            'torch' is asked of data whose channel axis does not have 3
            entries.
    """
    if data_format is None:
        data_format = K.image_data_format()
    if data_format not in ('channels_first', 'channels_last'):
        raise ValueError('preprocess_input: unknown data_format %r; expected '
                         "'channels_first' or 'channels_last'." % (data_format,))
    if mode not in PREPROCESS_MODES:
        raise ValueError('preprocess_input: unknown mode %r; expected one of %s.'
                         % (mode, ', '.join(repr(m) for m in PREPROCESS_MODES)))
    symbolic = K.is_tensor(x)
    if not symbolic:
        x = np.asarray(x)
    shape = K.int_shape(x) if symbolic else x.shape
    if mode != 'tf':
        if len(shape) < 3:
            raise ValueError('preprocess_input: expected one image (3D) or a batch of images '
                             '(4D); received an array of shape %s.' % (shape,))
        channels = shape[_channel_axis(len(shape), data_format)]
        if channels is not None and channels != 3:
            raise ValueError("preprocess_input: mode %r needs 3 colour channels (RGB) on the "
                             'channel axis of %s data; received shape %s.'
                             % (mode, data_format, shape))
    if symbolic:
        return _preprocess_symbolic_input(x, data_format, mode)
    return _preprocess_numpy_input(x, data_format, mode)


def _load_class_index():
    """The ImageNet class index, downloaded once into `<Keras dir>/models/`."""
    global CLASS_INDEX
    if CLASS_INDEX is None:
        path = _common.fetch_into_cache('decode_predictions', 'the ImageNet class index',
                                        CLASS_INDEX_FILE_NAME, CLASS_INDEX_PATH,
                                        CLASS_INDEX_HASH)
        with open(path) as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """Names the best classes of each ImageNet prediction.

    The class index is fetched once with `get_file` from `CLASS_INDEX_PATH`
    (cached as `<Keras dir>/models/imagenet_class_index.json`).

    # Arguments
        preds: a NumPy array of shape `(samples, 1000)`, e.g. `model.predict(x)`.
        top: how many classes to return per sample.

    # Returns
        One list per sample of `(wordnet_id, class_name, score)` tuples,
        best score first.

    # Raises
        ValueError: if `preds` is not of shape `(samples, 1000)`.
        CachedFileUnavailableError: (an `OSError`) when the class index is
            not cached and cannot be downloaded; the message names the path
            where it can be placed by hand.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != NUM_IMAGENET_CLASSES:
        raise ValueError('decode_predictions expects a batch of ImageNet predictions, a 2D '
                         'array of shape (samples, %d); received an array of shape %s.'
                         % (NUM_IMAGENET_CLASSES, preds.shape))
    class_index = _load_class_index()
    results = []
    for pred in preds:
        best_first = np.argsort(-pred, kind='stable')[:top]
        results.append([tuple(class_index[str(i)]) + (pred[i],) for i in best_first])
    return results


def _obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                        weights=None):
    """Checks a model's `input_shape` argument, or picks the default one.

    # Arguments
        input_shape: None or the user's shape (without the batch axis).
        default_size: the image size the model was trained at (224, 299, ...).
        min_size: the smallest height/width the architecture can take.
        data_format: 'channels_last' or 'channels_first'.
        require_flatten: whether the model ends in Flatten + Dense, which
            needs a fixed input size.
        weights: None, 'imagenet' or a path; 'imagenet' requires 3 channels.

    # Returns
        The input shape as a tuple (None for a free height/width).

    # Raises
        ValueError: for a shape of the wrong length, channel count or size,
            or a shape other than the default with `require_flatten` and
            ImageNet weights.
    """
    if input_shape is not None:
        input_shape = tuple(input_shape)
    channels_first = data_format == 'channels_first'
    if weights != 'imagenet' and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn('This model usually expects 1 or 3 input channels; the input_shape '
                          '%s has %s.' % (input_shape, channels))
    else:
        channels = 3
    if channels_first:
        default_shape = (channels, default_size, default_size)
    else:
        default_shape = (default_size, default_size, channels)

    if weights == 'imagenet' and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError('With include_top=True and weights=\'imagenet\', input_shape must '
                             'be %s (the size the classifier was trained at); received %s.'
                             % (default_shape, input_shape))
        return default_shape

    if input_shape:
        if len(input_shape) != 3:
            raise ValueError('input_shape must be a tuple of three integers (rows, cols, '
                             'channels or channels, rows, cols); received %s.' % (input_shape,))
        channels = input_shape[0] if channels_first else input_shape[-1]
        if weights == 'imagenet' and channels != 3:
            raise ValueError('ImageNet weights need 3 input channels; received input_shape=%s '
                             '(%s).' % (input_shape, data_format))
        spatial = input_shape[1:] if channels_first else input_shape[:2]
        if any(size is not None and size < min_size for size in spatial):
            raise ValueError('Input size must be at least %dx%d; received input_shape=%s.'
                             % (min_size, min_size, input_shape))
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)

    if require_flatten and None in input_shape:
        raise ValueError('With include_top=True the input_shape must be fully known (the '
                         'classifier flattens the feature map); received %s.' % (input_shape,))
    return input_shape
