"""chainrule train under an MPI launcher: refused without --distributed, errors found alike on
every rank printed once, and the command that resumes an interrupted distributed run."""

import argparse
import importlib.util
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainrule.cli import mpi_launch
from chainrule.cli import train as train_command
from chainrule.training.distributed import MPI_LAUNCH_VARIABLES
from _chainrule_launcher import LAUNCH_COUNTS

from .helpers import assert_one_line_error, call, iris_rows, write_csv
from .test_train import interrupt_at_epoch

MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))
needs_mpi4py = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="needs mpi4py")
needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                               reason="needs mpi4py and mpiexec: pip install 'chainrule[mpi]'")
IRIS = ["--data", "iris", "--epochs", "2", "--quiet", "--no-plots"]
LAUNCH_VARIABLES = [name for pair in MPI_LAUNCH_VARIABLES for name in pair]


@pytest.fixture
def no_launcher(monkeypatch):
    """An environment as without mpiexec (the tests may themselves run under one)."""
    for name in LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("size, rank", [("PMI_SIZE", "PMI_RANK"), ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK")])
def test_several_processes_without_distributed_all_exit_2_and_rank_0_says_why(tmp_path, capsys, monkeypatch,
                                                                            no_launcher, size, rank):
    """mpiexec -n 2 chainrule train (no --distributed) ran two whole trainings into one folder, exit 0."""
    monkeypatch.setenv(size, "2")
    monkeypatch.setenv(rank, "0")
    code, _, err = call(capsys, "train", *IRIS, "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"{size}=2: an MPI launcher started 2 processes of chainrule train without "
                                     f"--distributed", "mpiexec -n 2 chainrule train --distributed")
    monkeypatch.setenv(rank, "1")
    assert call(capsys, "train", *IRIS, "--out", tmp_path / "run") == (2, "", "")  # silent: rank 0 told
    assert not (tmp_path / "run").exists()


def test_the_console_script_knows_the_launchers_counts_of_processes():
    assert LAUNCH_COUNTS == tuple(size for size, _ in MPI_LAUNCH_VARIABLES)  # written out: it imports no chainrule


def test_only_a_launch_of_several_processes_is_one():
    assert mpi_launch.mpi_launch({}) is None
    assert mpi_launch.mpi_launch({"PMI_SIZE": "²"}) is None  # a digit to str.isdigit, not to int()
    assert mpi_launch.mpi_launch({"PMI_SIZE": "1", "PMI_RANK": "0"}) is None  # mpiexec -n 1: one training
    assert mpi_launch.mpi_launch({"PMI_SIZE": "", "MV2_COMM_WORLD_SIZE": "4"}) == ("MV2_COMM_WORLD_SIZE", 4, 0)
    assert mpi_launch.mpi_launch({"OMPI_COMM_WORLD_SIZE": "3", "OMPI_COMM_WORLD_RANK": "2"}) == (
        "OMPI_COMM_WORLD_SIZE", 3, 2)


@needs_mpi
def test_mpiexec_without_distributed_exits_2_with_one_line_and_no_run_folder(tmp_path):
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "chainrule", "train", *IRIS, "--out", "run"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("chainrule: error: PMI_SIZE=2: ") == 1, done.stderr
    assert done.stdout == "" and not (tmp_path / "run").exists()


@needs_mpi
def test_ranks_given_different_arguments_print_the_error_once(tmp_path):
    """Every rank printed the same all-gathered mismatch: N identical lines."""
    def rank(lr):
        return ["-n", "1", sys.executable, "-m", "chainrule", "train", "--distributed", *IRIS, "--lr", lr,
                "--out", "run"]

    done = subprocess.run([MPIEXEC, *rank("0.01"), ":", *rank("0.02")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("chainrule: error: ")]
    assert lines == ["chainrule: error: the 2 processes were not given the same data and arguments (lr is 0.01 on "
                     "rank 0 but 0.02 on rank 1); every process must pass fit the same ones"], done.stderr


def test_the_resume_command_of_a_distributed_run_launches_as_many_processes():
    checkpoint = Path("run") / "checkpoint.safetensors"
    args = argparse.Namespace(distributed=True, distributed_timeout=60.0)
    four = argparse.Namespace(size=4)
    assert train_command.resume_command(checkpoint, args, four) == (
        f"mpiexec -n 4 chainrule train --distributed --resume {checkpoint}")
    args.distributed_timeout = 600.0
    assert train_command.resume_command(checkpoint, args, four) == (
        f"mpiexec -n 4 chainrule train --distributed --distributed-timeout 600 --resume {checkpoint}")
    args.distributed_timeout = 1234567.0  # {:g} would print 1.23457e+06, another timeout
    assert " --distributed-timeout 1234567.0 " in train_command.resume_command(checkpoint, args, four)
    args.distributed = False
    assert train_command.resume_command(checkpoint, args, four) == f"chainrule train --resume {checkpoint}"
    spaced = Path("my runs") / "checkpoint.safetensors"
    quoted_path = "'my runs/checkpoint.safetensors'"  # one argument in a shell
    assert train_command.resume_command(spaced, args, four) == f"chainrule train --resume {quoted_path}"


@needs_mpi4py
def test_ctrl_c_in_a_distributed_run_says_to_resume_it_distributed(tmp_path, capsys, monkeypatch, no_launcher):
    """The hint said chainrule train --resume X, without mpiexec -n N ... --distributed."""
    interrupt_at_epoch(monkeypatch, 2)
    code, _, err = call(capsys, "train", "--distributed", *IRIS, "--epochs", "4", "--batch-size", "8",
                        "--out", tmp_path / "cut")
    checkpoint = tmp_path / "cut" / "checkpoint.safetensors"
    assert code == 130
    assert err.endswith(f"holds epoch 2; resume with: mpiexec -n 1 chainrule train --distributed "
                        f"--resume {checkpoint}\n"), err


@pytest.mark.parametrize("timeout", [math.inf, math.nan])
def test_the_timeout_is_checked_as_distributed_timeout_is(capsys, tmp_path, timeout):
    """--distributed-timeout inf was refused, cr.Communicator(timeout=inf) accepted: a wait without end."""
    code, _, err = call(capsys, "train", "--distributed", "--distributed-timeout", str(timeout), *IRIS,
                        "--out", tmp_path / "run")
    assert_one_line_error(code, err, f"--distributed-timeout: expected a finite number, got {timeout}")
    with pytest.raises(train_command.HyperparameterError, match=f"^timeout: expected a finite real number, "
                                                                f"got {timeout}$"):
        train_command.Communicator(timeout)


@needs_mpi
def test_a_distributed_resume_needs_the_checkpoint_on_rank_0_alone(tmp_path):
    """Every rank read --resume's file itself to compare the configuration (and rank 0 read it
    twice): a rank on a machine without the run folder failed with "no such checkpoint file"."""
    first, elsewhere = tmp_path / "first", tmp_path / "elsewhere"
    first.mkdir(), elsewhere.mkdir()
    train = [sys.executable, "-m", "chainrule", "train", "--distributed"]
    done = subprocess.run([MPIEXEC, "-n", "2", *train, *IRIS, "--out", "run"], cwd=first, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    resume = [*train, "--resume", "run/checkpoint.safetensors", "--epochs", "3", "--json"]
    done = subprocess.run([MPIEXEC, "-n", "1", "-wdir", str(first), *resume, ":",
                           "-n", "1", "-wdir", str(elsewhere), *resume], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 3 and list(elsewhere.iterdir()) == []


@pytest.fixture(scope="module")
def resume_files(tmp_path_factory):
    """A run folder of one process's run (its checkpoint and model file), and a damaged copy of the checkpoint."""
    folder = tmp_path_factory.mktemp("resume_files")
    done = subprocess.run([sys.executable, "-m", "chainrule", "train", *IRIS, "--out", "run"], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (folder / "damaged.safetensors").write_bytes((folder / "run" / "checkpoint.safetensors").read_bytes()[:100])
    return folder


@needs_mpi
@pytest.mark.parametrize("resume, line", [
    ("missing.safetensors", "--resume: missing.safetensors: no such checkpoint file"),
    ("damaged.safetensors", "--resume: damaged.safetensors: not a chainrule checkpoint, or a damaged one: "),
    ("run/model.safetensors", "--resume: run/model.safetensors: not a training checkpoint (a model file without "
                              "training state)"),
    ("run", "--resume: run: is a directory, not a checkpoint file")])
def test_a_resume_file_error_under_mpiexec_is_printed_once_led_by_the_option(resume_files, resume, line):
    """Every rank printed a line: rank 0 its error and rank 1 'rank 0 cannot read the checkpoint (see its error)'
    for a missing file, each the same one for a damaged file or a model file, each led by 'rank N of 2: '."""
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "chainrule", "train", "--distributed",
                           "--resume", resume, "--quiet", "--no-plots"], cwd=resume_files, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"chainrule: error: {line}") and done.stderr.count("\n") == 1, done.stderr
    assert done.stdout == ""


@needs_mpi
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_while_rank_0_writes_the_run_ends_every_rank_130_without_a_lock_left(tmp_path, number):
    """The other ranks, waiting in MPI_Finalize, died of the Ctrl-C (or SIGTERM) that mpiexec passes
    on: the job ended as a BAD TERMINATION, exit 2 (or 15), and could take rank 0 with it mid-write,
    leaving the folder's lock file."""
    job = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "chainrule", "train", "--distributed",
                            "--data", "iris", "--epochs", "1", "--quiet", "--out", "run"], cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "run" / "config.toml").exists() and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(job.pid, number)  # as a terminal's Ctrl-C reaches mpiexec, which sends it on to every rank
    out, err = job.communicate(timeout=60)
    assert job.returncode == 130, out + err
    assert "BAD TERMINATION" not in out + err
    assert "chainrule: interrupted" in err
    assert not (tmp_path / "run" / ".chainrule-run.lock").exists()


@needs_mpi
def test_a_diverged_distributed_run_prints_one_line_from_rank_0(tmp_path):
    """Every rank printed its own line, built from its own disk (one said the run folder was removed)."""
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "chainrule", "train", "--distributed", *IRIS,
                           "--optimizer", "sgd", "--lr", "1e30", "--out", "run"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == ["chainrule: error: training diverged at epoch 1, batch 1/4: the gradient or "
                                        "the update is not finite; no model file or checkpoint was written (the run "
                                        "folder run was removed); try a lower --lr than 1e+30"], done.stderr
    assert not (tmp_path / "run").exists()


@needs_mpi
def test_an_input_error_on_one_rank_leaves_no_run_folder(tmp_path):
    """Rank 0 made runs/<timestamp>/ and its lock file before rank 1's MPI_Abort killed it: an empty
    run folder holding only the lock was left behind."""
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir(), elsewhere.mkdir()
    write_csv(here / "iris.csv", iris_rows())  # on rank 0's disk alone
    train = [sys.executable, "-m", "chainrule", "train", "--distributed", "--data", "iris.csv", "--epochs", "1",
             "--quiet", "--no-plots"]
    done = subprocess.run([MPIEXEC, "-n", "1", "-wdir", str(here), *train, ":", "-n", "1", "-wdir", str(elsewhere),
                           *train], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    # rank 1 alone found it, and is named: the ranks may run on machines of their own
    lines = done.stderr.splitlines()
    assert lines == ["chainrule: error: rank 1 of 2: iris.csv: no such file"], done.stderr  # no MPI_Abort's
    assert sorted(path.name for path in here.iterdir()) == ["iris.csv"] and list(elsewhere.iterdir()) == []


def rank_of_train(*arguments, program=("-m", "chainrule")):
    """mpiexec's words for one rank of ``chainrule train --distributed`` on iris, writing ``run``."""
    return ["-n", "1", sys.executable, *program, "train", "--distributed", *IRIS, *arguments, "--out", "run"]


@needs_mpi
@pytest.mark.parametrize("refused", [["--bogus"], ["--lr", "abc"], ["--distributed-timeout", "0"]])
def test_a_command_line_refused_on_one_rank_before_mpi_starts_stops_every_rank(tmp_path, refused):
    """Rank 1 exited 2 before it started MPI, and rank 0 waited in MPI_Init for ever (MPICH: no timeout of
    chainrule's runs there, nor a handler of Ctrl-C or SIGTERM); 30 s here were not enough."""
    done = subprocess.run([MPIEXEC, *rank_of_train(), ":", *rank_of_train(*refused)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: rank 1 of 2: "), done.stderr  # no MPI_Abort's
    assert refused[-1] in lines[0]
    assert done.stdout == "" and not (tmp_path / "run").exists()


# chainrule on a disk that fills after the first checkpoint: the rename that ends its next write fails
CHECKPOINT_ON_A_FULL_DISK = """
import errno, os, sys
from chainrule.cli.main import main
replace, seen = os.replace, []
def replace_unless_full(source, target, *args, **kwargs):
    if os.path.basename(target) == "checkpoint.safetensors":
        seen.append(target)
        if len(seen) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return replace(source, target, *args, **kwargs)
os.replace = replace_unless_full
sys.exit(main())
"""


@needs_mpi
def test_a_checkpoint_that_rank_0_cannot_write_during_training_is_named_by_out(tmp_path):
    """The line was not led by --out, as a single process's is: 'chainrule: error: writing the checkpoint after
    epoch 2 failed on rank 0 of 2: ...'."""
    rank = rank_of_train("--epochs", "3", program=("-c", CHECKPOINT_ON_A_FULL_DISK))
    done = subprocess.run([MPIEXEC, *rank, ":", *rank], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["chainrule: error: --out: writing the checkpoint after epoch 2 failed on "
                                        "rank 0 of 2: run/checkpoint.safetensors: cannot write (No space left on "
                                        "device)"], done.stderr


INTERRUPTED_AS_IT_PARSES = """
import sys
import chainrule.cli.main
command = sys.modules["chainrule.cli.main"]
def parse(argv, parser=None):
    raise KeyboardInterrupt  # a Ctrl-C before the rank starts MPI
command.parse = parse
sys.exit(command.main())
"""


INTERRUPTED_AS_THE_LIBRARY_LOADS = """
import builtins
from _chainrule_launcher import entry_point
imported = builtins.__import__
def interrupted(name, *args, **kwargs):
    if name == "chainrule.cli":
        raise KeyboardInterrupt  # a Ctrl-C as the console script imports the library
    return imported(name, *args, **kwargs)
builtins.__import__ = interrupted
entry_point()
"""

# python -m chainrule's end of a Ctrl-C as the package imports (chainrule/__init__ catches it)
INTERRUPTED_AS_THE_PACKAGE_LOADS = "from chainrule import _module_command; _module_command.end_interrupted()"


@needs_mpi
@pytest.mark.parametrize("program", [INTERRUPTED_AS_IT_PARSES, INTERRUPTED_AS_THE_LIBRARY_LOADS,
                                     INTERRUPTED_AS_THE_PACKAGE_LOADS],
                         ids=["as it parses", "as the console script loads", "as the package loads"])
def test_a_ctrl_c_on_one_rank_before_mpi_starts_ends_every_rank(tmp_path, program):
    """Rank 1, interrupted as it parsed its command line or loaded the library, exited 130 and rank 0
    waited in MPI_Init for ever."""
    done = subprocess.run([MPIEXEC, *rank_of_train(), ":", *rank_of_train(program=("-c", program))],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 130, done.stderr
    assert done.stderr.count("chainrule: interrupted") == 1, done.stderr
    assert not (tmp_path / "run").exists()
