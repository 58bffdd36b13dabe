"""Data parallelism: `multi_gpu_model` (FAQ: "How can I run a Keras model on multiple GPUs?").

`multi_gpu_model(model, gpus=8)` builds a new model over the same inputs that
cuts every batch into `gpus` consecutive sub-batches (the last one takes the
remainder), applies `model` (one *replica*, sharing its weights) to each, and
concatenates the replicas' outputs along the batch axis. Training the parallel
model therefore updates `model`'s own weights, with the same gradients as
training `model` on whole batches.

On the reference backend (`numpy`) there are no devices: the replicas run one
after the other on the CPU. That keeps the semantics (what a Keras user
learns and tests against) without the speed-up. With the `numba` accelerator,
the GPUs must exist, as in Keras.
"""
from refkeras import backend as K
from refkeras.backend import state as backend_state
from refkeras.layers.core import Lambda
from refkeras.layers.merge import concatenate
from refkeras.utils.generic_utils import to_list


def _available_gpus():
    """Number of GPUs the running backend can use (None: no devices, the CPU simulates)."""
    plugin = backend_state.backend_plugin()
    return None if plugin is None else plugin.gpu_count()


def _get_available_devices():
    """The devices the running backend computes on, named as TensorFlow lists them.

    The host CPU is always there (`'/job:localhost/replica:0/task:0/device:CPU:0'`);
    with the `numba` accelerator each of its GPUs follows (`...device:GPU:0`, ...).

    # Returns
        A list of device names (str).
    """
    prefix = '/job:localhost/replica:0/task:0/device:'
    return [prefix + 'CPU:0'] + [prefix + 'GPU:%d' % i for i in range(_available_gpus() or 0)]


def _normalize_device_name(name):
    """A device name in Keras's short lower-case form: `'/cpu:0'`, `'/gpu:3'`.

    # Arguments
        name: a long (`'/job:localhost/replica:0/task:0/device:GPU:3'`) or short
            (`'/GPU:3'`, `'gpu:3'`) device name.

    # Returns
        `'/<kind>:<index>'`, lower case: the last two `:`-separated fields.
    """
    fields = name.lower().replace('/', '').split(':')
    return '/' + ':'.join(fields[-2:])


def multi_gpu_replica_slice(data, i, parts):
    """The i-th of `parts` consecutive sub-batches of `data`; the last takes the remainder.

    Each replica's `Lambda` layer calls it; a saved parallel model names it,
    and loading finds it by that name (`LAMBDA_FUNCTIONS`).

    # Arguments
        data: a batch (a tensor with the batch axis first).
        i: the replica's index.
        parts: the number of replicas.

    # Returns
        Rows `[i * (batch // parts), (i + 1) * (batch // parts))` of `data`
        (to the end for the last replica).
    """
    batch = K.int_shape(data)[0]
    step = batch // parts
    stop = batch if i == parts - 1 else step * (i + 1)
    return K.slice_item(data, slice(step * i, stop))


get_slice = multi_gpu_replica_slice

# The functions of this module a saved model's Lambda layers refer to by name.
LAMBDA_FUNCTIONS = {'multi_gpu_replica_slice': multi_gpu_replica_slice}


def multi_gpu_model(model, gpus=None, cpu_merge=True, cpu_relocation=False):
    """Replicates `model` over `gpus` devices, each replica taking a slice of every batch.

    # Arguments
        model: the template model (its weights are shared by every replica).
        gpus: an int >= 2, or a list of at least 2 GPU ids. None uses every GPU
            of the accelerator (an error on the reference backend, which has none
            to count).
        cpu_merge: accepted for compatibility (outputs are always merged on the host).
        cpu_relocation: accepted for compatibility (weights already live in one place).

    # Returns
        A `Model` with the template's inputs and outputs (same output names),
        computing the same function batch by batch.

    # Raises
        ValueError: if fewer than 2 GPUs are asked for, or the accelerator does
            not have them.

    # Example
    ```python
    parallel_model = multi_gpu_model(model, gpus=8)
    parallel_model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    parallel_model.fit(x, y, epochs=20, batch_size=256)  # each replica sees 32 samples
    ```
    """
    from refkeras.engine.training import Model
    available = _available_gpus()
    if gpus is None:
        if available is None:
            raise ValueError('multi_gpu_model: `gpus` must be given on the %r backend, which has '
                             'no GPUs to count.' % K.backend())
        gpus = available
    if isinstance(gpus, (list, tuple)):
        if len(gpus) <= 1:
            raise ValueError('For multi-gpu usage to be effective, call `multi_gpu_model` with '
                             '`len(gpus) >= 2`. Received: `gpus=%s`' % (gpus,))
        target_ids = list(gpus)
    else:
        if gpus <= 1:
            raise ValueError('For multi-gpu usage to be effective, call `multi_gpu_model` with '
                             '`gpus >= 2`. Received: `gpus=%d`' % gpus)
        target_ids = list(range(gpus))
    if available is not None and max(target_ids) >= available:
        raise ValueError('To call `multi_gpu_model` with `gpus=%s`, GPUs %s must be available. '
                         'However this machine only has %d. Try reducing `gpus`.'
                         % (gpus, target_ids, available))
    parts = len(target_ids)
    replica_outputs = [[] for _ in model.outputs]
    for i, _ in enumerate(target_ids):
        inputs = [Lambda(multi_gpu_replica_slice, output_shape=K.int_shape(x)[1:],
                         arguments={'i': i, 'parts': parts})(x) for x in model.inputs]
        for collected, out in zip(replica_outputs, to_list(model(inputs if len(inputs) > 1
                                                                 else inputs[0]))):
            collected.append(out)
    names = _unique_output_names(model.output_names)
    merged = [concatenate(outs, axis=0, name=name) for name, outs in zip(names, replica_outputs)]
    return Model(model.inputs, merged)


def _unique_output_names(names):
    """Output names, with `_1`, `_2`, ... added where a name repeats (as Keras does)."""
    counts = {n: names.count(n) for n in names}
    seen = {}
    out = []
    for n in names:
        if counts[n] > 1:
            seen[n] = seen.get(n, 0) + 1
            n = '%s_%d' % (n, seen[n])
        out.append(n)
    return out
