"""Gaussian error linear units: h = z Φ(z), in the tanh form of Hendrycks & Gimpel (2016)."""

from __future__ import annotations

import math

import numpy

from ..backend import Array, get_array_module
from .layer import Layer

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


class GELU(Layer):
    r"""Elementwise GELU, :math:`h = z\,\Phi(z)`, computed with the tanh approximation.

    The approximation (the one of GPT-2, ``torch.nn.GELU(approximate="tanh")`` and ONNX's
    ``Gelu(approximate="tanh")``) differs from the erf form by less than 1e-3 everywhere and
    needs only NumPy's ufuncs. With u = √(2/π)(z + 0.044715 z³) and t = tanh(u), forward,
    for a batch X of z's (T holding their t's)::

        h = ½ z (1 + t)             Y = ½ X ⊙ (1 + T)          (n_samples, n_features)

    Backward, by the product and chain rules::

        ∂h/∂z = ½ (1 + t) + ½ z (1 − t²) √(2/π) (1 + 3·0.044715 z²)
        ∂L/∂z = ∂h/∂z ∂L/∂h         dX = dY ⊙ ∂h/∂z            (n_samples, n_features)

    The second term is computed as ½√(2/π) (p + 3·0.044715 p z²) with p = z (1 − t²)
    formed first: where tanh saturates, t = ±1 exactly, so p is exactly 0 before z² can
    overflow, and the derivative stays exactly 1 or 0 for the largest finite inputs.
    Backward writes into two arrays of X's shape (the layer's buffers, reused from step to
    step in a training loop); the second is returned as dX (or dY is overwritten with
    ``inplace=True``).

    No overflow warning for huge finite inputs: z³ may overflow to ±inf there, which gives
    t = ±1, the exact limit, and h = z or 0 as it should.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.GELU()(np.array([[-1.0, 0.0, 1.0]])).round(4)
    array([[-0.1588,  0.    ,  0.8412]])
    """

    preferred_init = "he_normal"
    works_in_place = True

    saved_for_backward = ("_X", "_T")  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._X = None
        self._T = None

    def forward(self, X: Array, inplace: bool = False) -> Array:
        """Y = ½ X (1 + t); X is kept for backward, so it is never overwritten, even with ``inplace``."""
        xp = get_array_module(X)
        self._X = X
        # For |z| ≳ 2e13 (float32) 0.044715 z³ overflows to ±inf: harmless, as u = ±inf gives t = ±1,
        # the value tanh has long saturated to there, so the warning is silenced for it alone.
        U = xp.multiply(X, X.dtype.type(CUBIC), out=self.buffer("T", X.shape, X))
        with numpy.errstate(over="ignore"):
            U *= X
            U *= X
        U += X
        U *= X.dtype.type(SQRT_2_OVER_PI)  # u = √(2/π) (z + 0.044715 z³)
        T = xp.tanh(U, out=U)
        self._T = T  # read back below from T, not self._T: another thread's forward may replace it meanwhile
        # ½ (1 + t) is exact, so ½ (1 + t) z is ½ z (1 + t) rounded once, and cannot overflow.
        Y = xp.add(T, 1, out=self.buffer("Y", X.shape, X))
        Y *= 0.5
        Y *= X
        return Y

    def backward(self, dY: Array, input_grad: bool = True, inplace: bool = False) -> Array | None:
        """dX = dY ⊙ ∂h/∂z, written into dY when ``inplace``."""
        X, T = self._X, self._T
        self.check_dY(dY, X)
        if not input_grad:
            return None
        xp = get_array_module(X)
        # p = z (1 − t²) first: it is exactly 0 where tanh saturates (t = ±1), so p·z·z
        # below stays 0 there instead of 0 · inf = NaN once z·z overflows (|z| ≳ 1.8e19
        # in float32).
        p = xp.multiply(T, T, out=self.buffer("p", X.shape, X))
        xp.subtract(1, p, out=p)
        p *= X
        derivative = xp.multiply(p, X, out=self.buffer("derivative", X.shape, X))
        derivative *= X
        derivative *= 3 * CUBIC
        derivative += p
        derivative *= 0.5 * SQRT_2_OVER_PI  # ½ z (1 − t²) √(2/π) (1 + 3·0.044715 z²)
        half_one_plus_t = xp.add(T, 1, out=p)  # p is no longer needed
        half_one_plus_t *= 0.5
        derivative += half_one_plus_t  # ∂h/∂z
        return xp.multiply(dY, derivative, out=dY if inplace else derivative)
