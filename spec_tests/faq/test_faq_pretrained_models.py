"""FAQ: "How can I use pre-trained models in Keras?"

The seven models the FAQ lists, imported from the FAQ's module paths:
- their size (parameter counts from the table of Keras 2.2.4's Applications
  documentation), layer counts worked out by hand from each architecture,
  output shapes, pooling variants and a prediction on a small input, with
  the wiring of residual blocks checked against the formulas they implement
  and VGG16 against a NumPy forward pass written from the paper;
- `preprocess_input` (the 'caffe', 'tf' and 'torch' modes) against values
  worked by hand, and `decode_predictions` with a small class index served
  from a local file:// origin;
- weights: a file written by refkeras loads back (as a path, and as
  `'imagenet'` once placed in the cache by hand); offline, the FAQ's
  `VGG16(weights='imagenet', include_top=True)` fails at once with an error
  naming the exact path where the file can be placed;
- the argument checks, all raised before anything is built.

The models are big, so they are built without weights' downloads, mostly
without the classifier and at their minimum input sizes. The network is
never used: downloads go through `urlopen` patched (for one test) to fail.
"""
import hashlib
import json
import os
import warnings

import numpy as np
import pytest

from refkeras import backend as K
from refkeras.applications import imagenet_utils
from refkeras.applications.inception_resnet_v2 import InceptionResNetV2
from refkeras.applications.inception_v3 import InceptionV3
from refkeras.applications.mobilenet import MobileNet
from refkeras.applications.resnet50 import ResNet50
from refkeras.applications.vgg16 import VGG16
from refkeras.applications.vgg19 import VGG19
from refkeras.applications.xception import Xception
from refkeras.applications import (CachedFileUnavailableError, PretrainedWeightsUnavailableError,
                                   inception_resnet_v2, inception_v3, mobilenet, resnet50, vgg16,
                                   vgg19, xception)
from refkeras.layers import Conv2D, Input
from refkeras.models import Model, model_from_json
from refkeras.utils import data_utils

from keras_under_test import refkeras_only

pytestmark = [refkeras_only("checks refkeras.applications' layer counts, weight files and errors; "
                            "not yet ported"),
              # each test gets its own Keras directory, so its own `models/` cache
              pytest.mark.usefixtures('isolated_keras_home')]




def nothing_built_since(probe_name):
    """Whether no `Input` was created since the one named `probe_name`:
    the next automatic input name follows it directly."""
    number = int(probe_name.rsplit('_', 1)[1])
    follower = Input(shape=(1,))
    return follower._keras_history[0].name == 'input_%d' % (number + 1)


def relu(x):
    return np.maximum(x, 0.)


def outputs_of(model, names, x, which='output'):
    """The values of the named layers' outputs (or inputs) for the batch `x`."""
    tensors = [getattr(model.get_layer(name), which) for name in names]
    return Model(model.inputs, tensors).predict(x)


# --- size: parameters and layers ---------------------------------------------------------

# The "Parameters" column of the table in Keras 2.2.4's docs/templates/applications.md.
DOCUMENTED_PARAMETERS = {
    'Xception': 22910480,
    'VGG16': 138357544,
    'VGG19': 143667240,
    'ResNet50': 25636712,
    'InceptionV3': 23851784,
    'InceptionResNetV2': 55873736,
    'MobileNet': 4253864,
}

# Layer counts, from the architectures (an Input layer is counted too):
XCEPTION_LAYERS = (1 + 6  # input; 2 x (conv, bn, relu)
                   + 3 * 10 - 1  # blocks 2-4: conv+bn shortcut, 2 x (relu, sepconv, bn),
                   #               pool, add; block 2 has no leading relu
                   + 8 * 10  # blocks 5-12: 3 x (relu, sepconv, bn), add
                   + 10  # block 13 (like blocks 3-4)
                   + 6)  # block 14: 2 x (sepconv, bn, relu)
RESNET50_LAYERS = (1 + 6  # input, pad, conv, bn, relu, pad, max pool
                   + 16 * 10  # per block: 3 x (conv, bn), 2 relus inside, add, relu
                   + 4 * 2)  # the first block of each stage: shortcut conv + bn
# InceptionV3: every convolution comes with a bn and a relu (3 layers).
INCEPTION_V3_CONVS = (5  # stem
                      + 3 * 7  # mixed0-2: 1 + 2 + 3 + 1
                      + 4  # mixed3: 1 + 3
                      + 4 * 10  # mixed4-7: 1 + 3 + 5 + 1
                      + 6  # mixed8: 2 + 4
                      + 2 * 9)  # mixed9-10: 1 + (1 + 2) + (2 + 2) + 1
INCEPTION_V3_LAYERS = (1 + 3 * INCEPTION_V3_CONVS
                       + 13  # poolings: 2 stem, 3 + 4 + 2 average, 2 max in reductions
                       + 11 + 2 * 2)  # concatenations: mixed0-10, and 2 inside mixed9-10
# InceptionResNetV2: a conv with bn and activation is 3 layers; a residual block adds
# concat, 1x1 conv (with bias, alone), the scaled sum and an activation.
INCEPTION_RESNET_V2_LAYERS = (1 + 3 * 5 + 2  # input, stem convs, 2 max poolings
                              + 3 * 7 + 2  # mixed_5b: 7 convs, avg pool, concat
                              + 10 * (3 * 6 + 4)  # block35: 6 convs
                              + 3 * 4 + 2  # mixed_6a: 4 convs, max pool, concat
                              + 20 * (3 * 4 + 4)  # block17: 4 convs
                              + 3 * 7 + 2  # mixed_7a
                              + 10 * (3 * 4 + 4) - 1  # block8: 4 convs; the last has no relu
                              + 3)  # conv_7b
MOBILENET_LAYERS = (1 + 4  # input, pad, conv, bn, relu6
                    + 13 * 6  # per block: depthwise, bn, relu6, pointwise, bn, relu6
                    + 4)  # the padding of the 4 strided blocks
TOP_LAYERS = {'Xception': 2, 'ResNet50': 2, 'InceptionV3': 2, 'InceptionResNetV2': 2,
              'MobileNet': 6}  # pooling + dense; MobileNet: pool, reshape, dropout, conv,
#                                softmax, reshape


def test_the_layer_counts_worked_by_hand_match_what_keras_models_have():
    # Sanity check of the formulas above against the lengths of Keras 2.2.4's
    # models (`len(model.layers)`, which include_top=True adds to).
    assert (XCEPTION_LAYERS, RESNET50_LAYERS, INCEPTION_V3_LAYERS,
            INCEPTION_RESNET_V2_LAYERS, MOBILENET_LAYERS) == (132, 175, 311, 780, 87)


@pytest.mark.parametrize('constructor, notop_layers, features', [
    (Xception, XCEPTION_LAYERS, 2048),
    (ResNet50, RESNET50_LAYERS, 2048),
    (InceptionV3, INCEPTION_V3_LAYERS, 2048),
    (InceptionResNetV2, INCEPTION_RESNET_V2_LAYERS, 1536),
    (MobileNet, MOBILENET_LAYERS, 1024),
])
def test_full_model_has_the_documented_parameter_count_and_layers(constructor, notop_layers,
                                                                  features):
    model = constructor(weights=None)
    name = constructor.__name__
    assert model.count_params() == DOCUMENTED_PARAMETERS[name]
    assert len(model.layers) == notop_layers + TOP_LAYERS[name]
    assert model.output_shape == (None, 1000)
    # The classifier's weights: features x 1000 plus 1000 biases.
    last_with_weights = [layer for layer in model.layers if layer.weights][-1]
    assert last_with_weights.count_params() == features * 1000 + 1000


def test_vgg16_full_model():
    # Built once with the 138M-parameter classifier, as the FAQ snippet would.
    model = VGG16(weights=None)
    assert model.count_params() == DOCUMENTED_PARAMETERS['VGG16']
    assert model.name == 'vgg16'
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    expected = (['input'] +
                ['block1_conv1', 'block1_conv2', 'block1_pool',
                 'block2_conv1', 'block2_conv2', 'block2_pool',
                 'block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_pool',
                 'block4_conv1', 'block4_conv2', 'block4_conv3', 'block4_pool',
                 'block5_conv1', 'block5_conv2', 'block5_conv3', 'block5_pool',
                 'flatten', 'fc1', 'fc2', 'predictions'])
    names = [layer.name for layer in model.layers]
    assert names[0].startswith('input_') and names[1:] == expected[1:]
    assert model.get_layer('fc1').kernel.shape == (7 * 7 * 512, 4096)


def test_vgg19_parameter_count_from_layer_shapes():
    # The classifier is built at 32x32, where the flattened map has 512 values
    # instead of 7 * 7 * 512 at 224x224; only fc1's kernel depends on that.
    small = VGG19(weights=None, input_shape=(32, 32, 3))
    assert len(small.layers) == 26
    assert small.get_layer('fc1').kernel.shape == (512, 4096)
    assert small.count_params() + (7 * 7 * 512 - 512) * 4096 == DOCUMENTED_PARAMETERS['VGG19']
    assert [layer.name for layer in small.layers if layer.name.startswith('block3')] == \
        ['block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_conv4', 'block3_pool']


def test_vgg_convolutional_part_parameters():
    # 3x3 convolutions with bias: (9 * in + 1) * out each.
    def conv_params(channels):
        return sum((9 * cin + 1) * cout for cin, cout in zip(channels, channels[1:]))
    vgg16_channels = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    vgg19_channels = [3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512,
                      512, 512]
    for constructor, channels, layers in ((VGG16, vgg16_channels, 19),
                                          (VGG19, vgg19_channels, 22)):
        model = constructor(weights=None, include_top=False)
        assert model.count_params() == conv_params(channels)
        assert len(model.layers) == layers
        assert model.output_shape == (None, None, None, 512)


# --- output shapes and pooling -----------------------------------------------------------

MINIMUM_SIZES = [(VGG16, 32, 512, 1), (VGG19, 32, 512, 1), (ResNet50, 32, 2048, 1),
                 (InceptionV3, 75, 2048, 1), (InceptionResNetV2, 75, 1536, 1),
                 (Xception, 71, 2048, 3), (MobileNet, 32, 1024, 1)]


@pytest.mark.parametrize('constructor, size, features, spatial', MINIMUM_SIZES)
def test_pooling_variants_at_the_minimum_size(constructor, size, features, spatial):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # ResNet50's note on its include_top=False output
        model = constructor(weights=None, include_top=False, input_shape=(size, size, 3))
    assert model.output_shape == (None, spatial, spatial, features)
    x = np.random.RandomState(0).uniform(-1, 1, (2, size, size, 3)).astype('float32')
    feature_map = model.predict(x)
    assert feature_map.shape == (2, spatial, spatial, features)
    assert np.all(np.isfinite(feature_map))
    # Same weights, global pooling on top.
    for pooling, reduce in (('avg', np.mean), ('max', np.max)):
        pooled_model = constructor(weights=None, include_top=False, input_shape=(size, size, 3),
                                   pooling=pooling)
        assert pooled_model.output_shape == (None, features)
        pooled_model.set_weights(model.get_weights())
        np.testing.assert_allclose(pooled_model.predict(x), reduce(feature_map, axis=(1, 2)),
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='at least %dx%d' % (size, size)):
        constructor(weights=None, include_top=False, input_shape=(size - 1, size, 3))


def test_resnet50_without_classifier_warns_about_the_changed_output():
    with pytest.warns(UserWarning, match='changed since Keras 2.2.0'):
        ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))


def test_inception_v3_module_sizes():
    model = InceptionV3(weights=None, include_top=False, input_shape=(299, 299, 3))
    # (rows, cols, channels) after each mixed module, from the paper's grid sizes:
    # channels are the sums of the branches' filters.
    expected = {'mixed0': (35, 35, 64 + 64 + 96 + 32), 'mixed1': (35, 35, 64 + 64 + 96 + 64),
                'mixed2': (35, 35, 288), 'mixed3': (17, 17, 384 + 96 + 288),
                'mixed7': (17, 17, 4 * 192), 'mixed8': (8, 8, 320 + 192 + 768),
                'mixed9_0': (8, 8, 768), 'mixed10': (8, 8, 320 + 768 + 768 + 192)}
    for name, shape in expected.items():
        assert model.get_layer(name).output_shape == (None,) + shape


def test_mobilenet_alpha_and_depth_multiplier():
    model = MobileNet(weights=None, alpha=0.5, depth_multiplier=2, include_top=False,
                      input_shape=(128, 128, 3))
    assert model.name == 'mobilenet_0.50_128'
    assert model.output_shape == (None, 4, 4, 512)
    assert model.get_layer('conv1').kernel.shape == (3, 3, 3, 16)
    assert model.get_layer('conv_dw_1').depthwise_kernel.shape == (3, 3, 16, 2)
    assert model.get_layer('conv_pw_1').kernel.shape == (1, 1, 32, 32)
    assert model.get_layer('conv_pw_13').kernel.shape == (1, 1, 1024, 512)
    free = MobileNet(weights=None, include_top=False)
    assert free.name == 'mobilenet_1.00_None' and free.input_shape == (None, None, None, 3)


def test_mobilenet_classifier_predicts_probabilities():
    model = MobileNet(weights=None, alpha=0.25, input_shape=(32, 32, 3), classes=7)
    assert [layer.name for layer in model.layers[-5:]] == \
        ['reshape_1', 'dropout', 'conv_preds', 'act_softmax', 'reshape_2']
    assert model.get_layer('reshape_1').output_shape == (None, 1, 1, 256)
    probabilities = model.predict(np.random.RandomState(1).uniform(-1, 1, (3, 32, 32, 3)))
    assert probabilities.shape == (3, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1., rtol=1e-5)
    assert np.all(probabilities > 0)


# --- wiring checked against independent computations -------------------------------------


def numpy_vgg16_features(x, model):
    """VGG16's convolutional part as the paper describes it, in float64 NumPy:
    3x3 convolutions with 'same' zero padding and ReLU, 2x2 max pooling."""
    x = x.astype('float64')
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for conv in range(1, convs + 1):
            kernel, bias = model.get_layer('block%d_conv%d' % (block, conv)).get_weights()
            padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
            # windows: (batch, rows, cols, channels, 3, 3); kernel: (3, 3, channels, filters)
            x = relu(np.einsum('nrwcij,ijcf->nrwf', windows, kernel.astype('float64')) + bias)
        n, rows, cols, channels = x.shape
        x = x.reshape(n, rows // 2, 2, cols // 2, 2, channels).max(axis=(2, 4))
    return x


def test_vgg16_features_match_a_numpy_forward_pass():
    model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    x = np.random.RandomState(2).uniform(0, 1, (2, 32, 32, 3)).astype('float32')
    expected = numpy_vgg16_features(x, model)
    got = model.predict(x)
    assert got.shape == expected.shape == (2, 1, 1, 512)
    # float32 sums of up to 9 * 512 products through 13 layers, against float64.
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_resnet50_blocks_add_their_shortcuts():
    model = ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3), pooling='avg')
    # Randomize the batch-normalization statistics so that no branch is trivial.
    rng = np.random.RandomState(3)
    model.set_weights([w if w.ndim > 1 else rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    x = rng.uniform(-1, 1, (1, 64, 64, 3)).astype('float32')
    identity_in, identity_out, conv_in, conv_out = outputs_of(
        model, ['res2b_branch2a', 'res2c_branch2a', 'res3a_branch2a', 'res3b_branch2a'], x,
        which='input')
    main_identity, main_conv, shortcut = outputs_of(
        model, ['bn2b_branch2c', 'bn3a_branch2c', 'bn3a_branch1'], x)
    np.testing.assert_allclose(identity_out, relu(main_identity + identity_in), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(conv_out, relu(main_conv + shortcut), rtol=1e-5, atol=1e-5)
    assert conv_out.shape[1:] == (8, 8, 512)  # 64 / 2 (conv1) / 2 (pool) / 2 (stage 3)


def test_inception_resnet_v2_blocks_scale_their_residuals():
    model = InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3))
    x = np.random.RandomState(4).uniform(-1, 1, (1, 75, 75, 3)).astype('float32')
    block_in, residual, summed, activated = outputs_of(
        model, ['mixed_5b', 'block35_1_conv', 'block35_1', 'block35_1_ac'], x)
    np.testing.assert_allclose(summed, block_in + 0.17 * residual, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(activated, relu(summed), rtol=1e-6, atol=1e-6)
    assert model.get_layer('block8_10').output is model.get_layer('conv_7b').input
    with pytest.raises(ValueError):
        model.get_layer('block8_10_ac')


def test_inception_resnet_v2_architecture_round_trips_through_json():
    model = InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3))
    # The residual sums are a named function, loadable without running bytecode.
    rebuilt = model_from_json(model.to_json(), custom_objects={
        'scaled_residual': inception_resnet_v2.scaled_residual})
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt.get_layer('block17_3').arguments == {'scale': 0.1}


def test_xception_middle_blocks_add_their_input():
    model = Xception(weights=None, include_top=False, input_shape=(71, 71, 3))
    x = np.random.RandomState(5).uniform(-1, 1, (1, 71, 71, 3)).astype('float32')
    block_in, block_out = outputs_of(model, ['block5_sepconv1_act', 'block6_sepconv1_act'], x,
                                     which='input')
    (last_bn,) = outputs_of(model, ['block5_sepconv3_bn'], x)
    np.testing.assert_allclose(block_out, last_bn + block_in, rtol=1e-5, atol=1e-5)


def test_input_tensor_with_predecessors_becomes_part_of_the_model():
    source = Input(shape=(64, 64, 3))
    halved = Conv2D(3, (2, 2), strides=(2, 2), name='shrink')(source)
    model = MobileNet(weights=None, alpha=0.25, include_top=False, input_tensor=halved,
                      pooling='avg')
    assert model.inputs == [source]
    assert model.layers[1].name == 'shrink'
    assert model.predict(np.zeros((1, 64, 64, 3))).shape == (1, 256)
    direct = Input(shape=(32, 32, 3))
    assert VGG16(weights=None, include_top=False, input_tensor=direct).inputs == [direct]
    placeholder = K.placeholder(shape=(None, 32, 32, 3))
    wrapped = VGG16(weights=None, include_top=False, input_tensor=placeholder)
    assert wrapped.inputs == [placeholder] and wrapped.output_shape == (None, 1, 1, 512)


# --- data formats ------------------------------------------------------------------------


def test_channels_first_models(channels_first):
    vgg = VGG16(weights=None, include_top=False, input_shape=(3, 32, 32))
    assert vgg.output_shape == (None, 512, 1, 1)
    assert vgg.predict(np.zeros((1, 3, 32, 32))).shape == (1, 512, 1, 1)
    resnet = ResNet50(weights=None, include_top=False, input_shape=(3, 32, 32), pooling='max')
    assert resnet.get_layer('bn_conv1').axis == 1
    assert resnet.output_shape == (None, 2048)
    with pytest.raises(ValueError, match='3 input channels'):
        VGG16(weights='imagenet', include_top=False, input_shape=(32, 32, 3))


@pytest.mark.parametrize('constructor, shape', [(Xception, (71, 71, 3)),
                                                (MobileNet, (32, 32, 3))])
def test_channels_last_only_models_switch_format_and_back(channels_first, constructor, shape):
    with pytest.warns(UserWarning, match='only available for the input data format'):
        model = constructor(weights=None, include_top=False, input_shape=shape)
    assert model.input_shape == (None,) + shape
    assert K.image_data_format() == 'channels_first'
    # Also when building fails.
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        constructor(weights=None, include_top=False, input_shape=(20, 20, 3))
    assert K.image_data_format() == 'channels_first'


# --- preprocess_input ----------------------------------------------------------------------

# One 1x2 image: pixels (R, G, B) = (0, 127.5, 255) and (10, 20, 30).
PIXELS = np.array([[[[0., 127.5, 255.], [10., 20., 30.]]]], dtype='float32')
CAFFE = [[[[255 - 103.939, 127.5 - 116.779, 0 - 123.68],
           [30 - 103.939, 20 - 116.779, 10 - 123.68]]]]
TF = [[[[-1., 0., 1.], [10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1]]]]
TORCH = [[[[(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225],
           [(10 / 255 - 0.485) / 0.229, (20 / 255 - 0.456) / 0.224,
            (30 / 255 - 0.406) / 0.225]]]]
BY_MODE = {'caffe': CAFFE, 'tf': TF, 'torch': TORCH}


@pytest.mark.parametrize('mode', ['caffe', 'tf', 'torch'])
def test_preprocess_modes_worked_by_hand(mode):
    original = PIXELS.copy()
    out = imagenet_utils.preprocess_input(PIXELS, mode=mode)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, BY_MODE[mode], rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(PIXELS, original)  # the input is left alone
    # One image instead of a batch, and channels_first.
    np.testing.assert_allclose(imagenet_utils.preprocess_input(PIXELS[0], mode=mode),
                               BY_MODE[mode][0], rtol=1e-6, atol=1e-5)
    first = np.moveaxis(PIXELS, -1, 1)
    np.testing.assert_allclose(
        imagenet_utils.preprocess_input(first, data_format='channels_first', mode=mode),
        np.moveaxis(np.array(BY_MODE[mode]), -1, 1), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(
        imagenet_utils.preprocess_input(first[0], data_format='channels_first', mode=mode),
        np.moveaxis(np.array(BY_MODE[mode])[0], -1, 0), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize('mode', ['caffe', 'tf', 'torch'])
def test_preprocess_symbolic_input_matches_numpy(mode):
    images = Input(shape=(1, 2, 3))
    preprocessed = imagenet_utils.preprocess_input(images, mode=mode)
    assert K.int_shape(preprocessed) == (None, 1, 2, 3)
    got = K.function([images], [preprocessed])([PIXELS])[0]
    np.testing.assert_allclose(got, BY_MODE[mode], rtol=1e-6, atol=1e-5)


def test_preprocess_dtypes():
    as_int = imagenet_utils.preprocess_input(PIXELS.astype('uint8'), mode='tf')
    assert as_int.dtype == np.float32  # floatx
    np.testing.assert_allclose(as_int, np.floor(PIXELS) / 127.5 - 1, rtol=1e-6)
    assert imagenet_utils.preprocess_input(PIXELS.astype('float64'), mode='tf').dtype == \
        np.float64


@pytest.mark.parametrize('module, mode', [
    (vgg16, 'caffe'), (vgg19, 'caffe'), (resnet50, 'caffe'), (inception_v3, 'tf'),
    (inception_resnet_v2, 'tf'), (xception, 'tf'), (mobilenet, 'tf')])
def test_each_model_preprocesses_as_it_was_trained(module, mode):
    np.testing.assert_allclose(module.preprocess_input(PIXELS), BY_MODE[mode], rtol=1e-6,
                               atol=1e-5)
    assert module.decode_predictions is imagenet_utils.decode_predictions


def test_preprocess_bad_arguments():
    with pytest.raises(ValueError, match="unknown mode 'pytorch'"):
        imagenet_utils.preprocess_input(PIXELS, mode='pytorch')
    with pytest.raises(ValueError, match='unknown data_format'):
        imagenet_utils.preprocess_input(PIXELS, data_format='channels_middle')
    with pytest.raises(ValueError, match='3 colour channels'):
        imagenet_utils.preprocess_input(np.zeros((1, 4, 4, 1)), mode='caffe')


# --- decode_predictions --------------------------------------------------------------------


@pytest.fixture
def local_class_index(tmp_path, monkeypatch):
    """A 1000-class index with made-up names, served from a file:// URL."""
    index = {str(i): ['n%08d' % i, 'class_%d' % i] for i in range(1000)}
    path = tmp_path / 'served' / 'imagenet_class_index.json'
    path.parent.mkdir()
    path.write_text(json.dumps(index))
    monkeypatch.setattr(imagenet_utils, 'CLASS_INDEX_PATH', path.as_uri())
    monkeypatch.setattr(imagenet_utils, 'CLASS_INDEX_HASH',
                        hashlib.md5(path.read_bytes()).hexdigest())
    monkeypatch.setattr(imagenet_utils, 'CLASS_INDEX', None)
    return path


def test_decode_predictions(local_class_index, isolated_keras_home):
    preds = np.zeros((2, 1000), dtype='float32')
    preds[0, [7, 3, 999, 500]] = [0.5, 0.3, 0.2, 0.1]
    preds[1] = 0.001  # all tied: the lowest class numbers first
    preds[1, 42] = 0.9
    decoded = imagenet_utils.decode_predictions(preds, top=3)
    assert decoded[0] == [('n00000007', 'class_7', np.float32(0.5)),
                          ('n00000003', 'class_3', np.float32(0.3)),
                          ('n00000999', 'class_999', np.float32(0.2))]
    assert [entry[:2] for entry in decoded[1]] == [('n00000042', 'class_42'),
                                                   ('n00000000', 'class_0'),
                                                   ('n00000001', 'class_1')]
    assert len(imagenet_utils.decode_predictions(preds)[0]) == 5
    cached = isolated_keras_home / 'models' / 'imagenet_class_index.json'
    assert cached.read_bytes() == local_class_index.read_bytes()


def test_decode_predictions_offline(isolated_keras_home, offline, monkeypatch):
    monkeypatch.setattr(imagenet_utils, 'CLASS_INDEX', None)
    with pytest.raises(CachedFileUnavailableError) as error:
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))
    expected_path = os.path.join(str(isolated_keras_home), 'models', 'imagenet_class_index.json')
    assert expected_path in str(error.value) and 'place it by hand' in str(error.value)
    assert ('https://s3.amazonaws.com/deep-learning-models/image-models/'
            'imagenet_class_index.json') in str(error.value)


def test_decode_predictions_bad_shapes():
    for shape in [(1000,), (2, 10), (1, 1000, 1)]:
        with pytest.raises(ValueError, match='samples, 1000') as error:
            imagenet_utils.decode_predictions(np.zeros(shape))
        assert str(shape) in str(error.value)


# --- weights ---------------------------------------------------------------------------------


def small_mobilenet(**kwargs):
    return MobileNet(alpha=0.25, input_shape=(128, 128, 3), include_top=False, **kwargs)


def test_weights_written_by_refkeras_load_back(tmp_path, isolated_keras_home, offline):
    rng = np.random.RandomState(6)
    original = small_mobilenet(weights=None)
    # Random values everywhere, moving variances positive.
    original.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                          for w in original.get_weights()])
    path = str(tmp_path / 'mobilenet_weights.h5')
    original.save_weights(path)
    x = rng.uniform(-1, 1, (2, 128, 128, 3)).astype('float32')
    expected = original.predict(x)

    from_path = small_mobilenet(weights=path)
    for saved, loaded in zip(original.get_weights(), from_path.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    np.testing.assert_array_equal(from_path.predict(x), expected)

    # Placed by hand where 'imagenet' looks for it (MobileNet's files have no hash).
    cache = isolated_keras_home / 'models'
    cache.mkdir()
    os.link(path, str(cache / 'mobilenet_2_5_128_tf_no_top.h5'))
    from_cache = small_mobilenet(weights='imagenet')
    np.testing.assert_array_equal(from_cache.predict(x), expected)


def test_faq_snippet_fails_offline_with_a_clear_error(isolated_keras_home, offline):
    probe = Input(shape=(1,))._keras_history[0].name
    with pytest.raises(PretrainedWeightsUnavailableError) as error:
        VGG16(weights='imagenet', include_top=True)
    message = str(error.value)
    expected_path = os.path.join(str(isolated_keras_home), 'models',
                                 'vgg16_weights_tf_dim_ordering_tf_kernels.h5')
    assert expected_path in message
    assert 'place it by hand' in message and '64373286793e3c8b2b4e3219cbf3544b' in message
    assert ('https://github.com/fchollet/deep-learning-models/releases/download/v0.1/'
            'vgg16_weights_tf_dim_ordering_tf_kernels.h5') in message
    assert isinstance(error.value, OSError)
    assert nothing_built_since(probe)
    assert not os.path.exists(expected_path)


def test_a_cached_file_with_the_wrong_hash_is_reported(isolated_keras_home, offline):
    cache = isolated_keras_home / 'models'
    cache.mkdir()
    (cache / 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5').write_bytes(b'not weights')
    with pytest.raises(PretrainedWeightsUnavailableError, match='does not have the expected '
                                                                'hash'):
        VGG16(weights='imagenet', include_top=False)


# Keras 2.2.4's weight files: (file name, URL, md5) with and without the classifier.
RELEASES = 'https://github.com/fchollet/deep-learning-models/releases/download/'
KERAS_WEIGHT_FILES = [
    (VGG16, True, 'vgg16_weights_tf_dim_ordering_tf_kernels.h5', 'v0.1',
     '64373286793e3c8b2b4e3219cbf3544b'),
    (VGG16, False, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', 'v0.1',
     '6d6bbae143d832006294945121d1f1fc'),
    (VGG19, True, 'vgg19_weights_tf_dim_ordering_tf_kernels.h5', 'v0.1',
     'cbe5617147190e668d6c5d5026f83318'),
    (VGG19, False, 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5', 'v0.1',
     '253f8cb515780f3b799900260a226db6'),
    (ResNet50, True, 'resnet50_weights_tf_dim_ordering_tf_kernels.h5', 'v0.2',
     'a7b3fe01876f51b976af0dea6bc144eb'),
    (ResNet50, False, 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', 'v0.2',
     'a268eb855778b3df3c7506639542a6af'),
    (InceptionV3, True, 'inception_v3_weights_tf_dim_ordering_tf_kernels.h5', 'v0.5',
     '9a0d58056eeedaa3f26cb7ebd46da564'),
    (InceptionV3, False, 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5', 'v0.5',
     'bcbd6486424b2319ff4ef7d526e38f63'),
    (InceptionResNetV2, True, 'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5',
     'v0.7', 'e693bd0210a403b3192acc6073ad2e96'),
    (InceptionResNetV2, False,
     'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5', 'v0.7',
     'd19885ff4a710c122648d3b5c3b684e4'),
    (Xception, True, 'xception_weights_tf_dim_ordering_tf_kernels.h5', 'v0.4',
     '0a58e3b7378bc2990ea3b43d5981f1f6'),
    (Xception, False, 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5', 'v0.4',
     'b0042744bf5b25fce3cb969f33bebb97'),
    (MobileNet, True, 'mobilenet_1_0_224_tf.h5', 'v0.6', None),
    (MobileNet, False, 'mobilenet_1_0_224_tf_no_top.h5', 'v0.6', None),
]


@pytest.mark.parametrize('constructor, include_top, file_name, release, md5',
                         KERAS_WEIGHT_FILES)
def test_imagenet_weights_are_fetched_as_keras_does(monkeypatch, constructor, include_top,
                                                    file_name, release, md5):
    requests = []

    def recording_get_file(fname, origin, **kwargs):
        requests.append((fname, origin, kwargs))
        raise OSError('URL fetch failure on %s: offline' % origin)
    monkeypatch.setattr(data_utils, 'get_file', recording_get_file)
    probe = Input(shape=(1,))._keras_history[0].name
    with pytest.raises(PretrainedWeightsUnavailableError, match=file_name), \
            warnings.catch_warnings():
        warnings.simplefilter('ignore')
        constructor(weights='imagenet', include_top=include_top)
    assert requests == [(file_name, RELEASES + release + '/' + file_name,
                         {'cache_subdir': 'models', 'file_hash': md5})]
    assert nothing_built_since(probe)


@pytest.mark.parametrize('alpha, size, file_name', [
    (0.25, 128, 'mobilenet_2_5_128_tf_no_top.h5'), (0.5, 160, 'mobilenet_5_0_160_tf_no_top.h5'),
    (0.75, 192, 'mobilenet_7_5_192_tf_no_top.h5')])
def test_mobilenet_weight_file_names(offline, alpha, size, file_name):
    with pytest.raises(PretrainedWeightsUnavailableError, match=file_name):
        MobileNet(weights='imagenet', include_top=False, alpha=alpha,
                  input_shape=(size, size, 3))
    with pytest.warns(UserWarning, match='undefined'), \
            pytest.raises(PretrainedWeightsUnavailableError, match='mobilenet_1_0_224_tf_no_top'):
        MobileNet(weights='imagenet', include_top=False)


# --- argument checks, all before anything is built ------------------------------------------

ALL_MODELS = [Xception, VGG16, VGG19, ResNet50, InceptionV3, InceptionResNetV2, MobileNet]


@pytest.mark.parametrize('constructor', ALL_MODELS)
def test_bad_arguments_fail_before_building(constructor, tmp_path):
    probe = Input(shape=(1,))._keras_history[0].name
    missing = str(tmp_path / 'no_such_weights.h5')
    cases = [
        (dict(weights=missing), "`weights` argument should be None.*no_such_weights"),
        (dict(weights='imagenet', classes=10), 'classes` should be 1000; received 10'),
        (dict(weights=None, include_top=False, pooling='median'), "'median'"),
        (dict(weights=None, input_tensor=np.zeros((1, 224, 224, 3))),
         'input_tensor` should be a backend tensor'),
        (dict(weights=None, include_top=False, input_shape=(224, 224)),
         'three integers'),
        (dict(weights='imagenet', include_top=False, input_shape=(224, 224, 1)),
         '3 input channels'),
    ]
    if constructor in (VGG16, VGG19, ResNet50, MobileNet):
        cases += [(dict(weights='imagenet', input_shape=(200, 200, 3)), 'must be'),
                  (dict(weights=None, input_shape=(None, None, 3)), 'fully known')]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            constructor(**kwargs)
    assert nothing_built_since(probe)


def test_mobilenet_imagenet_constraints():
    probe = Input(shape=(1,))._keras_history[0].name
    for kwargs, message in [(dict(alpha=0.3), 'alpha in 0.25'),
                            (dict(depth_multiplier=2), 'depth_multiplier=1'),
                            (dict(include_top=False, input_shape=(100, 100, 3)), 'square'),
                            (dict(include_top=False, input_shape=(128, 160, 3)), 'square'),
                            (dict(weights=None, alpha=0), 'positive'),
                            (dict(weights=None, depth_multiplier=0.5), 'positive integer')]:
        kwargs.setdefault('weights', 'imagenet')
        with pytest.raises(ValueError, match=message):
            MobileNet(**kwargs)
    assert nothing_built_since(probe)


def test_a_custom_classifier_without_imagenet_weights():
    model = ResNet50(weights=None, classes=10, input_shape=(32, 32, 3))
    assert model.output_shape == (None, 10)
    assert model.get_layer('fc1000').kernel.shape == (2048, 10)
