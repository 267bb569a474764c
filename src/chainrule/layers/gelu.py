"""Gaussian error linear units: h = z Φ(z), in the tanh form of Hendrycks & Gimpel (2016)."""

from __future__ import annotations

import math

from ..backend import Array, get_array_module
from .layer import Layer

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


class GELU(Layer):
    r"""Elementwise GELU, :math:`h = z\,\Phi(z)`, computed with the tanh approximation.

    The approximation (the one of GPT-2, ``torch.nn.GELU(approximate="tanh")`` and ONNX's
    ``Gelu(approximate="tanh")``) differs from the erf form by less than 1e-3 everywhere and
    needs only NumPy's ufuncs. With u = √(2/π)(z + 0.044715 z³) and t = tanh(u), forward::

        Y = ½ X (1 + t)                         (n_samples, n_features)

    Backward, by the product and chain rules::

        ∂h/∂z = ½ (1 + t) + ½ z (1 − t²) √(2/π) (1 + 3·0.044715 z²)
        dX = dY ⊙ ∂h/∂z

    The second term is computed as ½√(2/π) (p + 3·0.044715 p z²) with p = z (1 − t²)
    formed first: where tanh saturates, t = ±1 exactly, so p is exactly 0 before z² can
    overflow, and the derivative stays exactly 1 or 0 for the largest finite inputs.
    Backward writes into two arrays of X's shape (the layer's buffers, reused from step to
    step in a training loop); the second is returned as dX (or dY is overwritten when the
    layer works in place).
    """

    preferred_init = "he_normal"

    def __init__(self) -> None:
        super().__init__()
        self._X = None
        self._T = None

    def forward(self, X: Array) -> Array:
        xp = get_array_module(X)
        self._X = X
        self._T = xp.tanh(X.dtype.type(SQRT_2_OVER_PI) * (X + X.dtype.type(CUBIC) * X * X * X))
        return 0.5 * X * (1 + self._T)

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        X, T = self._X, self._T
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
        return xp.multiply(dY, derivative, out=dY if self.inplace else derivative)
