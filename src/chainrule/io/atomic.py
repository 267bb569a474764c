"""Atomic file writes: a file is either written whole or not at all.

The bytes go to a temporary file in the target's own directory, are flushed and fsynced,
and the temporary file is then renamed onto the target with ``os.replace``, which is atomic
on POSIX and Windows; finally the directory itself is fsynced so the rename survives a
power cut. A full disk, an exception in the writer or a Ctrl-C leaves the target as it was
(absent, or its previous contents) and removes the temporary file. A process killed outright
(``kill -9``, the kernel's out-of-memory killer, a power cut) leaves the target as it was too,
but cannot remove its temporary file: a ``.chainrule-<8 hex digits>-<16 hex digits>.tmp`` beside
the target, the first 8 naming the target (:func:`temporary_tag`), which nothing reads. The next
write of the same target deletes it (:func:`remove_abandoned_of`), before making its own; any may be
deleted once no chainrule writes there (:func:`is_temporary` tells their names; ``chainrule train``
deletes those of its run folder once it holds the folder's lock, with :func:`remove_abandoned`).
While a write goes on, it holds an exclusive ``flock`` on its temporary file (POSIX), by which
:func:`remove_abandoned` tells it from a killed write's and leaves it.
Model files, checkpoints, ``metrics.json`` and prediction CSVs are all written this way.

What the target already is decides what happens:

- a regular file is replaced, keeping its permission bits (a new file gets 0o666 minus
  the umask), unless this user may not write it (``chmod 444``): that is refused with the
  ``error`` given, as ``open(path, "w")`` and a shell redirection refuse it, where the rename
  alone would need only the directory's permission (root, who may write any file, replaces it
  as they do);
- a symbolic link is followed: the file it points to is replaced (or created), and the
  link stays;
- a path naming an open file descriptor -- ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``,
  ``/proc/self/fd/N`` or a link to one of them -- is written to that descriptor, so the
  bytes follow whatever was already written there (``-o /dev/stdout >> app.log`` appends
  to ``app.log``; the file the descriptor has open is never replaced). Another process's
  ``/proc/PID/fd/N`` is opened for appending;
- a character device or FIFO is a stream, where replacement makes no sense: the bytes are
  written straight to it (``-o /dev/null``, a named pipe);
- a directory, a block device, a socket or anything else is refused with the ``error``
  given, naming the path; so is a path whose last part names a directory (``out/``, ``out/.``),
  which ``Path`` would turn into the file ``out``.

Bytes written to a descriptor or stream cannot be taken back: a failure midway can leave
part of the output there.

::

    with atomic_open("metrics.json", "w") as file:
        json.dump(metrics, file)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..errors import (
    MAX_PATH_LENGTH, PATH_QUOTE_LIMIT, ChainruleError, DataError, HyperparameterError, overlong_path, quoted,
)

try:
    import fcntl  # POSIX: a live write's lock on its temporary file
except ImportError:  # Windows, where an open file cannot be deleted
    fcntl = None

Writer = Callable[[BinaryIO], None]

# POSIX names of open descriptors: opening one re-opens the file the descriptor has open.
_STANDARD_STREAMS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_DESCRIPTOR_NAME = re.compile(r"(/dev/fd|/proc/(?P<process>self|thread-self|\d+)/fd)/(?P<number>\d+)")
_MAX_LINKS = 40  # as Linux's own limit on symbolic links followed in one path
# Bytes handed to a file object per write. A buffered write of more than its buffer whose pipe's
# reader leaves midway returns the bytes written and drops the error (CPython's BufferedWriter),
# so a write of the whole output into `| head` ended without a BrokenPipeError: in pieces, the next
# piece's write raises it (only a reader leaving within the last piece goes unseen).
WRITE_PIECE = 16 * 1024
#: why a file that :func:`is_read_only` is not replaced, and what to do
READ_ONLY = "the file is read-only (no write permission); make it writable (chmod u+w) or write to another file"
#: why a file on a file system mounted read-only is not replaced, where chmod would not help
READ_ONLY_FILE_SYSTEM = ("the file system holding it is mounted read-only; remount it read-write or write to a folder "
                         "on another file system")
# An atomic write's temporary file is named .chainrule-<8 hex digits>-<16 hex digits>.tmp (TEMPORARY_PREFIX,
# temporary_tag of the target's name, random digits, TEMPORARY_SUFFIX); earlier ones were .chainrule-<16 hex>.tmp,
# which is_temporary matches too.
TEMPORARY_PREFIX = ".chainrule-"
TEMPORARY_SUFFIX = ".tmp"
#: the length of a temporary file's name: the longest name a write puts in the target's folder (40 characters)
TEMPORARY_NAME_LENGTH = len(TEMPORARY_PREFIX) + 8 + 1 + 16 + len(TEMPORARY_SUFFIX)


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", *, encoding: str | None = None, newline: str | None = None,
                error: type[ChainruleError] = DataError) -> Iterator:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends normally.

    A symbolic link is followed and the file it points to is replaced; an open descriptor
    (``/dev/stdout``, ``/dev/fd/N``, ...), a character device or a FIFO is written directly,
    without a temporary file; a socket is refused (see the module docstring). An existing
    file keeps its permission bits.

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
        directory, a file this user may not write, full disk, a directory, block device or
        socket as target, a closed descriptor). An exception raised inside the ``with``
        block is re-raised as it is, after the temporary file has been removed.

    Raises HyperparameterError (see :func:`check_path`) if ``path`` is not a file path (None,
    an int, bytes, a NUL byte, a last part naming a directory), before anything is written.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode: expected 'wb' or 'w', got {mode!r}")
    check_path(path)
    target = Path(path)
    descriptor_path, status, destination = _destination(target, error)
    if destination is None:
        descriptor = _open_in_place(target, descriptor_path, error)
        with _write_in_place(descriptor, target, mode, encoding, newline, error) as file:
            yield file
        return
    directory = destination.parent
    remove_abandoned_of(destination)
    temporary, descriptor, held = _new_temporary(directory, destination.name, target, error)
    try:
        if status is not None and hasattr(os, "fchmod"):
            # Keep an existing file's permissions: a private 0o600 model stays private.
            os.fchmod(descriptor, stat.S_IMODE(status.st_mode) & 0o777)
        file = _file_object(descriptor, mode, encoding, newline)
        try:
            yield file
            _sync(file, target, error)
        finally:
            try:
                file.close()
            except OSError:  # the flush _sync reported failing again (a full disk): the descriptor is closed
                pass
        try:
            os.replace(temporary, destination)
        except OSError as cause:
            raise error(f"{target}: cannot write ({_reason(cause, directory)})") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    finally:
        if held is not None:
            os.close(held)
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
                write_in_pieces(file, data)
            except BrokenPipeError:  # a stream's reader left (-o /dev/stdout | head): the caller's to handle
                raise
            except OSError as cause:
                raise error(f"{path}: cannot write ({_reason(cause, Path(path).parent)})") from None
        else:
            data(file)


def is_temporary(name: str) -> bool:
    """Whether the file name ``name`` is one of chainrule's temporary files: ``.chainrule-*.tmp``, as
    :func:`atomic_open` names the file it writes before renaming it onto its target (a killed process
    leaves it behind)."""
    return (name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX)
            and len(name) > len(TEMPORARY_PREFIX) + len(TEMPORARY_SUFFIX))


def temporary_tag(name: str) -> str:
    """The 8 hex digits that name the target ``name`` (a file name, no folder) in the names of its atomic
    writes' temporary files: the start of the SHA-256 of its bytes, the same in every process. Two targets
    of one folder share it once in about 4 billion pairs; their writes would then delete each other's
    abandoned temporary files, which hold nothing either."""
    return hashlib.sha256(os.fsencode(name)).hexdigest()[:8]


def remove_abandoned_of(target: Path) -> None:
    """Delete the temporary files that killed writes of ``target`` left beside it (its :func:`temporary_tag`
    in their names), with :func:`remove_abandoned`: a write of the same target going on holds its own, which
    is left. Best effort: a folder that cannot be listed, or a file that cannot be deleted, is left as it is
    (the write then reports what it finds). Others' temporary files, of other targets, are never touched."""
    begins = f"{TEMPORARY_PREFIX}{temporary_tag(target.name)}-"
    pattern = re.compile(rf"{re.escape(begins)}[0-9a-f]{{16}}{re.escape(TEMPORARY_SUFFIX)}")
    try:
        with os.scandir(target.parent) as entries:
            names = [entry.name for entry in entries if entry.name.startswith(begins) and pattern.fullmatch(entry.name)]
    except OSError:  # no such folder (the write reports it), or not listable
        return
    for name in names:
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to delete
            remove_abandoned(target.parent / name)


def _new_temporary(directory: Path, name: str, target: Path,
                   error: type[ChainruleError]) -> tuple[Path, int, int | None]:
    """(path, descriptor, :func:`_hold`'s descriptor) of a new temporary file in ``directory`` for the target named
    ``name``, held. Another write of the same target, deleting what killed writes left (:func:`remove_abandoned_of`),
    may take it for one of those between its creation and its lock, and delete it, so that its rename failed ("No
    such file or directory": 7 of 600 writes when 4 processes wrote one file): it is then made again, named anew.
    The name is short and of fixed length: it fits in the directory whenever the target's name does."""
    while True:
        temporary = directory / f"{TEMPORARY_PREFIX}{temporary_tag(name)}-{secrets.token_hex(8)}{TEMPORARY_SUFFIX}"
        try:
            # O_EXCL: never reuse an existing file; mode 0o666 lets the umask set the permissions.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as cause:
            raise error(f"{target}: cannot write ({_reason(cause, directory)})") from None
        except BaseException:  # a Ctrl-C's KeyboardInterrupt, raised as os.open returned: the file is this write's
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        try:
            held = _hold(descriptor)
            if os.fstat(descriptor).st_nlink > 0:
                return temporary, descriptor, held
            if held is not None:  # deleted before it was locked
                os.close(held)
        except BlockingIOError:  # locked by another write, which deletes it
            pass
        except BaseException:
            os.close(descriptor)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        os.close(descriptor)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _hold(descriptor: int) -> int | None:
    """A second descriptor of the temporary file open as ``descriptor``, holding an exclusive ``flock`` on it
    until it is closed, after the rename (closing the file object closes ``descriptor`` before that): while
    it is held, :func:`remove_abandoned` leaves the file. None where there is no ``flock`` or the file
    system refuses it; BlockingIOError where another write's :func:`remove_abandoned` holds it, to delete it."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise
    except OSError:
        return None
    try:
        return os.dup(descriptor)
    except OSError:  # no descriptor left: the lock stays with the file's own until it is closed
        return None


def remove_abandoned(path: Path) -> bool:
    """Delete ``path``, a temporary file (:func:`is_temporary`) that a killed write left, and return True;
    leave it (False) where it is no regular file (a link, a folder, a FIFO of that name) or a write going on
    holds it (:func:`_hold`). OSError where it cannot be opened or deleted (gone meanwhile, another user's).

    A write that has created its temporary file and not yet locked it (between two system calls) is not
    told apart: it finds its file deleted, or locked, as it locks it, and makes another (:func:`_new_temporary`)."""
    if not stat.S_ISREG(path.lstat().st_mode):
        return False
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)  # not following a link put there meanwhile, nor waiting on a FIFO
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        if fcntl is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a write going on
                return False
            os.unlink(path)
            return True
    finally:
        os.close(descriptor)
    os.unlink(path)  # Windows, closed first: no flock there, and a file a write holds open cannot be deleted
    return True


def write_in_pieces(file, data) -> None:
    """``file.write(data)``, ``WRITE_PIECE`` bytes (or characters, for text) at a time, so that a
    pipe whose reader left raises BrokenPipeError (see ``WRITE_PIECE``)."""
    view = memoryview(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    for start in range(0, len(view), WRITE_PIECE):
        file.write(view[start:start + WRITE_PIECE])


def check_path(path, name: str = "path") -> None:
    """HyperparameterError naming ``name`` unless ``path`` is a file path: a str or an
    os.PathLike, not empty, without a NUL byte, its last part a name (not ``out/``, ``.``), and
    no longer than ``MAX_PATH_LENGTH`` characters (the file system's error quoted it whole).

    An int would be taken by ``open`` as a file descriptor (and closed afterwards), and
    True as descriptor 1; None and bytes fail deep inside with a TypeError, a NUL byte with a
    ValueError. ``Path("out/")`` is ``out``: a write would make a file of the directory's name.
    Called first by :func:`atomic_open` (so by every atomic write) and by the model and
    weights file readers.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise HyperparameterError(f"{name}: expected a file path (str or os.PathLike), got {type(path).__name__} "
                                  f"{quoted(path, 60)}")
    text = os.fsdecode(os.fspath(path))
    if text == "":  # Path("") is "."; "" would be read or written as the working directory
        raise HyperparameterError(f"{name}: expected a file name, got an empty path {path!r}")
    refuse_overlong_path(text, name)  # first: the messages below quote a path up to the longest one whole
    if "\0" in text:
        raise HyperparameterError(f"{name}: expected a file path, got {quoted(text, PATH_QUOTE_LIMIT)}, which holds a "
                                  f"NUL byte ('\\0'), as no file name can")
    if os.path.basename(text) in ("", ".", ".."):
        raise HyperparameterError(f"{name}: expected a file name, got {quoted(text, PATH_QUOTE_LIMIT)}, which names a "
                                  f"directory")


def refuse_overlong_path(path: str, name: str, error: type[ChainruleError] = HyperparameterError) -> None:
    """``error`` naming ``name`` for a path longer than ``MAX_PATH_LENGTH`` characters, which names
    no file: refused before the file system is asked, whose error (``File name too long``) went into
    a message with the path whole, 5,000 characters of an argument made a line of that size."""
    if len(path) > MAX_PATH_LENGTH:
        raise error(f"{name}: {overlong_path(path)}")


def is_read_only(path) -> bool:
    """Whether ``path`` is an existing file that this user may not write (``chmod 444``), as
    ``open(path, "w")`` and a shell redirection decide (``os.access``: root may write any file).

    :func:`atomic_open` refuses to replace such a file, which its rename alone would allow; the
    commands' output options ask first, through :func:`check_writable`.
    """
    return os.path.isfile(path) and not os.access(path, os.W_OK)


def check_writable(path, name: str, error: type[ChainruleError] = DataError) -> None:
    """``error`` naming ``name`` and ``path`` when :func:`atomic_open` could not write there
    because of what the path is: a directory (or block device, socket), or a file in a
    directory that does not exist, or a file this user may not write (:func:`is_read_only`).
    For a check before long work that ends in the write (a checkpoint after the first
    epochs); the directory's permissions and free space are left to the write.

    >>> check_writable("/missing/run.ckpt", "checkpoint")
    Traceback (most recent call last):
    ...
    chainrule.errors.DataError: checkpoint: /missing/run.ckpt: cannot write (directory '/missing' does not exist)
    """
    check_path(path, name)
    target = Path(path)
    destination = _destination(target, error, f"{name}: ")[2]
    if destination is None:  # written in place
        return
    directory = destination.parent
    if not directory.is_dir():
        reason = "is not a directory" if directory.exists() else "does not exist"
        raise error(f"{name}: {target}: cannot write (directory {str(directory)!r} {reason})")


def _destination(target: Path, error: type[ChainruleError], prefix: str = "") -> tuple:
    """(descriptor path, status, destination) of a write to ``target``: the destination is
    None for a target written in place (an open descriptor, a character device, a FIFO),
    else the file that the temporary file replaces (the one a symbolic link points to; the
    link itself stays). ``error``, its message led by ``prefix``, for a directory, a block
    device or a socket, and for a file this user may not write (:func:`is_read_only`)."""
    descriptor_path = _descriptor_path(target)
    # Not stat'ed: that would follow /proc/self/fd/1 to the very file it has open.
    status = _status(target, error, prefix) if descriptor_path is None else None
    if descriptor_path is not None or (status is not None and _is_stream(status.st_mode)):
        return descriptor_path, status, None
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise error(f"{prefix}{target}: cannot write (it is {_kind(status.st_mode)}, not a file)")
    if status is not None and is_read_only(target):
        raise error(f"{prefix}{target}: cannot write: {_read_only_reason(target)}")
    return descriptor_path, status, Path(os.path.realpath(target)) if target.is_symlink() else target


def _read_only_reason(target: Path) -> str:
    """Why the file :func:`is_read_only` says may not be written: its permissions (:data:`READ_ONLY`),
    or the whole file system's, mounted read-only (:data:`READ_ONLY_FILE_SYSTEM`)."""
    try:
        mounted_read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs (Windows)
        mounted_read_only = False
    return READ_ONLY_FILE_SYSTEM if mounted_read_only else READ_ONLY


def _status(target: Path, error: type[ChainruleError], prefix: str = "") -> os.stat_result | None:
    """What ``target`` is, following symbolic links; None if nothing exists there yet. ``error``, its message
    led by ``prefix``, for a path that cannot be looked at (a loop of symbolic links)."""
    try:
        return os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        # Nothing there (or a dangling link): creating the file reports any real problem.
        return None
    except OSError as cause:
        raise error(f"{prefix}{target}: cannot write ({_reason(cause, target.parent)})") from None


def _descriptor_path(target: Path) -> str | None:
    """The path naming an open descriptor that ``target`` is or links to, else None.

    Only the names are looked at, hop by hop along the chain of symbolic links, because
    following the last hop (``/proc/self/fd/1``) already lands on the file the descriptor
    has open -- the very file that must not be replaced.
    """
    path = os.path.abspath(target)
    for _ in range(_MAX_LINKS):
        if path in _STANDARD_STREAMS or _DESCRIPTOR_NAME.fullmatch(path):
            return path
        try:
            link = os.readlink(path)
        except OSError:  # not a link, or nothing there
            return None
        path = os.path.normpath(os.path.join(os.path.dirname(path), link))
    return None


def _open_descriptor(path: str) -> int:
    """A new descriptor for writing to what ``path`` (a :func:`_descriptor_path`) names.

    One of this process's own descriptors is duplicated, so the bytes go where the next
    write to it would go (after what the shell or this process already wrote) and share
    its file position. Another process's ``/proc/PID/fd/N`` is opened for appending.
    """
    if path in _STANDARD_STREAMS:
        number = _STANDARD_STREAMS[path]
    else:
        match = _DESCRIPTOR_NAME.fullmatch(path)
        process, number = match.group("process"), int(match.group("number"))
        if process not in (None, "self", "thread-self", str(os.getpid())):
            return os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    # Python's own buffered text on this descriptor was written first, so it goes out first.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # replaced or closed
            if stream.fileno() == number:
                stream.flush()
    return os.dup(number)


def _is_stream(file_mode: int) -> bool:
    """Whether the file type is one written to as a stream rather than replaced."""
    return stat.S_ISCHR(file_mode) or stat.S_ISFIFO(file_mode)


def _kind(file_mode: int) -> str:
    """The file type, as words for an error message."""
    if stat.S_ISDIR(file_mode):
        return "a directory"
    if stat.S_ISBLK(file_mode):
        return "a block device"
    if stat.S_ISSOCK(file_mode):
        return "a socket"
    return "a special file"


def _open_in_place(target: Path, descriptor_path: str | None, error: type[ChainruleError]) -> int:
    """A descriptor for writing straight to ``target``: an open descriptor it names, or a
    device or FIFO (opening a FIFO waits for its reader)."""
    try:
        if descriptor_path is not None:
            return _open_descriptor(descriptor_path)
        return os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    except OSError as cause:
        raise error(f"{target}: cannot write ({cause.strerror or cause})") from None


@contextlib.contextmanager
def _write_in_place(descriptor: int, target: Path, mode: str, encoding: str | None,
                    newline: str | None, error: type[ChainruleError]) -> Iterator:
    """A file object writing to ``descriptor``, which it closes at the end."""
    file = _file_object(descriptor, mode, encoding, newline)
    try:
        yield file
        try:
            file.flush()
        except BrokenPipeError:  # the reader left early, as with any pipe: the caller's to handle
            raise
        except OSError as cause:
            raise error(f"{target}: cannot write ({cause.strerror or cause})") from None
    finally:
        try:
            file.close()
        except OSError:  # the flush that failed (reported above) failing again: the descriptor is closed
            pass


def _file_object(descriptor: int, mode: str, encoding: str | None, newline: str | None):
    """``descriptor`` as a file object of ``mode``: bytes, or text in ``encoding`` (UTF-8 by default)."""
    if mode == "w":
        return os.fdopen(descriptor, mode, encoding=encoding or "utf-8", newline=newline)
    return os.fdopen(descriptor, mode)


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
