"""One thread count for every contender: BLAS/OpenMP pools through threadpoolctl, and torch's own."""

from __future__ import annotations

import contextlib
import importlib


@contextlib.contextmanager
def limit_threads(threads: int, *, torch: bool = False, modules=()):
    """Cap every native thread pool at ``threads`` (and torch's when ``torch``) inside the
    ``with`` block, and put every pool back as it was when the block ends (an exception too):
    a benchmark called from Python leaves the caller's threads alone.

    threadpoolctl limits only the pools loaded when the limits are set, so ``modules`` (the
    contenders' libraries, e.g. ``"sklearn.neural_network"``, which loads SciPy's OpenBLAS and
    scikit-learn's OpenMP) are imported first."""
    from threadpoolctl import threadpool_limits

    for name in modules:
        importlib.import_module(name)
    torch_module = torch_threads = None
    if torch:
        import torch as torch_module

        torch_threads = torch_module.get_num_threads()
        torch_module.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch_module is not None:
            torch_module.set_num_threads(torch_threads)
