"""chainrule evaluate MODEL DATA: scores of a model file on a CSV or a built-in test split,
and one-line errors for damaged models and data that do not fit the model."""

import json
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.evaluate import score_text

from tests.data.writers import write_idx

from .helpers import assert_one_line_error, call, fifo_holding, iris_features, iris_rows, run_cli, write_csv


def test_the_training_csv_is_scored_on_the_runs_test_split(iris_run, iris_csv, capsys):
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", iris_csv)
    assert (code, err) == (0, "")
    test = json.loads((iris_run / "metrics.json").read_text())["test"]
    assert out == (f"loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f} "
                   f"on the test split: 30 of 150 rows (seed 0, test size 0.2)\n")


def test_the_training_csv_split_takes_seed_and_test_size(iris_run, iris_csv, capsys):
    code, out, _ = call(capsys, "evaluate", iris_run / "model.safetensors", iris_csv, "--json",
                        "--seed", "1", "--test-size", "0.5")
    assert code == 0
    results = json.loads(out)
    assert (results["rows"], results["n_samples"], results["n_rows"], results["seed"]) == ("test split", 75, 150, 1)


def test_all_rows_scores_every_row_of_the_training_csv(iris_run, iris_csv, capsys):
    code, out, _ = call(capsys, "evaluate", iris_run / "model.safetensors", iris_csv, "--all-rows")
    assert code == 0
    scores = cr.evaluate(cr.load(iris_run / "model.safetensors"), *iris_features())
    assert out == f"loss {scores['loss']:.4f}, accuracy {scores['accuracy']:.4f} on all 150 rows\n"


def test_evaluate_json(iris_run, iris_csv, capsys):
    code, out, _ = call(capsys, "evaluate", iris_run / "model.safetensors", iris_csv, "--json", "--all-rows")
    assert code == 0
    results = json.loads(out)
    scores = cr.evaluate(cr.load(iris_run / "model.safetensors"), *iris_features())
    assert results == {"model": str(iris_run / "model.safetensors"), "data": str(iris_csv), "n_samples": 150,
                       "rows": "all rows", "n_rows": 150, **scores}


def test_a_training_csv_changed_since_is_scored_whole_and_says_so(iris_csv, tmp_path, capsys):
    data = tmp_path / "iris.csv"
    data.write_bytes(iris_csv.read_bytes())
    assert call(capsys, "train", "--data", data, "--hidden", "4", "--epochs", "2", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    data.write_bytes(iris_csv.read_bytes() + b"5.0,3.0,1.5,0.2,setosa\n")
    code, out, _ = call(capsys, "evaluate", tmp_path / "run" / "model.safetensors", data, "--json")
    assert code == 0
    results = json.loads(out)
    assert (results["rows"], results["n_samples"]) == ("all rows", 151)
    assert "changed since training" in results["note"]


@pytest.mark.parametrize("kind", ["npz", "idx"])
def test_the_training_npz_or_idx_data_is_scored_on_the_runs_test_split(tmp_path, monkeypatch, capsys, kind):
    """It was scored whole: the run's training rows, four fifths of them, with its test rows."""
    monkeypatch.chdir(tmp_path)
    X, y = iris_features()
    if kind == "npz":
        data = "iris.npz"
        np.savez(data, X=X, y=y)
    else:
        data = "mn"
        (tmp_path / data).mkdir()
        write_idx(tmp_path / data / "train-images-idx3-ubyte", np.round(X * 10).astype(np.uint8).reshape(150, 2, 2))
        write_idx(tmp_path / data / "train-labels-idx1-ubyte", np.unique(y, return_inverse=True)[1].astype(np.uint8))
    assert call(capsys, "train", "--data", data, "--hidden", "4", "--epochs", "2", "--quiet", "--no-plots",
                "--out", "run")[0] == 0
    code, out, err = call(capsys, "evaluate", "run/model.safetensors", data)
    assert (code, err) == (0, "")
    test = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    assert out == (f"loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f} "
                   f"on the test split: 30 of 150 rows (seed 0, test size 0.2)\n")
    code, out, _ = call(capsys, "evaluate", "run/model.safetensors", data, "--all-rows")
    assert code == 0 and out.endswith(" on all 150 rows\n")
    if kind == "npz":  # another archive, or this one changed since, is scored whole, and not split
        np.savez(data, X=X[:100], y=y[:100])
        code, out, _ = call(capsys, "evaluate", "run/model.safetensors", data, "--json")
        results = json.loads(out)
        assert (code, results["rows"], results["n_samples"]) == (0, "all rows", 100)
        assert "changed since training" in results["note"]
        code, _, err = call(capsys, "evaluate", "run/model.safetensors", data, "--seed", "1")
        assert_one_line_error(code, err, "--seed: iris.npz is not split (the file changed since training")


def test_the_training_npz_with_its_own_test_part_is_refused_a_split_for_that_reason(tmp_path, monkeypatch, capsys):
    """--seed was refused as 'neither a built-in data set nor the data file the model was trained on', of the
    very file the model was trained on."""
    monkeypatch.chdir(tmp_path)
    X, y = iris_features()
    test = np.arange(150) % 3 == 0  # every class on both sides
    np.savez("parts.npz", X=X[~test], y=y[~test], X_test=X[test], y_test=y[test])
    assert call(capsys, "train", "--data", "parts.npz", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", "run")[0] == 0
    code, _, err = call(capsys, "evaluate", "run/model.safetensors", "parts.npz", "--seed", "1")
    assert_one_line_error(code, err, "--seed: parts.npz is not split (it has a test part of its own, scored as it "
                                     "is); it splits only a built-in data set or the model's training file without "
                                     "a test part")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_the_training_csv_through_a_pipe_is_scored_whole_and_says_so(tmp_path, monkeypatch, capsys):
    """A run on a pipe records no SHA-256 of it, and a FIFO at the run's data path was taken at its word: split,
    and 30 of its rows called the run's test split, whatever rows it brought (docs/usage.md said it is scored
    whole)."""
    monkeypatch.chdir(tmp_path)
    text = "\n".join(",".join(row) for row in iris_rows()) + "\n"
    with fifo_holding(tmp_path / "rows.csv", text):
        assert call(capsys, "train", "--data", "rows.csv", "--hidden", "4", "--epochs", "1", "--quiet",
                    "--no-plots", "--out", "run")[0] == 0
    os.unlink("rows.csv")
    with fifo_holding(tmp_path / "rows.csv", text):
        code, out, err = call(capsys, "evaluate", "run/model.safetensors", "rows.csv", "--json")
    assert code == 0, err
    results = json.loads(out)
    assert (results["rows"], results["n_samples"]) == ("all rows", 150)
    assert results["note"] == ("it is a pipe, whose rows cannot be compared with those the model was trained on, "
                               "so its test split is unknown")
    os.unlink("rows.csv")
    with fifo_holding(tmp_path / "rows.csv", text):  # read by nobody: refused before
        code, _, err = call(capsys, "evaluate", "run/model.safetensors", "rows.csv", "--test-size", "0.5")
    assert_one_line_error(code, err, "--test-size: rows.csv is not split (it is a pipe, whose rows cannot be compared")


def test_split_options_are_refused_for_a_csv_scored_whole(iris_run, tmp_path, capsys):
    write_csv(tmp_path / "other.csv", iris_rows())
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "other.csv", "--seed", "1")
    assert_one_line_error(code, err, "--seed", "other.csv is not split", "neither a built-in")
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "other.csv", "--json")
    assert code == 0 and json.loads(out)["rows"] == "all rows"


def test_the_training_csv_read_with_another_label_is_scored_whole(iris_run, iris_csv, capsys):
    model = iris_run / "model.safetensors"
    code, _, err = call(capsys, "evaluate", model, iris_csv, "--label", "petal_width", "--seed", "1")
    assert_one_line_error(code, err, "--label: 'petal_width' is one of the model's feature columns")  # not a label
    # The label column it was trained on, named, is still the run's split.
    code, out, err = call(capsys, "evaluate", model, iris_csv, "--label", "species", "--json")
    assert code == 0, err
    assert (json.loads(out)["rows"], json.loads(out)["n_samples"]) == ("test split", 30)


def test_split_options_are_refused_for_a_file_with_its_own_test_part(iris_run, tmp_path, capsys):
    X, y = iris_features()
    np.savez(tmp_path / "parts.npz", X=X[:100], y=y[:100], X_test=X[100:], y_test=y[100:])
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "parts.npz", "--test-size", "0.5")
    assert_one_line_error(code, err, "--test-size", "parts.npz is not split")
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "parts.npz", "--json")
    assert code == 0, err
    assert (json.loads(out)["rows"], json.loads(out)["n_samples"], json.loads(out)["n_rows"]) == ("test part", 50, 150)
    code, out, _ = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "parts.npz", "--json",
                        "--all-rows")
    assert (json.loads(out)["rows"], json.loads(out)["n_samples"]) == ("all rows", 150)


def test_a_model_that_saved_no_hash_of_its_training_csv_is_taken_at_its_word(iris_run, iris_csv, tmp_path, capsys):
    # Models written before train saved the SHA-256: the same path is taken as the same file.
    model = cr.load(iris_run / "model.safetensors")
    assert "sha256" in model.metadata["data"]
    del model.metadata["data"]["sha256"]
    cr.save(model, tmp_path / "old.safetensors")
    code, out, err = call(capsys, "evaluate", tmp_path / "old.safetensors", iris_csv, "--json")
    assert code == 0, err
    assert (json.loads(out)["rows"], json.loads(out)["n_samples"]) == ("test split", 30)


def test_all_rows_of_a_built_in(tmp_path, capsys):
    assert call(capsys, "train", "--data", "wine", "--hidden", "8", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path)[0] == 0
    code, out, _ = call(capsys, "evaluate", tmp_path / "model.safetensors", "wine", "--all-rows")
    assert code == 0 and out.endswith(" on all 178 rows\n")
    code, _, err = call(capsys, "evaluate", tmp_path / "model.safetensors", "wine", "--all-rows", "--seed", "1")
    assert_one_line_error(code, err, "--all-rows", "--seed")


def test_a_built_in_name_scores_its_test_split(tmp_path, capsys):
    assert call(capsys, "train", "--data", "wine", "--hidden", "8", "--epochs", "5", "--quiet", "--no-plots",
                "--out", tmp_path)[0] == 0
    code, out, _ = call(capsys, "evaluate", tmp_path / "model.safetensors", "wine", "--json")
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert json.loads(out)["n_samples"] == 36
    assert json.loads(out)["accuracy"] == metrics["test"]["accuracy"]
    assert (json.loads(out)["rows"], json.loads(out)["n_rows"]) == ("test split", 178)


def test_the_label_column_may_be_named(iris_run, tmp_path, capsys):
    rows = [[row[4], *row[:4]] for row in iris_rows()]  # species first
    write_csv(tmp_path / "first.csv", rows)
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "first.csv",
                          "--label", "species", "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == cr.evaluate(cr.load(iris_run / "model.safetensors"),
                                                      *iris_features())["accuracy"]


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("training_file", [True, False])
def test_a_label_that_names_one_of_the_models_features_is_refused(iris_run, iris_csv, tmp_path, capsys, command,
                                                                  training_file):
    # evaluate scored the model against its own input column (or named a label "not among the classes")
    data = iris_csv
    if not training_file:
        data = tmp_path / "other.csv"
        write_csv(data, iris_rows()[:20])
    code, out, err = call(capsys, command, iris_run / "model.safetensors", data, "--label", "petal_length")
    assert_one_line_error(code, err, "--label: 'petal_length' is one of the model's feature columns (it reads "
                                     "'sepal_length', 'sepal_width', 'petal_length', 'petal_width'); name the column")
    assert out == ""


def test_a_test_size_that_leaves_no_training_row_is_named_as_the_option(tmp_path, capsys):
    code, _, _ = call(capsys, "train", "--data", "iris", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                      "--out", tmp_path / "run")
    assert code == 0
    code, _, err = call(capsys, "evaluate", tmp_path / "run" / "model.safetensors", "iris", "--test-size", "0.999")
    assert_one_line_error(code, err, "--test-size: holding out 0.999 of the 150 rows leaves 0 for training")


def test_a_test_size_that_leaves_no_training_row_of_the_training_npz_is_named_as_the_option(tmp_path, monkeypatch,
                                                                                            capsys):
    monkeypatch.chdir(tmp_path)
    X, y = iris_features()
    np.savez("iris.npz", X=X, y=y)
    assert call(capsys, "train", "--data", "iris.npz", "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", "run")[0] == 0
    code, _, err = call(capsys, "evaluate", "run/model.safetensors", "iris.npz", "--test-size", "0.999")
    assert_one_line_error(code, err, "--test-size: holding out 0.999 of the 150 rows leaves 0 for training")


def test_a_feature_count_that_differs_from_the_model_is_refused(iris_run, capsys):
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", "wine")
    assert_one_line_error(code, err, "wine: rows of 13 features", "takes 4")


def test_label_with_a_built_in_data_set_is_refused(iris_run, capsys):
    # A built-in's labels are its own: --label, a CSV column, would be ignored without a word.
    for options in ([], ["--all-rows"]):
        code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", "iris", "--label", "species", *options)
        assert_one_line_error(code, err, "--label: iris is a built-in data set", "column of a CSV file")


def test_labels_the_model_never_saw_are_refused(iris_run, capsys):
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", "iris")  # labels 0, 1, 2
    assert_one_line_error(code, err, "iris: label 1 was not among the training classes "
                                     "['setosa', 'versicolor', 'virginica']")  # DATA's labels, not an argument y
    assert err.endswith("; the labels here are integers, the training classes text\n")


def test_integer_labels_of_a_csv_file_for_a_model_of_text_classes_say_so(iris_run, tmp_path, capsys):
    """It said only "line 2: label '0' was not among the training classes [...]"."""
    rows = iris_rows()
    species = sorted({row[-1] for row in rows[1:]})
    write_csv(tmp_path / "coded.csv", [rows[0]] + [row[:-1] + [str(species.index(row[-1]))] for row in rows[1:]])
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "coded.csv")
    assert (code, out) == (2, "")
    assert err == (f"chainrule: error: {tmp_path / 'coded.csv'}: line 2: label '0' was not among the training classes "
                   f"['setosa', 'versicolor', 'virginica']; the labels here are integers, the training classes text\n")


def test_bad_data_is_refused(iris_run, tmp_path, capsys):
    rows = iris_rows()
    rows[3][0] = "nan"
    write_csv(tmp_path / "nan.csv", rows)
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "nan.csv")
    assert_one_line_error(code, err, "nan.csv", "line 4, column 1 'sepal_length'")
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "none.csv")
    assert_one_line_error(code, err, "none.csv")


def damaged(tmp_path, source, how):
    data = (source / "model.safetensors").read_bytes()
    path = tmp_path / f"{how}.safetensors"
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "tampered":  # a weight's shape in the header no longer matches the architecture
        path.write_bytes(data.replace(b"[4,16]", b"[16,4]", 1))
    elif how == "pickle":
        path.write_bytes(b"\x80\x04\x95" + bytes(64))
    else:
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize("how", ["truncated", "tampered", "pickle", "empty"])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_damaged_model_file_is_refused(iris_run, iris_csv, tmp_path, capsys, how, command):
    path = damaged(tmp_path, iris_run, how)
    code, out, err = call(capsys, command, path, iris_csv)
    assert_one_line_error(code, err, str(path))
    assert out == ""


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_runs_checkpoint_reads_csv_columns_by_name_as_its_model_file_does(iris_run, iris_csv, tmp_path, capsys,
                                                                            command):
    # A checkpoint had no saved names: it read a reordered CSV by position (accuracy 0.33 for 0.97)
    rows = [[row[3], row[2], row[1], row[0], row[4]] for row in iris_rows()]  # the features in reverse order
    write_csv(tmp_path / "reversed.csv", rows)
    checkpoint = iris_run / "checkpoint.safetensors"
    answers = [call(capsys, command, checkpoint, data, *(["--all-rows"] if command == "evaluate" else []))
               for data in (iris_csv, tmp_path / "reversed.csv")]
    assert answers[0][0] == 0 and answers[0] == answers[1]
    if command == "evaluate":  # the training CSV is split as with the model file: its run's test rows
        code, out, err = call(capsys, "evaluate", checkpoint, iris_csv)
        assert (code, err) == (0, "") and out.endswith("on the test split: 30 of 150 rows (seed 0, test size 0.2)\n")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("data, meant", [("irsi", "iris"), ("Wine", "wine")])
def test_a_mistyped_built_in_name_ends_with_the_one_meant(iris_run, tmp_path, monkeypatch, capsys, command, data,
                                                         meant):
    # "irsi: no such file or directory", where train's --data irsi said "(did you mean 'iris'?)"
    monkeypatch.chdir(tmp_path)
    code, _, err = call(capsys, command, iris_run / "model.safetensors", data)
    assert_one_line_error(code, err, f"{data}: no such file or directory (did you mean '{meant}'?)")


def test_a_missing_file_far_from_any_built_in_name_suggests_none(iris_run, tmp_path, capsys):
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "scores.csv")
    line = assert_one_line_error(code, err, "scores.csv")
    assert "did you mean" not in line


def test_a_missing_model_file_is_refused(iris_csv, tmp_path, capsys):
    code, _, err = call(capsys, "evaluate", tmp_path / "none.safetensors", iris_csv)
    assert_one_line_error(code, err, "none.safetensors")


def test_the_saved_label_column_is_used_without_label(iris_run, tmp_path, capsys):
    rows = [[row[4], *row[:4]] for row in iris_rows()]  # species first, not last
    write_csv(tmp_path / "first.csv", rows)
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", tmp_path / "first.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == cr.evaluate(cr.load(iris_run / "model.safetensors"),
                                                      *iris_features())["accuracy"]


def test_a_file_without_the_label_column_is_refused_naming_it(iris_run, features_csv, capsys):
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", features_csv)
    assert_one_line_error(code, err, "features.csv", "no label column named 'species'")
    assert out == ""


def test_a_built_in_is_split_with_the_seed_and_test_size_of_training(tmp_path, capsys):
    assert call(capsys, "train", "--data", "wine", "--hidden", "8", "--epochs", "5", "--seed", "5",
                "--test-size", "0.3", "--quiet", "--no-plots", "--out", tmp_path)[0] == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    code, out, _ = call(capsys, "evaluate", tmp_path / "model.safetensors", "wine", "--json")
    assert code == 0
    scores = json.loads(out)
    assert scores["n_samples"] == 54
    assert (scores["loss"], scores["accuracy"]) == (metrics["test"]["loss"], metrics["test"]["accuracy"])
    code, out, _ = call(capsys, "evaluate", tmp_path / "model.safetensors", "wine", "--json", "--seed", "0",
                        "--test-size", "0.2")
    assert code == 0 and json.loads(out)["n_samples"] == 36


def test_number_labels_are_scored_against_text_classes(tmp_path, capsys):
    rows = [["a", "label"]] + [[str(i), "1" if i % 2 else "cat"] for i in range(20)]
    write_csv(tmp_path / "mixed.csv", rows)
    assert call(capsys, "train", "--data", tmp_path / "mixed.csv", "--hidden", "", "--epochs", "1", "--batch-size",
                "4", "--quiet", "--no-plots", "--out", tmp_path / "run")[0] == 0
    write_csv(tmp_path / "ones.csv", [["a", "label"], ["1", "1"], ["3", "1"]])
    code, out, err = call(capsys, "evaluate", tmp_path / "run" / "model.safetensors", tmp_path / "ones.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["n_samples"] == 2


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("options, fragment", [
    (["--seed", "-1"], "--seed: expected an integer from 0 to 2**128 - 1, got -1"),
    (["--seed", str(2**128)], f"--seed: expected an integer from 0 to 2**128 - 1, got {2**128}"),
    (["--test-size", "1.5"], "--test-size: expected a fraction in (0, 1), got 1.5"),
    (["--test-size", "nan"], "--test-size: expected a finite number, got nan"),  # as every real number option
])
def test_a_bad_split_option_is_named_as_the_option(tmp_path, capsys, command, options, fragment):
    assert call(capsys, "train", "--data", "wine", "--hidden", "", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path)[0] == 0
    code, out, err = call(capsys, command, tmp_path / "model.safetensors", "wine", *options)
    assert_one_line_error(code, err, fragment)
    assert out == ""


@pytest.mark.parametrize("estimator", [False, True])
def test_a_regressor_of_two_outputs_is_refused_naming_data_and_why(tmp_path, capsys, estimator):
    # MSE's "expected targets of shape (n_samples, 2), got (40,)" named neither DATA nor the cause
    X = np.random.default_rng(0).normal(size=(40, 3))
    Y = np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1)
    path = tmp_path / "model.safetensors"
    if estimator:
        from chainrule.sklearn import MLPRegressor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached
            MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, Y).save(path)
    else:
        model = cr.mlp([3, 4, 2], seed=0)
        cr.fit(model, X, Y, epochs=1, verbose=0)
        cr.save(model, path)
    data = write_csv(tmp_path / "rows.csv", [["a", "b", "c", "label"]] + [[*map(str, row), "0.5"] for row in X])
    code, out, err = call(capsys, "evaluate", path, data, "--all-rows")
    assert_one_line_error(code, err, f"{data}: the model is a regressor of 2 outputs, but DATA gives one target per "
                                     f"row (one label column)", "cr.evaluate(model, X, Y) on targets of shape "
                                     "(n_samples, 2)")
    assert out == ""


@pytest.mark.parametrize("made_by", ["cr.fit", "MLPRegressor", "no preprocessor"])
def test_text_labels_for_a_regressor_are_refused_naming_data(tmp_path, capsys, made_by):
    # was MSE's "MSE: expected numeric targets, got dtype <U10": neither DATA nor its labels named
    X = np.random.default_rng(0).normal(size=(40, 2))
    path = tmp_path / "model.safetensors"
    if made_by == "MLPRegressor":
        from chainrule.sklearn import MLPRegressor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached
            MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, 0]).save(path)
    else:
        model = cr.mlp([2, 4, 1], seed=0)
        if made_by == "cr.fit":
            cr.fit(model, X, 3 * X[:, 0] + 1, epochs=1, verbose=0)
        cr.save(model, path)
    data = write_csv(tmp_path / "rows.csv", [["c0", "c1", "species"]] + [[*map(str, row), "setosa"] for row in X[:5]])
    code, out, err = call(capsys, "evaluate", path, data, "--all-rows")
    if made_by == "no preprocessor":
        assert_one_line_error(code, err, f"{data}: DATA's labels are text ('setosa'), but the model has no "
                                         "preprocessor", "taken as a regressor")
    else:
        assert_one_line_error(code, err, f"{data}: the model is a regressor, but DATA's labels are text ('setosa')",
                              "--label")
    assert out == ""


@pytest.mark.parametrize("label, advice", [
    ("1,000,000", "which looks like the number 1000000 written with commas between thousands; chainrule reads numbers "
                  "without separators: convert the file, e.g. with pandas: pandas.read_csv(path, thousands=',')"),
    ("12,345.6", "which looks like the number 12345.6 written with a comma between thousands;"),
    ("1,000", "which looks like the number 1.000 written with a decimal comma, or 1000 with a comma between thousands"),
    ("0,5", "which looks like the number 0.5 written with a decimal comma; chainrule reads a decimal point")])
def test_a_regressors_targets_written_with_commas_are_told_as_numbers_not_as_another_column(tmp_path, capsys, label,
                                                                                             advice):
    """They got the hint for text, "name the column of numbers with --label": the column is the right one, its
    numbers written as a spreadsheet exports them."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = cr.mlp([2, 4, 1], seed=0)
    cr.fit(model, X, 3 * X[:, 0] + 1, epochs=1, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    data = write_csv(tmp_path / "rows.csv", [["c0", "c1", "y"]] + [[*map(str, row), label] for row in X[:5]])
    code, out, err = call(capsys, "evaluate", tmp_path / "model.safetensors", data, "--all-rows")
    line = assert_one_line_error(code, err, f"{data}: the model is a regressor, but DATA's labels are text; expected "
                                            f"numeric targets, found '{label}', {advice}")
    assert "--label" not in line and out == ""


def test_text_labels_of_an_npz_archive_for_a_regressor_are_refused_without_advising_label(tmp_path, capsys):
    # was "... expected numeric targets: name the column of numbers with --label", which an NPZ archive refuses
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = cr.mlp([2, 4, 1], seed=0)
    cr.fit(model, X, X[:, 0], epochs=1, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    np.savez(tmp_path / "rows.npz", X=X[:5], y=np.array(["setosa"] * 5))
    code, out, err = call(capsys, "evaluate", tmp_path / "model.safetensors", tmp_path / "rows.npz")
    line = assert_one_line_error(code, err, f"{tmp_path / 'rows.npz'}: the model is a regressor, but DATA's labels "
                                            "are text ('setosa'); expected numeric targets: save the archive's y as "
                                            "numbers")
    assert "--label" not in line and out == ""


def test_a_regression_target_too_large_for_the_models_dtype_names_data(tmp_path, capsys):
    # was MSE's "targets: expected finite values, found 6.4e+299 at index (0, 0)": no file named
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = cr.mlp([2, 4, 1], seed=0)
    cr.fit(model, X, 3 * X[:, 0] + 1, epochs=1, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    data = write_csv(tmp_path / "rows.csv", [["c0", "c1", "label"]] + [[*map(str, row), "1e300"] for row in X[:5]])
    code, out, err = call(capsys, "evaluate", tmp_path / "model.safetensors", data, "--all-rows")
    assert_one_line_error(code, err, f"{data}: the target 1e+300 (5 of the 5 rows scored) is too large for the "
                                     f"model's float32, whose largest magnitude is 3.403e+38")
    assert out == ""


def test_targets_beyond_float32_are_scored_for_a_model_that_standardizes_them(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = cr.mlp([2, 4, 1], seed=0)
    cr.fit(model, X, (3 * X[:, 0] + 5) * 1e38, epochs=1, verbose=0, standardize_targets=True)  # in float64 first
    cr.save(model, tmp_path / "model.safetensors")
    data = write_csv(tmp_path / "rows.csv", [["c0", "c1", "label"]] + [[*map(str, row), "5e38"] for row in X[:5]])
    code, out, err = call(capsys, "evaluate", tmp_path / "model.safetensors", data, "--all-rows", "--json")
    assert code == 0, err
    assert np.isfinite(json.loads(out)["loss"])
    # but one that standardizes beyond float32 is named (the scores were inf)
    data = write_csv(tmp_path / "far.csv", [["c0", "c1", "label"]] + [[*map(str, row), "1e300"] for row in X[:5]])
    code, out, err = call(capsys, "evaluate", tmp_path / "model.safetensors", data, "--all-rows")
    assert_one_line_error(code, err, f"{data}: the target 1e+300 (5 of the 5 rows scored) is once standardized, "
                                     f"(y − mean) / scale, too large for the model's float32")


@pytest.mark.parametrize("estimator", [False, True])
def test_labels_with_spaces_around_them_are_scored_from_a_csv_file(tmp_path, capsys, estimator):
    # the CSV reader strips ' yes' to 'yes', which was then "not among the model's classes" (pandas keeps it)
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.array([" yes", "no"])[(X[:, 0] > 0).astype(int)]
    path = tmp_path / "model.safetensors"
    if estimator:
        from chainrule.sklearn import MLPClassifier
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0).fit(X, y)
        fitted.save(path)
        expected = fitted.score(X, y)
    else:
        model = cr.mlp([2, 4, 2], seed=0)
        cr.fit(model, X, y, epochs=5, verbose=0)
        cr.save(model, path)
        expected = cr.evaluate(model, X, y)["accuracy"]
    rows = [[*map(str, row), label] for row, label in zip(X, y)]
    data = write_csv(tmp_path / "rows.csv", [["a", "b", "label"]] + rows)
    code, out, err = call(capsys, "evaluate", path, data, "--all-rows", "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == pytest.approx(expected)


@pytest.mark.parametrize("value, text", [(0.96666, "0.9667"), (0.0, "0.0000"), (3.1e-05, "3.1e-05"),
                                         (4e35, "4e+35"), (float("inf"), "inf"), (-2.5, "-2.5000")])
def test_scores_are_printed_with_digits_that_show_them(value, text):
    # with 4 decimals a loss of 3.1e-05 printed as 0.0000 and one of 4e35 as 36 digits
    assert score_text(value) == text


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_an_unknown_label_in_a_pipe_is_named_without_reading_it_again(iris_run, tmp_path):
    """The line was looked for by reading DATA again: a FIFO, emptied by the first read, waited for ever."""
    header, *rows = iris_rows()
    rows[3][-1] = "virginca"
    text = "\n".join(",".join(row) for row in [header, *rows[:6]]) + "\n"
    with fifo_holding(tmp_path / "rows.csv", text) as fifo:
        result = run_cli("evaluate", iris_run / "model.safetensors", fifo, cwd=tmp_path, timeout=60)
    assert_one_line_error(result.returncode, result.stderr, f"{fifo}: label 'virginca' was not among the training "
                                                            "classes")


def test_an_unknown_label_of_a_csv_scored_whole_is_named_by_its_line(iris_run, tmp_path, capsys):
    # the message named the file alone, where every other cell error of a CSV names its line
    header, *rows = iris_rows()
    rows[120][-1] = "virginca"
    data = write_csv(tmp_path / "typo.csv", [header, *rows])
    code, _, err = call(capsys, "evaluate", iris_run / "model.safetensors", data)
    assert_one_line_error(code, err, f"{data}: line 122: label 'virginca' was not among the training classes")
