"""benchmarks.fused_floor: its fused C kernels take the step its NumPy passes take, and it runs."""

import numpy
import pytest

from benchmarks import fused_floor
from benchmarks.data import teacher_data

pytestmark = pytest.mark.skipif(fused_floor.compiler() is None, reason="no C compiler on PATH")


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    return fused_floor.build_kernels(str(tmp_path_factory.mktemp("fused")))


def test_loading_the_kernels_leaves_the_process_arithmetic_alone(kernels):
    # A library linked with -ffast-math would flush denormals to zero in the whole process.
    smallest = numpy.float64(5e-324)
    assert smallest * numpy.float64(1.0) > 0
    assert numpy.float64(0.0) / smallest == 0


def test_the_fused_kernels_take_the_step_of_the_numpy_passes(kernels):
    sizes, batch = [12, 9, 7, 3], 8
    X, y = teacher_data(32, sizes[0], sizes[-1], seed=1)
    rows = numpy.arange(3, 3 + batch)
    steps = [fused_floor.MinimalStep(sizes, batch, X, y, kernels) for _ in fused_floor.VARIANTS]
    for variant, step in enumerate(steps):
        for _ in range(3):  # the velocity carries over, so later steps check the momentum too
            step.step(rows, variant)
    reference = steps[0]
    assert not numpy.array_equal(reference.theta, fused_floor.MinimalStep(sizes, batch, X, y, kernels).theta)
    for step in steps[1:]:
        numpy.testing.assert_allclose(step.theta, reference.theta, rtol=1e-5, atol=1e-6)
        numpy.testing.assert_allclose(step.v, reference.v, rtol=1e-4, atol=1e-6)


def test_a_tiny_run_prints_every_variant(capsys):
    assert fused_floor.main(["--batch", "8", "--rows", "64", "--rounds", "1", "--sizes", "16-8-4", "--threads", "1",
                             "--pause", "0"]) == 0
    printed = capsys.readouterr().out
    for name in (*fused_floor.VARIANTS, "cr.fit"):
        assert name in printed
