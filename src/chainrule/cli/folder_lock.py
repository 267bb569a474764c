"""The lock a run holds on its run folder while it writes there (see :mod:`chainrule.cli.run_folder`).

The lock is the operating system's, taken on the folder's open lock file ``LOCK``: ``flock``
on POSIX, ``msvcrt.locking`` of its first byte on Windows. The system frees it when its
process ends, however it ends (``kill -9`` included), so a lock file left by a killed run is
locked again with no guess at whether its process lives, and of runs reaching one file at once
the system lets one lock it. The file's text, host and process, is for the refusal's message
only. This module owns the open, locked file: ``_HELD`` maps each folder this process locked
(resolved) to its descriptor, from :func:`take` to :func:`release`. On POSIX the release
deletes the file while still holding its lock, then closes it; a run that opened the file
before the deletion and locks it after holds a file that is no longer the folder's lock, so a
run checks, once it holds the lock, that the file is still the one at the lock's path, and
opens that one again if not. Windows deletes no open file: there the release closes the file,
then deletes it unless another run opened it meanwhile. Where Python has neither module, the
lock is the file itself, made atomically (``O_EXCL``): one left by a killed run is deleted by
hand.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ..errors import ConfigError, DataError

try:
    import fcntl  # POSIX
except ImportError:
    fcntl = None
try:
    import msvcrt  # Windows
except ImportError:
    msvcrt = None

LOCK = ".chainrule-run.lock"  # held by the run writing to the folder
_HELD: dict[Path, int] = {}  # resolved folder -> descriptor of its lock file, open and locked by this process


def take(folder: Path) -> None:
    """Lock ``folder`` (which exists) for this run, writing this host and process into the lock
    file; ConfigError naming ``--out`` when another run (or another claim of this process)
    holds it. :func:`release` gives it back."""
    descriptor = _locked_file(folder)
    _HELD[folder.resolve()] = descriptor
    try:
        os.ftruncate(descriptor, 0)  # the text of a run that was killed
        os.write(descriptor, f"{socket.gethostname()} {os.getpid()}\n".encode())
    except OSError as error:
        release(folder)
        raise DataError(f"--out: {folder / LOCK}: cannot write the run folder's lock file ({error.strerror})") from None
    except BaseException:
        release(folder)
        raise


def release(folder: Path) -> None:
    """Give back ``folder``'s lock and delete its file (nothing when this run does not hold it)."""
    descriptor = _HELD.pop(folder.resolve(), None)
    if descriptor is None:
        return
    lock = folder / LOCK
    if msvcrt is None:
        try:
            lock.unlink(missing_ok=True)  # still locked: a run that opened the file meanwhile sees it gone
        except OSError:  # the folder made read-only meanwhile: the file stays, which frees itself once closed
            pass
        finally:
            os.close(descriptor)
        return
    _close(descriptor, locked=True)
    try:
        lock.unlink(missing_ok=True)
    except PermissionError:  # another run opened it meanwhile: left to it, as the folder's lock
        pass


def _locked_file(folder: Path) -> int:
    """The descriptor of ``folder``'s lock file, open and locked by this process; ConfigError
    naming ``--out`` when another run (or another claim of this process) holds it."""
    lock = folder / LOCK
    if _without_os_locks():
        try:
            return os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise busy(folder) from None
    while True:
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as error:
            raise _unopenable(lock, error) from None
        if not _try_lock(descriptor, lock, shared=False):
            os.close(descriptor)
            raise busy(folder)
        try:
            if os.path.samestat(os.fstat(descriptor), os.stat(lock)):
                return descriptor
        except FileNotFoundError:
            pass
        _close(descriptor, locked=True)  # released and deleted between its open and its lock: open the new one


def held_by_another_run(folder: Path) -> bool:
    """Whether a process, or another claim of this one, holds ``folder``'s lock (no lock file: no).

    Asked by taking the lock, shared, for an instant: a run locking the folder at that instant
    is refused, as it would be a moment later by the run asking, which locks it next."""
    if folder.resolve() in _HELD:
        return False  # this run's own
    lock = folder / LOCK
    if _without_os_locks():
        return lock.exists()
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):  # no lock file, or no folder
        return False
    except OSError as error:
        raise _unopenable(lock, error) from None
    locked = _try_lock(descriptor, lock, shared=True)
    _close(descriptor, locked)
    return not locked


def _without_os_locks() -> bool:
    """Whether Python here has neither ``fcntl`` nor ``msvcrt``: then the lock file is the lock."""
    return fcntl is None and msvcrt is None


def _unopenable(lock: Path, error: OSError) -> DataError:
    """The DataError of a lock file that cannot be opened (an unwritable folder, another user's file), led by
    ``--out``, the option naming the folder, as every error of the run folder is."""
    return DataError(f"--out: {lock}: cannot open the run folder's lock file ({error.strerror})")


def _try_lock(descriptor: int, lock: Path, *, shared: bool) -> bool:
    """Lock the open lock file without waiting: False when another holds it; DataError naming
    ``lock`` when its file system cannot lock files. Windows has no shared lock: ``shared``
    is for POSIX."""
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        else:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)  # the first byte: the file was just opened
    except (BlockingIOError, PermissionError):  # EWOULDBLOCK (flock), EACCES (msvcrt): held
        return False
    except OSError as error:
        raise DataError(f"--out: {lock}: cannot lock the run folder's lock file ({error.strerror})") from None
    return True


def _close(descriptor: int, locked: bool) -> None:
    """Close a lock file. Closing frees a flock; Windows asks that a locked region be unlocked
    before its file is closed."""
    if locked and msvcrt is not None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)
    os.close(descriptor)


def busy(folder: Path) -> ConfigError:
    """The refusal of a folder whose lock another run holds, naming that run as its lock file does."""
    lock = folder / LOCK
    owner = _lock_owner(lock)
    holder = f"process {owner[1]} on {owner[0]}" if owner else "another process"
    delete = ", or delete the lock file if no run is writing" if _without_os_locks() else ""
    return ConfigError(f"--out {folder}: another chainrule train is writing there ({holder} holds {lock}); "
                       f"wait for it or give --out another folder{delete}")


def _lock_owner(lock: Path) -> tuple[str, int] | None:
    """(host, process id) that ``lock`` names; None when there is no such lock (or it is unreadable)."""
    try:
        host, pid = lock.read_text().split()
        return host, int(pid)
    except (OSError, ValueError):
        return None
