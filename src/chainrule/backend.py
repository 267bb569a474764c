"""The array backend: the one module that decides between NumPy and CuPy.

Layers, losses and optimizers never import NumPy's array functions by name for work on
data; they ask :func:`get_array_module` for the module of the arrays they were given and
call ``xp.matmul``, ``xp.maximum``... on it. CuPy is imported here and nowhere else, and
only when an array or a device asks for it, so a machine without a GPU never touches it.

The functions every layer calls at every step (``matmul``, ``affine``, ``add_bias``, ``relu``,
``relu_gradient``, ``sum_rows``) test ``type(X) is numpy.ndarray`` before anything else and
then call NumPy at once: at batch 1 a layer's arithmetic takes a few microseconds, and the
call of :func:`get_array_module` and the CuPy branches added 0.2-0.4 µs to each (measured at
1×256 float32). Anything else (a CuPy array, a NumPy subclass) takes the general path, unchanged.
"""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import numpy

from . import cpu_blas
from .errors import DeviceError, HyperparameterError, did_you_mean, quoted

Array = Any  # a numpy.ndarray or a cupy.ndarray

DEVICES = ("cpu", "cuda")
_EXPECTED_DEVICE = f"device: expected one of {', '.join(map(repr, DEVICES))}; got"  # as checks.choice words it


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
        kind = type(array)
        if kind is not numpy.ndarray and kind.__module__.startswith("cupy"):
            return _cupy()
    return numpy


def is_array(value) -> bool:
    """Whether ``value`` is a NumPy or a CuPy array (not merely an object with a dtype and a
    shape: a torch tensor, a pandas Series, a cupyx sparse matrix)."""
    if isinstance(value, numpy.ndarray):
        return True
    cupy = sys.modules.get("cupy")  # a CuPy array exists only once CuPy is imported
    return cupy is not None and isinstance(value, cupy.ndarray)


def module_for(device: str) -> types.ModuleType:
    """The array module that holds arrays on ``device`` ("cpu" or "cuda")."""
    if not isinstance(device, str):  # an array compared with "cpu" has no single truth value
        raise HyperparameterError(f"{_EXPECTED_DEVICE} {type(device).__name__} {quoted(device)}")
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
    raise HyperparameterError(f"{_EXPECTED_DEVICE} {quoted(device)}{did_you_mean(device, DEVICES)}")


def device_of(array: Array) -> str:
    """"cuda" for a CuPy array, "cpu" otherwise."""
    return "cpu" if get_array_module(array) is numpy else "cuda"


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA device."""
    cupy = _cupy()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device: CuPy raises its own CUDA errors
        return False


def to_device(array: Array, device: str) -> Array:
    """``array`` on ``device``: the same object when it is already there, else a copy."""
    xp = module_for(device)
    if get_array_module(array) is xp:
        return array
    return to_numpy(array) if xp is numpy else xp.asarray(array)


def matmul(A: Array, B: Array, out: Array | None = None) -> Array:
    """A @ B into ``out`` (or a new array): every GEMM of the layers goes through here.

    A and B are 2-d (the layers' products). On NumPy a new product is ``numpy.dot``'s: for 2-d
    arrays it calls the BLAS routine matmul calls (gemv for one row, gemm for more), so the bits
    are the same, by a shorter path (0.3-0.4 µs less a call at batch 1, where 1×256 by 256×256
    float32 takes 3 µs). Not for a view whose elements are adjacent along neither axis
    (``X[:, ::2]``), which matmul multiplies in a loop of its own and dot copies for the BLAS: its
    product has the bits of its contiguous copy's, which matmul's can differ from in the last place.
    A product into ``out`` is ``numpy.matmul``'s, which also casts into ``out`` and writes into a
    view with any strides, except the outer product of a batch of one, dW = Xᵀ dY with A n_in×1
    (K = 1): matmul runs it without the BLAS, 6-8× as long (784×1 by 1×256 float32: 227 against
    34 µs), so it is ``numpy.dot``'s where ``out`` is what dot writes (C-contiguous, of A's and B's
    dtype); each element is the one product A_i1 B_1j either way. On CuPy outside a CUDA-graph
    capture this is CuPy's ``matmul``. While :mod:`chainrule.cuda.graph` warms up and captures a
    training step it routes the products to cuBLAS directly (CuPy refuses cuBLAS calls during a
    capture).
    """
    if type(A) is numpy.ndarray:
        try:  # no numpy.errstate around every product (0.9 µs, docs/cpu_speed.md), see underflowed
            return _numpy_matmul(A, B, out)
        except FloatingPointError:  # under="raise" in the caller's numpy.errstate: the product again, without it
            with numpy.errstate(under="ignore"):  # A and B are intact (out is neither), an overflow still raises
                return _numpy_matmul(A, B, out)
    if _gemm_override is not None and get_array_module(A) is not numpy:
        return _gemm_override(A, B, out)
    return get_array_module(A).matmul(A, B, out=out)


_gemm_override = None  # set only while chainrule.cuda.graph warms up and captures a step


def affine(X: Array, W: Array, b: Array) -> Array:
    """X W + b as a new array, b broadcast over the rows: a Linear layer's forward outside a training loop.

    :func:`matmul` and then :func:`add_bias` in one call: at batch 1, where a layer's arithmetic takes a
    few microseconds, making Z in one call (and reading ``own_params`` once) spared Linear's forward about
    0.2-0.3 µs a layer (2.0 µs of 54 through 784-256x6-10, 0.6 of 39 through 784-512-256-10: docs/cpu_speed.md,
    *Per-layer dispatch at small batches*). On NumPy the same ``numpy.dot`` and in-place add, with the same
    bits; anything else (CuPy) goes through both functions.
    """
    if type(X) is numpy.ndarray:
        try:
            Z = numpy.dot(X, W)
        except FloatingPointError:  # an underflow raised by the caller's numpy.errstate, as in matmul
            with numpy.errstate(under="ignore"):
                Z = numpy.dot(X, W)
        Z += b  # a sum is exact where it is below the smallest normal number: no underflow
        return Z
    Z = matmul(X, W)
    add_bias(Z, b)
    return Z


def _numpy_matmul(A: numpy.ndarray, B: numpy.ndarray, out: numpy.ndarray | None) -> numpy.ndarray:
    """:func:`matmul` of NumPy arrays."""
    if out is None:
        return numpy.dot(A, B)
    if A.shape[-1] == 1 and out.flags.c_contiguous and A.dtype == B.dtype == out.dtype:
        return numpy.dot(A, B, out=out)
    return numpy.matmul(A, B, out=out)


def underflowed(error: FloatingPointError, out: Array) -> Array:
    """``out``, which a NumPy ufunc wrote before it raised ``error`` under a caller's
    ``numpy.errstate(under="raise")`` (or ``numpy.seterr(all="raise")``), where the error says only
    that results underflowed, to subnormal numbers or 0: they are the correctly rounded values, as
    NumPy's default takes them (a gradient dY ⊙ f′(z) of 1e-39 in float32, the α z of a LeakyReLU
    at z = −1e-45), so the layers, losses and optimizers raise no error for them. Any other error is
    raised again.

    The callers catch the error (``try`` costs nothing where nothing is raised) rather than enter a
    ``numpy.errstate`` at every call (0.9 µs; Tanh's forward and backward at 1×256 took 4.94 µs with
    one around the backward, 3.63 without: docs/cpu_speed.md, *Underflows under a caller's numpy.errstate*).
    NumPy raises it once every result is in ``out``, checking its flags in the order division by
    zero, overflow, underflow, invalid: an underflow's error says that neither of the first two
    raised. An invalid operation (inf · 0, inf − inf) would have left NaN in ``out``, so with a NaN
    there the error is raised again: such a NaN cannot be told from a NaN operand's once ``out``
    has overwritten the operands (as with ``inplace=True``)."""
    if "underflow" not in str(error) or bool(numpy.isnan(out).any()):
        raise error
    return out


def underflow_allowed(ufunc, A, B, out: Array) -> Array:
    """``ufunc(A, B, out=out)`` (NumPy's or CuPy's ``multiply``, ``divide``), its results that
    underflow allowed: under a caller's ``numpy.errstate(under="raise")`` they are kept, the right
    values, rather than raised (:func:`underflowed`); any other error stands. Returns ``out``.
    The layers' and optimizers' products that may underflow go through it: a ``try`` costs
    nothing where nothing is raised, where a ``numpy.errstate`` per call would (0.9 µs)."""
    try:
        return ufunc(A, B, out=out)
    except FloatingPointError as error:
        return underflowed(error, out)


def add_bias(Z: Array, b: Array) -> None:
    """Z ← Z + b in place, b broadcast over the rows (on the GPU one vectorized pass)."""
    if type(Z) is numpy.ndarray or get_array_module(Z) is numpy or not _vectorized().add_bias(Z, b):
        Z += b


def relu(X: Array, out: Array | None = None) -> Array:
    """max(X, 0) into ``out`` (X itself allowed) or a new array; NaN stays NaN as in NumPy."""
    xp = numpy if type(X) is numpy.ndarray else get_array_module(X)
    if xp is numpy:
        return numpy.maximum(X, _zeros_like(X), out=out)
    out = xp.empty_like(X) if out is None else out
    if not _vectorized().relu_forward(X, out):
        xp.maximum(X, 0, out=out)
    return out


ZEROS_MIN_SIZE = 4096  # below this many elements the scalar 0 is as fast (measured: 2.0 against 2.4 µs at 4096)
ZEROS_MAX_SIZE = 1 << 22  # elements of the largest shared zero array (16 MiB in float32)
_zeros_vectors: dict = {}  # dtype -> a read-only NumPy vector of zeros, grown as needed


def _zeros_like(X: numpy.ndarray):
    """A read-only array of zeros of X's shape and dtype (a view of one shared vector), or the
    scalar 0 for an array outside [ZEROS_MIN_SIZE, ZEROS_MAX_SIZE]. NumPy's ``maximum`` runs
    2.7x faster against an array than against a scalar (measured at 1024×256 float32: 37 µs
    against 98)."""
    if not ZEROS_MIN_SIZE <= X.size <= ZEROS_MAX_SIZE:
        return 0
    zeros = _zeros_vectors.get(X.dtype)
    if zeros is None or zeros.size < X.size:
        zeros = _zeros_vectors[X.dtype] = numpy.zeros(max(X.size, 1 << 16), dtype=X.dtype)
        zeros.flags.writeable = False
    return zeros[:X.size].reshape(X.shape)


def zeros_like(X: Array):
    """Zeros to compare X with elementwise (``maximum``, ``fmax``): for NumPy a read-only array of
    X's shape where that is faster than the scalar (see ``_zeros_like``), else the scalar 0."""
    return _zeros_like(X) if type(X) is numpy.ndarray else 0


def relu_gradient(Y: Array, dY: Array, out: Array | None = None, mask: Array | None = None) -> Array:
    """dY ⊙ [Y > 0] into ``out`` (dY itself allowed) or a new array; ``mask``, a boolean array
    of Y's shape, holds [Y > 0] where the backend needs it (else a temporary is made)."""
    xp = numpy if type(dY) is numpy.ndarray else get_array_module(dY)
    if xp is numpy:
        return numpy.multiply(dY, numpy.greater(Y, 0, out=mask), out=out)
    out = xp.empty_like(dY) if out is None else out
    if not _vectorized().relu_backward(Y, dY, out):
        xp.multiply(dY, xp.greater(Y, 0, out=mask), out=out)
    return out


def axpy(a: float, X: Array, Y: Array, work: Array | None = None) -> Array:
    """Y ← a X + Y in place, for 1-D vectors of one dtype; returns Y.

    On the CPU one pass of NumPy's own BLAS (chainrule.cpu_blas; threaded, 3x faster than
    a multiply and an add); elsewhere, or where that BLAS is not reachable, a X goes through
    ``work`` (X's shape; X itself is allowed when X is not needed afterwards), or a
    temporary when ``work`` is None.
    """
    xp = get_array_module(Y)
    if xp is numpy and cpu_blas.axpy(a, X, Y):
        return Y
    Y += X if a == 1 else _scaled(X, a, work)
    return Y


def _scaled(X: Array, a: float, work: Array | None) -> Array:
    """a X into ``work`` (a new array if None), a product below the smallest normal number allowed
    (see :func:`underflowed`): a tiny gradient or state in an optimizer's step."""
    xp = get_array_module(X)
    return underflow_allowed(xp.multiply, X, a, xp.empty_like(X) if work is None else work)


def axpby(a: float, X: Array, b: float, Y: Array, work: Array | None = None) -> Array:
    """Y ← a X + b Y in place, for 1-D vectors of one dtype; returns Y (see :func:`axpy`)."""
    xp = get_array_module(Y)
    if xp is numpy and cpu_blas.axpby(a, X, b, Y):
        return Y
    underflow_allowed(xp.multiply, Y, b, Y)  # b Y: a tiny state's product allowed
    Y += X if a == 1 else _scaled(X, a, work)
    return Y


def abs_sum(X: Array) -> float:
    """Σ|x_i| of a vector as a Python float, accumulated in X's dtype (so it overflows to inf
    where X's dtype does): on the CPU one threaded pass of NumPy's own BLAS (17.6 µs on 535,818
    float32 against 37.8 µs for NumPy's dot product), else ``ABS_SUM_BLOCK`` values at a time
    through one small buffer; on the GPU through a temporary of X's size."""
    if get_array_module(X) is numpy:
        found = cpu_blas.asum(X)
        if found is not None:
            return float(found)
        return _abs_sum_in_blocks(X)
    with numpy.errstate(over="ignore"):  # an overflow is the answer (inf), not a warning
        return float(get_array_module(X).abs(X).sum())


def finite_probe(X: Array) -> float:
    """A number that is finite when every value of X is, from one pass: Σ|x_i| through the
    CPU's BLAS where it takes X (a contiguous float32 or float64 array: one threaded pass,
    7.8 ms against 22.9 ms for NumPy's own sum on 60000×784 float32, 2 threads, Intel Xeon,
    2026-11-28, docs/examples/cpu_figures.py), else X's sum in its dtype. NaN and Inf carry into either. Both can also
    overflow to inf when every value is finite, so a non-finite answer needs a second look.
    """
    if type(X) is numpy.ndarray and (X.flags.c_contiguous or X.flags.f_contiguous):
        found = cpu_blas.asum(X.ravel(order="K"))  # a view in memory order: no copy
        if found is not None:
            return float(found)
    with numpy.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is the caller's second look
        return float(X.sum())


def norm(X: Array) -> float:
    """‖x‖ = √(Σ x_i²) of a vector as a Python float, exact to X's rounding whatever its size.

    In float32, squares below ~1e-19 lose digits, below ~3e-23 vanish (a deep sigmoid network's
    first-layer gradient recorded as 0), and above ~1.8e19 overflow to inf. So the dot product
    in X's dtype (one BLAS call) is kept when it is finite and at least ``TRUSTED_SQUARES``,
    where what the smallest squares lose is below X's rounding, and otherwise summed again in
    float64: on the CPU without a temporary of X's size (``einsum`` casts X in small buffers,
    8-19× the dot product's time), on the GPU through a float64 copy."""
    xp = get_array_module(X)
    squares = float(xp.dot(X, X)) if X.dtype == numpy.float64 else _float32_squares(xp, X)
    if X.dtype == numpy.float64 or math.isfinite(squares) and squares >= TRUSTED_SQUARES:
        return math.sqrt(squares)
    if xp is numpy:
        return math.sqrt(float(numpy.einsum("i,i->", X, X, dtype=numpy.float64)))
    X64 = X.astype(numpy.float64)
    return math.sqrt(float(X64 @ X64))


# A float32 sum of squares of at least this is kept by ``norm``: each square flushed or rounded
# below float32's smallest normal number (1.2e-38) loses at most that, so 1e8 of them lose at
# most 1.2e-30, a millionth of it (float32's own rounding is 6e-8).
TRUSTED_SQUARES = 1e-24


def _float32_squares(xp, X) -> float:
    """Σ x_i² in X's dtype; inf where it overflows (then summed again, without NumPy's warning)."""
    with numpy.errstate(over="ignore"):
        return float(xp.dot(X, X))


# Values per block of abs_sum without the BLAS (a buffer of 256 KiB in float32). Each block costs
# ~2 µs of calls: on 535,818 float32, 155 µs against 132 for abs(X).sum(), and 262 with blocks of 8192.
ABS_SUM_BLOCK = 65536


def _abs_sum_in_blocks(X: numpy.ndarray) -> float:
    """Σ|x_i| of a NumPy array in its dtype, without the temporary |X| of X's size.

    The optimizers' divergence guard asks for it at every step, so |X| is made one block at a
    time in a buffer of ``ABS_SUM_BLOCK`` values; each block's sum (NumPy's, pairwise) is added
    to a total of X's dtype. The result differs from ``abs(X).sum()`` only by rounding.
    """
    values = X.reshape(-1)  # a view, unless X is a non-contiguous array of several dimensions
    buffer = numpy.empty(min(values.size, ABS_SUM_BLOCK), dtype=values.dtype)
    total = values.dtype.type(0)
    with numpy.errstate(over="ignore"):  # an overflow is the answer (inf), not a warning
        for start in range(0, values.size, ABS_SUM_BLOCK):
            chunk = values[start:start + ABS_SUM_BLOCK]
            total += numpy.abs(chunk, out=buffer[:len(chunk)]).sum()
    return float(total)


def sum_rows(A: Array, out: Array) -> Array:
    """Σ_n A[n, :] into ``out``, as the product 1ᵀA: a BLAS GEMV is 3x faster than NumPy's column sum
    (measured at 1024×256 float32 here: 21 µs against 47), and on the GPU cuBLAS 4x faster than CuPy's
    (8192×4096 on an H200: 48 µs against 210)."""
    xp = numpy if type(A) is numpy.ndarray else get_array_module(A)
    if xp is numpy:
        ones = _ones_vectors.get((A.shape[0], A.dtype))
        if ones is None:
            ones = _ones_vectors[A.shape[0], A.dtype] = numpy.ones(A.shape[0], dtype=A.dtype)
        return numpy.matmul(ones, A, out=out)
    matmul(_ones_row(xp, A.shape[0], A.dtype), A, out=out.reshape(1, -1))
    return out


_ones_vectors: dict = {}  # (n, dtype) -> NumPy ones(n), for sum_rows on the CPU


_ones_rows: dict = {}  # (n, dtype, device) -> a CuPy (1, n) row of ones, made outside any CUDA-graph capture


def _ones_row(xp, n: int, dtype) -> Array:
    key = (n, numpy.dtype(dtype).name, xp.cuda.Device().id)
    if key not in _ones_rows:
        if xp.cuda.get_current_stream().is_capturing():
            raise DeviceError("a row of ones was first asked for during a CUDA-graph capture (warm up first)")
        _ones_rows[key] = xp.ones((1, n), dtype=dtype)
    return _ones_rows[key]


def weighted_sum_rows(w: Array, M: Array) -> Array:
    """Σ_n w_n M[n, :], the rows of M weighted by the vector w: ``w @ M`` on the CPU; on the GPU
    a product and a sum down the columns, which a captured CUDA graph can hold (CuPy's @ of a
    vector and a matrix calls cuBLAS, which a capture refuses)."""
    if get_array_module(M) is numpy:
        return w @ M
    return (w[:, None] * M).sum(axis=0)


def weighted_sum(values: Array, shares: Array):
    """Σ_n values_n · shares_n, two vectors' dot product: a batch's row losses weighed by their
    shares of the weights. On the CPU a row of share 0 adds 0 even when its value is not finite (a
    row of weight 0 whose loss overflowed does not count): ``numpy.vdot``, which checks no
    floating-point flags where ``@`` warns of inf · 0, so no ``numpy.errstate`` is entered at every
    step (~1 µs); it is the same BLAS dot, with the same bits; only a NaN total is summed again
    without the rows of share 0. On the GPU the rows of share 0 are set to 0 first, at every step:
    asking whether the total is NaN would wait for the device (and cannot be captured in a CUDA
    graph), and without it such a row made the total NaN, which the divergence guard stopped
    training on where the CPU trains on. For finite values the total is the same (a row of
    share 0 adds ±0 either way); ``@`` of two vectors is a CuPy reduction, not cuBLAS, so a graph
    captures it."""
    if type(values) is numpy.ndarray:
        total = numpy.vdot(values, shares)
        if total == total:
            return total
        return numpy.vdot(numpy.where(shares == 0, 0.0, values), shares)
    return get_array_module(values).where(shares == 0, 0.0, values) @ shares


def _vectorized():
    from .cuda import vectorized  # the GPU's kernels, loaded at their first use
    return vectorized


def to_numpy(array: Array) -> numpy.ndarray:
    """A NumPy copy (or view, when already on the CPU) of ``array``."""
    if get_array_module(array) is numpy:
        return numpy.asarray(array)
    return array.get()
