"""chainrule.sklearn: scikit-learn's conformance suite, the ecosystem, and parity with
scikit-learn's own MLP on digits and diabetes."""

import copy
import inspect
import pickle
import re
import warnings

import numpy
import pytest
import sklearn
from sklearn import neural_network
from sklearn.base import clone
from sklearn.datasets import (load_diabetes, load_digits, make_blobs, make_classification,
                              make_multilabel_classification, make_regression)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data, parametrize_with_checks
from threadpoolctl import threadpool_limits

import chainrule as cr
from chainrule.errors import HyperparameterError, ModelFileError
from chainrule.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """These networks are small: a multi-threaded BLAS only fights the other processes. With one
    thread a row's float32 outputs are also the same alone and inside a batch, so that
    check_methods_subset_invariance passes (with several, OpenBLAS's thread splits can move
    them by ~3e-7, above the check's atol of 1e-7)."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(autouse=True)
def no_convergence_warnings():
    """Short trainings stop at max_iter on purpose; tests that expect the warning catch it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def expected_failed_checks(estimator) -> dict:
    failing = {}
    if estimator.dtype == "float32":
        failing["check_sample_weight_equivalence_on_dense_data"] = (
            "in float32 the weighted rows and the repeated ones sum in another order: outputs differ by a few "
            "1e-7 relative (measured with one BLAS thread, over two draws of the initial weights: 1.2e-7 to "
            "6.6e-7), above the check's rtol of 1e-7; the float64 instances below pass it"
        )
    return failing


@parametrize_with_checks(
    [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100),
     MLPClassifier(max_iter=100, dtype="float64"), MLPRegressor(max_iter=100, dtype="float64")],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [
    MLPClassifier(max_iter=100, alpha=0.0, dtype="float64"),
    MLPRegressor(max_iter=100, alpha=0.0, dtype="float64"),
])
def test_integer_sample_weights_equal_repeated_rows_without_a_penalty(estimator):
    """scikit-learn's check that a weight k is k repeated rows (or none for 0), in float64 and
    without the L2 penalty (the conformance suite runs it with the default alpha)."""
    check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)


# -- data -------------------------------------------------------------------------------------
def blobs(n_classes=3, n_samples=120, seed=0):
    X, y = make_classification(n_samples=n_samples, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=n_classes, n_clusters_per_class=1, class_sep=2.0, random_state=seed)
    return X, y


def small(estimator_class, **params):
    return estimator_class(**{"hidden_layer_sizes": (16,), "max_iter": 200, "random_state": 0, **params})


# -- tasks ------------------------------------------------------------------------------------
def test_multiclass_with_string_labels():
    X, y = blobs(3)
    labels = numpy.array(["cat", "dog", "emu"])[y]
    classifier = small(MLPClassifier).fit(X, labels)
    assert list(classifier.classes_) == ["cat", "dog", "emu"]
    assert classifier.out_activation_ == "softmax" and classifier.n_outputs_ == 3
    assert [W.shape for W in classifier.coefs_] == [(6, 16), (16, 3)]
    assert [b.shape for b in classifier.intercepts_] == [(16,), (3,)]
    P = classifier.predict_proba(X)
    assert P.shape == (120, 3) and P.dtype == numpy.float64
    numpy.testing.assert_allclose(P.sum(axis=1), 1)
    numpy.testing.assert_array_equal(classifier.predict(X), classifier.classes_[P.argmax(axis=1)])
    assert classifier.score(X, labels) > 0.9
    numpy.testing.assert_allclose(classifier.predict_log_proba(X), numpy.log(P))


def test_binary_has_one_logistic_output():
    X, y = blobs(2)
    classifier = small(MLPClassifier).fit(X, y == 1)
    assert classifier.out_activation_ == "logistic" and classifier.n_outputs_ == 1
    assert classifier.coefs_[-1].shape == (16, 1)
    P = classifier.predict_proba(X)
    assert P.shape == (120, 2)
    numpy.testing.assert_allclose(P.sum(axis=1), 1)
    assert classifier.predict(X).dtype == bool
    assert classifier.score(X, y == 1) > 0.9


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=150, n_features=8, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    classifier = small(MLPClassifier, max_iter=300).fit(X, Y)
    assert classifier.out_activation_ == "logistic" and classifier.n_outputs_ == 4
    numpy.testing.assert_array_equal(classifier.classes_, numpy.arange(4))
    assert classifier.predict(X).shape == (150, 4)
    P = classifier.predict_proba(X)
    assert P.shape == (150, 4) and ((0 <= P) & (P <= 1)).all()
    numpy.testing.assert_array_equal(classifier.predict(X), (P > 0.5).astype(int))
    assert (classifier.predict(X) == Y).mean() > 0.75  # scikit-learn's MLP gets 0.80 on this noisy set


def test_single_and_multi_output_regression():
    X, y = make_regression(n_samples=150, n_features=5, n_targets=3, noise=0.1, random_state=0)
    y = y / y.std(axis=0)
    multi = small(MLPRegressor, max_iter=300).fit(X, y)
    assert multi.predict(X).shape == (150, 3) and multi.n_outputs_ == 3 and multi.out_activation_ == "identity"
    assert multi.score(X, y) > 0.9
    single = small(MLPRegressor, max_iter=300).fit(X, y[:, 0])
    prediction = single.predict(X)
    assert prediction.shape == (150,) and prediction.dtype == numpy.float64
    assert single.score(X, y[:, 0]) > 0.9


def test_fitted_attributes_follow_scikit_learn():
    X, y = blobs(3)
    classifier = small(MLPClassifier, max_iter=7).fit(X, y)
    assert classifier.n_iter_ == 7 and len(classifier.loss_curve_) == 7
    assert classifier.t_ == 7 * len(X) and classifier.n_layers_ == 3 and classifier.n_features_in_ == 6
    assert classifier.loss_ == classifier.loss_curve_[-1] and classifier.best_loss_ == min(classifier.loss_curve_)
    assert classifier.validation_scores_ is None
    classifier.coefs_[0][...] = 0  # coefs_ are the network's own weights, as in scikit-learn
    assert not classifier.model_.params["0.W"].any()


# -- training rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class, theirs_class, target", [
    (MLPRegressor, neural_network.MLPRegressor, "values"),
    (MLPClassifier, neural_network.MLPClassifier, "labels"),
    (MLPClassifier, neural_network.MLPClassifier, "binary"),
])
def test_one_sgd_step_with_alpha_equals_scikit_learns(estimator_class, theirs_class, target):
    """From the same weights, one full-batch step: weight_decay = alpha / batch_size is exact."""
    X, y = blobs(3, n_samples=40)
    y = {"values": y.astype(float), "labels": y, "binary": y == 1}[target]
    params = dict(hidden_layer_sizes=(5, 4), activation="tanh", solver="sgd", momentum=0.0, alpha=0.3,
                  learning_rate_init=0.1, max_iter=1, batch_size=40, warm_start=True, random_state=0)
    theirs = theirs_class(**params).fit(X, y)
    ours = estimator_class(**params, dtype="float64").fit(X, y)
    for mine, start in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        mine[...] = start
    theirs.fit(X, y)
    ours.fit(X, y)
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-14)


def test_training_loss_stopping_rule_matches_scikit_learn():
    X, y = blobs(3)
    params = dict(hidden_layer_sizes=(8,), tol=10.0, n_iter_no_change=3, max_iter=100, random_state=0)
    ours, theirs = MLPClassifier(**params).fit(X, y), neural_network.MLPClassifier(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 3 + 2  # one improving epoch, then 4 that are not


def test_max_iter_reached_warns():
    X, y = blobs(3)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        small(MLPClassifier, max_iter=2).fit(X, y)


def test_early_stopping_keeps_the_best_epoch():
    X, y = blobs(3, n_samples=200)
    classifier = small(MLPClassifier, early_stopping=True, n_iter_no_change=2, max_iter=50).fit(X, y)
    assert len(classifier.validation_scores_) == classifier.n_iter_
    assert classifier.best_validation_score_ == max(classifier.validation_scores_)
    assert classifier.best_loss_ is None
    numpy.testing.assert_array_equal(classifier.model_.flat_parameters().theta, classifier._best_theta)


def test_partial_fit_continues_one_epoch_at_a_time():
    X, y = blobs(3, n_samples=300)
    classifier = MLPClassifier((16,), random_state=0, batch_size=25)
    with pytest.raises(ValueError, match="classes must be passed"):
        classifier.partial_fit(X[:50], y[:50])
    for start in range(0, 300, 50):
        classifier.partial_fit(X[start:start + 50], y[start:start + 50], classes=[0, 1, 2])
    assert classifier.n_iter_ == 1 and len(classifier.loss_curve_) == 6 and classifier.t_ == 300
    assert classifier._optimizer.t == 6 * 2  # Adam's step count carried over every call
    first = classifier.loss_curve_[0]
    for _ in range(10):
        classifier.partial_fit(X, y)
    assert classifier.loss_curve_[-1] < first / 2
    only_zeros = y == 0
    classifier.partial_fit(X[only_zeros], y[only_zeros])  # a batch may hold one class only
    with pytest.raises(ValueError, match="classes not in"):
        classifier.partial_fit(X[:10], numpy.full(10, 7))
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, y.astype(float))


def test_warm_start_continues_from_the_weights():
    X, y = make_regression(n_samples=100, n_features=4, noise=0.1, random_state=0)
    y = y / y.std()
    cold = small(MLPRegressor, max_iter=5).fit(X, y)
    warm = small(MLPRegressor, max_iter=5, warm_start=True).fit(X, y)
    numpy.testing.assert_array_equal(warm.loss_curve_, cold.loss_curve_)
    warm.fit(X, y)
    assert len(warm.loss_curve_) == 10 and warm.n_iter_ == 5
    assert warm.loss_curve_[5] < cold.loss_curve_[0]
    cold.fit(X, y)
    assert len(cold.loss_curve_) == 5
    with pytest.raises(ValueError, match="2 columns"):
        warm.fit(X, numpy.column_stack([y, y]))


def test_random_state_forms():
    X, y = blobs(3)
    first, again = (small(MLPClassifier, max_iter=3).fit(X, y) for _ in range(2))
    numpy.testing.assert_array_equal(first.coefs_[0], again.coefs_[0])
    from_generator = small(MLPClassifier, max_iter=3, random_state=numpy.random.default_rng(0)).fit(X, y)
    from_state = small(MLPClassifier, max_iter=3, random_state=numpy.random.RandomState(0)).fit(X, y)
    assert from_generator.score(X, y) > 0 and from_state.score(X, y) > 0


@pytest.mark.parametrize("random_state, shown", [(-1, "-1"), (2**32, "4294967296"),
                                                 (10**5000, "<an int of 16,610 bits>")],
                         ids=["-1", "2**32", "10**5000"])
def test_an_int_random_state_out_of_range_is_refused_naming_it(random_state, shown):
    # scikit-learn's own check refused it, but its message could not show an int of 5,001 digits: a bare ValueError
    X, y = blobs(3)
    with pytest.raises(HyperparameterError, match=r"^random_state: expected None, an int from 0 to 2\*\*32 - 1 "
                                                     rf".*, got {re.escape(shown)}$"):
        small(MLPClassifier, random_state=random_state).fit(X, y)


def test_random_state_none_leaves_numpys_global_state_alone():
    X, y = blobs(3)
    before = numpy.random.get_state()
    fits = [small(MLPClassifier, max_iter=3, early_stopping=True, random_state=None).fit(X, y) for _ in range(2)]
    after = numpy.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    numpy.testing.assert_array_equal(before[1], after[1])
    # Fresh OS entropy each time: equal weights would need the same four 32-bit words drawn twice to seed it.
    assert not numpy.array_equal(fits[0].coefs_[0], fits[1].coefs_[0])


def test_verbose_prints_each_epoch(capsys):
    X, y = blobs(3)
    small(MLPClassifier, max_iter=3, verbose=True).fit(X, y)
    assert capsys.readouterr().out.count("Iteration") == 3


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, value", [
    ("hidden_layer_sizes", (10, 0)), ("hidden_layer_sizes", 0), ("activation", "softmax"),
    ("solver", "lbfgs"), ("alpha", -1.0), ("batch_size", 0), ("learning_rate_init", 0.0),
    ("max_iter", 0), ("momentum", 1.0), ("n_iter_no_change", 0), ("validation_fraction", 1.0),
    ("validation_fraction", -0.1), ("beta_1", 1.0), ("epsilon", 0.0), ("dtype", "float16"), ("device", "tpu"),
    ("device", "cuda"), ("learning_rate", "optimal"), ("learning_rate", None), ("power_t", -0.5),
    ("power_t", "0.5"), ("shuffle", "yes"), ("shuffle", 1), ("max_fun", 0), ("max_fun", 1.5),
])
@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_invalid_hyperparameters_raise_at_fit_naming_them(estimator_class, name, value):
    X, y = blobs(3)
    estimator = estimator_class(**{name: value})  # construction accepts anything, as scikit-learn's
    with pytest.raises(ValueError, match=name):
        estimator.fit(X, y)


@pytest.mark.parametrize("estimator_class, theirs_class", [(MLPClassifier, neural_network.MLPClassifier),
                                                           (MLPRegressor, neural_network.MLPRegressor)])
def test_every_scikit_learn_hyperparameter_is_taken_so_the_estimators_swap(estimator_class, theirs_class):
    # scikit-learn's MLPRegressor has a loss from 1.7 on, ours always
    ours, theirs = set(estimator_class().get_params()), set(theirs_class().get_params())
    assert theirs <= ours
    assert ours - theirs == {"dtype", "device"} | ({"loss"} - theirs if estimator_class is MLPRegressor else set())
    for name in ("learning_rate", "power_t", "shuffle", "max_fun"):
        assert f"{name} : " in estimator_class.__doc__
    X, y = blobs(3)
    swapped = estimator_class(**{**theirs_class().get_params(), "hidden_layer_sizes": (8,), "max_iter": 3})
    with pytest.warns(ConvergenceWarning):
        swapped.fit(X, y)
    assert swapped.n_iter_ == 3 and clone(swapped).get_params() == swapped.get_params()


# scikit-learn 1.9's signatures: its positional parameters, each with its default, and its
# keyword-only parameters' defaults (MLPRegressor's loss is first from scikit-learn 1.7 on)
SIGNATURES_1_9 = {
    MLPClassifier: [("hidden_layer_sizes", (100,)), ("activation", "relu")],
    MLPRegressor: [("loss", "squared_error"), ("hidden_layer_sizes", (100,)), ("activation", "relu")],
}


@pytest.mark.parametrize("estimator_class, theirs_class", [(MLPClassifier, neural_network.MLPClassifier),
                                                           (MLPRegressor, neural_network.MLPRegressor)])
def test_signature_is_scikit_learn_1_9s(estimator_class, theirs_class):
    ours = inspect.signature(estimator_class).parameters.values()
    positional = [(p.name, p.default) for p in ours if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert positional == SIGNATURES_1_9[estimator_class]
    theirs = inspect.signature(theirs_class).parameters
    if all(name in theirs for name, _ in positional):  # scikit-learn 1.6's MLPRegressor has no loss
        assert [(p.name, p.default) for p in theirs.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD] == positional
    for parameter in ours:
        if parameter.name in theirs:
            assert theirs[parameter.name].default == parameter.default, parameter.name


def test_regressor_takes_loss_first_and_only_the_squared_error():
    X, y = blobs(3)
    regressor = MLPRegressor("squared_error", (8,), "tanh", max_iter=2, random_state=0).fit(X, y)
    assert regressor.get_params()["loss"] == "squared_error" and regressor.coefs_[0].shape == (6, 8)
    assert clone(regressor).get_params() == regressor.get_params()
    for value, message in [("poisson", "loss: chainrule does not offer scikit-learn's 'poisson'"),
                           ("absolute_error", "loss: expected 'squared_error'"),
                           ((16,), r"loss: expected 'squared_error', got \(16,\).*hidden_layer_sizes is the second"),
                           (16, "loss: expected 'squared_error', got 16.*hidden_layer_sizes is the second")]:
        with pytest.raises(HyperparameterError, match=message):
            MLPRegressor(value).fit(X, y)
        with pytest.raises(HyperparameterError, match=message):
            clone(regressor).set_params(loss=value).fit(X, y)


def test_unfitted_and_bad_input_errors():
    X, y = blobs(3)
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    classifier = small(MLPClassifier, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="6 features"):
        classifier.predict(X[:, :4])
    with pytest.raises(cr.NonFiniteError, match="^X: expected finite values, found inf"):  # a ValueError
        classifier.predict(numpy.where(X > 1, numpy.inf, X))
    with pytest.raises(ValueError, match="Complex"):
        classifier.predict(X + 1j)
    with pytest.raises(cr.ShapeError, match="^X has no rows"):  # a ValueError
        classifier.predict(X[:0])
    with pytest.raises(ValueError, match="1 class"):
        MLPClassifier().fit(X, numpy.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, X[:, 0])


# -- the ecosystem ----------------------------------------------------------------------------
def test_pipeline_grid_search_and_cross_validation():
    X, y = blobs(3, n_samples=150)
    # 50 epochs of one full batch: at the default learning_rate_init, 1e-3, scikit-learn's draws of random_state=0
    # (ours: see test_random_state) are still at chance level, 0.49, theirs and ours alike
    pipeline = make_pipeline(StandardScaler(), small(MLPClassifier, max_iter=50, learning_rate_init=0.01))
    search = GridSearchCV(pipeline, {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__hidden_layer_sizes": [(8,), (16,)]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.8
    scores = cross_val_score(small(MLPRegressor, max_iter=50), X, y.astype(float), cv=3)
    assert scores.shape == (3,)
    fitted = small(MLPClassifier, max_iter=5).fit(X, y)
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params() and not hasattr(fresh, "model_")


def test_sample_weight_routed_through_a_pipeline_and_a_parallel_search():
    """Metadata routing: the weights requested by ``set_fit_request`` reach the estimator in a Pipeline, and
    in GridSearchCV's worker processes (n_jobs=2 pickles the pipeline), which refit it exactly."""
    X, y = blobs(3)
    weights = numpy.where(y == 2, 5.0, 0.2)
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                                 small(MLPClassifier, max_iter=20).set_fit_request(sample_weight=True)
                                 .set_score_request(sample_weight=True))
        fitted = clone(pipeline).fit(X, y, sample_weight=weights)
        scaled = StandardScaler().fit_transform(X)
        direct = small(MLPClassifier, max_iter=20).fit(scaled, y, sample_weight=weights)
        numpy.testing.assert_array_equal(fitted.predict_proba(X), direct.predict_proba(scaled))
        assert not numpy.array_equal(clone(pipeline).fit(X, y).predict_proba(X), fitted.predict_proba(X))
        # scikit-learn 1.6 asks the pipeline itself for its score's request; 1.9 routes to its last step's
        search = GridSearchCV(clone(pipeline).set_score_request(sample_weight=True),
                              {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2, n_jobs=2,
                              error_score="raise")
        search.fit(X, y, sample_weight=weights)  # each fold's weights to fit and to the weighted accuracy
        assert numpy.isfinite(search.cv_results_["mean_test_score"]).all()
        best = clone(pipeline).set_params(**search.best_params_).fit(X, y, sample_weight=weights)
        numpy.testing.assert_array_equal(search.predict_proba(X), best.predict_proba(X))


def test_a_pandas_output_pipeline_passes_its_column_names_on():
    pandas = pytest.importorskip("pandas")
    X, y = blobs(3)
    frame = pandas.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    pipeline = make_pipeline(StandardScaler().set_output(transform="pandas"), small(MLPRegressor, max_iter=5))
    pipeline.fit(frame, y.astype(float))
    numpy.testing.assert_array_equal(pipeline[-1].feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names, but MLPRegressor was fitted with"):
        pipeline[-1].predict(X)  # as scikit-learn warns


def test_save_and_load_round_trip(tmp_path):
    X, y = blobs(3)
    labels = numpy.array(["cat", "dog", "emu"])[y]
    X_multi, Y_multi = make_multilabel_classification(n_samples=60, n_features=6, n_classes=3, random_state=0)
    fitted = [
        small(MLPClassifier, max_iter=20).fit(X, labels),
        small(MLPClassifier, max_iter=20, solver="sgd", early_stopping=True).fit(X, y == 1),
        small(MLPClassifier, max_iter=20).fit(X_multi, Y_multi),
        small(MLPRegressor, max_iter=20, dtype="float64", n_iter_no_change=numpy.inf).fit(X, numpy.column_stack([y, -y])),
    ]
    for index, estimator in enumerate(fitted):
        path = tmp_path / f"estimator{index}.safetensors"
        estimator.save(path)
        loaded = type(estimator).load(path)
        assert loaded.get_params() == estimator.get_params()
        numpy.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
        if hasattr(estimator, "predict_proba"):
            numpy.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
            numpy.testing.assert_array_equal(loaded.classes_, estimator.classes_)
        for name in ("loss_curve_", "n_iter_", "t_", "best_loss_", "validation_scores_", "n_outputs_", "out_activation_"):
            assert getattr(loaded, name) == getattr(estimator, name)
        if index == 0:  # the network alone, labels included
            numpy.testing.assert_array_equal(cr.predict(cr.load(path), X), estimator.predict(X))
        target = (labels, y == 1, Y_multi, numpy.column_stack([y, -y]))[index]
        data = X_multi if index == 2 else X
        if not estimator.early_stopping:  # the optimizer's state is in the file: training continues exactly
            estimator.partial_fit(data, target)
            loaded.partial_fit(data, target)
            numpy.testing.assert_array_equal(loaded.coefs_[0], estimator.coefs_[0])
    with pytest.raises(ModelFileError, match="not a saved MLPRegressor"):
        MLPRegressor.load(tmp_path / "estimator0.safetensors")
    with pytest.raises(NotFittedError):
        MLPRegressor().save(tmp_path / "unfitted.safetensors")


@pytest.mark.parametrize("make_state", [numpy.random.RandomState, numpy.random.default_rng])
def test_a_random_state_object_is_saved_as_none_with_a_warning(make_state, tmp_path):
    X, y = blobs(3)
    classifier = small(MLPClassifier, max_iter=2, random_state=make_state(0)).fit(X, y)
    with pytest.warns(UserWarning, match=f"random_state: a {type(make_state(0)).__name__} cannot be written"):
        classifier.save(tmp_path / "state.safetensors")
    assert MLPClassifier.load(tmp_path / "state.safetensors").random_state is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classifier.set_params(random_state=numpy.int64(7)).save(tmp_path / "int.safetensors")
    assert MLPClassifier.load(tmp_path / "int.safetensors").random_state == 7


def test_pickle_and_deepcopy_round_trip():
    X, y = blobs(3)
    classifier = small(MLPClassifier, max_iter=10).fit(X, y)
    big = numpy.repeat(X, 200, axis=0)
    expected = classifier.predict_proba(big)
    data = pickle.dumps(classifier)
    assert len(data) < 50_000  # the weights, not the activations of the last rows predicted
    for copied in (pickle.loads(data), copy.deepcopy(classifier)):
        numpy.testing.assert_array_equal(copied.predict_proba(big), expected)
        copied.partial_fit(X, y)  # and training goes on from the copied optimizer state
        numpy.testing.assert_array_equal(classifier.predict_proba(big), expected)


def test_feature_names_from_a_data_frame():
    pandas = pytest.importorskip("pandas")
    X, y = blobs(3)
    frame = pandas.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    classifier = small(MLPClassifier, max_iter=2).fit(frame, y)
    numpy.testing.assert_array_equal(classifier.feature_names_in_, frame.columns)


# -- parity with scikit-learn's MLP -----------------------------------------------------------
def standardized_split(X, y):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def mean_test_score(estimator_class, params, data, seeds=(0, 1, 2)) -> float:
    X_train, X_test, y_train, y_test = data
    return float(numpy.mean([estimator_class(**params, random_state=seed).fit(X_train, y_train).score(X_test, y_test)
                             for seed in seeds]))


@pytest.mark.parametrize("params", [{}, {"solver": "sgd", "learning_rate_init": 0.01, "max_iter": 100}])
def test_digits_accuracy_matches_scikit_learn(params):
    data = standardized_split(*load_digits(return_X_y=True))
    ours = mean_test_score(MLPClassifier, params, data)
    theirs = mean_test_score(neural_network.MLPClassifier, params, data)
    assert ours > 0.96 and abs(ours - theirs) <= 0.01, (ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_diabetes_r2_matches_scikit_learn(solver):
    X_train, X_test, y_train, y_test = standardized_split(*load_diabetes(return_X_y=True))
    mean, scale = y_train.mean(), y_train.std()
    data = X_train, X_test, (y_train - mean) / scale, (y_test - mean) / scale
    params = {"hidden_layer_sizes": (16,), "alpha": 10.0, "max_iter": 500, "solver": solver}
    if solver == "sgd":
        params["learning_rate_init"] = 0.01
    ours = mean_test_score(MLPRegressor, params, data)
    theirs = mean_test_score(neural_network.MLPRegressor, params, data)
    assert ours > 0.3 and abs(ours - theirs) <= 0.03, (ours, theirs)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_dataframe_column_names_are_kept_checked_and_saved(estimator_class, tmp_path):
    pandas = pytest.importorskip("pandas")
    X, y = blobs(3)
    columns = [f"feature {index}" for index in range(X.shape[1])]
    frame = pandas.DataFrame(X, columns=columns)
    target = y if estimator_class is MLPClassifier else y.astype(float)
    estimator = small(estimator_class, max_iter=5).fit(frame, target)
    assert estimator.feature_names_in_.tolist() == columns
    with pytest.warns(UserWarning, match="fitted with feature names"):  # scikit-learn's own warning
        from_array = estimator.predict(X)
    numpy.testing.assert_array_equal(estimator.predict(frame), from_array)
    with pytest.raises(ValueError, match="feature names should match"):
        estimator.predict(frame[columns[::-1]])
    path = tmp_path / "model.safetensors"
    estimator.save(path)
    loaded = estimator_class.load(path)
    assert loaded.feature_names_in_.tolist() == columns
    with pytest.raises(ValueError, match="feature names should match"):
        loaded.predict(frame.rename(columns={columns[0]: "another"}))
    assert not hasattr(small(estimator_class, max_iter=5).fit(X, target), "feature_names_in_")


def test_predict_keeps_no_reference_to_the_callers_array():
    import gc
    import weakref

    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = MLPClassifier((4,), max_iter=2, random_state=0).fit(X.astype(numpy.float32), y)
    X_new = X.astype(numpy.float32)  # already the network's dtype: validate_data does not copy it
    alive = weakref.ref(X_new)
    estimator.predict_proba(X_new)
    del X_new
    gc.collect()
    assert alive() is None


def test_a_validation_score_equal_to_the_best_counts_as_improving_as_in_scikit_learn():
    # With tol=0 a plateau never stops training: scikit-learn counts only a score below best + tol.
    X, y = make_blobs(200, centers=[[-5, -5], [5, 5]], random_state=0)
    params = dict(hidden_layer_sizes=(8,), early_stopping=True, tol=0.0, n_iter_no_change=2, max_iter=12,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = MLPClassifier(**params).fit(X, y), neural_network.MLPClassifier(**params).fit(X, y)
    assert len(set(ours.validation_scores_)) == 1
    assert ours.n_iter_ == theirs.n_iter_ == 12
