"""A table's feature names: the column names a model is trained on, and X's columns taken by them.

A pandas or polars DataFrame with distinct string column names is read by name: ``fit``
records its names, and ``predict`` and ``evaluate`` take X's columns in that order,
wherever they stand (a frame that repeats a name the model reads is refused there, rather
than read by position). Reading a frame's values is :func:`chainrule.checks.as_real_matrix`'s.
"""

from __future__ import annotations

import collections

import numpy

from ..checks import distinct_names, listing
from ..errors import DataError


def feature_names(X) -> list[str] | None:
    """The column names of ``X``, or None when it has none to go by.

    As scikit-learn reads them: X with a ``columns`` attribute (a pandas or polars DataFrame)
    whose names are all strings has names; an array, a list, or a frame with integer or
    mixed names has none. Names that are not distinct (a frame with two columns "a") are
    not used either: ``fit`` then takes X by position, as an array (``select_features``
    reads such a frame by name for a model that has names, refusing a repeated name it reads).
    """
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    try:
        return distinct_names(list(columns))
    except TypeError:  # a ``columns`` attribute that holds no sequence of names
        return None


def select_features(X, model_names: list[str] | None, name: str = "X"):
    """X's columns in the order of ``model_names`` (the model's feature names, or None).

    When the model has feature names and X's columns are all named by strings (a DataFrame),
    X's columns are taken by name, in the model's order, wherever they stand in X; columns
    the model does not use are left out, and a column it needs that X lacks raises DataError
    naming it, as does one it needs that X repeats (which of them is meant is unknown; a
    repeated column the model does not read is left out as the others are). Otherwise X is
    taken by position: returned as it is, as it also is when its names are the model's in
    the model's order (no copy). A pandas frame is selected as a frame (only the model's
    columns are then converted); anything else through ``numpy.asarray``.
    """
    columns = None if model_names is None else _string_columns(X, name)
    if columns is None or columns == model_names:
        return X
    counts = collections.Counter(columns)
    missing = [column for column in model_names if column not in counts]
    if missing:
        raise DataError(
            f"{name}: lacks the column{'s' if len(missing) > 1 else ''} {listing(missing, 10)} of the {len(model_names)} the model "
            f"was trained on; a DataFrame's columns are taken by name (pass a NumPy array to take them by position)"
        )
    repeated = [column for column in model_names if counts[column] > 1]
    if repeated:
        raise DataError(f"{name}: repeats the column name{'s' if len(repeated) > 1 else ''} {listing(repeated, 10)}, "
                        f"which the model reads by name, so which column is meant is unknown; give each column its "
                        f"own name")
    position = {column: index for index, column in enumerate(columns)}
    positions = [position[column] for column in model_names]
    if hasattr(X, "iloc"):
        return X.iloc[:, positions]
    return numpy.asarray(X)[:, positions]


def _string_columns(X, name: str = "X") -> list[str] | None:
    """The column names of ``X`` when it has columns all named by strings (repeated or not); None
    when it has no columns or none named by a string (pandas' 0..n-1: taken by position, as
    scikit-learn takes them). Names that mix strings and others raise DataError naming ``name``
    (scikit-learn refuses them too): which columns are meant is unknown."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    try:
        columns = list(columns)
    except TypeError:  # a ``columns`` attribute that holds no sequence of names
        return None
    named = [isinstance(column, str) for column in columns]
    if any(named) and not all(named):
        others = [column for column, is_str in zip(columns, named) if not is_str]
        raise DataError(f"{name}: its column names mix strings and others ({listing(others, 5)}), but the model "
                        f"reads its columns by name; name every column with a string (df.columns = df.columns."
                        f"astype(str)), or pass a NumPy array to take them by position")
    return columns if columns and all(named) else None
