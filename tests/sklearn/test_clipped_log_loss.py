"""chainrule.sklearn._loss.ClippedLogLoss: the classifier's cross-entropies whose L is scikit-learn's
log_loss and binary_log_loss (sklearn.neural_network._base: the log of the probabilities clipped to
[ε, 1 − ε], ε = numpy.finfo(dtype).eps) and whose ∂L/∂Y is the exact loss's."""

import numpy
import pytest
from sklearn.neural_network._base import binary_log_loss, log_loss

from chainrule.layers.sigmoid import sigmoid
from chainrule.layers.softmax import softmax
from chainrule.losses import BinaryCrossEntropy, SoftmaxCrossEntropy
from chainrule.sklearn._loss import ClippedBinaryCrossEntropy, ClippedSoftmaxCrossEntropy


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
    expected = binary_log_loss(T, sigmoid(Y), sample_weight=weights)
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
    expected = log_loss(T_one_hot, softmax(Y), sample_weight=weights)
    numpy.testing.assert_allclose(value, expected, rtol=1e-6 if dtype == "float32" else 1e-12)
    assert value < exact_value
    numpy.testing.assert_array_equal(dY, exact_dY)
