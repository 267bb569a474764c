"""The run folder of ``chainrule train``: which folder, and the checks that it is free and writable.

A run folder holds one run's files (the model, its checkpoint, metrics.json, config.toml, the
plots): ``--out``, else the resumed checkpoint's folder, else ``runs/<timestamp>/``. While a run
writes there it holds the folder's lock file, made atomically (``O_EXCL``): a second
``chainrule train`` into the same folder is refused rather than mixing its files with the
first's (runs started together without ``--out`` take ``runs/<timestamp>-2``, ``-3``...). The lock
names its host and process, so that a lock left by a run that was killed (``kill -9``) on this
host is taken over (not on Windows, which has no way to ask whether a process lives that is
safe here: there the lock file is deleted by hand).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from ..errors import ConfigError, DataError
from ..io import atomic_write

CHECKPOINT = "checkpoint.safetensors"
LOCK = ".chainrule-run.lock"  # held by the run writing to the folder


def run_folder(args) -> Path:
    """The output folder: --out, the resumed checkpoint's folder, or runs/<timestamp>; ConfigError
    for an empty --out (an unset shell variable would otherwise pick runs/<timestamp> silently)."""
    if args.out == "":
        raise ConfigError("--out: expected a folder name, got ''")
    if args.out:
        return Path(args.out)
    if args.resume:
        return Path(args.resume).parent
    return next_free(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))


def next_free(folder: Path) -> Path:
    """``folder`` (runs/<timestamp>), or the first of ``folder-2``, ``folder-3``... that does not exist."""
    stamp, n = folder, 1
    while folder.exists():
        n += 1
        folder = stamp.with_name(f"{stamp.name}-{n}")
    return folder


def claim_folder(folder: Path, resume=None, *, numbered: bool = False) -> Path:
    """:func:`prepare_folder` on ``folder``, returning the folder claimed: with ``numbered`` (the
    runs/<timestamp> no --out named), a folder another run took meanwhile is passed over for
    ``folder-2``, ``folder-3``... instead of refused, so that runs started together each get one."""
    candidate, n = folder, 1
    while True:
        try:
            prepare_folder(candidate, resume)
            return candidate
        except ConfigError:
            if not numbered:
                raise
            n += 1
            candidate = folder.with_name(f"{folder.name}-{n}")


def check_folder_is_free(folder: Path, resume) -> None:
    """Refuse a run folder that already holds files, unless it is the resumed checkpoint's own folder.

    A run folder holds one run's files: writing into another run's folder would mix the two
    (its plots beside this run's model). ConfigError naming the folder and what to do instead.
    """
    if _held_by_a_live_run(folder / LOCK):
        raise _busy(folder)
    if resume and folder.resolve() == Path(resume).resolve().parent:
        return
    try:
        in_use = folder.is_dir() and any(path.name != LOCK for path in folder.iterdir())
    except OSError as error:
        raise DataError(f"{folder}: cannot read the run folder ({error.strerror})") from None
    if in_use:
        hint = f", or continue its run with --resume {folder / CHECKPOINT}" if (folder / CHECKPOINT).is_file() else ""
        raise ConfigError(f"--out {folder}: the folder already holds files (another run's?); "
                          f"give --out a new or empty folder{hint}")


def prepare_folder(folder: Path, resume=None) -> None:
    """Create the run folder, prove it writable and take its lock before training starts
    (ConfigError naming ``--out`` when another live run holds it), then check again, holding
    the lock, that the folder is free (a run that finished meanwhile may have filled it);
    :func:`release_folder` gives the lock back."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file of that name
        raise DataError(f"{folder}: cannot create the run folder: a file of that name is there") from None
    except OSError as error:
        raise DataError(f"{folder}: cannot create the run folder ({error.strerror})") from None
    probe = folder / f".write-test-{os.getpid()}"  # this process's own: runs started together do not share it
    atomic_write(probe, b"")
    probe.unlink()
    lock = folder / LOCK
    if lock.exists() and not _held_by_a_live_run(lock):
        lock.unlink(missing_ok=True)  # left by a run killed on this host
    try:
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise _busy(folder) from None
    with os.fdopen(descriptor, "w") as file:
        file.write(f"{socket.gethostname()} {os.getpid()}\n")
    try:
        check_folder_is_free(folder, resume)
    except BaseException:
        release_folder(folder)
        raise


def release_folder(folder: Path) -> None:
    """Give back the run folder's lock (nothing when this run does not hold it)."""
    lock = folder / LOCK
    if _lock_owner(lock) == (socket.gethostname(), os.getpid()):
        lock.unlink(missing_ok=True)


def _busy(folder: Path) -> ConfigError:
    return ConfigError(f"--out {folder}: another chainrule train is writing there ({folder / LOCK} exists); wait "
                       f"for it or give --out another folder (delete the lock file if no run is writing)")


def _lock_owner(lock: Path) -> tuple[str, int] | None:
    """(host, process id) that ``lock`` names; None when there is no such lock (or it is unreadable)."""
    try:
        host, pid = lock.read_text().split()
        return host, int(pid)
    except (OSError, ValueError):
        return None


def _held_by_a_live_run(lock: Path) -> bool:
    """Whether ``lock`` exists and its process may still run: on another host (unknowable), or
    alive on this one. A lock that cannot be read is taken as held."""
    if not lock.exists():
        return False
    owner = _lock_owner(lock)
    if owner is None or owner[0] != socket.gethostname():
        return True
    if owner[1] == os.getpid():  # this process: a lock of its own, or of a run killed whose PID it reused
        return False
    if os.name == "nt":  # no signal 0 there (os.kill would send a Ctrl-C): taken as held
        return True
    try:
        os.kill(owner[1], 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
