"""chainrule.training.device_loop's host-side accounting, which needs no GPU: after a divergence
the GPU loop sets t and the frozen parameters' missed steps to what the CPU's loop counts."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.cuda.kernels import GRADIENT_NOT_FINITE, LOSS_NOT_FINITE
from chainrule.training.device_loop import steps_taken


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 12)).astype(np.float32)
    return X, (X @ rng.normal(size=(12, 3))).argmax(axis=1)


def diverging_cpu_run(X, y, lr):
    """(steps applied before the refused batch, the CPU optimizer's t and missed) of a run that diverges in epoch 1."""
    model = cr.mlp([12, 32, 16, 3], seed=3, dtype="float32")
    model[0].trainable = False
    optimizer = cr.SGD(model, lr=lr, momentum=0.9)
    with pytest.raises(cr.DivergenceError) as caught:
        cr.fit(model, X, y, optimizer=optimizer, epochs=2, batch_size=32, verbose=0)
    batch = int(re.search(r"batch (\d+)/16", str(caught.value)).group(1))
    return batch - 1, optimizer.t, optimizer.missed["0.W"]


def test_an_epoch_without_divergence_counts_every_step_queued():
    assert steps_taken(0, 16, 16) == 16
    assert steps_taken(0, 5, 9) == 9  # an epoch cut short by Ctrl-C: the steps queued


def test_a_non_finite_loss_counts_the_steps_applied_as_the_cpu_does():
    X, y = data()
    X[137] = 3e38  # its batch's forward pass overflows: the loss is not finite
    applied, t, missed = diverging_cpu_run(X, y, lr=0.01)
    assert applied > 0
    assert steps_taken(LOSS_NOT_FINITE, applied, 16) == t == missed == applied


def test_a_refused_step_counts_too_as_the_cpu_does():
    X, y = data()
    applied, t, missed = diverging_cpu_run(X, y, lr=1e30)  # the first step is far too large: refused
    assert applied == 0
    assert steps_taken(GRADIENT_NOT_FINITE, applied, 16) == t == 1
    # The refused step started the state afresh (Optimizer.reset_state): every parameter, the frozen
    # 0.W as the others, missed every step so far, which the GPU loop's reset gives too.
    assert missed == t


def squares_in_own_dtype(x):
    """What the ``sum_of_squares`` kernel computes: Σ x² in x's dtype (0 for float32 squares below 1e-45)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.dot(x, x)


def norm_in_float64(x):
    """What the ``norm`` kernel computes: √(Σ x²), each square taken and summed in float64."""
    x64 = x.astype(np.float64)
    return np.sqrt(x64 @ x64)


def test_the_gradient_flow_record_sums_a_float32_gradient_in_float64(monkeypatch):
    # The GPU loop's kernels and arrays faked by NumPy ones that compute what the kernels' sources say:
    # the record summed the squares in the gradient's dtype, so a vanishing float32 gradient read 0 and a
    # huge one inf, where the CPU's loop (backend.norm, 174ad2d) records their norms.
    from types import SimpleNamespace

    from chainrule.backend import norm
    from chainrule.cuda import kernels
    from chainrule.training import device_loop

    monkeypatch.setattr(kernels, "_compiled", lambda: {"sum_of_squares": squares_in_own_dtype, "norm": norm_in_float64})
    monkeypatch.setattr(device_loop, "module_for", lambda device: np)
    grad = np.concatenate([np.full(300, 1e-25, np.float32), np.full(200, 1e20, np.float32)])
    layers = {"0": slice(0, 300), "1": slice(300, 500)}
    loop = SimpleNamespace(weight_slices=layers, norms=np.zeros((2, 2)))
    device_loop.DeviceLoop.add_grad_norms(loop, grad, first=True)
    expected = [norm(grad[where]) for where in layers.values()]
    assert expected[0] > 0 and np.isfinite(expected[1])
    np.testing.assert_allclose(loop.norms, [expected, expected], rtol=1e-6)
