"""Optimizer trajectories and schedules against torch.optim's, step by step.

Skipped where torch is not installed (it is no test dependency). Both sides start from the same
weights and take the same gradients (random, or mostly 0 with a few spikes, or of 1e-20 where ε
dominates); chainrule's weight decay spares the biases, so torch gets two parameter groups.
SGD runs both outside and inside ``stepping`` (where classical momentum keeps a scaled velocity,
rescaled every ~43 steps at μ = 0.9: 60 steps cross that). Agreement is relative to each
parameter array's largest entry (tests.harness.assert_agrees).
"""

import contextlib

import numpy as np
import pytest

import chainrule as cr
from tests.harness import assert_agrees

torch = pytest.importorskip("torch")

RTOL = {"float32": 2e-5, "float64": 1e-12}  # after 60 steps, rounding of each step carried along
N_STEPS = 60

OPTIMIZERS = {  # chainrule's arguments, torch's class and arguments (weight decay on the weights' group alone)
    "SGD": ({"lr": 0.1}, "SGD", {"lr": 0.1}),
    "SGD decay": ({"lr": 0.1, "weight_decay": 0.05}, "SGD", {"lr": 0.1, "weight_decay": 0.05}),
    "momentum": ({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}, "SGD",
                 {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}),
    "small momentum": ({"lr": 0.05, "momentum": 0.3}, "SGD", {"lr": 0.05, "momentum": 0.3}),
    "Nesterov": ({"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, "SGD",
                 {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    "Adam": ({"lr": 0.01}, "Adam", {"lr": 0.01}),
    "Adam L2": ({"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1}, "Adam",
                {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1}),
    "AdamW": ({"lr": 0.01, "weight_decay": 0.1}, "AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    "RMSProp": ({"lr": 0.01}, "RMSprop", {"lr": 0.01}),
    "RMSProp decay": ({"lr": 0.01, "rho": 0.9, "eps": 1e-3, "weight_decay": 0.1}, "RMSprop",
                      {"lr": 0.01, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1}),
}


def gradients(kind: str, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "sparse":  # mostly 0: Adam's and RMSProp's ε and the velocity's decay alone
        return np.where(rng.uniform(size=size) < 0.2, rng.normal(size=size), 0.0)
    return rng.normal(size=size) * {"normal": 1.0, "tiny": 1e-20}[kind]


def as_torch(name: str, array: np.ndarray):
    return torch.tensor(array.T if name.endswith("W") else array)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("stepping", [False, True], ids=["step", "stepping"])
@pytest.mark.parametrize("gradient_kind", ["normal", "sparse", "tiny"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_an_optimizer_follows_torch_optims_trajectory(name, gradient_kind, stepping, dtype):
    ours, kind, theirs = OPTIMIZERS[name]
    model = cr.Sequential(cr.Linear(4, 5), cr.Tanh(), cr.Linear(5, 3), seed=0).astype(dtype)
    flat = model.flat_parameters()
    optimizer = getattr(cr, kind.replace("RMSprop", "RMSProp"))(model, **ours)
    P = {name: as_torch(name, array).requires_grad_() for name, array in model.params.items()}
    theirs = dict(theirs)
    torch_optimizer = getattr(torch.optim, kind)(
        [{"params": [P["0.W"], P["2.W"]], "weight_decay": theirs.pop("weight_decay", 0.0)},
         {"params": [P["0.b"], P["2.b"]], "weight_decay": 0.0}], **theirs)
    with optimizer.stepping() if stepping else contextlib.nullcontext():
        for t in range(N_STEPS):
            flat.grad[...] = gradients(gradient_kind, flat.grad.size, seed=t)
            for parameter_name, parameter in P.items():
                parameter.grad = as_torch(parameter_name, model.grads[parameter_name])
            optimizer.step()
            torch_optimizer.step()
    for parameter_name, parameter in P.items():
        assert_agrees(model.params[parameter_name], parameter.T if parameter_name.endswith("W") else parameter,
                      RTOL[dtype], parameter_name)


@pytest.mark.parametrize("ours, theirs, n_steps", [
    (cr.StepDecay(7, gamma=0.5), lambda opt: torch.optim.lr_scheduler.StepLR(opt, 7, gamma=0.5), 30),
    (cr.ExponentialDecay(0.9), lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, 0.9), 30),
    # up to T alone: past it CosineAnnealingLR climbs back, CosineDecay stays at min_factor
    (cr.CosineDecay(20, min_factor=0.1), lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, 20, 0.1), 21),
    (cr.LinearWarmup(5), lambda opt: torch.optim.lr_scheduler.LinearLR(opt, 1 / 5, 1.0, total_iters=4), 30),
    (cr.LinearWarmup(5, then=cr.CosineDecay(20)), lambda opt: torch.optim.lr_scheduler.SequentialLR(
        opt, [torch.optim.lr_scheduler.LinearLR(opt, 1 / 5, 1.0, total_iters=4),
              torch.optim.lr_scheduler.CosineAnnealingLR(opt, 20, 0.0)], milestones=[5]), 26),
], ids=["StepDecay", "ExponentialDecay", "CosineDecay", "LinearWarmup", "warmup then cosine"])
def test_a_schedule_gives_torchs_factor_at_every_step_boundaries_included(ours, theirs, n_steps):
    parameter = torch.zeros(1, requires_grad=True)
    torch_optimizer = torch.optim.SGD([parameter], lr=1.0)
    scheduler = theirs(torch_optimizer)
    factors = []
    for _ in range(n_steps):
        factors.append(torch_optimizer.param_groups[0]["lr"])
        torch_optimizer.step()
        scheduler.step()
    np.testing.assert_allclose([ours(t) for t in range(n_steps)], factors, rtol=1e-14)
