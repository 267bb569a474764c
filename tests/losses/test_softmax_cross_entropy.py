"""SoftmaxCrossEntropy on logits: L = (1/N) Σ_n (logsumexp(h) − Σ_k y_k h_k), dY = (p − y)/N."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.buffers import LOSS_BUFFERS, loss_buffers
from chainrule.losses import softmax_cross_entropy
from chainrule.training.class_weight import class_weights_per_row
from tests.harness import assert_gradients, batch_sizes, normal, randomize_biases, sample_weights, seeds, widths

classes = st.integers(min_value=2, max_value=8)
# An overflow or a log(0) fails the test; so does an underflow, which raised FloatingPointError under a
# caller's numpy.seterr(all="raise") (e^z rounding to 0 is the right value, as NumPy's default takes it)
STRICT = {"all": "raise"}


def labels(seed, n_samples, n_classes):
    return np.random.default_rng(seed).integers(0, n_classes, size=n_samples)


def soft_targets(seed, n_samples, n_classes):
    return np.random.default_rng(seed).dirichlet(np.ones(n_classes), size=n_samples)


@given(seed=seeds, n_samples=batch_sizes, n_classes=classes)
def test_gradcheck_integer_labels(seed, n_samples, n_classes):
    loss = cr.SoftmaxCrossEntropy()
    assert_gradients(cr.Identity(), normal(seed, n_samples, n_classes), labels(seed + 1, n_samples, n_classes), loss)


@given(seed=seeds, n_samples=batch_sizes, n_classes=classes)
def test_gradcheck_soft_targets(seed, n_samples, n_classes):
    loss = cr.SoftmaxCrossEntropy()
    X, T = normal(seed, n_samples, n_classes), soft_targets(seed + 1, n_samples, n_classes)
    assert_gradients(cr.Identity(), X, T, loss)


@given(seed=seeds, n_samples=batch_sizes, n_in=widths, n_classes=classes)
def test_gradcheck_through_a_linear_layer(seed, n_samples, n_in, n_classes):
    layer = randomize_biases(cr.Linear(n_in, n_classes, seed=seed, dtype="float64"), seed + 2)
    assert_gradients(layer, normal(seed, n_samples, n_in), labels(seed + 1, n_samples, n_classes), "cross_entropy")


def test_value_and_gradient_by_hand():
    Y = np.array([[0.0, math.log(3.0)], [0.0, 0.0]])
    value, dY = cr.SoftmaxCrossEntropy()(Y, np.array([1, 0]))
    # Row 0: p = (1/4, 3/4), label 1, loss −log(3/4). Row 1: p = (1/2, 1/2), label 0, loss log 2.
    assert value == pytest.approx((-math.log(0.75) + math.log(2.0)) / 2, rel=1e-15)
    np.testing.assert_allclose(dY, [[0.25 / 2, -0.25 / 2], [-0.5 / 2, 0.5 / 2]], rtol=1e-15)


def test_one_hot_targets_equal_integer_labels():
    Y = normal(0, 5, 4)
    y = np.array([0, 3, 1, 1, 2])
    loss = cr.SoftmaxCrossEntropy()
    value_labels, dY_labels = loss(Y, y)
    value_one_hot, dY_one_hot = loss(Y, np.eye(4)[y])
    assert value_labels == pytest.approx(value_one_hot, rel=1e-15)
    np.testing.assert_allclose(dY_labels, dY_one_hot, rtol=1e-15)


def test_soft_targets_value():
    Y = normal(1, 3, 3)
    T = soft_targets(2, 3, 3)
    value, dY = cr.SoftmaxCrossEntropy()(Y, T)
    P = np.exp(Y) / np.exp(Y).sum(axis=1, keepdims=True)
    assert value == pytest.approx(-(T * np.log(P)).sum() / 3, rel=1e-12)
    np.testing.assert_allclose(dY, (P - T) / 3, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_for_huge_logits(dtype):
    Y = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    with np.errstate(**STRICT):
        value, dY = cr.SoftmaxCrossEntropy()(Y, np.array([0, 0]))
    # Row 0 is right with certainty (loss 0); row 1 is wrong by 2e4 nats.
    assert value == 1e4
    assert dY.dtype == dtype
    np.testing.assert_array_equal(dY, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]])


def test_finite_for_huge_logits_with_soft_targets():
    Y = np.array([[1e4, -1e4]])
    with np.errstate(**STRICT):
        value, dY = cr.SoftmaxCrossEntropy()(Y, np.array([[0.5, 0.5]]))
    assert value == 1e4  # −½ log 1 − ½ log e^(−2e4)
    np.testing.assert_array_equal(dY, [[0.5, -0.5]])


@pytest.mark.parametrize("weights", [None, np.array([1.0, 1.0])], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("targets", [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])], ids=["one-hot", "labels"])
def test_logits_whose_difference_overflows_float32(targets, weights):
    Y = np.array([[3e38, -3e38], [3e38, -3e38]], dtype=np.float32)  # h − m = −6e38 overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow and its 0 · (−inf) are handled: nothing to warn about
        value, dY = cr.SoftmaxCrossEntropy()(Y, targets, weights)
    # Row 0 is right with certainty (loss 0, not 0 · (−inf) = NaN); row 1 is wrong by 6e38 nats, which fits float64.
    assert value == pytest.approx(6e38 / 2, rel=1e-6)
    np.testing.assert_array_equal(dY, np.array([[0.0, 0.0], [0.5, -0.5]], dtype=np.float32))  # (p − y) / N


@pytest.mark.parametrize("targets", [np.array([1, 0]), np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)],
                         ids=["labels", "one-hot"])
def test_compute_weighs_the_rows_of_logits_whose_difference_overflows_float32(targets):
    """compute itself, as fit calls it (outside Loss.__call__, under fit's numpy.errstate): y − m = −6e38
    overflows float32, and L is computed again in float64 with each row's share of the weights."""
    Y = np.array([[3e38, -3e38], [0.0, 0.0]], dtype=np.float32)  # row 0 wrong by 6e38 nats, row 1 at log 2
    with np.errstate(over="ignore"):
        value, dY = cr.SoftmaxCrossEntropy().compute(Y, targets, np.array([1.0, 3.0]))
    assert value == pytest.approx(0.25 * 6e38 + 0.75 * np.log(2), rel=1e-6)
    np.testing.assert_allclose(dY, np.array([[0.25, -0.25], [-0.375, 0.375]], dtype=np.float32))  # w_n (p − t) / Σ w


@pytest.mark.parametrize("targets", [np.array([1, 0]), np.array([[0.0, 1.0], [1.0, 0.0]])], ids=["labels", "one-hot"])
def test_a_row_of_weight_zero_whose_logits_overflow_float32_gives_no_warning(targets):
    """Row 0's loss overflows float32 (y − m = −6e38) and its weight is 0: inf · 0 is NaN in the weighted
    mean, which L computed again in float64 replaces, with nothing to warn about."""
    Y = np.array([[3e38, -3e38], [0.0, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dY = cr.SoftmaxCrossEntropy()(Y, targets, np.array([0.0, 1.0]))
    assert value == pytest.approx(np.log(2), rel=1e-6)  # row 1 alone
    np.testing.assert_allclose(dY, np.array([[0.0, 0.0], [-0.5, 0.5]], dtype=np.float32))  # w_n (p − t) / Σ w


def test_soft_targets_with_logits_whose_difference_overflows_float32_give_no_warning():
    Y = np.array([[3e38, -3e38, 0.0], [-3e38, 3e38, 1.0]], dtype=np.float32)
    T = np.array([[0.5, 0.0, 0.5], [0.0, 0.3, 0.7]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dY = cr.SoftmaxCrossEntropy()(Y, T)
    # −Σ t log p with log p = y − m where p underflows: row 0: −½ (−3e38), row 1: −0.7 (1 − 3e38).
    assert value == pytest.approx((0.5 * 3e38 + 0.7 * 3e38) / 2, rel=1e-6)
    np.testing.assert_allclose(dY, np.array([[0.5, 0.0, -0.5], [0.0, 0.7, -0.7]], dtype=np.float32) / 2)


def test_a_target_of_zero_adds_nothing_where_float64_log_p_is_minus_infinity():
    # Logits 2e308 apart overflow float64 too: log p = −inf for the other class, and 0 · (−inf) is NaN.
    Y = np.array([[1e308, -1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, dY = cr.SoftmaxCrossEntropy()(Y, np.array([[1.0, 0.0]]))
    assert value == 0.0
    np.testing.assert_array_equal(dY, [[0.0, 0.0]])


@given(seed=seeds, n_samples=batch_sizes, n_classes=classes)
def test_gradcheck_soft_targets_with_sample_weights(seed, n_samples, n_classes):
    X, T = normal(seed, n_samples, n_classes), soft_targets(seed + 1, n_samples, n_classes)
    weights = np.random.default_rng(seed + 2).uniform(0.1, 3.0, size=n_samples)
    report = cr.gradcheck(cr.Identity(), X, T, cr.SoftmaxCrossEntropy(), sample_weight=weights, eps=1e-6)
    assert report.passed(), report


@given(seed=seeds, n_samples=batch_sizes, n_in=widths, n_classes=classes)
def test_gradcheck_labels_with_class_weights(seed, n_samples, n_in, n_classes):
    # cr.fit's class_weight: each row's class weight times its sample weight, dY_n = w_n (p_n − t_n) / Σ_m w_m
    layer = randomize_biases(cr.Linear(n_in, n_classes, seed=seed, dtype="float64"), seed + 2)
    y = labels(seed + 1, n_samples, n_classes)
    weights = class_weights_per_row(y, list(range(n_classes)), "balanced") * sample_weights(seed + 3, n_samples)
    assert_gradients(layer, normal(seed, n_samples, n_in), y, cr.SoftmaxCrossEntropy(), sample_weight=weights)


@pytest.mark.parametrize("weighted", [False, True])
@given(seed=seeds, n_samples=batch_sizes, n_classes=classes)
def test_soft_targets_that_sum_to_1_within_the_tolerance_get_the_gradient_of_their_loss(weighted, seed, n_samples,
                                                                                       n_classes):
    # dY was p − t, the gradient only where Σt = 1: a row summing to 0.9995 failed gradcheck on a correct model
    X = normal(seed, n_samples, n_classes)
    off_by = np.random.default_rng(seed).uniform(0.9992, 1.0008, (n_samples, 1))  # row sums within 1e-3 of 1
    T = soft_targets(seed + 1, n_samples, n_classes) * off_by
    weights = np.random.default_rng(seed + 2).uniform(0.1, 3.0, size=n_samples) if weighted else None
    report = cr.gradcheck(cr.Identity(), X, T, cr.SoftmaxCrossEntropy(), sample_weight=weights, eps=1e-6)
    assert report.max_rel_error <= 1e-6, report


def test_transform_gives_probabilities():
    P = cr.SoftmaxCrossEntropy().transform(np.array([[1e4, 0.0], [0.0, 0.0]]))
    np.testing.assert_array_equal(P, [[1.0, 0.0], [0.5, 0.5]])


@pytest.mark.parametrize("bad", [3, -1])
def test_labels_out_of_range(bad):
    message = rf"SoftmaxCrossEntropy: labels must lie in \[0, 3\) for 3 outputs; got {bad}"
    with pytest.raises(cr.LabelError, match=message):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, bad]))


@pytest.mark.parametrize("y, dtype", [([0.0, 1.0], "float64"), ([True, False], "bool")])
def test_labels_of_the_wrong_dtype(y, dtype):
    message = rf"SoftmaxCrossEntropy: expected integer class labels .*got labels of dtype {dtype}"
    with pytest.raises(cr.DTypeError, match=message):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array(y))


def test_labels_and_outputs_of_different_batch_sizes():
    with pytest.raises(cr.ShapeError, match="outputs and targets have different batch sizes: 2 outputs vs 3 targets"):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_soft_targets_of_different_batch_sizes():
    with pytest.raises(cr.ShapeError, match="outputs and targets have different batch sizes: 2 outputs vs 1 targets"):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([[1.0, 0.0, 0.0]]))


def test_soft_targets_of_the_wrong_width():
    message = r"expected labels \(n_samples,\) or targets \(n_samples, 3\); got shape \(2, 2\)"
    with pytest.raises(cr.ShapeError, match=message):
        cr.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.eye(2))


@pytest.mark.parametrize("T", [[[0.5, 0.6]], [[1.5, -0.5]], [[1.0, 0.0], [0.3, 0.3]]])  # last: one row of two
def test_soft_targets_that_are_not_probabilities(T):
    with pytest.raises(cr.LabelError, match="target rows must be non-negative and sum to 1"):
        cr.SoftmaxCrossEntropy()(np.zeros((len(T), 2)), np.array(T))


def test_non_finite_soft_targets():
    with pytest.raises(cr.NonFiniteError, match="SoftmaxCrossEntropy: targets: expected finite values"):
        cr.SoftmaxCrossEntropy()(np.zeros((1, 2)), np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_target_rows_sum_to_1_as_allclose_judges_it(dtype):
    """prepare's own check of the row sums agrees with numpy.allclose(sums, 1, atol=1e-3) next to its bounds."""
    sums = []
    for bound in (1 + 1.01e-3, 1 - 1.01e-3):
        below = above = dtype(bound)
        for _ in range(40):
            below, above = np.nextafter(below, dtype(0)), np.nextafter(above, dtype(2))
            sums += [below, above]
    for total in sums:
        T = np.array([[total - dtype(0.5), dtype(0.5)]], dtype=dtype)
        accepted = bool(np.allclose(T.sum(axis=1), 1, atol=1e-3))
        if accepted:
            cr.SoftmaxCrossEntropy().prepare(T, 2, dtype)
        else:
            with pytest.raises(cr.LabelError, match="target rows must be non-negative and sum to 1"):
                cr.SoftmaxCrossEntropy().prepare(T, 2, dtype)


@pytest.mark.parametrize("targets", ["labels", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True])
def test_long_rows_reduced_along_the_rows_give_what_the_transposed_copy_gives(monkeypatch, targets, weighted):
    """Rows of SHORT_ROWS classes or more take their max and sum along the rows (5.5x faster at
    1024×1000 than through a transposed copy): the max is the same number, the sum the same to
    rounding, whichever way, and both match float64."""
    rng = np.random.default_rng(0)
    Y = (rng.normal(size=(50, 300)) * 4).astype(np.float32)
    if targets == "labels":
        T = rng.integers(0, 300, size=50)
    else:
        T = rng.random((50, 300)).astype(np.float32)
        T /= T.sum(axis=1, keepdims=True)
    weights = (rng.random(50),) if weighted else ()
    loss = cr.SoftmaxCrossEntropy()
    results = {}
    for short_rows in (1, 10**9):  # along the rows, through the copy
        monkeypatch.setattr(softmax_cross_entropy, "SHORT_ROWS", short_rows)
        results[short_rows] = loss.compute(Y, T, *weights)
    (along, d_along), (through, d_through) = results[1], results[10**9]
    expected, d_expected = loss.compute(Y.astype(np.float64), T, *weights)
    assert along == pytest.approx(through, rel=1e-6) and along == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(d_along, d_through, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(d_along, d_expected, rtol=1e-4, atol=1e-8)


def test_a_smaller_last_batch_makes_no_new_arrays_inside_a_loop():
    """The transposed copy of short rows was held as (classes, rows): the last, smaller batch of an
    epoch changed its second axis, and it was made anew there and again at the next epoch's first."""
    loss, rng = cr.SoftmaxCrossEntropy(), np.random.default_rng(0)
    with loss_buffers(loss):
        made = []
        for rows in (8, 8, 5, 8):  # two steps, an epoch's last batch, the next epoch's first
            loss.compute(rng.normal(size=(rows, 3)).astype(np.float32), rng.integers(0, 3, rows))
            made.append({name: id(array) for name, array in LOSS_BUFFERS.get()[1].items()})
    assert made[0] and all(arrays == made[0] for arrays in made)
