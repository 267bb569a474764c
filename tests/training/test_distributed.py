"""Data-parallel fit over MPI: 2 processes end where 1 process ends; failures end the job."""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest

import chainrule as cr
from chainrule.training.distributed import SingleProcess

from . import distributed_script as script

SCRIPT = Path(script.__file__)
MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))
needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
    reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'",
)


def mpiexec(*args, n=2, timeout=60, env=None):
    """Run ``mpiexec -n n`` with ``args``; returns (CompletedProcess, seconds)."""
    started = time.monotonic()
    done = subprocess.run([MPIEXEC, "-n", str(n), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    return done, time.monotonic() - started


@needs_mpi
def test_two_processes_match_one_also_for_uneven_batches_and_resume(tmp_path):
    done, _ = mpiexec(sys.executable, str(SCRIPT), "equivalence", str(tmp_path))
    assert done.returncode == 0, done.stderr
    distributed = numpy.load(tmp_path / "weights.npz")
    for batch_size in script.SIZES:
        alone = script.train(batch_size, 3, SingleProcess())
        numpy.testing.assert_allclose(distributed[f"batch{batch_size}"], alone, rtol=1e-6, atol=0)
        assert not numpy.array_equal(alone, script.train(batch_size, 2, SingleProcess()))  # it did train
    numpy.testing.assert_array_equal(distributed["resumed"], distributed["batch32"])


@needs_mpi
def test_a_killed_rank_ends_the_job_and_leaves_a_loadable_checkpoint(tmp_path):
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "kill", str(tmp_path))
    assert done.returncode != 0
    assert "signal 9" in done.stdout + done.stderr or "Killed" in done.stdout + done.stderr
    assert seconds < 20
    assert cr.load(tmp_path / "checkpoint.safetensors").metadata is not None


@needs_mpi
def test_a_hung_rank_ends_the_job_with_a_clear_error_within_the_timeout(tmp_path):
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "hang", str(tmp_path), env={"CHAINRULE_TEST_TIMEOUT": "3"})
    assert done.returncode != 0
    assert "rank 0 of 2: agreeing on stopping waited more than 3 s" in done.stderr
    assert seconds < 15
    assert cr.load(tmp_path / "checkpoint.safetensors").metadata is not None


def test_distributed_without_mpi4py_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    X, y = script.data(40)
    with pytest.raises(cr.DistributedError, match=r"pip install 'chainrule\[mpi\]'"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, distributed=True)


def test_distributed_rejects_what_is_not_a_communicator():
    X, y = script.data(40)
    with pytest.raises(cr.HyperparameterError, match="distributed"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, distributed="yes")
