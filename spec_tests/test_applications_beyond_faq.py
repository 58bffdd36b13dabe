"""The applications Keras 2.2.4 has beyond the FAQ's seven: DenseNet121/169/201,
MobileNetV2, NASNetMobile and NASNetLarge.

- size: parameter counts against the table of Keras 2.2.4's Applications
  documentation; layer and channel counts worked by hand from the
  architectures; Keras's layer names;
- wiring: a residual sum, a dense concatenation and the explicit padding
  of strided convolutions checked against what they compute;
- weights: Keras 2.2.4's file names through `get_file`; offline, an error
  naming the exact path to place the file at, before anything is built; a
  file placed there by hand is loaded;
- `preprocess_input` against values worked by hand, and the argument checks.
The network is never used: downloads go through `urlopen` patched to fail.
"""
import os
import warnings

import numpy as np
import pytest

from refkeras import backend as K
from refkeras.applications import (DenseNet121, DenseNet169, DenseNet201, MobileNetV2,
                                   NASNetLarge, NASNetMobile, PretrainedWeightsUnavailableError,
                                   densenet, mobilenet_v2, mobilenetv2, nasnet)
from refkeras.layers import Input
from refkeras.models import Model


# each test gets its own Keras directory, so its own `models/` cache (spec_tests/conftest.py)
pytestmark = pytest.mark.usefixtures('isolated_keras_home')


def next_input_number():
    name = Input(shape=(1,))._keras_history[0].name
    return int(name.rsplit('_', 1)[1])


def outputs_of(model, names, x):
    return Model(model.inputs, [model.get_layer(name).output for name in names]).predict(x)


# The "Parameters" column of the table in Keras 2.2.4's docs/templates/applications.md.
DOCUMENTED_PARAMETERS = {
    'DenseNet121': 8062504,
    'DenseNet169': 14307880,
    'DenseNet201': 20242984,
    'MobileNetV2': 3538984,
    'NASNetMobile': 5326716,
    'NASNetLarge': 88949818,
}


@pytest.mark.parametrize('constructor', [DenseNet121, DenseNet169, DenseNet201, MobileNetV2,
                                         NASNetMobile, NASNetLarge],
                         ids=lambda c: c.__name__)
def test_full_model_has_the_documented_parameter_count(constructor):
    model = constructor(weights=None)
    assert model.count_params() == DOCUMENTED_PARAMETERS[constructor.__name__]
    assert model.output_shape == (None, 1000)


# --- DenseNet -------------------------------------------------------------------------------

def densenet_layers(blocks):
    """Input, stem (pad, conv, bn, relu, pad, pool), 7 layers per conv block
    (bn, relu, conv, bn, relu, conv, concat), 4 per transition (bn, relu,
    conv, pool), the final bn and relu."""
    return 1 + 6 + 7 * sum(blocks) + 4 * 3 + 2


def densenet_channels(blocks):
    """64 stem channels, 32 more per conv block, halved by each transition."""
    channels = 64
    for index, count in enumerate(blocks):
        channels += 32 * count
        if index < 3:
            channels //= 2
    return channels


@pytest.mark.parametrize('constructor, blocks, name', [
    (DenseNet121, (6, 12, 24, 16), 'densenet121'),
    (DenseNet169, (6, 12, 32, 32), 'densenet169'),
    (DenseNet201, (6, 12, 48, 32), 'densenet201'),
])
def test_densenet_layers_and_channels_follow_from_its_blocks(constructor, blocks, name):
    model = constructor(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model.name == name
    assert len(model.layers) == densenet_layers(blocks)
    assert model.output_shape == (None, 1, 1, densenet_channels(blocks))
    assert densenet_channels(blocks) == {121: 1024, 169: 1664, 201: 1920}[int(name[-3:])]
    names = [layer.name for layer in model.layers]
    assert names[2:7] == ['conv1/conv', 'conv1/bn', 'conv1/relu', names[5], 'pool1']
    assert names[7:14] == ['conv2_block1_0_bn', 'conv2_block1_0_relu', 'conv2_block1_1_conv',
                           'conv2_block1_1_bn', 'conv2_block1_1_relu', 'conv2_block1_2_conv',
                           'conv2_block1_concat']
    assert 'conv5_block%d_concat' % blocks[3] in names
    assert names[-2:] == ['bn', 'relu']
    assert [n for n in names if n.startswith('pool') and n.endswith('_pool')] == \
        ['pool2_pool', 'pool3_pool', 'pool4_pool']


def test_densenet121_classifier_and_weight_names():
    model = DenseNet121(weights=None)
    assert len(model.layers) == densenet_layers((6, 12, 24, 16)) + 2
    assert [layer.name for layer in model.layers[-2:]] == ['avg_pool', 'fc1000']
    assert model.get_layer('fc1000').kernel.shape == (1024, 1000)
    assert model.get_layer('conv2_block1_1_conv').kernel.shape == (1, 1, 64, 128)
    assert model.get_layer('conv2_block1_2_conv').kernel.shape == (3, 3, 128, 32)
    assert model.get_layer('pool2_conv').kernel.shape == (1, 1, 256, 128)


def test_a_dense_block_concatenates_its_input_and_the_new_channels():
    model = DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))
    x = np.random.RandomState(0).uniform(0, 255, size=(2, 32, 32, 3)).astype('float32')
    pooled, new, joined = outputs_of(model, ['pool1', 'conv2_block1_2_conv',
                                             'conv2_block1_concat'], x)
    np.testing.assert_array_equal(joined, np.concatenate([pooled, new], axis=-1))


def test_densenet_supports_channels_first(channels_first):
    model = DenseNet121(weights=None, include_top=False, input_shape=(3, 64, 64))
    assert model.output_shape == (None, 1024, 2, 2)
    assert model.get_layer('conv1/bn').axis in (1, [1])


# --- MobileNetV2 ------------------------------------------------------------------------------

# (expansion > 1, stride, in channels == out channels) of the 17 blocks at alpha=1.
def mobilenet_v2_layers(include_top):
    """Input, stem (pad, conv, bn, relu6); block 0: depthwise, bn, relu6,
    project, bn; blocks 1-16 add the expansion conv, bn, relu6; a padding
    for the 4 strided blocks; an add for the 10 blocks whose input and
    output shapes agree; last conv, bn, relu6; classifier pool + dense."""
    strided_blocks = [1, 3, 6, 13]
    residual_blocks = [2, 4, 5, 7, 8, 9, 11, 12, 14, 15]
    count = 1 + 4 + 5 + 16 * 8 + len(strided_blocks) + len(residual_blocks) + 3
    return count + (2 if include_top else 0)


def test_mobilenet_v2_layers_and_names():
    model = MobileNetV2(weights=None)
    assert model.name == 'mobilenetv2_1.00_224'
    assert len(model.layers) == mobilenet_v2_layers(True) == 157
    names = [layer.name for layer in model.layers]
    assert names[1:5] == ['Conv1_pad', 'Conv1', 'bn_Conv1', 'Conv1_relu']
    assert names[5:10] == ['expanded_conv_depthwise', 'expanded_conv_depthwise_BN',
                           'expanded_conv_depthwise_relu', 'expanded_conv_project',
                           'expanded_conv_project_BN']
    assert names[10:14] == ['block_1_expand', 'block_1_expand_BN', 'block_1_expand_relu',
                            'block_1_pad']
    assert [n for n in names if n.endswith('_add')] == [
        'block_%d_add' % i for i in (2, 4, 5, 7, 8, 9, 11, 12, 14, 15)]
    assert names[-5:-2] == ['Conv_1', 'Conv_1_bn', 'out_relu'] and names[-1] == 'Logits'
    assert model.get_layer('Conv_1').kernel.shape == (1, 1, 320, 1280)
    assert model.get_layer('block_16_expand').kernel.shape == (1, 1, 160, 960)
    assert model.get_layer('Logits').kernel.shape == (1280, 1000)


def test_mobilenet_v2_widths_are_rounded_to_multiples_of_eight():
    # Worked by hand: 32 * 0.35 = 11.2 -> 16 (at least 8, nearest multiple
    # 8 would lose more than 10%: 8 < 0.9 * 11.2, so 16); 16 * 0.35 = 5.6 -> 8.
    assert mobilenet_v2.make_divisible(32 * 0.35) == 16
    assert mobilenet_v2.make_divisible(int(16 * 0.35)) == 8
    assert mobilenet_v2.make_divisible(1280 * 1.4) == 1792
    model = MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(96, 96, 3))
    assert model.name == 'mobilenetv2_0.35_96'
    assert model.get_layer('Conv1').filters == 16
    assert model.get_layer('expanded_conv_project').filters == 8
    assert model.output_shape == (None, 3, 3, 1280)  # 1280 kept for alpha <= 1
    wide = MobileNetV2(weights=None, alpha=1.4, include_top=False, input_shape=(32, 32, 3))
    assert wide.output_shape == (None, 1, 1, 1792)


def test_strided_convolutions_pad_one_pixel_less_at_the_top_left_of_an_even_image():
    assert mobilenet_v2.correct_pad(Input(shape=(224, 224, 3)), 3) == ((0, 1), (0, 1))
    assert mobilenet_v2.correct_pad(Input(shape=(225, 224, 3)), 3) == ((1, 1), (0, 1))
    assert mobilenet_v2.correct_pad(Input(shape=(None, None, 3)), 5) == ((1, 2), (1, 2))
    model = MobileNetV2(weights=None, include_top=False, input_shape=(224, 224, 3))
    assert model.get_layer('Conv1_pad').output_shape == (None, 225, 225, 3)
    assert model.get_layer('Conv1').output_shape == (None, 112, 112, 32)
    assert model.output_shape == (None, 7, 7, 1280)


def test_a_mobilenet_v2_residual_block_adds_its_input():
    model = MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    x = np.random.RandomState(1).uniform(-1, 1, size=(2, 32, 32, 3)).astype('float32')
    block_input, projected, added = outputs_of(
        model, ['block_1_project_BN', 'block_2_project_BN', 'block_2_add'], x)
    np.testing.assert_allclose(added, block_input + projected, rtol=1e-6, atol=1e-6)


def test_mobilenet_v2_is_built_channels_last_and_restores_the_format(channels_first):
    with pytest.warns(UserWarning, match='channels_last'):
        model = MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model.input_shape == (None, 32, 32, 3)
    assert K.image_data_format() == 'channels_first'


def test_mobilenetv2_is_the_legacy_name_of_mobilenet_v2():
    assert mobilenetv2.MobileNetV2 is mobilenet_v2.MobileNetV2
    assert mobilenetv2.preprocess_input is mobilenet_v2.preprocess_input


# --- NASNet -----------------------------------------------------------------------------------

def test_nasnet_mobile_cells_and_names():
    model = NASNetMobile(weights=None)
    assert model.name == 'NASNet'
    names = [layer.name for layer in model.layers]
    # N = 4 normal cells per stage; the normal cells' numbers skip those of
    # the reductions 'reduce_4' and 'reduce_8'.
    assert [n for n in names if n.startswith('normal_concat_')] == \
        ['normal_concat_%d' % i for i in (0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13)]
    assert [n for n in names if n.startswith('reduction_concat_')] == \
        ['reduction_concat_stem_1', 'reduction_concat_stem_2', 'reduction_concat_reduce_4',
         'reduction_concat_reduce_8']
    assert names[1:3] == ['stem_conv1', 'stem_bn1']
    for expected in ['separable_conv_1_pad_reduction_left1_stem_1',
                     'separable_conv_1_reduction_left1_stem_1',
                     'separable_conv_2_bn_normal_left5_13', 'adjust_conv_projection_1',
                     'adjust_avg_pool_1_stem_2', 'reduction_pad_1_reduce_8',
                     'separable_conv_1_reduction_left4_stem_1', 'reduction_add4_stem_1',
                     'normal_left3_0', 'normal_add_5_13', 'predictions']:
        assert expected in names
    # Channels, by hand: filters = 1056 // 24 = 44 per branch in the first
    # stage; a normal cell concatenates p and its 5 branches.
    assert model.get_layer('normal_concat_0').output_shape[-1] == 6 * 44
    assert model.get_layer('normal_concat_13').output_shape[-1] == 6 * 44 * 4
    assert model.get_layer('reduction_concat_stem_1').output_shape[-1] == 4 * (44 // 4)
    assert model.get_layer('predictions').kernel.shape == (1056, 1000)
    assert model.get_layer('normal_concat_13').output_shape[1:3] == (7, 7)


def test_nasnet_large_reads_the_cell_before_each_reduction():
    model = NASNetLarge(weights=None, include_top=False, input_shape=(64, 64, 3))
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n.startswith('reduction_concat_')][2:] == \
        ['reduction_concat_reduce_6', 'reduction_concat_reduce_12']
    assert model.output_shape == (None, 2, 2, 4032)
    # skip_reduction: the first cell after 'reduce_6' reads (as its `p`,
    # halved by the factorized reduction) cell 4, the cell before the
    # reduction's input; NASNetMobile's first cell after 'reduce_4' reads the
    # reduction's input, cell 3.
    assert model.get_layer('adjust_relu_1_7').input is model.get_layer('normal_concat_4').output
    mobile = NASNetMobile(weights=None, include_top=False, input_shape=(64, 64, 3))
    assert mobile.get_layer('adjust_relu_1_5').input is \
        mobile.get_layer('normal_concat_3').output


def test_a_nasnet_factorized_reduction_shifts_its_second_path_by_one_pixel():
    model = NASNetMobile(weights=None, include_top=False, input_shape=(32, 32, 3))
    x = np.random.RandomState(2).uniform(-1, 1, size=(1, 32, 32, 3)).astype('float32')
    relu_in, path1, path2 = outputs_of(
        model, ['adjust_relu_1_stem_2', 'adjust_avg_pool_1_stem_2',
                'adjust_avg_pool_2_stem_2'], x)
    # 1x1 average pooling with stride 2 keeps every other pixel; the second
    # path starts one pixel down and right (and pads the last row/column).
    np.testing.assert_array_equal(path1, relu_in[:, ::2, ::2, :])
    shifted = np.pad(relu_in, ((0, 0), (0, 1), (0, 1), (0, 0)))[:, 1:, 1:, :]
    np.testing.assert_array_equal(path2, shifted[:, ::2, ::2, :])


# --- weights ----------------------------------------------------------------------------------

WEIGHT_FILES = [
    (lambda: DenseNet121(), 'densenet121_weights_tf_dim_ordering_tf_kernels.h5',
     'https://github.com/keras-team/keras-applications/releases/download/densenet/'),
    (lambda: DenseNet169(include_top=False),
     'densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5',
     'https://github.com/keras-team/keras-applications/releases/download/densenet/'),
    (lambda: DenseNet201(), 'densenet201_weights_tf_dim_ordering_tf_kernels.h5',
     'https://github.com/keras-team/keras-applications/releases/download/densenet/'),
    (lambda: MobileNetV2(), 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5',
     'https://github.com/JonathanCMitchell/mobilenet_v2_keras/releases/download/v1.1/'),
    (lambda: MobileNetV2(alpha=0.35, include_top=False, input_shape=(96, 96, 3)),
     'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5',
     'https://github.com/JonathanCMitchell/mobilenet_v2_keras/releases/download/v1.1/'),
    (lambda: NASNetMobile(), 'nasnet_mobile.h5',
     'https://github.com/titu1994/Keras-NASNet/releases/download/v1.2/NASNet-mobile.h5'),
    (lambda: NASNetMobile(include_top=False), 'nasnet_mobile_no_top.h5',
     'https://github.com/titu1994/Keras-NASNet/releases/download/v1.2/NASNet-mobile-no-top.h5'),
    (lambda: NASNetLarge(), 'nasnet_large.h5',
     'https://github.com/titu1994/Keras-NASNet/releases/download/v1.2/NASNet-large.h5'),
    (lambda: NASNetLarge(include_top=False, input_shape=(331, 331, 3)),
     'nasnet_large_no_top.h5',
     'https://github.com/titu1994/Keras-NASNet/releases/download/v1.2/NASNet-large-no-top.h5'),
]


@pytest.mark.parametrize('build, file_name, origin', WEIGHT_FILES,
                         ids=[case[1] for case in WEIGHT_FILES])
def test_offline_imagenet_weights_fail_at_once_naming_where_to_place_the_file(
        isolated_keras_home, offline, build, file_name, origin):
    before = next_input_number()
    with pytest.raises(PretrainedWeightsUnavailableError) as error:
        build()
    message = str(error.value)
    assert os.path.join(str(isolated_keras_home), 'models', file_name) in message
    assert 'place it by hand' in message and origin in message
    assert next_input_number() == before + 1  # nothing was built in between


def test_mobilenet_v2_weights_placed_by_hand_are_loaded(isolated_keras_home, offline):
    source = MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(96, 96, 3))
    values = [np.random.RandomState(3).normal(size=w.shape).astype('float32') * 0.1
              for w in source.get_weights()]
    source.set_weights(values)
    folder = isolated_keras_home / 'models'
    folder.mkdir()
    source.save_weights(str(folder / mobilenet_v2.weights_file_name(0.35, 96, False)))
    loaded = MobileNetV2(weights='imagenet', alpha=0.35, include_top=False,
                         input_shape=(96, 96, 3))
    for expected, actual in zip(values, loaded.get_weights()):
        np.testing.assert_array_equal(actual, expected)


def test_densenet_weight_files_are_checked_by_their_md5(isolated_keras_home, offline):
    folder = isolated_keras_home / 'models'
    folder.mkdir()
    (folder / 'densenet121_weights_tf_dim_ordering_tf_kernels.h5').write_bytes(b'not weights')
    with pytest.raises(PretrainedWeightsUnavailableError, match='expected hash'):
        DenseNet121()


# --- preprocess_input and argument checks ----------------------------------------------------

def test_preprocess_input_of_each_family():
    pixels = np.array([[[[0., 128., 255.]]]])
    np.testing.assert_array_equal(mobilenet_v2.preprocess_input(pixels),
                                  np.array([[[[-1., 0., 255. / 128. - 1.]]]], dtype='float32'))
    assert mobilenet_v2.preprocess_input(pixels).dtype == np.float32
    np.testing.assert_allclose(nasnet.preprocess_input(pixels.copy()),
                               [[[[-1., 128. / 127.5 - 1., 1.]]]], rtol=1e-6)
    # 'torch' mode: x / 255, then (x - mean) / std per RGB channel.
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    expected = [[[[(0. - mean[0]) / std[0], (128. / 255. - mean[1]) / std[1],
                   (1. - mean[2]) / std[2]]]]]
    np.testing.assert_allclose(densenet.preprocess_input(pixels.copy()), expected, rtol=1e-6)


@pytest.mark.parametrize('call, fragments', [
    (lambda: MobileNetV2(weights='imagenet', alpha=0.6), ['MobileNetV2', 'alpha', '0.6']),
    (lambda: MobileNetV2(weights='imagenet', include_top=False, input_shape=(100, 100, 3)),
     ['MobileNetV2', '96, 128, 160, 192 or 224']),
    (lambda: MobileNetV2(weights=None, depth_multiplier=0), ['MobileNetV2', 'depth_multiplier']),
    (lambda: nasnet.NASNet(penultimate_filters=100), ['NASNet', 'multiple of 24', '100']),
    (lambda: NASNetMobile(include_top=False, input_shape=(None, None, 3)),
     ['NASNet', 'static']),
    (lambda: densenet.DenseNet((1, 2, 3), weights=None), ['DenseNet', 'four']),
    (lambda: densenet.DenseNet((2, 2, 2, 2)), ['DenseNet', 'ImageNet weights']),
    (lambda: DenseNet121(weights=None, pooling='mean'), ['DenseNet121', 'pooling']),
    (lambda: DenseNet121(weights='imagenet', classes=10), ['DenseNet121', 'classes']),
    (lambda: NASNetMobile(weights=None, input_shape=(16, 16, 3), include_top=False),
     ['32']),
])
def test_bad_arguments_fail_before_anything_is_built(call, fragments):
    before = next_input_number()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(ValueError) as error:
            call()
    for fragment in fragments:
        assert fragment in str(error.value)
    assert next_input_number() == before + 1
