"""chainrule train: the no-argument default run, user CSV files, resume (also after SIGKILL),
and every bad input refused in one line with exit 2 and no run folder left behind."""

import errno
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import chainrule as cr
from chainrule.cli import gradcheck as gradcheck_command, main, train as train_command
from chainrule.cli.config import SavedConfig, TrainConfig
from chainrule.cli.evaluate import score_text
from chainrule.io import model_file, read, save
from chainrule.io.architecture import to_config
from chainrule.cli.config import tomllib  # the standard library's, or tomli on Python 3.10
from chainrule.training.loop import Loop  # fit's epochs: patched below to press Ctrl-C mid-run

from tests.data.writers import idx_bytes, mnist_like, write_idx
from tests.harness import bound_by_permissions, capture_figures, suptitle

from .helpers import assert_one_line_error, call, fifo_holding, iris_features, iris_rows, run_cli, write_csv

ROOT = Path(__file__).resolve().parents[2]

RUN_FILES = {"model.safetensors", "checkpoint.safetensors", "metrics.json", "config.toml", "history.png",
             "gradient_flow.png"}
SUMMARY = re.compile(r"^test accuracy (\d\.\d{4}) on digits \(360 test samples, (\d+) epochs, (completed|early stopping)"
                     r"(?:; weights of best epoch \d+ restored)?\); run folder: (runs/\d{8}-\d{6})$")


def same_weights(a, b) -> bool:
    return list(a.params) == list(b.params) and all(np.array_equal(a.params[n], b.params[n]) for n in a.params)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """``chainrule train`` with no arguments, run once: (the finished process, its directory)."""
    cwd = tmp_path_factory.mktemp("default")
    return run_cli("train", cwd=cwd), cwd


# The default run ---------------------------------------------------------------------------

def test_the_default_run_prints_a_test_accuracy_of_at_least_97_percent(default_run):
    done, _ = default_run
    assert done.returncode == 0, done.stderr
    match = SUMMARY.match(done.stdout.strip())
    assert match, done.stdout
    assert float(match.group(1)) >= 0.97
    assert "epoch 1/60" in done.stderr  # the progress bar, on stderr only
    assert "Traceback" not in done.stderr


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


@pytest.mark.parametrize("term, bar", [("xterm-256color", True), ("dumb", False)])
def test_a_dumb_terminal_gets_the_epoch_lines_without_the_bar(monkeypatch, tmp_path, term, bar):
    """TERM=dumb (Emacs' shell, an editor's pane) showed each of the bar's carriage-return redraws."""
    terminal = Terminal()
    monkeypatch.setenv("TERM", term)
    monkeypatch.setattr("sys.stderr", terminal)
    code = main(["train", "--data", "iris", "--hidden", "8", "--epochs", "2", "--no-plots",
                 "--out", str(tmp_path / "run")])
    shown = terminal.getvalue()
    assert code == 0, shown
    assert ("\r" in shown) == bar and ("sample/s" in shown) == bar
    assert "epoch 1/2: loss " in shown and "epoch 2/2: loss " in shown
    if not bar:
        assert [line.split(":")[0] for line in shown.splitlines()] == ["epoch 1/2", "epoch 2/2"]


class SizedTerminal(Terminal):
    """A terminal of ``columns`` columns: written to as a StringIO, sized by a pseudo-terminal,
    whose size tqdm reads through ``fileno``."""

    def __init__(self, columns: int) -> None:
        import fcntl  # POSIX only, as the three below: the test is skipped on Windows
        import pty
        import struct
        import termios

        super().__init__()
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))

    def fileno(self) -> int:
        return self.slave

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        super().close()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("columns, widest", [(400, 100), (60, 60), (20, 20)])
def test_the_bar_fits_a_narrow_terminal_and_stays_readable_in_a_wide_one(monkeypatch, tmp_path, columns, widest):
    """tqdm filled any width: a 400-column terminal drew a bar of 350 blocks."""
    terminal = SizedTerminal(columns)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr("sys.stderr", terminal)
    try:
        code = main(["train", "--data", "iris", "--hidden", "8", "--epochs", "2", "--no-plots",
                     "--out", str(tmp_path / "run")])
        drawn = [part for part in re.split(r"[\r\n]", terminal.getvalue()) if "|" in part]  # the bar's redraws
    finally:
        terminal.close()
    assert code == 0
    assert drawn and max(len(part) for part in drawn) <= widest
    assert "100%" in drawn[-1]


def test_the_default_run_writes_a_complete_run_folder(default_run):
    done, cwd = default_run
    folder = cwd / SUMMARY.match(done.stdout.strip()).group(4)
    assert [path.name for path in (cwd / "runs").iterdir()] == [folder.name]
    assert {path.name for path in folder.iterdir()} == RUN_FILES  # and no temporary files
    for picture in ("history.png", "gradient_flow.png"):
        assert (folder / picture).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    metrics = json.loads((folder / "metrics.json").read_text())
    printed = float(SUMMARY.match(done.stdout.strip()).group(1))
    assert round(metrics["test"]["accuracy"], 4) == printed
    assert metrics["epochs"] == len(metrics["history"]["metrics"]["loss"]) == int(SUMMARY.match(done.stdout).group(2))
    assert set(metrics["history"]["grad_norms"]) == {"0", "2", "4"}
    config = tomllib.loads((folder / "config.toml").read_text())
    assert TrainConfig().with_values(config, "config.toml") == TrainConfig()  # batch_size left out: None
    model = cr.load(folder / "model.safetensors")
    assert model.metadata["training"]["batch_size"] == 32
    assert [layer.n_out for _, layer in model.walk() if hasattr(layer, "n_out")] == [256, 128, 10]
    assert model.metadata["test"] == metrics["test"]
    data = cr.load_data("digits", test_size=0.2, seed=0)
    assert cr.evaluate(model, data.X_test, data.y_test)["accuracy"] == metrics["test"]["accuracy"]
    assert read(folder / "checkpoint.safetensors")[2]["epoch"] == metrics["epochs"]


def test_the_json_results_match_the_printed_ones(default_run, capsys, tmp_path):
    done, _ = default_run
    code, out, err = call(capsys, "train", "--json", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert (code, err) == (0, "")
    results = json.loads(out)
    assert results["test"]["accuracy"] >= 0.97
    assert f"{results['test']['accuracy']:.4f}" == SUMMARY.match(done.stdout.strip()).group(1)
    assert (results["data"], results["task"], results["run"]) == ("digits", "classification", str(tmp_path / "run"))
    assert results["stop_reason"] in ("completed", "early_stopping")


# User files --------------------------------------------------------------------------------

def test_a_csv_round_trip_train_evaluate_predict_info(tmp_path):
    write_csv(tmp_path / "iris.csv", iris_rows())
    train = run_cli("train", "--data", "iris.csv", "--hidden", "16", "--epochs", "40", "--lr", "0.02",
                    "--quiet", "--no-plots", "--out", "run", cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    assert re.match(r"test accuracy \d\.\d{4} on iris\.csv \(30 test samples, 40 epochs, completed\)", train.stdout)
    assert train.stderr == ""

    evaluate = run_cli("evaluate", "run/model.safetensors", "iris.csv", "--json", "--all-rows", cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    scores = json.loads(evaluate.stdout)
    assert scores["n_samples"] == 150 and scores["accuracy"] > 0.8

    predict = run_cli("predict", "run/model.safetensors", "iris.csv", "-o", "out.csv", cwd=tmp_path)
    assert (predict.returncode, predict.stdout, predict.stderr) == (0, "", "")
    lines = (tmp_path / "out.csv").read_text().splitlines()
    _, labels = iris_features()
    assert lines[0] == "prediction" and len(lines) == 151
    assert np.mean(np.array(lines[1:]) == labels) == pytest.approx(scores["accuracy"])

    info = run_cli("info", "run/model.safetensors", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "131 parameters, float32" in info.stdout
    assert "3 classes: setosa, versicolor, virginica" in info.stdout


def test_a_regression_csv_reports_r2_and_mae(tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    header = [f"x{i}" for i in range(10)] + ["y"]
    write_csv(tmp_path / "diabetes.csv", [header] + [[*row, value] for row, value in zip(X, y)])
    code, out, err = call(capsys, "train", "--data", tmp_path / "diabetes.csv", "--hidden", "8", "--epochs", "3",
                          "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    assert re.match(r"test R² -?\d\.\d{4}, MAE [\d.]+ on diabetes\.csv", out)
    assert cr.load(tmp_path / "run" / "model.safetensors").preprocessor.task == "regression"


def test_the_summary_line_writes_scores_as_evaluate_does():
    """Diabetes + 1e6's R² was printed -130000000.0000 (':.4f') and its MAE 8.8e+05, where evaluate
    printed -1.3e+08 and 880000.0000 (evaluate.score_text)."""
    history = SimpleNamespace(stop_reason="completed", best_epoch=None, epochs=60, partial_last_epoch=False)
    data = SimpleNamespace(name="far.csv", X_test=np.zeros((89, 10)))
    line = train_command.summary_line(data, {"loss": 1.7e12, "r2": -1.3e8, "mae": 8.8e5}, history, Path("run"))
    assert line.startswith("test R² -1.3e+08, MAE 880000.0000 on far.csv (89 test samples, 60 epochs, completed)")
    assert train_command.summary_line(data, {"r2": float("nan"), "mae": 3.1e-05}, history,
                                      Path("run")).startswith("test R² nan, MAE 3.1e-05 on far.csv")
    line = train_command.summary_line(data, {"loss": 0.1, "accuracy": 0.96666}, history, Path("run"))
    assert line.startswith(f"test accuracy {score_text(0.96666)} on far.csv") and score_text(0.96666) == "0.9667"


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_rows_of_another_width_are_refused_naming_the_data_and_the_model(iris_run, capsys, command):
    model = iris_run / "model.safetensors"
    code, out, err = call(capsys, command, model, "digits")
    assert_one_line_error(code, err, f"digits: rows of 64 features, but the model {model} takes 4")
    assert out == ""


# Resume ------------------------------------------------------------------------------------

IRIS = ["--data", "iris", "--hidden", "8", "--patience", "0", "--quiet", "--no-plots"]


def keep_only_the_checkpoint(folder):
    """Delete the run ``folder``'s files but its checkpoint, as a run killed before its end leaves it."""
    for path in folder.iterdir():
        if path.name != "checkpoint.safetensors":
            path.unlink()


def test_resume_ends_bit_identical_to_an_uninterrupted_run(tmp_path, capsys):
    assert call(capsys, "train", *IRIS, "--epochs", "3", "--out", tmp_path / "cut")[0] == 0
    assert call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--epochs", "7",
                "--quiet")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "7", "--out", tmp_path / "whole")[0] == 0
    resumed, whole = (cr.load(tmp_path / name / "model.safetensors") for name in ("cut", "whole"))
    assert same_weights(resumed, whole)
    history = [json.loads((tmp_path / name / "metrics.json").read_text())["history"] for name in ("cut", "whole")]
    assert history[0] == history[1]


def test_resume_takes_the_options_from_the_checkpoint(tmp_path, capsys):
    # A run killed before its end has no config.toml: the checkpoint alone must say how to go on.
    assert call(capsys, "train", *IRIS, "--hidden", "5", "--epochs", "2", "--out", tmp_path / "run")[0] == 0
    keep_only_the_checkpoint(tmp_path / "run")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "4",
                        "--quiet")
    assert code == 0, err
    config = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert (config["data"], config["hidden"], config["patience"], config["epochs"]) == ("iris", "5", 0, 4)
    assert cr.load(tmp_path / "run" / "model.safetensors").metadata["training"]["epochs"] == 4


def test_resume_with_a_config_file_keeps_the_saved_configuration(tmp_path, capsys):
    # The file names only epochs: seed 3 (and so the split and the shuffling) comes from the checkpoint.
    assert call(capsys, "train", *IRIS, "--seed", "3", "--epochs", "2", "--out", tmp_path / "cut")[0] == 0
    (tmp_path / "more.toml").write_text("epochs = 4\n")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors",
                        "--config", tmp_path / "more.toml", "--quiet")
    assert code == 0, err
    assert call(capsys, "train", *IRIS, "--seed", "3", "--epochs", "4", "--out", tmp_path / "whole")[0] == 0
    assert (tmp_path / "cut" / "model.safetensors").read_bytes() == (tmp_path / "whole" / "model.safetensors").read_bytes()
    config = tomllib.loads((tmp_path / "cut" / "config.toml").read_text())
    assert (config["seed"], config["epochs"], config["hidden"]) == (3, 4, "8")


def test_a_no_shuffle_run_resumes_without_shuffling_and_refuses_to_shuffle(tmp_path, monkeypatch, capsys):
    # The checkpoint's configuration keeps shuffle = false, so a plain --resume goes on in the data's order
    assert call(capsys, "train", *IRIS, "--no-shuffle", "--epochs", "2", "--out", tmp_path / "cut")[0] == 0
    assert tomllib.loads((tmp_path / "cut" / "config.toml").read_text())["shuffle"] is False
    checkpoint = tmp_path / "cut" / "checkpoint.safetensors"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "more.toml").write_text("shuffle = true\n")
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--config", "more.toml", "--epochs", "4")
    assert_one_line_error(code, err, "more.toml: key 'shuffle': shuffle=True differs from the resumed run's "
                                     "shuffle=False", "resume without changing shuffle")
    assert call(capsys, "train", "--resume", checkpoint, "--epochs", "4", "--quiet")[0] == 0
    assert call(capsys, "train", *IRIS, "--no-shuffle", "--epochs", "4", "--out", tmp_path / "whole")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "4", "--out", tmp_path / "shuffled")[0] == 0
    resumed, whole, shuffled = (cr.load(tmp_path / name / "model.safetensors") for name in ("cut", "whole", "shuffled"))
    assert same_weights(resumed, whole) and not same_weights(whole, shuffled)
    code, _, err = call(capsys, "train", "--resume", tmp_path / "shuffled" / "checkpoint.safetensors", "--no-shuffle",
                        "--epochs", "5")
    assert_one_line_error(code, err, "--no-shuffle: shuffle=False differs from the resumed run's shuffle=True")


@pytest.mark.parametrize("options, given_as", [
    (["--seed", "4"], "--seed: 4 differs from the resumed run's 3"),
    (["--test-size", "0.3"], "--test-size: 0.3 differs from the resumed run's 0.2"),
    (["--config", "split.toml"], "split.toml: key 'seed': 5 differs from the resumed run's 3"),
    (["--validation", "0.1"], "--validation: 0.1 differs from the resumed run's 0.0; it chooses the held-out "
                              "validation rows"),
])
def test_resume_refuses_a_change_of_the_held_out_rows(tmp_path, monkeypatch, capsys, options, given_as):
    # The seed and the test fraction choose the test rows: a resumed run would train on them.
    # The validation fraction chooses the validation rows: refused up front, before cr.fit sees them.
    assert call(capsys, "train", *IRIS, "--seed", "3", "--epochs", "2", "--out", tmp_path / "cut")[0] == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "split.toml").write_text("seed = 5\n")
    before = (tmp_path / "cut" / "model.safetensors").read_bytes()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", *options,
                        "--epochs", "4", "--quiet")
    assert_one_line_error(code, err, given_as, "held-out", "resume without changing")
    assert (tmp_path / "cut" / "model.safetensors").read_bytes() == before
    # The same values as saved are no change.
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--seed", "3",
                        "--test-size", "0.2", "--validation", "0", "--epochs", "3", "--quiet")
    assert code == 0, err


def test_resume_from_another_directory_reads_the_same_csv(tmp_path, monkeypatch, capsys):
    # The run saves its data path absolute: resumed from elsewhere, it must not look for
    # ./iris.csv there (nor find another file of that name).
    write_csv(tmp_path / "iris.csv", iris_rows())
    (tmp_path / "elsewhere").mkdir()
    write_csv(tmp_path / "elsewhere" / "iris.csv", iris_rows()[:1] + iris_rows()[1:][::-1][:40])
    monkeypatch.chdir(tmp_path)
    assert call(capsys, "train", "--data", "iris.csv", "--epochs", "2", "--out", "cut", "--quiet", "--no-plots")[0] == 0
    assert call(capsys, "train", "--data", "iris.csv", "--epochs", "4", "--out", "whole", "--quiet", "--no-plots")[0] == 0
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--epochs", "4",
                        "--quiet", "--no-plots")
    assert code == 0, err
    assert same_weights(cr.load(tmp_path / "cut" / "model.safetensors"), cr.load(tmp_path / "whole" / "model.safetensors"))
    config = tomllib.loads((tmp_path / "cut" / "config.toml").read_text())
    assert config["data"] == str(tmp_path / "iris.csv")


def test_a_saved_data_name_of_no_built_in_data_set_is_not_told_to_be_a_moved_file():
    # A saved configuration's name that this release has no data set for ("irsi": edited, or another release's)
    # was told "pass --data with the file's new place"
    error = train_command.named_data_error(cr.DataError("unknown data set 'irsi'"), "irsi",
                                           SavedConfig("ck.safetensors"))
    assert str(error) == "ck.safetensors: metadata.config.data: unknown data set 'irsi'; pass --data"


def test_resume_after_the_training_file_moved_names_the_saved_setting(tmp_path, monkeypatch, capsys):
    write_csv(tmp_path / "iris.csv", iris_rows())
    monkeypatch.chdir(tmp_path)
    assert call(capsys, "train", "--data", "iris.csv", "--epochs", "2", "--out", "run", "--quiet", "--no-plots")[0] == 0
    (tmp_path / "moved").mkdir()
    (tmp_path / "iris.csv").rename(tmp_path / "moved" / "iris.csv")
    code, _, err = call(capsys, "train", "--resume", "run/checkpoint.safetensors", "--epochs", "3", "--quiet",
                        "--no-plots")
    assert code == 2
    assert err == (f"chainrule: error: run/checkpoint.safetensors: metadata.config.data: {tmp_path / 'iris.csv'}: "
                   f"no such file; pass --data with the file's new place\n")
    code, _, err = call(capsys, "train", "--resume", "run/checkpoint.safetensors", "--data", "moved/iris.csv",
                        "--epochs", "3", "--quiet", "--no-plots")
    assert code == 0, err


def interrupt_at_epoch(monkeypatch, epoch: int) -> None:
    """Ctrl-C (a real SIGINT to this process) at the start of ``epoch``, as a user would press it."""
    run_epoch = Loop.run_epoch

    def run_epoch_after_sigint(loop, number, bar):
        if number == epoch:
            os.kill(os.getpid(), signal.SIGINT)
        return run_epoch(loop, number, bar)

    monkeypatch.setattr(Loop, "run_epoch", run_epoch_after_sigint)


def test_ctrl_c_writes_the_run_then_exits_130_saying_how_to_resume(tmp_path, capsys, monkeypatch):
    options = [*IRIS, "--batch-size", "8", "--out", tmp_path / "cut"]
    interrupt_at_epoch(monkeypatch, 3)
    code, out, err = call(capsys, "train", *options, "--epochs", "6")
    checkpoint = tmp_path / "cut" / "checkpoint.safetensors"
    assert code == 130
    assert err == (f"chainrule: interrupted after 2 complete epochs; the checkpoint {checkpoint} holds epoch 2; "
                   f"resume with: chainrule train --resume {checkpoint}\n")
    assert "interrupted" in out  # the summary says how the run ended
    assert cr.load(tmp_path / "cut" / "model.safetensors").metadata["training"]["stop_reason"] == "interrupted"
    monkeypatch.undo()
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--quiet")
    assert code == 0, err
    assert call(capsys, "train", *IRIS, "--batch-size", "8", "--epochs", "6", "--out", tmp_path / "whole")[0] == 0
    assert same_weights(cr.load(tmp_path / "cut" / "model.safetensors"),
                        cr.load(tmp_path / "whole" / "model.safetensors"))


def test_ctrl_c_in_the_first_epoch_exits_130_saying_there_is_no_checkpoint(tmp_path, capsys, monkeypatch):
    interrupt_at_epoch(monkeypatch, 1)
    code, _, err = call(capsys, "train", *IRIS, "--batch-size", "8", "--epochs", "3", "--out", tmp_path / "cut")
    assert code == 130
    assert err == ("chainrule: interrupted after 0 complete epochs; no checkpoint was written yet "
                   f"(--checkpoint-every 1); the model so far is in {tmp_path / 'cut' / 'model.safetensors'}\n")
    assert (tmp_path / "cut" / "model.safetensors").is_file()


def test_ctrl_c_before_the_first_of_sparse_checkpoints_counts_the_completed_epochs(tmp_path, capsys, monkeypatch):
    interrupt_at_epoch(monkeypatch, 3)
    code, _, err = call(capsys, "train", *IRIS, "--batch-size", "8", "--epochs", "10", "--checkpoint-every", "5",
                        "--out", tmp_path / "cut")
    assert code == 130
    assert err == ("chainrule: interrupted after 2 complete epochs; no checkpoint was written yet "
                   f"(--checkpoint-every 5); the model so far is in {tmp_path / 'cut' / 'model.safetensors'}\n")


def reading_no_tensor(monkeypatch):
    """Make reading a model file's tensors fail: the epoch a message names is in the checkpoint's header, and
    reading the whole file loaded and hashed every tensor (a large model's, Adam's moments) for it."""
    def refused(*args):
        raise AssertionError("a tensor was read")

    monkeypatch.setattr(model_file, "_read_tensors", refused)


def test_ctrl_c_after_a_sparse_checkpoint_counts_epochs_since_it(tmp_path, capsys, monkeypatch):
    interrupt_at_epoch(monkeypatch, 4)
    reading_no_tensor(monkeypatch)
    code, _, err = call(capsys, "train", *IRIS, "--batch-size", "8", "--epochs", "10", "--checkpoint-every", "2",
                        "--out", tmp_path / "cut")
    checkpoint = tmp_path / "cut" / "checkpoint.safetensors"
    assert code == 130
    assert err == (f"chainrule: interrupted after 3 complete epochs; the checkpoint {checkpoint} holds epoch 2; "
                   f"resume with: chainrule train --resume {checkpoint}\n")


def test_ctrl_c_mid_epoch_counts_the_epochs_alike_on_stdout_stderr_and_in_metrics(tmp_path, capsys, monkeypatch):
    interrupt_at_epoch(monkeypatch, 3)  # after the first batch of epoch 3
    code, out, err = call(capsys, "train", *IRIS, "--batch-size", "8", "--epochs", "6", "--out", tmp_path / "cut")
    assert code == 130
    assert "(30 test samples, 2 complete epochs and part of epoch 3, interrupted)" in out
    assert err.startswith("chainrule: interrupted after 2 complete epochs;")
    metrics = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert (metrics["epochs"], metrics["partial_last_epoch"]) == (3, True)
    assert len(metrics["history"]["metrics"]["loss"]) == 3 and metrics["history"]["partial_last_epoch"] is True


def test_a_second_ctrl_c_during_an_update_exits_130_leaving_the_checkpoint_of_the_last_whole_epoch(
        tmp_path, capsys, monkeypatch):
    rule = cr.Adam.rule

    def rule_then_ctrl_c_twice(optimizer, theta, grad, lr, vectors):  # the 3rd step of epoch 3 (15 a batch)
        answer = rule(optimizer, theta, grad, lr, vectors)
        if optimizer.t == 2 * 8 + 3:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
        return answer

    monkeypatch.setattr(cr.Adam, "rule", rule_then_ctrl_c_twice)
    code, out, err = call(capsys, "train", *IRIS, "--batch-size", "15", "--epochs", "6", "--out", tmp_path / "cut")
    assert (code, out, err) == (130, "", "chainrule: interrupted\n")
    assert {path.name for path in (tmp_path / "cut").iterdir()} == {"checkpoint.safetensors"}  # no model file
    assert read(tmp_path / "cut" / "checkpoint.safetensors")[2]["epoch"] == 2
    monkeypatch.undo()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--quiet")
    assert code == 0, err


def test_ctrl_c_after_the_last_batch_of_an_epoch_counts_it_whole(tmp_path, capsys, monkeypatch):
    def sigint_after_epoch_2(loop, number, bar, run_epoch=Loop.run_epoch):
        logs = run_epoch(loop, number, bar)
        if number == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return logs

    monkeypatch.setattr(Loop, "run_epoch", sigint_after_epoch_2)
    code, out, err = call(capsys, "train", *IRIS, "--batch-size", "8", "--epochs", "6", "--json",
                          "--out", tmp_path / "cut")
    assert code == 130
    assert (json.loads(out)["epochs"], json.loads(out)["partial_last_epoch"]) == (2, False)
    assert err.startswith("chainrule: interrupted after 2 complete epochs; the checkpoint")
    monkeypatch.undo()
    # Resumed to the 2 epochs it holds, it is the completed 2-epoch run (it exited 130 saying to resume again)
    code, out, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--epochs", "2",
                          "--json")
    assert (code, err) == (0, "")
    assert (json.loads(out)["epochs"], json.loads(out)["stop_reason"]) == (2, "completed")


def test_a_run_killed_mid_epoch_leaves_a_checkpoint_that_resumes(tmp_path, capsys):
    options = ["--data", "digits", "--hidden", "32", "--patience", "0", "--no-plots", "--quiet"]
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "train", *options, "--epochs", "500",
                                "--batch-size", "2", "--out", "killed"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "killed" / "checkpoint.safetensors"
    try:
        deadline = time.monotonic() + 60
        while not checkpoint.exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no checkpoint within 60 s"
            time.sleep(0.02)
        time.sleep(0.05)  # into the next epoch: 719 steps of 2 rows, about 0.1 s
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    cr.load(checkpoint)  # loads as a model file
    epoch = read(checkpoint)[2]["epoch"]
    assert 1 <= epoch < 500
    resumed = run_cli("train", "--resume", checkpoint, "--epochs", epoch + 2, "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    code, _, err = call(capsys, "train", *options, "--epochs", epoch + 2, "--batch-size", "2", "--out",
                        tmp_path / "whole")
    assert code == 0, err
    assert same_weights(cr.load(tmp_path / "killed" / "model.safetensors"),
                        cr.load(tmp_path / "whole" / "model.safetensors"))


def test_the_temporary_files_of_a_killed_run_are_deleted_by_the_next_run_in_its_folder(tmp_path, capsys):
    """kill -9 during a write leaves its .chainrule-<16 hex>.tmp beside the file: they stayed for good, and a run
    killed as it wrote its first checkpoint left a folder that the same command again refused as another run's."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".chainrule-0123456789abcdef.tmp").write_bytes(b"half a checkpoint")
    code, _, err = call(capsys, "train", *IRIS, "--epochs", "2", "--out", folder)
    assert code == 0, err
    (folder / ".chainrule-fedcba9876543210.tmp").write_bytes(b"half a model")
    code, _, err = call(capsys, "train", "--resume", folder / "checkpoint.safetensors", "--epochs", "3", "--quiet")
    assert code == 0, err
    assert sorted(path.name for path in folder.iterdir()) == ["checkpoint.safetensors", "config.toml", "metrics.json",
                                                              "model.safetensors"]


# Bad input ---------------------------------------------------------------------------------

def bad_csv(tmp_path, name, change):
    rows = iris_rows()
    change(rows)
    return write_csv(tmp_path / name, rows)


def one_class(rows):
    for row in rows[1:]:
        row[4] = "setosa"


def set_cell(row, column, value):
    def change(rows):
        rows[row][column] = value
    return change


def huge_npz(tmp_path):
    X = np.ones((50, 3))
    X[40, 1] = 1e300  # the archive's row 40, whichever row of the shuffled split it lands in
    np.savez(tmp_path / "huge.npz", X=X, y=np.arange(50) % 2)
    return tmp_path / "huge.npz"


BAD_DATA = {
    "missing file": (lambda tmp: tmp / "missing.csv", [], ["missing.csv"]),
    "non-numeric cell": (lambda tmp: bad_csv(tmp, "words.csv", set_cell(5, 2, "abc")), [],
                         ["words.csv", "line 6, column 3 'petal_length'", "'abc'"]),
    "empty cell": (lambda tmp: bad_csv(tmp, "empty.csv", set_cell(5, 2, "")), [], ["empty.csv", "line 6", "empty"]),
    "NaN": (lambda tmp: bad_csv(tmp, "nan.csv", set_cell(7, 1, "nan")), [],
            ["nan.csv", "line 8, column 2 'sepal_width'", "finite"]),
    "Inf": (lambda tmp: bad_csv(tmp, "inf.csv", set_cell(7, 1, "inf")), [], ["inf.csv", "line 8", "finite"]),
    "value too large for float32": (lambda tmp: bad_csv(tmp, "huge.csv", set_cell(2, 1, "1e300")), [],
                                    ["huge.csv: line 3, column 2 'sepal_width': 1e300 is too large for float32",
                                     "train in float64 (--dtype float64)"]),
    "NPZ value too large for float32": (lambda tmp: huge_npz(tmp), [],  # was fit's "X: ... at index (r, 1)"
                                       ["huge.npz: X[40, 1] is 1e+300, too large for float32",
                                        "train in float64 (--dtype float64)"]),
    "regression target too large for float32": (  # was fit's "MSE: targets: ... at index (7, 0)", no file named
        lambda tmp: write_csv(tmp / "targets.csv", [["a", "b", "label"], ["1", "2", "0.5"], ["2", "3", "1e300"],
                                                    ["3", "1", "2.5"], ["4", "4", "3.5"], ["5", "2", "4.5"]]), [],
        ["targets.csv: line 3, column 3 'label': 1e300 is too large for float32", "train in float64 (--dtype float64)"]),
    "missing label column": (lambda tmp: bad_csv(tmp, "iris.csv", lambda rows: None), ["--label", "kind"],
                             ["iris.csv", "no label column named 'kind'"]),
    "single class": (lambda tmp: bad_csv(tmp, "one.csv", one_class), [], ["one.csv", "every label is 'setosa'"]),
    "fewer samples than a batch": (lambda tmp: write_csv(tmp / "small.csv", iris_rows()[:1] + iris_rows()[1:150:15]),
                                   ["--batch-size", "9"], ["--batch-size: 9 is more than the 8 training samples"]),
    "regression loss on labels": (lambda tmp: "diabetes", ["--loss", "cross_entropy"],
                                  ["--loss: cross_entropy needs class labels", "regression"]),
    # named by --data, as any misspelt value is by its option (the line began "unknown data set")
    "unknown data set": (lambda tmp: "mnist", [], ["chainrule: error: --data: unknown data set 'mnist'"]),
    "a built-in name mistyped": (lambda tmp: "Iris", [],
                                 ["--data: unknown data set 'Iris' (did you mean 'iris'?): not a built-in"]),
    "a built-in name misspelt": (lambda tmp: "irsi", [],
                                 ["--data: unknown data set 'irsi' (did you mean 'iris'?): not a built-in"]),
    "binary loss on three classes": (lambda tmp: "iris", ["--loss", "binary_cross_entropy"],
                                     ["--loss: binary_cross_entropy needs labels in [0, 1]", "iris", "0 to 2"]),
    "binary loss on text labels": (lambda tmp: bad_csv(tmp, "iris.csv", lambda rows: None),
                                   ["--loss", "binary_cross_entropy"], ["--loss: binary_cross_entropy needs", "text labels"]),
    "mse on text labels": (lambda tmp: bad_csv(tmp, "iris.csv", lambda rows: None),  # was MSE's "dtype <U10"
                           ["--loss", "mse"], ["--loss: mse needs numeric targets, but iris.csv has text labels"]),
    "--label with a built-in data set": (lambda tmp: "iris", ["--label", "x"],  # was "label='x' names ..."
                                         ["--label: 'x' names a CSV column, but --data 'iris' is a built-in data set"]),
    "--label with an NPZ file": (lambda tmp: "x.npz", ["--label", "x"],
                                 ["--label: 'x' names a CSV column, but --data 'x.npz' is not a .csv file"]),
}


@pytest.mark.parametrize("target, advice", [
    ("{},000,000", "000000 written with commas between thousands; chainrule reads numbers without separators: "
                   "convert the file, e.g. with pandas: pandas.read_csv(path, thousands=',')"),
    ("{},5", ".5 written with a decimal comma; chainrule reads a decimal point")])
def test_regression_targets_written_with_commas_are_told_as_numbers(tmp_path, capsys, target, advice):
    """--loss mse on a CSV file whose targets a spreadsheet wrote "1,000,000" said to use cross_entropy for classes."""
    rows = [["a", "b", "y"]] + [[str(i), str(i % 3), target.format(i % 4 + 1)] for i in range(20)]
    code, out, err = call(capsys, "train", "--data", write_csv(tmp_path / "t.csv", rows), "--loss", "mse",
                          "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "chainrule: error: --loss: mse needs numeric targets, but t.csv has text labels: "
                                     "'", "', which looks like the number ", advice)


@pytest.mark.parametrize("loss", [[], ["--loss", "cross_entropy"]])
@pytest.mark.parametrize("target, advice", [
    ("{},000,000", "000000 written with commas between thousands; chainrule reads numbers without separators: "
                   "convert the file, e.g. with pandas: pandas.read_csv(path, thousands=',')"),
    ("{},5", ".5 written with a decimal comma; chainrule reads a decimal point")])
def test_standardize_targets_on_targets_written_with_commas_is_told_they_are_numbers(tmp_path, capsys, loss, target,
                                                                                    advice):
    """--standardize-targets on "1,000,000" labels (text: classes) said only that cross_entropy's targets are 'not
    values to standardize', where --loss mse is told the numbers and the line that converts the file."""
    rows = [["a", "b", "y"]] + [[str(i), str(i % 3), target.format(i % 4 + 1)] for i in range(20)]
    code, out, err = call(capsys, "train", "--data", write_csv(tmp_path / "t.csv", rows), "--standardize-targets",
                          *loss, "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "chainrule: error: --standardize-targets: t.csv has text labels, classes for "
                                     "the loss cross_entropy, not values to standardize: '",
                          "', which looks like the number ", advice)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_auto_on_a_label_column_of_numbers_written_with_commas_trains_classes_with_a_hint(tmp_path, capsys, command):
    """Such a column (text, by the documented rule classes) trained silently as one class per value."""
    rows = [["a", "b", "price"]] + [[str(i), str(i % 3), f"{i % 4 + 1},250,000"] for i in range(20)]
    data = write_csv(tmp_path / "t.csv", rows)
    extra = ["--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run"] if command == "train" else []
    code, out, err = call(capsys, command, "--data", data, "--seed", "0", *extra)
    assert code == 0, err
    hints = [line for line in err.splitlines() if "written with commas" in line]
    first = hints[0].split("'")[3]  # the first training label, which the split picks
    assert first in {f"{k},250,000" for k in range(1, 5)}
    assert hints == ["hint: t.csv: every label of column 'price' looks like a number written with commas, read as "
                     "text, so --loss auto trains 4 classes, one per value; for values to regress on: '"
                     + first + "', which looks like the number " + first.replace(",", "")
                     + " written with commas between thousands; chainrule reads numbers without separators: convert "
                     "the file, e.g. with pandas: pandas.read_csv(path, thousands=',').to_csv('converted.csv', "
                     "index=False)"]


@pytest.mark.parametrize("labels, loss", [
    (["1,250,000", "2,250,000", "3,250,000", "small"], []),  # not every label a number: text classes as meant
    (["1,250,000", "2,250,000", "3,250,000", "4,250,000"], ["--loss", "cross_entropy"]),  # classes asked for
])
def test_no_comma_hint_where_classes_are_meant(tmp_path, capsys, labels, loss):
    rows = [["a", "b", "y"]] + [[str(i), str(i % 3), labels[i % 4]] for i in range(20)]
    code, out, err = call(capsys, "train", "--data", write_csv(tmp_path / "t.csv", rows), *loss, "--seed", "0",
                          "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    assert "hint" not in err


def test_a_value_too_large_for_float32_trains_in_float64(tmp_path, capsys):
    code, _, err = call(capsys, "train", "--data", bad_csv(tmp_path, "huge.csv", set_cell(2, 1, "1e300")),
                        "--dtype", "float64", "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes as a name")
def test_a_data_path_that_is_not_utf8_is_refused_before_training(tmp_path, capsys):
    """Its run trained, then writing config.toml raised a bare UnicodeEncodeError ("internal error", exit 1)."""
    data = write_csv(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9.csv")), iris_rows())
    code, out, err = call(capsys, "train", "--data", data, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--data: ", "is not text that UTF-8 can encode")
    assert not (tmp_path / "run").exists()


def test_a_lock_file_that_cannot_be_written_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    """On a full disk the lock file's write failed after the run folder (and its parents) had been made:
    the command said so in one line but left the empty folders behind."""
    def full_disk(folder):
        raise cr.DataError(f"{folder / '.chainrule-run.lock'}: cannot write the run folder's lock file "
                           f"(No space left on device)")
    monkeypatch.setattr("chainrule.cli.run_folder.folder_lock.take", full_disk)
    code, out, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--quiet",
                          "--out", tmp_path / "a" / "run")
    assert_one_line_error(code, err, "cannot write the run folder's lock file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_data_is_refused_in_one_line_and_leaves_no_run_folder(tmp_path, capsys, case):
    make_data, options, fragments = BAD_DATA[case]
    code, out, err = call(capsys, "train", "--data", make_data(tmp_path), *options, "--epochs", "1", "--quiet",
                          "--out", tmp_path / "run")
    assert_one_line_error(code, err, *fragments)
    assert out == ""
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("data, loss, fragment", [
    ("diabetes", "cross_entropy", "cross_entropy needs class labels"),
    ("iris", "binary_cross_entropy", "binary_cross_entropy needs labels in [0, 1]"),
])
def test_a_loss_the_data_cannot_take_is_named_where_it_was_given(tmp_path, capsys, data, loss, fragment):
    config = tmp_path / "run.toml"
    config.write_text(f'data = "{data}"\nloss = "{loss}"\n')
    code, out, err = call(capsys, "train", "--config", config, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{config}: key 'loss': {fragment}")
    # The same loss on the command line, over the file's, is named as the option.
    config.write_text(f'data = "{data}"\nloss = "mse"\n')
    code, out, err = call(capsys, "train", "--config", config, "--loss", loss, "--epochs", "1", "--quiet",
                          "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"chainrule: error: --loss: {fragment}")


def test_an_out_folder_holding_another_run_is_refused(tmp_path, capsys):
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    before = {path.name: path.read_bytes() for path in (tmp_path / "run").iterdir()}
    code, out, err = call(capsys, "train", *IRIS, "--data", "wine", "--epochs", "1", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"--out {tmp_path / 'run'}: the folder already holds files",
                          "new or empty folder", f"--resume {tmp_path / 'run' / 'checkpoint.safetensors'}")
    assert out == ""
    assert {path.name: path.read_bytes() for path in (tmp_path / "run").iterdir()} == before
    # Nor may a resumed run write into another run's folder.
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "2",
                        "--quiet", "--out", tmp_path)
    assert_one_line_error(code, err, f"--out {tmp_path}: the folder already holds files")


def test_an_out_folder_holding_other_files_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path)
    line = assert_one_line_error(code, err, f"--out {tmp_path}: the folder already holds files")
    assert "--resume" not in line
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_an_empty_out_folder_is_used(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_resume_without_out_writes_into_no_folder_but_a_run_folder(tmp_path, capsys):
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shutil.copy(tmp_path / "run" / "checkpoint.safetensors", downloads / "iris-ckpt.safetensors")
    for name in ("metrics.json", "model.safetensors", "history.png"):
        (downloads / name).write_text("mine")
    code, out, err = call(capsys, "train", "--resume", downloads / "iris-ckpt.safetensors", "--epochs", "2")
    assert_one_line_error(code, err, f"--resume {downloads / 'iris-ckpt.safetensors'}: the checkpoint's folder",
                          "not a run folder", "pass --out DIR")
    assert out == ""
    assert {path.name: path.read_text() for path in downloads.iterdir() if path.suffix != ".safetensors"
            or path.name == "model.safetensors"} == dict.fromkeys(["metrics.json", "model.safetensors",
                                                                    "history.png"], "mine")
    code, _, err = call(capsys, "train", "--resume", downloads / "iris-ckpt.safetensors", "--epochs", "2",
                        "--out", tmp_path / "continued")
    assert code == 0, err


def test_a_checkpoint_copied_into_another_runs_folder_is_not_resumed_over_that_run(tmp_path, capsys):
    # the folder held config.toml, so it passed for the checkpoint's run folder: run b's model, checkpoint,
    # metrics and configuration were replaced by run a's continuation
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--hidden", "4", "--out", tmp_path / "a")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--hidden", "5", "--out", tmp_path / "b")[0] == 0
    without_run_id(tmp_path / "b")  # a run of before run ids: told apart by config.toml's keys
    copied = tmp_path / "b" / "a.safetensors"
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", copied)
    assert_not_resumed_over_another_run(capsys, copied, tmp_path / "b", "its config.toml has hidden '5', the "
                                        f"checkpoint's run '4' ({copied}: metadata.config.hidden)")
    code, _, err = call(capsys, "train", "--resume", copied, "--epochs", "2", "--out", tmp_path / "continued")
    assert code == 0, err
    snapshot = tmp_path / "a" / "epoch-1.safetensors"  # a copy in its own run's folder still resumes there,
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", snapshot)  # after a resume that spelt hidden otherwise
    (tmp_path / "respelt.toml").write_text('hidden = [4]\nactivation = ["relu"]\ndtype = "f4"\n')
    code, _, err = call(capsys, "train", "--resume", tmp_path / "a" / "checkpoint.safetensors", "--epochs", "2",
                        "--config", tmp_path / "respelt.toml")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--resume", snapshot, "--epochs", "2")
    assert code == 0, err


def test_a_checkpoint_copied_into_the_folder_of_a_run_of_another_shuffle_names_shuffle(tmp_path, capsys):
    # shuffle is a key no resume changes: config.toml's names the other run (the loss of epoch 1 did, unnamed)
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--no-shuffle", "--out", tmp_path / "a")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "b")[0] == 0
    without_run_id(tmp_path / "b")  # a run of before run ids: told apart by config.toml's keys
    copied = tmp_path / "b" / "a.safetensors"
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", copied)
    assert_not_resumed_over_another_run(capsys, copied, tmp_path / "b", "its config.toml has shuffle True, the "
                                        f"checkpoint's run False ({copied}: metadata.config.shuffle)")


def test_a_linked_checkpoint_without_configuration_names_the_config_toml_its_runs_values_came_from(tmp_path, capsys):
    # a checkpoint holding no configuration is resumed with the config.toml beside it: here beside the link, not in
    # the folder the link leads to, another run's; the refusal labelled the run's value as the checkpoint's own
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--hidden", "4", "--out", tmp_path / "a")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--hidden", "5", "--out", tmp_path / "b")[0] == 0
    without_run_id(tmp_path / "b")  # a run of before run ids: told apart by config.toml's keys
    model, tensors, extra = read(tmp_path / "a" / "checkpoint.safetensors")
    del model.metadata["config"]  # as a chainrule train of long ago saved it
    save(model, tmp_path / "b" / "a.safetensors", extra_tensors=tensors, extra_json=extra)
    (tmp_path / "link").mkdir()
    shutil.copy(tmp_path / "a" / "config.toml", tmp_path / "link" / "config.toml")
    (tmp_path / "link" / "ck.safetensors").symlink_to(tmp_path / "b" / "a.safetensors")
    linked = tmp_path / "link" / "ck.safetensors"
    assert_not_resumed_over_another_run(capsys, linked, tmp_path / "b", "its config.toml has hidden '5', the "
                                        f"checkpoint's run '4' ({tmp_path / 'link' / 'config.toml'}: key 'hidden')")


def test_a_checkpoint_copied_into_the_folder_of_a_run_of_another_lr_is_not_resumed_over_that_run(tmp_path, capsys):
    # runs of a sweep differ in a key a resume may change (lr, weight decay, batch size, epochs), not in those
    # config.toml was compared by, so run b's files were replaced by run a's continuation
    assert call(capsys, "train", *IRIS, "--epochs", "2", "--lr", "0.01", "--out", tmp_path / "a")[0] == 0
    assert call(capsys, "train", *IRIS, "--epochs", "2", "--lr", "0.1", "--out", tmp_path / "b")[0] == 0
    without_run_id(tmp_path / "b")  # a run of before run ids: told apart by the loss of epoch 1
    copied = tmp_path / "b" / "a.safetensors"
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", copied)
    assert_not_resumed_over_another_run(capsys, copied, tmp_path / "b", "its checkpoint.safetensors recorded a loss "
                                        "of ", " in epoch 1, the checkpoint's run ", "; its config.toml has lr 0.1, "
                                        f"the checkpoint's run 0.01 ({copied}: metadata.config.lr); ", epochs="3")
    snapshot = tmp_path / "a" / "epoch-2.safetensors"  # a copy in its own run's folder still resumes there, after
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", snapshot)  # a resume that changed the lr
    code, _, err = call(capsys, "train", "--resume", tmp_path / "a" / "checkpoint.safetensors", "--epochs", "3",
                        "--lr", "0.5")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--resume", snapshot, "--epochs", "4")
    assert code == 0, err


def assert_not_resumed_over_another_run(capsys, checkpoint, folder, *reason: str, epochs: str = "2") -> None:
    """``train --resume checkpoint`` refuses it, in one line, as held in the folder of another run (``folder``),
    for ``reason`` (fragments of what differs), and leaves that folder's files as they were."""
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    code, out, err = call(capsys, "train", "--resume", checkpoint, "--epochs", epochs)
    assert_one_line_error(code, err, f"--resume {checkpoint}: the checkpoint's folder {folder} holds another run's "
                                     f"files: ", *reason, "pass --out DIR")
    assert out == "" and {path.name: path.read_bytes() for path in folder.iterdir()} == before


def without_run_id(folder, *, checkpoint: bool = True):
    """Take the run id out of ``folder``'s metrics.json and (with ``checkpoint``) its checkpoint.safetensors, as a
    run of before chainrule recorded one wrote them."""
    metrics = json.loads((folder / "metrics.json").read_text())
    del metrics["run_id"]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    if checkpoint:
        model, tensors, extra = read(folder / "checkpoint.safetensors")
        del model.metadata["run_id"]
        save(model, folder / "checkpoint.safetensors", extra_tensors=tensors, extra_json=extra, seal=True)


def test_a_checkpoint_copied_into_the_folder_of_a_repeat_of_its_run_is_not_resumed_over_that_run(tmp_path, capsys):
    # a repeat of a run (--config its config.toml), or a run differing only in --epochs, --patience or
    # --checkpoint-every, matched the checkpoint's run in every key compared and in the loss of epoch 1, so run
    # b's files were replaced by run a's continuation; each run now has an id of its own
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "a")[0] == 0
    assert call(capsys, "train", "--config", tmp_path / "a" / "config.toml", "--out", tmp_path / "b")[0] == 0
    a_id, b_id = (json.loads((tmp_path / run / "metrics.json").read_text())["run_id"] for run in "ab")
    assert a_id != b_id and re.fullmatch("[0-9a-f]{16}", a_id) and re.fullmatch("[0-9a-f]{16}", b_id)
    assert read(tmp_path / "a" / "checkpoint.safetensors")[0].metadata["run_id"] == a_id
    copied = tmp_path / "b" / "a.safetensors"
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", copied)
    assert_not_resumed_over_another_run(capsys, copied, tmp_path / "b", f"its metrics.json has run_id '{b_id}', the "
                                        f"checkpoint's run '{a_id}'")
    # a resume in the run's own folder keeps its id; one into another folder is a branch, with an id of its own
    code, _, err = call(capsys, "train", "--resume", tmp_path / "a" / "checkpoint.safetensors", "--epochs", "2")
    assert code == 0, err
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["run_id"] == a_id
    assert read(tmp_path / "a" / "checkpoint.safetensors")[0].metadata["run_id"] == a_id
    code, _, err = call(capsys, "train", "--resume", copied, "--epochs", "2", "--out", tmp_path / "c")
    assert code == 0, err
    assert json.loads((tmp_path / "c" / "metrics.json").read_text())["run_id"] not in (a_id, b_id)


def test_a_folder_whose_metrics_json_records_no_run_id_is_told_by_its_checkpoints(tmp_path, capsys):
    # a metrics.json of before run ids (its run resumed in its folder since by a chainrule recording them, or a run
    # stopped before writing it) left only config.toml's keys and the epoch-1 loss to tell the runs apart, which
    # a repeat of the run matches: its files were replaced; the folder's checkpoint.safetensors records its run id
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "a")[0] == 0
    assert call(capsys, "train", "--config", tmp_path / "a" / "config.toml", "--out", tmp_path / "b")[0] == 0
    without_run_id(tmp_path / "b", checkpoint=False)
    a_id, b_id = (read(tmp_path / run / "checkpoint.safetensors")[0].metadata["run_id"] for run in "ab")
    copied = tmp_path / "b" / "a.safetensors"
    shutil.copy(tmp_path / "a" / "checkpoint.safetensors", copied)
    assert_not_resumed_over_another_run(capsys, copied, tmp_path / "b", f"its checkpoint.safetensors has run_id "
                                        f"'{b_id}', the checkpoint's run '{a_id}'")
    snapshot = tmp_path / "b" / "epoch-1.safetensors"  # a copy of the folder's own run still resumes there
    shutil.copy(tmp_path / "b" / "checkpoint.safetensors", snapshot)
    code, _, err = call(capsys, "train", "--resume", snapshot, "--epochs", "2")
    assert code == 0, err


def test_a_folder_of_before_run_ids_resumes_its_own_checkpoint_and_its_copies(tmp_path, capsys):
    # files with no run id anywhere, as a chainrule of before wrote them: the run's own checkpoints are taken
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "a")[0] == 0
    without_run_id(tmp_path / "a")
    checkpoint = tmp_path / "a" / "checkpoint.safetensors"
    shutil.copy(checkpoint, tmp_path / "a" / "epoch-1.safetensors")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "a" / "epoch-1.safetensors", "--epochs", "2")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "3")
    assert code == 0, err
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["epochs"] == 3


@pytest.mark.parametrize("text", ["hidden = [4\n", 'hidden = "8"\nactivation = "relu,tanh"\n'])
def test_a_run_folder_whose_config_toml_was_spoilt_by_hand_still_resumes_its_checkpoint(tmp_path, capsys, text):
    # the check that the folder holds the checkpoint's own run read config.toml and refused its error, so a
    # config.toml edited by hand (as a template for another run) stopped `--resume run/checkpoint.safetensors`,
    # which had rewritten it
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    (tmp_path / "run" / "config.toml").write_text(text)
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "2")
    assert code == 0, err
    assert 'hidden = "8"' in (tmp_path / "run" / "config.toml").read_text()


def test_a_resumed_run_without_plots_removes_the_earlier_plots(tmp_path, capsys):
    options = [option for option in IRIS if option != "--no-plots"]
    assert call(capsys, "train", *options, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    assert (tmp_path / "run" / "history.png").is_file()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "2",
                        "--no-plots", "--quiet")
    assert code == 0, err
    assert {path.name for path in (tmp_path / "run").iterdir()} == RUN_FILES - {"history.png", "gradient_flow.png"}


def test_a_resumed_run_without_plots_leaves_a_directory_where_a_plot_was(tmp_path, capsys):
    # its removal raised IsADirectoryError once the run's files were written: 'internal error', exit 1
    options = [option for option in IRIS if option != "--no-plots"]
    run = tmp_path / "run"
    assert call(capsys, "train", *options, "--epochs", "1", "--out", run)[0] == 0
    (run / "history.png").unlink()
    (run / "history.png").mkdir()
    code, _, err = call(capsys, "train", "--resume", run / "checkpoint.safetensors", "--epochs", "2", "--no-plots",
                        "--quiet")
    assert (code, err) == (0, "")
    assert (run / "history.png").is_dir() and not (run / "gradient_flow.png").exists()
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2


def test_a_plot_that_cannot_be_written_leaves_no_earlier_plot_and_says_what_was_written(tmp_path, capsys,
                                                                                      monkeypatch):
    # the resumed run's error named the plot alone, as if the run had failed, and left the gradient_flow.png of its
    # earlier epochs beside the new model
    run = tmp_path / "run"
    options = [option for option in IRIS if option != "--no-plots"]
    assert call(capsys, "train", *options, "--epochs", "1", "--out", run)[0] == 0
    replace = os.replace

    def full_disk_for_history_png(source, target, *args, **kwargs):  # once training is over: a full disk
        if os.path.basename(target) == "history.png":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full_disk_for_history_png)
    code, out, err = call(capsys, "train", "--resume", run / "checkpoint.safetensors", "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"--out: {run / 'history.png'}: cannot write (No space left on device); the run "
                          f"trained to epoch 2 and config.toml, model.safetensors, metrics.json were written in {run}, "
                          f"but not history.png or gradient_flow.png")
    assert out == ""
    assert not (run / "gradient_flow.png").exists()
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2


def test_ctrl_c_while_a_plot_is_drawn_names_the_plots_written_and_removes_the_earlier_one(tmp_path, capsys,
                                                                                         monkeypatch):
    from chainrule import plots
    run = tmp_path / "run"
    options = [option for option in IRIS if option != "--no-plots"]
    assert call(capsys, "train", *options, "--epochs", "1", "--out", run)[0] == 0

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_gradient_flow", interrupted)
    code, _, err = call(capsys, "train", "--resume", run / "checkpoint.safetensors", "--epochs", "2", "--quiet")
    assert code == 130
    assert "config.toml, model.safetensors, metrics.json, history.png written" in err
    assert {path.name for path in run.iterdir()} == RUN_FILES - {"gradient_flow.png"}


def test_a_batch_size_larger_than_the_training_rows_is_named_where_it_was_given(tmp_path, capsys):
    small = write_csv(tmp_path / "small.csv", iris_rows()[:1] + iris_rows()[1:150:15])  # 8 training rows
    code, _, err = call(capsys, "train", "--data", small, "--batch-size", "8", "--validation", "0.25", "--quiet",
                        "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--batch-size: 8 is more than the 6 training samples (--validation holds out 2 "
                                     "more); pass a smaller batch size")
    config = tmp_path / "run.toml"
    config.write_text(f'data = "{small}"\nbatch_size = 9\n')
    code, _, err = call(capsys, "train", "--config", config, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"chainrule: error: {config}: key 'batch_size': 9 is more than the 8 training")
    assert not (tmp_path / "run").exists()


def test_small_data_trains_with_the_default_batch_size_and_resumes(tmp_path, capsys):
    small = write_csv(tmp_path / "small.csv", iris_rows()[:1] + iris_rows()[1:150:15])  # 8 training rows
    options = ["--data", small, "--hidden", "8", "--patience", "0", "--quiet", "--no-plots"]
    code, _, err = call(capsys, "train", *options, "--epochs", "2", "--out", tmp_path / "cut")
    assert code == 0, err
    assert cr.load(tmp_path / "cut" / "model.safetensors").metadata["training"]["batch_size"] == 8
    assert "batch_size" not in tomllib.loads((tmp_path / "cut" / "config.toml").read_text())
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--epochs", "4",
                        "--quiet")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--config", tmp_path / "cut" / "config.toml", "--epochs", "4",
                        "--out", tmp_path / "whole")
    assert code == 0, err
    assert same_weights(cr.load(tmp_path / "cut" / "model.safetensors"),
                        cr.load(tmp_path / "whole" / "model.safetensors"))


def test_a_default_run_folder_is_not_left_behind_either(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "small.csv", iris_rows()[:1] + iris_rows()[1:150:15])
    code, _, err = call(capsys, "train", "--data", "small.csv", "--batch-size", "9", "--quiet")
    assert_one_line_error(code, err, "--batch-size: 9")
    assert os.listdir(tmp_path) == ["small.csv"]  # neither runs/<timestamp> nor runs/


BAD_OPTIONS = [
    (["--activation", "swish"], "--activation: expected one of"),
    (["--optimizer", "newton"], "--optimizer: expected one of"),
    (["--loss", "hinge"], "--loss: expected one of"),
    # Keras's and PyTorch's names: the message listed chainrule's names and suggested none of them
    (["--loss", "categorical_crossentropy"], "got 'categorical_crossentropy' (did you mean 'cross_entropy'?)"),
    (["--loss", "MSELoss"], "got 'MSELoss' (did you mean 'mse'?)"),
    (["--loss", "Auto"], "got 'Auto' (did you mean 'auto'?)"),
    (["--dtype", "float16"], "--dtype"),
    (["--hidden", "12,x"], "--hidden: expected comma-separated integers"),
    (["--hidden", "8,0"], "--hidden: every width must be >= 1"),
    (["--hidden", "-3"], "--hidden: every width must be >= 1"),
    (["--hidden", ",,"], "--hidden: expected comma-separated integers like 128,64 (or '' for no hidden layers), "
                         "got ',,', which has an empty width"),
    (["--hidden", "8,"], "--hidden: expected comma-separated integers like 128,64"),
    (["--hidden", ", 8"], "got ', 8', which has an empty width"),
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr: expected a finite number, got nan"),
    (["--validation", "1"], "--validation"),
    (["--test-size", "0"], "--test-size"),
    (["--seed", "-1"], "--seed"),
    (["--patience", "-1"], "--patience"),
    (["--checkpoint-every", "0"], "--checkpoint-every"),
    (["--activation", "relu,tanh,relu"], "--activation: expected one name for every hidden layer, or 2 names "
                                         "comma-separated, one per hidden layer (--hidden is '256,128'), each one of "
                                         "relu, leaky_relu, sigmoid, logistic, tanh, gelu, identity, softmax; "
                                         "got 3 names: 'relu,tanh,relu'"),
    (["--hidden", "8", "--activation", "relu,tanh"], "--activation: expected one of relu, leaky_relu, sigmoid, "
                                                     "logistic, tanh, gelu, identity, softmax (one hidden layer: "
                                                     "--hidden is '8'); got 2 names: 'relu,tanh'"),
    (["--hidden", "", "--activation", "relu,tanh"], "--activation: no hidden layer (--hidden is ''): give one name or "
                                                    "leave it out; got 2 names: 'relu,tanh'"),
    (["--hidden", "", "--activation", "swish"], "--activation: expected one of relu, "),
    (["--activation", "relu,,tanh"], "got 'relu,,tanh', which has an empty name"),
    (["--activation", "relu,"], "got 'relu,', which has an empty name"),
    (["--activation", "relu,swish"], "each one of relu, leaky_relu, sigmoid, logistic, tanh, gelu, identity, "
                                     "softmax; got 'swish' in 'relu,swish'"),
    (["--init", "he"], "--init: expected one of 'auto', 'glorot_normal', 'glorot_uniform', 'he_normal', "),
    (["--epochs", "ten"], "--epochs: expected an integer >= 1, got 'ten'"),
    (["--colour", "red"], "chainrule train: unrecognized arguments: --colour red"),
    (["--distributed", "--distributed-timeout", "-1"], "--distributed-timeout: expected a number > 0, got -1.0"),
    (["--distributed-timeout", "-5"], "--distributed-timeout: expected a number > 0, got -5.0"),  # was taken
]


def test_hidden_empty_is_a_linear_model_and_an_empty_width_in_a_config_is_named_by_key(tmp_path, capsys):
    assert call(capsys, "train", *IRIS, "--hidden", "", "--epochs", "1", "--out", tmp_path / "linear")[0] == 0
    model = cr.load(tmp_path / "linear" / "model.safetensors")
    assert {name: array.shape for name, array in model.params.items()} == {"0.W": (4, 3), "0.b": (3,)}
    config = tmp_path / "run.toml"
    config.write_text('hidden = "16,,8"\n')
    code, _, err = call(capsys, "train", "--config", config, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{config}: key 'hidden': expected comma-separated integers", "empty width")


@pytest.mark.parametrize("options, fragment", BAD_OPTIONS, ids=[" ".join(options) for options, _ in BAD_OPTIONS])
def test_bad_options_are_refused_in_one_line(tmp_path, capsys, options, fragment):
    code, _, err = call(capsys, "train", *options, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, fragment)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("source, named", [("option", "--dtype"), ("config", "run.toml: key 'dtype'")])
def test_a_float16_dtype_is_refused_as_a_choice_not_taken_for_float64(tmp_path, capsys, monkeypatch, source, named):
    # The line showed the tuple "('float32', 'float64')" and asked "did you mean 'float64'?" (one letter apart)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text('dtype = "float16"\n')
    given = ["--dtype", "float16"] if source == "option" else ["--config", "run.toml"]
    code, _, err = call(capsys, "train", *given, "--quiet", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err)
    assert line == (f"chainrule: error: {named}: expected one of 'float32', 'float64'; got 'float16' (chainrule does "
                    f"not compute in float16; use float32)")
    assert not (tmp_path / "run").exists()


def test_the_help_shows_no_rest_roles_and_says_what_quiet_drops(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per option
    with pytest.raises(SystemExit):
        call(capsys, "train", "--help")
    out = capsys.readouterr().out
    assert not re.search(r":\w+:`", out)  # a role of the module docstring (:mod:`...`)
    assert re.search(r"--quiet +no progress bar and no per-epoch lines", out)


def test_an_unwritable_run_folder_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--quiet",
                        "--out", tmp_path / "file" / "run")
    assert_one_line_error(code, err, str(tmp_path / "file" / "run"), "cannot create the run folder")
    assert (tmp_path / "file").read_text() == "not a folder"


def test_a_missing_checkpoint_is_refused_as_fit_refuses_it(tmp_path, capsys):
    missing = tmp_path / "nothing.safetensors"
    code, _, err = call(capsys, "train", "--resume", missing, "--quiet")
    assert_one_line_error(code, err, "nothing.safetensors: no such checkpoint file")
    with pytest.raises(cr.ModelFileError) as raised:
        cr.fit(cr.mlp([2, 1], seed=0), np.zeros((4, 2)), np.zeros(4), epochs=1, batch_size=4, verbose=0,
               resume=missing)
    assert err == f"chainrule: error: --resume: {raised.value}\n"  # the library's words, led by the option
    assert "ModelFileError" in call(capsys, "--debug", "train", "--resume", tmp_path / "nothing.safetensors")[2]
    code, _, err = call(capsys, "train", "--resume", tmp_path, "--quiet")
    assert_one_line_error(code, err, f"{tmp_path}: is a directory, not a checkpoint file")


def test_a_model_file_is_not_a_checkpoint(iris_run, capsys):
    """A run folder's model file names the checkpoint beside it: the line said only 'not a training checkpoint'."""
    code, _, err = call(capsys, "train", "--resume", iris_run / "model.safetensors", "--quiet")
    line = assert_one_line_error(code, err)
    assert line.startswith(f"chainrule: error: --resume: {iris_run / 'model.safetensors'}: not a training checkpoint "
                           f"(a model file without training state)")
    assert line.endswith(f"; --resume takes the run's checkpoint: {iris_run / 'checkpoint.safetensors'}")


def test_a_damaged_checkpoint_is_refused(tmp_path, capsys):
    assert call(capsys, "train", *IRIS, "--epochs", "1", "--out", tmp_path / "run")[0] == 0
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    checkpoint.write_bytes(checkpoint.read_bytes()[:-100])
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--quiet")
    assert_one_line_error(code, err, str(checkpoint))


def test_divergence_exits_1_in_one_line_and_leaves_no_run_folder(tmp_path, capsys):
    """cr.fit's message said "the model keeps its last finite weights; try a lower learning rate
    (lr=1e+20)", though the command writes no model file and the option is --lr."""
    code, out, err = call(capsys, "train", "--data", "iris", "--optimizer", "sgd", "--lr", "1e20", "--quiet",
                          "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, "training diverged at epoch 1, batch 1/4",
                                 f"no model file or checkpoint was written (the run folder {tmp_path / 'run'} was "
                                 f"removed); try a lower --lr than 1e+20", exit_code=1)
    assert "keeps its last finite weights" not in line and "lr=" not in line
    assert not (tmp_path / "run").exists()


def test_divergence_of_a_huge_weight_decay_names_it_beside_the_learning_rate(tmp_path, capsys):
    """A weight decay past what float32 multiplies a weight by diverged at any rate (--lr 1e-30
    too), and the line said only "try a lower --lr than 1e-30"."""
    code, out, err = call(capsys, "train", "--data", "iris", "--hidden", "8", "--epochs", "1", "--weight-decay",
                          "3e38", "--lr", "1e-30", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "training diverged at epoch 1",
                          "try a lower --lr than 1e-30, or a lower --weight-decay than 3e+38", exit_code=1)
    assert not (tmp_path / "run").exists()
    (tmp_path / "run.toml").write_text("weight_decay = 3e38\n")
    code, out, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--data", "iris", "--hidden", "8",
                          "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"or a lower weight_decay than 3e+38 ({tmp_path / 'run.toml'}: key "
                          "'weight_decay')", exit_code=1)


def test_a_run_folder_whose_name_is_not_utf8_gets_its_plots(tmp_path, capsys):
    """The plots' titles held the folder's name, whose byte 0xff (the lone surrogate os.fsdecode
    makes of it) matplotlib could not draw: an internal error (exit 1) once the run's files were written."""
    folder = tmp_path / os.fsdecode(b"run\xff")
    code, out, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--quiet",
                          "--out", folder)
    assert code == 0, err
    assert (folder / "history.png").is_file() and (folder / "gradient_flow.png").is_file()


def test_a_plot_title_shows_a_character_not_shown_as_its_escape(tmp_path, monkeypatch):
    # as error lines show it (printable): a tab in the folder's name was drawn as a tab, a lone surrogate escaped
    from chainrule import plots
    from chainrule.cli.train import write_plots
    titles = []
    monkeypatch.setattr(plots, "plot_history", lambda *args, title, **kwargs: titles.append(title))
    monkeypatch.setattr(plots, "plot_gradient_flow", lambda *args, title, **kwargs: titles.append(title))
    folder = tmp_path / ("run\t" + os.fsdecode(b"\xff") + "$")
    write_plots(True, cr.History(), None, "iris", folder, False)
    assert titles == [f"Training history: iris, {tmp_path}/run\\t\\udcff\\$",
                      f"Gradient flow: iris, {tmp_path}/run\\t\\udcff\\$"]


def run_with_matplotlib_broken(tmp_path, broken: str, *options) -> subprocess.CompletedProcess:
    """``chainrule train --data iris ... --out run OPTIONS`` in a process where matplotlib cannot be
    imported: ``broken`` is "missing" (no module of that name) or "backend" (MPLBACKEND names no backend)."""
    setup = "import sys; sys.modules['matplotlib'] = None\n" if broken == "missing" else ""
    script = setup + "import sys\nfrom chainrule.cli import main\nsys.exit(main(sys.argv[1:]))"
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    if broken == "backend":
        env["MPLBACKEND"] = "nonsense"
    return subprocess.run([sys.executable, "-c", script, "train", "--data", "iris", "--hidden", "4", "--epochs", "1",
                           "--quiet", "--out", "run", *options], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("broken, says", [
    ("missing", ["plots: history.png and gradient_flow.png are drawn with matplotlib, which cannot be imported "
                 "(import of matplotlib halted", "install it (pip install matplotlib) or train with --no-plots"]),
    ("backend", ["MPLBACKEND: 'nonsense' is not a backend that matplotlib knows, and matplotlib refuses to be "
                 "imported with it", "unset MPLBACKEND (or set it to agg), or train with --no-plots"])])
def test_plots_that_matplotlib_cannot_draw_are_refused_before_training(tmp_path, broken, says):
    # matplotlib was first imported once training was over and the model written: its ModuleNotFoundError, or the
    # ValueError that an unknown MPLBACKEND makes at import, was an internal error (exit 1) after the whole run
    done = run_with_matplotlib_broken(tmp_path, broken)
    assert_one_line_error(done.returncode, done.stderr, *says)
    assert not (tmp_path / "run").exists()
    done = run_with_matplotlib_broken(tmp_path, broken, "--no-plots")
    assert done.returncode == 0, done.stderr
    assert {path.name for path in (tmp_path / "run").iterdir()} == RUN_FILES - {"history.png", "gradient_flow.png"}


def test_plots_a_config_file_asks_for_are_named_as_its_key_when_matplotlib_is_missing(monkeypatch):
    def missing(name, package=None):
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(train_command.importlib, "import_module", missing)
    with pytest.raises(cr.ConfigError, match=r"^run\.toml: key 'plots': true: history\.png and gradient_flow\.png are "
                                             r"drawn with matplotlib, which cannot be imported \(No module named "
                                             r"'matplotlib'\); install it \(pip install matplotlib\) or train with "
                                             r"--no-plots$"):
        train_command.check_plots_can_be_drawn({"plots": "run.toml"})


def environment_without_matplotlib_folders(home) -> dict:
    """This process's environment with HOME set to ``home`` and none of the variables that would give
    matplotlib its config and cache folders elsewhere (``MPLCONFIGDIR``, ``XDG_CONFIG_HOME``, ``XDG_CACHE_HOME``)."""
    elsewhere = ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    return {**{key: value for key, value in os.environ.items() if key not in elsewhere}, "HOME": str(home)}


@pytest.mark.parametrize("home", ["a file", "a read-only folder"])
def test_a_home_that_matplotlib_cannot_write_in_adds_nothing_to_a_runs_output(tmp_path, home):
    # matplotlib logged two warnings on stderr ("mkdir -p failed for path ...", then "Matplotlib created a temporary
    # cache directory ...; it is highly recommended to set the MPLCONFIGDIR ...") when the plots were imported
    command = [sys.executable, "-m", "chainrule", "train", "--data", "iris", "--hidden", "4", "--epochs", "1",
               "--quiet", "--out", "run"]
    if home == "a file":  # no folder can be made in it, by root either
        (tmp_path / "home").write_text("")
    else:  # as on a cluster node whose home is mounted read-only
        (tmp_path / "home").mkdir(mode=0o500)
        command = bound_by_permissions(command)
    done = subprocess.run(command, cwd=tmp_path, env=environment_without_matplotlib_folders(tmp_path / "home"),
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "run" / "history.png").is_file() and (tmp_path / "run" / "gradient_flow.png").is_file()


def test_targets_beyond_float32_train_when_standardized_first(tmp_path, capsys):
    # the check of a target against the dtype refused them, where fit standardizes them in float64 first
    rows = [["a", "b", "label"]] + [[str(i), str(i % 3), str((i + 1) * 1e38)] for i in range(12)]
    path = write_csv(tmp_path / "big_targets.csv", rows)
    options = ["train", "--data", path, "--epochs", "1", "--quiet", "--no-plots", "--hidden", "4"]
    code, _, err = call(capsys, *options, "--standardize-targets", "--out", tmp_path / "run")
    assert code == 0, err
    code, _, err = call(capsys, *options, "--out", tmp_path / "raw")  # raw targets are computed in float32
    assert_one_line_error(code, err, f"{path}: line 5, column 3 'label': 4e+38 is too large for float32")


def test_float16_features_are_checked_against_the_dtype_without_a_warning(tmp_path, capsys):
    """float32's largest, compared in float16, overflowed: a RuntimeWarning on stderr ("overflow
    encountered in cast") before the summary line of a run that was otherwise right."""
    X = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float16)
    np.savez(tmp_path / "half.npz", X=X, y=np.arange(12) % 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = call(capsys, "train", "--data", tmp_path / "half.npz", "--epochs", "1", "--quiet",
                            "--no-plots", "--hidden", "4", "--out", tmp_path / "run")
    assert code == 0 and err == "", err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_value_beyond_float32_in_a_pipe_is_refused_without_reading_it_again(tmp_path):
    """The value was named by reading DATA again: a FIFO, emptied by the first read, waited for ever."""
    rows = [["a", "b", "label"]] + [[str(i), str(i % 3), str(i % 2)] for i in range(12)]
    rows[4][1] = "1e39"
    text = "\n".join(",".join(row) for row in rows) + "\n"
    with fifo_holding(tmp_path / "rows.csv", text) as fifo:
        result = run_cli("train", "--data", fifo, "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                         "--out", tmp_path / "run", cwd=tmp_path, timeout=60)
    assert_one_line_error(result.returncode, result.stderr, f"{fifo}: a value of magnitude 1e+39 is too large for "
                          "float32, whose largest magnitude is 3.403e+38 (its line is not named: a pipe is read once); "
                          "train in float64")
    assert not (tmp_path / "run").exists()


def tiny_spread_rows(far_row: int, n: int = 30) -> list:
    """CSV rows of targets of spread 1e-30, but for the row ``far_row`` (of the file's rows), whose 1e10
    standardized with theirs is 1e40: beyond float32."""
    rng = np.random.default_rng(0)
    targets = rng.normal(size=n) * 1e-30
    targets[far_row] = 1e10
    return [["a", "b", "label"]] + [[str(i), str(i % 3), repr(float(target))] for i, target in enumerate(targets)]


def test_a_test_target_standardized_beyond_float32_is_named_before_training(tmp_path, capsys):
    # It trained, then reported an infinite test loss with the hint that test rows lie far outside the training data
    from chainrule.data.split import shuffled_split_indices

    far_row = int(shuffled_split_indices(30, 0.2, 0)[1][2])  # a row of the test split (test size 0.2, seed 0)
    path = write_csv(tmp_path / "tiny.csv", tiny_spread_rows(far_row))
    options = ["train", "--data", path, "--epochs", "1", "--quiet", "--no-plots", "--standardize-targets"]
    code, _, err = call(capsys, *options, "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{path}: line {far_row + 2}, column 3 'label': 10000000000.0, standardized, "
                          "(y − mean) / scale = ", "is too large for float32, whose largest magnitude is 3.403e+38; "
                          "the row is a test row, and its target lies far outside the training rows' targets, with "
                          "whose mean (", ") --standardize-targets standardizes it: check it, or train in float64 "
                          "(--dtype float64)")
    assert not (tmp_path / "run").exists()
    code, _, err = call(capsys, *options, "--dtype", "float64", "--out", tmp_path / "wide")
    assert code == 0, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_test_target_standardized_beyond_float32_in_a_pipe_is_named_without_reading_it_again(tmp_path):
    """Naming the target's line reads DATA again: a FIFO, emptied by the first read, would wait for ever."""
    from chainrule.data.split import shuffled_split_indices

    far_row = int(shuffled_split_indices(30, 0.2, 0)[1][2])  # a row of the test split (test size 0.2, seed 0)
    text = "\n".join(",".join(row) for row in tiny_spread_rows(far_row)) + "\n"
    with fifo_holding(tmp_path / "tiny.csv", text) as fifo:
        result = run_cli("train", "--data", fifo, "--epochs", "1", "--quiet", "--no-plots", "--standardize-targets",
                         "--out", tmp_path / "run", cwd=tmp_path, timeout=60)
    assert_one_line_error(result.returncode, result.stderr, f"{fifo}: a target lies so far outside the training "
                          "rows' targets that --standardize-targets standardizes it beyond float32 (the row is a test "
                          "row; its line is not named: a pipe is read once): check it, or train in float64")
    assert not (tmp_path / "run").exists()


def test_a_test_target_of_an_npz_archive_standardized_beyond_float32_is_named_by_its_index(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", X=rng.normal(size=(20, 2)), y=rng.normal(size=20) * 1e-30,
             X_test=rng.normal(size=(3, 2)), y_test=np.array([0.0, -1e10, 0.0]))
    code, _, err = call(capsys, "train", "--data", tmp_path / "tiny.npz", "--epochs", "1", "--quiet", "--no-plots",
                        "--standardize-targets", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{tmp_path / 'tiny.npz'}: y_test[1] is -1e+10, standardized, (y − mean) / "
                          "scale = ", "the row is a test row")


def test_a_held_out_target_standardized_beyond_float32_is_named_by_its_line(tmp_path, capsys):
    # fit refused it naming its index among the rows held out (y_val), which the command line does not show
    from chainrule.data.split import shuffled_split_indices
    from chainrule.training.prepare import fit_seeds, held_out_rows

    train_rows, _ = shuffled_split_indices(30, 0.2, 0)  # the file's rows in the training split (seed 0)
    _, held = held_out_rows(np.zeros(len(train_rows)), 0.25, cr.MSE(), fit_seeds(0)[0])  # those fit holds out
    far_row = int(train_rows[held[0]])
    path = write_csv(tmp_path / "tiny.csv", tiny_spread_rows(far_row))
    code, _, err = call(capsys, "train", "--data", path, "--epochs", "1", "--quiet", "--no-plots",
                        "--standardize-targets", "--validation", "0.25", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{path}: line {far_row + 2}, column 3 'label': 10000000000.0, standardized",
                          "the row is held out for validation (--validation)")


def test_standardized_targets_name_a_validation_that_leaves_no_training_row_as_the_option(tmp_path, capsys):
    path = write_csv(tmp_path / "tiny.csv", tiny_spread_rows(0))
    code, _, err = call(capsys, "train", "--data", path, "--epochs", "1", "--quiet", "--standardize-targets",
                        "--validation", "0.999", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--validation: holding out 0.999 of the 24 rows leaves 0 for training")


def test_the_targets_standardization_checked_is_the_one_fit_learns():
    # The command line learns it before fit, from the rows fit will train on: those --validation leaves
    data = cr.load_data("diabetes", test_size=0.2, seed=3)
    config = TrainConfig(data="diabetes", validation=0.3, seed=3, standardize_targets=True)
    mean, scale = train_command.fitted_target_standardization(config, data)
    model = cr.mlp([10, 1], seed=0)
    cr.fit(model, data.X_train, data.y_train, epochs=1, validation=0.3, seed=3, standardize_targets=True, verbose=0)
    assert mean.tobytes() == model.preprocessor.target_mean.tobytes()
    assert scale.tobytes() == model.preprocessor.target_scale.tobytes()


def test_a_loss_not_finite_before_any_step_advises_scaling_the_targets_not_the_rate(tmp_path, capsys):
    rows = [["a", "b", "label"]] + [[str(i), str(i % 3), str(i + 0.5)] for i in range(10)]
    rows[3][2] = "1e300"  # fits float64, but its square (the loss) does not
    path = write_csv(tmp_path / "huge_targets.csv", rows)
    code, out, err = call(capsys, "train", "--data", path, "--epochs", "1", "--quiet", "--no-plots", "--dtype", "float64",
                          "--lr", "1e-12", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, "training diverged at epoch 1, batch 1/1: the loss is not finite; no model "
                                 "file or checkpoint was written; it was so at the initial weights, before any step, "
                                 "so the learning rate is not the cause", "(the inputs are standardized already): "
                                 "standardize the targets (--standardize-targets)", exit_code=1)
    assert "--lr" not in line and "--dtype float64" not in line


@pytest.mark.parametrize("dtype, cause", [
    ("float32", "the rows or their targets are too large for the network or the loss in float32 (the inputs are "
                "standardized already): train with --dtype float64"),
    ("float64", "the data are standardized already, so the initial weights or a backward pass, of a layer or of the "
                "loss (one of one's own?) made it")])
def test_a_gradient_not_finite_at_the_first_step_names_the_data_not_the_rate(tmp_path, capsys, monkeypatch, dtype,
                                                                            cause):
    # It said "try a lower --lr than 1e-12", though no step had been taken
    def infinite_gradient(loop, rows, scores, flat, backpropagate=Loop.backpropagate):
        value = backpropagate(loop, rows, scores, flat)
        flat.grad[...] = np.inf
        return value

    monkeypatch.setattr(Loop, "backpropagate", infinite_gradient)
    code, _, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--quiet", "--no-plots", "--lr", "1e-12",
                        "--dtype", dtype, "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, "training diverged at epoch 1, batch 1/4: the gradient is not finite; no "
                                 "model file or checkpoint was written; it was so at the initial weights, before any "
                                 f"step, so the learning rate is not the cause: {cause}", exit_code=1)
    assert line.endswith(cause) and "--lr" not in line


def test_divergence_after_a_checkpoint_names_it_and_the_config_key_of_the_rate(tmp_path, capsys, monkeypatch):
    def diverge_in_epoch_3(loop, number, bar, run_epoch=Loop.run_epoch):
        if number == 3:
            raise loop.diverged(number, 0, 4, "the loss is not finite")
        return run_epoch(loop, number, bar)

    monkeypatch.setattr(Loop, "run_epoch", diverge_in_epoch_3)
    reading_no_tensor(monkeypatch)
    config = tmp_path / "run.toml"
    config.write_text('data = "iris"\nlr = 0.5\n')
    code, _, err = call(capsys, "train", "--config", config, "--epochs", "5", "--quiet", "--out", tmp_path / "run")
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    assert_one_line_error(code, err, "training diverged at epoch 3, batch 1/4: the loss is not finite; no model "
                          f"file was written, but the checkpoint {checkpoint} holds epoch 2; try a lower lr than "
                          f"0.5 ({config}: key 'lr'), from the start or with --resume {checkpoint}", exit_code=1)
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["checkpoint.safetensors"]


def test_ctrl_c_while_the_files_are_written_names_those_written(tmp_path, capsys, monkeypatch):
    # SIGTERM while the plots were drawn printed a bare "interrupted", though training had ended
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "write_plots", interrupted)
    code, out, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "2", "--quiet", "--out",
                          tmp_path / "run")
    assert code == 130 and out == ""
    assert err == (f"chainrule: interrupted after training (2 complete epochs), while writing the run's files: "
                   f"config.toml, model.safetensors, metrics.json written in {tmp_path / 'run'}, beside the "
                   f"checkpoint checkpoint.safetensors\n")
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == [
        "checkpoint.safetensors", "config.toml", "metrics.json", "model.safetensors"]


def test_a_ctrl_c_between_the_runs_files_leaves_a_folder_that_resume_continues(tmp_path, capsys, monkeypatch):
    # config.toml came last: after model.safetensors, the folder was no run folder, and --resume refused it
    write = train_command.atomic_write

    def interrupted_at_the_metrics(path, *args, **kwargs):
        if Path(path).name == "metrics.json":
            raise KeyboardInterrupt
        return write(path, *args, **kwargs)

    monkeypatch.setattr(train_command, "atomic_write", interrupted_at_the_metrics)
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "2", "--quiet", "--out",
                        tmp_path / "run")
    assert code == 130 and "config.toml, model.safetensors written" in err
    monkeypatch.undo()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--quiet")
    assert code == 0, err
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_a_test_size_that_leaves_no_training_row_is_named_as_the_option_or_the_config_key(tmp_path, capsys):
    # it was named "test_size", the Python keyword, and the config file not at all
    message = "holding out 0.999 of the 150 rows leaves 0 for training and 150 held out"
    code, _, err = call(capsys, "train", "--data", "iris", "--test-size", "0.999", "--quiet", "--out", tmp_path / "r")
    assert_one_line_error(code, err, f"--test-size: {message}")
    config = tmp_path / "t.toml"
    config.write_text('data = "iris"\ntest_size = 0.999\n')
    code, _, err = call(capsys, "train", "--config", config, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{config}: key 'test_size': {message}")


def write_npz_with_a_test_part(path):
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(40, 3)), y=np.arange(40) % 2, X_test=rng.normal(size=(10, 3)),
             y_test=np.arange(10) % 2)
    return path


def test_a_test_size_for_data_with_a_test_part_of_its_own_is_refused_naming_the_option_or_the_config_key(
        tmp_path, capsys):
    # it was taken and saved, and changed nothing: the file's test part is not split
    data = write_npz_with_a_test_part(tmp_path / "parts.npz")
    message = (f"the data '{data}' has a test part of its own (10 rows), which the run tests on; "
               f"a test size splits off test rows only from data without one")
    code, _, err = call(capsys, "train", "--data", data, "--test-size", "0.5", "--quiet", "--out", tmp_path / "r")
    assert_one_line_error(code, err, f"--test-size: {message}; leave --test-size out")
    config = tmp_path / "t.toml"
    config.write_text(f'data = "{data}"\ntest_size = 0.2\n')
    code, _, err = call(capsys, "train", "--config", config, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{config}: key 'test_size': {message}; remove the key")
    assert not (tmp_path / "r").exists() and not (tmp_path / "run").exists()


def test_a_run_on_data_with_a_test_part_saves_no_test_size_and_its_config_repeats_it(tmp_path, capsys):
    data = write_npz_with_a_test_part(tmp_path / "parts.npz")
    code, _, err = call(capsys, "train", "--data", data, "--epochs", "1", "--no-plots", "--quiet",
                        "--out", tmp_path / "run")
    assert code == 0, err
    text = (tmp_path / "run" / "config.toml").read_text()
    assert "# test_size is left out: the data has a test part of its own\n" in text
    assert "test_size" not in tomllib.loads(text)
    assert "test_size" not in cr.load(tmp_path / "run" / "model.safetensors").metadata["config"]
    code, _, err = call(capsys, "train", "--config", tmp_path / "run" / "config.toml", "--out", tmp_path / "again")
    assert code == 0, err
    assert same_weights(*(cr.load(tmp_path / run / "model.safetensors") for run in ("run", "again")))
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "2",
                        "--quiet")
    assert code == 0, err


def test_an_option_that_fit_refuses_is_named_as_the_option_or_the_config_key(tmp_path, capsys):
    # fit's message named its argument, "validation: holding out 0.99 ...", for either
    message = "holding out 0.99 of the 120 rows leaves class 0 without training rows; use a smaller fraction"
    code, _, err = call(capsys, "train", "--data", "iris", "--validation", "0.99", "--epochs", "1", "--quiet",
                        "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"--validation: {message}")
    config = tmp_path / "v.toml"
    config.write_text('data = "iris"\nvalidation = 0.99\nepochs = 1\n')
    code, _, err = call(capsys, "train", "--config", config, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{config}: key 'validation': {message}")
    assert not (tmp_path / "run").exists()


def test_errors_in_a_subprocess_are_one_line_without_traceback(tmp_path):
    bad_csv(tmp_path, "words.csv", set_cell(5, 2, "abc"))
    for args in (["--data", "missing.csv"], ["--data", "words.csv"]):
        done = run_cli("train", *args, "--quiet", "--out", "run", cwd=tmp_path)
        assert_one_line_error(done.returncode, done.stderr)
        assert done.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["words.csv"]


def test_debug_shows_the_traceback(tmp_path):
    done = run_cli("train", "--data", "missing.csv", "--debug", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1] == "chainrule: error: missing.csv: no such file"


MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                    reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'")
def test_distributed_run_on_two_processes_writes_one_run_folder_and_prints_once(tmp_path):
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "chainrule", "train", "--distributed",
                           "--data", "iris", "--epochs", "3", "--no-plots", "--quiet", "--json", "--out", "run"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert json.loads(done.stdout)["epochs"] == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]
    assert cr.load(tmp_path / "run" / "model.safetensors").metadata["training"]["epochs"] == 3


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                    reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'")
def test_a_batch_size_below_the_processes_is_named_as_the_option(tmp_path):
    done = subprocess.run([MPIEXEC, "-n", "3", sys.executable, "-m", "chainrule", "train", "--distributed",
                           "--data", "iris", "--batch-size", "2", "--epochs", "1", "--out", "run"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    message = ("--batch-size: 2 is less than the 3 processes, each of which needs a row of every batch; pass a "
               "batch size of at least 3, or run fewer processes")
    lines = done.stderr.splitlines()  # every rank found it, each naming itself
    assert all(f"chainrule: error: rank {rank} of 3: {message}" in lines for rank in range(3)), done.stderr
    assert not (tmp_path / "run").exists()


def test_distributed_without_mpi_fails_in_one_line_saying_how_to_get_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    code, _, err = call(capsys, "train", "--distributed", "--data", "iris", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "pip install 'chainrule[mpi]'")
    assert not (tmp_path / "run").exists()


# -- --class-weight ---------------------------------------------------------------------------------
def test_class_weight_balanced_changes_training_and_is_saved(tmp_path, capsys):
    """breast_cancer's classes are 37 % / 63 %: balanced weights train another model (iris's
    stratified split is balanced, so its weights would all be 1), and config.toml says so."""
    code, _, err = call(capsys, "train", "--data", "breast_cancer", "--class-weight", "balanced", "--hidden", "8",
                        "--epochs", "2", "--patience", "0", "--quiet", "--no-plots", "--out", tmp_path / "balanced")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--data", "breast_cancer", "--hidden", "8", "--epochs", "2",
                        "--patience", "0", "--quiet", "--no-plots", "--out", tmp_path / "plain")
    assert code == 0, err
    balanced, plain = (cr.load(tmp_path / run / "model.safetensors") for run in ("balanced", "plain"))
    assert not same_weights(balanced, plain)
    saved = tomllib.loads((tmp_path / "balanced" / "config.toml").read_text())
    assert saved["class_weight"] == "balanced"
    assert tomllib.loads((tmp_path / "plain" / "config.toml").read_text())["class_weight"] == "none"


@pytest.mark.parametrize("options, fragments", [
    (["--class-weight", "heavy"], ["--class-weight", "invalid choice: 'heavy'"]),
    (["--data", "diabetes", "--class-weight", "balanced"],
     ["--class-weight: class weights need class labels, but diabetes is a regression data set"]),
    (["--data", "iris", "--loss", "mse", "--class-weight", "balanced"],  # was cr.fit's "class_weight: needs ..."
     ["--class-weight: class weights need a loss that trains for classes, but --loss mse trains for regression"]),
])
def test_bad_class_weight_options_exit_2_naming_them(tmp_path, capsys, options, fragments):
    code, _, err = call(capsys, "train", *options, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "run").exists()


def test_class_weight_in_a_config_file_is_checked_by_key(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('class_weight = "heavy"\n')
    code, _, err = call(capsys, "train", "--config", config, "--out", tmp_path / "run")
    assert_one_line_error(code, err, "run.toml: key 'class_weight': expected one of 'none', 'balanced'")


def test_a_cli_trained_model_reads_a_dataframe_by_its_column_names(tmp_path, capsys):
    """The run's model keeps the data's column names, so cr.predict takes a DataFrame's columns
    by name, as it does for a model that cr.fit trained on a DataFrame."""
    pandas = pytest.importorskip("pandas")
    code, _, _ = call(capsys, "train", "--data", "iris", "--epochs", "3", "--quiet", "--no-plots",
                      "--out", tmp_path / "run")
    assert code == 0
    model = cr.load(tmp_path / "run" / "model.safetensors")
    names = model.metadata["data"]["features"]
    assert model.preprocessor.feature_names == names
    X = np.random.default_rng(0).normal(size=(6, 4)) + 3
    frame = pandas.DataFrame(X, columns=names)
    reordered = frame[names[::-1]]
    assert np.array_equal(cr.predict(model, reordered), cr.predict(model, X))
    with pytest.raises(cr.DataError, match=re.escape(f"X: lacks the column {names[0]!r}")):
        cr.predict(model, frame.drop(columns=names[0]))


def test_a_model_trained_on_an_npz_file_keeps_no_made_up_column_names(tmp_path, capsys):
    """An NPZ file has no column names, only the positions "x0", "x1", ... that the run shows:
    the model takes a DataFrame by position, whatever its columns are called."""
    pandas = pytest.importorskip("pandas")
    X = np.random.default_rng(0).normal(size=(60, 3))
    np.savez(tmp_path / "points.npz", X=X, y=(X[:, 0] > 0).astype(int))
    code, _, err = call(capsys, "train", "--data", tmp_path / "points.npz", "--hidden", "4", "--epochs", "2",
                        "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    model = cr.load(tmp_path / "run" / "model.safetensors")
    assert model.preprocessor.feature_names is None
    frame = pandas.DataFrame(X, columns=["a", "b", "c"])
    assert np.array_equal(cr.predict(model, frame), cr.predict(model, X))


def test_resume_with_fewer_epochs_than_the_checkpoint_exits_2_naming_the_option(tmp_path, capsys):
    """It used to train nothing and report the run as completed."""
    assert call(capsys, "train", *IRIS, "--epochs", "3", "--out", tmp_path / "run")[0] == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "2")
    assert_one_line_error(code, err, "--epochs: 2 is fewer than the 3 epochs the checkpoint holds; it counts them "
                                     "all, so pass 3 or more (more than 3 to train further)")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before
    assert call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "3",
                "--quiet")[0] == 0  # as many: nothing left to train, which is no error


# -- --activation per hidden layer, --init -------------------------------------------------------

def record_initial_networks(monkeypatch, module, function: str) -> list:
    """Wrap ``module.function`` (train's fit, gradcheck's gradcheck) so that it records the
    network it is given, as it is before it runs: (its architecture, a copy of its parameters)."""
    recorded = []
    original = getattr(module, function)

    def recording(model, *args, **kwargs):
        recorded.append((to_config(model), {name: array.copy() for name, array in model.params.items()}))
        return original(model, *args, **kwargs)

    monkeypatch.setattr(module, function, recording)
    return recorded


def assert_same_network(recorded, expected) -> None:
    architecture, params = recorded
    assert architecture == to_config(expected)
    assert list(params) == list(expected.params)
    assert all(np.array_equal(params[name], expected.params[name]) for name in params)


def test_the_default_network_is_cr_mlp_with_its_defaults(tmp_path, capsys, monkeypatch):
    """No model option: a 64-256-128-10 network of ReLUs, "auto" initializers and seed 0, the
    very weights of cr.mlp([64, 256, 128, 10], seed=0)."""
    recorded = record_initial_networks(monkeypatch, train_command, "fit")
    code, _, err = call(capsys, "train", "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    assert_same_network(recorded[0], cr.mlp([64, 256, 128, 10], seed=0))
    saved = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert (saved["activation"], saved["init"]) == ("relu", "auto")


@pytest.mark.parametrize("activation", ["tanh,relu", "tanh, relu"])
def test_one_activation_per_hidden_layer_and_an_initializer(tmp_path, capsys, monkeypatch, activation):
    recorded = record_initial_networks(monkeypatch, train_command, "fit")
    code, _, err = call(capsys, "train", *IRIS, "--hidden", "8,4", "--activation", activation, "--init",
                        "lecun_normal", "--epochs", "1", "--out", tmp_path / "run")
    assert code == 0, err
    assert_same_network(recorded[0], cr.mlp([4, 8, 4, 3], ["tanh", "relu"], init="lecun_normal", seed=0))
    model = cr.load(tmp_path / "run" / "model.safetensors")
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "Tanh", "Linear", "ReLU", "Linear"]
    assert {layer.init for layer in model.layers if isinstance(layer, cr.Linear)} == {"lecun_normal"}
    saved = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert (saved["activation"], saved["init"]) == (activation, "lecun_normal")


def test_an_initializer_alias_is_taken(tmp_path, capsys, monkeypatch):
    recorded = record_initial_networks(monkeypatch, train_command, "fit")
    code, _, err = call(capsys, "train", *IRIS, "--init", "xavier_normal", "--epochs", "1", "--out", tmp_path / "run")
    assert code == 0, err
    assert_same_network(recorded[0], cr.mlp([4, 8, 3], init="xavier_normal", seed=0))


def test_a_config_file_gives_the_widths_and_activations_as_lists_which_the_run_saves_and_resumes(tmp_path, capsys,
                                                                                                monkeypatch):
    config = tmp_path / "run.toml"
    config.write_text('data = "iris"\nhidden = [6, 5]\nactivation = ["gelu", "sigmoid"]\ninit = "he_uniform"\n'
                      'epochs = 2\npatience = 0\nplots = false\n')
    recorded = record_initial_networks(monkeypatch, train_command, "fit")
    assert call(capsys, "train", "--config", config, "--quiet", "--out", tmp_path / "cut")[0] == 0
    assert_same_network(recorded[0], cr.mlp([4, 6, 5, 3], ["gelu", "sigmoid"], init="he_uniform", seed=0))
    saved = tomllib.loads((tmp_path / "cut" / "config.toml").read_text())
    assert (saved["hidden"], saved["activation"], saved["init"]) == ([6, 5], ["gelu", "sigmoid"], "he_uniform")
    # --resume rebuilds the same network from the checkpoint, and ends as the uninterrupted run;
    # the widths as the option gives them are no change.
    keep_only_the_checkpoint(tmp_path / "cut")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "cut" / "checkpoint.safetensors", "--epochs", "4",
                        "--hidden", "6,5", "--quiet")
    assert code == 0, err
    assert call(capsys, "train", "--config", config, "--epochs", "4", "--quiet", "--out", tmp_path / "whole")[0] == 0
    resumed, whole = (cr.load(tmp_path / name / "model.safetensors") for name in ("cut", "whole"))
    assert to_config(resumed) == to_config(whole)
    assert same_weights(resumed, whole)


HOLDS = "; the checkpoint holds that network's weights; resume without changing"


@pytest.mark.parametrize("options, fragment", [
    (["--activation", "tanh"], f"--activation: 'tanh' differs from the resumed run's 'relu,tanh'{HOLDS} activation"),
    (["--init", "auto"], f"--init: 'auto' differs from the resumed run's 'he_normal'{HOLDS} init"),
    (["--hidden", "8,5"], f"--hidden: '8,5' differs from the resumed run's '8,4'{HOLDS} hidden"),
    # one width for the saved two activations: named as --hidden, not as the checkpoint's activations
    (["--hidden", "6"], f"--hidden: '6' differs from the resumed run's '8,4'{HOLDS} hidden"),
    (["--optimizer", "sgd"], "--optimizer: 'sgd' differs from the resumed run's 'adam'; the checkpoint holds that "
                             "optimizer's state; resume without changing optimizer"),
    (["--dtype", "float64"], "--dtype: 'float64' differs from the resumed run's 'float32'; the checkpoint holds the "
                             "weights and the optimizer's state in that dtype; resume without changing dtype"),
])
def test_resume_refuses_another_network_as_it_refuses_another_hidden(tmp_path, capsys, options, fragment):
    """The checkpoint holds the network: another width, activation or initializer is refused,
    naming the option, before any data is read, and the run is left as it was."""
    assert call(capsys, "train", *IRIS, "--hidden", "8,4", "--activation", "relu,tanh", "--init", "he_normal",
                "--epochs", "2", "--out", tmp_path / "run")[0] == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", *options,
                        "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, fragment)
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before
    # Another spelling of the same widths, activations, initializer (an alias: it was refused) and dtype is the
    # same network, built as the run saved it.
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--hidden", "8, 4",
                        "--activation", "relu, tanh", "--init", "kaiming_normal", "--dtype", "f4", "--epochs", "3",
                        "--quiet")
    assert code == 0, err
    assert read(tmp_path / "run" / "model.safetensors")[0].layers[0].init == "he_normal"
    assert tomllib.loads((tmp_path / "run" / "config.toml").read_text())["init"] == "he_normal"


@pytest.mark.parametrize("first, then, fragment", [
    ("5", "0", "--patience: 0 turns early stopping off, which the resumed run had on (patience 5); a resumed run "
               "keeps its callbacks; resume with a patience above 0"),
    ("0", "3", "--patience: 3 turns early stopping on, which the resumed run had off (patience 0); a resumed run "
               "keeps its callbacks; resume with patience 0"),
])
def test_resume_refuses_to_turn_early_stopping_on_or_off(tmp_path, capsys, first, then, fragment):
    assert call(capsys, "train", *IRIS, "--hidden", "8", "--patience", first, "--epochs", "2", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--patience", then, "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, fragment)
    other = "7" if first != "0" else "0"  # another patience, early stopping still as it was: taken
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--patience", other, "--epochs", "3", "--quiet",
                        "--no-plots")
    assert code == 0, err


@pytest.mark.parametrize("text, options, fragment", [
    # The hidden widths are compared before the saved activations are counted against them.
    ('hidden = "6"\n', [], f"more.toml: key 'hidden': '6' differs from the resumed run's '8,4'{HOLDS} hidden"),
    ('hidden = [8, 4]\nactivation = ["tanh", "tanh"]\n', [],
     f"more.toml: key 'activation': ['tanh', 'tanh'] differs from the resumed run's 'relu,tanh'{HOLDS} activation"),
    ('optimizer = "sgd"\n', [], "more.toml: key 'optimizer': 'sgd' differs from the resumed run's 'adam'"),
    # The file keeps the saved value, the command line changes it: named as the option.
    ('activation = "relu,tanh"\noptimizer = "adam"\n', ["--optimizer", "rmsprop"],
     "--optimizer: 'rmsprop' differs from the resumed run's 'adam'"),
])
def test_resume_names_a_changed_key_where_its_new_value_came_from(tmp_path, monkeypatch, capsys, text, options,
                                                                  fragment):
    assert call(capsys, "train", *IRIS, "--hidden", "8,4", "--activation", "relu,tanh", "--epochs", "2",
                "--out", tmp_path / "run")[0] == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "more.toml").write_text(text)
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--config",
                        "more.toml", *options, "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize("options, fragment", [
    (["--data", "wine"], "--data: 'wine' has 13 features, but the resumed run's network takes 4; resume with data "
                         "of 4 features"),
    (["--config", "wine.toml"], "wine.toml: key 'data': 'wine' has 13 features, but the resumed run's network takes 4"),
    (["--loss", "mse"], "--loss: 'mse' gives 1 output, but the resumed run's network has 3; resume without changing "
                        "loss"),
    (["--data", "two.csv"], "--data: 'two.csv' gives 2 outputs with cross_entropy, but the resumed run's network "
                            "has 3; resume with data of the same classes or target columns"),
])
def test_resume_refuses_data_or_a_loss_of_another_width_naming_the_option(tmp_path, monkeypatch, capsys, options,
                                                                          fragment):
    """They used to be refused by cr.fit, naming the checkpoint's architecture (layers[0].n_in)."""
    assert call(capsys, "train", *IRIS, "--epochs", "2", "--out", tmp_path / "run")[0] == 0
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "two.csv", iris_rows()[:101])  # 4 features, 2 classes: setosa and versicolor
    (tmp_path / "wine.toml").write_text('data = "wine"\n')
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", *options,
                        "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, fragment)
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_resume_refuses_a_pipe_at_the_runs_csv_path_as_a_pipe(tmp_path, monkeypatch, capsys):
    """It was refused as a file whose SHA-256 differs from the one recorded, which nobody had taken: a pipe's
    bytes are not hashed, as they are read once."""
    rows = iris_rows()
    write_csv(tmp_path / "iris.csv", rows)
    monkeypatch.chdir(tmp_path)
    options = ["--hidden", "8", "--quiet", "--no-plots"]
    assert call(capsys, "train", "--data", "iris.csv", *options, "--epochs", "2", "--out", "run")[0] == 0
    text = (tmp_path / "iris.csv").read_text()
    os.unlink("iris.csv")
    with fifo_holding(tmp_path / "iris.csv", text):  # the same rows, read once, and then refused
        code, _, err = call(capsys, "train", "--resume", "run/checkpoint.safetensors", *options, "--epochs", "3")
    assert_one_line_error(code, err, f"run/checkpoint.safetensors: metadata.config.data: "
                          f"{str(tmp_path / 'iris.csv')!r} is a pipe now, whose rows cannot be compared with those of "
                          "the file the run read (the SHA-256 the checkpoint recorded): its test rows may not be the "
                          "run's, and the resumed run could train on rows held out", "restore the file as it was")


def test_resume_refuses_the_runs_own_csv_rewritten_since_naming_it(tmp_path, monkeypatch, capsys):
    """The saved data path was read again as it was: its seeded test split moved with the new rows,
    and the resumed run trained on rows the run had held out for testing, so its test score was not one."""
    rows = iris_rows()
    write_csv(tmp_path / "iris.csv", rows)
    monkeypatch.chdir(tmp_path)
    options = ["--hidden", "8", "--quiet", "--no-plots"]
    assert call(capsys, "train", "--data", "iris.csv", *options, "--epochs", "2", "--out", "run")[0] == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    write_csv(tmp_path / "iris.csv", rows[:1] + rows[1:][::-1])  # the same rows and columns, in another order
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--epochs", "3")
    saved = str(tmp_path / "iris.csv")
    assert_one_line_error(code, err, f"run/checkpoint.safetensors: metadata.config.data: {saved!r} "
                          "changed since the run started (its SHA-256 differs from the one the checkpoint recorded)",
                          "test rows", "restore the file as it was, or start a new run")
    # Named again with --data, the same file is the run's own: refused alike, naming --data.
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", "iris.csv", *options, "--epochs", "3")
    assert_one_line_error(code, err, "--data: 'iris.csv' changed since the run started")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before
    # Another file is other data, which --data may give to resume on (the same columns).
    (tmp_path / "other.csv").write_bytes((tmp_path / "iris.csv").read_bytes())
    write_csv(tmp_path / "iris.csv", rows)  # restored: resumed as the run began
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--epochs", "3")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", "other.csv", *options, "--epochs", "4")
    assert code == 0, err


def test_resume_refuses_the_runs_own_npz_archive_rewritten_since_naming_it(tmp_path, monkeypatch, capsys):
    """An NPZ archive recorded no hash: rewritten, its test rows split by the seed moved unseen."""
    X = np.random.default_rng(0).normal(size=(60, 3))
    np.savez(tmp_path / "points.npz", X=X, y=(X[:, 0] > 0).astype(int))
    original = (tmp_path / "points.npz").read_bytes()
    monkeypatch.chdir(tmp_path)
    options = ["--hidden", "4", "--quiet", "--no-plots"]
    assert call(capsys, "train", "--data", "points.npz", *options, "--epochs", "2", "--out", "run")[0] == 0
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    np.savez(tmp_path / "points.npz", X=X[::-1], y=(X[::-1, 0] > 0).astype(int))  # the same rows, in another order
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--epochs", "3")
    assert_one_line_error(code, err, f"run/checkpoint.safetensors: metadata.config.data: "
                          f"{str(tmp_path / 'points.npz')!r} changed since the run started (its SHA-256 differs")
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", "points.npz", *options, "--epochs", "3")
    assert_one_line_error(code, err, "--data: 'points.npz' changed since the run started")
    (tmp_path / "points.npz").write_bytes(original)
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--epochs", "3")
    assert code == 0, err


def test_idx_files_in_pipes_train_their_bytes_read_once(tmp_path, capsys):
    """``--data <(cat images),<(cat labels)``: the hash recorded of the data read the pipes
    first, and the loader then found them empty ("truncated: 0 bytes")."""
    images, labels = mnist_like(30)
    pipes = []
    for array in (images, labels):
        read_end, write_end = os.pipe()
        with os.fdopen(write_end, "wb") as pipe:  # a few hundred bytes: the pipe's buffer holds them
            pipe.write(idx_bytes(array))
        pipes.append(read_end)
    try:
        spec = ",".join(f"/dev/fd/{read_end}" for read_end in pipes)
        code, _, err = call(capsys, "train", "--data", spec, "--hidden", "4", "--epochs", "1", "--quiet",
                            "--no-plots", "--out", tmp_path / "run")
    finally:
        for read_end in pipes:
            os.close(read_end)
    assert code == 0, err
    saved = read(tmp_path / "run" / "model.safetensors")[0].metadata["data"]["sha256"]
    assert list(saved.values()) == [None, None]  # bytes read once cannot be compared again


@pytest.mark.parametrize("spec", ["mn", "mn/train-images-idx3-ubyte, mn/train-labels-idx1-ubyte"],
                         ids=["directory", "IMAGES,LABELS"])
def test_resume_refuses_the_runs_own_idx_files_rewritten_since_naming_the_file(tmp_path, monkeypatch, capsys, spec):
    """IDX files recorded no hash: a rewritten labels file moved the test rows unseen."""
    (tmp_path / "mn").mkdir()
    images, labels = mnist_like(30)
    write_idx(tmp_path / "mn" / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "mn" / "train-labels-idx1-ubyte", labels)
    monkeypatch.chdir(tmp_path)
    options = ["--hidden", "4", "--quiet", "--no-plots"]
    assert call(capsys, "train", "--data", spec, *options, "--epochs", "2", "--out", "run")[0] == 0
    assert list(read(tmp_path / "run" / "model.safetensors")[0].metadata["data"]["sha256"]) == [
        str(tmp_path / "mn" / "train-images-idx3-ubyte"), str(tmp_path / "mn" / "train-labels-idx1-ubyte")]
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    write_idx(tmp_path / "mn" / "train-labels-idx1-ubyte", labels[::-1])
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", spec, *options, "--epochs", "3")
    assert_one_line_error(code, err, f"--data: {spec!r}: its file {str(tmp_path / 'mn' / 'train-labels-idx1-ubyte')!r} "
                          f"changed since the run started (its SHA-256 differs", "restore the file as it was")
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--epochs", "3")
    assert_one_line_error(code, err, "run/checkpoint.safetensors: metadata.config.data: ", "train-labels-idx1-ubyte' "
                          "changed since the run started")
    write_idx(tmp_path / "mn" / "train-labels-idx1-ubyte", labels)
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--epochs", "3")
    assert code == 0, err


def test_resume_refuses_a_csv_of_the_same_columns_in_another_order_naming_both(tmp_path, monkeypatch, capsys):
    """It trained by position: the weights learned for one column were fed another (iris's accuracy
    fell from 0.96 to 0.63 after one epoch), and the model then read the columns by the new names."""
    rows = iris_rows()
    order = [3, 2, 1, 0, 4]  # the features reversed, the species last
    write_csv(tmp_path / "iris.csv", rows)
    write_csv(tmp_path / "reordered.csv", [[row[j] for j in order] for row in rows])
    write_csv(tmp_path / "renamed.csv", [["a", "b", "c", "d", "species"]] + rows[1:])
    monkeypatch.chdir(tmp_path)
    options = ["--hidden", "8", "--patience", "0", "--quiet", "--no-plots"]
    assert call(capsys, "train", "--data", "iris.csv", *options, "--epochs", "2", "--out", "run")[0] == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", "reordered.csv", "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, "--data: 'reordered.csv' has the feature columns 'petal_width', 'petal_length', "
                          "'sepal_width', 'sepal_length', but the resumed run trained on 'sepal_length', "
                          "'sepal_width', 'petal_length', 'petal_width', in that order (feature 1 is 'petal_width' "
                          "here, 'sepal_length' there)")
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", "renamed.csv", "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, "--data: 'renamed.csv' has the feature columns 'a', 'b', 'c', 'd'")
    # The run's own file, rewritten in another order since, is named as the checkpoint saved it.
    write_csv(tmp_path / "iris.csv", [[row[j] for j in order] for row in rows])
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "3", "--quiet")
    assert_one_line_error(code, err, "run/checkpoint.safetensors: metadata.config.data: ", "has the feature columns "
                          "'petal_width'")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before
    # The same columns in the same order resume, other rows and the label's place included.
    write_csv(tmp_path / "iris.csv", rows)
    write_csv(tmp_path / "label_first.csv", [[row[4], *row[:4]] for row in rows])
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--data", "label_first.csv", "--label", "species",
                        "--epochs", "3", "--quiet")
    assert code == 0, err


def test_a_checkpoint_of_cr_fit_is_refused_saying_to_resume_it_with_cr_fit(tmp_path, capsys):
    """With no chainrule train configuration, it used to be refused naming the checkpoint's
    architecture against the default network's."""
    X, y = iris_features()
    checkpoint = tmp_path / "fit.safetensors"
    cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, epochs=1, verbose=0, checkpoint=checkpoint)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--quiet")
    assert_one_line_error(code, err, f"{checkpoint} holds no chainrule train configuration (written by cr.fit?): "
                                     f"resume it with cr.fit(..., resume={str(checkpoint)!r})")
    # A model file without the configuration is no checkpoint, as cr.fit says.
    cr.save(cr.mlp([4, 8, 3], seed=0), tmp_path / "model.safetensors")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "model.safetensors", "--quiet")
    assert_one_line_error(code, err, "model.safetensors: not a training checkpoint")


def test_the_activation_names_of_the_usage_guide_are_those_train_takes():
    """It listed "identity (none)", and --activation none is refused."""
    text = " ".join((ROOT / "docs" / "usage.md").read_text(encoding="utf-8").split())
    listing = re.search(r"`--activation relu` .*? Names: (.*?)\. ", text).group(1)
    words = set(re.findall(r"[a-z_]+", listing)) - {"or", "no", "activation"}
    assert words == set(train_command.ACTIVATIONS)


@pytest.mark.parametrize("text, fragments", [
    ('hidden = "8,4"\nactivation = ["relu"]\n',
     ["run.toml: key 'activation': expected one name for every hidden layer, or 2 names in a list, one per hidden "
      "layer (run.toml: key 'hidden' is '8,4'), each one of relu, leaky_relu,", "got 1 name: ['relu']"]),
    ('activation = ["relu", ""]\n', ["run.toml: key 'activation':", "got ['relu', ''], which has an empty name"]),
    ('activation = ["relu", "swish"]\n', ["run.toml: key 'activation':", "got 'swish' in ['relu', 'swish']"]),
    ('activation = ["relu", 1]\n', ["run.toml: key 'activation': expected a string or a list of strings, "
                                     "got list ['relu', 1]"]),
    ('init = "he"\n', ["run.toml: key 'init': expected one of 'auto', 'glorot_normal'"]),
    ('init = ["he_normal"]\n', ["run.toml: key 'init': expected a string, got list ['he_normal']"]),
    ('hidden = [8, "4"]\n', ["run.toml: key 'hidden': expected a string or a list of integers, got list [8, '4']"]),
    ('hidden = [8, 0]\n', ["run.toml: key 'hidden': every width must be >= 1, got [8, 0]"]),
    ('hidden = [8, 4]\nactivation = ["relu"]\n', ["run.toml: key 'activation': expected one name for every hidden "
                                                  "layer, or 2 names in a list, one per hidden layer (run.toml: key "
                                                  "'hidden' is [8, 4])"]),
])
def test_bad_activations_and_inits_in_a_config_file_exit_2_naming_the_key(tmp_path, monkeypatch, capsys, text,
                                                                          fragments):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text(text)
    code, _, err = call(capsys, "train", "--config", "run.toml", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "run").exists()


def test_gradcheck_builds_the_network_train_builds(capsys, monkeypatch):
    recorded = record_initial_networks(monkeypatch, gradcheck_command, "gradcheck")
    code, out, err = call(capsys, "gradcheck", "--data", "iris", "--hidden", "5,4", "--activation", "tanh,gelu",
                          "--init", "lecun_uniform", "--samples", "4", "--max-checks", "20", "--json")
    assert code == 0, err
    assert json.loads(out)["passed"] is True
    assert_same_network(recorded[0], cr.mlp([4, 5, 4, 3], ["tanh", "gelu"], init="lecun_uniform", seed=0,
                                            dtype="float64"))


@pytest.mark.parametrize("options, fragment", [
    (["--hidden", "5,4", "--activation", "tanh"], None),
    (["--hidden", "5,4", "--activation", "tanh,gelu,relu"], "--activation: expected one name for every hidden "
                                                            "layer, or 2 names comma-separated"),
    (["--activation", "tanh,,relu"], "which has an empty name"),
    (["--init", "glorot"], "--init: expected one of 'auto', "),
])
def test_gradcheck_takes_and_refuses_the_activations_and_inits_train_does(capsys, options, fragment):
    code, out, err = call(capsys, "gradcheck", "--data", "iris", *options, "--samples", "2", "--max-checks", "5")
    if fragment is None:
        assert code == 0, err
    else:
        assert_one_line_error(code, err, fragment)


# What a run reports: metrics.json, --json and the summary --------------------------------------

def strict_json_loads(text: str):
    """json.loads that refuses NaN and Infinity, which are not JSON (Python's json writes them)."""
    def refuse(word):
        raise AssertionError(f"not strict JSON: {word}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def huge_test_row_npz(tmp_path_factory):
    """iris.npz whose first test row holds 3e38: finite in float32, but it overflows once standardized."""
    X, y = load_iris(return_X_y=True)
    X_test = X[::15].copy()
    X_test[0, 0] = 3e38
    path = tmp_path_factory.mktemp("data") / "iris-huge.npz"
    np.savez(path, X=X, y=y, X_test=X_test, y_test=y[::15])
    return path


def test_a_huge_test_row_trains_without_numpy_warnings_and_writes_strict_json(tmp_path, capsys, huge_test_row_npz):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning fails the run (and the test)
        code, out, err = call(capsys, "train", "--data", huge_test_row_npz, "--hidden", "8", "--epochs", "3",
                              "--quiet", "--no-plots", "--json", "--out", tmp_path / "run")
    assert code == 0  # and one line that says why the test loss is null (the score was silent)
    assert err == ("hint: the test loss is not finite: some test rows lie so far outside the training data that the "
                   "network overflowed on them (chainrule predict refuses such a row, naming it; the scores count it "
                   "as wrong); check the data\n")
    printed = strict_json_loads(out)
    metrics = strict_json_loads((tmp_path / "run" / "metrics.json").read_text())
    assert printed["test"]["loss"] is None is metrics["test"]["loss"]  # NaN, written as null
    assert (metrics["format"], metrics["format_version"]) == ("chainrule-metrics", 1)
    assert cr.load(tmp_path / "run" / "model.safetensors").metadata["test"] == metrics["test"]


@pytest.mark.parametrize("stored, trained", [("float32", "float64"), ("float16", "float32")])
def test_npz_features_narrower_than_the_dtype_train_without_a_numpy_warning(tmp_path, capsys, stored, trained):
    # The check for values too large for --dtype compared float32 extremes with float64's largest
    # number, which NumPy casts to float32: "RuntimeWarning: overflow encountered in cast" on stderr.
    X, y = load_iris(return_X_y=True)
    np.savez(tmp_path / "narrow.npz", X=X.astype(stored), y=y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning fails the run (and the test)
        code, out, err = call(capsys, "train", "--data", tmp_path / "narrow.npz", "--dtype", trained, "--hidden", "4",
                              "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert (code, err) == (0, "")
    assert cr.load(tmp_path / "run" / "model.safetensors").dtype == np.dtype(trained)


def test_metrics_json_and_json_output_hold_the_documented_keys(tmp_path, capsys):
    code, out, _ = call(capsys, "train", *IRIS, "--epochs", "2", "--json", "--out", tmp_path / "run")
    assert code == 0
    metrics = strict_json_loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(strict_json_loads(out)) == set(metrics) - {"format", "format_version", "history"}
    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    section = usage.split("### metrics.json", 1)[1].split("\n## ", 1)[0]
    for key in [*metrics, *metrics["history"]]:
        assert f"`{key}`" in section, f"docs/usage.md does not describe metrics.json's {key!r}"


def test_early_stopping_reports_its_best_epoch_everywhere(tmp_path, capsys, monkeypatch):
    figures = capture_figures(monkeypatch)
    options = ["--data", "iris", "--hidden", "8", "--epochs", "30", "--patience", "2", "--lr", "0.3", "--quiet"]
    code, out, _ = call(capsys, "train", *options, "--out", tmp_path / "run")
    assert code == 0
    assert "(30 test samples, 9 epochs, early stopping; weights of best epoch 7 restored); run folder: " in out
    metrics = strict_json_loads((tmp_path / "run" / "metrics.json").read_text())
    assert (metrics["epochs"], metrics["best_epoch"], metrics["best_weights_restored"]) == (9, 7, True)
    assert cr.load(tmp_path / "run" / "model.safetensors").metadata["training"]["best_epoch"] == 7
    history_figure = figures[0]
    assert suptitle(history_figure) == f"Training history: iris, {tmp_path / 'run'}"
    best = [line for line in history_figure.axes[0].get_lines() if line.get_label() == "best epoch (restored)"]
    assert len(best) == 1 and list(best[0].get_xdata()) == [7, 7]
    assert suptitle(figures[1]) == f"Gradient flow: iris, {tmp_path / 'run'}"

    code, out, _ = call(capsys, "train", *options, "--no-plots", "--json", "--out", tmp_path / "again")
    assert (strict_json_loads(out)["best_epoch"], strict_json_loads(out)["best_weights_restored"]) == (7, True)


def test_without_early_stopping_there_is_no_best_epoch(tmp_path, capsys):
    code, out, _ = call(capsys, "train", *IRIS, "--epochs", "2", "--json", "--out", tmp_path / "run")
    assert code == 0
    assert (json.loads(out)["best_epoch"], json.loads(out)["best_weights_restored"]) == (None, False)


def test_a_run_folder_deleted_during_training_is_named_in_one_line(tmp_path, capsys, monkeypatch):
    run_epoch = Loop.run_epoch

    def run_epoch_after_deleting_the_folder(loop, number, bar):
        if number == 2:
            shutil.rmtree(tmp_path / "out" / "run")  # rm -rf while the run writes there
        return run_epoch(loop, number, bar)

    monkeypatch.setattr(Loop, "run_epoch", run_epoch_after_deleting_the_folder)
    code, out, err = call(capsys, "train", *IRIS, "--epochs", "3", "--out", tmp_path / "out" / "run")
    assert_one_line_error(code, err, f"{tmp_path / 'out' / 'run' / 'checkpoint.safetensors'}: cannot write",
                          "does not exist")
    assert out == "" and not (tmp_path / "out").exists()  # the folder above it, this run's too, is removed


def test_a_finished_or_refused_run_leaves_no_lock_in_its_folder(tmp_path, capsys):
    code, _, _ = call(capsys, "train", *IRIS, "--epochs", "2", "--no-plots", "--out", tmp_path / "done")
    assert code == 0 and not (tmp_path / "done" / ".chainrule-run.lock").exists()
    code, _, _ = call(capsys, "train", *IRIS, "--epochs", "2", "--lr", "1e300", "--out", tmp_path / "diverged")
    assert code != 0 and not (tmp_path / "diverged").exists()


def test_regression_targets_far_from_zero_learn_with_standardize_targets_and_without_it_get_a_hint(tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    header = [f"x{i}" for i in range(10)] + ["y"]
    write_csv(tmp_path / "far.csv", [header] + [[*row, value + 1e6] for row, value in zip(X, y)])
    options = ["--hidden", "8", "--epochs", "60", "--quiet", "--no-plots"]
    code, out, err = call(capsys, "train", "--data", tmp_path / "far.csv", *options, "--out", tmp_path / "raw")
    assert code == 0 and float(re.match(r"test R² (-?[\d.e+]+)", out).group(1)) < -1e6
    assert "hint: a test R² below 0" in err and "--standardize-targets" in err
    code, out, err = call(capsys, "train", "--data", tmp_path / "far.csv", *options, "--standardize-targets",
                          "--out", tmp_path / "run")
    assert code == 0, err
    assert float(re.match(r"test R² (-?\d\.\d{4})", out).group(1)) > 0.3 and "hint" not in err
    model = cr.load(tmp_path / "run" / "model.safetensors")
    assert abs(model.preprocessor.target_mean[0] - 1e6) < 200
    code, out, err = call(capsys, "info", tmp_path / "run" / "model.safetensors")
    assert "targets standardized: mean 1.00015e+06, scale 77" in out


def test_standardize_targets_is_refused_for_class_labels(tmp_path, capsys):
    code, out, err = call(capsys, "train", "--data", "iris", "--standardize-targets", "--epochs", "1", "--quiet",
                          "--no-plots", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--standardize-targets: the loss", "it is for regression")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_standardize_targets_from_a_config_file_is_refused_for_class_labels_naming_the_key(tmp_path, capsys, command):
    # was blamed on --standardize-targets, an option gradcheck does not have
    config = tmp_path / "run.toml"
    config.write_text('data = "iris"\nstandardize_targets = true\n')
    code, out, err = call(capsys, command, "--config", config)
    assert_one_line_error(code, err, f"{config}: key 'standardize_targets': the loss cross_entropy trains for "
                                     f"classification")
    assert out == ""


def test_class_labels_are_not_standardized(iris_run):
    assert cr.load(iris_run / "model.safetensors").preprocessor.target_mean is None


def test_a_test_size_of_1_is_refused_naming_the_option(tmp_path, capsys):
    code, _, err = call(capsys, "train", "--test-size", "1", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--test-size: expected a fraction in (0, 1), got 1.0")
    assert not (tmp_path / "run").exists()


def test_binary_cross_entropy_refuses_labels_below_0():
    from types import SimpleNamespace

    data = SimpleNamespace(y_train=np.array([-1.0, 1.0, 1.0]), name="signs.csv")
    with pytest.raises(cr.ConfigError, match="labels of signs.csv range from -1 to 1"):
        train_command.check_binary_labels(data, "--loss")


def test_the_model_file_records_the_number_of_test_rows(tmp_path, capsys):
    assert call(capsys, "train", "--data", "iris", "--epochs", "1", "--quiet", "--out", tmp_path / "run")[0] == 0
    assert cr.load(tmp_path / "run" / "model.safetensors").metadata["data"]["n_test"] == 30  # a fifth of 150


@pytest.mark.parametrize("source, named", [("option", "--weight-decay"), ("config", "wd.toml: key 'weight_decay'")])
def test_a_weight_decay_past_the_dtype_is_named_as_given(tmp_path, capsys, monkeypatch, source, named):
    """The optimizer's check (1e39 past float32) named weight_decay, neither the option nor the key."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wd.toml").write_text("weight_decay = 1e39\n")
    given = ["--weight-decay", "1e39"] if source == "option" else ["--config", "wd.toml"]
    code, out, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--out", "run", *given)
    assert_one_line_error(code, err, f"chainrule: error: {named}: 1e+39 is past float32's largest number")
    assert not (tmp_path / "run").exists()


def test_a_dollar_pair_in_the_run_folder_is_no_plot_math(tmp_path, capsys):
    """matplotlib read 'cost$_$' in the plots' titles as math: an internal error (exit 1) once the
    model was written, and no plots."""
    code, out, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--quiet",
                          "--out", tmp_path / "cost$_$")
    assert (code, err) == (0, "")
    assert {"history.png", "gradient_flow.png"} <= {path.name for path in (tmp_path / "cost$_$").iterdir()}


def test_a_config_files_data_path_holding_a_nul_character_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nul.toml").write_text('data = "ir\\u0000is.csv"\n')
    code, out, err = call(capsys, "train", "--config", "nul.toml", "--epochs", "1")
    assert_one_line_error(code, err, r"nul.toml: key 'data': 'ir\x00is.csv': a path holding a NUL character")


@pytest.mark.parametrize("out", ["loop1", "loop1/sub"])
def test_a_run_folder_in_a_loop_of_symbolic_links_is_named(tmp_path, capsys, monkeypatch, out):
    # Path.resolve raised RuntimeError ("Symlink loop"): an internal error, exit 1; from Python 3.13 it
    # raises nothing and the loop was met at the lock file, named as that file's ELOOP
    monkeypatch.chdir(tmp_path)
    os.symlink("loop1", "loop2")
    os.symlink("loop2", "loop1")
    code, _, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--out", out)
    assert_one_line_error(code, err,
                          f"{out}: cannot be a run folder: its path does not resolve (a loop of symbolic links)")


@pytest.mark.parametrize("out", ["link41", "link41/sub"])
def test_a_run_folder_behind_more_links_than_the_system_follows_is_no_loop(tmp_path, capsys, monkeypatch, out):
    """41 links, each to the one before it, end in a folder: the system refuses them (ELOOP, as it
    refuses a loop), and the run folder was named "a loop of symbolic links"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    os.symlink("runs", "link1")
    for number in range(2, 42):
        os.symlink(f"link{number - 1}", f"link{number}")
    assert os.path.isdir("link40") and not os.path.exists("link41")  # Linux follows 40
    code, _, err = call(capsys, "train", "--data", "iris", "--epochs", "1", "--out", out)
    assert_one_line_error(code, err, f"{out}: cannot be a run folder: its path does not resolve (a chain of more "
                                     f"symbolic links than the system follows)")
    assert not any((tmp_path / "runs").iterdir())


def test_resuming_through_a_link_to_a_checkpoint_continues_its_run_in_its_folder(tmp_path, capsys, monkeypatch):
    """The link's folder was taken for the run folder: refused as an --out (not given) holding files,
    with a hint to run the command just refused."""
    monkeypatch.chdir(tmp_path)
    assert call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", "run")[0] == 0
    (tmp_path / "L").mkdir()
    os.symlink("../run/checkpoint.safetensors", tmp_path / "L" / "checkpoint.safetensors")
    code, out, err = call(capsys, "train", "--resume", "L/checkpoint.safetensors", "--epochs", "2", "--quiet")
    assert (code, err) == (0, "")
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"] == 2
    assert sorted(path.name for path in (tmp_path / "L").iterdir()) == ["checkpoint.safetensors"]
