"""Hyperparameters changed after construction: checked as at construction, used from the next step.

Each change is compared with a fresh optimizer built with the new value: from the start, and
mid-run (the fresh one takes over the first one's state with load_state_dict).
"""

import numpy as np
import pytest

import chainrule as cr
from tests.harness import tiny_model

SIZES = [4, 5, 3]

# (optimizer type, constructor arguments, the attribute changed, its new value)
CHANGES = [
    (cr.SGD, {"weight_decay": 0.1}, "weight_decay", 0.5),  # used to keep stepping with 0.1
    (cr.SGD, {}, "weight_decay", 0.1),  # used to be a raw TypeError (float * None) at the next step
    (cr.SGD, {"weight_decay": 0.1}, "weight_decay", 0.0),
    (cr.SGD, {"momentum": 0.9, "weight_decay": 0.1}, "weight_decay", 0.02),
    (cr.SGD, {"momentum": 0.9}, "nesterov", True),
    (cr.SGD, {"momentum": 0.9, "nesterov": True}, "nesterov", False),
    (cr.Adam, {}, "beta1", 0.5),
    (cr.Adam, {}, "beta2", 0.9),
    (cr.Adam, {}, "eps", 1e-3),
    (cr.Adam, {}, "weight_decay", 0.1),
    (cr.Adam, {"weight_decay": 0.1}, "weight_decay", 0.5),
    (cr.Adam, {"weight_decay": 0.1}, "weight_decay", 0.0),
    (cr.AdamW, {}, "weight_decay", 0.2),
    (cr.AdamW, {}, "weight_decay", 0.0),
    (cr.AdamW, {"weight_decay": 0.0}, "weight_decay", 0.05),
    (cr.RMSProp, {}, "rho", 0.5),
    (cr.RMSProp, {}, "eps", 1e-3),
    (cr.RMSProp, {}, "weight_decay", 0.1),
    (cr.RMSProp, {"weight_decay": 0.1}, "weight_decay", 0.3),
]


def steps(optimizer, n_steps: int, seed: int) -> None:
    """``n_steps`` updates of the optimizer's model from gradients drawn from ``seed``."""
    flat = optimizer.model.flat_parameters()
    rng = np.random.default_rng(seed)
    for _ in range(n_steps):
        flat.grad[...] = rng.normal(size=flat.grad.shape)
        assert optimizer.step()


def theta(optimizer) -> np.ndarray:
    return optimizer.model.flat_parameters().theta


@pytest.mark.parametrize("kind, arguments, name, value", CHANGES)
def test_a_change_before_the_first_step_equals_building_with_the_new_value(kind, arguments, name, value):
    changed = kind(cr.mlp(SIZES, seed=0), lr=0.05, **arguments)
    setattr(changed, name, value)
    assert getattr(changed, name) == value
    fresh = kind(cr.mlp(SIZES, seed=0), lr=0.05, **{**arguments, name: value})
    steps(changed, 5, seed=1)
    steps(fresh, 5, seed=1)
    np.testing.assert_array_equal(theta(changed), theta(fresh))


@pytest.mark.parametrize("kind, arguments, name, value", CHANGES)
def test_a_change_between_steps_takes_effect_at_the_next_step(kind, arguments, name, value):
    changed = kind(cr.mlp(SIZES, seed=0), lr=0.05, **arguments)
    unchanged = kind(cr.mlp(SIZES, seed=0), lr=0.05, **arguments)
    steps(changed, 3, seed=1)
    steps(unchanged, 3, seed=1)
    setattr(changed, name, value)
    fresh = kind(unchanged.model, lr=0.05, **{**arguments, name: value})  # takes over from the same point
    fresh.load_state_dict(unchanged.state_dict())
    steps(changed, 4, seed=2)
    steps(fresh, 4, seed=2)
    np.testing.assert_array_equal(theta(changed), theta(fresh))
    for key, array in fresh.state.items():
        np.testing.assert_array_equal(changed.state[key], array)


@pytest.mark.parametrize("kind, arguments, name, value", CHANGES)
def test_state_dict_round_trips_after_a_change(kind, arguments, name, value):
    changed = kind(cr.mlp(SIZES, seed=0), lr=0.05, **arguments)
    steps(changed, 2, seed=1)
    setattr(changed, name, value)
    steps(changed, 2, seed=2)
    twin = cr.mlp(SIZES, seed=0)
    twin.flat_parameters().theta[...] = theta(changed)
    restored = kind(twin, lr=0.05, **{**arguments, name: value})
    restored.load_state_dict(changed.state_dict())
    assert restored.t == changed.t == 4
    steps(changed, 3, seed=3)
    steps(restored, 3, seed=3)
    np.testing.assert_array_equal(theta(changed), theta(restored))


# (optimizer type, constructor arguments, attribute, refused value, message)
REFUSED = [
    (cr.Adam, {}, "beta1", 1.5, r"beta1: expected a number in \[0, 1\), got 1.5"),
    (cr.AdamW, {}, "beta2", -0.1, r"beta2: expected a number in \[0, 1\), got -0.1"),
    (cr.Adam, {}, "eps", 0.0, "eps: expected a number > 0, got 0.0"),
    (cr.Adam, {}, "eps", 1e-50, "eps: expected a number >= 1.1754944e-38, the smallest normal float32"),
    (cr.RMSProp, {}, "rho", 1.0, r"rho: expected a number in \[0, 1\), got 1.0"),
    (cr.RMSProp, {}, "eps", float("nan"), "eps: expected a finite real number, got nan"),
    (cr.SGD, {}, "weight_decay", -1, "weight_decay: expected a number >= 0, got -1"),
    (cr.Adam, {"weight_decay": 0.1}, "weight_decay", "0.5", "weight_decay: expected a finite real number"),
    (cr.RMSProp, {}, "weight_decay", float("inf"), "weight_decay: expected a finite real number"),
    (cr.SGD, {}, "nesterov", True, "nesterov: Nesterov momentum needs momentum > 0"),
]


@pytest.mark.parametrize("kind, arguments, name, value, message", REFUSED)
def test_a_refused_value_is_named_and_leaves_the_optimizer_as_it_was(kind, arguments, name, value, message):
    refused = kind(cr.mlp(SIZES, seed=0), lr=0.05, **arguments)
    untouched = kind(cr.mlp(SIZES, seed=0), lr=0.05, **arguments)
    before = getattr(refused, name)
    with pytest.raises(cr.HyperparameterError, match=message):
        setattr(refused, name, value)
    assert getattr(refused, name) == before
    steps(refused, 3, seed=1)
    steps(untouched, 3, seed=1)
    np.testing.assert_array_equal(theta(refused), theta(untouched))


def test_weight_decay_vectors_are_made_and_freed_with_the_setting():
    optimizer = cr.SGD(cr.mlp(SIZES, seed=0), lr=0.05)
    assert optimizer._decay is None and optimizer._work2 is None
    optimizer.weight_decay = 0.1
    assert optimizer._decay is not None and optimizer._work2 is not None
    optimizer.weight_decay = 0
    assert optimizer._decay is None and optimizer._work2 is None  # nothing held for λ = 0


def test_a_new_non_zero_weight_decay_rewrites_the_vectors_in_place():
    # A training step captured into a CUDA graph reads and writes them where they were.
    optimizer = cr.RMSProp(cr.mlp(SIZES, seed=0), lr=0.05, weight_decay=0.1)
    decay, work = optimizer._decay, optimizer._work2
    optimizer.weight_decay = 0.2
    assert optimizer._decay is decay and optimizer._work2 is work
    assert float(decay.max()) == pytest.approx(0.2)


@pytest.mark.parametrize("value", ["no", 1, None])
def test_nesterov_takes_booleans_only(value):
    optimizer = cr.SGD(cr.mlp(SIZES, seed=0), lr=0.05, momentum=0.9)
    with pytest.raises(cr.HyperparameterError, match=r"^nesterov: expected True or False, got "):
        optimizer.nesterov = value
    assert optimizer.nesterov is False


def test_weight_decay_after_the_model_changed_is_refused_and_kept():
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, weight_decay=0.1)
    model.layers.append(cr.Linear(1, 1, dtype="float64"))
    with pytest.raises(cr.ShapeError, match="SGD: the model now has 5 parameters, the optimizer was made for 3"):
        optimizer.weight_decay = 0.2
    assert optimizer.weight_decay == 0.1
    model = cr.mlp(SIZES, seed=0)
    optimizer = cr.Adam(model, weight_decay=0.1)
    model.astype("float64")
    with pytest.raises(cr.DTypeError, match="Adam: the model's parameters are now float64"):
        optimizer.weight_decay = 0.0
    assert optimizer.weight_decay == 0.1 and optimizer._decay is not None
