"""Checks of user-supplied arrays and hyperparameters, raising chainrule's errors.

Everything that enters chainrule from outside passes through one of these functions, so a
bad input is reported once, in words, before NumPy could raise a broadcasting error.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy

from .backend import Array, finite_probe, get_array_module
from .errors import DataError, DTypeError, HyperparameterError, NonFiniteError, ShapeError, did_you_mean, quoted

FLOAT_DTYPES = ("float32", "float64")
# Up to this many values (a few rows), the finiteness checks test X through a temporary of its
# size (64 KiB of booleans, 512 KiB of float64 at most) rather than by reductions without one,
# whose calls cost more than the pass. One row of 784 (cr.predict at batch 1): isfinite(X).all()
# 2.1 µs against 7.8 for the sum under numpy.errstate; float64 for a float32 model, abs(X).max()
# 4.4 against 12 for fmax, fmin and the sum. At 65,536 values still 11 against 26, 28 against 44.
SMALL_ARRAY = 65536


def numpy_dtype(dtype) -> numpy.dtype | None:
    """``numpy.dtype(dtype)``, or None where NumPy does not take ``dtype`` for one. Besides the
    TypeError of an unknown name, NumPy reads a string's repeats ("2f4", "(2,3)f4") with
    ``ast.literal_eval``, which raises SyntaxError for "(1,,2)f4" or a number of 5,000 digits,
    and ValueError for a size past a C int: a string from a file or a command line can be any."""
    try:
        return numpy.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):
        return None


def as_float_dtype(dtype, name: str = "dtype") -> numpy.dtype:
    """``dtype`` as a NumPy float32/float64 dtype in the machine's byte order, or a
    HyperparameterError naming ``name``. A byte order given (">f8") is a storage detail: the
    model computes in native floats (its big-endian arrays used to be refused later, as dY of
    another dtype than the layer's output, which fit made itself).

    The message lists the two as ``choice`` lists its options. A float of another precision
    ("float16", "half", "f2", "float128") is not a misspelling: the message says so and names the
    nearer of the two, where did-you-mean took "float16" for "float64" (one letter apart). Other
    names are offered the option of their own width only ("flaot32", "Float32"), so "float8" is
    offered none rather than float32."""
    resolved = None if dtype is None else numpy_dtype(dtype)  # numpy reads None as float64
    if resolved is None or resolved.name not in FLOAT_DTYPES:
        if resolved is not None and resolved.kind == "f":
            nearest = "float32" if resolved.itemsize <= 4 else "float64"
            hint = f" (chainrule does not compute in {resolved.name}; use {nearest})"
        else:
            hint = did_you_mean(dtype, [option for option in FLOAT_DTYPES if _digits(option) == _digits(dtype)])
        raise HyperparameterError(f"{name}: expected one of {', '.join(map(repr, FLOAT_DTYPES))}; got {quoted(dtype)}"
                                  f"{hint}")
    return numpy.dtype(resolved.name)


def _digits(value) -> str:
    """The digits of a string, in order ("float32" -> "32"); "" for anything else."""
    return "".join(filter(str.isdigit, value)) if isinstance(value, str) else ""


def as_matrix(X, dtype, name: str = "X") -> Array:
    """``X`` as a 2-d, finite array of ``dtype`` (n_samples, n_features).

    Integer and boolean inputs are converted; other kinds (strings, objects, complex) raise
    DTypeError. A float input of another precision is cast to ``dtype`` so that the model
    computes in its own precision (a float32 model stays float32); NaN, Inf, and a finite
    value too large for ``dtype`` raise NonFiniteError (see ``as_finite``). A DataFrame is
    read as ``frame_as_matrix`` reads it, its columns converted straight to ``dtype``.
    """
    return as_finite(as_real_matrix(X, name, dtype), dtype, name)


def as_finite(X: Array, dtype, name: str) -> Array:
    """``X`` cast to ``dtype`` (C-contiguous), or NonFiniteError naming ``name``.

    A value of X too large for ``dtype`` (1e39 in float64 for float32) is reported as it is
    in X, "found 1e+39 ... which overflows float32", not as the inf of the cast.
    """
    with numpy.errstate(over="ignore"):  # an overflow of the cast is reported below
        converted = get_array_module(X).ascontiguousarray(X, dtype=dtype)
    try:
        check_finite(converted, name)  # after the cast: one pass, in the model's dtype
    except NonFiniteError:
        # Only now read X itself, to report a value that overflowed as it was given.
        check_finite_as(X, dtype, name)
        raise
    return converted


def as_real_matrix(X, name: str = "X", dtype=None, *, columns: str = "n_features") -> Array:
    """``X`` as a 2-d array of real numbers (n_samples, n_features), in its own dtype.

    An array (NumPy, CuPy, or anything with a ``dtype`` NumPy can view) is not copied; a list
    is converted. Strings, objects and complex numbers raise DTypeError (a scipy.sparse matrix
    too, see ``refuse_sparse``), other ranks or ragged lists ShapeError (which calls the
    columns ``columns``: "n_outputs" for targets). Finiteness is not checked (see
    ``check_finite_as``), except in a pandas DataFrame, which is read column by column (see
    ``frame_as_matrix``; ``dtype`` is the one its columns are converted to when they are not
    all of one NumPy dtype).
    """
    if is_frame(X):
        return frame_as_matrix(X, name, dtype)
    array = X
    if not hasattr(X, "dtype") or get_array_module(X) is numpy:
        try:
            array = numpy.asarray(X)
        except (ValueError, TypeError) as error:
            raise ShapeError(f"{name}: expected a rectangular array, got {type(X).__name__} ({error})") from None
    if array.dtype.kind not in "fiub":
        refuse_sparse(X, name)  # of which NumPy makes a 0-d array of one object
        raise DTypeError(f"{name}: expected real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ShapeError(f"{name}: expected a 2-d array (n_samples, {columns}), got shape {tuple(array.shape)}"
                         f"{_one_row_hint(X, array, name, columns)}")
    return array


def _one_row_hint(X, array, name: str, columns: str) -> str:
    """How to make ``X``, a vector of inputs (``array`` as NumPy reads it), a matrix, as scikit-learn says it
    (``predict(X[0])`` is the usual way to get here): one row, ``X.reshape(1, -1)``, or one feature,
    ``X.reshape(-1, 1)`` (``numpy.reshape(X, ...)`` for a list or a Series, which have no ``reshape``); "" for
    another rank or for targets (a vector of targets is one per row)."""
    if array.ndim != 1 or columns != "n_features":
        return ""
    ref = name if name.isidentifier() else "X"
    if hasattr(X, "reshape"):
        return f": for one row (a single sample) pass {ref}.reshape(1, -1), for a single feature {ref}.reshape(-1, 1)"
    return (f": for one row (a single sample) pass numpy.reshape({ref}, (1, -1)), for a single feature "
            f"numpy.reshape({ref}, (-1, 1))")


def refuse_sparse(X, name: str = "X", advice: str = "") -> None:
    """DTypeError naming ``name`` for a scipy.sparse matrix or array, which scikit-learn's MLP
    takes but chainrule does not: the network computes on dense rows, and densifying a wide
    sparse X (TF-IDF features) silently could take far more memory than the caller expects.
    ``advice``, where given, ends the message after "; " (the estimators' way out inside a
    Pipeline). Told without importing SciPy: a sparse X exists only once it is imported."""
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(X):
        variable = name.split(" ")[0]  # "X (input of Sequential)" is X
        raise DTypeError(f"{name}: a scipy.sparse {type(X).__name__} of shape {X.shape}; chainrule takes dense "
                         f"arrays only: pass {variable}.toarray() if a dense copy fits in memory"
                         f"{f'; {advice}' if advice else ''}")


def is_frame(X) -> bool:
    """Whether ``X`` is a pandas DataFrame (told by its ``iloc`` and rank, without importing pandas)."""
    return hasattr(X, "iloc") and getattr(X, "ndim", None) == 2


def frame_as_matrix(X, name: str = "X", dtype=None) -> numpy.ndarray:
    """The pandas DataFrame ``X`` as a 2-d NumPy array, checked column by column.

    Each column must hold real numbers or booleans, in a NumPy dtype (float32, int8, bool...)
    or a pandas one (Float64, Int64, boolean...); another kind (text, object, category,
    datetime, complex) raises DTypeError naming the column. A missing value (NaN, None,
    ``pd.NA``) or an Inf raises NonFiniteError naming the column and the first row with it.

    Columns all of one NumPy dtype are read as ``numpy.asarray`` reads them (pandas' own
    block, uncopied where it can be). Other frames (a bool column beside floats, or pandas
    dtypes, which NumPy would read as objects) are converted one column at a time into one
    array of ``dtype``, by default the columns' common NumPy dtype; booleans become 0 and 1.
    That array is column-major, as pandas' blocks are: each column is written in one
    contiguous run (5x faster than into rows of 784 values), and a caller that needs rows
    contiguous makes the one transposing copy it would make of a block.
    """
    dtypes = list(X.dtypes)
    for index, column_dtype in enumerate(dtypes):
        if column_dtype.kind not in "biuf":  # pandas' dtypes have a kind too: "O" for a category
            raise DTypeError(f"{name}: column {index} ({quoted(X.columns[index])}) has dtype {column_dtype}; expected "
                             f"real numbers or booleans in every column (encode categories, text and dates as "
                             f"numbers first, e.g. with pandas.get_dummies)")
    if len(set(dtypes)) <= 1 and all(isinstance(column_dtype, numpy.dtype) for column_dtype in dtypes):
        matrix = numpy.asarray(X)
    else:
        common = numpy.result_type(*{_numpy_dtype(column_dtype) for column_dtype in dtypes})
        matrix = numpy.empty(X.shape, dtype=common if dtype is None else dtype, order="F")
        for index, (_, column) in enumerate(X.items()):
            if not isinstance(column.dtype, numpy.dtype):  # a pandas dtype, which may hold pd.NA
                missing = column.isna().to_numpy()
                if missing.any():
                    row, count = int(missing.argmax()), int(missing.sum())
                    raise _non_finite_error(name, column.iloc[row], _cell(X, row, index), count,
                                            counted=f"{count} missing in that column")
            with numpy.errstate(over="ignore"):  # a value too large for ``dtype`` is reported below
                matrix[:, index] = column.to_numpy()  # cast into matrix's column: no copy of X
    found = _first_non_finite(matrix)
    if found is not None:
        (row, index), count = found
        value = float(X.iloc[row, index])  # as given: a value too large for ``dtype`` is finite in X
        overflows = ""
        if math.isfinite(value):
            largest = float(numpy.finfo(matrix.dtype).max)
            overflows = f", which overflows {matrix.dtype.name}, whose largest finite value is {largest:.6g}"
        raise _non_finite_error(name, value, _cell(X, row, index), count, overflows)
    return matrix


def _cell(X, row: int, index: int) -> str:
    """Where a value of the frame ``X`` stands, for messages: "in column 1 ('b') at row 3"."""
    return f"in column {index} ({quoted(X.columns[index])}) at row {row}"


def _numpy_dtype(dtype) -> numpy.dtype:
    """The NumPy dtype of a column's ``dtype``: itself, or a pandas dtype's ``numpy_dtype`` (Int64's
    is int64), float64 for one that has none (a sparse column)."""
    if isinstance(dtype, numpy.dtype):
        return dtype
    return numpy.dtype(getattr(dtype, "numpy_dtype", numpy.float64))


def listing(names: list, limit: int = 12) -> str:
    """``names`` quoted and comma-separated, shortened after ``limit`` names (for messages); each
    name is cut as :func:`chainrule.errors.quoted` cuts it."""
    shown = ", ".join(quoted(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def is_bool(value) -> bool:
    """Whether ``value`` is a boolean, Python's or NumPy's (which ``isinstance(value, int)``
    and a dict lookup would take for 0 or 1)."""
    return isinstance(value, (bool, numpy.bool_))


def flag(value, name: str) -> bool:
    """``value`` as a bool when it is one, Python's or NumPy's, else HyperparameterError naming
    ``name``: "no" or 0 would pass an if silently."""
    if not is_bool(value):
        raise HyperparameterError(f"{name}: expected True or False, got {quoted(value)}")
    return bool(value)


def distinct_names(names: list) -> list[str] | None:
    """``names`` as plain strs (for JSON; numpy.str_ is a str too) when they are distinct
    strings, else None: names a model can select columns by."""
    if not names or not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
        return None
    return [str(name) for name in names]


def check_finite_as(X: Array, dtype, name: str) -> None:
    """Raise NonFiniteError if ``X`` holds NaN or Inf, or values that ``dtype`` cannot hold,
    without the copy ``check_finite(X.astype(dtype), name)`` would make.

    Values too large for a narrower ``dtype`` (1e39 in float64 becomes Inf in float32) are
    reported as they are in X, with the dtype they overflow. Only when X holds such values
    is the cast copy made, to find them exactly as the cast does.
    """
    dtype = numpy.dtype(dtype)
    if X.dtype.kind == "f" and X.dtype.itemsize > dtype.itemsize and X.size:
        xp = get_array_module(X)
        largest = float(numpy.finfo(dtype).max)
        if X.size <= SMALL_ARRAY and bool(xp.abs(X).max() <= largest):
            return  # every value is finite and in range (NaN fails the comparison): one pass, for a few rows
        # fmax/fmin skip NaN (reported below) and reduce without a temporary.
        if float(xp.fmax.reduce(X, axis=None)) > largest or float(xp.fmin.reduce(X, axis=None)) < -largest:
            with numpy.errstate(over="ignore"):  # the overflow is what is reported
                bad = xp.argwhere(~xp.isfinite(X.astype(dtype)))
            if len(bad):  # values just above ``largest`` round down to it instead
                where = tuple(int(i) for i in bad[0])
                value = float(X[where])
                overflows = counted = ""
                if math.isfinite(value):
                    overflows = f", which overflows {dtype.name}, whose largest finite value is {largest:.6g}"
                if bool(xp.isfinite(X).all()):  # no NaN or Inf in X: every bad value is merely too large
                    counted = f"{len(bad)} value{'s' if len(bad) > 1 else ''} out of {dtype.name}'s range"
                raise _non_finite_error(name, value, f"at index {where}", len(bad), overflows, counted)
    check_finite(X, name)


def check_finite(X: Array, name: str) -> None:
    """Raise NonFiniteError naming ``name`` and the first bad position if ``X`` holds NaN/Inf."""
    found = _first_non_finite(X)
    if found is not None:
        where, count = found
        raise _non_finite_error(name, float(X[where]), f"at index {where}", count)


def _first_non_finite(X: Array) -> tuple[tuple[int, ...], int] | None:
    """The index of the first NaN or Inf of ``X`` and how many it holds, or None when none."""
    if X.dtype.kind != "f":
        return None
    xp = get_array_module(X)
    if X.size <= SMALL_ARRAY:
        if bool(xp.isfinite(X).all()):  # a small boolean temporary costs less than errstate's context
            return None
    elif math.isfinite(finite_probe(X)):  # one pass, no boolean temporary; an overflow is looked at below
        return None
    bad = xp.argwhere(~xp.isfinite(X))
    if len(bad) == 0:  # the sum overflowed; every value is finite
        return None
    return tuple(int(i) for i in bad[0]), len(bad)


def _non_finite_error(name: str, value, at: str, count: int, overflows: str = "", counted: str = "") -> NonFiniteError:
    """The error for ``count`` values that are not finite, the first ``value`` ``at`` a place ("at index
    (2, 1)"); ``counted`` says what the count is, if not "N non-finite values in all"."""
    counted = counted or f"{count} non-finite value{'s' if count > 1 else ''} in all"
    return NonFiniteError(f"{name}: expected finite values, found {value!r} {at}{overflows} ({counted})")


def as_sample_weights(weights, n_rows: int, name: str = "sample_weight", rows_of: str = "X"):
    """``weights`` as a float64 vector of ``n_rows`` finite, non-negative reals, not all zero,
    whose sum is finite.

    Anything else raises a chainrule error naming ``name``: ShapeError (another shape),
    DTypeError (booleans, which would say which rows count rather than how much; complex
    numbers; strings or objects), NonFiniteError, DataError (a negative weight, none positive,
    or a sum too large for float64).
    """
    try:
        array = numpy.asarray(weights)
    except ValueError as error:  # NumPy's "inhomogeneous shape"
        raise ShapeError(f"{name}: expected a vector of {n_rows} weights, "
                         f"got {type(weights).__name__} ({error})") from None
    if array.dtype.kind == "b":
        raise DTypeError(f"{name}: expected real weights, got booleans; pass them as numbers "
                         f"(e.g. mask.astype(float)) to weigh the rows of True by 1 and the others by 0")
    if array.dtype.kind not in "iuf":
        raise DTypeError(f"{name}: expected real weights (integers or floats), got dtype {array.dtype}")
    if array.shape != (n_rows,):
        raise ShapeError(f"{name}: expected {n_rows} weights, one per row of {rows_of} (shape ({n_rows},)), "
                         f"got shape {array.shape}")
    array = array.astype(numpy.float64)  # a copy: the caller's array is neither kept nor changed
    check_finite(array, name)
    if (array < 0).any():
        where = int(array.argmin())
        raise DataError(f"{name}: expected non-negative weights, got {array[where]:g} at index {where}")
    if not array.any():
        raise DataError(f"{name}: all {n_rows} weights are zero; expected at least one positive weight")
    with numpy.errstate(over="ignore"):  # an overflow is reported below, as a DataError
        total = array.sum()
    if not math.isfinite(total):  # each weight is finite, yet Σ w overflows: every w / Σ w would be 0
        raise DataError(f"{name}: the weights sum to {total} in float64; expected a finite sum (divide them "
                        f"all by one number: the weighted means do not change)")
    return array


def positive(value, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a float > 0 (or >= 0), else HyperparameterError naming ``name``."""
    number = real(value, name)
    if number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise HyperparameterError(f"{name}: expected a number {bound}, got {quoted(value)}")
    return number


def in_unit_interval(value, name: str) -> float:
    """``value`` as a float in [0, 1), else HyperparameterError naming ``name``."""
    number = real(value, name)
    if not 0.0 <= number < 1.0:
        raise HyperparameterError(f"{name}: expected a number in [0, 1), got {quoted(value)}")
    return number


def real(value, name: str) -> float:
    """``value`` as a finite float, else HyperparameterError naming ``name`` (also for an
    integer too large for a float, such as 10**400)."""
    number = math.nan
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        try:
            number = float(value)
        except OverflowError:
            pass
    if not math.isfinite(number):
        raise HyperparameterError(f"{name}: expected a finite real number, got {quoted(value, 60)}")
    return number


def positive_int(value, name: str) -> int:
    """``value`` as an int >= 1, else HyperparameterError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise HyperparameterError(f"{name}: expected an integer >= 1, got {quoted(value)}")
    return int(value)


#: The largest seed that chainrule records (``fit``'s, the command line's ``--seed``): 128 bits, as
#: much entropy as ``numpy.random.SeedSequence`` draws for itself. A model file or a checkpoint holds
#: the seed as JSON text, which Python writes and reads back only up to some thousands of digits
#: (``sys.get_int_max_str_digits``), so a seed with no bound could train and then not be saved.
MAX_SEED = 2**128 - 1
#: The seeds taken, as a message says it
SEED_RANGE = "0 to 2**128 - 1"


def is_seed(value) -> bool:
    """Whether ``value`` is a seed chainrule records: an int (a NumPy integer too, a bool not) from
    0 to ``MAX_SEED``."""
    return isinstance(value, (int, numpy.integer)) and not isinstance(value, bool) and 0 <= value <= MAX_SEED


def choice(value, name: str, options, meant=None) -> str:
    """``value`` if it is one of ``options``, else HyperparameterError listing them, ending with
    ``meant(value)`` (by default :func:`~chainrule.errors.did_you_mean` of the options).

    Only a value of an option's type is compared (``value in options`` would compare a NumPy array
    element by element, and its truth raise NumPy's ValueError, or take ``["min"]`` for "min").
    """
    if not any(isinstance(value, type(option)) and value == option for option in options):
        hint = did_you_mean(value, options) if meant is None else meant(value)
        raise HyperparameterError(f"{name}: expected one of {', '.join(map(repr, options))}; got {quoted(value)}{hint}")
    return value


# -- values read from JSON (model files, checkpoints): predicates, each caller names the field --

def is_json_count(value) -> bool:
    """Whether a value read from JSON is an integer >= 0 (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_json_number(value, *, finite: bool = False) -> bool:
    """Whether a value read from JSON is a number a float can hold (a bool is not, nor an
    integer like 10**400 from a crafted file); with ``finite``, also not inf or NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    return math.isfinite(number) or not finite
