"""How the ranks of a distributed ``chainrule train`` end: together, with one exit code.

Once training is over, rank 0 writes the run's files while the other ranks wait. A rank that
waited in ``MPI_Finalize`` (by simply returning) died there on Ctrl-C: mpi4py finalizes MPI
after Python has given SIGINT and SIGTERM back their default action, and ``mpiexec`` passes
both on to every rank, so the job ended as a "BAD TERMINATION" (exit 2 or 15) and took rank 0
with it, mid-write, leaving its lock file in the run folder. So every rank ends in
:func:`end_together`: one all-reduce of the ranks' exit codes, polled against the timeout (a
rank that hangs or dies still ends the job), while SIGINT and SIGTERM are only noted; after it
the process ignores both until it exits, as MPI_Finalize then waits only for ranks that are
ending too.
"""

from __future__ import annotations

import signal
import sys
import threading

from .exit_codes import EXIT_INTERRUPTED

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and a scheduler's stop, which chainrule takes as one


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
        agreed = comm.largest(code, "ending the run")
    finally:
        if on_main_thread:
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_IGN)
    if seen and agreed == 0:
        agreed = EXIT_INTERRUPTED
        if comm.is_root:
            print("chainrule: interrupted", file=sys.stderr)
    return agreed
