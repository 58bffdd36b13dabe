"""Horovod's Keras callbacks, for `refkeras.distributed`.

    callbacks = [hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                 hvd.callbacks.MetricAverageCallback(),
                 hvd.callbacks.LearningRateWarmupCallback(initial_lr=0.01 * hvd.size())]

Difference from Horovod: `BroadcastGlobalVariablesCallback` broadcasts in
`on_train_begin`, before the first step (Horovod broadcasts after the first
batch, once TensorFlow has made the optimizer's slots). refkeras creates the
slots up front, so even the first update starts from rank 0's weights and the
run equals one process from its first step.
"""
import numpy as np

from refkeras import backend as K
from refkeras.callbacks import Callback
from refkeras.distributed import state
from refkeras.distributed.collectives import sum_in_rank_order
from refkeras.distributed.comm import ModelMismatchError
from refkeras.distributed.model_sync import broadcast_model


def _world(who):
    world = state.world()
    if world is None:
        raise RuntimeError('%s: call refkeras.distributed.init() first.' % who)
    return world


def _steps_per_epoch(params):
    """The number of batches `fit` takes per epoch, from its `params`."""
    if params.get('steps'):
        return int(params['steps'])
    samples, batch_size = params.get('samples'), params.get('batch_size')
    if samples is not None and batch_size:
        return -(-int(samples) // int(batch_size))
    return None


class BroadcastGlobalVariablesCallback(Callback):
    """Sets every rank's weights and optimizer state to `root_rank`'s when training begins.

    Also checks, first, that every rank will take the same number of steps
    per epoch (otherwise a rank would wait for a step the others never take)
    and that every rank's model has the same layout.

    # Arguments
        root_rank: the rank whose weights everyone takes (normally 0).
        device: accepted for Horovod compatibility.

    # Raises
        ModelMismatchError: on every rank, naming the first layer that
            differs, or the ranks' step counts.
    """

    def __init__(self, root_rank, device=''):
        super(BroadcastGlobalVariablesCallback, self).__init__()
        self.root_rank = root_rank
        self.device = device
        self.broadcast_done = False

    def on_train_begin(self, logs=None):
        if self.broadcast_done:
            return
        world = _world('BroadcastGlobalVariablesCallback')
        steps = world.allgather_object(_steps_per_epoch(self.params or {}),
                                       'BroadcastGlobalVariablesCallback: steps per epoch')
        if len(set(steps)) > 1:
            raise ModelMismatchError(
                'BroadcastGlobalVariablesCallback: the ranks would take different numbers of '
                'steps per epoch (%s, by rank); give every rank the same number of batches '
                '(refkeras.distributed.shard splits data so).'
                % ', '.join(str(s) for s in steps))
        broadcast_model(world, self.model, self.root_rank)
        self.broadcast_done = True


class MetricAverageCallback(Callback):
    """Replaces each epoch's logged metrics by their mean over the ranks.

    Put it before the callbacks that read the logs (`ModelCheckpoint`,
    `EarlyStopping`, `ReduceLROnPlateau`), so that they see the averages and
    decide the same on every rank. Values are averaged in rank order (the
    same on every rank). Each rank's value is already an average over its
    own samples, so with equally sized shards the result is the average over
    all samples.

    # Arguments
        device: accepted for Horovod compatibility.
    """

    def __init__(self, device=''):
        super(MetricAverageCallback, self).__init__()
        self.device = device

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        world = _world('MetricAverageCallback')
        mine = sorted(logs.items())
        everyone = world.allgather_object(mine, 'MetricAverageCallback: epoch %d' % (epoch + 1))
        names = [name for name, _ in mine]
        for r, theirs in enumerate(everyone):
            if [name for name, _ in theirs] != names:
                raise ModelMismatchError(
                    'MetricAverageCallback: rank %d logged %s at epoch %d, rank %d logged %s.'
                    % (r, [n for n, _ in theirs], epoch + 1, world.rank, names))
        values = np.array([[float(v) for _, v in theirs] for theirs in everyone])
        for name, mean in zip(names, sum_in_rank_order(values) / world.size):
            logs[name] = float(mean)


class LearningRateScheduleCallback(Callback):
    """Sets the learning rate to `initial_lr * multiplier(epoch)` between two epochs.

    # Arguments
        initial_lr: the learning rate the multiplier scales.
        multiplier: a function of the (fractional) epoch, or a number `m`
            (then the multiplier is `m ** epoch`).
        start_epoch, end_epoch: the schedule acts on epochs
            `start_epoch <= epoch < end_epoch` (end None: to the end).
        staircase: True changes the rate at the first batch of each epoch;
            False at every batch, with `epoch + batch / steps_per_epoch`.
        momentum_correction: while the rate changes, scale an SGD
            momentum by `new_lr / old_lr` for that batch (Goyal et al., 2017).
        steps_per_epoch: batches per epoch (found from `fit` if None).
    """

    def __init__(self, initial_lr, multiplier, start_epoch=0, end_epoch=None, staircase=True,
                 momentum_correction=True, steps_per_epoch=None):
        super(LearningRateScheduleCallback, self).__init__()
        if initial_lr is None:
            raise ValueError('%s: `initial_lr` is required.' % self.__class__.__name__)
        self.initial_lr = initial_lr
        self.multiplier = multiplier if callable(multiplier) else (lambda e: multiplier ** e)
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.staircase = staircase
        self.momentum_correction = momentum_correction
        self.steps_per_epoch = steps_per_epoch
        self.current_epoch = None
        self._momentum_to_restore = None

    def on_train_begin(self, logs=None):
        if not self.staircase and not self.steps_per_epoch:
            self.steps_per_epoch = _steps_per_epoch(self.params or {})
            if not self.steps_per_epoch:
                raise ValueError('%s: cannot tell the number of steps per epoch; pass '
                                 '`steps_per_epoch`.' % self.__class__.__name__)

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def _in_schedule(self):
        return (self.current_epoch >= self.start_epoch
                and (self.end_epoch is None or self.current_epoch < self.end_epoch))

    def _set_lr(self, epoch):
        optimizer = self.model.optimizer
        old_lr = float(K.get_value(optimizer.lr))
        new_lr = self.initial_lr * self.multiplier(epoch)
        K.set_value(optimizer.lr, new_lr)
        if self.momentum_correction and hasattr(optimizer, 'momentum') and old_lr > 0:
            self._momentum_to_restore = float(K.get_value(optimizer.momentum))
            K.set_value(optimizer.momentum, self._momentum_to_restore * new_lr / old_lr)

    def on_batch_begin(self, batch, logs=None):
        if not self._in_schedule():
            return
        if self.staircase:
            if batch == 0:
                self._set_lr(self.current_epoch)
        else:
            self._set_lr(self.current_epoch + float(batch) / self.steps_per_epoch)

    def on_batch_end(self, batch, logs=None):
        if self._momentum_to_restore is not None:
            K.set_value(self.model.optimizer.momentum, self._momentum_to_restore)
            self._momentum_to_restore = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs['lr'] = float(K.get_value(self.model.optimizer.lr))


class LearningRateWarmupCallback(LearningRateScheduleCallback):
    """Ramps the learning rate from `initial_lr / size()` up to `initial_lr` over the first epochs.

    Goyal et al. (2017): with N ranks the global batch is N times larger and
    the rate is scaled by N; starting at the single-process rate and growing
    linearly, batch by batch, avoids the early instability of a large rate.
    The rate at fractional epoch `e` (counted at the end of the batch, so
    that the last batch of the warmup reaches `initial_lr`) is
    `initial_lr / N * (1 + e * (N - 1) / warmup_epochs)`.

    # Arguments
        initial_lr: the rate reached at the end of the warmup (already scaled by N).
        warmup_epochs: its length in epochs.
        momentum_correction: see `LearningRateScheduleCallback`.
        steps_per_epoch: batches per epoch (found from `fit` if None).
        verbose: 1 prints, on rank 0, when the warmup ends.
    """

    def __init__(self, initial_lr, warmup_epochs=5, momentum_correction=True,
                 steps_per_epoch=None, verbose=0):
        size = _world('LearningRateWarmupCallback').size

        def multiplier(epoch):
            epoch = epoch + 1. / self.steps_per_epoch
            return (1. + epoch * (size - 1) / warmup_epochs) / size
        super(LearningRateWarmupCallback, self).__init__(
            initial_lr, multiplier, start_epoch=0, end_epoch=warmup_epochs, staircase=False,
            momentum_correction=momentum_correction, steps_per_epoch=steps_per_epoch)
        self.warmup_epochs = warmup_epochs
        self.verbose = verbose

    def on_epoch_end(self, epoch, logs=None):
        super(LearningRateWarmupCallback, self).on_epoch_end(epoch, logs)
        if epoch == self.warmup_epochs - 1 and self.verbose > 0 and state.is_root():
            print('\nEpoch %d: finished gradual learning rate warmup to %g.'
                  % (epoch + 1, float(K.get_value(self.model.optimizer.lr))))
