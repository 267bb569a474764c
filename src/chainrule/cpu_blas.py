"""NumPy's own BLAS, for the vector operations of an optimizer step NumPy has no single call for.

An optimizer step is a few updates of whole parameter vectors, y ← a x + y ("axpy") and
y ← a x + b y ("axpby"), and the divergence guard's Σ|x_i| ("asum"). NumPy writes
``y += a * x`` as two passes over memory and a temporary; the BLAS that NumPy multiplies
matrices with does it in one pass, and splits axpy and asum over its threads. Here that BLAS
is called through ctypes (measured on 535,818 float32 values, 2 cores: axpy 36 µs against
104 µs for NumPy's multiply and subtract, axpby 57 µs against 85 µs, asum 17.6 µs against
37.8 µs for NumPy's dot product).

The functions are looked up in the library NumPy itself loaded (through its extension
module, whose dependencies include the BLAS), so they share NumPy's BLAS thread pool. A
second BLAS, such as SciPy's, would bring its own pool, which was measured to fight NumPy's
inside the training loop (docs/cpu_speed.md). Where no known symbol is found (a NumPy built
against Apple's Accelerate, or on Windows, where symbols are not searched through
dependencies) or the found one fails a check against NumPy on a small vector,
:func:`available` is False and chainrule.backend computes the same updates with ufuncs.

The symbol names tried, with the integer width they take: ``scipy_cblas_saxpy64_``
(the scipy-openblas64 inside NumPy's wheels, 64-bit), ``cblas_saxpy64_`` (an OpenBLAS
built with a 64-bit suffix), ``cblas_saxpy`` (standard CBLAS, 32-bit).

:func:`set_threads` and :func:`threads` size that BLAS's thread pool (OpenBLAS's
``openblas_set_num_threads``, under the same three spellings), as a distributed run's ranks
that share a machine's cores need (see chainrule.training.distributed).
"""

from __future__ import annotations

import ctypes
import functools
import math
import numbers

import numpy

from .errors import HyperparameterError, quoted

_CANDIDATES = (("scipy_cblas_{}64_", ctypes.c_int64), ("cblas_{}64_", ctypes.c_int64), ("cblas_{}", ctypes.c_int))
_PREFIX = {numpy.dtype(numpy.float32): "s", numpy.dtype(numpy.float64): "d"}
_THREAD_FUNCTIONS = ("scipy_openblas_{}_num_threads64_", "openblas_{}_num_threads64_", "openblas_{}_num_threads")


@functools.cache
def _numpy_library() -> ctypes.CDLL | None:
    """NumPy's extension module as a library, through which its BLAS's symbols are found; None if unloadable."""
    try:
        from numpy._core import _multiarray_umath as extension  # NumPy ≥ 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import _multiarray_umath as extension
    try:
        return ctypes.CDLL(extension.__file__)
    except OSError:  # pragma: no cover - a NumPy without a loadable extension file
        return None


@functools.cache
def _routines() -> dict | None:
    """{(name, dtype): ctypes function} for axpy, axpby and asum in float32 and float64, and under
    "largest n" the longest vector their integer arguments can count, or None."""
    library = _numpy_library()
    if library is None:  # pragma: no cover - see _numpy_library
        return None
    for pattern, integer in _CANDIDATES:
        found = {}
        for dtype, prefix in _PREFIX.items():
            scalar = ctypes.c_float if prefix == "s" else ctypes.c_double
            for name, argtypes, restype in (
                    ("axpy", [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer], None),
                    ("axpby", [integer, scalar, ctypes.c_void_p, integer, scalar, ctypes.c_void_p, integer], None),
                    ("asum", [integer, ctypes.c_void_p, integer], scalar)):
                function = getattr(library, pattern.format(prefix + name), None)
                if function is None:
                    break
                function.argtypes, function.restype = argtypes, restype
                found[name, dtype] = function
        if len(found) == 6 and _agrees_with_numpy(found):
            found["largest n"] = 2 ** (8 * ctypes.sizeof(integer) - 1) - 1  # a longer vector would wrap around
            return found
    return None


def _agrees_with_numpy(found: dict) -> bool:
    """Whether the routines compute what NumPy computes, on a small vector of each dtype."""
    for dtype in _PREFIX:
        x = numpy.arange(1, 6, dtype=dtype)
        y = numpy.arange(10, 15, dtype=dtype)
        expected_axpy, expected_axpby = 2 * x + y, 2 * x + 3 * y
        found["axpy", dtype](len(x), 2.0, x.ctypes.data, 1, y.ctypes.data, 1)
        if not numpy.array_equal(y, expected_axpy):
            return False
        y = numpy.arange(10, 15, dtype=dtype)
        found["axpby", dtype](len(x), 2.0, x.ctypes.data, 1, 3.0, y.ctypes.data, 1)
        if not numpy.array_equal(y, expected_axpby):
            return False
        negated = -x  # held by a name: a temporary could be freed before the routine reads it
        if found["asum", dtype](len(x), negated.ctypes.data, 1) != 15:
            return False
        # The divergence guard and the input checks read NaN and Inf from the sum: they must carry
        # into it, from a vector's body and from the tail its vectorized kernels handle apart.
        for position, value in ((5, numpy.nan), (36, numpy.nan), (5, -numpy.inf), (36, numpy.inf)):
            values = numpy.ones(37, dtype=dtype)
            values[position] = value
            total = found["asum", dtype](len(values), values.ctypes.data, 1)
            if not (math.isnan(total) if math.isnan(value) else total == math.inf):
                return False
    return True


def available() -> bool:
    """True when NumPy's BLAS routines were found and passed their check."""
    return _routines() is not None


def _address(x: numpy.ndarray) -> int:
    """The address of x's first value: through ctypes' view of x's buffer where x is writable
    and not empty (0.7 µs), else ``x.ctypes.data`` (2.6 µs; the optimizer's step makes three
    calls, five addresses, at every step)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(x))
    except (TypeError, ValueError, BufferError):  # read-only, empty, or a buffer ctypes cannot view
        return x.ctypes.data


def _usable(x: numpy.ndarray, y: numpy.ndarray, largest: int) -> bool:
    return (x.dtype == y.dtype and x.dtype in _PREFIX and x.shape == y.shape and x.ndim == 1
            and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable and x.size <= largest)


def axpy(a: float, x: numpy.ndarray, y: numpy.ndarray) -> bool:
    """y ← a x + y in place; False (and y untouched) when the BLAS cannot take these arrays.

    x and y: 1-D, contiguous, of one float dtype and length; y writable.
    """
    routines = _routines()
    if routines is None or not _usable(x, y, routines["largest n"]):
        return False
    routines["axpy", x.dtype](x.size, a, _address(x), 1, _address(y), 1)
    return True


def asum(x: numpy.ndarray) -> float | None:
    """Σ|x_i| of a 1-D contiguous float vector, accumulated in its dtype; None when the BLAS cannot take it."""
    routines = _routines()
    if (routines is None or x.dtype not in _PREFIX or x.ndim != 1 or not x.flags.c_contiguous
            or x.size > routines["largest n"]):
        return None
    return routines["asum", x.dtype](x.size, _address(x), 1)


def axpby(a: float, x: numpy.ndarray, b: float, y: numpy.ndarray) -> bool:
    """y ← a x + b y in place; False (and y untouched) when the BLAS cannot take these arrays."""
    routines = _routines()
    if routines is None or not _usable(x, y, routines["largest n"]):
        return False
    routines["axpby", x.dtype](x.size, a, _address(x), 1, b, _address(y), 1)
    return True


@functools.cache
def _thread_functions() -> tuple | None:
    """(set, get) of OpenBLAS's thread count in NumPy's BLAS, or None where it has none (another BLAS)."""
    library = _numpy_library()
    if library is None:  # pragma: no cover - see _numpy_library
        return None
    for pattern in _THREAD_FUNCTIONS:
        setter, getter = (getattr(library, pattern.format(verb), None) for verb in ("set", "get"))
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None  # an int in every OpenBLAS, also the 64-bit ones
            getter.argtypes, getter.restype = [], ctypes.c_int
            return setter, getter
    return None


def threads() -> int | None:
    """The threads NumPy's BLAS multiplies matrices with, or None where it cannot be told (not OpenBLAS)."""
    functions = _thread_functions()
    return None if functions is None else functions[1]()


def set_threads(count: int) -> bool:
    """Make NumPy's BLAS use ``count`` threads from now on (for every later call, in this process);
    False (and nothing changed) where it cannot be set: a NumPy built on another BLAS than OpenBLAS.
    A ``count`` that is not an int >= 1 raises HyperparameterError naming it."""
    # Not checks.positive_int: checks imports the backend, which imports this module.
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
        raise HyperparameterError(f"count: expected an integer >= 1 (BLAS threads), got {quoted(count, 60)}")
    functions = _thread_functions()
    if functions is None:
        return False
    functions[0](count)
    return True
