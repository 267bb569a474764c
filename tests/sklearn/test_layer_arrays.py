"""coefs_ and intercepts_: assigning to them sets the network's weights, as in scikit-learn."""

import copy
import re

import numpy
import pytest
from sklearn import neural_network
from sklearn.exceptions import NotFittedError

from chainrule.errors import DTypeError, NonFiniteError, ShapeError
from chainrule.sklearn import MLPClassifier, MLPRegressor

from .test_conformance import blobs, no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)


def fitted(estimator_class=MLPClassifier, **params):
    X, y = blobs(3)
    return estimator_class(hidden_layer_sizes=(8,), max_iter=3, random_state=0, **params).fit(X, y), X, y


def test_assigning_scikit_learns_weights_gives_its_predictions():
    ours, X, y = fitted(dtype="float64")
    theirs = neural_network.MLPClassifier((8,), max_iter=3, random_state=1).fit(X, y)
    ours.coefs_ = theirs.coefs_
    for i, b in enumerate(theirs.intercepts_):
        ours.intercepts_[i] = b
    numpy.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_an_assigned_item_is_copied_into_the_network_in_its_dtype(estimator_class):
    estimator, X, _ = fitted(estimator_class)
    before = estimator.predict(X)
    W = numpy.zeros((6, 8))  # float64 into a float32 network
    estimator.coefs_[0] = W
    estimator.intercepts_[-1] = [0.5] * estimator.n_outputs_
    W[...] = 1  # a copy was made: the network does not follow the caller's array
    assert not estimator.model_.params["0.W"].any() and estimator.coefs_[0].dtype == numpy.float32
    numpy.testing.assert_array_equal(estimator.model_.params["2.b"], 0.5)
    assert not numpy.array_equal(estimator.predict(X), before)


def test_a_whole_list_is_checked_before_any_array_is_copied():
    classifier, _, _ = fitted()
    start = [W.copy() for W in classifier.coefs_]
    with pytest.raises(ShapeError, match=re.escape("coefs_[1]: expected shape (8, 3), the layer's, got shape (8, 2)")):
        classifier.coefs_ = [numpy.zeros((6, 8)), numpy.zeros((8, 2))]
    with pytest.raises(ShapeError, match=r"^coefs_: expected 2 arrays, .* got 1"):
        classifier.coefs_ = [numpy.zeros((6, 8))]
    with pytest.raises(DTypeError, match="^intercepts_: expected a sequence of arrays, got NoneType"):
        classifier.intercepts_ = None
    for W, before in zip(classifier.coefs_, start):
        numpy.testing.assert_array_equal(W, before)


@pytest.mark.parametrize("value, error, message", [
    (numpy.full((6, 8), numpy.nan), NonFiniteError, r"^coefs_\[0\]: expected finite values, found nan"),
    (numpy.full((6, 8), 1e39), NonFiniteError, r"^coefs_\[0\]: .*found 1e\+39 .* overflows float32"),
    (numpy.full((6, 8), "1"), DTypeError, r"^coefs_\[0\]: expected real numbers, got dtype <U1"),
    (numpy.zeros((8, 6)), ShapeError, r"^coefs_\[0\]: expected shape \(6, 8\), the layer's, got shape \(8, 6\)"),
])
def test_a_bad_array_raises_a_chainrule_error_naming_its_item(value, error, message):
    classifier, _, _ = fitted()
    with pytest.raises(error, match=message):
        classifier.coefs_[0] = value


def test_the_lists_cannot_change_length_or_order():
    classifier, _, _ = fitted()
    for change in (lambda arrays: arrays.append(arrays[0]), lambda arrays: arrays.pop(),
                   lambda arrays: arrays.reverse()):
        with pytest.raises(ShapeError, match="^intercepts_: the network's 2 layers are fixed"):
            change(classifier.intercepts_)
    with pytest.raises(IndexError, match="coefs_: index 2 is out of range"):
        classifier.coefs_[2] = numpy.zeros((8, 3))


def test_a_copy_of_the_list_is_a_plain_list_of_other_arrays():
    classifier, _, _ = fitted()
    copied = copy.deepcopy(classifier.coefs_)
    copied[0][...] = 0
    assert type(copied) is list and classifier.coefs_[0].any()


def test_an_unfitted_estimator_has_no_weights_to_read_or_set():
    # reading raised "'MLPClassifier' object has no attribute 'model_'", naming an attribute the user never read;
    # NotFittedError is an AttributeError too, so hasattr stays False
    for name in ("coefs_", "intercepts_"):
        with pytest.raises(NotFittedError, match="This MLPClassifier instance is not fitted yet"):
            getattr(MLPClassifier(), name)
    with pytest.raises(NotFittedError):
        MLPClassifier().coefs_ = [numpy.zeros((6, 8))]
    assert not hasattr(MLPRegressor(), "intercepts_")
