"""The engine: layers, the functional graph, `Model` and `Sequential` (issue 2).

Behaviour follows Keras 2.2.4: multiple inputs and outputs, shared layers
(one node per call), models used as layers, the order of `model.layers`,
automatic names, `trainable`, configs, `summary()`'s table, `count_params`,
`predict` / `predict_on_batch`, and every core and merge layer. Values are
compared with NumPy computations written here from the layers' weights;
summaries with tables worked out by hand from Keras 2.2.4's format rules
(`keras/utils/layer_utils.py`): 65 columns with right edges at 29, 55 and 65
for a chain of layers, 98 columns with edges at 32, 53, 65 and 98 otherwise;
each field is cut at its column's edge and the last character before the next
column is a space.
"""
import json

import numpy as np
import pytest

from refkeras import backend as K
from refkeras import regularizers
from refkeras.layers import (Activation, ActivityRegularization, Add, Average, Concatenate,
                             Dense, Dot, Dropout, Flatten, Input, Lambda, Masking,
                             Maximum, Minimum, Multiply, Permute, RepeatVector, Reshape,
                             Subtract, add, average, concatenate, dot, maximum, minimum,
                             multiply, subtract)
from refkeras.layers.core import allow_code_loading
from refkeras.models import Model, Sequential

RTOL, ATOL = 1e-5, 1e-6


# --- NumPy references -----------------------------------------------------------------

def np_relu(z):
    return np.maximum(z, 0.0)


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_dense(x, layer, activation=None):
    """`activation(x . W + b)` in float64, from the layer's weights (any input rank)."""
    weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    z = np.asarray(x, dtype=np.float64) @ weights[0]
    if len(weights) > 1:
        z = z + weights[1]
    return z if activation is None else activation(z)


def rand(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.RandomState(seed).uniform(low, high, size=shape).astype('float32')


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def apply_layer(layer, *shapes_and_data):
    """Builds `Model(inputs, layer(inputs))` for the given input shapes; predicts on the data.

    # Returns
        (prediction, symbolic output)
    """
    shapes = shapes_and_data[::2]
    data = list(shapes_and_data[1::2])
    inputs = [Input(shape=s) for s in shapes]
    output = layer(inputs if len(inputs) > 1 else inputs[0])
    model = Model(inputs, output)
    return model.predict(data if len(data) > 1 else data[0]), output


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def table(text):
    """Lines of an expected table; each ends with '|' to show its exact width."""
    rows = text.strip('\n').split('\n')
    assert all(r.endswith('|') for r in rows)
    return [r[:-1] for r in rows]


# --- automatic names -----------------------------------------------------------------

def test_auto_names_after_clear_session():
    K.clear_session()
    assert Dense(2).name == 'dense_1'
    assert Dense(2).name == 'dense_2'
    assert Dropout(0.1).name == 'dropout_1'
    assert RepeatVector(2).name == 'repeat_vector_1'
    assert ActivityRegularization().name == 'activity_regularization_1'
    x = Input(shape=(3,))
    assert x._keras_history[0].name == 'input_1'
    y = Input(shape=(3,))
    assert y._keras_history[0].name == 'input_2'
    out = Dense(1)(x)
    assert out._keras_history[0].name == 'dense_3'
    assert Model(x, out).name == 'model_1'
    assert Sequential().name == 'sequential_1'
    assert add([x, y])._keras_history[0].name == 'add_1'
    K.clear_session()
    assert Dense(2).name == 'dense_1'
    assert Input(shape=(1,))._keras_history[0].name == 'input_1'
    assert Sequential().name == 'sequential_1'


def test_sequential_names_its_input_after_the_first_layer():
    K.clear_session()
    model = Sequential()
    model.add(Dense(2, input_dim=3))
    assert model.input._keras_history[0].name == 'dense_1_input'
    assert [layer.name for layer in model.layers] == ['dense_1']
    assert model.name == 'sequential_1'


# --- multiple inputs and outputs -------------------------------------------------------

def test_multiple_inputs_and_outputs():
    K.clear_session()
    a = Input(shape=(4,), name='a')
    b = Input(shape=(3,), name='b')
    ha = Dense(5, activation='relu', name='ha')(a)
    hb = Dense(5, activation='tanh', name='hb')(b)
    joined = concatenate([ha, hb], name='joined')
    main = Dense(2, activation='softmax', name='main')(joined)
    aux = Dense(1, activation='sigmoid', name='aux')(ha)
    model = Model(inputs=[a, b], outputs=[main, aux])
    assert model.input_names == ['a', 'b']
    assert model.output_names == ['main', 'aux']
    assert model.input == [a, b]
    assert model.output == [main, aux]
    assert model.output_shape == [(None, 2), (None, 1)]

    xa, xb = rand(6, 4, seed=1), rand(6, 3, seed=2)
    pred_main, pred_aux = model.predict([xa, xb])
    ref_ha = np_dense(xa, model.get_layer('ha'), np_relu)
    ref_hb = np_dense(xb, model.get_layer('hb'), np.tanh)
    close(pred_main, np_dense(np.concatenate([ref_ha, ref_hb], axis=-1),
                              model.get_layer('main'), np_softmax))
    close(pred_aux, np_dense(ref_ha, model.get_layer('aux'), np_sigmoid))
    # In batches that do not divide the 6 samples.
    batched = model.predict([xa, xb], batch_size=4)
    close(batched[0], pred_main)
    close(batched[1], pred_aux)
    # Inputs can also be given by name.
    by_name = model.predict({'b': xb, 'a': xa})
    close(by_name[0], pred_main)
    close(by_name[1], pred_aux)


# --- shared layers ------------------------------------------------------------------

def test_shared_layer_has_one_node_per_call():
    a = Input(shape=(3,))
    b = Input(shape=(3,))
    shared = Dense(4, activation='relu')
    out_a = shared(a)
    out_b = shared(b)
    assert shared.get_output_at(0) is out_a
    assert shared.get_output_at(1) is out_b
    assert shared.get_input_at(0) is a
    assert shared.get_input_at(1) is b
    assert out_a._keras_history[1:] == (0, 0)
    assert out_b._keras_history[1:] == (1, 0)
    with pytest.raises(AttributeError, match='multiple inbound nodes'):
        shared.output
    with pytest.raises(AttributeError, match='multiple inbound nodes'):
        shared.input
    with pytest.raises(ValueError):
        shared.get_output_at(2)
    # Both nodes have the same output shape, so that one is well defined.
    assert shared.output_shape == (None, 4)
    # One set of weights, used by both branches.
    model = Model([a, b], subtract([out_a, out_b]))
    assert len(model.weights) == 2
    assert model.count_params() == 3 * 4 + 4
    xa, xb = rand(5, 3, seed=3), rand(5, 3, seed=4)
    close(model.predict([xa, xb]),
          np_dense(xa, shared, np_relu) - np_dense(xb, shared, np_relu))


def test_layer_on_one_node_has_output_and_input():
    x = Input(shape=(2,))
    layer = Dense(3)
    y = layer(x)
    assert layer.output is y
    assert layer.input is x
    assert layer.input_shape == (None, 2)
    assert layer.output_shape == (None, 3)


def test_unconnected_layer_has_no_output():
    with pytest.raises(AttributeError):
        Dense(2).output


# --- models as layers --------------------------------------------------------------------

def test_model_used_as_a_layer_in_a_model():
    K.clear_session()
    inner_in = Input(shape=(3,))
    inner = Model(inner_in, Dense(2, activation='tanh')(inner_in), name='encoder')
    a = Input(shape=(3,))
    b = Input(shape=(3,))
    ea, eb = inner(a), inner(b)
    assert ea._keras_history[0] is inner
    assert ea._keras_history[1] == 1 and eb._keras_history[1] == 2
    assert inner.get_output_at(1) is ea
    outer = Model([a, b], dot([ea, eb], axes=1))
    assert inner in outer.layers
    assert {id(w) for w in outer.weights} == {id(w) for w in inner.weights}
    assert outer.count_params() == inner.count_params() == 3 * 2 + 2
    xa, xb = rand(4, 3, seed=5), rand(4, 3, seed=6)
    dense = inner.layers[1]
    ra, rb = np_dense(xa, dense, np.tanh), np_dense(xb, dense, np.tanh)
    close(outer.predict([xa, xb]), np.sum(ra * rb, axis=1, keepdims=True))
    # The nested model still works on its own, with the same weights.
    close(inner.predict(xa), ra)


def test_model_used_as_a_layer_in_a_sequential():
    K.clear_session()
    inner_in = Input(shape=(4,))
    inner = Model(inner_in, Dense(3, activation='relu')(inner_in))
    seq = Sequential()
    seq.add(inner)
    seq.add(Dense(2))
    assert seq.layers[0] is inner
    assert seq.input._keras_history[0].name == inner.name + '_input'
    x = rand(5, 4, seed=7)
    expected = np_dense(np_dense(x, inner.layers[1], np_relu), seq.layers[1])
    close(seq.predict(x), expected)
    assert seq.count_params() == (4 * 3 + 3) + (3 * 2 + 2)


def test_mask_leaves_a_nested_model():
    x = rand(2, 3, 2, seed=48, low=0.5, high=1.0)
    x[0, 1] = 0.0
    expected = np.any(x != 0.0, axis=-1).astype('float32')
    inner_in = Input(shape=(3, 2))
    functional = Model(inner_in, Masking(mask_value=0.0)(inner_in))
    stack = Sequential([Masking(mask_value=0.0, input_shape=(3, 2)), Dense(2)])
    for inner in (functional, stack):
        outer_in = Input(shape=(3, 2))
        model = Model(outer_in, mask_probe()(inner(outer_in)))
        np.testing.assert_array_equal(model.predict(x), expected)


def test_sequential_used_as_a_layer():
    inner = Sequential([Dense(4, activation='relu', input_dim=3), Dense(2)])
    outer = Sequential([inner, Dense(1, activation='sigmoid')])
    x = rand(6, 3, seed=8)
    hidden = np_dense(np_dense(x, inner.layers[0], np_relu), inner.layers[1])
    close(outer.predict(x), np_dense(hidden, outer.layers[1], np_sigmoid))
    inp = Input(shape=(3,))
    functional = Model(inp, Dense(1)(inner(inp)))
    close(functional.predict(x), np_dense(hidden, functional.layers[-1]))


# --- layer order and get_layer -----------------------------------------------------------

def test_layers_are_ordered_by_depth_then_traversal():
    # Worked out with Keras 2.2.4's algorithm: depth-first from the outputs gives
    # the visit order cat, sum, d2, d1, a, b; depths are a 4, d1 3, d2 2, b 2,
    # sum 1, cat 0; layers go by decreasing depth, ties by visit order.
    a = Input(shape=(4,), name='a')
    b = Input(shape=(4,), name='b')
    x = Dense(4, name='d1')(a)
    y = Dense(4, name='d2')(x)
    z = Add(name='sum')([y, b])
    w = Concatenate(name='cat')([z, a])
    model = Model([a, b], [w, x])
    assert [layer.name for layer in model.layers] == ['a', 'd1', 'd2', 'b', 'sum', 'cat']


def test_layers_of_parallel_branches():
    K.clear_session()
    a = Input(shape=(2,))
    b = Input(shape=(2,))
    model = Model([a, b], add([Dense(2)(a), Dense(2)(b)]))
    assert [layer.name for layer in model.layers] == ['input_1', 'input_2', 'dense_1', 'dense_2',
                                              'add_1']


def test_get_layer_by_name_and_index():
    x = Input(shape=(3,), name='in')
    h = Dense(4, name='hidden')(x)
    y = Dense(2, name='out')(h)
    model = Model(x, y)
    assert model.get_layer('hidden') is model.layers[1]
    assert model.get_layer(name='out') is model.layers[2]
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(index=0).name == 'in'
    assert model.get_layer(index=2).name == 'out'
    assert model.get_layer(index=-1).name == 'out'
    with pytest.raises(ValueError):
        model.get_layer()


def test_get_layer_index_takes_precedence_over_name():
    x = Input(shape=(3,), name='in')
    model = Model(x, Dense(2, name='out')(x))
    assert model.get_layer(name='out', index=0).name == 'in'


# --- trainable ------------------------------------------------------------------------------

def ids(weights):
    return [id(w) for w in weights]


def test_trainable_as_a_constructor_argument():
    layer = Dense(3, trainable=False)
    layer(Input(shape=(2,)))
    assert layer.trainable is False
    assert layer.trainable_weights == []
    assert ids(layer.non_trainable_weights) == ids([layer.kernel, layer.bias])
    assert layer.get_config()['trainable'] is False


def test_trainable_as_an_attribute():
    layer = Dense(3)
    layer(Input(shape=(2,)))
    assert ids(layer.trainable_weights) == ids([layer.kernel, layer.bias])
    assert layer.non_trainable_weights == []
    layer.trainable = False
    assert layer.trainable_weights == []
    assert ids(layer.non_trainable_weights) == ids([layer.kernel, layer.bias])
    layer.trainable = True
    assert ids(layer.trainable_weights) == ids([layer.kernel, layer.bias])


def test_trainable_in_a_model():
    x = Input(shape=(3,))
    frozen = Dense(4, trainable=False)
    free = Dense(2)
    model = Model(x, free(frozen(x)))
    assert set(ids(model.trainable_weights)) == set(ids(free.weights))
    assert set(ids(model.non_trainable_weights)) == set(ids(frozen.weights))
    assert len(model.weights) == 4
    model.trainable = False
    assert model.trainable_weights == []
    assert set(ids(model.non_trainable_weights)) == set(ids(free.weights + frozen.weights))


def test_nested_model_set_non_trainable():
    inner_in = Input(shape=(3,))
    inner = Model(inner_in, Dense(4)(inner_in))
    x = Input(shape=(3,))
    head = Dense(1)
    outer = Model(x, head(inner(x)))
    assert set(ids(outer.trainable_weights)) == set(ids(inner.weights + head.weights))
    inner.trainable = False
    assert inner.trainable_weights == []
    assert set(ids(outer.trainable_weights)) == set(ids(head.weights))
    assert set(ids(outer.non_trainable_weights)) == set(ids(inner.weights))
    # The inner layer itself is still flagged trainable; the container decides.
    assert inner.layers[1].trainable is True


# --- get_config / from_config --------------------------------------------------------------

def named_square(x):
    return K.square(x)


CORE_LAYERS = [
    (lambda: Dense(4, activation='relu', use_bias=False, name='d',
                   kernel_regularizer=regularizers.l2(0.01)), (3,)),
    (lambda: Dense(2, input_shape=(5,), name='d_in'), (5,)),
    (lambda: Activation('tanh', name='act'), (3,)),
    (lambda: Dropout(0.3, noise_shape=(None, 1), seed=5, name='drop'), (3,)),
    (lambda: Flatten(name='flat'), (2, 3)),
    (lambda: Reshape((2, -1), name='resh'), (3, 4)),
    (lambda: Permute((2, 1), name='perm'), (3, 4)),
    (lambda: RepeatVector(3, name='rep'), (4,)),
    (lambda: ActivityRegularization(l1=0.1, l2=0.2, name='actreg'), (3,)),
    (lambda: Masking(mask_value=-1.0, name='mask'), (2, 3)),
]

MERGE_LAYERS = [Add, Subtract, Multiply, Average, Maximum, Minimum,
                lambda **kw: Concatenate(axis=1, **kw),
                lambda **kw: Dot(axes=(1, 1), normalize=True, **kw)]


@pytest.mark.parametrize('make,shape', CORE_LAYERS)
def test_core_layer_config_round_trip(make, shape):
    layer = make()
    config = layer.get_config()
    assert config['name'] == layer.name
    assert config['trainable'] is True
    # The config is JSON data, and a JSON round trip gives an equivalent layer.
    restored_config = json.loads(json.dumps(config))
    clone = type(layer).from_config(restored_config)
    assert type(clone) is type(layer)
    assert json.loads(json.dumps(clone.get_config())) == restored_config
    x = rand(4, *shape, seed=9)
    out_1, _ = apply_layer(layer, shape, x)
    out_2, _ = apply_layer(clone, shape, x)
    if layer.weights:
        clone.set_weights(layer.get_weights())
        out_2, _ = apply_layer(clone, shape, x)
    close(out_2, out_1)


@pytest.mark.parametrize('make', MERGE_LAYERS)
def test_merge_layer_config_round_trip(make):
    layer = make(name='merge')
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert type(clone) is type(layer)
    assert json.loads(json.dumps(clone.get_config())) == json.loads(json.dumps(config))
    a, b = rand(3, 2, 4, seed=10), rand(3, 2, 4, seed=11)
    out_1, _ = apply_layer(layer, (2, 4), a, (2, 4), b)
    out_2, _ = apply_layer(clone, (2, 4), a, (2, 4), b)
    close(out_2, out_1)


def test_config_values_as_keras_2_2_4_writes_them():
    dense = Dense(4, activation='relu', use_bias=False, kernel_regularizer=regularizers.l2(0.01))
    config = dense.get_config()
    assert config['units'] == 4
    assert config['activation'] == 'relu'
    assert config['use_bias'] is False
    assert config['kernel_initializer'] == {
        'class_name': 'VarianceScaling',
        'config': {'scale': 1.0, 'mode': 'fan_avg', 'distribution': 'uniform', 'seed': None}}
    assert config['bias_initializer'] == {'class_name': 'Zeros', 'config': {}}
    # Keras 2.2.4 keeps the factors as float32 and writes `float(np.float32(0.01))`.
    assert config['kernel_regularizer'] == {'class_name': 'L1L2',
                                            'config': {'l1': 0.0, 'l2': 0.009999999776482582}}
    assert config['bias_regularizer'] is None
    assert config['activity_regularizer'] is None
    assert config['kernel_constraint'] is None and config['bias_constraint'] is None
    assert Dense(2, input_shape=(5,)).get_config()['batch_input_shape'] == (None, 5)
    assert Dropout(0.3, seed=5).get_config()['rate'] == 0.3
    assert Dropout(0.3, seed=5).get_config()['seed'] == 5
    assert Dropout(0.3).get_config()['noise_shape'] is None
    assert Activation('tanh').get_config()['activation'] == 'tanh'
    assert Flatten().get_config()['data_format'] == 'channels_last'
    assert tuple(Reshape((2, -1)).get_config()['target_shape']) == (2, -1)
    assert tuple(Permute((2, 1)).get_config()['dims']) == (2, 1)
    assert RepeatVector(3).get_config()['n'] == 3
    assert ActivityRegularization(l1=0.1).get_config()['l1'] == 0.1
    assert ActivityRegularization(l1=0.1).get_config()['l2'] == 0.0
    assert Masking().get_config()['mask_value'] == 0.0
    assert Concatenate().get_config()['axis'] == -1
    dot_config = Dot(axes=2, normalize=True).get_config()
    assert dot_config['axes'] == 2 and dot_config['normalize'] is True


def test_lambda_config_round_trip_named_function():
    layer = Lambda(named_square, output_shape=(3,), name='sq')
    config = layer.get_config()
    assert config['function'] == 'named_square'
    assert config['function_type'] == 'function'
    clone = Lambda.from_config(json.loads(json.dumps(config)),
                               custom_objects={'named_square': named_square})
    x = rand(2, 3, seed=12)
    out, _ = apply_layer(clone, (3,), x)
    close(out, x.astype(np.float64) ** 2)


def test_lambda_config_round_trip_python_lambda():
    layer = Lambda(lambda t, k: t * k, arguments={'k': 3.0}, name='times_k')
    config = json.loads(json.dumps(layer.get_config()))
    assert config['function_type'] == 'lambda'
    assert config['arguments'] == {'k': 3.0}
    with allow_code_loading():
        clone = Lambda.from_config(config)
    x = rand(2, 3, seed=13)
    out, _ = apply_layer(clone, (3,), x)
    close(out, x * 3.0)


# --- summary -------------------------------------------------------------------------------

SEQUENTIAL_SUMMARY = table('''
_________________________________________________________________|
Layer (type)                 Output Shape              Param #   |
=================================================================|
dense_1 (Dense)              (None, 100)               2100      |
_________________________________________________________________|
dropout_1 (Dropout)          (None, 100)               0         |
_________________________________________________________________|
a_really_long_layer_name_for (None, 10)                1010      |
_________________________________________________________________|
reshape_1 (Reshape)          (None, 5, 2)              0         |
_________________________________________________________________|
flatten_1 (Flatten)          (None, 10)                0         |
=================================================================|
Total params: 3,110|
Trainable params: 2,100|
Non-trainable params: 1,010|
_________________________________________________________________|
''')


def test_summary_of_a_sequential_model():
    K.clear_session()
    model = Sequential()
    model.add(Dense(100, activation='relu', input_dim=20))
    model.add(Dropout(0.5))
    model.add(Dense(10, name='a_really_long_layer_name_for_truncation', trainable=False))
    model.add(Reshape((5, 2)))
    model.add(Flatten())
    lines = summary_lines(model)
    assert lines == SEQUENTIAL_SUMMARY
    assert all(len(line) == 65 for line in lines if not line.endswith(tuple('0123456789')))


def test_summary_prints_by_default(capsys):
    K.clear_session()
    model = Sequential()
    model.add(Dense(100, activation='relu', input_dim=20))
    model.add(Dropout(0.5))
    model.add(Dense(10, name='a_really_long_layer_name_for_truncation', trainable=False))
    model.add(Reshape((5, 2)))
    model.add(Flatten())
    model.summary()
    assert capsys.readouterr().out == '\n'.join(SEQUENTIAL_SUMMARY) + '\n'


MERGE_SUMMARY = table('''
__________________________________________________________________________________________________|
Layer (type)                    Output Shape         Param #     Connected to                     |
==================================================================================================|
input_1 (InputLayer)            (None, 4)            0                                            |
__________________________________________________________________________________________________|
input_2 (InputLayer)            (None, 3)            0                                            |
__________________________________________________________________________________________________|
dense_1 (Dense)                 (None, 5)            25          input_1[0][0]                    |
__________________________________________________________________________________________________|
dense_2 (Dense)                 (None, 5)            20          input_2[0][0]                    |
__________________________________________________________________________________________________|
add_1 (Add)                     (None, 5)            0           dense_1[0][0]                    |
                                                                 dense_2[0][0]                    |
__________________________________________________________________________________________________|
dense_3 (Dense)                 (None, 2)            12          add_1[0][0]                      |
==================================================================================================|
Total params: 57|
Trainable params: 57|
Non-trainable params: 0|
__________________________________________________________________________________________________|
''')


def test_summary_of_a_functional_model_with_a_merge():
    K.clear_session()
    a = Input(shape=(4,))
    b = Input(shape=(3,))
    ha = Dense(5, activation='relu')(a)
    hb = Dense(5, activation='relu')(b)
    merged = add([ha, hb])
    out = Dense(2, activation='softmax')(merged)
    model = Model([a, b], out)
    assert summary_lines(model) == MERGE_SUMMARY
    assert model.count_params() == 57


SHARED_SUMMARY = table('''
__________________________________________________________________________________________________|
Layer (type)                    Output Shape         Param #     Connected to                     |
==================================================================================================|
x (InputLayer)                  (None, 3)            0                                            |
__________________________________________________________________________________________________|
y (InputLayer)                  (None, 3)            0                                            |
__________________________________________________________________________________________________|
shared (Dense)                  (None, 3)            12          x[0][0]                          |
                                                                 y[0][0]                          |
__________________________________________________________________________________________________|
encoder (Model)                 (None, 2)            8           shared[0][0]                     |
                                                                 shared[1][0]                     |
__________________________________________________________________________________________________|
concatenate_1 (Concatenate)     (None, 4)            0           encoder[1][0]                    |
                                                                 encoder[2][0]                    |
==================================================================================================|
Total params: 20|
Trainable params: 20|
Non-trainable params: 0|
__________________________________________________________________________________________________|
''')


def test_summary_of_shared_layers_and_a_nested_model():
    K.clear_session()
    x = Input(shape=(3,), name='x')
    y = Input(shape=(3,), name='y')
    inner_in = Input(shape=(3,))
    encoder = Model(inner_in, Dense(2)(inner_in), name='encoder')
    shared = Dense(3, name='shared')
    merged = concatenate([encoder(shared(x)), encoder(shared(y))])
    model = Model([x, y], merged)
    assert summary_lines(model) == SHARED_SUMMARY


CHAIN_SUMMARY = table('''
_________________________________________________________________|
Layer (type)                 Output Shape              Param #   |
=================================================================|
input_1 (InputLayer)         (None, 8)                 0         |
_________________________________________________________________|
dense_1 (Dense)              (None, 4)                 36        |
_________________________________________________________________|
dense_2 (Dense)              (None, 1)                 5         |
=================================================================|
Total params: 41|
Trainable params: 41|
Non-trainable params: 0|
_________________________________________________________________|
''')


def test_summary_of_a_functional_chain_uses_the_sequential_table():
    K.clear_session()
    x = Input(shape=(8,))
    hidden = Dense(4)(x)
    model = Model(x, Dense(1)(hidden))
    assert summary_lines(model) == CHAIN_SUMMARY


# --- count_params -----------------------------------------------------------------------------

def test_summary_of_an_unbuilt_model_raises_before_printing():
    model = Sequential([Dense(2), Dense(3)])
    lines = []
    with pytest.raises(ValueError, match='not yet been built'):
        model.summary(print_fn=lines.append)
    assert lines == []


def test_count_params():
    model = Sequential([Dense(7, input_dim=3), Dense(2, use_bias=False), Dropout(0.1)])
    assert model.layers[0].count_params() == 3 * 7 + 7
    assert model.layers[1].count_params() == 7 * 2
    assert model.layers[2].count_params() == 0
    assert model.count_params() == 3 * 7 + 7 + 14
    with pytest.raises(RuntimeError, match='not built'):
        Dense(3).count_params()


# --- predict ---------------------------------------------------------------------------------

def batch_recording_model(sizes):
    def record(t):
        sizes.append(K.int_shape(t)[0])
        return t
    model = Sequential()
    model.add(Dense(3, activation='relu', input_dim=4))
    model.add(Lambda(record, output_shape=(3,)))
    model.add(Dense(2))
    return model


def model_reference(model, x):
    return np_dense(np_dense(x, model.layers[0], np_relu), model.layers[2])


def test_predict_in_batches_that_do_not_divide_the_samples():
    sizes = []
    model = batch_recording_model(sizes)
    x = rand(10, 4, seed=14)
    del sizes[:]
    out = model.predict(x, batch_size=4)
    assert sizes == [4, 4, 2]
    assert out.shape == (10, 2)
    close(out, model_reference(model, x))


def test_predict_default_batch_size_is_32():
    sizes = []
    model = batch_recording_model(sizes)
    x = rand(70, 4, seed=15)
    del sizes[:]
    out = model.predict(x)
    assert sizes == [32, 32, 6]
    close(out, model_reference(model, x))


def test_predict_on_batch_is_one_batch():
    sizes = []
    model = batch_recording_model(sizes)
    x = rand(45, 4, seed=16)
    del sizes[:]
    out = model.predict_on_batch(x)
    assert sizes == [45]
    close(out, model_reference(model, x))


# --- core layers against NumPy ------------------------------------------------------------

def test_dense_on_3d_input():
    layer = Dense(5, activation='relu')
    x = rand(2, 3, 4, seed=17)
    out, symbolic = apply_layer(layer, (3, 4), x)
    assert symbolic.shape == (None, 3, 5)
    assert layer.kernel.shape == (4, 5)
    assert out.shape == (2, 3, 5)
    close(out, np_relu(np.einsum('bti,io->bto', x.astype(np.float64), layer.get_weights()[0])
                       + layer.get_weights()[1]))


@pytest.mark.parametrize('name,reference', [
    ('relu', np_relu),
    ('tanh', np.tanh),
    ('sigmoid', np_sigmoid),
    ('linear', lambda z: z),
    ('softmax', np_softmax),
    ('hard_sigmoid', lambda z: np.clip(0.2 * z + 0.5, 0.0, 1.0)),
])
def test_activation_layer(name, reference):
    x = rand(3, 2, 5, seed=18, low=-4.0, high=4.0)
    out, symbolic = apply_layer(Activation(name), (2, 5), x)
    assert symbolic.shape == (None, 2, 5)
    close(out, reference(x.astype(np.float64)))


def test_flatten():
    x = rand(3, 2, 3, 4, seed=19)
    out, symbolic = apply_layer(Flatten(), (2, 3, 4), x)
    assert symbolic.shape == (None, 24)
    np.testing.assert_array_equal(out, x.reshape(3, 24))


@pytest.mark.parametrize('target,expected_shape', [((-1, 2), (6, 2)), ((2, -1), (2, 6)),
                                                    ((12,), (12,)), ((2, 3, 2), (2, 3, 2))])
def test_reshape(target, expected_shape):
    x = rand(2, 3, 4, seed=20)
    out, symbolic = apply_layer(Reshape(target), (3, 4), x)
    assert symbolic.shape == (None,) + expected_shape
    np.testing.assert_array_equal(out, x.reshape((2,) + expected_shape))


@pytest.mark.parametrize('dims,shape,axes', [((2, 1), (3, 4), (0, 2, 1)),
                                             ((3, 1, 2), (2, 3, 4), (0, 3, 1, 2)),
                                             ((1, 3, 2), (2, 3, 4), (0, 1, 3, 2))])
def test_permute(dims, shape, axes):
    x = rand(2, *shape, seed=21)
    out, symbolic = apply_layer(Permute(dims), shape, x)
    assert symbolic.shape == (None,) + tuple(shape[d - 1] for d in dims)
    np.testing.assert_array_equal(out, np.transpose(x, axes))


def test_repeat_vector():
    x = rand(2, 4, seed=22)
    out, symbolic = apply_layer(RepeatVector(3), (4,), x)
    assert symbolic.shape == (None, 3, 4)
    expected = np.stack([x, x, x], axis=1)
    np.testing.assert_array_equal(out, expected)


def test_lambda_without_output_shape_infers_it():
    x = rand(3, 5, seed=23)
    out, symbolic = apply_layer(Lambda(lambda t: K.sum(t, axis=-1, keepdims=True)), (5,), x)
    assert symbolic.shape == (None, 1)
    close(out, x.astype(np.float64).sum(axis=-1, keepdims=True))


def test_lambda_with_output_shape():
    x = rand(3, 4, seed=24)
    layer = Lambda(lambda t: K.concatenate([t, K.square(t)], axis=-1), output_shape=(8,))
    out, symbolic = apply_layer(layer, (4,), x)
    assert symbolic.shape == (None, 8)
    close(out, np.concatenate([x, x.astype(np.float64) ** 2], axis=-1))
    layer = Lambda(lambda t: K.concatenate([t, t], axis=-1),
                   output_shape=lambda s: (s[0], 2 * s[1]))
    out, symbolic = apply_layer(layer, (4,), x)
    assert symbolic.shape == (None, 8)
    np.testing.assert_array_equal(out, np.concatenate([x, x], axis=-1))


def test_lambda_with_arguments_and_several_inputs():
    x, y = rand(3, 4, seed=25), rand(3, 4, seed=26)
    layer = Lambda(lambda t, scale: K.maximum(t[0], t[1]) * scale, arguments={'scale': 2.0})
    out, symbolic = apply_layer(layer, (4,), x, (4,), y)
    assert symbolic.shape == (None, 4)
    close(out, np.maximum(x, y) * 2.0)


def test_activity_regularization_is_identity_and_adds_its_penalty():
    x = rand(4, 3, seed=27)
    out, _ = apply_layer(ActivityRegularization(l1=0.1, l2=0.2), (3,), x)
    np.testing.assert_array_equal(out, x)

    inp = Input(shape=(3,))
    dense = Dense(2)
    model = Model(inp, ActivityRegularization(l1=0.1, l2=0.2)(dense(inp)))
    model.compile('sgd', 'mse')
    y = rand(4, 2, seed=28)
    o = np_dense(x, dense)
    expected = np.mean(np.mean((y - o) ** 2, axis=-1)) + 0.1 * np.abs(o).sum() + \
        0.2 * (o ** 2).sum()
    np.testing.assert_allclose(model.test_on_batch(x, y), expected, rtol=1e-5)


def test_masking_zeroes_masked_timesteps():
    x = rand(2, 4, 3, seed=29, low=0.0, high=1.0)
    x[0, 1, :] = -1.0
    x[1, 3, :] = -1.0
    x[1, 0, 0] = -1.0          # only one feature equal to mask_value: kept
    out, symbolic = apply_layer(Masking(mask_value=-1.0), (4, 3), x)
    assert symbolic.shape == (None, 4, 3)
    keep = np.any(x != -1.0, axis=-1, keepdims=True)
    np.testing.assert_array_equal(out, x * keep)
    assert out[0, 1].tolist() == [0.0, 0.0, 0.0]
    assert out[1, 0, 0] == -1.0


def mask_probe():
    """A Lambda whose output is the mask it receives (as floats)."""
    return Lambda(lambda t, mask: K.cast(mask, 'float32'), output_shape=lambda s: s[:2])


def test_masking_and_concatenate_propagate_the_mask():
    steps = 4
    seq_a = Input(shape=(steps, 2))
    seq_b = Input(shape=(steps, 3))
    masked_a = Masking(mask_value=0.0)(seq_a)
    masked_b = Masking(mask_value=0.0)(seq_b)
    plain_b = Dense(3)(seq_b)
    # One masked input: its mask goes through; two: the masks are and-ed.
    one = mask_probe()(Concatenate()([masked_a, plain_b]))
    both = mask_probe()(Concatenate(axis=-1)([masked_a, masked_b]))
    # Along the time axis the masks are concatenated; Dense passes the mask on.
    in_time = mask_probe()(Dense(2)(Concatenate(axis=1)([masked_a, masked_a])))
    # Elementwise merges and the masks of all their inputs.
    summed = mask_probe()(add([masked_a, Dense(2)(masked_b)]))
    model = Model([seq_a, seq_b], [one, both, in_time, summed])

    a = rand(3, steps, 2, seed=30, low=0.5, high=1.0)
    b = rand(3, steps, 3, seed=31, low=0.5, high=1.0)
    a[0, 1] = 0.0
    a[2, 3] = 0.0
    b[0, 2] = 0.0
    b[1, 1] = 0.0
    mask_a = np.any(a != 0.0, axis=-1)
    mask_b = np.any(b != 0.0, axis=-1)
    got_one, got_both, got_time, got_summed = model.predict([a, b])
    np.testing.assert_array_equal(got_one, mask_a.astype('float32'))
    np.testing.assert_array_equal(got_both, (mask_a & mask_b).astype('float32'))
    np.testing.assert_array_equal(got_time,
                                  np.concatenate([mask_a, mask_a], axis=1).astype('float32'))
    np.testing.assert_array_equal(got_summed, (mask_a & mask_b).astype('float32'))


def test_masks_reach_the_loss():
    # Keras 2.2.4 weights each timestep's loss by the output mask, renormalised by
    # the mask's mean: loss = mean(mse_t * mask_t) / mean(mask_t).
    seq = Input(shape=(3, 2))
    model = Model(seq, Masking(mask_value=0.0)(seq))
    model.compile('sgd', 'mse')
    x = rand(2, 3, 2, seed=46, low=0.5, high=1.0)
    x[0, 2] = 0.0
    y = rand(2, 3, 2, seed=47)
    mask = np.any(x != 0.0, axis=-1).astype(np.float64)
    per_step = np.mean((y - x * mask[..., None]) ** 2, axis=-1)
    expected = np.mean(per_step * mask) / np.mean(mask)
    np.testing.assert_allclose(model.test_on_batch(x, y), expected, rtol=1e-5)


# --- merge layers against NumPy --------------------------------------------------------------

THREE = [rand(4, 2, 3, seed=s) for s in (32, 33, 34)]


@pytest.mark.parametrize('layer_class,functional,reference', [
    (Add, add, lambda xs: xs[0] + xs[1] + xs[2]),
    (Multiply, multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (Average, average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3.0),
    (Maximum, maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (Minimum, minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
])
def test_elementwise_merge_of_three_inputs(layer_class, functional, reference):
    expected = reference([x.astype(np.float64) for x in THREE])
    inputs = [Input(shape=(2, 3)) for _ in range(3)]
    for output in (layer_class()(inputs), functional(inputs)):
        assert output.shape == (None, 2, 3)
        assert isinstance(output._keras_history[0], layer_class)
        close(Model(inputs, output).predict(THREE), expected)


def test_subtract():
    a, b = THREE[0], THREE[1]
    inputs = [Input(shape=(2, 3)), Input(shape=(2, 3))]
    for output in (Subtract()(inputs), subtract(inputs)):
        assert isinstance(output._keras_history[0], Subtract)
        close(Model(inputs, output).predict([a, b]), a.astype(np.float64) - b)


def test_subtract_needs_exactly_two_inputs():
    inputs = [Input(shape=(3,)) for _ in range(3)]
    with pytest.raises(ValueError, match='exactly 2'):
        Subtract()(inputs)


def test_concatenate_along_an_axis():
    a, b = rand(3, 2, 4, seed=35), rand(3, 5, 4, seed=36)
    inputs = [Input(shape=(2, 4)), Input(shape=(5, 4))]
    for output in (Concatenate(axis=1)(inputs), concatenate(inputs, axis=1)):
        assert output.shape == (None, 7, 4)
        np.testing.assert_array_equal(Model(inputs, output).predict([a, b]),
                                      np.concatenate([a, b], axis=1))
    c = rand(3, 2, 6, seed=37)
    inputs = [Input(shape=(2, 4)), Input(shape=(2, 6))]
    output = concatenate(inputs)
    assert output.shape == (None, 2, 10)
    np.testing.assert_array_equal(Model(inputs, output).predict([a, c]),
                                  np.concatenate([a, c], axis=-1))


@pytest.mark.parametrize('axes,shape_a,shape_b,subscripts,out_shape', [
    (1, (4,), (4,), 'bi,bi->b', (1,)),
    (2, (3, 4), (5, 4), 'bik,bjk->bij', (3, 5)),
    (-1, (3, 4), (5, 4), 'bik,bjk->bij', (3, 5)),
    ((1, 2), (3, 4), (5, 3), 'bki,bjk->bij', (4, 5)),
    ((2, 1), (3, 4), (4, 5), 'bik,bkj->bij', (3, 5)),
])
def test_dot(axes, shape_a, shape_b, subscripts, out_shape):
    a, b = rand(2, *shape_a, seed=38), rand(2, *shape_b, seed=39)
    expected = np.einsum(subscripts, a.astype(np.float64), b.astype(np.float64))
    expected = expected.reshape((2,) + out_shape)
    inputs = [Input(shape=shape_a), Input(shape=shape_b)]
    for output in (Dot(axes=axes)(inputs), dot(inputs, axes=axes)):
        assert output.shape == (None,) + out_shape
        close(Model(inputs, output).predict([a, b]), expected)


def test_dot_normalize_is_cosine_similarity():
    a, b = rand(5, 6, seed=40), rand(5, 6, seed=41)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cosine = np.sum(a64 * b64, axis=1) / (np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1))
    inputs = [Input(shape=(6,)), Input(shape=(6,))]
    for output in (Dot(axes=1, normalize=True)(inputs), dot(inputs, axes=1, normalize=True)):
        close(Model(inputs, output).predict([a, b]), cosine[:, None])
    # A vector with itself: cosine 1.
    inputs = [Input(shape=(6,)), Input(shape=(6,))]
    same = Model(inputs, dot(inputs, axes=1, normalize=True)).predict([a, a])
    close(same, np.ones((5, 1)))


def test_merge_broadcasts_size_one_axes():
    a, b = rand(3, 1, 4, seed=42), rand(3, 5, 4, seed=43)
    inputs = [Input(shape=(1, 4)), Input(shape=(5, 4))]
    output = add(inputs)
    assert output.shape == (None, 5, 4)
    close(Model(inputs, output).predict([a, b]), a.astype(np.float64) + b)


def test_merge_of_inputs_of_different_rank():
    a, b = rand(3, 4, seed=44), rand(3, 5, 4, seed=45)
    inputs = [Input(shape=(4,)), Input(shape=(5, 4))]
    output = add(inputs)
    assert output.shape == (None, 5, 4)
    close(Model(inputs, output).predict([a, b]), a[:, None, :].astype(np.float64) + b)


def test_a_layer_called_on_arrays_outside_a_model_runs_in_test_mode():
    # Keras's default learning phase is 0: Dropout is the identity unless training=True.
    from refkeras.layers import Dropout
    x = np.ones((4, 50), dtype='float32')
    layer = Dropout(0.5)
    np.testing.assert_array_equal(layer(x), x)
    dropped = layer(x, training=True)
    assert set(np.unique(dropped)) <= {0.0, 2.0} and 0 < (dropped == 0).mean() < 1


def test_keras_module_paths_of_helpers():
    from refkeras.layers.core import SpatialDropout1D  # noqa: F401
    from refkeras.utils import conv_utils
    assert conv_utils.conv_output_length(10, 3, 'valid', 1) == 8
    assert conv_utils.conv_output_length(10, 3, 'same', 2) == 5
