"""accel's prefetcher in the generator loops (issue 7, item 2: input batches
copied in, overlapped with compute): `fit_generator` (with and without a
validation generator), `evaluate_generator` and `predict_generator`, fed by a
`Sequence` or a plain generator, with `workers=0` and `workers=1`.

What is checked, under the CUDA simulator (or on a GPU when there is one):
- the loop takes exactly as many items from the generator (or calls
  `Sequence.__getitem__` / `on_epoch_end` as often) as the synchronous loop,
  counts worked out by hand per loop: nothing is read across the end of an
  epoch, of a validation pass or of a call, nor after a callback stopped
  training in `on_batch_begin` or `on_epoch_end`; where the reading happens
  (batch i+1 during step i) is checked against a hand-written event log;
- with and without prefetching: bit-identical weights, histories,
  evaluations and predictions, and the same callback sequence;
- a bad item (wrong form, non-finite input, the generator raising or running
  out, a dtype accel does not support, in the training or the validation
  generator) fails with the same error after the same callbacks as the
  synchronous loop, and leaves no copy in flight and no staging buffer alive;
  so does a `KeyboardInterrupt`;
- staging buffers are allocated once per slot and array (smaller items reuse
  them; a larger later item makes one grow once).
- the one difference accel.prefetch documents: a callback that stops training
  in `on_batch_end(i)` comes after item i+1 was read ahead (it is dropped).

`LateCopies` (from test_accel_prefetch.py) emulates a device whose copies
land late: a batch used before the compute stream waited for its copy reads
NaN, and a staging buffer rewritten under a copy in flight is recorded. The
comparisons run on it; one test breaks the wait on purpose to show it bites.
The counts use `max_queue_size=1`: with more room the enqueuer's workers read
ahead of the loop on their own (the synchronous loop's count is then not
fixed either).
"""

import numpy as np
import pytest

# First: it turns the CUDA simulator on where there is no GPU, and skips the
# module where accel cannot run.
from test_accel_prefetch import LateCopies
from accel_harness import accel_mode_or_skip, fast_simulator_threads

from refkeras import backend as K
from refkeras import callbacks as cbks
from refkeras import optimizers
from refkeras.layers import Dense
from refkeras.models import Sequential
from refkeras.utils import Sequence

from accel import prefetch

pytestmark = pytest.mark.accel

SEED = 2024
SAMPLES, BATCH = 10, 4  # batches of 4, 4 and 2 samples: 3 per pass


_fast_simulator_threads = fast_simulator_threads(accel_mode_or_skip())


@pytest.fixture(autouse=True)
def _prefetch_switch_restored():
    previous = prefetch.ENABLED
    yield
    prefetch.ENABLED = previous


class CountingLateCopies(LateCopies):
    """`LateCopies` that also counts the copies queued."""

    def __init__(self):
        super(CountingLateCopies, self).__init__()
        self.copies = 0

    def copy_in(self, host, stream):
        self.copies += 1
        return super(CountingLateCopies, self).copy_in(host, stream)


# --- data sources that note every item taken ---------------------------------------------

def data(seed=7):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, 3))  # float64: cast to float32 for the model
    y = np.eye(2, dtype='float32')[rng.integers(0, 2, SAMPLES)]
    sw = rng.uniform(0.5, 2.0, SAMPLES).astype('float32')
    return x, y, sw


def batch_of(x, y, sw, index):
    part = slice(index * BATCH, (index + 1) * BATCH)
    return x[part], y[part], sw[part]


class CountingSequence(Sequence):
    """Three batches `(x, y, sample_weight)`; notes each `__getitem__` and
    `on_epoch_end` in `log` (tagged with `name`)."""

    def __init__(self, log, name, seed=7):
        self.log, self.name = log, name
        self.x, self.y, self.sw = data(seed)
        self.taken = self.epochs = 0

    def __len__(self):
        return 3

    def __getitem__(self, index):
        self.log.append(('pull', self.name, self.taken))
        self.taken += 1
        return batch_of(self.x, self.y, self.sw, index)

    def on_epoch_end(self):
        self.epochs += 1


class CountingGenerator(object):
    """An endless generator of the same three batches, from batch `first` on
    (an iterator object, so that it can be counted); `spoil(i, batch)` may
    replace item i."""

    def __init__(self, log, name, seed=7, spoil=None, first=0):
        self.log, self.name, self.spoil, self.first = log, name, spoil, first
        self.x, self.y, self.sw = data(seed)
        self.taken = self.epochs = 0

    def __iter__(self):
        return self

    def __next__(self):
        index = self.taken
        self.log.append(('pull', self.name, index))
        self.taken += 1
        batch = batch_of(self.x, self.y, self.sw, (index + self.first) % 3)
        return batch if self.spoil is None else self.spoil(index, batch)


SOURCES = {'sequence': CountingSequence, 'generator': CountingGenerator}


class Log(cbks.Callback):
    """Notes the callbacks in the shared log, with the logs' values."""

    def __init__(self, log):
        super(Log, self).__init__()
        self.log = log

    def on_epoch_begin(self, epoch, logs=None):
        self.log.append(('epoch_begin', epoch))

    def on_batch_begin(self, batch, logs=None):
        self.log.append(('batch_begin', batch, logs['size']))

    def on_batch_end(self, batch, logs=None):
        self.log.append(('batch_end', batch, logs['size'], logs['loss']))

    def on_epoch_end(self, epoch, logs=None):
        self.log.append(('epoch_end', epoch, dict(logs or {})))


def build():
    np.random.seed(SEED)
    model = Sequential([Dense(2, activation='softmax', input_shape=(3,))])
    model.compile(optimizers.RMSprop(lr=0.05), 'categorical_crossentropy', metrics=['acc'])
    return model


def callbacks_only(log):
    return [e for e in log if e[0] != 'pull']


def pulls(log, name):
    return [e[2] for e in log if e[0] == 'pull' and e[1] == name]


# --- the runs --------------------------------------------------------------------------------

# What each scenario runs; `steps` is what the synchronous loop takes, worked
# out from the loops: fit_generator takes steps_per_epoch items per epoch and
# validation_steps validation items at the end of each epoch;
# evaluate_generator and predict_generator take `steps` items.
SCENARIOS = {
    # 2 steps per epoch of a 3-batch source: epochs and passes do not line up.
    'fit': dict(call='fit', epochs=2, steps=2, val=None),
    'fit+validation': dict(call='fit', epochs=2, steps=3, val=2),
    'fit+validation arrays': dict(call='fit', epochs=2, steps=3, val='arrays'),
    'evaluate': dict(call='evaluate', steps=3),
    'predict': dict(call='predict', steps=3),
}


def run(scenario, kind, workers, enabled, monkeypatch, spoil=None, callbacks=()):
    """Runs `scenario` on accel (prefetching or not) with a fresh model and
    sources; returns what to compare, or the error raised in `error`."""
    spec = SCENARIOS[scenario]
    late = CountingLateCopies()
    log = []
    make = SOURCES[kind]
    source = make(log, 'train') if spoil is None else make(log, 'train', spoil=spoil)
    out = dict(log=log, late=late, source=source, error=None)
    with monkeypatch.context() as patch, K.using_backend('numba'):
        patch.setattr(prefetch, 'ENABLED', enabled)
        patch.setattr(prefetch, 'CudaCopies', lambda: late)
        model = build()
        options = dict(workers=workers, max_queue_size=1)
        try:
            if spec['call'] == 'fit':
                if spec['val'] == 'arrays':
                    x, y, sw = data(seed=8)
                    options.update(validation_data=(x, y, sw))
                elif spec['val']:
                    out['val_source'] = make(log, 'val', seed=8)
                    options.update(validation_data=out['val_source'],
                                   validation_steps=spec['val'])
                history = model.fit_generator(
                    source, steps_per_epoch=spec['steps'], epochs=spec['epochs'], verbose=0,
                    callbacks=[Log(log)] + list(callbacks), **options)
                out['history'] = history.history
            elif spec['call'] == 'evaluate':
                out['evaluation'] = model.evaluate_generator(source, steps=spec['steps'],
                                                             **options)
            else:
                out['predictions'] = model.predict_generator(source, steps=spec['steps'],
                                                             **options)
        except (Exception, KeyboardInterrupt) as err:
            out['error'] = err
        out['weights'] = model.get_weights()
    return out


def expected_fit_log(epochs, steps, val_steps, prefetching):
    """The log of a fit_generator run, by hand: the synchronous loop takes
    item i when the loop reaches it; prefetching, item i+1 is taken during
    step i (between on_batch_begin(i) and on_batch_end(i)), except at the
    last step of an epoch. Validation items are taken between the last
    on_batch_end and on_epoch_end either way (no callback in between)."""
    log, taken, val_taken = [], 0, 0
    for epoch in range(epochs):
        log.append(('epoch_begin', epoch))
        for step in range(steps):
            if step == 0 or not prefetching:
                log.append(('pull', 'train', taken))
            log.append(('batch_begin', step))
            if prefetching and step + 1 < steps:
                log.append(('pull', 'train', taken + 1))
            log.append(('batch_end', step))
            taken += 1
        for _ in range(val_steps or 0):
            log.append(('pull', 'val', val_taken))
            val_taken += 1
        log.append(('epoch_end', epoch))
    return log


def without_values(log):
    """The log with only what `expected_fit_log` spells out (no batch sizes:
    a shuffled `Sequence` gives its batches in a random order)."""
    return [e if e[0] == 'pull' else e[:2] for e in log]


# Every scenario with both kinds of source and 0 or 1 worker, but validation
# arrays (read by the array loop, whatever the workers) with 0 only.
CASES = [(scenario, kind, workers) for scenario in sorted(SCENARIOS)
         for kind in sorted(SOURCES) for workers in (0, 1)
         if not (SCENARIOS[scenario].get('val') == 'arrays' and workers)]


@pytest.mark.parametrize('scenario, kind, workers', CASES)
def test_prefetching_takes_the_same_items_and_gives_bit_identical_results(
        scenario, kind, workers, monkeypatch):
    spec = SCENARIOS[scenario]
    on = run(scenario, kind, workers, True, monkeypatch)
    off = run(scenario, kind, workers, False, monkeypatch)
    assert on['error'] is None and off['error'] is None
    # The items taken, counted by hand (see SCENARIOS).
    epochs = spec.get('epochs', 1)
    val_steps = spec.get('val') if isinstance(spec.get('val'), int) else 0
    for result in (on, off):
        assert pulls(result['log'], 'train') == list(range(epochs * spec['steps']))
        assert pulls(result['log'], 'val') == list(range(epochs * val_steps))
        if kind == 'sequence':  # on_epoch_end after each complete pass of 3
            assert result['source'].epochs == epochs * spec['steps'] // 3
            if val_steps:
                assert result['val_source'].epochs == epochs * val_steps // 3
    # Where they were taken (fit has callbacks to place them among).
    if spec['call'] == 'fit':
        for result, prefetching in ((on, True), (off, False)):
            assert without_values(result['log']) == expected_fit_log(
                epochs, spec['steps'], val_steps, prefetching)
        assert callbacks_only(on['log']) == callbacks_only(off['log'])
        assert on['history'] == off['history']
        assert sorted(on['history']) == sorted(['loss', 'acc'] + (
            ['val_loss', 'val_acc'] if spec['val'] else []))
    # Copied in by the prefetcher: every array of every item (x, y, sample
    # weights; x alone for predict), and none without it.
    arrays_per_item = 1 if spec['call'] == 'predict' else 3
    copies = arrays_per_item * epochs * (spec['steps'] + val_steps)
    if spec.get('val') == 'arrays':
        # Validation arrays (10 samples) in batches the size of the epoch's
        # last step, through the array prefetcher of the same call.
        last_sizes = [e[2] for i, e in enumerate(on['log'])
                      if e[0] == 'batch_begin' and e[1] == spec['steps'] - 1]
        copies += sum(3 * -(-SAMPLES // size) for size in last_sizes)
    assert on['late'].copies == copies
    assert off['late'].copies == 0
    # Bit-identical.
    for a, b in zip(on['weights'], off['weights']):
        np.testing.assert_array_equal(a, b)
    if spec['call'] == 'evaluate':
        assert on['evaluation'] == off['evaluation']
        assert len(on['evaluation']) == 2
    if spec['call'] == 'predict':
        np.testing.assert_array_equal(on['predictions'], off['predictions'])
        assert on['predictions'].shape == (SAMPLES, 2)
    assert on['late'].pending == [] and on['late'].violations == []
    assert on['late'].alive() == []


@pytest.mark.parametrize('kind', sorted(SOURCES))
def test_the_reference_backend_reads_each_item_when_the_loop_reaches_it(kind):
    """The reference runs the same loops, synchronously: the log of the
    synchronous loop, worked out by hand."""
    log = []
    prefetch.ENABLED = True
    assert K.backend() == 'numpy'
    model = build()
    source, val = SOURCES[kind](log, 'train'), SOURCES[kind](log, 'val', seed=8)
    model.fit_generator(source, steps_per_epoch=3, epochs=2, verbose=0, workers=0,
                        callbacks=[Log(log)], validation_data=val, validation_steps=2)
    assert without_values(log) == expected_fit_log(2, 3, 2, prefetching=False)
    predictions = model.predict_generator(SOURCES[kind](log, 'p'), steps=3, workers=0)
    assert pulls(log, 'p') == [0, 1, 2] and predictions.shape == (SAMPLES, 2)


def test_the_emulation_catches_an_item_used_before_its_copy_landed(monkeypatch):
    monkeypatch.setattr(prefetch.Prefetcher, '_hand_out_item',
                        lambda self, staged: (staged.groups, staged.info))
    on = run('predict', 'generator', 0, True, monkeypatch)
    off = run('predict', 'generator', 0, False, monkeypatch)
    assert not np.isnan(off['predictions']).any()
    assert np.isnan(on['predictions']).all()


def test_with_numbas_own_streams_and_copies(monkeypatch):
    """The same comparison with `CudaCopies` (the simulator's, or a GPU's)."""
    results = {}
    for enabled in (True, False):
        log = []
        with monkeypatch.context() as patch, K.using_backend('numba'):
            patch.setattr(prefetch, 'ENABLED', enabled)
            model = build()
            history = model.fit_generator(CountingGenerator(log, 'train'), steps_per_epoch=3,
                                          epochs=2, verbose=0, workers=0,
                                          validation_data=CountingSequence(log, 'val', seed=8),
                                          validation_steps=2)
            predictions = model.predict_generator(CountingGenerator(log, 'p'), steps=3,
                                                  workers=0)
            results[enabled] = (history.history, model.get_weights(), predictions, log)
    (h_on, w_on, p_on, log_on), (h_off, w_off, p_off, log_off) = results[True], results[False]
    assert h_on == h_off
    for a, b in zip(w_on, w_off):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(p_on, p_off)
    assert sorted(log_on) == sorted(log_off) and len(log_on) == 6 + 4 + 3


# --- stopping ---------------------------------------------------------------------------------

class StopAt(cbks.Callback):
    """Sets `stop_training` in `on_<when>` of epoch / batch `index` (of epoch 0)."""

    def __init__(self, when, index):
        super(StopAt, self).__init__()
        self.when, self.index = when, index

    def on_epoch_end(self, epoch, logs=None):
        if self.when == 'epoch_end' and epoch == self.index:
            self.model.stop_training = True

    def on_batch_begin(self, batch, logs=None):
        if self.when == 'batch_begin' and batch == self.index:
            self.model.stop_training = True

    def on_batch_end(self, batch, logs=None):
        if self.when == 'batch_end' and batch == self.index:
            self.model.stop_training = True


@pytest.mark.parametrize('when, index, taken', [
    ('epoch_end', 0, 3),      # as EarlyStopping: epoch 1 is never started
    ('batch_begin', 1, 2),    # the loop ends after step 1: item 2 is not read ahead
    ('batch_begin', 0, 1),
])
def test_a_callback_stopping_training_stops_the_reading_ahead(monkeypatch, when, index, taken):
    results = {enabled: run('fit+validation', 'generator', 0, enabled, monkeypatch,
                            callbacks=[StopAt(when, index)]) for enabled in (True, False)}
    for result in results.values():
        assert result['error'] is None
        assert pulls(result['log'], 'train') == list(range(taken))
        assert result['source'].taken == taken
        # Validation only at the end of a complete epoch.
        assert pulls(result['log'], 'val') == ([0, 1] if when == 'epoch_end' else [])
    assert callbacks_only(results[True]['log']) == callbacks_only(results[False]['log'])
    for a, b in zip(results[True]['weights'], results[False]['weights']):
        np.testing.assert_array_equal(a, b)
    assert results[True]['late'].pending == [] and results[True]['late'].alive() == []


def test_a_callback_stopping_training_in_on_batch_end_comes_after_the_next_item_was_read(
        monkeypatch):
    """The one difference the module doc states: read ahead cannot know that
    `on_batch_end(i)` will stop training, so item i+1 has been taken (and is
    dropped, its copies waited for)."""
    results = {enabled: run('fit', 'generator', 0, enabled, monkeypatch,
                            callbacks=[StopAt('batch_end', 0)]) for enabled in (True, False)}
    assert results[False]['source'].taken == 1
    assert results[True]['source'].taken == 2
    assert callbacks_only(results[True]['log']) == callbacks_only(results[False]['log'])
    for a, b in zip(results[True]['weights'], results[False]['weights']):
        np.testing.assert_array_equal(a, b)
    assert results[True]['late'].pending == [] and results[True]['late'].alive() == []


# --- bad items ----------------------------------------------------------------------------------

class DiskGone(IOError):
    pass


def wrong_form(index, batch):
    return batch[:1]


def mismatched_samples(index, batch):
    # One target row fewer than the inputs and weights: refused by the batch's check.
    return (batch[0], batch[1][:-1]) + batch[2:]


def raising(index, batch):
    raise DiskGone('cannot read item %d' % index)


def half_precision_targets(index, batch):
    return batch[0], batch[1].astype('float16'), batch[2]


def interrupted(index, batch):
    raise KeyboardInterrupt()


def spoiled_at(bad, how):
    return lambda index, batch: how(index, batch) if index == bad else batch


@pytest.mark.parametrize('how, error, message', [
    (wrong_form, ValueError, 'output of generator should be a tuple'),
    (mismatched_samples, ValueError, 'cannot be broadcast'),
    (raising, DiskGone, 'cannot read item'),
    (half_precision_targets, Exception, 'float16'),
])
@pytest.mark.parametrize('bad', [1, 2])  # read ahead during step 0; the first of epoch 1
def test_a_bad_item_fails_where_the_synchronous_loop_fails(monkeypatch, how, error, message,
                                                            bad):
    results = {enabled: run('fit', 'generator', 0, enabled, monkeypatch,
                            spoil=spoiled_at(bad, how)) for enabled in (True, False)}
    on, off = results[True], results[False]
    for result in (on, off):
        assert isinstance(result['error'], error) and message in str(result['error'])
        assert result['source'].taken == bad + 1
    assert type(on['error']) is type(off['error']) and str(on['error']) == str(off['error'])
    # The callbacks seen (2 steps per epoch; items of 4, 4, 2 rows): those of
    # the steps before the bad item; and, for a dtype accel cannot copy, which
    # only the bad item's step finds out, that step's on_batch_begin.
    if bad == 1:
        expected = [('epoch_begin', 0), ('batch_begin', 0, 4), ('batch_end', 0, 4)]
        bad_step = ('batch_begin', 1, 4)
    else:
        expected = [('epoch_begin', 0), ('batch_begin', 0, 4), ('batch_end', 0, 4),
                    ('batch_begin', 1, 4), ('batch_end', 1, 4), ('epoch_end', 0),
                    ('epoch_begin', 1)]
        bad_step = ('batch_begin', 0, 2)
    if how is half_precision_targets:
        expected.append(bad_step)
    assert [e[:3] if e[0] != 'epoch_end' else e[:2]
            for e in callbacks_only(on['log'])] == expected
    assert callbacks_only(on['log']) == callbacks_only(off['log'])
    for a, b in zip(on['weights'], off['weights']):
        np.testing.assert_array_equal(a, b)
    assert on['late'].pending == [] and on['late'].violations == []
    assert on['late'].alive() == []


@pytest.mark.parametrize('last, steps_done, seen_last', [
    (1, 1, ('batch_end', 0)),      # read ahead during step 0
    (2, 0, ('epoch_begin', 1)),    # the first item of epoch 1
])
def test_a_generator_running_out_fails_where_the_synchronous_loop_fails(
        monkeypatch, last, steps_done, seen_last):
    def finite(index, batch):
        if index == last:
            raise StopIteration
        return batch
    results = {enabled: run('fit', 'generator', 0, enabled, monkeypatch, spoil=finite)
               for enabled in (True, False)}
    for result in results.values():
        assert isinstance(result['error'], ValueError)
        assert ('ran out of batches after %d of the 2 steps' % steps_done
                in str(result['error']))
        assert callbacks_only(result['log'])[-1][:2] == seen_last
    assert callbacks_only(results[True]['log']) == callbacks_only(results[False]['log'])
    assert results[True]['late'].pending == [] and results[True]['late'].alive() == []


@pytest.mark.parametrize('scenario', ['evaluate', 'predict'])
def test_a_bad_item_in_evaluate_or_predict_fails_as_without_prefetching(monkeypatch,
                                                                         scenario):
    results = {enabled: run(scenario, 'generator', 0, enabled, monkeypatch,
                            spoil=spoiled_at(2, raising)) for enabled in (True, False)}
    for result in results.values():
        assert isinstance(result['error'], DiskGone)
        assert str(result['error']) == 'cannot read item 2'
        assert result['source'].taken == 3
        assert result['late'].pending == [] and result['late'].alive() == []


def test_a_bad_validation_item_fails_where_the_synchronous_loop_fails(monkeypatch):
    def bad_validation(monkeypatch, enabled):
        log = []
        late = CountingLateCopies()
        with monkeypatch.context() as patch, K.using_backend('numba'):
            patch.setattr(prefetch, 'ENABLED', enabled)
            patch.setattr(prefetch, 'CudaCopies', lambda: late)
            model = build()
            val = CountingGenerator(log, 'val', seed=8, spoil=spoiled_at(1, wrong_form))
            with pytest.raises(ValueError) as info:
                model.fit_generator(CountingGenerator(log, 'train'), steps_per_epoch=3,
                                    epochs=2, verbose=0, workers=0, callbacks=[Log(log)],
                                    validation_data=val, validation_steps=2)
        return log, str(info.value), late
    (log_on, error_on, late), (log_off, error_off, _) = [bad_validation(monkeypatch, e)
                                                         for e in (True, False)]
    assert error_on == error_off
    assert 'fit_generator (validation): output of generator should be' in error_on
    assert callbacks_only(log_on) == callbacks_only(log_off)
    assert callbacks_only(log_on)[-1][:2] == ('batch_end', 2)  # epoch 0's last step
    assert pulls(log_on, 'val') == pulls(log_off, 'val') == [0, 1]
    assert pulls(log_on, 'train') == pulls(log_off, 'train') == [0, 1, 2]
    assert late.pending == [] and late.alive() == []


def test_an_interruption_leaves_no_copy_in_flight_and_releases_everything(monkeypatch):
    # KeyboardInterrupt while item 2 is read ahead (during step 1): it is not
    # kept for later, it stops the call at once.
    on = run('fit+validation', 'generator', 0, True, monkeypatch,
             spoil=spoiled_at(2, interrupted))
    assert isinstance(on['error'], KeyboardInterrupt)
    assert callbacks_only(on['log'])[-1][:2] == ('batch_begin', 1)
    assert on['late'].pending == [] and on['late'].violations == []
    assert on['late'].alive() == []


class FailIn(cbks.Callback):
    def __init__(self, when, index, error):
        super(FailIn, self).__init__()
        self.when, self.index, self.error = when, index, error

    def on_batch_begin(self, batch, logs=None):
        if self.when == 'begin' and batch == self.index:
            raise self.error

    def on_batch_end(self, batch, logs=None):
        if self.when == 'end' and batch == self.index:
            raise self.error


@pytest.mark.parametrize('when, error', [('end', RuntimeError('callback failed')),
                                         ('begin', KeyboardInterrupt())])
def test_a_failing_callback_leaves_no_copy_in_flight(monkeypatch, when, error):
    on = run('fit', 'sequence', 1, True, monkeypatch, callbacks=[FailIn(when, 1, error)])
    assert on['error'] is error
    assert on['late'].copies > 0
    assert on['late'].pending == [] and on['late'].violations == []
    assert on['late'].alive() == []


# --- staging buffers ------------------------------------------------------------------------

def counted_pinned_allocations(monkeypatch, fit):
    """The pinned buffers `fit(model, log)` allocates, as (shape, dtype)."""
    allocations = []

    class Counted(CountingLateCopies):
        def pinned(self, shape, dtype):
            allocations.append((tuple(shape), np.dtype(dtype).str))
            return super(Counted, self).pinned(shape, dtype)
    late = Counted()
    with monkeypatch.context() as patch, K.using_backend('numba'):
        patch.setattr(prefetch, 'CudaCopies', lambda: late)
        patch.setattr(prefetch, 'ENABLED', True)
        fit(build(), [])
    assert late.pending == [] and late.violations == [] and late.alive() == []
    return sorted(allocations), late.copies


# The flat buffers of one item of 4 rows (x: 4 x 3 float32 once cast, y: 4 x 2,
# sample weights: 4) and of one of 2 rows.
FOUR_ROWS = [((12,), '<f4'), ((8,), '<f4'), ((4,), '<f4')]
TWO_ROWS = [((6,), '<f4'), ((4,), '<f4'), ((2,), '<f4')]


def test_staging_buffers_are_allocated_once_per_slot_and_array(monkeypatch):
    """Items of 4, 4 and 2 rows, 3 epochs, with a validation Sequence: the
    first item is the largest, so each slot allocates once per array and the
    2-row items and the validation items reuse the buffers."""
    def fit(model, log):
        model.fit_generator(CountingGenerator(log, 'train'), steps_per_epoch=3, epochs=3,
                            verbose=0, workers=0,
                            validation_data=CountingSequence(log, 'val', seed=8),
                            validation_steps=3)
    allocations, copies = counted_pinned_allocations(monkeypatch, fit)
    assert allocations == sorted(FOUR_ROWS * prefetch.SLOTS)
    assert copies == 3 * (9 + 9)


def test_a_staging_buffer_too_small_for_a_later_item_grows_once(monkeypatch):
    """Items of 2, 4, 4, 2, 4, 4 rows take the two slots in turn: slot 0 gets
    2, 4, 4 rows (allocates for 2, then grows for 4), slot 1 gets 4, 2, 4
    (allocates for 4)."""
    def fit(model, log):
        model.fit_generator(CountingGenerator(log, 'train', first=2), steps_per_epoch=3,
                            epochs=2, verbose=0, workers=0)
    allocations, copies = counted_pinned_allocations(monkeypatch, fit)
    assert allocations == sorted(TWO_ROWS + FOUR_ROWS * 2)
    assert copies == 3 * 6
