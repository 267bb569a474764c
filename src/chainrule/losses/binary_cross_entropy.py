"""Binary cross-entropy of sigmoid outputs, computed on logits."""

from __future__ import annotations

import numpy

from ..backend import Array, get_array_module
from ..checks import as_finite
from ..errors import DTypeError, LabelError, ShapeError
from ..layers.sigmoid import sigmoid
from .loss import Loss, as_array, check_batch, weight_shares


class BinaryCrossEntropy(Loss):
    r"""Cross-entropy of independent sigmoid outputs p = σ(z), on logits z.

    For each output k (a yes/no question: binary or multi-label classification)::

        L = (1/N) Σ_n Σ_k −[y log σ(z) + (1 − y) log(1 − σ(z))]
          = (1/N) Σ_n Σ_k [max(z, 0) − z y + log(1 + e^{−|z|})]
        ∂L/∂z = (σ(z) − y) / N

    The second form is the same function written so that no exponential overflows and no
    logarithm sees 0, so logits of ±1e4 stay finite. Targets are in [0, 1], of shape
    (N, n_outputs), or (N,) for one output.

    With sample weights w (``compute(Y, T, weights)``), 1/N becomes w_n / Σ_m w_m::

        L = Σ_n w_n Σ_k [max(z, 0) − z y + log(1 + e^{−|z|})] / Σ_m w_m
        ∂L/∂z_nk = w_n (σ(z_nk) − y_nk) / Σ_m w_m
    """

    task = "multilabel"

    def prepare(self, targets, n_outputs: int, dtype, n_samples: int | None = None) -> Array:
        name = "BinaryCrossEntropy"
        T = as_array(targets)
        if T.dtype.kind not in "fiub":
            raise DTypeError(f"{name}: expected numeric targets in [0, 1], got dtype {T.dtype}")
        if T.ndim == 1 and n_outputs == 1:
            T = T.reshape(-1, 1)
        if T.ndim != 2 or T.shape[1] != n_outputs:
            raise ShapeError(f"{name}: expected targets of shape (n_samples, {n_outputs}), got {tuple(T.shape)}")
        check_batch(name, T, n_samples)
        T = as_finite(T, dtype, f"{name}: targets")
        if T.size and (float(T.min()) < 0 or float(T.max()) > 1):
            raise LabelError(f"{name}: targets must lie in [0, 1]; got values in [{float(T.min())}, {float(T.max())}]")
        return T

    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[Array, Array]:
        xp = get_array_module(Y)
        n_samples = Y.shape[0]
        terms = xp.maximum(Y, 0) - Y * T + xp.log1p(xp.exp(-xp.abs(Y)))
        dY = sigmoid(Y)
        dY -= T
        if weights is None:
            value = terms.sum(dtype=numpy.float64) / n_samples
            dY *= Y.dtype.type(1 / n_samples)
        else:
            shares = weight_shares(weights)  # w_n / Σ_m w_m
            value = terms.sum(axis=1, dtype=numpy.float64) @ shares
            dY *= shares.astype(Y.dtype)[:, None]
        return value, dY

    def transform(self, Y: Array) -> Array:
        """Probabilities σ(z) of each output being 1."""
        return sigmoid(Y)
