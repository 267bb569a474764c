"""chainrule.training.prepare: what ``fit`` does to X, y, the weights and the validation data
before the first step."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.data import Preprocessor
from chainrule.errors import QUOTE_LIMIT
from chainrule.training.prepare import (as_fraction, as_label_vector, as_targets, check_one_target_per_row,
                                        default_loss, encode_earlier_classes, fit_preprocessor, prepare_targets,
                                        reuse_preprocessor, split_validation, warn_if_one_hot,
                                        warn_if_output_activation, weigh_classes)


def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def test_a_held_out_fraction_keeps_each_rows_weight():
    X, y = iris()
    X = np.column_stack([np.arange(len(y)), X])  # column 0: the row's index
    weights = np.arange(len(y)) + 1.0
    seed = np.random.SeedSequence(0)
    train_rows, y_train, w_train, X_val, y_val, w_val = split_validation(X, y, weights, 0.2, cr.SoftmaxCrossEntropy(),
                                                                         np.float64, seed)
    np.testing.assert_array_equal(w_train, train_rows + 1)
    np.testing.assert_array_equal(y_train, y[train_rows])
    np.testing.assert_array_equal(w_val, X_val[:, 0] + 1)
    np.testing.assert_array_equal(y_val, y[X_val[:, 0].astype(int)])
    assert len(w_val) == 30
    assert sorted(train_rows.tolist() + X_val[:, 0].astype(int).tolist()) == list(range(150))  # no copy of X's


def test_a_held_out_fraction_is_stratified_and_drawn_from_the_seed():
    X, y = iris()
    split = split_validation(X, y, None, 0.2, cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(0))
    assert np.bincount(split[4]).tolist() == [10, 10, 10]
    again = split_validation(X, y, None, 0.2, cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(0))
    other = split_validation(X, y, None, 0.2, cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(1))
    np.testing.assert_array_equal(split[3], again[3])
    assert not np.array_equal(split[3], other[3])


def test_no_validation_and_a_given_set_leave_the_training_rows_whole():
    X, y = iris()
    seed = np.random.SeedSequence(0)
    assert split_validation(X, y, None, None, cr.SoftmaxCrossEntropy(), np.float64, seed)[3:] == (None, None, None)
    assert split_validation(X, y, None, None, cr.SoftmaxCrossEntropy(), np.float64, seed)[0] is None  # all rows
    train_rows, _, _, X_val, y_val, w_val = split_validation(X, y, None, (X[:5], y[:5, None], np.ones(5)),
                                                             cr.SoftmaxCrossEntropy(), np.float64, seed)
    assert train_rows is None
    assert (X_val.shape, y_val.shape, w_val.tolist()) == ((5, 4), (5,), [1.0] * 5)  # a column of labels flattened


@pytest.mark.parametrize("validation, error, fragment", [
    ((1, 2, 3, 4), cr.HyperparameterError, "got a tuple of 4 items"),
    (1.5, cr.HyperparameterError, r"validation: expected a fraction in \(0, 1\)"),
    (True, cr.HyperparameterError, "got True"),
    ((np.zeros((0, 4)), np.zeros(0, dtype=int)), cr.ShapeError, "X_val has no rows"),
    ((np.zeros((3, 4)), np.zeros(2, dtype=int)), cr.ShapeError, r"y_val: expected 3 targets \(one per row of X_val\)"),
])
def test_bad_validation_is_refused_naming_it(validation, error, fragment):
    X, y = iris()
    with pytest.raises(error, match=fragment):
        split_validation(X, y, None, validation, cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(0))


def test_a_validation_list_is_refused_saying_a_tuple_is_expected_without_quoting_the_arrays():
    X, y = iris()
    with pytest.raises(cr.HyperparameterError) as refused:
        split_validation(X, y, None, [X[:50], y[:50]], cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(0))
    assert str(refused.value) == ("validation: expected a fraction in (0, 1) or a tuple (X_val, y_val) or (X_val, "
                                  "y_val, w_val), got a list of 2 items; pass tuple(validation)")
    with pytest.raises(cr.HyperparameterError) as refused:  # an array's repr, cut (it was printed whole)
        split_validation(X, y, None, X, cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(0))
    assert str(refused.value).endswith(", got " + repr(X)[:QUOTE_LIMIT] + "...")


def test_a_fraction_is_the_float_it_was_written_as():
    assert as_fraction(np.float32(0.2)) == 0.2
    assert as_fraction(1) == 1.0 and type(as_fraction(1)) is float


def test_labels_train_cross_entropy_and_floats_mse():
    assert isinstance(default_loss(np.array(["a", "b"])), cr.SoftmaxCrossEntropy)
    assert isinstance(default_loss(np.array([1, 2])), cr.SoftmaxCrossEntropy)
    assert isinstance(default_loss(np.array([1.0, 2.0])), cr.MSE)


def test_a_column_of_labels_is_one_label_per_row_for_classification_only():
    labels = np.array([["a"], ["b"]])
    assert as_label_vector(labels, cr.SoftmaxCrossEntropy()).shape == (2,)
    assert as_label_vector(labels, cr.MSE()).shape == (2, 1)
    assert as_label_vector(np.array([[0.5], [1.0]]), cr.SoftmaxCrossEntropy()).shape == (2, 1)


def test_one_target_per_row_is_required():
    check_one_target_per_row(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(cr.ShapeError, match=r"y: expected 3 targets \(one per row of X\), got shape \(2,\)"):
        check_one_target_per_row(np.zeros((3, 2)), np.zeros(2))


def test_one_hot_float_rows_as_wide_as_the_outputs_are_warned_of():
    one_hot = np.eye(3)[[0, 2, 1, 0]]
    with pytest.warns(cr.OneHotTargetsWarning, match="every row is one-hot over the 3 outputs"):
        warn_if_one_hot(one_hot, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_one_hot(one_hot, 4)  # not as wide as the outputs
        warn_if_one_hot(one_hot * 0.5, 3)  # not one-hot
        warn_if_one_hot(np.array([[1.0], [0.0]]), 1)


def test_a_softmax_before_a_cross_entropy_is_warned_of():
    squashed = cr.Sequential(cr.Linear(2, 3), cr.Sequential(cr.Softmax(), cr.Identity()))
    with pytest.warns(cr.OutputActivationWarning, match="its last layer is a Softmax"):
        warn_if_output_activation(squashed, cr.SoftmaxCrossEntropy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_output_activation(squashed, cr.MSE())
        warn_if_output_activation(cr.mlp([2, 3], seed=0), cr.SoftmaxCrossEntropy())


def test_an_earlier_preprocessor_is_kept_only_where_this_call_agrees_with_it():
    earlier = Preprocessor.fit(np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([0, 1]), "classification")
    X = np.zeros((2, 2))
    assert reuse_preprocessor(earlier, X, cr.SoftmaxCrossEntropy(), None) is earlier
    with pytest.raises(cr.HyperparameterError, match="standardize=False: the model's preprocessor standardizes"):
        reuse_preprocessor(earlier, X, cr.SoftmaxCrossEntropy(), False)
    with pytest.raises(cr.HyperparameterError, match="is for classification but MSE trains for regression"):
        reuse_preprocessor(earlier, X, cr.MSE(), None)
    with pytest.raises(cr.ShapeError, match="expects rows of 2 features, got 3"):
        reuse_preprocessor(earlier, np.zeros((2, 3)), cr.SoftmaxCrossEntropy(), None)


def test_integer_labels_that_name_the_outputs_keep_their_indices():
    X = np.zeros((3, 2))
    made = fit_preprocessor(X, np.array([0, 2, 2]), cr.SoftmaxCrossEntropy(), 3, standardize=False)
    assert made.classes == [0, 1, 2]
    assert fit_preprocessor(X, np.array(["a", "b", "a"]), cr.SoftmaxCrossEntropy(), 2, False).classes == ["a", "b"]
    with pytest.raises(cr.LabelError, match="the model has 1 outputs but y holds 2 classes .*binary_cross_entropy"):
        fit_preprocessor(X, np.array(["a", "b", "a"]), cr.SoftmaxCrossEntropy(), 1, False)


def test_a_column_of_float_labels_is_refused_with_a_hint_to_ravel_it():
    with pytest.raises(cr.ShapeError, match=r"y_val: .*for one class label per row pass y_val.ravel\(\)"):
        prepare_targets(cr.SoftmaxCrossEntropy(), np.array([[0.0], [1.0]]), 3, np.float64, name="y_val")


def test_labels_unknown_to_an_earlier_fit_say_where_the_classes_came_from():
    earlier = Preprocessor.fit(np.zeros((2, 1)), np.array(["a", "b"]), "classification", standardize=False)
    assert encode_earlier_classes(earlier, np.array(["b", "a"])).tolist() == [1, 0]
    with pytest.raises(cr.LabelError, match=r"the model's classes come from its earlier fit"):
        encode_earlier_classes(earlier, np.array(["c"]))


def test_class_weights_multiply_the_sample_weights():
    preprocessor = Preprocessor.fit(np.zeros((4, 1)), np.array([0, 0, 0, 1]), "classification", standardize=False)
    T = np.array([0, 0, 0, 1])
    balanced = weigh_classes(T, preprocessor, "balanced", None)
    np.testing.assert_allclose(balanced, [4 / 6, 4 / 6, 4 / 6, 2.0])  # n / (K · n_c)
    np.testing.assert_allclose(weigh_classes(T, preprocessor, "balanced", np.array([1.0, 2, 0, 1])),
                               balanced * [1, 2, 0, 1])
    regression = Preprocessor.fit(np.zeros((4, 1)), np.zeros(4), "regression", standardize=False)
    with pytest.raises(cr.HyperparameterError, match="class_weight: needs class labels .*targets for regression!"):
        weigh_classes(np.zeros(4), regression, "balanced", None, float_hint="!")


@pytest.mark.parametrize("validation", [0, 0.0])
def test_a_validation_fraction_of_0_holds_out_nothing(validation):
    X, y = iris()
    split = split_validation(X, y, None, validation, cr.SoftmaxCrossEntropy(), np.float64, np.random.SeedSequence(0))
    assert split[3:] == (None, None, None) and split[0] is None and len(split[1]) == len(X)


def test_a_held_out_fraction_keeps_weights_of_zero_where_each_side_has_a_positive_one():
    X, y = iris()
    weights = np.ones(len(y))
    weights[::2] = 0
    _, _, w_train, _, _, w_val = split_validation(X, y, weights, 0.2, cr.SoftmaxCrossEntropy(), np.float64,
                                                  np.random.SeedSequence(0))
    assert not w_train.all() and w_train.any() and not w_val.all() and w_val.any()


def test_one_hot_float_rows_over_two_outputs_are_warned_of():
    with pytest.warns(cr.OneHotTargetsWarning, match="every row is one-hot over the 2 outputs"):
        warn_if_one_hot(np.eye(2)[[0, 1, 1]], 2)


@pytest.mark.parametrize("dtype", [bool, np.int64])
def test_zero_one_columns_taken_for_probability_rows_suggest_binary_cross_entropy(dtype):
    X = np.random.default_rng(0).normal(size=(40, 4))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(dtype)  # several labels per row, by default softmax's targets
    with pytest.raises(cr.LabelError, match=r"^y: SoftmaxCrossEntropy: target rows must be non-negative and sum "
                                            r"to 1 .*; for several labels per row \(0/1 columns\) pass "
                                            r"loss='binary_cross_entropy'$"):
        cr.fit(cr.mlp([4, 8, 2], seed=0), X, Y, epochs=1, verbose=0)
    with pytest.raises(cr.LabelError, match=r"^y: SoftmaxCrossEntropy: target rows must be non-negative.*\)$"):
        cr.fit(cr.mlp([4, 8, 2], seed=0), X, Y * 0.5, loss="cross_entropy", epochs=1, verbose=0)  # floats: no hint
    cr.fit(cr.mlp([4, 8, 2], seed=0), X, Y, loss="binary_cross_entropy", epochs=1, verbose=0)


@pytest.mark.parametrize("loss, bad, error, message", [
    ("cross_entropy", lambda Y: Y * 0.5, cr.LabelError, r"SoftmaxCrossEntropy: target rows must be non-negative"),
    ("cross_entropy", lambda Y: np.c_[Y, Y], cr.ShapeError, r"SoftmaxCrossEntropy: expected labels \(n_samples,\) or"),
    ("binary_cross_entropy", lambda Y: Y * 2, cr.LabelError, r"BinaryCrossEntropy: targets must lie in \[0, 1\]"),
])
def test_targets_a_loss_refuses_are_named_y_or_y_val(loss, bad, error, message):
    """The loss's error named the loss alone: bad validation targets read as if y were bad."""
    X = np.random.default_rng(0).normal(size=(40, 4))
    Y = np.c_[X[:, 0] > 0, X[:, 0] <= 0].astype(float)
    with pytest.raises(error, match=f"^y: {message}"):
        cr.fit(cr.mlp([4, 2], seed=0), X, bad(Y), loss=loss, epochs=1, verbose=0)
    with pytest.raises(error, match=f"^y_val: {message}"):
        cr.fit(cr.mlp([4, 2], seed=0), X, Y, loss=loss, validation=(X, bad(Y)), epochs=1, verbose=0)
    model = cr.mlp([4, 2], seed=0)
    cr.fit(model, X, Y, loss=loss, epochs=1, verbose=0)
    with pytest.raises(error, match=f"^y: {message}"):
        cr.evaluate(model, X, bad(Y))


# -- y as fit reads it: object arrays, lists mixing kinds, missing labels ---------------------------


def test_an_object_array_of_numbers_is_read_as_the_numbers_it_holds():
    floats = np.random.default_rng(0).normal(size=6)
    read = as_targets(floats.astype(object), "y")
    assert read.dtype == np.float64 and np.array_equal(read, floats)
    assert as_targets(np.array([[2], [0]], dtype=object), "y").dtype == np.int64
    assert as_targets(np.array([1, 2.5, np.int64(1)], dtype=object), "y").tolist() == [1.0, 2.5, 1.0]
    # booleans alone are a bool array (a pandas "boolean" column: binary cross-entropy refused dtype object)
    assert as_targets(np.array([True, np.bool_(False)], dtype=object), "y").dtype == bool
    assert as_targets(np.array(["a", "b"], dtype=object), "y").dtype == object


@pytest.mark.parametrize("y, error, message", [
    ([True, False, 2] * 10, cr.LabelError, "labels must be all numbers or all strings, got labels of types bool, int"),
    (["a", float("nan"), "b"] * 10, cr.NonFiniteError, r"found a missing value \(nan\) at index \(1,\)"),
])
def test_a_list_is_refused_as_the_object_array_of_its_items_is(y, error, message):
    # NumPy made [True, False, 2] numbers (classes 0, 1, 2) and ["a", nan] text ("nan" a class)
    X = np.random.default_rng(0).normal(size=(30, 3))
    for given in (y, np.array(y, dtype=object)):
        with pytest.raises(error, match=message):
            cr.fit(cr.mlp([3, 8, 3], seed=0), X, given, epochs=1, verbose=0)


def test_numpy_strings_with_a_missing_value_name_it():
    string_dtype = getattr(np.dtypes, "StringDType", None) if hasattr(np, "dtypes") else None
    if string_dtype is None:
        pytest.skip("NumPy before 2.0 has no StringDType")
    y = np.array(["a", None, "b"], dtype=string_dtype(na_object=None))  # a raw ValueError from numpy.unique before
    with pytest.raises(cr.NonFiniteError, match=r"found a missing value \(None\) at index \(1,\)"):
        as_targets(y, "y")


def test_fit_trains_an_object_array_of_floats_as_the_float64_regression_targets():
    # It was taken as one class per distinct float: "the model has 1 outputs but y holds 40 classes".
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    as_objects, as_floats = cr.mlp([3, 8, 1], seed=0), cr.mlp([3, 8, 1], seed=0)
    cr.fit(as_objects, X, pd.Series(y, dtype=object), epochs=2, verbose=0)
    cr.fit(as_floats, X, y, epochs=2, verbose=0)
    assert as_objects.preprocessor.task == "regression"
    assert np.array_equal(as_objects.flat_parameters().theta, as_floats.flat_parameters().theta)


@pytest.mark.parametrize("labels", [[1, "2"] * 20, [1, "1"] * 20, [[True], ["a"]] * 20])
@pytest.mark.parametrize("validation", [None, 0.25])
def test_a_list_mixing_numbers_and_strings_is_refused_as_its_object_array_is(labels, validation):
    # NumPy made strings of it: [1, "2"] trained the classes '1' and '2'.
    X = np.random.default_rng(0).normal(size=(40, 3))
    types = "bool, str" if isinstance(labels[0], list) else "int, str"
    for y in (labels, np.array(labels, dtype=object)):
        with pytest.raises(cr.LabelError, match=f"^y: labels must be all numbers or all strings, got labels of types "
                                                f"{types}$"):
            cr.fit(cr.mlp([3, 8, 2], seed=0), X, y, epochs=1, verbose=0, validation=validation)


def missing_label_cases():
    pd = pytest.importorskip("pandas")
    labels = np.where(np.arange(40) % 3 == 0, "yes", "no").astype(object)
    missing = lambda column: column.where(column.index != 17)  # noqa: E731 -- NaN or pd.NA at row 17
    return {
        "object str with NaN": (missing(pd.Series(labels)), "nan"),
        "string dtype with NA": (missing(pd.Series(labels, dtype="string")), "<NA>"),
        "categorical with NaN": (missing(pd.Series(pd.Categorical(labels))), "nan"),
        "boolean dtype with NA": (missing(pd.Series(labels == "yes", dtype="boolean")), "<NA>"),
        "list with None": (labels[:17].tolist() + [None] + labels[18:].tolist(), "None"),
    }


@pytest.mark.parametrize("case", ["object str with NaN", "string dtype with NA", "categorical with NaN",
                                  "boolean dtype with NA", "list with None"])
def test_a_missing_label_is_named_with_its_index_as_a_nan_in_a_float_y_is(case):
    # It was "labels must be all numbers or all strings, got labels of types float, str", with no row.
    y, shown = missing_label_cases()[case]
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(cr.NonFiniteError, match=f"^y: expected a label or target in every row, found a missing value "
                                                f"\\({shown}\\) at index \\(17,\\) \\(1 missing in all\\)"):
        cr.fit(cr.mlp([3, 8, 2], seed=0), X, y, epochs=1, verbose=0, validation=0.25)


def test_a_missing_target_in_an_object_column_is_named_with_its_row_and_column():
    y = np.array([["a", "b"], ["a", None]], dtype=object)
    with pytest.raises(cr.NonFiniteError, match=r"^y_val: .* found a missing value \(None\) at index \(1, 1\)"):
        as_targets(y, "y_val")
