"""The identity: h = x. A placeholder layer that passes its input through."""

from __future__ import annotations

from ..backend import Array
from .layer import Layer


class Identity(Layer):
    """Forward ``Y = X``; backward ``dX = dY`` (∂h/∂x is the identity matrix)."""

    def forward(self, X: Array) -> Array:
        return X

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        return dY if input_grad else None
