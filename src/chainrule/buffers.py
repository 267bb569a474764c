"""Workspaces reused from step to step while a training loop runs.

A layer's outputs and temporaries (Z = X W + b, dX, an activation's Y) and a loss's (∂L/∂Y and
the terms of L) have the same shapes at every step of ``cr.fit``. Allocated afresh, each is a
new array per step: the memory of a step then grows with the batch and the widths (0.4–1.6 MB
a step in the loss, the metrics and the targets' gather with 256 outputs at batch 128, measured:
docs/design.md, *Buffers during training*), and what a new array costs depends on the allocator.

While a loop runs, :func:`held` hands out the same memory at every step; outside a loop a new
array is made, so that what a user's call returns is theirs. Where the arrays are kept:

- a layer's, on the layer (``Layer.reusing_buffers`` sets ``reuse_buffers`` and ``_buffers``):
  :func:`buffer` is its method ``buffer`` (and that of the metrics' Scores);
- a loss's, in a store of the training loop's own, which ``loss_buffers`` makes current in its
  thread for the loop's duration (a ``contextvars.ContextVar``), for the loop's loss object
  alone: a loss is an object users share between fits, threads included (two fits running at
  once must not compute into one array), and one loss's ``compute`` may call another's, or its
  own class's twice (label smoothing: two ∂L/∂Y alive at once). The loop makes it current only
  for a built-in ``compute``, which it calls once a step; for any other loss, and on the GPU,
  it makes none current, not even that of a fit whose callback runs it.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy

from .backend import Array, get_array_module

#: (the running loop's loss, its store of that loss's arrays by name) in this thread, or None outside a loop
LOSS_BUFFERS: contextvars.ContextVar = contextvars.ContextVar("chainrule_loss_buffers", default=None)


def held(store: dict, name: str, shape: tuple, like: Array, dtype) -> Array:
    """The array of ``store`` under ``name`` for ``shape`` and ``dtype`` (on ``like``'s device),
    made or grown when it does not fit; a view of its first rows for a smaller last batch."""
    held_array = store.get(name)
    # Every step but the last of an epoch asks for the shape of the step before.
    if held_array is not None and held_array.shape == shape and held_array.dtype == dtype and type(
            held_array) is type(like):
        return held_array
    xp = get_array_module(like)
    if (held_array is None or held_array.dtype != dtype or held_array.shape[1:] != tuple(shape[1:])
            or held_array.shape[0] < shape[0] or get_array_module(held_array) is not xp):
        held_array = store[name] = xp.empty(shape, dtype=dtype)
    return held_array[:shape[0]]


def buffer(self, name: str, shape: tuple, like: Array, dtype=None) -> Array:
    """An uninitialized array of ``shape`` (``dtype`` or that of ``like``, on ``like``'s device) to write into.

    A new array, except while a training loop reuses buffers (``self.reuse_buffers``): then the
    same memory, kept in ``self._buffers`` under ``name``, is handed out step after step, so that
    what a layer takes from here is not allocated again in steady-state training (docs/design.md,
    *Buffers during training*).
    """
    dtype = like.dtype if dtype is None else numpy.dtype(dtype)
    if not self.reuse_buffers:
        return get_array_module(like).empty(shape, dtype=dtype)
    return held(self._buffers, name, shape, like, dtype)


def loss_buffer(loss, name: str, shape: tuple, like: Array, dtype=None) -> Array:
    """An array for ``loss``'s ``compute`` to write into (the method ``Loss.buffer``): from the
    store of a loop running in this thread on this very loss (see :func:`loss_buffers`), else a
    new one."""
    dtype = like.dtype if dtype is None else numpy.dtype(dtype)
    current = LOSS_BUFFERS.get()
    if current is None or current[0] is not loss:
        return get_array_module(like).empty(shape, dtype=dtype)
    return held(current[1], name, shape, like, dtype)


def reuses_buffers(loss) -> bool:
    """Whether ``loss``'s ``compute`` writes into a loop's store in this thread now."""
    current = LOSS_BUFFERS.get()
    return current is not None and current[0] is loss


@contextlib.contextmanager
def loss_buffers(loss):
    """Within the block, in this thread, ``loss.compute`` writes into the same arrays at every
    call (the CPU training loop's steps), and no other loss's does; they are let go when it
    ends, and what was current before (a fit run inside a fit's callback) is current again.
    ``loss`` None: no loss's ``compute`` writes into a store within the block, not even that of
    a fit around it (whose loss a loss of one's own may call twice a step)."""
    token = LOSS_BUFFERS.set((loss, {}))
    try:
        yield
    finally:
        LOSS_BUFFERS.reset(token)
