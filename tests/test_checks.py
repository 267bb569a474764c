"""chainrule.checks: the validation every user input passes through."""

import re
from fractions import Fraction
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.checks import (
    SMALL_ARRAY, as_float_dtype, as_matrix, as_real_matrix, check_finite, check_finite_as, choice, in_unit_interval,
    flag, is_json_count, is_json_number, listing, positive, positive_int, real,
)


@pytest.mark.parametrize("dtype", ["float32", np.float64, np.dtype("float32"), "f8"])
def test_as_float_dtype(dtype):
    assert as_float_dtype(dtype) == np.dtype(dtype)


# the last three: NumPy reads a dtype string's repeats with ast.literal_eval (SyntaxError, ValueError escaped)
@pytest.mark.parametrize("dtype", ["float16", "int32", "complex128", "nonsense", None, 3,
                                   pytest.param("9" * 5000, id="5000-digit-repeats"), "1000000000000f4", "(1,,2)f4"])
def test_as_float_dtype_rejects_others(dtype):
    with pytest.raises(cr.HyperparameterError, match="precision: expected one of 'float32', 'float64'; got "):
        as_float_dtype(dtype, "precision")


@pytest.mark.parametrize("dtype, ending", [
    ("float16", "got 'float16' (chainrule does not compute in float16; use float32)"),  # was "did you mean 'float64'?"
    ("f2", "got 'f2' (chainrule does not compute in float16; use float32)"),
    ("flaot32", "got 'flaot32' (did you mean 'float32'?)"),
    ("float8", "got 'float8'"),  # was "did you mean 'float32'?": no option is of its width
    ("int64", "got 'int64'"),
])
def test_as_float_dtype_suggests_only_a_near_miss(dtype, ending):
    with pytest.raises(cr.HyperparameterError) as raised:
        as_float_dtype(dtype)
    assert str(raised.value).endswith(ending), raised.value


def test_as_matrix_converts_and_casts():
    X = as_matrix([[1, 2], [3, 4]], np.float32)
    assert X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert as_matrix(np.array([[True, False]]), np.float64).dtype == np.float64
    F = np.asfortranarray(np.ones((3, 2)))
    assert as_matrix(F, np.float64).flags.c_contiguous


def test_as_matrix_wrong_rank_names_the_argument():
    message = r"features: expected a 2-d array \(n_samples, n_features\), got shape \(3,\)"
    with pytest.raises(cr.ShapeError, match=message):
        as_matrix(np.ones(3), np.float32, name="features")


def test_as_matrix_rejects_non_numbers():
    with pytest.raises(cr.DTypeError, match="X: expected real numbers, got dtype complex128"):
        as_matrix(np.ones((2, 2), dtype=complex), np.float64)
    with pytest.raises(cr.DTypeError, match="X: expected real numbers, got dtype object"):
        as_matrix(np.array([[None, 1]], dtype=object), np.float64)


@pytest.mark.parametrize("sparse", ["csr_matrix", "csc_array", "coo_matrix"])
@pytest.mark.parametrize("name, variable", [("X", "X"), ("X_val", "X_val"), ("X (input of Sequential)", "X")])
def test_a_sparse_matrix_is_refused_naming_it_and_toarray(sparse, name, variable):
    # NumPy makes a 0-d object array of it: "expected real numbers, got dtype object" said too little
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X = getattr(scipy_sparse, sparse)(np.eye(3))
    message = (rf"^{re.escape(name)}: a scipy.sparse {sparse} of shape \(3, 3\); chainrule takes dense arrays only: "
               rf"pass {variable}.toarray\(\) if a dense copy fits in memory$")
    for check in (lambda: as_real_matrix(X, name), lambda: as_matrix(X, np.float32, name)):
        with pytest.raises(cr.DTypeError, match=message):
            check()


def test_as_matrix_rejects_ragged_lists():
    with pytest.raises(cr.ShapeError, match="X: expected a rectangular array, got list"):
        as_matrix([[1.0, 2.0], [3.0]], np.float64)


def test_check_finite_reports_the_first_position_and_the_count():
    X = np.zeros((3, 4))
    X[1, 2] = np.nan
    X[2, 0] = -np.inf
    with pytest.raises(cr.NonFiniteError, match=r"batch: expected finite values, found nan at index \(1, 2\) "
                                                r"\(2 non-finite values in all\)"):
        check_finite(X, "batch")


def test_check_finite_accepts_huge_finite_values_and_integers():
    check_finite(np.array([[1e308, 1e308]]), "X")  # the sum overflows, the values do not
    check_finite(np.array([[3e38, 3e38]], dtype=np.float32), "X")  # likewise in float32, X's own dtype
    check_finite(np.array([[1, 2]]), "X")


def test_positive():
    assert positive(2, "lr") == 2.0
    assert positive(0, "alpha", allow_zero=True) == 0.0
    with pytest.raises(cr.HyperparameterError, match="lr: expected a number > 0, got 0"):
        positive(0, "lr")
    with pytest.raises(cr.HyperparameterError, match="alpha: expected a number >= 0, got -1"):
        positive(-1, "alpha", allow_zero=True)


def test_in_unit_interval():
    assert in_unit_interval(0, "momentum") == 0.0
    assert in_unit_interval(0.999, "momentum") == 0.999
    for bad in (1, -1e-9, 2):
        with pytest.raises(cr.HyperparameterError, match=rf"momentum: expected a number in \[0, 1\), got {bad}"):
            in_unit_interval(bad, "momentum")


@pytest.mark.parametrize("value", [True, "1", None, float("nan"), float("inf"), [1.0], 10**400])
def test_real_rejects_non_numbers(value):
    with pytest.raises(cr.HyperparameterError, match="x: expected a finite real number"):
        real(value, "x")


def test_real_names_an_integer_too_large_for_repr():
    """10**400 has a repr; 10**5000's raised ValueError inside the f"{value!r:.60}" that was to cut it."""
    with pytest.raises(cr.HyperparameterError, match=r"^x: expected a finite real number, got <an int of 16,610 bits>"):
        real(10 ** 5000, "x")


def test_real_accepts_numpy_scalars():
    assert real(np.float32(0.5), "x") == 0.5
    assert real(np.int64(3), "x") == 3.0


@pytest.mark.parametrize("value", [0, -2, 1.0, True, "3"])
def test_positive_int_rejects(value):
    with pytest.raises(cr.HyperparameterError, match="epochs: expected an integer >= 1"):
        positive_int(value, "epochs")


def test_number_checks_name_a_value_without_a_repr():
    """An int of more than 4300 digits, or a Fraction holding one, has no repr: the f"{value!r}" of the message
    raised ValueError in its place."""
    with pytest.raises(cr.HyperparameterError, match=r"^epochs: expected an integer >= 1, got <a negative int of "):
        positive_int(-10 ** 5000, "epochs")
    holding = r"got <Fraction holding an int of more than \d+ digits>$"
    with pytest.raises(cr.HyperparameterError, match=rf"^lr: expected a number > 0, {holding}"):
        positive(Fraction(-10 ** 5000 - 1, 10 ** 5000), "lr")
    with pytest.raises(cr.HyperparameterError, match=rf"^momentum: expected a number in \[0, 1\), {holding}"):
        in_unit_interval(Fraction(10 ** 5000 + 1, 10 ** 5000), "momentum")


def test_flag_takes_python_and_numpy_bools():
    assert flag(True, "x") is True and flag(np.False_, "x") is False


@pytest.mark.parametrize("value", [0, 1, "no", None, np.int8(1)])
def test_flag_refuses_others_naming_the_argument(value):
    with pytest.raises(cr.HyperparameterError, match=re.escape(f"x: expected True or False, got {value!r}")):
        flag(value, "x")


def test_flag_quotes_a_long_value_cut():
    with pytest.raises(cr.HyperparameterError, match=re.escape(f"x: expected True or False, got {'y' * 100!r:.60}...")):
        flag("y" * 100, "x")


def test_positive_int_accepts_numpy_integers():
    assert positive_int(np.int32(4), "epochs") == 4


def test_choice():
    assert choice("b", "mode", ("a", "b")) == "b"
    with pytest.raises(cr.HyperparameterError, match="mode: expected one of 'a', 'b'; got 'c'"):
        choice("c", "mode", ("a", "b"))


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.array(["b"]), ["b"]], ids=["two", "one", "list"])
def test_choice_of_an_array_or_a_list_is_refused(value):
    # Two names raised NumPy's "truth value of an array ... is ambiguous"; one was taken for "b".
    with pytest.raises(cr.HyperparameterError, match="mode: expected one of 'a', 'b'; got"):
        choice(value, "mode", ("a", "b"))


def test_choice_takes_numpy_strings():
    assert choice(np.str_("b"), "mode", ("a", "b")) == "b"


@pytest.mark.parametrize("value, count, number, finite", [
    (0, True, True, True),
    (3, True, True, True),
    (-1, False, True, True),
    (2.5, False, True, True),
    (True, False, False, False),
    ("3", False, False, False),
    (None, False, False, False),
    (float("inf"), False, True, False),
    (float("nan"), False, True, False),
    (10**400, True, False, False),  # an int no float can hold, as a crafted JSON file may give
    (-10**400, False, False, False),
])
def test_json_value_predicates(value, count, number, finite):
    assert is_json_count(value) is count
    assert is_json_number(value) is number
    assert is_json_number(value, finite=True) is finite


def test_as_real_matrix_keeps_arrays_as_they_are():
    from chainrule.checks import as_real_matrix

    X = np.asfortranarray(np.ones((3, 2), dtype=np.float64))
    assert as_real_matrix(X) is X
    assert as_real_matrix([[1, 2]]).dtype.kind == "i"
    with pytest.raises(cr.DTypeError, match="X: expected real numbers"):
        as_real_matrix([["a", "b"]])
    with pytest.raises(cr.ShapeError, match="X: expected a 2-d array"):
        as_real_matrix(np.ones(3))


def test_check_finite_as_reports_values_that_overflow_the_narrower_dtype():
    X = np.zeros((2, 3))
    X[1, 2] = -1e39  # finite in float64, -Inf in float32
    check_finite_as(X, np.float64, "X")
    with pytest.raises(cr.NonFiniteError, match=r"^X: expected finite values, found -1e\+39 at index \(1, 2\), which "
                                                r"overflows float32, whose largest finite value is 3.40282e\+38 \(1 value out of "
                                                r"float32's range\)$"):
        check_finite_as(X, np.float32, "X")  # the value as given, not the -inf of the cast
    X[0, 0] = np.nan
    with pytest.raises(cr.NonFiniteError, match=r"found nan at index \(0, 0\) \(2 non-finite values in all\)"):
        check_finite_as(X, np.float32, "X")
    check_finite_as(np.full((2, 2), np.finfo(np.float32).max, dtype=np.float64), np.float32, "X")


@pytest.mark.parametrize("n_values", [SMALL_ARRAY, SMALL_ARRAY + 1])  # one pass with a temporary; reductions
def test_the_finiteness_checks_of_small_and_large_arrays_agree(n_values):
    X = np.zeros((1, n_values))
    X[0, -1] = np.finfo(np.float32).max * (1 + 1e-9)  # above float32's largest, yet the cast rounds it down to it
    check_finite(X, "X")
    check_finite_as(X, np.float32, "X")
    check_finite_as(np.full((1, n_values), 3e38, dtype=np.float32), np.float32, "X")  # their sum overflows
    X[0, 7] = 1e39
    check_finite(X, "X")
    with pytest.raises(cr.NonFiniteError, match=r"^X: expected finite values, found 1e\+39 at index \(0, 7\), which "
                                                r"overflows float32, .* \(1 value out of float32's range\)$"):
        check_finite_as(X, np.float32, "X")
    X[0, 3] = -np.inf
    with pytest.raises(cr.NonFiniteError, match=r"^X: expected finite values, found -inf at index \(0, 3\) "
                                                r"\(1 non-finite value in all\)$"):
        check_finite(X, "X")
    with pytest.raises(cr.NonFiniteError, match=r"found -inf at index \(0, 3\) \(2 non-finite values in all\)$"):
        check_finite_as(X, np.float32, "X")
    with pytest.raises(cr.NonFiniteError, match=r"found nan at index \(2,\) \(1 non-finite value in all\)$"):
        check_finite_as(np.where(np.arange(n_values) == 2, np.nan, 1.0).astype(np.float32), np.float32, "X")


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_large_array_is_checked_through_the_blas_or_without_it_alike(blas_or_not, order, dtype):
    X = np.ones((400, 300), dtype=dtype, order=order)  # above SMALL_ARRAY: one reduction
    check_finite(X, "X")
    X[:] = np.finfo(dtype).max / 2  # every value finite, their sum not: looked at again, and passed
    check_finite(X, "X")
    X[123, 45] = np.nan
    X[300, 7] = np.inf
    with pytest.raises(cr.NonFiniteError, match=r"^X: expected finite values, found nan at index \(123, 45\) "
                                                r"\(2 non-finite values in all\)$"):
        check_finite(X, "X")


def test_as_matrix_reports_values_that_overflow_the_model_dtype_as_given():
    X = np.zeros((3, 2))
    X[2, 1] = 1e39  # finite in float64, inf once cast to float32
    message = r"^X: expected finite values, found 1e\+39 at index \(2, 1\), which overflows float32"
    with pytest.raises(cr.NonFiniteError, match=message):
        as_matrix(X, np.float32)  # as fit checks X
    with pytest.raises(cr.NonFiniteError, match=r"^X \(input of Linear\): expected finite values, found 1e\+39"):
        cr.Linear(2, 1)(X)  # as layer(X) checks X
    X[0, 0] = np.inf
    with pytest.raises(cr.NonFiniteError, match=r"found inf at index \(0, 0\) \(2 non-finite values in all\)"):
        as_matrix(X, np.float32)
    assert as_matrix(X[1:, :1], np.float32).dtype == np.float32  # finite values pass, cast


# -- a DataFrame's columns: numbers or booleans, one dtype each ------------------------------------
@pytest.mark.parametrize("dtype", ["bool", "boolean", "Int64", "Float64", "int8", "float32", "UInt16"])
def test_a_frame_of_numbers_and_booleans_is_converted_column_by_column(dtype):
    """A bool column beside floats, or any pandas dtype, made NumPy read the frame as objects."""
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"a": [0.5, 1.5, 2.5], "b": [True, False, True],
                              "c": pandas.Series([1, 0, 1]).astype(dtype)})
    X = as_matrix(frame, np.float32)
    assert X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, [[0.5, 1, 1], [1.5, 0, 0], [2.5, 1, 1]])
    # A nullable column's NumPy dtype (pandas 2.0's to_numpy() gave object for it, later ones that dtype)
    numpy_dtype = getattr(frame["c"].dtype, "numpy_dtype", frame["c"].dtype)
    assert as_real_matrix(frame[["b", "c"]]).dtype == np.result_type(bool, numpy_dtype)


def test_a_frame_is_converted_without_an_object_copy():
    pandas = pytest.importorskip("pandas")
    values = np.random.default_rng(0).random((2000, 100), dtype=np.float32)
    frame = pandas.DataFrame(values).assign(flag=values[:, 0] > 0.5)
    tracemalloc.start()
    try:
        X = as_matrix(frame, np.float32)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * X.nbytes  # the column-major array and its row-major copy (older pandas: a column more); objects 8x
    np.testing.assert_array_equal(X[:, :100], values)


def test_a_frame_of_one_numpy_dtype_is_not_copied():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(np.ones((4, 3), dtype=np.float32))
    assert np.shares_memory(as_real_matrix(frame), frame.to_numpy())


@pytest.mark.parametrize("column", [
    [1.0, np.nan, np.nan],  # a float column of NumPy's, beside a bool one
    ["Float64", 1.0, None, None],
    ["Int64", 1, None, None],
    ["boolean", True, None, None],
])
def test_a_missing_value_in_a_frame_names_the_column_and_row(column):
    pandas = pytest.importorskip("pandas")
    values = column if isinstance(column[0], float) else pandas.array(column[1:], dtype=column[0])
    frame = pandas.DataFrame({"flag": [True, False, True], "age": values})
    with pytest.raises(cr.NonFiniteError, match=r"^X_val: expected finite values, found (nan|<NA>) in column 1 "
                                                r"\('age'\) at row 1 \(2 "):
        as_matrix(frame, np.float32, "X_val")


def test_an_inf_in_a_frame_of_one_dtype_names_the_column():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"a": [1.0, 2.0], "b": [3.0, np.inf]})
    with pytest.raises(cr.NonFiniteError, match=r"^X: expected finite values, found inf in column 1 \('b'\) at row 1 "):
        as_real_matrix(frame)


def test_a_frame_value_that_overflows_the_model_dtype_is_reported_as_given():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"flag": [True, False], "big": [1.0, 1e39]})
    with pytest.raises(cr.NonFiniteError, match=r"^X: expected finite values, found 1e\+39 in column 1 \('big'\) at "
                                                r"row 1, which overflows float32"):
        as_matrix(frame, np.float32)


@pytest.mark.parametrize("values, dtype", [
    (["x", "y"], "category"), (["x", "y"], "object"), (["x", "y"], "str"),
    (["2020-01-01", "2021-01-01"], "datetime64[ns]"), ([1, 2], "timedelta64[ns]"), ([1, 2], "complex128"),
])
def test_a_frame_column_of_another_kind_is_a_dtype_error_naming_it(values, dtype):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"a": [1.0, 2.0], "kind": pandas.Series(values).astype(dtype)})
    shown = re.escape(str(frame.dtypes["kind"]))  # "str" reads as object in pandas before 3
    with pytest.raises(cr.DTypeError, match=rf"^X: column 1 \('kind'\) has dtype {shown}; expected real "
                                            r"numbers or booleans in every column \(encode categories"):
        as_matrix(frame, np.float64)


def test_listing_cuts_each_long_name_and_the_list():
    """Each name was quoted whole: a million-character column name made a million-character message."""
    text = listing(["a" * 10**6, "b"] + [f"c{index}" for index in range(20)])
    assert text.startswith("'" + "a" * 59 + "..., 'b', 'c0'") and text.endswith(", ... (22 in all)")
    assert len(text) < 200


@pytest.mark.parametrize("make, reshape", [(np.array, "X.reshape(1, -1)"), (list, "numpy.reshape(X, (1, -1))")])
def test_a_vector_of_inputs_is_told_how_to_make_it_one_row_or_one_feature(make, reshape):
    """predict(X[0]) said only that it expected a 2-d array; scikit-learn says how to make one."""
    model = cr.mlp([3, 2], seed=0)
    for call in (lambda X: cr.predict(model, X), model, lambda X: cr.fit(model, X, [0, 1, 0], verbose=0)):
        with pytest.raises(cr.ShapeError, match=r"^X(?: \(input of Sequential\))?: expected a 2-d array \(n_samples, "
                                                r"n_features\), got shape \(3,\): for one row \(a single sample\) pass "
                                                + re.escape(reshape) + r", for a single feature"):
            call(make(np.ones(3)))


def test_other_ranks_and_vectors_of_targets_get_no_reshape_hint():
    with pytest.raises(cr.ShapeError, match=r"got shape \(1, 1, 3\)$"):
        as_matrix(np.ones((1, 1, 3)), np.float32)
    with pytest.raises(cr.ShapeError, match=r"got shape \(3,\)$"):
        as_real_matrix(np.ones(3), "y", columns="n_outputs")
