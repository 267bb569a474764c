"""chainrule.training.history: the per-epoch record and its JSON form."""

import json
import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.json_output import json_text
from chainrule.training import History


def test_a_new_history_is_empty_and_completed():
    history = History()
    assert (history.metrics, history.grad_norms, history.initial_grad_norms) == ({}, {}, {})
    assert (history.epochs, history.best_epoch, history.stop_reason) == (0, None, "completed")
    assert history.last() == {}


def test_append_keeps_one_float_per_epoch_and_last_gives_the_latest():
    history = History()
    for loss, accuracy in [(1.0, 0.5), (0.5, 0.75)]:
        history.append("loss", loss)
        history.append("accuracy", accuracy)
    assert history.metrics == {"loss": [1.0, 0.5], "accuracy": [0.5, 0.75]}
    assert history.last() == {"loss": 0.5, "accuracy": 0.75}


def test_append_stores_plain_floats():
    history = History()
    history.append("loss", np.float32(0.25))
    assert type(history.metrics["loss"][0]) is float


def test_the_json_form_round_trips():
    history = History(metrics={"loss": [1.0, 0.5]}, grad_norms={"0": [0.1, 0.2]}, initial_grad_norms={"0": 0.1},
                      epochs=2, best_epoch=1, stop_reason="early_stopping")
    text = json.dumps(history.to_json())
    assert History.from_json(json.loads(text)) == history


def test_from_json_reads_the_null_that_metrics_json_writes_for_a_non_finite_value_as_nan():
    history = History(metrics={"loss": [1.0, math.nan], "val_loss": [math.inf, 0.5]},
                      grad_norms={"0": [0.1, -math.inf]}, initial_grad_norms={"0": math.nan}, epochs=2)
    back = History.from_json(json.loads(json_text(history.to_json())))  # as metrics.json holds it
    np.testing.assert_equal(back.metrics, {"loss": [1.0, math.nan], "val_loss": [math.nan, 0.5]})  # NaN == NaN here
    np.testing.assert_equal(back.grad_norms, {"0": [0.1, math.nan]})
    np.testing.assert_equal(back.initial_grad_norms, {"0": math.nan})
    assert back.best_epoch is None  # a null that means "none" stays None


def test_from_json_ignores_keys_it_does_not_know_and_defaults_missing_ones():
    history = History.from_json({"metrics": {"loss": [1.0]}, "epochs": 1, "written_by": "a later version"})
    assert history == History(metrics={"loss": [1.0]}, epochs=1)


def recorded_history() -> History:
    return History(metrics={"loss": [1.0, 0.5], "accuracy": [0.5, 0.75]}, grad_norms={"0": [0.1, 0.2]}, epochs=2)


def test_a_history_reads_as_the_mapping_of_its_metric_series():
    history = recorded_history()
    assert history["loss"] == [1.0, 0.5]
    assert "accuracy" in history and "val_loss" not in history
    assert list(history) == list(history.keys()) == ["loss", "accuracy"]
    assert dict(history.items()) == history.metrics
    assert len(history) == 2  # the number of metrics, not of epochs
    assert history.get("val_loss") is None
    assert not History()  # no metrics: empty, like an empty dict


def test_a_missing_metric_raises_a_key_error_listing_the_metrics_there_are():
    with pytest.raises(KeyError) as raised:
        recorded_history()["val_loss"]
    assert isinstance(raised.value, cr.errors.MissingKeyError) and isinstance(raised.value, cr.ChainruleError)
    assert str(raised.value) == "history has no metric 'val_loss'; the metrics recorded are 'loss', 'accuracy'"
    with pytest.raises(KeyError, match="the metrics recorded are none"):
        History()["loss"]


def test_the_mapping_is_read_only():
    history = recorded_history()
    with pytest.raises(TypeError):
        history["loss"] = [0.0]
    with pytest.raises(TypeError):
        del history["loss"]
    assert history["loss"] == [1.0, 0.5]


def test_equality_still_compares_every_field_not_only_the_metrics():
    assert recorded_history() == recorded_history()
    assert recorded_history() != History(metrics=recorded_history().metrics)


def test_a_partial_last_epoch_is_saved_and_not_counted_as_complete():
    history = History(metrics={"loss": [1.0, 0.5]}, epochs=2, stop_reason="interrupted", partial_last_epoch=True)
    assert history.complete_epochs == 1
    assert History.from_json(json.loads(json.dumps(history.to_json()))) == history
    assert History(epochs=2).complete_epochs == 2


def test_a_history_saved_before_the_partial_flag_existed_loads_with_whole_epochs():
    history = History.from_json({"metrics": {"loss": [1.0]}, "epochs": 1, "stop_reason": "interrupted"})
    assert history.partial_last_epoch is False and history.complete_epochs == 1


def test_from_json_refuses_the_whole_metrics_json_document_naming_its_keys():
    """The document instead of its "history" (History.from_json(metrics)) gave an empty History without a word."""
    document = {"format": "chainrule-metrics", "format_version": 1, "history": recorded_history().to_json()}
    with pytest.raises(cr.errors.DataError) as raised:
        History.from_json(document)
    assert str(raised.value) == (
        "history: expected the 'history' object of metrics.json, as History.to_json() writes it (with at least "
        "metrics and epochs), got an object with keys format, format_version, history (the whole metrics.json "
        'document: pass metrics["history"])')


@pytest.mark.parametrize("saved, found", [
    (None, "got None (NoneType)"),  # raised a raw TypeError
    ([{"metrics": {}, "epochs": 0}], "got [{'metrics': {}, 'epochs': 0}] (list)"),  # a raw AttributeError
    ({}, "got an empty object"),
    ({"metrics": {"loss": [1.0]}}, "got an object with keys metrics"),
])
def test_from_json_refuses_what_is_not_a_historys_json(saved, found):
    with pytest.raises(cr.errors.DataError, match=r"^history: expected the 'history' object of metrics.json, .*"
                                                  + re.escape(found) + "$"):
        History.from_json(saved)


@pytest.mark.parametrize("change, message", [
    # These were taken as they were: a str epoch count, an unknown stop reason, a negative best epoch.
    ({"epochs": "3"}, "history.epochs: expected an integer in [0, 9007199254740992], got '3'"),
    ({"stop_reason": "boom"}, "history.stop_reason: expected 'completed' or 'early_stopping' or 'interrupted', "
                              "got 'boom'"),
    ({"best_epoch": -7}, "history.best_epoch: expected an integer in [0, 9007199254740992] or null, got -7"),
    ({"partial_last_epoch": "yes"}, "history.partial_last_epoch: expected true or false, got 'yes'"),
    ({"metrics": [1, 2]}, "history.metrics: expected an object of number lists, got [1, 2]"),
    ({"metrics": {"loss": ["0.5"]}}, "history.metrics: expected an object of number lists, got {'loss': ['0.5']}"),
    ({"metrics": {1: [0.5]}}, "history.metrics: expected an object of number lists, got {1: [0.5]}"),
    ({"grad_norms": {"0": 0.1}}, "history.grad_norms: expected an object of number lists, got {'0': 0.1}"),
    ({"initial_grad_norms": {"0": [0.1]}}, "history.initial_grad_norms: expected an object of numbers, "
                                           "got {'0': [0.1]}"),
])
def test_from_json_names_a_field_of_the_wrong_type(change, message):
    with pytest.raises(cr.errors.DataError) as raised:
        History.from_json({**recorded_history().to_json(), **change})
    assert str(raised.value) == message


def saved_history() -> dict:
    """The JSON of a 2-epoch History of ``cr.mlp([2, 3, 1])`` (layers with weights "0" and "2"),
    as a checkpoint holds it."""
    return History(metrics={"loss": [1.0, 0.5], "val_loss": [0.75]}, grad_norms={"0": [0.1, 0.2], "2": [0.3]},
                   initial_grad_norms={"0": 0.1}, epochs=2, best_epoch=2).to_json()


def test_from_checkpoint_reads_back_a_history_that_agrees_with_its_epoch_and_network():
    history = History.from_checkpoint(saved_history(), "run.ckpt", epoch=2, model=cr.mlp([2, 3, 1], seed=0))
    assert history == History.from_json(saved_history())


@pytest.mark.parametrize("damage, epoch, message", [
    (lambda saved: saved.pop("epochs"), 2,
     "run.ckpt: checkpoint field history.epochs: expected an integer in [0, 9007199254740992], got nothing"),
    (lambda saved: saved.__setitem__("metrics", {"loss": [True]}), 2,
     "run.ckpt: checkpoint field history.metrics: expected an object of number lists, got {'loss': [True]}"),
    # The types first, then the epoch, then the agreement with the network.
    (lambda saved: saved["grad_norms"].__setitem__("1", [1.0]), 3,
     "run.ckpt: checkpoint field history.epochs: expected the epoch 3, got 2"),
    (lambda saved: saved["grad_norms"].__setitem__("1", [1.0]), 2,
     "run.ckpt: checkpoint field history.grad_norms: '1' is not a layer with weights of the checkpoint's network "
     "(0, 2)"),
])
def test_from_checkpoint_names_the_file_and_the_first_field_that_is_wrong(damage, epoch, message):
    saved = saved_history()
    damage(saved)
    with pytest.raises(cr.errors.ModelFileError) as raised:
        History.from_checkpoint(saved, "run.ckpt", epoch=epoch, model=cr.mlp([2, 3, 1], seed=0))
    assert str(raised.value) == message


def test_from_checkpoint_refuses_a_history_that_is_not_an_object():
    expected = r"^run.ckpt: checkpoint field history: expected an object, got \[1\]$"
    with pytest.raises(cr.errors.ModelFileError, match=expected):
        History.from_checkpoint([1], "run.ckpt", epoch=0, model=cr.mlp([2, 3, 1], seed=0))


def test_from_checkpoint_takes_any_number_a_float_holds():
    # A float64 fit on large inputs recorded val_loss 3.1e248 and checkpointed it; a bound of
    # 1e200 on saved values then refused the checkpoint it had written.
    saved = saved_history()
    saved["metrics"]["val_loss"].append(3.1e248)
    history = History.from_checkpoint(saved, "run.ckpt", epoch=2, model=cr.mlp([2, 3, 1], seed=0))
    assert history.metrics["val_loss"][-1] == 3.1e248


def test_keras_name_for_the_metrics_is_the_same_dict():
    history = History()
    history.append("loss", 0.5)
    assert history.history is history.metrics and history.history["loss"] == [0.5]


def test_repr_is_one_line_that_sums_the_run_up():
    """It was the dataclass's repr: every value of every series, 3,000 characters for the README's 20 epochs."""
    history = History(metrics={"loss": [1.0] * 500 + [0.0123456], "accuracy": [0.5] * 500 + [1.0]},
                      grad_norms={"0": [1.0] * 501, "2": [2.0] * 501}, epochs=501, best_epoch=7,
                      stop_reason="early_stopping")
    assert repr(history) == str(history) == (
        "History(epochs=501, stop_reason='early_stopping', best_epoch=7; last epoch: loss 0.01235, accuracy 1; "
        "per-epoch values in .metrics, gradient norms of 2 layers in .grad_norms)")
    assert repr(History(metrics={"loss": [math.nan], "own": ["text"]}, epochs=1, partial_last_epoch=True)) == (
        "History(epochs=1, stop_reason='completed', best_epoch=None, partial_last_epoch=True; last epoch: loss nan, "
        "own 'text'; per-epoch values in .metrics, gradient norms of 0 layers in .grad_norms)")
    assert "last epoch: none;" in repr(History())
