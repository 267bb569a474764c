"""Scores of a model's outputs, accumulated batch by batch over an epoch.

- classification (softmax outputs): accuracy, the fraction of rows whose largest output is
  the true class;
- multilabel (sigmoid outputs): accuracy per label, the fraction of (row, label) pairs with
  the right side of 0.5 (Keras's "binary accuracy");
- regression: R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output, averaged over outputs (as
  scikit-learn's ``r2_score``), and the mean absolute error |y − ŷ| over all values.
"""

from __future__ import annotations

import numpy

from ..backend import get_array_module, to_numpy


class Scores:
    """Running sums from which an epoch's metrics are computed without keeping the outputs."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.loss_sum = 0.0
        self.n_samples = 0
        self.correct = 0.0
        self.n_judged = 0
        self._sums = None  # regression: Σ|e|, Σe², Σy, Σy² per output

    def add(self, Y, T, loss_value) -> None:
        """Add a batch: outputs Y, prepared targets T, and its mean loss."""
        n = Y.shape[0]
        self.loss_sum += float(loss_value) * n
        self.n_samples += n
        xp = get_array_module(Y)
        if self.task == "classification":
            labels = T if T.ndim == 1 else T.argmax(axis=1)
            self.correct += float((Y.argmax(axis=1) == labels).sum())
            self.n_judged += n
        elif self.task == "multilabel":
            self.correct += float(((Y > 0) == (T > 0.5)).sum())
            self.n_judged += T.size
        else:
            # In float64: float32 sums of y² would cancel the variance away in Σy² − (Σy)²/n.
            T = T.astype(numpy.float64)
            E = Y.astype(numpy.float64) - T
            sums = xp.stack([xp.abs(E).sum(axis=0), (E * E).sum(axis=0), T.sum(axis=0), (T * T).sum(axis=0)])
            self._sums = sums if self._sums is None else self._sums + sums

    def totals(self):
        """The running sums as one float64 vector, to add up over processes (``set_totals`` puts them back)."""
        counts = [self.loss_sum, self.n_samples, self.correct, self.n_judged]
        sums = [] if self._sums is None else to_numpy(self._sums).ravel()
        return numpy.concatenate([numpy.array(counts, dtype=numpy.float64), sums])

    def set_totals(self, totals) -> None:
        """Replace the running sums by ``totals`` laid out as ``totals()`` returns them."""
        self.loss_sum, self.correct = float(totals[0]), float(totals[2])
        self.n_samples, self.n_judged = int(totals[1]), int(totals[3])
        if self._sums is not None:
            self._sums = get_array_module(self._sums).asarray(totals[4:].reshape(self._sums.shape))

    def result(self, prefix: str = "") -> dict:
        """The metrics so far: ``loss`` and ``accuracy`` or ``r2``/``mae``, names prefixed."""
        if self.n_samples == 0:
            return {}
        scores = {"loss": self.loss_sum / self.n_samples}
        if self.task in ("classification", "multilabel"):
            scores["accuracy"] = self.correct / self.n_judged
        else:
            abs_sum, squared_sum, total, total_squares = to_numpy(self._sums)
            n = self.n_samples
            variance_sum = total_squares - total * total / n  # Σ(y − ȳ)²
            with numpy.errstate(divide="ignore", invalid="ignore"):
                r2 = numpy.where(variance_sum > 0, 1 - squared_sum / numpy.where(variance_sum > 0, variance_sum, 1), 0.0)
            scores["r2"] = float(r2.mean())
            scores["mae"] = float(abs_sum.sum() / (n * abs_sum.size))
        return {prefix + name: value for name, value in scores.items()}
