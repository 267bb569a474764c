"""Scores of a model's outputs, accumulated batch by batch over an epoch.

- classification (softmax outputs): accuracy, the fraction of rows whose largest output is
  the true class;
- multilabel (sigmoid outputs): accuracy per label, the fraction of (row, label) pairs with
  the right side of 0.5 (Keras's "binary accuracy");
- regression: R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output, averaged over outputs (as
  scikit-learn's ``r2_score``: an output whose targets are all equal scores 1 when predicted
  exactly, else 0; fewer than two rows score NaN, R² being undefined), and the mean absolute
  error |y − ŷ| over all values.

Targets standardized by ``fit`` (t = (y − μ_y)/σ_y, ``standardize_targets``) leave R²
unchanged (both of its sums scale by σ_y²); the mean absolute error is reported in y's own
units, each output's Σ|t − t̂| times its σ_y, while ``loss`` is the loss of the standardized
targets the network trains on.

Σ(y − ȳ)² comes from running sums, as Σd² − (Σd)²/n with d = y − K for a shift K per output
taken from the data (a target row): summed about 0, targets far from 0 (a year, a timestamp:
1.7e9 ± 100) lost their whole variance to rounding in Σy² − (Σy)²/n and scored R² = 0.

With sample weights every metric is the weighted one, as scikit-learn's ``accuracy_score``,
``r2_score`` and ``mean_absolute_error`` with ``sample_weight``: each row counts w_n times
(ȳ and R²'s sums too), and the loss is the weighted mean of the batches' losses, each batch
weighing its Σ w_n.
"""

from __future__ import annotations

import math

import numpy

from .. import buffers
from ..backend import get_array_module, to_numpy, weighted_sum_rows


class Scores:
    """Running sums from which an epoch's metrics are computed without keeping the outputs.

    The sums live in one float64 vector on the device of the outputs and are updated in
    place, so on a GPU a batch adds its scores without a transfer to the host (and a
    captured CUDA graph adds them on every replay); ``result`` reads them once. Layout:
    Σ loss·n, n, Σ right, n judged (for regression the rows, however weighted), then for
    regression Σ|e|, Σe², Σd, Σd² per output, where e = ŷ − y and d = y − K; with sample
    weights, n is Σ w_n and each row's terms are multiplied by its w_n.

    ``shift`` is K (n_outputs,), for regression: None takes the first target row added.
    Sums to be added up over processes need one K on all of them (the training loop passes
    the first row of the global batch order, which every rank knows).

    ``target_scale`` is σ_y (n_outputs,) of standardized regression targets, by which
    ``result`` multiplies each output's Σ|e| so that ``mae`` is in y's units; None: 1.

    On the CPU a regression batch's float64 e, d and their terms are written into three arrays
    kept from batch to batch (:mod:`chainrule.buffers`): made afresh, they were five new
    batch × n_outputs float64 arrays per step (1.3 MB at batch 128 and 256 outputs); so are a
    multilabel batch's two boolean arrays (``_right_labels``).
    """

    #: ``buffer`` hands out the same arrays at every batch (on the CPU: see ``_deviations``)
    reuse_buffers = True
    buffer = buffers.buffer

    def __init__(self, task: str, shift=None, target_scale=None, work: dict | None = None) -> None:
        self.task = task
        self.target_scale = target_scale
        self._sums = None  # made at the first ``add``, on the outputs' device
        self._shift = shift  # K, made a float64 array on the outputs' device at the first ``add``
        # A regression batch's float64 and a multilabel batch's boolean work arrays on the CPU, by name:
        # ``work``, a dict that the caller keeps for the Scores of its next epochs (the training loop's),
        # or one of its own.
        self._buffers = {} if work is None else work

    def _views(self, xp, n_outputs: int):
        if self._sums is None:
            extra = 4 * n_outputs if self.task == "regression" else 0
            self._sums = xp.zeros(4 + extra, dtype=numpy.float64)
            sums = self._sums
            self._loss, self._count, self._right, self._judged = sums[0:1], sums[1:2], sums[2:3], sums[3:4]
            self._errors = sums[4:].reshape(4, n_outputs) if extra else None
        return self._sums

    def reset(self) -> None:
        """Zero the sums in place (a new epoch; the vector keeps its address)."""
        if self._sums is not None:
            self._sums[...] = 0

    def add(self, Y, T, loss_value, weights=None) -> None:
        """Add a batch: outputs Y, prepared targets T, and its mean loss (a float or a 0-d array);
        with ``weights`` (n_samples,), its weighted mean loss, and the rows count w_n times."""
        if weights is not None:
            self._add_weighted(Y, T, loss_value, weights)
            return
        n = Y.shape[0]
        xp = get_array_module(Y)
        sums = self._views(xp, Y.shape[1])
        if self.task == "regression":
            self._loss += loss_value * n
            self._count += n
            self._judged += n
            E, D = self._deviations(xp, Y, T)
            for row, M in zip(self._errors, self._terms(xp, E, D)):  # row by row: no stacked copy
                row += M.sum(axis=0)
            return
        if self.task == "classification":
            right, judged = _right_classes(xp, Y, T, loss_value).sum(), n
        else:  # multilabel
            right, judged = self._right_labels(xp, Y, T, loss_value).sum(), T.size
        if xp is numpy:  # one in-place add of the four (a batch's scores in 5 µs rather than 10)
            sums[:4] += (loss_value * n, n, right, judged)
        else:  # on the device, where ``right`` is a device scalar (and a CUDA graph captures the adds)
            self._loss += loss_value * n
            self._count += n
            self._right += right
            self._judged += judged

    def _deviations(self, xp, Y, T):
        """The errors e = ŷ − y and the shifted targets d = y − K, in float64 (float32 sums of d²
        lose the variance in Σd² − (Σd)²/n)."""
        if xp is numpy:
            E, T64 = (self.buffer(name, Y.shape, Y, numpy.float64) for name in ("E", "D"))
            numpy.copyto(T64, T)
            numpy.copyto(E, Y)
            T = T64
            E -= T
        else:
            T = T.astype(numpy.float64)
            E = Y.astype(numpy.float64) - T
        if self._shift is None:
            self._shift = T[0].copy()  # a copy: T is shifted in place below
        self._shift = xp.asarray(self._shift, dtype=numpy.float64)
        T -= self._shift
        return E, T

    def _terms(self, xp, E, D):
        """|e|, e², d and d², one after the other (on the CPU in one work array: each is summed
        before the next is made)."""
        scratch = self.buffer("terms", E.shape, E) if xp is numpy else None
        yield xp.abs(E, out=scratch)
        yield xp.multiply(E, E, out=scratch)
        yield D
        yield xp.multiply(D, D, out=scratch)

    def _add_weighted(self, Y, T, loss_value, weights) -> None:
        """``add`` with row n counted w_n times (the sums are dot products with w)."""
        xp = get_array_module(Y)
        self._views(xp, Y.shape[1])
        w = weights.astype(numpy.float64)
        total = w.sum()
        self._loss += loss_value * total
        self._count += total
        if self.task == "classification":
            self._right += w @ _right_classes(xp, Y, T, loss_value).astype(numpy.float64)  # float64 on any device
            self._judged += total
        elif self.task == "multilabel":
            self._right += w @ self._right_labels(xp, Y, T, loss_value).sum(axis=1, dtype=numpy.float64)
            self._judged += total * T.shape[1]
        else:
            self._judged += len(w)
            E, D = self._deviations(xp, Y, T)
            for row, M in zip(self._errors, self._terms(xp, E, D)):
                row += weighted_sum_rows(w, M)

    def _right_labels(self, xp, Y, T, loss_value):
        """Whether each label of each row (output > 0) is its target's; an output of NaN is wrong
        (NaN > 0 is False, which would count it as right for a target of 0). On the CPU into two
        boolean work arrays kept from batch to batch."""
        cpu = xp is numpy
        right = xp.greater(Y, 0, out=self.buffer("right", Y.shape, Y, bool) if cpu else None)
        xp.equal(right, xp.greater(T, 0.5, out=self.buffer("target", T.shape, T, bool) if cpu else None), out=right)
        return right if _no_nan(xp, loss_value) else right & ~xp.isnan(Y)

    def totals(self):
        """The running sums as one float64 NumPy vector, to add up over processes (``set_totals`` puts them back)."""
        return numpy.zeros(4) if self._sums is None else to_numpy(self._sums).copy()

    def set_totals(self, totals) -> None:
        """Replace the running sums by ``totals`` laid out as ``totals()`` returns them."""
        if self._sums is None:
            self._views(numpy, max((len(totals) - 4) // 4, 1))
        self._sums[...] = get_array_module(self._sums).asarray(totals)

    def result(self, prefix: str = "") -> dict:
        """The metrics so far: ``loss`` and ``accuracy`` or ``r2``/``mae``, names prefixed."""
        totals = self.totals()
        n = totals[1]
        if n == 0:
            return {}
        scores = {"loss": float(totals[0] / n)}
        if self.task in ("classification", "multilabel"):
            scores["accuracy"] = float(totals[2] / totals[3])
        else:
            abs_sum, squared_sum, total, total_squares = totals[4:].reshape(4, -1)
            variance_sum = total_squares - total * total / n  # Σ(y − ȳ)² = Σd² − (Σd)²/n
            spread = variance_sum > 0
            with numpy.errstate(divide="ignore", invalid="ignore"):
                explained = 1 - squared_sum / numpy.where(spread, variance_sum, 1)
            # all targets equal: 1 when predicted exactly, else 0 (scikit-learn's convention)
            r2 = numpy.where(spread, explained, squared_sum == 0)
            # the mean, as r2.mean() computes it, without its checks; undefined for one row (scikit-learn: NaN)
            scores["r2"] = float(r2.sum() / r2.size) if totals[3] >= 2 else math.nan
            if self.target_scale is not None:  # Σ|t − t̂| σ_y = Σ|y − ŷ| for t = (y − μ_y)/σ_y
                abs_sum = abs_sum * numpy.asarray(self.target_scale, dtype=numpy.float64)
            scores["mae"] = float(abs_sum.sum() / (n * abs_sum.size))
        return {prefix + name: value for name, value in scores.items()}


def metric_names(task: str, validation: bool) -> list[str]:
    """The metrics each epoch's logs hold (as ``Scores.result`` names them), with their
    "val_" forms when there is ``validation`` data."""
    names = ["loss", "r2", "mae"] if task == "regression" else ["loss", "accuracy"]
    return names + [f"val_{name}" for name in names] if validation else names


def _right_classes(xp, Y, T, loss_value):
    """Whether each row's class, argmax of its outputs, is its target's. A row whose outputs hold
    NaN (a row so far from the data that the network overflowed on it) is wrong: its argmax, 0,
    would count it as right for the first class."""
    labels = T if T.ndim == 1 else T.argmax(axis=1)
    right = Y.argmax(axis=1) == labels
    return right if _no_nan(xp, loss_value) else right & ~xp.isnan(Y).any(axis=1)


def _no_nan(xp, loss_value) -> bool:
    """Whether the outputs are known to hold no NaN: on the CPU, their batch's loss is finite (a
    NaN output makes it NaN). On a GPU the loss stays on the device (reading it would wait for
    the step), so the outputs are looked at (a step the CUDA graph replays)."""
    return xp is numpy and math.isfinite(loss_value)
