"""Bad input to the engine (issue 2, "Bad input"; docs/design.md, invariant 7).

Each case raises an error whose message names the layer (or model, or
argument), what was expected and what was received, and leaves everything as
it was: weights keep their values, `model.layers` and the layers' connections
do not change, and the model still predicts as before.
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras.layers import Dense, Input, Permute, RepeatVector
from refkeras.models import Model, Sequential


def rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1.0, 1.0, size=shape).astype('float32')


def message_names(excinfo, *fragments):
    text = str(excinfo.value)
    missing = [f for f in fragments if f not in text]
    assert not missing, 'message %r lacks %r' % (text, missing)


def snapshot(weights_owner):
    return [np.array(w, copy=True) for w in weights_owner.get_weights()]


def assert_same_weights(before, owner):
    after = owner.get_weights()
    assert len(before) == len(after)
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


def small_model():
    K.clear_session()
    model = Sequential()
    model.add(Dense(3, activation='relu', input_dim=4, name='hidden'))
    model.add(Dense(2, name='head'))
    return model


# --- a layer called on an incompatible input -------------------------------------------

def test_layer_on_input_of_too_low_rank():
    layer = Dense(3, name='needs_2d')
    x = Input(batch_shape=(None,))
    with pytest.raises(ValueError) as excinfo:
        layer(x)
    message_names(excinfo, 'needs_2d', 'min_ndim=2', 'ndim=1')
    assert not layer.built
    assert layer.weights == []
    with pytest.raises(AttributeError):
        layer.output


def test_layer_on_input_of_wrong_rank():
    layer = RepeatVector(2, name='repeat')
    with pytest.raises(ValueError) as excinfo:
        layer(Input(shape=(3, 4)))
    message_names(excinfo, 'repeat', 'ndim=2', 'ndim=3', '(None, 3, 4)')
    layer2 = Permute((2, 1), name='perm')
    with pytest.raises(ValueError) as excinfo:
        layer2(Input(shape=(2, 3, 4)))
    message_names(excinfo, 'perm', 'ndim=3', 'ndim=4')


def test_built_layer_on_input_of_wrong_last_dimension():
    layer = Dense(3, name='dense_in4')
    first_out = layer(Input(shape=(4,)))
    before = snapshot(layer)
    with pytest.raises(ValueError) as excinfo:
        layer(Input(shape=(5,)))
    message_names(excinfo, 'dense_in4', '4', '(None, 5)')
    assert_same_weights(before, layer)
    assert layer.get_weights()[0].shape == (4, 3)
    # No node was added: the layer still has exactly one output.
    assert layer.output is first_out
    # The same on concrete arrays.
    with pytest.raises(ValueError) as excinfo:
        layer(np.ones((2, 5), dtype='float32'))
    message_names(excinfo, 'dense_in4', '4', '(2, 5)')
    assert_same_weights(before, layer)


def test_sequential_add_of_an_incompatible_layer_changes_nothing():
    model = small_model()
    x = rand(3, 4, seed=1)
    expected = model.predict(x)
    layers, output, before = model.layers, model.output, snapshot(model)
    bad = RepeatVector(2, name='bad_repeat')
    model.add(bad)          # (None, 2) -> (None, 2, 2): fine
    model.pop()
    wrong = Permute((2, 1), name='bad_permute')   # needs a 3D input; gets (None, 2)
    with pytest.raises(ValueError) as excinfo:
        model.add(wrong)
    message_names(excinfo, 'bad_permute', 'ndim=3', 'ndim=2')
    assert model.layers == layers
    assert model.output is output
    assert_same_weights(before, model)
    np.testing.assert_array_equal(model.predict(x), expected)


# --- Model with bad inputs or outputs ---------------------------------------------------

def test_model_inputs_must_be_input_tensors():
    x = Input(shape=(3,))
    hidden = Dense(4, name='not_an_input')(x)
    out = Dense(2)(hidden)
    with pytest.raises((TypeError, ValueError)) as excinfo:
        Model(inputs=hidden, outputs=out)
    message_names(excinfo, 'Input', 'not_an_input')
    with pytest.raises((TypeError, ValueError)) as excinfo:
        Model(inputs=np.zeros((2, 3)), outputs=out)
    message_names(excinfo, 'Input')


def test_model_outputs_must_come_from_layers():
    x = Input(shape=(3,))
    with pytest.raises(ValueError) as excinfo:
        Model(inputs=x, outputs=K.sum(Dense(2)(x), axis=-1))
    message_names(excinfo, 'Output', 'Layer')


def test_graph_disconnected():
    a = Input(shape=(3,), name='given')
    b = Input(shape=(3,), name='missing')
    dense = Dense(2, name='uses_missing')
    out = dense(b)
    before = snapshot(dense)
    with pytest.raises(ValueError) as excinfo:
        Model(inputs=a, outputs=out)
    message_names(excinfo, 'Graph disconnected', 'missing')
    assert_same_weights(before, dense)
    assert dense.output is out
    # The layers are intact: the right model can still be built and used.
    model = Model(inputs=b, outputs=out)
    assert [layer.name for layer in model.layers] == ['missing', 'uses_missing']


def test_duplicate_layer_names_in_a_model():
    x = Input(shape=(3,))
    first = Dense(3, name='same')
    second = Dense(2, name='same')
    out = second(first(x))
    with pytest.raises(ValueError) as excinfo:
        Model(x, out)
    message_names(excinfo, '"same"', '2 times', 'unique')


def test_duplicate_layer_name_in_a_sequential_changes_nothing():
    model = small_model()
    x = rand(3, 4, seed=2)
    expected = model.predict(x)
    layers, output, before = model.layers, model.output, snapshot(model)
    duplicate = Dense(5, name='hidden')
    with pytest.raises(ValueError) as excinfo:
        model.add(duplicate)
    message_names(excinfo, '"hidden"', 'unique')
    assert model.layers == layers
    assert model.output is output
    assert not duplicate.built
    assert_same_weights(before, model)
    np.testing.assert_array_equal(model.predict(x), expected)


# --- get_layer ----------------------------------------------------------------------------

def test_get_layer_unknown_name():
    model = small_model()
    with pytest.raises(ValueError) as excinfo:
        model.get_layer('nope')
    message_names(excinfo, 'nope', 'hidden', 'head')


def test_get_layer_index_out_of_range():
    model = small_model()
    layers = model.layers
    with pytest.raises(ValueError) as excinfo:
        model.get_layer(index=2)
    message_names(excinfo, 'index 2', '2 layers')
    with pytest.raises(ValueError) as excinfo:
        model.get_layer(index=7)
    message_names(excinfo, '7', '2 layers')
    assert model.layers == layers


# --- set_weights ----------------------------------------------------------------------------

def test_layer_set_weights_wrong_count():
    model = small_model()
    layer = model.get_layer('hidden')
    before = snapshot(layer)
    kernel, bias = layer.get_weights()
    with pytest.raises(ValueError) as excinfo:
        layer.set_weights([kernel + 1.0])
    message_names(excinfo, 'hidden', 'length 1', 'expecting 2')
    with pytest.raises(ValueError) as excinfo:
        layer.set_weights([kernel + 1.0, bias + 1.0, bias])
    message_names(excinfo, 'hidden', 'length 3', 'expecting 2')
    assert_same_weights(before, layer)


def test_layer_set_weights_wrong_shape_changes_nothing():
    model = small_model()
    layer = model.get_layer('hidden')
    before = snapshot(layer)
    kernel, bias = layer.get_weights()
    # The kernel is fine, the bias is not: the kernel must not be set either.
    with pytest.raises(ValueError) as excinfo:
        layer.set_weights([kernel + 1.0, np.zeros((4,), dtype='float32')])
    message_names(excinfo, 'hidden', '(3,)', '(4,)')
    assert_same_weights(before, layer)
    with pytest.raises(ValueError) as excinfo:
        layer.set_weights([kernel.T, bias])
    message_names(excinfo, 'hidden', '(4, 3)', '(3, 4)')
    assert_same_weights(before, layer)


def test_model_set_weights_wrong_count():
    model = small_model()
    before = snapshot(model)
    arrays = model.get_weights()
    with pytest.raises(ValueError) as excinfo:
        model.set_weights([a + 1.0 for a in arrays[:3]])
    message_names(excinfo, model.name, '4', '3')
    assert_same_weights(before, model)


def test_model_set_weights_wrong_shape_changes_nothing():
    model = small_model()
    x = rand(5, 4, seed=3)
    expected = model.predict(x)
    before = snapshot(model)
    arrays = [a + 1.0 for a in model.get_weights()]
    arrays[-1] = np.zeros((3,), dtype='float32')        # head's bias is (2,)
    with pytest.raises(ValueError) as excinfo:
        model.set_weights(arrays)
    message_names(excinfo, 'head', '(2,)', '(3,)')
    assert_same_weights(before, model)
    np.testing.assert_array_equal(model.predict(x), expected)


# --- predict ---------------------------------------------------------------------------------

def test_predict_wrong_feature_size():
    model = small_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as excinfo:
        model.predict(np.zeros((3, 5), dtype='float32'))
    message_names(excinfo, 'hidden_input', '(4,)', '(5,)')
    assert_same_weights(before, model)


def test_predict_wrong_rank():
    model = small_model()
    with pytest.raises(ValueError) as excinfo:
        model.predict(np.zeros((3, 4, 1), dtype='float32'))
    message_names(excinfo, 'hidden_input', '2 dimensions', '(3, 4, 1)')


def test_predict_wrong_number_of_inputs():
    a, b = Input(shape=(2,), name='left'), Input(shape=(3,), name='right')
    model = Model([a, b], Dense(1)(Dense(2)(a)))
    with pytest.raises(ValueError) as excinfo:
        model.predict([np.zeros((2, 2), dtype='float32')])
    message_names(excinfo, '2 array(s)', 'left', 'right', 'got 1')


def test_predict_on_a_model_without_layers():
    model = Sequential(name='empty_stack')
    with pytest.raises((ValueError, TypeError, RuntimeError)) as excinfo:
        model.predict(np.zeros((2, 3), dtype='float32'))
    message_names(excinfo, 'empty_stack')
    assert model.layers == []
