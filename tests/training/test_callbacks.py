"""chainrule.training.callbacks: the hooks fit calls, and EarlyStopping's decisions and state."""

import inspect
import json
import math
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.training.callbacks import check_hooks

X_IRIS, Y_IRIS = load_iris(return_X_y=True)


class Recorder(cr.Callback):
    """Writes down every hook call; asks to stop at ``stop_at``."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def on_train_begin(self, model, history):
        self.calls.append(("begin", history.epochs))

    def on_epoch_end(self, epoch, logs, model):
        self.calls.append(("epoch", epoch, sorted(logs)))
        return epoch == self.stop_at

    def on_train_end(self, model, history):
        self.calls.append(("end", history.epochs, history.stop_reason))


def feed(stopper, values, monitor_name):
    """Call on_epoch_end with ``values`` of ``monitor_name``; the epochs at which it said stop."""
    model = cr.mlp([2, 2], seed=0)
    return [epoch for epoch, value in enumerate(values, start=1)
            if stopper.on_epoch_end(epoch, {monitor_name: value}, model)]


def test_fit_calls_the_hooks_in_order():
    recorder = Recorder()
    cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, validation=0.2, callbacks=[recorder], verbose=0)
    metrics = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert recorder.calls == [("begin", 0), ("epoch", 1, metrics), ("epoch", 2, metrics), ("epoch", 3, metrics),
                              ("end", 3, "completed")]


def test_a_callback_that_returns_true_stops_training():
    recorder, other = Recorder(stop_at=2), Recorder()
    history = cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=10, callbacks=[recorder, other], verbose=0)
    assert (history.epochs, history.stop_reason) == (2, "early_stopping")
    assert [call[0] for call in other.calls] == ["begin", "epoch", "epoch", "end"]  # every callback sees each epoch


def test_the_base_callback_does_nothing_and_has_no_state():
    callback = cr.Callback()
    assert callback.on_epoch_end(1, {"loss": 1.0}, None) is False
    assert callback.state_dict() == ({}, {})
    assert callback.checkpoint_arrays(cr.mlp([2, 2], seed=0)) == {}


def test_early_stopping_declares_best_theta_as_a_copy_of_theta():
    model = cr.mlp([4, 8, 3], seed=0).astype("float64")
    assert cr.EarlyStopping().checkpoint_arrays(model) == {"best_theta": ((67,), np.dtype("float64"))}


@pytest.mark.parametrize("best", [10**400, -(10**400), "low", True, math.inf])
def test_a_best_that_is_not_a_finite_number_is_a_value_error(best):
    """10**400 from a crafted checkpoint used to raise OverflowError in math.isfinite."""
    stopper = cr.EarlyStopping()
    with pytest.raises(ValueError, match="best: expected a finite number or null"):
        stopper.load_state_dict({"monitor": None, "best": best, "best_epoch": None, "wait": 0}, {})
    assert math.isnan(stopper.best)


@pytest.mark.parametrize("state, field", [
    ({"best_epoch": 10**400}, "best_epoch"),  # used to reach History.best_epoch
    ({"best_epoch": 2**53 + 1}, "best_epoch"), ({"best_epoch": -1}, "best_epoch"),
    ({"wait": 10**400}, "wait"), ({"wait": 2**53 + 1}, "wait"), ({"wait": True}, "wait"),
])
def test_epoch_counts_beyond_the_step_bound_are_a_value_error(state, field):
    """best_epoch and wait share the checkpoint's bound on counts, MAX_STEP_COUNT (2**53)."""
    stopper = cr.EarlyStopping()
    with pytest.raises(ValueError, match=rf"{field}: expected an integer in \[0, {2**53}\]"):
        stopper.load_state_dict({"monitor": None, "best": 0.5, "best_epoch": 1, "wait": 0, **state}, {})
    assert (stopper.best_epoch, stopper.wait) == (None, 0)
    stopper.load_state_dict({"monitor": None, "best": 0.5, "best_epoch": 2**53, "wait": 2**53}, {})
    assert (stopper.best_epoch, stopper.wait) == (2**53, 2**53)


HUGE = 10 ** 5000  # its repr raises ValueError (more digits than sys.get_int_max_str_digits())


@pytest.mark.parametrize("state, field", [({"best": HUGE}, "best"), ({"best_epoch": HUGE}, "best_epoch"),
                                          ({"wait": HUGE}, "wait"), ({"mode": HUGE}, "mode"),
                                          ({"monitor": HUGE}, "monitor")])
def test_a_huge_integer_in_a_saved_state_is_named_in_the_message(state, field):
    """Messages cut a value with f"{value!r:.60}", whose repr raised ValueError ("Exceeds the limit (4300 digits)")."""
    with pytest.raises(ValueError, match=rf"^{field}: expected .*, got <an int of 16,610 bits>$"):
        cr.EarlyStopping().load_state_dict({"monitor": None, "best": 0.5, "best_epoch": 1, "wait": 0, **state}, {})


def test_a_long_monitor_from_a_saved_state_is_quoted_and_cut():
    """A metric name of a crafted checkpoint went whole into the message."""
    stopper = cr.EarlyStopping(monitor="loss")
    long = "'" + "x" * 59 + r"\.\.\."
    message = rf"watched {long}; resume with monitor={long} \(or None\)$"
    with pytest.raises(cr.HyperparameterError, match=message) as caught:
        stopper.load_state_dict({"monitor": "x" * 100_000, "best": 0.5, "best_epoch": 1, "wait": 0}, {})
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": -HUGE}, r"^patience: expected an integer >= 0, got <a negative int of 16,610 bits>$"),
    ({"start_from_epoch": -HUGE},
     r"^start_from_epoch: expected an integer >= 0, got <a negative int of 16,610 bits>$"),
    ({"monitor": ("x" * 100,)}, r"got tuple \('" + "x" * 58 + r"\.\.\.$"),
    ({"monitor": "x" * 100}, r"cannot tell whether '" + "x" * 59 + r"\.\.\. improves"),
])
def test_a_bad_hyperparameter_is_quoted_and_cut(kwargs, message):
    """It was cut silently at 60 characters, without "...", and the repr of a huge integer raised ValueError."""
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.EarlyStopping(**kwargs)


@pytest.mark.parametrize("kwargs, name", [
    ({"patience": True}, "patience"), ({"patience": 1.5}, "patience"), ({"patience": -1}, "patience"),
    ({"min_delta": -0.1}, "min_delta"), ({"min_delta": math.nan}, "min_delta"),
    ({"restore_best": "no"}, "restore_best"), ({"restore_best": 0}, "restore_best"),  # "no" used to mean True
    ({"monitor": 3}, "monitor"), ({"monitor": ["val_loss"]}, "monitor"),
    ({"mode": "up"}, "mode"), ({"mode": None}, "mode"),
    ({"start_from_epoch": -1}, "start_from_epoch"), ({"start_from_epoch": 2.0}, "start_from_epoch"),
    ({"baseline": math.inf}, "baseline"), ({"baseline": "0.5"}, "baseline"),
])
def test_early_stopping_refuses_bad_hyperparameters(kwargs, name):
    with pytest.raises(cr.HyperparameterError, match=name):
        cr.EarlyStopping(**kwargs)


def test_restore_best_takes_a_numpy_boolean():
    assert cr.EarlyStopping(restore_best=np.False_).restore_best is False


def test_patience_0_stops_at_the_first_epoch_without_improvement():
    stopper = cr.EarlyStopping(patience=0, monitor="loss")
    assert feed(stopper, [1.0, 0.5, 0.6], "loss") == [3]
    assert (stopper.best_epoch, stopper.best) == (2, 0.5)


@pytest.mark.parametrize("mode, stops_at, best_epoch", [("min", [3, 4], 1), ("max", [4], 2), ("auto", [4], 2)])
def test_mode_says_which_way_the_metric_improves(mode, stops_at, best_epoch):
    """"auto" takes it from the name: an accuracy improves upwards."""
    stopper = cr.EarlyStopping(patience=2, monitor="accuracy", mode=mode)
    assert feed(stopper, [0.5, 0.7, 0.6, 0.65], "accuracy") == stops_at
    assert stopper.best_epoch == best_epoch


def test_the_epochs_up_to_start_from_epoch_are_not_watched():
    stopper = cr.EarlyStopping(patience=1, monitor="loss", start_from_epoch=2)
    # 0.1 at epoch 1 would be the best and stop epoch 3; it is warm-up, so epoch 3 is the first watched.
    assert feed(stopper, [0.1, 0.2, 0.9, 0.8, 0.85], "loss") == [5]
    assert (stopper.best_epoch, stopper.best) == (4, 0.8)


def test_training_stops_after_patience_epochs_that_do_not_beat_the_baseline():
    stopper = cr.EarlyStopping(patience=2, monitor="loss", baseline=0.5)
    assert feed(stopper, [0.9, 0.8], "loss") == [2]  # improving, but never below 0.5
    assert (stopper.best_epoch, stopper.best) == (2, 0.8)
    stopper.reset()
    assert feed(stopper, [0.9, 0.4, 0.45, 0.3, 0.35, 0.36], "loss") == [6]  # beaten: patience counts as usual


def test_an_improvement_must_beat_the_baseline_by_min_delta():
    stopper = cr.EarlyStopping(patience=1, monitor="accuracy", baseline=0.9, min_delta=0.05)
    assert feed(stopper, [0.92], "accuracy") == [1]
    stopper.reset()
    assert feed(stopper, [0.96], "accuracy") == []


@pytest.mark.parametrize("monitor, values, stops_at, best_epoch", [
    ("loss", [1.0, 0.5, 0.6, 0.7], [4], 2),  # losses improve downwards
    ("val_loss", [1.0, 0.9, 0.8, 0.85, 0.7], [], 5),
    ("mae", [3.0, 2.0, 2.5, 2.1], [4], 2),
    ("accuracy", [0.5, 0.7, 0.6, 0.65], [4], 2),  # scores improve upwards
    ("val_r2", [0.1, 0.2, 0.3, 0.25], [], 3),
])
def test_early_stopping_counts_epochs_without_improvement(monitor, values, stops_at, best_epoch):
    stopper = cr.EarlyStopping(patience=2, monitor=monitor)
    assert feed(stopper, values, monitor) == stops_at
    assert stopper.best_epoch == best_epoch
    assert stopper.best == values[best_epoch - 1]


@pytest.mark.parametrize("mode", ["min", "max"])
def test_a_nan_value_is_no_improvement(mode):
    # it was: NaN beat the NaN "best" every epoch, so a metric that came out NaN never stopped training
    stopper = cr.EarlyStopping(patience=2, monitor="score", mode=mode)
    assert feed(stopper, [math.nan, math.nan], "score") == [2]
    assert stopper.best_epoch is None
    assert stopper.stop_message(2) == ("early stopping after epoch 2: score has not improved for 2 epochs; the "
                                       "weights of the last epoch kept (no watched epoch had a score that is a number)")
    stopper = cr.EarlyStopping(patience=2, monitor="score", mode=mode)
    assert feed(stopper, [math.nan, 0.5, math.nan, math.nan], "score") == [4]
    assert (stopper.best_epoch, stopper.best) == (2, 0.5)


def test_an_improvement_smaller_than_min_delta_does_not_count():
    stopper = cr.EarlyStopping(patience=2, min_delta=0.1, monitor="loss")
    assert feed(stopper, [1.0, 0.95, 0.92], "loss") == [3]
    assert stopper.best_epoch == 1


@pytest.mark.parametrize("monitor, validation, there_are, hint", [
    # no validation data: Keras's default monitor needs it (the line said only which metrics there are)
    ("val_loss", None, "['accuracy', 'loss']", "; the val_ metrics are recorded only with validation data: pass fit "
                                               "validation=0.1 (a fraction of the rows held out) or "
                                               "validation=(X_val, y_val)"),
    ("val_acc", 0.2, "['accuracy', 'loss', 'val_accuracy', 'val_loss']", " (did you mean 'val_accuracy'?)"),  # Keras 1
    ("acc", None, "['accuracy', 'loss']", " (did you mean 'accuracy'?)"),
    ("r2", None, "['accuracy', 'loss']", ""),  # a regression's metric, for a classifier: nothing is meant
])
def test_an_unknown_monitor_is_refused_before_training_with_the_metrics_there_are(monitor, validation, there_are,
                                                                                   hint):
    model, recorder = cr.mlp([4, 3], seed=0), Recorder()
    before = model.flat_parameters().theta.copy()
    stopper = cr.EarlyStopping(monitor=monitor)
    with pytest.raises(cr.HyperparameterError, match=rf"monitor '{monitor}' is not a metric this fit records; "
                                                     rf"expected one of {re.escape(there_are + hint)}$"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=2, validation=validation, callbacks=[recorder, stopper], verbose=0)
    assert recorder.calls == []  # not even on_train_begin
    assert np.array_equal(model.flat_parameters().theta, before) and model.preprocessor is None


class AddsF1(cr.Callback):
    """A callback of one's own that adds a metric to each epoch's logs, for the callbacks after it."""

    def on_epoch_end(self, epoch, logs, model):
        logs["val_f1"] = 1.0 / epoch  # worse every epoch


def test_a_metric_that_a_callback_adds_may_be_monitored():
    stopper = cr.EarlyStopping(monitor="val_f1", patience=1, mode="max")
    history = cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=6, validation=0.2, verbose=0,
                     callbacks=[AddsF1(), stopper])
    assert history.epochs == 2 and stopper.best_epoch == 1


@pytest.mark.parametrize("monitor, values, stops_at, best_epoch", [
    ("rmse", [3.0, 2.0, 1.0, 0.5], [], 4),  # errors improve downwards
    ("val_mse", [3.0, 2.0, 2.5, 2.1], [4], 2),
    ("error", [0.5, 0.7, 0.6, 0.65], [3, 4], 1),
    ("val_accuracy", [0.5, 0.7, 0.6, 0.65], [4], 2),  # scores upwards
    ("r2", [0.1, 0.2, 0.3, 0.25], [], 3),
    ("val_f1", [0.3, 0.5, 0.9, 0.95], [], 4),
    ("val_auc", [0.6, 0.5, 0.55, 0.52], [3, 4], 1),
])
def test_auto_mode_takes_the_direction_from_how_the_name_ends(monitor, values, stops_at, best_epoch):
    """It was: every name not ending in loss or mae improved upwards (rmse too)."""
    stopper = cr.EarlyStopping(patience=2, monitor=monitor)
    assert feed(stopper, values, monitor) == stops_at
    assert stopper.best_epoch == best_epoch


@pytest.mark.parametrize("monitor", ["val_dice", "kappa", "val_score"])
def test_auto_mode_refuses_a_name_whose_direction_it_cannot_tell(monitor):
    """As Keras 3: a guess either way stops the run with the worst weights for half of such names."""
    with pytest.raises(cr.HyperparameterError, match=rf"^monitor: EarlyStopping\(mode='auto'\) cannot tell whether "
                                                     rf"'{monitor}' .* pass mode='min' or mode='max'$"):
        cr.EarlyStopping(monitor=monitor)
    assert cr.EarlyStopping(monitor=monitor, mode="max").mode == "max"


class AddsRMSE(cr.Callback):
    """A callback of one's own that adds a falling error metric: the root of the loss."""

    def on_epoch_end(self, epoch, logs, model):
        logs["rmse"] = math.sqrt(logs["loss"])


def test_a_falling_metric_of_ones_own_keeps_training_and_its_best_epoch_is_the_lowest():
    """It was: the falling rmse counted as getting worse, so training stopped after patience
    epochs and restore_best put back the weights of the epoch with the highest error."""
    X, y = X_IRIS[:, :3], X_IRIS[:, 3]
    stopper = cr.EarlyStopping(patience=2, monitor="rmse")
    history = cr.fit(cr.mlp([3, 1], seed=0), X, y, epochs=6, verbose=0, callbacks=[AddsRMSE(), stopper])
    rmse = [math.sqrt(loss) for loss in history["loss"]]
    assert rmse == sorted(rmse, reverse=True)  # falling every epoch
    assert (history.epochs, history.stop_reason) == (6, "completed")
    assert (stopper.best_epoch, stopper.best) == (6, rmse[-1])


def test_a_state_that_took_a_metric_of_ones_own_upwards_under_auto_is_refused():
    """The direction chainrule's "auto" gave a name such as "rmse" before it followed Keras."""
    stopper = cr.EarlyStopping(monitor="rmse")
    with pytest.raises(cr.HyperparameterError, match=re.escape(
            "mode 'auto' makes 'rmse' improve downwards, but the checkpoint's run took it to improve upwards; "
            "resume with mode='max'")):
        stopper.load_state_dict({"monitor": "rmse", "best": 0.5, "best_epoch": 2, "wait": 1, "mode": "max"}, {})
    assert (stopper.best_epoch, stopper.wait) == (None, 0)


def test_regression_monitors_r2_and_mae():
    X, y = X_IRIS[:, :3], X_IRIS[:, 3]
    for monitor in ("mae", "val_r2"):
        cr.fit(cr.mlp([3, 1], seed=0), X, y, epochs=1, validation=0.2, verbose=0,
               callbacks=[cr.EarlyStopping(monitor=monitor)])
    with pytest.raises(cr.HyperparameterError, match=r"expected one of \['loss', 'mae', 'r2'\]"):
        cr.fit(cr.mlp([3, 1], seed=0), X, y, epochs=1, verbose=0, callbacks=[cr.EarlyStopping(monitor="accuracy")])


def test_the_default_monitor_is_the_training_loss_without_validation_data():
    stopper = cr.EarlyStopping()
    cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, callbacks=[stopper], verbose=0)
    assert stopper.monitor == "loss"


@pytest.mark.parametrize("restore_best", [True, False])
def test_training_end_restores_the_best_weights_on_request(restore_best):
    model = cr.mlp([2, 2], seed=0)
    theta = model.flat_parameters().theta
    stopper = cr.EarlyStopping(patience=5, monitor="loss", restore_best=restore_best)
    stopper.on_epoch_end(1, {"loss": 1.0}, model)
    best = theta.copy()
    theta += 1.0
    stopper.on_epoch_end(2, {"loss": 2.0}, model)
    history = cr.History()
    stopper.on_train_end(model, history)
    assert history.best_epoch == 1
    assert np.array_equal(theta, best if restore_best else best + 1.0)


def test_the_state_round_trips_through_json():
    model = cr.mlp([2, 2], seed=0)
    stopper = cr.EarlyStopping(patience=3, monitor="val_loss")
    feed(stopper, [1.0, 0.5, 0.7], "val_loss")
    state, arrays = stopper.state_dict()
    restored = cr.EarlyStopping(patience=3)
    restored.load_state_dict(json.loads(json.dumps(state)), arrays)
    assert (restored.monitor, restored.best, restored.best_epoch, restored.wait) == ("val_loss", 0.5, 2, 1)
    assert np.array_equal(arrays["best_theta"], model.flat_parameters().theta)
    # Both now decide alike: one more epoch without improvement, then stop.
    assert feed(restored, [0.6, 0.6], "val_loss") == feed(stopper, [0.6, 0.6], "val_loss") == [2]


def test_a_fresh_stopper_has_json_ready_state_without_arrays():
    state, arrays = cr.EarlyStopping().state_dict()
    assert json.loads(json.dumps(state)) == {"monitor": None, "best": None, "best_epoch": None, "wait": 0,
                                             "mode": None}
    assert arrays == {}
    restored = cr.EarlyStopping()
    restored.load_state_dict(state, arrays)
    assert math.isnan(restored.best)


def test_repr_shows_the_settings():
    assert repr(cr.EarlyStopping(4, min_delta=0.01, monitor="loss", restore_best=False)) == (
        "EarlyStopping(patience=4, min_delta=0.01, monitor='loss', mode='auto', restore_best=False, "
        "start_from_epoch=0, baseline=None)"
    )


@pytest.mark.parametrize("kwargs, values, message", [
    ({}, [1.0, 0.5, 0.6, 0.7],
     "early stopping after epoch 4: loss has not improved for 2 epochs; weights of the best epoch 2 (loss 0.5) restored"),
    ({"restore_best": False}, [1.0, 0.5, 0.6, 0.7],
     "early stopping after epoch 4: loss has not improved for 2 epochs; the weights of the last epoch kept "
     "(best: epoch 2, loss 0.5)"),
    ({"baseline": 0.25}, [1.0, 0.5],
     "early stopping after epoch 2: loss has not beaten the baseline 0.25 in 2 epochs; weights of the best "
     "epoch 2 (loss 0.5) restored"),
    ({"patience": 1}, [1.0, 1.0],
     "early stopping after epoch 2: loss has not improved for 1 epoch; weights of the best epoch 1 (loss 1) restored"),
])
def test_the_stop_message_gives_the_facts(kwargs, values, message):
    stopper = cr.EarlyStopping(**{"patience": 2, "monitor": "loss", **kwargs})
    stopped = feed(stopper, values, "loss")
    assert stopped == [len(values)]
    assert stopper.stop_message(stopped[0]) == message


def test_a_reused_stopper_starts_afresh_in_the_next_fit():
    stopper = cr.EarlyStopping(patience=2)
    first = cr.mlp([4, 8, 3], seed=0)
    cr.fit(first, X_IRIS, Y_IRIS, epochs=20, validation=0.2, callbacks=[stopper], verbose=0)
    assert stopper.monitor == "val_loss"
    # Another model of another size, without validation data: nothing of the first fit carries over.
    second, alone = cr.mlp([4, 16, 3], seed=1), cr.mlp([4, 16, 3], seed=1)
    history = cr.fit(second, X_IRIS, Y_IRIS, epochs=5, callbacks=[stopper], verbose=0)
    expected = cr.fit(alone, X_IRIS, Y_IRIS, epochs=5, callbacks=[cr.EarlyStopping(patience=2)], verbose=0)
    assert stopper.monitor == "loss"
    assert history.to_json() == expected.to_json()
    np.testing.assert_array_equal(second.flat_parameters().theta, alone.flat_parameters().theta)


def test_one_callback_listed_twice_is_refused_before_training():
    # Its hooks ran twice an epoch: the second call saw the first's best, so patience=1 stopped after epoch 1.
    stopper, model = cr.EarlyStopping(patience=1), cr.mlp([4, 8, 3], seed=0)
    theta = model.flat_parameters().theta.copy()
    with pytest.raises(cr.HyperparameterError, match=r"callbacks: callbacks\[2\] is callbacks\[0\], the same "
                                                     r"EarlyStopping object; expected each callback once"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=5, callbacks=(stopper, Recorder(), stopper), verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, theta)


def test_a_resumed_fit_restores_the_checkpointed_state_over_the_reset(tmp_path):
    path = tmp_path / "run.safetensors"

    def run(stopper, epochs, resume=None):
        model = cr.mlp([4, 8, 3], seed=0)
        history = cr.fit(model, X_IRIS, Y_IRIS, epochs=epochs, validation=0.2, callbacks=[stopper],
                         checkpoint=path, resume=resume, verbose=0)
        return model, history

    uninterrupted, expected = run(cr.EarlyStopping(patience=3), 6)
    first = cr.EarlyStopping(patience=3)
    run(first, 3)
    stopper = cr.EarlyStopping(patience=3)
    cr.fit(cr.mlp([4, 5, 3], seed=2), X_IRIS, Y_IRIS, epochs=2, callbacks=[stopper], verbose=0)  # other state
    run(stopper, 3, resume=path)  # resuming a finished run trains nothing: the state is the checkpoint's
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (first.best, first.best_epoch, first.wait)
    resumed, history = run(stopper, 6, resume=path)
    assert history.to_json() == expected.to_json()
    np.testing.assert_array_equal(resumed.flat_parameters().theta, uninterrupted.flat_parameters().theta)


@pytest.mark.parametrize("settings", [
    {"mode": "max", "monitor": "val_accuracy"}, {"start_from_epoch": 3}, {"baseline": 0.3, "patience": 4},
])
def test_a_resumed_fit_with_the_other_settings_equals_the_uninterrupted_one(tmp_path, settings):
    path = tmp_path / "run.safetensors"

    def run(epochs, resume=None):
        model, stopper = cr.mlp([4, 8, 3], seed=0), cr.EarlyStopping(**{"patience": 2, **settings})
        history = cr.fit(model, X_IRIS, Y_IRIS, epochs=epochs, validation=0.2, callbacks=[stopper], lr=0.05,
                         standardize=True, checkpoint=path, resume=resume, verbose=0)
        return model, history, stopper

    model, expected, stopper = run(40)
    assert expected.stop_reason == "early_stopping" and expected.epochs > 4
    run(4)
    resumed, history, resumed_stopper = run(40, resume=path)
    assert history.to_json() == expected.to_json()
    np.testing.assert_array_equal(resumed.flat_parameters().theta, model.flat_parameters().theta)
    assert (resumed_stopper.best, resumed_stopper.best_epoch, resumed_stopper.wait) == (
        stopper.best, stopper.best_epoch, stopper.wait)


def test_the_models_training_summary_names_the_epoch_whose_weights_it_kept():
    model = cr.mlp([4, 3], seed=0)
    stopper = cr.EarlyStopping(patience=2, monitor="loss", min_delta=10.0)  # only epoch 1 "improves"
    history = cr.fit(model, X_IRIS, Y_IRIS, epochs=5, callbacks=[stopper], verbose=0)
    summary = model.metadata["training"]
    assert summary["best_epoch"] == history.best_epoch == 1 and summary["epochs"] == 3
    cr.fit(model, X_IRIS, Y_IRIS, epochs=1, verbose=0)
    assert model.metadata["training"]["best_epoch"] is None


def test_a_keras_style_hook_is_refused_before_training_naming_the_callback():
    class KerasStyle(cr.Callback):
        def on_epoch_end(self, epoch, logs=None):
            return False

    model = cr.mlp([4, 3], seed=0)
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.HyperparameterError,
                       match=r"callbacks\[1\] \(KerasStyle\): on_epoch_end must take \(epoch, logs, model\)"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=1, callbacks=[cr.EarlyStopping(), KerasStyle()], verbose=0)
    assert np.array_equal(model.flat_parameters().theta, before)  # refused before any step


def test_hooks_checked_once_for_a_class_are_checked_again_where_they_differ(monkeypatch):
    class Fine(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            return False

    def keras_style(self, epoch, logs=None):
        return False

    inspected = []
    signature = inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda hook: inspected.append(hook) or signature(hook))
    check_hooks(Fine(), 0)
    check_hooks(Fine(), 1)
    assert len(inspected) == 5  # the class's five hooks, inspected for the first instance only
    on_the_instance = Fine()
    on_the_instance.on_epoch_end = lambda epoch, logs=None: False
    with pytest.raises(cr.HyperparameterError, match=r"callbacks\[2\] \(Fine\): on_epoch_end must take"):
        check_hooks(on_the_instance, 2)
    Fine.on_epoch_end = keras_style  # the class's hook replaced: a function not checked before
    with pytest.raises(cr.HyperparameterError, match=r"callbacks\[0\] \(Fine\): on_epoch_end must take"):
        check_hooks(Fine(), 0)


def test_a_static_hook_is_checked_as_it_is_called():
    class Static(cr.Callback):  # called as Static().on_epoch_end(epoch, logs, model): self is the epoch
        @staticmethod
        def on_epoch_end(self, epoch, logs, model):
            return False

    class StaticFine(cr.Callback):
        @staticmethod
        def on_epoch_end(epoch, logs, model):
            return False

    with pytest.raises(cr.HyperparameterError, match=r"callbacks\[0\] \(Static\): on_epoch_end must take"):
        check_hooks(Static(), 0)
    check_hooks(StaticFine(), 0)


@pytest.mark.parametrize("answer, stops", [(None, False), (np.True_, True), (np.bool_(False), False)])
def test_a_hook_may_answer_none_or_a_numpy_boolean(answer, stops):
    class Answer(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            return answer

    history = cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, callbacks=[Answer()], verbose=0)
    assert history.epochs == (1 if stops else 3)


@pytest.mark.parametrize("answer", [np.array([True, False]), "stop", 1])
def test_any_other_answer_is_refused_naming_the_callback(answer):
    class Answer(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            return answer

    with pytest.raises(cr.HyperparameterError, match=r"callbacks\[0\] \(Answer\): on_epoch_end must return True"):
        cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, callbacks=[Answer()], verbose=0)


def test_a_huge_integer_answer_is_named_in_the_message():
    class Answer(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            return 10 ** 5000

    with pytest.raises(cr.HyperparameterError, match=r"False or None, got <an int of 16,610 bits>$"):
        cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, callbacks=[Answer()], verbose=0)


def checkpointed_with_early_stopping(tmp_path, **options):
    """A 2-epoch run with validation and EarlyStopping(**options), checkpointed: (X, y, path)."""
    X, y = load_iris(return_X_y=True)
    path = tmp_path / "run.safetensors"
    cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, epochs=2, validation=0.2, verbose=0, checkpoint=path,
           callbacks=[cr.EarlyStopping(3, **options)])
    return X, y, path


@pytest.mark.parametrize("options, fragment", [
    ({"monitor": "val_accuracy", "mode": "max"},
     "EarlyStopping: monitor 'val_accuracy', but the checkpoint's run watched 'val_loss'; resume with "
     "monitor='val_loss' (or None)"),
    ({"mode": "max"}, "EarlyStopping: mode 'max' makes 'val_loss' improve upwards, but the checkpoint's run took it "
                      "to improve downwards; resume with mode='min'"),
])
def test_resuming_with_another_monitor_or_direction_is_refused(tmp_path, options, fragment):
    """The checkpoint's monitor replaced the one given, under the given mode: a run watching
    val_loss in "max" mode stopped as soon as the loss fell."""
    X, y, path = checkpointed_with_early_stopping(tmp_path)
    model = cr.mlp([4, 8, 3], seed=0)
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.ModelFileError, match=re.escape(f"{path}: checkpoint field callbacks[0]: {fragment}")):
        cr.fit(model, X, y, epochs=4, validation=0.2, verbose=0, resume=path,
               callbacks=[cr.EarlyStopping(3, **options)])
    np.testing.assert_array_equal(model.flat_parameters().theta, before)


def test_resuming_with_the_same_monitor_and_other_patience_is_taken(tmp_path):
    X, y, path = checkpointed_with_early_stopping(tmp_path, monitor="val_loss", mode="min")
    for options in ({}, {"monitor": "val_loss"}, {"mode": "min", "min_delta": 0.01}):
        history = cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, epochs=3, validation=0.2, verbose=0, resume=path,
                         callbacks=[cr.EarlyStopping(1, **options)])
        assert history.epochs == 3


def test_a_state_saved_before_the_mode_was_loads_without_the_direction_check():
    stopper = cr.EarlyStopping(mode="max")
    stopper.load_state_dict({"monitor": "val_loss", "best": 0.5, "best_epoch": 2, "wait": 1}, {})
    assert (stopper.monitor, stopper.best, stopper.best_epoch, stopper.wait) == ("val_loss", 0.5, 2, 1)
    with pytest.raises(ValueError, match="mode: expected 'min', 'max' or null, got 'up'"):
        stopper.load_state_dict({"monitor": "val_loss", "best": 0.5, "best_epoch": 2, "wait": 1, "mode": "up"}, {})


def test_a_keras_hook_that_fit_never_calls_is_warned_about():
    class KerasStyle(cr.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            raise AssertionError("never called")

        def on_train_batch_end(self, batch, logs=None):
            raise AssertionError("never called")

    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20) % 3
    with pytest.warns(UserWarning, match=r"^callbacks\[0\] \(KerasStyle\) defines on_epoch_begin, "
                                         r"on_train_batch_end, which chainrule never calls \(a Keras hook\)") as caught:
        cr.fit(cr.mlp([4, 5, 3], seed=0), X, y, epochs=1, verbose=0, callbacks=[KerasStyle()])
    assert caught[0].filename == __file__  # points at the fit call (it pointed inside chainrule/training/fit.py)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.fit(cr.mlp([4, 5, 3], seed=0), X, y, epochs=1, verbose=0, callbacks=[cr.EarlyStopping(patience=2)])


class Bookkeeper(cr.Callback):
    """A callback of one's own whose state_dict returns ``state`` (a pair state, arrays unless ``pair`` is False)."""

    def __init__(self, state, pair=True):
        self.state, self.pair = state, pair

    def state_dict(self):
        return (self.state, {}) if self.pair else self.state


@pytest.mark.parametrize("state, fragment", [
    ({"best": math.inf}, r"state\['best'\] is inf, which JSON cannot hold"),
    ({"best": {"loss": [1.0, math.nan]}}, r"state\['best'\]\['loss'\]\[1\] is nan, which JSON cannot hold"),
    ({"losses": {1: 0.5}}, r"state\['losses'\] has the key 1 \(int\), which JSON would give back as a string"),
    ({"window": (3, 4)}, r"state\['window'\] is a tuple, which JSON would give back as a list; use a list"),
    ({"best": np.float32(0.5)}, r"state\['best'\] is a float32, not a JSON value .*float\(\) or int\(\)"),
    ({"ema": np.zeros(3)}, r"state\['ema'\] is a ndarray, not a JSON value .*checkpoint_arrays"),
])
def test_a_state_json_would_not_give_back_fails_at_the_first_checkpoint_naming_the_callback_and_key(
        tmp_path, state, fragment):
    """NaN and inf failed as "metadata ... is not plain JSON" naming neither; int keys and tuples came back changed."""
    path = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.HyperparameterError, match=r"^callbacks\[1\] \(Bookkeeper\): its state_dict " + fragment):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, verbose=0, checkpoint=path,
               callbacks=[cr.EarlyStopping(), Bookkeeper(state)])
    assert not path.exists()


def test_a_state_of_json_values_is_checkpointed_and_comes_back_equal(tmp_path):
    state = {"best": 0.5, "count": 3, "seen": [True, None, "a"], "per_class": {"0": [1.5, 2]}}
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=path,
           callbacks=[Bookkeeper(state)])
    assert json.loads(json.dumps(cr.io.read(path)[2]["callbacks"][0])) == state


def test_a_state_dict_returning_the_state_alone_is_refused_naming_the_pair_it_must_return(tmp_path):
    """It ended in a raw ValueError (not enough values to unpack)."""
    with pytest.raises(cr.HyperparameterError, match=r"^callbacks\[0\] \(Bookkeeper\): state_dict\(\) returned "
                                                     r"\{'n': 1\}; expected a pair \(state, arrays\)"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0,
               checkpoint=tmp_path / "checkpoint.safetensors", callbacks=[Bookkeeper({"n": 1}, pair=False)])


@pytest.mark.parametrize("mode, values", [("min", [math.inf, 2.0, 1.0]), ("max", [-math.inf, 1.0, 2.0]),
                                          ("max", [math.inf, 1.0, 2.0])])
def test_an_infinite_value_is_no_improvement_and_the_state_stays_json(mode, values):
    """An overflowed val_loss of inf became the best value: the checkpoint could not hold it (JSON has no inf)."""
    stopper = cr.EarlyStopping(patience=5, monitor="val_loss", mode=mode)
    assert feed(stopper, values, "val_loss") == []
    assert stopper.best_epoch == 3 and stopper.best == values[2]
    stopper.on_epoch_end(4, {"val_loss": math.inf}, cr.mlp([2, 2], seed=0))
    state, _ = stopper.state_dict()
    assert state["best"] == values[2] and state["wait"] == 1


def test_a_long_monitor_the_logs_lack_is_quoted_cut():
    monitor = "f1" * 100
    stopper = cr.EarlyStopping(monitor=monitor, mode="max")
    with pytest.raises(cr.HyperparameterError, match=rf"monitor '{monitor[:59]}\.\.\. is not one of \['loss'\]"):
        stopper.on_epoch_end(1, {"loss": 1.0}, cr.mlp([2, 2], seed=0))


def test_a_monitor_no_callback_added_before_the_stopper_says_where_the_adding_callback_goes():
    class Score(cr.Callback):
        def on_epoch_end(self, epoch, logs, model):
            logs["f1"] = 1.0 / epoch

    with pytest.raises(cr.HyperparameterError, match=r"monitor 'f1' is not one of \['accuracy', 'loss'\]; a callback "
                                                     r"that adds it to the logs must come before this EarlyStopping"):
        cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, callbacks=[cr.EarlyStopping(monitor="f1"), Score()],
               verbose=0)
    history = cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, verbose=0,
                     callbacks=[Score(), cr.EarlyStopping(monitor="f1", patience=1)])
    assert history.epochs == 2  # f1 falls every epoch: the first watched epoch is the best
