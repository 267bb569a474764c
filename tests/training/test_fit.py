"""chainrule.training.fit: metrics, splits, labels, progress, Ctrl-C, the divergence guard,
seeds, checkpoints and resume, and every bad argument refused with the argument's name."""

import importlib
import inspect
import io
import math
import os
import re
import signal
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import chainrule as cr
from chainrule.io import read
from chainrule.training import distributed
from chainrule.training.loop import Loop
from tests.harness import Rebinding, RowValues

fit_module = importlib.import_module("chainrule.training.fit")  # the module: chainrule.training.fit is the function
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SPECIES = np.array(["setosa", "versicolor", "virginica"])
X_DIABETES, Y_DIABETES = load_diabetes(return_X_y=True)


def iris_model(hidden: int = 8, seed: int = 0) -> cr.Sequential:
    return cr.mlp([4, hidden, 3], seed=seed)


def same_weights(a, b) -> bool:
    return list(a.params) == list(b.params) and all(np.array_equal(a.params[n], b.params[n]) for n in a.params)


def all_finite(model) -> bool:
    return all(np.isfinite(array).all() for array in model.params.values())


class WeightRecorder(cr.Callback):
    """Keeps a copy of θ after every epoch: weights[epoch - 1]."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs, model):
        self.weights.append(model.flat_parameters().theta.copy())
        return False


class SigintAtEpochEnd(cr.Callback):
    """Sends Ctrl-C to this very process at the end of ``epoch`` (``times`` times)."""

    def __init__(self, epoch: int, times: int = 1):
        self.epoch, self.times = epoch, times

    def on_epoch_end(self, epoch, logs, model):
        if epoch == self.epoch:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)
        return False


class SigintLoss(cr.SoftmaxCrossEntropy):
    """Cross-entropy that sends Ctrl-C to this process during its ``at``-th batch."""

    def __init__(self, at: int):
        self.at, self.calls = at, 0

    def compute(self, Y, T):
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        return super().compute(Y, T)


# Metrics -------------------------------------------------------------------------------------

def test_classification_records_loss_and_accuracy_per_epoch():
    model = iris_model()
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=6, lr=0.05, validation=0.2, standardize=True, verbose=0)
    assert set(history.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 6 for values in history.metrics.values())
    assert all(0 <= value <= 1 for value in history.metrics["accuracy"] + history.metrics["val_accuracy"])
    assert history.metrics["loss"][-1] < history.metrics["loss"][0]
    assert history.metrics["accuracy"][-1] > 0.8
    assert (history.epochs, history.stop_reason, history.best_epoch) == (6, "completed", None)
    assert history.last() == {name: values[-1] for name, values in history.metrics.items()}
    summary = model.metadata["training"]
    assert (summary["epochs"], summary["n_train"], summary["stop_reason"]) == (6, 120, "completed")
    assert summary["final"] == history.last()


def test_regression_records_r2_and_mae_per_epoch():
    model = cr.mlp([10, 16, 1], seed=0)
    history = cr.fit(model, X_DIABETES, Y_DIABETES / 100, epochs=5, lr=0.01, validation=0.2,
                     standardize=True, verbose=0)  # float targets: MSE by default
    assert set(history.metrics) == {"loss", "r2", "mae", "val_loss", "val_r2", "val_mae"}
    assert all(len(values) == 5 for values in history.metrics.values())
    assert history.metrics["r2"][-1] > history.metrics["r2"][0]
    assert history.metrics["mae"][-1] < history.metrics["mae"][0]
    assert model.metadata["training"]["loss"] == "MSE"


def test_without_validation_there_are_no_validation_metrics():
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=0)
    assert set(history.metrics) == {"loss", "accuracy"}


def test_a_validation_pair_is_scored_as_evaluate_scores_it():
    model = iris_model()
    X_val, y_val = X_IRIS[::3], Y_IRIS[::3]
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=3, lr=0.05, validation=(X_val, y_val), standardize=True, verbose=0)
    scores = cr.evaluate(model, X_val, y_val)
    assert history.metrics["val_loss"][-1] == pytest.approx(scores["loss"], rel=1e-12)
    assert history.metrics["val_accuracy"][-1] == scores["accuracy"]


def test_a_validation_row_far_outside_the_training_rows_gives_a_nan_val_loss_that_the_model_file_holds_as_null(
        tmp_path):
    # Standardized with the training rows' mean and scale, a finite 3e38 is beyond float32: its
    # z is inf and the val_loss NaN, which the training summary holds as null (JSON has no NaN).
    X_val, y_val = X_IRIS[::3].copy(), Y_IRIS[::3]
    X_val[0] = 3e38
    model = iris_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy "overflow encountered in cast"
        history = cr.fit(model, X_IRIS, Y_IRIS, epochs=2, validation=(X_val, y_val), standardize=True, verbose=0)
    assert np.isnan(history.metrics["val_loss"]).all()
    assert np.isfinite(history.metrics["val_accuracy"]).all()
    final = model.metadata["training"]["final"]
    assert final == {**history.last(), "val_loss": None}
    cr.save(model, tmp_path / "model.safetensors")
    assert cr.load(tmp_path / "model.safetensors").metadata["training"]["final"] == final


@pytest.mark.parametrize("seed", range(4))
def test_the_validation_split_is_stratified(seed):
    # 90 rows of class 0 and 10 of class 1; a model that always answers 0 (its weights stay
    # put at lr 1e-12) scores the fraction of class 0: exactly 0.9 on both parts only when
    # the 20 % held out keeps the proportions (18 + 2), whatever the seed.
    X = np.random.default_rng(seed).normal(size=(100, 2))
    y = np.array([0] * 90 + [1] * 10)
    model = cr.Linear(2, 2, init="zeros")
    model.params["b"][...] = [10.0, 0.0]
    history = cr.fit(model, X, y, optimizer=cr.SGD(model, lr=1e-12), epochs=1, batch_size=10,
                     validation=0.2, seed=seed, verbose=0)
    assert history.metrics["val_accuracy"] == [0.9]
    assert history.metrics["accuracy"] == [0.9]
    assert model.metadata["training"]["n_train"] == 80


def test_string_labels_are_mapped_and_predict_returns_them():
    model = iris_model()
    labels = SPECIES[Y_IRIS]
    cr.fit(model, X_IRIS, labels, epochs=20, lr=0.05, standardize=True, verbose=0)
    assert model.preprocessor.classes == list(SPECIES)
    predicted = cr.predict(model, X_IRIS)
    assert predicted.shape == (150,)
    assert set(predicted.tolist()) <= set(SPECIES)
    assert np.mean(predicted == labels) == pytest.approx(cr.evaluate(model, X_IRIS, labels)["accuracy"])
    assert np.mean(predicted == labels) > 0.8


def test_integer_labels_in_range_name_the_outputs_themselves():
    model = cr.mlp([4, 8, 5], seed=0)  # five outputs; labels 0, 1, 2 use three of them
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    assert model.preprocessor.classes == [0, 1, 2, 3, 4]


def test_gradient_norms_are_recorded_per_layer_and_epoch():
    model = cr.mlp([4, 8, 8, 3], seed=0)
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=3, verbose=0)
    assert list(history.grad_norms) == ["0", "2", "4"]  # the Linear layers, in model order
    assert all(len(norms) == 3 for norms in history.grad_norms.values())
    assert all(np.isfinite(norm) and norm > 0 for norms in history.grad_norms.values() for norm in norms)
    assert list(history.initial_grad_norms) == ["0", "2", "4"]


def test_the_initial_gradient_norms_are_those_of_the_first_batch():
    model = cr.mlp([4, 8, 3], seed=0)
    history = cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, batch_size=150, verbose=0)
    loss = cr.SoftmaxCrossEntropy()
    _, dY = loss(model(X_IRIS.astype(np.float32)), Y_IRIS)
    model.backward(dY)
    for layer, norm in history.initial_grad_norms.items():
        assert norm == pytest.approx(float(np.linalg.norm(model.grads[f"{layer}.W"])), rel=1e-5)


def test_a_vanishing_float32_gradient_is_recorded_as_its_norm_not_as_zero():
    """‖∂L/∂W‖ of 1.4e-24 was summed in float32, where each square (1e-48) is 0: the record (and the
    gradient-flow plot) said the layer got no gradient at all."""
    model = cr.Sequential(cr.Linear(2, 1), seed=0)
    model.params["0.W"][...] = 0.0
    X, y = np.full((4, 2), 1e-12), np.full(4, 2e-12)  # dW = 2 (0 − 2e-12) · 1e-12 per entry, in float32
    history = cr.fit(model, X, y, loss="mse", optimizer=cr.SGD(model, lr=1e-3), epochs=1, batch_size=4, verbose=0)
    assert history.initial_grad_norms["0"] == pytest.approx(math.sqrt(2) * 4e-24, rel=1e-5, abs=0)


# Early stopping and schedules ------------------------------------------------------------------

@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_stops_and_restores_the_best_weights(restore_best):
    # min_delta so large that no epoch after the first counts as an improvement.
    model, recorder = iris_model(), WeightRecorder()
    stopper = cr.EarlyStopping(patience=2, min_delta=1e9, monitor="loss", restore_best=restore_best)
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=50, lr=0.05, callbacks=[stopper, recorder], verbose=0)
    assert (history.epochs, history.stop_reason, history.best_epoch) == (3, "early_stopping", 1)
    assert len(history.metrics["loss"]) == 3
    theta = model.flat_parameters().theta
    assert np.array_equal(theta, recorder.weights[0 if restore_best else -1])
    assert not np.array_equal(recorder.weights[0], recorder.weights[-1])


def test_early_stopping_watches_the_validation_loss_when_there_is_validation_data():
    stopper = cr.EarlyStopping(patience=100)
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, validation=0.2, callbacks=[stopper], verbose=0)
    assert stopper.monitor == "val_loss"


class RecordingSchedule:
    """A schedule that remembers the steps it was asked about, and halves lr from step 5 on."""

    def __init__(self):
        self.steps = []

    def __call__(self, t):
        self.steps.append(t)
        return 1.0 if t < 5 else 0.5


def test_a_learning_rate_schedule_is_applied_through_the_optimizer():
    model, schedule = iris_model(), RecordingSchedule()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9, schedule=schedule)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=3, batch_size=50, verbose=0)
    assert schedule.steps == list(range(9))  # 3 batches a epoch, one step each
    assert optimizer.t == 9
    assert optimizer.current_lr == pytest.approx(0.05)


def test_a_schedule_that_is_zero_leaves_the_weights_alone():
    model = iris_model()
    before = model.flat_parameters().theta.copy()
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.Adam(model, lr=0.1, schedule=lambda t: 0.0), epochs=2, verbose=0)
    assert np.array_equal(model.flat_parameters().theta, before)


def test_an_optimizer_given_by_name_takes_lr():
    model = iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, optimizer="sgd", lr=0.3, epochs=1, verbose=0)
    assert model.metadata["training"]["optimizer"].startswith("SGD(lr=0.3")


# Progress bar ----------------------------------------------------------------------------------

def test_verbose_0_prints_nothing(capsys):
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


class Terminal(io.StringIO):
    """A stderr that says it is a terminal (a TERM=dumb one shows no bar: see the fixture below)."""

    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def smart_terminal(monkeypatch):
    """A TERM that draws bars, whatever terminal runs the tests (Emacs' shell sets TERM=dumb)."""
    monkeypatch.setenv("TERM", "xterm-256color")


def epoch_lines(history, epochs=None) -> list[str]:
    """The line verbose=1 or 2 prints for each epoch of ``history``, of ``epochs`` asked for
    (by default those it ran)."""
    lines = []
    for epoch in range(1, history.epochs + 1):
        metrics = ", ".join(f"{name} {values[epoch - 1]:.4g}" for name, values in history.items())
        lines.append(f"epoch {epoch}/{epochs or history.epochs}: {metrics}")
    return lines


def test_verbose_1_in_a_terminal_shows_a_bar_and_writes_each_epochs_line_above_it(capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, validation=0.2, verbose=1)
    shown = terminal.getvalue()
    assert capsys.readouterr().out == ""
    assert "sample/s" in shown or "samples/s" in shown  # the bar
    assert "240/240" in shown and "/300" not in shown  # 2 epochs of the 120 training rows (not the 150 given)
    lines = shown.replace("\r", "\n").splitlines()
    assert all(line in lines for line in epoch_lines(history))  # each on a line of its own
    assert "loss=" not in shown  # no postfix: it showed the last epoch's numbers under the next epoch's label


def test_verbose_1_redirected_prints_one_plain_line_per_epoch(capsys):
    """A stderr that is a file (capsys's is not a terminal) gets no bar's \r redraws."""
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=3, validation=0.2, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == epoch_lines(history)
    assert "\r" not in captured.err
    assert captured.err.splitlines()[0].startswith("epoch 1/3: loss ")
    assert ", val_loss " in captured.err and ", val_accuracy " in captured.err


def test_verbose_2_prints_only_the_lines_even_in_a_terminal(capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=2)
    assert capsys.readouterr().out == ""
    assert terminal.getvalue().splitlines() == epoch_lines(history)


def test_verbose_true_is_1():
    model, again = iris_model(), iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, epochs=2, verbose=True)
    cr.fit(again, X_IRIS, Y_IRIS, epochs=2, verbose=2)  # the level changes what is printed, never the weights
    assert same_weights(model, again)


@pytest.mark.parametrize("restore_best, kept", [
    (True, "weights of the best epoch 1 (loss {best}) restored"),
    (False, "the weights of the last epoch kept (best: epoch 1, loss {best})"),
])
def test_early_stopping_says_why_it_stopped_and_which_weights_the_model_keeps(capsys, restore_best, kept):
    stopper = cr.EarlyStopping(patience=2, min_delta=1e9, monitor="loss", restore_best=restore_best)
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=50, callbacks=[stopper], verbose=1)
    lines = capsys.readouterr().err.splitlines()
    assert lines[:-1] == epoch_lines(history, epochs=50)
    best = f"{history['loss'][0]:.4g}"
    assert lines[-1] == f"early stopping after epoch 3: loss has not improved for 2 epochs; {kept.format(best=best)}"


def test_the_stop_line_comes_after_the_bar_is_closed(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    stopper = cr.EarlyStopping(patience=1, min_delta=1e9, monitor="loss")
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=50, callbacks=[stopper], verbose=1)
    before, stop_line = terminal.getvalue().rstrip("\n").rsplit("\n", 1)
    assert stop_line.startswith("early stopping after epoch 2: loss has not improved for 1 epoch; ")
    assert "\r" not in stop_line and "sample" in before.rsplit("\r", 1)[-1]  # the bar's last draw ended its line


def test_a_callback_that_stops_gets_a_line_too(capsys):
    class StopAtTwo(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            return epoch == 2

    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=5, callbacks=[StopAtTwo()], verbose=1)
    assert capsys.readouterr().err.splitlines()[-1] == "training stopped after epoch 2: StopAtTwo asked to stop"


def test_nothing_is_said_of_a_stop_with_verbose_0_or_of_a_completed_run(capsys):
    stopper = cr.EarlyStopping(patience=1, min_delta=1e9, monitor="loss")
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=50, callbacks=[stopper], verbose=0)
    assert capsys.readouterr().err == ""
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, callbacks=[cr.EarlyStopping(patience=5)], verbose=1)
    assert "stopping" not in capsys.readouterr().err


# Ctrl-C ----------------------------------------------------------------------------------------

def test_ctrl_c_stops_after_the_epoch_and_keeps_the_model(tmp_path):
    model = iris_model()
    before = model.flat_parameters().theta.copy()
    handler = signal.getsignal(signal.SIGINT)
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=10, callbacks=[SigintAtEpochEnd(2)], verbose=0,
                     checkpoint=tmp_path / "checkpoint.safetensors")
    assert (history.stop_reason, history.epochs) == ("interrupted", 2)
    assert all(len(values) == 2 for values in history.metrics.values())
    assert not np.array_equal(model.flat_parameters().theta, before) and all_finite(model)
    assert model.metadata["training"]["stop_reason"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is handler  # put back
    assert read(tmp_path / "checkpoint.safetensors")[2]["epoch"] == 2  # a whole epoch: checkpointed


def test_ctrl_c_mid_epoch_stops_after_the_current_batch(tmp_path):
    # 10 batches an epoch; Ctrl-C during the 13th batch, the 3rd of epoch 2.
    model, recorder = iris_model(), WeightRecorder()
    checkpoint = tmp_path / "checkpoint.safetensors"
    history = cr.fit(model, X_IRIS, Y_IRIS, loss=SigintLoss(13), epochs=4, batch_size=15,
                     callbacks=[recorder], checkpoint=checkpoint, verbose=0)
    assert (history.stop_reason, history.epochs) == ("interrupted", 2)
    assert all_finite(model)
    assert np.array_equal(model.flat_parameters().theta, recorder.weights[-1])
    # The cut epoch is not checkpointed: the checkpoint is still epoch 1's, so resuming from it
    # gives the uninterrupted run's weights.
    assert read(checkpoint)[2]["epoch"] == 1
    resumed = iris_model()
    history = cr.fit(resumed, X_IRIS, Y_IRIS, epochs=4, batch_size=15, callbacks=[WeightRecorder()],
                     resume=checkpoint, verbose=0)
    uninterrupted = iris_model()
    expected = cr.fit(uninterrupted, X_IRIS, Y_IRIS, epochs=4, batch_size=15, verbose=0)
    assert same_weights(resumed, uninterrupted)
    assert history.metrics == expected.metrics
    assert history.stop_reason == "completed"


@pytest.mark.parametrize("stopper, epochs, reason", [(None, 3, "completed"),
                                                    (cr.EarlyStopping(patience=1, min_delta=1e9), 9, "early_stopping")])
def test_a_ctrl_c_in_the_epoch_that_ends_the_run_interrupts_nothing(tmp_path, stopper, epochs, reason):
    # It said "interrupted": resuming trained nothing and stayed "interrupted" (the CLI exited 130 at every
    # --resume), or went on training past the epoch where early stopping had stopped.
    callbacks = [stopper] if stopper else []
    expected = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=epochs, callbacks=callbacks, verbose=0)
    assert expected.epochs == (2 if stopper else 3)
    checkpoint = tmp_path / "checkpoint.safetensors"
    model = iris_model()
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=epochs, callbacks=[*callbacks, SigintAtEpochEnd(expected.epochs)],
                     verbose=0, checkpoint=checkpoint)
    assert (history.stop_reason, history.epochs) == (reason, expected.epochs)
    assert read(checkpoint)[2]["history"]["stop_reason"] == reason
    resumed = iris_model()
    again = cr.fit(resumed, X_IRIS, Y_IRIS, epochs=epochs, callbacks=[*callbacks, SigintAtEpochEnd(0)], verbose=0,
                   resume=checkpoint)
    assert (again.stop_reason, again.epochs) == (reason, expected.epochs)
    assert same_weights(resumed, model)


def test_an_interrupted_run_resumed_to_the_epochs_it_holds_is_completed(tmp_path):
    # Ctrl-C after epoch 2 of 5, resumed with epochs=2: nothing trains, and the run is the uninterrupted
    # 2-epoch run. It stayed "interrupted" (the CLI exited 130 and said to resume again).
    checkpoint = tmp_path / "checkpoint.safetensors"
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=5, callbacks=[SigintAtEpochEnd(2)], verbose=0, checkpoint=checkpoint)
    assert read(checkpoint)[2]["history"]["stop_reason"] == "interrupted"
    uninterrupted = iris_model()
    expected = cr.fit(uninterrupted, X_IRIS, Y_IRIS, epochs=2, callbacks=[SigintAtEpochEnd(0)], verbose=0)
    resumed = iris_model()
    history = cr.fit(resumed, X_IRIS, Y_IRIS, epochs=2, callbacks=[SigintAtEpochEnd(0)], verbose=0,
                     resume=checkpoint)
    assert (history.stop_reason, history.epochs) == ("completed", 2)
    assert history.to_json() == expected.to_json()
    assert resumed.metadata["training"]["stop_reason"] == "completed"
    assert same_weights(resumed, uninterrupted)


def test_a_resumed_run_keeps_its_seed_and_refuses_another(tmp_path):
    # seed=7 on resume was ignored (the checkpoint's Generator shuffles) yet recorded as the run's seed
    checkpoint = tmp_path / "checkpoint.safetensors"
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, verbose=0, seed=3, checkpoint=checkpoint)
    with pytest.raises(cr.ModelFileError, match=r"seed: the checkpoint's run had seed 3, this call 7; resuming "
                                                r"continues that run's shuffling from the checkpoint, so pass seed=3"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=0, seed=7, resume=checkpoint)
    for seed in (3, None):
        model = iris_model()
        cr.fit(model, X_IRIS, Y_IRIS, epochs=2, verbose=0, seed=seed, resume=checkpoint)
        assert model.metadata["training"]["seed"] == 3
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, verbose=0, seed=None, checkpoint=checkpoint)
    drawn = read(checkpoint)[2]["seed"]  # seed=None drew one, which the run recorded
    with pytest.raises(cr.ModelFileError, match=rf"seed: the checkpoint's run had seed {drawn}, this call 5; .* so "
                                                rf"pass seed={drawn} or seed=None \(which takes the checkpoint's\)$"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=0, seed=5, resume=checkpoint)
    model, tensors, extra = read(checkpoint)  # a checkpoint of a run from before seed=None drew one
    cr.save(model, checkpoint, extra_tensors=tensors, extra_json={**extra, "seed": None})
    with pytest.raises(cr.ModelFileError, match=r"seed: the checkpoint's run had no seed \(seed=None\), this call 5; "
                                                r".* so pass seed=None \(which takes the checkpoint's\)$"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=0, seed=5, resume=checkpoint)


def test_seed_none_draws_a_seed_the_run_records_which_repeats_it_and_resumes_it(tmp_path):
    # seed=None recorded None: the run could not be repeated, and its checkpoint not resumed with a validation
    # split (seed=None on resume drew other rows, refused as another validation set), as a distributed run's could
    checkpoint = tmp_path / "checkpoint.safetensors"
    options = dict(validation=0.2, batch_size=16, verbose=0)
    first = iris_model()
    history = cr.fit(first, X_IRIS, Y_IRIS, epochs=4, seed=None, **options)
    seed = first.metadata["training"]["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**63
    again = iris_model()
    assert cr.fit(again, X_IRIS, Y_IRIS, epochs=4, seed=seed, **options).to_json() == history.to_json()
    assert same_weights(again, first)
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, seed=None, checkpoint=checkpoint, **options)
    seed = read(checkpoint)[2]["seed"]
    uninterrupted, resumed = iris_model(), iris_model()
    expected = cr.fit(uninterrupted, X_IRIS, Y_IRIS, epochs=4, seed=seed, **options)
    history = cr.fit(resumed, X_IRIS, Y_IRIS, epochs=4, seed=None, resume=checkpoint, **options)
    assert history.to_json() == expected.to_json()
    assert same_weights(resumed, uninterrupted) and resumed.metadata["training"]["seed"] == seed


def test_seed_none_on_resume_takes_the_checkpoints_seed_for_the_validation_split_too(tmp_path):
    # seed=None held out other rows than the checkpoint's seed did, so the resume was refused for its validation
    # set, though the seed error itself advises seed=None ("which takes the checkpoint's")
    checkpoint = tmp_path / "checkpoint.safetensors"
    options = dict(validation=0.2, batch_size=16, verbose=0)
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, seed=5, checkpoint=checkpoint, **options)
    uninterrupted = iris_model()
    expected = cr.fit(uninterrupted, X_IRIS, Y_IRIS, epochs=4, seed=5, **options)
    resumed = iris_model()
    history = cr.fit(resumed, X_IRIS, Y_IRIS, epochs=4, seed=None, resume=checkpoint, **options)
    assert history.to_json() == expected.to_json()
    assert same_weights(resumed, uninterrupted)
    assert resumed.metadata["training"]["seed"] == 5


def test_a_sigint_handler_set_outside_python_is_left_in_place(monkeypatch):
    """signal.getsignal gives None for a handler a host program installed: fit cannot put such
    a handler back, so it does not replace it (Ctrl-C then does what the host decided)."""
    installed = []
    monkeypatch.setattr(signal, "getsignal", lambda number: None)
    monkeypatch.setattr(signal, "signal", lambda number, handler: installed.append(handler))
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, verbose=0)
    assert history.stop_reason == "completed" and installed == []


def test_a_second_ctrl_c_interrupts_for_real():
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=10, callbacks=[SigintAtEpochEnd(1, times=2)], verbose=0)
    assert signal.getsignal(signal.SIGINT) is handler


def ctrl_c_in_the_update(optimizer, at: int, times: int) -> None:
    """Make ``optimizer`` send Ctrl-C ``times`` times during its step ``at``: after its rule has
    advanced the state (SGD's velocity, Adam's m and v) of the first stretch of θ it steps, and
    before θ moves and any other stretch is stepped."""
    rule, sent = optimizer.rule, []

    def rule_then_ctrl_c(theta, grad, lr, vectors):
        answer = rule(theta, grad, lr, vectors)
        if optimizer.t == at and not sent:
            sent.append(at)
            for _ in range(times):
                signal.raise_signal(signal.SIGINT)  # handled at once, here
        return answer

    optimizer.rule = rule_then_ctrl_c


@pytest.mark.parametrize("frozen", [False, True], ids=["all-trainable", "one-frozen"])
@pytest.mark.parametrize("make", [lambda model: cr.SGD(model, lr=0.1, momentum=0.9), lambda model: cr.Adam(model)],
                         ids=["sgd-momentum", "adam"])
def test_a_second_ctrl_c_during_an_update_aborts_once_the_update_is_whole(make, frozen):
    # It raised KeyboardInterrupt inside the step: the optimizer's state had taken the step in and θ
    # had not (nor, with a frozen layer, the stretches after the first), and that model and optimizer
    # were what the caller was left with, to save or to train on.
    runs = []
    for times in (1, 2):  # the first Ctrl-C alone stops after that step: the whole steps to compare with
        model = cr.mlp([4, 8, 8, 3], seed=0)
        model[2].trainable = not frozen  # a frozen layer in the middle: two stretches, stepped one by one
        optimizer = make(model)
        ctrl_c_in_the_update(optimizer, at=3, times=times)
        handler = signal.getsignal(signal.SIGINT)
        if times == 1:
            history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=4, batch_size=30, verbose=0)
            assert (history.stop_reason, history.partial_last_epoch) == ("interrupted", True)
        else:
            with pytest.raises(KeyboardInterrupt):
                cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=4, batch_size=30, verbose=0)
        assert signal.getsignal(signal.SIGINT) is handler
        runs.append((model, optimizer.state_dict()))
    (stopped, stopped_state), (aborted, aborted_state) = runs
    assert aborted_state["t"] == stopped_state["t"] == 3 and aborted_state["missed"] == stopped_state["missed"]
    assert same_weights(aborted, stopped)
    assert all(np.array_equal(aborted_state["state"][name], value) for name, value in stopped_state["state"].items())


def test_a_second_ctrl_c_held_through_an_update_is_passed_on_once(monkeypatch):
    # A distributed fit ends its epoch before it stops (the ranks agree on a Ctrl-C there): the held
    # second Ctrl-C was passed on to a handler that does not raise (a user's own) at every later step.
    monkeypatch.setattr(distributed.SingleProcess, "stops_mid_epoch", lambda self, interrupted: False)
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        model = iris_model()
        optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
        ctrl_c_in_the_update(optimizer, at=1, times=2)
        history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=4, batch_size=30, verbose=0)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert history.stop_reason == "interrupted" and optimizer.t == 5  # the epoch's 5 steps, then stopped
    assert calls == [signal.SIGINT]


def test_a_third_ctrl_c_during_an_update_aborts_at_once():
    # The third, as every one after the second, was held until the update ended too: a step that
    # hangs (a stalled product, a GPU epoch held as one update) could not be interrupted at all.
    model = iris_model()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    rule, reached = optimizer.rule, []

    def rule_then_three_ctrl_c(theta, grad, lr, vectors):
        if optimizer.t == 2:
            for _ in range(3):
                signal.raise_signal(signal.SIGINT)
            reached.append("the rest of the update")
        return rule(theta, grad, lr, vectors)

    optimizer.rule = rule_then_three_ctrl_c
    with pytest.raises(KeyboardInterrupt):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=4, batch_size=30, verbose=0)
    assert reached == []


def test_a_second_ctrl_c_outside_an_update_aborts_at_once():
    class CtrlCLoss(cr.SoftmaxCrossEntropy):
        """Sends two Ctrl-C during the loss of the 3rd batch: before its backward and its step."""

        def __init__(self):
            self.calls = 0

        def compute(self, Y, T):
            self.calls += 1
            if self.calls == 3:
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)
            return super().compute(Y, T)

    model = iris_model()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    with pytest.raises(KeyboardInterrupt):
        cr.fit(model, X_IRIS, Y_IRIS, loss=CtrlCLoss(), optimizer=optimizer, epochs=4, batch_size=30, verbose=0)
    assert optimizer.t == 2  # the third step never began


# Divergence guard ------------------------------------------------------------------------------

def test_a_huge_learning_rate_stops_with_a_divergence_error():
    model = iris_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warnings: the error says it all
        with pytest.raises(cr.DivergenceError, match=r"epoch 1, batch \d/5: the (loss|gradient or the update) is not finite") as caught:
            cr.fit(model, X_IRIS, Y_IRIS, optimizer="sgd", lr=1e20, epochs=5, verbose=0)
    assert "try a lower learning rate (lr=1e+20)" in str(caught.value)
    assert isinstance(caught.value, FloatingPointError)
    assert all_finite(model)


def test_a_divergence_error_carries_the_history_of_the_epochs_completed_before():
    class RaiseTheRate(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            if epoch == 2:
                optimizer.lr = 1e20

    model = iris_model()
    optimizer = cr.SGD(model, lr=0.01)
    with pytest.raises(cr.DivergenceError, match=r"at epoch 3, ") as caught:
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=5, validation=0.2, callbacks=[RaiseTheRate()],
               verbose=0)
    history = caught.value.history
    assert isinstance(history, cr.History) and history.epochs == 2
    assert len(history.metrics["loss"]) == len(history.metrics["val_loss"]) == 2
    assert cr.DivergenceError("raised by hand").history is None


def test_training_under_numpy_seterr_raise_ignores_only_underflows():
    # A caller's numpy.seterr(all="raise"): an x of 1e-40 cast to float32, e^z of logits far apart (the
    # loss) and a saturated sigmoid's dY h (1 − h) (its backward) underflow, as NumPy's default takes
    # silently; they raised FloatingPointError. Training now goes as without it; a divergence is still named.
    def sigmoid_model():
        return cr.Sequential(cr.Linear(4, 16), cr.Sigmoid(), cr.Linear(16, 3), seed=0)

    X = X_IRIS * 30
    X[:5, 3] = 1e-40
    expected = sigmoid_model()
    cr.fit(expected, X, Y_IRIS, epochs=3, validation=0.2, verbose=0)
    model = sigmoid_model()
    with np.errstate(all="raise"):
        history = cr.fit(model, X, Y_IRIS, epochs=3, validation=0.2, verbose=0)
        assert history.stop_reason == "completed" and same_weights(model, expected)
        with pytest.raises(cr.DivergenceError, match="try a lower learning rate"):
            cr.fit(iris_model(), X_IRIS, Y_IRIS, optimizer="sgd", lr=1e20, epochs=5, verbose=0)


def test_a_first_row_too_large_for_the_network_is_a_divergence_error_under_numpy_seterr_raise_too():
    """The row that fit sends through the network to learn the outputs' width (its values unused) overflowed there
    for a first row of 3e38 (float32): under a caller's numpy.seterr(all="raise") fit raised NumPy's bare
    FloatingPointError ("overflow encountered in dot"), where NumPy's default gave a warning and the divergence
    guard's error; now both give that error alone."""
    X = np.full((6, 3), 3e38)
    y = np.arange(6.0)
    for errstate in ("warn", "raise"):
        with np.errstate(all=errstate), warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(cr.DivergenceError, match=r"it was so at the initial weights"):
                cr.fit(cr.mlp([3, 4, 1], seed=0), X, y, standardize=False, epochs=1, verbose=0)


def test_a_loss_not_finite_before_any_step_names_the_data_not_the_learning_rate():
    # It said "try a lower learning rate (lr=1e-12)": no step had been taken, the targets overflowed the loss
    X = np.random.default_rng(0).normal(size=(10, 2))
    y = np.linspace(0.5, 9.5, 10)
    y[7] = 1e300  # its square overflows float64
    with pytest.raises(cr.DivergenceError, match=r"^training diverged at epoch 1, batch 1/1: the loss is not finite; "
                                                 r"it was so at the initial weights, before any step, so the learning "
                                                 r"rate is not the cause: .* in float64: standardize the inputs "
                                                 r"\(standardize=True\), or standardize the targets "
                                                 r"\(standardize_targets=True\)$") as caught:
        cr.fit(cr.mlp([2, 3, 1], seed=0, dtype="float64"), X, y, lr=1e-12, epochs=1, verbose=0)
    assert caught.value.at_start and "lower learning rate" not in str(caught.value)
    # what is done already is not advised: standardized inputs, float64; then nothing is left to scale
    with pytest.raises(cr.DivergenceError, match=r"not the cause: .* in float64: standardize the targets "
                                                 r"\(standardize_targets=True\)$"):
        cr.fit(cr.mlp([2, 3, 1], seed=0, dtype="float64"), X, y, epochs=1, verbose=0, standardize=True)


class LogOfDifference(cr.MSE):
    """A loss of one's own with a bug: log of a difference that may be negative (NaN)."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return np.log(Y - T).mean(), dY


def test_a_loss_not_finite_at_the_start_on_standardized_data_blames_the_network_or_the_loss():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the log of a negative number
        with pytest.raises(cr.DivergenceError, match=r"not the cause: the data are standardized already, so the "
                                                     r"initial weights or the loss's own computation"):
            cr.fit(cr.mlp([2, 3, 1], seed=0, dtype="float64"), X, X[:, 0], loss=LogOfDifference(), epochs=1,
                   verbose=0, standardize=True, standardize_targets=True)


def test_a_gradient_not_finite_at_the_first_step_names_the_data_not_the_learning_rate():
    # It said "the gradient or the update is not finite; ... try a lower learning rate (lr=1e-30)": no step had been
    # taken; the raw rows (5e19) made ∂L/∂W overflow float32 while the loss did not
    rng = np.random.default_rng(0)
    X, y = (rng.normal(size=(10, 2)) * 5e19).astype(np.float32), rng.normal(size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warnings: the error says it all
        with pytest.raises(cr.DivergenceError, match=r"^training diverged at epoch 1, batch 1/1: the gradient is not "
                                                     r"finite; it was so at the initial weights, before any step, so "
                                                     r"the learning rate is not the cause: the rows or their targets "
                                                     r"are too large for the network or the loss in float32: "
                                                     r"standardize the inputs \(standardize=True\), or standardize "
                                                     r"the targets \(standardize_targets=True\), or train in "
                                                     r"float64$") as caught:
            cr.fit(cr.mlp([2, 3, 1], seed=0), X, y, lr=1e-30, epochs=1, verbose=0)
    assert caught.value.at_start and "lower learning rate" not in str(caught.value)


class NaNGradientMSE(cr.MSE):
    """A loss of one's own with a bug in its gradient: ∂L/∂Y is NaN, L finite."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return value, dY * np.nan


def test_a_gradient_not_finite_at_the_start_on_standardized_data_blames_a_backward_pass():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(cr.DivergenceError, match=r"the gradient is not finite; it was so at the initial weights, "
                                                 r"before any step, so the learning rate is not the cause: the data "
                                                 r"are standardized already, so the initial weights or a backward "
                                                 r"pass, of a layer or of the loss \(one of one's own\?\) made it$"):
        cr.fit(cr.mlp([2, 3, 1], seed=0, dtype="float64"), X, X[:, 0], loss=NaNGradientMSE(), epochs=1, verbose=0,
               standardize=True, standardize_targets=True)


def test_an_update_that_overflows_the_weights_is_undone():
    # Adam's first step moves every weight by about lr = 1e38, beyond float32: the guard does
    # not apply it, so the weights stay the initial ones, and it names the first batch.
    model = iris_model()
    with pytest.raises(cr.DivergenceError, match=r"epoch 1, batch 1/5: the gradient or the update is not finite") \
            as caught:
        cr.fit(model, X_IRIS, Y_IRIS, optimizer="adam", lr=1e38, epochs=5, verbose=0)
    # the gradient was finite, its update not: the learning rate is the cause, at the first step too
    assert not caught.value.at_start and "try a lower learning rate (lr=1e+38)" in str(caught.value)
    assert all_finite(model)
    assert same_weights(model, iris_model())


def test_callbacks_do_not_end_a_run_that_failed():
    class Ends(cr.Callback):
        ended = False

        def on_train_end(self, model, history):
            self.ended = True

    ends = Ends()
    with pytest.raises(cr.DivergenceError):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, optimizer="sgd", lr=1e20, callbacks=[ends], verbose=0)
    assert not ends.ended


# Reproducibility, checkpoints and resume ------------------------------------------------------

def test_the_same_seed_gives_bit_identical_weights():
    runs = []
    for _ in range(2):
        model = iris_model(seed=3)
        history = cr.fit(model, X_IRIS, Y_IRIS, epochs=3, validation=0.2, seed=7, standardize=True, verbose=0)
        runs.append((model, history))
    assert same_weights(runs[0][0], runs[1][0])
    assert runs[0][1].metrics == runs[1][1].metrics
    other = iris_model(seed=3)
    cr.fit(other, X_IRIS, Y_IRIS, epochs=3, validation=0.2, seed=8, standardize=True, verbose=0)
    assert not same_weights(runs[0][0], other)  # the seed drives the split and the shuffling


def test_shuffle_false_takes_the_rows_in_order_every_epoch():
    """Two epochs of batches of 50 rows in X's order are the steps of four one-batch fits on
    rows 0-49, 50-99, 0-49, 50-99 (SGD without momentum keeps no state between them); the seed
    then changes nothing, as nothing is drawn."""
    X, y = X_DIABETES[:100] / X_DIABETES[:100].std(axis=0), (Y_DIABETES[:100] - Y_DIABETES.mean()) / Y_DIABETES.std()
    in_order = cr.mlp([10, 4, 1], seed=0, dtype="float64")
    stepped = cr.mlp([10, 4, 1], seed=0, dtype="float64")
    cr.fit(in_order, X, y, optimizer=cr.SGD(in_order, lr=0.1), epochs=2, batch_size=50, shuffle=False, verbose=0)
    optimizer = cr.SGD(stepped, lr=0.1)
    for rows in [slice(0, 50), slice(50, 100)] * 2:
        cr.fit(stepped, X[rows], y[rows], optimizer=optimizer, epochs=1, batch_size=50, verbose=0)
    for name in in_order.params:
        np.testing.assert_allclose(in_order.params[name], stepped.params[name], rtol=1e-12, atol=1e-15)
    reseeded = cr.mlp([10, 4, 1], seed=0, dtype="float64")
    cr.fit(reseeded, X, y, optimizer=cr.SGD(reseeded, lr=0.1), epochs=2, batch_size=50, shuffle=False, seed=5,
           verbose=0)
    assert same_weights(in_order, reseeded)
    shuffled = cr.mlp([10, 4, 1], seed=0, dtype="float64")
    cr.fit(shuffled, X, y, optimizer=cr.SGD(shuffled, lr=0.1), epochs=2, batch_size=50, verbose=0)
    assert not np.allclose(shuffled.params["0.W"], in_order.params["0.W"], rtol=1e-6)
    # the training summary says how the rows were taken, as it says the seed
    assert (in_order.metadata["training"]["shuffle"], shuffled.metadata["training"]["shuffle"]) == (False, True)


def test_a_given_epoch_order_takes_the_rows_in_that_order():
    """The private _epoch_order (chainrule.sklearn's, which draws scikit-learn's orders) is asked once an epoch for
    the order of the training rows: each epoch here visits them in reverse, as X reversed in order (shuffle=False)."""
    X, y = X_DIABETES[:100] / X_DIABETES[:100].std(axis=0), (Y_DIABETES[:100] - Y_DIABETES.mean()) / Y_DIABETES.std()
    asked = []
    given = cr.mlp([10, 4, 1], seed=0, dtype="float64")
    cr.fit(given, X, y, optimizer=cr.SGD(given, lr=0.1), epochs=2, batch_size=30, verbose=0,
           _epoch_order=lambda n_train: asked.append(n_train) or np.arange(n_train)[::-1])
    reversed_rows = cr.mlp([10, 4, 1], seed=0, dtype="float64")
    cr.fit(reversed_rows, X[::-1], y[::-1], optimizer=cr.SGD(reversed_rows, lr=0.1), epochs=2, batch_size=30,
           shuffle=False, verbose=0)
    assert asked == [100, 100]
    for name in given.params:
        np.testing.assert_allclose(given.params[name], reversed_rows.params[name], rtol=1e-12, atol=1e-15)


def test_a_run_without_shuffle_resumes_as_the_uninterrupted_run_and_refuses_shuffle_true(tmp_path):
    # shuffle was not recorded: resumed with the default, the run drew orders from its Generator after epoch 2,
    # another run than the uninterrupted one, without a word
    checkpoint = tmp_path / "checkpoint.safetensors"
    uninterrupted = iris_model()
    cr.fit(uninterrupted, X_IRIS, Y_IRIS, optimizer="sgd", epochs=4, batch_size=16, shuffle=False, verbose=0)
    cr.fit(iris_model(), X_IRIS, Y_IRIS, optimizer="sgd", epochs=2, batch_size=16, shuffle=False, verbose=0,
           checkpoint=checkpoint)
    assert read(checkpoint)[2]["shuffle"] is False
    with pytest.raises(cr.ModelFileError, match=r"checkpoint.safetensors: shuffle: the checkpoint's run had "
                                                r"shuffle=False, this call shuffle=True; its Generator continues "
                                                r"that run's order of the rows, so pass shuffle=False to resume it"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, optimizer="sgd", epochs=4, batch_size=16, verbose=0, resume=checkpoint)
    resumed = iris_model()
    cr.fit(resumed, X_IRIS, Y_IRIS, optimizer="sgd", epochs=4, batch_size=16, shuffle=False, verbose=0,
           resume=checkpoint)
    assert same_weights(resumed, uninterrupted)


@pytest.mark.parametrize("shuffle", ["no", 0, None, np.array([True])])
def test_a_shuffle_that_is_no_bool_is_refused_naming_shuffle(shuffle):
    with pytest.raises(cr.HyperparameterError, match="shuffle: expected True or False"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, shuffle=shuffle, verbose=0)


def test_checkpoints_are_written_every_n_epochs_and_at_the_end(tmp_path, monkeypatch):
    written = []
    save = fit_module.save_checkpoint

    def recording_save(path, model, optimizer, rng, history, callbacks, epoch, **recorded):
        written.append(epoch)
        save(path, model, optimizer, rng, history, callbacks, epoch, **recorded)

    monkeypatch.setattr(fit_module, "save_checkpoint", recording_save)
    path = tmp_path / "checkpoint.safetensors"
    model = iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, epochs=7, checkpoint=path, checkpoint_every=3, verbose=0)
    assert written == [3, 6, 7]
    saved, _, extra = read(path)
    assert extra["epoch"] == 7
    assert same_weights(saved, model)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.safetensors"]  # no temporary files


def test_a_checkpoint_is_written_when_early_stopping_ends_the_run(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    stopper = cr.EarlyStopping(patience=1, min_delta=1e9, monitor="loss")
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=50, checkpoint=path, checkpoint_every=10, callbacks=[stopper],
           verbose=0)
    assert read(path)[2]["epoch"] == 2


OPTIMIZERS = {
    "sgd_momentum_schedule": lambda model: cr.SGD(model, lr=0.05, momentum=0.9, nesterov=True,
                                                  schedule=cr.StepDecay(7, 0.5)),
    "adam": lambda model: cr.Adam(model, lr=0.02, weight_decay=1e-3),
}


def train(make_optimizer, epochs, **kwargs):
    """One run on iris with validation and early stopping; returns (model, history, optimizer, stopper)."""
    model = iris_model()
    optimizer = make_optimizer(model)
    stopper = cr.EarlyStopping(patience=2, min_delta=1e-3)
    history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=epochs, batch_size=16, validation=0.2,
                     standardize=True, callbacks=[stopper], verbose=0, **kwargs)
    return model, history, optimizer, stopper


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resuming_is_bit_identical_to_an_uninterrupted_run(tmp_path, name):
    make_optimizer = OPTIMIZERS[name]
    model, history, optimizer, stopper = train(make_optimizer, epochs=60)
    assert history.stop_reason == "early_stopping" and history.epochs > 4  # the stopper's state matters
    for cut in (2, history.epochs - 1):
        path = tmp_path / f"cut{cut}.safetensors"
        train(make_optimizer, epochs=cut, checkpoint=path)
        resumed, resumed_history, resumed_optimizer, resumed_stopper = train(make_optimizer, epochs=60, resume=path)
        assert same_weights(resumed, model)
        assert resumed_history.to_json() == history.to_json()
        assert resumed_optimizer.t == optimizer.t
        assert all(np.array_equal(resumed_optimizer.state[k], optimizer.state[k]) for k in optimizer.state)
        assert (resumed_stopper.best, resumed_stopper.best_epoch) == (stopper.best, stopper.best_epoch)


def test_resuming_a_finished_run_trains_no_further(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model = iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, epochs=3, checkpoint=path, verbose=0)
    again = iris_model()
    history = cr.fit(again, X_IRIS, Y_IRIS, epochs=3, resume=path, verbose=0)
    assert history.epochs == 3 and len(history.metrics["loss"]) == 3
    assert same_weights(again, model)


# Bad input -------------------------------------------------------------------------------------

def test_a_batch_larger_than_the_data_is_refused_naming_the_argument_not_the_cli_option():
    """It said 'pass a smaller batch_size', not how small, nor that None takes them all (a Keras user passes
    batch_size=1000 to mean every row, which Keras takes)."""
    with pytest.raises(cr.DataError, match=r"batch_size: 151 is more than the 150 training samples; "
                                           r"pass at most 150, or None for the default \(32, or all the training "
                                           r"rows if fewer\)$"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, batch_size=151, verbose=0)


def test_the_batch_is_checked_against_the_rows_left_after_validation():
    with pytest.raises(cr.DataError, match=r"batch_size: 130 is more than the 120 training samples"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, batch_size=130, validation=0.2, verbose=0)


def test_a_single_class_is_refused():
    with pytest.raises(cr.LabelError, match="at least 2 classes"):
        cr.fit(iris_model(), X_IRIS, np.full(150, "setosa"), verbose=0)


@pytest.mark.parametrize("n_outputs, labels, message", [
    (2, Y_IRIS, r"the model has 2 outputs but y holds 3 classes \(0, 1, 2\)"),
    (4, SPECIES[Y_IRIS], r"the model has 4 outputs but y holds 3 classes \('setosa', 'versicolor', 'virginica'\)"),
])
def test_outputs_that_do_not_match_the_classes_are_refused(n_outputs, labels, message):
    with pytest.raises(cr.LabelError, match=message):
        cr.fit(cr.mlp([4, 8, n_outputs], seed=0), X_IRIS, labels, verbose=0)


def test_a_feature_count_that_differs_from_the_model_names_x_and_its_shape_as_predict_does():
    # it named the first layer and the shape of a probe row, (1, 3), not X's
    for X in (X_IRIS[:, :3], X_IRIS[:, :0]):
        message = rf"^X: the model expects rows of 4 features, got shape \(150, {X.shape[1]}\)$"
        with pytest.raises(cr.ShapeError, match=message):
            cr.fit(iris_model(), X, Y_IRIS, verbose=0)
        with pytest.raises(cr.ShapeError, match=message):
            cr.predict(iris_model(), X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_are_refused_with_their_position(bad):
    X = X_IRIS.copy()
    X[3, 2] = bad
    with pytest.raises(cr.NonFiniteError, match=r"X: expected finite values, found .* at index \(3, 2\)"):
        cr.fit(iris_model(), X, Y_IRIS, verbose=0)


def test_non_finite_validation_features_are_refused():
    X_val = X_IRIS[:10].copy()
    X_val[0, 0] = np.nan
    with pytest.raises(cr.NonFiniteError, match="X_val"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, validation=(X_val, Y_IRIS[:10]), verbose=0)


@pytest.mark.parametrize("validation, error, message", [
    ((X_IRIS[:10, :3], Y_IRIS[:10]), cr.ShapeError, r"X_val: expected 4 features like X, got 3"),
    ((X_IRIS[:10], Y_IRIS[:9]), cr.ShapeError, r"^y_val: expected 10 targets \(one per row of X_val\), got shape \(9,\)$"),
    ((X_IRIS[:10], Y_IRIS[:10] + 5), cr.LabelError, r"y_val\[0\]: label 5 was not among the training classes"),
])
def test_a_bad_validation_pair_is_refused(validation, error, message):
    with pytest.raises(error, match=message):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, validation=validation, verbose=0)


def test_a_validation_fraction_that_leaves_a_class_without_training_rows_is_refused():
    with pytest.raises(cr.DataError, match=r"validation: holding out 0.99 of the 150 rows leaves class 0 without training rows"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, validation=0.99, verbose=0)


def test_a_target_count_that_differs_from_the_rows_is_refused():
    with pytest.raises(cr.ShapeError, match=r"y: expected 150 targets \(one per row of X\), got shape \(149,\)"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS[:-1], verbose=0)


@pytest.mark.parametrize("argument, value", [
    ("epochs", 0), ("epochs", 1.5), ("epochs", True), ("batch_size", 0), ("batch_size", "32"),
    ("checkpoint_every", 0), ("validation", 1.5), ("validation", -0.1), ("validation", True),
    ("validation", (X_IRIS,)), ("seed", -1), ("seed", 1.5), ("seed", True), ("verbose", 3),
    ("verbose", "yes"), ("callbacks", [print]), ("lr", -1.0), ("optimizer", "newton"), ("loss", "hinge"),
])
def test_invalid_arguments_are_refused_with_their_name(argument, value):
    with pytest.raises(cr.HyperparameterError, match=argument):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, **{"verbose": 0, argument: value})


def test_an_optimizer_made_for_another_model_is_refused():
    model = iris_model()
    with pytest.raises(cr.HyperparameterError, match="optimizer: it was made for another model"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.Adam(iris_model()), verbose=0)


def test_a_model_that_is_not_a_layer_is_refused():
    with pytest.raises(cr.HyperparameterError, match="model: expected a chainrule Layer, got list"):
        cr.fit([], X_IRIS, Y_IRIS, verbose=0)


@pytest.mark.parametrize("metadata, found", [(None, "NoneType None"), ([], "list []"), ("notes", "str 'notes'")])
def test_metadata_that_is_not_a_dict_is_refused_before_training(metadata, found):
    """fit trained every epoch, then recording its summary raised a raw TypeError, and the History was lost."""
    model = iris_model()
    model.metadata = metadata
    recorder = WeightRecorder()
    with pytest.raises(cr.HyperparameterError, match=rf"^model.metadata: expected a dict \(fit records its training "
                                                     rf"summary there, cr.save writes it\), got {re.escape(found)}$"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=2, callbacks=[recorder], verbose=0)
    assert recorder.weights == []


def test_bad_input_leaves_the_model_and_the_checkpoint_path_untouched(tmp_path):
    model = iris_model()
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.DataError):
        cr.fit(model, X_IRIS, Y_IRIS, batch_size=1000, checkpoint=tmp_path / "checkpoint.safetensors", verbose=0)
    assert np.array_equal(model.flat_parameters().theta, before)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("callbacks", [cr.EarlyStopping(), {cr.EarlyStopping()}, "early_stopping"])
def test_callbacks_must_be_a_list_or_tuple(callbacks):
    with pytest.raises(cr.HyperparameterError, match=r"callbacks: expected a list or tuple of chainrule Callbacks"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, callbacks=callbacks, verbose=0)


def test_callbacks_none_means_none_as_in_keras():
    model, again = iris_model(), iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, epochs=2, callbacks=None, verbose=0)
    cr.fit(again, X_IRIS, Y_IRIS, epochs=2, callbacks=[], verbose=0)
    assert np.array_equal(model.flat_parameters().theta, again.flat_parameters().theta)


def test_callbacks_may_be_a_tuple():
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, callbacks=(cr.EarlyStopping(),), verbose=0)
    assert history.epochs == 1


@pytest.mark.parametrize("y", [Y_IRIS[:0], Y_IRIS, SPECIES[Y_IRIS][:0]], ids=["empty y", "full y", "empty strings"])
def test_empty_X_is_reported_before_anything_else_as_predict_reports_it(y):
    with pytest.raises(cr.ShapeError, match=r"^X has no rows \(shape \(0, 4\)\); expected at least 1$"):
        cr.fit(iris_model(), X_IRIS[:0], y, verbose=0)


def test_an_empty_validation_set_is_refused():
    with pytest.raises(cr.ShapeError, match=r"^X_val has no rows \(shape \(0, 4\)\); expected at least 1"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, validation=(X_IRIS[:0], Y_IRIS[:0]), verbose=0)


@pytest.mark.parametrize("fraction", [np.float32(0.2), np.float64(0.2), np.float16(0.2)])
def test_a_numpy_fraction_is_taken_like_a_python_float(fraction):
    expected = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, validation=0.2, verbose=0)
    history = cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, validation=fraction, verbose=0)
    assert history.to_json() == expected.to_json()


@pytest.mark.parametrize("y, n_outputs", [(Y_IRIS[::5], 3), (Y_DIABETES[:30], 1)], ids=["classes", "values"])
def test_a_fraction_that_leaves_no_training_row_is_reported_as_validation(y, n_outputs):
    with pytest.raises(cr.DataError, match=r"^validation: holding out 0.99 of the 30 rows leaves 0 for training"):
        cr.fit(cr.mlp([4, n_outputs], seed=0), X_IRIS[::5], y, validation=0.99, verbose=0)


@pytest.mark.parametrize("validation", [False, True])
def test_a_nan_class_label_is_a_non_finite_error_naming_y(validation):
    labels = Y_IRIS.astype(float)
    labels[0] = np.nan
    with pytest.raises(cr.NonFiniteError, match=r"^y: expected finite values, found nan at index \(0,\)"):
        cr.fit(iris_model(), X_IRIS, labels, loss="cross_entropy", validation=0.2 if validation else None, verbose=0)


def test_a_nan_validation_label_is_a_non_finite_error_naming_y_val():
    labels = Y_IRIS[:10].astype(float)
    labels[3] = np.nan
    with pytest.raises(cr.NonFiniteError, match=r"^y_val: expected finite values, found nan at index \(3,\)"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS.astype(float), loss="cross_entropy", validation=(X_IRIS[:10], labels),
               verbose=0)


def test_ragged_targets_are_a_shape_error_naming_y():
    with pytest.raises(cr.ShapeError, match=r"^y: expected a rectangular array of targets"):
        cr.fit(cr.mlp([4, 2], seed=0), X_IRIS[:2], [[1.0, 2.0], [1.0]], verbose=0)


def test_an_optimizer_made_before_the_model_changed_dtype_is_refused():
    model = iris_model()
    optimizer = cr.Adam(model)
    model.astype("float64")
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.DTypeError, match="Adam: the model's parameters are now float64, .*make a new optimizer"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, before)


def test_a_missing_resume_file_is_a_model_file_error_naming_a_checkpoint(tmp_path):
    missing = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.ModelFileError, match=r"checkpoint.safetensors: no such checkpoint file$"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, resume=missing, verbose=0)


@pytest.mark.parametrize("seed", [None, 0])
def test_a_resume_path_is_checked_once(tmp_path, monkeypatch, seed):
    # seed=None checked it in resumed_run_seed, as the run's seed was read, and again before the restore
    from chainrule.training import checkpoint
    fit = importlib.import_module("chainrule.training.fit")  # the module, which chainrule.training's fit hides
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, checkpoint=path, seed=0, verbose=0)
    checked = []
    for module in (checkpoint, fit):
        monkeypatch.setattr(module, "check_checkpoint_path", lambda path: checked.append(path))
    cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=2, resume=path, seed=seed, verbose=0)
    assert checked == [path]


# -- float one-hot targets without a loss (Keras's to_categorical) -----------------------------
ONE_HOT_IRIS = np.eye(3)[Y_IRIS]


def test_float_one_hot_targets_without_a_loss_warn_that_they_train_mse():
    with pytest.warns(cr.OneHotTargetsWarning, match="one-hot over the 3 outputs.*MSE.*loss='cross_entropy'") as caught:
        history = cr.fit(iris_model(), X_IRIS, ONE_HOT_IRIS, epochs=1, verbose=0)
    assert caught[0].filename == __file__  # points at the fit call, not inside chainrule
    assert "r2" in history  # the warning changes nothing: still regression


@pytest.mark.parametrize("y, loss", [
    (ONE_HOT_IRIS, "cross_entropy"),  # the loss was chosen: nothing to warn about
    (ONE_HOT_IRIS, "mse"),
    (Y_IRIS, None),  # class indices
    (np.full((150, 3), 1 / 3), None),  # soft targets are not one-hot
    (np.eye(3)[Y_IRIS][:, :2], None),  # rows narrower than the outputs fail with a ShapeError instead
])
def test_no_one_hot_warning_otherwise(y, loss):
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.OneHotTargetsWarning)
        try:
            cr.fit(iris_model(), X_IRIS, y, loss=loss, epochs=1, verbose=0)
        except cr.ShapeError:
            assert y.shape[1] == 2


# -- a model ending in the activation its loss applies -------------------------------------------
class SubclassedCrossEntropy(cr.SoftmaxCrossEntropy):
    """A user's loss built on the softmax cross-entropy: it takes logits too."""


@pytest.mark.parametrize("model, y, loss, activation", [
    (cr.mlp([4, 8, 3], output_activation="softmax", seed=0), Y_IRIS, None, "Softmax"),
    (cr.Sequential(cr.Linear(4, 3), cr.Sequential(cr.Linear(3, 3), cr.Softmax()), seed=0), Y_IRIS, None, "Softmax"),
    (cr.mlp([4, 8, 2], output_activation="sigmoid", seed=0), np.eye(2)[Y_IRIS % 2], "binary_cross_entropy", "Sigmoid"),
    (cr.mlp([4, 8, 2], output_activation="sigmoid", seed=0), Y_IRIS % 2, None, "Sigmoid"),  # labels 0/1, Keras style
    (cr.Sequential(cr.Linear(4, 3), cr.Softmax(), cr.Identity(), seed=0), Y_IRIS, None, "Softmax"),
    (cr.mlp([4, 8, 3], output_activation="softmax", seed=0), Y_IRIS, SubclassedCrossEntropy(), "Softmax"),
], ids=["softmax", "nested softmax", "sigmoid", "sigmoid before softmax", "identity after", "a loss subclass"])
def test_a_last_activation_the_loss_applies_itself_warns(model, y, loss, activation):
    with pytest.warns(cr.OutputActivationWarning, match=f"last layer is a {activation}.*squashed twice") as caught:
        cr.fit(model, X_IRIS, y, loss=loss, epochs=1, verbose=0)
    assert caught[0].filename == __file__


@pytest.mark.parametrize("model, y, loss", [
    (cr.mlp([4, 8, 3], seed=0), Y_IRIS, None),  # logits
    (cr.mlp([4, 8, 1], output_activation="sigmoid", seed=0), (Y_IRIS % 2).astype(float), None),  # sigmoid + MSE
    (cr.mlp([4, 8, 3], output_activation="softmax", seed=0), ONE_HOT_IRIS, "mse"),
    (cr.Residual(cr.Sequential(cr.Linear(4, 4), cr.Softmax())), (Y_IRIS % 4), None),  # ends in the sum
])
def test_no_output_activation_warning_otherwise(model, y, loss):
    model.initialize(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.OutputActivationWarning)
        cr.fit(model, X_IRIS, y, loss=loss, epochs=1, verbose=0)


# -- a column of labels (n_samples, 1) ------------------------------------------------------------
@pytest.mark.parametrize("labels", [Y_IRIS, SPECIES[Y_IRIS], SPECIES[Y_IRIS].astype(object)],
                         ids=["integers", "strings", "objects"])
def test_a_column_of_labels_trains_as_the_label_vector(labels):
    as_vector, as_column = cr.mlp([4, 8, 3], seed=0), cr.mlp([4, 8, 3], seed=0)
    expected = cr.fit(as_vector, X_IRIS, labels, epochs=3, verbose=0, validation=(X_IRIS, labels))
    history = cr.fit(as_column, X_IRIS, labels.reshape(-1, 1), epochs=3, verbose=0,
                     validation=(X_IRIS, labels.reshape(-1, 1)))
    assert history.metrics == expected.metrics
    assert np.array_equal(as_vector.flat_parameters().theta, as_column.flat_parameters().theta)
    assert as_column.preprocessor.classes == as_vector.preprocessor.classes


def test_a_column_of_bool_labels_trains_as_the_label_vector():
    labels = Y_IRIS == 0
    model = cr.mlp([4, 8, 2], seed=0)
    cr.fit(model, X_IRIS, labels.reshape(-1, 1), epochs=1, verbose=0)
    assert model.preprocessor.classes == [False, True]


def test_a_float_column_stays_regression_targets():
    model = cr.mlp([4, 8, 1], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS.astype(float).reshape(-1, 1), epochs=1, verbose=0)
    assert model.preprocessor.task == "regression"


def test_a_float_column_refused_by_a_classification_loss_suggests_ravel():
    with pytest.raises(cr.ShapeError, match=r"^y: SoftmaxCrossEntropy: .* got shape \(150, 1\); .*pass y\.ravel\(\)"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS.astype(float).reshape(-1, 1), loss="cross_entropy",
               epochs=1, verbose=0)
    with pytest.raises(cr.ShapeError, match=r"^y_val: SoftmaxCrossEntropy: .*pass y_val\.ravel\(\)"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, loss="cross_entropy", epochs=1, verbose=0,
               validation=(X_IRIS, Y_IRIS.astype(float).reshape(-1, 1)))


def test_a_value_whose_square_overflows_is_standardized_without_warnings():
    X = np.random.default_rng(0).normal(size=(40, 3))
    X[1, 1] = 1e300
    model = cr.mlp([3, 4, 2], seed=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy "overflow encountered in square"
        history = cr.fit(model, X, np.arange(40) % 2, epochs=2, standardize=True, verbose=0)
    assert 1e299 < model.preprocessor.scale[1] < 1e300  # the true deviation, not the scale 1 of a constant
    assert history.metrics["loss"][-1] < 10


def test_ctrl_c_mid_epoch_marks_the_last_epoch_partial(monkeypatch):
    run_epoch = Loop.run_epoch

    def sigint_at_epoch_2(loop, number, bar):
        if number == 2:
            os.kill(os.getpid(), signal.SIGINT)  # handled after the epoch's first batch
        return run_epoch(loop, number, bar)

    monkeypatch.setattr(Loop, "run_epoch", sigint_at_epoch_2)
    history = cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=5, batch_size=16, verbose=0)
    assert (history.stop_reason, history.epochs, history.partial_last_epoch) == ("interrupted", 2, True)
    assert history.complete_epochs == 1 and len(history["loss"]) == 2


def test_the_default_batch_size_is_32_or_every_training_row_when_fewer():
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS[::15], Y_IRIS[::15], epochs=2, verbose=0)  # 10 rows: one batch of 10
    assert model.metadata["training"]["batch_size"] == 10
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS[::15], Y_IRIS[::15], epochs=1, validation=0.3, verbose=0)  # 3 held out
    assert model.metadata["training"]["batch_size"] == 7
    by_default, given = cr.mlp([4, 8, 3], seed=0), cr.mlp([4, 8, 3], seed=0)
    cr.fit(by_default, X_IRIS, Y_IRIS, epochs=2, verbose=0)
    cr.fit(given, X_IRIS, Y_IRIS, epochs=2, batch_size=32, verbose=0)
    assert by_default.metadata["training"]["batch_size"] == 32
    assert all(np.array_equal(by_default.params[name], given.params[name]) for name in given.params)


def test_a_custom_backward_that_rebinds_its_gradient_is_refused_by_name():
    """cr.fit steps from the model's flat gradient buffer; a backward that assigns a new array
    to own_grads instead of writing into it would train on stale gradients, silently."""
    X = np.random.default_rng(0).normal(size=(32, 4))
    model = cr.Sequential(cr.Linear(4, 4, dtype="float64"), Rebinding(4, dtype="float64"),
                          cr.Linear(4, 3, dtype="float64"), seed=0)
    with pytest.raises(cr.StateError, match=r"layer '1' \(Rebinding\): own_grads\['a'\] was replaced by a new array"):
        cr.fit(model, X, np.arange(32) % 3, optimizer="sgd", lr=0.1, epochs=2, batch_size=16, verbose=0)


# -- checkpoint and resume paths ------------------------------------------------------------------
@pytest.mark.parametrize("argument", ["checkpoint", "resume"])
@pytest.mark.parametrize("path", [5, True, b"run.safetensors"])
def test_a_checkpoint_or_resume_path_that_is_no_path_is_refused_before_training(argument, path):
    model = iris_model()
    before = model.params["0.W"].copy()
    with pytest.raises(cr.HyperparameterError, match=rf"^{argument}: expected a file path \(str or os.PathLike\), got "):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, **{argument: path})
    np.testing.assert_array_equal(model.params["0.W"], before)  # refused before the first epoch


@pytest.mark.parametrize("path, found", [("run/", "a file name, got 'run/', which names a directory"),
                                         ("run\0.ckpt", r"a file path, got 'run\\x00.ckpt', which holds a NUL byte")])
def test_a_checkpoint_path_naming_a_directory_or_holding_a_nul_byte_is_refused_before_training(tmp_path, monkeypatch,
                                                                                           path, found):
    monkeypatch.chdir(tmp_path)
    model = iris_model()
    before = model.params["0.W"].copy()
    with pytest.raises(cr.HyperparameterError, match=rf"^checkpoint: expected {found}"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=path)
    np.testing.assert_array_equal(model.params["0.W"], before)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_checkpoint_file_is_refused_before_training(tmp_path, monkeypatch):
    """It was replaced at the first checkpoint; os.access is made to say what it says to a plain user."""
    (tmp_path / "run.ckpt").write_bytes(b"keep me")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    model = iris_model()
    before = model.params["0.W"].copy()
    with pytest.raises(cr.ModelFileError, match=r"^checkpoint: .*run.ckpt: cannot write: the file is read-only"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=tmp_path / "run.ckpt")
    np.testing.assert_array_equal(model.params["0.W"], before)
    assert (tmp_path / "run.ckpt").read_bytes() == b"keep me"


@pytest.mark.parametrize("validation", [None, 0.25])
def test_standardizing_each_batch_trains_as_the_standardized_copy_does(monkeypatch, validation):
    # An X above STANDARDIZED_COPY_BYTES is standardized a batch at a time: the same θ and history, bit for bit.
    rng = np.random.default_rng(3)
    X, y = rng.normal(loc=5, scale=[1, 10, 100, 0.1], size=(90, 4)), rng.integers(0, 3, size=90)

    def trained():
        model = cr.mlp([4, 6, 3], seed=0)
        history = cr.fit(model, X, y, standardize=True, validation=validation, epochs=3, batch_size=16, verbose=0)
        return model.flat_parameters().theta.copy(), history.history

    copied = trained()
    monkeypatch.setattr(sys.modules["chainrule.training.fit"], "STANDARDIZED_COPY_BYTES", 0)
    batched = trained()
    np.testing.assert_array_equal(batched[0], copied[0])
    assert batched[1] == copied[1]


@pytest.mark.parametrize("standardize, copy_limit", [(False, None), (True, None), (True, 0)])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_held_out_fraction_trains_as_its_rows_given_apart(monkeypatch, standardize, copy_limit, weighted):
    # fit gathers the training rows from X by index (no copy of them): the same θ and history,
    # bit for bit, as the copy of those rows given with the held-out ones as the validation set.
    from chainrule.training.prepare import split_validation

    if copy_limit is not None:  # each batch standardized as it is gathered
        monkeypatch.setattr(sys.modules["chainrule.training.fit"], "STANDARDIZED_COPY_BYTES", copy_limit)
    rng = np.random.default_rng(4)
    X, y = rng.normal(loc=5, scale=[1, 10, 100, 0.1], size=(90, 4)).astype(np.float32), rng.integers(0, 3, size=90)
    w = rng.uniform(0.5, 2, size=90) if weighted else None
    row_indices = np.arange(90.0)[:, None]
    train, _, _, held, _, _ = split_validation(row_indices, y, None, 0.25, cr.SoftmaxCrossEntropy(), np.float64,
                                               np.random.SeedSequence(11).spawn(2)[0])  # as fit(seed=11) draws it
    held = held[:, 0].astype(int)

    def trained(X, y, w, validation):
        model = cr.mlp([4, 6, 3], seed=0)
        history = cr.fit(model, X, y, sample_weight=w, standardize=standardize, validation=validation, epochs=3,
                         batch_size=16, seed=11, verbose=0)
        return model.flat_parameters().theta.copy(), history.history, model.preprocessor.mean

    by_index = trained(X, y, w, 0.25)
    apart = trained(X[train], y[train], None if w is None else w[train],
                    (X[held], y[held]) if w is None else (X[held], y[held], w[held]))
    np.testing.assert_array_equal(by_index[0], apart[0])
    assert by_index[1] == apart[1]
    assert (by_index[2] is None) == (not standardize)
    if standardize:
        assert by_index[2].tobytes() == apart[2].tobytes()


@pytest.mark.parametrize("copy_limit", [None, 0])
@pytest.mark.parametrize("validation", [None, 0.25])
@pytest.mark.parametrize("given", ["float64", "int64", "frame"])
def test_standardization_reads_the_rows_in_their_own_precision(monkeypatch, copy_limit, validation, given):
    # Seconds since 1970 (1.7e9, ± 100 s): float32 holds them to within 64, so a cast before
    # standardizing would leave the column mostly rounding. The statistics and z = (x − μ)/σ
    # are computed from the rows as given, in float64; the network trains on z rounded once to
    # float32, bit for bit as on those values given unstandardized, and predicts alike.
    if copy_limit is not None:  # each batch standardized as it is gathered
        monkeypatch.setattr(sys.modules["chainrule.training.fit"], "STANDARDIZED_COPY_BYTES", copy_limit)
    rng = np.random.default_rng(5)
    X = np.c_[np.round(1.7e9 + rng.normal(size=120) * 100), rng.normal(size=120) * 5]
    y = (X[:, 0] > 1.7e9).astype(int)
    X_given = {"float64": X, "int64": np.round(X).astype(np.int64)}.get(given)
    if given == "frame":  # columns of two dtypes: read in their common one, float64
        pd = pytest.importorskip("pandas")
        X_given = pd.DataFrame({"seconds": X[:, 0].astype(np.int64), "offset": X[:, 1].astype(np.float32)})
    X_rows = np.ascontiguousarray(X_given, dtype=np.float64)

    def trained(X, standardize):
        model = cr.mlp([2, 6, 2], seed=0)
        history = cr.fit(model, X, y, standardize=standardize, validation=validation, epochs=3, batch_size=16, seed=3,
                         verbose=0)
        return model, history.history

    model, history = trained(X_given, True)
    mean, scale = model.preprocessor.mean, model.preprocessor.scale
    if validation is None:
        assert mean.tobytes() == X_rows.mean(axis=0).tobytes() and scale.tobytes() == X_rows.std(axis=0).tobytes()
    Z = ((X_rows - mean) / scale).astype(np.float32)
    apart, apart_history = trained(Z, False)
    np.testing.assert_array_equal(model.flat_parameters().theta, apart.flat_parameters().theta)
    assert history == apart_history
    np.testing.assert_array_equal(cr.predict_proba(model, X_given), cr.predict_proba(apart, Z))


def test_the_training_summary_records_the_seed_and_the_device():
    model = iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, seed=7, verbose=0)
    summary = model.metadata["training"]
    assert (summary["seed"], summary["device"], summary["cuda_graph"]) == (7, "cpu", False)


# Standardized regression targets ------------------------------------------------------------

FAR = Y_DIABETES + 1e6  # diabetes' targets, far from 0: the network cannot learn them as they are


def far_fit(standardize_targets, epochs: int = 40, **kwargs):
    model = cr.mlp([10, 8, 1], seed=0)
    history = cr.fit(model, X_DIABETES[:350], FAR[:350], epochs=epochs, standardize=True,
                     standardize_targets=standardize_targets, verbose=0, **kwargs)
    return model, history


def test_standardized_targets_learn_targets_far_from_zero():
    standardized, _ = far_fit(True)
    raw, _ = far_fit(None)
    X_test, y_test = X_DIABETES[350:], FAR[350:]
    assert cr.evaluate(standardized, X_test, y_test)["r2"] > 0.3
    assert cr.evaluate(raw, X_test, y_test)["r2"] < -1e6
    predictions = cr.predict(standardized, X_test)
    assert predictions.dtype == np.float64 and abs(predictions.mean() - y_test.mean()) < 30  # in y's units


def test_the_targets_statistics_come_from_the_training_rows_only():
    # A validation set 1e4 higher would move the mean by about 2,000 if its rows counted.
    model, _ = far_fit(True, epochs=1, validation=(X_DIABETES[350:], FAR[350:] + 1e4))
    assert model.preprocessor.target_mean.shape == model.preprocessor.target_scale.shape == (1,)
    assert model.preprocessor.target_mean[0] == pytest.approx(FAR[:350].mean(), rel=1e-12)
    assert model.preprocessor.target_scale[0] == pytest.approx(FAR[:350].std(), rel=1e-9)


def test_standardized_targets_report_mae_in_the_targets_units_and_r2_unchanged():
    X_val, y_val = X_DIABETES[350:], FAR[350:]
    model, history = far_fit(True, validation=(X_val, y_val))
    errors = y_val - cr.predict(model, X_val)
    assert history.metrics["val_mae"][-1] == pytest.approx(np.abs(errors).mean(), rel=1e-6)
    r2 = 1 - (errors ** 2).sum() / ((y_val - y_val.mean()) ** 2).sum()
    assert history.metrics["val_r2"][-1] == pytest.approx(r2, rel=1e-6)
    assert history.metrics["mae"][-1] > 10  # y's units (its deviation is 77), not the standardized ones
    assert history.metrics["loss"][-1] < 1  # the loss of the standardized targets


TINY_SPREAD = np.random.default_rng(0).normal(size=20) * 1e-30  # targets of spread 1e-30: σ_y = 1e-30


BEYOND_FLOAT32 = (r"1e\+10, standardized, \(y − mean\) / scale = [\d.]+e\+\d+, is beyond float32's range: it lies "
                  r"far outside the training targets \(mean .*, scale .*\); check it, or train in float64$")


@pytest.mark.parametrize("y_val, index", [(np.array([0.0, 0.0, 1e10, 0.0]), "2"),
                                          (np.array([[0.0], [0.0], [1e10], [0.0]]), r"\(2, 0\)")])
def test_a_validation_target_standardized_beyond_the_dtype_is_named_before_training(y_val, index):
    # It trained, and val_loss and val_mae were inf: 1e10 standardized with σ_y = 1e-30 is 1e40, beyond float32
    model = cr.mlp([10, 3, 1], seed=0)
    with pytest.raises(cr.NonFiniteError, match=rf"^y_val: the target at index {index}, {BEYOND_FLOAT32}"):
        cr.fit(model, X_DIABETES[:20], TINY_SPREAD, epochs=1, validation=(np.zeros((4, 10)), y_val),
               standardize_targets=True, verbose=0)
    assert model.preprocessor is None  # refused before training


def test_a_held_out_target_standardized_beyond_the_dtype_is_named_as_y_val():
    from chainrule.training.prepare import split_validation

    _, _, _, held, _, _ = split_validation(np.arange(20.0)[:, None], TINY_SPREAD, None, 0.2, cr.MSE(), np.float64,
                                           np.random.SeedSequence(0).spawn(2)[0])  # as fit(seed=0) holds out
    y = TINY_SPREAD.copy()
    y[int(held[1, 0])] = 1e10
    with pytest.raises(cr.NonFiniteError, match=rf"^y_val: the target at index 1, {BEYOND_FLOAT32}"):
        cr.fit(cr.mlp([10, 3, 1], seed=0), X_DIABETES[:20], y, epochs=1, validation=0.2, standardize_targets=True,
               verbose=0)


def test_a_validation_target_standardized_within_float64_trains_in_float64():
    # the same target fits float64 standardized: the check is against the model's dtype
    model = cr.mlp([10, 3, 1], seed=0, dtype="float64")
    history = cr.fit(model, X_DIABETES[:20], TINY_SPREAD, epochs=1, standardize_targets=True, verbose=0,
                     validation=(np.zeros((1, 10)), np.array([1e10])))
    assert math.isfinite(history.metrics["val_loss"][0])


def test_fit_without_standardize_targets_trains_as_with_false():
    assert same_weights(far_fit(None, epochs=2)[0], far_fit(False, epochs=2)[0])
    assert far_fit(None, epochs=1)[0].preprocessor.target_mean is None


def test_a_later_fit_keeps_the_targets_standardization():
    model, _ = far_fit(True, epochs=1)
    mean, scale = model.preprocessor.target_mean.copy(), model.preprocessor.target_scale.copy()
    cr.fit(model, X_DIABETES[350:], FAR[350:] + 500, epochs=1, verbose=0)  # None follows the preprocessor
    assert np.array_equal(model.preprocessor.target_mean, mean)
    assert np.array_equal(model.preprocessor.target_scale, scale)


@pytest.mark.parametrize("first, then, does", [(True, False, "standardizes its targets"),
                                               (None, True, "does not standardize its targets")])
def test_a_later_fit_that_contradicts_the_targets_standardization_is_refused(first, then, does):
    model, _ = far_fit(first, epochs=1)
    with pytest.raises(cr.HyperparameterError, match=f"standardize_targets={then}: the model's preprocessor {does}"):
        cr.fit(model, X_DIABETES, FAR, epochs=1, standardize_targets=then, verbose=0)


def test_standardize_targets_is_refused_for_classification():
    with pytest.raises(cr.HyperparameterError, match="standardize_targets=True: only regression targets"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, standardize_targets=True, verbose=0)


def _string_dtype_array(y):
    string_dtype = getattr(getattr(np, "dtypes", None), "StringDType", None)
    if string_dtype is None:
        pytest.skip("NumPy before 2.0 has no StringDType")
    return np.array(y, dtype=string_dtype())


@pytest.mark.parametrize("as_given", [np.array, list, lambda y: __import__("pandas").Series(y), _string_dtype_array])
def test_standardize_targets_on_text_targets_written_with_commas_is_told_they_are_numbers(as_given):
    """'1,000,000' targets (a CSV file read without thousands=',') said only that the loss trains for classification,
    where chainrule train's --loss mse is told the number and the line that converts the file. NumPy 2's StringDType
    (kind T, which cr.fit trains as classes) was told nothing of the numbers."""
    y = ["1,000,000", "2,000,000", "3,500,000"] * 50
    with pytest.raises(cr.HyperparameterError, match=re.escape(
            "standardize_targets=True: only regression targets are standardized, but SoftmaxCrossEntropy trains for "
            "classification (y holds text: '1,000,000', which looks like the number 1000000 written with commas "
            "between thousands; chainrule reads numbers without separators: convert the file, e.g. with pandas: "
            "pandas.read_csv(path, thousands=',').to_csv('converted.csv', index=False)); pass standardize_targets=None "
            "or False") + "$"):
        cr.fit(iris_model(), X_IRIS, as_given(y), epochs=1, standardize_targets=True, verbose=0)


def test_standardize_targets_must_be_a_bool_or_none():
    with pytest.raises(cr.HyperparameterError, match="standardize_targets: expected None, True or False"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, standardize_targets="yes", verbose=0)


def test_lr_beside_an_optimizer_object_is_refused_rather_than_ignored():
    model = iris_model()
    optimizer = cr.SGD(model, lr=0.01)
    with pytest.raises(cr.HyperparameterError,
                       match=r"^lr: the optimizer given has its own hyperparameters, SGD\(lr=0\.01, .*; pass lr "):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, lr=0.5, epochs=1, verbose=0)
    assert optimizer.lr == 0.01


@pytest.mark.parametrize("keyword, value, meant", [
    ("validation_split", 0.1, r"validation=0\.1 \(the fraction held out\)"),  # Keras
    ("validation_data", (X_IRIS, Y_IRIS), r"validation=\(X_val, y_val\) or \(X_val, y_val, w_val\)"),  # Keras
    ("learning_rate", 0.01, "'lr'"),  # Keras
    ("max_iter", 5, "'epochs'"),  # scikit-learn
    ("random_state", 0, "'seed'"),  # scikit-learn
    ("batchsize", 16, "'batch_size'"),  # a typo
])
def test_another_librarys_keyword_is_refused_naming_chainrules_argument(keyword, value, meant):
    # it was Python's TypeError "fit() got an unexpected keyword argument 'validation_split'", which names no
    # argument to use instead
    model = iris_model()
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.HyperparameterError, match=rf"^{keyword}: not an argument of fit; it takes sample_weight, "
                                                     rf"class_weight, .*, graph \(did you mean {meant}\?\)$"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, **{keyword: value})
    assert np.array_equal(model.flat_parameters().theta, before)  # nothing trained


def test_a_keyword_unlike_any_argument_is_refused_without_a_suggestion():
    with pytest.raises(cr.HyperparameterError, match=r"^frobnicate: not an argument of fit; it takes .*, graph$"):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, frobnicate=1)
    with pytest.raises(cr.HyperparameterError, match=r"^'a b': not an argument of fit"):  # no identifier: quoted
        cr.fit(iris_model(), X_IRIS, Y_IRIS, **{"a b": 1})


def test_fit_keeps_its_signature_and_docstring_for_help_and_doctests():
    assert list(inspect.signature(cr.fit).parameters)[:4] == ["model", "X", "y", "sample_weight"]
    assert cr.fit.__doc__.startswith("Train ``model`` on (X, y) and return its History.")


@pytest.mark.parametrize("where, reason", [("missing/run.safetensors", "directory .* does not exist"),
                                           (".", "it is a directory, not a file")])
def test_a_checkpoint_path_that_cannot_be_written_is_refused_before_training(tmp_path, where, reason):
    model = iris_model()
    before = model.params["0.W"].copy()
    with pytest.raises(cr.ModelFileError, match=rf"^checkpoint: .*cannot write \({reason}\)"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=tmp_path / where)
    np.testing.assert_array_equal(model.params["0.W"], before)  # refused before the first epoch
    assert model.preprocessor is None


@pytest.mark.parametrize("seed, hint", [(-1, ""), (1.5, ""), (True, ""),
                                        (np.random.default_rng(0), "; fit takes no Generator, since checkpoints")])
def test_a_seed_that_is_no_non_negative_int_is_refused_naming_seed(seed, hint):
    with pytest.raises(cr.HyperparameterError, match=r"^seed: expected None or an int from 0 to 2\*\*128 - 1, "
                                                     r"got .*" + re.escape(hint)):
        cr.fit(iris_model(), X_IRIS, Y_IRIS, epochs=1, verbose=0, seed=seed)


@pytest.mark.parametrize("seed, shown", [(2**128, str(2**128)), (10**5000, "<an int of 16,610 bits>")],
                         ids=["2**128", "10**5000"])
def test_a_seed_too_large_to_record_is_refused_before_training(seed, shown):
    # it trained, and then the model could not be saved: the training summary records the seed as JSON text,
    # and Python writes an int of more than 4300 digits as none
    model = iris_model()
    before = model.params["0.W"].copy()
    with pytest.raises(cr.HyperparameterError, match=rf"^seed: expected None or an int from 0 to 2\*\*128 - 1, "
                                                     rf"got {re.escape(shown)}$"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, seed=seed)
    np.testing.assert_array_equal(model.params["0.W"], before)


def test_the_largest_seed_trains_and_is_saved(tmp_path):
    model = iris_model()
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0, seed=2**128 - 1)
    cr.save(model, tmp_path / "m.safetensors")
    assert cr.load(tmp_path / "m.safetensors").metadata["training"]["seed"] == 2**128 - 1


class RowSum(cr.Layer):
    """A custom layer whose forward returns a vector (n_samples,), not a matrix (n_samples, 1): X weighted by
    its parameter w, summed along each row (a parameter, as fit refuses a model without any)."""

    def __init__(self, width):
        super().__init__()
        self.own_params["w"] = np.ones(width, np.float32)
        self.own_grads["w"] = np.zeros(width, np.float32)

    def forward(self, X):
        return X @ self.own_params["w"]

    def backward(self, dY, input_grad=True):
        return dY


@pytest.mark.parametrize("model, name", [
    (cr.Sequential(cr.Linear(4, 3), RowSum(3), cr.Tanh()), r"layer '1' \(RowSum\)"),
    (RowSum(4), r"model \(RowSum\)"),
])
def test_a_forward_that_returns_no_matrix_is_refused_naming_the_layer(model, name):
    with pytest.raises(cr.ShapeError, match=rf"^{name}: forward returned shape \(1,\) for one row of X; expected "
                                            r"\(n_samples, n_outputs\), here \(1, n_outputs\)"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)


class Swish64(cr.Layer):
    """x σ(x) computed in float64: float32 in, float64 out.

    As a user may write it on NumPy 2, where a NumPy float64 number (``np.exp(0.0) / (1 + np.exp(-X))``) does this;
    NumPy 1 kept float32 there (value-based casting), so the upcast is spelled out to make the same layer on both.
    """

    def forward(self, X):
        self._S = 1 / (1 + np.exp(-X.astype(np.float64)))
        self._X = X
        return X * self._S

    def backward(self, dY, input_grad=True):
        return dY * (self._S + self._X * self._S * (1 - self._S)) if input_grad else None


@pytest.mark.parametrize("model, name", [
    (cr.Sequential(cr.Linear(4, 5), Swish64(), cr.Linear(5, 3), seed=0), r"layer '1' \(Swish64\)"),
    (cr.Sequential(cr.Sequential(cr.Linear(4, 5), Swish64()), cr.Linear(5, 3), seed=0), r"layer '0.1' \(Swish64\)"),
    (cr.Sequential(Swish64(), cr.Linear(4, 3), seed=0), r"layer '0' \(Swish64\)"),
])
def test_a_forward_that_changes_the_dtype_is_refused_naming_the_layer(model, name):
    """Below a Linear, the first step failed with a DTypeError naming that Linear ('dY must have the dtype of the
    last forward's output ... convert it'); as the first layer, the whole network trained in float64."""
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.DTypeError, match=rf"^{name}: forward returned float64 for input of float32; a layer's "
                                            r"forward returns its input's dtype, in which the model computes and "
                                            r"trains; "
                                            r"NumPy's float64 numbers \(np.sqrt\(2 / np.pi\), np.float64\(0.5\)\) "
                                            r"make a float32 array float64"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, before)


class ArrayValue(cr.SoftmaxCrossEntropy):
    """SoftmaxCrossEntropy whose compute returns L as a 1-element array."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return np.array([value]), dY


class NoValue(cr.MSE):
    """MSE whose compute returns None for L."""

    def compute(self, Y, T, weights=None):
        return None, super().compute(Y, T, weights)[1]


class ComplexValue(cr.SoftmaxCrossEntropy):
    """SoftmaxCrossEntropy whose compute returns L as a NumPy complex number (shape (), not real)."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return np.complex128(value), dY


class TextValue(cr.SoftmaxCrossEntropy):
    """SoftmaxCrossEntropy whose compute returns L as a 0-d array of text."""

    def compute(self, Y, T, weights=None):
        value, dY = super().compute(Y, T, weights)
        return np.array(str(value)), dY


@pytest.mark.parametrize("loss, X, y, error, given", [
    (ArrayValue(), X_IRIS, Y_IRIS, cr.ShapeError, r"L of shape \(1,\)"),
    (RowValues(), X_DIABETES, Y_DIABETES, cr.ShapeError, r"L of shape \(32,\)"),
    (NoValue(), X_DIABETES, Y_DIABETES, cr.DTypeError, "L as NoneType"),
    (ComplexValue(), X_IRIS, Y_IRIS, cr.DTypeError, "L as complex128"),
    (TextValue(), X_IRIS, Y_IRIS, cr.DTypeError, r"L as ndarray of dtype <U\d+"),
])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.filterwarnings("ignore:Casting complex values to real discards")  # the complex L, on its way to the error
def test_a_loss_value_that_is_not_a_scalar_is_refused_naming_the_loss(loss, X, y, error, given, weighted):
    model = cr.mlp([X.shape[1], 4, 3 if y is Y_IRIS else 1], seed=0)
    weights = np.ones(len(X)) if weighted else None
    with pytest.raises(error, match=rf"^loss: {type(loss).__name__}\.compute returned {given}; expected a scalar, "
                                    r"the batch's mean loss \(a float or a 0-d array\)"):
        cr.fit(model, X, y, loss=loss, epochs=1, batch_size=32, sample_weight=weights, verbose=0)


class Huber(cr.MSE):
    """MSE under another class name: a loss of one's own, as far as the checkpoint can tell."""


class Pseudo(cr.MSE):
    """Another loss of one's own beside Huber (a sibling: neither is the other's subclass or base)."""


def test_resuming_a_run_with_another_loss_is_refused_naming_loss(tmp_path):
    """A Huber run resumed with another loss used to go on without a word, mixing two losses in one series."""
    X, y = load_diabetes(return_X_y=True)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([10, 4, 1], seed=0), X, y, loss=Huber(), epochs=1, verbose=0, standardize=True,
           standardize_targets=True, checkpoint=path)
    assert read(path)[2]["loss"] == ["Huber", "MSE"]
    with pytest.raises(cr.ModelFileError, match=r"checkpoint.safetensors: loss: the checkpoint's run trained with "
                                                r"'Huber', this call with 'Pseudo'"):
        cr.fit(cr.mlp([10, 4, 1], seed=0), X, y, loss=Pseudo(), epochs=2, verbose=0, standardize=True,
               standardize_targets=True, resume=path)
    history = cr.fit(cr.mlp([10, 4, 1], seed=0), X, y, loss=Huber(), epochs=2, verbose=0, standardize=True,
                     standardize_targets=True, resume=path)
    assert history.epochs == 2


@pytest.mark.parametrize("call", [
    lambda: cr.fit(cr.mlp([4, 3, 3], seed=0), X_IRIS, None, verbose=0),
    lambda: cr.evaluate(cr.mlp([4, 3, 3], seed=0), X_IRIS, None),
])
def test_targets_of_none_are_named_as_missing_altogether(call):
    # was "y: expected a label or target in every row, found a missing value (None) at index ()"
    with pytest.raises(cr.ShapeError, match=r"^y: expected the targets, one per row of X \(labels or values\), got "
                                            r"None$"):
        call()
