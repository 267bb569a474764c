"""chainrule.sklearn._loss.HalfSquaredError: MLPRegressor's loss, scikit-learn's squared_loss
(sklearn.neural_network._base: half the mean over every element) with the gradient its _backprop
starts from, (Y − T) / N, computed by MSE's built-in compute (``halves``)."""

import inspect

import numpy
import pytest
from sklearn.neural_network._base import squared_loss

from chainrule.losses import MSE
from chainrule.sklearn._loss import HalfSquaredError
from tests.harness import assert_computes_into_reused_arrays


def outputs_and_targets(dtype, n_outputs: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(0)
    return rng.normal(size=(7, n_outputs)).astype(dtype), rng.normal(size=(7, n_outputs)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_half_squared_error_is_squared_loss_with_half_mses_gradient(dtype, weighted, n_outputs):
    """L is scikit-learn's squared_loss (weighted: numpy.average's weighted mean, 1/N -> w_n / Σ_m w_m); dY is MSE's
    scaled by 1/2, bit for bit what the compute of its own gave before it became MSE's with ``halves``."""
    Y, T = outputs_and_targets(dtype, n_outputs)
    weights = numpy.array([0.0, 1.0, 2.5, 0.5, 3.0, 1.0, 2.0]) if weighted else None
    if weighted and "sample_weight" not in inspect.signature(squared_loss).parameters:
        pytest.skip("scikit-learn before 1.7: its squared_loss takes no sample_weight")
    value, dY = HalfSquaredError().compute(Y, T, weights)
    mse_value, mse_dY = MSE().compute(Y, T, weights)
    tolerance = 1e-6 if dtype == "float32" else 1e-14  # float32: y − t and its square are rounded to float32
    expected = squared_loss(T.astype(numpy.float64), Y.astype(numpy.float64), sample_weight=weights)
    assert value == pytest.approx(expected, rel=tolerance)
    assert value == mse_value / (2 * n_outputs)
    assert dY.dtype == Y.dtype
    numpy.testing.assert_array_equal(dY, mse_dY * Y.dtype.type(0.5))
    shares = numpy.full(len(Y), 1 / len(Y)) if weights is None else weights / weights.sum()
    numpy.testing.assert_allclose(dY, (Y - T) * shares[:, None], rtol=tolerance)


def test_half_squared_error_writes_into_the_loops_reused_arrays():
    """HalfSquaredError's compute is MSE's, a built-in one, which the training loop lets write into its reused arrays:
    a second step's ∂L/∂Y is the first's memory. Before, its compute of its own (MSE's, then ∂L/∂Y halved and L
    divided by 2K) was defined outside chainrule.losses and got new arrays at every step."""
    loss = HalfSquaredError()
    Y, T = outputs_and_targets("float32", 3)
    assert_computes_into_reused_arrays(loss, Y, T)


def test_halves_set_on_a_loss_object_gives_half_squared_error_and_leaves_the_class_as_it_was():
    """usage.md: a loss object may set ``halves`` (read at every compute) for cr.fit too."""
    Y, T = outputs_and_targets("float64", 3)
    loss = MSE()
    loss.halves = True
    value, dY = loss.compute(Y, T)
    expected_value, expected_dY = HalfSquaredError().compute(Y, T)
    assert value == expected_value
    numpy.testing.assert_array_equal(dY, expected_dY)
    assert MSE().compute(Y, T)[0] == value * 2 * 3
