"""cr.fit's device= and graph= arguments, checked on a machine without a GPU."""

import types

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend


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
