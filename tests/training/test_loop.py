"""chainrule.training.loop: one ``fit`` call's epochs of minibatch backpropagation over prepared
arrays, and the scoring of prepared data a block of rows at a time."""

import copy
import io
import os
import signal

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.training.distributed import SingleProcess
from chainrule.training.history import History
from chainrule.data.preprocessing import TRANSFORM_CHUNK
from chainrule.training.loop import EVAL_CHUNK, Loop, LoopSettings, evaluate_prepared, score_chunks, writes_to_terminal


class Bar:
    """The part of a tqdm bar that ``run_epoch`` uses: the rows it counted."""

    def __init__(self):
        self.n = 0

    def set_description(self, text):
        self.description = text

    def update(self, n):
        self.n += n


def regression_loop(batch_size, weights=None, lr=0.1, loss=None):
    """A Loop over 8 rows of a 3-1 linear regression, with plain SGD and ``loss`` (MSE by default)."""
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    model = cr.mlp([3, 1], seed=0, dtype="float64")
    settings = LoopSettings(model=model, loss=cr.MSE() if loss is None else loss, optimizer=cr.SGD(model, lr=lr),
                            X=X, T=T, batch_size=batch_size, rng=np.random.default_rng(1), history=History(),
                            verbose=0, epochs=1, start_epoch=0, comm=SingleProcess(), flat=model.flat_parameters(),
                            weights=weights)
    return Loop(settings), model, X, T


def test_one_full_batch_epoch_is_one_gradient_step():
    loop, model, X, T = regression_loop(batch_size=8)
    W, b = model.layers[0].own_params["W"].copy(), model.layers[0].own_params["b"].copy()
    value, dY = cr.MSE().compute(X @ W + b, T)
    bar = Bar()
    logs = loop.run_epoch(1, bar)
    assert logs["loss"] == pytest.approx(float(value))
    np.testing.assert_allclose(model.layers[0].own_params["W"], W - 0.1 * X.T @ dY)
    np.testing.assert_allclose(model.layers[0].own_params["b"], b - 0.1 * dY.sum(axis=0))
    assert (bar.n, bar.description) == (8, "epoch 1/1")
    assert list(loop.history.grad_norms) == ["0"] and loop.history.initial_grad_norms["0"] > 0


class RecordingMSE(cr.MSE):
    """MSE that writes down the targets of every batch it scores."""

    def __init__(self):
        self.batches = []

    def compute(self, Y, T, weights=None):
        self.batches.append(T.copy())
        return super().compute(Y, T, weights)


def test_every_row_is_trained_on_once_an_epoch_the_last_partial_batch_included():
    loss = RecordingMSE()
    loop, _, _, T = regression_loop(batch_size=3, loss=loss)
    for epoch in (1, 2):
        loss.batches.clear()
        loop.run_epoch(epoch, Bar())
        assert [len(batch) for batch in loss.batches] == [3, 3, 2]  # 8 rows: the last batch holds 2
        np.testing.assert_array_equal(np.sort(np.concatenate(loss.batches), axis=0), np.sort(T, axis=0))


def test_no_rows_give_a_zero_gradient_and_loss():
    loop, model, _, _ = regression_loop(batch_size=4)
    flat = model.flat_parameters()
    flat.grad[...] = 1
    assert loop.backpropagate(np.array([], dtype=int), None, flat) == 0.0
    assert not flat.grad.any()


def test_weight_sums_share_a_batchs_weight_among_its_rows():
    loop, _, _, _ = regression_loop(batch_size=4, weights=np.array([1.0, 2.0, 3.0, 4.0, 0, 0, 0, 0]))
    assert loop.weight_sums(np.array([0, 1]), np.array([0, 1, 2, 3])) == (3.0, 10.0)
    assert loop.weight_sums(np.array([4]), np.array([4, 5])) == (0.0, 1.0)  # all of weight 0


def test_a_non_finite_loss_is_refused_naming_the_batch_and_the_rate():
    loop, model, _, _ = regression_loop(batch_size=4, lr=0.5)
    loop.run_epoch(1, Bar())  # steps taken: the learning rate may be the cause
    model.layers[0].own_params["W"][...] = np.nan
    with pytest.raises(cr.DivergenceError, match=r"training diverged at epoch 2, batch 1/2: the loss is not finite; "
                                                 r".*lr=0.5") as caught:
        loop.run_epoch(2, Bar())
    assert not caught.value.at_start


def test_a_loss_not_finite_before_any_step_names_the_weights_not_the_rate():
    loop, model, _, _ = regression_loop(batch_size=4, lr=0.5)
    model.layers[0].own_params["W"][...] = np.nan
    with pytest.raises(cr.DivergenceError, match=r"^training diverged at epoch 1, batch 1/2: the loss is not finite; "
                                                 r"the model's parameter '0.W' held NaN or infinity before any step: "
                                                 r"initialize or load finite weights$") as caught:
        loop.run_epoch(1, Bar())
    assert caught.value.at_start


class NaNGradientMSE(cr.MSE):
    """MSE whose ∂L/∂Y is NaN (a loss of one's own with a bug in its gradient), its L finite."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return value, dY * np.nan


@pytest.mark.parametrize("gradient, error, message", [
    (lambda dY: dY.ravel(), cr.ShapeError, r"returned ∂L/∂Y of shape \(4,\); expected the outputs' shape \(4, 1\)$"),
    (lambda dY: dY.astype(np.float32), cr.DTypeError, r"returned ∂L/∂Y of dtype float32; expected the outputs' dtype "
                                                      r"float64 \(compute ∂L/∂Y in Y's dtype\)$"),
    (lambda dY: dY.tolist(), cr.ShapeError, r"returned ∂L/∂Y as list; expected the outputs' shape \(4, 1\)$"),
])
def test_a_custom_loss_whose_gradient_does_not_fit_the_outputs_is_named(gradient, error, message):
    # the model's last layer was blamed ("layer '0' (Linear): dY must have the shape of the last forward's output")

    class OddGradient(cr.MSE):
        def compute(self, Y, T, weights=None):
            L, dY = super().compute(Y, T, weights)
            return L, gradient(dY)

    loop, _, _, _ = regression_loop(batch_size=4, loss=OddGradient())
    with pytest.raises(error, match=r"^loss: OddGradient\.compute " + message):
        loop.run_epoch(1, Bar())


def test_a_gradient_not_finite_after_steps_names_the_rate():
    loop, _, _, _ = regression_loop(batch_size=4, lr=0.5)
    loop.run_epoch(1, Bar())  # steps taken: the learning rate may be the cause
    loop.loss = NaNGradientMSE()
    with pytest.raises(cr.DivergenceError, match=r"^training diverged at epoch 2, batch 1/2: the gradient is not "
                                                 r"finite; the model keeps its last finite weights; try a lower "
                                                 r"learning rate \(lr=0.5\)$") as caught:
        loop.run_epoch(2, Bar())
    assert not caught.value.at_start


def test_a_gradient_not_finite_at_the_first_step_names_the_data_not_the_rate():
    # It said "the gradient or the update is not finite; ... try a lower learning rate", though no step had been taken
    loop, _, _, _ = regression_loop(batch_size=4, lr=0.5, loss=NaNGradientMSE())
    with pytest.raises(cr.DivergenceError, match=r"^training diverged at epoch 1, batch 1/2: the gradient is not "
                                                 r"finite; it was so at the initial weights, before any step, so the "
                                                 r"learning rate is not the cause: the rows or their targets are too "
                                                 r"large for the network or the loss in float64: standardize the "
                                                 r"inputs \(standardize=True\), or standardize the targets "
                                                 r"\(standardize_targets=True\)$") as caught:
        loop.run_epoch(1, Bar())
    assert caught.value.at_start


def test_an_epoch_is_described_in_one_line():
    loop, _, _, _ = regression_loop(batch_size=4)
    assert loop.describe({"loss": 0.09134, "r2": 0.98212}) == "loss 0.09134, r2 0.9821"


def test_only_a_terminal_is_written_to_as_one():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    closed = io.StringIO()
    closed.close()
    assert writes_to_terminal(Terminal())
    assert not writes_to_terminal(io.StringIO())
    assert not writes_to_terminal(closed)
    assert not writes_to_terminal(None)


def test_scores_over_chunks_are_those_of_the_whole():
    model = cr.mlp([3, 4, 2], seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(EVAL_CHUNK + 10, 3)), rng.normal(size=(EVAL_CHUNK + 10, 2))
    whole = evaluate_prepared(model, X, T, cr.MSE(), prefix="val_")
    assert whole["val_loss"] == pytest.approx(float(cr.MSE().compute(model.forward(X), T)[0]))
    asked = []
    chunks = ((start, X[start:start + 7]) for start in range(0, len(X), 7))
    assert score_chunks(model, chunks, lambda n_outputs: asked.append(n_outputs) or T, cr.MSE(),
                        prefix="val_") == pytest.approx(whole)
    assert asked == [2]  # asked once, with the outputs' width


def test_weighted_scores_weigh_each_row():
    model = cr.mlp([3, 2], seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    weights = np.array([1.0, 0, 2, 0, 1, 0])
    rows = weights > 0
    repeated = np.repeat(np.arange(6), weights.astype(int))
    assert evaluate_prepared(model, X, T, cr.MSE(), weights=weights) == pytest.approx(
        evaluate_prepared(model, X[repeated], T[repeated], cr.MSE()))
    assert evaluate_prepared(model, X, T, cr.MSE(), weights=weights) != pytest.approx(
        evaluate_prepared(model, X[rows], T[rows], cr.MSE()))


def test_the_line_of_an_epoch_cut_short_by_ctrl_c_says_so(monkeypatch, capsys):
    """It read as a whole epoch's ("epoch 2/3: loss ..."), from part of its batches."""
    run_epoch = Loop.run_epoch

    def sigint_in_epoch_2(loop, number, bar):
        if number == 2:
            os.kill(os.getpid(), signal.SIGINT)  # handled after the first batch
        return run_epoch(loop, number, bar)

    monkeypatch.setattr(Loop, "run_epoch", sigint_in_epoch_2)
    X, y = load_iris(return_X_y=True)
    cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, epochs=3, batch_size=8, verbose=2)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("epoch 1/3: ") and not lines[0].endswith(")")
    assert lines[1].startswith("epoch 2/3: ") and lines[1].endswith(" (interrupted: part of the epoch)")


def test_every_rank_scores_its_shard_about_the_global_first_row(monkeypatch):
    # The ranks add their training sums together: all must shift by one K, the first target row of the
    # batch order every rank draws alike (each rank's own first row differs).
    from chainrule.training import loop as loop_module

    shifts = []

    class Recorded(loop_module.Scores):
        def __init__(self, task, shift=None, target_scale=None, work=None):
            shifts.append(shift)
            super().__init__(task, shift, target_scale, work)

    class SecondRank(SingleProcess):
        def shard(self, rows):
            return rows[1::2]

    monkeypatch.setattr(loop_module, "Scores", Recorded)
    loop, _, _, T = regression_loop(batch_size=4)
    loop.comm = SecondRank()
    order = copy.deepcopy(loop.rng).permutation(len(T))  # the epoch's batch order, drawn next
    loop.run_epoch(1, Bar())
    np.testing.assert_array_equal(shifts[0], T[order[0]])



def standardized_epoch(X, T, preprocessor, batch_size):
    """θ (bytes) and the metrics after one epoch of SGD on a 3-1 regression over X, given ``preprocessor``."""
    model = cr.mlp([3, 1], seed=0, dtype=X.dtype)
    settings = LoopSettings(model=model, loss=cr.MSE(), optimizer=cr.SGD(model, lr=0.01), X=X, T=T,
                            batch_size=batch_size, rng=np.random.default_rng(1), history=History(), verbose=0,
                            epochs=1, start_epoch=0, comm=SingleProcess(), flat=model.flat_parameters(),
                            preprocessor=preprocessor)
    logs = Loop(settings).run_epoch(1, Bar())
    return model.flat_parameters().theta.tobytes(), logs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [3, TRANSFORM_CHUNK + 5])  # one block, or two through the work buffer
def test_a_preprocessor_standardizes_each_batch_as_transform_does_the_whole(dtype, batch_size):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(TRANSFORM_CHUNK + 9, 3)) * [1.0, 50.0, 0.01] + [3.0, -40.0, 7.0]).astype(dtype)
    T = rng.normal(size=(len(X), 1)).astype(dtype)
    preprocessor = cr.Preprocessor.fit(X, T, "regression")
    given = X.copy()
    assert (standardized_epoch(X, T, preprocessor, batch_size)
            == standardized_epoch(preprocessor.transform(X, dtype), T, None, batch_size))
    np.testing.assert_array_equal(X, given)  # the batches are standardized, not X


def test_a_preprocessor_without_a_mean_trains_on_the_rows_as_they_are():
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(10, 3)) * 5 + 2, rng.normal(size=(10, 1))
    unstandardized = cr.Preprocessor(n_features=3, task="regression")
    assert standardized_epoch(X, T, unstandardized, 4) == standardized_epoch(X, T, None, 4)


def test_the_initial_gradient_norms_are_those_of_the_first_epochs_first_batch_only():
    loop, _, _, _ = regression_loop(batch_size=4)  # 2 batches an epoch, each sampled
    norms = iter([2.0, 4.0, 6.0, 8.0])
    loop.layer_grad_norms = lambda grad: {"0": next(norms)}
    loop.run_epoch(1, Bar())
    loop.run_epoch(2, Bar())
    assert loop.history.grad_norms["0"] == [3.0, 7.0]
    assert loop.history.initial_grad_norms == {"0": 2.0}  # not the second batch's, nor the second epoch's


def test_ctrl_c_during_an_epochs_last_batch_leaves_the_epoch_whole():
    loop, _, _, _ = regression_loop(batch_size=4)
    loop.interrupted = True  # Ctrl-C during the first of 2 batches: the epoch stops after it
    loop.run_epoch(1, Bar())
    assert loop.partial_epoch
    loop, _, _, _ = regression_loop(batch_size=8)
    loop.interrupted = True  # during the only batch: the epoch ran every batch
    loop.run_epoch(1, Bar())
    assert not loop.partial_epoch


def test_a_weighted_epochs_training_scores_weigh_each_row():
    weights = np.array([1.0, 0, 2, 0, 1, 0, 3, 1])
    loop, model, X, T = regression_loop(batch_size=8, weights=weights)
    before = evaluate_prepared(model, X, T, cr.MSE(), weights=weights)  # one full batch: scored before its step
    assert before != pytest.approx(evaluate_prepared(model, X, T, cr.MSE()))
    assert loop.run_epoch(1, Bar()) == pytest.approx(before)


def test_an_epochs_gradient_norm_is_the_mean_over_its_sampled_batches():
    loop, _, _, _ = regression_loop(batch_size=4)
    norms = iter([2.0, 4.0])
    loop.layer_grad_norms = lambda grad: {"0": next(norms)}
    loop.run_epoch(1, Bar())
    assert loop.history.grad_norms["0"] == [3.0]


def test_weighted_scores_over_chunks_take_each_chunks_own_weights():
    model = cr.mlp([3, 2], seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    weights = rng.uniform(0, 3, size=20)
    whole = evaluate_prepared(model, X, T, cr.MSE(), weights=weights)
    chunks = ((start, X[start:start + 7]) for start in range(0, len(X), 7))
    assert score_chunks(model, chunks, lambda n_outputs: T, cr.MSE(), weights=weights) == pytest.approx(whole)


@pytest.mark.parametrize("verbose", [0, 2])
def test_no_tqdm_bar_is_made_where_none_is_shown(verbose, monkeypatch):
    def made(*args, **kwargs):
        raise AssertionError("a tqdm bar was made")

    monkeypatch.setattr("chainrule.training.loop.tqdm", made)
    X, y = load_iris(return_X_y=True)
    history = cr.fit(cr.mlp([4, 3], seed=0), X, y, epochs=2, verbose=verbose)
    assert history.epochs == 2
