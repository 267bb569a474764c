"""chainrule predict, evaluate and info on files written by a scikit-learn estimator's save:
they answer as the estimator does, and read a CSV file's columns by the names it was fitted with."""

import csv
import io
import json
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss

import chainrule as cr
from chainrule.sklearn import MLPClassifier, MLPRegressor

from .helpers import IRIS_HEADER, assert_one_line_error, call, iris_features, iris_rows, write_csv

pd = pytest.importorskip("pandas")


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in few epochs: fine here
        return estimator.fit(X, y)


def labelled_csv(path, X, labels):
    """A CSV file of the iris feature columns and a ``species`` column holding ``labels``."""
    return write_csv(path, [IRIS_HEADER] + [[repr(float(v)) for v in row] + [str(label)]
                                            for row, label in zip(X, labels)])


@pytest.fixture(scope="module", params=["bool", "str"])
def binary_file(request, tmp_path_factory):
    """(model file, CSV file, estimator, X, y) of a binary MLPClassifier, classes True/False or strings."""
    X, species = iris_features()
    y = species == "setosa" if request.param == "bool" else np.where(species == "virginica", "yes", "no")
    estimator = fitted(MLPClassifier((16,), max_iter=50, random_state=0), X, y)
    folder = tmp_path_factory.mktemp("binary")
    estimator.save(folder / "est.safetensors")
    return folder / "est.safetensors", labelled_csv(folder / "data.csv", X, y), estimator, X, y


def test_a_binary_estimator_predicts_its_labels(binary_file, capsys):
    """Before the fix: header prediction_0 and values 1/0, the network's thresholded logit."""
    model, data, estimator, X, _ = binary_file
    code, out, err = call(capsys, "predict", model, data)
    assert (code, err) == (0, "")
    header, rows = read_csv(out)
    assert header == ["prediction"]
    assert [row[0] for row in rows] == [str(label) for label in estimator.predict(X)]


def test_a_binary_estimators_probabilities_are_named_by_its_classes(binary_file, capsys):
    """Before the fix: one column p0 of the sigmoid."""
    model, data, estimator, X, _ = binary_file
    code, out, err = call(capsys, "predict", model, data, "--proba")
    assert (code, err) == (0, "")
    header, rows = read_csv(out)
    assert header == [str(label) for label in estimator.classes_]
    np.testing.assert_allclose(np.array(rows, dtype=float), estimator.predict_proba(X), rtol=1e-12)


def test_a_binary_estimator_is_scored_by_its_accuracy_and_log_loss(binary_file, capsys):
    """Before the fix: exit 2, BinaryCrossEntropy refusing the text labels."""
    model, data, estimator, X, y = binary_file
    code, out, err = call(capsys, "evaluate", model, data, "--json")
    assert (code, err) == (0, "")
    results = json.loads(out)
    assert results["accuracy"] == accuracy_score(y, estimator.predict(X))
    assert results["loss"] == pytest.approx(log_loss(y, estimator.predict_proba(X), labels=estimator.classes_),
                                            rel=1e-12)
    assert (results["rows"], results["n_samples"]) == ("all rows", 150)


def test_labels_that_are_not_the_estimators_classes_are_named(binary_file, tmp_path, capsys):
    model, _, _, X, _ = binary_file
    data = labelled_csv(tmp_path / "other.csv", X, ["maybe"] * len(X))
    code, out, err = call(capsys, "evaluate", model, data)
    assert_one_line_error(code, err, str(data), "'maybe'", "classes_")
    assert out == ""


def test_info_names_the_estimator_its_kind_and_classes(binary_file, capsys):
    model, _, estimator, _, _ = binary_file
    code, out, err = call(capsys, "info", model)
    assert (code, err) == (0, "")
    classes = ", ".join(str(label) for label in estimator.classes_)
    assert f"estimator: scikit-learn MLPClassifier, binary, 2 classes: {classes}" in out.splitlines()
    code, out, _ = call(capsys, "info", model, "--json")
    assert json.loads(out)["estimator"] == {"estimator": "scikit-learn MLPClassifier", "y_type": "binary",
                                            "classes": estimator.classes_.tolist()}


def test_info_describes_a_regressor_estimator(tmp_path, capsys):
    X, _ = iris_features()
    fitted(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0), X, X[:, :2]).save(tmp_path / "reg.safetensors")
    code, out, err = call(capsys, "info", tmp_path / "reg.safetensors")
    assert (code, err) == (0, "")
    assert "estimator: scikit-learn MLPRegressor, 2 outputs" in out.splitlines()


@pytest.fixture(scope="module")
def multiclass_file(tmp_path_factory):
    """(model file, CSV file, estimator) of a multi-class MLPClassifier with the species' names."""
    X, y = iris_features()
    estimator = fitted(MLPClassifier((16,), max_iter=50, random_state=0), X, y)
    folder = tmp_path_factory.mktemp("multiclass")
    estimator.save(folder / "est.safetensors")
    return folder / "est.safetensors", write_csv(folder / "iris.csv", iris_rows()), estimator


@pytest.mark.parametrize("options", [[], ["--proba"]])
def test_a_multiclass_estimator_predicts_as_its_network_did(multiclass_file, capsys, options):
    """A multi-class file's network knows its classes: its answers stay those of cr.predict(_proba)."""
    model, data, estimator = multiclass_file
    X, _ = iris_features()
    network = cr.load(model)
    code, out, err = call(capsys, "predict", model, data, *options)
    assert (code, err) == (0, "")
    header, rows = read_csv(out)
    assert header == (["setosa", "versicolor", "virginica"] if options else ["prediction"])
    if options:
        assert np.array_equal(np.array(rows, dtype=np.float32), cr.predict_proba(network, X))  # the float32s
    else:
        assert [row[0] for row in rows] == cr.predict(network, X).tolist() == estimator.predict(X).tolist()


def test_a_multiclass_estimator_is_scored_as_its_network_was(multiclass_file, capsys):
    model, data, _ = multiclass_file
    code, out, err = call(capsys, "evaluate", model, data, "--json")
    assert (code, err) == (0, "")
    scores = cr.evaluate(cr.load(model), *iris_features())
    assert {key: json.loads(out)[key] for key in scores} == scores


def reordered_csv(path):
    """iris.csv with its columns reordered: label first, features reversed."""
    rows = iris_rows()
    order = [4, 3, 2, 1, 0]
    return write_csv(path, [[row[j] for j in order] for row in rows])


def test_an_estimator_fitted_on_a_dataframe_reads_csv_columns_by_name(tmp_path, capsys):
    """Before the fix, columns were taken by position: another accuracy on reordered columns."""
    X, y = iris_features()
    frame = pd.DataFrame(X, columns=IRIS_HEADER[:4])
    estimator = fitted(MLPClassifier((16,), max_iter=50, random_state=0), frame, y)
    estimator.save(tmp_path / "est.safetensors")
    code, out, err = call(capsys, "evaluate", tmp_path / "est.safetensors", reordered_csv(tmp_path / "r.csv"),
                          "--label", "species", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["accuracy"] == pytest.approx(estimator.score(frame, y), abs=1e-12)
    code, out, err = call(capsys, "predict", tmp_path / "est.safetensors", tmp_path / "r.csv")
    assert (code, err) == (0, "")
    assert [row[0] for row in read_csv(out)[1]] == estimator.predict(frame).tolist()


def test_a_binary_estimator_fitted_on_a_dataframe_reads_columns_by_name(tmp_path, capsys):
    X, species = iris_features()
    frame = pd.DataFrame(X, columns=IRIS_HEADER[:4])
    y = species == "versicolor"
    estimator = fitted(MLPClassifier((16,), max_iter=50, random_state=0), frame, y)
    estimator.save(tmp_path / "est.safetensors")
    data = labelled_csv(tmp_path / "data.csv", X, y)
    reordered = write_csv(tmp_path / "r.csv", [[row[j] for j in (3, 2, 1, 0, 4)] for row in csv.reader(open(data))])
    code, out, err = call(capsys, "evaluate", tmp_path / "est.safetensors", reordered, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["accuracy"] == estimator.score(frame, y)


def test_a_model_fitted_by_cr_fit_on_a_dataframe_reads_csv_columns_by_name(tmp_path, capsys):
    X, y = iris_features()
    frame = pd.DataFrame(X, columns=IRIS_HEADER[:4])
    model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    cr.fit(model, frame, y, epochs=5, seed=0, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    data = reordered_csv(tmp_path / "r.csv")
    code, out, err = call(capsys, "predict", tmp_path / "model.safetensors", data)
    assert (code, err) == (0, "")
    assert [row[0] for row in read_csv(out)[1]] == cr.predict(model, frame).tolist()
    code, out, err = call(capsys, "evaluate", tmp_path / "model.safetensors", data, "--label", "species", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["accuracy"] == cr.evaluate(model, frame, y)["accuracy"]


def test_a_multilabel_estimator_predicts_its_indicator_rows(tmp_path, capsys):
    X, species = iris_features()
    Y = np.column_stack([species == "setosa", X[:, 0] > 5.8]).astype(int)
    estimator = fitted(MLPClassifier((16,), max_iter=50, random_state=0), X, Y)
    estimator.save(tmp_path / "est.safetensors")
    data = write_csv(tmp_path / "features.csv", [row[:4] for row in iris_rows()])
    code, out, err = call(capsys, "predict", tmp_path / "est.safetensors", data)
    assert (code, err) == (0, "")
    header, rows = read_csv(out)
    assert header == ["prediction_0", "prediction_1"]
    assert np.array(rows, dtype=int).tolist() == estimator.predict(X).tolist()
    code, out, err = call(capsys, "predict", tmp_path / "est.safetensors", data, "--proba")
    assert (code, err) == (0, "")
    header, rows = read_csv(out)
    assert header == ["0", "1"]
    np.testing.assert_allclose(np.array(rows, dtype=float), estimator.predict_proba(X), rtol=1e-12)


def test_evaluate_refuses_a_multilabel_estimator_saying_why(tmp_path, capsys):
    """Its targets are 0/1 rows, which no data file of the command line holds: evaluate said it
    scored one, and refused every DATA with a message about the labels' shape."""
    X, species = iris_features()
    Y = np.column_stack([species == "setosa", X[:, 0] > 5.8]).astype(int)
    estimator = fitted(MLPClassifier((16,), max_iter=50, random_state=0), X, Y)
    estimator.save(tmp_path / "est.safetensors")
    header, *rows = iris_rows()
    data = write_csv(tmp_path / "labelled.csv", [[*header[:4], "long"]] + [[*row[:4], int(float(row[0]) > 5.8)]
                                                                           for row in rows])
    code, out, err = call(capsys, "evaluate", tmp_path / "est.safetensors", data, "--all-rows")
    assert_one_line_error(code, err, "a multi-label MLPClassifier is scored against 0/1 rows of 2 labels",
                          "score it in Python (est.score(X, Y))")
