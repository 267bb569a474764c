"""Squared error (Y − T)², the loss of the notes' regression example."""

from __future__ import annotations

import math

import numpy

from ..backend import Array, get_array_module, weighted_sum
from ..checks import as_finite
from ..errors import DTypeError, ShapeError
from .loss import Loss, as_array, check_batch, mean_of_large, mean_over, overflowed, retried_on_underflow, weight_shares


class MSE(Loss):
    r"""Mean over samples of the squared error summed over outputs.

    For outputs Y and targets T of shape (N, K), with entries y_nk and t_nk (the notes'
    ŷ and y)::

        L = (1/N) Σ_n Σ_k (y_nk − t_nk)²
        ∂L/∂y_nk = 2 (y_nk − t_nk) / N        dY = 2 (Y − T) / N    (N, K)

    which is the notes' ∂L/∂ŷ = 2(ŷ − y) for one sample, averaged over the batch. The
    convention (sum over outputs, mean over samples) makes one sample with K outputs weigh
    the same as K samples of one output; it is K times PyTorch's ``MSELoss`` (mean over
    all elements). Targets of shape (N,) are accepted for a single output.

    With sample weights w (``compute(Y, T, weights)``), the mean over samples is weighted::

        L = Σ_n w_n Σ_k (y_nk − t_nk)² / Σ_n w_n
        ∂L/∂y_nk = 2 w_n (y_nk − t_nk) / Σ_n w_n

    The squares are summed in float64. On the CPU, an error too large to square in the
    outputs' dtype (1e20 in float32) still gives its finite L, computed again in float64, on
    the errors divided by the largest, so that float64 errors whose squares or their sum pass
    float64's range (1.5e154 each, in a batch of two rows) give their L too wherever it fits.
    L is a float64 number, so it stays finite beyond the outputs' range (in float32 from
    |y − t| = 1.8e19, where L passes 3.4e38), but dY keeps the outputs' dtype and can be inf
    where L is finite: in float32 where y − t or 2 (y − t) / N passes 3.4e38. Backpropagated,
    such a dY gives gradients that are not finite, and ``fit``'s divergence guard stops.

    With ``halves`` set (a class attribute: ``chainrule.sklearn._loss.HalfSquaredError``, the loss
    scikit-learn's MLPRegressor reports and trains on), L is half the mean over every element and
    dY half MSE's::

        L = (1/2NK) Σ_n Σ_k (y_nk − t_nk)²        dY = (Y − T) / N

    the same sums divided by 2K, and D = Y − T scaled by 1/N in place of 2/N: what scaling by 2/N
    and then by 1/2 gives, bit for bit, except where 2 (y − t) / N overflows (inf there, finite
    here) or is a subnormal number (a rounding apart).

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> value, dY = cr.MSE()(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [1.0, 1.0]]))
    >>> float(value)
    7.0
    >>> dY
    array([[1., 0.],
           [2., 3.]])
    """

    task = "regression"

    #: L / 2K and dY / 2: scikit-learn's half squared error (see above), for its MLPRegressor
    halves = False

    def prepare(self, targets, n_outputs: int, dtype, n_samples: int | None = None) -> Array:
        name = type(self).__name__
        T = as_array(targets, name)
        if T.dtype.kind not in "fiub":
            raise DTypeError(f"{name}: expected numeric targets, got dtype {T.dtype}")
        if T.ndim == 1 and n_outputs == 1:
            T = T.reshape(-1, 1)
        if T.ndim != 2 or T.shape[1] != n_outputs:
            raise ShapeError(f"{name}: expected targets of shape (n_samples, {n_outputs}), got {tuple(T.shape)}")
        check_batch(name, T, n_samples)
        return as_finite(T, dtype, f"{name}: targets")

    @retried_on_underflow
    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[Array, Array]:
        """L = (1/N) Σ_n Σ_k (y_nk − t_nk)² and dY = 2 (Y − T) / N; with ``weights``, w_n / Σ_m w_m in place of
        1/N; with ``halves``, L / 2K and dY / 2."""
        if weights is not None:
            return self._weighted(Y, T, weight_shares(weights))
        n_samples = mean_over(Y)  # N, 1 for no rows
        xp = get_array_module(Y)
        D = xp.subtract(Y, T, out=self.buffer("dY", Y.shape, Y))
        value = xp.multiply(D, D, out=self.buffer("squares", Y.shape, Y)).sum(dtype=numpy.float64) / n_samples
        if overflowed(value):  # D or D² overflowed the outputs' dtype: the same mean in float64
            value = squared_error_in_float64(Y, T)
        D *= Y.dtype.type(self.gradient_factor() / n_samples)  # dY = 2 (Y − T) / N (halves: 1/N), in place of D
        return self.halved(value, Y), D

    def _weighted(self, Y: Array, T: Array, shares) -> tuple[float, Array]:
        """(L, ∂L/∂Y) with each row's share w_n / Σ_m w_m of the batch's weights (float64)."""
        xp = get_array_module(Y)
        D = xp.subtract(Y, T, out=self.buffer("dY", Y.shape, Y))
        squares = xp.multiply(D, D, out=self.buffer("squares", Y.shape, Y))
        value = weighted_sum(squares.sum(axis=1, dtype=numpy.float64), shares)  # a row of weight 0 adds 0
        if overflowed(value):  # as in ``compute``: the same mean in float64
            value = squared_error_in_float64(Y, T, shares)
        # dY = 2 w_n (y_n − t_n) / Σ_m w_m (halves: without the 2), in place of D
        D *= (self.gradient_factor() * shares).astype(Y.dtype)[:, None]
        return self.halved(value, Y), D

    def gradient_factor(self) -> int:
        """The 2 of dY = 2 (Y − T) / N: 1 with ``halves``."""
        return 1 if self.halves else 2

    def halved(self, value, Y: Array):
        """L, the mean over samples of the rows' sums over the K outputs; with ``halves``, L / 2K."""
        return value / (2 * Y.shape[1]) if self.halves else value


def squared_error_in_float64(Y: numpy.ndarray, T: numpy.ndarray, shares: numpy.ndarray | None = None) -> float:
    """L for NumPy outputs ``Y`` and prepared targets ``T`` whose squares or their sum overflowed
    the dtype of ``Y``: the mean (with ``shares``, w_n / Σ_m w_m, the weighted mean) of the rows'
    Σ_k (y − t)², computed in float64 on the errors divided by the largest |y − t|, then multiplied
    by its square, so that L is finite wherever it fits in float64: float32 errors of 1e20, and
    float64 ones whose squares (1e308 and more) or their sum pass float64's range. A row of share
    0 adds 0, however large its error."""
    D = Y.astype(numpy.float64) - T
    if shares is not None:
        kept = shares > 0
        D, shares = D[kept], shares[kept]
    largest = float(numpy.abs(D).max())  # > 0: a square overflowed, or NaN outputs
    if not math.isfinite(largest):  # y − t itself overflowed float64 ((2e308)² is far past its range), or NaN
        return largest
    D /= largest
    return mean_of_large(D * D, shares) * largest * largest  # (Σ_n s_n Σ_k (d / largest)²) · largest · largest
