"""Sample weights: the losses' weighted mean and its gradient, cr.fit's checks of sample_weight,
and the weights carried through validation, metrics and checkpoints."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score

import chainrule as cr
from chainrule.losses.loss import takes_weights
from chainrule.training.prepare import split_validation


def outputs_and_targets(loss_name, n_samples=7, n_outputs=3, seed=0):
    """Float64 outputs and prepared targets for the loss named ``loss_name``."""
    rng = np.random.default_rng(seed)
    Y = rng.normal(size=(n_samples, n_outputs))
    if loss_name == "labels":
        return cr.SoftmaxCrossEntropy(), Y, rng.integers(0, n_outputs, size=n_samples)
    if loss_name == "probabilities":
        T = rng.uniform(size=(n_samples, n_outputs))
        return cr.SoftmaxCrossEntropy(), Y, T / T.sum(axis=1, keepdims=True)
    if loss_name == "binary":
        return cr.BinaryCrossEntropy(), Y, rng.uniform(size=(n_samples, n_outputs))
    return cr.MSE(), Y, rng.normal(size=(n_samples, n_outputs))


LOSS_CASES = ["labels", "probabilities", "binary", "mse"]


# -- the losses --------------------------------------------------------------------------------
@pytest.mark.parametrize("case", LOSS_CASES)
def test_weighted_gradient_matches_finite_differences_of_the_weighted_loss(case):
    loss, Y, T = outputs_and_targets(case)
    weights = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25, 1.5])
    value, dY = loss.compute(Y.copy(), T, weights)
    step = 1e-6
    numeric = np.empty_like(Y)
    for index in np.ndindex(*Y.shape):
        up, down = Y.copy(), Y.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (loss.compute(up, T, weights)[0] - loss.compute(down, T, weights)[0]) / (2 * step)
    np.testing.assert_allclose(dY, numeric, rtol=1e-6, atol=1e-9)
    assert not np.any(dY[2])  # a row of weight 0 gets no gradient
    assert value == pytest.approx(loss.compute(np.delete(Y, 2, axis=0), np.delete(T, 2, axis=0),
                                               np.delete(weights, 2))[0], rel=1e-12)


@pytest.mark.parametrize("case", LOSS_CASES)
def test_integer_weights_equal_repeating_each_row_that_many_times(case):
    loss, Y, T = outputs_and_targets(case)
    counts = np.array([1, 3, 0, 2, 1, 4, 1])
    value, dY = loss.compute(Y.copy(), T, counts)
    repeated_value, repeated_dY = loss.compute(np.repeat(Y, counts, axis=0), np.repeat(T, counts, axis=0))
    assert value == pytest.approx(repeated_value, rel=1e-12)
    # A row repeated k times gets k gradients of its copies: their sum is the weighted row's.
    owners = np.repeat(np.arange(len(counts)), counts)
    summed = np.zeros_like(Y)
    np.add.at(summed, owners, repeated_dY)
    np.testing.assert_allclose(dY, summed, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", LOSS_CASES)
def test_equal_weights_give_the_unweighted_mean(case):
    loss, Y, T = outputs_and_targets(case)
    value, dY = loss.compute(Y.copy(), T, np.full(len(Y), 2.5))
    expected_value, expected_dY = loss.compute(Y.copy(), T)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(dY, expected_dY, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("case", LOSS_CASES)
def test_a_batch_of_weight_zero_has_loss_and_gradient_zero(case):
    loss, Y, T = outputs_and_targets(case)
    value, dY = loss.compute(Y.copy(), T, np.zeros(len(Y)))
    assert value == 0
    assert not dY.any()


def test_weighted_mse_of_an_error_too_large_for_float32_is_computed_in_float64():
    Y = np.array([[1e20], [0.0]], dtype=np.float32)
    T = np.zeros((2, 1), dtype=np.float32)
    with np.errstate(over="ignore"):
        value, _ = cr.MSE().compute(Y, T, np.array([1.0, 3.0]))
    assert value == pytest.approx(float(np.float32(1e20)) ** 2 / 4, rel=1e-12)


def test_weighted_cross_entropy_of_logits_too_far_apart_for_float32_is_computed_in_float64():
    Y = np.array([[3e38, -3e38], [0.0, 0.0]], dtype=np.float32)
    labels = np.array([1, 0])
    with np.errstate(over="ignore"):
        value, dY = cr.SoftmaxCrossEntropy().compute(Y, labels, np.array([1.0, 1.0]))
    assert value == pytest.approx((6e38 + np.log(2)) / 2, rel=1e-6)
    assert np.isfinite(dY).all()


def test_the_built_in_losses_take_weights_and_a_subclass_may_not():
    assert all(takes_weights(loss()) for loss in cr.losses.LOSSES.values())
    assert not takes_weights(UnweightedLoss())


class UnweightedLoss(cr.SoftmaxCrossEntropy):
    """A user's loss written before sample weights: compute(Y, T) alone."""

    def compute(self, Y, T):
        return super().compute(Y, T)


# -- cr.fit --------------------------------------------------------------------------------------
def iris():
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    return X, y


def test_integer_weights_train_as_repeated_rows_in_one_full_batch():
    X, y = iris()
    counts = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted, repeated = (cr.mlp([4, 8, 3], seed=0, dtype="float64") for _ in range(2))
    cr.fit(weighted, X, y, sample_weight=counts, optimizer="sgd", lr=0.5, epochs=3, batch_size=len(y), verbose=0)
    cr.fit(repeated, np.repeat(X, counts, axis=0), np.repeat(y, counts), optimizer="sgd", lr=0.5, epochs=3,
           batch_size=int(counts.sum()), verbose=0)
    np.testing.assert_allclose(weighted.flat_parameters().theta, repeated.flat_parameters().theta, rtol=1e-10)


def test_weights_change_training_and_a_list_works_as_an_array():
    X, y = iris()
    weights = np.random.default_rng(0).uniform(0, 2, size=len(y))
    models = [cr.mlp([4, 8, 3], seed=0) for _ in range(3)]
    cr.fit(models[0], X, y, epochs=2, verbose=0)
    cr.fit(models[1], X, y, sample_weight=weights, epochs=2, verbose=0)
    cr.fit(models[2], X, y, sample_weight=weights.tolist(), epochs=2, verbose=0)
    thetas = [model.flat_parameters().theta for model in models]
    assert not np.allclose(thetas[0], thetas[1])
    np.testing.assert_array_equal(thetas[1], thetas[2])


def test_a_batch_of_weight_zero_makes_no_step():
    """Only row 0 weighs: in two batches, the one without it changes nothing, so the two
    batches make the one step of a full batch (plain SGD, gradient of row 0 alone)."""
    X, y = iris()
    weights = np.r_[1.0, np.zeros(149)]
    thetas = []
    for batch_size in (76, 150):
        model = cr.mlp([4, 8, 3], seed=0, dtype="float64")
        before = model.flat_parameters().theta.copy()
        history = cr.fit(model, X, y, sample_weight=weights, optimizer="sgd", lr=0.1, epochs=1,
                         batch_size=batch_size, verbose=0)
        assert np.isfinite(history.last()["loss"])
        thetas.append(model.flat_parameters().theta - before)
    assert thetas[1].any()
    np.testing.assert_allclose(thetas[0], thetas[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("weights, error, message", [
    (np.ones(149), cr.ShapeError, r"sample_weight: expected 150 weights, one per row of X \(shape \(150,\)\), "
                                  r"got shape \(149,\)"),
    (np.ones((150, 1)), cr.ShapeError, r"sample_weight: expected 150 weights.*got shape \(150, 1\)"),
    (2.0, cr.ShapeError, r"sample_weight: expected 150 weights.*got shape \(\)"),
    ([[1.0], [1.0, 2.0]], cr.ShapeError, "sample_weight: expected a vector of 150 weights, got list"),
    (np.r_[-1.0, np.ones(149)], cr.DataError, "sample_weight: expected non-negative weights, got -1 at index 0"),
    (np.r_[np.ones(149), np.nan], cr.NonFiniteError,
     r"sample_weight: expected finite values, found nan at index \(149,\)"),
    (np.r_[np.inf, np.ones(149)], cr.NonFiniteError, "sample_weight: expected finite values, found inf"),
    (np.zeros(150), cr.DataError, "sample_weight: all 150 weights are zero; expected at least one positive weight"),
    (np.full(150, 1e307), cr.DataError, "sample_weight: the weights sum to inf in float64; expected a finite sum"),
    (np.ones(150, dtype=bool), cr.DTypeError, "sample_weight: expected real weights, got booleans"),
    (np.ones(150, dtype=complex), cr.DTypeError, r"sample_weight: expected real weights \(integers or floats\), "
                                                 "got dtype complex128"),
    (["a"] * 150, cr.DTypeError, "sample_weight: expected real weights.*got dtype <U1"),
])
def test_bad_sample_weights_raise_a_chainrule_error_naming_them(weights, error, message):
    X, y = iris()
    model = cr.mlp([4, 8, 3], seed=0)
    before = model.flat_parameters().theta.copy()
    with pytest.raises(error, match=message):
        cr.fit(model, X, y, sample_weight=weights, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, before)


def test_bad_validation_weights_are_named_w_val():
    X, y = iris()
    with pytest.raises(cr.ShapeError, match=r"w_val: expected 50 weights, one per row of X_val"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X[:100], y[:100], validation=(X[100:], y[100:], np.ones(3)), verbose=0)
    with pytest.raises(cr.DataError, match="w_val: all 50 weights are zero"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X[:100], y[:100], validation=(X[100:], y[100:], np.zeros(50)), verbose=0)
    with pytest.raises(cr.HyperparameterError, match=r"validation: expected a fraction, a pair \(X_val, y_val\) or a "
                                                     r"triple \(X_val, y_val, w_val\), got a tuple of 4 items"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, validation=(X, y, None, None), verbose=0)


def test_a_loss_without_weights_trains_unweighted_and_refuses_weights_naming_itself():
    X, y = iris()
    cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, loss=UnweightedLoss(), epochs=1, verbose=0)
    with pytest.raises(cr.HyperparameterError, match="loss: UnweightedLoss.compute takes no weights.*sample_weight"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, loss=UnweightedLoss(), sample_weight=np.ones(150), epochs=1, verbose=0)
    with pytest.raises(cr.HyperparameterError, match="loss: UnweightedLoss.compute takes no weights.*w_val"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, loss=UnweightedLoss(), validation=(X, y, np.ones(150)), verbose=0)


# -- validation and metrics --------------------------------------------------------------------
@pytest.mark.parametrize("weighted_part, refused_rows", [("held", "120 training"), ("train", "30 held-out validation")])
def test_training_or_held_out_rows_all_of_weight_zero_are_refused(weighted_part, refused_rows):
    X, y = iris()
    split_seed = np.random.SeedSequence(0).spawn(2)[0]  # as cr.fit draws it from seed=0
    row_indices = np.arange(len(y), dtype=float)[:, None]
    train, _, _, held, _, _ = split_validation(row_indices, y, None, 0.2, cr.SoftmaxCrossEntropy(), np.float64,
                                               split_seed)
    weights = np.zeros(len(y))
    weights[held[:, 0].astype(int) if weighted_part == "held" else train] = 1.0
    with pytest.raises(cr.DataError, match=f"sample_weight: the weights of all {refused_rows} rows are zero"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, sample_weight=weights, validation=0.2, epochs=1, verbose=0)


def test_validation_metrics_are_weighted_as_scikit_learns_for_classification():
    X, y = iris()
    w_val = np.random.default_rng(1).uniform(0, 3, size=50)
    model = cr.mlp([4, 8, 3], seed=0, dtype="float64")
    history = cr.fit(model, X[:100], y[:100] % 3, epochs=2, verbose=0, validation=(X[100:], y[100:], w_val))
    Y = model.forward(X[100:])
    per_row = [cr.SoftmaxCrossEntropy().compute(Y[i:i + 1], y[100 + i:101 + i])[0] for i in range(50)]
    assert history.last()["val_loss"] == pytest.approx(np.average(per_row, weights=w_val), rel=1e-10)
    assert history.last()["val_accuracy"] == pytest.approx(
        accuracy_score(y[100:], Y.argmax(axis=1), sample_weight=w_val), rel=1e-12)


def test_validation_metrics_are_weighted_as_scikit_learns_for_regression():
    X, _ = iris()
    targets = X[:, 2:4]
    w_val = np.random.default_rng(1).uniform(0, 3, size=50)
    model = cr.mlp([2, 8, 2], seed=0, dtype="float64")
    history = cr.fit(model, X[:100, :2], targets[:100], epochs=2, verbose=0,
                     validation=(X[100:, :2], targets[100:], w_val))
    Y = model.forward(X[100:, :2])
    logs = history.last()
    assert logs["val_r2"] == pytest.approx(r2_score(targets[100:], Y, sample_weight=w_val), rel=1e-10)
    assert logs["val_mae"] == pytest.approx(mean_absolute_error(targets[100:], Y, sample_weight=w_val), rel=1e-10)
    assert logs["val_loss"] == pytest.approx(
        np.average(((Y - targets[100:]) ** 2).sum(axis=1), weights=w_val), rel=1e-10)


# -- checkpoints -------------------------------------------------------------------------------
def test_resuming_with_other_validation_weights_is_refused(tmp_path):
    X, y = iris()
    w_val = np.linspace(0.5, 2, 50)
    path = tmp_path / "run.safetensors"

    def run(epochs, weights, resume=None):
        model = cr.mlp([4, 8, 3], seed=0)
        cr.fit(model, X[:100], y[:100], epochs=epochs, verbose=0, validation=(X[100:], y[100:], weights),
               checkpoint=path, resume=resume)
        return model.flat_parameters().theta

    run(1, w_val)
    with pytest.raises(cr.ModelFileError, match="validation"):
        run(2, w_val * 2, resume=path)
    with pytest.raises(cr.ModelFileError, match="validation"):
        run(2, None, resume=path)  # the same rows, unweighted
    run(2, w_val, resume=path)
