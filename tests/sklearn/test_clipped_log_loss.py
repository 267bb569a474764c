"""chainrule.sklearn._loss.ClippedLogLoss: the classifier's cross-entropies whose L is scikit-learn's
log_loss and binary_log_loss (sklearn.neural_network._base: the log of the probabilities clipped to
[ε, 1 − ε], ε = numpy.finfo(dtype).eps) and whose ∂L/∂Y is the exact loss's."""

import inspect

import numpy
import pytest
from sklearn.neural_network._base import binary_log_loss, log_loss

from chainrule.layers.sigmoid import sigmoid
from chainrule.layers.softmax import softmax
from chainrule.losses import BinaryCrossEntropy, SoftmaxCrossEntropy
from chainrule.sklearn._loss import ClippedBinaryCrossEntropy, ClippedSoftmaxCrossEntropy
from tests.harness import assert_computes_into_reused_arrays


def expected_loss(log_loss_function, T, P, weights):
    """scikit-learn's ``log_loss_function`` of the probabilities ``P``, weighted by ``weights`` unless None; skipped
    for weights with a scikit-learn before 1.7, whose log losses take no sample_weight (nor its MLPs' fit)."""
    if weights is None:
        return log_loss_function(T, P)
    if "sample_weight" not in inspect.signature(log_loss_function).parameters:
        pytest.skip("scikit-learn before 1.7: its log losses take no sample_weight")
    return log_loss_function(T, P, sample_weight=weights)


def logits(dtype, n_outputs: int) -> numpy.ndarray:
    """Rows of logits from moderate to saturated in ``dtype`` (±1e4: probabilities of exactly 0 and 1)."""
    rng = numpy.random.default_rng(0)
    Y = rng.normal(size=(8, n_outputs)) * numpy.array([1, 1, 20, 20, 100, 100, 1e4, 1e4])[:, None]
    return Y.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_clipped_binary_cross_entropy_is_binary_log_loss_with_the_exact_gradient(dtype, weighted, n_outputs):
    Y = logits(dtype, n_outputs)
    T = (numpy.random.default_rng(1).random(Y.shape) < 0.5).astype(dtype)
    weights = numpy.arange(1.0, 9.0) if weighted else None
    exact = BinaryCrossEntropy()
    value, dY = ClippedBinaryCrossEntropy().compute(Y, T, *([weights] if weighted else []))
    exact_value, exact_dY = exact.compute(Y, T, *([weights] if weighted else []))
    expected = expected_loss(binary_log_loss, T, sigmoid(Y), weights)
    numpy.testing.assert_allclose(value, expected, rtol=1e-6 if dtype == "float32" else 1e-12)
    assert value < exact_value  # the exact loss of a logit of 1e4 is about 1e4
    numpy.testing.assert_array_equal(dY, exact_dY)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("one_hot", [False, True])
def test_clipped_softmax_cross_entropy_is_log_loss_with_the_exact_gradient(dtype, weighted, one_hot):
    Y = logits(dtype, 3)
    labels = numpy.random.default_rng(1).integers(0, 3, len(Y))
    T_one_hot = numpy.eye(3, dtype=dtype)[labels]
    T = T_one_hot if one_hot else labels
    weights = numpy.arange(1.0, 9.0) if weighted else None
    value, dY = ClippedSoftmaxCrossEntropy().compute(Y, T, *([weights] if weighted else []))
    exact_value, exact_dY = SoftmaxCrossEntropy().compute(Y, T, *([weights] if weighted else []))
    expected = expected_loss(log_loss, T_one_hot, softmax(Y), weights)
    numpy.testing.assert_allclose(value, expected, rtol=1e-6 if dtype == "float32" else 1e-12)
    assert value < exact_value
    numpy.testing.assert_array_equal(dY, exact_dY)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clipped_binary_cross_entropy_of_confident_right_outputs_is_binary_log_loss(dtype):
    """Rows nearly fitted (p within 1e-5 of t): the loss of each is small, log p ≈ −(1 − p). It was computed as
    t (log p − log(1 − p)) + log(1 − p), where log(1 − p) (−12 to −16) rounded log p away: the loss was off by
    0.2% in float32 (1.6428e-06 for scikit-learn's 1.6394e-06), by 1.5e-11 of itself in float64."""
    rng = numpy.random.default_rng(0)
    T = (rng.random((1000, 1)) < 0.5).astype(dtype)
    Y = ((2 * T - 1) * rng.uniform(12, 16, T.shape)).astype(dtype)
    value, _ = ClippedBinaryCrossEntropy().compute(Y, T)
    numpy.testing.assert_allclose(value, binary_log_loss(T, sigmoid(Y)), rtol=1e-5 if dtype == "float32" else 1e-12)


def probabilities_not_computed_again(Y):
    raise AssertionError("transform called: the probabilities computed a second time")


@pytest.mark.parametrize("loss_class", [ClippedSoftmaxCrossEntropy, ClippedBinaryCrossEntropy])
def test_clipped_loss_takes_l_from_its_own_probabilities_in_the_loops_reused_arrays(loss_class, monkeypatch):
    """L comes from the P that the base class's compute makes for ∂L/∂Y (no softmax or sigmoid again), and the
    compute is a built-in one, which the training loop lets write into its reused arrays: a second step's ∂L/∂Y is
    the first's memory. Before, compute called transform for a second P, and being defined outside
    chainrule.losses it got new arrays at every step (60–74 µs a 200×10 softmax batch, the exact loss 25:
    docs/cpu_speed.md)."""
    loss = loss_class()
    Y = logits("float32", 3)
    T = numpy.eye(3, dtype="float32")[numpy.random.default_rng(1).integers(0, 3, len(Y))]
    monkeypatch.setattr(loss_class, "transform", staticmethod(probabilities_not_computed_again))
    assert_computes_into_reused_arrays(loss, Y, T)


@pytest.mark.parametrize("loss_class", [SoftmaxCrossEntropy, BinaryCrossEntropy])
def test_clips_probabilities_set_on_a_loss_object_clips_its_l_alone(loss_class):
    """The attribute the estimators' losses set, as the docs say a loss object may set it: L becomes scikit-learn's
    clipped log loss, ∂L/∂Y stays the exact loss's, and the class and its other objects are left exact."""
    Y = logits("float64", 3)
    T = numpy.eye(3)[numpy.random.default_rng(1).integers(0, 3, len(Y))]
    clipped = loss_class()
    clipped.clips_probabilities = True
    value, dY = clipped.compute(Y, T)
    exact_value, exact_dY = loss_class().compute(Y, T)
    expected = log_loss(T, softmax(Y)) if loss_class is SoftmaxCrossEntropy else binary_log_loss(T, sigmoid(Y))
    numpy.testing.assert_allclose(value, expected, rtol=1e-12)
    assert exact_value > value + 100  # the saturated rows' exact loss grows with the logits
    numpy.testing.assert_array_equal(dY, exact_dY)
    assert loss_class.clips_probabilities is False
