"""NumPy's own BLAS through ctypes: found where NumPy bundles OpenBLAS, equal to NumPy, refused when unfit."""

import ctypes

import numpy
import pytest

from chainrule import cpu_blas
from chainrule.errors import HyperparameterError

DTYPES = [numpy.float32, numpy.float64]


def numpy_blas_name() -> str:
    try:
        config = numpy.show_config(mode="dicts")
    except TypeError:  # NumPy before 1.25, whose show_config only prints; its wheels bundle no scipy-openblas
        return "a BLAS of NumPy before 1.25"
    return config["Build Dependencies"]["blas"]["name"]


def test_the_routines_are_found_in_numpys_bundled_openblas():
    if numpy_blas_name() != "scipy-openblas":
        pytest.skip(f"this NumPy uses {numpy_blas_name()}, not the scipy-openblas of NumPy's wheels")
    assert cpu_blas.available()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [7, 100_003])  # below and above OpenBLAS's threading threshold
def test_axpy_and_axpby_compute_what_numpy_computes(dtype, n):
    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    rng = numpy.random.default_rng(0)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    tolerance = 1e-6 if dtype == numpy.float32 else 1e-14
    expected = -0.3 * x.astype(numpy.float64) + y
    got = y.copy()
    assert cpu_blas.axpy(-0.3, x, got)
    numpy.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
    expected = 0.1 * x.astype(numpy.float64) + 0.9 * y
    got = y.copy()
    assert cpu_blas.axpby(0.1, x, 0.9, got)
    numpy.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", DTYPES)
def test_asum_is_the_sum_of_absolute_values(dtype):
    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    x = numpy.random.default_rng(2).standard_normal(100_003).astype(dtype)
    rtol = 1e-5 if dtype == numpy.float32 else 1e-12
    assert cpu_blas.asum(x) == pytest.approx(float(numpy.abs(x.astype(numpy.float64)).sum()), rel=rtol)
    assert cpu_blas.asum(x[::2]) is None  # strided: not taken
    assert cpu_blas.asum(numpy.ones(4, numpy.int64)) is None


def test_the_address_is_the_first_value_s_for_views_read_only_and_empty_vectors():
    base = numpy.arange(12, dtype=numpy.float32)
    read_only = base.copy()
    read_only.flags.writeable = False
    for x in (base, base[3:], base[3:9], read_only, read_only[5:], numpy.ones(0, numpy.float64)):
        assert cpu_blas._address(x) == x.ctypes.data


@pytest.mark.parametrize("dtype", DTYPES)
def test_offset_and_read_only_vectors_are_read_where_they_start(dtype):
    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    x = numpy.arange(20, dtype=dtype)
    x.flags.writeable = False  # read through x.ctypes.data
    y = numpy.arange(100, 120, dtype=dtype)
    assert cpu_blas.axpy(2.0, x[4:14], y[6:16])  # offset views: only y[6:16] changes
    expected = numpy.arange(100, 120, dtype=dtype)
    expected[6:16] += 2 * numpy.arange(4, 14, dtype=dtype)
    numpy.testing.assert_array_equal(y, expected)
    assert cpu_blas.asum(-x[15:]) == sum(range(15, 20))
    assert cpu_blas.asum(x[15:]) == sum(range(15, 20))


@pytest.mark.parametrize("x, y", [
    (numpy.ones(8, numpy.float32), numpy.ones(8, numpy.float64)),  # two dtypes
    (numpy.ones(8, numpy.int64), numpy.ones(8, numpy.int64)),  # not floats
    (numpy.ones(16, numpy.float32)[::2], numpy.ones(8, numpy.float32)),  # strided
    (numpy.ones((2, 4), numpy.float32), numpy.ones((2, 4), numpy.float32)),  # not vectors
    (numpy.ones(8, numpy.float32), numpy.ones(9, numpy.float32)),  # two lengths
])
def test_arrays_the_blas_cannot_take_are_refused_untouched(x, y):
    before = y.copy()
    assert not cpu_blas.axpy(2.0, x, y)
    assert not cpu_blas.axpby(2.0, x, 3.0, y)
    numpy.testing.assert_array_equal(y, before)


def test_a_read_only_target_is_refused():
    y = numpy.ones(8, numpy.float32)
    y.flags.writeable = False
    assert not cpu_blas.axpy(2.0, numpy.ones(8, numpy.float32), y)


def test_routines_that_disagree_with_numpy_are_not_used():
    def does_nothing(*arguments):
        return None

    routines = {(name, numpy.dtype(dtype)): does_nothing for name in ("axpy", "axpby") for dtype in DTYPES}
    assert not cpu_blas._agrees_with_numpy(routines)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [37, 100_003])  # below and above OpenBLAS's threading threshold
def test_asum_carries_nan_and_inf_from_anywhere_in_the_vector(dtype, n):
    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    for position in (0, 1, n // 2, n - 2, n - 1):
        for bad in (numpy.nan, numpy.inf, -numpy.inf):
            x = numpy.ones(n, dtype)
            x[position] = bad
            total = cpu_blas.asum(x)
            assert numpy.isnan(total) if numpy.isnan(bad) else total == numpy.inf, (position, bad)


def test_an_asum_that_drops_nan_is_not_used():
    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    routines = {key: function for key, function in cpu_blas._routines().items() if key != "largest n"}
    assert cpu_blas._agrees_with_numpy(routines)

    def nan_dropping(dtype):
        def asum(n, pointer, increment):
            element = ctypes.POINTER(numpy.ctypeslib.as_ctypes_type(dtype))
            values = numpy.ctypeslib.as_array(ctypes.cast(pointer, element), (n,))
            return float(numpy.nansum(numpy.abs(values)))  # NaN skipped, as a max-based kernel might
        return asum

    for dtype in DTYPES:
        assert not cpu_blas._agrees_with_numpy(routines | {("asum", numpy.dtype(dtype)): nan_dropping(dtype)})


def test_vectors_longer_than_the_blas_integer_counts_are_refused(monkeypatch):
    if not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    routines = dict(cpu_blas._routines(), **{"largest n": 7})  # as a 32-bit BLAS refuses 2**31 values
    monkeypatch.setattr(cpu_blas, "_routines", lambda: routines)
    x, y = numpy.ones(8, numpy.float32), numpy.ones(8, numpy.float32)
    assert cpu_blas.asum(x) is None and cpu_blas.asum(x[:7]) == 7
    assert not cpu_blas.axpy(1.0, x, y) and not cpu_blas.axpby(1.0, x, 1.0, y)
    numpy.testing.assert_array_equal(y, 1)
    assert cpu_blas.axpy(1.0, x[:7], y[:7]) and y[0] == 2


def test_set_threads_sizes_numpys_own_blas():
    before = cpu_blas.threads()
    if before is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here: its threads cannot be set")
    try:
        assert cpu_blas.set_threads(1)
        assert cpu_blas.threads() == 1
        threadpoolctl = pytest.importorskip("threadpoolctl")
        numpys = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if "numpy" in pool["filepath"]]
        assert numpys == [1] or (not numpys and numpy_blas_name() != "scipy-openblas")  # NumPy's pool, not SciPy's
    finally:
        cpu_blas.set_threads(before)


@pytest.mark.parametrize("count", ["2", 0, -3, True, 1.5])
def test_set_threads_refuses_a_count_that_is_not_a_positive_int(count):
    before = cpu_blas.threads()
    with pytest.raises(HyperparameterError, match=r"count: expected an integer >= 1 \(BLAS threads\)"):
        cpu_blas.set_threads(count)
    assert cpu_blas.threads() == before


def test_set_threads_names_a_huge_negative_count():
    """Its repr raised ValueError inside the f"{count!r:.60}" that was to cut it."""
    with pytest.raises(HyperparameterError, match=r"got <a negative int of 16,610 bits>$"):
        cpu_blas.set_threads(-10 ** 5000)
