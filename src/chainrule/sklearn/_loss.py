"""The estimators' losses: half the squared error (the loss scikit-learn's MLPRegressor
minimizes and reports), the cross-entropies whose L is scikit-learn's clipped log loss, and
each loss setting scikit-learn's L2 penalty of a weighted batch."""

from __future__ import annotations

import math

import numpy

from ..backend import Array
from ..errors import DataError, HyperparameterError
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from ..losses.loss import around_built_in_compute


class HalfSquaredError(MSE):
    r"""scikit-learn's ``squared_loss`` and the gradient its ``_backprop`` starts from.

    For outputs Y and targets T of shape (N, K)::

        L = (1/2NK) Σ_n Σ_k (y_nk − t_nk)²      (half the mean over samples and outputs)
        gradient = (y_nk − t_nk) / N

    Both are exactly scikit-learn's: it reports ``0.5 * mean((y − ŷ)²)`` over every element
    as ``loss_`` (what ``tol`` and ``n_iter_no_change`` compare), but trains on the residual
    divided by the batch size alone. So with K > 1 outputs the gradient is K times that of
    the reported value; this is scikit-learn's choice, kept so that a learning rate, and
    ``alpha`` next to it, mean what they mean there and the losses read the same.

    With sample weights the mean over samples is MSE's weighted one: 1/N becomes
    w_n / Σ_m w_m, as in scikit-learn.

    MSE's ``compute`` does it (``halves``): it divides its L by 2K and scales Y − T by 1/N in
    place of 2/N, and, being a built-in ``compute``, writes into the training loop's reused
    arrays.
    """

    halves = True


class ClippedLogLoss:
    r"""Mixin for the classifier's cross-entropies: L as scikit-learn's ``log_loss`` and
    ``binary_log_loss`` record it, ∂L/∂Y the exact loss's.

    scikit-learn takes the log of the probabilities P (softmax or sigmoid of the logits Y)
    clipped to [ε, 1 − ε], ε = ``numpy.finfo(dtype).eps`` (2.2e-16 in float64, 1.2e-7 in
    float32)::

        softmax:  L = −(1/N) Σ_n Σ_k t_nk log clip(p_nk)
        sigmoid:  L = −(1/N) Σ_n Σ_k [t_nk log clip(p_nk) + (1 − t_nk) log(1 − clip(p_nk))]

    so a saturated output (a probability of the wrong class that rounds to 0 or 1) costs at
    most −log ε (36.04 in float64, 15.94 in float32) where the exact loss grows with the logit.
    That L is what ``loss_curve_``, ``loss_``, ``best_loss_`` and the stopping rule (``tol``,
    ``n_iter_no_change`` without ``early_stopping``) read, as there. Its gradient is the exact
    loss's, (P − T) / N, as scikit-learn's ``_backprop`` also takes it: ∂L/∂Y is the base
    class's, so the steps are those of ``cr.fit`` with the exact loss. With sample weights,
    1/N becomes w_n / Σ_m w_m (scikit-learn's ``numpy.average``).

    The base class's ``compute`` does it (``clips_probabilities``): it takes L from the P it
    computes for ∂L/∂Y (softmax: e^{y − m} and its row sums; sigmoid: σ(Y)) in place of the
    exact L, and, being a built-in ``compute``, writes into the training loop's reused arrays.
    """

    clips_probabilities = True


class ClippedSoftmaxCrossEntropy(ClippedLogLoss, SoftmaxCrossEntropy):
    """:class:`SoftmaxCrossEntropy` whose L is scikit-learn's ``log_loss`` (:class:`ClippedLogLoss`)."""


class ClippedBinaryCrossEntropy(ClippedLogLoss, BinaryCrossEntropy):
    """:class:`BinaryCrossEntropy` whose L is scikit-learn's ``binary_log_loss`` (:class:`ClippedLogLoss`)."""


def batch_weight_decay(alpha: float, weight_sum: float, n_rows: int, dtype) -> float:
    """λ = alpha / Σw, scikit-learn's L2 penalty of a batch of ``n_rows`` rows whose weights sum
    to ``weight_sum``; 0 for a batch of weight 0 (its gradient is 0 too, rather than
    scikit-learn's 0 / 0).

    λ must be a finite number of ``dtype``, the network's, which the optimizer's decay vector
    holds: else DataError naming ``sample_weight`` and ``alpha`` (a λ past float32's largest
    number would make that vector inf, and the step diverge).
    """
    weight_decay = alpha / weight_sum if weight_sum > 0 else 0.0
    largest = float(numpy.finfo(dtype).max)
    if not weight_decay <= largest:  # inf included
        raise DataError(
            f"sample_weight: a batch of {n_rows} rows can weigh Σw = {weight_sum:g}, so its L2 penalty alpha / Σw "
            f"= {alpha!r} / {weight_sum:g} is past {numpy.dtype(dtype).name}'s largest number {largest:g}; expected "
            f"every batch's weights to sum to 0 or to at least alpha / {largest:g} = {alpha / largest:g}: scale "
            f"sample_weight up or lower alpha")
    return weight_decay


def check_weight_decay(alpha: float, batch_size: int, dtype) -> None:
    """Before training without sample weights: HyperparameterError naming ``alpha`` unless the
    optimizer's λ = alpha / batch_size is a finite number of ``dtype``, the network's, which the
    optimizer's decay vector holds (past float32's largest number that vector is inf, and the
    first step diverged with a DivergenceError that blamed the learning rate); each weighted
    batch's λ is checked by :func:`check_batch_weight_decays`.
    """
    largest = float(numpy.finfo(dtype).max)
    if not alpha / batch_size <= largest:  # inf included
        raise HyperparameterError(
            f"alpha: the L2 penalty of a batch of {batch_size} rows, alpha / batch_size = {alpha:g} / {batch_size} "
            f"= {alpha / batch_size:g}, is past {numpy.dtype(dtype).name}'s largest number {largest:g}, which the "
            f"optimizer's weight decay is held in; expected alpha / batch_size at most {largest:g}: lower alpha")


def check_batch_weight_decays(alpha: float, weights: numpy.ndarray, batch_size: int, dtype) -> None:
    """Before training: the DataError of :func:`batch_weight_decay` that some batch of an epoch
    over ``weights``, in batches of ``batch_size``, could raise mid-epoch, raised now.

    Every batch of b rows weighs at least its b smallest weights, and a larger batch with
    Σw > 0 holds one of b rows with Σw > 0; so the smallest batch, of b = n mod batch_size rows
    (or batch_size), bounds them all (:func:`smallest_batch_weight`).
    """
    n_rows = len(weights) % batch_size or batch_size
    batch_weight_decay(alpha, smallest_batch_weight(weights, n_rows), n_rows, dtype)


def smallest_batch_weight(weights: numpy.ndarray, n_rows: int) -> float:
    """A lower bound on the Σw of every batch of ``n_rows`` of ``weights`` with Σw > 0: the sum
    of the ``n_rows`` smallest weights or, when those are all 0, the smallest positive weight
    (a batch of it and ``n_rows`` − 1 zeros).

    The sum is lowered by n_rows 2⁻⁵² of it, twice the rounding a batch's own float64 sum can
    make (under n_rows 2⁻⁵³ of it; none below the normal numbers, where sums of weights are
    exact), so no batch's computed Σw is below the bound.
    """
    smallest_sum = math.fsum(numpy.partition(weights, n_rows - 1)[:n_rows])
    if smallest_sum == 0:
        return float(weights[weights > 0].min())
    return smallest_sum * (1 - n_rows * 2.0**-52)


class PenaltyPerBatchWeight:
    """Mixin for an estimator's loss when ``sample_weight`` is given: scikit-learn's L2 penalty.

    scikit-learn's ``_backprop`` adds ``alpha * W`` to the batch's weighted gradient sum and
    divides both by the batch's Σ_n w_n, so the penalty's gradient is ``(alpha / Σ_n w_n) W``.
    The optimizer's ``weight_decay`` λ adds ``λ W``; so before each weighted batch's loss
    (computed before the step), ``compute`` sets λ = :func:`batch_weight_decay`. Unweighted
    batches (``weights`` None) leave λ alone. Setting λ refills the optimizer's decay vector
    in place (one pass over θ, no allocation). The estimators check every batch's λ before
    training (:func:`check_batch_weight_decays`), so the check here refuses nothing they train.

    Its ``compute`` calls the built-in one once and makes no array (``around_built_in_compute``), so
    the training loop lets that one write into its reused arrays, as it does without weights.
    """

    def __init__(self, optimizer, alpha: float) -> None:
        super().__init__()
        self.optimizer, self.alpha = optimizer, alpha

    @around_built_in_compute
    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[float, Array]:
        if weights is not None:
            weight_decay = batch_weight_decay(self.alpha, float(weights.sum()), len(weights), Y.dtype)
            if weight_decay != self.optimizer.weight_decay:  # the setter refills the decay vector
                self.optimizer.weight_decay = weight_decay
        return super().compute(Y, T, weights)


class SoftmaxCrossEntropyPenaltyPerBatchWeight(PenaltyPerBatchWeight, ClippedSoftmaxCrossEntropy):
    """:class:`ClippedSoftmaxCrossEntropy` setting scikit-learn's penalty of each weighted batch."""


class BinaryCrossEntropyPenaltyPerBatchWeight(PenaltyPerBatchWeight, ClippedBinaryCrossEntropy):
    """:class:`ClippedBinaryCrossEntropy` setting scikit-learn's penalty of each weighted batch."""


class HalfSquaredErrorPenaltyPerBatchWeight(PenaltyPerBatchWeight, HalfSquaredError):
    """:class:`HalfSquaredError` setting scikit-learn's penalty of each weighted batch."""


#: each loss an estimator trains with, and the same loss setting scikit-learn's penalty of each weighted batch
PENALTY_PER_BATCH_WEIGHT = {
    ClippedSoftmaxCrossEntropy: SoftmaxCrossEntropyPenaltyPerBatchWeight,
    ClippedBinaryCrossEntropy: BinaryCrossEntropyPenaltyPerBatchWeight,
    HalfSquaredError: HalfSquaredErrorPenaltyPerBatchWeight,
}
