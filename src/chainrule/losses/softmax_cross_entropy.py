"""Cross-entropy of softmax outputs, fused with the softmax and computed on logits."""

from __future__ import annotations

import numpy

from ..backend import Array, get_array_module, weighted_sum, weighted_sum_rows
from ..checks import as_finite
from ..errors import DTypeError, LabelError, ShapeError
from ..layers.softmax import softmax
from .loss import (Loss, as_array, check_batch, clipped_probabilities, mean_of_large, mean_over, overflowed,
                   retried_on_underflow, weight_shares)


#: Rows of fewer classes have their max and sum taken down the rows of a transposed copy, which
#: NumPy reduces faster than short rows; from this width on, along the rows themselves. Both
#: reductions, float32 (docs/cpu_speed.md, below *Changes that measured faster*): 1024×10 13 µs
#: through the copy against 107 along the rows, 1024×64 111 against 94, 1024×1000 2,078 against 407.
SHORT_ROWS = 64


class SoftmaxCrossEntropy(Loss):
    r"""Cross-entropy :math:`-\sum_k t_k \log p_k` of :math:`p = \mathrm{softmax}(y)`, on the logits Y.

    The model's last layer outputs the logits Y (no Softmax layer). For a row y of Y
    (the notes' h) and its target row t with Σ_k t_k = 1::

        L = −Σ_k t_k log(e^{y_k} / Σ_j e^{y_j}) = log Σ_j e^{y_j} − Σ_k t_k y_k
        ∂L/∂y_k = e^{y_k} / Σ_j e^{y_j} − t_k = p_k − t_k

    averaged over the N samples of a batch: for logits Y and targets T of shape
    (N, n_classes), dY = (P − T) / N of that shape, P = softmax(Y) row by row. With sample
    weights w (``compute(Y, T, weights)``) L is their weighted mean Σ_n w_n L_n / Σ_m w_m,
    so dY_n = w_n (p_n − t_n) / Σ_m w_m. Fusing softmax and log is what makes it stable:
    log Σ_j e^{y_j} is computed as m + log Σ_j e^{y_j − m} with m = max_j y_j
    (log-sum-exp), so logits of ±1e4 give finite values, and the gradient p − t never
    divides by a probability that underflowed to 0.

    Targets may be integer class labels (N,) in [0, n_classes), or one-hot or soft
    (probability) targets (N, n_classes) whose rows are non-negative and sum to 1 (within
    1e-3, so that rounded probabilities pass). For such a row the gradient is taken as the
    exact derivative of the L computed, ∂L/∂y_k = (Σ_j t_j) p_k − t_k, as PyTorch does, so a
    row summing to 0.9995 still gives the gradient of its own loss.

    On the CPU, logits so far apart that y − m overflows float32 (±3e38) still give the
    finite L, computed again in float64, and a class of target 0 adds 0 to L however small
    its p (0 · log 0 = 0), never NaN.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> value, dY = cr.SoftmaxCrossEntropy()(np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([0, 1]))
    >>> round(float(value), 4)  # log 2
    0.6931
    >>> dY  # (p − t) / 2 with p = (½, ½)
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    """

    task = "classification"

    #: L as scikit-learn's ``log_loss`` records it: −(1/N) Σ_n Σ_k t_nk log clip(p_nk), the probabilities
    #: clipped to [ε, 1 − ε] with ε = ``numpy.finfo(dtype).eps`` (:func:`clipped_log_loss`); ∂L/∂Y stays the
    #: exact loss's. False here; the scikit-learn estimators' loss sets it (chainrule.sklearn._loss), so that
    #: its L comes from this ``compute``'s P and row sums, in the training loop's reused arrays.
    #: A subclass or a loss object (``loss.clips_probabilities = True``) may set it too; ``compute`` reads it at
    #: every call, so set it before training, not while a fit or another thread computes with that object.
    clips_probabilities = False

    def prepare(self, targets, n_outputs: int, dtype, n_samples: int | None = None) -> Array:
        name = type(self).__name__
        T = as_array(targets, name)
        if T.ndim == 1:
            if T.dtype.kind not in "iu":
                raise DTypeError(
                    f"{name}: expected integer class labels of shape (n_samples,) or probability targets "
                    f"of shape (n_samples, {n_outputs}); got labels of dtype {T.dtype}"
                )
            check_batch(name, T, n_samples)
            if T.size and (int(T.min()) < 0 or int(T.max()) >= n_outputs):
                bad = int(T.min()) if int(T.min()) < 0 else int(T.max())
                raise LabelError(f"{name}: labels must lie in [0, {n_outputs}) for {n_outputs} outputs; got {bad}")
            return T.astype(numpy.intp, copy=False)
        if T.ndim != 2 or T.shape[1] != n_outputs:
            raise ShapeError(
                f"{name}: expected labels (n_samples,) or targets (n_samples, {n_outputs}); got shape {tuple(T.shape)}"
            )
        if T.dtype.kind not in "fiub":
            raise DTypeError(f"{name}: expected numeric targets, got dtype {T.dtype}")
        check_batch(name, T, n_samples)
        T = as_finite(T, dtype, f"{name}: targets")
        if T.size and (bool((T < 0).any()) or not _sum_to_one(T.sum(axis=1))):
            raise LabelError(f"{name}: target rows must be non-negative and sum to 1 (one-hot or probabilities)")
        return T

    @retried_on_underflow
    def compute(self, Y: Array, T: Array, weights: Array | None = None) -> tuple[Array, Array]:
        """L = −(1/N) Σ_n Σ_k t_nk log p_nk and dY = ((Σ_k t_nk) P − T) / N, P = softmax(Y) row by row (P − T
        for labels, as one-hot rows); with ``weights``, w_n / Σ_m w_m in place of 1/N. With
        ``clips_probabilities``, L is :func:`clipped_log_loss` of the same P, and dY the same."""
        xp = get_array_module(Y)
        n_samples = Y.shape[0]
        n_mean = mean_over(Y)  # N, 1 for no rows
        # Rows of fewer than SHORT_ROWS classes are reduced down the rows of a transposed copy (NumPy
        # reduces short rows slowly); longer ones along their own axis, faster than through the copy.
        short = Y.shape[1] < SHORT_ROWS
        if short:
            # Yᵀ, then Pᵀ, in a vector's first elements: held as (classes, rows), a smaller last batch
            # would change its second axis and make it anew twice an epoch
            transposed = self.buffer("transposed", (Y.size,), Y).reshape(Y.shape[::-1])
            xp.copyto(transposed, Y.T)
        largest = transposed.max(axis=0) if short else Y.max(axis=1)  # m
        shifted = xp.subtract(Y, largest[:, None], out=self.buffer("shifted", Y.shape, Y))  # y − m
        P = xp.exp(shifted, out=self.buffer("dY", Y.shape, Y))  # e^{y − m}
        if short:
            xp.copyto(transposed, P.T)
        sums = transposed.sum(axis=0) if short else P.sum(axis=1)  # Σ_j e^{y_j − m}
        log_sum = None if self.clips_probabilities else xp.log(sums)  # log Σ_j e^{y_j − m}, for the exact L
        if weights is not None:
            return self._weighted(Y, T, shifted, P, sums, log_sum, weight_shares(weights))
        scale = Y.dtype.type(1 / n_mean)
        rows = xp.arange(n_samples) if T.ndim == 1 else None
        if self.clips_probabilities:
            value = clipped_log_loss(T, P, sums, shifted)  # never past float64's range: each term at most −log ε
        elif T.ndim == 1:
            # L = log Σ_j e^{y_j − m} − (y_t − m) for label t, the mean over the batch
            value = (log_sum.sum(dtype=numpy.float64) - shifted[rows, T].sum(dtype=numpy.float64)) / n_mean
        else:
            terms = xp.subtract(shifted, log_sum[:, None], out=shifted)  # log p_k
            with numpy.errstate(invalid="ignore"):  # 0 · (−inf) = NaN where y − m overflowed: L again below
                value = -xp.multiply(T, terms, out=terms).sum(dtype=numpy.float64) / n_mean  # −Σ_k t_k log p_k
        if overflowed(value):  # y − m overflowed (−inf, or 0 · −inf = NaN): L again in float64
            value = cross_entropy_in_float64(Y, T)
        if T.ndim == 1:
            P *= (scale / sums)[:, None]  # p / N
            P[rows, T] -= scale  # (p − t) / N for one-hot t, without building it
        else:
            P *= (scale * _row_sums(T) / sums)[:, None]  # (Σ_j t_j) p / N
            P -= xp.multiply(T, scale, out=shifted)  # t / N, in the buffer of the terms, no longer needed
        return value, P

    def _weighted(self, Y: Array, T: Array, shifted, P, sums, log_sum, shares) -> tuple[float, Array]:
        """``compute`` with each row's share w_n / Σ_m w_m of the batch's weights (float64)
        in place of 1/N, from the shifted logits y − m, P = e^{y − m}, its row sums and their log."""
        xp = get_array_module(Y)
        rows = xp.arange(Y.shape[0]) if T.ndim == 1 else None
        if self.clips_probabilities:
            value = clipped_log_loss(T, P, sums, shifted, shares)
        else:
            if T.ndim == 1:
                row_losses = log_sum.astype(numpy.float64) - shifted[rows, T]  # log Σ_j e^{y_j − m} − (y_t − m)
            else:
                terms = xp.subtract(shifted, log_sum[:, None], out=shifted)  # log p_k
                with numpy.errstate(invalid="ignore"):  # 0 · (−inf) = NaN where y − m overflowed: L again below
                    row_losses = -xp.multiply(T, terms, out=terms).sum(axis=1, dtype=numpy.float64)  # −Σ_k t_k log p_k
            value = weighted_sum(row_losses, shares)  # a row of weight 0 adds 0, even where its y − m overflowed
        if overflowed(value):  # as in ``compute``: L again in float64
            value = cross_entropy_in_float64(Y, T, shares)
        scale = shares.astype(Y.dtype)
        if T.ndim == 1:
            P *= (scale / sums)[:, None]  # w_n p / Σ_m w_m
            P[rows, T] -= scale  # w_n (p − t) / Σ_m w_m for one-hot t, without building it
        else:
            P *= (scale * _row_sums(T) / sums)[:, None]  # w_n (Σ_j t_j) p / Σ_m w_m
            P -= xp.multiply(T, scale[:, None], out=shifted)  # w_n t / Σ_m w_m, in the buffer of the terms
        return value, P

    def transform(self, Y: Array) -> Array:
        """Class probabilities p = softmax(y), row by row."""
        return softmax(Y)


def clipped_log_loss(T: Array, P: Array, sums: Array, work: Array, shares: Array | None = None) -> float:
    """scikit-learn's ``log_loss`` of the probabilities p = e^{y − m} / Σ_j e^{y_j − m} clipped to [ε, 1 − ε],
    ε = ``numpy.finfo(dtype).eps``, from ``compute``'s P = e^{y − m} and its row ``sums``, as scikit-learn's
    ``softmax`` and ``log_loss`` compute them (quotient, clip, log)::

        L = −(1/N) Σ_n Σ_k t_nk log clip(p_nk)      (labels t: −(1/N) Σ_n log clip(p_nt))

    with ``shares`` (w_n / Σ_m w_m), scikit-learn's ``numpy.average`` over the rows in place of 1/N. The
    (N, K) terms are written into ``work`` (the shifted logits' buffer, no longer needed); P is left as it is."""
    xp = get_array_module(P)
    if T.ndim == 1:  # the N probabilities of the labels alone
        terms = P[xp.arange(len(T)), T] / sums
    else:
        terms = xp.divide(P, sums[:, None], out=work)
    xp.log(clipped_probabilities(terms, terms), out=terms)
    if T.ndim == 2:
        terms *= T  # t log clip(p): a target of 0 adds 0, log clip(p) being finite
    if shares is None:
        return -terms.sum(dtype=numpy.float64) / mean_over(P)
    if T.ndim == 1:
        return -(shares @ terms)  # scikit-learn's numpy.average over the rows
    return -weighted_sum_rows(shares, terms).sum()  # the same; on the GPU no cuBLAS, which a CUDA graph refuses


def _row_sums(T: Array) -> Array:
    """Σ_k t_k of each target row: for NumPy, as a product with a vector of ones (a sum along
    the short rows takes it ~6 times as long); for CuPy, a sum, which a CUDA graph can capture
    (a product would call cuBLAS, which stream capture refuses)."""
    xp = get_array_module(T)
    if xp is not numpy:
        return T.sum(axis=1)
    return T @ numpy.ones(T.shape[1], dtype=T.dtype)


def _sum_to_one(sums: Array) -> bool:
    """Whether every row sum of targets is 1 within allclose's tolerance (atol 1e-3, rtol 1e-5).

    For NumPy, |s − 1| ≤ atol + rtol·1 computed as ``numpy.allclose(sums, 1, atol=1e-3)``
    computes it (NaN and inf refused alike), without its generic checks: ~4 µs instead of ~21,
    at every ``fit`` with probability targets. CuPy's own allclose otherwise."""
    xp = get_array_module(sums)
    if xp is not numpy:
        return bool(xp.allclose(sums, 1, atol=1e-3))
    return bool((numpy.abs(sums - 1.0) <= 1e-3 + 1e-5 * 1.0).all())


def cross_entropy_in_float64(Y: numpy.ndarray, T: numpy.ndarray, shares: numpy.ndarray | None = None) -> float:
    """L for NumPy logits ``Y`` and prepared targets ``T``, computed in float64, where the
    y − m of float32 logits cannot overflow; a target of 0 adds 0, even for log p = −inf.

    The mean over the rows, or with ``shares`` (w_n / Σ_m w_m) their weighted mean."""
    shifted = Y.astype(numpy.float64)
    shifted -= shifted.max(axis=1, keepdims=True)  # y − m
    log_p = shifted - numpy.log(numpy.exp(shifted).sum(axis=1, keepdims=True))  # log softmax(y)
    n_samples = Y.shape[0]
    if T.ndim == 1:
        row_log_p = log_p[numpy.arange(n_samples), T]
    else:
        with numpy.errstate(invalid="ignore"):  # 0 · (−inf) = NaN, replaced by 0 here
            terms = numpy.where(T == 0, 0.0, T * log_p)
        row_log_p = terms.sum(axis=1)
    row_losses = -row_log_p  # −Σ_k t_k log p_k, each finite unless it passes float64's range itself
    value = row_losses.sum() / n_samples if shares is None else weighted_sum(row_losses, shares)
    if overflowed(value):  # the rows' sum passed float64's range, though their mean may fit
        value = mean_of_large(row_losses[:, None], shares)
    return value
