"""Gaussian error linear units: h = z Φ(z), in the tanh form of Hendrycks & Gimpel (2016)."""

from __future__ import annotations

import math

import numpy

from ..backend import Array, get_array_module, underflow_allowed, zeros_like
from .layer import Layer

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


class GELU(Layer):
    r"""Elementwise GELU, :math:`h = z\,\Phi(z)`, computed with the tanh approximation.

    The approximation (the one of GPT-2, ``torch.nn.GELU(approximate="tanh")`` and ONNX's
    ``Gelu(approximate="tanh")``) differs from the erf form by less than 1e-3 everywhere and
    needs only NumPy's ufuncs. With u = √(2/π)(z + 0.044715 z³) and t = tanh(u), it is
    h = ½ z (1 + t), computed as h = z σ(2u) with σ(2u) = (1 + t)/2 = 1 / (1 + e^{−2u}): for a
    batch X of z's, with E holding the e^{−2u}'s::

        h = ½ z (1 + t) = z σ(2u)   Y = X ⊘ (1 + E)            (n_samples, n_features)

    Backward, by the product and chain rules, with 1 − t² = 4 σ(2u) σ(−2u)::

        ∂h/∂z = ½ (1 + t) + ½ z (1 − t²) √(2/π) (1 + 3·0.044715 z²)
              = s + 2√(2/π) z s (1 − s) (1 + 3·0.044715 z²)     with s = σ(2u), 1 − s = e^{−2u} s
        ∂L/∂z = ∂h/∂z ∂L/∂h         dX = dY ⊙ ∂h/∂z            (n_samples, n_features)

    Precision: ½ z (1 + t) as written cancels for z < 0, where t is within rounding of −1
    (float32 gave h = 0 from z = −5.42, where h is −1.1e-8, and was 4 times off at −5.25; float64
    gave 0 from z = −7.19, where h is −2.3e-16). σ(2u) = 1 / (1 + e^{−2u}) does not cancel, nor does 1 − s = e^{−2u} s,
    so h and ∂h/∂z keep their relative precision there, down to the dtype's smallest numbers
    (to within the rounding of u, which e^{−2u} multiplies by |2u|). Forward saves X and E
    (docs/cpu_speed.md has the cost against the tanh form).

    Saturation: where e^{−2u} is 0 (large z) s = 1 and 1 − s = 0; where it is inf (z ≲ −10 in
    float32) s = 0, and s (1 − s), inf · 0 = NaN there, is made 0; so z s (1 − s) is exactly 0
    before z² can overflow, and the derivative stays exactly 1 or 0 for the largest finite
    inputs. No overflow warning for huge finite inputs: z³ may overflow to ±inf there, which
    gives e^{−2u} = 0 or inf, the exact limits. An underflow to 0 or a subnormal (e^{−2u} from
    z ≈ 10 in float32, 21 in float64, and σ(2u) and z s (1 − s) near ∓10) is the right value, as
    NumPy's default takes it, so it raises no FloatingPointError under a caller's
    ``numpy.seterr(all="raise")`` either. At z = ±inf h is ±inf · s: inf at +inf, NaN at −inf
    (inf · 0, where the limit is 0), and ∂h/∂z is NaN at both, as in PyTorch; a NaN stays NaN in
    forward and backward.

    Backward writes into two arrays of X's shape (the layer's buffers, reused from step to
    step in a training loop); the one holding ∂h/∂z is returned as dX (or dY is overwritten
    with ``inplace=True``).

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> cr.GELU()(np.array([[-1.0, 0.0, 1.0]])).round(4)
    array([[-0.1588,  0.    ,  0.8412]])
    """

    preferred_init = "he_normal"
    works_in_place = True

    saved_for_backward = ("_X", "_E")  # set to None by release_saved (cr.fit, when it returns)

    def __init__(self) -> None:
        super().__init__()
        self._X = None
        self._E = None

    def forward(self, X: Array, inplace: bool = False) -> Array:
        """Y = X ⊘ (1 + e^{−2u}); X is kept for backward, so it is never overwritten, even with ``inplace``."""
        xp = get_array_module(X)
        self._X = X
        # For |z| ≳ 2e13 (float32) 0.044715 z³ overflows to ±inf, and for z ≲ −10 so does e^{−2u}, which
        # underflows to 0 for z ≳ 10: harmless, as e^{−2u} = 0 or inf gives σ(2u) = 1 or 0, the values it has
        # long saturated to there, so the warning (or a caller's seterr(all="raise") error) is silenced for them.
        with numpy.errstate(over="ignore", under="ignore"):
            E = xp.multiply(X, X, out=self.buffer("E", X.shape, X))
            E *= CUBIC
            E += 1
            E *= X  # z + 0.044715 z³
            E *= -2 * SQRT_2_OVER_PI  # −2u
            xp.exp(E, out=E)  # e^{−2u}
        self._E = E  # read back below from E, not self._E: another thread's forward may replace it meanwhile
        Y = xp.add(E, 1, out=self.buffer("Y", X.shape, X))
        # z σ(2u); for a z near the smallest normal number a subnormal number or 0, its right value
        return underflow_allowed(xp.divide, X, Y, Y)

    def backward(self, dY: Array, input_grad: bool = True, inplace: bool = False) -> Array | None:
        """dX = dY ⊙ ∂h/∂z, written into dY when ``inplace``."""
        X, E = self._X, self._E
        self.check_dY(dY, X)
        if not input_grad:
            return None
        xp = get_array_module(X)
        # p = z s (1 − s) first, with 1 − s = e^{−2u} s (no cancellation where s ≈ 1): exactly 0 where s is
        # 0 or 1, so p·z·z below stays 0 there instead of 0 · inf = NaN once z·z overflows (|z| ≳ 1.8e19 in
        # float32). Where e^{−2u} = inf, s = 0 and e^{−2u} s is inf · 0 = NaN, made 0 by fmax (a NaN of a
        # NaN input stays in s, and so in ∂h/∂z). One numpy.errstate (0.9 µs) for that inf · 0 of z ≲ −10
        # (float32) and for the underflows to 0 or a subnormal of s and p near saturation (|z| ≈ 10).
        with numpy.errstate(invalid="ignore", under="ignore"):
            s = xp.add(E, 1, out=self.buffer("derivative", X.shape, X))
            xp.divide(1, s, out=s)  # s = σ(2u)
            p = xp.multiply(E, s, out=self.buffer("p", X.shape, X))  # 1 − s
            p *= s
            xp.fmax(p, zeros_like(p), out=p)  # s (1 − s), 0 where it was inf · 0
            p *= X  # z s (1 − s)
            p *= 2 * SQRT_2_OVER_PI
            derivative = s
            derivative += p  # s + 2√(2/π) z s (1 − s)
            p *= X
            p *= X
            p *= 3 * CUBIC
            derivative += p  # s + 2√(2/π) z s (1 − s) (1 + 3·0.044715 z²) = ∂h/∂z
        return underflow_allowed(xp.multiply, dY, derivative, dY if inplace else derivative)
