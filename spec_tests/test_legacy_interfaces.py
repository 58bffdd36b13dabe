"""Keras 1 calls run as the Keras 2 calls they stand for (`refkeras.legacy`).

Each Keras 1 call is checked against the Keras 2 call written by hand from
Keras 2.2.4's conversion tables: the same config, and, with the same
weights, the same output on the same input. Then the warning (both calls
shown), the errors (conflicting old and new names, a Keras 1 argument of
another layer, too many positional arguments, ambiguous kernel sizes),
raised before the layer exists, the generator methods' sample counts turned
into steps, the Keras 1 `Optimizer.get_updates(params, constraints, loss)`,
and the legacy layers `MaxoutDense` and `Highway` against NumPy formulas.
"""
import json
import warnings

import numpy as np
import pytest

from refkeras import backend as K
from refkeras import layers, optimizers
from refkeras.layers import Dense, Input
from refkeras.legacy import interfaces
from refkeras.legacy import layers as legacy_layers
from refkeras.models import Model, Sequential


def rng(seed=0):
    return np.random.RandomState(seed)


def config_json(layer):
    return json.dumps(layer.get_config(), sort_keys=True)


def quietly(factory):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return factory()


# (Keras 1 call, the Keras 2 call it converts to, input shape or None for config only).
# Every layer is named, so that the configs can be compared whole.
EQUIVALENT_CALLS = [
    ('dense', lambda: layers.Dense(output_dim=3, init='he_normal', bias=False,
                                   W_regularizer='l2', W_constraint='maxnorm', name='x'),
     lambda: layers.Dense(3, kernel_initializer='he_normal', use_bias=False,
                          kernel_regularizer='l2', kernel_constraint='max_norm', name='x'),
     (2, 4)),
    ('dense input_dim', lambda: layers.Dense(output_dim=2, input_dim=3, b_regularizer='l1',
                                             name='x'),
     lambda: layers.Dense(2, input_shape=(3,), bias_regularizer='l1', name='x'), (2, 3)),
    ('conv2d positional kernel', lambda: layers.Convolution2D(
        4, 3, 3, border_mode='same', subsample=(2, 2), dim_ordering='tf', name='x'),
     lambda: layers.Conv2D(4, (3, 3), padding='same', strides=(2, 2),
                           data_format='channels_last', name='x'), (2, 6, 6, 2)),
    ('conv2d nb_col keyword', lambda: layers.Convolution2D(4, 3, nb_col=2, name='x'),
     lambda: layers.Conv2D(4, (3, 2), name='x'), (1, 5, 5, 2)),
    ('conv2d nb_row nb_col', lambda: layers.Convolution2D(nb_filter=4, nb_row=2, nb_col=3,
                                                          name='x'),
     lambda: layers.Conv2D(filters=4, kernel_size=(2, 3), name='x'), (1, 5, 5, 1)),
    ('conv2d channels_first', lambda: layers.Convolution2D(2, 2, 2, dim_ordering='th',
                                                           name='x'),
     lambda: layers.Conv2D(2, (2, 2), data_format='channels_first', name='x'), (1, 3, 4, 4)),
    ('conv1d', lambda: layers.Convolution1D(4, filter_length=3, subsample_length=2,
                                            input_dim=2, input_length=7, name='x'),
     lambda: layers.Conv1D(4, 3, strides=2, input_shape=(7, 2), name='x'), (2, 7, 2)),
    ('conv3d positional kernel', lambda: layers.Convolution3D(2, 2, 1, 2, name='x'),
     lambda: layers.Conv3D(2, (2, 1, 2), name='x'), (1, 3, 3, 3, 1)),
    ('conv3d kernel_dim keywords', lambda: layers.Convolution3D(
        2, kernel_dim1=1, kernel_dim2=2, kernel_dim3=2, name='x'),
     lambda: layers.Conv3D(2, (1, 2, 2), name='x'), (1, 3, 3, 3, 1)),
    ('deconv2d output_shape dropped', lambda: layers.Deconvolution2D(
        3, 2, 2, (None, 6, 6, 3), subsample=(2, 2), name='x'),
     lambda: layers.Conv2DTranspose(3, (2, 2), strides=(2, 2), name='x'), (1, 3, 3, 2)),
    ('separable init for both kernels', lambda: layers.SeparableConv2D(
        4, 3, 3, init='he_normal', border_mode='same', b_regularizer='l2', name='x'),
     lambda: layers.SeparableConv2D(4, (3, 3), depthwise_initializer='he_normal',
                                    pointwise_initializer='he_normal', padding='same',
                                    bias_regularizer='l2', name='x'), (1, 5, 5, 2)),
    ('atrous conv1d', lambda: legacy_layers.AtrousConvolution1D(
        2, 3, atrous_rate=2, border_mode='same', name='x'),
     lambda: layers.Conv1D(2, 3, dilation_rate=2, padding='same', name='x'), (1, 9, 2)),
    ('atrous conv2d', lambda: legacy_layers.AtrousConvolution2D(
        2, 3, 3, atrous_rate=(2, 2), name='x'),
     lambda: layers.Conv2D(2, (3, 3), dilation_rate=(2, 2), name='x'), (1, 7, 7, 1)),
    ('maxpool1d', lambda: layers.MaxPooling1D(pool_length=2, stride=1, border_mode='same',
                                              name='x'),
     lambda: layers.MaxPooling1D(pool_size=2, strides=1, padding='same', name='x'), (2, 5, 3)),
    ('avgpool1d', lambda: layers.AveragePooling1D(pool_length=3, name='x'),
     lambda: layers.AveragePooling1D(pool_size=3, name='x'), (2, 6, 1)),
    ('avgpool2d channels_first', lambda: layers.AveragePooling2D(
        (2, 2), border_mode='valid', dim_ordering='th', name='x'),
     lambda: layers.AveragePooling2D((2, 2), padding='valid', data_format='channels_first',
                                     name='x'), (1, 2, 4, 4)),
    ('maxpool3d', lambda: layers.MaxPooling3D((2, 2, 2), border_mode='same', name='x'),
     lambda: layers.MaxPooling3D((2, 2, 2), padding='same', name='x'), (1, 3, 3, 3, 1)),
    ('global maxpool2d', lambda: layers.GlobalMaxPooling2D(dim_ordering='th', name='x'),
     lambda: layers.GlobalMaxPooling2D(data_format='channels_first', name='x'), (2, 3, 2, 2)),
    ('dim_ordering default', lambda: layers.GlobalAveragePooling3D(dim_ordering='default',
                                                                   name='x'),
     lambda: layers.GlobalAveragePooling3D(name='x'), (1, 2, 2, 2, 3)),
    ('upsampling1d', lambda: layers.UpSampling1D(length=3, name='x'),
     lambda: layers.UpSampling1D(size=3, name='x'), (1, 2, 2)),
    ('upsampling2d', lambda: layers.UpSampling2D((2, 1), dim_ordering='th', name='x'),
     lambda: layers.UpSampling2D((2, 1), data_format='channels_first', name='x'),
     (1, 1, 2, 3)),
    ('zeropadding2d dict', lambda: layers.ZeroPadding2D(padding={'top_pad': 1,
                                                                 'right_pad': 2}, name='x'),
     lambda: layers.ZeroPadding2D(((1, 0), (0, 2)), name='x'), (1, 2, 2, 1)),
    ('zeropadding2d positional dict', lambda: layers.ZeroPadding2D({'bottom_pad': 2},
                                                                   name='x'),
     lambda: layers.ZeroPadding2D(((0, 2), (0, 0)), name='x'), (1, 2, 2, 1)),
    ('cropping2d', lambda: layers.Cropping2D(((1, 0), (0, 1)), dim_ordering='tf', name='x'),
     lambda: layers.Cropping2D(((1, 0), (0, 1)), data_format='channels_last', name='x'),
     (1, 3, 3, 2)),
    ('embedding', lambda: layers.Embedding(5, 3, init='uniform', W_regularizer='l1',
                                           W_constraint='non_neg', name='x'),
     lambda: layers.Embedding(5, 3, embeddings_initializer='uniform',
                              embeddings_regularizer='l1', embeddings_constraint='non_neg',
                              name='x'), None),
    ('lstm', lambda: layers.LSTM(output_dim=3, inner_activation='sigmoid', consume_less='gpu',
                                 forget_bias_init='one', input_dim=2, input_length=4,
                                 W_regularizer='l2', name='x'),
     lambda: layers.LSTM(3, recurrent_activation='sigmoid', implementation=2,
                         unit_forget_bias=True, input_shape=(4, 2), kernel_regularizer='l2',
                         name='x'), (2, 4, 2)),
    ('gru', lambda: layers.GRU(output_dim=3, init='glorot_normal', inner_init='orthogonal',
                               consume_less='mem', name='x'),
     lambda: layers.GRU(3, kernel_initializer='glorot_normal',
                        recurrent_initializer='orthogonal', implementation=1, name='x'),
     (2, 3, 2)),
    ('simplernn', lambda: layers.SimpleRNN(output_dim=2, U_regularizer='l2', dropout_W=0.1,
                                           dropout_U=0.2, name='x'),
     lambda: layers.SimpleRNN(2, recurrent_regularizer='l2', dropout=0.1,
                              recurrent_dropout=0.2, name='x'), (2, 3, 2)),
    ('batchnorm', lambda: layers.BatchNormalization(mode=0, beta_init='one',
                                                    gamma_init='uniform', name='x'),
     lambda: layers.BatchNormalization(beta_initializer='ones', gamma_initializer='uniform',
                                       name='x'), (3, 4)),
    ('prelu', lambda: layers.PReLU(init='uniform', name='x'),
     lambda: layers.PReLU(alpha_initializer='uniform', name='x'), (2, 3)),
    ('gaussian noise', lambda: layers.GaussianNoise(sigma=0.3, name='x'),
     lambda: layers.GaussianNoise(stddev=0.3, name='x'), (2, 3)),
    ('gaussian dropout', lambda: layers.GaussianDropout(p=0.3, name='x'),
     lambda: layers.GaussianDropout(0.3, name='x'), (2, 3)),
    ('dropout', lambda: layers.Dropout(p=0.25, name='x'),
     lambda: layers.Dropout(0.25, name='x'), (2, 3)),
    ('spatial dropout1d', lambda: layers.SpatialDropout1D(p=0.5, name='x'),
     lambda: layers.SpatialDropout1D(0.5, name='x'), (2, 3, 2)),
    ('spatial dropout2d', lambda: layers.SpatialDropout2D(p=0.2, dim_ordering='th', name='x'),
     lambda: layers.SpatialDropout2D(0.2, data_format='channels_first', name='x'),
     (1, 2, 2, 2)),
]


@pytest.mark.parametrize('keras_1, keras_2, input_shape',
                         [case[1:] for case in EQUIVALENT_CALLS],
                         ids=[case[0] for case in EQUIVALENT_CALLS])
def test_a_keras_1_call_builds_the_layer_of_its_keras_2_call(keras_1, keras_2, input_shape):
    old_layer = quietly(keras_1)
    new_layer = keras_2()
    assert type(old_layer) is type(new_layer)
    assert config_json(old_layer) == config_json(new_layer)
    if input_shape is None:
        return
    x = rng(1).uniform(-1., 1., size=input_shape).astype('float32')
    new_output = np.asarray(new_layer(x))
    old_layer(x)  # builds it
    old_layer.set_weights(new_layer.get_weights())
    np.testing.assert_array_equal(np.asarray(old_layer(x)), new_output)


def test_an_embedding_built_by_the_keras_1_call_looks_up_the_same_rows():
    ids = np.array([[0, 4, 2], [1, 1, 3]])
    old_layer = quietly(lambda: layers.Embedding(5, 3, init='uniform', dropout=0.))
    new_layer = layers.Embedding(5, 3)
    new_output = np.asarray(new_layer(ids))
    old_layer(ids)
    old_layer.set_weights(new_layer.get_weights())
    np.testing.assert_array_equal(np.asarray(old_layer(ids)), new_output)
    # Row lookup, worked directly on the table.
    np.testing.assert_array_equal(new_output, new_layer.get_weights()[0][ids])


def test_the_warning_names_the_layer_the_keras_1_call_and_the_keras_2_call():
    with pytest.warns(UserWarning) as record:
        layers.Dense(output_dim=3, init='normal', name='d')
    text = str(record[0].message)
    assert 'Dense' in text
    assert "`Dense(output_dim=3, init='normal', name='d')`" in text
    assert "`Dense(units=3, kernel_initializer='normal', name='d')`" in text
    assert 'output_dim -> units' in text and 'init -> kernel_initializer' in text


def test_a_keras_2_call_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        layers.Dense(3, kernel_initializer='normal')
        layers.Conv2D(4, (3, 3), padding='same')
        layers.LSTM(2, input_shape=(3, 2))


def test_consume_less_values_become_the_implementation_numbers():
    for old, new in [('mem', 1), ('gpu', 2)]:
        layer = quietly(lambda: layers.LSTM(2, consume_less=old))
        assert layer.get_config()['implementation'] == new


def test_a_forget_bias_init_other_than_one_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match='forget_bias_init'):
        layer = layers.LSTM(2, forget_bias_init='zero', unit_forget_bias=False)
    assert layer.get_config()['unit_forget_bias'] is False


# --- bad Keras 1 calls: a clear error, before the layer exists ------------------------------

BAD_CALLS = [
    (lambda: layers.Dense(2, output_dim=3), TypeError, ['Dense', '`output_dim`', '`units`']),
    (lambda: layers.Dense(units=2, output_dim=2), TypeError, ['Dense', 'output_dim', 'units']),
    (lambda: layers.Dense(2, init='normal', kernel_initializer='normal'), TypeError,
     ['Dense', '`init`', '`kernel_initializer`']),
    (lambda: layers.Dense(2, border_mode='same'), TypeError,
     ['Dense', '`border_mode`', 'Keras 1', 'output_dim']),
    (lambda: layers.MaxPooling2D(pool_length=2), TypeError, ['MaxPooling2D', '`pool_length`']),
    (lambda: layers.LSTM(3, 2), TypeError, ['LSTM', 'positional']),
    (lambda: layers.Conv2D(4, 3, nb_row=3), TypeError, ['Conv2D', 'nb_col']),
    (lambda: layers.Conv2D(4, (3, 3), nb_col=3), TypeError, ['Conv2D', 'nb_col', 'kernel_size']),
    (lambda: layers.Conv2D(4, 3, 3, padding='same'), ValueError,
     ['Conv2D', 'ambiguous', 'strides']),
    (lambda: layers.Conv3D(4, 3, 3, 3, 3), TypeError, ['Conv3D', 'positional']),
    (lambda: layers.BatchNormalization(mode=2), TypeError, ['BatchNormalization', 'mode=2']),
    (lambda: layers.BatchNormalization(-1), TypeError, ['BatchNormalization', 'positional']),
    (lambda: layers.ZeroPadding2D(padding={'top': 1}), ValueError, ['ZeroPadding2D', 'top_pad']),
    (lambda: layers.SeparableConv2D(2, 3, 3, init='normal', depthwise_initializer='normal'),
     TypeError, ['SeparableConv2D', '`init`', 'depthwise_initializer']),
    (lambda: layers.LSTM(2, forget_bias_init='one', unit_forget_bias=True), TypeError,
     ['LSTM', 'forget_bias_init', 'unit_forget_bias']),
    (lambda: legacy_layers.AtrousConvolution2D(2, 3, 3, atrous_rate=2, dilation_rate=2),
     TypeError, ['AtrousConvolution2D', 'atrous_rate', 'dilation_rate']),
]


@pytest.mark.parametrize('call, error, fragments', BAD_CALLS)
def test_a_bad_keras_1_call_fails_clearly_before_the_layer_exists(call, error, fragments):
    # Layers take their automatic names from a per-class counter: the
    # counter of the failed layer's class has not moved, so its __init__
    # never ran.
    cls_name = fragments[0]
    before = K.get_uid(cls_name)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(error) as raised:
            call()
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert K.get_uid(cls_name) == before + 1


def test_a_failed_keras_1_dense_call_takes_no_layer_name():
    first = Dense(1).name
    with pytest.raises(TypeError):
        Dense(2, output_dim=3)
    follower = Dense(1).name
    assert int(follower.rsplit('_', 1)[1]) == int(first.rsplit('_', 1)[1]) + 1


def test_every_keras_1_name_in_the_tables_is_known_to_the_foreign_name_check():
    for old_name in ('output_dim', 'nb_filter', 'init', 'border_mode', 'dim_ordering',
                     'subsample', 'pool_length', 'nb_row', 'nb_col', 'kernel_dim3',
                     'nb_epoch', 'samples_per_epoch', 'nb_val_samples', 'val_samples',
                     'pickle_safe', 'max_q_size', 'consume_less', 'inner_init'):
        assert old_name in interfaces.KERAS_1_NAMES


# --- the generator methods -------------------------------------------------------------------

class CountingBatches(object):
    """Yields batches of `batch_size` rows (a Keras 1 style generator with a
    `batch_size`), counting them."""

    def __init__(self, batch_size, with_targets=True):
        self.batch_size = batch_size
        self.with_targets = with_targets
        self.drawn = 0
        self.x = rng(2).uniform(size=(batch_size, 2)).astype('float32')
        self.y = rng(3).uniform(size=(batch_size, 1)).astype('float32')

    def __iter__(self):
        return self

    def __next__(self):
        self.drawn += 1
        return (self.x, self.y) if self.with_targets else self.x


def small_model():
    inputs = Input(shape=(2,))
    model = Model(inputs, Dense(1)(inputs))
    model.compile('sgd', 'mse')
    return model


def test_fit_generator_turns_samples_per_epoch_into_steps_of_the_generators_batch_size():
    from refkeras.callbacks import Callback

    class Count(Callback):
        def on_train_begin(self, logs=None):
            self.batches = 0

        def on_batch_end(self, batch, logs=None):
            self.batches += 1

    counter = Count()
    model = small_model()
    with pytest.warns(UserWarning) as record:
        history = model.fit_generator(CountingBatches(4), samples_per_epoch=12, nb_epoch=2,
                                      verbose=0, callbacks=[counter], max_q_size=2,
                                      nb_worker=1, pickle_safe=False)
    messages = [str(warning.message) for warning in record]
    assert any('samples_per_epoch -> steps_per_epoch' in m for m in messages)
    assert any('counts batches where Keras 1 counted samples' in m for m in messages)
    assert history.epoch == [0, 1]
    assert counter.batches == 2 * (12 // 4)


def test_evaluate_and_predict_generator_accept_val_samples_as_steps():
    model = small_model()
    keras_2 = model.evaluate_generator(CountingBatches(3), steps=2)
    keras_1 = quietly(lambda: model.evaluate_generator(CountingBatches(3), val_samples=2,
                                                       nb_worker=1, max_q_size=1))
    assert keras_1 == keras_2
    predictions = quietly(lambda: model.predict_generator(
        CountingBatches(3, with_targets=False), val_samples=2))
    assert predictions.shape == (2 * 3, 1)


def test_fit_generator_rejects_samples_per_epoch_with_steps_per_epoch():
    model = small_model()
    with pytest.raises(TypeError, match='samples_per_epoch.*steps_per_epoch'):
        model.fit_generator(CountingBatches(2), 3, samples_per_epoch=6, verbose=0)
    with pytest.raises(TypeError, match='nb_epoch.*epochs'):
        model.fit_generator(CountingBatches(2), 3, epochs=1, nb_epoch=2, verbose=0)


# --- Optimizer.get_updates(params, constraints, loss) -----------------------------------------

@pytest.mark.parametrize('optimizer_class', [optimizers.SGD, optimizers.RMSprop,
                                             optimizers.Adam])
def test_the_keras_1_get_updates_takes_the_same_step_as_the_keras_2_call(optimizer_class):
    start = np.array([0.5, -1.5, 2.0], dtype='float32')

    def one_step(call):
        param = K.variable(start)
        optimizer = optimizer_class()
        with K.GradientTape([param]):
            loss = K.sum(K.square(param))
        quietly(lambda: call(optimizer, param, loss))
        return K.get_value(param)

    keras_2 = one_step(lambda opt, p, loss: opt.get_updates(loss, [p]))
    keras_1 = one_step(lambda opt, p, loss: opt.get_updates([p], {}, loss))
    keras_1_loss_keyword = one_step(lambda opt, p, loss: opt.get_updates([p], {}, loss=loss))
    assert not np.array_equal(keras_2, start)
    np.testing.assert_array_equal(keras_1, keras_2)
    np.testing.assert_array_equal(keras_1_loss_keyword, keras_2)


def test_a_keras_1_constraints_dict_is_ignored_with_a_warning():
    param = K.variable(np.array([3.0], dtype='float32'))
    with K.GradientTape([param]):
        loss = K.sum(param)
    with pytest.warns(UserWarning, match='constraints'):
        optimizers.SGD(lr=1.0).get_updates([param], {param: lambda w: w * 0.}, loss)
    np.testing.assert_allclose(K.get_value(param), [2.0])  # 3 - 1 * d(sum)/dw


# --- legacy layers against NumPy --------------------------------------------------------------

def test_maxout_dense_is_the_maximum_of_its_affine_maps():
    x = rng(4).normal(size=(5, 3)).astype('float32')
    layer = quietly(lambda: legacy_layers.MaxoutDense(output_dim=2, nb_feature=3))
    layer(x)
    W, b = layer.get_weights()
    assert W.shape == (3, 3, 2) and b.shape == (3, 2)
    b = rng(5).normal(size=b.shape).astype('float32')
    layer.set_weights([W, b])
    expected = np.empty((5, 2))
    for row in range(5):
        for unit in range(2):
            expected[row, unit] = max(x[row] @ W[k, :, unit] + b[k, unit] for k in range(3))
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-6)
    assert [w.name.split('/')[-1].split(':')[0] for w in layer.weights] == ['W', 'b']


def test_highway_mixes_transform_and_input_by_its_gate():
    x = rng(6).normal(size=(4, 3)).astype('float32')
    layer = quietly(lambda: legacy_layers.Highway(activation='tanh'))
    layer(x)
    W, W_carry, b, b_carry = layer.get_weights()
    np.testing.assert_array_equal(b_carry, np.ones(3))
    b = rng(7).normal(size=3).astype('float32')
    layer.set_weights([W, W_carry, b, b_carry])
    gate = 1. / (1. + np.exp(-(x.astype('float64') @ W_carry + b_carry)))
    expected = gate * np.tanh(x @ W + b) + (1. - gate) * x
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-6)


def test_legacy_layers_round_trip_through_their_keras_1_configs():
    model = quietly(lambda: Sequential([
        legacy_layers.Highway(input_dim=3, W_regularizer='l2', bias=True),
        legacy_layers.MaxoutDense(2, nb_feature=2, init='he_normal')]))
    config = model.get_config()
    names = [entry['config'] for entry in config['layers']]
    assert names[0]['W_regularizer'] is not None and names[0]['input_dim'] == 3
    assert names[1]['nb_feature'] == 2 and names[1]['init']['class_name'] == 'VarianceScaling'
    rebuilt = quietly(lambda: Sequential.from_config(
        config, custom_objects={'Highway': legacy_layers.Highway,
                                'MaxoutDense': legacy_layers.MaxoutDense}))
    rebuilt.set_weights(model.get_weights())
    x = rng(8).normal(size=(2, 3)).astype('float32')
    np.testing.assert_array_equal(rebuilt.predict(x), model.predict(x))


def test_the_legacy_layers_reject_a_bad_input_rank_naming_the_layer():
    layer = quietly(lambda: legacy_layers.MaxoutDense(2))
    with pytest.raises(ValueError, match='maxout_dense.*ndim=2'):
        layer(np.zeros((2, 3, 4), dtype='float32'))
    assert layer.weights == []


def test_add_weight_accepts_the_keras_1_positional_order():
    from refkeras.engine.base_layer import Layer

    class Scale(Layer):
        def build(self, input_shape):
            # Keras 1 / 2.0 order: (shape, initializer, name).
            self.scale = self.add_weight((input_shape[-1],), 'ones', 'scale')
            self.offset = self.add_weight('offset', (input_shape[-1],), initializer='zeros')
            self.built = True

        def call(self, inputs):
            return inputs * self.scale + self.offset

    layer = Scale()
    with pytest.warns(UserWarning, match='add_weight'):
        layer(np.zeros((1, 3), dtype='float32'))
    assert [w.name.split('/')[-1] for w in layer.weights] == ['scale:0', 'offset:0']
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(3))
    with pytest.raises(TypeError, match='initializer.*both by position'):
        Scale().add_weight((2,), 'ones', initializer='zeros')


# --- Recurrent: the Keras 1 base of custom recurrent layers ----------------------------------

class Keras1SimpleRNN(legacy_layers.Recurrent):
    """A custom layer written for Keras 1's `Recurrent`: h_t = tanh(x_t W + h U + b)."""

    def __init__(self, units, **kwargs):
        self.units = units
        super(Keras1SimpleRNN, self).__init__(**kwargs)

    def build(self, input_shape):
        self.input_spec = [layers.InputSpec(shape=input_shape)]
        self.W = self.add_weight('W', (input_shape[2], self.units), initializer='glorot_uniform')
        self.U = self.add_weight('U', (self.units, self.units), initializer='orthogonal')
        self.b = self.add_weight('b', (self.units,), initializer='zeros')
        self.states = [None]
        if self.stateful:
            self.reset_states()
        self.built = True

    def step(self, inputs, states):
        output = K.tanh(K.dot(inputs, self.W) + K.dot(states[0], self.U) + self.b)
        return output, [output]


def simple_rnn_loop(x, W, U, b, h=None, backwards=False, mask=None):
    """The recurrence worked step by step in float64."""
    h = np.zeros((x.shape[0], W.shape[1])) if h is None else h
    outputs = []
    steps = range(x.shape[1])
    for t in (reversed(steps) if backwards else steps):
        new_h = np.tanh(x[:, t] @ W + h @ U + b)
        if mask is not None:
            new_h = np.where(mask[:, t:t + 1], new_h, h)
        h = new_h
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def test_a_keras_1_custom_recurrent_layer_runs_its_step_over_time():
    x = rng(9).normal(size=(3, 4, 2)).astype('float32')
    for go_backwards in (False, True):
        layer = Keras1SimpleRNN(5, return_sequences=True, go_backwards=go_backwards)
        outputs = np.asarray(layer(x))
        W, U, b = layer.get_weights()
        b = rng(10).normal(size=b.shape).astype('float32')
        layer.set_weights([W, U, b])
        expected, _ = simple_rnn_loop(x.astype('float64'), W, U, b, backwards=go_backwards)
        np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-6)
        assert outputs.shape == (3, 4, 5)


def test_a_keras_1_recurrent_layer_in_a_model_masks_and_trains():
    x = rng(11).normal(size=(4, 5, 2)).astype('float32')
    x[0, 3:] = 0.  # padded steps of sample 0
    model = Sequential([layers.Masking(0., input_shape=(5, 2)), Keras1SimpleRNN(3)])
    model.compile('sgd', 'mse')
    W, U, b = model.layers[1].get_weights()
    mask = np.any(x != 0., axis=-1)
    _, expected = simple_rnn_loop(x.astype('float64'), W, U, b, mask=mask)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, np.ones((4, 3), dtype='float32'))
    assert all(not np.array_equal(a, w) for a, w in zip(before, model.get_weights()))


def test_a_stateful_keras_1_recurrent_layer_carries_its_state_between_batches():
    x = rng(12).normal(size=(2, 3, 2)).astype('float32')
    model = Sequential([Keras1SimpleRNN(4, stateful=True, batch_input_shape=(2, 3, 2),
                                        return_state=False)])
    W, U, b = model.layers[0].get_weights()
    first = model.predict(x, batch_size=2)
    second = model.predict(x, batch_size=2)
    _, h1 = simple_rnn_loop(x.astype('float64'), W, U, b)
    _, h2 = simple_rnn_loop(x.astype('float64'), W, U, b, h=h1)
    np.testing.assert_allclose(first, h1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, h2, rtol=1e-5, atol=1e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2), h1, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='expected shape=\\(2, 4\\)'):
        model.layers[0].reset_states(np.zeros((3, 4)))


def test_a_recurrent_subclass_without_step_says_what_to_implement():
    class NoStep(legacy_layers.Recurrent):
        units = 2

        def build(self, input_shape):
            self.built = True

    with pytest.raises(NotImplementedError, match='NoStep.*step'):
        NoStep()(np.zeros((1, 2, 3), dtype='float32'))
