"""The epoch and batch loop that `fit` and `fit_generator` share.

FAQ: "What does sample, batch, epoch mean?" One batch is one update
(`Model._train_step`); an epoch is one pass over the batches the caller gives
for it; callbacks see `on_epoch_begin`, then `on_batch_begin` / `on_batch_end`
around each update, the validation results in `on_epoch_end`'s logs, and a
callback that sets `model.stop_training` ends training after the current batch.

When validation runs at the end of an epoch follows Keras 2.2.4, which had
three loops that differed in one thing, what happens when a callback stops
training during the epoch:

- `'unless_stopped'` (`fit` on arrays in batches): only after an epoch whose
  batches all ran with no stop requested;
- `'always'` (`fit` with `steps_per_epoch`): after every epoch;
- `'after_last_batch'` (`fit_generator`): once the epoch's last batch ran,
  even if a callback then asked to stop.
"""

VALIDATION_RULES = ('unless_stopped', 'always', 'after_last_batch')


def run_epochs(model, callback_list, initial_epoch, epochs, epoch_batches, validate, when):
    """Trains `model` from epoch `initial_epoch` to `epochs`, with callbacks.

    # Arguments
        model: the compiled `Model`.
        callback_list: its `CallbackList` (`on_train_begin` already called).
        initial_epoch, epochs: the epochs to run are `range(initial_epoch, epochs)`.
        epoch_batches: `epoch_batches(epoch)` gives `(batches, steps)`: the
            pass of that epoch, from the call's feed (`feeding`), which yields
            `(groups, size)` with groups `[xs, ys, sample_weights]` and reads
            results back (`read_back`), and its number of batches.
        validate: None, or `validate(last_batch_size)`, the logs of a
            validation (`{'val_loss': ...}`).
        when: one of `VALIDATION_RULES` (see the module doc).
    """
    for epoch in range(initial_epoch, epochs):
        model._reset_metric_states()
        callback_list.on_epoch_begin(epoch)
        batches, steps = epoch_batches(epoch)
        ran_last, last_size = _train_epoch(model, callback_list, batches, steps)
        epoch_logs = {}
        if validate is not None and _validates(when, ran_last, model.stop_training):
            epoch_logs.update(validate(last_size))
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break


def _train_epoch(model, callback_list, batches, steps):
    """One update per batch of the pass; returns (whether its last batch ran,
    the size of the last batch that ran)."""
    ran_last, size = True, None
    for index, ((xs, ys, sample_weights), size) in enumerate(batches):
        batch_logs = {'batch': index, 'size': size}
        callback_list.on_batch_begin(index, batch_logs)
        outs = batches.read_back(model._train_step(xs, ys, sample_weights))
        batch_logs.update(zip(model.metrics_names, [float(value) for value in outs]))
        callback_list.on_batch_end(index, batch_logs)
        if model.stop_training:
            ran_last = index == steps - 1
            break
    return ran_last, size


def _validates(when, ran_last, stopped):
    if when == 'always':
        return True
    if when == 'after_last_batch':
        return ran_last
    return ran_last and not stopped
