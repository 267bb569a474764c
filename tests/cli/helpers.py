"""Helpers of the command-line tests: run ``chainrule`` in a subprocess or in this process,
write small CSV files, and check the one-line error contract."""

import contextlib
import csv
import os
import subprocess
import sys
import threading

import numpy
from sklearn.datasets import load_iris

from chainrule.cli import main
from tests.harness import bound_by_permissions

SPECIES = ["setosa", "versicolor", "virginica"]
IRIS_HEADER = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]


def run_cli(*args, cwd, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m chainrule ARGS`` in ``cwd``, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def run_bound_by_permissions(*args) -> subprocess.CompletedProcess:
    """``python -m chainrule ARGS`` without root's power to write any file (a plain user is bound
    already), so that a file's permissions decide what it may write; skips the test as root
    without setpriv."""
    command = bound_by_permissions([sys.executable, "-m", "chainrule", *map(str, args)])
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def call(capsys, *args) -> tuple[int, str, str]:
    """``chainrule ARGS`` in this process: (exit code, stdout, stderr)."""
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str, exit_code: int = 2) -> str:
    """The error contract: exit code, exactly one line on stderr, no traceback; returns the line."""
    lines = err.splitlines()
    assert code == exit_code, err
    assert len(lines) == 1, err
    assert lines[0].startswith("chainrule: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def iris_rows():
    """Iris as CSV rows of strings: the header, then 150 rows with the species' names."""
    X, y = load_iris(return_X_y=True)
    return [list(IRIS_HEADER)] + [[repr(float(value)) for value in row] + [SPECIES[label]] for row, label in zip(X, y)]


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def iris_features():
    """The iris measurements as float64 (150, 4) and the species' names, as the CSV holds them."""
    X, y = load_iris(return_X_y=True)
    return X, numpy.array(SPECIES)[y]


@contextlib.contextmanager
def fifo_holding(path, text: str):
    """A FIFO at ``path`` that gives ``text`` to its first reader (a pipe: read once, then gone).

    On leaving, a writer still alive is given a reader, so that it ends. That reader opens the
    FIFO without waiting: a writer that closed the FIFO (its reader has read to the end) is
    alive a moment longer, and a plain ``open`` then waited for a writer that never came (a
    test that read the FIFO in this process hung at random)."""
    os.mkfifo(path)

    def write():
        try:
            path.write_text(text)
        except BrokenPipeError:  # its reader left before the end (the one below, before it began)
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        while writer.is_alive():
            reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # returns at once, writer or not
            try:
                os.set_blocking(reader, True)
                while os.read(reader, 1 << 16):  # b"" at once where no writer holds the FIFO
                    pass
            finally:
                os.close(reader)
            writer.join(0.1)
