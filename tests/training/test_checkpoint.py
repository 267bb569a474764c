"""chainrule.training.checkpoint: a model file that also holds the whole training state.

What it restores (weights, optimizer state and step, the shuffling Generator, the History,
the callbacks), what it refuses (a plain model file, another architecture, another optimizer,
other callbacks, another validation set), and that a failed write leaves the previous
checkpoint whole.
"""

import contextlib
import datetime
import json
import os
import re

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.io import read
from chainrule.training.checkpoint import (STATE_NESTING, CheckpointFile, load_checkpoint, read_checkpoint,
                                           save_checkpoint)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)


def trained(path, epochs=3, resume=None):
    """A run on iris with SGD momentum and early stopping, checkpointed at ``path`` (resumed from ``resume``)."""
    model = cr.mlp([4, 8, 3], seed=0)
    optimizer = cr.SGD(model, lr=0.05, momentum=0.9)
    stopper = cr.EarlyStopping(patience=10)
    history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=epochs, validation=0.2, standardize=True,
                     callbacks=[stopper], checkpoint=path, resume=resume, verbose=0)
    return model, optimizer, stopper, history


def test_loading_restores_the_whole_training_state(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model, optimizer, stopper, history = trained(path)
    fresh = cr.mlp([4, 8, 3], seed=1)
    fresh_optimizer = cr.SGD(fresh, lr=0.05, momentum=0.9)
    rng = np.random.default_rng(123)
    fresh_stopper = cr.EarlyStopping(patience=10)
    restored, epoch, _ = load_checkpoint(path, fresh, fresh_optimizer, rng, [fresh_stopper])
    assert epoch == 3
    assert all(np.array_equal(fresh.params[name], model.params[name]) for name in model.params)
    assert fresh_optimizer.t == optimizer.t > 0
    assert np.array_equal(fresh_optimizer.state["velocity"], optimizer.state["velocity"])
    # Saved before on_train_end, where EarlyStopping sets best_epoch.
    assert restored.to_json() == {**history.to_json(), "best_epoch": None}
    assert fresh_stopper.state_dict()[0] == stopper.state_dict()[0]
    assert np.array_equal(fresh_stopper.state_dict()[1]["best_theta"], stopper.state_dict()[1]["best_theta"])
    # The Generator continues where the run's left off: the next epoch's shuffle is the same.
    assert rng.bit_generator.state == read(path)[2]["rng"]


def test_the_generator_state_is_saved_after_the_epoch(tmp_path):
    model = cr.mlp([2, 2], seed=0)
    optimizer = cr.Adam(model)
    rng = np.random.default_rng(5)
    rng.permutation(10)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, optimizer, rng, cr.History(epochs=1), [], 1, validation="none", seed=0)
    expected = rng.permutation(10)
    other = np.random.default_rng(0)
    load_checkpoint(path, model, optimizer, other, [])
    assert np.array_equal(other.permutation(10), expected)


def test_a_checkpoint_is_a_model_file(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model, *_ = trained(path)
    loaded = cr.load(path)
    np.testing.assert_array_equal(cr.predict_proba(loaded, X_IRIS), cr.predict_proba(model, X_IRIS))
    _, tensors, extra = read(path)
    assert sorted(tensors) == ["callbacks.0.best_theta", "optimizer.velocity"]
    assert extra["format"] == "chainrule-checkpoint"
    assert extra["optimizer"] == {"type": "SGD", "t": 12, "missed": {}}  # 3 epochs of 4 batches (120 rows, 32 a batch)


def test_a_plain_model_file_is_not_a_checkpoint(tmp_path):
    model = cr.mlp([4, 8, 3], seed=0)
    cr.save(model, tmp_path / "model.safetensors")
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        cr.fit(model, X_IRIS, Y_IRIS, resume=tmp_path / "model.safetensors", verbose=0)


def test_a_missing_checkpoint_is_reported(tmp_path):
    with pytest.raises(ModelFileError, match="missing.safetensors"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, resume=tmp_path / "missing.safetensors", verbose=0)


@pytest.mark.parametrize("other, difference", [
    (lambda: cr.mlp([4, 9, 3], seed=0), r"architecture\.layers\[0\]\.n_out is 8 in the checkpoint but 9 in the model"),
    (lambda: cr.mlp([4, 8, 8, 3], seed=0), r"architecture\.layers\[2\]\.n_out is 3 in the checkpoint but 8"),
    # the same parameters, another function
    (lambda: cr.mlp([4, 8, 3], activation="tanh", seed=0), r"architecture\.layers\[1\]\.type is 'ReLU' in the checkpoint but 'Tanh'"),
    (lambda: cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), cr.Identity(), seed=0),
     r"the length of architecture\.layers is 3 in the checkpoint but 4 in the model"),
])
def test_a_checkpoint_of_another_architecture_is_refused_naming_the_first_difference(tmp_path, other, difference):
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=1)
    other = other()
    before = {name: array.copy() for name, array in other.params.items()}
    with pytest.raises(ModelFileError, match=r"checkpoint.safetensors: the checkpoint's network is not the model's: "
                                             + difference):
        load_checkpoint(path, other, cr.SGD(other, momentum=0.9), np.random.default_rng(), [cr.EarlyStopping()])
    assert all(np.array_equal(other.params[name], before[name]) for name in before)


def test_a_checkpoint_of_another_dtype_is_refused(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=1)
    other = cr.mlp([4, 8, 3], seed=0, dtype="float64")
    with pytest.raises(ModelFileError, match="checkpoint's parameters are float32, the model's float64"):
        load_checkpoint(path, other, cr.SGD(other, momentum=0.9), np.random.default_rng(), [cr.EarlyStopping()])


def test_a_checkpoint_of_another_optimizer_is_refused(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=1)
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(ModelFileError, match="trained with 'SGD', not Adam"):
        load_checkpoint(path, model, cr.Adam(model), np.random.default_rng(), [cr.EarlyStopping()])


def test_a_checkpoint_with_other_callbacks_is_refused(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=1)
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(ModelFileError, match="the checkpoint has 1 callbacks, this run 0"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=0.9), epochs=2, validation=0.2,
               standardize=True, resume=path, verbose=0)


class Logger(cr.Callback):
    """A callback of one's own, without state."""


@pytest.mark.parametrize("saved, given, counts", [
    ([Logger, cr.EarlyStopping], [cr.EarlyStopping], "the checkpoint has 2 callbacks, this run 1: "),
    ([Logger, cr.EarlyStopping], [cr.EarlyStopping, Logger], ""),  # failed on a tensor of the other's state
    ([Logger, cr.EarlyStopping], [cr.EarlyStopping, cr.EarlyStopping], ""),  # "KeyError: 'monitor'"
])
def test_other_callbacks_on_resume_are_named_as_the_checkpoint_records_them(tmp_path, saved, given, counts):
    """Before, only the counts were told, or an EarlyStopping given another callback's state failed on a field."""
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, validation=0.2, checkpoint=path, verbose=0,
           callbacks=[make() for make in saved])
    names = lambda kinds: ", ".join(kind.__name__ for kind in kinds)  # noqa: E731
    with pytest.raises(ModelFileError, match=re.escape(
            f"checkpoint.safetensors: {counts}the checkpoint's run had the callbacks [{names(saved)}], this run "
            f"[{names(given)}]; resume with the same ones, in the same order (each restores the state saved at "
            f"its position)")):
        cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, validation=0.2, resume=path, verbose=0,
               callbacks=[make() for make in given])


def test_a_callback_of_ones_own_may_resume_under_another_name(tmp_path):
    """Only chainrule's own callbacks must stand where they stood: a class of one's own may have been renamed."""
    class Renamed(cr.Callback):
        pass

    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, validation=0.2, checkpoint=path, verbose=0,
           callbacks=[Logger(), cr.EarlyStopping()])
    history = cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, validation=0.2, resume=path, verbose=0,
                     callbacks=[Renamed(), cr.EarlyStopping()])
    assert history.epochs == 2


class MyStopping(cr.EarlyStopping):
    """A subclass of one's own of chainrule's EarlyStopping: its state is EarlyStopping's."""


def sent_by_rank_0(path):
    """The checkpoint at ``path`` as every rank of a distributed run holds it: the bytes rank 0 read and sent."""
    checkpoint = read_checkpoint(path)
    return CheckpointFile(checkpoint.path, *checkpoint.take_contents(), sent=True)


def stopped_run(path, callbacks, resume=None, epochs=3):
    return cr.fit(cr.mlp([4, 3], seed=0), X_IRIS, Y_IRIS, epochs=epochs, validation=0.2, checkpoint=path,
                  resume=resume, callbacks=callbacks, verbose=0)


@pytest.mark.parametrize("saved, given, distributed", [
    ([cr.EarlyStopping], [MyStopping], False), ([cr.EarlyStopping], [MyStopping], True),
    ([Logger, cr.EarlyStopping], [Logger, MyStopping], False), ([Logger, cr.EarlyStopping], [Logger, MyStopping], True),
    ([Logger, cr.EarlyStopping], [MyStopping], True),  # a rank without rank 0's logger
    ([Logger, MyStopping], [MyStopping], True),  # the checkpoint of a MyStopping, on a rank without the logger
])
def test_a_subclass_of_a_chainrule_callback_resumes_the_state_of_its_class(tmp_path, saved, given, distributed):
    """class MyStopping(cr.EarlyStopping) resuming an EarlyStopping's checkpoint was refused in one process (the
    types compared by name: 'had the callbacks [EarlyStopping], this run [MyStopping]') and by a distributed run's
    ranks ('chainrule's callbacks [EarlyStopping], this run []'). And a MyStopping's own checkpoint, on a rank
    without rank 0's logger, was refused after that fix ('chainrule's callbacks [], this run [MyStopping]')."""
    path = tmp_path / "checkpoint.safetensors"
    saved_callbacks = [make() for make in saved]
    stopped_run(path, saved_callbacks)
    callbacks = [make() for make in given]
    resume = lambda: sent_by_rank_0(path) if distributed else path  # noqa: E731
    assert stopped_run(None, callbacks, resume=resume()).epochs == 3  # no epoch further: the state as restored
    (state, arrays), (expected, expected_arrays) = callbacks[-1].state_dict(), saved_callbacks[-1].state_dict()
    assert state == expected and state["best_epoch"] is not None
    np.testing.assert_array_equal(arrays["best_theta"], expected_arrays["best_theta"])
    assert stopped_run(None, [make() for make in given], resume=resume(), epochs=5).epochs == 5  # and it goes on


@pytest.mark.parametrize("distributed, message", [
    (False, "the checkpoint's run had the callbacks [MyStopping], this run [EarlyStopping]; resume with the same ones"),
    (True, "the checkpoint's run had chainrule's callbacks [], this run [EarlyStopping]; resume with the same ones"),
])
def test_chainrules_callback_does_not_resume_the_state_of_a_subclass(tmp_path, distributed, message):
    """The other way round: the checkpoint records a callback of one's own (MyStopping), whose state may hold more
    than an EarlyStopping's or mean something else; EarlyStopping cannot tell it for its own, in either run."""
    path = tmp_path / "checkpoint.safetensors"
    stopped_run(path, [MyStopping()])
    with pytest.raises(ModelFileError, match=re.escape(message)):
        stopped_run(tmp_path / "resumed.safetensors", [cr.EarlyStopping()], epochs=5,
                    resume=sent_by_rank_0(path) if distributed else path)


def test_a_checkpoint_records_its_callbacks_types_and_one_without_them_still_resumes(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=1)
    assert read(path)[2]["callback_types"] == ["chainrule.training.callbacks.EarlyStopping"]
    older = resave(path, change_extra=lambda extra: extra.pop("callback_types"))
    model, stopper = cr.mlp([4, 8, 3], seed=0), cr.EarlyStopping(patience=10)
    load_checkpoint(older, model, cr.SGD(model, momentum=0.9), np.random.default_rng(), [stopper])
    assert stopper.best_epoch == 1


def test_a_failed_write_leaves_the_previous_checkpoint_whole(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([2, 2], seed=0)
    optimizer = cr.Adam(model)
    rng = np.random.default_rng(0)
    save_checkpoint(path, model, optimizer, rng, cr.History(epochs=1), [], 1, validation="none", seed=0)
    before = path.read_bytes()
    model.metadata["note"] = object()  # fails as the file is written (a callback's state is refused before)
    with pytest.raises(ModelFileError, match="not plain JSON"):
        save_checkpoint(path, model, optimizer, rng, cr.History(epochs=2), [], 2, validation="none", seed=0)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["checkpoint.safetensors"]


def test_the_history_is_stored_as_json(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    *_, history = trained(path, epochs=2)
    stored = read(path)[2]["history"]
    assert json.loads(json.dumps(stored)) == {**history.to_json(), "best_epoch": None}


def test_a_non_finite_history_value_is_checkpointed_as_null_and_restored_as_nan(tmp_path):
    model = cr.mlp([2, 3, 2], seed=0)
    optimizer = cr.Adam(model)
    history = cr.History(metrics={"loss": [0.5, 0.4], "val_loss": [np.nan, np.inf]},
                         grad_norms={"0": [np.inf, 0.1], "2": [0.2, 0.3]}, initial_grad_norms={"0": np.nan}, epochs=2)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, optimizer, np.random.default_rng(0), history, [], 2, validation="none", seed=0)
    stored = read(path)[2]["history"]
    assert (stored["metrics"]["val_loss"], stored["grad_norms"]["0"], stored["initial_grad_norms"]) == (
        [None, None], [None, 0.1], {"0": None})
    restored, epoch, _ = load_checkpoint(path, model, optimizer, np.random.default_rng(1), [])
    assert epoch == 2
    np.testing.assert_equal(restored.metrics, {"loss": [0.5, 0.4], "val_loss": [np.nan, np.nan]})  # NaN == NaN here
    np.testing.assert_equal(restored.grad_norms, {"0": [np.nan, 0.1], "2": [0.2, 0.3]})
    np.testing.assert_equal(restored.initial_grad_norms, {"0": np.nan})


def test_a_run_whose_val_loss_is_nan_checkpoints_and_resumes_as_the_uninterrupted_run(tmp_path):
    X_val, y_val = X_IRIS[::3].copy(), Y_IRIS[::3]
    X_val[0] = 3e38  # beyond float32 once standardized: the val_loss is NaN in every epoch

    def run(epochs, resume=None):
        model = cr.mlp([4, 8, 3], seed=0)
        history = cr.fit(model, X_IRIS, Y_IRIS, epochs=epochs, validation=(X_val, y_val), standardize=True,
                         checkpoint=tmp_path / f"run{epochs}.safetensors", resume=resume, verbose=0)
        return model, history
    run(2)
    assert read(tmp_path / "run2.safetensors")[2]["history"]["metrics"]["val_loss"] == [None, None]
    resumed, history = run(4, resume=tmp_path / "run2.safetensors")
    uninterrupted, expected = run(4)
    assert np.isnan(history.metrics["val_loss"]).all() and len(history.metrics["val_loss"]) == 4
    assert history.to_json() == expected.to_json()
    assert all(np.array_equal(resumed.params[name], value) for name, value in uninterrupted.params.items())


def test_resuming_a_run_that_stopped_early_trains_no_further_epoch(tmp_path):
    def run(resume=None):
        model = cr.mlp([4, 8, 3], seed=0)
        history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.5, momentum=0.9), epochs=200,
                         validation=0.3, standardize=True, callbacks=[cr.EarlyStopping(patience=2)],
                         checkpoint=tmp_path / "run.safetensors", resume=resume, verbose=0)
        return model, history
    model, history = run()
    assert history.stop_reason == "early_stopping" and history.epochs < 200
    resumed, again = run(resume=tmp_path / "run.safetensors")
    assert again.epochs == history.epochs and again.stop_reason == "early_stopping"
    assert again.metrics == history.metrics
    for name, value in model.params.items():
        np.testing.assert_array_equal(resumed.params[name], value)


def resave(path, change_extra=None, change_tensors=None):
    """Re-save the checkpoint at ``path`` with its extra JSON or tensors changed; returns the new path."""
    model, tensors, extra = read(path)
    if change_extra:
        change_extra(extra)
    if change_tensors:
        change_tensors(tensors)
    crafted = path.with_name("crafted.safetensors")
    cr.save(model, crafted, extra_tensors=tensors, extra_json=extra)
    return crafted


@pytest.mark.parametrize("change_extra, change_tensors, field", [
    (lambda e: e.pop("optimizer"), None, "field optimizer: expected"),
    (lambda e: e.pop("callbacks"), None, "field callbacks: expected"),
    (lambda e: e.__setitem__("callbacks", [5]), None, "field callbacks: expected"),
    (lambda e: e.__setitem__("callbacks", [{}]), None, r"field callbacks\[0\]: not a state of EarlyStopping"),
    (lambda e: e["callbacks"][0].__setitem__("wait", "x"), None, r"field callbacks\[0\]: .*wait: expected an integer"),
    (lambda e: e["callbacks"][0].__setitem__("best", "low"), None, r"field callbacks\[0\]: .*best: expected a finite"),
    (lambda e: e["callbacks"][0].__setitem__("monitor", 3), None, r"field callbacks\[0\]: .*monitor: expected"),
    (lambda e: e.__setitem__("rng", "x"), None, "field rng: expected a PCG64 state"),
    (lambda e: e.__setitem__("rng", np.random.MT19937(0).state), None, "field rng: expected a PCG64 state"),
    (lambda e: e.__setitem__("epoch", "x"), None, "field epoch: expected an integer"),
    (lambda e: e["optimizer"].__setitem__("t", "abc"), None, "field optimizer.t: expected an integer"),
    # A huge step count passed the checks, then Adam's beta ** t overflowed at the first resumed step.
    (lambda e: e["optimizer"].__setitem__("t", 10**400), None, r"field optimizer.t: expected an integer in \[0, "),
    (lambda e: e["optimizer"].__setitem__("t", 2**53 + 1), None, r"field optimizer.t: expected an integer in \[0, "),
    (lambda e: e["callbacks"][0].__setitem__("best", 10**400), None, r"field callbacks\[0\]: .*best: expected a finite"),
    # EarlyStopping's counts used to take any integer, and best_epoch reached History.best_epoch.
    (lambda e: e["callbacks"][0].__setitem__("best_epoch", 10**400), None,
     r"field callbacks\[0\]: .*best_epoch: expected an integer in \[0, 9007199254740992\]"),
    (lambda e: e["callbacks"][0].__setitem__("wait", 2**53 + 1), None,
     r"field callbacks\[0\]: .*wait: expected an integer in \[0, 9007199254740992\]"),
    (lambda e: e.__setitem__("history", [1]), None, "field history: expected an object"),
    (lambda e: e["history"].__setitem__("metrics", {"loss": ["x"]}), None, "field history.metrics: expected"),
    (lambda e: e["history"].__setitem__("epochs", -1), None, "field history.epochs: expected"),
    # Huge epoch counts passed, then overflowed in the progress bar (float) of the resumed run.
    (lambda e: (e.__setitem__("epoch", 10**400), e["history"].__setitem__("epochs", 10**400)), None,
     r"field epoch: expected an integer in \[0, 9007199254740992\], got 1000"),
    (lambda e: e.__setitem__("epoch", 2**53 + 1), None, r"field epoch: expected an integer in \[0, "),
    (lambda e: e["history"].__setitem__("epochs", 10**400), None, r"field history.epochs: expected an integer in \[0, "),
    (lambda e: e["history"].__setitem__("best_epoch", 10**400), None, r"field history.best_epoch: expected an integer in"),
    (lambda e: e.__setitem__("epoch", 2), None, "field history.epochs: expected the epoch 2, got 1"),
    (lambda e: e["history"].__setitem__("epochs", 0), None, "field history.epochs: expected the epoch 1, got 0"),
    (None, lambda t: t.pop("optimizer.velocity"), "field optimizer: saved state tensors"),
    (None, lambda t: t.__setitem__("optimizer.velocity", np.zeros(3, np.float32)), "tensor 'optimizer.velocity' has shape"),
    (None, lambda t: t.__setitem__("optimizer.velocity", t["optimizer.velocity"].astype(np.float64)),
     "tensor 'optimizer.velocity' has shape .* and dtype float64"),
    # EarlyStopping's best_theta is written over θ at the end of training: a wrong one was broadcast or cast.
    (None, lambda t: t.__setitem__("callbacks.0.best_theta", np.full(1, 7.0, np.float32)),
     r"field callbacks\[0\]\.best_theta: expected shape \(67,\) and dtype float32, got \(1,\)"),
    (None, lambda t: t.__setitem__("callbacks.0.best_theta", np.zeros(68, np.float32)),
     r"field callbacks\[0\]\.best_theta: expected shape \(67,\)"),
    (None, lambda t: t.__setitem__("callbacks.0.best_theta", t["callbacks.0.best_theta"].astype(np.float64)),
     r"field callbacks\[0\]\.best_theta: .* got \(67,\) and float64"),
    (None, lambda t: t.__setitem__("callbacks.0.other", np.zeros(67, np.float32)),
     "tensor 'callbacks.0.other': not an array that this run's callbacks save"),
    (None, lambda t: t.__setitem__("callbacks.1.best_theta", t["callbacks.0.best_theta"]),
     "tensor 'callbacks.1.best_theta': not an array"),
    (lambda e: e.__setitem__("validation", 5), None, "field validation: expected 'none' or 16 hexadecimal digits, got 5"),
    # The History was checked field by field only: these loaded, and a resumed run then failed at its end
    # (a gradient-norm key that is no layer broke the plot, leaving a half-written run folder).
    (lambda e: e["history"]["grad_norms"].__setitem__("../../x", [1.0]), None,
     r"field history.grad_norms: '../../x' is not a layer with weights of the checkpoint's network \(0, 2\)"),
    (lambda e: e["history"]["initial_grad_norms"].__setitem__("1", 1.0), None,
     "field history.initial_grad_norms: '1' is not a layer"),
    (lambda e: e["history"]["grad_norms"].__setitem__("0", [1.0, 2.0]), None,
     r"field history.grad_norms.0: expected at most 1 values \(one per epoch\), got 2"),
    (lambda e: e["history"]["metrics"].__setitem__("loss", [1.0, 2.0]), None,
     r"field history.metrics.loss: expected 1 values \(one per epoch\), got 2"),
    (lambda e: e["history"]["metrics"].__setitem__("accuracy", []), None,
     "field history.metrics.accuracy: expected 1 values"),
    (lambda e: e["history"]["metrics"].__setitem__("val_loss", [1.0, 2.0]), None,
     "field history.metrics.val_loss: expected at most 1 values"),
    (lambda e: e["history"].__setitem__("best_epoch", 5), None,
     "field history.best_epoch: expected one of the epochs 1 to 1 or null, got 5"),
    (lambda e: e["history"].__setitem__("best_epoch", 0), None, "field history.best_epoch: expected one of"),
    (lambda e: e["history"].__setitem__("partial_last_epoch", "yes"), None,
     "field history.partial_last_epoch: expected true or false, got 'yes'"),
    (lambda e: e["history"].__setitem__("stop_reason", "bored"), None,
     "field history.stop_reason: expected 'completed' or 'early_stopping' or 'interrupted'"),
    (lambda e: e["history"]["metrics"].__setitem__("loss", [10**400]), None,
     r"field history.metrics: expected an object of number lists"),
    (lambda e: e.__setitem__("validation", "1234"), None, "field validation: expected 'none' or 16 hexadecimal"),
    (lambda e: e.__setitem__("shuffle", "no"), None, "field shuffle: expected true or false, got 'no'"),
    (lambda e: e.__setitem__("shuffle", 0), None, "field shuffle: expected true or false, got 0"),
    (lambda e: e.__setitem__("frozen", "0.W"), None, "field frozen: expected a list of parameter names, got '0.W'"),
    (lambda e: e.__setitem__("frozen", [3]), None, r"field frozen: expected a list of parameter names, got \[3\]"),
    (lambda e: e.__setitem__("frozen", ["0.W"]), None, "parameter '0.W' was frozen in the checkpoint's run"),
    (lambda e: e.__setitem__("frozen", ["9.W"]), None, "field frozen: '9.W' is not a parameter of the model"),
    (lambda e: e["optimizer"].__setitem__("missed", [1]), None,
     "field optimizer.missed: SGD: saved missed: expected a dict"),
    (lambda e: e["optimizer"].__setitem__("missed", {"9.W": 1}), None,
     "field optimizer.missed: SGD: saved missed: '9.W' is not a parameter of the model"),
    (lambda e: e["optimizer"].__setitem__("missed", {"0.W": 5}), None,
     r"field optimizer.missed: SGD: saved missed\['0.W'\]: expected an integer in \[0, t=4\]"),
    (lambda e: e["optimizer"].__setitem__("missed", {"0.W": -1}), None, r"field optimizer.missed: .*got -1"),
    # The values were checked by optimizer.load_state_dict only, after the weights were restored.
    (None, lambda t: t.__setitem__("optimizer.velocity", np.full_like(t["optimizer.velocity"], np.nan)),
     "field optimizer: SGD: saved state 'velocity': expected finite values, found nan"),
    (lambda e: e.__setitem__("callback_types", ["chainrule.EarlyStopping", "x.Logger"]), None,
     r"field callback_types: expected a list of 1 type names, got \['chainrule.EarlyStopping', 'x.Logger'\]"),
    (lambda e: e.__setitem__("callback_types", [3]), None, "field callback_types: expected a list of 1 type names"),
    # A NaN best_theta resumed, and was written over θ when training ended: every weight NaN.
    (None, lambda t: t.__setitem__("callbacks.0.best_theta", np.full_like(t["callbacks.0.best_theta"], np.nan)),
     r"field callbacks\[0\]: .*best_theta: expected finite values"),
    # A best epoch after the checkpoint's epoch resumed, and reached History.best_epoch.
    (lambda e: e["callbacks"][0].__setitem__("best_epoch", 999), None,
     r"field callbacks\[0\]\.best_epoch: expected one of the epochs 1 to 1 or null, got 999"),
    (lambda e: e["callbacks"][0].__setitem__("best_epoch", 0), None, r"field callbacks\[0\]\.best_epoch: expected one"),
    (lambda e: e["callbacks"][0].__setitem__("wait", 2), None,
     r"field callbacks\[0\]\.wait: expected at most the 1 epochs run, got 2"),
    # A long value was cut at 60 characters without "...", as if it ended there.
    (lambda e: e.__setitem__("epoch", "x" * 100_000), None, r"field epoch: expected .*, got '" + "x" * 59 + r"\.\.\.$"),
    (lambda e: e["optimizer"].__setitem__("t", "x" * 100_000), None,
     r"field optimizer.t: expected .*, got '" + "x" * 59 + r"\.\.\.$"),
    (lambda e: e["optimizer"].__setitem__("type", "x" * 100_000), None,
     r"the checkpoint was trained with '" + "x" * 59 + r"\.\.\., not SGD$"),
    (lambda e: e["history"].__setitem__("metrics", "x" * 100_000), None,
     r"field history.metrics: expected .*, got '" + "x" * 59 + r"\.\.\.$"),
])
def test_a_damaged_checkpoint_names_the_file_and_field_and_changes_nothing(tmp_path, change_extra, change_tensors, field):
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    path = resave(tmp_path / "checkpoint.safetensors", change_extra, change_tensors)
    model = cr.mlp([4, 8, 3], seed=1)
    optimizer = cr.SGD(model, lr=0.05, momentum=0.9)
    rng = np.random.default_rng(7)
    before = ({name: array.copy() for name, array in model.params.items()}, optimizer.state_dict(), rng.bit_generator.state)
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: (checkpoint )?{field}"):
        load_checkpoint(path, model, optimizer, rng, [cr.EarlyStopping()])
    assert all(np.array_equal(model.params[name], before[0][name]) for name in before[0])
    assert optimizer.t == before[1]["t"] and np.array_equal(optimizer.state["velocity"], before[1]["state"]["velocity"])
    assert optimizer.missed == before[1]["missed"]
    assert rng.bit_generator.state == before[2]


def edited(path, change_document=None, swapped=()):
    """The checkpoint at ``path`` changed in place as an editor would: its JSON document changed by
    ``change_document``, or the bytes of the two tensors named in ``swapped`` exchanged; the rest,
    the SHA-256 chainrule recorded included, as written."""
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header, body = json.loads(data[8:8 + size]), bytearray(data[8 + size:])
    if change_document:
        document = json.loads(header["__metadata__"]["chainrule"])
        change_document(document)
        header["__metadata__"]["chainrule"] = json.dumps(document)
    if swapped:
        (a, b), (c, d) = (header[name]["data_offsets"] for name in swapped)
        body[a:b], body[c:d] = body[c:d], body[a:b]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + bytes(body))
    return path


@pytest.mark.parametrize("change_document, swapped", [
    (lambda d: d["extra_json"]["optimizer"].__setitem__("t", d["extra_json"]["optimizer"]["t"] - 1), ()),
    (lambda d: d["extra_json"]["rng"]["state"].__setitem__("state", d["extra_json"]["rng"]["state"]["state"] + 1), ()),
    (lambda d: d["extra_json"]["history"]["metrics"]["loss"].__setitem__(0, 0.5), ()),
    (lambda d: d["extra_json"]["callbacks"][0].__setitem__("best", 0.0), ()),
    (lambda d: d["metadata"].__setitem__("note", "edited"), ()),
    (None, ("optimizer.velocity", "callbacks.0.best_theta")),
])
def test_a_checkpoint_changed_since_it_was_written_is_refused_not_resumed(tmp_path, change_document, swapped):
    # Each change passes every check of its field; only the SHA-256 the checkpoint records finds it.
    untouched, path = tmp_path / "untouched.safetensors", tmp_path / "checkpoint.safetensors"
    trained(untouched, epochs=2)
    trained(path, epochs=2)
    assert read(edited(untouched))[2]["epoch"] == 2  # rewritten without a change, it still reads
    edited(path, change_document, swapped)
    with pytest.raises(ModelFileError, match="checkpoint.safetensors: its contents differ from the SHA-256 it "
                                             r"recorded when chainrule wrote it \(field sha256\)"):
        trained(tmp_path / "resumed.safetensors", epochs=4, resume=path)


def test_a_crafted_seed_past_2_128_is_refused_as_the_checkpoints_field(tmp_path):
    # seed=None took it as the run's seed: one process trained with it and recorded it, which fit's own seed check
    # refuses; rank 0 of a distributed fit (resumed_run_seed too) raised OverflowError packing it into the seed's
    # broadcast, the other ranks left waiting for it
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    crafted = resave(tmp_path / "checkpoint.safetensors", lambda extra: extra.__setitem__("seed", 2**128))
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: (checkpoint )?field seed: expected an integer "
                                             r"from 0 to 2\*\*128 - 1 or null"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, optimizer="sgd", epochs=2, validation=0.2, standardize=True,
               callbacks=[cr.EarlyStopping(patience=10)], seed=None, resume=crafted, verbose=0)


@pytest.mark.parametrize("change_extra, seed, returned", [
    (lambda extra: extra.pop("seed"), 5, 5),  # written before the field: this call's seed, unchecked
    (lambda extra: extra.pop("seed"), None, None),
    (lambda extra: extra.__setitem__("seed", 4), None, 4),
    (lambda extra: extra.__setitem__("seed", 4), 4, 4),
])
def test_the_run_seed_is_the_checkpoints_else_this_calls(tmp_path, change_extra, seed, returned):
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    path = resave(tmp_path / "checkpoint.safetensors", change_extra)
    model = cr.mlp([4, 8, 3], seed=1)
    _, _, run_seed = load_checkpoint(path, model, cr.SGD(model, lr=0.05, momentum=0.9), np.random.default_rng(7),
                                     [cr.EarlyStopping()], seed=seed)
    assert run_seed == returned


@pytest.mark.parametrize("recorded, had", [(None, r"no seed \(seed=None\)"), (4, "seed 4")])
def test_a_seed_other_than_the_checkpoints_is_refused(tmp_path, recorded, had):
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    path = resave(tmp_path / "checkpoint.safetensors", lambda extra: extra.__setitem__("seed", recorded))
    model = cr.mlp([4, 8, 3], seed=1)
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: seed: the checkpoint's run had {had}, this call 5"):
        load_checkpoint(path, model, cr.SGD(model, lr=0.05, momentum=0.9), np.random.default_rng(7),
                        [cr.EarlyStopping()], seed=5)


def test_shuffle_is_recorded_and_a_resume_with_the_other_is_refused(tmp_path):
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    assert read(tmp_path / "checkpoint.safetensors")[2]["shuffle"] is True
    model = cr.mlp([4, 8, 3], seed=1)
    with pytest.raises(ModelFileError, match=r"checkpoint.safetensors: shuffle: the checkpoint's run had shuffle=True, "
                                             r"this call shuffle=False; .* pass shuffle=True to resume it$"):
        load_checkpoint(tmp_path / "checkpoint.safetensors", model, cr.SGD(model, lr=0.05, momentum=0.9),
                        np.random.default_rng(7), [cr.EarlyStopping()], shuffle=False)


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_checkpoint_from_before_shuffle_was_recorded_shuffled(tmp_path, shuffle):
    # Written before the field, when fit always shuffled: shuffle=True resumes it, shuffle=False would be another run
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    path = resave(tmp_path / "checkpoint.safetensors", lambda extra: extra.pop("shuffle"))
    model = cr.mlp([4, 8, 3], seed=1)
    resuming = (contextlib.nullcontext() if shuffle else
                pytest.raises(ModelFileError, match="shuffle: the checkpoint's run had shuffle=True, this call "
                                                    "shuffle=False"))
    with resuming:
        load_checkpoint(path, model, cr.SGD(model, lr=0.05, momentum=0.9), np.random.default_rng(7),
                        [cr.EarlyStopping()], shuffle=shuffle)


@pytest.mark.parametrize("name, index, value, fragment", [
    ("m", 0, np.nan, "'m': expected finite values, found nan"),
    ("m", 5, -np.inf, "'m': expected finite values, found -inf"),
    ("v", 2, -1.0, "'v': a second moment cannot be negative, got -1.0"),
])
def test_an_optimizer_state_of_bad_values_is_refused_before_anything_is_restored(tmp_path, name, index, value,
                                                                                fragment):
    """It raised NonFiniteError (naming no file) from optimizer.load_state_dict, after the
    model's weights and the callbacks' states were already the checkpoint's."""
    saved = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 6, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.Adam(model, lr=0.01), epochs=2, validation=0.2,
           callbacks=[cr.EarlyStopping(patience=5)], checkpoint=saved, verbose=0)

    def damage(tensors):
        array = tensors[f"optimizer.{name}"].copy()
        array[index] = value
        tensors[f"optimizer.{name}"] = array
    path = resave(saved, change_tensors=damage)
    fresh = cr.mlp([4, 6, 3], seed=1)
    optimizer, stopper, rng = cr.Adam(fresh, lr=0.01), cr.EarlyStopping(patience=5), np.random.default_rng(3)
    before = ({key: array.copy() for key, array in fresh.params.items()}, rng.bit_generator.state)
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(path))}: checkpoint field optimizer: Adam: saved state "
                                             f"{re.escape(fragment)}"):
        load_checkpoint(path, fresh, optimizer, rng, [stopper])
    assert all(np.array_equal(fresh.params[key], array) for key, array in before[0].items())
    assert optimizer.t == 0 and not optimizer.state["m"].any() and not optimizer.state["v"].any()
    assert stopper.best_epoch is None and stopper.state_dict()[1] == {}
    assert rng.bit_generator.state == before[1]
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(path))}: checkpoint field optimizer: Adam: "):
        cr.fit(fresh, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=4, validation=0.2, resume=path,
               callbacks=[stopper], verbose=0)
    assert all(np.array_equal(fresh.params[key], array) for key, array in before[0].items())


@pytest.mark.parametrize("change_extra, field", [
    # A series missing or unknown resumed; the History then held series of different lengths,
    # which refused the next resume from the checkpoint of that run.
    (lambda e: e["history"]["metrics"].pop("loss"), "history.metrics: no 'loss' series; a classification run "
                                                    "records loss, accuracy at every epoch"),
    (lambda e: e["history"]["metrics"].__setitem__("val_r2", [1.0]), "history.metrics: 'val_r2' is not a metric"),
    (lambda e: e["history"]["metrics"].__setitem__("r2", [1.0]), "history.metrics: 'r2' is not a metric that a "
                                                                 "classification run records"),
    # A name chainrule does not use is a callback's own series (History.append): one value per epoch at most.
    (lambda e: e["history"]["metrics"].__setitem__("foo", [1.0, 2.0]),
     r"history.metrics.foo: expected at most 1 values \(one per epoch\), got 2"),
    # A metric chainrule knows, which this fit does not record, failed only after an epoch had trained.
    (lambda e: e["callbacks"][0].__setitem__("monitor", "r2"),
     r"callbacks\[0\]: .*monitor: 'r2' is not a metric this fit records; expected one of \['accuracy', 'loss', "),
])
def test_a_checkpoint_of_other_metrics_is_refused_when_fit_resumes_it(tmp_path, change_extra, field):
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    path = resave(tmp_path / "checkpoint.safetensors", change_extra)
    model = cr.mlp([4, 8, 3], seed=1)
    before = {name: array.copy() for name, array in model.params.items()}
    with pytest.raises(ModelFileError, match=f"crafted.safetensors: checkpoint field {field}"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=0.9), epochs=3, validation=0.2,
               standardize=True, callbacks=[cr.EarlyStopping(patience=10)], resume=path, verbose=0)
    assert all(np.array_equal(model.params[name], before[name]) for name in before)


def test_a_checkpoint_monitoring_a_metric_of_ones_own_still_resumes(tmp_path):
    """A name chainrule does not know may come from a callback of one's own: it is left to the logs."""
    trained(tmp_path / "checkpoint.safetensors", epochs=1)
    path = resave(tmp_path / "checkpoint.safetensors", lambda e: e["callbacks"][0].__setitem__("monitor", "my_score"))
    model = cr.mlp([4, 8, 3], seed=1)
    with pytest.raises(cr.HyperparameterError, match=r"EarlyStopping: monitor 'my_score' is not one of \["):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=0.9), epochs=3, validation=0.2,
               standardize=True, callbacks=[cr.EarlyStopping(patience=10)], resume=path, verbose=0)


class RecordsItsOwnSeries(cr.Callback):
    """Appends ``per_epoch`` values a run of its own to the History at the end of each epoch under ``name``."""

    def __init__(self, name="weight_sum", per_epoch=1):
        self.name, self.per_epoch = name, per_epoch

    def on_train_begin(self, model, history):
        self.history = history

    def on_epoch_end(self, epoch, logs, model):
        for _ in range(self.per_epoch):
            self.history.append(self.name, float(np.abs(model.params["0.W"]).sum()))


def test_a_series_a_callback_records_is_checkpointed_and_resumes_as_the_uninterrupted_run(tmp_path):
    """fit wrote this checkpoint, and fit(resume=...) refused it: 'weight_sum' is not a metric that a
    classification run records."""
    def run(epochs, resume=None):
        model = cr.mlp([4, 8, 3], seed=0)
        history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=0.9), epochs=epochs,
                         validation=0.2, standardize=True, callbacks=[RecordsItsOwnSeries()], seed=0, verbose=0,
                         checkpoint=tmp_path / f"run{epochs}.safetensors", resume=resume)
        return model, history
    run(2)
    assert len(read(tmp_path / "run2.safetensors")[2]["history"]["metrics"]["weight_sum"]) == 2
    resumed, history = run(4, resume=tmp_path / "run2.safetensors")
    uninterrupted, expected = run(4)
    assert history == expected and len(history["weight_sum"]) == 4
    assert all(np.array_equal(resumed.params[name], value) for name, value in uninterrupted.params.items())


@pytest.mark.parametrize("callback, problem", [
    # What resuming refuses, refused when the checkpoint is written, naming the series.
    (RecordsItsOwnSeries("r2"), r"history.metrics: 'r2' is not a metric that a classification run records "
                                r"\(loss, accuracy, val_loss, val_accuracy\); a series of one's own takes a name"),
    (RecordsItsOwnSeries("loss"), r"history.metrics.loss: expected 1 values \(one per epoch\), got 2"),
    (RecordsItsOwnSeries("weight_sum", per_epoch=2),
     r"history.metrics.weight_sum: expected at most 1 values \(one per epoch\), got 2"),
    (RecordsItsOwnSeries(3), r"history.metrics: expected an object of number lists, got \{3: \[[0-9.]+\]\}"),
])
def test_a_history_a_checkpoint_could_not_resume_is_refused_when_it_is_written(tmp_path, callback, problem):
    path = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.HyperparameterError, match=f"^checkpoint: {problem}.*could not be resumed"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, callbacks=[callback], checkpoint=path, verbose=0)
    assert os.listdir(tmp_path) == []


def test_a_forged_best_theta_is_refused_before_training_resumes(tmp_path):
    """A best_theta of shape (1,) used to resume silently and set every weight to 7.0 at the end."""
    saved = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    stopper = cr.EarlyStopping(patience=5)
    stopper.best, stopper.best_epoch, stopper._best_theta = 0.5, 1, model.flat_parameters().theta.copy()
    history = cr.History(metrics={"loss": [0.5], "accuracy": [0.8]}, epochs=1)  # what a classifier's epoch records
    save_checkpoint(saved, model, cr.Adam(model), np.random.default_rng(0), history, [stopper], 1,
                    validation="none", seed=0)
    # save_checkpoint refuses to write a wrong one: forge it in the file.
    path = resave(saved, change_tensors=lambda t: t.__setitem__("callbacks.0.best_theta", np.full(1, 7.0, np.float32)))
    resumed = cr.mlp([4, 8, 3], seed=1)
    before = resumed.flat_parameters().theta.copy()
    with pytest.raises(ModelFileError, match=r"crafted.safetensors: checkpoint field callbacks\[0\]\.best_theta"):
        cr.fit(resumed, X_IRIS, Y_IRIS, optimizer=cr.Adam(resumed), epochs=2, resume=path,
               callbacks=[cr.EarlyStopping(patience=5)], verbose=0)
    np.testing.assert_array_equal(resumed.flat_parameters().theta, before)


class KeepLast(cr.Callback):
    """Keeps the last epoch's θ (in ``w``) but does not declare it in checkpoint_arrays."""

    def reset(self):
        self.w = None

    def on_epoch_end(self, epoch, logs, model):
        self.w = model.flat_parameters().theta.copy()
        return False

    def state_dict(self):
        return {}, ({} if self.w is None else {"w": self.w})

    def load_state_dict(self, state, arrays):
        self.w = arrays.get("w")


def test_an_undeclared_callback_array_fails_at_the_first_checkpoint_not_at_resume(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.HyperparameterError,
                       match=r"callbacks\[1\] \(KeepLast\): its state_dict array 'w' is not declared in "
                             r"checkpoint_arrays\(model\).*declare it there"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=3, verbose=0, checkpoint=path,
               callbacks=[cr.EarlyStopping(), KeepLast()])
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_callback_array_of_another_shape_than_declared_fails_when_saving(tmp_path):
    class Declared(KeepLast):
        def checkpoint_arrays(self, model):
            return {"w": ((3,), np.float32)}

    model = cr.mlp([4, 8, 3], seed=0)
    callback = Declared()
    callback.on_epoch_end(1, {}, model)
    with pytest.raises(cr.HyperparameterError,
                       match=r"callbacks\[0\] \(Declared\): its state_dict array 'w' has shape \(67,\) and dtype "
                             r"float32, but checkpoint_arrays\(model\) declares \(3,\) and float32"):
        save_checkpoint(tmp_path / "c.safetensors", model, cr.Adam(model), np.random.default_rng(0),
                        cr.History(epochs=1), [callback], 1, validation="none", seed=0)


def test_a_declared_callback_array_is_saved_and_resumed(tmp_path):
    class Declared(KeepLast):
        def checkpoint_arrays(self, model):
            theta = model.flat_parameters().theta
            return {"w": (theta.shape, theta.dtype)}

    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, verbose=0, checkpoint=path, callbacks=[Declared()])
    resumed = Declared()
    cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=2, verbose=0, resume=path, callbacks=[resumed])
    np.testing.assert_array_equal(resumed.w, read(path)[1]["callbacks.0.w"])


class Nested(cr.Callback):
    """Keeps a state of ``levels`` lists, one in the other, as its state_dict's ``deep``."""

    def __init__(self, levels):
        self.levels = levels

    def state_dict(self):
        deep = []
        for _ in range(self.levels - 1):
            deep = [deep]
        return {"deep": deep}, {}

    def load_state_dict(self, state, arrays):
        self.state = state


@pytest.mark.parametrize("levels", [STATE_NESTING, 2000])
def test_a_callback_state_nested_too_deep_is_named_as_the_callbacks_at_the_first_checkpoint(tmp_path, levels):
    # save refused it (nested more than MAX_NESTING deep in the checkpoint's extra_json), naming extra_json, which
    # no one gave, or, nested 2000 deep, the check of the state itself raised RecursionError
    path = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.HyperparameterError,
                       match=rf"^callbacks\[0\] \(Nested\): its state_dict state\['deep'\]\[0\].*: dicts and lists "
                             rf"nested more than {STATE_NESTING} deep; a callback's state_dict state may nest them "
                             rf"{STATE_NESTING} deep at most$"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=path,
               callbacks=[Nested(levels)])
    assert not path.exists()
    cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=path,
           callbacks=[Nested(STATE_NESTING - 1)])  # the state dict and its lists: STATE_NESTING deep
    resumed = Nested(0)
    cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, resume=path, callbacks=[resumed])
    assert resumed.state == Nested(STATE_NESTING - 1).state_dict()[0]


def nested_tuple(levels: int) -> tuple:
    deep = ()
    for _ in range(levels - 1):
        deep = (deep,)
    return deep


@pytest.mark.parametrize("method, returned, message", [
    ("state_dict", ({nested_tuple(2000): 1}, {}),
     r"its state_dict state has the key <a tuple nested too deep to show> \(tuple\), which JSON would give back"),
    ("state_dict", [[nested_tuple(2000)]] * 2, r"state_dict\(\) returned <a list nested too deep to show>; expected"),
    ("state_dict", nested_tuple(2000), r"state_dict\(\) returned <a tuple nested too deep to show>; expected a pair"),
    ("checkpoint_arrays", nested_tuple(2000), r"checkpoint_arrays\(model\) returned <a tuple nested too deep to show>"),
], ids=["key", "a list", "a tuple", "checkpoint_arrays"])
def test_a_callback_value_nested_too_deep_to_quote_is_still_named(tmp_path, method, returned, message):
    """A state or declaration nested about 1,000 deep, quoted in the error, raised RecursionError instead."""
    class Deep(cr.Callback):
        def state_dict(self):
            return returned if method == "state_dict" else ({}, {"w": np.zeros(2)})

        def checkpoint_arrays(self, model):
            return returned

    path = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.HyperparameterError, match=rf"^callbacks\[0\] \(Deep\): .*{message}"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=1, verbose=0, checkpoint=path, callbacks=[Deep()])
    assert not path.exists()


def test_checking_the_callback_arrays_copies_none_to_the_host(monkeypatch):
    # The ranks that write no checkpoint run this check each time rank 0 saves: a GPU θ-sized
    # best_theta must not be copied to the host for a shape check (to_numpy is that copy).
    from chainrule.training import checkpoint

    def no_host_copy(array):
        raise AssertionError("callback_checkpoint_state copied an array to the host")

    monkeypatch.setattr(checkpoint, "to_numpy", no_host_copy)
    model = cr.mlp([4, 8, 3], seed=0)
    stopper = cr.EarlyStopping()
    stopper.on_epoch_end(1, {"loss": 1.0}, model)  # keeps best_theta, a copy of θ
    states, arrays = checkpoint.callback_checkpoint_state([stopper], model)
    assert arrays["callbacks.0.best_theta"].shape == model.flat_parameters().theta.shape


# The validation set: a resumed run must validate on the rows the checkpoint's run held out -----

@pytest.mark.parametrize("saved_run, resumed_run, difference", [
    ({"validation": 0.2}, {"validation": 0.3}, "held out a different validation set"),
    ({"validation": 0.2, "seed": 0}, {"validation": 0.2, "seed": 1}, "held out a different validation set"),
    ({"validation": (X_IRIS[:30], Y_IRIS[:30])}, {"validation": (X_IRIS[30:60], Y_IRIS[:30])},
     "held out a different validation set"),
    ({"validation": (X_IRIS[:30], Y_IRIS[:30])}, {"validation": (X_IRIS[:30], Y_IRIS[30:60])},
     "held out a different validation set"),
    ({}, {"validation": 0.2}, "had no validation set, this run has one"),
    ({"validation": 0.2}, {}, "held out a validation set, this run has none"),
])
def test_resuming_with_another_validation_set_is_refused_before_anything_is_restored(
        tmp_path, saved_run, resumed_run, difference):
    """Another fraction or seed used to resume silently, training on rows that were validation rows."""
    path = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, momentum=0.9), epochs=2, callbacks=[cr.EarlyStopping()],
           checkpoint=path, verbose=0, **saved_run)
    resumed = cr.mlp([4, 8, 3], seed=1)
    optimizer, stopper = cr.SGD(resumed, momentum=0.9), cr.EarlyStopping()
    theta, velocity = resumed.flat_parameters().theta.copy(), optimizer.state["velocity"].copy()
    with pytest.raises(ModelFileError, match=f"checkpoint.safetensors: validation: the checkpoint's run {difference}.*; "
                                             r"resume with the same validation \(rows, targets and weights\), data and seed"):
        cr.fit(resumed, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=4, callbacks=[stopper], resume=path, verbose=0,
               **resumed_run)
    np.testing.assert_array_equal(resumed.flat_parameters().theta, theta)
    assert optimizer.t == 0 and np.array_equal(optimizer.state["velocity"], velocity)
    assert stopper.best_epoch is None and stopper.state_dict()[1] == {}


def test_load_checkpoint_refuses_another_validation_fingerprint_and_changes_nothing(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=1)  # validation=0.2
    model = cr.mlp([4, 8, 3], seed=1)
    optimizer = cr.SGD(model, lr=0.05, momentum=0.9)
    rng = np.random.default_rng(7)
    theta, rng_state = model.flat_parameters().theta.copy(), rng.bit_generator.state
    for validation in ("none", "0123456789abcdef"):
        with pytest.raises(ModelFileError, match="checkpoint.safetensors: validation: the checkpoint's run held out"):
            load_checkpoint(path, model, optimizer, rng, [cr.EarlyStopping()], validation=validation)
    np.testing.assert_array_equal(model.flat_parameters().theta, theta)
    assert optimizer.t == 0 and rng.bit_generator.state == rng_state
    # None (a caller that does not know the validation set) skips the comparison.
    assert load_checkpoint(path, model, optimizer, rng, [cr.EarlyStopping()])[1] == 1


def test_new_training_data_may_resume_with_the_same_validation_set(tmp_path):
    """Fine-tuning continues on other data; standardization is refitted, the validation rows are the same."""
    path = tmp_path / "checkpoint.safetensors"
    validation = (X_IRIS[::3], Y_IRIS[::3])

    def run(X, y, epochs, **kwargs):
        return cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, epochs=epochs, validation=validation, standardize=True,
                      verbose=0, **kwargs)

    run(X_IRIS[1::3], Y_IRIS[1::3], 2, checkpoint=path)
    history = run(X_IRIS[2::3], Y_IRIS[2::3], 4, resume=path)
    assert history.epochs == 4 and len(history.metrics["val_loss"]) == 4
    with pytest.raises(ModelFileError, match="validation: the checkpoint's run held out a different validation set"):
        cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS[2::3], Y_IRIS[2::3], epochs=4, validation=(X_IRIS[1::3], Y_IRIS[1::3]),
               standardize=True, verbose=0, resume=path)


def test_the_validation_fingerprint_hashes_the_rows_in_the_model_dtype_whatever_dtype_they_are_given_in(tmp_path):
    """Standardized rows are read in their own dtype, but hashed in the model's, as checkpoints
    always hashed them: a run's checkpoint resumes with its float64 rows given as float32."""
    path = tmp_path / "checkpoint.safetensors"

    def run(X_val, epochs, **kwargs):
        return cr.fit(cr.mlp([4, 8, 3], seed=0), X_IRIS, Y_IRIS, epochs=epochs, validation=(X_val, Y_IRIS[::3]),
                      standardize=True, verbose=0, **kwargs)

    run(X_IRIS[::3], 2, checkpoint=path)
    assert run(X_IRIS[::3].astype(np.float32), 3, resume=path).epochs == 3


def test_a_binary_classifiers_checkpoint_from_before_its_classes_were_named_resumes():
    # A run of one 0/1 label per row (binary cross-entropy) now names its classes ([False, True]);
    # its checkpoint, written before that, holds none: the same run, not other classes.
    from chainrule.training.checkpoint import _check_preprocessing

    rows, labels = np.zeros((4, 2)), np.array([True, False, True, False])
    now = cr.Preprocessor.fit(rows, labels, "multilabel", standardize=False)
    assert now.classes == [False, True]
    _check_preprocessing(cr.Preprocessor(2, "multilabel"), now, "checkpoint.safetensors")
    with pytest.raises(ModelFileError, match=r"run had the classes \['no', 'yes'\], this one \[False, True\]"):
        _check_preprocessing(cr.Preprocessor(2, "multilabel", classes=["no", "yes"]), now, "checkpoint.safetensors")


def test_a_model_a_checkpoint_cannot_hold_is_refused_before_it_trains(tmp_path):
    # A layer of one's own (docs/design.md's Scale) failed at the first checkpoint, its epochs lost.
    from tests.harness import Scale

    model = cr.Sequential(cr.Linear(4, 3), Scale(3, dtype="float32"), seed=0)
    theta = model.flat_parameters().theta.copy()
    with pytest.raises(ModelFileError, match=r"^checkpoint: .*run.ckpt: cannot save layer '1' \(Scale\): model files "
                                             r"hold only chainrule's own layers .*; or train without a checkpoint$"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=3, checkpoint=tmp_path / "run.ckpt", verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, theta)
    # Metadata that is not plain JSON failed at the first checkpoint too
    model = cr.mlp([4, 8, 3], seed=0)
    model.metadata["trained_on"] = datetime.date(2026, 1, 1)
    with pytest.raises(ModelFileError, match=r"^checkpoint: .*run.ckpt: cannot save: metadata is not plain JSON "
                                             r"\(date datetime.date\(2026, 1, 1\) is not JSON-serializable\)"):
        cr.fit(model, X_IRIS, Y_IRIS, epochs=3, checkpoint=tmp_path / "run.ckpt", verbose=0)
    assert not (tmp_path / "run.ckpt").exists()


def test_a_checkpoint_without_a_validation_fingerprint_resumes_unchecked(tmp_path):
    """Checkpoints written before the fingerprint existed still resume (documented in fit's resume)."""
    trained(tmp_path / "checkpoint.safetensors", epochs=2)  # validation=0.2
    assert read(tmp_path / "checkpoint.safetensors")[2]["validation"] != "none"
    old = resave(tmp_path / "checkpoint.safetensors", change_extra=lambda extra: extra.pop("validation"))
    model = cr.mlp([4, 8, 3], seed=0)
    history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=0.9), epochs=3, validation=0.3,
                     standardize=True, callbacks=[cr.EarlyStopping(patience=10)], resume=old, verbose=0)
    assert history.epochs == 3


def test_resuming_with_fewer_epochs_than_the_checkpoint_is_refused(tmp_path):
    """It used to train nothing and report stop_reason 'completed'."""
    path = tmp_path / "checkpoint.safetensors"
    trained(path, epochs=3)
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(cr.HyperparameterError, match="epochs: 2 is fewer than the 3 epochs the checkpoint .* holds"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=0.9), epochs=2, validation=0.2,
               standardize=True, callbacks=[cr.EarlyStopping(patience=10)], resume=path, verbose=0)


@pytest.mark.parametrize("options, fragment", [
    ({"standardize": False}, "the checkpoint's run standardized its inputs and this one does not (standardize=False)"),
    ({"y": ["a", "b", "c"]}, "the checkpoint's run had the classes [0, 1, 2], this one ['a', 'b', 'c']"),
    ({"loss": "mse"}, "the checkpoint's run trained for classification, this one for regression"),
])
def test_resuming_data_prepared_otherwise_is_refused(tmp_path, options, fragment):
    """standardize=False on a standardized run gave the weights raw inputs, and other class
    names of the same number gave the outputs other meanings, without a word."""
    X, y = load_iris(return_X_y=True)
    path = tmp_path / "run.safetensors"
    cr.fit(cr.mlp([4, 8, 3], seed=0), X, y, epochs=2, standardize=True, verbose=0, checkpoint=path)
    labels = np.asarray(options.pop("y"))[y] if "y" in options else y
    if options.get("loss") == "mse":
        labels = np.eye(3)[y]
    model = cr.mlp([4, 8, 3], seed=1)
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.ModelFileError, match=re.escape(f"{path}: {fragment}")):
        cr.fit(model, X, labels, epochs=3, verbose=0, resume=path, **{"standardize": True, **options})
    np.testing.assert_array_equal(model.flat_parameters().theta, before)
    history = cr.fit(model, X[::-1], y[::-1], epochs=3, standardize=True, verbose=0, resume=path)  # other rows: taken
    assert history.epochs == 3


@pytest.mark.parametrize("saved, resumed, fragment", [
    (True, False, "the checkpoint's run standardized its targets and this one does not (standardize_targets=False)"),
    (False, True, "the checkpoint's run did not standardize its targets and this one does (standardize_targets=True)"),
])
def test_resuming_with_target_standardization_switched_is_refused(tmp_path, saved, resumed, fragment):
    """The weights answer in the units of the targets they were trained on."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + 100
    path = tmp_path / "run.safetensors"
    cr.fit(cr.mlp([3, 4, 1], seed=0), X, y, epochs=2, standardize_targets=saved, verbose=0, checkpoint=path)
    with pytest.raises(cr.ModelFileError, match=re.escape(f"{path}: {fragment}")):
        cr.fit(cr.mlp([3, 4, 1], seed=1), X, y, epochs=3, standardize_targets=resumed, verbose=0, resume=path)
    history = cr.fit(cr.mlp([3, 4, 1], seed=1), X, y, epochs=3, standardize_targets=saved, verbose=0, resume=path)
    assert history.epochs == 3


@pytest.mark.parametrize("saved, resumed, fragment", [
    (0.9, 0.0, "the saved run's SGD had momentum > 0 and this one has momentum=0.0"),
    (0.0, 0.9, "the saved run's SGD had no momentum and this one has momentum=0.9"),
])
def test_sgd_resumed_with_momentum_turned_on_or_off_names_momentum(tmp_path, saved, resumed, fragment):
    """It said only "saved state tensors ['velocity'], but SGD has []"."""
    path = tmp_path / "run.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=saved), epochs=1, verbose=0,
           checkpoint=path)
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(ModelFileError, match=re.escape(fragment)):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=cr.SGD(model, lr=0.05, momentum=resumed), epochs=2, verbose=0,
               resume=path)


def test_the_steps_missed_while_frozen_are_saved_and_restored(tmp_path):
    model = cr.mlp([4, 8, 3], seed=0)
    optimizer = cr.Adam(model)
    model[0].trainable = False
    model.flat_parameters().grad[...] = 0.5
    for _ in range(3):
        optimizer.step()
    model[0].trainable = True
    optimizer.step()
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, optimizer, np.random.default_rng(0), cr.History(epochs=1), [], 1,
                    validation="none", seed=0)
    assert read(path)[2]["optimizer"]["missed"] == {"0.W": 3, "0.b": 3}

    fresh = cr.Adam(model)
    load_checkpoint(path, model, fresh, np.random.default_rng(0), [])
    assert fresh.t == 4 and fresh.missed == {"0.W": 3, "0.b": 3}
    # A checkpoint written before the counts were saved resumes as if no step was missed.
    older = resave(path, lambda e: e["optimizer"].pop("missed"))
    load_checkpoint(older, model, fresh, np.random.default_rng(0), [])
    assert fresh.t == 4 and fresh.missed == {}


def test_resuming_a_frame_of_columns_in_another_order_is_refused(tmp_path):
    """A fresh model took the new frame's order: the saved weights were trained on swapped features."""
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(X_IRIS, columns=["a", "b", "c", "d"])
    path = tmp_path / "run.safetensors"
    cr.fit(cr.mlp([4, 8, 3], seed=0), frame, Y_IRIS, epochs=2, standardize=True, verbose=0, checkpoint=path)
    with pytest.raises(ModelFileError, match=re.escape(f"{path}: the checkpoint's run read the columns "
                                                       f"['a', 'b', 'c', 'd'], this one ['d', 'c', 'b', 'a']")):
        cr.fit(cr.mlp([4, 8, 3], seed=0), frame[["d", "c", "b", "a"]], Y_IRIS, epochs=3, standardize=True, verbose=0,
               resume=path)
    for X in (frame, X_IRIS):  # the same columns, or an array read by position: taken
        assert cr.fit(cr.mlp([4, 8, 3], seed=0), X, Y_IRIS, epochs=3, standardize=True, verbose=0,
                      resume=path).epochs == 3


def test_a_custom_optimizer_with_a_velocity_of_its_own_gets_the_plain_message(tmp_path):
    """The momentum hint read optimizer.momentum of any optimizer keeping a "velocity": AttributeError."""
    class HeavyBall(cr.SGD):
        def __init__(self, model, extra):
            super().__init__(model, lr=0.05, momentum=0.9)
            if extra:
                self.state["extra"] = self.state["velocity"].copy()

    path = tmp_path / "run.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=HeavyBall(model, False), epochs=1, verbose=0, checkpoint=path)
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(ModelFileError, match=r"saved state tensors \['velocity'\], but HeavyBall has \['extra', "
                                             r"'velocity'\]$"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=HeavyBall(model, True), epochs=2, verbose=0, resume=path)


def test_a_history_of_more_epochs_than_the_checkpoint_is_refused(tmp_path):
    # Equal counts are required: a History ahead of the saved epoch would resume with extra epochs' values.
    trained(tmp_path / "checkpoint.safetensors", epochs=2)
    path = resave(tmp_path / "checkpoint.safetensors", lambda e: e.__setitem__("epoch", 1))
    model = cr.mlp([4, 8, 3], seed=1)
    optimizer = cr.SGD(model, lr=0.05, momentum=0.9)
    with pytest.raises(ModelFileError,
                       match="crafted.safetensors: checkpoint field history.epochs: expected the epoch 1, got 2"):
        load_checkpoint(path, model, optimizer, np.random.default_rng(7), [cr.EarlyStopping()])


@pytest.mark.parametrize("declared", [{"w": (3, "float32")}, {"w": ((3,), "no such dtype")}, {"w": (3,)}, ["w"]])
def test_a_malformed_checkpoint_arrays_declaration_fails_when_saving_naming_the_callback(tmp_path, declared):
    """A shape given as an int ended in a raw TypeError ('int' object is not iterable)."""
    class Declared(KeepLast):
        def checkpoint_arrays(self, model):
            return declared

    model = cr.mlp([4, 8, 3], seed=0)
    callback = Declared()
    callback.on_epoch_end(1, {}, model)
    with pytest.raises(cr.HyperparameterError, match=r"^callbacks\[0\] \(Declared\): checkpoint_arrays\(model\).* "
                                                     r"expected .*\(shape, dtype\)"):
        save_checkpoint(tmp_path / "c.safetensors", model, cr.Adam(model), np.random.default_rng(0),
                        cr.History(epochs=1), [callback], 1, validation="none", seed=0)
    assert os.listdir(tmp_path) == []


class CountingSGD(cr.Optimizer):
    """Plain SGD that keeps ``count`` in its state: 0 (a number) or, with ``as_array``, a vector of θ's layout."""

    def __init__(self, model, as_array=False):
        super().__init__(model, 0.05)
        self.state["count"] = np.zeros_like(model.flat_parameters().theta) if as_array else 0

    def rule(self, theta, grad, lr, vectors):
        return lr, grad


def test_an_optimizer_state_entry_that_is_not_an_array_fails_at_the_first_checkpoint(tmp_path):
    """It was written, and resuming it ended in a raw AttributeError ('int' object has no attribute 'shape')."""
    path = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(cr.HyperparameterError, match=r"^optimizer: CountingSGD.state\['count'\] is 0 \(int\), not an "
                                                     r"array, so a checkpoint holding it could not be resumed"):
        cr.fit(model, X_IRIS, Y_IRIS, optimizer=CountingSGD(model), epochs=1, verbose=0, checkpoint=path)
    assert not path.exists()


def test_resuming_into_an_optimizer_state_entry_that_is_not_an_array_names_it(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 8, 3], seed=0)
    cr.fit(model, X_IRIS, Y_IRIS, optimizer=CountingSGD(model, as_array=True), epochs=1, verbose=0, checkpoint=path)
    model = cr.mlp([4, 8, 3], seed=0)
    with pytest.raises(ModelFileError, match=r"checkpoint.safetensors: tensor 'optimizer.count': CountingSGD.state"
                                             r"\['count'\] is 0 \(int\), not an array"):
        load_checkpoint(path, model, CountingSGD(model), np.random.default_rng(0), [])


class Huber(cr.Loss):
    task = "regression"


class InstrumentedHuber(Huber):
    """A subclass of the run's loss (as a test instruments one): of its lineage, so resuming with it is taken."""


def test_a_checkpoint_records_its_loss_and_resuming_with_another_is_refused(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    model = cr.mlp([4, 3], seed=0)
    save_checkpoint(path, model, cr.Adam(model), np.random.default_rng(0), cr.History(), [], 0, validation="none",
                    seed=0, loss=Huber())
    assert read(path)[2]["loss"] == ["Huber"]
    fresh = cr.mlp([4, 3], seed=1)
    with pytest.raises(ModelFileError, match=r"checkpoint.safetensors: loss: the checkpoint's run trained with "
                                             r"'Huber', this call with 'MSE'; resume with the loss that run had"):
        load_checkpoint(path, fresh, cr.Adam(fresh), np.random.default_rng(0), [], loss=cr.MSE())
    load_checkpoint(path, fresh, cr.Adam(fresh), np.random.default_rng(0), [], loss=Huber())
    load_checkpoint(path, fresh, cr.Adam(fresh), np.random.default_rng(0), [], loss=InstrumentedHuber())
    older = resave(path, change_extra=lambda extra: extra.pop("loss"))  # written before the field existed
    load_checkpoint(older, fresh, cr.Adam(fresh), np.random.default_rng(0), [], loss=cr.MSE())


def test_a_checkpoint_saved_inside_stepping_holds_the_velocity_itself(tmp_path):
    """Inside ``stepping`` SGD keeps its velocity scaled; a checkpoint saved there holds v."""
    def stepped(inside):
        model = cr.mlp([4, 3], seed=0, dtype="float64")
        optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
        rng = np.random.default_rng(0)
        with optimizer.stepping() if inside else contextlib.nullcontext():
            for _ in range(5):
                for grad in model.grads.values():
                    grad[...] = rng.standard_normal(grad.shape)
                optimizer.step()
            if inside:
                save_checkpoint(tmp_path / "inside.safetensors", model, optimizer, rng, cr.History(epochs=1), [], 1,
                                validation="none", seed=0)
        return optimizer

    plain = stepped(False)
    stepped(True)
    _, tensors, _ = read(tmp_path / "inside.safetensors")
    np.testing.assert_allclose(tensors["optimizer.velocity"], plain.state["velocity"], rtol=1e-12)


def adam_run(path, eps_added_to, epochs=2, resume=None):
    """A run on iris with Adam adding ε to ``eps_added_to`` (an ε near √v̂, where the two forms part)."""
    model = cr.mlp([4, 8, 3], seed=0)
    optimizer = cr.Adam(model, lr=0.05, eps=1e-3, eps_added_to=eps_added_to)
    history = cr.fit(model, X_IRIS, Y_IRIS, optimizer=optimizer, epochs=epochs, standardize=True, seed=0,
                     checkpoint=path, resume=resume, verbose=0)
    return model, history


def test_a_checkpoint_records_where_adam_adds_eps_and_resumes_only_with_the_same(tmp_path):
    """A resumed run whose Adam added ε elsewhere would take other steps than the run it resumes: refused."""
    path = tmp_path / "checkpoint.safetensors"
    adam_run(path, "sqrt_v")
    assert read(path)[2]["optimizer"]["eps_added_to"] == "sqrt_v"
    resumed, _ = adam_run(tmp_path / "resumed.safetensors", "sqrt_v", epochs=4, resume=path)
    uninterrupted, _ = adam_run(tmp_path / "whole.safetensors", "sqrt_v", epochs=4)
    assert all(np.array_equal(resumed.params[name], uninterrupted.params[name]) for name in resumed.params)
    model = cr.mlp([4, 8, 3], seed=1)
    with pytest.raises(ModelFileError, match=r"checkpoint.safetensors: checkpoint field optimizer.eps_added_to: the "
                                             r"checkpoint's run added Adam's ε to 'sqrt_v', this call's Adam to "
                                             r"'sqrt_v_hat'; resume with Adam\(model, ..., eps_added_to='sqrt_v'\)$"):
        load_checkpoint(path, model, cr.Adam(model), np.random.default_rng(7), [])


@pytest.mark.parametrize("eps_added_to", ["sqrt_v_hat", "sqrt_v"])
def test_a_checkpoint_from_before_eps_added_to_was_recorded_added_eps_to_sqrt_v_hat(tmp_path, eps_added_to):
    adam_run(tmp_path / "checkpoint.safetensors", "sqrt_v_hat")
    path = resave(tmp_path / "checkpoint.safetensors", lambda extra: extra["optimizer"].pop("eps_added_to"))
    model = cr.mlp([4, 8, 3], seed=1)
    resuming = (contextlib.nullcontext() if eps_added_to == "sqrt_v_hat" else
                pytest.raises(ModelFileError, match="added Adam's ε to 'sqrt_v_hat', this call's Adam to 'sqrt_v'"))
    with resuming:
        load_checkpoint(path, model, cr.Adam(model, eps_added_to=eps_added_to), np.random.default_rng(7), [])


def test_a_checkpoint_with_another_eps_added_to_is_refused_naming_the_field(tmp_path):
    adam_run(tmp_path / "checkpoint.safetensors", "sqrt_v")
    path = resave(tmp_path / "checkpoint.safetensors", lambda extra: extra["optimizer"].update(eps_added_to=["v"]))
    model = cr.mlp([4, 8, 3], seed=1)
    with pytest.raises(ModelFileError, match=r"field optimizer.eps_added_to: expected one of 'sqrt_v_hat', 'sqrt_v', "
                                             r"got \['v'\]"):
        load_checkpoint(path, model, cr.Adam(model, eps_added_to="sqrt_v"), np.random.default_rng(7), [])
