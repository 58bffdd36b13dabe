"""Downloading and caching files, and feeding batches from workers.

Implements the FAQ's "How can I use Keras with datasets that don't fit in
memory?" (a `Sequence` or a generator feeds `fit_generator` one batch at a
time, prepared by worker threads or processes) and the download cache that
`refkeras.datasets` uses (`get_file`, in `<Keras directory>/datasets`, see
"Where is the Keras configuration file stored?").

How the enqueuers work. An enqueuer hands out tasks ("prepare batch i" for a
`Sequence`, "take the next item" for a generator) to a small pool of workers,
keeps at most `max_queue_size` tasks ahead of the consumer, and gives the
results back in order. The pool is one of:

- inline (`workers=0`): each task runs in the calling thread when its result
  is needed;
- threads (`use_multiprocessing=False`): `workers` threads sharing the data
  source;
- processes (`use_multiprocessing=True`): `workers` forked processes, each
  with its own copy of the data source. A `Sequence` is re-forked after every
  epoch, so that what its `on_epoch_end` changed reaches the workers.

Stopping an enqueuer ends every worker before `stop` returns (processes are
terminated, threads joined), so nothing outlives `fit_generator`. An
exception raised by a worker is raised again in the consumer, with the
worker's traceback attached as a note when it came from another process.

Differences from Keras 2.2.4, on purpose:
- `get_file` writes the download to a temporary file next to the target and
  renames it into place only when it is complete and its hash matches; a
  mismatch removes the file and raises an error saying so (Keras checked the
  hash only of a file already in the cache). An archive is extracted into a
  temporary folder first, so a failed extraction leaves nothing behind (Keras
  deleted the whole cache folder), and tar members that would land outside the
  target folder are refused.
- `_hash_file(path, 'auto')` uses sha256 (Keras raised a TypeError).
- The enqueuers call `Sequence.on_epoch_end` after every complete pass, also
  with `workers=0`, and `workers=0` honours `shuffle` (Keras did neither on the
  main thread).
- Several threads may share a plain generator: calls to `next` are
  serialised and the batches keep the generator's order (Keras raised "Your
  generator is NOT thread-safe" for `workers > 1`).
- Processes are forked even where another start method is the default; a
  platform without `fork` gets a clear error.
"""
import collections
import hashlib
import http.client
import itertools
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import tarfile
import tempfile
import threading
import traceback
import uuid
import warnings
import zipfile
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

import numpy as np

from refkeras.backend import config as config_module
from refkeras.utils.progbar import Progbar

# Seconds a download may wait for the server (connection or next chunk).
DOWNLOAD_TIMEOUT = 60
_CHUNK_SIZE = 64 * 1024


# --- file download and cache -------------------------------------------------------


def _hash_file(fpath, algorithm='sha256', chunk_size=65535):
    """The hex digest of a file.

    # Arguments
        fpath: path of the file.
        algorithm: 'sha256', 'md5', or 'auto' (meaning sha256 here).
        chunk_size: bytes read at a time.

    # Returns
        The hash as a lowercase hex string.

    # Raises
        ValueError: for an unknown algorithm.
    """
    if algorithm in ('sha256', 'auto'):
        hasher = hashlib.sha256()
    elif algorithm == 'md5':
        hasher = hashlib.md5()
    else:
        raise ValueError("Unknown hash algorithm %r; expected 'sha256', 'md5' or 'auto'."
                         % (algorithm,))
    with open(fpath, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            hasher.update(chunk)
    return hasher.hexdigest()


def _resolve_algorithm(file_hash, algorithm):
    """'auto' means sha256 for a 64-character hash, md5 otherwise."""
    if algorithm == 'auto':
        return 'sha256' if len(str(file_hash)) == 64 else 'md5'
    if algorithm not in ('sha256', 'md5'):
        raise ValueError("Unknown hash algorithm %r; expected 'sha256', 'md5' or 'auto'."
                         % (algorithm,))
    return algorithm


def validate_file(fpath, file_hash, algorithm='auto', chunk_size=65535):
    """Whether a file has the expected sha256 or md5 hash.

    # Arguments
        fpath: path of the file.
        file_hash: the expected hex digest (case does not matter).
        algorithm: 'sha256', 'md5', or 'auto' (sha256 for a 64-character
            hash, md5 otherwise).
        chunk_size: bytes read at a time.

    # Returns
        True if the file's hash is `file_hash`.
    """
    algorithm = _resolve_algorithm(file_hash, algorithm)
    return _hash_file(fpath, algorithm, chunk_size) == str(file_hash).lower()


def _cache_folder(cache_dir, cache_subdir):
    """The folder files go to; `/tmp/.keras/<subdir>` when `cache_dir` is not writable."""
    base = os.path.expanduser(cache_dir)
    datadir = os.path.join(base, cache_subdir)
    try:
        os.makedirs(datadir, exist_ok=True)
        if os.access(datadir, os.W_OK):
            return datadir
    except OSError:
        pass
    datadir = os.path.join('/tmp', '.keras', cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    return datadir


def _download(origin, fpath, file_hash, hash_algorithm):
    """Downloads `origin` to `fpath` through a temporary file, checking the hash.

    # Raises
        OSError: when the URL cannot be fetched ("URL fetch failure on ...").
        ValueError: when the downloaded file's hash is not `file_hash` (the
            download is removed).
    """
    print('Downloading data from', origin)
    partial = '%s.%s.part' % (fpath, uuid.uuid4().hex[:12])
    try:
        try:
            response = urlopen(origin, timeout=DOWNLOAD_TIMEOUT)
        except HTTPError as e:
            raise OSError('URL fetch failure on %s: %s -- %s' % (origin, e.code, e.msg))
        except URLError as e:
            raise OSError('URL fetch failure on %s: %s -- %s'
                          % (origin, getattr(e, 'errno', None), e.reason))
        with response, open(partial, 'xb') as out:
            length = response.headers.get('Content-Length')
            progbar = Progbar(target=int(length) if length and length.isdigit() else None)
            received = 0
            while True:
                try:
                    chunk = response.read(_CHUNK_SIZE)
                except http.client.HTTPException as e:
                    raise OSError('URL fetch failure on %s: %s after %d bytes.'
                                  % (origin, type(e).__name__, received))
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                progbar.update(received)
            if progbar.target is not None and received < progbar.target:
                raise OSError('URL fetch failure on %s: the connection closed after %d of %d '
                              'bytes.' % (origin, received, progbar.target))
        if file_hash is not None:
            algorithm = _resolve_algorithm(file_hash, hash_algorithm)
            actual = _hash_file(partial, algorithm)
            if actual != str(file_hash).lower():
                raise ValueError('The file downloaded from %s has %s hash %s, but %s was '
                                 'expected: it is corrupt or not the expected file, so it was '
                                 'removed (nothing was written to %s).'
                                 % (origin, algorithm, actual, file_hash, fpath))
        os.replace(partial, fpath)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def _check_tar_members(archive, destination):
    """Refuses tar members that would land outside `destination` (for Pythons without
    `tarfile.data_filter`, which does this and more)."""
    root = os.path.realpath(destination)
    for member in archive.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        if os.path.commonpath([root, target]) != root or member.islnk() or member.issym() \
                or member.isdev():
            raise ValueError('Refusing to extract %r from %s: it would write outside %s, or is '
                             'a link or a device.' % (member.name, archive.name, root))


def _extract_archive(file_path, path='.', archive_format='auto'):
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into `path`.

    The archive is first extracted into a temporary folder inside `path`; its
    top-level entries are then moved into place (replacing older ones). If
    anything fails, the temporary folder is removed and `path` is unchanged.

    # Arguments
        file_path: the archive.
        path: the folder to extract into.
        archive_format: 'auto' (tar, then zip), 'tar', 'zip', a list of
            those, or None (extract nothing).

    # Returns
        True if the file was an archive of an accepted format and was
        extracted, False otherwise.

    # Raises
        ValueError: for an unknown format name.
        tarfile.TarError: for a tar member that would be written outside
            `path` (or a link pointing outside it).
    """
    if archive_format is None:
        return False
    if archive_format == 'auto':
        archive_format = ['tar', 'zip']
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    for fmt in archive_format:
        if fmt not in ('tar', 'zip'):
            raise ValueError("Unknown archive format %r; expected 'tar', 'zip', 'auto' or None."
                             % (fmt,))
    for fmt in archive_format:
        is_archive = tarfile.is_tarfile if fmt == 'tar' else zipfile.is_zipfile
        if not is_archive(file_path):
            continue
        os.makedirs(path, exist_ok=True)
        staging = tempfile.mkdtemp(prefix='.extract-', dir=path)
        try:
            if fmt == 'tar':
                with tarfile.open(file_path) as archive:
                    if hasattr(tarfile, 'data_filter'):
                        archive.extractall(staging, filter='data')
                    else:
                        _check_tar_members(archive, staging)
                        archive.extractall(staging)
            else:
                with zipfile.ZipFile(file_path) as archive:
                    archive.extractall(staging)  # zipfile drops '..' and absolute paths
            for name in os.listdir(staging):
                target = os.path.join(path, name)
                if os.path.isdir(target) and not os.path.islink(target):
                    shutil.rmtree(target)
                os.replace(os.path.join(staging, name), target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return True
    return False


def get_file(fname, origin, untar=False, md5_hash=None, file_hash=None,
             cache_subdir='datasets', hash_algorithm='auto', extract=False,
             archive_format='auto', cache_dir=None):
    """Downloads a file from a URL unless it is already in the cache.

    The file goes to `<cache_dir>/<cache_subdir>/<fname>`; by default
    `cache_dir` is the Keras directory (`$KERAS_HOME`, else `~/.keras`, see
    the FAQ's "Where is the Keras configuration file stored?"), so datasets
    land in `~/.keras/datasets/`. A cached file whose hash does not match is
    downloaded again. A progress bar shows the download.

    # Arguments
        fname: file name; an absolute path is used as it is.
        origin: the URL (`http(s)://`, `ftp://` or `file://`).
        untar: deprecated, use `extract`: the download is
            `<fname>.tar.gz`, extracted into the cache folder, and the path
            returned is `<cache folder>/<fname>` (extraction is skipped when
            that path exists).
        md5_hash: deprecated, use `file_hash`: the file's md5.
        file_hash: the expected sha256 or md5 hex digest.
        cache_subdir: subfolder of `cache_dir` (an absolute path is used as
            it is).
        hash_algorithm: 'md5', 'sha256' or 'auto' (by the hash's length).
        extract: whether to extract the file as a tar or zip archive into the
            cache folder (at every call).
        archive_format: 'auto', 'tar', 'zip' or None.
        cache_dir: the base folder; default the Keras directory.

    # Returns
        The path of the downloaded file (or of the extracted folder, with
        `untar`).

    # Raises
        OSError: when the download fails (nothing is left in the cache).
        ValueError: when the downloaded file's hash does not match (the file
            is removed and the message says so).
    """
    if cache_dir is None:
        cache_dir = config_module.keras_dir()
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
        hash_algorithm = 'md5'
    datadir = _cache_folder(cache_dir, cache_subdir)
    if untar:
        untar_fpath = os.path.join(datadir, fname)
        fpath = untar_fpath + '.tar.gz'
    else:
        fpath = os.path.join(datadir, fname)

    download = not os.path.exists(fpath)
    if not download and file_hash is not None and \
            not validate_file(fpath, file_hash, algorithm=hash_algorithm):
        print('A local file was found, but it seems to be incomplete or outdated because the %s '
              'file hash does not match the original value of %s so we will re-download the '
              'data.' % (_resolve_algorithm(file_hash, hash_algorithm), file_hash))
        download = True
    if download:
        _download(origin, fpath, file_hash, hash_algorithm)

    if untar:
        if not os.path.exists(untar_fpath):
            _extract_archive(fpath, datadir, archive_format='tar')
        return untar_fpath
    if extract:
        _extract_archive(fpath, datadir, archive_format)
    return fpath


# --- Sequence ----------------------------------------------------------------------


class Sequence(object):
    """Base class of a dataset read batch by batch: `seq[i]` is batch `i`.

    Subclasses implement `__len__` (the number of batches) and
    `__getitem__(index)` (a complete batch: `(x, y)` or
    `(x, y, sample_weight)`), and may implement `on_epoch_end`, called after
    every complete pass (e.g. to reshuffle the samples between epochs).

    A `Sequence` is the safe way to use several workers (FAQ: "How can I use
    Keras with datasets that don't fit in memory?"): each batch index is
    handed to exactly one worker, so every sample is used once per epoch,
    which generators cannot guarantee.

    # Example

    ```python
        class ArraySequence(Sequence):
            def __init__(self, x, y, batch_size):
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return int(np.ceil(len(self.x) / float(self.batch_size)))

            def __getitem__(self, index):
                part = slice(index * self.batch_size, (index + 1) * self.batch_size)
                return self.x[part], self.y[part]
    ```
    """

    def __getitem__(self, index):
        """Batch number `index` (0-based)."""
        raise NotImplementedError('%s must implement __getitem__(index).'
                                  % type(self).__name__)

    def __len__(self):
        """The number of batches."""
        raise NotImplementedError('%s must implement __len__().' % type(self).__name__)

    def on_epoch_end(self):
        """Called after every complete pass over the batches; does nothing by default."""
        pass

    def __iter__(self):
        """The batches, in order, once."""
        for index in range(len(self)):
            yield self[index]


# --- workers -------------------------------------------------------------------------


def _attempt(function, argument):
    """Runs `function(argument)`; returns `(status, payload)` and never raises.

    `status` is 'ok' (payload: the value), 'stop' (the source is exhausted) or
    'error' (payload: `(exception, traceback text)`).
    """
    try:
        return 'ok', function(argument)
    except StopIteration:
        return 'stop', None
    except BaseException as e:  # noqa: B902 -- every failure must reach the consumer
        return 'error', (e, traceback.format_exc())


def _portable(result):
    """Pickles a worker result; an unpicklable value or error becomes a RuntimeError."""
    key, (status, payload) = result
    if status == 'error':
        error, text = payload
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:
            error = RuntimeError('%s: %s' % (type(error).__name__, error))
        error.add_note('Raised in enqueuer worker process %d:\n%s' % (os.getpid(), text))
        payload = (error, text)
    try:
        return pickle.dumps((key, (status, payload)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        error = RuntimeError('A batch prepared in an enqueuer worker process could not be sent '
                             'back to the main process (%s: %s): batches must be picklable '
                             'with use_multiprocessing=True.' % (type(e).__name__, e))
        return pickle.dumps((key, ('error', (error, ''))))


def _thread_worker(job, tasks, results):
    while True:
        task = tasks.get()
        if task is None:
            return
        results.put(job(task))


def _process_worker(job, tasks, results, seed):
    # Ctrl-C reaches the whole process group: let the main process handle it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if seed is not None:
        np.random.seed(seed)
    while True:
        task = tasks.get()
        if task is None:
            return
        results.put(_portable(job(task)))


class _InlineWorkers(object):
    """Runs each task in the calling thread, when its result is asked for."""

    def __init__(self, job):
        self._job = job
        self._tasks = collections.deque()

    def submit(self, task):
        self._tasks.append(task)

    def next_result(self):
        return self._job(self._tasks.popleft())

    def close(self, timeout=None):
        self._tasks.clear()


class _ThreadWorkers(object):
    """`count` daemon threads taking tasks from a queue."""

    def __init__(self, job, count):
        self._tasks = queue.Queue()
        self._results = queue.Queue()
        self._threads = [threading.Thread(target=_thread_worker,
                                          args=(job, self._tasks, self._results),
                                          name='refkeras-enqueuer-thread-%d' % i, daemon=True)
                         for i in range(count)]
        for thread in self._threads:
            thread.start()

    def submit(self, task):
        self._tasks.put(task)

    def next_result(self):
        return self._results.get()

    def close(self, timeout=None):
        """Drops the tasks not started yet and joins every thread."""
        try:
            while True:
                self._tasks.get_nowait()
        except queue.Empty:
            pass
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join(timeout)


def _fork_context():
    try:
        return multiprocessing.get_context('fork')
    except ValueError:
        raise ValueError('use_multiprocessing=True needs the "fork" start method, which this '
                         'platform does not provide; use threads (use_multiprocessing=False).')


class _ProcessWorkers(object):
    """`count` forked processes, each with its own copy of the data source."""

    def __init__(self, job, count, seed=None):
        context = _fork_context()
        self._tasks = context.SimpleQueue()
        self._results = context.Queue()
        self._processes = []
        for i in range(count):
            process = context.Process(
                target=_process_worker,
                args=(job, self._tasks, self._results, None if seed is None else seed + i),
                name='refkeras-enqueuer-process-%d' % i, daemon=True)
            process.start()
            self._processes.append(process)

    def submit(self, task):
        self._tasks.put(task)

    def next_result(self):
        while True:
            try:
                blob = self._results.get(timeout=0.1)
            except queue.Empty:
                dead = [p for p in self._processes if p.exitcode is not None]
                if dead:
                    raise RuntimeError('Enqueuer worker process %d died (exit code %s) while '
                                       'preparing a batch.' % (dead[0].pid, dead[0].exitcode))
                continue
            return pickle.loads(blob)

    def close(self, timeout=None):
        """Terminates and joins every process."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(timeout if timeout is not None else 5)
            if process.is_alive():
                process.kill()
                process.join()
        self._results.cancel_join_thread()
        self._results.close()
        self._tasks.close()


def _start_workers(job, workers, use_multiprocessing, seed=None):
    if workers == 0:
        return _InlineWorkers(job)
    if use_multiprocessing:
        return _ProcessWorkers(job, workers, seed)
    return _ThreadWorkers(job, workers)


class SequenceEnqueuer(object):
    """Base class of the enqueuers: prepares batches ahead of the consumer.

    # Usage

    ```python
        enqueuer = OrderedEnqueuer(sequence, use_multiprocessing=False)
        enqueuer.start(workers=2, max_queue_size=10)
        batches = enqueuer.get()   # an endless generator of batches
        x, y = next(batches)
        ...
        enqueuer.stop()            # every worker has ended when this returns
    ```

    # Arguments
        sequence: the data source.
        use_multiprocessing: processes (True) or threads (False).
    """

    def __init__(self, sequence, use_multiprocessing=False):
        self.sequence = sequence
        self.use_multiprocessing = bool(use_multiprocessing)
        self.workers = 0
        self.max_queue_size = 0
        self._workers = None
        self._running = False
        self._ready = {}
        self._run_id = 0

    def is_running(self):
        """Whether `start` was called and `stop` not yet."""
        return self._running

    def start(self, workers=1, max_queue_size=10):
        """Starts the workers.

        # Arguments
            workers: number of worker threads or processes; 0 prepares each
                batch in the calling thread, when it is asked for.
            max_queue_size: how many batches may be prepared ahead.

        # Raises
            ValueError: for a negative `workers` or a `max_queue_size` below 1.
        """
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or \
                workers < 0:
            raise ValueError('`workers` must be an integer >= 0 (0: run in the main thread); '
                             'received %r.' % (workers,))
        if isinstance(max_queue_size, bool) or \
                not isinstance(max_queue_size, (int, np.integer)) or max_queue_size < 1:
            raise ValueError('`max_queue_size` must be an integer >= 1; received %r.'
                             % (max_queue_size,))
        if self._running:
            self.stop()
        self.workers = int(workers)
        self.max_queue_size = int(max_queue_size)
        self._ready = {}
        self._run_id += 1
        self._open_workers()
        self._running = True

    def stop(self, timeout=None):
        """Stops the workers; when it returns, none is left running.

        Safe to call more than once.

        # Arguments
            timeout: seconds to wait for each worker (processes still alive
                then are killed).
        """
        self._running = False
        self._close_workers(timeout)
        self._ready = {}

    def get(self):
        """A generator of batches (see the subclasses); stops the enqueuer on error."""
        raise NotImplementedError

    # -- shared machinery --

    def _job(self):
        raise NotImplementedError

    def _open_workers(self):
        self._workers = _start_workers(self._job(), self.workers, self.use_multiprocessing,
                                       getattr(self, 'random_seed', None))

    def _close_workers(self, timeout=None):
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.close(timeout)

    def _wait_for(self, key):
        """The `(status, payload)` of result `key`, collecting others on the way.

        Returns `('stop', None)` if the enqueuer was stopped meanwhile.
        """
        while key not in self._ready:
            if self._workers is None:
                return 'stop', None
            other, outcome = self._workers.next_result()
            self._ready[other] = outcome
        status, payload = self._ready.pop(key)
        if status == 'error':
            raise payload[0]
        return status, payload

    def _guarded(self, batches):
        """Stops the enqueuer when the consumer's generator ends, fails or is closed
        (unless the enqueuer was restarted since)."""
        run_id = self._run_id
        try:
            for batch in batches:
                yield batch
        finally:
            if self._run_id == run_id:
                self.stop()

    def __del__(self):
        try:
            if getattr(self, '_workers', None) is not None:
                self._close_workers(timeout=1)
        except Exception:
            pass


class OrderedEnqueuer(SequenceEnqueuer):
    """Prepares the batches of a `Sequence` with workers; yields them in order.

    Each pass over the `Sequence` visits every index once (in a new random
    order every pass with `shuffle=True`); after the pass's last batch is
    ready, `sequence.on_epoch_end()` is called, and with processes the
    workers are re-forked to see its changes. Passes follow each other
    without end.

    # Arguments
        sequence: a `refkeras.utils.Sequence`.
        use_multiprocessing: processes (True) or threads (False).
        shuffle: whether each pass visits the indices in a random order
            (drawn from NumPy's global random generator).
    """

    def __init__(self, sequence, use_multiprocessing=False, shuffle=False):
        super(OrderedEnqueuer, self).__init__(sequence, use_multiprocessing)
        self.shuffle = shuffle
        self._passes = 0

    def _job(self):
        sequence = self.sequence

        def prepare(task):
            position, index = task
            return position, _attempt(sequence.__getitem__, index)
        return prepare

    def get(self):
        """An endless generator of the `Sequence`'s batches, pass after pass.

        # Raises
            ValueError: if the `Sequence` is empty.
            Any exception raised by `sequence[i]` or `on_epoch_end`.
        """
        return self._guarded(self._batches())

    def _batches(self):
        while self.is_running():
            count = len(self.sequence)
            if count < 1:
                raise ValueError('The Sequence %r is empty (len 0): it has no batch to give.'
                                 % (self.sequence,))
            order = np.random.permutation(count) if self.shuffle else np.arange(count)
            if self._passes > 0 and self.use_multiprocessing and self.workers > 0:
                self._close_workers()
                self._open_workers()
            self._passes += 1
            submitted = 0
            for position in range(count):
                while submitted < count and submitted - position < self.max_queue_size:
                    self._workers.submit((submitted, int(order[submitted])))
                    submitted += 1
                status, batch = self._wait_for(position)
                if status == 'stop':
                    return
                if position == count - 1:
                    self.sequence.on_epoch_end()
                yield batch


class GeneratorEnqueuer(SequenceEnqueuer):
    """Takes items from a generator (or any iterator) with workers.

    With threads, calls to `next` are serialised (a generator cannot run in
    two threads at once) and the items keep the generator's order. With
    processes, every worker advances its own copy of the generator, so with
    several workers the data is duplicated: use a `Sequence` for that.
    The generator may be finite: `get()` ends when it is exhausted.

    # Arguments
        sequence: the generator.
        use_multiprocessing: processes (True) or threads (False).
        wait_time: deprecated and unused.
        random_seed: with processes, worker `i` seeds NumPy's global random
            generator with `random_seed + i`.
    """

    def __init__(self, sequence, use_multiprocessing=False, wait_time=None, random_seed=None):
        super(GeneratorEnqueuer, self).__init__(sequence, use_multiprocessing)
        self.random_seed = random_seed
        if wait_time is not None:
            warnings.warn('`wait_time` is not used anymore.', DeprecationWarning)

    def _job(self):
        generator = self.sequence
        if self.use_multiprocessing and self.workers > 0:
            def take(task):  # each process has its own copy of the generator
                return task, _attempt(next, generator)
            return take
        lock = threading.Lock()
        tickets = itertools.count()

        def take_in_order(task):
            with lock:  # the ticket and the item are taken together: order kept
                return next(tickets), _attempt(next, generator)
        return take_in_order

    def get(self):
        """A generator of the items; it ends when the source is exhausted.

        # Raises
            Any exception raised by the source generator.
        """
        return self._guarded(self._items())

    def _items(self):
        submitted = 0
        taken = 0
        while self.is_running():
            while submitted - taken < self.max_queue_size:
                self._workers.submit(submitted)
                submitted += 1
            status, item = self._wait_for(taken)
            taken += 1
            if status == 'stop':
                return
            yield item
