"""Matrix products through cuBLAS itself, on a handle of our own: the GEMMs of a captured step.

CuPy refuses every cuBLAS call while a stream is being captured into a CUDA graph
("calling cuBLAS API during stream capture is currently unsupported"), although cuBLAS
supports capture when its handle has a workspace of its own (cuBLAS guide, "CUDA Graphs
Support"). :class:`Gemm` calls ``cublasSgemm``/``cublasDgemm`` through ctypes on the
library CuPy already loaded, with a handle bound to one stream and given a fixed workspace,
so that nothing is allocated during the capture.

Row-major arrays seen by column-major cuBLAS: a C-contiguous (m, k) array is the
column-major (k, m) matrix Aᵀ with leading dimension k; an F-contiguous one (a transposed
view such as ``X.T``) is the column-major (m, k) matrix A with leading dimension m. So

    C = A B   (row-major)   ⇔   Cᵀ = Bᵀ Aᵀ   (column-major, what cuBLAS is asked for)

with op(B) = N for a C-contiguous B (T for a transposed view), and likewise for A.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import numpy

from ..backend import module_for
from ..errors import DeviceError

WORKSPACE_BYTES = 32 * 1024 * 1024  # fixed, so cuBLAS allocates nothing while a step is captured
OP_N, OP_T = 0, 1  # cublasOperation_t


def _loaded_library_path() -> str | None:
    """The path of the libcublas this process has loaded (CuPy's), from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rsplit(" ", 1)[-1].strip()
                if os.path.basename(path).startswith("libcublas.so"):
                    return path
    except OSError:
        pass
    return None


def _library() -> ctypes.CDLL:
    cupy = module_for("cuda")
    cupy.matmul(cupy.ones((2, 2)), cupy.ones((2, 2)))  # makes CuPy load libcublas, if it has not yet
    candidates = [_loaded_library_path(), ctypes.util.find_library("cublas"),
                  "libcublas.so.13", "libcublas.so.12", "libcublas.so"]
    for candidate in candidates:
        if candidate:
            try:
                return ctypes.CDLL(candidate)
            except OSError:
                continue
    raise DeviceError("cuBLAS: could not load libcublas (looked for CuPy's copy and libcublas.so.13/12)")


def _function(library: ctypes.CDLL, name: str, argtypes: list):
    try:
        function = getattr(library, name)
    except AttributeError:
        raise DeviceError(f"cuBLAS: {library._name} has no function {name}") from None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


def _check(status: int, call: str) -> None:
    if status != 0:
        raise DeviceError(f"cuBLAS: {call} failed with status {status}")


class Gemm:
    """``gemm(A, B, out=None)`` = A @ B for 2-d CuPy float32/float64 arrays, on ``stream``."""

    def __init__(self, stream) -> None:
        cupy = module_for("cuda")
        library = _library()
        pointer, handle_t, int_t = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int
        self._create = _function(library, "cublasCreate_v2", [ctypes.POINTER(handle_t)])
        self._destroy = _function(library, "cublasDestroy_v2", [handle_t])
        set_stream = _function(library, "cublasSetStream_v2", [handle_t, pointer])
        self._gemm = {}
        for dtype, name, scalar in ((numpy.float32, "cublasSgemm_v2", ctypes.c_float),
                                    (numpy.float64, "cublasDgemm_v2", ctypes.c_double)):
            function = _function(library, name, [
                handle_t, int_t, int_t, int_t, int_t, int_t, ctypes.POINTER(scalar), pointer, int_t,
                pointer, int_t, ctypes.POINTER(scalar), pointer, int_t])
            self._gemm[numpy.dtype(dtype)] = (function, scalar(1.0), scalar(0.0))
        self.handle = handle_t()
        _check(self._create(ctypes.byref(self.handle)), "cublasCreate")
        _check(set_stream(self.handle, pointer(stream.ptr)), "cublasSetStream")
        self.workspace = cupy.empty(WORKSPACE_BYTES, dtype=cupy.uint8)
        if hasattr(library, "cublasSetWorkspace_v2"):
            set_workspace = _function(library, "cublasSetWorkspace_v2", [handle_t, pointer, ctypes.c_size_t])
            _check(set_workspace(self.handle, pointer(self.workspace.data.ptr), WORKSPACE_BYTES), "cublasSetWorkspace")

    def __call__(self, A, B, out=None):
        m, k = A.shape
        n = B.shape[1]
        if B.shape[0] != k or A.dtype != B.dtype or A.dtype not in self._gemm:
            raise DeviceError(f"cuBLAS gemm: cannot multiply {A.dtype}{A.shape} by {B.dtype}{B.shape}")
        if out is None:
            out = module_for("cuda").empty((m, n), dtype=A.dtype)
        if out.shape != (m, n) or not out.flags.c_contiguous:
            raise DeviceError(f"cuBLAS gemm: out must be C-contiguous of shape {(m, n)}, got {out.shape}")
        op_b, ld_b = self._layout(B)
        op_a, ld_a = self._layout(A)
        function, one, zero = self._gemm[A.dtype]
        if m and n:
            _check(function(self.handle, op_b, op_a, n, m, k, ctypes.byref(one), B.data.ptr, ld_b,
                            A.data.ptr, ld_a, ctypes.byref(zero), out.data.ptr, n), "gemm")
        return out

    @staticmethod
    def _layout(array) -> tuple[int, int]:
        """(op, leading dimension) under which cuBLAS reads ``array``'s memory as its transpose."""
        rows, columns = array.shape
        if array.flags.c_contiguous:
            return OP_N, max(columns, 1)
        if array.flags.f_contiguous:
            return OP_T, max(rows, 1)
        raise DeviceError(f"cuBLAS gemm: operand of shape {array.shape} is neither C- nor F-contiguous")

    def close(self) -> None:
        """Destroy the handle (the workspace goes with this object)."""
        if self.handle:
            self._destroy(self.handle)
            self.handle = ctypes.c_void_p()
