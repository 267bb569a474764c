"""chainrule.cli.rows: which rows of DATA ``evaluate`` and ``predict`` use, and how a CSV file's
columns are matched to the model's."""

import hashlib
import os
from types import SimpleNamespace

import numpy
import pytest

import chainrule as cr
from chainrule.cli.rows import (Selection, changed_since_run, check_width, data_sha256, file_sha256, has_text_classes,
                                is_pipe, refuse_swapped, saved_columns, scored_rows, split_of)
from chainrule.data import Preprocessor
from chainrule.errors import ConfigError, HyperparameterError, ModelFileError, ShapeError

from .helpers import assert_one_line_error, call


def split_args(seed=None, test_size=None):
    return SimpleNamespace(model="model.safetensors", seed=seed, test_size=test_size)


def test_a_model_that_does_not_say_its_input_width_is_refused_in_words():
    args = SimpleNamespace(data="rows.csv", model="model.safetensors")
    check_width(cr.Sequential(cr.ReLU(), cr.Linear(3, 2)), numpy.zeros((2, 3)), args)  # the first Linear's width
    with pytest.raises(ShapeError, match="input width is unknown"):
        check_width(cr.Sequential(cr.ReLU()), numpy.zeros((2, 3)), args)


def test_rows_of_another_width_are_refused_naming_data_and_model():
    args = SimpleNamespace(data="rows.npz", model="model.safetensors")
    with pytest.raises(ShapeError, match="rows.npz: rows of 4 features, but the model model.safetensors takes 3"):
        check_width(cr.mlp([3, 2], seed=0), numpy.zeros((2, 4)), args)


def test_a_csv_file_read_by_position_is_named_by_its_columns_and_label_column():
    """'rows of 1 features' for a file of 2 columns: its label column left out unsaid."""
    args = SimpleNamespace(data="rows.csv", model="model.safetensors", label=None)
    with pytest.raises(ShapeError, match=r"^rows\.csv: rows of 1 feature \(its 2 columns but the label column, the "
                                         r"last: a model without column names reads a CSV file by position\), but "
                                         r"the model model\.safetensors takes 3$"):
        check_width(cr.mlp([3, 2], seed=0), numpy.zeros((2, 1)), args)
    args.label = "kind"
    with pytest.raises(ShapeError, match=r"rows of 4 features \(its 5 columns but the label column, --label kind:"):
        check_width(cr.mlp([3, 2], seed=0), numpy.zeros((2, 4)), args)


def test_model_and_data_given_the_wrong_way_round_are_refused():
    refuse_swapped(SimpleNamespace(model="m.safetensors", data="rows.csv"))
    refuse_swapped(SimpleNamespace(model="a.safetensors", data="b.safetensors"))  # the loader says what is wrong
    with pytest.raises(ConfigError, match="the model file comes first \\(MODEL DATA\\)"):
        refuse_swapped(SimpleNamespace(model="rows.csv", data="m.SAFETENSORS"))


@pytest.mark.parametrize("selection, text", [
    (Selection(numpy.zeros((30, 1)), None, "test split", 150, 0, 0.2),
     "the test split: 30 of 150 rows (seed 0, test size 0.2)"),
    (Selection(numpy.zeros((10, 1)), None, "test part", 70), "the test part: 10 of 70 rows"),
    (Selection(numpy.zeros((5, 1)), None, "all rows", 5, note="the file changed"), "all 5 rows; the file changed"),
])
def test_a_selection_says_which_rows_it_holds(selection, text):
    assert selection.describe() == text


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_an_empty_data_argument_is_refused_naming_data(iris_run, tmp_path, monkeypatch, capsys, command):
    """DATA '' (an unset shell variable) was read as the working directory, an IDX directory:
    ".: no IDX training files; ..." named neither DATA nor what was given."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, command, iris_run / "model.safetensors", "")
    assert_one_line_error(code, err, f"chainrule {command}: argument DATA: expected a built-in data set's name or a "
                                     f"file path, got ''")
    assert out == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options", [[], ["--label", "y"]])
def test_a_data_argument_longer_than_any_path_is_refused_in_a_short_line(iris_run, tmp_path, monkeypatch, capsys,
                                                                         options):
    """The messages about DATA held it whole: '--label: xxx... (5,000 characters) is not a .csv file'."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", "x" * 5000, *options)
    line = assert_one_line_error(code, err, f"chainrule evaluate: argument DATA: '{'x' * 59}...: a path of 5,000 "
                                            f"characters, longer than any file name (4096)")
    assert len(line) < 300 and out == ""


def test_file_sha256_is_the_digest_of_the_bytes_or_none(tmp_path):
    path = tmp_path / "data.csv"
    content = b"a,label\n" + b"1,0\n" * 300_000  # more than one block
    path.write_bytes(content)
    assert file_sha256(path) == hashlib.sha256(content).hexdigest()
    assert file_sha256(tmp_path / "absent.csv") is None


def test_file_sha256_leaves_a_pipe_unread_and_a_device_unhashed():
    """A pipe's bytes can be read once: the loader reads them after the hash (train's
    ``--data <(cat images),<(cat labels)`` found them gone). A device's may never end."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"a,label\n1,0\n")
        os.close(write_end)
        assert file_sha256(f"/dev/fd/{read_end}") is None
        assert os.read(read_end, 100) == b"a,label\n1,0\n"  # still there for the loader
    finally:
        os.close(read_end)
    assert file_sha256(os.devnull) is None


def test_is_pipe_tells_a_pipe_among_the_files_of_a_spec_without_reading_it(tmp_path):
    (tmp_path / "labels").write_bytes(b"")
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"a,label\n1,0\n")
        pipe = f"/dev/fd/{read_end}"
        assert is_pipe(pipe) and is_pipe(f"{pipe},{tmp_path / 'labels'}")
        assert os.read(read_end, 100) == b"a,label\n1,0\n"  # still there for the loader
    finally:
        os.close(read_end)
        os.close(write_end)
    assert not is_pipe(tmp_path / "labels") and not is_pipe(tmp_path) and not is_pipe(tmp_path / "absent.csv")


def test_data_sha256_hashes_a_file_or_each_idx_file_read_by_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mn").mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "notes.txt"):
        (tmp_path / "mn" / name).write_bytes(name.encode())
    (tmp_path / "points.npz").write_bytes(b"npz")
    digest = {name: hashlib.sha256(name.encode()).hexdigest() for name in ("train-images-idx3-ubyte",
                                                                          "train-labels-idx1-ubyte")}
    expected = {str(tmp_path / "mn" / name): value for name, value in digest.items()}
    assert data_sha256("mn") == expected  # the files read, not the notes beside them
    assert data_sha256("mn/train-images-idx3-ubyte, mn/train-labels-idx1-ubyte") == expected
    assert data_sha256("points.npz") == hashlib.sha256(b"npz").hexdigest()
    assert data_sha256("iris") is None


def test_data_sha256_of_data_that_names_no_idx_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert data_sha256("empty") == {}  # an IDX directory without its files: its loader says so
    assert data_sha256("a,b,c") == {str(tmp_path / "a,b,c"): None}  # 3 parts: read as one path, which is none
    assert data_sha256("notes.txt") is None  # neither a CSV or NPZ file nor IDX data


def test_changed_since_run_names_the_idx_file_that_changed_or_is_no_longer_read(tmp_path):
    recorded = {"/d/images": "1", "/d/labels": "2", "/d/test-images": "3"}
    metadata = {"data": {"sha256": recorded}}
    assert changed_since_run(metadata, "/d", dict(recorded)) is None
    assert changed_since_run(metadata, "/d", {**recorded, "/d/labels": "9"}) == "/d/labels"
    assert changed_since_run(metadata, "/d", {"/d/images": "1", "/d/labels": "2"}) == "/d/test-images"
    assert changed_since_run({"data": {"sha256": "1"}}, "a.csv", "2") == "a.csv"
    assert changed_since_run({"data": {}}, "a.csv", "2") is None  # a run from before hashes were recorded


def test_the_split_is_the_option_then_the_saved_value_then_the_default():
    model = cr.mlp([2, 2], seed=0)
    assert split_of(split_args(), model) == (0, 0.2)
    model.metadata["config"] = {"seed": 7, "test_size": 0.3}
    assert split_of(split_args(), model) == (7, 0.3)
    assert split_of(split_args(seed=1, test_size=0.5), model) == (1, 0.5)


@pytest.mark.parametrize("options, fragment", [
    ({"seed": -1}, r"--seed: expected an integer from 0 to 2\*\*128 - 1, got -1"),
    ({"seed": 2**128}, rf"--seed: expected an integer from 0 to 2\*\*128 - 1, got {2**128}"),
    ({"test_size": 1.0}, r"--test-size: expected a fraction in \(0, 1\), got 1.0"),
])
def test_a_bad_split_option_is_named_as_the_option(options, fragment):
    with pytest.raises(HyperparameterError, match=fragment):
        split_of(split_args(**options), cr.mlp([2, 2], seed=0))


@pytest.mark.parametrize("saved, fragment", [
    ({"seed": "zero"}, "model.safetensors: metadata.config.seed: expected an integer >= 0"),
    ({"test_size": True}, r"model.safetensors: metadata.config.test_size: expected a fraction in \(0, 1\)"),
])
def test_a_bad_saved_split_is_named_in_the_model_file(saved, fragment):
    model = cr.mlp([2, 2], seed=0)
    model.metadata["config"] = saved
    with pytest.raises(ModelFileError, match=fragment):
        split_of(split_args(), model)


def test_columns_saved_by_train_from_a_csv_are_used_by_name():
    model = cr.mlp([2, 2], seed=0)
    model.metadata["data"] = {"name": "/data/rows.CSV", "features": ["b", "a"], "label": "y"}
    assert saved_columns(model) == (["b", "a"], "y")
    model.metadata["data"] = {"name": "mnist", "features": ["b", "a"], "label": "y"}  # not a CSV header's names
    assert saved_columns(model) is None
    model.metadata["data"] = {"name": "rows.csv", "features": ["a", "a"], "label": "y"}  # not one name per feature
    assert saved_columns(model) is None


def test_names_fitted_from_a_dataframe_or_an_estimator_have_no_label():
    model = cr.mlp([2, 2], seed=0)
    assert saved_columns(model) is None
    model.metadata["sklearn"] = {"attributes": {"feature_names_in_": ["p", "q"]}}
    assert saved_columns(model) == (["p", "q"], None)
    model.preprocessor = Preprocessor(n_features=2, feature_names=["x", "z"])
    assert saved_columns(model) == (["x", "z"], None)


def test_text_classes_come_from_the_preprocessor_else_the_estimator():
    model = cr.mlp([2, 2], seed=0)
    assert not has_text_classes(model)
    model.metadata["sklearn"] = {"attributes": {"classes_": ["no", "yes"]}}
    assert has_text_classes(model)
    model.preprocessor = Preprocessor(n_features=2, classes=[0, 1])
    assert not has_text_classes(model)


@pytest.mark.parametrize("seed, test_size", [(1, None), (None, 0.5), (1, 0.5)])
def test_all_rows_cannot_be_combined_with_a_split_option(seed, test_size):
    args = SimpleNamespace(data="wine", all_rows=True, seed=seed, test_size=test_size)
    with pytest.raises(ConfigError, match="--all-rows scores every row of DATA; it cannot be combined with --seed or "
                                          "--test-size"):
        scored_rows(args, cr.mlp([13, 3], seed=0))
