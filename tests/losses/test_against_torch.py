"""Each loss's value and ∂L/∂Y against torch.nn.functional's, with the conventions lined up.

Skipped where torch is not installed (it is no test dependency). chainrule sums over outputs and
means over rows, so torch's ``reduction="none"`` losses are summed over outputs by hand
(``MSELoss`` and ``BCEWithLogitsLoss`` mean over all N·K elements, K times smaller), and sample
weights make L = Σ w_n l_n / Σ w_n on both sides (docs/usage.md, "Conventions that differ from
PyTorch's"). Both sides compute in the same dtype; agreement is relative to each array's largest
entry (tests.harness.assert_agrees).
"""

import numpy as np
import pytest

import chainrule as cr
from tests.harness import assert_agrees

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = {"float32": 2e-6, "float64": 1e-13}
N_SAMPLES, N_OUTPUTS = 6, 4


def hard_outputs(dtype: str) -> dict:
    """Outputs (logits) (6, 4): ordinary, ±1e4 (e^y overflows unless shifted), all equal."""
    rng = np.random.default_rng(0)
    shape = (N_SAMPLES, N_OUTPUTS)
    return {name: Y.astype(dtype) for name, Y in {
        "normal": rng.normal(size=shape),
        "±1e4": rng.choice([-1.0, 1.0], size=shape) * rng.uniform(5e3, 1e4, size=shape),
        "all equal": np.full(shape, 7.0),
    }.items()}


WEIGHTS = np.array([0.0, 1.0, 2.5, 0.5, 1.0, 3.0])  # a row of weight 0 among them


def torch_mean(row_losses, weights):
    """Σ w_n l_n / Σ w_n (the plain mean for weights None), as chainrule weighs rows."""
    if weights is None:
        return row_losses.mean()
    weights = torch.tensor(weights, dtype=row_losses.dtype)
    return (row_losses * weights).sum() / weights.sum()


def check(loss, Y, targets, torch_row_losses, weights, dtype, what):
    value, dY = loss(Y, targets, weights)
    Y_torch = torch.tensor(Y, requires_grad=True)
    L = torch_mean(torch_row_losses(Y_torch), weights)
    L.backward()
    assert_agrees(value, L, RTOL[dtype], f"{what}: L")
    assert_agrees(dY, Y_torch.grad, RTOL[dtype], f"{what}: dY")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
def test_softmax_cross_entropy_computes_what_torch_computes(dtype, weights):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, N_OUTPUTS, N_SAMPLES)
    soft = rng.dirichlet(np.ones(N_OUTPUTS), N_SAMPLES)
    soft[0] *= 0.9995  # a row that sums to 0.9995: the gradient is that of its own loss, (Σ t) p − t
    for kind, Y in hard_outputs(dtype).items():
        for target_kind, targets in [("labels", labels), ("one-hot", np.eye(N_OUTPUTS)[labels]), ("soft", soft)]:
            T_torch = torch.tensor(targets if target_kind == "labels" else targets.astype(dtype))
            check(cr.SoftmaxCrossEntropy(), Y, targets,
                  lambda Y_torch: F.cross_entropy(Y_torch, T_torch, reduction="none"), weights, dtype,
                  f"{kind}, {target_kind}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
def test_binary_cross_entropy_computes_k_times_what_torch_computes(dtype, weights):
    rng = np.random.default_rng(2)
    for kind, Y in hard_outputs(dtype).items():
        for target_kind, T in [("0/1", rng.integers(0, 2, Y.shape)), ("probabilities", rng.uniform(size=Y.shape))]:
            T_torch = torch.tensor(T.astype(dtype))
            check(cr.BinaryCrossEntropy(), Y, T,
                  lambda Y_torch: F.binary_cross_entropy_with_logits(Y_torch, T_torch, reduction="none").sum(axis=1),
                  weights, dtype, f"{kind}, {target_kind}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
def test_mse_computes_k_times_what_torch_computes(dtype, weights):
    rng = np.random.default_rng(3)
    for kind, Y in hard_outputs(dtype).items():
        for scale in [1e-20, 1.0, 1e15]:  # tiny and huge targets
            T = rng.normal(size=Y.shape) * scale
            T_torch = torch.tensor(T.astype(dtype))
            check(cr.MSE(), Y, T, lambda Y_torch: F.mse_loss(Y_torch, T_torch, reduction="none").sum(axis=1),
                  weights, dtype, f"{kind}, targets × {scale:g}")
