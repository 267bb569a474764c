"""chainrule.sklearn._checked_data: the estimators refuse NaN, Inf, values beyond their dtype and
empty X with chainrule's errors, and keep scikit-learn's messages for the rest."""

import itertools
import warnings

import numpy
import pytest

import chainrule as cr
from chainrule.errors import NonFiniteError, ShapeError
from chainrule.sklearn import MLPClassifier, MLPRegressor

from .test_conformance import blobs, no_convergence_warnings  # noqa: F401 (an autouse fixture, shared)

HINT = r"; the network needs finite inputs, as scikit-learn's MLP does: fill in missing values \(NaN\) first"


def tiny(estimator_class, **params):
    return estimator_class(**{"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params})


def with_value(X, value, row=3, column=2):
    X = X.copy()
    X[row, column] = value
    return X


def calls(estimator_class):
    """(name, call(X, y)) for each method that reads X: a first fit, a fit and a partial_fit that continue
    (whose arrays skip scikit-learn's checks when they pass chainrule's own), and predict."""
    X, y = blobs(3)
    fitted = tiny(estimator_class, warm_start=True).fit(X, y)
    return [("fit", lambda X, y: tiny(estimator_class).fit(X, y)),
            ("warm fit", lambda X, y: fitted.fit(X, y)),
            ("partial_fit", lambda X, y: fitted.partial_fit(X, y)),
            ("predict", lambda X, y: fitted.predict(X))]


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("value, shown", [(numpy.nan, "nan"), (numpy.inf, "inf"), (-numpy.inf, "-inf")])
def test_a_non_finite_x_is_a_non_finite_error_naming_its_index(estimator_class, value, shown):
    # scikit-learn's plain ValueError "Input X contains NaN." before, which except cr.ChainruleError missed
    X, y = blobs(3)
    for name, call in calls(estimator_class):
        with pytest.raises(NonFiniteError, match=rf"^X: expected finite values, found {shown} at index \(3, 2\) "
                                                 rf"\(1 non-finite value in all\){HINT}"):
            call(with_value(X, value), y)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_a_value_of_x_beyond_float32_is_named_with_the_dtype_hint(estimator_class):
    # "Input X contains infinity or a value too large for dtype('float32')", although X held no infinity,
    # after NumPy's "overflow encountered in cast" (a FloatingPointError under numpy.errstate(all="raise"))
    X, y = blobs(3)
    message = (r"^X: expected finite values, found 1e\+39 at index \(3, 2\), which overflows float32, whose largest "
               r"finite value is 3\.40282e\+38 .*; fit with dtype='float64' or rescale X$")
    for (name, call), errors in itertools.product(calls(estimator_class), ["warn", "raise"]):
        with warnings.catch_warnings(), numpy.errstate(all=errors):
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises(NonFiniteError, match=message):
                call(with_value(X, 1e39), y)
    assert numpy.isfinite(tiny(estimator_class, dtype="float64").fit(with_value(X, 1e39), y).predict(X)).all()


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_an_int_of_x_beyond_float64_is_named_by_its_index(estimator_class):
    # an object X (or a list) holding 10**400 raised float()'s bare OverflowError ("int too large to convert to float")
    X, y = blobs(3)
    message = (r"^X: expected finite values, found 1000000000.* at index \(3, 2\), which overflows float64 \(an int "
               r"too large for a float\); rescale X$")
    for name, call in calls(estimator_class):
        with pytest.raises(NonFiniteError, match=message):
            call(with_value(X.astype(object), 10**400), y)
    with pytest.raises(NonFiniteError, match=message):
        tiny(estimator_class).fit(with_value(X.astype(object), 10**400).tolist(), y)


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_an_x_without_rows_is_a_shape_error(estimator_class):
    X, y = blobs(3)
    for name, call in calls(estimator_class):
        with pytest.raises(ShapeError, match=r"^X has no rows \(shape \(0, 6\)\); expected at least 1$"):
            call(X[:0], y[:0])


@pytest.mark.parametrize("estimator_class, value", [(MLPRegressor, numpy.inf), (MLPRegressor, numpy.nan),
                                                    (MLPClassifier, numpy.nan)])
def test_a_non_finite_y_is_a_non_finite_error_naming_its_index(estimator_class, value):
    X, y = blobs(3)
    y = y.astype(float)
    y[7] = value
    for name, call in calls(estimator_class)[:3]:
        with pytest.raises(NonFiniteError, match=rf"^y: expected finite values, found {value!r} at index \(7,\)"):
            call(X, y)


def test_a_nan_in_an_object_y_of_the_regressor_is_named_by_its_index():
    # scikit-learn's bare ValueError "Input contains NaN", naming neither y nor the index
    X, _ = blobs(3)
    y = numpy.array(X[:, 0].tolist(), dtype=object)
    y[7] = float("nan")
    for name, call in calls(MLPRegressor)[:3]:
        with pytest.raises(NonFiniteError, match=r"^y: expected finite values, found nan at index \(7,\)"):
            call(X, y)


def test_a_missing_value_in_a_dataframe_is_named_by_its_column_and_row():
    pandas = pytest.importorskip("pandas")
    X, y = blobs(3)
    frame = pandas.DataFrame(with_value(X, numpy.nan), columns=list("abcdef"))
    with pytest.raises(NonFiniteError, match=rf"^X: expected finite values, found nan in column 2 \('c'\) at row 3 "
                                             rf"\(1 non-finite value in all\){HINT}"):
        tiny(MLPClassifier).fit(frame, y)


def test_every_refusal_of_the_data_is_a_chainrule_error_and_a_value_error():
    X, y = blobs(3)
    for bad_X, bad_y in [(with_value(X, numpy.nan), y), (X, numpy.r_[numpy.inf, y[1:]]), (X[:0], y[:0])]:
        with pytest.raises(cr.ChainruleError) as caught:
            tiny(MLPRegressor).fit(bad_X, bad_y)
        assert isinstance(caught.value, ValueError)  # what scikit-learn's callers catch


def test_what_chainrule_does_not_check_keeps_scikit_learns_message():
    X, y = blobs(3)
    fitted = tiny(MLPClassifier).fit(X, y)
    for call, message in [(lambda: fitted.predict(X[:, :4]), "X has 4 features, but MLPClassifier is expecting 6"),
                          (lambda: tiny(MLPClassifier).fit(X[:, :0], y), r"0 feature\(s\)"),
                          (lambda: fitted.predict(X + 1j), "Complex data not supported"),
                          (lambda: tiny(MLPClassifier).fit(X[:, 0], y), "Expected 2D array, got 1D array")]:
        with pytest.raises(ValueError, match=message) as caught:
            call()
        assert not isinstance(caught.value, cr.ChainruleError)
