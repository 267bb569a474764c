"""Leaky rectified linear neurons: h = z if z > 0, else αz."""

from __future__ import annotations

from ..backend import Array, get_array_module
from ..checks import positive
from ..errors import HyperparameterError, quoted
from .layer import Layer


class LeakyReLU(Layer):
    r"""Elementwise :math:`h = z` for z > 0 and :math:`h = \alpha z` otherwise, 0 ≤ α < 1.

    The small slope α keeps a gradient flowing through neurons whose z < 0, which a
    plain ReLU would silence for good.

    Forward, for a batch X of z's::

        h = z if z > 0 else α z     Y = where(X > 0, X, α X)   (n_samples, n_features)

    Backward, f'(z) = 1 if z > 0 else α::

        ∂L/∂z = f'(z) ∂L/∂h         dX = dY ⊙ where(X > 0, 1, α)   (n_samples, n_features)

    Parameters
    ----------
    alpha : float, default 0.01
        The slope α for z ≤ 0, in [0, 1); HyperparameterError naming ``alpha`` otherwise.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.LeakyReLU(alpha=0.1)(np.array([[-2.0, 3.0]]))
    array([[-0.2,  3. ]])
    """

    preferred_init = "he_normal"

    saved_for_backward = ("_positive", "_dtype")  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = positive(alpha, "alpha", allow_zero=True)
        if self.alpha >= 1:
            raise HyperparameterError(f"alpha: expected a number in [0, 1), got {quoted(alpha)}")
        self._positive = None
        self._dtype = None  # of the last output, which dY must have

    def forward(self, X: Array) -> Array:
        """Y = where(X > 0, X, α X); the mask X > 0 is kept for backward."""
        xp = get_array_module(X)
        self._positive = positive = X > 0
        self._dtype = X.dtype
        return xp.where(positive, X, X * X.dtype.type(self.alpha))

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """dX = dY ⊙ where(X > 0, 1, α): the slope at z = 0 is α, as in PyTorch."""
        self.check_dY(dY, self._positive, dtype=self._dtype)
        if not input_grad:
            return None
        xp = get_array_module(dY)
        return xp.where(self._positive, dY, dY * dY.dtype.type(self.alpha))

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"
