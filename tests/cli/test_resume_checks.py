"""chainrule.cli.resume_checks: ``chainrule train --resume`` continues the run its checkpoint
saved, or says which key would change it and where that key's value came from."""

import re

import pytest

import chainrule as cr
from chainrule.cli.config import SavedConfig, TrainConfig
from chainrule.cli.resume_checks import (check_config_matches_network, check_epochs_cover, check_same_hidden,
                                         check_same_columns, check_same_network, check_same_shuffle,
                                         check_same_split,
                                         check_same_target_standardization, check_same_widths, mlp_layers,
                                         resumed_config)
from chainrule.errors import ConfigError, HyperparameterError, ModelFileError
from chainrule.training.checkpoint import CheckpointFile

SAVED = SavedConfig("ck.safetensors")


def checkpoint(tmp_path, model, config=None):
    """A checkpoint as ``read_checkpoint`` gives it, of ``model`` with ``config`` saved in its metadata."""
    if config is not None:
        model.metadata["config"] = config
    return CheckpointFile(tmp_path / "ck.safetensors", model, {}, {})


def test_mlp_layers_gives_the_hidden_widths_and_activation_types():
    assert mlp_layers(cr.mlp([4, 8, 6, 3], activation="tanh", seed=0)) == ([8, 6], [cr.Tanh, cr.Tanh])
    assert mlp_layers(cr.mlp([4, 3], seed=0)) == ([], [])


@pytest.mark.parametrize("model", [
    cr.Sequential(cr.Linear(4, 8), cr.ReLU()),  # ends in an activation
    cr.Sequential(cr.Linear(4, 8), cr.Linear(8, 3)),  # no activation between
    cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.ReLU(), cr.Linear(8, 3)),
    cr.Linear(4, 3),  # not a Sequential
    cr.Sequential(),
])
def test_mlp_layers_is_none_for_another_network(model):
    assert mlp_layers(model) is None


def test_the_checkpoints_own_configuration_comes_first(tmp_path):
    (tmp_path / "config.toml").write_text('hidden = "2"\n')
    values, source = resumed_config(checkpoint(tmp_path, cr.mlp([4, 3], seed=0), {"hidden": "8"}))
    assert values == {"hidden": "8"} and str(source) == f"{tmp_path / 'ck.safetensors'}: metadata.config"


def test_config_toml_beside_the_checkpoint_is_read_else_it_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"holds no chainrule train configuration \(written by cr.fit\?\)"):
        resumed_config(checkpoint(tmp_path, cr.mlp([4, 3], seed=0)))
    (tmp_path / "config.toml").write_text('hidden = "2"\n')
    assert resumed_config(checkpoint(tmp_path, cr.mlp([4, 3], seed=0))) == ({"hidden": "2"},
                                                                           str(tmp_path / "config.toml"))


def test_a_saved_configuration_that_differs_from_the_network_is_refused_as_damage(tmp_path):
    held = checkpoint(tmp_path, cr.mlp([4, 8, 3], seed=0))
    check_config_matches_network(held, {"hidden": "8", "activation": "relu"}, SAVED)
    with pytest.raises(ModelFileError, match=r"ck.safetensors: metadata.config.hidden: .*hidden widths are \[8\]"):
        check_config_matches_network(held, {"hidden": "99999999999"}, SAVED)
    with pytest.raises(ModelFileError, match="metadata.config.activation: 'tanh' differs .*activations are"):
        check_config_matches_network(held, {"hidden": "8", "activation": "tanh"}, SAVED)
    with pytest.raises(ModelFileError, match="not a multi-layer perceptron"):
        check_config_matches_network(checkpoint(tmp_path, cr.Sequential(cr.ReLU())), {}, SAVED)


def test_other_hidden_widths_are_refused_but_another_spelling_is_not():
    check_same_hidden({"hidden": "8,4"}, SAVED, TrainConfig(hidden="8, 4"), {})
    check_same_hidden({}, SAVED, TrainConfig(hidden="16"), {})  # nothing saved to compare with
    with pytest.raises(ConfigError, match="--hidden: '16' differs from the resumed run's '8,4'"):
        check_same_hidden({"hidden": "8,4"}, SAVED, TrainConfig(hidden="16"), {"hidden": None})


def test_a_long_value_changed_on_resume_is_quoted_cut():
    """Its whole repr was the message: --hidden of 40,000 widths made an 80,000-character line."""
    widths = ",".join(["8"] * 40_000)
    with pytest.raises(ConfigError) as caught:
        check_same_hidden({"hidden": "4"}, SAVED, TrainConfig(hidden=widths), {"hidden": None})
    assert str(caught.value).startswith("--hidden: '8,8,8,") and len(str(caught.value)) < 300
    with pytest.raises(ConfigError) as caught:
        check_same_network({"hidden": widths, "activation": "tanh"}, SAVED,
                           TrainConfig(hidden=widths, activation=["relu"] * 40_000), {"activation": None})
    assert str(caught.value).startswith("--activation: ['relu', 'relu', ") and len(str(caught.value)) < 300


def test_another_shuffle_is_refused_naming_where_the_value_came_from():
    check_same_shuffle({"shuffle": False}, SAVED, TrainConfig(shuffle=False), {})
    check_same_shuffle({}, SAVED, TrainConfig(), {})  # saved before the key: the run shuffled
    with pytest.raises(ConfigError, match=r"^--no-shuffle: shuffle=False differs from the resumed run's shuffle=True, "
                                          r"which took its training rows in a new random order every epoch; .*"
                                          r"resume without changing shuffle$"):
        check_same_shuffle({}, SAVED, TrainConfig(shuffle=False), {"shuffle": None})
    with pytest.raises(ConfigError, match=r"^run.toml: key 'shuffle': shuffle=True differs from the resumed run's "
                                          r"shuffle=False, which took its training rows in the data's order"):
        check_same_shuffle({"shuffle": False}, SAVED, TrainConfig(shuffle=True), {"shuffle": "run.toml"})


def test_a_changed_split_is_refused_naming_where_the_value_came_from():
    check_same_split({"seed": 3}, SAVED, TrainConfig(seed=3), {})
    with pytest.raises(ConfigError, match="run.toml: key 'seed': 4 differs from the resumed run's 3; it chooses"):
        check_same_split({"seed": 3}, SAVED, TrainConfig(seed=4), {"seed": "run.toml"})
    with pytest.raises(ConfigError, match="--validation: 0.2 differs from the resumed run's 0.1"):
        check_same_split({"validation": 0.1}, SAVED, TrainConfig(validation=0.2), {})


def test_a_changed_network_is_refused_but_another_spelling_is_not():
    check_same_network({"dtype": "float32", "activation": "relu"}, SAVED, TrainConfig(dtype="f4"), {})
    check_same_network({"init": "glorot_uniform"}, SAVED, TrainConfig(init="xavier_uniform"), {})  # an alias
    check_same_network({"hidden": "8,4", "activation": "sigmoid,tanh"}, SAVED,
                       TrainConfig(hidden="8,4", activation="logistic,tanh"), {})  # an alias of sigmoid
    with pytest.raises(ConfigError, match="--activation: 'relu,tanh' differs from the resumed run's"):
        check_same_network({"hidden": "8,4", "activation": "sigmoid,tanh"}, SAVED,
                           TrainConfig(hidden="8,4", activation="relu,tanh"), {})
    with pytest.raises(ConfigError, match="--init: 'he_uniform' differs from the resumed run's 'glorot_uniform'"):
        check_same_network({"init": "glorot_uniform"}, SAVED, TrainConfig(init="he_uniform"), {})
    with pytest.raises(ConfigError, match="--optimizer: 'sgd' differs .* the checkpoint holds that optimizer's state"):
        check_same_network({"optimizer": "adam"}, SAVED, TrainConfig(optimizer="sgd"), {})


@pytest.mark.parametrize("saved, asked, fragment", [
    (10, 0, "--patience: 0 turns early stopping off, which the resumed run had on"),
    (0, 5, "--patience: 5 turns early stopping on, which the resumed run had off"),
])
def test_early_stopping_may_not_be_turned_on_or_off(saved, asked, fragment):
    check_same_network({"patience": 10}, SAVED, TrainConfig(patience=3), {})
    with pytest.raises(ConfigError, match=fragment):
        check_same_network({"patience": saved}, SAVED, TrainConfig(patience=asked), {})


def test_fewer_epochs_than_the_checkpoint_holds_are_refused():
    check_epochs_cover(5, TrainConfig(epochs=5), {})
    check_epochs_cover(None, TrainConfig(epochs=1), {})
    with pytest.raises(HyperparameterError, match="--epochs: 4 is fewer than the 5 epochs the checkpoint holds"):
        check_epochs_cover(5, TrainConfig(epochs=4), {})


def test_data_of_another_width_is_blamed_on_the_data_or_a_changed_loss(tmp_path):
    held = checkpoint(tmp_path, cr.mlp([4, 8, 3], seed=0), {"loss": "auto"})
    resumed = resumed_config(held)
    check_same_widths(held, resumed, TrainConfig(), {}, 4, 3, "cross_entropy")
    with pytest.raises(ConfigError, match="--data: 'digits' has 5 features, but the resumed run's network takes 4"):
        check_same_widths(held, resumed, TrainConfig(), {}, 5, 3, "cross_entropy")
    with pytest.raises(ConfigError, match="--data: 'digits' gives 2 outputs with cross_entropy"):
        check_same_widths(held, resumed, TrainConfig(), {}, 4, 2, "cross_entropy")
    with pytest.raises(ConfigError, match="--loss: 'mse' gives 1 output, but the resumed run's network has 3"):
        check_same_widths(held, resumed, TrainConfig(loss="mse"), {}, 4, 1, "mse")


def test_named_columns_in_another_order_or_of_other_names_are_refused(tmp_path):
    """Only the widths were compared: a CSV of the same columns reordered trained by position."""
    model = cr.mlp([3, 8, 2], seed=0)
    model.metadata["data"] = {"name": "rows.csv", "features": ["a", "b", "c"]}
    held = checkpoint(tmp_path, model)
    check_same_columns(held, TrainConfig(data="more.csv"), {}, ["a", "b", "c"])
    with pytest.raises(ConfigError, match=re.escape("--data: 'more.csv' has the feature columns 'c', 'b', 'a', but "
                                                    "the resumed run trained on 'a', 'b', 'c', in that order (feature "
                                                    "1 is 'c' here, 'a' there)")):
        check_same_columns(held, TrainConfig(data="more.csv"), {}, ["c", "b", "a"])
    with pytest.raises(ConfigError, match=r"^more\.toml: key 'data': 'more\.csv' .*\(feature 3 is 'x' here, 'c'"):
        check_same_columns(held, TrainConfig(data="more.csv"), {"data": "more.toml"}, ["a", "b", "x"])
    # An NPZ or IDX file's columns are positions; so are those of a run that read one.
    check_same_columns(held, TrainConfig(data="more.npz"), {}, ["x0", "x1", "x2"])
    model.metadata["data"] = {"name": "rows.npz", "features": ["x0", "x1", "x2"]}
    check_same_columns(held, TrainConfig(data="more.csv"), {}, ["c", "b", "a"])
    del model.metadata["data"]  # a checkpoint written before chainrule recorded them
    check_same_columns(held, TrainConfig(data="more.csv"), {}, ["c", "b", "a"])


def regressor(standardize_targets: bool):
    """A trained regressor (2 outputs), its targets standardized or not."""
    model = cr.mlp([3, 4, 2], seed=0)
    X = [[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 2.0, 0.0]]
    cr.fit(model, X, [[1e6, 1.0], [1e6 + 5, 2.0], [1e6 + 9, 0.0]], epochs=1, standardize=True,
           standardize_targets=standardize_targets, verbose=0)
    return model


@pytest.mark.parametrize("saved, now, fragment", [
    (False, True, "trained on raw targets and this one standardizes them"),
    (True, False, "trained on standardized targets and this one does not"),
])
def test_a_switched_target_standardization_is_refused(tmp_path, saved, now, fragment):
    with pytest.raises(ConfigError, match="^--standardize-targets: the run of .*" + re.escape(fragment)):
        check_same_target_standardization(checkpoint(tmp_path, regressor(saved)), now, {})
    with pytest.raises(ConfigError, match="^more.toml: key 'standardize_targets': the run of .*" + re.escape(fragment)):
        check_same_target_standardization(checkpoint(tmp_path, regressor(saved)), now,
                                          {"standardize_targets": "more.toml"})
    check_same_target_standardization(checkpoint(tmp_path, regressor(saved)), saved, {})  # the same: resumed
    check_same_target_standardization(checkpoint(tmp_path, cr.mlp([3, 2], seed=0)), now, {})  # no preprocessor

