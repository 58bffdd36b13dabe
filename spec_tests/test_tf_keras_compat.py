"""Files shared with real Keras 2 (tf.keras 2.15), both ways.

Issue: "Compatibility with real Keras 2".

The fixtures in spec_tests/fixtures/ were written by
`make_tf_keras_fixtures.py write` (tf.keras 2.15) and
`make_refkeras_fixtures.py` (refkeras); `make_tf_keras_fixtures.py check` is
the direction that needs TensorFlow at test time (refkeras files loaded by
tf.keras), run by hand. Here, without TensorFlow:

- every tf.keras file loads into refkeras and predicts what tf.keras
  predicted (|delta| <= 1e-5), compiled as it was;
- the optimizer state is restored: each refkeras slot equals the tf.keras
  slot of the same variable (the pairing is written out here by hand);
- for the models without Dropout, one more `train_on_batch` in refkeras gives
  tf.keras's loss and weights after the same step: training resumes;
- weights-only files load into refkeras models built in code, by position
  and by name;
- the committed refkeras files (which tf.keras 2.15 loaded with the same
  predictions) still load, and refkeras still writes the same layout.
"""
import os
import re

import h5py
import numpy as np
import pytest

from refkeras import layers
from refkeras.models import Model, Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
TOLERANCE = 1e-5
TF_NAMES = ['sequential', 'functional', 'conv', 'rnn', 'legacy_adam']


def fixture(name):
    return os.path.join(FIXTURES, name)


def inputs_of(data):
    xs = [data['x_%d' % i] for i in range(sum(k.startswith('x_') for k in data.files))]
    return xs[0] if len(xs) == 1 else xs


def predictions_of(data):
    return [data['pred_%d' % j] for j in range(sum(k.startswith('pred_') for k in data.files))]


def as_list(value):
    return value if isinstance(value, list) else [value]


def max_delta(got, expected):
    return max(float(np.max(np.abs(np.asarray(g) - e))) for g, e in zip(as_list(got), expected))


@pytest.mark.parametrize('name', TF_NAMES)
def test_tf_keras_model_file_predicts_the_same(name):
    data = np.load(fixture('tf_%s.npz' % name))
    model = load_model(fixture('tf_%s.h5' % name))
    expected = predictions_of(data)
    got = as_list(model.predict(inputs_of(data)))
    assert len(got) == len(expected)
    assert max_delta(got, expected) <= TOLERANCE


def test_tf_keras_training_configuration_is_restored():
    sequential = load_model(fixture('tf_sequential.h5'))
    assert sequential.optimizer.__class__.__name__ == 'SGD'
    assert sequential.optimizer.nesterov is True
    np.testing.assert_allclose(float(np.asarray(sequential.optimizer.lr.value)), 0.05, rtol=1e-6)
    np.testing.assert_allclose(float(np.asarray(sequential.optimizer.momentum.value)), 0.9,
                               rtol=1e-6)
    assert sequential.metrics_names == ['loss', 'acc']
    functional = load_model(fixture('tf_functional.h5'))
    assert functional.metrics_names == ['loss', 'out_1_loss', 'out_2_loss', 'out_2_acc']
    assert functional.optimizer.__class__.__name__ == 'Adam'
    assert functional.optimizer.epsilon == 1e-7
    conv = load_model(fixture('tf_conv.h5'))
    assert conv.optimizer.amsgrad is True


def tf_variable(name, model_name):
    """The name tf.keras gives the variable refkeras names `name`: tf.keras's
    recurrent layers add their cell's scope (`gru/gru_cell/kernel`)."""
    parts = name[:-2].split('/')
    owner = parts[-2]
    for kind in ('gru', 'lstm'):
        if owner == kind or owner.endswith('_' + kind):
            parts.insert(len(parts) - 1, kind + '_cell')
    return '/'.join(parts)


@pytest.mark.parametrize('name,slots', [
    ('sequential', {'moments': 'SGD/m'}),
    ('rnn', {'moments': 'SGD/m'}),
    ('functional', {'ms': 'Adam/m', 'vs': 'Adam/v'}),
    ('conv', {'ms': 'Adam/m', 'vs': 'Adam/v', 'vhats': 'Adam/vhat'}),
])
def test_tf_keras_optimizer_slots_are_restored(name, slots):
    data = np.load(fixture('tf_%s.npz' % name))
    model = load_model(fixture('tf_%s.h5' % name))
    optimizer = model.optimizer
    assert int(np.asarray(optimizer.iterations.value)) == int(data['opt/iteration:0'])
    params = model.trainable_weights
    for attribute, prefix in slots.items():
        values = getattr(optimizer, attribute)
        assert len(values) == len(params)
        for param, slot in zip(params, values):
            expected = data['opt/%s/%s:0' % (prefix, tf_variable(param.name, name))]
            np.testing.assert_array_equal(np.asarray(slot.value), expected)
    if name == 'functional':  # no AMSGrad: Keras 2.2.4's unused (1,) slots stay zero
        assert all(np.asarray(v.value).shape == (1,) and not np.asarray(v.value).any()
                   for v in optimizer.vhats)


def test_tf_keras_legacy_optimizer_slots_are_restored():
    data = np.load(fixture('tf_legacy_adam.npz'))
    model = load_model(fixture('tf_legacy_adam.h5'))
    optimizer = model.optimizer
    assert int(np.asarray(optimizer.iterations.value)) == int(data['opt/Adam/iter:0'])
    for param, m, v in zip(model.trainable_weights, optimizer.ms, optimizer.vs):
        key = param.name[:-2]
        np.testing.assert_array_equal(np.asarray(m.value), data['opt/Adam/%s/m:0' % key])
        np.testing.assert_array_equal(np.asarray(v.value), data['opt/Adam/%s/v:0' % key])


@pytest.mark.parametrize('name', ['conv', 'rnn', 'legacy_adam'])
def test_training_resumes_as_in_tf_keras(name):
    data = np.load(fixture('tf_%s.npz' % name))
    model = load_model(fixture('tf_%s.h5' % name))
    step_x = [data[k] for k in sorted(k for k in data.files if k.startswith('step_x_'))]
    step_y = [data[k] for k in sorted(k for k in data.files if k.startswith('step_y_'))]
    loss = model.train_on_batch(step_x[0] if len(step_x) == 1 else step_x,
                                step_y[0] if len(step_y) == 1 else step_y)
    np.testing.assert_allclose(np.asarray(loss).ravel()[0], data['step_loss'], atol=TOLERANCE)
    for weight in model.weights:
        expected = data['step/' + tf_variable(weight.name, name) + ':0']
        assert np.max(np.abs(np.asarray(weight.value) - expected)) <= TOLERANCE, weight.name


def sequential_in_code(names=('dense', 'dropout', 'dense_1')):
    return Sequential([layers.Dense(5, activation='relu', input_shape=(4,), name=names[0]),
                       layers.Dropout(0.3, name=names[1]),
                       layers.Dense(3, activation='softmax', name=names[2])])


def functional_in_code():
    a = layers.Input(shape=(3,), name='in_a')
    b = layers.Input(shape=(3,), name='in_b')
    shared = layers.Dense(4, activation='tanh', name='shared')
    sa, sb = shared(a), shared(b)
    out_1 = layers.Dense(2, name='out_1')(layers.Dropout(0.25)(layers.add([sa, sb])))
    out_2 = layers.Dense(1, activation='sigmoid', name='out_2')(layers.concatenate([sb, a]))
    return Model([a, b], [out_1, out_2])


@pytest.mark.parametrize('by_name', [False, True])
def test_tf_keras_weights_files_load_into_models_built_in_code(by_name):
    data = np.load(fixture('tf_sequential.npz'))
    model = sequential_in_code(names=('dense', 'dropout', 'dense_1') if by_name
                               else ('a', 'b', 'c'))
    model.load_weights(fixture('tf_sequential_weights.h5'), by_name=by_name)
    assert max_delta(model.predict(inputs_of(data)), predictions_of(data)) <= TOLERANCE
    data = np.load(fixture('tf_functional.npz'))
    model = functional_in_code()
    model.load_weights(fixture('tf_functional_weights.h5'), by_name=by_name)
    assert max_delta(model.predict(inputs_of(data)), predictions_of(data)) <= TOLERANCE


def test_tf_keras_weights_of_a_whole_model_file_load_with_load_weights():
    data = np.load(fixture('tf_conv.npz'))
    model = Sequential([layers.Conv2D(3, (3, 3), activation='relu', input_shape=(6, 6, 2)),
                        layers.BatchNormalization(),
                        layers.MaxPooling2D((2, 2)),
                        layers.Flatten(),
                        layers.Dense(2)])
    model.load_weights(fixture('tf_conv.h5'))
    assert max_delta(model.predict(inputs_of(data)), predictions_of(data)) <= TOLERANCE


REFKERAS_NAMES = ['sequential', 'functional', 'conv', 'rnn']


@pytest.mark.parametrize('name', REFKERAS_NAMES)
def test_committed_refkeras_files_still_load(name):
    data = np.load(fixture('refkeras_%s.npz' % name))
    model = load_model(fixture('refkeras_%s.h5' % name))
    assert max_delta(model.predict(inputs_of(data)), predictions_of(data)) <= TOLERANCE
    saved_state = [data['opt/%d' % i] for i in range(sum(k.startswith('opt/')
                                                         for k in data.files))]
    assert len(saved_state) == len(model.optimizer.weights)
    for value, variable in zip(saved_state, model.optimizer.weights):
        np.testing.assert_array_equal(np.asarray(variable.value), value)


def layout(path):
    """Groups, datasets (shape, dtype) and attribute names (with their HDF5 type class).

    Optimizer scopes are numbered per process (`Adam_1` for the second Adam):
    the number is left out.
    """
    entries = []
    with h5py.File(path, 'r') as handle:
        def describe(name, obj):
            kind = 'dataset %s %s' % (obj.shape, obj.dtype) if isinstance(obj, h5py.Dataset) \
                else 'group'
            entries.append((name, kind))
        entries.append(('/', 'group'))
        handle.visititems(describe)
        attributes = []
        for name, _ in entries:
            for key in handle[name].attrs:
                value = handle[name].attrs[key]
                attributes.append((name, key, type(value).__name__,
                                   getattr(value, 'dtype', None) and value.dtype.kind))
    def plain(name):
        return re.sub(r'(Adam|SGD)_\d+', r'\1', name)
    return (sorted((plain(n), kind) for n, kind in entries),
            sorted((plain(n),) + tuple(rest) for n, *rest in attributes))


def test_refkeras_still_writes_the_layout_tf_keras_read(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('make_refkeras_fixtures',
                                                  fixture('make_refkeras_fixtures.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = str(tmp_path)
    module.write(['functional'])
    for suffix in ('.h5', '_weights.h5'):
        assert layout(str(tmp_path / ('refkeras_functional' + suffix))) == \
            layout(fixture('refkeras_functional' + suffix))
    with h5py.File(str(tmp_path / 'refkeras_functional.h5'), 'r') as handle:
        # Keras 2.2.4 calls .decode() on these: they must be byte strings.
        for key in ('keras_version', 'backend', 'model_config', 'training_config'):
            assert isinstance(handle.attrs[key], bytes)
        assert handle['model_weights'].attrs['layer_names'].dtype.kind == 'S'
        assert handle.attrs['keras_version'] == b'2.2.4'


def test_tf_keras_style_config_is_translated():
    """The names tf.keras 2.x writes in configs, mapped to Keras 2.2.4's."""
    import json
    from refkeras.models import model_from_json

    def tf_object(class_name, config):
        return {'module': 'keras.initializers', 'class_name': class_name, 'config': config,
                'registered_name': None}
    description = {
        'class_name': 'Functional', 'keras_version': '2.15.0', 'backend': 'tensorflow',
        'config': {
            'name': 'tf_model',
            'layers': [
                {'class_name': 'InputLayer', 'name': 'x', 'inbound_nodes': [],
                 'config': {'batch_input_shape': {'class_name': '__tuple__',
                                                  'items': [None, 5, 2]},
                            'dtype': 'float32', 'sparse': False, 'ragged': False, 'name': 'x'}},
                {'class_name': 'Conv1D', 'name': 'conv', 'module': 'keras.layers',
                 'registered_name': None, 'build_config': {'input_shape': [None, 5, 2]},
                 'inbound_nodes': [[['x', 0, 0, {}]]],
                 'config': {'name': 'conv', 'trainable': True,
                            'dtype': {'module': 'keras.mixed_precision', 'class_name': 'Policy',
                                      'config': {'name': 'float32'}, 'registered_name': None},
                            'filters': 3, 'kernel_size': [2], 'strides': [1],
                            'padding': 'valid', 'data_format': 'channels_last',
                            'dilation_rate': [1], 'groups': 1, 'activation': 'relu',
                            'use_bias': True,
                            'kernel_initializer': tf_object('HeNormal', {'seed': None}),
                            'bias_initializer': tf_object('Zeros', {}),
                            'kernel_regularizer': tf_object('L2', {'l2': 0.5}),
                            'bias_regularizer': None, 'activity_regularizer': None,
                            'kernel_constraint': None, 'bias_constraint': None}}],
            'input_layers': ['x', 0, 0],      # a single input, written flat
            'output_layers': ['conv', 0, 0]}}
    model = model_from_json(json.dumps(description))
    conv = model.get_layer('conv')
    assert model.layers[0].batch_input_shape == (None, 5, 2)
    initializer = conv.kernel_initializer.get_config()
    assert (initializer['scale'], initializer['mode']) == (2.0, 'fan_in')
    assert initializer['distribution'] in ('normal', 'truncated_normal')
    assert conv.kernel_regularizer.get_config() == {'l1': 0.0, 'l2': 0.5}
    assert model.predict(np.ones((1, 5, 2))).shape == (1, 4, 3)
    description['config']['layers'][1]['config']['groups'] = 3
    with pytest.raises(ValueError, match='groups=3'):
        model_from_json(json.dumps(description))
