"""One thread count for every contender: BLAS/OpenMP pools through threadpoolctl, and torch's own."""

from __future__ import annotations

import importlib.util
import sys


def limit_threads(threads: int):
    """Cap every native thread pool at ``threads``; returns the threadpoolctl limiter (keep it alive)."""
    from threadpoolctl import threadpool_limits

    if "torch" in sys.modules or importlib.util.find_spec("torch") is not None:
        try:
            import torch
        except ImportError:
            pass
        else:
            torch.set_num_threads(threads)
    return threadpool_limits(limits=threads)
