"""Preprocessing fitted on training data only and saved with the model.

A :class:`Preprocessor` remembers what ``fit`` learned about the data beside the
weights: the mean and scale of each feature (standardization, z = (x − μ)/σ), for
regression optionally the mean and scale of each target (the network then learns
t = (y − μ_y)/σ_y and ``predict`` answers ŷ = σ_y t̂ + μ_y) and, for classification, the
original class labels in the order of the model's outputs. Saved in the model file, it
lets ``predict`` take raw rows and answer in the user's own labels and units.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import numpy

from ..checks import as_real_matrix, check_finite, check_finite_as, distinct_names, is_json_count, listing
from ..errors import DataError, DTypeError, LabelError, NonFiniteError, ShapeError, quoted
from .frames import select_features

TASKS = ("classification", "multilabel", "regression")
SAVED_KEYS = ("n_features", "task", "mean", "scale", "classes")
# Written only when set, or only by a newer chainrule: "feature_names" (older files lack it) and
# the target standardization's two keys (other model files stay byte-identical without them).
OPTIONAL_KEYS = ("feature_names", "target_mean", "target_scale")
LARGE = 1e150  # a value whose square (and n ε times it) float64 holds with room to spare
#: The smallest scale a preprocessor may hold: float64's smallest normal number. Dividing by a
#: subnormal scale (1e-320) makes z = (x − μ)/σ infinite for finite x near μ. ``fit`` never makes
#: a scale below about 1e-154: a smaller deviation's variance underflows, and the feature counts
#: as constant (scale 1).
SMALLEST_SCALE = float(numpy.finfo(numpy.float64).tiny)
TRANSFORM_CHUNK = 4096  # rows standardized (or squared, for the fitted scale) at a time: bounds the float64 scratch


@dataclass
class Preprocessor:
    """Fitted standardization and label mapping.

    Attributes
    ----------
    n_features : int
        Width of the raw input rows.
    task : str
        "classification" (one label per row), "multilabel" (0/1 columns) or "regression".
    mean, scale : numpy.ndarray of shape (n_features,), or None
        Standardization z = (x − mean) / scale; None when inputs are used as they are.
        Constant features get scale 1 (they become 0 rather than NaN), also when rounding
        gave them a tiny deviation instead of 0 (see ``_is_constant``). A model file holds
        scales of at least ``SMALLEST_SCALE`` (float64's smallest normal number).
    classes : list, or None
        For classification, the original labels; the model's output k is ``classes[k]``.
        Labels of one kind (all numbers, all strings or all booleans), strings that UTF-8
        can encode; None for regression.
        Given as an array or tuple (``numpy.unique(y)``), they are kept as a list of plain
        Python labels (str, int, float or bool), as a model file holds them.
        For a binary classifier (task "multilabel" fitted on one 0/1 label per row, y of
        shape (n_samples,), for one sigmoid output), the two labels ``[0, 1]`` in y's type
        (``[False, True]`` for booleans, ``[0.0, 1.0]`` for floats): ``predict`` answers
        ``classes[1]`` where the output's logit is > 0, else ``classes[0]``. None for
        multilabel 0/1 columns (y of shape (n_samples, n_labels), a column included).
    feature_names : list of str, or None
        The names of the input columns, in the model's order, when the training X had them
        (a DataFrame's string column names); ``predict`` then takes a DataFrame's columns by
        name. None for training data without names (and for model files saved before
        chainrule kept them).
    target_mean, target_scale : numpy.ndarray of shape (n_outputs,), or None
        Regression only: the targets' standardization t = (y − target_mean) / target_scale,
        fitted by ``fit_targets`` on the training targets as the features' is (a constant
        target gets scale 1); None when the network learns the targets as they are.
    """

    n_features: int
    task: str = "classification"
    mean: numpy.ndarray | None = None
    scale: numpy.ndarray | None = None
    classes: list | None = None
    feature_names: list | None = None
    target_mean: numpy.ndarray | None = None
    target_scale: numpy.ndarray | None = None

    def __post_init__(self) -> None:
        # Classes given as a sequence (numpy.unique(y), a tuple) become a list of plain labels, as fit makes them.
        if isinstance(self.classes, (list, tuple, numpy.ndarray)):
            self.classes = [_plain(label) for label in self.classes]

    @classmethod
    def fit(cls, X, y, task: str, *, standardize: bool = True, feature_names: list | None = None,
            rows=None) -> "Preprocessor":
        """Learn the feature statistics of ``X`` and the classes of ``y`` (training data only).

        X is read as ``cr.fit`` reads it: real numbers in a 2-d array of at least one row (or a
        DataFrame, its columns checked; see ``checks.as_real_matrix``), else DTypeError or
        ShapeError naming X; an object array of real numbers alone is read as their float64
        array. With ``standardize``, a NaN or Inf in X raises NonFiniteError naming its index
        (found from the column means, without another pass over X); without, X's values are not
        read, only its width.

        For "multilabel", a ``y`` of one label per row (n_samples,) is a binary classifier's:
        its classes are 0 and 1 in y's type (see ``_binary_classes``); 0/1 columns have none.
        Class labels must be all numbers, all strings or all booleans (LabelError otherwise,
        e.g. for an object array mixing ints, strings or None, or for an array of bytes, dates,
        durations or complex numbers, which no model file holds) and finite (NonFiniteError for
        a NaN or Inf label), strings that UTF-8 can encode (LabelError for a label holding a
        lone surrogate, as Python decodes a folder name that is not UTF-8; see ``_check_text``).
        ``feature_names`` (one str per column of X) are kept as they are, once known to be
        text that UTF-8 can encode (DataError otherwise).
        The standard deviation is correct for any finite float64 X, even one whose squares
        overflow float64 (see ``_standard_deviation``); a column whose values sum beyond
        float64's range, so that its mean is not finite, raises DataError naming the column.
        ``rows`` (an integer array, or None for all) learns from the rows ``X[rows]`` alone,
        bit for bit as from that copy, without making it; ``y`` then holds their labels only.
        An X that is not C-contiguous (a DataFrame's column-major array) gives the statistics
        of its C-contiguous copy, bit for bit, without that copy.
        ``cr.fit`` passes the rows that its validation split leaves for training.
        """
        if task not in TASKS:
            raise DataError(f"task: expected one of {listing(TASKS)}; got {quoted(task)}")
        X = _as_rows(X)
        if (len(X) if rows is None else len(rows)) == 0:
            what = "X has no rows" if rows is None else "rows selects no row of X"
            raise ShapeError(f"{what} (shape {X.shape}); expected at least 1")
        if feature_names is not None and len(feature_names) != X.shape[1]:
            raise ShapeError(f"feature_names: expected {X.shape[1]} name{'s' if X.shape[1] != 1 else ''}, one per "
                             f"column of X, got {len(feature_names)}")
        if feature_names is not None:
            _check_text(feature_names, "feature_names", "feature name")
        mean = scale = None
        if standardize:
            if rows is not None and not _sums_in_row_order(X):  # learned from the copy, as NumPy sums it
                X, rows = X[rows], None
            elif rows is None and not X.flags.c_contiguous:
                # Column-major (a DataFrame's columns) or strided: summed in the row order of its
                # C-contiguous copy, so that the statistics are that copy's, without the copy
                # (which is made for one column, or a dtype NumPy sums otherwise: float128).
                if _sums_in_row_order(X):
                    rows = numpy.arange(len(X))
                else:
                    X = numpy.ascontiguousarray(X)
            mean = _column_means(X, feature_names, rows=rows)
            scale = _standard_deviation(X, mean, rows)
            _settle_constant_columns(X, mean, scale, rows)
        classes = None
        if task == "classification":
            labels = numpy.asarray(y)
            if labels.ndim != 1:
                raise ShapeError(f"y: expected one label per row (n_samples,), got shape {labels.shape}")
            classes = _distinct_labels(labels)
            if len(classes) < 2:
                raise LabelError(f"y: classification needs at least 2 classes, found only {quoted(classes)}")
        elif task == "multilabel" and numpy.ndim(y) == 1:
            classes = _binary_classes(numpy.asarray(y))
        return cls(n_features=X.shape[1], task=task, mean=mean, scale=scale, classes=classes,
                   feature_names=None if feature_names is None else list(feature_names))

    @property
    def n_classes(self) -> int | None:
        """Number of classes (None unless classification)."""
        return None if self.classes is None else len(self.classes)

    def transform(self, X, dtype=numpy.float32, rows=None) -> numpy.ndarray:
        """Raw rows (n_samples, n_features) -> the model's inputs, standardized, as ``dtype``.

        Standardization is computed in float64, ``TRANSFORM_CHUNK`` rows at a time, so the
        result is the only array of X's size that is made. Without standardization, X itself
        is returned when it already is an array of ``dtype`` (otherwise a converted copy).
        ``rows`` (an integer array, or None for all) transforms ``X[rows]`` without making
        that copy first. A DataFrame is read by ``feature_names`` when both have names, as
        ``cr.predict`` reads it (see ``data.frames.select_features``); pass the model's dtype
        (``transform(X, model.dtype)``) for a float64 model, whose inputs float32 would round.

        X is checked as ``cr.predict`` checks it: real numbers (DTypeError naming X otherwise; an
        object array of real numbers alone is read as their float64 array), ``n_features`` wide
        (ShapeError), finite and within ``dtype``'s range, all of it whatever ``rows`` says
        (NonFiniteError naming the value's index). ``transform_checked`` skips these checks.
        """
        X = _as_rows(select_features(X, self.feature_names))
        self.check_width(X)
        check_finite_as(X, dtype, "X")
        return self.transform_checked(X, dtype, rows)

    def transform_checked(self, X: numpy.ndarray, dtype=numpy.float32, rows=None) -> numpy.ndarray:
        """``transform`` of an X that is known to pass its checks (``cr.fit``'s, checked once when
        it was read), without the pass over X that checking it again would take."""
        if self.mean is None:
            return (X if rows is None else X[rows]).astype(dtype, copy=False)
        n_samples = len(X) if rows is None else len(rows)
        standardized = numpy.empty((n_samples, X.shape[1]), dtype=dtype)
        work = numpy.empty((min(n_samples, TRANSFORM_CHUNK), X.shape[1]), dtype=numpy.float64)
        for start, block in _blocks(X, rows):
            self.standardize_into(block, standardized[start:start + len(block)], work)
        return standardized

    def check_width(self, X) -> None:
        """Raise ShapeError unless X is 2-d with ``n_features`` columns."""
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ShapeError(
                f"X: the model expects rows of {self.n_features} features, got shape {tuple(X.shape)}"
            )

    def standardize_into(self, X, out, work) -> None:
        """``out[...] = (X − mean) / scale`` for a block of rows, computed in float64.

        ``work`` is a float64 scratch array of at least ``len(X)`` rows (reused from block to
        block by the caller); ``out`` may be X itself. Each value is computed exactly as
        ``((X - mean) / scale).astype(out.dtype)`` computes it.
        """
        work = work[:len(X)]
        # "unsafe": an object X (numbers from a DataFrame) is subtracted as objects, each
        # result a float, then stored in float64, as the formula's .astype does.
        numpy.subtract(X, self.mean, out=work, casting="unsafe")
        numpy.divide(work, self.scale, out=work)
        out[...] = work

    def fit_targets(self, T) -> None:
        """Learn ``target_mean`` and ``target_scale`` from the training targets T (n_samples,
        n_outputs) of a regression, as ``fit`` learns the features' mean and scale.

        DataError for another task, or for an output whose values sum beyond float64's range.
        T must be a 2-d array of real numbers with at least one row (DTypeError or ShapeError
        naming y), finite (NonFiniteError naming y and the value's index).
        """
        if self.task != "regression":
            raise DataError(f"targets: only regression targets are standardized, not those of {quoted(self.task)}")
        T = as_real_matrix(T, "y", columns="n_outputs")
        if len(T) == 0:
            raise ShapeError(f"y has no rows (shape {T.shape}); expected at least 1")
        mean = _column_means(T, name="y")
        scale = _standard_deviation(T, mean)
        _settle_constant_columns(T, mean, scale)
        self.target_mean, self.target_scale = mean, scale

    def standardize_targets(self, T, dtype) -> numpy.ndarray:
        """Targets T (n_samples, n_outputs) -> t = (T − target_mean) / target_scale as ``dtype``,
        computed in float64 (T itself, cast, when the targets are not standardized)."""
        if self.target_mean is None:
            return numpy.asarray(T).astype(dtype, copy=False)
        return standardized_targets(T, self.target_mean, self.target_scale).astype(dtype)

    def unstandardize_targets(self, Y) -> numpy.ndarray:
        """The network's outputs Y (n_samples, n_outputs) -> values in the targets' units,
        ŷ = Y · target_scale + target_mean in float64 (Y itself without target standardization)."""
        if self.target_mean is None:
            return Y
        return numpy.asarray(Y, dtype=numpy.float64) * self.target_scale + self.target_mean

    def encode(self, y, name: str = "y") -> numpy.ndarray:
        """Original labels -> class indices 0..n_classes−1 (classification only); errors name ``name``."""
        labels = numpy.asarray(y)
        if labels.ndim != 1:
            raise ShapeError(f"{name}: expected one label per row (n_samples,), got shape {labels.shape}")
        self._check_has_classes(f"encode {name}")
        if labels.dtype.kind in "iu" and len(labels) and self._are_output_indices(labels):
            return labels.astype(numpy.intp)
        classes = _labels_array(self.classes)  # an object array where NumPy would round a label (2**63 + 1)
        if _searchable(labels, classes):
            # Vectorized: find each label among the sorted classes, then check it is really there.
            order = numpy.argsort(classes, kind="stable")
            where = numpy.searchsorted(classes[order], labels).clip(0, len(classes) - 1)
            found = classes[order][where] == labels
            if not found.all():
                raise self._unseen(name, labels, int(numpy.argmin(found)))
            return order[where].astype(numpy.intp)
        index = {label: k for k, label in enumerate(self.classes)}
        try:
            return numpy.fromiter((index[_plain(label)] for label in labels), dtype=numpy.intp, count=len(labels))
        except KeyError:
            row = next(row for row, label in enumerate(labels) if _plain(label) not in index)
            raise self._unseen(name, labels, row) from None

    def _are_output_indices(self, labels: numpy.ndarray) -> bool:
        """Whether the classes are 0..K−1 (integer labels that name the outputs, as ``fit`` keeps
        them) and the integer ``labels`` (at least one) all lie among them: each label is then its
        own index, as the search in ``encode`` finds, without it (two reductions instead)."""
        classes = self.classes
        return (type(classes) is list and classes == list(range(len(classes)))
                and labels.min() >= 0 and labels.max() < len(classes))

    def _unseen(self, name: str, labels: numpy.ndarray, row: int) -> LabelError:
        """The LabelError for ``labels[row]``, a label that is not among the classes: ``y[3]: label 'x' ...``,
        ending with :func:`other_kind` where the labels are of another kind than the classes."""
        return LabelError(f"{name}[{row}]: label {quoted(_plain(labels[row]))} was not among the training classes "
                          f"{quoted(self.classes)}{other_kind(labels, self.classes)}")

    def decode(self, indices) -> numpy.ndarray:
        """Class indices -> the original labels, in the array type NumPy infers from ``classes``.

        Integer classes give an integer array, floats a float array, strings a str array,
        booleans a bool array, so a model loaded from its file answers in the same dtype as
        before saving. Classes of mixed types, ints mixed with floats included (y given as an
        object array such as [1, 2.5], or a hand-made preprocessor), give an
        object array, so that no label is converted to another type. A preprocessor without
        classes, or an index outside 0..n_classes−1, raises LabelError; indices that are not
        integers (floats, booleans) raise DTypeError.
        """
        self._check_has_classes("decode class indices")
        indices = numpy.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise DTypeError(f"indices: expected integer class indices, got dtype {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= len(self.classes)):
            raise LabelError(f"indices: expected class indices in [0, {len(self.classes)}), got values from "
                             f"{indices.min()} to {indices.max()}")
        return _labels_array(self.classes)[indices]

    def _check_has_classes(self, what: str) -> None:
        """LabelError unless this preprocessor holds classes (``what`` says what needed them)."""
        if self.classes is None or len(self.classes) == 0:  # a list or an array (truth of an array raises)
            raise LabelError(f"cannot {what}: the preprocessor has no classes (task {quoted(self.task)}); "
                             f"class labels need one fitted for classification")

    def to_json(self) -> dict:
        """A JSON-ready dict (lists and numbers only); ``target_mean`` and ``target_scale`` only
        when the targets are standardized, so that other preprocessors write what they did."""
        saved = {
            "n_features": self.n_features,
            "task": self.task,
            "mean": None if self.mean is None else self.mean.tolist(),
            "scale": None if self.scale is None else self.scale.tolist(),
            "classes": self.classes,
            "feature_names": self.feature_names,
        }
        if self.target_mean is not None:
            saved["target_mean"] = numpy.asarray(self.target_mean, dtype=numpy.float64).tolist()
            saved["target_scale"] = numpy.asarray(self.target_scale, dtype=numpy.float64).tolist()
        return saved

    @classmethod
    def from_json(cls, saved: dict) -> "Preprocessor":
        """The inverse of ``to_json``; raises DataError naming the key on a malformed dict.

        ``n_features`` must be an int >= 1 (a string such as "3" is refused), ``mean`` and
        ``scale`` null or lists of ``n_features`` finite numbers (each scale at least
        ``SMALLEST_SCALE``), ``task`` one of TASKS and ``classes`` null or a list of at least
        2 distinct strings or numbers of one kind (see ``_check_labels``), null for regression.
        ``feature_names`` may be absent (a file saved before chainrule kept them) or null;
        otherwise it is a list of ``n_features`` distinct strings. Strings must be text that
        UTF-8 can encode. ``target_mean`` and ``target_scale`` are absent (targets not
        standardized) or both present, for regression, as lists of one finite number per
        output (each scale at least ``SMALLEST_SCALE``); the number of outputs is
        the network's, which ``cr.load`` checks. Any other key is refused (a newer chainrule's,
        which this one would otherwise drop silently).
        """
        if not isinstance(saved, dict) or any(key not in saved for key in SAVED_KEYS):
            raise DataError(f"preprocessing: malformed saved preprocessing (expected an object with the keys "
                            f"{', '.join(SAVED_KEYS)}, got {_keys_or_type(saved)})")
        for key in saved:
            if key not in SAVED_KEYS and key not in OPTIONAL_KEYS:
                raise DataError(f"preprocessing: unexpected key {quoted(key, 60)}, not one this chainrule writes "
                                f"(it writes {', '.join(SAVED_KEYS + OPTIONAL_KEYS)})")
        n_features = saved["n_features"]
        if not is_json_count(n_features) or n_features < 1:
            raise DataError(f"preprocessing.n_features: expected an integer >= 1, got {quoted(n_features)}")
        if saved["task"] not in TASKS:
            raise DataError(f"preprocessing.task: expected one of {listing(TASKS)}; got {quoted(saved['task'])}")
        mean = _saved_vector(saved, "mean", n_features)
        scale = _saved_vector(saved, "scale", n_features)
        _check_saved_scale(scale, "scale")
        classes = saved["classes"]
        if classes is not None and not (isinstance(classes, list) and _are_labels(classes)):
            raise DataError("preprocessing.classes: expected null or at least 2 distinct strings or numbers")
        if classes is not None:
            _check_labels(classes, saved["task"], "preprocessing.classes")
        feature_names = saved.get("feature_names")
        if feature_names is not None:
            names = isinstance(feature_names, list) and distinct_names(feature_names) is not None
            if not names or len(feature_names) != n_features:
                raise DataError(f"preprocessing.feature_names: expected null or a list of {n_features} "
                                f"distinct strings")
            _check_text(feature_names, "preprocessing.feature_names", "feature name")
        target_mean, target_scale = _saved_target_standardization(saved)
        return cls(n_features, saved["task"], mean, scale, classes, feature_names, target_mean, target_scale)


def check_preprocessor(preprocessor, n_inputs: int | None, n_outputs: int | None,
                       name: str = "model.preprocessor", *, remembered: bool = True) -> None:
    """DataError naming ``name`` and the field unless ``preprocessor`` (a model's; not None)
    fits the network it prepares rows for, of ``n_inputs`` inputs and ``n_outputs`` outputs
    (None: not known): ``check_preprocessor_inputs``, then ``check_preprocessor_outputs``.

    ``cr.save`` and ``cr.load`` check a model's preprocessor so (named ``preprocessor``, in a
    message naming the file). ``predict`` checks the two halves apart, the outputs' once the
    network has given its outputs, whose number would otherwise cost a walk through its layers.
    """
    check_preprocessor_inputs(preprocessor, n_inputs, name, remembered=remembered)
    check_preprocessor_outputs(preprocessor, n_outputs, name)


def check_preprocessor_inputs(preprocessor, n_inputs: int | None, name: str = "model.preprocessor", *,
                              remembered: bool = True) -> None:
    """DataError naming ``name`` and the field unless ``preprocessor`` is a :class:`Preprocessor`
    that can prepare rows for a network of ``n_inputs`` inputs (None: not known).

    That is: ``task`` one of TASKS; ``n_features`` an integer >= 1, equal to ``n_inputs``;
    ``mean`` and ``scale`` both None or both real arrays of shape (n_features,), finite, each
    scale at least ``SMALLEST_SCALE``; ``feature_names`` None or n_features distinct strings;
    ``classes`` None or a list of at least 2 distinct plain labels of one kind, None for
    regression; strings that UTF-8 can encode. ``predict`` asks at every call: the fields are
    checked once for the same objects (by identity; their values cost 5 µs at batch 1, the
    comparison a fraction of one), so a field changed in place after a check is not seen;
    ``remembered=False`` checks every field all the same (``cr.save``, ``cr.fit``: a file that
    ``cr.load`` would refuse, or a fit on NaN inputs, must not come of an array changed in place).
    """
    if not isinstance(preprocessor, Preprocessor):
        raise DataError(f"{name}: expected a chainrule Preprocessor (or None), got {type(preprocessor).__name__}")
    if n_inputs is not None and preprocessor.n_features != n_inputs:
        raise DataError(f"{name}.n_features: expected {n_inputs} (the network's input width), got "
                        f"{quoted(preprocessor.n_features)}")
    fields = (preprocessor.task, preprocessor.n_features, preprocessor.mean, preprocessor.scale,
              preprocessor.feature_names, preprocessor.classes)
    checked = preprocessor.__dict__.get("_checked_fields")
    if not remembered or checked is None or not all(map(operator.is_, fields, checked)):
        _check_fields(preprocessor, name)
        preprocessor.__dict__["_checked_fields"] = fields


def _check_fields(preprocessor: Preprocessor, name: str) -> None:
    """DataError naming ``name`` and the field unless each field is as ``check_preprocessor_inputs`` says."""
    if preprocessor.task not in TASKS:
        raise DataError(f"{name}.task: expected one of {listing(TASKS)}; got {quoted(preprocessor.task)}")
    n_features = preprocessor.n_features
    if not isinstance(n_features, (int, numpy.integer)) or isinstance(n_features, bool) or n_features < 1:
        raise DataError(f"{name}.n_features: expected an integer >= 1, got {quoted(n_features)}")
    _check_vectors(preprocessor.mean, preprocessor.scale, ("mean", "scale"), n_features, "feature", name)
    _check_names_and_classes(preprocessor, n_features, name)


def _check_names_and_classes(preprocessor: Preprocessor, n_features: int, name: str) -> None:
    """DataError unless ``feature_names`` are None or n_features distinct strings, and
    ``classes`` None or a list of at least 2 distinct labels, each a str, int, float or bool
    (what a model file holds: ``cr.load`` refuses anything else), as ``_check_labels`` says;
    strings that UTF-8 can encode."""
    names = preprocessor.feature_names
    if names is not None and (not isinstance(names, list) or len(names) != n_features
                              or distinct_names(names) is None):
        got = f"{len(names):,} items" if isinstance(names, list) else type(names).__name__
        raise DataError(f"{name}.feature_names: expected None or a list of {n_features} distinct strings, one "
                        f"per feature, got {got}{'' if not isinstance(names, list) else f': {quoted(names)}'}")
    if names is not None:
        _check_text(names, f"{name}.feature_names", "feature name")
    classes = preprocessor.classes
    if classes is None:
        return
    if not isinstance(classes, list):
        raise DataError(f"{name}.classes: expected None or a list of labels, got {type(classes).__name__}")
    if not _are_labels(classes):
        raise DataError(f"{name}.classes: expected at least 2 distinct labels, each a str, int, float or bool, "
                        f"got {quoted(classes)}")
    _check_labels(classes, preprocessor.task, f"{name}.classes")


def _are_labels(classes: list) -> bool:
    """Whether ``classes`` are at least 2 distinct plain labels (str, int, float, bool), as a model
    file holds them."""
    plain = all(isinstance(label, (str, int, float, bool)) for label in classes)
    return plain and len(classes) >= 2 and len(set(classes)) == len(classes)


def _check_labels(classes: list, task: str, name: str) -> None:
    """DataError naming ``name`` unless the plain labels ``classes`` (see ``_are_labels``) are
    what ``fit`` makes of a task's labels: no classes for a regression (``predict`` answers its
    outputs, ``chainrule info`` would list the classes), labels of one kind, all numbers, all
    strings or all booleans (``fit`` refuses others: 1 and "1" would both be "1" in a CSV),
    and strings that UTF-8 can encode (see ``_check_text``)."""
    if task == "regression":
        raise DataError(f"{name}: expected none for a regression (task 'regression' has no classes), "
                        f"got {quoted(classes)}")
    kinds = {_label_kind(label) for label in classes}
    if len(kinds) > 1:
        raise DataError(f"{name}: labels must be all numbers, all strings or all booleans, got labels of kinds "
                        f"{', '.join(sorted(kinds))}: {quoted(classes)}")
    _check_text(classes, name, "label")


def _check_text(values, name: str, what: str, error=DataError) -> None:
    """``error`` naming ``name`` and the first str among ``values`` that UTF-8 cannot encode.

    Such a string holds a lone surrogate: what Python makes of bytes that are not UTF-8 in a
    name it decodes from the system (``os.listdir``, ``sys.argv``: b"caf\\xe9" becomes
    "caf\\udce9"). A model keeps its labels and feature names to write them out (a CSV, the
    terminal, a model file's JSON), which such a string would make fail at ``predict``.
    """
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise error(f"{name}: the {what} {quoted(value)} is not text that UTF-8 can encode: it holds a lone "
                            f"surrogate, as Python decodes a name whose bytes are not UTF-8 (a file or folder name "
                            f"in another encoding); decode such names with their own encoding") from None


def check_preprocessor_outputs(preprocessor: Preprocessor, n_outputs: int | None,
                               name: str = "model.preprocessor") -> None:
    """DataError naming ``name`` and the field unless the classes and target standardization of
    ``preprocessor`` (checked by ``check_preprocessor_inputs``) fit a network of ``n_outputs``
    outputs (None: not known): one class per output (output k is ``classes[k]``), or two for a
    single output (a binary classifier's one logistic output); ``target_mean`` and
    ``target_scale`` both None or, for regression, both real arrays of one finite number per
    output (``predict`` takes each output back to its target's units), each scale > 0."""
    classes = preprocessor.classes
    if n_outputs is not None and classes is not None and len(classes) != n_outputs and not (
            n_outputs == 1 and len(classes) == 2):
        expected = ("2 classes for the network's one output (or 1)" if n_outputs == 1
                    else f"{n_outputs} classes, one per output of the network")
        raise DataError(f"{name}.classes: expected {expected}, got {len(classes):,}")
    if preprocessor.target_mean is None and preprocessor.target_scale is None:
        return
    if preprocessor.task != "regression":
        raise DataError(f"{name}.target_mean: only regression targets are standardized, but the task is "
                        f"{quoted(preprocessor.task)}")
    for key in ("target_mean", "target_scale"):
        values = getattr(preprocessor, key)
        if n_outputs is not None and numpy.ndim(values) == 1 and len(values) != n_outputs:
            raise DataError(f"{name}.{key}: expected {n_outputs} values, one per output of the network, "
                            f"got {len(values):,}")
    _check_vectors(preprocessor.target_mean, preprocessor.target_scale, ("target_mean", "target_scale"), n_outputs,
                   "output", name)


def _check_vectors(mean, scale, keys: tuple[str, str], n: int | None, what: str, name: str) -> None:
    """DataError naming ``name.key`` unless ``mean`` and ``scale`` (attributes ``keys``) are both
    None, or both real arrays of shape (n,) (for ``n`` None: of one shape (k,), k >= 1), of one
    value per ``what``: finite, each scale at least ``SMALLEST_SCALE``. Searched for the culprit
    only when the cheap test (``_is_standardization``) fails."""
    if mean is None and scale is None or _is_standardization(mean, scale, n):
        return
    for key, values, other in ((keys[0], mean, keys[1]), (keys[1], scale, keys[0])):
        if values is None:
            raise DataError(f"{name}.{key}: expected an array beside {name}.{other} (standardization uses both), "
                            f"got None")
        if n is None and isinstance(values, numpy.ndarray) and values.ndim == 1 and len(values):
            n = len(values)  # the target standardization's own width; the other must match it
        if not isinstance(values, numpy.ndarray) or values.dtype.kind not in "iuf" or values.shape != (n,):
            wanted = f"a NumPy array of {n} real numbers" if n is not None else "a 1-d NumPy array of real numbers"
            got = (f"shape {values.shape} of {values.dtype}" if isinstance(values, numpy.ndarray)
                   else type(values).__name__)
            raise DataError(f"{name}.{key}: expected {wanted}, one per {what}, got {got}")
    wrong_mean, wrong_scale = ~numpy.isfinite(mean), ~(scale >= SMALLEST_SCALE) | numpy.isinf(scale)  # NaN >= is False
    for key, values, wrong in ((keys[0], mean, wrong_mean), (keys[1], scale, wrong_scale)):
        if wrong.any():
            index = int(numpy.argmax(wrong))
            expected = "a finite number > 0" if key == keys[1] else "a finite number"
            if key == keys[1] and 0 < values[index] < SMALLEST_SCALE:
                expected = (f"a finite number > 0, at least {SMALLEST_SCALE} (float64's smallest normal number: a "
                            f"subnormal scale makes (x − mean) / scale infinite)")
            raise DataError(f"{name}.{key}[{index}]: expected {expected} (one per {what}), got {values[index]}")


def _is_standardization(mean, scale, n: int | None) -> bool:
    """Whether ``mean`` and ``scale`` are NumPy arrays of real numbers of shape (n,) (for ``n``
    None: of one shape (k,), k >= 1), finite, each scale at least ``SMALLEST_SCALE``.

    ``predict`` asks at every call. Four reductions, the minimum and maximum of each vector
    compared with SMALLEST_SCALE or ±Inf (which a NaN fails), about 1 µs each at 64 or 784
    features, most of it the call: no arithmetic, so no NumPy warning and no ``numpy.errstate``
    (which would cost as much again).
    """
    if not (type(mean) is type(scale) is numpy.ndarray and mean.dtype.kind in "iuf" and scale.dtype.kind in "iuf"):
        return False  # or a subclass of ndarray, which _check_vectors looks at closer
    shape = (len(mean) if n is None and mean.ndim == 1 else n,)
    if mean.shape != shape or scale.shape != shape or shape == (0,):
        return False
    lowest, highest = numpy.minimum.reduce, numpy.maximum.reduce  # array.min() and .max() without their wrapper
    return (lowest(scale) >= SMALLEST_SCALE and highest(scale) < math.inf and lowest(mean) > -math.inf
            and highest(mean) < math.inf)


def standardized_targets(y, mean, scale) -> numpy.ndarray:
    """Regression targets ``y`` standardized, (y − mean) / scale, in float64 (``mean`` and
    ``scale`` of one value per output, broadcast over y's last axis), as
    ``Preprocessor.standardize_targets`` computes them before its cast. A value beyond float64's
    range is inf, without NumPy's overflow warning: the callers name such a target."""
    with numpy.errstate(over="ignore"):
        return (numpy.asarray(y, dtype=numpy.float64) - mean) / scale


def _column_means(X: numpy.ndarray, feature_names: list | None = None, name: str = "X", rows=None) -> numpy.ndarray:
    """``X.mean(axis=0, dtype=float64)`` (of ``X[rows]`` when ``rows`` are given: see
    ``_sums_in_row_order``); NonFiniteError naming ``name`` and the index of the first NaN or
    Inf in X (``name[rows]`` and its index there, for ``rows``), as ``cr.fit`` names it; or
    DataError naming ``name`` and the first column (by index, and by name when
    ``feature_names`` are given) whose sum overflows float64 (two values of 1e308)."""
    with numpy.errstate(over="ignore", invalid="ignore"):  # reported below
        mean = X.mean(axis=0, dtype=numpy.float64) if rows is None else _row_order_sum(X, rows) / len(rows)
    not_finite = numpy.flatnonzero(~numpy.isfinite(mean))
    if len(not_finite) == 0:
        return mean
    # A NaN or Inf in X makes the mean of its column NaN or Inf: so found without a pass over X of its own.
    check_finite(X if rows is None else X[rows], name if rows is None else f"{name}[rows]")
    column = not_finite[0]  # its values are finite: their sum overflowed
    values = X[:, column] if rows is None else X[rows, column]
    named = "" if feature_names is None else f" ({quoted(feature_names[column])})"
    largest = float(numpy.abs(values).max())
    raise DataError(f"{name}: the values of column {column}{named} sum beyond the range of float64 (up to "
                    f"{largest:.3g} each), so their mean cannot be computed; divide that column by a "
                    f"power of ten before training")


def _as_rows(X, name: str = "X") -> numpy.ndarray:
    """``X`` as ``fit`` and ``transform`` read it: as ``checks.as_real_matrix`` reads it (a 2-d
    array of real numbers; a DataFrame's columns checked), or, for an object array holding real
    numbers alone (``numpy.asarray`` of a DataFrame of mixed column types), their float64 array,
    which each computation then gives as it gave for the objects; DTypeError naming ``name`` and
    the types it holds for an object array holding anything else (None, text)."""
    if isinstance(X, numpy.ndarray) and X.dtype == object:
        types = set(map(type, X.ravel()))  # one pass in C; bool is an int
        if not all(issubclass(kind, (int, float, numpy.integer, numpy.floating, numpy.bool_)) for kind in types):
            held = ", ".join(sorted(kind.__name__ for kind in types))
            raise DTypeError(f"{name}: expected real numbers, got dtype object holding {held}")
        X = X.astype(numpy.float64)
    return as_real_matrix(X, name)


def _standard_deviation(X: numpy.ndarray, mean: numpy.ndarray, rows=None) -> numpy.ndarray:
    """The standard deviation of each column of X (or of ``X[rows]``; mean ``mean``), finite for any finite X.

    Where the sum of squares fits in float64, ``X.std(axis=0, dtype=float64)`` bit for bit
    (see ``_unscaled_deviation``). A column whose squares overflow (a value of 1e300) is
    recomputed from its values divided by its largest magnitude (see ``_scaled_deviation``),
    without a NumPy overflow warning.
    """
    with numpy.errstate(over="ignore"):  # an overflowing column is recomputed below
        scale = _unscaled_deviation(X, mean, rows)
    for column in numpy.flatnonzero(numpy.isinf(scale)):
        scale[column] = _scaled_deviation(X[:, column] if rows is None else X[rows, column], mean[column])
    return scale


def _scaled_deviation(values, mean: float) -> float:
    """The standard deviation of ``values`` (mean ``mean``) computed on values / max |value|,
    whose squares cannot overflow, then multiplied back (at most max |value|: finite)."""
    values = numpy.asarray(values, dtype=numpy.float64)
    largest = numpy.abs(values).max()
    centred = values / largest - mean / largest  # each term in [-1, 1]: even x − mean cannot overflow
    return float(largest * math.sqrt(numpy.dot(centred, centred) / len(values)))


def _unscaled_deviation(X: numpy.ndarray, mean: numpy.ndarray, rows=None) -> numpy.ndarray:
    """``X.std(axis=0, dtype=float64)`` (or ``X[rows].std(...)``) bit for bit, without its
    float64 copy of a large X.

    NumPy computes it as sqrt(Σ_i (x_ij − mean_j)² / n_samples) on a float64 temporary of
    X's size; ``_row_order_sum`` makes the squares ``TRANSFORM_CHUNK`` rows at a time and adds
    them in NumPy's order. X.std itself is used, without ``rows``, for an X of one block or
    less (its temporary is no larger than a block), and for one that ``_sums_in_row_order``
    rules out or that is not C-contiguous (NumPy then sums each column pairwise, in another
    order).
    """
    if rows is None and not (len(X) > TRANSFORM_CHUNK and _sums_in_row_order(X) and X.flags.c_contiguous):
        return X.std(axis=0, dtype=numpy.float64)
    return numpy.sqrt(_row_order_sum(X, rows, mean) / (len(X) if rows is None else len(rows)))


def _sums_in_row_order(X: numpy.ndarray) -> bool:
    """Whether NumPy sums a C-contiguous X of X's shape and dtype over axis 0 row after row
    (out_j += x_ij, in float64), as ``_row_order_sum`` adds: X of several columns and a dtype
    of bool, integers or floats of up to 64 bits. (For one column it sums pairwise.)"""
    return X.shape[1] > 1 and X.dtype.kind in "biuf" and X.dtype.itemsize <= 8


def _row_order_sum(X: numpy.ndarray, rows, mean: numpy.ndarray | None = None) -> numpy.ndarray:
    """Σ_i x_i over the rows ``X[rows]`` in float64, or with ``mean`` Σ_i (x_i − mean)²,
    bit for bit as NumPy's sum over axis 0 of that C-contiguous float64 array.

    NumPy adds such an array row after row (out_j += x_ij; see ``_sums_in_row_order``), so
    the rows can be gathered (and squared) ``TRANSFORM_CHUNK`` at a time: each block is
    summed with the running total as its first row, which continues the additions in
    NumPy's order and so gives its exact result. ``rows`` is an integer array, or None for all.
    """
    total = numpy.zeros(X.shape[1])
    work = numpy.empty((min(len(X) if rows is None else len(rows), TRANSFORM_CHUNK) + 1, X.shape[1]))
    for _, values in _blocks(X, rows):
        block = work[:len(values) + 1]
        block[0] = total  # the running total leads the block, as in NumPy's one sum
        if mean is None:
            block[1:] = values
        else:
            numpy.subtract(values, mean, out=block[1:])
            numpy.square(block[1:], out=block[1:])
        numpy.sum(block, axis=0, out=total)
    return total


def _blocks(X: numpy.ndarray, rows):
    """(start, block) for each ``TRANSFORM_CHUNK`` rows of ``X[rows]`` in order: views of X
    when ``rows`` is None (all rows), gathered copies for an integer array of rows."""
    for start in range(0, len(X) if rows is None else len(rows), TRANSFORM_CHUNK):
        stop = start + TRANSFORM_CHUNK
        yield start, X[start:stop] if rows is None else X[rows[start:stop]]


def _settle_constant_columns(X: numpy.ndarray, mean: numpy.ndarray, scale: numpy.ndarray, rows=None) -> None:
    """Scale 1 for the columns of ``X`` (its ``rows``, or all) whose deviation is rounding error
    (``_is_constant``), and, for one that holds a single value v, mean v itself: the mean summed
    in float64 can be off by many ulps of v (1e20 in 1,000 rows: by ~1e6), which z = x − mean
    would then carry into every row instead of 0. In place."""
    constant = numpy.flatnonzero(_is_constant(scale, mean, len(X) if rows is None else len(rows)))
    scale[constant] = 1.0
    for j in constant:  # the columns of one value are few, and each is read once more
        column = X[:, j] if rows is None else X[rows, j]
        if column.min() == column.max():
            mean[j] = column[0]


def _is_constant(scale: numpy.ndarray, mean: numpy.ndarray, n_samples: int) -> numpy.ndarray:
    """True for the features whose standard deviation is rounding error, not spread.

    A column holding one value v in every row can get a mean off by a few ulps of v, and so a
    deviation like 1e-15 instead of 0; dividing by it would turn a later 0.1000001 into 7e7.
    The bound is scikit-learn's (``StandardScaler``): the variance is at most what summing n
    values of size |mean| in float64 can make up, n ε σ² + (n ε |mean|)². It is tested on scale
    and mean divided by max(scale, |mean|) in the columns where that is beyond ``LARGE``, so
    that no square overflows, and on scale and mean as they are (divided by 1) elsewhere.
    """
    eps = numpy.finfo(numpy.float64).eps
    size = numpy.maximum(scale, numpy.abs(mean))
    divisor = numpy.where(size > LARGE, size, 1.0)
    scale, mean = scale / divisor, mean / divisor
    variance = scale**2
    return variance <= n_samples * eps * variance + (n_samples * eps * mean) ** 2


def _plain(label):
    """A label as a plain Python value (JSON-ready, hashable, comparable with raw input)."""
    return label.item() if isinstance(label, numpy.generic) else label


def _label_kind(label) -> str:
    """"bool", "str" or "number" for a plain label; its type's name for anything else."""
    if isinstance(label, bool):  # before the numbers: a bool is an int to Python
        return "bool"
    if isinstance(label, str):
        return "str"
    if isinstance(label, (int, float)):
        return "number"
    return type(label).__name__


#: Text that reads as a number, and as an integer (a CSV file's labels, read as text for a model whose classes are)
NUMBER_TEXT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", re.ASCII)
INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*", re.ASCII)


def other_kind(labels, classes: list) -> str:
    """The end of the error for labels that are not among ``classes``, when every label is of one kind and
    every class of another (``"; the labels here are integers, the training classes text"``: a model
    trained on iris.csv's species names scored on the labels 0, 1, 2); "" otherwise. The kinds are text,
    numbers (integers where each is one; text that reads as a number, as a CSV file's labels read as text,
    counts as a number) and True/False."""
    of_labels, of_classes = _kind_of_all(numpy.asarray(labels).ravel().tolist()), _kind_of_all(classes)
    if of_labels is None or of_classes is None or of_labels[0] == of_classes[0]:
        return ""
    return f"; the labels here are {of_labels[1]}, the training classes {of_classes[1]}"


def _kind_of_all(labels: list) -> tuple[str, str] | None:
    """(kind, as a message says it) of ``labels`` when all are of one kind: ("text", "text"), ("number",
    "integers" or "numbers"), ("bool", "True/False"); None for none or labels of several kinds."""
    kinds = {"number" if isinstance(label, str) and NUMBER_TEXT.fullmatch(label) else _label_kind(label)
             for label in labels}
    if len(kinds) != 1 or not kinds <= {"bool", "str", "number"}:
        return None
    kind = kinds.pop()
    if kind == "number":
        whole = all(isinstance(label, int) or isinstance(label, str) and INTEGER_TEXT.fullmatch(label)
                    for label in labels)
        return kind, "integers" if whole else "numbers"
    return kind, {"str": "text", "bool": "True/False"}[kind]


def check_label_kinds(labels: numpy.ndarray, name: str = "y") -> None:
    """LabelError naming ``name`` unless the labels of an object array are of one kind: all
    numbers, all strings or all booleans (``numpy.unique`` would fail sorting ints among strings
    with a bare "'<' not supported" TypeError). Arrays of another dtype pass."""
    if labels.dtype != object:
        return
    items = labels.ravel()
    one_of_each_type = dict(zip(map(type, items), items)).values()  # a label's kind follows from its type
    kinds = {_label_kind(_plain(label)) for label in one_of_each_type}
    if len(kinds) > 1 or not kinds <= {"bool", "str", "number"}:
        types = sorted({type(_plain(label)).__name__ for label in items})
        raise LabelError(f"{name}: labels must be all numbers or all strings, got labels of types {', '.join(types)}")


def _distinct_labels(labels: numpy.ndarray) -> list:
    """The sorted distinct labels of ``y`` as plain values; refuses labels that no model file can
    hold (bytes, dates, durations, complex numbers: see ``_check_label_dtype``), mixed kinds,
    NaN/Inf and strings that UTF-8 cannot encode."""
    _check_label_dtype(labels)
    check_label_kinds(labels)
    classes = [_plain(label) for label in numpy.unique(labels)]
    for label in classes:
        if isinstance(label, float) and not math.isfinite(label):
            raise NonFiniteError(f"y: class labels must be finite, got {quoted(label)}")
    _check_text(classes, "y", "class label", LabelError)
    return classes


def _check_label_dtype(labels: numpy.ndarray) -> None:
    """LabelError naming y and its dtype unless it holds labels a model can answer in and a model
    file can hold: str, int, float or bool (an object array's are checked one by one). Bytes are
    not decoded (their encoding is the caller's to know), nor dates made into text."""
    kind = labels.dtype.kind
    if kind in "biufUOT":  # T: NumPy 2's variable-width StringDType
        return
    advice = ("decode them to str first, e.g. numpy.char.decode(y, 'utf-8')" if kind == "S"
              else "convert them to str or int labels first, e.g. y.astype(str)")
    what = {"S": "bytes", "M": "dates", "m": "durations", "c": "complex numbers"}.get(kind, "records")
    raise LabelError(f"y: class labels must be str, int, float or bool, got dtype {labels.dtype} ({what}); {advice}")


def _binary_classes(labels: numpy.ndarray) -> list | None:
    """The classes of a binary classifier's labels (one 0/1 label per row, for binary
    cross-entropy), 0 and 1 as plain values of the labels' kind: ``[False, True]`` for
    booleans, ``[0, 1]`` for integers, ``[0.0, 1.0]`` for floats; None for labels of another
    kind (which the loss refuses) and for probabilities between 0 and 1 (soft targets, not
    labels: predict answers 0/1 rows for them, as for multilabel columns)."""
    kind = labels.dtype.kind
    if kind == "b":
        return [False, True]
    if kind not in "iuf" or not bool(((labels == 0) | (labels == 1)).all()):
        return None
    return [0, 1] if kind in "iu" else [0.0, 1.0]


def _labels_array(classes: list) -> numpy.ndarray:
    """``classes`` as the array NumPy infers for them, or an object array when that array
    would change a label's value or type: mixed kinds (1 becoming "1", True becoming 1.0),
    ints mixed with floats (1 becoming 1.0), an int beyond 64 bits becoming a float."""
    inferred = numpy.asarray(classes)
    # Compared with their types, since 1 == 1.0 == True for Python.
    if inferred.dtype != object and _typed(inferred.tolist()) == _typed(classes):
        return inferred
    return numpy.asarray(classes, dtype=object)


def _searchable(labels: numpy.ndarray, classes: numpy.ndarray) -> bool:
    """Whether ``labels`` can be searched for among the sorted ``classes`` in the dtype NumPy
    compares them in, with every value exact there: both strings, both floats, integers whose
    common dtype is an integer one, or integers and floats (compared in float64) whose integers
    all lie within ±2**53. Otherwise (uint64 with int64 is float64, where 2**63 and 2**63 + 1
    are one number) the labels are looked up one by one."""
    kinds = labels.dtype.kind + classes.dtype.kind
    if kinds == "UU" or kinds == "ff":
        return True
    if set(kinds) <= set("iu"):
        return numpy.result_type(labels, classes).kind in "iu"
    if set(kinds) <= set("iuf"):
        integers = labels if labels.dtype.kind in "iu" else classes
        return len(integers) == 0 or -2**53 <= int(integers.min()) and int(integers.max()) <= 2**53
    return False


def _typed(labels: list) -> list:
    """Each label with its type, for comparisons that tell 1 from 1.0 and True."""
    return [(type(label), label) for label in labels]


def _saved_vector(saved: dict, key: str, n_features: int) -> numpy.ndarray | None:
    """``saved[key]`` (null or a list of n_features finite numbers) as a float64 vector."""
    values = saved[key]
    if values is None:
        return None
    if not isinstance(values, list) or len(values) != n_features:
        length = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise DataError(f"preprocessing.{key}: expected null or a list of {n_features} numbers, got {length}")
    for position, value in enumerate(values):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise DataError(f"preprocessing.{key}[{position}]: expected a number, got {type(value).__name__}")
    try:
        vector = numpy.asarray(values, dtype=numpy.float64)
    except OverflowError:  # a JSON integer such as 10**400 has no float64 value
        raise DataError(f"preprocessing.{key}: holds a number too large for float64") from None
    if not numpy.isfinite(vector).all():
        raise DataError(f"preprocessing.{key}: holds non-finite values")
    return vector


def _saved_target_standardization(saved: dict) -> tuple[numpy.ndarray | None, numpy.ndarray | None]:
    """(target_mean, target_scale) of a saved preprocessing: both None when absent, else float64
    vectors of one finite number per output (each scale at least ``SMALLEST_SCALE``), for
    regression; DataError naming the key otherwise."""
    present = [key for key in ("target_mean", "target_scale") if key in saved]
    if not present:
        return None, None
    if len(present) == 1:
        missing = "target_scale" if present == ["target_mean"] else "target_mean"
        raise DataError(f"preprocessing.{missing}: expected it beside preprocessing.{present[0]}")
    if saved["task"] != "regression":
        raise DataError(f"preprocessing.target_mean: only regression targets are standardized, but the task is "
                        f"{quoted(saved['task'])}")
    lengths = [len(saved[key]) if isinstance(saved[key], list) else None for key in ("target_mean", "target_scale")]
    if None not in lengths and lengths[0] != lengths[1]:
        raise DataError(f"preprocessing.target_mean, target_scale: expected one number per output in each, got "
                        f"{lengths[0]} and {lengths[1]}")
    mean = _saved_vector(saved, "target_mean", max(lengths[0] or 0, 1))
    scale = _saved_vector(saved, "target_scale", len(mean)) if mean is not None else None
    if mean is None or scale is None:
        raise DataError("preprocessing.target_mean: expected lists of one number per output in target_mean and "
                        "target_scale, got null")
    _check_saved_scale(scale, "target_scale")
    return mean, scale


def _check_saved_scale(scale: numpy.ndarray | None, key: str) -> None:
    """DataError naming ``preprocessing.key`` unless each saved scale (None: no standardization)
    is at least ``SMALLEST_SCALE``."""
    if scale is None:
        return
    if (scale <= 0).any():
        raise DataError(f"preprocessing.{key}: every scale must be > 0")
    if (scale < SMALLEST_SCALE).any():
        raise DataError(f"preprocessing.{key}: every scale must be > 0, at least {SMALLEST_SCALE} (float64's "
                        f"smallest normal number: a subnormal scale makes (x − mean) / scale infinite), got "
                        f"{float(scale.min())!r}")


def _keys_or_type(saved) -> str:
    """What a saved preprocessing holds, for an error message: its keys, or its type."""
    return f"keys {', '.join(map(str, saved))}" if isinstance(saved, dict) else type(saved).__name__
