"""Half the squared error: the loss scikit-learn's MLPRegressor minimizes and reports."""

from __future__ import annotations

from ..backend import Array
from ..losses import MSE


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
