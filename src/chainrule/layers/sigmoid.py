"""Sigmoid neurons: h = e^z / (1 + e^z) = 1 / (1 + e^-z)."""

from __future__ import annotations

import numpy

from ..backend import Array, get_array_module
from .layer import Layer


def sigmoid(X: Array) -> Array:
    """σ(X) without overflow: 1/(1+e^-x) for x ≥ 0 and e^x/(1+e^x) for x < 0.

    Both branches compute e^(-|x|) ≤ 1, so inputs of ±1e4 give exactly 1 and a tiny
    positive number (or 0) instead of an overflow warning and a NaN. An e^(-|x|) that
    underflows to 0 is σ's right value in the dtype, so it raises no FloatingPointError under
    a caller's ``numpy.seterr(all="raise")``.
    """
    xp = get_array_module(X)
    try:  # no numpy.errstate around every call: 1-3 µs, and fit runs its layers under its own
        E = xp.exp(-xp.abs(X))
    except FloatingPointError:  # under="raise" in the caller's numpy.errstate: the underflow, now ignored
        with numpy.errstate(under="ignore"):
            E = xp.exp(-xp.abs(X))
    return xp.where(X >= 0, 1 / (1 + E), E / (1 + E))


class Sigmoid(Layer):
    r"""Elementwise :math:`h = \sigma(z) = 1 / (1 + e^{-z})`.

    Forward, for a batch X of z's::

        h = σ(z)                    Y = σ(X)                   (n_samples, n_features)

    Backward, with σ'(z) = σ(z)(1 − σ(z)) = h (1 − h) written from the output::

        ∂L/∂z = h (1 − h) ∂L/∂h     dX = dY ⊙ Y ⊙ (1 − Y)      (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.Sigmoid()(np.array([[0.0, 2.0]])).round(4)
    array([[0.5   , 0.8808]])
    """

    saved_for_backward = ("_Y",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._Y = None

    def forward(self, X: Array) -> Array:
        """Y = σ(X); Y is kept for backward."""
        self._Y = Y = sigmoid(X)
        return Y

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """dX = dY ⊙ Y ⊙ (1 − Y)."""
        Y = self._Y
        self.check_dY(dY, Y)
        if not input_grad:
            return None
        return dY * Y * (1 - Y)
