"""FAQ: How can I use Keras with datasets that don't fit in memory?

"You can do batch training using `model.train_on_batch(x, y)` and
`model.test_on_batch(x, y)`. Alternatively, you can write a generator that
yields batches of training data and use the method
`model.fit_generator(data_generator, steps_per_epoch, epochs)`."

Checked here: a hand-written `train_on_batch` loop is plain SGD; the
`fit_generator` family gives the same weights as `fit` on the same batches,
whatever the workers (0, 1, 2; threads or processes); `Sequence` order,
shuffling and `on_epoch_end`; the batch-size-weighted averages of
`evaluate_generator`; errors raised by generators reach the caller; bad
batches get clear errors; and no worker thread or process outlives a call.
"""
import multiprocessing
import threading
import warnings

import numpy as np
import pytest

from keras_under_test import (IS_REFKERAS, SGD, backend as K, callbacks, layers, message, models,
                              refkeras_only, require, seed as seed_generators, utils)

from recording import Recorder, indexed_data, seen_indices

Callback = callbacks.Callback
Dense, Input, Lambda = layers.Dense, layers.Input, layers.Lambda
Model = models.Model
Sequence = utils.Sequence if hasattr(utils, "Sequence") else utils.PyDataset
GeneratorEnqueuer = getattr(utils, "GeneratorEnqueuer", None)
OrderedEnqueuer = getattr(utils, "OrderedEnqueuer", None)

N, BATCH = 30, 7  # batches of 7, 7, 7, 7 and 2 samples
WORKER_SETTINGS = [(0, False), (1, False), (2, False), (1, True), (2, True)]


def linear_model(log=None, lr=0.001, seed=0):
    seed_generators(seed)
    x_in = Input((3,))
    hidden = Recorder(log)(x_in) if log is not None else x_in
    model = Model(x_in, Dense(1)(hidden))
    model.compile(SGD(lr=lr), 'mse')
    return model


def affine(model, x):
    w, b = model.get_weights()
    return x.astype('float64') @ w + b


def assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


class ArraySequence(Sequence):
    """Batches of arrays; counts `on_epoch_end` calls; `epoch` is added to y (see below)."""

    def __init__(self, x, y, batch_size, mark_epochs=False):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.mark_epochs = mark_epochs
        self.epoch = 0
        self.threads = set()

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, index):
        self.threads.add(threading.current_thread().name)
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        y = self.y[part] + (1000.0 * self.epoch if self.mark_epochs else 0.0)
        return self.x[part], y

    def on_epoch_end(self):
        self.epoch += 1


def batches_forever(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


def enqueuer_workers():
    """The enqueuers' worker threads and processes still alive."""
    workers = threading.enumerate() + multiprocessing.active_children()
    return [w for w in workers if w.name.startswith('refkeras-enqueuer')]


@pytest.fixture(autouse=True)
def no_worker_outlives_a_test():
    assert enqueuer_workers() == []
    yield
    assert enqueuer_workers() == []


# --- the FAQ's first answer: batch training -----------------------------------------------


def test_train_on_batch_loop_is_plain_sgd_and_test_on_batch_averages_to_evaluate():
    x, y = indexed_data(N)
    model = linear_model(lr=0.001)
    w, b = [v.astype('float64') for v in model.get_weights()]
    for epoch in range(2):
        for start in range(0, N, BATCH):
            xb, yb = x[start:start + BATCH], y[start:start + BATCH]
            loss = model.train_on_batch(xb, yb)
            error = xb @ w + b - yb  # SGD on the mean squared error, by hand
            np.testing.assert_allclose(loss, np.mean(error ** 2), rtol=1e-5)
            w = w - 0.001 * 2.0 * xb.T @ error / len(xb)
            b = b - 0.001 * 2.0 * error.mean(axis=0)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-4, atol=1e-6)
    losses = [model.test_on_batch(x[s:s + BATCH], y[s:s + BATCH]) for s in range(0, N, BATCH)]
    sizes = [len(x[s:s + BATCH]) for s in range(0, N, BATCH)]
    np.testing.assert_allclose(np.average(losses, weights=sizes),
                               np.mean((affine(model, x) - y) ** 2), rtol=1e-5)


# --- fit_generator gives fit's result on the same batches ---------------------------------


@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
def test_fit_generator_on_a_sequence_equals_fit(workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    reference = linear_model()
    reference.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    model = linear_model()
    sequence = ArraySequence(x, y, BATCH)
    history = model.fit_generator(sequence, epochs=3, workers=workers,
                                  use_multiprocessing=use_multiprocessing, shuffle=False,
                                  verbose=0)
    assert_same_weights(model, reference)
    assert len(history.history['loss']) == 3
    assert sequence.epoch == 3  # on_epoch_end after every pass, also with workers=0


@pytest.mark.parametrize('workers,use_multiprocessing', [(0, False), (1, False), (3, False),
                                                         (1, True)])
def test_fit_generator_on_a_generator_equals_fit(workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    reference = linear_model()
    reference.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    model = linear_model()
    model.fit_generator(batches_forever(x, y, BATCH), steps_per_epoch=5, epochs=2,
                        workers=workers, use_multiprocessing=use_multiprocessing, verbose=0)
    # Threads share the generator but keep its order; one process keeps it too.
    assert_same_weights(model, reference)


def test_workers_zero_runs_in_the_main_thread_and_workers_in_others():
    require('fit_generator')
    x, y = indexed_data(N)
    sequence = ArraySequence(x, y, BATCH)
    linear_model().fit_generator(sequence, epochs=1, workers=0, verbose=0)
    assert sequence.threads == {threading.main_thread().name}
    sequence = ArraySequence(x, y, BATCH)
    linear_model().fit_generator(sequence, epochs=1, workers=2, verbose=0)
    assert sequence.threads and threading.main_thread().name not in sequence.threads


def test_history_and_progress_bar_count_steps(capsys):
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    history = model.fit_generator(ArraySequence(x, y, BATCH), epochs=2, verbose=1)
    assert history.params['steps'] == 5 and history.params['epochs'] == 2
    out = capsys.readouterr().out
    assert 'Epoch 2/2' in out and '5/5 [' in out
    # The epoch's loss is the batch-size-weighted mean of the batch losses (BaseLogger).
    assert history.history['loss'][1] > 0


# --- Sequence: order, shuffle, on_epoch_end -----------------------------------------------


@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
def test_sequence_shuffle_visits_every_batch_once_per_epoch_in_a_new_order(
        workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    log = []
    model = linear_model(log)
    seed_generators(3)
    model.fit_generator(ArraySequence(x, y, BATCH), epochs=4, workers=workers,
                        use_multiprocessing=use_multiprocessing, shuffle=True, verbose=0)
    batches = seen_indices(log, 1)
    firsts = [[b[0] // BATCH for b in batches[e * 5:(e + 1) * 5]] for e in range(4)]
    for order in firsts:
        assert sorted(order) == [0, 1, 2, 3, 4]
    assert len({tuple(order) for order in firsts}) > 1
    assert any(order != [0, 1, 2, 3, 4] for order in firsts)
    # The order comes from NumPy's global generator: the same under the same seed,
    # whatever the workers.
    log0 = []
    model0 = linear_model(log0)
    seed_generators(3)
    model0.fit_generator(ArraySequence(x, y, BATCH), epochs=4, workers=0,
                                     shuffle=True, verbose=0)
    assert seen_indices(log0, 1) == batches


@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
def test_on_epoch_end_changes_reach_the_workers(workers, use_multiprocessing):
    """`on_epoch_end` runs in the main process; processes are re-forked to see its changes."""
    require('enqueuers')
    if workers == 0 and not IS_REFKERAS:
        # Keras 2.2.4's enqueuers make a pool of `workers` (none: its thread fails and `get`
        # waits forever); refkeras reads the sequence in the calling thread instead.
        pytest.skip('refkeras-only: an enqueuer with workers=0')
    x, y = indexed_data(N)
    sequence = ArraySequence(x, y, BATCH, mark_epochs=True)
    enqueuer = OrderedEnqueuer(sequence, use_multiprocessing=use_multiprocessing)
    enqueuer.start(workers=workers, max_queue_size=3)
    batches = enqueuer.get()
    try:
        seen = [next(batches)[1] for _ in range(3 * len(sequence))]
    finally:
        enqueuer.stop()
    for pass_index in range(3):
        for batch_y in seen[pass_index * 5:(pass_index + 1) * 5]:
            assert np.all(batch_y >= 1000.0 * pass_index - 10)
            assert np.all(batch_y < 1000.0 * pass_index + 10)
    if IS_REFKERAS:
        # Keras 2.2.4's enqueuer calls on_epoch_end after the queue drains, racing the
        # consumer's stop(); refkeras promises the count, other implementations need not.
        assert sequence.epoch == 3


def test_sequence_default_steps_is_its_length_and_generators_need_steps():
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    history = model.fit_generator(ArraySequence(x, y, 4), epochs=1, verbose=0)
    assert history.params['steps'] == 8
    with pytest.raises(ValueError, match='steps_per_epoch=None` is only valid'):
        model.fit_generator(batches_forever(x, y, 4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match='steps=None` is only valid'):
        model.evaluate_generator(batches_forever(x, y, 4))
    with pytest.raises(ValueError, match='steps=None` is only valid'):
        model.predict_generator(batches_forever(x, y, 4))


# --- validation, class weights ------------------------------------------------------------


@pytest.mark.parametrize('kind', ['tuple', 'sequence', 'generator'])
def test_validation_after_each_epoch_is_the_loss_on_the_validation_data(kind):
    require('fit_generator')
    x, y = indexed_data(N)
    x_val, y_val = indexed_data(11, seed=1)
    if kind == 'tuple':
        validation, steps = (x_val, y_val), None
    elif kind == 'sequence':
        validation, steps = ArraySequence(x_val, y_val, 4), None
    else:
        validation, steps = batches_forever(x_val, y_val, 4), 3
    model = linear_model()
    history = model.fit_generator(ArraySequence(x, y, BATCH), epochs=2, verbose=0,
                                  validation_data=validation, validation_steps=steps)
    assert len(history.history['val_loss']) == 2
    # The last validation ran with the final weights: the MSE over the 11 samples.
    np.testing.assert_allclose(history.history['val_loss'][-1],
                               np.mean((affine(model, x_val) - y_val) ** 2), rtol=1e-5)


def test_validation_generator_needs_validation_steps():
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match='validation_steps=None'):
        model.fit_generator(ArraySequence(x, y, BATCH), epochs=1, verbose=0,
                            validation_data=batches_forever(x, y, 4))
    with pytest.raises(ValueError, match='validation_data` should be'):
        model.fit_generator(ArraySequence(x, y, BATCH), epochs=1, verbose=0,
                            validation_data=(x, y, None, None))
    assert_same_weights_list(model.get_weights(), before)


def assert_same_weights_list(a, b):
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_class_weight_matches_fit():
    require('fit_generator')
    x, _ = indexed_data(N)
    labels = (np.arange(N) % 3 == 0).astype('float32').reshape(-1, 1)
    weights = {0: 1.0, 1: 4.0}
    reference = linear_model()
    reference.fit(x, labels, batch_size=BATCH, epochs=2, shuffle=False, verbose=0,
                  class_weight=weights)
    model = linear_model()
    model.fit_generator(ArraySequence(x, labels, BATCH), epochs=2, shuffle=False, verbose=0,
                        class_weight=weights)
    assert_same_weights(model, reference)
    unweighted = linear_model()
    unweighted.fit_generator(ArraySequence(x, labels, BATCH), epochs=2, shuffle=False, verbose=0)
    assert not np.allclose(unweighted.get_weights()[0], model.get_weights()[0])


# --- evaluate_generator / predict_generator -----------------------------------------------


@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
def test_evaluate_generator_weights_batches_by_their_size(workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    model = Model(*_two_metric_model())
    model.compile(SGD(lr=0.01), 'mse', metrics=['mae'])
    loss, mae = model.evaluate_generator(ArraySequence(x, y, BATCH), workers=workers,
                                         use_multiprocessing=use_multiprocessing)
    prediction = affine(model, x)
    np.testing.assert_allclose(loss, np.mean((prediction - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(mae, np.mean(np.abs(prediction - y)), rtol=1e-5)
    # Not the plain mean of the five batch means (the last batch has 2 samples).
    batch_means = [np.mean((prediction[s:s + BATCH] - y[s:s + BATCH]) ** 2)
                   for s in range(0, N, BATCH)]
    assert abs(np.mean(batch_means) - loss) > 1e-3


def _two_metric_model():
    seed_generators(0)
    x_in = Input((3,))
    return x_in, Dense(1)(x_in)


@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
def test_predict_generator_concatenates_the_batches(workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    from_tuples = model.predict_generator(ArraySequence(x, y, BATCH), workers=workers,
                                          use_multiprocessing=use_multiprocessing)
    np.testing.assert_allclose(from_tuples, affine(model, x), rtol=1e-5, atol=1e-5)
    inputs_only = (x[s:s + BATCH] for s in range(0, N, BATCH))
    np.testing.assert_array_equal(model.predict_generator(inputs_only, steps=5), from_tuples)


# --- errors -------------------------------------------------------------------------------


class DataError(Exception):
    pass


def failing_generator(x, y, fail_at):
    for i, batch in enumerate(batches_forever(x, y, BATCH)):
        if i == fail_at:
            raise DataError('corrupt record in batch %d' % i)
        yield batch


class FailingSequence(ArraySequence):
    def __getitem__(self, index):
        if index == 3:
            raise DataError('cannot decode batch 3')
        return super(FailingSequence, self).__getitem__(index)


@pytest.mark.filterwarnings('ignore:Using a generator with')
@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
def test_an_exception_in_the_generator_surfaces_in_the_caller(workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    with pytest.raises(DataError, match='corrupt record in batch 6'):
        model.fit_generator(failing_generator(x, y, 6), steps_per_epoch=5, epochs=3,
                            workers=workers, use_multiprocessing=use_multiprocessing,
                            verbose=0)
    with pytest.raises(DataError, match='cannot decode batch 3'):
        model.evaluate_generator(FailingSequence(x, y, BATCH), workers=workers,
                                 use_multiprocessing=use_multiprocessing)
    with pytest.raises(DataError, match='cannot decode batch 3'):
        model.predict_generator(FailingSequence(x, y, BATCH), workers=workers,
                                use_multiprocessing=use_multiprocessing)


class Unpicklable(Exception):
    def __init__(self, handle):
        super(Unpicklable, self).__init__('bad handle')
        self.handle = handle

    def __reduce__(self):
        raise TypeError('cannot pickle a handle')


def test_an_unpicklable_exception_in_a_worker_process_still_surfaces():
    require('fit_generator')
    def generator():
        yield np.zeros((2, 3)), np.zeros((2, 1))
        raise Unpicklable(threading.Lock())

    with pytest.raises(RuntimeError, match='Unpicklable: bad handle'):
        linear_model().fit_generator(generator(), steps_per_epoch=3, workers=1,
                                     use_multiprocessing=True, verbose=0)


@pytest.mark.parametrize('output,described', [
    (lambda x, y: (x, y, None, None), 'a tuple of 4 items'),
    (lambda x, y: x, 'an array of shape (7, 3)'),
    (lambda x, y: None, 'NoneType None'),
    (lambda x, y: {'x': x}, 'dict'),
])
def test_a_generator_yielding_the_wrong_tuple_gets_a_clear_error(output, described):
    x, y = indexed_data(N)

    def generator():
        while True:
            yield output(x[:BATCH], y[:BATCH])

    model = linear_model()
    before = model.get_weights()
    for method, kwargs in [(model.fit_generator, {'steps_per_epoch': 2, 'verbose': 0}),
                           (model.evaluate_generator, {'steps': 2})]:
        with pytest.raises(ValueError) as info:
            method(generator(), workers=0, **kwargs)
        message = str(info.value)
        assert '(x, y, sample_weight)' in message and 'at step 0' in message
        assert described in message
    assert_same_weights_list(model.get_weights(), before)


def test_a_finite_generator_that_runs_out_gets_a_clear_error():
    require('fit_generator')
    x, y = indexed_data(N)
    short = (batch for batch in [(x[:5], y[:5])] * 3)
    with pytest.raises(ValueError, match=message('ran out of batches after 3 of the 4 steps')):
        linear_model().fit_generator(short, steps_per_epoch=4, epochs=1, verbose=0)


class ShapeChangingSequence(ArraySequence):
    def __getitem__(self, index):
        x, y = super(ShapeChangingSequence, self).__getitem__(index)
        return (x[:, :2] if index == 2 else x), y


def test_a_sequence_whose_batches_change_shape_gets_a_clear_error():
    require('fit_generator')
    x, y = indexed_data(N)
    with pytest.raises(ValueError, match=r'to have shape \(3,\) but got array with shape \(2,\)'):
        linear_model().fit_generator(ShapeChangingSequence(x, y, BATCH), epochs=1, verbose=0)


def test_predict_generator_refuses_batches_whose_outputs_disagree():
    require('fit_generator')
    x_in = Input((None,))
    identity = Model(x_in, Lambda(lambda t: K.identity(t))(x_in))
    batches = iter([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=message('step 1 gave output 0 of shape')):
        identity.predict_generator(batches, steps=2, workers=0)


def test_bad_worker_arguments_are_refused():
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    with pytest.raises(ValueError, match=message('workers')):
        model.fit_generator(ArraySequence(x, y, BATCH), workers=-1, verbose=0)
    with pytest.raises(ValueError, match=message('max_queue_size')):
        model.fit_generator(ArraySequence(x, y, BATCH), max_queue_size=0, verbose=0)
    with pytest.raises(TypeError, match=message('must be a generator .* or a refkeras.utils.Sequence')):
        model.fit_generator([(x, y)], steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match='steps_per_epoch'):
        model.fit_generator(batches_forever(x, y, 4), steps_per_epoch=0, verbose=0)


def test_multiprocessing_with_a_generator_and_several_workers_warns_about_duplicates():
    require('fit_generator')
    x, y = indexed_data(N)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        linear_model().fit_generator(batches_forever(x, y, BATCH), steps_per_epoch=4, workers=2,
                                     use_multiprocessing=True, verbose=0)
    assert any('duplicate your data' in str(w.message) for w in caught)


# --- no worker outlives the call ----------------------------------------------------------


class StopAfter(Callback):
    def __init__(self, batches):
        super(StopAfter, self).__init__()
        self.batches = batches
        self.seen = 0

    def on_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            self.model.stop_training = True


@pytest.mark.filterwarnings('ignore:Using a generator with')
@pytest.mark.parametrize('workers,use_multiprocessing', WORKER_SETTINGS)
@refkeras_only('counts the threads and processes by refkeras\'s worker names')
def test_no_worker_outlives_fit_generator(workers, use_multiprocessing):
    require('fit_generator')
    x, y = indexed_data(N)
    model = linear_model()
    stop = StopAfter(2)
    model.fit_generator(ArraySequence(x, y, 2), epochs=5, workers=workers,
                        use_multiprocessing=use_multiprocessing, max_queue_size=4, verbose=0,
                        callbacks=[stop], validation_data=ArraySequence(x, y, 8))
    assert stop.seen == 2  # stopped early, with batches still queued
    assert enqueuer_workers() == []
    with pytest.raises(DataError):
        model.fit_generator(failing_generator(x, y, 2), steps_per_epoch=5, workers=workers,
                            use_multiprocessing=use_multiprocessing, verbose=0)
    assert enqueuer_workers() == []


@pytest.mark.parametrize('use_multiprocessing', [False, True])
@refkeras_only('counts the threads and processes by refkeras\'s worker names')
def test_enqueuers_stop_their_workers_and_can_restart(use_multiprocessing):
    require('enqueuers')
    x, y = indexed_data(N)
    enqueuer = GeneratorEnqueuer(batches_forever(x, y, BATCH),
                                 use_multiprocessing=use_multiprocessing)
    enqueuer.start(workers=2, max_queue_size=2)
    assert enqueuer.is_running() and len(enqueuer_workers()) == 2
    first = next(enqueuer.get())
    np.testing.assert_array_equal(first[0], x[:BATCH])
    enqueuer.stop()
    enqueuer.stop()  # twice is fine
    assert not enqueuer.is_running() and enqueuer_workers() == []
    enqueuer.start(workers=1, max_queue_size=1)
    next(enqueuer.get())
    enqueuer.stop()
    assert enqueuer_workers() == []


def test_a_finite_generator_ends_the_enqueuer_stream():
    require('enqueuers')
    x, y = indexed_data(N)
    enqueuer = GeneratorEnqueuer(iter([(x[:2], y[:2])] * 3))
    enqueuer.start(workers=2, max_queue_size=5)
    assert len(list(enqueuer.get())) == 3
    assert not enqueuer.is_running() and enqueuer_workers() == []
