"""A residual block: y = x + f(x)."""

from __future__ import annotations

from ..backend import Array, get_array_module
from ..errors import DTypeError, HyperparameterError, ShapeError
from ..parameters import check_each_layer_once
from .layer import Layer, check_initialized, not_a_layer
from .layer_list import LayerAttribute
from .sequential import adopt


class Residual(Layer):
    r"""Adds a block's input to its output: :math:`y = x + f(x)`.

    The identity path carries the gradient past f unchanged, a direct remedy for the
    gradient "getting progressively more diluted" through depth.

    Forward; f must keep the shape (ShapeError naming the layer otherwise) and the dtype (DTypeError)::

        y = x + f(x)                Y = X + f(X)               (n_samples, n_features)

    Backward, by the chain rule on both paths (∂y/∂x = I + ∂f/∂x)::

        ∂L/∂x = ∂L/∂y + ∂L/∂y · ∂f/∂x      dX = dY + f.backward(dY)   (n_samples, n_features)

    f.backward also writes the gradients of f's own parameters.

    With ``input_grad=False`` and nothing trainable inside f (a frozen block at the bottom of
    a model), backward does nothing and returns None.

    Parameters
    ----------
    f : Layer
        The block, any chainrule Layer that keeps the shape of its input (a Sequential,
        often). Its parameters are named ``"f.<name>"`` (e.g. ``"1.f.0.W"`` inside a
        Sequential). HyperparameterError if f is not a Layer set up by ``Layer.__init__``, or
        if a layer object appears more than once inside it.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> block = cr.Residual(cr.Sequential(cr.Linear(3, 3), cr.Tanh(), seed=0))
    >>> block(np.ones((2, 3))).shape
    (2, 3)
    >>> sorted(block.params)
    ['f.0.W', 'f.0.b']
    """

    #: assigning f (by hand too) renames the layers inside it
    f = LayerAttribute()

    def __init__(self, f: Layer) -> None:
        super().__init__()
        if not isinstance(f, Layer):
            raise HyperparameterError(f"Residual: f must be a chainrule Layer, got {not_a_layer(f)}")
        check_initialized(f, "Residual: f")
        self.f = f  # names the layers of f "f.0", ...
        check_each_layer_once(list(self.walk()))
        adopt(f)

    def children(self) -> list[tuple[str, Layer]]:
        return [("f", self.f)]

    def forward(self, X: Array) -> Array:
        """Y = X + f(X)."""
        F = self.f.forward(X)
        if not (hasattr(F, "dtype") and F.dtype == X.dtype):  # a custom f's list, booleans, integers or float64
            received = f"dtype {F.dtype}" if hasattr(F, "dtype") else type(F).__name__
            raise DTypeError(f"{self.describe()}: f must return an array of its input's dtype, {X.dtype}, for "
                             f"x + f(x); f(x) is {received}")
        if F.shape != X.shape:
            raise ShapeError(
                f"{self.describe()}: f must keep the shape of its input for x + f(x); "
                f"input {tuple(X.shape)}, f(x) {tuple(F.shape)}"
            )
        return get_array_module(X).add(X, F, out=self.buffer("Y", X.shape, X))

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """dX = dY + f.backward(dY), which also writes the ∂L/∂θ of f's parameters."""
        if not input_grad and not self.f.has_trainable_parameters():
            return None  # neither ∂L/∂x nor any gradient inside f is needed
        dF = self.f.backward(dY, input_grad)
        if not input_grad:
            return None
        return get_array_module(dY).add(dY, dF, out=self.buffer("dX", dY.shape, dY))

    def __repr__(self) -> str:
        return f"Residual({self.f!r})"
