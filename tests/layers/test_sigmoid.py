"""Sigmoid: Y = σ(X) = 1 / (1 + e^-X), dX = dY ⊙ Y ⊙ (1 − Y); finite for any input."""

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
    assert_gradients(cr.Sigmoid(), normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_forward_and_backward():
    layer = cr.Sigmoid()
    X = np.array([[0.0, 2.0, -3.0]])
    Y = layer(X)
    np.testing.assert_allclose(Y, 1 / (1 + np.exp(-X)))
    assert Y[0, 0] == 0.5
    dY = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(layer.backward(dY), dY * Y * (1 - Y))
    assert layer.backward(dY)[0, 0] == 0.25  # σ'(0) = 1/4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_for_huge_inputs(dtype):
    layer = cr.Sigmoid()
    X = np.array([[1e4, -1e4, 0.0]], dtype=dtype)
    # An overflow would fail; e^(−|x|) underflowing to 0 raised FloatingPointError under numpy.seterr(all="raise")
    with np.errstate(all="raise"):
        Y = layer(X)
        dX = layer.backward(np.ones_like(Y))
    assert Y.dtype == dtype and dX.dtype == dtype
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(dX))
    np.testing.assert_array_equal(Y, [[1.0, 0.0, 0.5]])
    np.testing.assert_array_equal(dX, [[0.0, 0.0, 0.25]])


def test_keeps_float32():
    assert_keeps_float32(cr.Sigmoid(), normal(0, 4, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tiny_gradients_raise_no_underflow_error_under_numpy_seterr_raise(dtype):
    """dY ⊙ Y ⊙ (1 − Y) of a gradient near the smallest normal number is a subnormal number or 0, the right
    value: under a caller's numpy.seterr(all="raise") backward raised FloatingPointError on it, in place or not."""
    assert_no_underflow_error(cr.Sigmoid, *tiny_grid(dtype))
