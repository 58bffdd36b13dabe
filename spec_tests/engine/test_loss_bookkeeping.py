"""Layer and model losses as Keras 2.2.4 keeps them: `add_loss`, `losses`,
`get_losses_for`, and what the training loss adds up.

The expected values are worked out by hand for a Dense layer with all-ones
kernel and zero bias on x = [[1, 2], [3, 4]]: its outputs are 3 and 7.
"""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras import regularizers
from refkeras.layers import Dense, Input
from refkeras.models import Model

X = np.array([[1., 2.], [3., 4.]])
Y = np.zeros((2, 1))
# mse (9 + 49) / 2 = 29; kernel l1 0.5 * (1 + 1) = 1; activity l2 0.1 * (9 + 49) = 5.8;
# the constant 1; mean of the outputs (3 + 7) / 2 = 5.
EXPECTED_TOTAL = 29 + 1 + 5.8 + 1 + 5


def dense():
    return Dense(1, kernel_initializer='ones', bias_initializer='zeros',
                 kernel_regularizer=regularizers.l1(0.5),
                 activity_regularizer=regularizers.l2(0.1))


def model_with_every_kind_of_loss():
    a = Input(shape=(2,))
    out = dense()(a)
    model = Model(a, out)
    model.add_loss(1)
    model.add_loss(K.mean(out))
    return model


def test_evaluate_adds_constants_penalties_activity_and_symbolic_losses():
    model = model_with_every_kind_of_loss()
    model.compile('sgd', 'mse')
    assert len(model.losses) == 4
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(EXPECTED_TOTAL, rel=1e-6)


def test_train_on_batch_reports_the_same_total_before_the_update():
    model = model_with_every_kind_of_loss()
    model.compile('sgd', 'mse')
    assert model.train_on_batch(X, Y) == pytest.approx(EXPECTED_TOTAL, rel=1e-6)


def test_a_model_used_as_a_layer_brings_all_its_losses_once():
    inner = model_with_every_kind_of_loss()
    b = Input(shape=(2,))
    outer = Model(b, inner(b))
    outer.compile('sgd', 'mse')
    assert len(outer.losses) == 4
    assert outer.evaluate(X, Y, verbose=0) == pytest.approx(EXPECTED_TOTAL, rel=1e-6)


def test_get_losses_for_files_losses_under_their_inputs():
    a = Input(shape=(2,))
    layer = Dense(1)
    layer.add_loss(0, inputs=a)
    layer.add_loss(1, inputs=None)
    assert layer.get_losses_for(a) == [0]
    assert layer.get_losses_for(None) == [1]
    assert layer.losses == [0, 1]


def test_a_shared_layer_has_one_activity_loss_per_call_and_one_weight_penalty():
    layer = dense()
    a, b = Input(shape=(2,)), Input(shape=(2,))
    layer(a)
    layer(b)
    assert len(layer.get_losses_for(a)) == 1
    assert len(layer.get_losses_for(b)) == 1
    assert len(layer.get_losses_for(None)) == 1
    assert len(layer.losses) == 3
    # Only the calls inside a model count for that model.
    assert len(Model(a, layer.get_output_at(0)).losses) == 2


def test_weight_penalties_are_reported_with_the_current_weights():
    layer = dense()
    layer.build((None, 2))
    assert float(layer.losses[0]) == pytest.approx(1.0)
    layer.set_weights([np.full((2, 1), 3.0), np.zeros(1)])
    assert float(layer.losses[0]) == pytest.approx(0.5 * 6.0)


def test_a_layer_called_on_arrays_files_its_activity_loss_under_them():
    layer = dense()
    x = K.variable(X)
    layer(x)
    (value,) = layer.get_losses_for(x)
    assert float(value) == pytest.approx(5.8, rel=1e-6)


def test_a_pickled_model_keeps_its_losses_and_its_training_loss():
    import pickle
    a = Input(shape=(2,))
    model = Model(a, dense()(a))
    model.add_loss(1)
    model.compile('sgd', 'mse')
    copy = pickle.loads(pickle.dumps(model))
    assert len(copy.losses) == len(model.losses) == 3
    # 29 + 1 (kernel) + 5.8 (activity) + 1
    assert copy.evaluate(X, Y, verbose=0) == pytest.approx(36.8, rel=1e-6)
