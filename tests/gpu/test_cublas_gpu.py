"""chainrule.cuda.cublas.Gemm: cuBLAS called directly equals cupy.matmul for every operand layout."""

import numpy as np
import pytest

from chainrule.cuda.cublas import Gemm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(7, 5, 3), (1, 9, 4), (6, 1, 2), (5, 4, 1), (128, 784, 512)])
@pytest.mark.parametrize("a_transposed, b_transposed", [(False, False), (True, False), (False, True), (True, True)])
def test_gemm_equals_matmul(cupy, dtype, m, k, n, a_transposed, b_transposed):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    A = rng.normal(size=(k, m) if a_transposed else (m, k)).astype(dtype)
    B = rng.normal(size=(n, k) if b_transposed else (k, n)).astype(dtype)
    A, B = cupy.asarray(A), cupy.asarray(B)
    A, B = (A.T if a_transposed else A), (B.T if b_transposed else B)
    stream = cupy.cuda.Stream(non_blocking=False)
    gemm = Gemm(stream)
    with stream:
        out = cupy.full((m, n), np.nan, dtype=dtype)  # every element must be written
        gemm(A, B, out=out)
        fresh = gemm(A, B)
    stream.synchronize()
    expected = cupy.asnumpy(A).astype(np.float64) @ cupy.asnumpy(B).astype(np.float64)
    tolerance = 1e-4 if dtype == np.float32 else 1e-12
    for result in (out, fresh):
        np.testing.assert_allclose(cupy.asnumpy(result), expected, rtol=tolerance, atol=tolerance * np.sqrt(k))
    gemm.close()


def test_gemm_can_be_captured_into_a_graph(cupy):
    rng = np.random.default_rng(0)
    A = cupy.asarray(rng.normal(size=(64, 32)))
    B = cupy.asarray(rng.normal(size=(32, 16)))
    out = cupy.zeros((64, 16))
    stream = cupy.cuda.Stream(non_blocking=False)
    gemm = Gemm(stream)
    with stream:
        gemm(A, B, out=out)  # warm-up outside the capture
        out[...] = 0
        stream.begin_capture()
        gemm(A, B, out=out)
        graph = stream.end_capture()
        assert float(cupy.abs(out).max()) == 0  # recording runs nothing
        A *= 2
        graph.launch(stream)
    stream.synchronize()
    np.testing.assert_allclose(cupy.asnumpy(out), cupy.asnumpy(A @ B), rtol=1e-12)
    gemm.close()
