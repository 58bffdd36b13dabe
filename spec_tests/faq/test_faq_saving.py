"""FAQ: "How can I save a Keras model?" — each sub-answer, plus what the issue adds.

- Saving/loading whole models (architecture + weights + optimizer state):
  `model.save` / `load_model`, compiled again with the saved configuration
  (unless never compiled, or `compile=False`), resuming training exactly —
  checked across two processes.
- Saving/loading only a model's architecture: `to_json` / `to_yaml`,
  `model_from_json` / `model_from_yaml` (human-readable, hand-editable; YAML
  read safely).
- Saving/loading only a model's weights: `save_weights` / `load_weights`,
  by position and `by_name` (the FAQ's dense_1 / new_dense example).
- Handling custom objects: `custom_objects=` and `CustomObjectScope`, for
  `load_model`, `model_from_json` and `model_from_yaml`.
- Lambda layers: refused unless the caller opts in.
- Robust files: `overwrite=False`, atomic writes, `ModelCheckpoint`.
"""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import h5py
import numpy as np
import pytest
import yaml

from keras_under_test import (IS_REFKERAS, SAVED_KERAS_VERSION, backend as K, callbacks,
                              constraints, get_value, initializers, layers, models,
                              numpy_dtype, optimizer, optimizer_weights, refkeras_only,
                              regularizers, require, seed as seed_generators, utils)

if IS_REFKERAS:  # for the refkeras-only tests of its internals
    from refkeras.engine import saving
    from refkeras.layers.core import allow_code_loading

Layer = layers.Layer
Model, Sequential, clone_model = models.Model, models.Sequential, models.clone_model
load_model, model_from_json, save_model = models.load_model, models.model_from_json, models.save_model
model_from_yaml = getattr(models, 'model_from_yaml', None)
CustomObjectScope = utils.CustomObjectScope

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def text(value):
    """An HDF5 string attribute as text (refkeras stores bytes, as Keras 2.2.4 does;
    tf.keras stores str)."""
    return value.decode('utf8') if isinstance(value, bytes) else value


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def assert_same_arrays(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def small_mlp():
    model = Sequential([layers.Dense(6, activation='relu', input_shape=(4,)),
                        layers.Dropout(0.2),
                        layers.Dense(3, activation='softmax')])
    return model


def data(n=20, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 4).astype('float32')
    y = np.eye(3, dtype='float32')[rng.randint(0, 3, n)]
    return x, y


# --- whole models ---------------------------------------------------------------------------------

def test_whole_model_round_trip(tmp_path):
    seed_generators(1)
    model = small_mlp()
    model.compile(optimizer=optimizer('Adam', lr=0.01), loss='categorical_crossentropy',
                  metrics=['acc'])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = str(tmp_path / 'my_model.h5')
    model.save(path)
    expected_predictions = model.predict(x)
    expected_weights = weights_of(model)
    expected_state = optimizer_weights(model.optimizer)
    expected_config = model.optimizer.get_config()
    del model

    loaded = load_model(path)
    assert_same_arrays(weights_of(loaded), expected_weights)
    np.testing.assert_array_equal(loaded.predict(x), expected_predictions)
    assert loaded.optimizer.__class__.__name__ == 'Adam'
    assert loaded.optimizer.get_config() == expected_config
    assert loaded.loss == 'categorical_crossentropy'
    assert loaded.metrics_names == ['loss', 'acc']
    assert_same_arrays(optimizer_weights(loaded.optimizer), expected_state)


def test_file_has_keras_2_2_4_layout(tmp_path):
    model = small_mlp()
    model.compile(optimizer=optimizer('SGD', lr=0.1, momentum=0.9), loss='mse')
    x, y = data()
    model.train_on_batch(x, y)
    path = str(tmp_path / 'm.h5')
    model.save(path)
    with h5py.File(path, 'r') as f:
        if IS_REFKERAS:  # stored as bytes, as Keras 2.2.4 does
            assert f.attrs['keras_version'] == b'2.2.4'
            assert f.attrs['backend'] == K.backend().encode()
        else:
            assert str(f.attrs['keras_version']) == SAVED_KERAS_VERSION
        config = json.loads(text(f.attrs['model_config']))
        assert config['class_name'] == 'Sequential'
        assert [e['class_name'] for e in config['config']['layers']] == ['Dense', 'Dropout',
                                                                         'Dense']
        training = json.loads(text(f.attrs['training_config']))
        assert training['optimizer_config']['class_name'] == 'SGD'
        assert training['loss'] == 'mse'
        assert set(training) >= {'optimizer_config', 'loss', 'metrics', 'sample_weight_mode',
                                 'loss_weights'}
        group = f['model_weights']
        names = [n.decode() for n in group.attrs['layer_names']]
        assert names == [layer.name for layer in model.layers]
        dense = model.layers[0]
        weight_names = [n.decode() for n in group[dense.name].attrs['weight_names']]
        assert weight_names == [dense.name + '/kernel:0', dense.name + '/bias:0']
        np.testing.assert_array_equal(group[dense.name][weight_names[0]][()],
                                      get_value(dense.kernel))
        assert len(group[model.layers[1].name].attrs['weight_names']) == 0
        opt_names = [n.decode() for n in f['optimizer_weights'].attrs['weight_names']]
        assert len(opt_names) == 1 + 4  # iterations, one momentum per weight
        assert int(f['optimizer_weights'][opt_names[0]][()]) == 1


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_long_layer_name_lists_are_split_as_keras_does(tmp_path):
    # 64512 bytes per attribute: 300 names of 250 bytes need two parts.
    layer_list = [layers.Dense(1, name='d%03d_' % i + 'x' * 245) for i in range(300)]
    inputs = layers.Input((1,))
    h = inputs
    for layer in layer_list:
        h = layer(h)
    model = Model(inputs, h)
    path = str(tmp_path / 'w.h5')
    model.save_weights(path)
    with h5py.File(path, 'r') as f:
        assert 'layer_names' not in f.attrs
        parts = [f.attrs['layer_names%d' % i] for i in range(2)]
        assert 'layer_names2' not in f.attrs
        assert all(p.nbytes <= saving.HDF5_OBJECT_HEADER_LIMIT for p in parts)
        names = [n.decode() for p in parts for n in p]
        assert names == [layer.name for layer in model.layers]
    before = weights_of(model)
    model.set_weights([np.zeros_like(w) for w in before])
    model.load_weights(path)
    assert_same_arrays(weights_of(model), before)


def test_functional_model_with_shared_layer_round_trip(tmp_path):
    a, b = layers.Input((3,), name='a'), layers.Input((3,), name='b')
    shared = layers.Dense(4, name='shared')
    out_1 = layers.Dense(1, name='o1')(layers.add([shared(a), shared(b)]))
    out_2 = layers.Dense(2, name='o2')(layers.concatenate([shared(b), a]))
    model = Model([a, b], [out_1, out_2])
    model.compile('sgd', loss=['mse', 'mae'], loss_weights=[1.0, 0.3])
    path = str(tmp_path / 'f.h5')
    model.save(path)
    loaded = load_model(path)
    xa, xb = np.random.rand(5, 3), np.random.rand(5, 3)
    for got, want in zip(loaded.predict([xa, xb]), model.predict([xa, xb])):
        np.testing.assert_array_equal(got, want)
    assert loaded.get_config() == model.get_config()
    assert loaded.loss_weights == [1.0, 0.3]
    shared_loaded = loaded.get_layer('shared')
    assert len(shared_loaded._inbound_nodes) == 3  # called on a, b, b again


def test_functional_config_renumbers_node_indices():
    # A layer used before in another graph: its nodes there do not belong to this model.
    dense = layers.Dense(2, name='reused')
    outside = layers.Input((3,))
    dense(outside)
    dense(outside)
    x = layers.Input((3,), name='x')
    y = dense(x)  # the layer's third call (node index 2)
    model = Model(x, y)
    config = model.get_config()
    entry = [e for e in config['layers'] if e['name'] == 'reused'][0]
    assert entry['inbound_nodes'] == [[['x', 0, 0, {}]]]
    assert config['output_layers'] == [['reused', 0, 0]]  # renumbered from 2
    rebuilt = Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    v = np.random.rand(4, 3)
    np.testing.assert_array_equal(rebuilt.predict(v), model.predict(v))


def test_config_listing_a_shared_layer_before_its_input_layer():
    """A shared layer whose first call waits for a layer listed after it: the later
    call must wait too, or the node indices of the config would point elsewhere."""
    inp = layers.Input((3,), name='inp')
    before, shared = layers.Dense(3, name='before'), layers.Dense(3, name='shared')
    first_call = shared(before(inp))
    second_call = shared(inp)
    model = Model(inp, [first_call, layers.Dense(2, name='after')(second_call)])
    config = model.get_config()
    names = [e['name'] for e in config['layers']]
    i, j = names.index('before'), names.index('shared')
    config['layers'][i], config['layers'][j] = config['layers'][j], config['layers'][i]
    rebuilt = Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    x = np.random.rand(4, 3)
    for got, want in zip(rebuilt.predict(x), model.predict(x)):
        np.testing.assert_array_equal(got, want)


@refkeras_only("refkeras refuses with a ValueError; Keras 2.2.4's from_config fails with a bare KeyError")
def test_malformed_functional_configs_are_refused():
    inp = layers.Input((3,), name='inp')
    model = Model(inp, layers.Dense(2, name='d')(inp))
    config = model.get_config()
    config['layers'][1]['inbound_nodes'] = [[['nowhere', 0, 0, {}]]]
    with pytest.raises(ValueError, match="'nowhere'"):
        Model.from_config(config)
    config = model.get_config()
    config['layers'][1]['inbound_nodes'] = [[['d', 0, 0, {}]]]  # calls itself: never ready
    with pytest.raises(ValueError, match='never'):
        Model.from_config(config)
    config = model.get_config()
    config['output_layers'] = [['d', 3, 0]]
    with pytest.raises(ValueError, match='output_layers'):
        Model.from_config(config)


def test_sequential_with_an_explicit_input_layer_round_trip(tmp_path):
    model = Sequential([layers.InputLayer(input_shape=(3,)), layers.Dense(2)])
    path = str(tmp_path / 'explicit_input.h5')
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        loaded = load_model(path)
    x = np.random.rand(2, 3)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert model_from_json(model.to_json()).built


def test_clone_model_makes_new_layers_with_the_same_graph():
    a, b = layers.Input((3,)), layers.Input((3,))
    shared = layers.Dense(4)
    model = Model([a, b], [layers.Dense(1)(layers.add([shared(a), shared(b)])),
                           layers.Dropout(0.2)(shared(b))])
    clone = clone_model(model)
    assert not set(map(id, clone.layers)) & set(map(id, model.layers))
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    x = [np.random.rand(2, 3), np.random.rand(2, 3)]
    for got, want in zip(clone.predict(x), model.predict(x)):
        np.testing.assert_array_equal(got, want)
    sequential = Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
    new_input = layers.Input((3,))
    clone = clone_model(sequential, new_input)
    assert clone.inputs[0] is new_input
    clone.set_weights(sequential.get_weights())
    np.testing.assert_array_equal(clone.predict(x[0]), sequential.predict(x[0]))


def test_nested_model_round_trip(tmp_path):
    inner_in = layers.Input((3,))
    inner = Model(inner_in, layers.Dense(2, name='inner_dense')(inner_in), name='inner')
    x = layers.Input((3,))
    y = layers.Dense(1, name='head')(inner(x))
    model = Model(x, y)
    path = str(tmp_path / 'nested.h5')
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        loaded = load_model(path)
    v = np.random.rand(4, 3)
    np.testing.assert_array_equal(loaded.predict(v), model.predict(v))


def test_open_h5py_file_is_accepted(tmp_path):
    model = small_mlp()
    model.compile('rmsprop', 'mse')
    path = str(tmp_path / 'opened.h5')
    with h5py.File(path, 'w') as f:
        save_model(model, f)
    with h5py.File(path, 'r') as f:
        loaded = load_model(f)
        assert f.id.valid  # not closed by load_model
    assert_same_arrays(weights_of(loaded), weights_of(model))


def test_never_compiled_model_loads_uncompiled_with_a_warning(tmp_path):
    model = small_mlp()
    path = str(tmp_path / 'raw.h5')
    model.save(path)
    with pytest.warns(UserWarning, match='not\\* compiled'):
        loaded = load_model(path)
    assert loaded.optimizer is None
    with pytest.raises(RuntimeError, match='compile'):
        loaded.fit(*data(), verbose=0)
    assert_same_arrays(weights_of(loaded), weights_of(model))


def test_compile_false_and_include_optimizer_false(tmp_path):
    model = small_mlp()
    model.compile('adam', 'mse')
    model.train_on_batch(*data())
    path = str(tmp_path / 'c.h5')
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # compile=False: no warning at all
        loaded = load_model(path, compile=False)
    assert loaded.optimizer is None
    assert_same_arrays(weights_of(loaded), weights_of(model))

    path = str(tmp_path / 'no_optimizer.h5')
    model.save(path, include_optimizer=False)
    with h5py.File(path, 'r') as f:
        assert 'training_config' not in f.attrs and 'optimizer_weights' not in f
    with pytest.warns(UserWarning):
        assert load_model(path).optimizer is None


# --- resuming exactly, across processes ----------------------------------------------------------

RESUME_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    from refkeras.models import load_model
    model_path, data_path, out_path, first, total, seed, shuffle = sys.argv[1:]
    data = np.load(data_path)
    model = load_model(model_path)
    if int(seed) >= 0:
        np.random.seed(int(seed))
    model.fit(data['x'], data['y'], batch_size=5, epochs=int(total), initial_epoch=int(first),
              shuffle=shuffle == 'True', verbose=0)
    np.savez(out_path, *model.get_weights(), *model.optimizer.get_weights())
''')


def resume_model(optimizer):
    seed_generators(3)
    model = Sequential([layers.Dense(8, activation='tanh', input_shape=(4,)),
                        layers.Dropout(0.3),
                        layers.Dense(3, activation='softmax')])
    model.compile(optimizer=optimizer, loss='categorical_crossentropy', metrics=['acc'])
    return model


@pytest.mark.parametrize('optimizer,shuffle', [
    (lambda: optimizer('Adam', lr=0.01, decay=0.01), False),
    (lambda: optimizer('SGD', lr=0.05, momentum=0.9, nesterov=True), True),
], ids=['adam-with-decay-no-shuffle', 'nesterov-sgd-seeded-shuffle'])
@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_training_resumes_exactly_in_a_fresh_process(tmp_path, optimizer, shuffle):
    """N epochs, save, load in a new process, M more == N + M without interruption."""
    x, y = data(n=23, seed=5)
    first, total = 3, 5
    data_path = str(tmp_path / 'data.npz')
    np.savez(data_path, x=x, y=y)

    # Without interruption. The seed before the last M epochs fixes the shuffling and
    # the Dropout masks of those epochs, in both runs.
    uninterrupted = resume_model(optimizer())
    seed_generators(10)
    uninterrupted.fit(x, y, batch_size=5, epochs=first, shuffle=shuffle, verbose=0)
    seed_generators(11)
    uninterrupted.fit(x, y, batch_size=5, epochs=total, initial_epoch=first, shuffle=shuffle,
                      verbose=0)
    expected = weights_of(uninterrupted) + optimizer_weights(uninterrupted.optimizer)

    interrupted = resume_model(optimizer())
    seed_generators(10)
    interrupted.fit(x, y, batch_size=5, epochs=first, shuffle=shuffle, verbose=0)
    model_path = str(tmp_path / 'checkpoint.h5')
    interrupted.save(model_path)
    out_path = str(tmp_path / 'resumed.npz')
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    subprocess.run([sys.executable, '-c', RESUME_SCRIPT, model_path, data_path, out_path,
                    str(first), str(total), '11', str(shuffle)], check=True, env=env,
                   timeout=300)
    resumed = np.load(out_path)
    got = [resumed['arr_%d' % i] for i in range(len(resumed.files))]
    assert_same_arrays(got, expected)  # bit for bit
    assert int(got[-len(interrupted.optimizer.weights)]) == total * 5  # 5 batches per epoch


# --- architecture only ----------------------------------------------------------------------------

def test_json_round_trip_and_hand_editing():
    model = small_mlp()
    json_string = model.to_json()
    description = json.loads(json_string)
    assert description['class_name'] == 'Sequential'
    assert description['keras_version'] == SAVED_KERAS_VERSION
    rebuilt = model_from_json(json_string)
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.optimizer is None
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    # Human-readable and hand-editable: change the width of the first layer.
    description['config']['layers'][0]['config']['units'] = 11
    edited = model_from_json(json.dumps(description, indent=2))
    assert edited.layers[0].units == 11
    assert edited.layers[2].get_weights()[0].shape == (11, 3)


def test_yaml_round_trip_is_plain_yaml():
    require('yaml')
    a, b = layers.Input((3,)), layers.Input((3,))
    shared = layers.Dense(2)
    model = Model([a, b], layers.concatenate([shared(a), shared(b)]))
    yaml_string = model.to_yaml()
    assert '!!python' not in yaml_string
    assert yaml.safe_load(yaml_string)['class_name'] == 'Model'
    rebuilt = model_from_yaml(yaml_string)
    assert rebuilt.get_config() == model.get_config()


KERAS_224_YAML = '''
backend: tensorflow
class_name: Sequential
config:
  layers:
  - class_name: Dense
    config:
      activation: linear
      batch_input_shape: !!python/tuple [null, 3]
      dtype: float32
      name: dense_1
      trainable: true
      units: 2
      use_bias: true
  - class_name: Dropout
    config:
      name: dropout_1
      rate: !!python/object/apply:numpy.core.multiarray.scalar
      - !!python/object/apply:numpy.dtype
        args: [f4, 0, 1]
        state: !!python/tuple [3, <, null, null, null, -1, -1, 0]
      - !!binary |
        AAAAPw==
  name: sequential_1
keras_version: 2.2.4
'''


def test_yaml_written_by_keras_2_2_4_loads():
    require('yaml')
    model = model_from_yaml(KERAS_224_YAML)
    assert model.layers[0].batch_input_shape == (None, 3)
    assert model.layers[1].rate == 0.5  # the float32 bytes 00 00 00 3f


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_yaml_with_python_object_tag_is_refused(tmp_path):
    target = tmp_path / 'pwned'
    document = KERAS_224_YAML.replace(
        'name: sequential_1',
        'name: !!python/object/apply:os.system ["touch %s"]' % target)
    with pytest.raises(saving.UnsafeYAMLError, match='python/object/apply:os.system'):
        model_from_yaml(document)
    assert not target.exists()
    with pytest.raises(saving.UnsafeYAMLError):
        model_from_yaml('!!python/name:os.system')


# --- weights only ---------------------------------------------------------------------------------

def test_save_and_load_weights(tmp_path):
    model = small_mlp()
    path = str(tmp_path / 'my_model_weights.h5')
    model.save_weights(path)
    other = small_mlp()
    assert not all(np.array_equal(a, b) for a, b in zip(weights_of(other), weights_of(model)))
    other.load_weights(path)
    assert_same_arrays(weights_of(other), weights_of(model))


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_topological_loading_ignores_layers_without_weights_and_checks_the_rest(tmp_path):
    model = small_mlp()
    path = str(tmp_path / 'w.h5')
    model.save_weights(path)
    # Same weighted layers, no Dropout: fine (layers without weights do not count).
    no_dropout = Sequential([layers.Dense(6, activation='relu', input_shape=(4,)),
                             layers.Dense(3, activation='softmax')])
    no_dropout.load_weights(path)
    assert_same_arrays(weights_of(no_dropout), weights_of(model))
    # A different number of layers with weights: a clear error, nothing changed.
    deeper = Sequential([layers.Dense(6, input_shape=(4,)), layers.Dense(3), layers.Dense(3)])
    before = weights_of(deeper)
    with pytest.raises(saving.WeightsMismatchError, match='containing 2 layers .* 3 layers'):
        deeper.load_weights(path)
    assert_same_arrays(weights_of(deeper), before)
    # A different shape in the last layer: named, nothing changed (not even layer 1).
    wider = Sequential([layers.Dense(6, input_shape=(4,)), layers.Dense(5)])
    before = weights_of(wider)
    with pytest.raises(saving.WeightsMismatchError, match=r'\(6, 5\).*\(6, 3\)'):
        wider.load_weights(path)
    assert_same_arrays(weights_of(wider), before)


def test_faq_by_name_example(tmp_path):
    fname = str(tmp_path / 'fname.h5')
    original = Sequential()
    original.add(layers.Dense(2, input_dim=3, name='dense_1'))
    original.add(layers.Dense(3, name='dense_2'))
    original.save_weights(fname)

    model = Sequential()
    model.add(layers.Dense(2, input_dim=3, name='dense_1'))  # will be loaded
    model.add(layers.Dense(10, name='new_dense'))  # will not be loaded
    new_dense_before = model.layers[1].get_weights()
    model.load_weights(fname, by_name=True)
    assert_same_arrays(model.layers[0].get_weights(), original.layers[0].get_weights())
    assert_same_arrays(model.layers[1].get_weights(), new_dense_before)


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_by_name_mismatch_raises_or_skips(tmp_path):
    fname = str(tmp_path / 'fname.h5')
    original = Sequential([layers.Dense(2, input_dim=3, name='dense_1'),
                           layers.Dense(3, name='dense_2')])
    original.save_weights(fname)
    model = Sequential([layers.Dense(2, input_dim=3, name='dense_1'),
                        layers.Dense(4, name='dense_2')])  # same name, other shape
    before = weights_of(model)
    with pytest.raises(saving.WeightsMismatchError, match='dense_2'):
        model.load_weights(fname, by_name=True)
    assert_same_arrays(weights_of(model), before)
    with pytest.warns(UserWarning, match='Skipping loading of weights for layer dense_2'):
        model.load_weights(fname, by_name=True, skip_mismatch=True)
    assert_same_arrays(model.layers[0].get_weights(), original.layers[0].get_weights())
    assert_same_arrays(model.layers[1].get_weights(), before[2:])
    with pytest.raises(ValueError, match='by_name'):
        model.load_weights(fname, skip_mismatch=True)


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_reshape_loads_weights_with_the_same_number_of_values(tmp_path):
    path = str(tmp_path / 'w.h5')
    source = Sequential([layers.Dense(4, input_dim=6, name='d')])
    source.save_weights(path)
    target = Sequential([layers.Reshape((6,), input_shape=(2, 3)),
                         layers.Dense(4, name='d')])
    target.load_weights(path)
    assert_same_arrays(target.get_weights(), source.get_weights())
    conv = Sequential([layers.Conv1D(4, 2, input_shape=(5, 3), name='d')])
    with pytest.raises(saving.WeightsMismatchError):
        conv.load_weights(path)
    conv.load_weights(path, reshape=True)
    np.testing.assert_array_equal(conv.get_weights()[0].ravel(), source.get_weights()[0].ravel())


# --- custom objects -------------------------------------------------------------------------------

class AttentionLayer(Layer):
    """A custom layer: multiplies its input by a learned vector."""

    def __init__(self, init_value=1.0, **kwargs):
        super(AttentionLayer, self).__init__(**kwargs)
        self.init_value = init_value

    def build(self, input_shape):
        self.scale = self.add_weight(name='scale', shape=(input_shape[-1],),
                                     initializer=lambda shape, dtype=None:
                                     np.full(shape, self.init_value, dtype=numpy_dtype(dtype)))
        super(AttentionLayer, self).build(input_shape)

    def call(self, inputs):
        return inputs * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super(AttentionLayer, self).get_config()
        config['init_value'] = self.init_value
        return config


def swish_like(x):
    return x * K.sigmoid(x)


class Halves(initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return np.full(shape, 0.5, dtype=numpy_dtype(dtype))


class ScaledL2(regularizers.Regularizer):
    def __init__(self, factor=0.1):
        self.factor = factor

    def __call__(self, x):
        return self.factor * K.sum(K.square(x))

    def get_config(self):
        return {'factor': self.factor}


class ClipTo(constraints.Constraint):
    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return K.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {'limit': self.limit}


def doubled_mse(y_true, y_pred):
    return 2.0 * K.mean(K.square(y_pred - y_true), axis=-1)


def mean_prediction(y_true, y_pred):
    return K.mean(y_pred)


CUSTOM = {'AttentionLayer': AttentionLayer, 'swish_like': swish_like, 'Halves': Halves,
          'ScaledL2': ScaledL2, 'ClipTo': ClipTo, 'doubled_mse': doubled_mse,
          'mean_prediction': mean_prediction}


def custom_model():
    model = Sequential([layers.Dense(3, input_shape=(2,), activation=swish_like,
                                     kernel_initializer=Halves(),
                                     kernel_regularizer=ScaledL2(0.05),
                                     kernel_constraint=ClipTo(0.9)),
                        AttentionLayer(init_value=2.0, name='attention')])
    model.compile(optimizer='sgd', loss=doubled_mse, metrics=[mean_prediction])
    return model


def check_custom(model, original):
    x = np.random.RandomState(0).rand(4, 2).astype('float32')
    np.testing.assert_array_equal(model.predict(x), original.predict(x))
    dense = model.layers[0]
    assert dense.activation is swish_like
    assert isinstance(dense.kernel_regularizer, ScaledL2)
    assert dense.kernel_regularizer.factor == 0.05
    assert isinstance(dense.kernel_constraint, ClipTo) and dense.kernel_constraint.limit == 0.9
    assert isinstance(model.layers[1], AttentionLayer) and model.layers[1].init_value == 2.0
    assert isinstance(dense.kernel_initializer, Halves)


def test_custom_objects_with_load_model(tmp_path):
    original = custom_model()
    original.train_on_batch(np.ones((2, 2)), np.zeros((2, 3)))
    path = str(tmp_path / 'my_model.h5')
    original.save(path)
    loaded = load_model(path, custom_objects=CUSTOM)
    check_custom(loaded, original)
    assert loaded.loss_functions[0] is doubled_mse
    assert loaded.metrics_names == ['loss', 'mean_prediction']
    with CustomObjectScope(CUSTOM):
        scoped = load_model(path)
    check_custom(scoped, original)
    assert scoped.loss_functions[0] is doubled_mse


def test_custom_objects_with_json_and_yaml():
    require('yaml')
    original = custom_model()
    for text, loader in ((original.to_json(), model_from_json),
                         (original.to_yaml(), model_from_yaml)):
        rebuilt = loader(text, custom_objects=CUSTOM)
        rebuilt.set_weights(original.get_weights())
        check_custom(rebuilt, original)
        with CustomObjectScope(CUSTOM):
            rebuilt = loader(text)
        rebuilt.set_weights(original.get_weights())
        check_custom(rebuilt, original)


@pytest.mark.parametrize('missing', sorted(CUSTOM))
def test_missing_custom_object_is_named_with_how_to_pass_it(tmp_path, missing):
    require('yaml')
    original = custom_model()
    path = str(tmp_path / 'm.h5')
    original.save(path)
    partial = {k: v for k, v in CUSTOM.items() if k != missing}
    expected = r"%s.*custom_objects=\{'%s'" % (missing, missing)
    with pytest.raises(ValueError, match=expected):
        load_model(path, custom_objects=partial)
    if missing not in ('doubled_mse', 'mean_prediction'):  # not part of the architecture
        with pytest.raises(ValueError, match=expected):
            model_from_json(original.to_json(), custom_objects=partial)
        with pytest.raises(ValueError, match=expected):
            model_from_yaml(original.to_yaml(), custom_objects=partial)


# --- Lambda layers --------------------------------------------------------------------------------

def lambda_model():
    model = Sequential([layers.Dense(2, input_shape=(3,)),
                        layers.Lambda(lambda x: x * 3.0 + 1.0)])
    model.compile('sgd', 'mse')
    return model


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_lambda_bytecode_is_refused_by_default(tmp_path):
    model = lambda_model()
    path = str(tmp_path / 'lambda.h5')
    model.save(path)
    with h5py.File(path, 'r') as f:  # stored as Keras 2.2.4 stores it
        entry = json.loads(text(f.attrs['model_config']))['config']['layers'][1]
        assert entry['config']['function_type'] == 'lambda'
    with pytest.raises(saving.ModelConfigError, match='safe_mode=False'):
        load_model(path)
    with pytest.raises(ValueError, match='safe_mode=False'):
        model_from_json(model.to_json())
    with pytest.raises(ValueError, match='safe_mode=False'):
        model_from_yaml(model.to_yaml())
    x = np.random.rand(4, 3)
    expected = model.predict(x)
    np.testing.assert_array_equal(load_model(path, safe_mode=False).predict(x), expected)
    with allow_code_loading():
        np.testing.assert_array_equal(load_model(path).predict(x), expected)
    rebuilt = model_from_json(model.to_json(), safe_mode=False)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x), expected)
    with pytest.raises(ValueError, match='safe_mode=False'):  # the opt-in does not stick
        load_model(path)


def plus_one(x):
    return x + 1.0


def test_lambda_with_a_named_function_loads_through_custom_objects(tmp_path):
    model = Sequential([layers.Dense(2, input_shape=(3,)), layers.Lambda(plus_one)])
    model.compile('sgd', 'mse')
    path = str(tmp_path / 'named.h5')
    model.save(path)
    loaded = load_model(path, custom_objects={'plus_one': plus_one})
    x = np.random.rand(2, 3)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# --- overwrite=False and atomic writes ------------------------------------------------------------

class FakeStdin(object):
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
def test_overwrite_false_refuses_without_a_terminal(tmp_path, monkeypatch):
    model = small_mlp()
    path = str(tmp_path / 'keep.h5')
    model.save(path)
    content = open(path, 'rb').read()
    monkeypatch.setattr(sys, 'stdin', FakeStdin(False))
    other = small_mlp()
    with pytest.raises(saving.OverwriteRefusedError, match='overwrite=True'):
        other.save(path, overwrite=False)
    with pytest.raises(FileExistsError):
        other.save_weights(path, overwrite=False)
    assert open(path, 'rb').read() == content
    other.save(str(tmp_path / 'new.h5'), overwrite=False)  # no file yet: no question


def test_overwrite_false_asks_on_a_terminal(tmp_path, monkeypatch):
    model = small_mlp()
    path = str(tmp_path / 'ask.h5')
    model.save_weights(path)
    content = open(path, 'rb').read()
    monkeypatch.setattr(sys, 'stdin', FakeStdin(True))
    answers = iter(['maybe', 'n'])
    monkeypatch.setattr('builtins.input', lambda prompt='': next(answers))
    other = small_mlp()
    other.save_weights(path, overwrite=False)
    assert open(path, 'rb').read() == content
    monkeypatch.setattr('builtins.input', lambda prompt='': 'y')
    other.save_weights(path, overwrite=False)
    model.load_weights(path)
    assert_same_arrays(weights_of(model), weights_of(other))


@refkeras_only('checks refkeras.engine.saving internals or runs a refkeras script')
@pytest.mark.parametrize('what', ['save', 'save_weights'])
def test_crash_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch, what):
    model = small_mlp()
    model.compile('adam', 'mse')
    path = str(tmp_path / 'model.h5')
    getattr(model, what)(path)
    content = open(path, 'rb').read()
    written = []

    def crashing_writer(group, layers_to_save):
        group.create_group('half_written').attrs['x'] = 1
        group.file.flush()
        written.append(group.file.filename)
        raise KeyboardInterrupt('crash mid-write')

    monkeypatch.setattr(saving.weights, 'save_weights_to_hdf5_group', crashing_writer)
    other = small_mlp()
    with pytest.raises(KeyboardInterrupt):
        getattr(other, what)(path)
    assert written and written[0] != path  # it was writing to another file
    assert open(path, 'rb').read() == content
    assert sorted(os.listdir(str(tmp_path))) == ['model.h5']


def test_new_file_gets_ordinary_permissions(tmp_path):
    path = str(tmp_path / 'perm.h5')
    small_mlp().save(path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


# --- ModelCheckpoint ------------------------------------------------------------------------------

class WeightsRecorder(callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.per_epoch.append(weights_of(self.model))


@pytest.mark.parametrize('weights_only', [False, True])
def test_model_checkpoint_save_best_only(tmp_path, weights_only):
    seed_generators(2)
    model = small_mlp()
    model.compile(optimizer=optimizer('SGD', lr=0.5), loss='categorical_crossentropy')
    x, y = data(n=30, seed=1)
    vx, vy = data(n=10, seed=2)
    pattern = str(tmp_path / 'weights.{epoch:02d}.h5')
    best_path = str(tmp_path / 'best.h5')
    recorder = WeightsRecorder()
    history = model.fit(x, y, epochs=6, batch_size=10, verbose=0, validation_data=(vx, vy),
                        callbacks=[recorder,
                                   callbacks.ModelCheckpoint(pattern, save_best_only=True,
                                                             save_weights_only=weights_only),
                                   callbacks.ModelCheckpoint(best_path, save_best_only=True,
                                                             save_weights_only=weights_only)])
    val_losses = history.history['val_loss']
    improving, best = [], np.inf
    for epoch, value in enumerate(val_losses):
        if value < best:
            best = value
            improving.append(epoch)
    expected_files = sorted(['weights.%02d.h5' % (e + 1) for e in improving] + ['best.h5'])
    assert sorted(os.listdir(str(tmp_path))) == expected_files
    best_epoch = improving[-1]
    for path in (best_path, pattern.format(epoch=best_epoch + 1)):
        target = small_mlp()
        if weights_only:
            target.load_weights(path)
        else:
            target = load_model(path)
            assert target.optimizer.__class__.__name__ == 'SGD'
        assert_same_arrays(weights_of(target), recorder.per_epoch[best_epoch])


# --- weight conversions of Keras 2.2.4 files ----------------------------------------------------------

def test_conv_kernels_saved_with_theano_are_flipped(tmp_path):
    require('theano_kernels')
    model = Sequential([layers.Conv2D(2, (3, 2), input_shape=(5, 5, 1), name='conv')])
    path = str(tmp_path / 'theano.h5')
    model.save_weights(path)
    with h5py.File(path, 'a') as f:
        f.attrs['backend'] = np.bytes_(b'theano')
    kernel = model.get_weights()[0]
    target = Sequential([layers.Conv2D(2, (3, 2), input_shape=(5, 5, 1), name='conv')])
    target.load_weights(path)
    np.testing.assert_array_equal(target.get_weights()[0], kernel[::-1, ::-1, :, :])
    np.testing.assert_array_equal(target.get_weights()[1], model.get_weights()[1])


def test_cudnn_lstm_weights_convert_to_lstm_and_back():
    from refkeras.engine.saving import convert_rnn_weights

    class CuDNNLSTM(object):  # only the class name matters for the conversion
        pass
    lstm = layers.LSTM(3)
    lstm.build((None, 4, 2))
    kernel, recurrent, bias = [np.random.rand(*w.shape).astype('float32')
                               for w in lstm.get_weights()]
    cudnn = convert_rnn_weights(CuDNNLSTM(), [kernel, recurrent, bias])
    assert cudnn[2].shape == (2 * 4 * 3,)  # input and recurrent biases
    np.testing.assert_allclose(cudnn[2], np.concatenate([bias / 2, bias / 2]))
    # Each gate's recurrent kernel is transposed.
    np.testing.assert_array_equal(cudnn[1][:, 3:6], recurrent[:, 3:6].T)
    back = convert_rnn_weights(lstm, cudnn)
    for got, want in zip(back, [kernel, recurrent, bias]):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_custom_initializer_function_reloads_by_name():
    # A custom initializer written as a plain function is stored by its name and
    # must come back as that same function (Keras 2.2.4 called it with no args).
    import numpy as np
    from refkeras.layers import Dense
    from refkeras.models import Sequential, model_from_json

    def half(shape, dtype=None):
        return np.full(shape, 0.5, dtype=numpy_dtype(dtype))

    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer=half)])
    clone = model_from_json(model.to_json(), custom_objects={'half': half})
    assert clone.layers[0].kernel_initializer is half
    np.testing.assert_array_equal(clone.layers[0].get_weights()[0], np.full((3, 2), 0.5))
