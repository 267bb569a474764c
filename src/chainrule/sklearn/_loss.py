"""Half the squared error: the loss scikit-learn's MLPRegressor minimizes."""

from __future__ import annotations

from ..backend import Array
from ..losses import MSE


class HalfSquaredError(MSE):
    r"""½ of :class:`~chainrule.losses.MSE`, so that ∂L/∂ŷ is the residual itself.

    For outputs Ŷ and targets Y of shape (N, K)::

        L = (1/2N) Σ_n Σ_k (ŷ_nk − y_nk)²
        ∂L/∂ŷ_nk = (ŷ_nk − y_nk) / N

    The gradient is exactly scikit-learn's (``_backprop`` starts from ``p − y``, divided by
    the batch size), so a learning rate, and ``alpha`` next to it, mean what they mean there.
    """

    def compute(self, Y: Array, T: Array) -> tuple[float, Array]:
        value, dY = super().compute(Y, T)
        dY *= dY.dtype.type(0.5)  # MSE's 2 (ŷ − y) / N -> (ŷ − y) / N
        return value / 2, dY
