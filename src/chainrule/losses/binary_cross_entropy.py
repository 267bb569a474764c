"""Binary cross-entropy of sigmoid outputs, computed on logits."""

from __future__ import annotations

import numpy

from ..backend import Array, get_array_module, weighted_sum_rows
from ..checks import as_finite
from ..errors import DTypeError, LabelError, ShapeError
from ..layers.sigmoid import sigmoid
from .loss import (Loss, as_array, check_batch, clipped_probabilities, mean_of_large, mean_over, overflowed,
                   retried_on_underflow, weight_shares)


class BinaryCrossEntropy(Loss):
    r"""Cross-entropy of independent sigmoid outputs p = σ(y), on the logits Y.

    For logits Y and targets T in [0, 1], both (N, K), with entries y_nk (the notes' z of
    a sigmoid neuron) and t_nk, one yes/no question per output k (binary or multi-label
    classification)::

        L = (1/N) Σ_n Σ_k −[t log σ(y) + (1 − t) log(1 − σ(y))]
          = (1/N) Σ_n Σ_k [max(y, 0) − y t + log(1 + e^{−|y|})]
        ∂L/∂y_nk = (σ(y_nk) − t_nk) / N        dY = (σ(Y) − T) / N    (N, K)

    The second form is the same function written so that no exponential overflows and no
    logarithm sees 0, so logits of ±1e4 stay finite, and targets of exactly 0 and 1 need no
    clipping. Each term is at most |y| + log 2, so float32 terms cannot overflow their float64
    sum; float64 terms whose sum does (logits near 1.8e308) are summed again divided by the
    largest, so L is finite wherever the mean fits. Targets of shape (N,) are accepted for one
    output.

    With sample weights w (``compute(Y, T, weights)``), 1/N becomes w_n / Σ_m w_m::

        L = Σ_n w_n Σ_k [max(y, 0) − y t + log(1 + e^{−|y|})] / Σ_m w_m
        ∂L/∂y_nk = w_n (σ(y_nk) − t_nk) / Σ_m w_m

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> value, dY = cr.BinaryCrossEntropy()(np.array([[0.0], [0.0]]), np.array([1, 0]))
    >>> round(float(value), 4)  # log 2
    0.6931
    >>> dY  # (σ(0) − t) / 2
    array([[-0.25],
           [ 0.25]])
    """

    task = "multilabel"

    #: L as scikit-learn's ``binary_log_loss`` records it, of the probabilities clipped to [ε, 1 − ε] with
    #: ε = ``numpy.finfo(dtype).eps`` (:func:`clipped_binary_log_loss`); ∂L/∂Y stays the exact loss's. False
    #: here; the scikit-learn estimators' loss sets it (chainrule.sklearn._loss), so that its L comes from this
    #: ``compute``'s σ(Y), in the training loop's reused arrays.
    #: A subclass or a loss object (``loss.clips_probabilities = True``) may set it too; ``compute`` reads it at
    #: every call, so set it before training, not while a fit or another thread computes with that object.
    clips_probabilities = False

    def prepare(self, targets, n_outputs: int, dtype, n_samples: int | None = None) -> Array:
        name = type(self).__name__
        T = as_array(targets, name)
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

    @retried_on_underflow
    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[Array, Array]:
        """L = (1/N) Σ_n Σ_k [max(y, 0) − y t + log(1 + e^{−|y|})] and dY = (σ(Y) − T) / N; with ``weights``,
        w_n / Σ_m w_m in place of 1/N. With ``clips_probabilities``, L is :func:`clipped_binary_log_loss` of
        the same σ(Y), and dY the same."""
        shares = None if weights is None else weight_shares(weights)  # w_n / Σ_m w_m
        terms, scratch = self.buffer("terms", Y.shape, Y), self.buffer("scratch", Y.shape, Y)
        if not self.clips_probabilities:
            value = exact_value(Y, T, terms, scratch, shares)
        dY = sigmoid(Y, out=self.buffer("dY", Y.shape, Y), scratch=scratch)  # P = σ(Y)
        if self.clips_probabilities:
            value = clipped_binary_log_loss(T, dY, terms, scratch, self.buffer("complement", Y.shape, Y), shares)
        dY -= T  # σ(Y) − T
        if shares is None:
            dY *= Y.dtype.type(1 / mean_over(Y))  # N, 1 for no rows
        else:
            dY *= shares.astype(Y.dtype)[:, None]
        return value, dY

    def transform(self, Y: Array) -> Array:
        """Probabilities σ(z) of each output being 1."""
        return sigmoid(Y)


def exact_value(Y: Array, T: Array, terms: Array, scratch: Array, shares: Array | None) -> float:
    """L = Σ_n s_n Σ_k [max(y, 0) − y t + log(1 + e^{−|y|})], s_n = 1/N or the rows' ``shares``, its terms
    written into ``terms`` and ``scratch`` (arrays of Y's shape); computed again divided by the largest
    term where the float64 sum passed its range."""
    xp = get_array_module(Y)
    xp.maximum(Y, 0, out=terms)
    terms -= xp.multiply(Y, T, out=scratch)  # max(y, 0) − y t
    xp.abs(Y, out=scratch)
    xp.negative(scratch, out=scratch)
    xp.exp(scratch, out=scratch)
    terms += xp.log1p(scratch, out=scratch)  # + log(1 + e^{−|y|})
    if shares is None:
        value = terms.sum(dtype=numpy.float64) / mean_over(Y)
    else:
        value = terms.sum(axis=1, dtype=numpy.float64) @ shares
    if overflowed(value):  # float64 terms (each at most |y| + log 2) whose sum passed its range
        value = mean_of_large(terms.astype(numpy.float64), shares)
    return value


def clipped_binary_log_loss(T: Array, P: Array, clipped: Array, work: Array, complement: Array,
                            shares: Array | None = None) -> float:
    """scikit-learn's ``binary_log_loss`` of the probabilities P = σ(Y) clipped to [ε, 1 − ε],
    ε = ``numpy.finfo(dtype).eps``, as it computes it (clip, then logs)::

        L = −(1/N) Σ_n Σ_k [t_nk log clip(p_nk) + (1 − t_nk) log(1 − clip(p_nk))]

    with ``shares`` (w_n / Σ_m w_m), scikit-learn's ``numpy.average`` over the rows in place of 1/N. Each
    term is formed as it is written, so that a target of 1 adds log clip(p) alone and one of 0 log(1 −
    clip(p)) alone (as t (log p − log(1 − p)) + log(1 − p), a p near 1 lost log p to the rounding of
    log(1 − p), as large as −36 in float64 and −16 in float32). ``clipped``, ``work`` and ``complement``,
    arrays of P's shape, take the terms; P is left as it is."""
    xp = get_array_module(P)
    clipped_probabilities(P, clipped)  # clip(p)
    log_q = xp.log(xp.subtract(1, clipped, out=work), out=work)  # log(1 − p)
    log_q -= xp.multiply(T, log_q, out=complement)  # (1 − t) log(1 − p), exactly 0 for t = 1
    terms = xp.log(clipped, out=clipped)
    terms *= T  # t log p
    terms += log_q
    if shares is None:
        return -terms.sum(dtype=numpy.float64) / mean_over(P)
    # scikit-learn's numpy.average over the rows; on the GPU no cuBLAS (w @ M), which a CUDA graph's capture refuses
    return -weighted_sum_rows(shares, terms).sum()
