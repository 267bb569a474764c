"""scikit-learn's ``validate_data`` for the estimators, with chainrule's errors where chainrule's
checks name the mistake: a NaN or Inf in X or y, a value of X that the estimator's dtype cannot
hold, an X without rows.

scikit-learn refuses those with a plain ValueError ("Input X contains NaN."), so that
``except chainrule.ChainruleError`` caught a NaN in ``sample_weight`` but not one in X. The data
are still read by ``validate_data``: its conversions, feature names and feature counts are
scikit-learn's, and its conformance checks match its messages. Only when it refuses the data are
they looked at again, by the checks ``cr.fit`` uses, whose error (a ValueError too) then replaces
scikit-learn's; what those do not find (text, another rank, another number of features) keeps
scikit-learn's message.
"""

from __future__ import annotations

import numpy
from sklearn.utils.validation import validate_data

from ..checks import as_real_matrix, check_finite, check_finite_as, refuse_sparse
from ..errors import ChainruleError, NonFiniteError, ShapeError, quoted

#: Said of a NaN or Inf in X: scikit-learn's users may mean a NaN as a missing value, which some of
#: its estimators take (scikit-learn's conformance checks also look for "NaN" or "inf" in the message).
NON_FINITE_HINT = ("the network needs finite inputs, as scikit-learn's MLP does: fill in missing values (NaN) "
                   "first, e.g. with sklearn.impute.SimpleImputer, or drop those rows")
#: Said of a scipy.sparse X: inside a Pipeline the caller never holds X to call X.toarray(), and scikit-learn's
#: encoders and ColumnTransformer make it sparse by default (a ColumnTransformer when its output is mostly zeros).
SPARSE_HINT = ("in a Pipeline, make the step before the estimator output dense arrays: "
               "OneHotEncoder(sparse_output=False), ColumnTransformer(..., sparse_threshold=0)")


def refuse_sparse_X(X) -> None:
    """``refuse_sparse(X)``: DTypeError naming X for a scipy.sparse matrix or array, which scikit-learn's MLP
    takes and the estimators do not (see ``docs/usage.md``), with ``SPARSE_HINT`` after chainrule's advice to
    pass ``X.toarray()``."""
    refuse_sparse(X, advice=SPARSE_HINT)


def checked_data(estimator, X, y="no_validation", **params):
    """``validate_data(estimator, X, y, **params)``, whose ValueError for a NaN or Inf in X or y, a
    value of X too large for ``params["dtype"]`` or an X without rows is raised as the chainrule
    error that ``cr.fit`` gives for it (see ``_refusal``). A value that overflows ``dtype`` in the
    cast gives no NumPy warning (nor a FloatingPointError under ``numpy.seterr(all="raise")``):
    the inf it becomes is refused, and the value named as it was given. One that underflows
    (1e-40 in float32) is no error, as under NumPy's default (scikit-learn's MLP, in float64,
    casts nothing)."""
    try:
        with numpy.errstate(over="ignore", under="ignore"):  # 1.2 µs, of 250 for predict at batch 1
            return validate_data(estimator, X, y, **params)
    except OverflowError:  # float() of an int beyond float64's range (10**400) in an object X or a list
        refusal = int_beyond_float(X, "X")
        if refusal is None:
            raise
        raise refusal from None
    except ValueError as error:
        refusal = None if isinstance(error, ChainruleError) else _refusal(X, y, params["dtype"])
        if refusal is None:
            raise
        raise refusal from None


def _refusal(X, y, dtype) -> ChainruleError | None:
    """The chainrule error for X, then y, as ``cr.fit`` checks them: NonFiniteError naming the first
    NaN or Inf of X (by its index, or a DataFrame's column and row; with ``NON_FINITE_HINT``) or of
    float targets y (also an object array of numbers, where scikit-learn said "Input contains NaN"),
    or a value of X that ``dtype`` cannot hold (with ``dtype_hint``); ShapeError for an X without rows.
    None when these find nothing, or X is not an array of real numbers."""
    try:
        rows = as_real_matrix(X, "X")  # a DataFrame's columns in their common dtype: a NaN named by column and row
        check_finite(rows, "X")
    except NonFiniteError as error:
        return NonFiniteError(f"{error}; {NON_FINITE_HINT}")
    except ChainruleError:
        return None  # text, objects, another rank: scikit-learn says what it expected
    if len(rows) == 0:
        return ShapeError(f"X has no rows (shape {rows.shape}); expected at least 1")
    try:
        check_finite_as(rows, dtype, "X")
    except NonFiniteError as error:  # finite in its own dtype, beyond the estimator's
        return NonFiniteError(f"{error}; {dtype_hint(dtype, 'X')}")
    try:
        targets = numpy.asarray(y)  # "no_validation" (predict) and None are no floats
        if targets.dtype == object and targets.ndim:  # scikit-learn said "Input contains NaN" (None: y is required)
            targets = targets.astype(numpy.float64)
    except (ValueError, TypeError, OverflowError):
        return None  # ragged, or not all numbers: scikit-learn says so
    if targets.dtype.kind == "f":
        try:
            check_finite(targets, "y")
        except NonFiniteError as error:
            return error
    return None


def dtype_hint(dtype, name: str) -> str:
    """What to do about a value of ``name`` too large for the estimator's ``dtype``: train in float64, or
    rescale it (already float64)."""
    return f"fit with dtype='float64' or rescale {name}" if numpy.dtype(dtype) == numpy.float32 else f"rescale {name}"


def int_beyond_float(values, name: str) -> NonFiniteError | None:
    """NonFiniteError naming ``name`` and the index of the first element of ``values`` (array-like, or
    one number, which has no index) that float() refuses with OverflowError (an int beyond float64's
    range, such as 10**400), or None when there is none."""
    cells = numpy.asarray(values, dtype=object)
    for index, value in numpy.ndenumerate(cells):
        try:
            float(value)
        except OverflowError:
            at = f" at index {index}" if cells.ndim else ""
            return NonFiniteError(f"{name}: expected finite values, found {quoted(value)}{at}, which "
                                  f"overflows float64 (an int too large for a float); rescale {name}")
        except (TypeError, ValueError):  # not a number: not what overflowed
            pass
    return None
