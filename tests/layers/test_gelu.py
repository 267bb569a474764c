"""GELU (tanh form): Y = ½X(1 + tanh(√(2/π)(X + 0.044715X³)))."""

import math
from fractions import Fraction
import warnings

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from tests.harness import (
    assert_gradients, assert_keeps_float32, assert_no_underflow_error, batch_sizes, normal, regression_targets, seeds,
    tiny_grid, widths,
)


@given(seed=seeds, n_samples=batch_sizes, width=widths)
def test_gradcheck(seed, n_samples, width):
    assert_gradients(cr.GELU(), normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_forward_values():
    X = np.array([[0.0, 1.0, -1.0, 3.0]])
    Y = cr.GELU()(X)
    u = math.sqrt(2 / math.pi) * (1.0 + 0.044715)
    assert Y[0, 0] == 0.0
    assert Y[0, 1] == pytest.approx(0.5 * (1 + math.tanh(u)), rel=1e-15)  # ≈ 0.8412
    assert Y[0, 2] == pytest.approx(-0.5 * (1 - math.tanh(u)), rel=1e-15)
    # Within 1e-3 of the exact z Φ(z).
    exact = [x * 0.5 * (1 + math.erf(x / math.sqrt(2))) for x in X[0]]
    np.testing.assert_allclose(Y[0], exact, atol=1e-3)


def test_backward_at_zero_is_one_half():
    layer = cr.GELU()
    layer(np.zeros((1, 1)))
    assert layer.backward(np.ones((1, 1)))[0, 0] == 0.5


def test_finite_for_huge_inputs():
    layer = cr.GELU()
    Y = layer(np.array([[1e4, -1e4]], dtype=np.float32))
    np.testing.assert_array_equal(Y, [[1e4, 0.0]])
    np.testing.assert_array_equal(layer.backward(np.ones_like(Y)), [[1.0, 0.0]])


def test_keeps_float32():
    assert_keeps_float32(cr.GELU(), normal(0, 4, 3))


@pytest.mark.parametrize("dtype, big", [("float32", 1e20), ("float32", 3e38), ("float64", 1e160), ("float64", 1e300)])
def test_backward_is_exact_for_the_largest_finite_inputs(dtype, big):
    # z·z overflows there; the second term of the derivative is 0 (tanh is exactly ±1).
    layer = cr.GELU()
    X = np.array([[big, -big, 49.0, -49.0]], dtype=dtype)
    with np.errstate(over="ignore"):  # the forward's z³ may overflow to inf; tanh(inf) = 1
        layer.forward(X)
    dX = layer.backward(np.ones_like(X))
    assert dX.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(dX[0, :2], [1.0, 0.0])
    np.testing.assert_array_equal(dX[0, 2:], [1.0, 0.0])  # tanh is already saturated at |z| = 49


def docstring_derivative(X):
    """∂h/∂z exactly as the class docstring writes it (fine where z·z does not overflow)."""
    T = np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X**3))
    return 0.5 * (1 + T) + 0.5 * X * (1 - T * T) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * X * X)


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-15), ("float32", 1e-6)])
def test_backward_is_the_docstring_derivative(dtype, tolerance):
    X = np.linspace(-60, 60, 2401).reshape(1, -1)  # through both saturations
    layer = cr.GELU()
    layer.forward(X.astype(dtype))
    dY = np.linspace(-2, 2, X.size).reshape(X.shape)
    dX = layer.backward(dY.astype(dtype))
    np.testing.assert_allclose(dX, dY * docstring_derivative(X), rtol=0, atol=tolerance)


def test_backward_in_place_and_with_reused_buffers():
    # Between two Linear layers GELU overwrites dY; in a training loop it reuses its buffers.
    X = normal(0, 6, 4)
    dY = normal(1, 6, 4)
    expected = dY * docstring_derivative(X)
    layer = cr.GELU()
    with layer.reusing_buffers():
        for _ in range(2):  # the second step gets the first step's memory back
            layer.forward(X)
            np.testing.assert_allclose(layer.backward(dY), expected, rtol=0, atol=1e-15)
    layer.forward(X, inplace=True)
    given = dY.copy()
    dX = layer.backward(given, inplace=True)
    assert dX is given
    np.testing.assert_allclose(dX, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype, big", [("float32", 1e14), ("float32", 3e38), ("float64", 1e104), ("float64", 1e300)])
def test_no_overflow_warning_for_huge_finite_inputs(dtype, big):
    # 0.044715 z³ overflows there (|z| ≳ 2e13 in float32, 2e103 in float64): the value was
    # right, but NumPy warned.
    X = np.array([[-big, big]], dtype=dtype)
    layer = cr.GELU()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Y = layer(X)
        dX = layer.backward(np.ones_like(Y))
    np.testing.assert_array_equal(Y, [[0.0, X[0, 1]]])
    np.testing.assert_array_equal(dX, [[0.0, 1.0]])


def reference(z: float) -> tuple[float, float]:
    """h = z σ(2u) and ∂h/∂z for the float z, from u computed exactly (in fractions, with the layer's
    float64 constants) and e^{−2u} as e^a (1 + b), −2u = a + b with a its nearest float: a few float64 ulps,
    with no 1 + t to cancel."""
    x = Fraction(z)
    w = -2 * Fraction(math.sqrt(2 / math.pi)) * (x + Fraction(0.044715) * x**3)  # −2u, exact
    a = float(w)
    E = math.exp(a) * (1 + float(w - Fraction(a)))  # e^{−2u}
    s, one_minus_s = 1 / (1 + E), E / (1 + E)  # σ(2u), σ(−2u)
    return z * s, s + 2 * math.sqrt(2 / math.pi) * z * s * one_minus_s * (1 + 3 * 0.044715 * z * z)


@pytest.mark.parametrize("dtype, low, rtol", [("float32", -9.0, 2e-5), ("float64", -20.0, 2e-13)])
def test_negative_inputs_keep_their_relative_precision(dtype, low, rtol):
    """For z < 0, ½ z (1 + t) cancels where t is within rounding of −1: float32 gave h = 0 from z = −5.42 (h is
    −1.1e-8 there) and was 4 times off at −5.25, float64 0 from z = −7.19 (h is −2.3e-16 there); the derivative
    likewise. z σ(2u), with 1 − σ(2u) = e^{−2u} σ(2u), keeps both within a few ulps, times the |2u| by which e^{−2u}
    multiplies the rounding of u (in float32 a relative error of 87 epsilons at z = −8.87, the worst of the
    points below)."""
    Z = np.linspace(low, -0.25, 2001).astype(dtype).reshape(1, -1)
    layer = cr.GELU()
    Y = layer(Z)
    dX = layer.backward(np.ones_like(Z))
    want = np.array([reference(float(z)) for z in Z[0]])
    np.testing.assert_allclose(Y[0], want[:, 0], rtol=rtol, atol=0)
    away_from_zero = np.abs(Z[0] + 0.7518) > 0.05  # ∂h/∂z crosses 0 at z ≈ −0.7518, where no relative error holds
    np.testing.assert_allclose(dX[0, away_from_zero], want[away_from_zero, 1], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_positive_inputs_have_the_derivative_within_a_few_ulps_of_one(dtype):
    """Where σ(2u) ≈ 1, 1 − σ(2u) = e^{−2u} σ(2u) has no cancellation: the derivative's error is a few ulps of
    its value (1 − t² from a rounded t was off by 10 float32 ulps at z = 5.4, 12 float64 ulps at 7.2)."""
    Z = np.linspace(0.25, 12.0, 2001).astype(dtype).reshape(1, -1)
    layer = cr.GELU()
    layer(Z)
    dX = layer.backward(np.ones_like(Z))
    want = np.array([reference(float(z))[1] for z in Z[0]])
    np.testing.assert_allclose(dX[0], want, rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_stays_nan_and_infinities_are_as_in_pytorch(dtype):
    """A NaN input gives NaN in forward and backward (never 0); at ±inf h is inf and NaN (inf · σ(2u), with
    σ = 0 at −inf, where the limit is 0) and ∂h/∂z NaN, as torch.nn.GELU(approximate="tanh") gives."""
    X = np.array([[np.nan, np.inf, -np.inf, 1.0]], dtype=dtype)
    layer = cr.GELU()
    with np.errstate(invalid="ignore"):  # inf / inf and inf · 0 at ±inf
        Y = layer.forward(X)
        dX = layer.backward(np.ones_like(X))
    assert np.isnan(Y[0, 0]) and Y[0, 1] == np.inf and np.isnan(Y[0, 2])
    assert np.isnan(dX[0, :3]).all() and np.isfinite(dX[0, 3])
    layer.forward(np.array([[1.0]], dtype=dtype))
    assert np.isnan(layer.backward(np.array([[np.nan]], dtype=dtype))[0, 0])  # a NaN dY too


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_underflow_to_zero_raises_nothing_under_numpy_seterr_raise(dtype):
    """e^{−2u} underflowing to 0 for z ≳ 10 (float32; 21 in float64), σ(2u) = 1 / (1 + e^{−2u}) to a subnormal
    for z just below −10 (−21), and z σ(2u) (1 − σ(2u)) just above 10 (21), are the right values there, as NumPy's
    default takes them; under a caller's numpy.seterr(all="raise") forward and backward raised FloatingPointError
    on them since GELU is z σ(2u) (the tanh form rounded to t = ±1 without an underflow). As Sigmoid's e^(−|x|)."""
    Z = np.concatenate([np.linspace(-25, -3, 8001), np.linspace(3, 40, 8001)]).astype(dtype).reshape(1, -1)
    layer = cr.GELU()
    with np.errstate(under="ignore"):
        expected = layer.forward(Z).copy(), layer.backward(np.ones_like(Z)).copy()
    with np.errstate(all="raise"):
        Y = layer(Z)
        dX = layer.backward(np.ones_like(Z))
    np.testing.assert_array_equal(Y, expected[0])
    np.testing.assert_array_equal(dX, expected[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_subnormal_inputs_and_tiny_gradients_raise_no_underflow_error_under_numpy_seterr_raise(dtype):
    """z σ(2u) of a subnormal z (1e-45 in float32, 1e-310 in float64) and dY ⊙ ∂h/∂z of a gradient near the
    smallest normal number are subnormal numbers or 0, the right values: under a caller's numpy.seterr(all="raise")
    forward and backward raised FloatingPointError on them (outside the numpy.errstate of e^{−2u}), in place or not."""
    assert_no_underflow_error(cr.GELU, *tiny_grid(dtype))
