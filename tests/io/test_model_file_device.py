"""cr.load(path, device=...): the device is checked before the file is read; "cpu" is the
default. Loading onto a GPU is checked in tests/gpu."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.backend
from chainrule.io import load, save


def test_load_on_the_cpu_is_the_default(tmp_path):
    model = cr.mlp([3, 4, 2], seed=0)
    save(model, tmp_path / "m")
    for loaded in (load(tmp_path / "m"), load(tmp_path / "m", device="cpu")):
        assert loaded.device == "cpu"
        assert all(np.array_equal(loaded.params[name], array) for name, array in model.params.items())


def test_an_unknown_device_is_refused_before_the_file_is_read(tmp_path):
    with pytest.raises(cr.HyperparameterError, match=r"device: expected one of 'cpu', 'cuda'; got 'gpu'"):
        load(tmp_path / "missing", device="gpu")


def test_cuda_without_cupy_says_how_to_install_it(tmp_path, monkeypatch):
    save(cr.Linear(2, 2), tmp_path / "m")
    monkeypatch.setattr(chainrule.backend, "_cupy", lambda: None)
    with pytest.raises(cr.HyperparameterError, match=r"pip install 'chainrule\[cuda\]'"):
        load(tmp_path / "m", device="cuda")
