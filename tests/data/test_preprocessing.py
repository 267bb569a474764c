"""chainrule.data.preprocessing: standardization and labels, fitted on training rows only."""

import json
import re
import warnings

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.data import Preprocessor, load_data
from chainrule.data.preprocessing import check_preprocessor
from chainrule.errors import DataError, DTypeError, LabelError, NonFiniteError, ShapeError
from tests.harness import traced_peak


def fitted(task="classification"):
    X_train = numpy.array([[0.0, 5.0, 1.0], [2.0, 5.0, 3.0], [4.0, 5.0, 8.0]])
    y_train = numpy.array(["dog", "cat", "dog"])
    return Preprocessor.fit(X_train, y_train if task == "classification" else numpy.arange(3.0), task)


def test_statistics_come_from_the_training_rows_only():
    data = load_data("wine", seed=0)
    preprocessor = Preprocessor.fit(data.X_train, data.y_train, data.task)
    assert numpy.allclose(preprocessor.mean, data.X_train.mean(axis=0))
    assert numpy.allclose(preprocessor.scale, data.X_train.std(axis=0))
    expected = (data.X_test - data.X_train.mean(axis=0)) / data.X_train.std(axis=0)
    assert numpy.allclose(preprocessor.transform(data.X_test, dtype=numpy.float64), expected)
    # The test rows are not standardized by their own statistics.
    assert not numpy.allclose(preprocessor.transform(data.X_test).mean(axis=0), 0, atol=1e-3)


def test_constant_feature_gets_scale_one_and_becomes_zero():
    preprocessor = fitted()
    assert preprocessor.scale[1] == 1.0
    assert numpy.all(preprocessor.transform(numpy.array([[1.0, 5.0, 2.0]]))[:, 1] == 0)


def test_a_column_constant_up_to_rounding_is_constant():
    # 0.1 in every row: the float64 mean is off by a few ulps and the deviation is ~1e-15,
    # which would turn a later 0.1000001 into ~7e7.
    X = numpy.column_stack([numpy.full(1000, 0.1), numpy.arange(1000.0) % 7])
    preprocessor = Preprocessor.fit(X, numpy.arange(1000) % 2, "classification")
    assert X[:, 0].std() > 0  # the rounding this test is about
    assert preprocessor.scale[0] == 1.0
    assert abs(preprocessor.transform(numpy.array([[0.1000001, 3.0]]), dtype=numpy.float64)[0, 0]) < 1e-6


def test_a_tiny_but_real_spread_is_kept():
    X = numpy.column_stack([numpy.r_[numpy.full(999, 1e6), 1e6 + 1e-3], numpy.arange(1000.0)])
    preprocessor = Preprocessor.fit(X, numpy.arange(1000) % 2, "classification")
    assert preprocessor.scale[0] == pytest.approx(X[:, 0].std())


def test_transform_returns_the_requested_dtype():
    assert fitted().transform(numpy.zeros((2, 3))).dtype == numpy.float32
    assert fitted().transform(numpy.zeros((2, 3)), dtype=numpy.float64).dtype == numpy.float64


def test_without_standardization_inputs_pass_through():
    preprocessor = Preprocessor.fit(numpy.ones((2, 2)), numpy.array([0, 1]), "classification", standardize=False)
    assert preprocessor.mean is None and preprocessor.transform(numpy.full((1, 2), 7.0)).tolist() == [[7.0, 7.0]]


def test_string_labels_encode_and_decode_round_trip():
    preprocessor = fitted()
    assert preprocessor.classes == ["cat", "dog"] and preprocessor.n_classes == 2
    labels = numpy.array(["dog", "dog", "cat"])
    indices = preprocessor.encode(labels)
    assert indices.tolist() == [1, 1, 0]
    assert preprocessor.decode(indices).tolist() == labels.tolist()


@given(hnp.arrays(numpy.int64, st.integers(2, 30), elements=st.integers(-5, 5)))
def test_integer_labels_round_trip(labels):
    if len(numpy.unique(labels)) < 2:
        labels = numpy.append(labels, labels[0] + 1)
    preprocessor = Preprocessor.fit(numpy.zeros((len(labels), 1)), labels, "classification")
    indices = preprocessor.encode(labels)
    assert indices.min() == 0 and indices.max() == preprocessor.n_classes - 1
    assert preprocessor.decode(indices).tolist() == labels.tolist()


def test_unknown_label_raises_label_error_naming_it():
    with pytest.raises(LabelError, match=r"'emu'.*\['cat', 'dog'\]"):
        fitted().encode(numpy.array(["cat", "emu"]))


def test_a_single_class_raises_label_error():
    with pytest.raises(LabelError, match="at least 2 classes"):
        Preprocessor.fit(numpy.zeros((3, 1)), numpy.array([4, 4, 4]), "classification")


def test_regression_has_no_classes():
    preprocessor = fitted("regression")
    assert preprocessor.classes is None and preprocessor.n_classes is None


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_json_round_trip(task):
    preprocessor = fitted(task)
    restored = Preprocessor.from_json(json.loads(json.dumps(preprocessor.to_json())))
    assert restored.n_features == 3 and restored.task == task and restored.classes == preprocessor.classes
    assert numpy.array_equal(restored.mean, preprocessor.mean)
    assert numpy.array_equal(restored.scale, preprocessor.scale)
    rows = numpy.array([[1.0, 2.0, 3.0]])
    assert numpy.array_equal(restored.transform(rows), preprocessor.transform(rows))


def test_json_of_classes_from_numpy_labels_is_plain():
    preprocessor = Preprocessor.fit(numpy.zeros((2, 1)), numpy.array([3, 9]), "classification")
    saved = json.dumps(preprocessor.to_json())  # numpy integers would not serialize
    assert Preprocessor.from_json(json.loads(saved)).classes == [3, 9]


def malformed_cases():
    good = fitted().to_json()
    missing_mean = {key: value for key, value in good.items() if key != "mean"}
    return {
        "missing key": missing_mean,
        "not a dict": ["n_features", 3],
        "text width": {**good, "n_features": "three"},
        "text mean": {**good, "mean": ["a", "b", "c"]},
        "short mean": {**good, "mean": [0.0, 1.0]},
        "long scale": {**good, "scale": [1.0] * 4},
        "unknown task": {**good, "task": "ranking"},
        "classes not a list": {**good, "classes": "cd"},
        "no features": {**good, "n_features": 0, "mean": None, "scale": None},
        "width as text of a number": {**good, "n_features": "3"},
        "width as a boolean": {**good, "n_features": True, "mean": None, "scale": None},
        "width as a float": {**good, "n_features": 3.0},
        "numbers as text in mean": {**good, "mean": ["0", "1", "2"]},
        "zero scale": {**good, "scale": [1.0, 0.0, 1.0]},
        "repeated class": {**good, "classes": ["cat", "cat"]},
        "infinite mean": {**good, "mean": [float("inf"), 0.0, 0.0]},
    }


@pytest.mark.parametrize("case", sorted(malformed_cases()))
def test_malformed_json_raises_data_error(case):
    with pytest.raises(DataError, match="preprocessing"):
        Preprocessor.from_json(malformed_cases()[case])


@pytest.mark.parametrize("shape", [(2, 2), (2, 4)])
def test_wrong_width_raises_shape_error_with_expected_and_received(shape):
    with pytest.raises(ShapeError, match=rf"rows of 3 features, got shape \({shape[0]},"):
        fitted().transform(numpy.zeros(shape))


@pytest.mark.parametrize("shape", [(3,), (1, 1, 3)])
def test_another_rank_raises_shape_error_as_predict_does(shape):
    message = rf"^X: expected a 2-d array \(n_samples, n_features\), got shape \({shape[0]},"
    with pytest.raises(ShapeError, match=message):
        fitted().transform(numpy.zeros(shape))


def test_fit_refuses_bad_task_and_shapes():
    with pytest.raises(DataError, match="task"):
        Preprocessor.fit(numpy.zeros((2, 1)), numpy.array([0, 1]), "ranking")
    with pytest.raises(ShapeError, match="X"):
        Preprocessor.fit(numpy.zeros(2), numpy.array([0, 1]), "classification")
    with pytest.raises(ShapeError, match="y"):
        Preprocessor.fit(numpy.zeros((2, 1)), numpy.zeros((2, 2)), "classification")


@pytest.mark.parametrize("key", ["mean", "scale"])
def test_an_integer_too_large_for_float64_raises_data_error_naming_the_key(key):
    saved = json.loads(f'{{"n_features": 2, "task": "regression", "mean": null, "scale": null, "classes": null, '
                       f'"{key}": [1{"0" * 400}, 1]}}')
    with pytest.raises(DataError, match=f"preprocessing.{key}: holds a number too large for float64"):
        Preprocessor.from_json(saved)


def test_a_width_given_as_text_is_refused_naming_the_key():
    with pytest.raises(DataError, match=r"preprocessing.n_features: expected an integer >= 1, got '3'"):
        Preprocessor.from_json({**fitted().to_json(), "n_features": "3"})


@pytest.mark.parametrize("labels, types", [
    ([1, "a", 2, "a"], "int, str"),
    ([None, 1, 2, 1], "NoneType, int"),
    ([None, None, None], "NoneType"),
    ([True, 2, 2, 1], "bool, int"),
])
def test_labels_of_mixed_types_raise_label_error_naming_y(labels, types):
    with pytest.raises(LabelError, match=f"y: labels must be all numbers or all strings, got labels of types {types}"):
        Preprocessor.fit(numpy.zeros((len(labels), 1)), numpy.array(labels, dtype=object), "classification")


@pytest.mark.parametrize("labels, shown", [
    (numpy.array([b"no", b"yes", b"no"]), r"dtype \|S3 \(bytes\); decode them to str first"),
    (numpy.array(["2020-01-01", "2021-01-01", "2020-01-01"], dtype="datetime64[D]"),
     r"dtype datetime64\[D\] \(dates\)"),
    (numpy.array([1, 2, 1], dtype="timedelta64[s]"), r"dtype timedelta64\[s\] \(durations\)"),
    (numpy.array([1 + 1j, 2, 1 + 1j]), r"dtype complex128 \(complex numbers\); convert them to str or int"),
])
def test_labels_that_no_model_file_holds_are_refused_naming_y_and_its_dtype(labels, shown):
    # They used to train, and the model then refused to predict, evaluate or be saved.
    with pytest.raises(LabelError, match=f"^y: class labels must be str, int, float or bool, got {shown}"):
        Preprocessor.fit(numpy.zeros((3, 1)), labels, "classification")


def test_numpy_string_dtype_labels_are_text_labels():
    # NumPy 2's StringDType (kind "T") trained before the dtype check, which took it for records
    string_dtype = pytest.importorskip("numpy.dtypes").__dict__.get("StringDType")
    if string_dtype is None:
        pytest.skip("NumPy before 2.0 has no StringDType")
    labels = numpy.array(["dog", "cat", "dog"], dtype=string_dtype())
    assert Preprocessor.fit(numpy.zeros((3, 1)), labels, "classification").classes == ["cat", "dog"]


def test_numbers_of_several_types_are_one_kind_of_label():
    labels = numpy.array([1, 2.5, numpy.int64(1)], dtype=object)
    assert Preprocessor.fit(numpy.zeros((3, 1)), labels, "classification").classes == [1, 2.5]


@pytest.mark.parametrize("bad", [numpy.nan, numpy.inf])
@pytest.mark.parametrize("dtype", [numpy.float64, object])
def test_a_non_finite_label_raises_non_finite_error_naming_y(bad, dtype):
    labels = numpy.array([0.0, 1.0, bad, 1.0], dtype=dtype)
    with pytest.raises(NonFiniteError, match=f"y: class labels must be finite, got {bad!r}"):
        Preprocessor.fit(numpy.zeros((4, 1)), labels, "classification")


@pytest.mark.parametrize("labels, dtype", [
    (numpy.array([7, -3, 7]), numpy.int64),
    (numpy.array(["dog", "cat", "dog"]), numpy.dtype("<U3")),
    (numpy.array([True, False, True]), numpy.bool_),
    (numpy.array([0.5, 2.0, 0.5]), numpy.float64),
])
def test_decode_gives_the_labels_dtype_before_and_after_json(labels, dtype):
    preprocessor = Preprocessor.fit(numpy.zeros((3, 1)), labels, "classification")
    restored = Preprocessor.from_json(json.loads(json.dumps(preprocessor.to_json())))
    for decoded in (preprocessor.decode([1, 0, 1]), restored.decode([1, 0, 1])):
        assert decoded.dtype == dtype and decoded.tolist() == numpy.unique(labels)[[1, 0, 1]].tolist()


@pytest.mark.parametrize("classes", [["a", 1], [True, 2], [2**64, 1], [2**63 + 1, 0], [1, 2.5], [True, 2.5]])
def test_decode_keeps_classes_numpy_would_change_as_objects(classes):
    # A hand-made preprocessor may mix kinds (a file may mix only ints and floats); NumPy would
    # turn 1 into "1", True into 1, 1 into 1.0 or round a big int.
    decoded = Preprocessor(1, classes=classes).decode([0, 1])
    assert decoded.dtype == object and decoded.tolist() == classes
    assert [type(label) for label in decoded] == [type(label) for label in classes]


def test_decode_keeps_int_and_float_labels_fitted_together_before_and_after_json():
    labels = numpy.array([2.5, 1, 1], dtype=object)
    preprocessor = Preprocessor.fit(numpy.zeros((3, 1)), labels, "classification")
    restored = Preprocessor.from_json(json.loads(json.dumps(preprocessor.to_json())))
    for decoded in (preprocessor.decode([0, 1, 0]), restored.decode([0, 1, 0])):
        assert decoded.dtype == object
        assert [(type(label), label) for label in decoded] == [(int, 1), (float, 2.5), (int, 1)]


def test_transform_standardizes_in_chunks_exactly_as_the_whole_array_formula():
    from chainrule.data.preprocessing import TRANSFORM_CHUNK

    rng = numpy.random.default_rng(0)
    X = (rng.standard_normal((4 * TRANSFORM_CHUNK + 3, 50)) * 7 + 2).astype(numpy.float32)
    preprocessor = Preprocessor.fit(X[:100], None, "regression")
    standardized, peak = traced_peak(lambda: preprocessor.transform(X))
    assert numpy.array_equal(standardized, ((X - preprocessor.mean) / preprocessor.scale).astype(numpy.float32))
    # The result and one chunk of float64 scratch, where the formula took 4x X's bytes.
    assert peak < 1.6 * X.nbytes


def test_transform_of_numbers_held_as_objects_is_the_whole_array_formula():
    X = numpy.random.default_rng(0).standard_normal((20, 3)) * 1e3
    preprocessor = Preprocessor.fit(X, None, "regression")
    objects = X.astype(object)  # as numpy.asarray gives for a DataFrame of mixed column types
    objects[0, 0] = 7  # a Python int among the floats
    expected = ((objects - preprocessor.mean) / preprocessor.scale).astype(numpy.float32)
    assert preprocessor.transform(objects).tobytes() == expected.tobytes()


def test_transform_without_standardization_copies_only_to_convert():
    X = numpy.ones((4, 3), dtype=numpy.float32)
    preprocessor = Preprocessor.fit(X, None, "regression", standardize=False)
    assert preprocessor.transform(X) is X
    assert preprocessor.transform(X, numpy.float64).dtype == numpy.float64


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64, numpy.uint8])
@pytest.mark.parametrize("n_rows", [2 * 4096 + 1, 3 * 4096])
def test_fitted_scale_is_exactly_numpys_std_over_several_blocks(dtype, n_rows):
    from chainrule.data.preprocessing import TRANSFORM_CHUNK

    assert n_rows > TRANSFORM_CHUNK  # several blocks, the last one full or not
    X = (numpy.random.default_rng(0).standard_normal((n_rows, 9)) * 60 + 100).astype(dtype)
    preprocessor = Preprocessor.fit(X, None, "regression")
    assert preprocessor.scale.tobytes() == X.std(axis=0, dtype=numpy.float64).tobytes()


@pytest.mark.parametrize("layout", ["C", "F", "one column", "every other column", "many small blocks"])
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(1, 60), n_features=st.integers(1, 6))
def test_fitted_scale_is_exactly_numpys_std_for_any_layout(layout, seed, n_rows, n_features):
    from chainrule.data import preprocessing

    X = numpy.random.default_rng(seed).standard_normal((n_rows, n_features)).astype(numpy.float32) * 1e3
    X = {"C": X, "F": numpy.asfortranarray(X), "one column": X[:, :1],
         "every other column": X[:, ::2], "many small blocks": numpy.repeat(X, 9, axis=0)}[layout]
    with pytest.MonkeyPatch.context() as patch:
        # Blocks of 7 rows: the blockwise sum runs on small inputs too (and over many blocks).
        patch.setattr(preprocessing, "TRANSFORM_CHUNK", 7)
        preprocessor = Preprocessor.fit(X, None, "regression")
    # X's own std for a C-contiguous X; for another layout (a DataFrame's column-major array),
    # that of its C-contiguous copy, which NumPy sums in another order: fit on either gives one model.
    expected = numpy.ascontiguousarray(X).std(axis=0, dtype=numpy.float64)
    expected[expected == 0] = 1.0
    assert preprocessor.scale.tobytes() == expected.tobytes()


@pytest.mark.parametrize("layout", ["C", "F", "one column", "every other column"])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64, numpy.uint8, numpy.float16])
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(1, 60), n_features=st.integers(1, 6))
def test_fitting_on_rows_learns_bit_for_bit_what_fitting_on_their_copy_learns(layout, dtype, seed, n_rows,
                                                                              n_features):
    from chainrule.data import preprocessing

    rng = numpy.random.default_rng(seed)
    X = (rng.standard_normal((n_rows, n_features)) * 60 + 100).astype(dtype)
    X = {"C": X, "F": numpy.asfortranarray(X), "one column": X[:, :1], "every other column": X[:, ::2]}[layout]
    rows = rng.choice(n_rows, size=rng.integers(1, n_rows + 1), replace=False)  # as a validation split leaves them
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(preprocessing, "TRANSFORM_CHUNK", 7)  # several blocks of gathered rows
        on_rows = Preprocessor.fit(X, None, "regression", rows=rows)
        on_copy = Preprocessor.fit(X[rows], None, "regression")
        assert (on_rows.mean.tobytes(), on_rows.scale.tobytes()) == (on_copy.mean.tobytes(), on_copy.scale.tobytes())
        for out in (numpy.float32, numpy.float64):
            assert on_rows.transform(X, out, rows=rows).tobytes() == on_rows.transform(X[rows], out).tobytes()
    plain = Preprocessor.fit(X, None, "regression", standardize=False)
    assert plain.transform(X, numpy.float32, rows=rows).tobytes() == X[rows].astype(numpy.float32).tobytes()


def test_fitting_on_rows_reads_overflowing_columns_from_those_rows():
    X = huge_value_X(50)
    rows = numpy.arange(50)[::-3]
    on_rows = Preprocessor.fit(X, None, "regression", rows=rows)
    on_copy = Preprocessor.fit(X[rows], None, "regression")
    assert (on_rows.mean.tobytes(), on_rows.scale.tobytes()) == (on_copy.mean.tobytes(), on_copy.scale.tobytes())
    X = numpy.zeros((4, 2))
    X[1:3, 1] = 1.7e308  # two of them in the rows sum beyond float64; all four would too
    with pytest.raises(DataError, match=r"^X: the values of column 1 \('b'\) sum beyond .*up to 1.7e\+308"):
        Preprocessor.fit(X, None, "regression", feature_names=["a", "b"], rows=numpy.array([2, 1]))
    assert Preprocessor.fit(X, None, "regression", rows=numpy.array([0, 2, 3])).mean[1] == 1.7e308 / 3


def test_fit_makes_no_float64_copy_of_a_float32_X():
    from chainrule.data.preprocessing import TRANSFORM_CHUNK

    X = numpy.random.default_rng(0).random((8 * TRANSFORM_CHUNK, 64), dtype=numpy.float32)
    _, peak = traced_peak(lambda: Preprocessor.fit(X, None, "regression"))
    # X.std(axis=0, dtype=float64) alone took X.size float64 values; one block remains.
    assert peak < 0.5 * X.size * 8


# -- encode and decode need classes -------------------------------------------------------------
@pytest.mark.parametrize("use", [lambda p: p.encode([0, 1]), lambda p: p.decode([0, 1])])
def test_encode_and_decode_without_classes_raise_label_error(use):
    """A regression preprocessor has no classes: a LabelError saying so, not NumPy's TypeError/IndexError."""
    regression = Preprocessor.fit(numpy.ones((4, 2)), numpy.arange(4.0), "regression")
    with pytest.raises(LabelError, match="no classes .*task 'regression'"):
        use(regression)


def test_decode_refuses_an_index_outside_the_classes():
    classifier = Preprocessor.fit(numpy.ones((4, 2)), numpy.array(["a", "b", "a", "b"]), "classification")
    assert classifier.decode([1, 0]).tolist() == ["b", "a"]
    for indices in ([2], [-1]):  # -1 would silently name the last class
        with pytest.raises(LabelError, match=r"indices: expected class indices in \[0, 2\)"):
            classifier.decode(indices)


# -- feature names, saved with the model ---------------------------------------------------------
def test_feature_names_are_kept_and_round_trip_through_json():
    preprocessor = Preprocessor.fit(numpy.eye(3), None, "regression", feature_names=["a", "b", "c"])
    restored = Preprocessor.from_json(json.loads(json.dumps(preprocessor.to_json())))
    assert preprocessor.feature_names == restored.feature_names == ["a", "b", "c"]


def test_a_saved_preprocessing_without_feature_names_loads_with_none():
    saved = {key: value for key, value in fitted().to_json().items() if key != "feature_names"}
    assert Preprocessor.from_json(saved).feature_names is None


@pytest.mark.parametrize("names", ["abc", ["a", "b"], ["a", "b", 3], ["a", "a", "b"]])
def test_malformed_feature_names_raise_data_error_naming_the_key(names):
    with pytest.raises(DataError, match="^preprocessing.feature_names: expected null or a list of 3 distinct strings"):
        Preprocessor.from_json({**fitted().to_json(), "feature_names": names})


def test_feature_names_of_another_width_are_refused():
    with pytest.raises(ShapeError, match="^feature_names: expected 3 names"):
        Preprocessor.fit(numpy.eye(3), None, "regression", feature_names=["a", "b"])
    # it said "expected 1 names"
    with pytest.raises(ShapeError, match="^feature_names: expected 1 name, one per column of X, got 2$"):
        Preprocessor.fit(numpy.ones((3, 1)), None, "regression", feature_names=["a", "b"])


# -- values whose squares overflow float64 --------------------------------------------------------
def huge_value_X(n_rows=40):
    X = numpy.random.default_rng(0).normal(size=(n_rows, 3))
    X[1, 1] = 1e300
    return X


def exact_deviation(values: list) -> float:
    """The population standard deviation of ``values``, in exact rational arithmetic and a
    50-digit square root, so that nothing overflows (Python 3.10's statistics.pstdev does)."""
    from decimal import Context
    from fractions import Fraction

    exact = [Fraction(value) for value in values]
    mean = sum(exact) / len(exact)
    variance = sum((value - mean) ** 2 for value in exact) / len(exact)
    context = Context(prec=50, Emax=10**6)
    return float(context.divide(variance.numerator, variance.denominator).sqrt(context))


@pytest.mark.parametrize("n_rows", [40, 3 * 4096])  # X.std, and the blockwise sum
def test_a_column_whose_squares_overflow_gets_its_true_deviation_without_warnings(n_rows):
    import warnings

    X = huge_value_X(n_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy "overflow encountered in square"
        preprocessor = Preprocessor.fit(X, None, "regression")
    exact = exact_deviation(X[:, 1].tolist())
    assert preprocessor.scale[1] == pytest.approx(exact, rel=1e-12)
    assert preprocessor.mean[1] == pytest.approx(1e300 / n_rows, rel=1e-12)
    # The columns that did not overflow are exactly NumPy's (as they were before the fix).
    with numpy.errstate(over="ignore"):
        expected = X.std(axis=0, dtype=numpy.float64)
    assert preprocessor.scale[[0, 2]].tobytes() == expected[[0, 2]].tobytes()
    assert numpy.isfinite(preprocessor.transform(X, numpy.float64)).all()


def test_values_of_opposite_signs_near_the_float64_limit_get_a_finite_deviation():
    X = numpy.zeros((4, 1))
    X[0, 0], X[1, 0] = 1.5e308, -1.5e308  # x − mean and its square overflow
    preprocessor = Preprocessor.fit(X, None, "regression")
    assert preprocessor.scale[0] == pytest.approx(1.5e308 / numpy.sqrt(2), rel=1e-12)


def test_a_large_constant_column_is_still_constant():
    X = numpy.full((5, 2), 1e200)
    X[:, 1] = [1e200, -1e200, 0, 0, 0]
    preprocessor = Preprocessor.fit(X, None, "regression")
    assert preprocessor.scale[0] == 1.0
    assert preprocessor.scale[1] == pytest.approx(numpy.sqrt(0.4) * 1e200, rel=1e-12)


def test_a_mean_that_overflows_raises_data_error_naming_the_column():
    X = numpy.zeros((3, 2))
    X[:2, 1] = 1.7e308
    with pytest.raises(DataError, match=r"^X: the values of column 1 sum beyond the range of float64 \(up to 1.7e\+308"):
        Preprocessor.fit(X, None, "regression")
    with pytest.raises(DataError, match=r"^X: the values of column 1 \('b'\) sum beyond"):
        Preprocessor.fit(X, None, "regression", feature_names=["a", "b"])


def test_classes_given_as_an_array_encode_and_decode():
    # classes as a NumPy array (e.g. numpy.unique(y)): its truth value is ambiguous, so the
    # check that a preprocessor has classes must not ask for it
    preprocessor = Preprocessor(4, task="classification", classes=numpy.array([5, 6, 7]))
    assert preprocessor.encode(numpy.array([7, 5]), "y").tolist() == [2, 0]
    assert preprocessor.decode(numpy.array([0, 2])).tolist() == [5, 7]


def test_a_saved_key_this_release_does_not_write_is_refused_not_dropped():
    saved = Preprocessor(2, "regression").to_json()
    assert Preprocessor.from_json(saved) == Preprocessor(2, "regression")
    with pytest.raises(DataError, match="preprocessing: unexpected key 'clip', not one this chainrule writes"):
        Preprocessor.from_json({**saved, "clip": [0, 1]})

    with pytest.raises(DataError, match="preprocessing: unexpected key '" + "x" * 59 + r"\.\.\., not one"):
        Preprocessor.from_json({**saved, "x" * 100_000: 1})  # it was cut at 60 characters without "..."


def test_targets_are_standardized_with_the_features_robust_statistics():
    T = numpy.array([[1e6 + 1.0, 5.0], [1e6 + 3.0, 5.0], [1e6 + 8.0, 5.0]])
    preprocessor = fitted("regression")
    preprocessor.fit_targets(T)
    assert numpy.array_equal(preprocessor.target_mean, T.mean(axis=0))
    assert preprocessor.target_scale[0] == T[:, 0].std()
    assert preprocessor.target_scale[1] == 1.0  # a constant target, as a constant feature
    standardized = preprocessor.standardize_targets(T, numpy.float32)
    assert standardized.dtype == numpy.float32
    assert numpy.allclose(standardized[:, 0], (T[:, 0] - T[:, 0].mean()) / T[:, 0].std())
    assert numpy.allclose(preprocessor.unstandardize_targets(standardized), T, rtol=0, atol=1e-4)  # float32 t ≈ 1: 1e-7 × σ


def test_targets_whose_squares_overflow_get_a_finite_scale():
    preprocessor = fitted("regression")
    preprocessor.fit_targets(numpy.array([[1e300], [-1e300], [1e300]]))
    assert numpy.isfinite(preprocessor.target_scale).all() and preprocessor.target_scale[0] > 1e299


def test_only_regression_targets_are_standardized():
    with pytest.raises(DataError, match="only regression targets"):
        fitted("classification").fit_targets(numpy.ones((3, 1)))


def test_target_standardization_is_saved_only_when_set():
    preprocessor = fitted("regression")
    assert "target_mean" not in preprocessor.to_json() and "target_scale" not in preprocessor.to_json()
    preprocessor.fit_targets(numpy.array([[1.0], [2.0], [4.0]]))
    saved = json.loads(json.dumps(preprocessor.to_json()))
    restored = Preprocessor.from_json(saved)
    assert numpy.array_equal(restored.target_mean, preprocessor.target_mean)
    assert numpy.array_equal(restored.target_scale, preprocessor.target_scale)
    assert Preprocessor.from_json(fitted("regression").to_json()).target_mean is None


@pytest.mark.parametrize("change, message", [
    ({"target_scale": [0.0]}, "target_scale: every scale must be > 0"),
    ({"target_mean": [1.0, 2.0]}, "target_mean, target_scale: expected one number per output in each, got 2 and 1"),
    ({"target_mean": [float("nan")]}, "target_mean: holds non-finite values"),
    ({"target_mean": ["1"]}, r"target_mean\[0\]: expected a number"),
    ({"target_mean": None}, "target_mean: expected lists of one number per output"),
    ({"task": "multilabel", "classes": None}, "only regression targets are standardized"),
])
def test_a_malformed_target_standardization_is_refused_naming_it(change, message):
    preprocessor = fitted("regression")
    preprocessor.fit_targets(numpy.array([[1.0], [2.0], [4.0]]))
    with pytest.raises(DataError, match=message):
        Preprocessor.from_json({**preprocessor.to_json(), **change})


def test_a_target_mean_without_its_scale_is_refused():
    preprocessor = fitted("regression")
    preprocessor.fit_targets(numpy.array([[1.0], [2.0], [4.0]]))
    saved = {key: value for key, value in preprocessor.to_json().items() if key != "target_scale"}
    with pytest.raises(DataError, match="target_scale: expected it beside preprocessing.target_mean"):
        Preprocessor.from_json(saved)


@pytest.mark.parametrize("classes", [[0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0], numpy.arange(4).tolist()])
@pytest.mark.parametrize("dtype", [numpy.int8, numpy.int64, numpy.uint16])
def test_integer_labels_of_classes_0_to_k_encode_as_themselves(classes, dtype):
    """The shortcut for labels that name the outputs gives what the search gives for other classes."""
    preprocessor = Preprocessor(n_features=1, classes=classes)
    labels = numpy.array([3, 0, 2, 2, 1], dtype=dtype)
    indices = preprocessor.encode(labels)
    assert indices.dtype == numpy.intp and indices.tolist() == [3, 0, 2, 2, 1]
    shifted = Preprocessor(n_features=1, classes=[10, 11, 12, 13]).encode(labels + 10)
    numpy.testing.assert_array_equal(indices, shifted)


def test_integer_labels_among_other_integer_classes_encode_as_their_positions():
    assert Preprocessor(n_features=1, classes=[0, 2, 5]).encode(numpy.array([2, 0, 2])).tolist() == [1, 0, 1]


@pytest.mark.parametrize("classes, labels, expected", [
    ([7, 2**63, 2**63 + 1], numpy.array([2**63, 2**63 + 1, 7], dtype=numpy.uint64), [1, 2, 0]),  # float64: one number
    ([2**53, 2**53 + 1], numpy.array([2**53 + 1, 2**53], dtype=numpy.uint64), [1, 0]),  # int64 classes, uint64 y
    ([0.0, 1.0, 2.0], numpy.array([2, 0, 1]), [2, 0, 1]),  # integer labels of float classes
])
def test_labels_numpy_would_round_in_a_common_dtype_encode_as_their_own_class(classes, labels, expected):
    """uint64 labels from 2**63 (64-bit ids) were searched for in float64, where 2**63 and 2**63 + 1 are one
    number: every 2**63 + 1 trained as class 2**63, and evaluate disagreed with predict."""
    assert Preprocessor(n_features=1, classes=classes).encode(labels).tolist() == expected


def test_an_integer_label_beyond_2_53_is_not_taken_for_the_float_class_it_rounds_to():
    with pytest.raises(LabelError, match=r"y\[0\]: label 9007199254740993 was not among"):
        Preprocessor(n_features=1, classes=[0.0, 2.0**53]).encode(numpy.array([2**53 + 1]))


def test_a_uint64_label_next_to_a_class_is_not_taken_for_it():
    with pytest.raises(LabelError, match=r"y\[0\]: label 9223372036854775809 was not among"):
        Preprocessor(n_features=1, classes=[7, 2**63]).encode(numpy.array([2**63 + 1], dtype=numpy.uint64))


@pytest.mark.parametrize("labels, row, label", [([0, 4, 1], 1, "4"), ([2, -1, 5], 1, "-1"), ([0, 3, 1], 1, "3"),
                                               ([1, -1, 2], 1, "-1"), ([0, 0.5, 1], 1, "0.5")])
def test_integer_labels_outside_classes_0_to_k_name_the_first_one(labels, row, label):
    with pytest.raises(LabelError, match=rf"y\[{row}\]: label {label} was not among the training classes \[0, 1, 2\]"):
        Preprocessor(n_features=1, classes=[0, 1, 2]).encode(numpy.array(labels))


@pytest.mark.parametrize("labels, classes, end", [
    ([0, 1, 2], ["setosa", "versicolor", "virginica"], "; the labels here are integers, the training classes text"),
    (["0", " 1", "+2"], ["setosa", "versicolor"], "; the labels here are integers, the training classes text"),
    ([0.5, 1.0], ["cat", "dog"], "; the labels here are numbers, the training classes text"),
    (["setosa"], [0, 1, 2], "; the labels here are text, the training classes integers"),
    (["setosa"], [0.5, 1.5], "; the labels here are text, the training classes numbers"),
    ([2, 0], [False, True], "; the labels here are integers, the training classes True/False"),
    ([True], ["no", "yes"], "; the labels here are True/False, the training classes text"),
    ([7, 0], [0, 1, 2], ""), (["daisy"], ["rose", "tulip"], ""), (["3"], ["1", "2"], ""),  # one kind
    (numpy.array(["cat", 1], dtype=object), ["dog", "eel"], ""),  # some of each
])
def test_labels_not_among_the_classes_say_when_they_are_of_another_kind(labels, classes, end):
    """A model trained on iris.csv's species names, given the labels 0, 1, 2, said only 'label 0 was not among
    the training classes'."""
    with pytest.raises(LabelError) as error:
        Preprocessor(n_features=1, classes=classes).encode(numpy.asarray(labels))
    assert re.fullmatch(r"y\[\d\]: label \S+ was not among the training classes \[.*\]" + re.escape(end),
                        str(error.value)), str(error.value)


@pytest.mark.parametrize("y, classes", [
    (numpy.array([True, False, True]), [False, True]),
    (numpy.array([1, 0, 1], dtype=numpy.uint8), [0, 1]),
    (numpy.array([1.0, 0.0, 1.0]), [0.0, 1.0]),
    (numpy.array([1.0, 0.0, 0.25]), None),  # a probability: soft targets, not labels
])
def test_a_multilabel_fit_on_one_label_per_row_is_a_binary_classifiers_with_classes_of_the_labels_kind(y, classes):
    preprocessor = Preprocessor.fit(numpy.eye(3), y, "multilabel")
    assert preprocessor.classes == classes
    assert [type(label) for label in preprocessor.classes or []] == [type(label) for label in classes or []]
    assert Preprocessor.fit(numpy.eye(3), y[:, None], "multilabel").classes is None  # 0/1 columns: none


def test_the_check_of_a_fitted_preprocessor_passes_huge_finite_statistics_without_warnings():
    X = numpy.array([[1e300, -1e300], [-1e300, 1e300], [3e299, 0.0]])
    preprocessor = Preprocessor.fit(X, None, "regression")
    preprocessor.fit_targets(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_preprocessor(preprocessor, 2, 2)


def test_the_check_of_a_preprocessor_names_a_target_standardization_for_another_task():
    preprocessor = Preprocessor(2, task="multilabel", target_mean=numpy.zeros(2), target_scale=numpy.ones(2))
    with pytest.raises(DataError, match=r"^m\.target_mean: only regression targets are standardized, but the task "
                                        r"is 'multilabel'$"):
        check_preprocessor(preprocessor, 2, 2, "m")


@pytest.mark.parametrize("dtype", [numpy.longdouble, numpy.float64])
def test_column_major_rows_of_any_dtype_give_the_statistics_of_their_row_major_copy(dtype):
    # float128 is summed otherwise than row after row: its copy is made (it differed by ~1e-9)
    X = (numpy.random.default_rng(3).standard_normal((50, 4)) * 1e3 + 1e6).astype(dtype)
    row_major = Preprocessor.fit(X, None, "regression")
    column_major = Preprocessor.fit(numpy.asfortranarray(X), None, "regression")
    assert row_major.mean.tobytes() == column_major.mean.tobytes()
    assert row_major.scale.tobytes() == column_major.scale.tobytes()


# -- labels and names that a model can write out; scales that standardize finite inputs to finite values -----

SURROGATE = b"caf\xe9".decode("utf-8", "surrogateescape")  # "caf\udce9", as os.listdir gives a non-UTF-8 name


@pytest.mark.parametrize("dtype", [str, object])
def test_fit_refuses_a_label_utf8_cannot_encode_naming_y_and_the_label(dtype):
    """It trained and saved; predict -o FILE then failed with an internal error."""
    labels = numpy.array(["tea", SURROGATE, "tea"], dtype=dtype)
    with pytest.raises(LabelError, match=r"^y: the class label 'caf\\udce9' is not text that UTF-8 can encode: it "
                                         r"holds a lone surrogate"):
        Preprocessor.fit(numpy.zeros((3, 1)), labels, "classification")


def test_fit_refuses_a_feature_name_utf8_cannot_encode():
    with pytest.raises(DataError, match=r"^feature_names: the feature name 'caf\\udce9' is not text that UTF-8"):
        Preprocessor.fit(numpy.zeros((3, 2)), None, "regression", feature_names=["x", SURROGATE])


def _saved(**change):
    return {**fitted().to_json(), **change}


@pytest.mark.parametrize("change, message", [
    ({"classes": ["tea", SURROGATE]}, r"preprocessing\.classes: the label 'caf\\udce9' is not text that UTF-8 can"),
    ({"feature_names": ["x", "y", SURROGATE]},
     r"preprocessing\.feature_names: the feature name 'caf\\udce9' is not text that UTF-8 can"),
    ({"task": "regression"}, r"preprocessing\.classes: expected none for a regression \(task 'regression' has no "
                             r"classes\), got \['cat', 'dog'\]"),
    ({"classes": [1, "1", 2]}, r"preprocessing\.classes: labels must be all numbers, all strings or all booleans, got "
                               r"labels of kinds number, str: \[1, '1', 2\]"),
    ({"classes": [True, 2]},
     r"preprocessing\.classes: labels must be all numbers, .* got labels of kinds bool, number"),
    ({"scale": [1.0, 1e-320, 1.0]},
     r"preprocessing\.scale: every scale must be > 0, at least 2\.2250738585072014e-308 \(float64's smallest normal "
     r"number: a subnormal scale makes \(x − mean\) / scale infinite\), got 1e-320"),
], ids=["label", "feature-name", "regression-classes", "str-and-number", "bool-and-number", "subnormal-scale"])
def test_from_json_refuses_what_fit_never_makes_naming_the_key(change, message):
    with pytest.raises(DataError, match=f"^{message}"):
        Preprocessor.from_json(_saved(**change))


def test_from_json_refuses_a_subnormal_target_scale():
    preprocessor = fitted("regression")
    preprocessor.fit_targets(numpy.array([[1.0], [2.0], [4.0]]))
    with pytest.raises(DataError, match=r"^preprocessing\.target_scale: every scale must be > 0, at least "):
        Preprocessor.from_json({**preprocessor.to_json(), "target_scale": [5e-324]})


def test_from_json_takes_numbers_of_two_types_and_the_smallest_normal_scale():
    smallest = numpy.finfo(numpy.float64).tiny
    restored = Preprocessor.from_json(_saved(classes=[1, 2.5], scale=[1.0, smallest, 2.0]))
    assert restored.classes == [1, 2.5] and restored.scale[1] == smallest
    check_preprocessor(restored, 3, 2)


@pytest.mark.parametrize("change, message", [
    ({"classes": ["tea", SURROGATE]}, r"m\.classes: the label 'caf\\udce9' is not text that UTF-8 can encode"),
    ({"feature_names": ["x", "y", SURROGATE]}, r"m\.feature_names: the feature name 'caf\\udce9' is not text"),
    ({"task": "regression"}, r"m\.classes: expected none for a regression"),
    ({"classes": [1, "1"]}, r"m\.classes: labels must be all numbers, all strings or all booleans"),
    ({"scale": numpy.array([1.0, 1e-320, 1.0])}, r"m\.scale\[1\]: expected a finite number > 0, at least "
                                                 r"2\.2250738585072014e-308 .*\(one per feature\), got 1e-320$"),
], ids=["label", "feature-name", "regression-classes", "mixed-kinds", "subnormal-scale"])
def test_the_check_of_a_preprocessor_refuses_what_fit_never_makes(change, message):
    preprocessor = fitted()
    for key, value in change.items():
        setattr(preprocessor, key, value)
    with pytest.raises(DataError, match=f"^{message}"):
        check_preprocessor(preprocessor, 3, 2, "m")


def test_the_check_of_a_preprocessor_refuses_a_subnormal_target_scale():
    preprocessor = fitted("regression")
    preprocessor.fit_targets(numpy.array([[1.0], [2.0], [4.0]]))
    preprocessor.target_scale = numpy.array([1e-310])
    with pytest.raises(DataError, match=r"^m\.target_scale\[0\]: expected a finite number > 0, at least "):
        check_preprocessor(preprocessor, 3, 1, "m")


def test_transform_reads_a_frame_by_the_feature_names_as_predict_does():
    # it read the columns by position: the README's model(model.preprocessor.transform(X)) then
    # answered other rows than cr.predict for a frame whose columns stood in another order
    pandas = pytest.importorskip("pandas")
    X = numpy.arange(12.0).reshape(4, 3) ** 2
    frame = pandas.DataFrame(X, columns=["a", "b", "c"])
    preprocessor = Preprocessor.fit(frame.to_numpy(), None, "regression", feature_names=["a", "b", "c"])
    expected = preprocessor.transform(X, numpy.float64)
    numpy.testing.assert_array_equal(preprocessor.transform(frame[["c", "a", "b"]], numpy.float64), expected)
    frame["b"] = ["x", "y", "z", "w"]  # a TypeError of NumPy's before, where cr.predict names the column
    with pytest.raises(DTypeError, match=r"^X: column 1 \('b'\) has dtype"):
        preprocessor.transform(frame)


@pytest.mark.parametrize("value", [0.1, 1e20, -3e300])
def test_a_constant_column_of_any_size_standardizes_to_zero(value):
    # its float64 mean was off by ~100 ulps: a column of 1e20 became z = 950,272 in every row
    X = numpy.column_stack([numpy.linspace(-1, 1, 1000), numpy.full(1000, value)])
    preprocessor = Preprocessor.fit(X, None, "regression")
    assert preprocessor.scale[1] == 1.0 and preprocessor.mean[1] == value
    assert not preprocessor.transform(X, numpy.float64)[:, 1].any()
    preprocessor.fit_targets(X)  # constant regression targets alike
    assert (preprocessor.target_mean[1], preprocessor.target_scale[1]) == (value, 1.0)


# -- the public methods check what they are given, as cr.fit and cr.predict check it ----------------
@pytest.mark.parametrize("bad", [numpy.nan, numpy.inf, -numpy.inf])
def test_fit_refuses_a_non_finite_x_naming_its_index(bad):
    # it learned a NaN mean or scale without a word, and transform then answered NaN
    X = numpy.array([[1.0, 2.0], [bad, 3.0], [2.0, 4.0]])
    with pytest.raises(NonFiniteError, match=rf"^X: expected finite values, found {bad!r} at index \(1, 0\)"):
        Preprocessor.fit(X, None, "regression")
    with pytest.raises(NonFiniteError, match=rf"^X\[rows\]: expected finite values, found {bad!r} at index \(0, 0\)"):
        Preprocessor.fit(X, None, "regression", rows=numpy.array([1, 2]))
    clean = Preprocessor.fit(X, None, "regression", rows=numpy.array([0, 2]))  # rows without it learn as before
    assert clean.mean.tolist() == [1.5, 3.0]


def test_fit_refuses_a_mean_and_an_inf_in_two_columns_naming_the_inf():
    # an Inf in one column is named even where another column's sum overflows
    X = numpy.array([[1.7e308, 1.0], [1.7e308, numpy.inf]])
    with pytest.raises(NonFiniteError, match=r"^X: expected finite values, found inf at index \(1, 1\)"):
        Preprocessor.fit(X, None, "regression")


def test_fit_refuses_x_without_rows():
    with pytest.raises(ShapeError, match=r"^X has no rows \(shape \(0, 2\)\); expected at least 1"):
        Preprocessor.fit(numpy.zeros((0, 2)), None, "regression")
    with pytest.raises(ShapeError, match=r"^rows selects no row of X \(shape \(3, 2\)\)"):
        Preprocessor.fit(numpy.zeros((3, 2)), None, "regression", rows=numpy.array([], dtype=int))


@pytest.mark.parametrize("X, shown", [
    (numpy.array([[1 + 5j], [2 - 5j]]), "dtype complex128"),  # a mean without the imaginary part, a scale with it
    (numpy.array([["a"], ["b"]]), "dtype <U1"),
    (numpy.array([[1.0], [None]], dtype=object), "dtype object holding NoneType, float"),
    (numpy.array([[1.0], ["2"]], dtype=object), "dtype object holding float, str"),
])
def test_fit_and_transform_refuse_x_of_other_than_real_numbers(X, shown):
    with pytest.raises(DTypeError, match=rf"^X: expected real numbers, got {re.escape(shown)}$"):
        Preprocessor.fit(X, None, "regression")
    with pytest.raises(DTypeError, match=rf"^X: expected real numbers, got {re.escape(shown)}$"):
        Preprocessor.fit(numpy.ones((2, 1)), None, "regression").transform(X)


def test_numbers_held_as_objects_fit_as_their_float64_array():
    X = numpy.random.default_rng(0).standard_normal((20, 3)) * 1e3
    objects = X.astype(object)
    objects[0, 0] = 7  # a Python int among the floats
    X[0, 0] = 7.0
    from_objects, from_floats = Preprocessor.fit(objects, None, "regression"), Preprocessor.fit(X, None, "regression")
    assert from_objects.mean.tobytes() == from_floats.mean.tobytes()
    assert from_objects.scale.tobytes() == from_floats.scale.tobytes()


@pytest.mark.parametrize("standardize", [True, False])
def test_transform_refuses_non_finite_x_and_values_beyond_the_dtype(standardize):
    preprocessor = Preprocessor.fit(numpy.ones((2, 2)), None, "regression", standardize=standardize)
    X = numpy.ones((3, 2))
    X[2, 1] = numpy.nan
    with pytest.raises(NonFiniteError, match=r"^X: expected finite values, found nan at index \(2, 1\)"):
        preprocessor.transform(X)
    X[2, 1] = 1e39
    with pytest.raises(NonFiniteError, match=r"^X: expected finite values, found 1e\+39 at index \(2, 1\), which "
                                             r"overflows float32"):
        preprocessor.transform(X)
    assert preprocessor.transform(X, numpy.float64)[2, 1] == 1e39  # float64 holds it (and z = (1e39 - 1) / 1)


def test_transform_checked_does_not_check_again():
    preprocessor = Preprocessor.fit(numpy.array([[0.0], [2.0]]), None, "regression")
    X = numpy.array([[1.0], [numpy.nan]])  # cr.fit gives it only rows it checked; this one is not
    assert numpy.isnan(preprocessor.transform_checked(X, numpy.float64)[1, 0])


@pytest.mark.parametrize("T, error, message", [
    (numpy.array([1.0, 2.0]), ShapeError, r"^y: expected a 2-d array \(n_samples, n_outputs\), got shape \(2,\)"),
    (numpy.array([[numpy.nan], [1.0]]), NonFiniteError, r"^y: expected finite values, found nan at index \(0, 0\)"),
    (numpy.array([[1.0], [numpy.inf]]), NonFiniteError, r"^y: expected finite values, found inf at index \(1, 0\)"),
    (numpy.zeros((0, 1)), ShapeError, r"^y has no rows \(shape \(0, 1\)\); expected at least 1"),
    (numpy.array([["a"], ["b"]]), DTypeError, r"^y: expected real numbers, got dtype <U1"),
])
def test_fit_targets_refuses_targets_it_cannot_standardize_naming_y(T, error, message):
    # a 1-d y raised Python's "'numpy.float64' object does not support item assignment"; a NaN gave NaN statistics
    preprocessor = Preprocessor(n_features=1, task="regression")
    with pytest.raises(error, match=message):
        preprocessor.fit_targets(T)
    assert preprocessor.target_mean is None and preprocessor.target_scale is None


@pytest.mark.parametrize("indices", [numpy.array([0.0, 1.0]), numpy.array([True, False])])
def test_decode_refuses_indices_that_are_not_integers(indices):
    # floats raised NumPy's IndexError; booleans were taken as a mask over the classes
    classifier = Preprocessor.fit(numpy.ones((2, 1)), numpy.array(["a", "b"]), "classification")
    with pytest.raises(DTypeError, match=rf"^indices: expected integer class indices, got dtype {indices.dtype}$"):
        classifier.decode(indices)
