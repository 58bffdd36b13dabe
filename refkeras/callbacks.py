"""Callbacks: objects called at fixed points of training.

`fit` calls every callback's hooks in this order:

    on_train_begin
    for each epoch:   on_epoch_begin
        for each batch:   on_batch_begin (logs: batch, size)
                          on_batch_end   (logs: batch, size, loss, metrics)
                      on_epoch_end (logs: val_* keys; BaseLogger adds the
                                    epoch averages of loss and metrics)
    on_train_end

Keras 2.2.4's `fit` calls `BaseLogger` first, then `ProgbarLogger` (when
`verbose` is set), then the user's callbacks, and `History` last.

A callback reaches the model through `self.model` (`stop_training`, `save`,
`save_weights`, `get_weights`, `set_weights`, `optimizer.lr`) and the training
parameters through `self.params` (`batch_size`, `epochs`, `steps`, `samples`,
`verbose`, `do_validation`, `metrics`).

FAQ answers implemented here: "Why is the training loss much higher than the
testing loss?" (`BaseLogger`), "How can I interrupt training when the
validation loss isn't decreasing anymore?" (`EarlyStopping`), "How can I
record the training / validation loss / accuracy at each epoch?" (`History`).

Differences from Keras 2.2.4, on purpose (each fixes a Keras 2.2.4 bug):
- `ProgbarLogger`: Keras fed the last batch's loss and metrics to
  the bar twice at the end of an epoch (once from the batch, once as the epoch
  average), so the final line did not show the epoch average. Here the epoch
  logs only add the keys the batches did not report (the `val_*` values), so
  in 'samples' mode the final line shows the same numbers as `History`.
- `EarlyStopping(restore_best_weights=True)` does not crash when no epoch
  improved on `baseline` (Keras called `set_weights(None)`): it warns and
  keeps the last weights. "Epoch %05d: early stopping" is printed also when
  training stops at the first epoch (Keras tested `stopped_epoch > 0`).
- `LearningRateScheduler` tells `schedule(epoch)` from `schedule(epoch, lr)`
  by its signature, so a `TypeError` raised inside the schedule is no longer
  mistaken for the one-argument form.
- `CSVLogger` writes list values as `[1, 2]` (quoted by the csv module only
  when needed) instead of Keras's doubly quoted `"[1, 2]"`, and writes `NA`
  for a key missing from an epoch's logs instead of raising `KeyError`.
- `ModelCheckpoint` explains a `filepath` placeholder that names no log key.
- `ReduceLROnPlateau` rejects unknown keyword arguments instead of ignoring them.
- `CallbackList` passes the caller's (possibly empty) logs dict itself to the
  callbacks, rather than a fresh dict when it is empty.
"""
import csv
import inspect
import os
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Iterable

import numpy as np

from refkeras import backend as K
from refkeras.distributed import state as distributed_state
from refkeras.utils.progbar import Progbar


class CallbackList(object):
    """A list of callbacks called together.

    It also warns when the callbacks' batch hooks take longer than the batch
    itself (median over the last `queue_length` batches, above 0.1 s).

    # Arguments
        callbacks: list of `Callback` instances.
        queue_length: how many recent batch-hook durations the median uses.
    """

    def __init__(self, callbacks=None, queue_length=10):
        self.callbacks = list(callbacks or [])
        self.queue_length = queue_length
        self._reset_timing()

    def _reset_timing(self):
        self._delta_t_batch = 0.
        self._delta_ts_batch_begin = deque([], maxlen=self.queue_length)
        self._delta_ts_batch_end = deque([], maxlen=self.queue_length)
        self._t_enter_batch = None

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        for callback in self.callbacks:
            callback.set_model(model)

    def on_epoch_begin(self, epoch, logs=None):
        """Calls `on_epoch_begin(epoch, logs)` of every callback."""
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)
        self._reset_timing()

    def on_epoch_end(self, epoch, logs=None):
        """Calls `on_epoch_end(epoch, logs)` of every callback."""
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        """Calls `on_batch_begin(batch, logs)` of every callback."""
        logs = {} if logs is None else logs
        started = time.time()
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)
        self._delta_ts_batch_begin.append(time.time() - started)
        self._warn_if_slow('on_batch_begin', self._delta_ts_batch_begin)
        self._t_enter_batch = time.time()

    def on_batch_end(self, batch, logs=None):
        """Calls `on_batch_end(batch, logs)` of every callback."""
        logs = {} if logs is None else logs
        if self._t_enter_batch is None:
            self._t_enter_batch = time.time()
        self._delta_t_batch = time.time() - self._t_enter_batch
        started = time.time()
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)
        self._delta_ts_batch_end.append(time.time() - started)
        self._warn_if_slow('on_batch_end', self._delta_ts_batch_end)

    def _warn_if_slow(self, hook, durations):
        median = np.median(durations)
        if self._delta_t_batch > 0. and median > 0.95 * self._delta_t_batch and median > 0.1:
            warnings.warn('Method %s() is slow compared to the batch update (%f). '
                          'Check your callbacks.' % (hook, median))

    def on_train_begin(self, logs=None):
        """Calls `on_train_begin(logs)` of every callback."""
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        """Calls `on_train_end(logs)` of every callback."""
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


class Callback(object):
    """Base class of callbacks: every hook does nothing.

    # Properties
        params: dict of training parameters (`batch_size`, `epochs`, `steps`,
            `samples`, `verbose`, `do_validation`, `metrics`).
        model: the model being trained.

    The `logs` dict given to the hooks holds, in `fit`:
    `on_batch_begin`: `batch` and `size` (the number of samples in the batch);
    `on_batch_end`: also `loss` and the metrics (e.g. `acc`);
    `on_epoch_end`: `loss`, the metrics and, with validation, `val_loss`,
    `val_acc`, ...
    """

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params = {}

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


def _direction(mode, monitor, callback_name, fmeasure_is_max=False):
    """'min' or 'max' for `mode` ('auto' guesses from the monitored name).

    An unknown mode warns and falls back to 'auto', as in Keras 2.2.4.

    # Arguments
        mode: 'auto', 'min' or 'max'.
        monitor: the monitored quantity's name ('auto': 'max' for accuracies).
        callback_name: for the warning.
        fmeasure_is_max: whether names starting with 'fmeasure' count as
            accuracies (as ModelCheckpoint and EarlyStopping do).

    # Returns
        'min' or 'max'.
    """
    if mode not in ('auto', 'min', 'max'):
        warnings.warn('%s mode %s is unknown, fallback to auto mode.' % (callback_name, mode),
                      RuntimeWarning)
        mode = 'auto'
    if mode != 'auto':
        return mode
    if 'acc' in monitor or (fmeasure_is_max and monitor.startswith('fmeasure')):
        return 'max'
    return 'min'


def _missing_metric_warning(callback_text, monitor, logs):
    warnings.warn('%s conditioned on metric `%s` which is not available. '
                  'Available metrics are: %s' % (callback_text, monitor, ','.join(logs.keys())),
                  RuntimeWarning)


class BaseLogger(Callback):
    """Turns per-batch logs into epoch averages, weighted by batch size.

    This is why the training loss of an epoch is "the average of the losses
    over each batch of training data" (FAQ: "Why is the training loss much
    higher than the testing loss?"): at `on_epoch_end` every key of
    `params['metrics']` seen in the batches gets
    `sum(value_b * size_b) / sum(size_b)` over the epoch's batches `b`.
    Every Keras model applies it in `fit`.

    # Arguments
        stateful_metrics: iterable of metric names not to average: their
            last batch value is logged as it is.
    """

    def __init__(self, stateful_metrics=None):
        super(BaseLogger, self).__init__()
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self.seen = 0
        self.totals = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        batch_size = logs.get('size', 0)
        self.seen += batch_size
        for key, value in logs.items():
            if key in self.stateful_metrics:
                self.totals[key] = value
            elif key in self.totals:
                self.totals[key] += value * batch_size
            else:
                self.totals[key] = value * batch_size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for key in self.params.get('metrics', []):
            if key not in self.totals:
                continue
            if key in self.stateful_metrics:
                logs[key] = self.totals[key]
            else:
                logs[key] = self.totals[key] / self.seen


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get('loss')
        if loss is not None and not np.all(np.isfinite(loss)):
            print('Batch %d: Invalid loss, terminating training' % batch)
            self.model.stop_training = True


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a `Progbar` of each epoch to stdout.

    With `params['verbose'] == 1` the bar is redrawn after every batch; with
    2, one line is printed at the end of each epoch.

    # Arguments
        count_mode: 'samples' (the bar counts samples; target
            `params['samples']`) or 'steps' (it counts batches; target
            `params['steps']`).
        stateful_metrics: iterable of metric names shown as their latest
            value instead of averaged.

    # Raises
        ValueError: for an unknown `count_mode`.
    """

    def __init__(self, count_mode='samples', stateful_metrics=None):
        super(ProgbarLogger, self).__init__()
        if count_mode == 'samples':
            self.use_steps = False
        elif count_mode == 'steps':
            self.use_steps = True
        else:
            raise ValueError("ProgbarLogger: `count_mode` must be 'samples' or 'steps'; "
                             "received %r." % (count_mode,))
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self.verbose = 0
        self.epochs = None
        self.target = None
        self.seen = 0
        self.log_values = []
        self.progbar = None

    def on_train_begin(self, logs=None):
        self.verbose = self.params['verbose']
        self.epochs = self.params['epochs']

    def on_epoch_begin(self, epoch, logs=None):
        self.target = self.params['steps'] if self.use_steps else self.params['samples']
        if self.verbose:
            print('Epoch %d/%d' % (epoch + 1, self.epochs))
            self.progbar = Progbar(target=self.target, verbose=self.verbose,
                                   stateful_metrics=self.stateful_metrics)
        self.seen = 0
        self.log_values = []

    def on_batch_begin(self, batch, logs=None):
        self.log_values = []

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.seen += 1 if self.use_steps else logs.get('size', 0)
        for key in self.params['metrics']:
            if key in logs:
                self.log_values.append((key, logs[key]))
        # The epoch's last batch is drawn by on_epoch_end, with the val_* values.
        if self.verbose and (self.target is None or self.seen < self.target):
            self.progbar.update(self.seen, self.log_values)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        reported = set(key for key, _ in self.log_values)
        for key in self.params['metrics']:
            if key in logs and key not in reported:
                self.log_values.append((key, logs[key]))
                if self.progbar is not None:
                    # One value per epoch (e.g. val_loss): shown as it is.
                    self.progbar.stateful_metrics.add(key)
        if self.verbose:
            self.progbar.update(self.seen, self.log_values)


class History(Callback):
    """Records the epoch logs; `fit` returns it.

    FAQ: "How can I record the training / validation loss / accuracy at each
    epoch?": `history.history` maps each log key (`loss`, `acc`, `val_loss`,
    `val_acc`, ...) to the list of its values, one per epoch; `history.epoch`
    lists the epoch indices (from 0); `history.params` holds the training
    parameters.
    """

    def __init__(self):
        super(History, self).__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at the end of epochs.

    `filepath` may contain `str.format` fields: `{epoch}` (numbered from 1)
    and any key of the epoch logs, e.g. `weights.{epoch:02d}-{val_loss:.2f}.hdf5`.

    # Arguments
        filepath: path of the file to write, possibly with format fields.
        monitor: the log key compared when `save_best_only` is True.
        verbose: 0 (quiet) or 1 (a message per checkpoint).
        save_best_only: save only when `monitor` improves on the best value
            seen so far.
        save_weights_only: call `model.save_weights(path, overwrite=True)`
            instead of `model.save(path, overwrite=True)`.
        mode: 'min', 'max' or 'auto' (max when `monitor` contains 'acc' or
            starts with 'fmeasure', else min).
        period: number of epochs between checkpoints.

    # Raises
        KeyError: at a checkpoint, when `filepath` names a key absent from the logs.
    """

    def __init__(self, filepath, monitor='val_loss', verbose=0,
                 save_best_only=False, save_weights_only=False,
                 mode='auto', period=1):
        super(ModelCheckpoint, self).__init__()
        self.monitor = monitor
        self.verbose = verbose
        self.filepath = filepath
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.period = period
        self.epochs_since_last_save = 0
        if _direction(mode, monitor, 'ModelCheckpoint', fmeasure_is_max=True) == 'max':
            self.monitor_op = np.greater
            self.best = -np.inf
        else:
            self.monitor_op = np.less
            self.best = np.inf

    def _format_filepath(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise KeyError('ModelCheckpoint: `filepath` %r uses the field {%s}, which is '
                           'neither `epoch` nor a key of the epoch logs (%s).'
                           % (self.filepath, error.args[0], ', '.join(sorted(logs))))

    def _save(self, filepath):
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def on_epoch_end(self, epoch, logs=None):
        if not distributed_state.is_root():
            return  # in a distributed job only rank 0 writes (docs/distributed.md)
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        filepath = self._format_filepath(epoch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                print('\nEpoch %05d: saving model to %s' % (epoch + 1, filepath))
            self._save(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn('Can save best model only with %s available, skipping.'
                          % self.monitor, RuntimeWarning)
        elif self.monitor_op(current, self.best):
            if self.verbose > 0:
                print('\nEpoch %05d: %s improved from %0.5f to %0.5f, saving model to %s'
                      % (epoch + 1, self.monitor, self.best, current, filepath))
            self.best = current
            self._save(filepath)
        elif self.verbose > 0:
            print('\nEpoch %05d: %s did not improve from %0.5f'
                  % (epoch + 1, self.monitor, self.best))


class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    FAQ: "How can I interrupt training when the validation loss isn't
    decreasing anymore?": `EarlyStopping(monitor='val_loss', patience=2)`.

    At each epoch end, `current` improves when `current - min_delta > best`
    (max mode) or `current + min_delta < best` (min mode); then `best` becomes
    `current` and `wait` goes back to 0. Otherwise `wait` grows by one, and
    when it reaches `patience` training stops (`model.stop_training = True`,
    `stopped_epoch` is that epoch's index). `best` starts at `baseline`, or
    at +inf (min) / -inf (max).

    # Arguments
        monitor: the log key to watch.
        min_delta: the smallest change that counts as an improvement.
        patience: number of epochs without improvement after which training
            stops.
        verbose: 0 or 1 (print "Epoch %05d: early stopping" at the end).
        mode: 'min', 'max' or 'auto' (max when `monitor` contains 'acc').
        baseline: a value the monitored quantity must improve on.
        restore_best_weights: when training stops, set the model's weights
            back to those of the best epoch.
    """

    def __init__(self, monitor='val_loss', min_delta=0, patience=0, verbose=0,
                 mode='auto', baseline=None, restore_best_weights=False):
        super(EarlyStopping, self).__init__()
        self.monitor = monitor
        self.baseline = baseline
        self.patience = patience
        self.verbose = verbose
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = 0
        self._stopped = False
        if _direction(mode, monitor, 'EarlyStopping') == 'max':
            self.monitor_op = np.greater
            self.min_delta = min_delta
        else:
            self.monitor_op = np.less
            self.min_delta = -min_delta
        self.best = self._initial_best()

    def _initial_best(self):
        if self.baseline is not None:
            return self.baseline
        return np.inf if self.monitor_op is np.less else -np.inf

    def on_train_begin(self, logs=None):
        # A callback may be reused for several `fit` calls.
        self.wait = 0
        self.stopped_epoch = 0
        self._stopped = False
        self.best = self._initial_best()

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            _missing_metric_warning('Early stopping', self.monitor, logs)
        return value

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self._stopped = True
            self.model.stop_training = True
            if self.restore_best_weights:
                if self.best_weights is None:
                    warnings.warn('EarlyStopping: no epoch improved on the baseline %r; '
                                  'keeping the weights of the last epoch.' % (self.baseline,),
                                  RuntimeWarning)
                else:
                    if self.verbose > 0:
                        print('Restoring model weights from the end of the best epoch')
                    self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self._stopped and self.verbose > 0:
            print('Epoch %05d: early stopping' % (self.stopped_epoch + 1))


# Implemented in its own module (Python's HTTP client).
from refkeras.callbacks_remote import RemoteMonitor  # noqa: E402,F401


def _takes_learning_rate(schedule):
    """Whether `schedule` accepts `(epoch, lr)`; None when its signature is unknown.

    # Arguments
        schedule: the LearningRateScheduler's function.

    # Returns
        True, False or None.
    """
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(0, 0.0)
    except TypeError:
        return False
    return True


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of every epoch.

    # Arguments
        schedule: `schedule(epoch, lr)` or `schedule(epoch)` -> the new
            learning rate, a float (`epoch` counts from 0, `lr` is the
            current rate).
        verbose: 0 (quiet) or 1 (a message per epoch).

    # Raises
        ValueError: at an epoch start, if the optimizer has no `lr` attribute
            or the schedule returns something other than a float.
    """

    def __init__(self, schedule, verbose=0):
        super(LearningRateScheduler, self).__init__()
        if not callable(schedule):
            raise ValueError('LearningRateScheduler: `schedule` must be callable; received %r.'
                             % (schedule,))
        self.schedule = schedule
        self.verbose = verbose

    def _call_schedule(self, epoch, lr):
        takes_lr = _takes_learning_rate(self.schedule)
        if takes_lr is None:
            try:
                return self.schedule(epoch, lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, lr) if takes_lr else self.schedule(epoch)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, 'optimizer', None)
        if not hasattr(optimizer, 'lr'):
            raise ValueError('LearningRateScheduler: the optimizer must have a "lr" attribute; '
                             '%r has none.' % (optimizer,))
        lr = float(K.get_value(optimizer.lr))
        new_lr = self._call_schedule(epoch, lr)
        if not isinstance(new_lr, (float, np.floating)):
            raise ValueError('LearningRateScheduler: the output of the "schedule" function '
                             'should be float; received %r of type %s at epoch %d.'
                             % (new_lr, type(new_lr).__name__, epoch))
        K.set_value(optimizer.lr, new_lr)
        if self.verbose > 0:
            print('\nEpoch %05d: LearningRateScheduler setting learning rate to %s.'
                  % (epoch + 1, new_lr))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs['lr'] = K.get_value(self.model.optimizer.lr)[()]


# Implemented in its own module (event files written with tensorboardX).
from refkeras.callbacks_tensorboard import TensorBoard  # noqa: E402,F401


class ReduceLROnPlateau(Callback):
    """Reduces the learning rate when a metric has stopped improving.

    At each epoch end: during a cooldown, the cooldown counter goes down by
    one and `wait` is reset. Then, if `current` beats `best` by more than
    `min_delta`, `best` becomes `current` and `wait` is reset; otherwise, when
    no longer in cooldown, `wait` grows by one, and when it reaches `patience`
    the rate becomes `max(lr * factor, min_lr)` (if `lr > min_lr`), the
    cooldown starts (`cooldown` epochs) and `wait` is reset. The rate is also
    logged under `lr`.

    # Arguments
        monitor: the log key to watch.
        factor: new_lr = lr * factor; must be < 1.
        patience: epochs without improvement before the rate is reduced.
        verbose: 0 (quiet) or 1 (a message at each reduction).
        mode: 'min', 'max' or 'auto' (max when `monitor` contains 'acc').
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound of the learning rate.
        epsilon: deprecated name of `min_delta` (warns).

    # Raises
        ValueError: if `factor >= 1.0`.
        TypeError: for an unknown keyword argument.
    """

    def __init__(self, monitor='val_loss', factor=0.1, patience=10, verbose=0,
                 mode='auto', min_delta=1e-4, cooldown=0, min_lr=0, **kwargs):
        super(ReduceLROnPlateau, self).__init__()
        if factor >= 1.0:
            raise ValueError('ReduceLROnPlateau does not support a factor >= 1.0; '
                             'received factor=%r.' % (factor,))
        if 'epsilon' in kwargs:
            min_delta = kwargs.pop('epsilon')
            warnings.warn('`epsilon` argument is deprecated and will be removed, '
                          'use `min_delta` instead.')
        if kwargs:
            raise TypeError('ReduceLROnPlateau: unexpected keyword argument(s): %s.'
                            % ', '.join(sorted(kwargs)))
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode = mode
        self.monitor_op = None
        self._reset()

    def _reset(self):
        """Resets `best`, the wait counter and the cooldown counter."""
        direction = _direction(self.mode, self.monitor, 'Learning Rate Plateau Reducing')
        if self.mode not in ('auto', 'min', 'max'):
            self.mode = 'auto'
        if direction == 'min':
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs['lr'] = K.get_value(self.model.optimizer.lr)[()]
        current = logs.get(self.monitor)
        if current is None:
            _missing_metric_warning('Reduce LR on plateau', self.monitor, logs)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(K.get_value(self.model.optimizer.lr))
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    K.set_value(self.model.optimizer.lr, new_lr)
                    if self.verbose > 0:
                        print('\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s.'
                              % (epoch + 1, new_lr))
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


def _csv_cell(value):
    """The text CSVLogger writes for a log value.

    # Arguments
        value: a log value (number, string, 0-d array or sequence).

    # Returns
        The value itself, or `'[a, b, ...]'` for a sequence.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    if isinstance(value, Iterable):
        return '[%s]' % ', '.join(map(str, value))
    return value


class CSVLogger(Callback):
    """Writes the epoch logs to a CSV file, one row per epoch.

    The first row is the header: `epoch`, then the log keys of the first
    epoch in sorted order. A key missing from a later epoch is written `NA`.

    # Arguments
        filename: path of the CSV file.
        separator: the field separator.
        append: append to an existing file (without repeating the header when
            the file is not empty) instead of overwriting it.
    """

    def __init__(self, filename, separator=',', append=False):
        super(CSVLogger, self).__init__()
        self.sep = separator
        self.filename = filename
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, 'r') as existing:
                    self.append_header = not existing.readline()
            mode = 'a'
        else:
            mode = 'w'
        self.csv_file = open(self.filename, mode, newline='\n')

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
        if self.writer is None:
            class Dialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=['epoch'] + self.keys,
                                         dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = OrderedDict([('epoch', epoch)])
        for key in self.keys:
            row[key] = _csv_cell(logs[key]) if key in logs else 'NA'
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.writer = None


class LambdaCallback(Callback):
    """A callback made of functions given as arguments.

    `on_epoch_begin` and `on_epoch_end` are called as `f(epoch, logs)`,
    `on_batch_begin` and `on_batch_end` as `f(batch, logs)`,
    `on_train_begin` and `on_train_end` as `f(logs)`. A hook not given does
    nothing. Other keyword arguments become attributes of the callback.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super(LambdaCallback, self).__init__()
        self.__dict__.update(kwargs)
        self.on_epoch_begin = _or_nothing(on_epoch_begin, lambda epoch, logs: None)
        self.on_epoch_end = _or_nothing(on_epoch_end, lambda epoch, logs: None)
        self.on_batch_begin = _or_nothing(on_batch_begin, lambda batch, logs: None)
        self.on_batch_end = _or_nothing(on_batch_end, lambda batch, logs: None)
        self.on_train_begin = _or_nothing(on_train_begin, lambda logs: None)
        self.on_train_end = _or_nothing(on_train_end, lambda logs: None)


def _or_nothing(function, do_nothing):
    return do_nothing if function is None else function
