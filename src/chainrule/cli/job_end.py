"""How the ranks of a distributed ``chainrule train`` stop and end: together, with one exit code.

An input error that only some ranks find (a data file that one machine cannot read), ended by
``MPI_Abort``, would have ``mpiexec`` kill rank 0 (SIGKILL) after it had made the run folder
and its lock file, left behind empty. So every rank first checks its inputs, and all then learn
in :func:`stop_together` whether any found an error, before rank 0 makes the folder: if one did,
every rank stops, the ranks that found one saying what.

Once training is over, rank 0 writes the run's files while the other ranks wait. A rank that
waited in ``MPI_Finalize`` (by simply returning) would die there of a Ctrl-C: mpi4py finalizes
MPI after Python has given SIGINT and SIGTERM back their default action, and ``mpiexec`` passes
both on to every rank; the job would end as a "BAD TERMINATION" (exit 2 or 15), killing rank 0
mid-write and leaving its lock file. So every rank ends in :func:`end_together`: one all-reduce
of the ranks' exit codes, polled without a deadline (rank 0's evaluation of a large test set may
take minutes; a rank that dies or calls MPI_Abort still ends the job), while SIGINT and SIGTERM
are only noted; after it the process ignores both until it exits, as MPI_Finalize then waits
only for ranks that are ending too.
"""

from __future__ import annotations

import signal
import threading

from ..errors import ChainruleError
from .exit_codes import EXIT_INTERRUPTED, EXIT_USAGE
from .streams import error_line

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and a scheduler's stop, which chainrule takes as one


def start_together(comm, code: int = 0) -> int:
    """The first agreement of the ranks of ``comm``, as soon as each has made its Communicator: the largest
    of their ``code``, 0 when every rank was started well. A rank whose command line was refused before it
    started MPI joins it with its exit code (:mod:`chainrule.cli.early_failure`), and every rank then stops
    with that code; one all-reduce, which every rank makes."""
    return comm.largest(code, "agreeing that every rank's command line is valid")


def stop_together(comm, error: ChainruleError | None) -> int:
    """Whether any rank of ``comm`` found an error in its inputs (this rank's ``error``, or None):
    0 when none did; the exit code (2) on a rank that found none, which then stops silently; this
    rank's ``error``, raised again, on one that did (marked for :func:`stopped_together`). One
    all-reduce, which every rank makes, with or without an error."""
    code = comm.largest(EXIT_USAGE if error is not None else 0, "agreeing that every rank's inputs are valid")
    if error is None:
        return code
    if comm.size > 1:
        error.ranks_stopped_together = True
    raise error


def stopped_together(error: BaseException) -> bool:
    """Whether every rank stops on ``error`` already (:func:`stop_together`): no MPI_Abort is needed."""
    return getattr(error, "ranks_stopped_together", False)


def end_together(comm, code: int) -> int:
    """The exit code this rank of ``comm`` ends with, once every rank has come here: the largest
    of the ranks' ``code`` (0 done, 130 interrupted), or 130 instead of 0 on a rank that saw a
    Ctrl-C or SIGTERM while it waited (rank 0 then says ``chainrule: interrupted``). From then on
    the process ignores both signals (see the module's docstring). One rank: ``code``, signals
    left as they are."""
    if comm.size == 1:
        return code
    seen = []
    on_main_thread = threading.current_thread() is threading.main_thread()  # the only one that may set handlers
    if on_main_thread:
        for number in STOP_SIGNALS:
            signal.signal(number, lambda signum, frame: seen.append(signum))
    try:
        agreed = comm.largest(code, "ending the run", deadline=False)  # rank 0's evaluation and plots take their time
    finally:
        if on_main_thread:
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_IGN)
    if seen and agreed == 0:
        agreed = EXIT_INTERRUPTED
        if comm.is_root:
            error_line("chainrule: interrupted")
    return agreed
