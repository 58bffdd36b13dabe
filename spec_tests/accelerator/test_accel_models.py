"""Whole models on accel against the reference (issue 7: items 2, 3, 5 and 6).

Each model is built twice from the same seed, once per backend, in this one
process (`K.using_backend`), and trained for 3 epochs (of 2 batches for the
MLP, 1 for the slower CNN and LSTM); the losses, weights, predictions and
evaluations must agree.

Why they can differ at all: both backends compute the same float32 formulas,
but accel sums in another (fixed) order than NumPy and BLAS, and its exp/log/
tanh may differ by a few ulps. A sum of K terms computed in two orders differs
by at most `(K - 1) * eps * sum|terms|` (Higham, "Accuracy and Stability of
Numerical Algorithms", 4.2; eps = 2**-23 for float32), the elementwise
functions by a few ulps (less than a K >= 4 sum). One training step chains
`2 * depth` such reductions (forward and backward through `depth` layers; an
RNN counts each timestep as a layer), and with SGD at a small learning rate a
step passes a difference in the weights on without amplifying it (to first
order, the update is the identity plus `lr * Hessian` with `lr * |Hessian| < 1`
here). So after S steps, relative to the magnitudes involved,

    |accel - reference| <= S * 2 * depth * K * eps * (1 + |reference|)

with K the longest reduction of the model (a fan-in, or the batch times the
positions a convolution kernel or a recurrent kernel is shared over). The same
bound, with S + 1, covers predictions made with the trained weights. Each test
also checks that training moved the weights by far more than that bound, so
the agreement is not vacuous.

Initial weights are drawn on the host (see `K.random_uniform`), so the same
`np.random.seed` gives both backends the same starting point, exactly.

Under `NUMBA_ENABLE_CUDASIM=1` (set below when no GPU is present) the kernels
run in Python threads: the models are tiny. On a GPU the same tests run there.
"""
import collections
import os

import numpy as np
import pytest

from accel_harness import Transfers, accel_mode_or_skip, fast_simulator_threads
from accel.device import describe

_MODE = accel_mode_or_skip()

from refkeras import backend as K  # noqa: E402
from refkeras import optimizers  # noqa: E402
from refkeras.layers import (LSTM, Conv2D, Dense, Dropout, Flatten, Lambda,  # noqa: E402
                             MaxPooling2D)
from refkeras.models import Sequential, load_model  # noqa: E402

from accel import arrays  # noqa: E402
from accel.errors import AccelDtypeError, AccelMemoryError, AccelShapeError  # noqa: E402

pytestmark = pytest.mark.accel

EPS32 = float(np.finfo(np.float32).eps)
SEED = 1234
BATCH = 8
EPOCHS = 3


_fast_simulator_threads = fast_simulator_threads(_MODE)


# --- the models -------------------------------------------------------------------

def mlp():
    return Sequential([Dense(16, activation='relu', input_shape=(6,)),
                       Dense(3, activation='softmax')])


def cnn():
    return Sequential([Conv2D(3, (3, 3), activation='relu', input_shape=(6, 6, 2)),
                       MaxPooling2D((2, 2)), Flatten(), Dense(3, activation='softmax')])


def lstm():
    return Sequential([LSTM(5, input_shape=(3, 4)), Dense(3, activation='softmax')])


Spec = collections.namedtuple('Spec', 'build sample_shape samples depth reduction')
MODELS = {
    # fan-ins 6 and 16, batch 8
    'mlp': Spec(mlp, (6,), 2 * BATCH, depth=2, reduction=16),
    # the kernel's gradient sums over the batch and 4x4 positions
    'cnn': Spec(cnn, (6, 6, 2), BATCH, depth=2, reduction=BATCH * 4 * 4),
    # 3 timesteps; the kernels' gradients sum over the batch and the timesteps
    'lstm': Spec(lstm, (3, 4), BATCH, depth=3 + 1, reduction=BATCH * 3),
}


def steps(name):
    return EPOCHS * MODELS[name].samples // BATCH


def tolerance(name, steps):
    spec = MODELS[name]
    return steps * 2 * spec.depth * spec.reduction * EPS32


def data(sample_shape, seed, samples=2 * BATCH):
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1, 1, (samples,) + sample_shape).astype('float32')
    y = np.eye(3, dtype='float32')[rng.randint(0, 3, samples)]
    return x, y


Run = collections.namedtuple('Run', 'initial history final predictions evaluation '
                                    'weights_on_device')
_RUNS = {}


def train(backend, name):
    """Builds, trains and queries model `name` on `backend` (cached per pair)."""
    key = (backend, name)
    if key not in _RUNS:
        spec = MODELS[name]
        x, y = data(spec.sample_shape, seed=0, samples=spec.samples)
        x_test, y_test = data(spec.sample_shape, seed=1, samples=spec.samples)
        with K.using_backend(backend):
            K.clear_session()
            np.random.seed(SEED)
            model = spec.build()
            model.compile(optimizers.SGD(lr=0.1), 'categorical_crossentropy', metrics=['acc'])
            initial = model.get_weights()
            history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
            _RUNS[key] = Run(
                initial=initial, history=history.history, final=model.get_weights(),
                predictions=model.predict(x_test, batch_size=BATCH),
                evaluation=model.evaluate(x_test, y_test, batch_size=BATCH, verbose=0),
                weights_on_device=[type(w.value).__name__ for w in model.weights])
    return _RUNS[key]


def assert_within(got, want, tol, what):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, what
    err = np.abs(got - want)
    bound = tol * (1 + np.abs(want))
    assert (err <= bound).all(), '%s: |accel - reference| up to %r, tolerance %r' % (
        what, float(err.max()), float(bound[np.argmax(err - bound)]))


# --- accel trains as the reference does ----------------------------------------------

@pytest.mark.parametrize('name', sorted(MODELS))
def test_three_epochs_match_the_reference(name):
    ref, acc = train('numpy', name), train('numba', name)
    assert acc.weights_on_device == ['DeviceArray'] * len(acc.final)
    assert ref.weights_on_device == ['ndarray'] * len(ref.final)
    # The same starting point, exactly: initial weights are drawn on the host.
    for a, r in zip(acc.initial, ref.initial):
        np.testing.assert_array_equal(a, r)
    tol = tolerance(name, steps(name))
    assert len(acc.history['loss']) == EPOCHS
    for key in ('loss', 'acc'):
        assert_within(acc.history[key], ref.history[key], tol, '%s epoch %s' % (name, key))
    moved = max(float(np.abs(f - i).max()) for f, i in zip(ref.final, ref.initial))
    assert moved > 100 * tol, 'training hardly changed the weights: the test would be vacuous'
    for i, (a, r) in enumerate(zip(acc.final, ref.final)):
        assert isinstance(a, np.ndarray) and a.dtype == r.dtype
        assert_within(a, r, tol, '%s weight %d' % (name, i))


@pytest.mark.parametrize('name', sorted(MODELS))
def test_predict_and_evaluate_match_the_reference(name):
    ref, acc = train('numpy', name), train('numba', name)
    tol = tolerance(name, steps(name) + 1)
    assert isinstance(acc.predictions, np.ndarray)
    assert acc.predictions.shape == ref.predictions.shape == (MODELS[name].samples, 3)
    assert_within(acc.predictions, ref.predictions, tol, '%s predictions' % name)
    assert_within(acc.evaluation, ref.evaluation, tol, '%s evaluate' % name)


# --- what crosses between host and device --------------------------------------------

def test_a_step_copies_in_only_its_batch_and_copies_out_only_the_logged_values(monkeypatch):
    x, y = data((6,), seed=0)
    weights = np.linspace(0.5, 1.5, BATCH).astype('float32')
    with K.using_backend('numba'):
        np.random.seed(SEED)
        model = Sequential([Dense(8, activation='relu', input_shape=(6,)), Dropout(0.25),
                            Dense(3, activation='softmax')])
        # Adam with clipnorm: hyperparameters, bias corrections, the step count and
        # the gradients' norm are all computed on the device.
        model.compile(optimizers.Adam(lr=0.01, decay=0.01, clipnorm=1.0),
                      'categorical_crossentropy', metrics=['acc', 'top_k_categorical_accuracy'])
        model.train_on_batch(x[:BATCH], y[:BATCH])  # slots and cached constants are made once
        transfers = Transfers(monkeypatch)
        for _ in range(2):
            transfers.reset()
            logged = model.train_on_batch(x[:BATCH], y[:BATCH], sample_weight=weights)
            assert sorted(transfers.copies_in) == sorted([(BATCH, 6), (BATCH, 3), (BATCH,)])
            # the three logged scalars, packed on the device into one copy (issue 17)
            assert len(logged) == 3 and transfers.copies_out == [(3,)]
        transfers.reset()
        model.test_on_batch(x[:BATCH], y[:BATCH])
        # (the engine weighs every sample by 1 when no weights are given)
        assert sorted(transfers.copies_in) == sorted([(BATCH, 6), (BATCH, 3), (BATCH,)])
        assert transfers.copies_out == [(3,)]
        transfers.reset()
        model.predict_on_batch(x[:BATCH])
        assert transfers.copies_in == [(BATCH, 6)] and transfers.copies_out == [(BATCH, 3)]
        transfers.reset()
        weights_now = model.get_weights()
        assert transfers.copies_in == [] and len(transfers.copies_out) == len(weights_now)
        assert all(isinstance(w, np.ndarray) for w in weights_now)


def test_gradient_seeds_and_zero_gradients_are_made_on_the_device():
    with K.using_backend('numba'):
        w = K.variable(np.ones((2, 3)))
        unused = K.variable(np.ones((4,)))
        with K.GradientTape([w, unused]) as tape:
            loss = K.sum(K.square(w))
        grad_w, grad_unused = tape.gradient(loss, [w, unused])
        assert isinstance(grad_w, arrays.DeviceArray)
        assert isinstance(grad_unused, arrays.DeviceArray)
        np.testing.assert_array_equal(K.get_value(grad_w), 2 * np.ones((2, 3)))
        np.testing.assert_array_equal(K.get_value(grad_unused), np.zeros(4))


def test_device_values_never_reach_numpy_silently():
    with K.using_backend('numba'):
        assert K.backend() == 'numba'
        v = K.variable(np.arange(3.0))
        with pytest.raises(TypeError, match='device memory'):
            np.asarray(v)
        with pytest.raises(TypeError, match='host'):
            bool(K.greater(v, 1.0))
        np.testing.assert_array_equal(K.get_value(v), np.arange(3.0))
        np.testing.assert_allclose(K.eval(K.exp(v)), np.exp(np.arange(3.0, dtype='float32')),
                                   rtol=4 * EPS32)
    assert K.backend() == 'numpy'
    assert isinstance(K.variable(np.arange(3.0)).value, np.ndarray)


def test_k_function_copies_its_inputs_in_once_and_its_outputs_out(monkeypatch):
    x = np.linspace(-1, 1, 12).reshape(4, 3).astype('float32')
    with K.using_backend('numba'):
        np.random.seed(SEED)
        model = Sequential([Dense(4, activation='tanh', input_shape=(3,)), Dense(2)])
        hidden = K.function([model.input, K.learning_phase()], [model.layers[0].output,
                                                                model.output])
        hidden([x, 0])
        transfers = Transfers(monkeypatch)
        first, last = hidden([x, 0])
        assert transfers.copies_in == [(4, 3)]
        assert sorted(transfers.copies_out) == [(4, 2), (4, 4)]
        kernel, bias = model.layers[0].get_weights()
    assert isinstance(first, np.ndarray) and isinstance(last, np.ndarray)
    # tanh(x W + b) with float32 rounding: a 3-term sum and tanh (a few ulps).
    want = np.tanh(x.astype(np.float64) @ kernel + bias)
    np.testing.assert_allclose(first, want, rtol=0, atol=16 * EPS32)


def test_multi_gpu_model_counts_the_devices_accel_sees():
    import accel
    count = accel.gpu_count()
    assert count >= 1
    with K.using_backend('numba'):
        model = Sequential([Dense(2, input_shape=(3,))])
        with pytest.raises(ValueError, match='only has %d' % count):
            from refkeras.utils import multi_gpu_model
            multi_gpu_model(model, gpus=count + 1)


# --- saving ----------------------------------------------------------------------------

def test_get_weights_and_saving_copy_to_the_host(tmp_path):
    x, y = data((6,), seed=0)
    path = str(tmp_path / 'model.h5')
    with K.using_backend('numba'):
        np.random.seed(SEED)
        model = mlp()
        model.compile(optimizers.SGD(lr=0.1, momentum=0.9), 'categorical_crossentropy')
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        weights = model.get_weights()
        optimizer_state = model.optimizer.get_weights()
        predictions = model.predict(x, batch_size=BATCH)
        model.save(path)
    with K.using_backend('numpy'):
        loaded = load_model(path)
        for w, v in zip(weights, loaded.get_weights()):
            np.testing.assert_array_equal(v, w)
        for w, v in zip(optimizer_state, loaded.optimizer.get_weights()):
            np.testing.assert_array_equal(v, w)
        assert int(K.get_value(loaded.optimizer.iterations)) == len(x) // BATCH
        assert_within(loaded.predict(x, batch_size=BATCH), predictions,
                      tolerance('mlp', 1), 'reference predictions with accel weights')
    # And back onto the device: loading copies the host values in.
    with K.using_backend('numba'):
        again = load_model(path)
        assert type(again.layers[0].kernel.value).__name__ == 'DeviceArray'
        for w, v in zip(weights, again.get_weights()):
            np.testing.assert_array_equal(v, w)


# --- determinism (issue 7, item 5) -----------------------------------------------------

def test_training_is_bit_identical_run_after_run():
    """Same seed, same data: the same weights, bit for bit, with dropout masks drawn on
    the device, reductions in a fixed order and Adam's state on the device."""
    x, y = data((6,), seed=0, samples=BATCH)

    def run(seed):
        with K.using_backend('numba'):
            K.clear_session()
            np.random.seed(seed)
            model = Sequential([Dense(8, activation='relu', input_shape=(6,)), Dropout(0.5),
                                Dense(3, activation='softmax')])
            model.compile('adam', 'categorical_crossentropy')
            history = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
            return history.history['loss'], model.get_weights()
    first, second, other = run(SEED), run(SEED), run(SEED + 1)
    assert first[0] == second[0]
    for a, b in zip(first[1], second[1]):
        assert a.tobytes() == b.tobytes()
    assert first[0] != other[0]


# --- bad input (issue 7: clear errors, nothing of the model changed) --------------------

def snapshot(model):
    return [w.copy() for w in model.get_weights()] + \
        [w.copy() for w in model.optimizer.get_weights()]


def assert_unchanged(model, before):
    after = snapshot(model)
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def test_primitive_errors_name_the_primitive_and_the_shapes():
    with K.using_backend('numba'):
        a = K.variable(np.ones((2, 3)))
        with pytest.raises(AccelShapeError) as info:
            K.dot(a, np.ones((4, 2), dtype='float32'))
        assert "'matmul'" in str(info.value) and '(2, 3)' in str(info.value) \
            and '(4, 2)' in str(info.value)
        with pytest.raises(AccelDtypeError) as info:
            K.dot(np.ones((2, 3), dtype='float16'), np.ones((3, 2), dtype='float16'))
        assert "'matmul'" in str(info.value) and 'float16' in str(info.value) \
            and '(2, 3)' in str(info.value)
        with pytest.raises(AccelMemoryError) as info:
            K.tile(a, [1, 2 ** 40])
        assert "'tile'" in str(info.value) and '(2, 3)' in str(info.value)


def _compiled(layers, *inputs):
    model = Sequential(layers)
    model.compile(optimizers.SGD(lr=0.1, momentum=0.9), 'mse')
    model.fit(*inputs, batch_size=4, epochs=1, verbose=0)  # the optimizer has its state now
    return model


def test_mismatched_shapes_in_a_model_change_nothing():
    rng = np.random.RandomState(0)
    with K.using_backend('numba'):
        np.random.seed(SEED)
        # The Lambda adds a length-3 constant: inputs of width 3 fit, width 4 does not.
        model = _compiled([Lambda(lambda t: t + K.constant(np.ones(3)), input_shape=(None,),
                                  output_shape=(3,)), Dense(2)],
                          rng.rand(4, 3).astype('float32'), rng.rand(4, 2).astype('float32'))
        before = snapshot(model)
        with pytest.raises(AccelShapeError) as info:
            model.train_on_batch(rng.rand(4, 4).astype('float32'), rng.rand(4, 2))
        assert "'add'" in str(info.value) and '(4, 4)' in str(info.value) \
            and '(3,)' in str(info.value)
        assert_unchanged(model, before)


def test_an_unsupported_dtype_changes_nothing():
    rng = np.random.RandomState(0)
    with K.using_backend('numba'):
        np.random.seed(SEED)
        model = _compiled([Dense(2, input_shape=(3,))], rng.rand(4, 3).astype('float32'),
                          rng.rand(4, 2).astype('float32'))
        before = snapshot(model)
        # float16 targets: the reference computes with them, accel has no float16 kernels.
        with pytest.raises(AccelDtypeError) as info:
            model.train_on_batch(rng.rand(4, 3).astype('float32'),
                                 rng.rand(4, 2).astype('float16'))
        assert 'float16' in str(info.value) and '(4, 2)' in str(info.value)
        assert_unchanged(model, before)


def test_running_out_of_device_memory_changes_nothing_and_frees_the_memory():
    rng = np.random.RandomState(0)
    x, y = rng.rand(4, 3).astype('float32'), rng.rand(4, 2).astype('float32')
    with K.using_backend('numba'):
        np.random.seed(SEED)
        huge = {'on': False}

        def widen(t):  # an enormous intermediate when switched on
            return K.sum(K.tile(t, [1, 2 ** 38]), axis=1, keepdims=True) if huge['on'] else t
        model = _compiled([Lambda(widen, input_shape=(3,), output_shape=(3,)), Dense(2)], x, y)
        before = snapshot(model)
        huge['on'] = True
        with pytest.raises(AccelMemoryError) as info:
            model.train_on_batch(x, y)
        assert "'tile'" in str(info.value) and '(4, 3)' in str(info.value)
        assert_unchanged(model, before)
        # The failed step left nothing behind: the next one runs.
        huge['on'] = False
        model.train_on_batch(x, y)
        assert any((a != b).any() for a, b in zip(model.get_weights(), before))


def test_using_backend_refuses_unknown_names():
    with pytest.raises(ValueError, match='mxnet'):
        with K.using_backend('mxnet'):
            pass
    assert K.backend() == 'numpy'


if os.environ.get('ACCEL_MODELS_VERBOSE'):  # pragma: no cover (a debugging aid)
    print('accel model tests run on', describe())
