"""chainrule.data.source: a user's file opened or read, operating-system errors as DataError."""

import pytest

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
