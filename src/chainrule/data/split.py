"""Train/test splits from an explicit seed: stratified for classification, shuffled otherwise.

Randomness comes only from ``numpy.random.default_rng(seed)``; the global NumPy random
state is never read or changed, so the same seed gives the same split on any run.

``test_size`` is a fraction in (0, 1), giving ``ceil(test_size · n_samples)`` test rows, or a
count of test rows (an int >= 1). Both sides always keep at least one row.

A stratified split gives each class the share of test rows it has of all rows (largest
remainders rounding), then, where possible, keeps at least one row of every class on each
side: a class with a single row goes to training, and when there are fewer test rows than
classes the largest classes get them.

:func:`train_test_split` copies the rows of the caller's arrays. :func:`split_in_place` is for
a loader that owns its rows (``load_data``): it reorders them in place into
``[train | test]`` and returns two views, so a large data set is never held twice.
"""

from __future__ import annotations

import math
import numbers

import numpy

from ..errors import DataError, HyperparameterError, ShapeError, quoted
from .preprocessing import check_label_kinds

# Bytes of rows that split_in_place moves at a time
MOVE_BYTES = 2**24


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
        Class labels of any type that sorts (LabelError for an object array mixing kinds,
        such as ints and strings).
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
    try:
        _, class_of_row = numpy.unique(y, return_inverse=True)
    except TypeError:  # labels that cannot be sorted: an object array mixing ints and strings
        check_label_kinds(y)  # raises LabelError naming their types
        raise
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
    train_index, test_index = _split_indices(X, y, test_size, seed, stratify)
    return X[train_index], X[test_index], y[train_index], y[test_index]


def split_in_place(X, y, *, test_size: float | int = 0.2, seed: int = 0, stratify: bool = False):
    """:func:`train_test_split` of rows the caller owns: ``X`` is reordered in place.

    The same seed gives the same four arrays, bit for bit, as :func:`train_test_split`. When ``X``
    is a writeable C-contiguous array, its rows are moved in place into the order
    ``[train_index | test_index]`` and ``X_train``, ``X_test`` are views of its two parts, so no
    copy of ``X`` is made (the labels ``y`` are copied as ``train_test_split`` copies them).
    Otherwise (a read-only or column-major ``X``) the rows are copied as ``train_test_split``
    copies them.

    ``X`` must not be used after the call, except through the returned views.

    Examples
    --------
    >>> X, y = numpy.arange(20).reshape(10, 2), numpy.array([0, 1] * 5)
    >>> X_train, X_test, y_train, y_test = split_in_place(X, y, test_size=0.2, stratify=True)
    >>> numpy.shares_memory(X_test, X), sorted(y_test.tolist())
    (True, [0, 1])
    """
    if not (isinstance(X, numpy.ndarray) and X.flags.c_contiguous and X.flags.writeable):
        return train_test_split(X, y, test_size=test_size, seed=seed, stratify=stratify)
    y = numpy.asarray(y)
    train_index, test_index = _split_indices(X, y, test_size, seed, stratify)
    _reorder_rows(X, numpy.concatenate([train_index, test_index]))
    n_train = len(train_index)
    return X[:n_train], X[n_train:], y[train_index], y[test_index]


def _split_indices(X, y: numpy.ndarray, test_size, seed: int, stratify: bool) -> tuple:
    """``(train_index, test_index)`` of the rows of ``X`` and ``y``: stratified by ``y`` or shuffled."""
    if len(X) != len(y):
        raise ShapeError(f"X has {len(X)} rows but y has {len(y)} labels")
    if stratify:
        return stratified_split_indices(y, test_size, seed)
    return shuffled_split_indices(len(y), test_size, seed)


def _reorder_rows(X: numpy.ndarray, order: numpy.ndarray) -> None:
    """``X[i] = X[order[i]]`` for every row ``i`` at once, in place, for a permutation ``order``.

    Each cycle ``c0 → c1 → ... → c0`` of ``order`` (``c1 = order[c0]``) is rotated: ``X[c0]`` is
    kept aside, each ``X[ck]`` takes ``X[ck+1]``, and the last row of the cycle takes the row kept
    aside. Rows move ``MOVE_BYTES`` at a time, each step reading its rows before writing them and
    reading none that an earlier step wrote. The memory beyond ``X`` is one step's rows and a
    byte per row.
    """
    rows_per_step = max(1, MOVE_BYTES // max(1, X[0].nbytes))
    source_of = memoryview(order)  # its items as Python ints, without a list of them all
    placed = bytearray(len(order))
    for start in range(len(order)):
        if placed[start] or source_of[start] == start:
            continue
        first = X[start].copy()
        targets = [start]
        source = source_of[start]
        while source != start:
            placed[source] = 1
            targets.append(source)
            if len(targets) > rows_per_step:
                X[targets[:-1]] = X[targets[1:]]
                targets = targets[-1:]  # its row is read, to be written by the next step
            source = source_of[source]
        X[targets[:-1]] = X[targets[1:]]
        X[targets[-1]] = first


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
