"""Atomic file writes: a file is either written whole or not at all.

The bytes go to a temporary file in the target's own directory, are flushed and fsynced,
and the temporary file is then renamed onto the target with ``os.replace``, which is atomic
on POSIX and Windows; finally the directory itself is fsynced so the rename survives a
power cut. A crash, a full disk or an exception in the writer leaves the target as it was
(absent, or its previous contents) and removes the temporary file. Model files,
checkpoints, ``metrics.json`` and prediction CSVs are all written this way.

::

    with atomic_open("metrics.json", "w") as file:
        json.dump(metrics, file)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..errors import ChainruleError, DataError

Writer = Callable[[BinaryIO], None]


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", *, encoding: str | None = None, newline: str | None = None,
                error: type[ChainruleError] = DataError) -> Iterator:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends normally.

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
        directory, full disk). An exception raised inside the ``with`` block is re-raised
        as it is, after the temporary file has been removed.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode: expected 'wb' or 'w', got {mode!r}")
    target = Path(path)
    directory = target.parent
    temporary = directory / f".{target.name}.{secrets.token_hex(8)}.tmp"
    try:
        # O_EXCL: never reuse an existing file; mode 0o666 lets the umask set the permissions.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as cause:
        raise error(f"{target}: cannot write ({_reason(cause, directory)})") from None
    try:
        with os.fdopen(descriptor, mode, encoding=(encoding or "utf-8") if mode == "w" else None,
                       newline=newline if mode == "w" else None) as file:
            yield file
            _sync(file, target, error)
        try:
            os.replace(temporary, target)
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
