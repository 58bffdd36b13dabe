"""What the application models share: argument checks, the image input, the
feature pooling, and getting and loading weights.

Every model function runs the same steps (FAQ: "How can I use pre-trained
models in Keras?"):

1. check the arguments (`check_arguments`, then `_obtain_input_shape` and
   any model-specific checks), so that bad ones fail before anything is built;
2. with `weights='imagenet'`, find the weights file (`pretrained_weights_file`:
   the cache, else a download), also before building;
3. build the layers on `image_input(...)`, end with the classifier or
   `feature_pooling`;
4. `finish_model`: the `Model`, its weights loaded.

Differences from Keras 2.2.4, on purpose:
- Steps 1 and 2 come before the model is built (Keras built the model, then
  downloaded the weights): an offline `VGG16(weights='imagenet')` fails at
  once, without allocating 138 million weights, and its error says where to
  place the file by hand.
- An unknown `pooling` value is an error (Keras ignored it).
- A model that works only in 'channels_last' (Xception, MobileNet) switches
  the image data format while it is built and always switches it back
  (Keras left it switched when building failed).
"""
import contextlib
import os
import warnings

from refkeras import backend as K
from refkeras.backend import config as config_module
from refkeras.engine.input_layer import Input
from refkeras.engine.training import Model
from refkeras.layers import GlobalAveragePooling2D, GlobalMaxPooling2D
from refkeras.utils import data_utils

POOLING_MODES = (None, 'avg', 'max')
CACHE_SUBDIR = 'models'  # of the Keras directory, for weights and the class index


class CachedFileUnavailableError(OSError):
    """A file an application needs could neither be found in the cache nor downloaded."""


class PretrainedWeightsUnavailableError(CachedFileUnavailableError):
    """The ImageNet weights file could neither be found in the cache nor downloaded."""


def check_arguments(model_name, weights, include_top, pooling, classes, input_tensor):
    """The checks every application model makes first.

    # Raises
        ValueError: when `weights` is not None, 'imagenet' or the path of an
            existing file; when ImageNet weights with the classifier are asked
            for with `classes != 1000`; for an unknown `pooling`; for an
            `input_tensor` that is not a backend tensor.
    """
    if not (weights is None or weights == 'imagenet' or
            (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError('%s: the `weights` argument should be None (random initialization), '
                         "'imagenet' (pre-training on ImageNet) or the path to an existing "
                         'weights file; received %r.' % (model_name, weights))
    if weights == 'imagenet' and include_top and classes != 1000:
        raise ValueError("%s: with weights='imagenet' and include_top=True the classifier has "
                         'the 1000 ImageNet classes, so `classes` should be 1000; received %r.'
                         % (model_name, classes))
    if pooling not in POOLING_MODES:
        raise ValueError("%s: `pooling` should be None, 'avg' or 'max'; received %r."
                         % (model_name, pooling))
    if input_tensor is not None and not K.is_tensor(input_tensor):
        raise ValueError('%s: `input_tensor` should be a backend tensor such as the output of '
                         '`Input()`; received an object of type %s.'
                         % (model_name, type(input_tensor).__name__))


def fetch_into_cache(owner, description, file_name, origin, file_hash=None,
                     error_class=CachedFileUnavailableError):
    """The local path of `<Keras dir>/models/<file_name>`, downloaded from
    `origin` if it is not there yet (or has the wrong hash).

    The Keras directory is `$KERAS_HOME` or `~/.keras` (see "Where is the
    Keras configuration file stored?").

    # Arguments
        owner: who needs the file, for the message ('VGG16', ...).
        description: what the file is, for the message.
        file_name, origin, file_hash: as `get_file`'s `fname`, `origin`
            and `file_hash` (md5 or sha256; None for no check).
        error_class: the exception raised on failure.

    # Raises
        error_class: when the file is not in the cache (or has the wrong
            hash) and cannot be downloaded; the message names the exact path
            where the file can be placed by hand.
    """
    try:
        return data_utils.get_file(file_name, origin, cache_subdir=CACHE_SUBDIR,
                                   file_hash=file_hash)
    except (OSError, ValueError) as error:
        # The folder get_file itself uses (it falls back to /tmp/.keras when
        # the Keras directory is not writable).
        folder = data_utils._cache_folder(config_module.keras_dir(), CACHE_SUBDIR)
        path = os.path.join(folder, file_name)
        hash_text = ' (md5 %s)' % file_hash if file_hash else ''
        present = ''
        if os.path.exists(path):
            present = ' The file now at that path does not have the expected hash.'
        raise error_class(
            '%s: could not get %s %s (%s). Without network access, download %s elsewhere and '
            'place it by hand at %s%s; it is then used without downloading.%s'
            % (owner, description, file_name, error, origin, path, hash_text,
               present)) from error


def pretrained_weights_file(model_name, file_name, origin, file_hash=None):
    """The local path of a pre-trained weights file, downloaded if needed (see
    `fetch_into_cache`).

    # Raises
        PretrainedWeightsUnavailableError: when the file is not cached and
            cannot be downloaded; the message says where to place it by hand.
    """
    return fetch_into_cache(model_name, 'the ImageNet weights file', file_name, origin,
                            file_hash, error_class=PretrainedWeightsUnavailableError)


def image_input(input_tensor, input_shape):
    """The tensor the model starts from: a new `Input`, or `input_tensor`
    (wrapped in an `Input` when it does not come from a Keras layer)."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not K.is_keras_tensor(input_tensor):
        return Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def channel_axis():
    """The axis of the channels in a batch of images, for the current data format."""
    return 1 if K.image_data_format() == 'channels_first' else 3


@contextlib.contextmanager
def channels_last_while_building(model_name):
    """Builds a model that exists only in 'channels_last' under that format.

    With 'channels_first' configured, warns (as Keras does), switches to
    'channels_last' for the duration, and switches back afterwards, also
    when building fails.
    """
    previous = K.image_data_format()
    if previous != 'channels_last':
        warnings.warn('The %s model is only available for the input data format '
                      '"channels_last" (rows, cols, channels), but the configured '
                      'image_data_format is %r. The model returned expects channels_last '
                      'inputs; set image_data_format="channels_last" in keras.json to avoid '
                      'this warning.' % (model_name, previous))
        K.set_image_data_format('channels_last')
    try:
        yield
    finally:
        K.set_image_data_format(previous)


def feature_pooling(x, pooling):
    """The optional global pooling of a model built without its classifier."""
    if pooling == 'avg':
        return GlobalAveragePooling2D()(x)
    if pooling == 'max':
        return GlobalMaxPooling2D()(x)
    return x


def source_inputs(tensor):
    """The model inputs (`Input` tensors) that `tensor` is computed from.

    Follows the layer calls that produced `tensor` back to input layers, so
    that a model built on an `input_tensor` with predecessors takes those
    predecessors' inputs (Keras's `get_source_inputs`).
    """
    found = []
    pending = [tensor]
    while pending:
        current = pending.pop()
        history = getattr(current, '_keras_history', None)
        if history is None:
            candidates = [current]
        else:
            layer, node_index, _ = history
            node = layer._inbound_nodes[node_index]
            if node.inbound_layers:
                pending.extend(reversed(node.input_tensors))
                continue
            candidates = node.input_tensors
        for candidate in candidates:
            if all(candidate is not seen for seen in found):
                found.append(candidate)
    return found


def finish_model(input_tensor, img_input, outputs, name, weights, weights_path=None):
    """The `Model` from the image input to `outputs`, with its weights loaded.

    # Arguments
        input_tensor: the user's `input_tensor` (or None).
        img_input: what `image_input` returned.
        outputs: the last tensor.
        name: the model name ('vgg16', ...).
        weights: the `weights` argument.
        weights_path: the ImageNet weights file, when `weights='imagenet'`.
    """
    inputs = img_input if input_tensor is None else source_inputs(input_tensor)
    model = Model(inputs, outputs, name=name)
    if weights == 'imagenet':
        model.load_weights(weights_path)
    elif weights is not None:
        model.load_weights(weights)
    return model
