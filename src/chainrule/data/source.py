"""Reading a user's file: the one place where operating-system errors become DataError."""

from __future__ import annotations

import stat
from pathlib import Path

from ..errors import DataError


def open_binary(path: Path):
    """``path`` opened for reading bytes, as an ``io.BufferedReader`` (so it can be peeked at,
    also when it is a pipe); DataError naming it if it is missing or unreadable, or a device.

    A device (``/dev/zero``, ``/dev/urandom``, a disk) is refused: it holds no file of data, and
    reading it to its end, as a CSV file is read, may never end. A pipe (``/dev/fd/N``, a FIFO)
    is read as it comes."""
    try:
        mode = path.stat().st_mode  # before it is opened: opening some devices acts (a tape rewinds)
        device = stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        handle = None if device else path.open("rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except ValueError:  # "embedded null byte": no file name holds one (a config file's "\u0000")
        raise DataError(f"{str(path)!r}: a path holding a NUL character names no file") from None
    if device:
        raise DataError(f"{path}: a device, not a file; expected a data file (or a pipe)")
    return handle


def read_bytes(path: Path) -> bytes:
    """The whole content of ``path``; DataError naming it if it is missing or unreadable."""
    with open_binary(path) as handle:
        try:
            return handle.read()
        except OSError as error:
            raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
