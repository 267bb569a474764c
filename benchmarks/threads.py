"""One thread count for every contender: BLAS/OpenMP pools through threadpoolctl, and torch's own."""

from __future__ import annotations



def limit_threads(threads: int, *, torch: bool = False):
    """Cap every native thread pool at ``threads`` (and torch's when ``torch``); returns the limiter (keep it alive)."""
    from threadpoolctl import threadpool_limits

    if torch:
        import torch as torch_module

        torch_module.set_num_threads(threads)
    return threadpool_limits(limits=threads)
