"""chainrule.data.dataset: the Dataset container and the task-inference rule."""

import numpy
import pytest

from chainrule.data.dataset import Dataset, first_non_finite, infer_task, labels_for_task, position_names
from chainrule.errors import DTypeError, HyperparameterError, LabelError, ShapeError
from tests.harness import traced_peak


def make(**changes):
    parts = dict(
        X_train=numpy.zeros((4, 2)), y_train=numpy.array([0, 1, 0, 1]), X_test=None, y_test=None,
        task="classification", name="toy", feature_names=["a", "b"], label_name="y",
    )
    parts.update(changes)
    return Dataset(**parts)


def test_a_consistent_dataset_is_accepted():
    data = make(X_test=numpy.ones((2, 2)), y_test=numpy.array([1, 0]))
    assert data.X_test.shape == (2, 2) and data.task == "classification"


@pytest.mark.parametrize(
    "changes, fragment",
    [
        (dict(X_train=numpy.zeros(4)), "X_train must be 2-d"),
        (dict(y_train=numpy.zeros((4, 1))), "y_train must be 1-d"),
        (dict(y_train=numpy.zeros(3)), "X_train has 4 rows but y_train has 3"),
        (dict(X_test=numpy.zeros((2, 2))), "both be given or both be None"),
        (dict(X_test=numpy.zeros((2, 3)), y_test=numpy.zeros(2)), "X_test has 3 features, X_train has 2"),
        (dict(X_test=numpy.zeros((2, 2)), y_test=numpy.zeros(3)), "X_test has 2 rows but y_test has 3"),
        (dict(feature_names=["a"]), "1 feature names for 2 feature columns"),
    ],
)
def test_inconsistent_parts_raise_shape_error_naming_the_dataset(changes, fragment):
    with pytest.raises(ShapeError, match="toy") as caught:
        make(**changes)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("changes, named", [
    (dict(X_train=[[0.0, 1.0]] * 4), "X_train"), (dict(y_train=[0, 1, 0, 1]), "y_train"),
    (dict(X_test=[[0.0, 1.0]], y_test=numpy.array([1])), "X_test"),
])
def test_parts_that_are_not_numpy_arrays_are_named(changes, named):
    """A list raised a bare AttributeError ('list' object has no attribute 'ndim')."""
    with pytest.raises(DTypeError, match=rf"toy: {named} must be an array \(NumPy's, or a DataFrame or Series\), "
                                         rf"got list"):
        make(**changes)


def test_a_frame_and_series_are_taken():
    pandas = pytest.importorskip("pandas")
    data = make(X_train=pandas.DataFrame(numpy.zeros((4, 2)), columns=["a", "b"]), y_train=pandas.Series([0, 1, 0, 1]))
    assert data.X_train.shape == (4, 2)


def test_unknown_task_is_refused():
    with pytest.raises(HyperparameterError, match="multiclass"):
        make(task="multiclass")


@pytest.mark.parametrize(
    "labels, task",
    [
        (numpy.array(["cat", "dog", "cat"]), "classification"),
        (numpy.array([True, False, True]), "classification"),
        (numpy.arange(1000), "classification"),  # an integer dtype says "classes"
        (numpy.array([0.0, 1.0, 2.0] * 10), "classification"),
        (numpy.array([0.5, 1.0, 2.0] * 10), "regression"),  # not whole numbers
        (numpy.arange(51.0).repeat(4), "regression"),  # 51 distinct values > 50
        (numpy.arange(50.0).repeat(2), "classification"),  # 50 values, two rows each
        (numpy.arange(10.0).repeat(2)[:-1], "regression"),  # fewer than two rows per value
        (numpy.array([1.0, numpy.nan, 1.0, numpy.nan]), "regression"),
    ],
)
def test_infer_task_follows_the_documented_rule(labels, task):
    assert infer_task(labels) == task


def test_labels_for_task_makes_whole_float_classes_integers():
    y, task = labels_for_task(numpy.array([1.0, 2.0, 1.0, 2.0]), None, "here")
    assert task == "classification" and y.dtype == numpy.int64 and y.tolist() == [1, 2, 1, 2]


def test_labels_for_task_makes_regression_targets_float64():
    y, task = labels_for_task(numpy.array([1, 2, 3], dtype=numpy.int32), "regression", "here")
    assert task == "regression" and y.dtype == numpy.float64


def test_labels_for_task_refuses_string_regression_targets_naming_where():
    with pytest.raises(LabelError, match=r"prices\.csv.*numeric.*'cheap'"):
        labels_for_task(numpy.array(["cheap", "dear"]), "regression", "prices.csv")


def test_labels_for_task_refuses_an_unknown_task():
    with pytest.raises(HyperparameterError, match="task"):
        labels_for_task(numpy.array([0, 1]), "ranking", "here")


def test_first_non_finite_finds_the_first_bad_position_in_row_major_order():
    array = numpy.zeros((3, 4))
    array[2, 0] = numpy.inf
    array[1, 3] = numpy.nan
    assert first_non_finite(array) == (1, 3)
    assert first_non_finite(numpy.zeros((2, 2))) is None
    assert first_non_finite(numpy.array(["nan"])) is None  # strings are not numbers


def test_first_non_finite_sees_through_a_sum_that_overflows_or_cancels():
    largest = numpy.finfo(numpy.float32).max
    assert first_non_finite(numpy.full((3, 2), largest, dtype=numpy.float32)) is None  # the sum is inf
    array = numpy.array([[1.0, numpy.inf], [-numpy.inf, 2.0]])  # the sum is nan
    assert first_non_finite(array) == (0, 1)
    assert first_non_finite(numpy.array([numpy.nan + 1j, 0j])) == (0,)
    assert first_non_finite(numpy.zeros((0, 3))) is None


def test_first_non_finite_of_finite_rows_allocates_no_temporary_of_their_shape():
    """isfinite(X).all() allocated a boolean array of X's shape: a quarter of float32 rows."""
    X = numpy.random.default_rng(0).random((1000, 1000), dtype=numpy.float32)
    where, peak = traced_peak(lambda: first_non_finite(X))
    assert where is None and peak < X.nbytes / 100


def test_position_names_follow_the_row_shape():
    assert position_names("x", (3,)) == ["x0", "x1", "x2"]
    assert position_names("pixel_", (2, 2)) == ["pixel_0_0", "pixel_0_1", "pixel_1_0", "pixel_1_1"]


def test_labels_for_task_keeps_fractional_float_classes_as_they_are():
    y, task = labels_for_task(numpy.array([0.5, 1.5, 0.5, 2.0]), "classification", "here")
    assert task == "classification" and y.dtype.kind == "f"
    assert y.tolist() == [0.5, 1.5, 0.5, 2.0]  # not cut down to 0, 1, 0, 2
