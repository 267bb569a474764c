"""The size of the network ``chainrule train`` is asked for, checked before it is built.

A ``--hidden 99999999999`` would otherwise fail deep inside NumPy's allocator (MemoryError) or
take the machine's memory; counting the parameters first names the option instead.
"""

from __future__ import annotations

import os

import numpy

from ..errors import HyperparameterError, quoted


def parameter_count(widths: list[int]) -> int:
    """The weights and biases of ``cr.mlp(widths)``: (n_in + 1) · n_out for each Linear layer."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(widths, widths[1:]))


def network_size(widths: list[int], dtype) -> str:
    """"123,456 parameters (0.5 MB)": the count and bytes of ``cr.mlp(widths)``'s parameters in ``dtype``."""
    count = parameter_count(widths)
    return f"{count:,} parameters ({count * numpy.dtype(dtype).itemsize / 1e6:,.1f} MB)"


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, or None where ``os.sysconf`` cannot tell (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def check_network_fits_memory(widths: list[int], dtype, name: str) -> None:
    """HyperparameterError naming the hidden widths as ``name`` when the parameters alone of
    ``cr.mlp(widths)`` in ``dtype`` need more bytes than the machine's physical memory, before
    anything is allocated (training needs more still: gradients and the optimizer's state). A
    network that passes here and still does not fit is refused by :func:`run` when its
    allocation fails (MemoryError), with the same numbers."""
    memory = physical_memory()
    if memory is not None and parameter_count(widths) * numpy.dtype(dtype).itemsize > memory:
        raise HyperparameterError(f"{name}: the network {quoted(widths, 80)} has {network_size(widths, dtype)}, more than "
                                  f"this machine's {memory / 1e6:,.0f} MB of memory; choose smaller widths")
