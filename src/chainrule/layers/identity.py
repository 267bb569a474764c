"""The identity: h = x. A placeholder layer that passes its input through."""

from __future__ import annotations

from ..backend import Array
from .layer import Layer


class Identity(Layer):
    """Forward ``Y = X``; backward ``dX = dY`` (∂h/∂x is the identity matrix)."""

    def __init__(self) -> None:
        super().__init__()
        self._X = None

    def forward(self, X: Array) -> Array:
        self._X = X  # kept only for the shape and dtype backward checks dY against
        return X

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        self.check_dY(dY, self._X)
        return dY if input_grad else None
