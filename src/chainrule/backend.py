"""The array backend: the one module that decides between NumPy and CuPy.

Layers, losses and optimizers never import NumPy's array functions by name for work on
data; they ask :func:`get_array_module` for the module of the arrays they were given and
call ``xp.matmul``, ``xp.maximum``... on it. CuPy is imported here and nowhere else, and
only when an array or a device asks for it, so a machine without a GPU never touches it.
"""

from __future__ import annotations

import types
from typing import Any

import numpy

from .errors import HyperparameterError

Array = Any  # a numpy.ndarray or a cupy.ndarray

DEVICES = ("cpu", "cuda")


def _cupy() -> types.ModuleType | None:
    """CuPy if it is importable, else None."""
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def get_array_module(*arrays: Array) -> types.ModuleType:
    """Return ``cupy`` if any of ``arrays`` is a CuPy array, else ``numpy``."""
    for array in arrays:
        if type(array).__module__.startswith("cupy"):
            return _cupy()
    return numpy


def module_for(device: str) -> types.ModuleType:
    """The array module that holds arrays on ``device`` ("cpu" or "cuda")."""
    if device == "cpu":
        return numpy
    if device == "cuda":
        cupy = _cupy()
        if cupy is None:
            raise HyperparameterError(
                "device='cuda' needs CuPy, which is not installed; "
                "install it with: pip install 'chainrule[cuda]'"
            )
        return cupy
    raise HyperparameterError(f"device: expected one of {DEVICES}, got {device!r}")


def device_of(array: Array) -> str:
    """"cuda" for a CuPy array, "cpu" otherwise."""
    return "cpu" if get_array_module(array) is numpy else "cuda"


def to_numpy(array: Array) -> numpy.ndarray:
    """A NumPy copy (or view, when already on the CPU) of ``array``."""
    if get_array_module(array) is numpy:
        return numpy.asarray(array)
    return array.get()
