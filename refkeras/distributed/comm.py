"""The job's communicator: MPI collectives that give up after a timeout.

Every collective here is started non-blocking (`Iallgather`, `Ibcast`, ...)
and then polled until it completes or `timeout` seconds have passed. A rank
that died or hangs therefore makes the others raise `RankTimeoutError`, which
names the operation, instead of waiting forever in a blocking call. (When a
rank's process exits, MPICH's launcher usually ends the whole job at once;
the timeout covers the ranks that are alive but stuck, and launchers that do
not clean up.) `init()` also turns an exception left uncaught on any rank
into `MPI_Abort`, so that one failing rank ends the whole job.

Only buffers of NumPy arrays travel: Python objects (shapes, names, log
dictionaries) are pickled into byte arrays first, their lengths exchanged
before the bytes.
"""
import pickle
import time

import numpy as np


class DistributedError(RuntimeError):
    """A collective operation could not be completed across the job's ranks."""


class RankTimeoutError(DistributedError):
    """A collective did not complete on every rank within the timeout."""


class ModelMismatchError(DistributedError, ValueError):
    """The ranks' models (or arrays) do not have the same layout."""


# Polling: MPI moves a large message forward only while some call of this rank
# tests it, so a collective is first polled without pause (the usual wait, a
# step's exchange, is a few milliseconds, and every nap would add to it); past
# `_SPIN` seconds the rank is clearly waiting for a slower one (starting up,
# validating) and naps, so as not to take a CPU core away from it.
_SPIN = 0.02
_FIRST_NAP = 50e-6
_LONGEST_NAP = 10e-3


class World(object):
    """The ranks of one job, with collectives that time out.

    # Arguments
        comm: an `mpi4py.MPI.Comm` (normally `MPI.COMM_WORLD`).
        timeout: seconds any one collective may take before
            `RankTimeoutError` is raised.

    # Attributes
        rank, size: this process's rank and the number of ranks.
        local_rank, local_size: the same among the ranks of this machine.
    """

    def __init__(self, comm, timeout):
        from mpi4py import MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank = node.Get_rank()
        self.local_size = node.Get_size()
        node.Free()
        self.timeout = float(timeout)
        self.bytes_sent = 0   # payload bytes this rank contributed to collectives

    # --- waiting --------------------------------------------------------------------------

    def wait(self, request, what):
        """Polls `request` until it completes; raises after `self.timeout` seconds.

        # Raises
            RankTimeoutError: naming `what`, this rank and the timeout.
        """
        start = time.monotonic()
        deadline = start + self.timeout
        nap = _FIRST_NAP
        while not request.Test():
            now = time.monotonic()
            if now - start < _SPIN:
                continue
            if now > deadline:
                raise RankTimeoutError(
                    'refkeras.distributed: %s did not complete within %g s on rank %d of %d: '
                    'another rank has died, hangs, or did not reach the same call (set the '
                    'timeout with init(timeout=...) or REFKERAS_DISTRIBUTED_TIMEOUT).'
                    % (what, self.timeout, self.rank, self.size))
            time.sleep(nap)
            nap = min(nap * 2, _LONGEST_NAP)

    def abort(self, code=1):
        """Ends every rank of the job (`MPI_Abort`)."""
        self.comm.Abort(code)

    # --- arrays ---------------------------------------------------------------------------

    def allgather_equal(self, array, what):
        """Every rank's `array` (all of the same shape and dtype), stacked by rank.

        # Returns
            An array of shape `(size,) + array.shape`; row `r` is rank r's.
        """
        send = np.ascontiguousarray(array)
        out = np.empty((self.size,) + send.shape, dtype=send.dtype)
        self.bytes_sent += send.nbytes
        self.wait(self.comm.Iallgather(send, out), what)
        return out

    def allgather_bytes(self, payload, what):
        """Every rank's `payload` (a 1-D uint8 array, of any length), in rank order."""
        lengths = self.allgather_equal(np.array([payload.size], dtype=np.int64),
                                       what + ' (lengths)')[:, 0]
        out = np.empty(int(lengths.sum()), dtype=np.uint8)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.bytes_sent += payload.nbytes
        self.wait(self.comm.Iallgatherv(payload, [out, (lengths, offsets), 'B']), what)
        return [out[start:start + length] for start, length in zip(offsets, lengths)]

    def allgatherv(self, send, out, counts, offsets, what):
        """Fills `out` (1-D) with every rank's `send`: rank r's at `offsets[r]`, `counts[r]` long."""
        self.bytes_sent += send.nbytes
        self.wait(self.comm.Iallgatherv(send, [out, (counts, offsets)]), what)
        return out

    def alltoallv(self, send, send_counts, send_offsets, recv, recv_counts, recv_offsets, what):
        """Sends part r of `send` to rank r and receives every rank's part for this one."""
        self.bytes_sent += send.nbytes
        self.wait(self.comm.Ialltoallv([send, (send_counts, send_offsets)],
                                       [recv, (recv_counts, recv_offsets)]), what)
        return recv

    def broadcast_into(self, array, root, what):
        """Overwrites `array` (contiguous) with root's array, in place."""
        if self.rank == root:
            self.bytes_sent += array.nbytes
        self.wait(self.comm.Ibcast(array, root=root), what)
        return array

    # --- Python objects ---------------------------------------------------------------------

    def allgather_object(self, obj, what):
        """Every rank's picklable `obj`, as a list in rank order."""
        payload = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
        return [pickle.loads(part.tobytes()) for part in self.allgather_bytes(payload, what)]

    def barrier(self, what='barrier'):
        """Waits (with the timeout) until every rank has reached this call."""
        self.wait(self.comm.Ibarrier(), what)
