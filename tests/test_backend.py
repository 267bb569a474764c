"""The backend: the one module that picks the array module."""

import importlib.util

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import device_of, get_array_module, module_for, to_numpy


def test_numpy_arrays_use_numpy():
    assert get_array_module(np.zeros(2), np.ones(3)) is np
    assert get_array_module() is np
    assert module_for("cpu") is np
    assert device_of(np.zeros(1)) == "cpu"


def test_to_numpy_does_not_copy_a_numpy_array():
    X = np.arange(4.0)
    assert np.shares_memory(to_numpy(X), X)


def test_unknown_device():
    with pytest.raises(cr.HyperparameterError, match=r"device: expected one of \('cpu', 'cuda'\), got 'tpu'"):
        module_for("tpu")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(cr.HyperparameterError, match=r"pip install 'chainrule\[cuda\]'"):
        module_for("cuda")
