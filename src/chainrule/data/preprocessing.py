"""Preprocessing fitted on training data only and saved with the model.

A :class:`Preprocessor` remembers what ``fit`` learned about the data beside the
weights: the mean and scale of each feature (standardization, z = (x − μ)/σ) and, for
classification, the original class labels in the order of the model's outputs. Saved in
the model file, it lets ``predict`` take raw rows and answer in the user's own labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from ..errors import DataError, LabelError, ShapeError

TASKS = ("classification", "multilabel", "regression")


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
        Constant features get scale 1 (they become 0 rather than NaN).
    classes : list, or None
        For classification, the original labels; the model's output k is ``classes[k]``.
    """

    n_features: int
    task: str = "classification"
    mean: numpy.ndarray | None = None
    scale: numpy.ndarray | None = None
    classes: list | None = None

    @classmethod
    def fit(cls, X, y, task: str, *, standardize: bool = True) -> "Preprocessor":
        """Learn the feature statistics of ``X`` and the classes of ``y`` (training data only)."""
        if task not in TASKS:
            raise DataError(f"task: expected one of {TASKS}, got {task!r}")
        X = numpy.asarray(X)
        if X.ndim != 2:
            raise ShapeError(f"X: expected a 2-d array (n_samples, n_features), got shape {X.shape}")
        mean = scale = None
        if standardize:
            mean = X.mean(axis=0, dtype=numpy.float64)
            scale = X.std(axis=0, dtype=numpy.float64)
            scale[scale == 0] = 1.0
        classes = None
        if task == "classification":
            labels = numpy.asarray(y)
            if labels.ndim != 1:
                raise ShapeError(f"y: expected one label per row (n_samples,), got shape {labels.shape}")
            classes = [_plain(label) for label in numpy.unique(labels)]
            if len(classes) < 2:
                raise LabelError(f"y: classification needs at least 2 classes, found only {classes!r}")
        return cls(n_features=X.shape[1], task=task, mean=mean, scale=scale, classes=classes)

    @property
    def n_classes(self) -> int | None:
        """Number of classes (None unless classification)."""
        return None if self.classes is None else len(self.classes)

    def transform(self, X, dtype=numpy.float32) -> numpy.ndarray:
        """Raw rows (n_samples, n_features) -> the model's inputs, standardized, as ``dtype``."""
        X = numpy.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ShapeError(
                f"X: the model expects rows of {self.n_features} features, got shape {tuple(X.shape)}"
            )
        if self.mean is None:
            return X.astype(dtype)
        return ((X - self.mean) / self.scale).astype(dtype)

    def encode(self, y, name: str = "y") -> numpy.ndarray:
        """Original labels -> class indices 0..n_classes−1 (classification only); errors name ``name``."""
        labels = numpy.asarray(y)
        if labels.ndim != 1:
            raise ShapeError(f"{name}: expected one label per row (n_samples,), got shape {labels.shape}")
        classes = numpy.asarray(self.classes)
        if labels.dtype.kind in "iuf" and classes.dtype.kind in "iuf" or labels.dtype.kind == classes.dtype.kind == "U":
            # Vectorized: find each label among the sorted classes, then check it is really there.
            order = numpy.argsort(classes, kind="stable")
            where = numpy.searchsorted(classes[order], labels).clip(0, len(classes) - 1)
            found = classes[order][where] == labels
            if not found.all():
                label = _plain(labels[numpy.argmin(found)])
                raise LabelError(f"{name}: label {label!r} was not among the training classes {self.classes!r}")
            return order[where].astype(numpy.intp)
        index = {label: k for k, label in enumerate(self.classes)}
        try:
            return numpy.fromiter((index[_plain(label)] for label in labels), dtype=numpy.intp, count=len(labels))
        except KeyError as error:
            raise LabelError(f"{name}: label {error.args[0]!r} was not among the training classes {self.classes!r}") from None

    def decode(self, indices) -> numpy.ndarray:
        """Class indices -> the original labels."""
        return numpy.asarray(self.classes, dtype=object)[numpy.asarray(indices)]

    def to_json(self) -> dict:
        """A JSON-ready dict (lists and numbers only)."""
        return {
            "n_features": self.n_features,
            "task": self.task,
            "mean": None if self.mean is None else self.mean.tolist(),
            "scale": None if self.scale is None else self.scale.tolist(),
            "classes": self.classes,
        }

    @classmethod
    def from_json(cls, saved: dict) -> "Preprocessor":
        """The inverse of ``to_json``; raises DataError on a malformed dict."""
        try:
            mean = None if saved["mean"] is None else numpy.asarray(saved["mean"], dtype=numpy.float64)
            scale = None if saved["scale"] is None else numpy.asarray(saved["scale"], dtype=numpy.float64)
            made = cls(int(saved["n_features"]), saved["task"], mean, scale, saved["classes"])
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"preprocessing: malformed saved preprocessing ({error})") from None
        if made.n_features < 1 or (made.classes is not None and not isinstance(made.classes, list)):
            raise DataError("preprocessing: n_features must be >= 1 and classes a list or null")
        for name, array in (("mean", made.mean), ("scale", made.scale)):
            if array is not None and array.shape != (made.n_features,):
                raise DataError(f"preprocessing: {name} has shape {array.shape}, expected ({made.n_features},)")
            if array is not None and not numpy.isfinite(array).all():
                raise DataError(f"preprocessing: {name} holds non-finite values")
        if made.scale is not None and (made.scale <= 0).any():
            raise DataError("preprocessing: every scale must be > 0")
        if made.classes is not None:
            plain = all(isinstance(label, (str, int, float, bool)) for label in made.classes)
            if not plain or len(set(made.classes)) != len(made.classes) or len(made.classes) < 2:
                raise DataError("preprocessing: classes must be at least 2 distinct strings or numbers")
        if made.task not in TASKS:
            raise DataError(f"preprocessing: unknown task {made.task!r}")
        return made


def _plain(label):
    """A label as a plain Python value (JSON-ready, hashable, comparable with raw input)."""
    return label.item() if isinstance(label, numpy.generic) else label
