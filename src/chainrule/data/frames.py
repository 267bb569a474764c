"""A table's feature names: the column names a model is trained on, and X's columns taken by them.

A pandas or polars DataFrame with distinct string column names is read by name: ``fit``
records its names, and ``predict`` and ``evaluate`` take X's columns in that order,
wherever they stand; a frame that repeats a name is refused there rather than read by
position. Reading a frame's values is :func:`chainrule.checks.as_real_matrix`'s.
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
    refuses such a frame for a model that has names).
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

    When both the model and X have feature names (see ``feature_names``), X's columns are
    taken by name, in the model's order, wherever they stand in X; columns the model does
    not use are left out, and a column it needs that X lacks raises DataError naming it, as
    does a string name that X repeats (which of its columns is meant is unknown). Otherwise
    X is taken by position: returned as it is, as it also is when its names are the model's
    in the model's order (no copy). A pandas frame is selected as a frame (only
    the model's columns are then converted); anything else through ``numpy.asarray``.
    """
    given = None if model_names is None else feature_names(X)
    if given is None and model_names is not None:
        _check_names_not_repeated(X, model_names, name)
    if given is None or given == model_names:
        return X
    position = {column: index for index, column in enumerate(given)}
    missing = [column for column in model_names if column not in position]
    if missing:
        raise DataError(
            f"{name}: lacks the column{'s' if len(missing) > 1 else ''} {listing(missing, 10)} of the {len(model_names)} the model "
            f"was trained on; a DataFrame's columns are taken by name (pass a NumPy array to take them by position)"
        )
    positions = [position[column] for column in model_names]
    if hasattr(X, "iloc"):
        return X.iloc[:, positions]
    return numpy.asarray(X)[:, positions]


def _check_names_not_repeated(X, model_names: list[str], name: str) -> None:
    """DataError naming ``name`` and the names X repeats when X's columns are all strings but
    not distinct (``feature_names`` gives it none), and the model's columns that X lacks."""
    columns = getattr(X, "columns", None)
    try:
        columns = [] if columns is None else list(columns)
    except TypeError:  # a ``columns`` attribute that holds no sequence of names
        return
    if not columns or not all(isinstance(column, str) for column in columns):
        return
    counts = collections.Counter(columns)
    repeated = [column for column, count in counts.items() if count > 1]
    missing = [column for column in model_names if column not in counts]
    lacks = f" and lacks {listing(missing, 10)}" if missing else ""
    raise DataError(
        f"{name}: repeats the column name{'s' if len(repeated) > 1 else ''} {listing(repeated, 10)}{lacks}, so its "
        f"columns cannot be taken by name as the model's {len(model_names)} are; give each column its own name "
        f"(or pass a NumPy array to take them by position)"
    )
