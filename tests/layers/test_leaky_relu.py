"""LeakyReLU: Y = where(X > 0, X, αX), dX = dY ⊙ where(X > 0, 1, α)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from tests.harness import (
    assert_gradients, assert_keeps_float32, assert_no_underflow_error, batch_sizes, normal, regression_targets, seeds,
    tiny_grid, widths,
)


@given(seed=seeds, n_samples=batch_sizes, width=widths, alpha=st.sampled_from([0.0, 0.01, 0.2, 0.5]))
def test_gradcheck(seed, n_samples, width, alpha):
    layer = cr.LeakyReLU(alpha)
    assert_gradients(layer, normal(seed, n_samples, width), regression_targets(seed + 1, n_samples, width))


def test_forward_and_backward():
    layer = cr.LeakyReLU(alpha=0.1)
    X = np.array([[-2.0, 3.0, -0.5]])
    np.testing.assert_allclose(layer(X), [[-0.2, 3.0, -0.05]])
    np.testing.assert_allclose(layer.backward(np.array([[1.0, 2.0, 10.0]])), [[0.1, 2.0, 1.0]])


def test_the_slope_at_zero_is_alpha_as_the_docstring_and_pytorch_have_it():
    # f'(z) = 1 if z > 0 else α: at z = 0 (and −0) the derivative is α, as torch.nn.LeakyReLU's backward gives
    layer = cr.LeakyReLU(alpha=0.1)
    np.testing.assert_array_equal(layer(np.array([[0.0, -0.0]])), [[0.0, 0.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[1.0, 2.0]])), [[0.1, 0.2]])


def test_default_alpha():
    assert cr.LeakyReLU().alpha == 0.01
    assert "alpha=0.01" in repr(cr.LeakyReLU())


@pytest.mark.parametrize("alpha, message", [
    (1.0, r"alpha: expected a number in \[0, 1\), got 1.0"),
    (-0.1, "alpha: expected a number >= 0, got -0.1"),
    (float("nan"), "alpha: expected a finite real number"),
])
def test_invalid_alpha(alpha, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.LeakyReLU(alpha)


def test_an_alpha_without_a_repr_is_named_by_its_type():
    """A Fraction of 5,000-digit terms is 1.0 as a float; its repr raised ValueError inside the message."""
    with pytest.raises(cr.HyperparameterError, match=r"alpha: expected a number in \[0, 1\), got <Fraction holding"):
        cr.LeakyReLU(Fraction(10 ** 5000 + 1, 10 ** 5000))


def test_keeps_float32():
    assert_keeps_float32(cr.LeakyReLU(0.2), normal(0, 4, 3))


def test_the_slope_at_zero_is_alpha():
    # f'(z) = 1 only for z > 0, as in PyTorch: an input exactly 0 (a row of zeros through a
    # Linear whose biases are still 0) passes α dY back.
    layer = cr.LeakyReLU(alpha=0.1)
    np.testing.assert_array_equal(layer(np.zeros((1, 2))), [[0.0, 0.0]])
    np.testing.assert_allclose(layer.backward(np.array([[1.0, -3.0]])), [[0.1, -0.3]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("alpha", [0.01, 0.5, 0.0])
def test_tiny_inputs_and_gradients_raise_no_underflow_error_under_numpy_seterr_raise(dtype, alpha):
    """α z of a z near the smallest normal number (−1e-38 in float32) and α dY of such a gradient are subnormal
    numbers or 0, the right values: under a caller's numpy.seterr(all="raise") forward and backward raised
    FloatingPointError on them, in place or not."""
    assert_no_underflow_error(lambda: cr.LeakyReLU(alpha), *tiny_grid(dtype))
