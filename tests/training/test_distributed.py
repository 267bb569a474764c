"""Data-parallel fit over MPI: 2 processes end where 1 process ends; failures end the job."""

import gc
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy
import pytest

import chainrule as cr
from chainrule.training.distributed import Communicator, SingleProcess, fingerprint_row
from chainrule.training.fit import run_fingerprint

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
        weighted = script.train(batch_size, 3, SingleProcess(), weighted=True)
        numpy.testing.assert_allclose(distributed[f"weighted{batch_size}"], weighted, rtol=1e-6, atol=0)
        assert not numpy.allclose(weighted, alone, rtol=1e-3)  # the weights changed the training
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


# -- resuming: rank 0 reads the checkpoint and sends it; tested in this one process ------------

needs_mpi4py = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="needs mpi4py")


class Done:
    """A nonblocking MPI request that has already completed."""

    def Test(self):
        return True


class RootSends:
    """COMM_WORLD as rank 1 of 2 sees it: each Ibcast receives rank 0's next array."""

    def __init__(self, *sent):
        self.sent = list(sent)

    def Ibcast(self, buffer, root):
        buffer[...] = self.sent.pop(0)
        return Done()


def rank_one(world):
    """A Communicator for rank 1 of 2 over ``world``, without MPI (mpi4py may be absent)."""
    comm = Communicator.__new__(Communicator)
    comm.MPI = types.SimpleNamespace(Exception=RuntimeError)
    comm.world, comm.rank, comm.size, comm.is_root = world, 1, 2, False
    comm.timeout, comm.abort = 5.0, False
    return comm


@needs_mpi4py
def test_missing_checkpoint_on_rank_0_is_a_model_file_error_naming_it(tmp_path):
    missing = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.ModelFileError, match="checkpoint.safetensors: no such checkpoint file"):
        Communicator(abort=False).local_checkpoint(missing)
    X, y = script.data(40)
    with pytest.raises(cr.ModelFileError, match="checkpoint.safetensors: no such checkpoint file"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, resume=missing,
               distributed=Communicator(abort=False))


def test_other_ranks_stop_with_a_model_file_error_when_rank_0_cannot_read(tmp_path):
    comm = rank_one(RootSends(numpy.array([-1])))
    with pytest.raises(cr.ModelFileError, match="checkpoint.safetensors: rank 0 cannot read the checkpoint"):
        comm.local_checkpoint(tmp_path / "checkpoint.safetensors")


def test_other_ranks_copy_of_the_checkpoint_is_removed_once_loaded(tmp_path):
    sent = numpy.frombuffer(b"checkpoint bytes", dtype=numpy.uint8)
    model = cr.mlp([5, 3], seed=0)
    theta = model.flat_parameters().theta.copy()
    comm = rank_one(RootSends(numpy.array([sent.size]), sent, theta))
    copy = comm.local_checkpoint("elsewhere/checkpoint.safetensors")
    assert copy.name == "checkpoint.safetensors" and copy.read_bytes() == b"checkpoint bytes"
    comm.broadcast_parameters(model)  # what fit does right after loading the copy
    assert not copy.parent.exists()


def test_other_ranks_copy_is_removed_when_the_communicator_goes(tmp_path):
    sent = numpy.frombuffer(b"checkpoint bytes", dtype=numpy.uint8)
    comm = rank_one(RootSends(numpy.array([sent.size]), sent))
    copy = comm.local_checkpoint("checkpoint.safetensors")  # loading it failed: no broadcast follows
    assert copy.exists()
    del comm
    gc.collect()
    assert not copy.parent.exists()


# -- every rank must get the same data and arguments ---------------------------------------------

@needs_mpi
def test_ranks_given_different_data_or_arguments_all_raise_the_same_error_naming_it(tmp_path):
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "mismatch", str(tmp_path),
                            env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    assert seconds < 20  # nobody waited for a collective that never came
    messages = json.loads((tmp_path / "messages0.json").read_text())
    assert json.loads((tmp_path / "messages1.json").read_text()) == messages
    expected = {
        "rows": "the number of training rows is 180 on rank 0 but 170 on rank 1",
        "batch_size": "batch_size is 32 on rank 0 but 16 on rank 1",
        "seed": "seed is 0 on rank 0 but None on rank 1",
        "labels": "(y on rank 1 differs from rank 0's)",
        "validation": "(the validation data on rank 1 differs from rank 0's)",
        "no validation": "(the validation data on rank 1 differs from rank 0's)",
        "sample weights": "(sample_weight on rank 1 differs from rank 0's)",
        "validation weights": "(the validation data on rank 1 differs from rank 0's)",
    }
    for case, fragment in expected.items():
        assert messages[case].startswith("the 2 processes were not given the same data and arguments ("), messages[case]
        assert fragment in messages[case], messages[case]


class Gathers:
    """COMM_WORLD's all-gather as a rank sees it when the other ranks send ``others``."""

    def __init__(self, *others):
        self.others = others

    def Iallgather(self, mine, everyone):
        everyone[...] = [mine, *self.others]
        return Done()


def rank_zero_of(size, *others):
    """A Communicator for rank 0 of ``size`` whose all-gather receives ``others``' fingerprint rows."""
    comm = rank_one(Gathers(*[fingerprint_row(values, checksums) for values, checksums in others]))
    comm.rank, comm.size, comm.is_root = 0, size, True
    return comm


def test_a_rank_without_validation_data_sends_a_row_of_the_same_length_that_differs():
    """A shorter row from a rank given no validation set garbled the all-gather: that rank saw
    no difference and waited in the next collective until the timeout."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    with_validation = run_fingerprint(model, X[:30], y[:30], X[30:], y[30:], 8, 2, 0)
    without = run_fingerprint(model, X[:30], y[:30], None, None, 8, 2, 0)
    rows = [fingerprint_row(*with_validation), fingerprint_row(*without)]
    assert rows[0].shape == rows[1].shape
    comm = rank_zero_of(2, without)
    with pytest.raises(cr.DistributedError, match=r"\(the validation data on rank 1 differs from rank 0's\)"):
        comm.check_same_run(*with_validation)


def test_a_rank_without_sample_weights_sends_a_row_of_the_same_length_naming_them():
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    weighted = run_fingerprint(model, X, y, None, None, 8, 2, 0, numpy.ones(40))
    unweighted = run_fingerprint(model, X, y, None, None, 8, 2, 0)
    assert fingerprint_row(*weighted).shape == fingerprint_row(*unweighted).shape
    with pytest.raises(cr.DistributedError, match=r"\(sample_weight on rank 1 differs from rank 0's\)"):
        rank_zero_of(2, unweighted).check_same_run(*weighted)
    rank_zero_of(2, weighted).check_same_run(*weighted)  # the same weights pass


def test_equal_values_pass_and_different_ones_are_named_with_each_ranks_value():
    values, checksums = {"batch_size": 32, "seed": None}, {"X": 12345}
    comm = rank_zero_of(3, (values, checksums), (values, checksums))
    comm.check_same_run(values, checksums)
    comm = rank_zero_of(3, ({"batch_size": 16, "seed": 7}, checksums), (values, {"X": 999}))
    with pytest.raises(cr.DistributedError) as raised:
        comm.check_same_run(values, checksums)
    assert str(raised.value) == (
        "the 3 processes were not given the same data and arguments (batch_size is 32 on rank 0 but 16 on rank 1; "
        "seed is None on rank 0 but 7 on rank 1; X on rank 2 differs from rank 0's); "
        "every process must pass fit the same ones"
    )



def test_values_beyond_int64_are_compared_exactly_without_overflow():
    """epochs=2**63 or a huge batch_size raised a bare OverflowError (int64 packing) on every rank."""
    huge = {"epochs": 2**63, "batch_size": 10**5000, "seed": 2**64 + 5}
    comm = rank_zero_of(2, (dict(huge), {"X": 1}))
    comm.check_same_run(huge, {"X": 1})
    comm = rank_zero_of(2, ({**huge, "epochs": 2**63 + 1, "seed": 5}, {"X": 1}))
    with pytest.raises(cr.DistributedError) as raised:
        comm.check_same_run(huge, {"X": 1})
    assert "seed is 9223372036854775807 or more on rank 0 but 5 on rank 1" in str(raised.value)  # not reduced mod 2**63
    assert "batch_size" not in str(raised.value)


def test_values_beyond_int64_that_differ_are_told_apart_by_their_hashes():
    """Both clipped to int64, 2**63 and 2**63 + 1 read "… or more on rank 0 but … or more on rank 1"."""
    comm = rank_zero_of(3, ({"epochs": 2**63 + 1}, {}), ({"epochs": 7}, {}))
    with pytest.raises(cr.DistributedError) as raised:
        comm.check_same_run({"epochs": 2**63}, {})
    problem = str(raised.value).partition("(")[2].partition(");")[0]
    clipped, hashes = "9223372036854775807 or more", re.findall(r"\(hash ([0-9a-f]{16})\)", problem)
    assert len(set(hashes)) == 3, problem
    assert problem == (f"epochs is {clipped} (hash {hashes[0]}) on rank 0 but {clipped} (hash {hashes[1]}) on rank 1, "
                       f"7 (hash {hashes[2]}) on rank 2")


def test_a_huge_batch_size_on_every_rank_gets_the_friendly_error():
    X, y = script.data(40)
    comm = rank_zero_of(2)
    comm.world = types.SimpleNamespace(Ibcast=lambda buffer, root: Done(),
                                       Iallgather=lambda mine, everyone: (everyone.__setitem__(..., mine), Done())[1])
    with pytest.raises(cr.DataError, match="batch_size: 10000000000000000000000 is more than the 40 training samples"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=2**63, batch_size=10**22, verbose=0, distributed=comm)
