"""Gaussian error linear units: h = z Φ(z), in the tanh form of Hendrycks & Gimpel (2016)."""

from __future__ import annotations

import math

from ..backend import Array, get_array_module
from .layer import Layer

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715
SATURATED = 50.0  # |z| beyond which tanh(u) is exactly ±1 (see GELU.backward)


class GELU(Layer):
    r"""Elementwise GELU, :math:`h = z\,\Phi(z)`, computed with the tanh approximation.

    The approximation (the one of GPT-2, ``torch.nn.GELU(approximate="tanh")`` and ONNX's
    ``Gelu(approximate="tanh")``) differs from the erf form by less than 1e-3 everywhere and
    needs only NumPy's ufuncs. With u = √(2/π)(z + 0.044715 z³) and t = tanh(u), forward::

        Y = ½ X (1 + t)                         (n_samples, n_features)

    Backward, by the product and chain rules::

        ∂h/∂z = ½ (1 + t) + ½ z (1 − t²) √(2/π) (1 + 3·0.044715 z²)
        dX = dY ⊙ ∂h/∂z

    The second term is computed with z clipped to ±50, where t = ±1 exactly and the term is
    0, so the derivative stays finite (1 or 0) for the largest finite inputs.
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
        c = X.dtype.type(SQRT_2_OVER_PI)
        # For |z| ≥ 50, u ≥ 4400 and tanh(u) is exactly ±1 in float32 and float64, so the
        # second term is exactly 0; clipping z there keeps z·z from overflowing to inf
        # (inf · 0 = NaN for |z| ≳ 1.8e19 in float32) without changing any value.
        Z = get_array_module(X).clip(X, -SATURATED, SATURATED)
        dudx = c * (1 + X.dtype.type(3 * CUBIC) * Z * Z)
        return dY * (0.5 * (1 + T) + 0.5 * Z * (1 - T * T) * dudx)
