"""chainrule.cli.network_args: --hidden and --activation parsed, errors naming the option."""

import pytest

from chainrule.cli.config import TrainConfig
from chainrule.cli.network_args import MAX_HIDDEN_LAYERS, as_built, hidden_sizes
from chainrule.errors import ConfigError
from chainrule.io.architecture import MAX_LAYERS
from tests.cli.helpers import assert_one_line_error, call


@pytest.mark.parametrize("hidden, problem", [
    ("0," * 40_000 + "8", "every width must be >= 1"),
    ("8,x" + "9" * 10**5, "expected comma-separated integers"),
    ("8,," + "9" * 10**5, "expected comma-separated integers"),
], ids=["zero width", "not an integer", "empty width"])
def test_hidden_widths_are_quoted_in_part(hidden, problem):
    """The whole text was quoted: a message as long as the option."""
    with pytest.raises(ConfigError, match=rf"^--hidden: {problem}.* got '.{{55,60}}\.\.\.") as caught:
        hidden_sizes(hidden)
    assert len(str(caught.value)) < 300


def test_the_most_hidden_layers_are_those_a_model_file_holds():
    """The Sequential, each hidden layer's Linear and activation, and the output Linear."""
    assert 1 + 2 * MAX_HIDDEN_LAYERS + 1 <= MAX_LAYERS < 1 + 2 * (MAX_HIDDEN_LAYERS + 1) + 1
    assert hidden_sizes([8] * MAX_HIDDEN_LAYERS) == [8] * MAX_HIDDEN_LAYERS


@pytest.mark.parametrize("hidden", [",".join(["8"] * (MAX_HIDDEN_LAYERS + 1)), [8] * 10**6],
                         ids=["option", "config list"])
def test_more_hidden_layers_than_a_model_file_holds_are_refused(hidden):
    """They were built (minutes for a million), trained, then refused when the model was saved."""
    with pytest.raises(ConfigError, match=rf"^hidden: at most {MAX_HIDDEN_LAYERS:,} hidden layers.* got "
                                          rf"{len(hidden) if isinstance(hidden, list) else MAX_HIDDEN_LAYERS + 1:,}"
                                          r" widths: .{55,65}\.\.\.$"):
        hidden_sizes(hidden, "hidden")


def test_train_refuses_too_many_hidden_layers_in_one_line_before_reading_the_data(capsys, tmp_path):
    code, _, err = call(capsys, "train", "--data", tmp_path / "absent.csv", "--hidden", "8," * 10**6 + "8",
                        "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--hidden: at most 49,999 hidden layers", "got 1,000,001 widths")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("hidden", ["", " ", []])
def test_no_widths_is_a_network_without_hidden_layers(hidden):
    assert hidden_sizes(hidden) == []


@pytest.mark.parametrize("hidden", ["8 8", "256 128", "8, 16 32"])
def test_widths_separated_by_spaces_are_refused_not_joined(hidden):
    """"8 8" was the width 88: spaces were removed from the whole text before it was split."""
    with pytest.raises(ConfigError, match=r"^--hidden: .*separated by spaces; separate them by commas"):
        hidden_sizes(hidden)


def test_spaces_around_widths_are_read_past():
    assert hidden_sizes(" 8 , 16 ") == [8, 16]


@pytest.mark.parametrize("hidden", ["8_0", "\u0668", "８", "8\t"])
def test_a_width_is_written_in_decimal_digits(hidden):
    """int() took "8_0" as 80, Arabic-Indic and full-width digits, and a tab: a typo trained another network."""
    with pytest.raises(ConfigError, match=r"^--hidden: expected comma-separated integers like 128,64"):
        hidden_sizes(hidden)


def test_as_built_takes_the_spellings_of_one_network_alike():
    spelt = TrainConfig(hidden="8, 4", activation="logistic", init="xavier_uniform", dtype="f4")
    listed = TrainConfig(hidden=[8, 4], activation=["sigmoid", "sigmoid"], init="glorot_uniform", dtype="float32")
    for key in ("hidden", "activation", "init", "dtype"):
        assert as_built(key, spelt) == as_built(key, listed)
    assert as_built("optimizer", TrainConfig(optimizer="sgd")) == "sgd"  # any other key as it is
    assert as_built("activation", TrainConfig(activation="tanh")) == ["tanh", "tanh"]  # the default's two layers
    assert as_built("init", TrainConfig(init="he_uniform")) != as_built("init", listed)
