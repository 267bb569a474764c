"""chainrule.cli.streams: a command's stdout and stderr closed, full, unwritable, left by their
reader, or of an encoding that cannot write the text (run as subprocesses: the streams are the
process's own)."""

import contextlib
import io
import os
import subprocess
import sys

import pytest

from chainrule.cli import main

from .helpers import assert_one_line_error, iris_rows, write_csv


def run_with(*args, cwd, env=None, **streams) -> subprocess.CompletedProcess:
    """``python -m chainrule ARGS`` with ``streams`` given to subprocess.run (stdout, stderr,
    preexec_fn); the output captured as text where not given."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **streams}
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, args)], cwd=cwd, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, **options)


def closing(descriptor: int):
    """A preexec_fn that closes ``descriptor`` in the child, as ``>&-`` (1) or ``2>&-`` (2) does."""
    return lambda: os.close(descriptor)


def test_a_closed_stderr_loses_the_error_line_not_the_exit_code(tmp_path):
    """Python's sys.stderr is then None, and print(file=None) wrote the error on stdout."""
    done = run_with("train", "--bogus", cwd=tmp_path, preexec_fn=closing(2))
    assert (done.returncode, done.stdout) == (2, "")


def test_an_unwritable_stderr_loses_the_error_line_not_the_exit_code(tmp_path):
    """stderr open for reading only: its write failed inside the error report (exit 1)."""
    with open(os.devnull, "rb") as unwritable:
        done = run_with("train", "--bogus", cwd=tmp_path, stderr=unwritable)
    assert (done.returncode, done.stdout) == (2, "")


def test_training_with_a_closed_stderr_prints_only_its_result_on_stdout(tmp_path, iris_csv):
    done = run_with("train", "--data", iris_csv, "--hidden", "4", "--epochs", "2", "--no-plots", "--out", "run",
                    cwd=tmp_path, preexec_fn=closing(2))
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1 and done.stdout.startswith("test accuracy"), done.stdout
    assert (tmp_path / "run" / "model.safetensors").exists()


def test_a_closed_stdout_is_one_line_and_exit_2_for_a_command_that_prints(tmp_path, iris_run):
    done = run_with("info", iris_run / "model.safetensors", "--json", cwd=tmp_path, preexec_fn=closing(1))
    assert_one_line_error(done.returncode, done.stderr, "stdout: cannot write", "closed")


def test_training_with_a_closed_stdout_is_refused_before_it_trains(tmp_path, iris_csv):
    """It trained the whole run and wrote its folder, then failed on its summary line (exit 2)."""
    done = run_with("train", "--data", iris_csv, "--hidden", "4", "--epochs", "2", "--no-plots", "--out", "run",
                    cwd=tmp_path, preexec_fn=closing(1))
    assert_one_line_error(done.returncode, done.stderr, "stdout: it was closed when chainrule started")
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_stdout_is_one_line_and_exit_2(tmp_path, iris_run, features_csv):
    """No internal error, and no second complaint as the interpreter flushes stdout at exit."""
    with open("/dev/full", "w") as full:
        done = run_with("predict", iris_run / "model.safetensors", features_csv, cwd=tmp_path, stdout=full)
    assert_one_line_error(done.returncode, done.stderr, "stdout: cannot write", "No space left on device")


def test_a_reader_that_left_ends_the_command_quietly(tmp_path, iris_run, features_csv):
    """chainrule predict ... | head: exit 1, and nothing on stderr (no "Exception ignored")."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = run_with("predict", iris_run / "model.safetensors", features_csv, cwd=tmp_path, stdout=writer)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.fixture
def accented_run(tmp_path):
    """The run folder of a small network trained on iris with a class named "sétosa"."""
    rows = [[value.replace("setosa", "sétosa") for value in row] for row in iris_rows()]
    data = write_csv(tmp_path / "iris.csv", rows)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--data", str(data), "--hidden", "4", "--epochs", "2", "--quiet", "--no-plots",
                     "--out", str(tmp_path / "run")]) == 0
    return tmp_path / "run"


def test_text_stdout_cannot_encode_is_written_with_backslash_escapes(tmp_path, accented_run):
    done = run_with("info", accented_run / "model.safetensors", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert (done.returncode, done.stderr) == (0, "")
    assert "classes: s\\xe9tosa, versicolor" in done.stdout


def test_predictions_stdout_cannot_encode_are_refused_naming_o(tmp_path, accented_run, features_csv):
    """Backslash escapes would make other labels of a CSV's values."""
    done = run_with("predict", accented_run / "model.safetensors", features_csv, cwd=tmp_path,
                    env={"PYTHONIOENCODING": "ascii"})
    assert_one_line_error(done.returncode, done.stderr, "stdout: its encoding (ascii)", "-o FILE")
    assert done.stdout == ""


def test_an_error_line_reaches_stderr_in_one_write(monkeypatch, tmp_path):
    """print wrote a line and its newline apart: two writes where stderr writes through
    (PYTHONUNBUFFERED, python -u), and the ranks' lines, which mpiexec merges into one stream,
    ran together ("...processeschainrule: error: rank 0 of 3: ...")."""
    class Writes(io.StringIO):
        def __init__(self):
            super().__init__()
            self.calls = []

        def write(self, text):
            self.calls.append(text)
            return super().write(text)

    stderr = Writes()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--epochs", "0"]) == 2
    assert [call for call in stderr.calls if call] == [stderr.getvalue()]
    assert stderr.getvalue().startswith("chainrule: error: --epochs") and stderr.getvalue().count("\n") == 1
