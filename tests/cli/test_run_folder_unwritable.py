"""chainrule train into a run folder it cannot write: one line led by ``--out:``, as the other commands'
output errors are led by their option (``-o:``, ``--onnx:``), found before training where it can be. A
folder that could not be created or locked, and a resumed run's file made read-only, were named without
the option, the read-only file only once training was over."""

import errno
import os

import pytest

from .helpers import assert_one_line_error, call, run_bound_by_permissions

IRIS = ["--data", "iris", "--hidden", "4", "--quiet", "--no-plots"]
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX file permissions")


@pytest.fixture
def run(tmp_path, capsys):
    folder = tmp_path / "run"
    code, _, err = call(capsys, "train", *IRIS, "--epochs", "1", "--out", folder)
    assert code == 0, err
    return folder


def train_into_read_only(folder, out):
    """``chainrule train --out out`` run as a user bound by permissions, ``folder`` made and read-only meanwhile."""
    folder.mkdir()
    folder.chmod(0o555)
    try:
        return run_bound_by_permissions("train", *IRIS, "--epochs", "1", "--out", out)
    finally:
        folder.chmod(0o755)


@posix
def test_a_run_folder_in_a_folder_that_cannot_be_written_is_named_by_out(tmp_path):
    parent = tmp_path / "read-only"
    result = train_into_read_only(parent, parent / "run")
    assert_one_line_error(result.returncode, result.stderr, f"chainrule: error: --out: {parent / 'run'}: cannot "
                                                            f"create the run folder (Permission denied)")
    assert list(parent.iterdir()) == []


@posix
def test_a_run_folder_that_cannot_be_written_is_named_by_out(tmp_path):
    folder = tmp_path / "read-only"
    result = train_into_read_only(folder, folder)
    assert_one_line_error(result.returncode, result.stderr, f"chainrule: error: --out: {folder / '.chainrule-run.lock'}"
                                                            f": cannot open the run folder's lock file (Permission "
                                                            f"denied)")


@posix
@pytest.mark.parametrize("name", ["checkpoint.safetensors", "config.toml", "model.safetensors", "metrics.json"])
def test_a_resumed_runs_read_only_file_is_named_by_out_before_training(run, name):
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    (run / name).chmod(0o444)
    try:
        result = run_bound_by_permissions("train", "--resume", run / "checkpoint.safetensors", "--epochs", "2",
                                          "--quiet")
    finally:
        (run / name).chmod(0o644)
    assert_one_line_error(result.returncode, result.stderr, f"chainrule: error: --out: {run / name}: cannot write: the "
                                                            f"file is read-only")
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before  # nothing trained, nothing written


def test_a_resumed_runs_plot_that_is_a_directory_is_named_by_out_before_training(run, capsys, tmp_path):
    (run / "gradient_flow.png").mkdir()
    plots = tmp_path / "plots.toml"
    plots.write_text("plots = true\n")
    before = (run / "checkpoint.safetensors").read_bytes()
    code, _, err = call(capsys, "train", "--resume", run / "checkpoint.safetensors", "--epochs", "2", "--quiet",
                        "--config", plots)
    assert_one_line_error(code, err, f"chainrule: error: --out: {run / 'gradient_flow.png'}: cannot write (it is a "
                                     f"directory, not a file)")
    assert (run / "checkpoint.safetensors").read_bytes() == before


def failing_replace(monkeypatch, name: str, after: int = 0):
    """Make the rename that ends an atomic write of a file called ``name`` fail as on a full disk, after
    ``after`` such writes succeeded."""
    replace, seen = os.replace, []

    def replace_unless_full(source, target, *args, **kwargs):
        if os.path.basename(target) == name:
            seen.append(target)
            if len(seen) > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace_unless_full)


@pytest.mark.parametrize("name", ["config.toml", "model.safetensors", "metrics.json"])
def test_a_runs_file_that_cannot_be_written_once_training_is_over_is_named_by_out(tmp_path, capsys, monkeypatch,
                                                                                   name):
    failing_replace(monkeypatch, name)
    folder = tmp_path / "run"
    code, _, err = call(capsys, "train", *IRIS, "--epochs", "1", "--out", folder)
    assert_one_line_error(code, err, f"chainrule: error: --out: {folder / name}: cannot write (No space left on "
                                     f"device)")


def test_a_plot_that_cannot_be_written_is_named_by_out(tmp_path, capsys, monkeypatch):
    failing_replace(monkeypatch, "history.png")
    folder = tmp_path / "run"
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--quiet", "--epochs", "1", "--out",
                        folder)
    assert_one_line_error(code, err, f"chainrule: error: --out: {folder / 'history.png'}: cannot write (No space left "
                                     f"on device); the run trained to epoch 1 and ")


def test_a_checkpoint_that_cannot_be_written_during_training_is_named_by_out(tmp_path, capsys, monkeypatch):
    failing_replace(monkeypatch, "checkpoint.safetensors", after=1)
    folder = tmp_path / "run"
    code, _, err = call(capsys, "train", *IRIS, "--epochs", "3", "--out", folder)
    assert_one_line_error(code, err, f"chainrule: error: --out: {folder / 'checkpoint.safetensors'}: cannot write "
                                     f"(No space left on device)")


@posix
def test_a_resumed_runs_file_that_cannot_be_looked_at_is_named_by_out_before_training(run, capsys):
    """A loop of symbolic links where metrics.json was: named without --out, unlike the folder's other errors."""
    (run / "metrics.json").unlink()
    os.symlink("metrics.json", run / "metrics.json")
    before = (run / "checkpoint.safetensors").read_bytes()
    code, out, err = call(capsys, "train", "--resume", run / "checkpoint.safetensors", "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: --out: {run / 'metrics.json'}: cannot write (Too many levels "
                                     f"of symbolic links)")
    assert out == "" and (run / "checkpoint.safetensors").read_bytes() == before
