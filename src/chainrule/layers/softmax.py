"""Softmax neurons: outputs h_j = e^{z_j} / Σ_k e^{z_k}, positive and summing to 1."""

from __future__ import annotations

import numpy

from ..backend import Array, get_array_module
from ..errors import ShapeError
from .layer import Layer


def softmax(Z: Array, out: Array | None = None) -> Array:
    """Row-wise softmax, computed on Z − max(Z) so that no exponential overflows; into ``out``
    (an array of Z's shape and dtype) when given, else into a new array.

    An e^{z − max(z)} that underflows to 0, or a quotient by the row's sum that underflows (a
    probability below the dtype's smallest normal number, e^{−87.3} / 10 in float32), is the
    probability's right value in the dtype, so it raises no FloatingPointError under a caller's
    ``numpy.seterr(all="raise")``.
    """
    xp = get_array_module(Z)
    # z − max(z) below the dtype's range is −inf, whose e^ is the right 0; so is an e^ below its smallest number,
    # and a quotient below it (the sum is at least 1, from e^0 at the max: the quotient cannot overflow)
    with numpy.errstate(over="ignore", under="ignore"):
        E = xp.subtract(Z, Z.max(axis=1, keepdims=True), out=out)
        xp.exp(E, out=E)
        E /= E.sum(axis=1, keepdims=True)
    return E


class Softmax(Layer):
    r"""Row-wise :math:`h_j = e^{z_j} / \sum_k e^{z_k}`.

    Forward, for a batch X whose rows are z's::

        Y = softmax(X), row by row             (n_samples, n_classes)

    Backward, through the whole Jacobian ∂h_j/∂z_i = h_j (δ_ij − h_i), applied to a vector
    without forming it (a Jacobian-vector product, O(n_classes) per sample)::

        ∂L/∂z_i = Σ_j ∂L/∂h_j h_j (δ_ij − h_i) = h_i (∂L/∂h_i − Σ_j ∂L/∂h_j h_j)
        dX = Y ⊙ (dY − Σ_j (dY ⊙ Y)_j)         (n_samples, n_classes)

    Raises ShapeError for an input without columns (a softmax over nothing is undefined).

    For training a classifier, prefer returning logits and using SoftmaxCrossEntropy,
    whose fused gradient p − t is cheaper and more accurate than this layer followed by a
    log.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.Softmax()(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """

    saved_for_backward = ("_Y",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._Y = None

    def forward(self, X: Array) -> Array:
        """Y = softmax(X), row by row; Y is kept for backward."""
        if X.ndim != 2 or X.shape[1] == 0:
            raise ShapeError(f"{self.describe()}: expected input of shape (n_samples, n_classes) with n_classes >= 1, "
                             f"got {tuple(X.shape)}")
        self._Y = Y = softmax(X, out=self.buffer("Y", X.shape, X))
        return Y

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """dX = Y ⊙ (dY − Σ_j (dY ⊙ Y)_j), the Jacobian-vector product, row by row."""
        Y = self._Y
        self.check_dY(dY, Y)
        if not input_grad:
            return None
        try:  # no numpy.errstate around every call, as in Sigmoid's backward
            return self._jacobian_product(Y, dY)
        except FloatingPointError:  # under="raise" in the caller's numpy.errstate: a product below the smallest
            with numpy.errstate(under="ignore"):  # normal number is the right value; dY and Y are intact
                return self._jacobian_product(Y, dY)

    def _jacobian_product(self, Y: Array, dY: Array) -> Array:
        """Y ⊙ (dY − Σ_j (dY ⊙ Y)_j) into the layer's dX buffer."""
        xp = get_array_module(dY)
        dX = xp.multiply(dY, Y, out=self.buffer("dX", Y.shape, Y))
        xp.subtract(dY, dX.sum(axis=1, keepdims=True), out=dX)
        return xp.multiply(Y, dX, out=dX)
