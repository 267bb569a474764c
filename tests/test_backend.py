"""The backend: the one module that picks the array module."""

import importlib.util
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import device_of, get_array_module, is_array, module_for, norm, to_numpy, weighted_sum
from tests.harness import traced_peak


def test_numpy_arrays_use_numpy():
    assert get_array_module(np.zeros(2), np.ones(3)) is np
    assert get_array_module() is np
    assert module_for("cpu") is np
    assert device_of(np.zeros(1)) == "cpu"


def test_to_numpy_does_not_copy_a_numpy_array():
    X = np.arange(4.0)
    assert np.shares_memory(to_numpy(X), X)


def test_unknown_device():
    with pytest.raises(cr.HyperparameterError, match=r"device: expected one of 'cpu', 'cuda'; got 'tpu'"):
        module_for("tpu")


def test_an_unknown_device_name_is_quoted_and_cut():
    """The whole name went into the message: a 100,000-character one made a message of that size."""
    with pytest.raises(cr.HyperparameterError, match=r"got '" + "x" * 59 + r"\.\.\.$"):
        module_for("x" * 100_000)


@pytest.mark.parametrize("call", [lambda device: cr.mlp([3, 2]).to(device),
                                  lambda device: cr.fit(cr.mlp([3, 2]), np.ones((4, 3)), [0, 1, 0, 1], device=device)],
                         ids=["to", "fit"])
def test_a_device_that_is_no_name_is_refused(call):
    # It raised NumPy's "truth value of an array with more than one element is ambiguous" from device == "cpu".
    with pytest.raises(cr.HyperparameterError, match=r"device: expected one of 'cpu', 'cuda'; got ndarray "):
        call(np.array(["cpu", "cuda"]))


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(cr.HyperparameterError, match=r"pip install 'chainrule\[cuda\]'"):
        module_for("cuda")


# The vector updates of the optimizers: one BLAS pass where NumPy's BLAS is reachable, ufuncs elsewhere.

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_and_axpby_update_in_place(blas_or_not, dtype):
    from chainrule.backend import axpby, axpy

    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal(50_000).astype(dtype), rng.standard_normal(50_000).astype(dtype)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    for a, work in [(2.5, None), (2.5, np.empty_like(X)), (1.0, None)]:
        target = Y.copy()
        assert axpy(a, X, target, work=work) is target
        np.testing.assert_allclose(target, a * X.astype(np.float64) + Y, rtol=rtol, atol=rtol)
        target = Y.copy()
        assert axpby(a, X, 0.9, target, work=work) is target
        np.testing.assert_allclose(target, a * X.astype(np.float64) + 0.9 * Y, rtol=rtol, atol=rtol)


def test_the_ufunc_fallback_may_scale_x_in_its_own_buffer(monkeypatch):
    from chainrule import cpu_blas
    from chainrule.backend import axpy

    monkeypatch.setattr(cpu_blas, "_routines", lambda: None)
    X, Y = np.arange(4.0), np.ones(4)
    axpy(-2.0, X, Y, work=X)  # X is not needed afterwards: it holds −2X now
    np.testing.assert_array_equal(Y, [1.0, -1.0, -3.0, -5.0])


@pytest.mark.parametrize("smallest, largest", [(1, 100), (1, 4), (100, 1000)])  # zero array, scalar above, scalar below
def test_relu_is_max_with_zero_nan_included(smallest, largest, monkeypatch):
    from chainrule import backend

    monkeypatch.setattr(backend, "ZEROS_MIN_SIZE", smallest)
    monkeypatch.setattr(backend, "ZEROS_MAX_SIZE", largest)
    X = np.array([[-1.5, 0.0, 2.0], [np.nan, -np.inf, np.inf]], dtype=np.float32)
    expected = np.array([[0.0, 0.0, 2.0], [np.nan, 0.0, np.inf]], dtype=np.float32)
    np.testing.assert_array_equal(backend.relu(X), expected)
    backend.relu(X, out=X)  # in place, as a ReLU after a Linear layer runs
    np.testing.assert_array_equal(X, expected)
    monkeypatch.undo()
    assert not backend._zeros_like(np.ones((64, 64), np.float32)).any()  # the shared zeros stayed zeros


def test_abs_sum_is_nan_or_inf_for_a_vector_holding_either(blas_or_not):
    from chainrule.backend import abs_sum

    X = np.linspace(-2, 2, 50_001).astype(np.float32)
    assert abs_sum(X) == pytest.approx(float(np.abs(X.astype(np.float64)).sum()), rel=1e-5)
    for bad in (np.nan, np.inf, -np.inf):
        Y = X.copy()
        Y[12_345] = bad
        assert not np.isfinite(abs_sum(Y))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_abs_sum_without_the_blas_allocates_one_small_block_not_a_copy_of_x(monkeypatch, dtype):
    from chainrule import backend, cpu_blas

    monkeypatch.setattr(cpu_blas, "_routines", lambda: None)
    X = np.random.default_rng(0).standard_normal(8 * backend.ABS_SUM_BLOCK + 123).astype(dtype)
    found, peak = traced_peak(lambda: backend.abs_sum(X))
    assert peak < X.nbytes / 4, peak / X.nbytes  # abs(X).sum() took all of X.nbytes
    assert found == pytest.approx(float(np.abs(X.astype(np.float64)).sum()), rel=1e-5)
    assert backend.abs_sum(X[:0]) == 0.0 and backend.abs_sum(X[:3]) == pytest.approx(float(np.abs(X[:3]).sum()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_abs_sum_overflows_to_inf_in_xs_dtype_with_or_without_the_blas(blas_or_not, dtype):
    from chainrule.backend import ABS_SUM_BLOCK, abs_sum

    largest = np.finfo(dtype).max
    within_blocks = np.full(10, largest / 4, dtype=dtype)  # Σ = 2.5 × largest, within one block
    across_blocks = np.zeros(3 * ABS_SUM_BLOCK, dtype=dtype)
    across_blocks[::ABS_SUM_BLOCK] = -largest / 2  # each block's sum is finite, their total is not
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow is the answer, not a warning
        assert abs_sum(within_blocks) == math.inf
        assert abs_sum(across_blocks) == math.inf


def test_relu_of_a_larger_array_after_a_smaller_one_grows_the_shared_zeros(monkeypatch):
    from chainrule import backend

    monkeypatch.setattr(backend, "_zeros_vectors", {})
    backend.relu(-np.ones(backend.ZEROS_MIN_SIZE, np.float32))  # makes the shared zeros, at their first size
    larger = np.ones((4, 20_000), np.float32)  # more elements than that first size
    larger[:, ::2] = -1
    expected = np.where(larger > 0, larger, 0)
    np.testing.assert_array_equal(backend.relu(larger), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [1, 3, 64])
def test_matmul_of_numpy_arrays_has_numpy_matmuls_bits_new_or_into_out(dtype, n_samples):
    """A new product is numpy.dot's (a shorter path at batch 1), one into ``out`` numpy.matmul's:
    the layers' three products give the same bits either way, transposed operands included."""
    from chainrule import backend

    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((n_samples, 300)).astype(dtype), rng.standard_normal((300, 70)).astype(dtype)
    dY = rng.standard_normal((n_samples, 70)).astype(dtype)
    for A, B in ((X, W), (dY, W.T), (X.T, dY)):  # Z = X W, dX = dY Wᵀ, dW = Xᵀ dY
        expected = np.matmul(A, B)
        out = np.empty_like(expected)
        assert backend.matmul(A, B).tobytes() == expected.tobytes()
        assert backend.matmul(A, B, out=out) is out and out.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [1, 3, 64])
def test_affine_has_the_bits_of_matmul_and_add_bias(dtype, n_samples):
    """X W + b in one call (Linear's forward outside a training loop): a new array, the bits of the two calls."""
    from chainrule import backend

    rng = np.random.default_rng(3)
    X, W = rng.standard_normal((n_samples, 300)).astype(dtype), rng.standard_normal((300, 70)).astype(dtype)
    b = rng.standard_normal(70).astype(dtype)
    expected = backend.matmul(X, W)
    backend.add_bias(expected, b)
    Z = backend.affine(X, W, b)
    assert Z.tobytes() == expected.tobytes() and not np.shares_memory(Z, X) and not np.shares_memory(Z, W)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_new_product_of_a_view_with_no_unit_stride_has_its_contiguous_copys_bits(dtype):
    """numpy.dot copies such a view (X[:, ::2]) for the BLAS, where matmul multiplies it in a loop of its
    own: the bits are those of the contiguous copy's product, not necessarily matmul's of the view."""
    from chainrule import backend

    rng = np.random.default_rng(2)
    A, W = rng.standard_normal((1, 256)).astype(dtype), rng.standard_normal((256, 512)).astype(dtype)[:, ::2]
    expected = np.matmul(A, np.ascontiguousarray(W))  # here matmul's product of the view itself differs
    assert backend.matmul(A, W).tobytes() == expected.tobytes()


@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
def test_an_outer_product_into_out_of_any_layout_or_dtype_is_matmuls(out_dtype):
    """dW = Xᵀ dY of one row (K = 1) goes to numpy.dot where out suits it: into a transposed view,
    or an out of another dtype (which dot refuses), it is numpy.matmul's, cast as matmul casts."""
    from chainrule import backend

    rng = np.random.default_rng(1)
    X, dY = rng.standard_normal((1, 30), dtype=np.float32), rng.standard_normal((1, 7), dtype=np.float32)
    expected = np.matmul(X.T, dY).astype(out_dtype)
    contiguous, transposed = np.empty((30, 7), out_dtype), np.empty((7, 30), out_dtype).T
    for out in (contiguous, transposed):
        assert backend.matmul(X.T, dY, out=out) is out
        np.testing.assert_array_equal(out, expected)


def test_a_numpy_subclass_takes_the_general_path_to_the_same_results():
    from chainrule import backend

    class Tagged(np.ndarray):  # not numpy.ndarray itself: no fast path, get_array_module still says NumPy
        pass

    rng = np.random.default_rng(0)
    A, B, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    Z = A @ B
    tagged = {name: array.view(Tagged) for name, array in {"A": A, "Z": Z}.items()}
    np.testing.assert_array_equal(backend.matmul(tagged["A"], B), Z)
    np.testing.assert_array_equal(backend.affine(tagged["A"], B, b), Z + b)
    with_bias = Z.copy().view(Tagged)
    backend.add_bias(with_bias, b)
    np.testing.assert_array_equal(with_bias, Z + b)
    np.testing.assert_array_equal(backend.relu(tagged["Z"]), np.maximum(Z, 0))
    np.testing.assert_array_equal(backend.relu_gradient(Z, tagged["Z"]), Z * (Z > 0))
    np.testing.assert_array_equal(backend.sum_rows(tagged["A"], out=np.empty(4)), np.ones(3) @ A)


def test_is_array_knows_numpy_arrays_from_objects_that_only_look_like_one():
    class Tensorish:  # a dtype and a shape, as a torch tensor or a pandas Series has
        dtype, shape = np.dtype("float32"), (2,)

    assert is_array(np.zeros(2)) and is_array(np.zeros((2, 2))[:, 0])
    assert not any(is_array(value) for value in (Tensorish(), [1.0], 1.0, np.float64(1.0)))


@pytest.mark.parametrize("scale", [1e-30, 1e-24, 1.0, 1e20])
def test_norm_of_float32_is_right_from_tiny_to_huge_without_a_copy(scale):
    """A float32 sum of squares made a gradient of 1e-24 a norm of 0 (and one of 1e20 inf)."""
    g = (np.random.default_rng(0).normal(size=200_000) * scale).astype(np.float32)
    expected = math.sqrt(float(g.astype(np.float64) @ g.astype(np.float64)))
    assert norm(g) == pytest.approx(expected, rel=1e-6, abs=0) and 0 < norm(g) < math.inf  # float32 rounding
    assert traced_peak(lambda: norm(g))[1] < g.nbytes // 4  # no float64 copy of g


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_finite_probe_is_finite_exactly_when_every_value_is(blas_or_not, layout, dtype):
    from chainrule.backend import finite_probe

    base = np.linspace(-3, 3, 300 * 257).astype(dtype).reshape(300, 257)
    make = {"C": np.ascontiguousarray, "F": np.asfortranarray, "strided": lambda A: np.tile(A, 2)[:, ::2]}[layout]
    X = make(base)
    assert math.isfinite(finite_probe(X))
    if dtype != np.float16:  # float16's own sum of ~77,000 values of up to 3 overflows its 65,504
        expected = float(np.abs(base.astype(np.float64)).sum()) if blas_or_not == "blas" and layout != "strided" \
            else float(base.astype(np.float64).sum())
        assert finite_probe(X) == pytest.approx(expected, rel=1e-3, abs=1e-2)
    for where in [(0, 0), (150, 100), (299, 256), (299, 250)]:  # first, middle, last, and in the tail of a row
        for bad in (np.nan, np.inf, -np.inf):
            Y = X.copy(order="K") if layout != "strided" else make(base)
            Y[where] = bad
            assert not math.isfinite(finite_probe(Y)), (where, bad)


def test_finite_probe_reads_a_contiguous_array_without_copying_it():
    from chainrule.backend import finite_probe

    for X in (np.ones((600, 500), np.float32), np.ones((600, 500), np.float32, order="F")):
        found, peak = traced_peak(lambda: finite_probe(X))
        assert found == X.size and peak < X.nbytes / 100, peak


@pytest.mark.parametrize("n_rows", [1, 2, 7, 32, 129, 1000])
def test_weighted_sum_has_the_bits_of_the_product_and_a_row_of_share_zero_adds_nothing(n_rows):
    rng = np.random.default_rng(n_rows)
    values, shares = rng.normal(size=n_rows) * 1e3, rng.random(n_rows)
    assert weighted_sum(values, shares).tobytes() == (values @ shares).tobytes()
    values[0], shares[0] = np.inf, 0.0  # a row of weight 0 whose loss overflowed: it does not count
    expected = values[1:] @ shares[1:] if n_rows > 1 else 0.0
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        assert weighted_sum(values, shares) == pytest.approx(expected, rel=1e-12)
    values[-1], shares[-1] = np.nan, 1.0  # a NaN that counts stays NaN
    assert np.isnan(weighted_sum(values, shares))


class ElsewhereArray(np.ndarray):
    """A NumPy subclass: like a CuPy array, it takes the backend's general path (type is not numpy.ndarray)."""


@pytest.mark.parametrize("n_rows", [1, 2, 7, 129])
def test_weighted_sum_on_the_general_path_also_leaves_out_a_row_of_share_zero(n_rows):
    # The GPU's path: a weight-0 row whose loss overflowed made the total NaN there (inf · 0), which the
    # device's divergence guard stopped training on, where the CPU's vdot path trains on.
    rng = np.random.default_rng(n_rows)
    values, shares = rng.normal(size=n_rows) * 1e3, rng.random(n_rows)
    elsewhere = (values.view(ElsewhereArray), shares.view(ElsewhereArray))
    assert float(weighted_sum(*elsewhere)) == float(values @ shares)
    values[0], shares[0] = np.inf, 0.0
    expected = values[1:] @ shares[1:] if n_rows > 1 else 0.0
    with np.errstate(all="ignore"):
        assert float(weighted_sum(*elsewhere)) == pytest.approx(expected, rel=1e-12)
    values[-1], shares[-1] = np.nan, 1.0  # a NaN that counts stays NaN
    assert np.isnan(float(weighted_sum(*elsewhere)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_underflowed_returns_out_for_an_underflow_alone(dtype):
    """A product that underflows to a subnormal number or 0 is the correctly rounded value: the error NumPy raises
    for it under numpy.errstate(all="raise") is dropped, and ``out``, which NumPy had written, is the result."""
    from chainrule.backend import underflowed

    tiny = np.finfo(dtype).smallest_normal
    A = np.array([tiny, 1.0, -tiny], dtype=dtype)
    with np.errstate(under="ignore"):
        expected = A * np.asarray(0.3, dtype=dtype)
    out = np.empty_like(A)
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError, match="underflow") as raised:
            np.multiply(A, np.asarray(0.3, dtype=dtype), out=out)
        assert underflowed(raised.value, out) is out
    np.testing.assert_array_equal(out, expected)


def test_underflowed_raises_an_overflow_again_and_an_underflow_beside_a_nan():
    """An overflow is the caller's to see; and with a NaN in ``out``, an invalid operation (inf · 0), which NumPy
    checks after the underflow, may have been hidden behind it, so that error stands too."""
    from chainrule.backend import underflowed

    out = np.empty(2, dtype=np.float32)
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError, match="overflow") as raised:
            np.multiply(np.float32([3e38, 1.0]), np.float32(2.0), out=out)
        with pytest.raises(FloatingPointError, match="overflow"):
            underflowed(raised.value, out)
        with pytest.raises(FloatingPointError, match="underflow") as raised:
            np.multiply(np.float32([1e-38, np.inf]), np.float32([0.1, 0.0]), out=out)
        with pytest.raises(FloatingPointError, match="underflow"):
            underflowed(raised.value, out)


def test_the_ufunc_fallback_of_axpy_and_axpby_raises_no_underflow_error(monkeypatch):
    """Without the BLAS, a X and b Y of a tiny state (an optimizer's moment of 1e-38 in float32) underflow to
    subnormal numbers: the right values, no FloatingPointError under numpy.seterr(all="raise")."""
    from chainrule import cpu_blas
    from chainrule.backend import axpby, axpy

    monkeypatch.setattr(cpu_blas, "_routines", lambda: None)
    X, Y = np.float32([1e-38, -2e-38, 1.0]), np.float32([3e-38, 1e-38, 2.0])
    with np.errstate(under="ignore"):
        expected = axpy(0.1, X, Y.copy()), axpby(0.1, X, 0.9, Y.copy())
    with np.errstate(all="raise"):
        found = axpy(0.1, X, Y.copy()), axpby(0.1, X, 0.9, Y.copy(), work=np.empty_like(X))
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_array_equal(found[1], expected[1])
