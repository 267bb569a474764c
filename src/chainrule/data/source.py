"""Reading a user's file: the one place where operating-system errors become DataError."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError


def open_binary(path: Path):
    """``path`` opened for reading bytes, as an ``io.BufferedReader`` (so it can be peeked at,
    also when it is a pipe); DataError naming it if it is missing or unreadable."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except ValueError:  # "embedded null byte": no file name holds one (a config file's "\u0000")
        raise DataError(f"{str(path)!r}: a path holding a NUL character names no file") from None


def read_bytes(path: Path) -> bytes:
    """The whole content of ``path``; DataError naming it if it is missing or unreadable."""
    with open_binary(path) as handle:
        try:
            return handle.read()
        except OSError as error:
            raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
