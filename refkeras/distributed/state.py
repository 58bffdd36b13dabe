"""Which process of a distributed job this is, readable without MPI.

The engine asks two questions of every process, distributed or not: may it
print a progress bar, and may it write a checkpoint? Both are answered here,
by rank, without importing `mpi4py`: until `refkeras.distributed.init()` has
run, the process is alone and is rank 0 of 1. `init()` records its
communicator with `set_world`.
"""

_WORLD = [None]


def set_world(world):
    """Records the job's communicator (a `refkeras.distributed.comm.World`), or None."""
    _WORLD[0] = world


def world():
    """The recorded communicator, or None before `init()`."""
    return _WORLD[0]


def is_root():
    """Whether this process is rank 0 (True for a process that never called `init()`)."""
    return _WORLD[0] is None or _WORLD[0].rank == 0


def verbose_here(verbose):
    """The verbosity `fit` uses in this process: `verbose` on rank 0, 0 elsewhere.

    Horovod's convention: only the first rank reports, so a job of N ranks
    prints one progress bar, not N interleaved ones.
    """
    return verbose if is_root() else 0
