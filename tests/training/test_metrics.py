"""chainrule.training.metrics: running scores equal scikit-learn's on the whole data, however
the rows are cut into batches."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score

from chainrule.training.metrics import Scores


def batches(n_samples: int, cuts: list[int]):
    """Slices cutting range(n_samples) at ``cuts`` (sorted, deduplicated)."""
    edges = [0, *sorted({c for c in cuts if 0 < c < n_samples}), n_samples]
    return [slice(a, b) for a, b in zip(edges, edges[1:])]


def accumulate(task, Y, T, losses, cuts):
    scores = Scores(task)
    for part in batches(len(Y), cuts):
        scores.add(Y[part], T[part], losses[part].mean())
    return scores.result()


sizes = st.tuples(st.integers(2, 40), st.integers(1, 4), st.integers(0, 2**32 - 1), st.lists(st.integers(1, 39)))


@given(sizes)
def test_regression_scores_equal_scikit_learns(case):
    n, k, seed, cuts = case
    rng = np.random.default_rng(seed)
    T, Y, losses = rng.normal(size=(n, k)), rng.normal(size=(n, k)), rng.random(n)
    result = accumulate("regression", Y, T, losses, cuts)
    assert set(result) == {"loss", "r2", "mae"}
    assert result["loss"] == pytest.approx(losses.mean(), rel=1e-12)
    assert result["r2"] == pytest.approx(r2_score(T, Y), rel=1e-9, abs=1e-9)
    assert result["mae"] == pytest.approx(mean_absolute_error(T, Y), rel=1e-12)


@given(sizes)
def test_classification_accuracy_is_the_fraction_of_right_argmaxes(case):
    n, k, seed, cuts = case
    rng = np.random.default_rng(seed)
    k += 1
    Y, labels, losses = rng.normal(size=(n, k)), rng.integers(0, k, size=n), rng.random(n)
    expected = accuracy_score(labels, Y.argmax(axis=1))
    assert accumulate("classification", Y, labels, losses, cuts)["accuracy"] == pytest.approx(expected)
    one_hot = np.eye(k)[labels]  # probability targets score the same
    assert accumulate("classification", Y, one_hot, losses, cuts)["accuracy"] == pytest.approx(expected)


@given(sizes)
def test_multilabel_accuracy_counts_each_label(case):
    n, k, seed, cuts = case
    rng = np.random.default_rng(seed)
    Y, T, losses = rng.normal(size=(n, k)), rng.integers(0, 2, size=(n, k)).astype(float), rng.random(n)
    result = accumulate("multilabel", Y, T, losses, cuts)
    assert result["accuracy"] == pytest.approx(np.mean((Y > 0) == (T > 0.5)))


def test_a_constant_target_scores_r2_zero_for_that_output():
    T = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    Y = T + 0.5
    scores = Scores("regression")
    scores.add(Y, T, 0.25)
    result = scores.result()
    assert result["r2"] == pytest.approx((0.0 + r2_score(T[:, 1], Y[:, 1])) / 2)
    assert result["mae"] == pytest.approx(0.5)


def test_the_loss_is_weighted_by_batch_size():
    scores = Scores("regression")
    scores.add(np.zeros((3, 1)), np.ones((3, 1)), 1.0)
    scores.add(np.zeros((1, 1)), np.ones((1, 1)), 5.0)
    assert scores.result()["loss"] == pytest.approx(2.0)


def test_names_take_the_prefix_and_an_empty_epoch_has_no_scores():
    scores = Scores("classification")
    assert scores.result("val_") == {}
    scores.add(np.array([[0.0, 1.0]]), np.array([1]), 0.5)
    assert scores.result("val_") == {"val_loss": 0.5, "val_accuracy": 1.0}


def test_float32_outputs_are_summed_in_float64():
    # Targets 1e4 ± 1 in float32: summed in float32, Σy² − (Σy)²/n missed the variance by half (R² 0.9936
    # instead of 0.9901).
    rng = np.random.default_rng(0)
    T = (1e4 + rng.normal(size=(10_000, 1))).astype(np.float32)
    Y = (T + rng.normal(scale=0.1, size=T.shape)).astype(np.float32)
    scores = Scores("regression")
    for start in range(0, len(T), 100):
        scores.add(Y[start:start + 100], T[start:start + 100], 0.0)
    assert scores.result()["r2"] == pytest.approx(r2_score(T.astype(float), Y.astype(float)), rel=1e-6)


def accumulate_weighted(task, Y, T, losses, weights, cuts):
    """``accumulate`` with sample weights: each batch's loss is the weighted mean of its rows'."""
    scores = Scores(task)
    for part in batches(len(Y), cuts):
        w = weights[part]
        scores.add(Y[part], T[part], losses[part] @ w / w.sum() if w.sum() else 0.0, w)
    return scores.result()


@given(sizes)
def test_weighted_scores_equal_scikit_learns_with_sample_weight(case):
    n, k, seed, cuts = case
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0, 3, size=n) * (rng.random(n) > 0.2)  # some rows weigh nothing
    weights[:2] = 1.0, 0.5  # two rows count at least: one alone has no variance for R²
    T, Y, losses = rng.normal(size=(n, k)), rng.normal(size=(n, k)), rng.random(n)
    result = accumulate_weighted("regression", Y, T, losses, weights, cuts)
    assert result["loss"] == pytest.approx(np.average(losses, weights=weights), rel=1e-12)
    assert result["r2"] == pytest.approx(r2_score(T, Y, sample_weight=weights), rel=1e-9, abs=1e-9)
    assert result["mae"] == pytest.approx(mean_absolute_error(T, Y, sample_weight=weights), rel=1e-12)
    labels = rng.integers(0, k + 1, size=n)
    Y = rng.normal(size=(n, k + 1))
    result = accumulate_weighted("classification", Y, labels, losses, weights, cuts)
    assert result["accuracy"] == pytest.approx(accuracy_score(labels, Y.argmax(axis=1), sample_weight=weights))
    multilabel = rng.integers(0, 2, size=(n, k + 1)).astype(float)
    result = accumulate_weighted("multilabel", Y, multilabel, losses, weights, cuts)
    right = ((Y > 0) == (multilabel > 0.5)).mean(axis=1)
    assert result["accuracy"] == pytest.approx(np.average(right, weights=weights))


def test_integer_weights_score_as_repeated_rows():
    rng = np.random.default_rng(0)
    counts = np.array([2, 0, 1, 3])
    T, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    weighted = Scores("regression")
    weighted.add(Y, T, 0.5, counts)
    repeated = Scores("regression")
    repeated.add(np.repeat(Y, counts, axis=0), np.repeat(T, counts, axis=0), 0.5)
    for name, value in repeated.result().items():
        assert weighted.result()[name] == pytest.approx(value, rel=1e-12)


def test_targets_far_from_zero_keep_their_variance():
    # Targets 1.7e9 ± 100 (a timestamp): summed about 0, Σy² − (Σy)²/n lost the whole variance to
    # rounding and R² was 0.0 (with scikit-learn's 0.7292).
    rng = np.random.default_rng(0)
    T = 1.7e9 + rng.uniform(-100, 100, size=(20_000, 1))
    Y = T + rng.normal(scale=30, size=T.shape)
    scores = Scores("regression")
    for start in range(0, len(T), 128):
        scores.add(Y[start:start + 128], T[start:start + 128], 0.0)
    assert scores.result()["r2"] == pytest.approx(r2_score(T, Y), rel=1e-9)


def test_a_constant_target_predicted_exactly_scores_r2_one():
    T = np.full((5, 1), 0.1)
    scores = Scores("regression")
    scores.add(T.copy(), T, 0.0)
    assert scores.result()["r2"] == 1.0 == r2_score(T, T)


@pytest.mark.parametrize("weights", [None, np.array([3.0])])
def test_one_row_scores_r2_nan_as_scikit_learn(weights):
    """R² of one row is undefined: it scored 0.0, and EarlyStopping watching a one-row val_r2 saw a flat 0."""
    scores = Scores("regression")
    scores.add(np.array([[1.0]]), np.array([[2.0]]), 1.0, weights)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(r2_score([2.0], [1.0]))
    result = scores.result()
    assert np.isnan(result["r2"]) and result["mae"] == 1.0
    scores.add(np.array([[3.0]]), np.array([[3.5]]), 0.25, weights)  # a second row: defined again
    assert result != scores.result() and scores.result()["r2"] == pytest.approx(r2_score([2.0, 3.5], [1.0, 3.0]))


def test_sums_about_one_shift_add_up_over_processes():
    # Two ranks' sums, each about the shift both were given, added as sum_scores adds them.
    rng = np.random.default_rng(1)
    T = 5e8 + rng.normal(size=(40, 2))
    Y = T + rng.normal(scale=0.5, size=T.shape)
    ranks = [Scores("regression", shift=T[7]) for _ in range(2)]
    for rank, scores in enumerate(ranks):
        scores.add(Y[rank::2], T[rank::2], 0.0)
    ranks[0].set_totals(ranks[0].totals() + ranks[1].totals())
    assert ranks[0].result()["r2"] == pytest.approx(r2_score(T, Y), rel=1e-9)


@pytest.mark.parametrize("task", ["classification", "multilabel", "regression"])
def test_reset_starts_a_new_epoch_from_zero(task):
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(6, 2))
    T = {"classification": np.array([0, 1, 1, 0, 1, 0]), "multilabel": (rng.random((6, 2)) > 0.5) * 1.0,
         "regression": rng.normal(size=(6, 2))}[task]
    fresh = Scores(task)
    fresh.add(Y[:3], T[:3], 0.5)
    scores = Scores(task)
    scores.add(Y[3:], T[3:], 2.0)
    scores.reset()
    scores.add(Y[:3], T[:3], 0.5)
    assert scores.result() == pytest.approx(fresh.result())


@given(sizes)
def test_standardized_targets_score_mae_in_the_targets_units_and_r2_unchanged(case):
    n, k, seed, cuts = case
    rng = np.random.default_rng(seed)
    T, Y = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    mean, scale = rng.normal(size=k) * 1e6, rng.random(k) * 100 + 0.5
    scores = Scores("regression", target_scale=scale)  # of the standardized targets and outputs
    for part in batches(n, cuts):
        scores.add(Y[part], T[part], 0.0)
    result = scores.result()
    T_units, Y_units = T * scale + mean, Y * scale + mean  # offsets near 1e6 round the differences by ~1e-10
    assert result["mae"] == pytest.approx(mean_absolute_error(T_units, Y_units), rel=1e-6)
    assert result["r2"] == pytest.approx(r2_score(T, Y), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_scores_sharing_work_arrays_score_as_fresh_ones(task):
    """The training loop hands each epoch's Scores one dict of work arrays: a regression batch's
    float64 e, d and terms, a multilabel batch's booleans, made once (each batch made 3-5 new
    arrays of the outputs' shape before) and the same scores, batch sizes changing included."""
    rng = np.random.default_rng(0)
    work = {}
    for epoch in range(2):
        shared, fresh = Scores(task, work=work), Scores(task)
        for n in (8, 8, 3):
            Y = rng.normal(size=(n, 4)).astype(np.float32)
            T = (rng.normal(size=(n, 4)) if task == "regression" else rng.random((n, 4)) > 0.5).astype(np.float32)
            weights = rng.random(n) if n == 3 else None
            shared.add(Y, T, 0.5, weights)
            fresh.add(Y, T, 0.5, weights)
        assert shared.result() == fresh.result()
        if epoch == 0:
            held = dict(work)
            assert held and all(array.shape == (8, 4) for array in held.values())
    assert all(work[name] is array for name, array in held.items())  # the second epoch's Scores reused them
