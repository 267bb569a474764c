"""Optimizers and frozen layers: only trainable parameters (and their state) are updated."""

import numpy as np
import pytest

import chainrule as cr

OPTIMIZERS = {
    "sgd_momentum_decay": lambda model: cr.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda model: cr.SGD(model, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_plain": lambda model: cr.SGD(model, lr=0.1),
    "adam_decay": lambda model: cr.Adam(model, lr=0.01, weight_decay=0.01),
    "adamw": lambda model: cr.AdamW(model, lr=0.01, weight_decay=0.1),
    "rmsprop_decay": lambda model: cr.RMSProp(model, lr=0.01, weight_decay=0.01),
}


def three_layers(seed=0):
    return cr.Sequential(cr.Linear(4, 5), cr.Tanh(), cr.Linear(5, 3), cr.Tanh(), cr.Linear(3, 2), seed=seed)


def gradient(step, size):
    return np.random.default_rng(step).normal(size=size).astype(np.float32)


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_frozen_parameters_and_their_state_are_untouched(make):
    model = three_layers()
    model[2].trainable = False  # the middle: two runs of trainable parameters around it
    flat = model.flat_parameters()
    optimizer = make(model)
    frozen = slice(flat.slices["2.W"].start, flat.slices["2.b"].stop)
    before = flat.theta[frozen].copy()
    for step in range(5):
        flat.grad[...] = gradient(step, flat.grad.size)  # frozen gradients too, as a custom backward might
        assert optimizer.step(check_finite=True)
    np.testing.assert_array_equal(flat.theta[frozen], before)
    for name, array in optimizer.state.items():
        assert array.shape == flat.theta.shape, name  # the layout is kept
        assert not array[frozen].any(), name
    assert not np.array_equal(model.params["0.W"], three_layers().params["0.W"])


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_trainable_parameters_move_as_in_a_model_of_those_layers_alone(make):
    model = three_layers()
    model[:3].trainable = False
    head = cr.Sequential(cr.Linear(3, 2))
    head.params["0.W"], head.params["0.b"] = model.params["4.W"], model.params["4.b"]
    flat, head_flat = model.flat_parameters(), head.flat_parameters()
    optimizer, head_optimizer = make(model), make(head)
    for step in range(5):
        flat.grad[...] = gradient(step, flat.grad.size)
        head_flat.grad[...] = flat.grad[flat.slices["4.W"].start:]
        optimizer.step()
        head_optimizer.step()
    np.testing.assert_array_equal(model.params["4.W"], head.params["0.W"])
    np.testing.assert_array_equal(model.params["4.b"], head.params["0.b"])


def test_unfreezing_later_trains_the_layer():
    model = three_layers()
    model[0].trainable = False
    flat = model.flat_parameters()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    flat.grad[...] = 1.0
    optimizer.step()
    first = model.params["0.W"].copy()
    model[0].trainable = True
    flat.grad[...] = 1.0
    optimizer.step()
    np.testing.assert_allclose(model.params["0.W"], first - 0.1, rtol=1e-6)  # a fresh velocity: η g
    assert optimizer.state["velocity"][flat.slices["0.W"]].tolist() == [1.0] * 20


def test_an_all_frozen_model_steps_only_its_count():
    model = three_layers()
    model.trainable = False
    flat = model.flat_parameters()
    optimizer = cr.Adam(model, lr=0.1, weight_decay=0.1)
    before = flat.theta.copy()
    flat.grad[...] = 1.0
    assert optimizer.step(check_finite=True)
    assert optimizer.t == 1
    np.testing.assert_array_equal(flat.theta, before)
    assert not optimizer.state["m"].any() and not optimizer.state["v"].any()


def test_the_guard_sums_over_the_trainable_runs_only():
    model = three_layers()
    model[2].trainable = False
    flat = model.flat_parameters()
    optimizer = cr.SGD(model, lr=0.1)
    before = flat.theta.copy()
    flat.grad[...] = 0.0
    flat.grad[flat.slices["2.W"]] = np.inf  # frozen: not used
    assert optimizer.step(check_finite=True)
    flat.grad[...] = 0.0
    flat.grad[flat.slices["4.b"]] = np.nan  # in the second run: the whole step is refused
    assert not optimizer.step(check_finite=True)
    np.testing.assert_array_equal(flat.theta, before)


class WholeVectorSGD(cr.SGD):
    """A user's optimizer written against the older contract: update for the whole of θ."""

    def update(self, theta, grad, lr):
        return lr, grad


class HalvedSGD(cr.Optimizer):
    """A user's optimizer written as a rule: it works on each run of trainable parameters."""

    def rule(self, theta, grad, lr, vectors):
        np.multiply(grad, 0.5, out=vectors.work)
        return lr, vectors.work


def test_an_optimizer_that_overrides_update_is_refused_with_frozen_layers():
    model = three_layers()
    optimizer = WholeVectorSGD(model, lr=0.1)
    optimizer.step()  # nothing frozen: its update is used
    model[0].trainable = False
    with pytest.raises(cr.HyperparameterError, match="overrides update.*frozen layers"):
        optimizer.step()
    assert optimizer.t == 1


def test_an_optimizer_that_implements_rule_skips_frozen_layers():
    model = three_layers()
    model[0].trainable = False
    flat = model.flat_parameters()
    optimizer = HalvedSGD(model, lr=1.0)
    before = flat.theta.copy()
    flat.grad[...] = 1.0
    optimizer.step()
    change = before - flat.theta
    assert not change[flat.slices["0.W"]].any()
    np.testing.assert_allclose(change[flat.slices["2.W"].start:], 0.5, rtol=1e-6)


def test_trainable_runs_merge_neighbours_and_follow_changes():
    model = three_layers()
    flat = model.flat_parameters()
    assert flat.trainable_runs() is None
    model[2].trainable = False
    assert flat.trainable_runs() == [slice(0, 25), slice(43, 51)]
    model[0].trainable = False
    assert flat.trainable_runs() == [slice(43, 51)]
    model.trainable = False
    assert flat.trainable_runs() == []
    model.trainable = True
    assert flat.trainable_runs() is None
