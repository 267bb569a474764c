"""What a training run leaves behind: metrics and gradient norms, epoch by epoch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import MissingKeyError

#: The largest magnitude a saved History's value may have: far beyond any loss, metric or
#: gradient norm of a run that did not diverge, and within what the plots can draw (their
#: axis limits overflow near 1e300). A checkpoint holding more is refused when it is loaded.
MAX_HISTORY_VALUE = 1e200
STOP_REASONS = ("completed", "early_stopping", "interrupted")


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

    A checkpoint's History is checked when it is loaded (``chainrule.training.checkpoint``):
    each training series ("loss", "accuracy"...) holds ``epochs`` values, a validation series
    or a layer's gradient norms at most that many, ``best_epoch`` is one of the epochs, the
    gradient norms are those of the model's layers with weights, and no value exceeds
    ``MAX_HISTORY_VALUE`` in magnitude.
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
        """Record ``value`` for metric ``name`` at the current epoch."""
        self.metrics.setdefault(name, []).append(float(value))

    @property
    def complete_epochs(self) -> int:
        """The epochs that ran to their last batch: ``epochs``, less one for a partial last epoch."""
        return self.epochs - 1 if self.partial_last_epoch else self.epochs

    def last(self) -> dict:
        """The metrics of the last epoch."""
        return {name: values[-1] for name, values in self.metrics.items() if values}

    def to_json(self) -> dict:
        return {
            "metrics": self.metrics,
            "grad_norms": self.grad_norms,
            "initial_grad_norms": self.initial_grad_norms,
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "stop_reason": self.stop_reason,
            "partial_last_epoch": self.partial_last_epoch,
        }

    @classmethod
    def from_json(cls, saved: dict) -> "History":
        """The History ``to_json`` gave; a key it lacks keeps its default (a file written before
        ``partial_last_epoch`` existed had whole epochs only), and that flag is true only for ``true``."""
        fields = {key: saved[key] for key in cls.__dataclass_fields__ if key in saved and key != "partial_last_epoch"}
        return cls(**fields, partial_last_epoch=saved.get("partial_last_epoch") is True)
