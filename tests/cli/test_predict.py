"""chainrule predict MODEL DATA: labels or probabilities as CSV, to stdout or atomically to
-o FILE, from rows with or without a label column."""

import csv
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import csv_file

from tests.data.writers import mnist_like, write_idx

from .helpers import (assert_one_line_error, call, fifo_holding, iris_features, iris_rows, run_bound_by_permissions,
                      run_cli, write_csv)


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_predictions_go_to_stdout_in_the_training_labels(iris_run, iris_csv, capsys):
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv)
    assert (code, err) == (0, "")
    header, rows = read_csv(out)
    X, _ = iris_features()
    assert header == ["prediction"]
    assert [row[0] for row in rows] == cr.predict(cr.load(iris_run / "model.safetensors"), X).tolist()


def test_output_to_a_file_is_the_same_csv(iris_run, iris_csv, tmp_path, capsys):
    _, expected, _ = call(capsys, "predict", iris_run / "model.safetensors", iris_csv)
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "-o", tmp_path / "out.csv")
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "out.csv").read_text() == expected
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("option", ["--proba", "--probabilities"])  # the second, export's name, was refused
def test_probabilities_have_a_column_per_class(iris_run, iris_csv, capsys, option):
    code, out, _ = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, option)
    assert code == 0
    header, rows = read_csv(out)
    assert header == ["setosa", "versicolor", "virginica"]
    proba = np.array(rows, dtype=float)
    X, _ = iris_features()
    np.testing.assert_allclose(proba, cr.predict_proba(cr.load(iris_run / "model.safetensors"), X), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_probabilities_are_written_with_the_digits_of_the_models_dtype(iris_run, iris_csv, capsys):
    """A float32 model's probabilities were written as the float64 of each float32 (0.9999179840087891, digits
    of rounding noise), where its one-column predictions were written as float32 (196.72661). Each cell now reads
    back as the very float32 that cr.predict_proba returns."""
    code, out, _ = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "--proba")
    assert code == 0
    proba = cr.predict_proba(cr.load(iris_run / "model.safetensors"), iris_features()[0])
    assert proba.dtype == np.float32
    rows = read_csv(out)[1]
    assert rows == [[str(value) for value in row] for row in proba]
    assert np.array_equal(np.array(rows, dtype=np.float32), proba)
    assert max(len(cell) for row in rows for cell in row) <= 15  # '1.2345678e-05' at most, no 17 digits


def test_rows_without_a_label_column_are_predicted(iris_run, features_csv, capsys):
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", features_csv)
    assert code == 0, err
    header, rows = read_csv(out)
    X, _ = iris_features()
    assert header == ["prediction"]
    assert [row[0] for row in rows] == cr.predict(cr.load(iris_run / "model.safetensors"), X[:5]).tolist()


@pytest.mark.parametrize("label", [None, "species"])
def test_rows_whose_label_column_is_left_empty_are_predicted(iris_run, tmp_path, capsys, label):
    """They were refused ("line 2, column 5 'species': empty label cell", exit 2), while '?' labels
    were taken: the usual file of new rows to score keeps its label column, empty."""
    rows = iris_rows()
    blank = write_csv(tmp_path / "blank.csv", [rows[0]] + [row[:4] + [""] for row in rows[1:]])
    options = [] if label is None else ["--label", label]
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", blank, *options)
    assert (code, err) == (0, "")
    X, _ = iris_features()
    assert [row[0] for row in read_csv(out)[1]] == cr.predict(cr.load(iris_run / "model.safetensors"), X).tolist()
    # Some rows labelled and others not is most likely a mistake: named by its line.
    partly = write_csv(tmp_path / "partly.csv", rows[:3] + [row[:4] + [""] for row in rows[3:]])
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", partly, *options)
    assert_one_line_error(code, err, f"{partly}: line 4, column 5 'species': empty label cell, where other rows hold "
                                     f"labels; leave every label cell empty (or the column out)")
    assert out == ""
    # evaluate needs the labels: an empty column is refused, as before.
    code, out, err = call(capsys, "evaluate", iris_run / "model.safetensors", blank, *options)
    assert_one_line_error(code, err, f"{blank}: line 2, column 5 'species': empty label cell")


def test_a_file_separated_by_semicolons_is_named_so_by_predict_evaluate_and_train(iris_run, tmp_path, capsys):
    """Excel's CSV where the decimal mark is a comma: predict said the file had no column sepal_length and
    listed its header as one column, train that the header names one column, neither why."""
    rows = iris_rows()
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("".join(";".join(cell.replace(".", ",") for cell in row) + "\n" for row in rows[:6]))
    for command in (["predict", iris_run / "model.safetensors", semicolons],
                    ["evaluate", iris_run / "model.safetensors", semicolons],
                    ["train", "--data", semicolons, "--out", tmp_path / "run"]):
        code, out, err = call(capsys, *command)
        assert_one_line_error(code, err, f"{semicolons}: line 1: the header has no comma but 4 semicolons",
                              "chainrule reads comma-separated files", "pandas.read_csv(path, sep=';')",
                              "(add decimal=',' where its numbers are written 3,5)")
        assert out == ""


def test_rows_of_a_model_of_one_feature_whose_name_holds_a_semicolon_are_predicted(tmp_path, capsys):
    """Its one column, 'dose;mg' (quoted in the file it was trained on), was refused as a file separated by
    semicolons, and so was a value beyond float32 once standardized when the file was read again to name its cell."""
    train = tmp_path / "train.csv"
    train.write_text('"dose;mg",label\n' + "".join(f"{0.1 * (k % 7):.1f},{'ab'[k % 2]}\n" for k in range(40)))
    code, _, err = call(capsys, "train", "--data", train, "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                        "--out", tmp_path / "run")
    assert code == 0, err
    rows = tmp_path / "rows.csv"
    rows.write_text('"dose;mg"\n0.1\n0.5\n')
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", rows)
    assert (code, err) == (0, "") and read_csv(out)[0] == ["prediction"] and len(read_csv(out)[1]) == 2
    rows.write_text('"dose;mg"\n0.1\n3e38\n')
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", rows)
    assert_one_line_error(code, err, f"{rows}: line 3, column 1 'dose;mg': ")


def test_a_missing_value_in_rows_to_predict_is_named_without_speaking_of_training(iris_run, tmp_path, capsys):
    """It said 'chainrule trains on complete rows' to a user predicting new rows."""
    rows = iris_rows()
    missing = write_csv(tmp_path / "missing.csv", [rows[0][:4], rows[1][:4], ["5.0", "", "1.4", "0.2"]])
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", missing)
    line = assert_one_line_error(code, err, f"{missing}: line 3, column 2 'sepal_width': expected a number, found an "
                                            f"empty cell (a missing value); chainrule reads complete rows only, to "
                                            f"train and to predict: fill in or drop the rows with missing values")
    assert "trains" not in line and out == ""


def test_rows_written_with_pandas_index_say_how_to_write_them_without(iris_run, tmp_path, capsys):
    """DataFrame.to_csv(path) writes the index as a first column without a name: the line said only that column 1
    had no name. A column without a name elsewhere is not taken for an index."""
    rows = iris_rows()
    indexed = write_csv(tmp_path / "indexed.csv", [[""] + rows[0][:4]] + [[k] + row[:4] for k, row in
                                                                          enumerate(rows[1:6])])
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", indexed)
    assert_one_line_error(code, err, f"{indexed}: line 1: column 1 has no name in the header; pandas' "
                                     f"DataFrame.to_csv writes its index so (an unnamed first column of row numbers): "
                                     f"write the file with to_csv(path, index=False), or give the column a name")
    unnamed = write_csv(tmp_path / "unnamed.csv", [rows[0][:4] + [""]] + [row[:4] + [k] for k, row in
                                                                         enumerate(rows[1:6])])
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", unnamed)
    assert assert_one_line_error(code, err).endswith(f"{unnamed}: line 1: column 5 has no name in the header")


def test_a_regressor_predicts_values_and_has_no_probabilities(tmp_path, capsys):
    assert call(capsys, "train", "--data", "diabetes", "--hidden", "4", "--epochs", "2", "--quiet", "--no-plots",
                "--out", tmp_path)[0] == 0
    code, out, _ = call(capsys, "predict", tmp_path / "model.safetensors", "diabetes")
    assert code == 0
    header, rows = read_csv(out)
    assert header == ["prediction"] and len(rows) == 89
    assert all(np.isfinite(float(row[0])) for row in rows)
    code, _, err = call(capsys, "predict", tmp_path / "model.safetensors", "diabetes", "--proba")
    # named as the option, not as the Python function (predict_proba) it would call
    line = assert_one_line_error(code, err, "--proba: the model is a regressor")
    assert "predict_proba" not in line


def test_an_empty_output_name_is_refused(iris_run, iris_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "-o", "")
    assert_one_line_error(code, err, "-o/--output", "expected a file name")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_output_dash_is_stdout(iris_run, iris_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _, expected, _ = call(capsys, "predict", iris_run / "model.safetensors", iris_csv)
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "--output", "-")
    assert (code, out, err) == (0, expected, "")
    assert list(tmp_path.iterdir()) == []  # no file named "-"


@pytest.mark.parametrize("where", ["under a file", "in a missing folder"])
def test_an_unwritable_output_is_refused_and_nothing_is_written(iris_run, iris_csv, tmp_path, capsys, where):
    (tmp_path / "file").write_text("keep")
    target = tmp_path / ("file" if where == "under a file" else "missing") / "out.csv"
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "-o", target)
    # named by the option, before the model is read (the write at the end named the path alone)
    reason = "is not a directory" if where == "under a file" else "does not exist"
    assert_one_line_error(code, err, f"-o: {target}: cannot write (directory {str(target.parent)!r} {reason})")
    assert out == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]
    assert (tmp_path / "file").read_text() == "keep"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_an_output_that_the_write_finds_full_names_the_option(iris_run, iris_csv, capsys):
    # a full disk, found by the write alone after the checks, said "/dev/full: cannot write (...)" without -o
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "-o", "/dev/full")
    assert_one_line_error(code, err)
    assert (out, err) == ("", "chainrule: error: -o: /dev/full: cannot write (No space left on device)\n")


def test_an_output_naming_a_directory_is_refused_naming_the_option(iris_run, iris_csv, tmp_path, monkeypatch, capsys):
    """-o out/ wrote the predictions to a file named 'out'."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "-o", "out/")
    assert_one_line_error(code, err, "-o: expected a file name, got 'out/', which names a directory")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_a_read_only_output_file_is_refused_and_kept(iris_run, iris_csv, tmp_path):
    """The atomic write renamed a new file onto a file made read-only; a shell redirection refuses it."""
    output = tmp_path / "out.csv"
    output.write_text("keep me")
    output.chmod(0o444)
    done = run_bound_by_permissions("predict", iris_run / "model.safetensors", iris_csv, "-o", output)
    assert_one_line_error(done.returncode, done.stderr, f"-o: {output}: cannot write: the file is read-only")
    assert output.read_text() == "keep me" and done.stdout == ""


@pytest.mark.parametrize("output", [[], ["-o", "/dev/stdout"]], ids=["stdout", "-o /dev/stdout"])
def test_a_closed_pipe_ends_quietly(iris_run, iris_csv, output):
    # chainrule predict ... | head: the reader leaves before the predictions are written.
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "predict", iris_run / "model.safetensors", iris_csv,
                                *output], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert err == ""


@pytest.mark.parametrize("output", [[], ["-o", "/dev/stdout"]], ids=["stdout", "-o /dev/stdout"])
def test_a_reader_that_leaves_midway_ends_quietly(iris_run, output, tmp_path):
    # chainrule predict ... | head -1: the reader takes a line and leaves while the predictions
    # are written: exit 1 (a closed pipe), no message, no usage error. The predictions of 300,000
    # rows are far more than a pipe holds. It exited 0: one write of them all, into a pipe whose reader
    # left midway, dropped the error.
    rows = iris_rows()
    write_csv(tmp_path / "many.csv", rows[:1] + rows[1:] * 2000)
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "predict", iris_run / "model.safetensors",
                                tmp_path / "many.csv", *output], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == b"prediction\n"
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert err == ""


def iris_columns(order):
    """Iris CSV rows with the columns in ``order`` (names from the header)."""
    rows = iris_rows()
    index = [rows[0].index(name) for name in order]
    return [[row[j] for j in index] for row in rows]


def test_columns_are_taken_by_the_names_the_model_was_trained_on(iris_run, tmp_path, capsys):
    # label first and features reversed: still the model's columns, not the last column as label
    order = ["species", "petal_width", "petal_length", "sepal_width", "sepal_length"]
    path = write_csv(tmp_path / "shuffled.csv", iris_columns(order))
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", path)
    assert code == 0, err
    X, _ = iris_features()
    assert [row[0] for row in read_csv(out)[1]] == cr.predict(cr.load(iris_run / "model.safetensors"), X).tolist()


def test_a_file_lacking_a_feature_column_of_the_model_is_refused(iris_run, tmp_path, capsys):
    path = write_csv(tmp_path / "three.csv", iris_columns(["sepal_length", "petal_length", "petal_width", "species"]))
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", path)
    assert_one_line_error(code, err, "three.csv", "no column named 'sepal_width'")
    assert out == ""


def test_a_model_trained_without_column_names_takes_csv_columns_by_position(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(40, 2))
    np.savez(tmp_path / "points.npz", X=X, y=(X[:, 0] > 0).astype(int))
    assert call(capsys, "train", "--data", tmp_path / "points.npz", "--hidden", "", "--epochs", "1", "--quiet",
                "--no-plots", "--out", tmp_path / "run")[0] == 0
    path = write_csv(tmp_path / "rows.csv", [["p", "q"], ["1.5", "-2"], ["-1", "3"]])
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", path)
    assert code == 0, err
    model = cr.load(tmp_path / "run" / "model.safetensors")
    assert [int(row[0]) for row in read_csv(out)[1]] == cr.predict(model, np.array([[1.5, -2], [-1, 3]])).tolist()


def test_an_npz_archive_of_new_inputs_alone_is_predicted(tmp_path, capsys):
    # predict needs no labels: np.savez(path, X=X_new) was refused for want of 'y'. An archive with
    # a test part gives the predictions of X_test, as evaluate scores it.
    X = np.random.default_rng(0).normal(size=(40, 2))
    np.savez(tmp_path / "points.npz", X=X[:30], y=(X[:30, 0] > 0).astype(int), X_test=X[30:],
             y_test=(X[30:, 0] > 0).astype(int))
    assert call(capsys, "train", "--data", tmp_path / "points.npz", "--hidden", "", "--epochs", "1", "--quiet",
                "--no-plots", "--out", tmp_path / "run")[0] == 0
    model_file = tmp_path / "run" / "model.safetensors"
    model = cr.load(model_file)
    np.savez(tmp_path / "new.npz", X=X[:5])
    for data, rows in ((tmp_path / "new.npz", X[:5]), (tmp_path / "points.npz", X[30:])):
        code, out, err = call(capsys, "predict", model_file, data)
        assert code == 0, err
        assert [int(row[0]) for row in read_csv(out)[1]] == cr.predict(model, rows).tolist()


def test_output_over_an_input_is_refused_and_the_input_kept(iris_run, tmp_path, capsys):
    model = tmp_path / "model.safetensors"
    model.write_bytes((iris_run / "model.safetensors").read_bytes())
    data = write_csv(tmp_path / "iris.csv", iris_rows())
    before = model.read_bytes(), data.read_bytes()
    for output, what in ((model, "model file"), (data, "data")):
        code, out, err = call(capsys, "predict", model, data, "-o", output)
        assert_one_line_error(code, err, f"-o {output}: that is the {what}")
        assert out == ""
    assert (model.read_bytes(), data.read_bytes()) == before


def test_output_over_one_file_of_an_idx_spec_is_refused(iris_run, tmp_path, capsys):
    # An "IMAGES, LABELS" spec may carry spaces after its comma: each file is still an input.
    labels = tmp_path / "labels.idx"
    labels.write_bytes(b"kept")
    code, _, err = call(capsys, "predict", iris_run / "model.safetensors", f"{tmp_path / 'images.idx'}, {labels}",
                        "-o", labels)
    assert_one_line_error(code, err, f"-o {labels}: that is the data")
    assert labels.read_bytes() == b"kept"


@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte",
                                  "train-labels.idx1-ubyte.gz"])
def test_output_over_a_file_read_from_an_idx_directory_is_refused(tmp_path, capsys, name):
    """Only the directory was compared: the test images it had just read were replaced by the CSV."""
    images, labels = mnist_like(40)
    folder = tmp_path / "mn"
    folder.mkdir()
    for prefix, rows in (("train", slice(0, 30)), ("t10k", slice(30, None))):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images[rows])
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels[rows])
    target = folder / name
    if name.endswith(".gz"):  # the loader's other spelling: a dot before idx, gzipped
        (folder / "train-labels-idx1-ubyte").unlink()
        write_idx(target, labels[:30], compress=True)
    assert call(capsys, "train", "--data", folder, "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", folder, "-o", target)
    assert_one_line_error(code, err, f"-o {target}: that is the data ({target}), which would be overwritten")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", folder,
                          "-o", folder / "predictions.csv")  # another file in the folder is written
    assert (code, err) == (0, "")
    assert (folder / "predictions.csv").read_text().startswith("prediction\n")


@pytest.mark.parametrize("name, reads", [
    ("train-images-idx3-ubyte", "its training images (in place of train-images-idx3-ubyte.gz)"),
    ("t10k-images-idx3-ubyte", "its test images (it has none now)"),
])
def test_output_at_a_name_the_idx_directory_would_read_is_refused(tmp_path, capsys, name, reads):
    """It was written (exit 0), and the next read of the folder failed: the CSV was read as IDX
    (a name preferred to the .gz file), or as test images without test labels."""
    images, labels = mnist_like(40)
    folder = tmp_path / "mn"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels, compress=True)
    assert call(capsys, "train", "--data", folder, "--hidden", "4", "--epochs", "1", "--quiet", "--no-plots",
                "--out", tmp_path / "run")[0] == 0
    before = sorted(folder.iterdir())
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", folder, "-o", folder / name)
    assert_one_line_error(code, err, f"-o {folder / name}: the data, the IDX directory {folder}, would read a file "
                                     f"of that name as {reads}, and no longer load; write to another file")
    assert sorted(folder.iterdir()) == before
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", folder)
    assert (code, err) == (0, "")


def test_label_with_a_built_in_data_set_is_refused(iris_run, capsys):
    # A built-in's labels are its own: --label, a CSV column, would be ignored without a word.
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", "iris", "--label", "species")
    assert_one_line_error(code, err, "--label: iris is a built-in data set", "column of a CSV file")
    assert out == ""


def test_label_with_an_npz_file_is_refused_naming_the_option(tmp_path, capsys):
    """It named the Python keyword: "label='y' names a CSV column, but ... is not a .csv file"."""
    X = np.random.default_rng(0).normal(size=(40, 4))
    np.savez(tmp_path / "points.npz", X=X, y=(X[:, 0] > 0).astype(int))
    assert call(capsys, "train", "--data", tmp_path / "points.npz", "--hidden", "", "--epochs", "1", "--quiet",
                "--no-plots", "--out", tmp_path / "run")[0] == 0
    for command in ("predict", "evaluate"):
        code, out, err = call(capsys, command, tmp_path / "run" / "model.safetensors", tmp_path / "points.npz",
                              "--label", "y")
        assert_one_line_error(code, err, f"--label: {tmp_path / 'points.npz'} is not a .csv file",
                              "column of a CSV file")
        assert out == ""


def test_a_label_column_the_file_lacks_is_refused_for_a_model_reading_columns_by_name(iris_run, iris_csv, capsys):
    """The model reads its features by name and predict needs no labels: --label nope was passed over."""
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "--label", "nope")
    assert_one_line_error(code, err, f"--label: {iris_csv} has no column named 'nope'")
    assert out == ""
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", iris_csv, "--label", "species")
    assert code == 0 and len(read_csv(out)[1]) == 150


def test_a_label_column_left_empty_is_read_once(iris_run, tmp_path, monkeypatch, capsys):
    """With --label naming a column left empty, the file was read a second time for its header,
    to tell the column empty from missing."""
    rows = iris_rows()
    blank = write_csv(tmp_path / "blank.csv", [rows[0]] + [row[:4] + [""] for row in rows[1:]])
    reads = []
    read_bytes = csv_file.read_bytes
    monkeypatch.setattr(csv_file, "read_bytes", lambda path: reads.append(path) or read_bytes(path))
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", blank, "--label", "species")
    assert (code, err) == (0, "") and reads == [blank]


@pytest.mark.parametrize("command", ["predict", "evaluate", "train", "gradcheck"])
def test_an_empty_label_is_refused_rather_than_taken_as_none(iris_run, iris_csv, tmp_path, capsys, command):
    """--label '' was the default column, while an empty --out or -o is refused."""
    inputs = {"predict": [iris_run / "model.safetensors", iris_csv],
              "evaluate": [iris_run / "model.safetensors", iris_csv],
              "train": ["--data", iris_csv, "--epochs", "1", "--quiet", "--out", tmp_path / "run"],
              "gradcheck": ["--data", iris_csv]}[command]
    code, out, err = call(capsys, command, *inputs, "--label", "")
    assert_one_line_error(code, err, f"chainrule {command}: argument --label: expected a column name, got ''")
    assert out == ""


@pytest.mark.parametrize("options", [["--seed", "1"], ["--test-size", "0.5"]])
def test_split_options_are_refused_for_a_file_predict_does_not_split(iris_run, iris_csv, features_csv, capsys,
                                                                      options):
    # predict takes every row of a file, the training CSV too: a seed or test size would change nothing.
    for data in (features_csv, iris_csv):
        code, out, err = call(capsys, "predict", iris_run / "model.safetensors", data, *options)
        assert_one_line_error(code, err, f"{options[0]}: {data} is not split (it is not a built-in data set)",
                              "it splits only a built-in data set")
        assert out == ""
    # A built-in data set is split: the options choose its test rows.
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", "iris", *options)
    assert code == 0, err


def test_output_named_like_a_built_in_beside_a_file_of_that_name_is_written(iris_run, tmp_path, monkeypatch,
                                                                             capsys):
    # DATA "iris" is the built-in even with a file "iris" in the working directory, so -o iris
    # does not overwrite the data.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").write_text("an old file\n")
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", "iris", "-o", "iris")
    assert code == 0, err
    header, rows = read_csv((tmp_path / "iris").read_text())
    assert header == ["prediction"] and len(rows) == 30


def test_a_value_too_large_for_the_float32_model_is_named_by_its_line_and_column_in_the_file(iris_run, tmp_path,
                                                                                            capsys):
    rows = [row[:4] for row in iris_rows()[:6]]
    rows = [[row[3], row[2], row[1], row[0]] for row in rows]  # the columns in another order than the model's
    rows[2][1] = "1e300"  # line 3, column 2: petal_length, the model's third feature
    write_csv(tmp_path / "huge.csv", rows)
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", tmp_path / "huge.csv")
    assert_one_line_error(code, err, f"{tmp_path / 'huge.csv'}: line 3, column 2 'petal_length': 1e300 is too "
                                     f"large for float32")
    assert out == ""


def test_a_value_that_standardizes_beyond_float32_is_named_by_its_line_and_column_in_the_file(iris_run, tmp_path,
                                                                                              capsys):
    # was "X: the value at index (2, 1) (column 'sepal_width')": the row of the array, not the file's line
    rows = [[row[3], row[2], row[1], row[0]] for row in iris_rows()[:6]]  # the columns in another order
    rows[3][2] = "3e38"  # fits float32, but (x − mean) / scale does not: sepal_width, the model's second feature
    rows.insert(2, [])  # a blank line, which is no row: the value is on line 5
    rows[1][0] = "0.2\n"  # a quoted cell over two lines: line 6
    write_csv(tmp_path / "far.csv", rows)
    code, out, err = call(capsys, "predict", iris_run / "model.safetensors", tmp_path / "far.csv")
    assert_one_line_error(code, err, f"{tmp_path / 'far.csv'}: line 6, column 3 'sepal_width': 3e+38, standardized, "
                                     f"(x − mean) / scale = ", "is beyond float32's range", "or train in float64")
    assert out == ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_value_that_standardizes_beyond_float32_in_a_pipe_is_named_without_reading_it_again(iris_run, tmp_path):
    """The cell was looked for by reading DATA again: a FIFO, emptied by the first read, waited for ever."""
    rows = iris_rows()[:6]
    rows[3][1] = "3e38"
    text = "\n".join(",".join(row) for row in rows) + "\n"
    with fifo_holding(tmp_path / "rows.csv", text) as fifo:
        result = run_cli("predict", iris_run / "model.safetensors", fifo, cwd=tmp_path, timeout=60)
    assert_one_line_error(result.returncode, result.stderr, "3e+38, standardized, (x − mean) / scale = ",
                          "is beyond float32's range")
    assert result.stdout == ""


def test_a_value_beyond_float32_once_standardized_is_named_in_a_file_read_by_position(tmp_path, capsys):
    X = np.random.default_rng(0).normal(scale=0.01, size=(40, 2))  # a scale near 0.01: 1e37 standardizes to 1e39
    np.savez(tmp_path / "points.npz", X=X, y=(X[:, 0] > 0).astype(int))
    assert call(capsys, "train", "--data", tmp_path / "points.npz", "--hidden", "", "--epochs", "1", "--quiet",
                "--no-plots", "--out", tmp_path / "run")[0] == 0
    path = write_csv(tmp_path / "rows.csv", [["y", "p", "q"], ["0", "1.5", "-2"], ["1", "-1", "-1e37"]])
    code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", path, "--label", "y")
    assert_one_line_error(code, err, f"{path}: line 3, column 3 'q': -1e+37, standardized")
    assert out == ""


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("labelled", [True, False])
def test_an_npz_value_too_large_for_the_float32_model_is_named_by_its_array_and_index(iris_run, tmp_path, capsys,
                                                                                      command, labelled):
    X = np.ones((5, 4))
    X[3, 2] = -1e300
    np.savez(tmp_path / "huge.npz", X=X, **({"y": np.array(["setosa"] * 5)} if labelled else {}))
    code, out, err = call(capsys, command, iris_run / "model.safetensors", tmp_path / "huge.npz")
    if command == "evaluate" and not labelled:
        assert_one_line_error(code, err, "no array named 'y'")
    else:  # was "X: expected finite values, found -1e+300 at index (3, 2)": no file named
        assert_one_line_error(code, err, f"{tmp_path / 'huge.npz'}: X[3, 2] is -1e+300, too large for float32")
    assert out == ""


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_model_and_data_given_the_wrong_way_round_are_named(iris_run, iris_csv, capsys, command):
    """The model file was read as DATA's CSV: "its first 8 bytes give a header length of ... bytes"."""
    code, _, err = call(capsys, command, iris_csv, iris_run / "model.safetensors")
    assert_one_line_error(code, err, f"DATA is '{iris_run / 'model.safetensors'}', a model file, and MODEL is "
                                     f"'{iris_csv}': the model file comes first (MODEL DATA)")


def test_a_regressor_with_several_outputs_gets_a_column_per_output(tmp_path, capsys):
    model = cr.mlp([4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(20, 4))
    cr.fit(model, X, np.column_stack([X[:, 0], -X[:, 1]]), epochs=1, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    data = write_csv(tmp_path / "rows.csv", [["a", "b", "c", "d"], *X[:3].tolist()])
    code, out, _ = call(capsys, "predict", tmp_path / "model.safetensors", data)
    assert code == 0 and out.splitlines()[0] == "prediction_0,prediction_1"


def test_a_row_that_overflows_inside_the_network_is_named_by_its_line_and_column(tmp_path, capsys):
    # 3e38 standardizes within float32 here (scale about 1), then overflows the first layer: predict
    # wrote the label 0 (argmax of NaN) and --proba NaN, exit 0, with NumPy's warnings on stderr
    X = np.random.default_rng(0).normal(size=(40, 2))
    np.savez(tmp_path / "points.npz", X=X, y=(X[:, 0] > 0).astype(int))
    assert call(capsys, "train", "--data", tmp_path / "points.npz", "--hidden", "4", "--epochs", "1", "--quiet",
                "--no-plots", "--out", tmp_path / "run")[0] == 0
    model = cr.load(tmp_path / "run" / "model.safetensors")
    model.params["0.W"][...] = 4.0  # 3e38 standardizes to about 3e38 here, which overflows in x W
    cr.save(model, tmp_path / "run" / "model.safetensors")
    path = write_csv(tmp_path / "rows.csv", [["p", "q", "y"], ["0.5", "-1", "0"], ["3e38", "0", "1"]])
    for proba in ([], ["--proba"]):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # NumPy's overflow warnings would be lines of their own
            code, out, err = call(capsys, "predict", tmp_path / "run" / "model.safetensors", path, "--label", "y",
                                  *proba)
        assert_one_line_error(code, err, f"{path}: line 3, column 1 'p': 3e+38 (standardized ",
                              "takes the network's outputs for the row beyond float32's range")
        assert out == ""
