"""What a training run leaves behind: metrics and gradient norms, epoch by epoch.

A checkpoint saves its History as JSON; :meth:`History.from_checkpoint` reads it back,
checking every field: a crafted file is refused when it is loaded, rather than failing the
plots at the end of the resumed run. :meth:`History.from_json` (metrics.json's "history") checks
the fields' types alike. The small checks of a checkpoint's JSON fields (:func:`checkpoint_field`,
:func:`is_count`, :func:`is_object`) live here, and ``chainrule.training.checkpoint`` uses them too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..checks import is_json_count, is_json_number
from ..errors import DataError, MissingKeyError, ModelFileError, quoted
from ..io.json_values import strict_json
from ..optimizers.saved_state import MAX_STEP_COUNT
from .metrics import metric_names

STOP_REASONS = ("completed", "early_stopping", "interrupted")


def _metric_text(value) -> str:
    """A metric's value as ``fit``'s epoch line shows it (4 significant digits); anything else (a History made by
    hand holds what it was given) as its repr."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return repr(value)


@dataclass
class History(Mapping):
    """The record of a training run.

    Read as a mapping, a History is its metric series, like Keras's ``history.history``:
    ``history["loss"]`` is the list of per-epoch losses, ``"val_loss" in history`` tells
    whether the run had validation data, ``list(history)`` (or ``keys()``) names the
    metrics and ``items()`` pairs them with their series. ``len(history)`` is the number of
    metrics, not of epochs (that is ``epochs``), so a History with no metrics is falsy.
    It is read-only as a mapping: ``append`` records values. A missing metric raises
    :class:`~chainrule.errors.MissingKeyError` (a KeyError) listing those there are.

    Attributes
    ----------
    metrics : dict of str to list of float
        One value per epoch for each metric: ``"loss"`` and ``"val_loss"``; for
        classification ``"accuracy"`` and ``"val_accuracy"``; for regression ``"r2"``,
        ``"mae"``, ``"val_r2"``, ``"val_mae"``. Validation entries exist only with validation data.
        No epoch numbers are stored: a series shorter than the run (validation added when
        resuming a checkpoint older than ``fit``'s validation check) holds the values of the
        run's last epochs, and is plotted there.
    grad_norms : dict of str to list of float
        Layer path (``"0"``, ``"2"``, ``"1.f.0"``...) -> the Euclidean norm ‖∂L/∂W‖ of that
        layer's weights, averaged over the batches of each epoch that were sampled. A first
        layer whose norm is orders of magnitude below the last one's shows the gradient
        "getting progressively more diluted" through depth (lecture notes). Layers frozen
        (``trainable = False``) when ``fit`` starts have no gradient and are not listed.
    initial_grad_norms : dict of str to float
        The same norms on the first batch, before any update (the network at initialization).
    epochs : int
        Epochs run (including those of the run this one resumed); the metric series hold
        one value for each. When ``partial_last_epoch``, the last of them was cut short.
    partial_last_epoch : bool
        Whether Ctrl-C stopped the last epoch before its last batch: its values then come
        from the batches it ran, it was not checkpointed, and ``complete_epochs`` is one
        less than ``epochs``.
    best_epoch : int or None
        The epoch (1-based) with the best monitored value, when early stopping ran.
    stop_reason : str
        "completed", "early_stopping" or "interrupted" (``STOP_REASONS``).

    A checkpoint's History is checked when it is written and when it is loaded
    (:meth:`from_checkpoint`): each training series ("loss", "accuracy"...) holds ``epochs``
    values, a validation series, a series of one's own (see :meth:`append`) or a layer's gradient
    norms at most that many, no series is named as a metric of another task, ``best_epoch`` is
    one of the epochs, the gradient norms are those of the model's layers with weights.
    """

    metrics: dict = field(default_factory=dict)
    grad_norms: dict = field(default_factory=dict)
    initial_grad_norms: dict = field(default_factory=dict)
    epochs: int = 0
    best_epoch: int | None = None
    stop_reason: str = "completed"
    partial_last_epoch: bool = False

    def __getitem__(self, name: str) -> list:
        """The per-epoch values of metric ``name`` (the list itself, as ``metrics[name]``)."""
        try:
            return self.metrics[name]
        except KeyError:
            there = ", ".join(map(repr, self.metrics)) or "none (no epoch was recorded)"
            raise MissingKeyError(f"history has no metric {name!r}; the metrics recorded are {there}") from None

    def __iter__(self):
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def append(self, name: str, value: float) -> None:
        """Record ``value`` for metric ``name`` at the current epoch.

        A callback may record a series of its own so (``on_train_begin`` hands it the History):
        a checkpoint saves it and ``fit(resume=...)`` carries it on, when its name is none of
        chainrule's metrics ("lr", not "r2" in a classification run) and it holds at most one
        value per epoch; otherwise the checkpoint is refused when it is written."""
        self.metrics.setdefault(name, []).append(float(value))

    @property
    def history(self) -> dict:
        """``metrics`` under Keras's name, so that ``history.history["loss"]`` works as there."""
        return self.metrics

    @property
    def complete_epochs(self) -> int:
        """The epochs that ran to their last batch: ``epochs``, less one for a partial last epoch."""
        return self.epochs - 1 if self.partial_last_epoch else self.epochs

    def last(self) -> dict:
        """The metrics of the last epoch."""
        return {name: values[-1] for name, values in self.metrics.items() if values}

    def __repr__(self) -> str:
        """The run in one line: its epochs, how it ended, the last epoch's metrics (as ``fit``'s epoch line
        shows them) and where the series are. The dataclass's own repr printed every value of every series,
        a screen of numbers in a notebook for 20 epochs and tens of thousands of characters for a few hundred."""
        partial = ", partial_last_epoch=True" if self.partial_last_epoch else ""
        last = ", ".join(f"{name} {_metric_text(value)}" for name, value in self.last().items()) or "none"
        return (f"History(epochs={self.epochs}, stop_reason={self.stop_reason!r}, best_epoch={self.best_epoch}"
                f"{partial}; last epoch: {last}; per-epoch values in .metrics, gradient norms of "
                f"{len(self.grad_norms)} layers in .grad_norms)")

    def to_json(self) -> dict:
        """The History as strict JSON, which :meth:`from_json` reads back: a NaN or infinite value
        (a validation row far outside the training rows gives a NaN ``val_loss``) is None (null),
        since a model file, a checkpoint and metrics.json hold no NaN or Infinity."""
        return strict_json({
            "metrics": self.metrics,
            "grad_norms": self.grad_norms,
            "initial_grad_norms": self.initial_grad_norms,
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "stop_reason": self.stop_reason,
            "partial_last_epoch": self.partial_last_epoch,
        })

    @classmethod
    def from_json(cls, saved: dict) -> "History":
        """The History ``to_json`` gave (metrics.json's ``"history"``), every field checked.

        ``saved`` must be an object holding at least ``metrics`` and ``epochs``; a key it lacks
        among the others keeps its default (a file written before ``partial_last_epoch`` existed
        had whole epochs only), and a key that is not a History's (a later version's) is ignored.
        A field of the wrong type or range (an ``epochs`` that is not an integer >= 0, a
        ``stop_reason`` not in STOP_REASONS, a series holding a string), or a ``saved`` that is
        not such an object (the whole metrics.json document instead of its ``"history"``), is a
        DataError naming it; a checkpoint's History is checked alike (:meth:`from_checkpoint`).

        A null among the values of ``metrics``, ``grad_norms`` or ``initial_grad_norms`` is read
        as NaN: strict JSON has neither NaN nor infinity, so ``to_json`` (metrics.json, a
        checkpoint) writes such a value (a run that diverged, a NaN ``val_loss``) as null. The
        plots mark NaN as diverged; an infinite value comes back as NaN.
        """
        if not is_object(saved) or any(key not in saved for key in ("metrics", "epochs")):
            raise DataError(f"history: expected the 'history' object of metrics.json, as History.to_json() writes it "
                            f"(with at least metrics and epochs), got {_keys_or_type(saved)}")
        problem = _field_problem(saved, required=())
        if problem:
            raise DataError(problem)
        fields = {key: saved[key] for key in cls.__dataclass_fields__ if key in saved}
        for key in ("metrics", "grad_norms", "initial_grad_norms"):
            if key in fields:
                fields[key] = {name: _null_as_nan(values) for name, values in fields[key].items()}
        return cls(**fields)

    @classmethod
    def from_checkpoint(cls, saved, path, *, epoch: int, model, task: str | None = None) -> "History":
        """The History that the checkpoint at ``path`` saved after ``epoch`` (its JSON ``saved``),
        every field checked, trained on ``model`` (the checkpoint's network) for ``task`` (the
        run's loss's; None: any).

        A field of the wrong type, or a History that disagrees with ``epoch``, itself, ``model``
        or ``task`` (see :func:`_agreement_problem`; a series a callback recorded with
        :meth:`append` is taken) is a ModelFileError naming ``path`` and the field.
        """
        checkpoint_field({"history": saved}, "history", path, "an object", is_object)
        # partial_last_epoch is absent from a checkpoint written before it existed
        problem = _field_problem(saved, required=[key for key in SAVED_FIELDS if key != "partial_last_epoch"])
        if problem:
            raise ModelFileError(f"{path}: checkpoint field {problem}")
        history = cls.from_json(saved)
        problem = _agreement_problem(history, model, task, epoch)
        if problem:
            raise ModelFileError(f"{path}: checkpoint field {problem}")
        return history


def _null_as_nan(values):
    """A series (or a single value) read from JSON, with NaN for each null in it (see :meth:`History.from_json`)."""
    if isinstance(values, list):
        return [math.nan if value is None else value for value in values]
    return math.nan if values is None else values


def _keys_or_type(saved) -> str:
    """What ``saved`` holds, for an error message: an object's keys (and a hint when it is the
    whole metrics.json document), or a value's type and text."""
    if not is_object(saved):
        return f"{quoted(saved, 60)} ({type(saved).__name__})"
    if not saved:
        return "an empty object"
    keys = ", ".join(key[:30] if isinstance(key, str) else quoted(key, 30) for key in list(saved)[:10])
    more = ", ..." if len(saved) > 10 else ""
    hint = ' (the whole metrics.json document: pass metrics["history"])' if "history" in saved else ""
    return f"an object with keys {keys}{more}{hint}"


def _is_number(value) -> bool:
    """A value of a History series: a number a float holds, or null (a non-finite value, which to_json writes so)."""
    return value is None or is_json_number(value)


def _is_series_by_name(value) -> bool:
    """An object of number lists, keyed by names (str): ``metrics``, ``grad_norms``."""
    return is_object(value) and all(isinstance(name, str) and isinstance(values, list) and all(map(_is_number, values))
                                    for name, values in value.items())


def checkpoint_problem(history: History, saved: dict, model, task: str | None, epoch: int) -> str | None:
    """``"history.<field>: ..."`` for what :meth:`History.from_checkpoint` would refuse in a
    checkpoint holding ``history`` (as ``saved``, its ``to_json()``) after ``epoch``, trained on
    ``model`` for ``task``; None when it would read it back. ``save_checkpoint`` asks before
    writing, so that a checkpoint written is one that resumes."""
    return (_field_problem(saved, required=SAVED_FIELDS)
            or _agreement_problem(history, model, task, epoch))


def _agreement_problem(history: History, model, task: str | None, epoch: int) -> str | None:
    """``"history.<field>: ..."`` unless ``history`` (its fields of the right types) is the one a
    checkpoint saves after ``epoch`` and agrees with itself, with the checkpoint's ``model`` and
    with the ``task`` of its run (None: any task); None when it does.

    - ``history.epochs`` is ``epoch``: save_checkpoint writes the History of the epoch it saves.
    - Each metric series is one that a run of ``task`` records (:func:`metric_names`), or a
      series of one's own: a name that is none of chainrule's metrics (a callback's
      ``History.append``). A metric of another task ("r2" in a classification run) is refused.
    - A training series ("loss", "accuracy"; "r2", "mae") holds one value per epoch, and is
      there once an epoch has run; a validation series (begun when validation was added on
      resume), a series of one's own and a layer's gradient norms (recorded while it trained) at
      most that many.
    - ``best_epoch`` is one of the epochs.
    - The gradient norms are keyed by the paths of the model's layers with weights ("0",
      "1.f.0"; "model" for a lone layer), as cr.fit records them.

    A crafted key or series used to pass, then fail the plots at the end of the resumed run, or
    the next resume. Any number a float holds is a value (a loss of 1e248 is what a fit may
    record and checkpoint)."""
    epochs = history.epochs
    if epochs != epoch:
        return f"history.epochs: expected the epoch {epoch}, got {epochs}"
    chainrule_metrics = metric_names("classification", validation=True) + metric_names("regression", validation=True)
    recorded = chainrule_metrics if task is None else metric_names(task, validation=True)
    for name, values in history.metrics.items():
        if name in chainrule_metrics and name not in recorded:
            return (f"history.metrics: {quoted(name, 60)} is not a metric that a {task} run records "
                    f"({', '.join(recorded)}); a series of one's own takes a name that is none of chainrule's")
        exact = name in recorded and not name.startswith("val_")
        if len(values) > epochs or (exact and len(values) != epochs):
            expected = f"{epochs} values (one per epoch)" if exact else f"at most {epochs} values (one per epoch)"
            return f"history.metrics.{name:.60}: expected {expected}, got {len(values)}"
    if task is not None and epochs:
        missing = [name for name in metric_names(task, validation=False) if name not in history.metrics]
        if missing:
            return (f"history.metrics: no {missing[0]!r} series; a {task} run records "
                    f"{', '.join(metric_names(task, validation=False))} at every epoch")
    layers = {layer_of(name) for name in model.params if name.rpartition(".")[2] == "W"}
    for key in ("grad_norms", "initial_grad_norms"):
        for layer in getattr(history, key):
            if layer not in layers:
                return (f"history.{key}: {quoted(layer)} is not a layer with weights of the checkpoint's network "
                        f"({', '.join(sorted(layers)) or 'none'})")
    for layer, values in history.grad_norms.items():
        if len(values) > epochs:
            return f"history.grad_norms.{layer}: expected at most {epochs} values (one per epoch), got {len(values)}"
    if history.best_epoch is not None and not 1 <= history.best_epoch <= epochs:
        return f"history.best_epoch: expected one of the epochs 1 to {epochs} or null, got {history.best_epoch}"
    return None


def layer_of(parameter: str) -> str:
    """The path by which ``grad_norms`` names the layer holding a parameter: "1.0.W" -> "1.0";
    a lone layer is "model"."""
    return parameter.rpartition(".")[0] or "model"


def checkpoint_field(parent: dict, key: str, path, expected: str, is_valid, where: str | None = None):
    """``parent[key]`` if ``is_valid`` accepts it; otherwise a ModelFileError naming the field."""
    value = parent.get(key)
    if key not in parent or not is_valid(value):
        found = "nothing" if key not in parent else quoted(value, 60)
        raise ModelFileError(f"{path}: checkpoint field {where or key}: expected {expected}, got {found}")
    return value


def is_object(value) -> bool:
    return isinstance(value, dict)


def is_count(value) -> bool:
    """A step or epoch count: an integer in [0, MAX_STEP_COUNT]. An epoch takes at least one
    step, so epochs share the bound, and no huge JSON integer reaches the progress bar or the
    plots, which need floats."""
    return is_json_count(value) and value <= MAX_STEP_COUNT


# The fields History.to_json writes, each with what it holds: (expected, is_valid). Only their
# types and ranges; whether they agree with one another is _agreement_problem's to check.
_FIELD_CHECKS = {
    "metrics": ("an object of number lists", _is_series_by_name),
    "grad_norms": ("an object of number lists", _is_series_by_name),
    "initial_grad_norms": ("an object of numbers",
                           lambda value: is_object(value) and all(isinstance(name, str) and _is_number(number)
                                                                  for name, number in value.items())),
    "epochs": (f"an integer in [0, {MAX_STEP_COUNT}]", is_count),
    "best_epoch": (f"an integer in [0, {MAX_STEP_COUNT}] or null", lambda value: value is None or is_count(value)),
    "stop_reason": (" or ".join(map(repr, STOP_REASONS)), lambda value: value in STOP_REASONS),
    "partial_last_epoch": ("true or false", lambda value: isinstance(value, bool)),
}
SAVED_FIELDS = tuple(_FIELD_CHECKS)  # the keys History.to_json writes


def _field_problem(saved: dict, required) -> str | None:
    """``"history.<field>: expected ..., got ..."`` for the first field of ``saved`` (a History's
    JSON) that is of the wrong type, or missing while ``required`` names it; None when every
    field is right. A checkpoint's History (:meth:`History.from_checkpoint`) and metrics.json's
    (:meth:`History.from_json`) are checked alike."""
    for key, (expected, is_valid) in _FIELD_CHECKS.items():
        if key not in saved and key not in required:
            continue
        if key not in saved or not is_valid(saved[key]):
            found = "nothing" if key not in saved else _shown(saved[key], is_valid)
            return f"history.{key}: expected {expected}, got {found}"
    return None


def _shown(value, is_valid) -> str:
    """``value``, which ``is_valid`` refuses, for an error message: of an object, the first entry
    it refuses (``{'loss': [True]}``: the series, not the metrics before it); else its repr, cut."""
    if is_object(value):
        for name, item in value.items():
            if not is_valid({name: item}):
                return f"{{{quoted(name, 60)}: {quoted(item, 60)}}}"
    return quoted(value, 60)
