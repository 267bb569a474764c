"""chainrule.cli.folder_lock: a run holds its folder's lock while it writes there; another run is
refused, a killed run's lock frees itself, and runs reaching one lock at once get it one at a time."""

import contextlib
import io
import multiprocessing
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import folder_lock
from chainrule.cli.folder_lock import LOCK
from chainrule.cli.run_folder import check_folder_is_free, prepare_folder, release_folder
from chainrule.errors import ConfigError, DataError

HOST = socket.gethostname()
HOLD = ("import sys; from pathlib import Path; from chainrule.cli.run_folder import prepare_folder, release_folder; "
        "folder = Path(sys.argv[1]); prepare_folder(folder); print('holding', flush=True); sys.stdin.read(); "
        "release_folder(folder)")


@contextlib.contextmanager
def another_run(folder):
    """A run in another process that holds ``folder``'s lock until the block ends, then gives it back."""
    run = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    try:
        assert run.stdout.readline() == "holding\n"
        yield run
    finally:
        run.stdin.close()
        run.wait(timeout=60)
        run.stdout.close()


def dead_pid() -> int:
    """The process id of a process that has ended."""
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    """Two runs started at once into one folder (or the same runs/<timestamp>) both wrote there
    and both exited 0; one run's model was silently lost."""
    folder = tmp_path / "run"
    with another_run(folder) as run:
        message = re.escape(f"--out {folder}: another chainrule train is writing there (process {run.pid} on {HOST} "
                            f"holds {folder / LOCK}); wait for it or give --out another folder")
        with pytest.raises(ConfigError, match=f"^{message}$"):
            check_folder_is_free(folder, None)
        with pytest.raises(ConfigError, match=f"^{message}$"):
            prepare_folder(folder)
        assert (folder / LOCK).read_text() == f"{HOST} {run.pid}\n"  # the refused run left it alone
    assert list(folder.iterdir()) == []  # that run ended, giving its lock back
    prepare_folder(folder)
    check_folder_is_free(folder, None)  # this run's own lock
    release_folder(folder)


def test_a_run_killed_with_kill_9_frees_its_lock(tmp_path):
    """A killed run leaves its lock file behind, but the system frees the lock with the process:
    the next run locks the file again, with no guess from its text at whether that process lives."""
    folder = tmp_path / "run"
    with another_run(folder) as run:
        run.kill()  # SIGKILL: it gives nothing back
        run.wait(timeout=60)
        assert (folder / LOCK).read_text() == f"{HOST} {run.pid}\n"
        check_folder_is_free(folder, None)
        prepare_folder(folder)
        assert (folder / LOCK).read_text() == f"{HOST} {os.getpid()}\n"
        release_folder(folder)


@pytest.mark.parametrize("text", ["dead run", "this process", "other-host 1\n", "garbage", ""])
def test_a_lock_file_that_no_process_holds_is_free_whatever_it_names(tmp_path, text):
    """The text once decided: a lock naming another host, or unreadable, blocked its folder until
    deleted by hand, and a container restarted after a kill (often with the same PID) was refused."""
    text = {"dead run": f"{HOST} {dead_pid()}\n", "this process": f"{HOST} {os.getpid()}\n"}.get(text, text)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK).write_text(text)
    check_folder_is_free(folder, None)
    release_folder(folder)  # not this run's: left alone
    assert (folder / LOCK).read_text() == text
    prepare_folder(folder)
    assert (folder / LOCK).read_text() == f"{HOST} {os.getpid()}\n"
    release_folder(folder)
    assert list(folder.iterdir()) == []


def claim_paused_once_it_opens_the_lock(folder, opened, go, claimed):
    """A run (forked) that stops right after it first opens ``folder``'s lock file (to read it or
    to lock it) until ``go`` is set; ``claimed`` set to 1 if it claims the folder."""
    lock = os.fspath(folder / LOCK)

    def paused(open_file):
        def open_then_wait(path, *args, **kwargs):
            opened_file = open_file(path, *args, **kwargs)
            if isinstance(path, (str, os.PathLike)) and os.fspath(path) == lock and not opened.is_set():
                opened.set()
                go.wait(timeout=60)
            return opened_file
        return open_then_wait

    os.open, io.open = paused(os.open), paused(io.open)  # in the forked run alone
    try:
        prepare_folder(folder)
        claimed.value = 1
    except ConfigError:
        pass


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the runs are forked")
def test_two_runs_taking_over_a_killed_runs_lock_at_once_one_is_refused(tmp_path):
    """Two runs that found a killed run's lock at the same instant both took it over: one
    deleted it and made its own, the other deleted that one and made its own, and both wrote."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK).write_text(f"{HOST} {dead_pid()}\n")
    context = multiprocessing.get_context("fork")
    opened, go, claimed = context.Event(), context.Event(), context.Value("i", 0)
    first = context.Process(target=claim_paused_once_it_opens_the_lock, args=(folder, opened, go, claimed))
    first.start()
    assert opened.wait(timeout=60)
    try:
        prepare_folder(folder)  # the second run, while the first holds the killed run's file open
        second = 1
    except ConfigError:
        second = 0
    go.set()
    first.join(timeout=60)
    assert first.exitcode == 0
    assert claimed.value + second == 1
    release_folder(folder)


RUNS, ROUNDS = 4, 20


def claim_each(folders, barrier, claimed):
    """A run (forked) trying ``folders`` one after another, each at once with the other runs."""
    for round_, folder in enumerate(folders):
        barrier.wait(timeout=60)
        try:
            prepare_folder(folder)
            with claimed.get_lock():
                claimed[round_] += 1
        except ConfigError:
            pass
    barrier.wait(timeout=60)  # every run has tried every folder before the first ends (freeing its locks)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the runs are forked")
def test_runs_started_together_into_one_folder_are_refused_but_one(tmp_path):
    """Runs started together into a folder holding a killed run's lock: two could both take it
    over; and a run's write test, seen by the run holding the lock, was taken for another run's
    files, so that every run could be refused."""
    folders = [tmp_path / f"run{round_}" for round_ in range(ROUNDS)]
    pid = dead_pid()
    for folder in folders:
        folder.mkdir()
        (folder / LOCK).write_text(f"{HOST} {pid}\n")
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(RUNS)
    claimed = context.Array("i", ROUNDS)
    runs = [context.Process(target=claim_each, args=(folders, barrier, claimed)) for _ in range(RUNS)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    assert [run.exitcode for run in runs] == [0] * RUNS
    assert list(claimed) == [1] * ROUNDS


@pytest.mark.skipif(folder_lock.fcntl is None, reason="flock: POSIX")
def test_a_lock_file_deleted_between_its_open_and_its_lock_is_opened_again(tmp_path, monkeypatch):
    """A run that opened the lock file just before its holder ended (deleting it) and a third
    run claimed the folder (a new file) must not lock the deleted file and write beside the third."""
    folder = tmp_path / "run"
    prepare_folder(folder)  # the first run
    real_flock = folder_lock.fcntl.flock
    calls = []

    def flock_after_the_first_run_ended_and_a_third_claimed(descriptor, operation):
        calls.append(os.fstat(descriptor).st_ino)
        if len(calls) == 1:  # the second run, holding the first run's file open
            release_folder(folder)
            prepare_folder(folder)  # the third run: a new file at the lock's path
        return real_flock(descriptor, operation)

    monkeypatch.setattr(folder_lock.fcntl, "flock", flock_after_the_first_run_ended_and_a_third_claimed)
    with pytest.raises(ConfigError, match="another chainrule train is writing there"):
        prepare_folder(folder)  # the second run
    monkeypatch.undo()
    assert calls[0] != calls[-1] == os.stat(folder / LOCK).st_ino  # it opened the third run's file and was refused
    release_folder(folder)
    assert list(folder.iterdir()) == []


def test_without_os_locks_the_lock_file_itself_is_the_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_lock, "fcntl", None)
    monkeypatch.setattr(folder_lock, "msvcrt", None)
    folder = tmp_path / "run"
    prepare_folder(folder)
    assert (folder / LOCK).read_text() == f"{HOST} {os.getpid()}\n"
    check_folder_is_free(folder, None)  # this run's own
    with pytest.raises(ConfigError, match=re.escape("another chainrule train is writing there (process "
                                                    f"{os.getpid()} on {HOST} holds {folder / LOCK}); wait for it or "
                                                    "give --out another folder, or delete the lock file if no run "
                                                    "is writing")):
        prepare_folder(folder)  # a second claim
    release_folder(folder)
    assert list(folder.iterdir()) == []
    (folder / LOCK).write_text(f"{HOST} {dead_pid()}\n")  # a killed run's: deleted by hand
    with pytest.raises(ConfigError, match="another chainrule train is writing there"):
        check_folder_is_free(folder, None)


def test_a_failed_write_of_the_locks_text_gives_the_lock_back(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    real_write = os.write

    def full_disk(descriptor, data):
        monkeypatch.setattr(os, "write", real_write)  # once: the lock's text
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(DataError, match=re.escape(f"{folder / LOCK}: cannot write the run folder's lock file (No space")):
        prepare_folder(folder)
    assert folder.resolve() not in folder_lock._HELD and not (folder / LOCK).exists()
    prepare_folder(folder)  # not held by this process's failed claim
    release_folder(folder)


def test_a_lock_file_that_cannot_be_deleted_is_given_back_and_hides_no_error(tmp_path, monkeypatch):
    # a folder made read-only mid-run: the lock's deletion raised OSError (EROFS) while the run reported a
    # checkpoint it could not write, so the run ended in "internal error: [Errno 30] Read-only file system"
    folder = tmp_path / "run"
    prepare_folder(folder)
    real_unlink = Path.unlink  # not os.unlink, which Python 3.10's Path.unlink does not look up when called

    def read_only(path, *args, **kwargs):
        if path.name == LOCK:
            raise OSError(30, "Read-only file system", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(DataError, match="the checkpoint"):
        try:
            raise DataError("the checkpoint")
        finally:
            release_folder(folder)
    assert folder.resolve() not in folder_lock._HELD and (folder / LOCK).exists()
    monkeypatch.setattr(Path, "unlink", real_unlink)
    prepare_folder(folder)  # the lock was given back: the file left blocks no run
    release_folder(folder)
