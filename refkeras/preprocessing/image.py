"""Images: loading, converting, and random augmentation (`ImageDataGenerator`).

Keras 2.2.4 took these from `keras_preprocessing` 1.0.5; refkeras writes them
out here with the same names, arguments and results. Reading and writing
image files needs Pillow, the geometric transforms (rotation, shift, shear,
zoom) need SciPy's `ndimage`: `pip install refkeras[image]`.

Where the pieces are:
- files and arrays: `load_img`, `img_to_array`, `array_to_img`, `save_img`;
- one transform of one image: `apply_affine_transform` (and its `random_*`
  wrappers), `apply_channel_shift`, `apply_brightness_shift`, `flip_axis`;
- `ImageDataGenerator`: draws a transform per image (`get_random_transform`),
  applies it (`apply_transform`), then normalises (`standardize`, whose
  dataset statistics `fit` computes);
- iterators that yield batches, usable as a `Sequence`:
  `NumpyArrayIterator` (`flow`) and `DirectoryIterator` (`flow_from_directory`).
"""
import os
import re
import threading
import warnings

import numpy as np

from refkeras import backend as K
from refkeras.utils.data_utils import Sequence

IMAGE_FORMATS = ('png', 'jpg', 'jpeg', 'bmp', 'ppm', 'tif', 'tiff')
FILL_MODES = ('constant', 'nearest', 'reflect', 'wrap')
CLASS_MODES = ('categorical', 'binary', 'sparse', 'input', None)
COLOR_MODES = {'grayscale': 'L', 'rgb': 'RGB', 'rgba': 'RGBA'}


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('refkeras.preprocessing.image needs Pillow to read and write images: '
                          'pip install Pillow (or pip install refkeras[image]).')
    return Image


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError:
        raise ImportError('refkeras.preprocessing.image needs SciPy for rotations, shifts, '
                          'shears and zooms: pip install scipy (or pip install refkeras[image]).')
    return ndimage


def _interpolations():
    image = _pillow()
    return {'nearest': image.NEAREST, 'bilinear': image.BILINEAR, 'bicubic': image.BICUBIC,
            'lanczos': image.LANCZOS, 'box': image.BOX, 'hamming': image.HAMMING}


def _check_data_format(data_format, function):
    if data_format not in ('channels_first', 'channels_last'):
        raise ValueError('%s: `data_format` must be "channels_first" or "channels_last"; '
                         'received %r.' % (function, data_format))


# --- files and arrays ----------------------------------------------------------

def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A rank-3 array as a Pillow image (1 channel: 'L', 3: 'RGB', 4: 'RGBA').

    # Arguments
        x: array `(height, width, channels)` or `(channels, height, width)`.
        data_format: which of the two (default `K.image_data_format()`).
        scale: stretch the values to `[0, 255]` (shifting a negative minimum
            to 0, then dividing by the maximum); otherwise they are cast.
        dtype: the dtype the values are read as (default `K.floatx()`).

    # Raises
        ValueError: for another rank, data format or channel count.
    """
    data_format = data_format or K.image_data_format()
    image = _pillow()
    x = np.array(x, dtype=dtype or K.floatx())
    if x.ndim != 3:
        raise ValueError('array_to_img: expected image array to have rank 3 (single image); '
                         'got array with shape %s.' % (x.shape,))
    _check_data_format(data_format, 'array_to_img')
    if data_format == 'channels_first':
        x = x.transpose(1, 2, 0)
    if scale:
        x = x + max(-np.min(x), 0)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError('array_to_img: an image has 1 (gray), 3 (RGB) or 4 (RGBA) channels; '
                         'got %d (shape %s, %s).' % (channels, x.shape, data_format))
    if channels == 1:
        return image.fromarray(x[:, :, 0].astype('uint8'), 'L')
    return image.fromarray(x.astype('uint8'), 'RGB' if channels == 3 else 'RGBA')


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image (or a rank-2/3 array) as a rank-3 array.

    # Arguments
        img: a Pillow image.
        data_format: 'channels_last' gives `(height, width, channels)`,
            'channels_first' `(channels, height, width)`; default
            `K.image_data_format()`.
        dtype: default `K.floatx()`.

    # Raises
        ValueError: for an unknown data format, or an image that is neither
            rank 2 (gray) nor rank 3.
    """
    data_format = data_format or K.image_data_format()
    _check_data_format(data_format, 'img_to_array')
    x = np.asarray(img, dtype=dtype or K.floatx())
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    elif x.ndim != 3:
        raise ValueError('img_to_array: unsupported image shape %s (expected height, width and '
                         'maybe channels).' % (x.shape,))
    if data_format == 'channels_first':
        x = x.transpose(2, 0, 1)
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Writes a rank-3 array to an image file (see `array_to_img`).

    # Arguments
        path: the file path.
        x, data_format, scale: as in `array_to_img`.
        file_format: e.g. 'png' (default: from the file name).
        **kwargs: passed to Pillow's `Image.save`.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == 'RGBA' and file_format in ('jpg', 'jpeg'):
        warnings.warn('The JPG format does not support RGBA images, converting to RGB.')
        img = img.convert('RGB')
    img.save(path, format=file_format, **kwargs)


def load_img(path, grayscale=False, color_mode='rgb', target_size=None,
             interpolation='nearest'):
    """Reads an image file as a Pillow image.

    # Arguments
        path: the file path.
        grayscale: deprecated spelling of `color_mode='grayscale'`.
        color_mode: 'grayscale', 'rgb' or 'rgba' (the image is converted).
        target_size: None, or `(height, width)` to resize to.
        interpolation: the resampling used when resizing: 'nearest',
            'bilinear', 'bicubic', 'lanczos', 'box' or 'hamming'.

    # Raises
        ValueError: for an unknown `color_mode`, or an unknown
            `interpolation` when the image must be resized.
        IOError / FileNotFoundError: if the file cannot be read as an image.
    """
    if grayscale is True:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"')
        color_mode = 'grayscale'
    if color_mode not in COLOR_MODES:
        raise ValueError('load_img: `color_mode` must be "grayscale", "rgb" or "rgba"; '
                         'received %r.' % (color_mode,))
    image = _pillow()
    img = image.open(path)
    if img.mode != COLOR_MODES[color_mode]:
        img = img.convert(COLOR_MODES[color_mode])
    if target_size is not None:
        width_height = (target_size[1], target_size[0])
        if img.size != width_height:
            methods = _interpolations()
            if interpolation not in methods:
                raise ValueError('load_img: invalid interpolation method %r; supported methods '
                                 'are %s.' % (interpolation, ', '.join(methods)))
            img = img.resize(width_height, methods[interpolation])
    return img


def list_pictures(directory, ext='jpg|jpeg|bmp|png|ppm'):
    """The paths of the files under `directory` whose extension matches `ext`."""
    pattern = re.compile(r'([\w]+\.(?:' + ext + '))')
    return [os.path.join(root, name)
            for root, _, names in os.walk(directory) for name in names
            if pattern.match(name.lower())]


# --- transforms of one image ------------------------------------------------------

def transform_matrix_offset_center(matrix, x, y):
    """`matrix` (3x3, homogeneous) made to act about the point `(x / 2 + 0.5, y / 2 + 0.5)`.

    That is Keras 2.2.4's "centre" of an `x` by `y` image: half a pixel past
    the true centre `((x - 1) / 2, (y - 1) / 2)`, kept so that transforms
    give Keras's pixels.
    """
    centre_x = float(x) / 2 + 0.5
    centre_y = float(y) / 2 + 0.5
    to_centre = np.array([[1, 0, centre_x], [0, 1, centre_y], [0, 0, 1]])
    from_centre = np.array([[1, 0, -centre_x], [0, 1, -centre_y], [0, 0, 1]])
    return to_centre.dot(matrix).dot(from_centre)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0,
                           col_axis=1, channel_axis=2, fill_mode='nearest', cval=0.):
    """Rotates, shifts, shears and zooms one image (a rank-3 array).

    The matrices compose in the order rotation, shift, shear, zoom, about the
    image's centre; each output pixel is read from the input at the
    transformed position with bilinear interpolation
    (`scipy.ndimage.affine_transform`, order 1), one channel at a time.

    # Arguments
        x: the image.
        theta: rotation angle in degrees.
        tx, ty: shifts along the row and column axes, in pixels.
        shear: shear angle in degrees.
        zx, zy: zoom factors along the rows and columns (above 1 shows less
            of the image: the output samples a larger input area).
        row_axis, col_axis, channel_axis: the axes of `x`.
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap': how points
            outside the input are filled.
        cval: the fill value for 'constant'.

    # Returns
        The transformed image (a new array; `x` is unchanged).

    # Raises
        ValueError: if `x` is not rank 3 or `fill_mode` is unknown.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError('apply_affine_transform: expected one image of rank 3; got shape %s.'
                         % (x.shape,))
    if fill_mode not in FILL_MODES:
        raise ValueError('apply_affine_transform: `fill_mode` must be one of %s; received %r.'
                         % (', '.join(FILL_MODES), fill_mode))
    matrices = []
    if theta != 0:
        angle = np.deg2rad(theta)
        matrices.append(np.array([[np.cos(angle), -np.sin(angle), 0],
                                  [np.sin(angle), np.cos(angle), 0],
                                  [0, 0, 1]]))
    if tx != 0 or ty != 0:
        matrices.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        angle = np.deg2rad(shear)
        matrices.append(np.array([[1, -np.sin(angle), 0], [0, np.cos(angle), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrices.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not matrices:
        return x.copy()
    matrix = matrices[0]
    for following in matrices[1:]:
        matrix = matrix.dot(following)
    ndimage = _ndimage()
    matrix = transform_matrix_offset_center(matrix, x.shape[row_axis], x.shape[col_axis])
    # Channels first, and rows before columns, as the matrix expects.
    planes = np.moveaxis(x, (channel_axis, row_axis, col_axis), (0, 1, 2))
    transformed = np.stack([
        ndimage.affine_transform(plane, matrix[:2, :2], matrix[:2, 2], order=1,
                                 mode=fill_mode, cval=cval)
        for plane in planes])
    return np.moveaxis(transformed, (0, 1, 2), (channel_axis, row_axis, col_axis))


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode='nearest',
                    cval=0.):
    """Rotates `x` by an angle drawn uniformly from `[-rg, rg]` degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode='nearest',
                 cval=0.):
    """Shifts `x` by fractions drawn from `[-hrg, hrg]` of its height and
    `[-wrg, wrg]` of its width."""
    tx = np.random.uniform(-hrg, hrg) * x.shape[row_axis]
    ty = np.random.uniform(-wrg, wrg) * x.shape[col_axis]
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode='nearest',
                 cval=0.):
    """Shears `x` by an angle drawn from `[-intensity, intensity]` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode='nearest',
                cval=0.):
    """Zooms `x` by factors drawn from `zoom_range = (lower, upper)`, one per axis.

    # Raises
        ValueError: if `zoom_range` is not two numbers.
    """
    if len(zoom_range) != 2:
        raise ValueError('`zoom_range` should be a tuple or list of two floats. '
                         'Received: %s' % (zoom_range,))
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every value, clipped to the image's own `[min, max]`."""
    x = np.asarray(x)
    return np.clip(x + intensity, np.min(x), np.max(x))


def random_channel_shift(x, intensity_range, channel_axis=0):
    """`apply_channel_shift` by an intensity drawn from `[-intensity_range, intensity_range]`."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness):
    """Multiplies the values by `brightness`, capped at 255 (8-bit white).

    This is Pillow's `ImageEnhance.Brightness` on the image's own values:
    Keras 2.2.4 went through an 8-bit image, which also stretched the values
    to `[0, 255]` (see docs/differences.md).
    """
    return np.minimum(np.asarray(x) * brightness, 255.)


def random_brightness(x, brightness_range):
    """`apply_brightness_shift` by a factor drawn from `brightness_range = (lower, upper)`.

    # Raises
        ValueError: if `brightness_range` is not two numbers.
    """
    if len(brightness_range) != 2:
        raise ValueError('`brightness_range should be tuple or list of two floats. '
                         'Received: %s' % (brightness_range,))
    return apply_brightness_shift(x, np.random.uniform(brightness_range[0],
                                                       brightness_range[1]))


def flip_axis(x, axis):
    """`x` reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


# --- the generator ------------------------------------------------------------

def _shift_in_pixels(shift_range, size):
    """One draw of a width/height shift (see `ImageDataGenerator`), in pixels."""
    if isinstance(shift_range, (int, np.integer)) or not np.isscalar(shift_range):
        # An int n draws from the integers -(n-1) .. n-1; a list from its values.
        choices = np.arange(shift_range) if np.isscalar(shift_range) else shift_range
        shift = np.random.choice(choices) * np.random.choice([-1, 1])
    else:
        shift = np.random.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


class ImageDataGenerator(object):
    """Batches of images with random augmentation and normalisation.

    For each image, in this order: a random geometric transform (rotation,
    shift, shear, zoom: `apply_affine_transform`), a channel shift, flips, a
    brightness change; then `standardize`: `preprocessing_function`,
    `rescale`, sample-wise then feature-wise centring and scaling, ZCA
    whitening (the feature-wise statistics come from `fit`).

    # Arguments
        featurewise_center: subtract the dataset's per-channel mean.
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the dataset's per-channel std.
        samplewise_std_normalization: divide each image by its std.
        zca_whitening: apply ZCA whitening (implies featurewise centring).
        zca_epsilon: added to the eigenvalues in ZCA whitening.
        rotation_range: degrees; the angle is drawn from `[-r, r]`.
        width_shift_range, height_shift_range: a float below 1: a fraction of
            the width/height; a float from 1: pixels, drawn from `[-r, r)`; an
            int `n`: whole pixels from `-(n-1)` to `n-1`; a list: its values,
            with a random sign.
        brightness_range: two floats: the brightness factor's range.
        shear_range: degrees of shear, drawn from `[-r, r]`.
        zoom_range: a float `z` (the range `[1 - z, 1 + z]`) or two floats.
        channel_shift_range: the range of a random shift of the values.
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap'.
        cval: the fill value for 'constant'.
        horizontal_flip, vertical_flip: flip half the images at random.
        rescale: None or 0 for none, otherwise a factor applied in
            `standardize`, after the augmentation.
        preprocessing_function: a function of one image (rank 3) returning
            an image of the same shape, run first in `standardize`.
        data_format: 'channels_last' or 'channels_first'; default
            `K.image_data_format()`.
        validation_split: the fraction of images kept for `subset='validation'`.
        dtype: the dtype of the batches (default `K.floatx()`).

    # Raises
        ValueError: for an unknown `data_format` or `fill_mode`, a
            `validation_split` outside (0, 1), or a bad `zoom_range` or
            `brightness_range`.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0., height_shift_range=0., brightness_range=None,
                 shear_range=0., zoom_range=0., channel_shift_range=0., fill_mode='nearest',
                 cval=0., horizontal_flip=False, vertical_flip=False, rescale=None,
                 preprocessing_function=None, data_format=None, validation_split=0.0,
                 dtype=None):
        data_format = data_format or K.image_data_format()
        if data_format not in ('channels_last', 'channels_first'):
            raise ValueError('`data_format` should be `"channels_last"` (channel after row and '
                             'column) or `"channels_first"` (channel before row and column). '
                             'Received: %s' % (data_format,))
        if fill_mode not in FILL_MODES:
            raise ValueError('ImageDataGenerator: `fill_mode` must be one of %s; received %r.'
                             % (', '.join(FILL_MODES), fill_mode))
        if validation_split and not 0 < validation_split < 1:
            raise ValueError('`validation_split` must be strictly between 0 and 1. '
                             ' Received: %s' % (validation_split,))
        if np.isscalar(zoom_range):
            zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2:
            zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError('`zoom_range` should be a float or a tuple or list of two floats. '
                             'Received: %s' % (zoom_range,))
        if brightness_range is not None and len(brightness_range) != 2:
            raise ValueError('`brightness_range should be tuple or list of two floats. '
                             'Received: %s' % (brightness_range,))
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.brightness_range = brightness_range
        self.shear_range = shear_range
        self.zoom_range = zoom_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or K.floatx()
        self.data_format = data_format
        if data_format == 'channels_first':
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self._validation_split = validation_split
        self.mean = None
        self.std = None
        self.principal_components = None
        self._resolve_implied_options()

    def _resolve_implied_options(self):
        """ZCA implies centring (and replaces std normalisation); std
        normalisation implies centring. Each override is warned about."""
        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                warnings.warn('This ImageDataGenerator specifies `zca_whitening`, which '
                              'overrides setting of `featurewise_center`.')
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn('This ImageDataGenerator specifies `zca_whitening` which '
                              'overrides setting of `featurewise_std_normalization`.')
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn('This ImageDataGenerator specifies `featurewise_std_normalization`, '
                          'which overrides setting of `featurewise_center`.')
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn('This ImageDataGenerator specifies `samplewise_std_normalization`, '
                          'which overrides setting of `samplewise_center`.')

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix='', save_format='png', subset=None):
        """Batches of augmented images from arrays (see `NumpyArrayIterator`)."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode='rgb',
                            classes=None, class_mode='categorical', batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix='',
                            save_format='png', follow_links=False, subset=None,
                            interpolation='nearest'):
        """Batches of augmented images read from class sub-folders (see `DirectoryIterator`)."""
        return DirectoryIterator(directory, self, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
                                 save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, dtype=self.dtype)

    def standardize(self, x):
        """Normalises one image, or a batch of them (rank 4), as configured.

        # Returns
            A new array; `x` is not modified. A sample-wise statistic is taken
            over each image alone, also in a batch.
        """
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        x = np.array(x, dtype=self.dtype)
        if self.rescale:
            x *= self.rescale
        per_image = tuple(range(x.ndim - 3, x.ndim))
        if self.samplewise_center:
            x -= np.mean(x, axis=per_image, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=per_image, keepdims=True) + 1e-6
        for wanted, statistic, option in ((self.featurewise_center, self.mean,
                                           'featurewise_center'),
                                          (self.featurewise_std_normalization, self.std,
                                           'featurewise_std_normalization'),
                                          (self.zca_whitening, self.principal_components,
                                           'zca_whitening')):
            if wanted and statistic is None:
                warnings.warn("This ImageDataGenerator specifies `%s`, but it hasn't been fit "
                              "on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`." % option)
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + 1e-6
        if self.zca_whitening and self.principal_components is not None:
            flat = np.reshape(x, (-1, int(np.prod(x.shape[-3:]))))
            x = np.reshape(flat.dot(self.principal_components), x.shape)
        return x

    def get_random_transform(self, img_shape, seed=None):
        """Draws the parameters of one image's augmentation.

        # Arguments
            img_shape: the image's shape (rank 3).
            seed: seeds NumPy's global generator first, if given.

        # Returns
            A dict with `theta`, `tx`, `ty`, `shear`, `zx`, `zy`,
            `flip_horizontal`, `flip_vertical`, `channel_shift_intensity` and
            `brightness` (the last two None when not configured).
        """
        if seed is not None:
            np.random.seed(seed)
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = _shift_in_pixels(self.height_shift_range, rows) if self.height_shift_range else 0
        ty = _shift_in_pixels(self.width_shift_range, cols) if self.width_shift_range else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) \
            if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(np.random.random() < 0.5) and bool(self.horizontal_flip)
        flip_vertical = bool(np.random.random() < 0.5) and bool(self.vertical_flip)
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = np.random.uniform(-self.channel_shift_range,
                                                        self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {'theta': theta, 'tx': tx, 'ty': ty, 'shear': shear, 'zx': zx, 'zy': zy,
                'flip_horizontal': flip_horizontal, 'flip_vertical': flip_vertical,
                'channel_shift_intensity': channel_shift_intensity, 'brightness': brightness}

    def apply_transform(self, x, transform_parameters):
        """Applies the augmentation `transform_parameters` (as from
        `get_random_transform`; missing keys mean "no change") to one image.

        # Raises
            ValueError: if `x` is not a rank-3 image.
        """
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError('ImageDataGenerator.apply_transform: expected one image of rank 3; '
                             'got shape %s.' % (x.shape,))
        rows, cols, channels = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        get = transform_parameters.get
        x = apply_affine_transform(x, get('theta', 0), get('tx', 0), get('ty', 0),
                                   get('shear', 0), get('zx', 1), get('zy', 1),
                                   row_axis=rows, col_axis=cols, channel_axis=channels,
                                   fill_mode=self.fill_mode, cval=self.cval)
        if get('channel_shift_intensity') is not None:
            x = apply_channel_shift(x, get('channel_shift_intensity'), channels)
        if get('flip_horizontal', False):
            x = flip_axis(x, cols)
        if get('flip_vertical', False):
            x = flip_axis(x, rows)
        if get('brightness') is not None:
            x = apply_brightness_shift(x, get('brightness'))
        return x

    def random_transform(self, x, seed=None):
        """One image with a random augmentation applied."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the dataset statistics `standardize` uses (mean, std, ZCA).

        # Arguments
            x: images, rank 4.
            augment: compute them over `rounds` randomly augmented copies.
            rounds: how many augmented copies of each image.
            seed: seeds NumPy's global generator first, if given.

        # Raises
            ValueError: if `x` is not rank 4. (A channel count other than 1,
                3 or 4 is warned about.)
        """
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError('Input to `.fit()` should have rank 4. Got array with shape: %s'
                             % (x.shape,))
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn('Expected input to be images (as Numpy array) following the data '
                          'format convention "%s" (channels on axis %d), i.e. expected either '
                          '1, 3 or 4 channels on axis %d. However, it was passed an array '
                          'with shape %s (%d channels).'
                          % (self.data_format, self.channel_axis, self.channel_axis, x.shape,
                             x.shape[self.channel_axis]))
        if seed is not None:
            np.random.seed(seed)
        if augment:
            x = np.stack([self.random_transform(image) for _ in range(rounds) for image in x])
            x = x.astype(self.dtype)
        per_channel = (0, self.row_axis, self.col_axis)
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=per_channel), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=per_channel), broadcast)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = np.reshape(x, (x.shape[0], -1))
            covariance = flat.T.dot(flat) / flat.shape[0]
            eigenvectors, eigenvalues, _ = np.linalg.svd(covariance)
            scale = 1. / np.sqrt(eigenvalues[np.newaxis] + self.zca_epsilon)
            self.principal_components = (eigenvectors * scale).dot(eigenvectors.T)


# --- iterators ----------------------------------------------------------------

class Iterator(Sequence):
    """Base of the image iterators: batches of indices into `n` samples.

    Usable as a `Sequence` (`len`, `[i]`, `on_epoch_end` reshuffles) and as a
    Python iterator that cycles forever (`next`).

    # Arguments
        n: the number of samples.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: a new order of the samples every epoch.
        seed: if set, NumPy's global generator is seeded with
            `seed + batches served so far` before each batch.
    """

    def __init__(self, n, batch_size, shuffle, seed):
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError('Asked to retrieve element {idx}, but the Sequence has length '
                             '{length}'.format(idx=idx, length=len(self)))
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        selected = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(selected)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            start = (self.batch_index * self.batch_size) % self.n
            if self.n > start + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def next(self):
        """The next batch (the iterator cycles over the samples forever)."""
        with self.lock:
            selected = next(self.index_generator)
        return self._get_batches_of_transformed_samples(selected)

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError

    def _save_batch(self, batch_x, index_array):
        for image, index in zip(batch_x, index_array):
            name = '%s_%d_%d.%s' % (self.save_prefix, index, np.random.randint(10 ** 7),
                                    self.save_format)
            array_to_img(image, self.data_format, scale=True).save(
                os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Batches of augmented images from an array (`ImageDataGenerator.flow`).

    # Arguments
        x: images (rank 4), or a tuple `(images, other)` where `other` is an
            array or a list of arrays passed through unchanged beside the
            images (the batch's input is then a list).
        y: targets, or None (the batches are then inputs only).
        image_data_generator: the `ImageDataGenerator`.
        batch_size, shuffle, seed: as in `Iterator`.
        sample_weight: optional weights, one per image.
        data_format: 'channels_last' or 'channels_first'.
        save_to_dir: if set, each augmented image is also written there as
            `{save_prefix}_{index}_{random}.{save_format}`.
        subset: 'training' or 'validation' with the generator's
            `validation_split` (validation is the first fraction).
        dtype: the images' dtype.

    # Raises
        ValueError: for arrays of different lengths, images that are not
            rank 4, an unknown subset, or a split that leaves the subsets
            with different classes.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix='', save_format='png', subset=None, dtype=None):
        data_format = data_format or K.image_data_format()
        self.dtype = dtype or K.floatx()
        if isinstance(x, (tuple, list)):
            extra = x[1]
            x_misc = [np.asarray(item) for item in extra] if isinstance(extra, list) \
                else [np.asarray(extra)]
            x = x[0]
            for item in x_misc:
                if len(x) != len(item):
                    raise ValueError('All of the arrays in `x` should have the same length. '
                                     'Found a pair with: len(x[0]) = %s, len(x[?]) = %s'
                                     % (len(x), len(item)))
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError('`x` (images tensor) and `y` (labels) should have the same length. '
                             'Found: x.shape = %s, y.shape = %s'
                             % (np.shape(x), np.shape(y)))
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError('`x` (images tensor) and `sample_weight` should have the same '
                             'length. Found: x.shape = %s, sample_weight.shape = %s'
                             % (np.shape(x), np.shape(sample_weight)))
        if subset is not None:
            if subset not in ('training', 'validation'):
                raise ValueError('Invalid subset name: %r; expected "training" or "validation".'
                                 % (subset,))
            split = int(len(x) * image_data_generator._validation_split)
            if y is not None and not np.array_equal(np.unique(y[:split]), np.unique(y[split:])):
                raise ValueError('Training and validation subsets have different number of '
                                 'classes after the split. If your numpy arrays are sorted by '
                                 'the label, you might want to shuffle them.')
            part = slice(None, split) if subset == 'validation' else slice(split, None)
            x = x[part]
            x_misc = [item[part] for item in x_misc]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError('Input data in `NumpyArrayIterator` should have rank 4 (images, '
                             'rows, columns, channels in some order). You passed an array with '
                             'shape %s.' % (self.x.shape,))
        channels_axis = 3 if data_format == 'channels_last' else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn('NumpyArrayIterator is set to use the data format convention "%s" '
                          '(channels on axis %d), i.e. expected either 1, 3, or 4 channels on '
                          'axis %d. However, it was passed an array with shape %s (%d channels).'
                          % (data_format, channels_axis, channels_axis, self.x.shape,
                             self.x.shape[channels_axis]))
        self.x_misc = x_misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super(NumpyArrayIterator, self).__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        generator = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for row, index in enumerate(index_array):
            image = self.x[index]
            image = generator.apply_transform(image, generator.get_random_transform(image.shape))
            batch_x[row] = generator.standardize(image)
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        inputs = [batch_x] + [item[index_array] for item in self.x_misc] if self.x_misc \
            else batch_x
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]


def _image_files(directory, follow_links):
    """`(folder, name)` of the image files under `directory`, in sorted order."""
    for root, _, names in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        for name in sorted(names):
            lowered = name.lower()
            if lowered.endswith('.tiff'):
                warnings.warn("Using '.tiff' files with multiple bands will cause distortion. "
                              "Please verify your output.")
            if any(lowered.endswith('.' + extension) for extension in IMAGE_FORMATS):
                yield root, name


class DirectoryIterator(Iterator):
    """Batches of augmented images read from a folder of class sub-folders.

    `directory/<class>/.../<image>`: every sub-folder is a class (sorted by
    name, unless `classes` lists them), every image file under it (at any
    depth; png, jpg, jpeg, bmp, ppm, tif, tiff) a sample of that class.

    # Arguments
        directory: the folder.
        image_data_generator: the `ImageDataGenerator`.
        target_size: `(height, width)` the images are resized to.
        color_mode: 'grayscale', 'rgb' or 'rgba'.
        classes: optional list of the class sub-folders to use.
        class_mode: the targets: 'categorical' (one-hot), 'binary' (0/1
            floats), 'sparse' (integers), 'input' (the images themselves) or
            None (no targets).
        batch_size, shuffle, seed: as in `Iterator`.
        data_format: 'channels_last' or 'channels_first'.
        save_to_dir, save_prefix, save_format: as in `NumpyArrayIterator`.
        follow_links: follow symbolic links to folders.
        subset: 'training' or 'validation' with the generator's
            `validation_split` (taken per class: the first fraction of each
            class's files is for validation).
        interpolation: the resampling of `load_img`.
        dtype: the batches' dtype.

    # Attributes
        filenames: the files, relative to `directory`; `classes`: their class
        indices; `class_indices`: class name -> index; `samples`: the count.

    # Raises
        ValueError: for an unknown `color_mode`, `class_mode` or `subset`,
            a `directory` that is not a folder, or a folder with no images.
    """

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode='rgb', classes=None, class_mode='categorical', batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None, save_prefix='',
                 save_format='png', follow_links=False, subset=None, interpolation='nearest',
                 dtype=None):
        data_format = data_format or K.image_data_format()
        if color_mode not in COLOR_MODES:
            raise ValueError('Invalid color mode: %r; expected "rgb", "rgba", or "grayscale".'
                             % (color_mode,))
        if class_mode not in CLASS_MODES:
            raise ValueError('Invalid class_mode: %r; expected one of "categorical", "binary", '
                             '"sparse", "input" or None.' % (class_mode,))
        if subset not in (None, 'training', 'validation'):
            raise ValueError('Invalid subset name: %r; expected "training" or "validation"'
                             % (subset,))
        if not os.path.isdir(directory):
            raise ValueError('flow_from_directory: %r is not a folder.' % (directory,))
        self.directory = directory
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.color_mode = color_mode
        self.data_format = data_format
        channels = {'grayscale': 1, 'rgb': 3, 'rgba': 4}[color_mode]
        self.image_shape = self.target_size + (channels,) if data_format == 'channels_last' \
            else (channels,) + self.target_size
        self.class_mode = class_mode
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        self.subset = subset
        self.dtype = dtype or K.floatx()
        fraction = image_data_generator._validation_split
        self.split = None if subset is None else \
            ((0, fraction) if subset == 'validation' else (fraction, 1))
        if not classes:
            classes = [name for name in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, name))]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, labels = [], []
        for name in classes:
            files = self._class_files(os.path.join(directory, name), follow_links)
            self.filenames += [os.path.join(name, relative) for relative in files]
            labels += [self.class_indices[name]] * len(files)
        self.samples = len(self.filenames)
        self.classes = np.array(labels, dtype='int32')
        if self.samples == 0:
            raise ValueError('flow_from_directory: found no images in %r (looked for %s files '
                             'in its class sub-folders %s%s).'
                             % (directory, '/'.join(IMAGE_FORMATS), classes,
                                '' if subset is None else ', subset %r' % subset))
        print('Found %d images belonging to %d classes.' % (self.samples, self.num_classes))
        super(DirectoryIterator, self).__init__(self.samples, batch_size, shuffle, seed)

    def _class_files(self, folder, follow_links):
        """One class's image files, relative to its folder, cut to the subset."""
        files = [os.path.relpath(os.path.join(root, name), folder)
                 for root, name in _image_files(folder, follow_links)]
        if self.split is None:
            return files
        return files[int(self.split[0] * len(files)):int(self.split[1] * len(files))]

    def _get_batches_of_transformed_samples(self, index_array):
        generator = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for row, index in enumerate(index_array):
            img = load_img(os.path.join(self.directory, self.filenames[index]),
                           color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation)
            image = img_to_array(img, data_format=self.data_format)
            img.close()
            image = generator.apply_transform(image, generator.get_random_transform(image.shape))
            batch_x[row] = generator.standardize(image)
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        if self.class_mode == 'input':
            return batch_x, batch_x.copy()
        if self.class_mode == 'sparse':
            return batch_x, self.classes[index_array]
        if self.class_mode == 'binary':
            return batch_x, self.classes[index_array].astype(self.dtype)
        if self.class_mode == 'categorical':
            batch_y = np.zeros((len(batch_x), self.num_classes), dtype=self.dtype)
            batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.
            return batch_x, batch_y
        return batch_x
