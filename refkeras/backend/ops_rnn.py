"""`K.rnn`: iterating a step function over the time axis of a sequence.

The loop is plain Python over timesteps; every step runs backend functions,
so under a `GradientTape` the whole unrolled computation is recorded and
backpropagation through time is just `tape.gradient` (no graph compiler, no
separate "scan" primitive).

Semantics are those of Keras 2.2.4 (TensorFlow backend, `unroll=False`):

- `inputs` is `(samples, time, ...)`; the step function sees
  `(samples, ...)` slices and the current states (plus `constants`).
- `go_backwards=True` walks the sequence from the last timestep to the first
  and returns the outputs in that (reversed) order.
- Where `mask` is 0 for a sample at a timestep, that sample's states keep their
  previous value and its output is the previous value of the first state
  (for the built-in cells: the previous output, or the initial state before
  any unmasked step).
"""
import builtins

from refkeras.backend import ops as K
from refkeras.backend import prims_rnn  # noqa: F401 (registers lstm_gates)
from refkeras.backend.graph import symbolic_aware
from refkeras.backend.tape import active_tape
from refkeras.backend.tensors import any_symbolic

__all__ = ['rnn']


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None,
        unroll=False, input_length=None):
    """Iterates over the time dimension of a tensor (Keras 2.2.4's `K.rnn`).

    # Arguments
        step_function: `step_function(input_t, states) -> (output_t, new_states)`,
            where `input_t` is `(samples, ...)`, `states` is the list of current
            states followed by the `constants`, and `new_states` is a list with
            one tensor per state, of the same shapes.
        inputs: tensor of shape `(samples, time, ...)`, at least 3D.
        initial_states: list of tensors `(samples, ...)`.
        go_backwards: if True, iterate from the last timestep to the first and
            return the outputs in that reversed order.
        mask: optional `(samples, time)` (or `(samples, time, 1)`) tensor, zero
            (False) where a timestep is masked.
        constants: optional list of tensors passed to every step after the states.
        unroll: accepted for compatibility; the loop is always unrolled in
            Python, so it gives the same numbers either way.
        input_length: accepted for compatibility (the number of timesteps is
            read from `inputs`).

    # Returns
        `(last_output, outputs, new_states)`: the last step's output
        `(samples, ...)`, all outputs `(samples, time, ...)` and the list of
        the last states.

    # Raises
        ValueError: if `inputs` has fewer than 3 dimensions, has no timesteps,
            or `mask` does not match the samples and timesteps of `inputs`.
    """
    initial_states = list(initial_states or [])
    constants = list(constants or [])
    if any_symbolic([inputs, initial_states, constants, mask]):
        return _symbolic_rnn(step_function, inputs, initial_states, go_backwards, mask,
                             constants)
    return _eager_rnn(step_function, inputs, initial_states, go_backwards, mask, constants)


def _eager_rnn(step_function, inputs, initial_states, go_backwards, mask, constants):
    shape = K.int_shape(inputs)
    if len(shape) < 3:
        raise ValueError('K.rnn: input should be at least 3D (samples, time, ...); received '
                         'a tensor of shape %s.' % (shape,))
    timesteps = shape[1]
    if timesteps == 0:
        raise ValueError('K.rnn: the input has no timesteps (shape %s).' % (shape,))
    step_masks = _step_masks(mask, shape) if mask is not None else None
    step_inputs = unstack_time(inputs)
    order = range(timesteps - 1, -1, -1) if go_backwards else range(timesteps)

    states = list(initial_states)
    previous_output = None
    outputs = []
    for t in order:
        output, new_states = step_function(step_inputs[t], states + constants)
        new_states = list(new_states)
        if step_masks is not None:
            keep = step_masks[t]
            output = K.switch(keep, output, _held_output(output, states, previous_output))
            new_states = [K.switch(keep, new, old) for new, old in zip(new_states, states)]
        states = new_states
        previous_output = output
        outputs.append(output)
    return outputs[-1], stack_time(outputs), states


def stack_time(outputs):
    """Per-timestep tensors `(samples, ...)` as one `(samples, time, ...)` tensor.

    Joining them along axis 1 and splitting that axis into `(time, ...)` is
    two records on the tape (`K.stack` would add one reshape per timestep).
    """
    shape = K.int_shape(outputs[0])
    if len(shape) < 2:
        return K.stack(outputs, axis=1)
    joined = K.concatenate(outputs, axis=1)
    return K.reshape(joined, (shape[0], len(outputs)) + tuple(shape[1:]))


def _held_output(output, states, previous_output):
    """What a masked step outputs: the first state from before the step (Keras's
    while-loop rule); for a cell whose output and first state differ in shape,
    the previous output (zeros before the first step)."""
    if states and K.int_shape(states[0]) == K.int_shape(output):
        return states[0]
    if previous_output is not None:
        return previous_output
    return K.zeros_like(output)


def _step_masks(mask, input_shape):
    """The mask as a list of `(samples, 1)` boolean arrays, one per timestep."""
    mask = K.value_of(mask)  # no gradient flows into a mask
    shape = K.int_shape(mask)
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]
        mask = K.reshape(mask, shape)
    if shape != tuple(input_shape[:2]):
        raise ValueError('K.rnn: the mask of shape %s does not match the (samples, time) = %s '
                         'of the input.' % (shape, tuple(input_shape[:2])))
    mask = K.cast(mask, 'bool')
    return [K.slice_item(mask, (builtins.slice(None), t, None)) for t in range(shape[1])]


def unstack_time(x):
    """The timesteps of `x` (`(samples, time, ...)`) as a list of `(samples, ...)` tensors.

    Off the tape the slices are views. On the tape each slice is a `getitem`
    record, whose gradient is an array as large as its input; slicing the
    sequence halves-by-halves (a binary tree of slices) keeps the backward work
    at `O(size * log(time))` instead of the `O(size * time)` of slicing every
    timestep from the whole sequence.
    """
    timesteps = K.int_shape(x)[1]
    tape = active_tape()
    if tape is None or not tape.tracks(x):
        return [K.slice_item(x, (builtins.slice(None), t)) for t in range(timesteps)]
    time_major = K.permute_dimensions(x, (1, 0) + tuple(range(2, K.ndim(x))))
    pieces = []
    _split_halves(time_major, timesteps, pieces)
    return pieces


def _split_halves(x, length, pieces):
    if length == 1:
        pieces.append(K.slice_item(x, 0))
        return
    half = length // 2
    _split_halves(K.slice_item(x, builtins.slice(0, half)), half, pieces)
    _split_halves(K.slice_item(x, builtins.slice(half, length)), length - half, pieces)


def _symbolic_rnn(step_function, inputs, initial_states, go_backwards, mask, constants):
    """`rnn` on symbolic tensors: a graph node that runs the loop when evaluated."""
    n_states = len(initial_states)

    def flat(inputs, initial_states, mask, constants):
        last, outputs, states = _eager_rnn(step_function, inputs, initial_states,
                                           go_backwards, mask, constants)
        return [last, outputs] + list(states)
    flat.__name__ = 'rnn'
    results = symbolic_aware(flat)(inputs, initial_states, mask, constants)
    if not isinstance(results, list):
        results = [results]
    return results[0], results[1], results[2:2 + n_states]
