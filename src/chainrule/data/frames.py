"""A table's feature names: the column names a model is trained on, and X's columns taken by them.

A pandas or polars DataFrame with distinct string column names is read by name: ``fit``
records its names, and ``predict`` and ``evaluate`` take X's columns in that order,
wherever they stand. Reading a frame's values is :func:`chainrule.checks.as_real_matrix`'s.
"""

from __future__ import annotations

import numpy

from ..checks import distinct_names, listing
from ..errors import DataError


def feature_names(X) -> list[str] | None:
    """The column names of ``X``, or None when it has none to go by.

    As scikit-learn reads them: X with a ``columns`` attribute (a pandas or polars DataFrame)
    whose names are all strings has names; an array, a list, or a frame with integer or
    mixed names has none. Names that are not distinct (a frame with two columns "a") are
    not used either: X is then taken by position, as an array is.
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
    not use are left out, and a column it needs that X lacks raises DataError naming it.
    Otherwise X is taken by position: returned as it is, as it also is when its names are
    the model's in the model's order (no copy). A pandas frame is selected as a frame (only
    the model's columns are then converted); anything else through ``numpy.asarray``.
    """
    given = None if model_names is None else feature_names(X)
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
