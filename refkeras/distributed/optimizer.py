"""`DistributedOptimizer`: any refkeras optimizer, with its gradients averaged over the ranks.

Each step, every rank computes the gradients of its own slice of the global
batch; before the update they are averaged over the ranks, weighted by the
number of samples each rank's step took:

    g = (n_0 g_0 + n_1 g_1 + ... + n_{N-1} g_{N-1}) / (n_0 + ... + n_{N-1})

Since every loss refkeras trains is a mean over the batch's samples, this
is the gradient of the whole global batch (regularisation penalties, the
same on every rank, come through unchanged). With equal slices it is
Horovod's plain average. The sample counts are exchanged first (a small
allgather); the weighted sum is then added element by element in rank order,
in float64 (`collectives.reduce_in_rank_order`), and is therefore the same on
every rank and in every run. Clipping (`clipnorm`, `clipvalue`) is applied to the
averaged gradients, as one process clips the gradient of the whole batch.

Then the wrapped optimizer's own update runs, on every rank with the same
gradients, so ranks that started from the same weights and slots (see
`callbacks.BroadcastGlobalVariablesCallback`) stay identical.
"""
import time

import numpy as np

from refkeras import backend as K
from refkeras import optimizers
from refkeras.distributed import state
from refkeras.distributed.collectives import reduce_in_rank_order
from refkeras.distributed.comm import ModelMismatchError
from refkeras.distributed.staging import staging_for_backend
from refkeras.engine import run_context


class _GradientAveraging(object):
    """Mixed in before an optimizer class: averages `get_gradients` over the ranks."""

    def get_gradients(self, loss, params):
        params = list(params)
        grads = self._unclipped_gradients(loss, params)
        if any(isinstance(g, K.SymbolicTensor) for g in grads):
            raise NotImplementedError(
                'DistributedOptimizer(%s) averages concrete gradients during `fit` / '
                '`train_on_batch`; it cannot be used in a symbolic `K.function` update.'
                % self.__class__.__name__)
        return self._clipped(average_gradients(state.world(), grads, params, self))


def _check_same_parameters(world, params, optimizer):
    """At the first step: every rank must train parameters of the same names and shapes."""
    mine = [(getattr(p, 'name', '?'), tuple(K.int_shape(p))) for p in params]
    everyone = world.allgather_object(mine, 'DistributedOptimizer: parameter layout')
    for r, theirs in enumerate(everyone):
        if theirs == everyone[0]:
            continue
        if len(theirs) != len(everyone[0]):
            raise ModelMismatchError(
                'DistributedOptimizer(%s): rank %d trains %d weights, rank 0 trains %d; every '
                'rank must train the same model.'
                % (optimizer.__class__.__name__, r, len(theirs), len(everyone[0])))
        for (name, shape), (root_name, root_shape) in zip(theirs, everyone[0]):
            if shape != root_shape:
                raise ModelMismatchError(
                    'DistributedOptimizer(%s): weight %r has shape %s on rank %d but %r has '
                    'shape %s on rank 0; every rank must train the same model.'
                    % (optimizer.__class__.__name__, name, shape, r, root_name, root_shape))


def average_gradients(world, grads, params, optimizer):
    """The sample-weighted average over ranks of `grads` (see the module's docstring).

    # Arguments
        world: the job's `comm.World`.
        grads: this rank's gradients, one per parameter (arrays of any backend).
        params: the parameters (checked, at the first call, to be the same on every rank).
        optimizer: the distributed optimizer (keeps the staging buffers and counters).

    # Returns
        Backend arrays of the averaged gradients, one per parameter.
    """
    if world.size == 1:
        return grads   # the average of one gradient is itself, bit for bit
    key = [id(p) for p in params]
    if getattr(optimizer, '_checked_params', None) != key:
        _check_same_parameters(world, params, optimizer)
        optimizer._checked_params = key
        optimizer._staging = staging_for_backend()
    samples = run_context.step_samples()
    dtype = np.result_type(*[K.dtype(g) for g in grads]) if grads else np.float32
    flat = optimizer._staging.pack(grads, dtype)
    what = 'DistributedOptimizer(%s): gradient allreduce' % optimizer.__class__.__name__
    start = time.perf_counter()
    weights = world.allgather_equal(np.array([1 if samples is None else samples], np.float64),
                                    what + ' (sample counts)')[:, 0]
    averaged = reduce_in_rank_order(world, flat, weights, weights.sum(), what)
    optimizer.reduction_seconds += time.perf_counter() - start
    optimizer.bytes_reduced_per_step = averaged.nbytes
    return optimizer._staging.unpack(averaged, grads)


def DistributedOptimizer(optimizer, name=None, device_dense='', device_sparse='',
                         compression=None, sparse_as_dense=False):
    """An optimizer like `optimizer` whose gradients are averaged over all ranks first.

    # Arguments
        optimizer: a refkeras optimizer instance (or its name, e.g. 'sgd').
        name, device_dense, device_sparse, sparse_as_dense: accepted for
            Horovod compatibility; refkeras has one dense path.
        compression: None (no compression); Horovod's fp16 compression
            would break the exactness this module promises.

    # Returns
        A new optimizer of a subclass of `optimizer`'s class with the same
        class name and configuration (so a saved model loads with the plain
        optimizer), whose `get_gradients` returns the averaged gradients.

    # Raises
        RuntimeError: if `refkeras.distributed.init()` has not been called.
        ValueError: for a compression other than None.
    """
    if state.world() is None:
        raise RuntimeError('DistributedOptimizer: call refkeras.distributed.init() first.')
    if compression not in (None, 'none') and getattr(compression, '__name__', '') != 'NoneCompressor':
        raise ValueError('DistributedOptimizer: only compression=None is supported (received %r): '
                         'compressing gradients would break the equality with one process.'
                         % (compression,))
    base = optimizers.get(optimizer)
    return _with_counters(_distributed_class(base.__class__).from_config(base.get_config()))


def _distributed_class(optimizer_class):
    """A subclass of `optimizer_class`, of the same name, whose gradients are averaged."""
    if issubclass(optimizer_class, _GradientAveraging):
        return optimizer_class
    return type(optimizer_class.__name__, (_GradientAveraging, optimizer_class),
                {'__module__': optimizer_class.__module__,
                 '__doc__': 'Distributed %s (see refkeras.distributed.optimizer).'
                            % optimizer_class.__name__})


def _with_counters(optimizer):
    optimizer.bytes_reduced_per_step = 0   # size of one step's gradient buffer
    optimizer.reduction_seconds = 0.0      # time spent exchanging and summing (benchmarks)
    return optimizer


def make_distributed_in_place(optimizer):
    """Turns an optimizer that already has state (a loaded model's) into a distributed one.

    Its variables (slots, step counter, hyperparameters) are kept as they
    are; only its class changes, to `DistributedOptimizer`'s subclass.

    # Arguments
        optimizer: a refkeras optimizer instance.

    # Returns
        The same object.
    """
    if state.world() is None:
        raise RuntimeError('DistributedOptimizer: call refkeras.distributed.init() first.')
    optimizer.__class__ = _distributed_class(optimizer.__class__)
    return _with_counters(optimizer)
