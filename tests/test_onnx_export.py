"""chainrule.onnx_export and ``chainrule export``: onnxruntime computes what chainrule computes.

Tests that run a graph skip, with the reason, when the optional onnx/onnxruntime packages are
absent (``pip install 'chainrule[onnx]'``); those about bad input that never reaches ONNX run
always.
"""

import argparse
import dataclasses
import json
import re
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.cli import export as export_command
from chainrule.cli.main import UsageError, build_parser, main
from chainrule.errors import HyperparameterError, ModelFileError, ShapeError
from chainrule.data.preprocessing import Preprocessor
from chainrule.io import load, save
from chainrule import onnx_export
from chainrule.onnx_export import DEFAULT_OPSET, GELU_OPSET, MIN_OPSET, to_onnx

NEEDS_ONNX = "ONNX export tests need the optional onnx and onnxruntime packages: pip install 'chainrule[onnx]'"
DTYPES = ["float32", "float64"]
SURROGATE = b"caf\xe9".decode("utf-8", "surrogateescape")  # "caf\udce9", as os.listdir gives a non-UTF-8 name
OPSETS = [MIN_OPSET, None, GELU_OPSET]  # None: DEFAULT_OPSET, GELU written out in primitives
#: (rtol, atol) of onnxruntime against chainrule: the issue's bound in float32; in float64,
#: tight enough to catch a float32 graph (~5e-7 off), loose enough for onnxruntime's float64
#: Gelu kernel (opset 20), which is accurate to ~1e-8 only
TOLERANCE = {"float32": (1e-5, 1e-5), "float64": (1e-7, 1e-7)}


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx", reason=NEEDS_ONNX)
    return pytest.importorskip("onnxruntime", reason=NEEDS_ONNX)


def run_onnx(ort, path, X):
    """The graph's output "Y" for input "X", computed by onnxruntime on the CPU."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["Y"], {"X": X})[0]


def assert_close(actual, expected, dtype):
    rtol, atol = TOLERANCE[dtype]
    assert actual.dtype == np.dtype(dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _models():
    """One small model per layer type, plus nested composites; name -> factory(dtype)."""
    after_linear = {name: (lambda d, name=name: cr.Sequential(cr.Linear(3, 4, dtype=d), getattr(cr, name)(), seed=1))
                    for name in ("Identity", "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax")}
    return {
        **after_linear,
        "Linear": lambda d: cr.Linear(3, 4, seed=2, dtype=d),
        "LeakyReLU": lambda d: cr.Sequential(cr.Linear(3, 4, dtype=d), cr.LeakyReLU(0.3), seed=3),
        "Residual": lambda d: cr.Residual(cr.Sequential(cr.Linear(3, 3, dtype=d), cr.Tanh(), seed=4)),
        "nested": lambda d: cr.Sequential(
            cr.Linear(3, 6, dtype=d), cr.GELU(),
            cr.Sequential(cr.Residual(cr.Sequential(cr.Linear(6, 6, dtype=d), cr.Sigmoid())), cr.LeakyReLU(0.1)),
            cr.Residual(cr.Residual(cr.Linear(6, 6, dtype=d))), cr.Identity(),
            cr.Linear(6, 2, dtype=d), cr.Softmax(), seed=5,
        ),
        "parameterless": lambda d: cr.Sequential(cr.ReLU(), cr.Residual(cr.Tanh())),
        "empty": lambda d: cr.Sequential(),
    }


MODELS = _models()


def randomize_biases(model, seed=0):
    """Nonzero biases (Linear starts them at 0), so a wrong Add would show."""
    rng = np.random.default_rng(seed)
    for name, array in model.params.items():
        if name.rsplit(".", 1)[-1] == "b":
            array[...] = rng.normal(size=array.shape)
    return model


# -- every layer type: onnxruntime equals chainrule -------------------------------------------

@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_matches_chainrule(ort, tmp_path, name, dtype, opset):
    model = randomize_biases(MODELS[name](dtype))
    dtype = (model.dtype or np.dtype(np.float32)).name  # a model without parameters exports as float32
    path = tmp_path / "model.onnx"
    to_onnx(model, path, opset=opset)
    rng = np.random.default_rng(0)
    for n_samples in (1, 7):  # one graph, several batch sizes: the batch dimension is dynamic
        X = (3 * rng.normal(size=(n_samples, 3))).astype(dtype)
        assert_close(run_onnx(ort, path, X), model(X), dtype)


@pytest.fixture(scope="module")
def nested_graph(ort, tmp_path_factory):
    model = randomize_biases(MODELS["nested"]("float32"))
    path = tmp_path_factory.mktemp("onnx") / "nested.onnx"
    to_onnx(model, path)
    return model, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@given(seed=st.integers(0, 2**32 - 1), n_samples=st.integers(1, 64), scale=st.sampled_from([0.1, 1.0, 10.0]))
def test_any_batch_matches(nested_graph, seed, n_samples, scale):
    model, session = nested_graph
    X = (scale * np.random.default_rng(seed).normal(size=(n_samples, 3))).astype(np.float32)
    assert_close(session.run(["Y"], {"X": X})[0], model(X), "float32")


def test_graph_structure(ort, tmp_path):
    import onnx

    model = MODELS["nested"]("float32")
    proto = to_onnx(model, tmp_path / "model.onnx")
    assert proto.opset_import[0].version == DEFAULT_OPSET
    # Parameters are initializers under their chainrule names; W keeps its (n_in, n_out) layout.
    initializers = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in proto.graph.initializer}
    for name, array in model.params.items():
        np.testing.assert_array_equal(initializers[name], array)
    ops = [node.op_type for node in proto.graph.node]
    assert "Gelu" not in ops and ops.count("LeakyRelu") == 1 and ops.count("Softmax") == 1
    assert [dim.dim_param or dim.dim_value for dim in proto.graph.input[0].type.tensor_type.shape.dim] == ["batch", 3]
    assert [dim.dim_param or dim.dim_value for dim in proto.graph.output[0].type.tensor_type.shape.dim] == ["batch", 2]
    assert onnx.load(tmp_path / "model.onnx") == proto
    # From opset 20 on, GELU is ONNX's own operator.
    assert "Gelu" in [node.op_type for node in to_onnx(model, tmp_path / "20.onnx", opset=GELU_OPSET).graph.node]


@pytest.mark.parametrize("part", ["a layer of another model", "a slice"])
def test_a_part_of_a_model_names_its_initializers_as_its_params_does(ort, tmp_path, part):
    """They were named by the layers' paths in the whole model: outer.layers[1]'s "0.W" was "1.0.W", and a slice's
    first "W" that of the layer it was cut from."""
    import onnx

    outer = randomize_biases(cr.Sequential(cr.Linear(3, 4), cr.Sequential(cr.Linear(4, 4), cr.Tanh(), cr.Residual(
        cr.Linear(4, 4))), cr.Linear(4, 2), seed=0))
    model = outer.layers[1] if part == "a layer of another model" else outer[1:]
    proto = to_onnx(model, tmp_path / "part.onnx")
    initializers = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in proto.graph.initializer}
    assert set(model.params) <= set(initializers)
    for name, array in model.params.items():
        np.testing.assert_array_equal(initializers[name], array)
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    assert_close(run_onnx(ort, tmp_path / "part.onnx", X), model(X), "float32")


def test_float64_leaky_relu_keeps_alpha_exactly(ort, tmp_path):
    # ONNX attributes are float32: LeakyRelu(alpha=0.1) would scale by 0.10000000149.
    model = randomize_biases(cr.Sequential(cr.Linear(3, 4, dtype="float64"), cr.LeakyReLU(0.1), seed=0))
    proto = to_onnx(model, tmp_path / "model.onnx", opset=GELU_OPSET)
    assert [node.op_type for node in proto.graph.node] == ["MatMul", "Add", "Mul", "Max"]
    X = 3 * np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_allclose(run_onnx(ort, tmp_path / "model.onnx", X), model(X), rtol=1e-14, atol=1e-14)


# -- the saved preprocessing ------------------------------------------------------------------

@pytest.fixture(scope="module", params=DTYPES)
def iris_model(request):
    """A small classifier trained on iris with standardization and string labels."""
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = cr.mlp([4, 16, 3], activation="tanh", seed=0, dtype=request.param)
    cr.fit(model, X, labels, epochs=5, standardize=True, verbose=0)
    return model, X.astype(request.param)


def test_preprocessing_in_graph_gives_logits(ort, tmp_path, iris_model):
    model, X = iris_model
    dtype = model.dtype.name
    proto = to_onnx(model, tmp_path / "iris.onnx")
    # Standardization in float64, as cr.predict does it: a float32 model casts around it.
    expected_ops = ["Sub", "Div"] if dtype == "float64" else ["Cast", "Sub", "Div", "Cast"]
    assert [node.op_type for node in proto.graph.node][:len(expected_ops)] == expected_ops
    logits = model(model.preprocessor.transform(X, model.dtype))
    assert_close(run_onnx(ort, tmp_path / "iris.onnx", X), logits, dtype)  # raw rows in
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    assert metadata["chainrule.classes"] == '["setosa", "versicolor", "virginica"]'
    assert metadata["chainrule.standardization"] == "in graph"


@pytest.mark.parametrize("opset", OPSETS)
def test_standardization_keeps_digits_of_a_column_far_from_zero(ort, tmp_path, opset):
    # Column 0 lies around 1e5 with std 1: exact in float32, but x − mean computed in float32
    # loses its low digits (the graph was 6e-3 off cr.predict before it standardized in float64).
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(200, 2)) + [1e5, 0]).astype(np.float32)
    y = X[:, 0].astype(np.float64) - 1e5 + X[:, 1]
    model = cr.mlp([2, 16, 1], seed=0)
    cr.fit(model, X, y, epochs=20, standardize=True, verbose=0)
    to_onnx(model, tmp_path / "offset.onnx", opset=opset)
    assert_close(run_onnx(ort, tmp_path / "offset.onnx", X)[:, 0], cr.predict(model, X), "float32")


def test_probabilities_match_predict_proba(ort, tmp_path, iris_model):
    model, X = iris_model
    to_onnx(model, tmp_path / "iris.onnx", probabilities=True)
    probabilities = run_onnx(ort, tmp_path / "iris.onnx", X)
    assert_close(probabilities, cr.predict_proba(model, X), model.dtype.name)
    classes = np.array(model.preprocessor.classes, dtype=object)
    np.testing.assert_array_equal(classes[probabilities.argmax(axis=1)], cr.predict(model, X))


def test_without_preprocessing_takes_standardized_rows(ort, tmp_path, iris_model):
    model, X = iris_model
    proto = to_onnx(model, tmp_path / "iris.onnx", include_preprocessing=False)
    assert "Sub" not in [node.op_type for node in proto.graph.node]
    standardized = model.preprocessor.transform(X, model.dtype)
    assert_close(run_onnx(ort, tmp_path / "iris.onnx", standardized), model(standardized), model.dtype.name)
    assert {prop.key: prop.value for prop in proto.metadata_props}["chainrule.standardization"] == "expected of the input"


def test_feature_names_of_a_dataframe_model_are_in_the_metadata(ort, tmp_path):
    pytest.importorskip("pandas")
    X, species = load_iris(return_X_y=True, as_frame=True)
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X, species.to_numpy(), epochs=1, verbose=0)
    path = tmp_path / "iris.onnx"
    to_onnx(model, path, probabilities=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert json.loads(session.get_modelmeta().custom_metadata_map["chainrule.feature_names"]) == list(X.columns)
    assert [output.name for output in session.get_outputs()] == ["Y", "label"]  # the probabilities are "Y"
    model.preprocessor = dataclasses.replace(model.preprocessor, feature_names=None)  # as fitted on a NumPy array
    proto = to_onnx(model, path)
    assert "chainrule.feature_names" not in {prop.key for prop in proto.metadata_props}


def test_multilabel_probabilities_are_sigmoids(ort, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * 5 + 2
    Y = (X[:, :2] > 2).astype(np.float32)
    model = cr.mlp([3, 8, 2], seed=0)
    cr.fit(model, X, Y, loss="binary_cross_entropy", epochs=2, standardize=True, verbose=0)
    to_onnx(model, tmp_path / "multilabel.onnx", probabilities=True)
    assert_close(run_onnx(ort, tmp_path / "multilabel.onnx", X.astype(np.float32)), cr.predict_proba(model, X), "float32")


@pytest.mark.parametrize("dtype, smallest", [("float32", -80.0), ("float64", -700.0)])
def test_sigmoid_keeps_its_relative_precision_for_negative_inputs(ort, tmp_path, dtype, smallest):
    """onnxruntime's Sigmoid operator gave σ(−18) 4.5 times too large in float32, and 0 for
    x ≤ −37 in float64: the probability of a rare label lost every digit."""
    model = cr.Sequential(cr.Linear(1, 1, dtype=dtype), cr.Sigmoid())
    model.params["0.W"], model.params["0.b"] = np.ones((1, 1)), np.zeros(1)
    X = np.linspace(smallest, 40.0, 2001, dtype=dtype)[:, None]
    to_onnx(model, tmp_path / "sigmoid.onnx")
    expected = model.forward(X.copy())
    np.testing.assert_allclose(run_onnx(ort, tmp_path / "sigmoid.onnx", X), expected, rtol=4 * np.finfo(dtype).eps,
                               atol=0)
    logits = model[:1]  # the Linear layer alone: a multilabel model's logits, σ applied by probabilities=True
    logits.preprocessor = Preprocessor(n_features=1, task="multilabel")
    to_onnx(logits, tmp_path / "probabilities.onnx", probabilities=True)
    np.testing.assert_allclose(run_onnx(ort, tmp_path / "probabilities.onnx", X), expected,
                               rtol=4 * np.finfo(dtype).eps, atol=0)


def test_probabilities_of_a_model_without_preprocessing_say_so(tmp_path):
    with pytest.raises(HyperparameterError, match=r"not class scores \(it has no preprocessing, which would name its "
                                                  r"task\); cr.predict_proba would refuse it too"):
        to_onnx(cr.mlp([3, 4, 2], seed=0), tmp_path / "model.onnx", probabilities=True)


def test_regressor_has_no_probabilities(ort, tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    model = cr.mlp([3, 4, 1], seed=0)
    cr.fit(model, X, X.sum(axis=1), epochs=1, standardize=True, verbose=0)
    to_onnx(model, tmp_path / "regressor.onnx")
    assert_close(run_onnx(ort, tmp_path / "regressor.onnx", X.astype(np.float32))[:, 0], cr.predict(model, X), "float32")
    for unfitted in (model, cr.mlp([3, 4, 2])):
        with pytest.raises(HyperparameterError, match="probabilities"):
            to_onnx(unfitted, tmp_path / "probabilities.onnx", probabilities=True)
    assert not (tmp_path / "probabilities.onnx").exists()


# -- a classifier's "label" output ------------------------------------------------------------

def run_label(ort, path, X):
    """The graph's output "label" for input "X"."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["label"], {"X": X})[0]


def output_names(path):
    import onnx

    return [output.name for output in onnx.load(path).graph.output]


def classifier(labels, dtype="float32", epochs=3):
    """A 4-8-K classifier trained (briefly) by cr.fit on iris with ``labels`` for its 3 species
    (K = the distinct labels), and raw rows to predict."""
    X, species = load_iris(return_X_y=True)
    y = np.asarray(labels)[species]
    n_classes = len(np.unique(y))
    model = cr.mlp([4, 8, n_classes], seed=0, dtype=dtype)
    loss = "softmax_cross_entropy" if y.dtype.kind == "f" else None  # float labels are classes only when asked
    cr.fit(model, X, y, loss=loss, epochs=epochs, standardize=True, verbose=0)
    return model, X.astype(dtype)


LABELS = {  # what cr.fit learns from iris's 3 species -> the dtype of onnxruntime's labels
    "integers not 0..K-1": ([3, 7, 11], np.int64),
    "negative integers": ([-5, 0, 2], np.int64),
    "strings": (["setosa", "versicolor", "virginica"], object),  # onnxruntime returns str objects
    "non-ASCII strings": (["été", "日本", "x"], object),
    "floats": ([0.5, 1.5, -2.25], np.float64),
    "binary strings": (["no", "yes", "yes"], object),
    "binary booleans": ([False, True, True], np.bool_),
    "binary 0/1": ([0, 1, 1], np.int64),
}


@pytest.mark.parametrize("probabilities", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", LABELS)
def test_label_output_equals_predict(ort, tmp_path, name, dtype, probabilities):
    import onnx

    labels, label_dtype = LABELS[name]
    model, X = classifier(labels, dtype)
    expected = cr.predict(model, X)
    assert set(expected.tolist()) == set(labels)  # every class is predicted: a wrong Gather would show
    path = tmp_path / "classifier.onnx"
    to_onnx(model, path, probabilities=probabilities)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert output_names(path) == ["Y", "label"]  # "Y" keeps its name, place and meaning
    label = run_label(ort, path, X)
    assert label.shape == (len(X),) and label.dtype == label_dtype
    np.testing.assert_array_equal(label, expected)
    assert [type(value) for value in label.tolist()] == [type(value) for value in expected.tolist()]


def test_label_output_shape_is_the_batch(ort, tmp_path):
    model, X = classifier([3, 7, 11])
    proto = to_onnx(model, tmp_path / "classifier.onnx")
    label = proto.graph.output[1]
    assert label.name == "label" and [dim.dim_param for dim in label.type.tensor_type.shape.dim] == ["batch"]
    for rows in (X[:1], X[:5]):
        np.testing.assert_array_equal(run_label(ort, tmp_path / "classifier.onnx", rows), cr.predict(model, rows))


def test_label_without_preprocessing_in_graph(ort, tmp_path):
    model, X = classifier(["a", "b", "c"])
    to_onnx(model, tmp_path / "classifier.onnx", include_preprocessing=False)
    standardized = model.preprocessor.transform(X, model.dtype)
    np.testing.assert_array_equal(run_label(ort, tmp_path / "classifier.onnx", standardized), cr.predict(model, X))


def equal_logits_model(classes, last_bias):
    """One input, 3 outputs of weight 0: the logits are the biases [0, 0, last_bias] for any row."""
    model = cr.Linear(1, 3, seed=0)
    model.params["W"][...] = 0
    model.params["b"][...] = [0, 0, last_bias]
    model.preprocessor = Preprocessor(n_features=1, task="classification", classes=classes)
    return model


@pytest.mark.parametrize("probabilities", [False, True])
def test_label_of_tied_logits_is_the_first_class(ort, tmp_path, probabilities):
    model = equal_logits_model([30, 20, 10], last_bias=0.0)
    to_onnx(model, tmp_path / "tied.onnx", probabilities=probabilities)
    X = np.zeros((2, 1), dtype=np.float32)
    np.testing.assert_array_equal(run_label(ort, tmp_path / "tied.onnx", X), cr.predict(model, X))
    assert cr.predict(model, X).tolist() == [30, 30]


def test_label_comes_from_the_logits_not_the_rounded_probabilities(ort, tmp_path):
    # Logits [0, 0, 1e-8]: the last is the largest, but float32 softmax rounds all three to 1/3.
    model = equal_logits_model(["a", "b", "c"], last_bias=1e-8)
    X = np.zeros((1, 1), dtype=np.float32)
    assert cr.predict(model, X).tolist() == ["c"]
    assert cr.predict_proba(model, X).argmax() == 0
    to_onnx(model, tmp_path / "close.onnx", probabilities=True)
    assert run_label(ort, tmp_path / "close.onnx", X).tolist() == ["c"]


def test_classifier_without_classes_labels_rows_with_output_indices(ort, tmp_path):
    model = randomize_biases(cr.mlp([3, 8, 4], seed=0))
    model.preprocessor = Preprocessor(n_features=3, task="classification")
    X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    to_onnx(model, tmp_path / "indices.onnx")
    label = run_label(ort, tmp_path / "indices.onnx", X)
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, cr.predict(model, X))


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # a short run is enough here
def test_label_of_a_scikit_learn_classifiers_network_indexes_its_classes(ort, tmp_path):
    # The estimator keeps its labels in classes_; its network model_ knows them as 0..K-1 only.
    from chainrule.sklearn import MLPClassifier

    X, species = load_iris(return_X_y=True)
    y = np.array(["setosa", "versicolor", "virginica"])[species]
    estimator = MLPClassifier((8,), learning_rate_init=0.01, max_iter=50, random_state=0).fit(X, y)
    to_onnx(estimator.model_, tmp_path / "estimator.onnx")
    label = run_label(ort, tmp_path / "estimator.onnx", X.astype(np.float32))
    assert label.dtype == np.int64
    np.testing.assert_array_equal(estimator.classes_[label], estimator.predict(X))


def test_classes_of_mixed_types_have_no_label_output(ort, tmp_path):
    # cr.predict answers [1, 2.5] in an object array; no ONNX tensor type keeps 1 an int.
    model = cr.mlp([3, 4, 2], seed=0)
    model.preprocessor = Preprocessor(n_features=3, task="classification", classes=[1, 2.5])
    to_onnx(model, tmp_path / "mixed.onnx")
    assert output_names(tmp_path / "mixed.onnx") == ["Y"]


def test_strings_ending_in_nul_have_their_label_output(ort, tmp_path):
    # cr.predict answers them in an object array (a str array drops a trailing NUL); the graph had no "label".
    model = cr.Sequential(cr.Linear(3, 3))
    model.params["0.W"], model.params["0.b"] = np.eye(3), np.zeros(3)
    model.preprocessor = Preprocessor(n_features=3, task="classification", classes=["a\0", "b", "\0"])
    X = np.eye(3, dtype=np.float32)[[2, 0, 1, 0]]
    to_onnx(model, tmp_path / "nul.onnx")
    expected = cr.predict(model, X)
    assert expected.tolist() == ["\0", "a\0", "b", "a\0"]
    np.testing.assert_array_equal(run_label(ort, tmp_path / "nul.onnx", X), expected)


def test_regressor_and_multilabel_have_no_label_output(ort, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    regressor = cr.mlp([3, 4, 1], seed=0)
    cr.fit(regressor, X, X.sum(axis=1), epochs=1, verbose=0)
    multilabel = cr.mlp([3, 4, 2], seed=0)
    cr.fit(multilabel, X, (X[:, :2] > 0).astype(np.float32), loss="binary_cross_entropy", epochs=1, verbose=0)
    for name, model in {"regressor": regressor, "multilabel": multilabel, "no preprocessing": cr.mlp([3, 2])}.items():
        to_onnx(model, tmp_path / f"{name}.onnx")
        assert output_names(tmp_path / f"{name}.onnx") == ["Y"], name


@pytest.mark.parametrize("probabilities", [False, True])
@pytest.mark.parametrize("labels", [lambda y: y, lambda y: y.astype(int), lambda y: y.astype(float)],
                         ids=["bool", "int", "float"])
def test_a_binary_classifier_has_the_label_cr_predict_answers(ort, tmp_path, labels, probabilities):
    # One sigmoid output fitted on one 0/1 label per row: classes[logit > 0], in the labels' type.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    model = cr.mlp([3, 6, 1], seed=0)
    cr.fit(model, X, labels(X[:, 0] + X[:, 1] > 0), loss="binary_cross_entropy", epochs=3, verbose=0)
    to_onnx(model, tmp_path / "binary.onnx", probabilities=probabilities)
    assert output_names(tmp_path / "binary.onnx") == ["Y", "label"]
    session = ort.InferenceSession(str(tmp_path / "binary.onnx"), providers=["CPUExecutionProvider"])
    Y, label = session.run(["Y", "label"], {"X": X.astype(np.float32)})
    expected = cr.predict(model, X)
    assert label.dtype == expected.dtype and np.array_equal(label, expected)
    assert_close(Y, cr.predict_proba(model, X) if probabilities else model(X.astype(np.float32)), "float32")


def test_classifier_with_more_outputs_than_classes_is_refused(ort, tmp_path):
    model = cr.mlp([3, 4, 4], seed=0)
    model.preprocessor = Preprocessor(n_features=3, task="classification", classes=["a", "b", "c"])
    with pytest.raises(cr.DataError, match=re.escape("model.preprocessor.classes: expected 4 classes, one per output "
                                                     "of the network, got 3")):  # as cr.predict says it
        to_onnx(model, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


# -- bad input ----------------------------------------------------------------------------------

class Scale(cr.Layer):
    """A user's own layer: Y = 2 X."""

    def forward(self, X):
        return 2 * X


class DoubledReLU(cr.ReLU):
    """A subclass of an exportable layer that computes something else."""

    def forward(self, X):
        return 2 * super().forward(X)


@pytest.mark.parametrize("model, named", [
    (cr.Sequential(cr.Linear(3, 3), Scale()), "layer '1' (Scale)"),
    (cr.Sequential(cr.Linear(3, 3), cr.Residual(cr.Sequential(cr.Tanh(), DoubledReLU()))), "layer '1.f.1' (DoubledReLU)"),
    (Scale(), "Scale"),
])
def test_unexportable_layer_is_named_and_nothing_written(ort, tmp_path, model, named):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous")
    with pytest.raises(ModelFileError, match=re.escape(f"cannot export {named} to ONNX")):
        to_onnx(model, path)
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_unwritable_path_raises_naming_it_and_leaves_nothing(ort, tmp_path):
    model = MODELS["nested"]("float32")
    missing = tmp_path / "no_such_dir" / "model.onnx"
    with pytest.raises(ModelFileError, match="no_such_dir.*cannot write.*does not exist"):
        to_onnx(model, missing)
    (tmp_path / "a_directory").mkdir()
    with pytest.raises(ModelFileError, match="a_directory: cannot write"):
        to_onnx(model, tmp_path / "a_directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_directory"]
    assert list((tmp_path / "a_directory").iterdir()) == []


@pytest.mark.parametrize("opset", [MIN_OPSET - 1, 10**4, "17", 17.0, True])
def test_bad_opset(ort, tmp_path, opset):
    with pytest.raises(HyperparameterError, match="opset: expected an integer"):
        to_onnx(MODELS["Linear"]("float32"), tmp_path / "model.onnx", opset=opset)


def test_a_huge_opset_is_named_in_the_message(ort, tmp_path):
    """Its repr raised ValueError inside the message that refused it."""
    with pytest.raises(HyperparameterError, match=r"opset: expected an integer .*, got <an int of 16,610 bits>$"):
        to_onnx(MODELS["Linear"]("float32"), tmp_path / "model.onnx", opset=10 ** 5000)


def test_a_numpy_integer_opset_is_taken(ort, tmp_path):
    proto = to_onnx(MODELS["Linear"]("float32"), tmp_path / "model.onnx", opset=np.int64(17))
    assert [entry.version for entry in proto.opset_import] == [17]


@pytest.mark.parametrize("option", ["probabilities", "include_preprocessing"])
@pytest.mark.parametrize("value", ["yes", 1, 0.5, None])
def test_a_flag_that_is_not_a_boolean_is_refused_by_name(ort, tmp_path, option, value):
    with pytest.raises(HyperparameterError, match=f"{option}: expected True or False, got {value!r}"):
        to_onnx(MODELS["Linear"]("float32"), tmp_path / "model.onnx", **{option: value})
    assert not (tmp_path / "model.onnx").exists()


def test_widths_that_do_not_chain(ort, tmp_path):
    with pytest.raises(ShapeError, match="layer '1' [(]Linear[)]: it takes 5 features, but receives 4"):
        to_onnx(cr.Sequential(cr.Linear(3, 4), cr.Linear(5, 2)), tmp_path / "model.onnx")
    with pytest.raises(ShapeError, match="layer '0' [(]Residual[)]: .*input 3, f[(]x[)] 2"):
        to_onnx(cr.Sequential(cr.Residual(cr.Linear(3, 2))), tmp_path / "model.onnx")


def test_a_diverged_model_is_refused_naming_the_parameter_and_nothing_written(ort, tmp_path):
    # it wrote a graph that answered NaN for every row (cr.save refuses such a model)
    model = cr.mlp([4, 8, 3], seed=0)
    model.params["2.b"][1] = np.nan
    with pytest.raises(ModelFileError, match=r"model\.onnx: cannot export: parameter '2.b': expected finite values, "
                                             r"found nan"):
        to_onnx(model, tmp_path / "model.onnx")
    from chainrule.sklearn import MLPClassifier

    with warnings.catch_warnings():  # 2 iterations: a ConvergenceWarning
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(*load_iris(return_X_y=True))
    estimator.model_.params["0.W"][0, 0] = np.inf  # as a diverged partial_fit leaves none, but a hand could
    with pytest.raises(ModelFileError, match=r"parameter '0.W': expected finite values, found inf"):
        estimator.to_onnx(tmp_path / "estimator.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("field, value, message", [
    ("scale", np.array([1.0, 0.0, 1.0, 1.0]), r"model\.preprocessor\.scale\[1\]: expected a finite number > 0"),
    ("mean", np.zeros(1), r"model\.preprocessor\.mean: expected"),  # broadcast over every column
    ("task", "bogus", r"model\.preprocessor\.task"),
    # a lone surrogate, as Python decodes a non-UTF-8 file name ("caf\udce9"), which protobuf cannot encode
    ("classes", ["a", SURROGATE, "c"], r"model\.preprocessor\.classes: the label 'caf\\udce9' is not text that UTF-8"),
    ("feature_names", ["w", "x", "y", SURROGATE], r"model\.preprocessor\.feature_names: the feature name 'caf\\udce9'"),
])
def test_a_preprocessor_that_does_not_fit_the_network_is_refused_as_predict_refuses_it(ort, tmp_path, field, value,
                                                                                       message):
    # the graph answered NaN (scale 0), or broadcast one mean over every column, without a word
    model = cr.mlp([4, 8, 3], seed=0)
    model.preprocessor = Preprocessor(4, "classification", np.zeros(4), np.ones(4), ["a", "b", "c"])
    setattr(model.preprocessor, field, value)
    for refused in (lambda: to_onnx(model, tmp_path / "model.onnx"), lambda: cr.predict(model, np.ones((2, 4)))):
        with pytest.raises(cr.DataError, match=message):
            refused()
    assert list(tmp_path.iterdir()) == []


def test_not_a_model(ort, tmp_path):
    with pytest.raises(HyperparameterError, match="model: expected a chainrule Layer, got dict"):
        to_onnx({}, tmp_path / "model.onnx")


def test_missing_onnx_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(HyperparameterError, match=r"pip install 'chainrule\[onnx\]'"):
        to_onnx(MODELS["Linear"]("float32"), tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("arguments, message", [
    (({}, "model.onnx"), "model: expected a chainrule Layer, got dict"),
    ((None, "model.onnx", {"probabilities": "yes"}), "probabilities: expected True or False, got 'yes'"),
    ((None, "model.onnx", {"include_preprocessing": 1}), "include_preprocessing: expected True or False, got 1"),
])
def test_bad_arguments_are_named_before_a_missing_onnx(monkeypatch, tmp_path, arguments, message):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as on a machine without the onnx extra
    model, name, options = (*arguments, {})[:3]
    with pytest.raises(HyperparameterError, match=f"^{re.escape(message)}$"):
        to_onnx(MODELS["Linear"]("float32") if model is None else model, tmp_path / name, **options)
    assert list(tmp_path.iterdir()) == []


def test_library_imports_neither_onnx_nor_torch():
    import subprocess

    code = ("import sys, chainrule, chainrule.onnx_export, chainrule.torch_interchange, chainrule.cli.export; "
            "print(sorted({'onnx', 'onnxruntime', 'torch'} & set(sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


# -- chainrule export ---------------------------------------------------------------------------

def _registered() -> bool:
    """Whether chainrule/cli/main.py dispatches the export command yet."""
    try:
        build_parser().parse_args(["export", "MODEL", "--onnx", "OUT"])
    except UsageError:
        return False
    return True


needs_registration = pytest.mark.skipif(not _registered(), reason="chainrule.cli.export is not registered in cli/main.py")


def parse(argv):
    """``chainrule export`` arguments parsed by the command's own add_arguments."""
    parser = argparse.ArgumentParser(prog="chainrule export")
    export_command.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def model_file(tmp_path, iris_model):
    model, X = iris_model
    save(model, tmp_path / "model.safetensors")
    return tmp_path / "model.safetensors", model, X


def tamper(path):
    """Truncate a model file by its last bytes, as a failed copy would."""
    path.write_bytes(path.read_bytes()[:-16])


def test_run_exports_a_model_file(ort, tmp_path, model_file, capsys):
    path, model, X = model_file
    out = tmp_path / "model.onnx"
    assert export_command.run(parse([str(path), "--onnx", str(out), "--probabilities"])) == 0
    assert_close(run_onnx(ort, out, X), cr.predict_proba(load(path), X), model.dtype.name)
    printed = capsys.readouterr().out
    assert printed == (f"wrote {out}: ONNX opset {DEFAULT_OPSET}, {model.dtype}, "
                       f"X (batch, 4) -> Y (batch, 3) probabilities, label (batch)\n")


def test_run_options(ort, tmp_path, model_file):
    path, model, X = model_file
    out = tmp_path / "model.onnx"
    export_command.run(parse([str(path), "--onnx", str(out), "--opset", str(GELU_OPSET), "--no-preprocessing"]))
    standardized = model.preprocessor.transform(X, model.dtype)
    assert_close(run_onnx(ort, out, standardized), model(standardized), model.dtype.name)


def test_run_on_a_tampered_model_file_raises_model_file_error(tmp_path, model_file):
    path, _, _ = model_file
    tamper(path)
    with pytest.raises(ModelFileError, match="model.safetensors"):
        export_command.run(parse([str(path), "--onnx", str(tmp_path / "model.onnx")]))
    assert not (tmp_path / "model.onnx").exists()


@needs_registration
def test_cli_end_to_end(ort, tmp_path, model_file, capsys):
    path, model, X = model_file
    out = tmp_path / "model.onnx"
    assert main(["export", str(path), "--onnx", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}")
    assert_close(run_onnx(ort, out, X), model(model.preprocessor.transform(X, model.dtype)), model.dtype.name)


@needs_registration
def test_cli_tampered_model_file_exits_2(tmp_path, model_file, capsys):
    path, _, _ = model_file
    tamper(path)
    assert main(["export", str(path), "--onnx", str(tmp_path / "model.onnx")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("chainrule: error: ") and "model.safetensors" in error and error.count("\n") == 1
    assert not (tmp_path / "model.onnx").exists()


@needs_registration
def test_cli_unwritable_path_exits_2(ort, tmp_path, model_file, capsys):
    path, _, _ = model_file
    assert main(["export", str(path), "--onnx", str(tmp_path / "missing" / "model.onnx")]) == 2
    assert "missing" in capsys.readouterr().err


@needs_registration
def test_cli_refuses_to_write_over_its_model_file(tmp_path, model_file, capsys):
    path, _, _ = model_file
    before = path.read_bytes()
    (tmp_path / "link.onnx").symlink_to(path)  # a link to the model is the model too
    for target in (path, tmp_path / "link.onnx"):
        assert main(["export", str(path), "--onnx", str(target)]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"chainrule: error: --onnx {target}: that is the model file") and error.count("\n") == 1
    assert path.read_bytes() == before


@needs_registration
def test_cli_needs_an_output(model_file, capsys):
    path, _, _ = model_file
    assert main(["export", str(path)]) == 2
    assert "--onnx" in capsys.readouterr().err


def test_weights_over_what_one_onnx_file_holds_are_refused_before_anything_is_built(ort, tmp_path, monkeypatch):
    # A real 2 GiB model is too large for a test: the limit is lowered to this model's size.
    model = cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)
    weight_bytes = sum(array.nbytes for array in model.params.values())
    monkeypatch.setattr(onnx_export, "MAX_PROTO_BYTES", weight_bytes - 1)
    with pytest.raises(ModelFileError, match=r"model\.onnx: the model's weights take 0\.00 GiB, more than the 2 GiB"):
        to_onnx(model, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(onnx_export, "MAX_PROTO_BYTES", weight_bytes)
    to_onnx(model, tmp_path / "model.onnx")  # exactly at the limit: written
    assert (tmp_path / "model.onnx").is_file()


@pytest.mark.parametrize("path", [5, None, b"model.onnx"])
def test_a_path_that_is_no_path_is_refused_before_the_graph_is_built(ort, path):
    with pytest.raises(cr.HyperparameterError, match=r"^path: expected a file path \(str or os.PathLike\), got "):
        cr.to_onnx(cr.mlp([2, 3], seed=0), path)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_regressor_of_standardized_targets_answers_in_the_targets_units(ort, tmp_path, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = np.c_[X @ [1.0, 2.0, 3.0] * 100 + 1e6, X[:, 0]]
    model = cr.mlp([3, 8, 2], seed=0, dtype=dtype)
    cr.fit(model, X, y, epochs=3, standardize=True, standardize_targets=True, verbose=0)
    proto = to_onnx(model, tmp_path / "far.onnx")
    assert {prop.key: prop.value for prop in proto.metadata_props}["chainrule.target_standardization"] == "in graph"
    X = X.astype(dtype)
    expected = cr.predict(model, X)  # float64: the float32 graph rounds ŷ ≈ 1e6 to float32's 0.0625
    actual = run_onnx(ort, tmp_path / "far.onnx", X)
    assert actual.dtype == np.dtype(dtype)
    np.testing.assert_allclose(actual, expected, rtol=1e-7 if dtype == "float32" else 1e-12, atol=1e-5)
    bare = to_onnx(model, tmp_path / "bare.onnx", include_preprocessing=False)  # standardized rows and targets
    assert "Mul" not in [node.op_type for node in bare.graph.node]
    standardized = model.preprocessor.transform(X, model.dtype)
    assert_close(run_onnx(ort, tmp_path / "bare.onnx", standardized), model(standardized), dtype)
