"""cr.fit with frozen layers: fine-tuning a head on a fixed base."""

import numpy as np
import pytest

import chainrule as cr
from tests.harness import UnfreezeAfter

OPTIMIZERS = {
    "sgd": lambda model: cr.SGD(model, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda model: cr.Adam(model, lr=0.01),
    "adamw": lambda model: cr.AdamW(model, lr=0.01, weight_decay=0.05),
    "rmsprop": lambda model: cr.RMSProp(model, lr=0.01, weight_decay=0.01),
}


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, y


def base_and_head():
    return cr.Sequential(cr.Linear(6, 16), cr.ReLU(), cr.Linear(16, 8), cr.Tanh(), cr.Linear(8, 3), seed=0)


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_the_frozen_base_is_bit_identical_and_the_head_trains_as_on_fixed_features(make):
    X, y = data()
    model = base_and_head()
    model[:-1].trainable = False
    base_before = {name: array.copy() for name, array in model.params.items() if not name.startswith("4.")}
    cr.fit(model, X, y, optimizer=make(model), epochs=3, batch_size=16, verbose=0)
    for name, array in base_before.items():
        np.testing.assert_array_equal(model.params[name], array, err_msg=name)

    features = base_and_head()[:-1].forward(X)  # what the frozen base computes, once for all rows
    head = cr.Sequential(base_and_head()[-1])
    cr.fit(head, features, y, optimizer=make(head), epochs=3, batch_size=16, verbose=0)
    np.testing.assert_allclose(model.params["4.W"], head.params["0.W"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.params["4.b"], head.params["0.b"], rtol=1e-5, atol=1e-7)
    assert not np.array_equal(model.params["4.W"], base_and_head().params["4.W"])


def test_frozen_layers_are_left_out_of_the_gradient_norms():
    # Recorded as 0, a frozen first layer read as a vanished gradient in the gradient-flow plot.
    X, y = data()
    model = base_and_head()
    model[0].trainable = False
    history = cr.fit(model, X, y, epochs=2, verbose=0)
    assert list(history.grad_norms) == ["2", "4"] and list(history.initial_grad_norms) == ["2", "4"]
    assert all(norm > 0 for norm in history.grad_norms["2"] + history.grad_norms["4"])


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_a_layer_frozen_after_its_layers_moved_is_not_trained(make):
    # The flat buffer kept its first names after a layer without parameters was put in before
    # them ("0.W" for layer "1"), so the optimizer took the frozen layer for a trainable one and
    # stepped it with its momentum or weight decay, and the gradient norms named layers "0" and "2".
    X, y = data()
    model = base_and_head()
    optimizer = make(model)
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, verbose=0)
    model.layers.insert(0, cr.Identity())
    model[1].trainable = False
    frozen = model.params["1.W"].copy()
    history = cr.fit(model, X, y, optimizer=optimizer, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_array_equal(model.params["1.W"], frozen)
    assert list(history.grad_norms) == ["3", "5"]


def test_an_all_frozen_model_is_refused_before_training():
    X, y = data()
    model = base_and_head()
    model.trainable = False
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.HyperparameterError, match="no trainable parameters: every layer is frozen"):
        cr.fit(model, X, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.flat_parameters().theta, before)
    assert model.preprocessor is None


@pytest.mark.parametrize("model", [cr.Sequential(), cr.Sequential(cr.ReLU()), cr.Tanh()])
def test_a_model_without_parameters_is_refused_before_training(model):
    """Such a model "trained" without a word, its loss never changing; it is not called all-frozen either."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(cr.HyperparameterError, match=r"^model: no parameters to train: the (Sequential|Tanh) holds "
                                                     r"no layer with parameters .*expected a model with a layer"):
        cr.fit(model, X, X, epochs=1, verbose=0)
    assert model.preprocessor is None and model.metadata == {}


def test_unfreezing_trains_the_whole_model_again():
    X, y = data()
    model = base_and_head()
    model[:-1].trainable = False
    cr.fit(model, X, y, epochs=1, verbose=0)
    base = model.params["0.W"].copy()
    model.trainable = True
    cr.fit(model, X, y, epochs=1, verbose=0)
    assert not np.array_equal(model.params["0.W"], base)



def test_resuming_needs_the_same_layers_frozen(tmp_path):
    X, y = data()
    model = base_and_head()
    model[:-1].trainable = False
    checkpoint = tmp_path / "run.safetensors"
    cr.fit(model, X, y, epochs=1, verbose=0, seed=0, checkpoint=checkpoint)

    unfrozen = base_and_head()
    with pytest.raises(cr.ModelFileError, match=r"parameter '0.W' was frozen in the checkpoint's run but is "
                                                r"trainable in the model"):
        cr.fit(unfrozen, X, y, epochs=2, verbose=0, seed=0, resume=checkpoint)
    more = base_and_head()
    more.trainable = False
    more[-1].trainable = True
    more[0].trainable = True
    with pytest.raises(cr.ModelFileError, match=r"parameter '0.W' was frozen in the checkpoint's run"):
        cr.fit(more, X, y, epochs=2, verbose=0, seed=0, resume=checkpoint)
    first_only = base_and_head()
    first_only[0].trainable = False
    cr.fit(first_only, X, y, epochs=1, verbose=0, seed=0, checkpoint=tmp_path / "first.safetensors")
    with pytest.raises(cr.ModelFileError, match=r"parameter '2.W' is frozen in the model but was trained"):
        cr.fit(model, X, y, epochs=2, verbose=0, seed=0, resume=tmp_path / "first.safetensors")

    same = base_and_head()
    same[:-1].trainable = False
    cr.fit(same, X, y, epochs=2, verbose=0, seed=0, resume=checkpoint)  # resumes
    np.testing.assert_array_equal(same.params["0.W"], base_and_head().params["0.W"])


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_a_resumed_run_that_unfroze_a_layer_continues_bit_for_bit(tmp_path, make):
    # The checkpoint holds the steps the first layer missed while frozen: Adam resumed without
    # them gave that layer the optimizer's step count in its bias correction.
    X, y = data()
    unbroken = base_and_head()
    unbroken[0].trainable = False
    unbroken_optimizer = make(unbroken)
    cr.fit(unbroken, X, y, optimizer=unbroken_optimizer, epochs=4, verbose=0, seed=0, callbacks=[UnfreezeAfter(2)])

    first = base_and_head()
    first[0].trainable = False
    checkpoint = tmp_path / "run.safetensors"
    cr.fit(first, X, y, optimizer=make(first), epochs=3, verbose=0, seed=0, callbacks=[UnfreezeAfter(2)],
           checkpoint=checkpoint)
    resumed = base_and_head()  # unfrozen, as the checkpoint's run was at epoch 3
    resumed_optimizer = make(resumed)
    cr.fit(resumed, X, y, optimizer=resumed_optimizer, epochs=4, verbose=0, seed=0, callbacks=[UnfreezeAfter(2)],
           resume=checkpoint)
    np.testing.assert_array_equal(resumed.flat_parameters().theta, unbroken.flat_parameters().theta)
    assert resumed_optimizer.t == unbroken_optimizer.t and resumed_optimizer.missed == unbroken_optimizer.missed
    assert unbroken_optimizer.missed == {"0.W": 14, "0.b": 14}  # 2 epochs of 7 batches (200 rows, 32 a batch)


def missed_on_resume(checkpoint, X, y) -> dict:
    """Adam's missed counts after resuming ``checkpoint`` (one epoch, seed 1) into base_and_head with an
    Identity put in first, as the checkpoint's run had it."""
    resumed = base_and_head()
    resumed.layers.insert(0, cr.Identity())
    optimizer = cr.Adam(resumed, lr=0.01)
    cr.fit(resumed, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=1, verbose=0, resume=checkpoint)
    return optimizer.missed


def test_steps_missed_while_frozen_follow_a_parameter_renamed_by_a_layer_put_in_before_it(tmp_path):
    """Adam's count of the steps a parameter missed while its layer was frozen is kept by name
    ("0.W"); a layer without parameters put in before it renames it ("1.W"), and the count stayed
    under the old name: the layer was then corrected as if it had taken every step, and a
    checkpoint holding the stale name could not be resumed (ModelFileError: '0.W' is not a
    parameter of the model)."""
    X, y = data()

    def trained(insert_identity, checkpoint=None):
        model = base_and_head()
        optimizer = cr.Adam(model, lr=0.01)
        model[0].trainable = False
        cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=0, verbose=0)
        model[0].trainable = True
        if insert_identity:  # the same function, the first Linear now at path "1"
            model.layers.insert(0, cr.Identity())
        cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=1, verbose=0, checkpoint=checkpoint)
        return model, optimizer

    renamed, optimizer = trained(True, checkpoint=tmp_path / "run.safetensors")
    plain, _ = trained(False)
    for name, array in plain.params.items():  # every path one on in the renamed model: "0.W" is "1.W"
        layer, _, field = name.partition(".")
        np.testing.assert_array_equal(renamed.params[f"{int(layer) + 1}.{field}"], array, err_msg=name)
    assert optimizer.missed == {"1.W": 13, "1.b": 13}
    assert missed_on_resume(tmp_path / "run.safetensors", X, y) == {"1.W": 13, "1.b": 13}


def test_steps_missed_while_frozen_follow_their_layer_into_a_buffer_made_anew(tmp_path):
    """With a layer put in before the frozen one and another replaced, the buffer is made anew, and
    the counts stayed under the old names: the moved layer was bias-corrected as if it had taken
    every step, and the checkpoint could not be resumed ('0.W' is not a parameter of the model)."""
    X, y = data()
    model = base_and_head()
    optimizer = cr.Adam(model, lr=0.01)
    model[0].trainable = False
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=0, verbose=0)
    model[0].trainable = True
    model.layers.insert(0, cr.Identity())
    model.layers[5] = cr.Linear(8, 3, seed=1)  # the head replaced: a new layer object, a new buffer
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=1, verbose=0,
           checkpoint=tmp_path / "run.safetensors")
    assert optimizer.missed == {"1.W": 13, "1.b": 13}
    assert missed_on_resume(tmp_path / "run.safetensors", X, y) == {"1.W": 13, "1.b": 13}


def test_steps_missed_while_frozen_stay_at_the_path_of_a_layer_replaced_there():
    """A frozen layer replaced by another is no longer in the buffer made anew: its counts stay at its
    path, as its Adam state in the buffer does (read as the new layer's), rather than being dropped."""
    X, y = data()
    model = base_and_head()
    optimizer = cr.Adam(model, lr=0.01)
    model[4].trainable = False
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=0, verbose=0)
    model.layers[4] = cr.Linear(8, 3, seed=1)  # a new layer object at path "4", trainable: a new buffer
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=16, seed=1, verbose=0)
    assert optimizer.missed == {"4.W": 13, "4.b": 13}
