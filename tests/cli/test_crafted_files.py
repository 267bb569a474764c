"""Crafted files and huge values given to the commands: each is refused in one line (exit 2)
naming the file and key, or the option, before anything large is allocated."""

import contextlib
import io
import json
import shutil

import pytest

from chainrule.cli import main, train as train_command
from chainrule.io import read, save

from .helpers import assert_one_line_error, call, iris_rows, write_csv


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The run folder of a one-epoch 4-16-3 iris run (its checkpoint and model file)."""
    folder = tmp_path_factory.mktemp("runs") / "iris"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["train", "--data", "iris", "--hidden", "16", "--epochs", "1", "--patience", "0",
                     "--quiet", "--no-plots", "--out", str(folder)])
    assert code == 0
    return folder


def rewritten(source, target, change):
    """``target``: a copy of the model file or checkpoint ``source`` whose model ``change(model)`` altered."""
    model, tensors, extra = read(source)
    change(model)
    save(model, target, extra_tensors=tensors, extra_json=extra)
    return target


def with_config(key, value):
    def change(model):
        model.metadata["config"][key] = value
    return change


# --hidden too wide to build -------------------------------------------------------------------

@pytest.mark.parametrize("options, fragment", [
    (["--hidden", "99999999999"],
     "--hidden: the network [4, 99999999999, 3] has 799,999,999,995 parameters (3,200,000.0 MB)"),
    (["--hidden", "2147483647,2147483647"], "--hidden: the network [4, 2147483647, 2147483647, 3]"),
])
def test_a_network_larger_than_the_memory_is_refused_naming_hidden(tmp_path, capsys, options, fragment):
    """It raised MemoryError: "internal error", exit 1."""
    code, _, err = call(capsys, "train", "--data", "iris", *options, "--quiet", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, fragment, "of memory available")
    assert "MB" in line
    assert not (tmp_path / "run").exists()


def test_hidden_widths_from_a_config_file_are_named_by_key(tmp_path, capsys):
    (tmp_path / "wide.toml").write_text("hidden = [2147483647, 2147483647]\n")
    code, _, err = call(capsys, "train", "--data", "iris", "--config", tmp_path / "wide.toml", "--quiet",
                        "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{tmp_path / 'wide.toml'}: key 'hidden': the network")


def test_a_network_whose_allocation_fails_is_refused_naming_hidden(tmp_path, capsys, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(train_command, "mlp", out_of_memory)
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "3000,3000", "--quiet",
                        "--out", tmp_path / "run")  # passes the count before building: the allocation fails
    assert_one_line_error(code, err, "--hidden: '3000,3000': 9,027,003 parameters (36.1 MB) do not fit")
    assert not (tmp_path / "run").exists()


# --resume of a checkpoint whose configuration was altered -------------------------------------

@pytest.mark.parametrize("key, value, fragment", [
    ("hidden", "99999999999", "metadata.config.hidden: '99999999999' differs from the checkpoint's own network, "
                              "whose hidden widths are [16]"),
    ("hidden", [16, 16], "metadata.config.hidden: [16, 16] differs"),
    ("activation", "tanh", "metadata.config.activation: 'tanh' differs from the checkpoint's own network, "
                           "whose activations are ['ReLU']"),
])
def test_a_checkpoint_whose_configuration_is_not_its_network_is_refused(small_run, tmp_path, capsys,
                                                                         key, value, fragment):
    """hidden "99999999999" was compared with the command line only, and built: MemoryError."""
    checkpoint = rewritten(small_run / "checkpoint.safetensors", tmp_path / "ck.safetensors", with_config(key, value))
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{checkpoint}: {fragment}")
    assert not (tmp_path / "run").exists()


def test_a_checkpoint_whose_configuration_agrees_with_its_network_resumes(small_run, tmp_path, capsys):
    checkpoint = rewritten(small_run / "checkpoint.safetensors", tmp_path / "ck.safetensors",
                           with_config("activation", ["relu"]))
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet", "--no-plots",
                        "--out", tmp_path / "run")
    assert code == 0, err


@pytest.mark.parametrize("value", ["a string", [1, 2], 5])
def test_a_checkpoint_configuration_that_is_no_table_is_refused(small_run, tmp_path, capsys, value):
    """It was an internal error: 'str' object has no attribute 'items'."""
    def change(model):
        model.metadata["config"] = value
    checkpoint = rewritten(small_run / "checkpoint.safetensors", tmp_path / "ck.safetensors", change)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{checkpoint}: metadata.config: expected a table")


@pytest.mark.parametrize("key, value, options, fragment", [
    ("epochs", "5", [], "metadata.config.epochs: expected an integer, got str '5'"),
    ("epoch", 5, [], "metadata.config: unknown key 'epoch'; expected one of data, label, hidden"),
    ("lr", -1.0, [], "metadata.config.lr: expected a number > 0, got -1.0"),
    ("hidden", "16,", [], "metadata.config.hidden: expected comma-separated integers"),
    ("dtype", "float16", ["--dtype", "float32"], "metadata.config.dtype: "),
])
def test_a_checkpoint_configuration_key_is_named_as_metadata_config_key(small_run, tmp_path, capsys,
                                                                          key, value, options, fragment):
    """They were named as a TOML file's keys: `ck.safetensors: key 'epochs': expected an integer`."""
    checkpoint = rewritten(small_run / "checkpoint.safetensors", tmp_path / "ck.safetensors", with_config(key, value))
    code, _, err = call(capsys, "train", "--resume", checkpoint, *options, "--quiet", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, f"{checkpoint}: {fragment}")
    assert "key '" not in line.replace("unknown key 'epoch'", "")
    assert not (tmp_path / "run").exists()


# evaluate/predict of a model file whose saved split is not one train writes -----------------------

@pytest.mark.parametrize("key, value, expected", [
    ("seed", "abc", "metadata.config.seed: expected an integer >= 0, got 'abc'"),
    ("seed", -5, "metadata.config.seed: expected an integer >= 0, got -5"),
    ("seed", 1.5, "metadata.config.seed: expected an integer >= 0, got 1.5"),
    ("seed", "a" * 10**5, "metadata.config.seed: expected an integer >= 0, got 'aaaa"),
    ("test_size", "0.2", "metadata.config.test_size: expected a fraction in (0, 1), got '0.2'"),
    ("test_size", 0, "metadata.config.test_size: expected a fraction in (0, 1), got 0"),
    ("test_size", None, "metadata.config.test_size: expected a fraction in (0, 1), got None"),
])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_saved_split_value_train_would_refuse_is_named_by_file_and_key(small_run, tmp_path, capsys, command,
                                                                          key, value, expected):
    """They were named as the option (`seed: expected an integer >= 0, got 'abc'`), without the file."""
    model = rewritten(small_run / "model.safetensors", tmp_path / "model.safetensors", with_config(key, value))
    code, _, err = call(capsys, command, model, "iris")
    line = assert_one_line_error(code, err, f"{model}: {expected}")
    assert len(line) < 400


@pytest.mark.parametrize("value", ["a string", [1, 2], 5])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_model_configuration_that_is_no_table_is_refused_by_evaluate_and_predict(small_run, tmp_path, capsys,
                                                                                     command, value):
    """It was taken for no configuration: the default split, not the model's."""
    def change(model):
        model.metadata["config"] = value
    model = rewritten(small_run / "model.safetensors", tmp_path / "model.safetensors", change)
    code, _, err = call(capsys, command, model, "iris")
    assert_one_line_error(code, err, f"{model}: metadata.config: expected a table of chainrule train's "
                                     f"configuration (a JSON object), got {type(value).__name__}")


def test_a_model_configuration_that_is_no_table_is_refused_when_evaluate_reads_a_csv(small_run, tmp_path, capsys):
    """It was taken for no configuration: the CSV scored whole, not as the model's training file."""
    def change(model):
        model.metadata["config"] = "a string"
    model = rewritten(small_run / "model.safetensors", tmp_path / "model.safetensors", change)
    code, _, err = call(capsys, "evaluate", model, write_csv(tmp_path / "iris.csv", iris_rows()))
    assert_one_line_error(code, err, f"{model}: metadata.config: expected a table")


def test_a_checkpoint_whose_gradient_norms_name_no_layer_is_refused_before_training(small_run, tmp_path, capsys):
    """It trained, then failed drawing gradient_flow.png, leaving a half-written run folder."""
    model, tensors, extra = read(small_run / "checkpoint.safetensors")
    extra["history"]["grad_norms"]["../../x"] = [1.0]
    checkpoint = tmp_path / "ck.safetensors"
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{checkpoint}: checkpoint field history.grad_norms: '../../x' is not a layer")
    assert not (tmp_path / "run").exists()


def test_a_data_path_longer_than_any_file_name_is_refused_in_one_line(tmp_path, capsys):
    """It raised OSError (ENAMETOOLONG) from is_dir: "internal error", exit 1."""
    (tmp_path / "long.toml").write_text(f"data = '/tmp/{'a' * 10**6}'\n")
    code, _, err = call(capsys, "train", "--config", tmp_path / "long.toml", "--quiet", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, "a path of 1,000,005 characters, longer than any file name (4096)")
    assert len(line) < 300


def test_an_escape_sequence_in_a_crafted_checkpoint_reaches_the_terminal_escaped(small_run, tmp_path, capsys):
    """The error line quotes the checkpoint's optimizer name, which set the terminal's title and cleared it."""
    model, tensors, extra = read(small_run / "checkpoint.safetensors")
    extra["optimizer"]["type"] = "\x1b]0;owned\x07\x1b[2J"
    save(model, tmp_path / "ck.safetensors", extra_tensors=tensors, extra_json=extra)
    code, _, err = call(capsys, "train", "--resume", tmp_path / "ck.safetensors", "--out", tmp_path / "out")
    assert_one_line_error(code, err,
                          r"ck.safetensors: the checkpoint was trained with '\x1b]0;owned\x07\x1b[2J', not Adam")
    assert "\x1b" not in err and "\x07" not in err


def test_a_crafted_first_epoch_loss_in_a_run_folders_checkpoint_is_quoted_in_part(small_run, tmp_path, capsys):
    """The folder check named the folder's epoch-1 loss whole: a checkpoint's loss of 100,000 characters made the
    error line as long."""
    folder = tmp_path / "b"
    shutil.copytree(small_run, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    del metrics["run_id"]  # a run of before run ids: told apart by the loss of epoch 1
    (folder / "metrics.json").write_text(json.dumps(metrics))
    shutil.copy(small_run / "checkpoint.safetensors", folder / "a.safetensors")
    model, tensors, extra = read(small_run / "checkpoint.safetensors")
    ours = extra["history"]["metrics"]["loss"][0]
    extra["history"]["metrics"]["loss"][0] = "x" * 100_000
    del model.metadata["run_id"]  # nor does its checkpoint record one
    save(model, folder / "checkpoint.safetensors", extra_tensors=tensors, extra_json=extra)
    code, _, err = call(capsys, "train", "--resume", folder / "a.safetensors", "--epochs", "2")
    line = assert_one_line_error(code, err, "its checkpoint.safetensors recorded a loss of 'xxx",
                                 f"... in epoch 1, the checkpoint's run {ours!r}; ", "pass --out DIR")
    assert len(line) < 1000
