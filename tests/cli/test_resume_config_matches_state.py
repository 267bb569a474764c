"""chainrule train --resume of a checkpoint whose run's configuration says another thing than the training
state it holds: a checkpoint without a stored configuration (written before chainrule stored it) resumed
with the config.toml beside it, another run's or edited since, or a checkpoint whose own metadata.config
was altered. The refusal names the key where the value came from and both values; it was cr.fit's, naming
a checkpoint field and no key (``the checkpoint was trained with 'Adam', not SGD``), or blaming the data
for the loss's outputs."""

import re

import pytest

from chainrule.io import read, save

from .helpers import assert_one_line_error, call

CHANGES = [  # config.toml's line as edited, and what the refusal says after the key
    ("seed = 5", "5 differs from the checkpoint's 0 (checkpoint field seed)"),
    ("shuffle = false", "False differs from the checkpoint's True (checkpoint field shuffle)"),
    ('optimizer = "sgd"', "'sgd' differs from the checkpoint's 'adam' (checkpoint field optimizer.type)"),
    ('dtype = "float64"', "'float64' differs from the checkpoint's 'float32' (its weights' dtype)"),
    ('init = "glorot_uniform"', "'glorot_uniform' differs from the checkpoint's 'auto' (architecture: init of its "
                                "Linear layers)"),
    ("patience = 0", "0 differs from the checkpoint's run, which trained with early stopping (checkpoint field "
                     "callback_types)"),
    ("validation = 0.0", "0.0 differs from the checkpoint's run, which held out a validation set (checkpoint field "
                         "validation)"),
    ('loss = "mse"', "'mse' (MSE) differs from the checkpoint's run's SoftmaxCrossEntropy (checkpoint field loss)"),
]


@pytest.fixture
def old_run(tmp_path, capsys):
    """A run folder whose checkpoint holds no configuration, as chainrule train saved it before it stored one."""
    folder = tmp_path / "run"
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--validation", "0.2",
                        "--patience", "3", "--quiet", "--no-plots", "--out", folder)
    assert code == 0, err
    checkpoint = folder / "checkpoint.safetensors"
    model, tensors, extra = read(checkpoint)
    del model.metadata["config"]
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra, seal=True)
    return folder


@pytest.mark.parametrize("line, differs", CHANGES, ids=[line.split(" = ")[0] for line, _ in CHANGES])
def test_a_config_toml_beside_an_old_checkpoint_that_differs_from_its_state_names_the_key(old_run, capsys, line,
                                                                                          differs):
    key = line.split(" = ")[0]
    config = old_run / "config.toml"
    config.write_text(re.sub(rf"(?m)^{key} = .*$", line, config.read_text()))
    checkpoint = old_run / "checkpoint.safetensors"
    before = checkpoint.read_bytes()
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: {config}: key '{key}': {differs}; {config} is not the "
                                     f"configuration of the run that wrote the checkpoint {checkpoint} (edited since, "
                                     f"or another run's): set {key} there as the checkpoint holds it")
    assert checkpoint.read_bytes() == before


def test_a_config_toml_beside_an_old_checkpoint_as_its_run_wrote_it_resumes(old_run, capsys):
    code, _, err = call(capsys, "train", "--resume", old_run / "checkpoint.safetensors", "--epochs", "2", "--quiet")
    assert code == 0, err


def test_a_checkpoints_own_configuration_that_differs_from_its_state_names_the_key(old_run, tmp_path, capsys):
    run = tmp_path / "new"
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                        "--out", run)
    assert code == 0, err
    checkpoint = run / "checkpoint.safetensors"
    model, tensors, extra = read(checkpoint)
    model.metadata["config"]["optimizer"] = "rmsprop"
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra, seal=True)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: {checkpoint}: metadata.config.optimizer: 'rmsprop' differs "
                                     f"from the checkpoint's 'adam' (checkpoint field optimizer.type); the file was "
                                     f"altered or damaged")


@pytest.mark.parametrize("line", ["test_size = 0.3", "validation = 0.1"])
def test_a_config_toml_beside_an_old_checkpoint_holding_out_other_rows_names_the_keys_that_chose_them(old_run, capsys,
                                                                                                      line):
    # the checkpoint records neither fraction: cr.fit's refusal of another validation set named no key
    key, value = line.split(" = ")
    config = old_run / "config.toml"
    config.write_text(re.sub(rf"(?m)^{key} = .*$", line, config.read_text()))
    checkpoint = old_run / "checkpoint.safetensors"
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: --resume: {checkpoint}: validation: the checkpoint's run held "
                                     f"out a different validation set", "; this run held out its rows by seed 0 "
                                     f"({config}: key 'seed'), ", f"{key} {value} ({config}: key '{key}')")
