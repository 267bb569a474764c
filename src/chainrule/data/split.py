"""Train/test splits from an explicit seed: stratified for classification, shuffled otherwise.

Randomness comes only from ``numpy.random.default_rng(seed)``; the global NumPy random
state is never read or changed, so the same seed gives the same split on any run.

``test_size`` is a fraction in (0, 1), giving ``ceil(test_size · n_samples)`` test rows, or a
count of test rows (an int >= 1). Both sides always keep at least one row.

A stratified split gives each class the share of test rows it has of all rows (largest
remainders rounding), then, where possible, keeps at least one row of every class on each
side: a class with a single row goes to training, and when there are fewer test rows than
classes the largest classes get them.
"""

from __future__ import annotations

import math
import numbers

import numpy

from ..errors import DataError, HyperparameterError, ShapeError, quoted


def n_test_rows(n_samples: int, test_size: float | int, name: str = "test_size") -> int:
    """Number of test rows that ``test_size`` gives out of ``n_samples``.

    ``name`` is the argument the caller took ``test_size`` as (``fit`` passes "validation"),
    which the errors name.

    Raises
    ------
    HyperparameterError
        If ``test_size`` is neither a fraction in (0, 1) nor an int >= 1.
    DataError
        If it leaves no row for training or testing.
    """
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise HyperparameterError(f"{name}: expected a fraction in (0, 1) or a row count, got {quoted(test_size)}")
    if isinstance(test_size, numbers.Integral):
        if test_size < 1:
            raise HyperparameterError(f"{name}: expected a row count >= 1, got {quoted(test_size)}")
        n_test = int(test_size)
        shown = str(n_test)
    else:
        if not 0.0 < test_size < 1.0:
            raise HyperparameterError(f"{name}: expected a fraction in (0, 1), got {quoted(test_size)}")
        n_test = math.ceil(test_size * n_samples)
        shown = f"{float(test_size):g}"
    if not 1 <= n_test <= n_samples - 1:
        raise DataError(
            f"{name}: holding out {shown} of the {n_samples} rows leaves {n_samples - n_test} for training "
            f"and {n_test} held out; a split needs at least one row on each side"
        )
    return n_test


def shuffled_split_indices(n_samples: int, test_size: float | int = 0.2, seed: int = 0, *, name: str = "test_size"):
    """Row indices ``(train_index, test_index)`` of a shuffled split (errors name ``test_size`` as ``name``).

    Examples
    --------
    >>> train_index, test_index = shuffled_split_indices(10, 0.3, seed=1)
    >>> len(train_index), len(test_index)
    (7, 3)
    """
    n_test = n_test_rows(n_samples, test_size, name)
    order = _generator(seed).permutation(n_samples)
    return order[n_test:], order[:n_test]


def stratified_split_indices(y, test_size: float | int = 0.2, seed: int = 0, *, name: str = "test_size"):
    """Row indices ``(train_index, test_index)`` that keep each class's proportion.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels of any type.
    test_size : float or int
        Fraction in (0, 1) or number of test rows.
    seed : int
        Seed of the ``numpy.random.Generator`` that shuffles rows within each class.
    name : str
        The argument ``test_size`` came as, for the errors (``fit`` passes "validation").

    Returns
    -------
    train_index, test_index : numpy.ndarray of int
        Disjoint, covering ``range(n_samples)``, each in shuffled order.

    Examples
    --------
    >>> y = numpy.array(["a"] * 8 + ["b"] * 4)
    >>> train_index, test_index = stratified_split_indices(y, 0.25, seed=0)
    >>> sorted(y[test_index].tolist())
    ['a', 'a', 'b']
    """
    y = numpy.asarray(y)
    if y.ndim != 1:
        raise ShapeError(f"y: expected one label per row (n_samples,), got shape {y.shape}")
    n_test = n_test_rows(len(y), test_size, name)
    _, class_of_row = numpy.unique(y, return_inverse=True)
    class_sizes = numpy.bincount(class_of_row)
    test_per_class = _apportion(class_sizes, n_test)
    generator = _generator(seed)
    train_parts, test_parts = [], []
    for k, n_class_test in enumerate(test_per_class):
        rows = generator.permutation(numpy.flatnonzero(class_of_row == k))
        test_parts.append(rows[:n_class_test])
        train_parts.append(rows[n_class_test:])
    train_index = generator.permutation(numpy.concatenate(train_parts))
    test_index = generator.permutation(numpy.concatenate(test_parts))
    return train_index, test_index


def train_test_split(X, y, *, test_size: float | int = 0.2, seed: int = 0, stratify: bool = False):
    """Split rows of ``X`` and ``y`` into ``(X_train, X_test, y_train, y_test)``.

    Stratified by the labels ``y`` when ``stratify`` (classification), shuffled otherwise.

    Examples
    --------
    >>> X, y = numpy.arange(20).reshape(10, 2), numpy.array([0, 1] * 5)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=True)
    >>> sorted(y_test.tolist())
    [0, 1]
    """
    X, y = numpy.asarray(X), numpy.asarray(y)
    if len(X) != len(y):
        raise ShapeError(f"X has {len(X)} rows but y has {len(y)} labels")
    if stratify:
        train_index, test_index = stratified_split_indices(y, test_size, seed)
    else:
        train_index, test_index = shuffled_split_indices(len(y), test_size, seed)
    return X[train_index], X[test_index], y[train_index], y[test_index]


def _apportion(class_sizes: numpy.ndarray, n_test: int) -> numpy.ndarray:
    """Test rows per class: proportional, summing to ``n_test``, one per side where possible."""
    ideal = n_test * class_sizes / class_sizes.sum()
    splittable = class_sizes >= 2
    # Each class with 2+ rows gets one test row and keeps one training row, where possible.
    lowest = splittable.astype(numpy.int64)
    highest = numpy.where(splittable, class_sizes - 1, 0)
    if highest.sum() < n_test:  # too few rows to keep every class in training
        highest = class_sizes.copy()
    counts = numpy.clip(numpy.floor(ideal).astype(numpy.int64), lowest, highest)
    # Largest remainders: add where furthest below the ideal, remove where furthest above,
    # sparing each class its one test row unless there are fewer test rows than classes.
    while counts.sum() < n_test:
        room = counts < highest
        counts[numpy.argmax(numpy.where(room, ideal - counts, -numpy.inf))] += 1
    while counts.sum() > n_test:
        room = counts > lowest
        if not room.any():
            room = counts > 0
        counts[numpy.argmax(numpy.where(room, counts - ideal, -numpy.inf))] -= 1
    return counts


def _generator(seed: int) -> numpy.random.Generator:
    """A fresh generator from ``seed`` (an int >= 0); HyperparameterError otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise HyperparameterError(f"seed: expected an integer >= 0, got {quoted(seed)}")
    return numpy.random.default_rng(int(seed))
