"""Writing a file atomically, and asking before overwriting one.

`write_hdf5_atomically` writes to a temporary file in the target's folder,
which is renamed over the target only once complete: a crash mid-write
leaves the previous file as it was. With `overwrite=False` it asks on a
terminal, as Keras does, and raises `OverwriteRefusedError` when nobody can
answer (no TTY).
"""
import os
import sys
import uuid

from refkeras.engine.saving.errors import OverwriteRefusedError
from refkeras.engine.saving.hdf5_format import _require_h5py, h5py
from refkeras.utils.io_utils import ask_to_proceed_with_overwrite as ask_on_the_terminal


def ask_to_proceed_with_overwrite(filepath):
    """Asks on the terminal whether to overwrite `filepath`.

    # Returns
        True to go on, False to keep the existing file.

    # Raises
        OverwriteRefusedError: when standard input is not a terminal (nobody
            can answer).
    """
    stdin = sys.stdin
    if stdin is None or not hasattr(stdin, 'isatty') or not stdin.isatty():
        raise OverwriteRefusedError(
            17, 'The file exists and overwrite=False; refusing to replace it (no terminal to ask '
            'for confirmation). Pass overwrite=True or choose another path', os.fspath(filepath))
    return ask_on_the_terminal(filepath)


def _temporary_sibling(path):
    """Creates an empty, new file next to `path` and returns its name.

    It is made with the permissions a new file would get (the umask applies),
    or those of the existing file at `path`.
    """
    folder, base = os.path.split(os.path.abspath(path))
    mode = 0o666
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o777
    for _ in range(100):
        candidate = os.path.join(folder, '.%s.%s.tmp' % (base, uuid.uuid4().hex[:12]))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        os.close(fd)
        if os.path.exists(path):
            os.chmod(candidate, mode)
        return candidate
    raise FileExistsError('Could not create a temporary file next to %r.' % (path,))


def _fsync_path(path, directory=False):
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, 'O_DIRECTORY', 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_hdf5_atomically(filepath, write, overwrite=True):
    """Writes an HDF5 file through `write(h5py.File)`, atomically.

    The data go to a temporary file in the target's folder, which replaces
    the target (`os.replace`) only after `write` returned and the file was
    closed and synced. If anything fails, the temporary file is removed and
    an existing file at `filepath` is left as it was.

    # Arguments
        filepath: path of the file to write; or an open `h5py.File` /
            `h5py.Group`, which is written into directly (no atomicity).
        write: function of one argument, the h5py group to fill.
        overwrite: if False and the file exists, ask (see
            `ask_to_proceed_with_overwrite`).

    # Returns
        True if the file was written, False if the user declined.

    # Raises
        OverwriteRefusedError: `overwrite=False`, the file exists and there
            is no terminal to ask.
    """
    _require_h5py('save')
    if isinstance(filepath, h5py.Group):
        write(filepath)
        filepath.file.flush()
        return True
    path = os.fspath(filepath)
    if not overwrite and os.path.isfile(path):
        if not ask_to_proceed_with_overwrite(path):
            return False
    temporary = _temporary_sibling(path)
    try:
        with h5py.File(temporary, 'w') as handle:
            write(handle)
        _fsync_path(temporary)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    _fsync_path(os.path.dirname(os.path.abspath(path)), directory=True)
    return True
