"""The identity: h = x. A placeholder layer that passes its input through."""

from __future__ import annotations

from ..backend import Array
from .layer import Layer


class Identity(Layer):
    """The identity, h = x: a placeholder that passes its input through.

    Forward and backward (∂h/∂x is the identity matrix)::

        h = x                       Y = X (a copy, outside fit) (n_samples, n_features)
        ∂L/∂x = ∂L/∂h               dX = dY                    (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.Identity()(np.array([[1.0, -2.0]]))
    array([[ 1., -2.]])
    """

    saved_for_backward = ("_X",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._X = None

    def forward(self, X: Array) -> Array:
        """Y = X: a copy, except inside a training loop (``reusing_buffers``), where X itself."""
        self._X = X  # kept only for the shape and dtype backward checks dY against
        return X if self.reuse_buffers else X.copy()  # a new array, as every layer's output outside fit

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """dX = dY: ∂L/∂x = ∂L/∂h, as ∂h/∂x is the identity."""
        self.check_dY(dY, self._X)
        return dY if input_grad else None
