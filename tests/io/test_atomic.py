"""chainrule.io.atomic: a file is written whole or not at all."""

import os

import pytest

from chainrule.errors import DataError, ModelFileError
from chainrule.io import atomic_open, atomic_write


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


def test_target_that_is_a_directory_raises_and_cleans_up(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(DataError, match="out"):
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
