"""Loading estimator files that were damaged or crafted: a ModelFileError naming the key, never a
raw error and never an allocation the file's own tensors do not pay for."""

import copy
import dataclasses
import json
import warnings

import numpy
import pandas
import pytest
import safetensors.numpy
from safetensors import safe_open
from sklearn.datasets import make_classification

import chainrule as cr
from chainrule.errors import ModelFileError, ModelFileWarning
from chainrule.io import read, save
from chainrule.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(model, tensors, extra_json) of a fitted 3-class MLPClassifier with string labels."""
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(
            X, numpy.array(["ant", "bee", "cat"])[y])
    path = tmp_path_factory.mktemp("estimator") / "estimator.safetensors"
    estimator.save(path)
    return read(path)


def load_crafted(saved, tmp_path, *, attributes=None, sklearn=None, tensors=None, extra_json=None):
    """Re-save ``saved`` with its estimator metadata or extras changed, then MLPClassifier.load it."""
    model, saved_tensors, saved_extra = saved
    crafted = copy.deepcopy(model.metadata)
    crafted["sklearn"]["attributes"].update(attributes or {})
    crafted["sklearn"].update(sklearn or {})
    original, model.metadata = model.metadata, crafted
    path = tmp_path / "crafted.safetensors"
    try:
        save(model, path, extra_tensors=saved_tensors if tensors is None else tensors,
             extra_json=saved_extra if extra_json is None else extra_json)
    finally:
        model.metadata = original
    return MLPClassifier.load(path)


def test_the_uncrafted_file_loads(saved, tmp_path):
    assert load_crafted(saved, tmp_path).classes_.tolist() == ["ant", "bee", "cat"]


@pytest.mark.parametrize("changes, key", [
    ({"classes_dtype": "<U100"}, "classes_dtype"),  # wider than the 3-character labels
    ({"classes_dtype": "S3"}, "classes_dtype"),
    ({"classes_dtype": "<c16"}, "classes_dtype"),
    ({"classes_dtype": "<f16"}, "classes_dtype"),
    ({"classes_dtype": 5}, "classes_dtype"),
    # NumPy reads the repeats of a dtype string with ast.literal_eval: SyntaxError and ValueError escaped
    pytest.param({"classes_dtype": "9" * 5000}, "classes_dtype", id="5000-digit-repeats"),
    ({"classes_dtype": "1000000000000U3"}, "classes_dtype"),
    ({"classes_dtype": "(1,,2)U3"}, "classes_dtype"),
    ({"classes_": list(range(5)), "classes_dtype": "<i8", "y_type_": "multilabel-indicator"}, "classes_"),
    ({"classes_": ["ant", "bee"]}, "classes_"),
    ({"classes_": [[1], [2], [3]]}, "classes_"),
    ({"classes_": [2**70, 1, 2], "classes_dtype": "<i8"}, "classes_"),
    ({"classes_": [0, 1, 2], "classes_dtype": "O"}, "classes_"),
    ({"y_type_": "continuous"}, "y_type_"),
    # a list or object escaped as TypeError (unhashable), an internal error in the command line
    ({"y_type_": ["multiclass"]}, r"y_type_: expected one of binary, multiclass, multilabel-indicator, got \['multi"),
    ({"y_type_": {"multiclass": 1}}, "y_type_: expected one of"),
    ({"n_outputs_": 4}, "n_outputs_"),
    ({"n_features_in_": "4"}, "n_features_in_"),
    ({"feature_names_in_": {"a": 1}}, "feature_names_in_"),
    ({"feature_names_in_": ["a", "b"]}, "feature_names_in_"),
    ({"loss_": "abc"}, "loss_"),
    # JSON integers too large for a float used to escape as OverflowError
    ({"loss_": 10**400}, "loss_"),
    ({"best_loss_": 10**400}, "best_loss_"),
    ({"best_validation_score_": -(10**400)}, "best_validation_score_"),
    # the stopping rule's best, null: it loaded, and the next fit (warm_start) or partial_fit raised TypeError
    ({"best_loss_": None}, "best_loss_: expected a number"),
    ({"validation_scores_": [0.5], "best_validation_score_": None}, "best_validation_score_: expected a number"),
    # the output activation a 3-class network trains with is the softmax: "foo" used to act as the logistic
    ({"out_activation_": "foo"}, "out_activation_: expected 'softmax', got 'foo'"),
    ({"out_activation_": "logistic"}, "out_activation_"),
    # the training record: a loss_curve_ string used to load, then fail partial_fit with AttributeError
    ({"loss_curve_": "abc"}, "loss_curve_: expected a list of numbers"),
    ({"loss_curve_": [1.0, None]}, r"loss_curve_\[1\]: expected a number"),
    ({"validation_scores_": 5}, "validation_scores_"),
    ({"n_iter_": -1}, "n_iter_"),
    ({"t_": 1.5}, "t_"),
    ({"_no_improvement_count": "2"}, "_no_improvement_count"),
    ({"n_layers_": 4}, "n_layers_: expected 3"),
])
def test_bad_attributes_name_the_key(saved, tmp_path, changes, key):
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: sklearn.attributes.{key}"):
        load_crafted(saved, tmp_path, attributes=changes)


LONG = "x" * 100_000
CUT_60 = "'" + "x" * 59 + r"\.\.\."


@pytest.mark.parametrize("changes, message", [
    ({"y_type_": LONG}, rf"y_type_: expected one of binary, multiclass, multilabel-indicator, got {CUT_60}$"),
    ({"classes_dtype": LONG}, rf"classes_dtype: expected a boolean, .* dtype, got {CUT_60}$"),
    ({"out_activation_": LONG}, rf"out_activation_: expected 'softmax', got {CUT_60}$"),
    ({"loss_curve_": LONG}, rf"loss_curve_: expected a list of numbers, got {CUT_60}$"),
    ({"n_iter_": LONG}, rf"n_iter_: expected an integer >= 0, got {CUT_60}$"),
    ({"loss_": LONG}, rf"loss_: expected a number or null, got {CUT_60}$"),
    ({"classes_": ["ant", "bee", "cat", LONG]}, r"classes_: expected a list of 3 labels .*, "
                                                r"got \['ant', 'bee', 'cat', '" + "x" * 37 + r"\.\.\.$"),
])
def test_a_long_attribute_is_cut_and_says_so(saved, tmp_path, changes, message):
    """It was cut at 60 (or 80) characters without "...", as if the value ended there."""
    with pytest.raises(ModelFileError, match=message):
        load_crafted(saved, tmp_path, attributes=changes)


def test_network_labels_other_than_the_estimators_are_refused(saved, tmp_path):
    """They loaded: the estimator answered 'ant', 'bee', 'cat' and cr.predict of the same file x, y, z."""
    model, tensors, extra_json = saved
    original = model.preprocessor
    model.preprocessor = dataclasses.replace(original, classes=["x", "y", "z"])
    path = tmp_path / "crafted.safetensors"
    try:
        save(model, path, extra_tensors=tensors, extra_json=extra_json)
    finally:
        model.preprocessor = original
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: preprocessor.classes: expected the estimator's "
                                             r"classes_ \['ant', 'bee', 'cat'\], got \['x', 'y', 'z'\]"):
        MLPClassifier.load(path)


def test_a_class_ending_in_nul_is_refused_naming_it(saved, tmp_path):
    """It loaded: the estimator's classes_ (a str array) dropped the NUL and answered 'cat', where cr.predict of the
    same file, whose labels are kept as written, answered 'cat\\0'."""
    model, tensors, extra_json = saved
    original = model.preprocessor
    model.preprocessor = dataclasses.replace(original, classes=["ant", "bee", "cat\0"])
    try:
        with pytest.raises(ModelFileError, match=r"crafted.safetensors: sklearn.attributes.classes_\[2\]: the label "
                                                 r"'cat\\x00' ends in NUL"):
            load_crafted(saved, tmp_path, attributes={"classes_": ["ant", "bee", "cat\0"]})
    finally:
        model.preprocessor = original


def test_a_binary_classifiers_file_without_network_labels_still_loads(tmp_path):
    """Files written before the network's labels were saved hold none for a binary classifier."""
    X = numpy.random.default_rng(0).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(
            X, numpy.where(X[:, 0] > 0, "yes", "no"))
    estimator.save(tmp_path / "new.safetensors")
    model, tensors, extra_json = read(tmp_path / "new.safetensors")
    model.preprocessor = dataclasses.replace(model.preprocessor, classes=None)  # as the older files were written
    save(model, tmp_path / "old.safetensors", extra_tensors=tensors, extra_json=extra_json)
    loaded = MLPClassifier.load(tmp_path / "old.safetensors")
    assert loaded.classes_.tolist() == ["no", "yes"]
    assert loaded.predict(X).tolist() == estimator.predict(X).tolist()


def test_a_saved_infinite_loss_loads_as_a_float(saved, tmp_path):
    loaded = load_crafted(saved, tmp_path, attributes={"loss_curve_": [1.5, "inf"], "best_loss_": "inf"})
    assert loaded.loss_curve_ == [1.5, numpy.inf] and loaded.best_loss_ == numpy.inf


def load_with_layers(saved, tmp_path, change):
    """Re-save ``saved`` with ``change`` applied to its architecture's list of layers (the weights
    as they were), then MLPClassifier.load it."""
    model, tensors, extra_json = saved
    path = tmp_path / "crafted.safetensors"
    save(model, path, extra_tensors=tensors, extra_json=extra_json)
    with safe_open(path, "np") as file:
        document = json.loads(file.metadata()["chainrule"])
    change(document["architecture"]["layers"])
    path.write_bytes(safetensors.numpy.save(safetensors.numpy.load(path.read_bytes()),
                                            metadata={"chainrule": json.dumps(document)}))
    return MLPClassifier.load(path)


@pytest.mark.parametrize("change, message", [
    # each used to load and predict other probabilities than the saved estimator's
    (lambda layers: layers.__setitem__(1, {"type": "Tanh"}),
     r"architecture.layers\[1\]: expected \{'type': 'ReLU'\} \(an MLP with sklearn.params.activation='relu'\), "
     r"got \{'type': 'Tanh'\}"),
    (lambda layers: layers.append({"type": "Softmax"}), r"architecture.layers\[3\]: expected \{'type': 'ReLU'\}"),
    (lambda layers: layers.append({"type": "ReLU"}), "architecture.layers: expected a Linear layer last, got 4 layers"),
])
def test_a_network_other_than_its_params_describe_is_refused(saved, tmp_path, change, message):
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: {message}"):
        load_with_layers(saved, tmp_path, change)


@pytest.mark.parametrize("changes, message", [
    ({"activation": "tanh"}, r"architecture.layers\[1\]: expected \{'type': 'Tanh'\}"),
    ({"hidden_layer_sizes": [6]}, r"sklearn.params.hidden_layer_sizes: the fitted network has hidden layers \(5,\), "
                                  r"but hidden_layer_sizes is now \(6,\)$"),
    ({"dtype": "float64"}, "sklearn.params.dtype: the fitted network computes in float32, but dtype is now 'float64'$"),
])
def test_params_other_than_the_network_are_refused(saved, tmp_path, changes, message):
    params = {**saved[0].metadata["sklearn"]["params"], **changes}
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: {message}"):
        load_crafted(saved, tmp_path, sklearn={"params": params})


def test_a_regressor_file_with_another_out_activation_is_refused(saved_regressor, tmp_path):
    model, tensors, extra_json = read(saved_regressor[0])
    model.metadata["sklearn"]["attributes"]["out_activation_"] = "logistic"
    save(model, tmp_path / "crafted.safetensors", extra_tensors=tensors, extra_json=extra_json)
    with pytest.raises(ModelFileError, match="sklearn.attributes.out_activation_: expected 'identity', got 'logistic'"):
        MLPRegressor.load(tmp_path / "crafted.safetensors")


def test_missing_attribute_is_named(saved, tmp_path):
    model = saved[0]
    attributes = {k: v for k, v in model.metadata["sklearn"]["attributes"].items() if k != "classes_"}
    with pytest.raises(ModelFileError, match="sklearn.attributes: missing key 'classes_'"):
        load_crafted(saved, tmp_path, sklearn={"attributes": attributes})


@pytest.mark.parametrize("key, value", [("params", [1]), ("attributes", [1]), ("params", {"alpha": -1.0})])
def test_bad_params_or_attributes_object(saved, tmp_path, key, value):
    with pytest.raises(ModelFileError, match=f"sklearn.{key}"):
        load_crafted(saved, tmp_path, sklearn={key: value})


@pytest.mark.parametrize("optimizer, key", [
    ({"t": 3}, "optimizer.weight_decay"), ({"t": "3", "weight_decay": 0.0}, "optimizer.t"), (5, "optimizer"),
    ({"t": 3, "weight_decay": 10**400}, "optimizer.weight_decay"),  # used to raise OverflowError
    ({"t": 10**400, "weight_decay": 0.0}, "optimizer.t"),  # used to load, then overflow at the first step
    ({"t": 2**53 + 1, "weight_decay": 0.0}, "optimizer.t"),
    ({"weight_decay": 0.0}, r"optimizer.t: expected an integer in \[0, \d+\], got nothing"),
])
def test_bad_optimizer_json(saved, tmp_path, optimizer, key):
    with pytest.raises(ModelFileError, match=f"extra_json.{key}"):
        load_crafted(saved, tmp_path, extra_json={"optimizer": optimizer})


@pytest.mark.parametrize("changes, key", [
    ({"epsilon": 1e-40}, "epsilon"),  # below float32's smallest normal: used to raise HyperparameterError
    ({"beta_1": False}, "beta_1"),  # scikit-learn's range check takes False for 0
    ({"learning_rate_init": 10**400}, "learning_rate_init"),  # used to raise TypeError
    ({"tol": 10**400}, "tol"),  # used to load, then raise OverflowError at the end of the first epoch of fit
    ({"alpha": 10**400}, "alpha"),  # used to load, then fit refused it (naming alpha, not the file)
])
def test_bad_optimizer_params_name_the_key(saved, tmp_path, changes, key):
    params = {**saved[0].metadata["sklearn"]["params"], **changes}
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: sklearn.params.{key}: expected"):
        load_crafted(saved, tmp_path, sklearn={"params": params})


def test_bad_optimizer_and_early_stopping_tensors(saved, tmp_path):
    tensors = saved[1]
    with pytest.raises(ModelFileError, match=r"extra_json\.optimizer: saved state tensors \[.v.\], but Adam has \[.m., .v.\]"):
        load_crafted(saved, tmp_path, tensors={k: v for k, v in tensors.items() if k != "optimizer.m"})
    with pytest.raises(ModelFileError, match="tensor 'optimizer.m' has shape"):
        load_crafted(saved, tmp_path, tensors={**tensors, "optimizer.m": numpy.zeros(3, numpy.float32)})
    with pytest.raises(ModelFileError, match=r"tensor 'optimizer.v' has shape \(\d+,\) and dtype float64; "
                                             r"the optimizer's has \(\d+,\) and float32"):
        load_crafted(saved, tmp_path, tensors={**tensors, "optimizer.v": tensors["optimizer.v"].astype(numpy.float64)})
    with pytest.raises(ModelFileError, match="tensor 'early_stopping.best_theta' has shape"):
        load_crafted(saved, tmp_path, tensors={**tensors, "early_stopping.best_theta": numpy.zeros(3, numpy.float32)})


def test_save_leaves_the_estimators_network_as_it_was(tmp_path):
    """save used to replace model_.preprocessor.classes (0..K−1) by the labels, and add its metadata."""
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    labels = numpy.array(["ant", "bee", "cat"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, labels)
    preprocessor, metadata = copy.deepcopy(estimator.model_.preprocessor), dict(estimator.model_.metadata)
    estimator.save(tmp_path / "estimator.safetensors")
    assert estimator.model_.preprocessor.classes == [0, 1, 2]
    assert estimator.model_.preprocessor == preprocessor and estimator.model_.metadata == metadata
    # the file's network still answers in the labels
    loaded = cr.load(tmp_path / "estimator.safetensors")
    assert loaded.preprocessor.classes == ["ant", "bee", "cat"]
    numpy.testing.assert_array_equal(cr.predict(loaded, X), estimator.predict(X))
    assert "sklearn" in loaded.metadata


@pytest.mark.parametrize("estimator_type", ["binary", "multiclass", "regressor"])
def test_the_files_network_answers_as_the_estimator(tmp_path, estimator_type):
    """cr.predict of a loaded estimator file read a DataFrame's columns by position (reordered: other answers),
    and a binary classifier's network answered 0/1 columns instead of the labels."""
    X, y = make_classification(n_samples=80, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    frame = pandas.DataFrame(X, columns=["w", "x", "y", "z"])
    estimator = (MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0) if estimator_type == "regressor"
                 else MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0))
    target = {"binary": numpy.array(["no", "yes"])[y % 2], "multiclass": numpy.array(["ant", "bee", "cat"])[y],
              "regressor": X[:, 0] - X[:, 1]}[estimator_type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(frame, target)
    estimator.save(tmp_path / "estimator.safetensors")
    network = cr.load(tmp_path / "estimator.safetensors")
    reordered = frame[["z", "x", "w", "y"]]
    expected = estimator.predict(frame)
    answered = cr.predict(network, reordered)
    if estimator_type == "regressor":
        numpy.testing.assert_allclose(answered.ravel(), expected, rtol=1e-5, atol=1e-6)
    else:
        numpy.testing.assert_array_equal(answered, expected)
    # the loaded estimator's own network trains on as the saved one's (0/1 columns for a binary classifier)
    loaded = type(estimator).load(tmp_path / "estimator.safetensors")
    assert loaded.model_.preprocessor.feature_names is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded.partial_fit(frame, target)
        estimator.partial_fit(frame, target)
    numpy.testing.assert_array_equal(loaded.predict(frame), estimator.predict(frame))


def resaved_preprocessor(source, target, **changes):
    """``target``: the estimator file ``source`` with its network's preprocessor fields changed."""
    model, tensors, extra_json = read(source)
    model.preprocessor = dataclasses.replace(model.preprocessor, **changes)
    save(model, target, extra_tensors=tensors, extra_json=extra_json)
    return target


@pytest.mark.parametrize("names, attribute", [
    (["a", "b", "c", "d"], False),  # the estimator has no feature_names_in_: it reads columns by position
    (["d", "c", "b", "a"], True),  # feature_names_in_ is ['a', 'b', 'c', 'd']
])
def test_a_preprocessor_reading_columns_otherwise_than_the_estimator_is_refused(saved, tmp_path, names, attribute):
    """Such a file loaded, and cr.predict of its network read a DataFrame's columns in another order."""
    model, tensors, extra_json = saved
    source = tmp_path / "source.safetensors"
    original = model.metadata
    if attribute:
        model.metadata = copy.deepcopy(original)
        model.metadata["sklearn"]["attributes"]["feature_names_in_"] = ["a", "b", "c", "d"]
    try:
        save(model, source, extra_tensors=tensors, extra_json=extra_json)
    finally:
        model.metadata = original
    path = resaved_preprocessor(source, tmp_path / "crafted.safetensors", feature_names=names)
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: preprocessor.feature_names: expected the "
                                             r"estimator's feature_names_in_"):
        MLPClassifier.load(path)


@pytest.fixture(scope="module")
def saved_regressor(tmp_path_factory):
    """(path, X, predictions) of a fitted MLPRegressor's file."""
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regressor = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("regressor") / "regressor.safetensors"
    regressor.save(path)
    return path, X, regressor.predict(X)


def resave_regressor_params(path, tmp_path, change):
    """The MLPRegressor file at ``path`` re-saved with ``change`` applied to its saved params."""
    model, tensors, extra_json = read(path)
    change(model.metadata["sklearn"]["params"])
    crafted = tmp_path / "crafted.safetensors"
    save(model, crafted, extra_tensors=tensors, extra_json=extra_json)
    return crafted


def test_a_regressor_file_standardizing_its_targets_is_refused(saved_regressor, tmp_path):
    """It loaded, and cr.predict of its network answered other values than the estimator (which ignored them)."""
    path = resaved_preprocessor(saved_regressor[0], tmp_path / "crafted.safetensors",
                                target_mean=numpy.array([1000.0]), target_scale=numpy.array([1000.0]))
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: preprocessor.target_mean: expected none, "
                                             r"as MLPRegressor does not standardize its targets"):
        MLPRegressor.load(path)


@pytest.mark.parametrize("estimator_type", ["classifier", "regressor"])
def test_a_file_standardizing_its_inputs_is_refused(saved, saved_regressor, tmp_path, estimator_type):
    """It loaded: the estimator read X as it is (it standardizes nothing), cr.predict of the file's network
    read (X - mean) / scale, and answered other values."""
    if estimator_type == "classifier":
        model, tensors, extra_json = saved
        source = tmp_path / "source.safetensors"
        save(model, source, extra_tensors=tensors, extra_json=extra_json)
        cls, name = MLPClassifier, "MLPClassifier"
    else:
        source, cls, name = saved_regressor[0], MLPRegressor, "MLPRegressor"
    width = read(source)[0].preprocessor.n_features
    path = resaved_preprocessor(source, tmp_path / "crafted.safetensors", mean=numpy.full(width, 5.0),
                                scale=numpy.full(width, 3.0))
    with pytest.raises(ModelFileError, match=rf"crafted.safetensors: preprocessor.mean: expected none, as {name} "
                                             rf"does not standardize its inputs, got \[5.0, "):
        cls.load(path)


def test_a_label_that_classes_dtype_rounds_is_refused(saved, tmp_path):
    """It loaded: the estimator answered 2**53 (the float64 label), cr.predict of the file the label 2**53 + 1."""
    model, tensors, extra_json = saved
    labels = [1, 2, 2**53 + 1]
    original, model.metadata = model.metadata, copy.deepcopy(model.metadata)
    model.metadata["sklearn"]["attributes"].update(classes_=labels, classes_dtype="<f8")
    try:
        save(model, tmp_path / "source.safetensors", extra_tensors=tensors, extra_json=extra_json)
    finally:
        model.metadata = original
    path = resaved_preprocessor(tmp_path / "source.safetensors", tmp_path / "crafted.safetensors", classes=labels)
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: sklearn.attributes.classes_\[2\]: the label "
                                             r"9007199254740993 is 9007199254740992.0 as dtype float64"):
        MLPClassifier.load(path)


def test_a_preprocessor_of_another_task_than_the_estimators_is_refused(saved, saved_regressor, tmp_path):
    """A regressor's file whose network's task was classification loaded, and cr.predict of it answered class
    indices (0) where the estimator answered values."""
    path = resaved_preprocessor(saved_regressor[0], tmp_path / "crafted.safetensors", task="classification")
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: preprocessor.task: expected 'regression' for a "
                                             r"regressor MLPRegressor, got 'classification'"):
        MLPRegressor.load(path)
    model, tensors, extra_json = saved  # a 3-class classifier: its network's task is classification
    save(model, tmp_path / "source.safetensors", extra_tensors=tensors, extra_json=extra_json)
    path = resaved_preprocessor(tmp_path / "source.safetensors", tmp_path / "crafted.safetensors", task="multilabel")
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: preprocessor.task: expected 'classification' "
                                             r"for a multiclass MLPClassifier, got 'multilabel'"):
        MLPClassifier.load(path)


def test_a_regressor_file_saved_before_loss_loads_with_the_squared_error(saved_regressor, tmp_path):
    path, X, predictions = saved_regressor
    assert read(path)[0].metadata["sklearn"]["params"]["loss"] == "squared_error"
    loaded = MLPRegressor.load(resave_regressor_params(path, tmp_path, lambda params: params.pop("loss")))
    assert loaded.loss == "squared_error"
    numpy.testing.assert_array_equal(loaded.predict(X), predictions)


def test_a_file_saved_before_the_schedules_and_shuffle_loads_with_their_defaults(saved_regressor, tmp_path):
    path, X, predictions = saved_regressor
    new = ("learning_rate", "power_t", "shuffle", "max_fun")

    def drop(params):
        for name in new:
            params.pop(name)

    loaded = MLPRegressor.load(resave_regressor_params(path, tmp_path, drop))
    assert {name: loaded.get_params()[name] for name in new} == {
        "learning_rate": "constant", "power_t": 0.5, "shuffle": True, "max_fun": 15000}
    numpy.testing.assert_array_equal(loaded.predict(X), predictions)


def test_the_schedules_and_shuffle_are_saved(saved_regressor, tmp_path):
    X = saved_regressor[1]
    regressor = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", learning_rate="invscaling", power_t=0.25,
                             shuffle=False, max_fun=7, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regressor.fit(X, X[:, 0])
    regressor.save(tmp_path / "regressor.safetensors")
    loaded = MLPRegressor.load(tmp_path / "regressor.safetensors")
    assert loaded.get_params() == regressor.get_params()
    assert loaded._optimizer.lr == regressor._optimizer.lr == 1e-3 / (2 * 40 + 1) ** 0.25


@pytest.mark.parametrize("divisions", [-1, 1.5, "2", True, None, LONG],
                         ids=["negative", "float", "string", "bool", "null", "long_string"])
def test_a_bad_count_of_adaptive_divisions_is_named(saved, tmp_path, divisions):
    with pytest.raises(ModelFileError, match=r"extra_json.optimizer.lr_divisions: expected an integer >= 0, got "
                                             r"(.{1,5}|" + CUT_60 + ")$"):
        load_crafted(saved, tmp_path, extra_json={"optimizer": {**saved[2]["optimizer"], "lr_divisions": divisions}})


def test_a_huge_count_of_adaptive_divisions_stops_where_the_rule_stops(saved, tmp_path):
    params = {**saved[0].metadata["sklearn"]["params"], "solver": "sgd", "learning_rate": "adaptive"}
    model, tensors, extra_json = saved
    sgd_tensors = {name: array for name, array in tensors.items() if not name.startswith("optimizer.")}
    sgd_tensors["optimizer.velocity"] = numpy.zeros_like(tensors["optimizer.m"])
    loaded = load_crafted(saved, tmp_path, sklearn={"params": params}, tensors=sgd_tensors,
                          extra_json={"optimizer": {**extra_json["optimizer"], "lr_divisions": 10**400}})
    assert loaded._optimizer.lr == pytest.approx(1e-3 / 5**5)  # 1e-3 / 5**4 = 1.6e-6 is divided once more


@pytest.mark.parametrize("power_t, message", [(10**400, "expected a finite real number"),
                                              (1e6, "rounds to 0 after 180 samples")])
def test_a_saved_power_t_the_schedule_cannot_take_is_named(saved, tmp_path, power_t, message):
    params = {**saved[0].metadata["sklearn"]["params"], "solver": "sgd", "learning_rate": "invscaling",
              "power_t": power_t}
    tensors = {name: array for name, array in saved[1].items() if not name.startswith("optimizer.")}
    tensors["optimizer.velocity"] = numpy.zeros_like(saved[1]["optimizer.m"])
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: sklearn.params.power_t: .*{message}"):
        load_crafted(saved, tmp_path, sklearn={"params": params}, tensors=tensors)


def test_a_regressor_file_with_another_loss_names_loss(saved_regressor, tmp_path):
    path = resave_regressor_params(saved_regressor[0], tmp_path, lambda params: params.update(loss="poisson"))
    with pytest.raises(ModelFileError, match="sklearn.params.loss: chainrule does not offer"):
        MLPRegressor.load(path)


def test_an_unknown_hyperparameter_of_a_newer_release_names_it(saved_regressor, tmp_path):
    path = resave_regressor_params(saved_regressor[0], tmp_path, lambda params: params.update(new_param=1))
    with safe_open(path, "np") as file:  # as a newer chainrule would have written it
        document = json.loads(file.metadata()["chainrule"])
    document["metadata"]["chainrule_version"] = "99.0.0"
    path.write_bytes(safetensors.numpy.save(safetensors.numpy.load(path.read_bytes()),
                                            metadata={"chainrule": json.dumps(document)}))
    with pytest.warns(ModelFileWarning), pytest.raises(
            ModelFileError, match=f"sklearn.params: .*unexpected keyword argument 'new_param' \\(the file was written "
                                  f"by chainrule '99.0.0'; this is chainrule {cr.__version__}: upgrade chainrule"):
        MLPRegressor.load(path)


def test_an_attribute_this_release_does_not_write_is_refused_not_dropped(saved, tmp_path):
    with pytest.raises(ModelFileError, match="sklearn.attributes: unexpected attribute 'new_attribute_', not one"):
        load_crafted(saved, tmp_path, attributes={"new_attribute_": 1})


def test_early_stopping_turned_off_before_saving_and_on_again_after_loading_goes_on(tmp_path):
    # The file held no best weights, so the loaded estimator's fit raised AttributeError (_best_theta)
    X, y = make_classification(n_samples=80, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, early_stopping=True,
                                  warm_start=True).fit(X, y)
        estimator.set_params(early_stopping=False)
        estimator.save(tmp_path / "estimator.safetensors")
        loaded = MLPClassifier.load(tmp_path / "estimator.safetensors")
        for model in (estimator, loaded):
            model.set_params(early_stopping=True).fit(X, y)
    numpy.testing.assert_array_equal(loaded.model_.flat_parameters().theta,
                                     estimator.model_.flat_parameters().theta)
    assert loaded.validation_scores_ == estimator.validation_scores_


def test_a_file_without_early_stoppings_best_weights_starts_its_record_afresh(saved, tmp_path):
    # A file holding a validation record but no early_stopping.best_theta: fit raised AttributeError (_best_theta)
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    loaded = load_crafted(saved, tmp_path, attributes={"validation_scores_": [0.5], "best_validation_score_": 0.5,
                                                       "best_loss_": None})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded.set_params(early_stopping=True, warm_start=True, max_iter=2)
        loaded.fit(X, numpy.array(["ant", "bee", "cat"])[y])
    assert len(loaded.validation_scores_) == 2


def test_a_negative_weight_decay_is_refused(saved, tmp_path):
    with pytest.raises(ModelFileError,
                       match=r"extra_json.optimizer.weight_decay: expected a finite number >= 0, got -1.0"):
        load_crafted(saved, tmp_path, extra_json={"optimizer": {"t": 3, "weight_decay": -1.0}})


def test_a_loaded_estimator_trains_on_as_the_saved_one_would(tmp_path):
    # The feature names and early stopping's best weights are saved: the loaded estimator goes on as the saved one.
    X, y = make_classification(n_samples=80, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    frame = pandas.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for early_stopping in (False, True):
            estimator = MLPClassifier(hidden_layer_sizes=(5,), alpha=0.5, max_iter=3, random_state=0,
                                      early_stopping=early_stopping, warm_start=True).fit(frame, y)
            path = tmp_path / f"estimator_{early_stopping}.safetensors"
            estimator.save(path)
            loaded = MLPClassifier.load(path)
            assert loaded.feature_names_in_.tolist() == ["a", "b", "c", "d"]
            if early_stopping:
                numpy.testing.assert_array_equal(loaded._best_theta, estimator._best_theta)
                estimator.fit(frame, y), loaded.fit(frame, y)
            else:
                estimator.partial_fit(frame, y), loaded.partial_fit(frame, y)
            numpy.testing.assert_array_equal(loaded.model_.flat_parameters().theta,
                                             estimator.model_.flat_parameters().theta)


@pytest.mark.parametrize("fitted, changed", [
    ({"solver": "adam"}, {"solver": "sgd"}),
    ({"solver": "sgd"}, {"solver": "adam"}),
    ({"solver": "sgd", "momentum": 0.9}, {"momentum": 0.0}),
    ({"solver": "sgd", "momentum": 0.0}, {"momentum": 0.9}),
])
def test_a_file_saved_after_the_solver_changed_loads_and_trains_on_as_the_saved_one(tmp_path, fitted, changed):
    # The file holds the optimizer the next partial_fit starts from: a fresh one of the new solver (or
    # momentum). It used to hold the old one's state, which load then refused as not the solver's.
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, **fitted).fit(X, y)
    estimator.set_params(**changed)
    estimator.save(tmp_path / "estimator.safetensors")
    loaded = MLPClassifier.load(tmp_path / "estimator.safetensors")
    assert loaded._optimizer.t == 0
    estimator.partial_fit(X, y), loaded.partial_fit(X, y)
    numpy.testing.assert_array_equal(loaded.model_.flat_parameters().theta, estimator.model_.flat_parameters().theta)


def diverged_estimator(epochs_before: int):
    """An MLPClassifier whose partial_fit diverged after ``epochs_before`` good ones (its optimizer started afresh)."""
    rng = numpy.random.default_rng(0)
    X, estimator = rng.normal(size=(60, 3)), MLPClassifier((4,), random_state=0, learning_rate_init=1e-3)
    y = numpy.where(X[:, 0] > 0, "p", "q")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs_before):
            estimator.partial_fit(X, y, classes=["p", "q"])
        estimator.set_params(learning_rate_init=1e30)
        with pytest.raises(cr.DivergenceError):
            estimator.partial_fit(X, y, classes=["p", "q"])
    estimator.set_params(learning_rate_init=1e-3)
    return estimator, X, y


def test_a_file_saved_after_a_divergence_continues_exactly(tmp_path):
    # the optimizer's missed counts (its state started afresh) were not saved: the next step differed by 5e-4
    estimator, X, y = diverged_estimator(5)
    assert estimator._optimizer.missed
    estimator.save(tmp_path / "e.safetensors")
    loaded = MLPClassifier.load(tmp_path / "e.safetensors")
    assert loaded._optimizer.missed == estimator._optimizer.missed
    estimator.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for ours, theirs in zip(estimator.coefs_, loaded.coefs_):
        numpy.testing.assert_array_equal(ours, theirs)


def test_an_estimator_whose_first_epoch_diverged_saves(tmp_path):
    # it had no loss_ yet: save raised a bare AttributeError
    estimator, X, _ = diverged_estimator(0)
    estimator.save(tmp_path / "e.safetensors")
    numpy.testing.assert_array_equal(MLPClassifier.load(tmp_path / "e.safetensors").predict(X), estimator.predict(X))


@pytest.mark.parametrize("change, name", [({"activation": "tanh"}, "activation"),
                                          ({"hidden_layer_sizes": (5,)}, "hidden_layer_sizes"),
                                          ({"dtype": "float64"}, "dtype")])
def test_save_refuses_hyperparameters_that_no_longer_describe_the_network(tmp_path, change, name):
    # save wrote them, and load then refused the file it had written
    estimator, _, _ = diverged_estimator(1)
    estimator.set_params(**change)
    with pytest.raises(cr.HyperparameterError, match=rf"^{name}: the fitted network .*; set it back, or fit anew"):
        estimator.save(tmp_path / "e.safetensors")
    assert not (tmp_path / "e.safetensors").exists()


@pytest.mark.parametrize("change, name", [({"beta_1": 1.5}, "beta_1"), ({"momentum": 2.0}, "momentum"),
                                          ({"learning_rate_init": -1.0}, "learning_rate_init")])
def test_save_refuses_a_value_set_after_fit_by_scikit_learns_name(tmp_path, change, name):
    # set_params(beta_1=1.5) then save was refused by Adam's check, naming its own beta1; momentum=2.0 (unused by
    # adam) was saved, and load refused the file
    estimator, _, _ = diverged_estimator(1)
    estimator.set_params(**change)
    with pytest.raises(ValueError, match=rf"^The '{name}' parameter of MLPClassifier must be"):
        estimator.save(tmp_path / "e.safetensors")
    assert not (tmp_path / "e.safetensors").exists()
