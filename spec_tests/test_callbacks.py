"""Callbacks (`refkeras.callbacks`), unit level.

The callbacks are driven by hand, the way `fit` drives them, on a small fake
model (`stop_training`, `get_weights` / `set_weights`, `save` / `save_weights`
and an optimizer whose `lr` is a `K.variable`). Every expected value is a
count or an average worked out by hand from a scripted sequence of logs.

The FAQ answers "How can I interrupt training when the validation loss isn't
decreasing anymore?" and "How can I record the training / validation loss /
accuracy at each epoch?" also get spec tests with real models elsewhere.
"""
import csv
import sys
import warnings

import numpy as np
import pytest

from refkeras import backend as K
from refkeras import callbacks as cbks
from refkeras.utils import progbar as progbar_module


# -- a fake model and a hand-driven training loop ----------------------------

class FakeOptimizer(object):
    def __init__(self, lr):
        self.lr = K.variable(lr)


class FakeModel(object):
    """What callbacks use of a model; records the saves it is asked for."""

    def __init__(self, lr=0.5):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights = [np.zeros(2), np.zeros(())]
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(('model', filepath, overwrite))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(('weights', filepath, overwrite))


def weights_of_epoch(epoch):
    return [np.full(2, float(epoch)), np.array(10.0 * epoch)]


def run_epochs(callbacks, epoch_logs, model=None, params=None, batches=None):
    """Drives callbacks like `fit`: returns (model, number of epochs run).

    `epoch_logs[e]` is the dict given to `on_epoch_end` of epoch `e` (a copy);
    before it, the model's weights become `weights_of_epoch(e)` (as if
    epoch `e` had trained them). `batches` (a list of batch logs, reused
    every epoch) is sent through `on_batch_begin` / `on_batch_end`.
    """
    model = model or FakeModel()
    callback_list = cbks.CallbackList(callbacks)
    callback_list.set_model(model)
    callback_list.set_params(params or {'epochs': len(epoch_logs), 'verbose': 0,
                                        'metrics': ['loss', 'val_loss']})
    model.stop_training = False
    callback_list.on_train_begin()
    epochs_run = 0
    for epoch, logs in enumerate(epoch_logs):
        callback_list.on_epoch_begin(epoch)
        for index, batch_logs in enumerate(batches or []):
            callback_list.on_batch_begin(index, {'batch': index, 'size': batch_logs['size']})
            callback_list.on_batch_end(index, dict(batch_logs, batch=index))
        model.set_weights(weights_of_epoch(epoch))
        callback_list.on_epoch_end(epoch, dict(logs))
        epochs_run += 1
        if model.stop_training:
            break
    callback_list.on_train_end()
    return model, epochs_run


def val_losses(*values):
    return [{'val_loss': v} for v in values]


# -- Callback, CallbackList, LambdaCallback ----------------------------------

def test_callback_list_calls_every_hook_of_every_callback_in_order():
    calls = []

    class Recorder(cbks.Callback):
        def __init__(self, name):
            super(Recorder, self).__init__()
            self.name = name

        def on_train_begin(self, logs=None):
            calls.append((self.name, 'train_begin', logs))

        def on_epoch_begin(self, epoch, logs=None):
            calls.append((self.name, 'epoch_begin', epoch))

        def on_batch_begin(self, batch, logs=None):
            calls.append((self.name, 'batch_begin', batch))

        def on_batch_end(self, batch, logs=None):
            calls.append((self.name, 'batch_end', batch, logs['loss']))

        def on_epoch_end(self, epoch, logs=None):
            calls.append((self.name, 'epoch_end', epoch, logs['val_loss']))

        def on_train_end(self, logs=None):
            calls.append((self.name, 'train_end', logs))

    first, second = Recorder('a'), Recorder('b')
    model, _ = run_epochs([first, second], val_losses(0.5),
                          batches=[{'size': 2, 'loss': 1.5}])
    assert first.model is model and second.model is model
    assert first.params['epochs'] == 1
    assert calls == [
        ('a', 'train_begin', {}), ('b', 'train_begin', {}),
        ('a', 'epoch_begin', 0), ('b', 'epoch_begin', 0),
        ('a', 'batch_begin', 0), ('b', 'batch_begin', 0),
        ('a', 'batch_end', 0, 1.5), ('b', 'batch_end', 0, 1.5),
        ('a', 'epoch_end', 0, 0.5), ('b', 'epoch_end', 0, 0.5),
        ('a', 'train_end', {}), ('b', 'train_end', {}),
    ]


def test_callback_list_passes_the_callers_logs_dict_on():
    seen = []
    callback_list = cbks.CallbackList([cbks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.update(extra=epoch + 1))])
    callback_list.append(cbks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs)))
    assert len(callback_list) == 2 and len(list(callback_list)) == 2
    logs = {}
    callback_list.on_epoch_end(4, logs)
    assert logs == {'extra': 5} and seen[0] is logs


def test_base_callback_hooks_do_nothing():
    callback = cbks.Callback()
    assert callback.model is None and callback.validation_data is None
    for hook in (callback.on_epoch_begin, callback.on_epoch_end,
                 callback.on_batch_begin, callback.on_batch_end):
        assert hook(0, {}) is None
    assert callback.on_train_begin({}) is None and callback.on_train_end({}) is None


def test_lambda_callback_calls_the_given_functions_with_positional_arguments():
    calls = []
    callback = cbks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.append(('epoch_begin', epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(('epoch_end', epoch, logs['val_loss'])),
        on_batch_end=lambda batch, logs: calls.append(('batch_end', batch, logs['size'])),
        on_train_end=lambda logs: calls.append(('train_end',)),
        note='kept as an attribute')
    run_epochs([callback], val_losses(0.25, 0.125), batches=[{'size': 3, 'loss': 0.0}])
    assert calls == [('epoch_begin', 0), ('batch_end', 0, 3), ('epoch_end', 0, 0.25),
                     ('epoch_begin', 1), ('batch_end', 0, 3), ('epoch_end', 1, 0.125),
                     ('train_end',)]
    assert callback.note == 'kept as an attribute'
    # Hooks not given do nothing.
    assert callback.on_train_begin({}) is None and callback.on_batch_begin(0, {}) is None


# -- BaseLogger and History --------------------------------------------------

def test_base_logger_weights_batch_values_by_batch_size():
    # 100 samples in batches of 32: sizes 32, 32, 32 and an uneven last batch of 4.
    sizes = [32, 32, 32, 4]
    losses = [1.0, 0.5, 0.25, 2.0]
    accs = [0.25, 0.75, 0.5, 1.0]
    batches = [{'size': s, 'loss': v, 'acc': a} for s, v, a in zip(sizes, losses, accs)]
    logger = cbks.BaseLogger()
    history = cbks.History()
    params = {'epochs': 1, 'verbose': 0, 'metrics': ['loss', 'acc', 'val_loss', 'val_acc']}
    run_epochs([logger, history], [{'val_loss': 0.75, 'val_acc': 0.5}],
               params=params, batches=batches)
    # By hand: loss (32*1 + 32*0.5 + 32*0.25 + 4*2) / 100 = 64 / 100;
    #          acc  (32*0.25 + 32*0.75 + 32*0.5 + 4*1) / 100 = 52 / 100.
    assert history.history['loss'] == [pytest.approx(0.64, abs=1e-12)]
    assert history.history['acc'] == [pytest.approx(0.52, abs=1e-12)]
    # Not the plain mean of the batch losses, (1 + 0.5 + 0.25 + 2) / 4 = 0.9375.
    assert history.history['loss'][0] != pytest.approx(0.9375)
    # Validation values pass through; `batch` and `size` are not metrics.
    assert history.history['val_loss'] == [0.75] and history.history['val_acc'] == [0.5]
    assert set(history.history) == {'loss', 'acc', 'val_loss', 'val_acc'}


def test_base_logger_restarts_every_epoch_and_keeps_stateful_metrics_as_is():
    logger = cbks.BaseLogger(stateful_metrics=['auc'])
    history = cbks.History()
    params = {'epochs': 2, 'verbose': 0, 'metrics': ['loss', 'auc']}
    batches = [{'size': 3, 'loss': 1.0, 'auc': 0.25}, {'size': 1, 'loss': 5.0, 'auc': 0.75}]
    run_epochs([logger, history], [{}, {}], params=params, batches=batches)
    # loss (3*1 + 1*5) / 4 = 2 in each epoch (no carry-over); auc is the last batch's value.
    assert history.history == {'loss': [2.0, 2.0], 'auc': [0.75, 0.75]}


def test_history_records_epochs_logs_and_params_and_resets_on_train_begin():
    history = cbks.History()
    params = {'epochs': 3, 'verbose': 0, 'metrics': ['loss', 'val_loss']}
    logs = [{'loss': 1.0, 'val_loss': 2.0}, {'loss': 0.5, 'val_loss': 1.5},
            {'loss': 0.25, 'val_loss': 1.25}]
    run_epochs([history], logs, params=params)
    assert history.epoch == [0, 1, 2]
    assert history.history == {'loss': [1.0, 0.5, 0.25], 'val_loss': [2.0, 1.5, 1.25]}
    assert history.params is params
    run_epochs([history], logs[:1], params=params)
    assert history.epoch == [0] and history.history == {'loss': [1.0], 'val_loss': [2.0]}


# -- TerminateOnNaN ----------------------------------------------------------

@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf'), np.float32('nan')])
def test_terminate_on_nan_stops_at_the_first_invalid_loss(bad, capsys):
    model = FakeModel()
    callback = cbks.TerminateOnNaN()
    callback.set_model(model)
    callback.on_batch_end(0, {'loss': 0.5})
    callback.on_batch_end(1, {})
    assert model.stop_training is False
    callback.on_batch_end(2, {'loss': bad})
    assert model.stop_training is True
    assert capsys.readouterr().out == 'Batch 2: Invalid loss, terminating training\n'


# -- EarlyStopping -----------------------------------------------------------

def test_early_stopping_faq_patience_2(capsys):
    # FAQ: EarlyStopping(monitor='val_loss', patience=2).
    # Hand count: e0 1.0 best; e1 0.8 best; e2 0.9 wait 1; e3 0.85 wait 2 -> stop at e3.
    early = cbks.EarlyStopping(monitor='val_loss', patience=2, verbose=1)
    model, epochs_run = run_epochs([early], val_losses(1.0, 0.8, 0.9, 0.85, 0.7, 0.6))
    assert epochs_run == 4
    assert model.stop_training is True
    assert early.stopped_epoch == 3 and early.wait == 2 and early.best == 0.8
    assert capsys.readouterr().out == 'Epoch 00004: early stopping\n'


def test_early_stopping_improvement_resets_the_wait():
    # e0 best 1.0; e1 wait 1; e2 0.9 best (reset); e3 wait 1; e4 wait 2 -> stop at e4.
    early = cbks.EarlyStopping(patience=2)
    _, epochs_run = run_epochs([early], val_losses(1.0, 1.1, 0.9, 0.95, 0.92, 0.1))
    assert epochs_run == 5 and early.stopped_epoch == 4


def test_early_stopping_patience_0_stops_at_the_first_non_improvement(capsys):
    early = cbks.EarlyStopping()
    _, epochs_run = run_epochs([early], val_losses(1.0, 0.5, 0.5, 0.1))
    assert epochs_run == 3 and early.stopped_epoch == 2   # 0.5 is not below 0.5
    assert capsys.readouterr().out == ''                   # verbose=0


def test_early_stopping_min_delta():
    # min mode with min_delta=0.1: improvement needs current + 0.1 < best.
    # e0 1.0 best; e1 0.95 (1.05 !< 1.0) wait 1; e2 0.85 (0.95 < 1.0) best; e3 0.8 (0.9 !< 0.85)
    # wait 1; e4 0.79 wait 2 -> stop at e4.
    early = cbks.EarlyStopping(min_delta=0.1, patience=2)
    _, epochs_run = run_epochs([early], val_losses(1.0, 0.95, 0.85, 0.8, 0.79, 0.0))
    assert epochs_run == 5 and early.stopped_epoch == 4 and early.best == 0.85


def test_early_stopping_auto_mode_maximises_accuracy():
    # 'acc' in the name: max mode. e0 0.5 best; e1 0.6 best; e2 0.55 wait 1; e3 0.6 (not > 0.6)
    # wait 2 -> stop at e3.
    early = cbks.EarlyStopping(monitor='val_acc', patience=2)
    logs = [{'val_acc': a} for a in (0.5, 0.6, 0.55, 0.6, 0.9)]
    _, epochs_run = run_epochs([early], logs)
    assert early.monitor_op is np.greater
    assert epochs_run == 4 and early.stopped_epoch == 3 and early.best == 0.6


def test_early_stopping_max_mode_with_min_delta():
    # max mode, min_delta 0.05: improvement needs current - 0.05 > best.
    # e0 0.5 best; e1 0.54 wait 1; e2 0.6 best (0.55 > 0.5); e3 0.62 wait 1; e4 0.64 wait 2
    # -> stop at e4 (patience 2).
    early = cbks.EarlyStopping(monitor='score', mode='max', min_delta=0.05, patience=2)
    scores = (0.5, 0.54, 0.6, 0.62, 0.64, 1.0)
    _, epochs_run = run_epochs([early], [{'score': s} for s in scores])
    assert epochs_run == 5 and early.stopped_epoch == 4 and early.best == 0.6


def test_early_stopping_explicit_min_mode_for_an_acc_name():
    early = cbks.EarlyStopping(monitor='val_acc', mode='min', patience=1)
    _, epochs_run = run_epochs([early], [{'val_acc': a} for a in (0.5, 0.6, 0.7)])
    assert epochs_run == 2 and early.stopped_epoch == 1


def test_early_stopping_unknown_mode_warns_and_uses_auto():
    with pytest.warns(RuntimeWarning, match='EarlyStopping mode sideways is unknown'):
        early = cbks.EarlyStopping(monitor='val_acc', mode='sideways')
    assert early.monitor_op is np.greater


def test_early_stopping_baseline():
    # best starts at the baseline 0.5: e0 0.6 wait 1; e1 0.55 wait 2 -> stop at e1.
    early = cbks.EarlyStopping(baseline=0.5, patience=2)
    _, epochs_run = run_epochs([early], val_losses(0.6, 0.55, 0.4, 0.3))
    assert epochs_run == 2 and early.stopped_epoch == 1 and early.best == 0.5
    # Beating the baseline resets the wait: e0 wait 1; e1 0.4 best; e2 wait 1; e3 0.3 best.
    early = cbks.EarlyStopping(baseline=0.5, patience=2)
    _, epochs_run = run_epochs([early], val_losses(0.6, 0.4, 0.45, 0.3))
    assert epochs_run == 4 and early.best == 0.3


def test_early_stopping_at_the_first_epoch_is_reported(capsys):
    # Keras 2.2.4 printed nothing when stopped_epoch was 0; refkeras reports it.
    early = cbks.EarlyStopping(baseline=0.5, verbose=1)
    _, epochs_run = run_epochs([early], val_losses(0.6, 0.1))
    assert epochs_run == 1 and early.stopped_epoch == 0
    assert capsys.readouterr().out == 'Epoch 00001: early stopping\n'


def test_early_stopping_restore_best_weights(capsys):
    # Best at e1 (0.5); e2 and e3 do not improve -> stop at e3 with e1's weights.
    early = cbks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    model, epochs_run = run_epochs([early], val_losses(1.0, 0.5, 0.7, 0.8, 0.1))
    assert epochs_run == 4
    for restored, expected in zip(model.get_weights(), weights_of_epoch(1)):
        np.testing.assert_array_equal(restored, expected)
    assert capsys.readouterr().out == ('Restoring model weights from the end of the best epoch\n'
                                       'Epoch 00004: early stopping\n')


def test_early_stopping_restores_nothing_when_training_is_not_stopped():
    early = cbks.EarlyStopping(patience=2, restore_best_weights=True)
    model, epochs_run = run_epochs([early], val_losses(1.0, 0.5, 0.7))
    assert epochs_run == 3
    np.testing.assert_array_equal(model.get_weights()[0], weights_of_epoch(2)[0])


def test_early_stopping_restore_without_any_best_epoch_warns_and_keeps_weights():
    early = cbks.EarlyStopping(baseline=0.1, patience=1, restore_best_weights=True)
    with pytest.warns(RuntimeWarning, match='no epoch improved on the baseline'):
        model, epochs_run = run_epochs([early], val_losses(0.5, 0.4))
    assert epochs_run == 1
    np.testing.assert_array_equal(model.get_weights()[0], weights_of_epoch(0)[0])


def test_early_stopping_missing_key_warns_and_does_not_count():
    early = cbks.EarlyStopping(monitor='val_loss', patience=0)
    with pytest.warns(RuntimeWarning) as record:
        _, epochs_run = run_epochs([early], [{'loss': 1.0, 'acc': 0.5}] * 3)
    assert epochs_run == 3 and early.wait == 0
    assert str(record[0].message) == ('Early stopping conditioned on metric `val_loss` which is '
                                      'not available. Available metrics are: loss,acc')


def test_early_stopping_can_be_reused_for_another_fit():
    early = cbks.EarlyStopping(patience=1)
    run_epochs([early], val_losses(0.1, 0.2))
    assert early.stopped_epoch == 1
    _, epochs_run = run_epochs([early], val_losses(1.0, 0.9, 0.8))   # best restarts at +inf
    assert epochs_run == 3 and early.stopped_epoch == 0 and early.wait == 0


# -- ModelCheckpoint ---------------------------------------------------------

def test_model_checkpoint_file_names_from_the_format(tmp_path, capsys):
    pattern = str(tmp_path / 'weights.{epoch:02d}-{val_loss:.2f}.hdf5')
    checkpoint = cbks.ModelCheckpoint(pattern, verbose=1)
    model, _ = run_epochs([checkpoint], val_losses(0.5, 0.254, 1.0))
    names = [str(tmp_path / n) for n in
             ('weights.01-0.50.hdf5', 'weights.02-0.25.hdf5', 'weights.03-1.00.hdf5')]
    assert model.saved == [('model', name, True) for name in names]
    assert capsys.readouterr().out == ''.join(
        '\nEpoch %05d: saving model to %s\n' % (i + 1, name) for i, name in enumerate(names))


def test_model_checkpoint_any_log_key_and_weights_only(tmp_path):
    pattern = str(tmp_path / 'm-{epoch}-{acc:.3f}-{loss:.1f}.h5')
    checkpoint = cbks.ModelCheckpoint(pattern, save_weights_only=True)
    model, _ = run_epochs([checkpoint], [{'acc': 0.5, 'loss': 2.25, 'val_loss': 1.0}])
    assert model.saved == [('weights', str(tmp_path / 'm-1-0.500-2.2.h5'), True)]


def test_model_checkpoint_save_best_only(capsys):
    checkpoint = cbks.ModelCheckpoint('best-{epoch}.h5', save_best_only=True, verbose=1)
    # Improvements (below the best so far) at e0 (0.5) and e2 (0.25); e3 equals 0.25: no.
    model, _ = run_epochs([checkpoint], val_losses(0.5, 0.7, 0.25, 0.25))
    assert model.saved == [('model', 'best-1.h5', True), ('model', 'best-3.h5', True)]
    assert capsys.readouterr().out == (
        '\nEpoch 00001: val_loss improved from inf to 0.50000, saving model to best-1.h5\n'
        '\nEpoch 00002: val_loss did not improve from 0.50000\n'
        '\nEpoch 00003: val_loss improved from 0.50000 to 0.25000, saving model to best-3.h5\n'
        '\nEpoch 00004: val_loss did not improve from 0.25000\n')


def test_model_checkpoint_save_best_only_maximises_accuracy_in_auto_mode():
    checkpoint = cbks.ModelCheckpoint('acc-{epoch}.h5', monitor='val_acc', save_best_only=True)
    model, _ = run_epochs([checkpoint], [{'val_acc': a} for a in (0.5, 0.4, 0.75, 0.6)])
    assert [s[1] for s in model.saved] == ['acc-1.h5', 'acc-3.h5']
    checkpoint = cbks.ModelCheckpoint('f-{epoch}.h5', monitor='fmeasure', save_best_only=True)
    model, _ = run_epochs([checkpoint], [{'fmeasure': a} for a in (0.5, 0.75)])
    assert [s[1] for s in model.saved] == ['f-1.h5', 'f-2.h5']


def test_model_checkpoint_period():
    checkpoint = cbks.ModelCheckpoint('p-{epoch}.h5', period=2)
    model, _ = run_epochs([checkpoint], val_losses(5, 4, 3, 2, 1))
    assert [s[1] for s in model.saved] == ['p-2.h5', 'p-4.h5']


def test_model_checkpoint_period_with_save_best_only():
    # Checked only at epochs 3 and 6 (1-based): 0.9 at e3 is the best seen then; 0.95 at e6 is not.
    checkpoint = cbks.ModelCheckpoint('b-{epoch}.h5', period=3, save_best_only=True)
    model, _ = run_epochs([checkpoint], val_losses(0.1, 0.2, 0.9, 0.1, 0.1, 0.95))
    assert [s[1] for s in model.saved] == ['b-3.h5']


def test_model_checkpoint_missing_monitor_warns_and_skips():
    checkpoint = cbks.ModelCheckpoint('x.h5', save_best_only=True)
    with pytest.warns(RuntimeWarning, match='Can save best model only with val_loss available'):
        model, _ = run_epochs([checkpoint], [{'loss': 0.5}])
    assert model.saved == []


def test_model_checkpoint_lets_save_errors_propagate():
    class ModelWithoutSaving(FakeModel):
        def save(self, filepath, overwrite=True):
            raise NotImplementedError('saving is not written yet')

    with pytest.raises(NotImplementedError, match='saving is not written yet'):
        run_epochs([cbks.ModelCheckpoint('x.h5')], val_losses(0.5), model=ModelWithoutSaving())


def test_model_checkpoint_unknown_format_field_is_explained():
    checkpoint = cbks.ModelCheckpoint('w-{val_acc:.2f}.h5')
    with pytest.raises(KeyError, match='val_acc'):
        run_epochs([checkpoint], val_losses(0.5))


# -- LearningRateScheduler ---------------------------------------------------

def lr_of(model):
    return float(K.get_value(model.optimizer.lr))


def test_lr_scheduler_one_argument_schedule(capsys):
    seen = []
    record = cbks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(lr_of(model)))
    model = FakeModel(lr=1.0)
    scheduler = cbks.LearningRateScheduler(lambda epoch: 0.5 ** epoch * 0.75, verbose=1)
    history = cbks.History()
    run_epochs([scheduler, record, history], [{}, {}, {}], model=model)
    assert seen == [0.75, 0.375, 0.1875]
    assert history.history['lr'] == [0.75, 0.375, 0.1875]
    assert capsys.readouterr().out == ''.join(
        '\nEpoch %05d: LearningRateScheduler setting learning rate to %s.\n' % (e + 1, lr)
        for e, lr in enumerate(['0.75', '0.375', '0.1875']))


def test_lr_scheduler_two_argument_schedule_gets_the_current_rate():
    calls = []

    def halve(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5

    model = FakeModel(lr=1.0)
    run_epochs([cbks.LearningRateScheduler(halve)], [{}, {}, {}], model=model)
    assert calls == [(0, 1.0), (1, 0.5), (2, 0.25)]
    assert lr_of(model) == 0.125


def test_lr_scheduler_type_error_inside_the_schedule_propagates():
    def broken(epoch, lr):
        return lr + 'oops'

    with pytest.raises(TypeError, match='str'):
        run_epochs([cbks.LearningRateScheduler(broken)], [{}])


@pytest.mark.parametrize('result', [1, '0.1', None, np.array([0.1])])
def test_lr_scheduler_rejects_a_non_float_rate(result):
    model = FakeModel(lr=0.5)
    with pytest.raises(ValueError, match='should be float'):
        run_epochs([cbks.LearningRateScheduler(lambda epoch: result)], [{}], model=model)
    assert lr_of(model) == 0.5


def test_lr_scheduler_accepts_numpy_floats():
    model = FakeModel(lr=0.5)
    run_epochs([cbks.LearningRateScheduler(lambda epoch: np.float32(0.25))], [{}], model=model)
    assert lr_of(model) == 0.25


def test_lr_scheduler_needs_an_optimizer_with_lr():
    model = FakeModel()
    model.optimizer = object()
    with pytest.raises(ValueError, match='"lr" attribute'):
        run_epochs([cbks.LearningRateScheduler(lambda epoch: 0.1)], [{}], model=model)


# -- ReduceLROnPlateau -------------------------------------------------------

def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr(capsys):
    # val_loss never improves after e0. factor 0.5, patience 1, cooldown 2, min_lr 0.1.
    # Hand count (cooldown counter c, wait w, lr after the epoch):
    # e0 best=1.0                          lr 1.0
    # e1 w=1 -> reduce, c=2                lr 0.5
    # e2 c=1 (still cooling down)          lr 0.5
    # e3 c=0, w=1 -> reduce, c=2           lr 0.25
    # e4 c=1                               lr 0.25
    # e5 c=0, w=1 -> reduce                lr 0.125
    # e6 c=1                               lr 0.125
    # e7 c=0, w=1 -> max(0.0625, 0.1)      lr 0.1
    # e8 c=1                               lr 0.1
    model = FakeModel(lr=1.0)
    reduce = cbks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.1, verbose=1)
    after = []
    record = cbks.LambdaCallback(on_epoch_end=lambda epoch, logs: after.append(lr_of(model)))
    history = cbks.History()
    run_epochs([reduce, record, history], val_losses(*[1.0] * 9), model=model)
    assert after == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, float(np.float32(0.1)),
                     float(np.float32(0.1))]
    # The logged rate is the one the epoch trained with.
    assert [float(v) for v in history.history['lr']] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25,
                                                         0.125, 0.125, float(np.float32(0.1))]
    assert capsys.readouterr().out == ''.join(
        '\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s.\n' % (e, lr)
        for e, lr in [(2, '0.5'), (4, '0.25'), (6, '0.125'), (8, '0.1')])


def test_reduce_lr_on_plateau_improvements_and_min_delta():
    # patience 2, min_delta 0.1: improvement needs current < best - 0.1.
    # e0 1.0 best; e1 0.95 w1; e2 0.85 best (0.85 < 0.9); e3 0.8 w1; e4 0.78 w2 -> reduce;
    # e5 0.5 best; e6 0.45 w1.
    model = FakeModel(lr=1.0)
    reduce = cbks.ReduceLROnPlateau(factor=0.25, patience=2, min_delta=0.1)
    run_epochs([reduce], val_losses(1.0, 0.95, 0.85, 0.8, 0.78, 0.5, 0.45), model=model)
    assert lr_of(model) == 0.25 and reduce.best == 0.5 and reduce.wait == 1


def test_reduce_lr_on_plateau_maximises_accuracy():
    # auto mode, 'acc' in the name: max. e0 0.5 best; e1 0.5 w1 -> reduce (patience 1);
    # e2 0.7 best; e3 0.6 w1 -> reduce.
    model = FakeModel(lr=1.0)
    reduce = cbks.ReduceLROnPlateau(monitor='val_acc', factor=0.5, patience=1)
    run_epochs([reduce], [{'val_acc': a} for a in (0.5, 0.5, 0.7, 0.6)], model=model)
    assert lr_of(model) == 0.25


def test_reduce_lr_on_plateau_stays_at_min_lr():
    model = FakeModel(lr=0.5)
    reduce = cbks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.5)
    run_epochs([reduce], val_losses(1.0, 1.0, 1.0), model=model)
    assert lr_of(model) == 0.5


def test_reduce_lr_on_plateau_arguments():
    with pytest.raises(ValueError, match='factor >= 1.0'):
        cbks.ReduceLROnPlateau(factor=1.0)
    with pytest.warns(UserWarning, match='`epsilon` argument is deprecated'):
        reduce = cbks.ReduceLROnPlateau(epsilon=0.25)
    assert reduce.min_delta == 0.25
    with pytest.raises(TypeError, match='patiense'):
        cbks.ReduceLROnPlateau(patiense=3)
    with pytest.warns(RuntimeWarning, match='mode up is unknown'):
        reduce = cbks.ReduceLROnPlateau(mode='up')
    assert reduce.mode == 'auto'


def test_reduce_lr_on_plateau_missing_key_warns():
    model = FakeModel(lr=1.0)
    reduce = cbks.ReduceLROnPlateau(patience=0)
    with pytest.warns(RuntimeWarning, match='Reduce LR on plateau conditioned on metric'):
        run_epochs([reduce], [{'loss': 1.0}] * 2, model=model)
    assert lr_of(model) == 1.0


# -- CSVLogger ---------------------------------------------------------------

def read_csv(path, separator=','):
    with open(path, newline='') as f:
        return list(csv.reader(f, delimiter=separator))


EPOCH_LOGS = [{'loss': 1.5, 'acc': 0.25, 'val_loss': 2.0},
              {'loss': 0.75, 'acc': 0.5, 'val_loss': 1.0}]


def test_csv_logger_writes_a_header_and_a_row_per_epoch(tmp_path):
    path = str(tmp_path / 'log.csv')
    run_epochs([cbks.CSVLogger(path)], EPOCH_LOGS)
    assert read_csv(path) == [['epoch', 'acc', 'loss', 'val_loss'],
                              ['0', '0.25', '1.5', '2.0'],
                              ['1', '0.5', '0.75', '1.0']]
    with open(path, 'rb') as f:
        assert f.read().count(b'\r\n') == 3   # the csv module's excel line ends


def test_csv_logger_separator(tmp_path):
    path = str(tmp_path / 'log.tsv')
    run_epochs([cbks.CSVLogger(path, separator='\t')], EPOCH_LOGS[:1])
    with open(path) as f:
        assert f.readline() == 'epoch\tacc\tloss\tval_loss\n'
    assert read_csv(path, '\t')[1] == ['0', '0.25', '1.5', '2.0']


def test_csv_logger_append_and_overwrite(tmp_path):
    path = str(tmp_path / 'log.csv')
    run_epochs([cbks.CSVLogger(path, separator=';')], EPOCH_LOGS[:1])
    run_epochs([cbks.CSVLogger(path, separator=';', append=True)], EPOCH_LOGS[1:])
    assert read_csv(path, ';') == [['epoch', 'acc', 'loss', 'val_loss'],
                                   ['0', '0.25', '1.5', '2.0'],
                                   ['0', '0.5', '0.75', '1.0']]
    run_epochs([cbks.CSVLogger(path, separator=';')], EPOCH_LOGS[1:])
    assert read_csv(path, ';') == [['epoch', 'acc', 'loss', 'val_loss'],
                                   ['0', '0.5', '0.75', '1.0']]


def test_csv_logger_append_to_an_empty_or_missing_file_writes_the_header(tmp_path):
    path = tmp_path / 'empty.csv'
    path.write_text('')
    run_epochs([cbks.CSVLogger(str(path), append=True)], EPOCH_LOGS[:1])
    assert read_csv(str(path))[0] == ['epoch', 'acc', 'loss', 'val_loss']
    missing = str(tmp_path / 'new.csv')
    run_epochs([cbks.CSVLogger(missing, append=True)], EPOCH_LOGS[:1])
    assert read_csv(missing)[0] == ['epoch', 'acc', 'loss', 'val_loss']


def test_csv_logger_values_numpy_lists_and_missing_keys(tmp_path):
    path = str(tmp_path / 'log.csv')
    logs = [{'loss': np.float32(0.5), 'lr': np.array(0.125, dtype='float32'),
             'per_class': np.array([1, 2]), 'val_loss': 1.0},
            {'loss': 0.25, 'lr': 0.0625, 'per_class': [3, 4]}]   # no val_loss
    run_epochs([cbks.CSVLogger(path)], logs)
    assert read_csv(path) == [['epoch', 'loss', 'lr', 'per_class', 'val_loss'],
                              ['0', '0.5', '0.125', '[1, 2]', '1.0'],
                              ['1', '0.25', '0.0625', '[3, 4]', 'NA']]


def test_csv_logger_row_of_a_stopped_epoch(tmp_path):
    path = str(tmp_path / 'log.csv')
    early = cbks.EarlyStopping(patience=0)
    run_epochs([early, cbks.CSVLogger(path)], val_losses(1.0, 2.0, 0.5))
    assert read_csv(path) == [['epoch', 'val_loss'], ['0', '1.0'], ['1', '2.0']]


# -- ProgbarLogger -----------------------------------------------------------

class FakeStdout(object):
    """A non-TTY stdout that records what is written (a context manager)."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def __enter__(self):
        self._saved = sys.stdout
        sys.stdout = self
        return self

    def __exit__(self, *exc_info):
        sys.stdout = self._saved

    @property
    def text(self):
        return ''.join(self.parts)


class Clock(object):
    t = 1000.0


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progbar_module, '_now', lambda: fake.t)
    monkeypatch.delitem(sys.modules, 'ipykernel', raising=False)
    return fake


# 100 samples in batches of 32: 32, 32, 32, 4.
SIZES = [32, 32, 32, 4]
LOSSES = [1.0, 0.5, 0.25, 2.0]
ACCS = [0.25, 0.75, 0.5, 1.0]
METRICS = ['loss', 'acc', 'val_loss', 'val_acc']


def drive_progbar_logger(logger, clock, verbose, epochs=1, batch_times=None):
    """One or more epochs of the 100-sample data set through BaseLogger + ProgbarLogger."""
    params = {'batch_size': 32, 'epochs': epochs, 'steps': 4, 'samples': 100,
              'verbose': verbose, 'do_validation': True, 'metrics': METRICS}
    callback_list = cbks.CallbackList([cbks.BaseLogger(), logger])
    callback_list.set_model(FakeModel())
    callback_list.set_params(params)
    callback_list.on_train_begin()
    for epoch in range(epochs):
        clock.t = 1000.0
        callback_list.on_epoch_begin(epoch)
        for index, (size, loss, acc) in enumerate(zip(SIZES, LOSSES, ACCS)):
            callback_list.on_batch_begin(index, {'batch': index, 'size': size})
            if batch_times:
                clock.t = batch_times[index]
            callback_list.on_batch_end(index, {'batch': index, 'size': size,
                                               'loss': loss, 'acc': acc})
        clock.t = 1001.0
        logs = {'val_loss': 0.7, 'val_acc': 0.4}
        callback_list.on_epoch_end(epoch, logs)
    callback_list.on_train_end()
    return logs


def test_progbar_logger_verbose_1_samples(clock):
    with FakeStdout() as out:
        logs = drive_progbar_logger(cbks.ProgbarLogger(), clock, verbose=1,
                                    batch_times=[1000.25, 1000.5, 1000.75, 1000.875])
    # Hand computation. Filled cells: int(30 * 32/100) = 9, int(30 * 64/100) = 19,
    # int(30 * 96/100) = 28. Running weighted means:
    #   after 32: loss 1, acc 0.25; after 64: loss 48/64 = 0.75, acc 32/64 = 0.5;
    #   after 96: loss 56/96 = 0.58333, acc 48/96 = 0.5;
    #   after 100 (the last batch is drawn at the epoch end): loss 64/100, acc 52/100.
    # Final time: 1 s / 100 samples = 10 ms per sample.
    expected = (
        'Epoch 1/1\n'
        '\n 32/100 [' + '=' * 8 + '>' + '.' * 21 + '] - ETA: 0s - loss: 1.0000 - acc: 0.2500'
        '\n 64/100 [' + '=' * 18 + '>' + '.' * 11 + '] - ETA: 0s - loss: 0.7500 - acc: 0.5000'
        '\n 96/100 [' + '=' * 27 + '>' + '.' * 2 + '] - ETA: 0s - loss: 0.5833 - acc: 0.5000'
        '\n100/100 [' + '=' * 30 + '] - 1s 10ms/step - loss: 0.6400 - acc: 0.5200'
        ' - val_loss: 0.7000 - val_acc: 0.4000\n')
    assert out.text == expected
    # The final line agrees with the epoch averages BaseLogger put in the logs.
    assert logs['loss'] == pytest.approx(0.64) and logs['acc'] == pytest.approx(0.52)


def test_progbar_logger_verbose_2_samples_prints_one_line_per_epoch(clock):
    with FakeStdout() as out:
        drive_progbar_logger(cbks.ProgbarLogger(), clock, verbose=2, epochs=2)
    line = ' - 1s - loss: 0.6400 - acc: 0.5200 - val_loss: 0.7000 - val_acc: 0.4000\n'
    assert out.text == 'Epoch 1/2\n' + line + 'Epoch 2/2\n' + line


def test_progbar_logger_steps_mode_averages_per_batch(clock):
    with FakeStdout() as out:
        drive_progbar_logger(cbks.ProgbarLogger(count_mode='steps'), clock, verbose=2)
    # Each batch counts as one step: loss (1 + 0.5 + 0.25 + 2) / 4, acc (0.25 + 0.75 + 0.5 + 1) / 4.
    assert out.text == ('Epoch 1/1\n - 1s - loss: 0.9375 - acc: 0.6250'
                        ' - val_loss: 0.7000 - val_acc: 0.4000\n')


def test_progbar_logger_steps_mode_verbose_1(clock):
    with FakeStdout() as out:
        drive_progbar_logger(cbks.ProgbarLogger(count_mode='steps'), clock, verbose=1,
                             batch_times=[1000.25, 1000.5, 1000.75, 1000.875])
    # Steps 1..3 of 4: int(30 * k / 4) = 7, 15, 22 cells; ETA 0.25 s per step * (4 - k).
    # Means per step: loss 1, 0.75, 0.58333; acc 0.25, 0.5, 0.5; the end: 0.9375, 0.625.
    assert out.text == (
        'Epoch 1/1\n'
        '\n1/4 [' + '=' * 6 + '>' + '.' * 23 + '] - ETA: 0s - loss: 1.0000 - acc: 0.2500'
        '\n2/4 [' + '=' * 14 + '>' + '.' * 15 + '] - ETA: 0s - loss: 0.7500 - acc: 0.5000'
        '\n3/4 [' + '=' * 21 + '>' + '.' * 8 + '] - ETA: 0s - loss: 0.5833 - acc: 0.5000'
        '\n4/4 [' + '=' * 30 + '] - 1s 250ms/step - loss: 0.9375 - acc: 0.6250'
        ' - val_loss: 0.7000 - val_acc: 0.4000\n')


def test_progbar_logger_verbose_0_prints_nothing(clock):
    with FakeStdout() as out:
        drive_progbar_logger(cbks.ProgbarLogger(), clock, verbose=0)
    assert out.text == ''


def test_progbar_logger_rejects_an_unknown_count_mode():
    with pytest.raises(ValueError, match="'samples' or 'steps'"):
        cbks.ProgbarLogger(count_mode='batches')


def test_callback_list_warns_about_slow_batch_hooks(monkeypatch):
    # Batch hooks taking 0.5 s while the batch itself took 0.2 s.
    times = iter([0.0, 0.5, 0.5,          # on_batch_begin: before, after, enter batch
                  0.7, 0.7, 1.2])         # on_batch_end: batch end (0.2 s), before, after
    monkeypatch.setattr(cbks.time, 'time', lambda: next(times))
    callback_list = cbks.CallbackList([cbks.Callback()])
    callback_list.on_epoch_begin(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        callback_list.on_batch_begin(0)
        callback_list.on_batch_end(0)
    messages = [str(w.message) for w in caught]
    assert messages == ['Method on_batch_end() is slow compared to the batch update '
                        '(0.500000). Check your callbacks.']
