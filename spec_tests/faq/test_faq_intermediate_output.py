"""FAQ: "How can I obtain the output of an intermediate layer?"

The FAQ shows two ways, both checked here as written (with the implementation
that SPEC_KERAS names for `keras`):

1. a new `Model(inputs=model.input, outputs=model.get_layer(layer_name).output)`
   and its `predict(data)`;
2. `K.function([model.layers[0].input], [model.layers[3].output])`, and the
   same with `K.learning_phase()` as an extra input for models that behave
   differently in training and testing (Dropout): phase 0 = test, 1 = train.

Every value is compared with a NumPy forward pass written here from the
layers' weights.
"""
import numpy as np
import pytest

from keras_under_test import backend as K, layers, models, require

Dense, Dropout, Input = layers.Dense, layers.Dropout, layers.Input
Model, Sequential = models.Model, models.Sequential

RTOL, ATOL = 1e-5, 1e-6


def np_relu(z):
    return np.maximum(z, 0.0)


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_dense(x, layer, activation=None):
    """`activation(x . W + b)` in float64 from the layer's weights."""
    kernel, bias = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    z = np.asarray(x, dtype=np.float64) @ kernel + bias
    return z if activation is None else activation(z)


def build_sequential(rate=0.5):
    """Four layers as the FAQ's `model.layers[3]` presumes; layers[2] is a Dropout."""
    model = Sequential()
    model.add(Dense(6, activation='relu', input_dim=4))
    model.add(Dense(5, activation='tanh', name='my_layer'))
    model.add(Dropout(rate))
    model.add(Dense(3, activation='sigmoid'))
    return model


def numpy_forward(model, x):
    """Test-mode outputs of each of the four layers (Dropout is the identity)."""
    h0 = np_dense(x, model.layers[0], np_relu)
    h1 = np_dense(h0, model.layers[1], np.tanh)
    h2 = h1
    h3 = np_dense(h2, model.layers[3], np_sigmoid)
    return [h0, h1, h2, h3]


@pytest.fixture
def data():
    return np.random.RandomState(0).uniform(-1.0, 1.0, size=(11, 4)).astype('float32')


# --- way 1: a Model ending at the intermediate layer -----------------------------------

def test_intermediate_model_as_in_the_faq(data):
    model = build_sequential()
    layer_name = 'my_layer'
    intermediate_layer_model = Model(inputs=model.input,
                                     outputs=model.get_layer(layer_name).output)
    intermediate_output = intermediate_layer_model.predict(data)
    assert intermediate_output.shape == (11, 5)
    np.testing.assert_allclose(intermediate_output, numpy_forward(model, data)[1],
                               rtol=RTOL, atol=ATOL)
    # The sub-model stops at my_layer: the Dropout and the last Dense are not in it.
    assert [layer.name for layer in intermediate_layer_model.layers][1:] == \
        [model.layers[0].name, 'my_layer']


def test_intermediate_model_shares_the_weights(data):
    model = build_sequential()
    sub = Model(inputs=model.input, outputs=model.get_layer('my_layer').output)
    before = sub.predict(data)
    kernel, bias = model.get_layer('my_layer').get_weights()
    model.get_layer('my_layer').set_weights([kernel * -2.0, bias + 0.5])
    after = sub.predict(data)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, numpy_forward(model, data)[1], rtol=RTOL, atol=ATOL)


def test_intermediate_model_of_a_functional_model(data):
    inputs = Input(shape=(4,))
    hidden = Dense(7, activation='relu', name='hidden')(inputs)
    outputs = Dense(2, name='out')(hidden)
    model = Model(inputs, outputs)
    sub = Model(inputs=model.input, outputs=model.get_layer('hidden').output)
    expected = np_dense(data, model.get_layer('hidden'), np_relu)
    np.testing.assert_allclose(sub.predict(data), expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.predict(data),
                               np_dense(expected, model.get_layer('out')), rtol=RTOL, atol=ATOL)


def test_predict_runs_in_test_mode(data):
    model = build_sequential()
    first, second = model.predict(data), model.predict(data)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, numpy_forward(model, data)[3], rtol=RTOL, atol=ATOL)


# --- way 2: K.function ---------------------------------------------------------------

def test_k_function_third_layer_as_in_the_faq(data):
    require('k_function')
    model = build_sequential()
    get_3rd_layer_output = K.function([model.layers[0].input],
                                      [model.layers[3].output])
    layer_output = get_3rd_layer_output([data])[0]
    assert isinstance(layer_output, np.ndarray)
    assert layer_output.shape == (11, 3)
    np.testing.assert_allclose(layer_output, numpy_forward(model, data)[3], rtol=RTOL, atol=ATOL)


def test_k_function_every_layer(data):
    require('k_function')
    model = build_sequential()
    get_all = K.function([model.layers[0].input], [layer.output for layer in model.layers])
    outputs = get_all([data])
    expected = numpy_forward(model, data)
    assert len(outputs) == 4
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def test_k_function_learning_phase_as_in_the_faq(data):
    require('k_function', 'learning_phase_input')
    model = build_sequential()
    get_3rd_layer_output = K.function([model.layers[0].input, K.learning_phase()],
                                      [model.layers[3].output])
    # output in test mode = 0
    test_output = get_3rd_layer_output([data, 0])[0]
    # output in train mode = 1
    train_output = get_3rd_layer_output([data, 1])[0]
    expected = numpy_forward(model, data)[3]
    np.testing.assert_allclose(test_output, expected, rtol=RTOL, atol=ATOL)
    assert train_output.shape == expected.shape
    assert not np.allclose(train_output, expected, rtol=1e-3, atol=1e-4)


def test_learning_phase_one_applies_the_dropout_pattern():
    require('k_function', 'learning_phase_input')
    rate = 0.5
    model = build_sequential(rate)
    # A non-zero bias keeps the tanh units away from an exact 0 (a sample whose
    # relu units are all off would otherwise give tanh(0) = 0, a unit that
    # cannot tell dropped from kept).
    kernel, bias = model.layers[1].get_weights()
    model.layers[1].set_weights([kernel, bias + 0.3])
    x = np.random.RandomState(1).uniform(-1.0, 1.0, size=(200, 4)).astype('float32')
    fn = K.function([model.layers[0].input, K.learning_phase()],
                    [model.layers[2].output, model.layers[3].output])
    test_dropout, test_final = fn([x, 0])
    train_dropout, train_final = fn([x, 1])
    expected = numpy_forward(model, x)
    np.testing.assert_allclose(test_dropout, expected[2], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(test_final, expected[3], rtol=RTOL, atol=ATOL)

    # Every unit is either dropped (0) or kept and scaled by 1 / (1 - rate).
    assert np.all(expected[2] != 0.0)
    dropped = train_dropout == 0.0
    kept = ~dropped
    np.testing.assert_allclose(train_dropout[kept], expected[2][kept] / (1.0 - rate),
                               rtol=RTOL, atol=ATOL)
    # About `rate` of the 1000 units are dropped (binomial sd 0.016; this is > 4 sd).
    assert abs(dropped.mean() - rate) < 0.07
    # The layer after the Dropout sees the same mask in the same call.
    np.testing.assert_allclose(train_final, np_dense(train_dropout, model.layers[3], np_sigmoid),
                               rtol=RTOL, atol=ATOL)
    # A new call in training mode draws a new mask.
    again_dropout, _ = fn([x, 1])
    assert np.any((again_dropout == 0.0) != dropped)
    # Test mode stays deterministic.
    np.testing.assert_array_equal(fn([x, 0])[0], test_dropout)


def test_dropout_scaling_for_a_rate_other_than_one_half():
    require('k_function', 'learning_phase_input')
    rate = 0.2
    model = Sequential()
    model.add(Dropout(rate, input_shape=(50,)))
    x = np.random.RandomState(2).uniform(0.5, 1.5, size=(40, 50)).astype('float32')
    fn = K.function([model.layers[0].input, K.learning_phase()], [model.layers[0].output])
    np.testing.assert_array_equal(fn([x, 0])[0], x)
    train = fn([x, 1])[0]
    dropped = train == 0.0
    np.testing.assert_allclose(train[~dropped], x[~dropped] * 1.25, rtol=RTOL)
    # 2000 units, binomial sd 0.009.
    assert abs(dropped.mean() - rate) < 0.05


def test_k_function_without_phase_input_is_test_mode(data):
    require('k_function')
    model = build_sequential()
    fn = K.function([model.layers[0].input], [model.layers[2].output])
    np.testing.assert_allclose(fn([data])[0], numpy_forward(model, data)[2], rtol=RTOL, atol=ATOL)
