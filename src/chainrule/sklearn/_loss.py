"""The estimators' losses: half the squared error (the loss scikit-learn's MLPRegressor
minimizes and reports), and each loss setting scikit-learn's L2 penalty of a weighted batch."""

from __future__ import annotations

import math

from ..backend import Array
from ..errors import DataError
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy


class HalfSquaredError(MSE):
    r"""scikit-learn's ``squared_loss`` and the gradient its ``_backprop`` starts from.

    For outputs Ŷ and targets Y of shape (N, K)::

        L = (1/2NK) Σ_n Σ_k (ŷ_nk − y_nk)²      (half the mean over samples and outputs)
        gradient = (ŷ_nk − y_nk) / N

    Both are exactly scikit-learn's: it reports ``0.5 * mean((y − ŷ)²)`` over every element
    as ``loss_`` (what ``tol`` and ``n_iter_no_change`` compare), but trains on the residual
    divided by the batch size alone. So with K > 1 outputs the gradient is K times that of
    the reported value; this is scikit-learn's choice, kept so that a learning rate, and
    ``alpha`` next to it, mean what they mean there and the losses read the same.

    With sample weights the mean over samples is MSE's weighted one: 1/N becomes
    w_n / Σ_m w_m, as in scikit-learn.
    """

    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[float, Array]:
        value, dY = super().compute(Y, T, weights)
        dY *= dY.dtype.type(0.5)  # MSE's 2 (ŷ − y) / N -> (ŷ − y) / N
        return value / (2 * Y.shape[1]), dY  # MSE's sum over outputs -> half the mean


class PenaltyPerBatchWeight:
    """Mixin for an estimator's loss when ``sample_weight`` is given: scikit-learn's L2 penalty.

    scikit-learn's ``_backprop`` adds ``alpha * W`` to the batch's weighted gradient sum and
    divides both by the batch's Σ_n w_n, so the penalty's gradient is ``(alpha / Σ_n w_n) W``.
    The optimizer's ``weight_decay`` λ adds ``λ W``; so before each weighted batch's loss
    (computed before the step), ``compute`` sets λ = alpha / Σ_n w_n, or 0 for a batch whose
    weights are all 0 (its gradient is 0 too, rather than scikit-learn's 0 / 0). Unweighted
    batches (``weights`` None) leave λ alone. Setting λ refills the optimizer's decay vector
    in place (one pass over θ, no allocation).
    """

    def __init__(self, optimizer, alpha: float) -> None:
        super().__init__()
        self.optimizer, self.alpha = optimizer, alpha

    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[float, Array]:
        if weights is not None:
            self._set_weight_decay(float(weights.sum()))
        return super().compute(Y, T, weights)

    def _set_weight_decay(self, weight_sum: float) -> None:
        weight_decay = self.alpha / weight_sum if weight_sum > 0 else 0.0
        if not math.isfinite(weight_decay):
            raise DataError(f"sample_weight: a batch's weights sum to {weight_sum:g}, so its L2 penalty "
                            f"alpha / Σw = {self.alpha!r} / {weight_sum:g} is not finite; scale the weights up")
        if weight_decay != self.optimizer.weight_decay:  # the setter refills the decay vector
            self.optimizer.weight_decay = weight_decay


class SoftmaxCrossEntropyPenaltyPerBatchWeight(PenaltyPerBatchWeight, SoftmaxCrossEntropy):
    """:class:`SoftmaxCrossEntropy` setting scikit-learn's penalty of each weighted batch."""


class BinaryCrossEntropyPenaltyPerBatchWeight(PenaltyPerBatchWeight, BinaryCrossEntropy):
    """:class:`BinaryCrossEntropy` setting scikit-learn's penalty of each weighted batch."""


class HalfSquaredErrorPenaltyPerBatchWeight(PenaltyPerBatchWeight, HalfSquaredError):
    """:class:`HalfSquaredError` setting scikit-learn's penalty of each weighted batch."""


#: each estimator loss, and the same loss setting scikit-learn's penalty of each weighted batch
PENALTY_PER_BATCH_WEIGHT = {
    SoftmaxCrossEntropy: SoftmaxCrossEntropyPenaltyPerBatchWeight,
    BinaryCrossEntropy: BinaryCrossEntropyPenaltyPerBatchWeight,
    HalfSquaredError: HalfSquaredErrorPenaltyPerBatchWeight,
}
