"""GELU (tanh form): Y = ½X(1 + tanh(√(2/π)(X + 0.044715X³)))."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from tests.harness import assert_gradients, assert_keeps_float32, batch_sizes, normal, regression_targets, seeds, widths


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
