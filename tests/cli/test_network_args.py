"""chainrule.cli.network_args: --hidden and --activation parsed, errors naming the option."""

import pytest

from chainrule.cli.config import TrainConfig
from chainrule.cli.network_args import as_built, hidden_sizes
from chainrule.errors import ConfigError


@pytest.mark.parametrize("hidden, problem", [
    ("0," * 50_000 + "8", "every width must be >= 1"),
    ("8,x" + "9" * 10**5, "expected comma-separated integers"),
    ("8,," + "9" * 10**5, "expected comma-separated integers"),
], ids=["zero width", "not an integer", "empty width"])
def test_hidden_widths_are_quoted_in_part(hidden, problem):
    """The whole text was quoted: a message as long as the option."""
    with pytest.raises(ConfigError, match=rf"^--hidden: {problem}.* got '.{{55,60}}\.\.\.") as caught:
        hidden_sizes(hidden)
    assert len(str(caught.value)) < 300


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
