"""chainrule.cli.estimator: model files written by a scikit-learn estimator's save, read back
and answered as the estimator answers."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss

import chainrule as cr
from chainrule.cli.estimator import (answers_itself, as_classes, check_cpu, description, read_model_file,
                                     read_model_on, scores)
from chainrule.errors import ConfigError, LabelError, ModelFileError
from chainrule.io import read, save
from chainrule.sklearn import MLPClassifier, MLPRegressor

from .helpers import assert_one_line_error, call, iris_features


@pytest.fixture(scope="module")
def binary_estimator(tmp_path_factory):
    """(model file, estimator, X, y) of a binary MLPClassifier with text classes."""
    X, species = iris_features()
    y = np.where(species == "virginica", "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in few epochs: fine here
        estimator = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("estimator") / "est.safetensors"
    estimator.save(path)
    return path, estimator, X, y


def test_a_chainrule_model_file_has_no_estimator(tmp_path):
    save(cr.mlp([2, 3], seed=0), tmp_path / "model.safetensors")
    model, estimator = read_model_file(tmp_path / "model.safetensors")
    assert isinstance(model, cr.Layer) and estimator is None


def test_an_estimators_file_gives_back_the_estimator(binary_estimator):
    path, saved, X, _ = binary_estimator
    _, estimator = read_model_file(path)
    assert isinstance(estimator, MLPClassifier)
    assert estimator.classes_.tolist() == ["no", "yes"]
    np.testing.assert_array_equal(estimator.predict(X), saved.predict(X))


def test_an_unknown_estimator_is_named(binary_estimator, tmp_path):
    model, tensors, extra_json = read(binary_estimator[0])
    model.metadata["sklearn"]["estimator"] = "SVC"
    save(model, tmp_path / "svc.safetensors", extra_tensors=tensors, extra_json=extra_json)
    with pytest.raises(ModelFileError, match="svc.safetensors: sklearn.estimator: expected one of MLPClassifier, "
                                             "MLPRegressor, got 'SVC'"):
        read_model_file(tmp_path / "svc.safetensors")


@pytest.mark.parametrize("name", [["MLPClassifier"], {"MLPClassifier": 1}])
def test_an_estimator_name_that_is_not_a_string_is_named(binary_estimator, tmp_path, name):
    model, tensors, extra_json = read(binary_estimator[0])
    model.metadata["sklearn"]["estimator"] = name
    save(model, tmp_path / "odd.safetensors", extra_tensors=tensors, extra_json=extra_json)
    with pytest.raises(ModelFileError, match="odd.safetensors: sklearn.estimator: expected one of MLPClassifier, "
                                             "MLPRegressor, got"):
        read_model_file(tmp_path / "odd.safetensors")


def test_a_long_estimator_name_is_cut_and_says_so(binary_estimator, tmp_path):
    """It was cut at 60 characters without "...", as if the name ended there."""
    model, tensors, extra_json = read(binary_estimator[0])
    model.metadata["sklearn"]["estimator"] = "x" * 100_000
    save(model, tmp_path / "odd.safetensors", extra_tensors=tensors, extra_json=extra_json)
    with pytest.raises(ModelFileError, match=r"MLPRegressor, got '" + "x" * 59 + r"\.\.\.$"):
        read_model_file(tmp_path / "odd.safetensors")


def test_only_a_logistic_output_classifier_answers_itself():
    assert answers_itself(SimpleNamespace(out_activation_="logistic"))
    assert not answers_itself(SimpleNamespace(out_activation_="softmax"))
    assert not answers_itself(SimpleNamespace())
    assert not answers_itself(None)


def test_an_estimator_that_answers_itself_runs_on_the_cpu_only(binary_estimator):
    check_cpu("cpu", "est.safetensors")
    with pytest.raises(ConfigError, match="--device cuda: est.safetensors is a scikit-learn estimator's file"):
        check_cpu("cuda", "est.safetensors")
    with pytest.raises(ConfigError, match="--device cuda:"):
        read_model_on(binary_estimator[0], "cuda")


def test_a_classifiers_description_names_its_kind_and_classes(binary_estimator):
    assert description(binary_estimator[1]) == {"estimator": "scikit-learn MLPClassifier", "y_type": "binary",
                                                "classes": ["no", "yes"]}


def test_a_regressors_description_names_its_outputs():
    X, _ = iris_features()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regressor = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, X[:, :2])
    assert description(regressor) == {"estimator": "scikit-learn MLPRegressor", "n_outputs": 2}


def test_scores_are_scikit_learns_log_loss_and_accuracy(binary_estimator):
    _, estimator, X, y = binary_estimator
    got = scores(estimator, X, y, "data.csv")
    assert got["loss"] == pytest.approx(log_loss(y, estimator.predict_proba(X), labels=estimator.classes_))
    assert got["accuracy"] == pytest.approx(accuracy_score(y, estimator.predict(X)))


def test_a_multi_label_estimator_is_not_scored_from_a_data_file(tmp_path):
    """Its targets are 0/1 rows, one column per label, which no CSV, NPZ or IDX file holds."""
    X, _ = iris_features()
    Y = (X[:, :2] > X[:, :2].mean(axis=0)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, Y)
    with pytest.raises(LabelError, match=r"^data.csv: a multi-label MLPClassifier is scored against 0/1 rows of 2 "
                                         r"labels, .* score it in Python \(est.score\(X, Y\)\)"):
        scores(estimator, X, Y[:, 0], "data.csv")


def test_number_labels_match_number_classes_by_value():
    classes = np.array([0, 1, 2])
    assert as_classes(np.array([2.0, 0.0, 1.0]), classes, "data.csv").tolist() == [2, 0, 1]


def test_labels_match_other_classes_by_their_text():
    assert as_classes(np.array(["True", "False"]), np.array([False, True]), "data.csv").tolist() == [True, False]
    assert as_classes(np.array([1, 2]), np.array(["1", "2"]), "data.csv").tolist() == ["1", "2"]


def test_labels_that_are_not_classes_are_named_with_the_data():
    with pytest.raises(LabelError, match=r"data.csv: labels .*'cat'.* are not among the model's classes_"):
        as_classes(np.array(["no", "cat"]), np.array(["no", "yes"]), "data.csv")
    with pytest.raises(LabelError, match=r"^data.csv: labels '0', '1' are not among the model's classes_ 'no', 'yes'; "
                                         r"the labels here are integers, the training classes text$"):
        as_classes(np.array([0, 1, 0]), np.array(["no", "yes"]), "data.csv")


@pytest.mark.parametrize("command", ["info", "evaluate", "predict", "export"])
@pytest.mark.parametrize("model, reason", [("", "an empty path ''"), (".", "'.', which names a directory"),
                                           ("out/", "'out/', which names a directory")], ids=["empty", "dot", "slash"])
def test_a_model_argument_that_is_no_file_name_is_refused_naming_model(tmp_path, monkeypatch, capsys, command, model,
                                                                        reason):
    """The model reader named it by its own argument: "path: expected a file name, got an empty path ''"."""
    monkeypatch.chdir(tmp_path)
    rest = {"info": [], "evaluate": ["iris"], "predict": ["iris"], "export": ["--onnx", "out.onnx"]}[command]
    code, out, err = call(capsys, command, model, *rest)
    assert_one_line_error(code, err, f"chainrule {command}: argument MODEL: expected a file name, got {reason}")
    assert out == "" and list(tmp_path.iterdir()) == []
