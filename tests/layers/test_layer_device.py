"""Layer.to(device) and Layer.device on a machine without a GPU: the CPU is a no-op, and
"cuda" without CuPy (or an unknown name) is refused in words. The moves themselves are
checked on a GPU in tests/gpu."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.backend


def small_model():
    return cr.Sequential(cr.Linear(3, 4), cr.Tanh(), cr.Residual(cr.Linear(4, 4)), seed=0)


@pytest.fixture
def without_cupy(monkeypatch):
    """As if CuPy were not installed, also on a machine where it is."""
    monkeypatch.setattr(chainrule.backend, "_cupy", lambda: None)


def test_a_model_is_on_the_cpu():
    assert small_model().device == "cpu"
    assert cr.ReLU().device == "cpu"
    assert cr.Sequential().device == "cpu"


def test_to_cpu_is_a_no_op_returning_the_model():
    model = small_model()
    flat = model.flat_parameters()
    params, grads = model.params, model.grads
    assert model.to("cpu") is model
    assert all(model.params[name] is array for name, array in params.items())
    assert all(model.grads[name] is array for name, array in grads.items())
    assert model.flat_parameters() is flat  # the buffer an optimizer holds stays valid


def test_to_cpu_keeps_the_outputs():
    model = small_model()
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    expected = model(X)
    np.testing.assert_array_equal(model.to("cpu")(X), expected)


@pytest.mark.parametrize("model", [small_model(), cr.ReLU()], ids=["with parameters", "parameterless"])
def test_to_cuda_without_cupy_says_how_to_install_it(without_cupy, model):
    with pytest.raises(cr.HyperparameterError, match=r"device='cuda' needs CuPy.*pip install 'chainrule\[cuda\]'"):
        model.to("cuda")
    assert model.device == "cpu"


@pytest.mark.parametrize("device", ["gpu", "CUDA", "", None])
def test_an_unknown_device_is_refused(device):
    with pytest.raises(cr.HyperparameterError, match=r"device: expected one of 'cpu', 'cuda'; got"):
        small_model().to(device)
    with pytest.raises(cr.HyperparameterError, match=r"device: expected one of"):
        cr.ReLU().to(device)  # checked even when there is nothing to move
