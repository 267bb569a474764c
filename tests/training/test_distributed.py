"""Data-parallel fit over MPI: 2 processes end where 1 process ends; failures end the job."""

import enum
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import sys
import time
import types
from pathlib import Path

import numpy
import pytest

import chainrule as cr
from chainrule import cpu_blas
from chainrule.training import checkpoint as checkpoint_module, distributed
from chainrule.training.distributed import THREAD_VARIABLES, Communicator, SingleProcess
from chainrule.training.checkpoint import load_checkpoint, read_checkpoint
from chainrule.training.fingerprint import checksum, fingerprint_row, run_fingerprint, setting_text

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
def test_two_processes_resume_with_seed_none_as_the_unbroken_run_splitting_by_its_seed(tmp_path):
    """They split the validation rows by a seed rank 0 drew, and refused the checkpoint's validation set."""
    done, _ = mpiexec(sys.executable, str(SCRIPT), "resumed seed", str(tmp_path))
    assert done.returncode == 0, done.stderr
    weights = numpy.load(tmp_path / "weights.npz")
    numpy.testing.assert_array_equal(weights["resumed"], weights["unbroken"])


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
    assert done.returncode == 1  # MPI_Abort(1), as usage.md's exit codes say
    assert "rank 0 of 2: agreeing on stopping waited more than 3 s" in done.stderr
    assert seconds < 15
    assert cr.load(tmp_path / "checkpoint.safetensors").metadata is not None


@needs_mpi
def test_a_rank_that_fails_before_making_its_communicator_ends_the_job_within_the_timeout(tmp_path):
    """The other ranks waited for ever in the blocking shared-memory split, whatever the timeout."""
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "absent", str(tmp_path), timeout=30,
                            env={"CHAINRULE_TEST_TIMEOUT": "3"})
    assert done.returncode != 0
    assert "rank 1 read bad input before making its Communicator" in done.stderr
    assert "rank 0 of 2: making the Communicator waited more than 3 s" in done.stderr
    assert seconds < 25  # a 3 s timeout, two ranks' start and imports: ended, not waiting for ever


@needs_mpi
def test_a_callback_on_rank_0_alone_that_lowers_lr_stops_every_rank_naming_the_epoch(tmp_path):
    """The ranks' weights drifted apart silently, the docs' rule unchecked."""
    done, _ = mpiexec(sys.executable, str(SCRIPT), "drift", str(tmp_path), env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    messages = [(tmp_path / f"drift{rank}.txt").read_text() for rank in (0, 1)]
    assert messages[0] == messages[1]
    assert messages[0].startswith("the 2 processes' weights differ after epoch 2: a callback or code of one's own "
                                  "changed the learning rate or the weights on some ranks only"), messages[0]


@needs_mpi
def test_a_checkpoint_rank_0_cannot_write_stops_every_rank_at_once_naming_rank_0_and_the_file(tmp_path):
    """Rank 0 raised its ModelFileError alone, and rank 1 waited in the next epoch's all-reduce until the
    timeout, then aborted the job blaming a rank that hung or died."""
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "unwritable", str(tmp_path),
                            env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    assert seconds < 20  # nobody waited out the timeout
    messages = [(tmp_path / f"unwritable{rank}.txt").read_text() for rank in (0, 1)]
    assert messages[0] == messages[1]
    path = tmp_path / "not a directory" / "checkpoint.safetensors"
    expected = f"writing the checkpoint after epoch 1 failed on rank 0 of 2: {path}: cannot write"
    assert messages[0].startswith(expected), messages[0]


@needs_mpi
@pytest.mark.parametrize("scenario, when", [("raising", "running the callbacks after epoch 2"),
                                            ("raising at start", "starting the callbacks (on_train_begin)")])
def test_a_callback_raising_on_one_rank_stops_every_rank_at_once_naming_the_rank_and_the_error(tmp_path, scenario,
                                                                                             when):
    """Rank 1 printed its traceback, which named no rank, and rank 0 waited in the next collective until
    the timeout, then aborted the job blaming a rank that hung or died."""
    done, seconds = mpiexec(sys.executable, str(SCRIPT), scenario, str(tmp_path), env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    assert seconds < 20  # nobody waited out the timeout
    messages = [(tmp_path / f"raising{rank}.txt").read_text() for rank in (0, 1)]
    assert messages[0] == messages[1]
    assert messages[0] == f"DistributedError: {when} failed on rank 1 of 2: ValueError: this callback fails on rank 1"


FAILED_ON_RANK_1 = {
    "on_train_end": "DistributedError: ending the callbacks (on_train_end) failed on rank 1 of 2: ValueError: "
                    "on_train_end fails on rank 1",
    "sys.exit in on_train_end": "DistributedError: ending the callbacks (on_train_end) failed on rank 1 of 2: "
                                "SystemExit: 3",
    "epochs 0": "DistributedError: checking the arguments failed on rank 1 of 2: epochs: expected an integer >= 1, "
                "got 0",
    "NaN in X": "DistributedError: preparing the data failed on rank 1 of 2: X: expected finite values, found nan "
                "at index (3, 1) (1 non-finite value in all)",
    "y shorter than X": "DistributedError: preparing the data failed on rank 1 of 2: y: expected 60 targets (one "
                        "per row of X), got shape (59,)",
    "optimizer for another model": "DistributedError: setting up the optimizer and the callbacks failed on rank 1 "
                                   "of 2: optimizer: it was made for another model; pass cr.Adam(model, ...) for "
                                   "this one",
    "callback's reset": "DistributedError: setting up the optimizer and the callbacks failed on rank 1 of 2: "
                        "ValueError: reset fails on rank 1",
    "no memory for the standardized copy": "DistributedError: preparing the epochs failed on rank 1 of 2: "
                                           "MemoryError: Unable to allocate 1.00 GiB for an array with shape "
                                           "(1000000, 268) and data type float32",
    "loss at a step": "DistributedError: training at epoch 1, batch 2/3 failed on rank 1 of 2: ValueError: the loss "
                      "fails on rank 1",
    "loss scoring the validation set": "DistributedError: scoring the validation set after epoch 2 failed on rank 1 "
                                       "of 2: ValueError: the loss fails on rank 1",
    "callback's state_dict": "DistributedError: writing the checkpoint after epoch 1 failed on rank 1 of 2: "
                             "ValueError: state_dict fails on rank 1",
}


@needs_mpi
def test_an_error_raised_on_one_rank_during_fit_stops_every_rank_at_once_naming_the_rank(tmp_path):
    """Rank 1 raised alone; the others returned from fit (on_train_end) or waited in their next collective
    until the timeout, then aborted the job blaming a rank that hung or died."""
    done, _ = mpiexec(sys.executable, str(SCRIPT), "one rank fails", str(tmp_path), timeout=120,
                      env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    failures = [json.loads((tmp_path / f"failures{rank}.json").read_text()) for rank in (0, 1)]
    assert list(failures[0]) == script.FAILURES == list(FAILED_ON_RANK_1)
    for case, expected in FAILED_ON_RANK_1.items():
        for rank in (0, 1):
            message, seconds = failures[rank][case]
            assert message == expected, (case, rank, message)
            assert seconds < 10, (case, rank, seconds)  # nobody waited out the timeout


@needs_mpi
def test_a_ctrl_c_on_one_rank_alone_stops_every_rank_after_that_epoch(tmp_path):
    """As docs/distributed.md says: the ranks' Ctrl-C presses are OR-ed at the end of the epoch."""
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "interrupted on one rank", str(tmp_path),
                            env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    assert seconds < 20
    for rank in (0, 1):
        assert json.loads((tmp_path / f"interrupted{rank}.json").read_text()) == ["interrupted", 2, False]


def test_distributed_without_mpi4py_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    X, y = script.data(40)
    with pytest.raises(cr.DistributedError, match=r"pip install 'chainrule\[mpi\]'"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, distributed=True)


class ImportRecorder:
    """importlib for chainrule.training.distributed: records what is imported, and finds no mpi4py."""

    def __init__(self):
        self.imported = []

    def import_module(self, name):
        self.imported.append(name)
        raise ImportError(f"No module named {name!r}")


@pytest.mark.parametrize("environment, started, starts_mpi", [
    ({}, False, False), ({"PMI_SIZE": "1", "PMI_RANK": "0"}, False, False),  # python train.py; mpiexec -n 1
    ({"PMI_SIZE": "2", "PMI_RANK": "1"}, False, True), ({"PMIX_RANK": "1"}, False, True),  # others wait for it
    ({}, True, True),  # the script imported mpi4py.MPI, which started MPI: it tells how many ranks wait
])
def test_an_argument_refused_in_a_process_started_alone_is_raised_before_mpi_starts(monkeypatch, environment,
                                                                                    started, starts_mpi):
    """cr.fit(..., epochs=0, distributed=True) in one process imported mpi4py and started MPI (MPI_Init)
    before it raised the refused argument: a typo cost an MPI start."""
    for pair in distributed.MPI_LAUNCH_VARIABLES:
        for name in pair:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PMIX_RANK", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if started:
        monkeypatch.setitem(sys.modules, "mpi4py.MPI", types.ModuleType("mpi4py.MPI"))
    else:
        monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)  # an earlier test's import
    recorder = ImportRecorder()
    monkeypatch.setattr(distributed, "importlib", recorder)
    X, y = script.data(40)
    with pytest.raises(cr.HyperparameterError, match=r"^epochs: expected an integer >= 1, got 0"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=0, verbose=0, distributed=True)
    assert recorder.imported == (["mpi4py.MPI"] if starts_mpi else [])


def test_distributed_rejects_what_is_not_a_communicator():
    X, y = script.data(40)
    with pytest.raises(cr.HyperparameterError, match="distributed"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, distributed="yes")

    with pytest.raises(cr.HyperparameterError, match=r"Communicator, got <an int of 16,610 bits>$"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, distributed=10 ** 5000)  # its repr raised


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
        if root == 0:  # this rank's own (an error's text it sends) just completes
            buffer[...] = self.sent.pop(0)
        return Done()

    def Iallgather(self, mine, everyone):  # rank 0's flag agrees with this rank's (a ranks_where's)
        everyone[...] = mine
        return Done()


def rank_one(world):
    """A Communicator for rank 1 of 2 over ``world``, without MPI (mpi4py may be absent)."""
    comm = Communicator.__new__(Communicator)
    comm.MPI = types.SimpleNamespace(Exception=RuntimeError, IN_PLACE=None, MAX="max")
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


def checkpoint_bytes(tmp_path):
    """A one-epoch checkpoint of cr.mlp([5, 3]): (its path, its bytes as rank 0 sends them)."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, checkpoint=path)
    return path, numpy.frombuffer(path.read_bytes(), dtype=numpy.uint8)


def test_other_ranks_resume_from_rank_0s_bytes_and_keep_no_copy(tmp_path, monkeypatch):
    """The file need not exist on the other ranks' machines; their temporary copy was kept
    until the next broadcast_parameters, or the communicator's end."""
    path, sent = checkpoint_bytes(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temporary"))
    (tmp_path / "temporary").mkdir()
    comm = rank_one(RootSends(numpy.array([sent.size]), sent))
    resumed = comm.local_checkpoint("elsewhere/checkpoint.safetensors")
    assert resumed.sent and os.fspath(resumed) == "elsewhere/checkpoint.safetensors"
    model, _, extra = resumed.take_contents()
    numpy.testing.assert_array_equal(model.flat_parameters().theta, cr.load(path).flat_parameters().theta)
    assert extra["epoch"] == 1
    assert list((tmp_path / "temporary").iterdir()) == []


def test_other_ranks_name_the_checkpoint_not_their_copy_in_errors(tmp_path, monkeypatch):
    damaged = numpy.frombuffer(b"not a checkpoint at all", dtype=numpy.uint8)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    comm = rank_one(RootSends(numpy.array([damaged.size]), damaged))
    with pytest.raises(cr.ModelFileError) as caught:
        comm.local_checkpoint("elsewhere/checkpoint.safetensors")
    assert str(caught.value).startswith("elsewhere/checkpoint.safetensors: ")
    assert "chainrule-resume-" not in str(caught.value) and list(tmp_path.iterdir()) == []


class Logger(cr.Callback):
    """A callback of one's own, given to rank 0 alone (docs/distributed.md), that keeps a state."""

    def __init__(self):
        self.lines = 0

    def on_epoch_end(self, epoch, logs, model):
        self.lines += 1

    def state_dict(self):
        return {"lines": self.lines}, {}

    def load_state_dict(self, state, arrays):
        self.lines = state["lines"]


def rank_0s_checkpoint_with_its_own_logger(tmp_path):
    """A checkpoint whose run had [Logger(), EarlyStopping] (rank 0's callbacks): (path, bytes, EarlyStopping)."""
    X, y = script.data(40)
    path, stopper = tmp_path / "checkpoint.safetensors", cr.EarlyStopping(patience=5)
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=2, verbose=0, validation=0.25, checkpoint=path,
           callbacks=[Logger(), stopper])
    return path, numpy.frombuffer(path.read_bytes(), dtype=numpy.uint8), stopper


def test_a_rank_without_rank_0s_own_callbacks_resumes_chainrules_ones_from_the_checkpoint(tmp_path):
    """callbacks=[Logger()] if comm.is_root else []: rank 1 refused the checkpoint alone ("the
    checkpoint has 1 callbacks, this run 0") while rank 0 trained on into the timeout."""
    path, sent, saved = rank_0s_checkpoint_with_its_own_logger(tmp_path)
    model, stopper = cr.mlp([5, 3], seed=1), cr.EarlyStopping(patience=5)
    comm = rank_one(RootSends(numpy.array([sent.size]), sent))
    load_checkpoint(comm.local_checkpoint(path), model, cr.Adam(model), numpy.random.default_rng(), [stopper])
    assert stopper.state_dict()[0] == saved.state_dict()[0] and stopper.best_epoch is not None
    numpy.testing.assert_array_equal(stopper.state_dict()[1]["best_theta"], saved.state_dict()[1]["best_theta"])
    class Printer(Logger):
        """Another callback of one's own, which rank 0's Logger's state is not restored into."""
    for rank, logger, lines in ((1, Printer(), 0), (1, Logger(), 2), (0, Logger(), 2)):  # restored where they match
        model = cr.mlp([5, 3], seed=1)
        comm = rank_zero() if rank == 0 else rank_one(RootSends(numpy.array([sent.size]), sent))
        load_checkpoint(comm.local_checkpoint(path), model, cr.Adam(model), numpy.random.default_rng(),
                        [logger, cr.EarlyStopping(patience=5)])
        assert logger.lines == lines


def test_chainrules_callbacks_that_are_not_the_checkpoints_are_refused_on_every_rank_alike(tmp_path):
    path, sent, _ = rank_0s_checkpoint_with_its_own_logger(tmp_path)
    for callbacks in ([], [Logger()], [Logger(), Logger()]):  # rank 0 too compares them, not only the count
        model = cr.mlp([5, 3], seed=1)
        with pytest.raises(cr.ModelFileError, match=r"checkpoint.safetensors: the checkpoint's run had chainrule's "
                                                    r"callbacks \[EarlyStopping\], this run \[\]"):
            load_checkpoint(rank_zero().local_checkpoint(path), model, cr.Adam(model), numpy.random.default_rng(),
                            callbacks)
    model = cr.mlp([5, 3], seed=1)  # in one process, other callbacks are refused as before
    with pytest.raises(cr.ModelFileError, match="the checkpoint has 2 callbacks, this run 1"):
        load_checkpoint(path, model, cr.Adam(model), numpy.random.default_rng(), [cr.EarlyStopping(patience=5)])


def test_other_ranks_release_a_checkpoint_read_before(tmp_path):
    """A checkpoint read on one rank alone is sent again, and that rank's own read must not
    stay in memory for the whole run."""
    path, sent = checkpoint_bytes(tmp_path)
    read_before = read_checkpoint(path)
    comm = rank_one(RootSends(numpy.array([sent.size]), sent))
    resumed = comm.local_checkpoint(read_before)
    assert read_before.take_contents() is None and resumed.sent and resumed.extra["epoch"] == 1


def test_a_checkpoint_already_sent_is_not_sent_again(tmp_path):
    """chainrule train resumes through local_checkpoint before fit does: rank 0 read the file twice."""
    path, sent = checkpoint_bytes(tmp_path)
    comm = rank_one(RootSends(numpy.array([sent.size]), sent))
    resumed = comm.local_checkpoint(path)
    assert comm.local_checkpoint(resumed) is resumed  # RootSends has nothing left: an Ibcast would fail
    resumed.take_contents()
    comm.world.sent = [numpy.array([sent.size]), sent]
    again = comm.local_checkpoint(resumed)  # its contents taken: read and sent again
    assert again is not resumed and again.extra["epoch"] == 1 and comm.world.sent == []


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
        "sample weights": "(sample_weight or class_weight on rank 1 differs from rank 0's)",
        "validation weights": "(the validation data on rank 1 differs from rank 0's)",
        "lr": "(lr is 0.001 on rank 0 but 0.02 on rank 1)",  # Adam's default on rank 0
        "momentum": "(the optimizer is SGD(momentum=0.9, nesterov=False, weight_decay=0.0, schedule=None) on rank 0 "
                    "but SGD(momentum=0.5, nesterov=False, weight_decay=0.0, schedule=None) on rank 1)",
        "dtype": "(the model's dtype is float64 on rank 0 but float32 on rank 1; X on rank 1 differs",
        "architecture": "(the architecture (layers, shapes, frozen layers) on rank 1 differs from rank 0's)",
        "resume": "(resume is a checkpoint path on rank 0 but None on rank 1)",
        "resume, seed None": "(resume is a checkpoint path on rank 0 but None on rank 1)",  # rank 1 dropped it
        # the ranks agree after each checkpoint; rank 1 met rank 0's agreement in another collective, and
        # raised "exceptions must derive from BaseException" (or trained on: undefined behaviour)
        "checkpoint": "(checkpoint is a file path on rank 0 but None on rank 1; checkpoint_every is 1 on rank 0 "
                      "but None on rank 1)",
        "checkpoint_every": "(checkpoint_every is 1 on rank 0 but 2 on rank 1)",
    }
    for case, fragment in expected.items():
        assert messages[case].startswith("the 2 processes were not given the same data and arguments ("), messages[case]
        assert fragment in messages[case], messages[case]


class Gathers:
    """COMM_WORLD's all-gather as a rank sees it when the other ranks send ``others``."""

    def __init__(self, *others):
        self.others = others

    def Iallgather(self, mine, everyone):
        everyone[...] = [mine, *self.others] if mine.size > 1 else mine[0]  # a ranks_where's flag: theirs are mine
        return Done()


def rank_zero_of(size, *others):
    """A Communicator for rank 0 of ``size`` whose all-gather receives ``others``' fingerprint rows."""
    comm = rank_one(Gathers(*[fingerprint_row(values, checksums) for values, checksums in others]))
    comm.rank, comm.size, comm.is_root = 0, size, True
    return comm


def fingerprint(model, X, y, X_val=None, y_val=None, *, weights=None, optimizer="adam", lr=None, loss=None,
                callbacks=(), preprocessor=None):
    """run_fingerprint of a fit with batch_size 8, 2 epochs and seed 0 (cross-entropy unless ``loss``)."""
    loss = cr.SoftmaxCrossEntropy() if loss is None else loss
    return run_fingerprint(model, X, y, X_val, y_val, 8, 2, 0, weights, loss=loss, optimizer=optimizer, lr=lr,
                           callbacks=callbacks, preprocessor=preprocessor)


def test_a_rank_without_validation_data_sends_a_row_of_the_same_length_that_differs():
    """A shorter row from a rank given no validation set garbled the all-gather: that rank saw
    no difference and waited in the next collective until the timeout."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    with_validation = fingerprint(model, X[:30], y[:30], X[30:], y[30:])
    without = fingerprint(model, X[:30], y[:30])
    rows = [fingerprint_row(*with_validation), fingerprint_row(*without)]
    assert rows[0].shape == rows[1].shape
    comm = rank_zero_of(2, without)
    with pytest.raises(cr.DistributedError, match=r"\(the validation data on rank 1 differs from rank 0's\)"):
        comm.check_same_run(*with_validation)


def test_ranks_whose_standardization_differs_are_named():
    """X is hashed before standardization (the loop may standardize each batch), so a model
    fitted before on other data, whose preprocessor standardizes alike, is compared by its statistics."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    ours, theirs = (cr.Preprocessor.fit(rows, y, "classification", standardize=True) for rows in (X, X * 2))
    mine = fingerprint(model, X, y, preprocessor=ours)
    with pytest.raises(cr.DistributedError, match=r"\(the standardization on rank 1 differs from rank 0's\)"):
        rank_zero_of(2, fingerprint(model, X, y, preprocessor=theirs)).check_same_run(*mine)
    rank_zero_of(2, mine).check_same_run(*mine)


def test_a_rank_without_sample_weights_sends_a_row_of_the_same_length_naming_them():
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    weighted = fingerprint(model, X, y, weights=numpy.ones(40))
    unweighted = fingerprint(model, X, y)
    assert fingerprint_row(*weighted).shape == fingerprint_row(*unweighted).shape
    with pytest.raises(cr.DistributedError, match=r"\(sample_weight or class_weight on rank 1 differs from rank 0's\)"):
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
    assert raised.value.same_on_every_rank  # every rank judged the same rows alike: rank 0 alone reports it



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


def rank_zero_among_equals(size):
    """A Communicator for rank 0 of ``size`` whose broadcasts and all-gathers find every rank alike."""
    comm = rank_zero_of(size)
    comm.world = types.SimpleNamespace(Ibcast=lambda buffer, root: Done(),
                                       Iallgather=lambda mine, everyone: (everyone.__setitem__(..., mine), Done())[1])
    return comm


def test_a_huge_batch_size_on_every_rank_gets_the_friendly_error():
    X, y = script.data(40)
    with pytest.raises(cr.DataError, match="batch_size: 10000000000000000000000 is more than the 40 training samples"):
        cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=2**63, batch_size=10**22, verbose=0,
               distributed=rank_zero_among_equals(2))


def test_a_batch_too_small_for_the_processes_says_whether_it_is_the_default_and_the_data_is_short():
    """2 rows on 3 ranks read "batch_size: 2 is less than the 3 processes", though no batch_size was given."""
    X, y = script.data(40)
    swapped = [1, numpy.flatnonzero(y != y[0])[0]]  # the first 2 rows then hold 2 classes
    X[swapped], y[swapped] = X[swapped[::-1]], y[swapped[::-1]]

    def problem(n_rows, n_processes, batch_size=None):
        with pytest.raises(cr.HyperparameterError) as raised:
            cr.fit(cr.mlp([5, 3], seed=0), X[:n_rows], y[:n_rows], epochs=1, batch_size=batch_size, verbose=0,
                   distributed=rank_zero_among_equals(n_processes))
        return str(raised.value)

    needs = "is less than the {} processes, each of which needs a row of every batch; "
    assert problem(2, 3) == ("batch_size: the default, all 2 training rows (fewer than 32), " + needs.format(3)
                             + "the data has fewer training rows than processes: run at most 2 processes")
    assert problem(40, 33) == "batch_size: the default, 32, " + needs.format(33) + "pass a batch_size of at least 33"
    assert problem(40, 3, batch_size=2) == "batch_size: 2 " + needs.format(3) + "pass a batch_size of at least 3"
    assert problem(2, 3, batch_size=2) == ("batch_size: 2 " + needs.format(3)
                                           + "the data has fewer training rows than processes: run at most 2 processes")


# -- the model's dtype and architecture, the optimizer and the loss are compared too ----------------

def problems(mine, *others):
    """What rank 0 of 1 + len(others) reports for its fingerprint ``mine`` and the others' ("": no error)."""
    try:
        rank_zero_of(1 + len(others), *others).check_same_run(*mine)
    except cr.DistributedError as error:
        message = str(error)
        assert message.startswith("the ") and message.endswith("); every process must pass fit the same ones")
        return message.partition(" arguments (")[2].rpartition("); every process")[0]
    return ""


class Tempered(cr.SoftmaxCrossEntropy):
    """A user's loss with settings of its own."""

    def __init__(self, temperature, per_class):
        self.temperature, self.per_class = temperature, per_class


class Doubled(cr.Identity):
    """A user's layer type, which a model file (to_config) cannot describe."""


class Halved(cr.Identity):
    """Another user's layer type, without parameters like Doubled."""


class Gated(cr.Residual):
    """A user's layer type composed of another layer."""


class CachingCE(cr.SoftmaxCrossEntropy):
    """A user's loss that keeps the last batch's probabilities: state that differs by rank, not a setting."""

    def compute(self, Y, T, weights=None):
        self.last_probabilities = self.transform(Y).copy()
        return super().compute(Y, T, weights)


class SmoothedCachingCE(CachingCE):
    """A caching loss with a setting of its own."""

    def __init__(self, smoothing=0.0):
        self.smoothing = smoothing


class Mode(enum.Enum):
    FAST = 1
    SLOW = 2


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def test_runs_that_differ_only_in_lr_have_different_fingerprints_naming_lr():
    """A different --lr on one rank trained silently, the ranks' weights drifting apart."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    base = fingerprint(model, X, y, lr=0.01)
    assert fingerprint(model, X, y, lr=0.01) == base
    assert problems(base, base) == ""
    other = fingerprint(model, X, y, lr=0.02)
    assert fingerprint_row(*other).shape == fingerprint_row(*base).shape
    assert not numpy.array_equal(fingerprint_row(*other), fingerprint_row(*base))
    assert problems(base, other) == "lr is 0.01 on rank 0 but 0.02 on rank 1"
    made = fingerprint(model, X, y, optimizer=cr.Adam(model, lr=0.03))
    assert problems(base, made) == "lr is 0.01 on rank 0 but 0.03 on rank 1"


class Recorder(cr.Callback):
    """A user's callback, with constructor arguments it keeps under their names."""

    def __init__(self, every, label="run"):
        self.every, self.label = every, label


def test_chainrules_callbacks_are_compared_by_type_and_settings():
    """EarlyStopping(patience=1) on rank 0 alone trained silently: rank 0 stopped and restored
    an earlier epoch's weights while its last decision was OR-ed with the others', so the
    ranks ended with different weights."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    early = fingerprint(model, X, y, callbacks=[cr.EarlyStopping(1)])
    assert problems(early, fingerprint(model, X, y, callbacks=[cr.EarlyStopping(1)])) == ""
    assert problems(early, fingerprint(model, X, y)) == (
        "chainrule's callbacks is [EarlyStopping(patience=1, min_delta=0.0, monitor=None, mode='auto', restore_best=True, "
        "start_from_epoch=0, baseline=None)] on rank 0 but [] on rank 1")
    later = fingerprint(model, X, y, callbacks=[cr.EarlyStopping(1, start_from_epoch=3)])
    assert "start_from_epoch=3, baseline=None)] on rank 1" in problems(early, later)
    # A callback of one's own is not compared: on rank 0 alone (a logger), or with per-rank values
    mine = fingerprint(model, X, y, callbacks=[Recorder(2), cr.EarlyStopping(1)])
    assert problems(mine, fingerprint(model, X, y, callbacks=[cr.EarlyStopping(1)])) == ""
    assert problems(mine, fingerprint(model, X, y, callbacks=[Recorder(3), cr.EarlyStopping(1)])) == ""


def test_an_optimizer_by_name_agrees_with_the_same_one_made_by_hand():
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    assert problems(fingerprint(model, X, y), fingerprint(model, X, y, optimizer=cr.Adam(model))) == ""
    assert problems(fingerprint(model, X, y, lr=1), fingerprint(model, X, y, optimizer=cr.Adam(model, lr=1.0))) == ""
    assert problems(fingerprint(model, X, y, optimizer="sgd"), fingerprint(model, X, y)) == (
        "the optimizer is SGD(momentum=0.0, nesterov=False, weight_decay=0.0, schedule=None) on rank 0 but "
        "Adam(beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0, schedule=None, eps_added_to='sqrt_v_hat') "
        "on rank 1; "
        "lr is 0.01 on rank 0 but 0.001 on rank 1"
    )


def test_the_optimizers_hyperparameters_schedule_and_step_count_are_named():
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)

    def sgd(**hyperparameters):
        return fingerprint(model, X, y, optimizer=cr.SGD(model, lr=0.1, **hyperparameters))

    assert problems(sgd(momentum=0.9), sgd(momentum=0.5)) == (
        "the optimizer is SGD(momentum=0.9, nesterov=False, weight_decay=0.0, schedule=None) on rank 0 but "
        "SGD(momentum=0.5, nesterov=False, weight_decay=0.0, schedule=None) on rank 1"
    )
    assert "weight_decay=0.0, schedule=None) on rank 0 but SGD(momentum=0.0, nesterov=False, weight_decay=0.01," in (
        problems(sgd(), sgd(weight_decay=0.01)))
    def warm_then_decay(step_size):
        return sgd(schedule=cr.LinearWarmup(10, then=cr.StepDecay(step_size)))

    assert problems(warm_then_decay(100), warm_then_decay(100)) == ""
    assert problems(warm_then_decay(100), warm_then_decay(200)) == (
        "the optimizer is SGD(momentum=0.0, nesterov=False, weight_decay=0.0, schedule=LinearWarmup("
        "warmup_steps=10, then=StepDecay(step_size=100, gamma=0.1))) on rank 0 but SGD(momentum=0.0, nesterov=False, "
        "weight_decay=0.0, schedule=LinearWarmup(warmup_steps=10, then=StepDecay(step_size=200, gamma=0.1))) on rank 1"
    )
    stepped = cr.SGD(model, lr=0.1)
    stepped.t = 5  # an optimizer that has trained before
    assert problems(sgd(), fingerprint(model, X, y, optimizer=stepped)) == (
        "the optimizer's step count is 0 on rank 0 but 5 on rank 1")


def test_a_different_model_dtype_is_named_before_the_data_cast_to_it():
    """A float64 rank beside a float32 one was told only "X differs" (X is cast to the model's dtype)."""
    X, y = script.data(40)
    single = fingerprint(cr.mlp([5, 3], seed=0), X.astype(numpy.float32), y)
    double = fingerprint(cr.mlp([5, 3], seed=0, dtype="float64"), X, y)
    problem = problems(single, double)
    assert problem.startswith("the model's dtype is float32 on rank 0 but float64 on rank 1; "), problem
    assert "X on rank 1 differs from rank 0's" in problem


def test_architectures_with_equal_parameter_counts_are_told_apart_but_not_their_weights():
    X, y = script.data(40)
    narrow, deep = cr.mlp([5, 2, 3], seed=0), cr.mlp([5, 2, 1, 3], seed=0)
    assert narrow.n_parameters == deep.n_parameters == 21
    assert problems(fingerprint(narrow, X, y), fingerprint(deep, X, y)) == "the architecture (layers, shapes, frozen layers) on rank 1 differs from rank 0's"
    relu, tanh = cr.mlp([5, 4, 3], "relu", seed=0), cr.mlp([5, 4, 3], "tanh", seed=0)
    assert problems(fingerprint(relu, X, y), fingerprint(tanh, X, y)) == "the architecture (layers, shapes, frozen layers) on rank 1 differs from rank 0's"
    other_weights = cr.mlp([5, 4, 3], "relu", seed=1)  # rank 0's weights are sent to every rank
    assert problems(fingerprint(relu, X, y), fingerprint(other_weights, X, y)) == ""

    def custom(kind):  # layers to_config cannot describe: compared by type names and parameter shapes
        return fingerprint(cr.Sequential(cr.Linear(5, 3), kind(), seed=0), X, y)

    assert problems(custom(Doubled), custom(Doubled)) == ""
    assert problems(custom(Doubled), custom(Halved)) == "the architecture (layers, shapes, frozen layers) on rank 1 differs from rank 0's"


def test_with_a_users_layer_in_the_model_the_other_layers_settings_are_still_compared():
    """One layer to_config could not describe made every layer be compared by its type name only."""
    X, y = script.data(40)

    def model(alpha=0.1, init="auto", inner_alpha=0.1):
        return cr.Sequential(cr.Linear(5, 4, init=init), cr.LeakyReLU(alpha), Doubled(),
                             Gated(cr.LeakyReLU(inner_alpha)), cr.Linear(4, 3), seed=0)

    base = fingerprint(model(), X, y)
    assert problems(base, fingerprint(model(), X, y)) == ""
    for changed in [model(alpha=0.2), model(init="he_normal"), model(inner_alpha=0.2)]:
        assert problems(base, fingerprint(changed, X, y)) == "the architecture (layers, shapes, frozen layers) on rank 1 differs from rank 0's"


def test_the_loss_is_named_with_its_settings_in_any_order():
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)

    def tempered(temperature, per_class):
        return fingerprint(model, X, y, loss=Tempered(temperature, per_class))

    assert problems(tempered(2.0, {"a": 1.0, "b": 2}), tempered(2.0, {"b": 2, "a": 1.0})) == ""  # insertion order
    assert problems(tempered(2.0, {"a": 1.0}), tempered(3.0, {"a": 1.0})) == (
        "the loss is Tempered(temperature=2.0, per_class={'a': 1.0}) on rank 0 but "
        "Tempered(temperature=3.0, per_class={'a': 1.0}) on rank 1"
    )
    assert problems(fingerprint(model, X, y), tempered(2.0, {})) == (
        "the loss is SoftmaxCrossEntropy on rank 0 but Tempered(temperature=2.0, per_class={}) on rank 1")
    weights = numpy.array([1.0, 2.0, 3.0])
    assert problems(tempered(1.0, weights), tempered(1.0, weights.copy())) == ""
    assert problems(tempered(1.0, weights), tempered(1.0, weights * 2)).startswith(
        "the loss is Tempered(temperature=1.0, per_class=array(")


def test_a_loss_that_caches_its_last_batch_agrees_across_ranks_but_its_settings_are_compared():
    """A loss keeping ``last_probabilities`` failed the second distributed fit: each rank's batch differed."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    for on_rank_0, on_rank_1 in [(CachingCE(), CachingCE()), (SmoothedCachingCE(0.1), SmoothedCachingCE(0.1))]:
        on_rank_0(model(X[:20]), y[:20])  # each rank's own shard of the last batch
        on_rank_1(model(X[20:]), y[20:])
        assert not numpy.array_equal(on_rank_0.last_probabilities, on_rank_1.last_probabilities)
        assert problems(fingerprint(model, X, y, loss=on_rank_0), fingerprint(model, X, y, loss=on_rank_1)) == ""
    assert problems(fingerprint(model, X, y, loss=SmoothedCachingCE(0.1)),
                    fingerprint(model, X, y, loss=SmoothedCachingCE(0.2))) == (
        "the loss is SmoothedCachingCE(smoothing=0.1) on rank 0 but SmoothedCachingCE(smoothing=0.2) on rank 1")


def test_sets_are_described_by_their_items_and_enum_members_by_name():
    assert setting_text({3, 1, 2}) == setting_text(frozenset([2, 3, 1])) == "{1, 2, 3}"
    assert setting_text({"a", "b"}) != setting_text({"a", "c"})
    assert setting_text(set()) == "set()" != setting_text({})
    assert setting_text(Mode.FAST) == "Mode.FAST" != setting_text(Mode.SLOW)
    assert setting_text(Level.HIGH) == "Level.HIGH"  # not the int 2
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    assert problems(fingerprint(model, X, y, loss=Tempered(Mode.FAST, {"a"})),
                    fingerprint(model, X, y, loss=Tempered(Mode.SLOW, {"b"}))) == (
        "the loss is Tempered(temperature=Mode.FAST, per_class={'a'}) on rank 0 but "
        "Tempered(temperature=Mode.SLOW, per_class={'b'}) on rank 1")


def test_long_texts_are_shown_cut_short_and_told_apart_by_their_hashes():
    long0, long1 = "é" * 100 + "0", "é" * 100 + "1"  # 201 bytes of UTF-8, more than a value's 160
    problem = problems(({"the loss": long0}, {}), ({"the loss": long1}, {}))
    cut = "é" * 78 + "…"  # 156 bytes and the "…": no é cut in two
    hashes = re.findall(r"\(hash ([0-9a-f]{16})\)", problem)
    assert len(set(hashes)) == 2, problem
    assert problem == f"the loss is {cut} (hash {hashes[0]}) on rank 0 but {cut} (hash {hashes[1]}) on rank 1"
    assert problems(({"the loss": long0}, {}), ({"the loss": long0}, {})) == ""
    shown_alike = problems(({"seed": 5}, {}), ({"seed": "5"}, {}))  # the int 5 and the text "5" differ
    assert re.fullmatch(r"seed is 5 \(hash [0-9a-f]{16}\) on rank 0 but 5 \(hash [0-9a-f]{16}\) on rank 1", shown_alike)


class RootSendsAlone:
    """COMM_WORLD as rank 0 of 2 sees it: each Ibcast sends, and completes at once."""

    def Ibcast(self, buffer, root):
        return Done()

    def Iallgather(self, mine, everyone):  # the other rank's flag agrees with this rank's (a ranks_where's)
        everyone[...] = mine
        return Done()


def rank_zero():
    """A Communicator for rank 0 of 2, without MPI (mpi4py may be absent)."""
    comm = rank_one(RootSendsAlone())
    comm.rank, comm.is_root = 0, True
    return comm


def test_rank_0_resumes_from_the_bytes_it_sent_not_from_a_second_read(tmp_path):
    """Rank 0 returned the path, which fit then read again: replaced meanwhile, rank 0 resumed
    another checkpoint than the one it had sent to the other ranks."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    first = cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, checkpoint=path)
    comm = rank_zero()
    resumed = comm.local_checkpoint(path)
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=3, verbose=0, checkpoint=path)  # replaced: 3 epochs
    model = cr.mlp([5, 3], seed=1)
    history = cr.fit(model, X, y, epochs=2, verbose=0, resume=resumed)
    assert history.metrics["loss"][:1] == first.metrics["loss"] and history.epochs == 2
    assert isinstance(resumed, os.PathLike) and os.fspath(resumed) == os.fspath(path)


class RankOneFails:
    """COMM_WORLD as rank 0 of 2 sees it when rank 1's flag in its ``at``-th ranks_where is ``theirs`` (it
    failed; in the others it did not) and rank 1 then sends ``error``, the message of the error it raises
    (its own error's, after what failed and where); what rank 0 broadcasts just completes."""

    def __init__(self, theirs: bool, error: str = "", at: int = 1) -> None:
        text = numpy.frombuffer(error.encode(), dtype=numpy.uint8)
        self.theirs, self.sent = int(theirs), [numpy.array([text.size]), text]
        self.at, self.agreements = at, 0

    def Iallgather(self, mine, everyone):
        if mine.size > 1:  # rank 1's data and arguments are rank 0's
            everyone[...] = mine
        else:
            self.agreements += 1
            everyone[...] = [mine[0], self.theirs if self.agreements == self.at else 0]
        return Done()

    def Ibcast(self, buffer, root):
        if root == 1:
            buffer[...] = self.sent.pop(0)
        return Done()


def rank_zero_beside(theirs: bool, error: str = "", at: int = 1):
    """Rank 0 of 2, whose data and arguments rank 1 shares, with rank 1 failing (``theirs``) as RankOneFails."""
    comm = rank_zero_among_equals(2)
    world = RankOneFails(theirs, error, at)
    comm.world.Iallgather, comm.world.Ibcast = world.Iallgather, world.Ibcast
    return comm


def test_a_rank_that_cannot_resume_stops_every_rank_at_once_naming_it(tmp_path):
    """A refusal on one rank alone (a callback of one's own refusing its state) left the other
    ranks training on into the timeout, which then blamed a hung rank; then the others' error said
    "another rank", and a rank that hung while the ranks agreed was said to hang "agreeing on stopping"."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, checkpoint=path)
    told = f"resuming from the checkpoint {path} failed on rank 1 of 2: its callback refused its state"
    comm = rank_zero_beside(True, told, at=4)  # after the agreements on the data, setting up and receiving it
    with pytest.raises(cr.DistributedError) as raised:
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, resume=path, distributed=comm)
    assert str(raised.value) == told
    assert raised.value.same_on_every_rank
    comm = rank_zero_beside(False)
    with pytest.raises(cr.DistributedError) as raised:  # told to the others, in the same words
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, resume=path, distributed=comm,
               callbacks=[cr.EarlyStopping(patience=1)])
    named = re.escape(str(path))
    assert re.match(rf"resuming from the checkpoint {named} failed on rank 0 of 2: {named}: "
                    r".*callbacks \[\], this run \[EarlyStopping\]", str(raised.value)), raised.value
    assert isinstance(raised.value.__cause__, cr.ModelFileError)
    comm = rank_zero_beside(False)
    alike, agrees = comm.world.Iallgather, iter([True, True, True, False])  # on the data, set-up and bytes sent
    comm.world.Iallgather = lambda mine, everyone: alike(mine, everyone) if mine.size > 1 or next(agrees) else Never()
    comm.timeout = 0.01  # rank 1 hangs after the comparison of the runs, in the agreement on the checkpoint
    with pytest.raises(cr.DistributedError, match=r"^rank 0 of 2: agreeing on resuming from the checkpoint .*"
                                                  r"checkpoint\.safetensors waited more than 0.01 s"):
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, resume=path, distributed=comm)


class Unrestorable(cr.Callback):
    """A callback of one's own whose load_state_dict raises RuntimeError, no error a checkpoint's loader
    reports with the file (it takes KeyError, TypeError, ValueError and OverflowError for a damaged state)."""

    def load_state_dict(self, state, arrays):
        raise RuntimeError("cannot restore here")


def test_a_callback_of_ones_own_raising_as_it_is_restored_on_one_rank_stops_every_rank_naming_it(tmp_path):
    """Only a ChainruleError was agreed on: rank 0 raised its RuntimeError alone, and the other ranks
    waited in the agreement on the checkpoint until the timeout, then aborted blaming a hung rank."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, checkpoint=path, callbacks=[Unrestorable()])
    with pytest.raises(cr.DistributedError) as raised:
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, resume=path, callbacks=[Unrestorable()],
               distributed=rank_zero_beside(False))
    assert str(raised.value) == (f"resuming from the checkpoint {path} failed on rank 0 of 2: RuntimeError: "
                                 f"cannot restore here")
    assert isinstance(raised.value.__cause__, RuntimeError)
    with pytest.raises(RuntimeError, match="^cannot restore here$"):  # one process: the error itself, as before
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, resume=path, callbacks=[Unrestorable()])


def test_an_error_naming_a_path_that_is_no_utf8_on_one_rank_stops_every_rank(tmp_path):
    """A checkpoint in a folder whose name is no UTF-8 (Latin-1's "café", which Python names with a lone
    surrogate): the text naming it could not be encoded to be sent, so that rank raised UnicodeEncodeError
    alone, and the others waited for its text until the timeout, then aborted blaming a hung rank."""
    X, y = script.data(40)
    folder = tmp_path / os.fsdecode(b"caf\xe9")
    folder.mkdir()
    path = folder / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, checkpoint=path, callbacks=[Unrestorable()])
    with pytest.raises(cr.DistributedError) as raised:
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, resume=path, callbacks=[Unrestorable()],
               distributed=rank_zero_beside(False))
    shown = str(path).encode(errors="backslashreplace").decode()
    assert str(raised.value) == f"resuming from the checkpoint {shown} failed on rank 0 of 2: RuntimeError: " \
                                f"cannot restore here"


def test_rank_0_names_its_checkpoint_not_its_copy_in_errors(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(cr.ModelFileError) as caught:
        rank_zero().local_checkpoint(path)
    assert str(caught.value).startswith(f"{path}: ") and "chainrule-resume-" not in str(caught.value)


# -- ranks on one machine share its cores ------------------------------------------------------------

class Never:
    """A nonblocking MPI request that never completes: some rank never joined it."""

    def Test(self):
        return False


class MPIException(Exception):
    """mpi4py's MPI.Exception, which a DistributedError is not."""


class StartingWorld:
    """COMM_WORLD as rank 0 of 2 sees it while making its Communicator; records the collectives
    begun. The barrier completes where the other rank made its Communicator too, else never."""

    def __init__(self, other_rank_came):
        self.other_rank_came, self.begun = other_rank_came, []

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2

    def Ibarrier(self):
        self.begun.append("Ibarrier")
        return Done() if self.other_rank_came else Never()

    def Split_type(self, kind):
        self.begun.append("Split_type")  # blocking: a rank that never came would hold it for ever
        return Machine(1)


def test_making_a_communicator_waits_for_the_other_ranks_no_longer_than_the_timeout(monkeypatch):
    """A rank that failed before making its Communicator left the others in the blocking split for ever."""
    def installed(world):
        MPI = types.SimpleNamespace(COMM_WORLD=world, Exception=MPIException, COMM_TYPE_SHARED="shared")
        monkeypatch.setitem(sys.modules, "mpi4py.MPI", MPI)
        return world

    alone = installed(StartingWorld(other_rank_came=False))
    started = time.monotonic()
    with pytest.raises(cr.DistributedError, match=r"^rank 0 of 2: making the Communicator waited more than 0.2 s"):
        Communicator(timeout=0.2, abort=False)
    assert time.monotonic() - started < 5 and alone.begun == ["Ibarrier"]
    together = installed(StartingWorld(other_rank_came=True))
    assert Communicator(timeout=0.2, abort=False).blas_threads is None  # alone on its machine
    assert together.begun == ["Ibarrier", "Split_type"]


class Machine:
    """COMM_WORLD whose shared-memory split (the ranks on this machine) holds ``ranks_here`` ranks."""

    def __init__(self, ranks_here):
        self.ranks_here, self.splits = ranks_here, 0

    def Split_type(self, kind):
        assert kind == "shared"
        self.splits += 1
        return self

    def Get_size(self):
        return self.ranks_here

    def Free(self):
        pass


def threads_chosen(monkeypatch, ranks_here, cores, blas_can_be_sized=True):
    """(comm.share_cores(), the counts given to the BLAS, splits made) for a rank among ``ranks_here`` on ``cores``."""
    given = []
    monkeypatch.setattr(distributed, "usable_cores", lambda: cores)
    monkeypatch.setattr(cpu_blas, "set_threads", lambda count: given.append(count) or blas_can_be_sized)
    comm = rank_one(Machine(ranks_here))
    comm.MPI.COMM_TYPE_SHARED = "shared"
    return comm.share_cores(), given, comm.world.splits


def test_ranks_on_one_machine_share_its_cores_between_their_blas_pools(monkeypatch):
    """Each rank's BLAS started a thread per core: 2 ranks on 2 cores took ~30 times as long per step."""
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert threads_chosen(monkeypatch, ranks_here=2, cores=2) == (1, [1], 1)
    assert threads_chosen(monkeypatch, ranks_here=3, cores=8) == (2, [2], 1)
    assert threads_chosen(monkeypatch, ranks_here=16, cores=8) == (1, [1], 1)
    assert threads_chosen(monkeypatch, ranks_here=1, cores=8) == (None, [], 1)  # alone: BLAS's own choice
    assert threads_chosen(monkeypatch, ranks_here=2, cores=8, blas_can_be_sized=False) == (None, [4], 1)


@pytest.mark.parametrize("name", THREAD_VARIABLES)
def test_threads_the_user_chose_are_left_alone_but_every_rank_still_splits(monkeypatch, name):
    for variable in THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(name, "2")
    assert threads_chosen(monkeypatch, ranks_here=2, cores=8) == (None, [], 1)


@needs_mpi
def test_each_of_two_ranks_on_this_machine_gets_its_share_of_the_cores(tmp_path):
    code = ("import json, sys; from chainrule import cpu_blas; import chainrule as cr; comm = cr.Communicator(); "
            "open(f'{sys.argv[1]}/rank{comm.rank}.json', 'w')"
            ".write(json.dumps([comm.blas_threads, cpu_blas.threads()]))")
    environment = {name: value for name, value in os.environ.items() if name not in THREAD_VARIABLES}
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=60, env=environment)
    assert done.returncode == 0, done.stderr
    share = max(1, distributed.usable_cores() // 2)
    expected = [share, share] if cpu_blas.threads() is not None else [None, None]
    for rank in (0, 1):
        assert json.loads((tmp_path / f"rank{rank}.json").read_text()) == expected


def test_fit_compares_the_callbacks_of_the_ranks(monkeypatch):
    """EarlyStopping on rank 0 alone trained on silently; fit now sends chainrule's callbacks
    in its fingerprint (rank 1 here sends rank 0's row but for an empty list of callbacks)."""
    X, y = script.data(40)
    model = cr.mlp([5, 3], seed=0)
    comm = rank_zero_of(2)
    sent = []  # what rank 0 put into its fingerprint row
    original = distributed.fingerprint_row

    def recording(values, checksums):
        sent.append((values, checksums))
        return original(values, checksums)

    def gathers_with_other_callbacks(mine, everyone):
        if mine.size == 1:  # a ranks_where's flag (the agreement on the data): rank 1's is rank 0's
            everyone[...] = mine[0]
            return Done()
        values, checksums = sent[0]
        everyone[...] = [mine, original({**values, "chainrule's callbacks": "[]"}, checksums)]
        return Done()

    monkeypatch.setattr(distributed, "fingerprint_row", recording)
    comm.world = types.SimpleNamespace(Ibcast=lambda buffer, root: Done(), Iallgather=gathers_with_other_callbacks)
    with pytest.raises(cr.DistributedError,
                       match=r"chainrule's callbacks is \[EarlyStopping\(patience=1, .*\] on rank 0 but \[\] on rank 1"):
        cr.fit(model, X, y, epochs=2, batch_size=8, verbose=0, callbacks=[cr.EarlyStopping(1)], distributed=comm)


class Fingerprinted(Exception):
    """Raised with what fit was about to send in its fingerprint row, so that it stops there."""


def sent_by_fit(monkeypatch, model, X, y, **options):
    """(values, checksums): what fit's fingerprint row holds for (X, y) as rank 0 of 2."""
    def stop(values, checksums):
        raise Fingerprinted(values, checksums)

    with monkeypatch.context() as patched:
        patched.setattr(distributed, "fingerprint_row", stop)
        with pytest.raises(Fingerprinted) as sent:
            cr.fit(model, X, y, epochs=1, batch_size=8, verbose=0, distributed=rank_zero_among_equals(2), **options)
    return sent.value.args


def renamed(case):
    """The data of rank 0 and rank 1 (the same arrays, named otherwise on rank 1), the model, fit's options."""
    X, y = script.data(40)
    if case == "classes":  # the targets encoded are equal, class k as k
        return (X, numpy.array(["a", "b", "c"])[y]), (X, numpy.array(["x", "y", "z"])[y]), cr.mlp([5, 3], seed=0), {}
    if case == "feature names":  # X as an array is equal
        pandas = pytest.importorskip("pandas")
        frames = [pandas.DataFrame(X, columns=list(names)) for names in ("abcde", "vwxyz")]
        return (frames[0], y), (frames[1], y), cr.mlp([5, 3], seed=0), {}
    t = X @ numpy.arange(1.0, 6.0)  # doubled, the standardized targets are equal bit for bit
    return (X, t), (X, 2 * t), cr.mlp([5, 1], seed=0), {"loss": "mse", "standardize_targets": True}


@pytest.mark.parametrize("case, problem", [
    ("classes", "the list of classes is ['a', 'b', 'c'] on rank 0 but ['x', 'y', 'z'] on rank 1"),
    ("feature names", "the list of feature names is ['a', 'b', 'c', 'd', 'e'] on rank 0 "
                      "but ['v', 'w', 'x', 'y', 'z'] on rank 1"),
    ("targets' scale", "the targets' standardization on rank 1 differs from rank 0's"),
])
def test_fit_compares_what_the_ranks_data_is_named_and_scaled_by(monkeypatch, case, problem):
    """Rank 1 given iris's labels renamed (cat, dog, eel) trained silently: its targets, encoded
    as class numbers, were rank 0's, and each rank's model then predicted its own labels."""
    data, renamed_data, model, options = renamed(case)
    mine, theirs = (sent_by_fit(monkeypatch, model, X, y, **options) for X, y in (data, renamed_data))
    assert (mine[1]["X"], mine[1]["y"]) == (theirs[1]["X"], theirs[1]["y"])  # the arrays alone agree
    assert problems(mine, mine) == ""
    assert problems(mine, theirs) == problem


# -- the collectives' arithmetic, as rank 1 of 2 sees it, without MPI ---------------------------

class OtherRankReduces:
    """COMM_WORLD as rank 1 of 2 sees it: each Iallreduce combines this rank's buffer with rank 0's next array."""

    OPS = {"sum": numpy.add, "max": numpy.maximum, "min": numpy.minimum}

    def __init__(self, *sent):
        self.sent = list(sent)

    def Iallreduce(self, in_place, buffer, op):
        buffer[...] = self.OPS[op](buffer, self.sent.pop(0))
        return Done()


def reducing_rank_one(*sent):
    comm = rank_one(OtherRankReduces(*sent))
    comm.MPI = types.SimpleNamespace(Exception=RuntimeError, IN_PLACE=None, SUM="sum", MAX="max", MIN="min")
    return comm


def seed_words(seed):
    """The broadcast that starts shared_seed, as rank 0 sends it when it sends no checkpoint: [rank 0 sends the
    checkpoint, the seed it drew, the length of its name of the checkpoint]."""
    return numpy.array([0, seed, 0], dtype=numpy.uint64)


def sending(name, seed=0):
    """The broadcasts that start shared_seed when rank 0 sends its checkpoint ``name``: the words, then the name."""
    text = numpy.frombuffer(os.fsencode(name), dtype=numpy.uint8)
    return numpy.array([1, seed, text.size], dtype=numpy.uint64), text


def test_a_seed_of_none_is_the_one_rank_0_draws():
    assert rank_one(RootSends(seed_words(12345))).shared_seed(None) == (12345, None)
    assert rank_one(RootSends(seed_words(12345))).shared_seed(7) == (7, None)


def test_a_seed_of_none_on_resume_is_the_one_recorded_in_the_checkpoint_rank_0_sends_up_to_128_bits(tmp_path):
    """The ranks split the validation rows by a fresh seed, not the run's: fit(resume=..., seed=None)
    with a validation fraction was refused for its validation set on every distributed resume."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, seed=2**100 + 3, checkpoint=path)
    seed, resumed = rank_zero().shared_seed(None, path)
    assert seed == 2**100 + 3 and resumed.sent and resumed.extra["epoch"] == 1  # what the run resumes from
    assert rank_zero().shared_seed(9, path) == (9, path)  # a seed given is the seed (load_checkpoint compares it)
    sent = rank_zero().local_checkpoint(path)
    assert rank_zero().shared_seed(None, sent) == (2**100 + 3, sent) and sent.extra is not None  # chainrule train's
    data = numpy.frombuffer(path.read_bytes(), dtype=numpy.uint8)
    comm = rank_one(RootSends(*sending(path, 77), numpy.array([data.size]), data))
    seed, resumed = comm.shared_seed(None, "elsewhere/checkpoint.safetensors")
    assert seed == 2**100 + 3 and resumed.sent and os.fspath(resumed) == "elsewhere/checkpoint.safetensors"
    comm.world.sent = [*sending(path, 77), numpy.array([data.size]), data]
    assert comm.shared_seed(None) == (2**100 + 3, None) and comm.world.sent == []  # given to rank 0 alone: dropped


def test_other_ranks_stop_when_rank_0_cannot_read_the_checkpoint_whose_seed_they_take(tmp_path):
    missing = tmp_path / "checkpoint.safetensors"
    with pytest.raises(cr.ModelFileError, match="checkpoint.safetensors: no such checkpoint file"):
        rank_zero().shared_seed(None, missing)
    with pytest.raises(cr.ModelFileError, match="checkpoint.safetensors: rank 0 cannot read the checkpoint"):
        rank_one(RootSends(*sending(missing), numpy.array([-1]))).shared_seed(None, missing)
    with pytest.raises(cr.ModelFileError, match=f"^{re.escape(str(missing))}: rank 0 cannot read the checkpoint"):
        rank_one(RootSends(*sending(missing), numpy.array([-1]))).shared_seed(None)  # given to rank 0 alone


def test_a_rank_given_no_resume_names_rank_0s_checkpoint_in_its_errors():
    """With seed=None and resume given to rank 0 alone, a rank without memory for the checkpoint's bytes named
    the file "resume", a placeholder: "receiving the checkpoint resume failed on rank 1 of 2: MemoryError"."""
    name = "runs/x/checkpoint.safetensors"
    comm = rank_one(RootSends(*sending(name), numpy.array([2**62])))  # 4 EiB: more than any machine's memory
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, mine[0]]), Done())[1]
    with pytest.raises(cr.DistributedError) as raised:
        comm.shared_seed(None)
    assert str(raised.value).startswith(f"reading the checkpoint {name} to resume from failed on rank 1 of 2: "
                                        f"receiving the checkpoint {name} failed on rank 1 of 2: MemoryError: ")


def test_a_rank_that_cannot_take_the_checkpoint_whose_seed_they_take_stops_every_rank_at_once(tmp_path, monkeypatch):
    """A rank whose copy of rank 0's bytes could not be written raised alone, and the others went on
    into their next collective (the comparison of the runs) until the timeout, which blamed a hung rank."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, seed=3, checkpoint=path)
    comm = rank_zero()
    told = (f"reading the checkpoint {path} to resume from failed on rank 1 of 2: elsewhere/checkpoint.safetensors: "
            f"cannot write rank 1's copy")
    comm.world = RankOneFails(True, told, at=2)  # after the agreement on receiving the bytes
    with pytest.raises(cr.DistributedError) as raised:
        comm.shared_seed(None, path)
    assert str(raised.value) == told
    data = numpy.frombuffer(path.read_bytes(), dtype=numpy.uint8)
    comm = rank_one(RootSends(*sending(path), numpy.array([data.size]), data))
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, mine[0]]), Done())[1]

    def disk_full(file, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    told = ("^reading the checkpoint elsewhere/checkpoint.safetensors to resume from failed on rank 1 of 2: "
            "elsewhere/checkpoint.safetensors: cannot write rank 1's copy of the checkpoint")
    with pytest.raises(cr.DistributedError, match=told) as raised:
        comm.shared_seed(None, "elsewhere/checkpoint.safetensors")  # told to the others, in the words they raise
    assert isinstance(raised.value.__cause__, cr.ModelFileError)


def test_a_rank_without_room_for_a_temporary_folder_to_take_the_checkpoint_stops_every_rank(tmp_path, monkeypatch):
    """Its OSError, raised making the folder of its copy (outside the copy's ModelFileError), was no
    ChainruleError: that rank raised alone, and the others waited in the agreement until the timeout."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, seed=3, checkpoint=path)
    data = numpy.frombuffer(path.read_bytes(), dtype=numpy.uint8)
    comm = rank_one(RootSends(*sending(path), numpy.array([data.size]), data))
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, mine[0]]), Done())[1]

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device", "/tmp/chainrule-resume-x")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_room)
    told = ("reading the checkpoint elsewhere/checkpoint.safetensors to resume from failed on rank 1 of 2: OSError: "
            "[Errno 28] No space left on device: '/tmp/chainrule-resume-x'")
    with pytest.raises(cr.DistributedError) as raised:
        comm.shared_seed(None, "elsewhere/checkpoint.safetensors")
    assert str(raised.value) == told
    assert isinstance(raised.value.__cause__, OSError)


def test_an_error_on_several_ranks_names_the_step_of_the_first_alone():
    """All of them were said to have failed at the first one's step: "checking the arguments failed on ranks 1, 2
    of 3 (rank 1's error)", where rank 2 had failed preparing its data."""
    comm = rank_one(RootSends())
    comm.size = 3
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, 1, 1]), Done())[1]
    with pytest.raises(cr.DistributedError) as raised:
        comm.raise_together(cr.HyperparameterError("epochs: expected an integer >= 1, got 0"), "checking the arguments")
    assert str(raised.value) == ("checking the arguments failed on rank 1 of 3 (rank 2 failed too): epochs: expected "
                                 "an integer >= 1, got 0")
    comm.size = 5
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, 1, 1, 1, 1]), Done())[1]
    with pytest.raises(cr.DistributedError, match=r"^training failed on rank 1 of 5 \(ranks 2, 3, 4 failed too\): "
                                                  r"ValueError: no$"):
        comm.raise_together(ValueError("no"), "training")


class Unprintable(Exception):
    """An error of one's own whose __str__ is broken."""

    def __str__(self):
        raise RuntimeError("no words")


def test_a_sys_exit_on_one_rank_stops_every_rank_at_once_naming_it_but_a_ctrl_c_goes_through():
    """A sys.exit in a callback on one rank ended that rank alone, and the others waited in their next
    collective until the timeout, then aborted the job blaming a rank that hung or died."""
    for code, told in ((3, "SystemExit: 3"), (None, "SystemExit")):
        comm = rank_one(RootSends())
        comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, mine[0]]), Done())[1]
        with pytest.raises(cr.DistributedError) as raised:
            with comm.agreeing("ending the callbacks (on_train_end)"):
                sys.exit(code)
        assert str(raised.value) == f"ending the callbacks (on_train_end) failed on rank 1 of 2: {told}"
        assert isinstance(raised.value.__cause__, SystemExit) and raised.value.same_on_every_rank
    comm = rank_one(RootSends())
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [1, 1]), Done())[1]
    with pytest.raises(SystemExit, match="^3$"):  # on every rank: each its own, as in one process
        with comm.agreeing("ending the callbacks (on_train_end)"):
            sys.exit(3)
    with pytest.raises(SystemExit, match="^3$"):
        with SingleProcess().agreeing("ending the callbacks (on_train_end)"):
            sys.exit(3)
    with pytest.raises(KeyboardInterrupt):  # not agreed on (distributed.AGREED): no all-gather to wait in
        with rank_one(types.SimpleNamespace()).agreeing("ending the callbacks (on_train_end)"):
            raise KeyboardInterrupt


def test_an_error_whose_text_cannot_be_made_is_named_by_its_type():
    """Its __str__ raised on the failing rank alone, between the all-gather and the broadcast of its text,
    and the others waited for that text until the timeout, then aborted blaming a hung rank."""
    comm = rank_one(RootSends())
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, mine[0]]), Done())[1]
    with pytest.raises(cr.DistributedError) as raised:
        comm.raise_together(Unprintable(), "training")
    assert str(raised.value) == "training failed on rank 1 of 2: Unprintable"
    assert isinstance(raised.value.__cause__, Unprintable)


def test_a_checkpoint_too_large_for_rank_0s_memory_stops_every_rank_at_once(tmp_path, monkeypatch):
    """Rank 0 raised MemoryError alone before it told the others the checkpoint's size, and they waited for
    it until the timeout, then aborted blaming a hung rank; now the size -1 that a file rank 0 cannot read
    sends, and a ModelFileError naming the file on every rank."""
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(b"large")

    def no_memory(file):
        raise MemoryError("Unable to allocate 80.0 GiB")

    monkeypatch.setattr(Path, "read_bytes", no_memory)
    with pytest.raises(cr.ModelFileError, match=f"^{re.escape(str(path))}: no memory on rank 0 to read the "
                                                r"checkpoint \(Unable to allocate 80.0 GiB\)$"):
        rank_zero().local_checkpoint(path)


def test_a_rank_without_memory_for_the_checkpoint_it_receives_stops_every_rank_at_once(tmp_path):
    """Its MemoryError, making room for rank 0's bytes between the broadcasts of their size and of the bytes,
    left it raising alone, and the others waited in the second broadcast until the timeout (or MPI failed)."""
    comm = rank_one(RootSends(numpy.array([2**62])))  # 4 EiB: more than any machine's memory
    comm.world.Iallgather = lambda mine, everyone: (everyone.__setitem__(..., [0, mine[0]]), Done())[1]
    told = r"^receiving the checkpoint elsewhere/checkpoint\.safetensors failed on rank 1 of 2: MemoryError: Unable"
    with pytest.raises(cr.DistributedError, match=told) as raised:
        comm.local_checkpoint("elsewhere/checkpoint.safetensors")
    assert isinstance(raised.value.__cause__, MemoryError)
    path, _ = checkpoint_bytes(tmp_path)
    told = f"receiving the checkpoint {path} failed on rank 1 of 2: MemoryError: Unable to allocate 80.0 GiB"
    comm, sizes = rank_zero(), []
    comm.world = RankOneFails(True, told)
    broadcast = comm.world.Ibcast
    comm.world.Ibcast = lambda buffer, root: sizes.append(buffer.size) or broadcast(buffer, root)
    with pytest.raises(cr.DistributedError) as raised:
        comm.local_checkpoint(path)
    assert str(raised.value) == told and raised.value.same_on_every_rank
    assert sizes == [1, 1, len(told)]  # the checkpoint's size, then rank 1's text: rank 0 sends no bytes


class Resumed(Exception):
    """Raised where fit, having resumed, sends rank 0's parameters."""


def checkpoint_with_validation(tmp_path):
    """(X, y, path): a checkpoint after one epoch with seed 5 holding a quarter of X out."""
    X, y = script.data(40)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([5, 3], seed=0), X, y, epochs=1, verbose=0, seed=5, validation=0.25, checkpoint=path)
    return X, y, path


def theta_resumed_on_rank_zero(X, y, path):
    """θ as rank 0 of 2 resumes from ``path`` with seed=None, when it sends its parameters."""
    comm = rank_zero_among_equals(2)
    comm.any = lambda flag: flag

    def resumed(model):
        raise Resumed(model.flat_parameters().theta.copy())

    comm.broadcast_parameters = resumed
    with pytest.raises(Resumed) as state:
        cr.fit(cr.mlp([5, 3], seed=1), X, y, epochs=2, verbose=0, validation=0.25, seed=None, resume=path,
               distributed=comm)
    return state.value.args[0]


def test_a_distributed_resume_with_seed_none_splits_the_validation_rows_by_the_runs_seed(tmp_path):
    X, y, path = checkpoint_with_validation(tmp_path)
    numpy.testing.assert_array_equal(theta_resumed_on_rank_zero(X, y, path), cr.load(path).flat_parameters().theta)


def test_a_distributed_resume_with_seed_none_reads_the_checkpoint_once(tmp_path, monkeypatch):
    """Rank 0 read the checkpoint for its run's seed, dropped it, and read it again to send it to
    every rank: two reads of a file that may be large, and may have been replaced in between."""
    X, y, path = checkpoint_with_validation(tmp_path)
    reads = []
    read_bytes, read = Path.read_bytes, checkpoint_module.read
    monkeypatch.setattr(Path, "read_bytes", lambda file: reads.append(Path(file)) or read_bytes(file))
    monkeypatch.setattr(checkpoint_module, "read", lambda file, **how: reads.append(Path(file)) or read(file, **how))
    theta = theta_resumed_on_rank_zero(X, y, path)
    assert reads.count(path) == 1, reads
    numpy.testing.assert_array_equal(theta, cr.load(path).flat_parameters().theta)


def test_one_rank_asking_to_stop_stops_every_rank():
    assert reducing_rank_one(numpy.array([1])).any(False) is True
    assert reducing_rank_one(numpy.array([0])).any(True) is True
    assert reducing_rank_one(numpy.array([0])).any(False) is False


class SlowRankZero:
    """COMM_WORLD as rank 1 of 2 sees it while rank 0 takes ``polls`` polls to join an Iallreduce (MAX)
    whose value is ``theirs``."""

    def __init__(self, theirs: int, polls: int) -> None:
        self.theirs, self.polls = theirs, polls

    def Iallreduce(self, in_place, buffer, op):
        world = self

        class Request:
            def Test(self):
                world.polls -= 1
                if world.polls > 0:
                    return False
                buffer[...] = numpy.maximum(buffer, world.theirs)
                return True

        return Request()


def test_the_ranks_largest_value_waits_without_a_deadline_only_when_asked():
    """The ranks that end a run wait for rank 0 to write its files, which takes as long as it takes
    (a large test set to score): the timeout would abort them, and rank 0, mid-write."""
    comm = rank_one(SlowRankZero(130, polls=40))
    comm.MPI = types.SimpleNamespace(Exception=MPIException, IN_PLACE=None, MAX="max")
    comm.timeout = 0.01  # 40 polls take longer, their pauses growing to 1 ms
    assert comm.largest(0, "ending the run", deadline=False) == 130
    comm.world = SlowRankZero(130, polls=40)
    with pytest.raises(cr.DistributedError, match=r"^rank 1 of 2: agreeing waited more than 0.01 s"):
        comm.largest(0, "agreeing")


def test_the_ranks_weights_must_agree_to_the_bit_after_each_epoch():
    theta = numpy.linspace(-1.0, 1.0, 7)
    mine = checksum(theta)
    reducing_rank_one(numpy.array([mine, -mine])).check_same_parameters(theta, 3)
    nudged = theta.copy()
    nudged[3] = numpy.nextafter(nudged[3], 1.0)  # one ulp: a step taken with another lr differs by more
    theirs = checksum(nudged)
    with pytest.raises(cr.DistributedError, match="^the 2 processes' weights differ after epoch 3: ") as raised:
        reducing_rank_one(numpy.array([theirs, -theirs])).check_same_parameters(theta, 3)
    assert raised.value.same_on_every_rank


def test_the_gradient_is_weighted_by_each_ranks_rows_and_a_non_finite_loss_spreads_nan():
    grad = numpy.full(3, 2.0)
    reducing_rank_one(numpy.full(3, 6.0)).average_gradient(grad, 1.0, 4.0, 0.5)  # rank 0: 3 rows, its share 6
    assert numpy.array_equal(grad, numpy.full(3, 6.5))
    grad = numpy.full(3, 2.0)
    reducing_rank_one(numpy.zeros(3)).average_gradient(grad, 1.0, 4.0, float("inf"))
    assert numpy.isnan(grad).all()


def test_distributed_none_trains_in_one_process():
    assert type(distributed.communicator(None)) is SingleProcess
    assert type(distributed.communicator(False)) is SingleProcess


class CtrlCWhileAgreeing(SingleProcess):
    """The ranks' agreement as an MPI job makes it (Ctrl-C acted on at an epoch's end only), with a
    SIGINT arriving while this process waits in the all-reduce that agrees on Ctrl-C after epoch 2."""

    def __init__(self) -> None:
        self.calls = 0

    def any(self, flag: bool) -> bool:
        self.calls += 1
        if self.calls == 4:  # two an epoch (a stop, then Ctrl-C): epoch 2's Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)  # the handler sets the loop's flag here, inside the wait
        return bool(flag)

    def stops_mid_epoch(self, interrupted: bool) -> bool:
        return False


def test_a_ctrl_c_during_the_ranks_agreement_stops_the_run_at_the_next_epochs_end():
    """The agreed value was assigned over the flag the handler had just set: the Ctrl-C was lost and
    the run trained every epoch (in 17 of 120 fits on two ranks); one coming just after it stopped
    one rank alone, while the others trained on and timed out."""
    X = numpy.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    history = cr.fit(cr.mlp([3, 4, 2], seed=0), X, y, epochs=6, batch_size=10, verbose=0,
                     distributed=CtrlCWhileAgreeing())
    assert (history.stop_reason, history.epochs, history.partial_last_epoch) == ("interrupted", 3, False)


class AnotherRankResumes(SingleProcess):
    """Rank 0's view of a job of 2 whose rank 1 was given resume= where rank 0 was not, or the
    reverse: its fingerprint differs from rank 0's in resume alone."""

    size = 2

    def check_same_run(self, values: dict, checksums: dict) -> None:
        theirs = {**values, "resume": "a checkpoint path" if values["resume"] is None else None}
        rank_zero_of(2, (theirs, checksums)).check_same_run(values, checksums)


def test_resume_given_to_some_ranks_only_is_named(tmp_path):
    """resume=ck if os.path.exists(ck) else None, with the file on rank 0's disk alone: an MPI error
    that never named resume (the Python API), or a timeout blaming a rank that hung (the command).
    The comparison of the ranks' arguments names it, with no all-reduce of its own."""
    X = numpy.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "checkpoint.safetensors"
    cr.fit(cr.mlp([3, 4, 2], seed=0), X, y, epochs=1, verbose=0, checkpoint=path)
    for resume, shown in ((None, "None on rank 0 but a checkpoint path on rank 1"),
                          (path, "a checkpoint path on rank 0 but None on rank 1")):
        with pytest.raises(cr.DistributedError) as error:
            cr.fit(cr.mlp([3, 4, 2], seed=0), X, y, epochs=2, verbose=0, resume=resume,
                   distributed=AnotherRankResumes())
        assert f"(resume is {shown}); every process must pass fit the same ones" in str(error.value), error.value
        assert error.value.same_on_every_rank


class TwoRanksAlike(SingleProcess):
    """A job of 2 ranks whose other rank holds the same rows and so takes the same steps."""

    size = 2


@pytest.mark.parametrize("comm, alike", [(SingleProcess(), False), (TwoRanksAlike(), True)])
def test_a_distributed_divergence_is_marked_as_raised_alike_on_every_rank(comm, alike):
    """Each rank's command printed its own line, built from its own disk: one line per rank."""
    X = numpy.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(cr.DivergenceError, match="^training diverged at epoch 1, batch 1/4") as raised:
        cr.fit(cr.mlp([3, 4, 2], seed=0), X, y, optimizer="sgd", lr=1e30, epochs=2, batch_size=10, verbose=0,
               distributed=comm)
    assert raised.value.same_on_every_rank is alike


class RankOfTwoLossNotFinite(SingleProcess):
    """Rank ``rank`` of a job of 2 whose rank 1 alone finds its loss not finite at the first step:
    its NaN in the gradient's all-reduce leaves every rank a gradient not finite."""

    size = 2

    def __init__(self, rank: int) -> None:
        self.rank = rank

    def average_gradient(self, grad, n_local: float, n_global: float, loss_value: float) -> None:
        grad[...] = float("nan")

    def ranks_where(self, flag: bool, what: str) -> list:
        assert flag is (self.rank == 1)  # each rank tells its own
        return [1]


def test_a_loss_not_finite_on_one_rank_is_named_alike_on_every_rank():
    """Rank 1 raised "the loss is not finite", rank 0 "the gradient is not finite", and with the
    error marked alike only rank 0's line was shown: the gradient, and a backward pass, blamed."""
    X = numpy.random.default_rng(0).normal(size=(40, 3))
    y = X[:, 0].copy()
    messages, steps = [], []
    for rank in (0, 1):
        targets = y.copy()
        if rank == 1:
            targets[:] = 1e200  # this rank's (MSE) loss overflows: every row here, as its rows alone would
        model = cr.mlp([3, 4, 1], seed=0, dtype="float64")
        optimizer = cr.Adam(model)
        with pytest.raises(cr.DivergenceError) as raised:
            cr.fit(model, X, targets, loss="mse", optimizer=optimizer, epochs=2, batch_size=10, verbose=0,
                   standardize=True, distributed=RankOfTwoLossNotFinite(rank))
        assert raised.value.at_start and raised.value.same_on_every_rank
        messages.append(str(raised.value))
        steps.append(optimizer.t)
    assert messages[0] == messages[1]
    assert steps == [1, 1]  # rank 1 took the refused step with rank 0 (it took none: its t stayed 0)
    assert messages[0].startswith("training diverged at epoch 1, batch 1/4: the loss is not finite on rank 1 of 2; "
                                  "it was so at the initial weights"), messages[0]
    assert "standardize the targets" in messages[0]


@needs_mpi
def test_two_ranks_name_the_rank_whose_loss_is_not_finite_in_the_same_words(tmp_path):
    done, seconds = mpiexec(sys.executable, str(SCRIPT), "diverge", str(tmp_path),
                            env={"CHAINRULE_TEST_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    assert seconds < 20  # no rank waited out the timeout in the agreement on why
    messages = [(tmp_path / f"diverge{rank}.txt").read_text() for rank in (0, 1)]
    assert messages[0] == messages[1]  # and so the ranks' step counts after it (that of the rank whose loss it was)
    assert messages[0].endswith("\nt=1"), messages[0]
    assert re.match(r"training diverged at epoch 1, batch 1/1: the loss is not finite on rank [01] of 2; it was so "
                    r"at the initial weights", messages[0]), messages[0]
