"""The size of the network ``chainrule train`` is asked for, checked before it is built.

A ``--hidden 99999999999`` would otherwise fail deep inside NumPy's allocator (MemoryError) or
take the machine's memory (and be killed by the system, without a word); counting what training
holds first names the option instead.
"""

from __future__ import annotations

import os

import numpy

from ..errors import HyperparameterError, quoted

#: The vectors of θ's size each optimizer holds beyond θ and ∂L/∂θ, as ``chainrule train`` makes it:
#: its state and its work vector (SGD without momentum: none; RMSProp: v; Adam and AdamW: m and v).
OPTIMIZER_VECTORS = {"sgd": 1, "rmsprop": 2, "adam": 3, "adamw": 3}
# The share of the memory available that the network's vectors may take: the interpreter, the
# data and a batch's activations need the rest. Linux overcommits memory, so a run that does not
# fit is killed by the system (exit 137, no message) rather than refused with a MemoryError.
MEMORY_SHARE = 0.9


def parameter_count(widths: list[int]) -> int:
    """The weights and biases of ``cr.mlp(widths)``: (n_in + 1) · n_out for each Linear layer."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(widths, widths[1:]))


def network_size(widths: list[int], dtype) -> str:
    """"123,456 parameters (0.5 MB)": the count and bytes of ``cr.mlp(widths)``'s parameters in ``dtype``."""
    count = parameter_count(widths)
    return f"{count:,} parameters ({count * numpy.dtype(dtype).itemsize / 1e6:,.1f} MB)"


def available_memory() -> int | None:
    """The memory this process may still take, in bytes: Linux's ``MemAvailable`` (free memory
    plus what the kernel can reclaim), else the machine's physical memory, else None where
    neither can be told (Windows)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # given in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def training_vectors(optimizer: str, weight_decay: float) -> int:
    """How many vectors of the parameters' size training holds: θ and ∂L/∂θ, the optimizer's
    state and work vectors (``OPTIMIZER_VECTORS``), and two more for weight decay (λθ's work
    vector and the vector of λ on the weights)."""
    return 2 + OPTIMIZER_VECTORS.get(optimizer, max(OPTIMIZER_VECTORS.values())) + (2 if weight_decay else 0)


def check_network_fits_memory(widths: list[int], dtype, name: str, vectors: int, doing: str) -> None:
    """HyperparameterError naming the hidden widths as ``name`` when ``doing`` (say, "training it
    with adam") holds ``vectors`` vectors the size of ``cr.mlp(widths)``'s parameters in
    ``dtype`` (:func:`training_vectors`) and, while it is drawn, its largest layer's weights in
    float64 (the initializers draw in float64, then cast), more bytes than ``MEMORY_SHARE`` of
    the memory available; checked before anything is allocated. A network that passes here and
    still does not fit may be refused where its allocation fails (MemoryError), with the same
    numbers, or, where the system overcommits memory (Linux), killed by it."""
    memory = available_memory()
    largest_layer = max((n_in * n_out for n_in, n_out in zip(widths, widths[1:])), default=0)
    needed = parameter_count(widths) * numpy.dtype(dtype).itemsize * vectors + largest_layer * 8
    if memory is not None and needed > MEMORY_SHARE * memory:
        raise HyperparameterError(
            f"{name}: the network {quoted(widths, 80)} has {network_size(widths, dtype)}; {doing} holds {vectors} "
            f"vectors of that size, and its largest layer is drawn in float64 first ({needed / 1e6:,.0f} MB), more "
            f"than {MEMORY_SHARE:.0%} of the {memory / 1e6:,.0f} MB of memory available; choose smaller widths")
