"""chainrule train --resume of a checkpoint whose run's configuration says another thing than the training
state it holds: a checkpoint without a stored configuration (written before chainrule stored it) resumed
with the config.toml beside it, another run's or edited since, or a checkpoint whose own metadata.config
was altered. The refusal names the key where the value came from and both values; it was cr.fit's, naming
a checkpoint field and no key (``the checkpoint was trained with 'Adam', not SGD``), or blaming the data
for the loss's outputs."""

import re

import pytest

from chainrule.cli.resume_checks import training_rows
from chainrule.data.load import read_data, with_test_part
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


def run_without_stored_configuration(folder, capsys, *options):
    """A run of iris trained for one epoch into ``folder`` with ``options``, its checkpoint written again without
    its configuration, as chainrule train saved it before it stored one."""
    code, _, err = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", *options, "--quiet",
                        "--no-plots", "--out", folder)
    assert code == 0, err
    checkpoint = folder / "checkpoint.safetensors"
    model, tensors, extra = read(checkpoint)
    del model.metadata["config"]
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra, seal=True)
    return folder


@pytest.fixture
def old_run(tmp_path, capsys):
    """A run folder whose checkpoint holds no configuration, as chainrule train saved it before it stored one."""
    return run_without_stored_configuration(tmp_path / "run", capsys, "--validation", "0.2", "--patience", "3")


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


@pytest.mark.parametrize("line", ["validation = 0.1"])  # test_size: its counts of rows tell it first (below)
def test_a_config_toml_beside_an_old_checkpoint_holding_out_other_rows_names_the_keys_that_chose_them(old_run, capsys,
                                                                                                      line):
    # the checkpoint records no fraction: cr.fit's refusal of another validation set named no key
    key, value = line.split(" = ")
    config = old_run / "config.toml"
    config.write_text(re.sub(rf"(?m)^{key} = .*$", line, config.read_text()))
    checkpoint = old_run / "checkpoint.safetensors"
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: --resume: {checkpoint}: validation: the checkpoint's run held "
                                     f"out a different validation set", "; this run held out its rows by seed 0 "
                                     f"({config}: key 'seed'), ", f"{key} {value} ({config}: key '{key}')")


@pytest.fixture
def old_run_without_validation(tmp_path, capsys):
    """As ``old_run``, of a run without a validation set: its checkpoint records no validation rows, which cr.fit
    would compare."""
    return run_without_stored_configuration(tmp_path / "run", capsys)


@pytest.mark.parametrize("run", ["old_run_without_validation", "old_run"])
def test_a_config_toml_beside_an_old_checkpoint_with_another_test_size_names_the_key(request, capsys, run):
    """Without a validation set it resumed, exit 0, training on 105 rows of which 15 the run had held out for
    testing: the checkpoint recorded nothing of the rows it trained on. With one, cr.fit's refusal of another
    validation set listed the keys that choose the rows, not the one changed."""
    folder = request.getfixturevalue(run)
    config, checkpoint = folder / "config.toml", folder / "checkpoint.safetensors"
    config.write_text(re.sub(r"(?m)^test_size = .*$", "test_size = 0.3", config.read_text()))
    before = checkpoint.read_bytes()
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"chainrule: error: {config}: key 'test_size': 0.3 leaves 105 training rows and "
                                     f"45 test rows of 'iris', but the resumed run kept 120 training rows and 30 test "
                                     f"rows ({checkpoint}: metadata.data.n_train, metadata.data.n_test); {config} is "
                                     f"not the configuration of the run that wrote the checkpoint {checkpoint} (edited "
                                     f"since, or another run's): set test_size there as the run had it")
    assert checkpoint.read_bytes() == before


def test_an_older_checkpoint_without_the_training_rows_record_is_compared_by_its_test_rows_or_resumes(
        old_run_without_validation, capsys):
    """A checkpoint written before chainrule recorded n_train and train_rows: its n_test (recorded with the test
    scores) still tells another test_size; without it too, it resumes unchecked, as before."""
    folder = old_run_without_validation
    config, checkpoint = folder / "config.toml", folder / "checkpoint.safetensors"
    model, tensors, extra = read(checkpoint)
    del model.metadata["data"]["n_train"], model.metadata["data"]["train_rows"]
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra, seal=True)
    config.write_text(re.sub(r"(?m)^test_size = .*$", "test_size = 0.3", config.read_text()))
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert_one_line_error(code, err, f"{config}: key 'test_size': 0.3 leaves 45 test rows of 'iris', but the resumed "
                                     f"run kept 30 test rows ({checkpoint}: metadata.data.n_test); ")
    del model.metadata["data"]["n_test"]
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra, seal=True)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    assert code == 0, err


def test_the_same_counts_of_other_training_rows_are_refused_naming_the_keys_that_chose_them(
        old_run_without_validation, capsys):
    """The rows themselves, not only their counts: here a checksum the file records for other rows (as a built-in
    data set changed since, or a split made otherwise, would give)."""
    checkpoint = old_run_without_validation / "checkpoint.safetensors"
    model, tensors, extra = read(checkpoint)
    model.metadata["data"]["train_rows"] = "0123456789abcdef"
    save(model, checkpoint, extra_tensors=tensors, extra_json=extra, seal=True)
    code, _, err = call(capsys, "train", "--resume", checkpoint, "--epochs", "2", "--quiet")
    config = old_run_without_validation / "config.toml"
    assert_one_line_error(code, err, f"chainrule: error: {config}: key 'data': 'iris' leaves as many training rows as "
                                     f"the resumed run kept, but other rows (checksum ", f"the run's 0123456789abcdef: "
                                     f"{checkpoint}: metadata.data.train_rows), chosen by seed 0 ({config}: key "
                                     f"'seed'), test_size 0.2 ({config}: key 'test_size'); the resumed run would train "
                                     f"on rows it held out for testing")


def test_a_run_records_its_training_rows_and_resumes_with_them(old_run_without_validation, capsys):
    """The checksum of the rows its split by seed 0 and test_size 0.2 left for training, not of another split's."""
    model = read(old_run_without_validation / "model.safetensors")[0]
    data = model.metadata["data"]
    assert (data["n_train"], data["n_test"]) == (120, 30) and re.fullmatch("[0-9a-f]{16}", data["train_rows"])
    splits = {seed: with_test_part(read_data("iris"), "iris", test_size=0.2, seed=seed) for seed in (0, 1)}
    assert data["train_rows"] == training_rows(splits[0].X_train, splits[0].y_train)
    assert data["train_rows"] != training_rows(splits[1].X_train, splits[1].y_train)
    code, _, err = call(capsys, "train", "--resume", old_run_without_validation / "checkpoint.safetensors",
                        "--epochs", "2", "--quiet")
    assert code == 0, err
