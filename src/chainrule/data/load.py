"""``load_data``: one entry point from a name or a path to training and test rows."""

from __future__ import annotations

import dataclasses
import os

import numpy

from ..checks import listing
from ..errors import MAX_PATH_LENGTH, PATH_QUOTE_LIMIT, DataError, LabelError, did_you_mean, quoted
from .dataset import Dataset, labels_for_task
from .datasets import BUILTIN_DATASETS, DEFAULT_DATASET, load_builtin
from .files import FORMATS, load_file, spec_paths
from .split import split_in_place


def load_data(
    spec=DEFAULT_DATASET,
    *,
    label: str | None = None,
    task: str | None = None,
    test_size: float | int = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load a built-in data set or a user's file, with a test part.

    Parameters
    ----------
    spec : str or os.PathLike
        A built-in name ("digits", "iris", "wine", "breast_cancer", "diabetes"), or a path
        as :func:`~chainrule.data.files.load_file` reads it (CSV, NPZ, IDX). A built-in name
        wins over a file of that name in the working directory (write ``./digits`` for it).
    label : str, optional
        CSV only: the header name of the label column (default: the last column).
    task : {"classification", "regression"}, optional
        Known for built-ins; inferred from the labels of files when None (rule in
        :mod:`chainrule.data.dataset`).
    test_size : float or int
        When the source has no test part: the fraction in (0, 1), or the number of rows,
        split off for testing. Ignored when the source has one.
    seed : int
        Seed of the split (stratified for classification, shuffled for regression).

    Returns
    -------
    Dataset
        ``X_test`` and ``y_test`` always set. When the test rows are split off here from
        C-contiguous rows (as CSV, NPZ and IDX files load), ``X_train`` and ``X_test`` are views
        of one array, the training rows then the test rows, so the rows are not held twice
        (:func:`~chainrule.data.split.split_in_place`).

    Raises
    ------
    DataError
        If the name is neither built-in nor an existing path (the message lists the
        built-in names), a file is missing, unreadable or malformed, fewer than 2
        training samples remain, or the split leaves a class only in the test rows (a class
        with too few rows for ``test_size``; the message names the source and the class).
    LabelError
        If classification labels hold a single class, or test labels a class that the
        training labels lack.
    HyperparameterError
        If ``task``, ``test_size`` or ``seed`` is not a valid value.

    Examples
    --------
    >>> import chainrule as cr
    >>> data = cr.load_data("iris", test_size=0.2, seed=0)
    >>> data.X_train.shape, data.X_test.shape
    ((120, 4), (30, 4))
    """
    return with_test_part(read_data(spec, label=label, task=task), spec, test_size=test_size, seed=seed)


def read_data(spec=DEFAULT_DATASET, *, label: str | None = None, task: str | None = None) -> Dataset:
    """:func:`load_data`'s rows before any split: a test part only when the source has its own
    (an NPZ archive's ``X_test``, IDX test files), else ``X_test`` None. Checked, and raising,
    as :func:`load_data` says, but for the split."""
    if isinstance(spec, str) and spec in BUILTIN_DATASETS:
        if label is not None:
            raise DataError(f"label={quoted(label)} names a CSV column, but {quoted(spec, PATH_QUOTE_LIMIT)} "
                            f"is a built-in data set")
        dataset = load_builtin(spec)
        if task is not None:
            y_train, task = labels_for_task(dataset.y_train, task, spec)
            dataset = dataclasses.replace(dataset, y_train=y_train, task=task)
    elif _names_a_path(spec):
        dataset = load_file(spec, label=label, task=task)
    else:
        raise DataError(
            f"unknown data set {quoted(spec, PATH_QUOTE_LIMIT)}{did_you_mean(spec, BUILTIN_DATASETS)}: "
            f"not a built-in name ({', '.join(BUILTIN_DATASETS)}) "
            f"nor an existing path; a file may be {FORMATS}"
        )
    _check_samples(dataset, _source(spec))
    return dataset


def with_test_part(dataset: Dataset, spec, *, test_size: float | int = 0.2, seed: int = 0) -> Dataset:
    """``dataset``, read from ``spec`` by :func:`read_data`, as it is when it has a test part, else
    with one split off by ``test_size`` and ``seed`` (see :func:`load_data`). Its rows are reordered
    in place: ``read_data`` loaded them for its caller alone."""
    source = _source(spec)
    if dataset.X_test is None:
        # The rows were loaded for this caller alone: they are split in place, not copied.
        X_train, X_test, y_train, y_test = split_in_place(
            dataset.X_train, dataset.y_train, test_size=test_size, seed=seed,
            stratify=dataset.task == "classification",
        )
        dataset = dataclasses.replace(dataset, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
        if dataset.task == "classification":
            _check_split_classes(dataset, source, test_size)
    return dataset


def _source(spec) -> str:
    """How messages name the data ``spec``: the built-in name, or the path or IDX spec as given."""
    return spec if isinstance(spec, str) and spec in BUILTIN_DATASETS else os.fspath(spec)


def absolute_data_spec(spec) -> str:
    """``spec`` as :func:`load_data` takes it, with its paths made absolute.

    So it names the same files from any working directory (as a resumed run needs). Built-in
    names, and bare words that name nothing, come back unchanged; each path of an
    ``"IMAGES,LABELS"`` IDX spec is made absolute.

    Examples
    --------
    >>> absolute_data_spec("iris")
    'iris'
    """
    text = os.fspath(spec)
    if text in BUILTIN_DATASETS or not _names_a_path(text):
        return text
    return ",".join(os.path.abspath(part) for part in spec_paths(text))


def _names_a_path(spec) -> bool:
    """True unless ``spec`` is a bare word (no separator, suffix or comma) naming nothing. One longer than any
    path is taken as one, which :func:`load_file` refuses by its length in a short line, where "unknown data
    set" quoted it to 4,096 characters."""
    if not isinstance(spec, str):
        return isinstance(spec, os.PathLike)
    bare = not any(mark in spec for mark in ("/", os.sep, ".", ","))
    return not bare or len(spec) > MAX_PATH_LENGTH or os.path.exists(spec)


def _check_samples(dataset: Dataset, source: str) -> None:
    """DataError below 2 training samples; LabelError for one class or unseen test classes. The
    messages name ``source``: the built-in name, or the path or IDX spec as given."""
    n_train = len(dataset.y_train)
    if n_train < 2:
        raise DataError(f"{source}: {n_train} sample{'s' if n_train != 1 else ''}; at least 2 are needed")
    if dataset.task != "classification":
        return
    classes = numpy.unique(dataset.y_train).tolist()
    if len(classes) < 2:
        raise LabelError(
            f"{source}: every label is {quoted(classes[0])}; classification needs at least 2 classes"
        )
    if dataset.y_test is not None:
        unseen = sorted(set(numpy.unique(dataset.y_test).tolist()) - set(classes), key=repr)
        if unseen:
            raise LabelError(
                f"{source}: y_test holds label{'s' if len(unseen) > 1 else ''} {quoted(unseen[:10])} "
                f"absent from y_train {quoted(classes[:10])}"
            )


def _check_split_classes(dataset: Dataset, source: str, test_size) -> None:
    """DataError naming ``source`` and the class when the split left a class only in the test rows."""
    train_classes = set(numpy.unique(dataset.y_train).tolist())
    test_only = sorted(set(numpy.unique(dataset.y_test).tolist()) - train_classes, key=repr)
    if test_only:
        raise DataError(
            f"{source}: the split (test_size={quoted(test_size)}) leaves class{'es' if len(test_only) > 1 else ''} "
            f"{listing(test_only, 10)} only in the test rows, so training never sees "
            f"{'them' if len(test_only) > 1 else 'it'}; "
            f"use a smaller test size (--test-size) or more rows of each class"
        )
