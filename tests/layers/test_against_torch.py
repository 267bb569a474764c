"""Each layer's forward and backward against torch.nn's, in float32 and float64, on hard inputs.

Skipped where torch is not installed (it is no test dependency). Weights are handed over as
PyTorch holds them (``weight`` is W transposed). Both sides compute in the same dtype; the
agreement is relative to each array's largest entry (tests.harness.assert_agrees), and NaN and
±inf must sit at the same places. Where chainrule deliberately differs (a float32 sigmoid's
subnormal outputs, which torch flushes to 0; GELU's derivative for |z| ≳ 1e19, NaN in torch) the
inputs stay clear of it: docs/usage.md lists those differences.
"""

import numpy as np
import pytest

import chainrule as cr
from tests.harness import assert_agrees

torch = pytest.importorskip("torch")

RTOL = {"float32": 2e-6, "float64": 1e-13}


def hard_inputs(dtype: str) -> dict:
    """Inputs (n_samples, 4) that stress an activation: large of both signs, all equal, one row, no rows."""
    rng = np.random.default_rng(0)
    signs = rng.choice([-1.0, 1.0], size=(5, 4))
    return {name: X.astype(dtype) for name, X in {
        "normal": rng.normal(size=(5, 4)),
        "±3": signs * rng.uniform(1.5, 3, size=(5, 4)),
        "±1e4": signs * rng.uniform(5e3, 1e4, size=(5, 4)),
        "all equal": np.full((5, 4), 3.0),
        "one row": rng.normal(size=(1, 4)),
        "no rows": np.zeros((0, 4)),
    }.items()}


ACTIVATIONS = {
    "ReLU": (cr.ReLU, lambda: torch.nn.ReLU()),
    "LeakyReLU": (lambda: cr.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1)),
    "Sigmoid": (cr.Sigmoid, lambda: torch.nn.Sigmoid()),
    "Tanh": (cr.Tanh, lambda: torch.nn.Tanh()),
    "Softmax": (cr.Softmax, lambda: torch.nn.Softmax(dim=1)),
    "GELU": (cr.GELU, lambda: torch.nn.GELU(approximate="tanh")),
    "Identity": (cr.Identity, lambda: torch.nn.Identity()),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_an_activation_computes_what_torch_computes(name, dtype):
    ours, theirs = ACTIVATIONS[name]
    for kind, X in hard_inputs(dtype).items():
        dY = np.random.default_rng(1).normal(size=X.shape).astype(dtype)
        layer = ours()
        Y = layer.forward(X.copy())
        dX = layer.backward(dY.copy())
        X_torch = torch.tensor(X, requires_grad=True)
        Y_torch = theirs()(X_torch)
        Y_torch.backward(torch.tensor(dY))
        assert_agrees(Y, Y_torch, RTOL[dtype], f"{name} {kind}: Y")
        assert_agrees(dX, X_torch.grad, RTOL[dtype], f"{name} {kind}: dX")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_computes_what_torch_computes(dtype):
    for kind, X in hard_inputs(dtype).items():
        layer = cr.Linear(4, 3, seed=0, dtype=dtype)
        layer.params["b"][...] = [0.5, -2.0, 1.0]
        dY = np.random.default_rng(1).normal(size=(X.shape[0], 3)).astype(dtype)
        Y = layer.forward(X)
        dX = layer.backward(dY)
        linear = torch.nn.Linear(4, 3, dtype=getattr(torch, dtype))
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.params["W"].T))
            linear.bias.copy_(torch.tensor(layer.params["b"]))
        X_torch = torch.tensor(X, requires_grad=True)
        linear(X_torch).backward(torch.tensor(dY))
        assert_agrees(Y, linear(X_torch), RTOL[dtype], f"Linear {kind}: Y")
        assert_agrees(dX, X_torch.grad, RTOL[dtype], f"Linear {kind}: dX")
        assert_agrees(layer.grads["W"], linear.weight.grad.T, RTOL[dtype], f"Linear {kind}: dW")
        assert_agrees(layer.grads["b"], linear.bias.grad, RTOL[dtype], f"Linear {kind}: db")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_residual_block_in_a_model_computes_what_torch_autograd_computes(dtype):
    model = cr.Sequential(cr.Linear(4, 5), cr.Tanh(), cr.Residual(cr.Sequential(cr.Linear(5, 5), cr.GELU())),
                          cr.Linear(5, 2), seed=0).astype(dtype)
    X = np.random.default_rng(2).normal(size=(6, 4)).astype(dtype)
    dY = np.random.default_rng(3).normal(size=(6, 2)).astype(dtype)
    Y = model.forward(X)
    dX = model.backward(dY)
    P = {name: torch.tensor(array.T if name.endswith("W") else array, requires_grad=True)
         for name, array in model.params.items()}

    def linear(H, path):
        return H @ P[f"{path}.W"].T + P[f"{path}.b"]

    X_torch = torch.tensor(X, requires_grad=True)
    H = torch.tanh(linear(X_torch, "0"))
    H = H + torch.nn.functional.gelu(linear(H, "2.f.0"), approximate="tanh")  # x + f(x)
    Y_torch = linear(H, "3")
    Y_torch.backward(torch.tensor(dY))
    assert_agrees(Y, Y_torch, RTOL[dtype], "Y")
    assert_agrees(dX, X_torch.grad, RTOL[dtype], "dX")
    for name, parameter in P.items():
        assert_agrees(model.grads[name], parameter.grad.T if name.endswith("W") else parameter.grad,
                      RTOL[dtype], name)
