"""MSE: L = (1/N) Σ_n Σ_k (ŷ − y)², ∂L/∂ŷ = 2(ŷ − y)/N."""

import warnings

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from tests.harness import (
    assert_gradients, batch_sizes, normal, randomize_biases, regression_targets, sample_weights, seeds, widths,
)


@given(seed=seeds, n_samples=batch_sizes, n_outputs=widths)
def test_gradcheck_on_outputs(seed, n_samples, n_outputs):
    # Through the identity, the input gradient gradcheck compares is ∂L/∂Ŷ itself.
    Y, T = normal(seed, n_samples, n_outputs), normal(seed + 1, n_samples, n_outputs)
    assert_gradients(cr.Identity(), Y, T, cr.MSE())


@given(seed=seeds, n_samples=batch_sizes, n_in=widths, n_outputs=widths)
def test_gradcheck_through_a_linear_layer(seed, n_samples, n_in, n_outputs):
    layer = randomize_biases(cr.Linear(n_in, n_outputs, seed=seed, dtype="float64"), seed + 2)
    assert_gradients(layer, normal(seed, n_samples, n_in), regression_targets(seed + 1, n_samples, n_outputs), "mse")


@given(seed=seeds, n_samples=batch_sizes, n_outputs=widths)
def test_gradcheck_with_sample_weights(seed, n_samples, n_outputs):
    # dY = 2 w_n (y_n − t_n) / Σ_m w_m, rows of weight 0 included
    Y, T = normal(seed, n_samples, n_outputs), normal(seed + 1, n_samples, n_outputs)
    assert_gradients(cr.Identity(), Y, T, cr.MSE(), sample_weight=sample_weights(seed + 2, n_samples))


def test_value_and_gradient_by_hand():
    Y = np.array([[1.0, 2.0], [3.0, 4.0]])
    T = np.array([[0.0, 2.0], [1.0, 1.0]])
    value, dY = cr.MSE()(Y, T)
    # Residuals [[1, 0], [2, 3]]: squares sum to 1 + 0 + 4 + 9 = 14, over N = 2 samples.
    assert value == 7.0
    np.testing.assert_array_equal(dY, [[1.0, 0.0], [2.0, 3.0]])  # 2 (ŷ − y) / 2
    np.testing.assert_array_equal(Y, [[1.0, 2.0], [3.0, 4.0]])  # the outputs are left as they were


def test_finite_error_too_large_to_square_in_float32():
    Y = np.array([[0.0], [3e38]], dtype=np.float32)
    T = np.array([[1e20], [-3e38]])  # errors 1e20 (square 1e40) and 6e38, which itself overflows float32
    with np.errstate(over="ignore"):
        value, dY = cr.MSE()(Y, T)
    assert value == pytest.approx((1e40 + 36e76) / 2, rel=1e-6)  # fits float64: not inf
    assert dY.dtype == np.float32
    assert dY[0, 0] == np.float32(-1e20)  # the gradient is as before: 2 (ŷ − y) / N


def test_one_dimensional_targets_for_one_output():
    value, dY = cr.MSE()(np.array([[1.0], [2.0], [0.0]]), np.array([0, 0, 0]))
    assert value == pytest.approx(5 / 3)
    np.testing.assert_allclose(dY, [[2 / 3], [4 / 3], [0.0]])


def test_float32_outputs_give_float32_gradient():
    value, dY = cr.MSE()(np.ones((3, 2), dtype=np.float32), np.zeros((3, 2)))
    assert dY.dtype == np.float32
    assert value == 2.0


def test_targets_of_the_wrong_width():
    with pytest.raises(cr.ShapeError, match=r"MSE: expected targets of shape \(n_samples, 2\), got \(3, 3\)"):
        cr.MSE()(np.zeros((3, 2)), np.zeros((3, 3)))


def test_one_dimensional_targets_for_several_outputs():
    with pytest.raises(cr.ShapeError, match=r"MSE: expected targets of shape \(n_samples, 2\), got \(3,\)"):
        cr.MSE()(np.zeros((3, 2)), np.zeros(3))


def test_different_batch_sizes():
    message = "MSE: outputs and targets have different batch sizes: 3 outputs vs 4 targets"
    with pytest.raises(cr.ShapeError, match=message):
        cr.MSE()(np.zeros((3, 2)), np.zeros((4, 2)))


def test_non_numeric_targets():
    with pytest.raises(cr.DTypeError, match="MSE: expected numeric targets, got dtype <U1"):
        cr.MSE()(np.zeros((2, 1)), np.array(["a", "b"]))


def test_non_finite_targets():
    with pytest.raises(cr.NonFiniteError, match=r"MSE: targets: expected finite values, found nan at index \(1, 0\)"):
        cr.MSE()(np.zeros((2, 1)), np.array([[0.0], [np.nan]]))


def test_non_finite_outputs():
    with pytest.raises(cr.NonFiniteError, match=r"MSE: outputs Y: expected finite values, found inf at index \(0, 1\)"):
        cr.MSE()(np.array([[0.0, np.inf]]), np.zeros((1, 2)))


def test_an_overflow_handled_in_float64_gives_no_numpy_warning():
    """(1e20)² overflows float32; the loss computes L again in float64 and has nothing to warn about."""
    Y = np.full((2, 2), 1e20, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, _ = cr.MSE()(Y, np.zeros((2, 2)))
    assert value == pytest.approx(2e40, rel=1e-6)


def test_a_row_of_weight_zero_too_large_to_square_gives_no_warning():
    """(1e20)² overflows float32 in a row of weight 0: inf · 0 is NaN in the weighted mean, which L
    computed again in float64 replaces, with nothing to warn about."""
    Y = np.array([[1e20], [1.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dY = cr.MSE()(Y, np.zeros((2, 1)), np.array([0.0, 1.0]))
    assert value == 1.0  # row 1 alone
    np.testing.assert_array_equal(dY, np.array([[0.0], [2.0]], dtype=np.float32))  # 2 w_n (y − t) / Σ w


def test_a_row_of_weight_zero_too_large_to_square_in_float64_does_not_count():
    """(1e200)² overflows float64 too, so computing L again in float64 gave inf · 0 = NaN, and NumPy's
    'invalid value encountered in matmul' warning: a row of weight 0 adds 0 to the weighted mean."""
    Y = np.array([[1e200], [1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dY = cr.MSE()(Y, np.array([[0.0], [0.5]]), np.array([0.0, 1.0]))
    assert value == 0.25  # row 1 alone: (1 − 0.5)²
    np.testing.assert_array_equal(dY, np.array([[0.0], [1.0]]))


@pytest.mark.parametrize("weights, value, dY", [
    (None, 5e39, [[1e20], [0.0]]),  # (1e40 + 0) / 2; dY = 2 (ŷ − y) / 2
    (np.array([1.0, 3.0]), 2.5e39, [[5e19], [0.0]]),  # ¼ · 1e40 + ¾ · 0; dY = 2 · ¼ (ŷ − y)
], ids=["unweighted", "weighted"])
def test_compute_gives_the_value_of_a_square_past_float32(weights, value, dY):
    """compute itself, as fit calls it (outside Loss.__call__, under fit's numpy.errstate): the (1e20)²
    that overflows float32 is computed again in float64, with its weights."""
    Y = np.array([[1e20], [0.0]], dtype=np.float32)
    with np.errstate(over="ignore"):
        loss, gradient = cr.MSE().compute(Y, np.zeros((2, 1), dtype=np.float32), weights)
    assert loss == pytest.approx(value, rel=1e-6)
    np.testing.assert_allclose(gradient, np.array(dY, dtype=np.float32), rtol=1e-6)
