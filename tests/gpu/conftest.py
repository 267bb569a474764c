"""Tests that need CuPy and a CUDA GPU: every test here is skipped on a machine without them.

Run them on a GPU machine with ``pip install -e '.[test,cuda]' && python -m pytest -q tests/gpu``.
The test modules import nothing from CuPy at import time, so they are collected (and
skipped) everywhere; the ``cupy`` fixture gives CuPy to a test that needs it by name.
"""

import pytest

from chainrule.backend import cuda_available, module_for

HAS_GPU = cuda_available()


@pytest.fixture(autouse=True)
def _needs_a_gpu():
    if not HAS_GPU:
        pytest.skip("needs CuPy and a CUDA GPU (pip install 'chainrule[cuda]')")


@pytest.fixture
def cupy():
    return module_for("cuda")
