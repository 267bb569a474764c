"""Rectified linear neurons: h = z if z > 0, else 0."""

from __future__ import annotations

from ..backend import Array, relu, relu_gradient
from .layer import Layer


class ReLU(Layer):
    r"""Elementwise :math:`h = \max(z, 0)`.

    Forward, for a batch X of z's::

        h = max(z, 0)               Y = max(X, 0)              (n_samples, n_features)

    Backward: f'(z) = 1 if z > 0 else 0, and z > 0 exactly where h > 0, so the derivative
    is read from the output (the input need not be kept)::

        ∂L/∂z = f'(z) ∂L/∂h         dX = dY ⊙ [Y > 0]          (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.ReLU()(np.array([[-1.0, 0.0, 2.0]]))
    array([[0., 0., 2.]])
    """

    preferred_init = "he_normal"
    works_in_place = True

    saved_for_backward = ("_Y",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._Y = None

    def forward(self, X: Array, inplace: bool = False) -> Array:
        """Y = max(X, 0), written into X when ``inplace``."""
        # Outside a training loop the new array a buffer would be is made by relu itself (no lookup at batch 1).
        out = X if inplace else self.buffer("Y", X.shape, X) if self.reuse_buffers else None
        self._Y = Y = relu(X, out=out)
        return Y

    def backward(self, dY: Array, input_grad: bool = True, inplace: bool = False) -> Array | None:
        """dX = dY ⊙ [Y > 0], written into dY when ``inplace``."""
        Y = self._Y
        self.check_dY(dY, Y)
        if not input_grad:
            return None
        # Outside a training loop the backend's own temporary is the new array a buffer would be.
        if not self.reuse_buffers:
            return relu_gradient(Y, dY, out=dY if inplace else None)
        mask = self.buffer("mask", Y.shape, Y, dtype=bool)
        return relu_gradient(Y, dY, out=dY if inplace else self.buffer("dX", Y.shape, Y), mask=mask)
