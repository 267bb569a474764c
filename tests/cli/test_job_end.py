"""chainrule.cli.job_end: the ranks of a distributed train stop together on an input error any
of them finds, end together, and no Ctrl-C ends one alone in MPI_Finalize (the mpiexec runs are
in test_train_distributed)."""

import os
import signal

import pytest

import chainrule as cr
from chainrule.cli.job_end import STOP_SIGNALS, end_together, stop_together, stopped_together
from chainrule.training.distributed import SingleProcess


@pytest.fixture
def handlers():
    """SIGINT's and SIGTERM's handlers, put back after the test (end_together leaves them ignored)."""
    saved = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


class Waiting(SingleProcess):
    """Rank ``rank`` of 2, whose other rank ends with ``theirs``; ``signal_number`` arrives while this one waits."""

    size = 2

    def __init__(self, rank: int, theirs: int, signal_number=None) -> None:
        self.rank, self.is_root = rank, rank == 0
        self.theirs, self.signal_number = theirs, signal_number

    def largest(self, value: int, what: str, *, deadline: bool = True) -> int:
        if what == "ending the run":  # rank 0 writes the run's files meanwhile, for as long as they take
            assert not deadline
        if self.signal_number is not None:
            os.kill(os.getpid(), self.signal_number)
        return max(value, self.theirs)


@pytest.mark.parametrize("number", STOP_SIGNALS)
def test_a_signal_while_waiting_is_noted_and_the_rank_ends_130(capsys, handlers, number):
    """The rank waited in MPI_Finalize, whose Ctrl-C (or SIGTERM) killed it: mpiexec exited 2 (or 15)
    while rank 0 was still writing, and killed it too."""
    assert end_together(Waiting(1, 0, number), 0) == 130
    assert capsys.readouterr().err == ""  # rank 0 alone says so
    for ignored in STOP_SIGNALS:  # until the process exits, in MPI_Finalize
        assert signal.getsignal(ignored) is signal.SIG_IGN
    os.kill(os.getpid(), number)  # ignored: the test goes on
    assert end_together(Waiting(0, 0, number), 0) == 130
    assert capsys.readouterr().err == "chainrule: interrupted\n"


def test_every_rank_ends_with_the_largest_code(capsys, handlers):
    assert end_together(Waiting(1, 130), 0) == 130  # rank 0 was interrupted while it wrote the run's files
    assert end_together(Waiting(0, 0), 130) == 130
    assert end_together(Waiting(0, 0), 0) == 0
    assert capsys.readouterr().err == ""


def test_one_process_ends_with_its_code_and_leaves_the_signals_alone(handlers):
    before = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    assert end_together(SingleProcess(), 130) == 130
    assert {number: signal.getsignal(number) for number in STOP_SIGNALS} == before


def test_an_input_error_on_one_rank_stops_every_rank_and_only_that_one_says_it():
    """The other ranks went on (rank 0 to make the run folder) until the failing rank's MPI_Abort
    killed them, leaving runs/<timestamp>/ holding only the lock file."""
    assert stop_together(Waiting(0, 2), None) == 2  # rank 1 found one: rank 0 stops, silently
    unreadable = cr.DataError("iris.csv: no such file")
    with pytest.raises(cr.DataError) as raised:
        stop_together(Waiting(1, 0), unreadable)
    assert raised.value is unreadable and stopped_together(unreadable)  # shown by main, without MPI_Abort
    assert stop_together(Waiting(0, 0), None) == 0


def test_one_process_raises_its_input_error_unmarked():
    unreadable = cr.DataError("iris.csv: no such file")
    with pytest.raises(cr.DataError):
        stop_together(SingleProcess(), unreadable)
    assert not stopped_together(unreadable)
