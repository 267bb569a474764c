"""BinaryCrossEntropy on logits: L = (1/N) Σ [max(z, 0) − z y + log(1 + e^−|z|)], dY = (σ(z) − y)/N."""

import math

import numpy as np
import pytest
from hypothesis import given

import chainrule as cr
from chainrule.training.class_weight import class_weights_per_row
from tests.harness import assert_gradients, batch_sizes, normal, randomize_biases, sample_weights, seeds, widths

# An overflow or a log(0) fails the test; so does an underflow, which raised FloatingPointError under a
# caller's numpy.seterr(all="raise") (e^z rounding to 0 is the right value, as NumPy's default takes it)
STRICT = {"all": "raise"}


@given(seed=seeds, n_samples=batch_sizes, n_outputs=widths)
def test_gradcheck_hard_targets(seed, n_samples, n_outputs):
    T = np.random.default_rng(seed + 1).integers(0, 2, size=(n_samples, n_outputs))
    assert_gradients(cr.Identity(), normal(seed, n_samples, n_outputs), T, cr.BinaryCrossEntropy())


@given(seed=seeds, n_samples=batch_sizes, n_outputs=widths)
def test_gradcheck_soft_targets(seed, n_samples, n_outputs):
    T = np.random.default_rng(seed + 1).uniform(size=(n_samples, n_outputs))
    assert_gradients(cr.Identity(), normal(seed, n_samples, n_outputs), T, cr.BinaryCrossEntropy())


@given(seed=seeds, n_samples=batch_sizes, n_in=widths)
def test_gradcheck_one_output_through_a_linear_layer(seed, n_samples, n_in):
    layer = randomize_biases(cr.Linear(n_in, 1, seed=seed, dtype="float64"), seed + 2)
    y = np.random.default_rng(seed + 1).integers(0, 2, size=n_samples)  # (N,) targets for one output
    assert_gradients(layer, normal(seed, n_samples, n_in), y, "binary_cross_entropy")


@given(seed=seeds, n_samples=batch_sizes, n_outputs=widths)
def test_gradcheck_soft_targets_with_sample_weights(seed, n_samples, n_outputs):
    # dY = w_n (σ(y_n) − t_n) / Σ_m w_m, rows of weight 0 included
    T = np.random.default_rng(seed + 1).uniform(size=(n_samples, n_outputs))
    assert_gradients(cr.Identity(), normal(seed, n_samples, n_outputs), T, cr.BinaryCrossEntropy(),
                     sample_weight=sample_weights(seed + 2, n_samples))


@given(seed=seeds, n_samples=batch_sizes, n_in=widths)
def test_gradcheck_one_output_with_class_weights(seed, n_samples, n_in):
    # cr.fit's class_weight for one output of 0/1 labels: each row's class weight times its sample weight
    layer = randomize_biases(cr.Linear(n_in, 1, seed=seed, dtype="float64"), seed + 2)
    y = np.random.default_rng(seed + 1).integers(0, 2, size=n_samples)
    weights = class_weights_per_row(y, [0, 1], "balanced") * sample_weights(seed + 3, n_samples)
    assert_gradients(layer, normal(seed, n_samples, n_in), y, "binary_cross_entropy", sample_weight=weights)


def test_value_and_gradient_by_hand():
    Y = np.array([[0.0, 2.0], [-1.0, 3.0]])
    T = np.array([[1.0, 0.25], [0.0, 1.0]])
    value, dY = cr.BinaryCrossEntropy()(Y, T)

    def sigma(z):
        return 1 / (1 + math.exp(-z))

    def term(z, y):  # −[y log σ(z) + (1 − y) log(1 − σ(z))], the textbook form
        return -(y * math.log(sigma(z)) + (1 - y) * math.log(1 - sigma(z)))

    expected = (term(0.0, 1.0) + term(2.0, 0.25) + term(-1.0, 0.0) + term(3.0, 1.0)) / 2
    assert value == pytest.approx(expected, rel=1e-14)
    assert term(0.0, 1.0) == pytest.approx(math.log(2.0))
    np.testing.assert_allclose(dY, [[(0.5 - 1) / 2, (sigma(2) - 0.25) / 2], [sigma(-1) / 2, (sigma(3) - 1) / 2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_for_huge_logits(dtype):
    Y = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    with np.errstate(**STRICT):
        value, dY = cr.BinaryCrossEntropy()(Y, np.array([1, 0, 0, 1]))
    # Two certain and right (loss 0), two certain and wrong (loss 1e4 each), over 4 samples.
    assert value == 5e3
    assert dY.dtype == dtype
    np.testing.assert_array_equal(dY, [[0.0], [0.0], [0.25], [-0.25]])


def test_transform_gives_probabilities():
    P = cr.BinaryCrossEntropy().transform(np.array([[0.0, 1e4, -1e4]]))
    np.testing.assert_array_equal(P, [[0.5, 1.0, 0.0]])


@pytest.mark.parametrize("T, shown", [([0.0, 2.0], r"\[0.0, 2.0\]"), ([-0.5, 1.0], r"\[-0.5, 1.0\]")])
def test_targets_outside_zero_one(T, shown):
    message = rf"BinaryCrossEntropy: targets must lie in \[0, 1\]; got values in {shown}"
    with pytest.raises(cr.LabelError, match=message):
        cr.BinaryCrossEntropy()(np.zeros((2, 1)), np.array(T))


def test_different_batch_sizes():
    message = "BinaryCrossEntropy: outputs and targets have different batch sizes: 3 outputs vs 4"
    with pytest.raises(cr.ShapeError, match=message):
        cr.BinaryCrossEntropy()(np.zeros((3, 1)), np.zeros(4))


def test_targets_of_the_wrong_width():
    message = r"BinaryCrossEntropy: expected targets of shape \(n_samples, 2\), got \(3, 1\)"
    with pytest.raises(cr.ShapeError, match=message):
        cr.BinaryCrossEntropy()(np.zeros((3, 2)), np.zeros((3, 1)))


def test_non_numeric_targets():
    message = "BinaryCrossEntropy: expected numeric targets in \\[0, 1\\], got dtype <U3"
    with pytest.raises(cr.DTypeError, match=message):
        cr.BinaryCrossEntropy()(np.zeros((2, 1)), np.array(["yes", "no"]))


def test_non_finite_targets():
    with pytest.raises(cr.NonFiniteError, match="BinaryCrossEntropy: targets: expected finite values, found nan"):
        cr.BinaryCrossEntropy()(np.zeros((2, 1)), np.array([np.nan, 1.0]))
