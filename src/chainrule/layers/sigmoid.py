"""Sigmoid neurons: h = e^z / (1 + e^z) = 1 / (1 + e^-z)."""

from __future__ import annotations

import numpy

from ..backend import Array, get_array_module, underflow_allowed
from .layer import Layer


def sigmoid(X: Array, out: Array | None = None, scratch: Array | None = None) -> Array:
    """σ(X) without overflow: 1/(1+e^-x) for x ≥ 0 and e^x/(1+e^x) for x < 0, into ``out``
    (X itself allowed) or a new array; ``scratch``, an array of X's shape and dtype, holds
    e^(-|x|) (a new one if None).

    Both branches compute e^(-|x|) ≤ 1, so inputs of ±1e4 give exactly 1 and a tiny
    positive number (or 0) instead of an overflow warning and a NaN. An e^(-|x|) that
    underflows to 0 is σ's right value in the dtype, so it raises no FloatingPointError under
    a caller's ``numpy.seterr(all="raise")``.

    The two branches are one quotient F / (1 + E), with E = e^(-|x|) and F = max([x ≥ 0], E):
    F is 1 where x ≥ 0 and E where x < 0 (E ≤ 1), so each element is the same division as its
    branch's, with no selection between two arrays (NumPy's ``where`` allocates and, with signs
    at random, runs several times slower than the arithmetic). NaN stays NaN (E is NaN).
    """
    xp = get_array_module(X)
    E = xp.abs(X, out=scratch)
    xp.negative(E, out=E)
    try:  # no numpy.errstate around every call: 1-3 µs, and fit runs its layers under its own
        xp.exp(E, out=E)
    except FloatingPointError:  # under="raise" in the caller's numpy.errstate: the underflow, now ignored
        xp.abs(X, out=E)  # E was overwritten in part
        xp.negative(E, out=E)
        with numpy.errstate(under="ignore"):
            xp.exp(E, out=E)
    F = xp.greater_equal(X, 0, out=xp.empty_like(X) if out is None else out)  # [x ≥ 0] as 1.0 or 0.0
    xp.maximum(F, E, out=F)
    E += 1
    return xp.divide(F, E, out=F)


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

    works_in_place = True

    saved_for_backward = ("_Y",)  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._Y = None

    def forward(self, X: Array, inplace: bool = False) -> Array:
        """Y = σ(X), written into X when ``inplace``."""
        scratch = self.buffer("exp", X.shape, X) if self.reuse_buffers else None
        self._Y = Y = sigmoid(X, out=X if inplace else self.buffer("Y", X.shape, X), scratch=scratch)
        return Y

    def backward(self, dY: Array, input_grad: bool = True, inplace: bool = False) -> Array | None:
        """dX = dY ⊙ Y ⊙ (1 − Y), written into dY when ``inplace``."""
        Y = self._Y
        self.check_dY(dY, Y)
        if not input_grad:
            return None
        xp = get_array_module(dY)
        one_minus_Y = xp.subtract(1, Y, out=self.buffer("one_minus_Y", Y.shape, Y))
        dX = underflow_allowed(xp.multiply, dY, Y, dY if inplace else self.buffer("dX", Y.shape, Y))
        return underflow_allowed(xp.multiply, dX, one_minus_Y, dX)
