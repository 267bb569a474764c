"""Workspaces reused from step to step while a training loop runs.

A layer's outputs and temporaries (Z = X W + b, dX, an activation's Y) and a loss's (∂L/∂Y and
the terms of L) have the same shapes at every step of ``cr.fit``. Allocated afresh, each is a
new array per step: the memory of a step then grows with the batch and the widths, and what a
new array costs depends on the allocator (a regression batch's metrics at 128×784, float64
arrays of 0.8 MB: 1,892 µs made afresh, 229 µs reused; the losses' float32 arrays of those
shapes cost the same either way: best of 15 × 50 calls, 2026-11-30). While a loop runs,
``reuse_buffers`` is True on the layers (``Layer.reusing_buffers``) and the loss
(``Loss.reusing_buffers``), and :func:`buffer` hands out the same memory at every step; outside
a loop it makes a new array, so what a user's call returns is theirs.

:func:`buffer` is the method ``buffer`` of both classes (one function, assigned in each class's
body: no extra call on the step's path).
"""

from __future__ import annotations

import numpy

from .backend import Array, get_array_module


def buffer(self, name: str, shape: tuple, like: Array, dtype=None) -> Array:
    """An uninitialized array of ``shape`` (``dtype`` or that of ``like``, on ``like``'s device) to write into.

    A new array, except while a training loop reuses buffers (``self.reuse_buffers``): then the
    same memory, kept in ``self._buffers`` under ``name``, is handed out step after step (a view
    of its first rows for a smaller last batch), so that what a layer or a loss takes from here
    is not allocated again in steady-state training (docs/design.md, *Buffers during training*).
    """
    dtype = like.dtype if dtype is None else numpy.dtype(dtype)
    if not self.reuse_buffers:
        return get_array_module(like).empty(shape, dtype=dtype)
    held = self._buffers.get(name)
    # Every step but the last of an epoch asks for the shape of the step before.
    if held is not None and held.shape == shape and held.dtype == dtype and type(held) is type(like):
        return held
    xp = get_array_module(like)
    if (held is None or held.dtype != dtype or held.shape[1:] != tuple(shape[1:]) or held.shape[0] < shape[0]
            or get_array_module(held) is not xp):
        held = self._buffers[name] = xp.empty(shape, dtype=dtype)
    return held[:shape[0]]
