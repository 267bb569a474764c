"""chainrule.training.history: the per-epoch record and its JSON form."""

import json

import numpy as np

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


def test_from_json_ignores_keys_it_does_not_know_and_defaults_missing_ones():
    history = History.from_json({"metrics": {"loss": [1.0]}, "epochs": 1, "written_by": "a later version"})
    assert history == History(metrics={"loss": [1.0]}, epochs=1)
