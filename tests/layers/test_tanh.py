"""Tanh: Y = tanh(X), dX = dY ⊙ (1 − Y²)."""

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
    assert_gradients(cr.Tanh(), normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_forward_and_backward():
    layer = cr.Tanh()
    X = np.array([[0.0, 0.5, -2.0]])
    Y = layer(X)
    np.testing.assert_allclose(Y, np.tanh(X))
    dY = np.array([[3.0, 1.0, -1.0]])
    dX = layer.backward(dY)
    np.testing.assert_allclose(dX, dY / np.cosh(X) ** 2)  # tanh' = sech²
    assert dX[0, 0] == 3.0


def test_finite_for_huge_inputs():
    layer = cr.Tanh()
    Y = layer(np.array([[1e4, -1e4]], dtype=np.float32))
    np.testing.assert_array_equal(Y, [[1.0, -1.0]])
    np.testing.assert_array_equal(layer.backward(np.ones_like(Y)), [[0.0, 0.0]])


def test_keeps_float32():
    assert_keeps_float32(cr.Tanh(), normal(0, 4, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tiny_inputs_and_gradients_raise_no_underflow_error_under_numpy_seterr_raise(dtype):
    """h² underflows for |z| < 1.1e-19 (float32), where 1 − h² is 1 all the same, and dY ⊙ (1 − Y²) does for a
    gradient near the smallest normal number, where the subnormal number or 0 is the right value: under a
    caller's numpy.seterr(all="raise") backward raised FloatingPointError on both, in place or not."""
    assert_no_underflow_error(cr.Tanh, *tiny_grid(dtype))
