"""MLPClassifier.to_onnx / MLPRegressor.to_onnx: onnxruntime gives what predict and predict_proba give."""

import os
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from chainrule.errors import HyperparameterError, ModelFileError
from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.sklearn._onnx import largest_logit_at_most_half

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

DTYPES = ["float32", "float64"]
#: how close the graph's probabilities (and a regressor's Y) come to predict_proba's (predict's)
TOLERANCE = {"float32": 1e-6, "float64": 1e-12}
SURROGATE = b"caf\xe9".decode("utf-8", "surrogateescape")  # "caf\udce9", as os.listdir gives a non-UTF-8 name
RNG = np.random.default_rng(0)
X_TRAIN = RNG.normal(size=(60, 4))
X_TEST = RNG.normal(size=(40, 4)) * 3


def targets(kind):
    """Training targets for each kind of estimator, from the first two features."""
    score = X_TRAIN[:, 0] + X_TRAIN[:, 1]
    three = np.digitize(score, [-0.5, 0.5])
    return {
        "int": np.array([3, 7, 11])[three],
        "str": np.array(["ant", "bee", "cat"])[three],
        "float": np.array([-1.0, 0.0, 2.0])[three],
        "object str": np.array(["ant", "bee", "cat"], dtype=object)[three],
        "binary bool": score > 0,
        "binary str": np.array(["no", "yes"])[(score > 0).astype(int)],
        "multilabel": np.stack([score > 0, X_TRAIN[:, 2] > 0, X_TRAIN[:, 3] > 0.5], axis=1).astype(int),
        "single output": score,
        "multi-output": X_TRAIN[:, :2] * [1.0, -2.0],
    }[kind]


def fitted(estimator_class, y, dtype):
    """An estimator trained on X_TRAIN and ``y`` for a few epochs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few epochs do not converge
        return estimator_class(hidden_layer_sizes=(6,), max_iter=20, learning_rate_init=0.05, random_state=0, dtype=dtype).fit(X_TRAIN, y)


def run(path, X):
    """Every output of the graph at ``path`` on rows X, by name."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X})))


def assert_labels_equal(actual, expected):
    """Equal values; the same dtype except that onnxruntime gives strings as an object array."""
    np.testing.assert_array_equal(actual, expected)
    if expected.dtype.kind == "U":
        assert all(isinstance(label, str) for label in actual.ravel())
    else:
        assert actual.dtype == expected.dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["int", "str", "float", "object str", "binary bool", "binary str", "multilabel"])
def test_classifier_outputs_equal_predict_and_predict_proba(tmp_path, kind, dtype):
    estimator = fitted(MLPClassifier, targets(kind), dtype)
    proto = estimator.to_onnx(tmp_path / "model.onnx")
    assert [output.name for output in proto.graph.output] == ["label", "probabilities"]
    outputs = run(tmp_path / "model.onnx", X_TEST.astype(dtype))
    assert_labels_equal(outputs["label"], estimator.predict(X_TEST))
    assert outputs["probabilities"].dtype == np.dtype(dtype)
    np.testing.assert_allclose(outputs["probabilities"], estimator.predict_proba(X_TEST), rtol=0,
                               atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["single output", "multi-output"])
def test_regressor_output_y_equals_predict(tmp_path, kind, dtype):
    estimator = fitted(MLPRegressor, targets(kind), dtype)
    proto = estimator.to_onnx(tmp_path / "model.onnx")
    assert [output.name for output in proto.graph.output] == ["Y"]
    Y = run(tmp_path / "model.onnx", X_TEST.astype(dtype))["Y"]
    expected = estimator.predict(X_TEST)
    assert Y.dtype == np.dtype(dtype) and Y.shape == expected.shape
    np.testing.assert_allclose(Y, expected, rtol=TOLERANCE[dtype] * 10, atol=TOLERANCE[dtype])


def identity_classifier(X, y, dtype):
    """An MLPClassifier fitted on (X, y) whose network then computes logits = X exactly
    (identity activation, one hidden layer as wide as X, weights I, biases 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration does not converge
        estimator = MLPClassifier((X.shape[1],), activation="identity", max_iter=1, random_state=0,
                                  dtype=dtype).fit(X, y)
    for W, b in zip(estimator.coefs_, estimator.intercepts_):
        W[...] = np.eye(*W.shape)
        b[...] = 0
    return estimator


def near_the_threshold(dtype):
    """Logits around 0 and the largest logit whose float64 sigmoid rounds to 0.5."""
    bound = np.float64(largest_logit_at_most_half(fitted(MLPClassifier, targets("binary str"), dtype)))
    above = np.nextafter(np.array(bound, dtype=dtype), np.array(1, dtype=dtype))
    tiny = np.finfo(dtype).smallest_subnormal
    return np.array([-1.0, -tiny, -0.0, 0.0, tiny, 1e-30, 1e-17, bound / 2, bound, above, 2e-16, 1e-10, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_label_equals_predict_near_p_one_half(tmp_path, dtype):
    X = np.linspace(-1, 1, 20)[:, None]
    estimator = identity_classifier(X, np.where(X[:, 0] > 0, "pos", "neg"), dtype)
    rows = near_the_threshold(dtype)[:, None]
    expected = estimator.predict(rows)
    # Small positive logits have p == 0.5 exactly in float64, so predict says "neg" for them:
    # a graph comparing the logit with 0 (or a float32 sigmoid with 0.5) would say "pos".
    assert expected[rows[:, 0] > 0].tolist().count("neg") >= 3 and expected[-1] == "pos"
    estimator.to_onnx(tmp_path / "model.onnx")
    outputs = run(tmp_path / "model.onnx", rows.astype(dtype))
    assert_labels_equal(outputs["label"], expected)
    np.testing.assert_allclose(outputs["probabilities"], estimator.predict_proba(rows), rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_label_equals_predict_near_p_one_half(tmp_path, dtype):
    X = RNG.normal(size=(20, 2))
    estimator = identity_classifier(X, (X > 0).astype(int), dtype)
    values = near_the_threshold(dtype)
    rows = np.stack([values, values[::-1]], axis=1)
    estimator.to_onnx(tmp_path / "model.onnx")
    assert_labels_equal(run(tmp_path / "model.onnx", rows.astype(dtype))["label"], estimator.predict(rows))


@pytest.mark.parametrize("dtype", DTYPES)
def test_multiclass_label_of_logits_the_softmax_ties_is_the_first_class_as_in_predict(tmp_path, dtype):
    X = RNG.normal(size=(30, 3))
    estimator = identity_classifier(X, np.array(["a", "b", "c"])[X.argmax(axis=1)], dtype)
    # exp(−1e−30) is 1: the first two classes get the same probability, and predict the first
    rows = np.array([[0.0, 1e-30, -1.0], [1e-30, 0.0, -1.0], [-1.0, 0.0, 1e-30], [-1.0, 2.0, 1.0]])
    expected = estimator.predict(rows)
    assert expected.tolist() == ["a", "a", "b", "b"]
    estimator.to_onnx(tmp_path / "model.onnx")
    assert_labels_equal(run(tmp_path / "model.onnx", rows.astype(dtype))["label"], expected)


def test_classes_of_mixed_types_have_no_label_output(tmp_path):
    # scikit-learn's fit refuses labels of mixed types, so they are set by hand here
    estimator = fitted(MLPClassifier, targets("int"), "float64")
    estimator.classes_ = np.array([1, 2.0, "three"], dtype=object)
    proto = estimator.to_onnx(tmp_path / "model.onnx")
    assert [output.name for output in proto.graph.output] == ["probabilities"]
    outputs = run(tmp_path / "model.onnx", X_TEST)
    np.testing.assert_allclose(outputs["probabilities"], estimator.predict_proba(X_TEST), rtol=0, atol=1e-12)


def test_metadata_names_the_estimator_and_its_classes(tmp_path):
    classifier = fitted(MLPClassifier, targets("binary str"), "float32")
    properties = {p.key: p.value for p in classifier.to_onnx(tmp_path / "c.onnx").metadata_props}
    assert properties == {"chainrule.estimator": "MLPClassifier", "chainrule.classes": '["no", "yes"]'}
    regressor = fitted(MLPRegressor, targets("single output"), "float32")
    properties = {p.key: p.value for p in regressor.to_onnx(tmp_path / "r.onnx").metadata_props}
    assert properties == {"chainrule.estimator": "MLPRegressor"}


def test_metadata_names_the_columns_of_an_estimator_fitted_on_a_dataframe(tmp_path):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(X_TRAIN, columns=["age", "height", "weight", "score"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regressor = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(frame, targets("single output"))
    properties = {p.key: p.value for p in regressor.to_onnx(tmp_path / "r.onnx").metadata_props}
    assert properties["chainrule.feature_names"] == '["age", "height", "weight", "score"]'


def test_input_has_the_estimators_width_and_dtype(tmp_path):
    proto = fitted(MLPClassifier, targets("int"), "float64").to_onnx(tmp_path / "model.onnx", opset=13)
    (X,) = proto.graph.input
    assert X.name == "X" and X.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert [d.dim_param or d.dim_value for d in X.type.tensor_type.shape.dim] == ["batch", 4]
    assert proto.opset_import[0].version == 13


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_unfitted_estimator_raises_not_fitted_and_writes_nothing(tmp_path, estimator_class):
    with pytest.raises(NotFittedError):
        estimator_class().to_onnx(tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("opset", [12, 10**6, "17", 17.0, True])
def test_bad_opset_is_named(tmp_path, opset):
    with pytest.raises(HyperparameterError, match="opset"):
        fitted(MLPClassifier, targets("int"), "float32").to_onnx(tmp_path / "model.onnx", opset=opset)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_whole_or_left_as_it_was(tmp_path, monkeypatch):
    estimator = fitted(MLPClassifier, targets("binary str"), "float32")
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous file")
    proto = estimator.to_onnx(path)
    assert path.read_bytes() == proto.SerializeToString()

    def failing_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    other = fitted(MLPClassifier, targets("str"), "float32")
    with pytest.raises(ModelFileError, match="model.onnx"):
        other.to_onnx(path)
    assert path.read_bytes() == proto.SerializeToString()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("kind, replaced", [("str", "bee"), ("object str", "bee"), ("binary str", "yes")])
def test_a_label_that_utf8_cannot_encode_is_named_and_the_file_kept(tmp_path, kind, replaced):
    # fit and predict take such a label and est.save refuses it, but to_onnx raised protobuf's raw
    # UnicodeEncodeError, which named neither the file nor the label
    y = targets(kind)
    estimator = fitted(MLPClassifier, np.where(y == replaced, SURROGATE, y), "float32")
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous file")
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(path))}: classes_: the label 'caf\\udce9' is not text "
                                             rf"that UTF-8 can encode: it holds a lone surrogate"):
        estimator.to_onnx(path)
    assert path.read_bytes() == b"the previous file" and list(tmp_path.iterdir()) == [path]


def test_a_feature_name_that_utf8_cannot_encode_is_named_and_nothing_written(tmp_path):
    # its graph's metadata held it as the JSON escape "\udce9", which est.save and cr.to_onnx refuse
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(X_TRAIN, columns=["age", SURROGATE, "weight", "score"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regressor = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
        regressor.fit(frame, targets("single output"))
    with pytest.raises(ModelFileError, match=r"r\.onnx: feature_names_in_: the feature name 'caf\\udce9' is not text"):
        regressor.to_onnx(tmp_path / "r.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [5, None])
def test_a_path_that_is_no_path_is_refused(path):
    estimator = fitted(MLPClassifier, targets("int"), "float32")
    with pytest.raises(HyperparameterError, match=r"^path: expected a file path \(str or os.PathLike\), got "):
        estimator.to_onnx(path)


@pytest.mark.parametrize("kind", ["binary bool", "multilabel"])
def test_small_probabilities_keep_their_relative_precision(tmp_path, kind):
    """onnxruntime's Sigmoid operator gave float64 probabilities of 0 for logits below −37.

    Compared down to the smallest normal float64 (2.2e-308): below it, onnxruntime's Exp may give 0
    (1.16 and 1.17 do, 1.32 does not), which is the runtime's rounding, not the graph's.
    """
    estimator = fitted(MLPClassifier, targets(kind), "float64")
    estimator.to_onnx(tmp_path / "model.onnx")
    X = X_TEST * 1e3  # logits far from 0: probabilities down to 1e-300 and below
    expected = estimator.predict_proba(X)
    got = run(tmp_path / "model.onnx", X)["probabilities"]
    tiny = (expected < 1e-20) & (expected >= np.finfo(np.float64).tiny)
    assert tiny.any()
    np.testing.assert_allclose(got[tiny], expected[tiny], rtol=1e-12, atol=0)
