"""Learning-rate schedules: factor(t) at optimizer step t = 0, 1, 2, ..."""

import math
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.harness import tiny_model, weights_and_bias, write_grads


def test_step_decay():
    schedule = cr.StepDecay(3, gamma=0.1)
    assert [schedule(t) for t in range(7)] == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01])


def test_exponential_decay():
    schedule = cr.ExponentialDecay(0.9)
    assert [schedule(t) for t in range(4)] == pytest.approx([1, 0.9, 0.81, 0.729])


def test_cosine_decay():
    schedule = cr.CosineDecay(10)
    assert schedule(0) == 1.0
    assert schedule(5) == pytest.approx(0.5)
    assert schedule(10) == pytest.approx(0.0, abs=1e-15)
    assert schedule(25) == pytest.approx(0.0, abs=1e-15)  # stays at the floor after T
    assert schedule(2) == pytest.approx((1 + math.cos(math.pi * 0.2)) / 2)


def test_cosine_decay_floor():
    schedule = cr.CosineDecay(4, min_factor=0.1)
    assert [schedule(t) for t in (0, 2, 4, 8)] == pytest.approx([1.0, 0.55, 0.1, 0.1])


def test_linear_warmup():
    schedule = cr.LinearWarmup(4)
    assert [schedule(t) for t in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_linear_warmup_then_another_schedule_from_its_own_zero():
    schedule = cr.LinearWarmup(2, then=cr.ExponentialDecay(0.5))
    assert [schedule(t) for t in range(5)] == pytest.approx([0.5, 1.0, 1.0, 0.5, 0.25])


@pytest.mark.parametrize("schedule, t", [(cr.StepDecay(1, gamma=1e308), 5), (cr.ExponentialDecay(2), 2000)])
def test_a_factor_past_the_largest_float_is_inf(schedule, t):
    """Called on its own, the schedule raised a raw OverflowError from Python's float power."""
    assert schedule(t) == math.inf
    optimizer = cr.SGD(tiny_model(), lr=0.1, schedule=schedule)
    optimizer.t = t
    with pytest.raises(cr.HyperparameterError, match=rf"^schedule: {re.escape(repr(schedule))} returned inf at step "
                                                     rf"t={t}; expected a finite factor"):
        optimizer.current_lr


@pytest.mark.parametrize("schedule, t", [(cr.StepDecay(1, gamma=1e308), 5), (cr.ExponentialDecay(2), 2000)])
def test_a_factor_past_the_largest_float_is_inf_for_a_numpy_step_count_too(schedule, t):
    """A NumPy integer made NumPy's power: inf with an overflow warning, a FloatingPointError under
    numpy.seterr(all="raise")."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        assert schedule(np.int64(t)) == math.inf


def test_documented_warmup_cosine_example():
    warm_cosine = cr.LinearWarmup(100, then=cr.CosineDecay(900))
    assert (warm_cosine(0), warm_cosine(99), round(warm_cosine(100 + 450), 3)) == (0.01, 1.0, 0.5)


def test_optimizer_uses_the_schedule_at_each_step():
    # SGD with lr 0.1 and StepDecay(2, 0.5): steps 0 and 1 use 0.1, steps 2 and 3 use 0.05.
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, schedule=cr.StepDecay(2, gamma=0.5))
    rates = []
    for _ in range(4):
        rates.append(optimizer.current_lr)
        write_grads(model, [1.0, 0.0], 0.0)
        optimizer.step()
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05])
    W, b = weights_and_bias(model)
    assert W == pytest.approx([0.5 - 0.1 - 0.1 - 0.05 - 0.05, -1.0])
    assert b == 0.25


def test_adam_with_warmup_first_step_is_scaled():
    model = tiny_model()
    optimizer = cr.Adam(model, lr=0.1, schedule=cr.LinearWarmup(4))
    write_grads(model, [0.1, -0.2], 0.3)
    optimizer.step()
    W, b = weights_and_bias(model)
    assert W == pytest.approx([0.5 - 0.025, -1.0 + 0.025], abs=1e-7)  # η/4 · sign(g)
    assert b == pytest.approx(0.25 - 0.025, abs=1e-7)
    assert optimizer.current_lr == pytest.approx(0.05)


@pytest.mark.parametrize("make, message", [
    (lambda: cr.StepDecay(0), "step_size: expected an integer >= 1, got 0"),
    (lambda: cr.StepDecay(2, gamma=0), "gamma: expected a number > 0, got 0"),
    (lambda: cr.ExponentialDecay(-0.5), "gamma: expected a number > 0, got -0.5"),
    (lambda: cr.CosineDecay(1.5), "total_steps: expected an integer >= 1, got 1.5"),
    (lambda: cr.CosineDecay(10, min_factor=1.0), r"min_factor: expected a number in \[0, 1\), got 1.0"),
    (lambda: cr.LinearWarmup(0), "warmup_steps: expected an integer >= 1, got 0"),
    (lambda: cr.LinearWarmup(3, then=0.5), "then: expected a schedule"),
])
def test_invalid_schedules(make, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        make()


def test_schedules_are_stateless():
    schedule = cr.CosineDecay(10)
    first = [schedule(t) for t in range(12)]
    assert [schedule(t) for t in range(12)] == first
    assert np.all(np.diff(first[:11]) < 0)


@pytest.mark.parametrize("factor, shown", [
    (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (-1.0, "-1.0"), ("fast", "'fast'"), (None, "None"),
])
def test_a_schedule_factor_that_is_not_finite_or_is_negative_is_refused_before_the_step(factor, shown):
    # NaN used to pass the divergence guard (θ became NaN); a negative factor climbed the loss.
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9, schedule=lambda t: 1.0 if t < 2 else factor)
    for _ in range(2):
        write_grads(model, [1.0, 0.0], 0.0)
        assert optimizer.step(check_finite=True)
    before = model.flat_parameters().theta.copy()
    with pytest.raises(cr.HyperparameterError, match=rf"schedule: .* returned {re.escape(shown)} at step t=2"):
        optimizer.step(check_finite=True)
    np.testing.assert_array_equal(model.flat_parameters().theta, before)
    assert optimizer.t == 2


def test_a_schedule_factor_that_overflows_the_learning_rate_is_refused():
    optimizer = cr.Adam(tiny_model(), lr=1e10, schedule=lambda t: 1e300)
    with pytest.raises(cr.HyperparameterError, match=r"returned 1e\+300 at step t=0"):
        optimizer.current_lr


def test_fit_with_a_nan_schedule_raises_and_keeps_finite_weights():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 5)), rng.integers(0, 2, size=64)
    model = cr.mlp([5, 8, 2], seed=0)
    optimizer = cr.SGD(model, lr=0.1, schedule=lambda t: math.nan)
    with pytest.raises(cr.HyperparameterError, match="schedule"):
        cr.fit(model, X, y, optimizer=optimizer, epochs=2, verbose=0)
    assert np.isfinite(model.flat_parameters().theta).all()


def test_a_schedule_factor_of_zero_is_allowed_and_leaves_theta_unchanged():
    # CosineDecay's default floor is 0: from t = total_steps on, the steps stand still.
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, schedule=cr.CosineDecay(1))
    write_grads(model, [1.0, 0.0], 0.0)
    assert optimizer.step(check_finite=True)
    before = model.flat_parameters().theta.copy()
    assert optimizer.current_lr == 0.0
    assert optimizer.step(check_finite=True)
    np.testing.assert_array_equal(model.flat_parameters().theta, before)


@pytest.mark.parametrize("schedule", [cr.StepDecay(3, 0.5), cr.ExponentialDecay(0.9), cr.CosineDecay(10),
                                      cr.LinearWarmup(5, then=cr.CosineDecay(10))])
@pytest.mark.parametrize("t", ["a", -1, 1.5, True, None])
def test_a_step_that_is_no_count_is_refused_naming_t(schedule, t):
    # "a" raised TypeError from a comparison; -1 extrapolated the schedule (CosineDecay(10)(-1) = 0.9755)
    with pytest.raises(cr.HyperparameterError, match=r"^t: expected a step count, an integer >= 0, got "):
        schedule(t)
    assert schedule(np.int64(4)) == schedule(4)


def test_a_huge_negative_step_is_named_in_the_message():
    """Its repr raised ValueError inside the f"{t!r:.60}" that was to cut it."""
    with pytest.raises(cr.HyperparameterError, match=r"^t: expected a step count, an integer >= 0, "
                                                     r"got int <a negative int of 16,610 bits>$"):
        cr.CosineDecay(10)(-10 ** 5000)


def test_a_then_that_is_no_schedule_is_named_cut():
    """Its repr went whole into the message (raising ValueError for an int too large to write)."""
    with pytest.raises(cr.HyperparameterError, match=r"^then: expected a schedule .*, got <an int of 16,610 bits>$"):
        cr.LinearWarmup(5, then=10 ** 5000)
    with pytest.raises(cr.HyperparameterError, match=r", got '" + "x" * 59 + r"\.\.\.$"):
        cr.LinearWarmup(5, then="x" * 100_000)
