"""chainrule.training.predict: a fitted model on raw rows, in the training labels."""

import math
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import chainrule as cr
from chainrule.training.loop import EVAL_CHUNK

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SPECIES = np.array(["setosa", "versicolor", "virginica"])
X_DIABETES, Y_DIABETES = load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def classifier():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, SPECIES[Y_IRIS], epochs=20, lr=0.05, standardize=True, verbose=0)
    return model


def test_predict_returns_the_training_labels(classifier):
    predicted = cr.predict(classifier, X_IRIS)
    assert predicted.shape == (150,)
    assert all(isinstance(label, str) for label in predicted)
    assert np.mean(predicted == SPECIES[Y_IRIS]) > 0.8


def test_probabilities_are_in_class_order_and_sum_to_one(classifier):
    proba = cr.predict_proba(classifier, X_IRIS)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(SPECIES[proba.argmax(axis=1)], cr.predict(classifier, X_IRIS))


def test_raw_rows_are_standardized_as_in_training(classifier):
    preprocessor = classifier.preprocessor
    standardized = ((X_IRIS - preprocessor.mean) / preprocessor.scale).astype(np.float32)
    logits = classifier.forward(standardized)
    np.testing.assert_allclose(cr.predict_proba(classifier, X_IRIS), cr.SoftmaxCrossEntropy().transform(logits),
                               rtol=1e-5)


def test_evaluate_agrees_with_predict(classifier):
    scores = cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS])
    assert set(scores) == {"loss", "accuracy"}
    assert scores["accuracy"] == np.mean(cr.predict(classifier, X_IRIS) == SPECIES[Y_IRIS])
    proba = cr.predict_proba(classifier, X_IRIS)
    assert scores["loss"] == pytest.approx(-np.mean(np.log(proba[np.arange(150), Y_IRIS])), rel=1e-4)


def test_evaluate_refuses_labels_it_was_not_trained_on(classifier):
    with pytest.raises(cr.LabelError, match=r"^y\[1\]: label 'daisy' was not among the training classes"):
        cr.evaluate(classifier, X_IRIS[:2], ["setosa", "daisy"])
    with pytest.raises(cr.LabelError, match=r"^y\[2\]: label 7 was not among the training classes"):
        cr.evaluate(classifier, X_IRIS[:3], np.array(["setosa", "setosa", 7], dtype=object))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_evaluate_refuses_a_non_finite_y_as_fit_does(task):
    """A NaN label used to be a LabelError ("label nan was not among the training classes")."""
    model = cr.mlp([4, 8, 3 if task == "classification" else 1], seed=0)
    y = Y_IRIS.astype(np.float64) if task == "classification" else X_IRIS[:, 0].copy()
    cr.fit(model, X_IRIS, y, loss="cross_entropy" if task == "classification" else "mse", epochs=1, verbose=0)
    y[3] = np.nan
    with pytest.raises(cr.NonFiniteError, match=r"^y\b.*\(3,\)"):
        cr.evaluate(model, X_IRIS, y)


@pytest.mark.parametrize("with_preprocessor", [True, False])
def test_evaluate_names_y_when_it_does_not_fit_x(classifier, with_preprocessor):
    model = classifier if with_preprocessor else cr.mlp([4, 8, 1], seed=0)
    targets = SPECIES[Y_IRIS] if with_preprocessor else X_IRIS[:, 0]
    with pytest.raises(cr.ShapeError, match=r"^y: expected 150 targets \(one per row of X\), got shape \(10,\)$"):
        cr.evaluate(model, X_IRIS, targets[:10])
    with pytest.raises(cr.ShapeError, match=r"^y: expected a rectangular array of targets, got list"):
        cr.evaluate(model, X_IRIS[:2], [[1.0], [1.0, 2.0]])


def test_rows_of_the_wrong_width_are_refused(classifier):
    with pytest.raises(cr.ShapeError, match="4 features"):
        cr.predict(classifier, X_IRIS[:, :3])


@pytest.mark.parametrize("predictor", [cr.predict, cr.predict_proba, cr.evaluate])
def test_a_model_without_preprocessing_names_x_and_its_width(predictor):
    """Without a preprocessor the first Linear refused a chunk, naming neither X nor its shape."""
    model = cr.mlp([4, 8, 3], seed=0)
    arguments = (Y_IRIS,) if predictor is cr.evaluate else ()
    with pytest.raises(cr.ShapeError, match=r"^X: the model expects rows of 4 features, got shape \(150, 3\)$"):
        predictor(model, X_IRIS[:, :3], *arguments)


def test_non_finite_rows_are_refused(classifier):
    with pytest.raises(cr.NonFiniteError, match=r"X: .* at index \(0, 1\)"):
        cr.predict(classifier, [[1.0, np.nan, 1.0, 1.0]])


def test_more_rows_than_one_chunk_are_predicted_alike(classifier):
    X = np.tile(X_IRIS, (EVAL_CHUNK // 150 + 1, 1))
    assert len(X) > EVAL_CHUNK
    assert np.array_equal(cr.predict(classifier, X), np.tile(cr.predict(classifier, X_IRIS), EVAL_CHUNK // 150 + 1))


def test_a_regressor_predicts_values():
    model = cr.mlp([10, 8, 1], seed=0)
    cr.fit(model, X_DIABETES, Y_DIABETES, epochs=3, standardize=True, verbose=0)
    predicted = cr.predict(model, X_DIABETES)
    assert predicted.shape == (442,) and predicted.dtype == np.float32
    scores = cr.evaluate(model, X_DIABETES, Y_DIABETES)
    assert set(scores) == {"loss", "r2", "mae"}
    assert scores["mae"] == pytest.approx(np.mean(np.abs(predicted - Y_DIABETES)), rel=1e-5)
    with pytest.raises(cr.HyperparameterError, match="the model is a regressor; use predict"):
        cr.predict_proba(model, X_DIABETES)


def test_a_model_without_a_preprocessor_is_a_regressor_and_the_errors_say_how_to_make_it_a_classifier():
    model = cr.mlp([4, 8, 3], seed=0)  # trained by a loop of one's own: no preprocessor
    X = X_IRIS.astype(np.float32)
    assert cr.predict(model, X).shape == (150, 3)  # the outputs as they are
    hint = r"the model has no preprocessor .* model.preprocessor = cr.Preprocessor\(n_features, task='classification'"
    with pytest.raises(cr.ShapeError, match=r"MSE: expected targets of shape \(n_samples, 3\), got \(150,\); " + hint):
        cr.evaluate(model, X, Y_IRIS)
    with pytest.raises(cr.HyperparameterError, match="^predict_proba: " + hint):
        cr.predict_proba(model, X)
    model.preprocessor = cr.Preprocessor(4, task="classification", classes=[0, 1, 2])
    assert set(cr.evaluate(model, X, Y_IRIS)) == {"loss", "accuracy"}
    assert set(cr.predict(model, X)) <= {0, 1, 2}


def test_several_outputs_give_one_column_each():
    model = cr.mlp([10, 8, 2], seed=0)
    targets = np.stack([Y_DIABETES, -Y_DIABETES], axis=1) / 100
    cr.fit(model, X_DIABETES, targets, epochs=2, verbose=0)
    assert cr.predict(model, X_DIABETES).shape == (442, 2)


def test_a_multilabel_model_predicts_zeros_and_ones():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    Y = (X[:, :2] > 0).astype(int)
    model = cr.mlp([3, 8, 2], seed=0)
    cr.fit(model, X, Y, loss=cr.BinaryCrossEntropy(), epochs=30, lr=0.05, verbose=0)
    predicted = cr.predict(model, X)
    assert predicted.shape == (80, 2) and set(np.unique(predicted)) <= {0, 1}
    proba = cr.predict_proba(model, X)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert np.array_equal(predicted, (proba > 0.5).astype(int))
    assert cr.evaluate(model, X, Y)["accuracy"] == pytest.approx(np.mean(predicted == Y))


def test_a_model_never_fitted_gives_its_raw_outputs():
    model = cr.mlp([4, 3], seed=0)
    X = X_IRIS[:5].astype(np.float32)
    np.testing.assert_array_equal(cr.predict(model, X), model.forward(X))


def test_a_model_that_is_not_a_layer_is_refused():
    with pytest.raises(cr.HyperparameterError, match="model: expected a chainrule Layer"):
        cr.predict("model.safetensors", X_IRIS)


def test_a_saved_and_loaded_model_predicts_the_same(classifier, tmp_path):
    cr.save(classifier, tmp_path / "model.safetensors")
    loaded = cr.load(tmp_path / "model.safetensors")
    assert np.array_equal(cr.predict(loaded, X_IRIS), cr.predict(classifier, X_IRIS))
    np.testing.assert_array_equal(cr.predict_proba(loaded, X_IRIS), cr.predict_proba(classifier, X_IRIS))


@pytest.mark.parametrize("score", [
    lambda model, X: cr.predict(model, X),
    lambda model, X: cr.predict_proba(model, X),
    lambda model, X: cr.evaluate(model, X, SPECIES[Y_IRIS][:0]),
])
def test_zero_rows_are_refused_naming_x(classifier, score):
    with pytest.raises(cr.ShapeError, match=r"X has no rows \(shape \(0, 4\)\); expected at least 1"):
        score(classifier, X_IRIS[:0])


@pytest.mark.parametrize("labels, kind", [
    (np.array([10, 20, 30])[Y_IRIS], "i"),  # labels that are not the output indices
    (Y_IRIS, "i"),  # labels that are
    (SPECIES[Y_IRIS], "U"),
])
def test_labels_keep_their_dtype_through_save_and_load(labels, kind, tmp_path):
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, labels, epochs=2, verbose=0)
    predicted = cr.predict(model, X_IRIS)
    assert predicted.dtype.kind == kind
    cr.save(model, tmp_path / "model.safetensors")
    loaded = cr.predict(cr.load(tmp_path / "model.safetensors"), X_IRIS)
    assert loaded.dtype == predicted.dtype and np.array_equal(loaded, predicted)


def test_integer_predictions_can_be_counted():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS + 5, epochs=2, verbose=0)
    assert np.bincount(cr.predict(model, X_IRIS)).sum() == 150


def test_boolean_labels_keep_their_dtype_through_save_and_load(tmp_path):
    labels = Y_IRIS == 0
    model = cr.mlp([4, 8, 2], seed=0)
    cr.fit(model, X_IRIS, labels, epochs=2, verbose=0)
    cr.save(model, tmp_path / "model.safetensors")
    assert cr.predict(model, X_IRIS).dtype == bool
    assert cr.predict(cr.load(tmp_path / "model.safetensors"), X_IRIS).dtype == bool


# -- memory: chunked preparation, nothing of X kept (perf audit findings 1 and 2) ----------

@pytest.fixture(scope="module")
def wide_classifier():
    """A classifier with standardization on 200 features (rows of 800 bytes in float32)."""
    rng = np.random.default_rng(0)
    model = cr.mlp([200, 16, 3], seed=0)
    cr.fit(model, rng.standard_normal((300, 200)) * 3 + 1, rng.integers(0, 3, 300), epochs=1,
           standardize=True, verbose=0)
    return model


def _whole_array_outputs(model, X):
    """The outputs as computed before chunked preparation: standardize all of X in float64 from
    its own values (or cast it, without standardization), then forward EVAL_CHUNK rows at a time."""
    prepared = np.ascontiguousarray(X, dtype=np.float32)
    if model.preprocessor.mean is not None:
        prepared = ((np.asarray(X) - model.preprocessor.mean) / model.preprocessor.scale).astype(np.float32)
    return np.concatenate([model.forward(prepared[i:i + EVAL_CHUNK]) for i in range(0, len(prepared), EVAL_CHUNK)])


@pytest.mark.parametrize("n_rows", [1, EVAL_CHUNK, 2 * EVAL_CHUNK + 7])
@pytest.mark.parametrize("layout", ["float32", "float64", "int64", "fortran", "list"])
def test_chunked_preparation_gives_the_whole_array_results_bit_for_bit(wide_classifier, n_rows, layout):
    X = np.random.default_rng(n_rows).standard_normal((n_rows, 200)) * 4
    given = {"float32": X.astype(np.float32), "float64": X, "int64": (X * 10).astype(np.int64),
             "fortran": np.asfortranarray(X.astype(np.float32)), "list": X.tolist()}[layout]
    expected = cr.SoftmaxCrossEntropy().transform(_whole_array_outputs(wide_classifier, given))
    assert np.array_equal(cr.predict_proba(wide_classifier, given), expected)


def test_values_too_large_for_the_model_dtype_are_refused(wide_classifier):
    X = np.zeros((3, 200))
    X[2, 5] = 1e39  # finite in float64, Inf in the model's float32
    with pytest.raises(cr.NonFiniteError, match=r"X: expected finite values, found 1e\+39 at index \(2, 5\), which overflows"):
        cr.predict(wide_classifier, X)


@pytest.mark.parametrize("call", ["predict", "predict_proba", "evaluate"])
def test_inference_allocates_a_fraction_of_x_and_keeps_none_of_it(wide_classifier, call):
    import tracemalloc

    # 16 chunks: the chunk buffers (float32 rows and their float64 scratch) take 3/16 of X.
    X = np.random.default_rng(0).standard_normal((16 * EVAL_CHUNK, 200), dtype=np.float32)
    y = np.zeros(len(X), dtype=np.int64)
    run = {"predict": lambda: cr.predict(wide_classifier, X), "predict_proba": lambda: cr.predict_proba(wide_classifier, X),
           "evaluate": lambda: cr.evaluate(wide_classifier, X, y)}[call]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = run()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    # Casting and standardizing all of X at once took 4x X's bytes and the layers kept 1x.
    assert peak - before < 0.5 * X.nbytes
    assert after - before < 0.5 * X.nbytes


def test_the_model_does_not_keep_the_callers_array():
    import gc
    import weakref

    model = cr.mlp([20, 8, 2], seed=0)  # no preprocessor: rows used as they are
    X = np.ones((10, 20), dtype=np.float32)
    alive = weakref.ref(X)
    cr.predict(model, X)
    del X
    gc.collect()
    assert alive() is None


# -- evaluate with sample weights ---------------------------------------------------------------
def test_weighted_evaluate_weighs_every_chunk_of_rows_by_its_own_weights(classifier):
    from sklearn.metrics import accuracy_score
    repeats = EVAL_CHUNK // len(X_IRIS) + 2  # more rows than one chunk of scoring
    X, labels = np.tile(X_IRIS, (repeats, 1)), np.tile(SPECIES[Y_IRIS], repeats)
    weights = np.random.default_rng(1).uniform(0, 3, len(X))
    scores = cr.evaluate(classifier, X, labels, sample_weight=weights)
    expected = accuracy_score(labels, cr.predict(classifier, X), sample_weight=weights)
    assert scores["accuracy"] == pytest.approx(expected, rel=1e-12)


def test_weighted_evaluate_agrees_with_scikit_learns_weighted_scores(classifier):
    from sklearn.metrics import accuracy_score, log_loss
    weights = np.random.default_rng(0).uniform(0, 3, len(X_IRIS))
    scores = cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS], sample_weight=weights)
    predicted = cr.predict(classifier, X_IRIS)
    assert scores["accuracy"] == pytest.approx(accuracy_score(SPECIES[Y_IRIS], predicted, sample_weight=weights))
    probabilities = cr.predict_proba(classifier, X_IRIS)
    assert scores["loss"] == pytest.approx(log_loss(Y_IRIS, probabilities, sample_weight=weights), rel=1e-5)
    # integer weights count rows: weight 2 scores as the row twice, weight 0 as not there
    counts = np.arange(len(X_IRIS)) % 3
    repeated = np.repeat(np.arange(len(X_IRIS)), counts)
    assert cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS], sample_weight=counts) == pytest.approx(
        cr.evaluate(classifier, X_IRIS[repeated], SPECIES[Y_IRIS][repeated]), rel=1e-6)


def test_weighted_evaluate_of_a_regressor_agrees_with_r2_score():
    from sklearn.metrics import mean_absolute_error, r2_score
    model = cr.mlp([10, 8, 1], seed=0)
    cr.fit(model, X_DIABETES, Y_DIABETES, epochs=3, standardize=True, verbose=0)
    weights = np.random.default_rng(1).uniform(0, 2, len(X_DIABETES))
    scores = cr.evaluate(model, X_DIABETES, Y_DIABETES, sample_weight=weights)
    predicted = cr.predict(model, X_DIABETES)
    assert scores["r2"] == pytest.approx(r2_score(Y_DIABETES, predicted, sample_weight=weights), rel=1e-5)
    assert scores["mae"] == pytest.approx(mean_absolute_error(Y_DIABETES, predicted, sample_weight=weights), rel=1e-5)


@pytest.mark.parametrize("weights, error, message", [
    (np.ones(149), cr.ShapeError, r"sample_weight: expected 150 weights"),
    (-np.ones(150), cr.DataError, "sample_weight: expected non-negative weights"),
    (np.zeros(150), cr.DataError, "sample_weight: all 150 weights are zero"),
    (np.full(150, np.nan), cr.NonFiniteError, "sample_weight"),
])
def test_evaluate_refuses_bad_sample_weights_naming_them(classifier, weights, error, message):
    with pytest.raises(error, match=message):
        cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS], sample_weight=weights)


def test_evaluate_takes_a_column_of_labels(classifier):
    assert cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS].reshape(-1, 1)) == cr.evaluate(classifier, X_IRIS,
                                                                                          SPECIES[Y_IRIS])


def test_evaluate_refuses_a_float_column_for_a_classifier_suggesting_ravel():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    with pytest.raises(cr.ShapeError, match=r"^y: SoftmaxCrossEntropy: .*pass y\.ravel\(\)"):
        cr.evaluate(model, X_IRIS, Y_IRIS.astype(float).reshape(-1, 1))


def test_evaluate_scores_a_huge_finite_row_without_numpy_warnings(classifier):
    X = X_IRIS[:10].copy()
    X[0, 0] = 1e38  # standardized, 1.2e38: overflows in the forward pass and loss
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning of NumPy's fails the test
        scores = cr.evaluate(classifier, X, SPECIES[Y_IRIS[:10]])
        assert np.isnan(scores["loss"]) or scores["loss"] > 1e30  # the huge row shows in the score
        assert 0 <= scores["accuracy"] <= 1
        X[0, 0] = 3e38  # standardized, 3.6e38: beyond float32, scored all the same (predict refuses it)
        assert np.isnan(cr.evaluate(classifier, X, SPECIES[Y_IRIS[:10]])["loss"])
        # its outputs are NaN, whose argmax is class 0: it counted as right for the first class
        assert cr.evaluate(classifier, X[:1], SPECIES[[0]])["accuracy"] == 0.0
        with pytest.raises(cr.NonFiniteError, match=r"^X: the value at index \(0, 0\), 3e\+38, standardized"):
            cr.predict(classifier, X)


def test_a_model_is_walked_once_per_prediction():
    """The dtype, the device and the input width came from a walk each."""
    model = cr.mlp([4, 8, 3], seed=0)  # no preprocessor: the width is read from the layers
    walks = []
    model.walk = lambda prefix="": walks.append(prefix) or cr.Layer.walk(model, prefix)  # the root's walks only
    cr.predict(model, X_IRIS[:1])
    assert len(walks) == 1


def test_predictions_are_the_callers_own_even_while_the_layers_reuse_their_buffers():
    """As in a callback of fit, where the next forward writes into the last layer's output buffer."""
    model = cr.mlp([4, 8, 3], seed=0)  # no preprocessor: predict gives the outputs themselves
    with model.reusing_buffers():
        outputs = cr.predict(model, X_IRIS[:2])
        expected = outputs.copy()
        model.forward(np.zeros((2, 4), dtype=np.float32))
    assert np.array_equal(outputs, expected)


@pytest.mark.parametrize("activation", ["relu", "gelu", "sigmoid", "tanh", "leaky_relu"])
def test_threads_predicting_at_once_get_the_serial_answers(activation):
    # Outside a training loop every forward writes new arrays, so one model serves several threads.
    # GELU's forward read tanh(u) back from the layer, where another thread's forward had put its own.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    model = cr.mlp([16, 256, 256, 3], activation=activation, seed=0)
    inputs = [rng.normal(size=(n, 16)) for n in rng.integers(1, 2000, size=16)]
    serial = [model(X) for X in inputs]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns every microsecond: interleavings a layer must survive
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for _ in range(5):
                for expected, got in zip(serial, pool.map(model, inputs)):
                    np.testing.assert_array_equal(got, expected)
    finally:
        sys.setswitchinterval(interval)


def test_a_multilabel_logit_of_exactly_0_predicts_0_as_the_accuracy_counts_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    Y = (X[:, :2] > 0).astype(int)
    model = cr.mlp([3, 2], seed=0)
    cr.fit(model, X, Y, loss=cr.BinaryCrossEntropy(), epochs=1, verbose=0)
    for array in model.params.values():
        array[...] = 0  # every logit 0: a probability of exactly 0.5
    predicted = cr.predict(model, X)
    assert not predicted.any()
    assert cr.evaluate(model, X, Y)["accuracy"] == pytest.approx(np.mean(predicted == Y))


def test_a_regressor_of_standardized_targets_predicts_and_scores_in_the_targets_units():
    y = np.c_[Y_DIABETES + 1e6, Y_DIABETES / 100]  # two outputs, of other offsets and spreads
    model = cr.mlp([10, 8, 2], seed=0)
    cr.fit(model, X_DIABETES, y, epochs=20, standardize=True, standardize_targets=True, verbose=0)
    predicted = cr.predict(model, X_DIABETES)
    assert predicted.dtype == np.float64
    outputs = model(model.preprocessor.transform(X_DIABETES))  # the bare network: standardized targets
    assert np.allclose(predicted, outputs * model.preprocessor.target_scale + model.preprocessor.target_mean)
    assert (np.abs(predicted.mean(axis=0) - y.mean(axis=0)) < y.std(axis=0)).all()  # each in its own units
    scores = cr.evaluate(model, X_DIABETES, y)
    assert scores["mae"] == pytest.approx(np.abs(predicted - y).mean(), rel=1e-6)
    r2 = 1 - ((y - predicted) ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    assert scores["r2"] == pytest.approx(r2.mean(), rel=1e-5)
    standardized = (y - model.preprocessor.target_mean) / model.preprocessor.target_scale
    assert scores["loss"] == pytest.approx(((outputs - standardized) ** 2).sum() / len(y), rel=1e-5)  # MSE of those


def test_evaluate_names_a_target_its_standardization_takes_beyond_the_dtype():
    # It scored loss inf and mae inf without a word, where a raw target beyond float32 is refused
    model = cr.mlp([10, 3, 1], seed=0)
    tiny_spread = np.random.default_rng(0).normal(size=20) * 1e-30
    cr.fit(model, X_DIABETES[:20], tiny_spread, epochs=1, standardize_targets=True, verbose=0)
    with pytest.raises(cr.NonFiniteError, match=r"^y: the target at index 1, 1e\+10, standardized, \(y − mean\) / "
                                                r"scale = [\d.]+e\+\d+, is beyond float32's range: it lies far "
                                                r"outside the training targets"):
        cr.evaluate(model, X_DIABETES[:3], np.array([0.0, 1e10, 0.0]))
    assert math.isfinite(cr.evaluate(model, X_DIABETES[:3], np.array([0.0, 1e-29, 0.0]))["loss"])


BINARY_X = np.random.default_rng(0).normal(size=(100, 4))


@pytest.mark.parametrize("labels", [BINARY_X[:, 0] > 0, (BINARY_X[:, 0] > 0).astype(np.int64),
                                    (BINARY_X[:, 0] > 0).astype(np.float32)], ids=["bool", "int", "float"])
def test_one_sigmoid_output_trained_on_a_label_vector_predicts_labels_of_its_kind(labels):
    """predict gave (n, 1) 0/1 ints, so (predict == y).mean() broadcast to (n, n) and was wrong."""
    model = cr.mlp([4, 8, 1], seed=0)
    cr.fit(model, BINARY_X, labels, loss="binary_cross_entropy", epochs=50, verbose=0)
    predicted = cr.predict(model, BINARY_X)
    assert predicted.shape == (100,)
    assert predicted.dtype.kind == labels.dtype.kind
    accuracy = cr.evaluate(model, BINARY_X, labels)["accuracy"]
    assert (predicted == labels).mean() == pytest.approx(accuracy)
    assert accuracy > 0.8
    proba = cr.predict_proba(model, BINARY_X)  # P(classes[1]), one column as the network has
    assert proba.shape == (100, 1)
    assert np.array_equal(predicted, model.preprocessor.decode((proba[:, 0] > 0.5).astype(int)))


def test_one_sigmoid_output_trained_on_a_0_1_column_still_predicts_0_1_rows():
    """A multilabel y of one column (n, 1) is no label vector: its rows come back as rows."""
    model = cr.mlp([4, 8, 1], seed=0)
    labels = (BINARY_X[:, :1] > 0).astype(int)
    cr.fit(model, BINARY_X, labels, loss="binary_cross_entropy", epochs=5, verbose=0)
    assert model.preprocessor.classes is None
    predicted = cr.predict(model, BINARY_X)
    assert predicted.shape == (100, 1)
    assert set(np.unique(predicted).tolist()) <= {0, 1}


def _standardized_classifier():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, standardize=True, verbose=0)
    return model


BAD_PREPROCESSORS = [
    ("scale", lambda p: p.scale.__setitem__(1, 0.0), r"model\.preprocessor\.scale\[1\]: expected a finite number > 0 "
                                                     r"\(one per feature\), got 0\.0"),
    ("scale", lambda p: p.scale.__setitem__(2, -1.0), r"model\.preprocessor\.scale\[2\]: expected a finite number > 0"),
    ("mean", lambda p: p.mean.__setitem__(0, np.nan), r"model\.preprocessor\.mean\[0\]: expected a finite number "
                                                      r"\(one per feature\), got nan"),
    ("mean", lambda p: p.mean.__setitem__(3, -np.inf), r"model\.preprocessor\.mean\[3\]: expected a finite number"),
    ("mean", lambda p: setattr(p, "mean", p.mean[:3]), r"model\.preprocessor\.mean: expected a NumPy array of 4 real "
                                                       r"numbers, one per feature, got shape \(3,\) of float64"),
    ("scale", lambda p: setattr(p, "scale", None), r"model\.preprocessor\.scale: expected an array beside "
                                                   r"model\.preprocessor\.mean"),
    ("n_features", lambda p: setattr(p, "n_features", 5), r"model\.preprocessor\.n_features: expected 4 \(the "
                                                           r"network's input width\), got 5"),
    ("classes", lambda p: setattr(p, "classes", [0, 1, 2, 3]), r"model\.preprocessor\.classes: expected 3 classes, "
                                                                r"one per output of the network, got 4"),
    ("task", lambda p: setattr(p, "task", "binary"), r"model\.preprocessor\.task: expected one of"),
    # cr.save wrote these, and cr.load refused the file
    ("classes", lambda p: setattr(p, "classes", [0, 1, 1]), r"model\.preprocessor\.classes: expected at least 2 "
                                                             r"distinct labels, each a str, int, float or bool, got "
                                                             r"\[0, 1, 1\]"),
    ("classes", lambda p: setattr(p, "classes", np.arange(3)), r"model\.preprocessor\.classes: expected None or a "
                                                                r"list of labels, got ndarray"),
    ("feature_names", lambda p: setattr(p, "feature_names", ["a", "a", "b", "c"]),
     r"model\.preprocessor\.feature_names: expected None or a list of 4 distinct strings"),
    ("feature_names", lambda p: setattr(p, "feature_names", [1, 2, 3, 4]),
     r"model\.preprocessor\.feature_names: expected None or a list of 4 distinct strings"),
]


@pytest.mark.parametrize("field, spoil, message", BAD_PREPROCESSORS, ids=[f"{row[0]}-{i}" for i, row in
                                                                          enumerate(BAD_PREPROCESSORS)])
@pytest.mark.parametrize("use", ["predict", "predict_proba", "evaluate"])
def test_a_preprocessor_that_does_not_fit_the_network_is_refused_naming_the_field(field, spoil, message, use):
    """They gave NaN predictions with RuntimeWarnings (scale 0), a raw NumPy ValueError (a mean
    of another length), or trained and scored silently (more classes than outputs)."""
    model = _standardized_classifier()
    spoil(model.preprocessor)
    call = {"predict": lambda: cr.predict(model, X_IRIS), "predict_proba": lambda: cr.predict_proba(model, X_IRIS),
            "evaluate": lambda: cr.evaluate(model, X_IRIS, Y_IRIS)}[use]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning before the error
        with pytest.raises(cr.DataError, match=f"^{message}"):
            call()


def test_the_standardization_is_checked_again_once_its_arrays_are_replaced():
    # predict checks the fields once for the same objects (their values cost it 5 µs a call):
    # new arrays, or a new width, are checked again.
    model = _standardized_classifier()
    cr.predict(model, X_IRIS[:1])
    model.preprocessor.scale = np.r_[model.preprocessor.scale[:3], 0.0]
    with pytest.raises(cr.DataError, match=r"^model\.preprocessor\.scale\[3\]: expected a finite number > 0"):
        cr.predict(model, X_IRIS[:1])


def test_classes_given_as_an_array_are_kept_as_a_list_of_plain_labels():
    # np.unique(y), as the hint of a model without a preprocessor invites: predict raised NumPy's
    # "truth value of an array is ambiguous".
    model = _standardized_classifier()
    fitted = model.preprocessor
    model.preprocessor = cr.Preprocessor(4, task="classification", classes=np.unique(Y_IRIS), mean=fitted.mean,
                                         scale=fitted.scale)
    assert model.preprocessor.classes == [0, 1, 2] and all(type(label) is int for label in model.preprocessor.classes)
    assert set(cr.predict(model, X_IRIS).tolist()) <= {0, 1, 2}


def test_a_preprocessor_that_is_not_a_preprocessor_is_refused_naming_it():
    """It raised AttributeError: 'str' object has no attribute 'feature_names'."""
    model = _standardized_classifier()
    model.preprocessor = "standardize"
    with pytest.raises(cr.DataError, match=r"^model\.preprocessor: expected a chainrule Preprocessor \(or None\), "
                                           r"got str$"):
        cr.predict(model, X_IRIS)


def test_a_target_standardization_of_another_width_is_refused_before_it_broadcasts():
    """A target_mean of 1 value for 2 outputs broadcast silently to both."""
    model = cr.mlp([3, 4, 2], seed=0)
    model.preprocessor = cr.Preprocessor(3, task="regression", target_mean=np.zeros(1), target_scale=np.ones(1))
    with pytest.raises(cr.DataError, match=r"^model\.preprocessor\.target_mean: expected 2 values, one per output "
                                           r"of the network, got 1$"):
        cr.predict(model, X_IRIS[:5, :3])


def test_fit_refuses_to_continue_with_a_preprocessor_that_cannot_prepare_rows():
    """fit trained on NaN inputs from a scale of 0 set by hand."""
    model = _standardized_classifier()
    model.preprocessor.scale[0] = 0.0
    with pytest.raises(cr.DataError, match=r"^model\.preprocessor\.scale\[0\]: expected a finite number > 0"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)


def test_reusing_a_preprocessor_checks_its_classes_against_the_outputs():
    from chainrule.training.prepare import reuse_preprocessor
    model = _standardized_classifier()
    model.preprocessor.classes = [5, 6, 7, 8]
    with pytest.raises(cr.DataError, match=r"^model\.preprocessor\.classes: expected 3 classes, one per output of "
                                           r"the network, got 4$"):
        reuse_preprocessor(model.preprocessor, X_IRIS, cr.SoftmaxCrossEntropy(), None, n_outputs=3)


def test_a_value_whose_standardized_form_overflows_the_models_dtype_is_named():
    # z = (x - mean) / scale was cast to inf: predict answered a label and NaN probabilities
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) * np.array([1.0, 1e-30])
    model = cr.mlp([2, 8, 2], seed=0)
    cr.fit(model, X, (X[:, 0] > 0).astype(int), epochs=1, verbose=0, standardize=True)
    rows = np.zeros((5000, 2))  # beyond one chunk: the row is counted from X's start
    rows[4500, 1] = 1e10
    for call in (cr.predict, cr.predict_proba):
        for given, row in ((rows, 4500), (rows[4500:4501], 0)):
            with pytest.raises(cr.NonFiniteError, match=rf"^X: the value at index \({row}, 1\), 1e\+10, standardized, "
                                                        r"\(x − mean\) / scale = .*e\+39, is beyond float32's range"):
                call(model, given)
    assert np.isfinite(cr.predict_proba(model, rows[:4500])).all()


def test_a_row_that_overflows_inside_the_network_is_named_instead_of_predicted():
    # 3e38 fits float32 and no standardization: the first product overflowed, and predict answered
    # class 0 (the argmax of NaN) and NaN probabilities, with NumPy's RuntimeWarnings
    model = cr.mlp([3, 8, 2], seed=0)
    cr.fit(model, X_IRIS[:, :3], (Y_IRIS > 0).astype(int), epochs=1, verbose=0)
    model.params["0.W"][...] = 4.0  # so that 3e38 (which standardizes to about 3e38 here) overflows in x W
    rows = np.ones((5000, 3))  # beyond one chunk: the row is counted from X's start
    rows[4700] = [1.0, 3e38, -2.0]
    for call in (cr.predict, cr.predict_proba):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow in the product, before the error
            with pytest.raises(cr.NonFiniteError, match=r"^X: the value at index \(4700, 1\), 3e\+38, the row's value "
                                                        r"farthest from zero, takes the network's outputs for the row "
                                                        r"beyond float32's range \(NaN or infinity\): .*, or train in "
                                                        r"float64$") as caught:
                call(model, rows)
        assert caught.value.index == (4700, 1)
    assert np.isfinite(cr.predict_proba(model, rows[:4700])).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow in the product, before the error
def test_a_regressors_row_that_overflows_is_named_with_its_standardized_value():
    X = np.random.default_rng(0).normal(size=(50, 2)) * np.array([1.0, 1e-3])
    model = cr.mlp([2, 4, 1], seed=0, dtype="float32")
    cr.fit(model, X, X[:, 0], epochs=1, verbose=0, standardize=True)
    model.params["0.W"][...] = 1e3  # a standardized 3e36 (finite in float32) overflows in x W
    row = np.array([[0.5, 3e33]])
    with pytest.raises(cr.NonFiniteError, match=r"^X: the value at index \(0, 1\), 3e\+33 \(standardized .*e\+36\), "
                                                r"the row's value farthest from zero"):
        cr.predict(model, row)


def test_a_model_holding_nan_is_named_as_the_cause_of_non_finite_outputs():
    model = cr.mlp([4, 3, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    model.params["2.b"][1] = np.nan
    with pytest.raises(cr.NonFiniteError, match=r"^model: parameter '2.b' holds NaN or infinity \(a diverged "
                                                r"model\?\)"):
        cr.predict(model, X_IRIS)


class Huber(cr.Loss):
    """l = ½d² for |d| ≤ 1, |d| − ½ beyond, d = ŷ − y: a custom loss, which takes no weights."""

    task = "regression"

    def prepare(self, targets, n_outputs, dtype, n_samples=None):
        T = np.asarray(targets, dtype=dtype)
        return T.reshape(-1, 1) if T.ndim == 1 else T

    def compute(self, Y, T):
        D = Y - T
        inside = np.abs(D) <= 1
        losses = np.where(inside, 0.5 * D * D, np.abs(D) - 0.5).sum(axis=1)
        return float(losses.mean()), (np.where(inside, D, np.sign(D)) / len(Y)).astype(Y.dtype)


def test_evaluate_scores_the_loss_given_as_fit_scored_its_validation_rows():
    y = (Y_DIABETES - Y_DIABETES.mean()) / Y_DIABETES.std()
    model = cr.mlp([10, 16, 1], seed=0)
    history = cr.fit(model, X_DIABETES[:350], y[:350], loss=Huber(), epochs=3, standardize=True, verbose=0,
                     validation=(X_DIABETES[350:], y[350:]))
    scores = cr.evaluate(model, X_DIABETES[350:], y[350:], loss=Huber())
    assert scores["loss"] == pytest.approx(history.metrics["val_loss"][-1], rel=1e-6)
    default = cr.evaluate(model, X_DIABETES[350:], y[350:])  # the task's loss, MSE, with the same metrics
    assert default["loss"] > 2 * scores["loss"]
    assert default == cr.evaluate(model, X_DIABETES[350:], y[350:], loss="mse")
    assert {name: scores[name] for name in ("r2", "mae")} == {name: default[name] for name in ("r2", "mae")}


def test_evaluate_refuses_a_loss_for_another_task_than_the_models(classifier):
    with pytest.raises(cr.HyperparameterError, match=r"^loss: the model's preprocessor is for classification but "
                                                     r"MSE scores regression; pass a loss for classification"):
        cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS], loss="mse")
    with pytest.raises(cr.HyperparameterError, match=r"^loss: unknown name 'hinge'"):
        cr.evaluate(classifier, X_IRIS, SPECIES[Y_IRIS], loss="hinge")


def test_evaluate_scores_a_model_without_a_preprocessor_with_the_loss_given():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=2, verbose=0)
    expected = cr.evaluate(model, X_IRIS, Y_IRIS)
    model.preprocessor = None  # trained by a loop of one's own: a regressor unless the loss says otherwise
    assert cr.evaluate(model, X_IRIS, Y_IRIS, loss=cr.SoftmaxCrossEntropy()) == expected
    with pytest.raises(cr.ShapeError, match="the model has no preprocessor"):
        cr.evaluate(model, X_IRIS, Y_IRIS)


def test_evaluate_refuses_sample_weights_for_a_loss_that_takes_none():
    model = cr.mlp([10, 4, 1], seed=0)
    cr.fit(model, X_DIABETES, Y_DIABETES, epochs=1, verbose=0)
    with pytest.raises(cr.HyperparameterError, match=r"^sample_weight: Huber\.compute takes no weights"):
        cr.evaluate(model, X_DIABETES, Y_DIABETES, loss=Huber(), sample_weight=np.ones(len(X_DIABETES)))


class RowLosses(cr.MSE):
    """MSE whose compute returns each row's loss, not their mean."""

    def compute(self, Y, T, weights=None):
        _, dY = super().compute(Y, T, weights)
        return ((Y - T) ** 2).sum(axis=1), dY


def test_evaluate_names_a_loss_whose_value_is_not_a_scalar():
    model = cr.mlp([10, 4, 1], seed=0)
    cr.fit(model, X_DIABETES, Y_DIABETES, epochs=1, verbose=0)
    with pytest.raises(cr.ShapeError, match=r"^loss: RowLosses\.compute returned L of shape \(442,\); expected a "
                                            r"scalar"):
        cr.evaluate(model, X_DIABETES, Y_DIABETES, loss=RowLosses())


class RowSums(cr.Layer):
    """A layer of one's own whose forward returns a vector (n_samples,), not a matrix."""

    def forward(self, X):
        return X.sum(axis=1)

    def backward(self, dY, input_grad=True):
        return np.repeat(dY[:, None], 4, axis=1)


@pytest.mark.parametrize("call", [
    lambda model, X: cr.predict(model, X),
    lambda model, X: cr.predict_proba(model, X),
    lambda model, X: cr.evaluate(model, X, X[:, 0]),
    lambda model, X: cr.gradcheck(model, X, X[:, 0]),
    lambda model, X: cr.predict(model, np.repeat(X, 1000, axis=0)),  # beyond one chunk
])
def test_a_layer_whose_forward_returns_a_vector_is_named_wherever_outputs_are_read(call):
    # predict, evaluate and gradcheck failed with IndexError (Y.shape[1]); fit named the layer
    model = cr.Sequential(cr.Linear(4, 4), RowSums(), seed=0)
    model.preprocessor = cr.Preprocessor(4, task="multilabel")  # a classifier, for predict_proba; predict reads it too
    X = np.random.default_rng(0).normal(size=(6, 4))
    with pytest.raises(cr.ShapeError, match=r"^layer '1' \(RowSums\): forward returned shape \(1,\) for one row of X; "
                                            r"expected \(n_samples, n_outputs\).*not a vector \(n_samples,\)\)$"):
        call(model, X)


class DropsARow(cr.Layer):
    """A layer of one's own that loses the last row of a batch of more than one."""

    def forward(self, X):
        return X[:-1] if len(X) > 1 else X

    def backward(self, dY, input_grad=True):
        return dY


def test_a_layer_that_returns_another_number_of_rows_is_named_by_the_rows():
    # predict answered 19 rows for 20; the message then spoke of one row, whose shape was right
    model = cr.Sequential(cr.Linear(3, 3), DropsARow(), seed=0)
    with pytest.raises(cr.ShapeError, match=r"^model \(Sequential\): forward returned shape \(19, 3\) for 20 rows of X; "
                                            r"expected \(20, n_outputs\)"):
        cr.predict(model, np.ones((20, 3)))


def test_evaluate_adds_no_hint_about_the_data_to_an_error_about_the_model():
    model = cr.Sequential(cr.Linear(3, 3), DropsARow(), seed=0)  # no preprocessor: scored as a regressor
    with pytest.raises(cr.ShapeError, match=r"^model \(Sequential\): forward returned shape \(19, 3\)") as error:
        cr.evaluate(model, np.ones((20, 3)), np.ones((20, 3)))
    assert "preprocessor" not in str(error.value)


def test_finite_outputs_whose_sum_overflows_their_dtype_are_answered_without_a_warning():
    model = cr.Sequential(cr.Linear(1, 1), seed=0)
    model.params["0.W"][...], model.params["0.b"][...] = 1.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(cr.predict(model, np.full((4, 1), 2e38)), np.full(4, 2e38, np.float32))


def test_predictions_under_numpy_seterr_raise_ignore_only_underflows():
    # A caller's numpy.seterr(all="raise"): a product of tiny numbers in a layer, a sigmoid's e^(−|z|) and
    # the softmax's e^(z − max z) underflowing to 0 raised FloatingPointError, which NumPy's default takes
    # silently; the answers are now those computed without it (an overflow is still named: the test below).
    model = cr.Sequential(cr.Linear(1, 2), cr.Sigmoid(), cr.Linear(2, 3), seed=0)
    model.params["0.W"][...] = [[1e-30, 1e3]]  # x = 1e-20 gives 1e-50, below float32's smallest number
    model.params["2.W"][...] = [[100.0, -100.0, 0.0], [300.0, -300.0, 0.0]]  # logits 600 apart
    model.preprocessor = cr.Preprocessor(1, task="classification", classes=["a", "b", "c"])
    X, y = np.array([[1e-20], [1e-40], [-1.0], [1.0]]), np.array(["a", "b", "b", "a"])  # 1e-40: float32's cast
    expected = cr.predict(model, X), cr.predict_proba(model, X), cr.evaluate(model, X, y)
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(cr.predict(model, X), expected[0])
        np.testing.assert_array_equal(cr.predict_proba(model, X), expected[1])
        assert cr.evaluate(model, X, y) == expected[2]


def test_a_row_that_overflows_is_named_under_numpy_seterr_raise():
    model = cr.Sequential(cr.Linear(1, 1), seed=0)
    model.params["0.W"][...], model.params["0.b"][...] = 4.0, 0.0
    with np.errstate(all="raise"):  # was a raw FloatingPointError from the product
        with pytest.raises(cr.NonFiniteError, match=r"^X: the value at index \(0, 0\), 2e\+38"):
            cr.predict(model, np.full((4, 1), 2e38))


@pytest.mark.parametrize("call", [
    lambda model, X: cr.fit(model, X, Y_IRIS, epochs=1, verbose=0),
    lambda model, X: cr.fit(model, X_IRIS, Y_IRIS, validation=(X, Y_IRIS), epochs=1, verbose=0),
    lambda model, X: cr.predict(model, X),
    lambda model, X: cr.predict_proba(model, X),
    lambda model, X: cr.evaluate(model, X, Y_IRIS),
], ids=["fit", "fit validation", "predict", "predict_proba", "evaluate"])
def test_a_sparse_x_is_refused_naming_it_as_the_estimators_do(call):
    # "X: expected real numbers, got dtype object" (NumPy's 0-d object array of the matrix) said too little
    scipy_sparse = pytest.importorskip("scipy.sparse")
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    with pytest.raises(cr.DTypeError, match=r"^X(_val)?: a scipy.sparse csr_matrix of shape \(150, 4\); chainrule "
                                            r"takes dense arrays only: pass X(_val)?.toarray\(\)"):
        call(model, scipy_sparse.csr_matrix(X_IRIS))
