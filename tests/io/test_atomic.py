"""chainrule.io.atomic: a file is written whole or not at all."""

import contextlib
import hashlib
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading

import pytest

from chainrule.errors import DataError, HyperparameterError, ModelFileError
from chainrule.io import atomic_open, atomic_write
from chainrule.io import atomic
from chainrule.io.atomic import check_path, check_writable
from tests.harness import bound_by_permissions


class WriterFailed(Exception):
    pass


def test_writes_bytes_str_and_writer_function(tmp_path):
    atomic_write(tmp_path / "a.bin", b"\x00\x01")
    atomic_write(tmp_path / "b.txt", "héllo")
    atomic_write(str(tmp_path / "c.bin"), lambda file: file.write(b"from a function"))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "c.bin").read_bytes() == b"from a function"
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.txt", "c.bin"]  # no temporary files left


def test_context_manager_text_mode_replaces_existing_file(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("old")
    with atomic_open(target, "w", newline="") as file:
        file.write("epoch,loss\r\n1,0.5\r\n")
        assert target.read_text() == "old"  # nothing visible until the block ends
    assert target.read_bytes() == b"epoch,loss\r\n1,0.5\r\n"
    assert os.listdir(tmp_path) == ["metrics.csv"]


def test_new_file_gets_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "model.safetensors", b"x")
    finally:
        os.umask(umask)
    if os.name == "posix":
        assert (tmp_path / "model.safetensors").stat().st_mode & 0o777 == 0o644


def _write_half_then_fail(file):
    file.write(b"partial output")
    file.flush()
    raise WriterFailed("disk on fire")


def test_writer_raising_midway_leaves_no_file(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(WriterFailed):
        atomic_write(target, _write_half_then_fail)
    assert os.listdir(tmp_path) == []


def test_writer_raising_midway_leaves_existing_target_unchanged(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous good content")
    with pytest.raises(WriterFailed):
        with atomic_open(target) as file:
            _write_half_then_fail(file)
    assert target.read_bytes() == b"previous good content"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_ctrl_c_as_the_temporary_file_is_made_leaves_no_file(tmp_path, monkeypatch):
    """A SIGINT handled as os.open returned (Python runs handlers then) raised KeyboardInterrupt
    before the cleanup's try: the empty temporary file stayed in the run folder (seen with mpiexec)."""
    os_open = os.open

    def open_then_interrupted(path, flags, mode=0o777):
        descriptor = os_open(path, flags, mode)
        if os.path.basename(path).startswith(".chainrule-"):
            os.close(descriptor)  # the interrupted caller never sees it
            raise KeyboardInterrupt
        return descriptor

    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "model.safetensors", b"new")
    assert os.listdir(tmp_path) == []


def test_failed_rename_cleans_up_and_raises_the_given_error(tmp_path, monkeypatch):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"previous")

    def refuse(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ModelFileError, match="model.safetensors.*No space left"):
        atomic_write(target, b"new", error=ModelFileError)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_missing_directory_raises_naming_path(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "metrics.json"
    with pytest.raises(DataError, match="metrics.json.*does not exist"):
        atomic_write(target, b"{}")
    with pytest.raises(ModelFileError, match="metrics.json"):
        atomic_write(target, b"{}", error=ModelFileError)
    assert not (tmp_path / "no").exists()


def test_parent_that_is_a_file_raises(tmp_path):
    (tmp_path / "file").write_text("I am not a directory")
    with pytest.raises(DataError, match="not a directory"):
        atomic_write(tmp_path / "file" / "out.bin", b"x")


def test_target_that_is_a_directory_raises_naming_it_and_cleans_up(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(DataError, match="out: cannot write .*a directory"):
        atomic_write(tmp_path / "out", b"x")
    assert os.listdir(tmp_path) == ["out"]


def test_permission_denied_raises(tmp_path, monkeypatch):
    # As root a chmod 0o555 directory stays writable, so the refusal is simulated as well.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(DataError, match="permission denied"):
        atomic_write(tmp_path / "out.bin", b"x")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_read_only_directory_raises(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(DataError, match="permission denied"):
            atomic_write(locked / "out.bin", b"x")
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o755)


# --- special targets: links are followed, streams are written in place ------------------

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")


@posix_only
def test_symlink_target_replaces_the_linked_file_and_keeps_the_link(tmp_path):
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "predictions.csv"
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(os.path.join("runs", "predictions.csv"))  # relative, as users make them
    atomic_write(link, "new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "predictions.csv")
    assert real.read_text() == "new"
    assert os.listdir(tmp_path / "runs") == ["predictions.csv"]  # no temporary file left
    assert sorted(os.listdir(tmp_path)) == ["latest.csv", "runs"]


@posix_only
def test_dangling_symlink_creates_the_file_it_points_to(tmp_path):
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "made.bin")
    atomic_write(link, b"x")
    assert link.is_symlink() and (tmp_path / "made.bin").read_bytes() == b"x"


@posix_only
def test_symlink_loop_raises_naming_path(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(DataError, match="a: cannot write"):
        atomic_write(tmp_path / "a", b"x")
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_target_is_written_in_place(tmp_path):
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    with atomic_open(fifo, "w", newline="") as file:
        file.write("a,b\r\n1,2\r\n")
    reader.join(timeout=10)
    assert received == [b"a,b\r\n1,2\r\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a file
    assert os.listdir(tmp_path) == ["stream"]


@posix_only
def test_character_device_target_is_written_in_place(tmp_path, monkeypatch):
    # A real device node is never touched: a regular file is made to look like one.
    fake_device = tmp_path / "null"
    fake_device.write_bytes(b"")
    inode = fake_device.stat().st_ino
    real_stat = os.stat

    def stat_as_character_device(path, *args, **kwargs):
        status = real_stat(path, *args, **kwargs)
        if os.fspath(path) != os.fspath(fake_device):
            return status
        return os.stat_result((stat.S_IFCHR | 0o666, *tuple(status)[1:]))

    monkeypatch.setattr(os, "stat", stat_as_character_device)
    atomic_write(fake_device, b"predictions")
    monkeypatch.undo()
    assert fake_device.stat().st_ino == inode  # written in place, not replaced
    assert fake_device.read_bytes() == b"predictions"
    assert os.listdir(tmp_path) == ["null"]


@posix_only
def test_socket_target_raises_naming_path_and_stays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short relative path: socket names are limited to ~100 bytes
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("sock")
        with pytest.raises(DataError, match="sock: cannot write .*a socket"):
            atomic_write("sock", b"x")
        assert stat.S_ISSOCK(os.lstat("sock").st_mode)
    finally:
        server.close()
    assert os.listdir(tmp_path) == ["sock"]


# --- names of open descriptors: /dev/stdout, /dev/fd/N, /proc/self/fd/N ---------------------

linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")

WRITE_TO_STDOUT = """
import os, sys
from chainrule.io import atomic_write
os.symlink("/dev/stdout", sys.argv[1])
print("before")
for path in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", sys.argv[1]]:
    atomic_write(path, path + "\\n")
print("after")
"""


@linux_only
@pytest.mark.parametrize("redirect", ["ab", "wb"], ids=[">>", ">"])
def test_dev_stdout_redirected_to_a_file_writes_after_what_is_there(tmp_path, redirect):
    log = tmp_path / "app.log"
    log.write_text("earlier run\n")
    inode = log.stat().st_ino
    link = tmp_path / "out.csv"
    with open(log, redirect) as stdout:  # as the shell's `>> app.log` or `> app.log`
        subprocess.run([sys.executable, "-c", WRITE_TO_STDOUT, str(link)], stdout=stdout, check=True)
    earlier = "earlier run\n" if redirect == "ab" else ""
    written = f"/dev/stdout\n/dev/fd/1\n/proc/self/fd/1\n{link}\n"
    assert log.read_text() == f"{earlier}before\n{written}after\n"
    assert log.stat().st_ino == inode  # the shell's file, not a new one renamed over it
    assert sorted(os.listdir(tmp_path)) == ["app.log", "out.csv"]


@linux_only
def test_dev_fd_of_an_open_file_writes_at_its_position_and_leaves_it_open(tmp_path):
    target = tmp_path / "log"
    target.write_bytes(b"old\n")
    with open(target, "ab") as log:
        atomic_write(f"/dev/fd/{log.fileno()}", b"new\n")
        log.write(b"then\n")
    assert target.read_bytes() == b"old\nnew\nthen\n"
    assert os.listdir(tmp_path) == ["log"]


@linux_only
def test_another_process_descriptor_is_appended_to(tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"old\n")
    inode = log.stat().st_ino
    with open(log, "ab") as stdout:
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                 stdin=subprocess.PIPE, stdout=stdout)
    try:
        atomic_write(f"/proc/{child.pid}/fd/1", b"new\n")
    finally:
        child.communicate(b"")
    assert log.read_bytes() == b"old\nnew\n" and log.stat().st_ino == inode


@linux_only
def test_closed_descriptor_raises_naming_path():
    unused = os.open(os.devnull, os.O_RDONLY)
    os.close(unused)
    with pytest.raises(DataError, match=f"/dev/fd/{unused}: cannot write"):
        atomic_write(f"/dev/fd/{unused}", b"x")


# --- metadata and names ---------------------------------------------------------------------

@posix_only
def test_existing_file_keeps_its_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        private = tmp_path / "model.safetensors"
        private.write_bytes(b"old")
        private.chmod(0o600)
        atomic_write(private, b"new")
        shared = tmp_path / "metrics.json"
        shared.write_bytes(b"old")
        shared.chmod(0o664)
        with atomic_open(shared, "w") as file:
            file.write("{}")
        # Through a link, the linked file's permissions are kept.
        (tmp_path / "link").symlink_to(private)
        atomic_write(tmp_path / "link", b"newer")
    finally:
        os.umask(umask)
    assert private.read_bytes() == b"newer" and stat.S_IMODE(private.stat().st_mode) == 0o600
    assert shared.read_text() == "{}" and stat.S_IMODE(shared.stat().st_mode) == 0o664


def test_a_file_this_user_may_not_write_is_refused_and_kept(tmp_path, monkeypatch):
    """The rename replaced a chmod 444 file, which open(path, "w") and a shell redirection refuse. As root
    every file is writable, so os.access is made to say what it says to a plain user."""
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    monkeypatch.setattr(atomic.os, "access", lambda path, mode: False)
    message = f"{target}: cannot write: the file is read-only (no write permission); make it writable (chmod u+w) " \
              f"or write to another file"
    with pytest.raises(ModelFileError, match=f"^{re.escape(message)}$"):
        atomic_write(target, b"new", error=ModelFileError)
    with pytest.raises(ModelFileError, match=f"^checkpoint: {re.escape(message)}$"):
        check_writable(target, "checkpoint", ModelFileError)
    assert target.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["model.safetensors"]


def test_a_file_on_a_file_system_mounted_read_only_is_refused_naming_the_mount_not_chmod(tmp_path, monkeypatch):
    # a run folder made read-only mid-run (mount -o remount,ro): the checkpoint was refused with "make it writable
    # (chmod u+w)", which cannot help there
    target = tmp_path / "checkpoint.safetensors"
    target.write_bytes(b"keep me")
    real_statvfs = os.statvfs

    class ReadOnlyMount:
        def __init__(self, path):
            self.f_flag = real_statvfs(path).f_flag | os.ST_RDONLY

    monkeypatch.setattr(atomic.os, "access", lambda path, mode: False)
    monkeypatch.setattr(atomic.os, "statvfs", ReadOnlyMount)
    message = f"{target}: cannot write: the file system holding it is mounted read-only; remount it read-write or " \
              f"write to a folder on another file system"
    with pytest.raises(ModelFileError, match=f"^{re.escape(message)}$"):
        atomic_write(target, b"new", error=ModelFileError)
    assert target.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["checkpoint.safetensors"]


READ_ONLY_WRITE = """
import sys
from chainrule.errors import ModelFileError
from chainrule.io import atomic_write
try:
    atomic_write(sys.argv[1], b"new", error=ModelFileError)
except ModelFileError as error:
    print(error)
"""


@posix_only
def test_a_read_only_file_is_refused_by_its_permissions(tmp_path):
    """The same, as a plain user (or root giving up overriding permissions), through a link too; a file of
    mode 0o200 (write-only) is replaced."""
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    (tmp_path / "link").symlink_to(target)
    for path in (target, tmp_path / "link"):
        done = subprocess.run(bound_by_permissions([sys.executable, "-c", READ_ONLY_WRITE, str(path)]),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{path}: cannot write: the file is read-only (no write permission); make it " \
                              f"writable (chmod u+w) or write to another file\n"
    assert target.read_bytes() == b"keep me" and sorted(os.listdir(tmp_path)) == ["link", "model.safetensors"]
    target.chmod(0o200)
    done = subprocess.run(bound_by_permissions([sys.executable, "-c", READ_ONLY_WRITE, str(target)]),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "", done.stderr
    target.chmod(0o600)
    assert target.read_bytes() == b"new"


def test_longest_file_name_that_fits_can_be_written(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    target = tmp_path / ("m" * (min(limit, 255) - len(".safetensors")) + ".safetensors")
    atomic_write(target, b"x")
    atomic_write(target, b"y")  # and replaced
    assert target.read_bytes() == b"y"
    assert os.listdir(tmp_path) == [target.name]


@pytest.mark.parametrize("path, found", [(None, "NoneType None"), (1, "int 1"), (b"out.bin", "bytes b'out.bin'")])
def test_path_that_is_not_a_file_path_is_refused_before_writing(path, found, capfd):
    with pytest.raises(HyperparameterError, match=rf"^path: expected a file path \(str or os\.PathLike\), got {found}$"):
        atomic_write(path, b"written", error=ModelFileError)
    assert capfd.readouterr().out == ""  # 1 was not taken as standard output


def test_a_long_path_that_is_not_a_file_path_is_cut_and_says_so():
    """It was cut at 60 characters without "...", as if the bytes ended there."""
    with pytest.raises(HyperparameterError, match=r"got bytes b'" + "x" * 58 + r"\.\.\.$"):
        atomic_write(b"x" * 100_000, b"written", error=ModelFileError)


@pytest.mark.parametrize("name", ["out/", "out/.", "out/..", ".", ".."])
def test_a_path_naming_a_directory_is_refused_before_writing(tmp_path, monkeypatch, name):
    """Path("out/") is "out", and "out/." too: a file named like the directory was written."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HyperparameterError, match=rf"^path: expected a file name, got '{re.escape(name)}', which names "
                                                  rf"a directory$"):
        atomic_write(name, b"data", error=ModelFileError)
    assert list(tmp_path.iterdir()) == []


def test_a_nul_byte_in_the_path_is_refused_naming_it(tmp_path):
    """open() raised a raw ValueError (embedded null byte)."""
    with pytest.raises(HyperparameterError, match=r"^path: expected a file path, got '.*/a\\x00b', which holds a NUL "
                                                  r"byte \('\\0'\), as no file name can$"):
        atomic_write(tmp_path / "a\0b", b"data", error=ModelFileError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path, shown", [("x" * 4092 + "\0", "x" * 4092 + "\\x00', which holds a NUL byte"),
                                         ("x" * 4093 + "/..", "x" * 4093 + "/..', which names a directory")],
                         ids=["NUL", "directory"])
def test_a_refused_path_is_shown_to_the_longest_a_path_can_be(path, shown):
    """The whole text of a 100,000-character one went into the message; one of up to MAX_PATH_LENGTH characters
    is shown whole, a longer one refused by its length (below)."""
    with pytest.raises(HyperparameterError) as caught:
        atomic_write(path, b"data", error=ModelFileError)
    assert f", got '{shown}" in str(caught.value)


@pytest.mark.parametrize("length", [4097, 100_000])
def test_a_path_longer_than_any_file_name_is_refused_in_a_short_message(tmp_path, monkeypatch, length):
    """The file system's "File name too long" went into a message holding the whole path."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HyperparameterError, match=rf"^path: '{'x' * 59}\.\.\.: a path of {length:,} characters, "
                                                  rf"longer than any file name \(4096\)$"):
        atomic_write("x" * length, b"data", error=ModelFileError)
    with pytest.raises(HyperparameterError, match=r"^-o: 'x"):
        check_writable("x" * length, "-o")
    assert list(tmp_path.iterdir()) == []
    atomic_write("x" * 255, b"data", error=ModelFileError)  # the longest name of a file is written


@pytest.mark.parametrize("end", ["/", "\0"])
def test_a_path_longer_than_any_is_refused_by_its_length_before_what_it_ends_with(end):
    """A path of 5,000 characters and a '/' (or a NUL byte) was quoted to 4,096 characters in 'names a directory'."""
    with pytest.raises(HyperparameterError, match=rf"^-o: '{'x' * 59}\.\.\.: a path of 5,001 characters, "):
        check_path("x" * 5000 + end, "-o")


def test_an_empty_path_is_refused_as_no_file_name(tmp_path, monkeypatch):
    """"" was written as the working directory: ".: cannot write (it is a directory, not a file)"."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HyperparameterError, match=r"^path: expected a file name, got an empty path ''$"):
        atomic_write("", b"data")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("data", [b"x" * 10, "text " * 10])
def test_a_device_that_fills_up_is_a_named_error(data):
    """predict -o /dev/full: the failed flush was reported, then closing the file flushed again and
    raised a bare OSError over it ("internal error", exit 1)."""
    with pytest.raises(DataError, match=r"^/dev/full: cannot write \(No space left on device\)$"):
        atomic_write("/dev/full", data, error=DataError)


FULL_DISK = """
import resource, signal, sys
from chainrule.errors import ModelFileError
from chainrule.io import atomic_write
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit then fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
try:
    atomic_write(sys.argv[1], sys.argv[2] * 4000 if sys.argv[3] == "str" else b"x" * 4000, error=ModelFileError)
except ModelFileError as error:
    print(error)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
@pytest.mark.parametrize("kind", ["bytes", "str"])
def test_a_small_file_on_a_full_disk_is_a_named_error_and_leaves_nothing(tmp_path, kind):
    """A file smaller than the 8 KiB buffer meets the full disk in the final flush: closing the file then
    flushed again and raised a bare OSError over the named error (chainrule train/export/predict -o:
    "internal error", exit 1)."""
    target = tmp_path / "model.safetensors"
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(target), "y", kind], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{target}: cannot write (File too large)\n"
    assert list(tmp_path.iterdir()) == []


def test_check_writable_refuses_a_directory_or_a_missing_directory_and_names_the_argument(tmp_path):
    with pytest.raises(ModelFileError, match=r"^checkpoint: .*: cannot write \(it is a directory, not a file\)$"):
        check_writable(tmp_path, "checkpoint", ModelFileError)
    with pytest.raises(DataError, match=r"^output: .*: cannot write \(directory '.*missing' does not exist\)$"):
        check_writable(tmp_path / "missing" / "out.csv", "output")
    (tmp_path / "file").write_text("")
    with pytest.raises(DataError, match=r"cannot write \(directory '.*file' is not a directory\)$"):
        check_writable(tmp_path / "file" / "out.csv", "output")


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_check_writable_names_the_argument_of_a_path_that_cannot_be_looked_at(tmp_path):
    """A loop of symbolic links (ELOOP from stat) was named without the argument: 'out.csv: cannot write (...)',
    where every other refusal leads with it, as chainrule train's --out: says its run folder's files."""
    loop = tmp_path / "out.csv"
    os.symlink(loop.name, loop)
    with pytest.raises(DataError, match=r"^-o: .*out\.csv: cannot write \(Too many levels of symbolic links\)$"):
        check_writable(loop, "-o")


def test_check_writable_accepts_what_atomic_open_writes(tmp_path):
    (tmp_path / "old.csv").write_text("")
    os.symlink(tmp_path / "target.csv", tmp_path / "link.csv")
    for path in (tmp_path / "new.csv", tmp_path / "old.csv", tmp_path / "link.csv", "/dev/null", "/dev/stdout"):
        check_writable(path, "output")


def abandoned_name(target_name: str, digits: str = "0123456789abcdef") -> str:
    """The name a write of ``target_name`` gives its temporary file: its tag is the start of the SHA-256 of the name."""
    return f".chainrule-{hashlib.sha256(target_name.encode()).hexdigest()[:8]}-{digits}.tmp"


def test_a_write_removes_the_temporary_files_killed_writes_of_its_target_left(tmp_path):
    """A temporary file left by kill -9 (cr.fit's checkpoint, predict -o) stayed for good outside a run folder."""
    left = tmp_path / abandoned_name("model.safetensors")
    left.write_bytes(b"half a checkpoint")
    others = [abandoned_name("other.csv"), ".chainrule-0123456789abcdef.tmp", "notes.tmp"]  # another target's, older
    for name in others:
        (tmp_path / name).write_bytes(b"")
    atomic_write(tmp_path / "model.safetensors", b"whole")
    assert sorted(os.listdir(tmp_path)) == sorted([*others, "model.safetensors"])


@pytest.mark.skipif(atomic.fcntl is None, reason="needs flock (POSIX)")
def test_a_write_leaves_the_temporary_file_of_a_live_write_of_its_target(tmp_path):
    """A second process writing the same target holds its temporary file: it is left; killed, it is removed."""
    target = tmp_path / "predictions.csv"
    script = ("import sys, time\n"
              "from chainrule.io import atomic_open\n"
              "with atomic_open(sys.argv[1]) as file:\n"
              "    file.write(b'half')\n"
              "    print('writing', flush=True)\n"
              "    time.sleep(600)\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        [held] = os.listdir(tmp_path)
        assert re.fullmatch(re.escape(abandoned_name("predictions.csv", "x")).replace("x", "[0-9a-f]{16}"), held)
        atomic_write(target, b"mine")
        assert sorted(os.listdir(tmp_path)) == sorted([held, "predictions.csv"])  # the live write's is left
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    atomic_write(target, b"mine again")
    assert os.listdir(tmp_path) == ["predictions.csv"]
    assert target.read_bytes() == b"mine again"


@pytest.mark.skipif(atomic.fcntl is None, reason="needs flock (POSIX)")
def test_a_temporary_file_of_the_target_that_a_write_holds_is_left(tmp_path):
    held = tmp_path / abandoned_name("run.ckpt")
    held.write_bytes(b"")
    with open(held, "rb") as file:
        atomic.fcntl.flock(file.fileno(), atomic.fcntl.LOCK_EX | atomic.fcntl.LOCK_NB)  # as a live write holds it
        atomic_write(tmp_path / "run.ckpt", b"whole")
        assert held.exists()
    atomic_write(tmp_path / "run.ckpt", b"whole")
    assert os.listdir(tmp_path) == ["run.ckpt"]


def test_a_write_removes_only_regular_files_named_as_its_targets_temporary_files(tmp_path):
    """Links, folders and near names are left: the link's file too, whatever the target's name holds."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.bin").write_bytes(b"not ours")
    folder = tmp_path / "here"
    folder.mkdir()
    name = os.fsdecode(b"m\xf6del\n*?[x].safetensors")  # not UTF-8, a newline and glob characters
    tag = hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    (folder / f".chainrule-{tag}-0000000000000001.tmp").symlink_to(outside / "kept.bin")
    (folder / f".chainrule-{tag}-0000000000000002.tmp").mkdir()
    near = [f".chainrule-{tag}-000000000000000A.tmp", f".chainrule-{tag}-00000000000003.tmp",
            f".chainrule-{tag}-0000000000000004.tmp.x", f"x.chainrule-{tag}-0000000000000005.tmp"]
    for each in near:
        (folder / each).write_bytes(b"mine")
    (folder / f".chainrule-{tag}-0000000000000006.tmp").write_bytes(b"abandoned")
    atomic_write(folder / name, b"whole")
    assert sorted(os.listdir(folder)) == sorted([f".chainrule-{tag}-0000000000000001.tmp",
                                                 f".chainrule-{tag}-0000000000000002.tmp", *near, name])
    assert (outside / "kept.bin").read_bytes() == b"not ours" and (folder / name).read_bytes() == b"whole"


@pytest.mark.skipif(atomic.fcntl is None, reason="needs flock (POSIX)")
@pytest.mark.parametrize("when", ["deleted before the lock", "locked to be deleted"])
def test_a_temporary_file_another_write_deletes_before_it_is_locked_is_made_again(tmp_path, monkeypatch, when):
    """Another write of the same target, deleting what killed writes left, may take a new temporary file for one
    in the moment between its creation and its lock: the rename then failed ("No such file or directory")."""
    hold, calls = atomic._hold, []

    def another_write_first(descriptor):
        calls.append(descriptor)
        if len(calls) > 1:
            return hold(descriptor)
        [name] = [name for name in os.listdir(tmp_path) if name.startswith(".chainrule-")]
        if when == "deleted before the lock":
            atomic.remove_abandoned(tmp_path / name)
            return hold(descriptor)
        other = os.open(tmp_path / name, os.O_RDONLY)  # remove_abandoned, between its lock and its deletion
        try:
            atomic.fcntl.flock(other, atomic.fcntl.LOCK_EX | atomic.fcntl.LOCK_NB)
            return hold(descriptor)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path / name)
            os.close(other)

    monkeypatch.setattr(atomic, "_hold", another_write_first)
    atomic_write(tmp_path / "model.safetensors", b"whole")
    assert len(calls) == 2
    assert os.listdir(tmp_path) == ["model.safetensors"] and (tmp_path / "model.safetensors").read_bytes() == b"whole"
