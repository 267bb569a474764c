"""chainrule.cli.config: defaults < --config FILE < command line; unknown keys and wrong
types refused naming the file and key; config.toml repeats a run."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.cli.config import TrainConfig, read_config, value_name
from chainrule.cli.main import build_parser
from chainrule.cli.train import resolve_config
from chainrule.errors import ConfigError
from chainrule.cli.config import tomllib  # the standard library's, or tomli on Python 3.10

from tests.data.writers import mnist_like, write_idx

from .helpers import assert_one_line_error, call, iris_rows, write_csv


def parse(*args):
    return build_parser().parse_args(["train", *map(str, args)])


def test_every_key_is_a_train_option():
    args = parse()
    assert all(hasattr(args, key) for key in TrainConfig.keys())
    assert TrainConfig.keys()[:3] == ["data", "label", "hidden"]


@pytest.mark.parametrize("values", [
    {"epochs": 5}, {"lr": 1}, {"lr": 0.5}, {"plots": False}, {"shuffle": False}, {"hidden": ""},
    {"data": "iris", "seed": 3},
])
def test_values_of_the_right_type_are_taken(values):
    config = TrainConfig().with_values(values, "test")
    for key, value in values.items():
        assert getattr(config, key) == value
        assert type(getattr(config, key)) is type(getattr(TrainConfig(), key))  # 1 becomes 1.0 for lr
    assert TrainConfig() == TrainConfig()  # the original is untouched: with_values makes a copy


@pytest.mark.parametrize("values, message", [
    ({"epoch": 5}, r"run\.toml: unknown key 'epoch'; expected one of data, label, hidden"),
    ({"epochs": "5"}, r"run\.toml: key 'epochs': expected an integer, got str '5'"),
    ({"epochs": 5.0}, r"key 'epochs': expected an integer, got float 5\.0"),
    ({"epochs": True}, r"key 'epochs': expected an integer, got bool True"),
    ({"lr": "fast"}, r"key 'lr': expected a number, got str 'fast'"),
    ({"lr": float("inf")}, r"key 'lr': expected a finite number, got inf"),
    ({"plots": 1}, r"key 'plots': expected true or false, got int 1"),
    ({"shuffle": "no"}, r"key 'shuffle': expected true or false, got str 'no'"),
    ({"hidden": 128}, r"key 'hidden': expected a string or a list of integers, got int 128"),
    ({"hidden": [128, 6.5]}, r"key 'hidden': expected a string or a list of integers, got list \[128, 6\.5\]"),
    ({"hidden": [128, True]}, r"key 'hidden': expected a string or a list of integers, got list \[128, True\]"),
    ({"activation": 3}, r"key 'activation': expected a string or a list of strings, got int 3"),
    ({"activation": ["relu", None]}, r"key 'activation': expected a string or a list of strings, got list \['relu', None\]"),
    ({"init": ["he_normal"]}, r"key 'init': expected a string, got list \['he_normal'\]"),
])
def test_unknown_keys_and_wrong_types_are_refused(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig().with_values(values, "run.toml")


@pytest.mark.parametrize("activation", ["relu,tanh", ["relu", "tanh"], []])
def test_activation_takes_a_string_or_a_list_of_strings(activation):
    config = TrainConfig().with_values({"activation": activation, "init": "he_normal"}, "run.toml")
    assert (config.activation, config.init) == (activation, "he_normal")


@pytest.mark.parametrize("hidden", ["8,4", [8, 4], []])
def test_hidden_takes_a_string_or_a_list_of_integers(hidden):
    assert TrainConfig().with_values({"hidden": hidden}, "run.toml").hidden == hidden


@pytest.mark.parametrize("batch_size, activation, hidden", [(None, "relu", "8,4"), (64, ["gelu", "tanh"], [8, 4])])
def test_to_toml_reads_back_as_the_same_config(batch_size, activation, hidden):
    config = TrainConfig().with_values({"data": 'C:\\data\\"odd" name.csv', "lr": 0.0003, "plots": False,
                                        "batch_size": batch_size, "activation": activation, "hidden": hidden}, "test")
    table = tomllib.loads(config.to_toml())
    assert table == {key: value for key, value in dataclasses.asdict(config).items() if value is not None}
    assert TrainConfig().with_values(table, "config.toml") == config


@pytest.mark.parametrize("text", ["spe\ncies", "tab\there", "\b\f\r", "nul\x00 us\x1f del\x7f", 'C:\\d\\"q"',
                                  "\\u0041 \\n", "\x85\u2028 caf\u00e9 \U0001F99C"])
def test_to_toml_escapes_control_characters(text):
    """Only \\ and " were escaped: a newline or other control character in a label or data path
    made config.toml invalid TOML."""
    config = TrainConfig().with_values({"data": text, "label": text, "activation": [text, "relu"]}, "test")
    table = tomllib.loads(config.to_toml())
    assert (table["data"], table["label"], table["activation"]) == (text, text, [text, "relu"])


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"])))  # a lone surrogate is no UTF-8 text
def test_to_toml_reads_back_every_string(text):
    assert tomllib.loads(TrainConfig(label=text).to_toml())["label"] == text


def test_a_run_with_a_newline_in_its_label_column_repeats_from_its_config_toml(tmp_path, capsys):
    rows = iris_rows()
    rows[0][-1] = "spe\ncies"
    write_csv(tmp_path / "data.csv", rows)
    code, _, err = call(capsys, "train", "--data", tmp_path / "data.csv", "--label", "spe\ncies", "--hidden", "4",
                        "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--config", tmp_path / "run" / "config.toml", "--quiet",
                        "--out", tmp_path / "again")
    assert code == 0, err


def test_no_shuffle_is_the_key_shuffle_false_and_is_named_as_the_option(tmp_path):
    assert (resolve_config(parse()).shuffle, resolve_config(parse("--no-shuffle")).shuffle) == (True, False)
    (tmp_path / "run.toml").write_text("shuffle = false\n")
    assert resolve_config(parse("--config", tmp_path / "run.toml")).shuffle is False
    assert "shuffle = false" in resolve_config(parse("--no-shuffle")).to_toml().splitlines()
    assert (value_name("shuffle", None), value_name("plots", None)) == ("--no-shuffle", "--no-plots")
    assert value_name("shuffle", "run.toml") == "run.toml: key 'shuffle'"


def test_batch_size_defaults_to_none_which_a_saved_configuration_may_hold():
    assert TrainConfig().batch_size is None  # cr.fit's default: 32, or the training rows if fewer
    assert TrainConfig().with_values({"batch_size": None}, "checkpoint.safetensors").batch_size is None
    with pytest.raises(ConfigError, match=r"key 'epochs': expected an integer, got NoneType None"):
        TrainConfig().with_values({"epochs": None}, "checkpoint.safetensors")


def test_read_config_refuses_missing_invalid_and_nested_files(tmp_path):
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        read_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("epochs = = 3\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        read_config(tmp_path / "bad.toml")
    (tmp_path / "nested.toml").write_text("[train]\nepochs = 3\n")
    with pytest.raises(ConfigError, match=r"nested.toml: unexpected table 'train'"):
        read_config(tmp_path / "nested.toml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        read_config(tmp_path)  # a folder


def test_the_command_line_overrides_the_file_which_overrides_the_defaults(tmp_path):
    (tmp_path / "run.toml").write_text('data = "iris"\nepochs = 3\nlr = 0.01\n')
    config = resolve_config(parse("--config", tmp_path / "run.toml", "--epochs", "7"))
    assert (config.data, config.epochs, config.lr, config.hidden) == ("iris", 7, 0.01, TrainConfig().hidden)


def test_values_from_the_file_are_validated_like_options_naming_the_file_and_key(tmp_path):
    (tmp_path / "run.toml").write_text('activation = "swish"\nseed = -1\n')
    with pytest.raises(ConfigError, match=r"run\.toml: key 'activation': expected one of"):
        resolve_config(parse("--config", tmp_path / "run.toml"))
    with pytest.raises(cr.HyperparameterError,
                       match=r"run\.toml: key 'seed': expected an integer from 0 to 2\*\*128 - 1, got -1"):
        resolve_config(parse("--config", tmp_path / "run.toml", "--activation", "relu"))
    # The same key given on the command line is named as the option.
    with pytest.raises(cr.HyperparameterError, match=r"^--seed: expected an integer from 0 to 2\*\*128 - 1, got -2"):
        resolve_config(parse("--config", tmp_path / "run.toml", "--activation", "relu", "--seed", "-2"))


def test_a_seed_beyond_what_fit_takes_is_refused_naming_the_key_or_the_option(tmp_path):
    # it was taken, and cr.fit refused it naming its own argument (or, of thousands of digits, trained and the
    # model file could not be saved)
    (tmp_path / "run.toml").write_text(f"seed = {10**100}\n")
    with pytest.raises(cr.HyperparameterError, match=r"^.*run\.toml: key 'seed': expected an integer from 0 to "
                                                     r"2\*\*128 - 1, got 1000000000"):
        resolve_config(parse("--config", tmp_path / "run.toml"))
    with pytest.raises(cr.HyperparameterError, match=rf"^--seed: expected an integer from 0 to 2\*\*128 - 1, "
                                                     rf"got {2**128}$"):
        resolve_config(parse("--seed", str(2**128)))
    assert resolve_config(parse("--seed", str(2**128 - 1))).seed == 2**128 - 1


@pytest.mark.parametrize("activation, fragment", [
    ("swish", "expected one of relu, "),  # an unknown name
    ("relu,swish", "got 'swish' in 'relu,swish'"),  # an unknown name of several
    ("ReLU", "got 'ReLU' (did you mean 'relu'?)"),  # a name in another case
    ("relu,Tanh", "got 'Tanh' in 'relu,Tanh' (did you mean 'tanh'?)"),
    ("relu,,tanh", "which has an empty name"),
    ("relu,tanh,relu", "got 3 names"),
])
def test_every_bad_activation_is_a_config_error_naming_the_option(activation, fragment):
    with pytest.raises(ConfigError, match=r"^--activation: ") as raised:
        resolve_config(parse("--activation", activation))
    assert fragment in str(raised.value)


def test_a_bad_value_on_the_command_line_is_named_as_its_option():
    # The parser refuses NaN and infinity first, in the same words (test_main); the config's check names the option
    # as well, for a value that reaches it.
    with pytest.raises(ValueError, match=r"^--lr: expected a finite number, got nan$"):
        parse("--lr", "nan")
    args = parse()
    args.lr, args.weight_decay = float("nan"), float("inf")
    with pytest.raises(ConfigError, match=r"^--lr: expected a finite number, got nan"):
        resolve_config(args)
    args.lr = 0.1
    with pytest.raises(ConfigError, match=r"^--weight-decay: expected a finite number, got inf"):
        resolve_config(args)


def test_train_with_a_config_file(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('data = "iris"\nhidden = "5"\nepochs = 2\npatience = 0\nplots = false\n')
    code, out, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--epochs", "3", "--quiet",
                          "--out", tmp_path / "run")
    assert code == 0, err
    assert "on iris (30 test samples, 3 epochs, completed)" in out
    saved = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert (saved["data"], saved["hidden"], saved["epochs"], saved["plots"]) == ("iris", "5", 3, False)
    assert not (tmp_path / "run" / "history.png").exists()
    # The run folder's config.toml repeats the run exactly.
    code, _, err = call(capsys, "train", "--config", tmp_path / "run" / "config.toml", "--quiet",
                        "--out", tmp_path / "again")
    assert code == 0, err
    first, again = (cr.load(tmp_path / name / "model.safetensors") for name in ("run", "again"))
    assert all(np.array_equal(first.params[name], again.params[name]) for name in first.params)


def test_a_relative_data_path_is_read_from_the_config_files_folder(tmp_path, monkeypatch, capsys):
    """It was read from the working directory: proj/configs/run.toml's "../data.csv" was not found."""
    (tmp_path / "proj" / "configs").mkdir(parents=True)
    write_csv(tmp_path / "proj" / "data.csv", iris_rows())
    (tmp_path / "proj" / "configs" / "run.toml").write_text('data = "../data.csv"\nhidden = "4"\nepochs = 1\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "train", "--config", "proj/configs/run.toml", "--quiet", "--no-plots", "--out", "run")
    assert code == 0, err
    assert "on data.csv" in out
    assert tomllib.loads((tmp_path / "run" / "config.toml").read_text())["data"] == str(tmp_path / "proj" / "data.csv")
    # The run resumes, and its config.toml repeats it, from any working directory.
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = call(capsys, "train", "--resume", tmp_path / "run" / "checkpoint.safetensors", "--epochs", "2",
                        "--quiet", "--no-plots")
    assert code == 0, err
    code, _, err = call(capsys, "train", "--config", tmp_path / "run" / "config.toml", "--quiet", "--out", "again")
    assert code == 0, err


def test_a_relative_data_path_found_only_in_the_working_directory_is_named_with_the_config_key(tmp_path, monkeypatch,
                                                                                              capsys):
    (tmp_path / "configs").mkdir()
    write_csv(tmp_path / "data.csv", iris_rows())
    (tmp_path / "configs" / "run.toml").write_text('data = "data.csv"\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "train", "--config", "configs/run.toml", "--quiet", "--out", "run")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': 'data.csv' is read from the config file's folder, "
                          "where there is no configs/data.csv, not from the working directory")
    (tmp_path / "configs" / "run.toml").write_text('data = "../missing.csv"\n')
    code, out, err = call(capsys, "train", "--config", "configs/run.toml", "--quiet", "--out", "run")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': configs/../missing.csv: no such file; "
                          "correct the path there, or pass --data")
    assert not (tmp_path / "run").exists()
    # gradcheck reads the same file and names the key alike (it said only "configs/../missing.csv: no such file")
    code, out, err = call(capsys, "gradcheck", "--config", "configs/run.toml", "--hidden", "4")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': configs/../missing.csv: no such file; "
                          "correct the path there, or pass --data")


def test_a_config_files_data_overridden_by_the_data_option_is_not_looked_for(tmp_path, monkeypatch, capsys):
    """--data overrides the file's data, but a file's data found only in the working directory was
    refused all the same (where a missing one was let pass, as its message says: "or pass --data")."""
    (tmp_path / "configs").mkdir()
    write_csv(tmp_path / "data.csv", iris_rows())
    (tmp_path / "configs" / "run.toml").write_text('data = "data.csv"\nhidden = "4"\nepochs = 1\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "train", "--config", "configs/run.toml", "--data", "iris", "--quiet", "--no-plots",
                          "--out", "run")
    assert code == 0, err
    assert "on iris (30 test samples" in out
    assert tomllib.loads((tmp_path / "run" / "config.toml").read_text())["data"] == "iris"


def test_a_bare_data_name_found_only_in_the_working_directory_is_refused_but_a_built_in_name_stays(
        tmp_path, monkeypatch, capsys):
    """data = "mn" (an IDX directory in the working directory, none beside the config file) was read
    from the working directory, while data = "mn/" was refused as the usage guide says."""
    (tmp_path / "configs").mkdir()
    images, labels = mnist_like(30)
    for folder in (tmp_path / "mn", tmp_path / "iris", tmp_path / "configs" / "iris"):
        folder.mkdir()
        write_idx(folder / "train-images-idx3-ubyte", images)
        write_idx(folder / "train-labels-idx1-ubyte", labels)
    monkeypatch.chdir(tmp_path)
    options = ["--config", "configs/run.toml", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots"]
    (tmp_path / "configs" / "run.toml").write_text('data = "mn"\n')
    code, out, err = call(capsys, "train", *options, "--out", "run")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': 'mn' is read from the config file's folder, where "
                          "there is no configs/mn, not from the working directory; give the path from the config "
                          "file's folder (configs), or an absolute one")
    assert out == "" and not (tmp_path / "run").exists()
    code, out, err = call(capsys, "gradcheck", "--config", "configs/run.toml", "--hidden", "4")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': 'mn' is read from the config file's folder")
    (tmp_path / "mn").rename(tmp_path / "configs" / "mn")  # beside the config file, it is read from there
    code, out, err = call(capsys, "train", *options, "--out", "run")
    assert code == 0, err
    assert tomllib.loads((tmp_path / "run" / "config.toml").read_text())["data"] == str(tmp_path / "configs" / "mn")
    # A built-in name is the built-in, beside folders of that name; a misspelt one is named as such.
    (tmp_path / "configs" / "run.toml").write_text('data = "iris"\n')
    code, out, err = call(capsys, "train", *options, "--out", "builtin")
    assert code == 0, err
    assert "on iris (30 test samples" in out
    # Named by the file and key, as any other value of the file is (the name was not: "unknown data set 'irsi'").
    (tmp_path / "configs" / "run.toml").write_text('data = "irsi"\n')
    code, out, err = call(capsys, "train", *options, "--out", "misspelt")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': unknown data set 'irsi' (did you mean 'iris'?)",
                          "; correct the name there, or pass --data")
    code, out, err = call(capsys, "gradcheck", "--config", "configs/run.toml", "--hidden", "4")
    assert_one_line_error(code, err, "configs/run.toml: key 'data': unknown data set 'irsi' (did you mean 'iris'?)")


def test_an_empty_data_in_a_config_file_is_refused_not_read_as_the_config_files_folder(tmp_path, capsys):
    """data = "" was joined to the config file's folder: the folder itself was read as the data, an
    IDX directory when it holds IDX files, else refused as one without naming the empty value."""
    images, labels = mnist_like(30)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    (tmp_path / "run.toml").write_text('data = ""\nhidden = "4"\nepochs = 1\n')
    code, out, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--quiet", "--no-plots",
                          "--out", tmp_path / "run")
    assert_one_line_error(code, err, "unknown data set ''")
    assert out == "" and not (tmp_path / "run").exists()


@pytest.mark.parametrize("key", ["optimizer", "init", "loss", "device", "class_weight", "activation"])
def test_a_long_unknown_name_is_quoted_in_part(tmp_path, capsys, key):
    """The whole value was quoted (repr): a 100,000-character name made an error line as long."""
    (tmp_path / "run.toml").write_text(f'{key} = "{"ab" * 50_000}"\n')
    code, out, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--data", "iris", "--quiet",
                          "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, f"run.toml: key '{key}': expected ", "'ababab")
    assert len(line) < 600 and not (tmp_path / "run").exists()


def test_a_long_hidden_is_quoted_in_part_where_activation_names_it(tmp_path, capsys):
    code, out, err = call(capsys, "train", "--hidden", ",".join(["1"] * 10_000), "--activation", "relu,tanh",
                          "--data", "iris", "--quiet", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, "--activation: expected one name for every hidden layer")
    assert len(line) < 800


@pytest.mark.parametrize("text, fragments", [
    ("epoch = 3\n", ["run.toml: unknown key 'epoch'", "(did you mean 'epochs'?)"]),
    ('epochs = "3"\n', ["run.toml: key 'epochs': expected an integer, got str '3'"]),
    ("epochs = [\n", ["run.toml: not valid TOML"]),
    ("[model]\nhidden = '8'\n", ["run.toml: unexpected table 'model'"]),
])
def test_a_bad_config_file_exits_2_in_one_line(tmp_path, capsys, text, fragments):
    (tmp_path / "run.toml").write_text(text)
    code, out, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, *fragments)
    assert out == ""
    assert not (tmp_path / "run").exists()


def test_a_config_file_that_is_not_utf8_exits_2_naming_the_file(tmp_path, capsys):
    (tmp_path / "run.toml").write_bytes(b'epochs = 1\nlabel = "\xff"\n')
    with pytest.raises(ConfigError, match=r"run\.toml: not UTF-8 text \(byte 20"):
        read_config(tmp_path / "run.toml")
    code, _, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "run.toml: not UTF-8 text")
    assert not (tmp_path / "run").exists()


def test_a_config_file_with_a_utf8_byte_order_mark_is_read(tmp_path, capsys):
    (tmp_path / "run.toml").write_bytes(b'\xef\xbb\xbfepochs = 1\ndata = "iris"\nplots = false\n')
    assert read_config(tmp_path / "run.toml") == {"epochs": 1, "data": "iris", "plots": False}
    (tmp_path / "bad.toml").write_bytes(b'\xef\xbb\xbfepochs = 1\nlabel = "\xff"\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: not UTF-8 text \(byte 23"):  # counted from the mark
        read_config(tmp_path / "bad.toml")
    code, _, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--hidden", "4", "--quiet",
                        "--out", tmp_path / "run")
    assert code == 0, err


@pytest.mark.parametrize("option", ["--config", "--resume"])
def test_an_empty_file_name_is_refused_not_ignored(tmp_path, capsys, option):
    """--config "" (an unset shell variable) was read as no --config: the default run trained."""
    code, out, err = call(capsys, "train", option, "", "--data", "iris", "--epochs", "1", "--quiet",
                          "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{option}: expected a file name, got ''")
    assert out == "" and not (tmp_path / "run").exists()


def test_a_missing_config_file_exits_2(tmp_path, capsys):
    code, _, err = call(capsys, "train", "--config", tmp_path / "none.toml", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "none.toml: config file not found")


@pytest.mark.parametrize("key", ["lr", "weight_decay", "validation", "test_size"])
def test_an_integer_too_large_for_a_float_is_refused_naming_the_key(key):
    with pytest.raises(ConfigError, match=rf"^run\.toml: key '{key}': expected a finite number, got an integer too large"):
        TrainConfig().with_values({key: 10**400}, "run.toml")


def test_a_huge_integer_in_a_config_file_exits_2_naming_the_file_and_key(tmp_path, capsys):
    (tmp_path / "run.toml").write_text("lr = 1" + "0" * 400 + "\n")
    code, out, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "run.toml: key 'lr': expected a finite number, got an integer too large for a float")
    assert out == "" and not (tmp_path / "run").exists()


def test_an_integer_with_more_digits_than_python_converts_is_invalid_toml(tmp_path, capsys):
    (tmp_path / "run.toml").write_text("epochs = 1" + "0" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"run\.toml: not valid TOML \(Exceeds the limit"):
        read_config(tmp_path / "run.toml")
    code, _, err = call(capsys, "train", "--config", tmp_path / "run.toml", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "run.toml: not valid TOML")


def test_one_epoch_is_one_epoch_in_the_summary(tmp_path, capsys):
    code, out, err = call(capsys, "train", "--data", "iris", "--hidden", "5", "--epochs", "1", "--quiet",
                          "--no-plots", "--out", tmp_path / "run")
    assert code == 0, err
    assert "on iris (30 test samples, 1 epoch, completed)" in out


@pytest.mark.parametrize("text", ["hidden = " + "[" * 100_000 + "]" * 100_000 + "\n",
                                  "hidden = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n"])
def test_a_config_file_nested_too_deep_exits_2_naming_the_file(tmp_path, capsys, text):
    """tomllib's RecursionError was an internal error (exit 1)."""
    path = tmp_path / "deep.toml"
    path.write_text(text)
    code, _, err = call(capsys, "train", "--config", path, "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{path}: not a configuration: arrays or tables nested too deep")


def test_a_huge_value_in_a_config_file_is_quoted_in_part(tmp_path, capsys):
    path = tmp_path / "huge.toml"
    path.write_text(f'seed = "{"a" * 10**6}"\n')
    code, _, err = call(capsys, "train", "--config", path, "--quiet", "--out", tmp_path / "run")
    line = assert_one_line_error(code, err, f"{path}: key 'seed': expected an integer, got str 'aaaa")
    assert line.endswith("...") and len(line) < 400


@pytest.mark.parametrize("alias, name", [("double", "float64"), ("f8", "float64"), ("single", "float32")])
def test_dtype_is_saved_by_the_name_the_help_gives(alias, name):
    # NumPy's other names of the two dtypes train as them; config.toml kept them as typed
    assert resolve_config(parse("--dtype", alias)).dtype == name
