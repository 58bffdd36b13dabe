"""Which state updates a layer or model lists (`updates`, `get_updates_for`) and
which ones a training step applies (issue 18, Keras 2.2.4's semantics).

The expectations are Keras 2.2.4's rules, worked out here by hand:

- a layer records updates per symbolic call, keyed by the call's inputs;
  `get_updates_for(inputs)` returns those recorded for exactly those inputs,
  `get_updates_for(None)` the unconditional ones;
- a layer (or model) that is neither trainable nor stateful lists none;
- `BatchNormalization` records its two moving-statistics updates for each
  call, except a call fixed in inference mode (`training=False`);
- a model lists the updates of its layers' calls inside its own graph only;
  a nested model's updates appear in the outer model;
- wrappers list their wrapped layers' updates;
- a training step applies exactly the updates the model listed when the step
  was made (at the first step after `compile`), so a frozen
  `BatchNormalization` keeps its moving statistics.

Moving statistics after a step are checked against NumPy: with momentum `m`,
`moving_mean = m * 0 + (1 - m) * batch_mean` from the initial zeros.
Tolerance 1e-6: float32 values of order 1 after a handful of operations.
"""
import numpy as np

from refkeras import backend as K
from refkeras import layers as L
from refkeras import optimizers
from refkeras.models import Model, Sequential

TOL32 = 1e-6


def test_get_updates_for_returns_the_updates_added_for_those_inputs():
    a, b = L.Input(shape=(2,)), L.Input(shape=(2,))
    layer = L.Dense(1)
    layer.add_update('for a', inputs=a)
    layer.add_update(['for a and b', 'again'], inputs=[a, b])
    layer.add_update('always', inputs=None)
    assert layer.get_updates_for(a) == ['for a']
    assert layer.get_updates_for([a, b]) == ['for a and b', 'again']
    assert layer.get_updates_for(b) == []
    assert layer.get_updates_for(None) == ['always']
    assert layer.updates == ['for a', 'for a and b', 'again', 'always']


def test_a_frozen_layer_lists_no_updates():
    a = L.Input(shape=(2,))
    layer = L.Dense(1)
    layer.add_update('for a', inputs=a)
    layer.trainable = False
    assert layer.updates == [] and layer.get_updates_for(a) == []
    layer.trainable = True
    assert layer.get_updates_for(a) == ['for a']


def test_batchnormalization_lists_two_updates_per_call_unless_called_with_training_false():
    layer = L.BatchNormalization()
    x1, x2, x3 = L.Input(shape=(3,)), L.Input(shape=(3,)), L.Input(shape=(3,))
    layer(x1)
    assert layer.updates == [layer.moving_mean, layer.moving_variance]
    layer(x2, training=True)
    assert len(layer.updates) == 4
    assert layer.get_updates_for(x2) == [layer.moving_mean, layer.moving_variance]
    layer(x3, training=False)
    assert len(layer.updates) == 4 and layer.get_updates_for(x3) == []


def test_a_model_lists_only_the_updates_of_its_own_calls_of_a_shared_layer():
    bn = L.BatchNormalization()
    outside = L.Input(shape=(3,))
    bn(outside)
    x = L.Input(shape=(3,))
    model = Model(x, bn(x))
    assert len(bn.updates) == 4
    assert len(model.updates) == 2


def test_a_nested_model_brings_its_updates_into_the_outer_model_unless_frozen():
    inner = Sequential([L.Dense(3, input_shape=(3,)), L.BatchNormalization()])
    x = L.Input(shape=(3,))
    outer = Model(x, L.Dense(2)(inner(x)))
    assert len(inner.updates) == 2
    assert len(outer.updates) == 2
    assert len(inner.get_updates_for(x)) == 2
    inner.trainable = False
    assert outer.updates == [] and inner.updates == []


def test_wrappers_list_their_wrapped_layers_updates():
    td = L.TimeDistributed(L.BatchNormalization())
    x = L.Input(shape=(4, 3))
    td(x)
    assert len(td.updates) == 2 and len(td.get_updates_for(x)) == 2
    td.trainable = False
    assert td.updates == []
    bi = L.Bidirectional(L.SimpleRNN(2))
    bi.forward_layer.add_update('f', inputs=None)
    bi.backward_layer.add_update('b', inputs=x)
    assert bi.updates == ['f', 'b']
    assert bi.get_updates_for(x) == ['b'] and bi.get_updates_for(None) == ['f']


def _bn_model(momentum=0.5, input_shape=(3,)):
    model = Sequential([L.BatchNormalization(momentum=momentum, input_shape=input_shape)])
    model.compile(optimizers.SGD(lr=0.0), 'mse')
    return model


def _batch():
    return np.random.RandomState(3).normal(loc=2.0, size=(8, 3)).astype('float32')


def test_a_training_step_moves_the_moving_mean_of_a_trainable_batchnormalization():
    model = _bn_model(momentum=0.5)
    x = _batch()
    model.train_on_batch(x, x)
    expected = 0.5 * x.astype('float64').mean(axis=0)
    np.testing.assert_allclose(K.get_value(model.layers[0].moving_mean), expected, rtol=TOL32)


def test_a_frozen_batchnormalization_keeps_its_moving_statistics_in_training():
    model = _bn_model()
    model.layers[0].trainable = False
    model.compile(optimizers.SGD(lr=0.0), 'mse')
    assert model.updates == []
    x = _batch()
    model.train_on_batch(x, x)
    bn = model.layers[0]
    assert np.array_equal(K.get_value(bn.moving_mean), np.zeros(3))
    assert np.array_equal(K.get_value(bn.moving_variance), np.ones(3))


def test_a_frozen_model_keeps_the_moving_statistics_of_its_layers_in_training():
    inner = _bn_model()
    x_in = L.Input(shape=(3,))
    outer = Model(x_in, inner(x_in))
    inner.trainable = False
    outer.compile(optimizers.SGD(lr=0.0), 'mse')
    x = _batch()
    outer.train_on_batch(x, x)
    assert np.array_equal(K.get_value(inner.layers[0].moving_mean), np.zeros(3))


def test_the_updates_a_step_applies_are_fixed_until_the_model_is_compiled_again():
    # As the trainable weights (FAQ: "How can I 'freeze' Keras layers?"):
    # freezing takes effect at the next compile.
    model = _bn_model(momentum=0.5)
    x = _batch()
    model.train_on_batch(x, x)
    bn = model.layers[0]
    bn.trainable = False
    model.train_on_batch(x, x)
    expected = 0.75 * x.astype('float64').mean(axis=0)       # two steps of momentum 0.5
    np.testing.assert_allclose(K.get_value(bn.moving_mean), expected, rtol=TOL32)
    model.compile(optimizers.SGD(lr=0.0), 'mse')
    model.train_on_batch(x, x)
    np.testing.assert_allclose(K.get_value(bn.moving_mean), expected, rtol=TOL32)


def test_a_batchnormalization_inside_timedistributed_moves_its_statistics_in_training():
    inner = L.BatchNormalization(momentum=0.5)
    model = Sequential([L.TimeDistributed(inner, input_shape=(4, 3))])
    model.compile(optimizers.SGD(lr=0.0), 'mse')
    x = np.random.RandomState(4).normal(size=(2, 4, 3)).astype('float32')
    model.train_on_batch(x, x)
    expected = 0.5 * x.astype('float64').reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(K.get_value(inner.moving_mean), expected, rtol=TOL32, atol=TOL32)


def test_a_frozen_batchnormalization_keeps_its_statistics_in_a_training_phase_function():
    x_in = L.Input(shape=(3,))
    bn = L.BatchNormalization(momentum=0.5)
    y = bn(x_in)
    step = K.function([x_in, K.learning_phase()], [y])
    x = _batch()
    bn.trainable = False
    step([x, 1])
    assert np.array_equal(K.get_value(bn.moving_mean), np.zeros(3))
    bn.trainable = True
    step([x, 1])
    np.testing.assert_allclose(K.get_value(bn.moving_mean), 0.5 * x.astype('float64').mean(0),
                               rtol=TOL32)


class WithNormalization(L.Dense):
    """A custom layer that runs a BatchNormalization inside its own `call`."""

    def build(self, input_shape):
        super(WithNormalization, self).build(input_shape)
        self.normalization = L.BatchNormalization(momentum=0.5)

    def call(self, inputs):
        return self.normalization(super(WithNormalization, self).call(inputs), training=True)


def test_a_batchnormalization_run_inside_a_custom_layer_moves_its_statistics_in_training():
    layer = WithNormalization(3, kernel_initializer='identity', bias_initializer='zeros')
    model = Sequential([layer], name='custom')
    model.build((None, 3))
    model.compile(optimizers.SGD(lr=0.0), 'mse')
    x = _batch()
    model.train_on_batch(x, x)
    np.testing.assert_allclose(K.get_value(layer.normalization.moving_mean),
                               0.5 * x.astype('float64').mean(axis=0), rtol=TOL32)
