"""Data parallelism across processes and machines over MPI, with Horovod's Keras API.

A Horovod script ports by changing its import:

    import refkeras.distributed as hvd      # was: import horovod.keras as hvd

    hvd.init()
    x_mine, y_mine = hvd.shard([x, y], global_batch_size=128)
    model.compile(optimizer=hvd.DistributedOptimizer(SGD(lr=0.01)), loss=...)
    model.fit(x_mine, y_mine, batch_size=128 // hvd.size(), shuffle=False,
              callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                         hvd.callbacks.MetricAverageCallback()])

and runs with `mpirun -np 4 python train.py`. MPI comes from `mpi4py`
(`pip install 'refkeras[distributed]'` brings mpi4py and MPICH's wheel,
whose `mpirun` lands next to the Python executable).

What the job does, and what it promises (docs/distributed.md has the
details and the measurements):
- `DistributedOptimizer` averages the gradients of the ranks' slices of each
  global batch (weighted by their sample counts) before every update, adding
  them in rank order: every rank gets the same bits, and so does every run.
  N ranks then train like one process on the global batch, up to float32
  rounding of the reduction (`optimizer.py`, `collectives.py`).
- `callbacks.BroadcastGlobalVariablesCallback(0)` gives every rank rank 0's
  weights *and* optimizer slots before the first step, after checking that
  the models have the same layout (`ModelMismatchError` names the layer).
- Only rank 0 prints `fit`'s progress bar and writes `ModelCheckpoint` files
  (`state.py`, the engine's hooks).
- Every collective gives up after `timeout` seconds (`RankTimeoutError`); an
  exception left uncaught on any rank aborts the whole job (`MPI_Abort`), so a
  dead or stuck rank ends the job instead of hanging it (`comm.py`).
- With the `numba` accelerator each rank takes its machine's GPU number
  `local_rank()` and gradients go through pinned host buffers
  (`accel/distributed.py`).
"""
import os
import sys
import time

from refkeras.distributed import state
from refkeras.distributed.comm import DistributedError, ModelMismatchError, RankTimeoutError
from refkeras.distributed.data import shard, shard_indices, split_validation

__all__ = ['init', 'shutdown', 'is_initialized', 'size', 'rank', 'local_rank', 'local_size',
           'DistributedOptimizer', 'allreduce', 'broadcast', 'allgather', 'barrier',
           'broadcast_global_variables', 'load_model', 'callbacks', 'shard', 'shard_indices',
           'split_validation', 'DistributedError', 'ModelMismatchError', 'RankTimeoutError',
           'DEFAULT_TIMEOUT']

DEFAULT_TIMEOUT = 300.0
_OUTPUT_GRACE = 0.5   # seconds between a failed rank's last words and MPI_Abort

_INSTALL_HINT = ("refkeras.distributed needs mpi4py and an MPI library: install them with "
                 "`pip install 'refkeras[distributed]'` (mpi4py and MPICH's wheel), or "
                 "`pip install mpi4py` next to a system MPI (Open MPI, MPICH).")


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError('%s (%s)' % (_INSTALL_HINT, error)) from error
    except RuntimeError as error:  # mpi4py installed, but no MPI library found
        raise ImportError('%s (mpi4py could not load an MPI library: %s)'
                          % (_INSTALL_HINT, error)) from error
    return MPI


# The functions below import their modules when called: refkeras.callbacks
# imports this package (for `state`) while it is itself being imported, and
# those modules import refkeras.callbacks, the optimizers and the engine.
# mpi4py and accel are optional and imported only where they are needed.


def init(comm=None, timeout=None, abort_on_error=True):
    """Starts (or joins) the MPI job; call it once, first thing, on every rank.

    # Arguments
        comm: an `mpi4py` communicator (default `MPI.COMM_WORLD`).
        timeout: seconds a collective may wait for the other ranks before
            `RankTimeoutError` (default: `$REFKERAS_DISTRIBUTED_TIMEOUT`, or
            300). Keep it above the longest gap between two steps of a rank
            (the slowest rank's import, build and first batch).
        abort_on_error: in a job of several ranks, an exception left uncaught
            on one rank calls `MPI_Abort` after printing its traceback, so the
            other ranks end at once instead of waiting.

    # Returns
        None.

    # Raises
        ImportError: without mpi4py or an MPI library, naming what to install.
    """
    from refkeras.distributed.comm import World
    if state.world() is not None:
        return
    MPI = _import_mpi()
    if timeout is None:
        timeout = float(os.environ.get('REFKERAS_DISTRIBUTED_TIMEOUT', DEFAULT_TIMEOUT))
    world = World(comm if comm is not None else MPI.COMM_WORLD, timeout)
    state.set_world(world)
    if abort_on_error and world.size > 1:
        _abort_on_uncaught_exceptions(world)
    _select_local_device(world)


def _abort_on_uncaught_exceptions(world):
    previous = sys.excepthook

    def abort_job(kind, value, traceback):
        # The one-line summary first: the launcher may drop what a rank writes
        # just before MPI_Abort ends it.
        sys.stderr.write('refkeras.distributed: rank %d of %d failed with %s: %s\n'
                         % (world.rank, world.size, kind.__name__, value))
        sys.stderr.flush()
        previous(kind, value, traceback)
        sys.stderr.write('refkeras.distributed: aborting the job.\n')
        sys.stderr.flush()
        time.sleep(_OUTPUT_GRACE)   # lets the launcher forward the output
        world.abort(1)
    sys.excepthook = abort_job


def _select_local_device(world):
    """On a backend plugin with devices (accel), this rank computes on device
    `local_rank` of its machine (see `refkeras.backend.plugins`)."""
    from refkeras.backend import state as backend_state
    plugin = backend_state.backend_plugin()
    world.device = None if plugin is None else plugin.select_device(world.local_rank)


def shutdown():
    """Forgets the job (MPI itself is finalized when the process exits)."""
    state.set_world(None)


def is_initialized():
    """Whether `init()` has been called in this process."""
    return state.world() is not None


def _world():
    world = state.world()
    if world is None:
        raise ValueError('refkeras.distributed has not been initialized; call '
                         'refkeras.distributed.init() first.')
    return world


def size():
    """The number of ranks in the job."""
    return _world().size


def rank():
    """This process's rank, 0 to `size() - 1`."""
    return _world().rank


def local_size():
    """The number of ranks on this machine."""
    return _world().local_size


def local_rank():
    """This process's rank among the ranks of its machine (which GPU it takes)."""
    return _world().local_rank


def allreduce(value, average=True, name=None):
    """The mean (or, with `average=False`, the sum) over ranks of an array.

    Added in rank order in float64 and rounded once to the array's dtype, so
    every rank gets the same bits in every run.

    # Arguments
        value: an array (NumPy, or the running backend's); the same shape and
            dtype on every rank.
        average: True for the mean, False for the sum.
        name: names the operation in error messages.

    # Returns
        A NumPy array.

    # Raises
        ModelMismatchError: on every rank, if the ranks' shapes or dtypes differ.
        RankTimeoutError: if some rank does not take part within the timeout.
    """
    from refkeras.distributed import collectives
    return collectives.allreduce(_world(), value, average, name or 'allreduce')


def broadcast(value, root_rank, name=None):
    """`root_rank`'s array, on every rank (same shape and dtype everywhere).

    # Returns
        A NumPy array.
    """
    from refkeras.distributed import collectives
    return collectives.broadcast(_world(), value, root_rank, name or 'broadcast')


def allgather(value, name=None):
    """Every rank's array concatenated along the first axis, in rank order.

    The first dimension may differ from rank to rank.

    # Returns
        A NumPy array.
    """
    from refkeras.distributed import collectives
    return collectives.allgather(_world(), value, name or 'allgather')


def barrier():
    """Waits until every rank has called `barrier()` (with the timeout)."""
    _world().barrier()


def broadcast_global_variables(root_rank, model=None):
    """Gives every rank `root_rank`'s weights and optimizer state of `model`.

    Horovod broadcasts every global variable of the TensorFlow session;
    refkeras has no session, so the model is named.
    """
    from refkeras.distributed.model_sync import broadcast_model
    if model is None:
        raise ValueError('broadcast_global_variables: pass the model (refkeras has no global '
                         'session to find its variables in).')
    broadcast_model(_world(), model, root_rank, 'broadcast_global_variables')


def DistributedOptimizer(optimizer, name=None, device_dense='', device_sparse='',
                         compression=None, sparse_as_dense=False):
    """See `refkeras.distributed.optimizer.DistributedOptimizer`."""
    from refkeras.distributed import optimizer as optimizer_module
    return optimizer_module.DistributedOptimizer(optimizer, name, device_dense, device_sparse,
                                                 compression, sparse_as_dense)


def load_model(filepath, custom_objects=None, compression=None):
    """Loads a model saved by `model.save`, with its optimizer made distributed.

    As Horovod's `load_model`: the optimizer keeps the state stored in the
    file (slots, step counter) and averages its gradients over the ranks from
    the next step on. Add `BroadcastGlobalVariablesCallback(0)` to `fit` (or
    call `broadcast_global_variables(0, model)`) if the ranks might have read
    different files.

    # Arguments
        filepath: the HDF5 file.
        custom_objects: as for `refkeras.models.load_model`.
        compression: None (see `DistributedOptimizer`).

    # Returns
        The compiled model.
    """
    from refkeras.distributed import optimizer as optimizer_module
    from refkeras.models import load_model as plain_load_model
    if compression is not None:
        raise ValueError('load_model: only compression=None is supported (received %r).'
                         % (compression,))
    model = plain_load_model(filepath, custom_objects=custom_objects)
    if getattr(model, 'optimizer', None) is not None:
        optimizer_module.make_distributed_in_place(model.optimizer)
    return model


def __getattr__(name):
    # `hvd.callbacks` is imported on first use: refkeras.callbacks imports this
    # package (for `state`) while it is itself being imported.
    if name == 'callbacks':
        import importlib
        return importlib.import_module('refkeras.distributed.callbacks')
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
