"""stdout and stderr while a ``chainrule`` command runs: what a closed, full or narrow stream does.

A stdout that cannot be written (closed with ``>&-``, a full disk) makes the command fail with
:class:`OutputError` (exit 2); a closed or unwritable stderr only loses the messages, as they
have nowhere else to go; text a stream's encoding has no bytes for is written with backslash
escapes (``s\\xe9tosa`` under ``PYTHONIOENCODING=ascii``). A BrokenPipeError (the reader of
stdout left) is passed on, for the caller to end quietly after :func:`discard_stdout`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys

from ..errors import ChainruleError


class OutputError(ChainruleError, OSError):
    """stdout cannot be written: closed (``>&-``), or a write failed (``> /dev/full``)."""


def printable(text: str) -> str:
    """``text`` with each character a terminal acts on (an escape sequence's ESC, a bell, a carriage
    return) or does not show written as its Python escape (``\\x1b``): an error message quotes
    what a file holds (a crafted model file's optimizer name, a key), which must not drive the
    terminal (clear it, set its title), as ``chainrule info`` shows a file's text."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


@contextlib.contextmanager
def standard_streams():
    """stdout and stderr, while a command runs, as :class:`_Stdout` and :class:`_Stderr`.

    A stream closed when the process started (``2>&-``) is None in Python, where ``print``
    would write to stdout instead (stderr) or nothing at all (stdout): a closed stderr becomes
    os.devnull (which also keeps its descriptor from being reused by a file chainrule opens),
    a closed stdout a :class:`_ClosedStream`.
    """
    saved = sys.stdout, sys.stderr
    with contextlib.ExitStack() as stack:
        stderr = sys.stderr if sys.stderr is not None else stack.enter_context(open(os.devnull, "w"))
        stdout = sys.stdout if sys.stdout is not None else _ClosedStream()
        sys.stdout, sys.stderr = _Stdout(stdout), _Stderr(stderr)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


def error_line(text: str) -> None:
    """``text`` and its newline on stderr in one write. ``print`` writes them apart, which reach
    the stream as two writes where stderr writes through (``PYTHONUNBUFFERED``, ``python -u``):
    the lines of a distributed run's ranks, which mpiexec merges into one stream, could then run
    together ("...processeschainrule: error: rank 0 of 3: ..."). Nothing is written where the
    process has no stderr (None), as ``print`` to it would have written to stdout instead."""
    if sys.stderr is not None:
        sys.stderr.write(text + "\n")


def stdout_closed() -> bool:
    """Whether stdout was closed when the process started (``>&-``), within ``standard_streams``:
    a command whose work takes long (``train``) refuses at once what would fail at its end."""
    return isinstance(getattr(sys.stdout, "stream", None), _ClosedStream)


class _Escaping:
    """A text stream, all but its ``write``, which writes the characters its encoding has no
    bytes for as backslash escapes (``esp\\xe8ce`` under ``PYTHONIOENCODING=ascii``)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def __getattr__(self, name: str):
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:  # raised before anything is written
            encoding = self.stream.encoding
            return self.stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


class _Stdout(_Escaping):
    """stdout: a failed write or flush is an :class:`OutputError`, but for BrokenPipeError,
    which ``chainrule.cli.main`` takes as the reader having left."""

    def write(self, text: str) -> int:
        with _output_errors():
            return super().write(text)

    def flush(self) -> None:
        with _output_errors():
            self.stream.flush()


@contextlib.contextmanager
def _output_errors():
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"stdout: cannot write the output ({error.strerror or error}); "
                          f"send it to a file or a pipe that can take it") from error


class _Stderr(_Escaping):
    """stderr: a failed write or flush is ignored; the messages have nowhere else to go, and
    the exit code still tells what happened."""

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError):
            return super().write(text)
        return 0

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.flush()


class _ClosedStream(io.TextIOBase):
    """What a stdout closed when the process started stands for: its writes fail as a
    closed descriptor's do."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it was closed when chainrule started")


def discard_stdout() -> None:
    """Point stdout's descriptor at os.devnull, so that the interpreter's flush at exit does
    not fail a second time (as Python's documentation advises for a broken pipe)."""
    with contextlib.suppress(OSError, ValueError):  # no descriptor: a closed or in-memory stdout
        descriptor = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
