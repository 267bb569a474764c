"""RMSProp: v ← ρ v + (1 − ρ) g², θ ← θ − η g / (√v + ε), against the rule by hand."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.harness import run_tiny_steps, tiny_model


def rmsprop_by_hand(theta, grads, lr, rho, eps, l2=0.0):
    v = 0.0
    trajectory = []
    for g in grads:
        g += l2 * theta  # weight decay as an L2 penalty
        v = rho * v + (1 - rho) * g * g  # running mean of g²
        theta -= lr * g / (math.sqrt(v) + eps)
        trajectory.append(theta)
    return trajectory


def test_first_step():
    # v = 0.1 g², so the step is 0.01 g / (√0.1 |g|) = 0.01/√0.1 · sign(g) ≈ 0.0316228 sign(g).
    _, trajectory = run_tiny_steps(lambda model: cr.RMSProp(model, lr=0.01, rho=0.9), 1)
    step = 0.01 / math.sqrt(0.1)
    W, b = trajectory[0]
    assert W == pytest.approx([0.5 - step, -1.0 + step], rel=1e-7)
    assert b == pytest.approx(0.25 - step, rel=1e-7)


def test_three_steps():
    _, trajectory = run_tiny_steps(lambda model: cr.RMSProp(model, lr=0.01, rho=0.9), 3)
    w1 = rmsprop_by_hand(0.5, [0.1, -0.4, 0.2], 0.01, 0.9, 1e-8)
    w2 = rmsprop_by_hand(-1.0, [-0.2, 0.1, 0.2], 0.01, 0.9, 1e-8)
    b = rmsprop_by_hand(0.25, [0.3, 0.2, -0.1], 0.01, 0.9, 1e-8)
    for (W, bias), expected in zip(trajectory, zip(w1, w2, b), strict=True):
        assert W == pytest.approx(list(expected[:2]), rel=1e-12)
        assert bias == pytest.approx(expected[2], rel=1e-12)
    # Step 2 of w1, by hand: v = 0.9·0.001 + 0.1·0.16 = 0.0169, w1 = (0.5 − step 1) + 0.01·0.4/0.13.
    assert trajectory[1][0][0] == pytest.approx(0.5 - 0.01 / math.sqrt(0.1) + 0.01 * 0.4 / 0.13, rel=1e-7)


def test_weight_decay_applies_to_weights_only():
    _, trajectory = run_tiny_steps(lambda model: cr.RMSProp(model, lr=0.01, rho=0.9, weight_decay=0.5), 2)
    w1 = rmsprop_by_hand(0.5, [0.1, -0.4], 0.01, 0.9, 1e-8, l2=0.5)
    b = rmsprop_by_hand(0.25, [0.3, 0.2], 0.01, 0.9, 1e-8)
    assert [W[0] for W, _ in trajectory] == pytest.approx(w1, rel=1e-12)
    assert [bias for _, bias in trajectory] == pytest.approx(b, rel=1e-12)


def test_state():
    optimizer, _ = run_tiny_steps(lambda model: cr.RMSProp(model, lr=0.01, rho=0.9), 2)
    assert optimizer.state["v"].tolist() == pytest.approx([0.0169, 0.9 * 0.004 + 0.1 * 0.01, 0.9 * 0.009 + 0.1 * 0.04])


def test_float32_gradients_beyond_the_square_root_of_the_largest_float32_still_move_the_parameter():
    # g² overflows float32 from 1.8e19; (1 − ρ) g² with ρ = 0.99 only from √(3.4e38 / 0.01) = 1.8e20,
    # as in PyTorch. Computing g·g first made v = inf and froze W at its initial values.
    model = cr.Sequential(cr.Linear(1, 2, dtype="float32"))
    model.params["0.W"][...] = [[0.5, -1.0]]
    model.params["0.b"][...] = 0.0
    optimizer = cr.RMSProp(model, lr=0.01)
    gradients = [(2e19, -3e19), (-1e20, 4e19), (1.5e20, 1.0)]
    for g in gradients:
        model.grads["0.W"][...] = [g]
        model.grads["0.b"][...] = 0.0
        assert optimizer.step(check_finite=True)
    expected = [rmsprop_by_hand(w0, [g[i] for g in gradients], 0.01, 0.99, 1e-8)[-1] for i, w0 in enumerate([0.5, -1.0])]
    np.testing.assert_allclose(model.params["0.W"][0].astype(np.float64), expected, rtol=1e-6)


def test_a_float32_gradient_whose_running_mean_overflows_stops_that_element_without_a_warning():
    # Beyond √(max / (1 − ρ)), v = inf: that element's steps are 0 from then on (PyTorch's result), the
    # step is taken, the other element trains on, and no NumPy overflow warning escapes (under
    # warnings-as-errors it aborted the step half way).
    model = cr.Sequential(cr.Linear(1, 2, dtype="float32"))
    model.params["0.W"][...] = [[0.5, -1.0]]
    model.params["0.b"][...] = 0.0
    optimizer = cr.RMSProp(model, lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for g in [(1e21, 0.5), (1.0, 0.5)]:
            model.grads["0.W"][...] = [g]
            model.grads["0.b"][...] = 0.0
            assert optimizer.step(check_finite=True)
    assert np.isinf(optimizer.state["v"][0]) and model.params["0.W"][0, 0] == 0.5
    expected = rmsprop_by_hand(-1.0, [0.5, 0.5], 0.01, 0.99, 1e-8)[-1]
    assert model.params["0.W"][0, 1] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name, value, message", [
    ("rho", 1.0, r"rho: expected a number in \[0, 1\), got 1.0"),
    ("eps", -1.0, "eps: expected a number > 0, got -1.0"),
])
def test_invalid_hyperparameters(name, value, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        cr.RMSProp(tiny_model(), lr=0.01, **{name: value})
