"""Atomic file writes: a file is either written whole or not at all.

The bytes go to a temporary file in the target's own directory, are flushed and fsynced,
and the temporary file is then renamed onto the target with ``os.replace``, which is atomic
on POSIX and Windows; finally the directory itself is fsynced so the rename survives a
power cut. A crash, a full disk or an exception in the writer leaves the target as it was
(absent, or its previous contents) and removes the temporary file. Model files,
checkpoints, ``metrics.json`` and prediction CSVs are all written this way.

What the target already is decides what happens:

- a regular file is replaced, keeping its permission bits (a new file gets 0o666 minus
  the umask);
- a symbolic link is followed: the file it points to is replaced (or created), and the
  link stays;
- a character device, FIFO or socket is a stream, where replacement makes no sense: the
  bytes are written straight to it (``-o /dev/stdout``, ``-o /dev/null``), so a failure
  midway can leave part of the output behind;
- a directory, a block device or anything else is refused with the ``error`` given.

::

    with atomic_open("metrics.json", "w") as file:
        json.dump(metrics, file)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..errors import ChainruleError, DataError

Writer = Callable[[BinaryIO], None]


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", *, encoding: str | None = None, newline: str | None = None,
                error: type[ChainruleError] = DataError) -> Iterator:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends normally.

    A symbolic link is followed and the file it points to is replaced; a character
    device, FIFO or socket is opened and written directly, without a temporary file
    (see the module docstring). An existing file keeps its permission bits.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.
    mode : "wb" (default) or "w"
        Binary or text; text is UTF-8 unless ``encoding`` says otherwise.
    encoding, newline : str, optional
        As for :func:`open`, text mode only (``newline=""`` for the csv module).
    error : ChainruleError subclass
        Raised, naming ``path``, when the file cannot be written (missing or read-only
        directory, full disk, a directory or block device as target). An exception raised
        inside the ``with`` block is re-raised as it is, after the temporary file has been
        removed.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode: expected 'wb' or 'w', got {mode!r}")
    target = Path(path)
    status = _status(target, error)
    if status is not None and _is_stream(status.st_mode):
        with _open_stream(target, mode, encoding, newline, error) as file:
            yield file
        return
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise error(f"{target}: cannot write (it is {_kind(status.st_mode)}, not a file)")
    # The file a symbolic link points to is replaced; the link itself stays.
    destination = Path(os.path.realpath(target)) if target.is_symlink() else target
    directory = destination.parent
    # A short fixed-length name: it fits in the directory whenever the target's name does.
    temporary = directory / f".chainrule-{secrets.token_hex(8)}.tmp"
    try:
        # O_EXCL: never reuse an existing file; mode 0o666 lets the umask set the permissions.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as cause:
        raise error(f"{target}: cannot write ({_reason(cause, directory)})") from None
    try:
        if status is not None and hasattr(os, "fchmod"):
            # Keep an existing file's permissions: a private 0o600 model stays private.
            os.fchmod(descriptor, stat.S_IMODE(status.st_mode) & 0o777)
        with os.fdopen(descriptor, mode, encoding=(encoding or "utf-8") if mode == "w" else None,
                       newline=newline if mode == "w" else None) as file:
            yield file
            _sync(file, target, error)
        try:
            os.replace(temporary, destination)
        except OSError as cause:
            raise error(f"{target}: cannot write ({_reason(cause, directory)})") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def atomic_write(path, data: bytes | str | Writer, *, error: type[ChainruleError] = DataError) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`).

    ``data`` is the whole content (bytes, or str written as UTF-8), or a function that
    writes it to the binary file object it is given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
    >>> atomic_write(target, "hello")
    >>> target.read_text()
    'hello'
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_open(path, "wb", error=error) as file:
        if isinstance(data, (bytes, bytearray, memoryview)):
            try:
                file.write(data)
            except OSError as cause:
                raise error(f"{path}: cannot write ({_reason(cause, Path(path).parent)})") from None
        else:
            data(file)


def _status(target: Path, error: type[ChainruleError]) -> os.stat_result | None:
    """What ``target`` is, following symbolic links; None if nothing exists there yet."""
    try:
        return os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        # Nothing there (or a dangling link): creating the file reports any real problem.
        return None
    except OSError as cause:
        raise error(f"{target}: cannot write ({_reason(cause, target.parent)})") from None


def _is_stream(file_mode: int) -> bool:
    """Whether the file type is one written to as a stream rather than replaced."""
    return stat.S_ISCHR(file_mode) or stat.S_ISFIFO(file_mode) or stat.S_ISSOCK(file_mode)


def _kind(file_mode: int) -> str:
    """The file type, as words for an error message."""
    if stat.S_ISDIR(file_mode):
        return "a directory"
    if stat.S_ISBLK(file_mode):
        return "a block device"
    return "a special file"


@contextlib.contextmanager
def _open_stream(target: Path, mode: str, encoding: str | None, newline: str | None,
                 error: type[ChainruleError]) -> Iterator:
    """Open a device, FIFO or socket for writing in place (a FIFO waits for its reader)."""
    try:
        descriptor = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    except OSError as cause:
        raise error(f"{target}: cannot write ({cause.strerror or cause})") from None
    with os.fdopen(descriptor, mode, encoding=(encoding or "utf-8") if mode == "w" else None,
                   newline=newline if mode == "w" else None) as file:
        yield file
        try:
            file.flush()
        except OSError as cause:
            raise error(f"{target}: cannot write ({cause.strerror or cause})") from None


def _sync(file, target: Path, error: type[ChainruleError]) -> None:
    """Push ``file``'s bytes through the OS caches to the disk."""
    try:
        file.flush()
        os.fsync(file.fileno())
    except OSError as cause:
        raise error(f"{target}: cannot write ({_reason(cause, target.parent)})") from None


def _fsync_directory(directory: Path) -> None:
    """Make the rename in ``directory`` durable (POSIX; Windows cannot open a directory).

    Best effort: the new file is already in place, and some file systems (network mounts)
    refuse to fsync a directory.
    """
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _reason(cause: OSError, directory: Path) -> str:
    """A short account of why writing in ``directory`` failed."""
    if isinstance(cause, FileNotFoundError) and not directory.is_dir():
        return f"directory {str(directory)!r} does not exist"
    if isinstance(cause, NotADirectoryError):
        return f"{str(directory)!r} is not a directory"
    if isinstance(cause, PermissionError):
        return f"permission denied in directory {str(directory)!r}"
    return cause.strerror or str(cause)
