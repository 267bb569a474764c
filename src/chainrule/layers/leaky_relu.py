"""Leaky rectified linear neurons: h = z if z > 0, else αz."""

from __future__ import annotations

from ..backend import Array, get_array_module, relu, underflow_allowed
from ..checks import positive
from ..errors import HyperparameterError, quoted
from .layer import Layer


class LeakyReLU(Layer):
    r"""Elementwise :math:`h = z` for z > 0 and :math:`h = \alpha z` otherwise, 0 ≤ α < 1.

    The small slope α keeps a gradient flowing through neurons whose z < 0, which a
    plain ReLU would silence for good.

    Forward, for a batch X of z's::

        h = z if z > 0 else α z     Y = where(X > 0, X, α X) = max(X, α X)   (n_samples, n_features)

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

    works_in_place = True

    saved_for_backward = ("_Y",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = positive(alpha, "alpha", allow_zero=True)
        if self.alpha >= 1:
            raise HyperparameterError(f"alpha: expected a number in [0, 1), got {quoted(alpha)}")
        self._Y = None

    def forward(self, X: Array, inplace: bool = False) -> Array:
        """Y = max(X, α X), written into X when ``inplace``.

        For 0 ≤ α < 1 the larger of z and αz is z where z > 0 and αz elsewhere, so this is
        where(X > 0, X, α X) element for element, without a mask or a selection. With α = 0, a
        ReLU's max(X, 0) (the product 0·(±∞) would be NaN; a z < 0 gives +0 where 0·z is −0).
        An α z below the dtype's smallest normal number (z = −1e-38 in float32) is the right
        value, a subnormal number or 0, and raises nothing under a caller's ``numpy.seterr(all="raise")``.
        """
        xp = get_array_module(X)
        Y = X if inplace else self.buffer("Y", X.shape, X)
        alpha = X.dtype.type(self.alpha)
        if alpha == 0:
            self._Y = relu(X, out=Y)
            return Y
        scaled = underflow_allowed(xp.multiply, X, alpha, self.buffer("scaled", X.shape, X))  # α z
        self._Y = xp.maximum(X, scaled, out=Y)
        return Y

    def backward(self, dY: Array, input_grad: bool = True, inplace: bool = False) -> Array | None:
        """dX = dY ⊙ where(Y > 0, 1, α), written into dY when ``inplace``: the slope at z = 0 is α, as in PyTorch.

        Y > 0 exactly where X > 0 (αz ≤ 0 for z ≤ 0), so the slope is read from the output; it
        is max([Y > 0], α): 1 or α, each product the same as where's. An α dY that underflows is
        the right value, as α z in ``forward``.
        """
        Y = self._Y
        self.check_dY(dY, Y)
        if not input_grad:
            return None
        xp = get_array_module(dY)
        positive = xp.greater(Y, 0, out=self.buffer("positive", Y.shape, Y, dtype=bool))
        slope = xp.maximum(positive, Y.dtype.type(self.alpha), out=self.buffer("slope", Y.shape, Y))
        return underflow_allowed(xp.multiply, dY, slope, dY if inplace else slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"
