"""A data set as chainrule uses it: training rows, optional test rows, and what the labels mean.

Every loader (built-in, CSV, NPZ, IDX) returns a :class:`Dataset`; :func:`infer_task` decides
between classification and regression when the user does not say.

Task inference
--------------
Labels are for **classification** when their dtype is not a float (integers, booleans,
strings), or when they are floats that are all whole numbers with few distinct values: at
most ``MAX_INFERRED_CLASSES`` (50), and on average at least two rows per value
(2 · n_distinct ≤ n_samples). Any other float labels are **regression** targets. So a CSV
column of ``0, 1, 2`` repeated is classification, and the diabetes progression scores
(214 distinct whole numbers in 442 rows) are regression. Pass ``task=`` to override.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from ..checks import choice
from ..errors import DTypeError, LabelError, ShapeError, quoted

TASKS = ("classification", "regression")

MAX_INFERRED_CLASSES = 50


@dataclass
class Dataset:
    """Training rows, optional test rows and their description.

    Attributes
    ----------
    X_train : numpy.ndarray of shape (n_train, n_features)
        Real-valued features (float64 from CSV files and built-ins; NPZ and IDX files keep
        their stored numeric dtype, such as uint8 pixels).
    y_train : numpy.ndarray of shape (n_train,)
        Labels: any values for classification (strings included), float64 for regression.
    X_test : numpy.ndarray of shape (n_test, n_features), or None
    y_test : numpy.ndarray of shape (n_test,), or None
        Held-out rows; None when the source has none and nothing was split off yet.
    task : str
        "classification" or "regression".
    name : str
        The built-in name, or the file or directory name the rows came from.
    feature_names : list of str
        One name per column of ``X_train``.
    label_name : str
        What the labels are (a CSV header, ``"y"`` for NPZ files, ``"digit"``...).

    Raises
    ------
    DTypeError
        If a part is not an array (a list: NumPy arrays, DataFrames and Series are taken).
    ShapeError
        If the arrays do not fit together (ranks, row counts, widths, name count).
    """

    X_train: numpy.ndarray
    y_train: numpy.ndarray
    X_test: numpy.ndarray | None
    y_test: numpy.ndarray | None
    task: str
    name: str
    feature_names: list
    label_name: str

    def __post_init__(self):
        choice(self.task, f"{self.name}: task", TASKS)
        _check_pair(self.X_train, self.y_train, self.name, "X_train", "y_train")
        if (self.X_test is None) != (self.y_test is None):
            raise ShapeError(f"{self.name}: X_test and y_test must both be given or both be None")
        if self.X_test is not None:
            _check_pair(self.X_test, self.y_test, self.name, "X_test", "y_test")
            if self.X_test.shape[1] != self.X_train.shape[1]:
                raise ShapeError(
                    f"{self.name}: X_test has {self.X_test.shape[1]} features, "
                    f"X_train has {self.X_train.shape[1]}"
                )
        if len(self.feature_names) != self.X_train.shape[1]:
            raise ShapeError(
                f"{self.name}: {len(self.feature_names)} feature names for "
                f"{self.X_train.shape[1]} feature columns"
            )


def _check_pair(X, y, name: str, X_name: str, y_name: str) -> None:
    """Raise DTypeError unless ``X`` and ``y`` are arrays (NumPy's, or a pandas frame and
    series, which ``cr.fit`` reads by their names), ShapeError unless ``X`` is (n, n_features)
    and ``y`` is (n,)."""
    for array, array_name in ((X, X_name), (y, y_name)):
        if not (hasattr(array, "ndim") and hasattr(array, "shape")):
            raise DTypeError(f"{name}: {array_name} must be an array (NumPy's, or a DataFrame or Series), got "
                             f"{type(array).__name__}; pass numpy.asarray({array_name})")
    if X.ndim != 2:
        raise ShapeError(f"{name}: {X_name} must be 2-d (n_samples, n_features), got shape {X.shape}")
    if y.ndim != 1:
        raise ShapeError(f"{name}: {y_name} must be 1-d (n_samples,), got shape {y.shape}")
    if len(X) != len(y):
        raise ShapeError(f"{name}: {X_name} has {len(X)} rows but {y_name} has {len(y)} labels")


def infer_task(y) -> str:
    """"classification" or "regression" for the labels ``y`` (rule in the module docstring).

    Examples
    --------
    >>> infer_task(numpy.array(["cat", "dog", "cat"]))
    'classification'
    >>> infer_task(numpy.array([0.5, 1.25, 3.0]))
    'regression'
    """
    y = numpy.asarray(y)
    if y.dtype.kind != "f":
        return "classification"
    values = numpy.unique(y)
    few = len(values) <= MAX_INFERRED_CLASSES and 2 * len(values) <= len(y)
    return "classification" if few and _whole_numbers(values) else "regression"


def _whole_numbers(values: numpy.ndarray) -> bool:
    """True if every value is a whole number that int64 holds exactly."""
    return bool(numpy.all((values == numpy.round(values)) & (numpy.abs(values) < 2.0**53)))


def labels_for_task(y: numpy.ndarray, task: str | None, where: str) -> tuple[numpy.ndarray, str]:
    """``(y, task)`` with ``task`` inferred when None and the labels in the task's dtype.

    Regression labels become float64. Float class labels that are all whole numbers become
    int64, so classes read as ``7`` rather than ``7.0``. Raises LabelError naming ``where``
    when regression is asked for non-numeric labels.
    """
    if task is None:
        task = infer_task(y)
    choice(task, "task", TASKS)
    if task == "classification" and y.dtype.kind == "f" and _whole_numbers(y):
        y = y.astype(numpy.int64)
    if task == "regression":
        if y.dtype.kind not in "fiub":
            example = f" such as {quoted(y[0].item())}" if len(y) else ""
            raise LabelError(f"{where}: regression needs numeric labels, got {y.dtype} labels{example}")
        y = y.astype(numpy.float64)
    return y, task


def first_non_finite(array: numpy.ndarray) -> tuple | None:
    """Index of the first NaN or Inf in ``array`` (row-major), or None if all are finite."""
    if array.dtype.kind not in "fc":
        return None
    # A sum is finite only if every term is: one reduction in the array's dtype, no boolean
    # temporary of its shape (as chainrule.checks looks at the arrays fit takes).
    with numpy.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is handled below
        total = array.sum()
    if numpy.isfinite(total):
        return None
    bad = numpy.argwhere(~numpy.isfinite(array))
    if len(bad) == 0:  # the sum overflowed; every value is finite
        return None
    return tuple(int(i) for i in bad[0])


def position_names(prefix: str, row_shape: tuple) -> list:
    """Feature names for rows of ``row_shape`` flattened: ``x0, x1...`` or ``pixel_0_0...``."""
    return [prefix + "_".join(map(str, index)) for index in numpy.ndindex(*row_shape)]
