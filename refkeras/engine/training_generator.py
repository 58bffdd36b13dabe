"""Training, evaluating and predicting on batches from a generator or a `Sequence`.

Implements the FAQ's "How can I use Keras with datasets that don't fit in
memory?": `model.fit_generator(data_generator, steps_per_epoch, epochs)`
takes one batch at a time from a Python generator (any iterator) or a
`refkeras.utils.Sequence`, so that only the batches being prepared are in
memory. Workers (threads, or processes with `use_multiprocessing=True`)
prepare the next batches while the model trains (see
`refkeras.utils.data_utils`); `workers=0` prepares them in the calling thread.

Keras 2.2.4 rules kept here:
- a batch is `(x, y)` or `(x, y, sample_weight)` (a tuple or a list); for
  `predict_generator` a tuple's first item is `x`, anything else is `x`;
- `steps_per_epoch` / `steps` default to `len(sequence)` for a `Sequence`
  and are required for a generator (likewise `validation_steps`);
- each training batch is one update, with the callbacks and the progress bar
  (counting steps) of `fit`; validation runs at the end of every complete
  epoch, on arrays (in batches the size of the epoch's last batch) or on
  `validation_steps` batches of a generator / `Sequence`, whose batches carry
  on from one epoch to the next;
- `evaluate_generator` averages each batch's loss and metrics weighted by the
  batch's number of samples;
- a generator with `use_multiprocessing=True` and several workers is copied
  into every worker (a warning says the data may be duplicated).

Each loop takes its batches from the call's feed (`feeding.open_feed()`,
`feed.items`): for the reference, each batch is read from the generator and
checked when the loop reaches it; a backend with a feed of its own may read
batch i+1 while step i runs (accel does: `accel.prefetch`, "Generator
loops"), but never a batch the synchronous loop would not take at that
point, and an error in batch i+1 is raised when the loop reaches it, after
step i's callbacks.

Differences from Keras 2.2.4, on purpose: a batch of the wrong form, an empty
batch, a generator that runs out of batches, or step counts below 1 are clear
errors naming what was received; validation data is checked before training
starts; `Sequence.on_epoch_end` is called after every complete pass and
`shuffle` is honoured also with `workers=0`; batches of `predict_generator`
whose shapes disagree are an error naming the step.
"""
import warnings

import numpy as np

from refkeras.distributed import state as distributed_state
from refkeras.engine import epoch_loop, feeding
from refkeras.engine import training_utils as tu
from refkeras.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence
from refkeras.utils.generic_utils import unpack_singleton
from refkeras.utils.progbar import Progbar


# --- checking the arguments ----------------------------------------------------------


def _describe(value):
    """A short description of what a generator yielded, for error messages."""
    if isinstance(value, np.ndarray):
        return 'an array of shape %s and dtype %s' % (value.shape, value.dtype)
    if isinstance(value, (tuple, list)):
        items = ', '.join(_describe_item(v) for v in value[:5])
        more = ', ...' if len(value) > 5 else ''
        return 'a %s of %d items (%s%s)' % (type(value).__name__, len(value), items, more)
    text = repr(value)
    return '%s %s' % (type(value).__name__, text[:80] + ('...' if len(text) > 80 else ''))


def _describe_item(value):
    if hasattr(value, 'shape') and hasattr(value, 'dtype'):
        return '%s of shape %s' % (type(value).__name__, tuple(value.shape))
    if isinstance(value, (tuple, list)):
        return '%s of %d' % (type(value).__name__, len(value))
    return type(value).__name__


def _check_source(source, method, argument='generator'):
    """A generator argument must be a `Sequence` or an iterator."""
    if isinstance(source, Sequence) or hasattr(source, '__next__'):
        return
    raise TypeError('%s: `%s` must be a generator (an iterator yielding batches) or a '
                    'refkeras.utils.Sequence; received %s.'
                    % (method, argument, _describe(source)))


def _check_workers(workers, max_queue_size, method):
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError('%s: `workers` must be an integer >= 0 (0: prepare the batches in the '
                         'main thread); received %r.' % (method, workers))
    if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, (int, np.integer)) \
            or max_queue_size < 1:
        raise ValueError('%s: `max_queue_size` must be an integer >= 1; received %r.'
                         % (method, max_queue_size))


def _warn_if_duplicating(source, workers, use_multiprocessing):
    if not isinstance(source, Sequence) and use_multiprocessing and workers > 1:
        warnings.warn(UserWarning('Using a generator with `use_multiprocessing=True` and '
                                  'multiple workers may duplicate your data: every worker '
                                  'process has its own copy of the generator. Consider using '
                                  'the `refkeras.utils.Sequence` class.'))


def _resolve_steps(source, steps, argument, method):
    """`steps` as given, or `len(sequence)` for a `Sequence`.

    # Raises
        ValueError: for a generator without `steps`, or a count below 1.
    """
    if steps is None:
        if not isinstance(source, Sequence):
            raise ValueError('%s: `%s=None` is only valid for a generator based on the '
                             '`refkeras.utils.Sequence` class. Please specify `%s` or use the '
                             '`refkeras.utils.Sequence` class.' % (method, argument, argument))
        steps = len(source)
        if steps < 1:
            raise ValueError('%s: the Sequence %r is empty (len 0).' % (method, source))
        return steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError('%s: `%s` must be an integer >= 1; received %r.'
                         % (method, argument, steps))
    return int(steps)


def _start(source, workers, use_multiprocessing, max_queue_size, shuffle=False):
    """An enqueuer started on `source`, and its generator of batches."""
    if isinstance(source, Sequence):
        enqueuer = OrderedEnqueuer(source, use_multiprocessing=use_multiprocessing,
                                   shuffle=shuffle)
    else:
        enqueuer = GeneratorEnqueuer(source, use_multiprocessing=use_multiprocessing)
    enqueuer.start(workers=workers, max_queue_size=max_queue_size)
    return enqueuer, enqueuer.get()


# --- reading batches -------------------------------------------------------------------


def _next_batch(batches, method, step, steps):
    try:
        return next(batches)
    except StopIteration:
        raise ValueError('%s: the generator ran out of batches after %d of the %d steps asked '
                         'for. A generator must yield batches indefinitely (loop over the data), '
                         'or ask for fewer steps.' % (method, step, steps))


def _unpack_batch(output, method, step):
    """`(x, y, sample_weight)` from a training / evaluation batch.

    # Raises
        ValueError: naming what was received, for anything but a tuple or
            list of 2 or 3 items.
    """
    if not isinstance(output, (tuple, list)) or len(output) not in (2, 3):
        raise ValueError('%s: output of generator should be a tuple `(x, y, sample_weight)` or '
                         '`(x, y)`. Found, at step %d: %s.'
                         % (method, step, _describe(output)))
    if len(output) == 2:
        return output[0], output[1], None
    return output[0], output[1], output[2]


def _batch_size(xs, method, step):
    size = int(xs[0].shape[0]) if xs else 0
    if size == 0:
        raise ValueError('%s: received an empty batch at step %d. Batches should contain at '
                         'least one sample.' % (method, step))
    return size


def _prepare(model, x, y, sample_weight, class_weight, method, step):
    """The batch as `_train_step` / `_test_step` want it, checked like `train_on_batch`."""
    xs, ys, sws = model._standardize_user_data(x, y, sample_weight, class_weight,
                                               batch_size=None)
    size = _batch_size(xs, method, step)
    tu.check_finite(xs, 'Input')
    return tu.cast_inputs(xs, model._input_dtypes()), ys, sws, size


def _batch_reader(model, batches, class_weight, method, steps):
    """`read(step)` for a training or evaluation pass: batch `step` taken from
    `batches` and checked; returns `([xs, ys, sample_weights], size)`."""
    def read(step):
        x, y, sw = _unpack_batch(_next_batch(batches, method, step, steps), method, step)
        xs, ys, sws, size = _prepare(model, x, y, sw, class_weight, method, step)
        return [xs, ys, sws], size
    return read


def _input_reader(model, batches, method, steps):
    """`read(step)` for a prediction pass: the inputs of batch `step` taken
    from `batches` and checked; returns `([xs], None)`."""
    def read(step):
        output = _next_batch(batches, method, step, steps)
        if isinstance(output, tuple):
            if len(output) not in (2, 3):
                raise ValueError('%s: output of generator should be `x`, or a tuple `(x, y)` '
                                 'or `(x, y, sample_weight)`. Found, at step %d: %s.'
                                 % (method, step, _describe(output)))
            x = output[0]
        else:
            x = output
        xs, _, _ = model._standardize_user_data(x, batch_size=None, with_targets=False)
        _batch_size(xs, method, step)
        return [tu.cast_inputs(xs, model._input_dtypes())], None
    return read


# --- validation ---------------------------------------------------------------------------


def _validation_plan(model, validation_data, validation_steps):
    """Checks `validation_data` before training; returns `(kind, data, steps)`.

    `kind` is None (no validation), 'arrays' (data: standardized `(xs, ys,
    sws)`) or 'batches' (data: the generator / `Sequence`).
    """
    if validation_data is None:
        return None, None, None
    if isinstance(validation_data, Sequence) or hasattr(validation_data, '__next__'):
        if not isinstance(validation_data, Sequence) and not validation_steps:
            raise ValueError('`validation_steps=None` is only valid for a generator based on the '
                             '`refkeras.utils.Sequence` class. Please specify `validation_steps` '
                             'or use the `refkeras.utils.Sequence` class.')
        steps = _resolve_steps(validation_data, validation_steps, 'validation_steps',
                               'fit_generator')
        return 'batches', validation_data, steps
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        val_x, val_y = validation_data[0], validation_data[1]
        val_sw = validation_data[2] if len(validation_data) == 3 else None
        return 'arrays', model._standardize_user_data(val_x, val_y, val_sw), None
    if isinstance(validation_data, (tuple, list)) and not validation_data:
        return None, None, None
    raise ValueError('`validation_data` should be a tuple `(val_x, val_y, val_sample_weight)` or '
                     '`(val_x, val_y)`, a generator or a Sequence. Found: %s.'
                     % (_describe(validation_data),))


def _evaluate_batches(model, batches, steps, method, feed, verbose=0):
    """Loss and metrics over `steps` batches, each weighted by its number of samples."""
    progbar = Progbar(target=steps) if verbose == 1 else None
    model._reset_metric_states()
    totals = None
    seen = 0
    items = feed.items(_batch_reader(model, batches, None, method, steps), steps)
    for step, ((xs, ys, sws), size) in enumerate(items):
        outs = np.asarray(items.read_back(model._test_step(xs, ys, sws)), dtype='float64')
        totals = outs * size if totals is None else totals + outs * size
        seen += size
        if progbar is not None:
            progbar.update(step + 1)
    return model._test_results(totals, seen, outs)


# --- the three loops ----------------------------------------------------------------------


def fit_generator(model, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                  validation_data=None, validation_steps=None, class_weight=None,
                  max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True,
                  initial_epoch=0):
    """Trains `model` on batches from a generator or a `Sequence`.

    # Arguments
        model: a compiled `Model`.
        generator: a generator (any iterator) or a `Sequence` yielding
            `(x, y)` or `(x, y, sample_weight)` batches; a generator must
            yield without end.
        steps_per_epoch: batches per epoch; default `len(generator)` for a
            `Sequence`, required for a generator.
        epochs: index of the last epoch (training runs from
            `initial_epoch` to `epochs`).
        verbose: 0 silent, 1 progress bar (counting steps), 2 one line per
            epoch.
        callbacks: list of `Callback`s.
        validation_data: a generator or `Sequence` of validation batches, or
            a tuple `(x_val, y_val)` / `(x_val, y_val, val_sample_weight)`.
        validation_steps: batches of a validation generator per epoch;
            default `len(validation_data)` for a `Sequence`.
        class_weight: dict class index -> weight of the training loss.
        max_queue_size: how many batches the workers may prepare ahead.
        workers: worker threads / processes; 0 prepares each batch in the
            calling thread.
        use_multiprocessing: processes (forked) instead of threads.
        shuffle: for a `Sequence`: visit its batches in a new random order
            every pass.
        initial_epoch: epoch to start from.

    # Returns
        The `History` callback.

    # Raises
        RuntimeError: if the model is not compiled.
        ValueError / TypeError: for bad arguments (before any training) or a
            bad batch (naming the step).
        Any exception the generator raises.
    """
    model._check_compiled()
    method = 'fit_generator'
    _check_source(generator, method)
    _check_workers(workers, max_queue_size, method)
    _warn_if_duplicating(generator, workers, use_multiprocessing)
    steps_per_epoch = _resolve_steps(generator, steps_per_epoch, 'steps_per_epoch', method)
    val_kind, val_data, validation_steps = _validation_plan(model, validation_data,
                                                            validation_steps)
    if val_kind == 'batches':
        _check_source(val_data, method, 'validation_data')
    model._check_trainable_weights_consistency()
    verbose = distributed_state.verbose_here(verbose)  # one progress bar per job: rank 0's
    do_validation = val_kind is not None
    labels = list(model.metrics_names)
    callback_list = model._make_callbacks(
        callbacks, verbose, 'steps',
        {'epochs': epochs, 'steps': steps_per_epoch, 'verbose': verbose,
         'do_validation': do_validation, 'metrics': labels + ['val_' + n for n in labels]})
    callback_list.on_train_begin()
    if val_kind == 'arrays':
        validation_arrays = list(val_data[0]) + list(val_data[1]) + list(val_data[2])
        for callback in callback_list.callbacks:
            callback.validation_data = validation_arrays

    enqueuer = val_enqueuer = None
    try:
        enqueuer, batches = _start(generator, workers, use_multiprocessing, max_queue_size,
                                   shuffle=shuffle)
        if val_kind == 'batches':
            val_enqueuer, val_batches = _start(val_data, workers, use_multiprocessing,
                                               max_queue_size)
        model.stop_training = False

        def epoch_batches(epoch):
            read = _batch_reader(model, batches, class_weight, method, steps_per_epoch)
            items = feed.items(read, steps_per_epoch, keep_going=lambda: not model.stop_training)
            return items, steps_per_epoch

        def validate(last_batch_size):
            if val_kind == 'batches':
                outs = _evaluate_batches(model, val_batches, validation_steps,
                                         method + ' (validation)', feed)
            else:
                outs = model._test_loop(*val_data, batch_size=last_batch_size, verbose=0,
                                        feed=feed)
            return {'val_' + label: value for label, value in zip(labels, outs)}

        with feeding.open_feed() as feed:
            epoch_loop.run_epochs(model, callback_list, initial_epoch, epochs, epoch_batches,
                                  validate if do_validation else None, 'after_last_batch')
    finally:
        try:
            if enqueuer is not None:
                enqueuer.stop()
        finally:
            if val_enqueuer is not None:
                val_enqueuer.stop()
    callback_list.on_train_end()
    return model.history


def evaluate_generator(model, generator, steps=None, max_queue_size=10, workers=1,
                       use_multiprocessing=False, verbose=0):
    """Loss and metrics of `model` over batches from a generator or a `Sequence`.

    Each batch's values are weighted by its number of samples, so the result
    is the mean over all samples (for per-sample losses and metrics).

    # Arguments
        model: a compiled `Model`.
        generator: a generator or `Sequence` of `(x, y)` or
            `(x, y, sample_weight)` batches.
        steps: batches to use; default `len(generator)` for a `Sequence`.
        max_queue_size, workers, use_multiprocessing: as in `fit_generator`.
        verbose: 1 shows a progress bar counting steps.

    # Returns
        A scalar if the model has only a loss, else a list in the order of
        `model.metrics_names`.

    # Raises
        ValueError / TypeError: for bad arguments or a bad batch.
        Any exception the generator raises.
    """
    model._check_compiled()
    method = 'evaluate_generator'
    _check_source(generator, method)
    _check_workers(workers, max_queue_size, method)
    _warn_if_duplicating(generator, workers, use_multiprocessing)
    steps = _resolve_steps(generator, steps, 'steps', method)
    enqueuer, batches = _start(generator, workers, use_multiprocessing, max_queue_size)
    try:
        with feeding.open_feed() as feed:
            averages = _evaluate_batches(model, batches, steps, method, feed, verbose=verbose)
    finally:
        enqueuer.stop()
    return unpack_singleton(averages)


def predict_generator(model, generator, steps=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, verbose=0):
    """Predictions of `model` for the input batches of a generator or a `Sequence`.

    # Arguments
        model: a `Model`.
        generator: a generator or `Sequence` yielding `x` batches (or
            tuples `(x, y)` / `(x, y, sample_weight)`, whose `x` is used).
        steps: batches to use; default `len(generator)` for a `Sequence`.
        max_queue_size, workers, use_multiprocessing: as in `fit_generator`.
        verbose: 1 shows a progress bar counting steps.

    # Returns
        The predictions of all the batches, concatenated (a list of arrays
        for a model with several outputs).

    # Raises
        ValueError: for bad arguments, a bad batch, or batches whose output
            shapes (beyond the batch axis) disagree.
        Any exception the generator raises.
    """
    method = 'predict_generator'
    _check_source(generator, method)
    _check_workers(workers, max_queue_size, method)
    _warn_if_duplicating(generator, workers, use_multiprocessing)
    steps = _resolve_steps(generator, steps, 'steps', method)
    enqueuer, batches = _start(generator, workers, use_multiprocessing, max_queue_size)
    outputs = None
    try:
        progbar = Progbar(target=steps) if verbose == 1 else None
        with feeding.open_feed() as feed:
            items = feed.items(_input_reader(model, batches, method, steps), steps)
            for step, ((xs,), _) in enumerate(items):
                outs = items.read_back(model._predict_step(xs))
                if outputs is None:
                    outputs = [[] for _ in outs]
                for i, out in enumerate(outs):
                    if outputs[i] and out.shape[1:] != outputs[i][0].shape[1:]:
                        raise ValueError('%s: the batch at step %d gave output %d of shape %s, '
                                         'but earlier batches gave shape %s: the batches must '
                                         'agree beyond the batch axis to be concatenated.'
                                         % (method, step, i, out.shape,
                                            (None,) + outputs[i][0].shape[1:]))
                    outputs[i].append(out)
                if progbar is not None:
                    progbar.update(step + 1)
    finally:
        enqueuer.stop()
    return unpack_singleton([np.concatenate(chunks) for chunks in outputs])
