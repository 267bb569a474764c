"""SGD: θ ← θ − η g; momentum v ← μ v + g, θ ← θ − η v; Nesterov θ ← θ − η (g + μ v).

Each test runs the first updates of a two-weight model and compares them with the rule
worked by hand (weights W = [0.5, −1.0], bias b = 0.25, gradients TINY_GRADS).
"""

import numpy as np
import pytest

import chainrule as cr
from tests.harness import TINY_GRADS, run_tiny_steps, tiny_model, write_grads


def assert_trajectory(actual, expected):
    for (W, b), (W_expected, b_expected) in zip(actual, expected, strict=True):
        assert W == pytest.approx(W_expected, rel=1e-12, abs=1e-15)
        assert b == pytest.approx(b_expected, rel=1e-12, abs=1e-15)


def test_plain():
    # θ ← θ − 0.1 g
    # step 1: W = [0.5 − 0.01, −1.0 + 0.02],  b = 0.25 − 0.03
    # step 2: W = [0.49 + 0.04, −0.98 − 0.01], b = 0.22 − 0.02
    # step 3: W = [0.53 − 0.02, −0.99 − 0.02], b = 0.20 + 0.01
    expected = [([0.49, -0.98], 0.22), ([0.53, -0.99], 0.20), ([0.51, -1.01], 0.21)]
    assert_trajectory(run_tiny_steps(lambda model: cr.SGD(model, lr=0.1), 3)[1], expected)


def test_momentum():
    # v ← 0.9 v + g, θ ← θ − 0.1 v
    # step 1: v = g1 = ([0.1, −0.2], 0.3);                θ = ([0.49, −0.98], 0.22)
    # step 2: v = 0.9 v + g2 = ([−0.31, −0.08], 0.47);     θ = ([0.521, −0.972], 0.173)
    # step 3: v = 0.9 v + g3 = ([−0.079, 0.128], 0.323);   θ = ([0.5289, −0.9848], 0.1407)
    expected = [([0.49, -0.98], 0.22), ([0.521, -0.972], 0.173), ([0.5289, -0.9848], 0.1407)]
    assert_trajectory(run_tiny_steps(lambda model: cr.SGD(model, lr=0.1, momentum=0.9), 3)[1], expected)


def test_nesterov():
    # v ← 0.9 v + g, θ ← θ − 0.1 (g + 0.9 v)
    # step 1: v = g1;  g + 0.9 v = 1.9 g1 = ([0.19, −0.38], 0.57);          θ = ([0.481, −0.962], 0.193)
    # step 2: v = ([−0.31, −0.08], 0.47); g2 + 0.9 v = ([−0.679, 0.028], 0.623); θ = ([0.5489, −0.9648], 0.1307)
    expected = [([0.481, -0.962], 0.193), ([0.5489, -0.9648], 0.1307)]
    assert_trajectory(run_tiny_steps(lambda model: cr.SGD(model, lr=0.1, momentum=0.9, nesterov=True), 2)[1], expected)


def test_weight_decay_applies_to_weights_not_biases():
    # g_W ← g_W + 0.5 W (the gradient of (λ/2)‖W‖²); the bias gradient is left alone.
    # step 1: g_W = [0.1 + 0.25, −0.2 − 0.5] = [0.35, −0.7];   W = [0.465, −0.93];  b = 0.25 − 0.03
    # step 2: g_W = [−0.4 + 0.2325, 0.1 − 0.465] = [−0.1675, −0.365]; W = [0.48175, −0.8935]; b = 0.22 − 0.02
    expected = [([0.465, -0.93], 0.22), ([0.48175, -0.8935], 0.20)]
    assert_trajectory(run_tiny_steps(lambda model: cr.SGD(model, lr=0.1, weight_decay=0.5), 2)[1], expected)


def test_weight_decay_with_momentum():
    # step 1: v_W = g_W + 0.5 W = [0.35, −0.7]; W = [0.465, −0.93]; v_b = 0.3, b = 0.22
    # step 2: g_W = [−0.1675, −0.365]; v_W = 0.9 [0.35, −0.7] + g_W = [0.1475, −0.995]
    #         W = [0.465 − 0.01475, −0.93 + 0.0995] = [0.45025, −0.8305]
    #         v_b = 0.27 + 0.2 = 0.47, b = 0.22 − 0.047 = 0.173
    expected = [([0.465, -0.93], 0.22), ([0.45025, -0.8305], 0.173)]
    assert_trajectory(run_tiny_steps(lambda model: cr.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.5), 2)[1], expected)


def test_velocity_state():
    model = tiny_model()
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    for gW, gb in TINY_GRADS[:2]:
        write_grads(model, gW, gb)
        optimizer.step()
    # The flat layout is [W (2 values), b (1 value)].
    np.testing.assert_allclose(optimizer.state["velocity"], [-0.31, -0.08, 0.47], rtol=1e-12)
    assert optimizer.t == 2
    assert "velocity" not in cr.SGD(tiny_model(), lr=0.1).state  # no state without momentum


@pytest.mark.parametrize("momentum", [1.0, -0.1, 1.5, float("nan")])
def test_momentum_outside_zero_one(momentum):
    with pytest.raises(cr.HyperparameterError, match="momentum: expected"):
        cr.SGD(tiny_model(), lr=0.1, momentum=momentum)


def test_momentum_message_names_the_interval_and_value():
    with pytest.raises(cr.HyperparameterError, match=r"momentum: expected a number in \[0, 1\), got 1.0"):
        cr.SGD(tiny_model(), lr=0.1, momentum=1.0)


def test_nesterov_without_momentum():
    with pytest.raises(cr.HyperparameterError, match="nesterov: Nesterov momentum needs momentum > 0"):
        cr.SGD(tiny_model(), lr=0.1, nesterov=True)
