"""`_uses_learning_phase` on symbolic outputs, as Keras 2.2.4 sets it: True where the output
switches on the learning phase (dropout and noise with `training` not given), and on
everything computed from such an output."""
import numpy as np
import pytest

from refkeras import backend as K
from refkeras import layers as L
from refkeras.models import Model


def flags(outputs):
    return [x._uses_learning_phase for x in (outputs if isinstance(outputs, list) else [outputs])]


@pytest.mark.parametrize('make, switches', [
    (lambda: L.Dropout(0.5), True),
    (lambda: L.Dropout(0.0), False),
    (lambda: L.GaussianNoise(0.1), True),
    (lambda: L.GaussianDropout(0.3), True),
    (lambda: L.GaussianDropout(0.0), False),
    (lambda: L.AlphaDropout(0.3), True),
    (lambda: L.Dense(3), False),
])
def test_noise_layers_flag_their_outputs_unless_training_is_given(make, switches):
    x = L.Input((4,))
    assert flags(make()(x)) == [switches]
    assert flags(make()(x, training=True)) == [False]


def test_the_flag_passes_on_to_everything_computed_from_a_flagged_output():
    a, b = L.Input((4,)), L.Input((4,))
    plain = L.Dense(2)(a)
    dropped = L.Dropout(0.5)(b)
    assert flags(plain) == [False]
    assert flags(L.Dense(2)(dropped)) == [True]
    assert flags(L.concatenate([plain, dropped])) == [True]


def test_a_model_called_on_new_inputs_flags_them_where_its_outputs_switch():
    x = L.Input((4,))
    model = Model(x, L.Dropout(0.5)(x))
    still_plain = Model(x, L.Dense(2)(x))
    y = L.Input((4,))
    assert flags(model(y)) == [True]
    assert flags(still_plain(y)) == [False]


@pytest.mark.parametrize('rnn', [L.SimpleRNN, L.GRU, L.LSTM])
def test_recurrent_layers_with_dropout_flag_their_outputs(rnn):
    x = L.Input((3, 4))
    assert flags(rnn(2, dropout=0.2)(x)) == [True]
    assert flags(rnn(2, recurrent_dropout=0.2)(x)) == [True]
    assert flags(rnn(2)(x)) == [False]
    assert flags(rnn(2, dropout=0.2)(x, training=True)) == [False]
    assert flags(rnn(2, dropout=0.2, return_state=True)(x)) == [True] * (3 if rnn is L.LSTM
                                                                         else 2)


def test_wrappers_flag_what_their_inner_layers_would():
    x = L.Input((3, 4))
    assert flags(L.TimeDistributed(L.Dropout(0.5))(x)) == [True]
    assert flags(L.TimeDistributed(L.Dense(2))(x)) == [False]
    both = L.Bidirectional(L.LSTM(2, dropout=0.2, return_state=True), merge_mode=None)(x)
    assert flags(both) == [True] * 6
    assert flags(L.Bidirectional(L.LSTM(2, dropout=0.2))(x, training=True)) == [False]
    assert flags(L.Bidirectional(L.LSTM(2))(x)) == [False]


def test_a_flagged_output_really_depends_on_the_learning_phase():
    x = L.Input((3, 4))
    y = L.LSTM(5, dropout=0.5, recurrent_dropout=0.5)(x)
    assert flags(y) == [True]
    run = K.function([x, K.learning_phase()], [y])
    data = np.ones((8, 3, 4), dtype='float32')
    test_a, test_b = run([data, 0])[0], run([data, 0])[0]
    train = run([data, 1])[0]
    np.testing.assert_array_equal(test_a, test_b)
    assert not np.allclose(train, test_a)
