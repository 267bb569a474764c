"""chainrule.sklearn: partial_fit's labels, the regressor's reported loss, warm_start's
checks, early stopping's split, the estimators' own errors and verbose output, each against
scikit-learn's behaviour."""

import copy
import inspect
import re
import sys
import warnings

import numpy
import pytest
import scipy.sparse
import sklearn
from sklearn import neural_network
from sklearn.compose import make_column_transformer
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import chainrule as cr
from chainrule.errors import DataError, DTypeError, HyperparameterError, LabelError, NonFiniteError, ShapeError
from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.io.architecture import MAX_HIDDEN_LAYERS
from chainrule.sklearn._base import _network
from chainrule.sklearn.classifier import _check_labels_as_given
from chainrule.losses.loss import around_built_in_compute, built_in_compute
from chainrule.sklearn._loss import (PENALTY_PER_BATCH_WEIGHT, HalfSquaredErrorPenaltyPerBatchWeight,
                                     PenaltyPerBatchWeight)
from tests.harness import assert_computes_into_reused_arrays

from .test_conformance import blobs, no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)


def after_the_initial_weights(sizes: list, activation: str = "relu"):
    """RandomState(0) as a first fit of random_state=0 leaves it for the validation split: past the
    initial weights and biases of the network of layer widths ``sizes`` (see _base)."""
    draws = numpy.random.RandomState(0)
    _network(sizes, activation, draws, "float64")
    return draws


def tiny(estimator_class, **params):
    """An estimator of 8 hidden units and 5 epochs (test_conformance's ``small`` trains longer)."""
    return estimator_class(**{"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params})


@pytest.mark.parametrize("sizes, shown", [((0,), "(0,)"), ((-10 ** 5000,), "<tuple holding an int of more than")],
                         ids=["zero", "huge"])
def test_hidden_layer_sizes_that_are_not_positive_are_named(sizes, shown):
    """A tuple holding an int of more than 4300 digits has no repr: it raised ValueError inside the message."""
    with pytest.raises(HyperparameterError, match=rf"^hidden_layer_sizes: expected positive integers, got "
                                                  rf"{re.escape(shown)}"):
        tiny(MLPClassifier, hidden_layer_sizes=sizes).fit(*blobs(2))


@pytest.mark.parametrize("sizes, count", [((8,) * (MAX_HIDDEN_LAYERS + 1), f"{MAX_HIDDEN_LAYERS + 1:,}"),
                                          (range(1, 10**12), f"{10**12 - 1:,}"),
                                          (range(10**20), f"more than {sys.maxsize:,}")],
                         ids=["tuple", "huge_range", "uncountable_range"])
def test_more_hidden_layers_than_a_model_file_holds_are_refused_before_a_network_is_built(sizes, count):
    # They were built (minutes for a million layers; range(10**12) was listed first), trained, and then refused by save;
    # range(10**20), whose len raises OverflowError, raised that (as in scikit-learn), naming nothing
    estimator = tiny(MLPClassifier, hidden_layer_sizes=sizes)
    with pytest.raises(HyperparameterError, match=rf"^hidden_layer_sizes: at most {MAX_HIDDEN_LAYERS:,} hidden "
                                                  rf"layers, the most a model file holds .* got {count}: "):
        estimator.fit(*blobs(2))
    assert not hasattr(estimator, "model_")
    with pytest.raises(HyperparameterError, match="hidden_layer_sizes: at most"):
        tiny(MLPRegressor, hidden_layer_sizes=sizes).partial_fit(*blobs(2))


def test_other_hidden_layer_sizes_of_a_continued_fit_are_cut_in_the_message():
    # the fitted network's sizes were followed by the new ones whole: 120,000 characters for 40,000 layers
    X, y = blobs(2)
    estimator = tiny(MLPClassifier, warm_start=True).fit(X, y).set_params(hidden_layer_sizes=[5] * 40_000)
    with pytest.raises(HyperparameterError, match=r"^hidden_layer_sizes: the fitted network has hidden layers \(8,\), "
                                                  r"but hidden_layer_sizes is now \[5, 5, .{0,60}\.\.\.; call fit with "
                                                  r"warm_start=False for a new network$"):
        estimator.fit(X, y)


def test_as_many_hidden_layers_as_a_model_file_holds_are_taken():
    assert tiny(MLPClassifier, hidden_layer_sizes=[1] * MAX_HIDDEN_LAYERS)._hidden_sizes() == [1] * MAX_HIDDEN_LAYERS


# -- partial_fit's first call -----------------------------------------------------------------
@pytest.mark.parametrize("classes, relabel, unknown", [([0, 1], {}, "[2]"), ([0, 1, 2], {2: 3}, "[3]")])
def test_partial_fit_first_call_rejects_labels_outside_classes(classes, relabel, unknown):
    X, y = blobs(3)
    y = numpy.array([relabel.get(label, label) for label in y])
    classifier = tiny(MLPClassifier)
    with pytest.raises(LabelError, match=re.escape(f"`y` has classes not in `self.classes_`: {unknown}.")):
        classifier.partial_fit(X, y, classes=classes)
    assert not hasattr(classifier, "model_")
    with pytest.raises(ValueError, match="classes not in"):  # scikit-learn raises the same message
        neural_network.MLPClassifier((8,)).partial_fit(X, y, classes=classes)
    known = numpy.isin(y, classes)
    classifier.partial_fit(X[known], y[known], classes=classes)  # a batch of known labels is fine
    assert classifier.predict_proba(X).shape == (len(X), len(classes))


def test_partial_fit_later_call_rejects_unknown_labels():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(LabelError, match=r"not in `self.classes_`: \[7\]"):
        classifier.partial_fit(X[:10], numpy.full(10, 7))


# -- labels scikit-learn's checks refuse --------------------------------------------------------
@pytest.mark.parametrize("labels, error, message", [
    # scikit-learn's ValueError "Unknown label type: continuous...", naming neither y nor the label
    ([0.5, 1.5] * 5, LabelError, r"^y: Unknown label type: continuous\..* Float class labels must be whole numbers, "
                                 r"found 0\.5 at index \(0,\); use MLPRegressor for continuous targets$"),
    # scikit-learn's ValueError "Unknown label type: unknown..." or np.unique's TypeError ("'<' not supported")
    ([0, 1, None] + [0, 1] * 3 + [1], LabelError, r"^y: expected a class label at every index, found None at index "
                                                  r"\(2,\); drop the rows without a label or fill them in$"),
    (["a", "b", None] + ["a", "b"] * 3 + ["b"], LabelError, r"^y: expected a class label at every index, found None "
                                                            r"at index \(2,\)"),
    (["a", "b", 1] + ["a", "b"] * 3 + ["b"], DTypeError, r"^y: class labels must be all numbers or all strings"),
])
def test_labels_that_are_no_classes_are_refused_naming_y(labels, error, message):
    X, _ = blobs(2, n_samples=10)
    y = numpy.array(labels, dtype=float if isinstance(labels[0], float) else object)
    with pytest.raises(error, match=message):
        tiny(MLPClassifier).fit(X, y)
    classifier = tiny(MLPClassifier).partial_fit(X, [0, 1] * 5, classes=[0, 1])
    with pytest.raises(error, match=message):  # a later call too
        classifier.partial_fit(X, y)
    whole = tiny(MLPClassifier).fit(X, numpy.array([0.0, 1.0] * 5))  # whole-number floats are classes, as for sklearn
    assert whole.classes_.tolist() == [0.0, 1.0]


def test_partial_fit_refuses_switching_between_labels_and_a_multilabel_matrix_naming_y():
    # "The object was not fitted with multilabel input." (LabelBinarizer's ValueError); the other way, a ShapeError
    # "y: the network has 2 outputs, but y has 1 columns"
    X, _ = blobs(2, n_samples=10)
    indicator = numpy.array([[0, 1], [1, 0]] * 5)
    classifier = tiny(MLPClassifier).partial_fit(X, [0, 1] * 5, classes=[0, 1])
    with pytest.raises(LabelError, match=r"^y: a multilabel indicator matrix of shape \(10, 2\), but the classifier "
                                         r"was fitted on binary class labels \(classes_ \[0, 1\]\)"):
        classifier.partial_fit(X, indicator)
    classifier = tiny(MLPClassifier).partial_fit(X, indicator)
    with pytest.raises(LabelError, match=r"^y: class labels of shape \(10,\), but the classifier was fitted on a "
                                         r"multilabel indicator matrix of 2 columns"):
        classifier.partial_fit(X, numpy.array([0, 1] * 5))
    classifier.partial_fit(X, indicator)  # unchanged by the refusals


# -- the regressor's loss ---------------------------------------------------------------------
def fit_one_step_from_scikit_learns_weights(alpha):
    """(ours, theirs, their starting weights) after one full-batch SGD step on 4 outputs."""
    X, labels = blobs(3, n_samples=40)
    rng = numpy.random.default_rng(0)
    Y = numpy.column_stack([labels, X[:, 0], X[:, 1] * 3, rng.normal(size=40)])
    params = dict(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0, alpha=alpha,
                  learning_rate_init=0.05, max_iter=1, batch_size=40, warm_start=True, random_state=0)
    theirs = neural_network.MLPRegressor(**params).fit(X, Y)
    ours = MLPRegressor(**params, dtype="float64").fit(X, Y)
    for mine, start in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        mine[...] = start
    start_coefs = [W.copy() for W in theirs.coefs_]
    theirs.fit(X, Y)
    ours.fit(X, Y)
    return ours, theirs, start_coefs


def test_multi_output_regression_reports_scikit_learns_loss():
    """Half the mean over samples and outputs (not 4 times it), from the same weights and data;
    the step itself (the gradient) stays scikit-learn's."""
    ours, theirs, _ = fit_one_step_from_scikit_learns_weights(alpha=0.0)
    assert ours.n_outputs_ == 4
    numpy.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-12)
    numpy.testing.assert_allclose(ours.loss_curve_[-1], theirs.loss_curve_[-1], rtol=1e-12)
    numpy.testing.assert_allclose(ours.best_loss_, theirs.best_loss_, rtol=1e-12)
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-14)


def test_multi_output_regression_penalty_is_scaled_as_scikit_learns():
    """scikit-learn adds (alpha / 2) ‖W‖² / n_batch, not divided by the outputs; ours takes it
    at the epoch's last weights, theirs at the batch's (here: before the one step)."""
    alpha, n_batch = 0.3, 40
    ours, theirs, start_coefs = fit_one_step_from_scikit_learns_weights(alpha)

    def penalty(coefs):
        return 0.5 * alpha * sum(float(numpy.vdot(W, W)) for W in coefs) / n_batch

    expected = theirs.loss_ - penalty(start_coefs) + penalty(ours.coefs_)
    numpy.testing.assert_allclose(ours.loss_, expected, rtol=1e-12)


# -- sample weights: one step as scikit-learn's ---------------------------------------------------
def one_weighted_step_from_scikit_learns_weights(estimator_class, theirs_class, X, y, weights):
    """(ours, theirs) after one full-batch SGD step with ``weights`` (alpha 0), from the same weights."""
    params = dict(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0, alpha=0.0,
                  learning_rate_init=0.05, max_iter=1, batch_size=len(X), warm_start=True, random_state=0)
    theirs = theirs_class(**params).fit(X, y)
    ours = estimator_class(**params, dtype="float64").fit(X, y)
    for mine, start in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        mine[...] = start
    return ours.fit(X, y, sample_weight=weights), theirs.fit(X, y, sample_weight=weights)


#: scikit-learn's MLPs take sample_weight from 1.7 on; chainrule's from 1.6 on, where there is none to compare with
WEIGHTED_MLP = pytest.mark.skipif("sample_weight" not in inspect.signature(neural_network.MLPClassifier.fit).parameters,
                                  reason="scikit-learn's MLPs take sample_weight from scikit-learn 1.7 on")


@WEIGHTED_MLP
@pytest.mark.parametrize("estimator_class, theirs_class, targets", [
    (MLPClassifier, neural_network.MLPClassifier, "3 classes"),
    (MLPClassifier, neural_network.MLPClassifier, "2 classes"),
    (MLPRegressor, neural_network.MLPRegressor, "4 outputs"),
])
def test_one_weighted_step_equals_scikit_learns(estimator_class, theirs_class, targets):
    X, labels = blobs(3 if targets == "3 classes" else 2, n_samples=40)
    rng = numpy.random.default_rng(0)
    y = labels if "classes" in targets else numpy.column_stack([labels, X[:, 0], X[:, 1] * 3, rng.normal(size=40)])
    weights = rng.uniform(0, 3, size=40)
    weights[:5] = 0
    ours, theirs = one_weighted_step_from_scikit_learns_weights(estimator_class, theirs_class, X, y, weights)
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-14)
    numpy.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-12)
    unweighted, _ = one_weighted_step_from_scikit_learns_weights(estimator_class, theirs_class, X, y, None)
    assert not numpy.allclose(unweighted.coefs_[0], ours.coefs_[0], rtol=1e-6)  # the weights mattered


@WEIGHTED_MLP
@pytest.mark.parametrize("estimator_class, theirs_class, targets", [
    (MLPClassifier, neural_network.MLPClassifier, "3 classes"),
    (MLPClassifier, neural_network.MLPClassifier, "2 classes"),
    (MLPRegressor, neural_network.MLPRegressor, "4 outputs"),
])
def test_a_weighted_epoch_with_a_penalty_equals_scikit_learns(estimator_class, theirs_class, targets):
    """scikit-learn's penalty of a weighted batch is alpha / Σw of that batch: over an epoch of
    batches of 12, 12, 12 and 4 rows whose weights sum to different totals, from the same
    weights and in the same batches, the weights end where scikit-learn's do."""
    X, labels = blobs(3 if targets == "3 classes" else 2, n_samples=40)
    rng = numpy.random.default_rng(1)
    y = labels if "classes" in targets else numpy.column_stack([labels, X[:, 0], X[:, 1] * 3, rng.normal(size=40)])
    weights = rng.uniform(0, 3, size=40)
    weights[::7] = 0
    params = dict(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0, alpha=0.3,
                  learning_rate_init=0.05, max_iter=1, batch_size=12, warm_start=True, random_state=0)
    theirs = theirs_class(**params).fit(X, y)
    ours = estimator_class(**params, dtype="float64").fit(X, y)
    for mine, start in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        mine[...] = start  # the first epoch's last batch of 4 was penalized otherwise (see _base)
    # Both shuffle the rows in scikit-learn's order, drawn from RandomState(0) (see test_random_state)
    ours.fit(X, y, sample_weight=weights)
    theirs.fit(X, y, sample_weight=weights)
    for mine, expected in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        numpy.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-14)
    assert ours._optimizer.weight_decay == 0.3 / 12  # after training, as without weights
    assert ours.model_.metadata["training"]["loss"] in ("SoftmaxCrossEntropy", "BinaryCrossEntropy", "HalfSquaredError")


# -- warm_start and partial_fit keep the network the parameters describe ----------------------
@pytest.mark.parametrize("name, value", [("hidden_layer_sizes", (7, 3)), ("activation", "tanh"),
                                         ("dtype", "float64")])
@pytest.mark.parametrize("continued", ["warm_start", "partial_fit"])
def test_a_changed_network_parameter_is_rejected_when_continuing(name, value, continued):
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, warm_start=continued == "warm_start").fit(X, y)
    before = classifier.model_.flat_parameters().theta.copy()
    classifier.set_params(**{name: value})
    with pytest.raises(HyperparameterError, match=f"^{name}: the fitted network"):
        classifier.fit(X, y) if continued == "warm_start" else classifier.partial_fit(X, y)
    numpy.testing.assert_array_equal(classifier.model_.flat_parameters().theta, before)
    classifier.set_params(warm_start=False).fit(X, y)  # a fresh fit builds the new network
    assert classifier.get_params()[name] == value


def test_warm_start_accepts_another_name_of_the_same_activation():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, activation="logistic", warm_start=True).fit(X, y)
    classifier.set_params(activation="sigmoid").fit(X, y)
    assert len(classifier.loss_curve_) == 10


# -- early stopping's validation split --------------------------------------------------------
def test_early_stopping_does_not_stratify_multi_class_splits():
    """As in scikit-learn: 20 samples, 2 held out for 3 classes cannot be stratified, yet fit."""
    X, y = blobs(3)
    params = dict(hidden_layer_sizes=(5,), early_stopping=True, random_state=0)
    neural_network.MLPClassifier(**params).fit(X[:20], y[:20])
    assert MLPClassifier(**params).fit(X[:20], y[:20]).n_iter_ >= 1
    one_of_a_class = numpy.r_[numpy.zeros(28, int), 1, 2]  # a class with 1 member
    assert MLPClassifier(**params).fit(X[:30], one_of_a_class).n_iter_ >= 1


def test_early_stopping_stratifies_binary_splits():
    X, y = blobs(2, n_samples=100)
    y = (numpy.arange(100) < 20).astype(int)  # 20 % ones
    classifier = MLPClassifier((5,), early_stopping=True, validation_fraction=0.5, random_state=0)
    _, T_train, _, _, T_val, _ = classifier._split(X, y.reshape(-1, 1).astype(float), random_state=0)
    assert T_val.sum() == 10 and T_train.sum() == 10  # exactly half of each class held out


def test_partial_fit_refuses_a_nan_among_classes_naming_classes():
    # scikit-learn's "Input y contains NaN." named y, whose labels were all finite
    X, y = blobs(3)
    classifier = tiny(MLPClassifier)
    with pytest.raises(NonFiniteError, match=re.escape("classes: expected finite values, found nan at index (3,)")):
        classifier.partial_fit(X, y.astype(float), classes=[0.0, 1.0, 2.0, numpy.nan])
    assert not hasattr(classifier, "model_")


@pytest.mark.parametrize("classes, error, message", [
    # scikit-learn's "Unknown label type: ([None, 'a'],)", naming nothing
    ([None, "a"], LabelError, "classes: expected a class label at every index, found None at index (0,)"),
    # scikit-learn's ValueError "Mix of label input types (string and number)", and its TypeError for an object array
    (["a", 1], DTypeError, "classes: class labels must be all numbers or all strings, which sort together; found 'a' "
                           "(str) at index (0,) and 1 (int) at index (1,)"),
    (numpy.array(["a", 1], dtype=object), DTypeError, "classes: class labels must be all numbers or all strings"),
])
def test_partial_fit_refuses_classes_that_are_no_class_labels_naming_classes(classes, error, message):
    X, _ = blobs(2, n_samples=4)
    classifier = tiny(MLPClassifier)
    with pytest.raises(error, match="^" + re.escape(message)):
        classifier.partial_fit(X, ["a"] * 4, classes=classes)
    assert not hasattr(classifier, "model_")


@pytest.mark.parametrize("estimator_class, n_samples, fraction, y_kind", [
    (MLPRegressor, 60, 0.99, "values"),  # leaves no training sample
    (MLPClassifier, 30, 0.1, "binary with 1 member"),  # too few of a class to stratify
    (MLPRegressor, 60, 0.0, "values"),  # holds nothing out
    (MLPClassifier, 60, 0.0, "binary with 1 member"),
])
def test_an_impossible_validation_split_names_validation_fraction(estimator_class, n_samples, fraction, y_kind):
    X, _ = blobs(2, n_samples=n_samples)
    y = X[:, 0] if y_kind == "values" else (numpy.arange(n_samples) == 0).astype(int)
    estimator = estimator_class(hidden_layer_sizes=(5,), early_stopping=True, validation_fraction=fraction, random_state=0)
    with pytest.raises(HyperparameterError, match="^validation_fraction: early_stopping cannot hold out"):
        estimator.fit(X, y)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_validation_fraction_0_with_early_stopping_is_told_to_be_a_fraction_above_0(estimator_class):
    # The message ended in train_test_split's, about a parameter 'test_size' that the caller never passed
    X, _ = blobs(2, n_samples=30)
    y = X[:, 0] if estimator_class is MLPRegressor else (X[:, 0] > 0).astype(int)
    estimator = tiny(estimator_class, early_stopping=True, validation_fraction=0.0)
    with pytest.raises(HyperparameterError, match=r"^validation_fraction: early_stopping cannot hold out 0 of 30 "
                                                  r"samples: it needs a validation set; pass a fraction in \(0, 1\), "
                                                  r"such as 0\.1$"):
        estimator.fit(X, y)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_validation_fraction_0_is_taken_without_early_stopping(estimator_class):
    # scikit-learn's range is [0, 1): the fraction is read only by early_stopping
    X, _ = blobs(2, n_samples=30)
    y = X[:, 0] if estimator_class is MLPRegressor else (X[:, 0] > 0).astype(int)
    estimator = tiny(estimator_class, validation_fraction=0.0).fit(X, y)
    assert estimator.n_iter_ >= 1 and estimator.validation_scores_ is None


def test_a_sparse_y_of_the_regressor_is_refused_naming_y():
    # validate_data keeps a sparse y as it is; the regressor's len(y) raised scipy's bare TypeError
    X, _ = blobs(2, n_samples=30)
    Y = scipy.sparse.csr_matrix(X[:, :2])
    for call in ("fit", "partial_fit"):
        regressor = tiny(MLPRegressor)
        with pytest.raises(DTypeError, match=r"^y: a scipy.sparse csr_matrix of shape \(30, 2\); .*y\.toarray\(\)"):
            getattr(regressor, call)(X, Y)
        assert not hasattr(regressor, "model_")


@pytest.mark.parametrize("label, shown", [(0, "0"), ("a", "'a'"), (True, "True")])
def test_a_single_class_is_shown_as_python_writes_it(label, shown):
    # NumPy's repr named it np.int64(0), np.str_('a') or np.True_
    X, _ = blobs(2, n_samples=30)
    with pytest.raises(LabelError, match=rf"^y: a classifier needs at least 2 classes; got 1 class \({shown}\)$"):
        tiny(MLPClassifier).fit(X, numpy.full(len(X), label))


NUL = r"ends in NUL \('\\x00'\), which NumPy's str arrays, and so classes_, drop: it would be taken for "


def object_array(labels):
    return numpy.array(labels, dtype=object)


@pytest.mark.parametrize("call, y, classes, message", [
    # NumPy's str arrays drop the NUL: a binary classifier took "b\0" for "b" silently (a list y lost it in
    # validate_data, an object array's classes_ did); several classes were refused naming only classes_
    ("fit", ["b\0", "a"] * 15, None, r"^y: the label 'b\\x00' at index \(0,\) " + NUL + "'b'; strip it from y"),
    ("fit", object_array(["a", "b\0"] * 15), None, r"^y: the label 'b\\x00' at index \(1,\) " + NUL + "'b'"),
    ("fit", object_array(["b\0", "b", "a"] * 10), None, r"^y: the label 'b\\x00' at index \(0,\) "),
    ("fit", ["a", "b", "c\0"] * 10, None, r"^y: the label 'c\\x00' at index \(2,\) " + NUL + "'c'"),
    ("fit", object_array(["b", "a\0", "c"] * 10), None, r"^y: the label 'a\\x00' at index \(1,\) " + NUL + "'a'"),
    ("fit", [["a"], ["b\0"]] * 15, None, r"^y: the label 'b\\x00' at index \(1, 0\) "),
    ("partial_fit", ["a", "b"] * 15, ["a", "b\0"], r"^classes: the label 'b\\x00' at index \(1,\) " + NUL + "'b'; "
                                                   r"strip it from classes"),
    ("partial_fit", ["a", "b"] * 15, object_array(["a", "b\0", "c"]), r"^classes: the label 'b\\x00' at index \(1,\) "),
    ("partial_fit", object_array(["a", "b\0"] * 15), ["a", "b"], r"^y: the label 'b\\x00' at index \(1,\) "),
])
def test_a_label_ending_in_nul_is_refused_naming_it(call, y, classes, message):
    X, _ = blobs(2, n_samples=30)
    classifier = tiny(MLPClassifier)
    kwargs = {"classes": classes} if call == "partial_fit" else {}
    with pytest.raises(LabelError, match=message):
        getattr(classifier, call)(X, y, **kwargs)
    assert not hasattr(classifier, "model_")


@pytest.mark.parametrize("y", [["a", "b\0"] * 15, object_array(["a", "b\0"] * 15)])
def test_a_label_ending_in_nul_is_refused_by_a_later_partial_fit(y):
    # The binary classifier's later call trained "b\0" as "b" (a list) or as "a", the class of no 1 (an object array)
    X, _ = blobs(2, n_samples=30)
    classifier = tiny(MLPClassifier).partial_fit(X, ["a", "b"] * 15, classes=["a", "b"])
    weights = classifier.coefs_[0].copy()
    with pytest.raises(LabelError, match=r"^y: the label 'b\\x00' at index \(1,\) " + NUL + "'b'"):
        classifier.partial_fit(X, y)
    numpy.testing.assert_array_equal(classifier.coefs_[0], weights)


@pytest.mark.parametrize("y, error, message", [
    (["a", "b\0"] * 15, LabelError, r"^y: the label 'b\\x00' at index \(1,\) " + NUL + "'b'"),
    (object_array(["a", "b\0"] * 15), LabelError, r"^y: the label 'b\\x00' at index \(1,\) " + NUL + "'b'"),
    (["a", 1] * 15, DTypeError, r"^y: class labels must be all numbers or all strings, which sort together; found"),
])
def test_score_refuses_the_labels_fit_refuses(y, error, message):
    # scikit-learn's accuracy scored "b\0" as "b" (a list), or as wrong (an object array), silently
    X, _ = blobs(2, n_samples=30)
    classifier = tiny(MLPClassifier).fit(X, ["a", "b"] * 15)
    with pytest.raises(error, match=message):
        classifier.score(X, y)
    assert classifier.score(X, ["a", "b"] * 15) == accuracy_score(["a", "b"] * 15, classifier.predict(X))


def test_labels_without_a_trailing_nul_are_taken():
    # A NUL inside a label survives NumPy's str arrays, and a str array y (which dropped any NUL when made) is not
    # looked at
    X, _ = blobs(2, n_samples=30)
    classifier = tiny(MLPClassifier).fit(X, object_array(["a\0b", "b"] * 15))
    assert classifier.classes_.tolist() == ["a\0b", "b"]
    assert tiny(MLPClassifier).fit(X, numpy.array(["a\0", "b"] * 15)).classes_.tolist() == ["a", "b"]


@pytest.mark.parametrize("y, error, message", [
    # scikit-learn's "Unknown label type: (array([1000...0, 1, ...]),)" (of the whole array), unnamed in chainrule
    ([10**400, 1] * 15, LabelError, r"^y: the label 1000000000\d+\.\.\. at index \(0,\) is an int beyond int64"),
    (object_array([1, -10**400] * 15), LabelError, r"^y: the label -1000000000\d+\.\.\. at index \(1,\) is an int "),
    # a list's 2**63 became the float 9.223372036854776e+18: "Unknown label type: continuous"
    ([0, 2**63] * 15, LabelError, r"^y: the label 9223372036854775808 at index \(1,\) is an int beyond int64's range "
                                  r"\(-2\*\*63 to 2\*\*63 - 1\), .*; make such labels strings \(str\(label\)\)"),
    (numpy.array([0.0, 1e19] * 15), LabelError, r"^y: Unknown label type: continuous\..* Float class labels must lie "
                                                r"within int64's range, .* found 1e\+19 at index \(1,\)"),
    # int64's ends: 2.0**63 is beyond (scikit-learn casts it to -2**63), an int among other types too
    (numpy.array([0.0, 2.0**63] * 15), LabelError, r"^y: Unknown label type: continuous\..* within int64's range, .* "
                                                   r"found 9\.223372036854776e\+18 at index \(1,\)"),
    ([True, 2**63] * 15, LabelError, r"^y: the label 9223372036854775808 at index \(1,\) is an int beyond int64's "),
    # a list's 1 became the class '1' (scikit-learn's too); an object array's was "Unknown label type: unknown"
    ([1, "a"] * 15, DTypeError, r"^y: class labels must be all numbers or all strings, which sort together; found 'a' "
                                r"\(str\) at index \(1,\) and 1 \(int\) at index \(0,\)$"),
    (object_array([1.5, "a"] * 15), DTypeError, r"^y: class labels .* found 'a' \(str\) at index \(1,\) and 1\.5 "
                                                r"\(float\) at index \(0,\)$"),
    # a list's NaN became the class 'nan'; an object array's was the plain ValueError "Input contains NaN"
    (["a", float("nan")] * 15, NonFiniteError, r"^y: expected finite values, found nan at index \(1,\); a missing "
                                               r"label: drop the rows without a label or fill them in$"),
    (object_array([0, float("nan")] * 15), NonFiniteError, r"^y: expected finite values, found nan at index \(1,\)"),
    # NumPy 1's repr of a float32 NaN is nan; NumPy 2's np.float32(nan)
    ([0.0, 1.0, numpy.float32("nan")] * 10, NonFiniteError, r"^y: expected finite values, found (np\.float32\()?nan\)? "
                                                            r"at index \(2,\); a missing label"),
    # "Unknown label type: unknown. Maybe you are trying to fit a classifier, which expects discrete classes on a
    # regression target with continuous values.", of integer labels
    (object_array([0, 1] * 15), LabelError, r"^y: Unknown label type: an object array of class labels must hold "
                                            r"strings, as scikit-learn reads it; found 0 \(int\) at index \(0,\); pass "
                                            r"numbers as a numeric array \(y\.astype\(int\)\)$"),
])
def test_labels_numpy_would_change_or_scikit_learn_names_by_the_whole_array_are_named(y, error, message):
    X, _ = blobs(2, n_samples=30)
    with pytest.raises(error, match=message):
        tiny(MLPClassifier).fit(X, y)
    classifier = tiny(MLPClassifier).partial_fit(X, [0, 1] * 15, classes=[0, 1])
    with pytest.raises(error, match=message):  # a later call too
        classifier.partial_fit(X, y)


def test_int64s_extreme_labels_are_taken():
    X, _ = blobs(2, n_samples=30)
    assert tiny(MLPClassifier).fit(X, [-2**63, 2**63 - 1] * 15).classes_.tolist() == [-2**63, 2**63 - 1]


def test_a_longdouble_label_beyond_float64_is_no_floating_point_error_under_seterr():
    """Looking for NaN among float labels casts them to float64: 1e4000 overflowed there, raising under seterr."""
    with numpy.errstate(all="raise"):
        _check_labels_as_given([numpy.longdouble("1e4000"), 1.0], "y")


def test_a_pandas_missing_value_among_labels_is_named():
    # pandas' TypeError "boolean value of NA is ambiguous", from inside scikit-learn
    pandas = pytest.importorskip("pandas")
    X, _ = blobs(2, n_samples=30)
    with pytest.raises(NonFiniteError, match=r"^y: expected finite values, found <NA> at index \(1,\); a missing"):
        tiny(MLPClassifier).fit(X, pandas.Series(["a", pandas.NA] * 15, dtype="string"))


@pytest.mark.parametrize("classes, error, message", [
    # scikit-learn's "Unknown label type: (array([0, 1, 2, ...], dtype=object),)", every class shown
    (object_array(range(500)), LabelError, r"^classes: Unknown label type: an object array of class labels must hold "
                                           r"strings, as scikit-learn reads it; found 0 \(int\) at index \(0,\); "
                                           r"pass numbers as a numeric array \(classes\.astype\(int\)\)$"),
    ([0.5, 1.0], LabelError, r"^classes: Unknown label type: continuous\. Float class labels must be whole numbers, "
                             r"found 0\.5 at index \(0,\); use MLPRegressor"),
    ([0.0, 1e19], LabelError, r"^classes: Unknown label type: continuous\. Float class labels must lie within int64's "
                              r"range, which scikit-learn casts them to, found 1e\+19 at index \(1,\)"),
    # "class labels must be all numbers or all strings, which sort together; Support for labels represented as bytes"
    ([b"a", b"b"], DTypeError, r"^classes: class labels of bytes are not supported, as in scikit-learn, found b'a' at "
                               r"index \(0,\); decode them to str first, e\.g\. numpy\.char\.decode\(classes, "),
    ([{0: 1}, {2: 3}], LabelError, r"^classes: Unknown label type: an object array .* found \{0: 1\} \(dict\) at "
                                   r"index \(0,\); use str or int labels$"),
    # numpy.asarray's ValueError "setting an array element with a sequence", from checking classes for NaN
    ([[0, 1], [2]], LabelError, r"^classes: "),
])
def test_classes_scikit_learn_refuses_are_named_by_the_first_refused_label(classes, error, message):
    X, _ = blobs(2, n_samples=30)
    with pytest.raises(error, match=message):
        tiny(MLPClassifier).partial_fit(X, [0, 1] * 15, classes=classes)


@pytest.mark.parametrize("y", [[b"a", b"b"] * 15, numpy.array([b"a", b"b"] * 15)])
def test_bytes_labels_are_named_with_the_advice_to_decode_them(y):
    X, _ = blobs(2, n_samples=30)
    with pytest.raises(DTypeError, match=r"^y: class labels of bytes are not supported, as in scikit-learn, found b'a' "
                                         r"at index \(0,\); decode them to str first"):
        tiny(MLPClassifier).fit(X, y)


def test_an_int_beyond_int64_among_classes_is_named():
    X, _ = blobs(2, n_samples=30)
    with pytest.raises(LabelError, match=r"^classes: the label 1000000000\d+\.\.\. at index \(2,\) is an int beyond"):
        tiny(MLPClassifier).partial_fit(X, [0, 1] * 15, classes=[0, 1, 10**400])


def test_long_labels_are_cut_in_the_messages_naming_classes():
    # scikit-learn's messages, kept by chainrule, showed each label and class whole: 10,000 characters here
    X, _ = blobs(2, n_samples=30)
    long = "x" * 10_000
    classifier = tiny(MLPClassifier).partial_fit(X, ["a", "b"] * 15, classes=["a", "b"])
    calls = [(classifier.partial_fit, (X, ["a", long] * 15), {}, "`y` has classes not in `self.classes_`: ['xxx"),
             (classifier.partial_fit, (X, ["a", "b"] * 15), {"classes": ["a", long]}, "`classes=['a', 'xxx"),
             (tiny(MLPClassifier, warm_start=True).fit(X, ["a", "b"] * 15).fit, (X, ["a", long] * 15), {},
              "warm_start can only be used"),
             (tiny(MLPClassifier).partial_fit(X, [long, "b"] * 15, classes=[long, "b"]).partial_fit,
              (X, numpy.eye(2)[[0, 1] * 15]), {}, "y: a multilabel indicator matrix")]
    for call, args, kwargs, start in calls:
        with pytest.raises(LabelError, match="^" + re.escape(start)) as caught:
            call(*args, **kwargs)
        assert len(str(caught.value)) < 400 and "x..." in str(caught.value)


# -- the estimators' own errors are chainrule's -----------------------------------------------
def test_the_estimators_own_errors_are_chainrule_errors():
    X, y = blobs(3)
    with pytest.raises(LabelError, match="classes must be passed"):
        tiny(MLPClassifier).partial_fit(X, y)
    classifier = tiny(MLPClassifier).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(LabelError, match="is not the same as on last call"):
        classifier.partial_fit(X, y, classes=[0, 1, 2, 3])
    warm = tiny(MLPClassifier, warm_start=True).fit(X, y)
    with pytest.raises(LabelError, match="warm_start can only be used"):
        warm.fit(X[y < 2], y[y < 2])
    with pytest.raises(LabelError, match="at least 2 classes"):
        tiny(MLPClassifier).fit(X, numpy.zeros(len(X), int))
    with pytest.raises(HyperparameterError, match="^early_stopping: partial_fit does not support"):
        tiny(MLPRegressor, early_stopping=True).partial_fit(X, X[:, 0])
    with pytest.raises(HyperparameterError, match="^validation_fraction: The validation set is too small"):
        tiny(MLPRegressor, early_stopping=True).fit(X[:10], X[:10, 0])
    regressor = tiny(MLPRegressor, warm_start=True).fit(X, X[:, 0])
    with pytest.raises(ShapeError, match="1 outputs, but y has 2 columns"):
        regressor.fit(X, X[:, :2])


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict"])
def test_a_sparse_x_is_refused_naming_x_and_toarray(estimator_class, method):
    # scikit-learn's MLP takes it; these used to raise scikit-learn's own TypeError, a chainrule error now
    X, y = blobs(3)
    estimator = tiny(estimator_class).fit(X, y)
    call = {"fit": estimator.fit, "partial_fit": estimator.partial_fit, "predict": estimator.predict}[method]
    with pytest.raises(DTypeError, match=r"^X: a scipy.sparse csr_matrix of shape \(120, 6\); chainrule "
                                         r"takes dense arrays only: pass X.toarray\(\)"):
        call(*(scipy.sparse.csr_matrix(X), y)[:1 if method == "predict" else 2])


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_a_sparse_x_from_a_pipelines_encoder_is_refused_naming_the_dense_options(estimator_class):
    # Inside a Pipeline the caller never holds X to call X.toarray(): the message named only that remedy.
    # A ColumnTransformer's output is sparse when mostly zeros (sparse_threshold=0.3): here 2 of 8 columns are set.
    X, y = blobs(3)
    codes = numpy.column_stack([X[:, 0], (numpy.arange(120) % 7).astype(str)])
    pipeline = make_pipeline(make_column_transformer((OneHotEncoder(), [1]), (StandardScaler(), [0])),
                             tiny(estimator_class))
    with pytest.raises(DTypeError, match=r"^X: a scipy.sparse csr_matrix of shape \(120, 8\); .*pass X.toarray\(\) "
                                         r"if a dense copy fits in memory; in a Pipeline, make the step before the "
                                         r"estimator output dense arrays: OneHotEncoder\(sparse_output=False\), "
                                         r"ColumnTransformer\(..., sparse_threshold=0\)$"):
        pipeline.fit(codes, y)
    pipeline.set_params(columntransformer__sparse_threshold=0).fit(codes, y)  # either remedy trains
    pipeline.set_params(columntransformer__sparse_threshold=0.3, columntransformer__onehotencoder__sparse_output=False)
    assert pipeline.fit(codes, y)[-1].n_features_in_ == 8


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NumPy's, of inf * 0 in the dot
@pytest.mark.parametrize("value, shown", [(numpy.nan, "nan"), (numpy.inf, "inf"), (-numpy.inf, "-inf")])
@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_a_non_finite_x_let_through_by_assume_finite_is_named_as_not_finite(estimator_class, value, shown):
    # scikit-learn's assume_finite=True skips validate_data's check; the outputs' check then blamed the NaN as
    # "the row's value farthest from zero" taking the network beyond float32's range, a row far from the data
    X, y = blobs(3)
    estimator = tiny(estimator_class).fit(X, y)
    rows = X[:3].copy()
    rows[1, 4] = value
    with sklearn.config_context(assume_finite=True):
        with pytest.raises(NonFiniteError, match=rf"^X: the value at index \(1, 4\), {shown}, is not finite, so "
                                                 r"neither are the network's outputs for the row: the network needs "
                                                 r"finite inputs; fill in missing values \(NaN\) first, or drop "
                                                 r"the row$"):
            estimator.predict(rows)
        assert estimator.predict(X[:3]).shape == (3,)  # finite rows are still answered
        with pytest.raises(NonFiniteError, match=rf"^X: expected finite values, found {shown} at index \(1, 4\)"):
            tiny(estimator_class).fit(rows, y[:3])  # cr.fit's own check, whatever scikit-learn's config


@pytest.mark.parametrize("y", [numpy.full(120, "1.5"), numpy.full(120, "a"), numpy.full(120, "1.5", dtype=object),
                               numpy.full(120, b"2"), ["1.5"] * 120])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_regressor_refuses_string_targets_naming_y(y, method):
    X, _ = blobs(3)
    regressor = tiny(MLPRegressor)
    with pytest.raises(DTypeError, match=r"^y: expected numeric targets, got strings \(dtype (<U3|<U1|object|\|S1)\)"):
        getattr(regressor, method)(X, y)
    assert not hasattr(regressor, "model_")
    with pytest.raises((TypeError, ValueError)):  # numeric strings included, as scikit-learn refuses them
        neural_network.MLPRegressor(hidden_layer_sizes=(4,), max_iter=1).fit(X, numpy.full(120, "1.5"))


def test_a_regressor_takes_an_object_array_of_numbers_as_scikit_learn_does():
    X, y = blobs(3)
    numpy.testing.assert_array_equal(tiny(MLPRegressor).fit(X, y.astype(object)).predict(X),
                                     tiny(MLPRegressor).fit(X, y.astype(float)).predict(X))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_an_object_array_holding_an_int_beyond_float64_is_refused_naming_y(method):
    # its conversion to float64 raised a bare OverflowError ("int too large to convert to float")
    X, y = blobs(3)
    y = y.astype(object)
    y[7] = 10**400
    regressor = tiny(MLPRegressor)
    with pytest.raises(NonFiniteError, match=r"^y: expected finite values, found 1000000000.* at index \(7,\), which "
                                             r"overflows float64 \(an int too large for a float\); rescale y$"):
        getattr(regressor, method)(X, y)
    assert not hasattr(regressor, "model_")


def test_a_target_too_large_for_float32_is_named_with_float32s_limit():
    X, _ = blobs(3)
    y = numpy.r_[numpy.zeros(119), -1e39]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "overflow encountered in cast" either
        with pytest.raises(NonFiniteError, match=r"^y: expected finite values, found -1e\+39 at index \(119,\), which "
                                                 r"overflows float32, whose largest finite value is 3\.40282e\+38 .*; "
                                                 r"fit with dtype='float64' or rescale y$"):
            tiny(MLPRegressor).fit(X, y)
    assert numpy.isfinite(tiny(MLPRegressor, dtype="float64").fit(X, y / 1e300).predict(X)).all()


# -- verbose ----------------------------------------------------------------------------------
@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_ends_with_scikit_learns_stopping_line(early_stopping, capsys):
    X, y = blobs(3)
    params = dict(hidden_layer_sizes=(8,), tol=10.0, n_iter_no_change=2, max_iter=50, random_state=0,
                  early_stopping=early_stopping, verbose=True)
    neural_network.MLPClassifier(**params).fit(X, y)
    theirs = capsys.readouterr().out.splitlines()[-1]
    MLPClassifier(**params).fit(X, y)
    ours = capsys.readouterr().out.splitlines()[-1]
    watched = "Validation score" if early_stopping else "Training loss"
    assert ours == theirs == f"{watched} did not improve more than tol=10.000000 for 2 consecutive epochs. Stopping."


# -- scikit-learn's method signatures and initial weights -------------------------------------
@pytest.mark.parametrize("estimator_class, theirs_class", [(MLPClassifier, neural_network.MLPClassifier),
                                                           (MLPRegressor, neural_network.MLPRegressor)])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_fit_and_partial_fit_take_scikit_learns_arguments_in_its_order(estimator_class, theirs_class, method):
    ours = [(name, p.default) for name, p in inspect.signature(getattr(estimator_class, method)).parameters.items()]
    theirs = [(name, p.default) for name, p in inspect.signature(getattr(theirs_class, method)).parameters.items()]
    if ("sample_weight", None) not in theirs:  # scikit-learn 1.6: its sample_weight came in 1.7, in chainrule's place
        ours.remove(("sample_weight", None))
    assert ours == theirs


@pytest.mark.parametrize("call", [
    lambda X, y, w: tiny(MLPClassifier).fit(X, y, sample_weight=w),
    lambda X, y, w: tiny(MLPClassifier).fit(X, y, w),
    lambda X, y, w: tiny(MLPClassifier).partial_fit(X, y, w, [0, 1, 2]),
    lambda X, y, w: tiny(MLPRegressor).fit(X, y * 1.0, w),
    lambda X, y, w: tiny(MLPRegressor).partial_fit(X, y * 1.0, sample_weight=w),
])
def test_sample_weight_is_passed_on_where_scikit_learn_takes_it(call):
    X, y = blobs(3)
    weights = numpy.random.default_rng(0).uniform(0, 2, size=len(y))
    weighted, unweighted = call(X, y, weights), call(X, y, None)
    assert not numpy.array_equal(weighted.coefs_[0], unweighted.coefs_[0])
    numpy.testing.assert_array_equal(weighted.coefs_[0], call(X, y, weights.tolist()).coefs_[0])


def test_a_number_as_sample_weight_weighs_every_sample_alike():
    X, y = blobs(3)
    number = tiny(MLPClassifier).fit(X, y, sample_weight=2.5)
    array = tiny(MLPClassifier).fit(X, y, sample_weight=numpy.full(len(y), 2.5))
    numpy.testing.assert_array_equal(number.coefs_[0], array.coefs_[0])


@pytest.mark.parametrize("weights, error, message", [
    (numpy.ones(3), ShapeError, r"sample_weight: expected 120 weights"),
    (-1.0, DataError, "sample_weight: expected non-negative weights"),
    (0, DataError, "sample_weight: all 120 weights are zero"),
    (1e307, DataError, "sample_weight: the weights sum to inf in float64"),
    (numpy.r_[numpy.nan, numpy.ones(119)], NonFiniteError, "sample_weight: expected finite values"),
    (True, DTypeError, "sample_weight: expected real weights, got booleans"),
    pytest.param(10**400, NonFiniteError, r"^sample_weight: expected finite values, found 1000000000.*, which "
                 r"overflows float64 \(an int too large for a float\); rescale sample_weight$",
                 id="int-beyond-float64"),  # was OverflowError
])
def test_bad_sample_weights_raise_chainrule_errors_naming_them(weights, error, message):
    X, y = blobs(3)
    with pytest.raises(error, match=message):
        tiny(MLPClassifier).fit(X, y, sample_weight=weights)


def test_weights_too_small_for_the_penalty_raise_a_data_error_naming_them():
    """alpha / Σw of a batch whose weights sum to almost nothing overflows: named, not a NaN step.
    (Normal numbers: a process with denormals flushed to zero would see subnormal weights as 0.)"""
    X, y = blobs(3)
    message = (r"sample_weight: a batch of 120 rows can weigh Σw = 1\.2e-303, so its L2 penalty alpha / Σw = "
               r"10000000000\.0 / 1\.2e-303 is past float32's largest number .*expected .* at least alpha / .*: "
               r"scale sample_weight up or lower alpha")
    with pytest.raises(DataError, match=message):
        tiny(MLPClassifier, alpha=1e10).fit(X, y, sample_weight=numpy.full(len(y), 1e-305))


def one_tiny_weight(n_samples):
    """40 weights of 1, one of 1e-305, the rest 0: with alpha=1e10 and batches of 2, the batch of
    the tiny weight and a zero has alpha / Σw = inf, while the batches holding a 1 step before it."""
    weights = numpy.zeros(n_samples)
    weights[:40], weights[40] = 1.0, 1e-305
    return weights


def test_a_batch_penalty_that_overflows_leaves_an_unfitted_estimator_unfitted():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, alpha=1e10, batch_size=2, dtype="float64")
    with pytest.raises(DataError, match=r"^sample_weight: .* alpha / Σw"):
        classifier.fit(X, y, sample_weight=one_tiny_weight(len(y)))
    with pytest.raises(NotFittedError):
        classifier.predict(X)


@pytest.mark.parametrize("continued", ["warm_start", "partial_fit"])
def test_a_batch_penalty_that_overflows_is_refused_before_any_step(continued):
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, alpha=1e10, batch_size=2, dtype="float64", warm_start=continued == "warm_start")
    classifier.fit(X, y)
    coefs, loss_curve = [W.copy() for W in classifier.coefs_], list(classifier.loss_curve_)
    train = classifier.partial_fit if continued == "partial_fit" else classifier.fit
    with pytest.raises(DataError, match=r"^sample_weight: .* alpha / Σw"):
        train(X, y, sample_weight=one_tiny_weight(len(y)))
    for W, before in zip(classifier.coefs_, coefs):
        numpy.testing.assert_array_equal(W, before)
    assert classifier.loss_curve_ == loss_curve


def test_a_refused_refit_on_other_data_leaves_the_fitted_estimator_as_it_was():
    """The refit read the new data's width and classes before refusing its weights: the
    estimator then expected 5 features and classes [0, 1] from a network of 4 inputs and 3 classes."""
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, alpha=1e10, dtype="float64").fit(X, y)
    held, predicted = dict(vars(classifier)), classifier.predict(X)
    wider = numpy.column_stack([X, X[:, 0]])
    with pytest.raises(DataError, match=r"^sample_weight: .* alpha / Σw"):
        classifier.fit(wider, y % 2, sample_weight=numpy.full(len(y), 1e-305))
    assert classifier.n_features_in_ == X.shape[1] and list(classifier.classes_) == sorted(set(y))
    assert vars(classifier).keys() == held.keys()
    numpy.testing.assert_array_equal(classifier.predict(X), predicted)


def test_a_refit_refused_for_its_epsilon_leaves_the_fitted_network_as_it_was():
    """Adam's epsilon was checked once the new network had replaced the fitted one: the refused
    estimator still counted as fitted and predicted with untrained weights."""
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, solver="adam").fit(X, y)
    held, probabilities = dict(vars(classifier)), classifier.predict_proba(X)
    classifier.set_params(epsilon=1e-50)  # below float32's smallest normal number
    with pytest.raises(HyperparameterError, match=r"^epsilon"):
        classifier.fit(X, y)
    assert vars(classifier).keys() == held.keys() and classifier.model_ is held["model_"]
    assert classifier.loss_curve_ == held["loss_curve_"]
    numpy.testing.assert_array_equal(classifier.predict_proba(X), probabilities)


def test_a_first_partial_fit_refused_for_its_epsilon_leaves_the_estimator_unfitted():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, solver="adam", epsilon=1e-50)
    with pytest.raises(HyperparameterError, match=r"^epsilon"):
        classifier.partial_fit(X, y, classes=numpy.unique(y))
    with pytest.raises(NotFittedError):
        classifier.predict(X)


@pytest.mark.parametrize("estimator_class, method", [
    (MLPClassifier, "predict"), (MLPClassifier, "predict_proba"), (MLPRegressor, "predict")])
def test_rows_that_take_the_network_beyond_float32_are_refused_as_cr_predict_refuses_them(estimator_class, method):
    """Finite float32 rows (3.4e38) overflow inside the network: the classifier answered NaN
    probabilities and its first class, the regressor inf, with NumPy's warnings alone."""
    X, y = blobs(3)
    estimator = tiny(estimator_class).fit(X, y if estimator_class is MLPClassifier else X[:, 0])
    rows = numpy.vstack([X[:2], numpy.full((1, X.shape[1]), 3.4e38)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow warning comes first
        with pytest.raises(NonFiniteError, match=r"^X: the value at index \(2, \d\), 3\.4e\+38, .* beyond float32"):
            getattr(estimator, method)(rows)


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_fit_and_predict_under_numpy_seterr_raise_as_without_it(activation):
    """scikit-learn's MLP fits and predicts under numpy.seterr(all="raise"); ours raised FloatingPointError
    where a value underflowed (an x of 1e-40 cast to float32; an e^z rounding to 0 in softmax cross-entropy,
    predict_proba's softmax and sigmoid, a logistic layer's backward), which is no error: the same weights
    and probabilities as without it."""
    X, y = blobs(3)
    X = X * 30
    X[:5, 0] = 1e-40
    for labels in (y, y % 2):  # a softmax output, and a binary classifier's one logistic output
        expected = tiny(MLPClassifier, activation=activation, learning_rate_init=0.05).fit(X, labels)
        with numpy.errstate(all="raise"):
            classifier = tiny(MLPClassifier, activation=activation, learning_rate_init=0.05).fit(X, labels)
            probabilities = classifier.predict_proba(X * 100)
        for got, want in zip(classifier.coefs_, expected.coefs_):
            numpy.testing.assert_array_equal(got, want)
        numpy.testing.assert_array_equal(probabilities, expected.predict_proba(X * 100))


def test_a_penalty_past_float32s_largest_number_is_a_data_error_in_float32_only():
    """alpha / Σw = 100 / 1.2e-38 is finite in float64, not in float32's decay vector."""
    X, y = blobs(3)
    weights = numpy.full(len(y), 1e-40)
    with pytest.raises(DataError, match=r"sample_weight: .* is past float32's largest number 3\.40282e\+38"):
        tiny(MLPClassifier, alpha=100.0).fit(X, y, sample_weight=weights)
    assert numpy.isfinite(tiny(MLPClassifier, alpha=100.0, dtype="float64").fit(X, y, weights).coefs_[0]).all()


@pytest.mark.parametrize("incremental", [False, True], ids=["fit", "partial_fit"])
def test_a_penalty_past_float32s_largest_number_without_weights_names_alpha(incremental):
    """alpha / batch_size = 1e41 / 120 made the decay vector inf: the first step diverged, and the
    DivergenceError said to lower the learning rate. Refused before training, as with weights."""
    X, y = blobs(3)
    classifier = tiny(MLPClassifier).fit(X, y)
    held, predicted = dict(vars(classifier)), classifier.predict_proba(X)
    classifier.set_params(alpha=1e41, warm_start=True)
    train = classifier.partial_fit if incremental else classifier.fit
    with pytest.raises(HyperparameterError, match=r"^alpha: the L2 penalty of a batch of 120 rows, alpha / batch_size "
                                                  r"= 1e\+41 / 120 = 8\.33333e\+38, is past float32's largest number "
                                                  r"3\.40282e\+38, .*: lower alpha$"):
        train(X, y)
    assert vars(classifier).keys() == held.keys()
    numpy.testing.assert_array_equal(classifier.predict_proba(X), predicted)  # the network is kept
    assert numpy.isfinite(tiny(MLPClassifier, alpha=1e41, dtype="float64").fit(X, y).coefs_[0]).all()


def test_the_last_smaller_batch_bounds_the_penalty():
    """Batches of 50, 50 and 20 equal weights: only the batch of 20 overflows float32."""
    X, y = blobs(3)
    weight = 1e-30
    alpha = 30 * weight * float(numpy.finfo(numpy.float32).max)  # alpha / (50 w) fits, alpha / (20 w) does not
    with pytest.raises(DataError, match=r"a batch of 20 rows can weigh Σw = 2e-29"):
        tiny(MLPClassifier, alpha=alpha, batch_size=50).fit(X, y, sample_weight=numpy.full(len(y), weight))


def test_a_tiny_weight_always_batched_with_larger_ones_is_not_refused():
    """8 zeros, one weight of 1e-305 and the rest 1: every batch of 10 holding the tiny weight holds
    a 1, so alpha / Σw <= 1e10 in every batch, though alpha / 1e-305 overflows."""
    X, y = blobs(3)
    weights = numpy.ones(len(y))
    weights[:8], weights[8] = 0.0, 1e-305
    classifier = tiny(MLPClassifier, alpha=1e10, batch_size=10, dtype="float64").fit(X, y, sample_weight=weights)
    assert classifier.n_iter_ == 5


def test_a_batch_of_weight_zero_gets_no_penalty_and_no_gradient():
    """A batch whose weights are all 0 sets λ = 0 (not alpha / 0) and has loss and gradient 0."""
    network = cr.mlp([3, 4, 2])
    optimizer = cr.SGD(network, 0.1, weight_decay=0.5)
    loss = HalfSquaredErrorPenaltyPerBatchWeight(optimizer, 1e-4)
    Y = network.forward(numpy.ones((5, 3), dtype=network.dtype))
    value, dY = loss.compute(Y, numpy.zeros_like(Y), numpy.zeros(5))
    assert (value, optimizer.weight_decay) == (0.0, 0.0)
    numpy.testing.assert_array_equal(dY, 0)


@pytest.mark.parametrize("loss_class", list(PENALTY_PER_BATCH_WEIGHT.values()), ids=lambda c: c.__name__)
def test_the_loss_of_a_weighted_batch_writes_into_the_loops_reused_arrays(loss_class):
    """A weighted batch's loss sets λ and calls the built-in compute once, which the training loop lets write into
    its reused arrays (its compute is marked around_built_in_compute): a second step's ∂L/∂Y is the first's memory.
    Before, its compute, defined outside chainrule.losses, was not a built-in one and got new arrays every step."""
    network = cr.mlp([3, 4, 2])
    optimizer = cr.SGD(network, 0.1)
    loss = loss_class(optimizer, 1e-4)
    Y = network.forward(numpy.random.default_rng(0).normal(size=(5, 3)).astype(network.dtype))
    T = loss.prepare(numpy.eye(2)[[0, 1, 1, 0, 1]], 2, Y.dtype)
    weights = numpy.array([1.0, 2.0, 0.5, 0.0, 1.5])
    assert_computes_into_reused_arrays(loss, Y, T, weights)
    assert optimizer.weight_decay == 1e-4 / 5.0


class SmoothedMSE(cr.MSE):
    """A loss of one's own that calls the built-in compute twice a step, holding the first ∂L/∂Y meanwhile."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        smoothed_value, smoothed_dY = super().compute(Y, T * 0.9, weights)
        return 0.5 * (value + smoothed_value), 0.5 * (dY + smoothed_dY)


class MarkedSmoothedMSE(SmoothedMSE):
    compute = around_built_in_compute(lambda self, Y, T, weights=None: SmoothedMSE.compute(self, Y, T, weights))


class WeightedSmoothedMSE(PenaltyPerBatchWeight, SmoothedMSE):
    """The estimators' mixin in front of a loss of one's own: its marked compute calls that loss's."""


@pytest.mark.parametrize("make", [MarkedSmoothedMSE, lambda: WeightedSmoothedMSE(cr.SGD(cr.mlp([3, 2]), 0.1), 1e-4)],
                         ids=["marked by its own module", "behind PenaltyPerBatchWeight"])
def test_a_compute_marked_around_built_in_compute_counts_as_built_in_only_around_a_built_in_one(make):
    """A marked compute takes the loop's reused arrays only where it is chainrule's own and calls a built-in compute:
    else a loss of one's own that holds a first ∂L/∂Y while it computes a second one in the same store would have it
    overwritten. Before, the mark alone made built_in_compute true, in either case."""
    assert not built_in_compute(make())  # what the training loop asks (Loop.reused_loss)


def test_the_loss_refuses_a_batch_penalty_past_the_networks_dtype():
    """The check each weighted batch's loss makes (the estimators make it before training)."""
    network = cr.mlp([3, 4, 2])
    optimizer = cr.SGD(network, 0.1)
    loss = HalfSquaredErrorPenaltyPerBatchWeight(optimizer, 1.0)
    Y = network.forward(numpy.ones((5, 3), dtype=numpy.float32))
    with pytest.raises(DataError, match=r"sample_weight: a batch of 5 rows can weigh Σw = 5e-40, .* past float32's"):
        loss.compute(Y, numpy.zeros_like(Y), numpy.full(5, 1e-40))
    assert optimizer.weight_decay == 0.0


def test_early_stopping_holds_out_the_weights_with_their_rows():
    X, y = blobs(2, n_samples=100)
    X = numpy.column_stack([numpy.arange(100), X])  # column 0: the row's index
    classifier = MLPClassifier((5,), early_stopping=True, validation_fraction=0.2)
    weights = numpy.arange(100) + 1.0
    X_train, _, w_train, X_val, _, w_val = classifier._split(X, y.reshape(-1, 1).astype(float), 0, weights)
    numpy.testing.assert_array_equal(w_train, X_train[:, 0] + 1)
    numpy.testing.assert_array_equal(w_val, X_val[:, 0] + 1)
    unweighted = classifier._split(X, y.reshape(-1, 1).astype(float), 0)
    numpy.testing.assert_array_equal(unweighted[3], X_val)  # the same rows held out


def test_early_stopping_scores_with_the_held_out_weights():
    X, y = blobs(3)
    weights = numpy.random.default_rng(0).uniform(0, 2, size=len(y))
    classifier = tiny(MLPClassifier, early_stopping=True, validation_fraction=0.3, dtype="float64")
    classifier.fit(X, y, sample_weight=weights)
    T = classifier._label_binarizer.transform(y).astype(float)
    _, _, _, X_val, T_val, w_val = classifier._split(X, T, after_the_initial_weights([6, 8, 3]), weights)
    labels = classifier.predict(X_val)  # the best epoch's weights, which scored best_validation_score_
    expected = accuracy_score(T_val.argmax(axis=1), labels, sample_weight=w_val)
    assert classifier.best_validation_score_ == pytest.approx(expected, rel=1e-12)


def test_early_stopping_scores_a_regressor_with_the_held_out_weights_as_r2_score():
    X, labels = blobs(3)
    y = numpy.column_stack([labels + X[:, 0], X[:, 1]])
    weights = numpy.random.default_rng(0).uniform(0, 2, size=len(y))
    regressor = tiny(MLPRegressor, early_stopping=True, validation_fraction=0.3, dtype="float64")
    regressor.fit(X, y, sample_weight=weights)
    _, _, _, X_val, y_val, w_val = regressor._split(X, y, after_the_initial_weights([6, 8, 2]), weights)
    expected = r2_score(y_val, regressor.predict(X_val), sample_weight=w_val)
    assert regressor.best_validation_score_ == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(r2_score(y_val, regressor.predict(X_val)), rel=1e-6)  # the weights mattered


@pytest.mark.parametrize("weighted_part, refused_part", [("train", "held out"), ("held", "kept for training")])
def test_early_stopping_refuses_a_part_whose_weights_are_all_zero(weighted_part, refused_part):
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, early_stopping=True, validation_fraction=0.2)
    row_indices = numpy.arange(len(y), dtype=float)[:, None]
    T = numpy.eye(3)[y]  # three classes: the split is not stratified, so it does not depend on T
    train, _, _, held, _, _ = classifier._split(row_indices, T, after_the_initial_weights([6, 8, 3]))
    weights = numpy.zeros(len(y))
    weights[(train if weighted_part == "train" else held)[:, 0].astype(int)] = 1.0
    with pytest.raises(DataError, match=f"sample_weight: the weights of all .* early_stopping {refused_part} are zero"):
        classifier.fit(X, y, sample_weight=weights)


def test_sample_weight_none_trains_as_without_it():
    X, y = blobs(3)
    with_none = tiny(MLPClassifier).partial_fit(X, y, None, [0, 1, 2]).fit(X, y, sample_weight=None)
    without = tiny(MLPClassifier).partial_fit(X, y, classes=[0, 1, 2]).fit(X, y)
    for mine, expected in zip(with_none.coefs_, without.coefs_):
        numpy.testing.assert_array_equal(mine, expected)


@pytest.mark.parametrize("activation, factor", [("logistic", 2), ("sigmoid", 2), ("tanh", 6), ("relu", 6)])
def test_initial_weights_have_scikit_learns_bound(activation, factor):
    """U(−a, a) with a = √(factor / (n_in + n_out)): factor 2 for the logistic sigmoid, as there."""
    X, y = blobs(3, n_samples=300)
    classifier = MLPClassifier((200,), activation=activation, max_iter=1, learning_rate_init=1e-12,
                               random_state=0).fit(X, y)
    for W in classifier.coefs_:
        bound = numpy.sqrt(factor / sum(W.shape))
        assert numpy.abs(W).max() <= bound
        assert numpy.abs(W).max() > 0.95 * bound


def test_an_epsilon_that_rounds_to_zero_in_the_networks_dtype_names_epsilon():
    # Adam's own check would name it "eps", which is not the estimator's hyperparameter.
    X, y = blobs(3)
    with pytest.raises(HyperparameterError, match=r"^epsilon: expected a number >= 1.1754944e-38, the smallest "
                                                  r"normal float32 .*got 1e-40$"):
        tiny(MLPClassifier, epsilon=1e-40).fit(X, y)
    assert tiny(MLPClassifier, epsilon=1e-40, dtype="float64").fit(X, y).n_iter_ == 5  # an ordinary float64


# -- partial_fit's later calls: what a call keeps from the last, and its shortcuts ------------
def general_path(estimator):
    """``estimator`` made to take each later batch by the general path: scikit-learn's
    validate_data and label encoding, and a new optimizer loaded with the last one's state."""
    make_optimizer = estimator._make_optimizer

    def new_optimizer(weight_decay, previous=None):
        made = make_optimizer(weight_decay)
        if previous is not None:
            made.load_state_dict(previous.state_dict())
        return made

    estimator._continued_arrays = lambda X, y: None
    if isinstance(estimator, MLPClassifier):
        estimator._encode_known_labels = lambda y, classes: None
    estimator._make_optimizer = new_optimizer
    return estimator


@pytest.mark.parametrize("case", ["multiclass", "binary", "strings", "float64 rows", "classes each call",
                                  "sample weights", "sgd", "regressor", "two targets"])
def test_later_partial_fit_calls_train_exactly_as_the_general_path(case):
    X, y = blobs(3, n_samples=160)
    X = X.astype(numpy.float32)
    params, first, later = {}, {"classes": numpy.unique(y)}, {}
    if case == "binary":
        y = y % 2
        first = {"classes": [0, 1]}
    elif case == "strings":
        y = numpy.array(["ant", "bee", "cat"])[y]
        first = {"classes": numpy.unique(y)}
    elif case == "float64 rows":
        X = X.astype(numpy.float64)
    elif case == "classes each call":
        later = first
    elif case == "sample weights":
        later = {"sample_weight": numpy.linspace(0.5, 2, 32)}
    elif case == "sgd":
        params = {"solver": "sgd"}
    estimator_class = MLPRegressor if case in ("regressor", "two targets") else MLPClassifier
    if estimator_class is MLPRegressor:
        y, first = (X[:, 0] if case == "regressor" else X[:, :2]), {}
    ours, reference = (tiny(estimator_class, **params) for _ in range(2))
    general_path(reference)
    for estimator in (ours, reference):
        estimator.partial_fit(X[:32], y[:32], **first)
        for start in range(32, 160, 32):
            estimator.partial_fit(X[start:start + 32], y[start:start + 32], **later)
    numpy.testing.assert_array_equal(ours.model_.flat_parameters().theta, reference.model_.flat_parameters().theta)
    assert ours.loss_curve_ == reference.loss_curve_ and ours._optimizer.t == reference._optimizer.t == 5


@pytest.mark.parametrize("change", ["nan in X", "inf and -inf in X", "too large for float32", "inf in y",
                                    "narrower X", "float labels", "unknown label", "other classes",
                                    "a frame with names", "an array after a frame", "complex X", "y of another length",
                                    "string labels", "labels of object dtype", "numeric strings as y",
                                    "y too large for float32"])
def test_later_partial_fit_calls_refuse_what_the_general_path_refuses_alike(change):
    X, y = blobs(3)
    estimator_class = MLPRegressor if change in ("inf in y", "numeric strings as y", "y too large for float32") \
        else MLPClassifier
    if estimator_class is MLPRegressor:
        y = X[:, 0]
    X_later, y_later, later = X[:20].copy(), y[:20].copy(), {}
    if change == "nan in X":
        X_later[3, 1] = numpy.nan
    elif change == "inf and -inf in X":  # their sum is NaN: no warning of the fast path's own
        X_later[3, 1], X_later[4, 0] = numpy.inf, -numpy.inf
    elif change == "too large for float32":  # nor from its cast
        X_later[3, 1] = 1e39
    elif change == "inf in y":
        y_later[5] = numpy.inf
    elif change == "numeric strings as y":
        y_later = y_later.astype(str)
    elif change == "y too large for float32":
        y_later[5] = 1e39
    elif change == "narrower X":
        X_later = X_later[:, :4]
    elif change == "float labels":
        y_later = y_later + 0.5
    elif change == "unknown label":
        y_later[7] = 9
    elif change == "other classes":
        later = {"classes": [0, 1]}
    elif change == "complex X":
        X_later = X_later + 1j
    elif change == "y of another length":
        y_later = y_later[:19]
    elif change == "string labels":
        y_later = y_later.astype(str)
    elif change == "labels of object dtype":  # scikit-learn refuses their type, "unknown"
        y_later = y_later.astype(object)
    elif change == "an array after a frame":  # the fitted feature names warn
        pandas = pytest.importorskip("pandas")
        X = pandas.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    else:
        pandas = pytest.importorskip("pandas")
        X_later = pandas.DataFrame(X_later, columns=[f"x{i}" for i in range(X.shape[1])])
    errors = []
    for estimator in (tiny(estimator_class), general_path(tiny(estimator_class))):
        estimator.partial_fit(X, y, **({"classes": [0, 1, 2]} if estimator_class is MLPClassifier else {}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                estimator.partial_fit(X_later, y_later, **later)
                errors.append((None, [str(warning.message) for warning in caught]))
            except Exception as error:  # noqa: BLE001 (the error itself is compared)
                errors.append((type(error), str(error), [str(warning.message) for warning in caught]))
    assert errors[0] == errors[1]
    assert (errors[0][0] is None) == (change in ("a frame with names", "an array after a frame"))


class OneHyperparameter(MLPClassifier):
    def __init__(self, max_iter=3):
        super().__init__(hidden_layer_sizes=(4,), max_iter=max_iter, random_state=0)


class NoHyperparameter(MLPClassifier):
    def __init__(self):
        super().__init__(hidden_layer_sizes=(4,), max_iter=3, random_state=0)


@pytest.mark.parametrize("estimator_class", [OneHyperparameter, NoHyperparameter])
def test_a_subclass_taking_one_hyperparameter_or_none_fits_and_continues(estimator_class):
    X, y = blobs(3)
    estimator = estimator_class().fit(X, y)
    estimator.partial_fit(X, y)
    estimator.partial_fit(X, y)
    assert estimator._optimizer.t > 0 and len(estimator.loss_curve_) == 5


def test_a_hyperparameter_assigned_between_partial_fit_calls_is_checked_again():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier).partial_fit(X, y, classes=[0, 1, 2])
    classifier.partial_fit(X, y)
    classifier.learning_rate_init = -1.0  # assigned, not through set_params
    with pytest.raises(ValueError, match="'learning_rate_init' parameter of MLPClassifier must be"):
        classifier.partial_fit(X, y)
    classifier.learning_rate_init = 0.01
    classifier.partial_fit(X, y)
    assert classifier._optimizer.lr == 0.01


def test_partial_fit_keeps_its_optimizer_while_the_network_and_hyperparameters_stay():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, batch_size=30).partial_fit(X, y, classes=[0, 1, 2])
    optimizer = classifier._optimizer
    classifier.partial_fit(X, y)
    assert classifier._optimizer is optimizer and optimizer.t == 2 * 4  # 4 batches of 30 rows a call
    classifier.set_params(beta_1=0.8).partial_fit(X, y)  # a new optimizer, with the state of the last
    assert classifier._optimizer is not optimizer and classifier._optimizer.beta1 == 0.8
    assert classifier._optimizer.t == 3 * 4
    classifier.model_.astype("float64")  # another dtype: a new optimizer in it, as the network now computes
    classifier.set_params(dtype="float64").partial_fit(X, y)
    assert classifier._optimizer.state["m"].dtype == numpy.float64 and classifier._optimizer.t == 4 * 4
    classifier.model_ = network = copy.deepcopy(classifier.model_)  # assigned: a new optimizer steps it
    classifier.partial_fit(X, y)
    assert classifier._optimizer.model is network and classifier._optimizer.t == 5 * 4


def test_a_kept_optimizer_state_is_checked_as_a_loaded_one_is():
    X, y = blobs(3)
    classifier = tiny(MLPClassifier).partial_fit(X, y, classes=[0, 1, 2])
    classifier._optimizer.state["v"][3] = numpy.inf
    with pytest.raises(NonFiniteError, match="^Adam: saved state 'v': expected finite values, found inf at index"):
        classifier.partial_fit(X, y)


def test_a_divergence_before_any_step_advises_in_the_estimators_terms():
    """cr.fit's advice named standardize=True and standardize_targets=True, which the estimators have not."""
    X, y = blobs(3)
    with pytest.raises(cr.DivergenceError, match=r"before any step, so the learning rate is not the cause: .*"
                                                 r"scale X first \(a StandardScaler before the estimator in a "
                                                 r"Pipeline\), or scale y .*, or train in float64 \(dtype='float64'\)$"
                       ) as error:
        tiny(MLPRegressor).fit(X * 1e30, X[:, 0])
    assert error.value.at_start and "standardize" not in str(error.value)


def test_a_divergence_names_the_estimators_learning_rate():
    X, y = blobs(3)
    estimator = tiny(MLPRegressor, solver="sgd", learning_rate_init=1e3, momentum=0.9, max_iter=50)
    with pytest.raises(cr.DivergenceError, match=r"; the network keeps its last finite weights; try a lower "
                                                 r"learning_rate_init than 1000$"):
        estimator.fit(X, X[:, 0] * 10)


def test_a_divergence_is_a_value_error_as_scikit_learns():
    # scikit-learn's MLP raises ValueError ("Solver produced non-finite parameter weights"); cr.fit's
    # DivergenceError is a FloatingPointError, which `except ValueError` around fit did not catch
    X, y = blobs(3)
    at_start = tiny(MLPRegressor)
    later = tiny(MLPRegressor, solver="sgd", learning_rate_init=1e3, momentum=0.9, max_iter=50)
    partial = tiny(MLPRegressor, solver="sgd", learning_rate_init=1e3, momentum=0.9)
    nan_weights = tiny(MLPRegressor, warm_start=True).fit(X, X[:, 0])
    nan_weights.coefs_[0][...] = numpy.nan
    for fit in (lambda: at_start.fit(X * 1e30, X[:, 0]), lambda: later.fit(X, X[:, 0] * 10),
                lambda: [partial.partial_fit(X, X[:, 0] * 10) for _ in range(50)], lambda: nan_weights.fit(X, X[:, 0])):
        with pytest.raises(ValueError) as error:
            fit()
        assert isinstance(error.value, cr.DivergenceError)


def test_an_alpha_too_large_for_a_float_is_named():
    # alpha = 10**400 passes scikit-learn's Interval(Real, 0, None): alpha / batch_size raised OverflowError
    X, y = blobs(3)
    with pytest.raises(HyperparameterError, match=r"^alpha: expected a finite real number"):
        tiny(MLPClassifier, alpha=10**400).fit(X, y)


@pytest.mark.parametrize("name", ["tol", "learning_rate_init"])
def test_an_unbounded_hyperparameter_too_large_for_a_float_is_named(name):
    # 10**400 passes scikit-learn's Interval(Real, 0, None): tol raised OverflowError at the end of the first
    # epoch, and learning_rate_init was named as the optimizer's lr
    X, y = blobs(3)
    with pytest.raises(HyperparameterError, match=rf"^{name}: expected a finite real number"):
        tiny(MLPClassifier, **{name: 10**400}).fit(X, y)


def test_partial_fit_trains_the_network_as_it_is_now():
    # Between two calls, a layer frozen is no longer trained and a weight array replaced by hand
    # (of the same shape: the optimizer is kept) is the one trained.
    X, y = blobs(3)
    classifier = tiny(MLPClassifier, solver="sgd", momentum=0.9).partial_fit(X, y, classes=[0, 1, 2])
    network = classifier.model_
    network[0].trainable = False
    frozen = network.params["0.W"].copy()
    classifier.partial_fit(X, y)
    numpy.testing.assert_array_equal(network.params["0.W"], frozen)
    network[0].trainable = True
    network[2].own_params["W"] = numpy.full_like(network[2].own_params["W"], 0.1)
    network[2].own_grads["W"] = numpy.zeros_like(network[2].own_params["W"])
    optimizer = classifier._optimizer
    classifier.partial_fit(X, y)
    assert classifier._optimizer is optimizer
    assert not numpy.array_equal(network.params["0.W"], frozen)
    assert not numpy.array_equal(classifier.coefs_[1], numpy.full_like(classifier.coefs_[1], 0.1))
