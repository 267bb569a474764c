"""chainrule.backend's elementwise layer passes on the GPU equal NumPy's, vectorized or not."""

import numpy as np
import pytest

from chainrule import backend
from chainrule.cuda import vectorized

# (rows, columns): widths that split into 16-byte vectors, and odd ones that take CuPy's fallback
SHAPES = [(64, 512), (3, 8), (5, 7), (1, 1), (33, 6)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_relu_and_its_gradient_equal_numpy(cupy, dtype, shape):
    rng = np.random.default_rng(shape[0] * shape[1])
    Z, b, dY = rng.normal(size=shape).astype(dtype), rng.normal(size=shape[1]).astype(dtype), rng.normal(size=shape).astype(dtype)
    Z[0, 0] = np.nan  # NaN passes through ReLU, as with numpy.maximum
    gZ, gb, gdY = cupy.asarray(Z), cupy.asarray(b), cupy.asarray(dY)
    backend.add_bias(gZ, gb)
    np.testing.assert_array_equal(cupy.asnumpy(gZ), Z + b)
    Y = np.maximum(Z + b, 0)
    out_of_place = backend.relu(gZ)
    np.testing.assert_array_equal(cupy.asnumpy(out_of_place), Y)
    backend.relu(gZ, out=gZ)
    np.testing.assert_array_equal(cupy.asnumpy(gZ), Y)
    expected = dY * (Y > 0)
    np.testing.assert_array_equal(cupy.asnumpy(backend.relu_gradient(gZ, gdY)), expected)
    backend.relu_gradient(gZ, gdY, out=gdY)
    np.testing.assert_array_equal(cupy.asnumpy(gdY), expected)


def test_the_vectorized_kernels_take_the_arrays_that_fit(cupy):
    Z, b = cupy.zeros((4, 8), cupy.float32), cupy.ones(8, cupy.float32)
    assert vectorized.add_bias(Z, b) and float(Z.sum()) == 32
    assert not vectorized.add_bias(cupy.zeros((4, 6), cupy.float32), cupy.ones(6, cupy.float32))  # 6 % 4
    assert not vectorized.relu_forward(Z[:, 1:], cupy.empty((4, 7), cupy.float32))  # not contiguous
    assert vectorized.relu_backward(Z, Z, Z)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_sum_rows_equals_numpy(cupy, dtype, shape):
    A = np.random.default_rng(1).normal(size=shape).astype(dtype)
    out = cupy.full(shape[1], np.nan, dtype=dtype)
    backend.sum_rows(cupy.asarray(A), out=out)
    np.testing.assert_allclose(cupy.asnumpy(out), A.sum(axis=0), rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)
