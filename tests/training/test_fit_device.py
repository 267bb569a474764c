"""cr.fit's device= and graph= arguments, checked on a machine without a GPU."""

import types

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend
from tests.harness import VelocityNormSGD


def small_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return cr.mlp([3, 4, 2], seed=0), X, (X[:, 0] > 0).astype(int)


def test_cuda_without_cupy_names_the_extra_to_install(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", lambda: None)
    model, X, y = small_problem()
    with pytest.raises(cr.HyperparameterError, match=r"chainrule\[cuda\]"):
        cr.fit(model, X, y, epochs=1, verbose=0, device="cuda")
    assert model.device == "cpu"


def test_a_missing_cupy_is_named_before_the_other_gpu_refusals(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", lambda: None)
    model, X, y = small_problem()
    with pytest.raises(cr.HyperparameterError, match=r"chainrule\[cuda\]"):
        cr.fit(model, X, y, epochs=1, verbose=0, device="cuda", distributed=True)


def test_an_unknown_device_is_refused():
    model, X, y = small_problem()
    with pytest.raises(cr.HyperparameterError, match="device: expected one of"):
        cr.fit(model, X, y, epochs=1, verbose=0, device="tpu")


@pytest.mark.parametrize("graph", ["yes", 1.5, None])
def test_graph_must_be_auto_true_or_false(graph):
    model, X, y = small_problem()
    with pytest.raises(cr.HyperparameterError, match="graph: expected 'auto', True or False"):
        cr.fit(model, X, y, epochs=1, verbose=0, graph=graph)


def test_a_cuda_graph_needs_the_gpu():
    model, X, y = small_problem()
    with pytest.raises(cr.HyperparameterError, match="graph=True: CUDA graphs need device='cuda'"):
        cr.fit(model, X, y, epochs=1, verbose=0, graph=True)


def test_distributed_training_is_not_combined_with_the_gpu(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", lambda: types.ModuleType("cupy"))  # "installed", never used
    model, X, y = small_problem()
    with pytest.raises(cr.HyperparameterError, match="distributed training runs on the CPU"):
        cr.fit(model, X, y, epochs=1, verbose=0, device="cuda", distributed=True)


def test_cpu_training_records_its_device_and_no_graph():
    model, X, y = small_problem()
    cr.fit(model, X, y, epochs=1, verbose=0, device="cpu")
    assert model.metadata["training"]["device"] == "cpu"
    assert model.metadata["training"]["cuda_graph"] is False


def step_on_the_instance(model):
    """An SGD given its own step on the instance."""
    optimizer = cr.SGD(model, lr=0.1, momentum=0.9)
    optimizer.step = lambda **kwargs: cr.SGD.step(optimizer, **kwargs)
    return optimizer


@pytest.mark.parametrize("make, whose", [
    (lambda model: VelocityNormSGD(model, lr=0.1, momentum=0.9), "VelocityNormSGD overrides step"),
    (step_on_the_instance, "SGD with its own step set on the instance"),
])
def test_an_optimizer_with_its_own_step_is_refused_on_the_gpu_before_anything_moves(monkeypatch, make, whose):
    """The GPU's loop never calls step: refused, rather than trained without it, before the model moves."""
    monkeypatch.setattr(backend, "_cupy", lambda: types.ModuleType("cupy"))  # "installed", never used
    model, X, y = small_problem()
    optimizer = make(model)
    with pytest.raises(cr.HyperparameterError, match=rf"optimizer: {whose}, which the GPU's training loop never "
                                                     rf"calls .*override rule\(theta, grad, lr, vectors\) or "
                                                     rf"update\(theta, grad, lr\) instead"):
        cr.fit(model, X, y, optimizer=optimizer, epochs=1, verbose=0, device="cuda")
    assert model.device == "cpu" and optimizer.t == 0


def test_an_optimizer_with_its_own_step_trains_on_the_cpu():
    model, X, y = small_problem()
    optimizer = VelocityNormSGD(model, lr=0.1, momentum=0.9)
    cr.fit(model, X, y, optimizer=optimizer, epochs=1, batch_size=10, verbose=0, device="cpu")
    assert len(optimizer.norms) == 4


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSProp"])
def test_the_built_in_optimizers_and_a_subclass_with_its_own_rule_keep_optimizer_step(name):
    """What the GPU's loop runs in step's place is Optimizer.step's work: no built-in may have its own."""
    from chainrule.cuda.kernels import check_own_step

    class OwnRule(getattr(cr, name)):
        def rule(self, theta, grad, lr, vectors):
            return super().rule(theta, grad, lr, vectors)

    model, _, _ = small_problem()
    for optimizer_class in (getattr(cr, name), OwnRule):
        check_own_step(optimizer_class(model, lr=0.1))
