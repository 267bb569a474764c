"""Hyperbolic tangent neurons: h = tanh(z)."""

from __future__ import annotations

from ..backend import Array, get_array_module, underflow_allowed
from .layer import Layer


class Tanh(Layer):
    r"""Elementwise :math:`h = \tanh(z) = 2\sigma(2z) - 1`, a sigmoid centred on 0.

    Forward, for a batch X of z's::

        h = tanh(z)                 Y = tanh(X)                (n_samples, n_features)

    Backward, with tanh'(z) = 1 − tanh²(z) = 1 − h² written from the output::

        ∂L/∂z = (1 − h²) ∂L/∂h      dX = dY ⊙ (1 − Y²)         (n_samples, n_features)

    h² underflows for |h| < 1.1e-19 (float32; 1.5e-154 in float64), where 1 − h² is 1 all the
    same, and dY ⊙ (1 − Y²) does for a gradient near the dtype's smallest normal number (1.2e-38
    in float32), where the subnormal number or 0 is the right value: neither raises
    FloatingPointError under a caller's ``numpy.seterr(all="raise")`` (see ``backend.underflow_allowed``).

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.Tanh()(np.array([[0.0, 1.0]])).round(4)
    array([[0.    , 0.7616]])
    """

    works_in_place = True

    saved_for_backward = ("_Y",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._Y = None

    def forward(self, X: Array, inplace: bool = False) -> Array:
        """Y = tanh(X), written into X when ``inplace``."""
        self._Y = Y = get_array_module(X).tanh(X, out=X if inplace else self.buffer("Y", X.shape, X))
        return Y

    def backward(self, dY: Array, input_grad: bool = True, inplace: bool = False) -> Array | None:
        """dX = dY ⊙ (1 − Y²), written into dY when ``inplace``."""
        Y = self._Y
        self.check_dY(dY, Y)
        if not input_grad:
            return None
        xp = get_array_module(dY)
        # h² and dY ⊙ (1 − h²) allowed to underflow (see backend.underflow_allowed)
        derivative = underflow_allowed(xp.multiply, Y, Y, self.buffer("derivative", Y.shape, Y))
        xp.subtract(1, derivative, out=derivative)
        return underflow_allowed(xp.multiply, dY, derivative, dY if inplace else derivative)
