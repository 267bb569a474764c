"""chainrule.data.source: a user's file opened or read, operating-system errors as DataError."""

import os
from pathlib import Path

import pytest

from chainrule.data.csv_file import load_csv
from chainrule.data.source import open_binary, read_bytes
from chainrule.errors import DataError


def test_open_binary_gives_a_reader_that_can_peek(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00\x01rest")
    with open_binary(path) as handle:
        assert handle.peek(2)[:2] == b"\x00\x01"
        assert handle.read() == b"\x00\x01rest"


def test_read_bytes_gives_the_whole_content(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"a,b\n1,2\n")
    assert read_bytes(path) == b"a,b\n1,2\n"


@pytest.mark.parametrize("read", [open_binary, read_bytes])
def test_a_missing_file_is_named(tmp_path, read):
    with pytest.raises(DataError, match=r"absent\.bin: no such file"):
        read(tmp_path / "absent.bin")


@pytest.mark.parametrize("read", [open_binary, read_bytes])
def test_a_directory_is_named(tmp_path, read):
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match="folder: is a directory, expected a file"):
        read(tmp_path / "folder")


def test_an_unopenable_file_is_named_with_the_reason(tmp_path, monkeypatch):
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "open", refuse)
    with pytest.raises(DataError, match=r"secret\.bin: cannot read the file \(Permission denied\)"):
        open_binary(path)


def test_a_read_that_fails_midway_is_named_with_the_reason(tmp_path, monkeypatch):
    path = tmp_path / "flaky.bin"
    path.write_bytes(b"x")

    class FailingReader:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(type(path), "open", lambda self, mode: FailingReader())
    with pytest.raises(DataError, match=r"flaky\.bin: cannot read the file \(Input/output error\)"):
        read_bytes(path)


@pytest.mark.skipif(not os.path.exists(os.devnull) or os.name == "nt", reason="needs a device file")
@pytest.mark.parametrize("read", [open_binary, read_bytes])
def test_a_device_is_refused_as_no_data_file(tmp_path, read):
    """/dev/zero read to its end never ends: a link ``data.csv -> /dev/zero`` hung train."""
    link = tmp_path / "data.csv"
    link.symlink_to(os.devnull)
    with pytest.raises(DataError, match=r"data\.csv: a device, not a file; expected a data file \(or a pipe\)"):
        read(link)
    with pytest.raises(DataError, match="a device, not a file"):
        load_csv(link)


def test_a_pipe_is_read_as_it_comes():
    read_end, write_end = os.pipe()
    os.write(write_end, b"a,b\n1,2\n")
    os.close(write_end)
    try:
        assert read_bytes(Path(f"/dev/fd/{read_end}")) == b"a,b\n1,2\n"
    finally:
        os.close(read_end)
