"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), against the rule by hand.

With β₁ = 0.9, β₂ = 0.999: m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g²,
m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), θ ← θ − η m̂ / (√v̂ + ε).
"""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.harness import TINY_GRADS, run_tiny_steps, tiny_model

LR, BETA1, BETA2, EPS = 0.1, 0.9, 0.999, 1e-8
W0, B0 = [0.5, -1.0], 0.25


def adam_by_hand(theta, grads, *, l2=0.0, decoupled=0.0, decays=True, eps=EPS, eps_on_v=False):
    """One parameter's trajectory under Adam, written out scalar by scalar.

    ``l2`` adds λθ to g (Adam's weight_decay); ``decoupled`` shrinks θ by η λ θ first (AdamW).
    ``eps_on_v``: scikit-learn's update (AdamOptimizer._get_updates) in place of the rule above,
    η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ), θ ← θ − η_t m / (√v + ε).
    """
    m = v = 0.0
    trajectory = []
    for t, g in enumerate(grads, start=1):
        if decays:
            theta -= LR * decoupled * theta  # AdamW: θ ← θ − η λ θ
            g += l2 * theta  # Adam + L2: g ← g + λ θ
        m = BETA1 * m + (1 - BETA1) * g  # first moment
        v = BETA2 * v + (1 - BETA2) * g * g  # second moment
        if eps_on_v:  # scikit-learn's learning_rate and updates
            learning_rate = LR * math.sqrt(1 - BETA2**t) / (1 - BETA1**t)
            theta += -learning_rate * m / (math.sqrt(v) + eps)
        else:
            m_hat = m / (1 - BETA1**t)  # bias correction
            v_hat = v / (1 - BETA2**t)
            theta -= LR * m_hat / (math.sqrt(v_hat) + eps)
        trajectory.append(theta)
    return trajectory


def expected_trajectory(n_steps, **rule):
    w1 = adam_by_hand(W0[0], [gW[0] for gW, _ in TINY_GRADS[:n_steps]], **rule)
    w2 = adam_by_hand(W0[1], [gW[1] for gW, _ in TINY_GRADS[:n_steps]], **rule)
    b = adam_by_hand(B0, [gb for _, gb in TINY_GRADS[:n_steps]], **rule | {"decays": False})
    return [([a, c], d) for a, c, d in zip(w1, w2, b)]


def assert_trajectory(actual, expected):
    for (W, b), (W_expected, b_expected) in zip(actual, expected, strict=True):
        assert W == pytest.approx(W_expected, rel=1e-12)
        assert b == pytest.approx(b_expected, rel=1e-12)


def test_first_step_moves_each_parameter_by_lr():
    # At t = 1 bias correction gives m̂ = g and v̂ = g², so the step is η g / (|g| + ε) ≈ η sign(g).
    _, trajectory = run_tiny_steps(lambda model: cr.Adam(model, lr=LR), 1)
    W, b = trajectory[0]
    assert W == pytest.approx([0.5 - 0.1, -1.0 + 0.1], abs=1e-7)
    assert b == pytest.approx(0.25 - 0.1, abs=1e-7)


def test_three_steps_with_bias_correction():
    _, trajectory = run_tiny_steps(lambda model: cr.Adam(model, lr=LR), 3)
    assert_trajectory(trajectory, expected_trajectory(3))
    # Step 2 of w1 by hand: m = 0.9·0.01 + 0.1·(−0.4) = −0.031, v = 0.999·1e-5 + 0.001·0.16 = 1.6999e-4,
    # m̂ = −0.031/0.19, v̂ = 1.6999e-4/0.001999, w1 = 0.4 − 0.1 m̂/√v̂.
    w1 = 0.4 - 0.1 * (-0.031 / 0.19) / math.sqrt(1.6999e-4 / 0.001999)
    assert trajectory[1][0][0] == pytest.approx(w1, rel=1e-7)


def test_moment_state():
    optimizer, _ = run_tiny_steps(lambda model: cr.Adam(model, lr=LR), 2)
    g1 = np.array([0.1, -0.2, 0.3])
    g2 = np.array([-0.4, 0.1, 0.2])
    np.testing.assert_allclose(optimizer.state["m"], 0.9 * 0.1 * g1 + 0.1 * g2, rtol=1e-12)
    np.testing.assert_allclose(optimizer.state["v"], 0.999 * 0.001 * g1**2 + 0.001 * g2**2, rtol=1e-12)


def test_adam_l2_weight_decay_is_added_to_the_weight_gradient():
    _, trajectory = run_tiny_steps(lambda model: cr.Adam(model, lr=LR, weight_decay=0.5), 3)
    assert_trajectory(trajectory, expected_trajectory(3, l2=0.5))


def test_adamw_decoupled_weight_decay():
    # Step 1: W ← W − 0.1·0.1·W = [0.495, −0.99], then the Adam step −0.1 sign(g): [0.395, −0.89].
    # The bias is not decayed: 0.25 − 0.1.
    _, trajectory = run_tiny_steps(lambda model: cr.AdamW(model, lr=LR, weight_decay=0.1), 3)
    assert trajectory[0][0] == pytest.approx([0.395, -0.89], abs=1e-7)
    assert trajectory[0][1] == pytest.approx(0.15, abs=1e-7)
    assert_trajectory(trajectory, expected_trajectory(3, decoupled=0.1))


def test_adamw_differs_from_adam_with_l2():
    _, adamw = run_tiny_steps(lambda model: cr.AdamW(model, lr=LR, weight_decay=0.1), 2)
    _, adam_l2 = run_tiny_steps(lambda model: cr.Adam(model, lr=LR, weight_decay=0.1), 2)
    assert adamw[1][0] != pytest.approx(adam_l2[1][0], rel=1e-6)
    assert adamw[1][1] == adam_l2[1][1]  # the bias follows plain Adam in both


# An ε near √v̂ (gradients of 0.1-0.4), where the two forms part: 32 ε against ε at the first step
LARGE_EPS = 0.05


@pytest.mark.parametrize("kind, rule", [(cr.Adam, {}), (cr.Adam, {"l2": 0.5}), (cr.AdamW, {"decoupled": 0.1})])
def test_eps_added_to_sqrt_v_steps_as_scikit_learns_adam(kind, rule):
    decay = {"weight_decay": rule.get("l2", rule.get("decoupled", 0.0))}
    _, trajectory = run_tiny_steps(lambda model: kind(model, lr=LR, eps=LARGE_EPS, eps_added_to="sqrt_v", **decay), 3)
    assert_trajectory(trajectory, expected_trajectory(3, eps=LARGE_EPS, eps_on_v=True, **rule))
    _, default = run_tiny_steps(lambda model: kind(model, lr=LR, eps=LARGE_EPS, **decay), 3)
    assert_trajectory(default, expected_trajectory(3, eps=LARGE_EPS, **rule))  # √v̂ + ε, the default
    assert trajectory[0][1] != pytest.approx(default[0][1], rel=1e-3)


def test_eps_added_to_sqrt_v_is_scikit_learns_adam_optimizer():
    """Three steps of scikit-learn's own AdamOptimizer on the same gradients give the same weights."""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer
    params = [np.array(W0), np.array([B0])]
    theirs = AdamOptimizer(params, learning_rate_init=LR, beta_1=BETA1, beta_2=BETA2, epsilon=LARGE_EPS)
    _, trajectory = run_tiny_steps(lambda model: cr.Adam(model, lr=LR, eps=LARGE_EPS, eps_added_to="sqrt_v"), 3)
    for (gW, gb), (W, b) in zip(TINY_GRADS[:3], trajectory, strict=True):
        theirs.update_params(params, [np.array(gW), np.array([gb])])
        np.testing.assert_allclose(W, params[0], rtol=1e-13)
        np.testing.assert_allclose(b, params[1][0], rtol=1e-13)


@pytest.mark.parametrize("kind", [cr.Adam, cr.AdamW])
def test_eps_added_to_is_checked_fixed_shown_and_kept_by_copies(kind):
    with pytest.raises(cr.HyperparameterError, match=r"^eps_added_to: expected one of 'sqrt_v_hat', 'sqrt_v' "
                                                     r".*got 'v'$"):
        kind(tiny_model(), eps_added_to="v")
    optimizer = kind(tiny_model(), eps_added_to="sqrt_v")
    assert "eps_added_to='sqrt_v'" in repr(optimizer)
    assert "eps_added_to" not in repr(kind(tiny_model()))  # the default, as repr showed it before
    with pytest.raises(cr.HyperparameterError, match=r"^eps_added_to: fixed when .* is made \(now 'sqrt_v'\)"):
        optimizer.eps_added_to = "sqrt_v_hat"
    optimizer.eps_added_to = "sqrt_v"  # the form it has: taken, nothing changes
    with pytest.raises(cr.HyperparameterError, match=r"^eps_added_to: expected one of"):
        optimizer.eps_added_to = "v"
    assert optimizer.eps_added_to == "sqrt_v"
    assert copy.deepcopy(optimizer).eps_added_to == "sqrt_v"
    assert pickle.loads(pickle.dumps(optimizer)).eps_added_to == "sqrt_v"


@pytest.mark.parametrize("value, shown", [
    (None, "None"), (1, "1"), (b"sqrt_v", "b'sqrt_v'"), (["sqrt_v"], r"\['sqrt_v'\]"),
    # equal to a form (== is True), but not a str: held, it would be an array where the rule compares a str
    (np.array("sqrt_v"), r"array\('sqrt_v', dtype='<U6'\)"),
])
def test_an_eps_added_to_that_is_not_a_form_s_str_is_refused_naming_it(value, shown):
    with pytest.raises(cr.HyperparameterError, match=rf"^eps_added_to: expected one of 'sqrt_v_hat', 'sqrt_v' "
                                                     rf"\(ε added to √v̂, PyTorch's, or to √v, scikit-learn's\), "
                                                     rf"got {shown}$"):
        cr.Adam(tiny_model(), eps_added_to=value)


def test_an_adam_pickled_before_eps_added_to_existed_adds_eps_to_sqrt_v_hat_as_it_did():
    optimizer = cr.Adam(tiny_model(), eps_added_to="sqrt_v")
    state = optimizer.__getstate__()
    del state["_eps_added_to"]  # what an Adam pickled before held
    loaded = cr.Adam.__new__(cr.Adam)
    loaded.__setstate__(state)
    assert loaded.eps_added_to == "sqrt_v_hat"


def test_adamw_default_weight_decay():
    assert cr.AdamW(tiny_model()).weight_decay == 0.01
    assert cr.Adam(tiny_model()).weight_decay == 0.0


def float32_steps(make, gradients):
    """W of a float32 Linear(1, 2) (W = [[0.5, −1.0]], b = 0) after a step for each (g_w1, g_w2) in
    ``gradients`` (the bias's gradient 0), with the divergence guard on, and whether it took each step."""
    model = cr.Sequential(cr.Linear(1, 2, dtype="float32"))
    model.params["0.W"][...] = [[0.5, -1.0]]
    model.params["0.b"][...] = 0.0
    optimizer = make(model)
    taken = []
    for g in gradients:
        model.grads["0.W"][...] = [g]
        model.grads["0.b"][...] = 0.0
        taken.append(optimizer.step(check_finite=True))
    return model.params["0.W"][0].astype(np.float64), taken, optimizer


@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
def test_float32_gradients_beyond_the_square_root_of_the_largest_float32_still_move_the_parameter(kind):
    # g² overflows float32 from 1.8e19; (1 − β₂) g² only from √(3.4e38 / 0.001) = 5.8e20, as in PyTorch.
    # Computing g·g first made v = inf and froze both weights at their initial values.
    gradients = [(2e19, -3e19), (-1e20, 4e19), (5e20, 1.0)]
    make = (lambda model: cr.Adam(model, lr=LR)) if kind == "Adam" else (
        lambda model: cr.AdamW(model, lr=LR, weight_decay=0.0))
    W, taken, _ = float32_steps(make, gradients)
    expected = [adam_by_hand(w0, [g[i] for g in gradients])[-1] for i, w0 in enumerate(W0)]  # float64
    assert taken == [True] * 3
    np.testing.assert_allclose(W, expected, rtol=1e-6)


def test_a_float32_gradient_whose_second_moment_overflows_stops_that_element_as_torch_does():
    # Beyond √(max / (1 − β₂)), v = inf: that element's steps are 0 from then on (PyTorch's result),
    # the step stays finite and is taken, and the other element trains on. No NumPy overflow warning: under
    # warnings-as-errors it aborted the step half way (m updated, v not), and every later step was refused.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        W, taken, optimizer = float32_steps(lambda model: cr.Adam(model, lr=LR), [(1e21, 0.5), (1.0, 0.5)])
    assert taken == [True, True]
    assert np.isinf(optimizer.state["v"][0]) and np.isfinite(optimizer.state["v"][1])
    assert W[0] == 0.5
    assert W[1] == pytest.approx(adam_by_hand(W0[1], [0.5, 0.5])[-1], rel=1e-6)


def test_the_smallest_eps_with_beta2_near_1_keeps_a_zero_gradient_finite():
    # The step divides by √v + ε √(1 − β₂ᵗ); with β₂ = 1 − 1e-15, ε √(1 − β₂) = 3.7e-46 rounds to 0 in
    # float32, so it is kept at the smallest normal number ε may be, and 0 / 0 stays out.
    model = cr.mlp([3, 2], seed=0)
    theta = model.flat_parameters().theta.copy()
    optimizer = cr.Adam(model, beta2=1 - 1e-15, eps=float(np.finfo(np.float32).tiny))
    model.flat_parameters().grad[...] = 0.0
    assert optimizer.step(check_finite=True)
    np.testing.assert_array_equal(model.flat_parameters().theta, theta)


@pytest.mark.parametrize("kind, weight_decay", [("Adam", 0.0), ("AdamW", 1e12)])
def test_an_eps_whose_folded_form_is_subnormal_divides_as_the_rule_and_pytorch_do(kind, weight_decay):
    # float32, ε = 1.2e-38, t = 1: ε √(1 − β₂) = 3.7e-40 is subnormal. It was raised to 1.2e-38, so the
    # step was √(1 − β₂) = 0.032 times the rule's η m̂ / (√v̂ + ε) wherever √v̂ is below ε, as here:
    # g = 1e-25 makes (1 − β₂) g² underflow (v = 0, as in PyTorch), and the step is η m̂ / ε = η g / ε.
    tiny = float(np.finfo(np.float32).tiny)
    lr = 1e-14
    make = lambda model: getattr(cr, kind)(model, lr=lr, eps=tiny, weight_decay=weight_decay)  # noqa: E731
    W, taken, _ = float32_steps(make, [(1e-25, 0.0)])
    decayed = 1 - lr * weight_decay  # AdamW: θ ← θ − η λ θ first
    assert taken == [True]
    assert W[0] == pytest.approx(W0[0] * decayed - lr * 1e-25 / tiny, rel=1e-6)  # 0.5 − 0.085 (− 0.005)
    assert W[1] == pytest.approx(W0[1] * decayed, rel=1e-6)  # g = 0: m = 0, no step


@pytest.mark.parametrize("kind", [cr.Adam, cr.AdamW])
@pytest.mark.parametrize("name, value, message", [
    ("beta1", 1.0, r"beta1: expected a number in \[0, 1\), got 1.0"),
    ("beta2", -0.5, r"beta2: expected a number in \[0, 1\), got -0.5"),
    ("eps", 0.0, "eps: expected a number > 0, got 0.0"),
    ("weight_decay", -1e-4, "weight_decay: expected a number >= 0, got -0.0001"),
])
def test_invalid_hyperparameters(kind, name, value, message):
    with pytest.raises(cr.HyperparameterError, match=message):
        kind(tiny_model(), lr=LR, **{name: value})


def two_layers(seed=0):
    return cr.Sequential(cr.Linear(4, 5), cr.Tanh(), cr.Linear(5, 3), seed=seed)


ADAMS = {
    "adam": lambda model: cr.Adam(model, lr=0.01, weight_decay=0.01),
    "adamw": lambda model: cr.AdamW(model, lr=0.01, weight_decay=0.1),
}
# Whether the first layer is trainable at each step: frozen first, trained, frozen again, trained.
FIRST_LAYER_TRAINABLE = [False] * 20 + [True] * 4 + [False] * 3 + [True] * 6


@pytest.mark.parametrize("make", ADAMS.values(), ids=ADAMS)
def test_a_layer_unfrozen_later_steps_as_a_fresh_adam_that_took_only_its_steps(make):
    # PyTorch's Adam counts each parameter's steps: bias correction starts afresh for a layer first
    # trained at step 21, whereas the optimizer's t (21) made its first steps larger than lr.
    model = two_layers()
    flat = model.flat_parameters()
    optimizer = make(model)
    alone = cr.Sequential(two_layers()[0])  # the first layer in a model of its own, with its own Adam
    alone_optimizer = make(alone)
    alone_grad = alone.flat_parameters().grad
    first = slice(0, flat.slices["0.b"].stop)
    rng = np.random.default_rng(0)
    for trainable in FIRST_LAYER_TRAINABLE:
        model[0].trainable = trainable
        flat.grad[...] = rng.normal(size=flat.grad.size).astype(np.float32)
        optimizer.step(check_finite=True)
        if trainable:
            alone_grad[...] = flat.grad[first]
            alone_optimizer.step(check_finite=True)
    assert optimizer.t == len(FIRST_LAYER_TRAINABLE) and alone_optimizer.t == FIRST_LAYER_TRAINABLE.count(True)
    assert optimizer.missed == {"0.W": 23, "0.b": 23}
    np.testing.assert_array_equal(model.params["0.W"], alone.params["0.W"])
    np.testing.assert_array_equal(model.params["0.b"], alone.params["0.b"])
    np.testing.assert_array_equal(optimizer.state["m"][first], alone_optimizer.state["m"])


class CountingAdam(cr.Adam):
    """Adam recording, at each call of its rule, the stretch's length and step count."""

    def __init__(self, model):
        super().__init__(model, lr=0.01)
        self.calls = []

    def rule(self, theta, grad, lr, vectors):
        self.calls.append((theta.size, vectors.t))
        return super().rule(theta, grad, lr, vectors)


def test_stretches_with_different_step_counts_get_their_own_and_nothing_frozen_steps_all_of_theta_at_once():
    model = two_layers()
    flat = model.flat_parameters()
    optimizer = CountingAdam(model)
    flat.grad[...] = 1.0
    optimizer.step()  # never frozen: one rule over the whole of θ, as before per-parameter counts
    assert optimizer.calls == [(flat.theta.size, 1)] and optimizer.missed == {}
    model[0].trainable = False
    optimizer.step()
    optimizer.step()
    model[0].trainable = True
    optimizer.calls.clear()
    optimizer.step()
    # layer 0 (25 parameters) took 2 steps of 4, layer 2 (18 parameters) all 4
    assert optimizer.calls == [(25, 2), (18, 4)] and optimizer.t == 4


@pytest.mark.parametrize("kind, weight_decay", [("Adam", 0.01), ("AdamW", 0.1)])
def test_freezing_and_unfreezing_matches_torch_optim(kind, weight_decay):
    torch = pytest.importorskip("torch")
    model = cr.Sequential(cr.Linear(4, 5, dtype="float64"), cr.Tanh(), cr.Linear(5, 3, dtype="float64"), seed=0)
    flat = model.flat_parameters()
    optimizer = getattr(cr, kind)(model, lr=0.01, weight_decay=weight_decay)
    as_torch = {name: torch.tensor(array.T.copy() if name.endswith("W") else array.copy(), requires_grad=True)
                for name, array in model.params.items()}  # torch's weight is W transposed
    weights, biases = [as_torch["0.W"], as_torch["2.W"]], [as_torch["0.b"], as_torch["2.b"]]
    torch_optimizer = getattr(torch.optim, kind)([{"params": weights, "weight_decay": weight_decay},
                                                  {"params": biases, "weight_decay": 0.0}], lr=0.01)
    rng = np.random.default_rng(0)
    for trainable in FIRST_LAYER_TRAINABLE:
        model[0].trainable = trainable
        as_torch["0.W"].requires_grad_(trainable)
        as_torch["0.b"].requires_grad_(trainable)
        flat.grad[...] = rng.normal(size=flat.grad.size)
        for name, parameter in as_torch.items():  # a frozen parameter has no gradient: torch skips it
            grad = model.grads[name].T if name.endswith("W") else model.grads[name]
            parameter.grad = torch.tensor(grad.copy()) if parameter.requires_grad else None
        optimizer.step()
        torch_optimizer.step()
    for name, parameter in as_torch.items():
        theirs = parameter.detach().numpy()
        np.testing.assert_allclose(model.params[name], theirs.T if name.endswith("W") else theirs, rtol=1e-13)
